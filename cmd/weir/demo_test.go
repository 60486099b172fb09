package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/livegen"
	"github.com/weirdb/weir/queries"
)

// The live-room pack against a batch engine: every view of queries/ must equal
// DuckDB's answer to the same question, asked in plain batch SQL over the same events
// (windows computed from epoch microseconds, now() replaced by the test clock's time).

// Window starts in µs for DuckDB.
const (
	tenSeconds = `(epoch_us(ts) // 10000000 * 10000000)`
	oneMinute  = `(epoch_us(ts) // 60000000 * 60000000)`
	oneHour    = `(epoch_us(ts) // 3600000000 * 3600000000)`
	// hop5m is every 5-minute window sliding by 10 s that holds ts.
	hop5m = `unnest(generate_series(` + tenSeconds + ` - 290000000, ` + tenSeconds + `, 10000000))`
)

// scores is room_score_5m's question: the interaction score per room and window.
const scores = `SELECT room_id, ws, sum(score) AS score FROM (
	SELECT room_id, ` + hop5m + ` AS ws, 2 AS score FROM comments
	UNION ALL SELECT room_id, ` + hop5m + `, 1 FROM likes
	UNION ALL SELECT room_id, ` + hop5m + `, 10 FROM gifts) GROUP BY room_id, ws`

const activity = `SELECT room_id, user_id, ts FROM viewer_events WHERE action = 'enter'
	UNION ALL SELECT room_id, user_id, ts FROM comments
	UNION ALL SELECT room_id, user_id, ts FROM likes
	UNION ALL SELECT room_id, user_id, ts FROM gifts`

// packOracle answers each view's question in DuckDB; NOW stands for the clock's time.
var packOracle = map[string]string{
	"room_activity": `SELECT room_id, count(*), count(DISTINCT user_id) FROM comments GROUP BY room_id`,
	"room_minute": `SELECT room_id, make_timestamp(w), make_timestamp(w + 60000000), sum(c), sum(l) FROM (
		SELECT room_id, ` + oneMinute + ` AS w, 1 AS c, 0 AS l FROM comments
		UNION ALL SELECT room_id, ` + oneMinute + `, 0, 1 FROM likes) GROUP BY room_id, w`,
	"comment_floods": `SELECT user_id, make_timestamp(w), make_timestamp(w + 10000000), count(*), count(DISTINCT room_id)
		FROM (SELECT user_id, room_id, ` + tenSeconds + ` AS w FROM comments) GROUP BY user_id, w HAVING count(*) > 20`,
	"room_score_5m": `SELECT room_id, make_timestamp(ws), make_timestamp(ws + 300000000), score FROM (` + scores + `)`,
	"trending_rooms": `SELECT make_timestamp(ws), make_timestamp(ws + 300000000), rn, room_id, score FROM (
		SELECT ws, room_id, score, row_number() OVER (PARTITION BY ws ORDER BY score DESC, room_id) AS rn FROM (` + scores + `))
		WHERE rn <= 10`,
	"top_gifters": `SELECT room_id, rn, user_id, name, coins FROM (
		SELECT g.room_id, g.user_id, u.name, g.coins, row_number() OVER (PARTITION BY g.room_id ORDER BY g.coins DESC, g.user_id) AS rn
		FROM (SELECT room_id, user_id, sum(price * "count") AS coins FROM gifts GROUP BY room_id, user_id) g
		JOIN users u ON u.user_id = g.user_id) WHERE rn <= 3`,
	"anchor_revenue_hourly": `SELECT r.anchor_id, a.name, make_timestamp(w), make_timestamp(w + 3600000000),
		sum(g.price * g."count"), count(*), count(DISTINCT g.user_id)
		FROM (SELECT *, ` + oneHour + ` AS w FROM gifts) g JOIN rooms r ON r.room_id = g.room_id JOIN anchors a ON a.anchor_id = r.anchor_id
		GROUP BY r.anchor_id, a.name, w`,
	"category_leaderboard": `SELECT r.category, sum(g.price * g."count"), count(DISTINCT g.user_id), count(DISTINCT g.room_id)
		FROM gifts g JOIN rooms r ON r.room_id = g.room_id GROUP BY r.category`,
	"concurrent_viewers": `SELECT room_id, sum(CASE WHEN action = 'enter' THEN 1 ELSE -1 END) FROM viewer_events GROUP BY room_id`,
	"active_viewers": `SELECT room_id, count(DISTINCT user_id) FROM (` + activity + `)
		WHERE ts > NOW - INTERVAL 1 MINUTE GROUP BY room_id`,
	"anchor_followers_hourly": `SELECT f.anchor_id, a.name, make_timestamp(w), make_timestamp(w + 3600000000), count(DISTINCT f.user_id)
		FROM (SELECT *, ` + oneHour + ` AS w FROM follows) f JOIN anchors a ON a.anchor_id = f.anchor_id GROUP BY f.anchor_id, a.name, w`,
}

