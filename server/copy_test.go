package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/pgtest"
	"github.com/weirdb/weir/internal/slt"
	"github.com/weirdb/weir/server"
)

// startWeir boots a database and server on loopback ports chosen by the kernel and
// returns a DSN for it.
func startWeir(t testing.TB) string {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := db.Open(t.Context(), db.Config{Dir: t.TempDir()}, logger)
	require.NoError(t, err)
	srv, err := server.Start(server.Config{PGAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, d, logger)
	if err != nil {
		d.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		require.NoError(t, d.Close())
	})
	return "postgres://weir@" + srv.PGAddr() + "/weir?sslmode=disable"
}

func connect(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

// target is a server under test: Weir, or PostgreSQL 15 holding the same schema (sources
// as tables, materialized views refreshed before they are read).
type target struct {
	name string
	conn *pgx.Conn
	dsn  string
	pg   bool
}

// bothTargets starts Weir and PostgreSQL 15 and creates schema in each.
func bothTargets(t *testing.T, schema ...string) []*target {
	t.Helper()
	weir := &target{name: "weir", dsn: startWeir(t)}
	pg := &target{name: "postgres", dsn: pgtest.Start(t).DSN(), pg: true}
	for _, tg := range []*target{weir, pg} {
		tg.conn = connect(t, tg.dsn)
		for _, q := range schema {
			if tg.pg {
				q = slt.RewriteForPostgres(q)
			}
			_, err := tg.conn.Exec(t.Context(), q)
			require.NoError(t, err, "%s: %s", tg.name, q)
		}
	}
	return []*target{weir, pg}
}

// copyIn runs a COPY … FROM STDIN with data, as psql and lib/pq send it.
func (tg *target) copyIn(t *testing.T, stmt, data string) (pgconn.CommandTag, error) {
	t.Helper()
	return tg.conn.PgConn().CopyFrom(t.Context(), strings.NewReader(data), stmt)
}

// copyOut runs a COPY … TO STDOUT and returns the data. On PostgreSQL, materialized
// views are refreshed first.
func (tg *target) copyOut(t *testing.T, stmt string) string {
	t.Helper()
	if tg.pg {
		tg.refresh(t)
	}
	var buf bytes.Buffer
	tag, err := tg.conn.PgConn().CopyTo(t.Context(), &buf, stmt)
	require.NoError(t, err, "%s: %s", tg.name, stmt)
	require.True(t, strings.HasPrefix(tag.String(), "COPY "), tag.String())
	return buf.String()
}

func (tg *target) refresh(t *testing.T) {
	t.Helper()
	rows, err := tg.conn.Query(t.Context(), `SELECT matviewname FROM pg_matviews`)
	require.NoError(t, err)
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	for _, n := range names {
		_, err := tg.conn.Exec(t.Context(), "REFRESH MATERIALIZED VIEW "+pgx.Identifier{n}.Sanitize())
		require.NoError(t, err)
	}
}

func (tg *target) count(t *testing.T, rel string) int64 {
	t.Helper()
	var n int64
	require.NoError(t, tg.conn.QueryRow(t.Context(), "SELECT count(*) FROM "+rel).Scan(&n))
	return n
}

const copySchema = `CREATE SOURCE ev (id bigint NOT NULL, room int, name text, note varchar(8), amount numeric(10,2),
	score float8, ok bool, day date, at timestamp, ts timestamptz, span interval, doc jsonb)`

// copyFiles are COPY data in the formats users load: PostgreSQL's text format with its
// escapes, CSV with quotes, embedded line breaks and NULLs, a header, CRLF line ends, and
// custom delimiters and null strings.
var copyFiles = []struct{ name, stmt, data string }{
	{"text", "COPY ev FROM STDIN", "" +
		"1\t1\tplain\tn1\t12.5\t1.5\tt\t2026-01-01\t2026-01-01 10:00:00\t2026-01-01 10:00:00.25+00\t1 day 2 hours\t{\"a\": 1}\n" +
		"2\t1\ttab\\there\t\\N\t-0.01\t-0\tf\t2026-02-28\t2026-01-01 10:00:00.123456\t2026-01-01 12:00:00-05\t-3 mons\t[1, \"x\"]\n" +
		"3\t2\tline\\nbreak \\\\ back\\\\slash\t\\x41\\102C\t1e2\t1e-7\tyes\t1999-12-31\t2000-01-01 00:00:00\t1970-01-01 00:00:00+00\t00:00:01.5\t{\"b\": [true, null]}\n" +
		"4\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n" +
		"5\t3\tünïcødé ✓\t\t0\tInfinity\toff\t2026-12-31\t2026-06-15 23:59:59\t2026-06-15T23:59:59Z\t@ 1 minute\tnull\n" +
		"\\.\n" +
		"ignored after the end marker\n"},
	{"csv", "COPY ev (id, room, name, note, amount, ts) FROM STDIN (FORMAT csv, HEADER)", "" +
		"id,room,name,note,amount,ts\n" +
		"10,4,\"quoted, with comma\",\"\",1.005,2026-01-02 00:00:00+00\n" +
		"11,4,\"say \"\"hi\"\"\",x,,2026-01-02 00:00:01+00\n" +
		"12,5,\"two\nlines\",,7,2026-01-02 00:00:02+00\n" +
		"13,5,,\"\",-2,\n"},
	{"csv crlf", "COPY ev (id, room, name) FROM STDIN WITH CSV", "20,6,a\r\n21,6,\"b\r\nc\"\r\n22,6,\\.x\r\n"},
	{"custom", "COPY ev (id, room, name, note) FROM STDIN (DELIMITER '|', NULL 'NULL')", "30|7|a\\|b|NULL\n31|7|NULL|\\N\n"},
	{"csv options", "COPY ev (id, room, name, note) FROM STDIN (FORMAT csv, DELIMITER ';', QUOTE '''', ESCAPE '\\', NULL 'nil', FORCE_NOT_NULL (name), FORCE_NULL (note))", "" +
		"40;8;nil;'nil'\n" +
		"41;8;'it\\'s';'x'\n"},
}

// TestCopyMatchesPostgres loads the same COPY data into Weir and PostgreSQL 15 and
// checks that both hold the same rows and views, read back through COPY TO in text and
// CSV and through the driver.
func TestCopyMatchesPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("PostgreSQL comparison runs in the full suite")
	}
	targets := bothTargets(t, copySchema,
		`CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n, sum(amount) AS total, max(ts) AS last, count(note) AS notes FROM ev GROUP BY room`)
	for _, f := range copyFiles {
		var tags []string
		for _, tg := range targets {
			tag, err := tg.copyIn(t, f.stmt, f.data)
			require.NoError(t, err, "%s: %s", tg.name, f.name)
			tags = append(tags, tag.String())
		}
		require.Equal(t, tags[1], tags[0], f.name)
	}
	for _, q := range []string{
		"COPY (SELECT * FROM ev ORDER BY id) TO STDOUT",
		"COPY (SELECT * FROM ev ORDER BY id) TO STDOUT (FORMAT csv, HEADER)",
		"COPY (SELECT id, name, note FROM ev ORDER BY id) TO STDOUT (FORMAT csv, FORCE_QUOTE *, NULL 'NULL')",
		"COPY (SELECT id, name FROM ev ORDER BY id) TO STDOUT (DELIMITER '|')",
		"COPY (SELECT name FROM ev WHERE id IN (22, 30) ORDER BY id) TO STDOUT (FORMAT csv)",
		"COPY (SELECT * FROM per_room ORDER BY room) TO STDOUT",
		"COPY (SELECT * FROM per_room ORDER BY room) TO STDOUT WITH CSV HEADER",
	} {
		want := targets[1].copyOut(t, q)
		require.Equal(t, want, targets[0].copyOut(t, q), q)
	}
	// COPY relation TO has no order; compare sorted lines.
	for _, q := range []string{"COPY ev TO STDOUT", "COPY ev (name, id) TO STDOUT (FORMAT csv, HEADER, FORCE_QUOTE (name))"} {
		want := strings.Split(targets[1].copyOut(t, q), "\n")
		got := strings.Split(targets[0].copyOut(t, q), "\n")
		sort.Strings(want)
		sort.Strings(got)
		require.Equal(t, want, got, q)
	}
}

