package expr

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/decimal"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

func num(s string) Expr { return NewConst(delta.Numeric(s), catalog.Numeric) }

func cast(e Expr, t catalog.Type) Expr { return &Cast{E: e, T: t} }

func TestNumericArithmetic(t *testing.T) {
	runEval(t, []evalCase{
		{"add", bin(OpAdd, num("12.50"), num("0.1")), "12.60", ""},
		{"sub", bin(OpSub, num("1"), num("1.000")), "0.000", ""},
		{"mul", bin(OpMul, num("12.50"), num("0.1")), "1.250", ""},
		{"div 1/3.0", bin(OpDiv, num("1"), num("3.0")), "0.33333333333333333333", ""},
		{"div 7.13/1.00", bin(OpDiv, num("7.13"), num("1.00")), "7.1300000000000000", ""},
		{"div by zero", bin(OpDiv, num("1.5"), num("0")), "", sqlerr.DivisionByZero},
		{"mod", bin(OpMod, num("-2.50"), num("0.3")), "-0.10", ""},
		{"mod by zero", bin(OpMod, num("1"), num("0.0")), "", sqlerr.DivisionByZero},
		{"neg", &Neg{E: num("12.50")}, "-12.50", ""},
		{"neg zero", &Neg{E: num("0.0")}, "0.0", ""},
		{"null", bin(OpAdd, num("1"), NullOf(catalog.Numeric)), "NULL", ""},
		{"eq across scales", bin(OpEq, num("1.0"), num("1.00")), "true", ""},
		{"lt", bin(OpLt, num("-0.5"), num("-0.05")), "true", ""},
		{"not distinct across scales", bin(OpIsNotDistinct, num("2.50"), num("2.5")), "true", ""},
	})
}

func TestNumericCasts(t *testing.T) {
	runEval(t, []evalCase{
		{"int to numeric", cast(i4(-7), catalog.Numeric), "-7", ""},
		{"numeric to int rounds half away", cast(num("2.5"), catalog.Int4), "3", ""},
		{"negative half away", cast(num("-2.5"), catalog.Int8), "-3", ""},
		{"numeric to smallint overflow", cast(num("32767.5"), catalog.Int2), "", sqlerr.NumericValueOutOfRange},
		{"numeric to bigint overflow", cast(num("9223372036854775807.5"), catalog.Int8), "", sqlerr.NumericValueOutOfRange},
		{"integral numeric to bigint", cast(num("-123456789012345678"), catalog.Int8), "-123456789012345678", ""},
		{"19 digits to bigint", cast(num("9223372036854775807"), catalog.Int8), "9223372036854775807", ""},
		{"20 digits to bigint overflow", cast(num("-92233720368547758080"), catalog.Int8), "", sqlerr.NumericValueOutOfRange},
		{"integral numeric to smallint overflow", cast(num("40000"), catalog.Int2), "", sqlerr.NumericValueOutOfRange},
		{"integral numeric to int", cast(num("-0"), catalog.Int4), "0", ""},
		{"numeric to float", cast(num("0.1"), catalog.Float8), "0.1", ""},
		{"numeric to float overflow", cast(num("1e400"), catalog.Float8), "", sqlerr.NumericValueOutOfRange},
		{"numeric to real", cast(num("1.5"), catalog.Float4), "1.5", ""},
		{"float to numeric: 15 digits", cast(f8(1.0/3), catalog.Numeric), "0.333333333333333", ""},
		{"real to numeric: 6 digits", cast(f4(0.1), catalog.Numeric), "0.1", ""},
		{"float NaN to numeric", cast(f8(nan()), catalog.Numeric), "", sqlerr.FeatureNotSupported},
		{"text to numeric", cast(txt(" 1.50 "), catalog.Numeric), "1.50", ""},
		{"bad text", cast(txt("1.2.3"), catalog.Numeric), "", sqlerr.InvalidTextRepresentation},
		{"numeric to text", cast(num("-0.010"), catalog.Text), "-0.010", ""},
		{"typmod rounds", &Cast{E: num("7.125"), T: catalog.Numeric, Precision: 10, Scale: 2}, "7.13", ""},
		{"typmod pads", &Cast{E: i4(3), T: catalog.Numeric, Precision: 10, Scale: 2}, "3.00", ""},
		{"typmod overflow", &Cast{E: num("9.5"), T: catalog.Numeric, Precision: 1}, "", sqlerr.NumericValueOutOfRange},
	})
	require.True(t, CanCast(catalog.Numeric, catalog.Int4))
	require.True(t, CanCast(catalog.Float8, catalog.Numeric))
	require.False(t, CanCast(catalog.Numeric, catalog.Date))
	require.Equal(t, "#0::numeric(10,2)", (&Cast{E: &Col{Idx: 0, T: catalog.Float8}, T: catalog.Numeric, Precision: 10, Scale: 2}).String())
}

