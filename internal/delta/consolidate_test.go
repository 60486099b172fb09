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
