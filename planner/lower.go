package planner

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/planner/plan"
)

// Lower turns a logical plan into a dataflow whose output is the view's rows. Operators
// are chosen by a switch here, not registered anywhere (STYLE §3.4).
func Lower(root plan.Node) (*exec.Dataflow, error) {
	df, _, err := LowerKeyed(root)
	return df, err
}

// LowerKeyed is Lower that also returns each node's fingerprint, indexed by NodeID: two
// nodes with the same fingerprint compute the same rows from the same inputs, so a
// dataflow shared by several views keeps only one of them. A source's fingerprint is
// SourceKey(relation).
func LowerKeyed(root plan.Node) (*exec.Dataflow, []string, error) {
	l := &lowerer{df: exec.NewDataflow()}
	out, err := l.lower(root)
	if err != nil {
		return nil, nil, err
	}
	l.df.SetOutput(out)
	return l.df, l.keys, nil
}

// SourceKey is the fingerprint of the scan of relation rel.
func SourceKey(rel string) string { return "scan:" + strconv.Quote(rel) }

type lowerer struct {
	df     *exec.Dataflow
	keys   []string // by NodeID
	nodeOf map[plan.Node]exec.NodeID
}

// add records the fingerprint of a node just created.
func (l *lowerer) add(id exec.NodeID, key string) exec.NodeID {
	for len(l.keys) <= int(id) {
		l.keys = append(l.keys, "")
	}
	l.keys[id] = key
	return id
}

func (l *lowerer) lower(n plan.Node) (exec.NodeID, error) {
	id, err := lower(l, n)
	if err != nil {
		return 0, err
	}
	var kids []string
	for _, c := range n.Children() {
		kids = append(kids, l.keyOf(c))
	}
	if _, isScan := n.(*plan.Scan); !isScan {
		l.add(id, nodeKey(n)+"<"+strings.Join(kids, ",")+">")
	}
	l.memo(n, id)
	return id, nil
}

// keyOf and memo remember which node each plan node became, so a parent can name its
// children's fingerprints.
func (l *lowerer) keyOf(n plan.Node) string { return l.keys[l.nodeOf[n]] }

func (l *lowerer) memo(n plan.Node, id exec.NodeID) {
	if l.nodeOf == nil {
		l.nodeOf = map[plan.Node]exec.NodeID{}
	}
	l.nodeOf[n] = id
}

// nodeKey is the fingerprint of one plan node's own parameters: expressions with
// columns by position (groupKey), and every setting that changes its output.
func nodeKey(n plan.Node) string {
	exprs := func(es []expr.Expr) string {
		ks := make([]string, len(es))
		for i, e := range es {
			ks[i] = groupKey(e)
		}
		return strings.Join(ks, ", ")
	}
	opt := func(e expr.Expr) string {
		if e == nil {
			return ""
		}
		return groupKey(e)
	}
	switch x := n.(type) {
	case *plan.Filter:
		return "filter(" + groupKey(x.Pred) + ")"
	case *plan.Project:
		return "project(" + exprs(x.Exprs) + ")"
	case *plan.Join:
		return fmt.Sprintf("join(%v;%v;%v;%s)", x.Kind, x.LeftKeys, x.RightKeys, opt(x.Residual))
	case *plan.SemiJoin:
		return fmt.Sprintf("semi(%v;%v;%v;%v;%s)", x.Anti, x.NullAware, x.LeftKeys, x.RightKeys, opt(x.Residual))
	case *plan.Aggregate:
		return fmt.Sprintf("agg(%v;%v)", x.GroupCols, x.Aggs)
	case *plan.SetOp:
		return fmt.Sprintf("setop(%v;%v)", x.Op, x.All)
	case *plan.Union:
		return fmt.Sprintf("union(%d)", len(x.Inputs))
	case *plan.TopN:
		return fmt.Sprintf("topn(%v;%v;%d;%d;%v;%v)", x.Partition, x.Order, x.Limit, x.Offset, x.Rank, x.RankCol)
	}
	return fmt.Sprintf("%T", n)
}

func kinds(cols []plan.Column) []delta.Kind {
	ks := make([]delta.Kind, len(cols))
	for i, c := range cols {
		ks[i] = c.Type.Kind()
	}
	return ks
}

func relKinds(rel *catalog.Relation) []delta.Kind {
	ks := make([]delta.Kind, len(rel.Columns))
	for i, c := range rel.Columns {
		ks[i] = c.Type.Kind()
	}
	return ks
}

func lower(l *lowerer, n plan.Node) (exec.NodeID, error) {
	df := l.df
	if x, ok := n.(*plan.Scan); ok {
		return l.add(df.AddSource(x.Rel.Name, relKinds(x.Rel)), SourceKey(x.Rel.Name)), nil
	}
	// Every other node reads its children, lowered first, in port order.
	var ins []exec.NodeID
	for _, c := range n.Children() {
		id, err := l.lower(c)
		if err != nil {
			return 0, err
		}
		ins = append(ins, id)
	}
	var op exec.Operator
	switch x := n.(type) {
	case *plan.Filter:
		op = exec.NewFilter(kinds(x.Input.Schema()), x.Pred)
	case *plan.Project:
		op = exec.NewProject(append([]expr.Expr(nil), x.Exprs...))
	case *plan.Join:
		if x.Kind == exec.JoinInner {
			op = exec.NewHashJoin(kinds(x.Left.Schema()), kinds(x.Right.Schema()), x.LeftKeys, x.RightKeys, x.Residual)
		} else {
			op = exec.NewOuterJoin(kinds(x.Left.Schema()), kinds(x.Right.Schema()), x.LeftKeys, x.RightKeys, x.Residual, x.Kind)
		}
	case *plan.SemiJoin:
		op = exec.NewSemiJoin(kinds(x.Left.Schema()), kinds(x.Right.Schema()), x.LeftKeys, x.RightKeys, x.Residual, x.Anti, x.NullAware)
	case *plan.SetOp:
		op = exec.NewSetOp(kinds(x.Schema()), x.Op, x.All)
	case *plan.Union:
		op = exec.NewUnion(kinds(x.Schema()), len(ins))
	case *plan.TopN:
		op = exec.NewTopN(kinds(x.Input.Schema()), x.Partition, x.Order, x.Limit, x.Offset, x.Rank, x.RankCol)
	case *plan.Aggregate:
		op = exec.NewHashAggregate(kinds(x.Input.Schema()), x.GroupCols, x.Aggs)
	default:
		return 0, fmt.Errorf("lower: unexpected plan node %T", n)
	}
	return df.Add(op, ins...), nil
}
