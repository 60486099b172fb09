package planner

import (
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/planner/plan"
)

// Join inputs carry only the columns read above them.
//
// A join keeps each input's rows (its arrangements) for as long as they can still match,
// which for a stream joined with a table is every row ever received. Whatever columns
// those rows carry that nothing above the join reads — an event's text, its timestamp
// once a window was assigned — are memory spent for nothing, and rows that differ only
// in them could share one arrangement entry with a count. pruneJoins finds, top down,
// which output columns of each node something reads, and puts a Project that keeps only
// those below every join input that has others.
//
// The join's own output keeps its shape: a Project above it puts the columns back, the
// dropped ones as NULLs that nothing reads. Consecutive Projects of bare columns are
// then merged (mergeProjects), so a join under the binder's Project, or under another
// join, gains no operator.
//
// What a node reads is taken conservatively: a Project reads what all of its
// expressions read, needed or not (none is evaluated over a dropped column), an
// Aggregate reads its group columns and arguments, and nodes without a rule here (set
// operations, window functions, scans) read all of their input.
//
// A window scan learns which of its columns are read (WindowScan.Read): a HOP whose
// event time nobody reads merges its rows by pane before fanning them out to windows.

// pruneJoins returns root with its join inputs narrowed.
func pruneJoins(root plan.Node) plan.Node {
	return mergeProjects(prune(root, nil))
}

// prune narrows the join inputs below n, of whose output columns need lists the ones
// read above (nil: all). It returns the node that replaces n, with n's schema.
func prune(n plan.Node, need []bool) plan.Node {
	width := len(n.Schema())
	if need == nil {
		need = make([]bool, width)
		for i := range need {
			need[i] = true
		}
	}
	var in []bool // what a one-input node reads of its input
	switch x := n.(type) {
	case *plan.Project:
		in = make([]bool, len(x.Input.Schema()))
		for _, e := range x.Exprs {
			markCols(in, e)
		}
	case *plan.Filter:
		in = cloneNeed(need)
		markCols(in, x.Pred)
	case *plan.Aggregate:
		in = make([]bool, len(x.Input.Schema()))
		for _, g := range x.GroupCols {
			in[g] = true
		}
		for _, a := range x.Aggs {
			if a.Arg >= 0 {
				in[a.Arg] = true
			}
		}
	case *plan.TopN:
		in = cloneNeed(need[:len(x.Input.Schema())])
		for _, p := range x.Partition {
			in[p] = true
		}
		for _, k := range x.Order {
			in[k.Col] = true
		}
	case *plan.Join:
		return pruneJoin(x, need)
	case *plan.WindowScan:
		if x.Window.MergesByPane(need) {
			w := *x
			w.Read = cloneNeed(need)
			return &w
		}
		return x
	}
	// Without a rule (in == nil), every input column is read.
	return withChildren(n, func(c plan.Node) plan.Node { return prune(c, in) })
}

// pruneJoin narrows j's inputs to the columns need, its keys and its residual read.
func pruneJoin(j *plan.Join, need []bool) plan.Node {
	nl := len(j.Left.Schema())
	lneed, rneed := cloneNeed(need[:nl]), cloneNeed(need[nl:])
	for _, k := range j.LeftKeys {
		lneed[k] = true
	}
	for _, k := range j.RightKeys {
		rneed[k] = true
	}
	if j.Residual != nil {
		both := append(cloneNeed(lneed), rneed...)
		markCols(both, j.Residual)
		lneed, rneed = both[:nl], both[nl:]
	}
	left, lmap := narrow(prune(j.Left, lneed), lneed)
	right, rmap := narrow(prune(j.Right, rneed), rneed)
	if left == j.Left && right == j.Right {
		return j
	}
	c := *j
	c.Left, c.Right = left, right
	c.LeftKeys, c.RightKeys = remap(j.LeftKeys, lmap), remap(j.RightKeys, rmap)
	newL := len(left.Schema())
	if j.Residual != nil {
		c.Residual = rewrite(j.Residual, func(e expr.Expr) (expr.Expr, bool) {
			col, ok := e.(*expr.Col)
			if !ok {
				return nil, false
			}
			cc := *col
			if col.Idx < nl {
				cc.Idx = lmap[col.Idx]
			} else {
				cc.Idx = newL + rmap[col.Idx-nl]
			}
			return &cc, true
		})
	}
	// Put the join's output back into its old shape for the nodes above.
	old := j.Schema()
	back := &plan.Project{Input: &c, Cols: old, Exprs: make([]expr.Expr, len(old))}
	for i, col := range old {
		at := -1
		switch {
		case i < nl && lmap[i] >= 0:
			at = lmap[i]
		case i >= nl && rmap[i-nl] >= 0:
			at = newL + rmap[i-nl]
		}
		if at < 0 {
			back.Exprs[i] = expr.NewConst(delta.Null(col.Type.Kind()), col.Type)
			continue
		}
		back.Exprs[i] = &expr.Col{Idx: at, T: col.Type, Name: qualified(col.Table, col.Name)}
	}
	return back
}

