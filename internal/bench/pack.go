package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/internal/livegen"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/queries"
)

// PackResult is workload (a): the live-room pack (queries/*.sql) fed by `weir gen`'s
// generator, unpaced, through COPY, with memory and view reads sampled as it runs.
type PackResult struct {
	Seconds          float64      `json:"seconds"`        // wall time of the generator's run
	EventSeconds     float64      `json:"event_seconds"`  // of which writing events (after the tables were filled)
	Events           int64        `json:"events"`         // events the server acknowledged
	EventsPerSec     float64      `json:"events_per_sec"` // Events ÷ EventSeconds
	CPUSecPerMEvents float64      `json:"cpu_sec_per_m_events"`
	PeakRSSBytes     int64        `json:"peak_rss_bytes"`
	Views            []string     `json:"views"`
	ReadP50Ms        float64      `json:"read_p50_ms"` // over the samples' slowest view read
	ReadP99Ms        float64      `json:"read_p99_ms"`
	ReadMaxMs        float64      `json:"read_max_ms"`
	Samples          []PackSample `json:"samples"`
	// SecondHalf is the growth over the second half of the run: the rise of a line fitted
	// by least squares to the samples from the one nearest half-way through the run on.
	SecondHalf PackGrowth `json:"second_half"`
	// Operators are the stateful operators' state rows at the sample SecondHalf starts
	// from and at the last, largest growth first.
	Operators []PackOperator `json:"operators"`
	Checks    []PackCheck    `json:"checks"`
	// Freshness is ack → visible while the generator runs (nil when the run keeps
	// neither view the probe reads).
	Freshness *PackFreshness `json:"freshness,omitempty"`
	// Checkpoints taken by the end of the run (the first ones after the DDL), the size
	// of the last, the longest and the longest wait of ticks and reads for one.
	Checkpoints         int64   `json:"checkpoints"`
	CheckpointBytes     int64   `json:"checkpoint_bytes"`
	CheckpointMaxMs     float64 `json:"checkpoint_max_ms"`
	CheckpointHeldMaxMs float64 `json:"checkpoint_held_max_ms"`
}

// PackFreshness is the pack's ack → visible, measured with markers: every
// packProbeInterval a probe COPYs one comment into markerRoom, which the generator
// has no events for, at the event time of the newest comment acknowledged so far (so
// the marker is never late and never moves the watermark); a reader polls the room's
// comment count in View, on connections of their own.
type PackFreshness struct {
	View    string `json:"view"`
	Markers int    `json:"markers"`
	MarkerLatency
}

// packProbeInterval is how often the pack's freshness probe writes a marker, and
// packProbeUsers how many user_ids its markers cycle through: few enough to keep
// count(DISTINCT user_id)'s state flat, enough that no user posts more than 20
// comments in 10 s (comment_floods).
const (
	packProbeInterval = 100 * time.Millisecond
	packProbeUsers    = 10
)

// packProbeViews are the views the freshness probe can read its markers from, in the
// order it prefers them: each counts comments per room.
var packProbeViews = []string{"room_activity", "room_minute"}

// PackOperator is one stateful operator's state rows half-way through the run and at
// its end.
type PackOperator struct {
	Operator string `json:"operator"`
	Views    string `json:"views"`
	MidRows  int64  `json:"mid_state_rows"`
	EndRows  int64  `json:"end_state_rows"`
}

// PackSample is one look at the server while the generator runs.
type PackSample struct {
	ElapsedSec    float64 `json:"elapsed_seconds"`
	Events        int64   `json:"events"`
	RSSBytes      int64   `json:"rss_bytes"`
	LiveHeapBytes int64   `json:"live_heap_bytes"` // runtime/metrics /gc/heap/live:bytes
	GoBytes       int64   `json:"go_bytes"`        // goMapped: what the Go runtime holds
	// StoreBytes is what the view store's DuckDB holds in memory (duckdb_memory()), by tag.
	StoreBytes map[string]int64 `json:"store_bytes"`
	StateRows  int64            `json:"state_rows"` // summed over weir_operators
	ViewRows   int64            `json:"view_rows"`  // summed over the views
	// ReadMs is the slowest of the `SELECT count(*)` reads of every view, SlowestView
	// the view it read.
	ReadMs      float64 `json:"read_ms"`
	SlowestView string  `json:"slowest_view"`
}

