package delta

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIntervalKind(t *testing.T) {
	day := Interval(0, 1, 0)
	hours24 := Interval(0, 0, 24*3_600_000_000)
	month := Interval(1, 0, 0)
	m, d, us := Interval(-3, 7, -5).IntervalParts()
	require.Equal(t, []int64{-3, 7, -5}, []int64{int64(m), int64(d), us})

	require.Equal(t, 0, Compare(day, hours24), "PostgreSQL: '1 day' = '24 hours'")
	require.Equal(t, 0, Compare(month, Interval(0, 30, 0)))
	require.Equal(t, 1, Compare(month, Interval(0, 29, 86_399_999_999)))
	require.Equal(t, -1, Compare(Interval(0, 0, -1), Interval(0, 0, 0)))
	require.Equal(t, -1, Compare(Interval(0, -1, 1), Interval(0, 0, 0)))
	require.Equal(t, string(AppendValueKey(nil, day)), string(AppendValueKey(nil, hours24)), "equal intervals group together")
	require.NotEqual(t, string(AppendValueKey(nil, day)), string(AppendValueKey(nil, month)))

	b := New([]Kind{KindInterval})
	b.AppendRow([]Value{day}, 1)
	b.AppendRow([]Value{Null(KindInterval)}, 1)
	require.Equal(t, 2, b.Cols[0].Len())
	require.Equal(t, day, b.Cols[0].Get(0))
	require.True(t, b.Cols[0].Get(1).Null)
}

func TestJsonbKind(t *testing.T) {
	a, b := Jsonb(`{"a": 1.0, "b": [2.50, "1.0"]}`), Jsonb(`{"a": 1, "b": [2.5, "1.0"]}`)
	require.Equal(t, 0, Compare(a, b), "jsonb numbers compare by value")
	require.Equal(t, string(AppendValueKey(nil, a)), string(AppendValueKey(nil, b)))
	require.NotEqual(t, 0, Compare(a, Jsonb(`{"a": 1, "b": [2.5, "1"]}`)), "strings are not numbers")
	require.Equal(t, `[-0.5, 0, "x\"1.0", 100]`, NormalizeJSON(`[-0.50, -0.0, "x\"1.0", 100]`))
	require.Equal(t, `{"k": 10}`, NormalizeJSON(`{"k": 10}`))
}
