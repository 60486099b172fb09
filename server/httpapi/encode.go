package httpapi

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/pgcopy"
)

// rowEncoder renders rows of one relation's columns for the wire: as JSON objects keyed
// by column name in column order (reads, SSE, webhooks), or as PostgreSQL's CSV (the
// bytes COPY … TO STDOUT (FORMAT csv) writes).
type rowEncoder struct {
	cols []catalog.Column
	keys [][]byte // `"name":` per column
	csv  pgcopy.Options
}

func newRowEncoder(cols []catalog.Column) *rowEncoder {
	e := &rowEncoder{cols: cols, keys: make([][]byte, len(cols)), csv: pgcopy.Defaults(pgcopy.CSV)}
	for i, c := range cols {
		e.keys[i] = append(appendJSONString(nil, c.Name), ':')
	}
	return e
}

// appendJSON appends row r of b as a JSON object. Integers, floats and booleans are JSON
// numbers and booleans; timestamps are RFC 3339 strings in UTC; jsonb is the JSON value
// itself; numeric (exact), dates, intervals, text and non-finite floats are strings in
// PostgreSQL's text form.
func (e *rowEncoder) appendJSON(dst []byte, b *delta.Batch, r int) []byte {
	dst = append(dst, '{')
	for c, col := range e.cols {
		if c > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, e.keys[c]...)
		dst = appendValueJSON(dst, b.Cols[c].Get(r), col.Type)
	}
	return append(dst, '}')
}

// appendCSVHeader appends the CSV header line: the column names.
func (e *rowEncoder) appendCSVHeader(dst []byte) []byte {
	for c, col := range e.cols {
		if c > 0 {
			dst = append(dst, e.csv.Delimiter)
		}
		dst = e.csv.AppendField(dst, []byte(col.Name), -1, len(e.cols) == 1)
	}
	return append(dst, '\n')
}

// appendCSV appends row r of b as a CSV line of PostgreSQL text forms (textOut); NULL is
// an empty unquoted field and the empty string a quoted one, as COPY writes them.
func (e *rowEncoder) appendCSV(dst []byte, b *delta.Batch, r int) []byte {
	for c, col := range e.cols {
		if c > 0 {
			dst = append(dst, e.csv.Delimiter)
		}
		v := b.Cols[c].Get(r)
		if v.Null {
			dst = e.csv.AppendNull(dst)
			continue
		}
		dst = e.csv.AppendField(dst, []byte(textOut(v, col.Type)), c, len(e.cols) == 1)
	}
	return append(dst, '\n')
}

// textOut is v's PostgreSQL text output (what COPY and the wire's text format send):
// expr.Format's, except that boolean is t or f as boolout writes it.
func textOut(v delta.Value, t catalog.Type) string {
	if t == catalog.Bool {
		if v.B {
			return "t"
		}
		return "f"
	}
	return expr.Format(v, t)
}

func appendValueJSON(dst []byte, v delta.Value, t catalog.Type) []byte {
	if v.Null {
		return append(dst, "null"...)
	}
	switch t {
	case catalog.Timestamp, catalog.Timestamptz:
		return appendJSONString(dst, time.UnixMicro(v.I).UTC().Format(time.RFC3339Nano))
	case catalog.Date, catalog.Interval:
		return appendJSONString(dst, expr.Format(v, t))
	case catalog.Jsonb:
		return append(dst, v.S...)
	}
	switch v.Kind {
	case delta.KindInt:
		return strconv.AppendInt(dst, v.I, 10)
	case delta.KindFloat:
		if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
			return appendJSONString(dst, expr.Format(v, t))
		}
		bits := 64
		if t == catalog.Float4 {
			bits = 32
		}
		return appendFloat(dst, v.F, bits)
	case delta.KindBool:
		return strconv.AppendBool(dst, v.B)
	}
	return appendJSONString(dst, v.S)
}

// appendFloat formats a finite float as encoding/json does (ES6 number formatting).
func appendFloat(dst []byte, f float64, bits int) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
