package exec

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

func TestHashJoin(t *testing.T) {
	strInt := []delta.Kind{delta.KindString, delta.KindInt}
	floatInt := []delta.Kind{delta.KindFloat, delta.KindInt}
	tests := []struct {
		name        string
		left, right []delta.Kind
		lk, rk      []int
		residual    expr.Expr
		ticks       []tick
		stateRows   int // distinct rows left in both arrangements at the end; -1: unchecked
	}{
		{
			name: "insert left then right", left: ints2, right: ints2, lk: []int{0}, rk: []int{0},
			ticks: []tick{
				{push: []input{L("1 10 +1")}},
				{push: []input{R("1 20 +1")}, want: "1 10 1 20 +1"},
				{push: []input{L("1 11 +1")}, want: "1 11 1 20 +1"},
				{push: []input{R("2 5 +1")}},
			},
			stateRows: 4,
		},
		{
			name: "retract a matched row", left: ints2, right: ints2, lk: []int{0}, rk: []int{0},
			ticks: []tick{
				{push: []input{L("1 10 +1"), R("1 20 +1\n1 21 +1")}, want: "1 10 1 20 +1\n1 10 1 21 +1"},
				{push: []input{R("1 20 -1")}, want: "1 10 1 20 -1"},
				{push: []input{L("1 10 -1")}, want: "1 10 1 21 -1"},
				{push: []input{R("1 21 -1")}},
			},
		},
		{
			name: "many to many with weights", left: ints2, right: ints2, lk: []int{0}, rk: []int{0},
			ticks: []tick{
				{
					push: []input{L("1 10 +2\n1 11 +1"), R("1 20 +3\n1 21 +1")},
					want: "1 10 1 20 +6\n1 10 1 21 +2\n1 11 1 20 +3\n1 11 1 21 +1",
				},
				{
					push: []input{L("1 10 -1"), R("1 20 -2")},
					want: "1 10 1 20 -5\n1 10 1 21 -1\n1 11 1 20 -2",
				},
				{
					push: []input{R("1 20 -1\n1 21 -1"), L("1 10 -1\n1 11 -1")},
					want: "1 10 1 20 -1\n1 10 1 21 -1\n1 11 1 20 -1\n1 11 1 21 -1",
				},
			},
		},
		{
			name: "both sides in one tick, right first", left: ints2, right: ints2, lk: []int{0}, rk: []int{0},
			ticks: []tick{
				{push: []input{R("1 20 +1"), L("1 10 +1")}, want: "1 10 1 20 +1"},
				{push: []input{R("1 20 -1\n1 22 +1"), L("1 10 -1\n1 12 +1")}, want: "1 10 1 20 -1\n1 12 1 22 +1"},
			},
			stateRows: 2,
		},
		{
			name: "NULL keys never match", left: ints2, right: ints2, lk: []int{0}, rk: []int{0},
			ticks: []tick{
				{push: []input{L("NULL 1 +1\n1 2 +1"), R("NULL 3 +1\n1 4 +1")}, want: "1 2 1 4 +1"},
				{push: []input{L("NULL 1 -1"), R("NULL 3 -1")}},
			},
			stateRows: 2,
		},
		{
			name: "residual predicate", left: ints2, right: ints2, lk: []int{0}, rk: []int{0},
			residual: bin(expr.OpLt, col(1), col(3)),
			ticks: []tick{
				{push: []input{L("1 10 +1\n1 30 +1"), R("1 20 +1")}, want: "1 10 1 20 +1"},
				{push: []input{R("1 40 +1")}, want: "1 10 1 40 +1\n1 30 1 40 +1"},
				{push: []input{R("1 20 -1")}, want: "1 10 1 20 -1"},
				{push: []input{L("1 NULL +1")}}, // NULL < 40 is NULL, not TRUE
			},
			stateRows: 4,
		},
		{
			name: "residual error is returned", left: ints2, right: ints2, lk: []int{0}, rk: []int{0},
			residual: bin(expr.OpGt, bin(expr.OpDiv, col(1), col(3)), lit(0)),
			ticks: []tick{
				{push: []input{L("1 10 +1"), R("1 5 +1")}, want: "1 10 1 5 +1"},
				{push: []input{R("1 0 +1")}, code: sqlerr.DivisionByZero},
			},
			stateRows: -1, // unspecified after an error
		},
		{
			name: "two key columns", left: ints3, right: ints3, lk: []int{0, 1}, rk: []int{1, 0},
			ticks: []tick{
				{
					push: []input{L("1 2 5 +1\n2 1 6 +1\n1 NULL 7 +1"), R("2 1 8 +1\nNULL 1 9 +1")},
					want: "1 2 5 2 1 8 +1",
				},
			},
			stateRows: 3, // rows with a NULL key are not stored
		},
		{
			name: "text keys", left: strInt, right: strInt, lk: []int{0}, rk: []int{0},
			ticks: []tick{
				{push: []input{L("a 1 +1\n'' 2 +1"), R("a 3 +1\nb 4 +1\n'' 5 +1")}, want: "a 1 a 3 +1\n'' 2 '' 5 +1"},
			},
			stateRows: 5,
		},
		{
			name: "float keys: -0 equals 0", left: floatInt, right: floatInt, lk: []int{0}, rk: []int{0},
			ticks: []tick{
				{push: []input{L("-0 1 +1\nNaN 2 +1"), R("0 3 +1\nNaN 4 +1")}, want: "-0 1 0 3 +1\nNaN 2 NaN 4 +1"},
			},
			stateRows: 4,
		},
		{
			name: "cross join without keys", left: ints2, right: ints2,
			ticks: []tick{
				{push: []input{L("1 1 +1"), R("2 2 +1\n3 3 +2")}, want: "1 1 2 2 +1\n1 1 3 3 +2"},
				{push: []input{L("1 1 -1")}, want: "1 1 2 2 -1\n1 1 3 3 -2"},
			},
			stateRows: 2,
		},
		{
			name: "key kinds must match", left: ints2, right: floatInt, lk: []int{0}, rk: []int{0},
			ticks: []tick{{push: []input{L("1 1 +1")}, code: sqlerr.Internal}},
		},
		{
			name: "key count must match", left: ints2, right: ints2, lk: []int{0, 1}, rk: []int{0},
			ticks: []tick{{code: sqlerr.Internal}},
		},
		{
			name: "key column out of range", left: ints2, right: ints2, lk: []int{0}, rk: []int{2},
			ticks: []tick{{code: sqlerr.Internal}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := NewHashJoin(tc.left, tc.right, tc.lk, tc.rk, tc.residual)
			script(t, j, [][]delta.Kind{tc.left, tc.right}, tc.ticks, false)
			if tc.stateRows >= 0 {
				require.Equal(t, tc.stateRows, j.arr[0].rows()+j.arr[1].rows(), "rows left in the arrangements")
			}
		})
	}
}

