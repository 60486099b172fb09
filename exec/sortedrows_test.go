package exec

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/delta"
)

// TestTopNLargePartition: partitions of thousands of distinct rows, far more than a
// sortedRows chunk holds, so chunks split, empty and are searched across, stay equal to
// numbering the rows from scratch after every tick, and survive a checkpoint.
func TestTopNLargePartition(t *testing.T) {
	for _, spec := range []topNSpec{
		{[]int{0}, []SortKey{desc(1), asc(2)}, 10, 5, RowNumber, true},
		{nil, []SortKey{asc(1)}, 7, 0, Rank, true},
		{[]int{0}, []SortKey{desc(2)}, -1, 1500, RowNumber, false}, // every row past 1500
	} {
		rng := rand.New(rand.NewPCG(1, 2))
		op := runTopN(t, spec, ints3, rng, 40, 400, func() delta.Value { return delta.Int(rng.Int64N(3000)) })
		require.Greater(t, op.StateRows(), int64(3*maxChunkRows), "partitions must span several chunks")
	}
}

// TestTopNIntPrefix: the integer prefixes a partition's rows carry (rowOrder.prefix)
// order them as the sort keys do, for keys ascending and descending, NULLs first and
// last, and values at both ends of int64, in chunks that split and across a checkpoint:
// the TopN stays equal to numbering the rows from scratch. A prefix that broke the order
// (a signed comparison, DESC not inverted, NULL on the wrong side) puts rows out of
// place and numbers them wrong.
func TestTopNIntPrefix(t *testing.T) {
	extremes := []int64{math.MinInt64, math.MinInt64 + 1, -1 << 32, -2, -1, 0, 1, 2, 1 << 32, math.MaxInt64 - 1, math.MaxInt64}
	for _, key := range []SortKey{asc(1), desc(1), {Col: 1}, {Col: 1, NullsFirst: true}, {Col: 1, Desc: true}} {
		spec := topNSpec{[]int{0}, []SortKey{key, asc(2)}, 20, 3, RowNumber, true}
		rng := rand.New(rand.NewPCG(5, 6))
		op := runTopN(t, spec, ints3, rng, 30, 300, func() delta.Value {
			switch rng.IntN(4) {
			case 0:
				return delta.Null(delta.KindInt)
			case 1:
				return delta.Int(rng.Int64() - rng.Int64())
			}
			return delta.Int(extremes[rng.IntN(len(extremes))])
		})
		require.Greater(t, op.StateRows(), int64(2*maxChunkRows), "partitions must span several chunks")
	}
}

// TestTopNFloatNumericPrefix: the prefixes of float and numeric first sort keys (their
// float64 values) order rows as the keys do, in both directions, with NULLs first and
// last, through values that round to the same float64 and whole chunks of equal
// prefixes: the TopN stays equal to numbering the rows from scratch. Without the
// prefix the first check of TestRowOrderPrefix fails instead; with one that broke the
// order, rows land out of place and are numbered wrong here.
func TestTopNFloatNumericPrefix(t *testing.T) {
	floats := []float64{math.Inf(-1), -math.MaxFloat64, -1e300, -2.5, -1, -math.SmallestNonzeroFloat64, 0,
		math.SmallestNonzeroFloat64, 0.1, 1, 1 << 53, 1<<53 + 2, 1e300, math.MaxFloat64, math.Inf(1), math.NaN()}
	numerics := []string{"-123456789012345678901234567890.5", "-9007199254740993", "-9007199254740992", "-1.25", "-0.001",
		"0", "0.000000000000000000000000000001", "0.000000000000000000000000000002", "1.5", "2",
		"9007199254740992", "9007199254740993", "9007199254740994", "123456789012345678901234567890.25",
		"123456789012345678901234567890.5"} // the pairs round to the same float64
	for _, kind := range []delta.Kind{delta.KindFloat, delta.KindNumeric} {
		kinds := []delta.Kind{delta.KindInt, kind, delta.KindInt}
		for _, key := range []SortKey{asc(1), desc(1), {Col: 1, NullsFirst: true}, {Col: 1, Desc: true}} {
			spec := topNSpec{[]int{0}, []SortKey{key, asc(2)}, 20, 3, RowNumber, true}
			rng := rand.New(rand.NewPCG(7, 8))
			op := runTopN(t, spec, kinds, rng, 30, 300, func() delta.Value {
				switch {
				case rng.IntN(5) == 0:
					return delta.Null(kind)
				case kind == delta.KindFloat:
					return delta.Float(floats[rng.IntN(len(floats))])
				}
				return delta.Numeric(numerics[rng.IntN(len(numerics))])
			})
			require.Greater(t, op.StateRows(), int64(2*maxChunkRows), "partitions must span several chunks")
		}
	}
}

