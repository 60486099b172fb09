package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/server"
)

// applyServer is an in-process server for `weir apply` and `weir gen` to talk to.
func applyServer(t *testing.T) (*db.DB, *server.Server) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(t.Context(), db.Config{Dir: t.TempDir()}, logger)
	require.NoError(t, err)
	t.Cleanup(func() { d.Close() })
	srv, err := server.Start(server.Config{PGAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, d, logger)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return d, srv
}

// ids is every object's catalog ID: a new ID means the object was (re-)created.
func ids(d *db.DB) map[string]uint64 {
	out := map[string]uint64{}
	for _, r := range d.Catalog().List(0) {
		out[r.Name] = r.ID
	}
	return out
}

func writeFile(t *testing.T, dir, name, text string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
}

// applyPack files: 00_first.sql reads a view of 03_other.sql, so name order is not
// dependency order; big_k reads per_k and big_count reads big_k.
const (
	srcSQL = `-- a source; semicolons in strings are not statement ends
CREATE SOURCE ev (k bigint NOT NULL, v bigint NOT NULL, note text);`
	viewsSQL = `
CREATE MATERIALIZED VIEW per_k AS SELECT k, count(*) AS n, sum(v) AS total FROM ev GROUP BY k;
CREATE MATERIALIZED VIEW big_k AS SELECT k, n FROM per_k WHERE n > 1;
CREATE MATERIALIZED VIEW big_count AS SELECT count(*) AS c FROM big_k;`
	otherSQL = `CREATE MATERIALIZED VIEW ev_total AS SELECT count(*) AS n FROM ev;`
	firstSQL = `CREATE MATERIALIZED VIEW aa_first AS SELECT n * 2 AS twice FROM ev_total;`
)

