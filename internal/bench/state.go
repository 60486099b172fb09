package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/internal/delta"
)

// AggStateResult is the memory one HashAggregate holds per group, measured on the
// operator alone: the live Go heap after feeding it, minus before, over its groups.
// It is exactly the operator's state (groups map, keys, running aggregates, the row it
// last emitted, min/max multisets), nothing of the view around it.
type AggStateResult struct {
	Aggregates    string  `json:"aggregates"`
	Groups        int     `json:"groups"`
	RowsPerGroup  int     `json:"rows_per_group"`
	StateRows     int64   `json:"state_rows"`
	BytesPerGroup float64 `json:"bytes_per_group"`
}

// aggStateCases are the aggregates of the COPY workload's views, grouped by a bigint.
var aggStateCases = []struct {
	name string
	aggs []exec.AggSpec
	opts []exec.AggOption
}{
	{"count(*)", []exec.AggSpec{{Func: exec.AggCountStar, Arg: -1, ResultType: catalog.Int8}}, nil},
	{"count(*), sum(amount)", []exec.AggSpec{
		{Func: exec.AggCountStar, Arg: -1, ResultType: catalog.Int8},
		{Func: exec.AggSum, Arg: 1, ArgType: catalog.Int8, ResultType: catalog.Numeric}}, nil},
	{"sum(amount), max(amount)", []exec.AggSpec{
		{Func: exec.AggSum, Arg: 1, ArgType: catalog.Int8, ResultType: catalog.Numeric},
		{Func: exec.AggMax, Arg: 1, ArgType: catalog.Int8, ResultType: catalog.Int8}}, nil},
	// The COPY workload's user_totals: its source is append-only, so max keeps the
	// largest value only.
	{"sum(amount), max(amount), insert-only input", []exec.AggSpec{
		{Func: exec.AggSum, Arg: 1, ArgType: catalog.Int8, ResultType: catalog.Numeric},
		{Func: exec.AggMax, Arg: 1, ArgType: catalog.Int8, ResultType: catalog.Int8}}, []exec.AggOption{exec.InsertOnly()}},
}

// measureAggState feeds groups×perGroup rows (bigint key, bigint amount in 1..1000) to
// a fresh HashAggregate in ticks of 10,000 rows and measures its heap per group.
func measureAggState(ctx context.Context, aggs []exec.AggSpec, opts []exec.AggOption, groups, perGroup int, seed uint64) (int64, float64, error) {
	kinds := []delta.Kind{delta.KindInt, delta.KindInt}
	r := rand.New(rand.NewPCG(seed, 11))
	const tick = 10_000
	total := groups * perGroup
	in, out := delta.New(kinds), delta.New([]delta.Kind{})
	before := liveHeap()
	h := exec.NewHashAggregate(kinds, []int{0}, aggs, opts...)
	row := make([]delta.Value, 2)
	for i := 0; i < total; i += tick {
		in.Reset()
		for j := i; j < min(i+tick, total); j++ {
			row[0], row[1] = delta.Int(int64(j%groups)), delta.Int(r.Int64N(1000)+1)
			in.AppendRow(row, 1)
		}
		if err := h.Push(ctx, 0, in, out); err != nil {
			return 0, 0, err
		}
		out = &delta.Batch{}
		if err := h.Advance(ctx, exec.Tick{Seq: uint64(i/tick + 1)}, out); err != nil {
			return 0, 0, err
		}
	}
	in, out = nil, nil
	after := liveHeap()
	rows := h.StateRows()
	runtime.KeepAlive(h)
	return rows, float64(after-before) / float64(groups), nil
}

func (r *runner) aggState(ctx context.Context) error {
	groups := r.cfg.AggGroups
	// The servers just closed leave garbage that finalizers free over the next
	// collections, which would make the first measurement come out low, even negative.
	// A discarded warm-up run lets it go first.
	if _, _, err := measureAggState(ctx, aggStateCases[0].aggs, nil, groups, 1, r.cfg.Seed); err != nil {
		return err
	}
	for _, c := range aggStateCases {
		for _, per := range []int{1, 10} {
			if c.name == "count(*)" && per > 1 {
				continue // a count's state does not depend on the rows counted
			}
			rows, b, err := measureAggState(ctx, c.aggs, c.opts, groups, per, r.cfg.Seed)
			if err != nil {
				return fmt.Errorf("HashAggregate(%s): %w", c.name, err)
			}
			r.rep.AggState = append(r.rep.AggState, AggStateResult{Aggregates: c.name, Groups: groups, RowsPerGroup: per, StateRows: rows, BytesPerGroup: b})
		}
	}
	return nil
}
