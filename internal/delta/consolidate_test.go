package delta

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestConsolidateRandom checks Consolidate against a map from row key to summed weight,
// and that survivors keep the order of their first occurrence. The values of every kind
// include ones that differ and still encode equally (1.0 and 1.00, -0 and 0, NaNs,
// jsonb with other spacing): they are one row.
func TestConsolidateRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	kinds := []Kind{KindInt, KindString, KindFloat, KindNumeric, KindBool, KindJsonb, KindInterval}
	value := func(k Kind) Value {
		if rng.IntN(10) == 0 {
			return Null(k)
		}
		switch k {
		case KindInt:
			return Int(rng.Int64N(4))
		case KindString:
			return Str(string(rune('a' + rng.IntN(3))))
		case KindFloat:
			return Float([]float64{0, math.Copysign(0, -1), 1.5, math.NaN(), -math.NaN()}[rng.IntN(5)])
		case KindNumeric:
			return Numeric([]string{"1", "1.0", "1.00", "2.5"}[rng.IntN(4)])
		case KindBool:
			return Bool(rng.IntN(2) == 0)
		case KindJsonb:
			return Jsonb([]string{`{"a":1}`, `{"a": 1}`, `[1]`}[rng.IntN(3)])
		default:
			return Interval(0, int32(rng.IntN(2)), 0)
		}
	}
	for round := range 300 {
		// A few columns of random kinds, so that rows repeat.
		cols := kinds[:1+rng.IntN(3)]
		if round%2 == 1 {
			cols = []Kind{kinds[rng.IntN(len(kinds))], kinds[rng.IntN(len(kinds))]}
		}
		b := New(cols)
		want := map[string]int64{}
		var firsts []string
		for range rng.IntN(300) {
			row := make([]Value, len(cols))
			for c, k := range cols {
				row[c] = value(k)
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

// BenchmarkConsolidate consolidates a batch like a Nexmark bid (integers, text, a
// timestamp) of 30k rows, 1% of them repeated.
func BenchmarkConsolidate(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	src := New([]Kind{KindInt, KindInt, KindInt, KindString, KindString, KindInt, KindString})
	for i := range 30_000 {
		if i%100 == 99 {
			src.AppendFrom(src, rng.IntN(i), 1)
			continue
		}
		src.AppendRow([]Value{Int(rng.Int64N(1000)), Int(rng.Int64N(10_000)), Int(rng.Int64N(1e6)),
			Str("channel-" + fmt.Sprint(rng.IntN(10))), Str(fmt.Sprintf("https://www.nexmark.com/%d/item.htm?query=1", rng.IntN(1e6))),
			Int(1_700_000_000_000_000 + int64(i)), Str(fmt.Sprintf("%060d", rng.Int64()))}, 1)
	}
	b.ReportAllocs()
	for b.Loop() {
		c := New(src.Kinds())
		c.AppendBatch(src, 1)
		c.Consolidate()
	}
}
