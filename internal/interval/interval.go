// Package interval is PostgreSQL's interval type: a span of months, days and
// microseconds, kept apart because a month has no fixed number of days and a day (in
// a time zone with daylight saving) no fixed number of hours.
//
// Everything follows PostgreSQL 15: input (Parse, datetime.c's DecodeInterval and
// DecodeISO8601Interval), output in the default IntervalStyle "postgres" (String,
// EncodeInterval), the ordering (Compare: months count 30 days and days 24 hours, so
// '1 day' = '24 hours'), and the arithmetic of timestamp.c (AddToTimestamp, Sub, Mul,
// Div, the justify functions), errors included. Timestamps here are microseconds since
// the Unix epoch, UTC, as Weir holds them.
package interval

import (
	"math"
	"strconv"

	"github.com/weirdb/weir/internal/sqlerr"
)

// Interval is a PostgreSQL interval. The zero value is the zero interval.
type Interval struct {
	Months int32
	Days   int32
	Micros int64
}

// Units of time, as PostgreSQL defines them for intervals.
const (
	MicrosPerSecond int64 = 1_000_000
	MicrosPerMinute int64 = 60 * MicrosPerSecond
	MicrosPerHour   int64 = 60 * MicrosPerMinute
	MicrosPerDay    int64 = 24 * MicrosPerHour
	DaysPerMonth          = 30
	MonthsPerYear         = 12
)

// MinTimestamp is the earliest timestamp PostgreSQL accepts (4714-11-24 00:00:00 BC),
// in microseconds since the Unix epoch. The latest one (294276 AD) lies beyond int64
// microseconds since 1970, so int64 overflow is the upper bound.
const MinTimestamp int64 = -210_866_803_200_000_000

func errOutOfRange() error {
	return sqlerr.New(sqlerr.DatetimeFieldOverflow, "interval out of range")
}

func errTimestampOutOfRange() error {
	return sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range")
}

// cmpKey is the value PostgreSQL orders and hashes intervals by: the total span with
// 30-day months and 24-hour days, held as whole days plus a remainder in [0, 1 day) so
// that it fits in two int64s.
func (iv Interval) cmpKey() (days, micros int64) {
	days = int64(iv.Days) + int64(iv.Months)*DaysPerMonth
	days += floorDiv(iv.Micros, MicrosPerDay)
	return days, floorMod(iv.Micros, MicrosPerDay)
}

// Compare orders a and b as PostgreSQL does (interval_cmp): by their total span with
// 30-day months and 24-hour days. It returns -1, 0 or +1; '1 day' and '24 hours' are
// equal.
func Compare(a, b Interval) int {
	ad, am := a.cmpKey()
	bd, bm := b.cmpKey()
	switch {
	case ad < bd:
		return -1
	case ad > bd:
		return 1
	case am < bm:
		return -1
	case am > bm:
		return 1
	}
	return 0
}

// Key returns the two numbers equal intervals (in Compare's sense) share: whole days and
// the microseconds of the last day. Use it to hash or group intervals.
func (iv Interval) Key() (days, micros int64) { return iv.cmpKey() }

// FixedMicros is the interval as a fixed duration in microseconds (days count 24
// hours). It reports false when the interval has months, whose length depends on the
// calendar, or when the duration overflows int64.
func (iv Interval) FixedMicros() (int64, bool) {
	if iv.Months != 0 {
		return 0, false
	}
	d, ok := mul64(int64(iv.Days), MicrosPerDay)
	if !ok {
		return 0, false
	}
	return add64(d, iv.Micros)
}

// Neg is -iv (interval_um); 22008 when a field is the most negative value.
func (iv Interval) Neg() (Interval, error) {
	if iv.Micros == math.MinInt64 || iv.Days == math.MinInt32 || iv.Months == math.MinInt32 {
		return Interval{}, errOutOfRange()
	}
	return Interval{Months: -iv.Months, Days: -iv.Days, Micros: -iv.Micros}, nil
}

