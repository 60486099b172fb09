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
	dst = appendPartitions(dst, t.parts, t.dirty, t.appendPartition)
	return appendExpiryIndex(dst, &t.expiryIdx)
}

func (t *TopN) appendPartition(dst []byte, p *topPartition) []byte {
	dst = delta.AppendStateBytes(dst, p.key)
	dst, rows := p.rows.appendState(dst)
	dst = binary.AppendUvarint(dst, uint64(len(p.shown)))
	j := 0
	for i := range p.shown {
		o := &p.shown[i]
		dst = appendShown(dst, &t.rowOrder, rows, &j, o.vals, o.enc)
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
	parts, dirty, err := loadPartitions(r, t.dirty, newTopPartition,
		func(p *topPartition) { t.readPartition(r, p) })
	if err != nil {
		return err
	}
	t.parts, t.dirty = parts, dirty
	readExpiryIndex(r, &t.expiryIdx)
	return finish(r)
}

func (t *TopN) readPartition(r *delta.StateReader, p *topPartition) {
	rows := p.rows.readState(r, &t.rowOrder, t.in, &t.encBuf, nil)
	nShown := r.Count(3)
	if r.Err() != nil {
		return
	}
	p.shown = make([]topOut, 0, nShown)
	for range nShown {
		var o topOut
		o.vals, o.enc, _ = readShown(r, t.in, rows, &t.encBuf)
		o.num, o.n = r.Varint(), r.Varint()
		if r.Err() != nil {
			return
		}
		p.shown = append(p.shown, o)
	}
}
