package planner

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/decimal"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// scopeCol is one column visible to expressions: its qualifier, name, type and index in
// the input row. Hidden columns (the right side of JOIN … USING) resolve only when
// qualified and are left out of `*`.
type scopeCol struct {
	table, name string
	typ         catalog.Type
	hidden      bool
	rel         *catalog.Relation // the base relation the column reads, if any
	relCol      int               // its index in rel
}

type scope struct {
	cols []scopeCol
	// star is the order `*` expands to, as column indexes; nil means cols in order
	// without the hidden ones. JOIN … USING sets it.
	star []int
}

// starCols returns the columns `*` expands to, in order.
func (s *scope) starCols() []int {
	if s.star != nil {
		return s.star
	}
	var out []int
	for i, c := range s.cols {
		if !c.hidden {
			out = append(out, i)
		}
	}
	return out
}

func newRelScope(rel *catalog.Relation, alias string) *scope {
	s := &scope{}
	s.addRelation(rel, alias)
	return s
}

func (s *scope) addRelation(rel *catalog.Relation, alias string) {
	for i, c := range rel.Columns {
		s.cols = append(s.cols, scopeCol{table: alias, name: c.Name, typ: c.Type, rel: rel, relCol: i})
	}
}

func (s *scope) concat(o *scope) *scope {
	out := &scope{cols: append(append([]scopeCol{}, s.cols...), o.cols...)}
	if s.star != nil || o.star != nil {
		out.star = append([]int{}, s.starCols()...)
		for _, i := range o.starCols() {
			out.star = append(out.star, len(s.cols)+i)
		}
	}
	return out
}

// aggCtx collects the aggregates of a grouped SELECT while its target list is bound.
type aggCtx struct {
	aggs []aggCall
	in   bool // binding an aggregate's argument: nested aggregates are an error
}

type aggCall struct {
	fn       string
	arg      expr.Expr // nil for count(*)
	distinct bool
	typ      catalog.Type
}

// aggRef stands for the k-th aggregate's result until the binder rewrites it to a column
// of the aggregate's output.
type aggRef struct {
	k int
	t catalog.Type
	s string
}

func (a *aggRef) Type() catalog.Type                      { return a.t }
func (a *aggRef) Eval([]delta.Value) (delta.Value, error) { panic("aggRef evaluated before rewrite") }
func (a *aggRef) String() string                          { return a.s }

var aggregateNames = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true}

// unsupportedAggregates are PostgreSQL aggregates Weir does not maintain yet: rejected by
// name rather than reported as unknown functions.
var unsupportedAggregates = map[string]bool{
	"string_agg": true, "array_agg": true, "stddev": true, "variance": true, "bool_and": true, "bool_or": true,
	"every": true, "json_agg": true, "jsonb_agg": true, "percentile_cont": true, "percentile_disc": true, "mode": true,
	"stddev_pop": true, "stddev_samp": true, "var_pop": true, "var_samp": true, "bit_and": true, "bit_or": true,
}

// location is where expression n starts, as PostgreSQL's exprLocation reports it: for an
// operator or cast that is the leftmost of its own token and its (left) operand, so an
// error about the whole expression points at its beginning.
func location(n *pg_query.Node) int32 {
	if n == nil {
		return -1
	}
	switch v := n.Node.(type) {
	case *pg_query.Node_ColumnRef:
		return v.ColumnRef.Location
	case *pg_query.Node_AConst:
		return v.AConst.Location
	case *pg_query.Node_AExpr:
		return leftmost(v.AExpr.Location, location(v.AExpr.Lexpr))
	case *pg_query.Node_FuncCall:
		return v.FuncCall.Location
	case *pg_query.Node_TypeCast:
		return leftmost(v.TypeCast.Location, location(v.TypeCast.Arg))
	case *pg_query.Node_BoolExpr:
		loc := v.BoolExpr.Location
		for _, a := range v.BoolExpr.Args {
			loc = leftmost(loc, location(a))
		}
		return loc
	case *pg_query.Node_ParamRef:
		return v.ParamRef.Location
	case *pg_query.Node_NullTest:
		return leftmost(v.NullTest.Location, location(v.NullTest.Arg))
	case *pg_query.Node_BooleanTest:
		return leftmost(v.BooleanTest.Location, location(v.BooleanTest.Arg))
	case *pg_query.Node_CaseExpr:
		return v.CaseExpr.Location
	case *pg_query.Node_SubLink:
		return leftmost(v.SubLink.Location, location(v.SubLink.Testexpr))
	case *pg_query.Node_ResTarget:
		return v.ResTarget.Location
	case *pg_query.Node_CoalesceExpr:
		return v.CoalesceExpr.Location
	case *pg_query.Node_MinMaxExpr:
		return v.MinMaxExpr.Location
	case *pg_query.Node_SqlvalueFunction:
		return v.SqlvalueFunction.Location
	}
	return -1
}

