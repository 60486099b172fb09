package httpapi_test

import (
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

// newServer serves a fresh in-memory database with cfg over real HTTP; everything stops
// at the end of the test (server, then API, then database).
func newServer(t *testing.T, cfg httpapi.Config, dcfg db.Config) (*httptest.Server, *db.DB) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(t.Context(), dcfg, logger)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	api, err := httpapi.New(d, logger, cfg)
	require.NoError(t, err)
	t.Cleanup(api.Close)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv, d
}

// newAPI serves the likes source and the per_room view.
func newAPI(t *testing.T) *httptest.Server {
	t.Helper()
	srv, _ := newServer(t, httpapi.Config{}, db.Config{})
	mustSQL(t, srv,
		`CREATE SOURCE likes (room_id bigint NOT NULL, user_id bigint, ok boolean, score double precision, ts timestamptz NOT NULL)`,
		`CREATE MATERIALIZED VIEW per_room AS SELECT room_id, count(*) AS n, max(ts) AS last FROM likes GROUP BY room_id`)
	return srv
}

// mustSQL runs each statement over POST /v1/sql.
func mustSQL(t *testing.T, srv *httptest.Server, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		code, body := do(t, srv, "POST", "/v1/sql", `{"sql": `+quote(q)+`}`)
		require.Equal(t, http.StatusOK, code, body)
	}
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func do(t *testing.T, srv *httptest.Server, method, path, body string) (int, string) {
	t.Helper()
	resp, b := doH(t, srv, method, path, body)
	return resp.StatusCode, b
}

// doH sends a request with headers given as "Name", "value" pairs and returns the
// response (its body read) and the body.
func doH(t *testing.T, srv *httptest.Server, method, path, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// problem is an error response's body.
type problem struct {
	Type, Title, Detail, SQLState, PGDetail, Column string
	Status, Row                                     int
	Ingested                                        *int
	Rows                                            []struct {
		Row              int
		Column, SQLState string
	}
}

// requireProblem checks that resp is an application/problem+json error with status and
// sqlstate, and returns it.
func requireProblem(t *testing.T, resp *http.Response, body string, status int, sqlstate string) problem {
	t.Helper()
	require.Equal(t, status, resp.StatusCode, body)
	require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), body)
	var p problem
	require.NoError(t, json.Unmarshal([]byte(body), &p), body)
	require.Equal(t, status, p.Status, body)
	require.Equal(t, sqlstate, p.SQLState, body)
	require.NotEmpty(t, p.Title, body)
	require.NotEmpty(t, p.Detail, body)
	require.Contains(t, p.Type, sqlstate, body)
	return p
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
			400, []string{`"ingested":1`, `"row":2`, `"column":"room_id"`, `"sqlstate":"22P02"`, `"row":3`, `"sqlstate":"23502"`, `"row":4`, `"sqlstate":"42703"`}},
		{"not json", `[{"room_id": 1,`, 400, []string{`"sqlstate":"22P02"`}},
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
		{"POST", "/v1/sql", `{"sql": "CREATE MATERIALIZED VIEW w AS SELECT lag(room_id) OVER (ORDER BY ts) FROM likes"}`, 501, "0A000"},
		{"POST", "/v1/sql", `not json`, 400, "42601"},
		{"POST", "/v1/sql", `{"sql": "SUBSCRIBE per_room"}`, 501, "0A000"},
		{"GET", "/v1/views/per_room?where=nope=1", "", 400, "42703"},
		{"GET", "/v1/views/per_room?where=room_id=x", "", 400, "22P02"},
		{"GET", "/v1/views/per_room?where=room_id", "", 400, "42601"},
		{"GET", "/v1/views/per_room?limit=-1", "", 400, "22023"},
		{"GET", "/v1/views/per_room?format=xml", "", 400, "22023"},
		{"POST", "/v1/sources/likes/events?atomic=maybe", `[]`, 400, "22023"},
		{"GET", "/v1/nothing", "", 404, "42704"},
		{"PUT", "/v1/views/per_room", "", 405, "0A000"},
		{"DELETE", "/v1/subscriptions/nope", "", 404, "42704"},
		{"POST", "/v1/subscriptions", `{"view": "per_room", "url": "ftp://x"}`, 400, "22023"},
		{"POST", "/v1/subscriptions", `{"view": "likes", "url": "http://127.0.0.1:1/"}`, 400, "42809"},
		{"POST", "/v1/subscriptions", `{"view": "per_room", "url": "http://127.0.0.1:1/", "where": "nope=1"}`, 400, "42703"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path+" "+tc.body, func(t *testing.T) {
			resp, body := doH(t, srv, tc.method, tc.path, tc.body)
			requireProblem(t, resp, body, tc.status, tc.code)
		})
	}
	code, _ := do(t, srv, "GET", "/healthz", "")
	require.Equal(t, 200, code)
	code, _ = do(t, srv, "GET", "/readyz", "")
	require.Equal(t, 200, code)
}
