package viewstore_test

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/storage/viewstore"
)

// segmentRow is row i of a source of chunkColumns: ordinary values, the edges of each
// type (NaN, -0 and infinite floats, the integer and time bounds, empty and non-ASCII
// text) and NULLs.
func segmentRow(i int) []delta.Value {
	r := []delta.Value{I(int64(i) - 2500), I(1_780_000_000_000_000 + int64(i)*1_001), I(-int64(i) * 7_000_001),
		S(fmt.Sprintf("row %d é 👍🏽", i)), F(float64(i) / 3), B(i%2 == 0), I(int64(i%300) - 150),
		I(int64(i) * 1000), I(int64(i) - 1000), S(""), delta.Numeric(fmt.Sprintf("%d.%02d", i, i%100)),
		delta.Jsonb(fmt.Sprintf(`{"a": %d}`, i)), F(float64(float32(float64(i) / 7)))}
	switch i % 9 {
	case 1:
		r[4], r[12] = F(math.NaN()), F(math.Inf(-1))
	case 2:
		r[4], r[12] = F(math.Copysign(0, -1)), F(math.Inf(1))
	case 3:
		r[0], r[1], r[2] = I(math.MaxInt64), I(us("2262-04-11 23:47:16.854775")), I(us("0001-01-01 00:00:00"))
	case 4:
		r[0], r[8], r[6], r[7] = I(math.MinInt64), I(days("9999-12-31")), I(math.MinInt16), I(math.MaxInt32)
	}
	if i%7 == 0 {
		r[i%len(r)] = delta.Null(r[i%len(r)].Kind)
	}
	return r
}

// segmentBatch is rows from to to-1 of a source (segmentRow).
func segmentBatch(rel *catalog.Relation, from, to int) *delta.Batch {
	b := delta.New(kindsOf(rel))
	for i := from; i < to; i++ {
		b.AppendRow(segmentRow(i), 1)
	}
	return b
}

// segmentFiles lists the files in the segments directory beside the store at path.
func segmentFiles(t *testing.T, path string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(filepath.Dir(path), "segments"))
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestSegments follows a source whose flushes go to its table or, from SegmentMinRows
// rows on, to Parquet segments: every scan holds exactly the rows committed, whichever
// way they went, through a rollback, a reopen, a move of the data directory, a drop and a
// second source of the same name.
func TestSegments(t *testing.T) {
	viewstore.SetSegmentMinRows(t, 100)
	viewstore.SetSegmentGrace(t, 0)
	dir := t.TempDir()
	path := filepath.Join(dir, "weir.duckdb")
	s, err := viewstore.Open(t.Context(), path, nil)
	require.NoError(t, err)
	rel := relation(1, "events", catalog.Source, chunkColumns()...)
	var want []string
	insert := func(s *viewstore.Store, tick uint64, bs ...*delta.Batch) {
		t.Helper()
		inTick(t, s, tick, func(tx *viewstore.Tx) { require.NoError(t, tx.InsertBatches(rel, bs)) })
		for _, b := range bs {
			want = append(want, rows(b)...)
		}
		slices.Sort(want)
		require.Equal(t, want, scan(t, s, rel))
	}
	inTick(t, s, 1, func(tx *viewstore.Tx) { require.NoError(t, tx.CreateRelation(rel)) })
	insert(s, 2, segmentBatch(rel, 0, 10))
	require.Empty(t, segmentFiles(t, path), "10 rows go to the table")
	insert(s, 3, segmentBatch(rel, 10, 70), segmentBatch(rel, 70, 130))
	require.Len(t, segmentFiles(t, path), 1, "120 rows in two batches make one segment")
	insert(s, 4, segmentBatch(rel, 130, 140))
	require.Len(t, segmentFiles(t, path), 1, "10 rows go to the tail")
	insert(s, 5, segmentBatch(rel, 140, 400))
	require.Len(t, segmentFiles(t, path), 2)

	// A segment whose transaction rolls back is deleted with it.
	tx, err := s.Begin(t.Context())
	require.NoError(t, err)
	require.NoError(t, tx.InsertBatches(rel, []*delta.Batch{segmentBatch(rel, 400, 600)}))
	require.Len(t, segmentFiles(t, path), 3)
	tx.Rollback()
	require.Len(t, segmentFiles(t, path), 2)
	require.Equal(t, want, scan(t, s, rel))
	require.NoError(t, s.Close())

	// A file no transaction recorded (one a crash left before its commit) is deleted when
	// the store opens; the segments are found again after a move of the data directory.
	orphan := filepath.Join(dir, "segments", "1-00000000deadbeef.parquet")
	require.NoError(t, os.WriteFile(orphan, []byte("PAR1"), 0o644))
	moved := filepath.Join(t.TempDir(), "moved")
	require.NoError(t, os.Rename(dir, moved))
	path = filepath.Join(moved, "weir.duckdb")
	s = open(t, path)
	require.Len(t, segmentFiles(t, path), 2, "the orphan is gone")
	require.Equal(t, want, scan(t, s, rel))
	insert(s, 6, segmentBatch(rel, 600, 800))
	insert(s, 7, segmentBatch(rel, 800, 801))
	require.Len(t, segmentFiles(t, path), 3)

	// Dropping the source drops its segments once the drop commits; a source created
	// again under its name starts empty, in a table of its own.
	inTick(t, s, 8, func(tx *viewstore.Tx) {
		require.NoError(t, tx.DropRelation(rel.Name))
		require.Len(t, segmentFiles(t, path), 3)
	})
	require.Empty(t, segmentFiles(t, path))
	rel = relation(2, "events", catalog.Source, chunkColumns()...)
	want = nil
	inTick(t, s, 9, func(tx *viewstore.Tx) { require.NoError(t, tx.CreateRelation(rel)) })
	require.Empty(t, scan(t, s, rel))
	insert(s, 10, segmentBatch(rel, 0, 5))
	insert(s, 11, segmentBatch(rel, 5, 205))
	require.Len(t, segmentFiles(t, path), 1)
	require.NoError(t, s.Close())

	// A recorded segment that is missing fails the open: the history it held is lost.
	require.NoError(t, os.Remove(filepath.Join(moved, "segments", segmentFiles(t, path)[0])))
	_, err = viewstore.Open(t.Context(), path, nil)
	require.Error(t, err)
	require.Equal(t, sqlerr.DataCorrupted, sqlerr.CodeOf(err), "%v", err)
}

