package expr

import (
	"crypto/md5"
	"encoding/hex"
	"math"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// knownUnsupported are PostgreSQL functions Weir does not evaluate yet. They fail with
// 0A000 naming the function rather than 42883, which would claim they do not exist.
var knownUnsupported = map[string]string{
	"to_timestamp": "", "to_date": "", "to_number": "", "age": "",
	"make_interval": "", "make_date": "", "make_timestamp": "",
	"format": "", "quote_ident": "", "quote_literal": "", "string_to_array": "", "array_to_string": "",
	"regexp_match": "", "regexp_matches": "", "regexp_split_to_array": "", "regexp_split_to_table": "",
	"json_build_object": "", "jsonb_build_object": "", "to_json": "", "to_jsonb": "", "json_extract_path": "",
	"json_extract_path_text": "", "initcap": "",
	"translate": "", "overlay": "", "encode": "", "decode": "", "sha256": "", "mod": "", "power": "", "sqrt": "",
	"exp": "", "ln": "", "log": "", "sign": "", "div": "", "width_bucket": "", "timezone": "",
	"random":          "it is volatile: a view's answer must not change without input",
	"gen_random_uuid": "it is volatile: a view's answer must not change without input",
	"nextval":         "sequences do not exist in Weir",
	"txid_current":    "it is volatile",
	"pg_sleep":        "it is volatile",
	"current_setting": "session settings are not visible to continuous queries",
}

// extraFunc binds the string and date/time functions; ok is false for a name it does
// not know.
func extraFunc(f *Func, name string, args []Expr) (ok bool, err error) {
	n := len(args)
	t := func(i int) catalog.Type { return args[i].Type() }
	str := func(i int) bool { return i < n && t(i).IsString() }
	integer := func(i int) bool { return i < n && t(i).IsInteger() }
	tm := func(i int) bool {
		return i < n && (t(i) == catalog.Timestamp || t(i) == catalog.Timestamptz || t(i) == catalog.Date)
	}
	fail := func() (bool, error) { return true, errNoSignature(name, args) }
	f.T = catalog.Text
	switch name {
	case "substr", "substring":
		if !(str(0) && integer(1) && (n == 2 || (n == 3 && integer(2)))) {
			return fail()
		}
		f.fn = func(a []delta.Value) (delta.Value, error) {
			r := []rune(a[0].S)
			start := a[1].I
			end := int64(math.MaxInt64)
			if len(a) == 3 {
				if a[2].I < 0 {
					return delta.Value{}, sqlerr.New("22011", "negative substring length not allowed")
				}
				if a[2].I < math.MaxInt64-start {
					end = start + a[2].I
				}
			}
			lo, hi := max(start, 1), min(end, int64(len(r))+1)
			if lo >= hi {
				return delta.Str(""), nil
			}
			return delta.Str(string(r[lo-1 : hi-1])), nil
		}
	case "strpos", "position":
		// POSITION(a IN b) reaches here as position(b, a), like strpos(b, a).
		if !(n == 2 && str(0) && str(1)) {
			return fail()
		}
		f.T = catalog.Int4
		f.fn = func(a []delta.Value) (delta.Value, error) {
			i := strings.Index(a[0].S, a[1].S)
			if i < 0 {
				return delta.Int(0), nil
			}
			return delta.Int(int64(utf8.RuneCountInString(a[0].S[:i]) + 1)), nil
		}
	case "replace":
		if !(n == 3 && str(0) && str(1) && str(2)) {
			return fail()
		}
		f.fn = func(a []delta.Value) (delta.Value, error) {
			if a[1].S == "" {
				return a[0], nil
			}
			return delta.Str(strings.ReplaceAll(a[0].S, a[1].S, a[2].S)), nil
		}
	case "left", "right":
		if !(n == 2 && str(0) && integer(1)) {
			return fail()
		}
		isLeft := name == "left"
		f.fn = func(a []delta.Value) (delta.Value, error) {
			r := []rune(a[0].S)
			k := a[1].I
			if k < 0 {
				k = max(int64(len(r))+k, 0)
			}
			k = min(k, int64(len(r)))
			if isLeft {
				return delta.Str(string(r[:k])), nil
			}
			return delta.Str(string(r[int64(len(r))-k:])), nil
		}
	case "repeat":
		if !(n == 2 && str(0) && integer(1)) {
			return fail()
		}
		f.fn = func(a []delta.Value) (delta.Value, error) {
			if a[1].I <= 0 {
				return delta.Str(""), nil
			}
			if int64(len(a[0].S))*a[1].I > 1<<28 {
				return delta.Value{}, sqlerr.New("54000", "requested length too large")
			}
			return delta.Str(strings.Repeat(a[0].S, int(a[1].I))), nil
		}
	case "reverse":
		if !(n == 1 && str(0)) {
			return fail()
		}
		f.fn = func(a []delta.Value) (delta.Value, error) {
			r := []rune(a[0].S)
			for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
				r[i], r[j] = r[j], r[i]
			}
			return delta.Str(string(r)), nil
		}
	case "md5":
		if !(n == 1 && str(0)) {
			return fail()
		}
		f.fn = func(a []delta.Value) (delta.Value, error) {
			sum := md5.Sum([]byte(a[0].S))
			return delta.Str(hex.EncodeToString(sum[:])), nil
		}
	case "starts_with":
		if !(n == 2 && str(0) && str(1)) {
			return fail()
		}
		f.T = catalog.Bool
		f.fn = func(a []delta.Value) (delta.Value, error) { return delta.Bool(strings.HasPrefix(a[0].S, a[1].S)), nil }
	case "btrim", "ltrim", "rtrim":
		if !(str(0) && (n == 1 || (n == 2 && str(1)))) {
			return fail()
		}
		f.fn = func(a []delta.Value) (delta.Value, error) {
			cut := " "
			if len(a) == 2 {
				cut = a[1].S
			}
			s := a[0].S
			if name != "rtrim" {
				s = strings.TrimLeft(s, cut)
			}
			if name != "ltrim" {
				s = strings.TrimRight(s, cut)
			}
			return delta.Str(s), nil
		}
	case "lpad", "rpad":
		if !(str(0) && integer(1) && (n == 2 || (n == 3 && str(2)))) {
			return fail()
		}
		f.fn = func(a []delta.Value) (delta.Value, error) {
			r := []rune(a[0].S)
			want := a[1].I
			if want <= 0 {
				return delta.Str(""), nil
			}
			if want > 1<<24 {
				return delta.Value{}, sqlerr.New("54000", "requested length too large")
			}
			if int64(len(r)) >= want {
				return delta.Str(string(r[:want])), nil
			}
			fill := []rune(" ")
			if len(a) == 3 {
				fill = []rune(a[2].S)
			}
			if len(fill) == 0 {
				return delta.Str(string(r)), nil
			}
			pad := make([]rune, 0, want-int64(len(r)))
			for i := 0; int64(len(pad)) < want-int64(len(r)); i++ {
				pad = append(pad, fill[i%len(fill)])
			}
			if name == "lpad" {
				return delta.Str(string(pad) + string(r)), nil
			}
			return delta.Str(string(r) + string(pad)), nil
		}
	case "split_part":
		if !(n == 3 && str(0) && str(1) && integer(2)) {
			return fail()
		}
		f.fn = func(a []delta.Value) (delta.Value, error) {
			k := a[2].I
			if k == 0 {
				return delta.Value{}, sqlerr.New(sqlerr.InvalidParameterValue, "field position must not be zero")
			}
			var parts []string
			if a[1].S == "" {
				parts = []string{a[0].S}
			} else {
				parts = strings.Split(a[0].S, a[1].S)
			}
			if k < 0 {
				k = int64(len(parts)) + k + 1
			}
			if k < 1 || k > int64(len(parts)) {
				return delta.Str(""), nil
			}
			return delta.Str(parts[k-1]), nil
		}
	case "regexp_replace":
		if !(str(0) && str(1) && str(2) && (n == 3 || (n == 4 && str(3)))) {
			return fail()
		}
		f.fn = func(a []delta.Value) (delta.Value, error) {
			flags := ""
			if len(a) == 4 {
				flags = a[3].S
			}
			re, err := compileRegexp(a[1].S, strings.Contains(flags, "i"))
			if err != nil {
				return delta.Value{}, err
			}
			repl := pgReplacement(a[2].S)
			if strings.Contains(flags, "g") {
				return delta.Str(re.ReplaceAllString(a[0].S, repl)), nil
			}
			loc := re.FindStringSubmatchIndex(a[0].S)
			if loc == nil {
				return a[0], nil
			}
			out := re.ExpandString(nil, repl, a[0].S, loc)
			return delta.Str(a[0].S[:loc[0]] + string(out) + a[0].S[loc[1]:]), nil
		}
	case "date_trunc":
		if !(n == 2 && str(0) && tm(1)) {
			return fail()
		}
		f.T = t(1)
		if f.T == catalog.Date {
			f.T = catalog.Timestamp // PostgreSQL promotes date to timestamp here
		}
		isDate := t(1) == catalog.Date
		f.fn = func(a []delta.Value) (delta.Value, error) {
			us := a[1].I
			if isDate {
				us *= usPerDay
			}
			v, err := truncTime(strings.ToLower(a[0].S), us)
			return delta.Int(v), err
		}
	case "date_part", "extract":
		// date_part is double precision; extract is numeric (PostgreSQL 14 and later).
		if !(n == 2 && str(0) && (tm(1) || t(1) == catalog.Interval)) {
			return fail()
		}
		numeric := name == "extract"
		f.T = catalog.Float8
		if numeric {
			f.T = catalog.Numeric
		}
		switch t(1) {
		case catalog.Interval:
			f.fn = func(a []delta.Value) (delta.Value, error) {
				return extractInterval(a[0].S, IntervalOf(a[1]), numeric)
			}
		case catalog.Date:
			f.fn = func(a []delta.Value) (delta.Value, error) { return extractDate(a[0].S, a[1].I, numeric) }
		default:
			f.fn = func(a []delta.Value) (delta.Value, error) {
				if numeric {
					return extractTimestamp(a[0].S, a[1].I)
				}
				v, err := timePart(strings.ToLower(a[0].S), a[1].I)
				return delta.Float(v), err
			}
		}
	default:
		if ok, err := timeFunc(f, name, args); ok {
			return true, err
		}
		if ok, err := jsonFunc(f, name, args); ok {
			return true, err
		}
		if why, ok := knownUnsupported[name]; ok {
			msg := "function " + name + "() is not supported yet"
			if why != "" {
				msg = "function " + name + "() is not supported in Weir: " + why
			}
			return true, sqlerr.New(sqlerr.FeatureNotSupported, "%s", msg)
		}
		return false, nil
	}
	return true, nil
}