// leftmost returns the smaller of two locations, ignoring unknown (negative) ones.
func leftmost(a, b int32) int32 {
	if a < 0 || (b >= 0 && b < a) {
		return b
	}
	return a
}

// predicate binds a boolean condition (WHERE, ON, HAVING).
func (b *binder) predicate(n *pg_query.Node, sc *scope) expr.Expr {
	e := b.expr(n, sc)
	return b.coerceTo(e, catalog.Bool, location(n), "argument of WHERE")
}

// coerceTo converts e to t implicitly or fails with 42804.
func (b *binder) coerceTo(e expr.Expr, t catalog.Type, loc int32, what string) expr.Expr {
	if c, ok := b.tryCoerce(e, t, loc); ok {
		return c
	}
	b.fail(sqlerr.DatatypeMismatch, loc, "%s must be type %s, not type %s", what, t, e.Type())
	return nil
}

// numericLiteral is a decimal literal such as 2.5 (or an integer too large for bigint),
// typed numeric as in PostgreSQL, with the scale it is written with (12.50 keeps two
// digits).
func (b *binder) numericLiteral(text string, loc int32) *expr.Const {
	d, err := decimal.Parse(text)
	if err != nil {
		b.failErr(err, loc)
	}
	return expr.NewConst(expr.NumericValue(d), catalog.Numeric)
}

// tryCoerce applies PostgreSQL's implicit coercions: an untyped literal or parameter takes
// the type it is used as; integers widen; integers convert to floats; dates to timestamps.
func (b *binder) tryCoerce(e expr.Expr, t catalog.Type, loc int32) (expr.Expr, bool) {
	from := e.Type()
	if from == t {
		return e, true
	}
	if from == catalog.Unknown {
		switch x := e.(type) {
		case *expr.Const:
			if x.V.Null {
				return expr.NullOf(t), true
			}
			v, err := expr.Parse(x.V.S, t)
			if err != nil {
				b.failErr(err, b.locOf(e, loc)) // at the literal, as PostgreSQL reports it
			}
			return expr.NewConst(v, t), true
		case *expr.Param:
			if !b.fixed[x.Idx] {
				b.ptypes[x.Idx] = t
				x.T = t
				return x, true
			}
		}
		return &expr.Cast{E: e, T: t}, true
	}
	if p, ok := e.(*expr.Param); ok && !b.fixed[p.Idx] && b.ptypes[p.Idx] == catalog.Unknown {
		b.ptypes[p.Idx], p.T = t, t
		return p, true
	}
	switch {
	case from.IsInteger() && t.IsInteger() && rank(from) < rank(t),
		from.IsInteger() && (t == catalog.Float8 || t == catalog.Float4 || t == catalog.Numeric),
		from == catalog.Numeric && t.IsFloat(),
		from == catalog.Float4 && t == catalog.Float8,
		from == catalog.Date && (t == catalog.Timestamp || t == catalog.Timestamptz),
		from == catalog.Timestamp && t == catalog.Timestamptz,
		from.IsString() && t.IsString():
		if from == catalog.Numeric || t == catalog.Numeric {
			// Constants convert to and from numeric at bind time, as in PostgreSQL, so
			// 1e300::float8 * 1e10 and 1.5 / 0 fail at CREATE.
			return b.fold(&expr.Cast{E: e, T: t}, loc), true
		}
		return &expr.Cast{E: e, T: t}, true
	}
	return nil, false
}

func rank(t catalog.Type) int {
	switch t {
	case catalog.Int2:
		return 1
	case catalog.Int4:
		return 2
	case catalog.Int8:
		return 3
	case catalog.Float4:
		return 4
	case catalog.Float8:
		return 5
	case catalog.Date:
		return 1
	case catalog.Timestamp:
		return 2
	case catalog.Timestamptz:
		return 3
	}
	return 0
}

// commonType is the type two operands are compared or combined in, or Unknown if none.
func commonType(a, b catalog.Type) catalog.Type {
	switch {
	case a == b:
		return a
	case a == catalog.Unknown:
		return b
	case b == catalog.Unknown:
		return a
	case a.IsNumeric() && b.IsNumeric():
		if a.IsInteger() && b.IsInteger() {
			return maxRank(a, b)
		}
		if !a.IsFloat() && !b.IsFloat() {
			return catalog.Numeric // numeric with numeric or an integer
		}
		return catalog.Float8
	case a.IsString() && b.IsString():
		return catalog.Text
	case a.IsTime() && b.IsTime():
		return maxRank(a, b)
	}
	return catalog.Unknown
}

func maxRank(a, b catalog.Type) catalog.Type {
	if rank(a) >= rank(b) {
		return a
	}
	return b
}

