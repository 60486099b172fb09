package expr

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // IANA zone names in timestamp input, on any machine
	"unicode/utf8"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/decimal"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/interval"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Cast converts E to T with PostgreSQL's rules: range checks (22003), text parsing
// (22P02, 22007), rounding float to integer half to even.
type Cast struct {
	E      Expr
	T      catalog.Type
	MaxLen int // varchar(n): keep at most n characters (an explicit cast truncates)
	// Precision and Scale are numeric(p,s)'s modifiers: the result is rounded to Scale
	// and must fit Precision (22003). Precision 0 means unconstrained.
	Precision, Scale int32
	// IntervalRange and IntervalPrecision are an interval's modifiers (INTERVAL '1'
	// MINUTE, interval(3)): a mask of interval.Range* fields and a fractional-second
	// precision. IntervalRange 0 means none.
	IntervalRange, IntervalPrecision int32
}

func (c *Cast) Type() catalog.Type { return c.T }
func (c *Cast) String() string {
	if c.MaxLen > 0 {
		return c.E.String() + "::" + c.T.String() + "(" + strconv.Itoa(c.MaxLen) + ")"
	}
	if c.Precision > 0 {
		return c.E.String() + "::" + c.T.String() + "(" + strconv.Itoa(int(c.Precision)) + "," + strconv.Itoa(int(c.Scale)) + ")"
	}
	return c.E.String() + "::" + c.T.String()
}

func (c *Cast) Eval(row []delta.Value) (delta.Value, error) {
	v, err := c.E.Eval(row)
	if err != nil {
		return v, err
	}
	if c.IntervalRange != 0 && !v.Null {
		return c.intervalTypmod(v)
	}
	v, err = Convert(v, c.E.Type(), c.T)
	if err == nil && c.MaxLen > 0 && !v.Null && utf8.RuneCountInString(v.S) > c.MaxLen {
		v.S = string([]rune(v.S)[:c.MaxLen])
	}
	if err == nil && c.Precision > 0 {
		v, err = ApplyTypmod(v, c.Precision, c.Scale)
	}
	return v, err
}

// intervalTypmod converts v to an interval with the cast's modifiers.
func (c *Cast) intervalTypmod(v delta.Value) (delta.Value, error) {
	var iv interval.Interval
	if c.E.Type().IsString() {
		var err error
		if iv, err = interval.ParseTypmod(v.S, c.IntervalRange, c.IntervalPrecision); err != nil {
			return delta.Value{}, err
		}
		return IntervalValue(iv), nil
	}
	v, err := Convert(v, c.E.Type(), c.T)
	if err != nil {
		return v, err
	}
	iv, err = interval.AdjustTypmod(IntervalOf(v), c.IntervalRange, c.IntervalPrecision)
	return IntervalValue(iv), err
}

// CanCast reports whether a cast from `from` to `to` exists.
func CanCast(from, to catalog.Type) bool {
	if from == to || from.IsString() || to.IsString() {
		return true
	}
	switch {
	case from.IsNumeric() && to.IsNumeric():
		return true
	case from.IsTime() && to.IsTime():
		return true
	case from == catalog.Bool && to == catalog.Int4, from == catalog.Int4 && to == catalog.Bool:
		return true
	case from == catalog.Jsonb && (to.IsNumeric() || to == catalog.Bool):
		return true
	}
	return false
}

