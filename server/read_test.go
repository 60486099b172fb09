package server_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/stretchr/testify/require"
)

// TestReadPortalsMatchPostgres replays ad-hoc reads that stop and resume on Weir and
// PostgreSQL 15 and compares the answers message by message, DataRows included:
// row-limited portals (PortalSuspended, then the rest), a portal closed half read, two
// portals read in turns, and a cursor fetched in pieces. Weir's DuckDB reads hand rows
// over in batches (db/duckrows.go), so each of these stops inside a batch.
func TestReadPortalsMatchPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("PostgreSQL comparison runs in the full suite")
	}
	var values []string
	for i := 1; i <= 3000; i++ {
		values = append(values, fmt.Sprintf("(%d, %d, 'row %d')", i, i*10, i))
	}
	targets := bothTargets(t,
		`CREATE TABLE nums (id bigint PRIMARY KEY, v bigint, s text)`,
		`INSERT INTO nums VALUES `+strings.Join(values, ", "),
	)
	script := func(c *rawConn) string {
		var out strings.Builder
		// step sends msgs and reads the answers up to ReadyForQuery, or when ends > 0 (a
		// Flush, no Sync), up to the ends-th PortalSuspended or CommandComplete.
		step := func(label string, ends int, msgs ...pgproto3.FrontendMessage) {
			c.send(msgs...)
			out.WriteString(label + ":" + readTranscript(c, ends) + "\n")
		}
		q := "SELECT id, v, s FROM nums ORDER BY id"
		step("limited portal", 0, &pgproto3.Parse{Query: q}, &pgproto3.Bind{ResultFormatCodes: []int16{1, 0, 0}},
			&pgproto3.Execute{MaxRows: 3}, &pgproto3.Execute{MaxRows: 2}, &pgproto3.Sync{})
		step("portal across batches", 2, &pgproto3.Parse{Name: "p", Query: q}, &pgproto3.Bind{DestinationPortal: "a", PreparedStatement: "p"},
			&pgproto3.Execute{Portal: "a", MaxRows: 1023}, &pgproto3.Execute{Portal: "a", MaxRows: 3}, &pgproto3.Flush{})
		step("second portal", 2, &pgproto3.Bind{DestinationPortal: "b", PreparedStatement: "p"},
			&pgproto3.Execute{Portal: "b", MaxRows: 2}, &pgproto3.Execute{Portal: "a", MaxRows: 2}, &pgproto3.Flush{})
		step("close half read", 0, &pgproto3.Close{ObjectType: 'P', Name: "a"}, &pgproto3.Execute{Portal: "b", MaxRows: 1}, &pgproto3.Sync{})
		step("cursor", 0, &pgproto3.Query{String: "DECLARE c CURSOR WITH HOLD FOR " + q + "; FETCH 2 FROM c; FETCH 2047 FROM c"})
		step("cursor rest", 0, &pgproto3.Query{String: "MOVE 950 IN c; FETCH ALL FROM c; CLOSE c"})
		return out.String()
	}
	want := script(dialRaw(t, targets[1].dsn))
	require.Equal(t, want, script(dialRaw(t, targets[0].dsn)))
	t.Logf("PostgreSQL's transcript:\n%s", want)
}

// readTranscript receives messages up to ReadyForQuery, or when ends > 0 up to the
// ends-th PortalSuspended or CommandComplete, and describes them: DataRows are counted,
// with the first and last shown.
func readTranscript(c *rawConn, ends int) string {
	c.t.Helper()
	var out strings.Builder
	var rows []string
	endRows := func() {
		switch len(rows) {
		case 0:
		case 1, 2:
			fmt.Fprintf(&out, " D%v", rows)
		default:
			fmt.Fprintf(&out, " D×%d[%s … %s]", len(rows), rows[0], rows[len(rows)-1])
		}
		rows = nil
	}
	for {
		m, err := c.fe.Receive()
		if err != nil {
			out.WriteString(" <eof>")
			return out.String()
		}
		if d, ok := m.(*pgproto3.DataRow); ok {
			rows = append(rows, fmt.Sprintf("%q", d.Values))
			continue
		}
		endRows()
		switch m := m.(type) {
		case *pgproto3.CommandComplete:
			fmt.Fprintf(&out, " C(%s)", m.CommandTag)
			if ends--; ends == 0 {
				return out.String()
			}
		case *pgproto3.ErrorResponse:
			fmt.Fprintf(&out, " E(%s %s)", m.Code, m.Message)
		case *pgproto3.PortalSuspended:
			out.WriteString(" s")
			if ends--; ends == 0 {
				return out.String()
			}
		case *pgproto3.ReadyForQuery:
			out.WriteString(" Z")
			return out.String()
		default:
			buf, err := m.Encode(nil)
			require.NoError(c.t, err)
			fmt.Fprintf(&out, " %c", buf[0])
		}
	}
}

// TestReadCancel cancels a large ad-hoc read while its rows stream: the client gets
// 57014, and the connection serves the next statement.
func TestReadCancel(t *testing.T) {
	ctx := t.Context()
	conn := connect(t, startWeir(t))
	rows, err := conn.Query(ctx, "SELECT i, i * 2 AS j, 'some text ' || i AS s FROM range(5000000) AS r(i)")
	require.NoError(t, err)
	for n := 0; n < 10 && rows.Next(); n++ {
	}
	require.NoError(t, conn.PgConn().CancelRequest(ctx))
	for rows.Next() {
	}
	err = rows.Err()
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe), "%v", err)
	require.Equal(t, "57014", pe.Code)
	var one int
	require.NoError(t, conn.QueryRow(ctx, "SELECT 1").Scan(&one))
	require.Equal(t, 1, one)
}
