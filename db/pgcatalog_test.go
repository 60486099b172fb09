package db

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"github.com/stretchr/testify/require"
)

func TestRewriteCatalogSQL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// Ordinary reads are left alone.
		{`SELECT a, b FROM t WHERE b = 1`, ``},
		{`SELECT 'pg_catalog.pg_class', "Pg_class" FROM t -- pg_class`, ``},
		// A quoted plain name is the name (Metabase quotes every identifier); unquoted
		// names fold to lower case, as result column names show.
		{`SELECT "c"."relname" AS "Name" FROM "pg_catalog"."pg_class" AS "c"`,
			`SELECT "c"."relname" AS "Name" FROM weir_pg_class AS "c"`},
		{`SELECT NULL AS TABLE_CAT, x AS Name FROM t`, `SELECT NULL::VARCHAR AS table_cat, x AS name FROM t`},
		{`SELECT current_user, user AS u`, `SELECT 'weir' AS "current_user", 'weir' AS u`},
		{`SELECT information_schema._pg_expandarray(i.indkey) AS keys FROM pg_index i`,
			`SELECT unnest(weir_pg_expandarray(i.indkey)) AS keys FROM weir_pg_index i`},
		{`SELECT format('%I.%I', s, t)::regclass::oid, a.attrelid::regclass::text FROM t`,
			`SELECT weir_pg_regclass_oid(format('%I.%I', s, t))::oid AS "format", weir_pg_regclass_name(a.attrelid)::text AS "attrelid" FROM t`},
		// Qualifiers, relations and functions.
		{`SELECT c.relname FROM pg_catalog.pg_class c LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace`,
			`SELECT c.relname FROM weir_pg_class c LEFT JOIN weir_pg_namespace n ON n.oid = c.relnamespace`},
		{`SELECT pg_class.relname FROM pg_class`, `SELECT weir_pg_class.relname FROM weir_pg_class`},
		{`SELECT pg_catalog.pg_get_userbyid(c.relowner) as "Owner" FROM pg_catalog.pg_class c`,
			`SELECT weir_pg_get_userbyid(c.relowner) as "Owner" FROM weir_pg_class c`},
		{`SELECT version()`, `SELECT weir_pg_version() AS "version"`},
		{`SELECT upper(version()), 1`, `SELECT upper(weir_pg_version()) AS "upper", 1`},
		{`SELECT x FROM (SELECT current_setting('server_version_num') FROM t) s`,
			`SELECT x FROM (SELECT weir_pg_current_setting('server_version_num') AS "current_setting" FROM t) s`},
		{`SELECT DISTINCT format_type(a.atttypid, a.atttypmod), 2 FROM pg_attribute a`,
			`SELECT DISTINCT weir_pg_format_type(a.atttypid, a.atttypmod) AS "format_type", 2 FROM weir_pg_attribute a`},
		// Operators and collations.
		{`SELECT 1 FROM pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default`,
			`SELECT 1 FROM weir_pg_class c WHERE c.relname ~ '(?s).*(?:^(t)$).*'`},
		{`SELECT s !~ '^pg_', s ~* 'X' FROM t`, `SELECT s !~ '(?s).*(?:^pg_).*', s ~ '(?is).*(?:X).*' FROM t`},
		{`SELECT 1 FROM pg_namespace n WHERE n.nspname NOT LIKE E'pg\\_%' AND n.nspname LIKE 'p%'`,
			`SELECT 1 FROM weir_pg_namespace n WHERE n.nspname NOT LIKE E'pg\\_%' ESCAPE '\' AND n.nspname LIKE 'p%'`},
		{`SELECT table_name FROM information_schema.tables t JOIN tables u ON true`,
			`SELECT table_name FROM weir_is_tables t JOIN tables u ON true`},
		// Casts to OID alias types.
		{`SELECT c.oid::pg_catalog.regclass FROM pg_catalog.pg_class c`,
			`SELECT weir_pg_regclass_name(c.oid) AS "oid" FROM weir_pg_class c`},
		{`SELECT 1 FROM pg_class WHERE oid = 'accounts'::regclass`,
			`SELECT 1 FROM weir_pg_class WHERE oid = weir_pg_regclass_oid('accounts')`},
		{`SELECT $1::regclass::oid`, `SELECT weir_pg_regclass_oid($1)::oid AS "oid"`},
		{`SELECT CASE WHEN c.reloftype = 0 THEN '' ELSE c.reloftype::pg_catalog.regtype::pg_catalog.text END FROM pg_class c`,
			`SELECT CASE WHEN c.reloftype = 0 THEN '' ELSE weir_pg_regtype_name(c.reloftype)::text END FROM weir_pg_class c`},
		{`SELECT 'accounts'::regclass, (SELECT 'accounts'::regclass)`,
			`SELECT weir_pg_regclass_name(weir_pg_regclass_oid('accounts')) AS "regclass", (SELECT weir_pg_regclass_oid('accounts') AS "regclass")`},
		{`SELECT (x + 1)::regnamespace, f(x)::regtype`, `SELECT weir_pg_regnamespace_name((x + 1)) AS "regnamespace", weir_pg_regtype_name(f(x)) AS "f"`},
		{`SELECT NULL::pg_catalog.text, c.oid::int, c.relname::name AS n FROM pg_class c`,
			`SELECT NULL::text AS "text", c.oid::int AS "oid", c.relname::name AS n FROM weir_pg_class c`},
		// psql's set-returning-function alias and array result columns.
		{`SELECT 1 FROM pg_catalog.generate_series(0, 3) s, pg_catalog.pg_attribute WHERE attnum = prattrs[s]`,
			`SELECT 1 FROM generate_series(0, 3) s(s), weir_pg_attribute WHERE attnum = prattrs[s]`},
		{`SELECT r.rolname, ARRAY(SELECT b.rolname FROM pg_catalog.pg_roles b) as memberof FROM pg_catalog.pg_roles r`,
			`SELECT r.rolname, weir_pg_array_out(ARRAY(SELECT b.rolname FROM weir_pg_roles b)) as memberof FROM weir_pg_roles r`},
	} {
		got, touched := rewriteCatalogSQL(tc.in)
		want := tc.want
		if want == "" {
			want = tc.in
			require.False(t, touched, tc.in)
		}
		require.Equal(t, want, got, tc.in)
	}
}

