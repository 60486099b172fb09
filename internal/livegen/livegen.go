// Package livegen generates the traffic of a Weibo-style live-streaming platform for the
// live-room query pack (queries/): the anchors, rooms and users tables, and the
// comments, likes, gifts, viewer_events (enter/leave) and follows streams.
//
// The traffic is shaped like the real thing: room popularity follows a Zipf law with a
// few hot rooms on top; viewers enter a room, stay a while and leave, so the number of
// viewers present is meaningful; comments are short Chinese and English danmaku; gift
// storms (a burst of expensive gifts in one room) and comment floods (a spam account
// posting dozens of comments in a few seconds) come at random intervals.
//
// A Generator is deterministic: the same Config (Seed and Start included) yields the
// same tables and the same events in the same order. Event time advances by 1/Rate per
// regular event; Run paces it to the wall clock and hands events to a Sink in batches.
package livegen

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Config configures a Generator.
type Config struct {
	// Seed makes the run reproducible: equal seeds (and starts) give equal events.
	Seed uint64
	// Start is the event time of the first event.
	Start time.Time
	// Rate is how many regular events one second of event time holds. Gift storms and
	// comment floods come on top (a few percent).
	Rate float64
	// Rooms, Users: how many rooms (each with its own anchor) and users.
	Rooms, Users int
	// Skew is the exponent s of the Zipf law of room popularity: the room of rank k
	// draws traffic in proportion to 1/k^s (0: every room alike).
	Skew float64
	// HotRooms is how many rooms get three times their Zipf share of the traffic.
	HotRooms int
	// OutOfOrder is the share of events whose event time lags up to Lateness behind
	// the events generated before them.
	OutOfOrder float64
	Lateness   time.Duration
	// Late is the share of events that lag more than WatermarkDelay (by 1 to 30 s
	// more): they are behind the sources' watermark when they arrive.
	Late           float64
	WatermarkDelay time.Duration
}

// Errors of Config.Validate.
var (
	ErrNoStart     = errors.New("livegen: Start is not set")
	ErrInvalidRate = errors.New("livegen: Rate must be positive")
	ErrTooSmall    = errors.New("livegen: need at least 1 room, 10 users and 0 hot rooms")
	ErrShare       = errors.New("livegen: OutOfOrder and Late must be shares in [0, 1] adding up to at most 1")
	ErrDuration    = errors.New("livegen: Lateness and WatermarkDelay must not be negative")
	ErrSkew        = errors.New("livegen: Skew must be in [0, 10]")
)

// DefaultConfig is 2,000 events/s over 200 rooms and 20,000 users, 10% of the events
// up to 3 s out of order: within the pack's 5-second watermark delay, so none is late.
// Start is left for the caller.
func DefaultConfig() Config {
	return Config{
		Seed: 1, Rate: 2000, Rooms: 200, Users: 20000, Skew: 1.1, HotRooms: 3,
		OutOfOrder: 0.1, Lateness: 3 * time.Second, WatermarkDelay: 5 * time.Second,
	}
}

// Validate reports the first invalid setting.
func (c Config) Validate() error {
	switch {
	case c.Start.IsZero():
		return ErrNoStart
	case !(c.Rate > 0) || math.IsInf(c.Rate, 1):
		return ErrInvalidRate
	case c.Rooms < 1 || c.Users < 10 || c.HotRooms < 0:
		return ErrTooSmall
	case !(c.Skew >= 0) || c.Skew > 10:
		return ErrSkew
	case c.OutOfOrder < 0 || c.Late < 0 || c.OutOfOrder+c.Late > 1:
		return ErrShare
	case c.Lateness < 0 || c.WatermarkDelay < 0:
		return ErrDuration
	}
	return nil
}

// ID ranges: room i (0-based) is room_id i+1 hosted by anchor_id 1001+i; user j is
// user_id 100001+j.
const (
	firstAnchor = 1001
	firstUser   = 100001
)

// Event is one generated event.
type Event struct {
	Source string // the source's name (Comments, Likes, …)
	// Row holds the values in the source's column order (Sources): int64 for bigint
	// and integer, string for text, time.Time (UTC) for timestamptz.
	Row []any
}

// Time is the event's event time (its ts column).
func (e Event) Time() time.Time { return e.Row[len(e.Row)-1].(time.Time) }

// TableRows is a table's contents.
type TableRows struct {
	Schema Schema
	Rows   [][]any
}

