package planner

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/weirdb/weir/exec/expr"
)

// children returns the AST nodes directly below n, found through protobuf reflection so
// that no node type is missed.
func children(n *pg_query.Node) []*pg_query.Node {
	var out []*pg_query.Node
	var visit func(m protoreflect.Message)
	add := func(m protoreflect.Message) {
		if node, ok := m.Interface().(*pg_query.Node); ok {
			out = append(out, node)
			return
		}
		visit(m)
	}
	visit = func(m protoreflect.Message) {
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			if fd.Kind() != protoreflect.MessageKind || fd.IsMap() {
				return true
			}
			if fd.IsList() {
				l := v.List()
				for i := 0; i < l.Len(); i++ {
					add(l.Get(i).Message())
				}
				return true
			}
			add(v.Message())
			return true
		})
	}
	visit(n.ProtoReflect())
	return out
}

// subExprs returns e's direct operands.
func subExprs(e expr.Expr) []expr.Expr {
	switch x := e.(type) {
	case *expr.Binary:
		return []expr.Expr{x.L, x.R}
	case *expr.Not:
		return []expr.Expr{x.E}
	case *expr.Neg:
		return []expr.Expr{x.E}
	case *expr.IsNull:
		return []expr.Expr{x.E}
	case *expr.Cast:
		return []expr.Expr{x.E}
	case *expr.Like:
		return []expr.Expr{x.E}
	case *expr.Func:
		return x.Args
	case *expr.In:
		return append([]expr.Expr{x.E}, x.List...)
	case *expr.Case:
		var out []expr.Expr
		for _, w := range x.Whens {
			out = append(out, w.Cond, w.Then)
		}
		return append(out, x.Else)
	case *expr.DateArith:
		return []expr.Expr{x.L, x.R}
	case *expr.JsonGet:
		if x.Arg == nil {
			return []expr.Expr{x.E}
		}
		return []expr.Expr{x.E, x.Arg}
	}
	return nil
}

// walk calls fn on e and every expression below it, parents first.
func walk(e expr.Expr, fn func(expr.Expr)) {
	fn(e)
	for _, c := range subExprs(e) {
		walk(c, fn)
	}
}

// rewrite returns e with subtrees replaced: fn returns (replacement, true) to replace a
// subtree without descending into it, or (nil, false) to keep the node and rewrite its
// operands. The input tree is not modified.
func rewrite(e expr.Expr, fn func(expr.Expr) (expr.Expr, bool)) expr.Expr {
	if r, ok := fn(e); ok {
		return r
	}
	rw := func(x expr.Expr) expr.Expr { return rewrite(x, fn) }
	switch x := e.(type) {
	case *expr.Binary:
		c := *x
		c.L, c.R = rw(x.L), rw(x.R)
		return &c
	case *expr.Not:
		return &expr.Not{E: rw(x.E)}
	case *expr.Neg:
		return &expr.Neg{E: rw(x.E)}
	case *expr.IsNull:
		return &expr.IsNull{E: rw(x.E), Not: x.Not}
	case *expr.Cast:
		return &expr.Cast{E: rw(x.E), T: x.T}
	case *expr.Like:
		c := *x
		c.E = rw(x.E)
		return &c
	case *expr.Func:
		c := *x
		c.Args = make([]expr.Expr, len(x.Args))
		for i, a := range x.Args {
			c.Args[i] = rw(a)
		}
		return &c
	case *expr.In:
		c := &expr.In{E: rw(x.E), Not: x.Not}
		for _, a := range x.List {
			c.List = append(c.List, rw(a))
		}
		return c
	case *expr.Case:
		c := &expr.Case{T: x.T, Else: rw(x.Else)}
		for _, w := range x.Whens {
			c.Whens = append(c.Whens, expr.When{Cond: rw(w.Cond), Then: rw(w.Then)})
		}
		return c
	case *expr.DateArith:
		c := *x
		c.L, c.R = rw(x.L), rw(x.R)
		return &c
	case *expr.JsonGet:
		c := *x
		c.E = rw(x.E)
		if x.Arg != nil {
			c.Arg = rw(x.Arg)
		}
		return &c
	}
	return e
}
