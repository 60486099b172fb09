package weir_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestSubscribeSnapshotOption checks SUBSCRIBE's SNAPSHOT option through a SUBSCRIBE
// cursor: by default the first FETCH returns the view's contents (weir_diff +1 each);
// WITH (SNAPSHOT = false) it returns nothing until the view changes, then the change.
func TestSubscribeSnapshotOption(t *testing.T) {
	ctx := t.Context()
	_, conn := connectServer(t)
	for _, q := range []string{
		`CREATE TABLE items (id bigint PRIMARY KEY, room bigint)`,
		`CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n FROM items GROUP BY room`,
		`INSERT INTO items VALUES (1, 7), (2, 7)`,
		`DECLARE snap CURSOR FOR SUBSCRIBE per_room`,
		`DECLARE changes CURSOR FOR SUBSCRIBE TO per_room WITH (SNAPSHOT = false)`,
		`DECLARE changes2 CURSOR FOR SUBSCRIBE per_room WITH (snapshot = 'off')`,
	} {
		_, err := conn.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	fetch := func(cursor string) []string {
		rows, err := conn.Query(ctx, `FETCH ALL `+cursor+` WITH (timeout = '300ms')`)
		require.NoError(t, err)
		var out []string
		for rows.Next() {
			var ts, diff, room, n int64
			require.NoError(t, rows.Scan(&ts, &diff, &room, &n))
			out = append(out, strings.Join([]string{itoa(diff), itoa(room), itoa(n)}, " "))
		}
		require.NoError(t, rows.Err())
		return out
	}
	require.Equal(t, []string{"1 7 2"}, fetch("snap"))
	require.Empty(t, fetch("changes"))
	require.Empty(t, fetch("changes2"))
	_, err := conn.Exec(ctx, `INSERT INTO items VALUES (3, 7)`)
	require.NoError(t, err)
	want := []string{"-1 7 2", "1 7 3"}
	for _, c := range []string{"snap", "changes", "changes2"} {
		got := fetch(c)
		require.ElementsMatch(t, want, got, c)
	}

	for _, bad := range []string{
		`SUBSCRIBE per_room WITH (snapshot = maybe)`,
		`SUBSCRIBE per_room WITH (progress = true)`,
		`SUBSCRIBE per_room WITH (snapshot = false, snapshot = true)`,
	} {
		_, err := conn.Exec(ctx, bad)
		require.Error(t, err, bad)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// TestCopySubscribe streams COPY (SUBSCRIBE view) TO STDOUT: through pgx's CopyTo until
// its context is cancelled, and through the real psql (COPY and \copy) until SIGINT
// makes psql cancel it. Each line is weir_ts, weir_diff and the view's columns; the
// snapshot comes first, then each change as it happens.
func TestCopySubscribe(t *testing.T) {
	if testing.Short() {
		t.Skip("client tests run in the full suite")
	}
	ctx := t.Context()
	srv := startServer(t)
	dsn := "postgres://weir@" + srv.PGAddr() + "/weir?sslmode=disable"
	conn, err := pgx.Connect(ctx, dsn)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	for _, q := range []string{
		`CREATE TABLE items (id bigint PRIMARY KEY, room bigint, price numeric)`,
		`CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n, sum(price) AS total FROM items GROUP BY room`,
		`INSERT INTO items VALUES (1, 7, 1.50)`,
	} {
		_, err := conn.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	nextID := int64(100)
	insert := func() {
		nextID++
		_, err := conn.Exec(ctx, `INSERT INTO items VALUES ($1, 7, 2)`, nextID)
		require.NoError(t, err)
	}

	t.Run("pgx", func(t *testing.T) {
		c2, err := pgx.Connect(ctx, dsn)
		require.NoError(t, err)
		defer c2.Close(context.Background())
		lines := newLineWaiter()
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() {
			_, err := c2.PgConn().CopyTo(cctx, lines, `COPY (SUBSCRIBE per_room) TO STDOUT`)
			done <- err
		}()
		first := lines.wait(t, 1)
		require.Regexp(t, `^\d+\t1\t7\t1\t1.50$`, first[0])
		insert()
		got := lines.wait(t, 3)
		require.ElementsMatch(t, []string{"-1\t7\t1\t1.50", "1\t7\t2\t3.50"}, dropTS(got[1:3]))
		cancel()
		select {
		case err := <-done:
			require.Error(t, err, "a cancelled COPY ends with an error")
		case <-time.After(10 * time.Second):
			t.Fatal("CopyTo did not return after its context was cancelled")
		}
		// The subscription is gone; the server serves the next connection as usual.
		var n int
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM per_room`).Scan(&n))
		require.Equal(t, 1, n)
	})

	for _, cmd := range []string{`COPY (SUBSCRIBE per_room) TO STDOUT`, `\copy (subscribe per_room with (snapshot = false)) to stdout`} {
		t.Run("psql "+cmd, func(t *testing.T) {
			if _, err := os.Stat(psqlBinary); err != nil {
				t.Fatalf("psql is required for this test: %v", err)
			}
			host, port, _ := strings.Cut(srv.PGAddr(), ":")
			// psql writes COPY data through stdio, block-buffered into a pipe: stdbuf makes
			// it line-buffered, so each change shows as it comes.
			c := exec.CommandContext(ctx, "stdbuf", "-oL", psqlBinary, "-X", "-h", host, "-p", port, "-U", "weir", "weir", "-c", cmd)
			lines := newLineWaiter()
			var stderr bytes.Buffer
			c.Stdout, c.Stderr = lines, &stderr
			require.NoError(t, c.Start())
			snapshot := !strings.Contains(cmd, "snapshot = false")
			have := 0
			if snapshot {
				require.Regexp(t, `^\d+\t1\t7\t\d+\t[0-9.]+$`, lines.wait(t, 1)[0])
				have = 1
			}
			// Without a snapshot nothing tells when psql's COPY has started: insert until
			// a change shows.
			insert()
			for !snapshot && !lines.has(2, 200*time.Millisecond) {
				insert()
			}
			got := lines.wait(t, have+2)
			require.Len(t, dropTS(got[have:have+2]), 2)
			for _, l := range got[have : have+2] {
				require.Regexp(t, `^\d+\t-?1\t7\t\d+\t[0-9.]+$`, l)
			}
			require.NoError(t, c.Process.Signal(syscall.SIGINT)) // psql sends a CancelRequest
			err := c.Wait()
			require.Error(t, err, "psql exits with an error after the cancel")
			require.Contains(t, stderr.String(), "canceling statement due to user request")
		})
	}
}

const psqlBinary = "/usr/bin/psql"

// dropTS removes the first (weir_ts) field of each COPY line.
func dropTS(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		_, rest, _ := strings.Cut(l, "\t")
		out[i] = rest
	}
	return out
}

// lineWaiter is an io.Writer collecting lines that a test can wait for.
type lineWaiter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines []string
	more  chan struct{}
}

func newLineWaiter() *lineWaiter { return &lineWaiter{more: make(chan struct{}, 1)} }

func (w *lineWaiter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	sc := bufio.NewScanner(bytes.NewReader(w.buf.Bytes()))
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if b := w.buf.Bytes(); len(b) > 0 && b[len(b)-1] != '\n' && len(lines) > 0 {
		lines = lines[:len(lines)-1]
	}
	w.lines = lines
	select {
	case w.more <- struct{}{}:
	default:
	}
	return len(p), nil
}

// has reports whether there are n lines within d.
func (w *lineWaiter) has(n int, d time.Duration) bool {
	deadline := time.After(d)
	for {
		w.mu.Lock()
		k := len(w.lines)
		w.mu.Unlock()
		if k >= n {
			return true
		}
		select {
		case <-w.more:
		case <-deadline:
			return false
		}
	}
}

// wait returns the lines once there are at least n, failing the test after 10 s.
func (w *lineWaiter) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		w.mu.Lock()
		lines := append([]string(nil), w.lines...)
		w.mu.Unlock()
		if len(lines) >= n {
			return lines
		}
		select {
		case <-w.more:
		case <-deadline:
			t.Fatalf("waited for %d lines, have %q", n, lines)
		}
	}
}

var _ io.Writer = (*lineWaiter)(nil)
