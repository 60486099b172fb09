package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
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
	cfg.BackfillRows = 4200      // 1,200 events of history more than the COPY workload's
	cfg.PackDuration = 0         // TestPack runs it
	cfg.Peers = !testing.Short() // PostgreSQL's initdb takes seconds
	cfg.TempDir = t.TempDir()
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	rep, err := Run(t.Context(), cfg)
	require.NoError(t, err)

	systems := 2 // Weir with reads, Weir's COPY alone
	if cfg.Peers {
		systems = 6 // PostgreSQL without views, refreshing after every batch and every second; DuckDB
	}
	require.Len(t, rep.Ingest, systems)
	alone := rep.ingest(copyAloneSystem)
	require.NotNil(t, alone)
	require.Zero(t, alone.ReadSeconds, "nothing is read between the COPYs")
	if cfg.Peers {
		r := rep.ingest("PostgreSQL: COPY, REFRESH ×3 every")
		require.NotNil(t, r)
		require.Positive(t, r.BatchP50Ms, "staleness of a batch in the 1-second refresh peer")
		require.Positive(t, r.RefreshSeconds)
	}
	for _, r := range rep.Ingest {
		require.Equal(t, int64(cfg.Events), r.Events, r.System)
		require.Positive(t, r.EventsPerSec, r.System)
		if r.ReadSeconds == 0 && r.RefreshSeconds == 0 {
			require.Zero(t, r.VisibleP99Ms, "%s keeps no views", r.System)
		} else {
			require.Positive(t, r.VisibleP99Ms, "%s: ack → visible", r.System)
			require.LessOrEqual(t, r.VisibleP50Ms, r.VisibleP99Ms, r.System)
			require.Less(t, r.VisibleP99Ms, r.BatchP99Ms, "%s: the COPY precedes the acknowledgement", r.System)
		}
	}
	require.NotNil(t, rep.State)
	require.NotEmpty(t, rep.State.Operators)
	require.Len(t, rep.Freshness, 2)
	require.Len(t, rep.AggState, 2*len(aggStateCases)-1, "one and ten rows per group, count(*) once")
	// A join keeps both sides' rows, a TopN all its rows, count(DISTINCT) its 100 groups
	// and every distinct value.
	require.Len(t, rep.OpState, len(opStateCases))
	for i, want := range []int64{2 * int64(cfg.AggGroups), int64(cfg.AggGroups), 100 + int64(cfg.AggGroups)} {
		require.Equal(t, want, rep.OpState[i].StateRows, rep.OpState[i].Operator)
	}
	require.Len(t, rep.Backfill, len(backfillViews)*(1+2*btoi(cfg.Peers)))
	for _, b := range rep.Backfill {
		require.Equal(t, int64(cfg.BackfillRows), b.Rows, "%s %s", b.System, b.View) // category_totals counted them
		// PostgreSQL's CPU counts in clock ticks of 10 ms, too coarse for this history.
		if b.System != "PostgreSQL" {
			require.Positive(t, b.CPUSecPerMRows, "%s %s", b.System, b.View)
			require.Positive(t, b.PeakRSSBytes, "%s %s", b.System, b.View)
		}
	}
	require.Len(t, rep.Nexmark, len(nexQueries))
	// Weir's source and pass-through view, and PostgreSQL's table, in text and binary.
	require.Len(t, rep.Stream, len(streamFormats)*(2+btoi(cfg.Peers)))
	for _, s := range rep.Stream {
		require.Equal(t, int64(cfg.Events), s.Rows, "%s %s %s", s.System, s.Relation, s.Format)
		require.Positive(t, s.Bytes, "%s %s %s", s.System, s.Relation, s.Format)
	}
	for _, q := range rep.Nexmark {
		if q.Query == "q6" {
			require.Empty(t, q.Error, "q6 (window avg over ROWS 10 PRECEDING) runs on Weir")
			require.Positive(t, q.ResultRows, "q6 result rows")
			for _, p := range q.Peers {
				t.Logf("q6: Weir %d rows, %s %d rows (error %q)", q.ResultRows, p.System, p.ResultRows, p.Error)
			}
		}
		if q.Error != "" {
			continue // reported as not supported
		}
		require.Positive(t, q.Weir.VisibleP99Ms, "%s: ack → visible", q.Query)
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
	require.Contains(t, md.String(), "| TopN | row_number() ≤ 3")
	require.Contains(t, md.String(), "### Streaming result rows to a client")
	require.Contains(t, md.String(), "### Backfill: a new view over the 4200 events already loaded")
	require.Contains(t, md.String(), "the COPY workload's 3000 events and 1200 more")
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

// TestWriteStream renders the streaming section and issue #6's targets: ratios against
// PostgreSQL in the same format, met or not, and a run without PostgreSQL.
func TestWriteStream(t *testing.T) {
	ingest := []IngestResult{{System: "Weir", Events: 2_000_000, Batches: 40, EventsPerSec: 1_200_000, LoadSeconds: 1}}
	stream := func(system, relation, format string, rowsPerSec float64) StreamResult {
		return StreamResult{System: system, Relation: relation, Format: format, Runs: 3, Rows: 1_000_000,
			Bytes: 48_000_000, Seconds: 1e6 / rowsPerSec, RowsPerSec: rowsPerSec, MBPerSec: 48 * rowsPerSec / 1e6, CPUSecPerMRows: 1.5}
	}
	for _, tc := range []struct {
		name     string
		rep      Report
		contains []string
		excludes []string
	}{
		{
			name: "with PostgreSQL",
			rep: Report{Config: ReportConfig{Events: 2_000_000, StreamRows: 1_000_000}, Ingest: ingest, Stream: []StreamResult{
				stream("Weir", "source events", "text", 1_000_000),
				stream("Weir", "source events", "binary", 3_000_000),
				stream("PostgreSQL", "table events", "text", 2_000_000),
				stream("PostgreSQL", "table events", "binary", 2_000_000),
			}},
			contains: []string{
				"### Streaming result rows to a client",
				"`SELECT room_id, user_id, amount, ts FROM events LIMIT 1000000`",
				"| Weir | source events | text | 1.0M | 1.000 | 1.00M | 48.0 | 0.50× | 1.50 |",
				"| Weir | source events | binary | 1.0M | 0.333 | 3.00M | 144.0 | 1.50× | 1.50 |",
				"| PostgreSQL | table events | text | 1.0M | 0.500 | 2.00M | 96.0 | — | 1.50 |",
				"### Issue #6's targets",
				"| streaming 1M result rows to pgx at least as fast as PostgreSQL 15 (text) | 0.50× (Weir 1.00M rows/s, PostgreSQL 2.00M rows/s) | **no** |",
				"| streaming 1M result rows to pgx at least as fast as PostgreSQL 15 (binary) | 1.50× (Weir 3.00M rows/s, PostgreSQL 2.00M rows/s) | yes |",
				"| COPY FROM STDIN ingest ≥ 1,000,000 rows/s into a source with three views | 1.20M rows/s with the views read back after each batch (COPY acknowledgements alone: 2.00M rows/s) | yes |",
			},
		},
		{
			name: "without PostgreSQL",
			rep: Report{Config: ReportConfig{Events: 200_000, StreamRows: 1_000_000}, Stream: []StreamResult{
				stream("Weir", "source events", "binary", 900_000),
			}},
			contains: []string{
				"| streaming 1M result rows to pgx at least as fast as PostgreSQL 15 (binary) | Weir 900.0k rows/s; PostgreSQL not run | — |",
			},
			excludes: []string{"(text)", "COPY FROM STDIN", "Issue #9"},
		},
		{
			name: "COPY alone",
			rep: Report{Ingest: append(slices.Clone(ingest),
				IngestResult{System: copyAloneSystem, Events: 2_000_000, Batches: 40, EventsPerSec: 900_000, LoadSeconds: 2.2})},
			contains: []string{
				"| COPY FROM STDIN ingest ≥ 1,000,000 rows/s into a source with three views | 900.0k rows/s (40 COPYs back to back, " +
					"each acknowledged once the views hold it; 1.20M events/s when all three views are also read back after each) | **no** |",
				"| Weir, COPY alone | 900.0k | — |",
			},
		},
		{
			name:     "nothing streamed",
			rep:      Report{Ingest: ingest},
			excludes: []string{"### Streaming", "streaming 1M"},
			contains: []string{"### Issue #6's targets"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var md bytes.Buffer
			tc.rep.WriteMarkdown(&md)
			for _, s := range tc.contains {
				require.Contains(t, md.String(), s)
			}
			for _, s := range tc.excludes {
				require.NotContains(t, md.String(), s)
			}
			var js bytes.Buffer
			require.NoError(t, tc.rep.JSON(&js))
			var back Report
			require.NoError(t, json.Unmarshal(js.Bytes(), &back))
			require.Equal(t, tc.rep.Stream, back.Stream)
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// packConfig is a configuration that runs only workload (a), for d, sampled every second.
func packConfig(t *testing.T, d time.Duration) Config {
	cfg := DefaultConfig()
	cfg.Events, cfg.Batches = 300, 1
	cfg.Rooms, cfg.Users = 20, 200
	cfg.AggGroups, cfg.StreamRows, cfg.Nexmark = 0, 0, 0
	cfg.Freshness, cfg.Backfill, cfg.Peers = 0, false, false
	cfg.PackDuration, cfg.PackSample = d, time.Second
	cfg.TempDir = t.TempDir()
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	return cfg
}

// TestPack runs workload (a) for a few seconds: the generator must have written events
// through COPY, the sampler taken samples, and the views' totals matched the sink's.
func TestPack(t *testing.T) {
	cfg := packConfig(t, 3*time.Second)
	rep, err := Run(t.Context(), cfg)
	require.NoError(t, err)

	pk := rep.Pack
	require.NotNil(t, pk)
	require.Positive(t, pk.Events)
	require.Positive(t, pk.EventsPerSec)
	require.Positive(t, pk.CPUSecPerMEvents)
	require.GreaterOrEqual(t, len(pk.Samples), 2)
	last := pk.Samples[len(pk.Samples)-1]
	require.Equal(t, pk.Events, last.Events)
	require.Positive(t, last.LiveHeapBytes)
	require.Positive(t, last.StateRows)
	require.Positive(t, last.ReadMs)
	require.NotEmpty(t, pk.Views)
	require.Positive(t, last.ViewRows)
	require.Positive(t, last.GoBytes)
	require.NotEmpty(t, last.StoreBytes)
	require.Len(t, pk.Checks, 4)
	for _, c := range pk.Checks {
		require.Positive(t, c.Want, c.Query)
		require.Equal(t, c.Want, c.Got, c.Query)
	}
	require.Positive(t, pk.SecondHalf.Seconds)
	// The probe's markers are comments too: the checks above count them.
	f := pk.Freshness
	require.NotNil(t, f)
	require.Equal(t, "room_activity", f.View)
	require.Positive(t, f.Markers)
	require.Positive(t, f.P99Ms)
	require.LessOrEqual(t, f.P50Ms, f.P99Ms)
	require.Contains(t, pk.Checks[0].What, "freshness probe")
	// The checkpoint after the pack's DDL at least.
	require.Positive(t, pk.Checkpoints)
	require.Positive(t, pk.CheckpointBytes)
	require.Positive(t, pk.CheckpointHeldMaxMs)
	require.LessOrEqual(t, pk.CheckpointHeldMaxMs, pk.CheckpointMaxMs)

	var md bytes.Buffer
	rep.WriteMarkdown(&md)
	require.Contains(t, md.String(), "### Live-room pack under `weir gen` traffic")
	require.Contains(t, md.String(), "Freshness while the generator ran: ack → visible p50")
	require.Contains(t, md.String(), "Checkpoints by the end of the run: ")
	require.Contains(t, md.String(), "| memory flat over a 30-minute windowed run | live heap ")
	require.Contains(t, md.String(), fmt.Sprintf("not measured at this length (%.1f min)", pk.Seconds/60))
	var js bytes.Buffer
	require.NoError(t, rep.JSON(&js))
	var back Report
	require.NoError(t, json.Unmarshal(js.Bytes(), &back))
	require.Equal(t, pk.Events, back.Pack.Events)
	require.Len(t, back.Pack.Samples, len(pk.Samples))
}

// TestPackViews runs workload (a) on some of the pack's views: the others are dropped
// before the generator starts, and only the checks of the views kept run.
func TestPackViews(t *testing.T) {
	cfg := packConfig(t, 2*time.Second)
	cfg.PackViews = []string{"trending_rooms", "room_minute", "room_score_5m"}
	rep, err := Run(t.Context(), cfg)
	require.NoError(t, err)
	pk := rep.Pack
	require.Equal(t, []string{"room_minute", "room_score_5m", "trending_rooms"}, pk.Views) // in creation order
	require.Len(t, pk.Checks, 1)
	require.Contains(t, pk.Checks[0].Query, "FROM room_minute")
	require.Positive(t, pk.Checks[0].Want)
	require.Equal(t, "room_minute", pk.Freshness.View, "room_activity was dropped")
	require.Positive(t, pk.Freshness.Markers)
	var md bytes.Buffer
	rep.WriteMarkdown(&md)
	require.Contains(t, md.String(), "keeping only room_minute, room_score_5m, trending_rooms")
	require.Contains(t, md.String(), "run of the live-room pack's views room_minute, room_score_5m, trending_rooms;")

	cfg.PackViews = []string{"room_minute", "no_such_view"}
	_, err = Run(t.Context(), cfg)
	require.ErrorContains(t, err, `the pack has no view "no_such_view"`)
}

// TestNexmarkQueries runs only the Nexmark queries named, and refuses a name that is
// not one of q0…q8.
func TestNexmarkQueries(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Events, cfg.Batches = 300, 1
	cfg.AggGroups, cfg.StreamRows, cfg.PackDuration = 0, 0, 0
	cfg.Freshness, cfg.Backfill, cfg.Peers = 0, false, false
	cfg.Nexmark, cfg.NexmarkBatches = 1000, 2
	cfg.NexmarkQueries = []string{"q1", "q0"}
	cfg.TempDir = t.TempDir()
	cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	rep, err := Run(t.Context(), cfg)
	require.NoError(t, err)
	require.Len(t, rep.Nexmark, 2)
	require.Equal(t, "q0", rep.Nexmark[0].Query) // in q0…q8 order
	require.Equal(t, "q1", rep.Nexmark[1].Query)
	for _, q := range rep.Nexmark {
		require.Empty(t, q.Error)
		require.Positive(t, q.ResultRows)
	}

	cfg.NexmarkQueries = []string{"q0", "q9"}
	require.ErrorIs(t, cfg.Validate(), ErrInvalidConfig)
	_, err = Run(t.Context(), cfg)
	require.ErrorContains(t, err, "unknown Nexmark query")
}

// TestHistory: the backfill's extra history continues the COPY workload's events, and
// the freshness workload's event time starts after the last of them.
func TestHistory(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Events, cfg.BackfillRows, cfg.Rooms, cfg.Users = 100, 250, 20, 200
	all := genEvents(cfg.BackfillRows, cfg.Rooms, cfg.Users, cfg.Seed)
	r := &runner{cfg: cfg, events: genEvents(cfg.Events, cfg.Rooms, cfg.Users, cfg.Seed)}
	require.Equal(t, all[:100], r.events)
	require.Equal(t, all[100:], r.history())
	require.Equal(t, int64(250), r.backfillRows())
	require.Equal(t, all[249].TS, r.lastTS())

	r.cfg.Backfill = false
	require.Empty(t, r.history())
	require.Equal(t, r.events[99].TS, r.lastTS())
}

// TestSecondHalfTrend: the second half's growth is the rise of a least-squares line
// through its samples: exact for a steady rise, a share of a lone spike in the last
// sample, and nothing from the first half.
func TestSecondHalfTrend(t *testing.T) {
	var ss []PackSample
	for i := range 21 { // every 30 s for 600 s
		s := PackSample{ElapsedSec: float64(30 * i), LiveHeapBytes: 100 << 20, StateRows: 1000 + 10*int64(i), ViewRows: 5}
		if i < 10 {
			s.LiveHeapBytes = 10 << 20 // the first half does not count
		}
		ss = append(ss, s)
	}
	ss[20].LiveHeapBytes = 150 << 20 // one spike at the end
	g := secondHalf(ss)
	require.Equal(t, 300.0, g.Seconds)
	require.Equal(t, 11, g.Samples)
	require.Equal(t, int64(100), g.StateRows, "10 rows every 30 s")
	require.InDelta(t, 100*100/1100.0, g.StateRowsPct, 1e-9)
	require.Zero(t, g.ViewRows)
	// The spike's share: 50 MiB at the last of 11 points, 150 s past their mean, moves
	// the slope by 50 MiB × 150 / Σ(x - 450)² = 50 MiB × 150 / 99,000 per second: a rise
	// of 22.7 MiB over the 300 s, not 50.
	require.InDelta(t, 50*150/99_000.0*300*(1<<20), float64(g.LiveHeapBytes), 1<<10)
	require.Less(t, g.LiveHeapPct, 25.0)
}
