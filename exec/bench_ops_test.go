package exec

import (
	"testing"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
)

// benchTicks drives op through ticks alternately inserting and retracting batch on port
// in (Push, then Advance) and reports the throughput per pushed row.
func benchTicks(b *testing.B, op Operator, in int, batch *delta.Batch) {
	out := delta.New(op.OutKinds())
	ctx := b.Context()
	neg := delta.New(batch.Kinds())
	neg.AppendBatch(batch, -1)
	b.ReportAllocs()
	b.ResetTimer()
	for n := range b.N {
		out.Reset()
		push := batch
		if n%2 == 1 {
			push = neg
		}
		if err := op.Push(ctx, in, push, out); err != nil {
			b.Fatal(err)
		}
		if err := op.Advance(ctx, Tick{Seq: uint64(n)}, out); err != nil {
			b.Fatal(err)
		}
	}
	rows := float64(b.N * batch.Len())
	b.ReportMetric(b.Elapsed().Seconds()*1e9/rows, "ns/row")
	b.ReportMetric(rows/b.Elapsed().Seconds(), "rows/s")
}

// preloaded pushes left on port 0 of op and advances, the state the benchmarks probe.
func preloaded(b *testing.B, op Operator, left *delta.Batch) Operator {
	out := delta.New(op.OutKinds())
	if err := op.Push(b.Context(), 0, left, out); err != nil {
		b.Fatal(err)
	}
	if err := op.Advance(b.Context(), Tick{}, out); err != nil {
		b.Fatal(err)
	}
	return op
}

// BenchmarkOuterJoin inserts and retracts 4096 right rows against 4096 left rows, one
// match each, so every right change also retracts or re-emits a padded left row.
func BenchmarkOuterJoin(b *testing.B) {
	in := benchBatch(4096, 4096)
	j := preloaded(b, NewOuterJoin(ints2, ints2, []int{0}, []int{0}, nil, JoinFull), in)
	benchTicks(b, j, 1, in)
}

// BenchmarkSemiJoin is BenchmarkOuterJoin for an anti join without a residual: a right
// change flips its key's count between 0 and 1.
func BenchmarkSemiJoin(b *testing.B) {
	in := benchBatch(4096, 4096)
	s := preloaded(b, NewSemiJoin(ints2, ints2, []int{0}, []int{0}, nil, true, false), in)
	benchTicks(b, s, 1, in)
}

// BenchmarkSemiJoinResidual is BenchmarkSemiJoin with a residual, so the right rows are
// arranged and every pair evaluates it.
func BenchmarkSemiJoinResidual(b *testing.B) {
	in := benchBatch(4096, 4096)
	s := preloaded(b, NewSemiJoin(ints2, ints2, []int{0}, []int{0}, bin(expr.OpLe, col(1), col(3)), true, false), in)
	benchTicks(b, s, 1, in)
}

// BenchmarkNotIn flips a NOT IN over 4096 left rows: one NULL key on the right, inserted
// and retracted, retracts and re-emits the whole output in Advance.
func BenchmarkNotIn(b *testing.B) {
	in := benchBatch(4096, 4096)
	s := preloaded(b, NewSemiJoin(ints2, ints2, []int{0}, []int{0}, nil, true, true), in)
	null := delta.New(ints2)
	null.AppendRow([]delta.Value{delta.Null(delta.KindInt), delta.Int(0)}, 1)
	benchTicks(b, s, 1, null)
	b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*in.Len()), "ns/output-row")
}

// BenchmarkSetOp inserts and retracts 4096 right rows of an EXCEPT ALL whose left input
// holds the same 4096 rows.
func BenchmarkSetOp(b *testing.B) {
	in := benchBatch(4096, 4096)
	s := preloaded(b, NewSetOp(ints2, SetExcept, true), in)
	benchTicks(b, s, 1, in)
}

func BenchmarkUnion(b *testing.B) {
	benchTicks(b, NewUnion(ints2, 2), 1, benchBatch(4096, 4096))
}

// BenchmarkTopN keeps the top 10 of 64 partitions of 64 rows each with row numbers, and
// inserts and retracts 4096 more rows, half of which enter the top 10.
func BenchmarkTopN(b *testing.B) {
	base := delta.New(ints2)
	in := delta.New(ints2)
	for i := range 4096 {
		base.AppendRow([]delta.Value{delta.Int(int64(i % 64)), delta.Int(int64(2 * i))}, 1)
		in.AppendRow([]delta.Value{delta.Int(int64(i % 64)), delta.Int(int64(2*i + 1 - 4096*(i%2)))}, 1)
	}
	t := preloaded(b, NewTopN(ints2, []int{0}, []SortKey{asc(1)}, 10, 0, RowNumber, true), base)
	benchTicks(b, t, 0, in)
}

// BenchmarkTopNLargePartitions is top_gifters' shape: partitions (rooms) of thousands of
// rows (users' totals), each change a retraction and an insertion somewhere in the middle.
func BenchmarkTopNLargePartitions(b *testing.B) {
	base := delta.New(ints2)
	in := delta.New(ints2)
	for i := range 4 * 16384 {
		base.AppendRow([]delta.Value{delta.Int(int64(i % 4)), delta.Int(int64(2 * i))}, 1)
	}
	for i := range 4096 {
		in.AppendRow([]delta.Value{delta.Int(int64(i % 4)), delta.Int(int64(i*31%65536*2 + 1))}, 1)
	}
	t := preloaded(b, NewTopN(ints2, []int{0}, []SortKey{asc(1)}, 3, 0, RowNumber, true), base)
	benchTicks(b, t, 0, in)
}
