package exec

import (
	"encoding/binary"
	"math/big"
	"slices"

	"github.com/weirdb/weir/internal/delta"
)

// This file holds what the operators' AppendState and LoadState share: the encodings of
// arrangements, expiry indexes and exact sums. Values are written with delta's state
// helpers (internal/delta/state.go), without their kinds: the operator knows them.
// Encodings derived from values (row and key encodings, map keys) are not written but
// computed again on load, which keeps the state compact and consistent with itself.

// Every operator type in the package is either a Checkpointer or stateless; the test
// in checkpoint_test.go keeps this list complete.
var (
	_ Checkpointer = (*HashAggregate)(nil)
	_ Checkpointer = (*HashJoin)(nil)
	_ Checkpointer = (*OuterJoin)(nil)
	_ Checkpointer = (*SemiJoin)(nil)
	_ Checkpointer = (*SetOp)(nil)
	_ Checkpointer = (*TopN)(nil)
	_ Checkpointer = (*WindowAgg)(nil)
	_ Checkpointer = (*WindowAssign)(nil)
	_ Checkpointer = (*WindowClose)(nil)
	_ Checkpointer = (*SessionAssign)(nil)
	_ Checkpointer = (*TemporalFilter)(nil)

	_ stateless = (*Filter)(nil)
	_ stateless = (*Project)(nil)
	_ stateless = (*Union)(nil)
)

// Filter, Project and Union keep nothing but scratch space between calls.
func (*Filter) stateless()  {}
func (*Project) stateless() {}
func (*Union) stateless()   {}

// stateVersion is the version byte every operator's state starts with.
const stateVersion = 1

// readVersion checks the version byte at the front of r.
func readVersion(r *delta.StateReader, op string) {
	if v := r.Byte(); r.Err() == nil && v != stateVersion {
		r.Failf("%s state version %d, want %d", op, v, stateVersion)
	}
}

// finish reports r's error, or an error if bytes are left over.
func finish(r *delta.StateReader) error {
	if r.Err() == nil && r.Len() != 0 {
		r.Failf("%d bytes left over", r.Len())
	}
	return r.Err()
}

// appendKeyOf appends the key encoding of columns cols of row (appendRowKey over a row)
// and reports whether one of them is NULL.
func appendKeyOf(dst []byte, row []delta.Value, cols []int) ([]byte, bool) {
	null := false
	for _, c := range cols {
		null = null || row[c].Null
		dst = delta.AppendValueKey(dst, row[c])
	}
	return dst, null
}

// appendRowEnc appends the encoding of a whole row (delta.Batch.AppendKey).
func appendRowEnc(dst []byte, row []delta.Value) []byte {
	for _, v := range row {
		dst = delta.AppendValueKey(dst, v)
	}
	return dst
}

// minRowBytes is the fewest bytes a stored row of n columns takes: a tag per value, a
// count.
func minRowBytes(n int) int { return n + 1 }

// appendInt128 writes a tag 0 and a varint when a fits in an int64, else a tag 1 and the
// two halves.
func appendInt128(dst []byte, a int128) []byte {
	if v, ok := a.int64(); ok {
		return binary.AppendVarint(append(dst, 0), v)
	}
	dst = binary.AppendVarint(append(dst, 1), a.hi)
	return binary.LittleEndian.AppendUint64(dst, a.lo)
}

func readInt128(r *delta.StateReader) int128 {
	switch r.Byte() {
	case 0:
		v := r.Varint()
		if v < 0 {
			return int128{hi: -1, lo: uint64(v)}
		}
		return int128{lo: uint64(v)}
	case 1:
		hi := r.Varint()
		return int128{hi: hi, lo: r.Uint64()}
	}
	r.Failf("bad int128 tag")
	return int128{}
}

// maxBigBytes bounds the magnitude of a saved big integer: an exact float sum needs
// exactPrec bits, a numeric sum's coefficient rarely a few hundred digits.
const maxBigBytes = 1 << 16

// appendBigInt writes x's sign (0 zero or positive, 1 negative) and magnitude bytes.
func appendBigInt(dst []byte, x *big.Int) []byte {
	dst = append(dst, byte(max(-x.Sign(), 0)))
	n := (x.BitLen() + 7) / 8
	dst = binary.AppendUvarint(dst, uint64(n))
	dst = slices.Grow(dst, n)
	x.FillBytes(dst[len(dst) : len(dst)+n])
	return dst[:len(dst)+n]
}

func readBigInt(r *delta.StateReader, z *big.Int) {
	neg := r.Bool()
	b := r.Bytes()
	if len(b) > maxBigBytes {
		r.Failf("big integer of %d bytes", len(b))
		return
	}
	z.SetBytes(b)
	if neg {
		z.Neg(z)
	}
}

// appendBigFloat writes a finite f exactly: its sign, then f = m × 2^e with m an integer,
// as e and m.
func appendBigFloat(dst []byte, f *big.Float) []byte {
	var m big.Float
	e := f.MantExp(&m) // f = m × 2^e, 0.5 <= |m| < 1
	p := int(f.MinPrec())
	m.SetMantExp(&m, p) // an integer of p bits
	m.Abs(&m)
	i, _ := m.Int(nil)
	dst = appendBool(dst, f.Signbit())
	dst = binary.AppendVarint(dst, int64(e-p))
	return appendBigInt(dst, i)
}

