package exec

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

func asc(c int) SortKey  { return SortKey{Col: c} }                               // ASC NULLS LAST
func desc(c int) SortKey { return SortKey{Col: c, Desc: true, NullsFirst: true} } // DESC NULLS FIRST

func TestTopN(t *testing.T) {
	floatInt := []delta.Kind{delta.KindFloat, delta.KindInt}
	// Peers on column 1 (descending, NULLs last): ties broken by the row encoding, which
	// for the small non-negative ids in column 2 is their numeric order.
	ties := []input{L("0 50 1 +1\n0 40 2 +1\n0 40 3 +1\n0 30 4 +1\n0 20 5 +1\n0 NULL 6 +1")}
	tiesOrder := []SortKey{{Col: 1, Desc: true}}
	tests := []struct {
		name          string
		in            []delta.Kind
		partition     []int
		order         []SortKey
		limit, offset int64
		rank          RankKind
		rankCol       bool
		ticks         []tick
	}{
		{
			name: "row_number per partition: rows enter and leave the top 2", in: ints3,
			partition: []int{0}, order: []SortKey{asc(1)}, limit: 2, rank: RowNumber, rankCol: true,
			ticks: []tick{
				{push: []input{L("1 10 1 +1\n1 20 2 +1\n1 30 3 +1\n2 5 4 +1")}, want: "1 10 1 1 +1\n1 20 2 2 +1\n2 5 4 1 +1"},
				{push: []input{L("1 15 5 +1")}, want: "1 15 5 2 +1\n1 20 2 2 -1"},
				{push: []input{L("1 10 1 -1")}, want: "1 10 1 1 -1\n1 15 5 2 -1\n1 15 5 1 +1\n1 20 2 2 +1"},
				{push: []input{L("1 30 3 -1")}}, // outside the top 2
				{push: []input{L("2 5 4 -1")}, want: "2 5 4 1 -1"},
				{push: []input{L("1 NULL 6 +1")}}, // NULLS LAST
				{push: []input{L("1 5 7 +1"), L("1 5 7 -1")}},
			},
		},
		{
			name: "row_number: ties by the row encoding, duplicates take several positions", in: ints3,
			order: tiesOrder, limit: 3, rank: RowNumber, rankCol: true,
			ticks: []tick{
				{push: ties, want: "0 50 1 1 +1\n0 40 2 2 +1\n0 40 3 3 +1"},
				{push: []input{L("0 50 7 +2")}, want: "0 40 2 2 -1\n0 40 3 3 -1\n0 50 7 2 +1\n0 50 7 3 +1"},
				{push: []input{L("0 40 2 -1")}},
				{push: []input{L("0 50 7 -1")}, want: "0 50 7 3 -1\n0 40 3 3 +1"},
			},
		},
		{
			name: "rank: peers share a number, with a gap after them", in: ints3,
			order: tiesOrder, limit: 3, rank: Rank, rankCol: true,
			ticks: []tick{
				{push: ties, want: "0 50 1 1 +1\n0 40 2 2 +1\n0 40 3 2 +1"},
				{push: []input{L("0 50 7 +2")}, want: "0 40 2 2 -1\n0 40 3 2 -1\n0 50 7 1 +2"},
				{push: []input{L("0 40 2 -1")}},
				{push: []input{L("0 50 7 -1")}, want: "0 50 7 1 -1\n0 40 3 3 +1"},
			},
		},
		{
			name: "dense_rank: peers share a number, without gaps", in: ints3,
			order: tiesOrder, limit: 3, rank: DenseRank, rankCol: true,
			ticks: []tick{
				{push: ties, want: "0 50 1 1 +1\n0 40 2 2 +1\n0 40 3 2 +1\n0 30 4 3 +1"},
				{push: []input{L("0 50 7 +2")}, want: "0 50 7 1 +2"},
				{push: []input{L("0 40 2 -1")}, want: "0 40 2 2 -1"},
				{push: []input{L("0 40 3 -1")}, want: "0 40 3 2 -1\n0 30 4 3 -1\n0 30 4 2 +1\n0 20 5 3 +1"},
			},
		},
		{
			name: "dense_rank without the rank column: only membership changes", in: ints3,
			order: tiesOrder, limit: 2, rank: DenseRank,
			ticks: []tick{
				{push: ties, want: "0 50 1 +1\n0 40 2 +1\n0 40 3 +1"},
				{push: []input{L("0 45 8 +1")}, want: "0 45 8 +1\n0 40 2 -1\n0 40 3 -1"},
				{push: []input{L("0 50 1 -1")}, want: "0 50 1 -1\n0 40 2 +1\n0 40 3 +1"},
			},
		},
		{
			name: "limit and offset: positions 2 and 3", in: ints2,
			order: []SortKey{asc(0)}, limit: 2, offset: 1, rank: RowNumber,
			ticks: []tick{
				{push: []input{L("1 0 +1\n2 0 +1\n3 0 +1\n4 0 +1")}, want: "2 0 +1\n3 0 +1"},
				{push: []input{L("0 0 +1")}, want: "1 0 +1\n3 0 -1"},
				{push: []input{L("2 0 +1")}}, // 0 1 [2] 2 3 4: still 1 and one 2
				{push: []input{L("0 0 -1\n1 0 -1")}, want: "1 0 -1\n3 0 +1"},
				{push: []input{L("2 0 -1")}, want: "2 0 -1\n4 0 +1"},
				{push: []input{L("2 0 -1\n3 0 -1\n4 0 -1")}, want: "3 0 -1\n4 0 -1"},
			},
		},
		{
			name: "no limit: rank as a window function", in: ints2,
			partition: []int{0}, order: []SortKey{asc(1)}, limit: -1, rank: Rank, rankCol: true,
			ticks: []tick{
				{push: []input{L("1 5 +2\n1 7 +1\n2 1 +1")}, want: "1 5 1 +2\n1 7 3 +1\n2 1 1 +1"},
				{push: []input{L("1 3 +1")}, want: "1 3 1 +1\n1 5 1 -2\n1 5 2 +2\n1 7 3 -1\n1 7 4 +1"},
			},
		},
		{
			name: "float order: NULLS FIRST, -0 and 0 are peers, NaN is greatest", in: floatInt,
			order: []SortKey{{Col: 0, NullsFirst: true}}, limit: -1, rank: Rank, rankCol: true,
			ticks: []tick{
				{
					push: []input{L("NaN 1 +1\nInf 2 +1\n-Inf 3 +1\nNULL 4 +1\n0 5 +1\n-0 6 +1")},
					want: "NULL 4 1 +1\n-Inf 3 2 +1\n0 5 3 +1\n-0 6 3 +1\nInf 2 5 +1\nNaN 1 6 +1",
				},
			},
		},
		{
			name: "descending with NULLS FIRST, the default", in: ints2,
			order: []SortKey{desc(0)}, limit: 2, rank: RowNumber,
			ticks: []tick{
				{push: []input{L("1 0 +1\n3 0 +1\n2 0 +1")}, want: "3 0 +1\n2 0 +1"},
				{push: []input{L("NULL 0 +1")}, want: "NULL 0 +1\n2 0 -1"},
			},
		},
		{
			name: "limit 0 keeps nothing", in: ints2,
			order: []SortKey{asc(0)}, limit: 0, rank: RowNumber,
			ticks: []tick{{push: []input{L("1 0 +1")}}},
		},
		{
			name: "no order: row_number by the row encoding", in: ints2,
			limit: 2, rank: RowNumber, rankCol: true,
			ticks: []tick{
				{push: []input{L("3 0 +1\n1 0 +1\n2 0 +1")}, want: "1 0 1 +1\n2 0 2 +1"},
			},
		},
		{
			name: "offset with rank", in: ints2, order: []SortKey{asc(0)}, limit: 1, offset: 1, rank: Rank,
			ticks: []tick{{code: sqlerr.Internal}},
		},
		{
			name: "negative offset", in: ints2, order: []SortKey{asc(0)}, limit: 1, offset: -1,
			ticks: []tick{{code: sqlerr.Internal}},
		},
		{
			name: "sort column out of range", in: ints2, order: []SortKey{asc(2)}, limit: 1,
			ticks: []tick{{code: sqlerr.Internal}},
		},
		{
			name: "partition column out of range", in: ints2, partition: []int{-1}, limit: 1,
			ticks: []tick{{code: sqlerr.Internal}},
		},
		{
			name: "unknown rank kind", in: ints2, limit: 1, rank: DenseRank + 1,
			ticks: []tick{{code: sqlerr.Internal}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op := NewTopN(tc.in, tc.partition, tc.order, tc.limit, tc.offset, tc.rank, tc.rankCol)
			script(t, op, [][]delta.Kind{tc.in}, tc.ticks, true)
		})
	}
}

