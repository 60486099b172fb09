// Package httpapi serves Weir over HTTP with chi (DESIGN §3): event ingest (ingest.go),
// view snapshots and listings (views.go), one-statement SQL (sql.go), Server-Sent Event
// subscriptions (subscribe.go), webhooks (webhook.go), metrics (metrics.go), health and
// readiness, and the OpenAPI description of all of them (openapi.go). Every error is an
// RFC 9457 application/problem+json body whose status is mapped from its SQLSTATE in one
// place (problem.go). With a token configured, writes and subscriptions need it as a
// bearer token (auth.go); reads of views, health, readiness and metrics stay open.
package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Defaults for Config's zero values.
const (
	DefaultMaxBody          = 64 << 20 // bytes of an ingest request body, after gzip decoding
	DefaultWebhookTimeout   = 10 * time.Second
	DefaultWebhookBaseDelay = time.Second
	DefaultWebhookMaxDelay  = time.Minute
	DefaultWebhookBuffer    = 1024
)

// ErrInvalidConfig is returned (wrapped) by Config.Validate.
var ErrInvalidConfig = errors.New("invalid HTTP API configuration")

// Config configures the HTTP API. The zero value is valid: no token, the default body
// limit, no rate limit and the default webhook delivery settings.
type Config struct {
	// Token, when set, is the bearer token that ingest, POST /v1/sql, webhook
	// management and subscriptions require (Authorization: Bearer <token>).
	Token string
	// MaxBody is the largest ingest request body in bytes, after gzip decoding
	// (DefaultMaxBody when 0). A larger body is refused with 413.
	MaxBody int64
	// RateLimit is how many events per second each source accepts over HTTP, as a token
	// bucket per source; 0 turns rate limiting off. Over it, ingest answers 429 with
	// Retry-After.
	RateLimit float64
	// RateBurst is the bucket's size in events (RateLimit, at least 1, when 0). A request
	// with more events than RateBurst is admitted only when the bucket is full, and
	// leaves it in debt.
	RateBurst int
	// Webhook configures webhook delivery.
	Webhook WebhookConfig
}

// WebhookConfig configures how webhooks deliver.
type WebhookConfig struct {
	// Timeout bounds one delivery attempt (DefaultWebhookTimeout when 0).
	Timeout time.Duration
	// BaseDelay is the delay before the first retry; each further retry doubles it, up
	// to MaxDelay, and a random part of up to half the delay is jitter
	// (DefaultWebhookBaseDelay and DefaultWebhookMaxDelay when 0).
	BaseDelay, MaxDelay time.Duration
	// Buffer is how many ticks of changes may wait while a webhook is being retried;
	// beyond it the webhook gets a fresh snapshot instead (DefaultWebhookBuffer when 0).
	Buffer int
}

// DefaultConfig returns the defaults (the zero Config means the same).
func DefaultConfig() Config {
	return Config{MaxBody: DefaultMaxBody, Webhook: WebhookConfig{
		Timeout: DefaultWebhookTimeout, BaseDelay: DefaultWebhookBaseDelay, MaxDelay: DefaultWebhookMaxDelay, Buffer: DefaultWebhookBuffer}}
}

// Validate reports a negative limit, delay or buffer.
func (c Config) Validate() error {
	switch {
	case c.MaxBody < 0:
		return fmt.Errorf("%w: max body %d is negative", ErrInvalidConfig, c.MaxBody)
	case c.RateLimit < 0 || c.RateBurst < 0:
		return fmt.Errorf("%w: rate limit %g/s, burst %d: negative", ErrInvalidConfig, c.RateLimit, c.RateBurst)
	case c.Webhook.Timeout < 0 || c.Webhook.BaseDelay < 0 || c.Webhook.MaxDelay < 0 || c.Webhook.Buffer < 0:
		return fmt.Errorf("%w: webhook timeout, delays and buffer must not be negative", ErrInvalidConfig)
	}
	return nil
}

