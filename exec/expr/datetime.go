package expr

import (
	"math"
	"strings"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/interval"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Intervals travel as delta.KindInterval values; the arithmetic is internal/interval's.

// IntervalValue returns iv as a delta value.
func IntervalValue(iv interval.Interval) delta.Value {
	return delta.Interval(iv.Months, iv.Days, iv.Micros)
}

// IntervalOf reads a non-NULL interval value.
func IntervalOf(v delta.Value) interval.Interval {
	m, d, us := v.IntervalParts()
	return interval.Interval{Months: m, Days: d, Micros: us}
}

// TimeOp is a date/time arithmetic operator of DateArith.
type TimeOp uint8

// The date/time operators, with PostgreSQL's operand and result types. The binder
// coerces operands (a date to timestamp for date ± interval, a number to double
// precision for interval * number) and puts the interval on the left of a product.
const (
	TsPlusInterval  TimeOp = iota // timestamp[tz] + interval → timestamp[tz]
	TsMinusInterval               // timestamp[tz] - interval → timestamp[tz]
	TsMinusTs                     // timestamp[tz] - timestamp[tz] → interval
	DatePlusInt                   // date + integer → date
	DateMinusInt                  // date - integer → date
	DateMinusDate                 // date - date → integer (days)
	IntervalPlus                  // interval + interval
	IntervalMinus                 // interval - interval
	IntervalMul                   // interval * double precision
	IntervalDiv                   // interval / double precision
)

var timeOpSymbols = [...]string{"+", "-", "-", "+", "-", "-", "+", "-", "*", "/"}

// DateArith is date, timestamp and interval arithmetic with PostgreSQL's semantics:
// calendar months, overflow as 22008, division by zero as 22012. NULL in, NULL out.
type DateArith struct {
	Op   TimeOp
	L, R Expr
	T    catalog.Type
}

func (d *DateArith) Type() catalog.Type { return d.T }
func (d *DateArith) String() string {
	return "(" + d.L.String() + " " + timeOpSymbols[d.Op] + " " + d.R.String() + ")"
}

func (d *DateArith) Eval(row []delta.Value) (delta.Value, error) {
	l, err := d.L.Eval(row)
	if err != nil {
		return l, err
	}
	r, err := d.R.Eval(row)
	if err != nil {
		return r, err
	}
	if l.Null || r.Null {
		return delta.Null(d.T.Kind()), nil
	}
	return TimeArith(d.Op, l, r)
}

// Valid dates, in days since the Unix epoch: PostgreSQL's 4714-11-24 BC to 5874897 AD.
const (
	minDate = -2440588
	endDate = 2145042906
)

func errDateOutOfRange() error { return sqlerr.New(sqlerr.DatetimeFieldOverflow, "date out of range") }

// TimeArith applies op to non-NULL operands (see DateArith).
func TimeArith(op TimeOp, l, r delta.Value) (delta.Value, error) {
	switch op {
	case TsPlusInterval, TsMinusInterval:
		sign := 1
		if op == TsMinusInterval {
			sign = -1
		}
		ts, err := IntervalOf(r).AddToTimestamp(l.I, sign)
		if err != nil {
			return delta.Value{}, err
		}
		return delta.Int(ts), nil
	case TsMinusTs:
		iv, err := interval.Sub(l.I, r.I)
		if err != nil {
			return delta.Value{}, err
		}
		return IntervalValue(iv), nil
	case DatePlusInt, DateMinusInt:
		n := r.I
		if op == DateMinusInt {
			n = -n
		}
		d := l.I + n
		if d < minDate || d >= endDate {
			return delta.Value{}, errDateOutOfRange()
		}
		return delta.Int(d), nil
	case DateMinusDate:
		return delta.Int(l.I - r.I), nil
	case IntervalPlus:
		iv, err := interval.Add(IntervalOf(l), IntervalOf(r))
		return IntervalValue(iv), err
	case IntervalMinus:
		iv, err := interval.Subtract(IntervalOf(l), IntervalOf(r))
		return IntervalValue(iv), err
	case IntervalMul:
		iv, err := IntervalOf(l).Mul(r.F)
		return IntervalValue(iv), err
	case IntervalDiv:
		iv, err := IntervalOf(l).Div(r.F)
		return IntervalValue(iv), err
	}
	return delta.Value{}, sqlerr.New(sqlerr.Internal, "internal error: date/time operator %d", op)
}

// negInterval is unary minus on an interval.
func negInterval(v delta.Value) (delta.Value, error) {
	iv, err := IntervalOf(v).Neg()
	if err != nil {
		return delta.Value{}, err
	}
	return IntervalValue(iv), nil
}

// dateBin is date_bin(stride, source, origin) as PostgreSQL 15 computes it (timestamp_bin):
// the start of the stride-long bin, counted from origin, that holds source. Timestamps
// are microseconds since the Unix epoch.
func dateBin(stride interval.Interval, source, origin int64) (int64, error) {
	if stride.Months != 0 {
		return 0, sqlerr.New(sqlerr.FeatureNotSupported, "timestamps cannot be binned into intervals containing months or years")
	}
	strideUs, ok := stride.FixedMicros()
	if !ok {
		return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "interval out of range")
	}
	if strideUs <= 0 {
		return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "stride must be greater than zero")
	}
	diff := source - origin
	if (diff < source) != (origin > 0) {
		return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "interval out of range")
	}
	// Round toward minus infinity, as PostgreSQL 15.4 and later do (earlier releases
	// moved a source exactly on a bin boundary before a later origin one bin back).
	delta := diff - diff%strideUs
	if diff%strideUs < 0 {
		delta -= strideUs
	}
	res := origin + delta
	if (res < origin) != (delta < 0) || res < interval.MinTimestamp {
		return 0, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range")
	}
	return res, nil
}