// Generator produces the events. It is not safe for concurrent use.
type Generator struct {
	cfg   Config
	rng   *rand.Rand
	start int64 // µs
	n     int64 // regular events generated
	now   int64 // µs: the event time of the next regular event

	rooms    []room
	roomCDF  []float64 // cumulative popularity over room indexes
	hot      []int     // the hot rooms' indexes, hottest first
	viewers  int       // users who take part (the rest are spam bots)
	bots     []int     // user indexes of the spam bots
	patrons  []int     // big spenders who show up in gift storms
	target   int       // how many viewers are in rooms at once, on average
	where    []int32   // per user: room index + 1 while present, else 0
	present  []int32   // the users present
	presPos  []int32   // per user: position in present
	inRoom   [][]int32 // per room: the users present
	roomPos  []int32   // per user: position in inRoom[its room]
	bursts   burstHeap
	seq      int64 // burst event order, for ties
	nextGift int64 // µs: when the next gift storm starts
	nextSpam int64 // µs: when the next comment flood starts
}

type room struct {
	id, anchor int64
	category   string
	busy       float64 // twice the room's interactions per second
}

// New returns a generator for cfg.
func New(cfg Config) (*Generator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	setup := rand.New(rand.NewPCG(cfg.Seed, 1))
	g := &Generator{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(cfg.Seed, 2)),
		start: cfg.Start.UnixMicro(),
	}
	g.now = g.start
	// Popularity: rank k (0 hottest) has weight 1/(k+1)^Skew; ranks are dealt to rooms
	// at random so the hot rooms are not simply the first ids.
	rank := setup.Perm(cfg.Rooms)
	weights := make([]float64, cfg.Rooms)
	g.hot = make([]int, min(cfg.HotRooms, cfg.Rooms))
	g.rooms = make([]room, cfg.Rooms)
	for i := range g.rooms {
		w := 1 / math.Pow(float64(rank[i]+1), cfg.Skew)
		if rank[i] < len(g.hot) {
			w *= 3
			g.hot[rank[i]] = i
		}
		weights[i] = w
		g.rooms[i] = room{id: int64(i + 1), anchor: int64(firstAnchor + i), category: pickWeighted(setup, categories)}
	}
	g.roomCDF = make([]float64, cfg.Rooms)
	sum := 0.0
	for i, w := range weights {
		sum += w
		g.roomCDF[i] = sum
	}
	nbots := max(1, min(5, cfg.Users/100))
	g.viewers = cfg.Users - nbots
	for b := range nbots {
		g.bots = append(g.bots, g.viewers+b)
	}
	for range 8 {
		g.patrons = append(g.patrons, setup.IntN(g.viewers))
	}
	g.target = max(1, g.viewers/4)
	for i := range g.rooms {
		g.rooms[i].busy = 2 * cfg.Rate * weights[i] / sum
	}
	g.where = make([]int32, cfg.Users)
	g.presPos = make([]int32, cfg.Users)
	g.roomPos = make([]int32, cfg.Users)
	g.inRoom = make([][]int32, cfg.Rooms)
	g.nextGift = g.start + g.span(10*time.Second, 30*time.Second)
	g.nextSpam = g.start + g.span(3*time.Second, 10*time.Second)
	return g, nil
}

// Now is the event time of the next regular event.
func (g *Generator) Now() time.Time { return time.UnixMicro(g.now).UTC() }

// HotRooms returns the room_id of the hot rooms, hottest first.
func (g *Generator) HotRooms() []int64 {
	out := make([]int64, len(g.hot))
	for i, r := range g.hot {
		out[i] = g.rooms[r].id
	}
	return out
}

// Bots returns the user_id of the spam accounts that flood comments.
func (g *Generator) Bots() []int64 {
	out := make([]int64, len(g.bots))
	for i, u := range g.bots {
		out[i] = int64(firstUser + u)
	}
	return out
}

// Next returns the next event. Events come in event-time order except for the
// configured out-of-order and late shares.
func (g *Generator) Next() Event {
	for {
		if len(g.bursts) > 0 && g.bursts[0].at <= g.now {
			return heap.Pop(&g.bursts).(burst).ev
		}
		if g.now >= g.nextGift {
			g.giftStorm()
			continue
		}
		if g.now >= g.nextSpam {
			g.commentFlood()
			continue
		}
		ev := g.regular()
		g.n++
		g.now = g.start + int64(float64(g.n)*1e6/g.cfg.Rate)
		return ev
	}
}

// span is a random duration in [lo, hi), in µs.
func (g *Generator) span(lo, hi time.Duration) int64 {
	return lo.Microseconds() + g.rng.Int64N((hi - lo).Microseconds())
}

