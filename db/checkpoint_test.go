package db_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/delta"
)

// ckptSchema exercises every stateful operator: aggregates of each kind, inner, outer,
// semi and anti joins with a table, top-N per group and over the whole view, a set
// operation, the three window functions (one EMIT ON WINDOW CLOSE), a temporal filter
// and a view on a view.
var ckptSchema = []string{
	`CREATE SOURCE ev (id bigint NOT NULL, room bigint NOT NULL, amt numeric(12,2), body text, ts timestamptz NOT NULL,
		WATERMARK FOR ts AS ts - INTERVAL '5 seconds')`,
	`CREATE TABLE rooms (room bigint PRIMARY KEY, cat text)`,
	`CREATE MATERIALIZED VIEW c_agg AS SELECT room, count(*) AS n, sum(amt) AS s, min(body) AS mn, max(id) AS mx,
		count(DISTINCT body) AS d, avg(amt) AS a, sum(id) AS ids FROM ev GROUP BY room`,
	`CREATE MATERIALIZED VIEW c_join AS SELECT r.cat, count(*) AS n, sum(e.id) AS ids FROM ev e JOIN rooms r ON r.room = e.room GROUP BY r.cat`,
	`CREATE MATERIALIZED VIEW c_left AS SELECT r.room, r.cat, count(e.id) AS n FROM rooms r LEFT JOIN ev e ON e.room = r.room GROUP BY r.room, r.cat`,
	`CREATE MATERIALIZED VIEW c_top AS SELECT room, id, amt FROM
		(SELECT room, id, amt, row_number() OVER (PARTITION BY room ORDER BY amt DESC, id) AS rn FROM ev) t WHERE rn <= 2`,
	`CREATE MATERIALIZED VIEW c_semi AS SELECT room, cat FROM rooms r WHERE EXISTS (SELECT 1 FROM ev e WHERE e.room = r.room AND e.amt > 50)`,
	`CREATE MATERIALIZED VIEW c_anti AS SELECT room FROM rooms WHERE room NOT IN (SELECT room FROM ev WHERE body = 'b')`,
	`CREATE MATERIALIZED VIEW c_set AS SELECT room FROM ev WHERE amt > 10 EXCEPT SELECT room FROM rooms`,
	`CREATE MATERIALIZED VIEW c_tumble AS SELECT room, window_start, count(*) AS n FROM TUMBLE(ev, ts, INTERVAL '10 seconds')
		GROUP BY room, window_start EMIT ON WINDOW CLOSE`,
	`CREATE MATERIALIZED VIEW c_hop AS SELECT window_start, window_end, sum(id) AS ids FROM HOP(ev, ts, INTERVAL '5 seconds', INTERVAL '15 seconds')
		GROUP BY window_start, window_end`,
	`CREATE MATERIALIZED VIEW c_sess AS SELECT room, window_start, window_end, count(*) AS n FROM SESSION(ev, ts, INTERVAL '3 seconds')
		GROUP BY room, window_start, window_end`,
	`CREATE MATERIALIZED VIEW c_recent AS SELECT room, count(*) AS n FROM ev WHERE ts > now() - INTERVAL '40 seconds' GROUP BY room`,
	`CREATE MATERIALIZED VIEW c_limit AS SELECT id, amt FROM ev ORDER BY amt DESC, id LIMIT 5`,
	`CREATE MATERIALIZED VIEW c_onview AS SELECT count(*) AS rooms, sum(n) AS n FROM c_agg`,
}

var ckptViews = []string{"c_agg", "c_join", "c_left", "c_top", "c_semi", "c_anti", "c_set", "c_tumble", "c_hop", "c_sess", "c_recent", "c_limit", "c_onview"}

// ckptWorkload is a deterministic stream of writes: event batches (some out of order,
// some late) and table changes.
type ckptWorkload struct {
	rng  *rand.Rand
	id   int64
	base time.Time
}

