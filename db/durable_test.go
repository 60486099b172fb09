package db_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/storage/wal"
)

func openDurable(t *testing.T, dir string, flush time.Duration) (*db.DB, *db.Session) {
	t.Helper()
	d, err := db.Open(context.Background(), db.Config{Dir: dir, TickInterval: -1, FlushInterval: flush, CheckpointInterval: -1},
		slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})))
	require.NoError(t, err)
	return d, d.NewSession(nil)
}

func ingestRange(t *testing.T, d *db.DB, from, to int) {
	t.Helper()
	for i := from; i < to; i += 10 {
		var rows [][]delta.Value
		for j := i; j < min(i+10, to); j++ {
			rows = append(rows, []delta.Value{delta.Int(int64(j)), delta.Int(int64(j % 7))})
		}
		require.NoError(t, d.Ingest(context.Background(), "ev", rows))
	}
}

// TestRecoveryReplaysTheLog: acknowledged ticks that only the write-ahead log holds
// (never flushed to the view store) survive a crash: recovery replays them.
func TestRecoveryReplaysTheLog(t *testing.T) {
	dir := t.TempDir()
	d, s := openDurable(t, dir, time.Hour) // nothing flushes on its own
	for _, q := range []string{
		`CREATE SOURCE ev (id bigint NOT NULL, room bigint NOT NULL)`,
		`CREATE TABLE rooms (room bigint PRIMARY KEY, name text)`,
		`CREATE MATERIALIZED VIEW per_room AS SELECT e.room, r.name, count(*) AS n, sum(e.id) AS ids FROM ev e LEFT JOIN rooms r ON r.room = e.room GROUP BY e.room, r.name`,
	} {
		weirExec(t, s, q)
	}
	flushed := d.Flushes()
	ingestRange(t, d, 0, 500)
	weirExec(t, s, `INSERT INTO rooms VALUES (1, 'one'), (2, 'two')`)
	weirExec(t, s, `UPDATE rooms SET name = 'uno' WHERE room = 1`)
	require.Equal(t, flushed, d.Flushes(), "the writes must still be only in the log")
	d.Crash()

	d, s = openDurable(t, dir, time.Hour)
	defer d.Close()
	require.Equal(t, []string{"500|124750"}, weirRows(t, s, "SELECT count(*), sum(id) FROM ev"))
	var want []string
	for room := range 7 {
		n, ids := 0, 0
		for id := room; id < 500; id += 7 {
			n, ids = n+1, ids+id
		}
		name := map[int]string{1: "uno", 2: "two"}[room]
		if name == "" {
			name = "NULL"
		}
		want = append(want, fmt.Sprintf("%d|%s|%d|%d", room, name, n, ids))
	}
	require.Equal(t, want, weirRows(t, s, "SELECT * FROM per_room"))
	// The replayed ticks were flushed by the recovery and their log records dropped:
	// a second crash right away loses nothing either.
	ingestRange(t, d, 500, 520)
	d.Crash()
	d, s = openDurable(t, dir, -1)
	defer d.Close()
	require.Equal(t, []string{"520"}, weirRows(t, s, "SELECT count(*) FROM ev"))
	require.Equal(t, []string{"520"}, weirRows(t, s, "SELECT sum(n) FROM per_room"))
}

