// Package bench is `weir bench` (DESIGN §7, issue #9): it runs Weir in this process on
// loopback, a throwaway PostgreSQL 15 and an in-process DuckDB on the same input, and
// reports, side by side, sustained ingest with every view current, freshness, memory,
// CPU per event, rows streamed to a client and backfill speed, then Nexmark, then the
// live-room pack (queries/*.sql) under unpaced `weir gen` traffic with its memory sampled.
//
// Weir runs in-process (db.Open + server.Start, as `weir serve` does) so that the
// harness's CPU profile is the engine's; its clients still go over TCP: COPY in
// PostgreSQL's binary format through pgx, view reads over the wire protocol and HTTP.
// The batches are encoded once, before any clock starts, and sent byte for byte the
// same to Weir and to PostgreSQL.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Config sizes a run. DefaultConfig's run takes a few minutes on two cores.
type Config struct {
	Events    int           // events in the COPY workload
	Batches   int           // COPY batches they are sent in; views are read after each
	Rooms     int           // distinct room_id values (Zipf)
	Users     int           // distinct user_id values (Zipf)
	Freshness time.Duration // how long each freshness reader runs; 0 skips freshness
	Backfill  bool          // time new views over the loaded history
	// BackfillRows is the history the backfill's views are created over: the COPY
	// workload's events and, when it is larger, as many more of the same generator's,
	// loaded (untimed) into each system after the COPY workload.
	BackfillRows int
	Nexmark      int // Nexmark events per query; 0 skips Nexmark
	AggGroups    int // groups in the HashAggregate state measurement; 0 skips it
	// StreamRows is the LIMIT of the read streamed to a pgx client after the COPY
	// workload (issue #6); 0 skips it.
	StreamRows int
	// NexmarkBatches is how many batches Nexmark's events arrive in.
	NexmarkBatches int
	// NexmarkQueries, when not empty, names the Nexmark queries to run (q0…q8);
	// empty runs them all.
	NexmarkQueries []string
	// PackDuration is how long (wall time) the live-room pack runs under unpaced
	// `weir gen` traffic (workload (a)); 0 skips it. PackSample is how often its
	// memory, state and view reads are sampled meanwhile.
	PackDuration time.Duration
	PackSample   time.Duration
	// PackRate, when positive, paces the generator at that many events per second
	// (event time follows the wall clock: windows close, now() filters expire) instead
	// of running it unpaced at 50k events per second of event time.
	PackRate float64
	// PackViews, when not empty, names the pack's views to keep; the others are
	// dropped before the generator starts (a windowed run keeps the windowed ones).
	PackViews []string
	Peers     bool   // run the PostgreSQL and DuckDB peers
	NoSync    bool   // Weir skips fsync in its write-ahead log
	Seed      uint64 // the generators' seed
	TempDir   string // where the databases go ("" : os.TempDir())
	// Progress, when set, receives a line about each step as it happens.
	Progress func(string)
	Logger   *slog.Logger
}

// DefaultConfig is `weir bench` without flags.
func DefaultConfig() Config {
	return Config{
		Events:         2_000_000,
		Batches:        40,
		Rooms:          1000,
		Users:          100_000,
		AggGroups:      100_000,
		StreamRows:     1_000_000,
		Freshness:      10 * time.Second,
		Backfill:       true,
		BackfillRows:   10_000_000,
		Nexmark:        300_000,
		NexmarkBatches: 10,
		PackDuration:   time.Minute,
		PackSample:     5 * time.Second,
		Peers:          true,
		Seed:           1,
	}
}

// ErrInvalidConfig is returned by Validate.
var ErrInvalidConfig = errors.New("invalid benchmark configuration")

// Validate checks the sizes.
func (c Config) Validate() error {
	switch {
	case c.Events < c.Batches || c.Batches < 1:
		return fmt.Errorf("%w: need at least one batch and one event per batch (events %d, batches %d)", ErrInvalidConfig, c.Events, c.Batches)
	case c.BackfillRows < 0:
		return fmt.Errorf("%w: negative backfill rows", ErrInvalidConfig)
	case c.StreamRows < 0:
		return fmt.Errorf("%w: negative stream rows", ErrInvalidConfig)
	case c.Rooms < 2 || c.Users < 2:
		return fmt.Errorf("%w: need at least 2 rooms and 2 users", ErrInvalidConfig)
	case c.Nexmark > 0 && (c.NexmarkBatches < 1 || c.Nexmark < c.NexmarkBatches*50):
		return fmt.Errorf("%w: Nexmark needs at least 50 events per batch", ErrInvalidConfig)
	case !knownNexQueries(c.NexmarkQueries):
		return fmt.Errorf("%w: unknown Nexmark query in %v (q0…q8)", ErrInvalidConfig, c.NexmarkQueries)
	case c.PackDuration < 0 || c.PackDuration > 0 && c.PackSample <= 0 || c.PackRate < 0:
		return fmt.Errorf("%w: the live-room pack needs a positive duration and sample interval", ErrInvalidConfig)
	}
	return nil
}

