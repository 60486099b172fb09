package wal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/weirdb/weir/internal/sqlerr"
)

// LSN is a log sequence number: 1 for the first record ever written, then consecutive.
// 0 means "no record".
type LSN uint64

// DefaultSegmentBytes is the segment size used when Options.SegmentBytes is 0.
const DefaultSegmentBytes = 64 << 20

// MaxRecordBytes is the largest payload a record can carry.
const MaxRecordBytes = 1 << 30

var (
	// ErrCorrupt is wrapped by the errors Open and Replay return for a damaged record
	// that is not a torn tail (SQLSTATE XX001).
	ErrCorrupt = errors.New("write-ahead log is corrupt")
	// ErrClosed is wrapped by the errors of calls on a closed log (SQLSTATE 57P01).
	ErrClosed = errors.New("write-ahead log is closed")
	// ErrTruncated is wrapped by Replay's error when records it was asked for were
	// removed by TruncateBefore.
	ErrTruncated = errors.New("write-ahead log records were removed")
	// ErrInvalidSegmentBytes is returned by Options.Validate for a negative SegmentBytes.
	ErrInvalidSegmentBytes = errors.New("wal: SegmentBytes must not be negative")
)

// Options configures a log. The zero value is valid: 64 MiB segments, fsync on, no log.
type Options struct {
	// SegmentBytes is the size at which the active segment is closed and a new one is
	// begun (DefaultSegmentBytes when 0). A group commit never spans two segments, so a
	// segment may exceed it by one group.
	SegmentBytes int64
	// NoSync skips fsync: Commit returns once its record is written to the operating
	// system. It survives a process crash but not a machine crash; for benchmarks.
	NoSync bool
	// Logger receives recovery lines (cut tails); nil discards them.
	Logger *slog.Logger
}

// Validate reports whether the options can be used.
func (o Options) Validate() error {
	if o.SegmentBytes < 0 {
		return ErrInvalidSegmentBytes
	}
	return nil
}

// Log is an open write-ahead log. Commit, CommitBatch, Replay, TruncateBefore and the
// accessors are safe for concurrent use; Close waits for a commit in progress.
type Log struct {
	dir    string
	opts   Options
	logger *slog.Logger
	hooks  hooks

	// token is held (a value sent into it) by the leader, the one goroutine that writes to
	// the active segment, and by Close.
	token chan struct{}

	mu     sync.Mutex // guards the fields below
	queue  []*waiter  // commits waiting for the next group
	segs   []segment  // oldest first; the last is the active segment
	closed bool
	failed error // sticky: set when an fsync failed or a failed write could not be undone

	// Owned by the token holder.
	f    *os.File // the active segment
	size int64    // bytes of records in f
	next LSN      // the LSN of the next record
	buf  []byte   // the group being written

	durable atomic.Uint64 // the last LSN written and fsynced

	// replayMu keeps TruncateBefore from removing segments under a Replay.
	replayMu sync.RWMutex
}

// waiter is one Commit or CommitBatch call in the queue.
type waiter struct {
	payloads [][]byte
	first    LSN   // set by the leader
	err      error // set by the leader
	done     chan struct{}
}

// hooks are the file operations of the commit path, replaced by tests to count fsyncs and
// inject failures.
type hooks struct {
	write    func(f *os.File, p []byte, off int64) (int, error)
	sync     func(f *os.File) error
	truncate func(f *os.File, size int64) error
}

func defaultHooks() hooks {
	return hooks{write: (*os.File).WriteAt, sync: (*os.File).Sync, truncate: (*os.File).Truncate}
}

// Open opens the log in dir, creating dir and the first segment if needed. It verifies
// every record; a torn or corrupt tail of the last segment is cut (and logged), damage in
// any earlier segment is an error wrapping ErrCorrupt. Later commits append after the last
// good record.
func Open(dir string, opts Options) (*Log, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.SegmentBytes == 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	l := &Log{dir: dir, opts: opts, logger: logger, hooks: defaultHooks(), token: make(chan struct{}, 1)}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, ioError("create directory", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, ioError("read directory", dir, err)
	}
	for _, e := range entries {
		if first, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			l.segs = append(l.segs, newSegment(dir, first))
		}
	}
	slices.SortFunc(l.segs, func(a, b segment) int { return compareLSN(a.first, b.first) })
	if len(l.segs) == 0 {
		s := newSegment(dir, 1)
		f, err := l.createSegment(s)
		if err != nil {
			return nil, err
		}
		l.segs, l.f, l.next = []segment{s}, f, 1
		return l, nil
	}
	if err := l.recover(); err != nil {
		return nil, err
	}
	return l, nil
}

