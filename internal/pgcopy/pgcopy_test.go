package pgcopy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/sqlerr"
)

// readAll reads every row of data and renders it as one line per row: fields joined by
// '|', NULL as <null>, each row prefixed by its line number; an error ends the output.
func readAll(src io.Reader, opts Options, names []string) string {
	rd := NewReader(src, opts, names)
	var b strings.Builder
	for rd.Next() {
		fmt.Fprintf(&b, "%d:", rd.Line())
		for i, f := range rd.Fields() {
			if i > 0 {
				b.WriteByte('|')
			}
			if f == nil {
				b.WriteString("<null>")
			} else {
				fmt.Fprintf(&b, "%q", f)
			}
		}
		b.WriteByte('\n')
	}
	if err := rd.Err(); err != nil {
		e := sqlerr.As(err)
		fmt.Fprintf(&b, "error %s at line %d: %s", e.Code, rd.Line(), e.Msg)
		if e.Hint != "" {
			fmt.Fprintf(&b, " (%s)", e.Hint)
		}
		if raw := rd.Raw(); raw != nil {
			fmt.Fprintf(&b, " raw %q", raw)
		}
		if f := rd.Field(); f >= 0 {
			fmt.Fprintf(&b, " field %d", f)
		}
	}
	return b.String()
}

func csvOpts(mod func(*Options)) Options {
	o := Defaults(CSV)
	if mod != nil {
		mod(&o)
	}
	return o
}

