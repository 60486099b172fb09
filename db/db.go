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
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/storage/viewstore"
	"github.com/weirdb/weir/storage/wal"
)

// Config configures a database.
type Config struct {
	// Dir is the data directory; "" keeps everything in memory (tests).
	Dir string
	// History is how many ticks of changes each view keeps for subscribers that resume
	// (DefaultHistory when 0).
	History int
	// Clock is what now() reads for temporal filters (time.Now when nil). Tests set a
	// clock they advance by hand.
	Clock func() time.Time
	// TickInterval is how often an idle database ticks so that temporal filters expire
	// rows as time passes (DefaultTickInterval when 0; negative: never, tests tick by
	// hand with DB.Advance).
	TickInterval time.Duration
	// FlushInterval is how long acknowledged writes may wait in the write-ahead log
	// before they reach the view store (DefaultFlushInterval when 0; negative: every
	// tick), or longer while flushes are slow: at least three times the last flush's
	// duration, up to 5 s (flushDuty). Reads and DDL flush first, so they always see
	// every acknowledged write.
	// Without Dir there is no log and every tick is flushed.
	FlushInterval time.Duration
	// NoSync skips fsync in the write-ahead log (benchmarks of everything else only:
	// an acknowledged write can then be lost to a machine crash).
	NoSync bool
	// CheckpointInterval is how often operator state is checkpointed, so that recovery
	// loads it instead of recomputing the views from history
	// (DefaultCheckpointInterval when 0; negative: never). Without Dir there are no
	// checkpoints.
	CheckpointInterval time.Duration
	// Background makes Open return as soon as the store is open and recover in the
	// background: until recovery is done, Ready reports false and every statement,
	// ingest and subscription fails with 57P03 (what PostgreSQL answers while it starts
	// up). RecoveryErr reports a recovery that failed.
	Background bool
	// NodeID names this node among the Weir nodes that share Kafka topics (the weir-node
	// header of its Kafka sinks' messages, docs/scale-out.md). Empty: the identity stored
	// in the data directory, or a new random one stored there on first start. A NodeID
	// that differs from the stored one fails Open: the node's messages already in Kafka
	// carry the stored one.
	NodeID string
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

	pgcat     pgCatalog  // the PostgreSQL catalog emulation's state (pgcatalog.go)
	numShapes shapeCache // bounds of plain numeric columns' scales, for reads (numshape.go)

	nodeID        string        // this node's identity (Config.NodeID), fixed at Open
	dir           string        // the data directory; "" in memory
	log           *wal.Log      // the write-ahead log; nil without a data directory
	flushInterval time.Duration // see Config.FlushInterval
	flushes       atomic.Int64  // flushes to the view store, for tests and metrics
	memReads      atomic.Int64  // reads served from the views' rows in memory (memread.go)
	memPrepares   atomic.Int64  // statements those reads prepared (memstmt.go)
	memConns      memConns
	flushNanos    atomic.Int64  // their total duration
	flushMax      atomic.Int64  // the longest, in ns
	lastFlush     time.Duration // the last one's (guarded by mu)
	flushLoop     *clockLoop    // the background flusher (durable.go)
	mergeLoop     *clockLoop    // the background merge of segments (durable.go)
	flushMu       sync.Mutex    // flushes without d.mu run one at a time (flush.go); taken before mu
	// noteMu is held, without d.mu, by an acknowledged tick's goroutine while it notes the
	// tick's changes in d.unflushed after releasing d.mu to the readers (applyTick's
	// note); it is taken while holding d.mu, which is released after it. Whatever reads
	// or replaces d.unflushed under d.mu first waits for it (waitNotes).
	noteMu    sync.Mutex
	ready     atomic.Bool   // recovery has finished
	recovered chan struct{} // closed when recovery has finished, well or not

	clockLoop *clockLoop // the idle ticker (clock.go), set by Open; nil when disabled

	ckptInterval time.Duration // see Config.CheckpointInterval
	ckptLoop     *clockLoop    // the background checkpointer (checkpoint.go)
	ckptMu       sync.Mutex    // one checkpoint at a time; taken before mu
	ckptHeld     atomic.Int64  // ns ticks waited for checkpoints (a flush and a snapshot under mu)
	ckptCount    atomic.Int64  // checkpoints taken
	ckptNanos    atomic.Int64  // their total duration
	ckptMax      atomic.Int64  // the longest, in ns
	ckptHeldMax  atomic.Int64  // the longest wait of ticks for one, in ns
	ckptBytes    atomic.Int64  // the size of the last one
	ckptOpBytes  int           // the largest snapshotted operator state in the last one (under ckptMu)
	ckptRowBytes int64         // operator state bytes per state row in the last one (under ckptMu)

	mu              tickLock // serializes ticks and DDL; guards everything below
	tick            uint64
	now             int64 // the last tick's Now (µs): now() never goes backwards
	clock           func() time.Time
	history         int // ticks of changes kept per view for resuming subscribers
	graph           *graph
	views           map[string]*view
	tables          map[string]*table
	wms             map[string]*watermark // watermarked sources' event-time state (eventtime.go)
	recErr          error                 // a background recovery's failure, set before recovered closes
	recovering      bool                  // recover is running: ticks record only which views they touch
	recoveryTouched map[string]bool       // those views (and errorsRel.Name for row errors)
	inflight        *inflight             // a flush writing the store without d.mu (flush.go)
	unflushed       *unflushed            // acknowledged ticks not yet in the view store (durable.go)
	recBuf          []byte                // the last tick's log record (a tick encodes into it)
	copyHint        sync.Map              // source name → rows in the last chunk a COPY into it committed (copy.go)
	flushedLSN      wal.LSN               // the last log record the view store holds
	replaying       bool                  // recovery is replaying the log: ticks are not logged again
	storedTick      uint64                // while replaying: ticks up to this one are in the store already
	ckpts           []ckptInfo            // the checkpoints kept, oldest first
	ckptCatalog     []byte                // the catalog fingerprint of the newest one
	progress        map[string]string     // connector positions as of the last tick (IngestWithProgress)
	restoredFrom    uint64                // the tick of the checkpoint recovery loaded, if any

	fineFrom   atomic.Uint64 // views' history holds each tick's own changes only after this tick
	connOnce   sync.Once     // creates connectors
	connectors *connectors   // Kafka consumers and sinks (connectors.go, sinks.go)
}