// PackGrowth is what grew over a run's second half (secondHalf).
type PackGrowth struct {
	Seconds       float64 `json:"seconds"`
	Samples       int     `json:"samples"` // the trend's: every sample from half-way on
	LiveHeapBytes int64   `json:"live_heap_bytes"`
	LiveHeapPct   float64 `json:"live_heap_pct"`
	RSSBytes      int64   `json:"rss_bytes"`
	RSSPct        float64 `json:"rss_pct"`
	StateRows     int64   `json:"state_rows"`
	StateRowsPct  float64 `json:"state_rows_pct"`
	ViewRows      int64   `json:"view_rows"`
	ViewRowsPct   float64 `json:"view_rows_pct"`
}

// PackCheck compares an all-time total of a view with what the sink had acknowledged.
type PackCheck struct {
	Query string `json:"query"`
	What  string `json:"what"`
	Want  int64  `json:"want"`
	Got   int64  `json:"got"`
}

// packWorkers is how many COPY connections the generator writes through.
const packWorkers = 2

// packEventRate is the generator's events per second of event time. The default (2,000,
// a quiet evening in 200 rooms) makes batches of 250 ms of event time hold ~500 events,
// spread over five sources: ticks of ~100 events, and event time running several times
// faster than the wall clock when unpaced. 50,000 is the platform's busy hour: batches
// of ~12,500 events, and event time slower than the wall clock at the rates Weir takes.
const packEventRate = 50_000

// packFillLimit bounds how long filling the pack's tables may take before its events.
const packFillLimit = 2 * time.Minute

// packPace says how the generator runs.
func packPace(rate float64) string {
	if rate > 0 {
		return fmt.Sprintf("paced at %s events/s, event time following the wall clock", count(int64(rate)))
	}
	return fmt.Sprintf("unpaced, %s events per second of event time", count(packEventRate))
}

