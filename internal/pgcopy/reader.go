package pgcopy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/weirdb/weir/internal/sqlerr"
)

// readSize is how much a Reader asks its source for at a time; the wire delivers
// CopyData messages of up to 64 KiB (pgx, libpq).
const readSize = 64 << 10

// binarySignature opens every binary COPY stream.
var binarySignature = []byte("PGCOPY\n\xff\r\n\x00")

type eolType uint8

const (
	eolUnknown eolType = iota
	eolNL
	eolCR
	eolCRNL
)

// Reader reads the rows of COPY FROM data in one format. It reads its source in large
// pieces and returns fields that point into its own buffers, so a row costs no
// allocation once the buffers have grown to the longest line.
//
// A Reader stops at the end of its source, at the end-of-data marker (`\.` in text and
// CSV, the trailer in binary), or at the first error. After an end marker it reads the
// source to its end, discarding the rest, as PostgreSQL does, so that an error the source
// reports there (the client's CopyFail) is not lost.
type Reader struct {
	src   io.Reader
	opts  Options
	names []string // the columns' names, for HeaderMatch

	buf      []byte // buf[pos:end] is read and not yet consumed
	pos, end int
	srcEOF   bool

	started bool // the header or binary signature is behind us
	done    bool
	err     error

	field  int // binary: the field being read when an error came, -1 if none
	eol    eolType
	last   bool   // the end-of-data marker was read; tail may hold a last line
	tail   []byte // the values before a text `\.`, kept while the rest is drained
	lineNo int64
	line   []byte // text and CSV: the current line without its end of line; nil when invalid
	fields [][]byte
	spans  []span
	attr   []byte // de-escaped field bytes (text and CSV)
}

// NewReader returns a Reader of src in the format opts describes. names are the names
// of the COPY's columns, in order: HEADER MATCH checks them, and binary rows must have
// that many fields.
func NewReader(src io.Reader, opts Options, names []string) *Reader {
	return &Reader{src: src, opts: opts, names: names, buf: make([]byte, readSize), attr: make([]byte, 0, 256), field: -1}
}

// Next advances to the next row. It returns false at the end of the data or on an
// error, which Err then returns.
func (r *Reader) Next() bool {
	if r.done || r.err != nil {
		return false
	}
	if !r.started {
		r.started = true
		if err := r.start(); err != nil {
			r.err = err
			return false
		}
		if r.done {
			return false
		}
	}
	var ok bool
	var err error
	if r.opts.Format == Binary {
		ok, err = r.nextBinary()
	} else {
		ok, err = r.nextText()
	}
	if err != nil {
		r.err = err
		return false
	}
	if !ok {
		r.done = true
	}
	return ok
}

// Fields returns the current row's fields in order, nil for a NULL. Text and CSV fields
// are de-escaped; binary fields are the raw bytes of the value. They are valid until the
// next call to Next.
func (r *Reader) Fields() [][]byte { return r.fields }

// Line is the number of the current line (text and CSV, counting a header and the
// newlines inside quoted CSV values, as PostgreSQL does) or row (binary), from 1.
func (r *Reader) Line() int64 { return r.lineNo }

// Raw returns the current line as read, for error context; nil for binary data and
// when the error came before the line was whole (PostgreSQL then names the line number
// only). Valid until the next call to Next.
func (r *Reader) Raw() []byte { return r.line }

// Field is the index of the binary field whose length or bytes were being read when
// Next failed, or -1: PostgreSQL names that column in the error's context.
func (r *Reader) Field() int { return r.field }

// Err returns the error that stopped Next: a format error (*sqlerr.Error), or the
// source's error as it was returned.
func (r *Reader) Err() error { return r.err }