// narrow puts a Project keeping the columns need lists over n when it lists fewer than
// all. It returns the new input and, per old column, its position in it (-1: dropped).
func narrow(n plan.Node, need []bool) (plan.Node, []int) {
	cols := n.Schema()
	m := make([]int, len(cols))
	p := &plan.Project{Input: n}
	for i, c := range cols {
		m[i] = -1
		if need[i] {
			m[i] = len(p.Exprs)
			p.Exprs = append(p.Exprs, &expr.Col{Idx: i, T: c.Type, Name: qualified(c.Table, c.Name)})
			p.Cols = append(p.Cols, c)
		}
	}
	if len(p.Exprs) == len(cols) {
		return n, m
	}
	return p, m
}

func remap(cols, m []int) []int {
	if cols == nil {
		return nil
	}
	out := make([]int, len(cols))
	for i, c := range cols {
		out[i] = m[c]
	}
	return out
}

func cloneNeed(need []bool) []bool { return append([]bool(nil), need...) }

// markCols sets need[i] for every column e reads.
func markCols(need []bool, e expr.Expr) {
	walk(e, func(x expr.Expr) {
		if c, ok := x.(*expr.Col); ok {
			need[c.Idx] = true
		}
	})
}

// mergeProjects merges every Project whose input is a Project of bare columns and
// constants into one, bottom up, and moves such a Project above a Filter over it, so
// that a Project under the Filter merges too.
func mergeProjects(n plan.Node) plan.Node {
	n = withChildren(n, mergeProjects)
	switch x := n.(type) {
	case *plan.Filter:
		in, ok := x.Input.(*plan.Project)
		if !ok || !selectsOnly(in) {
			return n
		}
		f := &plan.Filter{Input: in.Input, Pred: substitute(x.Pred, in)}
		return mergeProjects(&plan.Project{Input: f, Cols: in.Cols, Exprs: in.Exprs})
	case *plan.Project:
		in, ok := x.Input.(*plan.Project)
		if !ok || !selectsOnly(in) {
			return n
		}
		c := &plan.Project{Input: in.Input, Cols: x.Cols, Exprs: make([]expr.Expr, len(x.Exprs))}
		for i, e := range x.Exprs {
			c.Exprs[i] = substitute(e, in)
		}
		return c
	}
	return n
}

// substitute rewrites e, over the output of p (a Project of columns and constants), to
// read p's input.
func substitute(e expr.Expr, p *plan.Project) expr.Expr {
	return rewrite(e, func(x expr.Expr) (expr.Expr, bool) {
		col, ok := x.(*expr.Col)
		if !ok {
			return nil, false
		}
		if inner, ok := p.Exprs[col.Idx].(*expr.Col); ok {
			c := *col // the same column, under the name it was written with
			c.Idx = inner.Idx
			return &c, true
		}
		return p.Exprs[col.Idx], true
	})
}

// selectsOnly reports whether every expression of p is a column or a constant.
func selectsOnly(p *plan.Project) bool {
	for _, e := range p.Exprs {
		switch e.(type) {
		case *expr.Col, *expr.Const:
		default:
			return false
		}
	}
	return true
}

// withChildren returns n with each child replaced by f(child), or n itself when no
// child changes.
func withChildren(n plan.Node, f func(plan.Node) plan.Node) plan.Node {
	old := n.Children()
	ch := make([]plan.Node, len(old))
	changed := false
	for i, c := range old {
		ch[i] = f(c)
		changed = changed || ch[i] != c
	}
	if !changed {
		return n
	}
	switch x := n.(type) {
	case *plan.Project:
		c := *x
		c.Input = ch[0]
		return &c
	case *plan.Filter:
		c := *x
		c.Input = ch[0]
		return &c
	case *plan.Aggregate:
		c := *x
		c.Input = ch[0]
		return &c
	case *plan.TopN:
		c := *x
		c.Input = ch[0]
		return &c
	case *plan.WindowAgg:
		c := *x
		c.Input = ch[0]
		return &c
	case *plan.WindowClose:
		c := *x
		c.Input = ch[0]
		return &c
	case *plan.TemporalFilter:
		c := *x
		c.Input = ch[0]
		return &c
	case *plan.Join:
		c := *x
		c.Left, c.Right = ch[0], ch[1]
		return &c
	case *plan.SemiJoin:
		c := *x
		c.Left, c.Right = ch[0], ch[1]
		return &c
	case *plan.SetOp:
		c := *x
		c.Left, c.Right = ch[0], ch[1]
		return &c
	case *plan.Union:
		return &plan.Union{Inputs: ch}
	}
	panic("planner: withChildren: a plan node of an unknown type")
}
