package planner

import (
	"fmt"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/planner/plan"
)

// Lower turns a logical plan into a dataflow whose output is the view's rows. Operators
// are chosen by a switch here, not registered anywhere (STYLE §3.4).
func Lower(root plan.Node) (*exec.Dataflow, error) {
	df := exec.NewDataflow()
	out, err := lower(df, root)
	if err != nil {
		return nil, err
	}
	df.SetOutput(out)
	return df, nil
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

func lower(df *exec.Dataflow, n plan.Node) (exec.NodeID, error) {
	switch x := n.(type) {
	case *plan.Scan:
		return df.AddSource(x.Rel.Name, relKinds(x.Rel)), nil
	case *plan.Filter:
		in, err := lower(df, x.Input)
		if err != nil {
			return 0, err
		}
		return df.Add(exec.NewFilter(kinds(x.Input.Schema()), x.Pred), in), nil
	case *plan.Project:
		in, err := lower(df, x.Input)
		if err != nil {
			return 0, err
		}
		return df.Add(exec.NewProject(append([]expr.Expr(nil), x.Exprs...)), in), nil
	case *plan.Join:
		l, err := lower(df, x.Left)
		if err != nil {
			return 0, err
		}
		r, err := lower(df, x.Right)
		if err != nil {
			return 0, err
		}
		var op exec.Operator
		if x.Kind == exec.JoinInner {
			op = exec.NewHashJoin(kinds(x.Left.Schema()), kinds(x.Right.Schema()), x.LeftKeys, x.RightKeys, x.Residual)
		} else {
			op = exec.NewOuterJoin(kinds(x.Left.Schema()), kinds(x.Right.Schema()), x.LeftKeys, x.RightKeys, x.Residual, x.Kind)
		}
		return df.Add(op, l, r), nil
	case *plan.SemiJoin:
		l, err := lower(df, x.Left)
		if err != nil {
			return 0, err
		}
		r, err := lower(df, x.Right)
		if err != nil {
			return 0, err
		}
		op := exec.NewSemiJoin(kinds(x.Left.Schema()), kinds(x.Right.Schema()), x.LeftKeys, x.RightKeys, x.Residual, x.Anti, x.NullAware)
		return df.Add(op, l, r), nil
	case *plan.SetOp:
		l, err := lower(df, x.Left)
		if err != nil {
			return 0, err
		}
		r, err := lower(df, x.Right)
		if err != nil {
			return 0, err
		}
		return df.Add(exec.NewSetOp(kinds(x.Schema()), x.Op, x.All), l, r), nil
	case *plan.Union:
		ins := make([]exec.NodeID, len(x.Inputs))
		for i, in := range x.Inputs {
			id, err := lower(df, in)
			if err != nil {
				return 0, err
			}
			ins[i] = id
		}
		return df.Add(exec.NewUnion(kinds(x.Schema()), len(ins)), ins...), nil
	case *plan.TopN:
		in, err := lower(df, x.Input)
		if err != nil {
			return 0, err
		}
		op := exec.NewTopN(kinds(x.Input.Schema()), x.Partition, x.Order, x.Limit, x.Offset, x.Rank, x.RankCol)
		return df.Add(op, in), nil
	case *plan.Aggregate:
		in, err := lower(df, x.Input)
		if err != nil {
			return 0, err
		}
		return df.Add(exec.NewHashAggregate(kinds(x.Input.Schema()), x.GroupCols, x.Aggs), in), nil
	}
	return 0, fmt.Errorf("lower: unexpected plan node %T", n)
}