// extractInterval is extract(field FROM interval) (numeric, with numeric) or
// date_part(field, interval) (double precision), as interval_part_common computes them.
func extractInterval(field string, iv interval.Interval, numeric bool) (delta.Value, error) {
	u, ok := interval.LookupField(field)
	if !ok {
		return delta.Value{}, sqlerr.New(sqlerr.InvalidParameterValue, "unit %q not recognized for type interval", field)
	}
	year := int64(iv.Months / interval.MonthsPerYear)
	mon := int64(iv.Months % interval.MonthsPerYear)
	t := iv.Micros
	hour := t / interval.MicrosPerHour
	t -= hour * interval.MicrosPerHour
	minute := t / interval.MicrosPerMinute
	t -= minute * interval.MicrosPerMinute
	secUs := t // seconds and microseconds, as microseconds
	var whole int64
	switch u {
	case interval.UnitMicrosecond:
		whole = secUs
	case interval.UnitMillisecond:
		if numeric {
			return scaledNumeric(secUs, 3), nil
		}
		sec := secUs / interval.MicrosPerSecond
		return delta.Float(float64(sec)*1000 + float64(secUs-sec*interval.MicrosPerSecond)/1000), nil
	case interval.UnitSecond:
		if numeric {
			return scaledNumeric(secUs, 6), nil
		}
		sec := secUs / interval.MicrosPerSecond
		return delta.Float(float64(sec) + float64(secUs-sec*interval.MicrosPerSecond)/1e6), nil
	case interval.UnitMinute:
		whole = minute
	case interval.UnitHour:
		whole = hour
	case interval.UnitDay:
		whole = int64(iv.Days)
	case interval.UnitMonth:
		whole = mon
	case interval.UnitQuarter:
		whole = mon/3 + 1
	case interval.UnitYear:
		whole = year
	case interval.UnitDecade:
		whole = year / 10
	case interval.UnitCentury:
		whole = year / 100
	case interval.UnitMillennium:
		whole = year / 1000
	case interval.UnitEpoch:
		if numeric {
			secs := (int64(4*365.25*86400/4)*(int64(iv.Months)/interval.MonthsPerYear) +
				int64(4*30*86400/4)*(int64(iv.Months)%interval.MonthsPerYear) +
				86400*int64(iv.Days))
			us, ok := mulAdd(secs, interval.MicrosPerSecond, iv.Micros)
			if !ok {
				return delta.Value{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "interval out of range")
			}
			return scaledNumeric(us, 6), nil
		}
		r := float64(iv.Micros) / 1e6
		r += 365.25 * 86400 * float64(iv.Months/interval.MonthsPerYear)
		r += 30 * 86400 * float64(iv.Months%interval.MonthsPerYear)
		r += 86400 * float64(iv.Days)
		return delta.Float(r), nil
	default:
		return delta.Value{}, sqlerr.New(sqlerr.FeatureNotSupported, "unit %q not supported for type interval", field)
	}
	if numeric {
		return scaledNumeric(whole, 0), nil
	}
	return delta.Float(float64(whole)), nil
}