func (g *Generator) regular() Event {
	ts := g.now
	switch r := g.rng.Float64(); {
	case r < g.cfg.Late:
		ts -= g.cfg.WatermarkDelay.Microseconds() + g.span(time.Second, 30*time.Second)
	case r < g.cfg.Late+g.cfg.OutOfOrder && g.cfg.Lateness > 0:
		ts -= g.rng.Int64N(g.cfg.Lateness.Microseconds() + 1)
	}
	t := time.UnixMicro(ts).UTC()
	// Out of 100 events: 44 likes, 30 comments, 8 gifts, 4 follows and a few enters and
	// leaves. While the audience gathers (at the start), enters and leaves are 50 in
	// 100+, so the rooms fill within seconds; then they are 2 in 88: a viewer stays for
	// minutes.
	viewers := 2
	if len(g.present) < g.target*9/10 {
		viewers = 50
	}
	switch k := g.rng.IntN(86 + viewers); {
	case k < 44:
		r, u := g.actor()
		return Event{Likes, []any{g.rooms[r].id, userID(u), t}}
	case k < 74:
		r, u := g.actor()
		return Event{Comments, []any{g.rooms[r].id, userID(u), g.comment(), t}}
	case k < 82:
		r, u := g.actor()
		return g.gift(r, u, giftKinds, t)
	case k < 86:
		r, u := g.actor()
		return Event{Follows, []any{g.rooms[r].anchor, userID(u), g.rooms[r].id, t}}
	default:
		return g.enterOrLeave(t)
	}
}

// LeaveAll returns a leave event, at Now, for every viewer still in a room, as when the
// platform closes: afterwards no one is present.
func (g *Generator) LeaveAll() []Event {
	var out []Event
	t := g.Now()
	for len(g.present) > 0 {
		u := int(g.present[len(g.present)-1])
		out = append(out, g.leave(u, t))
	}
	return out
}

func userID(u int) int64 { return int64(firstUser + u) }

// pickRoom draws a room index by popularity.
func (g *Generator) pickRoom() int {
	x := g.rng.Float64() * g.roomCDF[len(g.roomCDF)-1]
	return min(sort.SearchFloat64s(g.roomCDF, x), len(g.roomCDF)-1)
}

// actor picks a room by popularity and someone in it: a viewer present there, or any
// user, interacting from the preview in their feed. Present viewers act at most about
// once every two seconds on average; the rest of a room's traffic comes from the
// preview, so no viewer floods the chat just because a hot room's audience is still
// gathering.
func (g *Generator) actor() (int, int) {
	r := g.pickRoom()
	return r, g.someoneIn(r)
}

func (g *Generator) someoneIn(r int) int {
	vs := g.inRoom[r]
	n := float64(len(vs))
	if n > 0 && g.rng.Float64()*max(n, g.rooms[r].busy) < n {
		return int(vs[g.rng.IntN(len(vs))])
	}
	return g.rng.IntN(g.viewers)
}

// enterOrLeave keeps about target viewers present: below it, entering is three times
// as likely as leaving; above it, the other way round. A user is in one room at a time.
func (g *Generator) enterOrLeave(t time.Time) Event {
	pEnter := 0.25
	if len(g.present) < g.target {
		pEnter = 0.75
	}
	if len(g.present) == 0 || g.rng.Float64() < pEnter {
		for range 10 {
			u := g.rng.IntN(g.viewers)
			if g.where[u] != 0 {
				continue
			}
			r := g.pickRoom()
			g.where[u] = int32(r + 1)
			g.presPos[u] = int32(len(g.present))
			g.present = append(g.present, int32(u))
			g.roomPos[u] = int32(len(g.inRoom[r]))
			g.inRoom[r] = append(g.inRoom[r], int32(u))
			return Event{ViewerEvents, []any{g.rooms[r].id, userID(u), "enter", t}}
		}
	}
	return g.leave(int(g.present[g.rng.IntN(len(g.present))]), t)
}

// leave takes user u out of its room.
func (g *Generator) leave(u int, t time.Time) Event {
	r := int(g.where[u] - 1)
	g.where[u] = 0
	last := g.present[len(g.present)-1]
	g.present[g.presPos[u]] = last
	g.presPos[last] = g.presPos[u]
	g.present = g.present[:len(g.present)-1]
	vs := g.inRoom[r]
	lastInRoom := vs[len(vs)-1]
	vs[g.roomPos[u]] = lastInRoom
	g.roomPos[lastInRoom] = g.roomPos[u]
	g.inRoom[r] = vs[:len(vs)-1]
	return Event{ViewerEvents, []any{g.rooms[r].id, userID(u), "leave", t}}
}

func (g *Generator) gift(r, u int, kinds []weighted[giftKind], t time.Time) Event {
	k := pickWeighted(g.rng, kinds)
	n := int64(1)
	if k.price <= 10 {
		n = []int64{1, 1, 1, 1, 1, 10, 66, 99, 520}[g.rng.IntN(9)]
	} else if g.rng.IntN(4) == 0 {
		n = 1 + g.rng.Int64N(3)
	}
	return Event{Gifts, []any{g.rooms[r].id, userID(u), k.name, k.price, n, t}}
}

