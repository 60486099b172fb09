package db

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/storage/wal"
)

// Checkpoints (issue #5). A flush makes the view store hold every acknowledged tick, but
// the operators' state (aggregate groups, join arrangements, top-N partitions, window
// and temporal-filter buffers) lives only in memory: without a checkpoint, recovery
// recomputes every view from its sources' full history. A checkpoint saves, at one tick
// right after a flush, the state of every operator of the graph together with every
// view's contents, the sources' event-time state and the log position, in one file
// under DIR/checkpoints named by its tick and ending in a SHA-256 of the rest. It is
// written to a temporary name, fsynced and renamed: a file with a checkpoint's name is
// complete, or fails its checksum.
//
// Recovery (restore) takes the newest checkpoint that verifies, was taken under the
// current catalog, and whose log position the write-ahead log still holds; a corrupt one
// is logged and the one before it is used; with none, the views are recomputed from
// history as before. It loads the operators' state into a graph planned afresh, and
// replays the log after the checkpoint. Ticks up to the store's tick are already in the
// store: they run through the operators and the views ("shadow" ticks) but their source
// appends, table changes and late events are not written again; the view rows they touch
// are rewritten with their multiplicity then, which is idempotent.
//
// The two newest checkpoints are kept, and the log is kept from the older one's position
// (so that a corrupt newest one can fall back), unless the flushed position is older.
// Checkpoints are taken every CheckpointInterval, after each DDL statement (a
// checkpoint is only valid under the catalog it was taken with) and at Close.

// DefaultCheckpointInterval is how often operator state is checkpointed.
const DefaultCheckpointInterval = 30 * time.Second

const (
	ckptMagic   = "WEIRCKPT"
	ckptVersion = 2
	ckptSuffix  = ".ckpt"
	ckptKeep    = 2
)

// ckptInfo is one checkpoint file on disk.
type ckptInfo struct {
	tick uint64
	lsn  wal.LSN
	path string
}

func (d *DB) ckptDir() string { return filepath.Join(d.dir, "checkpoints") }

// checkpointsOnDisk lists the checkpoint files, oldest first, removing leftovers of
// interrupted writes.
func (d *DB) checkpointsOnDisk() ([]ckptInfo, error) {
	entries, err := os.ReadDir(d.ckptDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []ckptInfo
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, ".tmp") {
			_ = os.Remove(filepath.Join(d.ckptDir(), name))
			continue
		}
		tick, err := strconv.ParseUint(strings.TrimSuffix(name, ckptSuffix), 10, 64)
		if err != nil || !strings.HasSuffix(name, ckptSuffix) {
			continue
		}
		out = append(out, ckptInfo{tick: tick, path: filepath.Join(d.ckptDir(), name)})
	}
	slices.SortFunc(out, func(a, b ckptInfo) int { return cmp.Compare(a.tick, b.tick) })
	return out, nil
}

// catalogFingerprint identifies the catalog a checkpoint was taken under: every
// relation's ID, kind, name and statement.
func (d *DB) catalogFingerprint() []byte {
	h := sha256.New()
	for _, k := range []catalog.Kind{catalog.Source, catalog.Table, catalog.View} {
		for _, rel := range d.cat.List(k) {
			fmt.Fprintf(h, "%d\x00%d\x00%s\x00%s\x00", rel.ID, rel.Kind, rel.Name, rel.SQL)
		}
	}
	return h.Sum(nil)
}