// unify coerces l and r to their common type for operator op.
func (b *binder) unify(l, r expr.Expr, op string, loc int32) (expr.Expr, expr.Expr, catalog.Type) {
	t := commonType(l.Type(), r.Type())
	if l.Type() == catalog.Unknown && r.Type() == catalog.Unknown {
		t = catalog.Text
	}
	if t == catalog.Unknown {
		b.noOperator(l.Type(), op, r.Type(), loc)
	}
	l2, ok1 := b.tryCoerce(l, t, loc)
	r2, ok2 := b.tryCoerce(r, t, loc)
	if !ok1 || !ok2 {
		b.noOperator(l.Type(), op, r.Type(), loc)
	}
	return l2, r2, t
}

// noOperator fails with 42883 for an operator with no implementation for these operand
// types.
func (b *binder) noOperator(l catalog.Type, op string, r catalog.Type, loc int32) {
	b.failErr(sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s %s %s", l, op, r).
		WithHint("No operator matches the given name and argument types. You might need to add explicit type casts."), loc)
}

// isIntervalName reports whether a type name is interval (INTERVAL '1' MINUTE carries
// its modifiers on it).
func isIntervalName(tn *pg_query.TypeName) bool {
	return len(tn.Names) > 0 && strings.EqualFold(tn.Names[len(tn.Names)-1].GetString_().GetSval(), "interval")
}

func (b *binder) unifyAll(es []expr.Expr, what string, loc int32) (catalog.Type, []expr.Expr) {
	t := catalog.Unknown
	for _, e := range es {
		nt := commonType(t, e.Type())
		if nt == catalog.Unknown && t != catalog.Unknown && e.Type() != catalog.Unknown {
			// As PostgreSQL's select_common_type: at the first expression that does not fit.
			b.fail(sqlerr.DatatypeMismatch, b.locOf(e, loc), "%s types %s and %s cannot be matched", what, t, e.Type())
		}
		if nt != catalog.Unknown {
			t = nt
		}
	}
	if t == catalog.Unknown {
		t = catalog.Text
	}
	out := make([]expr.Expr, len(es))
	for i, e := range es {
		c, ok := b.tryCoerce(e, t, loc)
		if !ok {
			b.fail(sqlerr.DatatypeMismatch, b.locOf(e, loc), "%s types %s and %s cannot be matched", what, t, e.Type())
		}
		out[i] = c
	}
	return t, out
}

func (b *binder) column(cr *pg_query.ColumnRef, sc *scope) expr.Expr {
	var parts []string
	for _, f := range cr.Fields {
		switch v := f.Node.(type) {
		case *pg_query.Node_String_:
			parts = append(parts, v.String_.Sval)
		case *pg_query.Node_AStar:
			b.fail(sqlerr.SyntaxError, cr.Location, "* is not allowed here")
		}
	}
	if sc == nil {
		sc = &scope{}
	}
	var table, name string
	switch len(parts) {
	case 1:
		name = parts[0]
	case 2:
		table, name = parts[0], parts[1]
	default:
		b.fail(sqlerr.FeatureNotSupported, cr.Location, "column reference %q is not supported", strings.Join(parts, "."))
	}
	found := -1
	tableSeen := false
	for i, c := range sc.cols {
		if table != "" {
			if c.table != table {
				continue
			}
			tableSeen = true
		} else if c.hidden {
			continue
		}
		if c.name == name {
			if found >= 0 {
				b.fail(sqlerr.AmbiguousColumn, cr.Location, "column reference %q is ambiguous", name)
			}
			found = i
		}
	}
	if found < 0 {
		if o, ok := b.resolveOuter(table, name, cr.Location); ok {
			return o
		}
		if table != "" && !tableSeen {
			b.fail(sqlerr.UndefinedTable, cr.Location, "missing FROM-clause entry for table %q", table)
		}
		b.fail(sqlerr.UndefinedColumn, cr.Location, "column %q does not exist", strings.Join(parts, "."))
	}
	c := sc.cols[found]
	label := c.name
	if table != "" {
		label = table + "." + c.name
	}
	return &expr.Col{Idx: found, T: c.typ, Name: label}
}

func (b *binder) param(pr *pg_query.ParamRef) expr.Expr {
	if pr.Number < 1 || pr.Number > 65535 {
		b.fail(sqlerr.SyntaxError, pr.Location, "there is no parameter $%d", pr.Number)
	}
	i := int(pr.Number) - 1
	b.growParams(i + 1)
	return &expr.Param{Idx: i, T: b.ptypes[i], P: b.pvals}
}

