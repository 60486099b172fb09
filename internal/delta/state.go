package delta

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Operator state for checkpoints (exec.Checkpointer) is written with the helpers below.
// Unlike a batch's binary form (AppendBinary), a state value carries no kind: the
// operator reading it back knows the kind of every column it stores, and the reader
// checks each value against it. A value is a tag byte, then its payload:
//
//	0            NULL
//	1 payload    int: zig-zag varint; float: IEEE bits, 8 bytes little-endian;
//	             string, numeric, interval, jsonb: uvarint length and bytes
//	1 / 2        bool false / true
//
// Integers are varints, byte strings a uvarint length and the bytes.

// AppendStateValue appends v's state encoding to dst.
func AppendStateValue(dst []byte, v Value) []byte {
	if v.Null {
		return append(dst, 0)
	}
	switch v.Kind {
	case KindInt:
		return binary.AppendVarint(append(dst, 1), v.I)
	case KindFloat:
		return binary.LittleEndian.AppendUint64(append(dst, 1), math.Float64bits(v.F))
	case KindBool:
		return append(dst, 1+boolByte(v.B))
	}
	return AppendStateBytes(append(dst, 1), v.S)
}

// AppendStateRow appends the state encoding of every value of row to dst.
func AppendStateRow(dst []byte, row []Value) []byte {
	for _, v := range row {
		dst = AppendStateValue(dst, v)
	}
	return dst
}

// AppendStateBytes appends s with its length to dst.
func AppendStateBytes[S string | []byte](dst []byte, s S) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// AppendStateBool appends b as one byte.
func AppendStateBool(dst []byte, b bool) []byte { return append(dst, boolByte(b)) }

// ErrBadState is the cause of every error a StateReader reports.
var ErrBadState = errors.New("malformed operator state")

// A StateReader decodes state written with the Append helpers above, front to back. The
// first problem (input too short, a value of the wrong shape) is recorded, after which
// every read returns a zero value; check Err once at the end, or before acting on a
// count. Every length and count is checked against the bytes left, so malformed input
// never makes the reader allocate more than a small multiple of the input's size.
type StateReader struct {
	src []byte
	err error
}

// NewStateReader returns a reader of p. The reader aliases p only for Bytes.
func NewStateReader(p []byte) *StateReader { return &StateReader{src: p} }

// Err returns the first error, wrapping ErrBadState, or nil.
func (r *StateReader) Err() error { return r.err }

// Len is the number of bytes left.
func (r *StateReader) Len() int { return len(r.src) }

// Failf records an error (if none is recorded yet) and stops the reader.
func (r *StateReader) Failf(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrBadState, fmt.Sprintf(format, args...))
	}
	r.src = nil
}

func (r *StateReader) short() { r.Failf("truncated") }

// Byte reads one byte.
func (r *StateReader) Byte() byte {
	if len(r.src) < 1 {
		r.short()
		return 0
	}
	c := r.src[0]
	r.src = r.src[1:]
	return c
}

// Bool reads a byte written by AppendStateBool; anything but 0 or 1 is an error.
func (r *StateReader) Bool() bool {
	switch r.Byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.Failf("bad boolean")
	return false
}

// Uvarint reads an unsigned varint.
func (r *StateReader) Uvarint() uint64 {
	x, k := binary.Uvarint(r.src)
	if k <= 0 {
		r.short()
		return 0
	}
	r.src = r.src[k:]
	return x
}

// Varint reads a signed (zig-zag) varint.
func (r *StateReader) Varint() int64 {
	x, k := binary.Varint(r.src)
	if k <= 0 {
		r.short()
		return 0
	}
	r.src = r.src[k:]
	return x
}

// Uint64 reads 8 bytes, little-endian.
func (r *StateReader) Uint64() uint64 {
	if len(r.src) < 8 {
		r.short()
		return 0
	}
	x := binary.LittleEndian.Uint64(r.src)
	r.src = r.src[8:]
	return x
}

// Count reads a uvarint count of items that take at least minBytes bytes each (at
// least 1 is assumed), and fails when fewer bytes are left than they need.
func (r *StateReader) Count(minBytes int) int {
	n := r.Uvarint()
	if n > uint64(len(r.src))/uint64(max(minBytes, 1)) {
		r.Failf("count %d exceeds the %d bytes left", n, len(r.src))
		return 0
	}
	return int(n)
}

// Bytes reads a length-prefixed byte string, aliasing the input.
func (r *StateReader) Bytes() []byte {
	n := r.Uvarint()
	if n > uint64(len(r.src)) {
		r.short()
		return nil
	}
	b := r.src[:n:n]
	r.src = r.src[n:]
	return b
}

// String reads a length-prefixed byte string as a string.
func (r *StateReader) String() string { return string(r.Bytes()) }

// Value reads a value that must be of kind k (or NULL).
func (r *StateReader) Value(k Kind) Value {
	tag := r.Byte()
	if tag == 0 {
		if r.err != nil {
			return Value{Kind: k}
		}
		return Null(k)
	}
	switch {
	case k == KindBool:
		if tag > 2 {
			r.Failf("bad boolean value tag %d", tag)
		}
		return Value{Kind: k, B: tag == 2}
	case tag != 1:
		r.Failf("bad value tag %d", tag)
		return Value{Kind: k}
	}
	switch k {
	case KindInt:
		return Value{Kind: k, I: r.Varint()}
	case KindFloat:
		return Value{Kind: k, F: math.Float64frombits(r.Uint64())}
	case KindString:
		return Value{Kind: k, S: r.String()}
	}
	b := r.Bytes()
	switch {
	case r.err != nil:
	case k == KindNumeric && !canonicalDecimal(b):
		r.Failf("bad numeric %q", b)
	case k == KindInterval && len(b) != 16:
		r.Failf("interval of %d bytes", len(b))
	case k == KindJsonb && !json.Valid(b):
		r.Failf("bad jsonb")
	case k > KindJsonb:
		r.Failf("unknown kind %d", k)
	}
	return Value{Kind: k, S: string(b)}
}

// Row reads one value per kind, appends them to dst and returns it.
func (r *StateReader) Row(kinds []Kind, dst []Value) []Value {
	for _, k := range kinds {
		dst = append(dst, r.Value(k))
	}
	return dst
}

// canonicalDecimal reports whether b has the shape of KindNumeric text: an optional
// '-', digits, and optionally '.' and more digits.
func canonicalDecimal(b []byte) bool {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	digits, point := 0, false
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !point && digits > 0 && i < len(b)-1:
			point = true
		default:
			return false
		}
	}
	return digits > 0
}

// Batch reads a batch written by Batch.AppendBinary.
func (r *StateReader) Batch() *Batch {
	if r.err != nil {
		return nil
	}
	b, rest, err := DecodeBatch(r.src)
	if err != nil {
		r.Failf("batch: %v", err)
		return nil
	}
	r.src = rest
	return b
}
