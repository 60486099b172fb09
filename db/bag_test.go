package db

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/internal/delta"
)

// TestBagOracle folds random change batches into bags keyed by the whole row, by a
// unique key, and by a key several rows share (chains), and checks after each batch the
// rows held (against a multiset of row keys), every key's chain and index entry, what
// was touched, and what a flush of the touched keys would write.
func TestBagOracle(t *testing.T) {
	kinds := []delta.Kind{delta.KindInt, delta.KindString, delta.KindNumeric}
	// Bags in parts are applied alternately part after part (bag.apply) and on several
	// goroutines (applyOuts, with every batch large enough for it).
	minRows := exec.ParallelMinRows
	exec.ParallelMinRows = 1
	defer func() { exec.ParallelMinRows = minRows }()
	for _, tc := range []struct {
		name  string
		key   []int
		parts int
	}{
		{"whole row", nil, 1}, {"first column", []int{0}, 1}, {"second column", []int{1}, 1},
		{"whole row in 2 parts", nil, 2}, {"first column in 3 parts", []int{0}, 3}, {"second column in 2 parts", []int{1}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(20) {
				rng := rand.New(rand.NewPCG(seed, 7))
				g := newBag(kinds, tc.key)
				if tc.parts > 1 {
					g = newPartedBag(kinds, tc.key, tc.parts)
				}
				want := map[string]int64{} // row key -> multiplicity
				var lent []lentRows
				for step := range 60 {
					b := delta.New(kinds)
					// Changes to a small universe of rows, so rows repeat, retract and come
					// back; a group's old row retracted and its new row inserted in either
					// order; numerics equal as numbers (1.0, 1.00) are one row.
					for range 1 + rng.IntN(30) {
						k := rng.Int64N(6)
						num := []string{"1", "1.0", "2.50", "2.5", "-3"}[rng.IntN(5)]
						key := delta.Int(k)
						if k == 5 && rng.IntN(2) == 0 {
							key = delta.Null(delta.KindInt) // found through index, not ints
						}
						row := []delta.Value{key, delta.Str(string(rune('a' + rng.IntN(3)))), delta.Numeric(num)}
						rk := delta.RowKey(row)
						w := int64(1 + rng.IntN(2))
						if want[rk] > 0 && rng.IntN(2) == 0 {
							w = -min(w, want[rk]) // a retraction of what is held
						}
						want[rk] += w
						b.AppendRow(row, w)
					}
					touched := &touchedRows{}
					if g.parts != nil && step%2 == 1 {
						touched = applyOuts([]viewOut{{&view{rows: g}, b}}, false)[0]
					} else {
						g.apply(b, touched)
					}
					require.LessOrEqual(t, touched.Len(), b.Len(), "step %d", step)

					// What a read lends (the bag's mirror) is its rows now, each once, the
					// numerics lent as integers where a block's are all integers; and what
					// the reads before were lent has not changed since.
					for _, l := range lent {
						require.Equal(t, l.rows, heldRows(t, kinds, l.batches, false), "seed %d step %d: rows lent before changed", seed, step)
					}
					bs, release := g.held([]bool{false, false, true})
					got := heldRows(t, kinds, bs, true)
					lent = keepLent(lent, lentRows{bs, got, release})
					live := map[string]int64{}
					for rk, n := range want {
						if n > 0 {
							live[rk] = n
						}
					}
					require.Equal(t, live, got, "seed %d step %d", seed, step)
					require.Equal(t, len(live), g.len())
					// Every row is reachable from its key's index entry exactly once, in the
					// part its key hashes to.
					for _, part := range g.bags() {
						seen := 0
						heads := map[string]int32{}
						for k, p := range part.index {
							heads[k] = p
						}
						for k, p := range part.ints.all {
							heads[string(delta.AppendValueKey(nil, delta.Int(k)))] = p
						}
						require.Len(t, heads, len(part.index)+part.ints.len())
						if part.ints != nil {
							require.LessOrEqual(t, len(part.index), 1, "only the NULL key is found by its encoding")
						}
						for k, p := range heads {
							require.Same(t, part, g.partOf(k), "step %d: key %q in another part", step, k)
							require.GreaterOrEqual(t, p, int32(0))
							for x := p; x >= 0; x = part.rows[x].next {
								require.Equal(t, k, part.rows[x].key)
								seen++
							}
						}
						require.Equal(t, len(part.rows), seen, "step %d: rows outside the chains", step)
					}
					// A flush of the touched keys writes each key's rows as held now.
					p := newPendingRows(0)
					p.note(touched)
					// Every key the batch touched is noted, whichever part holds it.
					noted := map[string]bool{}
					for i := range b.Len() {
						noted[string(g.rowKey(nil, b.Row(i, nil)))] = true
					}
					require.Len(t, p.rows, len(noted), "step %d", step)
					for k := range noted {
						require.Contains(t, p.rows, k, "step %d", step)
					}
					out := g.touched(p)
					distinct := map[string]bool{}
					for _, r := range out.rows {
						rk := delta.RowKey(r.Values)
						require.False(t, distinct[rk], "step %d: row %v written twice", step, r.Values)
						distinct[rk] = true
					}
					for _, r := range out.rows {
						if r.N == 0 {
							require.Zero(t, g.multiplicity(string(g.rowKey(nil, r.Values))))
							continue
						}
						require.Equal(t, live[delta.RowKey(r.Values)], r.N)
					}
				}
			}
		})
	}
}

