package planner

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// bindError carries a binder error up the stack; Plan recovers it. Panic as control flow
// stays inside the binder (STYLE §2.5).
type bindError struct{ err error }

type binder struct {
	cat    *catalog.Catalog
	sql    string
	ext    *extensions    // streaming clauses cut from the statement (parse.go)
	ptypes []catalog.Type // Unknown until inferred
	pvals  *expr.Params
	fixed  []bool  // client-declared types
	inView bool    // binding a continuous query: wall-clock functions are not allowed
	nowOK  bool    // binding a temporal filter's comparison, where now() is (temporal.go)
	agg    *aggCtx // non-nil while binding a grouped SELECT's target list and HAVING

	ctes      []map[string]*pg_query.CommonTableExpr // WITH scopes, innermost last
	cteDepth  int                                    // nesting of CTE bodies being bound
	outers    []outerScope                           // scopes of the enclosing queries
	outerRefs int                                    // correlated references made while binding an EXISTS
	corr      *corrCapture                           // the EXISTS subquery whose correlations are collected
	scalars   map[*pg_query.SubLink]int              // scalar subqueries of the SELECT being bound → column
	rankCol   *expr.Col                              // the ranking window function's column, in windowSelect
	winAggs   map[*pg_query.FuncCall]*expr.Col       // the window aggregates' columns, in windowAggSelect
	// locs holds the source location of each bound expression, so an error found later
	// (a bad literal, an ungrouped column, a CASE arm of the wrong type) points where
	// PostgreSQL does.
	locs map[expr.Expr]int32
}

func newBinder(cat *catalog.Catalog, sql string, oids []uint32) *binder {
	b := &binder{cat: cat, sql: sql, pvals: &expr.Params{}}
	for i, oid := range oids {
		t, ok := catalog.TypeByOID(oid)
		b.growParams(i + 1)
		if oid != 0 && ok {
			b.ptypes[i], b.fixed[i] = t, true
		}
	}
	return b
}

func (b *binder) growParams(n int) {
	for len(b.ptypes) < n {
		b.ptypes = append(b.ptypes, catalog.Unknown)
		b.fixed = append(b.fixed, false)
	}
}

func (b *binder) finishParams() {
	for i, t := range b.ptypes {
		if t == catalog.Unknown {
			b.ptypes[i] = catalog.Text
		}
	}
}

func (b *binder) params() params { return params{types: b.ptypes, vals: b.pvals} }

// located records that e was written at loc and returns e.
func (b *binder) located(e expr.Expr, loc int32) expr.Expr {
	if b.locs == nil {
		b.locs = map[expr.Expr]int32{}
	}
	b.locs[e] = loc
	return e
}

// locOf returns where e was written, or fallback when e is not a recorded leaf.
func (b *binder) locOf(e expr.Expr, fallback int32) int32 {
	if l, ok := b.locs[e]; ok {
		return l
	}
	return fallback
}

// fail aborts binding with code and a message located at loc (a pg_query byte offset,
// -1 when unknown).
func (b *binder) fail(code sqlerr.Code, loc int32, format string, args ...any) {
	e := sqlerr.New(code, format, args...)
	e.Position = pos(b.sql, loc)
	panic(bindError{e})
}

func (b *binder) failErr(err error, loc int32) {
	e := sqlerr.As(err)
	panic(bindError{e.At(pos(b.sql, loc))})
}

func (b *binder) unsupported(loc int32, construct string) {
	b.fail(sqlerr.FeatureNotSupported, loc, "%s is not supported", construct)
}

