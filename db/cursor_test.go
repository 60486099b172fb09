package db_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

// cursorServer starts Weir with a table of 25 numbers and a view over it, and returns a
// pgx connection and the server's address.
func cursorServer(t *testing.T) (conn *pgx.Conn, host, port string) {
	t.Helper()
	host, port = startCatalogServer(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://weir@%s:%s/weir?sslmode=disable", host, port))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	var vals []string
	for i := 1; i <= 25; i++ {
		vals = append(vals, fmt.Sprintf("(%d)", i))
	}
	for _, s := range []string{`CREATE TABLE nums (n bigint PRIMARY KEY)`,
		`INSERT INTO nums VALUES ` + strings.Join(vals, ", "),
		`CREATE MATERIALIZED VIEW big AS SELECT n FROM nums WHERE n > 0`} {
		_, err := conn.Exec(ctx, s)
		require.NoError(t, err, s)
	}
	return conn, host, port
}

func fetchInts(t *testing.T, conn *pgx.Conn, sql string) []int64 {
	t.Helper()
	rows, err := conn.Query(t.Context(), sql)
	require.NoError(t, err, sql)
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err, sql)
	if out == nil {
		out = []int64{}
	}
	return out
}

func span(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func requireCode(t *testing.T, err error, code string) {
	t.Helper()
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe), "want SQLSTATE %s, got %v", code, err)
	require.Equal(t, code, pe.Code, pe.Message)
}

// TestCursorSelect: DECLARE / FETCH / MOVE / CLOSE over a query, inside and outside a
// transaction block, as psql's FETCH_COUNT and Tableau use them.
func TestCursorSelect(t *testing.T) {
	conn, _, _ := cursorServer(t)
	ctx := t.Context()
	exec := func(sql string) string {
		t.Helper()
		tag, err := conn.Exec(ctx, sql)
		require.NoError(t, err, sql)
		return tag.String()
	}
	exec(`BEGIN`)
	require.Equal(t, "DECLARE CURSOR", exec(`DECLARE _psql_cursor NO SCROLL CURSOR FOR SELECT n FROM big ORDER BY n`))
	require.Equal(t, span(1, 10), fetchInts(t, conn, `FETCH FORWARD 10 FROM _psql_cursor`))
	require.Equal(t, span(11, 20), fetchInts(t, conn, `FETCH 10 IN _psql_cursor`))
	require.Equal(t, span(21, 21), fetchInts(t, conn, `FETCH NEXT FROM _psql_cursor`))
	require.Equal(t, "MOVE 2", exec(`MOVE 2 _psql_cursor`))
	require.Equal(t, span(24, 25), fetchInts(t, conn, `FETCH ALL _psql_cursor`))
	require.Equal(t, []int64{}, fetchInts(t, conn, `FETCH FORWARD 10 FROM _psql_cursor`))
	require.Equal(t, "CLOSE CURSOR", exec(`CLOSE _psql_cursor`))
	exec(`COMMIT`)

	// Tableau: one simple Query holding BEGIN, a quoted WITH HOLD cursor and a FETCH; the
	// cursor outlives COMMIT. Outside a transaction block DECLARE works too (autocommit).
	res, err := conn.PgConn().Exec(ctx, `BEGIN;declare "SQL_CUR0x1" cursor with hold for SELECT n * 2 AS twice FROM nums WHERE n <= 5 ORDER BY n;fetch 3 in "SQL_CUR0x1"`).ReadAll()
	require.NoError(t, err)
	require.Len(t, res, 3)
	require.Equal(t, "FETCH 3", res[2].CommandTag.String())
	require.Equal(t, "twice", string(res[2].FieldDescriptions[0].Name))
	require.Equal(t, uint32(20), res[2].FieldDescriptions[0].DataTypeOID)
	exec(`COMMIT`)
	require.Equal(t, []int64{8, 10}, fetchInts(t, conn, `FETCH 2048 IN "SQL_CUR0x1"`))
	exec(`DECLARE a CURSOR FOR SELECT n FROM nums ORDER BY n`)
	exec(`DECLARE b CURSOR WITHOUT HOLD FOR SELECT n FROM nums ORDER BY n DESC`)
	require.Equal(t, []int64{1, 2}, fetchInts(t, conn, `FETCH 2 a`))
	require.Equal(t, []int64{25}, fetchInts(t, conn, `FETCH b`))
	require.Equal(t, "CLOSE CURSOR ALL", exec(`CLOSE ALL`))

	_, err = conn.Exec(ctx, `FETCH 1 FROM a`)
	requireCode(t, err, "34000")
	_, err = conn.Exec(ctx, `CLOSE nosuch`)
	requireCode(t, err, "34000")
	exec(`DECLARE d CURSOR FOR SELECT 1`)
	_, err = conn.Exec(ctx, `DECLARE d CURSOR FOR SELECT 2`)
	requireCode(t, err, "42P03")
	_, err = conn.Exec(ctx, `FETCH BACKWARD 1 FROM d`)
	requireCode(t, err, "55000")
	_, err = conn.Exec(ctx, `DECLARE e SCROLL CURSOR FOR SELECT 1`)
	requireCode(t, err, "0A000")
	_, err = conn.Exec(ctx, `DECLARE e CURSOR FOR INSERT INTO nums VALUES (99)`)
	requireCode(t, err, "42P11")
	_, err = conn.Exec(ctx, `DECLARE e CURSOR FOR SELECT nosuch FROM nums`)
	require.Error(t, err)
}

