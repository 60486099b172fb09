package exec

import (
	"bytes"
	"cmp"
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
)

// The randomized tests of the operators over two relations (outer and semi joins, set
// operations) and of top-N, in the style of property_test.go: random streams with
// weights ±1 and ±2, NULLs and a skewed key column, and after every tick the accumulated
// output compared with a from-scratch computation in plain Go over the input multisets.
// Each case ends by retracting all input, after which the operator must hold no state.

// biCase is one dataflow over relations "l" and "r" under random input, and its oracle.
type biCase struct {
	name string
	// build adds the operators; it returns the number of state entries (rows, keys,
	// partitions) the operator under test holds, or nil.
	build  func(t *testing.T, d *Dataflow) func() int
	oracle func(l, r multiset) multiset
	// kinds and value generate the rows of both relations; nil: skewedInts.
	kinds []delta.Kind
	value func(r *rand.Rand, side, col int) delta.Value
	// preload is the number of rows inserted into each relation on the first tick, so
	// that buckets and partitions grow past the sizes a random walk reaches.
	preload int
}

// skewedInts generates (key, value) rows: the key is NULL 1 time in 12 (1 in 40 on the
// right, so that NOT IN sees both a clean and a NULL-bearing right input), 0 half the
// time and otherwise 1 to 4; the value is -3 to 6 or NULL.
func skewedInts(r *rand.Rand, side, col int) delta.Value {
	if col == 0 {
		nullOdds := 12
		if side == 1 {
			nullOdds = 40
		}
		switch {
		case r.IntN(nullOdds) == 0:
			return delta.Null(delta.KindInt)
		case r.IntN(2) == 0:
			return delta.Int(0)
		}
		return delta.Int(1 + r.Int64N(4))
	}
	if r.IntN(10) == 0 {
		return delta.Null(delta.KindInt)
	}
	return delta.Int(r.Int64N(10) - 3)
}

func (tc biCase) streams(seed uint64) [2]*stream {
	kinds, value := tc.kinds, tc.value
	if kinds == nil {
		kinds, value = ints2, skewedInts
	}
	var s [2]*stream
	for side := range s {
		s[side] = &stream{
			rnd:   rand.New(rand.NewPCG(seed, uint64(side+1)*0x0b1)),
			live:  multiset{},
			kinds: kinds,
			value: func(r *rand.Rand, col int) delta.Value { return value(r, side, col) },
		}
	}
	return s
}

func checkRandomBi(t *testing.T, seed uint64, ticks int, tc biCase) {
	t.Helper()
	d := NewDataflow()
	state := tc.build(t, d)
	s := tc.streams(seed)
	skip := rand.New(rand.NewPCG(seed, 0x51c9))
	view := multiset{}
	step := func(n int, changes map[string]*delta.Batch) {
		t.Helper()
		out, err := d.Step(t.Context(), Tick{Seq: uint64(n + 1)}, changes)
		require.NoError(t, err, "seed %d tick %d", seed, n+1)
		view.apply(out)
		if want := tc.oracle(s[0].live, s[1].live); !slices.Equal(want.lines(), view.lines()) {
			require.Equal(t, want.lines(), view.lines(), "seed %d tick %d, input now:\nl:\n%s\nr:\n%s",
				seed, n+1, strings.Join(s[0].live.lines(), "\n"), strings.Join(s[1].live.lines(), "\n"))
		}
	}
	for n := range ticks {
		changes := map[string]*delta.Batch{}
		for side, rel := range []string{"l", "r"} {
			var b *delta.Batch
			if skip.IntN(4) != 0 { // a quarter of the ticks leave a relation alone
				b = s[side].next()
			}
			if n == 0 && tc.preload > 0 {
				if b == nil {
					b = delta.New(s[side].kinds)
				}
				row := make([]delta.Value, len(s[side].kinds))
				for range tc.preload {
					for c := range row {
						row[c] = s[side].value(s[side].rnd, c)
					}
					w := 1 + s[side].rnd.Int64N(2)
					b.AppendRow(row, w)
					s[side].live.add(row, w)
				}
			}
			if b != nil {
				changes[rel] = b
			}
		}
		step(n, changes)
	}
	// Retract everything: the output must go back to the oracle of empty inputs, and the
	// operator must forget every row.
	changes := map[string]*delta.Batch{}
	for side, rel := range []string{"l", "r"} {
		b := delta.New(s[side].kinds)
		for _, r := range s[side].live.sorted() {
			b.AppendRow(r.vals, -r.n)
		}
		clear(s[side].live)
		changes[rel] = b
	}
	step(ticks, changes)
	if state != nil {
		require.Zero(t, state(), "seed %d: state left after retracting all input", seed)
	}
}

