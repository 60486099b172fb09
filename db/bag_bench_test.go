package db

import (
	"strconv"
	"testing"

	"github.com/weirdb/weir/internal/delta"
)

// BenchmarkBagApply folds into a bag what an aggregate such as the COPY workload's
// user_totals emits per tick: 25,000 of 90,000 groups change, each retracting its old
// row (user_id, total numeric, biggest) and inserting its new one. With read, a read
// takes the bag's rows after each tick (bag.held): the apply keeps the mirror that read
// lends (mirror.go).
func BenchmarkBagApply(b *testing.B) {
	b.Run("whole", func(b *testing.B) { benchBagApply(b, 1, false) })
	b.Run("2 parts", func(b *testing.B) { benchBagApply(b, 2, false) })
	b.Run("whole, read", func(b *testing.B) { benchBagApply(b, 1, true) })
	b.Run("2 parts, read", func(b *testing.B) { benchBagApply(b, 2, true) })
}

// benchBagApply applies through applyOuts, as a tick does: a bag in parts is applied on
// as many goroutines.
func benchBagApply(b *testing.B, parts int, read bool) {
	kinds := []delta.Kind{delta.KindInt, delta.KindNumeric, delta.KindInt}
	const groups, changed = 90_000, 25_000
	g := newBag(kinds, []int{0})
	if parts > 1 {
		g = newPartedBag(kinds, []int{0}, parts)
	}
	total := make([]int64, groups)
	init := delta.New(kinds)
	for k := range groups {
		total[k] = int64(k%997 + 1)
		init.AppendRow([]delta.Value{delta.Int(int64(k)), delta.Numeric(strconv.FormatInt(total[k], 10)), delta.Int(total[k])}, 1)
	}
	g.apply(init, nil)
	batches := make([]*delta.Batch, 8)
	for i := range batches {
		c := delta.New(kinds)
		for j := range changed {
			k := (i*changed + j*7) % groups
			c.AppendRow([]delta.Value{delta.Int(int64(k)), delta.Numeric(strconv.FormatInt(total[k], 10)), delta.Int(total[k] % 1000)}, -1)
			total[k] += int64(j%97 + 1)
			c.AppendRow([]delta.Value{delta.Int(int64(k)), delta.Numeric(strconv.FormatInt(total[k], 10)), delta.Int(total[k] % 1000)}, 1)
		}
		batches[i] = c
	}
	// Replaying the same batches over and over would retract rows the bag no longer
	// holds; each round applies the batches and then their inverse, in reverse.
	inverse := make([]*delta.Batch, len(batches))
	for i, c := range batches {
		inv := delta.New(kinds)
		for r := c.Len() - 1; r >= 0; r-- {
			inv.AppendFrom(c, r, -c.Weights[r])
		}
		inverse[len(batches)-1-i] = inv
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		var c *delta.Batch
		if i := n % (2 * len(batches)); i < len(batches) {
			c = batches[i]
		} else {
			c = inverse[i-len(batches)]
		}
		n++
		applyOuts([]viewOut{{&view{rows: g}, c}}, true)
		if read {
			_, release := g.held(nil)
			release()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*2*changed), "ns/change")
}

// BenchmarkBagTouched looks up what a flush writes of a bag of 90,000 groups keyed by
// an integer, 25,000 of them pending (bag.touched, which a flush runs under d.mu).
func BenchmarkBagTouched(b *testing.B) {
	b.Run("whole", func(b *testing.B) { benchBagTouched(b, 1) })
	b.Run("2 parts", func(b *testing.B) { benchBagTouched(b, 2) })
}

func benchBagTouched(b *testing.B, parts int) {
	kinds := []delta.Kind{delta.KindInt, delta.KindNumeric, delta.KindInt}
	const groups, pending = 90_000, 25_000
	g := newBag(kinds, []int{0})
	if parts > 1 {
		g = newPartedBag(kinds, []int{0}, parts)
	}
	init := delta.New(kinds)
	for k := range groups {
		init.AppendRow([]delta.Value{delta.Int(int64(k)), delta.Numeric(strconv.Itoa(k%997 + 1)), delta.Int(int64(k % 1000))}, 1)
	}
	g.apply(init, nil)
	touched := &touchedRows{}
	c := delta.New(kinds)
	for j := range pending {
		k := j * 7 % groups
		c.AppendRow([]delta.Value{delta.Int(int64(k)), delta.Numeric(strconv.Itoa(k%997 + 1)), delta.Int(int64(k % 1000))}, 1)
	}
	g.apply(c, touched)
	p := newPendingRows(0)
	p.note(touched)
	b.ReportAllocs()
	for b.Loop() {
		g.touched(p)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pending), "ns/key")
}
