package planner_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/planner/plan"
)

func eventTimePlanner(t *testing.T) *planner.Planner {
	t.Helper()
	cat := catalog.New()
	p := planner.New(cat)
	for _, q := range []string{
		`CREATE SOURCE c (room bigint, ts timestamptz NOT NULL, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')`,
		`CREATE SOURCE l (room bigint, ts timestamptz, WATERMARK FOR ts AS ts)`,
		`CREATE SOURCE plain (room bigint, ts timestamp)`,
		`CREATE TABLE rooms (room bigint PRIMARY KEY, category text)`,
		`CREATE MATERIALIZED VIEW c_minutes AS SELECT room, window_start, count(*) AS n FROM TUMBLE(c, ts, INTERVAL '1 minute') GROUP BY room, window_start`,
		`CREATE MATERIALIZED VIEW c_hours AS SELECT room, window_start, sum(n) AS n FROM c_minutes GROUP BY room, window_start`,
		`CREATE MATERIALIZED VIEW c_closed AS SELECT room, window_end, count(*) AS n FROM TUMBLE(c, ts, INTERVAL '1 minute') GROUP BY room, window_end EMIT ON WINDOW CLOSE`,
		`CREATE MATERIALIZED VIEW plain_minutes AS SELECT room, window_start, count(*) AS n FROM TUMBLE(plain, ts, INTERVAL '1 minute') GROUP BY room, window_start`,
	} {
		st, err := p.Plan(q, nil)
		require.NoError(t, err, q)
		switch st := st.(type) {
		case *planner.CreateRelation:
			require.NoError(t, cat.Add(st.Rel))
		case *planner.CreateView:
			require.NoError(t, cat.Add(st.Rel))
		}
	}
	return p
}

func TestWatermarkClause(t *testing.T) {
	p := eventTimePlanner(t)
	for _, tc := range []struct {
		sql   string
		col   int
		delay int64
	}{
		{`CREATE SOURCE a (x int, ts timestamptz, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')`, 1, 5_000_000},
		{`CREATE SOURCE a (WATERMARK FOR ts AS ts - '1 minute'::interval, ts timestamp, x int) WITH (connector = 'http')`, 0, 60_000_000},
		{`create source a ("Ts" timestamptz, watermark for "Ts" as "Ts")`, 0, 0},
	} {
		st, err := p.Plan(tc.sql, nil)
		require.NoError(t, err, tc.sql)
		rel := st.(*planner.CreateRelation).Rel
		require.Equal(t, &catalog.Watermark{Col: tc.col, Delay: tc.delay}, rel.Watermark, tc.sql)
		require.NotContains(t, strings.ToLower(columnsText(rel)), "watermark")
	}
}

