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
// in the view exactly once and no bad one is, whatever group commits they landed in.
func TestIngestGroupCommit(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{Dir: t.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer d.Close()
	s := d.NewSession(nil)
	for _, q := range []string{
		`CREATE SOURCE ev (w bigint NOT NULL, k bigint NOT NULL, d bigint NOT NULL)`,
		`CREATE MATERIALIZED VIEW per_w AS SELECT w, count(*) AS n, sum(100 / d) AS s FROM ev GROUP BY w`,
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
	t.Logf("%d requests in %d group commits", workers*requests, d.IngestTicks())
}
