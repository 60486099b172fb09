package pgwire

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

// encodeValues are Go values of every kind a result column may hold, with their edges.
func encodeValues() []any {
	tokyo := time.FixedZone("JST", 9*3600)
	west := time.FixedZone("W", -(3*3600 + 1800))
	vals := []any{
		nil, (*int64)(nil), true, false,
		int(7), int8(-8), int16(0), int16(math.MinInt16), int16(math.MaxInt16),
		int32(0), int32(math.MinInt32), int32(math.MaxInt32), int32(40000),
		int64(0), int64(255), int64(256), int64(-1), int64(math.MinInt64), int64(math.MaxInt64), int64(70000), int64(3_000_000_000),
		uint8(200), uint16(65535), uint32(math.MaxUint32), uint64(math.MaxUint64), uint(12),
		float32(0), float32(1.5), float32(-3.4e38), float32(1e-45), float32(math.Inf(1)), float32(math.NaN()), float32(16777217),
		0.0, math.Copysign(0, -1), 2.25, 1e15, 1e-5, 123456789.125, -1.7976931348623157e308, 5e-324,
		math.Inf(1), math.Inf(-1), math.NaN(), 3.0, 1e100,
		"", "plain", "42", "-7", "1.5", "t", "false", "2026-01-02 03:04:05+00", "2026-01-02", "1 day", `{"a": 1}`, "ünïcode ✓", "NaN",
		[]byte("bytes"), []byte{}, json.RawMessage(`[1,2]`),
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 500_000_000, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999_999_500, time.UTC), // rounds into the next year
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 7, 20, 20, 17, 40, 1000, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(0, 12, 31, 23, 0, 0, 0, time.UTC),  // 1 BC
		time.Date(-44, 3, 15, 12, 0, 0, 0, time.UTC), // 45 BC
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), // five-digit year
		time.Date(294276, 12, 31, 23, 59, 59, 999_999_000, time.UTC),
		time.Date(2026, 6, 30, 23, 30, 0, 123_456_789, tokyo),
		time.Date(2026, 3, 1, 1, 0, 0, 7_000, west),
		time.Date(2024, 2, 29, 12, 0, 0, 0, time.Local),
		time.Time{},
		90 * time.Minute, -time.Microsecond,
		pgtype.Interval{Months: 14, Days: -3, Microseconds: 7_200_000_001, Valid: true}, pgtype.Interval{},
		pgtype.Numeric{Int: big.NewInt(12345), Exp: -2, Valid: true}, pgtype.Numeric{NaN: true, Valid: true}, pgtype.Numeric{},
		pgtype.Timestamptz{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Valid: true}, pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true},
		pgtype.Date{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, pgtype.Infinity,
		big.NewInt(-99), point{1, 2}, map[string]any{"k": []any{1, 2.5}}, []any{"a", nil},
	}
	r := rand.New(rand.NewPCG(6, 6))
	for range 200 {
		us := r.Int64N(2*140_000*365*86400*1_000_000) - 140_000*365*86400*1_000_000
		vals = append(vals, time.UnixMicro(us).UTC(), time.Unix(0, r.Int64()).In(time.FixedZone("", int(r.Int32N(50000))-25000)),
			r.Int64(), int32(r.Uint32()), int16(r.Uint32()), r.NormFloat64()*math.Pow(10, float64(r.IntN(40)-20)), float32(r.NormFloat64()))
	}
	return vals
}