// pgError returns err's *pgconn.PgError.
func pgError(t *testing.T, err error) *pgconn.PgError {
	t.Helper()
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe), "want a PgError, got %v", err)
	return pe
}

// failingReader returns data, then fails: pgconn then sends CopyFail with the error.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestCopyErrorsMatchPostgres runs failing COPYs on Weir and PostgreSQL 15 and checks
// that both fail the same way (SQLSTATE, message, detail, hint and the CONTEXT that
// names line and column), that nothing of a failed COPY is stored, and that the
// connection goes on.
func TestCopyErrorsMatchPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("PostgreSQL comparison runs in the full suite")
	}
	targets := bothTargets(t, copySchema,
		`CREATE TABLE users (id bigint PRIMARY KEY, name text NOT NULL)`,
		`CREATE MATERIALIZED VIEW v AS SELECT room, count(*) AS n FROM ev GROUP BY room`)
	for _, tg := range targets {
		_, err := tg.copyIn(t, "COPY users FROM STDIN", "1\tann\n")
		require.NoError(t, err)
	}
	pgcopyHeader := "PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	cases := []struct{ name, stmt, data string }{
		{"bad bigint", "COPY ev (id, room) FROM STDIN", "1\t2\n2\t3\ngarbage\t4\n"},
		{"bad timestamptz", "COPY ev (id, ts) FROM STDIN", "1\t2026-01-01\n2\t2026-01-01 00:00:00+00\n3\tgarbage\n"},
		{"bad date field", "COPY ev (id, day) FROM STDIN", "1\t2026-02-30\n"},
		{"int overflow", "COPY ev (id, room) FROM STDIN", "1\t99999999999\n"},
		{"numeric overflow", "COPY ev (id, amount) FROM STDIN (FORMAT csv)", "1,1\n2,123456789.5\n"},
		{"too long", "COPY ev (id, note) FROM STDIN", "1\tshort\n2\tmuch too long\n"},
		{"bad bool", "COPY ev (id, ok) FROM STDIN", "1\tmaybe\n"},
		{"bad jsonb", "COPY ev (id, doc) FROM STDIN", "1\t{\"a\":\n"},
		{"not null", "COPY ev (id, room, name) FROM STDIN", "1\t2\tx\n\\N\t3\ty\n"},
		{"not null absent", "COPY ev (room) FROM STDIN", "1\n"},
		{"missing column", "COPY ev (id, room, name) FROM STDIN", "1\t2\tx\n2\t3\n"},
		{"extra column", "COPY ev (id, room) FROM STDIN (FORMAT csv)", "1,2\n2,3,4\n"},
		{"unterminated csv", "COPY ev (id, name) FROM STDIN (FORMAT csv)", "1,\"ok\"\n2,\"open\n"},
		{"literal carriage return", "COPY ev (id, name) FROM STDIN", "1\ta\n2\tb\rc\n"},
		{"unquoted newline in crlf csv", "COPY ev (id, name) FROM STDIN (FORMAT csv)", "1,a\r\n2,b\n"},
		{"corrupt end marker", "COPY ev (id, name) FROM STDIN", "1\ta\n\\.x\n"},
		{"invalid utf8", "COPY ev (id, name) FROM STDIN", "1\ta\n2\tb\xff\n"},
		{"escaped invalid utf8", "COPY ev (id, name) FROM STDIN", "1\t\\xff\n"},
		{"header mismatch", "COPY ev (id, name) FROM STDIN (FORMAT csv, HEADER MATCH)", "id,nom\n1,a\n"},
		{"header count", "COPY ev (id, name) FROM STDIN (FORMAT csv, HEADER match)", "id\n"},
		{"duplicate key in data", "COPY users FROM STDIN", "2\tbob\n3\tcid\n2\tbob again\n"},
		{"duplicate existing key", "COPY users FROM STDIN (FORMAT csv)", "5,eve\n1,ann again\n"},
		{"table not null", "COPY users (id) FROM STDIN", "9\n"},
		{"binary signature", "COPY ev (id) FROM STDIN (FORMAT binary)", "PGCOPY\nxx"},
		{"binary field count", "COPY ev (id) FROM STDIN (FORMAT binary)", pgcopyHeader + "\x00\x02\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x01\xff\xff\xff\xff"},
		{"binary short value", "COPY ev (id) FROM STDIN (FORMAT binary)", pgcopyHeader + "\x00\x01\x00\x00\x00\x04\x00\x00\x00\x01"},
		{"binary long value", "COPY ev (id, room) FROM STDIN (FORMAT binary)", pgcopyHeader + "\x00\x02\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x01"},
		{"binary truncated", "COPY ev (id) FROM STDIN (FORMAT binary)", pgcopyHeader + "\x00\x01\x00\x00\x00\x08\x00\x00"},
		{"binary data after trailer", "COPY ev (id) FROM STDIN (FORMAT binary)", pgcopyHeader + "\xff\xffjunk"},
		{"format", "COPY ev FROM STDIN (FORMAT xml)", ""},
		{"unknown option", "COPY ev FROM STDIN (COLOUR 'red')", ""},
		{"redundant option", "COPY ev FROM STDIN (FORMAT csv, FORMAT text)", ""},
		{"long delimiter", "COPY ev FROM STDIN (DELIMITER '||')", ""},
		{"bad text delimiter", "COPY ev FROM STDIN (DELIMITER 'a')", ""},
		{"quote in text", "COPY ev FROM STDIN (QUOTE '\"')", ""},
		{"binary delimiter", "COPY ev FROM STDIN (FORMAT binary, DELIMITER ',')", ""},
		{"binary header", "COPY ev FROM STDIN (FORMAT binary, HEADER)", ""},
		{"delimiter in null", "COPY ev FROM STDIN (FORMAT csv, NULL 'a,b')", ""},
		{"force quote from", "COPY ev FROM STDIN (FORMAT csv, FORCE_QUOTE (id))", ""},
		{"force null unreferenced", "COPY ev (id) FROM STDIN (FORMAT csv, FORCE_NULL (name))", ""},
		{"force null unknown", "COPY ev (id) FROM STDIN (FORMAT csv, FORCE_NULL (nope))", ""},
		{"header value", "COPY ev FROM STDIN (HEADER 2)", ""},
		{"unknown column", "COPY ev (id, nope) FROM STDIN", ""},
		{"duplicate column", "COPY ev (id, id) FROM STDIN", ""},
		{"unknown relation", "COPY nope FROM STDIN", ""},
		{"into a view", "COPY v FROM STDIN", ""},
		{"from a view", "COPY v TO STDOUT", ""},
		{"header match to", "COPY ev TO STDOUT (HEADER match)", ""},
		{"force not null to", "COPY ev TO STDOUT (FORMAT csv, FORCE_NOT_NULL (id))", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want *pgconn.PgError
			for _, tg := range targets {
				before := tg.count(t, "ev") + tg.count(t, "users")
				var err error
				if strings.Contains(tc.stmt, " TO STDOUT") {
					_, err = tg.conn.PgConn().CopyTo(t.Context(), io.Discard, tc.stmt)
				} else {
					_, err = tg.copyIn(t, tc.stmt, tc.data)
				}
				require.Error(t, err, tg.name)
				pe := pgError(t, err)
				got := fmt.Sprintf("%s %s\ndetail: %s\nhint: %s\nwhere: %s", pe.Code, pe.Message, pe.Detail, pe.Hint, pe.Where)
				if want == nil {
					want = pe
					t.Logf("%s", got)
				} else {
					wantWhere := want.Where
					if tc.name == "bad jsonb" {
						// PostgreSQL's JSON parser adds a context line of its own
						// ("JSON data, line 1: …") before the COPY's; Weir's does not.
						wantWhere = pe.Where[:strings.LastIndexByte(pe.Where, '\n')+1] + want.Where
					}
					require.Equal(t, fmt.Sprintf("%s %s\ndetail: %s\nhint: %s\nwhere: %s", want.Code, want.Message, want.Detail, want.Hint, wantWhere), got)
				}
				require.Equal(t, before, tg.count(t, "ev")+tg.count(t, "users"), "%s: a failed COPY stores nothing", tg.name)
			}
		})
	}

	t.Run("CopyFail", func(t *testing.T) {
		var msgs []string
		for _, tg := range targets {
			_, err := tg.conn.PgConn().CopyFrom(t.Context(), &failingReader{data: []byte("1\t2\n2\t3\n"), err: errors.New("the file went away")}, "COPY ev (id, room) FROM STDIN")
			pe := pgError(t, err)
			msgs = append(msgs, pe.Code+" "+pe.Message+" / "+pe.Where)
		}
		require.Equal(t, "57014 COPY from stdin failed: the file went away / COPY ev, line 3", msgs[0])
		require.Equal(t, msgs[1], msgs[0])
	})

	// Weir-only refusals: PostgreSQL's superuser could read the server's files.
	weir := targets[0]
	for _, stmt := range []string{"COPY ev FROM '/etc/passwd'", "COPY ev TO '/tmp/x'", "COPY ev FROM PROGRAM 'ls'", "COPY ev FROM STDIN WHERE id > 1"} {
		_, err := weir.conn.Exec(t.Context(), stmt)
		require.Equal(t, "0A000", pgError(t, err).Code, stmt)
	}
	// After all these failures the connections still COPY.
	for _, tg := range targets {
		tag, err := tg.copyIn(t, "COPY ev (id, room) FROM STDIN", "100\t1\n101\t1\n")
		require.NoError(t, err, tg.name)
		require.Equal(t, "COPY 2", tag.String())
	}
}

