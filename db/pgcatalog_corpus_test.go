package db_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/pgtest"
)

// corpusQuery is one entry of testdata/pgcorpus: a query a BI tool or driver sends.
type corpusQuery struct {
	file, name, check, sql string
	differs                []string // columns whose type family is a known difference
}

// loadCorpus reads every testdata/pgcorpus/*.sql file (format in its README.md).
func loadCorpus(t *testing.T) []corpusQuery {
	t.Helper()
	files, err := filepath.Glob("../testdata/pgcorpus/*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out []corpusQuery
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		var cur *corpusQuery
		for _, line := range strings.Split(string(b), "\n") {
			switch {
			case strings.HasPrefix(line, "-- name: "):
				out = append(out, corpusQuery{file: filepath.Base(f), name: strings.TrimPrefix(line, "-- name: ")})
				cur = &out[len(out)-1]
			case cur != nil && strings.HasPrefix(line, "-- differs: "):
				cur.differs = strings.Fields(strings.TrimPrefix(line, "-- differs: "))
			case cur != nil && strings.HasPrefix(line, "-- check: "):
				cur.check = strings.TrimSpace(strings.TrimPrefix(line, "-- check: "))
			case cur != nil:
				cur.sql += line + "\n"
			}
		}
	}
	for i := range out {
		out[i].sql = strings.TrimSpace(out[i].sql)
		require.Contains(t, []string{"rows", "count", "columns", "ok"}, out[i].check, "%s: %s", out[i].file, out[i].name)
	}
	return out
}

// corpusResult is what a server answered to a corpus query.
type corpusResult struct {
	columns []string // name:family
	rows    []string // text values joined by |
}

func runCorpusQuery(ctx context.Context, conn *pgx.Conn, sql string) (*corpusResult, error) {
	rows, err := conn.Query(ctx, sql, pgx.QueryResultFormats{pgx.TextFormatCode})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	res := &corpusResult{}
	for _, f := range rows.FieldDescriptions() {
		res.columns = append(res.columns, f.Name+":"+typeFamily(f.DataTypeOID))
	}
	for rows.Next() {
		var vals []string
		for _, v := range rows.RawValues() {
			if v == nil {
				vals = append(vals, "NULL")
			} else {
				vals = append(vals, string(v))
			}
		}
		res.rows = append(res.rows, strings.Join(vals, "|"))
	}
	return res, rows.Err()
}

// typeFamily groups the type OIDs clients read alike (see testdata/pgcorpus/README.md).
func typeFamily(oid uint32) string {
	switch oid {
	case 16:
		return "bool"
	case 20, 21, 23, 26, 28, 29:
		return "int"
	case 700, 701:
		return "float"
	case 1700:
		return "numeric"
	case 114, 3802:
		return "json"
	case 1082, 1083, 1114, 1184, 1186:
		return "time"
	case 18, 19, 25, 194, 705, 1042, 1043, 2205, 2206, 4089, 4096, 24, 1033:
		return "text"
	}
	if oid >= 1000 && oid < 1300 || oid == 22 || oid == 30 || oid == 1034 {
		return "array"
	}
	return fmt.Sprint(oid)
}

// normalizeCorpusRow makes PostgreSQL's rows comparable: its superuser and database
// are postgres, Weir's weir.
func normalizeCorpusRow(s string) string { return strings.ReplaceAll(s, "postgres", "weir") }

// TestClientCorpus replays the BI tools' and drivers' introspection queries
// (testdata/pgcorpus) against Weir and PostgreSQL 15 holding the same schema, over pgx's
// extended protocol, and compares what each entry's check names.
func TestClientCorpus(t *testing.T) {
	corpus := loadCorpus(t)
	host, port := startCatalogServer(t)
	ctx := t.Context()
	weir, err := pgx.Connect(ctx, fmt.Sprintf("postgres://weir@%s:%s/weir?sslmode=disable", host, port))
	require.NoError(t, err)
	defer weir.Close(context.Background())
	pg := pgtest.Start(t)
	pgc, err := pgx.Connect(ctx, pg.DSN())
	require.NoError(t, err)
	defer pgc.Close(context.Background())
	for _, s := range catalogSchema {
		_, err := weir.Exec(ctx, s)
		require.NoError(t, err, s)
		s = strings.Replace(s, "CREATE SOURCE", "CREATE TABLE", 1)
		if i := strings.Index(s, " WITH ("); i >= 0 {
			s = s[:i]
		}
		_, err = pgc.Exec(ctx, s)
		require.NoError(t, err, s)
	}
	for _, q := range corpus {
		t.Run(q.file+"/"+q.name, func(t *testing.T) {
			want, err := runCorpusQuery(ctx, pgc, q.sql)
			require.NoError(t, err, "PostgreSQL 15 rejects the corpus query")
			got, err := runCorpusQuery(ctx, weir, q.sql)
			require.NoError(t, err, "Weir: %s", q.sql)
			if q.check == "ok" {
				return
			}
			for _, d := range q.differs { // "name:pgfamily→weirfamily"
				from, to, _ := strings.Cut(d, "→")
				for i, c := range want.columns {
					if c == from {
						want.columns[i] = strings.SplitN(from, ":", 2)[0] + ":" + to
					}
				}
			}
			require.Equal(t, want.columns, got.columns, "columns (name:family): PostgreSQL (want) vs Weir (got)")
			switch q.check {
			case "count":
				require.Len(t, got.rows, len(want.rows), "rows: PostgreSQL %q vs Weir %q", want.rows, got.rows)
			case "rows":
				for i := range want.rows {
					want.rows[i] = normalizeCorpusRow(want.rows[i])
				}
				require.Equal(t, want.rows, got.rows, "rows: PostgreSQL (want) vs Weir (got)")
			}
		})
	}
}
