package exec

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// denseGroups holds a HashAggregate's groups when each fits in a few machine words: the
// aggregate groups by one integer column and computes only count(*), count(x), sum and
// avg over integers (not a numeric avg) and, over insert-only input, min and max over
// integers. A group is then a run of int64 words in a paged array — its key, its weight,
// then each aggregate's words — found through an open-addressing table of group numbers.
// A count and a sum take 5 words and a flags byte, about 50 bytes a group with the table,
// where a *group with its key values, encoding and emitted row takes about 400.
//
// The row a group last emitted is not kept: it is what the aggregates compute from the
// group's state at the last Advance, and the first change to a group in a tick copies
// that state aside (before) until the next Advance. The results are exact (integers,
// integral numerics written at scale 0, floats from integers), so rows that compare
// equal are the same bytes, and the copy names the emitted row exactly. A row loaded
// from a checkpoint that the state does not reproduce bytewise, and the row of a group
// that was dirty when the checkpoint was taken, are held in last until the group is
// emitted again.
//
// Groups are numbered densely from 0: forgetting a group moves the last one into its
// place, so the words have no holes.
type denseGroups struct {
	stride int       // words per group: the key, then the state (n, then aggOff's words)
	aggOff []int     // each aggregate's first word in a group's state; -1 for count(*)
	pages  [][]int64 // group g's words: pages[g>>densePageBits][(g&densePageMask)*stride:][:stride]
	flags  [][]uint8 // group g's flags: flags[g>>densePageBits][g&densePageMask]
	n      int32     // groups
	slots  []int32   // group+1 of each non-NULL key, by hash; 0 is empty; len a power of two
	shift  uint8     // 64 - log2(len(slots))
	null   int32     // the group whose key is NULL, or -1

	dirty  []int32 // groups changed since the last Advance, in the order they changed
	before []int64 // per dirty group, in the same order, its state as of the last Advance

	failed map[int32]error         // the data exception holding a group's row back
	last   map[int32][]delta.Value // emitted aggregate values the state does not reproduce
}

const (
	densePageBits = 12
	densePageMask = 1<<densePageBits - 1
)

// Group flags.
const (
	denseDirty uint8 = 1 << iota
	denseEmitted
	denseFailed
	denseNull // the key is NULL
)

// newDenseGroups returns the dense table for h, or nil when h's groups do not fit one.
func newDenseGroups(h *HashAggregate) *denseGroups {
	if h.err != nil || h.global || h.expiry != nil || len(h.groupCols) != 1 || len(h.setCols) > 0 ||
		h.in[h.groupCols[0]] != delta.KindInt {
		return nil
	}
	t := &denseGroups{null: -1, aggOff: make([]int, len(h.aggs))}
	words := 1 // n
	for a := range h.aggs {
		p := &h.aggs[a]
		intArg := p.spec.Arg >= 0 && h.in[p.spec.Arg] == delta.KindInt
		switch f := p.spec.Func; {
		case p.spec.Distinct || p.set >= 0:
			return nil
		case f == AggCountStar:
			t.aggOff[a] = -1
			continue
		case f == AggCount:
			t.aggOff[a] = words
			words++
		case f == AggSum && intArg && p.resKind != delta.KindInterval,
			f == AggAvg && intArg && p.resKind == delta.KindFloat:
			t.aggOff[a] = words
			words += 3 // n, the int128 sum's high and low words
		case (f == AggMin || f == AggMax) && intArg && h.insertOnly:
			t.aggOff[a] = words
			words += 2 // n, the extreme
		default:
			return nil
		}
	}
	t.stride = 1 + words
	t.reset()
	return t
}

// reset forgets every group.
func (t *denseGroups) reset() {
	t.pages, t.flags, t.n, t.null = nil, nil, 0, -1
	t.slots, t.shift = make([]int32, 8), 64-3
	t.dirty, t.before = t.dirty[:0], t.before[:0]
	t.failed, t.last = nil, nil
}

// words returns group g's words: its key, then its state.
func (t *denseGroups) words(g int32) []int64 {
	at := int(g&densePageMask) * t.stride
	return t.pages[g>>densePageBits][at : at+t.stride : at+t.stride]
}

func (t *denseGroups) flag(g int32) *uint8 { return &t.flags[g>>densePageBits][g&densePageMask] }

func (t *denseGroups) home(k int64) int { return int(uint64(k) * 0x9E3779B97F4A7C15 >> t.shift) }

// slot returns the slot holding key k, or the empty slot where it would go.
func (t *denseGroups) slot(k int64) int {
	mask := len(t.slots) - 1
	for i := t.home(k); ; i = (i + 1) & mask {
		if s := t.slots[i]; s == 0 || t.words(s - 1)[0] == k {
			return i
		}
	}
}

