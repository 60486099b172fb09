package exec

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/decimal"
	"github.com/weirdb/weir/internal/delta"
)

// winKinds are (partition, order key, integer value, float value).
var winKinds = []delta.Kind{delta.KindInt, delta.KindInt, delta.KindInt, delta.KindFloat}

// winAggs are the aggregates the window tests compute, with the result types the
// planner gives them (numeric sum and avg of bigint, as PostgreSQL).
func winAggs() []AggSpec {
	return []AggSpec{
		countStar(), agg(AggCount, 2),
		{Func: AggSum, Arg: 2, ResultType: catalog.Numeric},
		{Func: AggAvg, Arg: 2, ResultType: catalog.Numeric},
		{Func: AggAvg, Arg: 2, ResultType: catalog.Float8},
		agg(AggMin, 2), agg(AggMax, 2),
		agg(AggSum, 3), agg(AggAvg, 3), agg(AggMin, 3), agg(AggMax, 3),
	}
}

// winStream generates rows of winKinds from small domains: partitions 0-2 and NULL,
// order keys 0-5 (ties) and NULL, values with NULLs; multiplicities up to 2.
func winStream(seed uint64) *stream {
	return &stream{
		rnd:   rand.New(rand.NewPCG(seed, 0x3a9)),
		live:  multiset{},
		kinds: winKinds,
		value: func(r *rand.Rand, col int) delta.Value {
			if r.IntN(8) == 0 {
				return delta.Null(winKinds[col])
			}
			switch col {
			case 0:
				return delta.Int(r.Int64N(3))
			case 1:
				return delta.Int(r.Int64N(6))
			case 2:
				return delta.Int(r.Int64N(20) - 5)
			}
			return delta.Float([]float64{0.5, -1.25, 3, 0.1, 1e15}[r.IntN(5)])
		},
	}
}

// oracleWindow computes the window aggregates of rel from scratch: each partition
// sorted (sort keys, then the row encoding), copies expanded, each frame aggregated
// with plain big-number arithmetic.
func oracleWindow(rel multiset, partition []int, order []SortKey, frame WindowFrame) multiset {
	parts := map[string][]*mrow{}
	for _, r := range rel.sorted() {
		k := ""
		for _, c := range partition {
			k += delta.RowKey([]delta.Value{r.vals[c]})
		}
		parts[k] = append(parts[k], r)
	}
	cmpOrder := func(a, b []delta.Value) int { return oracleCompareOrder(order, a, b) }
	out := multiset{}
	for _, rows := range parts {
		slices.SortFunc(rows, func(a, b *mrow) int {
			if c := cmpOrder(a.vals, b.vals); c != 0 {
				return c
			}
			return strings.Compare(delta.RowKey(a.vals), delta.RowKey(b.vals))
		})
		var seq [][]delta.Value
		for _, r := range rows {
			for range r.n {
				seq = append(seq, r.vals)
			}
		}
		for i, row := range seq {
			lo, hi := 0, i
			if frame.Peers {
				for hi+1 < len(seq) && cmpOrder(seq[hi+1], row) == 0 {
					hi++
				}
			} else if frame.Preceding >= 0 {
				lo = max(0, i-int(frame.Preceding))
			}
			out.add(append(slices.Clone(row), oracleFrameAggs(seq[lo:hi+1])...), 1)
		}
	}
	return out
}

