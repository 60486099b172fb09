package db

// Crash stops d the way kill -9 would as far as Weir's data is concerned: the log and
// the store are closed without flushing the acknowledged ticks they hold.
func (d *DB) Crash() {
	d.stopClock()
	d.stopFlusher()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.log != nil {
		d.log.Close()
	}
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
