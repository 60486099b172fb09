package pgwire

import (
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/weirdb/weir/internal/interval"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Format codes of the extended protocol (Bind parameter and result formats).
const (
	textFormat   int16 = 0
	binaryFormat int16 = 1
)

// SQLSTATE codes used only at the wire edge, missing from internal/sqlerr's list.
const (
	codeInvalidBinaryRepresentation sqlerr.Code = "22P03"
	codeDuplicatePreparedStatement  sqlerr.Code = "42P05"
	codeDuplicateCursor             sqlerr.Code = "42P03"
	codeProgramLimitExceeded        sqlerr.Code = "54000"
)

// pgEpoch is PostgreSQL's timestamp and date epoch; binary timestamps count microseconds
// from it and binary dates count days.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// errNoConversion reports that a Go type has no direct conversion to the column type. The
// caller then retries with the value's fmt.Sprint text.
var errNoConversion = errors.New("no conversion")

// codec turns result values into wire bytes and Bind parameters into Go values. It holds a
// pgtype.Map, which is not safe for concurrent use: a codec belongs to one connection.
type codec struct {
	types *pgtype.Map
}

func newCodec() *codec { return &codec{types: pgtype.NewMap()} }

// encode is pgtype.Map.Encode that turns a panic inside a pgtype codec into an error.
func (c *codec) encode(oid uint32, format int16, v any, buf []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = buf, sqlerr.New(sqlerr.DatatypeMismatch, "cannot encode a value of Go type %T as %s: %v", v, typeName(oid), r)
		}
	}()
	return c.types.Encode(oid, format, v, buf)
}

// appendValue appends v encoded for a column of type oid in format to buf. It reports
// null=true (buf unchanged) when v is SQL NULL: nil, a nil pointer, or an invalid pgtype
// value. A value whose Go type does not match oid is converted (an int64 in a numeric
// column, a string in an int4 column); a Go type the codec does not know goes out as its
// fmt.Sprint text in text format and is an error in binary format. Errors carry a SQLSTATE.
func (c *codec) appendValue(buf []byte, oid uint32, format int16, v any) (out []byte, null bool, err error) {
	v, err = resolve(v, 0)
	if err != nil {
		return buf, false, sqlerr.Wrap(err, sqlerr.DataException, "encoding %s value", typeName(oid))
	}
	if v == nil {
		return buf, true, nil
	}
	if format == binaryFormat {
		out, err = c.appendBinary(buf, oid, v)
	} else {
		out, err = c.appendText(buf, oid, v)
	}
	if err != nil {
		return buf, false, err
	}
	return out, false, nil
}

// resolve reduces v to a value the converters switch on: it unwraps driver.Valuer
// implementations (most pgtype values), dereferences pointers and maps invalid pgtype
// values to nil. Infinite timestamps and dates become a pgtype.InfinityModifier.
func resolve(v any, depth int) (any, error) {
	if depth > 4 {
		return v, nil
	}
	switch x := v.(type) {
	case nil, string, []byte, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64,
		float32, float64, time.Time, time.Duration, json.RawMessage, pgtype.InfinityModifier:
		return v, nil
	case pgtype.Interval:
		if !x.Valid {
			return nil, nil
		}
		return x, nil
	case pgtype.Numeric:
		if !x.Valid {
			return nil, nil
		}
		return x, nil
	case pgtype.Timestamptz:
		return validTime(x.Valid, x.InfinityModifier, x.Time), nil
	case pgtype.Timestamp:
		return validTime(x.Valid, x.InfinityModifier, x.Time), nil
	case pgtype.Date:
		return validTime(x.Valid, x.InfinityModifier, x.Time), nil
	case driver.Valuer:
		rv := reflect.ValueOf(v)
		if rv.Kind() == reflect.Pointer && rv.IsNil() {
			return nil, nil
		}
		val, err := x.Value()
		if err != nil {
			return nil, err
		}
		return resolve(val, depth+1)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil, nil
		}
		if _, ok := v.(fmt.Stringer); ok {
			return v, nil // *big.Int and the like print through their pointer methods
		}
		return resolve(rv.Elem().Interface(), depth+1)
	}
	return v, nil
}