// Add is a + b field by field (interval_pl); 22008 on overflow.
func Add(a, b Interval) (Interval, error) {
	m, ok1 := add32(a.Months, b.Months)
	d, ok2 := add32(a.Days, b.Days)
	t, ok3 := add64(a.Micros, b.Micros)
	if !ok1 || !ok2 || !ok3 {
		return Interval{}, errOutOfRange()
	}
	return Interval{Months: m, Days: d, Micros: t}, nil
}

// Subtract is a - b field by field (interval_mi); 22008 on overflow.
func Subtract(a, b Interval) (Interval, error) {
	m, ok1 := sub32(a.Months, b.Months)
	d, ok2 := sub32(a.Days, b.Days)
	t, ok3 := sub64(a.Micros, b.Micros)
	if !ok1 || !ok2 || !ok3 {
		return Interval{}, errOutOfRange()
	}
	return Interval{Months: m, Days: d, Micros: t}, nil
}

// tsRound is PostgreSQL's TSROUND: round to microsecond precision of a fraction.
func tsRound(x float64) float64 { return math.RoundToEven(x*1e6) / 1e6 }

func fitsInt32(f float64) bool { return f >= math.MinInt32 && f < -float64(math.MinInt32) }
func fitsInt64(f float64) bool { return f >= math.MinInt64 && f < -float64(math.MinInt64) }

// Mul is iv * factor (interval_mul): months and days are scaled and truncated, and
// their fractions cascade down to days (30 per month) and microseconds, never up.
func (iv Interval) Mul(factor float64) (Interval, error) {
	return iv.scale(factor, false)
}

// Div is iv / factor (interval_div); 22012 when factor is zero.
func (iv Interval) Div(factor float64) (Interval, error) {
	if factor == 0 {
		return Interval{}, sqlerr.New(sqlerr.DivisionByZero, "division by zero")
	}
	return iv.scale(factor, true)
}

func (iv Interval) scale(factor float64, div bool) (Interval, error) {
	op := func(x float64) float64 {
		if div {
			return x / factor
		}
		return x * factor
	}
	var out Interval
	m := op(float64(iv.Months))
	if math.IsNaN(m) || !fitsInt32(m) {
		return Interval{}, errOutOfRange()
	}
	out.Months = int32(m)
	d := op(float64(iv.Days))
	if math.IsNaN(d) || !fitsInt32(d) {
		return Interval{}, errOutOfRange()
	}
	out.Days = int32(d)

	monthRemainderDays := tsRound((op(float64(iv.Months)) - float64(out.Months)) * DaysPerMonth)
	secRemainder := tsRound((op(float64(iv.Days)) - float64(out.Days) +
		monthRemainderDays - float64(int32(monthRemainderDays))) * 86400)
	if math.Abs(secRemainder) >= 86400 {
		extra := int32(secRemainder / 86400)
		var ok bool
		if out.Days, ok = add32(out.Days, extra); !ok {
			return Interval{}, errOutOfRange()
		}
		secRemainder -= float64(extra) * 86400
	}
	var ok bool
	if out.Days, ok = add32(out.Days, int32(monthRemainderDays)); !ok {
		return Interval{}, errOutOfRange()
	}
	t := math.RoundToEven(op(float64(iv.Micros)) + secRemainder*float64(MicrosPerSecond))
	if math.IsNaN(t) || !fitsInt64(t) {
		return Interval{}, errOutOfRange()
	}
	out.Micros = int64(t)
	return out, nil
}

// JustifyHours moves whole 24-hour periods of the time part into days
// (justify_hours), leaving the days and the time with the same sign.
func (iv Interval) JustifyHours() (Interval, error) {
	out := iv
	whole := out.Micros / MicrosPerDay
	out.Micros -= whole * MicrosPerDay
	d, ok := add64(int64(out.Days), whole)
	if !ok || d != int64(int32(d)) {
		return Interval{}, errOutOfRange()
	}
	out.Days = int32(d)
	switch {
	case out.Days > 0 && out.Micros < 0:
		out.Micros += MicrosPerDay
		out.Days--
	case out.Days < 0 && out.Micros > 0:
		out.Micros -= MicrosPerDay
		out.Days++
	}
	return out, nil
}

