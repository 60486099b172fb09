package exec

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// dfTick is one Step of a dataflow script: changes per relation (all ints2) and the
// expected output.
type dfTick struct {
	in   map[string]string
	want string
}

func runDataflow(t *testing.T, d *Dataflow, ticks []dfTick) {
	t.Helper()
	for n, tk := range ticks {
		changes := make(map[string]*delta.Batch)
		for rel, text := range tk.in {
			changes[rel] = rows(t, ints2, text)
		}
		out, err := d.Step(t.Context(), Tick{Seq: uint64(n + 1)}, changes)
		require.NoError(t, err, "tick %d", n+1)
		want := lines(rows(t, d.OutKinds(), tk.want))
		require.Equal(t, want, lines(out), "tick %d", n+1)
		require.Len(t, want, out.Len(), "tick %d: Step output must be consolidated", n+1)
	}
}

func TestDataflowSelfJoin(t *testing.T) {
	ticks := []dfTick{
		{in: map[string]string{"t": "1 10 +1"}, want: "1 10 1 10 +1"},
		{in: map[string]string{"t": "1 20 +1"}, want: "1 10 1 20 +1\n1 20 1 10 +1\n1 20 1 20 +1"},
		{in: map[string]string{"t": "1 10 -1"}, want: "1 10 1 10 -1\n1 10 1 20 -1\n1 20 1 10 -1"},
		{in: map[string]string{"t": "1 20 -1\n2 5 +2\nNULL 1 +1"}, want: "1 20 1 20 -1\n2 5 2 5 +4"},
		{in: map[string]string{"other": "1 1 +1"}},
		{},
		{in: map[string]string{"t": "2 5 -1\n2 6 +1"}, want: "2 5 2 5 -3\n2 5 2 6 +1\n2 6 2 5 +1\n2 6 2 6 +1"},
	}
	t.Run("two sources of the same relation", func(t *testing.T) {
		d := NewDataflow()
		l, r := d.AddSource("t", ints2), d.AddSource("t", ints2)
		j := d.Add(NewHashJoin(ints2, ints2, []int{0}, []int{0}, nil), l, r)
		d.SetOutput(j)
		require.Equal(t, []string{"t"}, d.Sources())
		require.Equal(t, "HashJoin(#0 = #2)\n ├─ Scan(t)\n └─ Scan(t)\n", d.Explain())
		runDataflow(t, d, ticks)
	})
	t.Run("one source on both ports", func(t *testing.T) {
		d := NewDataflow()
		s := d.AddSource("t", ints2)
		d.Add(NewHashJoin(ints2, ints2, []int{0}, []int{0}, nil), s, s)
		runDataflow(t, d, ticks)
	})
}

func TestDataflowPipeline(t *testing.T) {
	d := NewDataflow()
	src := d.AddSource("gifts", ints2)
	f := d.Add(NewFilter(ints2, bin(expr.OpGt, col(1), lit(0))), src)
	p := d.Add(NewProject([]expr.Expr{col(0), bin(expr.OpMul, col(1), lit(2))}), f)
	a := d.Add(NewHashAggregate(ints2, []int{0}, []AggSpec{countStar(), agg(AggSum, 1)}), p)
	d.SetOutput(a)
	require.Equal(t, `HashAggregate(group=#0; count(*), sum(#1))
 └─ Project(#0, (#1 * 2))
     └─ Filter((#1 > 0))
         └─ Scan(gifts)
`, d.Explain())
	runDataflow(t, d, []dfTick{
		{in: map[string]string{"gifts": "1 10 +1\n1 -5 +1\n2 3 +1"}, want: "1 1 20 +1\n2 1 6 +1"},
		{in: map[string]string{"gifts": "1 10 -1\n1 4 +1\n1 -5 -1"}, want: "1 1 20 -1\n1 1 8 +1"},
		{in: map[string]string{"gifts": "2 3 -1"}, want: "2 1 6 -1"},
		{},
	})
}

func TestDataflowGlobalAggregateFirstTick(t *testing.T) {
	d := NewDataflow()
	src := d.AddSource("t", ints2)
	d.Add(NewHashAggregate(ints2, nil, []AggSpec{countStar(), agg(AggMax, 1)}), src)
	runDataflow(t, d, []dfTick{
		{want: "0 NULL +1"},
		{},
		{in: map[string]string{"t": "1 4 +1"}, want: "0 NULL -1\n1 4 +1"},
		{in: map[string]string{"t": "1 4 -1"}, want: "1 4 -1\n0 NULL +1"},
	})
}