func errNoSignature(name string, args []Expr) error {
	ts := make([]string, len(args))
	for i, a := range args {
		ts[i] = a.Type().String()
	}
	return sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s) does not exist", name, strings.Join(ts, ", ")).
		WithHint("No function matches the given name and argument types.")
}

var regexpCache sync.Map // pattern (with "(?i)" when folding) → *regexp.Regexp

func compileRegexp(pattern string, fold bool) (*regexp.Regexp, error) {
	key := pattern
	if fold {
		key = "(?i)" + pattern
	}
	if re, ok := regexpCache.Load(key); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(key)
	if err != nil {
		return nil, sqlerr.New("2201B", "invalid regular expression: %v", err)
	}
	regexpCache.Store(key, re)
	return re, nil
}

// pgReplacement converts PostgreSQL's replacement syntax (\1 … \9, \& for the whole
// match, \\ for a backslash) to Go's template syntax.
func pgReplacement(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '$':
			sb.WriteString("$$")
		case c == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			sb.WriteString("${" + string(s[i+1]) + "}")
			i++
		case c == '\\' && i+1 < len(s) && s[i+1] == '&':
			sb.WriteString("${0}")
			i++
		case c == '\\' && i+1 < len(s) && s[i+1] == '\\':
			sb.WriteByte('\\')
			i++
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

func truncTime(unit string, us int64) (int64, error) {
	t := time.UnixMicro(us).UTC()
	y, mo, d := t.Date()
	var out time.Time
	switch unit {
	case "microsecond", "microseconds":
		return us, nil
	case "millisecond", "milliseconds":
		return us - ((us%1000)+1000)%1000, nil
	case "second", "seconds":
		out = t.Truncate(time.Second)
	case "minute", "minutes":
		out = time.Date(y, mo, d, t.Hour(), t.Minute(), 0, 0, time.UTC)
	case "hour", "hours":
		out = time.Date(y, mo, d, t.Hour(), 0, 0, 0, time.UTC)
	case "day", "days":
		out = time.Date(y, mo, d, 0, 0, 0, 0, time.UTC)
	case "week", "weeks":
		wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
		out = time.Date(y, mo, d-wd, 0, 0, 0, 0, time.UTC)
	case "month", "months":
		out = time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC)
	case "quarter":
		out = time.Date(y, ((mo-1)/3)*3+1, 1, 0, 0, 0, 0, time.UTC)
	case "year", "years":
		out = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	case "decade", "decades":
		out = time.Date(floorDivInt(y, 10)*10, 1, 1, 0, 0, 0, 0, time.UTC)
	case "century", "centuries":
		c := floorDivInt(y-1, 100)*100 + 1
		out = time.Date(c, 1, 1, 0, 0, 0, 0, time.UTC)
	case "millennium", "millennia":
		m := floorDivInt(y-1, 1000)*1000 + 1
		out = time.Date(m, 1, 1, 0, 0, 0, 0, time.UTC)
	default:
		return 0, sqlerr.New(sqlerr.FeatureNotSupported, "unit %q not supported for type timestamp", unit)
	}
	return out.UnixMicro(), nil
}

