package httpapi

import (
	"embed"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/weirdb/weir/internal/sqlerr"
)

// dashboardFiles is the live dashboard (issue #7): one page, its script and its style
// sheet, written by hand and served as they are; no build step, nothing fetched from
// elsewhere. The script reads /v1/sources, /v1/views and /metrics for the lists and
// follows the chosen view over its SSE subscription.
//
//go:embed dashboard
var dashboardFiles embed.FS

// dashboardAssets are the files the page loads from /ui/, with their media types.
var dashboardAssets = map[string]string{
	"dashboard.js":  "text/javascript; charset=utf-8",
	"dashboard.css": "text/css; charset=utf-8",
}

// dashboardPolicy keeps the page to this server: no inline script, no other origin.
const dashboardPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"

// dashboardRoutes serves the dashboard at GET / and its assets at GET /ui/{asset}.
func dashboardRoutes(r chi.Router) {
	r.Get("/", func(w http.ResponseWriter, _ *http.Request) {
		serveDashboardFile(w, "index.html", "text/html; charset=utf-8")
	})
	r.Get("/ui/{asset}", func(w http.ResponseWriter, r *http.Request) {
		name := chi.URLParam(r, "asset")
		typ, ok := dashboardAssets[name]
		if !ok {
			writeError(w, withStatus(http.StatusNotFound, sqlerr.New(sqlerr.UndefinedObject, "no dashboard asset %q", name)))
			return
		}
		serveDashboardFile(w, name, typ)
	})
}

func serveDashboardFile(w http.ResponseWriter, name, typ string) {
	b, err := dashboardFiles.ReadFile("dashboard/" + name)
	if err != nil { // every name served is embedded: TestDashboardAssets
		writeError(w, sqlerr.New(sqlerr.Internal, "dashboard file %s: %v", name, err))
		return
	}
	w.Header().Set("Content-Type", typ)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", dashboardPolicy)
	w.Write(b)
}