// snapshotCheckpoint captures the in-memory state as of the last tick, which the store
// holds (nothing is pending), and returns its encoder, to be run once without d.mu
// while ticks go on. The caller holds d.mu. The state is captured without encoding the
// large parts: an operator that can (exec.Snapshotter, the now() filter's rows) lists
// the rows it holds, and each view's rows are frozen (bag.freeze); the other operators'
// states are encoded now. Encoding the pack's 130 MB checkpoint under d.mu held every
// tick and read up for seconds.
//
// The encoder's buffers start as large as the last checkpoint's (and its largest
// operator state): grown by append from nothing, a checkpoint of hundreds of megabytes
// spent most of its encoding copying itself into larger buffers.
func (d *DB) snapshotCheckpoint() (encode func() []byte, err error) {
	head := append([]byte(ckptMagic), ckptVersion)
	head = binary.AppendUvarint(head, d.tick)
	head = binary.AppendUvarint(head, uint64(d.flushedLSN))
	head = binary.AppendVarint(head, d.now)
	head = delta.AppendStateBytes(head, d.catalogFingerprint())

	names := slices.Sorted(maps.Keys(d.wms))
	head = binary.AppendUvarint(head, uint64(len(names)))
	for _, name := range names {
		w := d.wms[name]
		head = delta.AppendStateBytes(head, name)
		head = binary.AppendVarint(head, w.max)
		head = binary.AppendVarint(head, w.late)
	}

	// An operator's state: its own encoder (a snapshot), or its state encoded now, the
	// operators on every core at once (ticks wait for them).
	type opState struct {
		key    string
		rows   int64
		op     exec.Operator
		encode func(dst []byte) []byte // nil: state holds it
		state  []byte
	}
	perRow := max(d.ckptRowBytes, 64)
	g := d.graph
	var ops []opState
	for _, id := range slices.Sorted(maps.Keys(g.nodeKey)) {
		if op, _, _, _ := g.df.Node(id); op != nil {
			ops = append(ops, opState{key: g.nodeKey[id], rows: exec.StateRows(op), op: op})
		}
	}
	var now errgroup.Group
	now.SetLimit(runtime.GOMAXPROCS(0))
	for i := range ops {
		o := &ops[i]
		if s, ok := o.op.(exec.Snapshotter); ok {
			o.encode = s.Snapshot()
			continue
		}
		now.Go(func() (err error) {
			o.state, err = exec.AppendState(o.op, make([]byte, 0, o.rows*perRow+64))
			return err
		})
	}
	if err := now.Wait(); err != nil {
		return nil, err
	}
	type viewState struct {
		name       string
		rows, errs frozenBag
	}
	var views []viewState
	for _, rel := range d.cat.List(catalog.View) {
		v := d.views[rel.Name]
		views = append(views, viewState{name: rel.Name, rows: v.rows.freeze(), errs: v.errs.freeze()})
	}

	last, opBytes := int(d.ckptBytes.Load()), d.ckptOpBytes
	return func() []byte {
		buf := make([]byte, 0, last+last/8+4096)
		buf = append(buf, head...)
		buf = binary.AppendUvarint(buf, uint64(len(ops)))
		scratch := make([]byte, 0, opBytes+opBytes/8+4096)
		largest, stateBytes, stateRows := 0, 0, int64(0) // largest: of the snapshots, which scratch holds
		for _, o := range ops {
			state := o.state
			if o.encode != nil {
				if need := int(o.rows*perRow) + 4096; cap(scratch) < need {
					scratch = make([]byte, 0, need+need/8)
				}
				scratch = o.encode(scratch[:0])
				state = scratch
				largest = max(largest, len(state))
			}
			stateBytes, stateRows = stateBytes+len(state), stateRows+o.rows
			buf = reserve(buf, len(o.key)+len(state)+2*binary.MaxVarintLen64)
			buf = delta.AppendStateBytes(buf, o.key)
			buf = delta.AppendStateBytes(buf, state)
		}
		d.ckptOpBytes = largest // checkpoints are taken one at a time (ckptMu)
		if stateRows > 0 {
			d.ckptRowBytes = max(int64(stateBytes)/stateRows, 1)
		}

		buf = binary.AppendUvarint(buf, uint64(len(views)))
		for _, v := range views {
			buf = delta.AppendStateBytes(buf, v.name)
			for _, f := range []frozenBag{v.rows, v.errs} {
				c := f.batch()
				buf = reserve(buf, c.Len()*len(c.Kinds())*9+64) // about: varints and short strings
				buf = c.AppendBinary(buf)
			}
		}
		sum := sha256.Sum256(buf)
		return append(buf, sum[:]...)
	}, nil
}

// reserve returns b with room for n more bytes, doubling its capacity when it must grow.
func reserve(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), max(2*cap(b), len(b)+n))
	copy(nb, b)
	return nb
}

// checkpoint is a decoded checkpoint file.
type checkpoint struct {
	tick        uint64
	lsn         wal.LSN
	now         int64
	fingerprint []byte
	wms         map[string][2]int64 // source → max event time, late events
	states      map[string][]byte   // node fingerprint → operator state
	views       map[string][2]*delta.Batch
}

var errCkptCorrupt = errors.New("corrupt checkpoint")

