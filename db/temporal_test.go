package db_test

import (
	"database/sql"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
)

// Temporal filters against DuckDB: the views below use now(); after every step of a fake
// clock (and DB.Advance), each view must equal DuckDB's answer to its SELECT with now()
// replaced by the clock's time, over the same rows.

// fakeClock is a clock tests move by hand.
type fakeClock struct{ us atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.us.Store(t.UnixMicro())
	return c
}

func (c *fakeClock) Now() time.Time      { return time.UnixMicro(c.us.Load()).UTC() }
func (c *fakeClock) Add(d time.Duration) { c.us.Add(d.Microseconds()) }
func (c *fakeClock) literal() string {
	return "TIMESTAMP '" + c.Now().Format("2006-01-02 15:04:05.999999") + "'"
}
func (c *fakeClock) at(d time.Duration) string {
	return c.Now().Add(d).Format("'2006-01-02 15:04:05.999999'")
}

var temporalSchema = []string{
	`CREATE TABLE sessions (user_id bigint PRIMARY KEY, room_id integer, ends timestamp)`,
}

var temporalViews = map[string]string{
	"online":  `SELECT room_id, count(DISTINCT user_id) AS viewers FROM heartbeats WHERE ts > now() - INTERVAL '1 minute' GROUP BY room_id`,
	"recent":  `SELECT room_id, user_id, ts FROM heartbeats WHERE ts > now() - INTERVAL '30 seconds' AND room_id < 3`,
	"between": `SELECT user_id, ts FROM heartbeats WHERE ts BETWEEN now() - INTERVAL '2 minutes' AND now()`,
	"flipped": `SELECT room_id, count(*) AS n FROM heartbeats WHERE now() - INTERVAL '90 seconds' <= ts AND ts < CURRENT_TIMESTAMP + INTERVAL '5 seconds' GROUP BY room_id`,
	"total":   `SELECT count(*) AS n, max(ts) AS last FROM heartbeats WHERE ts >= now() - INTERVAL '40 seconds'`,
	"live":    `SELECT room_id, count(*) AS n FROM sessions WHERE ends > now() GROUP BY room_id`,
	"joined":  `SELECT s.room_id, count(*) AS n FROM heartbeats h JOIN sessions s ON h.user_id = s.user_id WHERE h.ts >= now() - INTERVAL '45 seconds' GROUP BY s.room_id`,
}

// oracleSQL is q with now() and CURRENT_TIMESTAMP replaced by the clock's time.
func oracleSQL(q string, c *fakeClock) string {
	return strings.NewReplacer("now()", c.literal(), "CURRENT_TIMESTAMP", c.literal()).Replace(q)
}

type temporalHarness struct {
	t      *testing.T
	d      *db.DB
	s      *db.Session
	oracle *sql.DB
	clock  *fakeClock
	views  []string
}

func openTemporal(t *testing.T, dir string, clock *fakeClock) (*db.DB, *db.Session) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := db.Open(t.Context(), db.Config{Dir: dir, Clock: clock.Now, TickInterval: -1}, logger)
	require.NoError(t, err)
	return d, d.NewSession(nil)
}

func newTemporalHarness(t *testing.T, dir string) *temporalHarness {
	h := &temporalHarness{t: t, clock: newFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))}
	h.d, h.s = openTemporal(t, dir, h.clock)
	t.Cleanup(func() { h.d.Close() })
	var err error
	h.oracle, err = sql.Open("duckdb", "")
	require.NoError(t, err)
	t.Cleanup(func() { h.oracle.Close() })
	h.oracle.SetMaxOpenConns(1)
	weirExec(t, h.s, `CREATE SOURCE heartbeats (room_id integer, user_id bigint, ts timestamp)`)
	h.duck(`CREATE TABLE heartbeats (room_id integer, user_id bigint, ts timestamp)`)
	for _, q := range temporalSchema {
		h.both(q)
	}
	return h
}

func (h *temporalHarness) duck(q string) {
	h.t.Helper()
	_, err := h.oracle.ExecContext(h.t.Context(), q)
	require.NoError(h.t, err, q)
}

func (h *temporalHarness) both(q string) {
	h.t.Helper()
	weirExec(h.t, h.s, q)
	h.duck(q)
}

