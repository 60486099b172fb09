package db_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/pgtest"
)

// exactOIDCorpus are the corpus entries (testdata/pgcorpus) whose result columns must
// carry exactly PostgreSQL's type OIDs, name (19) and oid (26) included.
var exactOIDCorpus = []string{
	"DBeaver: schemas", "DBeaver: tables", "DBeaver: attributes", "DBeaver: databases",
	"JDBC: getSchemas", "SQLAlchemy: get_table_oid", "SQLAlchemy: get_view_names (materialized)",
	"SQLAlchemy: get_table_names", "Metabase: tables", "psycopg: TypeInfo.fetch",
}

// exactOIDQueries are catalog reads (psql's, drivers') and view reads whose result
// columns have types DuckDB lacks: name, oid, regclass, regtype, json, jsonb.
var exactOIDQueries = []string{
	`SELECT c.oid, n.nspname, c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
	 WHERE c.relname OPERATOR(pg_catalog.~) '^(accounts)$' COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid) ORDER BY 2, 3`,
	`SELECT c.oid::pg_catalog.regclass FROM pg_catalog.pg_class c WHERE c.relname = 'accounts'`,
	`SELECT a.attname, a.atttypid::pg_catalog.regtype AS t, a.atttypid, a.attrelid FROM pg_catalog.pg_attribute a
	 WHERE a.attrelid = 'accounts'::regclass AND a.attnum > 0 ORDER BY a.attnum`,
	`SELECT n.nspname AS "Name", pg_catalog.pg_get_userbyid(n.nspowner) AS "Owner" FROM pg_catalog.pg_namespace n WHERE n.nspname = 'public'`,
	`SELECT t.typname, t.oid, t.typnamespace FROM pg_type t WHERE t.typname = 'int8'`,
	`SELECT datname FROM pg_database WHERE datname = current_database()`,
	`SELECT tablename, schemaname, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
	`SELECT matviewname FROM pg_matviews`,
	`SELECT relname::text AS r, oid::int8 AS o FROM pg_class WHERE relname = 'accounts'`,
	`SELECT '{"a": 1}'::json AS j`,
	`SELECT * FROM docs ORDER BY id`,
	`SELECT body, id FROM docs_view ORDER BY id`,
	`SELECT d.* FROM docs_view d ORDER BY id`,
}

// TestCatalogOIDs compares the type OIDs of result columns (pgx FieldDescriptions) with
// PostgreSQL 15's for catalog queries and views holding jsonb.
func TestCatalogOIDs(t *testing.T) {
	host, port := startCatalogServer(t)
	ctx := t.Context()
	weir, err := pgx.Connect(ctx, fmt.Sprintf("postgres://weir@%s:%s/weir?sslmode=disable", host, port))
	require.NoError(t, err)
	defer weir.Close(context.Background())
	pgc, err := pgx.Connect(ctx, pgtest.Start(t).DSN())
	require.NoError(t, err)
	defer pgc.Close(context.Background())
	schema := append(append([]string(nil), catalogSchema...),
		`CREATE TABLE docs (id bigint PRIMARY KEY, body jsonb)`,
		`CREATE MATERIALIZED VIEW docs_view AS SELECT id, body FROM docs`,
		`INSERT INTO docs VALUES (1, '{"b": [1, 2], "a": "x"}'), (2, 'null')`)
	for _, s := range schema {
		_, err := weir.Exec(ctx, s)
		require.NoError(t, err, s)
		s = strings.Replace(s, "CREATE SOURCE", "CREATE TABLE", 1)
		if i := strings.Index(s, " WITH ("); i >= 0 {
			s = s[:i]
		}
		_, err = pgc.Exec(ctx, s)
		require.NoError(t, err, s)
	}
	_, err = pgc.Exec(ctx, `REFRESH MATERIALIZED VIEW docs_view`)
	require.NoError(t, err)

	columns := func(t *testing.T, conn *pgx.Conn, sql string) ([]string, []string) {
		// Text results: the binary forms of the catalogs' arrays are another matter.
		rows, err := conn.Query(ctx, sql, pgx.QueryResultFormats{pgx.TextFormatCode})
		require.NoError(t, err, sql)
		defer rows.Close()
		var cols, vals []string
		for _, f := range rows.FieldDescriptions() {
			cols = append(cols, fmt.Sprintf("%s:%d", f.Name, f.DataTypeOID))
		}
		for rows.Next() {
			v, err := rows.Values()
			require.NoError(t, err)
			vals = append(vals, fmt.Sprint(v))
		}
		require.NoError(t, rows.Err(), sql)
		return cols, vals
	}
	queries := append([]string(nil), exactOIDQueries...)
	corpus := map[string]string{}
	for _, q := range loadCorpus(t) {
		corpus[q.name] = q.sql
	}
	for _, name := range exactOIDCorpus {
		require.Contains(t, corpus, name)
		queries = append(queries, corpus[name])
	}
	// Binary results (pgx's default for oid, name and "char"): the same values.
	binaryValues := func(conn *pgx.Conn, sql string) []string {
		rows, err := conn.Query(ctx, sql)
		require.NoError(t, err, sql)
		defer rows.Close()
		var out []string
		for rows.Next() {
			v, err := rows.Values()
			require.NoError(t, err)
			out = append(out, fmt.Sprintf("%#v", v))
		}
		require.NoError(t, rows.Err(), sql)
		return out
	}
	bin := `SELECT c.relname, c.relkind, c.relnamespace, a.attname, a.atttypid, a.attnum, t.typname, t.typdelim
		FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid JOIN pg_type t ON t.oid = a.atttypid
		WHERE c.relname = 'accounts' AND a.attnum > 0 ORDER BY a.attnum`
	require.Equal(t, binaryValues(pgc, bin), binaryValues(weir, bin))

	for _, q := range queries {
		t.Run(strings.Join(strings.Fields(q), " "), func(t *testing.T) {
			want, wantVals := columns(t, pgc, q)
			got, gotVals := columns(t, weir, q)
			require.Equal(t, want, got, "columns (name:OID): PostgreSQL (want) vs Weir (got)")
			if strings.Contains(q, "docs") || strings.Contains(q, "json") {
				require.Equal(t, wantVals, gotVals)
			}
		})
	}
}
