package db

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/delta"
)

// TestReadMirror folds random ticks into aggregate-like bags of thousands of groups
// (several mirror blocks; in one part, and in two taken on two goroutines): groups
// updated (old row retracted, new one inserted), created and removed, so that rows move
// into holes and the bag grows and shrinks across blocks. It reads them (bag.held)
// after a random number of ticks, sometimes enough for the mirror to be dropped as idle.
// Every read must lend the rows held then, and what the last few reads were lent, and
// hold still, must not have changed since. The numeric column is lent as integers where
// a block's values are all integers (every block, but with seed 1).
func TestReadMirror(t *testing.T) {
	kinds := []delta.Kind{delta.KindInt, delta.KindNumeric, delta.KindString}
	idle, idleMin := mirrorIdle, mirrorIdleMin
	mirrorIdle, mirrorIdleMin = 1, 4096 // dropped after as many writes as rows
	defer func() { mirrorIdle, mirrorIdleMin = idle, idleMin }()
	for _, parts := range []int{1, 2} {
		for seed := range uint64(2) {
			rng := rand.New(rand.NewPCG(seed, 11))
			g := newBag(kinds, []int{0})
			if parts > 1 {
				g = newPartedBag(kinds, []int{0}, parts)
			}
			groups := map[int64][]delta.Value{} // the model: a row per group
			var lent []lentRows
			drops, read := 0, false
			for tick := range 100 {
				b := delta.New(kinds)
				universe := int64(20_000)
				if tick%50 >= 40 {
					universe = 300 // shrink: most groups go, the last blocks are cut
				}
				for range rng.IntN(5000) {
					k := rng.Int64N(20_000)
					old, ok := groups[k]
					if ok {
						b.AppendRow(old, -1)
						delete(groups, k)
					}
					if k >= universe || (ok && rng.IntN(8) == 0) {
						continue // the group is gone
					}
					num := delta.Numeric(strconv.FormatInt(rng.Int64N(1e6)-5e5, 10))
					switch rng.IntN(50) {
					case 0:
						if seed == 1 {
							num = delta.Numeric("2.5") // its block is lent as text
						}
					case 1:
						num = delta.Null(delta.KindNumeric)
					}
					row := []delta.Value{delta.Int(k), num, delta.Str("s" + strconv.Itoa(rng.IntN(5)))}
					b.AppendRow(row, 1)
					groups[k] = row
				}
				g.apply(b, nil)
				for _, p := range g.bags() {
					if read && !p.mirror.on {
						drops++
					}
				}
				if !(tick%50 < 30 && rng.IntN(3) == 0 || tick%50 == 49) {
					continue // no read, from tick 30 of 50 to its end: the mirror is dropped
				}
				read = true
				for _, l := range lent {
					require.Equal(t, l.rows, heldRows(t, kinds, l.batches, false), "parts %d seed %d tick %d: rows lent before changed", parts, seed, tick)
				}
				want := map[string]int64{}
				for _, row := range groups {
					want[delta.RowKey(row)] = 1
				}
				bs, release := g.held([]bool{false, true, false})
				got := heldRows(t, kinds, bs, true)
				require.Equal(t, want, got, "parts %d seed %d tick %d", parts, seed, tick)
				lent = keepLent(lent, lentRows{bs, got, release})
				for _, p := range g.bags() {
					require.Len(t, p.mirror.blocks, (len(p.rows)+blockRows-1)/blockRows)
				}
			}
			require.Positive(t, drops, "parts %d seed %d: no mirror was dropped", parts, seed)
			require.Zero(t, mirrorsLost.Load(), "a mirror lost track of its bag's positions")
		}
	}
}