// TestDataflowJoinOfAggregates fans one source out to two aggregates and joins them: the
// join sees both aggregates' retract+insert pairs within the tick.
func TestDataflowJoinOfAggregates(t *testing.T) {
	d := NewDataflow()
	src := d.AddSource("t", ints2)
	c := d.Add(NewHashAggregate(ints2, []int{0}, []AggSpec{countStar()}), src)
	s := d.Add(NewHashAggregate(ints2, []int{0}, []AggSpec{agg(AggSum, 1)}), src)
	d.Add(NewHashJoin(ints2, ints2, []int{0}, []int{0}, nil), c, s)
	require.Equal(t, `HashJoin(#0 = #2)
 ├─ HashAggregate(group=#0; count(*))
 │   └─ Scan(t)
 └─ HashAggregate(group=#0; sum(#1))
     └─ Scan(t)
`, d.Explain())
	runDataflow(t, d, []dfTick{
		{in: map[string]string{"t": "1 10 +1\n1 5 +1\n2 7 +1"}, want: "1 2 1 15 +1\n2 1 2 7 +1"},
		{in: map[string]string{"t": "1 5 -1"}, want: "1 2 1 15 -1\n1 1 1 10 +1"},
		{in: map[string]string{"t": "2 7 -1"}, want: "2 1 2 7 -1"},
	})
}

// recorder passes its input through and logs every call.
type recorder struct {
	name string
	log  *[]string
}

func (r *recorder) Push(_ context.Context, in int, b *delta.Batch, out *delta.Batch) error {
	*r.log = append(*r.log, fmt.Sprintf("%s.Push(%d, %d rows)", r.name, in, b.Len()))
	out.AppendBatch(b, 1)
	return nil
}

func (r *recorder) Advance(_ context.Context, t Tick, _ *delta.Batch) error {
	*r.log = append(*r.log, fmt.Sprintf("%s.Advance(%d)", r.name, t.Seq))
	return nil
}

func (r *recorder) String() string         { return "Recorder(" + r.name + ")" }
func (r *recorder) OutKinds() []delta.Kind { return ints2 }

func TestDataflowOrder(t *testing.T) {
	tests := []struct {
		name   string
		serial bool
		want   []string
	}{
		{
			// x and z (depth 1) before y (depth 2), which reads x.
			name: "by depth",
			want: []string{
				"x.Push(0, 1 rows)", "x.Advance(1)",
				"z.Push(0, 2 rows)", "z.Advance(1)",
				"y.Push(2, 1 rows)", "y.Push(1, 2 rows)", "y.Push(0, 1 rows)", "y.Advance(1)",
			},
		},
		{
			name: "serial, in insertion order", serial: true,
			want: []string{
				"x.Push(0, 1 rows)", "x.Advance(1)",
				"y.Push(2, 1 rows)", "y.Push(1, 2 rows)", "y.Push(0, 1 rows)", "y.Advance(1)",
				"z.Push(0, 2 rows)", "z.Advance(1)",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var log []string
			d := NewDataflow()
			d.serial = tc.serial
			d.minRows = defaultParallelMinRows // x and z log to one slice: never concurrently
			a := d.AddSource("a", ints2)
			b := d.AddSource("b", ints2)
			x := d.Add(&recorder{"x", &log}, a)
			y := d.Add(&recorder{"y", &log}, x, b, a)
			d.Add(&recorder{"z", &log}, b) // not the output: runs all the same
			d.SetOutput(y)
			require.Equal(t, []string{"a", "b"}, d.Sources())

			out, err := d.Step(t.Context(), Tick{Seq: 1}, map[string]*delta.Batch{
				"a": rows(t, ints2, "1 1 +1"),
				"b": rows(t, ints2, "2 2 +1\n2 2 +1"),
			})
			require.NoError(t, err)
			// y's inbox is pushed in the order of its producers' NodeIDs (a, b, x), whatever
			// order they ran in.
			require.Equal(t, tc.want, log)
			require.Equal(t, []string{"1 1 +2", "2 2 +2"}, lines(out))

			log = nil
			out, err = d.Step(t.Context(), Tick{Seq: 2}, map[string]*delta.Batch{"b": nil, "a": delta.New(ints2)})
			require.NoError(t, err)
			if tc.serial {
				require.Equal(t, []string{"x.Advance(2)", "y.Advance(2)", "z.Advance(2)"}, log)
			} else {
				require.Equal(t, []string{"x.Advance(2)", "z.Advance(2)", "y.Advance(2)"}, log)
			}
			require.Equal(t, 0, out.Len())
			require.Equal(t, ints2, out.Kinds())
		})
	}
}