// TestRowOrderPrefix: for every pair of first sort keys, a row that comes first never
// has the larger prefix, and peers have equal ones (so ties fall to the rows'
// encodings): -0 and 0, every NaN, and numerics that differ only in their scale
// ("1.5", "1.50").
func TestRowOrderPrefix(t *testing.T) {
	vals := map[delta.Kind][]delta.Value{delta.KindNumeric: {delta.Null(delta.KindNumeric)}, delta.KindFloat: {delta.Null(delta.KindFloat)}}
	for _, f := range []float64{math.Inf(-1), -1e300, -1.5, math.Copysign(0, -1), 0, 5e-324, 1.5, 1 << 53, 1<<53 + 2, math.Inf(1), math.NaN(), -math.NaN()} {
		vals[delta.KindFloat] = append(vals[delta.KindFloat], delta.Float(f))
	}
	for _, n := range []string{"-99999999999999999999999999.9", "-1.50", "-1.5", "-0.01", "0", "0.00", "0.000001", "1.5", "1.50", "1.500",
		"9007199254740992", "9007199254740993", "9007199254740993.0", "123456789012345678", "1234567890123456789", "99999999999999999999999999.9"} {
		vals[delta.KindNumeric] = append(vals[delta.KindNumeric], delta.Numeric(n))
	}
	for kind, vs := range vals {
		for _, key := range []SortKey{asc(0), desc(0), {Col: 0, NullsFirst: true}, {Col: 0, Desc: true}} {
			o := newRowOrder([]delta.Kind{kind}, []SortKey{key})
			for _, a := range vs {
				for _, b := range vs {
					ra, rb := []delta.Value{a}, []delta.Value{b}
					pa, pb := o.prefix(ra), o.prefix(rb)
					switch c := o.compareOrder(ra, rb); {
					case c == 0:
						require.Equal(t, pa, pb, "%v and %v are peers (%+v)", a, b, key)
					case c < 0:
						require.LessOrEqual(t, pa, pb, "%v comes before %v (%+v)", a, b, key)
					}
				}
			}
			if kind == delta.KindNumeric {
				require.NotEqual(t, o.prefix([]delta.Value{delta.Numeric("1.5")}), o.prefix([]delta.Value{delta.Numeric("2")}),
					"the prefix digests numerics (%+v)", key)
			}
		}
	}
}

// runTopN drives a TopN of spec over ticks of random changes to rows of kinds (one of
// two partitions, sortKey(), a number below 1000), a third of them retractions of live
// rows, checking its output against oracleTopN after every tick; half-way it is
// replaced by a TopN restored from its checkpointed state. It returns the last TopN.
func runTopN(t *testing.T, spec topNSpec, kinds []delta.Kind, rng *rand.Rand, ticks, perTick int, sortKey func() delta.Value) *TopN {
	t.Helper()
	op := NewTopN(kinds, spec.partition, spec.order, spec.limit, spec.offset, spec.rank, spec.rankCol)
	in, view := multiset{}, multiset{}
	var live [][]delta.Value
	for tick := range ticks {
		b := delta.New(kinds)
		for range perTick {
			if len(live) > 0 && rng.IntN(3) == 0 {
				k := rng.IntN(len(live))
				b.AppendRow(live[k], -1)
				in.add(live[k], -1)
				live[k] = live[len(live)-1]
				live = live[:len(live)-1]
				continue
			}
			row := []delta.Value{delta.Int(rng.Int64N(2)), sortKey(), delta.Int(rng.Int64N(1000))}
			b.AppendRow(row, 1)
			in.add(row, 1)
			live = append(live, row)
		}
		b.Consolidate()
		require.NoError(t, op.Push(t.Context(), 0, b, nil))
		out := delta.New(op.OutKinds())
		require.NoError(t, op.Advance(t.Context(), Tick{Seq: uint64(tick + 1)}, out))
		view.apply(out)
		require.Equal(t, oracleTopN(in, spec).lines(), view.lines(), "order %+v, tick %d", spec.order, tick+1)
		if tick == ticks/2 {
			restored := NewTopN(kinds, spec.partition, spec.order, spec.limit, spec.offset, spec.rank, spec.rankCol)
			require.NoError(t, LoadState(restored, op.AppendState(nil)))
			op = restored
		}
	}
	return op
}

// TestRowStore: ids map one to one onto the blocks' places, in order, through blocks of
// 8, 16, … up to maxChunkRows rows and many of that size; a freed id is reused, and its
// row is dropped; rows keep their addresses while the store grows.
func TestRowStore(t *testing.T) {
	var st rowStore
	const n = 5000
	rows := make([]*topRow, n)
	for i := range n {
		id := st.put(topRow{enc: fmt.Sprint(i), n: int64(i)})
		require.Equal(t, int32(i), id)
		rows[i] = st.at(id)
	}
	want := 0
	for b, block := range st.blocks {
		size := maxChunkRows
		if b < firstBlocks {
			size = 8 << b
		}
		require.Len(t, block, size, "block %d", b)
		for off := range block {
			if want < n {
				gotB, gotOff := locate(int32(want))
				require.Equal(t, [2]int{b, off}, [2]int{gotB, gotOff}, "id %d", want)
			}
			want++
		}
	}
	require.GreaterOrEqual(t, want, n)
	for i, r := range rows {
		require.Same(t, r, st.at(int32(i)), "row %d moved", i)
		require.Equal(t, int64(i), r.n)
	}
	st.free(700)
	st.free(3)
	require.Equal(t, topRow{}, *st.at(700), "a freed row keeps no values")
	require.Equal(t, int32(3), st.put(topRow{n: -3}))
	require.Equal(t, int32(700), st.put(topRow{n: -700}))
	require.Equal(t, int32(n), st.put(topRow{}))
	require.Equal(t, int64(-700), st.at(700).n)
}