// JustifyDays moves whole 30-day periods into months (justify_days).
func (iv Interval) JustifyDays() (Interval, error) {
	out := iv
	whole := out.Days / DaysPerMonth
	out.Days -= whole * DaysPerMonth
	var ok bool
	if out.Months, ok = add32(out.Months, whole); !ok {
		return Interval{}, errOutOfRange()
	}
	switch {
	case out.Months > 0 && out.Days < 0:
		out.Days += DaysPerMonth
		out.Months--
	case out.Months < 0 && out.Days > 0:
		out.Days -= DaysPerMonth
		out.Months++
	}
	return out, nil
}

// JustifyInterval is justify_interval: justify_hours and justify_days with all three
// fields given the same sign.
func (iv Interval) JustifyInterval() (Interval, error) {
	out := iv
	whole := out.Micros / MicrosPerDay
	out.Micros -= whole * MicrosPerDay
	d, ok := add64(int64(out.Days), whole)
	if !ok || d != int64(int32(d)) {
		return Interval{}, errOutOfRange()
	}
	out.Days = int32(d)
	wholeMonth := out.Days / DaysPerMonth
	out.Days -= wholeMonth * DaysPerMonth
	if out.Months, ok = add32(out.Months, wholeMonth); !ok {
		return Interval{}, errOutOfRange()
	}
	switch {
	case out.Months > 0 && (out.Days < 0 || (out.Days == 0 && out.Micros < 0)):
		out.Days += DaysPerMonth
		out.Months--
	case out.Months < 0 && (out.Days > 0 || (out.Days == 0 && out.Micros > 0)):
		out.Days -= DaysPerMonth
		out.Months++
	}
	switch {
	case out.Days > 0 && out.Micros < 0:
		out.Micros += MicrosPerDay
		out.Days--
	case out.Days < 0 && out.Micros > 0:
		out.Micros -= MicrosPerDay
		out.Days++
	}
	return out, nil
}

// AddToTimestamp returns ts + sign*iv (timestamp_pl_interval, timestamp_mi_interval),
// ts in microseconds since the Unix epoch (UTC). Months move the calendar month and
// clamp the day to the month's last day ('2024-01-31' + '1 month' = '2024-02-29'), then
// days move the calendar date, then the microseconds are added. A result out of
// PostgreSQL's timestamp range is 22008.
func (iv Interval) AddToTimestamp(ts int64, sign int) (int64, error) {
	if sign < 0 {
		n, err := iv.Neg()
		if err != nil {
			return 0, err
		}
		iv = n
	}
	if iv.Months != 0 {
		days, tod := floorDiv(ts, MicrosPerDay), floorMod(ts, MicrosPerDay)
		y, m, d := CivilFromDays(days)
		months := int64(m-1) + int64(iv.Months)
		y += floorDiv(months, MonthsPerYear)
		m = int(floorMod(months, MonthsPerYear)) + 1
		if last := DaysIn(y, m); d > last {
			d = last
		}
		var err error
		if ts, err = fromCivil(y, m, d, tod); err != nil {
			return 0, err
		}
	}
	if iv.Days != 0 {
		days, tod := floorDiv(ts, MicrosPerDay), floorMod(ts, MicrosPerDay)
		y, m, d := CivilFromDays(days + int64(iv.Days))
		var err error
		if ts, err = fromCivil(y, m, d, tod); err != nil {
			return 0, err
		}
	}
	out, ok := add64(ts, iv.Micros)
	if !ok || out < MinTimestamp {
		return 0, errTimestampOutOfRange()
	}
	return out, nil
}

// fromCivil is tm2timestamp: the date must be a valid Julian date and the timestamp in
// range.
func fromCivil(y int64, m, d int, tod int64) (int64, error) {
	if y < -4713 || (y == -4713 && m < 11) || y > 5874898 || (y == 5874898 && m >= 6) {
		return 0, errTimestampOutOfRange()
	}
	us, ok := mul64(DaysFromCivil(y, m, d), MicrosPerDay)
	if ok {
		us, ok = add64(us, tod)
	}
	if !ok || us < MinTimestamp {
		return 0, errTimestampOutOfRange()
	}
	return us, nil
}

