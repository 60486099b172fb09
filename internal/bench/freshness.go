package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// FreshnessResult is ack → visible: a writer COPYs a batch every Interval at TargetRate
// while a reader polls a view; each batch's latency is from its COPY's acknowledgement
// to the end of the first read that shows it (0 when a read showed it before the
// acknowledgement reached the writer).
type FreshnessResult struct {
	System       string  `json:"system"`
	Reader       string  `json:"reader"`
	TargetRate   float64 `json:"target_events_per_sec"`
	AchievedRate float64 `json:"achieved_events_per_sec"`
	IntervalMs   float64 `json:"batch_interval_ms"`
	BatchEvents  int     `json:"batch_events"`
	Batches      int     `json:"batches"`
	MarkerLatency
}

// MarkerLatency is what a markerProbe measured: ack → visible of each marker and the
// round trips of the COPYs that carried them.
type MarkerLatency struct {
	Reads int     `json:"reads"`
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	MaxMs float64 `json:"max_ms"`
	// AckP50Ms and AckP99Ms are the COPY round trips, send → acknowledged.
	AckP50Ms float64 `json:"ack_p50_ms"`
	AckP99Ms float64 `json:"ack_p99_ms"`
}

// markerRoom is the room_id no generated event has: each freshness batch carries one
// event in it, so room_counts' row for it counts the batches visible.
const markerRoom = 0

