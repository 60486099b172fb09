package weir_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestCursorParameters declares cursors whose query has parameters over the extended
// protocol, as psycopg's named cursors do: Describe of the DECLARE reports the query's
// parameters and Bind's values reach the query. pg_cursors lists the session's cursors.
func TestCursorParameters(t *testing.T) {
	ctx := t.Context()
	_, conn := connectServer(t)
	for _, q := range []string{
		`CREATE TABLE items (id bigint PRIMARY KEY, name text, price numeric(10,2))`,
		`INSERT INTO items VALUES (1, 'a', 1.50), (2, 'b', 2.50), (3, 'c', 3.50), (4, 'd', 4.50)`,
	} {
		_, err := conn.Exec(ctx, q)
		require.NoError(t, err, q)
	}

	sd, err := conn.Prepare(ctx, "decl", `DECLARE c1 CURSOR WITH HOLD FOR SELECT id, name FROM items WHERE id > $1 AND name <> $2 ORDER BY id`)
	require.NoError(t, err)
	require.Equal(t, []uint32{20, 25}, sd.ParamOIDs)
	require.Empty(t, sd.Fields)
	before := time.Now().Add(-time.Second)
	_, err = conn.Exec(ctx, "decl", int64(1), "c")
	require.NoError(t, err)
	_, err = conn.Exec(ctx, `DECLARE c2 CURSOR FOR SELECT name FROM items WHERE price >= $1`, "3.5")
	require.NoError(t, err)

	fetch := func(q string) []string {
		rows, err := conn.Query(ctx, q)
		require.NoError(t, err)
		var out []string
		for rows.Next() {
			vals, err := rows.Values()
			require.NoError(t, err)
			s := ""
			for _, v := range vals {
				s += " " + toString(v)
			}
			out = append(out, s[1:])
		}
		require.NoError(t, rows.Err())
		return out
	}
	require.Equal(t, []string{"2 b"}, fetch(`FETCH 1 FROM c1`))
	require.Equal(t, []string{"4 d"}, fetch(`FETCH ALL FROM c1`))
	require.ElementsMatch(t, []string{"c", "d"}, fetch(`FETCH ALL c2`))

	// Too few values for the cursor's parameters is the error PostgreSQL gives.
	_, err = conn.Exec(ctx, `DECLARE c3 CURSOR FOR SELECT * FROM items WHERE id = $1`)
	require.Error(t, err)

	rows, err := conn.Query(ctx, `SELECT name, statement, is_holdable, is_binary, is_scrollable, creation_time FROM pg_cursors ORDER BY name`)
	require.NoError(t, err)
	var names []string
	for rows.Next() {
		var name, statement string
		var holdable, binary, scrollable bool
		var created time.Time
		require.NoError(t, rows.Scan(&name, &statement, &holdable, &binary, &scrollable, &created))
		names = append(names, name)
		require.Contains(t, statement, "DECLARE "+name)
		require.True(t, holdable)
		require.False(t, binary)
		require.False(t, scrollable)
		require.True(t, created.After(before) && created.Before(time.Now().Add(time.Second)), "creation_time %v", created)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"c1", "c2"}, names)
	fds := rows.FieldDescriptions()
	require.Equal(t, uint32(25), fds[1].DataTypeOID)
	require.Equal(t, uint32(16), fds[2].DataTypeOID)
	require.Equal(t, uint32(1184), fds[5].DataTypeOID)

	_, err = conn.Exec(ctx, `CLOSE ALL`)
	require.NoError(t, err)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.pg_cursors`).Scan(&n))
	require.Zero(t, n)
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return itoa(x)
	}
	return "?"
}
