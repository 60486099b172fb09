package pgwire

import (
	"database/sql/driver"
	"encoding/json"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/sqlerr"
)

type point struct{ X, Y int }

func (p point) String() string { return "(1,2)" }

func TestEncodeText(t *testing.T) {
	noon := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		oid  uint32
		v    any
		want string
	}{
		{"bool true", pgtype.BoolOID, true, "t"},
		{"bool false", pgtype.BoolOID, false, "f"},
		{"bool from string", pgtype.BoolOID, "yes", "t"},
		{"int2", pgtype.Int2OID, int16(-5), "-5"},
		{"int4 from int64", pgtype.Int4OID, int64(7), "7"},
		{"int8 from string", pgtype.Int8OID, " 42 ", "42"},
		{"int8 from float", pgtype.Int8OID, 2.5, "2"},
		{"int8 from uint64", pgtype.Int8OID, uint64(9), "9"},
		{"float8 0.1", pgtype.Float8OID, 0.1, "0.1"},
		{"float8 1e20", pgtype.Float8OID, 1e20, "1e+20"},
		{"float8 1e15", pgtype.Float8OID, 1e15, "1e+15"},
		{"float8 below 1e15", pgtype.Float8OID, 123456789012345.0, "123456789012345"},
		{"float8 1e-5", pgtype.Float8OID, 1e-5, "1e-05"},
		{"float8 1e-4", pgtype.Float8OID, 1e-4, "0.0001"},
		{"float8 third", pgtype.Float8OID, 1.0 / 3, "0.3333333333333333"},
		{"float8 1.5e300", pgtype.Float8OID, 1.5e300, "1.5e+300"},
		{"float8 -0", pgtype.Float8OID, math.Copysign(0, -1), "-0"},
		{"float8 NaN", pgtype.Float8OID, math.NaN(), "NaN"},
		{"float8 Infinity", pgtype.Float8OID, math.Inf(1), "Infinity"},
		{"float8 -Infinity", pgtype.Float8OID, math.Inf(-1), "-Infinity"},
		{"float8 from int", pgtype.Float8OID, 3, "3"},
		{"float4 0.1", pgtype.Float4OID, float32(0.1), "0.1"},
		{"float4 1e6", pgtype.Float4OID, float32(1e6), "1e+06"},
		{"float4 123456", pgtype.Float4OID, float32(123456), "123456"},
		{"float4 from float64", pgtype.Float4OID, 0.1, "0.1"},
		{"numeric", pgtype.NumericOID, pgtype.Numeric{Int: big.NewInt(1250), Exp: -2, Valid: true}, "12.50"},
		{"numeric from int64", pgtype.NumericOID, int64(-12), "-12"},
		{"numeric from float", pgtype.NumericOID, 0.1, "0.1"},
		{"numeric from big float", pgtype.NumericOID, 1e20, "100000000000000000000"},
		{"numeric from string keeps scale", pgtype.NumericOID, "12.50", "12.50"},
		{"numeric from exponent string", pgtype.NumericOID, "1.5e3", "1500"},
		{"numeric NaN", pgtype.NumericOID, "nan", "NaN"},
		{"numeric from big.Int", pgtype.NumericOID, big.NewInt(99), "99"},
		{"numeric from big.Float", pgtype.NumericOID, big.NewFloat(1.25), "1.25"},
		{"int8 from big.Int", pgtype.Int8OID, big.NewInt(-4), "-4"},
		{"text", pgtype.TextOID, "héllo", "héllo"},
		{"text from int", pgtype.TextOID, int64(5), "5"},
		{"text from bool", pgtype.TextOID, true, "true"},
		{"text from bytes", pgtype.TextOID, []byte("raw"), "raw"},
		{"varchar from float", pgtype.VarcharOID, 0.5, "0.5"},
		{"timestamptz", pgtype.TimestamptzOID, noon, "2026-01-01 12:00:00+00"},
		{"timestamptz fraction", pgtype.TimestamptzOID, noon.Add(500 * time.Millisecond), "2026-01-01 12:00:00.5+00"},
		{"timestamptz micros", pgtype.TimestamptzOID, noon.Add(123456 * time.Microsecond), "2026-01-01 12:00:00.123456+00"},
		{"timestamptz rounds nanos", pgtype.TimestamptzOID, noon.Add(999_999_600), "2026-01-01 12:00:01+00"},
		{"timestamptz to UTC", pgtype.TimestamptzOID, time.Date(2026, 1, 1, 14, 0, 0, 0, time.FixedZone("", 7200)), "2026-01-01 12:00:00+00"},
		{"timestamptz BC", pgtype.TimestamptzOID, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), "0001-01-01 00:00:00+00 BC"},
		{"timestamptz infinity", pgtype.TimestamptzOID, pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}, "infinity"},
		{"timestamptz from string", pgtype.TimestamptzOID, "2026-01-01T12:00:00Z", "2026-01-01 12:00:00+00"},
		{"timestamp wall clock", pgtype.TimestampOID, time.Date(2026, 1, 1, 14, 0, 0, 0, time.FixedZone("", 7200)), "2026-01-01 14:00:00"},
		{"timestamp", pgtype.TimestampOID, noon, "2026-01-01 12:00:00"},
		{"date", pgtype.DateOID, noon, "2026-01-01"},
		{"date -infinity", pgtype.DateOID, pgtype.Date{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, "-infinity"},
		{"interval", pgtype.IntervalOID, pgtype.Interval{Months: 14, Days: 3, Microseconds: 14706500000, Valid: true}, "1 year 2 mons 3 days 04:05:06.5"},
		{"interval zero", pgtype.IntervalOID, time.Duration(0), "00:00:00"},
		{"interval hours", pgtype.IntervalOID, 36 * time.Hour, "36:00:00"},
		{"interval negative", pgtype.IntervalOID, -time.Second, "-00:00:01"},
		{"interval mixed signs", pgtype.IntervalOID, pgtype.Interval{Days: -1, Microseconds: 2 * 3600e6, Valid: true}, "-1 days +02:00:00"},
		{"interval one day", pgtype.IntervalOID, pgtype.Interval{Months: -1, Days: 1, Valid: true}, "-1 mons +1 day"},
		{"bytea", pgtype.ByteaOID, []byte{0xde, 0xad, 0x01}, `\xdead01`},
		{"jsonb string", pgtype.JSONBOID, `{"a":1}`, `{"a":1}`},
		{"jsonb marshalled", pgtype.JSONBOID, map[string]int{"b": 2}, `{"b":2}`},
		{"json raw", pgtype.JSONOID, json.RawMessage(`[1]`), `[1]`},
		{"uuid via pgtype", pgtype.UUIDOID, [16]byte{0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11}, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"unknown Go type in text", pgtype.TextOID, point{1, 2}, "(1,2)"},
		{"unknown Go type in int8 falls back to its text", pgtype.Int8OID, point{1, 2}, "(1,2)"},
		{"unknown OID", 999999, 12, "12"},
		{"pointer", pgtype.Int8OID, ptr(int64(3)), "3"},
		{"pgtype.Int8", pgtype.Int8OID, pgtype.Int8{Int64: 8, Valid: true}, "8"},
		{"pgtype.Text in numeric", pgtype.NumericOID, pgtype.Text{String: "1.10", Valid: true}, "1.10"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCodec()
			out, null, err := c.appendValue([]byte("prefix"), tc.oid, textFormat, tc.v)
			require.NoError(t, err)
			require.False(t, null)
			require.Equal(t, "prefix"+tc.want, string(out))
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestEncodeNull(t *testing.T) {
	c := newCodec()
	for _, v := range []any{nil, (*int64)(nil), pgtype.Int8{}, pgtype.Numeric{}, pgtype.Timestamptz{}, pgtype.Interval{}} {
		for _, format := range []int16{textFormat, binaryFormat} {
			out, null, err := c.appendValue([]byte("x"), pgtype.Int8OID, format, v)
			require.NoError(t, err)
			require.True(t, null, "%#v", v)
			require.Equal(t, "x", string(out))
		}
	}
}

// TestEncodeBinary checks binary output by decoding it with pgtype, as pgx does.
func TestEncodeBinary(t *testing.T) {
	at := time.Date(2026, 1, 1, 12, 0, 0, 123456000, time.UTC)
	for _, tc := range []struct {
		name string
		oid  uint32
		v    any
		want any // what pgtype decodes; nil means tc.v
	}{
		{"bool", pgtype.BoolOID, true, nil},
		{"int2", pgtype.Int2OID, int16(-300), nil},
		{"int4 from int64", pgtype.Int4OID, int64(70000), int32(70000)},
		{"int8 from string", pgtype.Int8OID, "-9", int64(-9)},
		{"float4", pgtype.Float4OID, float32(1.25), nil},
		{"float8 from int", pgtype.Float8OID, 3, 3.0},
		{"numeric from int64", pgtype.NumericOID, int64(123), pgtype.Numeric{Int: big.NewInt(123), Valid: true}},
		{"numeric from string", pgtype.NumericOID, "12.50", pgtype.Numeric{Int: big.NewInt(1250), Exp: -2, Valid: true}},
		{"numeric from float", pgtype.NumericOID, 0.5, pgtype.Numeric{Int: big.NewInt(5), Exp: -1, Valid: true}},
		{"text", pgtype.TextOID, "héllo", nil},
		{"varchar from int", pgtype.VarcharOID, 5, "5"},
		{"timestamptz", pgtype.TimestamptzOID, at, nil},
		{"timestamptz infinity", pgtype.TimestamptzOID, pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}, pgtype.Infinity},
		{"timestamp", pgtype.TimestampOID, at, nil},
		{"date", pgtype.DateOID, time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), nil},
		{"interval", pgtype.IntervalOID, 90 * time.Minute, pgtype.Interval{Microseconds: 5400e6, Valid: true}},
		{"bytea", pgtype.ByteaOID, []byte{1, 2}, nil},
		{"jsonb", pgtype.JSONBOID, `{"a":1}`, map[string]any{"a": 1.0}},
		{"json", pgtype.JSONOID, []int{1}, []any{1.0}},
		// A read's array (a DuckDB list) comes as PostgreSQL's array text.
		{"text[] from array text", pgtype.TextArrayOID, `{1,NULL,"a b","q\"x"}`, []any{"1", nil, "a b", `q"x`}},
		{"empty text[]", pgtype.TextArrayOID, `{}`, []any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCodec()
			out, null, err := c.appendValue(nil, tc.oid, binaryFormat, tc.v)
			require.NoError(t, err)
			require.False(t, null)
			typ, ok := c.types.TypeForOID(tc.oid)
			require.True(t, ok)
			got, err := typ.Codec.DecodeValue(c.types, tc.oid, binaryFormat, out)
			require.NoError(t, err)
			want := tc.want
			if want == nil {
				want = tc.v
			}
			if w, ok := want.(time.Time); ok {
				require.True(t, w.Equal(got.(time.Time)), "%v != %v", w, got)
				return
			}
			require.Equal(t, want, got)
		})
	}
}

func TestEncodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		oid    uint32
		format int16
		v      any
		code   sqlerr.Code
	}{
		{"int2 out of range", pgtype.Int2OID, textFormat, int64(70000), sqlerr.NumericValueOutOfRange},
		{"int4 out of range binary", pgtype.Int4OID, binaryFormat, int64(1) << 40, sqlerr.NumericValueOutOfRange},
		{"int8 from bad string", pgtype.Int8OID, textFormat, "abc", sqlerr.InvalidTextRepresentation},
		{"int8 from uint64 overflow", pgtype.Int8OID, binaryFormat, uint64(math.MaxUint64), sqlerr.NumericValueOutOfRange},
		{"unknown Go type in binary", pgtype.Int8OID, binaryFormat, point{1, 2}, sqlerr.DatatypeMismatch},
		{"unknown OID in binary", 999999, binaryFormat, 1, sqlerr.FeatureNotSupported},
		{"bad timestamp string", pgtype.TimestamptzOID, textFormat, "yesterday-ish", sqlerr.InvalidTextRepresentation},
		{"unmarshallable json", pgtype.JSONBOID, binaryFormat, func() {}, sqlerr.InvalidTextRepresentation},
		{"failing Valuer", pgtype.Int8OID, textFormat, badValuer{}, sqlerr.DataException},
		{"bad array text", pgtype.TextArrayOID, binaryFormat, "{1,", sqlerr.DatatypeMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := newCodec().appendValue([]byte("keep"), tc.oid, tc.format, tc.v)
			require.Error(t, err)
			require.Equal(t, tc.code, sqlerr.CodeOf(err), "%v", err)
			require.Equal(t, "keep", string(out))
		})
	}
}

type badValuer struct{}

func (badValuer) Value() (driver.Value, error) {
	return nil, sqlerr.New(sqlerr.DataException, "broken")
}
