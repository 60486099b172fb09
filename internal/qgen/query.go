package qgen

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
)

// Query is one generated SELECT.
type Query struct {
	SQL string
	// Shapes names the constructs the query uses ("join-left", "not-in-subquery",
	// "row_number", …), sorted, for coverage reports and allow-lists.
	Shapes []string
	// Reads names the base relations the query reads, directly or through views,
	// sorted: its answer can change only when one of them does.
	Reads []string
	// Views names the views (Gen.Views) the query reads, sorted.
	Views []string
	// Types are the types of the output columns c0, c1, ….
	Types []Type
}

// View is a materialized view a query may read, created from an earlier Query.
type View struct {
	Name  string
	Query Query
}

// Gen generates queries. It is not safe for concurrent use.
type Gen struct {
	// Views are the views the next queries may read (views on views). The caller keeps
	// it current: a view must exist wherever a query that reads it is created.
	Views []View

	r         *rand.Rand
	nalias    int
	ctes      []named // the WITH items in scope, in definition order
	forceCTE  bool    // the next FROM item must reference a CTE
	innerOnly bool    // joins in FROM clauses being generated are inner joins
	shapes    map[string]bool
	reads     map[string]bool // base relations read
	views     map[string]bool // views read
}

// named is a CTE a FROM item can reference by name.
type named struct {
	name string
	cols []Column
}

// scol is a column in scope: how to reference it (always qualified) and its type. A
// derived column is an expression over a base column that the generator uses as if it
// were one (a jsonb member read with ->>, see jsonAccessors): it is never a USING name.
type scol struct {
	ref     string // "t3.g", "(t3.j ->> 's')"
	name    string // "g"
	dom     string // the domain its values come from, for constants (litFor): a column's name
	t       Type
	derived bool
}

type scope []scol

func (s scope) of(t Type) []scol {
	var out []scol
	for _, c := range s {
		if c.t == t {
			out = append(out, c)
		}
	}
	return out
}

// columns returns the columns of s that are not derived.
func (s scope) columns() scope {
	var out scope
	for _, c := range s {
		if !c.derived {
			out = append(out, c)
		}
	}
	return out
}

