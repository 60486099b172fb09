package db_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
)

// The differential test: the same DDL and DML go to Weir and to an independent DuckDB
// database; after every batch of random writes, every view must equal DuckDB's answer
// to the view's SELECT over its own copy of the data.

var oracleSchema = []string{
	`CREATE TABLE t1 (k bigint PRIMARY KEY, g integer, v bigint, s text)`,
	`CREATE TABLE t2 (k bigint PRIMARY KEY, g integer, w double precision)`,
}

// source e is append-only in Weir; DuckDB holds it as a plain table.
var oracleSources = []string{`CREATE SOURCE e (g integer NOT NULL, v bigint)`}
var oracleSourcesDuck = []string{`CREATE TABLE e (g integer NOT NULL, v bigint)`}

var oracleViews = map[string]string{
	"agg_all":    `SELECT g, count(*) AS n, sum(v) AS sv, min(v) AS mn, max(v) AS mx, count(DISTINCT v) AS dv, count(v) AS cv FROM t1 GROUP BY g`,
	"agg_having": `SELECT g, avg(v)::float8 AS av FROM t1 WHERE v > 10 GROUP BY g HAVING count(*) > 1`,
	"join_tt":    `SELECT t1.g, count(*) AS n, sum(t2.w) AS sw FROM t1 JOIN t2 ON t1.g = t2.g GROUP BY t1.g`,
	"by_text":    `SELECT s, max(v) AS mx, min(s) AS ms FROM t1 GROUP BY s`,
	"global":     `SELECT count(*) AS n, sum(v) AS sv, max(v) AS mx FROM t1`,
	"distinct_g": `SELECT DISTINCT g FROM t1`,
	"project":    `SELECT k, v * 2 + 1 AS x, coalesce(s, 'none') AS s2 FROM t1 WHERE s LIKE 'a%' OR v IS NULL`,
	"src_table":  `SELECT e.g, count(*) AS n, sum(e.v) AS sv FROM e JOIN t2 ON e.g = t2.k GROUP BY e.g`,
	"src_self":   `SELECT a.g, count(*) AS n FROM e a JOIN e b ON a.g = b.g AND a.v < b.v GROUP BY a.g`,
	"bag":        `SELECT g, v FROM e WHERE g < 3`,
	"case_expr":  `SELECT CASE WHEN v > 50 THEN 'big' WHEN v > 20 THEN 'mid' ELSE 'small' END AS size, count(*) AS n FROM t1 GROUP BY 1`,
	"comma_join": `SELECT t1.k, t2.w FROM t1, t2 WHERE t1.k = t2.k AND t2.w > 0.5`,
	// Aggregates over a source joined with tables: the source's side is aggregated below
	// the join (planner/eager.go), also on the right, through a filter, globally and at
	// each join of a chain.
	"eager_aggs": `SELECT t2.g, count(*) AS n, count(e.v) AS cv, sum(e.v) AS sv, min(e.v) AS mn, max(e.v) AS mx,
		count(DISTINCT e.g) AS dg, sum(e.g * 2) AS sg FROM e JOIN t2 ON e.g = t2.k GROUP BY t2.g`,
	"eager_where":  `SELECT t1.s, sum(e.v) AS sv, count(*) AS n FROM e JOIN t1 ON e.g = t1.g WHERE e.g <> 3 AND t1.v > 5 GROUP BY t1.s`,
	"eager_right":  `SELECT t2.g, sum(e.v) AS sv, count(*) AS n FROM t2 JOIN e ON t2.k = e.g GROUP BY t2.g`,
	"eager_global": `SELECT sum(e.v) AS sv, max(e.v) AS mx FROM e JOIN t2 ON e.g = t2.k`,
	"global_count": `SELECT count(*) AS n, sum(e.v) AS sv FROM e JOIN t2 ON e.g = t2.k`,
	"eager_chain":  `SELECT t1.s, sum(e.g) AS sg, sum(e.v) AS sv, count(*) AS n, min(e.v) AS mn FROM e JOIN t2 ON e.g = t2.k JOIN t1 ON t2.g = t1.g GROUP BY t1.s`,
}

// openWithOracle opens a durable Weir and an in-memory DuckDB, closed at the test's end;
// both runs a statement on each.
func openWithOracle(t *testing.T) (d *db.DB, s *db.Session, oracle *sql.DB, both func(q string)) {
	t.Helper()
	d, err := db.Open(context.Background(), db.Config{Dir: t.TempDir()}, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	s = d.NewSession(nil)
	oracle, err = sql.Open("duckdb", "")
	require.NoError(t, err)
	t.Cleanup(func() { oracle.Close() })
	oracle.SetMaxOpenConns(1)
	return d, s, oracle, func(q string) {
		t.Helper()
		weirExec(t, s, q)
		_, err := oracle.ExecContext(context.Background(), q)
		require.NoError(t, err, q)
	}
}

func TestDifferentialOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("oracle test runs in the full suite (make test)")
	}
	ctx := context.Background()
	_, s, oracle, both := openWithOracle(t)

	for _, q := range oracleSchema {
		both(q)
	}
	for i, q := range oracleSources {
		weirExec(t, s, q)
		_, err := oracle.ExecContext(ctx, oracleSourcesDuck[i])
		require.NoError(t, err)
	}
	// Half the views exist before any data (incremental from the start), half are created
	// after the first batches (backfill from history, then incremental).
	names := make([]string, 0, len(oracleViews))
	for n := range oracleViews {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names[:len(names)/2] {
		weirExec(t, s, "CREATE MATERIALIZED VIEW "+n+" AS "+oracleViews[n])
	}
	rng := rand.New(rand.NewPCG(42, uint64(time.Now().UnixNano()%1000)))
	t.Logf("seed stream %d", rng.Uint64())
	const batches = 60
	for batch := 0; batch < batches; batch++ {
		if batch == 10 {
			for _, n := range names[len(names)/2:] {
				weirExec(t, s, "CREATE MATERIALIZED VIEW "+n+" AS "+oracleViews[n])
			}
		}
		for _, q := range randomWrites(rng) {
			both(q)
		}
		for _, n := range names {
			if batch < 10 && n >= names[len(names)/2] {
				continue
			}
			got := weirRows(t, s, "SELECT * FROM "+n)
			want := duckRows(t, oracle, oracleViews[n])
			require.Equal(t, want, got, "batch %d view %s: %s", batch, n, oracleViews[n])
		}
	}
}