// view is a materialized view's live state: its dataflow, its current contents and the
// row errors that stand in it; the tick's changes to both are derived from these.
type view struct {
	rel   *catalog.Relation
	out   exec.NodeID   // the graph node whose output is the view's changes
	nodes []exec.NodeID // every graph node the view computes through, shared ones included
	rows  *bag
	errs  *bag

	insertOnly bool // the view only ever gains rows (planner.InsertOnly)

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
			return nil, sqlerr.Wrap(err, sqlerr.IOError, "create data directory %q", cfg.Dir)
		}
		path = filepath.Join(cfg.Dir, "weir.duckdb")
	}
	store, err := viewstore.Open(ctx, path, logger)
	if err != nil {
		return nil, err
	}
	var log *wal.Log
	if cfg.Dir != "" {
		log, err = wal.Open(filepath.Join(cfg.Dir, "wal"), wal.Options{NoSync: cfg.NoSync, Logger: logger})
		if err != nil {
			store.Close()
			return nil, err
		}
	}
	cat := catalog.New()
	d := &DB{logger: logger, store: store, cat: cat, planner: planner.New(cat),
		views: map[string]*view{}, tables: map[string]*table{}, graph: newGraph(), progress: map[string]string{}, history: cfg.History, clock: cfg.Clock,
		dir: cfg.Dir, log: log, flushInterval: cfg.FlushInterval, ckptInterval: cfg.CheckpointInterval, unflushed: &unflushed{}, recovered: make(chan struct{})}
	if d.flushInterval == 0 {
		d.flushInterval = DefaultFlushInterval
	}
	if d.ckptInterval == 0 {
		d.ckptInterval = DefaultCheckpointInterval
	}
	closeAll := func() {
		store.Close()
		if log != nil {
			log.Close()
		}
	}
	if d.nodeID, err = loadNodeID(ctx, store, cfg.NodeID); err != nil {
		closeAll()
		return nil, err
	}
	if d.clock == nil {
		d.clock = time.Now
	}
	d.now = d.clock().UnixMicro() // recovery computes the views at the current time
	if d.history <= 0 {
		d.history = DefaultHistory
	}
	hold := beforeRecovery // read here: tests set it before Open and reset it after
	start := func(ctx context.Context) error {
		if hold != nil {
			hold()
		}
		t0 := time.Now()
		if err := d.recover(ctx); err != nil {
			return err
		}
		if err := d.installCatalog(ctx); err != nil {
			return err
		}
		d.ready.Store(true)
		d.startClock(ctx, cfg.TickInterval)
		d.startFlusher(ctx)
		d.startCheckpointer(ctx)
		d.logger.Info("ready", "tick", d.tick, "recovery", time.Since(t0).Round(time.Millisecond))
		d.startConnectors(ctx) // last: consumers tick from here on (connectors.go)
		return nil
	}
	if !cfg.Background {
		defer close(d.recovered)
		if err := start(ctx); err != nil {
			closeAll()
			return nil, err
		}
		return d, nil
	}
	d.mu.Lock() // held until recovery is done: Close waits for it
	go func() {
		defer close(d.recovered)
		defer d.mu.Unlock()
		if err := start(context.WithoutCancel(ctx)); err != nil {
			d.recErr = err
			d.logger.Error("recovery failed; the database stays unavailable", "err", err)
		}
	}()
	return d, nil
}

