package db_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/sqlerr"
)

// winInner is Nexmark q6's inner query over small tables: each auction's highest bid
// within its lifetime. Bids arriving, changing and leaving change an auction's max, and
// auctions moving between sellers move rows between partitions, so the window
// aggregates above it see retractions that shift frames.
const winInner = `(SELECT a.id, a.seller, a.dt, max(b.price) AS final FROM a JOIN b ON a.id = b.auction
	WHERE b.dt BETWEEN a.dt AND a.dt + 40 GROUP BY a.id, a.seller, a.dt) q`

// windowAggViews are compared with DuckDB: ROWS frames ordered by a key unique within
// the partition (so the answer does not depend on the order of peers), and the default
// RANGE frame, whose answer never does.
var windowAggViews = map[string]string{
	"w_rows3": `SELECT seller, id, final,
		avg(final) OVER (PARTITION BY seller ORDER BY id ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)::float8 AS av,
		sum(final) OVER (PARTITION BY seller ORDER BY id ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS sm,
		count(final) OVER (PARTITION BY seller ORDER BY id ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS cn,
		count(*) OVER (PARTITION BY seller ORDER BY id ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS cs,
		min(final) OVER (PARTITION BY seller ORDER BY id ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS mn,
		max(final) OVER (PARTITION BY seller ORDER BY id ROWS BETWEEN 3 PRECEDING AND CURRENT ROW) AS mx
		FROM ` + winInner,
	"w_unbounded": `SELECT seller, id,
		sum(final) OVER (PARTITION BY seller ORDER BY dt DESC, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS sm,
		max(final) OVER (PARTITION BY seller ORDER BY dt DESC, id ROWS UNBOUNDED PRECEDING) AS mx
		FROM ` + winInner,
	"w_q6": `SELECT seller, avg(final) OVER (PARTITION BY seller ORDER BY dt, id ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)::float8 AS avg_price
		FROM ` + winInner,
	"w_range": `SELECT seller, id, sum(final) OVER (PARTITION BY seller ORDER BY dt) AS sm, count(*) OVER (PARTITION BY seller ORDER BY dt) AS n
		FROM ` + winInner,
	"w_whole": `SELECT id, min(final) OVER (PARTITION BY seller) AS mn, avg(dt) OVER (PARTITION BY seller)::float8 AS ad FROM ` + winInner,
}

// TestWindowAggOracle maintains window-aggregate views over a changing join and
// aggregate and compares them with DuckDB running the same SQL after every batch of
// writes. Half the views exist from the start, half are created after some data.
func TestWindowAggOracle(t *testing.T) {
	if testing.Short() {
		t.Skip("oracle test runs in the full suite (make test)")
	}
	_, s, oracle, both := openWithOracle(t)
	both(`CREATE TABLE a (id bigint PRIMARY KEY, seller integer, dt bigint)`)
	both(`CREATE TABLE b (id bigint PRIMARY KEY, auction bigint, dt bigint, price bigint)`)

	names := make([]string, 0, len(windowAggViews))
	for n := range windowAggViews {
		names = append(names, n)
	}
	sort.Strings(names)
	early, late := names[:len(names)/2], names[len(names)/2:]
	for _, n := range early {
		weirExec(t, s, "CREATE MATERIALIZED VIEW "+n+" AS "+windowAggViews[n])
	}
	rng := rand.New(rand.NewPCG(6, 6))
	val := func(n int) string {
		if rng.IntN(10) == 0 {
			return "NULL"
		}
		return fmt.Sprint(rng.IntN(n))
	}
	checked := 0
	for batch := range 60 {
		if batch == 8 {
			for _, n := range late {
				weirExec(t, s, "CREATE MATERIALIZED VIEW "+n+" AS "+windowAggViews[n])
			}
		}
		for range 1 + rng.IntN(4) {
			switch rng.IntN(8) {
			case 0, 1, 2:
				var rows []string
				for range 1 + rng.IntN(5) {
					rows = append(rows, fmt.Sprintf("(%d, %s, %d)", rng.IntN(50), val(3), rng.IntN(50)))
				}
				both("INSERT INTO a VALUES " + dedupKeys(rows) + " ON CONFLICT (id) DO UPDATE SET seller = excluded.seller, dt = excluded.dt")
			case 3, 4, 5:
				var rows []string
				for range 1 + rng.IntN(8) {
					rows = append(rows, fmt.Sprintf("(%d, %d, %d, %s)", rng.IntN(200), rng.IntN(50), rng.IntN(70), val(100)))
				}
				both("INSERT INTO b VALUES " + dedupKeys(rows) + " ON CONFLICT (id) DO UPDATE SET auction = excluded.auction, dt = excluded.dt, price = excluded.price")
			case 6:
				both(fmt.Sprintf("DELETE FROM b WHERE id %% 23 = %d", rng.IntN(23)))
			case 7:
				both(fmt.Sprintf("DELETE FROM a WHERE id %% 29 = %d", rng.IntN(29)))
			}
		}
		for _, n := range names {
			if batch < 8 && slices.Contains(late, n) {
				continue
			}
			got := weirRows(t, s, "SELECT * FROM "+n)
			want := duckRows(t, oracle, windowAggViews[n])
			require.Equal(t, want, got, "batch %d view %s: %s", batch, n, windowAggViews[n])
			checked += len(got)
		}
	}
	require.Greater(t, checked, 500, "rows compared")
}

// TestWindowAggUnsupported checks that the window forms Weir does not maintain fail at
// CREATE with 0A000 naming the construct.
func TestWindowAggUnsupported(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{Dir: t.TempDir()}, slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	require.NoError(t, err)
	defer d.Close()
	s := d.NewSession(nil)
	weirExec(t, s, `CREATE TABLE a (id bigint PRIMARY KEY, seller integer, dt bigint)`)
	for construct, q := range map[string]string{
		"RANGE window frames": "sum(dt) OVER (ORDER BY id RANGE BETWEEN 2 PRECEDING AND CURRENT ROW)",
		"GROUPS":              "sum(dt) OVER (ORDER BY id GROUPS BETWEEN 2 PRECEDING AND CURRENT ROW)",
		"EXCLUDE":             "sum(dt) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW EXCLUDE TIES)",
		"FILTER":              "sum(dt) FILTER (WHERE dt > 1) OVER (ORDER BY id ROWS 2 PRECEDING)",
		"DISTINCT":            "count(DISTINCT dt) OVER (ORDER BY id ROWS 2 PRECEDING)",
		"different windows":   "sum(dt) OVER (ORDER BY id ROWS 2 PRECEDING), sum(dt) OVER (ORDER BY id ROWS 3 PRECEDING)",
		"row_number":          "row_number() OVER (ORDER BY id), sum(dt) OVER (ORDER BY id)",
		"CURRENT ROW":         "sum(dt) OVER (ORDER BY id ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING)",
	} {
		p, err := s.Prepare(ctx, "CREATE MATERIALIZED VIEW v AS SELECT id, "+q+" FROM a", nil)
		if err == nil {
			var rows *db.Rows
			if rows, err = p.Execute(ctx, nil); err == nil {
				rows.Close()
			}
		}
		require.Error(t, err, q)
		require.Equal(t, sqlerr.FeatureNotSupported, sqlerr.CodeOf(err), "%s: %v", q, err)
		require.Contains(t, err.Error(), construct, q)
	}
}
