package db_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/storage/viewstore"
)

// segmentsFrom makes flushes of rows rows or more of a relation segments, deleted as
// soon as they are replaced, for the test.
func segmentsFrom(t *testing.T, rows int) {
	minRows, grace := viewstore.SegmentMinRows, viewstore.SegmentGrace
	viewstore.SegmentMinRows, viewstore.SegmentGrace = rows, 0
	t.Cleanup(func() { viewstore.SegmentMinRows, viewstore.SegmentGrace = minRows, grace })
}

// TestSourceSegments: a source whose large flushes go to Parquet segments and small ones
// to its table answers ad-hoc reads, backfills a view created after the fact, and
// recovers after a crash with every acknowledged event counted once; so does a view that
// only gains rows, whose large flushes go to segments too.
func TestSourceSegments(t *testing.T) {
	segmentsFrom(t, 100)
	dir := t.TempDir()
	segments := func() int {
		entries, err := os.ReadDir(filepath.Join(dir, "segments"))
		if os.IsNotExist(err) {
			return 0
		}
		require.NoError(t, err)
		return len(entries)
	}
	var (
		d *db.DB
		s *db.Session
	)
	ingest := func(from, to int) { // one tick, flushed by a read of the source
		var rows [][]delta.Value
		for j := from; j < to; j++ {
			rows = append(rows, []delta.Value{delta.Int(int64(j)), delta.Int(int64(j % 7))})
		}
		require.NoError(t, d.Ingest(context.Background(), "ev", rows))
		weirRows(t, s, "SELECT count(*) FROM ev")
	}
	want := func(n int) (total string, perRoom []string) {
		sum := 0
		for id := range n {
			sum += id
		}
		for room := range 7 {
			c, ids := 0, 0
			for id := room; id < n; id += 7 {
				c, ids = c+1, ids+id
			}
			perRoom = append(perRoom, fmt.Sprintf("%d|%d|%d", room, c, ids))
		}
		return fmt.Sprintf("%d|%d", n, sum), perRoom
	}
	check := func(s *db.Session, n int, withView bool) {
		t.Helper()
		total, perRoom := want(n)
		require.Equal(t, []string{total}, weirRows(t, s, "SELECT count(*), sum(id) FROM ev"))
		require.Equal(t, perRoom, weirRows(t, s, "SELECT room, count(*), sum(id) FROM ev GROUP BY room ORDER BY room"))
		if withView {
			require.Equal(t, perRoom, weirRows(t, s, "SELECT * FROM per_room ORDER BY room"))
			evens, sum := 0, 0
			for id := 0; id < n; id += 2 {
				evens, sum = evens+1, sum+id
			}
			require.Equal(t, []string{fmt.Sprintf("%d|%d", evens, sum)}, weirRows(t, s, "SELECT count(*), sum(id) FROM evens"))
		}
	}

	d, s = openDurable(t, dir, -1) // every tick flushes
	weirExec(t, s, `CREATE SOURCE ev (id bigint NOT NULL, room bigint NOT NULL)`)
	ingestRange(t, d, 0, 50) // ticks of 10 rows: the table
	require.Zero(t, segments())
	ingest(50, 400) // a segment
	ingestRange(t, d, 400, 420)
	ingest(420, 700) // another
	require.Equal(t, 2, segments())
	check(s, 700, false)
	weirExec(t, s, `CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n, sum(id) AS ids FROM ev GROUP BY room`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW evens AS SELECT id, room FROM ev WHERE id % 2 = 0`)
	check(s, 700, true)
	require.Equal(t, 2, segments())
	ingest(700, 900) // a segment of ev and one of evens
	require.Equal(t, 4, segments())
	ingestRange(t, d, 900, 905)
	check(s, 905, true)
	d.Crash()

	d, s = openDurable(t, dir, time.Hour) // from here on the log holds what is acknowledged
	check(s, 905, true)
	ingest(905, 1200)
	ingestRange(t, d, 1200, 1230)
	d.Crash()
	d, s = openDurable(t, dir, -1)
	check(s, 1230, true)
	require.Equal(t, 4, segments(), "the 325 rows replayed from the log make ev's fourth segment; recovery rewrote evens as a table")
	weirExec(t, s, `DROP MATERIALIZED VIEW per_room`)
	weirExec(t, s, `DROP MATERIALIZED VIEW evens`)
	weirExec(t, s, `DROP SOURCE ev`)
	require.Zero(t, segments())
	weirExec(t, s, `CREATE SOURCE ev (id bigint NOT NULL, room bigint NOT NULL)`)
	require.Equal(t, []string{"0|NULL"}, weirRows(t, s, "SELECT count(*), sum(id) FROM ev"))
	require.NoError(t, d.Close())
}

// TestSegmentsMergeInBackground: the background merge loop merges full tiers of
// segments, and reads see every event once before and after.
func TestSegmentsMergeInBackground(t *testing.T) {
	segmentsFrom(t, 10)
	dir := t.TempDir()
	d, s := openDurable(t, dir, 5*time.Millisecond)
	defer d.Close()
	weirExec(t, s, `CREATE SOURCE ev (id bigint NOT NULL, room bigint NOT NULL)`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n FROM ev GROUP BY room`)
	sum := 0
	for k := range 40 {
		var rows [][]delta.Value
		for j := 20 * k; j < 20*(k+1); j++ {
			rows = append(rows, []delta.Value{delta.Int(int64(j)), delta.Int(int64(j % 3))})
			sum += j
		}
		require.NoError(t, d.Ingest(context.Background(), "ev", rows))
		require.Equal(t, []string{fmt.Sprintf("%d|%d", 20*(k+1), sum)}, weirRows(t, s, "SELECT count(*), sum(id) FROM ev"))
	}
	// 40 segments of 20 rows: five merges make them five of tier 1 once the merge loop
	// has run (it wakes every second).
	deadline := time.Now().Add(20 * time.Second)
	for {
		entries, err := os.ReadDir(filepath.Join(dir, "segments"))
		require.NoError(t, err)
		if len(entries) == 5 {
			break
		}
		require.True(t, time.Now().Before(deadline), "%d segment files after 20 s", len(entries))
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, []string{fmt.Sprintf("800|%d", sum)}, weirRows(t, s, "SELECT count(*), sum(id) FROM ev"))
	require.Equal(t, []string{"0|267", "1|267", "2|266"}, weirRows(t, s, "SELECT room, n FROM per_room ORDER BY room"))
	require.Equal(t, []string{"5|800"}, weirRows(t, s, `SELECT count(*), sum("rows") FROM weir_segments WHERE relation = 'ev'`))
}
