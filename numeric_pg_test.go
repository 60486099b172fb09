package weir_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

// TestNumericViewsMatchPostgres reads numeric view columns (sum and max of a numeric(10,2),
// avg of a bigint, a numeric(12,2) cast) from Weir and from PostgreSQL 15 holding the same
// view over the same rows, through pgx in binary and text formats: the same rows, printed
// the same, and the same column OIDs and typmods. Strings would order 100.50 before 12.75
// and miss 12.75 >= 3; rounding the parameter to the column's scale would keep 3.12 >= 3.124.
func TestNumericViewsMatchPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("client tests run in the full suite")
	}
	ctx := t.Context()
	weir, pg := weirAndPostgres(t)

	for _, q := range []string{
		`CREATE TABLE gifts (id bigint PRIMARY KEY, room bigint, amount numeric(10,2), n bigint)`,
		`CREATE MATERIALIZED VIEW totals AS SELECT room, sum(amount) AS total, max(amount) AS top, avg(n) AS avg_n,
			sum(amount)::numeric(12,2) AS fixed FROM gifts GROUP BY room`,
		`INSERT INTO gifts VALUES (1, 1, 12.75, 1), (2, 2, 3.00, 2), (3, 3, 100.50, 7), (4, 3, 0.00, 8), (5, 4, 3.12, 1),
			(6, 4, 0.00, 2), (7, 4, 0.00, 2), (8, 5, NULL, NULL), (9, 6, 99999999.99, 123456789)`,
	} {
		_, err := weir.Exec(ctx, q)
		require.NoError(t, err, q)
		_, err = pg.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	_, err := pg.Exec(ctx, `REFRESH MATERIALIZED VIEW totals`)
	require.NoError(t, err)

	num := func(s string) pgtype.Numeric {
		var n pgtype.Numeric
		require.NoError(t, n.Scan(s))
		return n
	}
	// scaleFree marks the reads of values whose scale PostgreSQL picks per value (an
	// average's display scale follows its magnitude) that Weir computes on further (min and
	// max of such a column, a column under DISTINCT or from a subquery): it prints them at
	// one scale (rewriteNumeric's documented limit), so they compare as numbers, not as
	// text. Columns and averages passed through (SELECT *, SELECT col, SELECT avg(col))
	// print exactly.
	const scaleFree = true
	cases := []struct {
		sql       string
		args      []any
		scaleFree bool
	}{
		{`SELECT room, total, top, fixed FROM totals ORDER BY room`, nil, false},
		{`SELECT * FROM totals ORDER BY room`, nil, false},
		{`SELECT room, avg_n FROM totals WHERE avg_n > $1 ORDER BY avg_n`, []any{num("1.6666666666666666")}, false},
		{`SELECT t.*, avg_n AS a FROM totals t ORDER BY 4 DESC, a`, nil, false},
		{`SELECT * FROM (SELECT * FROM totals WHERE avg_n < 3) s ORDER BY avg_n`, nil, scaleFree},
		{`SELECT DISTINCT avg_n FROM totals ORDER BY avg_n`, nil, scaleFree},
		{`SELECT room, total FROM totals ORDER BY total, room`, nil, false},
		{`SELECT room, total FROM totals ORDER BY total DESC NULLS LAST, room`, nil, false},
		{`SELECT room FROM totals WHERE total >= $1 ORDER BY room`, []any{num("3")}, false},
		{`SELECT room FROM totals WHERE total >= $1 ORDER BY room`, []any{"3.124"}, false},
		{`SELECT room FROM totals WHERE total < $1 ORDER BY room`, []any{num("3.124")}, false},
		{`SELECT room FROM totals WHERE fixed > $1 ORDER BY room`, []any{num("3.119")}, false},
		{`SELECT room FROM totals WHERE top = $1 ORDER BY room`, []any{num("100.5")}, false},
		{`SELECT room, total FROM totals WHERE total BETWEEN $1 AND $2 ORDER BY room`, []any{num("3"), num("13")}, false},
		{`SELECT sum(total), min(total), max(total), count(total) FROM totals`, nil, false},
		{`SELECT avg(total) FROM totals WHERE room < 5`, nil, false},
		{`SELECT avg(t.room) AS r, avg(n) FILTER (WHERE n < 10) AS n FROM totals t, gifts g WHERE g.room = t.room`, nil, false},
		{`SELECT sum(total), avg(total), min(total), max(total), count(total) FROM totals`, nil, false},
		{`SELECT sum(total) AS s, avg(total) AS a FROM totals WHERE room > $1`, []any{int64(1)}, false},
		{`SELECT avg(avg_n), max(avg_n), min(fixed), avg(fixed) FROM totals`, nil, scaleFree},
		{`SELECT room, avg(total) FROM totals GROUP BY room ORDER BY 2, 1`, nil, false},
		{`SELECT room % 2 AS odd, avg(total) AS a FROM totals GROUP BY 1 HAVING avg(total) > $1 ORDER BY a DESC`, []any{num("1")}, false},
		{`SELECT room, avg(avg_n) FROM totals GROUP BY room ORDER BY avg DESC NULLS LAST`, nil, scaleFree},
		{`SELECT DISTINCT avg(total) OVER () AS a FROM totals`, nil, scaleFree},
		{`SELECT room, total * 2 AS double, total + $1 AS more FROM totals ORDER BY room`, []any{num("0.125")}, false},
		{`SELECT t.room, t.total FROM totals t WHERE t.total > 10 ORDER BY t.total`, nil, false},
		{`SELECT total::numeric(12,3) AS t3 FROM totals WHERE room = 1`, nil, false},
		{`SELECT room FROM totals WHERE total >= '3.124' OR total IN ('12.750', '3') ORDER BY room`, nil, false},
		{`SELECT room, '3.1245'::numeric AS lit, total::numeric AS same FROM totals WHERE total > 3.1 ORDER BY room`, nil, false},
		{`SELECT avg(total) FILTER (WHERE room < 3) AS a, sum(total) FILTER (WHERE room < 3) AS s FROM totals`, nil, false},
		{`SELECT room, sum(total) OVER (ORDER BY total) AS running FROM totals WHERE total IS NOT NULL ORDER BY total`, nil, false},
		{`SELECT max(total) - min(total) AS spread FROM totals WHERE room IN (SELECT room FROM totals WHERE total < $1)`, []any{num("50")}, false},
	}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeDescribeExec, pgx.QueryExecModeSimpleProtocol} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%v/%s", mode, c.sql), func(t *testing.T) {
				args := append([]any{mode}, c.args...)
				want := readAll(t, pg, c.sql, args, c.scaleFree)
				got := readAll(t, weir, c.sql, args, c.scaleFree)
				require.Equal(t, want, got)
			})
		}
	}

	// Beyond DuckDB's 38 digits: an explicit error, never a rounded or string comparison.
	_, err = weir.Exec(ctx, `SELECT room FROM totals WHERE total >= $1`, num("1.000000000000000000000000000000000000001"))
	require.ErrorContains(t, err, "at most 38")
	_, err = weir.Exec(ctx, `CREATE TABLE wide (id bigint PRIMARY KEY, x numeric)`)
	require.NoError(t, err)
	_, err = weir.Exec(ctx, `INSERT INTO wide VALUES (1, 1234567890123456789012345678901234567890.5)`)
	require.NoError(t, err)
	var pgErr *pgconn.PgError
	_, err = weir.Exec(ctx, `SELECT * FROM wide WHERE x > 1`)
	require.ErrorAs(t, err, &pgErr)
	require.Equal(t, "0A000", pgErr.Code, pgErr.Message)
}

// readAll runs sql and renders its columns (name, OID, typmod) and rows as text; with
// scaleFree, numerics lose their trailing fraction zeros.
func readAll(t *testing.T, conn *pgx.Conn, sql string, args []any, scaleFree bool) []string {
	t.Helper()
	rows, err := conn.Query(t.Context(), sql, args...)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	var cols []string
	for _, fd := range rows.FieldDescriptions() {
		cols = append(cols, fmt.Sprintf("%s:%d:%d", fd.Name, fd.DataTypeOID, fd.TypeModifier))
	}
	out = append(out, strings.Join(cols, " "))
	for rows.Next() {
		vals, err := rows.Values()
		require.NoError(t, err)
		var cells []string
		for _, v := range vals {
			if n, ok := v.(pgtype.Numeric); ok {
				s, err := n.Value()
				require.NoError(t, err)
				if str, ok := s.(string); ok && scaleFree && strings.Contains(str, ".") {
					s = strings.TrimSuffix(strings.TrimRight(str, "0"), ".")
				}
				v = s
			}
			cells = append(cells, fmt.Sprint(v))
		}
		out = append(out, strings.Join(cells, " "))
	}
	require.NoError(t, rows.Err())
	return out
}
