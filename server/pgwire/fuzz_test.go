package pgwire

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"regexp"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/weirdb/weir/internal/sqlerr"
)

// fuzzMaxBody is the message size limit of the fuzzed connections. The limit check is
// the same code for any value; a small one keeps each execution cheap, where the real
// maxMessageBody would let one input allocate 256 MiB.
const fuzzMaxBody = 1 << 20

// FuzzDecode feeds arbitrary bytes to a connection as a client's stream: a startup
// packet, then typed messages. The connection runs the real startup, message loop,
// decoder and COPY paths against the fake engine, on an in-memory socket, while another
// client stays connected to the same server. Every input must leave:
//   - no panic (the connection's recover would hide one as XX000: it is logged, and
//     caught here);
//   - well-formed output, every ErrorResponse with a valid SQLSTATE that is not XX000,
//     and a FATAL one only as the last message;
//   - for a malformed frame (a length under 4, a body over its type's limit, an unknown
//     message type) or a malformed startup packet, the connection closed after a FATAL
//     ErrorResponse: 08P01 once past startup;
//   - no allocation sized by a length the client claimed beyond the limit;
//   - the session closed, and the other client still served.
//
// A stream that ends in the middle of a message is a client that left: nothing can be
// sent back. Crashers found are kept in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for _, seed := range decodeSeeds(f) {
		f.Add(seed)
	}
	panics := &panicLog{}
	eng := fuzzEngine{newFakeEngine()}
	srv := NewServer(Config{}, eng, slog.New(panics))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			f.Error(err)
		}
		<-served
	})
	other, err := pgx.Connect(f.Context(), "postgres://weir@"+ln.Addr().String()+"/weir?sslmode=disable")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = other.Close(context.Background()) })
	base := eng.open.Load()

	f.Fuzz(func(t *testing.T, in []byte) {
		panics.reset()
		nc := newFuzzConn(in)
		c := newConn(srv, nc)
		c.be.SetMaxBodyLen(fuzzMaxBody)
		c.fr.max = fuzzMaxBody
		before := heapAllocs()
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer srv.remove(c)
			c.serve()
		}()
		select {
		case <-done:
		case <-time.After(testTimeout):
			t.Fatalf("the connection was still being served after %v", testTimeout)
		}
		allocated := heapAllocs() - before
		if p := panics.get(); p != "" {
			t.Fatalf("panic: %s", p)
		}
		checkFuzzOutput(t, in, nc.out.Bytes())
		if limit := 4*fuzzMaxBody + 16<<20 + 4096*uint64(len(in)); allocated > limit {
			t.Fatalf("serving %d input bytes allocated %d bytes (limit %d)", len(in), allocated, limit)
		}
		if n := eng.open.Load(); n != base {
			t.Fatalf("%d sessions open after the connection ended, want %d", n, base)
		}
		var one int
		if err := other.QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("the other client: %v (got %d)", err, one)
		}
	})
}

// checkFuzzOutput checks what the server wrote for input in.
func checkFuzzOutput(t *testing.T, in, out []byte) {
	t.Helper()
	want := expectFrames(in)
	for i := 0; i < want.declined; i++ {
		if len(out) == 0 || out[0] != 'N' {
			t.Fatalf("want 'N' for SSLRequest or GSSEncRequest %d, output %q", i+1, out)
		}
		out = out[1:]
	}
	fe := pgproto3.NewFrontend(bytes.NewReader(out), io.Discard)
	var last pgproto3.BackendMessage
	var fatal *pgproto3.ErrorResponse
	started := false
	for pos := 0; pos < len(out); {
		// pgproto3 reports a clean end as ErrUnexpectedEOF, so frame the output here too.
		if len(out)-pos < 5 {
			t.Fatalf("server output ends in a message header: %q", out[pos:])
		}
		n := int(binary.BigEndian.Uint32(out[pos+1:]))
		if n < 4 || len(out)-pos-1 < n {
			t.Fatalf("server output ends in a message: type %q, length %d, %d bytes left", out[pos], n, len(out)-pos-1)
		}
		pos += 1 + n
		msg, err := fe.Receive()
		if err != nil {
			t.Fatalf("malformed server output after %T: %v", last, err)
		}
		if fatal != nil {
			t.Fatalf("%T after FATAL %s %s", msg, fatal.Code, fatal.Message)
		}
		switch m := msg.(type) {
		case *pgproto3.ReadyForQuery:
			started = true
		case *pgproto3.ErrorResponse:
			if !sqlstate.MatchString(m.Code) {
				t.Fatalf("ErrorResponse with SQLSTATE %q: %s", m.Code, m.Message)
			}
			if m.Code == string(sqlerr.Internal) {
				t.Fatalf("internal error: %s", m.Message)
			}
			if m.Severity == "FATAL" {
				e := *m
				fatal = &e
			}
		}
		last = msg
	}
	if want.fatal == "" {
		return
	}
	if fatal == nil {
		t.Fatalf("the stream has %s, but the connection ended without a FATAL ErrorResponse (last message %T)", want.why, last)
	}
	if started && fatal.Code != string(sqlerr.ProtocolViolation) {
		t.Fatalf("the stream has %s; the connection ended with FATAL %s %q, want 08P01", want.why, fatal.Code, fatal.Message)
	}
}