// group returns the group of key k (NULL when null), adding an empty one if there is none.
func (t *denseGroups) group(k int64, null bool) int32 {
	if null {
		if t.null < 0 {
			t.null = t.add(0, denseNull)
		}
		return t.null
	}
	i := t.slot(k)
	if s := t.slots[i]; s != 0 {
		return s - 1
	}
	if int(t.n+1)*4 > len(t.slots)*3 {
		t.grow()
		i = t.slot(k)
	}
	g := t.add(k, 0)
	t.slots[i] = g + 1
	return g
}

// add appends a group with key k and zero state.
func (t *denseGroups) add(k int64, flags uint8) int32 {
	g := t.n
	if g == math.MaxInt32-1 {
		panic(sqlerr.New(sqlerr.InsufficientResources, "HashAggregate: more than %d groups", g))
	}
	if int(g>>densePageBits) == len(t.pages) {
		t.pages = append(t.pages, make([]int64, (densePageMask+1)*t.stride))
		t.flags = append(t.flags, make([]uint8, densePageMask+1))
	}
	t.n++
	w := t.words(g)
	clear(w)
	w[0] = k
	*t.flag(g) = flags
	return g
}

// grow doubles the hash table.
func (t *denseGroups) grow() {
	t.slots, t.shift = make([]int32, 2*len(t.slots)), t.shift-1
	for g := range t.n {
		if *t.flag(g)&denseNull == 0 {
			t.slots[t.slot(t.words(g)[0])] = g + 1
		}
	}
}

