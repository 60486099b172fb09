package exec

import (
	"encoding/binary"

	"github.com/weirdb/weir/internal/delta"
)

// SetOp's state (version 1): uvarint rows, uvarint dirty rows, then the rows (the dirty
// ones first, in the order they became dirty), each as its values, its multiplicity in
// each input and in the output.

// AppendState appends the tracked rows to dst.
func (s *SetOp) AppendState(dst []byte) []byte {
	dst = append(dst, stateVersion)
	dst = binary.AppendUvarint(dst, uint64(len(s.rows)))
	dst = binary.AppendUvarint(dst, uint64(len(s.dirty)))
	for _, r := range s.dirty {
		dst = appendSetRow(dst, r)
	}
	for _, r := range s.rows {
		if !r.dirty {
			dst = appendSetRow(dst, r)
		}
	}
	return dst
}

func appendSetRow(dst []byte, r *setRow) []byte {
	dst = delta.AppendStateRow(dst, r.vals)
	dst = binary.AppendVarint(dst, r.n[0])
	dst = binary.AppendVarint(dst, r.n[1])
	return binary.AppendVarint(dst, r.out)
}

// LoadState replaces the tracked rows with those saved in p.
func (s *SetOp) LoadState(p []byte) error {
	if s.err != nil {
		return s.err
	}
	r := delta.NewStateReader(p)
	readVersion(r, "SetOp")
	n := r.Count(minRowBytes(len(s.kinds)) + 2)
	nDirty := r.Count(0)
	if r.Err() == nil && nDirty > n {
		r.Failf("%d dirty rows of %d", nDirty, n)
	}
	s.rows = make(map[string]*setRow, n)
	s.dirty = s.dirty[:0]
	for i := range n {
		row := &setRow{vals: r.Row(s.kinds, make([]delta.Value, 0, len(s.kinds)))}
		row.n = [2]int64{r.Varint(), r.Varint()}
		row.out = r.Varint()
		s.encBuf = appendRowEnc(s.encBuf[:0], row.vals)
		if _, dup := s.rows[string(s.encBuf)]; dup {
			r.Failf("duplicate row")
		}
		if r.Err() != nil {
			return r.Err()
		}
		row.enc = string(s.encBuf)
		s.rows[row.enc] = row
		if i < nDirty {
			row.dirty = true
			s.dirty = append(s.dirty, row)
		}
	}
	return finish(r)
}
