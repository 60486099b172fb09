package planner

// Temporal filters: now() in a materialized view.
//
// A view is maintained forever, so now() in it cannot be evaluated once. Weir gives it
// one meaning: now() in a view is the tick's clock (exec.Tick.Now, never decreasing),
// and it is allowed in exactly one place, a top-level AND conjunct of a WHERE clause that
// compares an expression e over the row (without now()) with now(), now() + c or
// now() - c (c without now(), usually a constant interval), with <, <=, > or >=, on
// either side; BETWEEN with such bounds counts as its two comparisons. CURRENT_TIMESTAMP,
// LOCALTIMESTAMP, transaction_timestamp() and statement_timestamp() are spellings of
// now(). Each such conjunct becomes a bound on time computed per row:
//
//	e >  now() - c   ⇔  now() <  e + c    the row is valid while now() <  e + c
//	e >= now() - c   ⇔  now() <= e + c    … while now() <= e + c
//	e <  now() - c   ⇔  now() >  e + c    … once now() >  e + c
//	e <= now() - c   ⇔  now() >= e + c    … once now() >= e + c
//
// (with e - c for now() + c, and e itself for now()). The bounds of one WHERE form one
// plan.TemporalFilter above the rest of the WHERE, so a row enters the view at the first
// tick whose clock reaches its lower bound and leaves it at the first tick whose clock
// passes its upper bound; a row whose bound is NULL never appears. Ticks come from writes
// and, while some view has a temporal filter, from the idle ticker (db.Config.TickInterval,
// 1 s by default), so a row appears or disappears up to one tick interval after its
// bound. A view is created, and recovered after a restart, as of the clock of the tick it
// starts at.
//
// For intervals with months (INTERVAL '1 month') the bound is e + c in calendar
// arithmetic; at the end of a month that can differ from evaluating now() - c < e at
// every instant, which is not monotonic in now().
//
// Every other now() in a view (the select list, OR, NOT, CASE, =, <>, HAVING, JOIN … ON,
// GROUP BY, now() compared with now()) fails with 0A000 at CREATE time, as does
// clock_timestamp(), which changes within a tick.

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner/plan"
)

// nowNames are the functions that mean now() in a view.
var nowNames = map[string]bool{"now": true, "transaction_timestamp": true, "statement_timestamp": true, "current_timestamp": true}

// rejectNow fails with 0A000 for what (now() or another spelling) at loc in a view,
// where is where it is ("inside OR").
func (b *binder) rejectNow(loc int32, what, where string) {
	b.failErr(sqlerr.New(sqlerr.FeatureNotSupported, "%s in a materialized view %s is not supported", what, where).
		WithHint("In a materialized view, now() may only bound a row's time in a WHERE condition, as in ts > now() - INTERVAL '5 minutes'."), loc)
}

// nowCall reports whether n calls now() in one of its spellings.
func nowCall(n *pg_query.Node) bool {
	switch v := n.Node.(type) {
	case *pg_query.Node_FuncCall:
		fc := v.FuncCall
		name := strings.ToLower(fc.Funcname[len(fc.Funcname)-1].GetString_().Sval)
		qualified := len(fc.Funcname) == 1 || fc.Funcname[0].GetString_().Sval == "pg_catalog"
		return nowNames[name] && qualified && len(fc.Args) == 0 && fc.Over == nil && !fc.AggStar
	case *pg_query.Node_SqlvalueFunction:
		op := v.SqlvalueFunction.Op
		return op == pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP || op == pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP
	}
	return false
}

// findNow returns the location of the first now() call in n, outside subqueries (which
// are queries of their own).
func findNow(n *pg_query.Node) (int32, bool) {
	if n == nil {
		return -1, false
	}
	if nowCall(n) {
		return location(n), true
	}
	if sl := n.GetSubLink(); sl != nil {
		return findNow(sl.Testexpr)
	}
	for _, c := range children(n) {
		if loc, ok := findNow(c); ok {
			return loc, true
		}
	}
	return -1, false
}

// whereConjunct binds one top-level conjunct of a WHERE clause. In a view, a conjunct
// that mentions now() must be a bound on time: it is added to temporal and nothing is
// returned (the half of a BETWEEN without now() is bound as an ordinary conjunct).
func (b *binder) whereConjunct(c *pg_query.Node, sc *scope, temporal *[]exec.TemporalBound) []expr.Expr {
	loc, has := findNow(c)
	if !b.inView || !has {
		return splitAnd(b.predicate(c, sc))
	}
	a := c.GetAExpr()
	if a == nil {
		b.rejectNow(loc, "now()", "inside "+conjunctKind(c))
	}
	cmps := []*pg_query.Node{c}
	if a.Kind == pg_query.A_Expr_Kind_AEXPR_BETWEEN {
		bounds := a.Rexpr.GetList().GetItems()
		cmps = []*pg_query.Node{operator(">=", a.Lexpr, bounds[0], a.Location), operator("<=", a.Lexpr, bounds[1], a.Location)}
	}
	var rest []expr.Expr
	for _, cmp := range cmps {
		if _, has := findNow(cmp); has {
			*temporal = append(*temporal, b.temporalBound(cmp.GetAExpr(), sc))
		} else {
			rest = append(rest, splitAnd(b.predicate(cmp, sc))...)
		}
	}
	return rest
}