func (b *binder) statement(n *pg_query.Node, kind catalog.Kind) Statement {
	switch s := n.Node.(type) {
	case *pg_query.Node_CreateStmt:
		if kind == 0 {
			kind = catalog.Table
		}
		return b.createRelation(s.CreateStmt, kind)
	case *pg_query.Node_CreateTableAsStmt:
		if s.CreateTableAsStmt.Objtype != pg_query.ObjectType_OBJECT_MATVIEW {
			b.unsupported(-1, "CREATE TABLE AS")
		}
		return b.createView(s.CreateTableAsStmt)
	case *pg_query.Node_DropStmt:
		return b.drop(s.DropStmt, kind)
	case *pg_query.Node_InsertStmt:
		return b.insert(s.InsertStmt)
	case *pg_query.Node_UpdateStmt:
		return b.update(s.UpdateStmt)
	case *pg_query.Node_DeleteStmt:
		return b.delete(s.DeleteStmt)
	case *pg_query.Node_SelectStmt:
		b.checkReadRelations(n)
		return &Read{params: b.params(), SQL: b.sql, Names: SelectNames(s.SelectStmt)}
	case *pg_query.Node_VariableSetStmt:
		v := s.VariableSetStmt
		switch v.Kind {
		case pg_query.VariableSetKind_VAR_SET_VALUE:
			vals := make([]string, len(v.Args))
			for i, a := range v.Args {
				vals[i] = b.constText(a)
			}
			return &SetVar{params: b.params(), Name: strings.ToLower(v.Name), Value: strings.Join(vals, ", ")}
		case pg_query.VariableSetKind_VAR_SET_DEFAULT, pg_query.VariableSetKind_VAR_RESET:
			return &SetVar{params: b.params(), Name: strings.ToLower(v.Name), Reset: true}
		case pg_query.VariableSetKind_VAR_RESET_ALL:
			return &SetVar{params: b.params(), Name: "all", Reset: true}
		case pg_query.VariableSetKind_VAR_SET_MULTI:
			// SET TRANSACTION …, SET SESSION CHARACTERISTICS: accepted, no effect in autocommit.
			return &SetVar{params: b.params(), Name: strings.ToLower(v.Name)}
		}
		b.unsupported(-1, "this form of SET")
	case *pg_query.Node_VariableShowStmt:
		return &ShowVar{params: b.params(), Name: strings.ToLower(s.VariableShowStmt.Name)}
	case *pg_query.Node_TransactionStmt:
		switch s.TransactionStmt.Kind {
		case pg_query.TransactionStmtKind_TRANS_STMT_BEGIN, pg_query.TransactionStmtKind_TRANS_STMT_START:
			return &Tx{params: b.params(), Tag: "BEGIN"}
		case pg_query.TransactionStmtKind_TRANS_STMT_COMMIT:
			return &Tx{params: b.params(), Tag: "COMMIT"}
		case pg_query.TransactionStmtKind_TRANS_STMT_ROLLBACK:
			return &Tx{params: b.params(), Tag: "ROLLBACK"}
		}
		b.unsupported(s.TransactionStmt.Location, "this transaction statement")
	case *pg_query.Node_CopyStmt:
		return b.copyStmt(s.CopyStmt)
	case *pg_query.Node_ExplainStmt:
		q := s.ExplainStmt.Query
		if sel, ok := q.Node.(*pg_query.Node_SelectStmt); ok {
			root := b.selectPlan(sel.SelectStmt)
			return &Explain{params: b.params(), Text: explainText(root)}
		}
		b.unsupported(-1, "EXPLAIN of this statement")
	}
	b.unsupported(-1, "statement "+strings.TrimPrefix(fmt.Sprintf("%T", n.Node), "*pg_query.Node_"))
	return nil
}

// checkReadRelations resolves the relations an ad-hoc read names against Weir's catalog
// before DuckDB sees the query. DuckDB resolves names without regard to case, so without
// this `SELECT * FROM mixed` would read a relation named "Mixed"; PostgreSQL answers
// 42P01. Names of common table expressions, system catalogs (pg_*, information_schema)
// and Weir's own tables (weir_*) are left to DuckDB.
func (b *binder) checkReadRelations(n *pg_query.Node) {
	rvs, ctes := rangeVars(nil, n)
	for _, rv := range rvs {
		name := rv.Relname
		switch {
		case rv.Schemaname != "" && rv.Schemaname != "public",
			ctes[name] && rv.Schemaname == "",
			strings.HasPrefix(name, "pg_"), strings.HasPrefix(name, "weir_"):
			continue
		}
		if _, err := b.cat.Get(name); err != nil {
			b.failErr(err, rv.Location)
		}
	}
}