// pack runs workload (a) on a Weir server of its own.
func (r *runner) pack(ctx context.Context) error {
	w, conn, closeWeir, err := r.startWeirConn(ctx, filepath.Join(r.root, "pack"))
	if err != nil {
		return err
	}
	defer closeWeir()
	if err := applyPack(ctx, conn); err != nil {
		return fmt.Errorf("Weir: applying the pack: %w", err)
	}
	res := &PackResult{}
	if res.Views, err = packViews(ctx, conn); err != nil {
		return fmt.Errorf("Weir: weir_catalog: %w", err)
	}
	if len(r.cfg.PackViews) > 0 {
		if res.Views, err = keepViews(ctx, conn, res.Views, r.cfg.PackViews); err != nil {
			return fmt.Errorf("Weir: live-room pack: %w", err)
		}
	}

	gcfg := livegen.DefaultConfig()
	gcfg.Seed = r.cfg.Seed
	gcfg.Rate = packEventRate
	if r.cfg.PackRate > 0 {
		gcfg.Rate = r.cfg.PackRate
	}
	gcfg.Start = time.Now().UTC().Truncate(time.Microsecond)
	g, err := livegen.New(gcfg)
	if err != nil {
		return err
	}
	cs, err := livegen.NewCopySink(ctx, w.dsn+"&application_name=weir%20bench", packWorkers)
	if err != nil {
		return err
	}
	defer cs.Close()
	sink := &countingSink{Sink: cs}

	r.progress(fmt.Sprintf("Weir: live-room pack under weir gen traffic (%s) for %s", packPace(r.cfg.PackRate), r.cfg.PackDuration))
	resetPeakRSS()
	cpu0 := cpuSelf()
	start := time.Now()
	var ops [][]OperatorState // of each sample
	sample := func() (PackSample, error) {
		s := PackSample{ElapsedSec: time.Since(start).Seconds(), Events: sink.events.Load(), LiveHeapBytes: heapLive(), GoBytes: goMapped()}
		s.RSSBytes, _ = rss()
		var err error
		if s.StoreBytes, err = w.d.StoreMemory(ctx); err != nil {
			return s, fmt.Errorf("duckdb_memory(): %w", err)
		}
		o, err := operatorStates(ctx, conn)
		if err != nil {
			return s, fmt.Errorf("weir_operators: %w", err)
		}
		for _, op := range o {
			s.StateRows += op.StateRows
		}
		ops = append(ops, o)
		for _, v := range res.Views {
			t0 := time.Now()
			var n int64
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{v}.Sanitize()).Scan(&n); err != nil {
				return s, fmt.Errorf("reading %s: %w", v, err)
			}
			s.ViewRows += n
			if d := ms(time.Since(t0)); d > s.ReadMs {
				s.ReadMs, s.SlowestView = d, v
			}
		}
		return s, nil
	}
	first, err := sample()
	if err != nil {
		return fmt.Errorf("Weir: %w", err)
	}
	res.Samples = append(res.Samples, first)

	// The run lasts PackDuration from the first event (filling the tables first takes
	// seconds, more under -race), and at most packFillLimit more. The sampler shares
	// conn with nothing else until Run returns.
	runCtx, stopRun := context.WithTimeout(ctx, r.cfg.PackDuration+packFillLimit)
	defer stopRun()
	sink.first = func() { time.AfterFunc(r.cfg.PackDuration, stopRun) }
	done := make(chan struct{})
	var sampler sync.WaitGroup
	var sampleErr error
	sampler.Go(func() {
		t := time.NewTicker(r.cfg.PackSample)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			s, err := sample()
			if err != nil {
				sampleErr = err
				stopRun()
				return
			}
			res.Samples = append(res.Samples, s)
			r.progress(fmt.Sprintf("Weir: live-room pack: %.0f s, %s events, live heap %s, RSS %s, %d state rows, slowest read %.1f ms",
				s.ElapsedSec, count(s.Events), mib(s.LiveHeapBytes), mib(s.RSSBytes), s.StateRows, s.ReadMs))
		}
	})
	var probing sync.WaitGroup
	var probeRes probeResult
	var probeErr error
	probeView := ""
	for _, v := range packProbeViews {
		if slices.Contains(res.Views, v) {
			probeView = v
			break
		}
	}
	if probeView != "" {
		probing.Go(func() { probeRes, probeErr = packProbe(ctx, w, sink, probeView, done) })
	}
	p, runErr := livegen.Run(runCtx, g, sink, livegen.RunConfig{Paced: r.cfg.PackRate > 0, Workers: packWorkers})
	close(done)
	sampler.Wait()
	probing.Wait()
	elapsed := time.Since(start)
	cpu := cpuSelf() - cpu0
	res.PeakRSSBytes, _ = peakRSS()
	var longest, held time.Duration
	res.Checkpoints, _, longest, res.CheckpointBytes = w.d.CheckpointStats()
	_, held = w.d.CheckpointHolds()
	res.CheckpointMaxMs, res.CheckpointHeldMaxMs = ms(longest), ms(held)
	r.rep.Pack = res
	switch {
	case sampleErr != nil:
		return fmt.Errorf("Weir: live-room pack: %w", sampleErr)
	case runErr != nil:
		return fmt.Errorf("Weir: live-room pack: the generator: %w", runErr)
	case probeErr != nil:
		return fmt.Errorf("Weir: live-room pack: the freshness probe: %w", probeErr)
	case ctx.Err() != nil:
		return ctx.Err()
	}
	last, err := sample()
	if err != nil {
		return fmt.Errorf("Weir: %w", err)
	}
	res.Samples = append(res.Samples, last)

	res.Seconds = elapsed.Seconds()
	res.Events = sink.events.Load()
	res.EventSeconds = p.Elapsed.Seconds()
	if res.Events == 0 || p.Elapsed <= 0 {
		return fmt.Errorf("Weir: live-room pack: the generator wrote no events in %s (filling the tables took all of it)", packFillLimit)
	}
	if p.Events != res.Events {
		return fmt.Errorf("Weir: live-room pack: the generator counted %d events, the sink %d", p.Events, res.Events)
	}
	res.EventsPerSec = float64(res.Events) / p.Elapsed.Seconds()
	res.CPUSecPerMEvents = cpu.Seconds() / (float64(res.Events) / 1e6)
	reads := make([]time.Duration, len(res.Samples))
	for i, s := range res.Samples {
		reads[i] = time.Duration(s.ReadMs * float64(time.Millisecond))
	}
	slices.Sort(reads)
	res.ReadP50Ms, res.ReadP99Ms, res.ReadMaxMs = ms(quantile(reads, 0.5)), ms(quantile(reads, 0.99)), ms(reads[len(reads)-1])
	if probeView != "" {
		res.Freshness = &PackFreshness{View: probeView, Markers: len(probeRes.visible), MarkerLatency: probeRes.latency()}
	}
	res.SecondHalf = secondHalf(res.Samples)
	res.Operators = operatorGrowth(ops[midSample(res.Samples)], ops[len(ops)-1])
	return r.packChecks(ctx, conn, res, sink)
}