func (b *binder) constant(c *pg_query.A_Const) expr.Expr {
	if c.Isnull {
		return expr.NullOf(catalog.Unknown)
	}
	switch v := c.Val.(type) {
	case *pg_query.A_Const_Ival:
		return expr.NewConst(delta.Int(int64(v.Ival.Ival)), catalog.Int4)
	case *pg_query.A_Const_Fval:
		if n, err := strconv.ParseInt(v.Fval.Fval, 10, 64); err == nil {
			return expr.NewConst(delta.Int(n), catalog.Int8)
		}
		return b.numericLiteral(v.Fval.Fval, c.Location)
	case *pg_query.A_Const_Sval:
		return expr.NewConst(delta.Str(v.Sval.Sval), catalog.Unknown)
	case *pg_query.A_Const_Boolval:
		return expr.NewConst(delta.Bool(v.Boolval.Boolval), catalog.Bool)
	case *pg_query.A_Const_Bsval:
		b.unsupported(c.Location, "bit-string literals")
	}
	b.unsupported(c.Location, "this literal")
	return nil
}

var binaryOps = map[string]expr.Op{
	"+": expr.OpAdd, "-": expr.OpSub, "*": expr.OpMul, "/": expr.OpDiv, "%": expr.OpMod,
	"=": expr.OpEq, "<>": expr.OpNe, "!=": expr.OpNe, "<": expr.OpLt, "<=": expr.OpLe, ">": expr.OpGt, ">=": expr.OpGe,
}

func opName(names []*pg_query.Node) string {
	if len(names) == 0 {
		return ""
	}
	return names[len(names)-1].GetString_().Sval
}

// expr binds a scalar expression in scope sc (nil: no columns visible).
func (b *binder) expr(n *pg_query.Node, sc *scope) expr.Expr {
	e := b.bindExpr(n, sc)
	if _, ok := b.locs[e]; !ok {
		if loc := location(n); loc >= 0 {
			b.located(e, loc)
		}
	}
	return e
}