func nan() float64 {
	zero := 0.0
	return zero / zero
}

func TestNumericFunctions(t *testing.T) {
	fn := func(name, arg string) Expr {
		f, err := NewFunc(name, []Expr{num(arg)}, nil)
		require.NoError(t, err)
		require.Equal(t, catalog.Numeric, f.Type())
		return f
	}
	runEval(t, []evalCase{
		{"abs", fn("abs", "-2.50"), "2.50", ""},
		{"abs positive", fn("abs", "0.1"), "0.1", ""},
		{"round half away", fn("round", "-2.5"), "-3", ""},
		{"round to zero", fn("round", "-0.4"), "0", ""},
		{"floor", fn("floor", "-2.5"), "-3", ""},
		{"floor integral", fn("floor", "-2.00"), "-2", ""},
		{"ceil", fn("ceil", "0.1"), "1", ""},
		{"ceiling negative", fn("ceiling", "-0.4"), "0", ""},
		{"trunc", fn("trunc", "-2.7"), "-2", ""},
	})
}

// BenchmarkNumericToBigint casts a bigint sum's numeric text back to bigint (the pack's
// sum(score)::bigint): integral text takes delta.NumericInt, text with a fraction the decimal
// parse it took before.
func BenchmarkNumericToBigint(b *testing.B) {
	for _, s := range []string{"1234567", "1234567.0"} {
		b.Run(s, func(b *testing.B) {
			c := cast(num(s), catalog.Int8)
			for b.Loop() {
				if _, err := c.Eval(nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSmallNumericArith: numericArith's int64 path (parseSmall, smallArith) prints what
// the math/big path prints, for operands of 0 to 20 digits at scales 0 to 6 (either side
// of the 18 digits it takes), and for sums and products at the edge of int64.
func TestSmallNumericArith(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 8))
	gen := func() string {
		var sb strings.Builder
		if rng.IntN(3) == 0 {
			sb.WriteByte('-')
		}
		digits := 1 + rng.IntN(20)
		scale := rng.IntN(min(digits, 7))
		for i := range digits {
			if i == digits-scale && scale > 0 {
				if i == 0 {
					sb.WriteByte('0')
				}
				sb.WriteByte('.')
			}
			c := byte('0' + rng.IntN(10))
			if i == 0 && digits-scale > 1 && c == '0' {
				c = '9' // canonical text has no leading zeros
			}
			sb.WriteByte(c)
		}
		return decimal.MustParse(sb.String()).String()
	}
	edge := []string{"999999999999999999", "-999999999999999999", "9223372036854775807", "0", "-0.000001",
		"0.000000000000000001", "4611686018427387904", "3037000499.97605", "100000000000000000"}
	want := func(op Op, a, b string) string {
		r, err := bigArith(op, decimal.MustParse(a), decimal.MustParse(b))
		if err != nil {
			return "error: " + err.Error()
		}
		return r.String()
	}
	small := 0
	for i := range 20000 {
		a, b := gen(), gen()
		if i < len(edge)*len(edge) {
			a, b = edge[i/len(edge)], edge[i%len(edge)]
		}
		for _, op := range []Op{OpAdd, OpSub, OpMul, OpDiv, OpMod} {
			got, err := numericArith(op, delta.Numeric(a), delta.Numeric(b))
			g := got.S
			if err != nil {
				g = "error: " + err.Error()
			}
			require.Equal(t, want(op, a, b), g, "%s %s %s", a, op, b)
			x, ok1 := parseSmall(a)
			y, ok2 := parseSmall(b)
			if _, ok := smallArith(op, x, y); ok1 && ok2 && ok {
				small++
			}
		}
	}
	require.Greater(t, small, 20000, "most cases take the int64 path")
	for _, s := range []string{"", "-", ".5", "5.", "1.2.3", "1e5", "+1", "12a", "1234567890123456789"} {
		_, ok := parseSmall(s)
		require.False(t, ok, "%q", s)
	}
}

// BenchmarkNumericMul is Nexmark q1's 0.908 * price (price cast from bigint).
func BenchmarkNumericMul(b *testing.B) {
	e := bin(OpMul, num("0.908"), cast(&Col{Idx: 0, T: catalog.Int8}, catalog.Numeric))
	row := []delta.Value{delta.Int(1234567)}
	for b.Loop() {
		if _, err := e.Eval(row); err != nil {
			b.Fatal(err)
		}
	}
}
