package exec

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
)

// denseCases are aggregates whose groups fit denseGroups, with the input they see.
var denseCases = []struct {
	name       string
	aggs       []AggSpec
	insertOnly bool
	keys       int64 // group keys are drawn from [0, keys), and NULL
}{
	{"counts and sums, few groups", []AggSpec{countStar(), agg(AggCount, 1),
		{Func: AggSum, Arg: 1, ResultType: catalog.Numeric},
		{Func: AggSum, Arg: 1, ResultType: catalog.Int4}, // out of range → row errors
		{Func: AggAvg, Arg: 1}}, false, 12},
	{"count and sum, many groups", []AggSpec{countStar(), {Func: AggSum, Arg: 1, ResultType: catalog.Numeric}}, false, 3000},
	{"sum as float, many groups", []AggSpec{{Func: AggSum, Arg: 1, ResultType: catalog.Float8}, agg(AggCount, 1)}, false, 500},
	{"insert-only min and max", []AggSpec{agg(AggMin, 1), agg(AggMax, 1), countStar(),
		{Func: AggSum, Arg: 1, ResultType: catalog.Int8}}, true, 300}, // sums past int64 → row errors
}

// TestDenseGroupsMatchGeneral runs each case on a HashAggregate whose groups are dense
// and on one whose groups are *groups, over random ticks with retractions (valid and
// invalid), NULL keys and values, overflowing sums and groups that empty and come back,
// and requires the same output, row errors and state rows every tick. Every few ticks
// each takes up the other's checkpoint, at times between a Push and its Advance, so both
// directions of the state conversion run with dirty and held-back groups.
func TestDenseGroupsMatchGeneral(t *testing.T) {
	ctx := context.Background()
	kinds := []delta.Kind{delta.KindInt, delta.KindInt}
	for _, tc := range denseCases {
		for seed := range uint64(6) {
			t.Run(fmt.Sprintf("%s/seed=%d", tc.name, seed), func(t *testing.T) {
				r := rand.New(rand.NewPCG(seed, 77))
				var opts []AggOption
				if tc.insertOnly {
					opts = append(opts, InsertOnly())
				}
				build := func(dense bool) (*HashAggregate, *rowErrors) {
					o := opts
					if !dense {
						o = append(o[:len(o):len(o)], noDenseGroups())
					}
					h := NewHashAggregate(kinds, []int{0}, tc.aggs, o...)
					errs := &rowErrors{b: delta.New(RowErrorKinds)}
					h.setErrors(errs)
					require.Equal(t, dense, h.dense != nil)
					return h, errs
				}
				dh, derrs := build(true)
				gh, gerrs := build(false)
				var live [][]delta.Value // rows inserted and not yet retracted
				value := func() delta.Value {
					switch x := r.IntN(20); {
					case x == 0:
						return delta.Null(delta.KindInt)
					case x == 1 && !tc.insertOnly:
						return delta.Int(r.Int64N(1<<40) - 1<<39)
					case x == 1:
						return delta.Int(math.MaxInt64 - r.Int64N(10))
					}
					return delta.Int(r.Int64N(2000) - 1000)
				}
				for tick := range 120 {
					b := delta.New(kinds)
					for range r.IntN(300) {
						switch {
						case !tc.insertOnly && len(live) > 0 && r.IntN(3) == 0:
							i := r.IntN(len(live))
							b.AppendRow(live[i], -1)
							live[i] = live[len(live)-1]
							live = live[:len(live)-1]
						case !tc.insertOnly && r.IntN(100) == 0: // never inserted
							b.AppendRow([]delta.Value{delta.Int(r.Int64N(tc.keys)), value()}, -1)
						default:
							k := delta.Int(r.Int64N(tc.keys))
							if r.IntN(30) == 0 {
								k = delta.Null(delta.KindInt)
							}
							row := []delta.Value{k, value()}
							b.AppendRow(row, 1)
							live = append(live, row)
						}
					}
					require.NoError(t, dh.Push(ctx, 0, b, nil))
					require.NoError(t, gh.Push(ctx, 0, b, nil))
					if tick%7 == 3 { // swap checkpoints between Push and Advance
						dh, gh, derrs, gerrs = swapStates(t, build, dh, gh)
					}
					dout, gout := delta.New(dh.OutKinds()), delta.New(gh.OutKinds())
					derrs.b.Reset()
					gerrs.b.Reset()
					require.NoError(t, dh.Advance(ctx, Tick{Seq: uint64(tick + 1)}, dout))
					require.NoError(t, gh.Advance(ctx, Tick{Seq: uint64(tick + 1)}, gout))
					require.Equal(t, batchLines(gout), batchLines(dout), "tick %d output", tick)
					require.Equal(t, batchLines(gerrs.b), batchLines(derrs.b), "tick %d row errors", tick)
					require.Equal(t, gh.StateRows(), dh.StateRows(), "tick %d state rows", tick)
					if tick%11 == 5 {
						dh, gh, derrs, gerrs = swapStates(t, build, dh, gh)
					}
				}
			})
		}
	}
}

