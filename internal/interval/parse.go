package interval

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/weirdb/weir/internal/sqlerr"
)

// Field masks of an interval type modifier, as PostgreSQL's INTERVAL_MASK numbers them
// and as pg_query reports them in a TypeName's typmods: INTERVAL '1' MINUTE carries
// RangeMinute, INTERVAL '…' HOUR TO MINUTE carries RangeHour|RangeMinute.
const (
	RangeMonth  int32 = 1 << 1
	RangeYear   int32 = 1 << 2
	RangeDay    int32 = 1 << 3
	RangeHour   int32 = 1 << 10
	RangeMinute int32 = 1 << 11
	RangeSecond int32 = 1 << 12
	// FullRange is an unrestricted interval (no field list).
	FullRange int32 = 0x7FFF
	// FullPrecision is an interval without a fractional-seconds precision.
	FullPrecision int32 = 0xFFFF
)

// Parse reads PostgreSQL interval input: '5 seconds', '1 day 02:00:00', '-1 hours',
// '1 year 2 mons', '01:30:00', '1.5 hours', '@ 1 hour', '2 days ago', '1-2' (years and
// months), ISO 8601 'P1DT2H' and 'P0001-02-03T04:05:06'. Malformed input is 22007
// "invalid input syntax for type interval"; a field too large is 22015; a result out of
// range is 22008.
func Parse(s string) (Interval, error) { return ParseTypmod(s, FullRange, FullPrecision) }

// ParseTypmod is Parse for a type with modifiers: rng is a mask of Range* fields (or
// FullRange) and precision the number of fractional-second digits kept (0-6, or
// FullPrecision). A bare number takes the lowest field of the range (INTERVAL '1'
// MINUTE is one minute) and fields below the range are truncated, as PostgreSQL's
// interval_in and AdjustIntervalForTypmod do.
func ParseTypmod(s string, rng, precision int32) (Interval, error) {
	var itm itmIn
	fields, types, err := tokenize(s)
	if err == nil {
		err = decodeInterval(fields, types, rng, &itm)
	}
	if errors.Is(err, errBadFormat) {
		itm = itmIn{}
		err = decodeISO8601(s, &itm)
	}
	switch {
	case errors.Is(err, errFieldOverflow):
		return Interval{}, sqlerr.New("22015", "interval field value out of range: %q", s)
	case err != nil:
		return Interval{}, sqlerr.New(sqlerr.InvalidDatetimeFormat, "invalid input syntax for type interval: %q", s)
	}
	months := int64(itm.year)*MonthsPerYear + int64(itm.mon)
	if months != int64(int32(months)) {
		return Interval{}, errOutOfRange()
	}
	iv := Interval{Months: int32(months), Days: itm.mday, Micros: itm.usec}
	return AdjustTypmod(iv, rng, precision)
}

// AdjustTypmod truncates iv to the fields of rng and rounds its seconds to precision
// digits (AdjustIntervalForTypmod). An invalid modifier is 22023.
func AdjustTypmod(iv Interval, rng, precision int32) (Interval, error) {
	trunc := func(unit int64) { iv.Micros = iv.Micros / unit * unit }
	switch rng {
	case FullRange, RangeSecond, RangeDay | RangeHour | RangeMinute | RangeSecond,
		RangeHour | RangeMinute | RangeSecond, RangeMinute | RangeSecond:
	case RangeYear:
		iv.Months = iv.Months / MonthsPerYear * MonthsPerYear
		iv.Days, iv.Micros = 0, 0
	case RangeMonth, RangeYear | RangeMonth:
		iv.Days, iv.Micros = 0, 0
	case RangeDay:
		iv.Micros = 0
	case RangeHour, RangeDay | RangeHour:
		trunc(MicrosPerHour)
	case RangeMinute, RangeDay | RangeHour | RangeMinute, RangeHour | RangeMinute:
		trunc(MicrosPerMinute)
	default:
		return Interval{}, sqlerr.New(sqlerr.InvalidParameterValue, "invalid INTERVAL type modifier")
	}
	if precision != FullPrecision {
		if precision < 0 || precision > 6 {
			return Interval{}, sqlerr.New(sqlerr.InvalidParameterValue, "interval(%d) precision must be between 0 and 6", precision)
		}
		scale := int64(math.Pow10(int(6 - precision)))
		offset := scale / 2
		if precision == 6 {
			offset = 0
		}
		if iv.Micros >= 0 {
			iv.Micros = (iv.Micros + offset) / scale * scale
		} else {
			iv.Micros = -((-iv.Micros + offset) / scale * scale)
		}
	}
	return iv, nil
}

