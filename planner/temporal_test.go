package planner_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/planner/plan"
)

// TestTemporalFilterForms: the comparisons of a row expression with now() ± c that
// become bounds on time, in every spelling, and where the TemporalFilter goes.
func TestTemporalFilterForms(t *testing.T) {
	tests := []struct {
		name     string
		sql      string // the SELECT of CREATE MATERIALIZED VIEW v AS …
		temporal string // the TemporalFilter node
		explain  string // if set, the whole plan
	}{
		{name: "row time not after now", sql: "SELECT id FROM events WHERE ts <= now()",
			temporal: "TemporalFilter(ts <= now())"},
		{name: "flipped", sql: "SELECT id FROM events WHERE now() < ts",
			temporal: "TemporalFilter(ts > now())"},
		{name: "CURRENT_TIMESTAMP", sql: "SELECT id FROM events WHERE CURRENT_TIMESTAMP >= ts",
			temporal: "TemporalFilter(ts <= now())"},
		{name: "LOCALTIMESTAMP and transaction_timestamp()", sql: "SELECT id FROM events WHERE ts < LOCALTIMESTAMP AND transaction_timestamp() <= ts",
			temporal: "TemporalFilter(ts < now() AND ts >= now())"},
		{name: "now() BETWEEN two row times", sql: "SELECT id FROM events WHERE now() BETWEEN day AND ts",
			temporal: "TemporalFilter(day::timestamp with time zone <= now() AND ts >= now())"},
		{name: "BETWEEN with one bound on time", sql: "SELECT id FROM events WHERE ts BETWEEN now() AND '2030-01-01'",
			explain: `
Project(id)
└─ TemporalFilter(ts >= now())
   └─ Filter((ts <= 2030-01-01 00:00:00))
      └─ Scan(events)`},
		{name: "the rest of the WHERE filters below", sql: "SELECT id FROM events WHERE amount > 10 AND ts > now() AND room = 1",
			explain: `
Project(id)
└─ TemporalFilter(ts > now())
   └─ Filter(((amount > 10) AND (room = 1)))
      └─ Scan(events)`},
		{name: "above a join", sql: "SELECT e.id FROM events e JOIN rooms r ON e.room = r.room WHERE e.ts > now()",
			explain: `
Project(e.id)
└─ TemporalFilter(e.ts > now())
   └─ InnerJoin(room = room)
      ├─ Scan(events AS e)
      └─ Scan(rooms AS r)`},
		{name: "comma join: the other conjuncts still join", sql: "SELECT e.id FROM events e, rooms r WHERE e.room = r.room AND now() < e.ts",
			explain: `
Project(e.id)
└─ TemporalFilter(e.ts > now())
   └─ InnerJoin(room = room)
      ├─ Scan(events AS e)
      └─ Scan(rooms AS r)`},
		{name: "in a subquery in FROM", sql: "SELECT count(*) FROM (SELECT id FROM events WHERE ts > now()) s",
			temporal: "TemporalFilter(ts > now())"},
		{name: "grouped", sql: "SELECT room, count(DISTINCT id) FROM events WHERE ts > now() GROUP BY room",
			temporal: "TemporalFilter(ts > now())"},
	}
	_, p := newPlanner(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cv := planView(t, p, "CREATE MATERIALIZED VIEW v AS "+tc.sql)
			if tc.explain != "" {
				require.Equal(t, strings.TrimSpace(tc.explain), strings.TrimSpace(plan.Explain(cv.Plan)))
			}
			tf, ok := findNode[*plan.TemporalFilter](cv.Plan)
			require.True(t, ok, plan.Explain(cv.Plan))
			if tc.temporal != "" {
				require.Equal(t, tc.temporal, tf.String())
			}
			df, keys, err := planner.LowerKeyed(cv.Plan)
			require.NoError(t, err)
			require.Contains(t, df.Explain(), "TemporalFilter(")
			require.Contains(t, strings.Join(keys, "\n"), "temporal(")
		})
	}
}

