package decimal_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/decimal"
	"github.com/weirdb/weir/internal/sqlerr"
)

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in, want string
		code     sqlerr.Code
	}{
		{"12.50", "12.50", ""},
		{"  -0.000 ", "0.000", ""},
		{"+7", "7", ""},
		{".5", "0.5", ""},
		{"5.", "5", ""},
		{"1.5e3", "1500", ""},
		{"1.5E-3", "0.0015", ""},
		{"-1e-2", "-0.01", ""},
		{"123456789012345678901234567890.123", "123456789012345678901234567890.123", ""},
		{"0001.10", "1.10", ""},
		{"1.2.3", "", sqlerr.InvalidTextRepresentation},
		{"", "", sqlerr.InvalidTextRepresentation},
		{".", "", sqlerr.InvalidTextRepresentation},
		{"1e", "", sqlerr.InvalidTextRepresentation},
		{"abc", "", sqlerr.InvalidTextRepresentation},
		{"1_000", "", sqlerr.InvalidTextRepresentation},
		{"1e1001", "", sqlerr.InvalidTextRepresentation},
		{"1e99999999999", "", sqlerr.InvalidTextRepresentation},
		{"NaN", "", sqlerr.FeatureNotSupported},
		{"-Infinity", "", sqlerr.FeatureNotSupported},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			d, err := decimal.Parse(tc.in)
			if tc.code != "" {
				require.Error(t, err)
				require.Equal(t, tc.code, sqlerr.CodeOf(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, d.String())
		})
	}
}

func TestParseSmallestExponent(t *testing.T) {
	d, err := decimal.Parse("1e-1000")
	require.NoError(t, err)
	require.Equal(t, "0."+strings.Repeat("0", 999)+"1", d.String())
}

func TestArithmeticScales(t *testing.T) {
	p := decimal.MustParse
	div := func(a, b string) string {
		q, err := decimal.Div(p(a), p(b))
		require.NoError(t, err)
		return q.String()
	}
	mod := func(a, b string) string {
		q, err := decimal.Mod(p(a), p(b))
		require.NoError(t, err)
		return q.String()
	}
	tests := []struct{ name, got, want string }{
		{"add keeps the larger scale", decimal.Add(p("12.50"), p("0.1")).String(), "12.60"},
		{"sub keeps the larger scale", decimal.Sub(p("1"), p("0.001")).String(), "0.999"},
		{"mul adds the scales", decimal.Mul(p("12.50"), p("0.10")).String(), "1.2500"},
		{"neg zero", decimal.Neg(p("0.0")).String(), "0.0"},
		{"1/3.0", div("1", "3.0"), "0.33333333333333333333"},
		{"2/3.0 rounds half away", div("2", "3.0"), "0.66666666666666666667"},
		{"-2/3.0", div("-2", "3.0"), "-0.66666666666666666667"},
		{"100.0/3", div("100.0", "3"), "33.3333333333333333"},
		{"6.0/2", div("6.0", "2"), "3.0000000000000000"},
		{"big / 3.5", div("12345678901234567890", "3.5"), "3527336828924162254.3"},
		{"0.001/3", div("0.001", "3"), "0.00033333333333333333"},
		{"10.5/0.1", div("10.5", "0.1"), "105.0000000000000000"},
		{"0/7", div("0", "7"), "0.00000000000000000000"},
		{"scale of the dividend wins", div("1.00000000000000000000000", "2"), "0.50000000000000000000000"},
		{"mod", mod("-2.50", "0.3"), "-0.10"},
		{"mod integer", mod("7", "-3"), "1"},
		{"round half away", p("-2.5").Round(0).String(), "-3"},
		{"round pads", p("1.5").Round(3).String(), "1.500"},
		{"trunc", p("-2.59").Trunc(1).String(), "-2.5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.got)
		})
	}
	_, err := decimal.Div(p("1.5"), p("0.00"))
	require.Equal(t, sqlerr.DivisionByZero, sqlerr.CodeOf(err))
	_, err = decimal.Mod(p("1.5"), p("0"))
	require.Equal(t, sqlerr.DivisionByZero, sqlerr.CodeOf(err))
}

func TestDivScale(t *testing.T) {
	p := decimal.MustParse
	tests := []struct {
		a, b string
		want int32
	}{
		{"1", "3", 20},                     // first digits 1 <= 3: one more digit
		{"7", "2", 16},                     // 7 > 2
		{"10000", "3", 16},                 // weight 1 vs 0; first digit 1 <= 3
		{"0.0001", "1", 24},                // weight -1: four more digits
		{"12345678901234567890", "3.5", 1}, // never below an operand's scale
		{"0", "5", 20},                     // zero has first digit 0 <= 5
	}
	for _, tc := range tests {
		t.Run(tc.a+"/"+tc.b, func(t *testing.T) {
			require.Equal(t, tc.want, decimal.DivScale(p(tc.a), p(tc.b)))
		})
	}
}

func TestConversions(t *testing.T) {
	p := decimal.MustParse
	for in, want := range map[string]int64{"2.5": 3, "-2.5": -3, "2.49": 2, "-0.5": -1, "0.4": 0} {
		got, ok := p(in).Int64()
		require.True(t, ok)
		require.Equal(t, want, got, in)
	}
	_, ok := p("9223372036854775807.5").Int64()
	require.False(t, ok)
	require.InDelta(t, 0.1, p("0.1").Float64(), 0)

	f, err := decimal.FromFloat(1.0/3, 15)
	require.NoError(t, err)
	require.Equal(t, "0.333333333333333", f.String())
	f, err = decimal.FromFloat(1e20, 15)
	require.NoError(t, err)
	require.Equal(t, "100000000000000000000", f.String())
	_, err = decimal.FromFloat(0*1e308*1e308, 15)
	require.NoError(t, err)
}

func TestApplyTypmod(t *testing.T) {
	p := decimal.MustParse
	tests := []struct {
		in         string
		prec, sc   int32
		want       string
		overflowed bool
	}{
		{"12.5", 10, 2, "12.50", false},
		{"7.125", 10, 2, "7.13", false},
		{"-3.005", 10, 2, "-3.01", false},
		{"99999999.994", 10, 2, "99999999.99", false},
		{"99999999.995", 10, 2, "", true},
		{"123456789.5", 10, 2, "", true},
		{"9.5", 1, 0, "", true},
		{"0.001", 3, 3, "0.001", false},
		{"1", 3, 3, "", true},
		{"0", 1, 0, "0", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := p(tc.in).ApplyTypmod(tc.prec, tc.sc)
			if tc.overflowed {
				require.Equal(t, sqlerr.NumericValueOutOfRange, sqlerr.CodeOf(err))
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got.String())
		})
	}
}

func TestCmp(t *testing.T) {
	p := decimal.MustParse
	require.Equal(t, 0, decimal.Cmp(p("1.0"), p("1.00")))
	require.Equal(t, -1, decimal.Cmp(p("-1.5"), p("1")))
	require.Equal(t, 1, decimal.Cmp(p("0.10"), p("0.09999")))
}