// TestCursorSubscribe: DECLARE c CURSOR FOR SUBSCRIBE view; FETCH n c [WITH (timeout)]
// returns the snapshot, then the changes as they come, waiting for the first one.
func TestCursorSubscribe(t *testing.T) {
	conn, host, port := cursorServer(t)
	ctx := t.Context()
	writer, err := pgx.Connect(ctx, fmt.Sprintf("postgres://weir@%s:%s/weir?sslmode=disable", host, port))
	require.NoError(t, err)
	defer writer.Close(context.Background())

	_, err = conn.Exec(ctx, `BEGIN`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `DECLARE c CURSOR FOR SUBSCRIBE big`)
	require.NoError(t, err)
	type change struct{ ts, diff, n int64 }
	fetch := func(sql string) []change {
		t.Helper()
		rows, err := conn.Query(ctx, sql)
		require.NoError(t, err, sql)
		require.Equal(t, []string{"weir_ts", "weir_diff", "n"}, fieldNames(rows.FieldDescriptions()))
		out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (change, error) {
			var c change
			return c, r.Scan(&c.ts, &c.diff, &c.n)
		})
		require.NoError(t, err, sql)
		return out
	}
	snap := fetch(`FETCH 10 c WITH (timeout = '1s')`)
	require.Len(t, snap, 10)
	rest := fetch(`FETCH ALL FROM c WITH (timeout = '1s')`)
	require.Len(t, rest, 15)
	for _, ch := range append(snap, rest...) {
		require.Equal(t, int64(1), ch.diff)
	}

	// Nothing new: the timeout bounds the wait.
	start := time.Now()
	require.Empty(t, fetch(`FETCH 10 c WITH (timeout = '200ms')`))
	require.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
	require.Empty(t, fetch(`FETCH 10 c WITH (timeout = 0)`))

	// A FETCH waiting for the first change returns as soon as one comes.
	deleted := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, err := writer.Exec(context.Background(), `DELETE FROM nums WHERE n = 3`)
		deleted <- err
	}()
	start = time.Now()
	got := fetch(`FETCH 10 c`)
	require.Less(t, time.Since(start), 5*time.Second)
	require.Len(t, got, 1)
	require.Equal(t, int64(-1), got[0].diff)
	require.Equal(t, int64(3), got[0].n)
	require.Greater(t, got[0].ts, snap[0].ts)
	require.NoError(t, <-deleted)

	_, err = writer.Exec(ctx, `INSERT INTO nums VALUES (30), (31)`)
	require.NoError(t, err)
	got = fetch(`FETCH 1 c WITH (timeout = '5s')`)
	require.Len(t, got, 1)
	got = append(got, fetch(`FETCH 10 c WITH (timeout = '5s')`)...)
	require.ElementsMatch(t, []int64{30, 31}, []int64{got[0].n, got[1].n})
	_, err = conn.Exec(ctx, `CLOSE c`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `COMMIT`)
	require.NoError(t, err)

	// Cancelling a FETCH that waits ends it with 57014 and leaves the cursor usable.
	_, err = conn.Exec(ctx, `DECLARE c2 CURSOR FOR SUBSCRIBE big`)
	require.NoError(t, err)
	require.Len(t, fetch(`FETCH ALL c2 WITH (timeout = '1s')`), 26)
	go func() {
		time.Sleep(300 * time.Millisecond)
		conn.PgConn().CancelRequest(context.Background())
	}()
	_, err = conn.Exec(ctx, `FETCH 1 c2`)
	requireCode(t, err, "57014")
	require.False(t, conn.IsClosed())
	require.Empty(t, fetch(`FETCH 1 c2 WITH (timeout = '10ms')`))
}

func fieldNames(fds []pgconn.FieldDescription) []string {
	var out []string
	for _, f := range fds {
		out = append(out, f.Name)
	}
	return out
}

// TestCursorPsqlFetchCount: psql with FETCH_COUNT reads a view through a cursor
// (BEGIN; DECLARE _psql_cursor NO SCROLL CURSOR FOR …; FETCH FORWARD 10 …; CLOSE; COMMIT).
func TestCursorPsqlFetchCount(t *testing.T) {
	if _, err := os.Stat(psqlPath); err != nil {
		t.Skip("psql is not installed")
	}
	_, host, port := cursorServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, psqlPath, "-X", "-v", "ON_ERROR_STOP=1", "-v", "FETCH_COUNT=10", "-h", host, "-p", port,
		"-U", "weir", "-At", "weir", "-c", `SELECT n FROM big ORDER BY n`)
	c.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PAGER=", "PSQL_PAGER=", "PGOPTIONS=", "PGPASSWORD=")
	out, err := c.CombinedOutput()
	require.NoError(t, err, string(out))
	var want []string
	for i := 1; i <= 25; i++ {
		want = append(want, fmt.Sprint(i))
	}
	require.Equal(t, strings.Join(want, "\n")+"\n", string(out))

	// The same with the aligned format, and \set in the session.
	c = exec.CommandContext(ctx, psqlPath, "-X", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", port, "-U", "weir", "weir")
	c.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PAGER=", "PSQL_PAGER=", "PGOPTIONS=", "PGPASSWORD=")
	c.Stdin = strings.NewReader("\\set FETCH_COUNT 10\nSELECT n FROM big WHERE n <= 12 ORDER BY n;\nSELECT 1 AS after;\n")
	out, err = c.CombinedOutput()
	require.NoError(t, err, string(out))
	require.NotContains(t, string(out), "ERROR")
	require.Contains(t, string(out), "(12 rows)")
	require.Contains(t, string(out), "after")
}
