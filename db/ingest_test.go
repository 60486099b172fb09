package db_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/delta"
)

// TestIngestGroupCommit: concurrent ingests, some bad, are all answered; every good one is
// in the view exactly once and no bad one is, whatever group commits they landed in. A
// bad request fails through a data exception in a join condition, which (unlike one in
// a select list, WHERE or aggregate) rejects the write.
func TestIngestGroupCommit(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{Dir: t.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer d.Close()
	s := d.NewSession(nil)
	for _, q := range []string{
		`CREATE SOURCE ev (w bigint NOT NULL, k bigint NOT NULL, d bigint NOT NULL)`,
		`CREATE TABLE divs (k bigint PRIMARY KEY)`,
		`INSERT INTO divs VALUES (0), (1), (2), (3), (4), (5), (6), (7)`,
		`CREATE MATERIALIZED VIEW per_w AS SELECT w, count(*) AS n, sum(100 / d) AS s FROM ev GROUP BY w`,
		`CREATE MATERIALIZED VIEW guard AS SELECT ev.w, count(*) AS n FROM ev JOIN divs ON ev.w = divs.k AND 100 / ev.d >= 0 GROUP BY ev.w`,
	} {
		weirExec(t, s, q)
	}
	const workers, requests, rows = 8, 40, 25
	var wg sync.WaitGroup
	errs := make([][]error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < requests; r++ {
				batch := make([][]delta.Value, rows)
				for i := range batch {
					div := int64(1)
					if w == 0 && r%10 == 3 && i == 7 {
						div = 0 // this request makes the view fail: rejected whole
					}
					batch[i] = []delta.Value{delta.Int(int64(w)), delta.Int(int64(r*rows + i)), delta.Int(div)}
				}
				errs[w] = append(errs[w], d.Ingest(ctx, "ev", batch))
			}
		}(w)
	}
	wg.Wait()
	want := map[int]int{}
	for w := 0; w < workers; w++ {
		for r, err := range errs[w] {
			if w == 0 && r%10 == 3 {
				require.Error(t, err, "worker %d request %d", w, r)
				continue
			}
			require.NoError(t, err, "worker %d request %d", w, r)
			want[w] += rows
		}
	}
	var wantRows []string
	for w := 0; w < workers; w++ {
		wantRows = append(wantRows, fmt.Sprintf("%d|%d|%d", w, want[w], want[w]*100))
	}
	require.ElementsMatch(t, wantRows, weirRows(t, s, "SELECT * FROM per_w"))
	require.Empty(t, weirRows(t, s, "SELECT * FROM weir_view_errors"), "rejected writes leave no row errors")
	t.Logf("%d requests in %d group commits", workers*requests, d.IngestTicks())
}

// TestRowErrorsTable: a row that hits a data exception in a view's select list is set
// aside and listed in weir_view_errors; the write succeeds and the rest of the view is
// right; deleting the row removes the error; the errors survive a restart.
func TestRowErrorsTable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(ctx, db.Config{Dir: dir}, logger)
	require.NoError(t, err)
	s := d.NewSession(nil)
	for _, q := range []string{
		`CREATE TABLE t (k bigint PRIMARY KEY, d integer)`,
		`INSERT INTO t VALUES (1, 4), (2, 0), (3, 5)`,
		`CREATE MATERIALIZED VIEW q AS SELECT k, 100 / d AS r FROM t`,
		`CREATE MATERIALIZED VIEW total AS SELECT sum(100 / d) AS s, count(*) AS n FROM t`,
		`INSERT INTO t VALUES (4, 0)`,
	} {
		weirExec(t, s, q)
	}
	require.Equal(t, []string{"1|25", "3|20"}, weirRows(t, s, "SELECT * FROM q"))
	require.Equal(t, []string{"45|2"}, weirRows(t, s, "SELECT * FROM total"))
	errs := weirRows(t, s, "SELECT view, code, input FROM weir_view_errors")
	require.Equal(t, []string{"q|22012|(2, 0)", "q|22012|(4, 0)", "total|22012|(2, 0)", "total|22012|(4, 0)"}, errs)
	d.Close()

	d, err = db.Open(ctx, db.Config{Dir: dir}, logger)
	require.NoError(t, err)
	defer d.Close()
	s = d.NewSession(nil)
	require.Equal(t, errs, weirRows(t, s, "SELECT view, code, input FROM weir_view_errors"), "errors survive a restart")
	weirExec(t, s, `DELETE FROM t WHERE k = 2`)
	weirExec(t, s, `UPDATE t SET d = 10 WHERE k = 4`)
	require.Empty(t, weirRows(t, s, "SELECT * FROM weir_view_errors"))
	require.Equal(t, []string{"1|25", "3|20", "4|10"}, weirRows(t, s, "SELECT * FROM q"))
	weirExec(t, s, `DROP MATERIALIZED VIEW q`)
	weirExec(t, s, `INSERT INTO t VALUES (5, 0)`)
	require.Equal(t, []string{"total|(5, 0)"}, weirRows(t, s, "SELECT view, input FROM weir_view_errors"))
}
