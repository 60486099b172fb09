package weir_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// externalClientTimeout bounds one client program, JVM start-up and javac included.
const externalClientTimeout = 3 * time.Minute

// TestExternalClients runs the client programs under testdata/clients against one real
// server: psycopg 3, pgJDBC and node-postgres, each doing DDL, parameterised queries, a
// cursor or SUBSCRIBE, and a cancel (issue #6). A missing runtime fails the test and names
// the package to install: .ci/run installs them all, so a skip would hide a broken CI.
func TestExternalClients(t *testing.T) {
	if testing.Short() {
		t.Skip("client tests run in the full suite")
	}
	srv := startServer(t)
	addr := srv.PGAddr()
	host, port, _ := strings.Cut(addr, ":")
	dsn := "postgres://weir@" + addr + "/weir?sslmode=disable"

	t.Run("python", func(t *testing.T) {
		const python = "/usr/bin/python3"
		if out, err := exec.CommandContext(t.Context(), python, "-c", "import psycopg").CombinedOutput(); err != nil {
			t.Fatalf("psycopg 3 for %s is missing (apt-get install python3-psycopg): %v\n%s", python, err, out)
		}
		runClient(t, python, "testdata/clients/python/client.py", dsn)
	})

	t.Run("java", func(t *testing.T) {
		const jar = "/usr/share/java/postgresql.jar"
		if _, err := os.Stat(jar); err != nil {
			t.Fatalf("pgJDBC is missing (apt-get install libpostgresql-jdbc-java): %v", err)
		}
		for _, tool := range []string{"javac", "java"} {
			if _, err := exec.LookPath(tool); err != nil {
				t.Fatalf("%s is missing (apt-get install default-jdk-headless): %v", tool, err)
			}
		}
		classes := t.TempDir()
		ctx, cancel := context.WithTimeout(t.Context(), externalClientTimeout)
		defer cancel()
		javac := exec.CommandContext(ctx, "javac", "-d", classes, "-cp", jar, "testdata/clients/java/Client.java")
		if out, err := javac.CombinedOutput(); err != nil {
			t.Fatalf("javac: %v\n%s", err, out)
		}
		url := "jdbc:postgresql://" + host + ":" + port + "/weir?user=weir&sslmode=disable"
		runClient(t, "java", "-cp", classes+string(filepath.ListSeparator)+jar, "Client", url)
	})

	t.Run("node", func(t *testing.T) {
		if _, err := exec.LookPath("node"); err != nil {
			t.Fatalf("node is missing (apt-get install nodejs npm): %v", err)
		}
		if _, err := os.Stat("testdata/clients/node/node_modules/pg-cursor"); err != nil {
			t.Fatalf("node-postgres is not installed: run npm ci --prefix testdata/clients/node (as .ci/run does): %v", err)
		}
		runClient(t, "node", "testdata/clients/node/client.js", dsn)
	})
}

// runClient runs one client program to its end and fails the test with its output if it
// exits non-zero or outlives externalClientTimeout.
func runClient(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), externalClientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = 5 * time.Second // a child's child must not hold the output pipe open
	out, err := cmd.CombinedOutput()
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("%s did not finish within %v\n%s", name, externalClientTimeout, out)
		}
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
	t.Logf("%s\n%s", name, out)
}