func (w *ckptWorkload) apply(t *testing.T, dbs []*db.DB, sessions []*db.Session, batches int) {
	t.Helper()
	for range batches {
		if w.rng.IntN(6) == 0 {
			room := w.rng.IntN(8)
			q := fmt.Sprintf(`INSERT INTO rooms VALUES (%d, 'cat%d') ON CONFLICT (room) DO UPDATE SET cat = excluded.cat`, room, w.rng.IntN(3))
			if w.rng.IntN(3) == 0 {
				q = fmt.Sprintf(`DELETE FROM rooms WHERE room = %d`, room)
			}
			for _, s := range sessions {
				weirExec(t, s, q)
			}
			continue
		}
		var rows [][]delta.Value
		for range 1 + w.rng.IntN(20) {
			w.id++
			// Event time advances with the ids; one in ten is up to 12 s behind (late when
			// past the 5 s delay).
			ts := w.base.Add(time.Duration(w.id) * 200 * time.Millisecond)
			if w.rng.IntN(10) == 0 {
				ts = ts.Add(-time.Duration(w.rng.IntN(12000)) * time.Millisecond)
			}
			amt := delta.Null(delta.KindNumeric)
			if w.rng.IntN(8) != 0 {
				amt = delta.Numeric(fmt.Sprintf("%d.%02d", w.rng.IntN(100), w.rng.IntN(100)))
			}
			body := delta.Null(delta.KindString)
			if w.rng.IntN(6) != 0 {
				body = delta.Str(string(rune('a' + w.rng.IntN(4))))
			}
			rows = append(rows, []delta.Value{delta.Int(w.id), delta.Int(int64(w.rng.IntN(8))), amt, body, delta.Int(ts.UnixMicro())})
		}
		for _, d := range dbs {
			require.NoError(t, d.Ingest(context.Background(), "ev", rows))
		}
	}
}

func requireSameViews(t *testing.T, want, got *db.Session, when string) {
	t.Helper()
	for _, v := range ckptViews {
		q := "SELECT * FROM " + v
		require.Equal(t, weirRows(t, want, q), weirRows(t, got, q), "%s: view %s", when, v)
	}
	// The store's history, tables and event-time state: recovery writes nothing twice,
	// and judges each replayed event late or on time as the live tick did. (The tick
	// late events name is compared only up to recovery: recovery's own catch-up tick may
	// shift the numbers of later ticks.)
	late := "SELECT * FROM weir_late_events"
	if when != "after recovery" {
		late = "SELECT source, event_time, watermark, event FROM weir_late_events"
	}
	for _, q := range []string{"SELECT count(*), sum(id) FROM ev", "SELECT * FROM rooms", late, "SELECT * FROM weir_watermarks"} {
		require.Equal(t, weirRows(t, want, q), weirRows(t, got, q), "%s: %s", when, q)
	}
}

func openCkpt(t *testing.T, dir string, clock func() time.Time) (*db.DB, *db.Session) {
	t.Helper()
	d, err := db.Open(context.Background(), db.Config{Dir: dir, TickInterval: -1, FlushInterval: time.Hour,
		CheckpointInterval: time.Hour, Clock: clock}, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})))
	require.NoError(t, err)
	return d, d.NewSession(nil)
}

// openCkptPair opens a reference database in memory and a durable one in dir, both with
// ckptSchema.
func openCkptPair(t *testing.T, dir string, clock func() time.Time) (ref *db.DB, rs *db.Session, d *db.DB, s *db.Session) {
	t.Helper()
	ref, err := db.Open(context.Background(), db.Config{TickInterval: -1, Clock: clock}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	rs = ref.NewSession(nil)
	d, s = openCkpt(t, dir, clock)
	for _, q := range ckptSchema {
		weirExec(t, rs, q)
		weirExec(t, s, q)
	}
	return ref, rs, d, s
}

// TestCheckpointRecovery: recovery loads the newest checkpoint and replays the log after
// it (ticks the store already holds, then ticks only the log holds, some of which ran
// while the checkpoint was encoded), and the views equal
// those of a database that never crashed, before and after more writes. Every stateful
// operator is in the schema, so one that saved or loaded its state wrongly shows here.
func TestCheckpointRecovery(t *testing.T) {
	base := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var later atomic.Int64 // moves now() on, so that c_recent counts the events that were ahead of it
	clock := func() time.Time { return base.Add(time.Minute + time.Duration(later.Load())) }
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			dir := t.TempDir()
			ref, rs, d, s := openCkptPair(t, dir, clock)
			defer ref.Close()
			w := &ckptWorkload{rng: rand.New(rand.NewPCG(seed, 7)), base: base}
			both := func(n int) { w.apply(t, []*db.DB{ref, d}, []*db.Session{rs, s}, n) }

			both(30)
			// Ticks run while the checkpoint is encoded: it must hold the state it
			// snapshotted, or the replay of those ticks counts them twice.
			restore := db.SetCheckpointHook(func() { both(15) })
			require.NoError(t, d.Checkpoint(context.Background()))
			restore()
			both(30)
			weirRows(t, s, "SELECT count(*) FROM ev") // a read flushes: the store moves past the checkpoint
			both(30)                                  // only in the log
			d.Crash()

			d, s = openCkpt(t, dir, clock)
			require.NotZero(t, d.Restored(), "recovery must load the checkpoint")
			requireSameViews(t, rs, s, "after recovery")
			later.Store(int64(40 * time.Second))
			both(40)
			requireSameViews(t, rs, s, "after more writes")

			// A clean shutdown checkpoints: the next start replays nothing.
			require.NoError(t, d.Close())
			d, s = openCkpt(t, dir, clock)
			defer d.Close()
			require.NotZero(t, d.Restored())
			requireSameViews(t, rs, s, "after a clean restart")
			both(20)
			requireSameViews(t, rs, s, "after a clean restart and more writes")
		})
	}
}

