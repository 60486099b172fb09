package exec

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

func TestSemiJoin(t *testing.T) {
	// The same input, once for EXISTS and once for NOT EXISTS.
	in := []tick{
		{push: []input{L("1 10 +1\n2 20 +2\nNULL 30 +1"), R("1 5 +1\n1 5 +1\n1 6 +1")}},
		{push: []input{R("2 7 +1")}},
		{push: []input{R("1 5 -2")}},
		{push: []input{R("1 6 -1")}},
		{push: []input{L("2 20 -1")}},
		{push: []input{R("NULL 1 +1")}},
		{push: []input{L("2 20 -1\nNULL 30 -1\n1 10 -1"), R("2 7 -1\nNULL 1 -1")}},
	}
	with := func(want ...string) []tick {
		ticks := make([]tick, len(in))
		for i := range in {
			ticks[i] = tick{push: in[i].push, want: want[i]}
		}
		return ticks
	}
	residual := bin(expr.OpLt, col(1), col(3)) // left #1 < right #1
	tests := []struct {
		name            string
		anti, nullAware bool
		keys            []int
		residual        expr.Expr
		ticks           []tick
	}{
		{
			name: "semi: right duplicates do not duplicate the output",
			ticks: with(
				"1 10 +1",
				"2 20 +2",
				"",
				"1 10 -1",
				"2 20 -1",
				"",
				"2 20 -1",
			),
		},
		{
			name: "anti: NULL keys never match", anti: true,
			ticks: with(
				"2 20 +2\nNULL 30 +1",
				"2 20 -2",
				"",
				"1 10 +1",
				"",
				"", // a NULL on the right changes nothing without null-awareness
				"NULL 30 -1\n1 10 -1",
			),
		},
		{
			name: "semi ignores nullAware", nullAware: true,
			ticks: with("1 10 +1", "2 20 +2", "", "1 10 -1", "2 20 -1", "", "2 20 -1"),
		},
		{
			name: "not in: a NULL on the right empties the output, an empty right keeps everything", anti: true, nullAware: true,
			ticks: []tick{
				{push: []input{L("1 10 +1\nNULL 11 +1\n2 12 +2")}, want: "1 10 +1\nNULL 11 +1\n2 12 +2"},
				{push: []input{R("1 5 +1")}, want: "1 10 -1\nNULL 11 -1"},
				{push: []input{R("NULL 6 +1")}, want: "2 12 -2"},
				{push: []input{L("3 13 +1")}},
				{push: []input{R("NULL 6 -1")}, want: "2 12 +2\n3 13 +1"},
				{push: []input{R("1 5 -1")}, want: "1 10 +1\nNULL 11 +1"},
				{push: []input{R("NULL 6 +1\nNULL 6 -1")}},
				{push: []input{R("NULL 7 +1")}, want: "1 10 -1\nNULL 11 -1\n2 12 -2\n3 13 -1"},
				{push: []input{R("NULL 7 -1\n4 1 +1"), L("NULL 11 -1\n5 1 +1")}, want: "1 10 +1\n2 12 +2\n3 13 +1\n5 1 +1"},
				{push: []input{L("1 10 -1\n2 12 -2\n3 13 -1\n5 1 -1"), R("4 1 -1")}, want: "1 10 -1\n2 12 -2\n3 13 -1\n5 1 -1"},
			},
		},
		{
			name: "semi with a residual", residual: residual,
			ticks: []tick{
				{push: []input{L("1 10 +1\n1 30 +1"), R("1 20 +1\n1 25 +1")}, want: "1 10 +1"},
				{push: []input{R("1 40 +2")}, want: "1 30 +1"},
				{push: []input{R("1 20 -1\n1 25 -1")}},
				{push: []input{L("1 NULL +1\nNULL 1 +1")}}, // NULL < 40 is not TRUE; a NULL key never matches
				{push: []input{R("1 40 -2")}, want: "1 10 -1\n1 30 -1"},
				{push: []input{L("1 10 -1\n1 30 -1\n1 NULL -1\nNULL 1 -1")}},
			},
		},
		{
			name: "anti with a residual", anti: true, residual: residual,
			ticks: []tick{
				{push: []input{L("1 10 +1\n1 30 +1\nNULL 1 +1"), R("1 20 +1\nNULL 50 +1")}, want: "1 30 +1\nNULL 1 +1"},
				{push: []input{R("1 40 +1")}, want: "1 30 -1"},
				{push: []input{R("1 20 -1\n1 40 -1")}, want: "1 10 +1\n1 30 +1"},
				{push: []input{L("1 10 -1\n1 30 -1\nNULL 1 -1"), R("NULL 50 -1")}, want: "1 10 -1\n1 30 -1\nNULL 1 -1"},
			},
		},
		{
			// l NOT IN (SELECT r.#0 FROM r WHERE l.#1 < r.#1): only the right rows the
			// residual accepts count, NULLs included.
			name: "not in with a residual", anti: true, nullAware: true, residual: residual,
			ticks: []tick{
				{push: []input{L("1 10 +1\nNULL 10 +1\n2 10 +1")}, want: "1 10 +1\nNULL 10 +1\n2 10 +1"},
				{push: []input{R("1 5 +1")}}, // rejected by the residual for every row: as if empty
				{push: []input{R("1 15 +1")}, want: "1 10 -1\nNULL 10 -1"},
				{push: []input{R("NULL 20 +1")}, want: "2 10 -1"},
				{push: []input{R("NULL 20 -1\n1 15 -1")}, want: "1 10 +1\nNULL 10 +1\n2 10 +1"},
				{push: []input{L("3 30 +1"), R("NULL 40 +1")}, want: "1 10 -1\nNULL 10 -1\n2 10 -1"},
				{push: []input{L("4 50 +1\nNULL 50 +1")}, want: "4 50 +1\nNULL 50 +1"},
				{push: []input{R("4 60 +1")}, want: "4 50 -1\nNULL 50 -1"},
				{push: []input{
					L("1 10 -1\nNULL 10 -1\n2 10 -1\n3 30 -1\n4 50 -1\nNULL 50 -1"),
					R("1 5 -1\nNULL 40 -1\n4 60 -1"),
				}},
			},
		},
		{
			name: "not in takes one key column", anti: true, nullAware: true, keys: []int{0, 1},
			ticks: []tick{{code: sqlerr.Internal}},
		},
		{
			name: "residual error is returned", residual: bin(expr.OpGt, bin(expr.OpDiv, col(1), col(3)), lit(0)),
			ticks: []tick{
				{push: []input{L("1 10 +1"), R("1 5 +1")}, want: "1 10 +1"},
				{push: []input{R("1 0 +1")}, code: sqlerr.DivisionByZero},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys := tc.keys
			if keys == nil {
				keys = []int{0}
			}
			s := NewSemiJoin(ints2, ints2, keys, keys, tc.residual, tc.anti, tc.nullAware)
			script(t, s, [][]delta.Kind{ints2, ints2}, tc.ticks, false)
			if last := tc.ticks[len(tc.ticks)-1]; last.code == "" {
				// Every script ends with all input retracted: no state may be left.
				require.Zero(t, s.lrows.rows(), "left rows")
				require.Zero(t, s.rrows.rows(), "right rows")
				require.Empty(t, s.rcount)
				require.Zero(t, s.rtotal)
				require.Zero(t, s.rnull)
			}
		})
	}
}

