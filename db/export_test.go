package db

import "time"

// Crash stops d the way kill -9 would as far as Weir's data is concerned: the log and
// the store are closed without flushing the acknowledged ticks they hold.
func (d *DB) Crash() {
	d.stopClock()
	d.stopFlusher()
	d.ckptLoop.stop()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.log != nil {
		d.log.Close()
	}
	d.closeMemConns()
	d.store.Close()
}

// Flushes is the number of flushes to the view store so far.
func (d *DB) Flushes() int64 { return d.flushes.Load() }

// HoldRecovery makes every Open wait, before recovering, until release is called.
func HoldRecovery() (release func()) {
	ch := make(chan struct{})
	beforeRecovery = func() { <-ch }
	return func() { beforeRecovery = nil; close(ch) }
}

// Restored is the tick of the checkpoint the last recovery loaded (0: it recomputed
// the views from history).
func (d *DB) Restored() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.restoredFrom
}

// CheckpointFiles lists the checkpoint files, oldest first.
func (d *DB) CheckpointFiles() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, c := range d.ckpts {
		out = append(out, c.path)
	}
	return out
}

// HoldFlushes makes every flush that runs without the tick lock wait, while writing the
// store, until release is called; entered receives once per flush that waits.
func HoldFlushes() (entered <-chan struct{}, release func()) {
	ch, in := make(chan struct{}), make(chan struct{}, 16)
	flushHook = func() { in <- struct{}{}; <-ch }
	return in, func() { flushHook = nil; close(ch) }
}

// HoldNotes makes every acknowledged tick wait, once its views hold it and before it
// notes its store writes for the flush, until release is called; entered receives once
// per tick that waits.
func HoldNotes() (entered <-chan struct{}, release func()) {
	ch, in := make(chan struct{}), make(chan struct{}, 16)
	hook := func() { in <- struct{}{}; <-ch }
	noteHook.Store(&hook)
	return in, func() { noteHook.Store(nil); close(ch) }
}

// MemoryReadsOff sends every read to the view store (after a flush) until restore is
// called, as before reads of views were served from memory.
func MemoryReadsOff() (restore func()) {
	memReadsOff.Store(true)
	return func() { memReadsOff.Store(false) }
}

// SetMemReadMaxRows bounds the indexed rows a read from memory may copy (memReadMaxRows).
func SetMemReadMaxRows(n int) (restore func()) {
	old := memReadMaxRows
	memReadMaxRows = n
	return func() { memReadMaxRows = old }
}

// ViewIndexed reports whether the view's rows are indexed by key (an insert-only view's
// are not, between flushes that need them).
func (d *DB) ViewIndexed(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	g := d.views[name].rows
	return g.index != nil || g.parts != nil
}

// FlushDueAfter reports whether the background flusher would flush ticks pending for
// pending, the last flush having taken last.
func (d *DB) FlushDueAfter(pending, last time.Duration) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	was, wasLast := d.unflushed.since, d.lastFlush
	defer func() { d.unflushed.since, d.lastFlush = was, wasLast }()
	d.unflushed.since, d.lastFlush = time.Now().Add(-pending), last
	return d.flushDue()
}

// FailTicks makes every tick for which fail returns an error fail with it, once
// computed (its record may already be in the log), until restore is called.
func FailTicks(fail func(tick uint64) error) (restore func()) {
	tickHook = fail
	return func() { tickHook = nil }
}

// SetCheckpointHook makes every checkpoint run fn between its snapshot and its encoding
// (ticks may run then), until the returned func is called.
func SetCheckpointHook(fn func()) (restore func()) {
	ckptHook = fn
	return func() { ckptHook = nil }
}
