package weir_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"
)

var rewriteWire = flag.Bool("rewrite-wire", false, "rewrite testdata/read_wire.golden from the server's answers")

// TestReadWireBytes pins the exact bytes ad-hoc reads put on the wire, for every type a
// Weir table or view column has, NULLs included, in text (simple protocol) and binary
// (extended protocol): the DataRow fields of each read are compared with
// testdata/read_wire.golden. The golden file was written by the read path before it
// bypassed database/sql and encoded per column (issue #6), so it is the previous encoder
// kept as the oracle; regenerate it with -rewrite-wire only for an intended change.
func TestReadWireBytes(t *testing.T) {
	ctx := t.Context()
	_, conn := connectServer(t)
	for _, q := range []string{
		`CREATE TABLE wire_types (id bigint PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, f4 real, f8 double precision,
			n numeric, n2 numeric(10,2), t text, vc varchar(20), b boolean, d date, ts timestamp, tz timestamptz,
			iv interval, j jsonb)`,
		`CREATE MATERIALIZED VIEW wire_view AS SELECT id, i2, i4, i8, f4, f8, n, n2, t, vc, b, d, ts, tz, iv, j,
			n * 2 AS n_twice, n2 + 1 AS n2_plus, i8 * 1000000 AS big, f8 / 3 AS third FROM wire_types`,
		`CREATE MATERIALIZED VIEW wire_sums AS SELECT b, count(*) AS c, sum(i8) AS s8, sum(n) AS sn, sum(n2) AS sn2,
			avg(i4) AS a4, min(ts) AS mts, max(tz) AS mtz FROM wire_types GROUP BY b`,
		`INSERT INTO wire_types VALUES
			(1, 1, 2, 3, 1.5, 2.25, 1.0, 7.125, 'plain', 'v', true, '2026-01-02', '2026-01-02 03:04:05', '2026-01-02 03:04:05.5+00',
			 '1 day 02:03:04', '{"k": [1, 2.5], "s": "x"}'),
			(2, -32768, -2147483648, -9223372036854775808, -3.4e38, -1.7976931348623157e308, -123456789.000001, -99999999.99,
			 'tab	and ''quote'' and \ back', '', false, '0001-01-01', '1999-12-31 23:59:59.999999', '1970-01-01 00:00:00+00',
			 '-1 year -2 mons +3 days -04:05:06.789', '[]'),
			(3, 32767, 2147483647, 9223372036854775807, 1e-45, 5e-324, 0.000000000001, 0.01, 'ünïcode ✓', 'varchar', true,
			 '9999-12-31', '2262-04-11 23:47:16.854775', '2026-11-26 10:43:40.123456+00', '0 seconds', 'null'),
			(4, 0, 0, 0, 0, -0.0, 0, 0, '', NULL, NULL, '2000-01-01', '2000-01-01 00:00:00', '2000-01-01 00:00:00+00',
			 '1 mon', '{"nested": {"a": null}}'),
			(5, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
			(6, 255, 256, 255, 'NaN', 'Infinity', 12345678901234567890.123, 12.3, 'x', 'y', false, '1969-07-20',
			 '1969-07-20 20:17:40', '1969-07-20 20:17:40.000001+00', '100 years', '3.5')`,
		`INSERT INTO wire_types (id, f4, f8) VALUES (7, '-Infinity', 'NaN'), (8, 3.4028235e38, 1e100)`,
	} {
		_, err := conn.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	pc := conn.PgConn()
	var out strings.Builder
	for _, q := range []string{
		`SELECT * FROM wire_types ORDER BY id`,
		`SELECT * FROM wire_view ORDER BY id`,
		`SELECT * FROM wire_sums ORDER BY b NULLS LAST`,
		`SELECT id, n, n2, n * n2 AS prod, ts - tz::timestamp AS diff, d + 1 AS next_day, t || vc AS cat, NULL AS nothing
			FROM wire_types WHERE id < 5 ORDER BY id`,
	} {
		// Text: the simple protocol.
		results, err := pc.Exec(ctx, q).ReadAll()
		require.NoError(t, err, q)
		require.Len(t, results, 1)
		dumpResult(&out, "text", q, results[0].FieldDescriptions, results[0].Rows)
		// Binary: the extended protocol with every result column in binary.
		res := pc.ExecParams(ctx, q, nil, nil, nil, []int16{1}).Read()
		require.NoError(t, res.Err, q)
		dumpResult(&out, "binary", q, res.FieldDescriptions, res.Rows)
	}
	golden := filepath.Join("testdata", "read_wire.golden")
	if *rewriteWire {
		require.NoError(t, os.WriteFile(golden, []byte(out.String()), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), out.String())
}

// dumpResult prints a result's column types and each field's bytes: NULL, a Go-quoted
// string for text, hex for binary.
func dumpResult(w *strings.Builder, format, q string, fds []pgconn.FieldDescription, rows [][][]byte) {
	fmt.Fprintf(w, "%s: %s\n", format, strings.Join(strings.Fields(q), " "))
	for _, fd := range fds {
		fmt.Fprintf(w, "  column %s oid=%d size=%d mod=%d format=%d\n", fd.Name, fd.DataTypeOID, fd.DataTypeSize, fd.TypeModifier, fd.Format)
	}
	for i, row := range rows {
		fmt.Fprintf(w, "  row %d:", i)
		for _, v := range row {
			switch {
			case v == nil:
				w.WriteString(" NULL")
			case format == "text":
				w.WriteString(" " + strconv.Quote(string(v)))
			default:
				fmt.Fprintf(w, " %x", v)
			}
		}
		w.WriteString("\n")
	}
}