// TestCheckpointCorrupt: a checkpoint that fails its checksum is passed over for the one
// before it; with none left, the views are recomputed from history. Either way they are
// right.
func TestCheckpointCorrupt(t *testing.T) {
	base := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return base.Add(time.Minute) }
	dir := t.TempDir()
	ref, rs, d, s := openCkptPair(t, dir, clock)
	defer ref.Close()
	w := &ckptWorkload{rng: rand.New(rand.NewPCG(9, 9)), base: base}
	both := func(n int) { w.apply(t, []*db.DB{ref, d}, []*db.Session{rs, s}, n) }
	both(20)
	require.NoError(t, d.Checkpoint(context.Background()))
	both(20)
	require.NoError(t, d.Checkpoint(context.Background()))
	files := d.CheckpointFiles()
	require.Len(t, files, 2)
	both(20)
	d.Crash()

	flip := func(path string) {
		p, err := os.ReadFile(path)
		require.NoError(t, err)
		p[len(p)/2] ^= 0x40
		require.NoError(t, os.WriteFile(path, p, 0o644))
	}
	flip(files[1])
	d, s = openCkpt(t, dir, clock)
	require.NotZero(t, d.Restored())
	require.Less(t, d.Restored(), tickOf(t, files[1]), "the corrupt newest checkpoint must be passed over")
	requireSameViews(t, rs, s, "recovered from the older checkpoint")
	both(10)
	requireSameViews(t, rs, s, "after more writes")
	d.Crash()

	// Now the one checkpoint left is corrupt too (truncated).
	left := d.CheckpointFiles()
	require.Equal(t, files[:1], left)
	require.NoError(t, os.Truncate(left[0], 100))
	d, s = openCkpt(t, dir, clock)
	defer d.Close()
	require.Zero(t, d.Restored(), "no checkpoint verifies: the views are recomputed")
	requireSameViews(t, rs, s, "recomputed")
	both(10)
	requireSameViews(t, rs, s, "recomputed, after more writes")
}

func tickOf(t *testing.T, path string) uint64 {
	var tick uint64
	_, err := fmt.Sscanf(path[len(path)-len("00000000000000000000.ckpt"):], "%020d.ckpt", &tick)
	require.NoError(t, err)
	return tick
}