// itmIn is PostgreSQL's pg_itm_in: the fields decoded so far.
type itmIn struct {
	usec int64
	mday int32
	mon  int32
	year int32
}

var (
	errBadFormat     = errors.New("bad format")
	errFieldOverflow = errors.New("field overflow")
)

// Token types of ParseDateTime.
type ftype uint8

const (
	ftNumber ftype = iota
	ftString
	ftDate
	ftTime
	ftTZ
	ftSpecial
)

const (
	maxDateFields = 25
	workBufLen    = 128 + maxDateFields // MAXDATELEN + MAXDATEFIELDS
)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
func isPunct(c byte) bool { return c > 0x20 && c < 0x7F && !isAlnum(c) }

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// tokenize is ParseDateTime: it splits s into fields, lower-casing text.
func tokenize(s string) ([]string, []ftype, error) {
	var fields []string
	var types []ftype
	used := 0
	i := 0
	for i < len(s) {
		c := s[i]
		if isSpace(c) {
			i++
			continue
		}
		if len(fields) >= maxDateFields {
			return nil, nil, errBadFormat
		}
		var f []byte
		var t ftype
		add := func(b byte) bool {
			if used+1 >= workBufLen {
				return false
			}
			used++
			f = append(f, b)
			return true
		}
		switch {
		case isDigit(c):
			add(s[i])
			i++
			for i < len(s) && isDigit(s[i]) {
				if !add(s[i]) {
					return nil, nil, errBadFormat
				}
				i++
			}
			switch {
			case i < len(s) && s[i] == ':':
				t = ftTime
				add(s[i])
				i++
				for i < len(s) && (isDigit(s[i]) || s[i] == ':' || s[i] == '.') {
					if !add(s[i]) {
						return nil, nil, errBadFormat
					}
					i++
				}
			case i < len(s) && (s[i] == '-' || s[i] == '/' || s[i] == '.'):
				delim := s[i]
				add(s[i])
				i++
				if i < len(s) && isDigit(s[i]) {
					t = ftDate
					if delim == '.' {
						t = ftNumber
					}
					for i < len(s) && isDigit(s[i]) {
						if !add(s[i]) {
							return nil, nil, errBadFormat
						}
						i++
					}
					if i < len(s) && s[i] == delim {
						t = ftDate
						add(s[i])
						i++
						for i < len(s) && (isDigit(s[i]) || s[i] == delim) {
							if !add(s[i]) {
								return nil, nil, errBadFormat
							}
							i++
						}
					}
				} else {
					t = ftDate
					for i < len(s) && (isAlnum(s[i]) || s[i] == delim) {
						if !add(lower(s[i])) {
							return nil, nil, errBadFormat
						}
						i++
					}
				}
			default:
				t = ftNumber
			}
		case c == '.':
			add(c)
			i++
			for i < len(s) && isDigit(s[i]) {
				if !add(s[i]) {
					return nil, nil, errBadFormat
				}
				i++
			}
			t = ftNumber
		case isAlpha(c):
			t = ftString
			add(lower(c))
			i++
			for i < len(s) && isAlpha(s[i]) {
				if !add(lower(s[i])) {
					return nil, nil, errBadFormat
				}
				i++
			}
			isDate := false
			if i < len(s) && (s[i] == '-' || s[i] == '/' || s[i] == '.') {
				isDate = true
			} else if i < len(s) && (s[i] == '+' || isDigit(s[i])) {
				isDate = !dateTokens[truncToken(string(f))]
			}
			if isDate {
				t = ftDate
				for {
					if !add(lower(s[i])) {
						return nil, nil, errBadFormat
					}
					i++
					if i >= len(s) {
						break
					}
					d := s[i]
					if !(d == '+' || d == '-' || d == '/' || d == '_' || d == '.' || d == ':' || isAlnum(d)) {
						break
					}
				}
			}
		case c == '+' || c == '-':
			add(c)
			i++
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			switch {
			case i < len(s) && isDigit(s[i]):
				t = ftTZ
				for i < len(s) && (isDigit(s[i]) || s[i] == ':' || s[i] == '.' || s[i] == '-') {
					if !add(s[i]) {
						return nil, nil, errBadFormat
					}
					i++
				}
			case i < len(s) && isAlpha(s[i]):
				t = ftSpecial
				for i < len(s) && isAlpha(s[i]) {
					if !add(lower(s[i])) {
						return nil, nil, errBadFormat
					}
					i++
				}
			default:
				return nil, nil, errBadFormat
			}
		case isPunct(c):
			i++ // other punctuation only delimits
			continue
		default:
			return nil, nil, errBadFormat
		}
		used++ // the field's terminating NUL
		fields = append(fields, string(f))
		types = append(types, t)
	}
	return fields, types, nil
}

