package expr

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/weirdb/weir/catalog"
)

// slowDateTime is Parse's general path for dates and timestamps, without the fast path.
func slowDateTime(s string, t catalog.Type) (int64, error) {
	if err := checkDateFields(s); err != nil {
		return 0, err
	}
	ts, err := parseTimestamp(s)
	if err != nil {
		return 0, err
	}
	if t != catalog.Timestamptz {
		ts = time.Date(ts.Year(), ts.Month(), ts.Day(), ts.Hour(), ts.Minute(), ts.Second(), ts.Nanosecond(), time.UTC)
	}
	if t == catalog.Date {
		return floorDiv(ts.Unix(), 86400), nil
	}
	return ts.Round(time.Microsecond).UnixMicro(), nil
}

// TestFastTimestamp checks that the fast path agrees with the general one on every input
// it accepts, and accepts the spellings bulk input uses.
func TestFastTimestamp(t *testing.T) {
	inputs := []string{
		"2026-01-02", "2026-01-02 03:04:05", "2026-01-02T03:04:05", "2026-01-02 03:04",
		"2026-01-02 03:04:05.1", "2026-01-02 03:04:05.123456", "2026-01-02 03:04:05.1234567",
		"2026-01-02 03:04:05+00", "2026-01-02 03:04:05.5+05:30", "2026-01-02 03:04:05-0800",
		"2026-01-02T03:04:05Z", "2026-01-02T03:04:05-07", "2026-01-02T03:04:05-0700", "2026-01-02 03:04+02",
		"2024-02-29 23:59:59", "2023-02-29", "2026-13-01", "2026-01-02 24:00:00", "2026-01-02 23:59:60",
		"0001-01-01 00:00:00", "1969-12-31 23:59:59.999999", "1900-03-01", "2000-02-29 12:00:00-12",
		" 2026-01-02", "2026-01-02 ", "2026-01-02 03:04:05 UTC", "2026-1-2", "2026-01-02 3:04:05",
		"2026-01-02 03:04:05.", "2026-01-02 03:04:05+", "2026-01-02 03:04:05+1", "2026-01-02T03:04",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		ts := time.UnixMicro(rng.Int64N(200 * 365 * 86400e6)).Add(-100 * 365 * 24 * time.Hour).UTC()
		layout := []string{"2006-01-02 15:04:05.000000-07", "2006-01-02T15:04:05Z07:00", "2006-01-02 15:04:05.999-0700", "2006-01-02", "2006-01-02 15:04"}[rng.IntN(5)]
		zone := time.FixedZone("", (rng.IntN(29)-14)*1800)
		inputs = append(inputs, ts.In(zone).Format(layout))
	}
	accepted := 0
	for _, in := range inputs {
		for _, typ := range []catalog.Type{catalog.Timestamptz, catalog.Timestamp, catalog.Date} {
			fast, ok := fastTimestamp(in, typ)
			if !ok {
				continue
			}
			accepted++
			slow, err := slowDateTime(in, typ)
			if err != nil {
				t.Fatalf("%s %q: fast path read %d, general path fails: %v", typ, in, fast, err)
			}
			if fast != slow {
				t.Fatalf("%s %q: fast path %d, general path %d", typ, in, fast, slow)
			}
		}
	}
	for _, in := range []string{"2026-01-02 03:04:05.123+00", "2026-01-02T03:04:05Z", "2026-01-02"} {
		if _, ok := fastTimestamp(in, catalog.Timestamptz); !ok {
			t.Errorf("%q should take the fast path", in)
		}
	}
	if accepted < 5000 {
		t.Errorf("the fast path took only %d inputs", accepted)
	}
}
