package planner

import (
	"slices"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner/plan"
)

// This file binds the query shapes beyond a single SELECT … FROM … WHERE … GROUP BY:
// common table expressions, subqueries in FROM, scalar subqueries, EXISTS and IN as
// semi- and anti-joins, set operations, ORDER BY … LIMIT and ranking window functions
// (aggregate window functions: bind_windowagg.go).

// outerScope is the scope of the query enclosing a subquery. Correlated references are
// allowed only where allow is set: the WHERE equalities of an EXISTS subquery.
type outerScope struct {
	sc    *scope
	allow bool
}

// outerRef is a correlated reference to a column of the enclosing query. It never
// reaches an operator: the binder turns each one into a semi-join key or rejects it.
type outerRef struct {
	idx  int
	t    catalog.Type
	name string
}

func (o *outerRef) Type() catalog.Type                      { return o.t }
func (o *outerRef) Eval([]delta.Value) (delta.Value, error) { panic("outerRef evaluated") }
func (o *outerRef) String() string                          { return "outer." + o.name }

// corrCapture collects the correlation equalities of the EXISTS subquery sel.
type corrCapture struct {
	sel   *pg_query.SelectStmt
	inner []expr.Expr // over the subquery's FROM scope
	outer []int       // the enclosing query's column each inner expression must equal
}

// resolveOuter looks a column up in the enclosing queries' scopes after it was not found
// in the current one. found is false when no enclosing query has it either.
func (b *binder) resolveOuter(table, name string, loc int32) (expr.Expr, bool) {
	for d := len(b.outers) - 1; d >= 0; d-- {
		for i, c := range b.outers[d].sc.cols {
			if (table == "" && c.hidden) || (table != "" && c.table != table) || c.name != name {
				continue
			}
			if d != len(b.outers)-1 || !b.outers[d].allow {
				b.unsupported(loc, "correlated subquery referencing "+qualified(table, name)+" here (only equalities in the WHERE clause of EXISTS are supported)")
			}
			b.outerRefs++
			return &outerRef{idx: i, t: c.typ, name: name}, true
		}
	}
	return nil, false
}

func qualified(table, name string) string {
	if table == "" {
		return name
	}
	return table + "." + name
}

// withOuter binds a subquery with sc as its enclosing scope.
func (b *binder) withOuter(sc *scope, allow bool, sel *pg_query.SelectStmt) plan.Node {
	b.outers = append(b.outers, outerScope{sc: sc, allow: allow})
	defer func() { b.outers = b.outers[:len(b.outers)-1] }()
	return b.selectPlan(sel)
}

func (b *binder) pushCTEs(w *pg_query.WithClause) {
	if w.Recursive {
		b.unsupported(w.Location, "WITH RECURSIVE")
	}
	m := map[string]*pg_query.CommonTableExpr{}
	for _, c := range w.Ctes {
		cte := c.GetCommonTableExpr()
		if _, dup := m[cte.Ctename]; dup {
			b.fail("42712", cte.Location, "WITH query name %q specified more than once", cte.Ctename)
		}
		m[cte.Ctename] = cte
	}
	b.ctes = append(b.ctes, m)
}

func (b *binder) popCTEs() { b.ctes = b.ctes[:len(b.ctes)-1] }

func (b *binder) lookupCTE(rv *pg_query.RangeVar) *pg_query.CommonTableExpr {
	if rv.Schemaname != "" {
		return nil
	}
	for i := len(b.ctes) - 1; i >= 0; i-- {
		if c, ok := b.ctes[i][rv.Relname]; ok {
			return c
		}
	}
	return nil
}

