package viewstore_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/storage/viewstore"
)

// TestNumericColumns stores numeric(p,s) as DuckDB DECIMAL and plain numeric as its text:
// both read back as the same numeric values, with their display scale, and deletes
// match them.
func TestNumericColumns(t *testing.T) {
	N := delta.Numeric
	rel := relation(1, "n", catalog.Table,
		catalog.Column{Name: "k", Type: catalog.Int8},
		catalog.Column{Name: "fixed", Type: catalog.Numeric, Precision: 10, Scale: 2},
		catalog.Column{Name: "free", Type: catalog.Numeric})
	b := batch(rel,
		[]delta.Value{I(1), N("12.50"), N("0.1")},
		[]delta.Value{I(2), N("-99999999.99"), N("123456789012345678901234567890.000000000001")},
		[]delta.Value{I(3), null(delta.KindNumeric), null(delta.KindNumeric)},
		[]delta.Value{I(4), N("0.00"), N("-0.5")})
	s := open(t, "")
	inTick(t, s, 1, func(tx *viewstore.Tx) {
		require.NoError(t, tx.CreateRelation(rel))
		require.NoError(t, tx.Insert(rel, b))
	})
	require.Equal(t, rows(b), scan(t, s, rel))

	var typ string
	require.NoError(t, s.DB().QueryRowContext(t.Context(), `SELECT typeof(fixed) FROM n LIMIT 1`).Scan(&typ))
	require.Equal(t, "DECIMAL(10,2)", typ)

	keys := delta.New([]delta.Kind{delta.KindNumeric, delta.KindNumeric})
	keys.AppendRow([]delta.Value{N("12.50"), N("0.1")}, 1)
	keys.AppendRow([]delta.Value{N("0.00"), N("-0.5")}, 1)
	inTick(t, s, 2, func(tx *viewstore.Tx) {
		require.NoError(t, tx.DeleteMatching(rel, []int{1, 2}, keys))
	})
	require.Equal(t, []string{"2 n-99999999.99 n123456789012345678901234567890.000000000001", "3 NULL NULL"}, scan(t, s, rel))
}
