package exec

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
)

// The checkpoint tests run an operator through random ticks, save its state, load it
// into a freshly built twin (and the twin's state into a third operator), then push the
// same random ticks into all of them: every tick's output, row errors and state size
// must be the same.

// cpCase is an operator configuration for the checkpoint tests.
type cpCase struct {
	name  string
	kinds [][]delta.Kind // per input port
	// value generates column col of a row for port; clock is the current time, for the
	// time columns of event-time operators.
	value func(r *rand.Rand, port, col int, clock int64) delta.Value
	build func() Operator // the same configuration every time
}

var (
	intFloat    = []delta.Kind{delta.KindInt, delta.KindFloat}
	intNumeric  = []delta.Kind{delta.KindInt, delta.KindNumeric}
	intInterval = []delta.Kind{delta.KindInt, delta.KindInterval}
	mixedKinds  = []delta.Kind{delta.KindInt, delta.KindString, delta.KindBool, delta.KindFloat,
		delta.KindNumeric, delta.KindInterval, delta.KindJsonb}
)

// cpValue is a random value of kind k from a small domain (so that rows repeat), NULL 1
// time in 10. Equal-but-different values (1.0 and 1.00, '1 day' and '24 hours', -0 and
// 0) are included, as are the extremes that overflow sums.
func cpValue(r *rand.Rand, k delta.Kind) delta.Value {
	if r.IntN(10) == 0 {
		return delta.Null(k)
	}
	switch k {
	case delta.KindInt:
		if r.IntN(25) == 0 {
			return delta.Int([]int64{math.MaxInt64, math.MinInt64, math.MaxInt64 - 1}[r.IntN(3)])
		}
		return delta.Int(r.Int64N(10) - 3)
	case delta.KindFloat:
		return delta.Float([]float64{1.5, -2.25, 0, math.Copysign(0, -1), 0.1, 3, 1e308, -1e308,
			math.NaN(), math.Inf(1), math.Inf(-1)}[r.IntN(11)])
	case delta.KindString:
		return delta.Str([]string{"a", "b", "", "ß", "a b"}[r.IntN(5)])
	case delta.KindBool:
		return delta.Bool(r.IntN(2) == 0)
	case delta.KindNumeric:
		return delta.Numeric([]string{"1", "1.0", "1.50", "-2.25", "0.001", "100", "-7"}[r.IntN(7)])
	case delta.KindInterval:
		switch r.IntN(6) {
		case 0:
			return delta.Interval(0, 1, 0)
		case 1:
			return delta.Interval(0, 0, 86_400_000_000)
		case 2:
			return delta.Interval(1, 0, 0)
		case 3:
			return delta.Interval(math.MaxInt32, 0, 0)
		}
		return delta.Interval(0, int32(r.IntN(3)), r.Int64N(5)*1000)
	case delta.KindJsonb:
		return delta.Jsonb([]string{`{"a": 1}`, `{"a": 1.0}`, `[1, 2]`, `"x"`, `null`}[r.IntN(5)])
	}
	panic("kind")
}

// smallKey is a join, group or partition key: 0 to 3, NULL 1 time in 15.
func smallKey(r *rand.Rand) delta.Value {
	if r.IntN(15) == 0 {
		return delta.Null(delta.KindInt)
	}
	return delta.Int(r.Int64N(4))
}

// keyed generates column 0 as a small key and the other columns with cpValue.
func keyed(kinds ...[]delta.Kind) func(r *rand.Rand, port, col int, _ int64) delta.Value {
	return func(r *rand.Rand, port, col int, _ int64) delta.Value {
		if col == 0 {
			return smallKey(r)
		}
		return cpValue(r, kinds[port][col])
	}
}

// timed generates (key, time near the clock, small int...) rows; time is NULL 1 in 20.
func timed(r *rand.Rand, _, col int, clock int64) delta.Value {
	switch col {
	case 0:
		return delta.Int(r.Int64N(3))
	case 1:
		if r.IntN(20) == 0 {
			return delta.Null(delta.KindInt)
		}
		return delta.Int(clock - 20 + r.Int64N(50))
	}
	return delta.Int(clock - 30 + r.Int64N(40)) // an arrival watermark, or a value
}

