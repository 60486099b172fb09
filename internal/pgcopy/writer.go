package pgcopy

// AppendField appends one non-NULL value of column col, already rendered in its type's
// text output form, to a COPY TO row in the text or CSV format of o. only says whether
// the row has a single column (CSV then quotes a lone `\.`). Fields are separated by
// o.Delimiter, which the caller writes; rows end with '\n'.
func (o *Options) AppendField(dst, v []byte, col int, only bool) []byte {
	if o.Format == CSV {
		return o.appendCSV(dst, v, flag(o.ForceQuote, col), only)
	}
	return o.appendText(dst, v)
}

// appendText escapes v as PostgreSQL's CopyAttributeOutText does: backslash, the
// delimiter and \b \f \n \r \t \v get a backslash; other bytes are copied.
func (o *Options) appendText(dst, v []byte) []byte {
	delim := o.Delimiter
	start := 0
	for i, c := range v {
		var esc byte
		switch {
		case c < 0x20:
			// Control characters first: a tab delimiter is written \t.
			switch c {
			case '\b':
				esc = 'b'
			case '\f':
				esc = 'f'
			case '\n':
				esc = 'n'
			case '\r':
				esc = 'r'
			case '\t':
				esc = 't'
			case '\v':
				esc = 'v'
			default:
				if c != delim {
					continue
				}
				esc = c
			}
		case c == '\\' || c == delim:
			esc = c
		default:
			continue
		}
		dst = append(dst, v[start:i]...)
		dst = append(dst, '\\', esc)
		start = i + 1
	}
	return append(dst, v[start:]...)
}

// appendCSV quotes v as PostgreSQL's CopyAttributeOutCSV does: when forced, when it
// equals the null string, when it holds the delimiter, quote, escape, CR or LF, or when
// it is `\.` alone on its line; inside quotes the quote and escape bytes are escaped.
func (o *Options) appendCSV(dst, v []byte, force, only bool) []byte {
	quote := force || string(v) == o.Null || (only && string(v) == `\.`)
	if !quote {
		for _, c := range v {
			if c == o.Delimiter || c == o.Quote || c == o.Escape || c == '\n' || c == '\r' {
				quote = true
				break
			}
		}
	}
	if !quote {
		return append(dst, v...)
	}
	dst = append(dst, o.Quote)
	start := 0
	for i, c := range v {
		if c == o.Quote || c == o.Escape {
			dst = append(dst, v[start:i]...)
			dst = append(dst, o.Escape)
			start = i
		}
	}
	dst = append(dst, v[start:]...)
	return append(dst, o.Quote)
}

// AppendNull appends the NULL marker of o.
func (o *Options) AppendNull(dst []byte) []byte { return append(dst, o.Null...) }
