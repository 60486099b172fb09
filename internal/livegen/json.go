package livegen

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends row as a JSON object of s's columns, the form POST
// /v1/sources/{name}/events takes: integers as numbers, text as strings, timestamps as
// RFC 3339 strings in UTC with microseconds.
func AppendJSON(dst []byte, s Schema, row []any) []byte {
	dst = append(dst, '{')
	for i, c := range s.Columns {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, c.Name)
		dst = append(dst, ':')
		switch v := row[i].(type) {
		case nil:
			dst = append(dst, "null"...)
		case int64:
			dst = strconv.AppendInt(dst, v, 10)
		case string:
			dst = appendJSONString(dst, v)
		case time.Time:
			dst = append(dst, '"')
			dst = v.UTC().AppendFormat(dst, "2006-01-02T15:04:05.999999Z07:00")
			dst = append(dst, '"')
		}
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}