func TestDataflowOwnership(t *testing.T) {
	d := NewDataflow()
	src := d.AddSource("t", ints2)
	d.Add(NewFilter(ints2, bin(expr.OpGt, col(1), lit(0))), src)
	d.SetOutput(src) // a source as the output: its changes, consolidated, in a copy

	in := rows(t, ints2, "1 1 +1\n1 1 +1\n2 2 +1\n2 2 -1")
	before := lines(in)
	out, err := d.Step(t.Context(), Tick{Seq: 1}, map[string]*delta.Batch{"t": in})
	require.NoError(t, err)
	require.Equal(t, []string{"1 1 +2"}, lines(out))
	require.Equal(t, 1, out.Len())
	require.Equal(t, before, lines(in), "Step must not modify its input")
	require.Equal(t, 4, in.Len())

	out.Weights[0] = 99 // the caller owns the result
	out2, err := d.Step(t.Context(), Tick{Seq: 2}, map[string]*delta.Batch{"t": rows(t, ints2, "3 3 +1")})
	require.NoError(t, err)
	require.Equal(t, []string{"3 3 +1"}, lines(out2))
	require.Equal(t, int64(99), out.Weights[0])
}

// panicker panics in Push.
// failer fails every Push with an error that is not a row error.
type failer struct{}

func (failer) Push(context.Context, int, *delta.Batch, *delta.Batch) error {
	return sqlerr.New(sqlerr.Internal, "internal error: failer")
}
func (failer) Advance(context.Context, Tick, *delta.Batch) error { return nil }
func (failer) String() string                                    { return "Failer" }
func (failer) OutKinds() []delta.Kind                            { return ints2 }

type panicker struct{}

func (panicker) Push(context.Context, int, *delta.Batch, *delta.Batch) error { panic("boom") }
func (panicker) Advance(context.Context, Tick, *delta.Batch) error           { return nil }
func (panicker) String() string                                              { return "Panicker" }
func (panicker) OutKinds() []delta.Kind                                      { return ints2 }

// canceler cancels the tick's context in Advance, as a shutdown would mid-tick.
type canceler struct{ cancel context.CancelFunc }

func (c canceler) Push(context.Context, int, *delta.Batch, *delta.Batch) error { return nil }
func (c canceler) Advance(context.Context, Tick, *delta.Batch) error {
	c.cancel()
	return nil
}
func (c canceler) String() string         { return "Canceler" }
func (c canceler) OutKinds() []delta.Kind { return ints2 }

