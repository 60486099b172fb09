package exec

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

func TestOuterJoin(t *testing.T) {
	floatInt := []delta.Kind{delta.KindFloat, delta.KindInt}
	tests := []struct {
		name        string
		kind        JoinKind
		left, right []delta.Kind
		lk, rk      []int
		residual    expr.Expr
		ticks       []tick
		stateRows   int // distinct rows left in both arrangements at the end; -1: unchecked
	}{
		{
			name: "left: padded, matched, unmatched again", kind: JoinLeft,
			ticks: []tick{
				{push: []input{L("1 10 +1")}, want: "1 10 NULL NULL +1"},
				{push: []input{R("1 20 +1")}, want: "1 10 1 20 +1\n1 10 NULL NULL -1"},
				{push: []input{R("1 21 +1")}, want: "1 10 1 21 +1"}, // still matched: no padded row
				{push: []input{R("1 20 -1")}, want: "1 10 1 20 -1"},
				{push: []input{R("1 21 -1")}, want: "1 10 1 21 -1\n1 10 NULL NULL +1"},
				{push: []input{L("1 10 -1")}, want: "1 10 NULL NULL -1"},
			},
			stateRows: 0,
		},
		{
			name: "left: weights, and a match that comes and goes within a tick", kind: JoinLeft,
			ticks: []tick{
				{push: []input{L("1 10 +2\n2 5 +1"), R("1 20 +3")}, want: "1 10 1 20 +6\n2 5 NULL NULL +1"},
				{push: []input{R("1 20 -3\n1 20 +3")}},
				{push: []input{L("1 10 -1")}, want: "1 10 1 20 -3"},
				{push: []input{R("1 20 -3")}, want: "1 10 1 20 -3\n1 10 NULL NULL +1"},
				{push: []input{R("2 7 +1\nNULL 1 +1")}, want: "2 5 2 7 +1\n2 5 NULL NULL -1"},
				{push: []input{L("3 1 +1"), R("3 2 +1"), R("3 2 -1")}, want: "3 1 NULL NULL +1"},
			},
			stateRows: 4, // 1 10, 2 5, 3 1 and 2 7; the right NULL key is not stored
		},
		{
			name: "left: NULL keys are padded and not stored", kind: JoinLeft,
			ticks: []tick{
				{push: []input{L("NULL 1 +2"), R("NULL 2 +1")}, want: "NULL 1 NULL NULL +2"},
				{push: []input{L("NULL 1 -1")}, want: "NULL 1 NULL NULL -1"},
			},
			stateRows: 0,
		},
		{
			name: "right: the mirror image", kind: JoinRight,
			ticks: []tick{
				{push: []input{R("1 20 +1\nNULL 30 +1"), L("1 10 +1\n2 11 +1")}, want: "1 10 1 20 +1\nNULL NULL NULL 30 +1"},
				{push: []input{L("1 10 -1")}, want: "1 10 1 20 -1\nNULL NULL 1 20 +1"},
				{push: []input{L("1 12 +2")}, want: "1 12 1 20 +2\nNULL NULL 1 20 -1"},
			},
			stateRows: 3,
		},
		{
			name: "full: both sides padded", kind: JoinFull,
			ticks: []tick{
				{
					push: []input{L("1 10 +1\nNULL 11 +1"), R("2 20 +1\nNULL 21 +1")},
					want: "1 10 NULL NULL +1\nNULL 11 NULL NULL +1\nNULL NULL 2 20 +1\nNULL NULL NULL 21 +1",
				},
				{push: []input{L("2 12 +2")}, want: "2 12 2 20 +2\nNULL NULL 2 20 -1"},
				{
					push: []input{R("1 22 +1\n2 20 -1")},
					want: "1 10 1 22 +1\n1 10 NULL NULL -1\n2 12 2 20 -2\n2 12 NULL NULL +2",
				},
				{
					push: []input{L("NULL 11 -1\n1 10 -1\n2 12 -2"), R("NULL 21 -1")},
					want: "NULL 11 NULL NULL -1\n1 10 1 22 -1\nNULL NULL 1 22 +1\n2 12 NULL NULL -2\nNULL NULL NULL 21 -1",
				},
			},
			stateRows: 1,
		},
		{
			name: "left: a residual that fails for some pairs", kind: JoinLeft,
			residual: bin(expr.OpLt, col(1), col(3)),
			ticks: []tick{
				{push: []input{L("1 10 +1\n1 30 +1"), R("1 20 +1")}, want: "1 10 1 20 +1\n1 30 NULL NULL +1"},
				{push: []input{R("1 40 +1")}, want: "1 10 1 40 +1\n1 30 1 40 +1\n1 30 NULL NULL -1"},
				{push: []input{R("1 40 -1")}, want: "1 10 1 40 -1\n1 30 1 40 -1\n1 30 NULL NULL +1"},
				{push: []input{L("1 NULL +1")}, want: "1 NULL NULL NULL +1"}, // NULL < 20 is NULL, not TRUE
			},
			stateRows: 4,
		},
		{
			name: "full: a residual that fails pads both rows", kind: JoinFull,
			residual: bin(expr.OpLt, col(1), col(3)),
			ticks: []tick{
				{push: []input{L("1 10 +1"), R("1 5 +1")}, want: "1 10 NULL NULL +1\nNULL NULL 1 5 +1"},
				{push: []input{R("1 15 +1")}, want: "1 10 1 15 +1\n1 10 NULL NULL -1"},
				{push: []input{L("1 1 +1")}, want: "1 1 1 5 +1\n1 1 1 15 +1\nNULL NULL 1 5 -1"},
			},
			stateRows: 4,
		},
		{
			name: "left: cross join with a residual", kind: JoinLeft,
			residual: bin(expr.OpLt, col(1), col(3)),
			lk:       []int{}, rk: []int{},
			ticks: []tick{
				{push: []input{L("1 10 +1\n2 30 +1"), R("7 20 +1")}, want: "1 10 7 20 +1\n2 30 NULL NULL +1"},
				{push: []input{R("7 20 -1")}, want: "1 10 7 20 -1\n1 10 NULL NULL +1"},
			},
			stateRows: 2,
		},
		{
			name: "inner: as HashJoin", kind: JoinInner,
			ticks: []tick{
				{push: []input{L("1 10 +1\nNULL 1 +1"), R("1 20 +1\n2 5 +1\nNULL 1 +1")}, want: "1 10 1 20 +1"},
				{push: []input{L("1 10 -1")}, want: "1 10 1 20 -1"},
			},
			stateRows: 2,
		},
		{
			name: "full: float keys, -0 equals 0", kind: JoinFull, left: floatInt, right: floatInt,
			ticks: []tick{
				{push: []input{L("-0 1 +1\nNaN 2 +1"), R("0 3 +1\n1 4 +1")}, want: "-0 1 0 3 +1\nNaN 2 NULL NULL +1\nNULL NULL 1 4 +1"},
			},
			stateRows: 4,
		},
		{
			name: "residual error is returned", kind: JoinLeft,
			residual: bin(expr.OpGt, bin(expr.OpDiv, col(1), col(3)), lit(0)),
			ticks: []tick{
				{push: []input{L("1 10 +1"), R("1 5 +1")}, want: "1 10 1 5 +1"},
				{push: []input{R("1 0 +1")}, code: sqlerr.DivisionByZero},
			},
			stateRows: -1,
		},
		{
			name: "key kinds must match", kind: JoinLeft, right: floatInt,
			ticks: []tick{{push: []input{L("1 1 +1")}, code: sqlerr.Internal}}, stateRows: -1,
		},
		{
			name: "an unknown join kind", kind: JoinFull + 1,
			ticks: []tick{{code: sqlerr.Internal}}, stateRows: -1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.left == nil {
				tc.left = ints2
			}
			if tc.right == nil {
				tc.right = ints2
			}
			if tc.lk == nil {
				tc.lk, tc.rk = []int{0}, []int{0}
			}
			j := NewOuterJoin(tc.left, tc.right, tc.lk, tc.rk, tc.residual, tc.kind)
			script(t, j, [][]delta.Kind{tc.left, tc.right}, tc.ticks, false)
			if tc.stateRows >= 0 {
				require.Equal(t, tc.stateRows, j.arr[0].rows()+j.arr[1].rows(), "rows left in the arrangements")
			}
		})
	}
}

