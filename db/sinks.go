package db

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/connector/kafka"
	"github.com/weirdb/weir/connector/pgsink"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
)

// Sinks: CREATE SINK name FROM view WITH (connector = 'postgres' | 'kafka', …) keeps a
// view's changes flowing to an external system. A sink is persisted in weir_meta under
// "sink:<name>" (its CREATE statement) and runs from Open to Close; it follows the view
// with Subscribe from the last tick the target recorded (sinkTarget.LastTick), and when
// Weir no longer holds the changes after that tick (after a restart, or a target far
// behind) it starts the target over from the view's snapshot (sinkTarget.Reset).

// sinkMetaPrefix prefixes the weir_meta keys of sinks.
const sinkMetaPrefix = "sink:"

// sinkBuffer is how many ticks a sink's subscription may hold unread before Weir cuts it
// off (it then resumes from the view's history, or from a snapshot).
const sinkBuffer = 4096

// sinkBatch bounds how many waiting ticks a sink writes in one target transaction.
const sinkBatch = 256

// sinkTarget is an external system a sink keeps up to date.
type sinkTarget interface {
	// LastTick is the last tick the target holds (0: none).
	LastTick(ctx context.Context) (uint64, error)
	// Reset makes the target hold exactly rows, the view at tick.
	Reset(ctx context.Context, tick uint64, rows *delta.Batch) error
	// Apply adds the consolidated changes of the ticks after the last one up to tick.
	Apply(ctx context.Context, tick uint64, changes *delta.Batch) error
	Close(ctx context.Context) error
}

// sinkRunner is one running sink.
type sinkRunner struct {
	def    *planner.CreateSink
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	applied uint64 // the last tick the target holds, as far as the runner knows
	lastErr string // the last failure, "" once a write succeeds again
}

func (r *sinkRunner) close() {
	r.cancel()
	<-r.done
}

func (r *sinkRunner) set(applied uint64, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if applied > 0 {
		r.applied = applied
	}
	if err != nil {
		r.lastErr = err.Error()
	} else {
		r.lastErr = ""
	}
}

// checkSink validates a sink's options against its view's columns.
func checkSink(st *planner.CreateSink, cols []catalog.Column) error {
	switch st.Options["connector"] {
	case "postgres":
		_, err := pgsink.ParseOptions(st.Options, cols)
		return err
	case "kafka":
		cfg, err := kafka.ParseSink(st.Options)
		if err != nil {
			return err
		}
		for _, k := range cfg.Key {
			if !slices.ContainsFunc(cols, func(c catalog.Column) bool { return c.Name == k }) {
				return sqlerr.New(sqlerr.InvalidParameterValue, "Kafka sink option \"key\": the view has no column %q", k)
			}
		}
		return nil
	case "":
		return sqlerr.New(sqlerr.InvalidParameterValue, "sink option \"connector\" is required ('postgres' or 'kafka')")
	}
	return sqlerr.New(sqlerr.FeatureNotSupported, "sink connector %q is not supported ('postgres' or 'kafka')", st.Options["connector"])
}

// openSinkTarget connects to a sink's target.
func (d *DB) openSinkTarget(ctx context.Context, st *planner.CreateSink, cols []catalog.Column) (sinkTarget, error) {
	switch st.Options["connector"] {
	case "postgres":
		cfg, err := pgsink.ParseOptions(st.Options, cols)
		if err != nil {
			return nil, err
		}
		return pgsink.Open(ctx, st.Name, cfg, cols)
	case "kafka":
		cfg, err := kafka.ParseSink(st.Options)
		if err != nil {
			return nil, err
		}
		cfg.Node = d.nodeID
		return kafka.OpenSink(ctx, st.Name, cfg, cols, d.logger)
	}
	return nil, checkSink(st, cols)
}

// createSink executes CREATE SINK.
func (d *DB) createSink(ctx context.Context, st *planner.CreateSink) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.conns()
	c.mu.Lock()
	_, exists := c.sinks[st.Name]
	c.mu.Unlock()
	if exists {
		if st.IfNotExists {
			return nil
		}
		return sqlerr.New(sqlerr.DuplicateObject, "sink %q already exists", st.Name)
	}
	rel, err := d.cat.Get(st.From)
	if err != nil {
		return err
	}
	if rel.Kind != catalog.View {
		return sqlerr.New(sqlerr.WrongObjectType, "%q is a %s, not a materialized view", st.From, rel.Kind)
	}
	if err := checkSink(st, rel.Columns); err != nil {
		return err
	}
	if err := d.flush(ctx); err != nil { // the store's tick must cover what it holds
		return err
	}
	tx, err := d.store.Begin(ctx)
	if err != nil {
		return err
	}
	if err := tx.SetMeta(sinkMetaPrefix+st.Name, st.SQL); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(d.tick); err != nil {
		return err
	}
	d.startSink(st)
	return nil
}

// dropSink executes DROP SINK. The target keeps what it holds.
func (d *DB) dropSink(ctx context.Context, st *planner.DropSink) error {
	d.mu.Lock()
	c := d.conns()
	c.mu.Lock()
	r, ok := c.sinks[st.Name]
	c.mu.Unlock()
	if !ok {
		d.mu.Unlock()
		if st.IfExists {
			return nil
		}
		return sqlerr.New(sqlerr.UndefinedObject, "sink %q does not exist", st.Name)
	}
	err := d.flush(ctx)
	if err == nil {
		tx, terr := d.store.Begin(ctx)
		if err = terr; err == nil {
			if err = tx.Exec(`DELETE FROM weir_meta WHERE key = ?`, sinkMetaPrefix+st.Name); err == nil {
				err = tx.Commit(d.tick)
			} else {
				tx.Rollback()
			}
		}
	}
	if err == nil {
		c.mu.Lock()
		delete(c.sinks, st.Name)
		c.mu.Unlock()
	}
	d.mu.Unlock()
	if err != nil {
		return err
	}
	r.close() // without d.mu: the runner may be subscribing
	return nil
}

