package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/server/httpapi"
)

// TestDashboardAssets: GET / is the dashboard page, and every file it loads from /ui/ is
// served with its media type; other names under /ui/ are 404 problems.
func TestDashboardAssets(t *testing.T) {
	srv, _ := newServer(t, httpapi.Config{}, db.Config{})
	resp, page := doH(t, srv, "GET", "/", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'self'")
	require.Contains(t, page, "<title>Weir</title>")

	types := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
	refs := regexp.MustCompile(`(?:src|href)="(ui/[^"]+)"`).FindAllStringSubmatch(page, -1)
	require.Len(t, refs, 2, "the page loads one script and one style sheet")
	for _, ref := range refs {
		resp, body := doH(t, srv, "GET", "/"+ref[1], "")
		require.Equal(t, http.StatusOK, resp.StatusCode, ref[1])
		require.Equal(t, types[filepath.Ext(ref[1])], resp.Header.Get("Content-Type"), ref[1])
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), ref[1])
		require.Greater(t, len(body), 500, ref[1])
	}
	for _, p := range []string{"/ui/index.html", "/ui/nope.js", "/ui/..%2Fdashboard.go"} {
		resp, body := doH(t, srv, "GET", p, "")
		requireProblem(t, resp, body, http.StatusNotFound, "42704")
	}
}

