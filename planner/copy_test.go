package planner_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/pgcopy"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
)

func TestCopy(t *testing.T) {
	_, p := newPlanner(t)
	plan := func(sql string) *planner.Copy {
		t.Helper()
		st, err := p.Plan(sql, nil)
		require.NoError(t, err, sql)
		c, ok := st.(*planner.Copy)
		require.True(t, ok, "%s planned as %T", sql, st)
		return c
	}

	c := plan(`COPY events FROM STDIN`)
	require.True(t, c.From)
	require.Equal(t, "events", c.Relation())
	require.Equal(t, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, c.Columns)
	require.Equal(t, pgcopy.Defaults(pgcopy.Text), c.Options)

	c = plan(`COPY events (name, id) FROM STDIN WITH (FORMAT csv, HEADER match, DELIMITER ';', NULL 'NA', QUOTE '''', ESCAPE '\', FORCE_NOT_NULL (id), FORCE_NULL (name))`)
	require.Equal(t, []int{4, 0}, c.Columns)
	require.Equal(t, pgcopy.Options{Format: pgcopy.CSV, Delimiter: ';', Null: "NA", Header: pgcopy.HeaderMatch, Quote: '\'', Escape: '\\',
		ForceNotNull: []bool{false, true}, ForceNull: []bool{true, false}}, c.Options)

	// The pre-9.0 syntax pgx and old scripts use.
	c = plan(`copy "events" ( "id", "room" ) from stdin binary;`)
	require.Equal(t, pgcopy.Binary, c.Options.Format)
	require.Equal(t, []int{0, 1}, c.Columns)
	c = plan(`COPY rooms FROM STDIN WITH CSV HEADER DELIMITER AS '|' NULL AS 'x' QUOTE AS '"'`)
	require.Equal(t, pgcopy.Options{Format: pgcopy.CSV, Delimiter: '|', Null: "x", Header: pgcopy.HeaderOn, Quote: '"', Escape: '"'}, c.Options)

	c = plan(`COPY rooms (title, room) TO STDOUT (FORMAT csv, FORCE_QUOTE (title))`)
	require.False(t, c.From)
	require.Equal(t, `SELECT "title", "room" FROM "rooms"`, c.Query)
	require.Equal(t, []bool{true, false}, c.Options.ForceQuote)

	sql := `COPY ( SELECT (1) AS x, ')' AS y ) TO STDOUT WITH CSV FORCE QUOTE *`
	c = plan(sql)
	require.Nil(t, c.Rel)
	require.Equal(t, ` SELECT (1) AS x, ')' AS y `, c.Query)
	require.Equal(t, sql[c.QueryPos:c.QueryPos+len(c.Query)], c.Query)
	require.Equal(t, []string{"*"}, c.Options.ForceQuoteNames)

	for _, tc := range []struct {
		sql  string
		code sqlerr.Code
	}{
		{`COPY nope FROM STDIN`, sqlerr.UndefinedTable},
		{`COPY totals FROM STDIN`, sqlerr.WrongObjectType},
		{`COPY totals TO STDOUT`, sqlerr.WrongObjectType},
		{`COPY events (nope) FROM STDIN`, sqlerr.UndefinedColumn},
		{`COPY events (id, id) FROM STDIN`, sqlerr.DuplicateColumn},
		{`COPY events FROM '/etc/passwd'`, sqlerr.FeatureNotSupported},
		{`COPY events TO PROGRAM 'cat'`, sqlerr.FeatureNotSupported},
		{`COPY events FROM STDIN WHERE id > 1`, sqlerr.FeatureNotSupported},
		{`COPY events FROM STDIN (FORMAT xml)`, sqlerr.InvalidParameterValue},
		{`COPY events FROM STDIN (FORMAT csv, FORMAT csv)`, sqlerr.SyntaxError},
		{`COPY events FROM STDIN (BOGUS true)`, sqlerr.SyntaxError},
		{`COPY events FROM STDIN (DELIMITER '')`, sqlerr.FeatureNotSupported},
		{`COPY events FROM STDIN (DELIMITER E'\n')`, sqlerr.InvalidParameterValue},
		{`COPY events FROM STDIN (DELIMITER '\')`, sqlerr.InvalidParameterValue},
		{`COPY events FROM STDIN (FORMAT csv, QUOTE ',')`, sqlerr.InvalidParameterValue},
		{`COPY events FROM STDIN (ESCAPE '"')`, sqlerr.FeatureNotSupported},
		{`COPY events FROM STDIN (FORMAT binary, NULL '')`, sqlerr.SyntaxError},
		{`COPY events FROM STDIN (FORMAT csv, FORCE_NOT_NULL *)`, sqlerr.InvalidParameterValue},
		{`COPY events TO STDOUT (FORMAT csv, FORCE_NULL (id))`, sqlerr.FeatureNotSupported},
		{`COPY events (id) TO STDOUT (FORMAT csv, FORCE_QUOTE (room))`, sqlerr.InvalidColumnReference},
		{`COPY events FROM STDIN (HEADER maybe)`, sqlerr.SyntaxError},
		{`COPY events FROM STDIN (FREEZE)`, sqlerr.FeatureNotSupported},
		{`COPY events FROM STDIN (ENCODING 'LATIN1')`, sqlerr.FeatureNotSupported},
	} {
		_, err := p.Plan(tc.sql, nil)
		require.Error(t, err, tc.sql)
		require.Equal(t, tc.code, sqlerr.CodeOf(err), "%s: %v", tc.sql, err)
	}
	_, err := p.Plan(`COPY events FROM STDIN (ENCODING 'UTF-8', FREEZE false)`, nil)
	require.NoError(t, err)
}