func (b *binder) bindExpr(n *pg_query.Node, sc *scope) expr.Expr {
	switch v := n.Node.(type) {
	case *pg_query.Node_ColumnRef:
		return b.located(b.column(v.ColumnRef, sc), v.ColumnRef.Location)
	case *pg_query.Node_AConst:
		return b.located(b.constant(v.AConst), v.AConst.Location)
	case *pg_query.Node_ParamRef:
		return b.param(v.ParamRef)
	case *pg_query.Node_TypeCast:
		inner := b.expr(v.TypeCast.Arg, sc)
		if tn := v.TypeCast.TypeName; len(tn.Typmods) > 0 && isIntervalName(tn) {
			return b.intervalCast(inner, tn, v.TypeCast.Location)
		}
		t, maxLen := b.typeWithLen(v.TypeCast.TypeName)
		if t == catalog.Numeric {
			if p, scale := b.numericTypmod(v.TypeCast.TypeName); p > 0 {
				if inner.Type() == catalog.Unknown {
					inner, _ = b.tryCoerce(inner, catalog.Numeric, v.TypeCast.Location)
				}
				if !expr.CanCast(inner.Type(), t) {
					b.fail(sqlerr.CannotCoerce, v.TypeCast.Location, "cannot cast type %s to %s", inner.Type(), t)
				}
				return b.fold(&expr.Cast{E: inner, T: t, Precision: p, Scale: scale}, v.TypeCast.Location)
			}
		}
		if maxLen > 0 {
			// An explicit cast to varchar(n) truncates, as in PostgreSQL.
			if inner.Type() == catalog.Unknown {
				inner, _ = b.tryCoerce(inner, catalog.Text, v.TypeCast.Location)
			}
			return b.fold(&expr.Cast{E: inner, T: t, MaxLen: maxLen}, v.TypeCast.Location)
		}
		if inner.Type() == catalog.Unknown {
			if c, ok := b.tryCoerce(inner, t, v.TypeCast.Location); ok {
				return c
			}
		}
		if !expr.CanCast(inner.Type(), t) {
			b.fail(sqlerr.CannotCoerce, v.TypeCast.Location, "cannot cast type %s to %s", inner.Type(), t)
		}
		if inner.Type() == t {
			return inner
		}
		return b.fold(&expr.Cast{E: inner, T: t}, v.TypeCast.Location)
	case *pg_query.Node_BoolExpr:
		be := v.BoolExpr
		args := make([]expr.Expr, len(be.Args))
		for i, a := range be.Args {
			args[i] = b.coerceTo(b.expr(a, sc), catalog.Bool, location(a), "argument of "+strings.TrimSuffix(be.Boolop.String(), "_EXPR"))
		}
		switch be.Boolop {
		case pg_query.BoolExprType_NOT_EXPR:
			return &expr.Not{E: args[0]}
		case pg_query.BoolExprType_AND_EXPR, pg_query.BoolExprType_OR_EXPR:
			op := expr.OpAnd
			if be.Boolop == pg_query.BoolExprType_OR_EXPR {
				op = expr.OpOr
			}
			e := args[0]
			for _, a := range args[1:] {
				e = &expr.Binary{Op: op, L: e, R: a, T: catalog.Bool}
			}
			return e
		}
	case *pg_query.Node_NullTest:
		return &expr.IsNull{E: b.expr(v.NullTest.Arg, sc), Not: v.NullTest.Nulltesttype == pg_query.NullTestType_IS_NOT_NULL}
	case *pg_query.Node_BooleanTest:
		bt := v.BooleanTest
		e := b.coerceTo(b.expr(bt.Arg, sc), catalog.Bool, bt.Location, "argument of IS TRUE")
		t := expr.NewConst(delta.Bool(true), catalog.Bool)
		f := expr.NewConst(delta.Bool(false), catalog.Bool)
		switch bt.Booltesttype {
		case pg_query.BoolTestType_IS_TRUE:
			return &expr.Binary{Op: expr.OpIsNotDistinct, L: e, R: t, T: catalog.Bool}
		case pg_query.BoolTestType_IS_NOT_TRUE:
			return &expr.Binary{Op: expr.OpIsDistinct, L: e, R: t, T: catalog.Bool}
		case pg_query.BoolTestType_IS_FALSE:
			return &expr.Binary{Op: expr.OpIsNotDistinct, L: e, R: f, T: catalog.Bool}
		case pg_query.BoolTestType_IS_NOT_FALSE:
			return &expr.Binary{Op: expr.OpIsDistinct, L: e, R: f, T: catalog.Bool}
		case pg_query.BoolTestType_IS_UNKNOWN:
			return &expr.IsNull{E: e}
		case pg_query.BoolTestType_IS_NOT_UNKNOWN:
			return &expr.IsNull{E: e, Not: true}
		}
	case *pg_query.Node_AExpr:
		return b.aexpr(v.AExpr, sc)
	case *pg_query.Node_FuncCall:
		return b.funcCall(v.FuncCall, sc)
	case *pg_query.Node_CaseExpr:
		return b.caseExpr(v.CaseExpr, sc)
	case *pg_query.Node_CoalesceExpr:
		ce := v.CoalesceExpr
		args := b.exprs(ce.Args, sc)
		name := "coalesce"
		return b.builtin(name, args, ce.Location)
	case *pg_query.Node_MinMaxExpr:
		mm := v.MinMaxExpr
		name := "greatest"
		if mm.Op == pg_query.MinMaxOp_IS_LEAST {
			name = "least"
		}
		f := b.builtin(name, b.exprs(mm.Args, sc), mm.Location)
		b.checkOrderable(f.Type(), mm.Location, strings.ToUpper(name))
		return f
	case *pg_query.Node_SubLink:
		if i, ok := b.scalars[v.SubLink]; ok && sc != nil && i < len(sc.cols) {
			return &expr.Col{Idx: i, T: sc.cols[i].typ, Name: "(subquery)"}
		}
		if isSemiJoinConjunct(n) {
			b.unsupported(v.SubLink.Location, "EXISTS / IN (subquery) other than as a conjunct of WHERE")
		}
		b.unsupported(v.SubLink.Location, "subquery expression ("+strings.TrimSuffix(v.SubLink.SubLinkType.String(), "_SUBLINK")+")")
	case *pg_query.Node_SqlvalueFunction:
		if v.SqlvalueFunction.Op != pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP && v.SqlvalueFunction.Op != pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP {
			b.unsupported(v.SqlvalueFunction.Location, "this SQL value function")
		}
		if b.inView && !b.nowOK {
			b.rejectNow(v.SqlvalueFunction.Location, "CURRENT_TIMESTAMP", "outside a WHERE condition")
		}
		return b.builtin("now", nil, v.SqlvalueFunction.Location)
	}
	b.unsupported(location(n), "expression "+strings.TrimPrefix(strings.TrimPrefix(typeName(n), "*pg_query.Node_"), "Node_"))
	return nil
}

func typeName(n *pg_query.Node) string {
	s := strings.TrimPrefix(strings.Split(strings.TrimPrefix(fmt.Sprintf("%T", n.Node), "*pg_query."), "{")[0], "Node_")
	return s
}

func (b *binder) exprs(ns []*pg_query.Node, sc *scope) []expr.Expr {
	out := make([]expr.Expr, len(ns))
	for i, n := range ns {
		out[i] = b.expr(n, sc)
	}
	return out
}

// fold evaluates an expression over constants at bind time, so a bad literal fails at
// CREATE time with its position.
func (b *binder) fold(e expr.Expr, loc int32) expr.Expr {
	if !isConstant(e) {
		return e
	}
	v, err := e.Eval(nil)
	if err != nil {
		b.failErr(err, loc)
	}
	return expr.NewConst(v, e.Type())
}

