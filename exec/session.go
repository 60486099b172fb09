package exec

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

var (
	_ Operator   = (*SessionAssign)(nil)
	_ stateSizer = (*SessionAssign)(nil)
)

// SessionAssign is SESSION(src, ts, gap) in FROM: within each partition (the session
// key), events whose event times are less than Gap apart form one session, and each
// input row is emitted with window_start (the session's first event time) and
// window_end (its last event time plus Gap) appended. As events arrive, sessions grow
// and merge (and split again when an event is retracted): the rows of every session
// that changed are retracted with their old bounds and emitted with the new ones.
//
// Rows whose event time is NULL belong to no session. With Arrival set the input's last
// column is the source's watermark when the row arrived: a late row (event time behind
// it) is dropped, because it could only have joined a session the watermark had closed;
// and Advance forgets sessions whose end the watermark of Sources has reached, which no
// on-time event can join any more. Both keep the result a function of the input
// history, whatever the ticks were.
type SessionAssign struct {
	in        []delta.Kind
	timeCol   int
	gap       int64
	partition []int
	arrival   bool
	sources   []string // with arrival: whose watermark closes sessions
	out       []delta.Kind
	err       *sqlerr.Error

	parts map[string]*sessPart
	dirty []*sessPart
	idx   expiryIndex // partition keys by the ends of their sessions

	keyBuf []byte
	encBuf []byte
	row    []delta.Value
	outRow []delta.Value
	late   int64
}

type sessPart struct {
	key   string
	rows  []sessRow // sorted by (ts, enc)
	dirty bool
}

// sessRow is one distinct input row: its current multiplicity and what was last emitted
// for it.
type sessRow struct {
	ts   int64
	enc  string
	vals []delta.Value
	n    int64

	shownN          int64
	shownStart, end int64 // the session bounds it was last emitted with
}

// NewSessionAssign returns a SessionAssign over input columns of kinds in (with a
// trailing arrival-watermark column when sources is not empty), partitioned by the
// partition columns, with sessions of timeCol separated by gaps of at least gap µs.
func NewSessionAssign(in []delta.Kind, timeCol int, gap int64, partition []int, sources []string) *SessionAssign {
	s := &SessionAssign{in: slices.Clone(in), timeCol: timeCol, gap: gap, partition: slices.Clone(partition),
		arrival: len(sources) > 0, sources: slices.Clone(sources), parts: map[string]*sessPart{}}
	n := len(in)
	if s.arrival {
		n--
	}
	switch {
	case gap <= 0:
		s.err = configError("SessionAssign", "session gap must be positive")
	case timeCol < 0 || timeCol >= n:
		s.err = configError("SessionAssign", "time column %d out of range", timeCol)
	default:
		s.err = checkCols("SessionAssign", "partition", partition, n)
	}
	s.out = append(slices.Clone(in[:max(n, 0)]), delta.KindInt, delta.KindInt)
	return s
}

// Push applies b's rows to their partitions; sessions are recomputed in Advance.
func (s *SessionAssign) Push(_ context.Context, in int, b *delta.Batch, _ *delta.Batch) error {
	if s.err != nil {
		return s.err
	}
	if in != 0 {
		return portError("SessionAssign", in)
	}
	n := len(s.out) - 2
	for i, w := range b.Weights {
		if w == 0 {
			continue
		}
		s.row = b.Row(i, s.row)
		t := s.row[s.timeCol]
		if t.Null {
			continue
		}
		if s.arrival && t.I < s.row[n].I {
			s.late += w
			continue
		}
		s.keyBuf, _ = appendRowKey(s.keyBuf[:0], b, i, s.partition)
		p := s.parts[string(s.keyBuf)]
		if p == nil {
			p = &sessPart{key: string(s.keyBuf)}
			s.parts[p.key] = p
		}
		if !p.dirty {
			p.dirty = true
			s.dirty = append(s.dirty, p)
		}
		s.encBuf = s.encBuf[:0]
		for _, v := range s.row[:n] {
			s.encBuf = delta.AppendValueKey(s.encBuf, v)
		}
		enc := string(s.encBuf)
		pos, found := slices.BinarySearchFunc(p.rows, sessRow{ts: t.I, enc: enc}, compareSessRows)
		if found {
			p.rows[pos].n += w
			continue
		}
		p.rows = slices.Insert(p.rows, pos, sessRow{ts: t.I, enc: enc, vals: slices.Clone(s.row[:n]), n: w})
	}
	return nil
}