// TestInsertOnlyBag folds random ticks into an insert-only bag, mostly insertions but
// now and then a replayed tick (keyed) or a retraction, and flushes every few ticks into
// a model of the view's table that does what writeBag does (the appended rows inserted,
// then every touched key that is not fresh deleted and its rows as held inserted).
// Some flushes fail and are merged in front of the next (unflushed.then). After every
// flush the table must hold the bag's rows, and the bag must be unindexed exactly when
// it is insert-only and was never handed a retraction.
func TestInsertOnlyBag(t *testing.T) {
	t.Run("chunks as in production", testInsertOnlyBag)
	// Ticks of 1 to 8 rows: batches of 4 or more rows are kept as chunks, and the tail
	// is full at 10 rows.
	keep, tail := keepBatchRows, tailRows
	keepBatchRows, tailRows = 4, 10
	defer func() { keepBatchRows, tailRows = keep, tail }()
	t.Run("small chunks", testInsertOnlyBag)
}

func testInsertOnlyBag(t *testing.T) {
	kinds := []delta.Kind{delta.KindInt, delta.KindString}
	for _, key := range [][]int{nil, {0}} {
		for seed := range uint64(30) {
			rng := rand.New(rand.NewPCG(seed, 9))
			g := newBag(kinds, key)
			g.setInsertOnly()
			require.Nil(t, g.index)
			keyOf := func(row []delta.Value) string { return string(g.rowKey(nil, row)) }
			table := map[string]int64{} // row key -> copies in the view's table
			rowOf := map[string][]delta.Value{}
			want := map[string]int64{} // what the bag should hold
			pending := newPendingRows(0)
			retract := rng.IntN(3) == 0 // this run sees a retraction at some point
			for step := range 80 {
				b := delta.New(kinds)
				neg := retract && step > 40 && rng.IntN(5) == 0
				for range 1 + rng.IntN(8) {
					row := []delta.Value{delta.Int(rng.Int64N(5)), delta.Str(string(rune('a' + rng.IntN(2))))}
					rk := delta.RowKey(row)
					w := int64(1)
					if neg && want[rk] > 0 {
						w = -1
					}
					want[rk] += w
					rowOf[rk] = row
					b.AppendRow(row, w)
				}
				touched := &touchedRows{keyed: rng.IntN(10) == 0}
				g.apply(b, touched)
				pending.note(touched)
				if rng.IntN(3) != 0 {
					continue
				}
				// A flush: it takes what is pending, and the bag drops its index.
				out := g.touched(pending)
				taken := pending
				pending = newPendingRows(0)
				g.dropIndex()
				if rng.IntN(4) == 0 {
					// The flush failed: what it took goes back in front of what came since.
					merged := newPendingRows(0)
					merged.merge(taken)
					merged.merge(pending)
					pending = merged
					continue
				}
				for _, b := range out.appended {
					for i := range b.Len() {
						table[delta.RowKey(b.Row(i, nil))] += b.Weights[i]
					}
				}
				for i, r := range out.rows {
					if out.fresh != nil && out.fresh[i] {
						continue
					}
					for rk := range table {
						if keyOf(rowOf[rk]) == keyOf(r.Values) {
							delete(table, rk)
						}
					}
				}
				for _, r := range out.rows {
					if r.N > 0 {
						table[delta.RowKey(r.Values)] += r.N
					}
				}
				live := map[string]int64{}
				for rk, n := range want {
					if n > 0 {
						live[rk] = n
					}
				}
				bs, release := g.held(nil)
				held := heldRows(t, kinds, bs, g.index != nil)
				release()
				require.Equal(t, len(held), len(live))
				require.Equal(t, contentsOf(g.contents()), live, "key %v seed %d step %d: contents", key, seed, step)
				require.Equal(t, live, held, "key %v seed %d step %d: the bag", key, seed, step)
				require.Equal(t, live, table, "key %v seed %d step %d: the table", key, seed, step)
				require.Equal(t, g.retracted, g.index != nil, "key %v seed %d step %d: indexed after a flush", key, seed, step)
				n := 0
				for _, c := range g.chunks {
					require.LessOrEqual(t, c.Len(), max(tailRows, keepBatchRows+8))
					n += c.Len()
				}
				require.Equal(t, n, g.chunkRows)
			}
		}
	}
}

