package planner_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/planner/plan"
)

// fixture is the catalog every test plans against, built by planning DDL.
var fixture = []string{
	`CREATE SOURCE events (id bigint, room int, amount int, price double precision, name text,
		ts timestamp, day date, score real, flag boolean, small smallint)`,
	`CREATE TABLE rooms (room int PRIMARY KEY, title varchar(40), cap smallint)`,
	`CREATE SOURCE other (room int, k bigint, v real)`,
	`CREATE MATERIALIZED VIEW totals AS SELECT room, sum(amount) AS total FROM events GROUP BY room`,
}

func newPlanner(t *testing.T) (*catalog.Catalog, *planner.Planner) {
	t.Helper()
	cat := catalog.New()
	p := planner.New(cat)
	for _, q := range fixture {
		st, err := p.Plan(q, nil)
		require.NoError(t, err, q)
		switch s := st.(type) {
		case *planner.CreateRelation:
			require.NoError(t, cat.Add(s.Rel))
		case *planner.CreateView:
			require.NoError(t, cat.Add(s.Rel))
		default:
			t.Fatalf("%s planned as %T", q, st)
		}
	}
	return cat, p
}

type col struct {
	name string
	typ  catalog.Type
}

func columns(rel *catalog.Relation) []col {
	out := make([]col, len(rel.Columns))
	for i, c := range rel.Columns {
		out[i] = col{c.Name, c.Type}
	}
	return out
}

func planView(t *testing.T, p *planner.Planner, sql string) *planner.CreateView {
	t.Helper()
	st, err := p.Plan(sql, nil)
	require.NoError(t, err, sql)
	cv, ok := st.(*planner.CreateView)
	require.True(t, ok, "%s planned as %T", sql, st)
	return cv
}

// position returns the 1-based character position of the first occurrence of marker in
// sql, the way PostgreSQL reports an error position. A "[" in marker splits it into
// context and the point itself: "BY [count" is the count after BY.
func position(t *testing.T, sql, marker string) int {
	t.Helper()
	before, at, split := strings.Cut(marker, "[")
	if !split {
		before, at = "", marker
	}
	i := strings.Index(sql, before+at)
	require.GreaterOrEqual(t, i, 0, "marker %q not in %q", marker, sql)
	return utf8.RuneCountInString(sql[:i+len(before)]) + 1
}

func TestCreateRelation(t *testing.T) {
	cat, _ := newPlanner(t)

	events, err := cat.Get("events")
	require.NoError(t, err)
	require.Equal(t, catalog.Source, events.Kind)
	require.Equal(t, []col{
		{"id", catalog.Int8}, {"room", catalog.Int4}, {"amount", catalog.Int4}, {"price", catalog.Float8},
		{"name", catalog.Text}, {"ts", catalog.Timestamp}, {"day", catalog.Date}, {"score", catalog.Float4},
		{"flag", catalog.Bool}, {"small", catalog.Int2},
	}, columns(events))
	require.Empty(t, events.PrimaryKey)
	require.Equal(t, map[string]string{"connector": "http"}, events.Options, "the default connector")
	require.Equal(t, fixture[0], events.SQL, "the SQL as the user wrote it, SOURCE and all")

	rooms, err := cat.Get("rooms")
	require.NoError(t, err)
	require.Equal(t, catalog.Table, rooms.Kind)
	require.Equal(t, []int{0}, rooms.PrimaryKey)
	require.True(t, rooms.Columns[0].NotNull, "a primary key column is NOT NULL")
	require.False(t, rooms.Columns[1].NotNull)
	require.Equal(t, catalog.Varchar, rooms.Columns[1].Type)

	totals, err := cat.Get("totals")
	require.NoError(t, err)
	require.Equal(t, catalog.View, totals.Kind)
	require.Equal(t, []col{{"room", catalog.Int4}, {"total", catalog.Int8}}, columns(totals))
	require.Equal(t, []string{"events"}, totals.DependsOn)
	require.Equal(t, "SELECT room, sum(amount) AS total FROM events GROUP BY room", totals.Query)

	_, p := newPlanner(t)
	tests := []struct {
		name    string
		sql     string
		kind    catalog.Kind
		cols    []col
		pk      []int
		notNull []bool
		options map[string]string
		ifNot   bool
	}{
		{
			name: "table constraint key, in key order",
			sql:  "CREATE TABLE t (a int, b text NOT NULL, c date, PRIMARY KEY (c, a))",
			kind: catalog.Table, cols: []col{{"a", catalog.Int4}, {"b", catalog.Text}, {"c", catalog.Date}},
			pk: []int{2, 0}, notNull: []bool{true, true, true}, options: map[string]string{},
		},
		{
			name: "every type spelling",
			sql: "CREATE SOURCE s (a int2, b int4, c int8, d float4, e float8, f real, g double precision, h varchar(3), " +
				"i varchar, j timestamptz, k timestamp with time zone, l timestamp, m bool, n text, o float)",
			kind: catalog.Source,
			cols: []col{{"a", catalog.Int2}, {"b", catalog.Int4}, {"c", catalog.Int8}, {"d", catalog.Float4},
				{"e", catalog.Float8}, {"f", catalog.Float4}, {"g", catalog.Float8}, {"h", catalog.Varchar},
				{"i", catalog.Varchar}, {"j", catalog.Timestamptz}, {"k", catalog.Timestamptz}, {"l", catalog.Timestamp},
				{"m", catalog.Bool}, {"n", catalog.Text}, {"o", catalog.Float8}},
			notNull: make([]bool, 15), options: map[string]string{"connector": "http"},
		},
		{
			name: "source options",
			sql:  "CREATE SOURCE IF NOT EXISTS s (x bigint NOT NULL) WITH (connector = 'http', Format = 'json')",
			kind: catalog.Source, cols: []col{{"x", catalog.Int8}}, notNull: []bool{true},
			options: map[string]string{"connector": "http", "format": "json"}, ifNot: true,
		},
		{
			name: "quoted names keep their case",
			sql:  `CREATE TABLE "Mixed" ("Key" bigint PRIMARY KEY, "select" text)`,
			kind: catalog.Table, cols: []col{{"Key", catalog.Int8}, {"select", catalog.Text}},
			pk: []int{0}, notNull: []bool{true, false}, options: map[string]string{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := p.Plan(tc.sql, nil)
			require.NoError(t, err)
			cr, ok := st.(*planner.CreateRelation)
			require.True(t, ok, "%T", st)
			require.Equal(t, tc.kind, cr.Rel.Kind)
			require.Equal(t, tc.cols, columns(cr.Rel))
			require.Equal(t, tc.pk, cr.Rel.PrimaryKey)
			var nn []bool
			for _, c := range cr.Rel.Columns {
				nn = append(nn, c.NotNull)
			}
			require.Equal(t, tc.notNull, nn)
			require.Equal(t, tc.options, cr.Rel.Options)
			require.Equal(t, tc.ifNot, cr.IfNotExists)
			require.Equal(t, tc.sql, cr.Rel.SQL)
		})
	}
}

