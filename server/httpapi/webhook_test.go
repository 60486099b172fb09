package httpapi_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/server/httpapi"
)

// delivery is one POST a webhook receiver got.
type delivery struct {
	key, sub, event string
	tick            uint64
	attempt         int
	at              time.Time
	raw             string
	body            struct {
		Subscription, View, Event, Reason string
		Tick                              uint64
		Rows                              []map[string]any
		Changes                           []struct {
			Diff int64
			Row  map[string]any
		}
	}
}

// receiver is a webhook endpoint on 127.0.0.1 whose answers respond chooses from the
// delivery and how many batches were accepted before it: a status, or 0 to hang until
// the sender gives up.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	all      []delivery // every attempt, in arrival order
	n        int        // batches accepted
	respond  func(d delivery, accepted int) int
	accepted chan delivery
}

func newReceiver(t *testing.T, respond func(d delivery, accepted int) int) *receiver {
	rc := &receiver{respond: respond, accepted: make(chan delivery, 1000)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		d := delivery{key: r.Header.Get("Idempotency-Key"), sub: r.Header.Get("Weir-Subscription"), event: r.Header.Get("Weir-Event"),
			at: time.Now(), raw: string(raw)}
		d.tick, _ = strconv.ParseUint(r.Header.Get("Weir-Tick"), 10, 64)
		d.attempt, _ = strconv.Atoi(r.Header.Get("Weir-Attempt"))
		if err := json.Unmarshal(raw, &d.body); err != nil {
			t.Errorf("bad webhook body %q: %v", raw, err)
		}
		rc.mu.Lock()
		rc.all = append(rc.all, d)
		status := rc.respond(d, rc.n)
		if status/100 == 2 {
			rc.n++
		}
		rc.mu.Unlock()
		if status == 0 {
			<-r.Context().Done()
			return
		}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		w.WriteHeader(status)
		if status/100 == 2 {
			rc.accepted <- d
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) attempts() []delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]delivery(nil), rc.all...)
}

func (rc *receiver) next(t *testing.T) delivery {
	t.Helper()
	select {
	case d := <-rc.accepted:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook delivery within 10s")
	}
	return delivery{}
}

func newWebhookAPI(t *testing.T, wh httpapi.WebhookConfig) (*httptest.Server, *db.DB) {
	srv, d := newServer(t, httpapi.Config{Webhook: wh}, db.Config{})
	mustSQL(t, srv,
		`CREATE SOURCE likes (room bigint NOT NULL, n bigint NOT NULL)`,
		`CREATE MATERIALIZED VIEW per_room AS SELECT room, sum(n)::bigint AS total FROM likes GROUP BY room`)
	return srv, d
}

func createWebhook(t *testing.T, srv *httptest.Server, body string) string {
	t.Helper()
	resp, out := doH(t, srv, "POST", "/v1/subscriptions", body)
	require.Equal(t, http.StatusCreated, resp.StatusCode, out)
	var created struct{ ID, State string }
	require.NoError(t, json.Unmarshal([]byte(out), &created))
	require.NotEmpty(t, created.ID)
	require.Equal(t, "/v1/subscriptions/"+created.ID, resp.Header.Get("Location"))
	return created.ID
}

func ingestLikes(t *testing.T, srv *httptest.Server, body string) {
	t.Helper()
	code, out := do(t, srv, "POST", "/v1/sources/likes/events", body)
	require.Equal(t, http.StatusOK, code, out)
}