// cteItem binds a reference to a common table expression. Each reference is bound (and
// computed) on its own; sharing identical sub-plans is the dataflow's job.
func (b *binder) cteItem(cte *pg_query.CommonTableExpr, rv *pg_query.RangeVar) fromItem {
	sel := cte.Ctequery.GetSelectStmt()
	if sel == nil {
		b.unsupported(cte.Location, "a data-modifying statement in WITH")
	}
	if b.cteDepth > 32 {
		b.fail(sqlerr.SyntaxError, rv.Location, "WITH query %q refers to itself", cte.Ctename)
	}
	b.cteDepth++
	node := b.selectPlan(sel)
	b.cteDepth--
	var names []string
	for _, n := range cte.Aliascolnames {
		names = append(names, n.GetString_().Sval)
	}
	alias := cte.Ctename
	if rv.Alias != nil {
		alias = rv.Alias.Aliasname
		for i, n := range rv.Alias.Colnames {
			if i < len(names) {
				names[i] = n.GetString_().Sval
			} else {
				names = append(names, n.GetString_().Sval)
			}
		}
	}
	return b.aliasedItem(node, alias, names, rv.Location)
}

func (b *binder) subqueryItem(rs *pg_query.RangeSubselect) fromItem {
	if rs.Lateral {
		b.unsupported(-1, "LATERAL subquery")
	}
	if rs.Alias == nil {
		b.fail(sqlerr.SyntaxError, -1, "subquery in FROM must have an alias")
	}
	sel := rs.Subquery.GetSelectStmt()
	saved := b.outers
	b.outers = nil // a FROM subquery sees neither its siblings nor, uncorrelated, the outer query
	node := b.selectPlan(sel)
	b.outers = saved
	var names []string
	for _, n := range rs.Alias.Colnames {
		names = append(names, n.GetString_().Sval)
	}
	return b.aliasedItem(node, rs.Alias.Aliasname, names, -1)
}

// aliasedItem exposes a subplan's columns under alias, renamed by names where given.
func (b *binder) aliasedItem(node plan.Node, alias string, names []string, loc int32) fromItem {
	schema := node.Schema()
	if len(names) > len(schema) {
		b.fail(sqlerr.InvalidColumnReference, loc, "table %q has %d columns available but %d columns specified", alias, len(schema), len(names))
	}
	sc := &scope{}
	for i, c := range schema {
		name := c.Name
		if i < len(names) {
			name = names[i]
		}
		sc.cols = append(sc.cols, scopeCol{table: alias, name: name, typ: c.Type})
	}
	return fromItem{node: node, sc: sc}
}

// scalarSubLinks finds the scalar subqueries of these expressions, not looking inside
// other subqueries.
func scalarSubLinks(nodes []*pg_query.Node) []*pg_query.SubLink {
	var out []*pg_query.SubLink
	var visit func(n *pg_query.Node)
	visit = func(n *pg_query.Node) {
		if n == nil {
			return
		}
		if sl := n.GetSubLink(); sl != nil {
			if sl.SubLinkType == pg_query.SubLinkType_EXPR_SUBLINK {
				out = append(out, sl)
			}
			return
		}
		for _, c := range children(n) {
			visit(c)
		}
	}
	for _, n := range nodes {
		visit(n)
	}
	return out
}

// scalarSubquery binds an uncorrelated scalar subquery as a one-row FROM item. Weir
// accepts only subqueries that return exactly one row by construction, a single
// aggregate without GROUP BY, so that joining it never changes the outer row count.
func (b *binder) scalarSubquery(sl *pg_query.SubLink) fromItem {
	sel := sl.Subselect.GetSelectStmt()
	if sel == nil || sel.Op != pg_query.SetOperation_SETOP_NONE || len(sel.GroupClause) > 0 ||
		len(sel.TargetList) != 1 || !b.containsAggregate(sel.TargetList) || sel.LimitCount != nil || sel.LimitOffset != nil ||
		sel.HavingClause != nil {
		b.unsupported(sl.Location, "a scalar subquery other than a single aggregate without GROUP BY (it must return exactly one row)")
	}
	node := b.withOuter(&scope{}, false, sel)
	t := node.Schema()[0].Type
	return fromItem{node: node, sc: &scope{cols: []scopeCol{{name: "?subquery?", typ: t, hidden: true}}}}
}

// whereConjuncts splits a WHERE clause at its top-level ANDs, on the syntax tree.
func whereConjuncts(n *pg_query.Node) []*pg_query.Node {
	if n == nil {
		return nil
	}
	if be := n.GetBoolExpr(); be != nil && be.Boolop == pg_query.BoolExprType_AND_EXPR {
		var out []*pg_query.Node
		for _, a := range be.Args {
			out = append(out, whereConjuncts(a)...)
		}
		return out
	}
	return []*pg_query.Node{n}
}