// rangeVars returns the relations the trees under roots name and the names of their
// common table expressions; visit, when set, also sees every node.
func rangeVars(visit func(*pg_query.Node), roots ...*pg_query.Node) (rvs []*pg_query.RangeVar, ctes map[string]bool) {
	ctes = map[string]bool{}
	var walk func(n *pg_query.Node)
	walk = func(n *pg_query.Node) {
		if n == nil {
			return
		}
		switch v := n.Node.(type) {
		case *pg_query.Node_RangeVar:
			rvs = append(rvs, v.RangeVar)
		case *pg_query.Node_CommonTableExpr:
			ctes[v.CommonTableExpr.Ctename] = true
		}
		if visit != nil {
			visit(n)
		}
		for _, c := range children(n) {
			walk(c)
		}
	}
	for _, n := range roots {
		walk(n)
	}
	return rvs, ctes
}

func (b *binder) constText(n *pg_query.Node) string {
	if n == nil {
		b.fail(sqlerr.SyntaxError, -1, "option needs a value")
		return ""
	}
	switch v := n.Node.(type) {
	case *pg_query.Node_AConst:
		switch c := v.AConst.Val.(type) {
		case *pg_query.A_Const_Sval:
			return c.Sval.Sval
		case *pg_query.A_Const_Ival:
			return fmt.Sprint(c.Ival.Ival)
		case *pg_query.A_Const_Fval:
			return c.Fval.Fval
		case *pg_query.A_Const_Boolval:
			if c.Boolval.Boolval {
				return "on"
			}
			return "off"
		}
	case *pg_query.Node_TypeCast:
		return b.constText(v.TypeCast.Arg)
	case *pg_query.Node_String_: // WITH (…) option values are bare nodes, not A_Const
		return v.String_.Sval
	case *pg_query.Node_Integer:
		return fmt.Sprint(v.Integer.Ival)
	case *pg_query.Node_Float:
		return v.Float.Fval
	case *pg_query.Node_Boolean:
		if v.Boolean.Boolval {
			return "on"
		}
		return "off"
	}
	return ""
}