func TestDataflowErrors(t *testing.T) {
	one := map[string]*delta.Batch{"t": rows(t, ints2, "1 1 +1")}
	tests := []struct {
		name   string
		build  func(d *Dataflow, cancel context.CancelFunc)
		ticks  []map[string]*delta.Batch
		code   sqlerr.Code
		sticky bool
	}{
		{
			name: "an operator error sticks",
			build: func(d *Dataflow, _ context.CancelFunc) {
				d.Add(failer{}, d.AddSource("t", ints2))
			},
			ticks: []map[string]*delta.Batch{
				{"t": rows(t, ints2, "1 9223372036854775807 +1")},
			},
			code: sqlerr.Internal, sticky: true,
		},
		{
			name: "an unknown input",
			build: func(d *Dataflow, _ context.CancelFunc) {
				d.AddSource("t", ints2)
				d.Add(NewFilter(ints2, bin(expr.OpGt, col(1), lit(0))), 5)
			},
			ticks: []map[string]*delta.Batch{one}, code: sqlerr.Internal, sticky: true,
		},
		{
			name: "input kinds that differ from the operator's",
			build: func(d *Dataflow, _ context.CancelFunc) {
				d.Add(NewFilter(ints3, bin(expr.OpGt, col(1), lit(0))), d.AddSource("t", ints2))
			},
			ticks: []map[string]*delta.Batch{one}, code: sqlerr.Internal, sticky: true,
		},
		{
			name: "a join with one input",
			build: func(d *Dataflow, _ context.CancelFunc) {
				d.Add(NewHashJoin(ints2, ints2, []int{0}, []int{0}, nil), d.AddSource("t", ints2))
			},
			ticks: []map[string]*delta.Batch{one}, code: sqlerr.Internal, sticky: true,
		},
		{
			name: "an unknown output",
			build: func(d *Dataflow, _ context.CancelFunc) {
				d.AddSource("t", ints2)
				d.SetOutput(3)
			},
			ticks: []map[string]*delta.Batch{one}, code: sqlerr.Internal, sticky: true,
		},
		{
			name:  "changes of the wrong kinds",
			build: func(d *Dataflow, _ context.CancelFunc) { d.AddSource("t", ints3) },
			ticks: []map[string]*delta.Batch{one}, code: sqlerr.Internal, sticky: true,
		},
		{
			name: "a panic becomes XX000",
			build: func(d *Dataflow, _ context.CancelFunc) {
				d.Add(panicker{}, d.AddSource("t", ints2))
			},
			ticks: []map[string]*delta.Batch{one}, code: sqlerr.Internal, sticky: true,
		},
		{
			name: "canceled between nodes sticks",
			build: func(d *Dataflow, cancel context.CancelFunc) {
				// One chain after the other, even under WEIR_PARALLEL_MIN_ROWS=1: run
				// concurrently, the filter may check the context before it is canceled.
				d.minRows = defaultParallelMinRows
				s := d.AddSource("t", ints2)
				d.Add(canceler{cancel}, s)
				d.Add(NewFilter(ints2, bin(expr.OpGt, col(1), lit(0))), s)
			},
			ticks: []map[string]*delta.Batch{one}, code: sqlerr.QueryCanceled, sticky: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			d := NewDataflow()
			tc.build(d, cancel)
			var err error
			for n, ch := range tc.ticks {
				_, err = d.Step(ctx, Tick{Seq: uint64(n + 1)}, ch)
				if n < len(tc.ticks)-1 {
					require.NoError(t, err)
				}
			}
			require.Error(t, err)
			require.Equal(t, tc.code, sqlerr.CodeOf(err), "%v", err)
			if tc.sticky {
				_, again := d.Step(t.Context(), Tick{Seq: 99}, nil)
				require.Equal(t, err, again)
			}
		})
	}
}

func TestDataflowPanicCarriesStack(t *testing.T) {
	d := NewDataflow()
	d.Add(panicker{}, d.AddSource("t", ints2))
	_, err := d.Step(t.Context(), Tick{Seq: 1}, map[string]*delta.Batch{"t": rows(t, ints2, "1 1 +1")})
	var pe *PanicError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "boom", pe.Value)
	require.Contains(t, string(pe.Stack), "panicker")
	require.Equal(t, "internal error: boom", err.Error())
}

func TestDataflowCanceledBeforeTheTick(t *testing.T) {
	d := NewDataflow()
	d.Add(NewHashAggregate(ints2, nil, []AggSpec{countStar()}), d.AddSource("t", ints2))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := d.Step(ctx, Tick{Seq: 1}, nil)
	require.Equal(t, sqlerr.QueryCanceled, sqlerr.CodeOf(err))
	require.ErrorIs(t, err, context.Canceled)
	// Nothing was applied, so the dataflow is still usable.
	out, err := d.Step(t.Context(), Tick{Seq: 1}, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"0 +1"}, lines(out))
	require.False(t, errors.Is(err, context.Canceled))
}

func TestDataflowSources(t *testing.T) {
	d := NewDataflow()
	require.Empty(t, d.Sources())
	require.Empty(t, d.Explain())
	_, err := d.Step(t.Context(), Tick{}, nil)
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(err))
	for _, rel := range []string{"likes", "comments", "likes", "gifts"} {
		d.AddSource(rel, ints2)
	}
	require.Equal(t, []string{"comments", "gifts", "likes"}, d.Sources())
}

// wideStream makes large ticks of changes to a relation of int columns: fresh rows
// (each column drawn by value) and retractions of rows inserted by earlier ticks.
type wideStream struct {
	rnd   *rand.Rand
	kinds []delta.Kind
	value func(r *rand.Rand, col int) int64
	live  [][]delta.Value
}

