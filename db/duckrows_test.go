package db

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/sqlerr"
)

// TestDuckRows reads DuckDB results through duckRows' batches: every row once, in
// order, for sizes around the batch size; a result closed half read, or whose context
// ends without a Close, gives its connection back.
func TestDuckRows(t *testing.T) {
	d, s := openCatalogDB(t, t.TempDir())
	defer d.Close()
	ctx := t.Context()
	read := func(ctx context.Context, q string) *Rows {
		t.Helper()
		p, err := s.Prepare(ctx, q, nil)
		require.NoError(t, err, q)
		rows, err := p.Execute(ctx, nil)
		require.NoError(t, err, q)
		return rows
	}
	held := d.store.DB().Stats().InUse // the view store's writer connection
	inUse := func() int { return d.store.DB().Stats().InUse - held }

	for _, n := range []int{0, 1, 15, 16, 17, 48, 49, 1008, 1009, 2032, 2033, 5000} {
		rows := read(ctx, fmt.Sprintf("SELECT i, 'v' || i AS s, NULL AS z FROM range(%d) AS r(i)", n))
		dst := make([]any, 3)
		got := 0
		for rows.Next(dst) {
			require.Equal(t, []any{int64(got), fmt.Sprintf("v%d", got), nil}, dst)
			got++
		}
		require.NoError(t, rows.Err())
		require.Equal(t, n, got)
		require.Equal(t, fmt.Sprintf("SELECT %d", n), rows.Tag())
		require.NoError(t, rows.Close())
		require.Zero(t, inUse(), "rows of %d", n)
	}

	// Closed after one row: the producer stops and releases the connection.
	rows := read(ctx, "SELECT i FROM range(100000) AS r(i)")
	dst := make([]any, 1)
	require.True(t, rows.Next(dst))
	require.NoError(t, rows.Close())
	require.NoError(t, rows.Close(), "Close twice")
	require.Zero(t, inUse())

	// Its context ends and nobody calls Close: the connection comes back anyway, and
	// Next reports the cancellation.
	cctx, cancel := context.WithCancel(ctx)
	rows = read(cctx, "SELECT i FROM range(100000) AS r(i)")
	require.True(t, rows.Next(dst))
	cancel()
	require.Eventually(t, func() bool { return inUse() == 0 }, 10*time.Second, 10*time.Millisecond)
	for rows.Next(dst) {
	}
	var e *sqlerr.Error
	require.True(t, errors.As(rows.Err(), &e), "%v", rows.Err())
	require.Equal(t, sqlerr.QueryCanceled, e.Code)
}
