package pgwire

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/require"
)

// testTimeout bounds every blocking read in the raw-protocol tests, so that a missing
// reply fails the test instead of hanging it.
const testTimeout = 10 * time.Second

// testWriter sends log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testServer is a Server on 127.0.0.1:0 serving a fake engine; Cleanup shuts it down.
type testServer struct {
	srv    *Server
	eng    *fakeEngine
	addr   string
	served chan error // Serve's result
}

func startServer(t testing.TB) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ts := &testServer{eng: newFakeEngine(), addr: ln.Addr().String(), served: make(chan error, 1)}
	ts.srv = NewServer(Config{Addr: ts.addr}, ts.eng, testLogger(t))
	go func() { ts.served <- ts.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		require.NoError(t, ts.srv.Shutdown(ctx))
		require.NoError(t, <-ts.served)
		require.Zero(t, ts.eng.open.Load(), "sessions left open")
	})
	return ts
}

func (ts *testServer) url(extra string) string {
	return "postgres://weir@" + ts.addr + "/weir?sslmode=disable" + extra
}

// rawConn is a pgproto3 frontend over a plain socket.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	fe *pgproto3.Frontend
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(testTimeout)))
	return &rawConn{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
}

// connectRaw dials addr and completes a 3.0 startup.
func connectRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c := dialRaw(t, addr)
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "weir", "database": "weir"}})
	msgs := c.until('Z')
	require.IsType(t, &pgproto3.AuthenticationOk{}, msgs[0])
	return c
}

func (c *rawConn) send(msgs ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range msgs {
		c.fe.Send(m)
	}
	require.NoError(c.t, c.fe.Flush())
}

func (c *rawConn) receive() pgproto3.BackendMessage {
	c.t.Helper()
	msg, err := c.fe.Receive()
	require.NoError(c.t, err)
	return copyMessage(msg)
}

// until receives messages up to and including the first of type typ (its type byte).
func (c *rawConn) until(typ byte) []pgproto3.BackendMessage {
	c.t.Helper()
	var msgs []pgproto3.BackendMessage
	for {
		m := c.receive()
		msgs = append(msgs, m)
		if typeByte(m) == typ {
			return msgs
		}
	}
}

// copyMessage detaches the message from the frontend's flyweights and buffer.
func copyMessage(m pgproto3.BackendMessage) pgproto3.BackendMessage {
	buf, err := m.Encode(nil)
	if err != nil {
		panic(err)
	}
	var out pgproto3.BackendMessage
	switch m.(type) {
	case *pgproto3.DataRow:
		out = &pgproto3.DataRow{}
	case *pgproto3.RowDescription:
		out = &pgproto3.RowDescription{}
	case *pgproto3.CommandComplete:
		out = &pgproto3.CommandComplete{}
	case *pgproto3.ErrorResponse:
		out = &pgproto3.ErrorResponse{}
	case *pgproto3.ParameterDescription:
		out = &pgproto3.ParameterDescription{}
	case *pgproto3.ReadyForQuery:
		out = &pgproto3.ReadyForQuery{}
	case *pgproto3.BackendKeyData:
		out = &pgproto3.BackendKeyData{}
	case *pgproto3.ParameterStatus:
		out = &pgproto3.ParameterStatus{}
	case *pgproto3.NegotiateProtocolVersion:
		out = &pgproto3.NegotiateProtocolVersion{}
	default:
		return m // no fields that alias the buffer
	}
	if err := out.Decode(buf[5:]); err != nil {
		panic(err)
	}
	return out
}

// typeByte is the message's type byte: the first byte of its encoding.
func typeByte(m pgproto3.BackendMessage) byte {
	buf, err := m.Encode(nil)
	if err != nil {
		panic(err)
	}
	return buf[0]
}

// types lists the type bytes of msgs as a string, e.g. "12DCZ".
func types(msgs []pgproto3.BackendMessage) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteByte(typeByte(m))
	}
	return b.String()
}

func (c *rawConn) expectEOF() {
	c.t.Helper()
	_, err := c.fe.Receive()
	require.Error(c.t, err)
	require.True(c.t, errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "reset"), "want EOF, got %v", err)
}