// TestSegmentsOnlyOnDisk: an in-memory store, a table and a source with a column
// Parquet would not hold exactly keep their rows in DuckDB tables however many come.
func TestSegmentsOnlyOnDisk(t *testing.T) {
	viewstore.SetSegmentMinRows(t, 10)
	path := filepath.Join(t.TempDir(), "weir.duckdb")
	for _, tc := range []struct {
		name string
		path string
		rel  *catalog.Relation
	}{
		{"in memory", "", relation(1, "src", catalog.Source, chunkColumns()...)},
		{"a table", path, relation(2, "tbl", catalog.Table, chunkColumns()...)},
		{"a decimal column", path, relation(3, "dec", catalog.Source, catalog.Column{Name: "n", Type: catalog.Numeric, Precision: 12, Scale: 2})},
		{"an interval column", path, relation(4, "iv", catalog.Source, catalog.Column{Name: "iv", Type: catalog.Interval})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, tc.path)
			b := delta.New(kindsOf(tc.rel))
			for i := range 50 {
				switch tc.rel.Columns[0].Type {
				case catalog.Numeric:
					b.AppendRow([]delta.Value{delta.Numeric(fmt.Sprintf("%d.25", i))}, 1)
				case catalog.Interval:
					b.AppendRow([]delta.Value{delta.Interval(1, 2, int64(i))}, 1)
				default:
					b.AppendRow(segmentRow(i), 1)
				}
			}
			inTick(t, s, 1, func(tx *viewstore.Tx) {
				require.NoError(t, tx.CreateRelation(tc.rel))
				require.NoError(t, tx.InsertBatches(tc.rel, []*delta.Batch{b}))
			})
			require.Equal(t, rows(b), scan(t, s, tc.rel))
			if tc.path != "" {
				require.Empty(t, segmentFiles(t, tc.path))
			}
			require.NoError(t, s.Close())
		})
	}
}

// TestViewSegments: a view's appended rows go to segments like a source's; a delete
// (DeleteMatching) or a Truncate makes it a table again, holding exactly the rows it
// should, and its segments go once that commits.
func TestViewSegments(t *testing.T) {
	viewstore.SetSegmentMinRows(t, 100)
	viewstore.SetSegmentGrace(t, 0)
	path := filepath.Join(t.TempDir(), "weir.duckdb")
	s := open(t, path)
	rel := relation(1, "v", catalog.View, chunkColumns()...)
	var want []string
	appendRows := func(tick uint64, from, to int) {
		t.Helper()
		b := segmentBatch(rel, from, to)
		inTick(t, s, tick, func(tx *viewstore.Tx) { require.NoError(t, tx.InsertBatches(rel, []*delta.Batch{b})) })
		want = append(want, rows(b)...)
		slices.Sort(want)
		require.Equal(t, want, scan(t, s, rel))
	}
	inTick(t, s, 1, func(tx *viewstore.Tx) { require.NoError(t, tx.CreateRelation(rel)) })
	appendRows(2, 0, 150)
	appendRows(3, 150, 160)
	appendRows(4, 160, 300)
	require.Len(t, segmentFiles(t, path), 2)

	// Delete the rows whose first column is that of rows 5, 155 and 205: one in each of
	// the segments and the tail.
	keys := delta.New([]delta.Kind{delta.KindInt})
	gone := map[string]bool{}
	for _, i := range []int{5, 155, 205} {
		keys.AppendRow([]delta.Value{segmentRow(i)[0]}, 1)
		gone[rows(segmentBatch(rel, i, i+1))[0]] = true
	}
	inTick(t, s, 5, func(tx *viewstore.Tx) {
		require.NoError(t, tx.DeleteMatching(rel, []int{0}, keys))
		require.Len(t, segmentFiles(t, path), 2, "until the delete commits")
	})
	require.Empty(t, segmentFiles(t, path))
	want = slices.DeleteFunc(want, func(r string) bool { return gone[r] })
	require.Len(t, want, 297)
	require.Equal(t, want, scan(t, s, rel))
	appendRows(6, 300, 310) // the table again
	appendRows(7, 310, 500) // and a segment again
	require.Len(t, segmentFiles(t, path), 1)

	// A Truncate (recovery rewriting a view) empties it; what comes after is kept.
	b := segmentBatch(rel, 1000, 1010)
	inTick(t, s, 8, func(tx *viewstore.Tx) {
		require.NoError(t, tx.Truncate(rel))
		require.NoError(t, tx.Insert(rel, b))
	})
	require.Empty(t, segmentFiles(t, path))
	require.Equal(t, rows(b), scan(t, s, rel))
	require.NoError(t, s.Close())
	s = open(t, path)
	require.Equal(t, rows(b), scan(t, s, rel))
}

