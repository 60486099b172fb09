package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
)

// Event time against a batch engine: windowed views over out-of-order input (every
// event within its source's watermark delay) must equal DuckDB's GROUP BY over the same
// events, with windows computed from epoch microseconds, after every tick.

var eventTimeSchema = []string{
	`CREATE SOURCE ev (room_id bigint NOT NULL, user_id bigint, amount integer, ts timestamptz NOT NULL,
		WATERMARK FOR ts AS ts - INTERVAL '10 seconds')`,
	`CREATE SOURCE lk (room_id bigint NOT NULL, ts timestamptz NOT NULL, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')`,
	`CREATE TABLE rooms (room_id bigint PRIMARY KEY, category text)`,
}

var eventTimeSchemaDuck = []string{
	`CREATE TABLE ev (room_id bigint NOT NULL, user_id bigint, amount integer, ts timestamptz NOT NULL)`,
	`CREATE TABLE lk (room_id bigint NOT NULL, ts timestamptz NOT NULL)`,
	`CREATE TABLE rooms (room_id bigint PRIMARY KEY, category text)`,
}

// minute is the start of ts's one-minute window, in µs, for DuckDB.
const minute = `(epoch_us(ts) // 60000000 * 60000000)`

// topTwoPerMinuteDuck is, in DuckDB, the two rooms with the most events in each minute.
const topTwoPerMinuteDuck = `SELECT room_id, make_timestamp(ws), n FROM (
	SELECT room_id, ws, n, row_number() OVER (PARTITION BY ws ORDER BY n DESC, room_id) AS rn
	FROM (SELECT room_id, ` + minute + ` AS ws, count(*) AS n FROM ev GROUP BY ALL) x) y
	WHERE rn <= 2`

