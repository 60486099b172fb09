package db

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/storage/wal"
)

// Durability (DESIGN §4): a write is acknowledged once its tick's input is in the
// write-ahead log (storage/wal, fsynced, group-committed: concurrent ingests share a
// tick and so a record and an fsync). A tick of source or table rows is logged while
// the dataflow computes it (tickLog), so that the fsync and the operators share the
// wait; a tick that fails once its record is logged is followed in the log by an abort
// record naming it, and replay drops the two. Its changes to the view store wait in
// d.unflushed until a flush writes every pending tick in one DuckDB transaction with
// the log position it covers: the checkpoint. Flushes happen before every read (so a
// reader sees every acknowledged write, and all views at one tick), before DDL, at
// Close, and at the latest FlushInterval after a write; the log segments a flush covers
// are deleted.
//
// Recovery loads the last checkpoint from DuckDB (catalog, tables, source histories,
// watermarks), recomputes the views from it, replays the log records after the
// checkpoint as ticks, and flushes. A failed tick recovers the same way, so acknowledged
// ticks that were not yet flushed are never lost.

// DefaultFlushInterval is how long acknowledged ticks may wait in memory (and in the
// log) before they are written to the view store, unless flushes take longer than a
// third of it (flushDuty).
const DefaultFlushInterval = 200 * time.Millisecond

// tickRecord is one logged tick: its sequence number and input.
type tickRecord struct {
	seq uint64
	in  tickInput
}

// Record versions: 1 has appends and table changes; 2 adds the progress pairs.
const tickRecordVersion = 2

// abortRecord is the first byte of the record that withdraws the tick record just
// before it (a tick that failed after it was logged): abortRecord, then the tick.
const abortRecord = 0xA0

func appendAbort(buf []byte, seq uint64) []byte {
	return binary.AppendUvarint(append(buf, abortRecord), seq)
}

// decodeAbort returns the tick an abort record withdraws; ok is false for any other
// record.
func decodeAbort(p []byte) (seq uint64, ok bool, err error) {
	if len(p) == 0 || p[0] != abortRecord {
		return 0, false, nil
	}
	seq, k := binary.Uvarint(p[1:])
	if k <= 0 || 1+k != len(p) {
		return 0, true, fmt.Errorf("%w: abort record", errBadRecord)
	}
	return seq, true, nil
}

// tickLog is a tick's record being written to the log while the tick is computed.
type tickLog struct {
	done chan struct{}
	buf  []byte // the record, d.recBuf's to reuse once done
	lsn  wal.LSN
	err  error
}

// startLog starts writing tick's record of in (source or table rows) to the log, and
// returns it; nil when the tick is not logged this way (no log, a replay, or nothing but
// connector progress, which computeTick logs after the tick as before). The dataflow
// only reads in's batches, and the record is encoded from them meanwhile.
func (d *DB) startLog(ctx context.Context, tick uint64, in tickInput) *tickLog {
	if d.log == nil || d.replaying || (len(in.appends) == 0 && len(in.tables) == 0) {
		return nil
	}
	l := &tickLog{done: make(chan struct{}), buf: d.recBuf[:0]}
	d.recBuf = nil
	go func() {
		defer close(l.done)
		// The log is done with the record when Commit returns: the buffer is reused.
		l.buf = appendTick(l.buf, tick, in)
		l.lsn, l.err = d.log.Commit(ctx, l.buf)
	}()
	return l
}

// wait returns the record's position once it is on disk. The caller holds d.mu.
func (l *tickLog) wait(d *DB) (wal.LSN, error) {
	<-l.done
	d.recBuf = l.buf
	return l.lsn, l.err
}

// abort waits for the record of tick, which failed, and withdraws it with an abort
// record if it was logged. Should that fail too, the tick's record stands: a recovery
// would apply the tick whose writer was told it failed, as a COMMIT whose answer is lost
// may have committed; it is logged as an error.
func (l *tickLog) abort(ctx context.Context, d *DB, tick uint64) {
	if _, err := l.wait(d); err != nil {
		return // not logged
	}
	if _, err := d.log.Commit(ctx, appendAbort(nil, tick)); err != nil {
		d.logger.Error("withdrawing a failed tick from the write-ahead log failed; a recovery would apply it", "tick", tick, "err", err)
	}
}