// decodeCheckpoint verifies p's checksum and parses it.
func decodeCheckpoint(p []byte) (*checkpoint, error) {
	if len(p) < len(ckptMagic)+1+sha256.Size || string(p[:len(ckptMagic)]) != ckptMagic {
		return nil, fmt.Errorf("%w: not a checkpoint file", errCkptCorrupt)
	}
	body, sum := p[:len(p)-sha256.Size], p[len(p)-sha256.Size:]
	if want := sha256.Sum256(body); !bytes.Equal(want[:], sum) {
		return nil, fmt.Errorf("%w: checksum mismatch", errCkptCorrupt)
	}
	if body[len(ckptMagic)] != ckptVersion {
		return nil, fmt.Errorf("%w: version %d", errCkptCorrupt, body[len(ckptMagic)])
	}
	r := delta.NewStateReader(body[len(ckptMagic)+1:])
	c := &checkpoint{tick: r.Uvarint(), lsn: wal.LSN(r.Uvarint()), now: r.Varint(), fingerprint: r.Bytes(),
		wms: map[string][2]int64{}, states: map[string][]byte{}, views: map[string][2]*delta.Batch{}}
	for n := r.Count(3); n > 0; n-- {
		name := r.String()
		c.wms[name] = [2]int64{r.Varint(), r.Varint()}
	}
	for n := r.Count(2); n > 0; n-- {
		key := r.String()
		c.states[key] = r.Bytes()
	}
	for n := r.Count(3); n > 0; n-- {
		name := r.String()
		rows, errs := r.Batch(), r.Batch()
		c.views[name] = [2]*delta.Batch{rows, errs}
	}
	if r.Err() == nil && r.Len() != 0 {
		r.Failf("%d trailing bytes", r.Len())
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%w: %v", errCkptCorrupt, err)
	}
	return c, nil
}

// ckptHook, when set (by tests), runs in checkpointNow between the snapshot and its
// encoding, holding neither d.mu nor flushMu.
var ckptHook func()

// checkpointNow takes a checkpoint: under d.mu it flushes and snapshots the state, then
// encodes it and writes the file with ticks going on, and records it. Checkpoints are
// taken one at a time (ckptMu); the caller holds neither lock. Without a data directory
// it does nothing.
func (d *DB) checkpointNow(ctx context.Context, force bool) error {
	if d.dir == "" {
		return nil
	}
	d.ckptMu.Lock()
	defer d.ckptMu.Unlock()
	start := time.Now()
	// Most of the pending ticks are written without holding up ticks; the flush under
	// d.mu below then has little left.
	if err := d.flushOut(ctx); err != nil {
		return err
	}
	d.mu.Lock()
	if !force && len(d.ckpts) > 0 && d.ckpts[len(d.ckpts)-1].tick == d.tick && bytes.Equal(d.ckptCatalog, d.catalogFingerprint()) {
		d.mu.Unlock()
		return nil // nothing happened since the last one
	}
	locked := time.Now()
	var encode func() []byte
	err := d.flush(ctx)
	if err == nil {
		encode, err = d.snapshotCheckpoint()
	}
	info := ckptInfo{tick: d.tick, lsn: d.flushedLSN, path: filepath.Join(d.ckptDir(), fmt.Sprintf("%020d%s", d.tick, ckptSuffix))}
	fp := d.catalogFingerprint()
	d.mu.Unlock()
	held := time.Since(locked)
	if err != nil {
		return err
	}
	if ckptHook != nil {
		ckptHook()
	}
	p := encode()
	encoded := time.Since(start)
	if err := writeFileSync(info.path, p); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ckpts = slices.DeleteFunc(d.ckpts, func(c ckptInfo) bool { return c.tick == info.tick })
	d.ckpts = append(d.ckpts, info)
	d.ckptCatalog = fp
	for len(d.ckpts) > ckptKeep {
		if err := os.Remove(d.ckpts[0].path); err != nil && !errors.Is(err, os.ErrNotExist) {
			d.logger.Warn("removing an old checkpoint", "path", d.ckpts[0].path, "err", err)
		}
		d.ckpts = d.ckpts[1:]
	}
	took := time.Since(start)
	d.ckptCount.Add(1)
	d.ckptNanos.Add(int64(took))
	d.ckptHeld.Add(int64(held))
	if int64(held) > d.ckptHeldMax.Load() {
		d.ckptHeldMax.Store(int64(held))
	}
	if int64(took) > d.ckptMax.Load() {
		d.ckptMax.Store(int64(took))
	}
	d.ckptBytes.Store(int64(len(p)))
	d.logger.Debug("checkpoint", "tick", info.tick, "bytes", len(p), "held", held.Round(time.Microsecond), "encoded", encoded.Round(time.Microsecond), "took", took.Round(time.Microsecond))
	d.truncateLog()
	return nil
}

