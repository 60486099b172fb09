package pgwire

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/weirdb/weir/internal/interval"
	"github.com/weirdb/weir/internal/sqlerr"
)

// decodeParam decodes one Bind parameter of type oid sent in format. NULL (src == nil)
// is nil. The Go types are those Statement.Execute documents: int16, int32, int64,
// float32, float64, string, bool, time.Time (UTC), []byte; numeric arrives as its exact
// decimal string, json and jsonb as their text, interval as its PostgreSQL text, infinite
// timestamps and dates as pgtype values, and other OIDs pgtype knows as its decoded value.
// An unspecified or unknown type is a string in text format and []byte in binary. src
// belongs to the receive buffer; the result never aliases it.
func (c *codec) decodeParam(oid uint32, format int16, src []byte) (v any, err error) {
	if src == nil {
		return nil, nil
	}
	defer func() {
		if r := recover(); r != nil { // a pgtype codec choking on hostile bytes
			v, err = nil, sqlerr.New(codeInvalidBinaryRepresentation, "invalid %s parameter: %v", typeName(oid), r)
		}
	}()
	if format == binaryFormat {
		return c.decodeBinary(oid, src)
	}
	s := string(src)
	switch oid {
	case 0, pgtype.UnknownOID, pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID,
		pgtype.JSONOID, pgtype.JSONBOID:
		return s, nil
	case pgtype.Int2OID:
		i, err := parseInt(s, oid)
		return int16(i), err
	case pgtype.Int4OID:
		i, err := parseInt(s, oid)
		return int32(i), err
	case pgtype.Int8OID:
		return parseInt(s, oid)
	case pgtype.Float4OID:
		f, err := parseFloat(s, oid)
		return float32(f), err
	case pgtype.Float8OID:
		return parseFloat(s, oid)
	case pgtype.BoolOID:
		return parseBool(s)
	case pgtype.NumericOID:
		n, err := parseNumeric(s)
		if err != nil {
			return nil, err
		}
		b, err := encodeNumeric(n)
		return string(b), err
	case pgtype.TimestamptzOID, pgtype.TimestampOID, pgtype.DateOID:
		t, inf, err := parseTime(s, oid)
		if err != nil {
			return nil, err
		}
		return timeParam(oid, t, inf), nil
	case pgtype.IntervalOID:
		iv, err := interval.Parse(s)
		if err != nil {
			return nil, err
		}
		return iv.String(), nil
	case pgtype.ByteaOID:
		return decodeByteaText(s)
	}
	if t, ok := c.types.TypeForOID(oid); ok {
		v, err := t.Codec.DecodeValue(c.types, oid, textFormat, src)
		if err != nil {
			return nil, invalidInput(oid, s)
		}
		return v, nil
	}
	return s, nil
}

func (c *codec) decodeBinary(oid uint32, src []byte) (any, error) {
	bad := func() error {
		return sqlerr.New(codeInvalidBinaryRepresentation, "incorrect binary data format for type %s", typeName(oid))
	}
	need := func(n int) error {
		if len(src) != n {
			return bad()
		}
		return nil
	}
	switch oid {
	case 0, pgtype.UnknownOID, pgtype.ByteaOID:
		return append([]byte{}, src...), nil
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.JSONOID:
		return string(src), nil
	case pgtype.JSONBOID:
		if len(src) == 0 || src[0] != 1 {
			return nil, bad()
		}
		return string(src[1:]), nil
	case pgtype.Int2OID:
		if err := need(2); err != nil {
			return nil, err
		}
		return int16(binary.BigEndian.Uint16(src)), nil
	case pgtype.Int4OID:
		if err := need(4); err != nil {
			return nil, err
		}
		return int32(binary.BigEndian.Uint32(src)), nil
	case pgtype.Int8OID:
		if err := need(8); err != nil {
			return nil, err
		}
		return int64(binary.BigEndian.Uint64(src)), nil
	case pgtype.Float4OID:
		if err := need(4); err != nil {
			return nil, err
		}
		return math.Float32frombits(binary.BigEndian.Uint32(src)), nil
	case pgtype.Float8OID:
		if err := need(8); err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(src)), nil
	case pgtype.BoolOID:
		if err := need(1); err != nil {
			return nil, err
		}
		return src[0] != 0, nil
	case pgtype.NumericOID:
		var n pgtype.Numeric
		if err := c.types.Scan(oid, binaryFormat, src, &n); err != nil {
			return nil, bad()
		}
		b, err := encodeNumeric(n)
		return string(b), err
	case pgtype.TimestamptzOID, pgtype.TimestampOID:
		if err := need(8); err != nil {
			return nil, err
		}
		us := int64(binary.BigEndian.Uint64(src))
		switch us {
		case math.MaxInt64:
			return timeParam(oid, time.Time{}, pgtype.Infinity), nil
		case math.MinInt64:
			return timeParam(oid, time.Time{}, pgtype.NegativeInfinity), nil
		}
		sec := floorDiv(us, 1_000_000)
		return time.Unix(pgEpoch.Unix()+sec, (us-sec*1_000_000)*1000).UTC(), nil
	case pgtype.DateOID:
		if err := need(4); err != nil {
			return nil, err
		}
		days := int32(binary.BigEndian.Uint32(src))
		switch days {
		case math.MaxInt32:
			return timeParam(oid, time.Time{}, pgtype.Infinity), nil
		case math.MinInt32:
			return timeParam(oid, time.Time{}, pgtype.NegativeInfinity), nil
		}
		return pgEpoch.AddDate(0, 0, int(days)), nil
	case pgtype.IntervalOID:
		if err := need(16); err != nil {
			return nil, err
		}
		return interval.Interval{
			Micros: int64(binary.BigEndian.Uint64(src)),
			Days:   int32(binary.BigEndian.Uint32(src[8:])),
			Months: int32(binary.BigEndian.Uint32(src[12:])),
		}.String(), nil
	}
	if t, ok := c.types.TypeForOID(oid); ok {
		v, err := t.Codec.DecodeValue(c.types, oid, binaryFormat, src)
		if err != nil {
			return nil, bad()
		}
		return v, nil
	}
	return append([]byte{}, src...), nil
}

// timeParam is the parameter value for a decoded timestamp or date: a time.Time when
// finite, else the pgtype value carrying the infinity.
func timeParam(oid uint32, t time.Time, inf pgtype.InfinityModifier) any {
	if inf == pgtype.Finite {
		return t
	}
	switch oid {
	case pgtype.TimestamptzOID:
		return pgtype.Timestamptz{InfinityModifier: inf, Valid: true}
	case pgtype.TimestampOID:
		return pgtype.Timestamp{InfinityModifier: inf, Valid: true}
	default:
		return pgtype.Date{InfinityModifier: inf, Valid: true}
	}
}

// decodeByteaText decodes bytea input text: hex (\x0a0b) or the escape format (a\\b\001).
func decodeByteaText(s string) ([]byte, error) {
	if strings.HasPrefix(s, `\x`) {
		b, err := hex.DecodeString(s[2:])
		if err != nil {
			return nil, invalidInput(pgtype.ByteaOID, s)
		}
		return b, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			out = append(out, '\\')
			i++
		case i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) && s[i+1] <= '3':
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
		default:
			return nil, invalidInput(pgtype.ByteaOID, s)
		}
	}
	return out, nil
}

func isOctal(b byte) bool { return b >= '0' && b <= '7' }