// encodeTick renders a tick's input as a log record: a version byte, the tick, then
// the source appends and the table changes, each a count and (name, batch) pairs in
// name order.
func encodeTick(seq uint64, in tickInput) []byte { return appendTick(nil, seq, in) }

// appendTick appends encodeTick's record to buf.
func appendTick(buf []byte, seq uint64, in tickInput) []byte {
	buf = append(buf, tickRecordVersion)
	buf = binary.AppendUvarint(buf, seq)
	for _, m := range []map[string]*delta.Batch{in.appends, in.tables} {
		names := make([]string, 0, len(m))
		for name := range m {
			names = append(names, name)
		}
		sort.Strings(names)
		buf = binary.AppendUvarint(buf, uint64(len(names)))
		for _, name := range names {
			buf = binary.AppendUvarint(buf, uint64(len(name)))
			buf = append(buf, name...)
			buf = m[name].AppendBinary(buf)
		}
	}
	keys := slices.Sorted(maps.Keys(in.progress))
	buf = binary.AppendUvarint(buf, uint64(len(keys)))
	for _, k := range keys {
		buf = delta.AppendStateBytes(buf, k)
		buf = delta.AppendStateBytes(buf, in.progress[k])
	}
	return buf
}

var errBadRecord = errors.New("malformed tick record")

// decodeTick parses a record written by encodeTick.
func decodeTick(p []byte) (tickRecord, error) {
	var rec tickRecord
	if len(p) == 0 || p[0] < 1 || p[0] > tickRecordVersion {
		return rec, fmt.Errorf("%w: unknown version", errBadRecord)
	}
	version := p[0]
	p = p[1:]
	seq, k := binary.Uvarint(p)
	if k <= 0 {
		return rec, errBadRecord
	}
	rec.seq, p = seq, p[k:]
	maps := [2]map[string]*delta.Batch{}
	for i := range maps {
		n, k := binary.Uvarint(p)
		if k <= 0 || n > uint64(len(p)) {
			return rec, errBadRecord
		}
		p = p[k:]
		maps[i] = make(map[string]*delta.Batch, n)
		for range n {
			l, k := binary.Uvarint(p)
			if k <= 0 || l > uint64(len(p)-k) {
				return rec, errBadRecord
			}
			name := string(p[k : k+int(l)])
			b, rest, err := delta.DecodeBatch(p[k+int(l):])
			if err != nil {
				return rec, fmt.Errorf("%w: %v", errBadRecord, err)
			}
			maps[i][name], p = b, rest
		}
	}
	rec.in = tickInput{appends: maps[0], tables: maps[1]}
	if version >= 2 {
		r := delta.NewStateReader(p)
		for n := r.Count(2); n > 0; n-- {
			k, v := r.String(), r.String()
			if rec.in.progress == nil {
				rec.in.progress = map[string]string{}
			}
			rec.in.progress[k] = v
		}
		if err := r.Err(); err != nil {
			return rec, fmt.Errorf("%w: progress: %v", errBadRecord, err)
		}
		p = p[len(p)-r.Len():]
	}
	if len(p) != 0 {
		return rec, fmt.Errorf("%w: %d trailing bytes", errBadRecord, len(p))
	}
	return rec, nil
}

// unflushed is what acknowledged ticks changed that the view store does not hold yet.
// Rows of views and of the error table are kept as keys: a flush writes their
// multiplicities as they are then.
type unflushed struct {
	ticks    int
	tick     uint64 // the last tick folded in
	lsn      wal.LSN
	since    time.Time                 // when the oldest pending tick was applied
	rows     int                       // rows pending, to bound memory
	appends  map[string][]*delta.Batch // each source's ticks' batches, in order, as ingested (never modified)
	tables   map[string]*delta.Batch
	views    map[string]*pendingRows  // view -> its touched rows
	errs     map[string][]delta.Value // error row key -> row (its first column is the view)
	late     *delta.Batch
	moved    map[string]bool   // sources whose watermark moved
	progress map[string]string // connector positions, the latest of each key

	// sizes are the keys each view had pending in the flush before: its map of keys
	// starts that large, where growing it a doubling at a time rehashed every key
	// several times under d.mu (1.6 s of the live-room pack's 47 CPU s in 30 s).
	sizes map[string]int
}

// next returns an empty unflushed for the ticks after u, its views' key maps sized
// after u's.
func (u *unflushed) next() *unflushed {
	out := &unflushed{sizes: make(map[string]int, len(u.views))}
	for name, p := range u.views {
		out.sizes[name] = len(p.rows)
	}
	return out
}

