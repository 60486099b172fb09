package exec

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
)

// TestHashAggregateNumeric checks sum, avg, min and max over numeric: exact sums under
// retraction, the display scale of the rows present, avg with numeric division's scale,
// and groups keyed by value (1.0 and 1.00 are one group).
func TestHashAggregateNumeric(t *testing.T) {
	kinds := []delta.Kind{delta.KindNumeric, delta.KindNumeric}
	spec := func(f AggFunc) AggSpec {
		return AggSpec{Func: f, Arg: 1, ArgType: catalog.Numeric}
	}
	h := NewHashAggregate(kinds, []int{0}, []AggSpec{spec(AggSum), spec(AggAvg), spec(AggMin), spec(AggMax), {Func: AggCountStar, Arg: -1}})
	run := func(rows [][2]string, ws []int64) []string {
		t.Helper()
		in := delta.New(kinds)
		for i, r := range rows {
			v := delta.Numeric(r[1])
			if r[1] == "NULL" {
				v = delta.Null(delta.KindNumeric)
			}
			in.AppendRow([]delta.Value{delta.Numeric(r[0]), v}, ws[i])
		}
		out := delta.New(h.OutKinds())
		require.NoError(t, h.Push(t.Context(), 0, in, out))
		require.NoError(t, h.Advance(t.Context(), Tick{}, out))
		var got []string
		for i := 0; i < out.Len(); i++ {
			s := ""
			for c := range out.Cols {
				v := out.Cols[c].Get(i)
				switch {
				case v.Null:
					s += "NULL "
				case v.Kind == delta.KindInt:
					s += itoa(v.I) + " "
				default:
					s += v.S + " "
				}
			}
			got = append(got, s+itoa(out.Weights[i]))
		}
		return got
	}
	require.Equal(t, []string{
		"1.0 3.50 1.7500000000000000 1 2.50 2 1",
	}, run([][2]string{{"1.0", "1"}, {"1.00", "2.50"}}, []int64{1, 1}))

	// 0.125 raises the display scale; retracting it restores both sum and scale exactly.
	require.Equal(t, []string{
		"1.0 3.50 1.7500000000000000 1 2.50 2 -1",
		"1.0 3.625 1.20833333333333333333 0.125 2.50 3 1",
	}, run([][2]string{{"1", "0.125"}}, []int64{1}))
	require.Equal(t, []string{
		"1.0 3.625 1.20833333333333333333 0.125 2.50 3 -1",
		"1.0 3.50 1.7500000000000000 1 2.50 2 1",
	}, run([][2]string{{"1.000", "0.125"}}, []int64{-1}))

	// Removing the 2.50 row leaves scale 0; weights multiply.
	require.Equal(t, []string{
		"1.0 3.50 1.7500000000000000 1 2.50 2 -1",
		"1.0 3 1.00000000000000000000 1 1 3 1",
	}, run([][2]string{{"1", "2.50"}, {"1", "1"}, {"1", "NULL"}}, []int64{-1, 2, 0}))
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