// unslot empties slot i, shifting back the entries of its probe run that would be
// unreachable over the gap (linear probing's deletion without tombstones).
func (t *denseGroups) unslot(i int) {
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j] != 0; j = (j + 1) & mask {
		h := t.home(t.words(t.slots[j] - 1)[0])
		// The entry at j may fill the gap at i unless its home lies cyclically in (i, j].
		if i <= j && (h <= i || h > j) || i > j && h <= i && h > j {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = 0
}

// remove forgets group g, moving the last group into its number. No group may be dirty.
func (t *denseGroups) remove(g int32) {
	w := t.words(g)
	if *t.flag(g)&denseNull != 0 {
		t.null = -1
	} else {
		t.unslot(t.slot(w[0]))
	}
	delete(t.failed, g)
	delete(t.last, g)
	last := t.n - 1
	t.n--
	if g == last {
		return
	}
	lw := t.words(last)
	copy(w, lw)
	*t.flag(g) = *t.flag(last)
	if *t.flag(g)&denseNull != 0 {
		t.null = g
	} else {
		t.slots[t.slot(w[0])] = g + 1
	}
	if err, ok := t.failed[last]; ok {
		delete(t.failed, last)
		t.failed[g] = err
	}
	if vs, ok := t.last[last]; ok {
		delete(t.last, last)
		t.last[g] = vs
	}
}

// state returns dirty group j's state as of the last Advance.
func (t *denseGroups) beforeState(j int) []int64 {
	n := t.stride - 1
	return t.before[j*n : (j+1)*n : (j+1)*n]
}

// isEmpty reports whether a group's state holds no input.
func isEmptyState(st []int64) bool {
	for _, w := range st {
		if w != 0 {
			return false
		}
	}
	return true
}

// pushDense is Push over dense groups.
func (h *HashAggregate) pushDense(b *delta.Batch) error {
	t := h.dense
	kc := &b.Cols[h.groupCols[0]]
	for i, w := range b.Weights {
		if w == 0 {
			continue
		}
		g := t.group(kc.I64[i], kc.Nulls != nil && kc.Nulls[i])
		ws := t.words(g)
		if f := t.flag(g); *f&denseDirty == 0 {
			*f |= denseDirty
			t.dirty = append(t.dirty, g)
			t.before = append(t.before, ws[1:]...)
		}
		st := ws[1:]
		st[0] += w
		for a, off := range t.aggOff {
			if off < 0 {
				continue
			}
			p := &h.aggs[a]
			c := &b.Cols[p.spec.Arg]
			if c.Nulls != nil && c.Nulls[i] {
				continue
			}
			first := st[off] == 0
			st[off] += w
			switch p.spec.Func {
			case AggSum, AggAvg:
				s, overflow := int128{hi: st[off+1], lo: uint64(st[off+2])}.add(mul128(c.I64[i], w))
				if overflow {
					return sqlerr.New(sqlerr.NumericValueOutOfRange, "%s out of range", p.spec.ResultType)
				}
				st[off+1], st[off+2] = s.hi, int64(s.lo)
			case AggMin, AggMax:
				if w < 0 {
					return sqlerr.New(sqlerr.Internal, "internal error: HashAggregate: %s over insert-only input received a retraction", p.spec)
				}
				if v := c.I64[i]; first || p.spec.Func == AggMin && v < st[off+1] || p.spec.Func == AggMax && v > st[off+1] {
					st[off+1] = v
				}
			}
		}
	}
	return nil
}

// denseKey returns group g's key as a row, in scratch space valid until the next call.
func (h *HashAggregate) denseKey(g int32) []delta.Value {
	t := h.dense
	if *t.flag(g)&denseNull != 0 {
		h.keyRow = append(h.keyRow[:0], delta.Null(delta.KindInt))
	} else {
		h.keyRow = append(h.keyRow[:0], delta.Int(t.words(g)[0]))
	}
	return h.keyRow
}

// denseResults appends to dst the aggregate values of a group whose state is st.
func (h *HashAggregate) denseResults(dst []delta.Value, st []int64) ([]delta.Value, error) {
	for a, off := range h.dense.aggOff {
		p := &h.aggs[a]
		var v delta.Value
		var err error
		switch p.spec.Func {
		case AggCountStar:
			v = delta.Int(st[0])
		case AggCount:
			v = delta.Int(st[off])
		case AggMin, AggMax:
			v = delta.Null(p.resKind)
			if st[off] > 0 {
				v = delta.Int(st[off+1])
			}
		default:
			v, err = h.stateResult(p, st[0], &aggState{n: st[off], isum: int128{hi: st[off+1], lo: uint64(st[off+2])}})
			if err != nil {
				return dst, err
			}
		}
		dst = append(dst, v)
	}
	return dst, nil
}

// denseEmitted returns the aggregate values group g last emitted, when its state as of
// that Advance was st, in scratch space valid until the next call.
func (h *HashAggregate) denseEmitted(g int32, st []int64) []delta.Value {
	if vs, ok := h.dense.last[g]; ok {
		return vs
	}
	var err error
	h.lastRow, err = h.denseResults(h.lastRow[:0], st)
	if err != nil {
		// The row was emitted from this very state, so it computes again.
		panic(sqlerr.Wrap(err, sqlerr.Internal, "internal error: HashAggregate: an emitted row fails to compute again"))
	}
	return h.lastRow
}

// advanceDense is Advance over dense groups; see Advance.
func (h *HashAggregate) advanceDense(out *delta.Batch) error {
	t := h.dense
	var gone []int32
	for j, g := range t.dirty {
		f := t.flag(g)
		*f &^= denseDirty
		st := t.words(g)[1:]
		if *f&denseFailed != 0 {
			h.errs.add(h.String(), t.failed[g], h.denseKey(g), -1)
			delete(t.failed, g)
			*f &^= denseFailed
		}
		if st[0] <= 0 {
			if *f&denseEmitted != 0 {
				h.retractDense(out, g, h.denseEmitted(g, t.beforeState(j)))
			}
			if isEmptyState(st) {
				gone = append(gone, g)
			}
			continue
		}
		h.row = append(h.row[:0], h.denseKey(g)...)
		var err error
		if h.row, err = h.denseResults(h.row, st); err != nil {
			if h.errs == nil || !IsRowError(err) {
				// Keep this group and the rest dirty: a retried Advance fails the same way.
				*f |= denseDirty
				n := t.stride - 1
				t.dirty = t.dirty[:copy(t.dirty, t.dirty[j:])]
				t.before = t.before[:copy(t.before, t.before[j*n:])]
				return err
			}
			h.errs.add(h.String(), err, h.denseKey(g), 1)
			if t.failed == nil {
				t.failed = map[int32]error{}
			}
			t.failed[g] = err
			*f |= denseFailed
			if *f&denseEmitted != 0 {
				h.retractDense(out, g, h.denseEmitted(g, t.beforeState(j)))
			}
			continue
		}
		if *f&denseEmitted != 0 {
			old, results := h.denseEmitted(g, t.beforeState(j)), h.row[1:]
			if _, held := t.last[g]; sameRow(old, results) && (!held || identicalRow(old, results)) {
				delete(t.last, g) // the state reproduces the row now
				continue
			}
			h.retractDense(out, g, old)
		}
		out.AppendRow(h.row, 1)
		*f |= denseEmitted
	}
	t.dirty, t.before = t.dirty[:0], t.before[:0]
	// Forget the emptied groups from the highest number down: each removal moves the
	// last group, which is then not one still to be removed.
	slices.Sort(gone)
	for _, g := range slices.Backward(gone) {
		t.remove(g)
	}
	return nil
}

// retractDense retracts the row group g emitted last, whose aggregate values are old
// (denseEmitted).
func (h *HashAggregate) retractDense(out *delta.Batch, g int32, old []delta.Value) {
	t := h.dense
	h.oldRow = append(append(h.oldRow[:0], h.denseKey(g)...), old...)
	out.AppendRow(h.oldRow, -1)
	delete(t.last, g)
	*t.flag(g) &^= denseEmitted
}

// identicalRow reports whether rows a and b are the same bytes: sameRow, and also no 1.0
// beside 1.00 or -0 beside 0.
func identicalRow(a, b []delta.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Kind != y.Kind || x.Null != y.Null || x.I != y.I || math.Float64bits(x.F) != math.Float64bits(y.F) || x.S != y.S || x.B != y.B {
			return false
		}
	}
	return true
}

