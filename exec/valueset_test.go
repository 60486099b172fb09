package exec

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/delta"
)

// TestValueSet checks the multiset against a map through the slice-to-map switch, for
// integers and for values kept by encoding, with retractions ahead of insertions.
func TestValueSet(t *testing.T) {
	for _, kind := range []delta.Kind{delta.KindInt, delta.KindString} {
		rng := rand.New(rand.NewPCG(1, uint64(kind)))
		var s valueSet
		var buf []byte
		want := map[int64]int64{}
		for round := range 20000 {
			x, w := rng.Int64N(int64(3+round%2*40)*valueSetSmall), rng.Int64N(5)-2
			if w == 0 {
				continue
			}
			v := delta.Int(x)
			if kind == delta.KindString {
				v = delta.Str(string(rune('a' + x)))
			}
			rep, was, is := s.add(v, w, &buf)
			require.Equal(t, v, rep)
			require.Equal(t, want[x] > 0, was)
			if want[x] += w; want[x] == 0 {
				delete(want, x)
			}
			require.Equal(t, want[x] > 0, is)
			require.Equal(t, len(want), s.len())
		}
		got := map[int64]int64{}
		s.each(func(v delta.Value, n int64) {
			x := v.I
			if kind == delta.KindString {
				x = int64([]rune(v.S)[0] - 'a')
			}
			got[x] = n
		})
		require.Equal(t, want, got)
	}
}

// BenchmarkValueSetLarge is max()'s multiset of a hot group: amounts 1..1000 added and,
// a quarter of the time, retracted.
func BenchmarkValueSetLarge(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	vals := make([]int64, 4096)
	for i := range vals {
		vals[i] = rng.Int64N(1000) + 1
	}
	var s valueSet
	var buf []byte
	b.ReportAllocs()
	for n := range b.N {
		v := delta.Int(vals[n%len(vals)])
		w := int64(1)
		if n%4 == 3 {
			w = -1
		}
		s.add(v, w, &buf)
	}
}
