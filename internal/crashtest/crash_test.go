package crashtest

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// seed returns $WEIR_CRASH_SEED, or a fresh random seed.
func seed(t *testing.T) uint64 {
	if s := os.Getenv("WEIR_CRASH_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("WEIR_CRASH_SEED=%q: %v", s, err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// TestCrashShort is the crash test's short run, part of make test: three kills.
func TestCrashShort(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: skipped under -short")
	}
	Run(t, Config{Kills: 3, Seed: seed(t), HTTPWriters: 4, PGWriters: 2, CopyWriters: 2, MinAcks: 20, MaxKillDelay: 700 * time.Millisecond})
}

// TestCrash is the long run (make crash-test): WEIR_CRASH_KILLS kills (default 20), and
// more until WEIR_CRASH_DURATION (a Go duration) has passed, if set.
func TestCrash(t *testing.T) {
	kills, duration := os.Getenv("WEIR_CRASH_KILLS"), os.Getenv("WEIR_CRASH_DURATION")
	if kills == "" && duration == "" {
		t.Skip("crash test: the long run needs WEIR_CRASH_KILLS or WEIR_CRASH_DURATION (make crash-test)")
	}
	cfg := Config{Kills: 20, Seed: seed(t), HTTPWriters: 6, PGWriters: 3, CopyWriters: 2, MinAcks: 50, MaxKillDelay: 3 * time.Second}
	if kills != "" {
		n, err := strconv.Atoi(kills)
		if err != nil || n < 1 {
			t.Fatalf("WEIR_CRASH_KILLS=%q: want a positive number", kills)
		}
		cfg.Kills = n
	}
	if duration != "" {
		d, err := time.ParseDuration(duration)
		if err != nil {
			t.Fatalf("WEIR_CRASH_DURATION=%q: %v", duration, err)
		}
		cfg.Duration = d
	}
	Run(t, cfg)
}
