package main

import (
	"context"
	"io"
	"log/slog"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/queries"
)

// TestDemoPack applies the live-room pack, runs the demo traffic briefly, and checks
// every view against DuckDB's batch answer to the view's own query, so `make run`
// cannot rot.
func TestDemoPack(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(t.Context(), db.Config{Dir: t.TempDir()}, logger)
	require.NoError(t, err)
	defer d.Close()
	require.NoError(t, applyLocal(t.Context(), d, queries.Files, logger))
	// Applying twice is harmless: the pack uses IF NOT EXISTS.
	require.NoError(t, applyLocal(t.Context(), d, queries.Files, logger))

	ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
	defer cancel()
	require.NoError(t, runTraffic(ctx, d, 5000, logger))

	s := d.NewSession(nil)
	views := d.Catalog().List(3) // catalog.View
	require.NotEmpty(t, views)
	for _, v := range views {
		got := query(t, s, "SELECT * FROM "+v.Name)
		want := query(t, s, v.Query)
		require.NotEmpty(t, got, v.Name)
		require.Equal(t, want, got, v.Name)
	}
}

func query(t *testing.T, s *db.Session, q string) []string {
	t.Helper()
	p, err := s.Prepare(context.Background(), q, nil)
	require.NoError(t, err, q)
	rows, err := p.Execute(context.Background(), nil)
	require.NoError(t, err, q)
	defer rows.Close()
	dst := make([]any, len(rows.Columns()))
	var out []string
	for rows.Next(dst) {
		out = append(out, fmtRow(dst))
	}
	require.NoError(t, rows.Err())
	sort.Strings(out)
	return out
}

func fmtRow(vals []any) string {
	s := ""
	for _, v := range vals {
		s += "|" + fmtVal(v)
	}
	return s
}
