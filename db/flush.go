package db

import (
	"context"
	"fmt"
	"time"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/storage/viewstore"
)

// A flush reads the in-memory state (which rows of which views changed, and how many
// copies of each there are now; table rows; watermarks; operator counters) and writes it
// to the view store. The reading must hold d.mu; the writing (DuckDB, most of a flush's
// time) need not: a background flush or a read's flush records its writes under d.mu
// into a txRecorder, lets ticks go on, and runs them in one store transaction, with
// flushMu keeping flushes in order. A flush that must not let ticks in (DDL, checkpoint,
// Close) runs synchronously under d.mu, after waiting for one in flight.

// storeWriter is what writing a flush needs of a store transaction.
type storeWriter interface {
	Insert(rel *catalog.Relation, b *delta.Batch) error
	InsertBatches(rel *catalog.Relation, bs []*delta.Batch) error
	DeleteMatching(rel *catalog.Relation, keyCols []int, b *delta.Batch) error
	Truncate(rel *catalog.Relation) error
	SetWatermark(source string, wm, maxTS, late int64) error
	SetMeta(key, value string) error
}

// txRecorder records a flush's writes to run them later on a real transaction. The
// batches it is handed are not modified afterwards (they are built for the flush).
type txRecorder struct{ steps []func(*viewstore.Tx) error }

func (r *txRecorder) add(f func(*viewstore.Tx) error) error { r.steps = append(r.steps, f); return nil }

func (r *txRecorder) Insert(rel *catalog.Relation, b *delta.Batch) error {
	return r.add(func(tx *viewstore.Tx) error { return tx.Insert(rel, b) })
}

func (r *txRecorder) InsertBatches(rel *catalog.Relation, bs []*delta.Batch) error {
	return r.add(func(tx *viewstore.Tx) error { return tx.InsertBatches(rel, bs) })
}

func (r *txRecorder) DeleteMatching(rel *catalog.Relation, keyCols []int, b *delta.Batch) error {
	return r.add(func(tx *viewstore.Tx) error { return tx.DeleteMatching(rel, keyCols, b) })
}

func (r *txRecorder) Truncate(rel *catalog.Relation) error {
	return r.add(func(tx *viewstore.Tx) error { return tx.Truncate(rel) })
}

func (r *txRecorder) SetWatermark(source string, wm, maxTS, late int64) error {
	return r.add(func(tx *viewstore.Tx) error { return tx.SetWatermark(source, wm, maxTS, late) })
}

func (r *txRecorder) SetMeta(key, value string) error {
	return r.add(func(tx *viewstore.Tx) error { return tx.SetMeta(key, value) })
}

// later runs f on w when w's writes run: at once on a transaction, when the recorder's
// steps run on a recorder.
func later(w storeWriter, f func(storeWriter) error) error {
	if r, ok := w.(*txRecorder); ok {
		return r.add(func(tx *viewstore.Tx) error { return f(tx) })
	}
	return f(w)
}

// writeFlush writes u's changes and the log position and connector positions it covers
// to w.
//
// Once it has taken u's changes, nothing pending finds a view's rows by key: the
// insert-only bags that were indexed for u (or for a replay) drop their index again.
// The caller holds d.mu.
func (d *DB) writeFlush(w storeWriter, u *unflushed) error {
	err := d.writePending(w, u)
	if err == nil && !d.replaying && d.unflushed == u {
		for _, v := range d.views {
			v.rows.dropIndex()
		}
	}
	if err == nil && d.log != nil {
		err = w.SetMeta(viewstore.MetaLSN, fmt.Sprint(uint64(u.lsn)))
	}
	for k, v := range u.progress {
		if err == nil {
			err = w.SetMeta(progressPrefix+k, v)
		}
	}
	return err
}

// flushed records that u is in the store. The caller holds d.mu.
func (d *DB) flushed(u *unflushed, start time.Time) {
	d.flushes.Add(1)
	took := time.Since(start)
	d.lastFlush = took
	d.flushNanos.Add(int64(took))
	if int64(took) > d.flushMax.Load() {
		d.flushMax.Store(int64(took))
	}
	if d.log != nil && u.lsn > 0 {
		d.flushedLSN = u.lsn
		d.truncateLog()
	}
}

// flush writes every pending tick to the view store in one transaction, with the log
// position it covers, and then drops the log segments before it. The caller holds d.mu
// throughout (a background flush in flight is waited for first). On failure the pending
// ticks stay pending (they are safe in the log) and the error is returned.
func (d *DB) flush(ctx context.Context) error {
	d.settle()
	u := d.unflushed
	if u.empty() {
		return nil
	}
	start := time.Now()
	tx, err := d.store.Begin(ctx)
	if err != nil {
		return err
	}
	if err := d.writeFlush(tx, u); err != nil {
		tx.Rollback()
		return err
	}
	if err := d.commit(tx, u.tick); err != nil {
		return err
	}
	d.unflushed = u.next()
	d.flushed(u, start)
	return nil
}