// packChecks compares all-time totals of the pack's views with what the sink had
// acknowledged; any difference fails the workload. A check of a view the run dropped
// (PackViews) is left out.
func (r *runner) packChecks(ctx context.Context, conn *pgx.Conn, res *PackResult, sink *countingSink) error {
	comments, markers := "comments acknowledged", int64(0)
	if res.Freshness != nil {
		comments, markers = "comments acknowledged (the generator's and the freshness probe's)", int64(res.Freshness.Markers)
	}
	for _, c := range []struct {
		view string
		PackCheck
	}{
		{"room_activity", PackCheck{Query: `SELECT sum(comments)::bigint FROM room_activity`, What: comments, Want: sink.comments.Load() + markers}},
		{"room_minute", PackCheck{Query: `SELECT sum(comments)::bigint FROM room_minute`, What: comments, Want: sink.comments.Load() + markers}},
		{"category_leaderboard", PackCheck{Query: `SELECT sum(coins::bigint)::bigint FROM category_leaderboard`, What: "coins (price × count) of the gifts acknowledged", Want: sink.coins.Load()}},
		{"anchor_revenue_hourly", PackCheck{Query: `SELECT sum(gifts)::bigint FROM anchor_revenue_hourly`, What: "gifts acknowledged", Want: sink.gifts.Load()}},
	} {
		if !slices.Contains(res.Views, c.view) {
			continue
		}
		var got *int64
		if err := conn.QueryRow(ctx, c.Query).Scan(&got); err != nil {
			return fmt.Errorf("Weir: live-room pack: %s: %w", c.Query, err)
		}
		if got != nil {
			c.Got = *got
		}
		res.Checks = append(res.Checks, c.PackCheck)
		if c.Got != c.Want {
			return fmt.Errorf("Weir: live-room pack: %s returned %d, but the sink had %d %s", c.Query, c.Got, c.Want, c.What)
		}
	}
	return nil
}