func isConstant(e expr.Expr) bool {
	switch x := e.(type) {
	case *expr.Const:
		return true
	case *expr.Cast:
		return isConstant(x.E)
	}
	return false
}

func (b *binder) aexpr(a *pg_query.A_Expr, sc *scope) expr.Expr {
	op := opName(a.Name)
	switch a.Kind {
	case pg_query.A_Expr_Kind_AEXPR_OP:
		if a.Lexpr == nil {
			r := b.expr(a.Rexpr, sc)
			switch op {
			case "-":
				if r.Type() == catalog.Unknown {
					r = b.coerceTo(r, catalog.Float8, a.Location, "operand")
				}
				if !r.Type().IsNumeric() && r.Type() != catalog.Interval {
					b.fail(sqlerr.UndefinedFunction, a.Location, "operator does not exist: - %s", r.Type())
				}
				return b.fold2(&expr.Neg{E: r}, a.Location)
			case "+":
				return r
			}
			b.unsupported(a.Location, "prefix operator "+op)
		}
		l, r := b.expr(a.Lexpr, sc), b.expr(a.Rexpr, sc)
		if op == "||" {
			l = b.toText(l, a.Location)
			r = b.toText(r, a.Location)
			return &expr.Binary{Op: expr.OpConcat, L: l, R: r, T: catalog.Text}
		}
		switch op {
		case "->", "->>", "#>", "#>>":
			return b.jsonOp(op, l, r, a.Location)
		case "+", "-", "*", "/":
			if isDateTime(l.Type()) || isDateTime(r.Type()) {
				return b.timeArith(op, l, r, a.Location)
			}
		}
		bop, ok := binaryOps[op]
		if !ok {
			b.unsupported(a.Location, "operator "+op)
		}
		l, r, t := b.unify(l, r, op, a.Location)
		if bop.IsComparison() {
			if t == catalog.Unknown {
				t = catalog.Text
			}
			if bop != expr.OpEq && bop != expr.OpNe {
				b.checkOrderable(t, a.Location, "operator "+op)
			}
			return &expr.Binary{Op: bop, L: l, R: r, T: catalog.Bool}
		}
		return b.arith(bop, op, l, r, t, a.Location)
	case pg_query.A_Expr_Kind_AEXPR_DISTINCT, pg_query.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		l, r, _ := b.unify(b.expr(a.Lexpr, sc), b.expr(a.Rexpr, sc), "=", a.Location)
		o := expr.OpIsDistinct
		if a.Kind == pg_query.A_Expr_Kind_AEXPR_NOT_DISTINCT {
			o = expr.OpIsNotDistinct
		}
		return &expr.Binary{Op: o, L: l, R: r, T: catalog.Bool}
	case pg_query.A_Expr_Kind_AEXPR_NULLIF:
		return b.builtin("nullif", []expr.Expr{b.expr(a.Lexpr, sc), b.expr(a.Rexpr, sc)}, a.Location)
	case pg_query.A_Expr_Kind_AEXPR_IN:
		l := b.expr(a.Lexpr, sc)
		items := a.Rexpr.GetList().GetItems()
		all := append([]expr.Expr{l}, b.exprs(items, sc)...)
		_, all = b.unifyAll(all, "IN", a.Location)
		return &expr.In{E: all[0], List: all[1:], Not: op == "<>"}
	case pg_query.A_Expr_Kind_AEXPR_LIKE, pg_query.A_Expr_Kind_AEXPR_ILIKE:
		l := b.coerceTo(b.expr(a.Lexpr, sc), catalog.Text, a.Location, "argument of LIKE")
		patNode, escape := a.Rexpr, '\\'
		if fc := a.Rexpr.GetFuncCall(); fc != nil && len(fc.Args) == 2 &&
			fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval() == "like_escape" {
			// x LIKE p ESCAPE e arrives as x LIKE like_escape(p, e).
			ec, ok := b.expr(fc.Args[1], sc).(*expr.Const)
			if !ok || !ec.Type().IsString() || ec.V.Null || utf8.RuneCountInString(ec.V.S) > 1 {
				b.fail(sqlerr.InvalidEscapeSequence, location(fc.Args[1]), "invalid escape string")
			}
			patNode, escape = fc.Args[0], 0
			if ec.V.S != "" {
				escape, _ = utf8.DecodeRuneInString(ec.V.S)
			}
		}
		pe := b.expr(patNode, sc)
		pc, ok := pe.(*expr.Const)
		if !ok || !pe.Type().IsString() {
			b.unsupported(a.Location, "LIKE with a non-constant pattern")
		}
		if pc.V.Null {
			return expr.NullOf(catalog.Bool)
		}
		lk, err := expr.NewLikeEscape(l, pc.V.S, escape, op == "!~~" || op == "!~~*", a.Kind == pg_query.A_Expr_Kind_AEXPR_ILIKE)
		if err != nil {
			b.failErr(err, a.Location)
		}
		return lk
	case pg_query.A_Expr_Kind_AEXPR_BETWEEN, pg_query.A_Expr_Kind_AEXPR_NOT_BETWEEN:
		bounds := a.Rexpr.GetList().GetItems()
		x := b.expr(a.Lexpr, sc)
		lo, hi := b.expr(bounds[0], sc), b.expr(bounds[1], sc)
		x1, lo, t := b.unify(x, lo, ">=", a.Location)
		x2, hi, _ := b.unify(x, hi, "<=", a.Location)
		b.checkOrderable(t, a.Location, "BETWEEN")
		e := &expr.Binary{Op: expr.OpAnd, T: catalog.Bool,
			L: &expr.Binary{Op: expr.OpGe, L: x1, R: lo, T: catalog.Bool},
			R: &expr.Binary{Op: expr.OpLe, L: x2, R: hi, T: catalog.Bool}}
		if a.Kind == pg_query.A_Expr_Kind_AEXPR_NOT_BETWEEN {
			return &expr.Not{E: e}
		}
		return e
	}
	b.unsupported(a.Location, "operator kind "+strings.TrimPrefix(a.Kind.String(), "AEXPR_"))
	return nil
}

