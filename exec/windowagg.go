package exec

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

var _ Operator = (*WindowAgg)(nil)

// WindowFrame is the frame of a WindowAgg's aggregates: which rows of the partition,
// relative to the current row, each aggregate runs over. The frame always ends at the
// current row (with Peers, at its last peer).
type WindowFrame struct {
	// Preceding is how many rows before the current one the frame starts: ROWS BETWEEN n
	// PRECEDING AND CURRENT ROW. Negative: UNBOUNDED PRECEDING.
	Preceding int64
	// Peers ends the frame at the current row's last peer rather than at the row itself:
	// RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW, PostgreSQL's default frame with
	// ORDER BY (without ORDER BY every row is a peer: the whole partition). Only with an
	// unbounded start.
	Peers bool
}

// String renders the frame as SQL does, short: "rows 10 preceding".
func (f WindowFrame) String() string {
	switch {
	case f.Peers:
		return "range unbounded preceding"
	case f.Preceding < 0:
		return "rows unbounded preceding"
	}
	return "rows " + strconv.FormatInt(f.Preceding, 10) + " preceding"
}

// WindowAgg is an incremental window aggregate: for every input row, aggregates (count,
// sum, avg, min, max; see AggSpec) over a frame of the rows of its partition in sort
// order, as `avg(x) OVER (PARTITION BY … ORDER BY … ROWS BETWEEN 10 PRECEDING AND
// CURRENT ROW)`. The output row is the input row followed by one column per aggregate,
// of the types HashAggregate gives them (the planner passes PostgreSQL's: avg of
// integers numeric, sum of bigint numeric, …); NULL arguments are skipped as in SQL, so
// sum, avg, min and max of a frame without a non-NULL value are NULL and count is 0.
//
// Partitions and the order within them are TopN's: rows grouped by the partition
// columns (NULLs together), sorted by the sort keys and, among peers (rows equal on
// every sort key), by the whole row's encoding (delta.Batch.AppendKey) compared
// bytewise. A row of multiplicity n takes n consecutive positions, each the end of its
// own frame, so its copies may get different aggregates. With a ROWS frame the answer
// depends on the order of peers, which SQL leaves unspecified: PostgreSQL's answer then
// depends on its sort, Weir's is this deterministic order (the same on every run and for
// every history of the input). ORDER BY keys without ties give the same answer as any
// database; the RANGE frame (Peers) never depends on the order of peers.
//
// Push only updates the partitions' sorted rows (sortedRows, as TopN) and marks them
// dirty. Advance recomputes every dirty partition from scratch, walking its rows once
// with a running aggregate state (HashAggregate's aggState and multisets: the row
// entering the frame is added, the one leaving it retracted), diffs the result against
// what it last emitted for the partition and emits the difference, so a tick's output is
// consolidated and untouched partitions cost nothing. A change to a partition of p rows
// (counting copies) thus costs O(p) aggregate updates at the next Advance, plus, for min
// and max, a rescan of the frame's distinct values when the extreme leaves the frame:
// fine for partitions of thousands of rows, not for one huge partition. The state is the
// live rows and the emitted output (one entry per distinct row and aggregate values).
//
// A data exception while computing a partition's aggregates (a bigint sum out of range)
// sets the whole partition aside, as HashAggregate does a group: its rows are retracted
// from the output and the error, with the partition key as its row, stands in the
// dataflow's error batch until the partition is recomputed without it. Outside a
// dataflow (no error batch) the Advance fails instead, and the partition stays dirty.
type WindowAgg struct {
	in        []delta.Kind
	partition []int
	rowOrder  // the sort keys
	frame     WindowFrame
	agg       *HashAggregate // resolves the aggregates and does their arithmetic; never pushed to
	aggKinds  []delta.Kind   // the aggregates' result kinds
	outKinds  []delta.Kind
	err       *sqlerr.Error // configuration error, returned by every call

	// Invariant: every partition in parts has rows or shown output, or is dirty.
	parts map[string]*winPartition
	dirty []*winPartition // partitions changed since the last Advance, in the order they changed

	keyBuf []byte        // scratch: partition key encoding
	encBuf []byte        // scratch: row encoding
	row    []delta.Value // scratch: the pushed row, an output row
	seq    []*topRow     // scratch: a partition's rows in order
	next   []winOut      // scratch: a partition's new output

	errs *rowErrors // where data exceptions go, when run in a Dataflow
}

