package exec

import (
	"testing"

	"github.com/weirdb/weir/internal/delta"
)

// benchBatch is n rows of (i % groups, i % 97) with weight +1.
func benchBatch(n, groups int) *delta.Batch {
	b := delta.New(ints2)
	for i := range n {
		b.AppendRow([]delta.Value{delta.Int(int64(i % groups)), delta.Int(int64(i % 97))}, 1)
	}
	return b
}

func BenchmarkHashAggregate(b *testing.B) {
	in := benchBatch(4096, 256)
	h := NewHashAggregate(ints2, []int{0}, sixAggs(1))
	out := delta.New(h.OutKinds())
	ctx := b.Context()
	b.ReportAllocs()
	for n := range b.N {
		out.Reset()
		if err := h.Push(ctx, 0, in, out); err != nil {
			b.Fatal(err)
		}
		if err := h.Advance(ctx, Tick{Seq: uint64(n)}, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*in.Len())/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkHashJoin pushes insertions and then retractions of 4096 rows on the right
// against 4096 rows on the left, one match each: arrangement insert, delete and probe.
func BenchmarkHashJoin(b *testing.B) {
	in := benchBatch(4096, 4096)
	j := NewHashJoin(ints2, ints2, []int{0}, []int{0}, nil)
	out := delta.New(j.OutKinds())
	ctx := b.Context()
	if err := j.Push(ctx, 0, in, out); err != nil {
		b.Fatal(err)
	}
	neg := delta.New(ints2)
	neg.AppendBatch(in, -1)
	b.ReportAllocs()
	for n := range b.N {
		out.Reset()
		batch := in
		if n%2 == 1 {
			batch = neg
		}
		if err := j.Push(ctx, 1, batch, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*in.Len())/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkHashAggregateUsers is the ingest benchmark's user_totals view: sum and max of
// an amount per user, 100,000 users, 50,000 rows a tick, so most groups stay live with
// a multiset of a dozen values or so for max.
func BenchmarkHashAggregateUsers(b *testing.B) {
	benchAggTicks(b, ints2, func(x uint64) []delta.Value {
		return []delta.Value{delta.Int(int64(x>>33) % 100_000), delta.Int(int64(x>>20) % 1000)}
	}, NewHashAggregate(ints2, []int{0}, []AggSpec{agg(AggSum, 1), agg(AggMax, 1)}))
}

// BenchmarkHashAggregatePairs groups by two integer columns, as the backfill's
// top_spenders (room, user) and windowed views (room, window start) do: sum of an amount
// per (room, user) pair, 1,000 rooms × 20,000 users, 50,000 rows a tick.
func BenchmarkHashAggregatePairs(b *testing.B) {
	benchAggTicks(b, ints3, func(x uint64) []delta.Value {
		return []delta.Value{delta.Int(int64(x>>33) % 1000), delta.Int(int64(x>>17) % 20_000), delta.Int(int64(x>>8) % 1000)}
	}, NewHashAggregate(ints3, []int{0, 1}, []AggSpec{agg(AggSum, 2)}))
}

// benchAggTicks pushes h ticks of 50,000 rows of kinds, each made by row from a fresh
// pseudo-random number, cycling through 16 such batches.
func benchAggTicks(b *testing.B, kinds []delta.Kind, row func(x uint64) []delta.Value, h *HashAggregate) {
	const rowsPerTick, ticks = 50_000, 16
	batches := make([]*delta.Batch, ticks)
	x := uint64(1)
	for t := range batches {
		batches[t] = delta.New(kinds)
		for range rowsPerTick {
			x = x*6364136223846793005 + 1442695040888963407
			batches[t].AppendRow(row(x), 1)
		}
	}
	out := delta.New(h.OutKinds())
	ctx := b.Context()
	b.ReportAllocs()
	for n := range b.N {
		out.Reset()
		if err := h.Push(ctx, 0, batches[n%ticks], out); err != nil {
			b.Fatal(err)
		}
		if err := h.Advance(ctx, Tick{Seq: uint64(n)}, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*rowsPerTick)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkHashAggregateBackfill pushes one batch into an empty aggregate of sum per
// (room, user), as a backfill does: /new, 1M rows over 1,000 rooms × 20,000 users
// (about 980k new groups); /hits, 4M rows over 1,000 × 1,000 (1M groups, three rows in
// four finding theirs among them). rows/s counts the batch's rows.
func BenchmarkHashAggregateBackfill(b *testing.B) {
	for _, c := range []struct {
		name        string
		rows, users int
	}{{"new", 1_000_000, 20_000}, {"hits", 4_000_000, 1_000}} {
		b.Run(c.name, func(b *testing.B) {
			in := delta.New(ints3)
			x := uint64(1)
			for range c.rows {
				x = x*6364136223846793005 + 1442695040888963407
				in.AppendRow([]delta.Value{delta.Int(int64(x>>33) % 1000), delta.Int(int64(x>>17) % int64(c.users)), delta.Int(int64(x>>8) % 1000)}, 1)
			}
			ctx := b.Context()
			b.ReportAllocs()
			for n := range b.N {
				h := NewHashAggregate(ints3, []int{0, 1}, []AggSpec{agg(AggSum, 2)})
				out := delta.New(h.OutKinds())
				if err := h.Push(ctx, 0, in, out); err != nil {
					b.Fatal(err)
				}
				if err := h.Advance(ctx, Tick{Seq: uint64(n)}, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*c.rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