// rawConn is a pgproto3 frontend over a plain socket, for message-level comparisons.
type rawConn struct {
	t  *testing.T
	fe *pgproto3.Frontend
	nc net.Conn
}

func dialRaw(t *testing.T, dsn string) *rawConn {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	require.NoError(t, err)
	nc, err := net.Dial("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	require.NoError(t, err)
	t.Cleanup(func() { _ = nc.Close() })
	require.NoError(t, nc.SetDeadline(time.Now().Add(30*time.Second)))
	c := &rawConn{t: t, fe: pgproto3.NewFrontend(nc, nc), nc: nc}
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": cfg.User, "database": cfg.Database}})
	c.transcript('Z')
	return c
}

func (c *rawConn) send(msgs ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range msgs {
		c.fe.Send(m)
	}
	require.NoError(c.t, c.fe.Flush())
}

// transcript receives messages up to one of type until (or the end of the connection)
// and describes them: type bytes, then the CopyIn/OutResponse formats, CopyData
// payloads, tags and errors, which are what COPY's flows are made of.
func (c *rawConn) transcript(until byte) string {
	c.t.Helper()
	var types, details strings.Builder
	for {
		m, err := c.fe.Receive()
		if err != nil {
			types.WriteString("<eof>")
			break
		}
		buf, err := m.Encode(nil)
		require.NoError(c.t, err)
		types.WriteByte(buf[0])
		switch m := m.(type) {
		case *pgproto3.CopyInResponse:
			fmt.Fprintf(&details, "  G %d %v\n", m.OverallFormat, m.ColumnFormatCodes)
		case *pgproto3.CopyOutResponse:
			fmt.Fprintf(&details, "  H %d %v\n", m.OverallFormat, m.ColumnFormatCodes)
		case *pgproto3.CopyData:
			fmt.Fprintf(&details, "  d %q\n", m.Data)
		case *pgproto3.CommandComplete:
			fmt.Fprintf(&details, "  C %s\n", m.CommandTag)
		case *pgproto3.ErrorResponse:
			fmt.Fprintf(&details, "  E %s %s %s / %s\n", m.Severity, m.Code, m.Message, m.Where)
		}
		if buf[0] == until {
			break
		}
	}
	return types.String() + "\n" + details.String()
}

// TestCopyProtocolMatchesPostgres replays COPY message flows on Weir and PostgreSQL 15
// and compares the answers message by message: simple and extended protocol, Sync and
// Flush during copy-in, CopyFail, errors with data still coming, the end marker, binary
// streams, COPY TO in both protocols, and a message that has no place in a copy.
func TestCopyProtocolMatchesPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("PostgreSQL comparison runs in the full suite")
	}
	targets := bothTargets(t, `CREATE SOURCE zz (a int8 NOT NULL, b text)`)
	binHeader := "PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00"
	script := func(c *rawConn) string {
		var out strings.Builder
		step := func(label string, until byte, msgs ...pgproto3.FrontendMessage) {
			c.send(msgs...)
			out.WriteString(label + ": " + c.transcript(until))
		}
		step("extended, Sync right after Execute", 'G',
			&pgproto3.Parse{Query: "COPY zz FROM STDIN"}, &pgproto3.Bind{}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
		step("CopyDone then Sync", 'Z', &pgproto3.CopyData{Data: []byte("1\tx\n")}, &pgproto3.Flush{}, &pgproto3.CopyDone{}, &pgproto3.Sync{})
		step("CopyFail", 'G', &pgproto3.Query{String: "COPY zz FROM STDIN"})
		step("CopyFail", 'Z', &pgproto3.CopyData{Data: []byte("1\tx\n2\ty\n")}, &pgproto3.CopyFail{Message: "client gave up"})
		step("bad row, data still coming", 'G', &pgproto3.Query{String: "COPY zz FROM STDIN; SELECT 1"})
		step("bad row, data still coming", 'Z', &pgproto3.CopyData{Data: []byte("x\tx\n")})
		step("late data dropped", 'Z', &pgproto3.CopyData{Data: []byte("2\ty\n")}, &pgproto3.CopyDone{}, &pgproto3.Query{String: "SELECT count(*) FROM zz"})
		step("extended error", 'G', &pgproto3.Parse{Query: "COPY zz FROM STDIN"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{})
		step("extended error", 'Z', &pgproto3.CopyData{Data: []byte("q\tx\n")}, &pgproto3.CopyDone{}, &pgproto3.Parse{Query: "SELECT 1"}, &pgproto3.Sync{})
		step("extended COPY TO", 'Z', &pgproto3.Parse{Query: "COPY (SELECT 1 AS a, 'x\ty' AS b) TO STDOUT"}, &pgproto3.Bind{},
			&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{MaxRows: 1}, &pgproto3.Sync{})
		step("two COPY TO in one Query", 'Z', &pgproto3.Query{String: "COPY (SELECT a, b FROM zz) TO STDOUT; COPY (SELECT NULL::text AS n) TO STDOUT (FORMAT csv, HEADER)"})
		step("binary, empty stream", 'G', &pgproto3.Query{String: "COPY zz FROM STDIN (FORMAT binary)"})
		step("binary, empty stream", 'Z', &pgproto3.CopyDone{})
		step("binary trailer then CopyFail", 'G', &pgproto3.Query{String: "COPY zz FROM STDIN (FORMAT binary)"})
		step("binary trailer then CopyFail", 'Z', &pgproto3.CopyData{Data: []byte(binHeader + "\xff\xff")}, &pgproto3.CopyFail{Message: "late"})
		step("end marker then CopyFail", 'G', &pgproto3.Query{String: "COPY zz FROM STDIN"})
		step("end marker then CopyFail", 'Z', &pgproto3.CopyData{Data: []byte("5\tx\n\\.\n")}, &pgproto3.CopyFail{Message: "after marker"})
		step("end marker", 'G', &pgproto3.Query{String: "COPY zz FROM STDIN"})
		step("end marker", 'Z', &pgproto3.CopyData{Data: []byte("6\tx\n\\.\nnot data\n")}, &pgproto3.CopyDone{})
		step("unexpected message", 'G', &pgproto3.Query{String: "COPY zz FROM STDIN"})
		step("unexpected message", 'Z', &pgproto3.CopyData{Data: []byte("1\tx\n")}, &pgproto3.Query{String: "SELECT 1"})
		return out.String()
	}
	want := script(dialRaw(t, targets[1].dsn))
	require.Equal(t, want, script(dialRaw(t, targets[0].dsn)))
	t.Logf("PostgreSQL's transcript:\n%s", want)
}

// TestCopyPsql loads a CSV file with psql's \copy, reads a query back with \copy … TO,
// and shows a bad row's error as PostgreSQL prints it.
func TestCopyPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Fatal("psql not found: install postgresql-client-15 (.ci/run does)")
	}
	dsn := startWeir(t)
	conn := connect(t, dsn)
	_, err = conn.Exec(t.Context(), copySchema)
	require.NoError(t, err)
	_, err = conn.Exec(t.Context(), `CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n, sum(amount) AS total FROM ev GROUP BY room`)
	require.NoError(t, err)

	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	require.NoError(t, os.WriteFile(in, []byte("id,room,name,amount\n1,1,\"a, b\",1.50\n2,1,,2\n3,2,\"multi\nline\",3.25\n"), 0o644))
	bad := filepath.Join(dir, "bad.txt")
	require.NoError(t, os.WriteFile(bad, []byte("7\t1\n8\tx\n"), 0o644))
	out := filepath.Join(dir, "out.csv")
	run := func(cmds ...string) (string, error) {
		args := []string{"-X", "-v", "ON_ERROR_STOP=1", "-d", dsn}
		for _, c := range cmds {
			args = append(args, "-c", c)
		}
		b, err := exec.CommandContext(t.Context(), psql, args...).CombinedOutput()
		return string(b), err
	}
	got, err := run(`\copy ev (id, room, name, amount) FROM '`+in+`' WITH (FORMAT csv, HEADER)`,
		`\copy (SELECT room, n, total FROM per_room ORDER BY room) TO '`+out+`' WITH CSV HEADER`,
		`\copy (SELECT id, name FROM ev ORDER BY id) TO STDOUT`)
	require.NoError(t, err, got)
	require.Equal(t, "COPY 3\nCOPY 2\n1\ta, b\n2\t\\N\n3\tmulti\\nline\n", got)
	written, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, "room,n,total\n1,2,3.50\n2,1,3.25\n", string(written))

	got, err = run(`\copy ev (id, room) FROM '` + bad + `'`)
	require.Error(t, err)
	require.Contains(t, got, "ERROR:  invalid input syntax for type integer: \"x\"\nCONTEXT:  COPY ev, line 2, column room: \"x\"")
	var n int64
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT count(*) FROM ev").Scan(&n))
	require.Equal(t, int64(3), n, "the failed COPY stored nothing")
}