// oracleFrameAggs is winAggs over the rows of one frame.
func oracleFrameAggs(frame [][]delta.Value) []delta.Value {
	var isum big.Int
	fsum := new(big.Float).SetPrec(4096)
	var n, nf int64
	imin, imax := delta.Null(delta.KindInt), delta.Null(delta.KindInt)
	fmin, fmax := delta.Null(delta.KindFloat), delta.Null(delta.KindFloat)
	for _, r := range frame {
		if v := r[2]; !v.Null {
			n++
			isum.Add(&isum, big.NewInt(v.I))
			if imin.Null || v.I < imin.I {
				imin = v
			}
			if imax.Null || v.I > imax.I {
				imax = v
			}
		}
		if v := r[3]; !v.Null {
			nf++
			fsum.Add(fsum, big.NewFloat(v.F))
			if fmin.Null || v.F < fmin.F {
				fmin = v
			}
			if fmax.Null || v.F > fmax.F {
				fmax = v
			}
		}
	}
	out := []delta.Value{delta.Int(int64(len(frame))), delta.Int(n)}
	if n == 0 {
		out = append(out, delta.Null(delta.KindNumeric), delta.Null(delta.KindNumeric), delta.Null(delta.KindFloat))
	} else {
		avg, err := decimal.Div(decimal.Decimal{Coef: new(big.Int).Set(&isum)}, decimal.FromInt(n))
		if err != nil {
			panic(err)
		}
		f, _ := new(big.Rat).SetFrac(&isum, big.NewInt(n)).Float64()
		out = append(out, delta.Numeric(isum.String()), expr.NumericValue(avg), delta.Float(f))
	}
	out = append(out, imin, imax)
	if nf == 0 {
		out = append(out, delta.Null(delta.KindFloat), delta.Null(delta.KindFloat))
	} else {
		s, _ := fsum.Float64()
		a, _ := new(big.Float).SetPrec(4096).Quo(fsum, new(big.Float).SetInt64(nf)).Float64()
		out = append(out, delta.Float(s), delta.Float(a))
	}
	return append(out, fmin, fmax)
}

// TestWindowAggOracle pushes random inserts and retractions (multiplicities above 1,
// NULL values, NULL partitions and sort keys, ties) through WindowAggs of several frames
// and checks after every tick that the accumulated output equals oracleWindow over the
// input so far, and that each tick's output is consolidated.
func TestWindowAggOracle(t *testing.T) {
	cases := []struct {
		name      string
		partition []int
		order     []SortKey
		frame     WindowFrame
	}{
		{"rows0", []int{0}, []SortKey{asc(1)}, WindowFrame{Preceding: 0}},
		{"rows1", []int{0}, []SortKey{asc(1)}, WindowFrame{Preceding: 1}},
		{"rows3/desc", []int{0}, []SortKey{desc(1)}, WindowFrame{Preceding: 3}},
		{"rows10/two-keys", []int{0}, []SortKey{asc(1), desc(2)}, WindowFrame{Preceding: 10}},
		{"unbounded", []int{0}, []SortKey{asc(1)}, WindowFrame{Preceding: -1}},
		{"range", []int{0}, []SortKey{asc(1)}, WindowFrame{Preceding: -1, Peers: true}},
		{"range/no-order", []int{0}, nil, WindowFrame{Preceding: -1, Peers: true}},
		{"rows2/no-partition", nil, []SortKey{{Col: 1, NullsFirst: true}}, WindowFrame{Preceding: 2}},
	}
	seeds := uint64(30)
	if testing.Short() {
		seeds = 8
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range seeds {
				s := winStream(seed)
				w := NewWindowAgg(winKinds, tc.partition, tc.order, tc.frame, winAggs())
				got := multiset{}
				for tick := range 40 {
					b := s.next()
					out := delta.New(w.OutKinds())
					require.NoError(t, w.Push(t.Context(), 0, b, out))
					require.NoError(t, w.Advance(t.Context(), Tick{Seq: uint64(tick)}, out))
					requireConsolidated(t, out)
					got.apply(out)
					want := oracleWindow(s.live, tc.partition, tc.order, tc.frame)
					require.Equal(t, want.lines(), got.lines(), "seed %d, tick %d", seed, tick)
				}
			}
		})
	}
}

// requireConsolidated checks that no row appears twice in b and no weight is 0.
func requireConsolidated(t *testing.T, b *delta.Batch) {
	t.Helper()
	seen := map[string]bool{}
	var row []delta.Value
	for i, w := range b.Weights {
		require.NotZero(t, w)
		row = b.Row(i, row)
		k := delta.RowKey(row)
		require.False(t, seen[k], "row %v twice in one tick's output", row)
		seen[k] = true
	}
}

