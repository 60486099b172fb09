package db_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
)

// TestSharedOperators: two views over the same join share its operators (one
// arrangement, not two); dropping one leaves the other computing correctly; EXPLAIN and
// weir_operators show the sharing. A join's inputs carry only the columns its view reads
// (planner/prune.go), so views share a join when they read the same columns of it: here
// both read the price, and neither aggregates it below the join (planner/eager.go: a
// DISTINCT argument and a group column are not aggregated away).
func TestSharedOperators(t *testing.T) {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{Dir: t.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	defer d.Close()
	s := d.NewSession(nil)
	for _, q := range []string{
		`CREATE SOURCE gifts (room bigint NOT NULL, price bigint NOT NULL)`,
		`CREATE TABLE rooms (room bigint PRIMARY KEY, cat text)`,
		`INSERT INTO rooms VALUES (1, 'music'), (2, 'chat')`,
		`INSERT INTO gifts VALUES (1, 10), (1, 5), (2, 7)`,
		`CREATE MATERIALIZED VIEW by_cat AS SELECT r.cat, g.price, count(*) AS n FROM gifts g JOIN rooms r ON g.room = r.room GROUP BY r.cat, g.price`,
		`CREATE MATERIALIZED VIEW by_cat_n AS SELECT r.cat, count(DISTINCT g.price) AS n FROM gifts g JOIN rooms r ON g.room = r.room GROUP BY r.cat`,
	} {
		weirExec(t, s, q)
	}
	shared := weirRows(t, s, `SELECT operator FROM weir_operators WHERE views = 'by_cat,by_cat_n'`)
	require.Contains(t, strings.Join(shared, "\n"), "HashJoin", "the join is computed once for both views")
	require.Len(t, weirRows(t, s, `SELECT operator FROM weir_operators WHERE operator LIKE 'HashJoin%'`), 1)

	explain := strings.Join(weirRows(t, s, `EXPLAIN MATERIALIZED VIEW by_cat_n`), "\n")
	require.Contains(t, explain, "shared with by_cat")

	weirExec(t, s, `INSERT INTO gifts VALUES (2, 3), (1, 1)`)
	require.Equal(t, []string{"chat|3|1", "chat|7|1", "music|10|1", "music|1|1", "music|5|1"}, weirRows(t, s, `SELECT * FROM by_cat`))
	require.Equal(t, []string{"chat|2", "music|3"}, weirRows(t, s, `SELECT * FROM by_cat_n`))

	weirExec(t, s, `DROP MATERIALIZED VIEW by_cat`)
	require.Empty(t, weirRows(t, s, `SELECT operator FROM weir_operators WHERE views LIKE '%by_cat,%' OR views = 'by_cat'`))
	weirExec(t, s, `UPDATE rooms SET cat = 'music' WHERE room = 2`)
	require.Equal(t, []string{"music|5"}, weirRows(t, s, `SELECT * FROM by_cat_n`))

	// The dropped view's name and shape come back as a fresh view.
	weirExec(t, s, `CREATE MATERIALIZED VIEW by_cat AS SELECT r.cat, g.price, count(*) AS n FROM gifts g JOIN rooms r ON g.room = r.room GROUP BY r.cat, g.price`)
	require.Equal(t, []string{"music|10|1", "music|1|1", "music|3|1", "music|5|1", "music|7|1"}, weirRows(t, s, `SELECT * FROM by_cat`))
	require.Len(t, weirRows(t, s, `SELECT operator FROM weir_operators WHERE operator LIKE 'HashJoin%'`), 1)
}