func floorDivInt(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func timePart(field string, us int64) (float64, error) {
	t := time.UnixMicro(us).UTC()
	switch field {
	case "year", "years":
		return float64(t.Year()), nil
	case "month", "months":
		return float64(t.Month()), nil
	case "day", "days":
		return float64(t.Day()), nil
	case "hour", "hours":
		return float64(t.Hour()), nil
	case "minute", "minutes":
		return float64(t.Minute()), nil
	case "second", "seconds":
		return float64(t.Second()) + float64(t.Nanosecond()/1000)/1e6, nil
	case "millisecond", "milliseconds":
		return float64(t.Second())*1000 + float64(t.Nanosecond()/1000)/1e3, nil
	case "microsecond", "microseconds":
		return float64(t.Second())*1e6 + float64(t.Nanosecond()/1000), nil
	case "dow":
		return float64(t.Weekday()), nil
	case "isodow":
		return float64((int(t.Weekday())+6)%7 + 1), nil
	case "doy":
		return float64(t.YearDay()), nil
	case "week":
		_, w := t.ISOWeek()
		return float64(w), nil
	case "isoyear":
		y, _ := t.ISOWeek()
		return float64(y), nil
	case "quarter":
		return float64((int(t.Month())-1)/3 + 1), nil
	case "epoch":
		return float64(us) / 1e6, nil
	case "decade":
		return float64(floorDivInt(t.Year(), 10)), nil
	case "century":
		if t.Year() > 0 {
			return float64((t.Year()-1)/100 + 1), nil
		}
		return float64(-((-t.Year())/100 + 1)), nil
	case "millennium":
		if t.Year() > 0 {
			return float64((t.Year()-1)/1000 + 1), nil
		}
		return float64(-((-t.Year())/1000 + 1)), nil
	}
	return 0, sqlerr.New(sqlerr.FeatureNotSupported, "unit %q not supported for type timestamp", field)
}
