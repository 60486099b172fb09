package server_test

import (
	"math/rand/v2"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// BenchmarkStreamPgx measures a pgx client reading 1M rows of (bigint, bigint, bigint,
// timestamptz) from a Weir source, and from a pass-through view of it, and scanning
// every row, as internal/bench/stream.go does for issue #6: text (simple protocol) and
// binary (extended protocol, pgx's default). Run with -benchtime=3x; each iteration is
// one full read. cpu-s/op is the process's: server, DuckDB and client.
func BenchmarkStreamPgx(b *testing.B) {
	conn := connect(b, startWeir(b))
	var err error
	_, err = conn.Exec(b.Context(), `CREATE SOURCE events (room_id bigint NOT NULL, user_id bigint NOT NULL, amount bigint NOT NULL, ts timestamptz NOT NULL)`)
	require.NoError(b, err)
	const n = 1_000_000
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{r.Int64N(1000) + 1, r.Int64N(100000) + 1, r.Int64N(1000) + 1, base.Add(time.Duration(i) * time.Millisecond)}
	}
	got, err := conn.CopyFrom(b.Context(), pgx.Identifier{"events"}, []string{"room_id", "user_id", "amount", "ts"}, pgx.CopyFromRows(rows))
	require.NoError(b, err)
	require.Equal(b, int64(n), got)
	rows = nil

	_, err = conn.Exec(b.Context(), `CREATE MATERIALIZED VIEW events_passthrough AS SELECT room_id, user_id, amount, ts FROM events`)
	require.NoError(b, err)
	// The first read flushes the loaded rows into the view store: not part of any run.
	_, err = conn.Exec(b.Context(), `SELECT count(*) FROM events_passthrough`)
	require.NoError(b, err)
	for _, f := range []struct {
		name string
		mode pgx.QueryExecMode
		from string
	}{
		{"text", pgx.QueryExecModeSimpleProtocol, "events"},
		{"binary", pgx.QueryExecModeCacheStatement, "events"},
		{"view/text", pgx.QueryExecModeSimpleProtocol, "events_passthrough"},
		{"view/binary", pgx.QueryExecModeCacheStatement, "events_passthrough"},
		// The same rows without the LIMIT: DuckDB 1.5 plans a plain LIMIT above
		// late_materialization_max_rows (50) as a semi-join of the table with the rowids
		// of a limited scan, then a sort by rowid (late materialization), all computed
		// before the first row goes out.
		{"nolimit/text", pgx.QueryExecModeSimpleProtocol, "events"},
		{"nolimit/binary", pgx.QueryExecModeCacheStatement, "events"},
	} {
		q := "SELECT room_id, user_id, amount, ts FROM " + f.from
		if !strings.HasPrefix(f.name, "nolimit/") {
			q += " LIMIT 1000000"
		}
		b.Run(f.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			var first time.Duration // time to the first row, summed
			for b.Loop() {
				var (
					room, user, amount int64
					ts                 time.Time
					count              int
				)
				// One destination slice for all rows, as internal/bench/stream.go: Scan's
				// variadic ...any otherwise costs the client an allocation per row.
				dst := []any{&room, &user, &amount, &ts}
				t0 := time.Now()
				res, err := conn.Query(b.Context(), q, f.mode)
				require.NoError(b, err)
				for res.Next() {
					if count == 0 {
						first += time.Since(t0)
					}
					if err := res.Scan(dst...); err != nil {
						b.Fatal(err)
					}
					count++
				}
				require.NoError(b, res.Err())
				require.Equal(b, n, count)
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
			b.ReportMetric(first.Seconds()*1000/float64(b.N), "first-row-ms")
		})
	}
}

// cpuTime is the CPU time (user and system) of the process so far: the server, its
// DuckDB threads and the pgx client together.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSmallRead measures a read of one row, the other end of ad-hoc reads: what
// a read costs beyond its rows (planning, DuckDB, the hand-over of rows to the wire).
func BenchmarkSmallRead(b *testing.B) {
	conn := connect(b, startWeir(b))
	for _, q := range []string{`CREATE TABLE kv (k bigint PRIMARY KEY, v text)`, `INSERT INTO kv VALUES (1, 'one'), (2, 'two')`} {
		_, err := conn.Exec(b.Context(), q)
		require.NoError(b, err)
	}
	b.ReportAllocs()
	var v string
	for b.Loop() {
		require.NoError(b, conn.QueryRow(b.Context(), `SELECT v FROM kv WHERE k = $1`, int64(2)).Scan(&v))
	}
}