// windowEnds generates (key, window_end a multiple of 10 near the clock, value) rows.
func windowEnds(r *rand.Rand, _, col int, clock int64) delta.Value {
	switch col {
	case 0:
		return delta.Int(r.Int64N(3))
	case 1:
		return delta.Int((clock/10 + r.Int64N(5) - 1) * 10)
	}
	return cpValue(r, delta.KindInt)
}

func aggsOver(arg int, k delta.Kind) []AggSpec {
	if k == delta.KindString || k == delta.KindBool || k == delta.KindJsonb {
		return []AggSpec{countStar(), agg(AggCount, arg), distinct(AggCount, arg), agg(AggMin, arg), agg(AggMax, arg)}
	}
	return []AggSpec{countStar(), agg(AggCount, arg), agg(AggSum, arg), agg(AggAvg, arg), agg(AggMin, arg),
		agg(AggMax, arg), distinct(AggSum, arg), distinct(AggCount, arg), distinct(AggAvg, arg)}
}

func one(k []delta.Kind) [][]delta.Kind { return [][]delta.Kind{k} }
func two(k []delta.Kind) [][]delta.Kind { return [][]delta.Kind{k, k} }

func withExpiry[T interface{ SetExpiry(Expiry) }](op T, e Expiry) T {
	op.SetExpiry(e)
	return op
}

// residualLess is #1 < #3 over two (int, int) rows.
func residualLess() expr.Expr { return bin(expr.OpLt, col(1), col(3)) }

