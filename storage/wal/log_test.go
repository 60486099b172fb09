package wal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/sqlerr"
)

func testLogger(t testing.TB) *slog.Logger { return slog.New(slog.NewTextHandler(t.Output(), nil)) }

func open(t testing.TB, dir string, opts Options) *Log {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	l, err := Open(dir, opts)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return l
}

// payload is record i's deterministic content; sizes vary from 0 to a few hundred bytes.
func payload(i int) []byte {
	n := (i * 37) % 300
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i + j*7)
	}
	return b
}

func commitN(t testing.TB, l *Log, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		lsn, err := l.Commit(context.Background(), payload(i))
		require.NoError(t, err)
		require.Equal(t, LSN(i), lsn)
	}
}

type record struct {
	lsn     LSN
	payload []byte
}

func replayAll(t testing.TB, l *Log, from LSN) []record {
	t.Helper()
	var out []record
	require.NoError(t, l.Replay(from, func(lsn LSN, p []byte) error {
		out = append(out, record{lsn, bytes.Clone(p)})
		return nil
	}))
	return out
}

// requireRecords checks that recs are exactly records from..to of payload().
func requireRecords(t testing.TB, recs []record, from, to int) {
	t.Helper()
	require.Len(t, recs, max(0, to-from+1))
	for i, r := range recs {
		require.Equal(t, LSN(from+i), r.lsn)
		require.Equal(t, payload(from+i), r.payload, "record %d", from+i)
	}
}

func segments(t testing.TB, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.wal"))
	require.NoError(t, err)
	sort.Strings(names)
	return names
}

func TestRoundTripAndReopen(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, Options{})
	require.Equal(t, LSN(0), l.LastLSN())
	require.Empty(t, replayAll(t, l, 1))
	commitN(t, l, 1, 50)
	require.Equal(t, LSN(50), l.LastLSN())
	requireRecords(t, replayAll(t, l, 0), 1, 50)
	requireRecords(t, replayAll(t, l, 20), 20, 50)
	require.Empty(t, replayAll(t, l, 51))
	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "Close is idempotent")
	_, err := l.Commit(context.Background(), []byte("late"))
	require.ErrorIs(t, err, ErrClosed)
	require.Equal(t, sqlerr.AdminShutdown, sqlerr.CodeOf(err))

	// Reopening appends after the last record.
	l = open(t, dir, Options{})
	require.Equal(t, LSN(50), l.LastLSN())
	commitN(t, l, 51, 10)
	require.NoError(t, l.Close())
	l = open(t, dir, Options{})
	requireRecords(t, replayAll(t, l, 1), 1, 60)
	require.Equal(t, []string{filepath.Join(dir, "00000000000000000001.wal")}, segments(t, dir))

	// An error from fn stops Replay and is returned.
	stop := errors.New("stop")
	n := 0
	require.ErrorIs(t, l.Replay(1, func(LSN, []byte) error { n++; return stop }), stop)
	require.Equal(t, 1, n)
}

func TestCommitBatch(t *testing.T) {
	l := open(t, t.TempDir(), Options{})
	first, err := l.CommitBatch(context.Background(), [][]byte{payload(1), payload(2), payload(3)})
	require.NoError(t, err)
	require.Equal(t, LSN(1), first)
	first, err = l.CommitBatch(context.Background(), [][]byte{payload(4)})
	require.NoError(t, err)
	require.Equal(t, LSN(4), first)
	first, err = l.CommitBatch(context.Background(), nil)
	require.NoError(t, err)
	require.Equal(t, LSN(0), first)
	requireRecords(t, replayAll(t, l, 1), 1, 4)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = l.Commit(ctx, []byte("x"))
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, LSN(4), l.LastLSN())
}