// preload sets c.preload to n, with values from a range wide enough for buckets to
// outgrow bucketIndexMin distinct rows.
func preload(n int, c biCase) biCase {
	c.preload = n
	c.kinds, c.value = ints2, func(r *rand.Rand, side, col int) delta.Value {
		v := skewedInts(r, side, col)
		if col == 1 && !v.Null {
			v.I = r.Int64N(100) - 50
		}
		return v
	}
	return c
}

func runBiCases(t *testing.T, cases []biCase) {
	seeds, ticks := 10, 120
	if testing.Short() {
		seeds, ticks = 3, 50
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(seeds) {
				checkRandomBi(t, seed, ticks, tc)
			}
		})
	}
}

// consolidationCheck passes its input through and fails the test if a batch it receives
// is not consolidated: placed after an operator, it checks that operator's ticks.
type consolidationCheck struct {
	t     *testing.T
	kinds []delta.Kind
}

func (c *consolidationCheck) Push(_ context.Context, _ int, b *delta.Batch, out *delta.Batch) error {
	if n := len(lines(b)); n != b.Len() {
		c.t.Errorf("unconsolidated tick output: %d rows, %d distinct non-zero", b.Len(), n)
	}
	out.AppendBatch(b, 1)
	return nil
}

func (c *consolidationCheck) Advance(context.Context, Tick, *delta.Batch) error { return nil }
func (c *consolidationCheck) String() string                                    { return "ConsolidationCheck" }
func (c *consolidationCheck) OutKinds() []delta.Kind                            { return c.kinds }

// joinable reports whether a and b have equal, non-NULL keys in column 0.
func joinable(a, b []delta.Value) bool {
	return !a[0].Null && !b[0].Null && a[0].I == b[0].I
}

// lessOn1 is the residual #1 < #3 over two ints2 rows, as SQL decides it.
func lessOn1(a, b []delta.Value) bool { return !a[1].Null && !b[1].Null && a[1].I < b[1].I }

func always(a, b []delta.Value) bool { return true }

// oracleOuterJoin joins l and r on column 0 (on nothing if !keyed) where keep holds, and
// pads the unmatched rows of the preserved sides.
func oracleOuterJoin(l, r multiset, kind JoinKind, keyed bool, keep func(a, b []delta.Value) bool) multiset {
	out := multiset{}
	lm, rm := map[*mrow]bool{}, map[*mrow]bool{} // matched rows of each side
	for _, a := range l {
		for _, b := range r {
			if (keyed && !joinable(a.vals, b.vals)) || !keep(a.vals, b.vals) {
				continue
			}
			out.add(append(slices.Clone(a.vals), b.vals...), a.n*b.n)
			lm[a], rm[b] = true, true
		}
	}
	nulls := []delta.Value{delta.Null(delta.KindInt), delta.Null(delta.KindInt)}
	for _, a := range l {
		if (kind == JoinLeft || kind == JoinFull) && !lm[a] {
			out.add(append(slices.Clone(a.vals), nulls...), a.n)
		}
	}
	for _, b := range r {
		if (kind == JoinRight || kind == JoinFull) && !rm[b] {
			out.add(append(slices.Clone(nulls), b.vals...), b.n)
		}
	}
	return out
}

// oracleSemi is l's rows with (semi) or without (anti) a match in r on column 0 where
// keep holds.
func oracleSemi(l, r multiset, anti bool, keep func(a, b []delta.Value) bool) multiset {
	out := multiset{}
	for _, a := range l {
		found := false
		for _, b := range r {
			found = found || (joinable(a.vals, b.vals) && keep(a.vals, b.vals))
		}
		if found != anti {
			out.add(a.vals, a.n)
		}
	}
	return out
}