func (b *binder) createRelation(s *pg_query.CreateStmt, kind catalog.Kind) Statement {
	name := s.Relation.Relname
	if s.Relation.Schemaname != "" && s.Relation.Schemaname != "public" {
		b.fail(sqlerr.FeatureNotSupported, s.Relation.Location, "schema %q is not supported (only public)", s.Relation.Schemaname)
	}
	rel := &catalog.Relation{Name: name, Kind: kind, SQL: b.sql, Options: map[string]string{}}
	for _, el := range s.TableElts {
		switch e := el.Node.(type) {
		case *pg_query.Node_ColumnDef:
			cd := e.ColumnDef
			if rel.ColumnIndex(cd.Colname) >= 0 {
				b.fail(sqlerr.DuplicateColumn, cd.Location, "column %q specified more than once", cd.Colname)
			}
			t, maxLen := b.typeWithLen(cd.TypeName)
			col := catalog.Column{Name: cd.Colname, Type: t, NotNull: cd.IsNotNull, MaxLen: maxLen}
			if t == catalog.Numeric {
				col.Precision, col.Scale = b.numericTypmod(cd.TypeName)
			}
			if cd.RawDefault != nil {
				b.unsupported(cd.Location, "DEFAULT")
			}
			for _, cn := range cd.Constraints {
				c := cn.GetConstraint()
				switch c.Contype {
				case pg_query.ConstrType_CONSTR_NOTNULL:
					col.NotNull = true
				case pg_query.ConstrType_CONSTR_NULL:
				case pg_query.ConstrType_CONSTR_PRIMARY:
					if len(rel.PrimaryKey) > 0 {
						b.fail(sqlerr.InvalidTableDefinition, c.Location, "multiple primary keys for table %q are not allowed", name)
					}
					rel.PrimaryKey = []int{len(rel.Columns)}
					col.NotNull = true
				default:
					b.unsupported(c.Location, "column constraint "+strings.TrimPrefix(c.Contype.String(), "CONSTR_"))
				}
			}
			rel.Columns = append(rel.Columns, col)
		case *pg_query.Node_Constraint:
			c := e.Constraint
			if c.Contype != pg_query.ConstrType_CONSTR_PRIMARY {
				b.unsupported(c.Location, "table constraint "+strings.TrimPrefix(c.Contype.String(), "CONSTR_"))
			}
			if len(rel.PrimaryKey) > 0 {
				b.fail(sqlerr.InvalidTableDefinition, c.Location, "multiple primary keys for table %q are not allowed", name)
			}
			for _, k := range c.Keys {
				kn := k.GetString_().Sval
				i := rel.ColumnIndex(kn)
				if i < 0 {
					b.fail(sqlerr.UndefinedColumn, c.Location, "column %q named in key does not exist", kn)
				}
				rel.PrimaryKey = append(rel.PrimaryKey, i)
				rel.Columns[i].NotNull = true
			}
		default:
			b.unsupported(-1, "this table element")
		}
	}
	if len(rel.Columns) == 0 {
		b.fail(sqlerr.SyntaxError, s.Relation.Location, "%s %q must have at least one column", kind, name)
	}
	for _, o := range s.Options {
		d := o.GetDefElem()
		if d.Arg == nil {
			rel.Options[strings.ToLower(d.Defname)] = "true" // WITH (name): PostgreSQL's boolean shorthand
			continue
		}
		rel.Options[strings.ToLower(d.Defname)] = b.constText(d.Arg)
	}
	switch kind {
	case catalog.Source:
		if len(rel.PrimaryKey) > 0 {
			b.fail(sqlerr.FeatureNotSupported, s.Relation.Location, "a source is append-only and cannot have a PRIMARY KEY; use CREATE TABLE")
		}
		conn := rel.Options["connector"]
		if conn == "" {
			rel.Options["connector"] = "http"
		} else if conn != "http" && conn != "kafka" { // kafka's options: db/connectors.go
			b.fail(sqlerr.FeatureNotSupported, s.Relation.Location, "connector %q is not supported (only 'http' or 'kafka')", conn)
		}
		if b.ext != nil && b.ext.watermark != nil {
			b.bindWatermark(rel, b.ext.watermark)
		}
	case catalog.Table:
		if len(rel.PrimaryKey) == 0 {
			b.fail(sqlerr.FeatureNotSupported, s.Relation.Location, "table %q needs a PRIMARY KEY (tables are keyed; use CREATE SOURCE for append-only data)", name)
		}
		switch conn := rel.Options["connector"]; {
		case conn == "kafka": // a table fed from a Weir sink's topic; its options: db/connectors.go
		case conn != "":
			b.fail(sqlerr.FeatureNotSupported, s.Relation.Location, "connector %q is not supported for a table (only 'kafka', format = 'changes')", conn)
		case len(rel.Options) > 0:
			b.unsupported(s.Relation.Location, "WITH options on a table")
		}
	}
	return &CreateRelation{params: b.params(), Rel: rel, IfNotExists: s.IfNotExists}
}

func (b *binder) typeName(tn *pg_query.TypeName) catalog.Type {
	t, _ := b.typeWithLen(tn)
	return t
}

