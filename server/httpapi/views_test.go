package httpapi_test

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/server/httpapi"
)

// newTypes serves a view over every kind of column with awkward values: NULLs, text
// needing CSV quotes, an empty string, a duplicate row.
func newTypes(t *testing.T) *httptest.Server {
	t.Helper()
	srv, _ := newServer(t, httpapi.Config{}, db.Config{})
	mustSQL(t, srv,
		`CREATE SOURCE ev (id bigint NOT NULL, name text, score double precision, ok boolean, ts timestamptz, amount numeric, day date, doc jsonb)`,
		`CREATE MATERIALIZED VIEW v AS SELECT id, name, score, ok, ts, amount, day, doc FROM ev`)
	code, out := do(t, srv, "POST", "/v1/sources/ev/events", `[
		{"id": 1, "name": "plain", "score": 1.5, "ok": true, "ts": "2026-01-01T00:00:05Z", "amount": 12.50, "day": "2026-01-02", "doc": {"b": [1, 2], "a": "x"}},
		{"id": 2, "name": "comma, \"quote\"", "score": 1e-7, "ok": false},
		{"id": 3, "name": ""},
		{"id": 3, "name": ""},
		{"id": 4}
	]`)
	require.Equal(t, http.StatusOK, code, out)
	return srv
}

func TestViewFormats(t *testing.T) {
	srv := newTypes(t)

	resp, out := doH(t, srv, "GET", "/v1/views/v", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.NotEmpty(t, resp.Header.Get("Weir-Tick"))
	require.Equal(t, `[{"id":1,"name":"plain","score":1.5,"ok":true,"ts":"2026-01-01T00:00:05Z","amount":"12.50","day":"2026-01-02","doc":{"a": "x", "b": [1, 2]}},`+
		`{"id":2,"name":"comma, \"quote\"","score":1e-7,"ok":false,"ts":null,"amount":null,"day":null,"doc":null},`+
		`{"id":3,"name":"","score":null,"ok":null,"ts":null,"amount":null,"day":null,"doc":null},`+
		`{"id":3,"name":"","score":null,"ok":null,"ts":null,"amount":null,"day":null,"doc":null},`+
		`{"id":4,"name":null,"score":null,"ok":null,"ts":null,"amount":null,"day":null,"doc":null}]`+"\n", out)
	var rows []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &rows), "valid JSON")

	resp, out = doH(t, srv, "GET", "/v1/views/v?format=ndjson&limit=2", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.Equal(t, "application/x-ndjson", resp.Header.Get("Content-Type"))
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, lines, 2)
	for _, l := range lines {
		require.True(t, json.Valid([]byte(l)), l)
	}

	resp, out = doH(t, srv, "GET", "/v1/views/v?format=csv", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv"))
	// PostgreSQL's COPY v TO STDOUT (FORMAT csv, HEADER) for the same rows.
	require.Equal(t, `id,name,score,ok,ts,amount,day,doc
1,plain,1.5,t,2026-01-01 00:00:05+00,12.50,2026-01-02,"{""a"": ""x"", ""b"": [1, 2]}"
2,"comma, ""quote""",1e-07,f,,,,
3,"",,,,,,
3,"",,,,,,
4,,,,,,,
`, out)

	// The Accept header chooses when ?format= does not.
	resp, out = doH(t, srv, "GET", "/v1/views/v?limit=1", "", "Accept", "text/csv")
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv"), out)
	require.Equal(t, 2, strings.Count(out, "\n"))
	resp, _ = doH(t, srv, "GET", "/v1/views/v?limit=0", "", "Accept", "application/x-ndjson")
	require.Equal(t, "application/x-ndjson", resp.Header.Get("Content-Type"))
}

func TestViewWhereAndLimit(t *testing.T) {
	srv := newTypes(t)
	tests := []struct {
		query string
		ids   []float64
	}{
		{"", []float64{1, 2, 3, 3, 4}},
		{"?where=id=3", []float64{3, 3}},
		{"?where=id=3&limit=1", []float64{3}},
		{"?where=name=plain", []float64{1}},
		{"?where=ok=false", []float64{2}},
		{"?where=ok=true&where=id=1", []float64{1}},
		{"?where=ok=true&where=id=2", nil},
		{"?where=amount=12.5", []float64{1}},
		{"?where=ts=2026-01-01T00:00:05Z", []float64{1}},
		{"?where=id=4&where=name=", nil}, // NULL never matches
		{"?limit=0", nil},
		{"?limit=3", []float64{1, 2, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			code, out := do(t, srv, "GET", "/v1/views/v"+tc.query, "")
			require.Equal(t, http.StatusOK, code, out)
			var rows []map[string]any
			require.NoError(t, json.Unmarshal([]byte(out), &rows))
			var ids []float64
			for _, r := range rows {
				ids = append(ids, r["id"].(float64))
			}
			require.Equal(t, tc.ids, ids)
		})
	}
}