func TestApplyIdempotent(t *testing.T) {
	d, srv := applyServer(t)
	addr := srv.PGAddr()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	writeFile(t, dir, "00_first.sql", firstSQL)
	writeFile(t, dir, "01_src.sql", srcSQL)
	writeFile(t, dir, "02_views.sql", viewsSQL)
	writeFile(t, dir, "03_other.sql", otherSQL)
	run := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		require.NoError(t, apply(append([]string{"--pg", addr}, append(args, dir)...), &out, logger))
		return out.String()
	}
	s := d.NewSession(nil)
	defer s.Close()
	ingest := func(rows ...[2]int64) {
		t.Helper()
		var vals [][]delta.Value
		for _, r := range rows {
			vals = append(vals, []delta.Value{delta.Int(r[0]), delta.Int(r[1]), delta.Str("a;b")})
		}
		require.NoError(t, d.Ingest(t.Context(), "ev", vals))
	}

	// First apply: everything is created, in dependency order.
	out := run()
	require.Contains(t, out, "plan: 6 to create, 0 to replace, 0 to drop, 0 unchanged")
	require.Less(t, strings.Index(out, "ev_total"), strings.Index(out, "aa_first"), out)
	ingest([2]int64{1, 10}, [2]int64{1, 5}, [2]int64{2, 7})
	require.Equal(t, []string{"1"}, query(t, s, "SELECT * FROM big_count"))
	require.Equal(t, []string{"6"}, query(t, s, "SELECT * FROM aa_first"))
	before := ids(d)

	// Second apply: nothing changes.
	out = run()
	require.Contains(t, out, "plan: 0 to create, 0 to replace, 0 to drop, 6 unchanged")
	require.Equal(t, before, ids(d))

	// Whitespace, comments, keyword case and IF NOT EXISTS are not changes.
	writeFile(t, dir, "03_other.sql", "-- the total\ncreate materialized view IF NOT EXISTS ev_total as\n  select COUNT(*) as n\n  from ev /* all of it */;\n")
	out = run()
	require.Contains(t, out, "6 unchanged", out)
	require.Equal(t, before, ids(d))

	// A changed view: --dry-run prints the plan and changes nothing.
	views := strings.Replace(viewsSQL, "sum(v) AS total", "sum(v) AS total, max(v) AS top", 1)
	writeFile(t, dir, "02_views.sql", views)
	out = run("--dry-run")
	require.Regexp(t, `replace +materialized view +per_k .*\(definition changed\)`, out)
	require.Regexp(t, `replace +materialized view +big_k .*\(reads per_k\)`, out)
	require.Regexp(t, `replace +materialized view +big_count .*\(reads big_k\)`, out)
	require.Contains(t, out, "plan: 0 to create, 3 to replace, 3 to drop, 3 unchanged")
	require.Contains(t, out, "dry run: nothing was changed")
	require.Equal(t, before, ids(d))
	require.Equal(t, []string{"1|2|15", "2|1|7"}, query(t, s, "SELECT * FROM per_k"))

	// Applied: only the changed view and its dependents are re-created.
	run()
	after := ids(d)
	for _, name := range []string{"ev", "ev_total", "aa_first"} {
		require.Equal(t, before[name], after[name], "%s left alone", name)
	}
	for _, name := range []string{"per_k", "big_k", "big_count"} {
		require.Greater(t, after[name], before[name], "%s replaced", name)
	}
	require.Equal(t, []string{"1|2|15|10", "2|1|7|7"}, query(t, s, "SELECT * FROM per_k"))
	require.Equal(t, []string{"1"}, query(t, s, "SELECT * FROM big_count"))
	out = run()
	require.Contains(t, out, "plan: 0 to create, 0 to replace, 0 to drop, 6 unchanged")

	// A view made by hand on a replaced view is re-created from the catalog.
	require.NoError(t, dbTarget{s}.exec(t.Context(), "CREATE MATERIALIZED VIEW by_hand AS SELECT k FROM big_k"))
	writeFile(t, dir, "02_views.sql", strings.Replace(views, "WHERE n > 1", "WHERE n >= 1", 1))
	before = ids(d)
	out = run()
	require.Regexp(t, `replace +materialized view +by_hand +- +\(reads big_k; re-created from weir_catalog\)`, out)
	after = ids(d)
	require.Equal(t, before["per_k"], after["per_k"])
	require.Greater(t, after["by_hand"], before["by_hand"])
	require.Equal(t, []string{"1", "2"}, query(t, s, "SELECT * FROM by_hand"))

	// Removed files drop nothing without --prune…
	require.NoError(t, os.Remove(filepath.Join(dir, "00_first.sql")))
	require.NoError(t, os.Remove(filepath.Join(dir, "03_other.sql")))
	before = ids(d)
	out = run()
	require.Regexp(t, `keep +materialized view +ev_total +- +\(no file declares it; --prune drops it\)`, out)
	require.Contains(t, out, "0 to drop")
	require.Equal(t, before, ids(d))
	var buf bytes.Buffer
	require.NoError(t, apply([]string{"--pg", addr, dir, "--prune", "--dry-run"}, &buf, logger), "flags after the files")
	out = buf.String()
	require.Regexp(t, `drop +materialized view +aa_first`, out)
	require.Equal(t, before, ids(d))
	// …and drop them with it, dependents first.
	out = run("--prune")
	require.Contains(t, out, "3 to drop", out)
	require.Less(t, strings.Index(out, "aa_first"), strings.Index(out, "ev_total"), out)
	after = ids(d)
	require.NotContains(t, after, "aa_first")
	require.NotContains(t, after, "ev_total")
	require.NotContains(t, after, "by_hand")
	require.Len(t, after, 4)

	// A changed source is kept as it is: replacing it would lose its events.
	writeFile(t, dir, "01_src.sql", strings.Replace(srcSQL, "note text", "note text, extra bigint", 1))
	out = run()
	require.Regexp(t, `keep +source +ev .*definition differs`, out)
	require.Equal(t, after, ids(d))
	require.Equal(t, []string{"3"}, query(t, s, "SELECT count(*) FROM ev"))
}

