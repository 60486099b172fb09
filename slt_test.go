package weir_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/slt"
	"github.com/weirdb/weir/server"
)

// startServer boots a Weir server in-process on loopback ports chosen by the kernel.
func startServer(t *testing.T) *server.Server {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(t.Context(), db.Config{Dir: t.TempDir()}, logger)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(server.Config{PGAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, d, logger)
	if err != nil {
		d.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		d.Close()
	})
	return srv
}

// TestSLT runs every testdata/slt script against a fresh in-process server over the wire.
func TestSLT(t *testing.T) {
	if testing.Short() {
		t.Skip("slt scripts run in the full suite (make test)")
	}
	files, err := filepath.Glob("testdata/slt/*.slt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no slt scripts found: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			srv := startServer(t)
			target, err := slt.NewPGXTarget(t.Context(), "postgres://weir@"+srv.PGAddr()+"/weir?sslmode=disable", "weir")
			if err != nil {
				t.Fatal(err)
			}
			defer target.Close(context.Background())
			slt.RunFile(t, target, f)
		})
	}
}