func concat(a, b scope) scope {
	out := make(scope, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// New returns a query generator seeded with seed.
func New(seed uint64) *Gen {
	return &Gen{r: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
}

// Query returns the next query.
func (g *Gen) Query() Query {
	g.nalias, g.ctes, g.forceCTE = 0, nil, false
	g.shapes, g.reads, g.views = map[string]bool{}, map[string]bool{}, map[string]bool{}
	var sql string
	var types []Type
	if g.p(0.15) {
		sql, types = g.with()
	} else {
		sql, types = g.query(0)
	}
	// jsonb members are derived columns (jsonAccessors), used wherever a column is:
	// tagged by what the text reads.
	if strings.Contains(sql, " ->> ") {
		g.tag("jsonb-get")
	}
	if strings.Contains(sql, " -> ") {
		g.tag("jsonb-path")
	}
	if strings.Contains(sql, "->> 'n' AS bigint)") || strings.Contains(sql, "->> 'n')::bigint") {
		g.tag("jsonb-cast")
	}
	return Query{SQL: sql, Types: types,
		Shapes: slices.Sorted(maps.Keys(g.shapes)),
		Reads:  slices.Sorted(maps.Keys(g.reads)),
		Views:  slices.Sorted(maps.Keys(g.views)),
	}
}

func (g *Gen) p(prob float64) bool { return g.r.Float64() < prob }
func (g *Gen) n(k int) int         { return g.r.IntN(k) }
func (g *Gen) tag(s string)        { g.shapes[s] = true }

func (g *Gen) pick(xs ...string) string { return xs[g.n(len(xs))] }

func (g *Gen) alias() string {
	g.nalias++
	return fmt.Sprintf("t%d", g.nalias)
}

// query generates a query of any shape; depth bounds nesting (0 is the view itself,
// subqueries go one deeper, and nothing nests below depth 2).
func (g *Gen) query(depth int) (string, []Type) {
	x := g.n(100)
	if depth >= 2 {
		x %= 55 // only plain selects and aggregates this deep
	}
	switch {
	case x < 30:
		return g.selectCore(depth, false, nil)
	case x < 55:
		return g.selectCore(depth, true, nil)
	case x < 67:
		return g.topN(depth)
	case x < 80:
		return g.window(depth)
	default:
		return g.setOp(depth)
	}
}

// with generates WITH q1 AS (…)[, q2 AS (…)] SELECT …, where the main query reads q1 or
// q2 (and q2 may read q1).
func (g *Gen) with() (string, []Type) {
	g.tag("cte")
	n := 1
	if g.p(0.3) {
		n = 2
	}
	var defs []string
	for i := 0; i < n; i++ {
		body, ts := g.query(1)
		name := fmt.Sprintf("q%d", i+1)
		defs = append(defs, name+" AS ("+body+")")
		g.ctes = append(g.ctes, named{name: name, cols: outputColumns(ts)})
	}
	g.forceCTE = true
	main, ts := g.query(0)
	return "WITH " + strings.Join(defs, ", ") + " " + main, ts
}

// outputColumns names a generated query's outputs: every select list item is aliased
// c0, c1, … so names never collide (a view's columns must be distinct) and never shadow
// an input column.
func outputColumns(ts []Type) []Column {
	cols := make([]Column, len(ts))
	for i, t := range ts {
		cols[i] = Column{Name: fmt.Sprintf("c%d", i), Type: t}
	}
	return cols
}

func scopeOf(alias string, cols []Column) scope {
	sc := make(scope, len(cols))
	for i, c := range cols {
		sc[i] = scol{ref: alias + "." + c.Name, name: c.Name, dom: c.Name, t: c.Type}
	}
	return sc
}

// relScope is the scope of base relation r under alias: its columns, and members of its
// jsonb column read as derived columns.
func (g *Gen) relScope(alias string, r Relation) scope {
	sc := scopeOf(alias, r.Columns)
	for _, c := range r.Columns {
		if c.Type == JSON {
			sc = append(sc, g.jsonAccessors(alias+"."+c.Name)...)
		}
	}
	return sc
}

// fromItem generates one FROM entry: a base relation, a CTE or a subquery, with a fresh
// alias. base is the relation's name for self-join detection ("" for a subquery).
func (g *Gen) fromItem(depth int) (text string, sc scope, base string) {
	a := g.alias()
	if g.forceCTE && len(g.ctes) > 0 {
		g.forceCTE = false
		c := g.ctes[g.n(len(g.ctes))]
		return c.name + " " + a, scopeOf(a, c.cols), c.name
	}
	if depth < 2 && g.p(0.18) {
		g.tag("from-subquery")
		body, ts := g.query(depth + 1)
		return "(" + body + ") " + a, scopeOf(a, outputColumns(ts)), ""
	}
	if len(g.Views) > 0 && g.p(0.12) {
		g.tag("view-on-view")
		v := g.Views[g.n(len(g.Views))]
		g.views[v.Name] = true
		for _, r := range v.Query.Reads {
			g.reads[r] = true
		}
		return v.Name + " " + a, scopeOf(a, outputColumns(v.Query.Types)), v.Name
	}
	if len(g.ctes) > 0 && g.p(0.3) {
		c := g.ctes[g.n(len(g.ctes))]
		return c.name + " " + a, scopeOf(a, c.cols), c.name
	}
	r := Relations[g.n(len(Relations))]
	g.reads[r.Name] = true
	return r.Name + " " + a, g.relScope(a, r), r.Name
}

// from generates a FROM clause of one to three items: explicit inner and outer joins on
// equalities (with a residual predicate now and then), or a comma list whose equalities
// are returned as WHERE conjuncts.
func (g *Gen) from(depth int) (string, scope, []string) {
	n := 1
	switch x := g.n(100); {
	case x >= 85:
		n = 3
	case x >= 45:
		n = 2
	}
	comma := n > 1 && g.p(0.12)
	text, sc, base := g.fromItem(depth)
	bases := map[string]int{base: 1}
	var conds []string
	items := 1
	for i := 1; i < n; i++ {
		var it, b, eq string
		var isc scope
		for try := 0; try < 4 && eq == ""; try++ {
			shapes, reads, views := maps.Clone(g.shapes), maps.Clone(g.reads), maps.Clone(g.views)
			it, isc, b = g.fromItem(depth)
			l, r := sc, isc
			if comma && !weirWalksTimeJSON {
				l, r = sc.columns(), isc.columns() // a WHERE conjunct: see weirWalksTimeJSON
			}
			if eq = g.joinEq(l, r); eq == "" {
				g.shapes, g.reads, g.views = shapes, reads, views // the item is dropped
			}
		}
		if eq == "" {
			continue
		}
		if g.p(0.1) && !comma {
			if eq2 := g.joinEq(sc, isc); eq2 != "" && eq2 != eq {
				eq += " AND " + eq2
			}
		}
		items++
		if b != "" {
			bases[b]++
		}
		if comma {
			g.tag("join-comma")
			text += ", " + it
			conds = append(conds, eq)
			sc = concat(sc, isc)
			continue
		}
		kind := "JOIN"
		x := g.n(100)
		if g.innerOnly {
			x = 0
		}
		switch {
		case x < 45:
			g.tag("join-inner")
		case x < 70:
			kind = "LEFT JOIN"
			g.tag("join-left")
		case x < 85:
			kind = "RIGHT JOIN"
			g.tag("join-right")
		default:
			kind = "FULL JOIN"
			g.tag("join-full")
		}
		if items == 2 && kind != "FULL JOIN" && g.p(0.15) {
			// USING only on the first join, where the left side is one item and the
			// name is unambiguous; FULL JOIN … USING is not supported by Weir.
			if u := g.using(sc, isc); u != "" {
				g.tag("join-using")
				text += " " + kind + " " + it + " USING (" + u + ")"
				sc = concat(sc, isc)
				continue
			}
		}
		on := eq
		if g.p(0.2) {
			g.tag("join-residual")
			on += " AND " + g.pred(concat(sc, isc), 1)
		}
		text += " " + kind + " " + it + " ON " + on
		sc = concat(sc, isc)
	}
	if items >= 3 {
		g.tag("join-multiway")
	}
	for b, k := range bases {
		if b != "" && k > 1 {
			g.tag("self-join")
		}
	}
	return text, sc, conds
}

// joinable reports whether columns of these types can be an equi-join key. Floats and
// booleans are not used as keys.
func joinable(t Type) bool { return t == Int || t == Text || t == Time }

// joinEq returns "l = r" for a random same-class pair of a column of left and one of
// right, preferring equal names (g = g), or "" when there is no such pair.
func (g *Gen) joinEq(left, right scope) string {
	var same, any [][2]scol
	for _, l := range left {
		for _, r := range right {
			if l.t == r.t && joinable(l.t) {
				any = append(any, [2]scol{l, r})
				if l.name == r.name {
					same = append(same, [2]scol{l, r})
				}
			}
		}
	}
	if len(any) == 0 {
		return ""
	}
	pairs := any
	if len(same) > 0 && g.p(0.8) {
		pairs = same
	}
	p := pairs[g.n(len(pairs))]
	if g.p(0.5) {
		return p[1].ref + " = " + p[0].ref
	}
	return p[0].ref + " = " + p[1].ref
}

// using returns a column name that occurs exactly once on each side, with one joinable
// type, or "".
func (g *Gen) using(left, right scope) string {
	count := func(sc scope, name string) (int, Type) {
		k, t := 0, Int
		for _, c := range sc {
			if c.name == name && !c.derived {
				k++
				t = c.t
			}
		}
		return k, t
	}
	var names []string
	for _, l := range left {
		if l.derived {
			continue
		}
		lk, lt := count(left, l.name)
		rk, rt := count(right, l.name)
		if lk == 1 && rk == 1 && lt == rt && joinable(lt) {
			names = append(names, l.name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return names[g.n(len(names))]
}

// weirWalksTimeJSON enables, in the WHERE clause of a comma join, conjuncts that read a
// column inside a jsonb accessor (->, ->>) or interval arithmetic (ts ± interval,
// ts - ts). Off for a Weir bug: planner/walk.go's subExprs and rewrite do not descend into
// expr.JsonGet and expr.DateArith, so colRange misses the columns they read, a conjunct
// whose other columns come from an earlier FROM item is put into that item's join, and
// CREATE MATERIALIZED VIEW (or the first write) fails with "index out of range"; e.g.
//
//	SELECT 1 FROM tb t4, ta t5, eb t6 WHERE t5.g = t4.k AND (t6.j ->> 's') = t5.s
//
// The same omission breaks select-list expressions over a grouping key (SELECT ts +
// interval '1 hour', count(*) … GROUP BY ts), which the generator does not write.
const weirWalksTimeJSON = false

// commaWhere returns the conjuncts of conds a comma join's WHERE may have: without
// weirWalksTimeJSON, those that read no column through a jsonb accessor or interval
// arithmetic. A conjunct with a subquery is kept: EXISTS and IN are joined after the
// FROM items, and a scalar subquery is joined last, so every column is in range there.
func (g *Gen) commaWhere(comma bool, conds []string) []string {
	if !comma || weirWalksTimeJSON {
		return conds
	}
	return slices.DeleteFunc(conds, func(c string) bool {
		hides := strings.Contains(c, " ->> ") || strings.Contains(c, " -> ") || strings.Contains(c, "INTERVAL '")
		return hides && !strings.Contains(c, "(SELECT ")
	})
}

// where generates the WHERE conjuncts of a query over sc: a predicate, a semi- or
// anti-join, an uncorrelated scalar subquery comparison.
func (g *Gen) where(sc scope, depth int, scalarOK bool) []string {
	var conds []string
	if g.p(0.4) {
		conds = append(conds, g.pred(sc, 2))
	}
	if depth < 2 && g.p(0.3) {
		conds = append(conds, g.semi(sc, depth))
	}
	if scalarOK && depth < 2 && g.p(0.07) {
		conds = append(conds, g.scalarCmp(sc))
	}
	if len(conds) > 0 {
		g.tag("filter")
	}
	return conds
}

func whereClause(conds []string) string {
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// selectCore generates SELECT … FROM … WHERE …, a projection or (agg) a grouped or
// global aggregate. With types set, the outputs have exactly those types (a set
// operation's later arms).
func (g *Gen) selectCore(depth int, agg bool, types []Type) (string, []Type) {
	from, sc, conds := g.from(depth)
	var sel []string
	var out []Type
	tail, distinct := "", ""
	scalarOK := true
	if agg {
		var global bool
		sel, out, tail, global = g.aggregate(sc, types)
		_ = global // a scalar subquery in a global aggregate's WHERE is fine (was a Weir bug)
	} else {
		g.tag("project")
		n := len(types)
		if n == 0 {
			n = 1 + g.n(4)
		}
		for i := 0; i < n; i++ {
			var t Type
			if types != nil {
				t = types[i]
			} else {
				t = g.anyType(sc)
			}
			var e string
			switch {
			case scalarInSelectList && depth < 2 && g.p(0.04) && (t == Int || t == Text || t == Inexact):
				e = g.scalarItem(t, sc)
			case g.p(0.5):
				e = g.leaf(t, sc, true)
			default:
				e = g.expr(t, sc, 2, false)
			}
			sel = append(sel, fmt.Sprintf("%s AS c%d", e, i))
			out = append(out, t)
		}
		if g.p(0.2) {
			g.tag("distinct")
			distinct = "DISTINCT "
		}
	}
	conds = append(conds, g.commaWhere(len(conds) > 0, g.where(sc, depth, scalarOK))...)
	return "SELECT " + distinct + strings.Join(sel, ", ") + " FROM " + from + whereClause(conds) + tail, out
}

// anyType picks an output type, favouring the types sc has columns of.
func (g *Gen) anyType(sc scope) Type {
	for {
		t := []Type{Int, Int, Int, Text, Text, Float, Bool, Time, Inexact}[g.n(9)]
		if len(sc.of(t)) > 0 || t == Bool || g.p(0.2) {
			return t
		}
	}
}

// keyType picks a type for a grouping or partitioning key among those sc has columns of.
func (g *Gen) keyType(sc scope) Type {
	for try := 0; try < 10; try++ {
		t := []Type{Int, Int, Int, Text, Text, Float, Bool, Time}[g.n(8)]
		if len(sc.of(t)) > 0 {
			return t
		}
	}
	var ts []Type
	for _, c := range sc {
		if c.t != JSON && c.t != Inexact {
			ts = append(ts, c.t)
		}
	}
	if len(ts) == 0 {
		return Int
	}
	return ts[g.n(len(ts))]
}

type selItem struct {
	text string
	t    Type
	key  bool
}

// aggregate generates the select list, GROUP BY and HAVING of an aggregate query.
func (g *Gen) aggregate(sc scope, types []Type) (sel []string, out []Type, tail string, global bool) {
	var items []selItem
	if types == nil {
		nk := 1
		switch x := g.n(100); {
		case x < 15:
			nk = 0
		case x >= 70:
			nk = 2
		}
		for i := 0; i < nk; i++ {
			t := g.keyType(sc)
			items = append(items, selItem{g.keyExpr(t, sc), t, true})
		}
		for i := 1 + g.n(3); i > 0; i-- {
			t := []Type{Int, Int, Int, Float, Inexact, Text, Bool, Time}[g.n(8)]
			items = append(items, selItem{g.aggExpr(t, sc), t, false})
		}
		if nk > 0 && g.p(0.15) {
			// An expression over a grouping key, matched by structure.
			k := items[g.n(nk)]
			if k.t == Int {
				items = append(items, selItem{"(" + k.text + " + 1)", Int, false})
			} else if k.t == Text {
				items = append(items, selItem{"coalesce(" + k.text + ", '-')", Text, false})
			}
		}
		if g.p(0.3) {
			g.r.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
		}
	} else {
		for _, t := range types {
			if t == Bool || t != Inexact && g.p(0.5) { // never grouped by an Inexact
				items = append(items, selItem{g.keyExpr(t, sc), t, true})
			} else {
				items = append(items, selItem{g.aggExpr(t, sc), t, false})
			}
		}
	}
	var keys, ordinals []string
	for i, it := range items {
		sel = append(sel, fmt.Sprintf("%s AS c%d", it.text, i))
		out = append(out, it.t)
		if it.key {
			keys = append(keys, it.text)
			ordinals = append(ordinals, fmt.Sprint(i+1))
		}
	}
	if len(keys) > 0 {
		g.tag("group-by")
		if g.p(0.3) {
			keys = ordinals
		}
		tail = " GROUP BY " + strings.Join(keys, ", ")
	} else {
		g.tag("global-aggregate")
		global = true
	}
	if g.p(0.25) {
		g.tag("having")
		h := g.havingTerm(sc)
		if g.p(0.3) {
			h = "(" + h + " " + g.pick("AND", "OR") + " " + g.havingTerm(sc) + ")"
		}
		tail += " HAVING " + h
	}
	return sel, out, tail, global
}

func (g *Gen) havingTerm(sc scope) string {
	t := []Type{Int, Int, Float, Inexact, Text, Time}[g.n(6)]
	return g.aggExpr(t, sc) + " " + g.cmpOp() + " " + g.lit(t)
}

// keyExpr generates an expression of type t that reads at least one column (a grouping,
// partitioning or ordering key; an aggregate's argument): mostly a bare column. A key
// must not be a constant: GROUP BY 3 means the third output column.
func (g *Gen) keyExpr(t Type, sc scope) string {
	cols := sc.of(t)
	if len(cols) > 0 {
		if t == Time && g.p(0.4) {
			return g.dateTrunc(cols[g.n(len(cols))].ref) // time buckets
		}
		if g.p(0.7) {
			return cols[g.n(len(cols))].ref
		}
		return g.expr(t, sc, 1, true)
	}
	switch t {
	case Int:
		if texts := sc.of(Text); len(texts) > 0 && g.p(0.5) {
			return "length(" + texts[g.n(len(texts))].ref + ")"
		}
		return "CASE WHEN " + g.pred(sc, 0) + " THEN 1 ELSE 0 END"
	case Float:
		if ints := sc.of(Int); len(ints) > 0 {
			return "CAST(" + ints[g.n(len(ints))].ref + " AS double precision)"
		}
		return "CASE WHEN " + g.pred(sc, 0) + " THEN " + g.floatConst() + " END"
	case Text:
		return "CASE WHEN " + g.pred(sc, 0) + " THEN 'x' ELSE 'y' END"
	case Time:
		return "CASE WHEN " + g.pred(sc, 0) + " THEN " + g.lit(Time) + " END"
	case Inexact:
		return "CASE WHEN " + g.pred(sc, 0) + " THEN " + g.floatConst() + " END"
	default:
		return g.pred(sc, 0)
	}
}

func (g *Gen) cmpOp() string { return g.pick("=", "<>", "<", "<=", ">", ">=") }

// aggExpr generates an aggregate (or an expression over aggregates) of type t.
func (g *Gen) aggExpr(t Type, sc scope) string {
	switch t {
	case Bool:
		return "(" + g.aggExpr(Int, sc) + " " + g.cmpOp() + " " + g.lit(Int) + ")"
	case Int:
		var a string
		switch g.n(7) {
		case 0:
			g.tag("count")
			a = "count(*)"
		case 1:
			g.tag("count")
			a = "count(" + g.keyExpr(g.keyType(sc), sc) + ")"
		case 2:
			g.tag("count-distinct")
			a = "count(DISTINCT " + g.keyExpr(g.keyType(sc), sc) + ")"
		case 3, 4:
			// Values stay small, so sum over an integer never overflows bigint.
			g.tag("sum")
			a = "sum(" + g.keyExpr(Int, sc) + ")"
		case 5:
			g.tag("min")
			a = "min(" + g.keyExpr(Int, sc) + ")"
		default:
			g.tag("max")
			a = "max(" + g.keyExpr(Int, sc) + ")"
		}
		if g.p(0.12) {
			if strings.HasPrefix(a, "count") {
				return "(" + a + " * 2)"
			}
			return "coalesce(" + a + ", 0)"
		}
		return a
	case Inexact:
		g.tag("avg")
		at := Int
		if len(sc.of(Float)) > 0 && g.p(0.4) {
			at = Float
		}
		return "avg(" + g.keyExpr(at, sc) + ")"
	case Float:
		switch g.n(3) {
		case 0:
			g.tag("sum")
			return "sum(" + g.keyExpr(Float, sc) + ")"
		case 1:
			g.tag("min")
			return "min(" + g.keyExpr(Float, sc) + ")"
		default:
			g.tag("max")
			return "max(" + g.keyExpr(Float, sc) + ")"
		}
	case Time:
		f := g.pick("min", "max")
		g.tag(f)
		a := f + "(" + g.keyExpr(Time, sc) + ")"
		if g.p(0.15) {
			return "coalesce(" + a + ", " + g.lit(Time) + ")"
		}
		return a
	default: // Text; min and max only (PostgreSQL has no min(boolean))
		f := g.pick("min", "max")
		g.tag(f)
		a := f + "(" + g.keyExpr(Text, sc) + ")"
		if g.p(0.15) {
			return "coalesce(" + a + ", '-')"
		}
		return a
	}
}

// orderKey renders one ORDER BY item with an explicit direction and NULL placement:
// DuckDB's default NULL order differs from PostgreSQL's.
func (g *Gen) orderKey(e string) string {
	return e + " " + g.pick("ASC", "DESC") + " NULLS " + g.pick("FIRST", "LAST")
}

// topN generates a query with ORDER BY … LIMIT [OFFSET]. The order lists every output
// column, so it is total on the output: rows that tie are identical, and which of them
// is kept cannot show (Weir's tie-break is unspecified).
func (g *Gen) topN(depth int) (string, []Type) {
	g.tag("order-limit")
	var q string
	var ts []Type
	if depth < 2 && g.p(0.15) {
		q, ts = g.setOp(depth)
	} else {
		q, ts = g.selectCore(depth, g.p(0.35), nil)
	}
	var keys []string
	for _, i := range g.r.Perm(len(ts)) {
		keys = append(keys, g.orderKey(fmt.Sprint(i+1)))
	}
	q += " ORDER BY " + strings.Join(keys, ", ") + fmt.Sprintf(" LIMIT %d", 1+g.n(5))
	if g.p(0.25) {
		g.tag("offset")
		q += fmt.Sprintf(" OFFSET %d", 1+g.n(2))
	}
	return q, ts
}

// window generates top-N per group: a subquery numbering rows with row_number(), rank()
// or dense_rank() OVER (PARTITION BY … ORDER BY …), filtered on the number. For
// row_number the order lists every output expression (after optional leading keys), so
// rows that tie are identical on the output and the result is deterministic; rank and
// dense_rank give ties equal numbers, so any order is deterministic.
func (g *Gen) window(depth int) (string, []Type) {
	from, sc, conds := g.from(depth + 1)
	conds = append(conds, g.commaWhere(len(conds) > 0, g.where(sc, depth+1, true))...)
	fn := g.pick("row_number", "row_number", "rank", "dense_rank")
	g.tag(fn)
	n := 1 + g.n(3)
	var sel, exprs []string
	var ts []Type
	for i := 0; i < n; i++ {
		t := g.keyType(sc)
		e := g.keyExpr(t, sc)
		exprs = append(exprs, e)
		sel = append(sel, fmt.Sprintf("%s AS c%d", e, i))
		ts = append(ts, t)
	}
	var part []string
	np := 1
	switch x := g.n(100); {
	case x < 25:
		np = 0
	case x >= 80:
		np = 2
	}
	for i := 0; i < np; i++ {
		part = append(part, g.keyExpr([]Type{Int, Int, Text, Bool, Time}[g.n(5)], sc))
	}
	var order []string
	if fn == "row_number" {
		if g.p(0.5) {
			order = append(order, g.orderKey(g.keyExpr(g.keyType(sc), sc)))
		}
		for _, i := range g.r.Perm(len(exprs)) {
			order = append(order, g.orderKey(exprs[i]))
		}
	} else {
		for i := 1 + g.n(2); i > 0; i-- {
			order = append(order, g.orderKey(g.keyExpr(g.keyType(sc), sc)))
		}
	}
	over := "ORDER BY " + strings.Join(order, ", ")
	if len(part) > 0 {
		over = "PARTITION BY " + strings.Join(part, ", ") + " " + over
	}
	inner := "SELECT " + strings.Join(sel, ", ") + ", " + fn + "() OVER (" + over + ") AS rn FROM " + from + whereClause(conds)
	a := g.alias()
	var outSel []string
	var outTs []Type
	for i := range exprs {
		outSel = append(outSel, fmt.Sprintf("%s.c%d AS c%d", a, i, i))
		outTs = append(outTs, ts[i])
	}
	if g.p(0.65) {
		outSel = append(outSel, fmt.Sprintf("%s.rn AS c%d", a, len(outSel)))
		outTs = append(outTs, Int)
	}
	var outConds []string
	switch x := g.n(100); {
	case x < 60:
		outConds = append(outConds, fmt.Sprintf("%s.rn <= %d", a, 1+g.n(3)))
	case x < 75:
		outConds = append(outConds, fmt.Sprintf("%s.rn < %d", a, 2+g.n(2)))
	case x < 90:
		outConds = append(outConds, a+".rn = 1")
	}
	if g.p(0.2) {
		outConds = append(outConds, g.pred(scopeOf(a, outputColumns(ts)), 1))
	}
	return "SELECT " + strings.Join(outSel, ", ") + " FROM (" + inner + ") " + a + whereClause(outConds), outTs
}

// setOp generates two or three arms combined by UNION, INTERSECT or EXCEPT, with or
// without ALL. A third arm gets the first two in parentheses: engines disagree on the
// precedence of mixed set operations, parentheses do not.
func (g *Gen) setOp(depth int) (string, []Type) {
	q, ts := g.selectCore(depth+1, g.p(0.3), nil)
	arms := 2
	if g.p(0.2) {
		arms = 3
	}
	first := q
	for i := 1; i < arms; i++ {
		op := g.pick("UNION", "INTERSECT", "EXCEPT")
		var right string
		if op != "UNION" && g.p(0.5) {
			// Two unrelated arms rarely share a row, and INTERSECT of them is empty:
			// half the time the arm is a filtered copy of the first.
			a := g.alias()
			var sel []string
			for j := range ts {
				sel = append(sel, fmt.Sprintf("%s.c%d AS c%d", a, j, j))
			}
			right = "SELECT " + strings.Join(sel, ", ") + " FROM (" + first + ") " + a +
				whereClause([]string{g.pred(scopeOf(a, outputColumns(ts)), 1)})
		} else {
			right, _ = g.selectCore(depth+1, g.p(0.3), ts)
		}
		tag := strings.ToLower(op)
		if g.p(0.5) {
			op += " ALL"
			tag += "-all"
		}
		g.tag(tag)
		if i > 1 {
			q = "(" + q + ")"
		}
		q += " " + op + " " + right
	}
	return q, ts
}

// semi generates [NOT] EXISTS (uncorrelated, or correlated by equalities) or
// x [NOT] IN (SELECT …), as a WHERE conjunct (the only place Weir takes them).
func (g *Gen) semi(sc scope, depth int) string {
	not := g.p(0.45)
	if g.p(0.5) {
		correlated := g.p(0.65)
		// DuckDB cannot decorrelate a subquery with outer joins ("Unsupported join type
		// for flattening correlated subquery"): a correlated one joins inner only.
		saved := g.innerOnly
		g.innerOnly = correlated
		from, isc, conds := g.from(depth + 1)
		g.innerOnly = saved
		comma := len(conds) > 0
		name := "exists"
		if correlated {
			// Weir correlates by outer columns only: a derived column (a jsonb member)
			// of the outer query is an expression, rejected with 0A000.
			outer := sc.columns()
			if eq := g.joinEq(outer, isc); eq != "" {
				name += "-correlated"
				conds = append(conds, eq)
				if g.p(0.15) {
					if eq2 := g.joinEq(outer, isc); eq2 != eq && eq2 != "" {
						conds = append(conds, eq2)
					}
				}
			}
		}
		if g.p(0.5) {
			conds = append(conds, g.commaWhere(comma, []string{g.pred(isc, 1)})...)
		}
		q := "EXISTS (SELECT 1 FROM " + from + whereClause(conds) + ")"
		if not {
			g.tag("not-" + name)
			return "NOT " + q
		}
		g.tag(name)
		return q
	}
	t := Int
	if len(sc.of(Text)) > 0 && g.p(0.35) {
		t = Text
	}
	if len(sc.of(t)) == 0 {
		t = g.keyType(sc)
		if !joinable(t) {
			t = Int
		}
	}
	outer := g.keyExpr(t, sc)
	from, isc, conds := g.from(depth + 1)
	if g.p(0.5) {
		conds = append(conds, g.commaWhere(len(conds) > 0, []string{g.pred(isc, 1)})...)
	}
	inner := g.keyExpr(t, isc)
	var sub string
	switch x := g.n(100); {
	case x < 65:
		sub = "SELECT " + inner + " FROM " + from + whereClause(conds)
	case x < 80:
		sub = "SELECT DISTINCT " + inner + " FROM " + from + whereClause(conds)
	default:
		sub = "SELECT " + g.pick("min", "max") + "(" + inner + ") FROM " + from + whereClause(conds) +
			" GROUP BY " + g.keyExpr(g.keyType(isc), isc)
	}
	if not {
		g.tag("not-in-subquery")
		return outer + " NOT IN (" + sub + ")"
	}
	g.tag("in-subquery")
	return outer + " IN (" + sub + ")"
}

// scalarSub generates an uncorrelated scalar subquery of type t: one aggregate without
// GROUP BY over a base relation (the only form Weir accepts: it returns exactly one row).
func (g *Gen) scalarSub(t Type) string {
	g.tag("scalar-subquery")
	var r Relation
	for {
		r = Relations[g.n(len(Relations))]
		if t != Text || len(scopeOf("x", r.Columns).of(Text)) > 0 {
			break
		}
	}
	g.reads[r.Name] = true
	a := g.alias()
	isc := g.relScope(a, r)
	var agg string
	switch t {
	case Int:
		switch g.n(4) {
		case 0:
			agg = "count(*)"
		case 1:
			agg = "sum(" + g.leaf(Int, isc, true) + ")"
		default:
			agg = g.pick("min", "max") + "(" + g.leaf(Int, isc, true) + ")"
		}
	case Inexact:
		agg = "avg(" + g.leaf(Int, isc, true) + ")"
	default:
		agg = g.pick("min", "max") + "(" + g.leaf(Text, isc, true) + ")"
	}
	var conds []string
	if g.p(0.5) {
		conds = append(conds, g.pred(isc, 1))
	}
	return "(SELECT " + agg + " FROM " + r.Name + " " + a + whereClause(conds) + ")"
}

// scalarCmp compares an expression with a scalar subquery.
func (g *Gen) scalarCmp(sc scope) string {
	t := Int
	switch {
	case len(sc.of(Text)) > 0 && g.p(0.25):
		t = Text
	case g.p(0.2):
		t = Inexact
	}
	left := t
	if t == Inexact {
		left = Int // avg compared with an integer expression
	}
	if len(sc.of(left)) == 0 {
		return g.pred(sc, 1)
	}
	return g.expr(left, sc, 1, true) + " " + g.cmpOp() + " " + g.scalarSub(t)
}

// scalarInSelectList enables scalar subqueries in select lists (once rejected by a Weir
// bug: the binder took the outer query for an aggregate one).
const scalarInSelectList = true

// scalarItem is a select-list expression of type t using a scalar subquery.
func (g *Gen) scalarItem(t Type, sc scope) string {
	switch t {
	case Int:
		if len(sc.of(Int)) > 0 && g.p(0.5) {
			return "(" + g.leaf(Int, sc, true) + " - " + g.scalarSub(Int) + ")"
		}
		return "coalesce(" + g.scalarSub(Int) + ", 0)"
	case Text:
		return "coalesce(" + g.scalarSub(Text) + ", 'none')"
	default: // Inexact
		return g.scalarSub(Inexact)
	}
}