func TestReader(t *testing.T) {
	text, csv := Defaults(Text), Defaults(CSV)
	cases := []struct {
		name  string
		opts  Options
		names []string
		in    string
		want  string
	}{
		{"text basics", text, nil, "a\tb\n\\N\t\n", "1:\"a\"|\"b\"\n2:<null>|\"\"\n"},
		{"text escapes", text, nil, `\b\f\n\r\t\v\\\N\x41\x4\101\7x\q\.` + "\n", "1:\"\\b\\f\\n\\r\\t\\v\\\\NA\\x04A\\axq\"\n"}, // `\.` ends the data, even mid-line
		{"text escaped delimiter and newline", text, nil, "a\\\tb\tc\\\nd\n", "1:\"a\\tb\"|\"c\\nd\"\n"},
		{"text null is raw", Options{Format: Text, Delimiter: ',', Null: "x\\y"}, nil, "x\\y,x\\\\y\n", "1:<null>|\"x\\\\y\"\n"},
		{"text last line without newline", text, nil, "a\nb", "1:\"a\"\n2:\"b\"\n"},
		{"text trailing backslash dropped", text, nil, "a\\", "1:\"a\"\n"},
		{"text crlf", text, nil, "a\r\nb\r\n", "1:\"a\"\n2:\"b\"\n"},
		{"text cr", text, nil, "a\rb\r", "1:\"a\"\n2:\"b\"\n"},
		{"text cr in nl data", text, nil, "a\nb\rc\n", "1:\"a\"\nerror 22P04 at line 2: literal carriage return found in data (Use \"\\r\" to represent carriage return.)"},
		{"text nl in crlf data", text, nil, "a\r\nb\nc\r\n", "1:\"a\"\nerror 22P04 at line 2: literal newline found in data (Use \"\\n\" to represent newline.)"},
		{"text end marker", text, nil, "a\n\\.\nb\n", "1:\"a\"\n"},
		{"text end marker after values", text, nil, "a\nb\\.\nc\n", "1:\"a\"\n2:\"b\"\n"},
		{"text end marker corrupt", text, nil, "a\n\\.b\n", "1:\"a\"\nerror 22P04 at line 2: end-of-copy marker corrupt"},
		{"text end marker at eof", text, nil, "a\n\\.", "1:\"a\"\nerror 22P04 at line 2: end-of-copy marker corrupt"},
		{"text end marker newline style", text, nil, "a\r\n\\.\n", "1:\"a\"\nerror 22P04 at line 2: end-of-copy marker does not match previous newline style"},
		{"text invalid utf8", text, nil, "a\n\xffb\n", "1:\"a\"\nerror 22021 at line 2: invalid byte sequence for encoding \"UTF8\": 0xff"},
		{"text escaped nul", text, nil, "\\0\n", "error 22021 at line 1: invalid byte sequence for encoding \"UTF8\": 0x00 raw \"\\\\0\""},
		{"text escaped utf8", text, nil, "\\xc3\\xa9\n", "1:\"é\"\n"},
		{"empty input", text, nil, "", ""},
		{"csv basics", csv, nil, "a,\"b,c\",,\"\"\n", "1:\"a\"|\"b,c\"|<null>|\"\"\n"},
		{"csv doubled quote", csv, nil, "\"say \"\"hi\"\"\",x\n", "1:\"say \\\"hi\\\"\"|\"x\"\n"},
		{"csv quoted newline counts lines", csv, nil, "x\n\"a\nb\",c\nd,e\n", "1:\"x\"\n3:\"a\\nb\"|\"c\"\n4:\"d\"|\"e\"\n"},
		// Before the first line's end is seen, PostgreSQL counts quoted CRs as lines.
		{"csv quoted crlf", csv, nil, "\"a\r\nb\"\r\nc\r\n", "2:\"a\\r\\nb\"\n3:\"c\"\n"},
		{"csv partly quoted", csv, nil, "a\"b,c\"d\n", "1:\"ab,cd\"\n"},
		{"csv unterminated", csv, nil, "a\n\"b\nc", "1:\"a\"\nerror 22P04 at line 3: unterminated CSV quoted field raw \"\\\"b\\nc\""},
		{"csv backslash is data", csv, nil, "a\\.b,\\N\n", "1:\"a\\\\.b\"|\"\\\\N\"\n"},
		{"csv end marker", csv, nil, "a\n\\.\nb\n", "1:\"a\"\n"},
		{"csv end marker must be alone", csv, nil, "\\.x\n", "1:\"\\\\.x\"\n"},
		{"csv unquoted cr", csv, nil, "a\nb\rc\n", "1:\"a\"\nerror 22P04 at line 2: unquoted carriage return found in data (Use quoted CSV field to represent carriage return.)"},
		{"csv escape", csvOpts(func(o *Options) { o.Escape = '\\' }), nil, "\"a\\\"b\\\\c\\d\",\"\\\"\"\n", "1:\"a\\\"b\\\\c\\\\d\"|\"\\\"\"\n"},
		{"csv escape keeps quote state", csvOpts(func(o *Options) { o.Escape = '\\' }), nil, "\"a\\\"\nb\"\nc\n", "1:\"a\\\"\\nb\"\n2:\"c\"\n"},
		{"csv null string", csvOpts(func(o *Options) { o.Null = "NA" }), nil, "NA,\"NA\",\n", "1:<null>|\"NA\"|\"\"\n"},
		{"csv force not null", csvOpts(func(o *Options) { o.ForceNotNull = []bool{true, false} }), nil, ",\n", "1:\"\"|<null>\n"},
		{"csv force null", csvOpts(func(o *Options) { o.ForceNull = []bool{true} }), nil, "\"\",\"\"\n", "1:<null>|\"\"\n"},
		{"csv header", csvOpts(func(o *Options) { o.Header = HeaderOn }), nil, "x,\"y\nz\"\n1,2\n", "2:\"1\"|\"2\"\n"},
		{"csv header match", csvOpts(func(o *Options) { o.Header = HeaderMatch }), []string{"a", "b"}, "a,b\n1,2\n", "2:\"1\"|\"2\"\n"},
		{"csv header mismatch", csvOpts(func(o *Options) { o.Header = HeaderMatch }), []string{"a", "b"}, "a,c\n", "error 22P04 at line 1: column name mismatch in header line field 2: got \"c\", expected \"b\" raw \"a,c\""},
		{"csv header null", csvOpts(func(o *Options) { o.Header = HeaderMatch }), []string{"a", "b"}, "a,\n", "error 22P04 at line 1: column name mismatch in header line field 2: got null value (\"\"), expected \"b\" raw \"a,\""},
		{"text header only", Options{Format: Text, Delimiter: '\t', Null: `\N`, Header: HeaderOn}, nil, "h\n", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := readAll(strings.NewReader(tc.in), tc.opts, tc.names)
			require.Equal(t, tc.want, got)
			// The same in pieces of every size, through every refill path.
			for n := 1; n < len(tc.in); n++ {
				require.Equal(t, tc.want, readAll(&pieces{data: []byte(tc.in), n: n}, tc.opts, tc.names), "pieces of %d", n)
			}
		})
	}
}

