package viewstore_test

import (
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/storage/viewstore"
)

// randText returns n random lowercase letters (as Nexmark's generator pads records): a
// window of a random text, which compresses as little as the generator's.
func randText(r *rand.Rand, n int) string {
	const pool = 1 << 16
	if letters == "" {
		b := make([]byte, pool)
		for i := range b {
			b[i] = byte('a' + r.IntN(26))
		}
		letters = string(b)
	}
	at := r.IntN(pool - n)
	return letters[at : at+n]
}

var letters string

// BenchmarkBidInsert is the flush of Nexmark's bid source: rows of three bigints, a
// timestamptz and three texts (about 100 bytes in all) inserted into DuckDB, 30k or
// 150k rows a transaction. insert-ns/row is the INSERT (weir_batch filling DuckDB's
// chunks, DuckDB appending them); commit-ns/row is the COMMIT (DuckDB's WAL, and the
// checkpoints it runs every 16 MiB of WAL); final-ckpt-ns/row is a CHECKPOINT after the
// last, which writes what the WAL still holds.
//
// In /segment, the rows go through InsertBatches as a flush's source history does, as
// one Parquet segment a transaction (segments.go); then the table's checkpoints are
// gone, and final-ckpt-ns/row is what a last CHECKPOINT costs.
func BenchmarkBidInsert(b *testing.B) {
	for _, per := range []int{30_000, 150_000} {
		for _, segment := range []bool{false, true} {
			name := fmt.Sprint(per)
			if segment {
				name += "/segment"
			}
			b.Run(name, func(b *testing.B) {
				if segment {
					viewstore.SetSegmentMinRows(b, 1)
				}
				s, rel, dir := bidStore(b)
				ev := bids(per)
				var ins, com time.Duration
				b.ResetTimer()
				for n := range b.N {
					t0 := time.Now()
					tx, err := s.Begin(b.Context())
					if err != nil {
						b.Fatal(err)
					}
					insert := func() error { return tx.Insert(rel, ev) }
					if segment {
						insert = func() error { return tx.InsertBatches(rel, []*delta.Batch{ev}) }
					}
					if err := insert(); err != nil {
						b.Fatal(err)
					}
					t1 := time.Now()
					if err := tx.Commit(uint64(n + 2)); err != nil {
						b.Fatal(err)
					}
					ins += t1.Sub(t0)
					com += time.Since(t1)
				}
				t2 := time.Now()
				if _, err := s.DB().ExecContext(b.Context(), "CHECKPOINT"); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(time.Since(t2).Nanoseconds())/float64(b.N*per), "final-ckpt-ns/row")
				if segment {
					// What a backfill or recovery pays to read the segments back: every
					// column decoded. And their size on disk.
					t3 := time.Now()
					var n int64
					if err := s.DB().QueryRowContext(b.Context(), `SELECT count(*) + sum(auction + bidder + price) + sum(epoch_us(date_time)) % 7
						+ sum(length(channel) + length(url) + length(extra)) FROM bid`).Scan(&n); err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(time.Since(t3).Nanoseconds())/float64(b.N*per), "scan-ns/row")
					b.ReportMetric(float64(dirBytes(b, dir, ".parquet"))/float64(b.N*per), "parquet-B/row")
				}
				b.ReportMetric(float64(b.N*per)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(ins.Nanoseconds())/float64(b.N*per), "insert-ns/row")
				b.ReportMetric(float64(com.Nanoseconds())/float64(b.N*per), "commit-ns/row")
			})
		}
	}
}

// bidStore opens a store on disk, in dir, with Nexmark's bid source.
func bidStore(b *testing.B) (s *viewstore.Store, rel *catalog.Relation, dir string) {
	dir = b.TempDir()
	s, err := viewstore.Open(b.Context(), dir+"/db", slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	rel = &catalog.Relation{ID: 3, Name: "bid", Kind: catalog.Source, Columns: []catalog.Column{
		{Name: "auction", Type: catalog.Int8}, {Name: "bidder", Type: catalog.Int8},
		{Name: "price", Type: catalog.Int8}, {Name: "channel", Type: catalog.Text}, {Name: "url", Type: catalog.Text},
		{Name: "date_time", Type: catalog.Timestamptz}, {Name: "extra", Type: catalog.Text}}}
	createAt(b, s, rel, 1)
	return s, rel, dir
}

// dirBytes is the size of the files under dir whose names end in suffix.
func dirBytes(b *testing.B, dir, suffix string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, suffix) {
			return err
		}
		info, err := e.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// createAt creates rel in the store, committing tick.
func createAt(b *testing.B, s *viewstore.Store, rel *catalog.Relation, tick uint64) {
	tx, err := s.Begin(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	if err := tx.CreateRelation(rel); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(tick); err != nil {
		b.Fatal(err)
	}
}

// bids returns n bid rows as Nexmark's generator makes them.
func bids(n int) *delta.Batch {
	r := rand.New(rand.NewPCG(1, 2))
	ev := delta.New([]delta.Kind{delta.KindInt, delta.KindInt, delta.KindInt, delta.KindString, delta.KindString, delta.KindInt, delta.KindString})
	for i := range n {
		c := r.IntN(10000)
		ev.AppendRow([]delta.Value{delta.Int(int64(r.IntN(10000))), delta.Int(int64(r.IntN(100000))), delta.Int(int64(r.IntN(1000000))),
			delta.Str(fmt.Sprintf("channel-%d", c)), delta.Str(fmt.Sprintf("https://www.nexmark.com/%s/item.htm?query=1&channel_id=%d", randText(r, 5), c)),
			delta.Int(1_780_000_000_000_000 + int64(i)*1000), delta.Str(randText(r, 20+r.IntN(10)))}, 1)
	}
	return ev
}

// BenchmarkSegmentMerge is MergeSegments rewriting SegmentFanout segments of 150k bid
// rows as one (segments.go); merge-ns/row is per row rewritten.
func BenchmarkSegmentMerge(b *testing.B) {
	const per = 150_000
	viewstore.SetSegmentMinRows(b, per)
	viewstore.SetSegmentGrace(b, 0)
	s, rel, _ := bidStore(b)
	ev := bids(per)
	noLock := func() func() { return func() {} }
	tick := uint64(1)
	var merge time.Duration
	for b.Loop() {
		b.StopTimer()
		for range viewstore.SegmentFanout {
			tick++
			tx, err := s.Begin(b.Context())
			if err != nil {
				b.Fatal(err)
			}
			if err := tx.InsertBatches(rel, []*delta.Batch{ev}); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(tick); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		t0 := time.Now()
		merged, err := s.MergeSegments(b.Context(), noLock)
		if err != nil || !merged {
			b.Fatal(merged, err)
		}
		merge += time.Since(t0)
	}
	b.ReportMetric(float64(merge.Nanoseconds())/float64(b.N*per*viewstore.SegmentFanout), "merge-ns/row")
}
