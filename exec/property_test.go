package exec

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
)

// The randomized tests feed random insert/delete streams through dataflows and compare,
// after every tick, the accumulated output with a from-scratch computation in plain Go
// over the input multiset as it stands. This is the engine's own oracle; the DuckDB
// comparison lives with the end-to-end tests.

// multiset is a relation: row encoding -> row and multiplicity (never 0).
type multiset map[string]*mrow

type mrow struct {
	vals []delta.Value
	n    int64
}

func (m multiset) add(vals []delta.Value, n int64) {
	k := delta.RowKey(vals)
	r := m[k]
	if r == nil {
		r = &mrow{vals: slices.Clone(vals)}
		m[k] = r
	}
	r.n += n
	if r.n == 0 {
		delete(m, k)
	}
}

func (m multiset) apply(b *delta.Batch) {
	var row []delta.Value
	for i, w := range b.Weights {
		row = b.Row(i, row)
		m.add(row, w)
	}
}

// sorted returns the rows in a fixed order, so random choices are reproducible.
func (m multiset) sorted() []*mrow {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]*mrow, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

func (m multiset) lines() []string {
	out := make([]string, 0, len(m))
	for _, r := range m {
		parts := make([]string, 0, len(r.vals)+1)
		for _, v := range r.vals {
			parts = append(parts, formatValue(v))
		}
		out = append(out, strings.Join(append(parts, "x"+strconv.FormatInt(r.n, 10)), " "))
	}
	slices.Sort(out)
	return out
}

// stream generates random changes to a relation whose columns come from value.
type stream struct {
	rnd   *rand.Rand
	live  multiset
	value func(r *rand.Rand, col int) delta.Value
	kinds []delta.Kind
}

// next returns one tick's changes (not consolidated: a row may be inserted and retracted
// in the same batch) and applies them to s.live. Retractions only remove live rows.
func (s *stream) next() *delta.Batch {
	b := delta.New(s.kinds)
	row := make([]delta.Value, len(s.kinds))
	for range s.rnd.IntN(9) {
		switch p := s.rnd.Float64(); {
		case len(s.live) == 0 || p < 0.5:
			for c := range row {
				row[c] = s.value(s.rnd, c)
			}
			w := 1 + s.rnd.Int64N(2)
			b.AppendRow(row, w)
			s.live.add(row, w)
			if s.rnd.IntN(8) == 0 { // and gone again within the tick
				b.AppendRow(row, -w)
				s.live.add(row, -w)
			}
		default:
			rs := s.live.sorted()
			r := rs[s.rnd.IntN(len(rs))]
			w := 1 + s.rnd.Int64N(r.n)
			vals := r.vals
			b.AppendRow(vals, -w)
			s.live.add(vals, -w)
		}
	}
	return b
}

func intStream(seed uint64) *stream {
	return &stream{
		rnd:   rand.New(rand.NewPCG(seed, 0x5eed)),
		live:  multiset{},
		kinds: ints2,
		value: func(r *rand.Rand, col int) delta.Value {
			if r.IntN(10) == 0 {
				return delta.Null(delta.KindInt)
			}
			if col == 0 {
				return delta.Int(r.Int64N(5))
			}
			return delta.Int(r.Int64N(10) - 3)
		},
	}
}

// oracleJoin is the self-join of rel on column 0, keeping the pairs where keep is true.
func oracleJoin(rel multiset, keep func(a, b []delta.Value) bool) multiset {
	out := multiset{}
	for _, a := range rel {
		for _, b := range rel {
			if a.vals[0].Null || b.vals[0].Null || a.vals[0].I != b.vals[0].I || !keep(a.vals, b.vals) {
				continue
			}
			out.add(append(slices.Clone(a.vals), b.vals...), a.n*b.n)
		}
	}
	return out
}

