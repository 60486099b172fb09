package db_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/pgtest"
	"github.com/weirdb/weir/server"
)

const psqlPath = "/usr/bin/psql"

// catalogSchema is the schema the psql tests describe: a source, a table with a primary
// key and a materialized view. PostgreSQL gets the source as a table.
var catalogSchema = []string{
	`CREATE SOURCE events (id bigint NOT NULL, amount numeric(10,2), note text) WITH (connector = 'http')`,
	`CREATE TABLE accounts (id bigint PRIMARY KEY, name varchar(40) NOT NULL, balance double precision, opened timestamp with time zone)`,
	`CREATE MATERIALIZED VIEW totals AS SELECT id, sum(amount) AS total, count(*) AS n FROM events GROUP BY id`,
}

// startCatalogServer boots an in-process Weir server on a kernel-chosen loopback port.
func startCatalogServer(t *testing.T) (host, port string) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(t.Context(), db.Config{Dir: t.TempDir()}, logger)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(server.Config{PGAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, d, logger)
	if err != nil {
		d.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		d.Close()
	})
	host, port, err = net.SplitHostPort(srv.PGAddr())
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}

// runPSQL runs one psql -c command and fails the test on any error output.
func runPSQL(t *testing.T, host, port, user, dbname, cmd string) string {
	t.Helper()
	out, stderr := runPSQLStderr(t, host, port, user, dbname, cmd)
	if stderr != "" {
		t.Fatalf("psql -c %q: %s\nstdout: %s", cmd, stderr, out)
	}
	return out
}