// pieces hands out data n bytes at a time, as CopyData messages may split it anywhere.
type pieces struct {
	data []byte
	n    int
}

func (p *pieces) Read(b []byte) (int, error) {
	if len(p.data) == 0 {
		return 0, io.EOF
	}
	k := copy(b[:min(len(b), p.n)], p.data)
	p.data = p.data[k:]
	return k, nil
}

// binaryRows builds binary COPY data: nil is NULL.
func binaryRows(rows ...[][]byte) []byte {
	var b bytes.Buffer
	b.WriteString("PGCOPY\n\xff\r\n\x00")
	b.Write([]byte{0, 0, 0, 0, 0, 0, 0, 2, 'x', 'y'}) // flags, a 2-byte extension
	for _, r := range rows {
		b.Write([]byte{byte(len(r) >> 8), byte(len(r))})
		for _, f := range r {
			if f == nil {
				b.Write([]byte{0xff, 0xff, 0xff, 0xff})
				continue
			}
			b.Write(binary.BigEndian.AppendUint32(nil, uint32(len(f))))
			b.Write(f)
		}
	}
	b.Write([]byte{0xff, 0xff})
	return b.Bytes()
}

func TestReaderBinary(t *testing.T) {
	bin := Defaults(Binary)
	long := bytes.Repeat([]byte("z"), 3*readSize) // longer than the buffer
	data := binaryRows([][]byte{[]byte("a"), nil}, [][]byte{{}, long})
	for _, src := range []io.Reader{bytes.NewReader(data), iotest.OneByteReader(bytes.NewReader(data)), iotest.HalfReader(bytes.NewReader(data))} {
		rd := NewReader(src, bin, []string{"x", "y"})
		require.True(t, rd.Next())
		require.Equal(t, [][]byte{[]byte("a"), nil}, rd.Fields())
		require.True(t, rd.Next())
		require.Equal(t, int64(2), rd.Line())
		require.Equal(t, []byte{}, rd.Fields()[0])
		require.NotNil(t, rd.Fields()[0], "an empty value is not NULL")
		require.Equal(t, long, rd.Fields()[1])
		require.False(t, rd.Next())
		require.NoError(t, rd.Err())
	}

	for _, tc := range []struct{ name, in, want string }{
		{"no signature", "PGCOPX", "error 22P04 at line 0: COPY file signature not recognized"},
		{"oids flag", "PGCOPY\n\xff\r\n\x00\x00\x01\x00\x00", "error 22P04 at line 0: invalid COPY file header (WITH OIDS)"},
		{"critical flag", "PGCOPY\n\xff\r\n\x00\x00\x02\x00\x00", "error 22P04 at line 0: unrecognized critical flags in COPY file header"},
		{"missing length", "PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00", "error 22P04 at line 0: invalid COPY file header (missing length)"},
		{"short extension", "PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x09ab", "error 22P04 at line 0: invalid COPY file header (wrong length)"},
		{"field count", string(binaryRows([][]byte{[]byte("a")})), "error 22P04 at line 1: row field count is 1, expected 2"},
		{"no trailer", string(binaryRows([][]byte{[]byte("a"), []byte("b")}))[:25+8+2], "1:\"a\"|\"b\"\n"},
		{"after trailer", string(binaryRows()) + "x", "error 22P04 at line 1: received copy data after EOF marker"},
		{"truncated value", string(binaryRows([][]byte{[]byte("abc"), []byte("b")}))[:21+2+4+2], "error 22P04 at line 1: unexpected EOF in COPY data field 0"},
		{"bad size", "PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\xff\xff\xff\xfe", "error 22P04 at line 1: invalid field size field 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, readAll(strings.NewReader(tc.in), bin, []string{"x", "y"}))
		})
	}
}

