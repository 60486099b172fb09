package pgwire

import (
	"context"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/pgcopy"
	"github.com/weirdb/weir/internal/sqlerr"
)

// fakeCopy is the fake engine's COPY: FROM STDIN reads one text column into the
// session's lines; TO STDOUT sends a series.
type fakeCopy struct {
	fakeStmt
	info Copy
}

func (s *fakeSession) prepareCopy(sql string) (Statement, error) {
	st := &fakeCopy{fakeStmt: fakeStmt{sess: s, sql: sql}}
	switch {
	case strings.HasPrefix(sql, "copy lines from stdin"):
		st.info = Copy{From: true, Columns: 1, Options: pgcopy.Defaults(pgcopy.Text)}
		if strings.HasSuffix(sql, "binary") {
			st.info.Options = pgcopy.Defaults(pgcopy.Binary)
		}
	case strings.HasPrefix(sql, "copy (select series "):
		f := strings.Fields(strings.TrimPrefix(sql, "copy (select series "))
		if len(f) == 0 {
			return nil, sqlerr.New(sqlerr.SyntaxError, "bad series")
		}
		n, err := strconv.Atoi(f[0][:1])
		if err != nil {
			return nil, sqlerr.New(sqlerr.SyntaxError, "bad series")
		}
		st.cols = []Column{{Name: "series", OID: pgtype.Int8OID}}
		for i := 1; i <= n; i++ {
			st.rows = append(st.rows, []any{int64(i)})
		}
		st.info = Copy{Options: pgcopy.Defaults(pgcopy.Text)}
		if strings.Contains(sql, " csv") {
			st.info.Options = pgcopy.Defaults(pgcopy.CSV)
		}
		if strings.Contains(sql, " header") {
			st.info.Options.Header = pgcopy.HeaderOn
		}
	default:
		return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at or near %q", sql).At(1)
	}
	return st, nil
}

func (st *fakeCopy) Columns() []Column { return nil }
func (st *fakeCopy) Copy() *Copy       { return &st.info }

func (st *fakeCopy) Execute(ctx context.Context, params []any) (Rows, error) {
	return &fakeRows{ctx: ctx, cols: st.cols, rows: st.rows, tag: "SELECT"}, nil
}

func (st *fakeCopy) CopyFrom(ctx context.Context, r io.Reader) (int64, error) {
	rd := pgcopy.NewReader(r, st.info.Options, []string{"line"})
	var lines []string
	for rd.Next() {
		f := rd.Fields()
		if len(f) != 1 {
			return 0, sqlerr.New(sqlerr.BadCopyFileFormat, "extra data after last expected column")
		}
		if string(f[0]) == "bad" {
			return 0, sqlerr.New(sqlerr.InvalidTextRepresentation, "bad line").WithWhere("COPY lines, line %d", rd.Line())
		}
		lines = append(lines, string(f[0]))
	}
	if err := rd.Err(); err != nil {
		return 0, err
	}
	st.sess.mu.Lock()
	st.sess.lines = append(st.sess.lines, lines...)
	st.sess.mu.Unlock()
	return int64(len(lines)), nil
}

func errorOf(t *testing.T, m pgproto3.BackendMessage) *pgproto3.ErrorResponse {
	t.Helper()
	e, ok := m.(*pgproto3.ErrorResponse)
	require.True(t, ok, "want ErrorResponse, got %T", m)
	return e
}

// TestCopyInSimple: Query → CopyInResponse; CopyData… CopyDone → CommandComplete
// "COPY n", ReadyForQuery.
func TestCopyInSimple(t *testing.T) {
	ts := startServer(t)
	c := connectRaw(t, ts.addr)
	c.send(&pgproto3.Query{String: "COPY lines FROM STDIN"})
	g := c.receive().(*pgproto3.CopyInResponse)
	require.Equal(t, byte(0), g.OverallFormat)
	require.Equal(t, []uint16{0}, g.ColumnFormatCodes)
	c.send(&pgproto3.CopyData{Data: []byte("a\nb")}, &pgproto3.CopyData{Data: []byte("c\n\\N\n")}, &pgproto3.CopyDone{})
	msgs := c.until('Z')
	require.Equal(t, "CZ", types(msgs))
	require.Equal(t, "COPY 3", tag(msgs[0]))

	c.send(&pgproto3.Query{String: "COPY lines FROM STDIN BINARY"})
	g = c.receive().(*pgproto3.CopyInResponse)
	require.Equal(t, byte(1), g.OverallFormat)
	require.Equal(t, []uint16{1}, g.ColumnFormatCodes)
	c.send(&pgproto3.CopyData{Data: []byte("PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01x\xff\xff")}, &pgproto3.CopyDone{})
	msgs = c.until('Z')
	require.Equal(t, "COPY 1", tag(msgs[0]))
}

// TestCopyFail: the client's CopyFail fails the COPY with 57014, and the connection
// takes the next COPY.
func TestCopyFail(t *testing.T) {
	ts := startServer(t)
	c := connectRaw(t, ts.addr)
	c.send(&pgproto3.Query{String: "COPY lines FROM STDIN"})
	require.IsType(t, &pgproto3.CopyInResponse{}, c.receive())
	c.send(&pgproto3.CopyData{Data: []byte("a\n")}, &pgproto3.CopyFail{Message: "client gave up"})
	msgs := c.until('Z')
	require.Equal(t, "EZ", types(msgs))
	e := errorOf(t, msgs[0])
	require.Equal(t, "57014", e.Code)
	require.Equal(t, "COPY from stdin failed: client gave up", e.Message)

	c.send(&pgproto3.Query{String: "COPY lines FROM STDIN"})
	require.IsType(t, &pgproto3.CopyInResponse{}, c.receive())
	c.send(&pgproto3.CopyData{Data: []byte("b\n")}, &pgproto3.CopyDone{})
	require.Equal(t, "COPY 1", tag(c.until('Z')[0]))
}