// TestSegmentCompaction: MergeSegments merges segments by tier, SegmentFanout at a time,
// so that no tier keeps SegmentFanout of them; the files a merge replaced stay for
// SegmentGrace (a read on an older snapshot may still open them) and go when the store
// closes. A relation dropped while its segments were being merged keeps them.
func TestSegmentCompaction(t *testing.T) {
	viewstore.SetSegmentMinRows(t, 10)
	viewstore.SetSegmentGrace(t, time.Hour)
	path := filepath.Join(t.TempDir(), "weir.duckdb")
	s := open(t, path)
	rel := relation(1, "events", catalog.Source, chunkColumns()...)
	inTick(t, s, 1, func(tx *viewstore.Tx) { require.NoError(t, tx.CreateRelation(rel)) })
	noLock := func() func() { return func() {} }
	merge := func() int {
		merges := 0
		for {
			merged, err := s.MergeSegments(t.Context(), noLock)
			require.NoError(t, err)
			if !merged {
				return merges
			}
			merges++
		}
	}
	segments := func() (tiers map[int]int, rows int64) {
		t.Helper()
		tiers = map[int]int{}
		res, err := s.DB().QueryContext(t.Context(), `SELECT "rows" FROM `+viewstore.SegmentsTable+` WHERE relation = 'events'`)
		require.NoError(t, err)
		defer res.Close()
		for res.Next() {
			var n int64
			require.NoError(t, res.Scan(&n))
			tier := 0
			for limit := int64(10 * viewstore.SegmentFanout); n >= limit; limit *= viewstore.SegmentFanout {
				tier++
			}
			tiers[tier]++
			rows += n
		}
		require.NoError(t, res.Err())
		return tiers, rows
	}
	var want []string
	next := 0
	for flush := range 70 {
		n := 10 + flush%7
		b := segmentBatch(rel, next, next+n)
		next += n
		inTick(t, s, uint64(flush+2), func(tx *viewstore.Tx) { require.NoError(t, tx.InsertBatches(rel, []*delta.Batch{b})) })
		want = append(want, rows(b)...)
		merges := merge()
		tiers, inSegments := segments()
		for tier, k := range tiers {
			require.Less(t, k, viewstore.SegmentFanout, "flush %d: tier %d", flush, tier)
		}
		require.Equal(t, int64(next), inSegments, "every row is in exactly one live segment")
		if flush == 7 {
			require.Equal(t, 1, merges)
			require.Equal(t, map[int]int{1: 1}, tiers, "the eighth segment of tier 0 merges them")
			require.Len(t, segmentFiles(t, path), 9, "the merged files stay for the grace")
		}
	}
	slices.Sort(want)
	require.Equal(t, want, scan(t, s, rel))
	tiers, _ := segments()
	require.Equal(t, 1, tiers[2], "eight segments of tier 1 made one of tier 2: %v", tiers)
	live := 0
	for _, k := range tiers {
		live += k
	}
	require.Greater(t, len(segmentFiles(t, path)), live)
	require.NoError(t, s.Close())
	require.Len(t, segmentFiles(t, path), live, "closing deletes the retired files")
	s = open(t, path)
	require.Equal(t, want, scan(t, s, rel))

	// Seven more segments of tier 0 and one of them being merged when the source is
	// dropped: the merge gives up, and its file goes.
	for k := range 8 {
		b := segmentBatch(rel, next, next+10)
		next += 10
		inTick(t, s, uint64(100+k), func(tx *viewstore.Tx) { require.NoError(t, tx.InsertBatches(rel, []*delta.Batch{b})) })
	}
	merged, err := s.MergeSegments(t.Context(), func() func() {
		inTick(t, s, 200, func(tx *viewstore.Tx) { require.NoError(t, tx.DropRelation(rel.Name)) })
		return func() {}
	})
	require.NoError(t, err)
	require.False(t, merged)
	require.NoError(t, s.Close())
	require.Empty(t, segmentFiles(t, path))
}