// sinksOn returns the sinks that read view.
func (d *DB) sinksOn(view string) []string {
	c := d.conns()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for name, r := range c.sinks {
		if r.def.From == view {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// checkSinkDeps refuses to drop a view a sink reads. The caller holds d.mu.
func (d *DB) checkSinkDeps(victims []*catalog.Relation) error {
	for _, v := range victims {
		if sinks := d.sinksOn(v.Name); len(sinks) > 0 {
			return sqlerr.New(sqlerr.DependentObjectsStillExist, "cannot drop materialized view %q because sink %s reads it", v.Name, sinks[0]).
				WithHint("DROP SINK %s first.", sinks[0])
		}
	}
	return nil
}

// startSinks starts the persisted sinks (Open, after recovery).
func (d *DB) startSinks() {
	c := d.conns()
	stored, err := d.store.MetaPrefix(c.ctx, sinkMetaPrefix)
	if err != nil {
		d.logger.Error("sinks not started", "err", err)
		return
	}
	for _, sql := range stored {
		st, err := d.planner.Plan(sql, nil)
		if err != nil {
			d.logger.Error("sink not started", "sql", sql, "err", err)
			continue
		}
		d.startSink(st.(*planner.CreateSink))
	}
}

// startSink starts a sink's runner.
func (d *DB) startSink(st *planner.CreateSink) {
	c := d.conns()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.ctx == nil {
		return
	}
	ctx, cancel := context.WithCancel(c.ctx)
	r := &sinkRunner{def: st, cancel: cancel, done: make(chan struct{})}
	c.sinks[st.Name] = r
	logger := d.logger.With("component", "sink", "sink", st.Name, "view", st.From)
	go func() {
		defer close(r.done)
		defer func() {
			if p := recover(); p != nil {
				logger.Error("sink panicked; stopped", "panic", p)
			}
		}()
		backoff := 100 * time.Millisecond
		for {
			err := d.runSink(ctx, r)
			if ctx.Err() != nil {
				return
			}
			r.set(0, err)
			logger.Warn("sink failed; resuming", "err", err, "in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}()
}

// runSink connects to the target and keeps it up to date until ctx ends or something
// fails.
func (d *DB) runSink(ctx context.Context, r *sinkRunner) error {
	if err := d.WaitReady(ctx); err != nil {
		return err
	}
	rel, err := d.cat.Get(r.def.From)
	if err != nil {
		return err
	}
	target, err := d.openSinkTarget(ctx, r.def, rel.Columns)
	if err != nil {
		return err
	}
	defer target.Close(context.WithoutCancel(ctx))
	last, err := target.LastTick(ctx)
	if err != nil {
		return err
	}
	// A view's history merges the ticks that recovery (or the rebuild after a failed
	// tick) replayed into one change: resume from it only after those.
	fine := d.fineFrom.Load()
	since := last
	if since < fine {
		since = 0
	}
	sub, snap, resumed, err := d.Subscribe(r.def.From, since, sinkBuffer)
	if err != nil {
		return err
	}
	defer sub.Close()
	applied := last
	if !resumed && snap.Tick != last {
		if err := target.Reset(ctx, snap.Tick, snap.Rows); err != nil {
			return err
		}
		applied = snap.Tick
	}
	r.set(applied, nil)
	kinds := relKinds(rel)
	for {
		var ch Change
		var ok bool
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ch, ok = <-sub.C:
		}
		if !ok {
			if err := sub.Err(); err != nil {
				return err
			}
			return errors.New("subscription ended")
		}
		// Take every tick waiting (up to sinkBatch) into one target transaction.
		merged := delta.New(kinds)
		tick := applied
		add := func(ch Change) {
			if ch.Tick > applied {
				merged.AppendBatch(ch.Rows, 1)
				tick = ch.Tick
			}
		}
		add(ch)
	drain:
		for range sinkBatch - 1 {
			select {
			case more, ok := <-sub.C:
				if !ok {
					break drain
				}
				add(more)
			default:
				break drain
			}
		}
		if tick == applied {
			continue
		}
		if d.fineFrom.Load() != fine {
			return errors.New("the database rebuilt its views; resuming from a snapshot")
		}
		merged.Consolidate()
		if err := target.Apply(ctx, tick, merged); err != nil {
			return err
		}
		applied = tick
		r.set(applied, nil)
	}
}

// showSinks executes SHOW SINKS: name, view, connector, target, the last tick the target
// holds, and the last error ("" while it works).
func (d *DB) showSinks() *Rows {
	c := d.conns()
	c.mu.Lock()
	names := make([]string, 0, len(c.sinks))
	for n := range c.sinks {
		names = append(names, n)
	}
	sort.Strings(names)
	var rows [][]any
	for _, n := range names {
		r := c.sinks[n]
		r.mu.Lock()
		target := r.def.Options["table"]
		if r.def.Options["connector"] == "kafka" {
			target = r.def.Options["topic"]
		}
		rows = append(rows, []any{n, r.def.From, r.def.Options["connector"], target, strconv.FormatUint(r.applied, 10), r.lastErr})
		r.mu.Unlock()
	}
	c.mu.Unlock()
	return staticRows(showSinksColumns(), rows, "SHOW")
}

func showSinksColumns() []Column {
	return []Column{textColumn("name"), textColumn("view"), textColumn("connector"), textColumn("target"),
		textColumn("tick"), textColumn("error")}
}