func (s *wideStream) next(n int) *delta.Batch {
	b := delta.New(s.kinds)
	for range n {
		if len(s.live) > 0 && s.rnd.IntN(10) < 3 {
			i := s.rnd.IntN(len(s.live))
			b.AppendRow(s.live[i], -1)
			s.live[i] = s.live[len(s.live)-1]
			s.live = s.live[:len(s.live)-1]
			continue
		}
		row := make([]delta.Value, len(s.kinds))
		for c := range row {
			row[c] = delta.Int(s.value(s.rnd, c))
		}
		b.AppendRow(row, 1)
		s.live = append(s.live, row)
	}
	return b
}

// rawLines renders b's rows in their order, unconsolidated.
func rawLines(b *delta.Batch) []string {
	out := make([]string, b.Len())
	var row []delta.Value
	for i := range b.Len() {
		row = b.Row(i, row)
		var sb strings.Builder
		for _, v := range row {
			sb.WriteString(formatValue(v) + " ")
		}
		sb.WriteString(strconv.FormatInt(b.Weights[i], 10))
		out[i] = sb.String()
	}
	return out
}

// branchyDataflow builds a dataflow with independent branches over sources t(k, v, w)
// and u(k, x), many of whose operators set rows aside (division by zero):
//
//   - level 1: a filter, a projection, aggregates, and a chain of a join, a filter and a
//     projection;
//   - level 2: an aggregate of the projection (which has a second reader), a join of two
//     aggregates of level 1, and a chain of a projection and a filter;
//   - level 3: a union of the aggregate of level 2 and one of level 1 inserted after it,
//     whose inbox is pushed in NodeID order, not in the order its producers ran.
func branchyDataflow(serial bool) (*Dataflow, NodeID) {
	d := NewDataflow()
	d.serial = serial
	t := d.AddSource("t", ints3)
	u := d.AddSource("u", ints2)
	div := func(l, r expr.Expr) expr.Expr { return bin(expr.OpDiv, l, r) }
	d.Add(NewFilter(ints3, bin(expr.OpGt, div(lit(100), col(1)), lit(3))), t)
	p := d.Add(NewProject([]expr.Expr{col(0), div(lit(100), col(1)), col(2)}), t)
	ak := d.Add(NewHashAggregate(ints3, []int{0}, []AggSpec{countStar(), agg(AggSum, 1), agg(AggMax, 2)}), t)
	j := d.Add(NewHashJoin(ints3, ints2, []int{0}, []int{0}, nil), t, u) // (k, v, w, k, x)
	au := d.Add(NewHashAggregate(ints2, []int{0}, []AggSpec{countStar(), agg(AggSum, 1)}), u)
	ap := d.Add(NewHashAggregate(ints3, []int{1}, []AggSpec{countStar()}), p)
	ints5 := []delta.Kind{delta.KindInt, delta.KindInt, delta.KindInt, delta.KindInt, delta.KindInt}
	jf := d.Add(NewFilter(ints5, bin(expr.OpGt, div(col(1), bin(expr.OpSub, col(4), lit(5))), lit(0))), j)
	d.Add(NewProject([]expr.Expr{col(0), div(lit(1000), col(2))}), jf)
	ints4 := []delta.Kind{delta.KindInt, delta.KindInt, delta.KindInt, delta.KindInt}
	out := d.Add(NewHashJoin(ints4, ints3, []int{0}, []int{0}, nil), ak, au)
	aw := d.Add(NewHashAggregate(ints3, []int{2}, []AggSpec{countStar()}), t)
	union := d.Add(NewUnion(ints2, 2), ap, aw)
	pw := d.Add(NewProject([]expr.Expr{col(0), div(col(1), col(0))}), aw)
	d.Add(NewFilter(ints3, bin(expr.OpGt, col(1), lit(10))), p) // p's second reader
	d.Add(NewFilter(ints2, bin(expr.OpGt, col(1), lit(1))), pw)
	d.SetOutput(out)
	return d, union
}