func (w *WindowAgg) setErrors(e *rowErrors) { w.errs = e }

// winPartition is the state of one partition.
type winPartition struct {
	partHead
	rows  sortedRows // the live rows, in rowOrder
	shown []winOut   // the output emitted so far, ordered by winAgg.compareOut

	// failed is the data exception the partition last hit (its output is then absent,
	// and the error was reported with failKey, the partition column values), if any.
	failed  error
	failKey []delta.Value
}

func newWinPartition(key string) *winPartition { return &winPartition{partHead: partHead{key: key}} }

// winOut is one distinct output row: an input row and its aggregates, with the number of
// its copies that got these aggregates.
type winOut struct {
	enc    string
	vals   []delta.Value // shared with the topRow it came from
	aggs   []delta.Value
	aggEnc string // the key encoding of aggs, the order among one row's outputs
	n      int64
}

// NewWindowAgg returns a WindowAgg over input columns of kinds in, partitioned by the
// partition columns, ordered by order, computing aggs over frame. A configuration error
// (a column out of range, a DISTINCT aggregate, a bounded frame with Peers) is returned
// (XX000) by the first Push or Advance.
func NewWindowAgg(in []delta.Kind, partition []int, order []SortKey, frame WindowFrame, aggs []AggSpec) *WindowAgg {
	w := &WindowAgg{
		in:        slices.Clone(in),
		partition: slices.Clone(partition),
		rowOrder:  newRowOrder(in, order),
		frame:     frame,
		agg:       NewHashAggregate(in, nil, aggs),
		parts:     make(map[string]*winPartition),
	}
	w.aggKinds = w.agg.OutKinds()
	w.outKinds = append(slices.Clone(in), w.aggKinds...)
	w.err = checkCols("WindowAgg", "partition", partition, len(in))
	for _, k := range order {
		if w.err == nil {
			w.err = checkCols("WindowAgg", "sort", []int{k.Col}, len(in))
		}
	}
	switch {
	case w.err != nil:
	case w.agg.err != nil:
		w.err = w.agg.err
	case frame.Peers && frame.Preceding >= 0:
		w.err = configError("WindowAgg", "a RANGE frame starting %d rows back", frame.Preceding)
	case slices.ContainsFunc(aggs, func(s AggSpec) bool { return s.Distinct }):
		w.err = configError("WindowAgg", "DISTINCT aggregates")
	}
	return w
}

// Push applies the rows of b to their partitions and marks them dirty; it emits nothing.
func (w *WindowAgg) Push(_ context.Context, in int, b *delta.Batch, _ *delta.Batch) error {
	if w.err != nil {
		return w.err
	}
	if in != 0 {
		return portError("WindowAgg", in)
	}
	for i, wt := range b.Weights {
		if wt == 0 {
			continue
		}
		w.keyBuf, _ = appendRowKey(w.keyBuf[:0], b, i, w.partition)
		p, _ := partitionOf(w.parts, &w.dirty, w.keyBuf, newWinPartition)
		w.row = b.Row(i, w.row)
		w.encBuf = b.AppendKey(w.encBuf[:0], i)
		p.rows.add(&w.rowOrder, w.row, w.encBuf, wt)
	}
	return nil
}