// secondHalf is the growth from the sample nearest half the last sample's elapsed
// time to the last sample.
func secondHalf(ss []PackSample) PackGrowth {
	if len(ss) < 2 {
		return PackGrowth{}
	}
	half := ss[midSample(ss):]
	from, to := half[0].ElapsedSec, half[len(half)-1].ElapsedSec
	// trend fits a line to one measure over the second half's samples by least squares
	// and returns its rise from the first sample's time to the last's, and that rise
	// over the line's value at the first: one sample taken beside a collection's
	// transient garbage (a checkpoint's buffers) moves it by its share, not by all of it.
	trend := func(v func(PackSample) int64) (int64, float64) {
		var mx, my float64
		for _, s := range half {
			mx += s.ElapsedSec
			my += float64(v(s))
		}
		mx, my = mx/float64(len(half)), my/float64(len(half))
		var sxy, sxx float64
		for _, s := range half {
			sxy += (s.ElapsedSec - mx) * (float64(v(s)) - my)
			sxx += (s.ElapsedSec - mx) * (s.ElapsedSec - mx)
		}
		if sxx == 0 {
			return 0, 0
		}
		slope := sxy / sxx
		rise, start := slope*(to-from), my+slope*(from-mx)
		if start <= 0 {
			return int64(rise), 0
		}
		return int64(rise), 100 * rise / start
	}
	g := PackGrowth{Seconds: to - from, Samples: len(half)}
	g.LiveHeapBytes, g.LiveHeapPct = trend(func(s PackSample) int64 { return s.LiveHeapBytes })
	g.RSSBytes, g.RSSPct = trend(func(s PackSample) int64 { return s.RSSBytes })
	g.StateRows, g.StateRowsPct = trend(func(s PackSample) int64 { return s.StateRows })
	g.ViewRows, g.ViewRowsPct = trend(func(s PackSample) int64 { return s.ViewRows })
	return g
}

// midSample is the index of the sample nearest half-way through the run, the last one
// aside.
func midSample(ss []PackSample) int {
	end, mid := ss[len(ss)-1].ElapsedSec, 0
	for i, s := range ss[:max(1, len(ss)-1)] {
		if abs(s.ElapsedSec-end/2) < abs(ss[mid].ElapsedSec-end/2) {
			mid = i
		}
	}
	return mid
}

// operatorGrowth pairs the operators of two weir_operators readings, largest growth first.
func operatorGrowth(mid, end []OperatorState) []PackOperator {
	type key struct{ op, views string }
	at := map[key]int64{}
	for _, o := range mid {
		at[key{o.Operator, o.Views}] += o.StateRows
	}
	out := make([]PackOperator, 0, len(end))
	for _, o := range end {
		out = append(out, PackOperator{Operator: o.Operator, Views: o.Views, MidRows: at[key{o.Operator, o.Views}], EndRows: o.StateRows})
	}
	slices.SortStableFunc(out, func(a, b PackOperator) int { return cmp.Compare(b.EndRows-b.MidRows, a.EndRows-a.MidRows) })
	return out
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// countingSink counts what its sink acknowledged: every event, and per source what the
// correctness checks compare with.
type countingSink struct {
	livegen.Sink
	events, comments, gifts, coins atomic.Int64
	newestComment                  atomic.Int64 // the event time of the newest comment acknowledged, in µs
	first                          func()       // called once, when the first events are written
	once                           sync.Once
}

func (s *countingSink) Append(ctx context.Context, src livegen.Schema, rows [][]any) error {
	if s.first != nil {
		s.once.Do(s.first)
	}
	if err := s.Sink.Append(ctx, src, rows); err != nil {
		return err
	}
	s.events.Add(int64(len(rows)))
	switch src.Name {
	case livegen.Comments:
		s.comments.Add(int64(len(rows)))
		var newest int64
		for _, row := range rows {
			newest = max(newest, row[3].(time.Time).UnixMicro())
		}
		for old := s.newestComment.Load(); newest > old && !s.newestComment.CompareAndSwap(old, newest); {
			old = s.newestComment.Load()
		}
	case livegen.Gifts:
		var coins int64
		for _, row := range rows {
			coins += row[3].(int64) * row[4].(int64) // price, count
		}
		s.gifts.Add(int64(len(rows)))
		s.coins.Add(coins)
	}
	return nil
}

// applyPack runs the statements of the pack's files in file-name order, as `weir
// apply` does on an empty server.
func applyPack(ctx context.Context, conn *pgx.Conn) error {
	names, err := fs.Glob(queries.Files, "*.sql")
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return errors.New("the pack has no .sql files")
	}
	sort.Strings(names)
	for _, n := range names {
		text, err := fs.ReadFile(queries.Files, n)
		if err != nil {
			return err
		}
		stmts, err := planner.Split(string(text))
		if err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
		for _, s := range stmts {
			if _, err := conn.Exec(ctx, s, pgx.QueryExecModeSimpleProtocol); err != nil {
				return fmt.Errorf("%s: %s: %w", n, firstWords(s), err)
			}
		}
	}
	return nil
}

