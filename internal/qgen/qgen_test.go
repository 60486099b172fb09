package qgen

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/weirdb/weir/internal/jsonb"
)

func TestDeterministic(t *testing.T) {
	for _, seed := range []uint64{0, 1, 42, 1 << 63} {
		a, b := New(seed), New(seed)
		sa, sb := NewStream(seed), NewStream(seed)
		for i := 0; i < 200; i++ {
			qa, qb := a.Query(), b.Query()
			if qa.SQL != qb.SQL || !slices.Equal(qa.Shapes, qb.Shapes) || !slices.Equal(qa.Reads, qb.Reads) {
				t.Fatalf("seed %d, query %d differs:\n%s\n%s", seed, i, qa.SQL, qb.SQL)
			}
			if wa, wb := sa.Write().SQL(), sb.Write().SQL(); wa != wb {
				t.Fatalf("seed %d, write %d differs:\n%s\n%s", seed, i, wa, wb)
			}
		}
	}
	if New(1).Query().SQL == New(2).Query().SQL && New(1).Query().SQL == New(3).Query().SQL {
		t.Fatal("different seeds give the same queries")
	}
}

// TestParses checks that every generated statement is one statement PostgreSQL's parser
// accepts, and that a query is a SELECT.
func TestParses(t *testing.T) {
	for _, s := range PostgresDDL() { // CREATE SOURCE is Weir's own
		mustParse(t, s)
	}
	g, st := New(7), NewStream(7)
	for i := 0; i < 3000; i++ {
		q := g.Query()
		tree := mustParse(t, q.SQL)
		if tree.Stmts[0].Stmt.GetSelectStmt() == nil {
			t.Fatalf("query %d is not a SELECT: %s", i, q.SQL)
		}
		mustParse(t, "CREATE MATERIALIZED VIEW v AS "+q.SQL)
		mustParse(t, st.Write().SQL())
	}
}

func mustParse(t *testing.T, sql string) *pg_query.ParseResult {
	t.Helper()
	tree, err := pg_query.Parse(sql)
	if err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	if len(tree.Stmts) != 1 {
		t.Fatalf("%d statements: %s", len(tree.Stmts), sql)
	}
	return tree
}

// TestCoverage checks that a few thousand queries cover every shape the differential
// test is meant to exercise (issue #3), and streams every kind of write.
func TestCoverage(t *testing.T) {
	want := []string{
		"project", "filter", "distinct", "arith", "case", "coalesce", "nullif", "concat", "like",
		"in-list", "is-null", "is-distinct", "between",
		"join-inner", "join-left", "join-right", "join-full", "join-comma", "join-using",
		"join-residual", "join-multiway", "self-join",
		"group-by", "global-aggregate", "having", "count", "count-distinct", "sum", "min", "max", "avg",
		"from-subquery", "cte",
		"exists", "not-exists", "exists-correlated", "not-exists-correlated", "in-subquery", "not-in-subquery",
		"scalar-subquery",
		"union", "union-all", "intersect", "intersect-all", "except", "except-all",
		"order-limit", "offset", "row_number", "rank", "dense_rank",
		"interval-arith", "date_trunc", "extract", "timestamp-diff", "jsonb-get", "jsonb-path", "jsonb-cast",
	}
	seen := map[string]int{}
	reads := map[string]bool{}
	g := New(11)
	for i := 0; i < 3000; i++ {
		q := g.Query()
		for _, s := range q.Shapes {
			seen[s]++
		}
		for _, r := range q.Reads {
			reads[r] = true
			if !strings.Contains(q.SQL, " "+r+" ") {
				t.Fatalf("Reads lists %s, which the query does not read: %s", r, q.SQL)
			}
		}
	}
	for _, s := range want {
		if seen[s] < 10 {
			t.Errorf("shape %s: %d of 3000 queries", s, seen[s])
		}
	}
	for _, r := range Relations {
		if !reads[r.Name] {
			t.Errorf("no query reads %s", r.Name)
		}
	}
	kinds := map[WriteKind]int{}
	rels := map[string]int{}
	nulls, dups := 0, 0
	st := NewStream(11)
	for i := 0; i < 1000; i++ {
		w := st.Write()
		kinds[w.Kind]++
		rels[w.Rel]++
		if strings.Contains(w.SQL(), "NULL") {
			nulls++
		}
		for j := 1; j < len(w.Rows); j++ {
			if slices.Equal(w.Rows[j], w.Rows[j-1]) {
				dups++
			}
		}
		if w.Kind == Upsert {
			keys := map[string]bool{}
			for _, r := range w.Rows {
				if keys[r[0]] {
					t.Fatalf("an upsert touches key %s twice: %s", r[0], w.SQL())
				}
				keys[r[0]] = true
			}
		}
		if (w.Kind == Append) != func() bool { r, _ := RelationNamed(w.Rel); return r.IsSource() }() {
			t.Fatalf("%v on %s: %s", w.Kind, w.Rel, w.SQL())
		}
	}
	for _, k := range []WriteKind{Upsert, Append, Update, Delete} {
		if kinds[k] < 50 {
			t.Errorf("write kind %d: %d of 1000", k, kinds[k])
		}
	}
	for _, r := range Relations {
		if rels[r.Name] < 50 {
			t.Errorf("relation %s: %d writes of 1000", r.Name, rels[r.Name])
		}
	}
	if nulls < 100 || dups < 20 {
		t.Errorf("%d writes with NULLs, %d duplicate rows in 1000 writes", nulls, dups)
	}
}