// TestReaderSourceError: the source's own error (the client's CopyFail) is returned as
// is, also when it comes after the end marker.
func TestReaderSourceError(t *testing.T) {
	failed := errors.New("CopyFail")
	for _, in := range []string{"a\nb", "a\n\\.\n"} {
		rd := NewReader(io.MultiReader(strings.NewReader(in), iotest.ErrReader(failed)), Defaults(Text), nil)
		for rd.Next() {
		}
		require.ErrorIs(t, rd.Err(), failed, in)
	}
}

func TestAppendField(t *testing.T) {
	text, csv := Defaults(Text), Defaults(CSV)
	pipe := Options{Format: Text, Delimiter: '|', Null: `\N`}
	for _, tc := range []struct {
		opts  Options
		in    string
		only  bool
		force bool
		want  string
	}{
		{text, "plain", false, false, "plain"},
		{text, "a\tb\nc\\d\re\bf\fg\vh\x01", false, false, `a\tb\nc\\d\re\bf\fg\vh` + "\x01"},
		{pipe, "a|b\tc", false, false, `a\|b\tc`},
		{csv, "plain", false, false, "plain"},
		{csv, "", false, false, `""`},
		{csv, `a,b`, false, false, `"a,b"`},
		{csv, `say "hi"`, false, false, `"say ""hi"""`},
		{csv, "l1\nl2", false, false, "\"l1\nl2\""},
		{csv, `\.`, true, false, `"\."`},
		{csv, `\.`, false, false, `\.`},
		{csv, "x", false, true, `"x"`},
		{csvOpts(func(o *Options) { o.Escape = '\\' }), `a"b\c`, false, false, `"a\"b\\c"`},
	} {
		o := tc.opts
		if tc.force {
			o.ForceQuote = []bool{true}
		}
		require.Equal(t, tc.want, string(o.AppendField(nil, []byte(tc.in), 0, tc.only)), "%q", tc.in)
	}
}

// FuzzReader checks that no input makes a reader panic, that reading in one-byte pieces
// gives the same rows and error as reading at once, and that what the writer escapes
// reads back as itself.
func FuzzReader(f *testing.F) {
	f.Add([]byte("a\tb\n\\N\t\\x41\n\\.\n"), uint8(0))
	f.Add([]byte("a,\"b\nc\",\n\"\"\"\"\r\n"), uint8(1))
	f.Add(binaryRows([][]byte{[]byte("a"), nil}), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, format uint8) {
		opts := Defaults(Format(format % 3))
		names := []string{"a", "b"}
		whole := readAll(bytes.NewReader(in), opts, names)
		for _, n := range []int{1, 2, 3, 7} {
			require.Equal(t, whole, readAll(&pieces{data: in, n: n}, opts, names), "pieces of %d", n)
		}
		if opts.Format == Binary {
			return
		}
		// Round trip: a value escaped by the writer is read back unchanged.
		if !bytes.ContainsRune(in, 0) && checkUTF8(in) == nil {
			line := opts.AppendField(nil, in, 0, true)
			line = append(line, '\n')
			rd := NewReader(bytes.NewReader(line), opts, names)
			require.True(t, rd.Next(), "%q: %v", line, rd.Err())
			require.Equal(t, [][]byte{in}, rd.Fields(), "%q", line)
		}
	})
}
