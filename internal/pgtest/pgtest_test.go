package pgtest_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"

	"github.com/weirdb/weir/internal/pgtest"
)

func TestStart(t *testing.T) {
	var (
		port int
		dsn  string
	)
	t.Run("running", func(t *testing.T) {
		c := pgtest.Start(t)
		port, dsn = c.Port(), c.DSN()
		if !strings.Contains(dsn, fmt.Sprintf("127.0.0.1:%d", port)) {
			t.Fatalf("DSN %q does not name port %d", dsn, port)
		}

		db, err := sql.Open("postgres", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var version string
		if err := db.QueryRowContext(t.Context(), "SELECT version()").Scan(&version); err != nil {
			t.Fatalf("SELECT version(): %v", err)
		}
		if !strings.Contains(version, "PostgreSQL 15") {
			t.Fatalf("version() = %q, want PostgreSQL 15", version)
		}
		var fsync string
		if err := db.QueryRowContext(t.Context(), "SHOW fsync").Scan(&fsync); err != nil {
			t.Fatal(err)
		}
		if fsync != "off" {
			t.Errorf("fsync = %q, want off", fsync)
		}
		// What Weir does, so scripts print the same on both: bytewise text order, UTC.
		for setting, want := range map[string]string{
			"lc_collate":      "C",
			"lc_ctype":        "C",
			"server_encoding": "UTF8",
			"TimeZone":        "UTC",
			"DateStyle":       "ISO, MDY",
		} {
			var got string
			if err := db.QueryRowContext(t.Context(), "SELECT current_setting($1)", setting).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s = %q, want %q", setting, got, want)
			}
		}
	})

	// The subtest's cleanup has stopped the server: nothing listens on its port any more.
	t.Run("stopped", func(t *testing.T) {
		if port == 0 {
			t.Skip("server did not start")
		}
		conn, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			conn.Close()
			t.Fatalf("port %d still accepts connections after cleanup", port)
		}
		db, err := sql.Open("postgres", dsn+"&connect_timeout=2")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err == nil {
			t.Fatal("ping succeeded after cleanup")
		}
	})
}

// Two clusters run side by side, as packages under go test ./... do.
func TestStartTwo(t *testing.T) {
	a, b := pgtest.Start(t), pgtest.Start(t)
	if a.Port() == b.Port() {
		t.Fatalf("both clusters on port %d", a.Port())
	}
	for _, c := range []*pgtest.Cluster{a, b} {
		db, err := sql.Open("postgres", c.DSN())
		if err != nil {
			t.Fatal(err)
		}
		if err := db.PingContext(t.Context()); err != nil {
			t.Errorf("ping %s: %v", c.DSN(), err)
		}
		db.Close()
	}
}
