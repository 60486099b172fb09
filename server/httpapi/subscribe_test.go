package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/server/httpapi"
)

type sseEvent struct {
	id, event string
	data      map[string]any
}

// readEvents reads SSE events from r into a channel until r ends.
func readEvents(t *testing.T, r io.Reader) <-chan sseEvent {
	ch := make(chan sseEvent, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				if err := json.Unmarshal([]byte(line[6:]), &ev.data); err != nil {
					t.Errorf("bad data %q: %v", line, err)
				}
			}
		}
	}()
	return ch
}

func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		require.True(t, ok, "stream ended")
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return sseEvent{}
}

func open(t *testing.T, ctx context.Context, url, lastID string) <-chan sseEvent {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	require.NoError(t, err)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	t.Cleanup(func() { resp.Body.Close() })
	return readEvents(t, resp.Body)
}

func TestSubscribe(t *testing.T) {
	srv, d := newServer(t, httpapi.Config{}, db.Config{History: 3})
	mustSQL(t, srv,
		`CREATE SOURCE likes (room bigint NOT NULL, n bigint NOT NULL)`,
		`CREATE MATERIALIZED VIEW per_room AS SELECT room, sum(n) AS total FROM likes GROUP BY room`)
	ingest := func(body string) {
		code, resp := do(t, srv, "POST", "/v1/sources/likes/events", body)
		require.Equal(t, http.StatusOK, code, resp)
	}
	ingest(`[{"room": 1, "n": 5}, {"room": 2, "n": 1}]`)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	all := open(t, ctx, srv.URL+"/v1/views/per_room/subscribe", "")
	room2 := open(t, ctx, srv.URL+"/v1/views/per_room/subscribe?where=room=2", "")

	snap := next(t, all)
	require.Equal(t, "snapshot", snap.event)
	require.Equal(t, "initial", snap.data["reason"])
	require.Len(t, snap.data["rows"], 2)
	require.Len(t, next(t, room2).data["rows"], 1)

	ingest(`[{"room": 1, "n": 2}]`)
	diff := next(t, all)
	require.Equal(t, "diff", diff.event)
	require.Equal(t, diff.id, jsonNumber(diff.data["tick"]))
	changes := diff.data["changes"].([]any)
	require.Len(t, changes, 2) // retract total 5, insert total 7
	ingest(`[{"room": 2, "n": 3}]`)
	d2 := next(t, room2)
	require.Equal(t, "diff", d2.event, "the room-2 stream skipped the room-1 tick")
	last := next(t, all).id

	// Resuming from the last seen tick replays only what came after it.
	ingest(`[{"room": 3, "n": 1}]`)
	resumed := open(t, ctx, srv.URL+"/v1/views/per_room/subscribe", last)
	ev := next(t, resumed)
	require.Equal(t, "diff", ev.event)
	require.Len(t, ev.data["changes"], 1)

	// A tick older than the kept history gets a fresh snapshot instead.
	ingest(`[{"room": 4, "n": 1}]`)
	ingest(`[{"room": 5, "n": 1}]`)
	ingest(`[{"room": 6, "n": 1}]`)
	fresh := open(t, ctx, srv.URL+"/v1/views/per_room/subscribe", last)
	ev = next(t, fresh)
	require.Equal(t, "snapshot", ev.event)
	require.Equal(t, "resume_gap", ev.data["reason"], "a fresh snapshot is marked as such")
	require.Len(t, ev.data["rows"], 6)

	// A subscriber that does not read is cut off once its buffer is full; others go on.
	sub, _, _, err := d.Subscribe("per_room", 0, 2)
	require.NoError(t, err)
	for i := 0; i < 4; i++ {
		ingest(`[{"room": 9, "n": 1}]`)
	}
	drained := 0
	for range sub.C {
		drained++
	}
	require.Equal(t, 2, drained)
	require.Error(t, sub.Err())
	require.Equal(t, "diff", next(t, all).event, "the fast subscriber still gets every tick")

	code, _ := do(t, srv, "GET", "/v1/views/nope/subscribe", "")
	require.Equal(t, http.StatusNotFound, code)
	code, _ = do(t, srv, "GET", "/v1/views/per_room/subscribe?where=nope=1", "")
	require.Equal(t, http.StatusBadRequest, code)
	none := open(t, ctx, srv.URL+"/v1/views/per_room/subscribe?where=room=2&where=room=3", "")
	require.Empty(t, next(t, none).data["rows"], "where parameters all apply")
}

func jsonNumber(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