// isSemiJoinConjunct reports whether n is [NOT] EXISTS (…) or x [NOT] IN (SELECT …).
func isSemiJoinConjunct(n *pg_query.Node) bool {
	if be := n.GetBoolExpr(); be != nil && be.Boolop == pg_query.BoolExprType_NOT_EXPR && len(be.Args) == 1 {
		n = be.Args[0]
	}
	sl := n.GetSubLink()
	if sl == nil {
		return false
	}
	switch sl.SubLinkType {
	case pg_query.SubLinkType_EXISTS_SUBLINK:
		return true
	case pg_query.SubLinkType_ANY_SUBLINK:
		return len(sl.OperName) == 0 || opName(sl.OperName) == "="
	}
	return false
}

// semiJoin applies one [NOT] EXISTS / [NOT] IN conjunct to left, whose columns are full's.
func (b *binder) semiJoin(n *pg_query.Node, left plan.Node, full *scope) plan.Node {
	anti := false
	if be := n.GetBoolExpr(); be != nil {
		anti, n = true, be.Args[0]
	}
	sl := n.GetSubLink()
	sub := sl.Subselect.GetSelectStmt()
	if sl.SubLinkType == pg_query.SubLinkType_EXISTS_SUBLINK {
		return b.existsJoin(sub, left, full, anti, sl.Location)
	}
	// x IN (SELECT y …): a semi-join on x = y; NOT IN is the null-aware anti-join.
	if sl.Testexpr.GetRowExpr() != nil {
		b.unsupported(sl.Location, "row-valued IN (subquery)")
	}
	x := b.expr(sl.Testexpr, full)
	right := b.withOuter(full, false, sub)
	rs := right.Schema()
	if len(rs) != 1 {
		b.fail(sqlerr.SyntaxError, sl.Location, "subquery has too many columns")
	}
	t := commonType(x.Type(), rs[0].Type)
	if x.Type() == catalog.Unknown && rs[0].Type == catalog.Unknown {
		t = catalog.Text
	}
	if t == catalog.Unknown {
		b.noOperator(x.Type(), "=", rs[0].Type, sl.Location)
	}
	x, _ = b.tryCoerce(x, t, location(sl.Testexpr))
	if rs[0].Type != t {
		y := &expr.Col{Idx: 0, T: rs[0].Type, Name: rs[0].Name}
		right = &plan.Project{Input: right, Exprs: []expr.Expr{&expr.Cast{E: y, T: t}}, Cols: []plan.Column{{Name: rs[0].Name, Type: t}}}
	}
	return b.keyedSemiJoin(left, right, []expr.Expr{x}, []int{0}, anti, anti)
}

// keyedSemiJoin semi-joins left to right on leftExprs[i] = right column rightKeys[i].
// Left key expressions that are not plain columns are computed by a projection that is
// dropped again after the join, so the result has left's columns.
func (b *binder) keyedSemiJoin(left, right plan.Node, leftExprs []expr.Expr, rightKeys []int, anti, nullAware bool) plan.Node {
	ls := left.Schema()
	var keys []int
	var extra []expr.Expr
	for _, e := range leftExprs {
		if c, ok := stripWideningCast(e); ok && c.T.Kind() == e.Type().Kind() {
			keys = append(keys, c.Idx)
			continue
		}
		keys = append(keys, len(ls)+len(extra))
		extra = append(extra, e)
	}
	if len(extra) == 0 {
		return &plan.SemiJoin{Left: left, Right: right, LeftKeys: keys, RightKeys: rightKeys, Anti: anti, NullAware: nullAware}
	}
	ident := identity(ls)
	wide := &plan.Project{Input: left, Exprs: append(append([]expr.Expr{}, ident...), extra...), Cols: append([]plan.Column{}, ls...)}
	for _, e := range extra {
		wide.Cols = append(wide.Cols, plan.Column{Name: e.String(), Type: e.Type()})
	}
	j := &plan.SemiJoin{Left: wide, Right: right, LeftKeys: keys, RightKeys: rightKeys, Anti: anti, NullAware: nullAware}
	return &plan.Project{Input: j, Exprs: ident, Cols: ls}
}

