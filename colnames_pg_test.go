package weir_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/pgtest"
)

// TestColumnNamesMatchPostgres reads the same select lists from Weir and from PostgreSQL
// 15 over the same table and view, and compares the names in the RowDescription: a
// client sees them as psql's headers, and drivers and BI tools map rows by them.
// DuckDB, which computes Weir's reads, names an unaliased item after its text
// ("count_star()", "sum(n)", "(n * 2)"); PostgreSQL names it after its function, column
// or cast type ("count", "sum", "?column?"). Reads of the view are served from memory,
// reads of the table from the store: both paths are covered, in the simple and the
// extended protocol.
func TestColumnNamesMatchPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("client tests run in the full suite")
	}
	ctx := t.Context()
	weir, pg := weirAndPostgres(t)

	for _, q := range []string{
		`CREATE TABLE gifts (id bigint PRIMARY KEY, room bigint, amount bigint, note text, ts timestamptz)`,
		`CREATE MATERIALIZED VIEW rooms AS SELECT room, count(*) AS n, sum(amount) AS total FROM gifts GROUP BY room`,
		// A view's unaliased columns are named by the same rules.
		`CREATE MATERIALIZED VIEW unnamed AS SELECT room, count(*), sum(amount), CASE WHEN room > 1 THEN 1 ELSE min(amount) END,
			(room + 1)::bigint, coalesce(max(amount), 0), max(amount)::text FROM gifts GROUP BY room`,
		`INSERT INTO gifts VALUES (1, 1, 5, 'a', '2026-11-28 10:00:00+00'), (2, 1, 7, 'b', '2026-11-28 10:00:01+00'),
			(3, 2, 1, NULL, '2026-11-28 10:00:02+00')`,
	} {
		_, err := weir.Exec(ctx, q)
		require.NoError(t, err, q)
		_, err = pg.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	for _, v := range []string{"rooms", "unnamed"} {
		_, err := pg.Exec(ctx, `REFRESH MATERIALIZED VIEW `+v)
		require.NoError(t, err)
	}

	var queries []string
	for _, from := range []string{"rooms", "gifts"} {
		col := map[string]string{"rooms": "n", "gifts": "amount"}[from]
		for _, list := range []string{
			`count(*), count(%[2]s), sum(%[2]s), max(%[2]s), min(room), avg(%[2]s)`,
			`room, %[2]s * 2, -%[2]s, %[2]s + 1 AS plus, %[2]s IS NULL, %[2]s BETWEEN 1 AND 3, room IN (1, 2)`,
			`%[2]s::text, %[2]s::bigint::text, CAST(%[2]s AS integer), (%[2]s + 1)::bigint, 1::int, '2'::numeric(10,2), 'x'::text`,
			`CASE WHEN %[2]s > 1 THEN 1 END, CASE WHEN %[2]s > 1 THEN 1 ELSE %[2]s END, CASE WHEN %[2]s > 1 THEN 'a' ELSE 'b'::text END`,
			`coalesce(%[2]s, 0), nullif(%[2]s, 1), greatest(%[2]s, 1), least(%[2]s, 1), upper('a'), abs(%[2]s)`,
			`(SELECT max(room) FROM %[1]s), (SELECT 1)::bigint, (SELECT max(room) FROM %[1]s)::text, EXISTS (SELECT 1 FROM %[1]s), ARRAY(SELECT room FROM %[1]s)`,
			`*, 1`,
			`t.*, t.room AS r, 2 + 2`,
			`1, 'a', NULL, true, 1.5`,
			`row_number() OVER (ORDER BY room), sum(%[2]s) OVER ()`,
			`current_date IS NOT NULL, ARRAY[1, 2], (ARRAY[1, 2])[1]`,
		} {
			queries = append(queries, fmt.Sprintf("SELECT "+list+" FROM %[1]s t", from, col))
		}
		queries = append(queries,
			fmt.Sprintf(`SELECT room, count(*) FROM %s GROUP BY room ORDER BY count(*) DESC`, from),
			fmt.Sprintf(`SELECT room AS a FROM %[1]s UNION ALL SELECT count(*) FROM %[1]s`, from),
			fmt.Sprintf(`SELECT x, x + 1 FROM (SELECT room AS x FROM %s) s`, from),
		)
	}
	queries = append(queries,
		`SELECT g.*, r.*, g.room + r.room FROM gifts g JOIN rooms r ON r.room = g.room`,
		`SELECT date_trunc('minute', ts), extract(epoch FROM ts), ts AT TIME ZONE 'UTC', ts::date, trim(note), substring(note FROM 1 FOR 1) FROM gifts`,
		`SELECT * FROM unnamed`,
		`VALUES (1, 'a'), (2, 'b')`,
		`SELECT 1`,
		`SELECT count(*)`,
	)
	names := func(conn *pgx.Conn, mode pgx.QueryExecMode, sql string) []string {
		rows, err := conn.Query(ctx, sql, mode)
		require.NoError(t, err, sql)
		defer rows.Close()
		var out []string
		for _, fd := range rows.FieldDescriptions() {
			out = append(out, fd.Name)
		}
		for rows.Next() {
		}
		require.NoError(t, rows.Err(), sql)
		return out
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeDescribeExec} {
		for _, q := range queries {
			require.Equal(t, names(pg, mode, q), names(weir, mode, q), "%v: %s", mode, q)
		}
	}
}

// weirAndPostgres connects to a new Weir server and to a new PostgreSQL 15 cluster
// (internal/pgtest), both closed when the test ends: the two sides of an oracle test.
func weirAndPostgres(t *testing.T) (weir, pg *pgx.Conn) {
	t.Helper()
	srv := startServer(t)
	weir, err := pgx.Connect(t.Context(), "postgres://weir@"+srv.PGAddr()+"/weir?sslmode=disable")
	require.NoError(t, err)
	t.Cleanup(func() { weir.Close(context.Background()) })
	pg, err = pgx.Connect(t.Context(), pgtest.Start(t).DSN())
	require.NoError(t, err)
	t.Cleanup(func() { pg.Close(context.Background()) })
	return weir, pg
}