// retainFrom is the first log record recovery may need: the oldest kept checkpoint's
// position + 1, or the flushed position + 1 without a checkpoint.
func (d *DB) retainFrom() wal.LSN {
	from := d.flushedLSN + 1
	if len(d.ckpts) > 0 {
		from = min(from, d.ckpts[0].lsn+1)
	}
	return from
}

// truncateLog drops the log segments recovery no longer needs.
func (d *DB) truncateLog() {
	if d.log == nil {
		return
	}
	if err := d.log.TruncateBefore(d.retainFrom()); err != nil {
		d.logger.Warn("dropping flushed log segments", "err", err)
	}
}

// writeFileSync writes p to path atomically: a temporary file, fsynced, renamed, and
// the directory fsynced.
func writeFileSync(path string, p []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(p)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	df, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer df.Close()
	return df.Sync()
}

// startCheckpointer starts the loop that checkpoints every CheckpointInterval while
// ticks have happened since the last checkpoint, and soon after a catalog change.
func (d *DB) startCheckpointer(ctx context.Context) {
	if d.dir == "" || d.ckptInterval <= 0 {
		return
	}
	var last time.Time
	var took time.Duration
	d.ckptLoop = every(ctx, d.ckptInterval, func(ctx context.Context) {
		// Ticks wait for the snapshot, and the encoding takes a core: keep a checkpoint
		// under 1/ckptDuty of the time, however short the interval and however big the
		// state.
		if time.Since(last) < ckptDuty*took {
			return
		}
		start := time.Now()
		if err := d.checkpointNow(ctx, false); err != nil {
			d.logger.Warn("checkpoint failed; recovery will replay more of the log", "err", err)
		}
		last, took = time.Now(), time.Since(start)
	})
}

// ckptDuty: periodic checkpoints are at least ckptDuty times their own duration apart.
const ckptDuty = 20

// CheckpointStats returns the checkpoints taken, their total and longest duration, and
// the size of the last one.
func (d *DB) CheckpointStats() (n int64, total, longest time.Duration, bytes int64) {
	return d.ckptCount.Load(), time.Duration(d.ckptNanos.Load()), time.Duration(d.ckptMax.Load()), d.ckptBytes.Load()
}

// CheckpointHolds returns how long ticks (and reads of views in memory) waited for
// checkpoints, in all and at the longest: their flush and snapshot under the tick lock.
func (d *DB) CheckpointHolds() (total, longest time.Duration) {
	return time.Duration(d.ckptHeld.Load()), time.Duration(d.ckptHeldMax.Load())
}

// Checkpoint takes a checkpoint now.
func (d *DB) Checkpoint(ctx context.Context) error {
	if err := d.checkReady(); err != nil {
		return err
	}
	return d.checkpointNow(ctx, true)
}

// restore recovers the in-memory state from the newest usable checkpoint and replays the
// log after it. It reports false (with the state unspecified: the caller rebuilds) when
// no checkpoint is usable. The caller holds d.mu; the catalog is loaded and d.tick is
// the store's tick.
func (d *DB) restore(ctx context.Context) (bool, error) {
	if d.dir == "" {
		return false, nil
	}
	files, err := d.checkpointsOnDisk()
	if err != nil {
		return false, err
	}
	// Whatever is not used is removed: a corrupt file is renamed aside (for a post
	// mortem), a stale or older one deleted. Only the one loaded pins the log.
	d.ckpts = nil
	discard := func(f ckptInfo, corrupt bool) {
		if corrupt {
			_ = os.Rename(f.path, f.path+".corrupt")
		} else {
			_ = os.Remove(f.path)
		}
	}
	stored := d.tick
	fp := d.catalogFingerprint()
	for i := len(files) - 1; i >= 0; i-- {
		f := files[i]
		if len(d.ckpts) > 0 {
			discard(f, false)
			continue
		}
		p, err := os.ReadFile(f.path)
		if err == nil {
			var c *checkpoint
			if c, err = decodeCheckpoint(p); err == nil {
				f.lsn = c.lsn
				err = d.usable(c, fp, stored)
				if err == nil {
					start := time.Now()
					if err = d.load(ctx, c); err == nil {
						d.ckpts = []ckptInfo{f}
						d.logger.Info("loaded checkpoint", "tick", c.tick, "bytes", len(p), "took", time.Since(start).Round(time.Millisecond))
						continue
					}
				}
				d.logger.Warn("checkpoint not used; trying the one before", "path", f.path, "err", err)
				discard(f, false)
				continue
			}
		}
		d.logger.Warn("checkpoint is corrupt; trying the one before", "path", f.path, "err", err)
		discard(f, true)
	}
	if len(d.ckpts) == 0 {
		return false, nil
	}
	c := d.ckpts[0]
	if err := d.replayFrom(ctx, c.lsn+1, stored); err != nil {
		d.logger.Warn("replaying the log after the checkpoint failed; recomputing the views instead", "err", err)
		d.ckpts = nil
		return false, nil
	}
	d.restoredFrom = c.tick
	// The operators are at the checkpoint's (or the last replayed tick's) time: an empty
	// tick brings temporal filters to the clock's, as a recomputation would have.
	if len(d.views) > 0 {
		if err := d.runTick(ctx, tickInput{}); err != nil {
			d.logger.Warn("the first tick after the checkpoint failed; recomputing the views instead", "err", err)
			d.ckpts = nil
			return false, nil
		}
	}
	return true, nil
}