func checkpointCases() []cpCase {
	s := []string{"s"}
	cases := []cpCase{
		{"HashAggregate/ints", one(ints2), keyed(ints2), func() Operator {
			return NewHashAggregate(ints2, []int{0}, append(aggsOver(1, delta.KindInt),
				AggSpec{Func: AggSum, Arg: 1, ResultType: catalog.Numeric},
				AggSpec{Func: AggAvg, Arg: 1, ResultType: catalog.Numeric}))
		}},
		{"HashAggregate/global", one(ints2), keyed(ints2), func() Operator {
			return NewHashAggregate(ints2, nil, aggsOver(1, delta.KindInt))
		}},
		{"HashAggregate/floats", one(intFloat), keyed(intFloat), func() Operator {
			return NewHashAggregate(intFloat, []int{0}, aggsOver(1, delta.KindFloat))
		}},
		{"HashAggregate/numeric", one(intNumeric), keyed(intNumeric), func() Operator {
			return NewHashAggregate(intNumeric, []int{0}, aggsOver(1, delta.KindNumeric))
		}},
		{"HashAggregate/interval", one(intInterval), keyed(intInterval), func() Operator {
			return NewHashAggregate(intInterval, []int{0}, aggsOver(1, delta.KindInterval))
		}},
		{"HashAggregate/mixed", one(mixedKinds), keyed(mixedKinds), func() Operator {
			return NewHashAggregate(mixedKinds, []int{1, 2}, append(aggsOver(3, delta.KindFloat),
				agg(AggMin, 1), agg(AggMax, 5), distinct(AggCount, 6), agg(AggMax, 2), agg(AggSum, 4)))
		}},
		{"HashAggregate/expiry", one(ints3), windowEnds, func() Operator {
			return withExpiry(NewHashAggregate(ints3, []int{0, 1}, []AggSpec{countStar(), agg(AggSum, 2), agg(AggMax, 2)}),
				Expiry{Col: 1, Sources: s})
		}},
		{"HashJoin", two(ints2), keyed(ints2, ints2), func() Operator {
			return NewHashJoin(ints2, ints2, []int{0}, []int{0}, nil)
		}},
		{"HashJoin/residual", two(ints2), keyed(ints2, ints2), func() Operator {
			return NewHashJoin(ints2, ints2, []int{0}, []int{0}, residualLess())
		}},
		{"HashJoin/cross", two(ints2), keyed(ints2, ints2), func() Operator {
			return NewHashJoin(ints2, ints2, nil, nil, residualLess())
		}},
		{"HashJoin/mixed", two(mixedKinds), keyed(mixedKinds, mixedKinds), func() Operator {
			return NewHashJoin(mixedKinds, mixedKinds, []int{0, 4}, []int{0, 4}, nil)
		}},
		{"HashJoin/expiry", two(ints3), windowEnds, func() Operator {
			return withExpiry(NewHashJoin(ints3, ints3, []int{1, 0}, []int{1, 0}, nil), Expiry{Col: 0, Sources: s})
		}},
	}
	for _, k := range []JoinKind{JoinInner, JoinLeft, JoinRight, JoinFull} {
		cases = append(cases, cpCase{"OuterJoin/" + k.String(), two(ints2), keyed(ints2, ints2), func() Operator {
			return NewOuterJoin(ints2, ints2, []int{0}, []int{0}, residualLess(), k)
		}}, cpCase{"OuterJoin/" + k.String() + "/plain", two(ints2), keyed(ints2, ints2), func() Operator {
			return NewOuterJoin(ints2, ints2, []int{0}, []int{0}, nil, k)
		}})
	}
	for _, sj := range []struct {
		name            string
		anti, nullAware bool
	}{{"semi", false, false}, {"anti", true, false}, {"notin", true, true}} {
		for _, res := range []bool{false, true} {
			name := "SemiJoin/" + sj.name
			var residual func() expr.Expr
			if res {
				name += "/residual"
				residual = residualLess
			}
			cases = append(cases, cpCase{name, two(ints2), keyed(ints2, ints2), func() Operator {
				var e expr.Expr
				if residual != nil {
					e = residual()
				}
				return NewSemiJoin(ints2, ints2, []int{0}, []int{0}, e, sj.anti, sj.nullAware)
			}})
		}
	}
	for _, op := range []SetOpKind{SetUnion, SetIntersect, SetExcept} {
		for _, all := range []bool{false, true} {
			cases = append(cases, cpCase{fmt.Sprintf("SetOp/%s/all=%v", op, all), two(ints2), keyed(ints2, ints2), func() Operator {
				return NewSetOp(ints2, op, all)
			}})
		}
	}
	cases = append(cases,
		cpCase{"SetOp/mixed", two(mixedKinds), keyed(mixedKinds, mixedKinds), func() Operator {
			return NewSetOp(mixedKinds, SetExcept, true)
		}},
		cpCase{"WindowAgg/rows", one(ints3), keyed(ints3), func() Operator {
			return NewWindowAgg(ints3, []int{0}, []SortKey{asc(1)}, WindowFrame{Preceding: 2}, []AggSpec{countStar(),
				agg(AggCount, 2), {Func: AggSum, Arg: 2, ResultType: catalog.Numeric},
				{Func: AggAvg, Arg: 2, ResultType: catalog.Numeric}, agg(AggMin, 2), agg(AggMax, 1)})
		}},
		cpCase{"WindowAgg/unbounded", one(ints3), keyed(ints3), func() Operator {
			return NewWindowAgg(ints3, nil, []SortKey{desc(1)}, WindowFrame{Preceding: -1}, []AggSpec{countStar(),
				{Func: AggSum, Arg: 2, ResultType: catalog.Numeric}, agg(AggMax, 2)})
		}},
		cpCase{"WindowAgg/range", one(ints3), keyed(ints3), func() Operator {
			return NewWindowAgg(ints3, []int{0}, []SortKey{asc(1)}, WindowFrame{Preceding: -1, Peers: true},
				[]AggSpec{{Func: AggAvg, Arg: 2, ResultType: catalog.Float8}, agg(AggMin, 2)})
		}},
		cpCase{"WindowAgg/overflow", one(ints3), keyed(ints3), func() Operator {
			// bigint sums of cpValue's extremes overflow: partitions set aside as row errors.
			return NewWindowAgg(ints3, []int{0}, []SortKey{desc(2)}, WindowFrame{Preceding: 1}, []AggSpec{agg(AggSum, 1), countStar()})
		}},
		cpCase{"WindowAgg/mixed", one(mixedKinds), keyed(mixedKinds), func() Operator {
			return NewWindowAgg(mixedKinds, []int{2}, []SortKey{asc(1), desc(4)}, WindowFrame{Preceding: 1},
				[]AggSpec{countStar(), agg(AggCount, 6), agg(AggMin, 1), agg(AggMax, 5), agg(AggAvg, 3),
					agg(AggSum, 4), agg(AggMin, 4)})
		}},
		cpCase{"TopN/row_number", one(ints2), keyed(ints2), func() Operator {
			return NewTopN(ints2, []int{0}, []SortKey{asc(1)}, 2, 1, RowNumber, true)
		}},
		cpCase{"TopN/row_number/nocol", one(ints2), keyed(ints2), func() Operator {
			return NewTopN(ints2, nil, []SortKey{desc(1)}, 3, 0, RowNumber, false)
		}},
		cpCase{"TopN/rank", one(ints2), keyed(ints2), func() Operator {
			return NewTopN(ints2, []int{0}, []SortKey{desc(1)}, 2, 0, Rank, true)
		}},
		cpCase{"TopN/dense_rank", one(ints2), keyed(ints2), func() Operator {
			return NewTopN(ints2, []int{0}, []SortKey{asc(1)}, 2, 0, DenseRank, true)
		}},
		cpCase{"TopN/mixed", one(mixedKinds), keyed(mixedKinds), func() Operator {
			return NewTopN(mixedKinds, []int{2}, []SortKey{asc(1), desc(4), asc(5)}, -1, 2, RowNumber, true)
		}},
		cpCase{"TopN/expiry", one(ints3), windowEnds, func() Operator {
			return withExpiry(NewTopN(ints3, []int{1}, []SortKey{desc(2)}, 2, 0, RowNumber, false), Expiry{Col: 1, Sources: s})
		}},
		cpCase{"WindowAssign/tumble", one(ints3), timed, func() Operator {
			return NewWindowAssign(ints3, Window{TimeCol: 1, Size: 10, Slide: 10}, true)
		}},
		cpCase{"WindowAssign/hop", one(ints3), timed, func() Operator {
			return NewWindowAssign(ints3, Window{TimeCol: 1, Size: 20, Slide: 5, Offset: 2}, true)
		}},
		cpCase{"WindowClose", one(ints3), windowEnds, func() Operator {
			return NewWindowClose(ints3, Expiry{Col: 1, Sources: s})
		}},
		cpCase{"SessionAssign", one(ints2), timed, func() Operator {
			return NewSessionAssign(ints2, 1, 7, []int{0}, nil)
		}},
		cpCase{"SessionAssign/closed", one(ints3), timed, func() Operator {
			return NewSessionAssign(ints3, 1, 7, []int{0}, s)
		}},
		cpCase{"TemporalFilter", one(ints2), timed, func() Operator {
			return NewTemporalFilter(ints2, window())
		}},
		cpCase{"TemporalFilter/open", one(ints2), timed, func() Operator {
			return NewTemporalFilter(ints2, []TemporalBound{{Expr: col(1)}})
		}},
		cpCase{"Filter", one(ints2), keyed(ints2), func() Operator {
			return NewFilter(ints2, bin(expr.OpLt, col(0), col(1)))
		}},
		cpCase{"Project", one(ints2), keyed(ints2), func() Operator {
			return NewProject([]expr.Expr{bin(expr.OpAdd, col(0), col(1))})
		}},
		cpCase{"Union", two(ints2), keyed(ints2, ints2), func() Operator { return NewUnion(ints2, 2) }},
	)
	return cases
}

