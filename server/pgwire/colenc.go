package pgwire

import (
	"encoding/binary"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// colEncoder appends one value of a result column to buf, as codec.appendValue does for
// the column's type and format: null=true (buf unchanged) for SQL NULL.
type colEncoder func(c *codec, buf []byte, v any) (out []byte, null bool, err error)

// columnEncoders returns an encoder per column of cols in its format (formatAt), chosen
// once per result instead of per value (issue #6). Each encoder handles the Go type the
// engine produces for its column type (int64 for int8, time.Time for timestamptz, …) with
// the same helpers appendValue uses, and hands every other value to appendValue, so the
// bytes are appendValue's for every value (encode_test.go checks this).
func columnEncoders(cols []Column, formats []int16) []colEncoder {
	encs := make([]colEncoder, len(cols))
	for i, col := range cols {
		encs[i] = encoderFor(col.OID, formatAt(formats, i))
	}
	return encs
}

func encoderFor(oid uint32, format int16) colEncoder {
	generic := func(c *codec, buf []byte, v any) ([]byte, bool, error) {
		return c.appendValue(buf, oid, format, v)
	}
	bin := format == binaryFormat
	switch oid {
	case pgtype.BoolOID:
		return func(c *codec, buf []byte, v any) ([]byte, bool, error) {
			b, ok := v.(bool)
			switch {
			case !ok:
				return generic(c, buf, v)
			case bin && b:
				return append(buf, 1), false, nil
			case bin:
				return append(buf, 0), false, nil
			case b:
				return append(buf, 't'), false, nil
			default:
				return append(buf, 'f'), false, nil
			}
		}
	case pgtype.Int2OID:
		return func(c *codec, buf []byte, v any) ([]byte, bool, error) {
			i, ok := v.(int16)
			switch {
			case !ok:
				return generic(c, buf, v)
			case bin:
				return binary.BigEndian.AppendUint16(buf, uint16(i)), false, nil
			default:
				return strconv.AppendInt(buf, int64(i), 10), false, nil
			}
		}
	case pgtype.Int4OID:
		return func(c *codec, buf []byte, v any) ([]byte, bool, error) {
			i, ok := v.(int32)
			switch {
			case !ok:
				return generic(c, buf, v)
			case bin:
				return binary.BigEndian.AppendUint32(buf, uint32(i)), false, nil
			default:
				return strconv.AppendInt(buf, int64(i), 10), false, nil
			}
		}
	case pgtype.Int8OID:
		if bin {
			return func(c *codec, buf []byte, v any) ([]byte, bool, error) {
				if i, ok := v.(int64); ok {
					return binary.BigEndian.AppendUint64(buf, uint64(i)), false, nil
				}
				return generic(c, buf, v)
			}
		}
		return func(c *codec, buf []byte, v any) ([]byte, bool, error) {
			if i, ok := v.(int64); ok {
				return strconv.AppendInt(buf, i, 10), false, nil
			}
			return generic(c, buf, v)
		}
	case pgtype.Float4OID:
		return func(c *codec, buf []byte, v any) ([]byte, bool, error) {
			f, ok := v.(float32)
			switch {
			case !ok:
				return generic(c, buf, v)
			case bin:
				return binary.BigEndian.AppendUint32(buf, math.Float32bits(f)), false, nil
			default:
				return appendFloat(buf, float64(f), 32), false, nil
			}
		}
	case pgtype.Float8OID:
		return func(c *codec, buf []byte, v any) ([]byte, bool, error) {
			f, ok := v.(float64)
			switch {
			case !ok:
				return generic(c, buf, v)
			case bin:
				return binary.BigEndian.AppendUint64(buf, math.Float64bits(f)), false, nil
			default:
				return appendFloat(buf, f, 64), false, nil
			}
		}
	case pgtype.TimestamptzOID, pgtype.TimestampOID:
		withZone := oid == pgtype.TimestamptzOID
		if bin {
			return func(c *codec, buf []byte, v any) ([]byte, bool, error) {
				t, ok := v.(time.Time)
				if !ok {
					return generic(c, buf, v)
				}
				return binary.BigEndian.AppendUint64(buf, uint64(timestampMicros(t, withZone))), false, nil
			}
		}
		return func(c *codec, buf []byte, v any) ([]byte, bool, error) {
			t, ok := v.(time.Time)
			if !ok {
				return generic(c, buf, v)
			}
			return appendTimestamp(buf, t, withZone), false, nil
		}
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.UnknownOID, 0:
		if bin && oid == 0 {
			return generic
		}
		return func(c *codec, buf []byte, v any) ([]byte, bool, error) {
			if s, ok := v.(string); ok {
				return append(buf, s...), false, nil
			}
			return generic(c, buf, v)
		}
	}
	return generic
}
