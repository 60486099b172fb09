package crashtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Rooms is the number of rooms events fall in. Rooms 0..Rooms-2 are rows of the rooms
// table (the last of them with a NULL category); room Rooms-1 is not, so the join drops it.
const Rooms = 12

// categories gives room i the category categories[i%len(categories)].
var categories = []string{"music", "games", "talk", "sports", "food"}

// roomRows is the rooms table: room_id → category ("" for NULL).
func roomRows() map[int64]string {
	rows := map[int64]string{}
	for i := range int64(Rooms - 1) {
		rows[i] = categories[int(i)%len(categories)]
	}
	rows[Rooms-2] = "" // NULL
	return rows
}

// baseTime is the timestamp of event 0; event id is baseTime + id ms.
var baseTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Event is one row of the events source. Its fields are a function of its id and the
// run's seed, so the ledger keeps ids only.
type Event struct {
	ID, Room, User, Amount int64
	TS                     time.Time
}

// eventOf returns event id of the run seeded with seed.
func eventOf(seed uint64, id int64) Event {
	h := mix(seed ^ mix(uint64(id)))
	room := int64(h % Rooms)
	if h>>60 < 6 { // a skewed room, as live rooms are
		room = 3
	}
	return Event{
		ID:     id,
		Room:   room,
		User:   int64((h >> 8) % 300),
		Amount: int64((h>>20)%1000) - 100,
		TS:     baseTime.Add(time.Duration(id) * time.Millisecond),
	}
}

// mix is splitmix64's finalizer.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// idState is what the test knows of one event id.
type idState uint8

const (
	inFlight idState = iota // sent, no answer: may be present or absent after a crash
	acked                   // acknowledged, or found present after a crash: must be present once
	rejected                // the server answered with an error: must be absent
	gone                    // in flight at a crash and found absent: must stay absent
)

// how says how an id was sent, for failure messages.
type how struct {
	via   string // "http", "pgwire" or "copy"
	round int
	batch int // rows in its request
	state idState
}

// Ledger records every id sent and what became of it, and the same for each view's
// CREATE. Safe for concurrent use.
type Ledger struct {
	mu    sync.Mutex
	ids   map[int64]*how
	views map[string]idState // absent: not created yet
	next  atomic.Int64       // the next id to hand out
}

func newLedger() *Ledger {
	l := &Ledger{ids: map[int64]*how{}, views: map[string]idState{}}
	l.next.Store(1)
	return l
}

func (l *Ledger) view(name string) (idState, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.views[name]
	return s, ok
}

func (l *Ledger) setView(name string, s idState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.views[name] = s
}

// take hands out n fresh ids and records them as in flight.
func (l *Ledger) take(n int, via string, round int) []int64 {
	first := l.next.Add(int64(n)) - int64(n)
	ids := make([]int64, n)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range ids {
		ids[i] = first + int64(i)
		l.ids[ids[i]] = &how{via: via, round: round, batch: n, state: inFlight}
	}
	return ids
}

func (l *Ledger) set(ids []int64, s idState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		l.ids[id].state = s
	}
}

// roundStats counts one round's requests.
type roundStats struct {
	ackedRows    atomic.Int64
	ackedReqs    atomic.Int64
	inFlightRows atomic.Int64
	errors       atomic.Int64 // requests the server answered with an error (a bug)
}

// writer is one concurrent client of a round.
type writer struct {
	id     int
	srv    *Server
	ledger *Ledger
	round  int
	rng    *rand.Rand
	seed   uint64
	stats  *roundStats
	errorf func(format string, args ...any)
}

// maxHTTPBatch, maxPGBatch and maxCopyBatch bound the rows per request.
const (
	maxHTTPBatch = 64
	maxPGBatch   = 16
	maxCopyBatch = 512
)

// runHTTP posts JSON arrays of events until ctx is done or a request gets no answer
// (the server died).
func (w *writer) runHTTP(ctx context.Context) {
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	var body bytes.Buffer
	for ctx.Err() == nil {
		n := 1 + w.rng.IntN(maxHTTPBatch)
		ids := w.ledger.take(n, "http", w.round)
		body.Reset()
		body.WriteByte('[')
		for i, id := range ids {
			e := eventOf(w.seed, id)
			if i > 0 {
				body.WriteByte(',')
			}
			// Time columns take JSON numbers as epoch milliseconds.
			fmt.Fprintf(&body, `{"id":%d,"room_id":%d,"user_id":%d,"amount":%d,"ts":%d}`, e.ID, e.Room, e.User, e.Amount, e.TS.UnixMilli())
		}
		body.WriteByte(']')
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.srv.HTTPURL()+"/v1/sources/events/events", bytes.NewReader(body.Bytes()))
		if err != nil {
			w.errorf("round %d: http writer %d: %v", w.round, w.id, err)
			return
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			w.stats.inFlightRows.Add(int64(n))
			return // no answer: in flight
		}
		// The status line is the acknowledgement: it is sent only after the commit.
		reply, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			w.ledger.set(ids, rejected)
			w.stats.errors.Add(1)
			w.errorf("round %d: http writer %d: POST of %d events (ids %d..%d) answered %s: %s", w.round, w.id, n, ids[0], ids[n-1], resp.Status, reply)
			continue
		}
		w.ledger.set(ids, acked)
		w.stats.ackedRows.Add(int64(n))
		w.stats.ackedReqs.Add(1)
		var r struct{ Ingested int }
		if json.Unmarshal(reply, &r) == nil && r.Ingested != n {
			w.errorf("round %d: http writer %d: POST of %d events (ids %d..%d) says ingested %d", w.round, w.id, n, ids[0], ids[n-1], r.Ingested)
		}
	}
}