// start reads the binary header or the header line.
func (r *Reader) start() error {
	if r.opts.Format == Binary {
		return r.binaryHeader()
	}
	if r.opts.Header == NoHeader {
		return nil
	}
	ok, err := r.readLine()
	if err != nil || !ok {
		if !ok {
			r.done = true
		}
		return err
	}
	if r.opts.Header != HeaderMatch {
		return nil
	}
	if err := r.splitLine(); err != nil {
		return err
	}
	if len(r.fields) != len(r.names) {
		return sqlerr.New(sqlerr.BadCopyFileFormat, "wrong number of fields in header line: got %d, expected %d", len(r.fields), len(r.names))
	}
	for i, f := range r.fields {
		switch {
		case f == nil:
			return sqlerr.New(sqlerr.BadCopyFileFormat, "column name mismatch in header line field %d: got null value (\"%s\"), expected \"%s\"", i+1, r.opts.Null, r.names[i])
		case string(f) != r.names[i]:
			return sqlerr.New(sqlerr.BadCopyFileFormat, "column name mismatch in header line field %d: got \"%s\", expected \"%s\"", i+1, f, r.names[i])
		}
	}
	return nil
}

// fill reads more of the source into buf after end, first moving the unconsumed bytes
// from keep on to the front (growing buf when it is full). It returns how far the bytes
// moved, so the caller can rebase its offsets, and whether any byte was added; at the
// end of the source it returns false and sets srcEOF. A source error is returned as is.
func (r *Reader) fill(keep int) (shift int, added bool, err error) {
	if r.srcEOF {
		return 0, false, nil
	}
	if keep > 0 {
		copy(r.buf, r.buf[keep:r.end])
		r.end -= keep
		r.pos -= keep
		shift = keep
	}
	if len(r.buf)-r.end < readSize/2 {
		grown := make([]byte, 2*len(r.buf))
		copy(grown, r.buf[:r.end])
		r.buf = grown
	}
	for {
		n, err := r.src.Read(r.buf[r.end:])
		r.end += n
		if errors.Is(err, io.EOF) {
			r.srcEOF = true
			return shift, n > 0, nil
		}
		if err != nil {
			return shift, n > 0, err
		}
		if n > 0 {
			return shift, true, nil
		}
	}
}

// drain reads the source to its end after an end-of-data marker.
func (r *Reader) drain() error {
	r.pos = r.end
	for !r.srcEOF {
		r.pos, r.end = 0, 0
		if _, _, err := r.fill(0); err != nil {
			return err
		}
	}
	return nil
}

// nextText reads and splits the next text or CSV line.
func (r *Reader) nextText() (bool, error) {
	ok, err := r.readLine()
	if err != nil || !ok {
		return false, err
	}
	return true, r.splitLine()
}

func (r *Reader) splitLine() error {
	if r.opts.Format == CSV {
		return r.splitCSV()
	}
	return r.splitText()
}