// inflight is a flush whose writes run without d.mu.
type inflight struct {
	u     *unflushed
	start time.Time
	done  chan struct{} // closed when the transaction has committed or failed
	err   error
}

// flushOut is flush for a caller that does not hold d.mu: ticks go on while the store is
// written. It returns once every tick applied before the call is in the store.
func (d *DB) flushOut(ctx context.Context) error {
	d.flushMu.Lock()
	defer d.flushMu.Unlock()
	return d.flushOutLocked(ctx)
}

// flushOutLocked is flushOut for a caller that holds flushMu.
func (d *DB) flushOutLocked(ctx context.Context) error {
	d.mu.Lock()
	d.settle()
	u := d.unflushed
	if u.empty() {
		d.mu.Unlock()
		return nil
	}
	f := &inflight{u: u, start: time.Now(), done: make(chan struct{})}
	var rec txRecorder
	if err := d.writeFlush(&rec, u); err != nil {
		d.mu.Unlock()
		return err
	}
	d.unflushed = u.next()
	d.inflight = f
	d.mu.Unlock()

	if flushHook != nil {
		flushHook()
	}
	f.err = d.runRecorded(ctx, &rec, u.tick)
	close(f.done)

	d.mu.Lock()
	d.settle()
	d.mu.Unlock()
	return f.err
}

// settle waits for the flush in flight, if any, and records its outcome: its ticks are
// in the store, or (it failed) pending again in front of the later ones. It never
// releases d.mu, which the caller holds (the flush's writes do not need it).
func (d *DB) settle() {
	d.waitNotes()
	f := d.inflight
	if f == nil {
		return
	}
	<-f.done
	d.inflight = nil
	if f.err != nil {
		d.graph.written = nil // the operators table is rewritten whole next time
		d.unflushed = f.u.then(d.unflushed)
		return
	}
	d.graph.written = d.graph.pending
	d.flushed(f.u, f.start)
}

// flushHook, when set (by tests), runs in flushOut while the flush writes the store.
var flushHook func()

// runRecorded runs rec's writes in one transaction committed at tick.
func (d *DB) runRecorded(ctx context.Context, rec *txRecorder, tick uint64) error {
	tx, err := d.store.Begin(ctx)
	if err != nil {
		return err
	}
	for _, step := range rec.steps {
		if err := step(tx); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit(tick)
}

// then returns u followed by the later pending ticks v: what a failed flush of u puts
// back in front of the ticks applied meanwhile.
func (u *unflushed) then(v *unflushed) *unflushed {
	out := &unflushed{}
	for _, x := range []*unflushed{u, v} {
		if x.empty() {
			continue
		}
		if out.ticks == 0 {
			out.since = x.since
		}
		out.ticks += x.ticks
		out.tick = max(out.tick, x.tick)
		out.lsn = max(out.lsn, x.lsn)
		out.rows += x.rows
		for name, bs := range x.appends {
			if out.appends == nil {
				out.appends = map[string][]*delta.Batch{}
			}
			out.appends[name] = append(out.appends[name], bs...)
		}
		appendBatches(&out.tables, x.tables)
		for name, rows := range x.views {
			if out.views == nil {
				out.views = map[string]*pendingRows{}
			}
			if out.views[name] == nil {
				out.views[name] = newPendingRows(0)
			}
			out.views[name].merge(rows)
		}
		for k, row := range x.errs {
			if out.errs == nil {
				out.errs = map[string][]delta.Value{}
			}
			out.errs[k] = row
		}
		if x.late != nil && x.late.Len() > 0 {
			if out.late == nil {
				out.late = delta.New(x.late.Kinds())
			}
			out.late.AppendBatch(x.late, 1)
		}
		for name := range x.moved {
			if out.moved == nil {
				out.moved = map[string]bool{}
			}
			out.moved[name] = true
		}
		for k, v := range x.progress {
			if out.progress == nil {
				out.progress = map[string]string{}
			}
			out.progress[k] = v
		}
	}
	return out
}

// keepBatches adds each batch of src, not copied, to the list of the same name in *dst,
// and returns how many rows they hold.
func keepBatches(dst *map[string][]*delta.Batch, src map[string]*delta.Batch) int {
	n := 0
	for name, b := range src {
		if *dst == nil {
			*dst = map[string][]*delta.Batch{}
		}
		(*dst)[name] = append((*dst)[name], b)
		n += b.Len()
	}
	return n
}

// appendBatches appends each batch of src to the batch of the same name in *dst.
func appendBatches(dst *map[string]*delta.Batch, src map[string]*delta.Batch) int {
	n := 0
	for name, b := range src {
		if *dst == nil {
			*dst = map[string]*delta.Batch{}
		}
		cur, ok := (*dst)[name]
		if !ok {
			cur = delta.New(b.Kinds())
			(*dst)[name] = cur
		}
		cur.AppendBatch(b, 1)
		n += b.Len()
	}
	return n
}