// cpRun is one operator of a checkpoint test, with its row errors.
type cpRun struct {
	op   Operator
	errs *rowErrors
}

func newCPRun(op Operator) *cpRun {
	r := &cpRun{op: op}
	if e, ok := op.(errorReporter); ok {
		r.errs = &rowErrors{b: delta.New(RowErrorKinds)}
		e.setErrors(r.errs)
	}
	return r
}

type cpPush struct {
	port int
	b    *delta.Batch
}

// step runs one tick and returns a transcript of it: each call's consolidated output
// and error, the tick's row errors and the state size.
func (r *cpRun) step(t testing.TB, pushes []cpPush, tk Tick) []string {
	var log []string
	for _, p := range pushes {
		out := delta.New(r.op.OutKinds())
		err := r.op.Push(t.Context(), p.port, p.b, out)
		log = append(log, fmt.Sprintf("push %d: %v", p.port, err))
		log = append(log, lines(out)...)
	}
	out := delta.New(r.op.OutKinds())
	err := r.op.Advance(t.Context(), tk, out)
	log = append(log, fmt.Sprintf("advance: %v", err))
	log = append(log, lines(out)...)
	if r.errs != nil {
		log = append(log, "errors:")
		log = append(log, lines(r.errs.b)...)
		r.errs.b.Reset()
	}
	return append(log, r.stats())
}