func TestTopNFreesPartitions(t *testing.T) {
	op := NewTopN(ints2, []int{0}, []SortKey{asc(1)}, 1, 0, RowNumber, false)
	script(t, op, [][]delta.Kind{ints2}, []tick{
		{push: []input{L("1 1 +1\n1 2 +1\n2 1 +1\nNULL 1 +2")}, want: "1 1 +1\n2 1 +1\nNULL 1 +1"}, // one of the two copies
		{push: []input{L("1 1 -1\n1 2 -1\n2 1 -1\nNULL 1 -2")}, want: "1 1 -1\n2 1 -1\nNULL 1 -1"},
	}, true)
	require.Empty(t, op.parts)
	require.Empty(t, op.dirty)
}

func TestTopNString(t *testing.T) {
	op := NewTopN(ints3, []int{0}, []SortKey{desc(1), asc(2)}, 10, 0, RowNumber, false)
	require.Equal(t, "TopN(partition=#0; order=#1 DESC, #2; row_number <= 10)", op.String())
	require.Equal(t, ints3, op.OutKinds())
	op = NewTopN(ints3, nil, []SortKey{{Col: 1, Desc: true}, {Col: 2, NullsFirst: true}}, 10, 5, RowNumber, true)
	require.Equal(t, "TopN(order=#1 DESC NULLS LAST, #2 NULLS FIRST; 5 < row_number <= 15 as #3)", op.String())
	require.Equal(t, []delta.Kind{delta.KindInt, delta.KindInt, delta.KindInt, delta.KindInt}, op.OutKinds())
	require.Equal(t, "TopN(partition=#0, #1; order=#2; dense_rank as #3)", NewTopN(ints3, []int{0, 1}, []SortKey{asc(2)}, -1, 0, DenseRank, true).String())
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(op.Push(t.Context(), 1, delta.New(ints3), delta.New(ints3))))
}