func validTime(valid bool, inf pgtype.InfinityModifier, t time.Time) any {
	switch {
	case !valid:
		return nil
	case inf != pgtype.Finite:
		return inf
	default:
		return t
	}
}

// appendText appends the PostgreSQL text output of v for type oid, byte for byte what
// PostgreSQL 15 prints with DateStyle ISO, IntervalStyle postgres and TimeZone UTC.
func (c *codec) appendText(buf []byte, oid uint32, v any) ([]byte, error) {
	out, err := c.appendTextConverted(buf, oid, v)
	if !errors.Is(err, errNoConversion) {
		return out, err
	}
	// An unknown Go type: convert through its text, else send that text as is.
	s := fmt.Sprint(v)
	out, err = c.appendTextConverted(buf, oid, s)
	if err != nil {
		return append(buf, s...), nil
	}
	return out, nil
}

func (c *codec) appendTextConverted(buf []byte, oid uint32, v any) ([]byte, error) {
	switch oid {
	case pgtype.BoolOID:
		b, err := asBool(v)
		if err != nil {
			return buf, err
		}
		if b {
			return append(buf, 't'), nil
		}
		return append(buf, 'f'), nil
	case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
		i, err := asInt(v, oid)
		if err != nil {
			return buf, err
		}
		return strconv.AppendInt(buf, i, 10), nil
	case pgtype.OIDOID, pgtype.XIDOID:
		u, err := asUint32(v, oid)
		if err != nil {
			return buf, err
		}
		return strconv.AppendUint(buf, uint64(u), 10), nil
	case pgtype.Float4OID:
		f, err := asFloat(v, oid)
		if err != nil {
			return buf, err
		}
		return appendFloat(buf, f, 32), nil
	case pgtype.Float8OID:
		f, err := asFloat(v, oid)
		if err != nil {
			return buf, err
		}
		return appendFloat(buf, f, 64), nil
	case pgtype.NumericOID:
		return c.appendNumericText(buf, v)
	case pgtype.TimestamptzOID, pgtype.TimestampOID, pgtype.DateOID:
		t, inf, err := asTime(v, oid)
		if err != nil {
			return buf, err
		}
		switch {
		case inf == pgtype.Infinity:
			return append(buf, "infinity"...), nil
		case inf == pgtype.NegativeInfinity:
			return append(buf, "-infinity"...), nil
		case oid == pgtype.DateOID:
			return appendDate(buf, t), nil
		default:
			return appendTimestamp(buf, t, oid == pgtype.TimestamptzOID), nil
		}
	case pgtype.IntervalOID:
		iv, err := asInterval(v)
		if err != nil {
			return buf, err
		}
		return appendInterval(buf, iv), nil
	case pgtype.ByteaOID:
		b := asBytes(v)
		buf = append(buf, '\\', 'x')
		return hex.AppendEncode(buf, b), nil
	case pgtype.JSONOID, pgtype.JSONBOID:
		return appendJSON(buf, v)
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.UnknownOID, 0:
		return appendTextOf(buf, v), nil
	}
	switch x := v.(type) {
	case string:
		return append(buf, x...), nil
	case []byte:
		return append(buf, x...), nil
	}
	if _, ok := c.types.TypeForOID(oid); ok {
		if out, err := c.encode(oid, textFormat, v, buf); err == nil && out != nil {
			return out, nil
		}
	}
	return appendTextOf(buf, v), nil
}

// appendBinary appends the binary (send) representation of v for type oid.
func (c *codec) appendBinary(buf []byte, oid uint32, v any) ([]byte, error) {
	out, err := c.appendBinaryConverted(buf, oid, v)
	if errors.Is(err, errNoConversion) {
		// An unknown Go type: try its text, which most types parse from.
		out, err = c.appendBinaryConverted(buf, oid, fmt.Sprint(v))
		if err != nil {
			return buf, sqlerr.New(sqlerr.DatatypeMismatch, "cannot encode a value of Go type %T as binary %s", v, typeName(oid))
		}
	}
	return out, err
}

