package pgwire

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/require"
)

func dataRow(m pgproto3.BackendMessage) []string {
	var out []string
	for _, v := range m.(*pgproto3.DataRow).Values {
		out = append(out, string(v))
	}
	return out
}

func tag(m pgproto3.BackendMessage) string {
	return string(m.(*pgproto3.CommandComplete).CommandTag)
}

func TestSimpleQuery(t *testing.T) {
	ts := startServer(t)
	c := connectRaw(t, ts.addr)

	t.Run("one statement", func(t *testing.T) {
		c.send(&pgproto3.Query{String: "SELECT 7"})
		msgs := c.until('Z')
		require.Equal(t, "TDCZ", types(msgs))
		f := msgs[0].(*pgproto3.RowDescription).Fields[0]
		require.Equal(t, "?column?", string(f.Name))
		require.Equal(t, uint32(23), f.DataTypeOID)
		require.Equal(t, int16(0), f.Format)
		require.Equal(t, []string{"7"}, dataRow(msgs[1]))
		require.Equal(t, "SELECT 1", tag(msgs[2]))
	})

	t.Run("several statements", func(t *testing.T) {
		c.send(&pgproto3.Query{String: "SELECT 1; INSERT INTO t VALUES (1); SELECT series 2"})
		msgs := c.until('Z')
		require.Equal(t, "TDCCTDDCZ", types(msgs))
		require.Equal(t, "INSERT 0 1", tag(msgs[3]))
		require.Equal(t, "SELECT 2", tag(msgs[7]))
	})

	t.Run("empty", func(t *testing.T) {
		for _, q := range []string{"", " ; ;"} {
			c.send(&pgproto3.Query{String: q})
			require.Equal(t, "IZ", types(c.until('Z')))
		}
	})

	t.Run("error skips the rest and shifts the position", func(t *testing.T) {
		c.send(&pgproto3.Query{String: "SELECT 'é';  SELECT nope; SELECT 2"})
		msgs := c.until('Z')
		require.Equal(t, "TDCEZ", types(msgs))
		require.Equal(t, []string{"é"}, dataRow(msgs[1]))
		e := msgs[3].(*pgproto3.ErrorResponse)
		require.Equal(t, "42703", e.Code)
		require.Equal(t, `column "nope" does not exist`, e.Message)
		require.Equal(t, "ERROR", e.Severity)
		require.Equal(t, "ERROR", e.SeverityUnlocalized)
		// "nope" counted in characters from the start of the whole string.
		require.Equal(t, int32(len([]rune("SELECT 'é';  SELECT "))+1), e.Position)
	})

	t.Run("error while streaming rows", func(t *testing.T) {
		c.send(&pgproto3.Query{String: "SELECT fail"})
		msgs := c.until('Z')
		require.Equal(t, "TDDEZ", types(msgs))
		require.Equal(t, "22012", msgs[3].(*pgproto3.ErrorResponse).Code)
	})

	t.Run("transaction status", func(t *testing.T) {
		c.send(&pgproto3.Query{String: "BEGIN"})
		msgs := c.until('Z')
		require.Equal(t, "CZ", types(msgs))
		require.Equal(t, byte('T'), msgs[1].(*pgproto3.ReadyForQuery).TxStatus)
		c.send(&pgproto3.Query{String: "COMMIT"})
		require.Equal(t, byte('I'), c.until('Z')[1].(*pgproto3.ReadyForQuery).TxStatus)
	})

	t.Run("changed parameters are reported", func(t *testing.T) {
		c.send(&pgproto3.Query{String: "SET application_name = 'psql'"})
		msgs := c.until('Z')
		require.Equal(t, "CSZ", types(msgs))
		require.Equal(t, &pgproto3.ParameterStatus{Name: "application_name", Value: "psql"}, msgs[1])
		c.send(&pgproto3.Query{String: "SET application_name = 'psql'"}) // unchanged: not reported again
		require.Equal(t, "CZ", types(c.until('Z')))
	})

	t.Run("unsupported messages", func(t *testing.T) {
		c.send(&pgproto3.CopyData{Data: []byte("x")}, &pgproto3.FunctionCall{Function: 1})
		msgs := c.until('Z')
		require.Equal(t, "EZ", types(msgs))
		require.Equal(t, "0A000", msgs[0].(*pgproto3.ErrorResponse).Code)
	})
}