// copyTypesRow is one row of every type binary COPY carries.
type copyTypesRow struct {
	i2   int16
	i4   int32
	i8   int64
	f4   float32
	f8   float64
	num  pgtype.Numeric
	txt  string
	vc   string
	b    bool
	d    time.Time
	ts   time.Time
	tstz time.Time
	iv   pgtype.Interval
	js   string
}

// TestCopyPgx: pgx's CopyFrom sends binary COPY. Every type Weir has goes in and comes
// back; a source's view sees the rows; a large COPY is applied in chunks; a table gets
// INSERT's key check; a failing source of rows sends CopyFail and stores nothing.
func TestCopyPgx(t *testing.T) {
	dsn := startWeir(t)
	conn := connect(t, dsn)
	ctx := t.Context()
	for _, q := range []string{
		`CREATE SOURCE typed (i2 smallint, i4 integer, i8 bigint NOT NULL, f4 real, f8 double precision, num numeric(12,3),
			txt text, vc varchar(10), b boolean, d date, ts timestamp, tstz timestamptz, iv interval, js jsonb)`,
		`CREATE MATERIALIZED VIEW typed_sum AS SELECT b, count(*) AS n, sum(i8) AS s, sum(num) AS total FROM typed GROUP BY b`,
		`CREATE TABLE accounts (id bigint PRIMARY KEY, owner text NOT NULL)`,
	} {
		_, err := conn.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	cols := []string{"i2", "i4", "i8", "f4", "f8", "num", "txt", "vc", "b", "d", "ts", "tstz", "iv", "js"}
	at := time.Date(2026, 3, 4, 5, 6, 7, 891000, time.UTC)
	rows := [][]any{
		{int16(-2), int32(40000), int64(1) << 40, float32(1.5), 0.1, pgtype.Numeric{Int: big.NewInt(-123456), Exp: -3, Valid: true},
			"héllo\ttab", "short", true, time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), at, at,
			pgtype.Interval{Months: 14, Days: 3, Microseconds: 4e6, Valid: true}, `{"k": [1, "x"]}`},
		{nil, nil, int64(7), nil, nil, nil, nil, nil, false, nil, nil, nil, nil, nil},
		{int16(3), int32(-1), int64(-7), float32(-0.25), 1e300, pgtype.Numeric{Int: big.NewInt(5), Exp: 2, Valid: true},
			"", "", true, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1900, 1, 1, 0, 0, 0, 1000, time.UTC),
			time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), pgtype.Interval{Microseconds: -1, Valid: true}, `{}`},
	}
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"typed"}, cols, pgx.CopyFromRows(rows))
	require.NoError(t, err)
	require.Equal(t, int64(3), n)

	got, err := conn.Query(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM typed ORDER BY i8 DESC")
	require.NoError(t, err)
	var back []copyTypesRow
	for got.Next() {
		var r copyTypesRow
		var i2 *int16
		var i4 *int32
		var f4 *float32
		var f8 *float64
		var txt, vc *string
		var d, ts, tstz *time.Time
		var js *string
		require.NoError(t, got.Scan(&i2, &i4, &r.i8, &f4, &f8, &r.num, &txt, &vc, &r.b, &d, &ts, &tstz, &r.iv, &js))
		if i2 != nil {
			r.i2, r.i4, r.f4, r.f8, r.txt, r.vc, r.d, r.ts, r.tstz, r.js = *i2, *i4, *f4, *f8, *txt, *vc, *d, *ts, *tstz, *js
		}
		back = append(back, r)
	}
	require.NoError(t, got.Err())
	require.Len(t, back, 3)
	first := back[0]
	require.Equal(t, int16(-2), first.i2)
	require.Equal(t, int32(40000), first.i4)
	require.Equal(t, float32(1.5), first.f4)
	require.Equal(t, 0.1, first.f8)
	require.Equal(t, pgtype.Numeric{Int: big.NewInt(-123456), Exp: -3, Valid: true}, first.num)
	require.Equal(t, "héllo\ttab", first.txt)
	require.Equal(t, time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), first.d)
	require.True(t, at.Equal(first.ts), "%v", first.ts)
	require.True(t, at.Equal(first.tstz), "%v", first.tstz)
	require.Equal(t, pgtype.Interval{Months: 14, Days: 3, Microseconds: 4e6, Valid: true}, first.iv)
	require.Equal(t, `{"k": [1, "x"]}`, first.js)
	require.Equal(t, int64(7), back[1].i8)
	require.False(t, back[1].num.Valid)
	require.True(t, time.Date(1900, 1, 1, 0, 0, 0, 1000, time.UTC).Equal(back[2].ts))
	require.Equal(t, pgtype.Numeric{Int: big.NewInt(500), Exp: 0, Valid: true}, normalizeNumeric(back[2].num))

	// The view saw the COPY.
	var cnt int64
	var sum, total string
	require.NoError(t, conn.QueryRow(ctx, "SELECT n, s::text, total::text FROM typed_sum WHERE b").Scan(&cnt, &sum, &total))
	require.Equal(t, int64(2), cnt)
	require.Equal(t, fmt.Sprint(int64(1)<<40-7), sum)
	require.Equal(t, "376.544", total)

	// A COPY longer than a chunk is applied in several ticks, all seen by the view.
	many := make([][]any, db.CopyChunkRows*2+5)
	for i := range many {
		many[i] = []any{int64(i), true}
	}
	n, err = conn.CopyFrom(ctx, pgx.Identifier{"typed"}, []string{"i8", "b"}, pgx.CopyFromRows(many))
	require.NoError(t, err)
	require.Equal(t, int64(len(many)), n)
	require.NoError(t, conn.QueryRow(ctx, "SELECT n FROM typed_sum WHERE b").Scan(&cnt))
	require.Equal(t, int64(len(many)+2), cnt)

	// A failing row source: pgx sends CopyFail; nothing is stored; the connection goes on.
	i := 0
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"typed"}, []string{"i8"}, pgx.CopyFromFunc(func() ([]any, error) {
		i++
		if i > 3 {
			return nil, errors.New("upstream broke")
		}
		return []any{int64(-i)}, nil
	}))
	require.ErrorContains(t, err, "upstream broke")
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM typed WHERE i8 < 0 AND i8 > -10").Scan(&cnt))
	require.Equal(t, int64(1), cnt, "only the earlier row with i8=-7")

	// NOT NULL, then a value too long, fail the whole COPY with the row's line.
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"typed"}, []string{"i8", "i4"}, pgx.CopyFromRows([][]any{{int64(1), int32(1)}, {nil, int32(2)}}))
	pe := pgError(t, err)
	require.Equal(t, "23502", pe.Code)
	require.Equal(t, "COPY typed, line 2", pe.Where)
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"typed"}, []string{"i8", "vc"}, pgx.CopyFromRows([][]any{{int64(1), "much too long"}}))
	pe = pgError(t, err)
	require.Equal(t, "22001", pe.Code)
	require.Equal(t, "COPY typed, line 1, column vc", pe.Where)

	// Into a table: INSERT's semantics, so a key already there fails the COPY with 23505.
	n, err = conn.CopyFrom(ctx, pgx.Identifier{"accounts"}, []string{"id", "owner"}, pgx.CopyFromRows([][]any{{int64(1), "ann"}, {int64(2), "bob"}}))
	require.NoError(t, err)
	require.Equal(t, int64(2), n)
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"accounts"}, []string{"id", "owner"}, pgx.CopyFromRows([][]any{{int64(3), "cid"}, {int64(2), "bob"}}))
	pe = pgError(t, err)
	require.Equal(t, "23505", pe.Code)
	require.Equal(t, "Key (id)=(2) already exists.", pe.Detail)
	require.Equal(t, "COPY accounts, line 2", pe.Where)
	require.NoError(t, conn.QueryRow(ctx, "SELECT count(*) FROM accounts").Scan(&cnt))
	require.Equal(t, int64(2), cnt)

	// COPY after failed COPYs on the same connection.
	n, err = conn.CopyFrom(ctx, pgx.Identifier{"accounts"}, []string{"id", "owner"}, pgx.CopyFromRows([][]any{{int64(3), "cid"}}))
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
}