func (c *codec) appendBinaryConverted(buf []byte, oid uint32, v any) ([]byte, error) {
	switch oid {
	case pgtype.BoolOID:
		b, err := asBool(v)
		if err != nil {
			return buf, err
		}
		if b {
			return append(buf, 1), nil
		}
		return append(buf, 0), nil
	case pgtype.Int2OID:
		i, err := asInt(v, oid)
		if err != nil {
			return buf, err
		}
		return binary.BigEndian.AppendUint16(buf, uint16(i)), nil
	case pgtype.Int4OID:
		i, err := asInt(v, oid)
		if err != nil {
			return buf, err
		}
		return binary.BigEndian.AppendUint32(buf, uint32(i)), nil
	case pgtype.Int8OID:
		i, err := asInt(v, oid)
		if err != nil {
			return buf, err
		}
		return binary.BigEndian.AppendUint64(buf, uint64(i)), nil
	case pgtype.Float4OID:
		f, err := asFloat(v, oid)
		if err != nil {
			return buf, err
		}
		return binary.BigEndian.AppendUint32(buf, math.Float32bits(float32(f))), nil
	case pgtype.Float8OID:
		f, err := asFloat(v, oid)
		if err != nil {
			return buf, err
		}
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(f)), nil
	case pgtype.NumericOID:
		n, err := asNumeric(v)
		if err != nil {
			return buf, err
		}
		return c.encode(oid, binaryFormat, n, buf)
	case pgtype.TimestamptzOID, pgtype.TimestampOID:
		t, inf, err := asTime(v, oid)
		if err != nil {
			return buf, err
		}
		var us int64
		switch inf {
		case pgtype.Infinity:
			us = math.MaxInt64
		case pgtype.NegativeInfinity:
			us = math.MinInt64
		default:
			us = timestampMicros(t, oid == pgtype.TimestamptzOID)
		}
		return binary.BigEndian.AppendUint64(buf, uint64(us)), nil
	case pgtype.DateOID:
		t, inf, err := asTime(v, oid)
		if err != nil {
			return buf, err
		}
		var days int32
		switch inf {
		case pgtype.Infinity:
			days = math.MaxInt32
		case pgtype.NegativeInfinity:
			days = math.MinInt32
		default:
			days = int32(floorDiv(wallClockUTC(t).Unix()-pgEpoch.Unix(), 86400))
		}
		return binary.BigEndian.AppendUint32(buf, uint32(days)), nil
	case pgtype.IntervalOID:
		iv, err := asInterval(v)
		if err != nil {
			return buf, err
		}
		buf = binary.BigEndian.AppendUint64(buf, uint64(iv.Microseconds))
		buf = binary.BigEndian.AppendUint32(buf, uint32(iv.Days))
		return binary.BigEndian.AppendUint32(buf, uint32(iv.Months)), nil
	case pgtype.ByteaOID:
		return append(buf, asBytes(v)...), nil
	case pgtype.OIDOID, pgtype.XIDOID:
		u, err := asUint32(v, oid)
		if err != nil {
			return buf, err
		}
		return binary.BigEndian.AppendUint32(buf, u), nil
	case pgtype.QCharOID:
		// "char" is one byte; PostgreSQL's '' is the byte 0.
		if t := appendTextOf(nil, v); len(t) > 0 {
			return append(buf, t[0]), nil
		}
		return append(buf, 0), nil
	case pgtype.JSONBOID:
		return appendJSON(append(buf, 1), v)
	case pgtype.JSONOID:
		return appendJSON(buf, v)
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.UnknownOID:
		return appendTextOf(buf, v), nil
	}
	t, ok := c.types.TypeForOID(oid)
	if !ok {
		return buf, sqlerr.New(sqlerr.FeatureNotSupported, "binary output is not supported for type OID %d", oid)
	}
	if s, isText := v.(string); isText {
		if _, isArray := t.Codec.(*pgtype.ArrayCodec); isArray {
			// An array read comes as PostgreSQL's array text (a DuckDB list, pgArrayText):
			// parsed back into its elements for the binary form.
			var a pgtype.Array[pgtype.Text]
			if err := c.types.Scan(oid, textFormat, []byte(s), &a); err != nil {
				return buf, sqlerr.New(sqlerr.DatatypeMismatch, "cannot encode %q as binary %s: %v", s, typeName(oid), err)
			}
			v = a
		}
	}
	out, err := c.encode(oid, binaryFormat, v, buf)
	if err != nil || out == nil {
		return buf, sqlerr.New(sqlerr.DatatypeMismatch, "cannot encode a value of Go type %T as binary %s", v, typeName(oid))
	}
	return out, nil
}

