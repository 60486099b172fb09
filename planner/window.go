package planner

import (
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/interval"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner/plan"
)

// Event time in the binder: a source's WATERMARK FOR clause, the window table functions
// TUMBLE and HOP in FROM, EMIT ON WINDOW CLOSE, and the analysis that tells stateful
// operators when a window's state can be forgotten.
//
// A column is *final* under a watermark when, once the watermark (the minimum over some
// sources) reaches the column's value plus an offset, no change to rows with that value
// can arrive any more. The window_start / window_end columns of a TUMBLE or HOP over a
// source with a WATERMARK are final: late rows are dropped from closed windows (exec
// WindowAssign). Finality survives filters, projections of the column, grouping by it,
// top-N partitioned by it, inner joins that equate it with a final column of the other
// side, UNION ALL of inputs in which it is final, and reading the view that computes it.
// Aggregates and top-Ns forget the state of groups whose window closed, and EMIT ON
// WINDOW CLOSE needs a final column to know when a row is done.

// bindWatermark resolves CREATE SOURCE's `WATERMARK FOR col AS col - INTERVAL '…'`.
func (b *binder) bindWatermark(rel *catalog.Relation, wm *watermarkClause) {
	if rel.Kind != catalog.Source {
		b.fail(sqlerr.FeatureNotSupported, -1, "WATERMARK is only allowed on a source")
	}
	col := rel.ColumnIndex(wm.col)
	if col < 0 {
		b.fail(sqlerr.UndefinedColumn, -1, "column %q named in WATERMARK FOR does not exist", wm.col)
	}
	if t := rel.Columns[col].Type; t != catalog.Timestamp && t != catalog.Timestamptz {
		b.fail(sqlerr.DatatypeMismatch, -1, "WATERMARK FOR column %q must be timestamp or timestamptz, not %s", wm.col, t)
	}
	tree, err := pg_query.Parse("SELECT " + wm.expr)
	bad := func() {
		b.fail(sqlerr.FeatureNotSupported, -1, "WATERMARK FOR %s AS %s: the watermark must be %s or %s - INTERVAL 'delay'", wm.col, wm.expr, wm.col, wm.col)
	}
	if err != nil || len(tree.Stmts) != 1 {
		bad()
	}
	sel := tree.Stmts[0].Stmt.GetSelectStmt()
	if sel == nil || len(sel.TargetList) != 1 || len(sel.FromClause) != 0 {
		bad()
	}
	e := sel.TargetList[0].GetResTarget().GetVal()
	isCol := func(n *pg_query.Node) bool {
		cr := n.GetColumnRef()
		if cr == nil || len(cr.Fields) != 1 {
			return false
		}
		return cr.Fields[0].GetString_().GetSval() == wm.col
	}
	var delay int64
	switch {
	case isCol(e):
	case e.GetAExpr() != nil:
		a := e.GetAExpr()
		if a.Kind != pg_query.A_Expr_Kind_AEXPR_OP || len(a.Name) != 1 || a.Name[0].GetString_().GetSval() != "-" || !isCol(a.Lexpr) {
			bad()
		}
		delay = b.fixedInterval(a.Rexpr, "a watermark delay")
		if delay < 0 {
			b.fail(sqlerr.InvalidParameterValue, -1, "a watermark delay must not be negative")
		}
	default:
		bad()
	}
	rel.Watermark = &catalog.Watermark{Col: col, Delay: delay}
}

// fixedInterval evaluates an interval literal without months (a window size, a delay)
// to µs: INTERVAL '1 minute' or '1 minute'::interval.
func (b *binder) fixedInterval(n *pg_query.Node, what string) int64 {
	loc := location(n)
	tc := n.GetTypeCast()
	var lit string
	ok := tc != nil && tc.Arg.GetAConst() != nil && tc.Arg.GetAConst().GetSval() != nil && tc.TypeName != nil &&
		len(tc.TypeName.Typmods) == 0 && len(tc.TypeName.Names) > 0 &&
		tc.TypeName.Names[len(tc.TypeName.Names)-1].GetString_().GetSval() == "interval"
	if ok {
		lit = tc.Arg.GetAConst().GetSval().Sval
	} else {
		b.fail(sqlerr.FeatureNotSupported, loc, "%s must be an interval literal such as INTERVAL '1 minute'", what)
	}
	iv, err := interval.Parse(lit)
	if err != nil {
		b.failErr(err, loc)
	}
	us, ok := iv.FixedMicros()
	if !ok {
		b.fail(sqlerr.FeatureNotSupported, loc, "%s with months or years is not supported (its length varies)", what)
	}
	return us
}

