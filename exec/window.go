package exec

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// This file holds event time: window assignment (TUMBLE, HOP), the EMIT ON WINDOW
// CLOSE buffer and Expiry, which lets stateful operators forget windows the watermark
// has closed.

var (
	_ Operator   = (*WindowAssign)(nil)
	_ Operator   = (*WindowClose)(nil)
	_ stateSizer = (*WindowClose)(nil)
)

// Window describes tumbling or hopping windows over a timestamp column: the windows
// [start, start+Size) for every start = Offset + k·Slide (TUMBLE: Slide == Size). Times
// are µs since the epoch.
type Window struct {
	TimeCol             int
	Size, Slide, Offset int64
}

// MergesByPane reports whether a WindowAssign of w narrowed to the columns read merges
// its rows by pane (WindowAssign.Narrow): hopping windows whose size is a multiple of
// the slide, and a time column nobody reads.
func (w Window) MergesByPane(read []bool) bool {
	return w.Slide != w.Size && w.Size%w.Slide == 0 && w.TimeCol < len(read) && !read[w.TimeCol]
}

// WindowAssign is TUMBLE / HOP in FROM: each input row is emitted once per window that
// contains its event time, with window_start and window_end appended. A row whose event
// time is NULL is in no hopping window and in the NULL tumbling window.
//
// With Arrival set the input's last column is the watermark of the row's source when the
// row arrived (NoWatermark when it was on time): a window whose end is not after it had
// already closed then, so the row is late for that window and is dropped from it (and
// only from it). The column is not passed on.
type WindowAssign struct {
	in      []delta.Kind
	w       Window
	arrival bool
	out     []delta.Kind
	err     *sqlerr.Error

	row    []delta.Value // scratch: the input row
	outRow []delta.Value // scratch: the output row
	late   int64         // (row, window) pairs dropped as late since the operator was built

	// byPane: HOP windows whose size is a multiple of the slide, below nodes that read
	// only the columns read (not the time column): see Narrow.
	byPane bool
	read   []int      // byPane: the input columns read, the others emitted as NULL
	panes  []paneRows // byPane scratch: a Push's rows merged by pane
	index  map[string]int
	keyBuf []byte
}

// paneScratchMax is how many merged rows a Push may leave in WindowAssign's scratch for
// the next: a larger scratch is dropped rather than cleared.
const paneScratchMax = 1 << 14

// paneRows is the input rows of one Push that agree on the columns read, their pane and
// their arrival watermark: row is the first of them, w their weights' sum and rows how
// many there are.
type paneRows struct {
	row           int
	pane, arrival int64
	w, rows       int64
}

// NewWindowAssign returns a WindowAssign over input columns of kinds in (with a trailing
// arrival-watermark column when arrival is set).
func NewWindowAssign(in []delta.Kind, w Window, arrival bool) *WindowAssign {
	a := &WindowAssign{in: slices.Clone(in), w: w, arrival: arrival}
	n := len(in)
	if arrival {
		n--
	}
	switch {
	case w.Size <= 0 || w.Slide <= 0:
		a.err = configError("WindowAssign", "window size and slide must be positive")
	case w.TimeCol < 0 || w.TimeCol >= n:
		a.err = configError("WindowAssign", "time column %d out of range", w.TimeCol)
	}
	a.out = append(slices.Clone(in[:max(n, 0)]), delta.KindInt, delta.KindInt)
	return a
}

// Narrow tells a hopping WindowAssign which of its input columns the nodes above read
// (read[c]; window_start and window_end always are). When the time column is not one of
// them and the size is a multiple of the slide, every event time in one pane (a slide
// of time starting at a window start) is in the same windows, so Push merges a batch's
// rows by their columns read, pane and arrival watermark before it fans them out to
// their windows, and emits the columns not read as NULL. A HOP of five minutes sliding
// by ten seconds then emits a row per window for each distinct (room, pane) of a tick
// rather than for each event: thirty rows for thousands of events, where every event
// made thirty. Otherwise Narrow changes nothing.
func (a *WindowAssign) Narrow(read []bool) {
	n := len(a.out) - 2
	if a.err != nil || len(read) < n || !a.w.MergesByPane(read) {
		return
	}
	a.byPane, a.read, a.index = true, nil, map[string]int{}
	for c := range n {
		if read[c] {
			a.read = append(a.read, c)
		}
	}
}

