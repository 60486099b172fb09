package httpapi

import (
	"sync"
	"time"
)

// limiter is a token bucket of events per source: each fills at rate tokens a second up
// to burst. A nil limiter admits everything.
type limiter struct {
	rate, burst float64
	now         func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64 // may be negative: a request larger than the burst leaves a debt
	at     time.Time
}

func newLimiter(rate float64, burst int, now func() time.Time) *limiter {
	if rate <= 0 {
		return nil
	}
	return &limiter{rate: rate, burst: float64(max(burst, 1)), now: now, buckets: map[string]*bucket{}}
}

// take admits n events of key and reports true, or reports false and how long until it
// would. A request needs min(n, burst) tokens (at least one) in the bucket; once
// admitted it takes all n. take(key, 0) only checks that the bucket is not empty.
func (l *limiter) take(key string, n int) (time.Duration, bool) {
	if l == nil {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+elapsed*l.rate)
		b.at = now
	}
	need := min(max(float64(n), 1), l.burst)
	if b.tokens < need {
		return time.Duration((need - b.tokens) / l.rate * float64(time.Second)), false
	}
	b.tokens -= float64(n)
	return 0, true
}