// TestTemporalFilterIntervals: now() ± an interval; the bound is the row's time ∓ the
// interval.
func TestTemporalFilterIntervals(t *testing.T) {
	tests := []struct {
		name, sql, temporal string
	}{
		{"the last five minutes", "SELECT id FROM events WHERE ts > now() - INTERVAL '5 minutes'",
			"TemporalFilter((ts + 00:05:00) > now())"},
		{"flipped, inclusive", "SELECT id FROM events WHERE now() - INTERVAL '1 minute' <= ts",
			"TemporalFilter((ts + 00:01:00) >= now())"},
		{"BETWEEN", "SELECT id FROM events WHERE ts BETWEEN now() - INTERVAL '2 minutes' AND now()",
			"TemporalFilter((ts + 00:02:00) >= now() AND ts <= now())"},
		{"now() plus an interval", "SELECT id FROM events WHERE ts < now() + INTERVAL '10 seconds'",
			"TemporalFilter((ts - 00:00:10) < now())"},
		{"interval plus now()", "SELECT id FROM events WHERE INTERVAL '1 hour' + CURRENT_TIMESTAMP > ts",
			"TemporalFilter((ts - 01:00:00) < now())"},
	}
	_, p := newPlanner(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cv := planView(t, p, "CREATE MATERIALIZED VIEW v AS "+tc.sql)
			tf, ok := findNode[*plan.TemporalFilter](cv.Plan)
			require.True(t, ok, plan.Explain(cv.Plan))
			require.Equal(t, tc.temporal, tf.String())
		})
	}
}

// TestTemporalFilterRejected: every other now() in a view fails at CREATE with 0A000,
// pointing at the now().
func TestTemporalFilterRejected(t *testing.T) {
	const mv = "CREATE MATERIALIZED VIEW v AS "
	tests := []struct {
		name, sql, at string
	}{
		{"select list", "SELECT id, now() AS t FROM events", "now()"},
		{"select list, CURRENT_TIMESTAMP", "SELECT CURRENT_TIMESTAMP - ts FROM events", "CURRENT_TIMESTAMP"},
		{"OR", "SELECT id FROM events WHERE ts > now() OR amount > 1", "now()"},
		{"NOT", "SELECT id FROM events WHERE NOT (ts > now())", "now()"},
		{"CASE", "SELECT id FROM events WHERE CASE WHEN ts > now() THEN true ELSE false END", "now()"},
		{"=", "SELECT id FROM events WHERE ts = now()", "now()"},
		{"<>", "SELECT id FROM events WHERE ts <> now()", "now()"},
		{"IS DISTINCT FROM", "SELECT id FROM events WHERE ts IS DISTINCT FROM now()", "now()"},
		{"IS NULL", "SELECT id FROM events WHERE now() IS NOT NULL", "now()"},
		{"IN", "SELECT id FROM events WHERE now() IN (ts, ts)", "now()"},
		{"NOT BETWEEN", "SELECT id FROM events WHERE ts NOT BETWEEN now() AND now()", "now()"},
		{"now() compared with now()", "SELECT id FROM events WHERE now() > now()", "now()"},
		{"now() on both sides", "SELECT id FROM events WHERE ts + (now() - now()) > now()", "now()"},
		{"inside a function", "SELECT id FROM events WHERE ts > coalesce(now(), ts)", "now()"},
		{"inside a cast", "SELECT id FROM events WHERE day > now()::date", "now()"},
		{"HAVING", "SELECT room, count(*) FROM events GROUP BY room HAVING max(ts) > now()", "now()"},
		{"JOIN ON", "SELECT e.id FROM events e JOIN rooms r ON e.room = r.room AND e.ts > now()", "now()"},
		{"GROUP BY", "SELECT count(*) FROM events GROUP BY now()", "now()"},
		{"ORDER BY", "SELECT id FROM events ORDER BY now() LIMIT 3", "now()"},
		{"in a subquery's select list", "SELECT t FROM (SELECT now() AS t FROM events) s", "now()"},
		{"correlated", "SELECT id FROM events e WHERE EXISTS (SELECT 1 FROM other o WHERE o.room = e.room AND e.ts > now())", "now()"},
		{"clock_timestamp", "SELECT id FROM events WHERE ts > clock_timestamp()", "clock_timestamp()"},
	}
	_, p := newPlanner(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sql := mv + tc.sql
			st, err := p.Plan(sql, nil)
			require.Error(t, err, "planned as %T", st)
			e := sqlerr.As(err)
			require.Equal(t, sqlerr.FeatureNotSupported, e.Code, e.Msg)
			require.Equal(t, position(t, sql, tc.at), e.Position, "%s (got %q)", e.Msg, string([]rune(sql)[max(e.Position-1, 0):]))
		})
	}
}

// TestNowOutsideViews: a one-time query still reads the wall clock anywhere.
func TestNowOutsideViews(t *testing.T) {
	_, p := newPlanner(t)
	for _, q := range []string{"SELECT now()", "SELECT id, now() FROM events WHERE ts = now() OR now() IS NULL"} {
		_, err := p.Plan(q, nil)
		require.NoError(t, err, q)
	}
}
