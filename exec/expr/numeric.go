package expr

import (
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/decimal"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Numeric values travel as canonical text (delta.KindNumeric); the functions here parse
// them into decimal.Decimal, compute, and print the result back.

// NumericValue returns d as a delta value.
func NumericValue(d decimal.Decimal) delta.Value { return delta.Numeric(d.String()) }

// DecimalOf reads a non-NULL numeric value. The text was printed by decimal.String, so it
// always parses.
func DecimalOf(v delta.Value) decimal.Decimal { return decimal.MustParse(v.S) }

func numericArith(op Op, a, b delta.Value) (delta.Value, error) {
	if x, ok := parseSmall(a.S); ok {
		if y, ok := parseSmall(b.S); ok {
			if r, ok := smallArith(op, x, y); ok {
				return delta.Numeric(r.String()), nil
			}
		}
	}
	r, err := bigArith(op, DecimalOf(a), DecimalOf(b))
	if err != nil {
		return delta.Value{}, err
	}
	return NumericValue(r), nil
}

// bigArith computes x op y with math/big.
func bigArith(op Op, x, y decimal.Decimal) (decimal.Decimal, error) {
	switch op {
	case OpAdd:
		return decimal.Add(x, y), nil
	case OpSub:
		return decimal.Sub(x, y), nil
	case OpMul:
		return decimal.Mul(x, y), nil
	case OpDiv:
		return decimal.Div(x, y)
	case OpMod:
		return decimal.Mod(x, y)
	}
	return decimal.Decimal{}, sqlerr.New(sqlerr.Internal, "internal error: numeric operator %s", op)
}

// convertNumeric handles the casts to and from numeric other than text.
func convertNumeric(v delta.Value, from, to catalog.Type) (delta.Value, error) {
	switch {
	case from.IsInteger() && to == catalog.Numeric:
		return delta.Numeric(strconv.FormatInt(v.I, 10)), nil // decimal.FromInt(v.I).String()
	case from.IsFloat() && to == catalog.Numeric:
		digits := 15 // DBL_DIG, as float8_numeric prints its argument
		if from == catalog.Float4 {
			digits = 6 // FLT_DIG
		}
		d, err := decimal.FromFloat(v.F, digits)
		if err != nil {
			return v, err
		}
		return NumericValue(d), nil
	case from == catalog.Numeric && to.IsInteger():
		n, ok := delta.NumericInt(v.S)
		if !ok {
			n, ok = DecimalOf(v).Int64()
		}
		if !ok || !fitsInt(n, to) {
			return v, overflow(to)
		}
		return delta.Int(n), nil
	case from == catalog.Numeric && to.IsFloat():
		return Parse(v.S, to) // numeric_float8 reads the text, range checks included
	}
	return v, sqlerr.New(sqlerr.CannotCoerce, "cannot cast type %s to %s", from, to)
}

// ApplyTypmod coerces a numeric value to numeric(precision, scale): it rounds to scale
// and raises 22003 when the value does not fit. A NULL, or precision 0 (unconstrained),
// passes through.
func ApplyTypmod(v delta.Value, precision, scale int32) (delta.Value, error) {
	if v.Null || precision == 0 {
		return v, nil
	}
	d, err := DecimalOf(v).ApplyTypmod(precision, scale)
	if err != nil {
		return v, err
	}
	return NumericValue(d), nil
}

// integral applies floor, ceil(ing), round (half away from zero) or trunc to d; the
// result has scale 0, as PostgreSQL's one-argument numeric functions return.
func integral(name string, d decimal.Decimal) decimal.Decimal {
	t := d.Trunc(0)
	switch name {
	case "round":
		return d.Round(0)
	case "floor":
		if d.Sign() < 0 && decimal.Cmp(t, d) != 0 {
			return decimal.Sub(t, decimal.FromInt(1))
		}
	case "ceil", "ceiling":
		if d.Sign() > 0 && decimal.Cmp(t, d) != 0 {
			return decimal.Add(t, decimal.FromInt(1))
		}
	}
	return t
}

// Most numerics in a stream are small: a price, 0.908 × a bid. smallDec is one whose
// coefficient fits an int64, so that adding, subtracting and multiplying two of them
// (numericArith) needs neither math/big nor a parse through decimal.Parse; a result that
// would overflow takes the math/big path, which gives the same text.

// smallDec is coef × 10^-scale.
type smallDec struct {
	coef  int64
	scale int32
}

// parseSmall reads canonical numeric text (decimal.String: an optional minus, digits,
// optionally a point and more digits) of at most 18 digits; ok is false otherwise.
func parseSmall(s string) (smallDec, bool) {
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	if len(s) == 0 || len(s) > 19 { // 18 digits and a point
		return smallDec{}, false
	}
	var d smallDec
	digits, point := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			d.coef = d.coef*10 + int64(c-'0')
			digits++
			if point {
				d.scale++
			}
		case c == '.' && !point && i > 0 && i < len(s)-1:
			point = true
		default:
			return smallDec{}, false
		}
	}
	if digits > 18 {
		return smallDec{}, false
	}
	if neg {
		d.coef = -d.coef
	}
	return d, true
}

// smallArith computes x op y for +, - and ×, with decimal's scales (the larger one; the
// sum); ok is false for another op or when the result's coefficient would overflow.
func smallArith(op Op, x, y smallDec) (smallDec, bool) {
	switch op {
	case OpAdd, OpSub:
		s := max(x.scale, y.scale)
		a, ok1 := rescaleSmall(x, s)
		b, ok2 := rescaleSmall(y, s)
		if !ok1 || !ok2 {
			return smallDec{}, false
		}
		if op == OpSub {
			b = -b // |b| < 10^18: no overflow
		}
		r := a + b
		if (a > 0 && b > 0 && r < 0) || (a < 0 && b < 0 && r >= 0) {
			return smallDec{}, false
		}
		return smallDec{r, s}, true
	case OpMul:
		if x.scale+y.scale > decimal.MaxScale {
			return smallDec{}, false
		}
		hi, lo := bits.Mul64(absU(x.coef), absU(y.coef))
		if hi != 0 || lo > math.MaxInt64 {
			return smallDec{}, false
		}
		r := int64(lo)
		if (x.coef < 0) != (y.coef < 0) {
			r = -r
		}
		return smallDec{r, x.scale + y.scale}, true
	}
	return smallDec{}, false
}

// rescaleSmall returns d's coefficient at scale s >= d.scale, if it fits.
func rescaleSmall(d smallDec, s int32) (int64, bool) {
	c := d.coef
	for range s - d.scale {
		if c > math.MaxInt64/10 || c < math.MinInt64/10 {
			return 0, false
		}
		c *= 10
	}
	return c, true
}

func absU(v int64) uint64 {
	if v < 0 {
		return uint64(-v) // v > MinInt64: parseSmall reads at most 18 digits
	}
	return uint64(v)
}

// String prints d as decimal.String does.
func (d smallDec) String() string {
	var buf [48]byte
	b := strconv.AppendUint(buf[:0], absU(d.coef), 10)
	if d.scale > 0 {
		if n := int(d.scale) + 1 - len(b); n > 0 {
			b = append(b[:0], strings.Repeat("0", n)...)
			b = strconv.AppendUint(b, absU(d.coef), 10)
		}
		k := len(b) - int(d.scale)
		b = append(b[:k+1], b[k:]...)
		b[k] = '.'
	}
	if d.coef < 0 {
		return "-" + string(b)
	}
	return string(b)
}
