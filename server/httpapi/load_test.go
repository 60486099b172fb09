package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/server/httpapi"
)

// loadConfig is one load run: subscribers on one view while ingesters send requests of
// batch events each, for at most requests requests or duration.
type loadConfig struct {
	subscribers, ingesters, batch, requests, rooms int
	duration                                       time.Duration
	rate                                           float64 // events per second in all; 0: as fast as possible
	dir                                            string  // data directory ("": in memory, no write-ahead log)
}

// loadResult is what a load run measured.
type loadResult struct {
	events, requests, ticks int
	elapsed                 time.Duration
	delays                  []time.Duration // ingest acknowledged → event received, per request and subscriber
	sendDelays              []time.Duration // ingest sent → event received
	bytesPerSubscriber      float64
}

// loadSubscriber follows the view over SSE, applying each diff to its copy of the view.
type loadSubscriber struct {
	rooms int64
	state map[[3]int64]int64 // (room, n, last) → multiplicity
	err   error              // set when follow returns
	// Request q went to room q % rooms; next is, per room, the first request not seen
	// yet, and seen when each request was first visible (Unix ns).
	next map[int64]int64
	seen []int64

	mu    sync.Mutex
	ticks []uint64 // the diffs' ticks, in order
}

// runLoad runs cfg against a fresh server and checks that every subscriber received
// every diff of the view, in order, by rebuilding the view from its events.
func runLoad(t *testing.T, cfg loadConfig) loadResult {
	srv, d := newServer(t, httpapi.Config{}, db.Config{Dir: cfg.dir})
	mustSQL(t, srv,
		`CREATE SOURCE likes (room bigint NOT NULL, seq bigint NOT NULL)`,
		`CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n, max(seq) AS last FROM likes GROUP BY room`)
	maxRequests := cfg.requests
	if maxRequests == 0 {
		maxRequests = 1 << 22
	}
	sendAt := make([]atomic.Int64, maxRequests)
	ackAt := make([]atomic.Int64, maxRequests)

	// The reference: the view's changes as the database publishes them.
	ref, _, _, err := d.Subscribe("per_room", 0, 1<<20)
	require.NoError(t, err)
	defer ref.Close()

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.ingesters}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	subs := make([]*loadSubscriber, cfg.subscribers)
	ready := make(chan struct{}, cfg.subscribers)
	var wg sync.WaitGroup
	for i := range subs {
		s := &loadSubscriber{rooms: int64(cfg.rooms), state: map[[3]int64]int64{}, next: map[int64]int64{}, seen: make([]int64, 0, 1024)}
		subs[i] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.err = s.follow(ctx, client, srv.URL+"/v1/views/per_room/subscribe", ready)
		}()
	}
	for range subs {
		select {
		case <-ready:
		case <-time.After(30 * time.Second):
			t.Fatal("subscribers did not all get their snapshot within 30s")
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	perSub := float64(int64(after.HeapInuse+after.StackInuse)-int64(before.HeapInuse+before.StackInuse)) / float64(cfg.subscribers)

	// Ingest.
	var seq, events atomic.Int64
	start := time.Now()
	deadline := start.Add(cfg.duration)
	var iwg sync.WaitGroup
	for g := 0; g < cfg.ingesters; g++ {
		iwg.Add(1)
		go func() {
			defer iwg.Done()
			var body strings.Builder
			for {
				i := seq.Add(1) - 1
				if i >= int64(maxRequests) || (cfg.duration > 0 && time.Now().After(deadline)) {
					return
				}
				if cfg.rate > 0 { // pace: request i is due at i·batch/rate
					if wait := time.Until(start.Add(time.Duration(float64(i) * float64(cfg.batch) / cfg.rate * float64(time.Second)))); wait > 0 {
						time.Sleep(wait)
					}
				}
				body.Reset()
				room := i % int64(cfg.rooms)
				for e := 0; e < cfg.batch; e++ {
					fmt.Fprintf(&body, "{\"room\":%d,\"seq\":%d}\n", room, i)
				}
				sendAt[i].Store(time.Now().UnixNano())
				resp, err := client.Post(srv.URL+"/v1/sources/likes/events", "application/x-ndjson", strings.NewReader(body.String()))
				if err != nil {
					t.Errorf("ingest: %v", err)
					return
				}
				resp.Body.Close()
				ackAt[i].Store(time.Now().UnixNano())
				if resp.StatusCode != http.StatusOK {
					t.Errorf("ingest: %s", resp.Status)
					return
				}
				events.Add(int64(cfg.batch))
			}
		}()
	}
	iwg.Wait()
	elapsed := time.Since(start)
	n := min(seq.Load(), int64(maxRequests))

	// Every subscriber reaches the final state.
	var want []uint64
	finalTick := d.Tick()
	for len(want) == 0 || want[len(want)-1] < finalTick {
		select {
		case ch := <-ref.C:
			want = append(want, ch.Tick)
		case <-time.After(10 * time.Second):
			t.Fatal("the reference subscription stalled")
		}
	}
	code, out := do(t, srv, "GET", "/v1/views/per_room", "")
	require.Equal(t, http.StatusOK, code)
	var rows []struct{ Room, N, Last int64 }
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	final := map[[3]int64]int64{}
	for _, r := range rows {
		final[[3]int64{r.Room, r.N, r.Last}]++
	}
	wait := time.After(60 * time.Second)
	for i, s := range subs {
		for {
			s.mu.Lock()
			done := len(s.ticks) > 0 && s.ticks[len(s.ticks)-1] >= finalTick
			s.mu.Unlock()
			if done {
				break
			}
			select {
			case <-wait:
				t.Fatalf("subscriber %d did not reach tick %d within 60s", i, finalTick)
			case <-time.After(2 * time.Millisecond):
			}
		}
	}
	cancel()
	wg.Wait()
	res := loadResult{events: int(events.Load()), requests: int(events.Load()) / cfg.batch, ticks: len(want), elapsed: elapsed, bytesPerSubscriber: perSub}
	for i, s := range subs {
		require.NoError(t, s.err, "subscriber %d", i)
		require.Equal(t, want, s.ticks, "subscriber %d: every diff, in order", i)
		require.Equal(t, final, s.state, "subscriber %d rebuilds the view", i)
		for q, at := range s.seen {
			if q < int(n) && at > 0 {
				res.delays = append(res.delays, time.Duration(max(0, at-ackAt[q].Load())))
				res.sendDelays = append(res.sendDelays, time.Duration(at-sendAt[q].Load()))
			}
		}
	}
	slices.Sort(res.delays)
	slices.Sort(res.sendDelays)
	return res
}

// follow reads the stream until ctx ends: a snapshot, then diffs.
func (s *loadSubscriber) follow(ctx context.Context, client *http.Client, url string, ready chan<- struct{}) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("subscribe: %s", resp.Status)
	}
	type row struct{ Room, N, Last int64 }
	var ev struct {
		Tick    uint64
		Rows    []row
		Changes []struct {
			Diff int64
			Row  row
		}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 4<<10), 16<<20)
	event := ""
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case len(line) > 7 && string(line[:7]) == "event: ":
			event = string(line[7:])
		case len(line) > 6 && string(line[:6]) == "data: ":
			at := time.Now().UnixNano()
			ev.Rows, ev.Changes = ev.Rows[:0], ev.Changes[:0]
			if err := json.Unmarshal(line[6:], &ev); err != nil {
				return err
			}
			switch event {
			case "snapshot":
				for _, r := range ev.Rows {
					s.state[[3]int64{r.Room, r.N, r.Last}]++
				}
				ready <- struct{}{}
			case "diff":
				for _, c := range ev.Changes {
					k := [3]int64{c.Row.Room, c.Row.N, c.Row.Last}
					if s.state[k] += c.Diff; s.state[k] == 0 {
						delete(s.state, k)
					}
					if c.Diff > 0 { // the room's requests up to seq Last are visible now
						q, ok := s.next[c.Row.Room]
						if !ok {
							q = c.Row.Room
						}
						for ; q <= c.Row.Last; q += s.rooms {
							for int64(len(s.seen)) <= q {
								s.seen = append(s.seen, 0)
							}
							s.seen[q] = at
						}
						s.next[c.Row.Room] = q
					}
				}
				s.mu.Lock()
				s.ticks = append(s.ticks, ev.Tick)
				s.mu.Unlock()
			case "error":
				return fmt.Errorf("error event: %s", line[6:])
			}
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("stream ended: %v", sc.Err())
}

