package exec

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

func TestFilter(t *testing.T) {
	tests := []struct {
		name  string
		pred  expr.Expr
		ticks []tick
	}{
		{
			name: "keeps TRUE, drops false and NULL",
			pred: bin(expr.OpGt, col(1), lit(10)),
			ticks: []tick{
				{push: []input{L("1 11 +1\n2 10 +1\n3 NULL +1\nNULL 12 +1")}, want: "1 11 +1\nNULL 12 +1"},
			},
		},
		{
			name: "retractions and weights pass unchanged",
			pred: bin(expr.OpGt, col(1), lit(10)),
			ticks: []tick{
				{push: []input{L("1 11 +2\n1 5 +3")}, want: "1 11 +2"},
				{push: []input{L("1 11 -2\n1 5 -3"), L("1 12 +1")}, want: "1 11 -2\n1 12 +1"},
				{}, // Advance alone emits nothing
			},
		},
		{
			name: "a NULL predicate from AND drops the row",
			pred: bin(expr.OpAnd, bin(expr.OpGt, col(0), lit(0)), bin(expr.OpGt, col(1), lit(0))),
			ticks: []tick{
				{push: []input{L("1 NULL +1\n1 1 +1\n0 NULL +1")}, want: "1 1 +1"},
			},
		},
		{
			name: "evaluation errors are returned",
			pred: bin(expr.OpGt, bin(expr.OpDiv, col(0), col(1)), lit(0)),
			ticks: []tick{
				{push: []input{L("1 1 +1")}, want: "1 1 +1"},
				{push: []input{L("1 0 +1")}, code: sqlerr.DivisionByZero},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFilter(ints2, tc.pred)
			script(t, f, [][]delta.Kind{ints2}, tc.ticks, false)
		})
	}
}

func TestFilterString(t *testing.T) {
	f := NewFilter(ints2, bin(expr.OpGt, col(1), lit(10)))
	require.Equal(t, "Filter((#1 > 10))", f.String())
	require.Equal(t, ints2, f.OutKinds())
	err := f.Push(t.Context(), 1, delta.New(ints2), delta.New(ints2))
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(err))
}