func TestApplyErrors(t *testing.T) {
	_, srv := applyServer(t)
	addr := srv.PGAddr()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	var out bytes.Buffer
	require.Error(t, apply([]string{"--pg", addr, filepath.Join(dir, "missing.sql")}, &out, logger))
	require.ErrorContains(t, apply([]string{"--pg", addr, dir}, &out, logger), "no .sql files")

	writeFile(t, dir, "a.sql", srcSQL+"\n"+otherSQL)
	writeFile(t, dir, "b.sql", otherSQL)
	require.ErrorContains(t, apply([]string{"--pg", addr, dir}, &out, logger), `"ev_total" is declared twice (first in `)

	writeFile(t, dir, "b.sql", `CREATE MATERIALIZED VIEW v1 AS SELECT * FROM v2; CREATE MATERIALIZED VIEW v2 AS SELECT * FROM v1;`)
	require.ErrorContains(t, apply([]string{"--pg", addr, dir}, &out, logger), "circular dependencies")

	// A statement the server rejects names its file and keeps its SQLSTATE.
	writeFile(t, dir, "b.sql", `CREATE MATERIALIZED VIEW bad AS SELECT nope FROM ev_total;`)
	err := apply([]string{"--pg", addr, dir}, &out, logger)
	require.ErrorContains(t, err, "b.sql: CREATE MATERIALIZED VIEW bad")
	require.ErrorContains(t, err, "42703")
}

func TestParseDecl(t *testing.T) {
	for _, tc := range []struct {
		sql, kind, name string
		deps            []string
	}{
		{`CREATE SOURCE IF NOT EXISTS comments (room_id bigint, ts timestamptz NOT NULL,
		   WATERMARK FOR ts AS ts - INTERVAL '5 seconds') WITH (connector = 'http')`, "source", "comments", nil},
		{`CREATE TABLE "Rooms" (room_id bigint PRIMARY KEY)`, "table", "Rooms", nil},
		{`create materialized view M as select * from a join b using (k), c`, "materialized view", "m", []string{"a", "b", "c"}},
		{`CREATE MATERIALIZED VIEW w AS SELECT room_id, count(*) FROM TUMBLE(comments, ts, INTERVAL '1 minute') t
		   JOIN rooms r USING (room_id) GROUP BY 1 EMIT ON WINDOW CLOSE`, "materialized view", "w", []string{"comments", "rooms"}},
		{`CREATE MATERIALIZED VIEW h AS WITH x AS (SELECT * FROM HOP(likes, ts, INTERVAL '10 seconds', INTERVAL '1 minute'))
		   SELECT * FROM x WHERE k IN (SELECT k FROM keys) UNION ALL SELECT * FROM (SELECT * FROM other) o`,
			"materialized view", "h", []string{"keys", "likes", "other"}},
		{`INSERT INTO rooms VALUES (1) ON CONFLICT (room_id) DO NOTHING`, "", "", []string{"rooms"}},
		{`SHOW SOURCES`, "", "", nil},
	} {
		d, err := parseDecl(tc.sql)
		require.NoError(t, err, tc.sql)
		require.Equal(t, tc.kind, d.kind, tc.sql)
		require.Equal(t, tc.name, d.name, tc.sql)
		require.Equal(t, tc.deps, d.deps, tc.sql)
	}
}

func TestNormalizeSQL(t *testing.T) {
	a := normalizeSQL("CREATE MATERIALIZED VIEW v AS\n  SELECT k, 'A  b' AS s -- note\n  FROM ev")
	require.Equal(t, a, normalizeSQL("/* x */ create materialized view if not exists V as select K, 'A  b' as S from EV"))
	require.NotEqual(t, a, normalizeSQL("CREATE MATERIALIZED VIEW v AS SELECT k, 'a  b' AS s FROM ev"), "string constants keep their case")
	require.NotEqual(t, a, normalizeSQL(`CREATE MATERIALIZED VIEW v AS SELECT "K", 'A  b' AS s FROM ev`), "quoted identifiers keep their case")
}

// TestPruneKeepsSystemRelations: --prune never drops Weir's own relations, such as the
// weir_dead_letters source a Kafka source creates, which no file declares.
func TestPruneKeepsSystemRelations(t *testing.T) {
	files := []packFile{{name: "01.sql", text: "CREATE SOURCE ev (k bigint);"}}
	cat := []catalogEntry{
		{name: "ev", kind: "source", sql: "CREATE SOURCE ev (k bigint)"},
		{name: "weir_dead_letters", kind: "source", sql: "CREATE SOURCE weir_dead_letters (source text NOT NULL)"},
		{name: "old", kind: "source", sql: "CREATE SOURCE old (k bigint)"},
	}
	p, err := planApply(files, cat, true)
	require.NoError(t, err)
	var dropped []string
	for _, s := range p.drops {
		dropped = append(dropped, s.name)
	}
	require.Equal(t, []string{"old"}, dropped)
}