// freshnessRun measures ack → visible on w for dur at rate events/s. readMarker
// returns how many batches the view shows.
func freshnessRun(ctx context.Context, w *weirServer, reader string, rate float64, dur time.Duration,
	firstTS int64, seed uint64, readMarker func(ctx context.Context) (int64, error)) (FreshnessResult, error) {
	const interval = 25 * time.Millisecond // 40 ticks a second, each fsynced
	per := max(2, int(rate*interval.Seconds()+0.5))
	res := FreshnessResult{System: "Weir", Reader: reader, TargetRate: rate, IntervalMs: ms(interval), BatchEvents: per}

	conn, err := w.connect(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close(context.Background())
	r := rand.New(rand.NewPCG(seed, 7))
	ts := firstTS
	probe := markerProbe{
		interval: interval,
		pause:    time.Millisecond,
		write: func(ctx context.Context) error {
			b := newBinaryCopy([]bool{false, false, false, true}, per*50+32)
			for j := 0; j < per; j++ {
				room := r.Int64N(1000) + 1
				if j == 0 {
					room = markerRoom
				}
				b.row(room, r.Int64N(100_000)+1, r.Int64N(1000)+1, ts)
				ts += 1_000_000 / EventsPerSecond
			}
			return copyBinary(ctx, conn, "events", b.finish())
		},
		read: readMarker,
	}
	wctx, stop := context.WithTimeout(ctx, dur)
	defer stop()
	pr, err := probe.run(ctx, wctx.Done())
	if err != nil {
		return res, fmt.Errorf("freshness: %w", err)
	}
	res.Batches, res.MarkerLatency = len(pr.visible), pr.latency()
	res.AchievedRate = float64(len(pr.visible)*per) / pr.elapsed.Seconds()
	return res, nil
}

// markerProbe measures ack → visible with markers. Every interval until stopped, write
// writes one marker (with whatever else rides along) and returns once it is
// acknowledged; meanwhile a reader calls read, which returns how many markers a view
// shows, pausing between reads.
type markerProbe struct {
	interval, pause time.Duration
	write           func(ctx context.Context) error
	read            func(ctx context.Context) (int64, error)
}

// probeResult is a markerProbe's run: each marker's ack → visible (0 when a read showed
// it before its acknowledgement reached the writer) and send → acknowledged, both
// sorted.
type probeResult struct {
	visible, ack []time.Duration
	reads        int
	elapsed      time.Duration // from the first write until stopped
}

// latency sums r up; r holds at least one marker (run returns an error otherwise).
func (r probeResult) latency() MarkerLatency {
	l := MarkerLatency{Reads: r.reads, MaxMs: ms(r.visible[len(r.visible)-1])}
	l.P50Ms, l.P99Ms = p50p99(r.visible)
	l.AckP50Ms, l.AckP99Ms = p50p99(r.ack)
	return l
}

// run writes markers until stop is closed (or ctx is done), then waits up to 10 s for
// the reader to see every acknowledged one. No marker written, or one never seen, is an
// error.
func (p markerProbe) run(ctx context.Context, stop <-chan struct{}) (probeResult, error) {
	var res probeResult
	base, err := p.read(ctx)
	if err != nil {
		return res, err
	}
	var (
		mu     sync.Mutex
		acks   []time.Time // acks[k]: marker k+1 acknowledged
		sent   []time.Time
		seenAt []time.Time // seenAt[k]: marker k+1 first seen
	)
	rctx, stopReader := context.WithCancel(ctx)
	defer stopReader()
	readerDone := make(chan error, 1)
	go func() {
		var seen int64
		for rctx.Err() == nil {
			n, err := p.read(rctx)
			end := time.Now()
			if err != nil {
				if rctx.Err() != nil {
					break
				}
				readerDone <- err
				return
			}
			mu.Lock()
			res.reads++
			for ; seen < n-base; seen++ {
				seenAt = append(seenAt, end)
			}
			mu.Unlock()
			time.Sleep(p.pause)
		}
		readerDone <- nil
	}()

	stopped := func() bool {
		select {
		case <-stop:
			return true
		case <-ctx.Done():
			return true
		default:
			return false
		}
	}
	start := time.Now()
	var werr error
	for k := 1; ; k++ {
		if d := time.Until(start.Add(time.Duration(k-1) * p.interval)); d > 0 {
			select {
			case <-stop:
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if stopped() {
			break
		}
		t0 := time.Now()
		if werr = p.write(ctx); werr != nil {
			break
		}
		t1 := time.Now()
		mu.Lock()
		sent, acks = append(sent, t0), append(acks, t1)
		mu.Unlock()
	}
	res.elapsed = time.Since(start)
	// Wait until the reader has seen every acknowledged marker, or give up after 10 s.
	deadline := time.Now().Add(10 * time.Second)
	for werr == nil && time.Now().Before(deadline) {
		mu.Lock()
		done := len(seenAt) >= len(acks)
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	stopReader()
	rerr := <-readerDone
	switch {
	case werr != nil:
		return res, werr
	case rerr != nil:
		return res, rerr
	case ctx.Err() != nil:
		return res, ctx.Err()
	case len(acks) == 0:
		return res, errors.New("no marker was written")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seenAt) < len(acks) {
		return res, fmt.Errorf("%d of %d acknowledged markers never became visible", len(acks)-len(seenAt), len(acks))
	}
	res.visible = make([]time.Duration, len(acks))
	res.ack = make([]time.Duration, len(acks))
	for k := range acks {
		res.visible[k] = max(0, seenAt[k].Sub(acks[k]))
		res.ack[k] = acks[k].Sub(sent[k])
	}
	slices.Sort(res.visible)
	slices.Sort(res.ack)
	return res, nil
}

// sqlMarker reads the marker room's count over the wire protocol (a read of the view
// store).
func sqlMarker(ctx context.Context, w *weirServer) (func(context.Context) (int64, error), func(), error) {
	conn, err := w.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	read := func(ctx context.Context) (int64, error) {
		var n int64
		err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT coalesce(sum(n), 0)::bigint FROM room_counts WHERE room_id = %d`, markerRoom)).Scan(&n)
		return n, err
	}
	return read, func() { conn.Close(context.Background()) }, nil
}

// httpMarker reads the marker room's row from GET /v1/views/room_counts (the in-memory
// snapshot a subscription starts from).
func httpMarker(w *weirServer) func(context.Context) (int64, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	url := fmt.Sprintf("%s/v1/views/room_counts?where=room_id=%d", w.http, markerRoom)
	return func(ctx context.Context) (int64, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return 0, err
		}
		if resp.StatusCode != http.StatusOK {
			return 0, fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
		}
		var rows []struct {
			N int64 `json:"n"`
		}
		if err := json.Unmarshal(body, &rows); err != nil {
			return 0, fmt.Errorf("GET %s: %w", url, err)
		}
		var n int64
		for _, r := range rows {
			n += r.N
		}
		return n, nil
	}
}
