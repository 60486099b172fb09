package delta

import (
	"math/rand/v2"
	"testing"
)

// TestConsolidateRandom checks Consolidate against a map from row key to summed weight,
// and that survivors keep the order of their first occurrence.
func TestConsolidateRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for round := range 200 {
		b := New([]Kind{KindInt, KindString})
		want := map[string]int64{}
		var firsts []string
		for range rng.IntN(300) {
			row := []Value{Int(rng.Int64N(8)), Str(string(rune('a' + rng.IntN(4))))}
			if rng.IntN(10) == 0 {
				row[0] = Null(KindInt)
			}
			w := rng.Int64N(5) - 2
			b.AppendRow(row, w)
			k := RowKey(row)
			if _, ok := want[k]; !ok {
				firsts = append(firsts, k)
			}
			want[k] += w
		}
		b.Consolidate()
		var order []string
		for _, k := range firsts {
			if want[k] != 0 {
				order = append(order, k)
			}
		}
		if b.Len() != len(order) {
			t.Fatalf("round %d: %d rows, want %d", round, b.Len(), len(order))
		}
		var row []Value
		for i := 0; i < b.Len(); i++ {
			row = b.Row(i, row)
			if k := RowKey(row); k != order[i] || b.Weights[i] != want[k] {
				t.Fatalf("round %d: row %d is %v with weight %d", round, i, row, b.Weights[i])
			}
		}
	}
}

// TestAppendKeyAt checks the vector form of the key encoding against AppendValueKey.
func TestAppendKeyAt(t *testing.T) {
	for _, v := range []Value{Int(-3), Null(KindInt), Str("héllo"), Str(""), Null(KindString), Numeric("1.50"),
		Numeric("-0"), Null(KindNumeric), Float(-0.0), Bool(true), Jsonb(`{"a": 1.0}`), Interval(1, 2, 3)} {
		var vec Vector
		vec.Kind = v.Kind
		vec.Append(Int(0)) // a value before, so that index 1 is read
		vec.Append(v)
		if got, want := string(vec.AppendKeyAt(nil, 1)), string(AppendValueKey(nil, v)); got != want {
			t.Errorf("%v: AppendKeyAt %q, AppendValueKey %q", v, got, want)
		}
	}
}