func TestExtendedPipeline(t *testing.T) {
	ts := startServer(t)
	c := connectRaw(t, ts.addr)

	// Three statements in one batch before a single Sync: named, unnamed, and a named
	// statement re-bound with a binary parameter and binary result.
	c.send(
		&pgproto3.Parse{Name: "s1", Query: "SELECT $1::int8"},
		&pgproto3.Bind{PreparedStatement: "s1", Parameters: [][]byte{[]byte("41")}},
		&pgproto3.Execute{},
		&pgproto3.Parse{Query: "SELECT series 2"},
		&pgproto3.Bind{},
		&pgproto3.Execute{},
		&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "s1", ParameterFormatCodes: []int16{1},
			Parameters: [][]byte{{0, 0, 0, 0, 0, 0, 0, 42}}, ResultFormatCodes: []int16{1}},
		&pgproto3.Execute{Portal: "p"},
		&pgproto3.Sync{},
	)
	msgs := c.until('Z')
	require.Equal(t, "12DC12DDC2DCZ", types(msgs))
	require.Equal(t, []string{"41"}, dataRow(msgs[2]))
	require.Equal(t, "SELECT 1", tag(msgs[3]))
	require.Equal(t, []string{"1"}, dataRow(msgs[6]))
	require.Equal(t, []string{"2"}, dataRow(msgs[7]))
	require.Equal(t, []byte{0, 0, 0, 0, 0, 0, 0, 42}, msgs[10].(*pgproto3.DataRow).Values[0])

	t.Run("describe statement and portal", func(t *testing.T) {
		c.send(
			&pgproto3.Parse{Name: "d", Query: "SELECT $1, $2::text", ParameterOIDs: []uint32{20}},
			&pgproto3.Describe{ObjectType: 'S', Name: "d"},
			&pgproto3.Bind{PreparedStatement: "d", Parameters: [][]byte{[]byte("1"), nil}, ResultFormatCodes: []int16{1, 0}},
			&pgproto3.Describe{ObjectType: 'P'},
			&pgproto3.Execute{},
			&pgproto3.Parse{Query: "INSERT INTO t VALUES (1)"},
			&pgproto3.Describe{ObjectType: 'S'},
			&pgproto3.Sync{},
		)
		msgs := c.until('Z')
		require.Equal(t, "1tT2TDC1tnZ", types(msgs))
		require.Equal(t, []uint32{20, 25}, msgs[1].(*pgproto3.ParameterDescription).ParameterOIDs)
		rd := msgs[2].(*pgproto3.RowDescription)
		require.Equal(t, int16(0), rd.Fields[0].Format)
		require.Equal(t, uint32(20), rd.Fields[0].DataTypeOID)
		require.Equal(t, int16(8), rd.Fields[0].DataTypeSize) // filled in from the OID
		pd := msgs[4].(*pgproto3.RowDescription)
		require.Equal(t, int16(1), pd.Fields[0].Format)
		require.Equal(t, int16(0), pd.Fields[1].Format)
		require.Equal(t, [][]byte{{0, 0, 0, 0, 0, 0, 0, 1}, nil}, msgs[5].(*pgproto3.DataRow).Values)
	})

	t.Run("empty statement", func(t *testing.T) {
		c.send(&pgproto3.Parse{Query: " "}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
		require.Equal(t, "12nIZ", types(c.until('Z')))
	})

	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			msgs []pgproto3.FrontendMessage
			code string
		}{
			{"unknown statement", []pgproto3.FrontendMessage{&pgproto3.Bind{PreparedStatement: "nope"}}, "26000"},
			{"unknown portal", []pgproto3.FrontendMessage{&pgproto3.Execute{Portal: "nope"}}, "34000"},
			{"duplicate statement", []pgproto3.FrontendMessage{&pgproto3.Parse{Name: "s1", Query: "SELECT 1"}}, "42P05"},
			{"multiple commands", []pgproto3.FrontendMessage{&pgproto3.Parse{Query: "SELECT 1; SELECT 2"}}, "42601"},
			{"parameter count", []pgproto3.FrontendMessage{&pgproto3.Bind{PreparedStatement: "s1"}}, "08P01"},
			{"bad int", []pgproto3.FrontendMessage{&pgproto3.Bind{PreparedStatement: "s1", Parameters: [][]byte{[]byte("x")}}}, "22P02"},
			{"bad binary int", []pgproto3.FrontendMessage{&pgproto3.Bind{PreparedStatement: "s1", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{{1}}}}, "22P03"},
			{"bad format code", []pgproto3.FrontendMessage{&pgproto3.Bind{PreparedStatement: "s1", Parameters: [][]byte{[]byte("1")}, ResultFormatCodes: []int16{7}}}, "22023"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				c.send(append(tc.msgs, &pgproto3.Sync{})...)
				msgs := c.until('Z')
				require.Equal(t, "EZ", types(msgs))
				require.Equal(t, tc.code, msgs[0].(*pgproto3.ErrorResponse).Code)
			})
		}
	})

	t.Run("close statement closes its portals", func(t *testing.T) {
		c.send(&pgproto3.Query{String: "BEGIN"})
		c.until('Z')
		c.send(
			&pgproto3.Bind{DestinationPortal: "q", PreparedStatement: "s1", Parameters: [][]byte{[]byte("1")}},
			&pgproto3.Close{ObjectType: 'S', Name: "s1"},
			&pgproto3.Close{ObjectType: 'P', Name: "never"},
			&pgproto3.Execute{Portal: "q"},
			&pgproto3.Sync{},
		)
		msgs := c.until('Z')
		require.Equal(t, "233EZ", types(msgs))
		require.Equal(t, "34000", msgs[3].(*pgproto3.ErrorResponse).Code)
		c.send(&pgproto3.Query{String: "ROLLBACK"})
		c.until('Z')
	})
}

