package exec

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

func countStar() AggSpec             { return AggSpec{Func: AggCountStar, Arg: -1} }
func agg(f AggFunc, arg int) AggSpec { return AggSpec{Func: f, Arg: arg} }
func distinct(f AggFunc, arg int) AggSpec {
	return AggSpec{Func: f, Arg: arg, Distinct: true}
}

func TestHashAggregate(t *testing.T) {
	intFloat := []delta.Kind{delta.KindInt, delta.KindFloat}
	intIntFloat := []delta.Kind{delta.KindInt, delta.KindInt, delta.KindFloat}
	intStr := []delta.Kind{delta.KindInt, delta.KindString}
	tests := []struct {
		name  string
		in    []delta.Kind
		group []int
		aggs  []AggSpec
		ticks []tick
	}{
		{
			name: "update via retraction and insertion", in: ints2, group: []int{0},
			aggs: []AggSpec{countStar(), agg(AggSum, 1)},
			ticks: []tick{
				{push: []input{L("1 10 +1\n1 5 +1")}, want: "1 2 15 +1"},
				{push: []input{L("1 10 -1")}, want: "1 2 15 -1\n1 1 5 +1"},
				{push: []input{L("2 7 +1")}, want: "2 1 7 +1"},
				{push: []input{L("1 5 -1")}, want: "1 1 5 -1"},
				{},
				{push: []input{L("1 4 +1")}, want: "1 1 4 +1"},
			},
		},
		{
			name: "min and max after retracting the current extreme", in: ints2, group: []int{0},
			aggs: []AggSpec{agg(AggMin, 1), agg(AggMax, 1)},
			ticks: []tick{
				{push: []input{L("1 3 +1\n1 5 +1\n1 9 +1\n1 9 +1")}, want: "1 3 9 +1"},
				{push: []input{L("1 3 -1")}, want: "1 3 9 -1\n1 5 9 +1"},
				{push: []input{L("1 9 -1")}}, // one 9 is left
				{push: []input{L("1 9 -1")}, want: "1 5 9 -1\n1 5 5 +1"},
				{push: []input{L("1 1 +1\n1 5 -1")}, want: "1 5 5 -1\n1 1 1 +1"},
				{push: []input{L("1 1 -1")}, want: "1 1 1 -1"},
				{push: []input{L("1 4 +1")}, want: "1 4 4 +1"},
				// retract the minimum and insert a new one in the same tick
				{push: []input{L("1 2 +1\n1 4 -1\n1 6 +1")}, want: "1 4 4 -1\n1 2 6 +1"},
			},
		},
		{
			name: "count distinct with duplicates and retractions", in: ints2, group: []int{0},
			aggs: []AggSpec{distinct(AggCount, 1), agg(AggCount, 1), countStar()},
			ticks: []tick{
				{push: []input{L("1 7 +1\n1 7 +1\n1 8 +1\n1 NULL +1")}, want: "1 2 3 4 +1"},
				{push: []input{L("1 7 -1")}, want: "1 2 3 4 -1\n1 2 2 3 +1"},
				{push: []input{L("1 7 -1")}, want: "1 2 2 3 -1\n1 1 1 2 +1"},
				{push: []input{L("1 8 -1\n1 9 +2")}, want: "1 1 1 2 -1\n1 1 2 3 +1"},
				{push: []input{L("1 9 -2\n1 NULL -1")}, want: "1 1 2 3 -1"},
			},
		},
		{
			name: "sum and avg distinct", in: ints2, group: []int{0},
			aggs: []AggSpec{distinct(AggSum, 1), distinct(AggAvg, 1), agg(AggSum, 1), agg(AggAvg, 1)},
			ticks: []tick{
				{push: []input{L("1 2 +1\n1 2 +1\n1 4 +1")}, want: "1 6 3 8 2.6666666666666665 +1"},
				{push: []input{L("1 2 -1")}, want: "1 6 3 8 2.6666666666666665 -1\n1 6 3 6 3 +1"},
				{push: []input{L("1 2 -1")}, want: "1 6 3 6 3 -1\n1 4 4 4 4 +1"},
			},
		},
		{
			name: "avg over integers and floats", in: intIntFloat, group: []int{0},
			aggs: []AggSpec{agg(AggAvg, 1), agg(AggAvg, 2), agg(AggSum, 2)},
			ticks: []tick{
				{push: []input{L("1 1 0.5 +1\n1 2 NULL +1")}, want: "1 1.5 0.5 0.5 +1"},
				{push: []input{L("1 1 0.5 -1")}, want: "1 1.5 0.5 0.5 -1\n1 2 NULL NULL +1"},
				{push: []input{L("1 -7 1.25 +2")}, want: "1 2 NULL NULL -1\n1 -4 1.25 2.5 +1"},
			},
		},
		{
			name: "sum overflow raises 22003", in: ints2, group: []int{0},
			aggs: []AggSpec{agg(AggSum, 1)},
			ticks: []tick{
				{push: []input{L("1 9223372036854775807 +1")}, want: "1 9223372036854775807 +1"},
				{push: []input{L("1 1 +1")}, code: sqlerr.NumericValueOutOfRange},
			},
		},
		{
			name: "negative sum overflow through a weight raises 22003", in: ints2, group: []int{0},
			aggs: []AggSpec{agg(AggSum, 1)},
			ticks: []tick{
				{push: []input{L("1 -4611686018427387905 +2")}, code: sqlerr.NumericValueOutOfRange},
			},
		},
		{
			name: "sum back in range by the end of the tick is no error", in: ints2, group: []int{0},
			aggs: []AggSpec{agg(AggSum, 1), agg(AggAvg, 1)},
			ticks: []tick{
				{push: []input{L("1 9223372036854775807 +1\n1 1 +1"), L("1 1 -1")}, want: "1 9223372036854775807 9223372036854775807 +1"},
				{push: []input{L("1 9223372036854775807 +1\n1 -9223372036854775807 +2")}, want: "1 9223372036854775807 9223372036854775807 -1\n1 0 0 +1"},
			},
		},
		{
			name: "float sum overflow raises 22003", in: intFloat, group: []int{0},
			aggs: []AggSpec{agg(AggSum, 1)},
			ticks: []tick{
				{push: []input{L("1 1.7976931348623157e308 +2")}, code: sqlerr.NumericValueOutOfRange},
			},
		},
		{
			name: "global aggregate on empty input and after all rows are retracted", in: ints2,
			aggs: []AggSpec{countStar(), agg(AggSum, 1), agg(AggMin, 1), agg(AggAvg, 1), distinct(AggCount, 1)},
			ticks: []tick{
				{want: "0 NULL NULL NULL 0 +1"},
				{},
				{push: []input{L("1 5 +1\n2 5 +1")}, want: "0 NULL NULL NULL 0 -1\n2 10 5 5 1 +1"},
				{push: []input{L("1 5 -1\n2 5 -1")}, want: "2 10 5 5 1 -1\n0 NULL NULL NULL 0 +1"},
				{push: []input{L("1 5 +1\n1 5 -1")}},
				{},
			},
		},
		{
			name: "NULL group keys group together", in: ints2, group: []int{0},
			aggs: []AggSpec{countStar(), agg(AggSum, 1)},
			ticks: []tick{
				{push: []input{L("NULL 1 +1\nNULL 2 +1\n1 3 +1")}, want: "NULL 2 3 +1\n1 1 3 +1"},
				{push: []input{L("NULL 1 -1")}, want: "NULL 2 3 -1\nNULL 1 2 +1"},
				{push: []input{L("NULL 2 -1")}, want: "NULL 1 2 -1"},
			},
		},
		{
			name: "two group columns with NULLs", in: ints3, group: []int{0, 1},
			aggs: []AggSpec{countStar(), agg(AggSum, 2)},
			ticks: []tick{
				{
					push: []input{L("1 1 5 +1\n1 2 6 +1\n1 1 7 +1\nNULL 1 1 +1\nNULL NULL 2 +1\nNULL NULL 3 +1")},
					want: "1 1 2 12 +1\n1 2 1 6 +1\nNULL 1 1 1 +1\nNULL NULL 2 5 +1",
				},
			},
		},
		{
			name: "weights of two", in: ints2, group: []int{0},
			aggs: []AggSpec{countStar(), agg(AggSum, 1), agg(AggMin, 1), distinct(AggCount, 1), agg(AggAvg, 1)},
			ticks: []tick{
				{push: []input{L("1 5 +2\n1 6 +1")}, want: "1 3 16 5 2 5.333333333333333 +1"},
				{push: []input{L("1 5 -2")}, want: "1 3 16 5 2 5.333333333333333 -1\n1 1 6 6 1 6 +1"},
				{push: []input{L("1 6 -1\n1 6 +2")}, want: "1 1 6 6 1 6 -1\n1 2 12 6 1 6 +1"},
				{push: []input{L("1 6 -2")}, want: "1 2 12 6 1 6 -1"},
			},
		},
		{
			name: "an unchanged row is not emitted", in: ints2, group: []int{0},
			aggs: []AggSpec{countStar(), agg(AggMax, 1)},
			ticks: []tick{
				{push: []input{L("1 5 +1")}, want: "1 1 5 +1"},
				{push: []input{L("1 5 -1\n1 5 +1")}},
				{push: []input{L("1 4 +1\n1 5 -1"), L("1 5 +1\n1 4 -1")}},
				{push: []input{L("2 1 +1\n2 1 -1")}}, // a group born and gone within a tick
			},
		},
		{
			name: "float sums are exact under retraction", in: intFloat, group: []int{0},
			aggs: []AggSpec{agg(AggSum, 1), agg(AggAvg, 1)},
			ticks: []tick{
				{push: []input{L("1 1e20 +1\n1 1 +1")}, want: "1 1e+20 5e+19 +1"},
				{push: []input{L("1 1e20 -1")}, want: "1 1e+20 5e+19 -1\n1 1 1 +1"},
				{push: []input{L("1 0.1 +1\n1 0.2 +1\n1 0.1 -1\n1 1 -1")}, want: "1 1 1 -1\n1 0.2 0.2 +1"},
				{push: []input{L("1 Inf +1")}, want: "1 0.2 0.2 -1\n1 +Inf +Inf +1"},
				{push: []input{L("1 -Inf +1")}, want: "1 +Inf +Inf -1\n1 NaN NaN +1"},
				{push: []input{L("1 Inf -1\n1 -Inf -1")}, want: "1 NaN NaN -1\n1 0.2 0.2 +1"},
			},
		},
		{
			name: "min and max over text", in: intStr, group: []int{0},
			aggs: []AggSpec{agg(AggMin, 1), agg(AggMax, 1), distinct(AggCount, 1)},
			ticks: []tick{
				{push: []input{L("1 pear +1\n1 apple +1\n1 fig +1\n1 '' +1")}, want: "1 '' pear 4 +1"},
				{push: []input{L("1 '' -1\n1 apple -1")}, want: "1 '' pear 4 -1\n1 fig pear 2 +1"},
			},
		},
		{
			name: "count and sum ignore NULLs", in: ints2, group: []int{0},
			aggs: []AggSpec{agg(AggCount, 1), agg(AggSum, 1), agg(AggMax, 1), countStar()},
			ticks: []tick{
				{push: []input{L("1 NULL +1")}, want: "1 0 NULL NULL 1 +1"},
				{push: []input{L("1 3 +1")}, want: "1 0 NULL NULL 1 -1\n1 1 3 3 2 +1"},
				{push: []input{L("1 3 -1")}, want: "1 1 3 3 2 -1\n1 0 NULL NULL 1 +1"},
			},
		},
		{
			name: "sum over text is a configuration error", in: intStr, group: []int{0},
			aggs:  []AggSpec{agg(AggSum, 1)},
			ticks: []tick{{push: []input{L("1 a +1")}, code: sqlerr.Internal}},
		},
		{
			name: "group column out of range is a configuration error", in: ints2, group: []int{2},
			aggs:  []AggSpec{countStar()},
			ticks: []tick{{code: sqlerr.Internal}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHashAggregate(tc.in, tc.group, tc.aggs)
			script(t, h, [][]delta.Kind{tc.in}, tc.ticks, true)
		})
	}
}

