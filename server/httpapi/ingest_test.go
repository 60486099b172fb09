package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/server/httpapi"
)

func gzipped(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, err := zw.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return b.String()
}

// count returns the answer to SELECT count(*) AS n FROM likes.
func count(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	code, out := do(t, srv, "POST", "/v1/sql", `{"sql": "SELECT count(*) AS n FROM likes"}`)
	require.Equal(t, http.StatusOK, code, out)
	return out
}

func TestIngestGzip(t *testing.T) {
	srv := newAPI(t)
	body := `[{"room_id": 1, "ts": "2026-01-01T00:00:00Z"}, {"room_id": 2, "ts": "2026-01-01T00:00:01Z"}]`
	resp, out := doH(t, srv, "POST", "/v1/sources/likes/events", gzipped(t, body), "Content-Encoding", "gzip")
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.Contains(t, out, `"ingested":2`)
	ndjson := "{\"room_id\": 3, \"ts\": 1767225600000}\n{\"room_id\": 3, \"ts\": 1767225600000}\n"
	resp, out = doH(t, srv, "POST", "/v1/sources/likes/events", gzipped(t, ndjson), "Content-Encoding", "GZIP")
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.Contains(t, count(t, srv), `"n":4`)

	resp, out = doH(t, srv, "POST", "/v1/sources/likes/events", body, "Content-Encoding", "gzip")
	requireProblem(t, resp, out, http.StatusBadRequest, "22P02")
	resp, out = doH(t, srv, "POST", "/v1/sources/likes/events", gzipped(t, body)[:20], "Content-Encoding", "gzip")
	requireProblem(t, resp, out, http.StatusBadRequest, "22P02")
	resp, out = doH(t, srv, "POST", "/v1/sources/likes/events", body, "Content-Encoding", "br")
	requireProblem(t, resp, out, http.StatusUnsupportedMediaType, "0A000")
	require.Contains(t, count(t, srv), `"n":4`)
}

func TestIngestAtomic(t *testing.T) {
	srv := newAPI(t)
	body := "{\"room_id\": 1, \"ts\": \"2026-01-01T00:00:00Z\"}\n{\"room_id\": \"x\", \"ts\": \"2026-01-01T00:00:00Z\"}\n" +
		"{\"room_id\": 2, \"ts\": \"2026-01-01T00:00:00Z\"}\n{\"room_id\": 3}\n"

	resp, out := doH(t, srv, "POST", "/v1/sources/likes/events?atomic=true", body)
	p := requireProblem(t, resp, out, http.StatusBadRequest, "22P02")
	require.Equal(t, 2, p.Row)
	require.Equal(t, "room_id", p.Column)
	require.Len(t, p.Rows, 2)
	require.Equal(t, 4, p.Rows[1].Row)
	require.Equal(t, "23502", p.Rows[1].SQLState)
	require.Equal(t, 0, *p.Ingested)
	require.Contains(t, p.Detail, "nothing ingested")
	require.Contains(t, count(t, srv), `"n":0`, "an atomic request with a bad row stores nothing")

	resp, out = doH(t, srv, "POST", "/v1/sources/likes/events?atomic=false", body)
	p = requireProblem(t, resp, out, http.StatusBadRequest, "22P02")
	require.Equal(t, 2, *p.Ingested)
	require.Contains(t, count(t, srv), `"n":2`, "without atomic the good rows are kept")

	resp, out = doH(t, srv, "POST", "/v1/sources/likes/events?atomic=1", `[{"room_id": 9, "ts": "2026-01-01T00:00:00Z"}]`)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	require.Contains(t, count(t, srv), `"n":3`)
}