// appendDenseState is AppendState over dense groups, in the same format: each group goes
// through one scratch *group.
func (h *HashAggregate) appendDenseState(dst []byte) []byte {
	t := h.dense
	dst = slices.Grow(dst, 16+int(t.n)*(8+8*len(h.outKinds)))
	dst = append(dst, stateVersion)
	dst = binary.AppendUvarint(dst, uint64(t.n))
	dst = binary.AppendUvarint(dst, uint64(len(t.dirty)))
	g := &group{key: make([]delta.Value, 1), aggs: make([]aggState, len(h.aggs))}
	for a := range h.aggs {
		if f := h.aggs[a].spec.Func; f == AggMin || f == AggMax {
			g.aggs[a].x = &aggExt{}
		}
	}
	for j, gi := range t.dirty {
		dst = h.appendGroup(dst, h.denseAsGroup(g, gi, t.beforeState(j)))
	}
	for gi := range t.n {
		if *t.flag(gi)&denseDirty == 0 {
			dst = h.appendGroup(dst, h.denseAsGroup(g, gi, t.words(gi)[1:]))
		}
	}
	return appendExpiryIndex(dst, &h.expiryIdx)
}

// denseAsGroup fills g with dense group gi, whose state as of the last Advance is before.
func (h *HashAggregate) denseAsGroup(g *group, gi int32, before []int64) *group {
	t := h.dense
	f, st := *t.flag(gi), t.words(gi)[1:]
	g.key[0] = h.denseKey(gi)[0]
	g.n, g.dirty, g.emitted, g.failed, g.last = st[0], f&denseDirty != 0, f&denseEmitted != 0, t.failed[gi], nil
	for a, off := range t.aggOff {
		if off < 0 {
			continue
		}
		s := &g.aggs[a]
		s.n = st[off]
		switch h.aggs[a].spec.Func {
		case AggSum, AggAvg:
			s.isum = int128{hi: st[off+1], lo: uint64(st[off+2])}
		case AggMin, AggMax:
			s.x.best = delta.Null(h.aggs[a].resKind)
			if st[off] > 0 {
				s.x.best = delta.Int(st[off+1])
			}
		}
	}
	if g.emitted && (g.dirty || !h.exactResults()) {
		g.last = h.denseEmitted(gi, before)
	}
	return g
}

// denseFromGroups moves the groups LoadState decoded into *groups to the dense table.
func (h *HashAggregate) denseFromGroups() {
	t := h.dense
	t.reset()
	for _, g := range h.dirty {
		h.denseAdd(g)
	}
	for g := range h.groups.all {
		if !g.dirty {
			h.denseAdd(g)
		}
	}
	h.groups = newGroupTable(h.groups.intCols, 0)
	clear(h.dirty)
	h.dirty = h.dirty[:0]
}

func (h *HashAggregate) denseAdd(g *group) {
	t := h.dense
	gi := t.group(g.key[0].I, g.key[0].Null)
	st := t.words(gi)[1:]
	st[0] = g.n
	for a, off := range t.aggOff {
		if off < 0 {
			continue
		}
		s := &g.aggs[a]
		st[off] = s.n
		switch h.aggs[a].spec.Func {
		case AggSum, AggAvg:
			st[off+1], st[off+2] = s.isum.hi, int64(s.isum.lo)
		case AggMin, AggMax:
			if s.x != nil && !s.x.best.Null {
				st[off+1] = s.x.best.I
			}
		}
	}
	f := t.flag(gi)
	if g.failed != nil {
		*f |= denseFailed
		if t.failed == nil {
			t.failed = map[int32]error{}
		}
		t.failed[gi] = g.failed
	}
	if !g.emitted {
		if g.dirty {
			*f |= denseDirty
			t.dirty = append(t.dirty, gi)
			t.before = append(t.before, make([]int64, t.stride-1)...)
		}
		return
	}
	*f |= denseEmitted
	if g.dirty {
		// The state the row came from is gone: the row itself is kept.
		*f |= denseDirty
		t.dirty = append(t.dirty, gi)
		t.before = append(t.before, make([]int64, t.stride-1)...)
	} else if res, err := h.denseResults(nil, st); err == nil && identicalRow(res, g.last) {
		return
	}
	if t.last == nil {
		t.last = map[int32][]delta.Value{}
	}
	t.last[gi] = slices.Clone(g.last)
}
