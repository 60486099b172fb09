// Package plan holds Weir's logical plans: relational algebra over bound, typed
// expressions. The binder builds them from SQL; planner/lower.go turns them into an
// exec.Dataflow. Nodes mirror the incremental operators one to one for now.
package plan

import (
	"strings"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/exec/expr"
)

// Column is one output column of a node. Table is the range-table alias that qualifies
// it ("c" in c.room_id), empty for computed columns.
type Column struct {
	Table string
	Name  string
	Type  catalog.Type
}

// Node is a logical plan node.
type Node interface {
	Schema() []Column
	Children() []Node
	String() string
}

// Scan reads a source, table or view's changes.
type Scan struct {
	Rel   *catalog.Relation
	Alias string
}

func (s *Scan) Schema() []Column {
	cols := make([]Column, len(s.Rel.Columns))
	for i, c := range s.Rel.Columns {
		cols[i] = Column{Table: s.Alias, Name: c.Name, Type: c.Type}
	}
	return cols
}
func (s *Scan) Children() []Node { return nil }
func (s *Scan) String() string {
	if s.Alias != s.Rel.Name {
		return "Scan(" + s.Rel.Name + " AS " + s.Alias + ")"
	}
	return "Scan(" + s.Rel.Name + ")"
}

// Filter keeps rows where Pred is true.
type Filter struct {
	Input Node
	Pred  expr.Expr
}

func (f *Filter) Schema() []Column { return f.Input.Schema() }
func (f *Filter) Children() []Node { return []Node{f.Input} }
func (f *Filter) String() string   { return "Filter(" + f.Pred.String() + ")" }

// Project computes Exprs over each input row.
type Project struct {
	Input Node
	Exprs []expr.Expr
	Cols  []Column
}

func (p *Project) Schema() []Column { return p.Cols }
func (p *Project) Children() []Node { return []Node{p.Input} }
func (p *Project) String() string {
	parts := make([]string, len(p.Exprs))
	for i, e := range p.Exprs {
		parts[i] = e.String()
	}
	return "Project(" + strings.Join(parts, ", ") + ")"
}

// Join is an inner equi-join: LeftKeys[i] = RightKeys[i] (column indexes into each side)
// and Residual (over left ++ right columns, may be nil).
type Join struct {
	Left, Right         Node
	LeftKeys, RightKeys []int
	Residual            expr.Expr
}

func (j *Join) Schema() []Column {
	return append(append([]Column{}, j.Left.Schema()...), j.Right.Schema()...)
}
func (j *Join) Children() []Node { return []Node{j.Left, j.Right} }
func (j *Join) String() string {
	ls, rs := j.Left.Schema(), j.Right.Schema()
	var conds []string
	for i := range j.LeftKeys {
		conds = append(conds, ls[j.LeftKeys[i]].Name+" = "+rs[j.RightKeys[i]].Name)
	}
	if j.Residual != nil {
		conds = append(conds, j.Residual.String())
	}
	return "InnerJoin(" + strings.Join(conds, " AND ") + ")"
}

// Aggregate groups by the first len(GroupCols) columns named in GroupCols and computes
// Aggs; its output is the group columns followed by one column per aggregate.
type Aggregate struct {
	Input     Node
	GroupCols []int
	Aggs      []exec.AggSpec
	Cols      []Column
}

func (a *Aggregate) Schema() []Column { return a.Cols }
func (a *Aggregate) Children() []Node { return []Node{a.Input} }
func (a *Aggregate) String() string {
	in := a.Input.Schema()
	var g []string
	for _, c := range a.GroupCols {
		g = append(g, in[c].Name)
	}
	var ag []string
	for i := range a.Aggs {
		ag = append(ag, a.Cols[len(a.GroupCols)+i].Name)
	}
	return "HashAggregate(group=(" + strings.Join(g, ", ") + "); " + strings.Join(ag, ", ") + ")"
}

// Explain renders n as a tree.
func Explain(n Node) string {
	var sb strings.Builder
	var walk func(n Node, prefix, childPrefix string)
	walk = func(n Node, prefix, childPrefix string) {
		sb.WriteString(prefix + n.String() + "\n")
		ch := n.Children()
		for i, c := range ch {
			if i == len(ch)-1 {
				walk(c, childPrefix+"└─ ", childPrefix+"   ")
			} else {
				walk(c, childPrefix+"├─ ", childPrefix+"│  ")
			}
		}
	}
	walk(n, "", "")
	return sb.String()
}