func compareLSN(a, b LSN) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// recover verifies every segment, cuts a bad tail of the last one and opens it.
func (l *Log) recover() error {
	next := l.segs[0].first
	for i, s := range l.segs {
		last := i == len(l.segs)-1
		if s.first != next {
			return corrupt(s.path, 0, fmt.Sprintf("segment starts at LSN %d, but the previous segment ends before LSN %d", s.first, next))
		}
		res, err := scanSegment(s)
		if err != nil {
			return ioError("read file", s.path, err)
		}
		next = s.first + LSN(res.records)
		if res.bad == nil {
			if last {
				l.size = res.good
			}
			continue
		}
		if !last {
			return corrupt(s.path, res.good, res.bad.Error())
		}
		if err := cutTail(s.path, res.good); err != nil {
			return err
		}
		l.logger.Warn("write-ahead log: cut a torn or corrupt tail", "segment", s.path, "offset", res.good,
			"dropped_bytes", res.size-res.good, "reason", res.bad.Error(), "last_lsn", uint64(next-1))
		l.size = res.good
	}
	active := l.segs[len(l.segs)-1]
	f, err := os.OpenFile(active.path, os.O_RDWR, 0)
	if err != nil {
		return ioError("open file", active.path, err)
	}
	l.f, l.next = f, next
	l.durable.Store(uint64(next - 1))
	return nil
}

// cutTail truncates the segment at path to size bytes and fsyncs it.
func cutTail(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return ioError("open file", path, err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return ioError("truncate file", path, err)
	}
	if err := f.Sync(); err != nil {
		return ioError("fsync file", path, err)
	}
	return nil
}

func corrupt(path string, off int64, reason string) error {
	return sqlerr.Wrap(fmt.Errorf("%w: segment %s, offset %d: %s", ErrCorrupt, path, off, reason), sqlerr.DataCorrupted, "")
}

// createSegment creates s's file empty and fsyncs it and the directory, so the segment
// exists after a crash before any record in it is acknowledged. A file left over from an
// earlier failed attempt with the same name is emptied.
func (l *Log) createSegment(s segment) (*os.File, error) {
	f, err := os.OpenFile(s.path, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o644)
	if err != nil {
		return nil, ioError("create file", s.path, err)
	}
	if !l.opts.NoSync {
		if err := l.hooks.sync(f); err != nil {
			f.Close()
			return nil, ioError("fsync file", s.path, err)
		}
		if err := syncDir(l.dir); err != nil {
			f.Close()
			return nil, err
		}
	}
	return f, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return ioError("open directory", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return ioError("fsync directory", dir, err)
	}
	return nil
}

// Commit appends payload as one record and returns its LSN once the record is on disk
// (fsynced). Concurrent commits share fsyncs. payload is not retained after the return.
//
// If Commit returns an error the record is not acknowledged: it is absent after a
// restart, except after an fsync failure, when it may or may not be (as with a request
// in flight when the process dies). If ctx is done while the record waits to be
// written, Commit returns ctx.Err() and the record is not written; once a leader has taken
// it, Commit waits for that write's outcome.
func (l *Log) Commit(ctx context.Context, payload []byte) (LSN, error) {
	return l.CommitBatch(ctx, [][]byte{payload})
}

