package delta

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBatchBinaryRoundTrip(t *testing.T) {
	b := New([]Kind{KindInt, KindFloat, KindString, KindBool, KindNumeric, KindInterval, KindJsonb})
	b.AppendRow([]Value{Int(-5), Float(math.Inf(-1)), Str("héllo"), Bool(true), Numeric("12.50"), Interval(1, 2, -3), Jsonb(`{"a": 1}`)}, 3)
	b.AppendRow([]Value{Null(KindInt), Float(math.NaN()), Str(""), Null(KindBool), Null(KindNumeric), Null(KindInterval), Null(KindJsonb)}, -1)
	b.AppendRow([]Value{Int(math.MaxInt64), Float(0.1), Null(KindString), Bool(false), Numeric("-0.001"), Interval(0, 0, 0), Jsonb("[]")}, 1)
	enc := b.AppendBinary([]byte("prefix"))[len("prefix"):]
	got, rest, err := DecodeBatch(append(enc, "tail"...))
	require.NoError(t, err)
	require.Equal(t, "tail", string(rest))
	require.Equal(t, b.Len(), got.Len())
	require.Equal(t, b.Weights, got.Weights)
	for i := 0; i < b.Len(); i++ {
		want, have := b.Row(i, nil), got.Row(i, nil)
		for c := range want {
			require.Zero(t, Compare(want[c], have[c]), "row %d col %d: %v vs %v", i, c, want[c], have[c])
			require.Equal(t, want[c].Null, have[c].Null)
		}
	}
	// Every truncation fails cleanly.
	for n := 0; n < len(enc); n++ {
		_, _, err := DecodeBatch(enc[:n])
		require.Error(t, err, "truncated at %d", n)
	}
}

func TestBatchBinaryEmpty(t *testing.T) {
	b := New([]Kind{KindInt})
	got, rest, err := DecodeBatch(b.AppendBinary(nil))
	require.NoError(t, err)
	require.Empty(t, rest)
	require.Equal(t, 0, got.Len())
	require.Equal(t, []Kind{KindInt}, got.Kinds())
}
