package db

import (
	"context"
	"strings"
	"sync"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/storage/viewstore"
)

// Change is one tick's changes to a view: rows with signed weights.
type Change struct {
	Tick uint64
	Rows *delta.Batch
}

// DefaultHistory is how many ticks of changes a view keeps for subscribers that resume.
const DefaultHistory = 1024

// Subscription delivers a view's changes, tick by tick, on C. A subscriber that falls
// Buffer ticks behind is cut off: C is closed and Err reports it, so a slow reader never
// holds the database back. Close ends the subscription.
type Subscription struct {
	C    <-chan Change
	c    chan Change
	d    *DB
	view string

	mu  sync.Mutex
	err error
}

// Err is why C was closed, if the database closed it (nil after Close).
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close ends the subscription. It is safe to call more than once.
func (s *Subscription) Close() {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	s.d.unsubscribe(s, nil)
}

// Snapshot is a view's contents at a tick.
type Snapshot struct {
	Tick    uint64
	Columns []catalog.Column
	Rows    *delta.Batch
}

// Subscribe starts following view. If since is non-zero and the view still holds every
// change after tick since, the subscription replays those (resumed is true) and there is
// no snapshot; otherwise it starts with the snapshot of the current tick. buffer bounds
// how many ticks may wait unread.
func (d *DB) Subscribe(view string, since uint64, buffer int) (sub *Subscription, snap *Snapshot, resumed bool, err error) {
	if err := d.checkReady(); err != nil {
		return nil, nil, false, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	rel, err := d.cat.Get(view)
	if err != nil {
		return nil, nil, false, err
	}
	v, ok := d.views[view]
	if !ok {
		return nil, nil, false, sqlerr.New(sqlerr.WrongObjectType, "%q is a %s, not a materialized view", view, rel.Kind)
	}
	if buffer < 1 {
		buffer = 1
	}
	// Recovery and rebuilds replay merged ticks: history is per tick only from fineFrom.
	resumed = since > 0 && since <= d.tick && v.covers(since) && since >= d.fineFrom.Load()
	var replay []Change
	if resumed {
		for _, ch := range v.history {
			if ch.Tick > since {
				replay = append(replay, ch)
			}
		}
	}
	c := make(chan Change, buffer+len(replay))
	sub = &Subscription{C: c, c: c, d: d, view: view}
	for _, ch := range replay {
		c <- ch
	}
	if !resumed {
		snap = &Snapshot{Tick: d.tick, Columns: rel.Columns, Rows: v.rows.contents()}
	}
	v.subs = append(v.subs, sub)
	return sub, snap, resumed, nil
}

// covers reports whether the view's history holds every change after tick since.
func (v *view) covers(since uint64) bool {
	return since >= v.historyFrom
}

// publish records a committed tick's changes of v and hands them to its subscribers.
// The caller holds d.mu.
func (d *DB) publish(v *view, tick uint64, changes *delta.Batch) {
	ch := Change{Tick: tick, Rows: changes}
	v.history = append(v.history, ch)
	if over := len(v.history) - d.history; over > 0 {
		v.historyFrom = v.history[over-1].Tick
		v.history = append(v.history[:0], v.history[over:]...)
	}
	for _, s := range v.subs {
		select {
		case s.c <- ch:
		default:
			d.unsubscribe(s, sqlerr.New(sqlerr.InsufficientResources, "subscriber to %q fell %d ticks behind and was disconnected", v.rel.Name, cap(s.c)))
		}
	}
}

// unsubscribe removes s and closes its channel with err. The caller holds d.mu.
func (d *DB) unsubscribe(s *Subscription, err error) {
	v, ok := d.views[s.view]
	if !ok {
		return
	}
	for i, o := range v.subs {
		if o == s {
			v.subs = append(v.subs[:i], v.subs[i+1:]...)
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
			close(s.c)
			return
		}
	}
}

// closeSubscriptions ends every subscription of a view that goes away.
func (d *DB) closeSubscriptions(v *view, err error) {
	for len(v.subs) > 0 {
		d.unsubscribe(v.subs[0], err)
	}
}

// subscribeColumns are SUBSCRIBE's result columns: weir_ts (the tick), weir_diff (the
// change in multiplicity), then the view's columns.
func (d *DB) subscribeColumns(name string) ([]Column, error) {
	rel, err := d.cat.Get(name)
	if err != nil {
		return nil, err
	}
	if rel.Kind != catalog.View {
		return nil, sqlerr.New(sqlerr.WrongObjectType, "%q is a %s, not a materialized view", name, rel.Kind)
	}
	cols := []Column{
		{Name: "weir_ts", OID: catalog.Int8.OID(), TypeSize: 8, TypeMod: -1},
		{Name: "weir_diff", OID: catalog.Int8.OID(), TypeSize: 8, TypeMod: -1},
	}
	for _, c := range rel.Columns {
		cols = append(cols, Column{Name: c.Name, OID: c.Type.OID(), TypeSize: c.Type.Size(), TypeMod: -1})
	}
	return cols, nil
}

// subscribeRows is SUBSCRIBE's endless result: the view's contents at the current tick
// (unless st.NoSnapshot), then every tick's changes, until ctx ends (a cancel request or
// the client leaving).
func (d *DB) subscribeRows(ctx context.Context, st *planner.Subscribe, cols []Column) (*Rows, error) {
	name := st.Name
	sub, snap, _, err := d.Subscribe(name, 0, 1024)
	if err != nil {
		return nil, err
	}
	rel, err := d.cat.Get(name)
	if err != nil {
		sub.Close()
		return nil, err
	}
	s := &stream{ctx: ctx, sub: sub, rel: rel}
	if !st.NoSnapshot {
		s.queue(snap.Tick, snap.Rows)
	}
	return &Rows{cols: cols, stream: s, tag: "SUBSCRIBE"}, nil
}

// copySubscribe runs COPY (SUBSCRIBE view) TO STDOUT: the subscription's rows, streamed
// as COPY data until cancelled. ok is false when st copies something else.
func (p *Prepared) copySubscribe(ctx context.Context, st *planner.Copy) (rows *Rows, ok bool, err error) {
	if st.From || !isSubscribe(st.Query) {
		return nil, false, nil
	}
	q, err := p.s.Prepare(ctx, st.Query, nil)
	if err != nil {
		return nil, true, shiftErr(err, st.QueryPos)
	}
	sub, isSub := q.st.(*planner.Subscribe)
	if !isSub {
		return nil, false, nil
	}
	rows, err = p.s.db.subscribeRows(ctx, sub, q.columns)
	return rows, true, err
}

// isSubscribe reports whether a statement's text starts with SUBSCRIBE.
func isSubscribe(sql string) bool {
	f := strings.Fields(sql)
	return len(f) > 0 && strings.EqualFold(f[0], "subscribe")
}

// stream feeds a SUBSCRIBE result from a subscription.
type stream struct {
	ctx     context.Context
	sub     *Subscription
	rel     *catalog.Relation
	pending [][]any
}

func (s *stream) queue(tick uint64, b *delta.Batch) {
	for i := 0; i < b.Len(); i++ {
		row := []any{int64(tick), b.Weights[i]}
		for c, col := range s.rel.Columns {
			row = append(row, clientValue(b.Cols[c].Get(i), col.Type))
		}
		s.pending = append(s.pending, row)
	}
}

// next fills dst with the next change, waiting for one; false when the stream ends.
func (s *stream) next(dst []any) (bool, error) {
	for len(s.pending) == 0 {
		select {
		case <-s.ctx.Done():
			return false, sqlerr.Wrap(s.ctx.Err(), sqlerr.QueryCanceled, "canceling statement due to user request")
		case ch, ok := <-s.sub.C:
			if !ok {
				return false, s.sub.Err()
			}
			s.queue(ch.Tick, ch.Rows)
		}
	}
	copy(dst, s.pending[0])
	s.pending = s.pending[1:]
	return true, nil
}

// clientValue is v as the wire layer takes it: the Go value the view store binds, but
// intervals as their PostgreSQL text (the wire layer parses it for binary format).
func clientValue(v delta.Value, t catalog.Type) any {
	if t == catalog.Interval && !v.Null {
		return expr.Format(v, t)
	}
	return viewstore.ToGo(v, t)
}