// typeWithLen resolves a type name and its length modifier: n for varchar(n), else 0.
// Other modifiers (timestamp(3), numeric(10,2)) are not supported yet.
func (b *binder) typeWithLen(tn *pg_query.TypeName) (catalog.Type, int) {
	if len(tn.ArrayBounds) > 0 {
		b.unsupported(tn.Location, "array types")
	}
	name := tn.Names[len(tn.Names)-1].GetString_().Sval
	t, err := catalog.LookupType(name)
	if err != nil {
		b.failErr(err, tn.Location)
	}
	if len(tn.Typmods) == 0 || t == catalog.Numeric {
		return t, 0 // numeric's modifiers: see numericTypmod
	}
	if t != catalog.Varchar || len(tn.Typmods) != 1 {
		b.unsupported(tn.Location, "a type modifier on "+t.String())
	}
	n := int64(-1)
	if c := tn.Typmods[0].GetAConst(); c != nil {
		if iv, ok := c.Val.(*pg_query.A_Const_Ival); ok {
			n = int64(iv.Ival.Ival)
		}
	}
	if n < 1 || n > 10485760 {
		b.fail(sqlerr.InvalidParameterValue, tn.Location, "length for type varchar must be between 1 and 10485760")
	}
	return t, int(n)
}

// numericTypmod reads numeric(p) or numeric(p,s): it returns precision and scale, or 0, 0
// for plain numeric. Out-of-range modifiers fail with 22023 as in PostgreSQL.
func (b *binder) numericTypmod(tn *pg_query.TypeName) (int32, int32) {
	if len(tn.Typmods) == 0 {
		return 0, 0
	}
	if len(tn.Typmods) > 2 {
		b.fail(sqlerr.InvalidParameterValue, tn.Location, "invalid NUMERIC type modifier")
	}
	mods := make([]int64, len(tn.Typmods))
	for i, m := range tn.Typmods {
		c := m.GetAConst()
		iv, ok := c.GetVal().(*pg_query.A_Const_Ival)
		if c == nil || !ok {
			b.fail(sqlerr.SyntaxError, tn.Location, "type modifiers must be simple constants or identifiers")
		}
		mods[i] = int64(iv.Ival.Ival)
	}
	p, s := mods[0], int64(0)
	if len(mods) == 2 {
		s = mods[1]
	}
	if p < 1 || p > 1000 {
		b.fail(sqlerr.InvalidParameterValue, tn.Location, "NUMERIC precision %d must be between 1 and 1000", p)
	}
	if s < 0 || s > p {
		b.fail(sqlerr.InvalidParameterValue, tn.Location, "NUMERIC scale %d must be between 0 and precision %d", s, p)
	}
	return int32(p), int32(s)
}

func (b *binder) drop(s *pg_query.DropStmt, kind catalog.Kind) Statement {
	switch s.RemoveType {
	case pg_query.ObjectType_OBJECT_TABLE:
		if kind == 0 {
			kind = catalog.Table
		}
	case pg_query.ObjectType_OBJECT_MATVIEW:
		kind = catalog.View
	default:
		b.unsupported(-1, "DROP "+strings.TrimPrefix(s.RemoveType.String(), "OBJECT_"))
	}
	d := &Drop{params: b.params(), Kind: kind, IfExists: s.MissingOk, Cascade: s.Behavior == pg_query.DropBehavior_DROP_CASCADE}
	for _, o := range s.Objects {
		items := o.GetList().GetItems()
		d.Names = append(d.Names, items[len(items)-1].GetString_().Sval)
	}
	return d
}

// relation resolves a RangeVar to a catalog relation.
func (b *binder) relation(rv *pg_query.RangeVar) *catalog.Relation {
	if rv.Schemaname != "" && rv.Schemaname != "public" {
		b.fail(sqlerr.UndefinedTable, rv.Location, "relation \"%s.%s\" does not exist", rv.Schemaname, rv.Relname)
	}
	rel, err := b.cat.Get(rv.Relname)
	if err != nil {
		b.failErr(err, rv.Location)
	}
	return rel
}

