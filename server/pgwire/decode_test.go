package pgwire

import (
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/sqlerr"
)

func TestDecodeParam(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 500_000_000, time.UTC)
	for _, tc := range []struct {
		name   string
		oid    uint32
		format int16
		src    []byte
		want   any
	}{
		{"null", pgtype.Int8OID, textFormat, nil, nil},
		{"unknown text", 0, textFormat, []byte("x"), "x"},
		{"unknown binary", 0, binaryFormat, []byte{1}, []byte{1}},
		{"int2 text", pgtype.Int2OID, textFormat, []byte("-3"), int16(-3)},
		{"int4 text", pgtype.Int4OID, textFormat, []byte(" 7 "), int32(7)},
		{"int8 text", pgtype.Int8OID, textFormat, []byte("9000000000"), int64(9000000000)},
		{"int2 binary", pgtype.Int2OID, binaryFormat, []byte{0xff, 0xfe}, int16(-2)},
		{"int4 binary", pgtype.Int4OID, binaryFormat, []byte{0, 0, 1, 0}, int32(256)},
		{"int8 binary", pgtype.Int8OID, binaryFormat, []byte{0, 0, 0, 0, 0, 0, 0, 5}, int64(5)},
		{"float4 text", pgtype.Float4OID, textFormat, []byte("1.5"), float32(1.5)},
		{"float8 text", pgtype.Float8OID, textFormat, []byte("Infinity"), math.Inf(1)},
		{"float8 binary", pgtype.Float8OID, binaryFormat, []byte{0x3f, 0xf8, 0, 0, 0, 0, 0, 0}, 1.5},
		{"bool text", pgtype.BoolOID, textFormat, []byte("t"), true},
		{"bool binary", pgtype.BoolOID, binaryFormat, []byte{0}, false},
		{"text", pgtype.TextOID, binaryFormat, []byte("héllo"), "héllo"},
		{"varchar", pgtype.VarcharOID, textFormat, []byte("v"), "v"},
		{"numeric text", pgtype.NumericOID, textFormat, []byte("12.50"), "12.50"},
		{"numeric exponent", pgtype.NumericOID, textFormat, []byte("1.5e2"), "150"},
		{"numeric binary", pgtype.NumericOID, binaryFormat, mustEncode(t, pgtype.NumericOID, pgtype.Numeric{Int: big.NewInt(-125), Exp: -1, Valid: true}), "-12.5"},
		{"timestamptz text", pgtype.TimestamptzOID, textFormat, []byte("2026-01-01 14:00:00.5+02"), at},
		{"timestamptz lib/pq text", pgtype.TimestamptzOID, textFormat, []byte("2026-01-01 12:00:00.5Z"), at},
		{"timestamptz RFC 3339", pgtype.TimestamptzOID, textFormat, []byte("2026-01-01T12:00:00.5Z"), at},
		{"timestamptz binary", pgtype.TimestamptzOID, binaryFormat, mustEncode(t, pgtype.TimestamptzOID, at), at},
		{"timestamptz infinity", pgtype.TimestamptzOID, textFormat, []byte("infinity"), pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}},
		{"timestamp text", pgtype.TimestampOID, textFormat, []byte("2026-01-01 12:00:00.5"), at},
		{"date text", pgtype.DateOID, textFormat, []byte("2026-01-01"), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"date binary", pgtype.DateOID, binaryFormat, []byte{0, 0, 0, 1}, time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC)},
		{"interval text", pgtype.IntervalOID, textFormat, []byte("1 day 01:00:00"), "1 day 01:00:00"},
		{"interval text normalised", pgtype.IntervalOID, textFormat, []byte("P1DT1H"), "1 day 01:00:00"},
		{"interval binary", pgtype.IntervalOID, binaryFormat, mustEncode(t, pgtype.IntervalOID, pgtype.Interval{Months: 2, Valid: true}), "2 mons"},
		{"bytea hex", pgtype.ByteaOID, textFormat, []byte(`\x0aff`), []byte{0x0a, 0xff}},
		{"bytea escape", pgtype.ByteaOID, textFormat, []byte(`a\\b\001`), []byte{'a', '\\', 'b', 1}},
		{"bytea binary", pgtype.ByteaOID, binaryFormat, []byte{9}, []byte{9}},
		{"jsonb binary", pgtype.JSONBOID, binaryFormat, []byte("\x01{}"), "{}"},
		{"json text", pgtype.JSONOID, textFormat, []byte("[]"), "[]"},
		{"uuid via pgtype", pgtype.UUIDOID, textFormat, []byte("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
			[16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}},
		{"unknown OID text", 999999, textFormat, []byte("?"), "?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := append([]byte(nil), tc.src...)
			if tc.src == nil {
				src = nil
			}
			got, err := newCodec().decodeParam(tc.oid, tc.format, src)
			require.NoError(t, err)
			if w, ok := tc.want.(time.Time); ok {
				require.True(t, w.Equal(got.(time.Time)), "%v != %v", w, got)
				return
			}
			require.Equal(t, tc.want, got)
			if b, ok := got.([]byte); ok && len(b) > 0 && len(src) > 0 {
				src[0] ^= 0xff
				require.Equal(t, tc.want, b, "decoded bytes must not alias the message buffer")
			}
		})
	}
}