// TestWindowAgg checks small cases by hand: a sliding sum, copies of a row getting
// their own frames, and a retraction that shifts the frames of the rows after it.
func TestWindowAgg(t *testing.T) {
	w := NewWindowAgg(ints3, []int{0}, []SortKey{asc(1)}, WindowFrame{Preceding: 1},
		[]AggSpec{{Func: AggSum, Arg: 2, ResultType: catalog.Numeric}, countStar()})
	step := func(in string) []string {
		out := delta.New(w.OutKinds())
		require.NoError(t, w.Push(t.Context(), 0, rows(t, ints3, in), out))
		require.NoError(t, w.Advance(t.Context(), Tick{}, out))
		return lines(out)
	}
	require.Equal(t, []string{
		"1 1 10 10 1 +1",
		"1 2 20 30 2 +1",
		"1 3 30 50 2 +1",
		"2 1 5 5 1 +1",
	}, step("1 1 10 +1\n1 2 20 +1\n1 3 30 +1\n2 1 5 +1"))
	// Retracting the first row shifts the frame of the second.
	require.Equal(t, []string{
		"1 1 10 10 1 -1",
		"1 2 20 20 1 +1",
		"1 2 20 30 2 -1",
	}, step("1 1 10 -1"))
	// A second copy of a row is its own frame position: (20) then (20, 20).
	require.Equal(t, []string{"1 2 20 40 2 +1"}, step("1 2 20 +1"))
	require.Equal(t, int64(3), w.StateRows())
	require.Equal(t, "WindowAgg(partition=#0; order=#1; rows 1 preceding; sum(#2), count(*))", w.String())
	// An unchanged partition emits nothing.
	require.Empty(t, step("2 1 5 +1\n2 1 5 -1"))
}

// TestWindowAggConfigErrors checks that bad configurations fail the first call.
func TestWindowAggConfigErrors(t *testing.T) {
	for _, w := range []*WindowAgg{
		NewWindowAgg(ints2, []int{2}, nil, WindowFrame{Preceding: 1}, []AggSpec{countStar()}),
		NewWindowAgg(ints2, nil, []SortKey{asc(5)}, WindowFrame{Preceding: 1}, []AggSpec{countStar()}),
		NewWindowAgg(ints2, nil, nil, WindowFrame{Preceding: 3, Peers: true}, []AggSpec{countStar()}),
		NewWindowAgg(ints2, nil, nil, WindowFrame{Preceding: 1}, []AggSpec{distinct(AggCount, 1)}),
		NewWindowAgg(ints2, nil, nil, WindowFrame{Preceding: 1}, []AggSpec{agg(AggSum, 7)}),
	} {
		err := w.Advance(t.Context(), Tick{}, delta.New(w.OutKinds()))
		require.Error(t, err, fmt.Sprint(w))
	}
}

// TestWindowAggRowErrors checks that a data exception sets the partition aside (its
// rows retracted, the error reported with the partition key) until it is resolved.
func TestWindowAggRowErrors(t *testing.T) {
	w := NewWindowAgg(ints3, []int{0}, []SortKey{asc(1)}, WindowFrame{Preceding: 1}, []AggSpec{agg(AggSum, 2)})
	errs := &rowErrors{b: delta.New(RowErrorKinds)}
	w.setErrors(errs)
	step := func(in string) ([]string, []string) {
		out := delta.New(w.OutKinds())
		require.NoError(t, w.Push(t.Context(), 0, rows(t, ints3, in), out))
		require.NoError(t, w.Advance(t.Context(), Tick{}, out))
		e := lines(errs.b)
		errs.b.Reset()
		return lines(out), e
	}
	out, e := step("1 1 9223372036854775807 +1\n2 1 5 +1")
	require.Equal(t, []string{"1 1 9223372036854775807 9223372036854775807 +1", "2 1 5 5 +1"}, out)
	require.Empty(t, e)
	out, e = step("1 2 1 +1")
	require.Equal(t, []string{"1 1 9223372036854775807 9223372036854775807 -1"}, out)
	require.Len(t, e, 1)
	require.Contains(t, e[0], "22003")
	require.Contains(t, e[0], "(1) 0 +1")
	saved := w.AppendState(nil)
	twin := NewWindowAgg(ints3, []int{0}, []SortKey{asc(1)}, WindowFrame{Preceding: 1}, []AggSpec{agg(AggSum, 2)})
	require.NoError(t, twin.LoadState(saved))
	require.Equal(t, saved, twin.AppendState(nil))
	out, e = step("1 1 9223372036854775807 -1")
	require.Equal(t, []string{"1 2 1 1 +1"}, out)
	require.Len(t, e, 1)
	require.Contains(t, e[0], "(1) 0 -1")
}