// swapStates loads the dense aggregate's checkpoint into a fresh general one and the
// general one's into a fresh dense one.
func swapStates(t *testing.T, build func(bool) (*HashAggregate, *rowErrors), dh, gh *HashAggregate) (*HashAggregate, *HashAggregate, *rowErrors, *rowErrors) {
	t.Helper()
	nd, nderrs := build(true)
	ng, ngerrs := build(false)
	require.NoError(t, nd.LoadState(gh.AppendState(nil)))
	require.NoError(t, ng.LoadState(dh.AppendState(nil)))
	return nd, ng, nderrs, ngerrs
}

// batchLines renders b's rows and weights in order.
func batchLines(b *delta.Batch) []string {
	var out []string
	for i := range b.Len() {
		out = append(out, fmt.Sprintf("%v %+d", b.Row(i, nil), b.Weights[i]))
	}
	return out
}

// TestDenseGroupsFit checks which aggregates take the dense table.
func TestDenseGroupsFit(t *testing.T) {
	ints := []delta.Kind{delta.KindInt, delta.KindInt}
	mixed := []delta.Kind{delta.KindInt, delta.KindFloat, delta.KindString}
	tests := []struct {
		in    []delta.Kind
		group []int
		aggs  []AggSpec
		opts  []AggOption
		dense bool
	}{
		{ints, []int{0}, []AggSpec{countStar(), agg(AggSum, 1), agg(AggAvg, 1)}, nil, true},
		{mixed, []int{0}, []AggSpec{agg(AggCount, 2)}, nil, true},
		{ints, []int{0}, []AggSpec{agg(AggMax, 1)}, []AggOption{InsertOnly()}, true},
		{ints, []int{0}, []AggSpec{agg(AggMax, 1)}, nil, false},                                      // a multiset
		{ints, []int{0}, []AggSpec{distinct(AggCount, 1)}, nil, false},                               // a multiset
		{ints, []int{0}, []AggSpec{{Func: AggAvg, Arg: 1, ResultType: catalog.Numeric}}, nil, false}, // scale varies
		{mixed, []int{0}, []AggSpec{agg(AggSum, 1)}, nil, false},                                     // float sum
		{mixed, []int{2}, []AggSpec{countStar()}, nil, false},                                        // text key
		{ints, []int{0, 1}, []AggSpec{countStar()}, nil, false},                                      // two keys
		{ints, nil, []AggSpec{countStar()}, nil, false},                                              // global
	}
	for i, tc := range tests {
		h := NewHashAggregate(tc.in, tc.group, tc.aggs, tc.opts...)
		require.Equal(t, tc.dense, h.dense != nil, "case %d: %s", i, h)
	}
	h := NewHashAggregate(ints, []int{0}, []AggSpec{countStar()})
	h.SetExpiry(Expiry{Col: 0})
	require.Nil(t, h.dense, "expiry keeps *groups")
}