// pendingRows are the touched keys of a view (bag keys), each with a row it had: a
// flush writes the rows the key has then (bag.current). A key is fresh when it had no
// rows at its first touch since the last flush (touchedRows): the store has none. The
// flag lives beside the row, so a flush's walk over the keys looks nothing up (a map of
// fresh keys of its own cost the live-room pack's flushes 1.4 s in 30 s, under d.mu).
//
// appended are the rows an unindexed bag, appendBag, appended (touchedRows.appended), in
// order. Rows appended by another bag (of a view dropped since) are not written: that
// view's table went with it.
type pendingRows struct {
	key   []int // the key columns of the bag the keys are from
	rows  map[string]pendingRow
	fresh int // the fresh keys

	appended  []*delta.Batch
	appendBag *bag
}

// pendingRow is a pending key's row, and whether the key is fresh.
type pendingRow struct {
	row   []delta.Value
	fresh bool
}

// newPendingRows returns an empty pendingRows with room for size keys.
func newPendingRows(size int) *pendingRows {
	return &pendingRows{rows: make(map[string]pendingRow, size)}
}

// addAppended records rows appended by bag g after those recorded.
func (p *pendingRows) addAppended(g *bag, rows []*delta.Batch) {
	if len(rows) == 0 {
		return
	}
	if p.appendBag != g {
		p.appended, p.appendBag = nil, g
	}
	p.appended = append(p.appended, rows...)
}

// note records touched rows of the view; it returns how many keys or rows are new.
func (p *pendingRows) note(t *touchedRows) int {
	if t.Len() == 0 {
		return 0
	}
	p.addAppended(t.bag, t.appended)
	if len(p.rows) == 0 && t.bag != nil {
		p.key = t.bag.key
	}
	n := p.noteKeys(t)
	for _, q := range t.parts {
		n += p.noteKeys(q)
	}
	return n
}

// noteKeys is note for the keys t lists itself (not those of its parts) and the rows
// it appended.
func (p *pendingRows) noteKeys(t *touchedRows) int {
	n := 0
	for _, b := range t.appended {
		n += b.Len()
	}
	for i, key := range t.keys {
		if i > 0 && key == t.keys[i-1] {
			// An aggregate's group retracts its old row and inserts its new one: the
			// second touch of a key adds nothing (its strings share their bytes, so the
			// comparison is one pointer check).
			continue
		}
		if _, ok := p.rows[key]; !ok {
			fresh := len(t.fresh) == len(t.keys) && t.fresh[i]
			p.rows[key] = pendingRow{t.rows[i], fresh}
			n++
			if fresh {
				p.fresh++
			}
		}
	}
	return n
}

// merge records the rows of q, touched later than p's.
func (p *pendingRows) merge(q *pendingRows) {
	p.addAppended(q.appendBag, q.appended)
	if len(q.rows) == 0 {
		return
	}
	if len(p.rows) == 0 {
		p.key = q.key
	}
	for k, r := range q.rows {
		if had, ok := p.rows[k]; ok {
			r.fresh = had.fresh // p's first touch of k is p's
		} else if r.fresh {
			p.fresh++ // as p's first touch of k is q's
		}
		p.rows[k] = r
	}
}

func (u *unflushed) empty() bool { return u == nil || u.ticks == 0 }

// add folds one tick into u.
func (u *unflushed) add(tick uint64, lsn wal.LSN, in tickInput, viewChanges map[string]*touchedRows, errChanges *touchedRows, late *delta.Batch) {
	if u.ticks == 0 {
		u.since = time.Now()
	}
	u.ticks++
	u.tick, u.lsn = tick, max(u.lsn, lsn)
	u.rows += keepBatches(&u.appends, in.appends)
	for k, v := range in.progress {
		if u.progress == nil {
			u.progress = map[string]string{}
		}
		u.progress[k] = v
	}
	u.rows += appendBatches(&u.tables, in.tables)
	for name, t := range viewChanges {
		if u.views == nil {
			u.views = map[string]*pendingRows{}
		}
		if u.views[name] == nil {
			u.views[name] = newPendingRows(u.sizes[name])
		}
		u.rows += u.views[name].note(t)
	}
	if errChanges.Len() > 0 {
		if u.errs == nil {
			u.errs = map[string][]delta.Value{}
		}
		for i, key := range errChanges.keys {
			if _, ok := u.errs[key]; !ok {
				u.errs[key] = errChanges.rows[i]
				u.rows++
			}
		}
	}
	if late.Len() > 0 {
		if u.late == nil {
			u.late = delta.New(late.Kinds())
		}
		u.late.AppendBatch(late, 1)
	}
	for name := range in.appends {
		if u.moved == nil {
			u.moved = map[string]bool{}
		}
		u.moved[name] = true
	}
}

