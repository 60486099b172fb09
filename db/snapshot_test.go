package db_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/delta"
)

// TestConsistentSnapshots: two views over one source, compared in one SELECT while
// writers ingest concurrently, must never disagree: every read sees both at one tick.
func TestConsistentSnapshots(t *testing.T) {
	if testing.Short() {
		t.Skip("concurrent ingest for a few seconds")
	}
	d, s := newEventTimeDB(t, t.TempDir())
	for _, q := range []string{
		`CREATE SOURCE ev (room bigint NOT NULL, amount integer NOT NULL)`,
		`CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n, sum(amount) AS total FROM ev GROUP BY room`,
		`CREATE MATERIALIZED VIEW overall AS SELECT count(*) AS n, sum(amount) AS total FROM ev`,
	} {
		weirExec(t, s, q)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var written atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil && i < 100000; i++ {
				rows := make([][]delta.Value, 1+i%50)
				for j := range rows {
					rows[j] = []delta.Value{delta.Int(int64((w*7 + i + j) % 13)), delta.Int(int64(j + 1))}
				}
				if err := d.Ingest(context.Background(), "ev", rows); err != nil {
					t.Error(err)
					return
				}
				written.Add(int64(len(rows)))
			}
		}()
	}
	reads := 0
	for ctx.Err() == nil {
		got := weirRows(t, s, `SELECT (SELECT sum(n) FROM per_room) = (SELECT n FROM overall) AND
			(SELECT sum(total) FROM per_room) = (SELECT total FROM overall), (SELECT n FROM overall) FROM overall`)
		require.Len(t, got, 1)
		require.Regexp(t, `^(true|NULL)\|`, got[0], "read %d: the two views disagree", reads)
		reads++
	}
	wg.Wait()
	final := weirRows(t, s, "SELECT n FROM overall")
	require.Equal(t, []string{fmt.Sprint(written.Load())}, final)
	t.Logf("%d reads during %d ingested events; the views agreed in every one", reads, written.Load())
}
