package viewstore_test

import (
	"log/slog"
	"strconv"
	"testing"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/storage/viewstore"
)

// BenchmarkViewFlush is one flush of the ingest benchmark's user_totals view: 100,000
// rows (user_id, total numeric, biggest), of which 40,000 change: their old rows are
// deleted and their new rows inserted. keyed deletes by user_id alone.
func BenchmarkViewFlush(b *testing.B) {
	for _, mode := range []string{"all-columns", "keyed", "insert-only"} {
		keyed := mode == "keyed"
		b.Run(mode, func(b *testing.B) {
			s, err := viewstore.Open(b.Context(), b.TempDir()+"/db", slog.New(slog.DiscardHandler))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			rel := &catalog.Relation{ID: 7, Name: "user_totals", Kind: catalog.View, Columns: []catalog.Column{
				{Name: "user_id", Type: catalog.Int8}, {Name: "total", Type: catalog.Numeric}, {Name: "biggest", Type: catalog.Int8}}}
			kinds := []delta.Kind{delta.KindInt, delta.KindNumeric, delta.KindInt}
			const users, changed = 100_000, 40_000
			cur := make([]int64, users)
			tx, _ := s.Begin(b.Context())
			if err := tx.CreateRelation(rel); err != nil {
				b.Fatal(err)
			}
			all := delta.New(kinds)
			for u := range users {
				cur[u] = int64(u)
				all.AppendRow([]delta.Value{delta.Int(int64(u)), delta.Numeric(strconv.Itoa(u)), delta.Int(int64(u % 1000))}, 1)
			}
			if err := tx.Insert(rel, all); err != nil {
				b.Fatal(err)
			}
			if err := tx.Commit(1); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for n := range b.N {
				touched, live, keys := delta.New(kinds), delta.New(kinds), delta.New(kinds[:1])
				for k := range changed {
					u := (n*changed + k*7) % users
					old := []delta.Value{delta.Int(int64(u)), delta.Numeric(strconv.FormatInt(cur[u], 10)), delta.Int(int64(u % 1000))}
					cur[u] += 3
					nw := []delta.Value{delta.Int(int64(u)), delta.Numeric(strconv.FormatInt(cur[u], 10)), delta.Int(int64(u % 1000))}
					touched.AppendRow(old, 0)
					touched.AppendRow(nw, 1)
					live.AppendRow(nw, 1)
					keys.AppendRow(nw[:1], 1)
				}
				tx, err := s.Begin(b.Context())
				if err != nil {
					b.Fatal(err)
				}
				if mode == "insert-only" {
				} else if keyed {
					err = tx.DeleteMatching(rel, []int{0}, keys)
				} else {
					err = tx.DeleteMatching(rel, []int{0, 1, 2}, touched)
				}
				if err != nil {
					b.Fatal(err)
				}
				if err := tx.Insert(rel, live); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(uint64(n + 2)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSourceInsert is one flush of the ingest benchmark's events: 50,000 rows
// (room_id, user_id, amount, ts timestamptz) appended to the source's table.
func BenchmarkSourceInsert(b *testing.B) {
	s, err := viewstore.Open(b.Context(), b.TempDir()+"/db", slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rel := &catalog.Relation{ID: 3, Name: "events", Kind: catalog.Source, Columns: []catalog.Column{
		{Name: "room_id", Type: catalog.Int8}, {Name: "user_id", Type: catalog.Int8},
		{Name: "amount", Type: catalog.Int8}, {Name: "ts", Type: catalog.Timestamptz}}}
	createAt(b, s, rel, 1)
	const rows = 50_000
	ev := delta.New([]delta.Kind{delta.KindInt, delta.KindInt, delta.KindInt, delta.KindInt})
	for i := range rows {
		ev.AppendRow([]delta.Value{delta.Int(int64(i % 1000)), delta.Int(int64(i % 100_000)), delta.Int(int64(i%1000 + 1)),
			delta.Int(1_780_000_000_000_000 + int64(i)*1000)}, 1)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		tx, err := s.Begin(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		if err := tx.Insert(rel, ev); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(uint64(n + 2)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
}
