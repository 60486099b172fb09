package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/server"
)

// TestApply runs `weir apply` against a live server twice: the second run finds every
// object and skips it.
func TestApply(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(t.Context(), db.Config{Dir: t.TempDir()}, logger)
	require.NoError(t, err)
	defer d.Close()
	srv, err := server.Start(server.Config{PGAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, d, logger)
	require.NoError(t, err)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "01_src.sql"), []byte(`
-- a source; semicolons in strings are not statement ends
CREATE SOURCE ev (k bigint NOT NULL, note text);
INSERT INTO ev VALUES (1, 'a;b');`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "02_view.sql"), []byte(`
CREATE MATERIALIZED VIEW ev_count AS SELECT k, count(*) AS n FROM ev GROUP BY k;`), 0o644))
	require.NoError(t, apply([]string{"--pg", srv.PGAddr(), dir}, logger))
	require.Len(t, d.Catalog().List(0), 2)
	// Re-applying skips what exists (42P07) but re-runs the INSERT, which is not DDL.
	require.NoError(t, apply([]string{"--pg", srv.PGAddr(), dir}, logger))
	s := d.NewSession(nil)
	require.Equal(t, []string{"|1|2"}, query(t, s, "SELECT * FROM ev_count"))
	require.Error(t, apply([]string{"--pg", srv.PGAddr(), filepath.Join(dir, "missing.sql")}, logger))
}