// writePending writes u's changes in tx.
func (d *DB) writePending(tx storeWriter, u *unflushed) error {
	viewChanges := map[string]*bagRows{}
	for name, rows := range u.views {
		v, ok := d.views[name]
		if !ok {
			continue // dropped since (its table is gone with it)
		}
		viewChanges[name] = v.rows.touched(rows)
	}
	errChanges := &bagRows{kinds: relKinds(errorsRel), rows: make([]countedRow, 0, len(u.errs))}
	for key, row := range u.errs {
		n := int64(0)
		if v, ok := d.views[row[0].S]; ok {
			n = v.errs.multiplicity(key)
		}
		errChanges.rows = append(errChanges.rows, countedRow{Values: row, N: n})
	}
	// The sources' history: a tick's batch is kept as it was ingested (copying it into
	// one batch per source would cost the tick a copy of every event); the store writer
	// concatenates the small ones.
	for name, bs := range u.appends {
		rel, err := d.cat.Get(name)
		if err != nil {
			return err
		}
		if err := tx.InsertBatches(rel, bs); err != nil {
			return err
		}
	}
	if err := d.write(tx, tickInput{tables: u.tables}, viewChanges, errChanges); err != nil {
		return err
	}
	late := u.late
	if late == nil {
		late = delta.New(relKinds(lateRel))
	}
	moved := map[string]*delta.Batch{}
	for name := range u.moved {
		moved[name] = nil
	}
	return d.writeEventTime(tx, late, moved)
}

// touched returns the rows the pending keys have now (bag.current): what writeBag
// mirrors. Keys noted from a bag with other key columns (a view dropped and made again
// since) are found again from their row.
//
// The rows g appended unindexed come along as they are. When keys were touched as well,
// none counts as fresh: writeBag inserts the appended rows first, and a key among them
// must be deleted before its rows are written again.
func (g *bag) touched(p *pendingRows) *bagRows {
	out := &bagRows{kinds: g.kinds, key: g.key}
	if p.appendBag == g {
		out.appended = p.appended
	}
	if len(p.rows) == 0 {
		return out
	}
	out.rows = make([]countedRow, 0, len(p.rows))
	same := slices.Equal(p.key, g.key)
	if same && p.fresh > 0 && len(out.appended) == 0 {
		out.fresh = make([]bool, 0, len(p.rows))
	}
	var enc []byte
	for key, r := range p.rows {
		if !same {
			enc = g.rowKey(enc[:0], r.row)
			key = string(enc)
		}
		out.rows = g.current(out.rows, key, r.row)
		if out.fresh != nil {
			for len(out.fresh) < len(out.rows) {
				out.fresh = append(out.fresh, r.fresh)
			}
		}
	}
	return out
}

// durabilityError marks a failure to log a tick: the write is refused.
func durabilityError(err error) error {
	if sqlerr.CodeOf(err) != "" {
		return err
	}
	return sqlerr.Wrap(err, sqlerr.IOError, "could not write to the write-ahead log")
}

// maxPendingRows bounds the rows acknowledged ticks may hold in memory before a flush.
const maxPendingRows = 1 << 20

// flushDue reports whether the pending ticks should be flushed now. The caller holds d.mu.
func (d *DB) flushDue() bool {
	switch {
	case d.replaying:
		return false // the replay flushes once at the end
	case d.log == nil || d.flushInterval < 0:
		return true
	}
	d.waitNotes()
	return d.unflushed.due(d.flushWait())
}

// flushWait is how long pending ticks wait for the background flusher (flushDuty).
// The caller holds d.mu.
func (d *DB) flushWait() time.Duration {
	return max(d.flushInterval, min(flushDuty*d.lastFlush, maxFlushWait))
}