// asUint32 converts v to an oid or xid: an integer in [0, 2^32).
func asUint32(v any, oid uint32) (uint32, error) {
	i, err := asInt(v, pgtype.Int8OID)
	if err != nil {
		return 0, err
	}
	if i < 0 || i > math.MaxUint32 {
		return 0, sqlerr.New(sqlerr.NumericValueOutOfRange, "OID out of range: %d", i)
	}
	return uint32(i), nil
}

// asInt converts v to an integer in the range of oid (int2, int4 or int8). Floats are
// rounded half to even, as PostgreSQL's float-to-integer casts do.
func asInt(v any, oid uint32) (int64, error) {
	var i int64
	switch x := v.(type) {
	case int:
		i = int64(x)
	case int8:
		i = int64(x)
	case int16:
		i = int64(x)
	case int32:
		i = int64(x)
	case int64:
		i = x
	case uint:
		return uintInRange(uint64(x), oid)
	case uint8:
		i = int64(x)
	case uint16:
		i = int64(x)
	case uint32:
		i = int64(x)
	case uint64:
		return uintInRange(x, oid)
	case float32:
		return floatToInt(float64(x), oid)
	case float64:
		return floatToInt(x, oid)
	case bool:
		if x {
			i = 1
		}
	case string:
		return parseInt(x, oid)
	case []byte:
		return parseInt(string(x), oid)
	case pgtype.Numeric:
		n, err := x.Int64Value()
		if err != nil || !n.Valid {
			return 0, outOfRange(oid)
		}
		i = n.Int64
	default:
		return 0, errNoConversion
	}
	return intInRange(i, oid)
}

func parseInt(s string, oid uint32) (int64, error) {
	s = strings.TrimSpace(s)
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, outOfRange(oid)
		}
		return 0, invalidInput(oid, s)
	}
	return intInRange(i, oid)
}

func intInRange(i int64, oid uint32) (int64, error) {
	switch oid {
	case pgtype.Int2OID:
		if i < math.MinInt16 || i > math.MaxInt16 {
			return 0, outOfRange(oid)
		}
	case pgtype.Int4OID:
		if i < math.MinInt32 || i > math.MaxInt32 {
			return 0, outOfRange(oid)
		}
	}
	return i, nil
}

func uintInRange(u uint64, oid uint32) (int64, error) {
	if u > math.MaxInt64 {
		return 0, outOfRange(oid)
	}
	return intInRange(int64(u), oid)
}

func floatToInt(f float64, oid uint32) (int64, error) {
	f = math.RoundToEven(f)
	if math.IsNaN(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, outOfRange(oid)
	}
	return intInRange(int64(f), oid)
}

// asFloat converts v to a float64 for a float4 or float8 column.
func asFloat(v any, oid uint32) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int8:
		return float64(x), nil
	case int16:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint:
		return float64(x), nil
	case uint8:
		return float64(x), nil
	case uint16:
		return float64(x), nil
	case uint32:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case string:
		return parseFloat(x, oid)
	case []byte:
		return parseFloat(string(x), oid)
	case pgtype.Numeric:
		f, err := x.Float64Value()
		if err != nil {
			return 0, invalidInput(oid, fmt.Sprint(x))
		}
		return f.Float64, nil
	default:
		return 0, errNoConversion
	}
}