func TestStartup(t *testing.T) {
	ts := startServer(t)

	t.Run("parameter status and key data", func(t *testing.T) {
		c := dialRaw(t, ts.addr)
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "weir"}})
		msgs := c.until('Z')
		require.Equal(t, "R"+strings.Repeat("S", 10)+"KZ", types(msgs))
		require.Equal(t, &pgproto3.ParameterStatus{Name: "server_version", Value: "15.0 (Weir)"}, msgs[1])
		require.Equal(t, &pgproto3.ParameterStatus{Name: "standard_conforming_strings", Value: "on"}, msgs[8])
		key := msgs[11].(*pgproto3.BackendKeyData)
		require.NotZero(t, key.ProcessID)
		require.Len(t, key.SecretKey, 4)
		require.Equal(t, byte('I'), msgs[12].(*pgproto3.ReadyForQuery).TxStatus)
	})

	t.Run("SSLRequest and GSSEncRequest are declined", func(t *testing.T) {
		c := dialRaw(t, ts.addr)
		for _, req := range []pgproto3.FrontendMessage{&pgproto3.GSSEncRequest{}, &pgproto3.SSLRequest{}} {
			c.send(req)
			var b [1]byte
			_, err := io.ReadFull(c.nc, b[:])
			require.NoError(t, err)
			require.Equal(t, byte('N'), b[0])
		}
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "weir"}})
		require.IsType(t, &pgproto3.AuthenticationOk{}, c.receive())
	})

	t.Run("protocol 3.2 gets a 32-byte key", func(t *testing.T) {
		c := dialRaw(t, ts.addr)
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion32, Parameters: map[string]string{"user": "weir"}})
		msgs := c.until('Z')
		require.Len(t, msgs[len(msgs)-2].(*pgproto3.BackendKeyData).SecretKey, 32)
	})

	t.Run("newer minor version is negotiated down", func(t *testing.T) {
		c := dialRaw(t, ts.addr)
		c.send(rawStartupMsg(3<<16|5, "user", "weir", "_pq_.magic", "on"))
		msgs := c.until('Z')
		require.Equal(t, &pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: 2, UnrecognizedOptions: []string{"_pq_.magic"}}, msgs[0])
		require.IsType(t, &pgproto3.AuthenticationOk{}, msgs[1])
	})

	t.Run("protocol 2.0 is refused", func(t *testing.T) {
		c := dialRaw(t, ts.addr)
		c.send(rawStartupMsg(2<<16, "user", "weir"))
		e := c.receive().(*pgproto3.ErrorResponse)
		require.Equal(t, "0A000", e.Code)
		require.Equal(t, "FATAL", e.Severity)
		c.expectEOF()
	})

	t.Run("bad startup length", func(t *testing.T) {
		c := dialRaw(t, ts.addr)
		_, err := c.nc.Write([]byte{0, 0, 0, 2})
		require.NoError(t, err)
		require.Equal(t, "08P01", c.receive().(*pgproto3.ErrorResponse).Code)
		c.expectEOF()
	})

	t.Run("engine rejects the session", func(t *testing.T) {
		c := dialRaw(t, ts.addr)
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "reject"}})
		e := c.receive().(*pgproto3.ErrorResponse)
		require.Equal(t, "28000", e.Code)
		c.expectEOF()
	})
}

func TestConfig(t *testing.T) {
	require.NoError(t, DefaultConfig().Validate())
	require.ErrorIs(t, Config{Addr: "no-port"}.Validate(), ErrInvalidAddr)
	srv := NewServer(Config{}, newFakeEngine(), testLogger(t))
	require.ErrorIs(t, srv.ListenAndServe(), ErrInvalidAddr)

	// ListenAndServe on a free port, stopped by Shutdown.
	srv = NewServer(Config{Addr: "127.0.0.1:0"}, newFakeEngine(), testLogger(t))
	served := make(chan error, 1)
	go func() { served <- srv.ListenAndServe() }()
	require.NoError(t, srv.Shutdown(t.Context()))
	err := <-served
	require.True(t, err == nil || errors.Is(err, ErrServerClosed), "got %v", err)
}

// rawStartup is a StartupMessage with any protocol version, which pgproto3 will not encode.
type rawStartup struct {
	version uint32
	kv      []string
}

func rawStartupMsg(version uint32, kv ...string) *rawStartup { return &rawStartup{version, kv} }

func (*rawStartup) Frontend()           {}
func (*rawStartup) Decode([]byte) error { return nil }
func (r *rawStartup) Encode(dst []byte) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, r.version)
	for _, s := range r.kv {
		dst = append(dst, s...)
		dst = append(dst, 0)
	}
	dst = append(dst, 0)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start))
	return dst, nil
}
