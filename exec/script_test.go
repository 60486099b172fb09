package exec

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// The operator tests are scripts of ticks in a tiny text format (STYLE §2.7): one row per
// line, the column values separated by blanks and then the signed weight:
//
//	1 10 +1
//	NULL 5 -2
//
// Values are read by column kind: NULL, integers, floats (also NaN, Inf, -Inf), strings
// (bare words, or 'quoted' for the empty string), true/false. Expected output is compared
// after consolidation and sorting, so the order of the rows does not matter.

// rows parses text into a batch of the given kinds.
func rows(t testing.TB, kinds []delta.Kind, text string) *delta.Batch {
	t.Helper()
	b := delta.New(kinds)
	for line := range strings.SplitSeq(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		require.Len(t, f, len(kinds)+1, "row %q: want %d values and a weight", line, len(kinds))
		row := make([]delta.Value, len(kinds))
		for c, k := range kinds {
			row[c] = parseValue(t, k, f[c])
		}
		require.Contains(t, "+-", f[len(kinds)][:1], "row %q: the weight needs a sign", line)
		w, err := strconv.ParseInt(f[len(kinds)], 10, 64)
		require.NoError(t, err, "row %q", line)
		b.AppendRow(row, w)
	}
	return b
}

func parseValue(t testing.TB, k delta.Kind, s string) delta.Value {
	t.Helper()
	if s == "NULL" {
		return delta.Null(k)
	}
	switch k {
	case delta.KindInt:
		v, err := strconv.ParseInt(s, 10, 64)
		require.NoError(t, err)
		return delta.Int(v)
	case delta.KindFloat:
		v, err := strconv.ParseFloat(s, 64)
		require.NoError(t, err)
		return delta.Float(v)
	case delta.KindBool:
		v, err := strconv.ParseBool(s)
		require.NoError(t, err)
		return delta.Bool(v)
	}
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		s = s[1 : len(s)-1]
	}
	return delta.Str(s)
}

// formatValue renders v as the text format reads it.
func formatValue(v delta.Value) string {
	if v.Null {
		return "NULL"
	}
	switch v.Kind {
	case delta.KindInt:
		return strconv.FormatInt(v.I, 10)
	case delta.KindFloat:
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	case delta.KindBool:
		return strconv.FormatBool(v.B)
	}
	if v.S == "" {
		return "''"
	}
	return v.S
}

// lines renders b consolidated, one sorted line per row, for comparison.
func lines(b *delta.Batch) []string {
	c := delta.New(b.Kinds())
	c.AppendBatch(b, 1)
	c.Consolidate()
	out := make([]string, 0, c.Len())
	var row []delta.Value
	for i := range c.Len() {
		row = c.Row(i, row)
		parts := make([]string, 0, len(row)+1)
		for _, v := range row {
			parts = append(parts, formatValue(v))
		}
		parts = append(parts, strconv.FormatInt(c.Weights[i], 10))
		if c.Weights[i] > 0 {
			parts[len(parts)-1] = "+" + parts[len(parts)-1]
		}
		out = append(out, strings.Join(parts, " "))
	}
	slices.Sort(out)
	return out
}

// input is one batch pushed on a port.
type input struct {
	port int
	rows string
}

// L and R build inputs for port 0 (also the only port of unary operators) and port 1.
func L(rows string) input { return input{0, rows} }
func R(rows string) input { return input{1, rows} }

// tick is one step of an operator script: the pushes, then Advance.
type tick struct {
	push []input
	want string      // the tick's output (Push and Advance together)
	code sqlerr.Code // if set, the tick must fail with this SQLSTATE; the script ends
}

// script drives op through ticks and checks each tick's output. With consolidated, the
// raw output must already be consolidated (no row twice, no zero weight), as aggregates
// promise.
func script(t *testing.T, op Operator, in [][]delta.Kind, ticks []tick, consolidated bool) {
	t.Helper()
	ctx := t.Context()
	for n, tk := range ticks {
		out := delta.New(op.OutKinds())
		err := pushAll(t, ctx, op, in, tk.push, out)
		if err == nil {
			err = op.Advance(ctx, Tick{Seq: uint64(n + 1)}, out)
		}
		if tk.code != "" {
			require.Error(t, err, "tick %d", n+1)
			require.Equal(t, tk.code, sqlerr.CodeOf(err), "tick %d: %v", n+1, err)
			return
		}
		require.NoError(t, err, "tick %d", n+1)
		require.Equal(t, lines(rows(t, op.OutKinds(), tk.want)), lines(out), "tick %d", n+1)
		if consolidated {
			require.Len(t, lines(out), out.Len(), "tick %d: output not consolidated", n+1)
		}
	}
}

func pushAll(t *testing.T, ctx context.Context, op Operator, in [][]delta.Kind, push []input, out *delta.Batch) error {
	for _, p := range push {
		if err := op.Push(ctx, p.port, rows(t, in[p.port], p.rows), out); err != nil {
			return err
		}
	}
	return nil
}

// Shorthands for building expressions and kinds in tests.
var (
	ints2 = []delta.Kind{delta.KindInt, delta.KindInt}
	ints3 = []delta.Kind{delta.KindInt, delta.KindInt, delta.KindInt}
)

func col(i int) *expr.Col { return &expr.Col{Idx: i, T: catalog.Int8} }
func fcol(i int) *expr.Col {
	return &expr.Col{Idx: i, T: catalog.Float8}
}
func lit(v int64) *expr.Const { return expr.NewConst(delta.Int(v), catalog.Int8) }
func bin(op expr.Op, l, r expr.Expr) *expr.Binary {
	t := l.Type()
	if op.IsComparison() || op == expr.OpAnd || op == expr.OpOr {
		t = catalog.Bool
	}
	return &expr.Binary{Op: op, L: l, R: r, T: t}
}