// TestWebhookDelivery: batches arrive in tick order, each retried until accepted
// (at least once) with one idempotency key across its attempts and a growing delay,
// and applying them in order rebuilds the view.
func TestWebhookDelivery(t *testing.T) {
	base := 10 * time.Millisecond
	srv, _ := newWebhookAPI(t, httpapi.WebhookConfig{BaseDelay: base, MaxDelay: 4 * base, Timeout: 200 * time.Millisecond})
	ingestLikes(t, srv, `[{"room": 1, "n": 5}, {"room": 2, "n": 1}]`)

	// Batch 0 (the snapshot): 500, 503, 429 (Retry-After: 1, capped to the max delay),
	// then accepted. Batch 1: no answer (timeout), then accepted. Batch 2: processed but
	// answered 502, so redelivered. The rest: accepted at once.
	rc := newReceiver(t, func(d delivery, accepted int) int {
		switch {
		case accepted == 0 && d.attempt <= 3:
			return []int{500, 503, 429}[d.attempt-1]
		case accepted == 1 && d.attempt == 1:
			return 0
		case accepted == 2 && d.attempt == 1:
			return 502
		}
		return 200
	})
	id := createWebhook(t, srv, `{"view": "per_room", "url": "`+rc.URL+`/hook"}`)

	// Changes made while batch 0 is being retried queue behind it.
	ticks := 6
	for i := 0; i < ticks; i++ {
		ingestLikes(t, srv, fmt.Sprintf(`[{"room": %d, "n": %d}]`, i%3+1, i+1))
	}
	state := map[float64]float64{}
	snap := rc.next(t)
	require.Equal(t, "snapshot", snap.event)
	require.Equal(t, "initial", snap.body.Reason)
	require.Equal(t, id, snap.body.Subscription)
	require.Equal(t, "per_room", snap.body.View)
	require.Equal(t, fmt.Sprintf("%s.per_room.%d", id, snap.tick), snap.key)
	for _, r := range snap.body.Rows {
		state[r["room"].(float64)] = r["total"].(float64)
	}
	last := snap.tick
	for i := 0; i < ticks; i++ {
		d := rc.next(t)
		require.Equal(t, "diff", d.event)
		require.Greater(t, d.tick, last, "in tick order")
		require.Equal(t, d.tick, d.body.Tick)
		last = d.tick
		for _, c := range d.body.Changes {
			if c.Diff < 0 {
				delete(state, c.Row["room"].(float64))
			} else {
				state[c.Row["room"].(float64)] = c.Row["total"].(float64)
			}
		}
	}
	var view []map[string]any
	_, out := do(t, srv, "GET", "/v1/views/per_room", "")
	require.NoError(t, json.Unmarshal([]byte(out), &view))
	want := map[float64]float64{}
	for _, r := range view {
		want[r["room"].(float64)] = r["total"].(float64)
	}
	require.Equal(t, want, state, "the batches rebuild the view")

	// Every attempt of a batch has its key and body; attempts never go back in ticks
	// (a batch is retried before the next is sent); the delays grow.
	all := rc.attempts()
	byKey := map[string][]delivery{}
	var keys []string
	for i, d := range all {
		if i > 0 {
			require.GreaterOrEqual(t, d.tick, all[i-1].tick, "attempt %d went back in ticks", i)
		}
		if len(byKey[d.key]) == 0 {
			keys = append(keys, d.key)
		}
		byKey[d.key] = append(byKey[d.key], d)
	}
	require.Len(t, keys, ticks+1, "one key per batch")
	for _, k := range keys {
		for n, d := range byKey[k] {
			require.Equal(t, n+1, d.attempt)
			require.Equal(t, byKey[k][0].raw, d.raw, "a retry sends the same batch")
		}
	}
	require.Len(t, byKey[keys[0]], 4)
	require.Len(t, byKey[keys[1]], 2)
	require.Len(t, byKey[keys[2]], 2, "a processed batch whose answer failed comes again: the key tells")
	snapAttempts := byKey[keys[0]]
	// Backoff with jitter: retry k waits between half and all of base·2^(k-1) (capped);
	// after a 429 with Retry-After it waits the cap.
	for k, min := range []time.Duration{base / 2, base, 4 * base} {
		gap := snapAttempts[k+1].at.Sub(snapAttempts[k].at)
		require.GreaterOrEqual(t, gap, min, "retry %d", k+1)
	}
	require.GreaterOrEqual(t, byKey[keys[1]][1].at.Sub(byKey[keys[1]][0].at), 200*time.Millisecond, "after the timeout")

	// The receiver records a batch before the sender reads its answer: wait (bounded)
	// for the sender to count the last one.
	var list []struct {
		ID, View, URL, State string
		Tick                 uint64
		Delivered, Retries   int64
		Where                []string
	}
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		code, out := do(t, srv, "GET", "/v1/subscriptions", "")
		require.Equal(t, http.StatusOK, code, out)
		require.NoError(t, json.Unmarshal([]byte(out), &list))
		require.Len(t, list, 1)
		if list[0].Delivered == int64(ticks+1) || time.Since(start) > 5*time.Second {
			break
		}
	}
	require.Equal(t, id, list[0].ID)
	require.Equal(t, "active", list[0].State)
	require.Equal(t, last, list[0].Tick)
	require.EqualValues(t, ticks+1, list[0].Delivered)
	require.EqualValues(t, 5, list[0].Retries)

	_, metrics := do(t, srv, "GET", "/metrics", "")
	require.Contains(t, metrics, `weir_subscribers{transport="webhook",view="per_room"} 1`)
	require.Contains(t, metrics, `weir_webhook_deliveries_total{result="retry"} 5`)

	// DELETE stops it: nothing is sent after the answer.
	code, out := do(t, srv, "DELETE", "/v1/subscriptions/"+id, "")
	require.Equal(t, http.StatusNoContent, code, out)
	n := len(rc.attempts())
	ingestLikes(t, srv, `[{"room": 1, "n": 1}]`)
	code, out = do(t, srv, "GET", "/v1/subscriptions", "")
	require.Equal(t, "[]\n", out)
	_, metrics = do(t, srv, "GET", "/metrics", "")
	require.Contains(t, metrics, `weir_subscribers{transport="webhook",view="per_room"} 0`)
	require.Len(t, rc.attempts(), n)
	code, _ = do(t, srv, "DELETE", "/v1/subscriptions/"+id, "")
	require.Equal(t, http.StatusNotFound, code)
}

