package db_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInsertOnlyAggregates: min/max over append-only sources (through filters, windows
// and inner joins of sources) keep no multiset; over anything that can retract (a table,
// a view's aggregate, an outer join) they keep it and survive the retractions.
func TestInsertOnlyAggregates(t *testing.T) {
	d, s := openDurable(t, t.TempDir(), 0)
	defer d.Close()
	for _, q := range []string{
		`CREATE SOURCE ev (room bigint NOT NULL, amt bigint, at timestamptz NOT NULL)`,
		`CREATE SOURCE tags (room bigint NOT NULL, tag text)`,
		`CREATE TABLE rooms (room bigint PRIMARY KEY, cat text)`,
		`CREATE MATERIALIZED VIEW io_plain AS SELECT room, max(amt) AS hi, min(amt) AS lo FROM ev WHERE amt > 0 GROUP BY room`,
		`CREATE MATERIALIZED VIEW io_window AS SELECT window_start, max(amt) AS hi FROM TUMBLE(ev, at, INTERVAL '1 minute') GROUP BY window_start`,
		`CREATE MATERIALIZED VIEW io_join AS SELECT t.tag, max(e.amt) AS hi FROM ev e JOIN tags t ON t.room = e.room GROUP BY t.tag`,
		`CREATE MATERIALIZED VIEW rt_table AS SELECT r.cat, max(e.amt) AS hi FROM ev e JOIN rooms r ON r.room = e.room GROUP BY r.cat`,
		`CREATE MATERIALIZED VIEW rt_outer AS SELECT t.tag, max(e.amt) AS hi FROM ev e LEFT JOIN tags t ON t.room = e.room GROUP BY t.tag`,
		`CREATE MATERIALIZED VIEW rt_nested AS SELECT max(n) AS hi FROM (SELECT room, count(*) AS n FROM ev GROUP BY room) c`,
	} {
		weirExec(t, s, q)
	}
	// Per view, whether each of its aggregates reads insert-only input. An aggregate over
	// a join of the source with a table has a partial aggregate below the join
	// (planner/eager.go): that one reads the source alone, the one above the join keeps
	// the multiset. Over a join of two sources max stays above the join, insert-only.
	ops := weirRows(t, s, `SELECT views, operator FROM weir_operators WHERE operator LIKE 'HashAggregate%'`)
	insertOnly := map[string][]bool{}
	for _, op := range ops {
		views, operator, _ := strings.Cut(op, "|")
		for _, v := range strings.Split(views, ",") {
			insertOnly[v] = append(insertOnly[v], strings.Contains(operator, "insert-only input"))
		}
	}
	for _, flags := range insertOnly {
		slices.SortFunc(flags, func(a, b bool) int { return btoi(a) - btoi(b) })
	}
	require.Equal(t, map[string][]bool{"io_plain": {true}, "io_window": {true}, "io_join": {true},
		"rt_table": {false, true}, "rt_outer": {false}, "rt_nested": {false, false}}, insertOnly, "%v", ops)

	weirExec(t, s, `INSERT INTO rooms VALUES (1, 'a'), (2, 'b')`)
	weirExec(t, s, `INSERT INTO tags VALUES (1, 'x'), (2, 'y')`)
	weirExec(t, s, `INSERT INTO ev VALUES (1, 10, '2026-11-26 10:00:01+00'), (1, 30, '2026-11-26 10:00:02+00'), (2, 20, '2026-11-26 10:01:00+00'), (3, 5, '2026-11-26 10:01:30+00')`)
	weirExec(t, s, `INSERT INTO ev VALUES (2, 50, '2026-11-26 10:01:40+00'), (1, -4, '2026-11-26 10:00:03+00')`)
	// Retractions: the table's update and delete retract rt_table's rows, a late tag
	// rt_outer's NULL-extended one, every event rt_nested's counts.
	weirExec(t, s, `UPDATE rooms SET cat = 'a' WHERE room = 2`)
	weirExec(t, s, `DELETE FROM rooms WHERE room = 1`)
	weirExec(t, s, `INSERT INTO tags VALUES (3, 'z')`) // retracts rt_outer's NULL row
	require.Equal(t, []string{"1|30|10", "2|50|20", "3|5|5"}, weirRows(t, s, `SELECT * FROM io_plain`))
	require.Equal(t, []string{"2026-11-26T10:00:00Z|30", "2026-11-26T10:01:00Z|50"}, weirRows(t, s, `SELECT * FROM io_window`))
	require.Equal(t, []string{"x|30", "y|50", "z|5"}, weirRows(t, s, `SELECT * FROM io_join`))
	require.Equal(t, []string{"a|50"}, weirRows(t, s, `SELECT * FROM rt_table`))
	require.Equal(t, []string{"x|30", "y|50", "z|5"}, weirRows(t, s, `SELECT * FROM rt_outer`))
	require.Equal(t, []string{"3"}, weirRows(t, s, `SELECT * FROM rt_nested`))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