func TestExplainView(t *testing.T) {
	tests := []struct {
		name    string
		sql     string // the SELECT of CREATE MATERIALIZED VIEW v AS …
		explain string
		cols    []col
		deps    []string
	}{
		{
			name: "filter and project",
			sql:  "SELECT id, amount * 2 AS dbl FROM events WHERE amount > 10",
			explain: `
Project(id, (amount * 2))
└─ Filter((amount > 10))
   └─ Scan(events)`,
			cols: []col{{"id", catalog.Int8}, {"dbl", catalog.Int4}},
			deps: []string{"events"},
		},
		{
			name: "join keys from ON, the rest a residual",
			sql:  "SELECT e.id, r.title FROM events e JOIN rooms r ON e.room = r.room AND r.cap > 3",
			explain: `
Project(e.id, r.title)
└─ InnerJoin(room = room AND (r.cap::integer > 3))
   ├─ Project(e.id, e.room)
   │  └─ Scan(events AS e)
   └─ Scan(rooms AS r)`,
			cols: []col{{"id", catalog.Int8}, {"title", catalog.Varchar}},
			deps: []string{"events", "rooms"},
		},
		{
			name: "join keys from a comma join's WHERE; other conjuncts filter",
			sql:  "SELECT e.id, r.title FROM events e, rooms r WHERE e.room = r.room AND e.amount > 1",
			explain: `
Project(e.id, r.title)
└─ Filter((e.amount > 1))
   └─ InnerJoin(room = room)
      ├─ Project(e.id, e.room, e.amount)
      │  └─ Scan(events AS e)
      └─ Project(r.room, r.title)
         └─ Scan(rooms AS r)`,
			cols: []col{{"id", catalog.Int8}, {"title", catalog.Varchar}},
			deps: []string{"events", "rooms"},
		},
		{
			name: "three-way comma join attaches each key where its columns meet",
			sql:  "SELECT e.id FROM events e, rooms r, other o WHERE o.k = e.id AND r.room = e.room",
			explain: `
Project(e.id)
└─ InnerJoin(id = k)
   ├─ Project(e.id)
   │  └─ InnerJoin(room = room)
   │     ├─ Project(e.id, e.room)
   │     │  └─ Scan(events AS e)
   │     └─ Project(r.room)
   │        └─ Scan(rooms AS r)
   └─ Project(o.k)
      └─ Scan(other AS o)`,
			cols: []col{{"id", catalog.Int8}},
			deps: []string{"events", "other", "rooms"},
		},
		{
			name: "rn <= N over a numbering subquery keeps only N per partition (the literal cast to bigint)",
			sql:  "SELECT room, id, rn FROM (SELECT room, id, row_number() OVER (PARTITION BY room ORDER BY amount DESC, id) AS rn FROM events) r WHERE rn <= 3",
			explain: `
Project(room, id, rn)
└─ Filter((rn <= 3::bigint))
   └─ TopN(partition=(room); order=(amount DESC, id); limit=3; row_number AS row_number)
      └─ Project(id, room, amount, price, name, ts, day, score, flag, small, room, amount, id)
         └─ Scan(events)`,
			cols: []col{{"room", catalog.Int4}, {"id", catalog.Int8}, {"rn", catalog.Int8}},
			deps: []string{"events"},
		},
		{
			name: "window aggregates over a ROWS frame (Nexmark q6's shape)",
			sql: "SELECT room, avg(amount) OVER (PARTITION BY room ORDER BY id ROWS BETWEEN 10 PRECEDING AND CURRENT ROW) AS avg_amount, " +
				"count(*) OVER (PARTITION BY room ORDER BY id ROWS BETWEEN 10 PRECEDING AND CURRENT ROW) AS n FROM events",
			explain: `
Project(room, avg, count)
└─ WindowAgg(partition=(room); order=(id); rows 10 preceding; avg(amount) AS avg, count(*) AS count)
   └─ Project(id, room, amount, price, name, ts, day, score, flag, small, room, id, amount)
      └─ Scan(events)`,
			cols: []col{{"room", catalog.Int4}, {"avg_amount", catalog.Numeric}, {"n", catalog.Int8}},
			deps: []string{"events"},
		},
		{
			name: "a window aggregate without a frame clause runs over the rows up to the last peer",
			sql:  "SELECT id, sum(id) OVER (PARTITION BY room ORDER BY amount) AS s, max(score) OVER (PARTITION BY room ORDER BY amount) AS m FROM events",
			explain: `
Project(id, sum, max)
└─ WindowAgg(partition=(room); order=(amount); range unbounded preceding; sum(id) AS sum, max(score) AS max)
   └─ Project(id, room, amount, price, name, ts, day, score, flag, small, room, amount, id, score)
      └─ Scan(events)`,
			cols: []col{{"id", catalog.Int8}, {"s", catalog.Numeric}, {"m", catalog.Float4}},
			deps: []string{"events"},
		},
		{
			name: "integer widening still gives a key",
			sql:  "SELECT o.v FROM events e JOIN other o ON o.k = e.room",
			explain: `
Project(o.v)
└─ InnerJoin(room = k)
   ├─ Project(e.room)
   │  └─ Scan(events AS e)
   └─ Project(o.k, o.v)
      └─ Scan(other AS o)`,
			cols: []col{{"v", catalog.Float4}},
			deps: []string{"events", "other"},
		},
		{
			name: "USING: merged column first in *, right copy hidden",
			sql:  "SELECT * FROM events JOIN rooms USING (room)",
			explain: `
Project(room, id, amount, price, name, ts, day, score, flag, small, title, cap)
└─ InnerJoin(room = room)
   ├─ Scan(events)
   └─ Scan(rooms)`,
			cols: []col{{"room", catalog.Int4}, {"id", catalog.Int8}, {"amount", catalog.Int4}, {"price", catalog.Float8},
				{"name", catalog.Text}, {"ts", catalog.Timestamp}, {"day", catalog.Date}, {"score", catalog.Float4},
				{"flag", catalog.Bool}, {"small", catalog.Int2}, {"title", catalog.Varchar}, {"cap", catalog.Int2}},
			deps: []string{"events", "rooms"},
		},
		{
			name: "USING twice",
			sql:  "SELECT * FROM rooms JOIN other USING (room) JOIN totals USING (room)",
			explain: `
Project(room, title, cap, k, v, total)
└─ InnerJoin(room = room)
   ├─ Project(rooms.room, rooms.title, rooms.cap, other.k, other.v)
   │  └─ InnerJoin(room = room)
   │     ├─ Scan(rooms)
   │     └─ Scan(other)
   └─ Scan(totals)`,
			cols: []col{{"room", catalog.Int4}, {"title", catalog.Varchar}, {"cap", catalog.Int2},
				{"k", catalog.Int8}, {"v", catalog.Float4}, {"total", catalog.Int8}},
			deps: []string{"other", "rooms", "totals"},
		},
		{
			name: "USING: the qualified right column is still reachable",
			sql:  "SELECT r.*, o.room AS oroom FROM rooms r JOIN other o USING (room)",
			explain: `
Project(room, title, cap, o.room)
└─ InnerJoin(room = room)
   ├─ Scan(rooms AS r)
   └─ Project(o.room)
      └─ Scan(other AS o)`,
			cols: []col{{"room", catalog.Int4}, {"title", catalog.Varchar}, {"cap", catalog.Int2}, {"oroom", catalog.Int4}},
			deps: []string{"other", "rooms"},
		},
		{
			name: "GROUP BY ordinal",
			sql:  "SELECT room, count(*), sum(amount), avg(price) FROM events GROUP BY 1",
			explain: `
Project(room, count(*), sum(amount), avg(price))
└─ HashAggregate(group=(room); count, sum, avg)
   └─ Project(room, amount, price)
      └─ Scan(events)`,
			cols: []col{{"room", catalog.Int4}, {"count", catalog.Int8}, {"sum", catalog.Int8}, {"avg", catalog.Float8}},
			deps: []string{"events"},
		},
		{
			name: "GROUP BY output alias, HAVING over an aggregate",
			sql:  "SELECT room AS r, count(*) AS n FROM events GROUP BY r HAVING count(*) > 2",
			explain: `
Project(room, count(*))
└─ Filter((count(*) > 2::bigint))
   └─ HashAggregate(group=(room); count, count)
      └─ Project(room)
         └─ Scan(events)`,
			cols: []col{{"r", catalog.Int4}, {"n", catalog.Int8}},
			deps: []string{"events"},
		},
		{
			name: "HAVING over a group key and an aggregate not in the select list",
			sql:  "SELECT room FROM events GROUP BY room HAVING sum(amount) > 100 AND room > 0",
			explain: `
Project(room)
└─ Filter(((sum(amount) > 100::bigint) AND (room > 0)))
   └─ HashAggregate(group=(room); sum)
      └─ Project(room, amount)
         └─ Scan(events)`,
			cols: []col{{"room", catalog.Int4}},
			deps: []string{"events"},
		},
		{
			name: "GROUP BY an expression, used inside a larger one",
			sql:  "SELECT (room + 1) * 2 AS r2, max(ts) FROM events GROUP BY room + 1",
			explain: `
Project(((room + 1) * 2), max(ts))
└─ HashAggregate(group=((room + 1)); max)
   └─ Project((room + 1), ts)
      └─ Scan(events)`,
			cols: []col{{"r2", catalog.Int4}, {"max", catalog.Timestamp}},
			deps: []string{"events"},
		},
		{
			name: "qualified select list, unqualified GROUP BY",
			sql:  "SELECT events.room, count(*) FROM events GROUP BY room",
			explain: `
Project(room, count(*))
└─ HashAggregate(group=(room); count)
   └─ Project(room)
      └─ Scan(events)`,
			cols: []col{{"room", catalog.Int4}, {"count", catalog.Int8}},
			deps: []string{"events"},
		},
		{
			name: "unqualified select list, qualified GROUP BY",
			sql:  "SELECT room, min(e.name) FROM events e GROUP BY e.room",
			explain: `
Project(e.room, min(e.name))
└─ HashAggregate(group=(e.room); min)
   └─ Project(e.room, e.name)
      └─ Scan(events AS e)`,
			cols: []col{{"room", catalog.Int4}, {"min", catalog.Text}},
			deps: []string{"events"},
		},
		{
			name: "aggregate over a join",
			sql:  "SELECT r.title, sum(e.amount) AS total FROM events e JOIN rooms r ON e.room = r.room GROUP BY r.title",
			explain: `
Project(r.title, sum(e.amount))
└─ HashAggregate(group=(r.title); sum)
   └─ Project(r.title, sum)
      └─ InnerJoin(room = room)
         ├─ HashAggregate(group=(room); sum)
         │  └─ Project(e.room, e.amount)
         │     └─ Scan(events AS e)
         └─ Project(r.room, r.title)
            └─ Scan(rooms AS r)`,
			cols: []col{{"title", catalog.Varchar}, {"total", catalog.Int8}},
			deps: []string{"events", "rooms"},
		},
		{
			name: "DISTINCT",
			sql:  "SELECT DISTINCT room, name FROM events",
			explain: `
HashAggregate(group=(room, name); )
└─ Project(room, name)
   └─ Scan(events)`,
			cols: []col{{"room", catalog.Int4}, {"name", catalog.Text}},
			deps: []string{"events"},
		},
		{
			name: "count(DISTINCT …)",
			sql:  "SELECT room, count(DISTINCT name) FROM events GROUP BY room",
			explain: `
Project(room, count(DISTINCT name))
└─ HashAggregate(group=(room); count)
   └─ Project(room, name)
      └─ Scan(events)`,
			cols: []col{{"room", catalog.Int4}, {"count", catalog.Int8}},
			deps: []string{"events"},
		},
		{
			name: "global aggregate",
			sql:  "SELECT count(*), max(ts) AS latest FROM events",
			explain: `
Project(count(*), max(ts))
└─ HashAggregate(group=(); count, max)
   └─ Project(ts)
      └─ Scan(events)`,
			cols: []col{{"count", catalog.Int8}, {"latest", catalog.Timestamp}},
			deps: []string{"events"},
		},
		{
			name: "a view over a view; ORDER BY without LIMIT is ignored",
			sql:  "SELECT room FROM totals WHERE total > 10 ORDER BY room",
			explain: `
Project(room)
└─ Filter((total > 10::bigint))
   └─ Scan(totals)`,
			cols: []col{{"room", catalog.Int4}},
			deps: []string{"totals"},
		},
	}
	_, p := newPlanner(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sql := "CREATE MATERIALIZED VIEW v AS " + tc.sql
			cv := planView(t, p, sql)
			require.Equal(t, strings.TrimPrefix(tc.explain, "\n")+"\n", plan.Explain(cv.Plan))
			require.Equal(t, tc.cols, columns(cv.Rel))
			require.Equal(t, catalog.View, cv.Rel.Kind)
			require.Equal(t, tc.deps, cv.Rel.DependsOn)
			require.Equal(t, sql, cv.Rel.SQL)
			require.Equal(t, tc.sql, cv.Rel.Query)
			require.Empty(t, cv.ParamTypes())

			// The plan's schema is the view's, and it lowers to a dataflow.
			schema := cv.Plan.Schema()
			require.Len(t, schema, len(tc.cols))
			for i, c := range schema {
				require.Equal(t, tc.cols[i].typ, c.Type, "column %d", i)
			}
			df, err := planner.Lower(cv.Plan)
			require.NoError(t, err)
			require.NotNil(t, df)
		})
	}
}