func (h *temporalHarness) createView(name string) {
	h.t.Helper()
	weirExec(h.t, h.s, "CREATE MATERIALIZED VIEW "+name+" AS "+temporalViews[name])
	h.views = append(h.views, name)
}

// check compares every view with DuckDB at the clock's time. It returns the views'
// contents.
func (h *temporalHarness) check(step string) map[string][]string {
	h.t.Helper()
	out := map[string][]string{}
	for _, n := range h.views {
		want := duckRows(h.t, h.oracle, oracleSQL(temporalViews[n], h.clock))
		got := weirRows(h.t, h.s, "SELECT * FROM "+n)
		require.Equal(h.t, want, got, "%s, clock %s: view %s", step, h.clock.Now(), n)
		out[n] = got
	}
	return out
}

func (h *temporalHarness) advance(d time.Duration) {
	h.t.Helper()
	h.clock.Add(d)
	require.NoError(h.t, h.d.Advance(h.t.Context()))
}

func TestTemporalFilterOracle(t *testing.T) {
	h := newTemporalHarness(t, "")
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range temporalViews {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range names[:len(names)/2] {
		h.createView(n)
	}
	rng := rand.New(rand.NewPCG(4, 2))
	moved := map[string]int{} // advances that changed each view, so the test means something
	for step := range 120 {
		if step == 15 {
			// Created later, after the clock moved without a tick: the creation first
			// brings the views to the clock, then backfills from history.
			h.clock.Add(7 * time.Second)
			for _, n := range names[len(names)/2:] {
				h.createView(n)
			}
			h.check(fmt.Sprintf("step %d, after creating views", step))
		}
		for range rng.IntN(3) {
			var rows []string
			for range 1 + rng.IntN(4) {
				// Mostly recent events, some late, some from the near future.
				off := time.Duration(rng.IntN(150)-120) * time.Second
				if rng.IntN(10) == 0 {
					off = time.Duration(rng.IntN(30)) * time.Second
				}
				if rng.IntN(7) == 0 {
					off += time.Duration(rng.IntN(1000)) * time.Millisecond
				}
				ts := h.clock.at(off)
				if rng.IntN(15) == 0 {
					ts = "NULL"
				}
				rows = append(rows, fmt.Sprintf("(%d, %d, %s)", rng.IntN(4), rng.IntN(6), ts))
			}
			h.both("INSERT INTO heartbeats VALUES " + strings.Join(rows, ", "))
		}
		switch rng.IntN(4) {
		case 0:
			until := h.clock.at(time.Duration(rng.IntN(120)-20) * time.Second)
			h.both(fmt.Sprintf("INSERT INTO sessions VALUES (%d, %d, %s) ON CONFLICT (user_id) DO UPDATE SET room_id = excluded.room_id, ends = excluded.ends",
				rng.IntN(6), rng.IntN(4), until))
		case 1:
			// Moves a session's end: retractions of pending, valid and expired rows.
			h.both(fmt.Sprintf("UPDATE sessions SET ends = ends + INTERVAL '%d seconds' WHERE user_id = %d", rng.IntN(60)-30, rng.IntN(6)))
		case 2:
			h.both(fmt.Sprintf("DELETE FROM sessions WHERE user_id = %d", rng.IntN(6)))
		}
		before := h.check(fmt.Sprintf("step %d, after writes", step))

		d := time.Duration(rng.IntN(20_000)) * time.Millisecond
		switch rng.IntN(12) {
		case 0:
			d = 10 * time.Minute // a jump over every bound
		case 1:
			d = 0
		}
		h.advance(d)
		after := h.check(fmt.Sprintf("step %d, after advancing %s", step, d))
		for n, rows := range after {
			if !slices.Equal(rows, before[n]) {
				moved[n]++
			}
		}
	}
	for _, n := range names {
		require.Greater(t, moved[n], 5, "time moved view %s only %d times", n, moved[n])
	}
}

// TestTemporalFilterTicks: an expiry is a tick that subscribers see as ordinary diffs; a
// tick that changes nothing commits nothing.
func TestTemporalFilterTicks(t *testing.T) {
	h := newTemporalHarness(t, "")
	h.createView("between") // valid for ts in [now() - 2 min, now()]
	h.both("INSERT INTO heartbeats VALUES (1, 7, " + h.clock.at(-10*time.Second) + "), (1, 8, " + h.clock.at(5*time.Second) + ")")
	h.check("inserted")
	sub, snap, _, err := h.d.Subscribe("between", 0, 16)
	require.NoError(t, err)
	defer sub.Close()
	require.Equal(t, 1, snap.Rows.Len(), "the event from the future is not in the view yet")

	tick := h.d.Tick()
	h.advance(time.Second)
	require.Equal(t, tick, h.d.Tick(), "a tick that changes nothing is not committed")
	h.check("idle")

	h.advance(4 * time.Second) // the future event's time comes
	require.Equal(t, tick+1, h.d.Tick())
	ch := receive(t, sub)
	require.Equal(t, tick+1, ch.Tick)
	require.Equal(t, []int64{1}, ch.Rows.Weights)
	require.Equal(t, int64(8), ch.Rows.Cols[0].I64[0])
	h.check("entered")

	h.advance(2 * time.Minute) // the first leaves; the second stays until 2 min after its time
	ch = receive(t, sub)
	require.Equal(t, tick+2, ch.Tick)
	require.Equal(t, []int64{-1}, ch.Rows.Weights)
	require.Equal(t, int64(7), ch.Rows.Cols[0].I64[0])
	h.check("left")

	// The operator frees what expired: its state is empty once every row has left.
	h.advance(time.Hour)
	require.Contains(t, strings.Join(weirRows(t, h.s, "EXPLAIN MATERIALIZED VIEW between"), "\n"), "TemporalFilter")
	require.Equal(t, []string{"0"}, weirRows(t, h.s, "SELECT sum(state_rows) FROM weir_operators WHERE operator LIKE 'TemporalFilter%'"))
	h.check("empty")
}

// TestTemporalFilterRestart: a reopened database recomputes its views at the current
// clock.
func TestTemporalFilterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("reopens a database")
	}
	dir := t.TempDir()
	h := newTemporalHarness(t, dir)
	for _, n := range []string{"online", "between", "live"} {
		h.createView(n)
	}
	h.both("INSERT INTO heartbeats VALUES (1, 1, " + h.clock.at(-50*time.Second) + "), (2, 2, " + h.clock.at(-5*time.Second) + "), (2, 3, " + h.clock.at(30*time.Second) + ")")
	h.both("INSERT INTO sessions VALUES (1, 1, " + h.clock.at(20*time.Second) + "), (2, 2, " + h.clock.at(2*time.Minute) + ")")
	h.check("before restart")
	require.NoError(t, h.d.Close())

	h.clock.Add(40 * time.Second) // time passes while the database is down
	h.d, h.s = openTemporal(t, dir, h.clock)
	h.check("after restart")
	h.advance(time.Minute)
	h.check("after restart and a minute")
}