// Report is everything one run measured; WriteMarkdown and JSON render it.
type Report struct {
	Started   time.Time         `json:"started"`
	Seconds   float64           `json:"seconds"`
	Machine   Machine           `json:"machine"`
	Config    ReportConfig      `json:"config"`
	Ingest    []IngestResult    `json:"ingest"`
	State     *StateResult      `json:"state,omitempty"`
	AggState  []AggStateResult  `json:"agg_state,omitempty"`
	OpState   []OpStateResult   `json:"op_state,omitempty"`
	Freshness []FreshnessResult `json:"freshness,omitempty"`
	Backfill  []BackfillResult  `json:"backfill,omitempty"`
	Stream    []StreamResult    `json:"stream,omitempty"`
	Nexmark   []NexmarkResult   `json:"nexmark,omitempty"`
	Pack      *PackResult       `json:"pack,omitempty"`
	Notes     []string          `json:"notes,omitempty"`
}

// ReportConfig is the part of Config that shapes the numbers.
type ReportConfig struct {
	Events         int      `json:"events"`
	Batches        int      `json:"batches"`
	Rooms          int      `json:"rooms"`
	Users          int      `json:"users"`
	FreshnessSec   float64  `json:"freshness_seconds"`
	StreamRows     int      `json:"stream_rows"`
	Nexmark        int      `json:"nexmark_events"`
	NexmarkBatches int      `json:"nexmark_batches"`
	PackSec        float64  `json:"pack_seconds"`
	PackSampleSec  float64  `json:"pack_sample_seconds"`
	PackRate       float64  `json:"pack_rate,omitempty"`
	BackfillRows   int      `json:"backfill_rows,omitempty"`
	PackViews      []string `json:"pack_views,omitempty"`
	NoSync         bool     `json:"nosync"`
	Seed           uint64   `json:"seed"`
}

// StateResult is the size of Weir's state after the COPY workload.
type StateResult struct {
	Operators []OperatorState `json:"operators"`
	StateRows int64           `json:"state_rows"`
	ViewRows  int64           `json:"view_rows"` // groups, summed over the three views
	// HeapGrowthBytes is the live Go heap after the workload minus before it: operator
	// state, the views' in-memory rows and the change history kept for subscribers. It
	// leaves out DuckDB, whose memory is not Go's.
	HeapGrowthBytes int64   `json:"heap_growth_bytes"`
	BytesPerGroup   float64 `json:"heap_bytes_per_group"`
	RSSBytes        int64   `json:"rss_bytes"`
}

// Run runs the benchmark.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	progress := cfg.Progress
	if progress == nil {
		progress = func(string) {}
	}
	root, err := os.MkdirTemp(cfg.TempDir, "weir-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(root)

	r := &runner{cfg: cfg, root: root, progress: progress, logger: slog.New(warnOnly{cfg.Logger.Handler()})}
	r.rep = &Report{
		Started: time.Now().UTC(),
		Machine: describeMachine(root),
		Config: ReportConfig{Events: cfg.Events, Batches: cfg.Batches, Rooms: cfg.Rooms, Users: cfg.Users,
			FreshnessSec: cfg.Freshness.Seconds(), StreamRows: cfg.StreamRows, Nexmark: cfg.Nexmark, NexmarkBatches: cfg.NexmarkBatches,
			PackSec: cfg.PackDuration.Seconds(), PackSampleSec: cfg.PackSample.Seconds(), PackRate: cfg.PackRate, PackViews: cfg.PackViews, BackfillRows: cfg.BackfillRows,
			NoSync: cfg.NoSync, Seed: cfg.Seed},
	}
	load := startLoadSampler(5 * time.Second)
	err = r.run(ctx)
	r.rep.Machine.LoadMin, r.rep.Machine.LoadMean, r.rep.Machine.LoadMax = load.Stop()
	r.rep.Seconds = time.Since(r.rep.Started).Seconds()
	return r.rep, err
}

type runner struct {
	cfg      Config
	root     string
	rep      *Report
	progress func(string)
	logger   *slog.Logger

	events   []Event
	payloads []copyPayload
}

// historyBatchRows is how many rows each COPY of the backfill's extra history carries.
const historyBatchRows = 500_000

// backfillRows is the history the backfill's views are created over.
func (r *runner) backfillRows() int64 {
	if !r.cfg.Backfill {
		return int64(len(r.events))
	}
	return int64(max(len(r.events), r.cfg.BackfillRows))
}