func parseFloat(s string, oid uint32) (float64, error) {
	s = strings.TrimSpace(s)
	bits := 64
	if oid == pgtype.Float4OID {
		bits = 32
	}
	f, err := strconv.ParseFloat(s, bits)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, sqlerr.New(sqlerr.NumericValueOutOfRange, "%q is out of range for type %s", s, typeName(oid))
		}
		return 0, invalidInput(oid, s)
	}
	return f, nil
}

// appendFloat appends f as PostgreSQL 12+ prints float4 (bits 32) and float8 (bits 64)
// with extra_float_digits = 1: the shortest text that reads back exactly, in fixed
// notation when the decimal exponent is in [-4, 6) for float4 or [-4, 15) for float8 and
// in exponent notation otherwise (1e+20, 1e-05), NaN, Infinity and -Infinity.
func appendFloat(buf []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(f, -1):
		return append(buf, "-Infinity"...)
	}
	if bits == 32 {
		f = float64(float32(f))
	}
	maxExp := 15
	if bits == 32 {
		maxExp = 6
	}
	start := len(buf)
	buf = strconv.AppendFloat(buf, f, 'e', -1, bits)
	e := strings.LastIndexByte(string(buf[start:]), 'e')
	exp, _ := strconv.Atoi(string(buf[start+e+1:]))
	if exp < -4 || exp >= maxExp {
		return buf
	}
	return strconv.AppendFloat(buf[:start], f, 'f', -1, bits)
}

func asBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		return parseBool(x)
	case []byte:
		return parseBool(string(x))
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		i, err := asInt(x, pgtype.Int8OID)
		if err != nil {
			return false, err
		}
		return i != 0, nil
	default:
		return false, errNoConversion
	}
}

// parseBool accepts PostgreSQL's boolean input spellings.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "y", "yes", "on", "1":
		return true, nil
	case "f", "false", "n", "no", "off", "0":
		return false, nil
	}
	return false, invalidInput(pgtype.BoolOID, s)
}

// appendNumericText appends v as numeric text. Plain decimal strings pass through
// unchanged so that their scale survives ("12.50").
func (c *codec) appendNumericText(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		if isPlainDecimal(x) {
			return append(buf, x...), nil
		}
	case int, int8, int16, int32, int64, uint8, uint16, uint32:
		i, _ := asInt(x, pgtype.Int8OID)
		return strconv.AppendInt(buf, i, 10), nil
	case uint:
		return strconv.AppendUint(buf, uint64(x), 10), nil
	case uint64:
		return strconv.AppendUint(buf, x, 10), nil
	case float64:
		return appendNumericFloat(buf, x, 64), nil
	case float32:
		return appendNumericFloat(buf, float64(x), 32), nil
	}
	n, err := asNumeric(v)
	if err != nil {
		return buf, err
	}
	return c.encode(pgtype.NumericOID, textFormat, n, buf)
}

func appendNumericFloat(buf []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(f, -1):
		return append(buf, "-Infinity"...)
	}
	return strconv.AppendFloat(buf, f, 'f', -1, bits)
}

// asNumeric converts v to a pgtype.Numeric.
func asNumeric(v any) (pgtype.Numeric, error) {
	switch x := v.(type) {
	case pgtype.Numeric:
		return x, nil
	case int, int8, int16, int32, int64, uint8, uint16, uint32:
		i, _ := asInt(x, pgtype.Int8OID)
		return pgtype.Numeric{Int: big.NewInt(i), Valid: true}, nil
	case uint:
		return pgtype.Numeric{Int: new(big.Int).SetUint64(uint64(x)), Valid: true}, nil
	case uint64:
		return pgtype.Numeric{Int: new(big.Int).SetUint64(x), Valid: true}, nil
	case float64:
		return parseNumeric(string(appendNumericFloat(nil, x, 64)))
	case float32:
		return parseNumeric(string(appendNumericFloat(nil, float64(x), 32)))
	case string:
		return parseNumeric(x)
	case []byte:
		return parseNumeric(string(x))
	case *big.Int:
		return pgtype.Numeric{Int: new(big.Int).Set(x), Valid: true}, nil
	case *big.Float:
		return parseNumeric(x.Text('f', -1))
	default:
		return pgtype.Numeric{}, errNoConversion
	}
}