// readLine reads the next line into r.line, as PostgreSQL's CopyReadLineText does: the
// first line's ending (LF, CR or CRLF) sets the style every later line must keep;
// text-format backslashes escape the next byte, end-of-line included; quoted CSV values
// may hold line breaks; `\.` ends the data. It returns false at the end of the data.
func (r *Reader) readLine() (bool, error) {
	if r.last {
		return false, nil
	}
	r.lineNo++
	r.line = nil
	csv := r.opts.Format == CSV
	quote, escape := r.opts.Quote, r.opts.Escape
	// An escape that is the quote itself needs no special handling: the quote toggles.
	hasEscape := escape != quote
	start, i := r.pos, r.pos
	inQuote, lastWasEsc := false, false
	// more makes the byte at i available, refilling as needed; it returns false at the
	// end of the data.
	more := func() (bool, error) {
		for i >= r.end {
			shift, added, err := r.fill(start)
			start -= shift
			i -= shift
			if err != nil {
				return false, err
			}
			if !added && r.srcEOF {
				return false, nil
			}
		}
		return true, nil
	}
	for {
		// Skip the bytes that need no attention.
		if b := r.buf[:r.end]; csv {
			j := i
			for j < len(b) {
				c := b[j]
				if c == quote || (hasEscape && c == escape) || c == '\n' || c == '\r' || (c == '\\' && j == start) {
					break
				}
				j++
			}
			if j > i {
				lastWasEsc = false
				i = j
			}
		} else {
			for i < len(b) {
				c := b[i]
				if c == '\n' || c == '\r' || c == '\\' {
					break
				}
				i++
			}
		}
		ok, err := more()
		if err != nil {
			return false, err
		}
		if !ok {
			// The end of the data: the last line may lack its end of line.
			r.pos = i
			if i == start {
				return false, nil
			}
			return true, r.setLine(start, i)
		}
		c := r.buf[i]
		i++
		if csv {
			// An escape counts only inside quotes and right before a quote, and not as
			// the second of an escape-escape pair.
			if hasEscape && inQuote && c == escape {
				lastWasEsc = !lastWasEsc
			}
			if c == quote && !lastWasEsc {
				inQuote = !inQuote
			}
			if !hasEscape || c != escape {
				lastWasEsc = false
			}
			if inQuote && ((r.eol == eolNL && c == '\n') || (r.eol != eolNL && c == '\r')) {
				r.lineNo++ // PostgreSQL counts the physical lines of quoted values
			}
		}
		switch {
		case c == '\r' && !inQuote:
			end := i - 1 - start // relative: more() may move the line
			if r.eol == eolUnknown || r.eol == eolCRNL {
				ok, err := more()
				if err != nil {
					return false, err
				}
				switch {
				case ok && r.buf[i] == '\n':
					i++
					r.eol = eolCRNL
				case r.eol == eolCRNL:
					return false, r.literalCR()
				default:
					r.eol = eolCR
				}
			} else if r.eol == eolNL {
				return false, r.literalCR()
			}
			r.pos = i
			return true, r.setLine(start, start+end)
		case c == '\n' && !inQuote:
			if r.eol == eolCR || r.eol == eolCRNL {
				if csv {
					return false, sqlerr.New(sqlerr.BadCopyFileFormat, "unquoted newline found in data").WithHint("Use quoted CSV field to represent newline.")
				}
				return false, sqlerr.New(sqlerr.BadCopyFileFormat, "literal newline found in data").WithHint(`Use "\n" to represent newline.`)
			}
			r.eol = eolNL
			r.pos = i
			return true, r.setLine(start, i-1)
		case c == '\\' && (!csv || i-1 == start):
			backslash := i - 1 - start // relative: more() may move the line
			ok, err := more()
			if err != nil {
				return false, err
			}
			if !ok {
				continue // the end of the data follows
			}
			if r.buf[i] != '.' {
				if !csv {
					i++ // in text, a backslash escapes whatever follows, a line break too
				}
				continue
			}
			end, err := r.endMarker(&i, more)
			if err != nil {
				return false, err
			}
			if !end {
				i = start + backslash + 1 // CSV: `\.` not alone on its line is data
				continue
			}
			// The data ends here, but a text line may hold values before its `\.`:
			// PostgreSQL reads them as the last line.
			r.last = true
			r.tail = append(r.tail[:0], r.buf[start:start+backslash]...)
			if err := r.drain(); err != nil {
				return false, err
			}
			if len(r.tail) == 0 {
				return false, nil
			}
			if err := checkUTF8(r.tail); err != nil {
				return false, err
			}
			r.line = r.tail
			return true, nil
		}
	}
}

// endMarker checks the `\.` at *i (pointing at the '.') as PostgreSQL does: it must be
// followed by the line ending in use. It returns true for a proper marker; in CSV a
// malformed one is data (false), in text it is an error.
func (r *Reader) endMarker(i *int, more func() (bool, error)) (bool, error) {
	csv := r.opts.Format == CSV
	*i++ // the '.'
	next := func() (byte, error) {
		ok, err := more()
		if err != nil || !ok {
			return 0, err // the end of the data reads as NUL, as in PostgreSQL
		}
		c := r.buf[*i]
		*i++
		return c, nil
	}
	corrupt := func() (bool, error) {
		if csv {
			return false, nil
		}
		return false, sqlerr.New(sqlerr.BadCopyFileFormat, "end-of-copy marker corrupt")
	}
	styleMismatch := sqlerr.New(sqlerr.BadCopyFileFormat, "end-of-copy marker does not match previous newline style")
	if r.eol == eolCRNL {
		c2, err := next()
		if err != nil {
			return false, err
		}
		if c2 == '\n' {
			if csv {
				return false, nil
			}
			return false, styleMismatch
		}
		if c2 != '\r' {
			return corrupt()
		}
	}
	c2, err := next()
	if err != nil {
		return false, err
	}
	if c2 != '\r' && c2 != '\n' {
		return corrupt()
	}
	if (r.eol == eolNL && c2 != '\n') || (r.eol == eolCRNL && c2 != '\n') || (r.eol == eolCR && c2 != '\r') {
		return false, styleMismatch
	}
	return true, nil
}

