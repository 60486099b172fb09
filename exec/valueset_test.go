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
		for range 5000 {
			x, w := rng.Int64N(3*valueSetSmall), rng.Int64N(5)-2
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