// Push appends every (row, window) pair of b to out.
func (a *WindowAssign) Push(_ context.Context, in int, b *delta.Batch, out *delta.Batch) error {
	if a.err != nil {
		return a.err
	}
	if in != 0 {
		return portError("WindowAssign", in)
	}
	n := len(a.out) - 2
	tumble := a.w.Slide == a.w.Size
	switch {
	case tumble:
		a.pushTumble(b, out)
		return nil
	case a.byPane:
		a.pushPanes(b, out)
		return nil
	}
	for i, wt := range b.Weights {
		if wt == 0 {
			continue
		}
		a.row = b.Row(i, a.row)
		arrival := NoWatermark
		if a.arrival {
			arrival = a.row[n].I
		}
		row := append(append(a.outRow[:0], a.row[:n]...), delta.Value{}, delta.Value{})
		a.outRow = row
		t := a.row[a.w.TimeCol]
		if t.Null {
			if tumble {
				row[n], row[n+1] = delta.Null(delta.KindInt), delta.Null(delta.KindInt)
				out.AppendRow(row, wt)
			}
			continue
		}
		// The last window containing t starts at the largest Offset + k·Slide <= t.
		last := a.w.Offset + floorDiv(t.I-a.w.Offset, a.w.Slide)*a.w.Slide
		for start := last; start > t.I-a.w.Size; start -= a.w.Slide {
			end := start + a.w.Size
			if end <= arrival {
				a.late++
				continue
			}
			row[n], row[n+1] = delta.Int(start), delta.Int(end)
			out.AppendRow(row, wt)
		}
	}
	return nil
}

// pushTumble is Push for tumbling windows, where a row is in one window (or none, when
// late): the row's columns are copied as they are, without making a row of Values.
func (a *WindowAssign) pushTumble(b *delta.Batch, out *delta.Batch) {
	n := len(a.out) - 2
	tc := &b.Cols[a.w.TimeCol]
	for i, wt := range b.Weights {
		if wt == 0 {
			continue
		}
		var start, end delta.Value
		if tc.Nulls != nil && tc.Nulls[i] {
			start, end = delta.Null(delta.KindInt), delta.Null(delta.KindInt)
		} else {
			t := tc.I64[i]
			s := a.w.Offset + floorDiv(t-a.w.Offset, a.w.Slide)*a.w.Slide
			if a.arrival && b.Cols[n].Get(i).I >= s+a.w.Size {
				a.late++
				continue
			}
			start, end = delta.Int(s), delta.Int(s+a.w.Size)
		}
		for c := 0; c < n; c++ {
			out.Cols[c].AppendAt(&b.Cols[c], i)
		}
		out.Cols[n].Append(start)
		out.Cols[n+1].Append(end)
		out.Weights = append(out.Weights, wt)
	}
}