// tokMaxLen is PostgreSQL's TOKMAXLEN: keywords match on their first 10 characters.
const tokMaxLen = 10

func truncToken(s string) string {
	if len(s) > tokMaxLen {
		return s[:tokMaxLen]
	}
	return s
}

// dateTokens are the keywords of PostgreSQL's datetktbl: a word followed by a digit is a
// date-like token unless it is one of these.
var dateTokens = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`-infinity infinity ad allballs am apr april at aug august bc d dec december dow doy
		dst epoch feb february fri friday h isodow isoyear j jan january jd jul julian july jun june m mar march may
		mm mon monday nov november now oct october on pm s sat saturday sep sept september sun sunday t thu thur thurs
		thursday today tomorrow tue tues tuesday wed wednesday weds y yesterday`) {
		dateTokens[truncToken(w)] = true
	}
}

// Unit is a field of an interval or timestamp named in interval input or in
// extract/date_part.
type Unit uint8

// The units. UnitEpoch and the calendar-only units (day of week, …) come from
// LookupField; interval input only knows the others.
const (
	UnitNone Unit = iota
	UnitMicrosecond
	UnitMillisecond
	UnitSecond
	UnitMinute
	UnitHour
	UnitDay
	UnitWeek
	UnitMonth
	UnitQuarter
	UnitYear
	UnitDecade
	UnitCentury
	UnitMillennium
	UnitTimezone
	UnitTimezoneHour
	UnitTimezoneMinute
	UnitEpoch
	UnitDow
	UnitIsoDow
	UnitDoy
	UnitIsoYear
	UnitJulian
	unitAgo
	unitIgnore
	unitBad // a number with no usable unit (after "ago")
)

// units is PostgreSQL's deltatktbl, keyed by the token truncated to tokMaxLen.
var units = map[string]Unit{}

func init() {
	for u, names := range map[Unit]string{
		UnitCentury:        "c cent centuries century",
		UnitDay:            "d day days",
		UnitDecade:         "dec decade decades decs",
		UnitHour:           "h hour hours hr hrs",
		UnitMinute:         "m min mins minute minutes",
		UnitMicrosecond:    "microsecon us usec microsecond useconds usecs",
		UnitMillennium:     "mil millennia millennium mils",
		UnitMillisecond:    "millisecon ms msec millisecond mseconds msecs",
		UnitMonth:          "mon mons month months",
		UnitQuarter:        "qtr quarter",
		UnitSecond:         "s sec second seconds secs",
		UnitTimezone:       "timezone",
		UnitTimezoneHour:   "timezone_h",
		UnitTimezoneMinute: "timezone_m",
		UnitWeek:           "w week weeks",
		UnitYear:           "y year years yr yrs",
		unitAgo:            "ago",
		unitIgnore:         "@",
	} {
		for _, n := range strings.Fields(names) {
			units[truncToken(n)] = u
		}
	}
}

// LookupField resolves a field name of extract/date_part as PostgreSQL does (DecodeUnits,
// then the special words epoch, dow, isodow, doy, isoyear, julian), case-insensitively.
func LookupField(name string) (Unit, bool) {
	low := truncToken(strings.ToLower(name))
	if u, ok := units[low]; ok && u != unitAgo && u != unitIgnore {
		return u, true
	}
	switch low {
	case "epoch":
		return UnitEpoch, true
	case "dow":
		return UnitDow, true
	case "isodow":
		return UnitIsoDow, true
	case "doy":
		return UnitDoy, true
	case "isoyear":
		return UnitIsoYear, true
	case "j", "jd", "julian":
		return UnitJulian, true
	}
	return UnitNone, false
}

