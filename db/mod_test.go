package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/sqlerr"
)

// TestModFunction: mod(a, b) is PostgreSQL's: the remainder with the dividend's sign,
// for integers and numerics, the same as a % b; over text it is an error at CREATE.
func TestModFunction(t *testing.T) {
	d, s := openDurable(t, t.TempDir(), time.Hour)
	defer d.Close()
	weirExec(t, s, `CREATE SOURCE ev (a bigint, b integer, x numeric, y numeric)`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW m AS SELECT a, b, mod(a, b) AS r, a % b = mod(a, b) AS same, mod(x, y) AS rn, mod(a, 3) AS r3 FROM ev WHERE b <> 0 AND y <> 0`)
	weirExec(t, s, `INSERT INTO ev VALUES (7, 3, 7.5, 2), (-7, 3, -7.5, 2), (7, -3, 10.25, -3), (-7, -3, 0.5, 0.25), (NULL, 2, 1, 1)`)
	require.Equal(t, []string{
		"-7|-3|-1|true|0.00|-1",
		"-7|3|-1|true|-1.5|-1",
		"7|-3|1|true|1.25|1",
		"7|3|1|true|1.5|1",
		"NULL|2|NULL|NULL|0|NULL",
	}, weirRows(t, s, `SELECT * FROM m`))

	p, err := s.Prepare(context.Background(), `CREATE MATERIALIZED VIEW bad AS SELECT mod(a, 'x'::text) FROM ev`, nil)
	if err == nil {
		_, err = p.Execute(context.Background(), nil)
	}
	require.Error(t, err)
	require.Equal(t, "42883", string(sqlerr.CodeOf(err)), "%v", err)
}