// windowItem binds TUMBLE(rel, col, size [, offset]) or HOP(rel, col, slide, size
// [, offset]) in FROM.
func (b *binder) windowItem(rf *pg_query.RangeFunction) fromItem {
	if len(rf.Functions) != 1 || rf.Lateral || rf.Ordinality || rf.IsRowsfrom {
		b.unsupported(-1, "this table function in FROM (TUMBLE and HOP are supported)")
	}
	items := rf.Functions[0].GetList().GetItems()
	fc := items[0].GetFuncCall()
	if fc == nil || (len(items) > 1 && items[1] != nil && items[1].Node != nil) {
		b.unsupported(-1, "this table function in FROM (TUMBLE and HOP are supported)")
	}
	name := strings.ToLower(fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval())
	args := fc.Args
	switch name {
	case "tumble":
		if len(args) < 3 || len(args) > 4 {
			b.fail(sqlerr.UndefinedFunction, fc.Location, "TUMBLE takes (relation, time column, size [, offset])")
		}
	case "hop":
		if len(args) < 4 || len(args) > 5 {
			b.fail(sqlerr.UndefinedFunction, fc.Location, "HOP takes (relation, time column, slide, size [, offset])")
		}
	case "session":
		if len(args) != 3 {
			b.fail(sqlerr.UndefinedFunction, fc.Location, "SESSION takes (relation, time column, gap)")
		}
	default:
		b.unsupported(fc.Location, "table function "+name+" in FROM (TUMBLE and HOP are supported)")
	}
	if fc.AggStar || fc.AggDistinct || fc.Over != nil || len(fc.AggOrder) > 0 || fc.AggFilter != nil {
		b.unsupported(fc.Location, strings.ToUpper(name)+" with aggregate or window syntax")
	}
	ref := func(n *pg_query.Node, what string) string {
		cr := n.GetColumnRef()
		if cr == nil || len(cr.Fields) != 1 || cr.Fields[0].GetString_() == nil {
			b.fail(sqlerr.SyntaxError, location(n), "the %s argument of %s must be a name", what, strings.ToUpper(name))
		}
		return cr.Fields[0].GetString_().Sval
	}
	relName := ref(args[0], "first")
	rv := &pg_query.RangeVar{Relname: relName, Location: location(args[0]), Inh: true}
	if b.lookupCTE(rv) != nil {
		b.unsupported(location(args[0]), strings.ToUpper(name)+" over a WITH query (name a source, table or view)")
	}
	rel := b.relation(rv)
	colName := ref(args[1], "second")
	col := rel.ColumnIndex(colName)
	if col < 0 {
		b.fail(sqlerr.UndefinedColumn, location(args[1]), "column %q does not exist in %s", colName, rel.Name)
	}
	if t := rel.Columns[col].Type; t != catalog.Timestamp && t != catalog.Timestamptz {
		b.fail(sqlerr.DatatypeMismatch, location(args[1]), "the time column of %s must be timestamp or timestamptz, not %s", strings.ToUpper(name), t)
	}
	alias := rel.Name
	if rf.Alias != nil {
		alias = rf.Alias.Aliasname
		if len(rf.Alias.Colnames) > 0 {
			b.unsupported(-1, "column aliases on "+strings.ToUpper(name))
		}
	}
	for _, c := range rel.Columns {
		if c.Name == "window_start" || c.Name == "window_end" {
			b.fail(sqlerr.DuplicateColumn, fc.Location, "%s already has a column named %q", rel.Name, c.Name)
		}
	}
	scopeOf := func(node plan.Node) fromItem {
		sc := &scope{}
		for _, c := range node.Schema() {
			sc.cols = append(sc.cols, scopeCol{table: alias, name: c.Name, typ: c.Type})
		}
		return fromItem{node: node, sc: sc}
	}
	if name == "session" {
		gap := b.fixedInterval(args[2], "a session gap")
		if gap <= 0 {
			b.fail(sqlerr.InvalidParameterValue, fc.Location, "a session gap must be positive")
		}
		return scopeOf(&plan.SessionScan{Rel: rel, Alias: alias, TimeCol: col, Gap: gap})
	}
	w := exec.Window{TimeCol: col}
	rest := args[2:]
	if name == "tumble" {
		w.Size = b.fixedInterval(rest[0], "a window size")
		w.Slide = w.Size
		rest = rest[1:]
	} else {
		w.Slide = b.fixedInterval(rest[0], "a window slide")
		w.Size = b.fixedInterval(rest[1], "a window size")
		rest = rest[2:]
	}
	if w.Size <= 0 || w.Slide <= 0 {
		b.fail(sqlerr.InvalidParameterValue, fc.Location, "window size and slide must be positive")
	}
	if w.Slide > w.Size {
		b.fail(sqlerr.InvalidParameterValue, fc.Location, "HOP's slide must not be longer than its size (rows would fall between windows)")
	}
	if len(rest) > 0 {
		w.Offset = b.fixedInterval(rest[0], "a window offset")
	}
	return scopeOf(&plan.WindowScan{Rel: rel, Alias: alias, Window: w})
}

