// Package delta defines the change batch, the one currency of the dataflow.
//
// A Batch is a columnar set of changes: row i is (Cols[0][i], Cols[1][i], …) with
// multiplicity Weights[i]; +n inserts n copies, -n retracts n copies, and an update is a
// retraction plus an insertion. Rows are compared as whole tuples, never by a key column
// alone. Operators, the view store and the ingest path all speak Batch, which is why it
// lives in a leaf that imports only the standard library.
package delta

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math"
	"slices"
	"strconv"
)

// Kind is the physical representation of a column. Logical SQL types (bigint, timestamptz,
// date…) map onto these in package catalog: integers, timestamps (µs since the Unix epoch)
// and dates (days since the epoch) are all KindInt.
type Kind uint8

// The physical kinds.
const (
	KindInt Kind = iota
	KindFloat
	KindString
	KindBool
	// KindNumeric is an exact decimal (SQL numeric) held in Vector.Str as its canonical
	// PostgreSQL text: an optional '-', digits, and '.' plus exactly the display-scale
	// digits ("12.50", "-0.001", "3"), never an exponent or a negative zero. Text keeps
	// the display scale PostgreSQL prints, costs no new slice in Vector (the other
	// kinds' hot paths are untouched) and keeps this package free of non-standard
	// imports; arithmetic lives in internal/decimal. Compare and AppendValueKey order and
	// group by value, so 1.0 and 1.00 are equal.
	KindNumeric
	// KindInterval is a PostgreSQL interval held in Vector.Str as 16 bytes: months and
	// days (int32) and microseconds (int64), little-endian (see Interval and
	// IntervalParts). Compare and AppendValueKey order and group intervals as
	// PostgreSQL does, by their span with 30-day months and 24-hour days, so '1 day'
	// and '24 hours' are equal; the bytes keep the fields apart for arithmetic and
	// printing.
	KindInterval
	// KindJsonb is a jsonb value held in Vector.Str as its canonical text (PostgreSQL's
	// jsonb output: keys sorted, no duplicates, ": " and ", " separators). Equality
	// follows jsonb's: numbers compare by value, so {"a": 1.0} equals {"a": 1}.
	// Compare's order among unequal values is only consistent, not jsonb's; the planner
	// rejects ordering jsonb.
	KindJsonb
)