func (r *cpRun) stats() string {
	s := ""
	if sz, ok := r.op.(stateSizer); ok {
		s += fmt.Sprintf("state rows %d", sz.StateRows())
	}
	if l, ok := r.op.(interface{ Late() int64 }); ok {
		s += fmt.Sprintf(" late %d", l.Late())
	}
	return s
}

// cpDriver generates the random ticks of one seed.
type cpDriver struct {
	rnd     *rand.Rand
	streams []*stream
	clock   int64
	seq     uint64
}

func newCPDriver(tc cpCase, seed uint64) *cpDriver {
	d := &cpDriver{rnd: rand.New(rand.NewPCG(seed, 0xc4e)), clock: 1000}
	for port, kinds := range tc.kinds {
		d.streams = append(d.streams, &stream{
			rnd:   rand.New(rand.NewPCG(seed, uint64(port+1))),
			live:  multiset{},
			kinds: kinds,
			value: func(r *rand.Rand, col int) delta.Value { return tc.value(r, port, col, d.clock) },
		})
	}
	return d
}

// next returns one tick's pushes and the tick: the clock and watermark move forward.
func (d *cpDriver) next() ([]cpPush, Tick) {
	var pushes []cpPush
	for range d.rnd.IntN(4) {
		port := d.rnd.IntN(len(d.streams))
		pushes = append(pushes, cpPush{port, d.streams[port].next()})
	}
	d.seq++
	d.clock += d.rnd.Int64N(6)
	if d.rnd.IntN(15) == 0 {
		d.clock += 40
	}
	wms := map[string]int64{"s": d.clock - 10}
	if d.rnd.IntN(10) == 0 {
		wms = nil // no watermark yet, or a tick without one
	}
	return pushes, Tick{Seq: d.seq, Now: d.clock, Watermarks: wms}
}

// warmUp builds tc's operator and runs it through ticks random ticks of d.
func warmUp(t testing.TB, tc cpCase, d *cpDriver, ticks int) *cpRun {
	run := newCPRun(tc.build())
	for range ticks {
		pushes, tk := d.next()
		run.step(t, pushes, tk)
	}
	return run
}

// loadTwin builds a fresh operator of tc and loads state into it.
func loadTwin(t *testing.T, tc cpCase, state []byte) *cpRun {
	t.Helper()
	twin := newCPRun(tc.build())
	require.NoError(t, LoadState(twin.op, state))
	return twin
}

func TestCheckpointRoundTrip(t *testing.T) {
	seeds := uint64(60)
	if testing.Short() {
		seeds = 10
	}
	for _, tc := range checkpointCases() {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range seeds {
				d := newCPDriver(tc, seed)
				orig := warmUp(t, tc, d, d.rnd.IntN(25))
				state, err := AppendState(orig.op, nil)
				require.NoError(t, err)
				twin := loadTwin(t, tc, state)
				again, err := AppendState(twin.op, nil)
				require.NoError(t, err)
				require.Len(t, again, len(state), "seed %d: save, load, save", seed)
				third := loadTwin(t, tc, again)
				require.Equal(t, orig.stats(), twin.stats(), "seed %d: right after loading", seed)
				require.Equal(t, orig.stats(), third.stats(), "seed %d: right after loading", seed)
				for n := range 20 {
					pushes, tk := d.next()
					want := orig.step(t, pushes, tk)
					require.Equal(t, want, twin.step(t, pushes, tk), "seed %d, tick %d after loading", seed, n+1)
					require.Equal(t, want, third.step(t, pushes, tk), "seed %d, tick %d after loading twice", seed, n+1)
				}
			}
		})
	}
}

