package httpapi

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBackoff(t *testing.T) {
	base, maxDelay := 100*time.Millisecond, time.Second
	lo := func(int64) int64 { return 0 }
	hi := func(n int64) int64 { return n - 1 }
	for _, tc := range []struct {
		attempt int
		full    time.Duration
	}{{1, 100 * time.Millisecond}, {2, 200 * time.Millisecond}, {3, 400 * time.Millisecond}, {4, 800 * time.Millisecond}, {5, time.Second}, {80, time.Second}} {
		require.Equal(t, tc.full/2, backoff(tc.attempt, base, maxDelay, lo), "attempt %d, least jitter", tc.attempt)
		require.Equal(t, tc.full, backoff(tc.attempt, base, maxDelay, hi), "attempt %d, most jitter", tc.attempt)
		for i := 0; i < 100; i++ {
			d := backoff(tc.attempt, base, maxDelay, rand.Int64N)
			require.True(t, d >= tc.full/2 && d <= tc.full, "attempt %d: %s", tc.attempt, d)
		}
	}
}

func TestLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(2, 4, func() time.Time { return now }) // 2 events/s, bursts of 4
	_, ok := l.take("a", 4)
	require.True(t, ok)
	wait, ok := l.take("a", 1)
	require.False(t, ok)
	require.Equal(t, 500*time.Millisecond, wait)
	_, ok = l.take("b", 1)
	require.True(t, ok, "buckets are per key")
	now = now.Add(time.Second)
	_, ok = l.take("a", 2)
	require.True(t, ok, "refilled at the rate")
	_, ok = l.take("a", 0)
	require.False(t, ok, "empty")
	now = now.Add(time.Hour)
	_, ok = l.take("a", 10)
	require.True(t, ok, "more than the burst, from a full bucket")
	wait, ok = l.take("a", 1)
	require.False(t, ok)
	require.Equal(t, 3500*time.Millisecond, wait, "the debt of 6, then one more")
	var nilLimiter *limiter
	_, ok = nilLimiter.take("a", 1e9)
	require.True(t, ok, "no limit")
}