// TestWebhookFilterDropAndOverflow: a where filter narrows the batches; a 4xx drops a
// batch and delivery goes on; a webhook that falls further behind than its buffer gets a
// fresh snapshot marked overflow, without ever holding back ingest.
func TestWebhookFilterDropAndOverflow(t *testing.T) {
	srv, _ := newWebhookAPI(t, httpapi.WebhookConfig{BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, Buffer: 2})
	ingestLikes(t, srv, `[{"room": 1, "n": 5}, {"room": 2, "n": 1}]`)
	var mu sync.Mutex
	down, refused := false, false
	rc := newReceiver(t, func(d delivery, accepted int) int {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case down:
			return http.StatusServiceUnavailable
		case d.event == "diff" && !refused:
			refused = true
			return http.StatusUnprocessableEntity // refused: dropped, not retried
		}
		return http.StatusOK
	})
	createWebhook(t, srv, `{"view": "per_room", "url": "`+rc.URL+`", "where": ["room=2"]}`)
	snap := rc.next(t)
	require.Equal(t, "snapshot", snap.event)
	require.Len(t, snap.body.Rows, 1, "filtered")

	ingestLikes(t, srv, `[{"room": 1, "n": 1}]`) // filtered out: no batch
	ingestLikes(t, srv, `[{"room": 2, "n": 1}]`) // refused and dropped
	ingestLikes(t, srv, `[{"room": 2, "n": 1}]`)
	d := rc.next(t)
	require.Equal(t, "diff", d.event)
	require.Equal(t, float64(3), inserted(t, d), "the batch after the dropped one")

	// The receiver goes down; more changes than the buffer holds pile up.
	mu.Lock()
	down = true
	mu.Unlock()
	start := time.Now()
	for i := 0; i < 6; i++ {
		ingestLikes(t, srv, `[{"room": 2, "n": 1}]`)
	}
	require.Less(t, time.Since(start), 5*time.Second, "ingest is never held back by a webhook")
	mu.Lock()
	down = false
	mu.Unlock()
	// What comes next: perhaps the diff that was in flight, then a snapshot marked
	// overflow, then diffs, until the receiver holds the view's state.
	total, overflow := float64(3), false
	for total != 9 || !overflow {
		d = rc.next(t)
		switch d.event {
		case "snapshot":
			require.Equal(t, "overflow", d.body.Reason)
			require.Len(t, d.body.Rows, 1)
			total, overflow = d.body.Rows[0]["total"].(float64), true
		case "diff":
			total = inserted(t, d)
		}
	}
	ingestLikes(t, srv, `[{"room": 2, "n": 1}]`)
	d = rc.next(t)
	require.Equal(t, "diff", d.event, "diffs go on after the fresh snapshot")
	require.Equal(t, float64(10), inserted(t, d))

	code, out := do(t, srv, "GET", "/v1/subscriptions", "")
	require.Equal(t, http.StatusOK, code, out)
	require.Contains(t, out, `"dropped":1`)
	require.Contains(t, out, `"snapshots":2`)
	require.Contains(t, out, `"where":["room=2"]`)
}