func (g *Generator) comment() string {
	var s string
	if g.rng.IntN(10) < 6 {
		s = zhComments[g.rng.IntN(len(zhComments))]
	} else {
		s = enComments[g.rng.IntN(len(enComments))]
	}
	switch g.rng.IntN(10) {
	case 0, 1:
		s += emojis[g.rng.IntN(len(emojis))]
	case 2:
		s += s
	}
	return s
}

// giftStorm schedules 15 s of expensive gifts in one room, mostly from its patrons,
// with the thank-you comments that go with them: about 5% of Rate as gifts, at least 4
// a second.
func (g *Generator) giftStorm() {
	at := g.nextGift
	g.nextGift = at + g.span(45*time.Second, 90*time.Second)
	r := g.pickRoom()
	if g.rng.IntN(2) == 0 && len(g.hot) > 0 {
		r = g.hot[g.rng.IntN(len(g.hot))]
	}
	length := 15 * time.Second
	n := int(max(4, g.cfg.Rate*0.05) * length.Seconds())
	for range n {
		t := at + g.rng.Int64N(length.Microseconds())
		u := g.patrons[g.rng.IntN(len(g.patrons))]
		if g.rng.IntN(3) == 0 {
			u = g.someoneIn(r)
		}
		g.push(t, g.gift(r, u, stormGiftKinds, time.UnixMicro(t).UTC()))
		if g.rng.IntN(2) == 0 {
			v := g.someoneIn(r)
			g.push(t, Event{Comments, []any{g.rooms[r].id, userID(v), stormComments[g.rng.IntN(len(stormComments))], time.UnixMicro(t).UTC()}})
		}
	}
}

// commentFlood schedules one spam account posting 45 to 60 comments within 6 to 9 s in
// one room: whichever 10-second windows the flood straddles, one of them holds more than
// 20 of its comments, whatever the Rate.
func (g *Generator) commentFlood() {
	at := g.nextSpam
	g.nextSpam = at + g.span(20*time.Second, 40*time.Second)
	bot := g.bots[g.rng.IntN(len(g.bots))]
	r := g.pickRoom()
	n := 45 + g.rng.IntN(16)
	length := g.span(6*time.Second, 9*time.Second)
	for i := range n {
		t := at + int64(i)*length/int64(n)
		g.push(t, Event{Comments, []any{g.rooms[r].id, userID(bot), spamComments[g.rng.IntN(len(spamComments))], time.UnixMicro(t).UTC()}})
	}
}

func (g *Generator) push(at int64, ev Event) {
	g.seq++
	heap.Push(&g.bursts, burst{at: at, seq: g.seq, ev: ev})
}

// Tables returns the contents of the anchors, rooms and users tables.
func (g *Generator) Tables() []TableRows {
	rng := rand.New(rand.NewPCG(g.cfg.Seed, 3))
	ts := Tables()
	anchors := TableRows{Schema: ts[0]}
	rooms := TableRows{Schema: ts[1]}
	for _, r := range g.rooms {
		name := anchorName(rng)
		anchors.Rows = append(anchors.Rows, []any{r.anchor, name, agencies[rng.IntN(len(agencies))]})
		titles := roomTitles[r.category]
		rooms.Rows = append(rooms.Rows, []any{r.id, r.anchor, r.category, titles[rng.IntN(len(titles))]})
	}
	users := TableRows{Schema: ts[2]}
	for u := range g.cfg.Users {
		var name string
		if u >= g.viewers {
			name = fmt.Sprintf("bot_%04d", u)
		} else if rng.IntN(2) == 0 {
			name = zhNick[rng.IntN(len(zhNick))] + fmt.Sprint(rng.IntN(10000))
		} else {
			name = enNick[rng.IntN(len(enNick))] + fmt.Sprint(rng.IntN(10000))
		}
		level := int64(1 + int(math.Floor(math.Pow(rng.Float64(), 3)*50)))
		users.Rows = append(users.Rows, []any{userID(u), name, level, regions[rng.IntN(len(regions))]})
	}
	return []TableRows{anchors, rooms, users}
}

// burst is an event of a gift storm or comment flood, due at its event time.
type burst struct {
	at, seq int64
	ev      Event
}

type burstHeap []burst

func (h burstHeap) Len() int { return len(h) }
func (h burstHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || h[i].at == h[j].at && h[i].seq < h[j].seq
}
func (h burstHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *burstHeap) Push(x any)   { *h = append(*h, x.(burst)) }
func (h *burstHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
