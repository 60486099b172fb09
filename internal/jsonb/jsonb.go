// Package jsonb is PostgreSQL's jsonb value model: JSON input validated as PostgreSQL's
// JSON lexer does (22P02 with PostgreSQL's details, 22P05 for \u0000), and the
// canonical output jsonb prints — object keys unique (the last duplicate wins) and
// sorted shorter first, then bytewise; numbers as numeric prints them (1.50 stays 1.50,
// 1e2 is 100); ": " and ", " separators; strings re-escaped. Weir stores jsonb as that
// canonical text (delta.KindJsonb), so equal texts mean equal documents up to number
// scale (see delta.NormalizeJSON). The accessors implement ->, ->>, #>, #>>.
package jsonb

import (
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/weirdb/weir/internal/decimal"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Kind is the type of a JSON value, named as jsonb_typeof names it.
type Kind uint8

// The JSON kinds.
const (
	Null Kind = iota
	Bool
	Number
	String
	Array
	Object
)

var kindNames = [...]string{"null", "boolean", "number", "string", "array", "object"}

func (k Kind) String() string { return kindNames[k] }

// Value is a parsed jsonb value. Object pairs are sorted in jsonb's key order and
// unique.
type Value struct {
	Kind Kind
	Bool bool
	Num  string // canonical numeric text
	Str  string // the decoded string
	Elem []Value
	Keys []string
	Vals []Value
}

// Canonical validates s as JSON and returns its canonical jsonb text.
func Canonical(s string) (string, error) {
	v, err := Parse(s)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

// Parse reads JSON text as jsonb_in does.
func Parse(s string) (Value, error) {
	p := &parser{s: s}
	p.next()
	if p.err != nil {
		return Value{}, p.err
	}
	v := p.value()
	if p.err != nil {
		return Value{}, p.err
	}
	if p.tok != tokEnd {
		return Value{}, p.syntax("Expected end of input, but found \"%s\".", p.text())
	}
	return v, nil
}

// MustParse parses canonical text Weir produced; it panics on invalid input.
func MustParse(s string) Value {
	v, err := Parse(s)
	if err != nil {
		panic("jsonb: stored value does not parse: " + err.Error())
	}
	return v
}

type token uint8

const (
	tokEnd token = iota
	tokLBrace
	tokRBrace
	tokLBracket
	tokRBracket
	tokComma
	tokColon
	tokString
	tokNumber
	tokTrue
	tokFalse
	tokNull
)

type parser struct {
	s     string
	pos   int // start of the current token
	end   int // end of the current token
	tok   token
	str   string // decoded string token
	err   error
	depth int
}

func (p *parser) text() string {
	if p.tok == tokEnd {
		return ""
	}
	return p.s[p.pos:p.end]
}

// syntax is 22P02 "invalid input syntax for type json" with PostgreSQL's detail.
func (p *parser) syntax(detail string, args ...any) error {
	return sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type json").WithDetail(detail, args...)
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c >= 0x80
}

// next scans the next token (json_lex).
func (p *parser) next() {
	if p.err != nil {
		return
	}
	i := p.end
	for i < len(p.s) && (p.s[i] == ' ' || p.s[i] == '\t' || p.s[i] == '\n' || p.s[i] == '\r') {
		i++
	}
	p.pos = i
	if i >= len(p.s) {
		p.tok, p.end = tokEnd, i
		return
	}
	switch c := p.s[i]; c {
	case '{', '}', '[', ']', ',', ':':
		p.end = i + 1
		p.tok = map[byte]token{'{': tokLBrace, '}': tokRBrace, '[': tokLBracket, ']': tokRBracket, ',': tokComma, ':': tokColon}[c]
	case '"':
		p.lexString(i)
	case '-':
		p.lexNumber(i, i+1)
	default:
		if c >= '0' && c <= '9' {
			p.lexNumber(i, i)
			return
		}
		j := i
		for j < len(p.s) && isAlnum(p.s[j]) {
			j++
		}
		if j == i {
			_, n := utf8.DecodeRuneInString(p.s[i:])
			p.end = i + n
			p.err = p.syntax("Token \"%s\" is invalid.", p.s[i:p.end])
			return
		}
		p.end = j
		switch p.s[i:j] {
		case "true":
			p.tok = tokTrue
		case "false":
			p.tok = tokFalse
		case "null":
			p.tok = tokNull
		default:
			p.err = p.syntax("Token \"%s\" is invalid.", p.s[i:j])
		}
	}
}

// lexNumber scans a number starting at start (digits from i): -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
// and, as PostgreSQL does, takes trailing alphanumerics into a bad token.
func (p *parser) lexNumber(start, i int) {
	s := p.s
	bad := false
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		bad = true
	}
	if !bad && i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			bad = true
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if !bad && i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			bad = true
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	for i < len(s) && isAlnum(s[i]) {
		i++
		bad = true
	}
	p.end = i
	if bad {
		if i == start {
			p.end = start + 1
		}
		p.err = p.syntax("Token \"%s\" is invalid.", s[start:p.end])
		return
	}
	p.tok = tokNumber
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// lexString scans and decodes a string token starting at the quote at i.
func (p *parser) lexString(i int) {
	s := p.s
	var sb strings.Builder
	highSurrogate := -1
	i++
	for {
		if i >= len(s) {
			p.end = i
			p.err = p.syntax("The input string ended unexpectedly.")
			return
		}
		c := s[i]
		switch {
		case c == '"':
			if highSurrogate >= 0 {
				p.end = i + 1
				p.err = p.syntax("Unicode low surrogate must follow a high surrogate.")
				return
			}
			p.end = i + 1
			p.tok = tokString
			p.str = sb.String()
			return
		case c < 0x20:
			p.end = i + 1
			p.err = p.syntax("Character with value 0x%02x must be escaped.", c)
			return
		case c == '\\':
			i++
			if i >= len(s) {
				p.end = i
				p.err = p.syntax("The input string ended unexpectedly.")
				return
			}
			e := s[i]
			if e == 'u' {
				if i+4 >= len(s) {
					p.end = len(s)
					p.err = p.syntax("\"\\u\" must be followed by four hexadecimal digits.")
					return
				}
				ch := 0
				for k := 1; k <= 4; k++ {
					h := hexVal(s[i+k])
					if h < 0 {
						p.end = i + k + 1
						p.err = p.syntax("\"\\u\" must be followed by four hexadecimal digits.")
						return
					}
					ch = ch<<4 | h
				}
				i += 5
				switch {
				case ch >= 0xD800 && ch <= 0xDBFF:
					if highSurrogate >= 0 {
						p.end = i
						p.err = p.syntax("Unicode high surrogate must not follow a high surrogate.")
						return
					}
					highSurrogate = ch
					continue
				case ch >= 0xDC00 && ch <= 0xDFFF:
					if highSurrogate < 0 {
						p.end = i
						p.err = p.syntax("Unicode low surrogate must follow a high surrogate.")
						return
					}
					ch = 0x10000 + (highSurrogate-0xD800)<<10 + (ch - 0xDC00)
					highSurrogate = -1
				default:
					if highSurrogate >= 0 {
						p.end = i
						p.err = p.syntax("Unicode low surrogate must follow a high surrogate.")
						return
					}
				}
				if ch == 0 {
					p.end = i
					p.err = sqlerr.New("22P05", "unsupported Unicode escape sequence").WithDetail("\\u0000 cannot be converted to text.")
					return
				}
				sb.WriteRune(rune(ch))
				continue
			}
			if highSurrogate >= 0 {
				p.end = i + 1
				p.err = p.syntax("Unicode low surrogate must follow a high surrogate.")
				return
			}
			switch e {
			case '"', '\\', '/':
				sb.WriteByte(e)
			case 'b':
				sb.WriteByte('\b')
			case 'f':
				sb.WriteByte('\f')
			case 'n':
				sb.WriteByte('\n')
			case 'r':
				sb.WriteByte('\r')
			case 't':
				sb.WriteByte('\t')
			default:
				_, n := utf8.DecodeRuneInString(s[i:])
				p.end = i + n
				p.err = p.syntax("Escape sequence \"\\%s\" is invalid.", s[i:i+n])
				return
			}
			i++
		default:
			if highSurrogate >= 0 {
				p.end = i + 1
				p.err = p.syntax("Unicode low surrogate must follow a high surrogate.")
				return
			}
			sb.WriteByte(c)
			i++
		}
	}
}

// maxDepth bounds nesting, as PostgreSQL's stack-depth check does (in effect).
const maxDepth = 6400

func (p *parser) value() Value {
	if p.err != nil {
		return Value{}
	}
	switch p.tok {
	case tokString:
		v := Value{Kind: String, Str: p.str}
		p.next()
		return v
	case tokNumber:
		d, err := decimal.Parse(p.text())
		if err != nil {
			p.err = sqlerr.As(err)
			return Value{}
		}
		v := Value{Kind: Number, Num: d.String()}
		p.next()
		return v
	case tokTrue, tokFalse:
		v := Value{Kind: Bool, Bool: p.tok == tokTrue}
		p.next()
		return v
	case tokNull:
		p.next()
		return Value{Kind: Null}
	case tokLBracket:
		return p.array()
	case tokLBrace:
		return p.object()
	case tokEnd:
		p.err = p.syntax("The input string ended unexpectedly.")
	default:
		p.err = p.syntax("Expected JSON value, but found \"%s\".", p.text())
	}
	return Value{}
}

func (p *parser) nest() bool {
	p.depth++
	if p.depth > maxDepth {
		p.err = sqlerr.New("54001", "stack depth limit exceeded")
		return false
	}
	return true
}

func (p *parser) array() Value {
	if !p.nest() {
		return Value{}
	}
	defer func() { p.depth-- }()
	v := Value{Kind: Array, Elem: []Value{}}
	p.next()
	if p.tok == tokRBracket {
		p.next()
		return v
	}
	for p.err == nil {
		if p.tok == tokEnd {
			p.err = p.syntax("The input string ended unexpectedly.")
			break
		}
		if p.tok == tokRBracket || p.tok == tokComma || p.tok == tokColon || p.tok == tokRBrace {
			p.err = p.syntax("Expected array element or \"]\", but found \"%s\".", p.text())
			break
		}
		v.Elem = append(v.Elem, p.value())
		if p.err != nil {
			break
		}
		switch p.tok {
		case tokComma:
			p.next()
		case tokRBracket:
			p.next()
			return v
		case tokEnd:
			p.err = p.syntax("The input string ended unexpectedly.")
		default:
			p.err = p.syntax("Expected \",\" or \"]\", but found \"%s\".", p.text())
		}
	}
	return Value{}
}

func (p *parser) object() Value {
	if !p.nest() {
		return Value{}
	}
	defer func() { p.depth-- }()
	fields := map[string]Value{}
	p.next()
	if p.tok == tokRBrace {
		p.next()
		return Value{Kind: Object, Keys: []string{}, Vals: []Value{}}
	}
	first := true
	for p.err == nil {
		if p.tok != tokString {
			switch {
			case p.tok == tokEnd:
				p.err = p.syntax("The input string ended unexpectedly.")
			case first:
				p.err = p.syntax("Expected string or \"}\", but found \"%s\".", p.text())
			default:
				p.err = p.syntax("Expected string, but found \"%s\".", p.text())
			}
			break
		}
		first = false
		key := p.str
		p.next()
		if p.err != nil {
			break
		}
		if p.tok != tokColon {
			if p.tok == tokEnd {
				p.err = p.syntax("The input string ended unexpectedly.")
			} else {
				p.err = p.syntax("Expected \":\", but found \"%s\".", p.text())
			}
			break
		}
		p.next()
		val := p.value()
		if p.err != nil {
			break
		}
		fields[key] = val // the last duplicate wins
		switch p.tok {
		case tokComma:
			p.next()
		case tokRBrace:
			p.next()
			return newObject(fields)
		case tokEnd:
			p.err = p.syntax("The input string ended unexpectedly.")
		default:
			p.err = p.syntax("Expected \",\" or \"}\", but found \"%s\".", p.text())
		}
	}
	return Value{}
}

// keyLess is jsonb's key order: shorter keys first, then bytewise.
func keyLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func newObject(fields map[string]Value) Value {
	v := Value{Kind: Object, Keys: make([]string, 0, len(fields)), Vals: make([]Value, 0, len(fields))}
	for k := range fields {
		v.Keys = append(v.Keys, k)
	}
	sort.Slice(v.Keys, func(i, j int) bool { return keyLess(v.Keys[i], v.Keys[j]) })
	for _, k := range v.Keys {
		v.Vals = append(v.Vals, fields[k])
	}
	return v
}

// String is v's canonical jsonb text.
func (v Value) String() string { return string(v.Append(nil)) }

// Append appends v's canonical text to buf.
func (v Value) Append(buf []byte) []byte {
	switch v.Kind {
	case Null:
		return append(buf, "null"...)
	case Bool:
		return strconv.AppendBool(buf, v.Bool)
	case Number:
		return append(buf, v.Num...)
	case String:
		return appendQuoted(buf, v.Str)
	case Array:
		buf = append(buf, '[')
		for i, e := range v.Elem {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = e.Append(buf)
		}
		return append(buf, ']')
	}
	buf = append(buf, '{')
	for i, k := range v.Keys {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		buf = appendQuoted(buf, k)
		buf = append(buf, ": "...)
		buf = v.Vals[i].Append(buf)
	}
	return append(buf, '}')
}

// appendQuoted is PostgreSQL's escape_json.
func appendQuoted(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\b':
			buf = append(buf, `\b`...)
		case '\f':
			buf = append(buf, `\f`...)
		case '\n':
			buf = append(buf, `\n`...)
		case '\r':
			buf = append(buf, `\r`...)
		case '\t':
			buf = append(buf, `\t`...)
		case '"':
			buf = append(buf, `\"`...)
		case '\\':
			buf = append(buf, `\\`...)
		default:
			if c < ' ' {
				buf = append(buf, `\u00`...)
				buf = append(buf, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xF])
			} else {
				buf = append(buf, c)
			}
		}
	}
	return append(buf, '"')
}

