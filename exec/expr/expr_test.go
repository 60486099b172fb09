package expr

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Literal helpers: each builds a typed constant.
func i2(v int64) Expr   { return NewConst(delta.Int(v), catalog.Int2) }
func i4(v int64) Expr   { return NewConst(delta.Int(v), catalog.Int4) }
func i8(v int64) Expr   { return NewConst(delta.Int(v), catalog.Int8) }
func f4(v float64) Expr { return NewConst(delta.Float(float64(float32(v))), catalog.Float4) }
func f8(v float64) Expr { return NewConst(delta.Float(v), catalog.Float8) }
func txt(s string) Expr { return NewConst(delta.Str(s), catalog.Text) }
func bl(b bool) Expr    { return NewConst(delta.Bool(b), catalog.Bool) }

// nb is a NULL boolean; tb and fb spell TRUE and FALSE in truth tables.
var (
	nb = NullOf(catalog.Bool)
	tb = bl(true)
	fb = bl(false)
)

// bin builds a binary expression typed as the binder would: comparisons and logic are
// boolean, arithmetic has its (already unified) operand type.
func bin(op Op, l, r Expr) *Binary {
	t := l.Type()
	if op.IsComparison() || op == OpAnd || op == OpOr || op == OpIsDistinct || op == OpIsNotDistinct {
		t = catalog.Bool
	}
	return &Binary{Op: op, L: l, R: r, T: t}
}

// boom is an expression whose evaluation fails; it proves that an operand is not evaluated.
var boom = bin(OpDiv, i4(1), i4(0))

// evalCase is one expression and its expected result, rendered in PostgreSQL's text
// output format ("NULL" for NULL), or the SQLSTATE it must fail with.
type evalCase struct {
	name string
	e    Expr
	want string
	code sqlerr.Code
}

func runEval(t *testing.T, tests []evalCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := tc.e.Eval(nil)
			if tc.code != "" {
				require.Error(t, err, "got %s", Format(v, tc.e.Type()))
				require.Equal(t, tc.code, sqlerr.CodeOf(err), err.Error())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.e.Type().Kind(), v.Kind, "the value's kind matches the expression's type")
			require.Equal(t, tc.want, Format(v, tc.e.Type()))
		})
	}
}

const (
	minI2, maxI2 = math.MinInt16, math.MaxInt16
	minI4, maxI4 = math.MinInt32, math.MaxInt32
	minI8, maxI8 = math.MinInt64, math.MaxInt64
)

func TestIntegerArithmetic(t *testing.T) {
	oor, div0 := sqlerr.NumericValueOutOfRange, sqlerr.DivisionByZero
	runEval(t, []evalCase{
		// int2
		{"int2 add", bin(OpAdd, i2(maxI2-1), i2(1)), "32767", ""},
		{"int2 add overflow", bin(OpAdd, i2(maxI2), i2(1)), "", oor},
		{"int2 sub underflow", bin(OpSub, i2(minI2), i2(1)), "", oor},
		{"int2 sub to min", bin(OpSub, i2(-32767), i2(1)), "-32768", ""},
		{"int2 mul overflow", bin(OpMul, i2(200), i2(200)), "", oor},
		{"int2 mul negative bound", bin(OpMul, i2(-16384), i2(2)), "-32768", ""},
		{"int2 min times -1", bin(OpMul, i2(minI2), i2(-1)), "", oor},
		{"int2 min div -1", bin(OpDiv, i2(minI2), i2(-1)), "", oor},
		{"int2 min mod -1", bin(OpMod, i2(minI2), i2(-1)), "0", ""},
		{"int2 neg min", &Neg{E: i2(minI2)}, "", oor},
		{"int2 neg max", &Neg{E: i2(maxI2)}, "-32767", ""},
		// int4
		{"int4 add", bin(OpAdd, i4(1), i4(2)), "3", ""},
		{"int4 add overflow", bin(OpAdd, i4(maxI4), i4(1)), "", oor},
		{"int4 add negative overflow", bin(OpAdd, i4(minI4), i4(-1)), "", oor},
		{"int4 sub overflow", bin(OpSub, i4(minI4), i4(1)), "", oor},
		{"int4 sub of a negative overflows", bin(OpSub, i4(maxI4), i4(-1)), "", oor},
		{"int4 mul overflow", bin(OpMul, i4(65536), i4(65536)), "", oor},
		{"int4 mul at bound", bin(OpMul, i4(-65536), i4(32768)), "-2147483648", ""},
		{"int4 min div -1", bin(OpDiv, i4(minI4), i4(-1)), "", oor},
		{"int4 min mod -1", bin(OpMod, i4(minI4), i4(-1)), "0", ""},
		{"int4 neg min", &Neg{E: i4(minI4)}, "", oor},
		// int8
		{"int8 add overflow", bin(OpAdd, i8(maxI8), i8(1)), "", oor},
		{"int8 add negative overflow", bin(OpAdd, i8(minI8), i8(-1)), "", oor},
		{"int8 add of a negative", bin(OpAdd, i8(maxI8), i8(-1)), "9223372036854775806", ""},
		{"int8 sub overflow", bin(OpSub, i8(minI8), i8(1)), "", oor},
		{"int8 sub of a negative overflows", bin(OpSub, i8(0), i8(minI8)), "", oor},
		{"int8 sub to min", bin(OpSub, i8(-1), i8(maxI8)), "-9223372036854775808", ""},
		{"int8 mul overflow", bin(OpMul, i8(3037000500), i8(3037000500)), "", oor},
		{"int8 mul fits", bin(OpMul, i8(3037000499), i8(3037000499)), "9223372030926249001", ""},
		{"int8 min times -1", bin(OpMul, i8(minI8), i8(-1)), "", oor},
		{"int8 -1 times min", bin(OpMul, i8(-1), i8(minI8)), "", oor},
		{"int8 min times 1", bin(OpMul, i8(minI8), i8(1)), "-9223372036854775808", ""},
		{"int8 max times 2", bin(OpMul, i8(maxI8), i8(2)), "", oor},
		{"int8 times zero", bin(OpMul, i8(minI8), i8(0)), "0", ""},
		{"int8 min div -1", bin(OpDiv, i8(minI8), i8(-1)), "", oor},
		{"int8 min mod -1", bin(OpMod, i8(minI8), i8(-1)), "0", ""},
		{"int8 neg min", &Neg{E: i8(minI8)}, "", oor},
		{"int8 neg", &Neg{E: i8(maxI8)}, "-9223372036854775807", ""},
		// division and modulo
		{"7 / 2", bin(OpDiv, i4(7), i4(2)), "3", ""},
		{"-7 / 2 truncates toward zero", bin(OpDiv, i4(-7), i4(2)), "-3", ""},
		{"7 / -2", bin(OpDiv, i4(7), i4(-2)), "-3", ""},
		{"-7 / -2", bin(OpDiv, i4(-7), i4(-2)), "3", ""},
		{"-7 % 2 takes the dividend's sign", bin(OpMod, i4(-7), i4(2)), "-1", ""},
		{"7 % -2", bin(OpMod, i4(7), i4(-2)), "1", ""},
		{"-7 % -2", bin(OpMod, i8(-7), i8(-2)), "-1", ""},
		{"int2 division by zero", bin(OpDiv, i2(1), i2(0)), "", div0},
		{"int4 division by zero", bin(OpDiv, i4(1), i4(0)), "", div0},
		{"int8 division by zero", bin(OpDiv, i8(minI8), i8(0)), "", div0},
		{"zero by zero", bin(OpDiv, i4(0), i4(0)), "", div0},
		{"modulo by zero", bin(OpMod, i4(5), i4(0)), "", div0},
		{"int8 modulo by zero", bin(OpMod, i8(5), i8(0)), "", div0},
		// NULL
		{"NULL + 1", bin(OpAdd, NullOf(catalog.Int4), i4(1)), "NULL", ""},
		{"1 * NULL", bin(OpMul, i8(1), NullOf(catalog.Int8)), "NULL", ""},
		{"NULL / 0 is NULL, not an error", bin(OpDiv, NullOf(catalog.Int4), i4(0)), "NULL", ""},
		{"-NULL", &Neg{E: NullOf(catalog.Int4)}, "NULL", ""},
		// errors propagate
		{"error in the left operand", bin(OpAdd, boom, i4(1)), "", div0},
		{"error in the right operand", bin(OpAdd, i4(1), boom), "", div0},
		{"error under negation", &Neg{E: boom}, "", div0},
	})
}