// fold2 folds constant arithmetic at bind time.
func (b *binder) fold2(e expr.Expr, loc int32) expr.Expr {
	allConst := true
	switch x := e.(type) {
	case *expr.Binary:
		_, l := x.L.(*expr.Const)
		_, r := x.R.(*expr.Const)
		allConst = l && r
	case *expr.DateArith:
		_, l := x.L.(*expr.Const)
		_, r := x.R.(*expr.Const)
		allConst = l && r
	case *expr.Neg:
		_, allConst = x.E.(*expr.Const)
	}
	if !allConst {
		return e
	}
	v, err := e.Eval(nil)
	if err != nil {
		b.failErr(err, loc)
	}
	return expr.NewConst(v, e.Type())
}

func (b *binder) toText(e expr.Expr, loc int32) expr.Expr {
	switch {
	case e.Type() == catalog.Text:
		return e
	case e.Type().IsString():
		c, _ := b.tryCoerce(e, catalog.Text, loc)
		return c
	}
	return &expr.Cast{E: e, T: catalog.Text}
}

func (b *binder) caseExpr(c *pg_query.CaseExpr, sc *scope) expr.Expr {
	var arg expr.Expr
	if c.Arg != nil {
		arg = b.expr(c.Arg, sc)
	}
	var conds, results []expr.Expr
	for _, w := range c.Args {
		cw := w.GetCaseWhen()
		cond := b.expr(cw.Expr, sc)
		if arg != nil {
			l, r, _ := b.unify(arg, cond, "=", cw.Location)
			cond = &expr.Binary{Op: expr.OpEq, L: l, R: r, T: catalog.Bool}
		} else {
			cond = b.coerceTo(cond, catalog.Bool, cw.Location, "argument of CASE/WHEN")
		}
		conds = append(conds, cond)
		results = append(results, b.expr(cw.Result, sc))
	}
	var def expr.Expr = expr.NullOf(catalog.Unknown)
	if c.Defresult != nil {
		def = b.expr(c.Defresult, sc)
	}
	t, all := b.unifyAll(append(results, def), "CASE", c.Location)
	out := &expr.Case{T: t, Else: all[len(all)-1]}
	for i := range conds {
		out.Whens = append(out.Whens, expr.When{Cond: conds[i], Then: all[i]})
	}
	return out
}

func (b *binder) builtin(name string, args []expr.Expr, loc int32) expr.Expr {
	args = b.coerceFuncArgs(name, args, loc)
	f, err := expr.NewFunc(name, args, func(es []expr.Expr) (catalog.Type, []expr.Expr, error) {
		t, out := b.unifyAll(es, strings.ToUpper(name), loc)
		return t, out, nil
	})
	if err != nil {
		b.failErr(err, loc)
	}
	for i, a := range f.Args {
		if a.Type() == catalog.Unknown {
			f.Args[i], _ = b.tryCoerce(a, catalog.Text, loc)
		}
	}
	return f
}

// arith is the arithmetic operator op (bop) over l and r, unified to t.
func (b *binder) arith(bop expr.Op, op string, l, r expr.Expr, t catalog.Type, loc int32) expr.Expr {
	if !t.IsNumeric() {
		b.noOperator(l.Type(), op, r.Type(), loc)
	}
	return b.fold2(&expr.Binary{Op: bop, L: l, R: r, T: t}, loc)
}