// Text is the value as ->> returns it: a string unquoted, JSON null as SQL NULL
// (ok false), anything else as its canonical text.
func (v Value) Text() (string, bool) {
	switch v.Kind {
	case Null:
		return "", false
	case String:
		return v.Str, true
	}
	return v.String(), true
}

// Field is v -> key: the member of an object, or false for a missing key or a
// non-object.
func (v Value) Field(key string) (Value, bool) {
	if v.Kind != Object {
		return Value{}, false
	}
	i := sort.Search(len(v.Keys), func(i int) bool { return !keyLess(v.Keys[i], key) })
	if i < len(v.Keys) && v.Keys[i] == key {
		return v.Vals[i], true
	}
	return Value{}, false
}

// Index is v -> i: an array element, counting from the end when negative. A scalar at
// the top level acts as a one-element array, as PostgreSQL stores it.
func (v Value) Index(i int64, top bool) (Value, bool) {
	elems := v.Elem
	switch {
	case v.Kind == Array:
	case top && v.Kind != Object:
		elems = []Value{v}
	default:
		return Value{}, false
	}
	if i < 0 {
		i += int64(len(elems))
	}
	if i < 0 || i >= int64(len(elems)) {
		return Value{}, false
	}
	return elems[i], true
}

// Path is v #> path (jsonb_get_element): object keys and array subscripts (integers,
// negative from the end) in turn; false (NULL) when a step is missing or reaches into a
// scalar. An empty path returns v.
func (v Value) Path(path []string) (Value, bool) {
	cur := v
	for _, step := range path {
		switch cur.Kind {
		case Object:
			next, ok := cur.Field(step)
			if !ok {
				return Value{}, false
			}
			cur = next
		case Array:
			n, err := strconv.ParseInt(strings.TrimLeft(step, " \t\n\r\v\f"), 10, 32)
			if err != nil {
				return Value{}, false
			}
			next, ok := cur.Index(n, false)
			if !ok {
				return Value{}, false
			}
			cur = next
		default:
			return Value{}, false
		}
	}
	return cur, true
}