// oracleNotIn is `l.#0 NOT IN (SELECT r.#0 FROM r)` as the operator's contract words it.
func oracleNotIn(l, r multiset) multiset {
	rightNull := false
	for _, b := range r {
		rightNull = rightNull || b.vals[0].Null
	}
	out := multiset{}
	for _, a := range l {
		equal := false
		for _, b := range r {
			equal = equal || joinable(a.vals, b.vals)
		}
		if len(r) == 0 || (!a.vals[0].Null && !rightNull && !equal) {
			out.add(a.vals, a.n)
		}
	}
	return out
}

// oracleNotInWhere is `l.#0 NOT IN (SELECT r.#0 FROM r WHERE keep(l, r))` by SQL's
// three-valued logic: TRUE iff every comparison with the subquery's rows is TRUE.
func oracleNotInWhere(l, r multiset, keep func(a, b []delta.Value) bool) multiset {
	out := multiset{}
	for _, a := range l {
		allTrue := true
		for _, b := range r {
			if keep(a.vals, b.vals) {
				ne := !a.vals[0].Null && !b.vals[0].Null && a.vals[0].I != b.vals[0].I
				allTrue = allTrue && ne
			}
		}
		if allTrue {
			out.add(a.vals, a.n)
		}
	}
	return out
}

func TestRandomizedOuterJoin(t *testing.T) {
	ints4 := append(slices.Clone(ints2), ints2...)
	outer := func(kind JoinKind, keyed bool, residual expr.Expr, keep func(a, b []delta.Value) bool) biCase {
		keys := []int{0}
		if !keyed {
			keys = nil
		}
		return biCase{
			build: func(t *testing.T, d *Dataflow) func() int {
				j := NewOuterJoin(ints2, ints2, keys, keys, residual, kind)
				d.Add(j, d.AddSource("l", ints2), d.AddSource("r", ints2))
				return func() int { return j.arr[0].rows() + j.arr[1].rows() }
			},
			oracle: func(l, r multiset) multiset { return oracleOuterJoin(l, r, kind, keyed, keep) },
		}
	}
	named := func(name string, c biCase) biCase { c.name = name; return c }
	runBiCases(t, []biCase{
		named("left", outer(JoinLeft, true, nil, always)),
		named("right with a residual", outer(JoinRight, true, bin(expr.OpLt, col(1), col(3)), lessOn1)),
		named("full", outer(JoinFull, true, nil, always)),
		named("full with a residual", outer(JoinFull, true, bin(expr.OpLt, col(1), col(3)), lessOn1)),
		named("left cross join with a residual", outer(JoinLeft, false, bin(expr.OpLt, col(1), col(3)), lessOn1)),
		named("inner", outer(JoinInner, true, nil, always)),
		named("full with a residual, large buckets", preload(40, outer(JoinFull, true, bin(expr.OpLt, col(1), col(3)), lessOn1))),
		{
			name: "full self-join, one source on both ports",
			build: func(t *testing.T, d *Dataflow) func() int {
				s := d.AddSource("l", ints2)
				d.Add(NewOuterJoin(ints2, ints2, []int{0}, []int{0}, bin(expr.OpLt, col(1), col(3)), JoinFull), s, s)
				return nil
			},
			oracle: func(l, _ multiset) multiset { return oracleOuterJoin(l, l, JoinFull, true, lessOn1) },
		},
		{
			name: "aggregate over a left join",
			build: func(t *testing.T, d *Dataflow) func() int {
				j := d.Add(NewOuterJoin(ints2, ints2, []int{0}, []int{0}, nil, JoinLeft), d.AddSource("l", ints2), d.AddSource("r", ints2))
				d.Add(NewHashAggregate(ints4, []int{0}, sixAggs(3)), j)
				return nil
			},
			oracle: func(l, r multiset) multiset { return oracleAgg(oracleOuterJoin(l, r, JoinLeft, true, always), 0, 3) },
		},
	})
}

