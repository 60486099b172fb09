package planner_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/planner/plan"
)

// TestEagerAggregate: which aggregates over joins get a partial aggregate below the join
// (planner/eager.go); their results are checked against DuckDB in db's
// TestDifferentialOracle (the eager_* views).
func TestEagerAggregate(t *testing.T) {
	const join = ` FROM events e JOIN rooms r ON e.room = r.room GROUP BY r.title`
	tests := []struct {
		name string
		sql  string
		want int // partial aggregates: aggregates that are a join's input
	}{
		{"sum and count(*) over the source's side", `SELECT r.title, sum(e.amount), count(*)` + join, 1},
		{"min, max and count(x)", `SELECT r.title, min(e.amount), max(e.id), count(e.name)` + join, 1},
		{"the source on the right", `SELECT r.title, count(*), max(e.amount) FROM rooms r JOIN events e ON e.room = r.room GROUP BY r.title`, 1},
		{"through a WHERE on the join key", `SELECT r.title, sum(e.amount) FROM events e JOIN rooms r ON e.room = r.room WHERE e.room > 3 AND r.cap > 1 GROUP BY r.title`, 1},
		{"with a DISTINCT argument kept as a group key", `SELECT r.title, sum(e.amount), count(DISTINCT e.name)` + join, 1},
		{"a global aggregate", `SELECT sum(e.amount), max(e.id) FROM events e JOIN rooms r ON e.room = r.room`, 1},
		{"not a global count, 0 over no rows", `SELECT sum(e.amount), count(*) FROM events e JOIN rooms r ON e.room = r.room`, 0},
		{"through a residual, whose columns are kept", `SELECT r.title, sum(e.amount) FROM events e JOIN rooms r ON e.room < r.room GROUP BY r.title`, 1},
		{"not a cross join: nothing to group by", `SELECT r.title, sum(e.amount) FROM events e CROSS JOIN rooms r GROUP BY r.title`, 0},
		{"a stream joined with a stream", `SELECT o.k, sum(e.amount) FROM events e JOIN other o ON e.room = o.room GROUP BY o.k`, 1},
		// Over two streams max keeps one value per group; over partial maxima, a multiset.
		{"not min or max over a stream joined with a stream", `SELECT o.k, sum(e.amount), max(e.id) FROM events e JOIN other o ON e.room = o.room GROUP BY o.k`, 0},
		{"min or max over a stream joined with a table", `SELECT r.title, max(e.id)` + join, 1},
		{"a chain of joins: at the join of the source only", `SELECT r2.title, sum(e.amount) FROM events e JOIN rooms r ON e.room = r.room JOIN rooms r2 ON r.cap = r2.cap GROUP BY r2.title`, 1},
		{"not avg", `SELECT r.title, avg(e.amount)` + join, 0},
		{"not a sum of floating point", `SELECT r.title, sum(e.price)` + join, 0},
		{"not an argument over both sides", `SELECT r.title, sum(e.amount * r.cap)` + join, 0},
		{"not DISTINCT aggregates alone", `SELECT r.title, count(DISTINCT e.name)` + join, 0},
		{"not when nothing is aggregated away", `SELECT e.room, r.title, sum(e.room) FROM events e JOIN rooms r ON e.room = r.room GROUP BY e.room, r.title`, 0},
		{"not over tables and views", `SELECT r.title, sum(t.total) FROM totals t JOIN rooms r ON t.room = r.room GROUP BY r.title`, 0},
		{"not over an outer join", `SELECT r.title, sum(e.amount) FROM events e LEFT JOIN rooms r ON e.room = r.room GROUP BY r.title`, 0},
	}
	_, p := newPlanner(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cv := planView(t, p, "CREATE MATERIALIZED VIEW v AS "+tc.sql)
			require.Equal(t, tc.want, partialAggregates(cv.Plan), plan.Explain(cv.Plan))
		})
	}
}

// partialAggregates counts the aggregates that are an input of a join.
func partialAggregates(n plan.Node) int {
	count := 0
	if j, ok := n.(*plan.Join); ok {
		for _, c := range j.Children() {
			if _, ok := c.(*plan.Aggregate); ok {
				count++
			}
		}
	}
	for _, c := range n.Children() {
		count += partialAggregates(c)
	}
	return count
}
