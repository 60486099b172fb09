package viewstore_test

import (
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/storage/viewstore"
)

// TestLendSlot: a statement prepared once over weir_batch(slot) reads, each time it
// runs, the rows lent under the slot then: of any count (its bound count is only an
// estimate), in one batch or several. It fails when nothing is lent there, or
// rows of other column types, rather than read wrong rows; a slot is lent once at a
// time; and a run's rows do not stay reachable from the statement once withdrawn.
func TestLendSlot(t *testing.T) {
	s := open(t, "")
	cols := []catalog.Column{{Name: "k", Type: catalog.Int8}, {Name: "x", Type: catalog.Numeric}}
	ints := []bool{false, true}
	rowsOf := func(n int) []*delta.Batch {
		b := delta.New([]delta.Kind{delta.KindInt, delta.KindNumeric})
		for i := range n {
			b.AppendRow([]delta.Value{I(int64(i)), delta.Numeric(strconv.Itoa(2 * i))}, 1)
		}
		return []*delta.Batch{b}
	}
	slot := viewstore.NewSlot()
	require.Negative(t, slot)
	conn, err := s.DB().Conn(t.Context())
	require.NoError(t, err)
	defer conn.Close()

	token, release, ok := s.LendBatches(slot, cols, rowsOf(3), ints)
	require.True(t, ok)
	require.Equal(t, slot, token)
	_, _, ok = s.LendBatches(slot, cols, rowsOf(1), ints)
	require.False(t, ok, "a slot is lent once at a time")
	stmt, err := conn.PrepareContext(t.Context(),
		`SELECT count(*), sum(x)::BIGINT, (SELECT count(*) FROM weir_batch(`+strconv.FormatInt(slot, 10)+`) a JOIN weir_batch(`+strconv.FormatInt(slot, 10)+`) b USING (k)) FROM weir_batch(`+strconv.FormatInt(slot, 10)+`)`)
	require.NoError(t, err)
	defer stmt.Close()
	run := func() (n, sum, joined int64, err error) {
		err = stmt.QueryRowContext(t.Context()).Scan(&n, &sum, &joined)
		return n, sum, joined, err
	}
	check := func(rows int) {
		t.Helper()
		n, sum, joined, err := run()
		require.NoError(t, err)
		require.Equal(t, [3]int64{int64(rows), int64(rows * (rows - 1)), int64(rows)}, [3]int64{n, sum, joined})
	}
	check(3)
	release()

	// More rows than the count the statement was bound with, then fewer; then batches.
	var cleaned atomic.Bool
	func() {
		big := rowsOf(10_000)
		runtime.AddCleanup(big[0], func(*atomic.Bool) { cleaned.Store(true) }, &cleaned)
		_, release, ok = s.LendBatches(slot, cols, big, ints)
		require.True(t, ok)
		check(10_000)
		release()
	}()
	for range 20 {
		if cleaned.Load() {
			break
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	require.True(t, cleaned.Load(), "a withdrawn run's rows are unreachable from the statement")
	runtime.KeepAlive(stmt)

	_, release, ok = s.LendBatches(slot, cols, rowsOf(2), ints)
	require.True(t, ok)
	check(2)
	release()
	many := append(rowsOf(3000), rowsOf(2000)...) // k repeats: the join has more rows
	_, release, ok = s.LendBatches(slot, cols, many, ints)
	require.True(t, ok)
	n, sum, joined, err := run()
	require.NoError(t, err)
	require.Equal(t, [3]int64{5000, 3000*2999 + 2000*1999, 3000 + 3*2000}, [3]int64{n, sum, joined})
	release()

	_, _, _, err = run()
	require.ErrorContains(t, err, "nothing is lent under slot")
	_, release, ok = s.LendBatches(slot, cols, rowsOf(2), nil) // x as text, not as an integer
	require.True(t, ok)
	_, _, _, err = run()
	require.ErrorContains(t, err, "bound for other columns")
	release()
	_, release, ok = s.LendBatches(slot, cols, rowsOf(4), ints)
	require.True(t, ok)
	check(4)
	release()
}