// ArrayLength is jsonb_array_length; 22023 for a scalar or an object.
func (v Value) ArrayLength() (int64, error) {
	switch v.Kind {
	case Array:
		return int64(len(v.Elem)), nil
	case Object:
		return 0, sqlerr.New(sqlerr.InvalidParameterValue, "cannot get array length of a non-array")
	}
	return 0, sqlerr.New(sqlerr.InvalidParameterValue, "cannot get array length of a scalar")
}

// ParseTextArray reads a text[] literal such as '{a,b,"c d"}' into its elements; a NULL
// element is reported through nulls. It follows array_in for one dimension.
func ParseTextArray(s string) (elems []string, hasNull bool, err error) {
	bad := func(detail string) ([]string, bool, error) {
		return nil, false, sqlerr.New(sqlerr.InvalidTextRepresentation, "malformed array literal: %q", s).WithDetail("%s", detail)
	}
	t := strings.TrimSpace(s)
	if len(t) < 2 || t[0] != '{' || t[len(t)-1] != '}' {
		return bad("Array value must start with \"{\" or dimension information.")
	}
	body := t[1 : len(t)-1]
	if strings.TrimSpace(body) == "" {
		return []string{}, false, nil
	}
	elems = []string{}
	i := 0
	for {
		for i < len(body) && isSpaceByte(body[i]) {
			i++
		}
		var sb strings.Builder
		quoted := false
		if i < len(body) && body[i] == '"' {
			quoted = true
			i++
			closed := false
			for i < len(body) {
				c := body[i]
				if c == '\\' && i+1 < len(body) {
					sb.WriteByte(body[i+1])
					i += 2
					continue
				}
				if c == '"' {
					i++
					closed = true
					break
				}
				sb.WriteByte(c)
				i++
			}
			if !closed {
				return bad("Unexpected end of input.")
			}
			for i < len(body) && isSpaceByte(body[i]) {
				i++
			}
		} else {
			start := i
			for i < len(body) && body[i] != ',' {
				c := body[i]
				if c == '{' || c == '}' || c == '"' {
					return bad("Unexpected \"" + string(c) + "\" character.")
				}
				if c == '\\' && i+1 < len(body) {
					i += 2
					continue
				}
				i++
			}
			raw := strings.TrimRight(body[start:i], " \t\n\r\v\f")
			if raw == "" {
				return bad("Unexpected \",\" character.")
			}
			for k := 0; k < len(raw); k++ {
				if raw[k] == '\\' && k+1 < len(raw) {
					k++
				}
				sb.WriteByte(raw[k])
			}
		}
		el := sb.String()
		if !quoted && strings.EqualFold(el, "null") {
			hasNull = true
		}
		elems = append(elems, el)
		if i >= len(body) {
			break
		}
		if body[i] != ',' {
			return bad("Unexpected array element.")
		}
		i++
	}
	return elems, hasNull, nil
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