// TestIngestProgress: positions committed with IngestWithProgress survive a crash with
// exactly the rows they came with, whether recovery finds them in the log, in the store
// or after a checkpoint (where ticks the store holds are replayed and must not move a
// position back).
func TestIngestProgress(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	d, s := openCkpt(t, dir, clock)
	weirExec(t, s, `CREATE SOURCE ev (id bigint NOT NULL)`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW n AS SELECT count(*) AS n, sum(id) AS ids FROM ev`)
	next := int64(0)
	ingest := func(n int, part string) {
		rows := make([][]delta.Value, n)
		for i := range rows {
			next++
			rows[i] = []delta.Value{delta.Int(next)}
		}
		require.NoError(t, d.IngestWithProgress(ctx, "ev", rows, map[string]string{"p/" + part: fmt.Sprint(next)}))
	}
	check := func(when string, want map[string]string) {
		t.Helper()
		for k, v := range want {
			got, ok := d.Progress(k)
			require.True(t, ok, "%s: %s", when, k)
			require.Equal(t, v, got, "%s: %s", when, k)
		}
		require.Equal(t, []string{fmt.Sprintf("%d|%d", next, next*(next+1)/2)}, weirRows(t, s, "SELECT * FROM n"), when)
	}

	ingest(5, "0")
	ingest(5, "1")
	d.Crash() // only in the log
	d, s = openCkpt(t, dir, clock)
	check("from the log", map[string]string{"p/0": "5", "p/1": "10"})

	ingest(5, "0")
	require.NoError(t, d.Checkpoint(ctx))
	ingest(5, "0")
	weirRows(t, s, "SELECT 1") // flush: the store is past the checkpoint
	ingest(5, "1")
	// A position alone, without rows.
	require.NoError(t, d.IngestWithProgress(ctx, "ev", nil, map[string]string{"p/2": "x"}))
	d.Crash()
	d, s = openCkpt(t, dir, clock)
	require.NotZero(t, d.Restored())
	check("after a checkpoint", map[string]string{"p/0": "20", "p/1": "25", "p/2": "x"})

	// Concurrent writers share group-committed ticks; each key keeps its own position.
	done := make(chan error, 4)
	for w := range 4 {
		go func() {
			var err error
			for i := 1; i <= 50 && err == nil; i++ {
				err = d.IngestWithProgress(ctx, "ev", [][]delta.Value{{delta.Int(int64(1000*(w+1) + i))}}, map[string]string{fmt.Sprintf("w/%d", w): fmt.Sprint(i)})
			}
			done <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-done)
	}
	require.NoError(t, d.Close())
	d, _ = openCkpt(t, dir, clock)
	defer d.Close()
	for w := range 4 {
		got, _ := d.Progress(fmt.Sprintf("w/%d", w))
		require.Equal(t, "50", got)
	}
}

// TestRecoveryFlushesOnce: recovery replays the log without flushing part-way, so the
// store's log position is never set back (with FlushInterval < 0 a mid-replay flush once
// recorded position 0, and the next start replayed, and stored, every row again).
func TestRecoveryFlushesOnce(t *testing.T) {
	dir := t.TempDir()
	d, s := openDurable(t, dir, time.Hour)
	weirExec(t, s, `CREATE SOURCE ev (id bigint NOT NULL, room bigint NOT NULL)`)
	ingestRange(t, d, 0, 3)
	ingestRange(t, d, 3, 6)
	d.Crash()
	d, _ = openDurable(t, dir, -1)
	require.NoError(t, d.Close())
	d, s = openDurable(t, dir, -1)
	defer d.Close()
	require.Equal(t, []string{"6|6"}, weirRows(t, s, "SELECT count(*), count(DISTINCT id) FROM ev"))
}

// TestResumeAcrossMergedReplay: recovery replays several logged ticks as one, so a
// subscriber resuming from a tick inside that range gets a fresh snapshot, never the
// merged tick's changes again.
func TestResumeAcrossMergedReplay(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	d, s := openCkpt(t, dir, clock)
	weirExec(t, s, `CREATE SOURCE ev (id bigint NOT NULL)`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW n AS SELECT count(*) AS n FROM ev`)
	require.NoError(t, d.Checkpoint(ctx))
	var ticks []uint64
	for i := range 3 {
		require.NoError(t, d.Ingest(ctx, "ev", [][]delta.Value{{delta.Int(int64(i))}}))
		ticks = append(ticks, d.Tick())
	}
	d.Crash()
	d, _ = openCkpt(t, dir, clock)
	defer d.Close()
	sub, snap, resumed, err := d.Subscribe("n", ticks[0], 8)
	require.NoError(t, err)
	defer sub.Close()
	require.False(t, resumed, "history inside a merged replay cannot be resumed from")
	require.NotNil(t, snap)
}

// TestNumericScaleGrows: reads cast a text-stored numeric column to the largest scale it
// has held; values of a larger scale arriving after a read are read exactly, before and
// after a restart.
func TestNumericScaleGrows(t *testing.T) {
	dir := t.TempDir()
	d, s := openDurable(t, dir, time.Hour)
	weirExec(t, s, `CREATE SOURCE pay (room bigint NOT NULL, amt numeric NOT NULL)`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW per_room AS SELECT room, sum(amt) AS total FROM pay GROUP BY room`)
	weirExec(t, s, `INSERT INTO pay VALUES (1, 1.5), (2, 20)`)
	// weirRows sorts its rows: the filter is what is checked here.
	q := `SELECT room, total FROM per_room WHERE total > 1.4`
	require.Equal(t, []string{"1|1.5", "2|20"}, weirRows(t, s, q))
	weirExec(t, s, `INSERT INTO pay VALUES (1, 0.0001), (3, 123456789.12345)`)
	require.Equal(t, []string{"1|1.5001", "2|20", "3|123456789.12345"}, weirRows(t, s, q))
	require.Equal(t, []string{"123456810.62355"}, weirRows(t, s, `SELECT sum(total) FROM per_room`))
	d.Crash()
	d, s = openDurable(t, dir, time.Hour)
	defer d.Close()
	weirExec(t, s, `INSERT INTO pay VALUES (2, 0.000001)`)
	require.Equal(t, []string{"1|1.5001", "2|20.000001", "3|123456789.12345"}, weirRows(t, s, q))
	require.Equal(t, []string{"2|20.000001"}, weirRows(t, s, `SELECT room, total FROM per_room WHERE total > 20.0000005 AND total < 21`))
	// Past 18 digits the column is read as DECIMAL(38,s) instead of DECIMAL(18,s).
	weirExec(t, s, `INSERT INTO pay VALUES (4, 123456789012345678901.25)`)
	require.Equal(t, []string{"4|123456789012345678901.25"}, weirRows(t, s, `SELECT room, total FROM per_room WHERE total > 123456789012345678901`))
	require.Equal(t, []string{"123456789012469135711.873551"}, weirRows(t, s, `SELECT sum(total) FROM per_room`))
}