// TestTornTail damages the end of the last segment the ways a crash or a bad disk does:
// the bad record is cut, with a log line, and everything before it is intact.
func TestTornTail(t *testing.T) {
	const n = 10
	// recordOffset returns the offset of record i (1-based) in the segment.
	recordOffset := func(i int) int64 {
		var off int64
		for j := 1; j < i; j++ {
			off += headerBytes + int64(len(payload(j)))
		}
		return off
	}
	lastStart := recordOffset(n)
	end := recordOffset(n + 1)
	flip := func(off int64) func(b []byte) []byte {
		return func(b []byte) []byte { b[off] ^= 0x40; return b }
	}
	for _, tc := range []struct {
		name string
		// damage returns the damaged segment.
		damage func(b []byte) []byte
		// good is the number of records that survive.
		good int
	}{
		{"cut in the header", func(b []byte) []byte { return b[:lastStart+5] }, n - 1},
		{"cut in the payload", func(b []byte) []byte { return b[:end-3] }, n - 1},
		{"flipped payload byte", flip(end - 2), n - 1},
		{"flipped length byte", flip(lastStart), n - 1},
		{"flipped checksum byte", flip(lastStart + 5), n - 1},
		{"flipped LSN byte", flip(lastStart + 8), n - 1},
		{"zero-filled tail", func(b []byte) []byte { return append(b, make([]byte, 4096)...) }, n},
		{"garbage tail", func(b []byte) []byte { return append(b, []byte("garbage after a crash")...) }, n},
		{"first record torn", func(b []byte) []byte { return b[:headerBytes-1] }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := open(t, dir, Options{})
			commitN(t, l, 1, n)
			require.NoError(t, l.Close())
			seg := segments(t, dir)[0]
			b, err := os.ReadFile(seg)
			require.NoError(t, err)
			require.Equal(t, end, int64(len(b)))
			damaged := tc.damage(b)
			require.NoError(t, os.WriteFile(seg, damaged, 0o644))

			var logged bytes.Buffer
			l = open(t, dir, Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			requireRecords(t, replayAll(t, l, 1), 1, tc.good)
			require.Equal(t, LSN(tc.good), l.LastLSN())
			st, err := os.Stat(seg)
			require.NoError(t, err)
			require.Equal(t, recordOffset(tc.good+1), st.Size(), "the bad tail is cut")
			require.Contains(t, logged.String(), "cut a torn or corrupt tail")
			require.Contains(t, logged.String(), fmt.Sprintf("offset=%d", st.Size()))
			require.Contains(t, logged.String(), fmt.Sprintf("dropped_bytes=%d", int64(len(damaged))-st.Size()))
			require.Equal(t, 1, bytes.Count(logged.Bytes(), []byte("\n")), "one log line")

			// The log goes on after the last good record.
			commitN(t, l, tc.good+1, 3)
			require.NoError(t, l.Close())
			logged.Reset()
			l = open(t, dir, Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
			requireRecords(t, replayAll(t, l, 1), 1, tc.good+3)
			require.Empty(t, logged.String())
		})
	}
}

func TestCorruptEarlierSegment(t *testing.T) {
	build := func(t *testing.T) (string, []string) {
		dir := t.TempDir()
		l := open(t, dir, Options{SegmentBytes: 1024})
		commitN(t, l, 1, 60)
		require.NoError(t, l.Close())
		segs := segments(t, dir)
		require.Greater(t, len(segs), 3)
		return dir, segs
	}
	t.Run("flipped byte", func(t *testing.T) {
		dir, segs := build(t)
		b, err := os.ReadFile(segs[1])
		require.NoError(t, err)
		b[len(b)-1] ^= 1
		require.NoError(t, os.WriteFile(segs[1], b, 0o644))
		_, err = Open(dir, Options{Logger: testLogger(t)})
		require.ErrorIs(t, err, ErrCorrupt)
		require.Equal(t, sqlerr.DataCorrupted, sqlerr.CodeOf(err))
		require.Contains(t, err.Error(), segs[1])
		st, err := os.Stat(segs[1])
		require.NoError(t, err)
		require.Equal(t, int64(len(b)), st.Size(), "acknowledged data is not dropped")
	})
	t.Run("torn end", func(t *testing.T) {
		dir, segs := build(t)
		require.NoError(t, os.Truncate(segs[2], 10))
		_, err := Open(dir, Options{Logger: testLogger(t)})
		require.ErrorIs(t, err, ErrCorrupt)
	})
	t.Run("missing segment", func(t *testing.T) {
		dir, segs := build(t)
		require.NoError(t, os.Remove(segs[1]))
		_, err := Open(dir, Options{Logger: testLogger(t)})
		require.ErrorIs(t, err, ErrCorrupt)
		require.Contains(t, err.Error(), "previous segment ends before LSN")
	})
}

func TestRotationAndReplayFrom(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, Options{SegmentBytes: 2048})
	commitN(t, l, 1, 200)
	segs := segments(t, dir)
	require.Greater(t, len(segs), 10)
	// Each segment is named by its first record's LSN, and they are contiguous.
	for i, s := range segs {
		first, ok := parseSegmentName(filepath.Base(s))
		require.True(t, ok)
		require.Equal(t, first, l.segs[i].first)
	}
	for _, from := range []LSN{0, 1, 2, 77, l.segs[3].first, l.segs[3].first - 1, l.segs[len(l.segs)-1].first, 199, 200} {
		requireRecords(t, replayAll(t, l, from), max(1, int(from)), 200)
	}
	require.Empty(t, replayAll(t, l, 201))
	require.NoError(t, l.Close())
	l = open(t, dir, Options{SegmentBytes: 2048})
	requireRecords(t, replayAll(t, l, 1), 1, 200)
	requireRecords(t, replayAll(t, l, 123), 123, 200)
	commitN(t, l, 201, 100)
	requireRecords(t, replayAll(t, l, 150), 150, 300)
}

