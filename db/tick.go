package db

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/storage/wal"
)

// tickInput is what one write contributes to a tick: events appended to sources, and
// the changes (retractions and insertions, whole rows) of tables.
type tickInput struct {
	appends  map[string]*delta.Batch
	tables   map[string]*delta.Batch
	progress map[string]string // connector positions committed with the tick (IngestWithProgress)
	// parts, when set, are the ticks this one merges (recovery replays consecutive log
	// records as one tick): each part's appends are judged against the watermark after
	// the parts before it, and late events keep their own tick.
	parts []tickPart
}

// tickPart is one merged tick: its number and its appends.
type tickPart struct {
	seq     uint64
	appends map[string]*delta.Batch
}

// runTick applies in as one tick: dataflows, then one store transaction. The caller
// holds d.mu. On failure nothing of the tick is kept.
func (d *DB) runTick(ctx context.Context, in tickInput) error {
	r, err := d.computeTick(ctx, in)
	if err != nil || r == nil {
		return err
	}
	_, err = d.applyTick(ctx, r, false)
	return err
}

// computedTick is a tick whose dataflows have run and whose input is in the log: all
// that can fail of it has succeeded, except the store write without a log. What is left
// (applyTick) brings the views' rows, the pending store writes and the subscribers up to
// it.
type computedTick struct {
	tick uint64
	now  int64 // d.now before the tick, which a failed apply puts back
	in   tickInput
	lsn  wal.LSN
	late *delta.Batch
	outs []viewOut    // the views' changes, in catalog order (only views that changed)
	errs *delta.Batch // the row errors the tick added or retracted; nil when none
}

type viewOut struct {
	v   *view
	out *delta.Batch
}

// computeTick runs the dataflows over in and logs in; nil (and no error) when the tick
// changes nothing and is skipped. The caller holds d.mu, and must applyTick the result
// before releasing it. On failure nothing of the tick is kept.
func (d *DB) computeTick(ctx context.Context, in tickInput) (_ *computedTick, err error) {
	tick := d.tick + 1
	var logged *tickLog // the tick's record on its way to the log
	prevNow := d.now
	changes := map[string]*delta.Batch{}
	for name, b := range in.appends {
		changes[name] = b
	}
	for name, b := range in.tables {
		changes[name] = b
	}
	defer func() {
		if r := recover(); r != nil {
			d.logger.Error("tick panicked", "tick", tick, "panic", r)
			err = sqlerr.New(sqlerr.Internal, "internal error: %v", r)
		}
		if err != nil && logged != nil {
			logged.abort(context.WithoutCancel(ctx), d, tick)
		}
		if err != nil && !d.replaying { // a replayed tick's failure fails the recovery
			d.mu.lockViews() // the caller may hold the tick lock alone (ingestBatch)
			d.now = prevNow  // the rebuild recomputes the views as the last tick left them
			if rerr := d.rebuild(context.WithoutCancel(ctx)); rerr != nil {
				d.logger.Error("rebuild after failed tick", "err", rerr)
			}
		}
	}()
	// Table state first, so a view backfill or rebuild sees it; undone by rebuild.
	for name, b := range in.tables {
		t := d.tables[name]
		for i := 0; i < b.Len(); i++ {
			row := b.Row(i, nil)
			if b.Weights[i] > 0 {
				t.rows[pkKey(t.rel, row)] = row
			} else if cur, ok := t.rows[pkKey(t.rel, row)]; ok && delta.RowKey(cur) == delta.RowKey(row) {
				delete(t.rows, pkKey(t.rel, row))
			}
		}
	}
	logged = d.startLog(ctx, tick, in)
	r := &computedTick{tick: tick, now: prevNow, in: in}
	r.late = d.eventTimeParts(tick, in, changes)
	for _, m := range []map[string]*delta.Batch{in.appends, in.tables} {
		for name, b := range m {
			if rel, err := d.cat.Get(name); err == nil {
				d.numShapes.note(rel, b)
			}
		}
	}
	if len(d.views) > 0 {
		if err := d.graph.df.Run(ctx, d.tickAt(tick), changes); err != nil {
			return nil, err
		}
		for _, rel := range d.cat.List(catalog.View) {
			v := d.views[rel.Name]
			if out := d.graph.df.Output(v.out); out.Len() > 0 {
				r.outs = append(r.outs, viewOut{v, out})
			}
		}
		if errs := d.graph.df.Errors(); errs.Len() > 0 {
			r.errs = errs
		}
	}
	if tickHook != nil {
		if err := tickHook(tick); err != nil {
			return nil, err
		}
	}
	if len(r.outs) == 0 && r.errs == nil && d.idleNoop(in) {
		return nil, nil // nothing to commit (clock.go)
	}
	// The tick is computed; once it is logged (the acknowledgement's durability), it
	// can be applied.
	if logged != nil {
		r.lsn, err = logged.wait(d)
		logged = nil // on disk, or failed: nothing to withdraw either way
		if err != nil {
			return nil, durabilityError(err)
		}
	} else if d.log != nil && !d.replaying && len(in.progress) > 0 {
		// The log is done with the record when Commit returns: the buffer is reused.
		d.recBuf = appendTick(d.recBuf[:0], tick, in)
		if r.lsn, err = d.log.Commit(ctx, d.recBuf); err != nil {
			return nil, durabilityError(err)
		}
	}
	return r, nil
}

