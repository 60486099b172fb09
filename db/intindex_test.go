package db

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestIntIndex runs random sets, removals and lookups on an intIndex and a map side by
// side: keys from small ranges (long probe runs, removals in their middle), from steps
// of a power of two, and from the whole int64 range.
func TestIntIndex(t *testing.T) {
	keys := map[string]func(*rand.Rand) int64{
		"small":  func(r *rand.Rand) int64 { return r.Int64N(300) - 100 },
		"stride": func(r *rand.Rand) int64 { return r.Int64N(500) << 20 },
		"wide":   func(r *rand.Rand) int64 { return int64(r.Uint64()) },
	}
	for name, key := range keys {
		t.Run(name, func(t *testing.T) {
			for seed := range uint64(20) {
				r := rand.New(rand.NewPCG(seed, 3))
				x, want := newIntIndex(), map[int64]int32{}
				var seen []int64
				for step := range 5000 {
					k := key(r)
					if len(seen) > 0 && r.IntN(2) == 0 {
						k = seen[r.IntN(len(seen))] // a key set before, maybe removed since
					}
					switch op := r.IntN(10); {
					case op < 5:
						p := r.Int32N(1 << 20)
						x.set(k, p)
						want[k] = p
						seen = append(seen, k)
					case op < 8:
						x.del(k)
						delete(want, k)
					default:
						p, ok := x.get(k)
						wp, wok := want[k]
						require.Equal(t, wok, ok, "seed %d step %d: key %d", seed, step, k)
						require.Equal(t, wp, p, "seed %d step %d: key %d", seed, step, k)
					}
					require.Equal(t, len(want), x.len())
				}
				got := map[int64]int32{}
				for k, p := range x.all {
					got[k] = p
				}
				require.Equal(t, want, got, "seed %d", seed)
				for k, p := range want {
					gp, ok := x.get(k)
					require.True(t, ok)
					require.Equal(t, p, gp)
				}
			}
		})
	}
}