func compareSessRows(a, b sessRow) int {
	if c := cmp.Compare(a.ts, b.ts); c != 0 {
		return c
	}
	return strings.Compare(a.enc, b.enc)
}

// Advance recomputes the sessions of every partition changed this tick and emits the
// rows whose session changed; then it forgets the sessions the watermark has closed.
func (s *SessionAssign) Advance(_ context.Context, t Tick, out *delta.Batch) error {
	if s.err != nil {
		return s.err
	}
	for i, p := range s.dirty {
		s.dirty[i] = nil
		p.dirty = false
		s.recompute(p, out)
		if len(p.rows) == 0 {
			delete(s.parts, p.key)
		}
	}
	s.dirty = s.dirty[:0]
	if s.arrival {
		s.idx.expire(t.Watermark(s.sources...), func(key string) {
			p, ok := s.parts[key]
			if !ok {
				return
			}
			// Closed sessions come first: they end before the open ones start.
			wm := t.Watermark(s.sources...)
			k := 0
			for k < len(p.rows) && p.rows[k].end <= wm {
				k++
			}
			clear(p.rows[:k])
			p.rows = p.rows[k:]
			if len(p.rows) == 0 {
				delete(s.parts, key)
			}
		})
	}
	return nil
}

// recompute walks p's rows in time order, cutting sessions at gaps of at least s.gap,
// and emits the changes of the rows whose bounds or multiplicity changed.
func (s *SessionAssign) recompute(p *sessPart, out *delta.Batch) {
	live := p.rows[:0]
	for _, r := range p.rows {
		if r.n != 0 || r.shownN != 0 {
			live = append(live, r)
		}
	}
	clear(p.rows[len(live):])
	p.rows = live
	for i := 0; i < len(p.rows); {
		// The session starting at row i (rows with n <= 0 take no part).
		for i < len(p.rows) && p.rows[i].n <= 0 {
			s.settle(&p.rows[i], 0, 0, out)
			i++
		}
		if i == len(p.rows) {
			break
		}
		start, last, j := p.rows[i].ts, p.rows[i].ts, i+1
		for ; j < len(p.rows); j++ {
			if p.rows[j].n <= 0 {
				continue
			}
			if p.rows[j].ts-last >= s.gap {
				break
			}
			last = p.rows[j].ts
		}
		end := last + s.gap
		for k := i; k < j; k++ {
			s.settle(&p.rows[k], start, end, out)
		}
		s.idx.add(end, p.key)
		i = j
	}
	kept := p.rows[:0]
	for _, r := range p.rows {
		if r.n > 0 {
			kept = append(kept, r)
		}
	}
	clear(p.rows[len(kept):])
	p.rows = kept
}

// settle emits what changes for row r now that its session is [start, end) (its
// multiplicity r.n; n <= 0 means it is gone).
func (s *SessionAssign) settle(r *sessRow, start, end int64, out *delta.Batch) {
	n := max(r.n, 0)
	if r.shownN == n && (n == 0 || (r.shownStart == start && r.end == end)) {
		return
	}
	if r.shownN > 0 {
		s.emit(r, r.shownStart, r.end, -r.shownN, out)
	}
	if n > 0 {
		s.emit(r, start, end, n, out)
	}
	r.shownN, r.shownStart, r.end = n, start, end
}

func (s *SessionAssign) emit(r *sessRow, start, end, w int64, out *delta.Batch) {
	s.outRow = append(append(s.outRow[:0], r.vals...), delta.Int(start), delta.Int(end))
	out.AppendRow(s.outRow, w)
}

// Late is the number of late rows dropped.
func (s *SessionAssign) Late() int64 { return s.late }

// StateRows is the number of distinct rows held in open sessions.
func (s *SessionAssign) StateRows() int64 {
	var n int64
	for _, p := range s.parts {
		n += int64(len(p.rows))
	}
	return n
}

// String renders "Session(#2; gap=30s; partition=#0)".
func (s *SessionAssign) String() string {
	str := fmt.Sprintf("Session(%s; gap=%s", colName(s.timeCol), micros(s.gap))
	if len(s.partition) > 0 {
		str += "; partition=" + colList(s.partition)
	}
	if s.arrival {
		str += "; closed by watermark(" + joinNames(s.sources) + ")"
	}
	return str + ")"
}

// OutKinds is the input's columns (without the arrival column) plus two timestamps.
func (s *SessionAssign) OutKinds() []delta.Kind { return s.out }

func (s *SessionAssign) inKinds() [][]delta.Kind { return [][]delta.Kind{s.in} }