// tickHook, when set (by tests), runs once a tick is computed; an error fails the tick.
var tickHook func(tick uint64) error

// noteHook, when set (by tests), runs when an acknowledged tick starts noting its store
// writes without d.mu (applyTick's note).
var noteHook atomic.Pointer[func()]

// applyTick folds a computed tick into the views' rows and hands its store writes to the
// next flush (durable.go). The caller holds d.mu. It fails only when there is no log and
// the store write fails; the tick is then undone.
//
// With split, and a log and a background flusher, it leaves the noting of the tick's
// store writes in d.unflushed to the function it returns (else nil), which the caller
// runs after handing d.mu over to noteMu (ingestBatch): the views hold the tick when
// applyTick returns, so reads need not wait for the noting (about a fifth of an
// apply's time). Anything that reads d.unflushed waits for it first (waitNotes).
func (d *DB) applyTick(ctx context.Context, r *computedTick, split bool) (note func(), err error) {
	tick, in := r.tick, r.in
	defer func() {
		if p := recover(); p != nil {
			d.logger.Error("tick panicked", "tick", tick, "panic", p)
			err = sqlerr.New(sqlerr.Internal, "internal error: %v", p)
		}
		if err != nil && !d.replaying {
			d.now = r.now
			if rerr := d.rebuild(context.WithoutCancel(ctx)); rerr != nil {
				d.logger.Error("rebuild after failed tick", "err", rerr)
			}
		}
	}()
	viewChanges := map[string]*touchedRows{}
	errChanges := &touchedRows{}
	for i, rows := range applyOuts(r.outs, d.replaying) {
		o := r.outs[i]
		d.numShapes.note(o.v.rel, o.out)
		if d.replaying {
			// The store may hold rows the bags do not have yet (ticks up to the store's,
			// and the rebuilt views'): every touched key is deleted before it is written.
			rows.dropFresh()
		}
		viewChanges[o.v.rel.Name] = rows
	}
	if r.errs != nil {
		d.attributeErrors(r.errs, errChanges, viewChanges)
	}
	if d.recovering {
		for name := range viewChanges {
			d.recoveryTouched[name] = true
		}
		if errChanges.Len() > 0 {
			d.recoveryTouched[errorsRel.Name] = true
		}
		viewChanges, errChanges = nil, &touchedRows{}
	}
	d.waitNotes() // the previous tick's, if it still runs
	if d.replaying && tick <= d.storedTick {
		// The store holds this tick's input and late events (checkpoint.go); the view
		// rows it touches are rewritten with their multiplicity now, which is idempotent.
		d.unflushed.add(tick, r.lsn, tickInput{}, viewChanges, errChanges, delta.New(relKinds(lateRel)))
		d.tick = tick
		return nil, nil
	}
	d.tick = tick
	for k, v := range in.progress {
		d.progress[k] = v
	}
	if split && !d.replaying && d.log != nil && d.flushInterval >= 0 {
		for _, o := range r.outs {
			d.publish(o.v, tick, o.out)
		}
		// d.unflushed is read under noteMu: the caller holds it when note runs, and took
		// it while holding d.mu.
		wait := d.flushWait()
		return func() {
			if hook := noteHook.Load(); hook != nil {
				(*hook)()
			}
			u := d.unflushed
			u.add(tick, r.lsn, in, viewChanges, errChanges, r.late)
			if u.due(wait) {
				d.flushLoop.poke() // the tick is safe in the log; the flusher writes the store
			}
		}, nil
	}
	d.unflushed.add(tick, r.lsn, in, viewChanges, errChanges, r.late)
	switch {
	case d.replaying:
		// Recovery flushes once at the end, with the log position of the last record.
	case d.log == nil || d.flushInterval < 0:
		if err := d.flush(ctx); err != nil {
			if d.log == nil {
				return nil, err // nothing else holds the tick: it fails (and is undone by rebuild)
			}
			// The tick is safe in the log; the next flush retries.
			d.logger.Warn("flushing to the view store failed; acknowledged ticks stay in the write-ahead log", "err", err)
		}
	case d.flushDue():
		d.flushLoop.poke() // the tick is safe in the log; the flusher writes the store
	}
	for _, o := range r.outs {
		d.publish(o.v, tick, o.out)
	}
	return nil, nil
}