// parseNumeric parses PostgreSQL numeric input: an optionally signed decimal with an
// optional exponent, NaN, or [+-]Infinity.
func parseNumeric(s string) (pgtype.Numeric, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "nan":
		return pgtype.Numeric{NaN: true, Valid: true}, nil
	case "infinity", "+infinity", "inf", "+inf":
		return pgtype.Numeric{InfinityModifier: pgtype.Infinity, Valid: true}, nil
	case "-infinity", "-inf":
		return pgtype.Numeric{InfinityModifier: pgtype.NegativeInfinity, Valid: true}, nil
	}
	mant, exp := t, int64(0)
	if i := strings.IndexAny(t, "eE"); i >= 0 {
		e, err := strconv.ParseInt(t[i+1:], 10, 32)
		if err != nil {
			return pgtype.Numeric{}, invalidInput(pgtype.NumericOID, s)
		}
		mant, exp = t[:i], e
	}
	if !isPlainDecimal(mant) {
		return pgtype.Numeric{}, invalidInput(pgtype.NumericOID, s)
	}
	digits := mant
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		digits = mant[:i] + mant[i+1:]
		exp -= int64(len(mant) - i - 1)
	}
	// PostgreSQL's limits: 131072 digits before the decimal point, 16383 after. They also
	// keep a tiny input ("1e999999999") from expanding into a huge text.
	if int64(len(digits))+exp > 131072 || exp < -16383 {
		return pgtype.Numeric{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "value overflows numeric format")
	}
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return pgtype.Numeric{}, invalidInput(pgtype.NumericOID, s)
	}
	return pgtype.Numeric{Int: n, Exp: int32(exp), Valid: true}, nil
}

// isPlainDecimal reports whether s is [+-]digits[.digits] with at least one digit.
func isPlainDecimal(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] >= '0' && s[i] <= '9':
			digits++
		case s[i] == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// asTime converts v for a timestamptz, timestamp or date column.
func asTime(v any, oid uint32) (time.Time, pgtype.InfinityModifier, error) {
	switch x := v.(type) {
	case time.Time:
		return x, pgtype.Finite, nil
	case pgtype.InfinityModifier:
		return time.Time{}, x, nil
	case string:
		return parseTime(x, oid)
	case []byte:
		return parseTime(string(x), oid)
	default:
		return time.Time{}, pgtype.Finite, errNoConversion
	}
}

// timeLayouts are the layouts parseTime tries after pgtype's PostgreSQL parser.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999-07",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02",
}

// parseTime parses timestamp and date text as PostgreSQL prints and clients send it.
// A timestamptz without an offset is read as UTC (the session time zone).
func parseTime(s string, oid uint32) (time.Time, pgtype.InfinityModifier, error) {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "infinity", "+infinity":
		return time.Time{}, pgtype.Infinity, nil
	case "-infinity":
		return time.Time{}, pgtype.NegativeInfinity, nil
	}
	var tz pgtype.Timestamptz
	if err := tz.Scan(s); err == nil && tz.Valid {
		return tz.Time.UTC(), pgtype.Finite, nil
	}
	var ts pgtype.Timestamp
	if err := ts.Scan(s); err == nil && ts.Valid {
		return ts.Time, pgtype.Finite, nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, pgtype.Finite, nil
		}
	}
	return time.Time{}, pgtype.Finite, invalidInput(oid, s)
}

// timestampMicros is t as binary timestamptz and timestamp count it: microseconds since
// PostgreSQL's epoch of t's instant (withZone) or of its wall clock read as UTC,
// rounded to the microsecond.
func timestampMicros(t time.Time, withZone bool) int64 {
	if !withZone {
		t = wallClockUTC(t)
	}
	t = t.Round(time.Microsecond)
	return t.Unix()*1_000_000 + int64(t.Nanosecond()/1000) - pgEpoch.Unix()*1_000_000
}