// TestRecoveryDropsFailedTicks: a tick is logged while it is computed, so a tick that
// fails may be in the log already; its writer is told it failed, and an abort record
// withdraws it, so that no replay applies it: not the rebuild that follows the failure
// (which replays the log since the last flush), nor a recovery. The next tick reuses
// its number. A replay that ignored abort records would count the failed rows; one that
// flushed up to the withdrawn record but not its abort would leave the abort first in
// the log, which the next recovery refuses.
func TestRecoveryDropsFailedTicks(t *testing.T) {
	dir := t.TempDir()
	d, s := openDurable(t, dir, time.Hour) // nothing flushes on its own
	for _, q := range []string{
		`CREATE SOURCE ev (id bigint NOT NULL, room bigint NOT NULL)`,
		`CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n, sum(id) AS ids FROM ev GROUP BY room`,
	} {
		weirExec(t, s, q)
	}
	ingestRange(t, d, 0, 100) // ticks that stay
	var failed []uint64
	restore := db.FailTicks(func(tick uint64) error {
		if len(failed) > 0 {
			return nil // the rebuild after the failure replays the log, ticks before it included
		}
		failed = append(failed, tick)
		return sqlerr.New(sqlerr.Internal, "internal error: a test fails this tick")
	})
	err := d.Ingest(context.Background(), "ev", [][]delta.Value{{delta.Int(1000), delta.Int(1)}, {delta.Int(1001), delta.Int(2)}})
	restore()
	require.Len(t, failed, 1, "ticks failed: %v", failed)
	require.ErrorContains(t, err, "a test fails this tick")
	flushed := d.Flushes() // the rebuild flushed what it replayed
	// The first of these ticks reuses the failed tick's number. The views are read from
	// memory, which flushes nothing.
	ingestRange(t, d, 100, 150)
	require.Equal(t, []string{"150|11175"}, weirRows(t, s, "SELECT sum(n)::bigint, sum(ids)::bigint FROM per_room"))
	require.Equal(t, flushed, d.Flushes(), "the writes must still be only in the log")
	d.Crash()

	want := []string{"150|11175|150"}
	const q = "SELECT (SELECT count(*) FROM ev), (SELECT sum(id) FROM ev), (SELECT sum(n) FROM per_room)::bigint"

	d, s = openDurable(t, dir, time.Hour)
	require.Equal(t, want, weirRows(t, s, q), "after replaying the log")
	require.Equal(t, []string{"0|22|1617"}, weirRows(t, s, "SELECT room, n, ids FROM per_room WHERE room = 0"))
	d.Crash()
	d, s = openDurable(t, dir, time.Hour)
	require.Equal(t, want, weirRows(t, s, q), "after a second recovery")
	ingestRange(t, d, 150, 160) // only in the log

	// A failed tick whose abort record is the last in the log: the rebuild after it
	// replays the log and flushes, and the recovery after a crash finds the log whole.
	failed = nil
	restore = db.FailTicks(func(tick uint64) error {
		if len(failed) > 0 {
			return nil
		}
		failed = append(failed, tick)
		return sqlerr.New(sqlerr.Internal, "internal error: a test fails this tick")
	})
	require.Error(t, d.Ingest(context.Background(), "ev", [][]delta.Value{{delta.Int(2000), delta.Int(3)}}))
	restore()
	require.Len(t, failed, 1)
	d.Crash()
	want = []string{"160|12720|160"}
	d, s = openDurable(t, dir, time.Hour)
	require.Equal(t, want, weirRows(t, s, q), "after a failed tick as the log's last")
	ingestRange(t, d, 160, 170) // only in the log
	d.Crash()
	d, s = openDurable(t, dir, time.Hour)
	require.Equal(t, []string{"170|14365|170"}, weirRows(t, s, q), "after the recovery after it")
	d.Crash()

	// An abort record of a tick other than the record before it is a damaged log: the
	// recovery refuses it (XX001) rather than guess which tick to drop.
	log, err := wal.Open(filepath.Join(dir, "wal"), wal.Options{})
	require.NoError(t, err)
	_, err = log.Commit(context.Background(), []byte{0xA0, 3}) // abort tick 3
	require.NoError(t, err)
	require.NoError(t, log.Close())
	_, err = db.Open(context.Background(), db.Config{Dir: dir, TickInterval: -1, CheckpointInterval: -1},
		slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	var se *sqlerr.Error
	require.ErrorAs(t, err, &se)
	require.Equal(t, sqlerr.DataCorrupted, se.Code, "%v", err)
	require.ErrorContains(t, err, "abort of tick 3")
}

// TestRecoveryCutsATornLog: a record half-written when the process died is cut from
// the log with a warning; everything before it is recovered.
func TestRecoveryCutsATornLog(t *testing.T) {
	dir := t.TempDir()
	d, s := openDurable(t, dir, time.Hour)
	weirExec(t, s, `CREATE SOURCE ev (id bigint NOT NULL, room bigint NOT NULL)`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW n AS SELECT count(*) AS n FROM ev`)
	ingestRange(t, d, 0, 100)
	d.Crash()
	segs, err := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
	require.NoError(t, err)
	require.NotEmpty(t, segs)
	last := segs[len(segs)-1]
	f, err := os.OpenFile(last, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte{0x40, 0, 0, 0, 1, 2, 3}) // the start of a record that never finished
	require.NoError(t, err)
	require.NoError(t, f.Close())

	d, s = openDurable(t, dir, -1)
	defer d.Close()
	require.Equal(t, []string{"100"}, weirRows(t, s, "SELECT n FROM n"))
	ingestRange(t, d, 100, 110)
	require.Equal(t, []string{"110"}, weirRows(t, s, "SELECT n FROM n"))
}

// TestDiskFull: when the disk fills up, ingest is refused with 53100 (never acknowledged
// and then lost) and reads keep working; acknowledged events all survive a restart.
func TestDiskFull(t *testing.T) {
	if testing.Short() {
		t.Skip("mounts a small tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill up (needs root): %v: %s", err, out)
	}
	defer exec.Command("umount", "-l", dir).Run()
	d, s := openDurable(t, dir, time.Hour)
	weirExec(t, s, `CREATE SOURCE ev (id bigint NOT NULL, body text NOT NULL)`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW n AS SELECT count(*) AS n FROM ev`)
	body := strings.Repeat("x", 1000)
	acked := 0
	var ingestErr error
	for i := 0; i < 100_000 && ingestErr == nil; i += 100 {
		rows := make([][]delta.Value, 100)
		for j := range rows {
			rows[j] = []delta.Value{delta.Int(int64(i + j)), delta.Str(body)}
		}
		if ingestErr = d.Ingest(context.Background(), "ev", rows); ingestErr == nil {
			acked += len(rows)
		}
	}
	require.Error(t, ingestErr, "6 MiB must fill up")
	require.Equal(t, sqlerr.DiskFull, sqlerr.CodeOf(ingestErr), "%v", ingestErr)
	require.Contains(t, ingestErr.Error(), "no space left on device")
	t.Logf("acknowledged %d events before the disk filled: %v", acked, ingestErr)
	// Reads keep working, and the view holds exactly what was acknowledged: the refused
	// batch's tick, computed before its log record failed, was thrown away whole.
	require.Equal(t, []string{fmt.Sprint(acked)}, weirRows(t, s, "SELECT n FROM n"))
	d.Crash()
	// With room again, every acknowledged event is there, exactly once.
	require.NoError(t, exec.Command("mount", "-o", "remount,size=64m", dir).Run())
	d, s = openDurable(t, dir, -1)
	defer d.Close()
	require.Equal(t, []string{fmt.Sprint(acked)}, weirRows(t, s, "SELECT n FROM n"))
	require.Equal(t, []string{fmt.Sprint(acked)}, weirRows(t, s, "SELECT count(DISTINCT id) FROM ev"))
}

// TestBackgroundRecovery: with Background, Open returns at once; until recovery is done
// Ready is false and statements, ingest and subscriptions fail with 57P03.
func TestBackgroundRecovery(t *testing.T) {
	dir := t.TempDir()
	d, s := openDurable(t, dir, -1)
	weirExec(t, s, `CREATE SOURCE ev (id bigint NOT NULL, room bigint NOT NULL)`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW n AS SELECT count(*) AS n FROM ev`)
	ingestRange(t, d, 0, 50)
	require.NoError(t, d.Close())

	release := db.HoldRecovery()
	d, err := db.Open(context.Background(), db.Config{Dir: dir, TickInterval: -1, Background: true},
		slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	require.NoError(t, err)
	require.False(t, d.Ready())
	s = d.NewSession(nil)
	_, err = s.Prepare(context.Background(), "SELECT n FROM n", nil)
	require.Equal(t, sqlerr.CannotConnectNow, sqlerr.CodeOf(err), "%v", err)
	err = d.Ingest(context.Background(), "ev", [][]delta.Value{{delta.Int(1), delta.Int(1)}})
	require.Equal(t, sqlerr.CannotConnectNow, sqlerr.CodeOf(err), "%v", err)
	_, _, _, err = d.Subscribe("n", 0, 10)
	require.Equal(t, sqlerr.CannotConnectNow, sqlerr.CodeOf(err), "%v", err)
	release()
	require.NoError(t, d.WaitReady(context.Background()))
	require.True(t, d.Ready())
	require.Equal(t, []string{"50"}, weirRows(t, s, "SELECT n FROM n"))
	require.NoError(t, d.Close())
}

// TestRecoveryTime measures recovery (not a pass/fail timing): WEIR_RECOVERY_EVENTS
// events into a source with a 1-group-per-key aggregate view over WEIR_RECOVERY_GROUPS
// keys; the last WEIR_RECOVERY_LOGGED of them are only in the write-ahead log when the
// process "dies". It reports ingest rate, recovery time and the replay share. Without
// the variable it runs a small case, so the code path stays tested.
func TestRecoveryTime(t *testing.T) {
	if testing.Short() {
		t.Skip("measures recovery")
	}
	env := func(name string, def int) int {
		if v := os.Getenv(name); v != "" {
			var n int
			fmt.Sscan(v, &n)
			return n
		}
		return def
	}
	events, groups, logged := env("WEIR_RECOVERY_EVENTS", 20_000), env("WEIR_RECOVERY_GROUPS", 1000), env("WEIR_RECOVERY_LOGGED", 5_000)
	dir := t.TempDir()
	d, s := openDurable(t, dir, -1)
	weirExec(t, s, `CREATE SOURCE ev (k bigint NOT NULL, v bigint NOT NULL)`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW per_key AS SELECT k, count(*) AS n, sum(v) AS s FROM ev GROUP BY k`)
	const batch = 10_000
	ingest := func(d *db.DB, from, to int) {
		rows := make([][]delta.Value, 0, batch)
		for i := from; i < to; i++ {
			rows = append(rows, []delta.Value{delta.Int(int64(i % groups)), delta.Int(int64(i % 100))})
			if len(rows) == batch || i == to-1 {
				require.NoError(t, d.Ingest(context.Background(), "ev", rows))
				rows = rows[:0]
			}
		}
	}
	start := time.Now()
	ingest(d, 0, events-logged)
	require.NoError(t, d.Close())
	d, _ = openDurable(t, dir, time.Hour) // the rest stays in the log
	ingest(d, events-logged, events)
	took := time.Since(start)
	d.Crash()
	start = time.Now()
	d, s = openDurable(t, dir, -1)
	recovery := time.Since(start)
	defer d.Close()
	require.Equal(t, []string{fmt.Sprint(events)}, weirRows(t, s, "SELECT sum(n) FROM per_key"))
	require.Equal(t, []string{fmt.Sprint(min(groups, events))}, weirRows(t, s, "SELECT count(*) FROM per_key"))
	t.Logf("%d events (%d only in the log) into %d groups: ingest %.0f events/s; recovery %s",
		events, logged, groups, float64(events)/took.Seconds(), recovery.Round(time.Millisecond))
}

// TestUnwritableDataDir: a data directory that cannot be created fails Open with an
// error that names it, instead of starting a server that cannot keep anything.
func TestUnwritableDataDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o644))
	_, err := db.Open(context.Background(), db.Config{Dir: filepath.Join(file, "data")}, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	require.Error(t, err)
	require.Contains(t, err.Error(), "data directory")
}