// history returns the events of the backfill's history after the COPY workload's: made
// anew for each system, so that the run does not hold them (about 1 GB at 10M rows
// with their COPY encoding) while the other workloads are measured.
func (r *runner) history() []Event {
	n := int(r.backfillRows())
	if n <= len(r.events) {
		return nil
	}
	return genEvents(n, r.cfg.Rooms, r.cfg.Users, r.cfg.Seed)[len(r.events):] // genEvents' prefixes agree
}

// lastTS is the event time of the last event loaded into a system before the freshness
// workload (genEvents' event time follows the event's number).
func (r *runner) lastTS() int64 {
	return baseTime.UnixMicro() + (r.backfillRows()-1)*1_000_000/EventsPerSecond
}

// loadHistory hands the backfill's extra history, if any, to load, which adds it to
// system's table events.
func (r *runner) loadHistory(system string, load func([]Event) error) error {
	h := r.history()
	if len(h) == 0 {
		return nil
	}
	r.progress(fmt.Sprintf("%s: loading %s more events of history for the backfill", system, count(int64(len(h)))))
	if err := load(h); err != nil {
		return fmt.Errorf("%s: history: %w", system, err)
	}
	return nil
}

// copyHistory COPYs the backfill's extra history into table events on conn.
func (r *runner) copyHistory(ctx context.Context, conn *pgx.Conn, system string) error {
	return r.loadHistory(system, func(h []Event) error {
		for _, p := range eventBatches(h, (len(h)+historyBatchRows-1)/historyBatchRows) {
			if err := copyBinary(ctx, conn, "events", p); err != nil {
				return err
			}
		}
		return nil
	})
}

func (r *runner) run(ctx context.Context) error {
	r.progress(fmt.Sprintf("generating %s events in %d batches", count(int64(r.cfg.Events)), r.cfg.Batches))
	r.events = genEvents(r.cfg.Events, r.cfg.Rooms, r.cfg.Users, r.cfg.Seed)
	r.payloads = eventBatches(r.events, r.cfg.Batches)

	if err := r.weir(ctx); err != nil {
		return err
	}
	if err := r.weirCopyAlone(ctx); err != nil {
		return err
	}
	if r.cfg.AggGroups > 0 {
		r.progress("measuring HashAggregate state per group")
		if err := r.aggState(ctx); err != nil {
			return err
		}
	}
	if r.cfg.Peers {
		if err := r.postgres(ctx); err != nil {
			return err
		}
		if err := r.duckdb(ctx); err != nil {
			return err
		}
	}
	if r.cfg.Nexmark > 0 {
		if err := r.nexmark(ctx); err != nil {
			return err
		}
	}
	if r.cfg.PackDuration > 0 {
		if err := r.pack(ctx); err != nil {
			return err
		}
	}
	return nil
}

// weir runs the COPY workload, streaming, backfill and freshness on one Weir server.
func (r *runner) weir(ctx context.Context) error {
	w, conn, done, err := r.startWeirSchema(ctx, "weir")
	if err != nil {
		return err
	}
	defer done()
	heap0 := liveHeap()
	res, err := runBatches(ctx, ingestSystem{
		name: "Weir",
		load: func(ctx context.Context, i int) error { return copyBinary(ctx, conn, "events", r.payloads[i]) },
		read: func(ctx context.Context, want totals) error { return check(pgScan(ctx, conn), want) },
		cpu:  cpuSelf, cpuWhat: "harness process: Weir, its DuckDB store and the clients", rss: true,
	}, r.events, r.cfg.Batches, r.progress)
	if err != nil {
		return err
	}
	r.rep.Ingest = append(r.rep.Ingest, res)

	st := &StateResult{HeapGrowthBytes: liveHeap() - heap0}
	st.RSSBytes, _ = rss()
	if st.Operators, err = operatorStates(ctx, conn); err != nil {
		return fmt.Errorf("Weir: weir_operators: %w", err)
	}
	for _, o := range st.Operators {
		st.StateRows += o.StateRows
	}
	if st.ViewRows, err = viewRows(ctx, conn); err != nil {
		return err
	}
	if st.ViewRows > 0 {
		st.BytesPerGroup = float64(st.HeapGrowthBytes) / float64(st.ViewRows)
	}
	r.rep.State = st

	// Streaming before backfill and freshness, while the source holds exactly the
	// workload's events, as PostgreSQL's table will.
	if err := r.weirStream(ctx, w); err != nil {
		return err
	}

	// Backfill: new views over the history just loaded.
	if err := r.weirBackfill(ctx, conn); err != nil {
		return err
	}
	return r.freshness(ctx, w, res.EventsPerSec)
}