// findNode returns the first node of type T in a depth-first walk of n.
func findNode[T plan.Node](n plan.Node) (T, bool) {
	if x, ok := n.(T); ok {
		return x, true
	}
	for _, c := range n.Children() {
		if x, ok := findNode[T](c); ok {
			return x, true
		}
	}
	var zero T
	return zero, false
}

func TestJoinKeys(t *testing.T) {
	_, p := newPlanner(t)
	tests := []struct {
		name        string
		sql         string
		left, right []string // the key columns, by name
		residual    string
	}{
		{"ON left = right", "SELECT e.id FROM events e JOIN rooms r ON e.room = r.room", []string{"e.room"}, []string{"r.room"}, ""},
		{"ON right = left is turned around", "SELECT e.id FROM events e JOIN rooms r ON r.room = e.room", []string{"e.room"}, []string{"r.room"}, ""},
		{"two keys", "SELECT e.id FROM events e JOIN other o ON e.room = o.room AND o.k = e.id", []string{"e.room", "e.id"}, []string{"o.room", "o.k"}, ""},
		{"comma join", "SELECT e.id FROM events e, other o WHERE o.k = e.id", []string{"e.id"}, []string{"o.k"}, ""},
		{"USING", "SELECT id FROM events JOIN other USING (room)", []string{"events.room"}, []string{"other.room"}, ""},
		{"a one-sided condition is residual", "SELECT e.id FROM events e JOIN rooms r ON e.room = r.room AND e.amount = 3",
			[]string{"e.room"}, []string{"r.room"}, "(e.amount = 3)"},
		{"a same-side equality is residual", "SELECT e.id FROM events e JOIN rooms r ON e.room = e.amount", nil, nil, "(e.room = e.amount)"},
		{"int = float is residual", "SELECT e.id FROM events e JOIN other o ON e.price = o.k",
			nil, nil, "(e.price = o.k::double precision)"},
		{"no condition is a cross join", "SELECT e.id FROM events e CROSS JOIN rooms r", nil, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cv := planView(t, p, "CREATE MATERIALIZED VIEW v AS "+tc.sql)
			j, ok := findNode[*plan.Join](cv.Plan)
			require.True(t, ok)
			names := func(n plan.Node, keys []int) []string {
				var out []string
				for _, k := range keys {
					c := n.Schema()[k]
					out = append(out, c.Table+"."+c.Name)
				}
				return out
			}
			require.Equal(t, tc.left, names(j.Left, j.LeftKeys))
			require.Equal(t, tc.right, names(j.Right, j.RightKeys))
			if tc.residual == "" {
				require.Nil(t, j.Residual)
			} else {
				require.NotNil(t, j.Residual)
				require.Equal(t, tc.residual, j.Residual.String())
			}
		})
	}
}

func TestAggregateSpecs(t *testing.T) {
	_, p := newPlanner(t)
	cv := planView(t, p, "CREATE MATERIALIZED VIEW v AS SELECT room, count(DISTINCT name) AS names, sum(DISTINCT amount), count(*), min(ts) FROM events GROUP BY room")
	agg, ok := findNode[*plan.Aggregate](cv.Plan)
	require.True(t, ok)
	require.Equal(t, []int{0}, agg.GroupCols)
	require.Len(t, agg.Aggs, 4)
	require.True(t, agg.Aggs[0].Distinct)
	require.True(t, agg.Aggs[1].Distinct)
	require.False(t, agg.Aggs[2].Distinct)
	require.Equal(t, -1, agg.Aggs[2].Arg, "count(*) reads no column")
	require.Equal(t, []catalog.Type{catalog.Int8, catalog.Int8, catalog.Int8, catalog.Timestamp},
		[]catalog.Type{agg.Aggs[0].ResultType, agg.Aggs[1].ResultType, agg.Aggs[2].ResultType, agg.Aggs[3].ResultType})
	require.Equal(t, catalog.Text, agg.Aggs[0].ArgType)
}

func TestViewColumns(t *testing.T) {
	tests := []struct {
		target string
		name   string
		typ    catalog.Type
	}{
		{"sum(amount)", "sum", catalog.Int8},
		{"sum(small)", "sum", catalog.Int8},
		{"sum(id)", "sum", catalog.Numeric}, // sum(bigint) is numeric, as in PostgreSQL
		{"sum(price)", "sum", catalog.Float8},
		{"sum(score)", "sum", catalog.Float8},
		{"avg(amount)", "avg", catalog.Numeric},
		{"avg(score)", "avg", catalog.Float8},
		{"count(*)", "count", catalog.Int8},
		{"count(name)", "count", catalog.Int8},
		{"count(DISTINCT room)", "count", catalog.Int8},
		{"min(ts)", "min", catalog.Timestamp},
		{"max(name)", "max", catalog.Text},
		{"max(small)", "max", catalog.Int2},
		{"max(day)", "max", catalog.Date},
		{"'x'", "?column?", catalog.Text},
		{"NULL", "?column?", catalog.Text},
		{"1", "?column?", catalog.Int4},
		{"3000000000", "?column?", catalog.Int8},
		{"1.5", "?column?", catalog.Numeric},
		{"true", "?column?", catalog.Bool},
		{"1 + 1", "?column?", catalog.Int4},
		{"-amount", "?column?", catalog.Int4},
		{"amount", "amount", catalog.Int4},
		{"events.amount", "amount", catalog.Int4},
		{"amount AS a", "a", catalog.Int4},
		{`amount AS "Mixed Case"`, "Mixed Case", catalog.Int4},
		{"(amount)", "amount", catalog.Int4},
		{"amount::text", "amount", catalog.Text},
		{"CAST(amount AS bigint)", "amount", catalog.Int8},
		{"'1'::int", "int4", catalog.Int4},
		{"NULL::date", "date", catalog.Date},
		{"'a'::varchar", "varchar", catalog.Varchar},
		{"ts::date", "ts", catalog.Date},
		{"CASE WHEN amount > 1 THEN 'a' END", "case", catalog.Text},
		{"CASE WHEN flag THEN 1 ELSE 2.5 END", "case", catalog.Numeric},
		{"CASE room WHEN 1 THEN small ELSE amount END", "amount", catalog.Int4},
		{"coalesce(name, 'z')", "coalesce", catalog.Text},
		{"coalesce(small, amount)", "coalesce", catalog.Int4},
		{"greatest(amount, 1)", "greatest", catalog.Int4},
		{"least(price, amount)", "least", catalog.Float8},
		{"nullif(amount, 1)", "nullif", catalog.Int4},
		{"lower(name)", "lower", catalog.Text},
		{"upper('x')", "upper", catalog.Text},
		{"length(name)", "length", catalog.Int4},
		{"abs(small)", "abs", catalog.Int2},
		{"round(price)", "round", catalog.Float8},
		{"amount IS NULL", "?column?", catalog.Bool},
		{"flag IS TRUE", "?column?", catalog.Bool},
		{"name LIKE 'a%'", "?column?", catalog.Bool},
		{"name || 'x'", "?column?", catalog.Text},
		{"name || amount", "?column?", catalog.Text},
		{"room IN (1, 2)", "?column?", catalog.Bool},
		{"amount BETWEEN 1 AND 2", "?column?", catalog.Bool},
		{"NOT flag", "?column?", catalog.Bool},
		{"price * amount", "?column?", catalog.Float8},
		{"small + small", "?column?", catalog.Int2},
		{"small + amount", "?column?", catalog.Int4},
		{"amount + id", "?column?", catalog.Int8},
		{"score * score", "?column?", catalog.Float4},
		{"score + 1", "?column?", catalog.Float8},
		{"id / amount", "?column?", catalog.Int8},
		{"day", "day", catalog.Date},
	}
	_, p := newPlanner(t)
	for _, tc := range tests {
		t.Run(tc.target, func(t *testing.T) {
			cv := planView(t, p, "CREATE MATERIALIZED VIEW v AS SELECT "+tc.target+" FROM events")
			require.Equal(t, []col{{tc.name, tc.typ}}, columns(cv.Rel))
		})
	}
	t.Run("column list renames", func(t *testing.T) {
		cv := planView(t, p, "CREATE MATERIALIZED VIEW IF NOT EXISTS v (a, b) AS SELECT room, count(*) FROM events GROUP BY room")
		require.Equal(t, []col{{"a", catalog.Int4}, {"b", catalog.Int8}}, columns(cv.Rel))
		require.True(t, cv.IfNotExists)
	})
	t.Run("a short column list renames a prefix", func(t *testing.T) {
		cv := planView(t, p, "CREATE MATERIALIZED VIEW v (a) AS SELECT room, id FROM events")
		require.Equal(t, []col{{"a", catalog.Int4}, {"id", catalog.Int8}}, columns(cv.Rel))
	})
}