// Sub is ts1 - ts2 as an interval (timestamp_mi): days and a time of day of the same
// sign, never months ('2024-01-03 10:00' - '2024-01-01 12:30' = '1 day 21:30:00').
func Sub(ts1, ts2 int64) (Interval, error) {
	t, ok := sub64(ts1, ts2)
	if !ok {
		return Interval{}, errOutOfRange()
	}
	return Interval{Micros: t}.JustifyHours()
}

// DaysFromCivil is the number of days from 1970-01-01 to y-m-d in the proleptic
// Gregorian calendar (year 0 is 1 BC), as PostgreSQL's date2j counts them.
func DaysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := int64((153*mp+2)/5 + d - 1)
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// CivilFromDays is the inverse of DaysFromCivil.
func CivilFromDays(z int64) (y int64, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// DaysIn is the number of days in month m of year y.
func DaysIn(y int64, m int) int {
	switch m {
	case 4, 6, 9, 11:
		return 30
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}

// String prints iv in PostgreSQL's default IntervalStyle (postgres), as EncodeInterval
// does: "1 year 2 mons", "-1 days +02:00:00", "00:05:00", "1 day 00:00:00.5".
func (iv Interval) String() string { return string(iv.Append(nil)) }

// Append appends iv's text (see String) to buf.
func (iv Interval) Append(buf []byte) []byte {
	isZero, isBefore := true, false
	part := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if !isZero {
			buf = append(buf, ' ')
		}
		if isBefore && v > 0 {
			buf = append(buf, '+')
		}
		buf = strconv.AppendInt(buf, v, 10)
		buf = append(buf, ' ')
		buf = append(buf, unit...)
		if v != 1 {
			buf = append(buf, 's')
		}
		isBefore, isZero = v < 0, false
	}
	part(int64(iv.Months/MonthsPerYear), "year")
	part(int64(iv.Months%MonthsPerYear), "mon")
	part(int64(iv.Days), "day")
	t := iv.Micros
	hour := t / MicrosPerHour
	t -= hour * MicrosPerHour
	minute := t / MicrosPerMinute
	t -= minute * MicrosPerMinute
	sec := t / MicrosPerSecond
	frac := t - sec*MicrosPerSecond
	if isZero || hour != 0 || minute != 0 || sec != 0 || frac != 0 {
		if !isZero {
			buf = append(buf, ' ')
		}
		switch {
		case hour < 0 || minute < 0 || sec < 0 || frac < 0:
			buf = append(buf, '-')
		case isBefore:
			buf = append(buf, '+')
		}
		buf = appendPadded(buf, abs64(hour), 2)
		buf = append(buf, ':')
		buf = appendPadded(buf, abs64(minute), 2)
		buf = append(buf, ':')
		buf = appendPadded(buf, abs64(sec), 2)
		buf = AppendFraction(buf, abs64(frac))
	}
	return buf
}

// AppendFraction appends ".ffffff" for us microseconds (0 ≤ us < 1e6) without trailing
// zeros, and nothing for 0, as PostgreSQL prints fractional seconds.
func AppendFraction(buf []byte, us int64) []byte {
	if us == 0 {
		return buf
	}
	digits := []byte{'.', '0', '0', '0', '0', '0', '0'}
	for i := 6; i >= 1; i-- {
		digits[i] = byte('0' + us%10)
		us /= 10
	}
	n := len(digits)
	for digits[n-1] == '0' {
		n--
	}
	return append(buf, digits[:n]...)
}

func appendPadded(buf []byte, v int64, width int) []byte {
	s := strconv.FormatInt(v, 10)
	for i := len(s); i < width; i++ {
		buf = append(buf, '0')
	}
	return append(buf, s...)
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

func add64(a, b int64) (int64, bool) {
	r := a + b
	return r, (r > a) == (b > 0)
}

func sub64(a, b int64) (int64, bool) {
	r := a - b
	return r, (r < a) == (b > 0)
}

func mul64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	r := a * b
	if r/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, false
	}
	return r, true
}

func add32(a, b int32) (int32, bool) {
	r := int64(a) + int64(b)
	return int32(r), r == int64(int32(r))
}

func sub32(a, b int32) (int32, bool) {
	r := int64(a) - int64(b)
	return int32(r), r == int64(int32(r))
}