func TestFloatArithmetic(t *testing.T) {
	oor := sqlerr.NumericValueOutOfRange
	runEval(t, []evalCase{
		{"0.1 + 0.2", bin(OpAdd, f8(0.1), f8(0.2)), "0.30000000000000004", ""},
		{"sub", bin(OpSub, f8(1.5), f8(0.25)), "1.25", ""},
		{"mul", bin(OpMul, f8(-1.5), f8(4)), "-6", ""},
		{"div", bin(OpDiv, f8(1), f8(4)), "0.25", ""},
		{"div does not truncate", bin(OpDiv, f8(-7), f8(2)), "-3.5", ""},
		{"div by zero", bin(OpDiv, f8(1), f8(0)), "", sqlerr.DivisionByZero},
		{"div by negative zero", bin(OpDiv, f8(1), f8(math.Copysign(0, -1))), "", sqlerr.DivisionByZero},
		{"zero by zero", bin(OpDiv, f8(0), f8(0)), "", sqlerr.DivisionByZero},
		{"NaN by zero is NaN", bin(OpDiv, f8(math.NaN()), f8(0)), "NaN", ""},
		{"no float modulo", bin(OpMod, f8(7), f8(2)), "", sqlerr.UndefinedFunction},
		{"mul overflow", bin(OpMul, f8(1e308), f8(10)), "", oor},
		{"add overflow", bin(OpAdd, f8(math.MaxFloat64), f8(math.MaxFloat64)), "", oor},
		{"div overflow", bin(OpDiv, f8(1e308), f8(1e-10)), "", oor},
		{"mul underflow", bin(OpMul, f8(1e-300), f8(1e-300)), "", oor},
		{"div underflow", bin(OpDiv, f8(1e-300), f8(1e300)), "", oor},
		{"zero product is not underflow", bin(OpMul, f8(0), f8(1e-300)), "0", ""},
		{"exact cancellation is not underflow", bin(OpSub, f8(1e-300), f8(1e-300)), "0", ""},
		{"infinity operands are allowed", bin(OpAdd, f8(math.Inf(1)), f8(1)), "Infinity", ""},
		{"infinity minus infinity", bin(OpSub, f8(math.Inf(1)), f8(math.Inf(1))), "NaN", ""},
		{"finite divided by infinity", bin(OpDiv, f8(1), f8(math.Inf(-1))), "-0", ""},
		{"NaN propagates", bin(OpMul, f8(math.NaN()), f8(2)), "NaN", ""},
		{"negation", &Neg{E: f8(2.5)}, "-2.5", ""},
		{"negative zero", &Neg{E: f8(0)}, "-0", ""},
		{"NULL operand", bin(OpSub, f8(1), NullOf(catalog.Float8)), "NULL", ""},
		// float4 computes in single precision
		{"float4 add", bin(OpAdd, f4(0.1), f4(0.2)), "0.3", ""},
		{"float4 mul rounds to single", bin(OpMul, f4(16777216), f4(1.0000001)), "1.6777218e+07", ""},
		{"float4 div", bin(OpDiv, f4(1), f4(3)), "0.33333334", ""},
		{"float4 mul overflow", bin(OpMul, f4(3e38), f4(10)), "", oor},
		{"float4 add overflow", bin(OpAdd, f4(math.MaxFloat32), f4(math.MaxFloat32)), "", oor},
		{"float4 mul underflow", bin(OpMul, f4(1e-30), f4(1e-30)), "", oor},
		{"float4 div by zero", bin(OpDiv, f4(1), f4(0)), "", sqlerr.DivisionByZero},
		{"float4 infinity", bin(OpAdd, f4(float64(float32(math.Inf(1)))), f4(1)), "Infinity", ""},
	})
}

func TestComparison(t *testing.T) {
	nan, inf := f8(math.NaN()), f8(math.Inf(1))
	runEval(t, []evalCase{
		{"1 = 1", bin(OpEq, i4(1), i4(1)), "true", ""},
		{"1 <> 1", bin(OpNe, i4(1), i4(1)), "false", ""},
		{"1 < 2", bin(OpLt, i8(1), i8(2)), "true", ""},
		{"2 <= 2", bin(OpLe, i8(2), i8(2)), "true", ""},
		{"2 > 2", bin(OpGt, i8(2), i8(2)), "false", ""},
		{"2 >= 3", bin(OpGe, i8(2), i8(3)), "false", ""},
		{"negative ints", bin(OpLt, i8(minI8), i8(-1)), "true", ""},
		{"text compares bytewise", bin(OpLt, txt("B"), txt("a")), "true", ""},
		{"text prefix sorts first", bin(OpLt, txt("ab"), txt("abc")), "true", ""},
		{"multibyte text bytewise", bin(OpGt, txt("é"), txt("z")), "true", ""},
		{"false < true", bin(OpLt, fb, tb), "true", ""},
		{"NULL = NULL is NULL", bin(OpEq, NullOf(catalog.Int4), NullOf(catalog.Int4)), "NULL", ""},
		{"1 = NULL is NULL", bin(OpEq, i4(1), NullOf(catalog.Int4)), "NULL", ""},
		{"NULL <> 1 is NULL", bin(OpNe, NullOf(catalog.Int4), i4(1)), "NULL", ""},
		{"NaN = NaN (PostgreSQL)", bin(OpEq, nan, nan), "true", ""},
		{"NaN > Infinity", bin(OpGt, nan, inf), "true", ""},
		{"NaN <> 1", bin(OpNe, nan, f8(1)), "true", ""},
		{"-0 = 0", bin(OpEq, f8(math.Copysign(0, -1)), f8(0)), "true", ""},
		{"-Infinity < min float", bin(OpLt, f8(math.Inf(-1)), f8(-math.MaxFloat64)), "true", ""},
		{"concat", bin(OpConcat, txt("ab"), txt("cd")), "abcd", ""},
		{"concat NULL", bin(OpConcat, txt("ab"), NullOf(catalog.Text)), "NULL", ""},
		{"concat empty", bin(OpConcat, txt(""), txt("")), "", ""},
	})
}

func TestThreeValuedLogic(t *testing.T) {
	names := map[Expr]string{tb: "TRUE", fb: "FALSE", nb: "NULL"}
	vals := []Expr{tb, fb, nb}
	and := map[[2]string]string{
		{"TRUE", "TRUE"}: "true", {"TRUE", "FALSE"}: "false", {"TRUE", "NULL"}: "NULL",
		{"FALSE", "TRUE"}: "false", {"FALSE", "FALSE"}: "false", {"FALSE", "NULL"}: "false",
		{"NULL", "TRUE"}: "NULL", {"NULL", "FALSE"}: "false", {"NULL", "NULL"}: "NULL",
	}
	or := map[[2]string]string{
		{"TRUE", "TRUE"}: "true", {"TRUE", "FALSE"}: "true", {"TRUE", "NULL"}: "true",
		{"FALSE", "TRUE"}: "true", {"FALSE", "FALSE"}: "false", {"FALSE", "NULL"}: "NULL",
		{"NULL", "TRUE"}: "true", {"NULL", "FALSE"}: "NULL", {"NULL", "NULL"}: "NULL",
	}
	var tests []evalCase
	for _, l := range vals {
		for _, r := range vals {
			k := [2]string{names[l], names[r]}
			tests = append(tests,
				evalCase{k[0] + " AND " + k[1], bin(OpAnd, l, r), and[k], ""},
				evalCase{k[0] + " OR " + k[1], bin(OpOr, l, r), or[k], ""})
		}
	}
	tests = append(tests,
		evalCase{"NOT TRUE", &Not{E: tb}, "false", ""},
		evalCase{"NOT FALSE", &Not{E: fb}, "true", ""},
		evalCase{"NOT NULL", &Not{E: nb}, "NULL", ""},
		evalCase{"NOT (NULL AND FALSE)", &Not{E: bin(OpAnd, nb, fb)}, "true", ""},
		evalCase{"FALSE AND error short-circuits", bin(OpAnd, fb, bin(OpEq, boom, i4(1))), "false", ""},
		evalCase{"TRUE OR error short-circuits", bin(OpOr, tb, bin(OpEq, boom, i4(1))), "true", ""},
		evalCase{"TRUE AND error fails", bin(OpAnd, tb, bin(OpEq, boom, i4(1))), "", sqlerr.DivisionByZero},
		evalCase{"NULL OR error fails", bin(OpOr, nb, bin(OpEq, boom, i4(1))), "", sqlerr.DivisionByZero},
		evalCase{"NOT error fails", &Not{E: bin(OpEq, boom, i4(1))}, "", sqlerr.DivisionByZero},
	)
	runEval(t, tests)
}