func TestOuterJoinString(t *testing.T) {
	j := NewOuterJoin(ints2, ints3, []int{0}, []int{2}, bin(expr.OpLt, col(1), col(3)), JoinLeft)
	require.Equal(t, "HashLeftJoin(#0 = #4; residual=(#1 < #3))", j.String())
	require.Equal(t, []delta.Kind{delta.KindInt, delta.KindInt, delta.KindInt, delta.KindInt, delta.KindInt}, j.OutKinds())
	require.Equal(t, "HashRightJoin(#0 = #2)", NewOuterJoin(ints2, ints2, []int{0}, []int{0}, nil, JoinRight).String())
	require.Equal(t, "HashFullJoin(cross)", NewOuterJoin(ints2, ints2, nil, nil, nil, JoinFull).String())
	require.Equal(t, "HashJoin(#1 = #3)", NewOuterJoin(ints2, ints2, []int{1}, []int{1}, nil, JoinInner).String())
	require.Equal(t, "FULL", JoinFull.String())
	err := j.Push(t.Context(), 2, delta.New(ints2), delta.New(j.OutKinds()))
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(err))
}

// TestDataflowLeftJoinCount counts matches per left row through a LEFT JOIN, the
// classic use of the padded row: count(#3) is 0 for a row without matches.
func TestDataflowLeftJoinCount(t *testing.T) {
	d := NewDataflow()
	l, r := d.AddSource("rooms", ints2), d.AddSource("gifts", ints2)
	j := d.Add(NewOuterJoin(ints2, ints2, []int{0}, []int{0}, nil, JoinLeft), l, r)
	d.Add(NewHashAggregate(append(slices.Clone(ints2), ints2...), []int{0}, []AggSpec{agg(AggCount, 3)}), j)
	require.Equal(t, `HashAggregate(group=#0; count(#3))
 └─ HashLeftJoin(#0 = #2)
     ├─ Scan(rooms)
     └─ Scan(gifts)
`, d.Explain())
	runDataflow(t, d, []dfTick{
		{in: map[string]string{"rooms": "1 0 +1\n2 0 +1"}, want: "1 0 +1\n2 0 +1"},
		{in: map[string]string{"gifts": "1 5 +1\n1 6 +1"}, want: "1 0 -1\n1 2 +1"},
		{in: map[string]string{"gifts": "1 5 -1\n1 6 -1\n2 7 +1"}, want: "1 2 -1\n1 0 +1\n2 0 -1\n2 1 +1"},
		{in: map[string]string{"rooms": "2 0 -1"}, want: "2 1 -1"},
	})
}
