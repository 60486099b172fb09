package pgwire

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"
)

func connectPgx(t testing.TB, ts *testServer, configure func(*pgx.ConnConfig)) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(ts.url(""))
	require.NoError(t, err)
	if configure != nil {
		configure(cfg)
	}
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// typesWant is what pgx scans from SELECT types, in either protocol mode.
type typesScan struct {
	i2     int16
	i4     int32
	i8     int64
	f4     float32
	f8     float64
	num    pgtype.Numeric
	txt    string
	vc     string
	b      bool
	tstz   time.Time
	ts     time.Time
	d      time.Time
	iv     pgtype.Interval
	by     []byte
	jb     map[string]any
	js     map[string]any
	nul    *string
	numInt pgtype.Numeric
	i8s    int64
}

func (s *typesScan) dests() []any {
	return []any{&s.i2, &s.i4, &s.i8, &s.f4, &s.f8, &s.num, &s.txt, &s.vc, &s.b, &s.tstz, &s.ts, &s.d, &s.iv, &s.by,
		&s.jb, &s.js, &s.nul, &s.numInt, &s.i8s}
}

func requireTypes(t *testing.T, s *typesScan) {
	t.Helper()
	require.Equal(t, int16(-2), s.i2)
	require.Equal(t, int32(40000), s.i4)
	require.Equal(t, int64(1)<<40, s.i8)
	require.Equal(t, float32(1.5), s.f4)
	require.Equal(t, 0.1, s.f8)
	require.Equal(t, pgtype.Numeric{Int: big.NewInt(1250), Exp: -2, Valid: true}, s.num)
	require.Equal(t, "héllo", s.txt)
	require.Equal(t, "v", s.vc)
	require.True(t, s.b)
	require.True(t, s.tstz.Equal(time.Date(2026, 1, 1, 12, 0, 0, 500_000_000, time.UTC)), s.tstz)
	require.Equal(t, time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC), s.ts)
	require.Equal(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), s.d)
	require.Equal(t, pgtype.Interval{Months: 14, Days: 3, Microseconds: 4*3600e6 + 5*60e6 + 6e6, Valid: true}, s.iv)
	require.Equal(t, []byte{0xde, 0xad}, s.by)
	require.Equal(t, map[string]any{"a": 1.0}, s.jb)
	require.Equal(t, map[string]any{"b": 2.0}, s.js)
	require.Nil(t, s.nul)
	require.Equal(t, pgtype.Numeric{Int: big.NewInt(7), Valid: true}, s.numInt)
	require.Equal(t, int64(42), s.i8s)
}