func identity(cols []plan.Column) []expr.Expr {
	out := make([]expr.Expr, len(cols))
	for i, c := range cols {
		out[i] = &expr.Col{Idx: i, T: c.Type, Name: c.Name}
	}
	return out
}

// existsJoin binds [NOT] EXISTS (sub). Correlation is supported as equalities between
// the subquery's columns and the outer query's in the subquery's WHERE clause; they
// become the semi-join's keys.
func (b *binder) existsJoin(sub *pg_query.SelectStmt, left plan.Node, full *scope, anti bool, loc int32) plan.Node {
	cc := &corrCapture{sel: sub}
	savedCC, savedRefs := b.corr, b.outerRefs
	b.corr, b.outerRefs = cc, 0
	right := b.withOuter(full, true, sub)
	refs := b.outerRefs
	b.corr, b.outerRefs = savedCC, savedRefs
	if refs != len(cc.outer) {
		b.unsupported(loc, "a correlated reference in EXISTS outside an equality in its WHERE clause")
	}
	if len(cc.outer) == 0 {
		return &plan.SemiJoin{Left: left, Right: right, Anti: anti}
	}
	leftExprs := make([]expr.Expr, len(cc.outer))
	rightKeys := make([]int, len(cc.outer))
	for i, o := range cc.outer {
		leftExprs[i] = &expr.Col{Idx: o, T: full.cols[o].typ, Name: full.cols[o].name}
		rightKeys[i] = i
	}
	return b.keyedSemiJoin(left, right, leftExprs, rightKeys, anti, false)
}

// captureCorrelation takes the conjuncts of the EXISTS subquery being bound that
// reference the outer query. Each must be inner = outer.column; the inner sides become
// the subquery's output columns. It returns the conjuncts that stay inside.
func (b *binder) captureCorrelation(conjuncts []expr.Expr) []expr.Expr {
	var keep []expr.Expr
	for _, c := range conjuncts {
		if !hasOuterRef(c) {
			keep = append(keep, c)
			continue
		}
		bin, ok := c.(*expr.Binary)
		if ok && bin.Op == expr.OpEq {
			if o, ok := unwrapOuter(bin.R); ok && !hasOuterRef(bin.L) {
				b.corr.inner, b.corr.outer = append(b.corr.inner, castTo(bin.L, o.t)), append(b.corr.outer, o.idx)
				continue
			}
			if o, ok := unwrapOuter(bin.L); ok && !hasOuterRef(bin.R) {
				b.corr.inner, b.corr.outer = append(b.corr.inner, castTo(bin.R, o.t)), append(b.corr.outer, o.idx)
				continue
			}
		}
		b.unsupported(-1, "correlation other than inner = outer column in EXISTS ("+c.String()+")")
	}
	return keep
}

func castTo(e expr.Expr, t catalog.Type) expr.Expr {
	if e.Type() == t {
		return e
	}
	return &expr.Cast{E: e, T: t}
}

func unwrapOuter(e expr.Expr) (*outerRef, bool) {
	if c, ok := e.(*expr.Cast); ok {
		e = c.E
	}
	o, ok := e.(*outerRef)
	return o, ok
}

func hasOuterRef(e expr.Expr) bool {
	found := false
	walk(e, func(x expr.Expr) {
		if _, ok := x.(*outerRef); ok {
			found = true
		}
	})
	return found
}