// TestHashJoinLargeBucket crosses the size at which a bucket gets an index, both ways,
// and checks that retracting everything leaves no state behind.
func TestHashJoinLargeBucket(t *testing.T) {
	j := NewHashJoin(ints2, ints2, []int{0}, []int{0}, nil)
	var ins, insOut, del, delOut strings.Builder
	const n = 3 * bucketIndexMin
	for i := range n {
		fmt.Fprintf(&ins, "7 %d +1\n", i)
		fmt.Fprintf(&insOut, "7 %d 7 100 +2\n", i)
	}
	for i := n - 1; i >= 0; i -= 2 { // every other row, from the end
		fmt.Fprintf(&del, "7 %d -1\n", i)
		fmt.Fprintf(&delOut, "7 %d 7 100 -2\n", i)
	}
	var rest, restOut strings.Builder
	for i := 0; i < n; i += 2 {
		fmt.Fprintf(&rest, "7 %d -1\n", i)
		fmt.Fprintf(&restOut, "7 %d 7 100 -2\n", i)
	}
	script(t, j, [][]delta.Kind{ints2, ints2}, []tick{
		{push: []input{R("7 100 +2"), L(ins.String())}, want: insOut.String()},
		{push: []input{L(ins.String())}, want: insOut.String()},
		{push: []input{L(ins.String() + del.String() + del.String())}, want: insOut.String() + delOut.String() + delOut.String()},
		{push: []input{L(del.String())}, want: delOut.String()},
		{push: []input{L(rest.String() + rest.String() + rest.String())}, want: restOut.String() + restOut.String() + restOut.String()},
	}, false)
	require.Equal(t, 1, j.arr[1].rows())
	require.Empty(t, j.arr[0].keys)
	script(t, j, [][]delta.Kind{ints2, ints2}, []tick{{push: []input{R("7 100 -2")}}}, false)
	require.Empty(t, j.arr[1].keys)
}

func TestHashJoinString(t *testing.T) {
	j := NewHashJoin(ints2, ints3, []int{0, 1}, []int{2, 0}, bin(expr.OpLt, col(1), col(3)))
	require.Equal(t, "HashJoin(#0 = #4, #1 = #2; residual=(#1 < #3))", j.String())
	require.Equal(t, []delta.Kind{delta.KindInt, delta.KindInt, delta.KindInt, delta.KindInt, delta.KindInt}, j.OutKinds())
	require.Equal(t, "HashJoin(cross)", NewHashJoin(ints2, ints2, nil, nil, nil).String())
	err := j.Push(t.Context(), 2, delta.New(ints2), delta.New(j.OutKinds()))
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(err))
}