func (b *binder) insert(s *pg_query.InsertStmt) Statement {
	rel := b.relation(s.Relation)
	if rel.Kind == catalog.View {
		b.fail(sqlerr.WrongObjectType, s.Relation.Location, "cannot insert into materialized view %q", rel.Name)
	}
	if len(s.ReturningList) > 0 {
		b.unsupported(-1, "RETURNING")
	}
	if s.WithClause != nil {
		b.unsupported(-1, "WITH in INSERT")
	}
	targets := make([]int, 0, len(rel.Columns))
	if len(s.Cols) == 0 {
		for i := range rel.Columns {
			targets = append(targets, i)
		}
	}
	for _, c := range s.Cols {
		rt := c.GetResTarget()
		i := rel.ColumnIndex(rt.Name)
		if i < 0 {
			b.fail(sqlerr.UndefinedColumn, rt.Location, "column %q of relation %q does not exist", rt.Name, rel.Name)
		}
		for _, t := range targets {
			if t == i {
				b.fail(sqlerr.DuplicateColumn, rt.Location, "column %q specified more than once", rt.Name)
			}
		}
		targets = append(targets, i)
	}
	sel := s.SelectStmt.GetSelectStmt()
	if sel == nil || len(sel.ValuesLists) == 0 {
		b.unsupported(-1, "INSERT … SELECT (use VALUES)")
	}
	ins := &Insert{Rel: rel}
	width := len(sel.ValuesLists[0].GetList().GetItems())
	for _, vl := range sel.ValuesLists {
		items := vl.GetList().GetItems()
		if len(items) != width {
			b.fail(sqlerr.SyntaxError, location(items[0]), "VALUES lists must all be the same length")
		}
		// As PostgreSQL: too many values is an error at the first extra one; too few is an
		// error only against an explicit column list, else the trailing columns take their
		// defaults (NULL: Weir has no DEFAULT).
		if len(items) > len(targets) {
			b.fail(sqlerr.SyntaxError, location(items[len(targets)]), "INSERT has more expressions than target columns")
		}
		if len(items) < len(targets) && len(s.Cols) > 0 {
			b.fail(sqlerr.SyntaxError, s.Cols[len(items)].GetResTarget().Location, "INSERT has more target columns than expressions")
		}
		row := make([]expr.Expr, len(rel.Columns))
		for i, c := range rel.Columns {
			row[i] = expr.NullOf(c.Type)
		}
		for j, it := range items {
			col := rel.Columns[targets[j]]
			e := b.expr(it, nil)
			row[targets[j]] = b.coerceColumn(e, col, location(it))
		}
		ins.Rows = append(ins.Rows, row)
	}
	if oc := s.OnConflictClause; oc != nil {
		if rel.Kind != catalog.Table {
			b.fail(sqlerr.WrongObjectType, oc.Location, "ON CONFLICT needs a table with a primary key; %q is a %s", rel.Name, rel.Kind)
		}
		if oc.Infer != nil && len(oc.Infer.IndexElems) > 0 {
			var keys []int
			for _, ie := range oc.Infer.IndexElems {
				n := ie.GetIndexElem().Name
				i := rel.ColumnIndex(n)
				if i < 0 {
					b.fail(sqlerr.UndefinedColumn, oc.Location, "column %q does not exist", n)
				}
				keys = append(keys, i)
			}
			if !sameSet(keys, rel.PrimaryKey) {
				b.fail(sqlerr.InvalidColumnReference, oc.Location, "there is no unique or exclusion constraint matching the ON CONFLICT specification")
			}
		} else if oc.Action == pg_query.OnConflictAction_ONCONFLICT_UPDATE {
			b.fail(sqlerr.SyntaxError, oc.Location, "ON CONFLICT DO UPDATE requires inference specification or constraint name")
		}
		conf := &OnConflict{DoNothing: oc.Action == pg_query.OnConflictAction_ONCONFLICT_NOTHING}
		if !conf.DoNothing {
			sc := newRelScope(rel, rel.Name)
			sc.addRelation(rel, "excluded")
			conf.Set = b.assignments(rel, oc.TargetList, sc)
			if oc.WhereClause != nil {
				conf.Where = b.predicate(oc.WhereClause, sc)
			}
		}
		ins.OnConflict = conf
	}
	ins.params = b.params()
	return ins
}

func sameSet(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[int]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}

