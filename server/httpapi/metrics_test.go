package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMetrics(t *testing.T) {
	srv := newAPI(t)
	code, body := do(t, srv, "POST", "/v1/sql", `{"sql": "CREATE SOURCE c (id bigint, ts timestamptz NOT NULL, WATERMARK FOR ts AS ts - INTERVAL '10 seconds')"}`)
	require.Equal(t, http.StatusOK, code, body)
	for _, events := range []string{
		`[{"id": 1, "ts": "2026-11-26T00:01:00Z"}]`,
		// 00:00:30 is behind the watermark (00:00:50): late, counted, kept.
		`[{"id": 2, "ts": "2026-11-26T00:00:30Z"}, {"id": 3, "ts": "2026-11-26T00:01:10Z"}]`,
	} {
		code, body := do(t, srv, "POST", "/v1/sources/c/events", events)
		require.Equal(t, http.StatusOK, code, body)
	}
	code, body = do(t, srv, "GET", "/metrics", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, `weir_late_events_total{source="c"} 1`)
	require.Contains(t, body, `weir_watermark_seconds{source="c"} 1.79565126e+09`)
	require.Contains(t, body, "weir_tick ")
	require.Contains(t, body, "go_goroutines ")
}