// wallClockUTC returns t's wall-clock reading as a UTC time: timestamp without time zone
// and date ignore the location.
func wallClockUTC(t time.Time) time.Time {
	if t.Location() == time.UTC {
		return t // the wall clock is the instant; DuckDB's values are in UTC
	}
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC)
}

// appendTimestamp appends t as PostgreSQL prints timestamptz (withZone, in UTC:
// 2026-01-01 12:00:00.5+00) or timestamp (the wall clock: 2026-01-01 12:00:00).
// Fractional seconds are rounded to microseconds and trailing zeros dropped.
func appendTimestamp(buf []byte, t time.Time, withZone bool) []byte {
	if withZone {
		t = t.UTC()
	} else {
		t = wallClockUTC(t)
	}
	t = t.Round(time.Microsecond)
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	bc := year <= 0
	if bc {
		year = 1 - year
	}
	if year < 10000 {
		buf = append(buf, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10))
	} else {
		buf = strconv.AppendInt(buf, int64(year), 10)
	}
	buf = append(buf, '-', byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10),
		' ', byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10),
		':', byte('0'+sec/10), byte('0'+sec%10))
	buf = appendFraction(buf, int64(t.Nanosecond()/1000))
	if withZone {
		buf = append(buf, "+00"...)
	}
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

// appendDate appends t's wall-clock date as PostgreSQL prints a date (2026-01-01).
func appendDate(buf []byte, t time.Time) []byte {
	year, bc := t.Year(), false
	if year <= 0 {
		year, bc = 1-year, true
	}
	buf = appendPadded(buf, year, 4)
	buf = append(buf, '-')
	buf = appendPadded(buf, int(t.Month()), 2)
	buf = append(buf, '-')
	buf = appendPadded(buf, t.Day(), 2)
	if bc {
		buf = append(buf, " BC"...)
	}
	return buf
}

// appendFraction appends ".ffffff" for us microseconds with trailing zeros trimmed, or
// nothing when us is zero.
func appendFraction(buf []byte, us int64) []byte {
	if us == 0 {
		return buf
	}
	var d [7]byte
	d[0] = '.'
	for i := 6; i >= 1; i-- {
		d[i] = byte('0' + us%10)
		us /= 10
	}
	n := 7
	for d[n-1] == '0' {
		n--
	}
	return append(buf, d[:n]...)
}

// appendPadded appends the non-negative v in decimal, zero-padded to width digits.
func appendPadded(buf []byte, v, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(v), 10)
	for n := len(s); n < width; n++ {
		buf = append(buf, '0')
	}
	return append(buf, s...)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func asInterval(v any) (pgtype.Interval, error) {
	switch x := v.(type) {
	case pgtype.Interval:
		return x, nil
	case time.Duration:
		return pgtype.Interval{Microseconds: x.Round(time.Microsecond).Microseconds(), Valid: true}, nil
	case string:
		return parseInterval(x)
	case []byte:
		return parseInterval(string(x))
	default:
		return pgtype.Interval{}, errNoConversion
	}
}

// parseInterval reads interval input text as PostgreSQL does (internal/interval).
func parseInterval(s string) (pgtype.Interval, error) {
	iv, err := interval.Parse(s)
	if err != nil {
		return pgtype.Interval{}, err
	}
	return pgtype.Interval{Months: iv.Months, Days: iv.Days, Microseconds: iv.Micros, Valid: true}, nil
}

// appendInterval appends iv in IntervalStyle postgres: "1 year 2 mons -3 days +04:05:06.5".
func appendInterval(buf []byte, iv pgtype.Interval) []byte {
	return interval.Interval{Months: iv.Months, Days: iv.Days, Micros: iv.Microseconds}.Append(buf)
}

func asBytes(v any) []byte {
	switch x := v.(type) {
	case []byte:
		return x
	case string:
		return []byte(x)
	default:
		return appendTextOf(nil, v)
	}
}

// appendJSON appends v as JSON text: strings and byte slices are taken as JSON already,
// anything else is marshalled.
func appendJSON(buf []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return append(buf, x...), nil
	case []byte:
		return append(buf, x...), nil
	case json.RawMessage:
		return append(buf, x...), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return buf, sqlerr.Wrap(err, sqlerr.InvalidTextRepresentation, "encoding json")
	}
	return append(buf, b...), nil
}