// runPSQLStderr runs one psql -c command and returns what it printed; it fails the test
// when psql exits with an error.
func runPSQLStderr(t *testing.T, host, port, user, dbname, cmd string) (string, string) {
	t.Helper()
	if _, err := os.Stat(psqlPath); err != nil {
		t.Fatalf("psql is required for this test: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, psqlPath, "-X", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", port, "-U", user, dbname, "-c", cmd)
	c.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PAGER=", "PSQL_PAGER=", "PGOPTIONS=", "PGPASSWORD=", "COLUMNS=200")
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	err := c.Run()
	if _, exit := err.(*exec.ExitError); exit && stderr.Len() > 0 && !strings.Contains(stderr.String(), "ERROR") {
		err = nil // "Did not find any relation named …": psql's answer, not a failure
	}
	if err != nil || strings.Contains(stderr.String(), "ERROR") {
		t.Fatalf("psql -c %q: %v\nstderr: %s\nstdout: %s", cmd, err, stderr.String(), stdout.String())
	}
	return stdout.String(), stderr.String()
}

// psqlCommands are the meta-commands compared with PostgreSQL 15.
var psqlCommands = []string{`\d`, `\dt`, `\dm`, `\dv`, `\d accounts`, `\d events`, `\d totals`, `\d+ accounts`,
	`\d+ totals`, `\d accounts_pkey`, `\dn`, `\l`, `\du`, `\d+`, `\dt+`, `\dn+`, `\dm+`, `\d+ events`, `\dt acc*`, `\di`, `\d nosuch`,
	`SELECT c.relname, a.attname, t.typname, a.atttypmod, a.attnotnull FROM pg_catalog.pg_class c
	   JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
	  WHERE c.relname IN ('accounts', 'events', 'totals') AND a.attnum > 0 ORDER BY 1, a.attnum`,
	`SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
	  WHERE n.nspname = 'public' ORDER BY 2`,
	`SELECT relname FROM pg_class WHERE oid = 'accounts'::regclass`,
	`SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint WHERE conrelid = 'accounts'::regclass`,
	`SELECT current_setting('server_version_num')::int / 100 AS v, format_type(1700, 655366), 'abc' ~ 'b' AS a,
	   'abc' !~ '^b' AS b, 'ABC' ~* 'b' AS c, 'pg_toast' !~ '^pg_' AS d`,
	`SELECT matviewname FROM pg_matviews`,
	`SELECT 'accounts'::regclass, 'int8'::regtype, 'accounts'::regclass::oid > 16383 AS user_oid, 20::regtype::text AS t`,
	`SELECT table_schema, table_name, column_name, ordinal_position, is_nullable, data_type, character_maximum_length,
	        numeric_precision, numeric_precision_radix, numeric_scale, datetime_precision, udt_name
	   FROM information_schema.columns WHERE table_name IN ('accounts', 'events') ORDER BY 2, 4`,
	`SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 2`,
	`SELECT tc.constraint_name, tc.constraint_type, k.column_name, k.ordinal_position
	   FROM information_schema.table_constraints tc JOIN information_schema.key_column_usage k USING (constraint_name)
	  WHERE tc.table_name = 'accounts'`,
	// psql's tab completion of SELECT * FROM <prefix>, and of a schema name.
	`SELECT c.relname, NULL::pg_catalog.text FROM pg_catalog.pg_class c WHERE c.relkind IN ('r', 'S', 'v', 'm', 'f', 'p') AND (c.relname) LIKE 'to%' AND pg_catalog.pg_table_is_visible(c.oid) AND c.relnamespace <> (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = 'pg_catalog')
UNION ALL
SELECT NULL::pg_catalog.text, n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname LIKE 'to%' AND n.nspname NOT LIKE E'pg\\_%'
LIMIT 1000`,
	`SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.nspname LIKE 'p%' AND n.nspname NOT LIKE E'pg\\_%' ORDER BY 1`,
	`SELECT schema_name FROM information_schema.schemata WHERE schema_name <> 'pg_toast' ORDER BY 1`,
}

// TestPSQLCatalog runs psql's catalog meta-commands against Weir holding a source, a
// table with a primary key and a materialized view, and compares what psql prints with
// what it prints for the same objects in PostgreSQL 15 (the source as a table). They
// must match except for the role names (Weir's is weir, PostgreSQL's postgres and
// pg_database_owner), the materialized view's definition text (PostgreSQL prints its
// own deparse), relation sizes and the databases PostgreSQL has besides the one
// connected to.
func TestPSQLCatalog(t *testing.T) {
	host, port := startCatalogServer(t)
	for _, s := range catalogSchema {
		runPSQL(t, host, port, "weir", "weir", s)
	}
	pg := pgtest.Start(t)
	pgPort := fmt.Sprint(pg.Port())
	for _, s := range catalogSchema {
		s = strings.Replace(s, "CREATE SOURCE", "CREATE TABLE", 1)
		if i := strings.Index(s, " WITH ("); i >= 0 {
			s = s[:i]
		}
		runPSQL(t, "127.0.0.1", pgPort, "postgres", "postgres", s)
	}
	for _, cmd := range psqlCommands {
		t.Run(cmd, func(t *testing.T) {
			got, gotErr := runPSQLStderr(t, host, port, "weir", "weir", cmd)
			want, wantErr := runPSQLStderr(t, "127.0.0.1", pgPort, "postgres", "postgres", cmd)
			t.Logf("weir:\n%s%s", got, gotErr)
			require.Equal(t, wantErr, gotErr, "psql %s: messages", cmd)
			require.Equal(t, normalizePSQL(cmd, want, true), normalizePSQL(cmd, got, false), "psql %s: PostgreSQL (want) vs Weir (got)", cmd)
		})
	}
	// The view definition is Weir's text of the query.
	out := runPSQL(t, host, port, "weir", "weir", `\d+ totals`)
	require.Contains(t, out, "View definition:\n SELECT id, sum(amount) AS total, count(*) AS n FROM events GROUP BY id;\n")
}

var (
	sizeCell    = regexp.MustCompile(`\| *[0-9]+ (bytes|kB) *\|`)
	dashes      = regexp.MustCompile(`-{2,}`)
	spaces      = regexp.MustCompile(` {2,}`)
	aclWrap     = regexp.MustCompile(` +\+\|`)
	pgDatabases = regexp.MustCompile(`(?m)^ (template0|template1) .*\n( +\| .*\n)*`)
)

// normalizePSQL makes psql's aligned output comparable across the two servers: role
// and database names become weir, widths are collapsed, sizes are blanked and the
// materialized view's definition (each server's own text) is cut.
func normalizePSQL(cmd, out string, postgres bool) string {
	if postgres {
		out = pgDatabases.ReplaceAllString(out, "")
		out = strings.ReplaceAll(out, "pg_database_owner", "weir")
		out = strings.ReplaceAll(out, "postgres", "weir")
		if strings.HasPrefix(cmd, `\l`) {
			out = strings.ReplaceAll(out, "(3 rows)\n\n", "(1 row)\n\n") // one database left
		}
	}
	if i := strings.Index(out, "View definition:\n"); i >= 0 {
		j := strings.Index(out[i:], ";\n")
		out = out[:i] + "View definition: …\n" + out[i+j+2:]
	}
	out = sizeCell.ReplaceAllString(out, "| size |")
	out = aclWrap.ReplaceAllString(out, "+|")
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		l = spaces.ReplaceAllString(dashes.ReplaceAllString(strings.TrimSpace(l), "--"), " ")
		lines = append(lines, l)
	}
	return strings.Join(lines, "\n")
}