func TestRandomizedSemiJoin(t *testing.T) {
	semi := func(name string, anti, nullAware bool, residual expr.Expr, oracle func(l, r multiset) multiset) biCase {
		return biCase{
			name: name,
			build: func(t *testing.T, d *Dataflow) func() int {
				s := NewSemiJoin(ints2, ints2, []int{0}, []int{0}, residual, anti, nullAware)
				d.Add(s, d.AddSource("l", ints2), d.AddSource("r", ints2))
				return func() int { return s.lrows.rows() + s.rrows.rows() + len(s.rcount) + int(s.rtotal+s.rnull) }
			},
			oracle: oracle,
		}
	}
	residual := bin(expr.OpLt, col(1), col(3))
	runBiCases(t, []biCase{
		semi("semi", false, false, nil, func(l, r multiset) multiset { return oracleSemi(l, r, false, always) }),
		semi("anti", true, false, nil, func(l, r multiset) multiset { return oracleSemi(l, r, true, always) }),
		semi("not in", true, true, nil, oracleNotIn),
		semi("semi with a residual", false, false, residual, func(l, r multiset) multiset { return oracleSemi(l, r, false, lessOn1) }),
		semi("anti with a residual", true, false, residual, func(l, r multiset) multiset { return oracleSemi(l, r, true, lessOn1) }),
		semi("not in with a residual", true, true, residual, func(l, r multiset) multiset { return oracleNotInWhere(l, r, lessOn1) }),
		semi("not in, the residual oracle without a residual", true, true, nil, func(l, r multiset) multiset { return oracleNotInWhere(l, r, always) }),
		preload(60, semi("semi, large buckets", false, false, nil, func(l, r multiset) multiset { return oracleSemi(l, r, false, always) })),
		preload(60, semi("not in with a residual, large buckets", true, true, residual, func(l, r multiset) multiset { return oracleNotInWhere(l, r, lessOn1) })),
		{
			name: "not in over the same source on both ports",
			build: func(t *testing.T, d *Dataflow) func() int {
				s := d.AddSource("l", ints2)
				d.Add(NewSemiJoin(ints2, ints2, []int{1}, []int{0}, nil, true, true), s, s)
				return nil
			},
			oracle: func(l, _ multiset) multiset {
				// l.#1 NOT IN (SELECT #0 FROM l): swap the left columns to reuse oracleNotIn.
				swapped := multiset{}
				for _, a := range l {
					swapped.add([]delta.Value{a.vals[1], a.vals[0]}, a.n)
				}
				out := multiset{}
				for _, a := range oracleNotIn(swapped, l) {
					out.add([]delta.Value{a.vals[1], a.vals[0]}, a.n)
				}
				return out
			},
		},
	})
}

// smallInts makes rows from a domain of six values, NULLs included, so that both inputs
// of a set operation share rows often.
func smallInts(r *rand.Rand, _, col int) delta.Value {
	if col == 0 && r.IntN(6) == 0 {
		return delta.Null(delta.KindInt)
	}
	return delta.Int(r.Int64N(2 + int64(col)))
}

// oracleSetOp applies f to the multiplicities of every row in l and r.
func oracleSetOp(l, r multiset, f func(cl, cr int64) int64) multiset {
	out := multiset{}
	for _, m := range []multiset{l, r} {
		for k, row := range m {
			if _, done := out[k]; done {
				continue
			}
			var cl, cr int64
			if x := l[k]; x != nil {
				cl = x.n
			}
			if x := r[k]; x != nil {
				cr = x.n
			}
			if n := f(cl, cr); n != 0 {
				out.add(row.vals, n)
			}
		}
	}
	return out
}