// TestColumnEncodersMatchAppendValue checks that the per-column encoders sendRows uses
// put the same bytes on the wire as codec.appendValue, the encoder they replaced on that
// path, for every result type, both formats and every kind of Go value: the same bytes,
// the same NULL, the same error.
func TestColumnEncodersMatchAppendValue(t *testing.T) {
	oids := []uint32{
		pgtype.BoolOID, pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID, pgtype.OIDOID, pgtype.XIDOID,
		pgtype.Float4OID, pgtype.Float8OID, pgtype.NumericOID, pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID,
		pgtype.NameOID, pgtype.UnknownOID, 0, pgtype.QCharOID, pgtype.DateOID, pgtype.TimestampOID, pgtype.TimestamptzOID,
		pgtype.IntervalOID, pgtype.JSONOID, pgtype.JSONBOID, pgtype.ByteaOID, pgtype.UUIDOID, pgtype.Int8ArrayOID,
		pgtype.TextArrayOID, pgtype.TimeOID,
	}
	old, enc := newCodec(), newCodec()
	for _, oid := range oids {
		for _, format := range []int16{textFormat, binaryFormat} {
			e := encoderFor(oid, format)
			for _, v := range encodeValues() {
				name := fmt.Sprintf("%s/%d/%T(%v)", typeName(oid), format, v, v)
				want, wantNull, wantErr := old.appendValue([]byte("pre"), oid, format, v)
				got, gotNull, gotErr := e(enc, []byte("pre"), v)
				require.Equal(t, fmt.Sprint(wantErr), fmt.Sprint(gotErr), name)
				require.Equal(t, wantNull, gotNull, name)
				require.Equal(t, want, got, name)
			}
		}
	}
}

// appendTimestampV1 is appendTimestamp as it was before it took the date and clock
// once each, kept as the oracle for TestAppendTimestamp.
func appendTimestampV1(buf []byte, t time.Time, withZone bool) []byte {
	if withZone {
		t = t.UTC()
	} else {
		t = wallClockUTC(t)
	}
	t = t.Round(time.Microsecond)
	year, bc := t.Year(), false
	if year <= 0 {
		year, bc = 1-year, true
	}
	buf = appendPadded(buf, year, 4)
	buf = append(buf, '-')
	buf = appendPadded(buf, int(t.Month()), 2)
	buf = append(buf, '-')
	buf = appendPadded(buf, t.Day(), 2)
	buf = append(buf, ' ')
	buf = appendPadded(buf, t.Hour(), 2)
	buf = append(buf, ':')
	buf = appendPadded(buf, t.Minute(), 2)
	buf = append(buf, ':')
	buf = appendPadded(buf, t.Second(), 2)
	buf = appendFraction(buf, int64(t.Nanosecond()/1000))
	if withZone {
		buf = append(buf, "+00"...)
	}
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

func TestAppendTimestamp(t *testing.T) {
	for _, v := range encodeValues() {
		ts, ok := v.(time.Time)
		if !ok {
			continue
		}
		for _, withZone := range []bool{true, false} {
			require.Equal(t, string(appendTimestampV1([]byte("x"), ts, withZone)), string(appendTimestamp([]byte("x"), ts, withZone)), "%v %v", ts, withZone)
		}
	}
}

func BenchmarkColumnEncoders(b *testing.B) {
	row := []any{int64(17), int64(54321), int64(999), time.Date(2026, 1, 1, 0, 16, 40, 123_000_000, time.UTC)}
	cols := []Column{{OID: pgtype.Int8OID}, {OID: pgtype.Int8OID}, {OID: pgtype.Int8OID}, {OID: pgtype.TimestamptzOID}}
	for _, f := range []struct {
		name    string
		formats []int16
	}{{"text", nil}, {"binary", []int16{binaryFormat}}} {
		generic := make([]colEncoder, len(cols))
		for i, col := range cols {
			oid, format := col.OID, formatAt(f.formats, i)
			generic[i] = func(c *codec, buf []byte, v any) ([]byte, bool, error) { return c.appendValue(buf, oid, format, v) }
		}
		for _, e := range []struct {
			name string
			encs []colEncoder
		}{{"columnEncoders", columnEncoders(cols, f.formats)}, {"appendValue", generic}} {
			b.Run(f.name+"/"+e.name, func(b *testing.B) {
				w := writer{w: discard{}, buf: make([]byte, 0, 8<<10)}
				c := newCodec()
				b.ReportAllocs()
				for b.Loop() {
					if err := w.dataRow(c, e.encs, row); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