// testClock is a clock the test moves by hand.
type testClock struct{ us atomic.Int64 }

func (c *testClock) Now() time.Time { return time.UnixMicro(c.us.Load()).UTC() }
func (c *testClock) set(t time.Time) {
	if us := t.UnixMicro(); us > c.us.Load() {
		c.us.Store(us)
	}
}

// TestPackOracle applies the pack, runs the generator deterministically (out-of-order
// events within the watermark delay, none late) and, every 15 s of event time, checks
// every view against DuckDB. It also checks that every view has rows and changes, and
// that the demo's printed queries run.
func TestPackOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("oracle test runs in the full suite (make test)")
	}
	ctx := t.Context()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := time.Date(2026, 3, 1, 20, 59, 0, 0, time.UTC) // the hourly windows roll over
	clock := &testClock{}
	clock.set(start)
	d, err := db.Open(ctx, db.Config{Dir: t.TempDir(), Clock: clock.Now, TickInterval: -1}, logger)
	require.NoError(t, err)
	defer d.Close()
	require.NoError(t, applyDB(ctx, d, queries.Files, io.Discard, logger))
	s := d.NewSession(nil)
	defer s.Close()

	views := d.Catalog().List(catalog.View)
	var names []string
	for _, v := range views {
		names = append(names, v.Name)
	}
	require.ElementsMatch(t, names, mapKeys(packOracle), "every view of the pack has an oracle, and no other")
	checkSchemas(t, d)

	oracle, err := sql.Open("duckdb", "")
	require.NoError(t, err)
	defer oracle.Close()
	oracle.SetMaxOpenConns(1)
	duck := func(q string, args ...any) {
		t.Helper()
		_, err := oracle.ExecContext(ctx, q, args...)
		require.NoError(t, err, q)
	}
	duck(`SET TimeZone = 'UTC'`)
	for _, sc := range append(livegen.Tables(), livegen.Sources()...) {
		var cols []string
		for _, c := range sc.Columns {
			cols = append(cols, fmt.Sprintf("%q %s", c.Name, c.Type))
		}
		duck(fmt.Sprintf("CREATE TABLE %s (%s)", sc.Name, strings.Join(cols, ", ")))
	}
	duckInsert := func(sc livegen.Schema, rows [][]any) {
		t.Helper()
		for i := 0; i < len(rows); i += 200 {
			chunk := rows[i:min(i+200, len(rows))]
			marks := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(sc.Columns)), ", ") + ")"
			var args []any
			for _, r := range chunk {
				args = append(args, r...)
			}
			duck("INSERT INTO "+sc.Name+" VALUES "+strings.TrimSuffix(strings.Repeat(marks+", ", len(chunk)), ", "), args...)
		}
	}

	cfg := livegen.Config{
		Seed: 7, Start: start, Rate: 60, Rooms: 25, Users: 400, Skew: 1.1, HotRooms: 2,
		OutOfOrder: 0.2, Lateness: 3 * time.Second, WatermarkDelay: 5 * time.Second,
	}
	g, err := livegen.New(cfg)
	require.NoError(t, err)
	sink := newDBSink(d)
	defer sink.close()
	for _, tr := range g.Tables() {
		require.NoError(t, sink.Upsert(ctx, tr.Schema, tr.Rows))
		duckInsert(tr.Schema, tr.Rows)
	}

	check := func(at string) map[string][]string {
		t.Helper()
		now := "TIMESTAMPTZ '" + clock.Now().Format("2006-01-02 15:04:05.999999") + "+00'"
		out := map[string][]string{}
		for _, name := range names {
			want := duckRows(t, oracle, strings.ReplaceAll(packOracle[name], "NOW", now))
			got := query(t, s, "SELECT * FROM "+name)
			require.Equal(t, want, got, "%s: view %s", at, name)
			out[name] = got
		}
		return out
	}

	const seconds = 75
	sources := livegen.Sources()
	events := 0
	var last map[string][]string
	changed := map[string]bool{}
	for sec := 1; sec <= seconds; sec++ {
		until := start.Add(time.Duration(sec) * time.Second)
		rows := map[string][][]any{}
		for g.Now().Before(until) {
			ev := g.Next()
			rows[ev.Source] = append(rows[ev.Source], ev.Row)
			events++
		}
		clock.set(g.Now())
		for _, sc := range sources {
			if len(rows[sc.Name]) > 0 {
				require.NoError(t, sink.Append(ctx, sc, rows[sc.Name]))
				duckInsert(sc, rows[sc.Name])
			}
		}
		if sec%15 == 0 {
			require.NoError(t, d.Advance(ctx))
			cur := check(fmt.Sprintf("after %d s of event time", sec))
			for name, rows := range cur {
				if last != nil && !slices.Equal(rows, last[name]) {
					changed[name] = true
				}
			}
			last = cur
		}
	}
	t.Logf("%d events", events)
	require.Greater(t, events, 4000)
	require.Equal(t, []string{"0"}, query(t, s, "SELECT count(*) FROM weir_late_events"), "no event was late")
	for _, name := range names {
		require.NotEmpty(t, last[name], "view %s has rows", name)
		require.True(t, changed[name], "view %s changed while traffic flowed", name)
	}
	// Time passing alone empties the last-minute view, as a batch query would.
	clock.set(g.Now().Add(2 * time.Minute))
	require.NoError(t, d.Advance(ctx))
	require.Empty(t, check("two minutes later")["active_viewers"])

	for _, q := range demoQueries {
		query(t, s, strings.TrimSuffix(q, ";"))
	}
}