// TestDataflowLeaderboard keeps the two rooms with the largest totals: a TopN over an
// aggregate, whose retract+insert pairs move rooms up and down the ranking.
func TestDataflowLeaderboard(t *testing.T) {
	d := NewDataflow()
	src := d.AddSource("gifts", ints2)
	a := d.Add(NewHashAggregate(ints2, []int{0}, []AggSpec{agg(AggSum, 1)}), src)
	d.Add(NewTopN(ints2, nil, []SortKey{desc(1)}, 2, 0, RowNumber, true), a)
	require.Equal(t, `TopN(order=#1 DESC; row_number <= 2 as #2)
 └─ HashAggregate(group=#0; sum(#1))
     └─ Scan(gifts)
`, d.Explain())
	runDataflow(t, d, []dfTick{
		{in: map[string]string{"gifts": "1 10 +1\n2 20 +1\n3 5 +1"}, want: "2 20 1 +1\n1 10 2 +1"},
		{in: map[string]string{"gifts": "3 30 +1"}, want: "1 10 2 -1\n2 20 1 -1\n3 35 1 +1\n2 20 2 +1"},
		{in: map[string]string{"gifts": "1 1 +1"}},
		{in: map[string]string{"gifts": "3 30 -1\n3 5 -1"}, want: "3 35 1 -1\n2 20 1 +1\n2 20 2 -1\n1 11 2 +1"},
	})
}
