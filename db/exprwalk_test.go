package db_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestAggregateUnderDateArithAndJson: an aggregate or a grouped expression inside date
// arithmetic or a jsonb operator is read from the aggregate's output. The planner's
// expression walk once skipped both kinds of node: the first view was accepted and then
// failed every tick with XX000 ("aggRef evaluated before rewrite"); the second read a
// column of the aggregate's input position from its output, and showed no rows.
func TestAggregateUnderDateArithAndJson(t *testing.T) {
	d, s := openDurable(t, t.TempDir(), time.Hour)
	defer d.Close()
	weirExec(t, s, `CREATE SOURCE ev (room bigint, doc jsonb, ts timestamptz)`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW last_plus AS SELECT room, max(ts) + INTERVAL '1 hour' AS due, min(ts) - max(ts) AS span FROM ev GROUP BY room`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW by_kind AS SELECT (doc->'k')->>'name' AS name, count(*) AS n FROM ev GROUP BY doc->'k'`)
	weirExec(t, s, `INSERT INTO ev VALUES
		(1, '{"k": {"name": "a"}}', '2026-01-01 10:00:00+00'),
		(1, '{"k": {"name": "a"}}', '2026-01-01 10:30:00+00'),
		(2, '{"k": {"name": "b"}}', '2026-01-01 11:00:00+00')`)
	require.Equal(t, []string{
		"1|2026-01-01T11:30:00Z|-00:30:00",
		"2|2026-01-01T12:00:00Z|00:00:00",
	}, weirRows(t, s, `SELECT room, due, span FROM last_plus ORDER BY room`))
	require.Equal(t, []string{"a|2", "b|1"}, weirRows(t, s, `SELECT name, n FROM by_kind ORDER BY name`))
}