var sqlstate = regexp.MustCompile(`^[0-9A-Z]{5}$`)

// frameExpectation is what the framing of an input stream alone implies.
type frameExpectation struct {
	declined int    // SSLRequest and GSSEncRequest packets answered 'N' before startup
	fatal    string // non-empty: the connection must end with a FATAL ErrorResponse
	why      string // the malformed frame, for messages
}

// expectFrames walks in as the protocol frames it, independently of the server's code:
// untyped startup packets up to the StartupMessage, then typed messages up to Terminate.
func expectFrames(in []byte) frameExpectation {
	var e frameExpectation
	for {
		if len(in) < 4 {
			return e // the client left
		}
		n := int(int32(binary.BigEndian.Uint32(in))) - 4
		if n < 4 || n > maxStartupPacket {
			e.fatal, e.why = "startup", "a startup packet of length "+strconv.Itoa(n+4)
			return e
		}
		if len(in) < 4+n {
			return e
		}
		code := binary.BigEndian.Uint32(in[4:])
		in = in[4+n:]
		if code == sslRequestCode || code == gssEncRequestCode {
			e.declined++
			continue
		}
		if code == cancelRequestCode {
			return e
		}
		break
	}
	for len(in) >= 5 {
		typ := in[0]
		n := int(int32(binary.BigEndian.Uint32(in[1:])))
		switch {
		case !strings.ContainsRune("BCDEFfdcHPpQSX", rune(typ)):
			e.fatal, e.why = "08P01", "an unknown message type "+strconv.QuoteRune(rune(typ))
			return e
		case n < 4:
			e.fatal, e.why = "08P01", "a message of length "+strconv.Itoa(n)
			return e
		case n-4 > min(fuzzMaxBody, messageLimit(typ)):
			e.fatal, e.why = "08P01", "a message body of "+strconv.Itoa(n-4)+" bytes"
			return e
		case typ == 'X':
			return e
		case len(in) < 1+n:
			return e
		}
		in = in[1+n:]
	}
	return e
}

// fuzzEngine is the fake engine without the statements that would stall or swamp a
// fuzzing run: SELECT block waits for a cancel, SELECT panic panics on purpose (the
// recover is tested in protocol_test.go), and a long series takes a while.
type fuzzEngine struct{ *fakeEngine }

func (e fuzzEngine) NewSession(ctx context.Context, params map[string]string) (Session, error) {
	s, err := e.fakeEngine.NewSession(ctx, params)
	if err != nil {
		return nil, err
	}
	return fuzzSession{s.(*fakeSession)}, nil
}

type fuzzSession struct{ *fakeSession }

var fuzzSeries = regexp.MustCompile(`series\s+(\S+)`)

func (s fuzzSession) Prepare(ctx context.Context, sql string, paramOIDs []uint32) (Statement, error) {
	lower := strings.ToLower(strings.Join(strings.Fields(sql), " "))
	if lower == "select block" || lower == "select panic" {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "not while fuzzing")
	}
	for _, m := range fuzzSeries.FindAllStringSubmatch(lower, -1) {
		if n, err := strconv.Atoi(strings.TrimRight(m[1], ")")); err == nil && n > 1000 {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "not while fuzzing")
		}
	}
	return s.fakeSession.Prepare(ctx, sql, paramOIDs)
}

// panicLog is a slog handler that keeps the first "panic…" record (with its stack) and
// discards the rest.
type panicLog struct {
	mu    sync.Mutex
	first string
}

func (h *panicLog) Enabled(context.Context, slog.Level) bool { return true }

func (h *panicLog) Handle(_ context.Context, r slog.Record) error {
	if !strings.HasPrefix(r.Message, "panic") {
		return nil
	}
	var sb strings.Builder
	sb.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		sb.WriteString("\n" + a.Key + ": " + a.Value.String())
		return true
	})
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.first == "" {
		h.first = sb.String()
	}
	return nil
}

func (h *panicLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *panicLog) WithGroup(string) slog.Handler      { return h }

func (h *panicLog) reset() {
	h.mu.Lock()
	h.first = ""
	h.mu.Unlock()
}

func (h *panicLog) get() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.first
}

// heapAllocs is the number of bytes allocated on the heap so far.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// fuzzConn is a net.Conn whose client sends in and then closes its side; it keeps what
// the server writes.
type fuzzConn struct {
	in  *bytes.Reader
	mu  sync.Mutex
	out bytes.Buffer
}

func newFuzzConn(in []byte) *fuzzConn { return &fuzzConn{in: bytes.NewReader(in)} }

func (c *fuzzConn) Read(p []byte) (int, error) { return c.in.Read(p) }

func (c *fuzzConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.Write(p)
}