// due reports whether u should be flushed now: it holds too many rows, or its first
// tick has waited for wait.
func (u *unflushed) due(wait time.Duration) bool {
	return u.rows >= maxPendingRows || time.Since(u.since) >= wait
}

// waitNotes waits until no acknowledged tick is noting its changes in d.unflushed
// without d.mu (applyTick). The caller holds d.mu, so no other tick starts one.
func (d *DB) waitNotes() {
	d.noteMu.Lock()
	d.noteMu.Unlock() //nolint:staticcheck // an empty critical section: a wait
}

// flushDuty: the background flusher waits at least flushDuty times the last flush's
// duration (up to maxFlushWait) before the next, so that it takes at most about a
// 1/(flushDuty+1) share of a core. A flush costs more than the keys it writes: each
// view's changed keys are deleted through a join that scans the view's table, so a
// rarer flush does the same work for more ticks.
const (
	flushDuty    = 3
	maxFlushWait = 5 * time.Second
)

// flushForRead flushes pending ticks before a read, so that it sees every acknowledged
// write. A failed flush is logged and the read goes on with the last flushed state
// (consistent, but without the writes still in the log). The caller holds flushMu.
func (d *DB) flushForRead(ctx context.Context) {
	if err := d.flushOutLocked(ctx); err != nil {
		d.logger.Warn("flush before read failed; reading the last flushed tick", "err", err)
	}
}

// startFlusher starts the goroutine that flushes acknowledged ticks every
// FlushInterval when nothing else has (reads, DDL and later writes flush too).
func (d *DB) startFlusher(ctx context.Context) {
	if d.log == nil || d.flushInterval < 0 {
		return
	}
	d.flushLoop = every(ctx, d.flushInterval, func(ctx context.Context) {
		d.mu.Lock()
		due := d.flushDue()
		d.mu.Unlock()
		if due {
			if err := d.flushOut(ctx); err != nil {
				d.logger.Warn("background flush failed; acknowledged ticks stay in the write-ahead log", "err", err)
			}
		}
	})
	// Merging a full tier of Parquet segments (storage/viewstore/segments.go) writes the
	// merged file while ticks and flushes go on, and swaps it in under flushMu and d.mu:
	// the swap is a transaction on the store's one writer connection, which background
	// flushes use under flushMu, and DDL, checkpoints and sinks under d.mu. (Under flushMu
	// alone, a swap that met a DROP's transaction aborted it.)
	lockWriter := func() func() {
		d.flushMu.Lock()
		d.mu.Lock()
		return func() { d.mu.Unlock(); d.flushMu.Unlock() }
	}
	d.mergeLoop = every(ctx, segmentMergeInterval, func(ctx context.Context) {
		for {
			merged, err := d.store.MergeSegments(ctx, lockWriter)
			if err != nil && ctx.Err() == nil {
				d.logger.Warn("merging segments failed; the segments stay as they are", "err", err)
			}
			if !merged {
				return
			}
		}
	})
}

// segmentMergeInterval is how often the background merge looks for a full tier of
// segments.
var segmentMergeInterval = time.Second

func (d *DB) stopFlusher() {
	d.flushLoop.stop()
	d.mergeLoop.stop()
}