var eventTimeViews = []struct{ name, weir, duck string }{
	{"per_minute",
		`SELECT room_id, window_start, window_end, count(*) AS n, count(DISTINCT user_id) AS users, sum(amount) AS total
		 FROM TUMBLE(ev, ts, INTERVAL '1 minute') GROUP BY room_id, window_start, window_end`,
		`SELECT room_id, make_timestamp(` + minute + `), make_timestamp(` + minute + ` + 60000000), count(*), count(DISTINCT user_id), sum(amount)
		 FROM ev GROUP BY ALL`},
	{"hopping",
		`SELECT room_id, window_start, count(*) AS n, max(amount) AS top FROM HOP(ev, ts, INTERVAL '10 seconds', INTERVAL '30 seconds') GROUP BY room_id, window_start`,
		`SELECT room_id, make_timestamp(w), count(*), max(amount) FROM
		   (SELECT room_id, amount, unnest(generate_series(epoch_us(ts) // 10000000 * 10000000 - 20000000, epoch_us(ts) // 10000000 * 10000000, 10000000)) AS w FROM ev)
		 GROUP BY ALL`},
	{"final",
		`SELECT room_id, window_end, count(*) AS n FROM TUMBLE(ev, ts, INTERVAL '1 minute') GROUP BY room_id, window_end EMIT ON WINDOW CLOSE`,
		`SELECT room_id, make_timestamp(e), count(*) FROM (SELECT room_id, ` + minute + ` + 60000000 AS e FROM ev)
		 WHERE e <= (SELECT epoch_us(max(ts)) - 10000000 FROM ev) GROUP BY ALL`},
	{"by_category",
		`SELECT r.category, w.window_start, count(*) AS n FROM TUMBLE(ev, ts, INTERVAL '1 minute') w JOIN rooms r ON w.room_id = r.room_id
		 GROUP BY r.category, w.window_start`,
		`SELECT r.category, make_timestamp(` + minute + `), count(*) FROM ev JOIN rooms r ON ev.room_id = r.room_id GROUP BY ALL`},
	{"top_rooms",
		`SELECT room_id, window_start, n FROM (
		   SELECT room_id, window_start, n, row_number() OVER (PARTITION BY window_start ORDER BY n DESC, room_id) AS rn
		   FROM (SELECT room_id, window_start, count(*) AS n FROM TUMBLE(ev, ts, INTERVAL '1 minute') GROUP BY room_id, window_start) x) y
		 WHERE rn <= 2`,
		topTwoPerMinuteDuck},
	{"stream_join",
		`SELECT c.room_id, c.window_start, count(*) AS pairs FROM TUMBLE(ev, ts, INTERVAL '1 minute') c
		 JOIN TUMBLE(lk, ts, INTERVAL '1 minute') l ON c.room_id = l.room_id AND c.window_start = l.window_start
		 GROUP BY c.room_id, c.window_start`,
		`SELECT c.room_id, make_timestamp(c.ws), count(*) FROM (SELECT room_id, ` + minute + ` AS ws FROM ev) c
		 JOIN (SELECT room_id, ` + minute + ` AS ws FROM lk) l ON c.room_id = l.room_id AND c.ws = l.ws GROUP BY ALL`},
	{"sessions",
		`SELECT room_id, window_start, window_end, count(*) AS n FROM SESSION(ev, ts, INTERVAL '20 seconds') GROUP BY room_id, window_start, window_end`,
		`WITH o AS (SELECT room_id, ts, CASE WHEN epoch_us(ts) - lag(epoch_us(ts)) OVER (PARTITION BY room_id ORDER BY ts) < 20000000 THEN 0 ELSE 1 END AS brk FROM ev),
		      s AS (SELECT room_id, ts, sum(brk) OVER (PARTITION BY room_id ORDER BY ts ROWS UNBOUNDED PRECEDING) AS sid FROM o)
		 SELECT room_id, make_timestamp(min(epoch_us(ts))), make_timestamp(max(epoch_us(ts)) + 20000000), count(*) FROM s GROUP BY room_id, sid`},
	{"sessions_final",
		`SELECT user_id, window_end, count(*) AS n FROM SESSION(ev, ts, INTERVAL '15 seconds') GROUP BY user_id, window_end EMIT ON WINDOW CLOSE`,
		`WITH o AS (SELECT user_id, ts, CASE WHEN epoch_us(ts) - lag(epoch_us(ts)) OVER (PARTITION BY user_id ORDER BY ts) < 15000000 THEN 0 ELSE 1 END AS brk FROM ev),
		      s AS (SELECT user_id, ts, sum(brk) OVER (PARTITION BY user_id ORDER BY ts ROWS UNBOUNDED PRECEDING) AS sid FROM o)
		 SELECT user_id, make_timestamp(max(epoch_us(ts)) + 15000000), count(*) FROM s GROUP BY user_id, sid
		 HAVING max(epoch_us(ts)) + 15000000 <= (SELECT epoch_us(max(ts)) - 10000000 FROM ev)`},
	{"all_events",
		`SELECT room_id, count(*) AS n FROM ev GROUP BY room_id`,
		`SELECT room_id, count(*) FROM ev GROUP BY room_id`},
	// Over a view: per_minute's windows close through it (its rows forgotten by the
	// top-N, and emitted on close).
	{"top_of_view",
		`SELECT room_id, window_start, n FROM (
		   SELECT room_id, window_start, n, row_number() OVER (PARTITION BY window_start ORDER BY n DESC, room_id) AS rn FROM per_minute) y
		 WHERE rn <= 2`,
		topTwoPerMinuteDuck},
	// Over a view that emits on window close: its rows arrive in the tick that closes
	// their window.
	{"sum_of_final",
		`SELECT window_end, sum(n) AS n, count(*) AS rooms FROM final GROUP BY window_end`,
		`SELECT make_timestamp(e), count(*), count(DISTINCT room_id) FROM (SELECT room_id, ` + minute + ` + 60000000 AS e FROM ev)
		 WHERE e <= (SELECT epoch_us(max(ts)) - 10000000 FROM ev) GROUP BY ALL`},
	{"top_of_final",
		`SELECT room_id, window_end, n FROM (
		   SELECT room_id, window_end, n, row_number() OVER (PARTITION BY window_end ORDER BY n DESC, room_id) AS rn FROM final) y
		 WHERE rn <= 1`,
		`SELECT room_id, make_timestamp(e), n FROM (
		   SELECT room_id, e, n, row_number() OVER (PARTITION BY e ORDER BY n DESC, room_id) AS rn
		   FROM (SELECT room_id, e, count(*) AS n FROM (SELECT room_id, ` + minute + ` + 60000000 AS e FROM ev)
		         WHERE e <= (SELECT epoch_us(max(ts)) - 10000000 FROM ev) GROUP BY ALL) x) y
		 WHERE rn <= 1`},
	{"final_of_view",
		`SELECT room_id, window_end, n FROM per_minute WHERE n > 1 EMIT ON WINDOW CLOSE`,
		`SELECT room_id, make_timestamp(e), count(*) FROM (SELECT room_id, ` + minute + ` + 60000000 AS e FROM ev)
		 WHERE e <= (SELECT epoch_us(max(ts)) - 10000000 FROM ev) GROUP BY ALL HAVING count(*) > 1`},
}