// keepViews drops the views of views (in creation order) that keep does not name,
// the last created first, and returns the ones left. Every name in keep must be one
// of views.
func keepViews(ctx context.Context, conn *pgx.Conn, views, keep []string) ([]string, error) {
	for _, k := range keep {
		if !slices.Contains(views, k) {
			return nil, fmt.Errorf("the pack has no view %q (it has %s)", k, strings.Join(views, ", "))
		}
	}
	var kept []string
	for i := len(views) - 1; i >= 0; i-- {
		v := views[i]
		if slices.Contains(keep, v) {
			kept = append(kept, v)
			continue
		}
		if _, err := conn.Exec(ctx, "DROP MATERIALIZED VIEW "+pgx.Identifier{v}.Sanitize()); err != nil {
			return nil, fmt.Errorf("dropping %s: %w", v, err)
		}
	}
	slices.Reverse(kept)
	return kept, nil
}

// packViews lists the server's materialized views from weir_catalog, in creation order.
func packViews(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, `SELECT name, kind FROM weir_catalog ORDER BY id`)
	if err != nil {
		return nil, err
	}
	var views []string
	var name, kind string
	_, err = pgx.ForEachRow(rows, []any{&name, &kind}, func() error {
		if kind == "materialized view" {
			views = append(views, name)
		}
		return nil
	})
	if err == nil && len(views) == 0 {
		err = errors.New("no materialized views")
	}
	return views, err
}

// packProbe measures the pack's ack → visible (PackFreshness) until stop is closed. It
// starts writing markers once the sink has acknowledged a comment.
func packProbe(ctx context.Context, w *weirServer, sink *countingSink, view string, stop <-chan struct{}) (probeResult, error) {
	for sink.newestComment.Load() == 0 {
		select {
		case <-stop:
			return probeResult{}, errors.New("the generator acknowledged no comment")
		case <-ctx.Done():
			return probeResult{}, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	writer, err := w.connect(ctx)
	if err != nil {
		return probeResult{}, err
	}
	defer writer.Close(context.Background())
	reader, err := w.connect(ctx)
	if err != nil {
		return probeResult{}, err
	}
	defer reader.Close(context.Background())
	query := fmt.Sprintf(`SELECT coalesce(sum(comments), 0)::bigint FROM %s WHERE room_id = %d`, view, markerRoom)
	k := 0
	return markerProbe{
		interval: packProbeInterval,
		pause:    2 * time.Millisecond,
		write: func(ctx context.Context) error {
			k++
			b := newBinaryCopy(nil, 64)
			b.begin(4)
			b.fieldInt(markerRoom)
			b.fieldInt(-int64(k%packProbeUsers) - 1)
			b.fieldText("freshness probe")
			b.fieldTS(sink.newestComment.Load())
			return copyBinary(ctx, writer, "comments", b.finish())
		},
		read: func(ctx context.Context) (n int64, err error) {
			err = reader.QueryRow(ctx, query).Scan(&n)
			return n, err
		},
	}.run(ctx, stop)
}