func TestRandomizedSetOp(t *testing.T) {
	b2i := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	ops := []struct {
		op  SetOpKind
		all bool
		f   func(cl, cr int64) int64
	}{
		{SetUnion, true, func(cl, cr int64) int64 { return cl + cr }},
		{SetUnion, false, func(cl, cr int64) int64 { return b2i(cl+cr > 0) }},
		{SetIntersect, true, func(cl, cr int64) int64 { return min(cl, cr) }},
		{SetIntersect, false, func(cl, cr int64) int64 { return b2i(cl > 0 && cr > 0) }},
		{SetExcept, true, func(cl, cr int64) int64 { return max(cl-cr, 0) }},
		{SetExcept, false, func(cl, cr int64) int64 { return b2i(cl > 0 && cr == 0) }},
	}
	var cases []biCase
	for _, o := range ops {
		cases = append(cases, biCase{
			name:  NewSetOp(ints2, o.op, o.all).String(),
			kinds: ints2, value: smallInts,
			build: func(t *testing.T, d *Dataflow) func() int {
				s := NewSetOp(ints2, o.op, o.all)
				n := d.Add(s, d.AddSource("l", ints2), d.AddSource("r", ints2))
				if !o.all || o.op != SetUnion {
					d.Add(&consolidationCheck{t: t, kinds: ints2}, n)
				}
				return func() int { return len(s.rows) + len(s.dirty) }
			},
			oracle: func(l, r multiset) multiset { return oracleSetOp(l, r, o.f) },
		})
	}
	cases = append(cases, biCase{
		name:  "Union of three inputs",
		kinds: ints2, value: smallInts,
		build: func(t *testing.T, d *Dataflow) func() int {
			l := d.AddSource("l", ints2)
			d.Add(NewUnion(ints2, 3), l, d.AddSource("r", ints2), l)
			return nil
		},
		oracle: func(l, r multiset) multiset {
			return oracleSetOp(l, r, func(cl, cr int64) int64 { return 2*cl + cr })
		},
	})
	runBiCases(t, cases)
}

// topNSpec is a TopN configuration and its oracle.
type topNSpec struct {
	partition     []int
	order         []SortKey
	limit, offset int64
	rank          RankKind
	rankCol       bool
}

