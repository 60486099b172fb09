package bench

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRunSmoke runs the whole harness at toy sizes: every phase must complete and every
// view must be current after every batch (runBatches checks the totals). No timing is
// asserted: benchmarks are not tests.
func TestRunSmoke(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Events, cfg.Batches = 3000, 3
	cfg.Rooms, cfg.Users = 20, 200
	cfg.AggGroups = 1000
	cfg.Freshness = 300 * time.Millisecond
	cfg.Nexmark, cfg.NexmarkBatches = 1500, 2
	cfg.Peers = !testing.Short() // PostgreSQL's initdb takes seconds
	cfg.TempDir = t.TempDir()
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	rep, err := Run(t.Context(), cfg)
	require.NoError(t, err)

	systems := 1
	if cfg.Peers {
		systems = 4
	}
	require.Len(t, rep.Ingest, systems)
	for _, r := range rep.Ingest {
		require.Equal(t, int64(cfg.Events), r.Events, r.System)
		require.Positive(t, r.EventsPerSec, r.System)
	}
	require.NotNil(t, rep.State)
	require.NotEmpty(t, rep.State.Operators)
	require.Len(t, rep.Freshness, 2)
	require.Len(t, rep.AggState, 5)
	require.Len(t, rep.Backfill, len(backfillViews)*(1+2*btoi(cfg.Peers)))
	require.Len(t, rep.Nexmark, len(nexQueries))
	for _, q := range rep.Nexmark {
		if q.Error != "" {
			continue // reported as not supported
		}
		for _, p := range q.Peers {
			if p.Error == "" {
				require.Equal(t, p.ResultRows, q.ResultRows, "%s: Weir and %s disagree on the result", q.Query, p.System)
			}
		}
	}

	var md bytes.Buffer
	rep.WriteMarkdown(&md)
	require.Contains(t, md.String(), "| Weir |")
	require.Contains(t, md.String(), "### Nexmark")
	var js bytes.Buffer
	require.NoError(t, rep.JSON(&js))
	var back Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	require.Equal(t, rep.Ingest[0].Events, back.Ingest[0].Events)
}

// TestUpdateMarkdownFile keeps the hand-written text around the generated part.
func TestUpdateMarkdownFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	rep := &Report{Ingest: []IngestResult{{System: "Weir", Events: 10, Batches: 1, EventsPerSec: 5}}}
	require.NoError(t, rep.UpdateMarkdownFile(path))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(b), "# Benchmarks\n"))

	hand := "# Benchmarks\n\nintro\n\n" + beginMarker + "\nold numbers\n" + endMarker + "\n\n## Where the time goes\n\nanalysis\n"
	require.NoError(t, os.WriteFile(path, []byte(hand), 0o644))
	require.NoError(t, rep.UpdateMarkdownFile(path))
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	s := string(b)
	require.NotContains(t, s, "old numbers")
	require.True(t, strings.HasPrefix(s, "# Benchmarks\n\nintro\n\n"+beginMarker))
	require.True(t, strings.HasSuffix(s, endMarker+"\n\n## Where the time goes\n\nanalysis\n"), s)
	require.Contains(t, s, "| Weir |")
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
