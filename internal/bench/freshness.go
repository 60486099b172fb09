package bench

import (
	"context"
	"encoding/json"
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
	Reads        int     `json:"reads"`
	P50Ms        float64 `json:"p50_ms"`
	P99Ms        float64 `json:"p99_ms"`
	MaxMs        float64 `json:"max_ms"`
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
	base, err := readMarker(ctx)
	if err != nil {
		return res, err
	}

	var (
		mu     sync.Mutex
		acks   []time.Time // acks[k]: batch k+1 acknowledged
		sent   []time.Time
		seenAt []time.Time // seenAt[k]: batch k+1 first seen
		reads  int
	)
	wctx, stop := context.WithTimeout(ctx, dur)
	defer stop()
	rctx, stopReader := context.WithCancel(ctx)
	readerDone := make(chan error, 1)
	go func() {
		var seen int64
		for rctx.Err() == nil {
			n, err := readMarker(rctx)
			end := time.Now()
			if err != nil {
				if rctx.Err() != nil {
					break
				}
				readerDone <- err
				return
			}
			mu.Lock()
			reads++
			for ; seen < n-base; seen++ {
				seenAt = append(seenAt, end)
			}
			mu.Unlock()
			time.Sleep(time.Millisecond)
		}
		readerDone <- nil
	}()

	r := rand.New(rand.NewPCG(seed, 7))
	ts := firstTS
	start := time.Now()
	var werr error
	for k := 1; ; k++ {
		next := start.Add(time.Duration(k-1) * interval)
		if d := time.Until(next); d > 0 {
			select {
			case <-wctx.Done():
			case <-time.After(d):
			}
		}
		if wctx.Err() != nil {
			break
		}
		b := newBinaryCopy([]bool{false, false, false, true}, per*50+32)
		for j := 0; j < per; j++ {
			room := r.Int64N(1000) + 1
			if j == 0 {
				room = markerRoom
			}
			b.row(room, r.Int64N(100_000)+1, r.Int64N(1000)+1, ts)
			ts += 1_000_000 / EventsPerSecond
		}
		p := b.finish()
		t0 := time.Now()
		if err := copyBinary(ctx, conn, "events", p); err != nil {
			werr = err
			break
		}
		t1 := time.Now()
		mu.Lock()
		sent, acks = append(sent, t0), append(acks, t1)
		mu.Unlock()
	}
	elapsed := time.Since(start)
	// Wait until the reader has seen every acknowledged batch, or give up after 10 s.
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
	if werr != nil {
		return res, werr
	}
	if rerr != nil {
		return res, rerr
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seenAt) < len(acks) {
		return res, fmt.Errorf("freshness: %d of %d acknowledged batches never became visible", len(acks)-len(seenAt), len(acks))
	}
	lat := make([]time.Duration, len(acks))
	ack := make([]time.Duration, len(acks))
	for k := range acks {
		lat[k] = max(0, seenAt[k].Sub(acks[k]))
		ack[k] = acks[k].Sub(sent[k])
	}
	slices.Sort(lat)
	slices.Sort(ack)
	res.Batches, res.Reads = len(acks), reads
	res.AchievedRate = float64(len(acks)*per) / elapsed.Seconds()
	res.P50Ms, res.P99Ms, res.MaxMs = ms(quantile(lat, 0.5)), ms(quantile(lat, 0.99)), ms(lat[len(lat)-1])
	res.AckP50Ms, res.AckP99Ms = ms(quantile(ack, 0.5)), ms(quantile(ack, 0.99))
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
