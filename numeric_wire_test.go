package weir_test

import (
	"testing"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

// TestNumericOverTheWire checks numeric parameters and results through pgx: a
// numeric(p,s) column reads back as numeric (OID 1700), binary format included; a plain
// numeric column reads back as its exact text.
func TestNumericOverTheWire(t *testing.T) {
	ctx := t.Context()
	_, conn := connectServer(t)

	_, err := conn.Exec(ctx, `CREATE TABLE prices (id bigint PRIMARY KEY, amount numeric(10,2), rate numeric)`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `CREATE MATERIALIZED VIEW doubled AS SELECT id, amount * 2 AS a2, rate / 3 AS r3 FROM prices`)
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `INSERT INTO prices VALUES ($1, $2, $3)`, int64(1), "7.125", "1.00")
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `INSERT INTO prices VALUES ($1, $2, $3)`, int64(2), "123456789", "1")
	require.Error(t, err, "numeric(10,2) holds at most 8 integer digits")

	rows, err := conn.Query(ctx, `SELECT amount, rate FROM prices WHERE id = $1`, int64(1))
	require.NoError(t, err)
	require.True(t, rows.Next())
	fds := rows.FieldDescriptions()
	require.Equal(t, uint32(1700), fds[0].DataTypeOID)
	var amount pgtype.Numeric
	var rate string
	require.NoError(t, rows.Scan(&amount, &rate))
	rows.Close()
	v, err := amount.Value()
	require.NoError(t, err)
	require.Equal(t, "7.13", v)
	require.Equal(t, "1.00", rate)

	var a2, r3 string
	require.NoError(t, conn.QueryRow(ctx, `SELECT a2::text, r3 FROM doubled`).Scan(&a2, &r3))
	require.Equal(t, "14.26", a2)
	require.Equal(t, "0.33333333333333333333", r3)
}
