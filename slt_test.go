package weir_test

import (
	"context"
	"github.com/jackc/pgx/v5"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/pgtest"
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

// connectServer starts a server (startServer) and connects pgx to it as weir; the
// connection closes at the end of the test. Client tests skip under -short.
func connectServer(t *testing.T) (*server.Server, *pgx.Conn) {
	t.Helper()
	if testing.Short() {
		t.Skip("client tests run in the full suite")
	}
	srv := startServer(t)
	conn, err := pgx.Connect(t.Context(), "postgres://weir@"+srv.PGAddr()+"/weir?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return srv, conn
}

// TestSLT runs every testdata/slt script on two targets, each script on a fresh one: the
// in-process Weir server over the wire (TestSLT/weir/<file>), and PostgreSQL 15 with sources
// as tables and materialized views refreshed before each query (TestSLT/postgres/<file>),
// the independent engine that checks the expectations (STYLE §2.7). Records where the two
// legitimately differ carry "onlyif weir" or "skipif postgres" with a comment saying why.
func TestSLT(t *testing.T) {
	if testing.Short() {
		t.Skip("slt scripts run in the full suite (make test)")
	}
	files, err := filepath.Glob("testdata/slt/*.slt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no slt scripts found: %v", err)
	}
	t.Run("weir", func(t *testing.T) {
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
	})
	t.Run(slt.PostgresName, func(t *testing.T) {
		for _, f := range files {
			t.Run(filepath.Base(f), func(t *testing.T) {
				pg := pgtest.Start(t)
				target, err := slt.NewPGTarget(t.Context(), pg.DSN())
				if err != nil {
					t.Fatal(err)
				}
				defer target.Close(context.Background())
				slt.RunFile(t, target, f)
			})
		}
	})
}