func (c *fuzzConn) Close() error        { return nil }
func (c *fuzzConn) LocalAddr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5499} }
func (c *fuzzConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (c *fuzzConn) SetDeadline(time.Time) error      { return nil }
func (c *fuzzConn) SetReadDeadline(time.Time) error  { return nil }
func (c *fuzzConn) SetWriteDeadline(time.Time) error { return nil }

// decodeSeeds are real message flows (psql's startup and simple queries, the extended
// protocol as pgx and JDBC send it, COPY in and out, cancel, protocol 3.2) and a few
// malformed ones.
func decodeSeeds(f *testing.F) [][]byte {
	enc := func(msgs ...pgproto3.FrontendMessage) []byte {
		var b []byte
		for _, m := range msgs {
			var err error
			if b, err = m.Encode(b); err != nil {
				f.Fatal(err)
			}
		}
		return b
	}
	startup := func(minor uint32, app string) pgproto3.FrontendMessage {
		return &pgproto3.StartupMessage{ProtocolVersion: 3<<16 | minor,
			Parameters: map[string]string{"user": "weir", "database": "weir", "application_name": app}}
	}
	psql := startup(0, "psql")
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	return [][]byte{
		enc(psql, &pgproto3.Query{String: "SELECT 1"}, &pgproto3.Terminate{}),
		enc(&pgproto3.SSLRequest{}, &pgproto3.GSSEncRequest{}, psql,
			&pgproto3.Query{String: "SELECT types; SET application_name = 'x'; BEGIN; SELECT 2; COMMIT"}, &pgproto3.Terminate{}),
		enc(startup(2, "pgx"),
			&pgproto3.Parse{Name: "s1", Query: "SELECT $1::int8, $2::text, $3::numeric, $4::timestamptz", ParameterOIDs: []uint32{20, 25, 1700, 1184}},
			&pgproto3.Describe{ObjectType: 'S', Name: "s1"},
			&pgproto3.Sync{},
			&pgproto3.Bind{PreparedStatement: "s1", ParameterFormatCodes: []int16{1, 0, 0, 1},
				Parameters:        [][]byte{{0, 0, 0, 0, 0, 0, 0, 42}, []byte("x"), []byte("12.50"), {0, 0, 0, 0, 0, 0, 0, 1}},
				ResultFormatCodes: []int16{1}},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
			&pgproto3.Close{ObjectType: 'S', Name: "s1"},
			&pgproto3.Sync{},
			&pgproto3.Terminate{}),
		enc(startup(0, "PostgreSQL JDBC Driver"),
			&pgproto3.Query{String: "BEGIN"},
			&pgproto3.Parse{Query: "SELECT series 5"},
			&pgproto3.Bind{DestinationPortal: "C_1"},
			&pgproto3.Execute{Portal: "C_1", MaxRows: 2},
			&pgproto3.Sync{},
			&pgproto3.Execute{Portal: "C_1", MaxRows: 2},
			&pgproto3.Flush{},
			&pgproto3.Execute{Portal: "C_1"},
			&pgproto3.Sync{},
			&pgproto3.Query{String: "COMMIT"},
			&pgproto3.Terminate{}),
		enc(psql,
			&pgproto3.Query{String: "COPY lines FROM STDIN"},
			&pgproto3.CopyData{Data: []byte("a\nb\n")},
			&pgproto3.CopyDone{},
			&pgproto3.Query{String: "COPY lines FROM STDIN"},
			&pgproto3.CopyData{Data: []byte("c\n")},
			&pgproto3.CopyFail{Message: "stop"},
			&pgproto3.Query{String: "COPY (SELECT series 3) TO STDOUT CSV HEADER"},
			&pgproto3.Terminate{}),
		enc(psql,
			&pgproto3.Parse{Query: "COPY lines FROM STDIN BINARY"},
			&pgproto3.Bind{},
			&pgproto3.Execute{},
			&pgproto3.CopyData{Data: []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00")},
			&pgproto3.CopyDone{},
			&pgproto3.Sync{}),
		enc(psql,
			&pgproto3.Parse{Query: "SELECT nope"},
			&pgproto3.Bind{},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
			&pgproto3.Query{String: "SELECT fail"},
			&pgproto3.FunctionCall{Function: 1},
			&pgproto3.Query{String: ""}),
		enc(&pgproto3.CancelRequest{ProcessID: 1, SecretKey: []byte{1, 2, 3, 4}}),
		enc(startup(7, "future"), &pgproto3.Query{String: "SELECT 3"}),
		cat(enc(psql), []byte{'Q', 0, 0, 0, 2}),
		cat(enc(psql), []byte{'Q', 0x7f, 0xff, 0xff, 0xff}),
		cat(enc(psql), []byte{'z', 0, 0, 0, 4}),
		cat(enc(psql, &pgproto3.Query{String: "COPY lines FROM STDIN"}), []byte{'d', 0x10, 0, 0, 0}),
		cat(enc(psql), []byte{'B', 0, 0, 0, 8, 0, 0, 0, 1}),
		{0, 0, 0, 3},
	}
}
