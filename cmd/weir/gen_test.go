package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/livegen"
	"github.com/weirdb/weir/queries"
)

// genArgs generate 15 s of event time at 200 events/s, unpaced, from a fixed start.
var genArgs = []string{"--fast", "--rate", "200", "--duration", "15s", "--rooms", "20", "--users", "300",
	"--seed", "3", "--start", "2026-03-01T20:00:00Z"}

// genExpected is what genArgs generate: events per source.
func genExpected(t *testing.T) map[string]int {
	t.Helper()
	cfg := livegen.DefaultConfig()
	cfg.Rate, cfg.Rooms, cfg.Users, cfg.Seed = 200, 20, 300, 3
	cfg.Start = time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)
	g, err := livegen.New(cfg)
	require.NoError(t, err)
	want := map[string]int{}
	for g.Now().Before(cfg.Start.Add(15 * time.Second)) {
		want[g.Next().Source]++
	}
	want[livegen.ViewerEvents] += len(g.LeaveAll()) // the viewers leave at the end
	return want
}

// TestGenToServer writes to a live server over HTTP and over COPY: every event and
// table row arrives, and the views fill.
func TestGenToServer(t *testing.T) {
	want := genExpected(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, mode := range []string{"http", "copy"} {
		t.Run(mode, func(t *testing.T) {
			d, pgAddr, httpAddr := genServer(t)
			args := append([]string{"--http", httpAddr}, genArgs...)
			if mode == "copy" {
				args = append([]string{"--copy", "--pg", pgAddr}, genArgs...)
			}
			require.NoError(t, gen(args, io.Discard, logger))
			s := d.NewSession(nil)
			defer s.Close()
			for src, n := range want {
				require.Equal(t, []string{strconv.Itoa(n)}, query(t, s, "SELECT count(*) FROM "+src), src)
			}
			require.Equal(t, []string{"300"}, query(t, s, "SELECT count(*) FROM users"))
			require.Equal(t, []string{"20|20"}, query(t, s, "SELECT count(*), count(DISTINCT anchor_id) FROM rooms"))
			require.Equal(t, []string{"0"}, query(t, s, "SELECT count(*) FROM weir_late_events"))
			require.NotEmpty(t, query(t, s, "SELECT * FROM top_gifters"))
			require.NotEmpty(t, query(t, s, "SELECT * FROM trending_rooms"))
		})
	}
}

func genServer(t *testing.T) (*db.DB, string, string) {
	t.Helper()
	d, srv := applyServer(t)
	require.NoError(t, applyDB(t.Context(), d, queries.Files, io.Discard, slog.New(slog.NewTextHandler(io.Discard, nil))))
	return d, srv.PGAddr(), srv.HTTPAddr()
}

func TestGenStdout(t *testing.T) {
	want := genExpected(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var out bytes.Buffer
	require.NoError(t, gen(append([]string{"--stdout"}, genArgs...), &out, logger))
	got := map[string]int{}
	sc := bufio.NewScanner(&out)
	sawEvent := false
	for sc.Scan() {
		var line struct {
			Table, Source string
			Row           map[string]any
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), sc.Text())
		require.NotEmpty(t, line.Row)
		if line.Table != "" {
			require.False(t, sawEvent, "tables come first")
			got[line.Table]++
			continue
		}
		sawEvent = true
		got[line.Source]++
		_, err := time.Parse(time.RFC3339Nano, line.Row["ts"].(string))
		require.NoError(t, err)
	}
	want["anchors"], want["rooms"], want["users"] = 20, 20, 300
	require.Equal(t, want, got)

	// --source: bare rows of one source, what POST /v1/sources/comments/events takes.
	out.Reset()
	require.NoError(t, gen(append([]string{"--stdout", "--source", "comments"}, genArgs...), &out, logger))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, want["comments"])
	var row map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &row))
	require.ElementsMatch(t, []string{"room_id", "user_id", "body", "ts"}, mapKeysAny(row))

	require.ErrorContains(t, gen([]string{"--stdout", "--source", "nope"}, &out, logger), `no source "nope"`)
	require.ErrorIs(t, gen([]string{"--rate", "0"}, &out, logger), livegen.ErrInvalidRate)
}

func mapKeysAny(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