// withDefaults fills c's zero values from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.MaxBody == 0 {
		c.MaxBody = d.MaxBody
	}
	if c.RateLimit > 0 && c.RateBurst == 0 {
		c.RateBurst = max(1, int(c.RateLimit))
	}
	if c.Webhook.Timeout == 0 {
		c.Webhook.Timeout = d.Webhook.Timeout
	}
	if c.Webhook.BaseDelay == 0 {
		c.Webhook.BaseDelay = d.Webhook.BaseDelay
	}
	if c.Webhook.MaxDelay == 0 {
		c.Webhook.MaxDelay = max(d.Webhook.MaxDelay, c.Webhook.BaseDelay)
	}
	if c.Webhook.Buffer == 0 {
		c.Webhook.Buffer = d.Webhook.Buffer
	}
	return c
}

// API is the HTTP handler set over one database. It owns goroutines (webhook deliveries,
// the freshness watchers behind /metrics): Close stops them.
type API struct {
	db      *db.DB
	logger  *slog.Logger
	cfg     Config
	router  chi.Router
	limiter *limiter
	metrics *apiMetrics
	hooks   *webhooks
}

// New returns the API over d. It fails only for a configuration Validate rejects.
func New(d *db.DB, logger *slog.Logger, cfg Config) (*API, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	a := &API{db: d, logger: logger, cfg: cfg, limiter: newLimiter(cfg.RateLimit, cfg.RateBurst, time.Now)}
	a.metrics = newMetrics(d)
	a.hooks = newWebhooks(d, cfg.Webhook, a.metrics, logger.With("component", "webhooks"))
	a.router = a.routes()
	return a, nil
}

// routes registers every endpoint; openapi.json describes exactly these (a test walks
// both).
func (a *API) routes() chi.Router {
	r := chi.NewRouter()
	r.Use(a.recoverer)
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, withStatus(http.StatusNotFound, sqlerr.New(sqlerr.UndefinedObject, "no endpoint %s %s", r.Method, r.URL.Path)))
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, withStatus(http.StatusMethodNotAllowed, sqlerr.New(sqlerr.FeatureNotSupported, "%s is not allowed on %s", r.Method, r.URL.Path)))
	})

	// Open: health, readiness, metrics, the API description and reads of views.
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	r.Get("/readyz", a.readyz)
	r.Get("/metrics", a.metrics.handler().ServeHTTP)
	r.Group(func(r chi.Router) {
		r.Use(gzipResponses)
		r.Get("/openapi.json", serveOpenAPI)
		r.Get("/v1/sources", a.listSources)
		r.Get("/v1/views", a.listViews)
		r.Get("/v1/views/{name}", a.view)
		dashboardRoutes(r) // GET / and its assets (dashboard.go)
	})

	// Writes and subscriptions: the bearer token when one is configured.
	r.Group(func(r chi.Router) {
		r.Use(a.authenticate)
		r.Post("/v1/sources/{name}/events", a.ingest)
		r.Get("/v1/views/{name}/subscribe", a.subscribe)
		r.Post("/v1/subscriptions", a.createWebhook)
		r.Delete("/v1/subscriptions/{id}", a.deleteWebhook)
		r.Group(func(r chi.Router) {
			r.Use(gzipResponses)
			r.Post("/v1/sql", a.sql)
			r.Get("/v1/subscriptions", a.listWebhooks)
		})
	})
	return r
}

// ServeHTTP serves a request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.router.ServeHTTP(w, r) }

// Close stops every webhook and the freshness watchers and waits for them. Webhooks live
// in memory only: they end here and are not restored at the next start.
func (a *API) Close() {
	a.hooks.close()
	a.metrics.close()
}

func (a *API) readyz(w http.ResponseWriter, _ *http.Request) {
	if !a.db.Ready() {
		msg := "recovering"
		if err := a.db.RecoveryErr(); err != nil {
			msg = "recovery failed: " + err.Error()
		}
		writeError(w, withStatus(http.StatusServiceUnavailable, sqlerr.New(sqlerr.CannotConnectNow, "%s", msg)))
		return
	}
	w.Write([]byte("ready\n"))
}

func (a *API) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil && p != http.ErrAbortHandler {
				a.logger.Error("http handler panicked", "path", r.URL.Path, "panic", p)
				writeError(w, sqlerr.New(sqlerr.Internal, "internal error: %v", p))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// requestContext bounds a request's work by the client's context and five minutes.
func requestContext(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), 5*time.Minute)
}
