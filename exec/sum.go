package exec

import (
	"math"
	"math/big"
	"math/bits"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/decimal"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/interval"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Sums under retraction must not depend on the order of the changes: inserting x and
// later retracting it has to restore the previous sum exactly, or a view drifts away from
// what a batch engine computes over the same rows. Both accumulators below are therefore
// exact, and round only when a result is read.

// int128 is a two's-complement 128-bit integer: the exact sum of int64 values times int64
// weights. A bigint sum is checked against the int64 range only when it is read, so a
// transient overflow inside a tick (insert MaxInt64, insert 1, retract 1) is no error.
type int128 struct {
	hi int64
	lo uint64
}

// mul128 returns x*w exactly.
func mul128(x, w int64) int128 {
	ux, uw := uint64(x), uint64(w)
	if x < 0 {
		ux = -ux
	}
	if w < 0 {
		uw = -uw
	}
	hi, lo := bits.Mul64(ux, uw)
	p := int128{hi: int64(hi), lo: lo}
	if (x < 0) != (w < 0) {
		p = p.neg()
	}
	return p
}

func (a int128) neg() int128 {
	lo, c := bits.Add64(^a.lo, 1, 0)
	return int128{hi: int64(^uint64(a.hi) + c), lo: lo}
}

// add returns a+b and whether it overflowed 128 bits.
func (a int128) add(b int128) (int128, bool) {
	lo, c := bits.Add64(a.lo, b.lo, 0)
	hi := int64(uint64(a.hi) + uint64(b.hi) + c)
	overflow := (a.hi < 0) == (b.hi < 0) && (hi < 0) != (a.hi < 0)
	return int128{hi: hi, lo: lo}, overflow
}

// int64 returns a and whether it fits in an int64.
func (a int128) int64() (int64, bool) {
	v := int64(a.lo)
	return v, (a.hi == 0 && v >= 0) || (a.hi == -1 && v < 0)
}

func (a int128) big() *big.Int {
	neg := a.hi < 0
	if neg {
		a = a.neg()
	}
	z := new(big.Int).SetUint64(uint64(a.hi))
	z.Lsh(z, 64)
	z.Or(z, new(big.Int).SetUint64(a.lo))
	if neg {
		z.Neg(z)
	}
	return z
}

// quo returns a/n correctly rounded to a float64 (avg over integers).
func (a int128) quo(n int64) float64 {
	const exact = 1 << 53 // integers up to 2^53 convert to float64 exactly
	if v, ok := a.int64(); ok && v > -exact && v < exact && n < exact {
		return float64(v) / float64(n)
	}
	f, _ := new(big.Rat).SetFrac(a.big(), big.NewInt(n)).Float64()
	return f
}

// exactPrec is enough mantissa bits for any sum of float64 values times int64 weights to
// be exact: float64 spans 2^-1074 … 2^1024, a weight adds 64 bits and the carries of up to
// 2^64 terms another 64.
const exactPrec = 1074 + 1024 + 64 + 64 + 32

// fsum is the exact sum of float64 values times int64 weights. Finite terms add up in a
// big.Float of exactPrec bits; non-finite terms are counted, so that retracting an
// Infinity or a NaN restores the finite sum (IEEE arithmetic cannot).
type fsum struct {
	f    *big.Float // nil while no finite term was added
	nan  int64      // weighted count of NaN terms
	pinf int64      // … of +Infinity terms
	ninf int64      // … of -Infinity terms
}

// add adds x*w; tmp is scratch space owned by the caller.
func (s *fsum) add(x float64, w int64, tmp *big.Float) {
	switch {
	case math.IsNaN(x):
		s.nan += w
		return
	case math.IsInf(x, 1):
		s.pinf += w
		return
	case math.IsInf(x, -1):
		s.ninf += w
		return
	case x == 0:
		return
	}
	if s.f == nil {
		s.f = new(big.Float).SetPrec(exactPrec)
	}
	tmp.SetPrec(exactPrec).SetFloat64(x)
	if w != 1 {
		var wf big.Float
		wf.SetInt64(w)
		tmp.Mul(tmp, &wf)
	}
	s.f.Add(s.f, tmp)
}

// special returns the non-finite result, if the non-finite terms decide it, as IEEE
// addition in any order would: NaN wins, +Inf plus -Inf is NaN.
func (s *fsum) special() (float64, bool) {
	switch {
	case s.nan > 0 || (s.pinf > 0 && s.ninf > 0):
		return math.NaN(), true
	case s.pinf > 0:
		return math.Inf(1), true
	case s.ninf > 0:
		return math.Inf(-1), true
	}
	return 0, false
}

// value returns the sum rounded once to the nearest float64.
func (s *fsum) value() float64 {
	if v, ok := s.special(); ok {
		return v
	}
	if s.f == nil {
		return 0
	}
	v, _ := s.f.Float64()
	return v
}

// quo returns the sum divided by n, rounded once (avg over floats).
func (s *fsum) quo(n int64) float64 {
	if v, ok := s.special(); ok {
		return v
	}
	if s.f == nil {
		return 0
	}
	var d, q big.Float
	d.SetInt64(n)
	q.SetPrec(53).Quo(s.f, &d)
	v, _ := q.Float64()
	return v
}

// isZero reports whether no term is left: the state a retracted group returns to.
func (s *fsum) isZero() bool {
	return s.nan == 0 && s.pinf == 0 && s.ninf == 0 && (s.f == nil || s.f.Sign() == 0)
}

// nsum is the exact sum of numeric values times weights. The coefficient is kept at the
// largest scale ever added; the result is printed at the largest display scale among the
// inputs still present (PostgreSQL's sum keeps the largest input scale), which is exact
// because the digits below it are zero.
type nsum struct {
	coef   big.Int
	scale  int32
	scales map[int32]int64 // total weight of the inputs at each display scale
}

func (s *nsum) add(d decimal.Decimal, w int64) {
	if d.Scale > s.scale {
		s.coef.Mul(&s.coef, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.Scale-s.scale)), nil))
		s.scale = d.Scale
	}
	x := new(big.Int).Mul(d.Coef, big.NewInt(w))
	if d.Scale < s.scale {
		x.Mul(x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s.scale-d.Scale)), nil))
	}
	s.coef.Add(&s.coef, x)
	if s.scales == nil {
		s.scales = map[int32]int64{}
	}
	s.scales[d.Scale] += w
	if s.scales[d.Scale] == 0 {
		delete(s.scales, d.Scale)
	}
}

