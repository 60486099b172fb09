package exec

import (
	"container/heap"
	"context"
	"math"
	"slices"
	"strings"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

var (
	_ Operator   = (*TemporalFilter)(nil)
	_ stateSizer = (*TemporalFilter)(nil)
)

// A TemporalBound is one time bound of a TemporalFilter. Expr, evaluated over the row,
// is a time in µs since the epoch (a timestamp or timestamptz): with Upper the row is
// valid while now < Expr (now <= Expr when Inclusive), otherwise once now > Expr
// (now >= Expr when Inclusive). A NULL Expr makes the row never valid.
type TemporalBound struct {
	Expr      expr.Expr
	Upper     bool
	Inclusive bool
}

// String renders the bound as the comparison it keeps true: "(ts + 00:05:00) > now()".
func (b TemporalBound) String() string {
	op := map[[2]bool]string{{true, false}: ">", {true, true}: ">=", {false, false}: "<", {false, true}: "<="}[[2]bool{b.Upper, b.Inclusive}]
	return b.Expr.String() + " " + op + " now()"
}

// TemporalFilter passes each input row while the tick's clock (Tick.Now) lies within the
// row's bounds: WHERE ts > now() - INTERVAL '5 minutes'. The bounds make every row valid
// for one interval of time, [from, until) in µs; since Now never decreases, a row goes
// pending → valid → expired exactly once.
//
// Push only accumulates; Advance(t) first moves time to t.Now (emitting the pending rows
// whose time came as insertions and retracting the emitted rows whose time is up, both
// with their current weight), then applies the tick's input: a change to a row valid at
// t.Now is emitted at once, a change to a row not yet valid waits in state, and a change
// to a row already expired (or never valid, such as one with a NULL bound) is dropped.
// Retractions cancel exactly what their insertions did, because a row's bounds are a
// function of the row. Expired rows are freed, so state holds only pending and valid
// rows. A data exception evaluating a bound sets the row aside as a row error (see
// IsRowError), as Filter does.
type TemporalFilter struct {
	kinds  []delta.Kind
	bounds []TemporalBound
	err    *sqlerr.Error // configuration error, returned by every call

	in      *delta.Batch            // this tick's input, until Advance
	rows    map[string]*temporalRow // pending and valid rows by row encoding
	pending rowHeap                 // pending rows by from
	valid   rowHeap                 // valid rows that expire, by until

	row  []delta.Value // scratch
	key  []byte        // scratch
	errs *rowErrors

	gen uint64 // snapshots taken: a row made before the last one may be in it (own)
}

// temporalRow is one distinct row in state. Invariant: w != 0, and the row is in
// pending (not yet emitted) or valid (emitted with weight w); a valid row that never
// expires (until == math.MaxInt64) is in no heap.
type temporalRow struct {
	key         string
	row         []delta.Value
	w           int64
	from, until int64 // valid for from <= now < until
	emitted     bool
	at          int    // index in its heap; -1 when in none
	gen         uint64 // TemporalFilter.gen when the row was made
}

// NewTemporalFilter returns a TemporalFilter over input columns of the given kinds that
// keeps each row while every bound holds. Every bound's Expr must be of an integer kind
// (timestamp or timestamptz); otherwise every call fails with XX000.
func NewTemporalFilter(in []delta.Kind, bounds []TemporalBound) *TemporalFilter {
	f := &TemporalFilter{kinds: slices.Clone(in), bounds: slices.Clone(bounds), in: delta.New(in),
		rows: map[string]*temporalRow{}}
	f.pending.byUntil, f.valid.byUntil = false, true
	if len(bounds) == 0 {
		f.err = configError("TemporalFilter", "no bounds")
	}
	for _, b := range bounds {
		if k := b.Expr.Type().Kind(); k != delta.KindInt {
			f.err = configError("TemporalFilter", "bound %s is of kind %s, not a time", b.Expr, k)
		}
	}
	return f
}

func (f *TemporalFilter) setErrors(e *rowErrors) { f.errs = e }

// Push buffers b until Advance, when the tick's time is known.
func (f *TemporalFilter) Push(_ context.Context, in int, b *delta.Batch, _ *delta.Batch) error {
	if f.err != nil {
		return f.err
	}
	if in != 0 {
		return portError("TemporalFilter", in)
	}
	for i, w := range b.Weights {
		if w != 0 {
			f.in.AppendFrom(b, i, w)
		}
	}
	return nil
}

// Advance moves time to t.Now, then applies the tick's input (see TemporalFilter).
func (f *TemporalFilter) Advance(_ context.Context, t Tick, out *delta.Batch) error {
	if f.err != nil {
		return f.err
	}
	now := t.Now
	for f.pending.Len() > 0 && f.pending.rows[0].from <= now {
		r := heap.Pop(&f.pending).(*temporalRow)
		if r.until <= now { // its whole interval fell between two ticks
			delete(f.rows, r.key)
			continue
		}
		r.emitted = true
		out.AppendRow(r.row, r.w)
		if r.until != math.MaxInt64 {
			heap.Push(&f.valid, r)
		}
	}
	for f.valid.Len() > 0 && f.valid.rows[0].until <= now {
		r := heap.Pop(&f.valid).(*temporalRow)
		out.AppendRow(r.row, -r.w)
		delete(f.rows, r.key)
	}

	f.in.Consolidate()
	defer f.in.Reset()
	for i, w := range f.in.Weights {
		f.row = f.in.Row(i, f.row)
		from, until, ok, err := f.interval(f.row)
		if err != nil {
			if f.errs != nil && IsRowError(err) {
				f.errs.add(f.String(), err, f.row, w)
				continue
			}
			return err
		}
		if !ok || until <= now {
			continue // never valid, or expired already: whatever was emitted has been retracted
		}
		f.key = f.in.AppendKey(f.key[:0], i)
		r, found := f.rows[string(f.key)]
		if !found {
			r = &temporalRow{key: string(f.key), row: slices.Clone(f.row), from: from, until: until, at: -1, gen: f.gen}
			f.rows[r.key] = r
			switch {
			case from > now:
				heap.Push(&f.pending, r)
			case until != math.MaxInt64:
				r.emitted = true
				heap.Push(&f.valid, r)
			default:
				r.emitted = true
			}
		} else {
			r = f.own(r)
		}
		r.w += w
		if r.emitted {
			out.AppendFrom(f.in, i, w)
		}
		if r.w == 0 {
			f.forget(r)
		}
	}
	return nil
}

// own returns r, or, when a snapshot taken since r was made may list it, a copy of r
// that replaces it in state, to be changed in its place.
func (f *TemporalFilter) own(r *temporalRow) *temporalRow {
	if r.gen == f.gen {
		return r
	}
	c := *r
	c.gen = f.gen
	f.rows[c.key] = &c
	if c.at >= 0 {
		h := &f.pending
		if c.emitted {
			h = &f.valid
		}
		h.rows[c.at] = &c
	}
	return &c
}

// forget removes r from state.
func (f *TemporalFilter) forget(r *temporalRow) {
	if r.at >= 0 {
		if r.emitted {
			heap.Remove(&f.valid, r.at)
		} else {
			heap.Remove(&f.pending, r.at)
		}
	}
	delete(f.rows, r.key)
}

// interval evaluates the bounds over row: the row is valid for from <= now < until. ok
// is false when a bound is NULL or the interval is empty.
func (f *TemporalFilter) interval(row []delta.Value) (from, until int64, ok bool, err error) {
	from, until = math.MinInt64, math.MaxInt64
	for _, b := range f.bounds {
		v, err := b.Expr.Eval(row)
		if err != nil {
			return 0, 0, false, err
		}
		if v.Null {
			return 0, 0, false, nil
		}
		x := v.I
		switch {
		case b.Upper && b.Inclusive: // valid while now <= x
			until = min(until, satInc(x))
		case b.Upper: // valid while now < x
			until = min(until, x)
		case b.Inclusive: // valid once now >= x
			from = max(from, x)
		default: // valid once now > x
			from = max(from, satInc(x))
		}
	}
	return from, until, from < until, nil
}

// satInc is x+1, saturating at math.MaxInt64 (which stands for "never").
func satInc(x int64) int64 {
	if x == math.MaxInt64 {
		return x
	}
	return x + 1
}

// String renders "TemporalFilter((ts + 00:05:00) > now())".
func (f *TemporalFilter) String() string {
	parts := make([]string, len(f.bounds))
	for i, b := range f.bounds {
		parts[i] = b.String()
	}
	return "TemporalFilter(" + strings.Join(parts, " AND ") + ")"
}

// OutKinds is the input's kinds.
func (f *TemporalFilter) OutKinds() []delta.Kind { return f.kinds }

func (f *TemporalFilter) inKinds() [][]delta.Kind { return [][]delta.Kind{f.kinds} }

// StateRows is the number of distinct rows pending or valid; expired rows are freed.
func (f *TemporalFilter) StateRows() int64 { return int64(len(f.rows)) }

// rowHeap is a min-heap of rows by from (pending) or until (valid), tracking each row's
// index so a retracted row can be removed (container/heap).
type rowHeap struct {
	rows    []*temporalRow
	byUntil bool
}

func (h *rowHeap) Len() int { return len(h.rows) }
func (h *rowHeap) Less(i, j int) bool {
	if h.byUntil {
		return h.rows[i].until < h.rows[j].until
	}
	return h.rows[i].from < h.rows[j].from
}
func (h *rowHeap) Swap(i, j int) {
	h.rows[i], h.rows[j] = h.rows[j], h.rows[i]
	h.rows[i].at, h.rows[j].at = i, j
}
func (h *rowHeap) Push(x any) {
	r := x.(*temporalRow)
	r.at = len(h.rows)
	h.rows = append(h.rows, r)
}
func (h *rowHeap) Pop() any {
	n := len(h.rows) - 1
	r := h.rows[n]
	h.rows[n] = nil
	h.rows = h.rows[:n]
	r.at = -1
	return r
}