func mulAdd(a, b, c int64) (int64, bool) {
	if a != 0 && (a*b)/b != a {
		return 0, false
	}
	p := a * b
	s := p + c
	if (s > p) != (c > 0) {
		return 0, false
	}
	return s, true
}

// scaledNumeric is v / 10^scale as a numeric with exactly scale fraction digits
// (int64_div_fast_to_numeric).
func scaledNumeric(v int64, scale int) delta.Value {
	neg := v < 0
	var u uint64
	if neg {
		u = uint64(-(v + 1)) + 1
	} else {
		u = uint64(v)
	}
	digits := []byte(uitoa(u))
	for len(digits) <= scale {
		digits = append([]byte{'0'}, digits...)
	}
	s := string(digits)
	if scale > 0 {
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if neg && u != 0 {
		s = "-" + s
	}
	return delta.Numeric(s)
}

func uitoa(u uint64) string {
	if u == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for u > 0 {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
	}
	return string(b[i:])
}

// extractTimestamp is extract(field FROM timestamp) as numeric (PostgreSQL 14 and
// later): the seconds fields keep their microseconds as fraction digits.
func extractTimestamp(field string, us int64) (delta.Value, error) {
	u, ok := interval.LookupField(field)
	if !ok {
		return delta.Value{}, sqlerr.New(sqlerr.InvalidParameterValue, "unit %q not recognized for type timestamp", field)
	}
	secUs := floorMod(us, interval.MicrosPerMinute)
	switch u {
	case interval.UnitMicrosecond:
		return scaledNumeric(secUs, 0), nil
	case interval.UnitMillisecond:
		return scaledNumeric(secUs, 3), nil
	case interval.UnitSecond:
		return scaledNumeric(secUs, 6), nil
	case interval.UnitEpoch:
		return scaledNumeric(us, 6), nil
	}
	f, err := timePart(fieldName(u, field), us)
	if err != nil {
		return delta.Value{}, err
	}
	if f != math.Trunc(f) {
		return delta.Value{}, sqlerr.New(sqlerr.Internal, "internal error: extract %s", field)
	}
	return scaledNumeric(int64(f), 0), nil
}

// fieldName maps a unit to the name timePart knows.
func fieldName(u interval.Unit, given string) string {
	switch u {
	case interval.UnitMinute:
		return "minute"
	case interval.UnitHour:
		return "hour"
	case interval.UnitDay:
		return "day"
	case interval.UnitWeek:
		return "week"
	case interval.UnitMonth:
		return "month"
	case interval.UnitQuarter:
		return "quarter"
	case interval.UnitYear:
		return "year"
	case interval.UnitDecade:
		return "decade"
	case interval.UnitCentury:
		return "century"
	case interval.UnitMillennium:
		return "millennium"
	case interval.UnitDow:
		return "dow"
	case interval.UnitIsoDow:
		return "isodow"
	case interval.UnitDoy:
		return "doy"
	case interval.UnitIsoYear:
		return "isoyear"
	}
	return given
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// timeFunc binds the interval and formatting functions: to_char, date_bin,
// justify_hours/days/interval; ok is false for another name.
func timeFunc(f *Func, name string, args []Expr) (ok bool, err error) {
	n := len(args)
	t := func(i int) catalog.Type { return args[i].Type() }
	isTS := func(i int) bool { return i < n && (t(i) == catalog.Timestamp || t(i) == catalog.Timestamptz) }
	fail := func() (bool, error) { return true, errNoSignature(name, args) }
	switch name {
	case "to_char":
		if n != 2 || !t(1).IsString() {
			return fail()
		}
		in := t(0)
		if in != catalog.Timestamp && in != catalog.Timestamptz && in != catalog.Date && in != catalog.Interval {
			return fail()
		}
		f.T = catalog.Text
		forInterval := in == catalog.Interval
		var fixed dchFormat
		if c, isConst := args[1].(*Const); isConst && !c.V.Null {
			if fixed, err = parseDCH(c.V.S, forInterval); err != nil {
				return true, err
			}
		}
		f.fn = func(a []delta.Value) (delta.Value, error) {
			if a[1].S == "" {
				return delta.Null(delta.KindString), nil // an empty template gives NULL, as in PostgreSQL
			}
			format := fixed
			if format == nil {
				var err error
				if format, err = parseDCH(a[1].S, forInterval); err != nil {
					return delta.Value{}, err
				}
			}
			var fields dchFields
			switch in {
			case catalog.Interval:
				fields = intervalFields(IntervalOf(a[0]))
			case catalog.Date:
				// PostgreSQL resolves to_char(date, text) to the timestamptz variant.
				fields = timestampFields(a[0].I*usPerDay, true)
			default:
				fields = timestampFields(a[0].I, in == catalog.Timestamptz)
			}
			return delta.Str(format.format(fields)), nil
		}
	case "date_bin":
		if n != 3 || t(0) != catalog.Interval || !isTS(1) || !isTS(2) || t(1) != t(2) {
			return fail()
		}
		f.T = t(1)
		if c, isConst := args[0].(*Const); isConst && !c.V.Null {
			// A constant stride is checked now, so a view binning by months fails at CREATE.
			if _, err := dateBin(IntervalOf(c.V), 0, 0); err != nil {
				return true, err
			}
		}
		f.fn = func(a []delta.Value) (delta.Value, error) {
			v, err := dateBin(IntervalOf(a[0]), a[1].I, a[2].I)
			return delta.Int(v), err
		}
	case "justify_hours", "justify_days", "justify_interval":
		if n != 1 || t(0) != catalog.Interval {
			return fail()
		}
		f.T = catalog.Interval
		f.fn = func(a []delta.Value) (delta.Value, error) {
			iv := IntervalOf(a[0])
			var out interval.Interval
			var err error
			switch name {
			case "justify_hours":
				out, err = iv.JustifyHours()
			case "justify_days":
				out, err = iv.JustifyDays()
			default:
				out, err = iv.JustifyInterval()
			}
			return IntervalValue(out), err
		}
	default:
		return false, nil
	}
	return true, nil
}

// extractDate is extract(field FROM date) (numeric) and date_part(field, date) (double
// precision, through timestamp, as PostgreSQL defines it). The time-of-day fields are
// 0A000 for extract, as in PostgreSQL.
func extractDate(field string, days int64, numeric bool) (delta.Value, error) {
	if !numeric {
		v, err := timePart(strings.ToLower(field), days*usPerDay)
		return delta.Float(v), err
	}
	u, ok := interval.LookupField(field)
	if !ok {
		return delta.Value{}, sqlerr.New(sqlerr.InvalidParameterValue, "unit %q not recognized for type date", field)
	}
	switch u {
	case interval.UnitEpoch:
		return scaledNumeric(days*86400, 0), nil
	case interval.UnitMicrosecond, interval.UnitMillisecond, interval.UnitSecond, interval.UnitMinute, interval.UnitHour,
		interval.UnitTimezone, interval.UnitTimezoneHour, interval.UnitTimezoneMinute:
		return delta.Value{}, sqlerr.New(sqlerr.FeatureNotSupported, "unit %q not supported for type date", field)
	}
	return extractTimestamp(field, days*usPerDay)
}