// TestIdleTicker: with a TickInterval the database ticks by itself while a view has a
// temporal filter, and Close stops the ticker.
func TestIdleTicker(t *testing.T) {
	clock := newFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := db.Open(t.Context(), db.Config{Clock: clock.Now, TickInterval: time.Millisecond}, logger)
	require.NoError(t, err)
	s := d.NewSession(nil)
	weirExec(t, s, `CREATE SOURCE heartbeats (room_id integer, user_id bigint, ts timestamp)`)
	weirExec(t, s, "CREATE MATERIALIZED VIEW recent AS "+temporalViews["recent"])
	weirExec(t, s, "INSERT INTO heartbeats VALUES (1, 7, "+clock.at(0)+")")
	sub, snap, _, err := d.Subscribe("recent", 0, 16)
	require.NoError(t, err)
	require.Equal(t, 1, snap.Rows.Len())

	clock.Add(time.Minute) // no Advance: the ticker notices
	require.Equal(t, []int64{-1}, receive(t, sub).Rows.Weights, "the idle ticker expires the row")
	sub.Close()
	require.NoError(t, d.Close()) // returns once the ticker has stopped
}

// receive returns the subscription's next change, failing the test if none comes.
func receive(t *testing.T, sub *db.Subscription) db.Change {
	t.Helper()
	select {
	case ch, ok := <-sub.C:
		require.True(t, ok, "subscription ended: %v", sub.Err())
		return ch
	case <-time.After(30 * time.Second):
		t.Fatal("no change arrived")
	}
	return db.Change{}
}