// appendTextOf appends v as text for a text-typed column, using PostgreSQL's output for
// the Go types the engine produces and fmt.Sprint for any other.
func appendTextOf(buf []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return append(buf, x...)
	case []byte:
		return append(buf, x...)
	case bool:
		if x {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	case int:
		return strconv.AppendInt(buf, int64(x), 10)
	case int8:
		return strconv.AppendInt(buf, int64(x), 10)
	case int16:
		return strconv.AppendInt(buf, int64(x), 10)
	case int32:
		return strconv.AppendInt(buf, int64(x), 10)
	case int64:
		return strconv.AppendInt(buf, x, 10)
	case uint:
		return strconv.AppendUint(buf, uint64(x), 10)
	case uint8:
		return strconv.AppendUint(buf, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(buf, uint64(x), 10)
	case uint32:
		return strconv.AppendUint(buf, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(buf, x, 10)
	case float32:
		return appendFloat(buf, float64(x), 32)
	case float64:
		return appendFloat(buf, x, 64)
	case time.Time:
		return appendTimestamp(buf, x, true)
	case time.Duration:
		iv, _ := asInterval(x)
		return appendInterval(buf, iv)
	case pgtype.Interval:
		return appendInterval(buf, x)
	case pgtype.InfinityModifier:
		if x == pgtype.NegativeInfinity {
			return append(buf, "-infinity"...)
		}
		return append(buf, "infinity"...)
	case pgtype.Numeric:
		if b, err := encodeNumeric(x); err == nil {
			return append(buf, b...)
		}
	}
	return fmt.Append(buf, v)
}

func encodeNumeric(n pgtype.Numeric) ([]byte, error) {
	v, err := n.Value()
	if err != nil {
		return nil, err
	}
	s, _ := v.(string)
	return []byte(s), nil
}

// typeName is the SQL name of a type OID, for error messages.
func typeName(oid uint32) string {
	switch oid {
	case pgtype.BoolOID:
		return "boolean"
	case pgtype.Int2OID:
		return "smallint"
	case pgtype.Int4OID:
		return "integer"
	case pgtype.Int8OID:
		return "bigint"
	case pgtype.Float4OID:
		return "real"
	case pgtype.Float8OID:
		return "double precision"
	case pgtype.NumericOID:
		return "numeric"
	case pgtype.TextOID:
		return "text"
	case pgtype.VarcharOID:
		return "character varying"
	case pgtype.BPCharOID:
		return "character"
	case pgtype.TimestamptzOID:
		return "timestamp with time zone"
	case pgtype.TimestampOID:
		return "timestamp without time zone"
	case pgtype.DateOID:
		return "date"
	case pgtype.IntervalOID:
		return "interval"
	case pgtype.ByteaOID:
		return "bytea"
	case pgtype.JSONOID:
		return "json"
	case pgtype.JSONBOID:
		return "jsonb"
	case pgtype.UUIDOID:
		return "uuid"
	}
	return "type OID " + strconv.FormatUint(uint64(oid), 10)
}

// typeSize is pg_type.typlen for the types Weir emits, -1 (variable) otherwise. It fills
// RowDescription when the engine leaves Column.TypeSize zero.
func typeSize(oid uint32) int16 {
	switch oid {
	case pgtype.BoolOID:
		return 1
	case pgtype.Int2OID:
		return 2
	case pgtype.Int4OID, pgtype.Float4OID, pgtype.DateOID:
		return 4
	case pgtype.Int8OID, pgtype.Float8OID, pgtype.TimestamptzOID, pgtype.TimestampOID:
		return 8
	case pgtype.IntervalOID, pgtype.UUIDOID:
		return 16
	}
	return -1
}

func invalidInput(oid uint32, s string) error {
	return sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type %s: %q", typeName(oid), s)
}

func outOfRange(oid uint32) error {
	return sqlerr.New(sqlerr.NumericValueOutOfRange, "%s out of range", typeName(oid))
}