func (b *binder) assignments(rel *catalog.Relation, targets []*pg_query.Node, sc *scope) []Assignment {
	var out []Assignment
	for _, t := range targets {
		rt := t.GetResTarget()
		i := rel.ColumnIndex(rt.Name)
		if i < 0 {
			b.fail(sqlerr.UndefinedColumn, rt.Location, "column %q of relation %q does not exist", rt.Name, rel.Name)
		}
		if len(rt.Indirection) > 0 {
			b.unsupported(rt.Location, "assignment to a field or subscript")
		}
		for _, pk := range rel.PrimaryKey {
			if pk == i {
				b.unsupported(rt.Location, "updating a primary key column")
			}
		}
		e := b.expr(rt.Val, sc)
		out = append(out, Assignment{Col: i, E: b.coerceColumn(e, rel.Columns[i], location(rt.Val))})
	}
	return out
}

func (b *binder) mutableTable(rv *pg_query.RangeVar, verb string) *catalog.Relation {
	rel := b.relation(rv)
	if rel.Kind != catalog.Table {
		b.fail(sqlerr.WrongObjectType, rv.Location, "cannot %s %s %q: only tables are mutable", verb, rel.Kind, rel.Name)
	}
	return rel
}

func (b *binder) update(s *pg_query.UpdateStmt) Statement {
	rel := b.mutableTable(s.Relation, "update")
	if len(s.FromClause) > 0 || len(s.ReturningList) > 0 || s.WithClause != nil {
		b.unsupported(-1, "UPDATE … FROM / RETURNING / WITH")
	}
	alias := rel.Name
	if s.Relation.Alias != nil {
		alias = s.Relation.Alias.Aliasname
	}
	sc := newRelScope(rel, alias)
	u := &Update{Rel: rel, Set: b.assignments(rel, s.TargetList, sc)}
	if s.WhereClause != nil {
		u.Where = b.predicate(s.WhereClause, sc)
	}
	u.params = b.params()
	return u
}

func (b *binder) delete(s *pg_query.DeleteStmt) Statement {
	rel := b.mutableTable(s.Relation, "delete from")
	if len(s.UsingClause) > 0 || len(s.ReturningList) > 0 || s.WithClause != nil {
		b.unsupported(-1, "DELETE … USING / RETURNING / WITH")
	}
	alias := rel.Name
	if s.Relation.Alias != nil {
		alias = s.Relation.Alias.Aliasname
	}
	d := &Delete{Rel: rel}
	if s.WhereClause != nil {
		d.Where = b.predicate(s.WhereClause, newRelScope(rel, alias))
	}
	d.params = b.params()
	return d
}

// coerceColumn is coerceAssign to col's type, then col's numeric(p,s) modifier: the value
// is rounded to the scale and must fit the precision (22003).
func (b *binder) coerceColumn(e expr.Expr, col catalog.Column, loc int32) expr.Expr {
	e = b.coerceAssign(e, col.Type, loc, col.Name)
	if col.Type == catalog.Numeric && col.Precision > 0 {
		e = b.fold(&expr.Cast{E: e, T: col.Type, Precision: col.Precision, Scale: col.Scale}, loc)
	}
	return e
}

// coerceAssign converts e to column type t for storing (INSERT, UPDATE SET): any
// assignment cast PostgreSQL allows, including numeric narrowing with range checks.
func (b *binder) coerceAssign(e expr.Expr, t catalog.Type, loc int32, col string) expr.Expr {
	if e.Type() == t {
		return e
	}
	if c, ok := b.tryCoerce(e, t, loc); ok {
		return c
	}
	from := e.Type()
	if (from.IsNumeric() && t.IsNumeric()) || (from.IsTime() && t.IsTime()) || t.IsString() {
		return &expr.Cast{E: e, T: t}
	}
	b.fail(sqlerr.DatatypeMismatch, loc, "column %q is of type %s but expression is of type %s", col, t, from)
	return nil
}

// constValue evaluates a constant expression at bind time.
func constValue(e expr.Expr) (delta.Value, bool) {
	if c, ok := e.(*expr.Const); ok {
		return c.V, true
	}
	return delta.Value{}, false
}
