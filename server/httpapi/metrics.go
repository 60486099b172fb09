package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/exec"
)

// apiMetrics are the HTTP API's metrics, served at GET /metrics with the database's
// state (read at scrape time) and the Go runtime's. Each API has its own registry.
type apiMetrics struct {
	reg         *prometheus.Registry
	ingested    *prometheus.CounterVec // events ingested over HTTP, by source
	rejected    *prometheus.CounterVec // rows rejected by ingest, by source
	limited     *prometheus.CounterVec // ingest requests refused by the rate limit, by source
	commit      prometheus.Histogram   // ingest: rows handed over → their tick durable
	subscribers *prometheus.GaugeVec   // open SSE streams and webhooks, by view and transport
	deliveries  *prometheus.CounterVec // webhook POST attempts, by result
	fresh       *freshness
}

func newMetrics(d *db.DB) *apiMetrics {
	m := &apiMetrics{
		reg: prometheus.NewRegistry(),
		ingested: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_ingest_events_total",
			Help: "Events ingested over HTTP (acknowledged: durable), by source."}, []string{"source"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_ingest_rejected_rows_total",
			Help: "Ingest rows rejected as bad (400), by source."}, []string{"source"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_ingest_rate_limited_total",
			Help: "Ingest requests refused by the rate limit (429), by source."}, []string{"source"}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "weir_ingest_tick_seconds",
			Help: "Tick latency seen by ingest: from an HTTP request's rows reaching the database until the tick applying them is durable " +
				"and visible (group-commit wait, dataflow step, write-ahead log fsync).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		subscribers: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "weir_subscribers",
			Help: "Open view subscriptions over HTTP, by view and transport (sse, webhook)."}, []string{"view", "transport"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "weir_webhook_deliveries_total",
			Help: "Webhook POST attempts by result: ok (2xx), retry (5xx, 408, 429, timeout, connection error; retried), dropped (other 4xx)."},
			[]string{"result"}),
		fresh: newFreshness(d, time.Now),
	}
	m.reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}),
		m.ingested, m.rejected, m.limited, m.commit, m.subscribers, m.deliveries, collector{d: d, fresh: m.fresh})
	return m
}

func (m *apiMetrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *apiMetrics) close() { m.fresh.close() }

var (
	lateDesc = prometheus.NewDesc("weir_late_events_total",
		"Events that arrived behind their source's watermark (kept in the source, dropped from closed windows).", []string{"source"}, nil)
	watermarkDesc = prometheus.NewDesc("weir_watermark_seconds",
		"A watermarked source's event-time watermark, in seconds since the Unix epoch.", []string{"source"}, nil)
	tickDesc  = prometheus.NewDesc("weir_tick", "The last committed tick.", nil, nil)
	walBytes  = prometheus.NewDesc("weir_wal_bytes", "The write-ahead log's size on disk (segments a checkpoint has not dropped yet).", nil, nil)
	stateDesc = prometheus.NewDesc("weir_operator_state_rows",
		"Rows, groups or distinct values a stateful dataflow operator holds (EXPLAIN MATERIALIZED VIEW's state=).", []string{"node", "operator", "views"}, nil)
	walDesc    = prometheus.NewDesc("weir_wal_last_lsn", "The last durable write-ahead log record (records since the log began; 0 without a data directory).", nil, nil)
	groupsDesc = prometheus.NewDesc("weir_ingest_group_commits_total", "Ticks run by ingest group commit.", nil, nil)
	flushDesc  = prometheus.NewDesc("weir_flushes_total", "Flushes of acknowledged ticks to the view store.", nil, nil)
	flushTime  = prometheus.NewDesc("weir_flush_seconds_total", "Time spent flushing to the view store.", nil, nil)
	memReads   = prometheus.NewDesc("weir_memory_reads_total",
		"SQL reads of views answered from the views' rows in memory instead of the view store (no flush first).", nil, nil)
	memPrepares = prometheus.NewDesc("weir_memory_read_prepares_total",
		"Statements DuckDB prepared for those reads (a read prepared before on its connection runs without one).", nil, nil)
	ckptDesc    = prometheus.NewDesc("weir_checkpoints_total", "Checkpoints of operator state taken (periodic, after DDL, at shutdown).", nil, nil)
	ckptTime    = prometheus.NewDesc("weir_checkpoint_seconds_total", "Time spent taking checkpoints (a snapshot under the tick lock, then the encoding and the write).", nil, nil)
	ckptMax     = prometheus.NewDesc("weir_checkpoint_max_seconds", "The longest checkpoint so far.", nil, nil)
	ckptHold    = prometheus.NewDesc("weir_checkpoint_hold_seconds_total", "Time ticks and in-memory reads waited for checkpoints (their snapshots).", nil, nil)
	ckptHoldMax = prometheus.NewDesc("weir_checkpoint_hold_max_seconds", "The longest wait of ticks for one checkpoint so far.", nil, nil)
	ckptSize    = prometheus.NewDesc("weir_checkpoint_bytes", "The size of the last checkpoint.", nil, nil)
	storeMem    = prometheus.NewDesc("weir_store_memory_bytes",
		"Memory the view store's DuckDB buffer manager holds, by DuckDB's tag (duckdb_memory()).", []string{"tag"}, nil)
	freshDesc = prometheus.NewDesc("weir_view_freshness_seconds",
		"Seconds since the view last changed (watched from the first scrape that saw the view; until it changes, since then).", []string{"view"}, nil)
	changedDesc = prometheus.NewDesc("weir_view_last_change_timestamp_seconds",
		"When the view last changed, in seconds since the Unix epoch (watched from the first scrape that saw the view).", []string{"view"}, nil)
)