// applyOuts folds each view's changes into its bag and returns the rows each touched,
// in the order of outs. Every view has a bag of its own that nothing else touches during
// the apply, and every part of a bag split by key (bag.parts) is a bag of its own too,
// so from exec.ParallelMinRows changes the views and the parts are applied concurrently,
// on up to GOMAXPROCS goroutines that are done when it returns; the result is the same
// either way. A panic in an apply is raised again in the caller's goroutine. keyed
// makes every bag find its rows by key (touchedRows.keyed).
func applyOuts(outs []viewOut, keyed bool) []*touchedRows {
	touched := make([]*touchedRows, len(outs))
	total := 0
	for i, o := range outs {
		touched[i] = &touchedRows{keyed: keyed}
		total += o.out.Len()
	}
	if runtime.GOMAXPROCS(0) < 2 || total < exec.ParallelMinRows {
		for i, o := range outs {
			o.v.rows.apply(o.out, touched[i])
		}
		return touched
	}
	// The units of work: a view's whole apply, or one part's of a view whose bag is in
	// parts and whose changes are many.
	type unit struct{ out, part, rows int }
	var units []unit
	parts := make([][]*touchedRows, len(outs))
	for i, o := range outs {
		g, n := o.v.rows, o.out.Len()
		if g.parts == nil || n < exec.ParallelMinRows {
			units = append(units, unit{i, -1, n})
			continue
		}
		parts[i] = g.partTouched(touched[i])
		for p := range g.parts {
			units = append(units, unit{i, p, n / len(g.parts)})
		}
	}
	// The largest first, so that one large view does not start last.
	slices.SortStableFunc(units, func(a, b unit) int { return b.rows - a.rows })
	workers := min(runtime.GOMAXPROCS(0), len(units))
	var (
		next   atomic.Int64
		wg     sync.WaitGroup
		panics = make([]any, workers)
	)
	work := func(w int) {
		defer func() { panics[w] = recover() }()
		for k := int(next.Add(1)) - 1; k < len(units); k = int(next.Add(1)) - 1 {
			u := units[k]
			o := outs[u.out]
			if u.part < 0 {
				o.v.rows.apply(o.out, touched[u.out])
				continue
			}
			g := o.v.rows
			g.parts[u.part].applyPart(o.out, parts[u.out][u.part], u.part, len(g.parts))
		}
	}
	for w := 1; w < workers; w++ {
		wg.Go(func() { work(w) })
	}
	work(0)
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
	return touched
}

// ackBeforeApply reports whether a computed tick may be acknowledged before applyTick:
// it is in the log and applyTick cannot fail. Whoever reads what applyTick writes
// takes d.mu, which the apply holds until done, so a read after the acknowledgement
// still sees the tick.
func (d *DB) ackBeforeApply() bool {
	return d.log != nil && !d.replaying && !d.recovering
}