func newEventTimeDB(t *testing.T, dir string) (*db.DB, *db.Session) {
	t.Helper()
	d, err := db.Open(context.Background(), db.Config{Dir: dir, TickInterval: -1},
		slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	return d, d.NewSession(nil)
}

func TestEventTimeOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("oracle test runs in the full suite (make test)")
	}
	ctx := context.Background()
	dir := t.TempDir()
	_, s := newEventTimeDB(t, dir)
	oracle, err := sql.Open("duckdb", "")
	require.NoError(t, err)
	defer oracle.Close()
	oracle.SetMaxOpenConns(1)
	_, err = oracle.ExecContext(ctx, `SET TimeZone = 'UTC'`)
	require.NoError(t, err)
	for i, q := range eventTimeSchema {
		weirExec(t, s, q)
		_, err := oracle.ExecContext(ctx, eventTimeSchemaDuck[i])
		require.NoError(t, err)
	}
	both := func(q string) {
		t.Helper()
		weirExec(t, s, q)
		_, err := oracle.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	// Half the views exist from the start; the others are backfilled later.
	for _, v := range eventTimeViews[:len(eventTimeViews)/2] {
		weirExec(t, s, "CREATE MATERIALIZED VIEW "+v.name+" AS "+v.weir)
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 7))
	t.Logf("seed %d", seed)
	clock := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ts := func(delay time.Duration) string {
		return "'" + clock.Add(-delay).Format("2006-01-02 15:04:05.999999") + "+00'"
	}
	check := func(batch int) {
		t.Helper()
		for i, v := range eventTimeViews {
			if batch < 40 && i >= len(eventTimeViews)/2 {
				continue
			}
			got := weirRows(t, s, "SELECT * FROM "+v.name)
			want := duckRows(t, oracle, v.duck)
			require.Equal(t, want, got, "seed %d batch %d view %s", seed, batch, v.name)
		}
	}
	const batches = 120
	for batch := 0; batch < batches; batch++ {
		if batch == 40 {
			for _, v := range eventTimeViews[len(eventTimeViews)/2:] {
				weirExec(t, s, "CREATE MATERIALIZED VIEW "+v.name+" AS "+v.weir)
			}
		}
		clock = clock.Add(time.Duration(500+rng.IntN(3000)) * time.Millisecond)
		var rows []string
		for j := 0; j < 1+rng.IntN(12); j++ {
			room := rng.IntN(5)
			if rng.IntN(3) == 0 {
				room = 0 // a hot room
			}
			// Out of order, but never behind the watermark: less than the 10 s delay.
			delay := time.Duration(rng.IntN(9000)) * time.Millisecond
			rows = append(rows, fmt.Sprintf("(%d, %d, %d, %s)", room, rng.IntN(6), rng.IntN(100), ts(delay)))
		}
		both("INSERT INTO ev VALUES " + strings.Join(rows, ", "))
		if rng.IntN(2) == 0 {
			both(fmt.Sprintf("INSERT INTO lk VALUES (%d, %s)", rng.IntN(5), ts(time.Duration(rng.IntN(4000))*time.Millisecond)))
		}
		if rng.IntN(10) == 0 {
			both(fmt.Sprintf("INSERT INTO rooms VALUES (%d, '%s') ON CONFLICT (room_id) DO UPDATE SET category = excluded.category",
				rng.IntN(5), []string{"music", "games", "talk"}[rng.IntN(3)]))
		}
		check(batch)
	}
	require.Equal(t, []string{"0"}, weirRows(t, s, "SELECT count(*) FROM weir_late_events"), "no event was behind the watermark")

	// A restart recomputes the same views.
	_, s = newEventTimeDB(t, dir)
	check(batches)
}

// lateDB is a source with a 10 s watermark delay and views over it, windowed and not.
func lateDB(t *testing.T, dir string) *db.Session {
	_, s := newEventTimeDB(t, dir)
	return s
}