func TestParamTypes(t *testing.T) {
	const (
		i2, i4, i8 = catalog.Int2, catalog.Int4, catalog.Int8
		txt, vc    = catalog.Text, catalog.Varchar
	)
	tests := []struct {
		name string
		sql  string
		oids []uint32
		want []catalog.Type
		kind any
	}{
		{"INSERT takes the column types", "INSERT INTO rooms VALUES ($1, $2, $3)", nil, []catalog.Type{i4, vc, i2}, &planner.Insert{}},
		{"INSERT with a column list", "INSERT INTO rooms (cap, room) VALUES ($1, $2)", nil, []catalog.Type{i2, i4}, &planner.Insert{}},
		{"INSERT numbering out of order", "INSERT INTO events (id, ts) VALUES ($2, $1)", nil, []catalog.Type{catalog.Timestamp, i8}, &planner.Insert{}},
		{"INSERT several rows", "INSERT INTO other VALUES ($1, $2, $3), ($4, 1, 2)", nil, []catalog.Type{i4, i8, catalog.Float4, i4}, &planner.Insert{}},
		{"INSERT arithmetic on a parameter", "INSERT INTO rooms VALUES ($1 + 1, 'a', 1)", nil, []catalog.Type{i4}, &planner.Insert{}},
		{"UPDATE SET and WHERE", "UPDATE rooms SET title = $1 WHERE room = $2", nil, []catalog.Type{vc, i4}, &planner.Update{}},
		{"WHERE k = $1 takes k's type", "DELETE FROM rooms WHERE cap = $1", nil, []catalog.Type{i2}, &planner.Delete{}},
		{"WHERE $1 = k", "DELETE FROM rooms WHERE $1 = cap", nil, []catalog.Type{i2}, &planner.Delete{}},
		{"IN list", "DELETE FROM rooms WHERE room IN ($1, $2)", nil, []catalog.Type{i4, i4}, &planner.Delete{}},
		{"BETWEEN", "DELETE FROM rooms WHERE cap BETWEEN $1 AND $2", nil, []catalog.Type{i2, i2}, &planner.Delete{}},
		{"LIKE operand stays text", "DELETE FROM rooms WHERE $1 LIKE 'a%'", nil, []catalog.Type{txt}, &planner.Delete{}},
		{"unresolved is text", "DELETE FROM rooms WHERE $1 IS NULL", nil, []catalog.Type{txt}, &planner.Delete{}},
		{"two unknowns compare as text", "DELETE FROM rooms WHERE $1 = $2", nil, []catalog.Type{txt, txt}, &planner.Delete{}},
		{"an unused parameter is text", "DELETE FROM rooms WHERE room = $2", nil, []catalog.Type{txt, i4}, &planner.Delete{}},
		{"client OID wins in WHERE", "DELETE FROM rooms WHERE room = $1", []uint32{20}, []catalog.Type{i8}, &planner.Delete{}},
		{"client OID wins in INSERT", "INSERT INTO rooms VALUES ($1, $2, $3)", []uint32{20, 0, 0}, []catalog.Type{i8, vc, i2}, &planner.Insert{}},
		{"client text for a varchar column", "INSERT INTO rooms VALUES ($1, $2, $3)", []uint32{0, 25, 0}, []catalog.Type{i4, txt, i2}, &planner.Insert{}},
		{"an unknown OID is inferred", "DELETE FROM rooms WHERE room = $1", []uint32{705}, []catalog.Type{i4}, &planner.Delete{}},
		{"more OIDs than uses", "DELETE FROM rooms WHERE room = $1", []uint32{0, 23}, []catalog.Type{i4, i4}, &planner.Delete{}},
		{"a read keeps the client's types", "SELECT * FROM events WHERE room = $1", []uint32{23}, []catalog.Type{i4}, &planner.Read{}},
		{"no parameters", "DELETE FROM rooms", nil, nil, &planner.Delete{}},
	}
	_, p := newPlanner(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := p.Plan(tc.sql, tc.oids)
			require.NoError(t, err)
			require.IsType(t, tc.kind, st)
			require.Equal(t, tc.want, st.ParamTypes())
		})
	}
}

func TestParamValues(t *testing.T) {
	_, p := newPlanner(t)
	st, err := p.Plan("UPDATE rooms SET cap = $1 + 1 WHERE room = $2", nil)
	require.NoError(t, err)
	u := st.(*planner.Update)
	require.Equal(t, []catalog.Type{catalog.Int4, catalog.Int4}, u.ParamTypes())
	u.Values().Vals = []delta.Value{delta.Int(41), delta.Int(7)}
	row := []delta.Value{delta.Int(7), delta.Str("t"), delta.Int(1)}
	ok, err := u.Where.Eval(row)
	require.NoError(t, err)
	require.Equal(t, delta.Bool(true), ok)
	require.Len(t, u.Set, 1)
	require.Equal(t, 2, u.Set[0].Col)
	v, err := u.Set[0].E.Eval(row)
	require.NoError(t, err)
	require.Equal(t, delta.Int(42), v)

	u.Values().Vals = []delta.Value{delta.Int(32767), delta.Int(7)}
	_, err = u.Set[0].E.Eval(row)
	require.Equal(t, sqlerr.NumericValueOutOfRange, sqlerr.CodeOf(err), "32768 does not fit the smallint column")
}

func TestInsertRows(t *testing.T) {
	_, p := newPlanner(t)
	eval := func(t *testing.T, e expr.Expr) delta.Value {
		t.Helper()
		v, err := e.Eval(nil)
		require.NoError(t, err)
		return v
	}
	t.Run("values land in their columns, the rest NULL", func(t *testing.T) {
		st, err := p.Plan("INSERT INTO events (ts, id, name, day) VALUES ('2024-01-15 10:30:00', 1, 'x', '1969-12-31')", nil)
		require.NoError(t, err)
		ins := st.(*planner.Insert)
		require.Len(t, ins.Rows, 1)
		row := ins.Rows[0]
		require.Len(t, row, 10)
		require.Equal(t, delta.Int(1), eval(t, row[0]))
		require.Equal(t, delta.Int(1705314600_000000), eval(t, row[5]))
		require.Equal(t, delta.Str("x"), eval(t, row[4]))
		require.Equal(t, delta.Int(-1), eval(t, row[6]))
		for _, i := range []int{1, 2, 3, 7, 8, 9} {
			v := eval(t, row[i])
			require.True(t, v.Null, "column %d", i)
			require.Equal(t, row[i].Type(), ins.Rel.Columns[i].Type)
		}
	})
	t.Run("without a column list, missing trailing values are NULL", func(t *testing.T) {
		st, err := p.Plan("INSERT INTO rooms VALUES (1), (2, 'b')", nil)
		require.Error(t, err, "VALUES lists must all be the same length")
		require.Nil(t, st)

		st, err = p.Plan("INSERT INTO rooms VALUES (1, 'a')", nil)
		require.NoError(t, err)
		row := st.(*planner.Insert).Rows[0]
		require.Equal(t, delta.Int(1), eval(t, row[0]))
		require.Equal(t, delta.Str("a"), eval(t, row[1]))
		require.True(t, eval(t, row[2]).Null)
	})
	t.Run("assignment casts check ranges at execution", func(t *testing.T) {
		st, err := p.Plan("INSERT INTO rooms VALUES (1, 'a', 70000), (2, 'b', 2.5), (3, 'c', 2.5::float8), (4, 'd', -2.5)", nil)
		require.NoError(t, err)
		ins := st.(*planner.Insert)
		_, err = ins.Rows[0][2].Eval(nil)
		require.Equal(t, sqlerr.NumericValueOutOfRange, sqlerr.CodeOf(err))
		// 2.5 is a numeric literal: numeric → integer rounds half away from zero …
		require.Equal(t, delta.Int(3), eval(t, ins.Rows[1][2]))
		require.Equal(t, delta.Int(-3), eval(t, ins.Rows[3][2]))
		// … while double precision → integer rounds half to even (rint).
		require.Equal(t, delta.Int(2), eval(t, ins.Rows[2][2]))
	})
	t.Run("ON CONFLICT", func(t *testing.T) {
		st, err := p.Plan("INSERT INTO rooms VALUES (1, 'a', 2) ON CONFLICT (room) DO UPDATE SET cap = rooms.cap + excluded.cap WHERE excluded.cap > 0", nil)
		require.NoError(t, err)
		oc := st.(*planner.Insert).OnConflict
		require.NotNil(t, oc)
		require.False(t, oc.DoNothing)
		require.Len(t, oc.Set, 1)
		// Existing row's columns, then the proposed row's.
		row := []delta.Value{delta.Int(1), delta.Str("a"), delta.Int(2), delta.Int(1), delta.Str("a"), delta.Int(3)}
		v, err := oc.Set[0].E.Eval(row)
		require.NoError(t, err)
		require.Equal(t, delta.Int(5), v)
		ok, err := oc.Where.Eval(row)
		require.NoError(t, err)
		require.Equal(t, delta.Bool(true), ok)

		st, err = p.Plan("INSERT INTO rooms VALUES (1, 'a', 2) ON CONFLICT DO NOTHING", nil)
		require.NoError(t, err)
		require.True(t, st.(*planner.Insert).OnConflict.DoNothing)
	})
}

