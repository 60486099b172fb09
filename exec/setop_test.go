package exec

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

func TestSetOp(t *testing.T) {
	// One input for every operation: duplicates on both sides, NULL rows (equal to each
	// other, as in DISTINCT), then everything retracted.
	in := [][]input{
		{L("1 1 +2\n2 2 +1\nNULL NULL +1"), R("1 1 +1\nNULL NULL +1\n3 3 +1")},
		{R("1 1 +1\n2 2 +1")},
		{L("4 4 +1"), R("4 4 +1"), R("4 4 -1")}, // within one tick: one consolidated change
		{L("1 1 -2\n2 2 -1\nNULL NULL -1\n4 4 -1"), R("1 1 -2\n2 2 -1\nNULL NULL -1\n3 3 -1")},
	}
	tests := []struct {
		op   SetOpKind
		all  bool
		want []string
	}{
		{SetUnion, true, []string{
			"1 1 +3\n2 2 +1\nNULL NULL +2\n3 3 +1",
			"1 1 +1\n2 2 +1",
			"4 4 +1",
			"1 1 -4\n2 2 -2\nNULL NULL -2\n3 3 -1\n4 4 -1",
		}},
		{SetUnion, false, []string{
			"1 1 +1\n2 2 +1\nNULL NULL +1\n3 3 +1",
			"",
			"4 4 +1",
			"1 1 -1\n2 2 -1\nNULL NULL -1\n3 3 -1\n4 4 -1",
		}},
		{SetIntersect, true, []string{
			"1 1 +1\nNULL NULL +1",
			"1 1 +1\n2 2 +1",
			"",
			"1 1 -2\n2 2 -1\nNULL NULL -1",
		}},
		{SetIntersect, false, []string{
			"1 1 +1\nNULL NULL +1",
			"2 2 +1",
			"",
			"1 1 -1\n2 2 -1\nNULL NULL -1",
		}},
		{SetExcept, true, []string{
			"1 1 +1\n2 2 +1",
			"1 1 -1\n2 2 -1",
			"4 4 +1",
			"4 4 -1",
		}},
		{SetExcept, false, []string{
			"2 2 +1",
			"2 2 -1",
			"4 4 +1",
			"4 4 -1",
		}},
	}
	for _, tc := range tests {
		s := NewSetOp(ints2, tc.op, tc.all)
		t.Run(s.String(), func(t *testing.T) {
			ticks := make([]tick, len(in))
			for i := range in {
				ticks[i] = tick{push: in[i], want: tc.want[i]}
			}
			script(t, s, [][]delta.Kind{ints2, ints2}, ticks, !tc.all || tc.op != SetUnion)
			require.Empty(t, s.rows, "state left after retracting everything")
			require.Empty(t, s.dirty)
		})
	}
}

func TestSetOpStateOnlyWhereNeeded(t *testing.T) {
	s := NewSetOp(ints2, SetUnion, true)
	script(t, s, [][]delta.Kind{ints2, ints2}, []tick{
		{push: []input{L("1 1 +1\n2 2 +0"), R("1 1 +1")}, want: "1 1 +2"},
	}, false)
	require.Empty(t, s.rows)
}

func TestUnion(t *testing.T) {
	u := NewUnion(ints2, 3)
	script(t, u, [][]delta.Kind{ints2, ints2, ints2}, []tick{
		{push: []input{L("1 1 +1"), R("1 1 +2"), {2, "2 2 +1\n3 3 +0"}}, want: "1 1 +3\n2 2 +1"},
		{push: []input{{2, "2 2 -1"}, L("1 1 -1")}, want: "1 1 -1\n2 2 -1"},
		{},
	}, false)
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(u.Push(t.Context(), 3, delta.New(ints2), delta.New(ints2))))
	require.Equal(t, "UnionAll", u.String())
	require.Equal(t, ints2, u.OutKinds())
	require.Len(t, u.inKinds(), 3)
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(NewUnion(ints2, 0).Advance(t.Context(), Tick{}, delta.New(ints2))))
}

func TestSetOpString(t *testing.T) {
	require.Equal(t, "UnionAll", NewSetOp(ints2, SetUnion, true).String())
	require.Equal(t, "SetOp(UNION)", NewSetOp(ints2, SetUnion, false).String())
	require.Equal(t, "SetOp(INTERSECT ALL)", NewSetOp(ints2, SetIntersect, true).String())
	require.Equal(t, "SetOp(EXCEPT)", NewSetOp(ints2, SetExcept, false).String())
	s := NewSetOp(ints2, SetExcept, false)
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(s.Push(t.Context(), 2, delta.New(ints2), delta.New(ints2))))
	bad := NewSetOp(ints2, SetExcept+1, false)
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(bad.Advance(t.Context(), Tick{}, delta.New(ints2))))
}

// TestDataflowSetOps wires EXCEPT between a relation and a filtered one, and reports a
// miswired input.
func TestDataflowSetOps(t *testing.T) {
	d := NewDataflow()
	a, b := d.AddSource("a", ints2), d.AddSource("b", ints2)
	u := d.Add(NewUnion(ints2, 2), a, b)
	d.Add(NewSetOp(ints2, SetExcept, false), u, b)
	require.Equal(t, "SetOp(EXCEPT)\n ├─ UnionAll\n │   ├─ Scan(a)\n │   └─ Scan(b)\n └─ Scan(b)\n", d.Explain())
	runDataflow(t, d, []dfTick{
		{in: map[string]string{"a": "1 1 +1\n2 2 +2", "b": "2 2 +1"}, want: "1 1 +1"},
		{in: map[string]string{"b": "2 2 -1\n1 1 +1"}, want: "1 1 -1\n2 2 +1"},
	})

	bad := NewDataflow()
	bad.Add(NewSetOp(ints3, SetUnion, false), bad.AddSource("a", ints2), bad.AddSource("b", ints2))
	_, err := bad.Step(t.Context(), Tick{Seq: 1}, nil)
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(err))
}
