package exec

import (
	"encoding/binary"

	"github.com/weirdb/weir/internal/delta"
)

// TopN's state (version 1): uvarint partitions, uvarint dirty partitions, the partitions
// (the dirty ones first, in the order they became dirty), then the expiry index. A
// partition is its key, its rows in order (values, multiplicity) and the output it last
// emitted, in order: each entry names its row by position+1 (0: a row no longer stored,
// whose values follow), then its number and multiplicity.

// AppendState appends the partitions to dst.
func (t *TopN) AppendState(dst []byte) []byte {
	dst = append(dst, stateVersion)
	dst = binary.AppendUvarint(dst, uint64(len(t.parts)))
	dst = binary.AppendUvarint(dst, uint64(len(t.dirty)))
	for _, p := range t.dirty {
		dst = t.appendPartition(dst, p)
	}
	for _, p := range t.parts {
		if !p.dirty {
			dst = t.appendPartition(dst, p)
		}
	}
	return appendExpiryIndex(dst, &t.expiryIdx)
}

func (t *TopN) appendPartition(dst []byte, p *topPartition) []byte {
	dst = delta.AppendStateBytes(dst, p.key)
	rows := make([]*topRow, 0, p.rows.len())
	for _, r := range p.rows.all {
		rows = append(rows, r)
	}
	dst = binary.AppendUvarint(dst, uint64(len(rows)))
	for _, r := range rows {
		dst = delta.AppendStateRow(dst, r.vals)
		dst = binary.AppendVarint(dst, r.n)
	}
	dst = binary.AppendUvarint(dst, uint64(len(p.shown)))
	j := 0 // both are in partition order: shown[i]'s row is at or after rows[j]
	for i := range p.shown {
		o := &p.shown[i]
		for j < len(rows) && t.compare(rows[j].vals, rows[j].enc, o.vals, o.enc) < 0 {
			j++
		}
		if j < len(rows) && rows[j].enc == o.enc {
			dst = binary.AppendUvarint(dst, uint64(j+1))
		} else {
			dst = delta.AppendStateRow(append(dst, 0), o.vals)
		}
		dst = binary.AppendVarint(dst, o.num)
		dst = binary.AppendVarint(dst, o.n)
	}
	return dst
}

// LoadState replaces the partitions with those saved in p.
func (t *TopN) LoadState(p []byte) error {
	if t.err != nil {
		return t.err
	}
	r := delta.NewStateReader(p)
	readVersion(r, "TopN")
	n := r.Count(3)
	nDirty := r.Count(0)
	if r.Err() == nil && nDirty > n {
		r.Failf("%d dirty partitions of %d", nDirty, n)
	}
	t.parts = make(map[string]*topPartition, n)
	t.dirty = t.dirty[:0]
	for i := range n {
		part := &topPartition{key: r.String()}
		if _, dup := t.parts[part.key]; dup {
			r.Failf("duplicate partition")
		}
		t.readPartition(r, part)
		if r.Err() != nil {
			return r.Err()
		}
		t.parts[part.key] = part
		if i < nDirty {
			part.dirty = true
			t.dirty = append(t.dirty, part)
		}
	}
	readExpiryIndex(r, &t.expiryIdx)
	return finish(r)
}

func (t *TopN) readPartition(r *delta.StateReader, p *topPartition) {
	nRows := r.Count(minRowBytes(len(t.in)))
	if r.Err() != nil {
		return
	}
	p.rows = sortedRows{}
	rows := make([]*topRow, 0, nRows) // by position, for the shown rows
	for range nRows {
		row := topRow{vals: r.Row(t.in, make([]delta.Value, 0, len(t.in)))}
		row.n = r.Varint()
		t.encBuf = appendRowEnc(t.encBuf[:0], row.vals)
		row.enc = string(t.encBuf)
		if last := p.rows.last(); r.Err() == nil &&
			(row.n == 0 || (last != nil && t.compare(last.vals, last.enc, row.vals, row.enc) >= 0)) {
			r.Failf("partition rows out of order")
		}
		if r.Err() != nil {
			return
		}
		p.rows.push(row)
		rows = append(rows, p.rows.last())
	}
	nShown := r.Count(3)
	if r.Err() != nil {
		return
	}
	p.shown = make([]topOut, 0, nShown)
	for range nShown {
		var o topOut
		switch at := r.Uvarint(); {
		case at == 0:
			o.vals = r.Row(t.in, make([]delta.Value, 0, len(t.in)))
			t.encBuf = appendRowEnc(t.encBuf[:0], o.vals)
			o.enc = string(t.encBuf)
		case at <= uint64(len(rows)):
			o.vals, o.enc = rows[at-1].vals, rows[at-1].enc
		default:
			r.Failf("shown row %d of %d", at, len(rows))
		}
		o.num, o.n = r.Varint(), r.Varint()
		if r.Err() != nil {
			return
		}
		p.shown = append(p.shown, o)
	}
}