func TestPgx(t *testing.T) {
	ts := startServer(t)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			conn := connectPgx(t, ts, func(c *pgx.ConnConfig) { c.DefaultQueryExecMode = mode })
			ctx := t.Context()

			var i8 int64
			require.NoError(t, conn.QueryRow(ctx, "SELECT $1::int8", int64(42)).Scan(&i8))
			require.Equal(t, int64(42), i8)

			t.Run("parameters round trip", func(t *testing.T) {
				at := time.Date(2026, 3, 4, 5, 6, 7, 891000, time.UTC)
				var (
					i4  int32
					f8  float64
					s   string
					b   bool
					tz  time.Time
					f4  float32
					i2  int16
					by  []byte
					num pgtype.Numeric
				)
				err := conn.QueryRow(ctx, "SELECT $1::int4, $2::float8, $3::text, $4::bool, $5::timestamptz, $6::float4, $7::int2, $8::bytea, $9::numeric",
					int32(-7), 2.5, "it's", true, at, float32(0.25), int16(3), []byte{0, 1}, "123.4500").
					Scan(&i4, &f8, &s, &b, &tz, &f4, &i2, &by, &num)
				require.NoError(t, err)
				require.Equal(t, int32(-7), i4)
				require.Equal(t, 2.5, f8)
				require.Equal(t, "it's", s)
				require.True(t, b)
				require.True(t, at.Equal(tz), "%v != %v", at, tz)
				require.Equal(t, float32(0.25), f4)
				require.Equal(t, int16(3), i2)
				require.Equal(t, []byte{0, 1}, by)
				require.Equal(t, pgtype.Numeric{Int: big.NewInt(1234500), Exp: -4, Valid: true}, num)
			})

			t.Run("NULL parameter", func(t *testing.T) {
				var p *int64
				require.NoError(t, conn.QueryRow(ctx, "SELECT $1::int8", nil).Scan(&p))
				require.Nil(t, p)
			})

			t.Run("every type", func(t *testing.T) {
				var s typesScan
				require.NoError(t, conn.QueryRow(ctx, "SELECT types").Scan(s.dests()...))
				requireTypes(t, &s)
			})

			t.Run("many rows", func(t *testing.T) {
				rows, err := conn.Query(ctx, "SELECT series 5000")
				require.NoError(t, err)
				var sum int64
				for rows.Next() {
					var v int64
					require.NoError(t, rows.Scan(&v))
					sum += v
				}
				require.NoError(t, rows.Err())
				require.Equal(t, int64(5000*5001/2), sum)
				require.Equal(t, "SELECT 5000", rows.CommandTag().String())
			})

			t.Run("error with position", func(t *testing.T) {
				_, err := conn.Exec(ctx, "SELECT nope")
				var pgErr *pgconn.PgError
				require.ErrorAs(t, err, &pgErr)
				require.Equal(t, "42703", pgErr.Code)
				require.Equal(t, int32(8), pgErr.Position)
				require.Equal(t, "ERROR", pgErr.Severity)
				// The connection is still usable.
				var one int32
				require.NoError(t, conn.QueryRow(ctx, "SELECT 1").Scan(&one))
			})

			t.Run("command tag", func(t *testing.T) {
				tag, err := conn.Exec(ctx, "INSERT INTO t VALUES (1)")
				require.NoError(t, err)
				require.Equal(t, int64(1), tag.RowsAffected())
			})

			t.Run("transaction", func(t *testing.T) {
				tx, err := conn.Begin(ctx)
				require.NoError(t, err)
				require.Equal(t, byte('T'), conn.PgConn().TxStatus())
				require.NoError(t, tx.Commit(ctx))
				require.Equal(t, byte('I'), conn.PgConn().TxStatus())
			})
		})
	}

	t.Run("simple protocol multi-statement", func(t *testing.T) {
		conn := connectPgx(t, ts, nil)
		results, err := conn.PgConn().Exec(t.Context(), "SELECT 1; SELECT series 3; SET x = 1").ReadAll()
		require.NoError(t, err)
		require.Len(t, results, 3)
		require.Equal(t, [][][]byte{{[]byte("1")}}, results[0].Rows)
		require.Len(t, results[1].Rows, 3)
		require.Equal(t, "SET", results[2].CommandTag.String())
	})

	t.Run("batch pipeline", func(t *testing.T) {
		conn := connectPgx(t, ts, nil)
		b := &pgx.Batch{}
		for i := range 5 {
			b.Queue("SELECT $1::int8", int64(i))
		}
		br := conn.SendBatch(t.Context(), b)
		for i := range 5 {
			var v int64
			require.NoError(t, br.QueryRow().Scan(&v))
			require.Equal(t, int64(i), v)
		}
		require.NoError(t, br.Close())
	})
}

func TestPgxCancel(t *testing.T) {
	ts := startServer(t)
	conn := connectPgx(t, ts, func(c *pgx.ConnConfig) {
		// Cancel through CancelRequest rather than by breaking the socket (pgx's default).
		c.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
			return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: testTimeout}
		}
	})

	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			_, err := conn.Exec(ctx, "SELECT block", mode)
			var pgErr *pgconn.PgError
			require.ErrorAs(t, err, &pgErr, "got %v", err)
			require.Equal(t, "57014", pgErr.Code)
			require.True(t, errors.Is(ctx.Err(), context.DeadlineExceeded))
			<-ts.eng.blocked

			var one int32
			require.NoError(t, conn.QueryRow(t.Context(), "SELECT 1").Scan(&one))
			require.Equal(t, int32(1), one)
		})
	}
}