// Field masks (DTK_M) of the fields decodeInterval has seen, to reject duplicates.
const (
	mMonth       = 1 << 1
	mYear        = 1 << 2
	mDay         = 1 << 3
	mHour        = 1 << 10
	mMinute      = 1 << 11
	mSecond      = 1 << 12
	mMillisecond = 1 << 13
	mMicrosecond = 1 << 14
	mWeek        = 1 << 24
	mDecade      = 1 << 25
	mCentury     = 1 << 26
	mMillennium  = 1 << 27
	mTime        = mHour | mMinute | mAllSecs
	mAllSecs     = mSecond | mMillisecond | mMicrosecond
)

// decodeInterval is DecodeInterval (IntervalStyle postgres): fields are read right to
// left, so that a unit word applies to the number before it.
func decodeInterval(fields []string, types []ftype, rng int32, itm *itmIn) error {
	isBefore := false
	fmask := 0
	typ := unitIgnore
	for i := len(fields) - 1; i >= 0; i-- {
		field := fields[i]
		tmask := 0
		switch types[i] {
		case ftTime:
			m, err := decodeTimeForInterval(field, rng, itm)
			if err != nil {
				return err
			}
			tmask = m
			typ = UnitDay
		case ftTZ, ftDate, ftNumber:
			if types[i] == ftTZ && strings.IndexByte(field[1:], ':') >= 0 {
				var save = *itm
				if m, err := decodeTimeForInterval(field[1:], rng, itm); err == nil {
					if field[0] == '-' {
						if itm.usec == math.MinInt64 {
							return errFieldOverflow
						}
						itm.usec = -itm.usec
					}
					tmask = m
					typ = UnitDay
					break
				}
				*itm = save
			}
			if typ == unitIgnore {
				typ = unitForRange(rng)
			}
			val, rest, err := strtoi64(field)
			if err != nil {
				return err
			}
			var fval float64
			switch {
			case strings.HasPrefix(rest, "-"):
				// SQL "years-months" syntax
				val2, rest2, err := strtoi32(rest[1:])
				if err != nil || val2 < 0 || val2 >= MonthsPerYear {
					return errFieldOverflow
				}
				if rest2 != "" {
					return errBadFormat
				}
				typ = UnitMonth
				if field[0] == '-' {
					val2 = -val2
				}
				v, ok := mul64(val, MonthsPerYear)
				if ok {
					v, ok = add64(v, int64(val2))
				}
				if !ok {
					return errFieldOverflow
				}
				val = v
			case strings.HasPrefix(rest, "."):
				f, err := parseFraction(rest)
				if err != nil {
					return err
				}
				fval = f
				if field[0] == '-' {
					fval = -fval
				}
			case rest != "":
				return errBadFormat
			}
			ok := true
			switch typ {
			case UnitMicrosecond:
				ok = itm.adjustMicros(val, fval, 1)
				tmask = mMicrosecond
			case UnitMillisecond:
				ok = itm.adjustMicros(val, fval, 1000)
				tmask = mMillisecond
			case UnitSecond:
				ok = itm.adjustMicros(val, fval, MicrosPerSecond)
				tmask = mSecond
				if fval != 0 {
					tmask = mAllSecs
				}
			case UnitMinute:
				ok = itm.adjustMicros(val, fval, MicrosPerMinute)
				tmask = mMinute
			case UnitHour:
				ok = itm.adjustMicros(val, fval, MicrosPerHour)
				tmask = mHour
				typ = UnitDay // set for the next field
			case UnitDay:
				ok = itm.adjustDays(val, 1) && itm.adjustFractMicros(fval, MicrosPerDay)
				tmask = mDay
			case UnitWeek:
				ok = itm.adjustDays(val, 7) && itm.adjustFractDays(fval, 7)
				tmask = mWeek
			case UnitMonth:
				ok = itm.adjustMonths(val) && itm.adjustFractDays(fval, DaysPerMonth)
				tmask = mMonth
			case UnitYear:
				ok = itm.adjustYears(val, 1) && itm.adjustFractYears(fval, 1)
				tmask = mYear
			case UnitDecade:
				ok = itm.adjustYears(val, 10) && itm.adjustFractYears(fval, 10)
				tmask = mDecade
			case UnitCentury:
				ok = itm.adjustYears(val, 100) && itm.adjustFractYears(fval, 100)
				tmask = mCentury
			case UnitMillennium:
				ok = itm.adjustYears(val, 1000) && itm.adjustFractYears(fval, 1000)
				tmask = mMillennium
			default:
				return errBadFormat
			}
			if !ok {
				return errFieldOverflow
			}
		case ftString, ftSpecial:
			u, known := units[truncToken(field)]
			switch {
			case !known:
				return errBadFormat
			case u == unitIgnore:
				continue
			case u == unitAgo:
				isBefore = true
				typ = unitBad
			default: // a unit interval input has no use for (quarter) fails on its number

				typ = u
			}
		default:
			return errBadFormat
		}
		if tmask&fmask != 0 {
			return errBadFormat
		}
		fmask |= tmask
	}
	if fmask == 0 {
		return errBadFormat
	}
	if isBefore {
		if itm.usec == math.MinInt64 || itm.mday == math.MinInt32 || itm.mon == math.MinInt32 || itm.year == math.MinInt32 {
			return errFieldOverflow
		}
		itm.usec, itm.mday, itm.mon, itm.year = -itm.usec, -itm.mday, -itm.mon, -itm.year
	}
	return nil
}