// setOpPlan binds UNION / INTERSECT / EXCEPT [ALL].
func (b *binder) setOpPlan(s *pg_query.SelectStmt) plan.Node {
	l, r := b.selectPlan(s.Larg), b.selectPlan(s.Rarg)
	ls, rs := l.Schema(), r.Schema()
	opName := strings.TrimPrefix(s.Op.String(), "SETOP_")
	if len(ls) != len(rs) {
		b.fail(sqlerr.SyntaxError, -1, "each %s query must have the same number of columns", opName)
	}
	lc, rc := make([]expr.Expr, len(ls)), make([]expr.Expr, len(rs))
	cols := make([]plan.Column, len(ls))
	lcast, rcast := false, false
	for i := range ls {
		t := commonType(ls[i].Type, rs[i].Type)
		if t == catalog.Unknown {
			b.fail(sqlerr.DatatypeMismatch, -1, "%s types %s and %s cannot be matched", opName, ls[i].Type, rs[i].Type)
		}
		lc[i] = castTo(&expr.Col{Idx: i, T: ls[i].Type, Name: ls[i].Name}, t)
		rc[i] = castTo(&expr.Col{Idx: i, T: rs[i].Type, Name: rs[i].Name}, t)
		lcast = lcast || ls[i].Type != t
		rcast = rcast || rs[i].Type != t
		cols[i] = plan.Column{Name: ls[i].Name, Type: t}
	}
	if lcast {
		l = &plan.Project{Input: l, Exprs: lc, Cols: cols}
	}
	if rcast {
		r = &plan.Project{Input: r, Exprs: rc, Cols: cols}
	}
	if s.Op == pg_query.SetOperation_SETOP_UNION && s.All {
		return &plan.Union{Inputs: []plan.Node{l, r}}
	}
	op := map[pg_query.SetOperation]exec.SetOpKind{
		pg_query.SetOperation_SETOP_UNION:     exec.SetUnion,
		pg_query.SetOperation_SETOP_INTERSECT: exec.SetIntersect,
		pg_query.SetOperation_SETOP_EXCEPT:    exec.SetExcept,
	}[s.Op]
	return &plan.SetOp{Left: l, Right: r, Op: op, All: s.All}
}

// orderLimit applies ORDER BY … LIMIT / OFFSET to a query's output. ORDER BY alone does
// not change a view's contents (a relation is unordered) and is ignored.
func (b *binder) orderLimit(s *pg_query.SelectStmt, out plan.Node) plan.Node {
	if s.LimitCount == nil && s.LimitOffset == nil {
		return out
	}
	if s.LimitOption == pg_query.LimitOption_LIMIT_OPTION_WITH_TIES {
		b.unsupported(location(s.LimitCount), "FETCH … WITH TIES")
	}
	limit, offset := int64(-1), int64(0)
	if s.LimitCount != nil {
		limit = b.constCount(s.LimitCount, "LIMIT", -1)
	}
	if s.LimitOffset != nil {
		offset = b.constCount(s.LimitOffset, "OFFSET", 0)
	}
	cols := out.Schema()
	var order []exec.SortKey
	for _, o := range s.SortClause {
		sb := o.GetSortBy()
		if len(sb.UseOp) > 0 {
			b.unsupported(sb.Location, "ORDER BY … USING")
		}
		col := b.outputColumn(sb.Node, cols)
		b.checkOrderable(cols[col].Type, location(sb.Node), "ORDER BY")
		desc := sb.SortbyDir == pg_query.SortByDir_SORTBY_DESC
		nullsFirst := desc
		switch sb.SortbyNulls {
		case pg_query.SortByNulls_SORTBY_NULLS_FIRST:
			nullsFirst = true
		case pg_query.SortByNulls_SORTBY_NULLS_LAST:
			nullsFirst = false
		}
		order = append(order, exec.SortKey{Col: col, Desc: desc, NullsFirst: nullsFirst})
	}
	return &plan.TopN{Input: out, Order: order, Limit: limit, Offset: offset, Rank: exec.RowNumber}
}

// constCount reads a LIMIT or OFFSET: a non-negative integer constant, or NULL / ALL
// (none, returned as def).
func (b *binder) constCount(n *pg_query.Node, what string, def int64) int64 {
	e := b.fold(b.expr(n, nil), location(n))
	c, ok := e.(*expr.Const)
	if !ok || (!c.T.IsInteger() && c.T != catalog.Unknown) {
		b.unsupported(location(n), what+" that is not an integer constant")
	}
	if c.V.Null {
		return def
	}
	v := c.V.I
	if c.T == catalog.Unknown {
		x, err := expr.Parse(c.V.S, catalog.Int8)
		if err != nil {
			b.failErr(err, location(n))
		}
		v = x.I
	}
	if v < 0 {
		b.fail("2201W", location(n), "%s must not be negative", what)
	}
	return v
}