func TestDistinctAndIsNull(t *testing.T) {
	ni := NullOf(catalog.Int4)
	runEval(t, []evalCase{
		{"1 IS DISTINCT FROM 1", bin(OpIsDistinct, i4(1), i4(1)), "false", ""},
		{"1 IS DISTINCT FROM 2", bin(OpIsDistinct, i4(1), i4(2)), "true", ""},
		{"1 IS DISTINCT FROM NULL", bin(OpIsDistinct, i4(1), ni), "true", ""},
		{"NULL IS DISTINCT FROM 1", bin(OpIsDistinct, ni, i4(1)), "true", ""},
		{"NULL IS DISTINCT FROM NULL", bin(OpIsDistinct, ni, ni), "false", ""},
		{"1 IS NOT DISTINCT FROM 1", bin(OpIsNotDistinct, i4(1), i4(1)), "true", ""},
		{"1 IS NOT DISTINCT FROM 2", bin(OpIsNotDistinct, i4(1), i4(2)), "false", ""},
		{"1 IS NOT DISTINCT FROM NULL", bin(OpIsNotDistinct, i4(1), ni), "false", ""},
		{"NULL IS NOT DISTINCT FROM NULL", bin(OpIsNotDistinct, ni, ni), "true", ""},
		{"NaN IS NOT DISTINCT FROM NaN", bin(OpIsNotDistinct, f8(math.NaN()), f8(math.NaN())), "true", ""},
		{"text", bin(OpIsDistinct, txt("a"), txt("a")), "false", ""},
		{"IS NULL on NULL", &IsNull{E: ni}, "true", ""},
		{"IS NULL on a value", &IsNull{E: i4(0)}, "false", ""},
		{"IS NOT NULL on NULL", &IsNull{E: ni, Not: true}, "false", ""},
		{"IS NOT NULL on empty text", &IsNull{E: txt(""), Not: true}, "true", ""},
		{"IS NULL on NULL arithmetic", &IsNull{E: bin(OpAdd, ni, i4(1))}, "true", ""},
		{"IS NULL propagates errors", &IsNull{E: boom}, "", sqlerr.DivisionByZero},
	})
}

func TestIn(t *testing.T) {
	ni := NullOf(catalog.Int4)
	in := func(e Expr, not bool, list ...Expr) Expr { return &In{E: e, List: list, Not: not} }
	runEval(t, []evalCase{
		{"1 IN (1, 2)", in(i4(1), false, i4(1), i4(2)), "true", ""},
		{"3 IN (1, 2)", in(i4(3), false, i4(1), i4(2)), "false", ""},
		{"1 IN (1, NULL)", in(i4(1), false, i4(1), ni), "true", ""},
		{"1 IN (NULL, 1)", in(i4(1), false, ni, i4(1)), "true", ""},
		{"2 IN (1, NULL) is NULL", in(i4(2), false, i4(1), ni), "NULL", ""},
		{"NULL IN (1, 2) is NULL", in(ni, false, i4(1), i4(2)), "NULL", ""},
		{"NULL IN (NULL) is NULL", in(ni, false, ni), "NULL", ""},
		{"1 NOT IN (2, 3)", in(i4(1), true, i4(2), i4(3)), "true", ""},
		{"1 NOT IN (1, 3)", in(i4(1), true, i4(1), i4(3)), "false", ""},
		{"1 NOT IN (1, NULL)", in(i4(1), true, i4(1), ni), "false", ""},
		{"2 NOT IN (1, NULL) is NULL", in(i4(2), true, i4(1), ni), "NULL", ""},
		{"NULL NOT IN (1) is NULL", in(ni, true, i4(1)), "NULL", ""},
		{"text", in(txt("b"), false, txt("a"), txt("b")), "true", ""},
		{"error in the list", in(i4(5), false, i4(1), boom), "", sqlerr.DivisionByZero},
		{"a match stops evaluation", in(i4(1), false, i4(1), boom), "true", ""},
	})
}

func TestCase(t *testing.T) {
	whenAll := func(els Expr, t catalog.Type, pairs ...Expr) Expr {
		c := &Case{Else: els, T: t}
		for i := 0; i < len(pairs); i += 2 {
			c.Whens = append(c.Whens, When{Cond: pairs[i], Then: pairs[i+1]})
		}
		return c
	}
	nt := NullOf(catalog.Text)
	runEval(t, []evalCase{
		{"first true arm", whenAll(nt, catalog.Text, fb, txt("a"), tb, txt("b"), tb, txt("c")), "b", ""},
		{"NULL condition is not true", whenAll(txt("else"), catalog.Text, nb, txt("a")), "else", ""},
		{"no arm matches: else", whenAll(txt("else"), catalog.Text, fb, txt("a")), "else", ""},
		{"no arm and no else: NULL", whenAll(nt, catalog.Text, fb, txt("a")), "NULL", ""},
		{"later arms are not evaluated", whenAll(boom, catalog.Int4, tb, i4(1), bin(OpEq, boom, i4(1)), boom), "1", ""},
		{"an error in a taken arm", whenAll(i4(0), catalog.Int4, tb, boom), "", sqlerr.DivisionByZero},
		{"an error in a condition", whenAll(i4(0), catalog.Int4, bin(OpEq, boom, i4(1)), i4(1)), "", sqlerr.DivisionByZero},
		{"then may be NULL", whenAll(i4(0), catalog.Int4, tb, NullOf(catalog.Int4)), "NULL", ""},
	})
}

func TestColAndParam(t *testing.T) {
	row := []delta.Value{delta.Int(7), delta.Null(delta.KindString), delta.Float(1.5)}
	c := &Col{Idx: 0, T: catalog.Int8, Name: "k"}
	v, err := bin(OpAdd, c, i8(1)).Eval(row)
	require.NoError(t, err)
	require.Equal(t, delta.Int(8), v)
	require.Equal(t, "k", c.String())
	require.Equal(t, "#2", (&Col{Idx: 2, T: catalog.Float8}).String())

	v, err = (&IsNull{E: &Col{Idx: 1, T: catalog.Text}}).Eval(row)
	require.NoError(t, err)
	require.Equal(t, delta.Bool(true), v)

	ps := &Params{}
	p := &Param{Idx: 1, T: catalog.Int4, P: ps}
	require.Equal(t, "$2", p.String())
	_, err = p.Eval(nil)
	require.Equal(t, sqlerr.ProtocolViolation, sqlerr.CodeOf(err), "a missing parameter")
	ps.Vals = []delta.Value{delta.Int(1), delta.Int(42)}
	v, err = bin(OpMul, p, i4(2)).Eval(nil)
	require.NoError(t, err)
	require.Equal(t, delta.Int(84), v)
}