func columnsText(rel *catalog.Relation) string {
	var names []string
	for _, c := range rel.Columns {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}

func TestWindowPlans(t *testing.T) {
	p := eventTimePlanner(t)
	for _, tc := range []struct{ name, sql, explain string }{
		{"tumble, state freed by the watermark",
			"SELECT room, window_start, count(*) AS n FROM TUMBLE(c, ts, INTERVAL '1 minute') GROUP BY room, window_start", `
Project(room, window_start, count(*))
└─ HashAggregate(group=(room, window_start); count)
   └─ Project(room, window_start)
      └─ Tumble(c, ts, 1m0s)
`},
		{"hop", "SELECT window_end, count(*) AS n FROM HOP(c, ts, INTERVAL '10 seconds', INTERVAL '1 minute') h GROUP BY window_end", `
Project(window_end, count(*))
└─ HashAggregate(group=(window_end); count)
   └─ Project(window_end)
      └─ Hop(c, ts, 10s, 1m0s; rows merged by pane)
`},
		{"hop reading its event time: rows not merged",
			"SELECT window_end, max(ts) AS last FROM HOP(c, ts, INTERVAL '10 seconds', INTERVAL '1 minute') h GROUP BY window_end", `
Project(window_end, max(ts))
└─ HashAggregate(group=(window_end); max)
   └─ Project(window_end, ts)
      └─ Hop(c, ts, 10s, 1m0s)
`},
		{"emit on window close", "SELECT room, window_end, count(*) AS n FROM TUMBLE(c, ts, INTERVAL '1 minute') GROUP BY room, window_end EMIT ON WINDOW CLOSE", `
EmitOnWindowClose(window_end)
└─ Project(room, window_end, count(*))
   └─ HashAggregate(group=(room, window_end); count)
      └─ Project(room, window_end)
         └─ Tumble(c, ts, 1m0s)
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cv := planView(t, p, "CREATE MATERIALIZED VIEW v AS "+tc.sql)
			require.Equal(t, strings.TrimPrefix(tc.explain, "\n"), plan.Explain(cv.Plan))
		})
	}
}

// expiryOf returns the expiry of the plan's first aggregate.
func expiryOf(n plan.Node) *plan.Aggregate {
	if a, ok := n.(*plan.Aggregate); ok {
		return a
	}
	for _, c := range n.Children() {
		if a := expiryOf(c); a != nil {
			return a
		}
	}
	return nil
}

func TestWindowExpiry(t *testing.T) {
	p := eventTimePlanner(t)
	for _, tc := range []struct {
		name, sql string
		sources   []string // nil: the aggregate must keep all its state
		offset    int64
	}{
		{"window_start closes at start + size", "SELECT room, window_start, count(*) FROM TUMBLE(c, ts, INTERVAL '1 minute') GROUP BY room, window_start", []string{"c"}, 60_000_000},
		{"window_end closes at itself", "SELECT window_end, count(*) FROM HOP(c, ts, INTERVAL '10 seconds', INTERVAL '1 minute') GROUP BY window_end", []string{"c"}, 0},
		{"a filter keeps it", "SELECT window_end, count(*) FROM TUMBLE(c, ts, INTERVAL '1 minute') WHERE room > 3 GROUP BY window_end", []string{"c"}, 0},
		{"windows of two watermarked sources joined on the window close by both",
			"SELECT a.window_start, count(*) FROM TUMBLE(c, ts, INTERVAL '1 minute') a JOIN TUMBLE(l, ts, INTERVAL '1 minute') b ON a.window_start = b.window_start AND a.room = b.room GROUP BY a.window_start",
			[]string{"c", "l"}, 60_000_000},
		{"not grouped by the window", "SELECT room, count(*) FROM TUMBLE(c, ts, INTERVAL '1 minute') GROUP BY room", nil, 0},
		{"a source without a watermark", "SELECT window_start, count(*) FROM TUMBLE(plain, ts, INTERVAL '1 minute') GROUP BY window_start", nil, 0},
		{"a join with a table can change closed windows", "SELECT r.category, w.window_start, count(*) FROM TUMBLE(c, ts, INTERVAL '1 minute') w JOIN rooms r ON r.room = w.room GROUP BY r.category, w.window_start", nil, 0},
		{"a join not on the window", "SELECT a.window_start, count(*) FROM TUMBLE(c, ts, INTERVAL '1 minute') a JOIN TUMBLE(l, ts, INTERVAL '1 minute') b ON a.room = b.room GROUP BY a.window_start", nil, 0},
		{"UNION ALL of windows closed in every input closes them under all their watermarks",
			"SELECT room, window_start, sum(n) FROM (SELECT room, window_start, count(*) AS n FROM HOP(c, ts, INTERVAL '10 seconds', INTERVAL '1 minute') GROUP BY room, window_start " +
				"UNION ALL SELECT room, window_start, count(*) AS n FROM HOP(l, ts, INTERVAL '10 seconds', INTERVAL '1 minute') GROUP BY room, window_start) u GROUP BY room, window_start",
			[]string{"c", "l"}, 60_000_000},
		{"UNION ALL with an input whose window is not final",
			"SELECT window_start, count(*) FROM (SELECT window_start FROM TUMBLE(c, ts, INTERVAL '1 minute') UNION ALL SELECT ts FROM c) u GROUP BY window_start",
			nil, 0},
		{"a view's closed windows close through it", "SELECT window_start, room, sum(n) FROM c_minutes GROUP BY window_start, room", []string{"c"}, 60_000_000},
		{"and through a view over it", "SELECT window_start, max(n) FROM c_hours GROUP BY window_start", []string{"c"}, 60_000_000},
		{"a view that emits on window close", "SELECT window_end, sum(n) FROM c_closed GROUP BY window_end", []string{"c"}, 0},
		{"a view's column that is not final", "SELECT n, count(*) FROM c_minutes GROUP BY n", nil, 0},
		{"a view over a source without a watermark", "SELECT window_start, sum(n) FROM plain_minutes GROUP BY window_start", nil, 0},
		{"an expression of the window", "SELECT date_trunc('hour', window_start) AS w, count(*) FROM TUMBLE(c, ts, INTERVAL '1 minute') GROUP BY 1", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := expiryOf(planView(t, p, "CREATE MATERIALIZED VIEW v AS "+tc.sql).Plan)
			require.NotNil(t, a)
			if tc.sources == nil {
				require.Nil(t, a.Expiry)
				return
			}
			require.NotNil(t, a.Expiry)
			require.Equal(t, tc.sources, a.Expiry.Sources)
			require.Equal(t, tc.offset, a.Expiry.Offset)
		})
	}
}

func TestWindowErrors(t *testing.T) {
	p := eventTimePlanner(t)
	mv := "CREATE MATERIALIZED VIEW v AS "
	for _, tc := range []struct {
		name, sql string
		code      sqlerr.Code
		msg       string
	}{
		{"unknown watermark column", "CREATE SOURCE a (ts timestamptz, WATERMARK FOR t AS t)", sqlerr.UndefinedColumn, `"t"`},
		{"watermark on a bigint", "CREATE SOURCE a (ts bigint, WATERMARK FOR ts AS ts - INTERVAL '1 second')", sqlerr.DatatypeMismatch, "timestamp"},
		{"watermark ahead of the events", "CREATE SOURCE a (ts timestamptz, WATERMARK FOR ts AS ts + INTERVAL '1 second')", sqlerr.FeatureNotSupported, "ts - INTERVAL"},
		{"watermark delay in months", "CREATE SOURCE a (ts timestamptz, WATERMARK FOR ts AS ts - INTERVAL '1 month')", sqlerr.FeatureNotSupported, "months"},
		{"negative watermark delay", "CREATE SOURCE a (ts timestamptz, WATERMARK FOR ts AS ts - INTERVAL '-1 second')", sqlerr.InvalidParameterValue, "negative"},
		{"two watermarks", "CREATE SOURCE a (ts timestamptz, WATERMARK FOR ts AS ts, WATERMARK FOR ts AS ts)", sqlerr.SyntaxError, "only one"},
		{"watermark on a table", "CREATE TABLE a (id int PRIMARY KEY, ts timestamptz, WATERMARK FOR ts AS ts)", sqlerr.SyntaxError, ""},
		{"bad interval", mv + "SELECT window_start FROM TUMBLE(c, ts, INTERVAL 'soon')", sqlerr.InvalidDatetimeFormat, "soon"},
		{"window size not a literal", mv + "SELECT window_start FROM TUMBLE(c, ts, room)", sqlerr.FeatureNotSupported, "interval literal"},
		{"window size in months", mv + "SELECT window_start FROM TUMBLE(c, ts, INTERVAL '1 month')", sqlerr.FeatureNotSupported, "months"},
		{"zero window", mv + "SELECT window_start FROM TUMBLE(c, ts, INTERVAL '0 seconds')", sqlerr.InvalidParameterValue, "positive"},
		{"slide longer than size", mv + "SELECT window_start FROM HOP(c, ts, INTERVAL '2 minutes', INTERVAL '1 minute')", sqlerr.InvalidParameterValue, "slide"},
		{"time column not a timestamp", mv + "SELECT window_start FROM TUMBLE(c, room, INTERVAL '1 minute')", sqlerr.DatatypeMismatch, "timestamp"},
		{"unknown relation", mv + "SELECT window_start FROM TUMBLE(nope, ts, INTERVAL '1 minute')", sqlerr.UndefinedTable, "nope"},
		{"unknown column", mv + "SELECT window_start FROM TUMBLE(c, nope, INTERVAL '1 minute')", sqlerr.UndefinedColumn, "nope"},
		{"wrong arity", mv + "SELECT window_start FROM TUMBLE(c, ts)", sqlerr.UndefinedFunction, "TUMBLE takes"},
		{"session gap not positive", mv + "SELECT window_start, count(*) FROM SESSION(c, ts, INTERVAL '0 seconds') GROUP BY window_start", sqlerr.InvalidParameterValue, "gap"},
		{"emit on window close without a window", mv + "SELECT room, count(*) FROM c GROUP BY room EMIT ON WINDOW CLOSE", sqlerr.FeatureNotSupported, "EMIT ON WINDOW CLOSE"},
		{"emit on window close without a watermark", mv + "SELECT window_end, count(*) FROM TUMBLE(plain, ts, INTERVAL '1 minute') GROUP BY window_end EMIT ON WINDOW CLOSE", sqlerr.FeatureNotSupported, "WATERMARK"},
		{"emit on window close over a table join", mv + "SELECT r.category, w.window_end, count(*) FROM TUMBLE(c, ts, INTERVAL '1 minute') w JOIN rooms r ON r.room = w.room GROUP BY 1, 2 EMIT ON WINDOW CLOSE", sqlerr.FeatureNotSupported, "EMIT ON WINDOW CLOSE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Plan(tc.sql, nil)
			require.Error(t, err, tc.sql)
			require.Equal(t, tc.code, sqlerr.CodeOf(err), "%s: %v", tc.sql, err)
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestSessionPlans(t *testing.T) {
	p := eventTimePlanner(t)
	cv := planView(t, p, "CREATE MATERIALIZED VIEW v AS SELECT room, window_start, window_end, count(*) AS n FROM SESSION(c, ts, INTERVAL '30 seconds') GROUP BY room, window_start, window_end")
	require.Equal(t, `Project(room, window_start, window_end, count(*))
└─ HashAggregate(group=(room, window_start, window_end); count)
   └─ Project(room, window_start, window_end)
      └─ Session(c, ts, 30s; partition=room)
`, plan.Explain(cv.Plan))
	a := expiryOf(cv.Plan)
	require.NotNil(t, a.Expiry, "the session's end closes under the watermark")
	require.Equal(t, 2, a.Expiry.Col)

	// Without a key the whole source is one partition.
	cv = planView(t, p, "CREATE MATERIALIZED VIEW v AS SELECT window_end, count(*) AS n FROM SESSION(c, ts, INTERVAL '30 seconds') WHERE room > 1 GROUP BY window_end EMIT ON WINDOW CLOSE")
	require.Contains(t, plan.Explain(cv.Plan), "Session(c, ts, 30s)")
	require.Contains(t, plan.Explain(cv.Plan), "EmitOnWindowClose(window_end)")

	mv := "CREATE MATERIALIZED VIEW v AS "
	for _, sql := range []string{
		mv + "SELECT room, count(*) FROM SESSION(c, ts, INTERVAL '30 seconds') GROUP BY room",
		mv + "SELECT room, window_start FROM SESSION(c, ts, INTERVAL '30 seconds')",
		mv + "SELECT room + 1, window_start, count(*) FROM SESSION(c, ts, INTERVAL '30 seconds') GROUP BY 1, 2",
	} {
		_, err := p.Plan(sql, nil)
		require.Equal(t, sqlerr.FeatureNotSupported, sqlerr.CodeOf(err), "%s: %v", sql, err)
		require.Contains(t, err.Error(), "SESSION")
	}
}