func (k Kind) String() string {
	switch k {
	case KindInt:
		return "int"
	case KindFloat:
		return "float"
	case KindString:
		return "string"
	case KindBool:
		return "bool"
	case KindNumeric:
		return "numeric"
	case KindInterval:
		return "interval"
	case KindJsonb:
		return "jsonb"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Value is one scalar. Null values carry their Kind but no payload. The one-byte fields
// come first, together: 40 bytes a value, where B last made it 48 (a view's row of three
// values is then a 128-byte allocation instead of 144).
type Value struct {
	Kind Kind
	Null bool
	B    bool
	I    int64
	F    float64
	S    string
}

// Int, Float, Str, Bool and Null construct Values.
func Int(v int64) Value     { return Value{Kind: KindInt, I: v} }
func Float(v float64) Value { return Value{Kind: KindFloat, F: v} }
func Str(v string) Value    { return Value{Kind: KindString, S: v} }
func Bool(v bool) Value     { return Value{Kind: KindBool, B: v} }
func Null(k Kind) Value     { return Value{Kind: k, Null: true} }

// Numeric constructs a numeric Value from its canonical text (see KindNumeric).
func Numeric(text string) Value { return Value{Kind: KindNumeric, S: text} }

// NumericInt reads a numeric's text that is an integer of at most 18 digits, with an
// optional leading minus (a sum of bigints, say); ok is false for anything else. It is
// one pass over the digits, without strconv's generality: reads of views lend such
// numerics to DuckDB as integers, one parse per value per read.
func NumericInt(s string) (n int64, ok bool) {
	digits := s
	if len(s) > 0 && s[0] == '-' {
		digits = s[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		d := digits[i] - '0'
		if d > 9 {
			return 0, false
		}
		n = n*10 + int64(d)
	}
	if len(digits) < len(s) {
		n = -n
	}
	return n, true
}

// Interval constructs an interval Value (see KindInterval).
func Interval(months, days int32, micros int64) Value {
	var b [16]byte
	binary.LittleEndian.PutUint32(b[0:], uint32(months))
	binary.LittleEndian.PutUint32(b[4:], uint32(days))
	binary.LittleEndian.PutUint64(b[8:], uint64(micros))
	return Value{Kind: KindInterval, S: string(b[:])}
}

// IntervalParts returns the months, days and microseconds of a non-NULL interval Value.
func (v Value) IntervalParts() (months, days int32, micros int64) {
	if len(v.S) != 16 {
		return 0, 0, 0
	}
	return int32(binary.LittleEndian.Uint32([]byte(v.S[0:4]))), int32(binary.LittleEndian.Uint32([]byte(v.S[4:8]))),
		int64(binary.LittleEndian.Uint64([]byte(v.S[8:16])))
}

// intervalKey is the span PostgreSQL orders intervals by, as whole days (30 per month)
// and the microseconds of the last day.
func intervalKey(v Value) (int64, int64) {
	m, d, us := v.IntervalParts()
	const day = 86_400_000_000
	days := int64(d) + int64(m)*30
	q := us / day
	if us%day != 0 && us < 0 {
		q--
	}
	return days + q, us - q*day
}

// Jsonb constructs a jsonb Value from its canonical text (see KindJsonb).
func Jsonb(text string) Value { return Value{Kind: KindJsonb, S: text} }

// Compare orders two values of the same kind: NULL sorts first, floats by IEEE order with
// NaN greatest (as PostgreSQL sorts them). It returns -1, 0 or +1.
func Compare(a, b Value) int {
	switch {
	case a.Null && b.Null:
		return 0
	case a.Null:
		return -1
	case b.Null:
		return 1
	}
	switch a.Kind {
	case KindInt:
		return cmpOrdered(a.I, b.I)
	case KindFloat:
		an, bn := math.IsNaN(a.F), math.IsNaN(b.F)
		switch {
		case an && bn:
			return 0
		case an:
			return 1
		case bn:
			return -1
		}
		return cmpOrdered(a.F, b.F)
	case KindString:
		return cmpOrdered(a.S, b.S)
	case KindNumeric:
		return compareDecimal(a.S, b.S)
	case KindInterval:
		ad, au := intervalKey(a)
		bd, bu := intervalKey(b)
		if c := cmpOrdered(ad, bd); c != 0 {
			return c
		}
		return cmpOrdered(au, bu)
	case KindJsonb:
		return cmpOrdered(NormalizeJSON(a.S), NormalizeJSON(b.S))
	case KindBool:
		switch {
		case a.B == b.B:
			return 0
		case !a.B:
			return -1
		}
		return 1
	}
	return 0
}

func cmpOrdered[T int64 | float64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Vector is one column. Kind selects the one slice in use; Nulls is nil when no value is NULL.
type Vector struct {
	Kind  Kind
	Nulls []bool
	I64   []int64
	F64   []float64
	Str   []string
	Bool  []bool
}

// Len is the number of values in v.
func (v *Vector) Len() int {
	switch v.Kind {
	case KindInt:
		return len(v.I64)
	case KindFloat:
		return len(v.F64)
	case KindString, KindNumeric, KindInterval, KindJsonb:
		return len(v.Str)
	default:
		return len(v.Bool)
	}
}

// Get returns value i.
func (v *Vector) Get(i int) Value {
	if v.Nulls != nil && v.Nulls[i] {
		return Value{Kind: v.Kind, Null: true}
	}
	switch v.Kind {
	case KindInt:
		return Value{Kind: KindInt, I: v.I64[i]}
	case KindFloat:
		return Value{Kind: KindFloat, F: v.F64[i]}
	case KindString:
		return Value{Kind: KindString, S: v.Str[i]}
	case KindNumeric, KindInterval, KindJsonb:
		return Value{Kind: v.Kind, S: v.Str[i]}
	default:
		return Value{Kind: KindBool, B: v.Bool[i]}
	}
}

// Append adds x, which must be of v's kind (a NULL of any kind is accepted).
func (v *Vector) Append(x Value) {
	if x.Null {
		if v.Nulls == nil {
			n := v.Len()
			v.Nulls = make([]bool, n, n+1)
		}
		v.Nulls = append(v.Nulls, true)
	} else if v.Nulls != nil {
		v.Nulls = append(v.Nulls, false)
	}
	switch v.Kind {
	case KindInt:
		v.I64 = append(v.I64, x.I)
	case KindFloat:
		v.F64 = append(v.F64, x.F)
	case KindString, KindNumeric, KindInterval, KindJsonb:
		v.Str = append(v.Str, x.S)
	default:
		v.Bool = append(v.Bool, x.B)
	}
}

// SetFrom replaces value i with value j of src, which has v's kind.
func (v *Vector) SetFrom(i int, src *Vector, j int) {
	if src.Nulls != nil && src.Nulls[j] {
		if v.Nulls == nil {
			v.Nulls = make([]bool, v.Len())
		}
		v.Nulls[i] = true
		return
	}
	if v.Nulls != nil {
		v.Nulls[i] = false
	}
	switch v.Kind {
	case KindInt:
		v.I64[i] = src.I64[j]
	case KindFloat:
		v.F64[i] = src.F64[j]
	case KindString, KindNumeric, KindInterval, KindJsonb:
		v.Str[i] = src.Str[j]
	default:
		v.Bool[i] = src.Bool[j]
	}
}

// Clone returns a copy of v that shares no memory with it.
func (v *Vector) Clone() Vector {
	return Vector{Kind: v.Kind, Nulls: slices.Clone(v.Nulls), I64: slices.Clone(v.I64), F64: slices.Clone(v.F64), Str: slices.Clone(v.Str), Bool: slices.Clone(v.Bool)}
}

// AppendAt adds value i of src, which has v's kind: v.Append(src.Get(i)) without the
// Value in between.
func (v *Vector) AppendAt(src *Vector, i int) {
	if src.Nulls != nil && src.Nulls[i] {
		v.Append(Value{Kind: v.Kind, Null: true})
		return
	}
	if v.Nulls != nil {
		v.Nulls = append(v.Nulls, false)
	}
	switch v.Kind {
	case KindInt:
		v.I64 = append(v.I64, src.I64[i])
	case KindFloat:
		v.F64 = append(v.F64, src.F64[i])
	case KindString, KindNumeric, KindInterval, KindJsonb:
		v.Str = append(v.Str, src.Str[i])
	default:
		v.Bool = append(v.Bool, src.Bool[i])
	}
}

// AppendVector adds every value of src, which has v's kind: AppendAt for each in turn.
func (v *Vector) AppendVector(src *Vector) {
	if src.Nulls != nil {
		for i, n := 0, src.Len(); i < n; i++ {
			v.AppendAt(src, i)
		}
		return
	}
	if v.Nulls != nil {
		v.Nulls = append(v.Nulls, make([]bool, src.Len())...)
	}
	switch v.Kind {
	case KindInt:
		v.I64 = append(v.I64, src.I64...)
	case KindFloat:
		v.F64 = append(v.F64, src.F64...)
	case KindString, KindNumeric, KindInterval, KindJsonb:
		v.Str = append(v.Str, src.Str...)
	default:
		v.Bool = append(v.Bool, src.Bool...)
	}
}

// Batch is a columnar set of changes (see the package doc).
type Batch struct {
	Cols    []Vector
	Weights []int64
}

// New returns an empty batch with one column per kind.
func New(kinds []Kind) *Batch {
	b := &Batch{Cols: make([]Vector, len(kinds))}
	for i, k := range kinds {
		b.Cols[i].Kind = k
	}
	return b
}

// Kinds returns the column kinds of b.
func (b *Batch) Kinds() []Kind {
	ks := make([]Kind, len(b.Cols))
	for i := range b.Cols {
		ks[i] = b.Cols[i].Kind
	}
	return ks
}

// Len is the number of rows in b.
func (b *Batch) Len() int { return len(b.Weights) }

// growFull doubles b's room when it is full: a batch filled a row at a time then
// allocates about twice its final size in all, where append's growth of large slices
// (by a quarter) allocates about five times.
func (b *Batch) growFull() {
	if n := len(b.Weights); n == cap(b.Weights) && n >= 256 {
		b.Grow(n)
	}
}

// Grow makes room for n more rows in b without further allocation.
func (b *Batch) Grow(n int) {
	for c := range b.Cols {
		v := &b.Cols[c]
		if v.Nulls != nil {
			v.Nulls = slices.Grow(v.Nulls, n)
		}
		switch v.Kind {
		case KindInt:
			v.I64 = slices.Grow(v.I64, n)
		case KindFloat:
			v.F64 = slices.Grow(v.F64, n)
		case KindString, KindNumeric, KindInterval, KindJsonb:
			v.Str = slices.Grow(v.Str, n)
		default:
			v.Bool = slices.Grow(v.Bool, n)
		}
	}
	b.Weights = slices.Grow(b.Weights, n)
}

// Shared returns a vector of v's values that shares v's memory, with no room to grow:
// appending to either copies first, so neither sees the other's appends. Neither may be
// modified in place.
func (v *Vector) Shared() Vector { return v.window(0, v.Len()) }

// window returns values from to to-1 of v as Shared does.
func (v *Vector) window(from, to int) Vector {
	out := Vector{Kind: v.Kind}
	if v.Nulls != nil {
		out.Nulls = v.Nulls[from:to:to]
	}
	switch v.Kind {
	case KindInt:
		out.I64 = v.I64[from:to:to]
	case KindFloat:
		out.F64 = v.F64[from:to:to]
	case KindString, KindNumeric, KindInterval, KindJsonb:
		out.Str = v.Str[from:to:to]
	default:
		out.Bool = v.Bool[from:to:to]
	}
	return out
}

// Window returns a batch of rows from to to-1 of b that shares b's memory, with no
// room to grow (see Vector.Shared): rows appended to b later are not in it, and
// appending to it copies first. Neither may be modified in place.
func (b *Batch) Window(from, to int) *Batch {
	out := &Batch{Cols: make([]Vector, len(b.Cols)), Weights: b.Weights[from:to:to]}
	for c := range b.Cols {
		out.Cols[c] = b.Cols[c].window(from, to)
	}
	return out
}

// Truncate drops the rows of b from the n-th on.
func (b *Batch) Truncate(n int) {
	for i := range b.Cols {
		c := &b.Cols[i]
		if c.Nulls != nil {
			c.Nulls = c.Nulls[:min(n, len(c.Nulls))]
		}
		switch c.Kind {
		case KindInt:
			c.I64 = c.I64[:min(n, len(c.I64))]
		case KindFloat:
			c.F64 = c.F64[:min(n, len(c.F64))]
		case KindString, KindNumeric, KindInterval, KindJsonb:
			c.Str = c.Str[:min(n, len(c.Str))]
		default:
			c.Bool = c.Bool[:min(n, len(c.Bool))]
		}
	}
	b.Weights = b.Weights[:min(n, len(b.Weights))]
}

// Reset empties b, keeping its columns' kinds and capacity.
func (b *Batch) Reset() {
	for i := range b.Cols {
		c := &b.Cols[i]
		c.Nulls = c.Nulls[:0:0]
		c.I64, c.F64, c.Str, c.Bool = c.I64[:0], c.F64[:0], c.Str[:0], c.Bool[:0]
	}
	b.Weights = b.Weights[:0]
}

// Row copies row i into dst (grown as needed) and returns it.
func (b *Batch) Row(i int, dst []Value) []Value {
	if cap(dst) < len(b.Cols) {
		dst = make([]Value, 0, len(b.Cols))
	}
	dst = dst[:0]
	for c := range b.Cols {
		dst = append(dst, b.Cols[c].Get(i))
	}
	return dst
}

// AppendRow adds row with weight w. len(row) must equal len(b.Cols).
func (b *Batch) AppendRow(row []Value, w int64) {
	b.growFull()
	for c := range b.Cols {
		b.Cols[c].Append(row[c])
	}
	b.Weights = append(b.Weights, w)
}

// AppendFrom adds row i of src (same kinds) with weight w.
func (b *Batch) AppendFrom(src *Batch, i int, w int64) {
	b.growFull()
	for c := range b.Cols {
		b.Cols[c].AppendAt(&src.Cols[c], i)
	}
	b.Weights = append(b.Weights, w)
}

// AppendBatch adds every row of src (same kinds), multiplying weights by sign (+1 or -1).
func (b *Batch) AppendBatch(src *Batch, sign int64) {
	for c := range b.Cols {
		b.Cols[c].AppendVector(&src.Cols[c])
	}
	at := len(b.Weights)
	b.Weights = append(b.Weights, src.Weights...)
	if sign != 1 {
		for i := at; i < len(b.Weights); i++ {
			b.Weights[i] *= sign
		}
	}
}

// Consolidate sums the weights of equal rows and drops rows whose weight is zero. The
// order of the surviving rows is the order of their first occurrence.
func (b *Batch) Consolidate() {
	n := b.Len()
	if n == 0 {
		return
	}
	// Each row's hash is computed a column at a time, from the values themselves (integers,
	// text, booleans) or from their key encoding (the kinds whose equal values may differ:
	// 1.0 and 1.00, -0 and 0, NaNs); rows are found through an open-addressing table of
	// first occurrences and compared a column at a time. No allocation per row.
	hashes := make([]uint64, n)
	seed := maphash.MakeSeed()
	var ka, kb []byte // scratch key encodings
	for c := range b.Cols {
		ka = b.Cols[c].hashInto(hashes, seed, ka)
	}
	size := 1
	for size < 2*n {
		size <<= 1
	}
	mask := uint64(size - 1)
	slots := make([]int32, size) // 1 + an entry of order; 0: empty
	var (
		order = make([]int32, 0, n) // distinct rows, by first occurrence
		sums  = make([]int64, 0, n)
	)
	for i := range n {
		h := hashes[i]
		for s := mix64(h) & mask; ; s = (s + 1) & mask {
			j := slots[s] - 1
			if j < 0 {
				slots[s] = int32(len(order)) + 1
				order = append(order, int32(i))
				sums = append(sums, b.Weights[i])
				break
			}
			if r := int(order[j]); hashes[r] == h && b.rowsEqual(r, i, &ka, &kb) {
				sums[j] += b.Weights[i]
				break
			}
		}
	}
	if len(order) == n && !slices.Contains(sums, 0) {
		return
	}
	out := New(b.Kinds())
	for j, i := range order {
		if sums[j] != 0 {
			out.AppendFrom(b, int(i), sums[j])
		}
	}
	*b = *out
}

// mix64 is a finalizer (MurmurHash3's) that spreads a combined hash over every bit.
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	return h ^ h>>33
}

// hashInto combines into hashes[i] the hash of value i of v, equal for values that
// AppendKeyAt encodes equally. scratch is reused and returned.
func (v *Vector) hashInto(hashes []uint64, seed maphash.Seed, scratch []byte) []byte {
	const k = 0x9E3779B97F4A7C15
	combine := func(i int, x uint64) { hashes[i] = (hashes[i]^x)*k + 0x632BE59BD9B4E019 }
	for i := range hashes {
		switch {
		case v.Nulls != nil && v.Nulls[i]:
			combine(i, 0x5bd1e995)
		case v.Kind == KindInt:
			combine(i, uint64(v.I64[i]))
		case v.Kind == KindString:
			combine(i, maphash.String(seed, v.Str[i]))
		case v.Kind == KindBool:
			combine(i, uint64(boolInt(v.Bool[i]))+2)
		default:
			scratch = v.AppendKeyAt(scratch[:0], i)
			combine(i, maphash.Bytes(seed, scratch))
		}
	}
	return scratch
}

// rowsEqual reports whether rows i and j of b encode to the same key (AppendKey).
func (b *Batch) rowsEqual(i, j int, ka, kb *[]byte) bool {
	for c := range b.Cols {
		v := &b.Cols[c]
		if v.Nulls != nil {
			if v.Nulls[i] != v.Nulls[j] {
				return false
			}
			if v.Nulls[i] {
				continue
			}
		}
		switch v.Kind {
		case KindInt:
			if v.I64[i] != v.I64[j] {
				return false
			}
		case KindString:
			if v.Str[i] != v.Str[j] {
				return false
			}
		case KindBool:
			if v.Bool[i] != v.Bool[j] {
				return false
			}
		default:
			*ka, *kb = v.AppendKeyAt((*ka)[:0], i), v.AppendKeyAt((*kb)[:0], j)
			if !bytes.Equal(*ka, *kb) {
				return false
			}
		}
	}
	return true
}

// AppendKey appends a binary encoding of row i to dst: equal rows, and only equal rows,
// encode equally. Use it for hash-map keys.
func (b *Batch) AppendKey(dst []byte, i int) []byte {
	for c := range b.Cols {
		dst = b.Cols[c].AppendKeyAt(dst, i)
	}
	return dst
}

// AppendKeyAt appends the key encoding of value i (AppendValueKey of v.Get(i)).
func (v *Vector) AppendKeyAt(dst []byte, i int) []byte {
	if v.Nulls != nil && v.Nulls[i] {
		return append(dst, 0)
	}
	switch v.Kind {
	case KindInt:
		dst = append(dst, 1)
		return binary.LittleEndian.AppendUint64(dst, uint64(v.I64[i]))
	case KindString:
		dst = append(dst, 3)
		dst = binary.AppendUvarint(dst, uint64(len(v.Str[i])))
		return append(dst, v.Str[i]...)
	case KindNumeric:
		n := NormalizeDecimal(v.Str[i])
		dst = append(dst, 6)
		dst = binary.AppendUvarint(dst, uint64(len(n)))
		return append(dst, n...)
	}
	return AppendValueKey(dst, v.Get(i))
}

// RowEqual reports whether row i of b and row are equal as AppendKey sees rows (1.0
// equals 1.00, NULL equals NULL): whether they would encode to the same key.
func (b *Batch) RowEqual(i int, row []Value) bool {
	if len(row) != len(b.Cols) {
		return false
	}
	var x, y [32]byte
	for c := range b.Cols {
		v, r := &b.Cols[c], row[c]
		null := v.Nulls != nil && v.Nulls[i]
		if null || r.Null {
			if null != r.Null {
				return false
			}
			continue
		}
		if r.Kind != v.Kind {
			return false
		}
		switch v.Kind {
		case KindInt:
			if v.I64[i] != r.I {
				return false
			}
		case KindString:
			if v.Str[i] != r.S {
				return false
			}
		default:
			if v.Kind == KindNumeric && v.Str[i] == r.S {
				continue
			}
			if string(v.AppendKeyAt(x[:0], i)) != string(AppendValueKey(y[:0], r)) {
				return false
			}
		}
	}
	return true
}

// AppendValueKey appends v's key encoding to dst (see AppendKey). Floats are normalised so
// that -0 equals 0 and all NaNs are equal, numerics so that 1.0 equals 1.00, intervals so
// that '1 day' equals '24 hours', and jsonb numbers as numerics, as SQL grouping requires.
func AppendValueKey(dst []byte, v Value) []byte {
	if v.Null {
		return append(dst, 0)
	}
	switch v.Kind {
	case KindInt:
		dst = append(dst, 1)
		return binary.LittleEndian.AppendUint64(dst, uint64(v.I))
	case KindFloat:
		f := v.F
		if f == 0 {
			f = 0
		}
		bits := math.Float64bits(f)
		if math.IsNaN(f) {
			bits = 0x7ff8000000000001
		}
		dst = append(dst, 2)
		return binary.LittleEndian.AppendUint64(dst, bits)
	case KindString:
		dst = append(dst, 3)
		dst = binary.AppendUvarint(dst, uint64(len(v.S)))
		return append(dst, v.S...)
	case KindNumeric:
		n := NormalizeDecimal(v.S)
		dst = append(dst, 6)
		dst = binary.AppendUvarint(dst, uint64(len(n)))
		return append(dst, n...)
	case KindInterval:
		days, us := intervalKey(v)
		dst = append(dst, 7)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(days))
		return binary.LittleEndian.AppendUint64(dst, uint64(us))
	case KindJsonb:
		n := NormalizeJSON(v.S)
		dst = append(dst, 8)
		dst = binary.AppendUvarint(dst, uint64(len(n)))
		return append(dst, n...)
	default:
		if v.B {
			return append(dst, 5)
		}
		return append(dst, 4)
	}
}

// RowKey is AppendValueKey over a slice of values, returned as a string.
func RowKey(row []Value) string {
	var buf []byte
	for _, v := range row {
		buf = AppendValueKey(buf, v)
	}
	return string(buf)
}

// NormalizeDecimal strips the trailing fraction zeros (and a bare point) from canonical
// decimal text, and the sign of a zero: equal values normalise to the same string.
func NormalizeDecimal(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			j := len(s)
			for j > i+1 && s[j-1] == '0' {
				j--
			}
			if j == i+1 {
				j = i
			}
			s = s[:j]
			break
		}
	}
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

// compareDecimal orders two canonical decimal texts by value.
func compareDecimal(a, b string) int {
	a, b = NormalizeDecimal(a), NormalizeDecimal(b)
	an, bn := a[0] == '-', b[0] == '-'
	switch {
	case an && !bn:
		return -1
	case !an && bn:
		return 1
	}
	c := compareAbs(a[boolInt(an):], b[boolInt(bn):])
	if an {
		return -c
	}
	return c
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// compareAbs compares unsigned canonical decimals: longer integer parts are larger, and
// equal-length digits compare as strings.
func compareAbs(a, b string) int {
	ai, af, _ := cutPoint(a)
	bi, bf, _ := cutPoint(b)
	if len(ai) != len(bi) {
		return cmpOrdered(int64(len(ai)), int64(len(bi)))
	}
	if c := cmpOrdered(ai, bi); c != 0 {
		return c
	}
	return cmpOrdered(af, bf) // no trailing zeros, so string order is numeric order
}

func cutPoint(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// NormalizeJSON rewrites every number of canonical jsonb text with NormalizeDecimal, so
// that texts of equal jsonb values are equal. Canonical jsonb prints numbers as plain
// decimals (no exponent), outside strings.
func NormalizeJSON(s string) string {
	var out []byte // nil until something changes
	inStr, esc := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(s) && (s[j] == '.' || (s[j] >= '0' && s[j] <= '9')) {
				j++
			}
			n := NormalizeDecimal(s[i:j])
			if out == nil && n != s[i:j] {
				out = append([]byte{}, s[:i]...)
			}
			if out != nil {
				out = append(out, n...)
			}
			i = j - 1
			continue
		}
		if out != nil {
			out = append(out, c)
		}
	}
	if out == nil {
		return s
	}
	return string(out)
}