func TestLike(t *testing.T) {
	tests := []struct {
		s, pattern string
		fold       bool
		want       bool
	}{
		{"abc", "abc", false, true},
		{"abc", "ab", false, false},
		{"abc", "a%", false, true},
		{"abc", "%c", false, true},
		{"abc", "%b%", false, true},
		{"abc", "%", false, true},
		{"", "%", false, true},
		{"", "_", false, false},
		{"", "", false, true},
		{"abc", "a_c", false, true},
		{"abc", "___", false, true},
		{"ab", "___", false, false},
		{"abcd", "a_c", false, false},
		{"abc", "_%_", false, true},
		{"a", "_%_", false, false},
		{"héllo", "h_llo", false, true},
		{"日本語", "__語", false, true},
		{"日本語", "_語", false, false},
		{"a\nb", "a_b", false, true},
		{"a\nb", "a%", false, true},
		{"abc\n", "abc", false, false},
		// regular-expression metacharacters are literals
		{"abc", "a.c", false, false},
		{"a.c", "a.c", false, true},
		{"aaa", "a*", false, false},
		{"a*", "a*", false, true},
		{"aac", "a+c", false, false},
		{"a+c", "a+c", false, true},
		{"a", "[ab]", false, false},
		{"[ab]", "[ab]", false, true},
		{"a", "a|b", false, false},
		{"^a$", "^a$", false, true},
		{"(x)", "(x)", false, true},
		{"a{2}", "a{2}", false, true},
		{"aa", "a{2}", false, false},
		{"a?", "a?", false, true},
		{"$1", "$%", false, true},
		// escapes
		{"50%", `50\%`, false, true},
		{"500", `50\%`, false, false},
		{"a_b", `a\_b`, false, true},
		{"axb", `a\_b`, false, false},
		{`a\b`, `a\\b`, false, true},
		{"ab", `a\b`, false, true},
		{`a.b`, `a\.b`, false, true},
		{`axb`, `a\.b`, false, false},
		{"%", `\%%`, false, true},
		// ILIKE
		{"ABC", "a%", true, true},
		{"abc", "A_C", true, true},
		{"ABC", "a%", false, false},
		{"Hello World", "%WORLD", true, true},
		{"A.C", "a.c", true, true},
		{"ABC", "a.c", true, false},
	}
	for _, tc := range tests {
		op := " LIKE "
		if tc.fold {
			op = " ILIKE "
		}
		t.Run(tc.s+op+tc.pattern, func(t *testing.T) {
			for _, not := range []bool{false, true} {
				l, err := NewLike(txt(tc.s), tc.pattern, not, tc.fold)
				require.NoError(t, err)
				v, err := l.Eval(nil)
				require.NoError(t, err)
				require.Equal(t, delta.Bool(tc.want != not), v, "NOT=%v", not)
			}
		})
	}
	t.Run("NULL input", func(t *testing.T) {
		for _, not := range []bool{false, true} {
			l, err := NewLike(NullOf(catalog.Text), "%", not, false)
			require.NoError(t, err)
			v, err := l.Eval(nil)
			require.NoError(t, err)
			require.True(t, v.Null)
			require.Equal(t, delta.KindBool, v.Kind)
		}
	})
	t.Run("pattern ending in an escape is 22025", func(t *testing.T) {
		_, err := NewLike(txt("a"), `a\`, false, false)
		require.Error(t, err)
		require.Equal(t, sqlerr.InvalidEscapeSequence, sqlerr.CodeOf(err))
		require.Contains(t, err.Error(), "must not end with escape character")
	})
	t.Run("errors propagate", func(t *testing.T) {
		l, err := NewLike(&Cast{E: boom, T: catalog.Text}, "%", false, false)
		require.NoError(t, err)
		_, err = l.Eval(nil)
		require.Equal(t, sqlerr.DivisionByZero, sqlerr.CodeOf(err))
	})
	t.Run("String", func(t *testing.T) {
		l, err := NewLike(&Col{Idx: 0, T: catalog.Text, Name: "s"}, "a%", true, true)
		require.NoError(t, err)
		require.Equal(t, "s NOT ILIKE 'a%'", l.String())
	})
}

// sameType is a stand-in for the binder's coercion: all non-unknown arguments must share
// one type.
func sameType(es []Expr) (catalog.Type, []Expr, error) {
	t := catalog.Unknown
	for _, e := range es {
		if e.Type() == catalog.Unknown {
			continue
		}
		if t != catalog.Unknown && t != e.Type() {
			return 0, nil, sqlerr.New(sqlerr.DatatypeMismatch, "types %s and %s cannot be matched", t, e.Type())
		}
		t = e.Type()
	}
	return t, es, nil
}

func call(t *testing.T, name string, args ...Expr) Expr {
	t.Helper()
	f, err := NewFunc(name, args, sameType)
	require.NoError(t, err)
	return f
}

func TestFunctions(t *testing.T) {
	ni, nt, nf := NullOf(catalog.Int4), NullOf(catalog.Text), NullOf(catalog.Float8)
	oor := sqlerr.NumericValueOutOfRange
	runEval(t, []evalCase{
		{"lower ascii", call(t, "lower", txt("HeLLo")), "hello", ""},
		{"lower multibyte", call(t, "lower", txt("ÀÉÎ ΩΜΈΓΑ")), "àéî ωμέγα", ""},
		{"upper multibyte", call(t, "upper", txt("àéî ωμέγα")), "ÀÉÎ ΩΜΈΓΑ", ""},
		{"upper NULL", call(t, "upper", nt), "NULL", ""},
		{"length ascii", call(t, "length", txt("hello")), "5", ""},
		{"length counts characters, not bytes", call(t, "length", txt("héllo")), "5", ""},
		{"length CJK", call(t, "char_length", txt("日本語")), "3", ""},
		{"length emoji with modifier", call(t, "character_length", txt("👍🏽")), "2", ""},
		{"length empty", call(t, "length", txt("")), "0", ""},
		{"length NULL", call(t, "length", nt), "NULL", ""},
		{"abs int4", call(t, "abs", i4(-5)), "5", ""},
		{"abs positive", call(t, "abs", i4(5)), "5", ""},
		{"abs int4 max", call(t, "abs", i4(-maxI4)), "2147483647", ""},
		{"abs int2 min", call(t, "abs", i2(minI2)), "", oor},
		{"abs int4 min", call(t, "abs", i4(minI4)), "", oor},
		{"abs int8 min", call(t, "abs", i8(minI8)), "", oor},
		{"abs int8", call(t, "abs", i8(-maxI8)), "9223372036854775807", ""},
		{"abs float", call(t, "abs", f8(-1.5)), "1.5", ""},
		{"abs negative zero", call(t, "abs", f8(math.Copysign(0, -1))), "0", ""},
		{"abs NULL", call(t, "abs", ni), "NULL", ""},
		{"coalesce first non-NULL", call(t, "coalesce", ni, ni, i4(3), i4(4)), "3", ""},
		{"coalesce all NULL", call(t, "coalesce", ni, ni), "NULL", ""},
		{"coalesce does not evaluate past a value", call(t, "coalesce", i4(1), boom), "", sqlerr.DivisionByZero},
		{"coalesce text", call(t, "coalesce", nt, txt("x")), "x", ""},
		{"nullif equal", call(t, "nullif", i4(1), i4(1)), "NULL", ""},
		{"nullif different", call(t, "nullif", i4(1), i4(2)), "1", ""},
		{"nullif NULL first", call(t, "nullif", ni, i4(1)), "NULL", ""},
		{"nullif NULL second", call(t, "nullif", i4(1), ni), "1", ""},
		{"nullif both NULL", call(t, "nullif", ni, ni), "NULL", ""},
		{"greatest", call(t, "greatest", i4(1), i4(3), i4(2)), "3", ""},
		{"greatest ignores NULL", call(t, "greatest", ni, i4(1), ni, i4(3)), "3", ""},
		{"greatest all NULL", call(t, "greatest", ni, ni), "NULL", ""},
		{"greatest text bytewise", call(t, "greatest", txt("B"), txt("a")), "a", ""},
		{"greatest NaN", call(t, "greatest", f8(1), f8(math.NaN())), "NaN", ""},
		{"least", call(t, "least", i8(3), i8(-1), i8(2)), "-1", ""},
		{"least ignores NULL", call(t, "least", i4(3), ni, i4(1)), "1", ""},
		{"least all NULL", call(t, "least", nf, nf), "NULL", ""},
		{"floor", call(t, "floor", f8(-1.5)), "-2", ""},
		{"floor positive", call(t, "floor", f8(1.9)), "1", ""},
		{"ceil", call(t, "ceil", f8(-1.5)), "-1", ""},
		{"ceil to negative zero", call(t, "ceil", f8(-0.5)), "-0", ""},
		{"ceiling", call(t, "ceiling", f8(1.1)), "2", ""},
		{"trunc", call(t, "trunc", f8(-1.7)), "-1", ""},
		{"round down", call(t, "round", f8(1.4)), "1", ""},
		{"round up", call(t, "round", f8(1.6)), "2", ""},
		{"round negative", call(t, "round", f8(-1.6)), "-2", ""},
		{"round infinity", call(t, "round", f8(math.Inf(-1))), "-Infinity", ""},
		{"round NaN", call(t, "round", f8(math.NaN())), "NaN", ""},
		{"round NULL", call(t, "round", nf), "NULL", ""},
		// round(double precision) is rint in PostgreSQL: ties go to the even neighbour.
		{"round tie down to even", call(t, "round", f8(2.5)), "2", ""},
		{"round tie up to even", call(t, "round", f8(3.5)), "4", ""},
		{"round tie negative", call(t, "round", f8(-2.5)), "-2", ""},
		{"round tie at one half", call(t, "round", f8(0.5)), "0", ""},
		{"floor of an integer is the integer", call(t, "floor", i8(-7)), "-7", ""},
		{"round of an integer", call(t, "round", i4(5)), "5", ""},
		{"concat skips NULL", call(t, "concat", txt("a"), nt, i4(1), f8(0.5), bl(true)), "a10.5t", ""},
		{"concat of nothing but NULL", call(t, "concat", nt), "", ""},
	})

	t.Run("result types", func(t *testing.T) {
		types := []struct {
			e    Expr
			want catalog.Type
		}{
			{call(t, "lower", NewConst(delta.Str("A"), catalog.Varchar)), catalog.Text},
			{call(t, "length", txt("a")), catalog.Int4},
			{call(t, "abs", i2(-1)), catalog.Int2},
			{call(t, "abs", f4(-1)), catalog.Float4},
			{call(t, "floor", f4(1.5)), catalog.Float8},
			{call(t, "round", i8(1)), catalog.Int8},
			{call(t, "coalesce", ni, i4(1)), catalog.Int4},
			{call(t, "now"), catalog.Timestamptz},
			{call(t, "concat", i4(1)), catalog.Text},
		}
		for _, tc := range types {
			require.Equal(t, tc.want, tc.e.Type(), tc.e.String())
		}
	})

	t.Run("undefined functions are 42883", func(t *testing.T) {
		bad := []struct {
			name string
			args []Expr
		}{
			{"no_such_function", nil},
			{"lower", []Expr{i4(1)}},
			{"lower", []Expr{txt("a"), txt("b")}},
			{"length", nil},
			{"abs", []Expr{txt("1")}},
			{"round", []Expr{bl(true)}},
			{"coalesce", nil},
			{"nullif", []Expr{i4(1)}},
			{"now", []Expr{i4(1)}},
		}
		for _, tc := range bad {
			_, err := NewFunc(tc.name, tc.args, sameType)
			require.Error(t, err, tc.name)
			require.Equal(t, sqlerr.UndefinedFunction, sqlerr.CodeOf(err), tc.name)
			require.Contains(t, err.Error(), tc.name)
		}
	})

	t.Run("argument coercion errors come back", func(t *testing.T) {
		_, err := NewFunc("coalesce", []Expr{i4(1), txt("a")}, sameType)
		require.Equal(t, sqlerr.DatatypeMismatch, sqlerr.CodeOf(err))
	})

	t.Run("String", func(t *testing.T) {
		require.Equal(t, "lower(s)", call(t, "lower", &Col{Idx: 0, T: catalog.Text, Name: "s"}).String())
	})
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		name string
		typ  catalog.Type
		in   string
		out  string // Format(Parse(in)); empty with code set
		code sqlerr.Code
	}{
		{"bool true", catalog.Bool, "true", "true", ""},
		{"bool t", catalog.Bool, "t", "true", ""},
		{"bool yes", catalog.Bool, "YES", "true", ""},
		{"bool on", catalog.Bool, "on", "true", ""},
		{"bool 1", catalog.Bool, "1", "true", ""},
		{"bool padded", catalog.Bool, "  false ", "false", ""},
		{"bool off", catalog.Bool, "off", "false", ""},
		{"bool 0", catalog.Bool, "0", "false", ""},
		{"bool bad", catalog.Bool, "maybe", "", sqlerr.InvalidTextRepresentation},
		{"bool empty", catalog.Bool, "", "", sqlerr.InvalidTextRepresentation},

		{"int2 max", catalog.Int2, "32767", "32767", ""},
		{"int2 min", catalog.Int2, "-32768", "-32768", ""},
		{"int2 over", catalog.Int2, "32768", "", sqlerr.NumericValueOutOfRange},
		{"int2 under", catalog.Int2, "-32769", "", sqlerr.NumericValueOutOfRange},
		{"int4 max", catalog.Int4, "2147483647", "2147483647", ""},
		{"int4 over", catalog.Int4, "2147483648", "", sqlerr.NumericValueOutOfRange},
		{"int4 min", catalog.Int4, "-2147483648", "-2147483648", ""},
		{"int4 padded", catalog.Int4, " 42 ", "42", ""},
		{"int4 plus sign", catalog.Int4, "+7", "7", ""},
		{"int4 decimal point", catalog.Int4, "1.5", "", sqlerr.InvalidTextRepresentation},
		{"int4 letters", catalog.Int4, "12a", "", sqlerr.InvalidTextRepresentation},
		{"int4 empty", catalog.Int4, "", "", sqlerr.InvalidTextRepresentation},
		{"int8 max", catalog.Int8, "9223372036854775807", "9223372036854775807", ""},
		{"int8 min", catalog.Int8, "-9223372036854775808", "-9223372036854775808", ""},
		{"int8 over", catalog.Int8, "9223372036854775808", "", sqlerr.NumericValueOutOfRange},
		{"int8 far over", catalog.Int8, "99999999999999999999999", "", sqlerr.NumericValueOutOfRange},

		{"float8 0.1", catalog.Float8, "0.1", "0.1", ""},
		{"float8 1e15 switches to exponent", catalog.Float8, "1e15", "1e+15", ""},
		{"float8 1e14 is fixed", catalog.Float8, "100000000000000", "100000000000000", ""},
		{"float8 just below 1e15", catalog.Float8, "999999999999999", "999999999999999", ""},
		{"float8 fraction at exponent 14", catalog.Float8, "123456789012345.6", "123456789012345.6", ""},
		{"float8 1.5e-05", catalog.Float8, "0.000015", "1.5e-05", ""},
		{"float8 0.0001 is fixed", catalog.Float8, "0.0001", "0.0001", ""},
		{"float8 1e-5", catalog.Float8, "1e-5", "1e-05", ""},
		{"float8 large", catalog.Float8, "1.7976931348623157e308", "1.7976931348623157e+308", ""},
		{"float8 1e100", catalog.Float8, "1e100", "1e+100", ""},
		{"float8 integer", catalog.Float8, "42", "42", ""},
		{"float8 negative", catalog.Float8, "-2.5", "-2.5", ""},
		{"float8 negative zero", catalog.Float8, "-0", "-0", ""},
		{"float8 NaN", catalog.Float8, "NaN", "NaN", ""},
		{"float8 nan lower", catalog.Float8, "nan", "NaN", ""},
		{"float8 Infinity", catalog.Float8, "Infinity", "Infinity", ""},
		{"float8 inf", catalog.Float8, "inf", "Infinity", ""},
		{"float8 +inf", catalog.Float8, "+inf", "Infinity", ""},
		{"float8 -Infinity", catalog.Float8, "-Infinity", "-Infinity", ""},
		{"float8 padded", catalog.Float8, " 1.5 ", "1.5", ""},
		{"float8 out of range", catalog.Float8, "1e309", "", sqlerr.NumericValueOutOfRange},
		{"float8 underflow", catalog.Float8, "1e-400", "", sqlerr.NumericValueOutOfRange},
		{"float8 zero with exponent", catalog.Float8, "0e-400", "0", ""},
		{"float8 zero", catalog.Float8, "0.000", "0", ""},
		{"float8 digit separators", catalog.Float8, "1_000", "", sqlerr.InvalidTextRepresentation},
		{"float8 bad", catalog.Float8, "abc", "", sqlerr.InvalidTextRepresentation},
		{"float8 empty", catalog.Float8, "", "", sqlerr.InvalidTextRepresentation},
		{"float4 1234567", catalog.Float4, "1234567", "1.234567e+06", ""},
		{"float4 123456", catalog.Float4, "123456", "123456", ""},
		{"float4 0.1", catalog.Float4, "0.1", "0.1", ""},
		{"float4 rounds to single", catalog.Float4, "3.14159265358979", "3.1415927", ""},
		{"float4 max", catalog.Float4, "3.4028235e+38", "3.4028235e+38", ""},
		{"float4 1.5e-05", catalog.Float4, "0.000015", "1.5e-05", ""},
		{"float4 NaN", catalog.Float4, "NaN", "NaN", ""},
		{"float4 -Infinity", catalog.Float4, "-Infinity", "-Infinity", ""},
		{"float4 out of range", catalog.Float4, "1e39", "", sqlerr.NumericValueOutOfRange},
		{"float4 underflow", catalog.Float4, "1e-50", "", sqlerr.NumericValueOutOfRange},
		{"float4 denormal", catalog.Float4, "1e-40", "1e-40", ""},
		{"float4 bad", catalog.Float4, "1.2.3", "", sqlerr.InvalidTextRepresentation},

		{"text", catalog.Text, "héllo wörld", "héllo wörld", ""},
		{"text empty", catalog.Text, "", "", ""},
		{"text keeps spaces", catalog.Text, "  a ", "  a ", ""},
		{"varchar", catalog.Varchar, "x'y", "x'y", ""},

		{"timestamp", catalog.Timestamp, "2024-01-15 10:30:00", "2024-01-15 10:30:00", ""},
		{"timestamp fraction", catalog.Timestamp, "2024-01-15 10:30:00.5", "2024-01-15 10:30:00.5", ""},
		{"timestamp micros", catalog.Timestamp, "2024-01-15 10:30:00.123456", "2024-01-15 10:30:00.123456", ""},
		{"timestamp trailing zeros dropped", catalog.Timestamp, "2024-01-15 10:30:00.120000", "2024-01-15 10:30:00.12", ""},
		{"timestamp zero fraction", catalog.Timestamp, "2024-01-15 10:30:00.000", "2024-01-15 10:30:00", ""},
		{"timestamp rounds to micros", catalog.Timestamp, "2024-01-15 10:30:00.1234567", "2024-01-15 10:30:00.123457", ""},
		{"timestamp T", catalog.Timestamp, "2024-01-15T10:30:00", "2024-01-15 10:30:00", ""},
		{"timestamp date only", catalog.Timestamp, "2024-01-15", "2024-01-15 00:00:00", ""},
		{"timestamp minutes only", catalog.Timestamp, "2024-01-15 10:30", "2024-01-15 10:30:00", ""},
		{"timestamp ignores a zone", catalog.Timestamp, "2024-01-15 10:30:00+02", "2024-01-15 10:30:00", ""},
		{"timestamp ignores Z", catalog.Timestamp, "2024-01-15T10:30:00Z", "2024-01-15 10:30:00", ""},
		{"timestamp epoch", catalog.Timestamp, "1970-01-01 00:00:00", "1970-01-01 00:00:00", ""},
		{"timestamp before epoch", catalog.Timestamp, "1969-12-31 23:59:59.999999", "1969-12-31 23:59:59.999999", ""},
		{"timestamp before epoch fraction", catalog.Timestamp, "1969-12-31 23:59:59.5", "1969-12-31 23:59:59.5", ""},
		{"timestamp 1900", catalog.Timestamp, "1900-02-28 12:00:00", "1900-02-28 12:00:00", ""},
		{"timestamp leap day", catalog.Timestamp, "2000-02-29 00:00:00", "2000-02-29 00:00:00", ""},
		{"timestamp bad", catalog.Timestamp, "yesterday-ish", "", sqlerr.InvalidDatetimeFormat},
		{"timestamptz utc", catalog.Timestamptz, "2024-01-15 10:30:00", "2024-01-15 10:30:00+00", ""},
		{"timestamptz offset", catalog.Timestamptz, "2024-01-15 10:30:00+02", "2024-01-15 08:30:00+00", ""},
		{"timestamptz offset minutes", catalog.Timestamptz, "2024-01-15 10:30:00-05:30", "2024-01-15 16:00:00+00", ""},
		{"timestamptz Z", catalog.Timestamptz, "2024-01-15T10:30:00.25Z", "2024-01-15 10:30:00.25+00", ""},
		{"timestamptz UTC suffix", catalog.Timestamptz, "2024-01-15 10:30:00 UTC", "2024-01-15 10:30:00+00", ""},
		{"timestamptz before epoch", catalog.Timestamptz, "1960-06-01 00:00:00.000001+00", "1960-06-01 00:00:00.000001+00", ""},
		{"timestamptz month 13", catalog.Timestamptz, "2024-13-01 00:00:00", "", sqlerr.DatetimeFieldOverflow},
		{"timestamptz hour 25", catalog.Timestamptz, "2024-01-01 25:00:00", "", sqlerr.DatetimeFieldOverflow},
		{"timestamptz bad", catalog.Timestamptz, "2024-01-01 xx", "", sqlerr.InvalidDatetimeFormat},
		{"timestamptz named zone", catalog.Timestamptz, "2026-01-01 00:00:00 America/New_York", "2026-01-01 05:00:00+00", ""},
		{"timestamp ignores a named zone", catalog.Timestamp, "2026-06-01 12:00 Asia/Shanghai", "2026-06-01 12:00:00", ""},

		{"date", catalog.Date, "2024-02-29", "2024-02-29", ""},
		{"date epoch", catalog.Date, "1970-01-01", "1970-01-01", ""},
		{"date day before epoch", catalog.Date, "1969-12-31", "1969-12-31", ""},
		{"date 1900", catalog.Date, "1900-01-01", "1900-01-01", ""},
		{"date 1066", catalog.Date, "1066-10-14", "1066-10-14", ""},
		{"date padded", catalog.Date, " 2024-01-02 ", "2024-01-02", ""},
		{"date bad", catalog.Date, "not a date", "", sqlerr.InvalidDatetimeFormat},
		{"date February 30", catalog.Date, "2026-02-30", "", sqlerr.DatetimeFieldOverflow},
		{"date not a leap year", catalog.Date, "2023-02-29", "", sqlerr.DatetimeFieldOverflow},
		{"date with a time", catalog.Date, "2026-06-01 12:00", "2026-06-01", ""},
		{"date with a zone", catalog.Date, "2026-06-01 23:00:00+05", "2026-06-01", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Parse(tc.in, tc.typ)
			if tc.code != "" {
				require.Error(t, err, "parsed as %s", Format(v, tc.typ))
				require.Equal(t, tc.code, sqlerr.CodeOf(err), err.Error())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.typ.Kind(), v.Kind)
			out := Format(v, tc.typ)
			require.Equal(t, tc.out, out)
			// The text output reads back as the same value.
			again, err := Parse(out, tc.typ)
			require.NoError(t, err)
			require.Equal(t, 0, delta.Compare(v, again), "round trip of %q", out)
			require.Equal(t, out, Format(again, tc.typ))
		})
	}
}

func TestParseValues(t *testing.T) {
	tests := []struct {
		typ  catalog.Type
		in   string
		want delta.Value
	}{
		{catalog.Date, "1970-01-02", delta.Int(1)},
		{catalog.Date, "1969-12-31", delta.Int(-1)},
		{catalog.Date, "1900-01-01", delta.Int(-25567)},
		{catalog.Timestamp, "1970-01-01 00:00:01", delta.Int(1_000_000)},
		{catalog.Timestamp, "1969-12-31 23:59:59.999999", delta.Int(-1)},
		{catalog.Timestamp, "2024-01-15 10:30:00+02", delta.Int(1705314600_000000)},
		{catalog.Timestamptz, "2024-01-15 10:30:00+02", delta.Int(1705307400_000000)},
		{catalog.Float4, "0.1", delta.Float(float64(float32(0.1)))},
		{catalog.Int2, "-1", delta.Int(-1)},
	}
	for _, tc := range tests {
		t.Run(tc.typ.String()+" "+tc.in, func(t *testing.T) {
			v, err := Parse(tc.in, tc.typ)
			require.NoError(t, err)
			require.Equal(t, tc.want, v)
		})
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		v    delta.Value
		typ  catalog.Type
		want string
	}{
		{"NULL", delta.Null(delta.KindInt), catalog.Int4, "NULL"},
		{"float8 NaN", delta.Float(math.NaN()), catalog.Float8, "NaN"},
		{"float8 Infinity", delta.Float(math.Inf(1)), catalog.Float8, "Infinity"},
		{"float8 -Infinity", delta.Float(math.Inf(-1)), catalog.Float8, "-Infinity"},
		{"float8 0.1", delta.Float(0.1), catalog.Float8, "0.1"},
		{"float8 1e15", delta.Float(1e15), catalog.Float8, "1e+15"},
		{"float8 1e14", delta.Float(1e14), catalog.Float8, "100000000000000"},
		{"float8 1.5e-05", delta.Float(1.5e-05), catalog.Float8, "1.5e-05"},
		{"float8 1e-4", delta.Float(1e-4), catalog.Float8, "0.0001"},
		{"float8 1/3", delta.Float(1.0 / 3), catalog.Float8, "0.3333333333333333"},
		{"float8 2^53", delta.Float(1 << 53), catalog.Float8, "9.007199254740992e+15"},
		{"float8 smallest denormal", delta.Float(5e-324), catalog.Float8, "5e-324"},
		{"float8 -1.5e+300", delta.Float(-1.5e300), catalog.Float8, "-1.5e+300"},
		{"float4 1234567", delta.Float(1234567), catalog.Float4, "1.234567e+06"},
		{"float4 123456", delta.Float(123456), catalog.Float4, "123456"},
		{"float4 0.1 stored as single", delta.Float(float64(float32(0.1))), catalog.Float4, "0.1"},
		{"float4 1e-5", delta.Float(float64(float32(1e-5))), catalog.Float4, "1e-05"},
		{"float4 NaN", delta.Float(math.NaN()), catalog.Float4, "NaN"},
		{"float4 Infinity", delta.Float(math.Inf(1)), catalog.Float4, "Infinity"},
		{"bool", delta.Bool(false), catalog.Bool, "false"},
		{"int8 min", delta.Int(minI8), catalog.Int8, "-9223372036854775808"},
		{"timestamp epoch", delta.Int(0), catalog.Timestamp, "1970-01-01 00:00:00"},
		{"timestamp -1µs", delta.Int(-1), catalog.Timestamp, "1969-12-31 23:59:59.999999"},
		{"timestamp -1.5s", delta.Int(-1_500_000), catalog.Timestamp, "1969-12-31 23:59:58.5"},
		{"timestamptz", delta.Int(1_000_000), catalog.Timestamptz, "1970-01-01 00:00:01+00"},
		{"timestamptz fraction", delta.Int(10), catalog.Timestamptz, "1970-01-01 00:00:00.00001+00"},
		{"date -1", delta.Int(-1), catalog.Date, "1969-12-31"},
		{"date 0", delta.Int(0), catalog.Date, "1970-01-01"},
		{"date 19737", delta.Int(19737), catalog.Date, "2024-01-15"},
		{"text", delta.Str("x"), catalog.Text, "x"},
		{"unknown", delta.Str("lit"), catalog.Unknown, "lit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Format(tc.v, tc.typ))
		})
	}
}

func TestConvert(t *testing.T) {
	I, F, S, B := delta.Int, delta.Float, delta.Str, delta.Bool
	oor := sqlerr.NumericValueOutOfRange
	tests := []struct {
		name     string
		v        delta.Value
		from, to catalog.Type
		want     delta.Value
		code     sqlerr.Code
	}{
		{"int8 to int4", I(maxI4), catalog.Int8, catalog.Int4, I(maxI4), ""},
		{"int8 to int4 over", I(maxI4 + 1), catalog.Int8, catalog.Int4, delta.Value{}, oor},
		{"int8 to int4 under", I(minI4 - 1), catalog.Int8, catalog.Int4, delta.Value{}, oor},
		{"int4 to int2 over", I(maxI2 + 1), catalog.Int4, catalog.Int2, delta.Value{}, oor},
		{"int4 to int2 min", I(minI2), catalog.Int4, catalog.Int2, I(minI2), ""},
		{"int2 to int8", I(-5), catalog.Int2, catalog.Int8, I(-5), ""},
		{"int8 to float8", I(maxI8), catalog.Int8, catalog.Float8, F(9223372036854775807), ""},
		{"int4 to float4 rounds", I(16777217), catalog.Int4, catalog.Float4, F(16777216), ""},
		{"float8 2.5 to int4 rounds half to even", F(2.5), catalog.Float8, catalog.Int4, I(2), ""},
		{"float8 3.5 to int4", F(3.5), catalog.Float8, catalog.Int4, I(4), ""},
		{"float8 -2.5 to int4", F(-2.5), catalog.Float8, catalog.Int4, I(-2), ""},
		{"float8 -3.5 to int8", F(-3.5), catalog.Float8, catalog.Int8, I(-4), ""},
		{"float8 0.5 to int2", F(0.5), catalog.Float8, catalog.Int2, I(0), ""},
		{"float8 1.5 to int2", F(1.5), catalog.Float8, catalog.Int2, I(2), ""},
		{"float8 2.4999 to int4", F(2.4999), catalog.Float8, catalog.Int4, I(2), ""},
		{"float8 2.5001 to int4", F(2.5001), catalog.Float8, catalog.Int4, I(3), ""},
		{"float8 -0.5 to int4", F(-0.5), catalog.Float8, catalog.Int4, I(0), ""},
		{"float4 2.5 to int4", F(2.5), catalog.Float4, catalog.Int4, I(2), ""},
		{"float8 to int2 rounds into range", F(32766.5), catalog.Float8, catalog.Int2, I(32766), ""},
		{"float8 to int2 rounds out of range", F(32767.5), catalog.Float8, catalog.Int2, delta.Value{}, oor},
		{"float8 to int4 at max", F(2147483647.4), catalog.Float8, catalog.Int4, I(maxI4), ""},
		{"float8 to int4 rounds out of range", F(2147483647.5), catalog.Float8, catalog.Int4, delta.Value{}, oor},
		{"float8 to int4 min half rounds to even, in range", F(-2147483648.5), catalog.Float8, catalog.Int4, I(minI4), ""},
		{"float8 to int4 below min", F(-2147483649), catalog.Float8, catalog.Int4, delta.Value{}, oor},
		{"float8 2^63 to int8", F(9223372036854775807), catalog.Float8, catalog.Int8, delta.Value{}, oor},
		{"float8 -2^63 to int8", F(-9223372036854775808), catalog.Float8, catalog.Int8, I(minI8), ""},
		{"float8 -1e19 to int8", F(-1e19), catalog.Float8, catalog.Int8, delta.Value{}, oor},
		{"NaN to int", F(math.NaN()), catalog.Float8, catalog.Int4, delta.Value{}, oor},
		{"Infinity to int", F(math.Inf(1)), catalog.Float8, catalog.Int8, delta.Value{}, oor},
		{"float8 to float4", F(0.1), catalog.Float8, catalog.Float4, F(float64(float32(0.1))), ""},
		{"float8 to float4 overflow", F(1e300), catalog.Float8, catalog.Float4, delta.Value{}, oor},
		{"float8 to float4 negative overflow", F(-1e39), catalog.Float8, catalog.Float4, delta.Value{}, oor},
		{"float8 to float4 underflow", F(1e-300), catalog.Float8, catalog.Float4, delta.Value{}, oor},
		{"float8 infinity to float4", F(math.Inf(-1)), catalog.Float8, catalog.Float4, F(math.Inf(-1)), ""},
		{"float8 zero to float4", F(0), catalog.Float8, catalog.Float4, F(0), ""},
		{"float4 to float8", F(float64(float32(0.1))), catalog.Float4, catalog.Float8, F(float64(float32(0.1))), ""},
		{"bool to int4", B(true), catalog.Bool, catalog.Int4, I(1), ""},
		{"bool false to int4", B(false), catalog.Bool, catalog.Int4, I(0), ""},
		{"int4 to bool", I(5), catalog.Int4, catalog.Bool, B(true), ""},
		{"int4 zero to bool", I(0), catalog.Int4, catalog.Bool, B(false), ""},
		{"text to int4", S(" 12 "), catalog.Text, catalog.Int4, I(12), ""},
		{"text to int4 bad", S("x"), catalog.Text, catalog.Int4, delta.Value{}, sqlerr.InvalidTextRepresentation},
		{"text to int2 over", S("40000"), catalog.Varchar, catalog.Int2, delta.Value{}, oor},
		{"unknown to bool", S("on"), catalog.Unknown, catalog.Bool, B(true), ""},
		{"text to date", S("1969-12-31"), catalog.Text, catalog.Date, I(-1), ""},
		{"int to text", I(-42), catalog.Int8, catalog.Text, S("-42"), ""},
		{"float to text", F(1e15), catalog.Float8, catalog.Text, S("1e+15"), ""},
		{"float4 to text", F(1234567), catalog.Float4, catalog.Varchar, S("1.234567e+06"), ""},
		{"bool to text", B(true), catalog.Bool, catalog.Text, S("true"), ""},
		{"timestamp to text", I(-1), catalog.Timestamp, catalog.Text, S("1969-12-31 23:59:59.999999"), ""},
		{"date to text", I(0), catalog.Date, catalog.Text, S("1970-01-01"), ""},
		{"varchar to text", S("a"), catalog.Varchar, catalog.Text, S("a"), ""},
		{"date to timestamp", I(-1), catalog.Date, catalog.Timestamp, I(-86_400_000_000), ""},
		{"date to timestamptz", I(1), catalog.Date, catalog.Timestamptz, I(86_400_000_000), ""},
		{"timestamp to date floors", I(-1), catalog.Timestamp, catalog.Date, I(-1), ""},
		{"timestamp to date", I(86_400_000_000 + 5), catalog.Timestamp, catalog.Date, I(1), ""},
		{"timestamptz to date midnight", I(-86_400_000_000), catalog.Timestamptz, catalog.Date, I(-1), ""},
		{"timestamp to timestamptz (UTC session)", I(123), catalog.Timestamp, catalog.Timestamptz, I(123), ""},
		{"timestamptz to timestamp", I(-123), catalog.Timestamptz, catalog.Timestamp, I(-123), ""},
		{"same type", I(7), catalog.Int4, catalog.Int4, I(7), ""},
		{"date to int is not a cast", I(1), catalog.Date, catalog.Int4, delta.Value{}, sqlerr.CannotCoerce},
		{"bool to float is not a cast", B(true), catalog.Bool, catalog.Float8, delta.Value{}, sqlerr.CannotCoerce},
		{"int to timestamp is not a cast", I(1), catalog.Int8, catalog.Timestamp, delta.Value{}, sqlerr.CannotCoerce},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Convert(tc.v, tc.from, tc.to)
			if tc.code != "" {
				require.Error(t, err, "converted to %s", Format(got, tc.to))
				require.Equal(t, tc.code, sqlerr.CodeOf(err), err.Error())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.to.Kind(), got.Kind)
		})
	}
	t.Run("NULL converts to NULL of the target kind", func(t *testing.T) {
		for _, to := range []catalog.Type{catalog.Bool, catalog.Int2, catalog.Float4, catalog.Text, catalog.Date} {
			got, err := Convert(delta.Null(delta.KindString), catalog.Text, to)
			require.NoError(t, err)
			require.Equal(t, delta.Null(to.Kind()), got, to.String())
		}
	})
	t.Run("Cast evaluates Convert", func(t *testing.T) {
		c := &Cast{E: f8(2.5), T: catalog.Int8}
		v, err := c.Eval(nil)
		require.NoError(t, err)
		require.Equal(t, I(2), v)
		require.Equal(t, catalog.Int8, c.Type())
		require.Equal(t, "2.5::bigint", c.String())
		_, err = (&Cast{E: boom, T: catalog.Text}).Eval(nil)
		require.Equal(t, sqlerr.DivisionByZero, sqlerr.CodeOf(err))
	})
}

func TestCanCast(t *testing.T) {
	all := []catalog.Type{catalog.Bool, catalog.Int2, catalog.Int4, catalog.Int8, catalog.Float4, catalog.Float8,
		catalog.Text, catalog.Varchar, catalog.Timestamp, catalog.Timestamptz, catalog.Date}
	// Every pair CanCast accepts must convert a sample value without a type error.
	sample := map[catalog.Type]delta.Value{
		catalog.Bool: delta.Bool(true), catalog.Int2: delta.Int(1), catalog.Int4: delta.Int(1), catalog.Int8: delta.Int(1),
		catalog.Float4: delta.Float(1), catalog.Float8: delta.Float(1), catalog.Text: delta.Str("1"),
		catalog.Varchar: delta.Str("1"), catalog.Timestamp: delta.Int(0), catalog.Timestamptz: delta.Int(0),
		catalog.Date: delta.Int(0),
	}
	for _, from := range all {
		for _, to := range all {
			t.Run(from.String()+" to "+to.String(), func(t *testing.T) {
				_, err := Convert(sample[from], from, to)
				if CanCast(from, to) {
					// Text input may not parse ("1" is not a date); that is a value error, not 42846.
					require.NotEqual(t, sqlerr.CannotCoerce, sqlerr.CodeOf(err))
				} else {
					require.Equal(t, sqlerr.CannotCoerce, sqlerr.CodeOf(err))
				}
			})
		}
	}
	require.True(t, CanCast(catalog.Bool, catalog.Int4))
	require.False(t, CanCast(catalog.Bool, catalog.Int8))
	require.False(t, CanCast(catalog.Date, catalog.Int4))
	require.True(t, CanCast(catalog.Date, catalog.Timestamptz))
}

func TestString(t *testing.T) {
	k := &Col{Idx: 0, T: catalog.Int4, Name: "k"}
	tests := []struct {
		e    Expr
		want string
	}{
		{bin(OpAdd, k, i4(1)), "(k + 1)"},
		{bin(OpIsNotDistinct, k, NullOf(catalog.Int4)), "(k IS NOT DISTINCT FROM NULL)"},
		{&Not{E: bin(OpEq, k, i4(2))}, "NOT (k = 2)"},
		{&Neg{E: k}, "-k"},
		{&IsNull{E: k, Not: true}, "k IS NOT NULL"},
		{&In{E: k, List: []Expr{i4(1), i4(2)}, Not: true}, "k NOT IN (1, 2)"},
		{&Case{Whens: []When{{Cond: bin(OpGt, k, i4(0)), Then: txt("pos")}}, Else: NullOf(catalog.Text), T: catalog.Text},
			"CASE WHEN (k > 0) THEN pos ELSE NULL END"},
		{f8(1e15), "1e+15"},
		{bl(true), "true"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			require.Equal(t, tc.want, tc.e.String())
		})
	}
}