func TestStatements(t *testing.T) {
	_, p := newPlanner(t)
	tests := []struct {
		sql  string
		want planner.Statement
	}{
		{"SHOW SOURCES", &planner.Show{What: catalog.Source}},
		{"show tables;", &planner.Show{What: catalog.Table}},
		{"SHOW MATERIALIZED VIEWS", &planner.Show{What: catalog.View}},
		{"SHOW VIEWS", &planner.Show{What: catalog.View}},
		{"SHOW search_path", &planner.ShowVar{Name: "search_path"}},
		{"SHOW ALL", &planner.ShowVar{Name: "all"}},
		{"DROP SOURCE events", &planner.Drop{Kind: catalog.Source, Names: []string{"events"}}},
		{"DROP TABLE IF EXISTS rooms, other CASCADE", &planner.Drop{Kind: catalog.Table, Names: []string{"rooms", "other"}, IfExists: true, Cascade: true}},
		{"DROP MATERIALIZED VIEW public.totals", &planner.Drop{Kind: catalog.View, Names: []string{"totals"}}},
		{"SET search_path = public", &planner.SetVar{Name: "search_path", Value: "public"}},
		{"SET extra_float_digits TO 3", &planner.SetVar{Name: "extra_float_digits", Value: "3"}},
		{"RESET TimeZone", &planner.SetVar{Name: "timezone", Reset: true}},
		{"RESET ALL", &planner.SetVar{Name: "all", Reset: true}},
		{"BEGIN", &planner.Tx{Tag: "BEGIN"}},
		{"START TRANSACTION", &planner.Tx{Tag: "BEGIN"}},
		{"COMMIT", &planner.Tx{Tag: "COMMIT"}},
		{"ROLLBACK", &planner.Tx{Tag: "ROLLBACK"}},
	}
	for _, tc := range tests {
		t.Run(tc.sql, func(t *testing.T) {
			st, err := p.Plan(tc.sql, nil)
			require.NoError(t, err)
			require.IsType(t, tc.want, st)
			switch w := tc.want.(type) {
			case *planner.Show:
				require.Equal(t, w.What, st.(*planner.Show).What)
			case *planner.ShowVar:
				require.Equal(t, w.Name, st.(*planner.ShowVar).Name)
			case *planner.Drop:
				g := st.(*planner.Drop)
				require.Equal(t, []any{w.Kind, w.Names, w.IfExists, w.Cascade}, []any{g.Kind, g.Names, g.IfExists, g.Cascade})
			case *planner.SetVar:
				g := st.(*planner.SetVar)
				require.Equal(t, []any{w.Name, w.Value, w.Reset}, []any{g.Name, g.Value, g.Reset})
			case *planner.Tx:
				require.Equal(t, w.Tag, st.(*planner.Tx).Tag)
			}
		})
	}
	t.Run("SELECT is a read of the original text", func(t *testing.T) {
		st, err := p.Plan("SELECT room, total FROM totals", nil)
		require.NoError(t, err)
		require.Equal(t, "SELECT room, total FROM totals", st.(*planner.Read).SQL)
	})
	t.Run("EXPLAIN SELECT", func(t *testing.T) {
		st, err := p.Plan("EXPLAIN SELECT room, count(*) FROM events GROUP BY room", nil)
		require.NoError(t, err)
		require.Equal(t, "Project(room, count(*))\n└─ HashAggregate(group=(room); count)\n   └─ Project(room)\n      └─ Scan(events)\n",
			st.(*planner.Explain).Text)
	})
	t.Run("ExplainView", func(t *testing.T) {
		text, err := p.ExplainView("totals")
		require.NoError(t, err)
		require.Equal(t, "Project(room, sum(amount))\n└─ HashAggregate(group=(room); sum)\n   └─ Project(room, amount)\n      └─ Scan(events)\n", text)
		_, err = p.ExplainView("events")
		require.Equal(t, sqlerr.WrongObjectType, sqlerr.CodeOf(err))
		_, err = p.ExplainView("nope")
		require.Equal(t, sqlerr.UndefinedTable, sqlerr.CodeOf(err))
	})
}

