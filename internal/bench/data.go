package bench

import (
	"encoding/binary"
	"math/rand/v2"
	"time"
)

// pgEpoch is PostgreSQL's timestamp epoch; binary COPY carries µs since it.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// baseTime is the event time of the first generated event.
var baseTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Event is one row of the COPY workload's source: a gift of amount coins by user_id in
// room_id at ts.
type Event struct {
	Room, User, Amount int64
	TS                 int64 // µs since the Unix epoch
}

// EventsPerSecond is how fast event time advances with the event count in the COPY
// workload: 2M events span about 33 minutes of event time.
const EventsPerSecond = 1000

// genEvents returns n events in event-time order: rooms and users drawn from Zipf
// distributions (a few hot rooms and users, a long tail), amounts uniform in 1..1000.
func genEvents(n, rooms, users int, seed uint64) []Event {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	zr := rand.NewZipf(r, 1.1, 1, uint64(rooms-1))
	zu := rand.NewZipf(r, 1.05, 1, uint64(users-1))
	base := baseTime.UnixMicro()
	out := make([]Event, n)
	for i := range out {
		out[i] = Event{
			Room:   int64(zr.Uint64()) + 1,
			User:   int64(zu.Uint64()) + 1,
			Amount: r.Int64N(1000) + 1,
			TS:     base + int64(i)*1_000_000/EventsPerSecond,
		}
	}
	return out
}

// copyPayload is one batch encoded once in PostgreSQL's binary COPY format, so that
// Weir and PostgreSQL are sent the same bytes and the client's encoding cost is paid
// before the clock starts.
type copyPayload struct {
	data []byte
	rows int
}

// binaryCopy builds binary COPY data from rows of int64 and timestamp (µs since the
// Unix epoch) fields; isTS says which fields are timestamps.
type binaryCopy struct {
	buf  []byte
	isTS []bool
	rows int
}

func newBinaryCopy(isTS []bool, sizeHint int) *binaryCopy {
	b := &binaryCopy{isTS: isTS, buf: make([]byte, 0, sizeHint)}
	b.buf = append(b.buf, "PGCOPY\n\xff\r\n\x00"...)
	b.buf = binary.BigEndian.AppendUint32(b.buf, 0) // flags
	b.buf = binary.BigEndian.AppendUint32(b.buf, 0) // header extension length
	return b
}

// row appends one row of int64 fields.
func (b *binaryCopy) row(fields ...int64) {
	b.buf = binary.BigEndian.AppendUint16(b.buf, uint16(len(fields)))
	for i, v := range fields {
		if b.isTS[i] {
			v -= pgEpoch.UnixMicro()
		}
		b.buf = binary.BigEndian.AppendUint32(b.buf, 8)
		b.buf = binary.BigEndian.AppendUint64(b.buf, uint64(v))
	}
	b.rows++
}

// begin starts a row of n fields of mixed types, appended with fieldInt, fieldTS and
// fieldText.
func (b *binaryCopy) begin(n int) {
	b.buf = binary.BigEndian.AppendUint16(b.buf, uint16(n))
	b.rows++
}

func (b *binaryCopy) fieldInt(v int64) {
	b.buf = binary.BigEndian.AppendUint32(b.buf, 8)
	b.buf = binary.BigEndian.AppendUint64(b.buf, uint64(v))
}

func (b *binaryCopy) fieldTS(us int64) { b.fieldInt(us - pgEpoch.UnixMicro()) }

func (b *binaryCopy) fieldText(s string) {
	b.buf = binary.BigEndian.AppendUint32(b.buf, uint32(len(s)))
	b.buf = append(b.buf, s...)
}

// finish appends the trailer and returns the payload.
func (b *binaryCopy) finish() copyPayload {
	b.buf = binary.BigEndian.AppendUint16(b.buf, 0xffff)
	return copyPayload{data: b.buf, rows: b.rows}
}

// eventBatches splits events into batches of binary COPY data.
func eventBatches(events []Event, batches int) []copyPayload {
	out := make([]copyPayload, 0, batches)
	isTS := []bool{false, false, false, true}
	for i := 0; i < batches; i++ {
		lo, hi := len(events)*i/batches, len(events)*(i+1)/batches
		b := newBinaryCopy(isTS, (hi-lo)*50+32)
		for _, e := range events[lo:hi] {
			b.row(e.Room, e.User, e.Amount, e.TS)
		}
		out = append(out, b.finish())
	}
	return out
}