func mustEncode(t *testing.T, oid uint32, v any) []byte {
	t.Helper()
	b, err := pgtype.NewMap().Encode(oid, binaryFormat, v, nil)
	require.NoError(t, err)
	return b
}

func TestDecodeParamErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		oid    uint32
		format int16
		src    string
		code   sqlerr.Code
	}{
		{"int4 text", pgtype.Int4OID, textFormat, "x", sqlerr.InvalidTextRepresentation},
		{"int2 range", pgtype.Int2OID, textFormat, "40000", sqlerr.NumericValueOutOfRange},
		{"int8 short binary", pgtype.Int8OID, binaryFormat, "\x01", codeInvalidBinaryRepresentation},
		{"bool text", pgtype.BoolOID, textFormat, "maybe", sqlerr.InvalidTextRepresentation},
		{"numeric text", pgtype.NumericOID, textFormat, "1.2.3", sqlerr.InvalidTextRepresentation},
		{"numeric huge exponent", pgtype.NumericOID, textFormat, "1e999999999", sqlerr.NumericValueOutOfRange},
		{"jsonb version", pgtype.JSONBOID, binaryFormat, "\x02{}", codeInvalidBinaryRepresentation},
		{"timestamptz", pgtype.TimestamptzOID, textFormat, "soon", sqlerr.InvalidTextRepresentation},
		{"bytea hex", pgtype.ByteaOID, textFormat, `\xzz`, sqlerr.InvalidTextRepresentation},
		{"uuid", pgtype.UUIDOID, textFormat, "nope", sqlerr.InvalidTextRepresentation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newCodec().decodeParam(tc.oid, tc.format, []byte(tc.src))
			require.Error(t, err)
			require.Equal(t, tc.code, sqlerr.CodeOf(err), "%v", err)
		})
	}
}

// FuzzDecodeParam checks that no parameter bytes make decoding panic, and that whatever
// decodes also encodes back without panicking.
func FuzzDecodeParam(f *testing.F) {
	oids := []uint32{0, pgtype.BoolOID, pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.Float4OID, pgtype.Float8OID,
		pgtype.NumericOID, pgtype.TextOID, pgtype.TimestamptzOID, pgtype.TimestampOID, pgtype.DateOID, pgtype.IntervalOID,
		pgtype.ByteaOID, pgtype.JSONBOID, pgtype.UUIDOID}
	f.Add(uint8(3), false, []byte("42"))
	f.Add(uint8(7), true, []byte{0, 2, 0, 0, 0, 0, 0, 1})
	f.Add(uint8(9), false, []byte("2026-01-01 12:00:00+00"))
	f.Add(uint8(12), false, []byte("1 year -2 days"))
	f.Add(uint8(13), false, []byte(`\x00ff`))
	f.Fuzz(func(t *testing.T, which uint8, binary bool, src []byte) {
		oid := oids[int(which)%len(oids)]
		format := textFormat
		if binary {
			format = binaryFormat
		}
		c := newCodec()
		v, err := c.decodeParam(oid, format, src)
		if err != nil {
			require.NotEqual(t, sqlerr.Internal, sqlerr.CodeOf(err))
			return
		}
		for _, f := range []int16{textFormat, binaryFormat} {
			_, _, _ = c.appendValue(nil, oid, f, v)
		}
	})
}
