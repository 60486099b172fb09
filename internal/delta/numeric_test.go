package delta_test

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/delta"
)

func TestNumericKeyNormalises(t *testing.T) {
	equal := [][]string{
		{"1", "1.0", "1.00"},
		{"0", "0.000", "-0", "-0.00"},
		{"-2.5", "-2.50"},
		{"100", "100.000"},
	}
	for _, group := range equal {
		want := delta.RowKey([]delta.Value{delta.Numeric(group[0])})
		for _, s := range group[1:] {
			require.Equal(t, want, delta.RowKey([]delta.Value{delta.Numeric(s)}), "%s vs %s", group[0], s)
			require.Equal(t, 0, delta.Compare(delta.Numeric(group[0]), delta.Numeric(s)))
		}
	}
	// Different values differ, and numerics never collide with equal-looking text.
	require.NotEqual(t, delta.RowKey([]delta.Value{delta.Numeric("10")}), delta.RowKey([]delta.Value{delta.Numeric("1")}))
	require.NotEqual(t, delta.RowKey([]delta.Value{delta.Numeric("1")}), delta.RowKey([]delta.Value{delta.Str("1")}))
}

func TestNumericCompare(t *testing.T) {
	ordered := []string{"-100.5", "-100", "-9.99", "-0.5", "-0.05", "0", "0.001", "0.01", "0.1", "0.99", "1", "1.5", "9.999", "10", "99.5", "100"}
	for i := range ordered {
		for j := range ordered {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			require.Equal(t, want, delta.Compare(delta.Numeric(ordered[i]), delta.Numeric(ordered[j])), "%s vs %s", ordered[i], ordered[j])
		}
	}
	require.Equal(t, -1, delta.Compare(delta.Null(delta.KindNumeric), delta.Numeric("-5")))
}

func TestNumericVectorAndConsolidate(t *testing.T) {
	b := delta.New([]delta.Kind{delta.KindNumeric})
	b.AppendRow([]delta.Value{delta.Numeric("1.0")}, 1)
	b.AppendRow([]delta.Value{delta.Null(delta.KindNumeric)}, 1)
	b.AppendRow([]delta.Value{delta.Numeric("1.00")}, -1)
	require.Equal(t, 3, b.Cols[0].Len())
	require.Equal(t, delta.Numeric("1.00"), b.Cols[0].Get(2))
	require.True(t, b.Cols[0].Get(1).Null)
	b.Consolidate()
	require.Equal(t, 1, b.Len())
	require.True(t, b.Cols[0].Get(0).Null)
	require.Equal(t, "numeric", delta.KindNumeric.String())
}

// TestNumericInt compares NumericInt with strconv on edge values and random integers of
// every length: it must agree wherever it accepts, and accept every integer text of at
// most 18 digits.
func TestNumericInt(t *testing.T) {
	cases := []string{"0", "-0", "7", "-7", "999999999999999999", "-999999999999999999",
		"1000000000000000000", "9223372036854775807", "-9223372036854775808", "", "-", "+1", "1.5", "1e3", "12a", " 1", "NaN", "--1", "1-"}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		digits := 1 + rng.IntN(20)
		s := strconv.FormatUint(rng.Uint64(), 10)
		if len(s) > digits {
			s = s[:digits]
		}
		if rng.IntN(2) == 0 {
			s = "-" + s
		}
		cases = append(cases, s)
	}
	for _, s := range cases {
		got, ok := delta.NumericInt(s)
		want, err := strconv.ParseInt(s, 10, 64)
		digits := strings.TrimPrefix(s, "-")
		short := len(digits) > 0 && len(digits) <= 18 && !strings.HasPrefix(s, "+") && err == nil
		require.Equal(t, short, ok, "%q", s)
		if ok {
			require.Equal(t, want, got, "%q", s)
		}
	}
}