func TestTruncateBefore(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, Options{SegmentBytes: 2048})
	commitN(t, l, 1, 200)
	before := len(segments(t, dir))

	require.NoError(t, l.TruncateBefore(1))
	require.Len(t, segments(t, dir), before)

	require.NoError(t, l.TruncateBefore(77))
	first := l.FirstLSN()
	require.LessOrEqual(t, first, LSN(77), "segments holding records at or after 77 stay")
	require.Greater(t, first, LSN(1))
	require.Less(t, len(segments(t, dir)), before)
	requireRecords(t, replayAll(t, l, 77), 77, 200)
	requireRecords(t, replayAll(t, l, first), int(first), 200)
	err := l.Replay(first-1, func(LSN, []byte) error { t.Fatal("fn called"); return nil })
	require.ErrorIs(t, err, ErrTruncated)

	// The active segment is never removed.
	require.NoError(t, l.TruncateBefore(1000))
	require.Len(t, segments(t, dir), 1)
	last := l.FirstLSN()
	requireRecords(t, replayAll(t, l, last), int(last), 200)
	commitN(t, l, 201, 5)

	require.NoError(t, l.Close())
	l = open(t, dir, Options{SegmentBytes: 2048})
	require.Equal(t, last, l.FirstLSN())
	requireRecords(t, replayAll(t, l, last), int(last), 205)
}

// countingHooks counts the commit path's writes and fsyncs.
func countingHooks(l *Log, writes, syncs *atomic.Int64, fsyncDelay time.Duration) {
	h := defaultHooks()
	l.hooks.write = func(f *os.File, p []byte, off int64) (int, error) {
		writes.Add(1)
		return h.write(f, p, off)
	}
	l.hooks.sync = func(f *os.File) error {
		syncs.Add(1)
		if fsyncDelay > 0 {
			time.Sleep(fsyncDelay) // a slow disk, so that commits pile up behind an fsync
		}
		return h.sync(f)
	}
}

func TestGroupCommit(t *testing.T) {
	const writers, each = 16, 100
	dir := t.TempDir()
	l := open(t, dir, Options{SegmentBytes: 64 << 10})
	var writes, syncs atomic.Int64
	countingHooks(l, &writes, &syncs, time.Millisecond)

	var mu sync.Mutex
	byLSN := map[LSN][]byte{}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				p := []byte(fmt.Sprintf("writer %d record %d", w, i))
				lsn, err := l.Commit(context.Background(), p)
				if !assertNoError(t, err) {
					return
				}
				mu.Lock()
				byLSN[lsn] = p
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	const commits = writers * each
	require.Len(t, byLSN, commits, "every commit has its own LSN")
	require.Equal(t, LSN(commits), l.LastLSN())
	var got int
	require.NoError(t, l.Replay(1, func(lsn LSN, p []byte) error {
		got++
		require.Equal(t, string(byLSN[lsn]), string(p), "LSN %d", lsn)
		return nil
	}))
	require.Equal(t, commits, got)
	// New segments' fsyncs count too; still far fewer fsyncs than commits.
	t.Logf("%d commits, %d writes, %d fsyncs (%.2f fsyncs per commit)", commits, writes.Load(), syncs.Load(), float64(syncs.Load())/commits)
	require.Less(t, syncs.Load(), int64(commits/4))
	require.Equal(t, LSN(commits), l.LastLSN())
}