// oracleAgg computes, per value of column group (or over everything when group < 0),
// count(*), sum(x), min(x), max(x), count(DISTINCT x), avg(x) of integer column arg x.
func oracleAgg(rel multiset, group, arg int) multiset {
	type acc struct {
		key         []delta.Value
		count, n, s int64
		min, max    delta.Value
		distinct    map[int64]bool
	}
	groups := map[string]*acc{}
	get := func(key []delta.Value) *acc {
		k := delta.RowKey(key)
		if groups[k] == nil {
			groups[k] = &acc{key: key, min: delta.Null(delta.KindInt), max: delta.Null(delta.KindInt), distinct: map[int64]bool{}}
		}
		return groups[k]
	}
	if group < 0 {
		get(nil)
	}
	for _, r := range rel {
		var key []delta.Value
		if group >= 0 {
			key = []delta.Value{r.vals[group]}
		}
		g := get(key)
		g.count += r.n
		x := r.vals[arg]
		if x.Null {
			continue
		}
		g.n += r.n
		g.s += x.I * r.n
		if g.min.Null || x.I < g.min.I {
			g.min = x
		}
		if g.max.Null || x.I > g.max.I {
			g.max = x
		}
		g.distinct[x.I] = true
	}
	out := multiset{}
	for _, g := range groups {
		sum, avg := delta.Null(delta.KindInt), delta.Null(delta.KindFloat)
		if g.n > 0 {
			sum, avg = delta.Int(g.s), delta.Float(float64(g.s)/float64(g.n))
		}
		out.add(append(slices.Clone(g.key), delta.Int(g.count), sum, g.min, g.max, delta.Int(int64(len(g.distinct))), avg), 1)
	}
	return out
}

func sixAggs(arg int) []AggSpec {
	return []AggSpec{countStar(), agg(AggSum, arg), agg(AggMin, arg), agg(AggMax, arg), distinct(AggCount, arg), agg(AggAvg, arg)}
}

// randomCase is one dataflow under random input and its oracle.
type randomCase struct {
	name   string
	build  func(d *Dataflow)
	oracle func(rel multiset) multiset
}

func TestRandomized(t *testing.T) {
	ints4 := append(slices.Clone(ints2), ints2...)
	all := func(a, b []delta.Value) bool { return true }
	cases := []randomCase{
		{
			name: "aggregate by col0",
			build: func(d *Dataflow) {
				d.Add(NewHashAggregate(ints2, []int{0}, sixAggs(1)), d.AddSource("t", ints2))
			},
			oracle: func(rel multiset) multiset { return oracleAgg(rel, 0, 1) },
		},
		{
			name: "global aggregate",
			build: func(d *Dataflow) {
				d.Add(NewHashAggregate(ints2, nil, sixAggs(1)), d.AddSource("t", ints2))
			},
			oracle: func(rel multiset) multiset { return oracleAgg(rel, -1, 1) },
		},
		{
			name: "self-join on col0 over two sources",
			build: func(d *Dataflow) {
				l, r := d.AddSource("t", ints2), d.AddSource("t", ints2)
				d.Add(NewHashJoin(ints2, ints2, []int{0}, []int{0}, nil), l, r)
			},
			oracle: func(rel multiset) multiset { return oracleJoin(rel, all) },
		},
		{
			name: "self-join on col0 with a residual, one source on both ports",
			build: func(d *Dataflow) {
				s := d.AddSource("t", ints2)
				d.Add(NewHashJoin(ints2, ints2, []int{0}, []int{0}, bin(expr.OpLt, col(1), col(3))), s, s)
			},
			oracle: func(rel multiset) multiset {
				return oracleJoin(rel, func(a, b []delta.Value) bool { return !a[1].Null && !b[1].Null && a[1].I < b[1].I })
			},
		},
		{
			name: "aggregate over a self-join",
			build: func(d *Dataflow) {
				l, r := d.AddSource("t", ints2), d.AddSource("t", ints2)
				j := d.Add(NewHashJoin(ints2, ints2, []int{0}, []int{0}, nil), l, r)
				d.Add(NewHashAggregate(ints4, []int{0}, sixAggs(3)), j)
			},
			oracle: func(rel multiset) multiset { return oracleAgg(oracleJoin(rel, all), 0, 3) },
		},
	}
	seeds, ticks := 12, 150
	if testing.Short() {
		seeds, ticks = 3, 60
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(seeds) {
				checkRandom(t, seed, ticks, tc)
			}
		})
	}
}

