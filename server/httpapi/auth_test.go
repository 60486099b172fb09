package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/server/httpapi"
)

func TestBearerToken(t *testing.T) {
	const token = "s3cret-token"
	srv, _ := newServer(t, httpapi.Config{Token: token}, db.Config{})
	auth := []string{"Authorization", "Bearer " + token}
	for _, q := range []string{
		`CREATE SOURCE likes (room_id bigint NOT NULL, ts timestamptz NOT NULL)`,
		`CREATE MATERIALIZED VIEW per_room AS SELECT room_id, count(*) AS n FROM likes GROUP BY room_id`,
	} {
		resp, out := doH(t, srv, "POST", "/v1/sql", `{"sql": `+quote(q)+`}`, auth...)
		require.Equal(t, http.StatusOK, resp.StatusCode, out)
	}

	open := []struct{ method, path string }{
		{"GET", "/healthz"}, {"GET", "/readyz"}, {"GET", "/metrics"}, {"GET", "/openapi.json"},
		{"GET", "/v1/views"}, {"GET", "/v1/views/per_room"}, {"GET", "/v1/sources"},
	}
	for _, e := range open {
		code, out := do(t, srv, e.method, e.path, "")
		require.Equal(t, http.StatusOK, code, "%s %s: %s", e.method, e.path, out)
	}

	guarded := []struct{ method, path, body string }{
		{"POST", "/v1/sources/likes/events", `[{"room_id": 1, "ts": "2026-01-01T00:00:00Z"}]`},
		{"POST", "/v1/sql", `{"sql": "SELECT 1"}`},
		{"GET", "/v1/views/per_room/subscribe", ""},
		{"POST", "/v1/subscriptions", `{"view": "per_room", "url": "http://127.0.0.1:1/"}`},
		{"GET", "/v1/subscriptions", ""},
		{"DELETE", "/v1/subscriptions/x", ""},
	}
	for _, e := range guarded {
		t.Run(e.method+" "+e.path, func(t *testing.T) {
			resp, out := doH(t, srv, e.method, e.path, e.body)
			requireProblem(t, resp, out, http.StatusUnauthorized, "28000")
			require.Equal(t, `Bearer realm="weir"`, resp.Header.Get("WWW-Authenticate"))

			for _, wrong := range []string{"Bearer " + token + "x", "Bearer " + token[:5], "Basic " + token, token} {
				resp, out = doH(t, srv, e.method, e.path, e.body, "Authorization", wrong)
				requireProblem(t, resp, out, http.StatusUnauthorized, "28000")
				require.Equal(t, `Bearer realm="weir", error="invalid_token"`, resp.Header.Get("WWW-Authenticate"))
			}
		})
	}

	resp, out := doH(t, srv, "POST", "/v1/sources/likes/events", `[{"room_id": 1, "ts": "2026-01-01T00:00:00Z"}]`, "Authorization", "bearer "+token)
	require.Equal(t, http.StatusOK, resp.StatusCode, out, "the scheme is case-insensitive")
	resp, out = doH(t, srv, "GET", "/v1/subscriptions", "", auth...)
	require.Equal(t, http.StatusOK, resp.StatusCode, out)
	resp, out = doH(t, srv, "DELETE", "/v1/subscriptions/x", "", auth...)
	requireProblem(t, resp, out, http.StatusNotFound, "42704")

	// Subscriptions take the header, or ?access_token= for EventSource.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for _, sub := range []struct{ path, header string }{
		{"/v1/views/per_room/subscribe", "Bearer " + token},
		{"/v1/views/per_room/subscribe?access_token=" + token, ""},
	} {
		req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+sub.path, nil)
		require.NoError(t, err)
		if sub.header != "" {
			req.Header.Set("Authorization", sub.header)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		ev := next(t, readEvents(t, resp.Body))
		require.Equal(t, "snapshot", ev.event)
		resp.Body.Close()
	}
	resp, out = doH(t, srv, "GET", "/v1/views/per_room/subscribe?access_token=nope", "")
	requireProblem(t, resp, out, http.StatusUnauthorized, "28000")
	resp, out = doH(t, srv, "POST", "/v1/sql?access_token="+token, `{"sql": "SELECT 1"}`)
	requireProblem(t, resp, out, http.StatusUnauthorized, "28000")
}
