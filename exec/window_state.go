package exec

import (
	"encoding/binary"

	"github.com/weirdb/weir/internal/delta"
)

// The event-time operators' states (version 1):
//
//	WindowAssign   varint late
//	WindowClose    uvarint windows, then per open window in closing order: varint
//	               closing time, uvarint changes, the changes (values, varint weight)
//	SessionAssign  varint late, uvarint partitions, uvarint dirty partitions, the
//	               partitions (the dirty ones first, in the order they became dirty),
//	               then the expiry index; a partition is its key and its rows in time
//	               order (values, multiplicity, and what was last emitted for it:
//	               multiplicity, window_start, window_end)

// AppendState appends the count of late rows dropped to dst.
func (a *WindowAssign) AppendState(dst []byte) []byte {
	return binary.AppendVarint(append(dst, stateVersion), a.late)
}

// LoadState restores the count of late rows dropped.
func (a *WindowAssign) LoadState(p []byte) error {
	r := delta.NewStateReader(p)
	readVersion(r, "WindowAssign")
	a.late = r.Varint()
	return finish(r)
}

// AppendState appends the changes held for open windows to dst.
func (c *WindowClose) AppendState(dst []byte) []byte {
	dst = append(dst, stateVersion)
	dst = binary.AppendUvarint(dst, uint64(len(c.idx.ends)))
	var row []delta.Value
	for _, at := range c.idx.ends {
		b := c.pending[at]
		dst = binary.AppendVarint(dst, at)
		dst = binary.AppendUvarint(dst, uint64(b.Len()))
		for i, w := range b.Weights {
			row = b.Row(i, row)
			dst = delta.AppendStateRow(dst, row)
			dst = binary.AppendVarint(dst, w)
		}
	}
	return dst
}

// LoadState replaces the changes held with those saved in p.
func (c *WindowClose) LoadState(p []byte) error {
	r := delta.NewStateReader(p)
	readVersion(r, "WindowClose")
	n := r.Count(2)
	c.pending = make(map[int64]*delta.Batch, n)
	c.idx = expiryIndex{}
	var row []delta.Value
	for range n {
		at := r.Varint()
		rows := r.Count(minRowBytes(len(c.kinds)))
		if r.Err() != nil {
			return r.Err()
		}
		if at == maxTime || (len(c.idx.ends) > 0 && at <= c.idx.ends[len(c.idx.ends)-1]) {
			r.Failf("window closing times out of order")
			return r.Err()
		}
		b := delta.New(c.kinds)
		for range rows {
			row = r.Row(c.kinds, row[:0])
			w := r.Varint()
			if r.Err() != nil {
				return r.Err()
			}
			b.AppendRow(row, w)
		}
		c.pending[at] = b
		c.idx.add(at, "")
	}
	return finish(r)
}

// AppendState appends the late count and the partitions' rows to dst.
func (s *SessionAssign) AppendState(dst []byte) []byte {
	dst = append(dst, stateVersion)
	dst = binary.AppendVarint(dst, s.late)
	dst = binary.AppendUvarint(dst, uint64(len(s.parts)))
	dst = binary.AppendUvarint(dst, uint64(len(s.dirty)))
	for _, p := range s.dirty {
		dst = appendSessPart(dst, p)
	}
	for _, p := range s.parts {
		if !p.dirty {
			dst = appendSessPart(dst, p)
		}
	}
	return appendExpiryIndex(dst, &s.idx)
}

func appendSessPart(dst []byte, p *sessPart) []byte {
	dst = delta.AppendStateBytes(dst, p.key)
	dst = binary.AppendUvarint(dst, uint64(len(p.rows)))
	for i := range p.rows {
		r := &p.rows[i]
		dst = delta.AppendStateRow(dst, r.vals)
		dst = binary.AppendVarint(dst, r.n)
		dst = binary.AppendVarint(dst, r.shownN)
		dst = binary.AppendVarint(dst, r.shownStart)
		dst = binary.AppendVarint(dst, r.end)
	}
	return dst
}

// LoadState replaces the late count and the partitions with those saved in p.
func (s *SessionAssign) LoadState(p []byte) error {
	if s.err != nil {
		return s.err
	}
	r := delta.NewStateReader(p)
	readVersion(r, "SessionAssign")
	s.late = r.Varint()
	n := r.Count(2)
	nDirty := r.Count(0)
	if r.Err() == nil && nDirty > n {
		r.Failf("%d dirty partitions of %d", nDirty, n)
	}
	kinds := s.out[:len(s.out)-2]
	s.parts = make(map[string]*sessPart, n)
	s.dirty = s.dirty[:0]
	for i := range n {
		part := &sessPart{key: r.String()}
		nRows := r.Count(minRowBytes(len(kinds)) + 3)
		if _, dup := s.parts[part.key]; dup {
			r.Failf("duplicate partition")
		}
		if r.Err() != nil {
			return r.Err()
		}
		part.rows = make([]sessRow, 0, nRows)
		for range nRows {
			row := sessRow{vals: r.Row(kinds, make([]delta.Value, 0, len(kinds)))}
			row.n, row.shownN, row.shownStart, row.end = r.Varint(), r.Varint(), r.Varint(), r.Varint()
			if r.Err() != nil {
				return r.Err()
			}
			t := row.vals[s.timeCol]
			s.encBuf = appendRowEnc(s.encBuf[:0], row.vals)
			row.ts, row.enc = t.I, string(s.encBuf)
			if last := len(part.rows) - 1; t.Null || (last >= 0 && compareSessRows(part.rows[last], row) >= 0) {
				r.Failf("session rows out of order")
				return r.Err()
			}
			part.rows = append(part.rows, row)
		}
		s.parts[part.key] = part
		if i < nDirty {
			part.dirty = true
			s.dirty = append(s.dirty, part)
		}
	}
	readExpiryIndex(r, &s.idx)
	return finish(r)
}