func TestWithRows(t *testing.T) {
	w := Write{Kind: Append, Rel: "ea", Rows: [][]string{{"1", "2", "'a'", "NULL"}, {"3", "NULL", "NULL", "'2026-03-15 00:00:00'"}}}
	if got := w.SQL(); got != "INSERT INTO ea (g, v, s, ts) VALUES (1, 2, 'a', NULL), (3, NULL, NULL, '2026-03-15 00:00:00')" {
		t.Fatal(got)
	}
	if got := w.WithRows(w.Rows[1:]).SQL(); got != "INSERT INTO ea (g, v, s, ts) VALUES (3, NULL, NULL, '2026-03-15 00:00:00')" {
		t.Fatal(got)
	}
	if len(w.Rows) != 2 {
		t.Fatal("WithRows changed the original")
	}
	d := Write{Kind: Delete, Rel: "ta", Stmt: "DELETE FROM ta WHERE k = 1"}
	if d.SQL() != d.Stmt {
		t.Fatal(d.SQL())
	}
}

func TestViewsOnViews(t *testing.T) {
	g := New(5)
	base := g.Query()
	for len(base.Reads) == 0 || len(base.Views) > 0 {
		base = g.Query()
	}
	g.Views = []View{{Name: "v0", Query: base}}
	hits := 0
	for i := 0; i < 500; i++ {
		q := g.Query()
		mustParse(t, q.SQL)
		if len(q.Types) == 0 {
			t.Fatalf("no output types: %s", q.SQL)
		}
		if !slices.Contains(q.Views, "v0") {
			if strings.Contains(q.SQL, "v0 ") {
				t.Fatalf("reads v0 but does not list it: %s", q.SQL)
			}
			continue
		}
		hits++
		if !slices.Contains(q.Shapes, "view-on-view") {
			t.Fatalf("no view-on-view shape: %s", q.SQL)
		}
		for _, r := range base.Reads {
			if !slices.Contains(q.Reads, r) {
				t.Fatalf("reads v0, which reads %s, but Reads is %v: %s", r, q.Reads, q.SQL)
			}
		}
	}
	if hits < 20 {
		t.Fatalf("%d of 500 queries read the view", hits)
	}
}

// TestJSONDocs checks the documents streams write into j: valid jsonb, numbers that are
// integers (DuckDB prints other numbers differently through ->>), members in jsonb's
// canonical form unless deliberately written otherwise, and a Weir-only type nowhere in
// DuckDB's schema.
func TestJSONDocs(t *testing.T) {
	st := NewStream(3)
	canonical := 0
	for i := 0; i < 2000; i++ {
		lit := jsonDoc(st.r)
		doc := strings.TrimSuffix(strings.TrimPrefix(lit, "'"), "'")
		c, err := jsonb.Canonical(doc)
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		if c == doc {
			canonical++
		}
		if strings.ContainsAny(doc, ".eE") {
			t.Fatalf("a number that is not an integer: %s", doc)
		}
	}
	if canonical < 1200 || canonical == 2000 {
		t.Errorf("%d of 2000 documents canonical", canonical)
	}
	for _, s := range DuckDBDDL() {
		if strings.Contains(s, "jsonb") {
			t.Fatalf("DuckDB has no jsonb: %s", s)
		}
	}
}

// TestTruncConst checks that date_trunc is compared only with constants on a boundary
// of its unit (see truncConst).
func TestTruncConst(t *testing.T) {
	g := New(1)
	for _, tc := range []struct{ unit, suffix string }{{"day", " 00:00:00'"}, {"hour", ":00:00'"}, {"minute", ":00'"}} {
		for i := 0; i < 50; i++ {
			if c := g.truncConst(tc.unit); !strings.HasSuffix(c, tc.suffix) {
				t.Fatalf("truncConst(%s) = %s", tc.unit, c)
			}
		}
	}
	g.shapes = map[string]bool{}
	if u := truncUnit(g.dateTrunc("t1.ts")); u == "" {
		t.Fatal("truncUnit does not read dateTrunc's unit")
	}
}

// TestInexactPassedAlong checks that an average read from a view is only selected or
// tested for NULL, never computed with or compared (see Inexact).
func TestInexactPassedAlong(t *testing.T) {
	g := New(9)
	g.Views = []View{{Name: "v0", Query: Query{SQL: "SELECT avg(t1.v) AS c0 FROM ta t1", Types: []Type{Inexact}, Reads: []string{"ta"}}}}
	alias := regexp.MustCompile(`\bv0 (t\d+)`)
	use := regexp.MustCompile(`^( AS c\d+| IS NULL| IS NOT NULL)`)
	hits := 0
	for i := 0; i < 2000; i++ {
		q := g.Query()
		for _, m := range alias.FindAllStringSubmatch(q.SQL, -1) {
			ref := m[1] + ".c0"
			for rest := q.SQL; ; {
				i := strings.Index(rest, ref)
				if i < 0 {
					break
				}
				rest = rest[i+len(ref):]
				if !use.MatchString(rest) {
					t.Fatalf("%s used as more than a value passed along: …%s…\n%s", ref, rest[:min(len(rest), 40)], q.SQL)
				}
				hits++
			}
		}
	}
	if hits < 50 {
		t.Fatalf("%d uses of the view's average in 2000 queries", hits)
	}
}
