package delta

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// A batch's binary form, for the write-ahead log: the column count, then per column
// its kind, a null bitmap flag and the values, then the weights. Integers are zig-zag
// varints, floats their IEEE bits, strings a length and bytes. Decoding checks every
// length against the input, so a damaged record fails instead of panicking.
//
//	uvarint ncols, uvarint nrows
//	per column: byte kind, byte hasNulls, [nrows bytes of 0/1 when hasNulls], values
//	varint weight × nrows

// AppendBinary appends b's binary form to dst.
func (b *Batch) AppendBinary(dst []byte) []byte {
	n := b.Len()
	dst = binary.AppendUvarint(dst, uint64(len(b.Cols)))
	dst = binary.AppendUvarint(dst, uint64(n))
	for c := range b.Cols {
		v := &b.Cols[c]
		dst = append(dst, byte(v.Kind))
		if v.Nulls == nil {
			dst = append(dst, 0)
		} else {
			dst = append(dst, 1)
			for i := 0; i < n; i++ {
				dst = append(dst, boolByte(v.Nulls[i]))
			}
		}
		for i := 0; i < n; i++ {
			switch v.Kind {
			case KindInt:
				dst = binary.AppendVarint(dst, v.I64[i])
			case KindFloat:
				dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.F64[i]))
			case KindBool:
				dst = append(dst, boolByte(v.Bool[i]))
			default:
				dst = binary.AppendUvarint(dst, uint64(len(v.Str[i])))
				dst = append(dst, v.Str[i]...)
			}
		}
	}
	for _, w := range b.Weights {
		dst = binary.AppendVarint(dst, w)
	}
	return dst
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// errShort is returned for truncated or inconsistent input.
var errShort = errors.New("delta: truncated or malformed batch")

// DecodeBatch decodes a batch written by AppendBinary from the front of src and returns
// it with the rest of src.
func DecodeBatch(src []byte) (*Batch, []byte, error) {
	d := decoder{src: src}
	ncols, nrows := d.uvarint(), d.uvarint()
	if d.err != nil || ncols > uint64(len(src)) || nrows > uint64(len(src)) {
		return nil, nil, errShort
	}
	n := int(nrows)
	b := &Batch{Cols: make([]Vector, ncols)}
	for c := range b.Cols {
		v := &b.Cols[c]
		v.Kind = Kind(d.byte())
		if v.Kind > KindJsonb {
			return nil, nil, fmt.Errorf("delta: unknown kind %d in batch", v.Kind)
		}
		if d.byte() == 1 {
			v.Nulls = make([]bool, n)
			for i := range n {
				v.Nulls[i] = d.byte() == 1
			}
		}
		switch v.Kind {
		case KindInt:
			v.I64 = make([]int64, n)
		case KindFloat:
			v.F64 = make([]float64, n)
		case KindBool:
			v.Bool = make([]bool, n)
		default:
			v.Str = make([]string, n)
		}
		for i := 0; i < n && d.err == nil; i++ {
			switch v.Kind {
			case KindInt:
				v.I64[i] = d.varint()
			case KindFloat:
				v.F64[i] = math.Float64frombits(d.uint64())
			case KindBool:
				v.Bool[i] = d.byte() == 1
			default:
				v.Str[i] = d.string()
			}
		}
	}
	b.Weights = make([]int64, n)
	for i := range b.Weights {
		b.Weights[i] = d.varint()
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	return b, d.src, nil
}

// decoder reads from src, recording the first error (after which it returns zeros).
type decoder struct {
	src []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errShort
	}
	d.src = nil
}

func (d *decoder) byte() byte {
	if len(d.src) < 1 {
		d.fail()
		return 0
	}
	c := d.src[0]
	d.src = d.src[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	x, k := binary.Uvarint(d.src)
	if k <= 0 {
		d.fail()
		return 0
	}
	d.src = d.src[k:]
	return x
}

func (d *decoder) varint() int64 {
	x, k := binary.Varint(d.src)
	if k <= 0 {
		d.fail()
		return 0
	}
	d.src = d.src[k:]
	return x
}

func (d *decoder) uint64() uint64 {
	if len(d.src) < 8 {
		d.fail()
		return 0
	}
	x := binary.LittleEndian.Uint64(d.src)
	d.src = d.src[8:]
	return x
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.src)) {
		d.fail()
		return ""
	}
	s := string(d.src[:n])
	d.src = d.src[n:]
	return s
}