// pushPanes is Push for HOP windows over merged rows (Narrow).
func (a *WindowAssign) pushPanes(b *delta.Batch, out *delta.Batch) {
	n := len(a.out) - 2
	tc := &b.Cols[a.w.TimeCol]
	if len(a.panes) > paneScratchMax {
		// A map keeps its size: one that a backfill grew would cost every later
		// (small) Push a clear of all of it.
		a.panes, a.index = nil, map[string]int{}
	}
	a.panes = a.panes[:0]
	clear(a.index)
	for i, wt := range b.Weights {
		if wt == 0 || (tc.Nulls != nil && tc.Nulls[i]) {
			continue // a NULL event time is in no hopping window
		}
		t := tc.I64[i]
		p := paneRows{row: i, pane: a.w.Offset + floorDiv(t-a.w.Offset, a.w.Slide)*a.w.Slide, arrival: NoWatermark}
		if a.arrival {
			p.arrival = b.Cols[n].I64[i]
		}
		a.keyBuf, _ = appendRowKey(a.keyBuf[:0], b, i, a.read)
		a.keyBuf = binary.LittleEndian.AppendUint64(a.keyBuf, uint64(p.pane))
		a.keyBuf = binary.LittleEndian.AppendUint64(a.keyBuf, uint64(p.arrival))
		k, ok := a.index[string(a.keyBuf)]
		if !ok {
			k = len(a.panes)
			a.index[string(a.keyBuf)] = k
			a.panes = append(a.panes, p)
		}
		a.panes[k].w += wt
		a.panes[k].rows++
	}
	if len(a.panes) == 0 {
		return
	}
	row := a.outRow[:0]
	for c := range n {
		row = append(row, delta.Null(a.out[c]))
	}
	row = append(row, delta.Value{}, delta.Value{})
	a.outRow = row
	for _, p := range a.panes {
		for _, c := range a.read {
			row[c] = b.Cols[c].Get(p.row)
		}
		// The pane's windows: those starting at it and every slide before it, while
		// they still reach into it.
		for start := p.pane; start > p.pane-a.w.Size; start -= a.w.Slide {
			end := start + a.w.Size
			if end <= p.arrival {
				a.late += p.rows
				continue
			}
			if p.w == 0 {
				continue
			}
			row[n], row[n+1] = delta.Int(start), delta.Int(end)
			out.AppendRow(row, p.w)
		}
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Advance does nothing: window assignment is stateless.
func (a *WindowAssign) Advance(context.Context, Tick, *delta.Batch) error { return nil }

// Late is the number of (row, window) pairs dropped because the window had closed.
func (a *WindowAssign) Late() int64 { return a.late }

// String renders "Tumble(#3; size=60000000µs)" or "Hop(#3; slide=…; size=…)".
func (a *WindowAssign) String() string {
	s := fmt.Sprintf("Tumble(%s; size=%s", colName(a.w.TimeCol), micros(a.w.Size))
	if a.w.Slide != a.w.Size {
		s = fmt.Sprintf("Hop(%s; slide=%s; size=%s", colName(a.w.TimeCol), micros(a.w.Slide), micros(a.w.Size))
	}
	if a.w.Offset != 0 {
		s += "; offset=" + micros(a.w.Offset)
	}
	if a.arrival {
		s += "; late windows dropped"
	}
	if a.byPane {
		s += "; rows merged by pane"
	}
	return s + ")"
}

// micros renders a duration of µs the way EXPLAIN shows window sizes: "1m0s", "5s".
func micros(us int64) string { return (time.Duration(us) * time.Microsecond).String() }

// OutKinds is the input's columns (without the arrival column) plus two timestamps.
func (a *WindowAssign) OutKinds() []delta.Kind { return a.out }

func (a *WindowAssign) inKinds() [][]delta.Kind { return [][]delta.Kind{a.in} }

// Expiry says when a stateful operator may forget the state that a column's value
// belongs to: once the watermark of Sources (their minimum) reaches Col's value plus
// Offset, no change for that value can arrive any more (the planner proves it: the
// column is a window bound of windows over watermarked sources, and everything between
// them and the operator passes closed windows' rows on unchanged).
type Expiry struct {
	Col     int   // input column holding window_end (Offset 0) or window_start (Offset size)
	Offset  int64 // µs added to the column's value to get the window's end
	Sources []string
}

// String renders "window #3 closes at watermark(comments)".
func (e *Expiry) String() string {
	s := colName(e.Col)
	if e.Offset != 0 {
		s += "+" + micros(e.Offset)
	}
	return fmt.Sprintf("%s closed by watermark(%s)", s, joinNames(e.Sources))
}

func joinNames(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}

// closesAt is the watermark at which a value v of the column closes (math.MaxInt64 for
// NULL: a NULL window never closes).
func (e *Expiry) closesAt(v delta.Value) int64 {
	if v.Null {
		return maxTime
	}
	return v.I + e.Offset
}

const maxTime = int64(^uint64(0) >> 1)

// expiryIndex remembers which state entries (by key) belong to which closing time, so
// an operator can forget closed windows without scanning all its state.
type expiryIndex struct {
	at   map[int64]map[string]struct{} // closing time -> keys
	ends []int64                       // the closing times in at, ascending
}

func (x *expiryIndex) add(at int64, key string) {
	if at == maxTime {
		return
	}
	if x.at == nil {
		x.at = map[int64]map[string]struct{}{}
	}
	keys, ok := x.at[at]
	if !ok {
		keys = map[string]struct{}{}
		x.at[at] = keys
		i := sort.Search(len(x.ends), func(i int) bool { return x.ends[i] >= at })
		x.ends = slices.Insert(x.ends, i, at)
	}
	keys[key] = struct{}{}
}

// expire calls forget for every key whose closing time is <= wm and drops them.
func (x *expiryIndex) expire(wm int64, forget func(key string)) {
	for len(x.ends) > 0 && x.ends[0] <= wm {
		at := x.ends[0]
		for k := range x.at[at] {
			forget(k)
		}
		delete(x.at, at)
		x.ends = x.ends[1:]
	}
}

// WindowClose is EMIT ON WINDOW CLOSE: it holds the changes to each window's rows until
// the watermark passes the window's end, then emits them consolidated, once. The planner
// only builds it over input whose closed windows never change again, so what it emits
// is final: never retracted.
type WindowClose struct {
	kinds   []delta.Kind
	exp     Expiry
	pending map[int64]*delta.Batch // closing time -> the changes held for it
	idx     expiryIndex
}

// NewWindowClose returns a WindowClose over input columns of kinds, windows identified by
// exp.
func NewWindowClose(kinds []delta.Kind, exp Expiry) *WindowClose {
	return &WindowClose{kinds: slices.Clone(kinds), exp: exp, pending: map[int64]*delta.Batch{}}
}

// Push holds b's rows until their windows close. Rows of a NULL window never close.
func (c *WindowClose) Push(_ context.Context, in int, b *delta.Batch, _ *delta.Batch) error {
	if in != 0 {
		return portError("WindowClose", in)
	}
	for i, w := range b.Weights {
		if w == 0 {
			continue
		}
		at := c.exp.closesAt(b.Cols[c.exp.Col].Get(i))
		if at == maxTime {
			continue
		}
		p, ok := c.pending[at]
		if !ok {
			p = delta.New(c.kinds)
			c.pending[at] = p
			c.idx.add(at, "")
		}
		p.AppendFrom(b, i, w)
	}
	return nil
}

// Advance emits the windows the tick's watermark has closed, oldest first.
func (c *WindowClose) Advance(_ context.Context, t Tick, out *delta.Batch) error {
	wm := t.Watermark(c.exp.Sources...)
	for len(c.idx.ends) > 0 && c.idx.ends[0] <= wm {
		at := c.idx.ends[0]
		p := c.pending[at]
		p.Consolidate()
		out.AppendBatch(p, 1)
		delete(c.pending, at)
		delete(c.idx.at, at)
		c.idx.ends = c.idx.ends[1:]
	}
	return nil
}

// StateRows is the number of changes held for open windows.
func (c *WindowClose) StateRows() int64 {
	var n int64
	for _, p := range c.pending {
		n += int64(p.Len())
	}
	return n
}

// String renders "EmitOnWindowClose(#3 closed by watermark(comments))".
func (c *WindowClose) String() string { return "EmitOnWindowClose(" + c.exp.String() + ")" }

// OutKinds is the input's kinds.
func (c *WindowClose) OutKinds() []delta.Kind { return c.kinds }

func (c *WindowClose) inKinds() [][]delta.Kind { return [][]delta.Kind{c.kinds} }