// setSessionKeys gives every SESSION its key: the columns of its relation that the
// aggregate above it groups by, besides the window. A SESSION must sit under such an
// aggregate (through filters and projections of columns), grouped by window_start or
// window_end.
func (b *binder) setSessionKeys(n plan.Node) {
	if a, ok := n.(*plan.Aggregate); ok {
		// Follow the group columns down to the scan.
		cols := slices.Clone(a.GroupCols)
		var below plan.Node = a.Input
	walk:
		for {
			switch x := below.(type) {
			case *plan.Filter:
				below = x.Input
			case *plan.Project:
				for i, c := range cols {
					if c < 0 {
						continue
					}
					col, ok := x.Exprs[c].(*expr.Col)
					if !ok {
						cols[i] = -1
						continue
					}
					cols[i] = col.Idx
				}
				below = x.Input
			default:
				break walk
			}
		}
		if s, ok := below.(*plan.SessionScan); ok && s.Partition == nil {
			k := len(s.Rel.Columns)
			window := false
			s.Partition = []int{}
			for _, c := range cols {
				switch {
				case c == k || c == k+1:
					window = true
				case c < 0:
					b.unsupported(-1, "grouping a SESSION window by an expression (group by columns of "+s.Rel.Name+")")
				default:
					s.Partition = append(s.Partition, c)
				}
			}
			if !window {
				b.unsupported(-1, "a SESSION window not grouped by window_start or window_end")
			}
			slices.Sort(s.Partition)
			s.Partition = slices.Compact(s.Partition)
		}
	}
	if s, ok := n.(*plan.SessionScan); ok && s.Partition == nil {
		b.unsupported(-1, "a SESSION window that is not aggregated directly (GROUP BY its key and window_start or window_end)")
	}
	for _, c := range n.Children() {
		b.setSessionKeys(c)
	}
}