// checkSchemas: the generator writes the columns the pack declares.
func checkSchemas(t *testing.T, d *db.DB) {
	t.Helper()
	for _, sc := range append(livegen.Tables(), livegen.Sources()...) {
		rel, err := d.Catalog().Get(sc.Name)
		require.NoError(t, err)
		var got []livegen.Column
		for _, c := range rel.Columns {
			typ := c.Type.String()
			if c.Type == catalog.Timestamptz {
				typ = "timestamptz"
			}
			got = append(got, livegen.Column{Name: c.Name, Type: typ})
		}
		require.Equal(t, sc.Columns, got, sc.Name)
	}
}

func mapKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func query(t *testing.T, s *db.Session, q string) []string {
	t.Helper()
	p, err := s.Prepare(context.Background(), q, nil)
	require.NoError(t, err, q)
	rows, err := p.Execute(context.Background(), nil)
	require.NoError(t, err, q)
	defer rows.Close()
	dst := make([]any, len(rows.Columns()))
	var out []string
	for rows.Next(dst) {
		out = append(out, canonRow(dst))
	}
	require.NoError(t, rows.Err())
	sort.Strings(out)
	return out
}

func duckRows(t *testing.T, oracle *sql.DB, q string) []string {
	t.Helper()
	rows, err := oracle.Query(q)
	require.NoError(t, err, q)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		out = append(out, canonRow(vals))
	}
	require.NoError(t, rows.Err())
	sort.Strings(out)
	return out
}

// canonRow renders values so both engines' forms of one value agree: integers of any
// width as decimals, floats to 9 significant digits, times in UTC.
func canonRow(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
			parts[i] = "NULL"
		case float64:
			if x == math.Trunc(x) && math.Abs(x) < 1e15 {
				parts[i] = strconv.FormatInt(int64(x), 10)
			} else {
				parts[i] = strconv.FormatFloat(x, 'g', 9, 64)
			}
		case *big.Int:
			parts[i] = x.String()
		case int32:
			parts[i] = strconv.FormatInt(int64(x), 10)
		case time.Time:
			parts[i] = x.UTC().Format(time.RFC3339Nano)
		default:
			parts[i] = fmt.Sprint(x)
		}
	}
	return strings.Join(parts, "|")
}

// TestDemoRestart runs `weir demo` twice on one data directory: the first run prints
// how to connect and fills the views; the second recovers the data, finds the pack
// unchanged (nothing is re-created) and carries on.
func TestDemoRestart(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	args := []string{"--data", dir, "--pg", "127.0.0.1:0", "--http", "127.0.0.1:0",
		"--duration", "1500ms", "--rate", "400", "--rooms", "20", "--users", "500"}
	var out bytes.Buffer
	require.NoError(t, demo(args, &out, logger))
	require.Regexp(t, `psql -h 127\.0\.0\.1 -p \d+ -U weir weir`, out.String())
	require.Regexp(t, `dashboard: +http://127\.0\.0\.1:\d+/`, out.String())

	counts := func() (map[string]uint64, int) {
		t.Helper()
		d, err := db.Open(t.Context(), db.Config{Dir: dir}, logger)
		require.NoError(t, err)
		defer d.Close()
		s := d.NewSession(nil)
		defer s.Close()
		n, err := strconv.Atoi(query(t, s, "SELECT count(*) FROM likes")[0])
		require.NoError(t, err)
		for _, v := range []string{"room_activity", "room_minute", "trending_rooms", "top_gifters", "concurrent_viewers", "active_viewers"} {
			require.NotEmpty(t, query(t, s, "SELECT * FROM "+v), v)
		}
		return ids(d), n
	}
	ids1, likes1 := counts()
	require.Positive(t, likes1)

	out.Reset()
	require.NoError(t, demo(args, &out, logger))
	ids2, likes2 := counts()
	require.Equal(t, ids1, ids2, "the pack was re-applied without re-creating anything")
	require.Greater(t, likes2, likes1, "the second run added to the first run's data")
}