// Convert casts v of type from to type to.
func Convert(v delta.Value, from, to catalog.Type) (delta.Value, error) {
	if v.Null {
		return delta.Null(to.Kind()), nil
	}
	if from == to {
		return v, nil
	}
	if to.IsString() {
		s := Format(v, from)
		return delta.Str(s), nil
	}
	if from.IsString() {
		return Parse(v.S, to)
	}
	if from == catalog.Jsonb {
		return convertJsonb(v, to)
	}
	if from == catalog.Numeric || to == catalog.Numeric {
		return convertNumeric(v, from, to)
	}
	switch {
	case from.IsInteger() && to.IsInteger():
		if !fitsInt(v.I, to) {
			return v, overflow(to)
		}
		return v, nil
	case from.IsInteger() && (to == catalog.Float4 || to == catalog.Float8):
		f := float64(v.I)
		if to == catalog.Float4 {
			f = float64(float32(f))
		}
		return delta.Float(f), nil
	case (from == catalog.Float4 || from == catalog.Float8) && to.IsInteger():
		if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
			return v, overflow(to)
		}
		r := math.RoundToEven(v.F)
		if r < math.MinInt64 || r >= math.MaxInt64 || !fitsInt(int64(r), to) {
			return v, overflow(to)
		}
		return delta.Int(int64(r)), nil
	case from.IsNumeric() && to.IsNumeric():
		f := v.F
		if to == catalog.Float4 {
			f = float64(float32(f))
			if math.IsInf(f, 0) && !math.IsInf(v.F, 0) {
				return v, sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: overflow")
			}
			if f == 0 && v.F != 0 {
				return v, sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: underflow")
			}
		}
		return delta.Float(f), nil
	case from == catalog.Bool && to == catalog.Int4:
		if v.B {
			return delta.Int(1), nil
		}
		return delta.Int(0), nil
	case from == catalog.Int4 && to == catalog.Bool:
		return delta.Bool(v.I != 0), nil
	case from == catalog.Date && (to == catalog.Timestamp || to == catalog.Timestamptz):
		return delta.Int(v.I * usPerDay), nil
	case (from == catalog.Timestamp || from == catalog.Timestamptz) && to == catalog.Date:
		return delta.Int(floorDiv(v.I, usPerDay)), nil
	case from.IsTime() && to.IsTime():
		return v, nil // session time zone is UTC: timestamp and timestamptz share instants
	}
	return v, sqlerr.New(sqlerr.CannotCoerce, "cannot cast type %s to %s", from, to)
}

const usPerDay = 86_400_000_000

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Parse reads s as a value of type t, as PostgreSQL's input functions do.
func Parse(s string, t catalog.Type) (delta.Value, error) {
	bad := func() (delta.Value, error) {
		return delta.Value{}, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type %s: %q", t, s)
	}
	switch t {
	case catalog.Text, catalog.Varchar, catalog.Unknown:
		return delta.Str(s), nil
	case catalog.Bool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "t", "true", "yes", "y", "on", "1":
			return delta.Bool(true), nil
		case "f", "false", "no", "n", "off", "0":
			return delta.Bool(false), nil
		}
		return bad()
	case catalog.Int2, catalog.Int4, catalog.Int8:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return delta.Value{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "value %q is out of range for type %s", s, t)
			}
			return bad()
		}
		if !fitsInt(n, t) {
			return delta.Value{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "value %q is out of range for type %s", s, t)
		}
		return delta.Int(n), nil
	case catalog.Float4, catalog.Float8:
		x := strings.TrimSpace(s)
		switch strings.ToLower(x) {
		case "nan":
			return delta.Float(math.NaN()), nil
		case "infinity", "+infinity", "inf":
			return delta.Float(math.Inf(1)), nil
		case "-infinity", "-inf":
			return delta.Float(math.Inf(-1)), nil
		}
		if strings.ContainsRune(x, '_') {
			return bad() // Go reads digit separators; PostgreSQL's strtod does not
		}
		bits := 64
		if t == catalog.Float4 {
			bits = 32 // rounds once, straight to single precision, and range-checks it
		}
		f, err := strconv.ParseFloat(x, bits)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return delta.Value{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "%q is out of range for type %s", s, t)
			}
			return bad()
		}
		// Go rounds an underflow to zero silently; PostgreSQL rejects a non-zero input that
		// reads as zero.
		mant := x
		if i := strings.IndexAny(mant, "eE"); i >= 0 {
			mant = mant[:i]
		}
		if f == 0 && strings.ContainsAny(mant, "123456789") {
			return delta.Value{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "%q is out of range for type %s", s, t)
		}
		if t == catalog.Float4 {
			f = float64(float32(f))
		}
		return delta.Float(f), nil
	case catalog.Numeric:
		d, err := decimal.Parse(s)
		if err != nil {
			return delta.Value{}, err
		}
		return NumericValue(d), nil
	case catalog.Interval:
		iv, err := interval.Parse(s)
		if err != nil {
			return delta.Value{}, err
		}
		return IntervalValue(iv), nil
	case catalog.Jsonb:
		return parseJsonb(s)
	case catalog.Timestamp, catalog.Timestamptz, catalog.Date:
		if v, ok := fastTimestamp(s, t); ok {
			return delta.Int(v), nil
		}
		if err := checkDateFields(s); err != nil {
			return delta.Value{}, err
		}
		ts, err := parseTimestamp(s)
		if err != nil {
			return delta.Value{}, sqlerr.New(sqlerr.InvalidDatetimeFormat, "invalid input syntax for type %s: %q", t, s)
		}
		if t != catalog.Timestamptz {
			// timestamp without time zone and date ignore an explicit zone, as PostgreSQL does.
			ts = time.Date(ts.Year(), ts.Month(), ts.Day(), ts.Hour(), ts.Minute(), ts.Second(), ts.Nanosecond(), time.UTC)
		}
		if t == catalog.Date {
			return delta.Int(floorDiv(ts.Unix(), 86400)), nil
		}
		return delta.Int(ts.Round(time.Microsecond).UnixMicro()), nil
	}
	return bad()
}