func (s *nsum) value() decimal.Decimal {
	if s == nil {
		return decimal.Zero()
	}
	ds := int32(0)
	for sc := range s.scales {
		ds = max(ds, sc)
	}
	return decimal.Decimal{Coef: new(big.Int).Set(&s.coef), Scale: s.scale}.Round(ds)
}

func (s *nsum) isZero() bool {
	return s == nil || (s.coef.Sign() == 0 && len(s.scales) == 0)
}

// ivsum is the exact sum of intervals times weights, field by field as interval_pl adds
// them: months, days and microseconds apart. It is range-checked when read.
type ivsum struct {
	months, days int128
	micros       int128
}

func (s *ivsum) isZero() bool { return s == nil || *s == ivsum{} }

func (s *ivsum) add(v delta.Value, w int64) error {
	m, d, us := v.IntervalParts()
	var o1, o2, o3 bool
	s.months, o1 = s.months.add(mul128(int64(m), w))
	s.days, o2 = s.days.add(mul128(int64(d), w))
	s.micros, o3 = s.micros.add(mul128(us, w))
	if o1 || o2 || o3 {
		return sqlerr.New(sqlerr.DatetimeFieldOverflow, "interval out of range")
	}
	return nil
}

// result is the sum, or with avg the sum divided by n (interval_avg: interval_div).
func (s *ivsum) result(avg bool, n int64) (delta.Value, error) {
	m, ok1 := s.months.int64()
	d, ok2 := s.days.int64()
	us, ok3 := s.micros.int64()
	if !ok1 || !ok2 || !ok3 || m != int64(int32(m)) || d != int64(int32(d)) {
		return delta.Value{}, sqlerr.New(sqlerr.DatetimeFieldOverflow, "interval out of range")
	}
	iv := interval.Interval{Months: int32(m), Days: int32(d), Micros: us}
	if avg {
		var err error
		if iv, err = iv.Div(float64(n)); err != nil {
			return delta.Value{}, err
		}
	}
	return expr.IntervalValue(iv), nil
}