func TestSkipUntilSync(t *testing.T) {
	ts := startServer(t)
	c := connectRaw(t, ts.addr)

	c.send(
		&pgproto3.Parse{Query: "SELECT 1"},
		&pgproto3.Bind{},
		&pgproto3.Execute{},
		&pgproto3.Parse{Query: "SELECT nope"}, // fails
		&pgproto3.Bind{},                      // skipped: the unnamed statement is gone
		&pgproto3.Execute{},                   // skipped
		&pgproto3.Query{String: "SELECT 2"},   // skipped too, as PostgreSQL does
		&pgproto3.Parse{Name: "later", Query: "SELECT 3"},
		&pgproto3.Sync{},
	)
	msgs := c.until('Z')
	require.Equal(t, "12DCEZ", types(msgs))
	e := msgs[4].(*pgproto3.ErrorResponse)
	require.Equal(t, "42703", e.Code)
	require.Equal(t, int32(8), e.Position)

	// Work resumes after Sync; "later" was never prepared.
	c.send(&pgproto3.Bind{PreparedStatement: "later"}, &pgproto3.Sync{})
	require.Equal(t, "26000", c.until('Z')[0].(*pgproto3.ErrorResponse).Code)
	c.send(&pgproto3.Parse{Query: "SELECT 4"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
	msgs = c.until('Z')
	require.Equal(t, "12DCZ", types(msgs))
	require.Equal(t, []string{"4"}, dataRow(msgs[2]))
}

func TestPortalSuspension(t *testing.T) {
	ts := startServer(t)
	c := connectRaw(t, ts.addr)

	t.Run("resumed by Execute before Sync", func(t *testing.T) {
		c.send(&pgproto3.Parse{Query: "SELECT series 10"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 3}, &pgproto3.Flush{})
		msgs := c.until('s')
		require.Equal(t, "12DDDs", types(msgs))
		require.Equal(t, []string{"3"}, dataRow(msgs[4]))

		c.send(&pgproto3.Execute{MaxRows: 3}, &pgproto3.Flush{})
		msgs = c.until('s')
		require.Equal(t, "DDDs", types(msgs))
		require.Equal(t, []string{"4"}, dataRow(msgs[0]))

		c.send(&pgproto3.Execute{}, &pgproto3.Sync{})
		msgs = c.until('Z')
		require.Equal(t, "DDDDCZ", types(msgs))
		require.Equal(t, []string{"10"}, dataRow(msgs[3]))
		require.Equal(t, "SELECT 4", tag(msgs[4])) // PostgreSQL counts this Execute's rows
	})

	t.Run("kept across Sync inside a transaction", func(t *testing.T) {
		c.send(&pgproto3.Query{String: "BEGIN"})
		c.until('Z')
		c.send(&pgproto3.Parse{Query: "SELECT series 5"}, &pgproto3.Bind{DestinationPortal: "C_1"},
			&pgproto3.Execute{Portal: "C_1", MaxRows: 2}, &pgproto3.Sync{})
		msgs := c.until('Z')
		require.Equal(t, "12DDsZ", types(msgs))
		require.Equal(t, byte('T'), msgs[5].(*pgproto3.ReadyForQuery).TxStatus)

		c.send(&pgproto3.Execute{Portal: "C_1", MaxRows: 2}, &pgproto3.Sync{})
		require.Equal(t, "DDsZ", types(c.until('Z')))
		c.send(&pgproto3.Execute{Portal: "C_1", MaxRows: 2}, &pgproto3.Sync{})
		msgs = c.until('Z')
		require.Equal(t, "DCZ", types(msgs))
		require.Equal(t, "SELECT 1", tag(msgs[1]))
		c.send(&pgproto3.Query{String: "COMMIT"}) // ends the transaction: the portal goes
		c.until('Z')
		c.send(&pgproto3.Execute{Portal: "C_1"}, &pgproto3.Sync{})
		require.Equal(t, "34000", c.until('Z')[0].(*pgproto3.ErrorResponse).Code)
	})

	t.Run("closed by Sync when idle", func(t *testing.T) {
		c.send(&pgproto3.Parse{Query: "SELECT series 5"}, &pgproto3.Bind{DestinationPortal: "C_2"},
			&pgproto3.Execute{Portal: "C_2", MaxRows: 2}, &pgproto3.Sync{})
		require.Equal(t, "12DDsZ", types(c.until('Z')))
		c.send(&pgproto3.Execute{Portal: "C_2", MaxRows: 2}, &pgproto3.Sync{})
		msgs := c.until('Z')
		require.Equal(t, "EZ", types(msgs))
		require.Equal(t, "34000", msgs[0].(*pgproto3.ErrorResponse).Code)
	})
}

func TestFlushWithoutSync(t *testing.T) {
	ts := startServer(t)
	c := connectRaw(t, ts.addr)

	// postgres.js: Parse + Describe + Flush, then waits for ParameterDescription before
	// it sends Bind. Without the Flush the reply would sit in the buffer and this would
	// time out.
	c.send(&pgproto3.Parse{Name: "pj", Query: "SELECT $1::int4"}, &pgproto3.Describe{ObjectType: 'S', Name: "pj"}, &pgproto3.Flush{})
	msgs := c.until('T')
	require.Equal(t, "1tT", types(msgs))
	require.Equal(t, []uint32{23}, msgs[1].(*pgproto3.ParameterDescription).ParameterOIDs)

	c.send(&pgproto3.Bind{PreparedStatement: "pj", Parameters: [][]byte{[]byte("5")}}, &pgproto3.Execute{}, &pgproto3.Sync{})
	msgs = c.until('Z')
	require.Equal(t, "2DCZ", types(msgs))
	require.Equal(t, []string{"5"}, dataRow(msgs[1]))
}

func TestMalformedMessage(t *testing.T) {
	ts := startServer(t)
	good := connectRaw(t, ts.addr)

	for _, tc := range []struct {
		name string
		raw  []byte
	}{
		{"length below 4", []byte{'Q', 0, 0, 0, 2}},
		{"unknown type byte", []byte{'!', 0, 0, 0, 4}},
		{"Parse without terminators", []byte{'P', 0, 0, 0, 7, 'a', 'b', 'c'}},
		{"Bind with a short parameter", []byte{'B', 0, 0, 0, 14, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9, 'x', 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := connectRaw(t, ts.addr)
			_, err := bad.nc.Write(tc.raw)
			require.NoError(t, err)
			e := bad.receive().(*pgproto3.ErrorResponse)
			require.Equal(t, "08P01", e.Code)
			require.Equal(t, "FATAL", e.Severity)
			bad.expectEOF()

			// The other connection, and new ones, are unaffected.
			good.send(&pgproto3.Query{String: "SELECT 1"})
			require.Equal(t, "TDCZ", types(good.until('Z')))
		})
	}
}

func TestPanicIsContained(t *testing.T) {
	ts := startServer(t)
	other := connectRaw(t, ts.addr)
	c := connectRaw(t, ts.addr)

	c.send(&pgproto3.Query{String: "SELECT panic"})
	e := c.receive().(*pgproto3.ErrorResponse)
	require.Equal(t, "XX000", e.Code)
	require.Contains(t, e.Message, "internal error: fake engine exploded")
	c.expectEOF()

	other.send(&pgproto3.Query{String: "SELECT 1"})
	require.Equal(t, "TDCZ", types(other.until('Z')))
	connectRaw(t, ts.addr)
}

func TestCancelRequestRaw(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts.addr)
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "weir"}})
	msgs := c.until('Z')
	key := msgs[len(msgs)-2].(*pgproto3.BackendKeyData)

	cancel := func(secret []byte) {
		cc := dialRaw(t, ts.addr)
		cc.send(&pgproto3.CancelRequest{ProcessID: key.ProcessID, SecretKey: secret})
		cc.expectEOF() // the server closes the cancel connection once it has acted
	}

	c.send(&pgproto3.Query{String: "SELECT block"})
	<-ts.eng.blocked
	cancel([]byte{0, 0, 0, 0}) // wrong key: ignored
	cancel(key.SecretKey)
	msgs = c.until('Z')
	require.Equal(t, "EZ", types(msgs))
	e := msgs[0].(*pgproto3.ErrorResponse)
	require.Equal(t, "57014", e.Code)
	require.Equal(t, "canceling statement due to user request", e.Message)

	c.send(&pgproto3.Query{String: "SELECT 1"})
	require.Equal(t, "TDCZ", types(c.until('Z')))
}

