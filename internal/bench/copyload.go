package bench

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// IngestResult is one system's run of the COPY workload: every batch loaded and, where
// the system keeps views, the views made current and read back after each batch.
type IngestResult struct {
	System       string  `json:"system"`
	Events       int64   `json:"events"`
	Batches      int     `json:"batches"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_sec"`
	// LoadSeconds, RefreshSeconds and ReadSeconds split Seconds: the COPY (or append)
	// until acknowledged, the REFRESH or recompute, and the read of the views.
	LoadSeconds    float64 `json:"load_seconds"`
	RefreshSeconds float64 `json:"refresh_seconds,omitempty"`
	ReadSeconds    float64 `json:"read_seconds,omitempty"`
	// BatchP50Ms and BatchP99Ms are the latencies of one batch, load to views read.
	BatchP50Ms float64 `json:"batch_p50_ms"`
	BatchP99Ms float64 `json:"batch_p99_ms"`
	// VisibleP50Ms and VisibleP99Ms are its freshness: from the load's acknowledgement
	// to the end of the first read of the views that shows the batch. Zero for a
	// system that does not read its views after each batch.
	VisibleP50Ms float64 `json:"visible_p50_ms,omitempty"`
	VisibleP99Ms float64 `json:"visible_p99_ms,omitempty"`
	// CPUSecPerMEvents is CPU seconds per million events of the process doing the
	// work (see CPUWhat).
	CPUSecPerMEvents float64 `json:"cpu_sec_per_m_events,omitempty"`
	CPUWhat          string  `json:"cpu_what,omitempty"`
	PeakRSSBytes     int64   `json:"peak_rss_bytes,omitempty"`
	// LoadAvg is the 1-minute load average when the run ended: how busy the machine
	// was during it.
	LoadAvg float64 `json:"load_avg"`
}

// ingestSystem is what runBatches drives: load appends batch i; refresh (optional)
// makes the views current; read (optional) reads them back and checks them against the
// totals of the events loaded so far.
type ingestSystem struct {
	name    string
	load    func(ctx context.Context, i int) error
	refresh func(ctx context.Context) error
	read    func(ctx context.Context, want totals) error
	cpu     func() time.Duration
	cpuWhat string
	rss     bool // measure this process's peak RSS
}

func runBatches(ctx context.Context, sys ingestSystem, events []Event, batches int, progress func(string)) (IngestResult, error) {
	res := IngestResult{System: sys.name, Events: int64(len(events)), Batches: batches}
	lat := make([]time.Duration, 0, batches)
	vis := make([]time.Duration, 0, batches)
	var want totals
	if sys.rss {
		resetPeakRSS()
	}
	var cpu0 time.Duration
	if sys.cpu != nil {
		cpu0 = sys.cpu()
	}
	start := time.Now()
	var load, refresh, read time.Duration
	for i := 0; i < batches; i++ {
		lo, hi := len(events)*i/batches, len(events)*(i+1)/batches
		want = want.add(events[lo:hi])
		t0 := time.Now()
		if err := sys.load(ctx, i); err != nil {
			return res, fmt.Errorf("%s, batch %d: %w", sys.name, i, err)
		}
		t1 := time.Now()
		if sys.refresh != nil {
			if err := sys.refresh(ctx); err != nil {
				return res, fmt.Errorf("%s, batch %d: %w", sys.name, i, err)
			}
		}
		t2 := time.Now()
		if sys.read != nil {
			if err := sys.read(ctx, want); err != nil {
				return res, fmt.Errorf("%s, batch %d: %w", sys.name, i, err)
			}
		}
		t3 := time.Now()
		load = load + t1.Sub(t0)
		if sys.refresh != nil {
			refresh += t2.Sub(t1)
		}
		if sys.read != nil {
			read += t3.Sub(t2)
		}
		lat = append(lat, t3.Sub(t0))
		if sys.read != nil {
			vis = append(vis, t3.Sub(t1))
		}
		if progress != nil {
			progress(fmt.Sprintf("%s: batch %d/%d, %s events, %.0f events/s", sys.name, i+1, batches,
				count(want.events), float64(want.events)/time.Since(start).Seconds()))
		}
	}
	elapsed := time.Since(start)
	res.Seconds = elapsed.Seconds()
	res.EventsPerSec = float64(len(events)) / elapsed.Seconds()
	res.LoadSeconds, res.RefreshSeconds, res.ReadSeconds = load.Seconds(), refresh.Seconds(), read.Seconds()
	res.BatchP50Ms, res.BatchP99Ms = p50p99(lat)
	res.VisibleP50Ms, res.VisibleP99Ms = p50p99(vis)
	if sys.cpu != nil {
		res.CPUSecPerMEvents = (sys.cpu() - cpu0).Seconds() / (float64(len(events)) / 1e6)
		res.CPUWhat = sys.cpuWhat
	}
	if sys.rss {
		res.PeakRSSBytes, _ = peakRSS()
	}
	res.LoadAvg = loadAvg()
	return res, nil
}

// quantile returns the q-quantile of sorted durations (nearest rank).
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// p50p99 sorts lat and returns its median and 99th percentile in milliseconds.
func p50p99(lat []time.Duration) (float64, float64) {
	slices.Sort(lat)
	return ms(quantile(lat, 0.50)), ms(quantile(lat, 0.99))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func count(n int64) string {
	switch {
	case n >= 10_000_000:
		return fmt.Sprintf("%.0fM", float64(n)/1e6)
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}