// replayFrom runs the log records from LSN from on as ticks, without logging them again.
// Ticks up to stored are in the view store already (recovery from a checkpoint older
// than the store): runTick writes only their view changes again. The caller holds d.mu.
func (d *DB) replayFrom(ctx context.Context, from wal.LSN, stored uint64) error {
	defer func() { d.tick = max(d.tick, stored) }() // ticks that logged nothing end there too
	if d.log == nil || d.log.LastLSN() < from {
		return nil
	}
	total := d.log.LastLSN() - from + 1
	d.logger.Info("replaying the write-ahead log", "from", uint64(from), "records", uint64(total))
	d.replaying, d.storedTick = true, stored
	defer func() { d.replaying, d.storedTick = false, 0 }()
	start, last := time.Now(), time.Now()
	var n uint64
	// Consecutive records run as one tick (up to replayBatchRows rows): the views end
	// the same, and one big step costs far less than many small ones. Each record's
	// events are still judged late or on time against the watermark before that record
	// (tickInput.parts), and ticks the store holds are never merged with ticks it does not.
	var group []tickRecord
	var groupRows int
	var groupLSN wal.LSN
	run := func() error {
		if len(group) == 0 {
			return nil
		}
		in := mergeRecords(group)
		first, lastSeq := group[0].seq, group[len(group)-1].seq
		d.tick = lastSeq - 1
		if err := d.runTick(ctx, in); err != nil {
			return sqlerr.Wrap(err, "", "replaying write-ahead log records up to %d (ticks %d-%d)", uint64(groupLSN), first, lastSeq)
		}
		d.unflushed.lsn = groupLSN
		group, groupRows = group[:0], 0
		return nil
	}
	err := d.log.Replay(from, func(lsn wal.LSN, p []byte) error {
		if seq, ok, err := decodeAbort(p); ok {
			// The tick record just before is withdrawn; nothing ran it yet (a group runs
			// only when the record after its last arrives, and this is that record). The
			// group, if it runs, covers the log up to the abort record: a flush after it
			// must not leave the abort without its record.
			if err != nil || len(group) == 0 || group[len(group)-1].seq != seq {
				return sqlerr.New(sqlerr.DataCorrupted, "write-ahead log record %d: abort of tick %d, which is not the record before it", uint64(lsn), seq)
			}
			groupRows -= group[len(group)-1].rows()
			group, groupLSN = group[:len(group)-1], lsn
			return nil
		}
		rec, err := decodeTick(p)
		if err != nil {
			return sqlerr.Wrap(err, sqlerr.DataCorrupted, "write-ahead log record %d", uint64(lsn))
		}
		if len(group) > 0 && (groupRows >= replayBatchRows || (group[0].seq <= stored) != (rec.seq <= stored)) {
			if err := run(); err != nil {
				return err
			}
		}
		group, groupLSN = append(group, rec), lsn
		groupRows += rec.rows()
		if n++; time.Since(last) > 5*time.Second {
			last = time.Now()
			d.logger.Info("replaying the write-ahead log", "done", n, "of", uint64(total))
		}
		return nil
	})
	if err == nil {
		err = run()
	}
	if err != nil {
		return err
	}
	d.logger.Info("replayed the write-ahead log", "records", n, "tick", d.tick, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// replayBatchRows bounds the rows of the log records recovery runs as one tick.
const replayBatchRows = 1 << 20

// rows counts the rows of a record.
func (r tickRecord) rows() int {
	n := 0
	for _, m := range []map[string]*delta.Batch{r.in.appends, r.in.tables} {
		for _, b := range m {
			n += b.Len()
		}
	}
	return n
}

// mergeRecords folds consecutive log records into one tick's input: their appends and
// table changes in order, their positions (the later one wins), and one part per record
// so that event time is judged record by record.
func mergeRecords(recs []tickRecord) tickInput {
	if len(recs) == 1 {
		return recs[0].in
	}
	in := tickInput{appends: map[string]*delta.Batch{}, tables: map[string]*delta.Batch{}}
	for _, r := range recs {
		for _, pair := range [][2]map[string]*delta.Batch{{in.appends, r.in.appends}, {in.tables, r.in.tables}} {
			for name, b := range pair[1] {
				cur, ok := pair[0][name]
				if !ok {
					cur = delta.New(b.Kinds())
					pair[0][name] = cur
				}
				cur.AppendBatch(b, 1)
			}
		}
		for k, v := range r.in.progress {
			if in.progress == nil {
				in.progress = map[string]string{}
			}
			in.progress[k] = v
		}
		in.parts = append(in.parts, tickPart{seq: r.seq, appends: r.in.appends})
	}
	return in
}

// MemoryReads returns how many reads were served from the views' rows in memory
// rather than from the view store (memread.go).
func (d *DB) MemoryReads() int64 { return d.memReads.Load() }

// MemoryPrepares returns how many statements those reads have had DuckDB prepare: a
// read whose statement a kept connection has prepared before runs it again (memstmt.go).
func (d *DB) MemoryPrepares() int64 { return d.memPrepares.Load() }

// FlushStats returns the flushes to the view store so far, their total time and the
// longest one.
func (d *DB) FlushStats() (n int64, total, longest time.Duration) {
	return d.flushes.Load(), time.Duration(d.flushNanos.Load()), time.Duration(d.flushMax.Load())
}

// StoreMemory returns what the view store's DuckDB holds in memory, by tag
// (viewstore.Store.Memory).
func (d *DB) StoreMemory(ctx context.Context) (map[string]int64, error) {
	return d.store.Memory(ctx)
}