// lentRows is what bag.held returned, and the rows it held then.
type lentRows struct {
	batches []*delta.Batch
	rows    map[string]int64
	release func()
}

// keepLent appends l to the rows lent and still held, and releases the oldest of them
// when more than 3 are.
func keepLent(lent []lentRows, l lentRows) []lentRows {
	lent = append(lent, l)
	for len(lent) > 3 {
		lent[0].release()
		lent = lent[1:]
	}
	return lent
}

// heldRows returns the rows of bag.held's batches as row key -> multiplicity; a column
// of kinds' KindNumeric may be lent as integers (KindInt). With distinct, no row may be
// held in two places.
func heldRows(t *testing.T, kinds []delta.Kind, bs []*delta.Batch, distinct bool) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, b := range bs {
		for i := range b.Len() {
			if b.Weights[i] <= 0 {
				t.Fatalf("row %d held with multiplicity %d", i, b.Weights[i])
			}
			row := make([]delta.Value, len(kinds))
			for c, k := range kinds {
				v := b.Cols[c].Get(i)
				if k == delta.KindNumeric && b.Cols[c].Kind == delta.KindInt {
					v = delta.Numeric(strconv.FormatInt(v.I, 10))
					if b.Cols[c].Nulls != nil && b.Cols[c].Nulls[i] {
						v = delta.Null(k)
					}
				}
				if v.Kind != k {
					t.Fatalf("column %d lent as %v, not %v", c, v.Kind, k)
				}
				row[c] = v
			}
			rk := delta.RowKey(row)
			if _, dup := out[rk]; dup && distinct {
				t.Fatalf("row %v held twice", row)
			}
			out[rk] += b.Weights[i]
		}
	}
	return out
}

// contentsOf is a batch of insertions as row key -> multiplicity.
func contentsOf(b *delta.Batch) map[string]int64 {
	out := map[string]int64{}
	for i := range b.Len() {
		out[delta.RowKey(b.Row(i, nil))] += b.Weights[i]
	}
	return out
}

// TestPendingMerge: a failed flush's keys go back in front of those noted since
// (unflushed.then): a key is fresh when its first touch of all was, and keeps the row
// noted last.
func TestPendingMerge(t *testing.T) {
	row := func(v int64) []delta.Value { return []delta.Value{delta.Int(v)} }
	p, q := newPendingRows(0), newPendingRows(0)
	p.rows["a"] = pendingRow{row(1), false} // the store may hold a's rows
	p.rows["b"] = pendingRow{row(2), true}
	p.fresh = 1
	q.rows["a"] = pendingRow{row(3), true} // a's rows were all retracted since
	q.rows["b"] = pendingRow{row(4), false}
	q.rows["c"] = pendingRow{row(5), true}
	q.fresh = 2
	merged := newPendingRows(0)
	merged.merge(p)
	merged.merge(q)
	require.Equal(t, map[string]pendingRow{
		"a": {row(3), false},
		"b": {row(4), true},
		"c": {row(5), true},
	}, merged.rows)
	require.Equal(t, 2, merged.fresh)
}