func TestErrors(t *testing.T) {
	const mv = "CREATE MATERIALIZED VIEW v AS "
	tests := []struct {
		name string
		sql  string
		code sqlerr.Code
		at   string // the error's position is this text's first occurrence; "" when unknown
		msg  string // the message contains this
	}{
		// 42601 syntax, at the bad token
		{"syntax: misspelt keyword", "SELEC 1", sqlerr.SyntaxError, "SELEC", `"SELEC"`},
		{"syntax: double comma", "CREATE SOURCE s (x int,, y int)", sqlerr.SyntaxError, ", y", `","`},
		{"syntax: after multibyte text", "SELECT 'héllo' + FROM", sqlerr.SyntaxError, "FROM", "FROM"},
		{"syntax: unterminated string", "SELECT 'unterminated", sqlerr.SyntaxError, "'unterminated", "unterminated"},
		{"syntax: two statements", "SELECT 1; SELECT 2", sqlerr.SyntaxError, "", ""},
		{"syntax: INSERT with too many values", "INSERT INTO rooms VALUES (1, 'a', 2, 3)", sqlerr.SyntaxError, "2, [3", "more expressions"},
		{"syntax: INSERT with too many values for the list", "INSERT INTO rooms (room) VALUES (1, 'a')", sqlerr.SyntaxError, "'a'", "more expressions"},
		{"syntax: INSERT with too few values for the list", "INSERT INTO rooms (room, title, cap) VALUES (1, 'a')", sqlerr.SyntaxError, "cap", "more target columns"},
		{"syntax: VALUES lists of different lengths", "INSERT INTO rooms VALUES (1, 'a', 2), (3, 'b')", sqlerr.SyntaxError, "3, 'b'", "same length"},
		{"syntax: too many view column names", mv[:len(mv)-4] + " (a, b) AS SELECT id FROM events", sqlerr.SyntaxError, "v (a", "too many column names"},

		// 42P01 unknown relation, at its name
		{"unknown table in FROM", mv + "SELECT * FROM nope", sqlerr.UndefinedTable, "nope", `"nope"`},
		{"unknown table in a join", mv + "SELECT * FROM events JOIN nope ON true", sqlerr.UndefinedTable, "nope", `"nope"`},
		{"unknown table in INSERT", "INSERT INTO nope VALUES (1)", sqlerr.UndefinedTable, "nope", `"nope"`},
		{"unknown table in UPDATE", "UPDATE nope SET a = 1", sqlerr.UndefinedTable, "nope", `"nope"`},
		{"unknown table in DELETE", "DELETE FROM nope", sqlerr.UndefinedTable, "nope", `"nope"`},
		{"unknown schema", mv + "SELECT * FROM other_schema.events", sqlerr.UndefinedTable, "other_schema", "other_schema.events"},
		{"unknown qualifier", mv + "SELECT x.id FROM events e", sqlerr.UndefinedTable, "x.id", `"x"`},
		{"table name hidden by its alias", mv + "SELECT events.id FROM events e", sqlerr.UndefinedTable, "events.id", `"events"`},
		{"unknown qualifier on *", mv + "SELECT x.* FROM events", sqlerr.UndefinedTable, "x.*", `"x"`},

		// 42703 unknown column, at the reference
		{"unknown column", mv + "SELECT nope FROM events", sqlerr.UndefinedColumn, "nope", `"nope"`},
		{"unknown qualified column", mv + "SELECT e.nope FROM events e", sqlerr.UndefinedColumn, "e.nope", `"e.nope"`},
		{"unknown column in WHERE", mv + "SELECT id FROM events WHERE nope = 1", sqlerr.UndefinedColumn, "nope", `"nope"`},
		{"unknown column in ON", mv + "SELECT id FROM events e JOIN rooms r ON e.room = r.nope", sqlerr.UndefinedColumn, "r.nope", "r.nope"},
		{"unknown column in GROUP BY", mv + "SELECT count(*) FROM events GROUP BY nope", sqlerr.UndefinedColumn, "nope", `"nope"`},
		{"unknown column in INSERT list", "INSERT INTO rooms (room, nope) VALUES (1, 2)", sqlerr.UndefinedColumn, "nope", `"nope"`},
		{"unknown column in SET", "UPDATE rooms SET nope = 1", sqlerr.UndefinedColumn, "nope", `"nope"`},
		{"unknown column in a key", "CREATE TABLE t (a int, PRIMARY KEY (b))", sqlerr.UndefinedColumn, "PRIMARY", `"b"`},
		{"column in a VALUES list", "INSERT INTO rooms VALUES (room, 'a', 1)", sqlerr.UndefinedColumn, "room,", `"room"`},
		{"unknown USING column", mv + "SELECT * FROM events JOIN rooms USING (nope)", sqlerr.UndefinedColumn, "", `"nope"`},

		// 42702 ambiguous, at the reference
		{"ambiguous in the select list", mv + "SELECT room FROM events, rooms", sqlerr.AmbiguousColumn, "room FROM", `"room"`},
		{"ambiguous in ON", mv + "SELECT id FROM events JOIN other ON room = 1", sqlerr.AmbiguousColumn, "room = 1", `"room"`},
		{"ambiguous self join", mv + "SELECT id FROM events a, events b", sqlerr.AmbiguousColumn, "id FROM", `"id"`},
		{"USING column twice on one side", mv + "SELECT * FROM events e JOIN other o ON e.id = o.k JOIN rooms USING (room)",
			sqlerr.AmbiguousColumn, "", `"room"`},

		// 42803 grouping, at the offending reference or call
		{"ungrouped column", mv + "SELECT room, count(*) FROM events", sqlerr.GroupingError, "room", `"room"`},
		{"ungrouped column with GROUP BY", mv + "SELECT name, count(*) FROM events GROUP BY room", sqlerr.GroupingError, "name", `"name"`},
		{"ungrouped column in an expression", mv + "SELECT room, sum(amount) + amount FROM events GROUP BY room",
			sqlerr.GroupingError, "amount FROM", `"amount"`},
		{"ungrouped column in HAVING", mv + "SELECT room FROM events GROUP BY room HAVING amount > 1", sqlerr.GroupingError, "amount >", `"amount"`},
		{"a group expression does not group its parts", mv + "SELECT room FROM events GROUP BY room + 1", sqlerr.GroupingError, "room FROM", `"room"`},
		{"text constant is not a column of the same name", mv + "SELECT room::text || name FROM events GROUP BY room::text || 'name'",
			sqlerr.GroupingError, "room::", `"room"`},
		{"nested aggregate", mv + "SELECT sum(count(*)) FROM events", sqlerr.GroupingError, "count(*)", "nested"},
		{"aggregate in WHERE", mv + "SELECT count(*) FROM events WHERE count(*) > 1", sqlerr.GroupingError, "count(*) >", "not allowed"},
		{"aggregate in ON", mv + "SELECT id FROM events e JOIN rooms r ON max(r.cap) = 1", sqlerr.GroupingError, "max", "not allowed"},
		{"aggregate in GROUP BY", mv + "SELECT count(*) FROM events GROUP BY count(*)", sqlerr.GroupingError, "BY [count(*)", "GROUP BY"},
		{"GROUP BY ordinal of an aggregate", mv + "SELECT room, count(*) FROM events GROUP BY 2", sqlerr.GroupingError, "2", "GROUP BY"},
		{"SELECT * with GROUP BY", mv + "SELECT * FROM events GROUP BY room", sqlerr.GroupingError, "*", "GROUP BY"},
		{"aggregate in UPDATE", "UPDATE rooms SET cap = max(cap)", sqlerr.GroupingError, "max", "not allowed"},

		// 42P10 bad GROUP BY position, 42P16 bad table definition
		{"GROUP BY position out of range", mv + "SELECT room FROM events GROUP BY 2", sqlerr.InvalidColumnReference, "2", "position 2"},
		{"GROUP BY position zero", mv + "SELECT room FROM events GROUP BY 0", sqlerr.InvalidColumnReference, "0", "position 0"},
		{"two primary keys", "CREATE TABLE t (a int PRIMARY KEY, b int PRIMARY KEY)", sqlerr.InvalidTableDefinition, "PRIMARY KEY)", "multiple primary keys"},
		{"column and table primary keys", "CREATE TABLE t (a int PRIMARY KEY, b int, PRIMARY KEY (b))", sqlerr.InvalidTableDefinition, "PRIMARY KEY (", "multiple primary keys"},
		{"ON CONFLICT on a non-key", "INSERT INTO rooms VALUES (1, 'a', 1) ON CONFLICT (title) DO NOTHING", sqlerr.InvalidColumnReference, "ON CONFLICT", "ON CONFLICT"},

		// 42701 duplicate column
		{"duplicate column in CREATE", "CREATE SOURCE s (a int, a text)", sqlerr.DuplicateColumn, "a text", `"a"`},
		{"duplicate view column", mv + "SELECT id, id FROM events", sqlerr.DuplicateColumn, "v AS", `"id"`},
		{"duplicate ?column?", mv + "SELECT 1, 2 FROM events", sqlerr.DuplicateColumn, "v AS", `"?column?"`},
		{"duplicate INSERT column", "INSERT INTO rooms (room, room) VALUES (1, 2)", sqlerr.DuplicateColumn, "room)", `"room"`},

		// 42883 and 42804 type errors
		{"text + int", mv + "SELECT name + 1 FROM events", sqlerr.UndefinedFunction, "+", "text + integer"},
		{"typed text + int", mv + "SELECT 'abc'::text + 1 FROM events", sqlerr.UndefinedFunction, "+", "text + integer"},
		{"timestamp > int", mv + "SELECT id FROM events WHERE ts > 5", sqlerr.UndefinedFunction, ">", "timestamp without time zone > integer"},
		{"bool + bool", mv + "SELECT flag + flag FROM events", sqlerr.UndefinedFunction, "+", "boolean + boolean"},
		{"negative text", mv + "SELECT -name FROM events", sqlerr.UndefinedFunction, "-name", "- text"},
		{"unknown function", mv + "SELECT no_such_function(id) FROM events", sqlerr.UndefinedFunction, "no_such_function", "no_such_function"},
		{"function on the wrong type", mv + "SELECT lower(amount) FROM events", sqlerr.UndefinedFunction, "lower", "lower(integer)"},
		{"sum of text", mv + "SELECT sum(name) FROM events", sqlerr.UndefinedFunction, "sum", "sum(text)"},
		{"avg of a date", mv + "SELECT avg(day) FROM events", sqlerr.UndefinedFunction, "avg", "avg(date)"},
		{"qualified unknown function", mv + "SELECT myschema.f(id) FROM events", sqlerr.UndefinedFunction, "myschema", "myschema.f"},
		{"non-boolean WHERE", mv + "SELECT id FROM events WHERE amount", sqlerr.DatatypeMismatch, "amount", "boolean"},
		{"non-boolean WHERE expression", mv + "SELECT id FROM events WHERE amount + 1", sqlerr.DatatypeMismatch, "amount + 1", "boolean"},
		{"non-boolean cast in WHERE", mv + "SELECT id FROM events WHERE name::int", sqlerr.DatatypeMismatch, "name::", "boolean"},
		{"non-boolean AND operand", mv + "SELECT id FROM events WHERE flag AND amount", sqlerr.DatatypeMismatch, "amount", "boolean"},
		{"non-boolean HAVING", mv + "SELECT room FROM events GROUP BY room HAVING count(*)", sqlerr.DatatypeMismatch, "count(*)", "boolean"},
		{"CASE branches", mv + "SELECT CASE WHEN flag THEN 1 ELSE 'a'::text END FROM events", sqlerr.DatatypeMismatch, "'a'::text", "CASE types"},
		{"CASE arm of another type", mv + "SELECT CASE WHEN flag THEN 'a'::text WHEN true THEN 2 END FROM events", sqlerr.DatatypeMismatch, "2 END", "CASE types"},
		{"IN list types", mv + "SELECT id FROM events WHERE room IN (1, 'a'::text)", sqlerr.DatatypeMismatch, "'a'::text", "IN types"},
		{"coalesce types", mv + "SELECT coalesce(day, flag) FROM events", sqlerr.DatatypeMismatch, "flag)", "COALESCE types"},
		{"INSERT bool into int", "INSERT INTO rooms VALUES (true, 'a', 1)", sqlerr.DatatypeMismatch, "true", `column "room" is of type integer`},
		{"UPDATE date into int", "UPDATE rooms SET cap = '2024-01-01'::date", sqlerr.DatatypeMismatch, "'2024", `column "cap"`},
		{"UPDATE text into smallint", "UPDATE rooms SET cap = title || 'x'", sqlerr.DatatypeMismatch, "title ||", `column "cap"`},
		{"cast that does not exist", mv + "SELECT amount::date FROM events", sqlerr.CannotCoerce, "::date", "cannot cast type integer to date"},
		{"NOT of an integer", mv + "SELECT id FROM events WHERE NOT amount", sqlerr.DatatypeMismatch, "amount", "boolean"},

		// 22P02 and friends: bad literals, at the literal
		{"bad integer literal in WHERE", mv + "SELECT id FROM events WHERE amount = 'x'", sqlerr.InvalidTextRepresentation, "'x'", `"x"`},
		{"bad literal on the left", mv + "SELECT 'abc' + 1 AS x FROM events", sqlerr.InvalidTextRepresentation, "'abc'", `"abc"`},
		{"bad literal after multibyte text", mv + "SELECT 'é' AS a, amount + 'x' FROM events", sqlerr.InvalidTextRepresentation, "'x'", `"x"`},
		{"bad literal cast", mv + "SELECT 'abc'::int FROM events", sqlerr.InvalidTextRepresentation, "'abc'", `"abc"`},
		{"bad boolean literal", mv + "SELECT id FROM events WHERE flag = 'maybe'", sqlerr.InvalidTextRepresentation, "'maybe'", "boolean"},
		{"bad literal in IN", mv + "SELECT id FROM events WHERE room IN (1, 'two')", sqlerr.InvalidTextRepresentation, "'two'", `"two"`},
		{"bad literal in INSERT", "INSERT INTO rooms VALUES ('one', 'a', 1)", sqlerr.InvalidTextRepresentation, "'one'", `"one"`},
		{"bad timestamp literal", "INSERT INTO events (ts) VALUES ('not a time')", sqlerr.InvalidDatetimeFormat, "'not a time'", "timestamp"},
		{"literal out of range", "INSERT INTO rooms VALUES ('99999999999', 'a', 1)", sqlerr.NumericValueOutOfRange, "'99999999999'", "integer"},
		{"constant division by zero", mv + "SELECT id, 1 / 0 AS x FROM events", sqlerr.DivisionByZero, "/", "division by zero"},
		{"constant overflow", mv + "SELECT id, 2147483647 + 1 AS x FROM events", sqlerr.NumericValueOutOfRange, "+", "integer out of range"},
		{"LIKE pattern ending in an escape", mv + `SELECT id FROM events WHERE name LIKE 'a\'`, sqlerr.InvalidEscapeSequence, "LIKE", "escape"},

		// 0A000 unsupported constructs, each named
		{"char(n)", "CREATE TABLE ct (k bigint PRIMARY KEY, c char(2))", sqlerr.FeatureNotSupported, "char(2)", "character(n)"},
		{"timestamp(3)", "CREATE TABLE ct (k bigint PRIMARY KEY, t timestamp(3))", sqlerr.FeatureNotSupported, "timestamp(3)", "type modifier"},
		{"function not yet", mv + "SELECT to_timestamp(id) FROM events", sqlerr.FeatureNotSupported, "to_timestamp", "to_timestamp"},
		{"to_char pattern not printed", mv + "SELECT to_char(ts, 'DDSP') FROM events", sqlerr.FeatureNotSupported, "to_char", "SP"},
		{"jsonb ordering", mv + "SELECT id, '1'::jsonb AS j FROM events ORDER BY j LIMIT 1", sqlerr.FeatureNotSupported, "j LIMIT", "jsonb ordering"},
		{"jsonb less than", mv + "SELECT id FROM events WHERE '1'::jsonb < '2'::jsonb", sqlerr.FeatureNotSupported, "<", "jsonb ordering"},
		{"max of jsonb", mv + "SELECT max('1'::jsonb) FROM events", sqlerr.UndefinedFunction, "max", "max(jsonb)"},
		{"volatile random", mv + "SELECT random() FROM events", sqlerr.FeatureNotSupported, "random", "volatile"},
		{"LATERAL", mv + "SELECT id FROM events, LATERAL (SELECT 1) s", sqlerr.FeatureNotSupported, "", "LATERAL"},
		{"FULL JOIN", mv + "SELECT id FROM events FULL JOIN rooms USING (room)", sqlerr.FeatureNotSupported, "", "FULL JOIN"},
		{"NATURAL JOIN", mv + "SELECT id FROM events NATURAL JOIN rooms", sqlerr.FeatureNotSupported, "", "NATURAL JOIN"},
		{"subquery in FROM without alias", mv + "SELECT id FROM (SELECT id FROM events)", sqlerr.SyntaxError, "", "must have an alias"},
		{"table function in FROM", mv + "SELECT * FROM generate_series(1, 3)", sqlerr.FeatureNotSupported, "generate_series", "table function generate_series"},
		{"correlated IN", mv + "SELECT id FROM events e WHERE id IN (SELECT k FROM other WHERE other.k = e.room)", sqlerr.FeatureNotSupported, "e.room)", "correlated subquery"},
		{"EXISTS in the select list", mv + "SELECT EXISTS (SELECT 1 FROM other) FROM events", sqlerr.FeatureNotSupported, "EXISTS", "conjunct of WHERE"},
		{"scalar subquery", mv + "SELECT (SELECT 1) AS x FROM events", sqlerr.FeatureNotSupported, "(SELECT", "subquery"},
		{"window function", mv + "SELECT lag(id) OVER (ORDER BY id) FROM events", sqlerr.FeatureNotSupported, "lag", "window function lag"},
		{"window aggregate with a RANGE offset", mv + "SELECT sum(amount) OVER (ORDER BY id RANGE BETWEEN 5 PRECEDING AND CURRENT ROW) FROM events",
			sqlerr.FeatureNotSupported, "sum", "RANGE window frames"},
		{"window aggregate over GROUPS", mv + "SELECT sum(amount) OVER (ORDER BY id GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM events",
			sqlerr.FeatureNotSupported, "sum", "GROUPS"},
		{"window aggregate with EXCLUDE", mv + "SELECT sum(amount) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE CURRENT ROW) FROM events",
			sqlerr.FeatureNotSupported, "sum", "EXCLUDE"},
		{"window frame ending after the current row", mv + "SELECT sum(amount) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM events",
			sqlerr.FeatureNotSupported, "sum", "CURRENT ROW"},
		{"window frame from a column", mv + "SELECT sum(amount) OVER (ORDER BY id ROWS BETWEEN amount PRECEDING AND CURRENT ROW) FROM events",
			sqlerr.FeatureNotSupported, "amount PRECEDING", "integer constant"},
		{"negative window frame offset", mv + "SELECT sum(amount) OVER (ORDER BY id ROWS BETWEEN -1 PRECEDING AND CURRENT ROW) FROM events",
			sqlerr.InvalidPrecedingOrFollowing, "-1", "must not be negative"},
		{"window aggregate FILTER", mv + "SELECT sum(amount) FILTER (WHERE flag) OVER (ORDER BY id ROWS 2 PRECEDING) FROM events",
			sqlerr.FeatureNotSupported, "sum", "FILTER in a window aggregate"},
		{"window aggregate DISTINCT", mv + "SELECT count(DISTINCT amount) OVER (ORDER BY id ROWS 2 PRECEDING) FROM events",
			sqlerr.FeatureNotSupported, "count", "DISTINCT in a window aggregate"},
		{"ranking and aggregate window functions", mv + "SELECT row_number() OVER (ORDER BY id) AS rn, sum(amount) OVER (ORDER BY id) AS s FROM events",
			sqlerr.FeatureNotSupported, "row_number", "together with aggregate window functions"},
		{"window aggregates over different windows", mv + "SELECT sum(amount) OVER (ORDER BY id) AS s, avg(amount) OVER (ORDER BY ts) AS a FROM events",
			sqlerr.FeatureNotSupported, "avg", "different windows"},
		{"window aggregate over a named window", mv + "SELECT sum(amount) OVER w FROM events WINDOW w AS (ORDER BY id)",
			sqlerr.FeatureNotSupported, "", "WINDOW clause"},
		{"UNION ORDER BY expression", mv + "SELECT id FROM events UNION SELECT k FROM other ORDER BY id + 1 LIMIT 3", sqlerr.FeatureNotSupported, "id + 1", "ORDER BY an expression"},
		{"scalar subquery without aggregate", mv + "SELECT id, (SELECT k FROM other) FROM events", sqlerr.FeatureNotSupported, "(SELECT k", "scalar subquery"},
		{"WITH RECURSIVE", mv + "WITH RECURSIVE x AS (SELECT 1) SELECT id FROM events", sqlerr.FeatureNotSupported, "WITH", "WITH RECURSIVE"},
		{"FETCH WITH TIES", mv + "SELECT id FROM events ORDER BY id FETCH FIRST 5 ROWS WITH TIES", sqlerr.FeatureNotSupported, "5", "WITH TIES"},
		{"LIMIT not an integer", mv + "SELECT id FROM events ORDER BY id LIMIT 2.5", sqlerr.FeatureNotSupported, "2.5", "LIMIT"},
		{"DISTINCT ON", mv + "SELECT DISTINCT ON (room) id FROM events", sqlerr.FeatureNotSupported, "room)", "DISTINCT ON"},
		{"numeric scale above precision", "CREATE SOURCE s (x numeric(2, 5))", sqlerr.InvalidParameterValue, "numeric", "scale 5"},
		{"numeric precision zero", "CREATE SOURCE s (x numeric(0))", sqlerr.InvalidParameterValue, "numeric", "precision 0"},
		{"json column", "CREATE TABLE t (id int PRIMARY KEY, d json)", sqlerr.FeatureNotSupported, "json", "json"},
		{"interval column modifier", "CREATE TABLE t (id int PRIMARY KEY, d interval minute)", sqlerr.FeatureNotSupported, "interval", "interval"},
		{"date_bin with months", mv + "SELECT date_bin('1 month', ts, '2001-01-01') FROM events", sqlerr.FeatureNotSupported, "date_bin", "months"},
		{"bad interval literal", mv + "SELECT ts + '5 parsecs' FROM events", sqlerr.InvalidDatetimeFormat, "'5 parsecs'", "interval"},
		{"timestamp plus timestamp", mv + "SELECT ts + ts FROM events", sqlerr.UndefinedFunction, "+", "timestamp without time zone + timestamp"},
		{"numeric field overflow", mv + "SELECT 123.5::numeric(3,1) FROM events", sqlerr.NumericValueOutOfRange, "::", "numeric field overflow"},
		{"numeric division by zero", mv + "SELECT 1.5 / 0 FROM events", sqlerr.DivisionByZero, "/", "division by zero"},
		{"numeric plus text", mv + "SELECT 1.5 + 'a'::text FROM events", sqlerr.UndefinedFunction, "+", "numeric + text"},
		{"array column", "CREATE SOURCE s (x int[])", sqlerr.FeatureNotSupported, "x [int", "array"},
		{"SUBSCRIBE to a query", "SUBSCRIBE TO (SELECT 1)", sqlerr.FeatureNotSupported, "", "SUBSCRIBE"},
		{"CREATE SINK without WITH", "CREATE SINK k FROM totals", sqlerr.SyntaxError, "", "WITH"},
		{"now() in a view", mv + "SELECT id, now() FROM events", sqlerr.FeatureNotSupported, "now()", "now()"},
		{"now() in a view's WHERE, not a bound", mv + "SELECT id FROM events WHERE ts = now()", sqlerr.FeatureNotSupported, "now()", "now()"},
		{"CURRENT_TIMESTAMP in a view", mv + "SELECT id, CURRENT_TIMESTAMP FROM events", sqlerr.FeatureNotSupported, "CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP"},
		{"unsupported aggregate", mv + "SELECT string_agg(name, ',') FROM events", sqlerr.FeatureNotSupported, "string_agg", "string_agg"},
		{"aggregate FILTER", mv + "SELECT count(*) FILTER (WHERE flag) FROM events", sqlerr.FeatureNotSupported, "count", "FILTER"},
		{"LIKE with a column pattern", mv + "SELECT id FROM events WHERE name LIKE name", sqlerr.FeatureNotSupported, "LIKE", "LIKE"},
		{"parameters in a view", mv + "SELECT id FROM events WHERE room = $1", sqlerr.FeatureNotSupported, "", "parameters"},
		{"view without FROM", mv + "SELECT 1", sqlerr.FeatureNotSupported, "", "without FROM"},
		{"plain VIEW", "CREATE VIEW w AS SELECT id FROM events", sqlerr.FeatureNotSupported, "", "ViewStmt"},
		{"CREATE TABLE AS", "CREATE TABLE t AS SELECT id FROM events", sqlerr.FeatureNotSupported, "", "CREATE TABLE AS"},
		{"DEFAULT", "CREATE TABLE t (id int PRIMARY KEY, n int DEFAULT 1)", sqlerr.FeatureNotSupported, "DEFAULT", "DEFAULT"},
		{"UNIQUE", "CREATE TABLE t (id int PRIMARY KEY, n int UNIQUE)", sqlerr.FeatureNotSupported, "UNIQUE", "UNIQUE"},
		{"schema-qualified CREATE", "CREATE SOURCE s2.s (x int)", sqlerr.FeatureNotSupported, "s2.s", "schema"},
		{"other connector", "CREATE SOURCE s (x int) WITH (connector = 'kinesis')", sqlerr.FeatureNotSupported, "s (x", "kinesis"},
		{"INSERT … SELECT", "INSERT INTO rooms SELECT room, title, cap FROM rooms", sqlerr.FeatureNotSupported, "", "INSERT … SELECT"},
		{"RETURNING", "INSERT INTO rooms VALUES (1, 'a', 1) RETURNING room", sqlerr.FeatureNotSupported, "", "RETURNING"},
		{"PRIMARY KEY on a source", "CREATE SOURCE s (id int PRIMARY KEY)", sqlerr.FeatureNotSupported, "s (id", "PRIMARY KEY"},
		{"table without a primary key", "CREATE TABLE t (id int)", sqlerr.FeatureNotSupported, "t (id", "PRIMARY KEY"},
		{"updating a primary key column", "UPDATE rooms SET room = room + 1", sqlerr.FeatureNotSupported, "room =", "primary key"},
		{"ON CONFLICT updating the key", "INSERT INTO rooms VALUES (1, 'a', 1) ON CONFLICT (room) DO UPDATE SET room = 2",
			sqlerr.FeatureNotSupported, "room = 2", "primary key"},

		// 42809 wrong object type
		{"UPDATE of a source", "UPDATE events SET amount = 1", sqlerr.WrongObjectType, "events", "source"},
		{"DELETE from a source", "DELETE FROM events", sqlerr.WrongObjectType, "events", "source"},
		{"UPDATE of a view", "UPDATE totals SET total = 1", sqlerr.WrongObjectType, "totals", "materialized view"},
		{"INSERT into a view", "INSERT INTO totals VALUES (1, 2)", sqlerr.WrongObjectType, "totals", "materialized view"},
		{"ON CONFLICT on a source", "INSERT INTO events (id) VALUES (1) ON CONFLICT DO NOTHING", sqlerr.WrongObjectType, "ON CONFLICT", "ON CONFLICT"},
		{"DISTINCT on a non-aggregate", mv + "SELECT lower(DISTINCT name) FROM events", sqlerr.WrongObjectType, "lower", "not an aggregate"},
	}
	_, p := newPlanner(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, err := p.Plan(tc.sql, nil)
			require.Error(t, err, "planned as %T", st)
			e := sqlerr.As(err)
			require.Equal(t, tc.code, e.Code, e.Msg)
			if tc.msg != "" {
				require.Contains(t, e.Msg, tc.msg)
			}
			want := 0
			if tc.at != "" {
				want = position(t, tc.sql, tc.at)
			}
			require.Equal(t, want, e.Position, "position of %q in %s (got %q)", tc.at, tc.sql,
				string([]rune(tc.sql)[max(e.Position-1, 0):]))
		})
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"two statements", "SELECT 1; SELECT 2", []string{"SELECT 1", "SELECT 2"}},
		{"trailing semicolon", "SELECT 1;", []string{"SELECT 1"}},
		{"whitespace is trimmed", "  SELECT 1  ;\n\t SELECT 2  \n", []string{"SELECT 1", "SELECT 2"}},
		{"empty statements are dropped", ";; SELECT 1 ;;; SELECT 2;;", []string{"SELECT 1", "SELECT 2"}},
		{"semicolon in a string", "SELECT ';'; SELECT 'a;b'", []string{"SELECT ';'", "SELECT 'a;b'"}},
		{"doubled quote in a string", "SELECT 'it''s; fine'; SELECT 2", []string{"SELECT 'it''s; fine'", "SELECT 2"}},
		{"escape string", `SELECT E'it\'s; fine'; SELECT 2`, []string{`SELECT E'it\'s; fine'`, "SELECT 2"}},
		{"quoted identifier", `SELECT "a;b" FROM t; SELECT 2`, []string{`SELECT "a;b" FROM t`, "SELECT 2"}},
		{"dollar quotes", "SELECT $$a;b$$; SELECT 2", []string{"SELECT $$a;b$$", "SELECT 2"}},
		{"tagged dollar quotes", "SELECT $t$ ; $$ ; $t$; SELECT 2", []string{"SELECT $t$ ; $$ ; $t$", "SELECT 2"}},
		{"line comment", "SELECT 1 -- ; not a split\n; SELECT 2", []string{"SELECT 1 -- ; not a split", "SELECT 2"}},
		{"block comment", "SELECT /* ; */ 1; SELECT 2", []string{"SELECT /* ; */ 1", "SELECT 2"}},
		{"nested block comment", "SELECT /* /* ; */ ; */ 1; SELECT 2", []string{"SELECT /* /* ; */ ; */ 1", "SELECT 2"}},
		{"leading comment stays with its statement", "-- hi\nSELECT 1", []string{"-- hi\nSELECT 1"}},
		{"trailing comment is dropped", "SELECT 1; -- bye", []string{"SELECT 1"}},
		{"comment between statements is dropped", "SELECT 1; /* x */ ; SELECT 2", []string{"SELECT 1", "SELECT 2"}},
		{"comment only", "-- only a comment", nil},
		{"block comment only", "/* a */ -- b\n ; ;", nil},
		{"empty", "", nil},
		{"blank", "   \n\t", nil},
		{"semicolons only", ";;;", nil},
		{"a syntax error is still one statement", "SELEC 1", []string{"SELEC 1"}},
		{"streaming statements", "CREATE SOURCE s (x int);\nSHOW SOURCES;\nSUBSCRIBE TO v;",
			[]string{"CREATE SOURCE s (x int)", "SHOW SOURCES", "SUBSCRIBE TO v"}},
		{"multibyte text", "SELECT 'é;ü'; SELECT '日本'", []string{"SELECT 'é;ü'", "SELECT '日本'"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := planner.Split(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	t.Run("unterminated string is a syntax error", func(t *testing.T) {
		_, err := planner.Split("SELECT 1; SELECT 'oops")
		require.Error(t, err)
		require.Equal(t, sqlerr.SyntaxError, sqlerr.CodeOf(err))
	})
	t.Run("every split statement plans alone", func(t *testing.T) {
		_, p := newPlanner(t)
		stmts, err := planner.Split("INSERT INTO rooms VALUES (1, 'a;b', 2); DELETE FROM rooms WHERE title = ';'; SHOW TABLES")
		require.NoError(t, err)
		require.Len(t, stmts, 3)
		for _, s := range stmts {
			_, err := p.Plan(s, nil)
			require.NoError(t, err, s)
		}
	})
}