func TestHashAggregateForgetsEmptyGroups(t *testing.T) {
	for _, group := range [][]int{{0}, nil} {
		h := NewHashAggregate(ints2, group, []AggSpec{
			countStar(), agg(AggSum, 1), agg(AggMin, 1), distinct(AggAvg, 1), agg(AggCount, 1),
		})
		script(t, h, [][]delta.Kind{ints2}, []tick{
			{push: []input{L("1 1 +1\n2 2 +2\n3 NULL +1\nNULL 4 +1")}, want: map[bool]string{
				true:  "1 1 1 1 1 1 +1\n2 2 4 2 2 2 +1\n3 1 NULL NULL NULL 0 +1\nNULL 1 4 4 4 1 +1",
				false: "5 9 1 2.3333333333333335 4 +1",
			}[len(group) > 0]},
			{push: []input{L("1 1 -1\n2 2 -2\n3 NULL -1\nNULL 4 -1")}, want: map[bool]string{
				true:  "1 1 1 1 1 1 -1\n2 2 4 2 2 2 -1\n3 1 NULL NULL NULL 0 -1\nNULL 1 4 4 4 1 -1",
				false: "5 9 1 2.3333333333333335 4 -1\n0 NULL NULL NULL 0 +1",
			}[len(group) > 0]},
		}, true)
		require.Equal(t, map[bool]int{true: 0, false: 1}[len(group) > 0], h.groupCount(), "group by %v", group)
	}
}