// Advance emits, for every partition dirtied since the last Advance, the difference
// between its output now and the output it last emitted.
func (w *WindowAgg) Advance(_ context.Context, _ Tick, out *delta.Batch) error {
	if w.err != nil {
		return w.err
	}
	for i, p := range w.dirty {
		if p.failed != nil {
			// The partition's previous error is resolved or replaced below.
			w.errs.add(w.String(), p.failed, p.failKey, -1)
			p.failed, p.failKey = nil, nil
		}
		err := w.compute(p)
		if err != nil && (w.errs == nil || !IsRowError(err)) {
			// Keep this partition and the rest dirty: a retried Advance fails the same way.
			w.dirty = w.dirty[i:]
			return err
		}
		w.dirty[i] = nil
		p.dirty = false
		if err != nil {
			clear(w.next)
			w.next = w.next[:0]
			p.failed = err
			first := p.rows.first().vals // compute fails only on rows
			p.failKey = make([]delta.Value, len(w.partition))
			for k, c := range w.partition {
				p.failKey[k] = first[c]
			}
			w.errs.add(w.String(), err, p.failKey, 1)
		}
		w.diff(p.shown, w.next, out)
		clear(p.shown)
		p.shown = append(p.shown[:0], w.next...)
		if p.rows.len() == 0 && len(p.shown) == 0 && p.failed == nil {
			delete(w.parts, p.key)
		}
	}
	clear(w.next)
	w.next = w.next[:0]
	w.dirty = w.dirty[:0]
	return nil
}

// compute puts the output of partition p into w.next, in compareOut order.
func (w *WindowAgg) compute(p *winPartition) error {
	clear(w.next)
	w.next = w.next[:0]
	clear(w.seq)
	w.seq = w.seq[:0]
	for _, r := range p.rows.all {
		if r.n > 0 { // a negative multiplicity (invalid input) takes no position
			w.seq = append(w.seq, r)
		}
	}
	g := w.agg.newGroup("", nil)
	if w.frame.Peers {
		for i := 0; i < len(w.seq); {
			j := i
			for ; j < len(w.seq) && w.compareOrder(w.seq[i].vals, w.seq[j].vals) == 0; j++ {
				if err := w.add(g, w.seq[j].vals, w.seq[j].n); err != nil {
					return err
				}
			}
			aggs, aggEnc, err := w.results(g)
			if err != nil {
				return err
			}
			for _, r := range w.seq[i:j] {
				w.next = append(w.next, winOut{enc: r.enc, vals: r.vals, aggs: aggs, aggEnc: aggEnc, n: r.n})
			}
			i = j
		}
		return nil
	}
	tail, tailCopy := 0, int64(0) // the frame's first row is copy tailCopy (0-based) of seq[tail]
	size := int64(0)              // rows in the frame
	for _, r := range w.seq {
		start := len(w.next)
		for range r.n {
			if err := w.add(g, r.vals, 1); err != nil {
				return err
			}
			size++
			if w.frame.Preceding >= 0 && size > w.frame.Preceding+1 {
				if err := w.add(g, w.seq[tail].vals, -1); err != nil {
					return err
				}
				size--
				if tailCopy++; tailCopy == w.seq[tail].n {
					tail, tailCopy = tail+1, 0
				}
			}
			aggs, aggEnc, err := w.results(g)
			if err != nil {
				return err
			}
			if k := len(w.next) - 1; k >= start && w.next[k].aggEnc == aggEnc {
				w.next[k].n++
				continue
			}
			w.next = append(w.next, winOut{enc: r.enc, vals: r.vals, aggs: aggs, aggEnc: aggEnc, n: 1})
		}
		if len(w.next)-start > 1 {
			w.next = append(w.next[:start], mergeOuts(w.next[start:])...)
		}
	}
	return nil
}

// mergeOuts sorts one row's outputs by their aggregates and merges equal ones, in place.
func mergeOuts(outs []winOut) []winOut {
	slices.SortStableFunc(outs, func(a, b winOut) int { return strings.Compare(a.aggEnc, b.aggEnc) })
	k := 0
	for i := 1; i < len(outs); i++ {
		if outs[i].aggEnc == outs[k].aggEnc {
			outs[k].n += outs[i].n
			continue
		}
		k++
		outs[k] = outs[i]
	}
	clear(outs[k+1:])
	return outs[:k+1]
}