func assertNoError(t *testing.T, err error) bool {
	if err != nil {
		t.Errorf("commit: %v", err)
		return false
	}
	return true
}

func TestIOErrorCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code sqlerr.Code
	}{
		{syscall.ENOSPC, sqlerr.DiskFull},
		{syscall.EDQUOT, sqlerr.DiskFull},
		{&os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, sqlerr.DiskFull},
		{syscall.EACCES, sqlerr.IOError},
		{syscall.EROFS, sqlerr.IOError},
		{syscall.EIO, sqlerr.IOError},
		{io.ErrShortWrite, sqlerr.IOError},
	} {
		err := ioError("write to", "seg.wal", tc.err)
		require.Equal(t, tc.code, err.Code, "%v", tc.err)
		require.ErrorIs(t, err, tc.err)
	}
	require.Equal(t, "could not write to write-ahead log: no space left on device", ioError("write to", "x", syscall.ENOSPC).Msg)
}

// TestDiskFull injects ENOSPC after half a group is written: the commit fails with
// 53100, the half record is undone, and what follows is acknowledged on a clean tail.
func TestDiskFull(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, Options{})
	commitN(t, l, 1, 5)
	full := true
	var writes atomic.Int64
	h := defaultHooks()
	l.hooks.write = func(f *os.File, p []byte, off int64) (int, error) {
		writes.Add(1)
		if full {
			n, _ := h.write(f, p[:len(p)/2], off)
			return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
		}
		return h.write(f, p, off)
	}
	_, err := l.Commit(context.Background(), payload(6))
	require.Error(t, err)
	require.Equal(t, sqlerr.DiskFull, sqlerr.CodeOf(err))
	require.Equal(t, "could not write to write-ahead log: no space left on device", err.Error())
	require.ErrorIs(t, err, syscall.ENOSPC)
	require.Equal(t, LSN(5), l.LastLSN(), "nothing of the failed commit is acknowledged")
	st, err := os.Stat(segments(t, dir)[0])
	require.NoError(t, err)
	require.Equal(t, l.size, st.Size(), "the partial record is truncated away")

	// Space comes back: the next commit gets the failed one's LSN, on a clean tail.
	full = false
	commitN(t, l, 6, 2)
	require.NoError(t, l.Close())
	l = open(t, dir, Options{})
	requireRecords(t, replayAll(t, l, 1), 1, 7)
}

// TestFailedUndoIsSticky: when a failed write cannot be undone, nothing later is
// acknowledged until the log is reopened, which cuts the garbage.
func TestFailedUndoIsSticky(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, Options{})
	commitN(t, l, 1, 5)
	var writes atomic.Int64
	h := defaultHooks()
	l.hooks.write = func(f *os.File, p []byte, off int64) (int, error) {
		writes.Add(1)
		n, _ := h.write(f, p[:len(p)/2], off)
		return n, syscall.ENOSPC
	}
	l.hooks.truncate = func(*os.File, int64) error { return syscall.EIO }
	_, err := l.Commit(context.Background(), payload(6))
	require.Equal(t, sqlerr.DiskFull, sqlerr.CodeOf(err))
	l.hooks.write = h.write
	for range 3 {
		_, err2 := l.Commit(context.Background(), payload(6))
		require.Equal(t, err, err2, "the same error, sticky")
	}
	require.Equal(t, int64(1), writes.Load(), "no write after the failure")
	require.Equal(t, LSN(5), l.LastLSN())
	require.NoError(t, l.Close())

	var logged bytes.Buffer
	l = open(t, dir, Options{Logger: slog.New(slog.NewTextHandler(&logged, nil))})
	require.Contains(t, logged.String(), "cut a torn or corrupt tail")
	requireRecords(t, replayAll(t, l, 1), 1, 5)
	commitN(t, l, 6, 1)
}

