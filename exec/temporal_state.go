package exec

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"

	"github.com/weirdb/weir/internal/delta"
)

// TemporalFilter's state (version 1): the input buffered since the last Advance (uvarint
// rows, each values and varint weight; empty between ticks), then the pending heap, the
// valid heap and the valid rows that never expire, each as uvarint rows and per row its
// values and varint weight, from and until. The heaps are written in heap order and so
// loaded back as they were.

// AppendState appends the pending and valid rows to dst.
func (f *TemporalFilter) AppendState(dst []byte) []byte { return f.state(false)(dst) }

// Snapshot copies the lists of the pending and valid rows, and of the rows that never
// expire, and returns their encoder. The rows themselves are not copied: a row the
// filter changes after a snapshot (its weight) is replaced by a copy first (own), so a
// row a snapshot lists keeps the weight it had.
func (f *TemporalFilter) Snapshot() func(dst []byte) []byte { return f.state(true) }

// state returns the encoder of the filter's state: over copies of its lists of rows
// when snapshot is set, else over the lists themselves, to be run at once.
func (f *TemporalFilter) state(snapshot bool) func(dst []byte) []byte {
	in := binary.AppendUvarint(nil, uint64(f.in.Len())) // the input buffered: none between ticks
	for i, w := range f.in.Weights {
		f.row = f.in.Row(i, f.row)
		in = delta.AppendStateRow(in, f.row)
		in = binary.AppendVarint(in, w)
	}
	pending, valid := f.pending.rows, f.valid.rows
	if snapshot {
		f.gen++
		pending, valid = slices.Clone(pending), slices.Clone(valid)
	}
	var forever []*temporalRow // in no heap: found in the map, sorted by the encoder
	if n := len(f.rows) - len(pending) - len(valid); n > 0 {
		forever = make([]*temporalRow, 0, n)
		for _, r := range f.rows {
			if r.at < 0 {
				forever = append(forever, r)
			}
		}
	}
	return func(dst []byte) []byte {
		slices.SortFunc(forever, func(a, b *temporalRow) int { return strings.Compare(a.key, b.key) }) // the same bytes every time
		dst = append(dst, stateVersion)
		dst = append(dst, in...)
		for _, rows := range [][]*temporalRow{pending, valid, forever} {
			dst = binary.AppendUvarint(dst, uint64(len(rows)))
			for _, r := range rows {
				dst = appendTemporalRow(dst, r)
			}
		}
		return dst
	}
}

func appendTemporalRow(dst []byte, r *temporalRow) []byte {
	dst = delta.AppendStateRow(dst, r.row)
	dst = binary.AppendVarint(dst, r.w)
	dst = binary.AppendVarint(dst, r.from)
	return binary.AppendVarint(dst, r.until)
}

// LoadState replaces the filter's rows with those saved in p.
func (f *TemporalFilter) LoadState(p []byte) error {
	if f.err != nil {
		return f.err
	}
	r := delta.NewStateReader(p)
	readVersion(r, "TemporalFilter")
	f.in.Reset()
	n := r.Count(minRowBytes(len(f.kinds)))
	for range n {
		f.row = r.Row(f.kinds, f.row[:0])
		w := r.Varint()
		if r.Err() != nil {
			return r.Err()
		}
		f.in.AppendRow(f.row, w)
	}
	f.rows = map[string]*temporalRow{}
	f.pending.rows, f.valid.rows = nil, nil
	for section, h := range []*rowHeap{&f.pending, &f.valid, nil} {
		n := r.Count(minRowBytes(len(f.kinds)) + 2)
		for range n {
			t := &temporalRow{row: r.Row(f.kinds, make([]delta.Value, 0, len(f.kinds))), at: -1}
			t.w, t.from, t.until = r.Varint(), r.Varint(), r.Varint()
			f.key = appendRowEnc(f.key[:0], t.row)
			if _, dup := f.rows[string(f.key)]; r.Err() == nil && (dup || t.w == 0 || t.from >= t.until) {
				r.Failf("bad temporal row")
			}
			if section == 2 && t.until != math.MaxInt64 {
				r.Failf("a row that expires outside the expiry heap")
			}
			if r.Err() != nil {
				return r.Err()
			}
			t.key = string(f.key)
			t.emitted = section > 0
			if h != nil {
				t.at = len(h.rows)
				h.rows = append(h.rows, t)
			}
			f.rows[t.key] = t
		}
	}
	for _, h := range []*rowHeap{&f.pending, &f.valid} {
		for i := 1; i < len(h.rows); i++ {
			if h.Less(i, (i-1)/2) {
				r.Failf("heap out of order")
				return r.Err()
			}
		}
	}
	return finish(r)
}