func TestListViewsAndSources(t *testing.T) {
	srv := newAPI(t)
	mustSQL(t, srv,
		`CREATE TABLE rooms (id bigint PRIMARY KEY, title varchar(40) NOT NULL)`,
		`CREATE SOURCE c (id bigint, ts timestamptz NOT NULL, WATERMARK FOR ts AS ts - INTERVAL '10 seconds')`)
	code, out := do(t, srv, "POST", "/v1/sources/c/events", `[{"id": 1, "ts": "2026-11-26T00:01:00Z"}]`)
	require.Equal(t, http.StatusOK, code, out)

	code, out = do(t, srv, "GET", "/v1/views", "")
	require.Equal(t, http.StatusOK, code, out)
	var views []struct {
		Name      string
		Query     string
		DependsOn []string `json:"depends_on"`
		Columns   []struct {
			Name, Type string
			Nullable   bool
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &views))
	require.Len(t, views, 1)
	require.Equal(t, "per_room", views[0].Name)
	require.Equal(t, []string{"likes"}, views[0].DependsOn)
	require.Contains(t, views[0].Query, "GROUP BY room_id")
	require.Len(t, views[0].Columns, 3)
	require.Equal(t, "room_id", views[0].Columns[0].Name)
	require.Equal(t, "bigint", views[0].Columns[0].Type)
	require.Equal(t, "timestamp with time zone", views[0].Columns[2].Type)

	code, out = do(t, srv, "GET", "/v1/sources", "")
	require.Equal(t, http.StatusOK, code, out)
	var sources []struct {
		Name, Kind string
		PrimaryKey []string `json:"primary_key"`
		Columns    []struct {
			Name, Type string
			Nullable   bool
		}
		Watermark *struct {
			Column       string
			DelaySeconds float64 `json:"delay_seconds"`
			Watermark    *string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(out), &sources))
	require.Len(t, sources, 3)
	require.Equal(t, "likes", sources[0].Name)
	require.Equal(t, "source", sources[0].Kind)
	require.False(t, sources[0].Columns[0].Nullable)
	require.True(t, sources[0].Columns[1].Nullable)
	require.Equal(t, "rooms", sources[1].Name)
	require.Equal(t, "table", sources[1].Kind)
	require.Equal(t, []string{"id"}, sources[1].PrimaryKey)
	require.Equal(t, "character varying(40)", sources[1].Columns[1].Type)
	require.Equal(t, "ts", sources[2].Watermark.Column)
	require.Equal(t, 10.0, sources[2].Watermark.DelaySeconds)
	require.Equal(t, "2026-11-26T00:00:50Z", *sources[2].Watermark.Watermark)
}

func TestGzipResponses(t *testing.T) {
	srv := newTypes(t)
	// Go's transport would decode gzip itself; ask by hand to see the encoding.
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	get := func(path, accept string) (*http.Response, string) {
		req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+path, nil)
		require.NoError(t, err)
		if accept != "" {
			req.Header.Set("Accept-Encoding", accept)
		}
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var r io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(resp.Body)
			require.NoError(t, err)
			r = zr
		}
		b, err := io.ReadAll(r)
		require.NoError(t, err)
		return resp, string(b)
	}
	_, plain := get("/v1/views/v?format=csv", "")
	for _, path := range []string{"/v1/views/v?format=csv", "/v1/views", "/v1/sources", "/openapi.json"} {
		resp, out := get(path, "br;q=1.0, gzip;q=0.8")
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
		require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"), path)
		require.Contains(t, resp.Header.Values("Vary"), "Accept-Encoding")
		if path == "/v1/views/v?format=csv" {
			require.Equal(t, plain, out)
		}
	}
	resp, out := get("/v1/views/nope", "gzip")
	require.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	require.Contains(t, out, `"sqlstate":"42P01"`, "errors are compressed too")
	for _, accept := range []string{"", "identity", "gzip;q=0", "deflate"} {
		resp, _ := get("/v1/views", accept)
		require.Empty(t, resp.Header.Get("Content-Encoding"), accept)
	}
}
