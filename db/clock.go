package db

import (
	"context"
	"slices"
	"time"

	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/planner/plan"
)

// DefaultTickInterval is how often an idle database ticks while a view has a temporal
// filter (now() in its WHERE), so that rows enter and leave it as time passes.
const DefaultTickInterval = time.Second

// clockLoop is a goroutine that calls a function at an interval until stopped: the idle
// ticker, and the background flusher (durable.go).
type clockLoop struct {
	cancel context.CancelFunc
	done   chan struct{}
	kick   chan struct{}
}

// every starts a clockLoop calling fn every interval, and soon after a poke. ctx's values
// are kept, not its cancellation: the loop lives until stop.
func every(ctx context.Context, interval time.Duration, fn func(ctx context.Context)) *clockLoop {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l := &clockLoop{cancel: cancel, done: make(chan struct{}), kick: make(chan struct{}, 1)}
	go func() {
		defer close(l.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-l.kick:
			}
			fn(ctx)
		}
	}()
	return l
}

// poke makes the loop call fn soon, without waiting for the interval. A nil loop is fine.
func (l *clockLoop) poke() {
	if l == nil {
		return
	}
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// stop stops the loop and waits for it; a call in progress finishes first. A nil loop
// (never started) is fine.
func (l *clockLoop) stop() {
	if l == nil {
		return
	}
	l.cancel()
	<-l.done
}

// startClock starts the idle ticker unless interval is negative (0 means
// DefaultTickInterval).
func (d *DB) startClock(ctx context.Context, interval time.Duration) {
	if interval < 0 {
		return
	}
	if interval == 0 {
		interval = DefaultTickInterval
	}
	d.clockLoop = every(ctx, interval, func(ctx context.Context) {
		if err := d.tickIdle(context.WithoutCancel(ctx)); err != nil {
			d.logger.Warn("idle tick failed", "err", err)
		}
	})
}

// stopClock stops the idle ticker and waits for it; a tick it is running finishes first.
func (d *DB) stopClock() { d.clockLoop.stop() }

// tickIdle runs an empty tick if some view has a temporal filter.
func (d *DB) tickIdle(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil { // never let the loop's goroutine die with the server
			d.logger.Error("idle tick panicked", "panic", r)
		}
	}()
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.ready.Load() || !d.hasTemporalView() {
		return nil
	}
	return d.runTick(ctx, tickInput{})
}

// Advance runs one tick now, without input: temporal filters move to the clock's current
// time, and the rows that entered or left a view since the last tick are committed and
// published like any other change. A tick that changes nothing leaves no trace (see
// runTick). The idle ticker calls it every Config.TickInterval; tests with a fake clock
// call it after moving the clock.
func (d *DB) Advance(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.runTick(ctx, tickInput{})
}

// hasTemporalView reports whether a view computes through a temporal filter. The
// caller holds d.mu.
func (d *DB) hasTemporalView() bool {
	for id, users := range d.graph.users {
		if len(users) == 0 {
			continue
		}
		if op, _, _, _ := d.graph.df.Node(id); op != nil {
			if _, ok := op.(*exec.TemporalFilter); ok {
				return true
			}
		}
	}
	return false
}

// hasTemporalFilter reports whether plan n has a temporal filter.
func hasTemporalFilter(n plan.Node) bool {
	if _, ok := n.(*plan.TemporalFilter); ok {
		return true
	}
	return slices.ContainsFunc(n.Children(), hasTemporalFilter)
}

// catchUp brings the views to the clock's time before a view with a temporal filter is
// created, so that it starts at the current time rather than at the last tick's: an
// empty tick, or, without views, just a reading of the clock. The caller holds d.mu.
func (d *DB) catchUp(ctx context.Context) error {
	if len(d.views) == 0 {
		d.tickAt(d.tick) // no operator has seen time yet
		return nil
	}
	return d.runTick(ctx, tickInput{})
}

// backfillTick is the tick a view is computed at when it is created or rebuilt: the last
// committed tick, at that tick's Now. The operators it shares with the graph are at that
// time, so the new ones must be too, or the next tick's expiries would retract rows the
// backfill never emitted. The caller holds d.mu.
func (d *DB) backfillTick() exec.Tick {
	now := d.now
	t := d.tickAt(d.tick)
	t.Now, d.now = now, now
	return t
}

// idleNoop reports whether a tick with input in, which changed no view and added or
// retracted no row error, changed nothing at all: no input, and no operator counter.
// Such a tick is not committed and its number is used again by the next one, so an idle
// database that ticks every second writes nothing. The caller holds d.mu.
func (d *DB) idleNoop(in tickInput) bool {
	if len(in.appends) > 0 || len(in.tables) > 0 || len(in.progress) > 0 {
		return false
	}
	g := d.graph
	if g.written == nil {
		return false
	}
	fresh := g.operatorRows()
	if len(fresh) != len(g.written) {
		return false
	}
	for id, row := range fresh {
		if old, ok := g.written[id]; !ok || delta.RowKey(old) != delta.RowKey(row) {
			return false
		}
	}
	return true
}