func (b *binder) funcCall(fc *pg_query.FuncCall, sc *scope) expr.Expr {
	name := strings.ToLower(fc.Funcname[len(fc.Funcname)-1].GetString_().Sval)
	if len(fc.Funcname) == 2 && fc.Funcname[0].GetString_().Sval != "pg_catalog" {
		b.fail(sqlerr.UndefinedFunction, fc.Location, "function %s.%s does not exist", fc.Funcname[0].GetString_().Sval, name)
	}
	if fc.Over != nil {
		if _, ok := rankingFunctions[name]; ok && b.rankCol != nil {
			return b.rankCol
		}
		if c, ok := b.winAggs[fc]; ok {
			return c
		}
		b.unsupported(fc.Location, "window function "+name+"() OVER (…) here (ranking functions are supported in the select list)")
	}
	if unsupportedAggregates[name] {
		b.unsupported(fc.Location, "aggregate "+name+"()")
	}
	if b.inView && name == "clock_timestamp" {
		b.unsupported(fc.Location, "clock_timestamp() in a materialized view (it changes within a tick; use now())")
	}
	if b.inView && nowNames[name] && !b.nowOK {
		b.rejectNow(fc.Location, name+"()", "outside a WHERE condition")
	}
	if !aggregateNames[name] {
		if fc.AggStar || fc.AggDistinct || fc.AggFilter != nil || len(fc.AggOrder) > 0 {
			b.fail(sqlerr.WrongObjectType, fc.Location, "%s is not an aggregate function", name)
		}
		if name == "mod" && len(fc.Args) == 2 {
			// mod(a, b) is a % b, for every numeric type PostgreSQL has it for.
			l, r, t := b.unify(b.expr(fc.Args[0], sc), b.expr(fc.Args[1], sc), "%", fc.Location)
			return b.arith(expr.OpMod, "%", l, r, t, fc.Location)
		}
		return b.builtin(name, b.exprs(fc.Args, sc), fc.Location)
	}
	if fc.AggFilter != nil {
		b.unsupported(fc.Location, "aggregate FILTER (WHERE …)")
	}
	if len(fc.AggOrder) > 0 || fc.AggWithinGroup {
		b.unsupported(fc.Location, "ordered aggregate arguments")
	}
	ac := b.agg
	if ac == nil {
		b.fail(sqlerr.GroupingError, fc.Location, "aggregate functions are not allowed here")
	}
	if ac.in {
		b.fail(sqlerr.GroupingError, fc.Location, "aggregate function calls cannot be nested")
	}
	call := aggCall{fn: name, distinct: fc.AggDistinct}
	label := name + "(*)"
	if fc.AggStar {
		if name != "count" {
			b.fail(sqlerr.SyntaxError, fc.Location, "%s(*) is not allowed", name)
		}
		call.typ = catalog.Int8
	} else {
		if len(fc.Args) != 1 {
			b.fail(sqlerr.UndefinedFunction, fc.Location, "function %s with %d arguments does not exist", name, len(fc.Args))
		}
		ac.in = true
		arg := b.expr(fc.Args[0], sc)
		ac.in = false
		if arg.Type() == catalog.Unknown {
			arg, _ = b.tryCoerce(arg, catalog.Text, fc.Location)
		}
		call.arg = arg
		at := arg.Type()
		switch name {
		case "count":
			call.typ = catalog.Int8
		case "sum":
			switch {
			case at == catalog.Interval:
				call.typ = catalog.Interval
			case at == catalog.Int8 || at == catalog.Numeric:
				call.typ = catalog.Numeric // exact, as in PostgreSQL
			case at.IsInteger():
				call.typ = catalog.Int8
			case at == catalog.Float4 || at == catalog.Float8:
				call.typ = catalog.Float8
			default:
				b.fail(sqlerr.UndefinedFunction, fc.Location, "function sum(%s) does not exist", at)
			}
		case "avg":
			if !at.IsNumeric() && at != catalog.Interval {
				b.fail(sqlerr.UndefinedFunction, fc.Location, "function avg(%s) does not exist", at)
			}
			// avg of integers and numerics is numeric, of floats double precision, of
			// intervals interval, as in PostgreSQL.
			call.typ = catalog.Numeric
			switch at {
			case catalog.Float4, catalog.Float8:
				call.typ = catalog.Float8
			case catalog.Interval:
				call.typ = catalog.Interval
			}
		case "min", "max":
			if at == catalog.Jsonb {
				b.fail(sqlerr.UndefinedFunction, fc.Location, "function %s(jsonb) does not exist", name)
			}
			call.typ = at
		}
		d := ""
		if call.distinct {
			d = "DISTINCT "
		}
		label = name + "(" + d + arg.String() + ")"
	}
	ac.aggs = append(ac.aggs, call)
	return &aggRef{k: len(ac.aggs) - 1, t: call.typ, s: label}
}