// weirCopyAlone is issue #6's ingest figure: the COPY workload's batches into the same
// source and three views on a fresh server, back to back, with nothing read between
// them. Every acknowledgement still follows the tick that brought the views up to date
// (a read after it sees the batch); the views are read and checked once, after the last
// batch, outside the timing.
func (r *runner) weirCopyAlone(ctx context.Context) error {
	_, conn, done, err := r.startWeirSchema(ctx, "weir-copy")
	if err != nil {
		return err
	}
	defer done()
	res, err := runBatches(ctx, ingestSystem{
		name: copyAloneSystem,
		load: func(ctx context.Context, i int) error { return copyBinary(ctx, conn, "events", r.payloads[i]) },
		// No peak RSS: the process still holds the memory DuckDB allocated in the run
		// before (C memory FreeOSMemory does not return), so the figure would not be
		// this run's.
		cpu: cpuSelf, cpuWhat: "harness process: Weir, its DuckDB store and the clients",
	}, r.events, r.cfg.Batches, r.progress)
	if err != nil {
		return err
	}
	if err := check(pgScan(ctx, conn), totals{}.add(r.events)); err != nil {
		return fmt.Errorf("%s: views after the last batch: %w", copyAloneSystem, err)
	}
	r.rep.Ingest = append(r.rep.Ingest, res)
	return nil
}

// startWeirSchema starts Weir in the directory dir of the run's root, connects, and
// creates the COPY workload's source and views; done closes both.
func (r *runner) startWeirSchema(ctx context.Context, dir string) (w *weirServer, conn *pgx.Conn, done func(), err error) {
	if w, conn, done, err = r.startWeirConn(ctx, filepath.Join(r.root, dir)); err != nil {
		return nil, nil, nil, err
	}
	if err := execAll(ctx, conn, weirSchema...); err != nil {
		done()
		return nil, nil, nil, fmt.Errorf("Weir: %w", err)
	}
	return w, conn, done, nil
}

// copyAloneSystem names weirCopyAlone's row of the COPY workload table.
const copyAloneSystem = "Weir, COPY alone"

func (r *runner) weirBackfill(ctx context.Context, conn *pgx.Conn) error {
	if !r.cfg.Backfill {
		return nil
	}
	if err := r.copyHistory(ctx, conn, "Weir"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, roomsTable); err != nil {
		return fmt.Errorf("Weir: %w", err)
	}
	if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(roomsCopy(r.cfg.Rooms)), "COPY rooms FROM STDIN"); err != nil {
		return fmt.Errorf("Weir: COPY rooms: %w", err)
	}
	// Each view is dropped again, so that freshness is measured with the three views only.
	return r.backfills(ctx, "Weir", pgCreate(conn),
		func(ctx context.Context, v backfillView) error {
			_, err := conn.Exec(ctx, "DROP MATERIALIZED VIEW "+v.name)
			return err
		}, pgScan(ctx, conn), cpuSelf, true)
}

// pgCreate creates a backfill view as a materialized view over conn (Weir or
// PostgreSQL).
func pgCreate(conn *pgx.Conn) func(ctx context.Context, v backfillView) error {
	return func(ctx context.Context, v backfillView) error {
		_, err := conn.Exec(ctx, "CREATE MATERIALIZED VIEW "+v.name+" AS "+v.query)
		return err
	}
}

// freshness measures ack → visible at half the sustained rate, with each reader.
func (r *runner) freshness(ctx context.Context, w *weirServer, sustained float64) error {
	if r.cfg.Freshness > 0 {
		rate := sustained / 2
		nextTS := r.lastTS() + 1_000_000/EventsPerSecond
		read, closeRead, err := sqlMarker(ctx, w)
		if err != nil {
			return err
		}
		defer closeRead()
		for _, reader := range []struct {
			name string
			read func(context.Context) (int64, error)
		}{
			{"SQL over the wire protocol (views in memory, via DuckDB)", read},
			{"HTTP GET /v1/views (in-memory snapshot)", httpMarker(w)},
		} {
			r.progress(fmt.Sprintf("Weir: freshness at %.0f events/s for %s, reader: %s", rate, r.cfg.Freshness, reader.name))
			f, err := freshnessRun(ctx, w, reader.name, rate, r.cfg.Freshness, nextTS, r.cfg.Seed+uint64(len(r.rep.Freshness))+1, reader.read)
			if err != nil {
				return fmt.Errorf("Weir: %w", err)
			}
			nextTS += int64(f.Batches*f.BatchEvents) * 1_000_000 / EventsPerSecond
			r.rep.Freshness = append(r.rep.Freshness, f)
		}
	}
	return nil
}

// warnOnly passes on warnings and errors only: Weir's and PostgreSQL's start-up lines
// would drown the progress of a run that starts a dozen servers.
type warnOnly struct{ slog.Handler }

func (h warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.Handler.Enabled(ctx, l)
}
func (h warnOnly) WithAttrs(as []slog.Attr) slog.Handler { return warnOnly{h.Handler.WithAttrs(as)} }
func (h warnOnly) WithGroup(name string) slog.Handler    { return warnOnly{h.Handler.WithGroup(name)} }