// TestCopyInError: a bad row ends the COPY at once (ErrorResponse with the Where, then
// ReadyForQuery and the rest of the Query skipped); the client's later CopyData and
// CopyDone are dropped, and the connection goes on.
func TestCopyInError(t *testing.T) {
	ts := startServer(t)
	c := connectRaw(t, ts.addr)
	c.send(&pgproto3.Query{String: "COPY lines FROM STDIN; SELECT 1"})
	require.IsType(t, &pgproto3.CopyInResponse{}, c.receive())
	c.send(&pgproto3.CopyData{Data: []byte("ok\nbad\n")})
	msgs := c.until('Z')
	require.Equal(t, "EZ", types(msgs))
	e := errorOf(t, msgs[0])
	require.Equal(t, "22P02", e.Code)
	require.Equal(t, "COPY lines, line 2", e.Where)
	c.send(&pgproto3.CopyData{Data: []byte("late\n")}, &pgproto3.CopyDone{}, &pgproto3.Query{String: "SELECT 7"})
	msgs = c.until('Z')
	require.Equal(t, "TDCZ", types(msgs))
	require.Equal(t, []string{"7"}, dataRow(msgs[1]))
}

// TestCopyInExtended: in the extended protocol, Sync and Flush during copy-in are
// ignored (libpq sends Sync right after Execute), CommandComplete waits for the Sync
// that follows CopyDone, and an error skips to Sync.
func TestCopyInExtended(t *testing.T) {
	ts := startServer(t)
	c := connectRaw(t, ts.addr)
	c.send(&pgproto3.Parse{Query: "COPY lines FROM STDIN"}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
	require.Equal(t, "12nG", types(c.until('G')))
	c.send(&pgproto3.CopyData{Data: []byte("x\n")}, &pgproto3.Flush{}, &pgproto3.CopyDone{}, &pgproto3.Sync{})
	msgs := c.until('Z')
	require.Equal(t, "CZ", types(msgs))
	require.Equal(t, "COPY 1", tag(msgs[0]))

	c.send(&pgproto3.Parse{Query: "COPY lines FROM STDIN"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{})
	require.Equal(t, "12G", types(c.until('G')))
	c.send(&pgproto3.CopyData{Data: []byte("bad\n")}, &pgproto3.CopyDone{}, &pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Sync{})
	msgs = c.until('Z')
	require.Equal(t, "EZ", types(msgs))
	require.Equal(t, "22P02", errorOf(t, msgs[0]).Code)
	c.send(&pgproto3.Query{String: "SELECT 2"})
	require.Equal(t, "TDCZ", types(c.until('Z')))
}

// TestCopyInUnexpectedMessage: a message that has no place in a copy fails it with
// 08P01 and ends the connection, as PostgreSQL does ("protocol synchronization was
// lost").
func TestCopyInUnexpectedMessage(t *testing.T) {
	ts := startServer(t)
	c := connectRaw(t, ts.addr)
	c.send(&pgproto3.Query{String: "COPY lines FROM STDIN"})
	require.IsType(t, &pgproto3.CopyInResponse{}, c.receive())
	c.send(&pgproto3.CopyData{Data: []byte("a\n")}, &pgproto3.Query{String: "SELECT 1"})
	e := errorOf(t, c.receive())
	require.Equal(t, "ERROR", e.Severity)
	require.Equal(t, "08P01", e.Code)
	require.Equal(t, "unexpected message type 0x51 during COPY from stdin", e.Message)
	e = errorOf(t, c.receive())
	require.Equal(t, "FATAL", e.Severity)
	c.expectEOF()
}

// TestCopyInConnectionLost: a client that disappears mid-copy frees its session.
func TestCopyInConnectionLost(t *testing.T) {
	ts := startServer(t)
	c := connectRaw(t, ts.addr)
	c.send(&pgproto3.Query{String: "COPY lines FROM STDIN"})
	require.IsType(t, &pgproto3.CopyInResponse{}, c.receive())
	c.send(&pgproto3.CopyData{Data: []byte("a\n")})
	require.NoError(t, c.nc.Close())
	// startServer's cleanup checks that no session is left open.
}

// TestCopyOut: COPY … TO STDOUT answers CopyOutResponse, a CopyData per row in the
// statement's format, CopyDone and "COPY n", in both protocols; Describe says NoData.
func TestCopyOut(t *testing.T) {
	ts := startServer(t)
	c := connectRaw(t, ts.addr)
	c.send(&pgproto3.Query{String: "COPY (SELECT series 3) TO STDOUT"})
	msgs := c.until('Z')
	require.Equal(t, "HdddcCZ", types(msgs))
	h := msgs[0].(*pgproto3.CopyOutResponse)
	require.Equal(t, []uint16{0}, h.ColumnFormatCodes)
	require.Equal(t, "COPY 3", tag(msgs[5]))

	c.send(&pgproto3.Parse{Query: "COPY (SELECT series 2) TO STDOUT CSV HEADER"}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'},
		&pgproto3.Execute{MaxRows: 1}, &pgproto3.Sync{})
	var got []string
	for {
		m, err := c.fe.Receive()
		require.NoError(t, err)
		if d, ok := m.(*pgproto3.CopyData); ok {
			got = append(got, string(d.Data))
		}
		if typeByte(m) == 'Z' {
			break
		}
	}
	require.Equal(t, []string{"series\n", "1\n", "2\n"}, got, "the row limit does not apply to COPY")
}
