package planner

import (
	"slices"
	"strconv"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner/plan"
)

func (b *binder) createView(s *pg_query.CreateTableAsStmt) Statement {
	into := s.Into
	if into.Rel.Schemaname != "" && into.Rel.Schemaname != "public" {
		b.fail(sqlerr.FeatureNotSupported, into.Rel.Location, "schema %q is not supported (only public)", into.Rel.Schemaname)
	}
	sel := s.Query.GetSelectStmt()
	if sel == nil {
		b.unsupported(-1, "this materialized view query")
	}
	if into.SkipData {
		b.unsupported(-1, "WITH NO DATA")
	}
	b.inView = true
	root := b.selectPlan(sel)
	b.setSessionKeys(root)
	root = pruneJoins(eagerAggregate(root))
	setExpiries(root)
	if b.ext != nil && b.ext.emitOnWindowClose {
		root = b.emitOnWindowClose(root)
	}
	schema := root.Schema()
	if len(into.ColNames) > len(schema) {
		b.fail(sqlerr.SyntaxError, into.Rel.Location, "too many column names were specified")
	}
	rel := &catalog.Relation{Name: into.Rel.Relname, Kind: catalog.View, SQL: b.sql}
	seen := map[string]bool{}
	for i, c := range schema {
		name := c.Name
		if i < len(into.ColNames) {
			name = into.ColNames[i].GetString_().Sval
		}
		if seen[name] {
			b.fail(sqlerr.DuplicateColumn, into.Rel.Location, "column %q specified more than once", name)
		}
		seen[name] = true
		rel.Columns = append(rel.Columns, catalog.Column{Name: name, Type: c.Type})
	}
	deps := map[string]bool{}
	collectScans(root, deps)
	for d := range deps {
		rel.DependsOn = append(rel.DependsOn, d)
	}
	sortStrings(rel.DependsOn)
	rel.Query = viewQueryText(b.sql)
	if b.ptypes != nil && len(b.ptypes) > 0 {
		b.unsupported(-1, "parameters in CREATE MATERIALIZED VIEW")
	}
	return &CreateView{params: b.params(), Rel: rel, Plan: root, IfNotExists: s.IfNotExists}
}

// viewQueryText extracts the SELECT text of a CREATE MATERIALIZED VIEW … AS SELECT.
func viewQueryText(sql string) string {
	toks, err := scan(sql)
	if err != nil {
		return sql
	}
	for i, t := range toks {
		if t.text == "as" && i+1 < len(toks) && (toks[i+1].text == "select" || toks[i+1].text == "(" || toks[i+1].text == "with") {
			return strings.TrimRight(strings.TrimSpace(sql[toks[i+1].start:]), ";")
		}
	}
	return sql
}