// TestCheckpointRepeated saves and loads between every tick: the loaded operator goes
// on from every intermediate state as the original does.
func TestCheckpointRepeated(t *testing.T) {
	for _, tc := range checkpointCases() {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(5) {
				d := newCPDriver(tc, seed+1000)
				orig, cur := newCPRun(tc.build()), newCPRun(tc.build())
				for n := range 30 {
					pushes, tk := d.next()
					require.Equal(t, orig.step(t, pushes, tk), cur.step(t, pushes, tk), "seed %d, tick %d", seed, n+1)
					state, err := AppendState(cur.op, nil)
					require.NoError(t, err)
					cur = loadTwin(t, tc, state)
				}
			}
		})
	}
}

// TestCheckpointDeterministicBytes checks that state without maps of more than one
// entry (a single group, partition or key) saves to the same bytes after loading.
func TestCheckpointDeterministicBytes(t *testing.T) {
	h := NewHashAggregate(ints2, []int{0}, aggsOver(1, delta.KindInt))
	out := delta.New(h.OutKinds())
	require.NoError(t, h.Push(t.Context(), 0, rows(t, ints2, "1 5 +1\n1 7 +2\n1 NULL +1"), out))
	require.NoError(t, h.Advance(t.Context(), Tick{}, out))
	state := h.AppendState(nil)
	twin := NewHashAggregate(ints2, []int{0}, aggsOver(1, delta.KindInt))
	require.NoError(t, twin.LoadState(state))
	require.Equal(t, state, twin.AppendState(nil))
}

// TestCheckpointOperatorsCovered finds every operator type of the package (a type with an
// Advance method, outside tests) and checks that it is listed here and is a Checkpointer
// or stateless: a new operator must choose.
func TestCheckpointOperatorsCovered(t *testing.T) {
	instances := map[string]Operator{
		"Filter":         NewFilter(ints2, col(0)),
		"Project":        NewProject(nil),
		"Union":          NewUnion(ints2, 2),
		"HashAggregate":  NewHashAggregate(ints2, nil, nil),
		"HashJoin":       NewHashJoin(ints2, ints2, nil, nil, nil),
		"OuterJoin":      NewOuterJoin(ints2, ints2, nil, nil, nil, JoinLeft),
		"SemiJoin":       NewSemiJoin(ints2, ints2, nil, nil, nil, false, false),
		"SetOp":          NewSetOp(ints2, SetUnion, false),
		"TopN":           NewTopN(ints2, nil, nil, 1, 0, RowNumber, false),
		"WindowAgg":      NewWindowAgg(ints2, nil, nil, WindowFrame{Preceding: -1}, nil),
		"WindowAssign":   NewWindowAssign(ints2, Window{TimeCol: 0, Size: 1, Slide: 1}, false),
		"WindowClose":    NewWindowClose(ints2, Expiry{}),
		"SessionAssign":  NewSessionAssign(ints2, 0, 1, nil, nil),
		"TemporalFilter": NewTemporalFilter(ints2, window()),
	}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var found []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || fn.Name.Name != "Advance" {
				continue
			}
			typ := fn.Recv.List[0].Type
			if star, ok := typ.(*ast.StarExpr); ok {
				typ = star.X
			}
			found = append(found, typ.(*ast.Ident).Name)
		}
	}
	slices.Sort(found)
	listed := make([]string, 0, len(instances))
	for name := range instances {
		listed = append(listed, name)
	}
	slices.Sort(listed)
	require.Equal(t, listed, found, "operator types of package exec")
	for name, op := range instances {
		_, cp := op.(Checkpointer)
		_, sl := op.(stateless)
		require.True(t, cp != sl, "%s must be either a Checkpointer or stateless", name)
		state, err := AppendState(op, nil)
		require.NoError(t, err, name)
		require.Equal(t, sl, len(state) == 0, name)
		require.NoError(t, LoadState(instances[name], state), name)
	}
	covered := map[string]bool{}
	for _, tc := range checkpointCases() {
		covered[strings.Split(tc.name, "/")[0]] = true
	}
	for _, name := range found {
		require.True(t, covered[name], "%s has no checkpoint test case", name)
	}
}