func TestHashAggregateKeepsInvalidState(t *testing.T) {
	// A retraction of a row that was never inserted is invalid input; the group must not
	// appear, but the state stays so that the matching insertion cancels it.
	h := NewHashAggregate(ints2, []int{0}, []AggSpec{countStar(), agg(AggSum, 1)})
	script(t, h, [][]delta.Kind{ints2}, []tick{
		{push: []input{L("1 5 -1")}},
		{push: []input{L("1 5 +1")}},
		{push: []input{L("1 6 +1")}, want: "1 1 6 +1"},
	}, true)
	require.Equal(t, 1, h.groupCount())
}

func TestHashAggregateString(t *testing.T) {
	intStr := []delta.Kind{delta.KindInt, delta.KindString}
	tests := []struct {
		name  string
		in    []delta.Kind
		group []int
		aggs  []AggSpec
		want  string
		kinds []delta.Kind
	}{
		{"grouped", ints2, []int{0}, []AggSpec{countStar(), agg(AggSum, 1)},
			"HashAggregate(group=#0; count(*), sum(#1))", ints3},
		{"global", ints2, nil, []AggSpec{distinct(AggCount, 1), agg(AggAvg, 0)},
			"HashAggregate(count(DISTINCT #1), avg(#0))", []delta.Kind{delta.KindInt, delta.KindFloat}},
		{"no aggregates", ints2, []int{1, 0}, nil, "HashAggregate(group=#1, #0)", ints2},
		{"min max text", intStr, []int{0}, []AggSpec{agg(AggMin, 1), agg(AggMax, 1)},
			"HashAggregate(group=#0; min(#1), max(#1))", []delta.Kind{delta.KindInt, delta.KindString, delta.KindString}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHashAggregate(tc.in, tc.group, tc.aggs)
			require.Equal(t, tc.want, h.String())
			require.Equal(t, tc.kinds, h.OutKinds())
		})
	}
}