// collector reads the database's counters at each scrape.
type collector struct {
	d     *db.DB
	fresh *freshness
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{walBytes, stateDesc, lateDesc, watermarkDesc, tickDesc, walDesc, groupsDesc, flushDesc, flushTime,
		memReads, memPrepares, ckptDesc, ckptTime, ckptMax, ckptHold, ckptHoldMax, ckptSize, storeMem, freshDesc, changedDesc} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(tickDesc, prometheus.GaugeValue, float64(c.d.Tick()))
	ch <- prometheus.MustNewConstMetric(walDesc, prometheus.GaugeValue, float64(c.d.WALPosition()))
	ch <- prometheus.MustNewConstMetric(walBytes, prometheus.GaugeValue, float64(c.d.WALBytes()))
	for _, op := range c.d.OperatorStates() {
		ch <- prometheus.MustNewConstMetric(stateDesc, prometheus.GaugeValue, float64(op.StateRows),
			strconv.FormatInt(op.Node, 10), op.Operator, strings.Join(op.Views, ","))
	}
	ch <- prometheus.MustNewConstMetric(groupsDesc, prometheus.CounterValue, float64(c.d.IngestTicks()))
	n, total, _ := c.d.FlushStats()
	ch <- prometheus.MustNewConstMetric(flushDesc, prometheus.CounterValue, float64(n))
	ch <- prometheus.MustNewConstMetric(flushTime, prometheus.CounterValue, total.Seconds())
	ch <- prometheus.MustNewConstMetric(memReads, prometheus.CounterValue, float64(c.d.MemoryReads()))
	ch <- prometheus.MustNewConstMetric(memPrepares, prometheus.CounterValue, float64(c.d.MemoryPrepares()))
	cn, ctotal, cmax, cbytes := c.d.CheckpointStats()
	ch <- prometheus.MustNewConstMetric(ckptDesc, prometheus.CounterValue, float64(cn))
	ch <- prometheus.MustNewConstMetric(ckptTime, prometheus.CounterValue, ctotal.Seconds())
	ch <- prometheus.MustNewConstMetric(ckptMax, prometheus.GaugeValue, cmax.Seconds())
	hold, holdMax := c.d.CheckpointHolds()
	ch <- prometheus.MustNewConstMetric(ckptHold, prometheus.CounterValue, hold.Seconds())
	ch <- prometheus.MustNewConstMetric(ckptHoldMax, prometheus.GaugeValue, holdMax.Seconds())
	ch <- prometheus.MustNewConstMetric(ckptSize, prometheus.GaugeValue, float64(cbytes))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if mem, err := c.d.StoreMemory(ctx); err == nil {
		for tag, n := range mem {
			ch <- prometheus.MustNewConstMetric(storeMem, prometheus.GaugeValue, float64(n), tag)
		}
	}
	for _, s := range c.d.EventTime() {
		ch <- prometheus.MustNewConstMetric(lateDesc, prometheus.CounterValue, float64(s.LateEvents), s.Source)
		if s.Watermark != exec.NoWatermark {
			ch <- prometheus.MustNewConstMetric(watermarkDesc, prometheus.GaugeValue, float64(s.Watermark)/1e6, s.Source)
		}
	}
	changed := c.fresh.sync()
	now := c.fresh.now()
	for view, last := range changed {
		ch <- prometheus.MustNewConstMetric(freshDesc, prometheus.GaugeValue, max(0, now.Sub(last).Seconds()), view)
		ch <- prometheus.MustNewConstMetric(changedDesc, prometheus.GaugeValue, float64(last.UnixNano())/1e9, view)
	}
}

// freshness follows every view to know when it last changed: one subscription and
// goroutine per view, started by the first scrape that sees the view (the database
// keeps no change times) and ended when the view is dropped or at close.
type freshness struct {
	d      *db.DB
	now    func() time.Time
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	views map[string]*watch
}

type watch struct{ last atomic.Int64 } // Unix ns of the last change seen

func newFreshness(d *db.DB, now func() time.Time) *freshness {
	ctx, cancel := context.WithCancel(context.Background())
	return &freshness{d: d, now: now, ctx: ctx, cancel: cancel, views: map[string]*watch{}}
}

// sync starts watching the views not watched yet and returns every watched view's last
// change.
func (f *freshness) sync() map[string]time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.d.Ready() && f.ctx.Err() == nil {
		for _, rel := range f.d.Catalog().List(catalog.View) {
			if _, ok := f.views[rel.Name]; ok {
				continue
			}
			sub, _, _, err := f.d.Subscribe(rel.Name, 0, 64)
			if err != nil {
				continue // dropped meanwhile
			}
			w := &watch{}
			w.last.Store(f.now().UnixNano())
			f.views[rel.Name] = w
			f.wg.Add(1)
			go f.follow(rel.Name, w, sub)
		}
	}
	out := make(map[string]time.Time, len(f.views))
	for name, w := range f.views {
		out[name] = time.Unix(0, w.last.Load())
	}
	return out
}

// follow records each change of view until the subscription ends: the view was dropped
// (or, which a loop this light should never do, fell 64 ticks behind; the next scrape
// watches it anew).
func (f *freshness) follow(view string, w *watch, sub *db.Subscription) {
	defer f.wg.Done()
	defer sub.Close()
	for {
		select {
		case <-f.ctx.Done():
			return
		case _, ok := <-sub.C:
			if ok {
				w.last.Store(f.now().UnixNano())
				continue
			}
			f.mu.Lock()
			if f.views[view] == w {
				delete(f.views, view)
			}
			f.mu.Unlock()
			return
		}
	}
}

func (f *freshness) close() {
	f.mu.Lock()
	f.cancel()
	f.mu.Unlock()
	f.wg.Wait()
}