func (r *Reader) literalCR() error {
	if r.opts.Format == CSV {
		return sqlerr.New(sqlerr.BadCopyFileFormat, "unquoted carriage return found in data").WithHint("Use quoted CSV field to represent carriage return.")
	}
	return sqlerr.New(sqlerr.BadCopyFileFormat, "literal carriage return found in data").WithHint(`Use "\r" to represent carriage return.`)
}

// setLine makes buf[start:end] the current line after checking that it is UTF-8, as
// PostgreSQL verifies its input before it splits lines.
func (r *Reader) setLine(start, end int) error {
	line := r.buf[start:end]
	if err := checkUTF8(line); err != nil {
		return err
	}
	r.line = line
	return nil
}

// checkUTF8 returns PostgreSQL's error for the first invalid UTF-8 sequence of b, if any.
func checkUTF8(b []byte) error {
	if utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 {
		return nil
	}
	for i := 0; i < len(b); {
		if b[i] == 0 {
			return badEncoding(b[i:])
		}
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		c, n := utf8.DecodeRune(b[i:])
		if c == utf8.RuneError && n <= 1 {
			return badEncoding(b[i:])
		}
		i += n
	}
	return nil
}

// badEncoding reports the sequence starting b as PostgreSQL's report_invalid_encoding
// does: as many bytes as its first byte announces.
func badEncoding(b []byte) error {
	n := 1 // pg_utf_mblen
	switch c := b[0]; {
	case c&0xe0 == 0xc0:
		n = 2
	case c&0xf0 == 0xe0:
		n = 3
	case c&0xf8 == 0xf0:
		n = 4
	}
	n = min(n, len(b))
	var sb strings.Builder
	for i := range n {
		if i > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "0x%02x", b[i])
	}
	return sqlerr.New(sqlerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": %s", sb.String())
}

// span is one field's bytes in Reader.attr.
type span struct {
	from, to int
	null     bool
}

// splitText splits r.line into fields as PostgreSQL's CopyReadAttributesText does:
// backslash escapes (\b \f \n \r \t \v, octal \ooo, hex \xhh, any other byte taken
// literally) are decoded, and a field whose raw text equals the null string is NULL.
func (r *Reader) splitText() error {
	line, delim, null := r.line, r.opts.Delimiter, r.opts.Null
	r.attr = r.attr[:0]
	r.spans = r.spans[:0]
	i := 0
	for {
		from := i
		out := len(r.attr)
		escapedHigh, foundDelim := false, false
		rawEnd := i
		for {
			rawEnd = i
			if i >= len(line) {
				break
			}
			c := line[i]
			i++
			if c == delim {
				foundDelim = true
				break
			}
			if c != '\\' {
				// Copy the run of ordinary bytes at once.
				j := i
				for j < len(line) && line[j] != delim && line[j] != '\\' {
					j++
				}
				r.attr = append(r.attr, line[i-1:j]...)
				i = j
				continue
			}
			if i >= len(line) {
				break // a backslash at the end of the line is dropped
			}
			c = line[i]
			i++
			switch {
			case c >= '0' && c <= '7':
				v := int(c - '0')
				for k := 0; k < 2 && i < len(line) && line[i] >= '0' && line[i] <= '7'; k++ {
					v = v*8 + int(line[i]-'0')
					i++
				}
				c = byte(v & 0o377)
				escapedHigh = escapedHigh || c == 0 || c >= 0x80
			case c == 'x':
				if i < len(line) && isHex(line[i]) {
					v := unhex(line[i])
					i++
					if i < len(line) && isHex(line[i]) {
						v = v<<4 | unhex(line[i])
						i++
					}
					c = v
					escapedHigh = escapedHigh || c == 0 || c >= 0x80
				}
			case c == 'b':
				c = '\b'
			case c == 'f':
				c = '\f'
			case c == 'n':
				c = '\n'
			case c == 'r':
				c = '\r'
			case c == 't':
				c = '\t'
			case c == 'v':
				c = '\v'
			}
			r.attr = append(r.attr, c)
		}
		// NULL is decided on the raw text, before escapes are decoded.
		isNull := rawEnd-from == len(null) && string(line[from:rawEnd]) == null
		if !isNull && escapedHigh {
			if err := checkUTF8(r.attr[out:]); err != nil {
				return err
			}
		}
		r.spans = append(r.spans, span{out, len(r.attr), isNull})
		if !foundDelim {
			break
		}
	}
	r.setFields()
	return nil
}