func TestLateEvents(t *testing.T) {
	dir := t.TempDir()
	s := lateDB(t, dir)
	for _, q := range []string{
		`CREATE SOURCE c (id bigint, ts timestamptz NOT NULL, WATERMARK FOR ts AS ts - INTERVAL '10 seconds')`,
		`CREATE MATERIALIZED VIEW tumble AS SELECT window_start, count(*) AS n, sum(id) AS ids FROM TUMBLE(c, ts, INTERVAL '1 minute') GROUP BY window_start`,
		`CREATE MATERIALIZED VIEW hop AS SELECT window_start, count(*) AS n, sum(id) AS ids FROM HOP(c, ts, INTERVAL '30 seconds', INTERVAL '1 minute') GROUP BY window_start`,
		`CREATE MATERIALIZED VIEW final AS SELECT window_end, count(*) AS n FROM TUMBLE(c, ts, INTERVAL '1 minute') GROUP BY window_end EMIT ON WINDOW CLOSE`,
		`CREATE MATERIALIZED VIEW total AS SELECT count(*) AS n, sum(id) AS ids FROM c`,
	} {
		weirExec(t, s, q)
	}
	at := func(id int, clock string) string { return fmt.Sprintf("(%d, '2026-11-26 00:%s+00')", id, clock) }
	weirExec(t, s, "INSERT INTO c VALUES "+at(1, "00:05")+", "+at(2, "00:30")) // watermark 00:20
	require.Equal(t, []string(nil), weirRows(t, s, "SELECT * FROM final"), "no window has closed")
	weirExec(t, s, "INSERT INTO c VALUES "+at(4, "01:15")) // watermark 01:05: [00:00, 01:00) closes
	require.Equal(t, []string{"2026-11-26T00:01:00Z|2"}, weirRows(t, s, "SELECT * FROM final"))
	// 00:50 is behind the watermark: too late for [00:00, 01:00) in both views, in time for
	// the hopping window [00:30, 01:30), which is still open.
	weirExec(t, s, "INSERT INTO c VALUES "+at(8, "00:50"))
	// 01:00 is behind the watermark too, but its window [01:00, 02:00) is open.
	weirExec(t, s, "INSERT INTO c VALUES "+at(16, "01:00"))

	want := map[string][]string{
		"tumble": {"2026-11-26T00:00:00Z|2|3", "2026-11-26T00:01:00Z|2|20"},
		"hop": {"2026-11-25T23:59:30Z|1|1", "2026-11-26T00:00:00Z|2|3", "2026-11-26T00:00:30Z|4|30",
			"2026-11-26T00:01:00Z|2|20"},
		"final": {"2026-11-26T00:01:00Z|2"},
		"total": {"5|31"},
	}
	checkAll := func(s *db.Session, when string) {
		t.Helper()
		for v, rows := range want {
			require.Equal(t, rows, weirRows(t, s, "SELECT * FROM "+v), "%s: view %s", when, v)
		}
		require.Equal(t, []string{"5"}, weirRows(t, s, "SELECT count(*) FROM c"), "%s: late events stay in the history", when)
		require.Equal(t, []string{
			"c|2026-11-26T00:00:50Z|2026-11-26T00:01:05Z",
			"c|2026-11-26T00:01:00Z|2026-11-26T00:01:05Z",
		}, weirRows(t, s, "SELECT source, event_time, watermark FROM weir_late_events"), when)
		require.Equal(t, []string{"c|2026-11-26T00:01:05Z|2026-11-26T00:01:15Z|2"},
			weirRows(t, s, "SELECT * FROM weir_watermarks"), when)
	}
	checkAll(s, "live")

	// A view created now, and every view after a restart, take late events into exactly
	// the windows they were taken into when they arrived.
	weirExec(t, s, `CREATE MATERIALIZED VIEW tumble2 AS SELECT window_start, count(*) AS n, sum(id) AS ids FROM TUMBLE(c, ts, INTERVAL '1 minute') GROUP BY window_start`)
	require.Equal(t, want["tumble"], weirRows(t, s, "SELECT * FROM tumble2"))
	s = lateDB(t, dir)
	checkAll(s, "after restart")
	require.Equal(t, want["tumble"], weirRows(t, s, "SELECT * FROM tumble2"))
}

// scoredSQL sums two windowed counts of c through a UNION ALL, as room_score_5m does.
const scoredSQL = `SELECT room, window_start, sum(n)::bigint AS score FROM (
	SELECT room, window_start, count(*) AS n FROM HOP(c, ts, INTERVAL '10 seconds', INTERVAL '1 minute') GROUP BY room, window_start
	UNION ALL
	SELECT room, window_start, 2 * count(*) AS n FROM HOP(c, ts, INTERVAL '10 seconds', INTERVAL '1 minute') GROUP BY room, window_start) u
	GROUP BY room, window_start`

func TestEventTimeStateStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("30 minutes of event time")
	}
	_, s := newEventTimeDB(t, "")
	for _, q := range []string{
		`CREATE SOURCE c (room bigint, user_id bigint, ts timestamptz NOT NULL, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')`,
		`CREATE MATERIALIZED VIEW per_minute AS SELECT room, window_start, count(*) AS n, count(DISTINCT user_id) AS users, max(user_id) AS top FROM TUMBLE(c, ts, INTERVAL '1 minute') GROUP BY room, window_start`,
		`CREATE MATERIALIZED VIEW trending AS SELECT room, window_end, count(*) AS n FROM HOP(c, ts, INTERVAL '10 seconds', INTERVAL '1 minute') GROUP BY room, window_end`,
		`CREATE MATERIALIZED VIEW final AS SELECT room, window_end, count(*) AS n FROM TUMBLE(c, ts, INTERVAL '1 minute') GROUP BY room, window_end EMIT ON WINDOW CLOSE`,
		`CREATE MATERIALIZED VIEW pairs AS SELECT a.room, a.window_start, count(*) AS n FROM TUMBLE(c, ts, INTERVAL '10 seconds') a
		   JOIN TUMBLE(c, ts, INTERVAL '10 seconds') b ON a.room = b.room AND a.window_start = b.window_start AND a.user_id < b.user_id
		 GROUP BY a.room, a.window_start`,
		`CREATE MATERIALIZED VIEW top_rooms AS SELECT room, window_start, n FROM (
		   SELECT room, window_start, n, row_number() OVER (PARTITION BY window_start ORDER BY n DESC, room) AS rn
		   FROM (SELECT room, window_start, count(*) AS n FROM HOP(c, ts, INTERVAL '10 seconds', INTERVAL '1 minute') GROUP BY room, window_start) x) y
		 WHERE rn <= 3`,
		// As the live-room pack's room_score_5m and trending_rooms: an aggregate over a
		// UNION ALL of windowed aggregates, and a top-N per window over that view.
		`CREATE MATERIALIZED VIEW scored AS ` + scoredSQL,
		`CREATE MATERIALIZED VIEW top_scored AS SELECT window_start, room, score FROM (
		   SELECT window_start, room, score, row_number() OVER (PARTITION BY window_start ORDER BY score DESC, room) AS rn FROM scored) y
		 WHERE rn <= 3`,
	} {
		weirExec(t, s, q)
	}
	start := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	state := func() int64 {
		rows := weirRows(t, s, "SELECT coalesce(sum(state_rows), 0) FROM weir_operators")
		var n int64
		fmt.Sscan(rows[0], &n)
		return n
	}
	// 30 minutes of event time, 20 events a second in 2-second ticks, 10 rooms, 50 users.
	var samples []int64
	for sec := 0; sec < 30*60; sec += 2 {
		var rows []string
		for j := 0; j < 40; j++ {
			ts := start.Add(time.Duration(sec)*time.Second + time.Duration(j*50)*time.Millisecond)
			rows = append(rows, fmt.Sprintf("(%d, %d, '%s')", j%10, (sec*40+j)%50, ts.Format(time.RFC3339Nano)))
		}
		weirExec(t, s, "INSERT INTO c VALUES "+strings.Join(rows, ", "))
		if sec%(5*60) == 4*60 {
			samples = append(samples, state())
		}
	}
	t.Logf("operator state rows at minutes 4, 9, …, 29: %v", samples)
	for _, n := range samples[1:] {
		require.InDelta(t, samples[0], n, float64(samples[0])/5, "state must stay flat, not grow with events: %v", samples)
	}
	require.Equal(t, []string{"300"}, weirRows(t, s, "SELECT count(*) FROM per_minute"), "the output keeps every window")
	// Every event is in 6 windows, counted once and twice: 36,000 events score 648,000.
	require.Equal(t, []string{"1850|648000"}, weirRows(t, s, "SELECT count(*), sum(score) FROM scored"), "the output keeps every window")
	require.Equal(t, []string{"555"}, weirRows(t, s, "SELECT count(*) FROM top_scored"))
}
