// Package decimal is exact decimal arithmetic with PostgreSQL numeric's rules: a value
// is a coefficient times 10^-Scale, and Scale is the display scale (12.50 has scale 2 and
// prints as 12.50). Result scales follow numeric.c: add and subtract keep the larger
// scale, multiply adds the scales, divide picks select_div_scale's scale (at least 16
// significant digits), and every rounding is half away from zero.
//
// Weir holds numeric values in delta vectors as their canonical PostgreSQL text (see
// delta.KindNumeric); this package is the arithmetic on top. It is built on math/big, so
// it needs nothing outside the standard library, and a Decimal never loses digits.
package decimal

import (
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/weirdb/weir/internal/sqlerr"
)

// Decimal is Coef × 10^-Scale. Invariant: Coef is non-nil, Scale >= 0.
type Decimal struct {
	Coef  *big.Int
	Scale int32
}

// MaxScale is PostgreSQL's NUMERIC_MAX_DISPLAY_SCALE.
const MaxScale = 1000

// Zero is 0 with scale 0.
func Zero() Decimal { return Decimal{Coef: new(big.Int)} }

// FromInt returns v with scale 0.
func FromInt(v int64) Decimal { return Decimal{Coef: big.NewInt(v)} }

var bigTen = big.NewInt(10)

func pow10(n int32) *big.Int {
	return new(big.Int).Exp(bigTen, big.NewInt(int64(n)), nil)
}

// Parse reads PostgreSQL numeric input: optional spaces, a sign, digits with an optional
// decimal point, an optional exponent. NaN and Infinity are not supported (0A000).
func Parse(s string) (Decimal, error) {
	bad := func() (Decimal, error) {
		return Decimal{}, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type numeric: %q", s)
	}
	x := strings.TrimSpace(s)
	switch strings.ToLower(strings.TrimLeft(x, "+-")) {
	case "nan", "infinity", "inf":
		return Decimal{}, sqlerr.New(sqlerr.FeatureNotSupported, "numeric value %q is not supported yet", s)
	}
	neg := false
	if x != "" && (x[0] == '+' || x[0] == '-') {
		neg = x[0] == '-'
		x = x[1:]
	}
	mant, exp := x, int64(0)
	if i := strings.IndexAny(x, "eE"); i >= 0 {
		mant = x[:i]
		e, err := strconv.ParseInt(x[i+1:], 10, 32)
		if err != nil || x[i+1] == ' ' {
			return bad()
		}
		exp = e
	}
	intPart, frac := mant, ""
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		intPart, frac = mant[:i], mant[i+1:]
	}
	if intPart == "" && frac == "" {
		return bad()
	}
	for _, p := range [2]string{intPart, frac} {
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return bad()
			}
		}
	}
	if exp > MaxScale || exp < -MaxScale {
		return bad() // as numeric.c's set_var_from_str: beyond NUMERIC_MAX_PRECISION
	}
	c, _ := new(big.Int).SetString("0"+intPart+frac, 10)
	scale := int64(len(frac)) - exp
	if scale < 0 {
		c.Mul(c, pow10(int32(-scale)))
		scale = 0
	}
	if neg {
		c.Neg(c)
	}
	d := Decimal{Coef: c, Scale: int32(scale)}
	if d.Scale > MaxScale {
		d = d.Round(MaxScale)
	}
	return d, nil
}