// outputColumn resolves an ORDER BY item to an output column: an ordinal, an output
// column's name, or an expression equal to one of the output columns.
func (b *binder) outputColumn(n *pg_query.Node, cols []plan.Column) int {
	if c := n.GetAConst(); c != nil {
		if iv, ok := c.Val.(*pg_query.A_Const_Ival); ok {
			k := int(iv.Ival.Ival)
			if k < 1 || k > len(cols) {
				b.fail(sqlerr.InvalidColumnReference, c.Location, "ORDER BY position %d is not in select list", k)
			}
			return k - 1
		}
	}
	if cr := n.GetColumnRef(); cr != nil {
		parts := cr.Fields
		name := parts[len(parts)-1].GetString_().GetSval()
		found := -1
		for i, c := range cols {
			if c.Name == name && (len(parts) == 1 || c.Table == "" || c.Table == parts[0].GetString_().GetSval()) {
				if found >= 0 && len(parts) == 1 {
					b.fail(sqlerr.AmbiguousColumn, cr.Location, "ORDER BY %q is ambiguous", name)
				}
				found = i
			}
		}
		if found >= 0 {
			return found
		}
	}
	b.unsupported(location(n), "ORDER BY an expression that is not a column of the select list (with LIMIT)")
	return 0
}

var rankingFunctions = map[string]exec.RankKind{"row_number": exec.RowNumber, "rank": exec.Rank, "dense_rank": exec.DenseRank}

// hasWindow reports whether a select list calls a window function.
func hasWindow(list []*pg_query.Node) bool {
	found := false
	var visit func(n *pg_query.Node)
	visit = func(n *pg_query.Node) {
		if n == nil || found {
			return
		}
		if fc := n.GetFuncCall(); fc != nil && fc.Over != nil {
			found = true
			return
		}
		if n.GetSubLink() != nil {
			return
		}
		for _, c := range children(n) {
			visit(c)
		}
	}
	for _, n := range list {
		visit(n)
	}
	return found
}

// windowSelect binds a select list with a ranking window function — row_number(),
// rank() or dense_rank() OVER (PARTITION BY … ORDER BY …) — as a TopN that numbers every
// row. A filter on the rank in an enclosing query (rn <= N) is pushed into the TopN.
// A select list with aggregate window functions goes to windowAggSelect instead.
func (b *binder) windowSelect(s *pg_query.SelectStmt, in plan.Node, full *scope) plan.Node {
	if calls := windowCalls(s.TargetList); slices.ContainsFunc(calls, func(fc *pg_query.FuncCall) bool {
		return aggregateNames[funcName(fc)]
	}) {
		return b.windowAggSelect(s, in, full, calls)
	}
	var over *pg_query.WindowDef
	var kind exec.RankKind
	var visit func(n *pg_query.Node)
	visit = func(n *pg_query.Node) {
		if n == nil || n.GetSubLink() != nil {
			return
		}
		if fc := n.GetFuncCall(); fc != nil && fc.Over != nil {
			name := strings.ToLower(fc.Funcname[len(fc.Funcname)-1].GetString_().Sval)
			k, ok := rankingFunctions[name]
			if !ok {
				b.unsupported(fc.Location, "window function "+name+"() (only row_number, rank and dense_rank, and count, sum, avg, min and max)")
			}
			if len(fc.Args) > 0 || fc.AggStar || fc.AggFilter != nil {
				b.fail(sqlerr.UndefinedFunction, fc.Location, "function %s with arguments does not exist", name)
			}
			if fc.Over.Name != "" || fc.Over.Refname != "" {
				b.unsupported(fc.Location, "named windows")
			}
			if over != nil && (!proto.Equal(withoutLocations(over), withoutLocations(fc.Over)) || kind != k) {
				b.unsupported(fc.Location, "several different window functions in one SELECT")
			}
			over, kind = fc.Over, k
			return
		}
		for _, c := range children(n) {
			visit(c)
		}
	}
	for _, t := range s.TargetList {
		visit(t)
	}
	ls := in.Schema()
	pre := identity(ls)
	preCols := append([]plan.Column{}, ls...)
	partition, order := b.windowKeys(over, full, &pre, &preCols)
	var node plan.Node = &plan.Project{Input: in, Exprs: pre, Cols: preCols}
	rankName := "row_number"
	for name, k := range rankingFunctions {
		if k == kind {
			rankName = name
		}
	}
	node = &plan.TopN{Input: node, Partition: partition, Order: order, Limit: -1, Rank: kind, RankCol: true, RankName: rankName}
	b.rankCol = &expr.Col{Idx: len(pre), T: catalog.Int8, Name: rankName}
	defer func() { b.rankCol = nil }()
	exprs, cols := b.targets(s.TargetList, full)
	return &plan.Project{Input: node, Exprs: exprs, Cols: cols}
}

