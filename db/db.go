// Package db is one Weir database: it ties the catalog, the planner, the incremental
// dataflows and the DuckDB view store together and executes statements for sessions.
//
// Writes are applied in ticks. Each write statement (INSERT, UPDATE, DELETE, HTTP
// ingest) is one tick: its changes flow through every dependent dataflow in creation
// order (so views on views see their inputs' changes of the same tick), and the source
// history, table rows and all view changes are committed in one DuckDB transaction. If
// any step fails, nothing of the tick is kept: the transaction is rolled back and the
// in-memory state is rebuilt from the store, so the client's error is the whole effect.
package db

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/storage/viewstore"
)

// Config configures a database.
type Config struct {
	// Dir is the data directory; "" keeps everything in memory (tests).
	Dir string
	// History is how many ticks of changes each view keeps for subscribers that resume
	// (DefaultHistory when 0).
	History int
}

// DB is an open database. It is safe for concurrent use: writes are serialized into
// ticks, reads run concurrently on DuckDB snapshots.
type DB struct {
	logger  *slog.Logger
	store   *viewstore.Store
	cat     *catalog.Catalog
	planner *planner.Planner

	pendMu  sync.Mutex   // guards pending
	pending []*ingestReq // Ingest calls waiting for the next group commit
	groups  atomic.Int64 // group commits run by Ingest

	pgcat pgCatalog // the PostgreSQL catalog emulation's state (pgcatalog.go)

	mu      sync.Mutex // serializes ticks and DDL; guards everything below
	tick    uint64
	history int // ticks of changes kept per view for resuming subscribers
	graph   *graph
	views   map[string]*view
	tables  map[string]*table
	ready   bool
}

// view is a materialized view's live state: its dataflow, its current contents and the
// row errors that stand in it; the tick's changes to both are derived from these.
type view struct {
	rel   *catalog.Relation
	out   exec.NodeID   // the graph node whose output is the view's changes
	nodes []exec.NodeID // every graph node the view computes through, shared ones included
	rows  *bag
	errs  *bag

	subs        []*Subscription
	history     []Change // the last changes, oldest first, for subscribers that resume
	historyFrom uint64   // history holds every change after this tick
}

// table is a keyed table's current rows by primary-key encoding.
type table struct {
	rel  *catalog.Relation
	rows map[string][]delta.Value
}

// Open opens or creates the database in cfg.Dir and recovers its state: the catalog is
// re-planned and every view's state is rebuilt from the stored sources and tables.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (*DB, error) {
	path := ""
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, sqlerr.Wrap(err, sqlerr.Internal, "create data directory")
		}
		path = filepath.Join(cfg.Dir, "weir.duckdb")
	}
	store, err := viewstore.Open(ctx, path, logger)
	if err != nil {
		return nil, err
	}
	cat := catalog.New()
	d := &DB{logger: logger, store: store, cat: cat, planner: planner.New(cat),
		views: map[string]*view{}, tables: map[string]*table{}, graph: newGraph(), history: cfg.History}
	if d.history <= 0 {
		d.history = DefaultHistory
	}
	if err := d.recover(ctx); err != nil {
		store.Close()
		return nil, err
	}
	if err := d.installCatalog(ctx); err != nil {
		store.Close()
		return nil, err
	}
	d.ready = true
	return d, nil
}

// Close closes the store.
func (d *DB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.store.Close()
}

// Ready reports whether recovery has finished.
func (d *DB) Ready() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ready
}

// Catalog returns the catalog (read-only use).
func (d *DB) Catalog() *catalog.Catalog { return d.cat }

// Tick returns the last committed tick.
func (d *DB) Tick() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.tick
}

func (d *DB) recover(ctx context.Context) error {
	entries, tick, err := d.store.LoadCatalog(ctx)
	if err != nil {
		return err
	}
	d.tick = tick
	for _, e := range entries {
		st, err := d.planner.Plan(e.SQL, nil)
		if err != nil {
			return sqlerr.Wrap(err, "", "recover %s %q", e.Kind, e.Name)
		}
		var rel *catalog.Relation
		switch s := st.(type) {
		case *planner.CreateRelation:
			rel = s.Rel
		case *planner.CreateView:
			rel = s.Rel
		default:
			return fmt.Errorf("recover: catalog entry %q is not a CREATE statement", e.Name)
		}
		if err := d.cat.Add(rel); err != nil {
			return err
		}
		rel.ID = e.ID
	}
	if len(entries) > 0 {
		d.logger.Info("recovering", "objects", len(entries), "tick", tick)
	}
	if err := d.rebuild(ctx); err != nil {
		return err
	}
	// The stored view contents must equal the recomputed ones; rewrite them to be sure.
	tx, err := d.store.Begin(ctx)
	if err != nil {
		return err
	}
	if err := tx.Truncate(errorsRel); err != nil {
		tx.Rollback()
		return err
	}
	for _, rel := range d.cat.List(catalog.View) {
		v := d.views[rel.Name]
		if err := tx.Truncate(rel); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Insert(rel, v.rows.contents()); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Insert(errorsRel, v.errs.contents()); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := d.syncOperators(tx); err != nil {
		tx.Rollback()
		return err
	}
	return d.commit(tx, d.tick)
}

// rebuild reloads every table from the store and recomputes every view from the stored
// sources and tables. It is recovery, and the undo of a failed tick.
func (d *DB) rebuild(ctx context.Context) error {
	old := d.views
	d.tables = map[string]*table{}
	d.views = map[string]*view{}
	d.graph = newGraph()
	for _, rel := range d.cat.List(catalog.Table) {
		b, err := d.store.Scan(ctx, rel)
		if err != nil {
			return err
		}
		t := &table{rel: rel, rows: map[string][]delta.Value{}}
		for i := 0; i < b.Len(); i++ {
			row := b.Row(i, nil)
			t.rows[pkKey(rel, row)] = row
		}
		d.tables[rel.Name] = t
	}
	for _, rel := range d.cat.List(catalog.View) {
		v, err := d.backfill(ctx, rel)
		if err != nil {
			return err
		}
		d.graph.register(v)
		if o, ok := old[rel.Name]; ok {
			// The contents are those the subscribers last saw: they carry on.
			v.subs, v.history, v.historyFrom = o.subs, o.history, o.historyFrom
		}
		d.views[rel.Name] = v
	}
	return nil
}

// contents returns the full current contents of a relation as insertions.
func (d *DB) contents(ctx context.Context, name string) (*delta.Batch, error) {
	rel, err := d.cat.Get(name)
	if err != nil {
		return nil, err
	}
	switch rel.Kind {
	case catalog.View:
		if v, ok := d.views[name]; ok {
			return v.rows.contents(), nil
		}
		return nil, fmt.Errorf("view %q has no state", name)
	case catalog.Table:
		t := d.tables[name]
		b := delta.New(relKinds(rel))
		for _, row := range t.rows {
			b.AppendRow(row, 1)
		}
		return b, nil
	}
	return d.store.Scan(ctx, rel)
}

func relKinds(rel *catalog.Relation) []delta.Kind {
	ks := make([]delta.Kind, len(rel.Columns))
	for i, c := range rel.Columns {
		ks[i] = c.Type.Kind()
	}
	return ks
}

func pkKey(rel *catalog.Relation, row []delta.Value) string {
	var buf []byte
	for _, k := range rel.PrimaryKey {
		buf = delta.AppendValueKey(buf, row[k])
	}
	return string(buf)
}
