package httpapi_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/server/httpapi"
)

func TestMetrics(t *testing.T) {
	srv, _ := newServer(t, httpapi.Config{}, db.Config{Dir: t.TempDir()})
	mustSQL(t, srv,
		`CREATE SOURCE c (id bigint, ts timestamptz NOT NULL, WATERMARK FOR ts AS ts - INTERVAL '10 seconds')`,
		`CREATE MATERIALIZED VIEW n AS SELECT count(*) AS n FROM c`)
	for _, events := range []string{
		`[{"id": 1, "ts": "2026-11-26T00:01:00Z"}]`,
		// 00:00:30 is behind the watermark (00:00:50): late, counted, kept.
		`[{"id": 2, "ts": "2026-11-26T00:00:30Z"}, {"id": 3, "ts": "2026-11-26T00:01:10Z"}]`,
	} {
		code, body := do(t, srv, "POST", "/v1/sources/c/events", events)
		require.Equal(t, http.StatusOK, code, body)
	}
	code, _ := do(t, srv, "POST", "/v1/sources/c/events", `[{"id": 4}]`)
	require.Equal(t, http.StatusBadRequest, code)

	ctx, cancel := context.WithCancel(t.Context())
	open(t, ctx, srv.URL+"/v1/views/n/subscribe", "")
	open(t, ctx, srv.URL+"/v1/views/n/subscribe?where=n=1", "")

	code, body := do(t, srv, "GET", "/metrics", "")
	require.Equal(t, http.StatusOK, code)
	for _, want := range []string{
		`weir_late_events_total{source="c"} 1`,
		`weir_watermark_seconds{source="c"} 1.79565126e+09`,
		`weir_ingest_events_total{source="c"} 3`,
		`weir_ingest_rejected_rows_total{source="c"} 1`,
		`weir_ingest_tick_seconds_count 2`,
		`weir_ingest_group_commits_total 2`,
		`weir_subscribers{transport="sse",view="n"} 2`,
		`weir_view_freshness_seconds{view="n"} `,
		`weir_view_last_change_timestamp_seconds{view="n"} `,
		"weir_tick ", "weir_flushes_total ", "weir_flush_seconds_total ", "go_goroutines ",
		"weir_checkpoint_hold_seconds_total ", "weir_checkpoint_hold_max_seconds ",
	} {
		require.Contains(t, body, want)
	}
	require.Regexp(t, `weir_ingest_tick_seconds_bucket\{le="0.001"\} \d`, body)
	require.Greater(t, metric(t, body, "weir_wal_last_lsn"), 0.0, "logged ticks")
	require.Greater(t, metric(t, body, "weir_wal_bytes"), 0.0, "the log holds the ticks on disk")
	require.Regexp(t, `weir_operator_state_rows\{node="\d+",operator="HashAggregate\(count\(\*\)\)",views="n"\} 1`, body)
	require.Regexp(t, `weir_store_memory_bytes\{tag="[a-z_]+"\} [1-9]`, body, "DuckDB holds the catalog's tables")

	// The view's last change moves when it changes.
	changed := metric(t, body, `weir_view_last_change_timestamp_seconds{view="n"}`)
	code, _ = do(t, srv, "POST", "/v1/sources/c/events", `[{"id": 5, "ts": "2026-11-26T00:01:20Z"}]`)
	require.Equal(t, http.StatusOK, code)
	eventually(t, func() bool {
		_, body = do(t, srv, "GET", "/metrics", "")
		return metric(t, body, `weir_view_last_change_timestamp_seconds{view="n"}`) > changed
	}, "the view's change time moves")

	cancel()
	eventually(t, func() bool {
		_, body = do(t, srv, "GET", "/metrics", "")
		return metric(t, body, `weir_subscribers{transport="sse",view="n"}`) == 0
	}, "subscribers leave")
}

// metric returns the value of the sample named (with labels) name in a scrape.
func metric(t *testing.T, body, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(body)
	require.NotNil(t, m, "no %s in\n%s", name, body)
	v, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	return v
}