// TestDashboardBrowser opens the dashboard on the room_minute view in headless Chromium
// while events keep arriving, and checks that the page shows a row ingested only after
// its subscription began (so it came as a diff, not in the snapshot), the sources and
// views with their rates, and a chart. It saves a screenshot under $WEIR_ARTIFACTS (or
// the test's temporary directory).
func TestDashboardBrowser(t *testing.T) {
	chromium := findChromium(t)
	const token = "s3cret"
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(t.Context(), db.Config{}, logger)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	api, err := httpapi.New(d, logger, httpapi.Config{Token: token})
	require.NoError(t, err)
	t.Cleanup(api.Close)
	srv := httptest.NewServer(endStreams(api, streamFor))
	t.Cleanup(srv.Close)
	auth := []string{"Authorization", "Bearer " + token}
	for _, q := range []string{
		`CREATE SOURCE likes (room_id bigint NOT NULL, user_id bigint, ts timestamptz NOT NULL, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')`,
		`CREATE MATERIALIZED VIEW top_rooms AS SELECT room_id, count(*) AS n FROM likes GROUP BY room_id`,
		`CREATE MATERIALIZED VIEW room_minute AS SELECT room_id, window_start, count(*) AS n FROM TUMBLE(likes, ts, INTERVAL '1 minute') GROUP BY room_id, window_start`,
	} {
		resp, body := doH(t, srv, "POST", "/v1/sql", `{"sql": `+quote(q)+`}`, auth...)
		require.Equal(t, http.StatusOK, resp.StatusCode, body)
	}

	// Ingest a round of likes every 50 ms until the page is done: rooms 1 to 5, room r
	// getting r likes, event time advancing 5 s a round. Once the page's subscription to
	// room_minute is open, room 4242 (the marker) starts getting likes too: it can only
	// reach the page as a diff.
	const marker = "4242"
	ctx, stop := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	wg.Add(1)
	go func() {
		defer wg.Done()
		base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
		subscribed := false
		for round := 0; ctx.Err() == nil; round++ {
			ts := base.Add(time.Duration(round) * 5 * time.Second).Format(time.RFC3339)
			var rows []string
			for room := 1; room <= 5; room++ {
				for u := 0; u < room; u++ {
					rows = append(rows, fmt.Sprintf(`{"room_id": %d, "user_id": %d, "ts": %q}`, room, round*10+u, ts))
				}
			}
			if !subscribed {
				subscribed = strings.Contains(get(ctx, srv.URL+"/metrics"), `weir_subscribers{transport="sse",view="room_minute"} 1`)
			}
			if subscribed {
				rows = append(rows, fmt.Sprintf(`{"room_id": %s, "user_id": 1, "ts": %q}`, marker, ts))
			}
			req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/sources/likes/events", strings.NewReader("["+strings.Join(rows, ",")+"]"))
			req.Header.Set(auth[0], auth[1])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				if ctx.Err() == nil {
					t.Errorf("ingest: %v", err)
				}
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("ingest: %s", resp.Status)
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()

	dir := os.Getenv("WEIR_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	// page opens the dashboard on view, saves a screenshot and returns the page's DOM.
	page := func(view string) string {
		shot := filepath.Join(dir, "dashboard-"+view+".png")
		start := time.Now()
		dom := runChromium(t, chromium, "--dump-dom", "--screenshot="+shot, "--window-size=1280,900",
			srv.URL+"/?token="+token+"#view="+view)
		t.Logf("chromium on #view=%s took %s", view, time.Since(start).Round(time.Millisecond))
		png, err := os.ReadFile(shot)
		require.NoError(t, err)
		require.True(t, len(png) > 10_000 && string(png[1:4]) == "PNG", "%s is not a screenshot (%d bytes)", shot, len(png))
		t.Logf("dashboard screenshot: %s", shot)
		return dom
	}
	rowsTable := regexp.MustCompile(`(?s)<table id="rows">.*?</table>`)

	dom := page("room_minute")
	rows := rowsTable.FindString(dom)
	require.NotEmpty(t, rows, "no rows table in:\n%s", dom)
	require.Contains(t, rows, `<td class="num">`+marker+`</td>`, "the marker room, ingested after the snapshot, is in the table:\n%s", rows)
	require.Regexp(t, `<main id="view" data-view="room_minute" data-tick="\d+" data-snapshot-tick="\d+" data-diffs="[1-9]\d*"`, dom)
	require.Contains(t, rows, "2026-01-01T12:00:00Z", "the first minute")
	require.Regexp(t, `<tr data-source="likes"><td>likes</td><td class="num">[1-9][\d.k]*</td>`, dom, "the source with its event count")
	require.Contains(t, dom, `<tr data-view="top_rooms"`)
	require.Contains(t, dom, `<tr data-view="room_minute" class="selected"`)
	require.Contains(t, dom, `<svg viewBox="0 0 800 300" role="img" class="line-chart"`)
	require.Contains(t, dom, "<polyline")

	dom = page("top_rooms")
	rows = rowsTable.FindString(dom)
	require.Regexp(t, `<main id="view" data-view="top_rooms" data-tick="\d+" data-snapshot-tick="\d+" data-diffs="[1-9]\d*"`, dom)
	require.Regexp(t, `<tbody><tr( class="new")?><td class="num">5</td>`, rows, "room 5, the busiest, comes first")
	require.Contains(t, dom, `class="bar-chart" aria-label="top 6 by n"`)
	require.Equal(t, 6, strings.Count(dom, "<rect "), "a bar per room")
}

// streamFor is how long the test lets each page follow its view.
const streamFor = 3 * time.Second

// endStreams serves h, but ends each subscription stream after d and answers a
// reconnection (Last-Event-ID) with 204 No Content, which tells EventSource to stop.
// Chromium's virtual clock stands still while a request is open, so without an end
// --virtual-time-budget never runs out and the page is never dumped.
func endStreams(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/subscribe") {
			h.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("Last-Event-ID") != "" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// get returns the body of a GET, or "" on any error.
func get(ctx context.Context, url string) string {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// findChromium returns the Chromium binary, failing (not skipping: CI installs it) when
// there is none.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("the dashboard test needs headless Chromium: install the Debian package (apt-get install -y chromium)")
	return ""
}

// runChromium runs headless Chromium on url with args and returns its standard output.
// The page follows its view for streamFor of real time (endStreams), then gets 5 s of
// virtual time, in which its timers run but nothing new arrives.
func runChromium(t *testing.T, chromium string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	home := t.TempDir() // profile, crash reports and caches stay out of $HOME
	cmd := exec.CommandContext(ctx, chromium, append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + filepath.Join(home, "profile"), "--virtual-time-budget=5000",
	}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+home)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, err, "chromium %s:\n%s", strings.Join(args, " "), stderr.String())
	return stdout.String()
}
