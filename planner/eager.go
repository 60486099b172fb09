package planner

import (
	"slices"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/planner/plan"
)

// Eager aggregation: an aggregate over an inner join aggregates the stream's side first.
//
// A join keeps every row of each input for as long as it can still match, and for a
// stream joined with a table that is every event ever received: in
//
//	SELECT r.category, sum(g.price * g.count), count(DISTINCT g.user_id)
//	FROM gifts g JOIN rooms r ON r.room_id = g.room_id GROUP BY r.category
//
// the join holds every gift, so that a room moving to another category can move its
// gifts' coins with it. What the aggregate above needs of the gifts is less: per
// (room_id, user_id), the join key and the DISTINCT argument, the sum of price * count.
// eagerAggregate puts that partial aggregate below the join (Yan and Larson's "eager
// group-by"); the join then holds one row per (room_id, user_id) and the aggregate above
// combines the partial results: a sum of the partial sums, a sum of the partial counts
// for count(*) and count(x), the min of the minima and the max of the maxima. A partial
// row that matches k rows of the other side is counted k times, as its rows would have
// been, so the result is the same multiset arithmetic.
//
// The rewrite applies to Aggregate(Project(Join)) and Aggregate(Project(Filter(Join)))
// of an inner join, on a side that reads a source, when:
//
//   - every aggregate is count(*), or a DISTINCT aggregate of an expression over one
//     side, or count, sum, min or max of an expression over the aggregated side (not
//     avg, whose partial form would need a division above; not a sum of floating point,
//     whose rounding would then depend on the grouping);
//   - something is aggregated away: some non-DISTINCT argument reads a column of the
//     aggregated side that nothing else above reads (otherwise the partial aggregate
//     would only count identical rows, which the join's arrangement does already);
//   - there is no min or max over insert-only input (both sides read sources only, as
//     Nexmark q6): there the aggregate keeps one extreme per group, and over partial
//     extremes, which are retracted when they change, it would keep a multiset of them.
//
// The partial aggregate groups by the aggregated side's columns that anything other than
// those arguments reads: the join keys, the residual and filter, the group expressions
// and the DISTINCT arguments. In a chain of joins it goes below the join of the source
// only (anchor_revenue_hourly: gifts per room, user and hour below the join with rooms),
// and the joins above carry its partial results up to the aggregate.
//
// An argument is computed below the join, so an event whose argument fails (22003,
// 22012) is set aside there as a row error of its own, once, whether or not it matches
// a row of the other side; above the join it was set aside once per match. The view's
// rows are the same either way: the event is left out of every group it would join.

// eagerAggregate returns root with partial aggregates below the joins it may put them.
func eagerAggregate(root plan.Node) plan.Node {
	n := withChildren(root, eagerAggregate)
	if a, ok := n.(*plan.Aggregate); ok {
		if e := eagerOne(a); e != nil {
			return e
		}
	}
	return n
}

// eagerOne rewrites a when the rule applies (see above); nil when it does not.
func eagerOne(a *plan.Aggregate) *plan.Aggregate {
	p, ok := a.Input.(*plan.Project)
	if !ok {
		return nil
	}
	var f *plan.Filter
	j, ok := p.Input.(*plan.Join)
	if !ok {
		if f, ok = p.Input.(*plan.Filter); !ok {
			return nil
		}
		if j, ok = f.Input.(*plan.Join); !ok {
			return nil
		}
	}
	if j.Kind != exec.JoinInner || j.Expiry != nil {
		return nil
	}
	nl := len(j.Left.Schema())
	for _, left := range []bool{true, false} {
		side, lo, hi := j.Left, 0, nl
		if !left {
			side, lo, hi = j.Right, nl, len(j.Schema())
		}
		if !readsSource(side) {
			continue
		}
		if e := eagerSide(a, p, f, j, left, lo, hi); e != nil {
			return e
		}
	}
	return nil
}