var dateFields = regexp.MustCompile(`^\s*(\d{4,})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{1,2})(?::(\d{1,2}))?)?`)

// checkDateFields rejects well-formed dates and times whose fields are out of range
// (month 13, February 30, hour 25) with 22008, as PostgreSQL does; malformed text is left
// to the parser's 22007.
func checkDateFields(s string) error {
	m := dateFields.FindStringSubmatch(s)
	if m == nil {
		return nil
	}
	num := func(i int) int {
		n, _ := strconv.Atoi(m[i])
		return n
	}
	y, mo, d := num(1), num(2), num(3)
	bad := mo < 1 || mo > 12 || d < 1 || d > time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if m[4] != "" {
		bad = bad || num(4) > 24 || num(5) > 59 || (m[6] != "" && num(6) > 60)
	}
	if bad {
		return sqlerr.New(sqlerr.DatetimeFieldOverflow, "date/time field value out of range: %q", s)
	}
	return nil
}

var tsLayouts = []string{
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02 15:04:05.999999999Z0700",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04Z07:00",
	"2006-01-02 15:04Z07",
	"2006-01-02 15:04Z0700",
	"2006-01-02 15:04",
	"2006-01-02",
}

// ParseTimestamp reads the timestamp spellings PostgreSQL accepts most often: ISO 8601
// with a space or T, optional fractional seconds, and an optional zone (Z, +08, +08:00).
// A timestamp without a zone is UTC (Weir sessions run with TimeZone=UTC).
func ParseTimestamp(s string) (time.Time, error) {
	t, err := parseTimestamp(s)
	return t.UTC(), err
}

// parseTimestamp is ParseTimestamp keeping the zone that s names: an offset, or a
// trailing IANA zone name ("2026-01-01 00:00:00 America/New_York").
func parseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(s, " UTC")
	t, err := parseLayouts(s, time.UTC)
	if err == nil {
		return t, nil
	}
	if i := strings.LastIndexByte(s, ' '); i > 0 && strings.ContainsAny(s[i+1:], "/") {
		if loc, lerr := time.LoadLocation(s[i+1:]); lerr == nil {
			return parseLayouts(strings.TrimSpace(s[:i]), loc)
		}
	}
	return time.Time{}, err
}

func parseLayouts(s string, loc *time.Location) (time.Time, error) {
	var err error
	for _, l := range tsLayouts {
		var t time.Time
		t, err = time.ParseInLocation(l, s, loc)
		if err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

// Format renders v of type t in PostgreSQL's text output format.
func Format(v delta.Value, t catalog.Type) string {
	if v.Null {
		return "NULL"
	}
	switch t {
	case catalog.Bool:
		if v.B {
			return "true"
		}
		return "false"
	case catalog.Int2, catalog.Int4, catalog.Int8:
		return strconv.FormatInt(v.I, 10)
	case catalog.Float4:
		return FormatFloat(v.F, 32)
	case catalog.Float8:
		return FormatFloat(v.F, 64)
	case catalog.Timestamp:
		return FormatTimestamp(v.I, false)
	case catalog.Timestamptz:
		return FormatTimestamp(v.I, true)
	case catalog.Date:
		return time.UnixMicro(v.I * usPerDay).UTC().Format("2006-01-02")
	case catalog.Interval:
		return IntervalOf(v).String()
	}
	return v.S
}

// FormatFloat prints f as PostgreSQL 15 does (shortest exact representation).
func FormatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	limit := 15 // DBL_DIG: PostgreSQL switches to exponent form at this decimal exponent
	if bits == 32 {
		limit = 6 // FLT_DIG
	}
	s := strconv.FormatFloat(f, 'e', -1, bits)
	exp, _ := strconv.Atoi(s[strings.IndexByte(s, 'e')+1:])
	if exp < -4 || exp >= limit {
		return strconv.FormatFloat(f, 'g', -1, bits)
	}
	s = strconv.FormatFloat(f, 'f', -1, bits)
	return s
}

// FormatTimestamp prints µs since the epoch as PostgreSQL does (UTC session time zone).
func FormatTimestamp(us int64, tz bool) string {
	t := time.UnixMicro(us).UTC()
	s := t.Format("2006-01-02 15:04:05.999999")
	if tz {
		s += "+00"
	}
	return s
}
