package exec

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

func TestProject(t *testing.T) {
	tests := []struct {
		name  string
		exprs []expr.Expr
		out   []delta.Kind
		ticks []tick
	}{
		{
			name:  "computed columns keep weights",
			exprs: []expr.Expr{col(1), bin(expr.OpAdd, col(0), col(1)), lit(7)},
			out:   ints3,
			ticks: []tick{
				{push: []input{L("1 2 +1\n3 4 -2\nNULL 5 +1")}, want: "2 3 7 +1\n4 7 7 -2\n5 NULL 7 +1"},
			},
		},
		{
			name:  "equal output rows are not merged",
			exprs: []expr.Expr{col(0)},
			out:   []delta.Kind{delta.KindInt},
			ticks: []tick{
				{push: []input{L("1 2 +1\n1 3 +1")}, want: "1 +2"},
			},
		},
		{
			name:  "casts change the kind",
			exprs: []expr.Expr{&expr.Cast{E: col(0), T: catalog.Float8}, &expr.Cast{E: col(1), T: catalog.Text}},
			out:   []delta.Kind{delta.KindFloat, delta.KindString},
			ticks: []tick{
				{push: []input{L("1 2 +1")}, want: "1 2 +1"},
			},
		},
		{
			name:  "overflow is returned",
			exprs: []expr.Expr{bin(expr.OpMul, col(0), col(1))},
			out:   []delta.Kind{delta.KindInt},
			ticks: []tick{
				{push: []input{L("4611686018427387904 2 +1")}, code: sqlerr.NumericValueOutOfRange},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewProject(tc.exprs)
			require.Equal(t, tc.out, p.OutKinds())
			out := delta.New(p.OutKinds())
			if tc.ticks[0].code == "" {
				// Equal rows stay separate lines in Push's own output.
				require.NoError(t, p.Push(t.Context(), 0, rows(t, ints2, tc.ticks[0].push[0].rows), out))
				require.Equal(t, rows(t, ints2, tc.ticks[0].push[0].rows).Len(), out.Len())
			}
			script(t, p, [][]delta.Kind{ints2}, tc.ticks, false)
		})
	}
}

func TestProjectString(t *testing.T) {
	p := NewProject([]expr.Expr{col(0), bin(expr.OpMul, col(1), lit(2))})
	require.Equal(t, "Project(#0, (#1 * 2))", p.String())
	err := p.Push(t.Context(), 1, delta.New(ints2), delta.New(p.OutKinds()))
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(err))
}