// windowKeys binds the PARTITION BY and ORDER BY of a window over the scope full,
// appending their expressions to the pre-projection pre (with columns preCols), and
// returns the partition columns and sort keys, as indexes into it.
func (b *binder) windowKeys(over *pg_query.WindowDef, full *scope, pre *[]expr.Expr, preCols *[]plan.Column) ([]int, []exec.SortKey) {
	var partition []int
	for _, p := range over.PartitionClause {
		e := b.finalType(b.expr(p, full), location(p))
		partition = append(partition, len(*pre))
		*pre = append(*pre, e)
		*preCols = append(*preCols, plan.Column{Name: e.String(), Type: e.Type()})
	}
	var order []exec.SortKey
	for _, o := range over.OrderClause {
		sb := o.GetSortBy()
		if len(sb.UseOp) > 0 {
			b.unsupported(sb.Location, "ORDER BY … USING")
		}
		e := b.finalType(b.expr(sb.Node, full), sb.Location)
		b.checkOrderable(e.Type(), location(sb.Node), "ORDER BY")
		desc := sb.SortbyDir == pg_query.SortByDir_SORTBY_DESC
		nullsFirst := desc
		switch sb.SortbyNulls {
		case pg_query.SortByNulls_SORTBY_NULLS_FIRST:
			nullsFirst = true
		case pg_query.SortByNulls_SORTBY_NULLS_LAST:
			nullsFirst = false
		}
		order = append(order, exec.SortKey{Col: len(*pre), Desc: desc, NullsFirst: nullsFirst})
		*pre = append(*pre, e)
		*preCols = append(*preCols, plan.Column{Name: e.String(), Type: e.Type()})
	}
	return partition, order
}

// withoutLocations returns a copy of m with every source location cleared, so two
// spellings of the same window definition compare equal.
func withoutLocations(m proto.Message) proto.Message {
	c := proto.Clone(m)
	var clear func(r protoreflect.Message)
	clear = func(r protoreflect.Message) {
		var loc protoreflect.FieldDescriptor
		r.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.Name() == "location":
				loc = fd
			case fd.Kind() == protoreflect.MessageKind && fd.IsList():
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					clear(l.Get(i).Message())
				}
			case fd.Kind() == protoreflect.MessageKind && !fd.IsMap():
				clear(v.Message())
			}
			return true
		})
		if loc != nil {
			r.Clear(loc)
		}
	}
	clear(c.ProtoReflect())
	return c
}

// intConst returns the value of an integer constant, also one the binder cast to
// another integer type (rn <= 10 compares a bigint with 10::bigint).
func intConst(e expr.Expr) (int64, bool) {
	if c, ok := e.(*expr.Cast); ok && c.T.IsInteger() {
		e = c.E
	}
	k, ok := e.(*expr.Const)
	if !ok || !k.T.IsInteger() || k.V.Null {
		return 0, false
	}
	return k.V.I, true
}

// pushRankLimit sets the limit of the TopN numbering column col of node, when node is a
// projection of such a TopN's rank column and the TopN has no limit yet.
func pushRankLimit(node plan.Node, col int, limit int64) {
	p, ok := node.(*plan.Project)
	if !ok {
		return
	}
	c, ok := p.Exprs[col].(*expr.Col)
	if !ok {
		return
	}
	t, ok := p.Input.(*plan.TopN)
	if !ok || !t.RankCol || c.Idx != len(t.Input.Schema()) || t.Limit >= 0 {
		return
	}
	t.Limit = limit
}
