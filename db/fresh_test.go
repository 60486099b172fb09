package db_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/delta"
)

// TestFlushFreshKeys: a flush writes a touched key's rows without deleting the key's old
// rows from the store first when the key had none at its first touch since the last
// flush (touchedRows.fresh). Random ticks of inserts (repeated rows), upserts and
// deletes, in flush periods of several ticks, across a crash and its replay: after each
// period the store's rows (read with memory reads off, through a flush) must be the
// views' rows in memory, with every repeated row as many times.
func TestFlushFreshKeys(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			dir := t.TempDir()
			d, s := openDurable(t, dir, time.Hour)
			defer func() { d.Close() }()
			for _, q := range []string{
				`CREATE SOURCE s (k bigint NOT NULL, v text)`,
				`CREATE TABLE t (k bigint PRIMARY KEY, v text)`,
				`CREATE MATERIALIZED VIEW pass AS SELECT k, v FROM s WHERE k >= 0`, // every row is a key
				`CREATE MATERIALIZED VIEW tv AS SELECT k, v FROM t`,                // keyed by k
				`CREATE MATERIALIZED VIEW byv AS SELECT v, count(*) AS n FROM t GROUP BY v`,
				`CREATE MATERIALIZED VIEW joined AS SELECT s.v, t.k FROM s JOIN t ON s.k = t.k`,
				// Insert-only views (a filter of a source, a join of two sources): their rows
				// are appended unindexed, and written by a flush without any delete.
				`CREATE SOURCE s2 (k bigint NOT NULL, w text)`,
				`CREATE MATERIALIZED VIEW pairs AS SELECT s.k, s.v, s2.w FROM s JOIN s2 ON s.k = s2.k`,
			} {
				weirExec(t, s, q)
			}
			rng := rand.New(rand.NewPCG(seed, 3))
			word := func() string { return []string{"'a'", "'b'", "'c'", "NULL"}[rng.IntN(4)] }
			check := func(period int) {
				t.Helper()
				for _, v := range []string{"pass", "tv", "byv", "joined", "pairs"} {
					mem := weirRows(t, s, "SELECT * FROM "+v)
					restore := db.MemoryReadsOff()
					stored := weirRows(t, s, "SELECT * FROM "+v)
					restore()
					require.Equal(t, mem, stored, "period %d: view %s in the store", period, v)
				}
				// The reads through the store flushed: the insert-only views are unindexed
				// again, even after the replay that indexed them.
				for v, indexed := range map[string]bool{"pass": false, "pairs": false, "tv": true, "joined": true} {
					require.Equal(t, indexed, d.ViewIndexed(v), "period %d: view %s indexed", period, v)
				}
			}
			for period := range 30 {
				for range 1 + rng.IntN(4) {
					if rng.IntN(8) == 0 {
						weirExec(t, s, fmt.Sprintf("INSERT INTO s2 VALUES (%d, %s), (%d, %s)", rng.IntN(6), word(), rng.IntN(6), word()))
						continue
					}
					switch rng.IntN(4) {
					case 0, 1:
						var rows []string
						for range 1 + rng.IntN(4) {
							rows = append(rows, fmt.Sprintf("(%d, %s)", rng.IntN(6), word()))
						}
						weirExec(t, s, "INSERT INTO s VALUES "+strings.Join(rows, ", "))
					case 2:
						weirExec(t, s, fmt.Sprintf("INSERT INTO t VALUES (%d, %s) ON CONFLICT (k) DO UPDATE SET v = excluded.v", rng.IntN(6), word()))
					case 3:
						weirExec(t, s, fmt.Sprintf("DELETE FROM t WHERE k = %d", rng.IntN(6)))
					}
				}
				if period == 20 {
					d.Crash() // the ticks since the last flush are replayed from the log
					d, s = openDurable(t, dir, time.Hour)
				}
				check(period)
			}
		})
	}
}

// TestInsertOnlyViewConcurrentReads reads insert-only views from memory while ticks
// append to their chunks, small ticks to the tail chunk that the reads' windows share:
// every read must see a prefix of the acknowledged ticks (a count and a sum that agree
// with some acknowledged tick), and the race detector (make test runs -race) must find
// no read of a row being written. Afterwards memory and the store agree.
func TestInsertOnlyViewConcurrentReads(t *testing.T) {
	ctx := context.Background()
	d, s := openDurable(t, t.TempDir(), 20*time.Millisecond)
	defer d.Close()
	weirExec(t, s, `CREATE SOURCE ev (id bigint NOT NULL, room bigint NOT NULL)`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW evens AS SELECT id, room FROM ev WHERE id % 2 = 0`)
	const ticks, perTick = 200, 25
	// After tick k (1-based) evens holds the even ids below k*perTick.
	sums := map[string]bool{"0|NULL": true} // count|sum as a read shows them, before the first tick too
	total, n := int64(0), 0
	for id := range ticks * perTick {
		if id%2 == 0 {
			total += int64(id)
			n++
		}
		if (id+1)%perTick == 0 {
			sums[fmt.Sprintf("%d|%d", n, total)] = true
		}
	}
	last := fmt.Sprintf("%d|%d", n, total)
	done := make(chan error, 1)
	go func() {
		r := d.NewSession(nil)
		for {
			got, err := countSum(ctx, r, `SELECT count(*), sum(id) FROM evens`)
			switch {
			case err != nil:
				done <- err
				return
			case !sums[got]:
				done <- fmt.Errorf("read %s, which no acknowledged tick had", got)
				return
			case got == last:
				done <- nil
				return
			}
		}
	}()
	for k := range ticks {
		rows := make([][]delta.Value, perTick)
		for j := range rows {
			id := int64(k*perTick + j)
			rows[j] = []delta.Value{delta.Int(id), delta.Int(id % 5)}
		}
		require.NoError(t, d.Ingest(ctx, "ev", rows))
	}
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("the reader never saw the last tick")
	}
	require.False(t, d.ViewIndexed("evens"))
	mem := weirRows(t, s, `SELECT * FROM evens`)
	restore := db.MemoryReadsOff()
	stored := weirRows(t, s, `SELECT * FROM evens`)
	restore()
	require.Equal(t, mem, stored)
	require.Len(t, mem, n)
}

// countSum runs q, which returns one row of a count and a sum, and renders it as
// canonRow does ("count|sum"), returning errors rather than failing the test: it runs
// off the test's goroutine.
func countSum(ctx context.Context, s *db.Session, q string) (string, error) {
	p, err := s.Prepare(ctx, q, nil)
	if err != nil {
		return "", err
	}
	rows, err := p.Execute(ctx, nil)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	dst := make([]any, 2)
	if !rows.Next(dst) {
		return "", fmt.Errorf("no row: %v", rows.Err())
	}
	return canonRow(dst), rows.Err()
}