// TestLoadSSE: 200 subscribers on one view while four clients ingest; every subscriber
// gets every diff, in order (it rebuilds the view from them). Timing is measured, not
// asserted.
func TestLoadSSE(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	res := runLoad(t, loadConfig{subscribers: 200, ingesters: 4, batch: 50, requests: 300, duration: 2 * time.Second, rooms: 10, dir: t.TempDir()})
	t.Logf("200 subscribers: %d events in %d requests, %d ticks, in %s (%.0f events/s); delivery after ack p50 %s p99 %s; ~%.0f KiB per subscriber (server and client)",
		res.events, res.requests, res.ticks, res.elapsed.Round(time.Millisecond), float64(res.events)/res.elapsed.Seconds(),
		pct(res.delays, 50), pct(res.delays, 99), res.bytesPerSubscriber/1024)
}

// TestLoadMeasure is the measurement behind the load figures in the notes: set
// WEIR_LOAD=1 (and optionally WEIR_LOAD_SUBSCRIBERS, _SECONDS, _BATCH, _INGESTERS,
// _RATE events/s, _DURABLE=1 for a data directory with fsync).
func TestLoadMeasure(t *testing.T) {
	if os.Getenv("WEIR_LOAD") == "" {
		t.Skip("set WEIR_LOAD=1 to measure")
	}
	env := func(name string, def float64) float64 {
		if v, err := strconv.ParseFloat(os.Getenv("WEIR_LOAD_"+name), 64); err == nil {
			return v
		}
		return def
	}
	cfg := loadConfig{subscribers: int(env("SUBSCRIBERS", 1000)), ingesters: int(env("INGESTERS", 4)), batch: int(env("BATCH", 1000)),
		duration: time.Duration(env("SECONDS", 5) * float64(time.Second)), rate: env("RATE", 0), rooms: 10}
	if os.Getenv("WEIR_LOAD_DURABLE") != "" {
		cfg.dir = t.TempDir()
	}
	res := runLoad(t, cfg)
	t.Logf("%d subscribers, %d ingesters x %d events/request, durable=%v: %d events in %s = %.0f events/s, %d ticks (%.0f/s)",
		cfg.subscribers, cfg.ingesters, cfg.batch, cfg.dir != "", res.events, res.elapsed.Round(time.Millisecond),
		float64(res.events)/res.elapsed.Seconds(), res.ticks, float64(res.ticks)/res.elapsed.Seconds())
	t.Logf("delivery delay, ingest ack -> event received: p50 %s p90 %s p99 %s max %s (%d samples)",
		pct(res.delays, 50), pct(res.delays, 90), pct(res.delays, 99), pct(res.delays, 100), len(res.delays))
	t.Logf("delivery delay, ingest sent -> event received: p50 %s p99 %s", pct(res.sendDelays, 50), pct(res.sendDelays, 99))
	t.Logf("memory per idle subscriber (heap + stacks, server and client side together): %.1f KiB", res.bytesPerSubscriber/1024)
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)].Round(10 * time.Microsecond)
}