// unitForRange is the field a bare number means under a type modifier.
func unitForRange(rng int32) Unit {
	switch rng {
	case RangeYear:
		return UnitYear
	case RangeMonth, RangeYear | RangeMonth:
		return UnitMonth
	case RangeDay:
		return UnitDay
	case RangeHour, RangeDay | RangeHour:
		return UnitHour
	case RangeMinute, RangeHour | RangeMinute, RangeDay | RangeHour | RangeMinute:
		return UnitMinute
	}
	return UnitSecond
}

// decodeTimeForInterval is DecodeTimeCommon for intervals: hh:mm[:ss[.fff]], or mm:ss.fff
// (and mm:ss under MINUTE TO SECOND). It replaces the microseconds decoded so far, as
// PostgreSQL does.
func decodeTimeForInterval(s string, rng int32, itm *itmIn) (int, error) {
	hour, rest, err := strtoi64(s)
	if err != nil {
		return 0, err
	}
	if !strings.HasPrefix(rest, ":") {
		return 0, errBadFormat
	}
	minute, rest, err := strtoi32(rest[1:])
	if err != nil {
		return 0, err
	}
	var sec int32
	var fsec int64
	switch {
	case rest == "":
		if rng == RangeMinute|RangeSecond {
			if hour != int64(int32(hour)) {
				return 0, errFieldOverflow
			}
			sec, minute, hour = minute, int32(hour), 0
		}
	case rest[0] == '.':
		f, err := parseFraction(rest)
		if err != nil {
			return 0, err
		}
		fsec = int64(math.RoundToEven(f * 1e6))
		if hour != int64(int32(hour)) {
			return 0, errFieldOverflow
		}
		sec, minute, hour = minute, int32(hour), 0
	case rest[0] == ':':
		sec, rest, err = strtoi32(rest[1:])
		if err != nil {
			return 0, err
		}
		if strings.HasPrefix(rest, ".") {
			f, err := parseFraction(rest)
			if err != nil {
				return 0, err
			}
			fsec = int64(math.RoundToEven(f * 1e6))
		} else if rest != "" {
			return 0, errBadFormat
		}
	default:
		return 0, errBadFormat
	}
	if hour < 0 || minute < 0 || minute > 59 || sec < 0 || sec > 60 || fsec < 0 || fsec > MicrosPerSecond {
		return 0, errFieldOverflow
	}
	us := fsec
	ok := true
	for _, p := range [][2]int64{{hour, MicrosPerHour}, {int64(minute), MicrosPerMinute}, {int64(sec), MicrosPerSecond}} {
		var prod int64
		if prod, ok = mul64(p[0], p[1]); !ok {
			break
		}
		if us, ok = add64(us, prod); !ok {
			break
		}
	}
	if !ok {
		return 0, errFieldOverflow
	}
	itm.usec = us
	return mTime, nil
}

// strtoi64 reads an optionally signed decimal integer prefix of s, as strtol does (no
// digits: 0 and s unchanged). Overflow is errFieldOverflow.
func strtoi64(s string) (int64, string, error) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v uint64
	for i < len(s) && isDigit(s[i]) {
		v = v*10 + uint64(s[i]-'0')
		if v > 1<<63 {
			return 0, "", errFieldOverflow
		}
		i++
	}
	if i == start {
		return 0, s, nil
	}
	if !neg && v > math.MaxInt64 {
		return 0, "", errFieldOverflow
	}
	r := int64(v)
	if neg {
		r = -r
	}
	return r, s[i:], nil
}