// runPG inserts events with multi-row INSERT statements over pgwire until ctx is done or
// a statement gets no answer.
func (w *writer) runPG(ctx context.Context) {
	conn, err := pgx.Connect(ctx, w.srv.PGURL())
	if err != nil {
		return // the server died before this writer got going
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var sql strings.Builder
	for ctx.Err() == nil {
		n := 1 + w.rng.IntN(maxPGBatch)
		ids := w.ledger.take(n, "pgwire", w.round)
		sql.Reset()
		sql.WriteString("INSERT INTO events (id, room_id, user_id, amount, ts) VALUES ")
		for i, id := range ids {
			e := eventOf(w.seed, id)
			if i > 0 {
				sql.WriteString(", ")
			}
			fmt.Fprintf(&sql, "(%d, %d, %d, %d, '%s')", e.ID, e.Room, e.User, e.Amount, e.TS.Format("2006-01-02 15:04:05.000-07"))
		}
		tag, err := conn.Exec(ctx, sql.String())
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr):
			w.ledger.set(ids, rejected)
			w.stats.errors.Add(1)
			w.errorf("round %d: pgwire writer %d: INSERT of %d events (ids %d..%d) failed: %s (SQLSTATE %s)", w.round, w.id, n, ids[0], ids[n-1], pgErr.Message, pgErr.Code)
		case err != nil:
			w.stats.inFlightRows.Add(int64(n))
			return // no answer: in flight
		default:
			w.ledger.set(ids, acked)
			w.stats.ackedRows.Add(int64(n))
			w.stats.ackedReqs.Add(1)
			if tag.RowsAffected() != int64(n) {
				w.errorf("round %d: pgwire writer %d: INSERT of %d events (ids %d..%d) says %q", w.round, w.id, n, ids[0], ids[n-1], tag)
			}
		}
	}
}

// runCopy loads events with pgx's CopyFrom (COPY … FROM STDIN in binary format) until
// ctx is done or a COPY gets no answer. A COPY's CommandComplete ("COPY n") is its
// acknowledgement: the rows are committed before it is sent.
func (w *writer) runCopy(ctx context.Context) {
	conn, err := pgx.Connect(ctx, w.srv.PGURL())
	if err != nil {
		return // the server died before this writer got going
	}
	defer conn.Close(context.WithoutCancel(ctx))
	cols := []string{"id", "room_id", "user_id", "amount", "ts"}
	rows := make([][]any, 0, maxCopyBatch)
	for ctx.Err() == nil {
		n := 1 + w.rng.IntN(maxCopyBatch)
		ids := w.ledger.take(n, "copy", w.round)
		rows = rows[:0]
		for _, id := range ids {
			e := eventOf(w.seed, id)
			rows = append(rows, []any{e.ID, e.Room, e.User, e.Amount, e.TS})
		}
		copied, err := conn.CopyFrom(ctx, pgx.Identifier{"events"}, cols, pgx.CopyFromRows(rows))
		var pgErr *pgconn.PgError
		switch {
		case errors.As(err, &pgErr):
			w.ledger.set(ids, rejected)
			w.stats.errors.Add(1)
			w.errorf("round %d: copy writer %d: COPY of %d events (ids %d..%d) failed: %s (SQLSTATE %s)", w.round, w.id, n, ids[0], ids[n-1], pgErr.Message, pgErr.Code)
		case err != nil:
			w.stats.inFlightRows.Add(int64(n))
			return // no answer: in flight
		default:
			w.ledger.set(ids, acked)
			w.stats.ackedRows.Add(int64(n))
			w.stats.ackedReqs.Add(1)
			if copied != int64(n) {
				w.errorf("round %d: copy writer %d: COPY of %d events (ids %d..%d) says COPY %d", w.round, w.id, n, ids[0], ids[n-1], copied)
			}
		}
	}
}