// TestFsyncFailureIsSticky: after a failed fsync the log refuses every commit with the
// error (58030) until it is reopened, as PostgreSQL does.
func TestFsyncFailureIsSticky(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, Options{})
	commitN(t, l, 1, 5)
	var writes atomic.Int64
	h := defaultHooks()
	l.hooks.write = func(f *os.File, p []byte, off int64) (int, error) {
		writes.Add(1)
		return h.write(f, p, off)
	}
	l.hooks.sync = func(f *os.File) error { return &os.PathError{Op: "sync", Path: f.Name(), Err: syscall.EIO} }
	_, err := l.Commit(context.Background(), payload(6))
	require.Equal(t, sqlerr.IOError, sqlerr.CodeOf(err))
	require.ErrorIs(t, err, syscall.EIO)
	l.hooks.sync = h.sync
	_, err2 := l.Commit(context.Background(), payload(6))
	require.Equal(t, err, err2)
	require.Equal(t, int64(1), writes.Load(), "no write after the failed fsync")
	require.Equal(t, LSN(5), l.LastLSN())
	require.NoError(t, l.Close())

	// The unacknowledged record may or may not have reached the disk; either way the log
	// is consistent and goes on after it.
	l = open(t, dir, Options{})
	last := int(l.LastLSN())
	require.Contains(t, []int{5, 6}, last)
	requireRecords(t, replayAll(t, l, 1), 1, last)
	commitN(t, l, last+1, 2)
}

func TestOpenUnusableDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err := Open(filepath.Join(file, "wal"), Options{})
	require.Equal(t, sqlerr.IOError, sqlerr.CodeOf(err))
	require.Contains(t, err.Error(), "write-ahead log: could not create directory")
}

func TestOptions(t *testing.T) {
	_, err := Open(t.TempDir(), Options{SegmentBytes: -1})
	require.ErrorIs(t, err, ErrInvalidSegmentBytes)

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README"), []byte("not a segment"), 0o644))
	l := open(t, dir, Options{NoSync: true})
	var writes, syncs atomic.Int64
	countingHooks(l, &writes, &syncs, 0)
	commitN(t, l, 1, 10)
	require.Zero(t, syncs.Load(), "NoSync")
	require.NoError(t, l.Close())
	l = open(t, dir, Options{})
	requireRecords(t, replayAll(t, l, 1), 1, 10)
}

// TestCancelAndCloseUnderLoad: with commits canceled at random and the log closed under
// load, exactly the acknowledged records are in the log: an error means not written.
func TestCancelAndCloseUnderLoad(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, Options{SegmentBytes: 8 << 10})
	var mu sync.Mutex
	acked := map[string]LSN{}
	var wg sync.WaitGroup
	var commits atomic.Int64
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				p := fmt.Sprintf("writer %d record %d", w, i)
				ctx, cancel := context.WithCancel(context.Background())
				if i%3 == 0 {
					cancel() // sometimes before, sometimes while it waits
				} else if i%3 == 1 {
					go cancel()
				}
				lsn, err := l.Commit(ctx, []byte(p))
				cancel()
				commits.Add(1)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err == nil {
					mu.Lock()
					acked[p] = lsn
					mu.Unlock()
				} else if !errors.Is(err, context.Canceled) {
					t.Errorf("commit: %v", err)
					return
				}
			}
		})
	}
	require.Eventually(t, func() bool { return commits.Load() >= 2000 }, time.Minute, time.Millisecond)
	require.NoError(t, l.Close())
	wg.Wait()

	l = open(t, dir, Options{})
	got := map[string]LSN{}
	require.NoError(t, l.Replay(1, func(lsn LSN, p []byte) error {
		got[string(p)] = lsn
		return nil
	}))
	require.Equal(t, acked, got)
	require.Equal(t, LSN(len(got)), l.LastLSN())
}