// parseFloat is strtod on a string floatPrefix accepted whole: out-of-range values are
// ±Inf or 0, as strtod returns them.
func parseFloat(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

func strtoi32(s string) (int32, string, error) {
	v, rest, err := strtoi64(s)
	if err != nil {
		return 0, "", err
	}
	if v != int64(int32(v)) {
		return 0, "", errFieldOverflow
	}
	return int32(v), rest, nil
}

// parseFraction reads ".ddd" that must end the string (ParseFraction).
func parseFraction(s string) (float64, error) {
	if s == "." {
		return 0, nil
	}
	for i := 1; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, errBadFormat
		}
	}
	return parseFloat("0" + s), nil
}

func (itm *itmIn) adjustFractMicros(frac float64, scale int64) bool {
	if frac == 0 {
		return true
	}
	frac *= float64(scale)
	us := int64(frac)
	frac -= float64(us)
	if frac > 0.5 {
		us++
	} else if frac < -0.5 {
		us--
	}
	var ok bool
	itm.usec, ok = add64(itm.usec, us)
	return ok
}

func (itm *itmIn) adjustFractDays(frac float64, scale int) bool {
	if frac == 0 {
		return true
	}
	frac *= float64(scale)
	extra := int32(frac)
	var ok bool
	if itm.mday, ok = add32(itm.mday, extra); !ok {
		return false
	}
	frac -= float64(extra)
	return itm.adjustFractMicros(frac, MicrosPerDay)
}

func (itm *itmIn) adjustFractYears(frac float64, scale int) bool {
	extra := int32(math.RoundToEven(frac * float64(scale) * MonthsPerYear))
	var ok bool
	itm.mon, ok = add32(itm.mon, extra)
	return ok
}

func (itm *itmIn) adjustMicros(val int64, fval float64, scale int64) bool {
	p, ok := mul64(val, scale)
	if !ok {
		return false
	}
	if itm.usec, ok = add64(itm.usec, p); !ok {
		return false
	}
	return itm.adjustFractMicros(fval, scale)
}

func (itm *itmIn) adjustDays(val int64, scale int32) bool {
	if val != int64(int32(val)) {
		return false
	}
	d := int64(val) * int64(scale)
	if d != int64(int32(d)) {
		return false
	}
	var ok bool
	itm.mday, ok = add32(itm.mday, int32(d))
	return ok
}

func (itm *itmIn) adjustMonths(val int64) bool {
	if val != int64(int32(val)) {
		return false
	}
	var ok bool
	itm.mon, ok = add32(itm.mon, int32(val))
	return ok
}

func (itm *itmIn) adjustYears(val int64, scale int32) bool {
	if val != int64(int32(val)) {
		return false
	}
	y := val * int64(scale)
	if y != int64(int32(y)) {
		return false
	}
	var ok bool
	itm.year, ok = add32(itm.year, int32(y))
	return ok
}

// parseISONumber is ParseISO8601Number: a strtod prefix, whose integer part (truncated
// toward zero) and fraction are returned with the rest of s.
func parseISONumber(s string) (int64, float64, string, error) {
	if s == "" || !(isDigit(s[0]) || s[0] == '-' || s[0] == '.') {
		return 0, 0, "", errBadFormat
	}
	n := floatPrefix(s)
	if n == 0 {
		return 0, 0, "", errBadFormat
	}
	val := parseFloat(s[:n])
	if math.IsNaN(val) || val < -1e15 || val > 1e15 {
		return 0, 0, "", errFieldOverflow
	}
	var ip int64
	if val >= 0 {
		ip = int64(math.Floor(val))
	} else {
		ip = -int64(math.Floor(-val))
	}
	return ip, val - float64(ip), s[n:], nil
}

// floatPrefix is the length of the longest prefix of s that strtod reads as a decimal
// number: [+-] digits [. digits] [e [+-] digits].
func floatPrefix(s string) int {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			i = j
		}
	}
	return i
}

func iso8601IntegerWidth(s string) int {
	s = strings.TrimPrefix(s, "-")
	n := 0
	for n < len(s) && isDigit(s[n]) {
		n++
	}
	return n
}