// write writes a flush's changes to tx. The views' rows are made into batches and written
// when tx runs its steps (a txRecorder's run without d.mu): writeBag reads only the rows
// the flush took, which the bags never modify.
func (d *DB) write(tx storeWriter, in tickInput, viewChanges map[string]*bagRows, errChanges *bagRows) error {
	for name, b := range in.appends {
		rel, err := d.cat.Get(name)
		if err != nil {
			return err
		}
		if err := tx.Insert(rel, b); err != nil {
			return err
		}
	}
	for name, b := range in.tables {
		rel, err := d.cat.Get(name)
		if err != nil {
			return err
		}
		// Delete every changed key, then insert the rows that exist after the tick.
		keys := delta.New(pkKinds(rel))
		after := delta.New(relKinds(rel))
		seen := map[string]bool{}
		for i := 0; i < b.Len(); i++ {
			row := b.Row(i, nil)
			k := pkKey(rel, row)
			if seen[k] {
				continue
			}
			seen[k] = true
			kr := make([]delta.Value, len(rel.PrimaryKey))
			for j, c := range rel.PrimaryKey {
				kr[j] = row[c]
			}
			keys.AppendRow(kr, 1)
			if cur, ok := d.tables[name].rows[k]; ok {
				after.AppendRow(cur, 1)
			}
		}
		if err := tx.DeleteMatching(rel, rel.PrimaryKey, keys); err != nil {
			return err
		}
		if err := tx.Insert(rel, after); err != nil {
			return err
		}
	}
	for name, touched := range viewChanges {
		rel, err := d.cat.Get(name)
		if err != nil {
			return err
		}
		if err := later(tx, func(w storeWriter) error { return writeBag(w, rel, touched) }); err != nil {
			return err
		}
	}
	if err := later(tx, func(w storeWriter) error { return writeBag(w, errorsRel, errChanges) }); err != nil {
		return err
	}
	return d.syncOperators(tx)
}

// attributeErrors hands the graph's row errors of a tick to every view that includes the
// failing node, logs the new ones, and folds them into the views' error bags.
func (d *DB) attributeErrors(errs *delta.Batch, errChanges *touchedRows, viewChanges map[string]*touchedRows) {
	perView := map[string]*delta.Batch{}
	for i := 0; i < errs.Len(); i++ {
		node := exec.NodeID(errs.Cols[4].I64[i])
		for _, name := range d.graph.users[node] {
			b, ok := perView[name]
			if !ok {
				b = delta.New(exec.RowErrorKinds)
				perView[name] = b
			}
			b.AppendFrom(errs, i, errs.Weights[i])
		}
	}
	for name, b := range perView {
		d.logRowErrors(name, b)
		d.views[name].errs.apply(withView(name, b), errChanges)
		if _, ok := viewChanges[name]; !ok {
			viewChanges[name] = &touchedRows{} // so its operators are rewritten
		}
	}
}

// logRowErrors logs the row errors a view's tick added (not those it retracted).
func (d *DB) logRowErrors(view string, errs *delta.Batch) {
	for i := 0; i < errs.Len(); i++ {
		if errs.Weights[i] > 0 {
			d.logger.Warn("row error in materialized view", "view", view, "operator", errs.Cols[0].Str[i],
				"code", errs.Cols[1].Str[i], "message", errs.Cols[2].Str[i], "input", errs.Cols[3].Str[i], "rows", errs.Weights[i])
		}
	}
}

func pkKinds(rel *catalog.Relation) []delta.Kind {
	ks := make([]delta.Kind, len(rel.PrimaryKey))
	for i, c := range rel.PrimaryKey {
		ks[i] = rel.Columns[c].Type.Kind()
	}
	return ks
}

// tickAt is tick seq's exec.Tick: the clock's time (never before the last tick's) and
// the sources' watermarks. The caller holds d.mu.
func (d *DB) tickAt(seq uint64) exec.Tick {
	now := d.clock().UnixMicro()
	if now < d.now {
		now = d.now
	}
	d.now = now
	return exec.Tick{Seq: seq, Now: now, Watermarks: d.tickWatermarks()}
}
