package exec

import (
	"encoding/binary"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// WindowAgg's state (version 1): uvarint partitions, uvarint dirty partitions, then the
// partitions (the dirty ones first, in the order they became dirty). A partition is its
// key, its rows in order (values, multiplicity) and the output it last emitted, in
// order: each entry names its row by position+1 (0: a row no longer stored, whose values
// follow), then its aggregate values and multiplicity; then whether the partition is set
// aside by a data exception and if so the error's code, message and the partition key
// values it was reported with. The running aggregate states are
// not saved: Advance computes them again from the rows.

// AppendState appends the partitions to dst.
func (w *WindowAgg) AppendState(dst []byte) []byte {
	dst = append(dst, stateVersion)
	dst = appendPartitions(dst, w.parts, w.dirty, w.appendPartition)
	return dst
}

func (w *WindowAgg) appendPartition(dst []byte, p *winPartition) []byte {
	dst = delta.AppendStateBytes(dst, p.key)
	dst, rows := p.rows.appendState(dst)
	dst = binary.AppendUvarint(dst, uint64(len(p.shown)))
	j := 0
	for i := range p.shown {
		o := &p.shown[i]
		dst = appendShown(dst, &w.rowOrder, rows, &j, o.vals, o.enc)
		dst = delta.AppendStateRow(dst, o.aggs)
		dst = binary.AppendVarint(dst, o.n)
	}
	dst = appendBool(dst, p.failed != nil)
	if p.failed != nil {
		e := sqlerr.As(p.failed)
		dst = delta.AppendStateBytes(dst, string(e.Code))
		dst = delta.AppendStateBytes(dst, e.Msg)
		dst = delta.AppendStateRow(dst, p.failKey)
	}
	return dst
}

// LoadState replaces the partitions with those saved in p.
func (w *WindowAgg) LoadState(p []byte) error {
	if w.err != nil {
		return w.err
	}
	r := delta.NewStateReader(p)
	readVersion(r, "WindowAgg")
	parts, dirty, err := loadPartitions(r, w.dirty, newWinPartition,
		func(p *winPartition) { w.readPartition(r, p) })
	if err != nil {
		return err
	}
	w.parts, w.dirty = parts, dirty
	return finish(r)
}

// readPartition reads one partition's rows and output, checking that both are in order
// and belong to the partition.
func (w *WindowAgg) readPartition(r *delta.StateReader, p *winPartition) {
	inPartition := func(vals []delta.Value) {
		w.keyBuf, _ = appendKeyOf(w.keyBuf[:0], vals, w.partition)
		if r.Err() == nil && string(w.keyBuf) != p.key {
			r.Failf("row outside its partition")
		}
	}
	rows := p.rows.readState(r, &w.rowOrder, w.in, &w.encBuf, inPartition)
	nShown := r.Count(1 + minRowBytes(len(w.aggKinds))) // a position, the aggregates, a multiplicity
	if r.Err() != nil {
		return
	}
	p.shown = make([]winOut, 0, nShown)
	for range nShown {
		var o winOut
		var fresh bool
		if o.vals, o.enc, fresh = readShown(r, w.in, rows, &w.encBuf); fresh {
			inPartition(o.vals)
		}
		o.aggs = r.Row(w.aggKinds, make([]delta.Value, 0, len(w.aggKinds)))
		o.n = r.Varint()
		if r.Err() != nil {
			return
		}
		w.encBuf = appendRowEnc(w.encBuf[:0], o.aggs)
		o.aggEnc = string(w.encBuf)
		if k := len(p.shown); o.n <= 0 || (k > 0 && w.compareOut(&p.shown[k-1], &o) >= 0) {
			r.Failf("partition output out of order")
			return
		}
		p.shown = append(p.shown, o)
	}
	if r.Bool() {
		code, msg := r.String(), r.String()
		p.failed = &sqlerr.Error{Code: sqlerr.Code(code), Msg: msg}
		kinds := make([]delta.Kind, len(w.partition))
		for k, c := range w.partition {
			kinds[k] = w.in[c]
		}
		p.failKey = r.Row(kinds, make([]delta.Value, 0, len(kinds)))
		w.keyBuf = appendRowEnc(w.keyBuf[:0], p.failKey)
		if r.Err() == nil && (string(w.keyBuf) != p.key || len(p.shown) > 0) {
			r.Failf("bad failed partition")
		}
	}
}
