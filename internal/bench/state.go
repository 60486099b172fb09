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
	rows, grew, err := measureState(ctx, [][]delta.Kind{kinds},
		func() exec.Operator { return exec.NewHashAggregate(kinds, []int{0}, aggs, opts...) },
		groups*perGroup, func(j, _ int, row []delta.Value) {
			row[0], row[1] = delta.Int(int64(j%groups)), delta.Int(r.Int64N(1000)+1)
		})
	return rows, float64(grew) / float64(groups), err
}

// stateTick is how many input rows measureState pushes a tick.
const stateTick = 10_000

// measureState makes an operator with newOp and pushes it total rows on each of its
// inputs (of kinds), in ticks of stateTick rows; fill writes input row j of port into
// row. It returns the operator's state rows and how much the live Go heap grew from
// before the operator was made to after (its input and output batches are not kept).
func measureState(ctx context.Context, kinds [][]delta.Kind, newOp func() exec.Operator, total int, fill func(j, port int, row []delta.Value)) (int64, int64, error) {
	in := make([]*delta.Batch, len(kinds))
	rows := make([][]delta.Value, len(kinds))
	for port, k := range kinds {
		in[port], rows[port] = delta.New(k), make([]delta.Value, len(k))
	}
	before := liveHeap()
	op := newOp()
	for i := 0; i < total; i += stateTick {
		out := &delta.Batch{}
		for port := range kinds {
			in[port].Reset()
			for j := i; j < min(i+stateTick, total); j++ {
				fill(j, port, rows[port])
				in[port].AppendRow(rows[port], 1)
			}
			if err := op.Push(ctx, port, in[port], out); err != nil {
				return 0, 0, err
			}
		}
		if err := op.Advance(ctx, exec.Tick{Seq: uint64(i/stateTick + 1)}, out); err != nil {
			return 0, 0, err
		}
	}
	in = nil
	after := liveHeap()
	n := exec.StateRows(op)
	runtime.KeepAlive(op)
	return n, after - before, nil
}

// OpStateResult is the memory another stateful operator holds per state row (what
// weir_operators counts), measured as AggStateResult is.
type OpStateResult struct {
	Operator     string  `json:"operator"`
	What         string  `json:"what"`
	StateRows    int64   `json:"state_rows"`
	BytesPerRow  float64 `json:"bytes_per_state_row"`
	InputRows    int     `json:"input_rows"`
	InputsPerRow float64 `json:"input_rows_per_state_row"`
}

// opStateCases are the other stateful operators of the workloads' views, each over
// bigint columns: n is the rows pushed on each input, seed the rows' randomness.
var opStateCases = []struct {
	operator, what string
	kinds          [][]delta.Kind
	newOp          func() exec.Operator
	fill           func(n int, r *rand.Rand) func(j, port int, row []delta.Value)
}{
	{"HashJoin", "inner join on a bigint, two bigint columns a side, every key on both sides once (q3, category_totals)",
		[][]delta.Kind{ints(2), ints(2)},
		func() exec.Operator { return exec.NewHashJoin(ints(2), ints(2), []int{0}, []int{0}, nil) },
		func(n int, r *rand.Rand) func(j, port int, row []delta.Value) {
			return func(j, port int, row []delta.Value) { row[0], row[1] = delta.Int(int64(j)), delta.Int(r.Int64N(1000)) }
		}},
	{"TopN", "row_number() ≤ 3 over (partition by a bigint order by a bigint desc), 100 rows a partition, all kept (top_spenders)",
		[][]delta.Kind{ints(3)},
		func() exec.Operator {
			return exec.NewTopN(ints(3), []int{0}, []exec.SortKey{{Col: 2, Desc: true, NullsFirst: true}}, 3, 0, exec.RowNumber, true)
		},
		func(n int, r *rand.Rand) func(j, port int, row []delta.Value) {
			return func(j, _ int, row []delta.Value) {
				row[0], row[1], row[2] = delta.Int(int64(j%(n/100))), delta.Int(int64(j)), delta.Int(r.Int64N(1_000_000))
			}
		}},
	{"HashAggregate", "count(DISTINCT a bigint) by a bigint, 100 groups of distinct values (category_totals' users)",
		[][]delta.Kind{ints(2)},
		func() exec.Operator {
			return exec.NewHashAggregate(ints(2), []int{0}, []exec.AggSpec{
				{Func: exec.AggCount, Arg: 1, Distinct: true, ArgType: catalog.Int8, ResultType: catalog.Int8}})
		},
		func(n int, r *rand.Rand) func(j, port int, row []delta.Value) {
			return func(j, _ int, row []delta.Value) { row[0], row[1] = delta.Int(int64(j%100)), delta.Int(int64(j)) }
		}},
}

func ints(n int) []delta.Kind { return make([]delta.Kind, n) } // KindInt is 0

// opState measures opStateCases over rows input rows each.
func (r *runner) opState(ctx context.Context, rows int) error {
	for _, c := range opStateCases {
		rng := rand.New(rand.NewPCG(r.cfg.Seed, 13))
		n, grew, err := measureState(ctx, c.kinds, c.newOp, rows, c.fill(rows, rng))
		if err != nil {
			return fmt.Errorf("%s: %w", c.operator, err)
		}
		if n == 0 {
			return fmt.Errorf("%s kept no state over %d rows", c.operator, rows)
		}
		in := rows * len(c.kinds)
		r.rep.OpState = append(r.rep.OpState, OpStateResult{Operator: c.operator, What: c.what, StateRows: n,
			BytesPerRow: float64(grew) / float64(n), InputRows: in, InputsPerRow: float64(in) / float64(n)})
	}
	return nil
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
	return r.opState(ctx, groups)
}