// eagerSide aggregates the side of j whose columns are [lo, hi) of j's output, or
// returns nil when the rule does not hold for it.
func eagerSide(a *plan.Aggregate, p *plan.Project, f *plan.Filter, j *plan.Join, left bool, lo, hi int) *plan.Aggregate {
	width := len(j.Schema())
	inSide := func(e expr.Expr) (side, other bool) {
		walk(e, func(x expr.Expr) {
			if c, ok := x.(*expr.Col); ok {
				if c.Idx >= lo && c.Idx < hi {
					side = true
				} else {
					other = true
				}
			}
		})
		return side, other
	}
	// keep: the join's output columns read by anything but the aggregated arguments.
	keep := make([]bool, width)
	sideKeys := j.LeftKeys
	if !left {
		sideKeys = j.RightKeys
	}
	for _, k := range sideKeys {
		keep[lo+k] = true
	}
	if j.Residual != nil {
		markCols(keep, j.Residual)
	}
	if f != nil {
		markCols(keep, f.Pred)
	}
	// partial[i]: aggregate i of a is computed below the join, over p.Exprs[a.Aggs[i].Arg].
	partial := make([]bool, len(a.Aggs))
	argUse := make([]bool, len(p.Exprs)) // p's columns read as aggregated arguments only
	other := make([]bool, len(p.Exprs))  // p's columns read otherwise
	for _, g := range a.GroupCols {
		other[g] = true
	}
	for i, s := range a.Aggs {
		switch {
		case s.Func == exec.AggCountStar:
			partial[i] = true
		case s.Distinct:
			if sd, od := inSide(p.Exprs[s.Arg]); sd && od {
				return nil
			}
			other[s.Arg] = true
		case s.Func == exec.AggAvg, s.Func == exec.AggSum && p.Cols[s.Arg].Type.Kind() == delta.KindFloat:
			return nil
		default:
			if _, od := inSide(p.Exprs[s.Arg]); od {
				return nil
			}
			partial[i] = true
			argUse[s.Arg] = true
		}
	}
	for i, e := range p.Exprs {
		if other[i] {
			markCols(keep, e)
		}
	}
	away := false // some aggregated argument reads a column nothing else does
	for i, e := range p.Exprs {
		if argUse[i] {
			walk(e, func(x expr.Expr) {
				if c, ok := x.(*expr.Col); ok && !keep[c.Idx] {
					away = true
				}
			})
		}
	}
	if !away {
		return nil
	}
	if insertOnly(a.Input) && slices.ContainsFunc(a.Aggs, func(s exec.AggSpec) bool {
		return !s.Distinct && (s.Func == exec.AggMin || s.Func == exec.AggMax)
	}) {
		// Over insert-only input (a join of streams) min and max keep one extreme per
		// group. Over partial extremes, which change and so retract, they would keep every
		// partial value instead: more state and work than the partial aggregate saves.
		return nil
	}
	if len(a.GroupCols) == 0 && slices.ContainsFunc(a.Aggs, func(s exec.AggSpec) bool {
		return s.Func == exec.AggCountStar || s.Func == exec.AggCount && !s.Distinct
	}) {
		// Over no rows a global count is 0, and a sum of partial counts NULL.
		return nil
	}

	// The partial aggregate: over the side, grouped by its kept columns, computing each
	// partial aggregate's argument below the join.
	side := j.Left
	if !left {
		side = j.Right
	}
	sideCols := side.Schema()
	pin := &plan.Project{Input: side}
	at := make([]int, width) // a kept side column's position in the partial aggregate's output
	for c := lo; c < hi; c++ {
		at[c] = -1
		if keep[c] {
			at[c] = len(pin.Exprs)
			col := sideCols[c-lo]
			pin.Exprs = append(pin.Exprs, &expr.Col{Idx: c - lo, T: col.Type, Name: qualified(col.Table, col.Name)})
			pin.Cols = append(pin.Cols, col)
		}
	}
	nk := len(pin.Exprs)
	if nk == 0 {
		// A partial aggregate without group columns (a join without keys) would be
		// global: one row even over no rows, which would then join.
		return nil
	}
	toSide := func(e expr.Expr) expr.Expr { return mapCols(e, func(c int) int { return c - lo }) }
	pa := &plan.Aggregate{Input: pin, Cols: slices.Clone(pin.Cols)}
	for g := range nk {
		pa.GroupCols = append(pa.GroupCols, g)
	}
	upper := make([]exec.AggSpec, len(a.Aggs)) // a's aggregates, reading the partial results
	copy(upper, a.Aggs)
	for i, s := range a.Aggs {
		if !partial[i] {
			continue
		}
		ps := s
		if s.Func != exec.AggCountStar {
			ps.Arg = len(pin.Exprs)
			pin.Exprs = append(pin.Exprs, toSide(p.Exprs[s.Arg]))
			pin.Cols = append(pin.Cols, plan.Column{Name: "arg", Type: s.ArgType})
		}
		pa.Aggs = append(pa.Aggs, ps)
		pa.Cols = append(pa.Cols, plan.Column{Name: s.Func.String(), Type: s.ResultType})
		// Read above from the partial results, which follow p's columns kept (below).
		u := exec.AggSpec{Func: s.Func, Arg: len(pa.Aggs) - 1, ArgType: s.ResultType, ResultType: s.ResultType}
		switch s.Func {
		case exec.AggCountStar, exec.AggCount:
			u.Func = exec.AggSum
		case exec.AggMin, exec.AggMax:
			u.ArgType = s.ArgType
		}
		upper[i] = u
	}

	// When the side is itself a join that the rule applies to (a chain of joins), pa
	// would only combine the partial results of the aggregate below that join once more,
	// a second copy of the same groups (the rooms of anchor_revenue_hourly's gifts map to
	// few anchors each). The rows above read those partial results through the side's
	// joins instead: the aggregate above combines them all the same, and pa goes.
	var sideNode plan.Node = pa
	m := make([]int, len(pa.Cols)) // pa's columns in sideNode's output
	for k := range m {
		m[k] = k
	}
	if e := eagerOne(pa); e != nil {
		sideNode = e.Input
		copy(m, e.GroupCols)
		for k, s := range e.Aggs {
			m[nk+k] = s.Arg
		}
	}
	for c := lo; c < hi; c++ {
		if at[c] >= 0 {
			at[c] = m[at[c]]
		}
	}

	// The join over the partial aggregate, and what was above it, reading its columns.
	nj := *j
	sideSchema, nl := sideNode.Schema(), len(j.Left.Schema())
	sideWidth := len(sideSchema)
	if left {
		nj.Left, nj.LeftKeys = sideNode, remap(j.LeftKeys, at)
	} else {
		nj.Right, nj.RightKeys = sideNode, remap(j.RightKeys, at[lo:])
	}
	base := 0 // where pa's columns start in nj's output
	if !left {
		base = nl
	}
	moved := func(c int) int { // j's output column c in nj's output; -1: aggregated away
		switch {
		case c < lo || c >= hi:
			if left {
				return c - nl + sideWidth // a right column, after pa's
			}
			return c
		case at[c] < 0:
			return -1
		}
		return base + at[c]
	}
	dropped := func(e expr.Expr) (d bool) {
		walk(e, func(x expr.Expr) {
			if c, ok := x.(*expr.Col); ok && moved(c.Idx) < 0 {
				d = true
			}
		})
		return d
	}
	remapCols := func(e expr.Expr) expr.Expr { return mapCols(e, moved) }
	if j.Residual != nil {
		nj.Residual = remapCols(j.Residual)
	}
	var below plan.Node = &nj
	if f != nil {
		below = &plan.Filter{Input: &nj, Pred: remapCols(f.Pred)}
	}
	// p's columns but those read by the partial aggregates only, then the partial results.
	np := &plan.Project{Input: below}
	pos := make([]int, len(p.Exprs))
	for i, e := range p.Exprs {
		pos[i] = -1
		if !dropped(e) {
			pos[i] = len(np.Exprs)
			np.Exprs = append(np.Exprs, remapCols(e))
			np.Cols = append(np.Cols, p.Cols[i])
		}
	}
	first := len(np.Exprs)
	for k := range pa.Aggs {
		at := m[nk+k]
		col := sideSchema[at]
		np.Exprs = append(np.Exprs, &expr.Col{Idx: base + at, T: col.Type, Name: col.Name})
		np.Cols = append(np.Cols, col)
	}
	for i, s := range upper {
		switch {
		case partial[i]:
			upper[i].Arg += first
		case s.Arg >= 0:
			upper[i].Arg = pos[s.Arg]
		}
	}
	na := *a
	na.Input, na.Aggs, na.GroupCols = np, upper, remap(a.GroupCols, pos)
	return &na
}

// mapCols returns e reading column f(i) wherever it read column i.
func mapCols(e expr.Expr, f func(int) int) expr.Expr {
	return rewrite(e, func(x expr.Expr) (expr.Expr, bool) {
		c, ok := x.(*expr.Col)
		if !ok {
			return nil, false
		}
		cc := *c
		cc.Idx = f(c.Idx)
		return &cc, true
	})
}

// readsSource reports whether n reads a source (an append-only stream), the side whose
// rows a join keeps without bound.
func readsSource(n plan.Node) bool {
	switch x := n.(type) {
	case *plan.Scan:
		return x.Rel.Kind == catalog.Source
	case *plan.WindowScan:
		return x.Rel.Kind == catalog.Source
	case *plan.SessionScan:
		return x.Rel.Kind == catalog.Source
	}
	return slices.ContainsFunc(n.Children(), readsSource)
}
