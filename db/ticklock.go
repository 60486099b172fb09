package db

import "sync"

// tickLock is d.mu: it serializes ticks and DDL and guards the database's state. It is
// two locks. Lock takes both; so does everything that changes the views' rows (a
// tick's apply, DDL, a rebuild). A read of views' rows needs only the views lock
// (readViews), which excludes those changes but not a tick's dataflow: a tick computes
// (lockTick) while reads go on, and takes the views lock only to apply its result.
//
// A read must see every tick acknowledged before it began. A tick is acknowledged once
// it is computed and logged, and applied after that (ingestBatch): its writer takes the
// views lock before it acknowledges, so a read that starts after the acknowledgement
// waits for the apply.
type tickLock struct {
	tick  sync.Mutex
	views sync.RWMutex
	// viewsHeld is whether the holder of tick holds views too (under tick): a tick that
	// fails while it computes takes views to rebuild the views (computeTick).
	viewsHeld bool
}

// Lock takes both locks.
func (l *tickLock) Lock() {
	l.tick.Lock()
	l.views.Lock()
	l.viewsHeld = true
}

// Unlock releases both locks.
func (l *tickLock) Unlock() {
	l.viewsHeld = false
	l.views.Unlock()
	l.tick.Unlock()
}

// lockTick takes the tick lock alone, to compute a tick while reads of the views go on;
// lockViews then completes it to Lock (or unlockTick gives it up).
func (l *tickLock) lockTick() { l.tick.Lock() }

func (l *tickLock) unlockTick() { l.tick.Unlock() }

// lockViews takes the views lock for the holder of the tick lock; a no-op if it has it.
func (l *tickLock) lockViews() {
	if !l.viewsHeld {
		l.views.Lock()
		l.viewsHeld = true
	}
}

// readViews takes the views lock for reading the views' rows and d.views; it does not
// wait for a tick's dataflow, only for a tick's apply, DDL and the like.
func (l *tickLock) readViews() func() {
	l.views.RLock()
	return l.views.RUnlock
}