// A row the database would refuse for the whole request (varchar(n), numeric(p,s)) is
// rejected on its own.
func TestIngestColumnConstraintsPerRow(t *testing.T) {
	srv, _ := newServer(t, httpapi.Config{}, db.Config{})
	mustSQL(t, srv, `CREATE SOURCE s (code varchar(3), amount numeric(4,1))`)
	resp, out := doH(t, srv, "POST", "/v1/sources/s/events",
		`[{"code": "abc", "amount": 1.25}, {"code": "abcd"}, {"amount": 12345}, {"code": "x"}]`)
	p := requireProblem(t, resp, out, http.StatusBadRequest, "22001")
	require.Equal(t, 2, *p.Ingested)
	require.Equal(t, "code", p.Column)
	require.Equal(t, "22003", p.Rows[1].SQLState)
	code, out := do(t, srv, "POST", "/v1/sql", `{"sql": "SELECT code, amount FROM s ORDER BY code"}`)
	require.Equal(t, http.StatusOK, code, out)
	require.Contains(t, out, `"amount":"1.3"`, "numeric(4,1) rounds as on insert")
}

func TestIngestBodyLimit(t *testing.T) {
	srv, _ := newServer(t, httpapi.Config{MaxBody: 1024}, db.Config{})
	mustSQL(t, srv, `CREATE SOURCE likes (room_id bigint, ts timestamptz)`)
	row := `{"room_id": 1, "ts": "2026-01-01T00:00:00Z"}` + "\n"
	small := strings.Repeat(row, 1000/len(row))
	big := strings.Repeat(row, 2048/len(row))

	code, out := do(t, srv, "POST", "/v1/sources/likes/events", small)
	require.Equal(t, http.StatusOK, code, out)

	resp, out := doH(t, srv, "POST", "/v1/sources/likes/events", big)
	p := requireProblem(t, resp, out, http.StatusRequestEntityTooLarge, "54000")
	require.Contains(t, p.Detail, "1024 bytes")

	// Compressed it fits; decompressed it does not.
	require.Less(t, len(gzipped(t, big)), 1024)
	resp, out = doH(t, srv, "POST", "/v1/sources/likes/events", gzipped(t, big), "Content-Encoding", "gzip")
	p = requireProblem(t, resp, out, http.StatusRequestEntityTooLarge, "54000")
	require.Contains(t, p.Detail, "decompressed")
	require.Contains(t, count(t, srv), `"n":`+strconv.Itoa(len(small)/len(row)))

	_, err := httpapi.New(nil, nil, httpapi.Config{MaxBody: -1})
	require.ErrorIs(t, err, httpapi.ErrInvalidConfig)
}

func TestIngestRateLimit(t *testing.T) {
	// 3 events at once, then one every 1000 s: the second request has to wait.
	srv, _ := newServer(t, httpapi.Config{RateLimit: 0.001, RateBurst: 3}, db.Config{})
	mustSQL(t, srv, `CREATE SOURCE a (x bigint)`, `CREATE SOURCE b (x bigint)`, `CREATE SOURCE c (x bigint)`)

	code, out := do(t, srv, "POST", "/v1/sources/a/events", `[{"x": 1}, {"x": 2}, {"x": 3}]`)
	require.Equal(t, http.StatusOK, code, out)
	resp, out := doH(t, srv, "POST", "/v1/sources/a/events", `[{"x": 4}]`)
	p := requireProblem(t, resp, out, http.StatusTooManyRequests, "53400")
	require.Contains(t, p.Detail, `"a"`)
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.InDelta(t, 1000, retry, 5, "one event at 0.001/s")

	// Buckets are per source.
	code, out = do(t, srv, "POST", "/v1/sources/b/events", `[{"x": 1}]`)
	require.Equal(t, http.StatusOK, code, out)
	// A request larger than the burst is admitted when the bucket is full, then owes.
	code, out = do(t, srv, "POST", "/v1/sources/c/events", `[{"x": 1}, {"x": 2}, {"x": 3}, {"x": 4}, {"x": 5}]`)
	require.Equal(t, http.StatusOK, code, out)
	resp, out = doH(t, srv, "POST", "/v1/sources/c/events", `[{"x": 6}]`)
	requireProblem(t, resp, out, http.StatusTooManyRequests, "53400")
	retry, err = strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	require.InDelta(t, 3000, retry, 5, "2 events of debt plus the one asked for")

	_, metrics := do(t, srv, "GET", "/metrics", "")
	require.Contains(t, metrics, `weir_ingest_rate_limited_total{source="a"} 1`)
	require.Contains(t, metrics, `weir_ingest_events_total{source="c"} 5`)
}