// normalizeNumeric strips trailing zeros from a numeric's digits into its exponent.
func normalizeNumeric(n pgtype.Numeric) pgtype.Numeric {
	i := new(big.Int).Set(n.Int)
	exp := n.Exp
	ten := big.NewInt(10)
	for i.Sign() != 0 {
		q, r := new(big.Int).QuoRem(i, ten, new(big.Int))
		if r.Sign() != 0 {
			break
		}
		i, exp = q, exp+1
	}
	if exp > 0 {
		i.Mul(i, new(big.Int).Exp(ten, big.NewInt(int64(exp)), nil))
		exp = 0
	}
	return pgtype.Numeric{Int: i, Exp: exp, Valid: n.Valid}
}

// TestCopyLibPQ: lib/pq's CopyIn sends text-format COPY inside a transaction, escaping
// tabs, newlines and backslashes itself.
func TestCopyLibPQ(t *testing.T) {
	dsn := startWeir(t)
	dbh, err := sql.Open("postgres", dsn)
	require.NoError(t, err)
	defer dbh.Close()
	ctx := t.Context()
	_, err = dbh.ExecContext(ctx, `CREATE SOURCE notes (id bigint NOT NULL, body text, at timestamptz)`)
	require.NoError(t, err)
	_, err = dbh.ExecContext(ctx, `CREATE MATERIALIZED VIEW note_count AS SELECT count(*) AS n, count(body) AS bodies FROM notes`)
	require.NoError(t, err)

	load := func(rows [][]any) error {
		txn, err := dbh.BeginTx(ctx, nil)
		require.NoError(t, err)
		stmt, err := txn.Prepare(pq.CopyIn("notes", "id", "body", "at"))
		if err != nil {
			_ = txn.Rollback()
			return err
		}
		for _, r := range rows {
			if _, err := stmt.Exec(r...); err != nil {
				_ = txn.Rollback()
				return err
			}
		}
		if _, err := stmt.Exec(); err != nil {
			_ = txn.Rollback()
			return err
		}
		if err := stmt.Close(); err != nil {
			_ = txn.Rollback()
			return err
		}
		return txn.Commit()
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, load([][]any{
		{1, "tab\there", at},
		{2, "new\nline \\ back", at.Add(time.Second)},
		{3, nil, nil},
	}))
	var body string
	require.NoError(t, dbh.QueryRowContext(ctx, "SELECT body FROM notes WHERE id = 2").Scan(&body))
	require.Equal(t, "new\nline \\ back", body)
	var n, bodies int64
	require.NoError(t, dbh.QueryRowContext(ctx, "SELECT n, bodies FROM note_count").Scan(&n, &bodies))
	require.Equal(t, []int64{3, 2}, []int64{n, bodies})

	err = load([][]any{{4, "fine", at}, {"five", "bad id", at}})
	var pqe *pq.Error
	require.True(t, errors.As(err, &pqe), "%v", err)
	require.Equal(t, pq.ErrorCode("22P02"), pqe.Code)
	require.Equal(t, `COPY notes, line 2, column id: "five"`, pqe.Where)
	require.NoError(t, dbh.QueryRowContext(ctx, "SELECT n FROM note_count").Scan(&n))
	require.Equal(t, int64(3), n, "the failed COPY stored nothing")

	require.NoError(t, load([][]any{{6, "after the failure", at}}))
	require.NoError(t, dbh.QueryRowContext(ctx, "SELECT n FROM note_count").Scan(&n))
	require.Equal(t, int64(4), n)
}

// BenchmarkCopyFromPgx measures pgx's CopyFrom of 1M rows of (bigint, bigint, text,
// timestamptz) into a source with one aggregate view, over the wire: binary COPY, as
// applications load bulk data.
func BenchmarkCopyFromPgx(b *testing.B) {
	conn := connect(b, startWeir(b))
	for _, q := range []string{
		`CREATE SOURCE events (id bigint NOT NULL, room bigint, name text, ts timestamptz)`,
		`CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n, sum(id) AS s, max(ts) AS last FROM events GROUP BY room`,
	} {
		_, err := conn.Exec(b.Context(), q)
		require.NoError(b, err)
	}
	const n = 1_000_000
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{int64(i), int64(i % 100), "user_" + strconv.Itoa(i%5000), base.Add(time.Duration(i) * time.Millisecond)}
	}
	b.ReportAllocs()
	for b.Loop() {
		got, err := conn.CopyFrom(b.Context(), pgx.Identifier{"events"}, []string{"id", "room", "name", "ts"}, pgx.CopyFromRows(rows))
		require.NoError(b, err)
		require.Equal(b, int64(n), got)
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "rows/s")
}