// openCounted opens a durable database (background flushes an hour apart, closed when
// the test ends) with source ev, its 100 rows, and view n counting them.
func openCounted(t *testing.T) (*db.DB, *db.Session) {
	d, s := openDurable(t, t.TempDir(), time.Hour)
	t.Cleanup(func() { d.Close() })
	weirExec(t, s, `CREATE SOURCE ev (id bigint NOT NULL, room bigint NOT NULL)`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW n AS SELECT count(*) AS n FROM ev`)
	ingestRange(t, d, 0, 100)
	return d, s
}

// TestTicksGoOnDuringFlush: a flush writes the view store without holding up ticks: while
// a read's flush is stuck writing, ingest is still acknowledged; the read then sees every
// write acknowledged before it started, and a later read everything. (The read names the
// source, so it flushes: a read of views only is answered from memory, memread.go.)
func TestTicksGoOnDuringFlush(t *testing.T) {
	d, s := openCounted(t)

	entered, release := db.HoldFlushes()
	read := make(chan []string)
	go func() { read <- weirRows(t, d.NewSession(nil), "SELECT n, (SELECT count(*) FROM ev) FROM n") }()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		release()
		t.Fatal("the read's flush never started")
	}
	acked := make(chan struct{})
	go func() { ingestRange(t, d, 100, 150); close(acked) }()
	select {
	case <-acked:
	case <-time.After(10 * time.Second):
		release()
		t.Fatal("ingest waited for the flush to finish writing the store")
	}
	release()
	require.Equal(t, []string{"100|100"}, <-read, "the read sees what was acknowledged before it")
	require.Equal(t, []string{"150|150"}, weirRows(t, s, "SELECT n, (SELECT count(*) FROM ev) FROM n"))
}

// TestReadDuringNote: an acknowledged tick notes its store writes for the next flush
// after it has released the tick lock, so a read of the views (from memory) does not
// wait for that, and sees the tick; a read that flushes first waits for the noting, and
// the store then holds the tick.
func TestReadDuringNote(t *testing.T) {
	d, s := openCounted(t)
	// A read that flushes first: the ticks so far have all been noted.
	require.Equal(t, []string{"100|100"}, weirRows(t, s, "SELECT n, (SELECT count(*) FROM ev) FROM n"))

	entered, release := db.HoldNotes()
	released := false
	defer func() {
		if !released {
			release()
		}
	}()
	// One tick (ingestRange's would wait for each other's noting), answered once logged:
	// the apply goes on after it.
	rows := make([][]delta.Value, 0, 50)
	for i := 100; i < 150; i++ {
		rows = append(rows, []delta.Value{delta.Int(int64(i)), delta.Int(int64(i % 7))})
	}
	require.NoError(t, d.Ingest(t.Context(), "ev", rows))
	within(t, entered, "the tick never started noting its store writes")
	fromMemory := make(chan []string, 1)
	go func() { fromMemory <- weirRows(t, d.NewSession(nil), "SELECT n FROM n") }()
	require.Equal(t, []string{"150"}, within(t, fromMemory, "a read of the views waited for the tick's noting"),
		"the views hold the tick before it is noted")
	flushed := make(chan []string, 1)
	go func() { flushed <- weirRows(t, d.NewSession(nil), "SELECT n, (SELECT count(*) FROM ev) FROM n") }()
	select {
	case rows := <-flushed:
		t.Fatalf("a read that flushes first did not wait for the noting: %v", rows)
	case <-time.After(200 * time.Millisecond):
	}
	release()
	released = true
	require.Equal(t, []string{"150|150"}, <-flushed, "read from the store, which the flush gave the noted tick")
}

// within returns what ch delivers within 10 s, and fails the test with msg if nothing comes.
func within[T any](t *testing.T, ch <-chan T, msg string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal(msg)
	}
	panic("unreachable")
}

// TestReadAfterAck: an ingest is answered once its tick is logged, before its changes
// are folded into the views' rows; a read that starts after the answer still sees them,
// from memory (the fold holds the tick lock) and from the store, on any session.
func TestReadAfterAck(t *testing.T) {
	d, s := openDurable(t, t.TempDir(), time.Hour)
	defer d.Close()
	weirExec(t, s, `CREATE SOURCE ev (id bigint NOT NULL, room bigint)`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n, sum(id) AS ids FROM ev GROUP BY room`)
	other := d.NewSession(nil)
	var want, ids int64
	for i := range 200 {
		rows := make([][]delta.Value, 50)
		for j := range rows {
			id := int64(i*50 + j)
			rows[j] = []delta.Value{delta.Int(id), delta.Int(id % 7)}
			ids += id
		}
		require.NoError(t, d.Ingest(t.Context(), "ev", rows))
		want += int64(len(rows))
		sess := s
		if i%2 == 1 {
			sess = other
		}
		require.Equal(t, want, count(t, sess, "SELECT sum(n)::bigint FROM per_room"), "batch %d", i)
		if i%50 == 49 {
			require.Equal(t, ids, count(t, sess, "SELECT (SELECT sum(ids) FROM per_room)::bigint + 0 * (SELECT count(*) FROM ev)"), "batch %d, from the store", i)
		}
	}
}

// TestFlushDuty: the background flusher waits the flush interval, or three times the
// last flush's duration when that is longer (up to 5 s), so that slow flushes take at
// most about a quarter of a core and each covers more ticks.
func TestFlushDuty(t *testing.T) {
	d, _ := openDurable(t, t.TempDir(), 200*time.Millisecond)
	defer d.Close()
	for _, c := range []struct {
		pending, last time.Duration
		due           bool
	}{
		{100 * time.Millisecond, 10 * time.Millisecond, false},
		{250 * time.Millisecond, 10 * time.Millisecond, true}, // the interval
		{250 * time.Millisecond, 100 * time.Millisecond, false},
		{310 * time.Millisecond, 100 * time.Millisecond, true}, // 3 × the last flush
		{4 * time.Second, 2 * time.Second, false},
		{5100 * time.Millisecond, 2 * time.Second, true}, // at most 5 s
	} {
		require.Equal(t, c.due, d.FlushDueAfter(c.pending, c.last), "pending %v, last flush %v", c.pending, c.last)
	}
}