func TestSemiJoinString(t *testing.T) {
	s := NewSemiJoin(ints2, ints3, []int{0}, []int{2}, bin(expr.OpLt, col(1), col(3)), false, false)
	require.Equal(t, "HashSemiJoin(#0 = #4; residual=(#1 < #3))", s.String())
	require.Equal(t, ints2, s.OutKinds())
	require.Equal(t, "HashAntiJoin(#1 = #2)", NewSemiJoin(ints2, ints2, []int{1}, []int{0}, nil, true, false).String())
	require.Equal(t, "HashAntiJoin(#0 = #2; null-aware)", NewSemiJoin(ints2, ints2, []int{0}, []int{0}, nil, true, true).String())
	require.Equal(t, "HashSemiJoin(cross)", NewSemiJoin(ints2, ints2, nil, nil, nil, false, true).String())
	err := s.Push(t.Context(), 2, delta.New(ints2), delta.New(ints2))
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(err))
	bad := NewSemiJoin(ints2, []delta.Kind{delta.KindString, delta.KindInt}, []int{0}, []int{0}, nil, false, false)
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(bad.Advance(t.Context(), Tick{}, delta.New(ints2))))
}

// TestDataflowNotIn runs `SELECT * FROM l WHERE l.a NOT IN (SELECT r.a FROM r)`, where the
// right side is itself filtered, and a self anti join.
func TestDataflowNotIn(t *testing.T) {
	t.Run("filtered right side", func(t *testing.T) {
		d := NewDataflow()
		l, r := d.AddSource("l", ints2), d.AddSource("r", ints2)
		f := d.Add(NewFilter(ints2, bin(expr.OpGt, col(1), lit(0))), r)
		d.Add(NewSemiJoin(ints2, ints2, []int{0}, []int{0}, nil, true, true), l, f)
		require.Equal(t, `HashAntiJoin(#0 = #2; null-aware)
 ├─ Scan(l)
 └─ Filter((#1 > 0))
     └─ Scan(r)
`, d.Explain())
		runDataflow(t, d, []dfTick{
			{in: map[string]string{"l": "1 0 +1\nNULL 0 +1", "r": "NULL 0 +1"}, want: "1 0 +1\nNULL 0 +1"}, // filtered out: r is empty
			{in: map[string]string{"r": "NULL 1 +1"}, want: "1 0 -1\nNULL 0 -1"},
			{in: map[string]string{"r": "NULL 1 -1\n2 1 +1"}, want: "1 0 +1"},
			{in: map[string]string{"r": "1 1 +1"}, want: "1 0 -1"},
		})
	})
	t.Run("rows whose key exists in another row", func(t *testing.T) {
		d := NewDataflow()
		s := d.AddSource("t", ints2)
		// t.#1 NOT IN (SELECT #0 FROM t): the right key is column 0, the left key column 1.
		d.Add(NewSemiJoin(ints2, ints2, []int{1}, []int{0}, nil, true, true), s, s)
		runDataflow(t, d, []dfTick{
			{in: map[string]string{"t": "1 2 +1\n2 3 +1"}, want: "2 3 +1"},
			{in: map[string]string{"t": "2 3 -1"}, want: "2 3 -1\n1 2 +1"},
			{in: map[string]string{"t": "NULL 1 +1"}, want: "1 2 -1"},
		})
	})
}
