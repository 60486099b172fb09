package exec

import (
	"encoding/binary"
	"slices"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// HashAggregate's state (version 1):
//
//	version, uvarint groups, uvarint dirty groups, the groups (the dirty ones first, in
//	the order they became dirty), the expiry index
//
// and per group: its key values, varint n, a flags byte (groupEmitted, groupFailed),
// the aggregate values of the row it last emitted (see exactResults for when they are
// computed again instead), the data exception that holds its
// row back (code and message), one aggState per aggregate (a mask byte of the aggState
// fields present, then those fields; min and max always add best), and per multiset
// its entries (value, varint count).

const (
	groupEmitted = 1 << iota
	groupFailed
	groupLast // the emitted row's aggregate values follow
)

const (
	aggHasN = 1 << iota
	aggHasIsum
	aggHasFsum
	aggHasNsum
	aggHasIvsum
	aggStale
)

// AppendState appends the aggregate's groups to dst (see Checkpointer).
func (h *HashAggregate) AppendState(dst []byte) []byte {
	if h.dense != nil {
		return h.appendDenseState(dst)
	}
	dst = slices.Grow(dst, 16+h.groups.len()*(8+8*len(h.outKinds)))
	dst = append(dst, stateVersion)
	dst = binary.AppendUvarint(dst, uint64(h.groups.len()))
	dst = binary.AppendUvarint(dst, uint64(len(h.dirty)))
	for _, g := range h.dirty {
		dst = h.appendGroup(dst, g)
	}
	for g := range h.groups.all {
		if !g.dirty {
			dst = h.appendGroup(dst, g)
		}
	}
	return appendExpiryIndex(dst, &h.expiryIdx)
}

func (h *HashAggregate) appendGroup(dst []byte, g *group) []byte {
	dst = delta.AppendStateRow(dst, g.key)
	dst = binary.AppendVarint(dst, g.n)
	var flags byte
	if g.emitted {
		flags |= groupEmitted
		if g.dirty || !h.exactResults() {
			flags |= groupLast
		}
	}
	var failed *sqlerr.Error
	if g.failed != nil {
		flags |= groupFailed
		failed = sqlerr.As(g.failed)
	}
	dst = append(dst, flags)
	if flags&groupLast != 0 {
		dst = delta.AppendStateRow(dst, g.last)
	}
	if failed != nil {
		dst = delta.AppendStateBytes(dst, string(failed.Code))
		dst = delta.AppendStateBytes(dst, failed.Msg)
	}
	for a := range g.aggs {
		dst = h.appendAggState(dst, &h.aggs[a], &g.aggs[a])
	}
	for s := range g.sets {
		dst = binary.AppendUvarint(dst, uint64(g.sets[s].len()))
		g.sets[s].each(func(v delta.Value, n int64) {
			dst = delta.AppendStateValue(dst, v)
			dst = binary.AppendVarint(dst, n)
		})
	}
	return dst
}

func (h *HashAggregate) appendAggState(dst []byte, p *aggPlan, st *aggState) []byte {
	var mask byte
	if st.n != 0 {
		mask |= aggHasN
	}
	if st.isum != (int128{}) {
		mask |= aggHasIsum
	}
	x := st.x
	if x == nil {
		x = &aggExt{} // nothing but n and isum: best is only read for min and max, which have x
	}
	fs := &x.fsum
	if fs.f != nil || fs.nan != 0 || fs.pinf != 0 || fs.ninf != 0 {
		mask |= aggHasFsum
	}
	if x.nsum != nil {
		mask |= aggHasNsum
	}
	if x.ivsum != nil {
		mask |= aggHasIvsum
	}
	if x.stale {
		mask |= aggStale
	}
	dst = append(dst, mask)
	if mask&aggHasN != 0 {
		dst = binary.AppendVarint(dst, st.n)
	}
	if mask&aggHasIsum != 0 {
		dst = appendInt128(dst, st.isum)
	}
	if mask&aggHasFsum != 0 {
		dst = binary.AppendVarint(dst, fs.nan)
		dst = binary.AppendVarint(dst, fs.pinf)
		dst = binary.AppendVarint(dst, fs.ninf)
		dst = appendBool(dst, fs.f != nil)
		if fs.f != nil {
			dst = appendBigFloat(dst, fs.f)
		}
	}
	if ns := x.nsum; ns != nil {
		dst = appendBigInt(dst, &ns.coef)
		dst = binary.AppendVarint(dst, int64(ns.scale))
		dst = binary.AppendUvarint(dst, uint64(len(ns.scales)))
		for sc, w := range ns.scales {
			dst = binary.AppendVarint(dst, int64(sc))
			dst = binary.AppendVarint(dst, w)
		}
	}
	if iv := x.ivsum; iv != nil {
		dst = appendInt128(dst, iv.months)
		dst = appendInt128(dst, iv.days)
		dst = appendInt128(dst, iv.micros)
	}
	if f := p.spec.Func; f == AggMin || f == AggMax {
		dst = delta.AppendStateValue(dst, x.best)
	}
	return dst
}

// LoadState replaces the aggregate's groups with those saved in p (see Checkpointer).
func (h *HashAggregate) LoadState(p []byte) error {
	if err := h.loadGroups(p); err != nil {
		if h.dense != nil {
			h.groups, h.dirty = newGroupTable(h.groups.intCols, 0), h.dirty[:0]
		}
		return err
	}
	if h.dense != nil {
		h.denseFromGroups()
	}
	return nil
}

// loadGroups is LoadState into *groups.
func (h *HashAggregate) loadGroups(p []byte) error {
	if h.err != nil {
		return h.err
	}
	r := delta.NewStateReader(p)
	readVersion(r, "HashAggregate")
	nGroups := r.Count(h.minGroupBytes())
	nDirty := r.Count(0)
	if r.Err() == nil && nDirty > nGroups {
		r.Failf("%d dirty groups of %d", nDirty, nGroups)
	}
	if r.Err() == nil && h.global && nGroups != 1 {
		r.Failf("a global aggregate with %d groups", nGroups)
	}
	if r.Err() != nil {
		return r.Err()
	}
	// The groups are decoded into a few large slices (groups, aggregate states, values)
	// and their encodings into one string, rather than a handful of objects each: a
	// million groups load in a fraction of the time, and the collector has fewer objects
	// to trace. A slice stays allocated while any group in it lives.
	nKey, nAggs := len(h.groupCols), len(h.aggs)
	keyKinds, aggKinds := h.outKinds[:nKey], h.outKinds[nKey:]
	gs := make([]group, nGroups)
	states := make([]aggState, nGroups*len(h.aggs))
	vals := make([]delta.Value, 0, nGroups*(nKey+nAggs))
	encs := make([]int, 0, 2*nGroups) // per group: the start and end of its key encoding in buf
	var buf []byte
	var setCount int64
	for i := range gs {
		g := &gs[i]
		g.aggs = states[i*len(h.aggs) : (i+1)*len(h.aggs) : (i+1)*len(h.aggs)]
		at := len(vals)
		vals = r.Row(keyKinds, vals)
		if nKey > 0 {
			g.key = vals[at : at+nKey : at+nKey]
		}
		encs = append(encs, len(buf))
		buf = appendRowEnc(buf, g.key)
		encs = append(encs, len(buf))
		g.n = r.Varint()
		flags := r.Byte()
		if flags&^(groupEmitted|groupFailed|groupLast) != 0 || flags&(groupEmitted|groupLast) == groupLast {
			r.Failf("bad group flags %#x", flags)
		}
		if flags&groupLast != 0 {
			at := len(vals)
			vals = r.Row(aggKinds, vals)
			g.last = vals[at : at+nAggs : at+nAggs]
		}
		if flags&groupFailed != 0 {
			code, msg := r.String(), r.String()
			g.failed = &sqlerr.Error{Code: sqlerr.Code(code), Msg: msg}
		}
		for a := range g.aggs {
			h.readAggState(r, &h.aggs[a], &g.aggs[a])
		}
		if len(h.setCols) > 0 {
			g.sets = make([]valueSet, len(h.setCols))
			for s, col := range h.setCols {
				h.readSet(r, h.in[col], &g.sets[s])
				setCount += int64(g.sets[s].len())
			}
		}
		if r.Err() != nil {
			return r.Err()
		}
		if flags&groupEmitted != 0 {
			if g.last == nil && !h.exactResults() {
				r.Failf("an emitted row missing")
				return r.Err()
			}
			if g.last == nil {
				at := len(vals)
				for a := range h.aggs {
					v, err := h.result(g, a)
					if err != nil {
						r.Failf("an emitted group whose row fails: %v", err)
						return r.Err()
					}
					vals = append(vals, v)
				}
				g.last = vals[at : at+nAggs : at+nAggs]
			}
			g.emitted = true
		}
	}
	all := string(buf)
	h.groups = newGroupTable(h.groups.intCols, nGroups)
	h.setCount = setCount
	h.dirty = h.dirty[:0]
	for i := range gs {
		g := &gs[i]
		g.enc = all[encs[2*i]:encs[2*i+1]]
		if h.groups.get(g.enc) != nil {
			r.Failf("duplicate group")
			return r.Err()
		}
		h.groups.put(g)
		if i < nDirty {
			g.dirty = true
			h.dirty = append(h.dirty, g)
		}
	}
	readExpiryIndex(r, &h.expiryIdx)
	return finish(r)
}

// exactResults reports whether every aggregate's result kind encodes its values exactly
// (integers, text, booleans: no 1.0 beside 1.00, no -0 beside 0). Then the row a group
// emitted last is, unless the group is dirty, exactly the key followed by what the
// aggregates compute from the group's state (Advance does not replace an emitted row by
// an equal one, so with other kinds the bytes may differ), and it is not saved.
func (h *HashAggregate) exactResults() bool {
	for i := range h.aggs {
		switch h.aggs[i].resKind {
		case delta.KindInt, delta.KindString, delta.KindBool:
		default:
			return false
		}
	}
	return true
}

// minGroupBytes is the fewest bytes a saved group takes.
func (h *HashAggregate) minGroupBytes() int {
	return len(h.groupCols) + 2 + len(h.aggs) + len(h.setCols)
}

func (h *HashAggregate) readAggState(r *delta.StateReader, p *aggPlan, st *aggState) {
	mask := r.Byte()
	if mask >= aggStale<<1 {
		r.Failf("bad aggregate mask %#x", mask)
		return
	}
	if mask&aggHasN != 0 {
		st.n = r.Varint()
	}
	if mask&aggHasIsum != 0 {
		st.isum = readInt128(r)
	}
	if mask&aggHasFsum != 0 {
		fs := &st.ext().fsum
		fs.nan, fs.pinf, fs.ninf = r.Varint(), r.Varint(), r.Varint()
		if r.Bool() {
			fs.f = readBigFloat(r)
		}
	}
	if mask&aggHasNsum != 0 {
		ns := &nsum{}
		readBigInt(r, &ns.coef)
		sc := r.Varint()
		if sc < 0 || sc > 1<<20 {
			r.Failf("numeric sum scale %d", sc)
		}
		ns.scale = int32(sc)
		if n := r.Count(2); n > 0 {
			ns.scales = make(map[int32]int64, n)
			for range n {
				sc, w := r.Varint(), r.Varint()
				if sc < 0 || sc > int64(ns.scale) || w == 0 {
					r.Failf("bad numeric sum scale %d", sc)
				}
				ns.scales[int32(sc)] = w
			}
		}
		st.ext().nsum = ns
	}
	if mask&aggHasIvsum != 0 {
		st.ext().ivsum = &ivsum{months: readInt128(r), days: readInt128(r), micros: readInt128(r)}
	}
	if f := p.spec.Func; p.ival && (f == AggSum || f == AggAvg) && st.n > 0 && (st.x == nil || st.x.ivsum == nil) {
		r.Failf("an interval sum without its state")
	}
	if mask&aggStale != 0 {
		st.ext().stale = true
	}
	if f := p.spec.Func; f == AggMin || f == AggMax {
		st.ext().best = r.Value(p.resKind)
	}
}

func (h *HashAggregate) readSet(r *delta.StateReader, kind delta.Kind, set *valueSet) {
	n := r.Count(2)
	for range n {
		v := r.Value(kind)
		cnt := r.Varint()
		if r.Err() != nil {
			return
		}
		before := set.len()
		if v.Null || cnt == 0 {
			r.Failf("bad multiset entry")
			return
		}
		if set.add(v, cnt, &h.valBuf); set.len() != before+1 {
			r.Failf("bad multiset entry") // a duplicate
			return
		}
	}
}