// TestDataflowParallelMatchesSerial runs the same large random ticks through a dataflow
// whose busy levels run concurrently and through one that runs its nodes one at a time
// in node order, and requires every node's output (in order), the row errors and the
// counters to be the same after every tick.
func TestDataflowParallelMatchesSerial(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	par, union := branchyDataflow(false)
	ser, _ := branchyDataflow(true)
	rnd := rand.New(rand.NewPCG(7, 11))
	ts := &wideStream{rnd: rnd, kinds: ints3, value: func(r *rand.Rand, c int) int64 {
		return [...]int64{r.Int64N(20000), r.Int64N(43) - 2, r.Int64N(100)}[c]
	}}
	us := &wideStream{rnd: rnd, kinds: ints2, value: func(r *rand.Rand, c int) int64 {
		return [...]int64{r.Int64N(20000), r.Int64N(11)}[c]
	}}
	parallel := 0
	for tick := 1; tick <= 12; tick++ {
		changes := map[string]*delta.Batch{"t": ts.next(defaultParallelMinRows + rnd.IntN(4000))}
		if tick%4 != 0 { // and some ticks change t alone
			changes["u"] = us.next(defaultParallelMinRows + rnd.IntN(2000))
		}
		if tick == 9 { // a removed node: the levels are made again
			require.NoError(t, par.Remove(union))
			require.NoError(t, ser.Remove(union))
		}
		want, err := ser.Step(t.Context(), Tick{Seq: uint64(tick)}, changes)
		require.NoError(t, err)
		got, err := par.Step(t.Context(), Tick{Seq: uint64(tick)}, changes)
		require.NoError(t, err)
		require.Equal(t, rawLines(want), rawLines(got), "tick %d: output", tick)
		for id := range par.nodes {
			require.Equal(t, rawLines(ser.nodes[id].out), rawLines(par.nodes[id].out), "tick %d: node %d", tick, id)
		}
		require.Equal(t, rawLines(ser.Errors()), rawLines(par.Errors()), "tick %d: row errors", tick)
		require.Equal(t, rawLines(ser.errs), rawLines(par.errs), "tick %d: row errors before consolidation", tick)
		require.NotZero(t, par.Errors().Len(), "tick %d: the test needs row errors", tick)
		require.Equal(t, ser.Stats(), par.Stats(), "tick %d", tick)
		parallel += par.parallelLevels
	}
	require.Equal(t, 0, ser.parallelLevels)
	require.Greater(t, parallel, 12, "busy levels must run concurrently")
}

// TestDataflowParallelErrors: when nodes of one busy level fail, the error of the first
// node that failed is the tick's (a panic as XX000 with its stack), and it sticks.
func TestDataflowParallelErrors(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	}
	big := delta.New(ints2)
	for i := range defaultParallelMinRows {
		big.AppendRow([]delta.Value{delta.Int(int64(i)), delta.Int(1)}, 1)
	}
	count := func() Operator { return NewHashAggregate(ints2, []int{0}, []AggSpec{countStar()}) }
	isFailer := func(t *testing.T, err error) { require.Equal(t, "internal error: failer", err.Error()) }
	isPanic := func(t *testing.T, err error) {
		var pe *PanicError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(err))
		require.Equal(t, "boom", pe.Value)
		require.Contains(t, string(pe.Stack), "panicker")
	}
	tests := []struct {
		name  string
		build func(d *Dataflow, src NodeID)
		check func(t *testing.T, err error)
	}{
		{
			name: "an error before a panic",
			build: func(d *Dataflow, src NodeID) {
				d.Add(count(), src)
				d.Add(failer{}, src)
				d.Add(panicker{}, src)
			},
			check: isFailer,
		},
		{
			name: "a panic before an error",
			build: func(d *Dataflow, src NodeID) {
				d.Add(panicker{}, src)
				d.Add(failer{}, src)
				d.Add(count(), src)
			},
			check: isPanic,
		},
		{
			name: "a panic before the failing end of a chain that started first",
			build: func(d *Dataflow, src NodeID) {
				agg := d.Add(count(), src)
				d.Add(panicker{}, src)
				d.Add(failer{}, agg) // node 3, in the chain of node 1
			},
			check: isPanic,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDataflow()
			tc.build(d, d.AddSource("t", ints2))
			_, err := d.Step(t.Context(), Tick{Seq: 1}, map[string]*delta.Batch{"t": big})
			require.Error(t, err)
			tc.check(t, err)
			require.Equal(t, 1, d.parallelLevels)
			_, again := d.Step(t.Context(), Tick{Seq: 2}, nil)
			require.Equal(t, err, again)
		})
	}
}