func checkRandom(t *testing.T, seed uint64, ticks int, tc randomCase) {
	t.Helper()
	d := NewDataflow()
	tc.build(d)
	s := intStream(seed)
	view := multiset{}
	for n := range ticks {
		changes := s.next()
		out, err := d.Step(t.Context(), Tick{Seq: uint64(n + 1)}, map[string]*delta.Batch{"t": changes})
		require.NoError(t, err)
		view.apply(out)
		want := tc.oracle(s.live)
		if !slices.Equal(want.lines(), view.lines()) {
			require.Equal(t, want.lines(), view.lines(), "seed %d tick %d, input now:\n%s", seed, n+1, strings.Join(s.live.lines(), "\n"))
		}
	}
}

// TestRandomizedFloatSums checks that float sums and averages under retraction equal the
// exactly computed sum rounded once, whatever the history of the group.
func TestRandomizedFloatSums(t *testing.T) {
	kinds := []delta.Kind{delta.KindInt, delta.KindFloat}
	mags := []float64{1e-3, 0.1, 1, 1e8, 1e16, 1e20}
	seeds, ticks := 8, 150
	if testing.Short() {
		seeds, ticks = 2, 60
	}
	for seed := range uint64(seeds) {
		s := &stream{
			rnd:   rand.New(rand.NewPCG(seed, 0xf10a7)),
			live:  multiset{},
			kinds: kinds,
			value: func(r *rand.Rand, col int) delta.Value {
				if col == 0 {
					return delta.Int(r.Int64N(3))
				}
				return delta.Float(float64(r.IntN(2001)-1000) / 7 * mags[r.IntN(len(mags))])
			},
		}
		d := NewDataflow()
		d.Add(NewHashAggregate(kinds, []int{0}, []AggSpec{agg(AggSum, 1), agg(AggAvg, 1)}), d.AddSource("t", kinds))
		view := multiset{}
		for n := range ticks {
			out, err := d.Step(t.Context(), Tick{Seq: uint64(n + 1)}, map[string]*delta.Batch{"t": s.next()})
			require.NoError(t, err)
			view.apply(out)

			type acc struct {
				sum *big.Rat
				n   int64
			}
			groups := map[int64]*acc{}
			for _, r := range s.live {
				g := groups[r.vals[0].I]
				if g == nil {
					g = &acc{sum: new(big.Rat)}
					groups[r.vals[0].I] = g
				}
				x := new(big.Rat).SetFloat64(r.vals[1].F)
				g.sum.Add(g.sum, x.Mul(x, new(big.Rat).SetInt64(r.n)))
				g.n += r.n
			}
			want := multiset{}
			for k, g := range groups {
				sum, _ := g.sum.Float64()
				avg, _ := new(big.Rat).Quo(g.sum, new(big.Rat).SetInt64(g.n)).Float64()
				want.add([]delta.Value{delta.Int(k), delta.Float(sum), delta.Float(avg)}, 1)
			}
			require.Equal(t, want.lines(), view.lines(), "seed %d tick %d", seed, n+1)
		}
	}
}

func TestInt128(t *testing.T) {
	const maxI, minI = int64(^uint64(0) >> 1), -int64(^uint64(0)>>1) - 1
	vals := []int64{0, 1, -1, 2, -2, 7, -7, 1 << 40, -(1 << 40), maxI, minI, maxI - 1, minI + 1}
	for _, x := range vals {
		for _, w := range vals {
			t.Run(fmt.Sprintf("%d*%d", x, w), func(t *testing.T) {
				want := new(big.Int).Mul(big.NewInt(x), big.NewInt(w))
				p := mul128(x, w)
				require.Equal(t, want.String(), p.big().String())
				sum, overflow := p.add(mul128(x, 1))
				require.False(t, overflow)
				require.Equal(t, new(big.Int).Add(want, big.NewInt(x)).String(), sum.big().String())
				v, ok := p.int64()
				require.Equal(t, want.IsInt64(), ok)
				if ok {
					require.Equal(t, want.Int64(), v)
				}
				if w > 0 {
					f, _ := new(big.Rat).SetFrac(big.NewInt(x), big.NewInt(w)).Float64()
					require.Equal(t, f, mul128(x, 1).quo(w)) //nolint:testifylint // exact rounding is the point
				}
			})
		}
	}
	big127 := int128{hi: maxI, lo: ^uint64(0)}
	_, overflow := big127.add(int128{lo: 1})
	require.True(t, overflow)
	_, overflow = big127.neg().add(int128{hi: -1, lo: ^uint64(0)})
	require.False(t, overflow) // -(2^127-1) - 1 = -2^127 still fits
}
