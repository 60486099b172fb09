package exec

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
)

// errorRows renders an error batch as "code row weight" lines.
func errorRows(b *delta.Batch) []string {
	var out []string
	for i := 0; i < b.Len(); i++ {
		out = append(out, b.Cols[1].Str[i]+" "+b.Cols[3].Str[i]+" "+strconv.FormatInt(b.Weights[i], 10))
	}
	return out
}

// TestRowErrors: a data exception sets the row aside and records it with the row's
// weight; retracting the row retracts the error; the rest of the batch flows on.
func TestRowErrors(t *testing.T) {
	d := NewDataflow()
	src := d.AddSource("t", ints2)
	div := &expr.Binary{Op: expr.OpDiv, L: expr.NewConst(delta.Int(100), catalog.Int8), R: &expr.Col{Idx: 1, T: catalog.Int8}, T: catalog.Int8}
	p := d.Add(NewProject([]expr.Expr{&expr.Col{Idx: 0, T: catalog.Int8}, div}), src)
	d.Add(NewHashAggregate(ints2, []int{0}, []AggSpec{{Func: AggSum, Arg: 1, ArgType: catalog.Int8, ResultType: catalog.Int8}}), p)

	out, err := d.Step(t.Context(), Tick{Seq: 1}, map[string]*delta.Batch{"t": rows(t, ints2, strings.Join([]string{"1 0 +1", "1 50 +1", "2 4 +2"}, "\n"))})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"1 2 +1", "2 50 +1"}, lines(out))
	require.Equal(t, []string{"22012 (1, 0) 1"}, errorRows(d.Errors()))

	// Retracting the bad row retracts its error; nothing else changes.
	out, err = d.Step(t.Context(), Tick{Seq: 2}, map[string]*delta.Batch{"t": rows(t, ints2, strings.Join([]string{"1 0 -1"}, "\n"))})
	require.NoError(t, err)
	require.Empty(t, lines(out))
	require.Equal(t, []string{"22012 (1, 0) -1"}, errorRows(d.Errors()))

	// A sum out of range: the group's row leaves the view while the error stands.
	out, err = d.Step(t.Context(), Tick{Seq: 3}, map[string]*delta.Batch{"t": rows(t, ints2, strings.Join([]string{"3 1 +1"}, "\n"))})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"3 100 +1"}, lines(out))
	d2 := NewDataflow()
	s2 := d2.AddSource("t", ints2)
	d2.Add(NewHashAggregate(ints2, []int{0}, []AggSpec{{Func: AggSum, Arg: 1, ArgType: catalog.Int8, ResultType: catalog.Int8}}), s2)
	out, err = d2.Step(t.Context(), Tick{Seq: 1}, map[string]*delta.Batch{"t": rows(t, ints2, strings.Join([]string{"7 9223372036854775807 +1", "8 1 +1"}, "\n"))})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"7 9223372036854775807 +1", "8 1 +1"}, lines(out))
	out, err = d2.Step(t.Context(), Tick{Seq: 2}, map[string]*delta.Batch{"t": rows(t, ints2, strings.Join([]string{"7 1 +1"}, "\n"))})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"7 9223372036854775807 -1"}, lines(out))
	require.Equal(t, []string{"22003 (7) 1"}, errorRows(d2.Errors()))
	out, err = d2.Step(t.Context(), Tick{Seq: 3}, map[string]*delta.Batch{"t": rows(t, ints2, strings.Join([]string{"7 1 -1", "7 2 +1"}, "\n"))})
	require.NoError(t, err)
	require.Empty(t, lines(out), "still out of range")
	require.Empty(t, errorRows(d2.Errors()), "the same error stands: retract and re-add cancel")
	out, err = d2.Step(t.Context(), Tick{Seq: 4}, map[string]*delta.Batch{"t": rows(t, ints2, strings.Join([]string{"7 2 -1"}, "\n"))})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"7 9223372036854775807 +1"}, lines(out))
	require.Equal(t, []string{"22003 (7) -1"}, errorRows(d2.Errors()))
}
