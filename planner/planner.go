// Package planner turns SQL text into Weir statements: catalog changes, writes,
// continuous queries (a logical plan, lowered to an exec.Dataflow) and reads that run on
// DuckDB. Binding resolves names against the catalog and types every expression with
// PostgreSQL's rules; errors carry SQLSTATE codes and 1-based positions.
package planner

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner/plan"
)

// Statement is a planned statement. The concrete types below are the whole set.
type Statement interface {
	// ParamTypes are the types of $1…$n, as the client gave them or as inferred.
	ParamTypes() []catalog.Type
}

type params struct {
	types []catalog.Type
	vals  *expr.Params
}

func (p *params) ParamTypes() []catalog.Type { return p.types }

// Values returns the holder that execution fills with parameter values.
func (p *params) Values() *expr.Params { return p.vals }

// CreateRelation creates a source or table.
type CreateRelation struct {
	params
	Rel         *catalog.Relation
	IfNotExists bool
}

// CreateView creates a materialized view.
type CreateView struct {
	params
	Rel         *catalog.Relation
	Plan        plan.Node
	IfNotExists bool
}

// Drop drops relations of one kind.
type Drop struct {
	params
	Kind     catalog.Kind
	Names    []string
	IfExists bool
	Cascade  bool
}

// Insert adds rows to a source or table. Rows holds one expression per column of Rel
// (missing columns are NULL constants). With OnConflict set (tables only), a row whose
// key exists updates the existing row instead.
type Insert struct {
	params
	Rel        *catalog.Relation
	Rows       [][]expr.Expr
	OnConflict *OnConflict
}

// OnConflict is INSERT … ON CONFLICT (key) DO UPDATE SET … / DO NOTHING. Set expressions
// and Where read the existing row's columns followed by the proposed (EXCLUDED) row's.
type OnConflict struct {
	DoNothing bool
	Set       []Assignment
	Where     expr.Expr
}

// Assignment sets column Col to E.
type Assignment struct {
	Col int
	E   expr.Expr
}

// Update changes the rows of a table where Where holds (nil: all rows). Expressions read
// the table's columns.
type Update struct {
	params
	Rel   *catalog.Relation
	Where expr.Expr
	Set   []Assignment
}

// Delete removes the rows of a table where Where holds (nil: all rows).
type Delete struct {
	params
	Rel   *catalog.Relation
	Where expr.Expr
}

// Show lists the relations of one kind (SHOW SOURCES | TABLES | MATERIALIZED VIEWS).
type Show struct {
	params
	What catalog.Kind
}

// Read is a query that is not a continuous query; it runs on DuckDB as written.
type Read struct {
	params
	SQL   string
	Names []ResultName // its result columns' names, as PostgreSQL gives them (SelectNames)
}

// SetVar is SET name = value (or RESET name / RESET ALL when Reset).
type SetVar struct {
	params
	Name  string
	Value string
	Reset bool
}

// ShowVar is SHOW name (or SHOW ALL).
type ShowVar struct {
	params
	Name string
}

// Tx is a transaction-control statement: BEGIN, COMMIT, ROLLBACK. Weir applies each
// statement as it comes (autocommit); these keep clients' transaction status honest.
type Tx struct {
	params
	Tag string // "BEGIN", "COMMIT", "ROLLBACK"
}

// Explain is EXPLAIN [MATERIALIZED VIEW name | SELECT …]: the plan as text.
type Explain struct {
	params
	Text string
}

// ExplainView is EXPLAIN MATERIALIZED VIEW name: the view's running dataflow with each
// operator's counters.
type ExplainView struct {
	params
	Name string
}

// Subscribe is SUBSCRIBE [TO] view [WITH (SNAPSHOT = bool)]: an endless result of the
// view's changes, each row (weir_ts, weir_diff, the view's columns), starting with its
// current contents unless NoSnapshot (SNAPSHOT = false).
type Subscribe struct {
	params
	Name       string
	NoSnapshot bool
}

// Planner plans statements against a catalog.
type Planner struct {
	cat *catalog.Catalog
}

// New returns a planner over cat.
func New(cat *catalog.Catalog) *Planner { return &Planner{cat: cat} }

// Plan parses, binds and plans one statement. paramOIDs are the client-declared parameter
// types (0 = infer). Unsupported SQL fails with 0A000 naming the construct.
func (p *Planner) Plan(sql string, paramOIDs []uint32) (st Statement, err error) {
	rewritten, kind, custom, ext, err := streaming(sql)
	if err != nil {
		return nil, err
	}
	if custom != nil {
		return custom, nil
	}
	tree, err := pg_query.Parse(rewritten)
	if err != nil {
		return nil, parseError(sql, err)
	}
	if len(tree.Stmts) != 1 {
		return nil, sqlerr.New(sqlerr.SyntaxError, "expected one statement, got %d", len(tree.Stmts))
	}
	b := newBinder(p.cat, sql, paramOIDs)
	b.ext = ext
	defer func() {
		if r := recover(); r != nil {
			be, ok := r.(bindError)
			if !ok {
				panic(r)
			}
			st, err = nil, be.err
		}
	}()
	if st = b.roleStatement(tree.Stmts[0].Stmt); st == nil { // role.go
		st = b.statement(tree.Stmts[0].Stmt, kind)
	}
	b.finishParams()
	return st, nil
}

// ExplainView returns the plan of a view's query.
func (p *Planner) ExplainView(name string) (string, error) {
	rel, err := p.cat.Get(name)
	if err != nil {
		return "", err
	}
	if rel.Kind != catalog.View {
		return "", sqlerr.New(sqlerr.WrongObjectType, "%q is not a materialized view", name)
	}
	st, err := p.Plan(rel.SQL, nil)
	if err != nil {
		return "", err
	}
	return plan.Explain(st.(*CreateView).Plan), nil
}