// TestWebhookUnreachable: connection errors are retried until DELETE; dropping the
// view fails the webhook.
func TestWebhookUnreachable(t *testing.T) {
	srv, _ := newWebhookAPI(t, httpapi.WebhookConfig{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	id := createWebhook(t, srv, `{"view": "per_room", "url": "http://`+addr+`/", "where": "room=1"}`)
	var last string
	eventually(t, func() bool {
		_, out := do(t, srv, "GET", "/v1/subscriptions", "")
		var list []struct {
			Retries   int64
			LastError string `json:"last_error"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &list))
		last = list[0].LastError
		return list[0].Retries >= 3
	}, "three retries")
	require.Contains(t, last, "attempt")
	code, _ := do(t, srv, "DELETE", "/v1/subscriptions/"+id, "")
	require.Equal(t, http.StatusNoContent, code)

	rc := newReceiver(t, func(delivery, int) int { return 200 })
	createWebhook(t, srv, `{"view": "per_room", "url": "`+rc.URL+`"}`)
	rc.next(t)
	mustSQL(t, srv, `DROP MATERIALIZED VIEW per_room`)
	var out string
	eventually(t, func() bool {
		_, out = do(t, srv, "GET", "/v1/subscriptions", "")
		return strings.Contains(out, `"state":"failed"`)
	}, "the webhook of a dropped view fails")
	require.Contains(t, out, "was dropped")
}

// eventually polls cond every few milliseconds until it holds, failing after 10 s.
func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("not within 10s: %s", what)
		}
	}
}

// inserted returns the total of the row a one-room diff inserts.
func inserted(t *testing.T, d delivery) float64 {
	t.Helper()
	for _, c := range d.body.Changes {
		if c.Diff > 0 {
			return c.Row["total"].(float64)
		}
	}
	t.Fatalf("no insertion in %s", d.raw)
	return 0
}

// TestWebhooksStopAtClose: Close ends every webhook, even one waiting on a receiver
// that does not answer, and waits for it.
func TestWebhooksStopAtClose(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(t.Context(), db.Config{}, logger)
	require.NoError(t, err)
	defer d.Close()
	api, err := httpapi.New(d, logger, httpapi.Config{Webhook: httpapi.WebhookConfig{Timeout: time.Hour}})
	require.NoError(t, err)
	srv := httptest.NewServer(api)
	defer srv.Close()
	mustSQL(t, srv, `CREATE SOURCE likes (room bigint NOT NULL)`, `CREATE MATERIALIZED VIEW c AS SELECT count(*) AS n FROM likes`)
	rc := newReceiver(t, func(delivery, int) int { return 0 }) // never answers
	createWebhook(t, srv, `{"view": "c", "url": "`+rc.URL+`"}`)
	eventually(t, func() bool { return len(rc.attempts()) > 0 }, "the first attempt")

	closed := make(chan struct{})
	go func() {
		api.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not stop the webhook")
	}
	resp, out := doH(t, srv, "POST", "/v1/subscriptions", `{"view": "c", "url": "`+rc.URL+`"}`)
	requireProblem(t, resp, out, http.StatusServiceUnavailable, "57P01")
}
