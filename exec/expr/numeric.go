package expr

import (
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

// plainInt reads a numeric's canonical text that is an integer of at most 18 digits (a
// sum of bigints, say) without parsing a decimal; ok is false for anything else.
func plainInt(s string) (int64, bool) {
	digits := strings.TrimPrefix(s, "-")
	if len(digits) == 0 || len(digits) > 18 {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func numericArith(op Op, a, b delta.Value) (delta.Value, error) {
	x, y := DecimalOf(a), DecimalOf(b)
	var r decimal.Decimal
	var err error
	switch op {
	case OpAdd:
		r = decimal.Add(x, y)
	case OpSub:
		r = decimal.Sub(x, y)
	case OpMul:
		r = decimal.Mul(x, y)
	case OpDiv:
		r, err = decimal.Div(x, y)
	case OpMod:
		r, err = decimal.Mod(x, y)
	}
	if err != nil {
		return delta.Value{}, err
	}
	return NumericValue(r), nil
}

// convertNumeric handles the casts to and from numeric other than text.
func convertNumeric(v delta.Value, from, to catalog.Type) (delta.Value, error) {
	switch {
	case from.IsInteger() && to == catalog.Numeric:
		return NumericValue(decimal.FromInt(v.I)), nil
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
		n, ok := plainInt(v.S)
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