// openCatalogDB opens a database in dir with a source, a keyed table and a view.
func openCatalogDB(t *testing.T, dir string, setup ...string) (*DB, *Session) {
	t.Helper()
	d, err := Open(context.Background(), Config{Dir: dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	s := d.NewSession(map[string]string{"user": "weir"})
	for _, q := range setup {
		catalogRows(t, s, q)
	}
	return d, s
}

// catalogRows runs q and returns its rows as "a|b|c" strings, in order.
func catalogRows(t *testing.T, s *Session, q string) []string {
	t.Helper()
	p, err := s.Prepare(context.Background(), q, nil)
	require.NoError(t, err, q)
	rows, err := p.Execute(context.Background(), nil)
	require.NoError(t, err, q)
	defer rows.Close()
	var out []string
	dst := make([]any, len(rows.Columns()))
	for rows.Next(dst) {
		parts := make([]string, len(dst))
		for i, v := range dst {
			if v == nil {
				parts[i] = "NULL"
			} else {
				parts[i] = fmt.Sprint(v)
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	require.NoError(t, rows.Err(), q)
	return out
}

func columnNames(t *testing.T, s *Session, q string) []string {
	p, err := s.Prepare(context.Background(), q, nil)
	require.NoError(t, err, q)
	var names []string
	for _, c := range p.Columns() {
		names = append(names, c.Name)
	}
	return names
}

var catalogTestSchema = []string{
	`CREATE SOURCE events (id bigint NOT NULL, amount numeric(10,2), note text) WITH (connector = 'http')`,
	`CREATE TABLE accounts (id bigint PRIMARY KEY, name varchar(40) NOT NULL, balance double precision)`,
	`CREATE MATERIALIZED VIEW totals AS SELECT id, sum(amount) AS total FROM events GROUP BY id`,
}

const relationsQuery = `SELECT c.relname, c.relkind, n.nspname FROM pg_catalog.pg_class c
	JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace ORDER BY 1`

// TestCatalogFollowsDDL: pg_class and pg_attribute show every CREATE and DROP at once,
// and the same after the database is reopened.
func TestCatalogFollowsDDL(t *testing.T) {
	dir := t.TempDir()
	d, s := openCatalogDB(t, dir, catalogTestSchema...)
	require.Equal(t, []string{"accounts|r|public", "accounts_pkey|i|public", "events|r|public", "totals|m|public"},
		catalogRows(t, s, relationsQuery))

	catalogRows(t, s, `DROP MATERIALIZED VIEW totals`)
	require.Equal(t, []string{"accounts|r|public", "accounts_pkey|i|public", "events|r|public"}, catalogRows(t, s, relationsQuery))

	catalogRows(t, s, `CREATE TABLE "Odd Name" (k integer PRIMARY KEY, v text)`)
	catalogRows(t, s, `CREATE MATERIALIZED VIEW big AS SELECT id, amount FROM events WHERE amount > 10`)
	attrs := `SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull
		FROM pg_catalog.pg_attribute a WHERE a.attrelid = '"Odd Name"'::regclass AND a.attnum > 0 ORDER BY a.attnum`
	require.Equal(t, []string{"k|integer|true", "v|text|false"}, catalogRows(t, s, attrs))
	require.Equal(t, []string{`CREATE UNIQUE INDEX "Odd Name_pkey" ON public."Odd Name" USING btree (k)`},
		catalogRows(t, s, `SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = '"Odd Name"'::regclass`))
	require.NoError(t, d.Close())

	_, s = openCatalogDB(t, dir)
	require.Equal(t, []string{"Odd Name|r|public", "Odd Name_pkey|i|public", "accounts|r|public", "accounts_pkey|i|public",
		"big|m|public", "events|r|public"}, catalogRows(t, s, relationsQuery))
	require.Equal(t, []string{"k|integer|true", "v|text|false"}, catalogRows(t, s, attrs))
}

// TestCatalogFunctions: the functions and casts psql's and drivers' catalog queries use.
func TestCatalogFunctions(t *testing.T) {
	d, s := openCatalogDB(t, t.TempDir(), catalogTestSchema...)
	defer d.Close()
	one := func(q string) string {
		t.Helper()
		rows := catalogRows(t, s, q)
		require.Len(t, rows, 1, q)
		return rows[0]
	}
	require.Regexp(t, `^PostgreSQL 15\.0 \(Weir\) on \S+, compiled by go\S+, 64-bit$`, one(`SELECT version()`))
	require.Equal(t, []string{"version"}, columnNames(t, s, `SELECT version()`))
	require.Equal(t, "150000|15.0|UTF8", one(`SELECT current_setting('server_version_num'), pg_catalog.current_setting('server_version'), current_setting('server_encoding', true)`))
	require.Equal(t, "weir|NULL", one(`SELECT pg_catalog.pg_get_userbyid(10), pg_get_userbyid(NULL)`))
	require.Equal(t, "bigint|character varying(40)|numeric(10,2)|numeric|timestamp with time zone|double precision|NULL",
		one(`SELECT format_type(20, -1), format_type(1043, 44), format_type(1700, 655366), format_type(1700, -1),
			format_type(1184, NULL), pg_catalog.format_type(701, -1), format_type(NULL, -1)`))

	oid := one(`SELECT oid FROM pg_class WHERE relname = 'accounts'`)
	require.Equal(t, "accounts|"+oid, one(`SELECT 'accounts'::regclass, (SELECT 'accounts'::regclass)`))
	require.Equal(t, oid, one(`SELECT 'public.accounts'::pg_catalog.regclass::pg_catalog.oid`))
	require.Equal(t, "accounts|accounts", one(`SELECT c.oid::regclass, c.oid::regclass::text FROM pg_class c WHERE relname = 'accounts'`))
	require.Equal(t, "bigint|bigint|20|public", one(`SELECT 20::regtype, 'int8'::regtype, 'int8'::regtype::oid, 2200::regnamespace`))

	viewOID := one(`SELECT oid FROM pg_catalog.pg_class WHERE relname = 'totals' AND relkind = 'm'`)
	require.Equal(t, " SELECT id, sum(amount) AS total FROM events GROUP BY id;",
		one(`SELECT pg_catalog.pg_get_viewdef('`+viewOID+`'::pg_catalog.oid, true)`))
	require.Equal(t, "totals| SELECT id, sum(amount) AS total FROM events GROUP BY id;", one(`SELECT matviewname, definition FROM pg_matviews`))
	require.Equal(t, "accounts_pkey|p|PRIMARY KEY (id)|CREATE UNIQUE INDEX accounts_pkey ON public.accounts USING btree (id)",
		one(`SELECT conname, contype, pg_get_constraintdef(oid, true), pg_get_indexdef(conindid, 0, true)
			FROM pg_constraint WHERE conrelid = 'accounts'::regclass`))

	// pg_attribute joins pg_type on PostgreSQL OIDs (JDBC's getColumns does).
	require.Equal(t, []string{"id|int8|20", "amount|numeric|1700", "note|text|25"},
		catalogRows(t, s, `SELECT a.attname, t.typname, t.oid FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
			WHERE a.attrelid = 'events'::regclass AND a.attnum > 0 ORDER BY a.attnum`))

	// ~ searches as in PostgreSQL, in catalog and user queries alike.
	require.Equal(t, "true|false|true", one(`SELECT 'abc' ~ 'b', 'pg_toast' !~ '^pg_', 'ABC' ~* 'b'`))
	catalogRows(t, s, `INSERT INTO accounts VALUES (1, 'alice', 0), (2, 'bob', 1)`)
	require.Equal(t, []string{"alice"}, catalogRows(t, s, `SELECT name FROM accounts WHERE name ~ 'li'`))
}

// FuzzRewriteCatalogSQL: the rewrite never panics, and a statement PostgreSQL's parser
// accepts stays acceptable after it.
func FuzzRewriteCatalogSQL(f *testing.F) {
	for _, s := range []string{
		`SELECT c.oid::pg_catalog.regclass FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default`,
		`SELECT ::regclass`, `x::regclass`, `)::regclass`, `SELECT (::regclass`, `SELECT 1 FROM t WHERE a ~`,
		`SELECT ARRAY(SELECT 1) AS`, `SELECT generate_series(1, 2) s`, `OPERATOR(`, `SELECT a COLLATE`,
		`SELECT version(), (SELECT current_setting('x')), 'a' ~* E'\\d'`, `SELECT x LIKE E'a\\_' ESCAPE '!'`,
		`SELECT information_schema.tables.table_name FROM information_schema.tables`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		out, _ := rewriteCatalogSQL(sql)
		if _, err := pg_query.Parse(sql); err == nil {
			if _, err := pg_query.Parse(out); err != nil {
				t.Fatalf("%q parses, its rewrite %q does not: %v", sql, out, err)
			}
		}
	})
}
