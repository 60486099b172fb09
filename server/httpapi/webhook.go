package httpapi

import (
	"bytes"
	"cmp"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Webhooks deliver a view's changes by HTTP POST, one request per batch: first the
// view's snapshot, then each tick's changes that pass the webhook's where filter, with
// the same JSON as the SSE events plus "subscription", "view" and "event". Delivery is
// at least once and in order: a batch is retried (exponential backoff, capped, with
// jitter) on 5xx, 408, 429, timeouts and connection errors until it succeeds, and only
// then is the next one sent; a receiver tells repeats apart by the Idempotency-Key
// header, which names the subscription, view and tick. Another 4xx drops the batch (the
// receiver refused it; retrying cannot help). A webhook never holds back the dataflow:
// its changes wait in a bounded buffer, and one that falls further behind gets a fresh
// snapshot marked "reason": "overflow" (the rule SSE subscribers follow on reconnect).
//
// Webhooks live in memory: they end with DELETE, at shutdown, or when their view is
// dropped, and are not restored at the next start. TODO(#7): persist them.
type webhooks struct {
	d       *db.DB
	cfg     WebhookConfig
	metrics *apiMetrics
	logger  *slog.Logger
	client  *http.Client

	ctx    context.Context // ends every delivery at close: the webhooks live as long as the API
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu   sync.Mutex
	byID map[string]*webhook
}

func newWebhooks(d *db.DB, cfg WebhookConfig, m *apiMetrics, logger *slog.Logger) *webhooks {
	ctx, cancel := context.WithCancel(context.Background())
	return &webhooks{d: d, cfg: cfg, metrics: m, logger: logger, ctx: ctx, cancel: cancel, byID: map[string]*webhook{},
		client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// webhook is one subscription delivering to a URL.
type webhook struct {
	info   webhookInfo // the immutable part of info
	filter func(*delta.Batch, int) bool
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	state webhookState
}

// webhookInfo is a webhook as GET /v1/subscriptions lists it.
type webhookInfo struct {
	ID      string    `json:"id"`
	View    string    `json:"view"`
	URL     string    `json:"url"`
	Where   []string  `json:"where"`
	Created time.Time `json:"created"`
	webhookState
}

// webhookState is what a webhook has done so far.
type webhookState struct {
	State     string `json:"state"`      // active, or failed once its view is gone
	Tick      uint64 `json:"tick"`       // the last tick delivered (or dropped)
	Delivered int64  `json:"delivered"`  // batches the receiver accepted
	Dropped   int64  `json:"dropped"`    // batches the receiver refused with a 4xx
	Retries   int64  `json:"retries"`    // failed attempts that were retried
	Snapshots int64  `json:"snapshots"`  // snapshots sent (the first and after overflows)
	LastError string `json:"last_error"` // the last failed attempt, "" if none yet
}

// createWebhook: {"view": …, "url": …, "where": "col=value" or […]} → 201 with the
// webhook (Location: /v1/subscriptions/{id}).
func (a *API) createWebhook(w http.ResponseWriter, r *http.Request) {
	var req struct {
		View  string          `json:"view"`
		URL   string          `json:"url"`
		Where json.RawMessage `json:"where"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&req); err != nil {
		writeError(w, sqlerr.New(sqlerr.InvalidParameterValue, `body must be {"view": …, "url": …, "where": …}: %v`, err))
		return
	}
	var where []string
	if len(req.Where) > 0 && string(req.Where) != "null" {
		var one string
		if json.Unmarshal(req.Where, &one) == nil {
			where = []string{one}
		} else if err := json.Unmarshal(req.Where, &where); err != nil {
			writeError(w, sqlerr.New(sqlerr.InvalidParameterValue, `where must be "column=value" or a list of them`))
			return
		}
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		writeError(w, sqlerr.New(sqlerr.InvalidParameterValue, "url must be an absolute http or https URL, got %q", req.URL))
		return
	}
	info, err := a.hooks.add(req.View, u.String(), where)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Location", "/v1/subscriptions/"+info.ID)
	writeJSON(w, http.StatusCreated, info)
}

func (a *API) listWebhooks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, a.hooks.list())
}

func (a *API) deleteWebhook(w http.ResponseWriter, r *http.Request) {
	if !a.hooks.remove(chi.URLParam(r, "id")) {
		writeError(w, withStatus(http.StatusNotFound, sqlerr.New(sqlerr.UndefinedObject, "subscription %q does not exist", chi.URLParam(r, "id"))))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// add subscribes to view and starts delivering; the first batch is the snapshot at the
// current tick.
func (ws *webhooks) add(view, target string, where []string) (webhookInfo, error) {
	rel, err := ws.d.Catalog().Get(view)
	if err != nil {
		return webhookInfo{}, err
	}
	if rel.Kind != catalog.View {
		return webhookInfo{}, sqlerr.New(sqlerr.WrongObjectType, "%q is a %s, not a materialized view", view, rel.Kind)
	}
	filter, err := parseWhere(view, rel.Columns, where)
	if err != nil {
		return webhookInfo{}, err
	}
	var id [8]byte
	crand.Read(id[:])
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.ctx.Err() != nil {
		return webhookInfo{}, sqlerr.New(sqlerr.AdminShutdown, "the server is shutting down")
	}
	sub, snap, _, err := ws.d.Subscribe(view, 0, ws.cfg.Buffer)
	if err != nil {
		return webhookInfo{}, err
	}
	ctx, cancel := context.WithCancel(ws.ctx)
	h := &webhook{
		info:   webhookInfo{ID: hex.EncodeToString(id[:]), View: view, URL: target, Where: append([]string{}, where...), Created: time.Now().UTC()},
		filter: filter, cancel: cancel, done: make(chan struct{}), state: webhookState{State: "active"},
	}
	ws.byID[h.info.ID] = h
	ws.wg.Add(1)
	go func() {
		defer ws.wg.Done()
		defer close(h.done)
		ws.run(ctx, h, sub, snap)
	}()
	return h.snapshotInfo(), nil
}

func (h *webhook) snapshotInfo() webhookInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	info := h.info
	info.webhookState = h.state
	return info
}

func (h *webhook) update(f func(*webhookState)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	f(&h.state)
}

func (ws *webhooks) list() []webhookInfo {
	ws.mu.Lock()
	hooks := make([]*webhook, 0, len(ws.byID))
	for _, h := range ws.byID {
		hooks = append(hooks, h)
	}
	ws.mu.Unlock()
	out := make([]webhookInfo, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, h.snapshotInfo())
	}
	slices.SortFunc(out, func(a, b webhookInfo) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// remove stops a webhook and waits for its delivery goroutine; false if there is none.
func (ws *webhooks) remove(id string) bool {
	ws.mu.Lock()
	h, ok := ws.byID[id]
	delete(ws.byID, id)
	ws.mu.Unlock()
	if !ok {
		return false
	}
	h.cancel()
	<-h.done
	return true
}

// close stops every webhook and waits for them.
func (ws *webhooks) close() {
	ws.mu.Lock()
	ws.cancel()
	ws.mu.Unlock()
	ws.wg.Wait()
}

// batch is one delivery: its JSON body and what names it.
type batch struct {
	event string // snapshot or diff
	tick  uint64
	body  []byte
}

// run delivers h's batches in order until ctx ends or the view goes away.
func (ws *webhooks) run(ctx context.Context, h *webhook, sub *db.Subscription, snap *db.Snapshot) {
	gauge := ws.metrics.subscribers.WithLabelValues(h.info.View, "webhook")
	gauge.Inc()
	defer gauge.Dec()
	defer func() { sub.Close() }() // sub changes on overflow
	enc := newRowEncoder(snap.Columns)
	reason := reasonInitial
	var buf []byte
	for {
		if snap != nil {
			buf = appendSnapshot(buf[:0], enc, snap, reason, h.filter)
			if !ws.deliver(ctx, h, batch{"snapshot", snap.Tick, h.body("snapshot", buf)}) {
				return
			}
			h.update(func(s *webhookState) { s.Snapshots++ })
			snap = nil
		}
		var ch db.Change
		var ok bool
		select {
		case <-ctx.Done():
			return
		case ch, ok = <-sub.C:
		}
		if err := sub.Err(); err != nil {
			// Closed by the database: fallen behind (start over from a snapshot), or
			// the view is gone (stop). Changes still buffered are superseded.
			if sqlerr.CodeOf(err) != sqlerr.InsufficientResources {
				ws.fail(h, err)
				return
			}
			sub.Close()
			var serr error
			if sub, snap, _, serr = ws.d.Subscribe(h.info.View, 0, ws.cfg.Buffer); serr != nil {
				ws.fail(h, serr)
				return
			}
			reason = reasonOverflow
			ws.logger.Warn("webhook fell behind; sending a fresh snapshot", "id", h.info.ID, "view", h.info.View, "buffer", ws.cfg.Buffer)
			continue
		}
		if !ok {
			return // closed by us
		}
		var changed bool
		if buf, changed = appendDiff(buf[:0], enc, ch, h.filter); !changed {
			continue
		}
		if !ws.deliver(ctx, h, batch{"diff", ch.Tick, h.body("diff", buf)}) {
			return
		}
	}
}

// body is a batch's JSON: the webhook's members, then the SSE event's (inner).
func (h *webhook) body(event string, inner []byte) []byte {
	b := append(make([]byte, 0, len(inner)+64), `{"subscription":`...)
	b = appendJSONString(b, h.info.ID)
	b = append(b, `,"view":`...)
	b = appendJSONString(b, h.info.View)
	b = append(b, `,"event":"`...)
	b = append(b, event...)
	b = append(b, `",`...)
	return append(b, inner[1:]...)
}

func (ws *webhooks) fail(h *webhook, err error) {
	e := sqlerr.As(err)
	ws.logger.Warn("webhook stopped", "id", h.info.ID, "view", h.info.View, "err", e.Msg)
	h.update(func(s *webhookState) { s.State, s.LastError = "failed", e.Msg })
}

// deliver POSTs b until the receiver accepts it (true) or refuses it with a 4xx that
// retrying cannot fix (true: dropped), backing off between attempts. It reports false
// only when ctx ends first.
func (ws *webhooks) deliver(ctx context.Context, h *webhook, b batch) bool {
	key := h.info.ID + "." + h.info.View + "." + strconv.FormatUint(b.tick, 10)
	for attempt := 1; ; attempt++ {
		code, retryAfter, err := ws.post(ctx, h, b, key, attempt)
		if ctx.Err() != nil {
			return false
		}
		switch {
		case err == nil && code >= 200 && code < 300:
			ws.metrics.deliveries.WithLabelValues("ok").Inc()
			h.update(func(s *webhookState) { s.Tick, s.Delivered = b.tick, s.Delivered+1 })
			return true
		case err == nil && code >= 400 && code < 500 && code != http.StatusRequestTimeout && code != http.StatusTooManyRequests:
			ws.metrics.deliveries.WithLabelValues("dropped").Inc()
			ws.logger.Warn("webhook receiver refused a batch; dropped", "id", h.info.ID, "tick", b.tick, "status", code)
			h.update(func(s *webhookState) {
				s.Tick, s.Dropped, s.LastError = b.tick, s.Dropped+1, fmt.Sprintf("tick %d: HTTP %d (dropped)", b.tick, code)
			})
			return true
		}
		msg := fmt.Sprintf("HTTP %d", code)
		if err != nil {
			msg = err.Error()
		}
		ws.metrics.deliveries.WithLabelValues("retry").Inc()
		h.update(func(s *webhookState) {
			s.Retries, s.LastError = s.Retries+1, fmt.Sprintf("tick %d attempt %d: %s", b.tick, attempt, msg)
		})
		delay := backoff(attempt, ws.cfg.BaseDelay, ws.cfg.MaxDelay, rand.Int64N)
		if retryAfter > delay {
			delay = min(retryAfter, ws.cfg.MaxDelay)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}

// post makes one attempt, bounded by the configured timeout. It returns the status and
// the receiver's Retry-After (in seconds), or the error of a request that got no answer.
func (ws *webhooks) post(ctx context.Context, h *webhook, b batch, key string, attempt int) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, ws.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.info.URL, bytes.NewReader(b.body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "weir-webhook")
	req.Header.Set("Idempotency-Key", key)
	req.Header.Set("Weir-Subscription", h.info.ID)
	req.Header.Set("Weir-Event", b.event)
	req.Header.Set("Weir-Tick", strconv.FormatUint(b.tick, 10))
	req.Header.Set("Weir-Attempt", strconv.Itoa(attempt))
	resp, err := ws.client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			err = fmt.Errorf("no answer within %s", ws.cfg.Timeout)
		}
		return 0, 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	var retryAfter time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		retryAfter = time.Duration(s) * time.Second
	}
	return resp.StatusCode, retryAfter, nil
}

// backoff is the delay before retry number attempt (1 for the first retry): base doubled
// per earlier retry, capped at maxDelay, of which a random half is jitter, so that the
// delay d is in [d/2, d] and receivers recovering from an outage are not hit in step.
// randN returns a random integer in [0, n).
func backoff(attempt int, base, maxDelay time.Duration, randN func(int64) int64) time.Duration {
	d := base
	for i := 1; i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	if d > maxDelay || d <= 0 {
		d = maxDelay
	}
	half := d / 2
	return d - half + time.Duration(randN(int64(half)+1))
}