func TestAggSpecTypes(t *testing.T) {
	in := []delta.Kind{delta.KindInt, delta.KindFloat, delta.KindString}
	tests := []struct {
		spec AggSpec
		want catalog.Type
	}{
		{countStar(), catalog.Int8},
		{agg(AggCount, 2), catalog.Int8},
		{agg(AggSum, 0), catalog.Int8},
		{agg(AggSum, 1), catalog.Float8},
		{agg(AggAvg, 0), catalog.Float8},
		{agg(AggMin, 2), catalog.Text},
		{AggSpec{Func: AggMax, Arg: 0, ArgType: catalog.Timestamptz}, catalog.Timestamptz},
		{AggSpec{Func: AggSum, Arg: 1, ArgType: catalog.Float4, ResultType: catalog.Float4}, catalog.Float4},
	}
	for _, tc := range tests {
		t.Run(tc.spec.String(), func(t *testing.T) {
			h := NewHashAggregate(in, nil, []AggSpec{tc.spec})
			require.Nil(t, h.err)
			require.Equal(t, tc.want, h.aggs[0].spec.ResultType)
			require.Equal(t, tc.want.Kind(), h.OutKinds()[0])
		})
	}
}

// TestHashAggregateInsertOnly: over insert-only input min and max keep only the extreme,
// with the same results as with a multiset, no multiset rows in the state, and a
// retraction fails rather than leaving a stale extreme.
func TestHashAggregateInsertOnly(t *testing.T) {
	aggs := []AggSpec{agg(AggMin, 1), agg(AggMax, 1), countStar(), distinct(AggCount, 1)}
	ticks := []tick{
		{push: []input{L("1 5 +1\n1 3 +1\n2 NULL +1")}, want: "1 3 5 2 2 +1\n2 NULL NULL 1 0 +1"},
		{push: []input{L("1 4 +2\n2 7 +1")}, want: "1 3 5 2 2 -1\n1 3 5 4 3 +1\n2 NULL NULL 1 0 -1\n2 7 7 2 1 +1"},
		{push: []input{L("1 9 +1\n1 1 +1")}, want: "1 3 5 4 3 -1\n1 1 9 6 5 +1"},
	}
	withSets := NewHashAggregate(ints2, []int{0}, aggs)
	script(t, withSets, [][]delta.Kind{ints2}, ticks, true)
	h := NewHashAggregate(ints2, []int{0}, aggs, InsertOnly())
	script(t, h, [][]delta.Kind{ints2}, ticks, true)
	require.Equal(t, "HashAggregate(group=#0; min(#1), max(#1), count(*), count(DISTINCT #1); insert-only input)", h.String())
	// Only count(DISTINCT) keeps values: 6 of them, against 6 more for min/max's multiset.
	require.Equal(t, withSets.StateRows(), h.StateRows(), "the DISTINCT multiset is shared with min/max")
	onlyMinMax := NewHashAggregate(ints2, []int{0}, aggs[:2], InsertOnly())
	script(t, onlyMinMax, [][]delta.Kind{ints2}, []tick{{push: []input{L("1 5 +1\n1 3 +1\n2 8 +1")}, want: "1 3 5 +1\n2 8 8 +1"}}, true)
	require.EqualValues(t, 2, onlyMinMax.StateRows(), "groups only, no multiset")

	state := onlyMinMax.AppendState(nil)
	restored := NewHashAggregate(ints2, []int{0}, aggs[:2], InsertOnly())
	require.NoError(t, LoadState(restored, state))
	script(t, restored, [][]delta.Kind{ints2}, []tick{
		{push: []input{L("1 4 +1\n2 9 +1")}, want: "2 8 8 -1\n2 8 9 +1"},
		{push: []input{L("1 3 -1")}, code: "XX000"},
	}, true)
}