// decodeISO8601 is DecodeISO8601Interval: the format with designators (P1Y2M3DT4H5M6S,
// weeks allowed) and the alternative format (P0001-02-03T04:05:06, P00010203T040506).
func decodeISO8601(str string, itm *itmIn) error {
	if len(str) < 2 || str[0] != 'P' {
		return errBadFormat
	}
	s := str[1:]
	datePart, haveField := true, false
	for s != "" {
		if s[0] == 'T' {
			datePart, haveField = false, false
			s = s[1:]
			continue
		}
		fieldStart := s
		val, fval, rest, err := parseISONumber(s)
		if err != nil {
			return err
		}
		s = rest
		var unit byte
		if s != "" {
			unit, s = s[0], s[1:]
		}
		ok := true
		if datePart {
			switch unit {
			case 'Y':
				ok = itm.adjustYears(val, 1) && itm.adjustFractYears(fval, 1)
			case 'M':
				ok = itm.adjustMonths(val) && itm.adjustFractDays(fval, DaysPerMonth)
			case 'W':
				ok = itm.adjustDays(val, 7) && itm.adjustFractDays(fval, 7)
			case 'D':
				ok = itm.adjustDays(val, 1) && itm.adjustFractMicros(fval, MicrosPerDay)
			case 'T', 0, '-':
				if unit != '-' && iso8601IntegerWidth(fieldStart) == 8 && !haveField {
					if !itm.adjustYears(val/10000, 1) || !itm.adjustMonths((val/100)%100) ||
						!itm.adjustDays(val%100, 1) || !itm.adjustFractMicros(fval, MicrosPerDay) {
						return errFieldOverflow
					}
					if unit == 0 {
						return nil
					}
					datePart, haveField = false, false
					continue
				}
				// the extended alternative format
				if haveField {
					return errBadFormat
				}
				if !itm.adjustYears(val, 1) || !itm.adjustFractYears(fval, 1) {
					return errFieldOverflow
				}
				if unit == 0 {
					return nil
				}
				if unit == 'T' {
					datePart, haveField = false, false
					continue
				}
				val, fval, s, err = parseISONumber(s)
				if err != nil {
					return err
				}
				if !itm.adjustMonths(val) || !itm.adjustFractDays(fval, DaysPerMonth) {
					return errFieldOverflow
				}
				if s == "" {
					return nil
				}
				if s[0] == 'T' {
					datePart, haveField = false, false
					s = s[1:]
					continue
				}
				if s[0] != '-' {
					return errBadFormat
				}
				val, fval, s, err = parseISONumber(s[1:])
				if err != nil {
					return err
				}
				if !itm.adjustDays(val, 1) || !itm.adjustFractMicros(fval, MicrosPerDay) {
					return errFieldOverflow
				}
				if s == "" {
					return nil
				}
				if s[0] == 'T' {
					datePart, haveField = false, false
					s = s[1:]
					continue
				}
				return errBadFormat
			default:
				return errBadFormat
			}
		} else {
			switch unit {
			case 'H':
				ok = itm.adjustMicros(val, fval, MicrosPerHour)
			case 'M':
				ok = itm.adjustMicros(val, fval, MicrosPerMinute)
			case 'S':
				ok = itm.adjustMicros(val, fval, MicrosPerSecond)
			case 0, ':':
				if unit == 0 && iso8601IntegerWidth(fieldStart) == 6 && !haveField {
					if !itm.adjustMicros(val/10000, 0, MicrosPerHour) || !itm.adjustMicros((val/100)%100, 0, MicrosPerMinute) ||
						!itm.adjustMicros(val%100, 0, MicrosPerSecond) || !itm.adjustFractMicros(fval, 1) {
						return errFieldOverflow
					}
					return nil
				}
				if haveField {
					return errBadFormat
				}
				if !itm.adjustMicros(val, fval, MicrosPerHour) {
					return errFieldOverflow
				}
				if unit == 0 {
					return nil
				}
				val, fval, s, err = parseISONumber(s)
				if err != nil {
					return err
				}
				if !itm.adjustMicros(val, fval, MicrosPerMinute) {
					return errFieldOverflow
				}
				if s == "" {
					return nil
				}
				if s[0] != ':' {
					return errBadFormat
				}
				val, fval, s, err = parseISONumber(s[1:])
				if err != nil {
					return err
				}
				if !itm.adjustMicros(val, fval, MicrosPerSecond) {
					return errFieldOverflow
				}
				if s == "" {
					return nil
				}
				return errBadFormat
			default:
				return errBadFormat
			}
		}
		if !ok {
			return errFieldOverflow
		}
		haveField = true
	}
	return nil
}
