package exec

import (
	"encoding/binary"

	"github.com/weirdb/weir/internal/delta"
)

// The checkpoint form of a partition's sorted rows and of the rows it emitted, shared by
// TopN and WindowAgg (each adds what it emits per row).

// appendState writes the rows in order (their count, then each row and multiplicity) and
// returns them by position, for appendShown.
func (s *sortedRows) appendState(dst []byte) ([]byte, []*topRow) {
	rows := make([]*topRow, 0, s.len())
	for _, r := range s.all {
		rows = append(rows, r)
	}
	dst = binary.AppendUvarint(dst, uint64(len(rows)))
	for _, r := range rows {
		dst = delta.AppendStateRow(dst, r.vals)
		dst = binary.AppendVarint(dst, r.n)
	}
	return dst, rows
}

// appendShown writes an emitted row (vals, encoded enc): its 1-based position in rows
// when it is still a live row, else 0 and the row itself. The emitted rows are in the
// rows' order, so *j walks rows alongside them.
func appendShown(dst []byte, o *rowOrder, rows []*topRow, j *int, vals []delta.Value, enc string) []byte {
	for *j < len(rows) && o.compare(rows[*j].vals, rows[*j].enc, vals, enc) < 0 {
		*j++
	}
	if *j < len(rows) && rows[*j].enc == enc {
		return binary.AppendUvarint(dst, uint64(*j+1))
	}
	return delta.AppendStateRow(append(dst, 0), vals)
}

// readState replaces s's rows with those appendState wrote, rows of kinds in, checking
// that they come in o's order with non-zero multiplicities; check, when not nil, vets
// each row. It returns the rows by position, for readShown.
func (s *sortedRows) readState(r *delta.StateReader, o *rowOrder, in []delta.Kind, encBuf *[]byte, check func([]delta.Value)) []*topRow {
	n := r.Count(minRowBytes(len(in)))
	*s = sortedRows{}
	if r.Err() != nil {
		return nil
	}
	rows := make([]*topRow, 0, n)
	for range n {
		row := topRow{vals: r.Row(in, make([]delta.Value, 0, len(in)))}
		row.n = r.Varint()
		*encBuf = appendRowEnc((*encBuf)[:0], row.vals)
		row.enc = string(*encBuf)
		if last := s.last(); r.Err() == nil &&
			(row.n == 0 || (last != nil && o.compare(last.vals, last.enc, row.vals, row.enc) >= 0)) {
			r.Failf("partition rows out of order")
		}
		if check != nil {
			check(row.vals)
		}
		if r.Err() != nil {
			return nil
		}
		s.push(o.prefix(row.vals), row)
		rows = append(rows, s.last())
	}
	return rows
}

// readShown reads an emitted row appendShown wrote: a live row of rows, shared, or one
// of kinds in read whole (fresh).
func readShown(r *delta.StateReader, in []delta.Kind, rows []*topRow, encBuf *[]byte) (vals []delta.Value, enc string, fresh bool) {
	switch at := r.Uvarint(); {
	case at == 0:
		vals = r.Row(in, make([]delta.Value, 0, len(in)))
		*encBuf = appendRowEnc((*encBuf)[:0], vals)
		return vals, string(*encBuf), true
	case at <= uint64(len(rows)):
		return rows[at-1].vals, rows[at-1].enc, false
	default:
		r.Failf("shown row %d of %d", at, len(rows))
		return nil, "", false
	}
}
