package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/server/httpapi"
)

func newAPI(t *testing.T) *httptest.Server {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(t.Context(), db.Config{}, logger)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	srv := httptest.NewServer(httpapi.New(d, logger))
	t.Cleanup(srv.Close)
	for _, q := range []string{
		`CREATE SOURCE likes (room_id bigint NOT NULL, user_id bigint, ok boolean, score double precision, ts timestamptz NOT NULL)`,
		`CREATE MATERIALIZED VIEW per_room AS SELECT room_id, count(*) AS n, max(ts) AS last FROM likes GROUP BY room_id`,
	} {
		code, body := do(t, srv, "POST", "/v1/sql", `{"sql": `+quote(q)+`}`)
		require.Equal(t, http.StatusOK, code, body)
	}
	return srv
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func do(t *testing.T, srv *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestIngestAndRead(t *testing.T) {
	srv := newAPI(t)
	tests := []struct {
		name     string
		body     string
		status   int
		contains []string
	}{
		{"json array", `[{"room_id": 1, "user_id": 2, "ok": true, "score": 1.5, "ts": "2026-01-01T00:00:00Z"},
		                {"room_id": 1, "ts": "2026-01-01 00:00:05+00"}]`, 200, []string{`"ingested":2`}},
		{"ndjson", "{\"room_id\": 2, \"ts\": 1767225600000}\n\n{\"room_id\": 2, \"ts\": \"2026-01-01T00:00:01Z\"}\n", 200, []string{`"ingested":2`}},
		{"bad rows are named, good rows kept", "{\"room_id\": 3, \"ts\": \"2026-01-01T00:00:00Z\"}\n{\"room_id\": \"x\", \"ts\": \"2026-01-01T00:00:00Z\"}\n{\"room_id\": 3}\n{\"room_id\": 3, \"ts\": \"2026-01-01T00:00:00Z\", \"nope\": 1}\n",
			400, []string{`"ingested":1`, `"row":2`, `"column":"room_id"`, `"code":"22P02"`, `"row":3`, `"code":"23502"`, `"row":4`, `"code":"42703"`}},
		{"not json", `[{"room_id": 1,`, 400, []string{`"code":"22P02"`}},
		{"wrong JSON type", `[{"room_id": 1, "ok": "yes", "ts": "2026-01-01T00:00:00Z"}]`, 400, []string{`"column":"ok"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := do(t, srv, "POST", "/v1/sources/likes/events", tc.body)
			require.Equal(t, tc.status, code, body)
			for _, c := range tc.contains {
				require.Contains(t, body, c)
			}
		})
	}
	code, body := do(t, srv, "GET", "/v1/views/per_room", "")
	require.Equal(t, http.StatusOK, code, body)
	var rows []map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &rows))
	got := map[float64]float64{}
	for _, r := range rows {
		got[r["room_id"].(float64)] = r["n"].(float64)
	}
	require.Equal(t, map[float64]float64{1: 2, 2: 2, 3: 1}, got)

	code, body = do(t, srv, "POST", "/v1/sql", `{"sql": "SELECT count(*) AS n FROM likes"}`)
	require.Equal(t, http.StatusOK, code, body)
	require.Contains(t, body, `"n":5`)
}

func TestErrors(t *testing.T) {
	srv := newAPI(t)
	tests := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"POST", "/v1/sources/nope/events", `[]`, 404, "42P01"},
		{"POST", "/v1/sources/per_room/events", `[]`, 400, "42809"},
		{"GET", "/v1/views/nope", "", 404, "42P01"},
		{"GET", "/v1/views/likes", "", 400, "42809"},
		{"POST", "/v1/sql", `{"sql": "SELEC 1"}`, 400, "42601"},
		{"POST", "/v1/sql", `{"sql": "CREATE MATERIALIZED VIEW w AS SELECT sum(room_id) OVER () FROM likes"}`, 501, "0A000"},
		{"POST", "/v1/sql", `not json`, 400, "42601"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path+" "+tc.body, func(t *testing.T) {
			code, body := do(t, srv, tc.method, tc.path, tc.body)
			require.Equal(t, tc.status, code, body)
			var e struct{ Code, Message string }
			require.NoError(t, json.Unmarshal([]byte(body), &e))
			require.Equal(t, tc.code, e.Code, body)
			require.NotEmpty(t, e.Message)
		})
	}
	t.Run("body too large", func(t *testing.T) {
		big := bytes.Repeat([]byte(" "), httpapi.MaxBody+1)
		resp, err := http.Post(srv.URL+"/v1/sources/likes/events", "application/json", bytes.NewReader(big))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	})
	code, _ := do(t, srv, "GET", "/healthz", "")
	require.Equal(t, 200, code)
	code, _ = do(t, srv, "GET", "/readyz", "")
	require.Equal(t, 200, code)
}