// oracleCompareOrder orders rows a and b by the sort keys alone, as SQL's ORDER BY does
// (each key's NULLs first or last as it says), written apart from exec's rowOrder.
func oracleCompareOrder(order []SortKey, a, b []delta.Value) int {
	for _, k := range order {
		x, y := a[k.Col], b[k.Col]
		if x.Null || y.Null {
			if x.Null && y.Null {
				continue
			}
			// x.Null && NullsFirst, or y.Null && !NullsFirst: x first
			if x.Null == k.NullsFirst {
				return -1
			}
			return 1
		}
		c := delta.Compare(x, y)
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// oracleTopN numbers the rows of each partition of rel from scratch: sort the copies of
// the rows, then count.
func oracleTopN(rel multiset, s topNSpec) multiset {
	parts := map[string][]*mrow{}
	for _, r := range rel {
		var key []delta.Value
		for _, c := range s.partition {
			key = append(key, r.vals[c])
		}
		k := delta.RowKey(key)
		parts[k] = append(parts[k], r)
	}
	cmpOrder := func(a, b *mrow) int { return oracleCompareOrder(s.order, a.vals, b.vals) }
	out := multiset{}
	for _, rows := range parts {
		slices.SortFunc(rows, func(a, b *mrow) int {
			return cmp.Or(cmpOrder(a, b), bytes.Compare([]byte(delta.RowKey(a.vals)), []byte(delta.RowKey(b.vals))))
		})
		var copies []*mrow // one entry per copy
		for _, r := range rows {
			for range r.n {
				copies = append(copies, r)
			}
		}
		var rank, dense int64
		for i, r := range copies {
			pos := int64(i) + 1
			if i == 0 || cmpOrder(copies[i-1], r) != 0 {
				rank, dense = pos, dense+1
			}
			num := map[RankKind]int64{RowNumber: pos, Rank: rank, DenseRank: dense}[s.rank]
			if s.rank == RowNumber && pos <= s.offset {
				continue
			}
			limitNum := num
			if s.rank == RowNumber {
				limitNum = pos - s.offset
			}
			if s.limit >= 0 && limitNum > s.limit {
				continue
			}
			row := slices.Clone(r.vals)
			if s.rankCol {
				row = append(row, delta.Int(num))
			}
			out.add(row, 1)
		}
	}
	return out
}

// tieInts makes (partition, value, id) rows with many ties on the value.
func tieInts(r *rand.Rand, _, col int) delta.Value {
	switch {
	case col == 0 && r.IntN(8) == 0, col == 1 && r.IntN(6) == 0, col == 2 && r.IntN(10) == 0:
		return delta.Null(delta.KindInt)
	case col == 0:
		return delta.Int(r.Int64N(3) / 2) // 0 twice as often as 1
	case col == 1:
		return delta.Int(r.Int64N(5))
	}
	return delta.Int(r.Int64N(4))
}

func TestRandomizedTopN(t *testing.T) {
	specs := []struct {
		name string
		spec topNSpec
	}{
		{"row_number <= 3 per partition, as a column", topNSpec{[]int{0}, []SortKey{asc(1)}, 3, 0, RowNumber, true}},
		{"positions 3 to 4, descending NULLS FIRST", topNSpec{[]int{0}, []SortKey{desc(1)}, 2, 2, RowNumber, false}},
		{"rank <= 2, ascending NULLS FIRST", topNSpec{[]int{0}, []SortKey{{Col: 1, NullsFirst: true}}, 2, 0, Rank, true}},
		{"dense_rank <= 2, descending NULLS LAST", topNSpec{[]int{0}, []SortKey{{Col: 1, Desc: true}}, 2, 0, DenseRank, false}},
		{"global row_number <= 4 on two keys", topNSpec{nil, []SortKey{asc(1), desc(2)}, 4, 0, RowNumber, true}},
		{"rank without a limit", topNSpec{[]int{0}, []SortKey{asc(1)}, -1, 0, Rank, true}},
		{"dense_rank = 1 on two partition columns", topNSpec{[]int{0, 2}, []SortKey{asc(1)}, 1, 0, DenseRank, true}},
		{"limit without order", topNSpec{nil, nil, 3, 1, RowNumber, false}},
		{"offset without a limit", topNSpec{[]int{0}, []SortKey{asc(2)}, -1, 2, RowNumber, true}},
	}
	large := []struct {
		name string
		spec topNSpec
	}{
		{"large partitions: positions 6 to 10", topNSpec{[]int{0}, []SortKey{desc(1), asc(2)}, 5, 5, RowNumber, true}},
		{"large partitions: rank <= 8", topNSpec{[]int{0}, []SortKey{asc(1)}, 8, 0, Rank, true}},
	}
	var cases []biCase
	for i, s := range append(specs, large...) {
		cases = append(cases, biCase{
			name:  s.name,
			kinds: ints3, value: tieInts,
			preload: map[bool]int{true: 80}[i >= len(specs)],
			build: func(t *testing.T, d *Dataflow) func() int {
				op := NewTopN(ints3, s.spec.partition, s.spec.order, s.spec.limit, s.spec.offset, s.spec.rank, s.spec.rankCol)
				n := d.Add(op, d.AddSource("l", ints3))
				d.Add(&consolidationCheck{t: t, kinds: op.OutKinds()}, n)
				return func() int { return len(op.parts) + len(op.dirty) }
			},
			oracle: func(l, _ multiset) multiset { return oracleTopN(l, s.spec) },
		})
	}
	cases = append(cases, biCase{
		name: "top 2 groups by sum over an aggregate",
		build: func(t *testing.T, d *Dataflow) func() int {
			a := d.Add(NewHashAggregate(ints2, []int{0}, []AggSpec{countStar(), agg(AggSum, 1)}), d.AddSource("l", ints2))
			d.Add(NewTopN(ints3, nil, []SortKey{desc(2), asc(0)}, 2, 0, RowNumber, true), a)
			return nil
		},
		oracle: func(l, _ multiset) multiset {
			groups := multiset{}
			for _, g := range oracleAgg(l, 0, 1) {
				groups.add(g.vals[:3], 1) // group, count(*), sum
			}
			return oracleTopN(groups, topNSpec{nil, []SortKey{desc(2), asc(0)}, 2, 0, RowNumber, true})
		},
	})
	runBiCases(t, cases)
}