// finalCols returns, for each output column of n, how it closes (nil when it is not
// final): see the comment at the top of this file.
func finalCols(n plan.Node) []*exec.Expiry {
	out := make([]*exec.Expiry, len(n.Schema()))
	at := func(e *exec.Expiry, col int) *exec.Expiry {
		if e == nil {
			return nil
		}
		c := *e
		c.Col = col
		return &c
	}
	switch x := n.(type) {
	case *plan.Scan:
		copy(out, x.Final)
	case *plan.WindowScan:
		if x.Watermarked() {
			k := len(x.Rel.Columns)
			src := []string{x.Rel.Name}
			out[k] = &exec.Expiry{Col: k, Offset: x.Window.Size, Sources: src}
			out[k+1] = &exec.Expiry{Col: k + 1, Sources: src}
		}
	case *plan.SessionScan:
		// A session's end only grows while events within the gap arrive; once the
		// watermark passes it, none can. Its start is not final by any fixed offset.
		if x.Watermarked() {
			k := len(x.Rel.Columns)
			out[k+1] = &exec.Expiry{Col: k + 1, Sources: []string{x.Rel.Name}}
		}
	case *plan.Filter:
		copy(out, finalCols(x.Input))
	case *plan.WindowClose:
		copy(out, finalCols(x.Input))
	case *plan.Project:
		in := finalCols(x.Input)
		for i, e := range x.Exprs {
			if c, ok := e.(*expr.Col); ok {
				out[i] = at(in[c.Idx], i)
			}
		}
	case *plan.Aggregate:
		in := finalCols(x.Input)
		for j, g := range x.GroupCols {
			out[j] = at(in[g], j)
		}
	case *plan.TopN:
		in := finalCols(x.Input)
		for _, p := range x.Partition {
			out[p] = at(in[p], p)
		}
	case *plan.Union:
		// A value closes when every input has closed it: at the latest offset, under the
		// watermark of all their sources (room_score_5m: the three streams' HOP counts).
		ins := make([][]*exec.Expiry, len(x.Inputs))
		for i, in := range x.Inputs {
			ins[i] = finalCols(in)
		}
		for c := range out {
			m := ins[0][c]
			for _, in := range ins[1:] {
				m = bothClosed(m, in[c])
			}
			out[c] = at(m, c)
		}
	case *plan.Join:
		if x.Kind != exec.JoinInner {
			break
		}
		l, r := finalCols(x.Left), finalCols(x.Right)
		nl := len(l)
		for i := range x.LeftKeys {
			// Equal values close when both sides have closed them.
			m := bothClosed(l[x.LeftKeys[i]], r[x.RightKeys[i]])
			out[x.LeftKeys[i]] = at(m, x.LeftKeys[i])
			out[nl+x.RightKeys[i]] = at(m, nl+x.RightKeys[i])
		}
	}
	return out
}

// bothClosed is when a value closed by a and by b is closed by both: at the later offset,
// under the watermark of all their sources; nil when either never closes it.
func bothClosed(a, b *exec.Expiry) *exec.Expiry {
	if a == nil || b == nil {
		return nil
	}
	m := &exec.Expiry{Offset: max(a.Offset, b.Offset)}
	m.Sources = append(slices.Clone(a.Sources), b.Sources...)
	slices.Sort(m.Sources)
	m.Sources = slices.Compact(m.Sources)
	return m
}

// viewFinality is how the columns of rel, a view read by the continuous query being
// bound, close: those of its own plan. A view over a view reads the other view's output
// node in the same dataflow and tick (db's graph), so finality carries over as through
// any other operator. Nil for other relations, and when the view no longer plans.
func (b *binder) viewFinality(rel *catalog.Relation) []*exec.Expiry {
	if !b.inView || rel.Kind != catalog.View {
		return nil
	}
	st, err := New(b.cat).Plan(rel.SQL, nil)
	if err != nil {
		return nil
	}
	cv, ok := st.(*CreateView)
	if !ok {
		return nil
	}
	final := finalCols(cv.Plan)
	if len(final) != len(rel.Columns) {
		return nil
	}
	return final
}

// setExpiries lets every aggregate grouped by a final column, and every top-N
// partitioned by one, forget closed windows.
func setExpiries(n plan.Node) {
	for _, c := range n.Children() {
		setExpiries(c)
	}
	first := func(in []*exec.Expiry, cols []int) *exec.Expiry {
		for _, c := range cols {
			if in[c] != nil {
				return in[c]
			}
		}
		return nil
	}
	switch x := n.(type) {
	case *plan.Aggregate:
		x.Expiry = first(finalCols(x.Input), x.GroupCols)
	case *plan.TopN:
		x.Expiry = first(finalCols(x.Input), x.Partition)
	case *plan.Join:
		if x.Kind != exec.JoinInner {
			break
		}
		out := finalCols(x)
		for i, k := range x.LeftKeys {
			if e := out[k]; e != nil {
				x.Expiry = &exec.Expiry{Col: i, Offset: e.Offset, Sources: e.Sources}
				break
			}
		}
	}
}

// emitOnWindowClose wraps a view's plan in EMIT ON WINDOW CLOSE.
func (b *binder) emitOnWindowClose(root plan.Node) plan.Node {
	for _, e := range finalCols(root) {
		if e != nil {
			return &plan.WindowClose{Input: root, Expiry: *e}
		}
	}
	b.unsupported(-1, "EMIT ON WINDOW CLOSE without window_start or window_end of a TUMBLE or HOP over a source with a WATERMARK among the view's columns "+
		"(group by the window, and join windowed sources on it)")
	return nil
}