// metaNodeID is the weir_meta key of the node's identity.
const metaNodeID = "node_id"

// loadNodeID returns the node's identity: the one stored in the data directory, else
// want, else a new random one; a new one is stored at once.
func loadNodeID(ctx context.Context, store *viewstore.Store, want string) (string, error) {
	stored, err := store.Meta(ctx, metaNodeID)
	if err != nil {
		return "", err
	}
	switch {
	case stored != "" && want != "" && stored != want:
		return "", sqlerr.New(sqlerr.InvalidParameterValue, "node id %q differs from %q, the node id of this data directory", want, stored).
			WithHint("A node keeps its identity: its messages in Kafka carry it. Omit --node-id, or give %q.", stored)
	case stored != "":
		return stored, nil
	case want == "":
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		want = hex.EncodeToString(b[:])
	}
	tick, err := store.Tick(ctx)
	if err != nil {
		return "", err
	}
	tx, err := store.Begin(ctx)
	if err != nil {
		return "", err
	}
	if err := tx.SetMeta(metaNodeID, want); err != nil {
		tx.Rollback()
		return "", err
	}
	return want, tx.Commit(tick)
}

// NodeID returns this node's identity (Config.NodeID).
func (d *DB) NodeID() string { return d.nodeID }

// WaitReady waits until recovery has finished and returns its error.
func (d *DB) WaitReady(ctx context.Context) error {
	select {
	case <-d.recovered:
		return d.recErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// beforeRecovery, when set (by tests), runs before recovery starts.
var beforeRecovery func()

// errStartingUp is what statements get while recovery runs.
func errStartingUp() error {
	return sqlerr.New(sqlerr.CannotConnectNow, "the database system is starting up (recovering)")
}

// checkReady fails with 57P03 until recovery is done.
func (d *DB) checkReady() error {
	if !d.ready.Load() {
		return errStartingUp()
	}
	return nil
}

// RecoveryErr returns why a background recovery failed, once it has (nil otherwise).
func (d *DB) RecoveryErr() error {
	select {
	case <-d.recovered:
		return d.recErr
	default:
		return nil
	}
}

// Close flushes what is pending, then closes the log and the store.
func (d *DB) Close() error {
	d.stopConnectors() // first: a consumer's last commit needs the database
	d.stopClock()
	d.stopFlusher()
	d.ckptLoop.stop()
	var err error
	if d.ready.Load() && d.ckptInterval >= 0 {
		err = d.checkpointNow(context.Background(), false)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	err = errors.Join(err, d.flush(context.Background()))
	if d.log != nil {
		err = errors.Join(err, d.log.Close())
	}
	d.closeMemConns()
	return errors.Join(err, d.store.Close())
}

// Ready reports whether recovery has finished.
func (d *DB) Ready() bool { return d.ready.Load() }

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
	if lsn, err := d.store.Meta(ctx, viewstore.MetaLSN); err != nil {
		return err
	} else if lsn != "" {
		n, err := strconv.ParseUint(lsn, 10, 64)
		if err != nil {
			return sqlerr.Wrap(err, sqlerr.DataCorrupted, "weir_meta %s = %q", viewstore.MetaLSN, lsn)
		}
		d.flushedLSN = wal.LSN(n)
	}
	stored, err := d.store.MetaPrefix(ctx, progressPrefix)
	if err != nil {
		return err
	}
	for k, v := range stored {
		d.progress[strings.TrimPrefix(k, progressPrefix)] = v
	}
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
	// While recovering, ticks do not track which view rows they change: the views they
	// touch are rewritten whole at the end (cheaper than row by row when a long log
	// touches most of a view).
	d.recovering, d.recoveryTouched = true, map[string]bool{}
	defer func() { d.recovering, d.recoveryTouched = false, nil }()
	restored, err := d.restore(ctx)
	if err != nil {
		return err
	}
	if !restored {
		if err := d.rebuild(ctx); err != nil {
			return err
		}
	}
	d.fineFrom.Store(d.tick)             // replay merges ticks: history is per tick only after this (sinks.go)
	if err := d.flush(ctx); err != nil { // what the log replay added
		return err
	}
	// The stored view contents must equal the recomputed ones (after a rebuild) or the
	// replayed ones: rewrite them.
	tx, err := d.store.Begin(ctx)
	if err != nil {
		return err
	}
	rewrite := func(name string) bool { return !restored || d.recoveryTouched[name] }
	if rewrite(errorsRel.Name) {
		if err := tx.Truncate(errorsRel); err != nil {
			tx.Rollback()
			return err
		}
	}
	for _, rel := range d.cat.List(catalog.View) {
		v := d.views[rel.Name]
		if rewrite(rel.Name) {
			if err := tx.Truncate(rel); err != nil {
				tx.Rollback()
				return err
			}
			if err := tx.Insert(rel, v.rows.contents()); err != nil {
				tx.Rollback()
				return err
			}
		}
		if rewrite(errorsRel.Name) {
			if err := tx.Insert(errorsRel, v.errs.contents()); err != nil {
				tx.Rollback()
				return err
			}
		}
	}
	if err := d.syncOperators(tx); err != nil {
		tx.Rollback()
		return err
	}
	return d.commit(tx, d.tick)
}

// rebuild reloads every table from the store, recomputes every view from the stored
// sources and tables, and replays the write-ahead log after the store's position. It is
// recovery, and the undo of a failed tick.
func (d *DB) rebuild(ctx context.Context) error {
	d.settle() // the store must not change under the reload
	old := d.views
	d.unflushed = &unflushed{}
	tick, err := d.store.Tick(ctx)
	if err != nil {
		return err
	}
	d.tick = tick
	if err := d.loadWatermarks(ctx); err != nil {
		return err
	}
	if err := d.loadTables(ctx); err != nil {
		return err
	}
	d.views = map[string]*view{}
	d.graph = newGraph()
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
	err = d.replayFrom(ctx, d.flushedLSN+1, 0)
	d.fineFrom.Store(d.tick) // replay merges ticks: history is per tick only after this (sinks.go)
	return err
}

// loadTables reloads every table's rows from the store.
func (d *DB) loadTables(ctx context.Context) error {
	d.tables = map[string]*table{}
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
	return nil
}

// contents returns the full current contents of a relation as insertions.
func (d *DB) contents(ctx context.Context, name string) (*delta.Batch, error) {
	relName, arrival := planner.SourceRelation(name)
	rel, err := d.cat.Get(relName)
	if err != nil {
		return nil, err
	}
	if arrival {
		return d.arrivalContents(ctx, rel)
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