func TestShutdown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	eng := newFakeEngine()
	srv := NewServer(Config{}, eng, testLogger(t))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	idle := connectRaw(t, ln.Addr().String())
	busy := connectRaw(t, ln.Addr().String())
	busy.send(&pgproto3.Query{String: "SELECT block"})
	<-eng.blocked
	half := dialRaw(t, ln.Addr().String()) // connected, startup never sent
	_ = half

	require.NoError(t, srv.Shutdown(t.Context()))
	require.NoError(t, <-served)
	require.Zero(t, eng.open.Load(), "every session closed")
	srv.mu.Lock()
	require.Empty(t, srv.conns)
	require.Empty(t, srv.keys)
	srv.mu.Unlock()

	idle.expectEOF()
	half.expectEOF()
	// The cancelled statement may or may not get its 57P01 out before the socket closes.
	for {
		msg, err := busy.fe.Receive()
		if err != nil {
			break
		}
		if e, ok := msg.(*pgproto3.ErrorResponse); ok {
			require.Equal(t, "57P01", e.Code)
		} else {
			require.IsType(t, &pgproto3.ReadyForQuery{}, msg)
		}
	}
	_, err = net.Dial("tcp", ln.Addr().String())
	require.Error(t, err)

	require.ErrorIs(t, srv.Serve(ln), ErrServerClosed)
	require.NoError(t, srv.Shutdown(t.Context()))
}

// countingListener counts the writes the server makes on its connections.
type countingListener struct {
	net.Listener
	writes *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: nc, writes: l.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

func TestOutputIsBatched(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	writes := &atomic.Int64{}
	srv := NewServer(Config{}, newFakeEngine(), testLogger(t))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(countingListener{Listener: ln, writes: writes}) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		require.NoError(t, <-served)
	})

	c := connectRaw(t, ln.Addr().String())
	before := writes.Load()
	c.send(&pgproto3.Query{String: "SELECT series 20000"}) // ~300 KiB of DataRows
	msgs := c.until('Z')
	require.Len(t, msgs, 20003)
	n := writes.Load() - before
	require.Less(t, n, int64(20), "20000 rows took %d writes", n)
	require.Greater(t, n, int64(1), "rows should stream out in 32 KiB batches, not wait for the end")
}