func collectScans(n plan.Node, into map[string]bool) {
	if s, ok := n.(*plan.Scan); ok {
		into[s.Rel.Name] = true
	}
	for _, c := range n.Children() {
		collectScans(c, into)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func explainText(root plan.Node) string { return plan.Explain(root) }

// fromItem is one FROM entry: its plan and the columns it exposes.
type fromItem struct {
	node plan.Node
	sc   *scope
}

// selectPlan binds a SELECT into a logical plan (the continuous-query subset).
func (b *binder) selectPlan(s *pg_query.SelectStmt) plan.Node {
	if s.WithClause != nil {
		b.pushCTEs(s.WithClause)
		defer b.popCTEs()
	}
	if s.Op != pg_query.SetOperation_SETOP_NONE {
		return b.orderLimit(s, b.setOpPlan(s))
	}
	switch {
	case len(s.ValuesLists) > 0:
		b.unsupported(-1, "VALUES in a materialized view")
	case len(s.WindowClause) > 0:
		b.unsupported(-1, "WINDOW clause")
	case len(s.LockingClause) > 0:
		b.unsupported(-1, "FOR UPDATE/SHARE")
	case s.GroupDistinct:
		b.unsupported(-1, "GROUP BY DISTINCT")
	case len(s.FromClause) == 0:
		b.unsupported(-1, "a materialized view without FROM")
	}
	distinct := false
	if len(s.DistinctClause) > 0 {
		if len(s.DistinctClause) == 1 && s.DistinctClause[0].Node == nil {
			distinct = true
		} else {
			b.unsupported(location(s.DistinctClause[0]), "DISTINCT ON")
		}
	}
	saved := b.scalars
	b.scalars = nil
	defer func() { b.scalars = saved }()

	// FROM: explicit joins bind their own ON; the comma list is folded left-deep with
	// the WHERE conjuncts that connect each new item as join keys. Uncorrelated scalar
	// subqueries join as one-row items at the end.
	var items []fromItem
	full := &scope{}
	for _, f := range s.FromClause {
		it := b.fromItem(f)
		items = append(items, it)
		full = full.concat(it.sc)
	}
	for _, sl := range scalarSubLinks(append(append([]*pg_query.Node{}, s.TargetList...), s.WhereClause, s.HavingClause)) {
		it := b.scalarSubquery(sl)
		if b.scalars == nil {
			b.scalars = map[*pg_query.SubLink]int{}
		}
		b.scalars[sl] = len(full.cols)
		items = append(items, it)
		full = full.concat(it.sc)
	}
	var conjuncts []expr.Expr
	var temporal []exec.TemporalBound // now() bounds (temporal.go)
	var semis []*pg_query.Node        // EXISTS / IN (subquery) conjuncts, applied after the joins
	for _, c := range whereConjuncts(s.WhereClause) {
		if isSemiJoinConjunct(c) {
			semis = append(semis, c)
			continue
		}
		conjuncts = append(conjuncts, b.whereConjunct(c, full, &temporal)...)
	}
	if b.corr != nil && b.corr.sel == s {
		conjuncts = b.captureCorrelation(conjuncts)
	}
	if len(items) == 1 {
		// rn <= N over a subquery that numbers rows: only the first N need keeping.
		for _, c := range conjuncts {
			if bin, ok := c.(*expr.Binary); ok {
				col, cok := bin.L.(*expr.Col)
				k, kok := intConst(bin.R)
				if cok && kok {
					switch {
					case bin.Op == expr.OpLe && k >= 0:
						pushRankLimit(items[0].node, col.Idx, k)
					case bin.Op == expr.OpLt && k >= 1:
						pushRankLimit(items[0].node, col.Idx, k-1)
					case bin.Op == expr.OpEq && k == 1:
						pushRankLimit(items[0].node, col.Idx, 1)
					}
				}
			}
		}
	}
	node := items[0].node
	width := len(items[0].sc.cols)
	for _, it := range items[1:] {
		nw := width + len(it.sc.cols)
		var use []expr.Expr
		rest := conjuncts[:0:0]
		for _, c := range conjuncts {
			lo, hi := colRange(c)
			if hi < nw && hi >= width && lo >= 0 {
				use = append(use, c)
			} else {
				rest = append(rest, c)
			}
		}
		conjuncts = rest
		node = b.join(node, it.node, width, use, exec.JoinInner)
		width = nw
	}
	if len(conjuncts) > 0 {
		node = &plan.Filter{Input: node, Pred: andAll(conjuncts)}
	}
	node = withTemporalFilter(node, temporal)
	for _, c := range semis {
		node = b.semiJoin(c, node, full)
	}
	if b.corr != nil && b.corr.sel == s && len(b.corr.inner) > 0 {
		// A correlated EXISTS subquery: what matters is which correlation keys exist.
		if len(s.GroupClause) > 0 || s.HavingClause != nil || b.containsAggregate(s.TargetList) || distinct ||
			s.LimitCount != nil || s.LimitOffset != nil || hasWindow(s.TargetList) {
			b.unsupported(-1, "a correlated EXISTS subquery with GROUP BY, aggregates, DISTINCT, LIMIT or window functions")
		}
		cols := make([]plan.Column, len(b.corr.inner))
		for i, e := range b.corr.inner {
			cols[i] = plan.Column{Name: e.String(), Type: e.Type()}
		}
		return &plan.Project{Input: node, Exprs: b.corr.inner, Cols: cols}
	}

	hasAgg := len(s.GroupClause) > 0 || s.HavingClause != nil || b.containsAggregate(s.TargetList)
	var out plan.Node
	switch {
	case hasWindow(s.TargetList):
		if hasAgg {
			b.unsupported(-1, "window functions together with GROUP BY or aggregates in one SELECT (use a subquery)")
		}
		out = b.windowSelect(s, node, full)
	case hasAgg:
		out = b.groupedSelect(s, node, full)
	default:
		exprs, cols := b.targets(s.TargetList, full)
		out = &plan.Project{Input: node, Exprs: exprs, Cols: cols}
	}
	if distinct {
		n := len(out.Schema())
		group := make([]int, n)
		for i := range group {
			group[i] = i
		}
		out = &plan.Aggregate{Input: out, GroupCols: group, Cols: out.Schema()}
	}
	return b.orderLimit(s, out)
}

func firstNonNil(ns ...*pg_query.Node) *pg_query.Node {
	for _, n := range ns {
		if n != nil {
			return n
		}
	}
	return nil
}

func (b *binder) fromItem(n *pg_query.Node) fromItem {
	switch v := n.Node.(type) {
	case *pg_query.Node_RangeVar:
		rv := v.RangeVar
		if cte := b.lookupCTE(rv); cte != nil {
			return b.cteItem(cte, rv)
		}
		rel := b.relation(rv)
		alias := rel.Name
		if rv.Alias != nil {
			alias = rv.Alias.Aliasname
			if len(rv.Alias.Colnames) > 0 {
				b.unsupported(rv.Location, "column aliases in FROM")
			}
		}
		return fromItem{node: &plan.Scan{Rel: rel, Alias: alias, Final: b.viewFinality(rel)}, sc: newRelScope(rel, alias)}
	case *pg_query.Node_JoinExpr:
		j := v.JoinExpr
		kind := exec.JoinInner
		switch j.Jointype {
		case pg_query.JoinType_JOIN_INNER:
		case pg_query.JoinType_JOIN_LEFT:
			kind = exec.JoinLeft
		case pg_query.JoinType_JOIN_RIGHT:
			kind = exec.JoinRight
		case pg_query.JoinType_JOIN_FULL:
			kind = exec.JoinFull
			if len(j.UsingClause) > 0 {
				b.unsupported(-1, "FULL JOIN … USING (write the join with ON)")
			}
		default:
			b.unsupported(-1, strings.TrimPrefix(j.Jointype.String(), "JOIN_")+" JOIN")
		}
		if j.IsNatural {
			b.unsupported(-1, "NATURAL JOIN")
		}
		if j.Alias != nil {
			b.unsupported(-1, "an alias on a JOIN")
		}
		l, r := b.fromItem(j.Larg), b.fromItem(j.Rarg)
		sc := l.sc.concat(r.sc)
		nl := len(l.sc.cols)
		var conds []expr.Expr
		if j.Quals != nil {
			conds = splitAnd(b.predicate(j.Quals, sc))
		}
		var using []int // the left side's USING columns, which `*` lists first
		for _, u := range j.UsingClause {
			name := u.GetString_().Sval
			find := func(cols []scopeCol, side string) int {
				at := -1
				for i, c := range cols {
					if c.name == name && !c.hidden {
						if at >= 0 {
							b.fail(sqlerr.AmbiguousColumn, -1, "common column name %q appears more than once in %s table", name, side)
						}
						at = i
					}
				}
				return at
			}
			li, ri := find(l.sc.cols, "left"), find(r.sc.cols, "right")
			if li < 0 || ri < 0 {
				b.fail(sqlerr.UndefinedColumn, -1, "column %q specified in USING clause does not exist in both tables", name)
			}
			lc := &expr.Col{Idx: li, T: sc.cols[li].typ, Name: name}
			rc := &expr.Col{Idx: nl + ri, T: sc.cols[nl+ri].typ, Name: name}
			le, re, _ := b.unify(lc, rc, "=", -1)
			conds = append(conds, &expr.Binary{Op: expr.OpEq, L: le, R: re, T: catalog.Bool})
			if kind == exec.JoinRight {
				// RIGHT JOIN … USING: the merged column is the right side's.
				using = append(using, nl+ri)
				sc.cols[li].hidden = true
			} else {
				using = append(using, li)
				sc.cols[nl+ri].hidden = true
			}
		}
		if len(using) > 0 {
			// PostgreSQL's `*` order: the merged USING columns, the rest of the left
			// side, then the right side without its merged columns.
			star := append([]int{}, using...)
			for _, i := range l.sc.starCols() {
				if !slices.Contains(using, i) && !sc.cols[i].hidden {
					star = append(star, i)
				}
			}
			for _, i := range r.sc.starCols() {
				if !sc.cols[nl+i].hidden && !slices.Contains(using, nl+i) {
					star = append(star, nl+i)
				}
			}
			sc.star = star
		}
		return fromItem{node: b.join(l.node, r.node, nl, conds, kind), sc: sc}
	case *pg_query.Node_RangeSubselect:
		return b.subqueryItem(v.RangeSubselect)
	case *pg_query.Node_RangeFunction:
		return b.windowItem(v.RangeFunction)
	}
	b.unsupported(location(n), "this FROM item")
	return fromItem{}
}

// join builds an inner join of left (columns [0,nl)) and right; equalities between a
// left column and a right column of the same physical kind become hash keys, the rest a
// residual predicate over the joined row.
func (b *binder) join(left, right plan.Node, nl int, conds []expr.Expr, kind exec.JoinKind) plan.Node {
	j := &plan.Join{Left: left, Right: right, Kind: kind}
	var residual []expr.Expr
	for _, c := range conds {
		if bin, ok := c.(*expr.Binary); ok && bin.Op == expr.OpEq {
			lc, lok := stripWideningCast(bin.L)
			rc, rok := stripWideningCast(bin.R)
			if lok && rok && lc.T.Kind() == rc.T.Kind() {
				if lc.Idx >= nl && rc.Idx < nl {
					lc, rc = rc, lc
				}
				if lc.Idx < nl && rc.Idx >= nl {
					j.LeftKeys = append(j.LeftKeys, lc.Idx)
					j.RightKeys = append(j.RightKeys, rc.Idx-nl)
					continue
				}
			}
		}
		residual = append(residual, c)
	}
	if len(residual) > 0 {
		j.Residual = andAll(residual)
	}
	return j
}

// stripWideningCast sees through integer widening casts: an int4 and an int8 column hold
// equal values in the same physical form, so they can share a hash key.
func stripWideningCast(e expr.Expr) (*expr.Col, bool) {
	if c, ok := e.(*expr.Cast); ok && c.T.IsInteger() && c.E.Type().IsInteger() {
		e = c.E
	}
	if c, ok := e.(*expr.Cast); ok && c.T.IsString() && c.E.Type().IsString() {
		e = c.E
	}
	col, ok := e.(*expr.Col)
	return col, ok
}

func splitAnd(e expr.Expr) []expr.Expr {
	if bin, ok := e.(*expr.Binary); ok && bin.Op == expr.OpAnd {
		return append(splitAnd(bin.L), splitAnd(bin.R)...)
	}
	return []expr.Expr{e}
}

func andAll(es []expr.Expr) expr.Expr {
	e := es[0]
	for _, x := range es[1:] {
		e = &expr.Binary{Op: expr.OpAnd, L: e, R: x, T: catalog.Bool}
	}
	return e
}

// colRange returns the lowest and highest column index e reads (-1, -1 for none).
func colRange(e expr.Expr) (lo, hi int) {
	lo, hi = -1, -1
	walk(e, func(x expr.Expr) {
		if c, ok := x.(*expr.Col); ok {
			if lo < 0 || c.Idx < lo {
				lo = c.Idx
			}
			if c.Idx > hi {
				hi = c.Idx
			}
		}
	})
	return lo, hi
}

// targets binds a non-grouped select list.
func (b *binder) targets(list []*pg_query.Node, sc *scope) ([]expr.Expr, []plan.Column) {
	var exprs []expr.Expr
	var cols []plan.Column
	for _, t := range list {
		rt := t.GetResTarget()
		if star, table := isStar(rt.Val); star {
			found := false
			order := sc.starCols()
			if table != "" {
				order = make([]int, len(sc.cols)) // t.* lists all of t's columns in table order
				for i := range order {
					order[i] = i
				}
			}
			for _, i := range order {
				c := sc.cols[i]
				if table != "" && c.table != table {
					continue
				}
				found = true
				exprs = append(exprs, &expr.Col{Idx: i, T: c.typ, Name: c.name})
				cols = append(cols, plan.Column{Table: c.table, Name: c.name, Type: c.typ})
			}
			if !found && table != "" {
				b.fail(sqlerr.UndefinedTable, rt.Location, "missing FROM-clause entry for table %q", table)
			}
			continue
		}
		e := b.finalType(b.expr(rt.Val, sc), rt.Location)
		exprs = append(exprs, e)
		cols = append(cols, plan.Column{Name: targetName(rt), Type: e.Type()})
	}
	return exprs, cols
}

func (b *binder) finalType(e expr.Expr, loc int32) expr.Expr {
	if e.Type() == catalog.Unknown {
		c, _ := b.tryCoerce(e, catalog.Text, loc)
		return c
	}
	return e
}

func isStar(n *pg_query.Node) (bool, string) {
	cr := n.GetColumnRef()
	if cr == nil {
		return false, ""
	}
	last := cr.Fields[len(cr.Fields)-1]
	if _, ok := last.Node.(*pg_query.Node_AStar); !ok {
		return false, ""
	}
	if len(cr.Fields) == 2 {
		return true, cr.Fields[0].GetString_().Sval
	}
	return true, ""
}

func (b *binder) containsAggregate(list []*pg_query.Node) bool {
	found := false
	walkOutsideSubqueries(list, func(n *pg_query.Node) bool {
		if found {
			return false
		}
		if fc := n.GetFuncCall(); fc != nil {
			name := strings.ToLower(fc.Funcname[len(fc.Funcname)-1].GetString_().Sval)
			if aggregateNames[name] && fc.Over == nil {
				found = true
				return false
			}
		}
		return true
	})
	return found
}

// walkOutsideSubqueries calls visit on every node of list's expressions, depth first,
// skipping subqueries (their calls are their own); visit returns whether to go into
// the node's children.
func walkOutsideSubqueries(list []*pg_query.Node, visit func(n *pg_query.Node) bool) {
	var walk func(n *pg_query.Node)
	walk = func(n *pg_query.Node) {
		if n == nil || n.GetSubLink() != nil || !visit(n) {
			return
		}
		for _, c := range children(n) {
			walk(c)
		}
	}
	for _, n := range list {
		walk(n)
	}
}

// groupedSelect binds GROUP BY / aggregates / HAVING: a projection computing the group
// keys and aggregate arguments, the aggregate, HAVING as a filter over its output, and
// the select list rewritten over the aggregate's columns.
func (b *binder) groupedSelect(s *pg_query.SelectStmt, in plan.Node, sc *scope) plan.Node {
	var groups []expr.Expr
	for _, g := range s.GroupClause {
		groups = append(groups, b.groupExpr(g, s.TargetList, sc))
	}
	groups = functionallyDependent(groups, sc)
	if len(groups) > 0 {
		for _, i := range b.scalars {
			// A scalar subquery's one value is the same for every row: grouping by it is
			// free. Not for a global aggregate, whose one row must exist with no input.
			groups = append(groups, &expr.Col{Idx: i, T: sc.cols[i].typ, Name: "(subquery)"})
		}
	}
	b.agg = &aggCtx{}
	defer func() { b.agg = nil }()
	var targets []expr.Expr
	var cols []plan.Column
	for _, t := range s.TargetList {
		rt := t.GetResTarget()
		if star, _ := isStar(rt.Val); star {
			b.fail(sqlerr.GroupingError, rt.Location, "SELECT * is not allowed with GROUP BY; name the columns")
		}
		e := b.finalType(b.expr(rt.Val, sc), rt.Location)
		targets = append(targets, e)
		cols = append(cols, plan.Column{Name: targetName(rt), Type: e.Type()})
	}
	var having expr.Expr
	if s.HavingClause != nil {
		having = b.predicate(s.HavingClause, sc)
	}
	aggs := b.agg.aggs

	// Pre-projection: group keys, then one column per aggregate argument.
	var pre []expr.Expr
	var preCols []plan.Column
	for i, g := range groups {
		pre = append(pre, g)
		preCols = append(preCols, plan.Column{Name: groupName(g, i), Type: g.Type()})
	}
	ng := len(groups)
	var specs []exec.AggSpec
	aggCols := append([]plan.Column{}, preCols...)
	for _, a := range aggs {
		spec := exec.AggSpec{Func: aggFunc(a.fn, a.arg == nil), Arg: -1, Distinct: a.distinct, ResultType: a.typ}
		if a.arg != nil {
			spec.Arg = len(pre)
			spec.ArgType = a.arg.Type()
			pre = append(pre, a.arg)
			preCols = append(preCols, plan.Column{Name: a.arg.String(), Type: a.arg.Type()})
		}
		specs = append(specs, spec)
		aggCols = append(aggCols, plan.Column{Name: a.fn, Type: a.typ})
	}
	groupCols := make([]int, ng)
	for i := range groupCols {
		groupCols[i] = i
	}
	var node plan.Node = &plan.Project{Input: in, Exprs: pre, Cols: preCols}
	node = &plan.Aggregate{Input: node, GroupCols: groupCols, Aggs: specs, Cols: aggCols}
	if having != nil {
		node = &plan.Filter{Input: node, Pred: b.overAggregate(having, groups, aggCols)}
	}
	post := make([]expr.Expr, len(targets))
	for i, t := range targets {
		post[i] = b.overAggregate(t, groups, aggCols)
	}
	return &plan.Project{Input: node, Exprs: post, Cols: cols}
}

// functionallyDependent adds, for every table whose whole primary key is grouped on, the
// table's other columns as group keys: they are functionally dependent on the key, so
// the groups do not change, and PostgreSQL lets the select list use them ungrouped.
func functionallyDependent(groups []expr.Expr, sc *scope) []expr.Expr {
	grouped := map[int]bool{}
	for _, g := range groups {
		if c, ok := g.(*expr.Col); ok {
			grouped[c.Idx] = true
		}
	}
	type instance struct {
		table string
		rel   *catalog.Relation
	}
	seen := map[instance]bool{}
	for _, c := range sc.cols {
		in := instance{c.table, c.rel}
		if c.rel == nil || len(c.rel.PrimaryKey) == 0 || seen[in] {
			continue
		}
		seen[in] = true
		var idx []int // scope indexes of this instance's columns, by relation column
		idx = make([]int, len(c.rel.Columns))
		for i, o := range sc.cols {
			if o.table == in.table && o.rel == in.rel {
				idx[o.relCol] = i
			}
		}
		all := true
		for _, k := range c.rel.PrimaryKey {
			all = all && grouped[idx[k]]
		}
		if !all {
			continue
		}
		for _, i := range idx {
			if !grouped[i] {
				grouped[i] = true
				o := sc.cols[i]
				groups = append(groups, &expr.Col{Idx: i, T: o.typ, Name: o.table + "." + o.name})
			}
		}
	}
	return groups
}

func groupName(e expr.Expr, i int) string {
	if c, ok := e.(*expr.Col); ok {
		return c.Name
	}
	return e.String()
}

func aggFunc(name string, star bool) exec.AggFunc {
	switch name {
	case "count":
		if star {
			return exec.AggCountStar
		}
		return exec.AggCount
	case "sum":
		return exec.AggSum
	case "avg":
		return exec.AggAvg
	case "min":
		return exec.AggMin
	}
	return exec.AggMax
}

// groupExpr binds one GROUP BY item: an ordinal, an output-column alias, or an
// expression over the input.
func (b *binder) groupExpr(g *pg_query.Node, targets []*pg_query.Node, sc *scope) expr.Expr {
	if c := g.GetAConst(); c != nil {
		if iv, ok := c.Val.(*pg_query.A_Const_Ival); ok {
			k := int(iv.Ival.Ival)
			if k < 1 || k > len(targets) {
				b.fail(sqlerr.InvalidColumnReference, c.Location, "GROUP BY position %d is not in select list", k)
			}
			rt := targets[k-1].GetResTarget()
			if b.containsAggregate([]*pg_query.Node{rt.Val}) {
				b.fail(sqlerr.GroupingError, c.Location, "aggregate functions are not allowed in GROUP BY")
			}
			return b.finalType(b.expr(rt.Val, sc), rt.Location)
		}
	}
	if cr := g.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
		name := cr.Fields[0].GetString_().Sval
		inInput := false
		for _, c := range sc.cols {
			if c.name == name && !c.hidden {
				inInput = true
			}
		}
		if !inInput {
			for _, t := range targets {
				if rt := t.GetResTarget(); rt.Name == name {
					return b.finalType(b.expr(rt.Val, sc), rt.Location)
				}
			}
		}
	}
	if b.containsAggregate([]*pg_query.Node{g}) {
		b.fail(sqlerr.GroupingError, location(g), "aggregate functions are not allowed in GROUP BY")
	}
	return b.finalType(b.expr(g, sc), location(g))
}

// overAggregate rewrites an expression bound over the aggregate's input so it reads the
// aggregate's output: group-key subtrees become key columns, aggregates their result
// columns. Any input column left over is not grouped: 42803.
func (b *binder) overAggregate(e expr.Expr, groups []expr.Expr, cols []plan.Column) expr.Expr {
	keys := make(map[string]int, len(groups))
	for i, g := range groups {
		keys[groupKey(g)] = i
	}
	return rewrite(e, func(x expr.Expr) (expr.Expr, bool) {
		if a, ok := x.(*aggRef); ok {
			i := len(groups) + a.k
			return &expr.Col{Idx: i, T: a.t, Name: a.s}, true
		}
		if _, isConst := x.(*expr.Const); isConst {
			return x, true
		}
		if _, isParam := x.(*expr.Param); isParam {
			return x, true
		}
		if i, ok := keys[groupKey(x)]; ok {
			return &expr.Col{Idx: i, T: cols[i].Type, Name: cols[i].Name}, true
		}
		if c, ok := x.(*expr.Col); ok {
			b.fail(sqlerr.GroupingError, b.locOf(c, -1), "column %q must appear in the GROUP BY clause or be used in an aggregate function", c.Name)
		}
		return nil, false
	})
}

// groupKey renders e for matching select-list subtrees against GROUP BY expressions.
// String() is for people and is ambiguous: it names a column by how it was written (t.a
// and a are one column) and prints a text constant bare ('a' would match column a).
// Here columns are named by input position and text constants are quoted.
func groupKey(e expr.Expr) string {
	return rewrite(e, func(x expr.Expr) (expr.Expr, bool) {
		switch c := x.(type) {
		case *expr.Col:
			return &expr.Col{Idx: c.Idx, T: c.T}, true
		case *expr.Const:
			if c.T.IsString() && !c.V.Null {
				return expr.NewConst(delta.Str(strconv.Quote(c.V.S)), c.T), true
			}
			return c, true
		}
		return nil, false
	}).String()
}