// add adds wt copies of row to the running state g (wt < 0 retracts them).
func (w *WindowAgg) add(g *group, row []delta.Value, wt int64) error {
	h := w.agg
	g.n += wt
	for a := range h.aggs {
		p := &h.aggs[a]
		if p.set >= 0 || p.spec.Func == AggCountStar {
			continue
		}
		v := row[p.spec.Arg]
		if v.Null {
			continue
		}
		st := &g.aggs[a]
		st.n += wt
		if p.spec.Func == AggCount {
			continue
		}
		if err := h.addSum(st, p, v, wt); err != nil {
			return err
		}
	}
	for s, col := range h.setCols {
		if v := row[col]; !v.Null {
			if err := h.addToSet(g, s, v, wt); err != nil {
				return err
			}
		}
	}
	return nil
}

// results returns the aggregates of the running state g and their key encoding.
func (w *WindowAgg) results(g *group) ([]delta.Value, string, error) {
	aggs := make([]delta.Value, len(w.agg.aggs))
	for a := range aggs {
		v, err := w.agg.result(g, a)
		if err != nil {
			return nil, "", err
		}
		aggs[a] = v
	}
	w.encBuf = appendRowEnc(w.encBuf[:0], aggs)
	return aggs, string(w.encBuf), nil
}

// compareOut is the order of a partition's output: the input rows' order, then the
// aggregates' encoding.
func (w *WindowAgg) compareOut(a, b *winOut) int {
	if c := w.compare(a.vals, a.enc, b.vals, b.enc); c != 0 {
		return c
	}
	return strings.Compare(a.aggEnc, b.aggEnc)
}

// diff appends next - old to out; both are in compareOut order.
func (w *WindowAgg) diff(old, next []winOut, out *delta.Batch) {
	i, j := 0, 0
	for i < len(old) || j < len(next) {
		var c int
		switch {
		case i == len(old):
			c = 1
		case j == len(next):
			c = -1
		default:
			c = w.compareOut(&old[i], &next[j])
		}
		switch {
		case c < 0:
			w.emit(&old[i], -old[i].n, out)
			i++
		case c > 0:
			w.emit(&next[j], next[j].n, out)
			j++
		default:
			if d := next[j].n - old[i].n; d != 0 {
				w.emit(&next[j], d, out)
			}
			i++
			j++
		}
	}
}

func (w *WindowAgg) emit(o *winOut, wt int64, out *delta.Batch) {
	w.row = append(append(w.row[:0], o.vals...), o.aggs...)
	out.AppendRow(w.row, wt)
}

// String renders "WindowAgg(partition=#0; order=#1; rows 10 preceding; avg(#2))".
func (w *WindowAgg) String() string {
	var parts []string
	if len(w.partition) > 0 {
		parts = append(parts, "partition="+colList(w.partition))
	}
	if len(w.order) > 0 {
		keys := make([]string, len(w.order))
		for i, k := range w.order {
			keys[i] = k.String()
		}
		parts = append(parts, "order="+strings.Join(keys, ", "))
	}
	parts = append(parts, w.frame.String())
	as := make([]string, len(w.agg.aggs))
	for i := range w.agg.aggs {
		as[i] = w.agg.aggs[i].spec.String()
	}
	parts = append(parts, strings.Join(as, ", "))
	return "WindowAgg(" + strings.Join(parts, "; ") + ")"
}

// OutKinds is the input's kinds followed by the aggregates' result kinds.
func (w *WindowAgg) OutKinds() []delta.Kind { return w.outKinds }

func (w *WindowAgg) inKinds() [][]delta.Kind { return [][]delta.Kind{w.in} }