// MustParse is Parse for literals known to be valid; it panics otherwise.
func MustParse(s string) Decimal {
	d, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

// String prints d as PostgreSQL does: all Scale fraction digits, never an exponent, never
// a negative zero.
func (d Decimal) String() string {
	digits := new(big.Int).Abs(d.Coef).String()
	if d.Scale > 0 {
		if n := int(d.Scale) + 1 - len(digits); n > 0 {
			digits = strings.Repeat("0", n) + digits
		}
		k := len(digits) - int(d.Scale)
		digits = digits[:k] + "." + digits[k:]
	}
	if d.Coef.Sign() < 0 {
		return "-" + digits
	}
	return digits
}

// Sign is -1, 0 or +1.
func (d Decimal) Sign() int { return d.Coef.Sign() }

// rescale returns d's coefficient at scale s >= d.Scale.
func (d Decimal) rescale(s int32) *big.Int {
	if s == d.Scale {
		return d.Coef
	}
	return new(big.Int).Mul(d.Coef, pow10(s-d.Scale))
}

// Cmp compares a and b by value (1.0 equals 1.00).
func Cmp(a, b Decimal) int {
	s := max(a.Scale, b.Scale)
	return a.rescale(s).Cmp(b.rescale(s))
}

// Add returns a+b with the larger scale.
func Add(a, b Decimal) Decimal {
	s := max(a.Scale, b.Scale)
	return Decimal{Coef: new(big.Int).Add(a.rescale(s), b.rescale(s)), Scale: s}
}

// Sub returns a-b with the larger scale.
func Sub(a, b Decimal) Decimal {
	s := max(a.Scale, b.Scale)
	return Decimal{Coef: new(big.Int).Sub(a.rescale(s), b.rescale(s)), Scale: s}
}

// Mul returns a*b with the sum of the scales (capped at MaxScale, rounding).
func Mul(a, b Decimal) Decimal {
	d := Decimal{Coef: new(big.Int).Mul(a.Coef, b.Coef), Scale: a.Scale + b.Scale}
	if d.Scale > MaxScale {
		d = d.Round(MaxScale)
	}
	return d
}

// Neg returns -d.
func Neg(d Decimal) Decimal { return Decimal{Coef: new(big.Int).Neg(d.Coef), Scale: d.Scale} }

func divByZero() error { return sqlerr.New(sqlerr.DivisionByZero, "division by zero") }

// Div returns a/b rounded half away from zero to DivScale(a, b) digits; b = 0 is 22012.
func Div(a, b Decimal) (Decimal, error) {
	if b.Sign() == 0 {
		return Decimal{}, divByZero()
	}
	return quoRound(a, b, DivScale(a, b)), nil
}

// quoRound returns a/b rounded half away from zero to scale s.
func quoRound(a, b Decimal, s int32) Decimal {
	// a/b = (ca·10^-sa)/(cb·10^-sb); at scale s the coefficient is ca·10^(s-sa+sb)/cb.
	num := new(big.Int).Set(a.Coef)
	den := new(big.Int).Set(b.Coef)
	if e := s - a.Scale + b.Scale; e >= 0 {
		num.Mul(num, pow10(e))
	} else {
		den.Mul(den, pow10(-e))
	}
	return Decimal{Coef: roundQuo(num, den), Scale: s}
}

// roundQuo returns num/den rounded half away from zero.
func roundQuo(num, den *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	if r.Sign() != 0 {
		r2 := new(big.Int).Abs(r)
		r2.Lsh(r2, 1)
		if r2.Cmp(new(big.Int).Abs(den)) >= 0 {
			if (num.Sign() < 0) != (den.Sign() < 0) {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	return q
}

// Mod returns a - trunc(a/b)·b with the larger scale, as numeric's % does; b = 0 is 22012.
func Mod(a, b Decimal) (Decimal, error) {
	if b.Sign() == 0 {
		return Decimal{}, divByZero()
	}
	s := max(a.Scale, b.Scale)
	return Decimal{Coef: new(big.Int).Rem(a.rescale(s), b.rescale(s)), Scale: s}, nil
}

// DivScale is PostgreSQL's select_div_scale: enough fraction digits for at least 16
// significant digits in the quotient, and no fewer than either operand's scale.
func DivScale(a, b Decimal) int32 {
	w1, f1 := a.nbaseLead()
	w2, f2 := b.nbaseLead()
	qweight := w1 - w2
	if f1 <= f2 {
		qweight--
	}
	rscale := 16 - qweight*4
	rscale = max(rscale, int64(a.Scale), int64(b.Scale), 0)
	return int32(min(rscale, MaxScale))
}

// nbaseLead returns the weight and value of d's first non-zero base-10000 digit, as
// numeric.c stores it (digit groups aligned at the decimal point); 0, 0 for zero.
func (d Decimal) nbaseLead() (weight int64, first int64) {
	if d.Sign() == 0 {
		return 0, 0
	}
	c := new(big.Int).Abs(d.Coef)
	e := int64(len(c.String())) - 1 - int64(d.Scale) // decimal exponent of the leading digit
	weight = e / 4
	if e < 0 && e%4 != 0 {
		weight--
	}
	// first = floor(|d| / 10000^weight) = floor(c · 10^(-4·weight - scale)).
	if k := -4*weight - int64(d.Scale); k >= 0 {
		c.Mul(c, pow10(int32(k)))
	} else {
		c.Quo(c, pow10(int32(-k)))
	}
	return weight, c.Int64()
}

// Round returns d rounded half away from zero to scale s (s may exceed d.Scale, which
// pads with zeros).
func (d Decimal) Round(s int32) Decimal {
	if s >= d.Scale {
		return Decimal{Coef: d.rescale(s), Scale: s}
	}
	return Decimal{Coef: roundQuo(d.Coef, pow10(d.Scale-s)), Scale: s}
}

// Trunc returns d truncated toward zero to scale s <= d.Scale.
func (d Decimal) Trunc(s int32) Decimal {
	if s >= d.Scale {
		return d
	}
	return Decimal{Coef: new(big.Int).Quo(d.Coef, pow10(d.Scale-s)), Scale: s}
}

// Int64 rounds d half away from zero to an integer; ok is false when it does not fit.
func (d Decimal) Int64() (v int64, ok bool) {
	r := d.Round(0).Coef
	if !r.IsInt64() {
		return 0, false
	}
	return r.Int64(), true
}

// Float64 is the double nearest to d.
func (d Decimal) Float64() float64 {
	f, _ := strconv.ParseFloat(d.String(), 64)
	return f
}

// FromFloat converts f as PostgreSQL's float8 → numeric cast does: through its text with
// 15 significant digits (DBL_DIG). NaN and infinities are not supported (0A000).
func FromFloat(f float64, digits int) (Decimal, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Decimal{}, sqlerr.New(sqlerr.FeatureNotSupported, "cannot convert %v to numeric: NaN and Infinity are not supported yet", f)
	}
	return Parse(strconv.FormatFloat(f, 'g', digits, 64))
}

// ApplyTypmod coerces d to numeric(precision, scale): it rounds to scale and fails with
// 22003 when the result needs more than precision-scale integer digits.
func (d Decimal) ApplyTypmod(precision, scale int32) (Decimal, error) {
	r := d.Round(scale)
	if r.Sign() != 0 {
		intDigits := int32(len(new(big.Int).Abs(r.Coef).String())) - scale
		if intDigits > precision-scale {
			pow := precision - scale
			detail := "A field with precision %d, scale %d must round to an absolute value less than 10^%d."
			if pow <= 0 {
				detail = "A field with precision %d, scale %d must round to an absolute value less than 1."
				return Decimal{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "numeric field overflow").WithDetail(detail, precision, scale)
			}
			return Decimal{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "numeric field overflow").WithDetail(detail, precision, scale, pow)
		}
	}
	return r, nil
}