// setFields turns r.spans into r.fields.
func (r *Reader) setFields() {
	r.fields = r.fields[:0]
	for _, s := range r.spans {
		if s.null {
			r.fields = append(r.fields, nil)
			continue
		}
		// attr is never nil, so an empty value is an empty, non-nil slice.
		r.fields = append(r.fields, r.attr[s.from:s.to:s.to])
	}
}

// splitCSV splits r.line into fields as PostgreSQL's CopyReadAttributesCSV does: quoted
// sections may hold the delimiter and line breaks, an escape byte before a quote or an
// escape inside quotes stands for that byte, and an unquoted field equal to the null
// string is NULL (FORCE_NOT_NULL and FORCE_NULL adjust this per column).
func (r *Reader) splitCSV() error {
	line, delim, quote, escape, null := r.line, r.opts.Delimiter, r.opts.Quote, r.opts.Escape, r.opts.Null
	r.attr = r.attr[:0]
	r.spans = r.spans[:0]
	i := 0
	for field := 0; ; field++ {
		from := i
		out := len(r.attr)
		sawQuote, foundDelim := false, false
		rawEnd := i
	fieldLoop:
		for {
			// Outside quotes.
			for {
				rawEnd = i
				if i >= len(line) {
					break fieldLoop
				}
				c := line[i]
				i++
				if c == delim {
					foundDelim = true
					break fieldLoop
				}
				if c == quote {
					sawQuote = true
					break
				}
				r.attr = append(r.attr, c)
			}
			// Inside quotes.
			for {
				if i >= len(line) {
					return sqlerr.New(sqlerr.BadCopyFileFormat, "unterminated CSV quoted field")
				}
				c := line[i]
				i++
				if c == escape && i < len(line) && (line[i] == escape || line[i] == quote) {
					r.attr = append(r.attr, line[i])
					i++
					continue
				}
				if c == quote {
					break
				}
				r.attr = append(r.attr, c)
			}
		}
		isNull := !sawQuote && rawEnd-from == len(null) && string(line[from:rawEnd]) == null
		switch {
		case isNull && flag(r.opts.ForceNotNull, field):
			isNull = false
			r.attr = append(r.attr[:out], null...)
		case !isNull && flag(r.opts.ForceNull, field) && string(r.attr[out:]) == null:
			isNull = true
		}
		r.spans = append(r.spans, span{out, len(r.attr), isNull})
		if !foundDelim {
			break
		}
	}
	r.setFields()
	return nil
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// need makes n bytes available at r.pos, reading more as needed and keeping the bytes
// from keep (<= r.pos) on. It returns false when the data ends first, and how far the
// kept bytes moved towards the front of the buffer.
func (r *Reader) need(n, keep int) (ok bool, shift int, err error) {
	for r.end-r.pos < n {
		if r.srcEOF {
			return false, shift, nil
		}
		moved, _, err := r.fill(keep)
		shift += moved
		keep -= moved
		if err != nil {
			return false, shift, err
		}
	}
	return true, shift, nil
}

func (r *Reader) binaryHeader() error {
	ok, _, err := r.need(len(binarySignature), r.pos)
	if err != nil {
		return err
	}
	if !ok || !bytes.Equal(r.buf[r.pos:r.pos+len(binarySignature)], binarySignature) {
		return sqlerr.New(sqlerr.BadCopyFileFormat, "COPY file signature not recognized")
	}
	r.pos += len(binarySignature)
	if ok, _, err = r.need(4, r.pos); err != nil || !ok {
		return orErr(err, sqlerr.New(sqlerr.BadCopyFileFormat, "invalid COPY file header (missing flags)"))
	}
	flags := binary.BigEndian.Uint32(r.buf[r.pos:])
	r.pos += 4
	if flags&(1<<16) != 0 {
		return sqlerr.New(sqlerr.BadCopyFileFormat, "invalid COPY file header (WITH OIDS)")
	}
	if flags>>16 != 0 {
		return sqlerr.New(sqlerr.BadCopyFileFormat, "unrecognized critical flags in COPY file header")
	}
	if ok, _, err = r.need(4, r.pos); err != nil || !ok {
		return orErr(err, sqlerr.New(sqlerr.BadCopyFileFormat, "invalid COPY file header (missing length)"))
	}
	ext := int32(binary.BigEndian.Uint32(r.buf[r.pos:]))
	r.pos += 4
	if ext < 0 {
		return sqlerr.New(sqlerr.BadCopyFileFormat, "invalid COPY file header (missing length)")
	}
	if ok, _, err = r.need(int(ext), r.pos); err != nil || !ok {
		return orErr(err, sqlerr.New(sqlerr.BadCopyFileFormat, "invalid COPY file header (wrong length)"))
	}
	r.pos += int(ext)
	return nil
}

func orErr(err error, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// nextBinary reads one binary tuple: a 16-bit field count (-1 ends the data), then per
// field a 32-bit length (-1 for NULL) and the bytes. The whole tuple is kept in buf, so
// its fields need no copy.
func (r *Reader) nextBinary() (bool, error) {
	r.lineNo++
	ok, _, err := r.need(2, r.pos)
	if err != nil {
		return false, err
	}
	if !ok {
		if r.end > r.pos {
			return false, sqlerr.New(sqlerr.BadCopyFileFormat, "unexpected EOF in COPY data")
		}
		return false, nil
	}
	n := int16(binary.BigEndian.Uint16(r.buf[r.pos:]))
	r.pos += 2
	if n == -1 {
		// The trailer. Nothing may follow it but the end of the stream, which also
		// delivers a CopyFail the client sends now.
		if ok, _, err := r.need(1, r.pos); err != nil {
			return false, err
		} else if ok {
			return false, sqlerr.New(sqlerr.BadCopyFileFormat, "received copy data after EOF marker")
		}
		return false, nil
	}
	if int(n) != len(r.names) {
		return false, sqlerr.New(sqlerr.BadCopyFileFormat, "row field count is %d, expected %d", n, len(r.names))
	}
	// Field offsets are kept relative to the tuple, which a refill may move.
	tuple := r.pos
	eof := func(err error) (bool, error) {
		return false, orErr(err, sqlerr.New(sqlerr.BadCopyFileFormat, "unexpected EOF in COPY data"))
	}
	r.spans = r.spans[:0]
	for f := range int(n) {
		r.field = f
		ok, shift, err := r.need(4, tuple)
		tuple -= shift
		if err != nil || !ok {
			return eof(err)
		}
		size := int32(binary.BigEndian.Uint32(r.buf[r.pos:]))
		r.pos += 4
		if size == -1 {
			r.spans = append(r.spans, span{null: true})
			continue
		}
		if size < 0 {
			return false, sqlerr.New(sqlerr.BadCopyFileFormat, "invalid field size")
		}
		ok, shift, err = r.need(int(size), tuple)
		tuple -= shift
		if err != nil || !ok {
			return eof(err)
		}
		r.spans = append(r.spans, span{from: r.pos - tuple, to: r.pos - tuple + int(size)})
		r.pos += int(size)
	}
	r.field = -1
	r.fields = r.fields[:0]
	for _, s := range r.spans {
		if s.null {
			r.fields = append(r.fields, nil)
			continue
		}
		r.fields = append(r.fields, r.buf[tuple+s.from:tuple+s.to:tuple+s.to])
	}
	return true, nil
}