// readBigFloat reads what appendBigFloat wrote, at precision exactPrec.
func readBigFloat(r *delta.StateReader) *big.Float {
	neg := r.Bool()
	e := r.Varint()
	var i big.Int
	readBigInt(r, &i)
	if r.Err() != nil {
		return nil
	}
	if i.Sign() < 0 || i.BitLen() > exactPrec || e < -4*exactPrec || e > 4*exactPrec {
		r.Failf("bad float sum")
		return nil
	}
	f := new(big.Float).SetPrec(exactPrec).SetInt(&i)
	f.SetMantExp(f, int(e))
	if f.IsInf() || f.Prec() != exactPrec {
		r.Failf("bad float sum")
		return nil
	}
	if neg {
		f.Neg(f)
	}
	return f
}

// appendBool is delta.AppendStateBool, short.
func appendBool(dst []byte, b bool) []byte { return delta.AppendStateBool(dst, b) }

// appendExpiryIndex writes the closing times in order, each with its keys.
func appendExpiryIndex(dst []byte, x *expiryIndex) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(x.ends)))
	for _, at := range x.ends {
		keys := x.at[at]
		dst = binary.AppendVarint(dst, at)
		dst = binary.AppendUvarint(dst, uint64(len(keys)))
		for k := range keys {
			dst = delta.AppendStateBytes(dst, k)
		}
	}
	return dst
}

func readExpiryIndex(r *delta.StateReader, x *expiryIndex) {
	*x = expiryIndex{}
	n := r.Count(2)
	if n == 0 {
		return
	}
	x.at = make(map[int64]map[string]struct{}, n)
	x.ends = make([]int64, 0, n)
	for range n {
		at := r.Varint()
		k := r.Count(1)
		if r.Err() != nil {
			return
		}
		if at == maxTime || (len(x.ends) > 0 && at <= x.ends[len(x.ends)-1]) {
			r.Failf("expiry times out of order")
			return
		}
		keys := make(map[string]struct{}, k)
		for range k {
			keys[r.String()] = struct{}{}
		}
		x.at[at] = keys
		x.ends = append(x.ends, at)
	}
}

// appendArrangement writes the buckets of a (each its rows, with counts and match
// counts) and then the NULL-key bucket. Bucket keys and row encodings are computed
// again on load.
func appendArrangement(dst []byte, a *arrangement) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(a.keys)))
	for _, bk := range a.keys {
		dst = appendBucket(dst, bk)
	}
	return appendBucket(dst, &a.nulls)
}

func appendBucket(dst []byte, bk *bucket) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(bk.rows)))
	for i := range bk.rows {
		r := &bk.rows[i]
		dst = delta.AppendStateRow(dst, r.vals)
		dst = binary.AppendVarint(dst, r.n)
		dst = binary.AppendVarint(dst, r.matches)
	}
	return dst
}

// readArrangement reads an arrangement of rows of the given kinds keyed by keyCols into
// a, which must be empty. nulls says whether rows with a NULL key may be stored.
func readArrangement(r *delta.StateReader, a *arrangement, kinds []delta.Kind, keyCols []int, nulls bool) {
	*a = arrangement{}
	nb := r.Count(1)
	if r.Err() != nil {
		return
	}
	a.keys = make(map[string]*bucket, nb)
	var key, enc []byte
	for range nb {
		bk := &bucket{}
		readBucket(r, bk, kinds, &enc)
		if r.Err() != nil {
			return
		}
		if len(bk.rows) == 0 {
			r.Failf("empty join bucket")
			return
		}
		var null bool
		key, null = appendKeyOf(key[:0], bk.rows[0].vals, keyCols)
		if _, dup := a.keys[string(key)]; dup || null {
			r.Failf("duplicate or NULL join key")
			return
		}
		a.keys[string(key)] = bk
	}
	readBucket(r, &a.nulls, kinds, &enc)
	if len(a.nulls.rows) > 0 && !nulls {
		r.Failf("rows with NULL keys in a join that stores none")
	}
}

func readBucket(r *delta.StateReader, bk *bucket, kinds []delta.Kind, enc *[]byte) {
	n := r.Count(minRowBytes(len(kinds)) + 1)
	if r.Err() != nil {
		return
	}
	bk.rows = make([]arrRow, 0, n)
	for range n {
		vals := r.Row(kinds, make([]delta.Value, 0, len(kinds)))
		cnt, matches := r.Varint(), r.Varint()
		if r.Err() != nil {
			return
		}
		if cnt == 0 {
			r.Failf("join row with count 0")
			return
		}
		*enc = appendRowEnc((*enc)[:0], vals)
		if bk.find(*enc) >= 0 {
			r.Failf("duplicate join row")
			return
		}
		bk.insert(arrRow{enc: string(*enc), vals: vals, n: cnt, matches: matches})
	}
}