// TestHashAggregateIntPairKeys: grouped by two integer columns, the groups with no NULL
// in their key are found by the pair of integers, the others by their encoding; both
// kinds count, empty, are forgotten and survive a checkpoint.
func TestHashAggregateIntPairKeys(t *testing.T) {
	h := NewHashAggregate(ints3, []int{0, 1}, []AggSpec{countStar(), agg(AggSum, 2)})
	script(t, h, [][]delta.Kind{ints3}, []tick{
		{push: []input{L("1 1 5 +1\n1 2 6 +1\n2 1 7 +2\n1 NULL 8 +1\nNULL 1 9 +1\nNULL NULL 1 +1\n-9223372036854775808 9223372036854775807 3 +1")},
			want: "1 1 1 5 +1\n1 2 1 6 +1\n2 1 2 14 +1\n1 NULL 1 8 +1\nNULL 1 1 9 +1\nNULL NULL 1 1 +1\n-9223372036854775808 9223372036854775807 1 3 +1"},
		{push: []input{L("1 1 5 +1\n2 1 7 -1\n1 NULL 8 +1")},
			want: "1 1 1 5 -1\n1 1 2 10 +1\n2 1 2 14 -1\n2 1 1 7 +1\n1 NULL 1 8 -1\n1 NULL 2 16 +1"},
	}, true)
	require.Len(t, h.groups.pairs, 4, "(1,1) (1,2) (2,1) (min,max)")
	require.Len(t, h.groups.strs, 3, "the keys with a NULL")

	restored := NewHashAggregate(ints3, []int{0, 1}, []AggSpec{countStar(), agg(AggSum, 2)})
	require.NoError(t, LoadState(restored, h.AppendState(nil)))
	require.Len(t, restored.groups.pairs, 4)
	require.Len(t, restored.groups.strs, 3)
	script(t, restored, [][]delta.Kind{ints3}, []tick{
		{push: []input{L("1 1 5 -2\n1 2 6 -1\n2 1 7 -1\n1 NULL 8 -2\nNULL 1 9 -1\nNULL NULL 1 -1\n-9223372036854775808 9223372036854775807 3 -1")},
			want: "1 1 2 10 -1\n1 2 1 6 -1\n2 1 1 7 -1\n1 NULL 2 16 -1\nNULL 1 1 9 -1\nNULL NULL 1 1 -1\n-9223372036854775808 9223372036854775807 1 3 -1"},
	}, true)
	require.Zero(t, restored.groupCount(), "every group emptied and was forgotten")
}