// CommitBatch appends payloads as consecutive records in one group and returns the LSN
// of the first once all are on disk. It is Commit for several records; a crash before it
// returns may leave any prefix of them in the log. An empty batch returns 0, nil.
func (l *Log) CommitBatch(ctx context.Context, payloads [][]byte) (LSN, error) {
	if len(payloads) == 0 {
		return 0, nil
	}
	for _, p := range payloads {
		if len(p) > MaxRecordBytes {
			return 0, sqlerr.New(sqlerr.InvalidParameterValue, "write-ahead log record of %d bytes exceeds the limit of %d bytes", len(p), MaxRecordBytes)
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	w := &waiter{payloads: payloads, done: make(chan struct{})}
	l.mu.Lock()
	if err := l.refusal(); err != nil {
		l.mu.Unlock()
		return 0, err
	}
	l.queue = append(l.queue, w)
	l.mu.Unlock()
	select {
	case <-w.done:
	case l.token <- struct{}{}:
		// Any earlier leader has finished: w is either done or still queued.
		select {
		case <-w.done:
		default:
			l.lead()
		}
		<-l.token
	case <-ctx.Done():
		l.mu.Lock()
		if i := slices.Index(l.queue, w); i >= 0 {
			l.queue = slices.Delete(l.queue, i, i+1)
			l.mu.Unlock()
			return 0, ctx.Err()
		}
		l.mu.Unlock()
		// A leader has taken w; its outcome is one write and fsync away.
	}
	<-w.done
	return w.first, w.err
}

// refusal is the error every commit gets now, if any. l.mu is held.
func (l *Log) refusal() error {
	if l.closed {
		return sqlerr.Wrap(ErrClosed, sqlerr.AdminShutdown, "")
	}
	return l.failed
}

// lead writes everything queued as one group and completes its waiters. The token is
// held.
func (l *Log) lead() {
	l.mu.Lock()
	group := l.queue
	l.queue = nil
	err := l.refusal()
	l.mu.Unlock()
	if err == nil {
		err = l.write(group)
	}
	for _, w := range group {
		if err != nil {
			w.first, w.err = 0, err
		}
		close(w.done)
	}
}

// write appends the group's records to the active segment (after closing it, if full)
// and fsyncs it. The token is held.
func (l *Log) write(group []*waiter) error {
	if l.size >= l.opts.SegmentBytes {
		if err := l.rotate(); err != nil {
			return err
		}
	}
	start, startLSN := l.size, l.next
	buf := l.buf[:0]
	for _, w := range group {
		w.first = l.next
		for _, p := range w.payloads {
			buf = appendRecord(buf, l.next, p)
			l.next++
		}
	}
	if cap(buf) <= 16<<20 {
		l.buf = buf // reuse, unless one huge group would pin its memory
	}
	path := l.f.Name()
	n, err := l.hooks.write(l.f, buf, start)
	if err == nil && n < len(buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		l.next = startLSN
		werr := ioError("write to file", path, err)
		// Undo the partial write, so nothing after it is acknowledged on top of garbage.
		if terr := l.hooks.truncate(l.f, start); terr != nil {
			l.fail(werr, "truncate after a failed write", terr)
		} else if !l.opts.NoSync {
			if serr := l.hooks.sync(l.f); serr != nil {
				l.fail(werr, "fsync after a failed write", serr)
			}
		}
		return werr
	}
	l.size += int64(len(buf))
	if !l.opts.NoSync {
		if err := l.hooks.sync(l.f); err != nil {
			serr := ioError("fsync file", path, err)
			l.fail(serr, "fsync", err)
			return serr
		}
	}
	l.durable.Store(uint64(l.next - 1))
	return nil
}

// fail makes err the answer to every later commit until the log is reopened.
func (l *Log) fail(err error, op string, cause error) {
	l.logger.Error("write-ahead log: refusing commits until reopened", "op", op, "err", cause, "segment", l.f.Name())
	l.mu.Lock()
	if l.failed == nil {
		l.failed = err
	}
	l.mu.Unlock()
}

// rotate closes the active segment (its records are fsynced: every group ends with an
// fsync) and begins a new one at l.next. The token is held.
func (l *Log) rotate() error {
	s := newSegment(l.dir, l.next)
	f, err := l.createSegment(s)
	if err != nil {
		return err
	}
	old := l.f
	l.mu.Lock()
	l.segs = append(l.segs, s)
	l.mu.Unlock()
	l.f, l.size = f, 0
	if l.opts.NoSync {
		old.Sync() // best effort: a closed segment should be complete on disk
	}
	old.Close()
	return nil
}

// LastLSN returns the LSN of the last record on disk, 0 if the log is empty.
func (l *Log) LastLSN() LSN { return LSN(l.durable.Load()) }

// FirstLSN returns the LSN of the oldest record kept (the first LSN of the oldest
// segment), which is LastLSN()+1 when the log holds no record.
func (l *Log) FirstLSN() LSN {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.segs[0].first
}

// Replay calls fn for every record with an LSN at or after from, in LSN order, up to the
// last record on disk when Replay starts. payload is valid only during the call. An error
// from fn stops Replay and is returned. If records at or after from were removed by
// TruncateBefore, Replay returns an error wrapping ErrTruncated without calling fn; pass
// FirstLSN() to replay everything kept. A record that no longer verifies is an error
// wrapping ErrCorrupt.
func (l *Log) Replay(from LSN, fn func(LSN, []byte) error) error {
	l.replayMu.RLock()
	defer l.replayMu.RUnlock()
	last := LSN(l.durable.Load()) // before segs: every record up to last is in a listed segment
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return sqlerr.Wrap(ErrClosed, sqlerr.AdminShutdown, "")
	}
	segs := slices.Clone(l.segs)
	l.mu.Unlock()
	from = max(from, 1)
	if from < segs[0].first {
		return fmt.Errorf("%w: replay from LSN %d, but the log begins at LSN %d", ErrTruncated, from, segs[0].first)
	}
	for i, s := range segs {
		if s.first > last {
			break // s and later segments hold no record on disk yet
		}
		if i+1 < len(segs) && segs[i+1].first <= from {
			continue // every record of s is before from
		}
		if err := replaySegment(s, from, last, fn); err != nil {
			return err
		}
	}
	return nil
}

func replaySegment(s segment, from, last LSN, fn func(LSN, []byte) error) error {
	f, err := os.Open(s.path)
	if err != nil {
		return ioError("open file", s.path, err)
	}
	defer f.Close()
	rd, err := newSegmentReader(f, s.first)
	if err != nil {
		return ioError("read file", s.path, err)
	}
	for rd.next <= last {
		lsn, payload, err := rd.read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var bad *errBadRecord
		if errors.As(err, &bad) {
			return corrupt(s.path, rd.off, bad.Error())
		}
		if err != nil {
			return ioError("read file", s.path, err)
		}
		if lsn >= from {
			if err := fn(lsn, payload); err != nil {
				return err
			}
		}
	}
	return nil
}

// TruncateBefore removes the segments all of whose records have an LSN before lsn,
// oldest first. The active segment is never removed, so some records before lsn may stay.
func (l *Log) TruncateBefore(lsn LSN) error {
	l.replayMu.Lock()
	defer l.replayMu.Unlock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return sqlerr.Wrap(ErrClosed, sqlerr.AdminShutdown, "")
	}
	var drop []segment
	for len(l.segs) > 1 && l.segs[1].first <= lsn {
		drop = append(drop, l.segs[0])
		l.segs = l.segs[1:]
	}
	l.mu.Unlock()
	if len(drop) == 0 {
		return nil
	}
	for _, s := range drop {
		// Oldest first: a crash part-way leaves a contiguous log.
		if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return ioError("remove file", s.path, err)
		}
	}
	return syncDir(l.dir)
}

