package livegen

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/stretchr/testify/require"
)

var testStart = time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC)

func testConfig() Config {
	c := DefaultConfig()
	c.Start = testStart
	c.Rate = 500
	c.Users = 2000
	return c
}

func generate(t *testing.T, cfg Config, n int) []Event {
	t.Helper()
	g, err := New(cfg)
	require.NoError(t, err)
	out := make([]Event, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

func TestDeterministic(t *testing.T) {
	cfg := testConfig()
	a, b := generate(t, cfg, 20000), generate(t, cfg, 20000)
	require.Equal(t, a, b)
	ga, _ := New(cfg)
	gb, _ := New(cfg)
	require.Equal(t, ga.Tables(), gb.Tables())
	require.Equal(t, ga.HotRooms(), gb.HotRooms())

	cfg.Seed++
	require.NotEqual(t, a, generate(t, cfg, 20000), "another seed, other events")
}

// TestPopularity: room traffic is Zipf-like, with the hot rooms on top.
func TestPopularity(t *testing.T) {
	cfg := testConfig()
	g, err := New(cfg)
	require.NoError(t, err)
	perRoom := map[int64]int{}
	const n = 60000
	for range n {
		ev := g.Next()
		if ev.Source != Follows {
			perRoom[ev.Row[0].(int64)]++
		}
	}
	counts := make([]int, 0, cfg.Rooms)
	for r := int64(1); r <= int64(cfg.Rooms); r++ {
		counts = append(counts, perRoom[r])
	}
	sort.Sort(sort.Reverse(sort.IntSlice(counts)))
	median := counts[len(counts)/2]
	hot := g.HotRooms()
	require.Len(t, hot, cfg.HotRooms)
	for _, r := range hot {
		require.Greater(t, perRoom[r], 20*median, "hot room %d: %d events, median room %d", r, perRoom[r], median)
	}
	require.Contains(t, hot, topRoom(perRoom), "the busiest room is a hot one")
	top10 := 0
	for _, c := range counts[:cfg.Rooms/10] {
		top10 += c
	}
	require.Greater(t, float64(top10)/float64(n), 0.5, "the top 10%% of rooms draw most of the traffic")
	require.Greater(t, counts[len(counts)-1], 0, "every room gets some traffic")
}

func topRoom(perRoom map[int64]int) int64 {
	var best int64
	for r, c := range perRoom {
		if c > perRoom[best] || c == perRoom[best] && r < best {
			best = r
		}
	}
	return best
}

// TestViewers: each user enters a room, stays and leaves it before entering another,
// so the number present is meaningful and hovers around the target.
func TestViewers(t *testing.T) {
	cfg := testConfig()
	in := map[int64]int64{} // user → room
	perRoom := map[int64]int{}
	peak := 0
	for _, ev := range generate(t, cfg, 100000) {
		if ev.Source != ViewerEvents {
			continue
		}
		room, user, action := ev.Row[0].(int64), ev.Row[1].(int64), ev.Row[2].(string)
		switch action {
		case "enter":
			_, ok := in[user]
			require.False(t, ok, "user %d enters while in a room", user)
			in[user] = room
			perRoom[room]++
		case "leave":
			r, ok := in[user]
			require.True(t, ok, "user %d leaves without entering", user)
			require.Equal(t, r, room, "user %d leaves the room it entered", user)
			delete(in, user)
			perRoom[room]--
			require.GreaterOrEqual(t, perRoom[room], 0)
		default:
			t.Fatalf("action %q", action)
		}
		peak = max(peak, len(in))
	}
	target := (cfg.Users - 20) / 4
	require.InDelta(t, target, len(in), float64(target)/4, "viewers present at the end")
	require.LessOrEqual(t, peak, target*5/4)
}

// TestBursts: comment floods (more than 20 comments from one user in a 10-second
// window) and gift storms (one room's gifts far above its usual) happen, whatever the
// rate; comments are Chinese and English.
func TestBursts(t *testing.T) {
	for _, rate := range []float64{20, 2000} {
		cfg := testConfig()
		cfg.Rate, cfg.Users = rate, 20000
		g, err := New(cfg)
		require.NoError(t, err)
		bots := g.Bots()
		perUserWindow := map[[2]int64]int{}
		giftsPerRoomWindow := map[[2]int64]int{}
		gifts := 0
		var zh, en bool
		end := testStart.Add(3 * time.Minute)
		for g.Now().Before(end) {
			ev := g.Next()
			w := ev.Time().Unix() / 10
			switch ev.Source {
			case Comments:
				perUserWindow[[2]int64{ev.Row[1].(int64), w}]++
				body := ev.Row[2].(string)
				zh = zh || strings.ContainsFunc(body, func(r rune) bool { return unicode.Is(unicode.Han, r) })
				en = en || strings.ContainsFunc(body, func(r rune) bool { return r >= 'a' && r <= 'z' })
			case Gifts:
				giftsPerRoomWindow[[2]int64{ev.Row[0].(int64), w}]++
				gifts++
			}
		}
		floods := 0
		for k, n := range perUserWindow {
			if n > 20 {
				require.Contains(t, bots, k[0], "only the spam accounts flood (rate %v)", rate)
				floods++
			}
		}
		require.GreaterOrEqual(t, floods, 4, "floods in 3 minutes at rate %v", rate)
		peak := 0
		for _, n := range giftsPerRoomWindow {
			peak = max(peak, n)
		}
		mean := float64(gifts) / float64(len(giftsPerRoomWindow))
		require.Greater(t, float64(peak), 10*mean, "a gift storm at rate %v: peak %d gifts per room and 10 s, mean %.1f", rate, peak, mean)
		require.True(t, zh && en, "comments in Chinese and English")
	}
}

// TestOutOfOrder: by default events lag at most Lateness behind the newest, within the
// watermark delay, so none is late; Late makes that share late.
func TestOutOfOrder(t *testing.T) {
	lags := func(cfg Config) (outOfOrder, late int) {
		var newest time.Time
		for _, ev := range generate(t, cfg, 50000) {
			ts := ev.Time()
			if lag := newest.Sub(ts); lag > 0 {
				outOfOrder++
				if lag > cfg.WatermarkDelay {
					late++
				} else {
					require.LessOrEqual(t, lag, cfg.Lateness)
				}
			}
			if ts.After(newest) {
				newest = ts
			}
		}
		return outOfOrder, late
	}
	cfg := testConfig()
	ooo, late := lags(cfg)
	require.Zero(t, late)
	require.InDelta(t, 0.1*50000, ooo, 0.03*50000)

	cfg.Late = 0.05
	_, late = lags(cfg)
	require.InDelta(t, 0.05*50000, late, 0.01*50000)

	cfg = testConfig()
	cfg.OutOfOrder = 0
	ooo, _ = lags(cfg)
	require.Zero(t, ooo, "in order")
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		err  error
	}{
		{func(c *Config) { c.Start = time.Time{} }, ErrNoStart},
		{func(c *Config) { c.Rate = 0 }, ErrInvalidRate},
		{func(c *Config) { c.Rooms = 0 }, ErrTooSmall},
		{func(c *Config) { c.Users = 5 }, ErrTooSmall},
		{func(c *Config) { c.HotRooms = -1 }, ErrTooSmall},
		{func(c *Config) { c.Skew = -1 }, ErrSkew},
		{func(c *Config) { c.OutOfOrder, c.Late = 0.7, 0.5 }, ErrShare},
		{func(c *Config) { c.Lateness = -time.Second }, ErrDuration},
	} {
		c := testConfig()
		tc.edit(&c)
		_, err := New(c)
		require.ErrorIs(t, err, tc.err)
	}
	require.NoError(t, testConfig().Validate())
}

// recorder is a Sink that keeps everything.
type recorder struct {
	mu      sync.Mutex
	upserts map[string]int
	events  map[string][][]any
	appends int // Append calls
	fail    error

	afterAppend func(appends int) // called with the lock held
}

func (r *recorder) Upsert(_ context.Context, t Schema, rows [][]any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.appends > 0 {
		return errors.New("table rows after events")
	}
	if r.upserts == nil {
		r.upserts = map[string]int{}
	}
	r.upserts[t.Name] += len(rows)
	return nil
}

func (r *recorder) Append(_ context.Context, s Schema, rows [][]any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	if r.events == nil {
		r.events = map[string][][]any{}
	}
	r.appends++
	r.events[s.Name] = append(r.events[s.Name], slices.Clone(rows)...)
	if r.afterAppend != nil {
		r.afterAppend(r.appends)
	}
	return nil
}

func TestRun(t *testing.T) {
	cfg := testConfig()
	// What 10 s of event time holds.
	want := map[string]int{}
	total := 0
	g, err := New(cfg)
	require.NoError(t, err)
	for g.Now().Before(testStart.Add(10 * time.Second)) {
		want[g.Next().Source]++
		total++
	}
	for _, workers := range []int{1, 3} {
		g, err := New(cfg)
		require.NoError(t, err)
		var rec recorder
		var reports []Progress
		p, err := Run(t.Context(), g, &rec, RunConfig{Duration: 10 * time.Second, Workers: workers, MaxBatch: 700,
			Progress: func(p Progress) { reports = append(reports, p) }})
		require.NoError(t, err)
		require.Equal(t, map[string]int{"anchors": cfg.Rooms, "rooms": cfg.Rooms, "users": cfg.Users}, rec.upserts)
		require.EqualValues(t, total, p.Events)
		require.True(t, p.Done)
		for name, n := range want {
			require.Len(t, rec.events[name], n, name)
			require.EqualValues(t, n, p.Sources[name], name)
		}
		require.NotEmpty(t, reports)
		require.True(t, reports[len(reports)-1].Done)
		if workers == 1 {
			// One worker keeps generation order.
			g, _ := New(cfg)
			next := map[string]int{}
			for range total {
				ev := g.Next()
				require.Equal(t, ev.Row, rec.events[ev.Source][next[ev.Source]])
				next[ev.Source]++
			}
		}
	}

	// LeaveAtEnd: the rooms are empty after the run, even one stopped by its context.
	ctx, cancel := context.WithCancel(t.Context())
	rec := &recorder{afterAppend: func(n int) {
		if n == 50 {
			cancel()
		}
	}}
	g, _ = New(cfg)
	_, err = Run(ctx, g, rec, RunConfig{LeaveAtEnd: true, Workers: 2, MaxBatch: 50})
	require.NoError(t, err)
	present := map[int64]int{}
	for _, row := range rec.events[ViewerEvents] {
		if row[2] == "enter" {
			present[row[1].(int64)]++
		} else {
			present[row[1].(int64)]--
		}
	}
	require.Greater(t, len(present), 50)
	for u, n := range present {
		require.Zero(t, n, "user %d", u)
	}

	// Concurrent batches overtake each other by at most Workers × BatchSpan.
	ordered := cfg
	ordered.OutOfOrder = 0
	g, _ = New(ordered)
	lag := &lagSink{}
	_, err = Run(t.Context(), g, lag, RunConfig{Duration: 20 * time.Second, Workers: 4, BatchSpan: 100 * time.Millisecond})
	require.NoError(t, err)
	require.LessOrEqual(t, lag.worst, 400*time.Millisecond)

	// A failing sink stops the run with its error.
	g, _ = New(cfg)
	boom := errors.New("boom")
	_, err = Run(t.Context(), g, &recorder{fail: boom}, RunConfig{Duration: 10 * time.Second, Workers: 2})
	require.ErrorIs(t, err, boom)

	// A cancelled context stops it cleanly.
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	g, _ = New(cfg)
	_, err = Run(ctx, g, &recorder{}, RunConfig{})
	require.NoError(t, err)
}

// TestRunPaced: a paced run takes as long as the event time it generates.
func TestRunPaced(t *testing.T) {
	cfg := testConfig()
	cfg.Rate = 1000
	g, err := New(cfg)
	require.NoError(t, err)
	began := time.Now()
	p, err := Run(t.Context(), g, &recorder{}, RunConfig{Duration: 300 * time.Millisecond, Paced: true})
	require.NoError(t, err)
	require.GreaterOrEqual(t, time.Since(began), 250*time.Millisecond)
	require.InDelta(t, 300, p.Events, 60)
}

func TestAppendJSON(t *testing.T) {
	s, ok := SourceSchema(Comments)
	require.True(t, ok)
	row := []any{int64(7), int64(100001), "主播\"好\"\n\x01 \\ ok", time.Date(2026, 3, 1, 20, 0, 0, 123456000, time.UTC)}
	b := AppendJSON(nil, s, row)
	require.True(t, json.Valid(b), string(b))
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	require.Equal(t, map[string]any{"room_id": 7.0, "user_id": 100001.0, "body": "主播\"好\"\n\x01 \\ ok", "ts": "2026-03-01T20:00:00.123456Z"}, got)

	rooms := Tables()[1]
	require.Equal(t,
		`INSERT INTO rooms (room_id, anchor_id, category, title) VALUES (1, 1001, 'chat', 'it''s late') `+
			`ON CONFLICT (room_id) DO UPDATE SET anchor_id = excluded.anchor_id, category = excluded.category, title = excluded.title`,
		UpsertSQL(rooms, [][]any{{int64(1), int64(1001), "chat", "it's late"}}))
}

// lagSink records how far behind the newest event written so far the events of a
// write are; every few batches are slow.
type lagSink struct {
	mu     sync.Mutex
	calls  int
	newest time.Time
	worst  time.Duration
}

func (*lagSink) Upsert(context.Context, Schema, [][]any) error { return nil }

func (l *lagSink) Append(_ context.Context, s Schema, rows [][]any) error {
	l.mu.Lock()
	l.calls++
	slow := l.calls%7 == 0
	l.mu.Unlock()
	if slow {
		time.Sleep(3 * time.Millisecond) // a slow request that others could overtake
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range rows {
		ts := r[len(r)-1].(time.Time)
		l.worst = max(l.worst, l.newest.Sub(ts))
		if ts.After(l.newest) {
			l.newest = ts
		}
	}
	return nil
}