// usable reports why c cannot be recovered from: taken under another catalog, ahead of
// the store, or older than the log reaches.
func (d *DB) usable(c *checkpoint, fingerprint []byte, stored uint64) error {
	switch {
	case !bytes.Equal(c.fingerprint, fingerprint):
		return errors.New("taken before the last catalog change")
	case c.tick > stored:
		return fmt.Errorf("at tick %d, ahead of the view store's %d", c.tick, stored)
	case d.log != nil && c.lsn+1 < d.log.FirstLSN():
		return fmt.Errorf("the write-ahead log no longer reaches back to its position %d", c.lsn)
	}
	return nil
}

// load sets the in-memory state from c: tables from the store, event time, and the
// graph planned afresh with every operator's state loaded. The caller holds d.mu.
func (d *DB) load(ctx context.Context, c *checkpoint) error {
	d.waitNotes()
	d.unflushed = &unflushed{}
	if err := d.loadTables(ctx); err != nil {
		return err
	}
	if err := d.loadWatermarks(ctx); err != nil {
		return err
	}
	for name, w := range d.wms {
		s, ok := c.wms[name]
		if !ok {
			return fmt.Errorf("no event-time state for source %q", name)
		}
		w.max, w.late = s[0], s[1]
	}
	d.views = map[string]*view{}
	d.graph = newGraph()
	for _, rel := range d.cat.List(catalog.View) {
		saved, ok := c.views[rel.Name]
		if !ok {
			return fmt.Errorf("no contents for view %q", rel.Name)
		}
		tmp, keys, insertOnly, err := d.lower(rel)
		if err != nil {
			return err
		}
		for i := range tmp.Len() {
			op, _, _, _ := tmp.Node(exec.NodeID(i))
			if op == nil {
				continue
			}
			if _, shared := d.graph.keyNode[keys[i]]; shared {
				continue
			}
			st, ok := c.states[keys[i]]
			if !ok {
				return fmt.Errorf("view %q: no state for %s", rel.Name, op)
			}
			if err := exec.LoadState(op, st); err != nil {
				return fmt.Errorf("view %q: %w", rel.Name, err)
			}
		}
		v := &view{rel: rel, historyFrom: c.tick, insertOnly: insertOnly}
		d.merge(v, tmp, keys)
		d.newBags(v)
		v.rows.apply(saved[0], nil)
		v.errs.apply(saved[1], nil)
		d.graph.register(v)
		d.views[rel.Name] = v
	}
	d.tick = c.tick
	d.now = max(d.now, c.now)
	return nil
}

// lower plans a view's stored statement into a private dataflow and its nodes'
// fingerprints.
func (d *DB) lower(rel *catalog.Relation) (df *exec.Dataflow, keys []string, insertOnly bool, err error) {
	st, err := d.planner.Plan(rel.SQL, nil)
	if err != nil {
		return nil, nil, false, err
	}
	cv, ok := st.(*planner.CreateView)
	if !ok {
		return nil, nil, false, fmt.Errorf("view %q: stored SQL is not CREATE MATERIALIZED VIEW", rel.Name)
	}
	df, keys, err = planner.LowerKeyed(cv.Plan)
	return df, keys, planner.InsertOnly(cv.Plan), err
}