// TestLoadStateMalformed loads every truncation of a valid state (an error each time),
// the state with a byte too many (an error) and random corruptions of it (an error or
// not, but never a panic).
func TestLoadStateMalformed(t *testing.T) {
	for _, tc := range checkpointCases() {
		t.Run(tc.name, func(t *testing.T) {
			d := newCPDriver(tc, 7)
			orig := warmUp(t, tc, d, 25)
			state, err := AppendState(orig.op, nil)
			require.NoError(t, err)
			for n := range len(state) {
				require.Error(t, LoadState(tc.build(), state[:n]), "state truncated to %d of %d bytes", n, len(state))
			}
			require.Error(t, LoadState(tc.build(), append(slices.Clone(state), 0)))
			rnd := rand.New(rand.NewPCG(7, 7))
			for range 300 {
				bad := slices.Clone(state)
				for range 1 + rnd.IntN(3) {
					if len(bad) == 0 {
						bad = append(bad, 0)
					}
					bad[rnd.IntN(len(bad))] = byte(rnd.Uint32())
				}
				op := tc.build()
				if LoadState(op, bad) == nil {
					_, err := AppendState(op, nil)
					require.NoError(t, err)
				}
			}
			require.Error(t, LoadState(tc.build(), []byte{stateVersion + 1, 0, 0, 0, 0, 0, 0, 0}))
		})
	}
}

// fuzzOps are the operators FuzzLoadState loads state into.
var fuzzOps = []func() Operator{
	func() Operator {
		return NewHashAggregate(mixedKinds, []int{1, 2}, append(aggsOver(3, delta.KindFloat),
			agg(AggMin, 1), agg(AggSum, 4), distinct(AggCount, 6), agg(AggSum, 5)))
	},
	func() Operator { return NewHashJoin(ints2, ints2, []int{0}, []int{0}, residualLess()) },
	func() Operator { return NewTopN(ints2, []int{0}, []SortKey{desc(1)}, 2, 0, Rank, true) },
}

func FuzzLoadState(f *testing.F) {
	seeds := []cpCase{
		{"", one(mixedKinds), keyed(mixedKinds), fuzzOps[0]},
		{"", two(ints2), keyed(ints2, ints2), fuzzOps[1]},
		{"", one(ints2), keyed(ints2), fuzzOps[2]},
	}
	for i, tc := range seeds {
		for seed := range uint64(3) {
			d := newCPDriver(tc, seed)
			run := warmUp(f, tc, d, 10)
			state, _ := AppendState(run.op, nil)
			f.Add(byte(i), state)
		}
	}
	f.Fuzz(func(t *testing.T, which byte, state []byte) {
		op := fuzzOps[int(which)%len(fuzzOps)]()
		if LoadState(op, state) != nil {
			return
		}
		_, err := AppendState(op, nil)
		require.NoError(t, err)
		// What loads without an error is consistent enough to run.
		_ = op.Advance(t.Context(), Tick{Seq: 1, Now: 1}, delta.New(op.OutKinds()))
	})
}

func BenchmarkCheckpointHashAggregate(b *testing.B) {
	const groups = 1_000_000
	newAgg := func() *HashAggregate {
		return NewHashAggregate(ints2, []int{0}, []AggSpec{countStar(), agg(AggSum, 1)})
	}
	h := newAgg()
	in := delta.New(ints2)
	for i := range int64(groups) {
		in.AppendRow([]delta.Value{delta.Int(i * 7919), delta.Int(i%1000 - 500)}, 1+i%3)
	}
	require.NoError(b, h.Push(b.Context(), 0, in, nil))
	require.NoError(b, h.Advance(b.Context(), Tick{}, delta.New(h.OutKinds())))
	in = nil
	state := h.AppendState(nil)
	b.Run("save", func(b *testing.B) {
		buf := make([]byte, 0, len(state))
		for b.Loop() {
			buf = h.AppendState(buf[:0])
		}
		b.ReportMetric(float64(len(buf))/groups, "bytes/group")
	})
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			twin := newAgg()
			if err := twin.LoadState(state); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(state))/groups, "bytes/group")
	})
}