// Close waits for a commit in progress, fails the queued ones with ErrClosed and closes
// the active segment. Later calls return errors wrapping ErrClosed; Close is idempotent.
func (l *Log) Close() error {
	l.token <- struct{}{}
	defer func() { <-l.token }()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	queue := l.queue
	l.queue = nil
	closedErr := l.refusal()
	l.mu.Unlock()
	for _, w := range queue {
		w.err = closedErr
		close(w.done)
	}
	var err error
	if l.opts.NoSync {
		if serr := l.f.Sync(); serr != nil {
			err = ioError("fsync file", l.f.Name(), serr)
		}
	}
	if cerr := l.f.Close(); cerr != nil && err == nil {
		err = ioError("close file", l.f.Name(), cerr)
	}
	return err
}

// ioError gives an I/O failure its SQLSTATE: 53100 disk_full when the disk or quota is
// full, 58030 io_error otherwise.
func ioError(op, path string, err error) *sqlerr.Error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return &sqlerr.Error{Code: sqlerr.DiskFull, Msg: "could not write to write-ahead log: no space left on device",
			Detail: fmt.Sprintf("could not %s %q", op, path), Err: err}
	}
	cause := err
	var pe *os.PathError
	if errors.As(err, &pe) {
		cause = pe.Err // its path is path
	}
	return &sqlerr.Error{Code: sqlerr.IOError, Msg: fmt.Sprintf("write-ahead log: could not %s %q: %v", op, path, cause), Err: err}
}

// Bytes is the size of the log's segment files on disk (what TruncateBefore has not
// dropped yet), read from the file system.
func (l *Log) Bytes() int64 {
	paths, _ := filepath.Glob(filepath.Join(l.dir, "*"+segmentSuffix))
	var n int64
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}