func randomWrites(rng *rand.Rand) []string {
	var out []string
	val := func() string {
		if rng.IntN(8) == 0 {
			return "NULL"
		}
		return strconv.Itoa(rng.IntN(100))
	}
	str := func() string {
		if rng.IntN(8) == 0 {
			return "NULL"
		}
		return "'" + []string{"a", "ab", "b", "abc", "c"}[rng.IntN(5)] + "'"
	}
	n := 1 + rng.IntN(4)
	for i := 0; i < n; i++ {
		switch rng.IntN(7) {
		case 0, 1:
			var rows []string
			for j := 0; j < 1+rng.IntN(5); j++ {
				rows = append(rows, fmt.Sprintf("(%d, %d, %s, %s)", rng.IntN(40), rng.IntN(6), val(), str()))
			}
			out = append(out, "INSERT INTO t1 VALUES "+dedupKeys(rows)+" ON CONFLICT (k) DO UPDATE SET g = excluded.g, v = excluded.v, s = excluded.s")
		case 2:
			var rows []string
			for j := 0; j < 1+rng.IntN(4); j++ {
				rows = append(rows, fmt.Sprintf("(%d, %d, %g)", rng.IntN(20), rng.IntN(6), float64(rng.IntN(100))/100))
			}
			out = append(out, "INSERT INTO t2 VALUES "+dedupKeys(rows)+" ON CONFLICT (k) DO UPDATE SET w = excluded.w, g = excluded.g")
		case 3:
			out = append(out, fmt.Sprintf("UPDATE t1 SET v = v + %d WHERE k %% 7 = %d", rng.IntN(30)-10, rng.IntN(7)))
		case 4:
			out = append(out, fmt.Sprintf("DELETE FROM t1 WHERE k %% 9 = %d", rng.IntN(9)))
		case 5:
			var rows []string
			for j := 0; j < 1+rng.IntN(6); j++ {
				rows = append(rows, fmt.Sprintf("(%d, %s)", rng.IntN(8), val()))
			}
			out = append(out, "INSERT INTO e VALUES "+strings.Join(rows, ", "))
		case 6:
			out = append(out, fmt.Sprintf("DELETE FROM t2 WHERE k = %d", rng.IntN(20)))
		}
	}
	return out
}

// dedupKeys keeps the first row per leading key, as one INSERT must not touch a key twice.
func dedupKeys(rows []string) string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		k := strings.SplitN(r[1:], ",", 2)[0]
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return strings.Join(out, ", ")
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func weirExec(t testing.TB, s *db.Session, q string) {
	t.Helper()
	p, err := s.Prepare(context.Background(), q, nil)
	require.NoError(t, err, q)
	rows, err := p.Execute(context.Background(), nil)
	require.NoError(t, err, q)
	rows.Close()
}

func weirRows(t testing.TB, s *db.Session, q string) []string {
	t.Helper()
	return readRows(t, s, q, nil, false)
}

// readRows runs q with args and returns its rows as text, sorted unless ordered.
func readRows(t testing.TB, s *db.Session, q string, args []any, ordered bool) []string {
	t.Helper()
	ctx := context.Background()
	p, err := s.Prepare(ctx, q, nil)
	require.NoError(t, err, q)
	rows, err := p.Execute(ctx, args)
	require.NoError(t, err, q)
	defer rows.Close()
	var out []string
	dst := make([]any, len(rows.Columns()))
	for rows.Next(dst) {
		out = append(out, canonRow(dst))
	}
	require.NoError(t, rows.Err(), q)
	if !ordered {
		sort.Strings(out)
	}
	return out
}

func duckRows(t *testing.T, oracle *sql.DB, q string) []string {
	t.Helper()
	rows, err := oracle.Query(q)
	require.NoError(t, err, q)
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		out = append(out, canonRow(vals))
	}
	sort.Strings(out)
	return out
}

// canonRow renders values so both engines' representations of one value agree: integers
// of any width as decimals, floats to 9 significant digits.
func canonRow(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
			parts[i] = "NULL"
		case float64:
			parts[i] = canonFloat(x)
		case float32:
			parts[i] = canonFloat(float64(x))
		case *big.Int:
			parts[i] = x.String()
		case time.Time:
			parts[i] = x.UTC().Format(time.RFC3339Nano)
		default:
			parts[i] = fmt.Sprint(x)
		}
	}
	return strings.Join(parts, "|")
}

func canonFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', 9, 64)
}