func TestLibPQ(t *testing.T) {
	ts := startServer(t)
	db, err := sql.Open("postgres", ts.url(""))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	db.SetMaxOpenConns(1)
	ctx := t.Context()

	t.Run("parameters", func(t *testing.T) {
		var (
			i8 int64
			s  string
			b  bool
			tz time.Time
			f8 float64
		)
		at := time.Date(2026, 1, 1, 12, 0, 0, 500_000_000, time.UTC)
		err := db.QueryRowContext(ctx, "SELECT $1::int8, $2::text, $3::bool, $4::timestamptz, $5::float8", 7, "x", true, at, 1e20).
			Scan(&i8, &s, &b, &tz, &f8)
		require.NoError(t, err)
		require.Equal(t, int64(7), i8)
		require.Equal(t, "x", s)
		require.True(t, b)
		require.True(t, at.Equal(tz), "%v != %v", at, tz)
		require.Equal(t, 1e20, f8)
	})

	t.Run("text results", func(t *testing.T) {
		rows, err := db.QueryContext(ctx, "SELECT types")
		require.NoError(t, err)
		cols, err := rows.Columns()
		require.NoError(t, err)
		vals := make([]sql.NullString, len(cols))
		dests := make([]any, len(cols))
		for i := range vals {
			dests[i] = &vals[i]
		}
		require.True(t, rows.Next())
		require.NoError(t, rows.Scan(dests...))
		require.NoError(t, rows.Close())
		got := map[string]string{}
		for i, c := range cols {
			if vals[i].Valid {
				got[c] = vals[i].String
			}
		}
		require.Equal(t, map[string]string{
			"i2": "-2", "i4": "40000", "i8": "1099511627776", "f4": "1.5", "f8": "0.1", "num": "12.50",
			"txt": "héllo", "vc": "v", "b": "true", // lib/pq parses bool text into a Go bool
			"tstz": "2026-01-01T12:00:00.5Z", "ts": "2026-01-01T12:00:00Z", "d": "2026-01-01T00:00:00Z",
			"iv": "1 year 2 mons 3 days 04:05:06", "by": "\xde\xad", "jb": `{"a": 1}`, "js": `{"b":2}`,
			"num_from_int": "7", "i8_from_string": "42",
		}, got)
	})

	t.Run("error", func(t *testing.T) {
		_, err := db.ExecContext(ctx, "SELECT nope")
		var pqErr *pq.Error
		require.ErrorAs(t, err, &pqErr)
		require.Equal(t, "42703", string(pqErr.Code))
		require.Equal(t, "8", pqErr.Position)
		require.Equal(t, `column "nope" does not exist`, pqErr.Message)

		_, err = db.ExecContext(ctx, "SELECT 1; SELECT nope")
		require.ErrorAs(t, err, &pqErr)
		require.Equal(t, "18", pqErr.Position)

		_, err = db.QueryContext(ctx, "SELECT $1::int8", "not a number")
		require.ErrorAs(t, err, &pqErr)
		require.Equal(t, "22P02", string(pqErr.Code))
	})

	t.Run("exec", func(t *testing.T) {
		res, err := db.ExecContext(ctx, "INSERT INTO t VALUES (1)")
		require.NoError(t, err)
		n, err := res.RowsAffected()
		require.NoError(t, err)
		require.Equal(t, int64(1), n)
	})

	t.Run("transaction", func(t *testing.T) {
		tx, err := db.BeginTx(ctx, nil)
		require.NoError(t, err)
		var v int64
		require.NoError(t, tx.QueryRowContext(ctx, "SELECT $1::int8", 3).Scan(&v))
		require.NoError(t, tx.Commit())
	})
}

// BenchmarkSelectRows reads 100k int8 rows through pgx (binary results).
func BenchmarkSelectRows(b *testing.B) {
	ts := startServer(b)
	conn := connectPgx(b, ts, nil)
	for b.Loop() {
		rows, err := conn.Query(b.Context(), "SELECT series 100000")
		require.NoError(b, err)
		n := 0
		for rows.Next() {
			n++
		}
		require.NoError(b, rows.Err())
		require.Equal(b, 100000, n)
	}
}

// TestPsql runs libpq's psql, when installed: SSLRequest declined, simple queries, text
// output exactly as PostgreSQL prints it.
func TestPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Fatal("psql not found: install postgresql-client-15 (.ci/run does)")
	}
	ts := startServer(t)
	host, port, err := net.SplitHostPort(ts.addr)
	require.NoError(t, err)
	dsn := fmt.Sprintf("host=%s port=%s user=weir dbname=weir sslmode=prefer", host, port)
	out, err := exec.CommandContext(t.Context(), psql, "-X", "-A", "-t", "-d", dsn,
		"-c", "SELECT types", "-c", "SELECT 1; SELECT series 2").CombinedOutput()
	require.NoError(t, err, string(out))
	require.Equal(t, `-2|40000|1099511627776|1.5|0.1|12.50|héllo|v|t|2026-01-01 12:00:00.5+00|2026-01-01 12:00:00|2026-01-01|1 year 2 mons 3 days 04:05:06|\xdead|{"a": 1}|{"b":2}||7|42
1
1
2
`, string(out))

	out, err = exec.CommandContext(t.Context(), psql, "-X", "-d", dsn, "-c", "SELECT nope").CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), `ERROR:  column "nope" does not exist`)
	require.Contains(t, string(out), "LINE 1: SELECT nope\n"+strings.Repeat(" ", len("LINE 1: SELECT "))+"^")
}
