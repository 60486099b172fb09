package bench

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// refreshInterval is how stale PostgreSQL's views may get in the interval peer: the
// issue's "1-second freshness interval".
const refreshInterval = time.Second

// runInterval loads the batches back to back while a refresher starts a refresh of the
// views every interval (at once when the last one took longer). The run ends when
// the last batch is loaded and a refresh that started after its acknowledgement has
// ended, so the views are current; they are then read back and checked. A batch's
// latency (BatchP50Ms, BatchP99Ms) is its staleness: from the start of its load to the
// end of the first refresh that started after it was acknowledged, the moment a reader
// of the views sees it.
//
// sys.refresh runs on a connection of its own, concurrently with sys.load.
func runInterval(ctx context.Context, sys ingestSystem, interval time.Duration, events []Event, batches int, progress func(string)) (IngestResult, error) {
	res := IngestResult{System: sys.name, Events: int64(len(events)), Batches: batches}
	type cycle struct{ start, end time.Time }
	var (
		mu      sync.Mutex
		cycles  []cycle
		acked   = make([]time.Time, 0, batches)
		started = make([]time.Time, 0, batches)
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	loaded := make(chan struct{})
	refreshErr := make(chan error, 1)
	var refreshing time.Duration
	go func() {
		// Refresh every interval until the load is done, then once more: that last
		// cycle starts after the last acknowledgement.
		done := false
		for {
			select {
			case <-loaded:
				done = true
			default:
			}
			c := cycle{start: time.Now()}
			if err := sys.refresh(ctx); err != nil {
				refreshErr <- err
				return
			}
			c.end = time.Now()
			mu.Lock()
			cycles = append(cycles, c)
			mu.Unlock()
			refreshing += c.end.Sub(c.start)
			if done {
				refreshErr <- nil
				return
			}
			select {
			case <-loaded:
			case <-time.After(time.Until(c.start.Add(interval))):
			case <-ctx.Done():
				refreshErr <- ctx.Err()
				return
			}
		}
	}()
	var cpu0 time.Duration
	if sys.cpu != nil {
		cpu0 = sys.cpu()
	}
	start := time.Now()
	var load time.Duration
	var want totals
	for i := 0; i < batches; i++ {
		lo, hi := len(events)*i/batches, len(events)*(i+1)/batches
		want = want.add(events[lo:hi])
		t0 := time.Now()
		if err := sys.load(ctx, i); err != nil {
			cancel()
			<-refreshErr
			return res, fmt.Errorf("%s, batch %d: %w", sys.name, i, err)
		}
		t1 := time.Now()
		load += t1.Sub(t0)
		started, acked = append(started, t0), append(acked, t1)
		if progress != nil {
			progress(fmt.Sprintf("%s: batch %d/%d, %s events, %.0f events/s", sys.name, i+1, batches,
				count(want.events), float64(want.events)/time.Since(start).Seconds()))
		}
	}
	close(loaded)
	if err := <-refreshErr; err != nil {
		return res, fmt.Errorf("%s: refresh: %w", sys.name, err)
	}
	t2 := time.Now()
	if err := sys.read(ctx, want); err != nil {
		return res, fmt.Errorf("%s: %w", sys.name, err)
	}
	elapsed := time.Since(start)
	lat := make([]time.Duration, 0, batches)
	vis := make([]time.Duration, 0, batches)
	for i, a := range acked {
		k := slices.IndexFunc(cycles, func(c cycle) bool { return !c.start.Before(a) })
		if k < 0 {
			return res, fmt.Errorf("%s: no refresh started after batch %d", sys.name, i)
		}
		lat = append(lat, cycles[k].end.Sub(started[i]))
		vis = append(vis, cycles[k].end.Sub(a))
	}
	res.Seconds = elapsed.Seconds()
	res.EventsPerSec = float64(len(events)) / elapsed.Seconds()
	res.LoadSeconds, res.RefreshSeconds, res.ReadSeconds = load.Seconds(), refreshing.Seconds(), time.Since(t2).Seconds()
	res.BatchP50Ms, res.BatchP99Ms = p50p99(lat)
	res.VisibleP50Ms, res.VisibleP99Ms = p50p99(vis)
	if sys.cpu != nil {
		res.CPUSecPerMEvents = (sys.cpu() - cpu0).Seconds() / (float64(len(events)) / 1e6)
		res.CPUWhat = sys.cpuWhat
	}
	res.LoadAvg = loadAvg()
	return res, nil
}