// conjunctKind names the construct a rejected now() sits in, for the error message.
func conjunctKind(n *pg_query.Node) string {
	switch v := n.Node.(type) {
	case *pg_query.Node_BoolExpr:
		return strings.TrimSuffix(v.BoolExpr.Boolop.String(), "_EXPR")
	case *pg_query.Node_CaseExpr:
		return "CASE"
	case *pg_query.Node_AExpr:
		if v.AExpr.Kind == pg_query.A_Expr_Kind_AEXPR_OP {
			return "operator " + opName(v.AExpr.Name)
		}
		return strings.TrimPrefix(v.AExpr.Kind.String(), "AEXPR_")
	}
	return strings.ToLower(typeName(n))
}

// operator builds the AST of l op r.
func operator(op string, l, r *pg_query.Node, loc int32) *pg_query.Node {
	return &pg_query.Node{Node: &pg_query.Node_AExpr{AExpr: &pg_query.A_Expr{Kind: pg_query.A_Expr_Kind_AEXPR_OP,
		Name: []*pg_query.Node{{Node: &pg_query.Node_String_{String_: &pg_query.String{Sval: op}}}}, Lexpr: l, Rexpr: r, Location: loc}}}
}

// nowPlus matches now(), now() + c, c + now() and now() - c with c free of now(),
// returning c (nil for now() alone) and its sign.
func nowPlus(n *pg_query.Node) (c *pg_query.Node, sign int, ok bool) {
	if nowCall(n) {
		return nil, 0, true
	}
	a := n.GetAExpr()
	if a == nil || a.Kind != pg_query.A_Expr_Kind_AEXPR_OP || a.Lexpr == nil {
		return nil, 0, false
	}
	_, lnow := findNow(a.Lexpr)
	_, rnow := findNow(a.Rexpr)
	switch op := opName(a.Name); {
	case op == "+" && nowCall(a.Lexpr) && !rnow:
		return a.Rexpr, 1, true
	case op == "+" && nowCall(a.Rexpr) && !lnow:
		return a.Lexpr, 1, true
	case op == "-" && nowCall(a.Lexpr) && !rnow:
		return a.Rexpr, -1, true
	}
	return nil, 0, false
}

// flipped is the comparison operator with its operands swapped.
var flipped = map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<="}

// temporalBound turns e op now() ± c (or now() ± c op e) into a bound on time over the
// row: e ∓ c, above or below now().
func (b *binder) temporalBound(a *pg_query.A_Expr, sc *scope) exec.TemporalBound {
	loc, _ := findNow(&pg_query.Node{Node: &pg_query.Node_AExpr{AExpr: a}})
	op := opName(a.Name)
	if a.Kind != pg_query.A_Expr_Kind_AEXPR_OP || a.Lexpr == nil {
		b.rejectNow(loc, "now()", "inside "+strings.TrimPrefix(a.Kind.String(), "AEXPR_"))
	}
	if _, ok := flipped[op]; !ok {
		b.rejectNow(loc, "now()", "compared with "+op)
	}
	_, lnow := findNow(a.Lexpr)
	_, rnow := findNow(a.Rexpr)
	var e, c *pg_query.Node
	var sign int
	ok := false
	switch {
	case lnow && rnow:
		b.rejectNow(loc, "now()", "compared with another now()")
	case rnow:
		e = a.Lexpr
		c, sign, ok = nowPlus(a.Rexpr)
	default:
		e, op = a.Rexpr, flipped[op]
		c, sign, ok = nowPlus(a.Lexpr)
	}
	if !ok {
		b.rejectNow(loc, "now()", "inside an expression other than now() + c or now() - c")
	}
	// Type-check the comparison as written, so that its errors are PostgreSQL's.
	b.nowOK = true
	b.predicate(&pg_query.Node{Node: &pg_query.Node_AExpr{AExpr: a}}, sc)
	b.nowOK = false

	bound := e
	if c != nil {
		inverse := "+"
		if sign > 0 {
			inverse = "-"
		}
		bound = operator(inverse, e, c, a.Location)
	}
	x := b.expr(bound, sc)
	t := x
	if x.Type() != catalog.Timestamp && x.Type() != catalog.Timestamptz {
		// A date counts days; an untyped literal is parsed. (timestamp and timestamptz are
		// both µs in UTC, Weir's session time zone: no cast needed.)
		var ok bool
		if t, ok = b.tryCoerce(x, catalog.Timestamptz, a.Location); !ok {
			b.rejectNow(loc, "now()", "compared with "+x.Type().String())
		}
	}
	if hasOuterRef(t) {
		b.rejectNow(loc, "now()", "in a condition on a column of an enclosing query")
	}
	return exec.TemporalBound{Expr: t, Upper: op == ">" || op == ">=", Inclusive: op == ">=" || op == "<="}
}

// withTemporalFilter puts a TemporalFilter with bounds above n (n itself without bounds).
func withTemporalFilter(n plan.Node, bounds []exec.TemporalBound) plan.Node {
	if len(bounds) == 0 {
		return n
	}
	return &plan.TemporalFilter{Input: n, Bounds: bounds}
}
