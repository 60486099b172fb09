// Package plan holds Weir's logical plans: relational algebra over bound, typed
// expressions. The binder builds them from SQL; planner/lower.go turns them into an
// exec.Dataflow. Nodes mirror the incremental operators one to one for now.
package plan

import (
	"fmt"
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
	// Final is, for a view read by a continuous query, how each of the view's columns
	// closes under the watermarks (nil entries: never); nil for other relations.
	Final []*exec.Expiry
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

// Join is an equi-join: LeftKeys[i] = RightKeys[i] (column indexes into each side) and
// Residual (over left ++ right columns, may be nil). Kind is inner, left, right or full;
// outer joins pad unmatched rows with NULLs.
type Join struct {
	Left, Right         Node
	LeftKeys, RightKeys []int
	Residual            expr.Expr
	Kind                exec.JoinKind
	// Expiry, when set, says that the key pair LeftKeys[Expiry.Col] = RightKeys[Expiry.Col]
	// holds a window closed under a watermark on both sides: an inner join forgets
	// those keys' rows then (planner/window.go).
	Expiry *exec.Expiry
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
	name := [...]string{"InnerJoin", "LeftJoin", "RightJoin", "FullJoin"}[j.Kind]
	return name + "(" + strings.Join(conds, " AND ") + ")"
}

// SemiJoin keeps the rows of Left that have (or, when Anti, do not have) a matching row
// in Right: EXISTS, IN, NOT EXISTS, NOT IN (NullAware: a NULL on the right matches every
// row, the classic NOT IN trap). Its schema is Left's.
type SemiJoin struct {
	Left, Right         Node
	LeftKeys, RightKeys []int
	Residual            expr.Expr
	Anti, NullAware     bool
}

func (j *SemiJoin) Schema() []Column { return j.Left.Schema() }
func (j *SemiJoin) Children() []Node { return []Node{j.Left, j.Right} }
func (j *SemiJoin) String() string {
	ls, rs := j.Left.Schema(), j.Right.Schema()
	var conds []string
	for i := range j.LeftKeys {
		conds = append(conds, ls[j.LeftKeys[i]].Name+" = "+rs[j.RightKeys[i]].Name)
	}
	if j.Residual != nil {
		conds = append(conds, j.Residual.String())
	}
	name := "SemiJoin"
	switch {
	case j.Anti && j.NullAware:
		name = "NullAwareAntiJoin"
	case j.Anti:
		name = "AntiJoin"
	}
	return name + "(" + strings.Join(conds, " AND ") + ")"
}

// SetOp is UNION, INTERSECT or EXCEPT (with All, the bag forms) of two inputs with the
// same column types; UNION ALL of any number of inputs is Union.
type SetOp struct {
	Left, Right Node
	Op          exec.SetOpKind
	All         bool
}

func (s *SetOp) Schema() []Column { return s.Left.Schema() }
func (s *SetOp) Children() []Node { return []Node{s.Left, s.Right} }
func (s *SetOp) String() string {
	name := [...]string{"Union", "Intersect", "Except"}[s.Op]
	if s.All {
		name += "All"
	}
	return name
}

// Union is UNION ALL: every input row, with its multiplicity.
type Union struct{ Inputs []Node }

func (u *Union) Schema() []Column { return u.Inputs[0].Schema() }
func (u *Union) Children() []Node { return u.Inputs }
func (u *Union) String() string   { return "UnionAll" }

// TopN keeps, per partition, the rows ranked within Limit by Order (ORDER BY … LIMIT,
// row_number() / rank() / dense_rank() OVER (PARTITION BY … ORDER BY …)). With RankCol
// the rank is appended as a bigint column named RankName.
type TopN struct {
	Input     Node
	Partition []int
	Order     []exec.SortKey
	Limit     int64 // < 0: none
	Offset    int64
	Rank      exec.RankKind
	RankCol   bool
	RankName  string
	// Expiry, when set, names a partition column whose windows close under a
	// watermark: the TopN forgets those partitions then (planner/window.go).
	Expiry *exec.Expiry
}

func (t *TopN) Schema() []Column {
	cols := t.Input.Schema()
	if t.RankCol {
		cols = append(append([]Column{}, cols...), Column{Name: t.RankName, Type: catalog.Int8})
	}
	return cols
}
func (t *TopN) Children() []Node { return []Node{t.Input} }
func (t *TopN) String() string {
	in := t.Input.Schema()
	var parts []string
	if len(t.Partition) > 0 {
		var p []string
		for _, c := range t.Partition {
			p = append(p, in[c].Name)
		}
		parts = append(parts, "partition=("+strings.Join(p, ", ")+")")
	}
	parts = append(parts, orderString(in, t.Order))
	if t.Limit >= 0 {
		parts = append(parts, fmt.Sprintf("limit=%d", t.Limit))
	}
	if t.Offset > 0 {
		parts = append(parts, fmt.Sprintf("offset=%d", t.Offset))
	}
	if t.RankCol {
		parts = append(parts, [...]string{"row_number", "rank", "dense_rank"}[t.Rank]+" AS "+t.RankName)
	}
	return "TopN(" + strings.Join(parts, "; ") + ")"
}

// orderString renders sort keys over input columns in: "order=(amount DESC, id)".
func orderString(in []Column, order []exec.SortKey) string {
	var o []string
	for _, k := range order {
		s := in[k.Col].Name
		if k.Desc {
			s += " DESC"
		}
		if k.NullsFirst != k.Desc {
			if k.NullsFirst {
				s += " NULLS FIRST"
			} else {
				s += " NULLS LAST"
			}
		}
		o = append(o, s)
	}
	return "order=(" + strings.Join(o, ", ") + ")"
}

// WindowAgg computes, for every row, aggregates over a frame of the rows of its
// partition in Order: avg(x) OVER (PARTITION BY … ORDER BY … ROWS BETWEEN n PRECEDING
// AND CURRENT ROW). Its output is the input row followed by one column per aggregate,
// described by Cols.
type WindowAgg struct {
	Input     Node
	Partition []int
	Order     []exec.SortKey
	Frame     exec.WindowFrame
	Aggs      []exec.AggSpec
	Cols      []Column // one per aggregate
}

func (w *WindowAgg) Schema() []Column {
	return append(append([]Column{}, w.Input.Schema()...), w.Cols...)
}
func (w *WindowAgg) Children() []Node { return []Node{w.Input} }
func (w *WindowAgg) String() string {
	in := w.Input.Schema()
	var parts []string
	if len(w.Partition) > 0 {
		var p []string
		for _, c := range w.Partition {
			p = append(p, in[c].Name)
		}
		parts = append(parts, "partition=("+strings.Join(p, ", ")+")")
	}
	if len(w.Order) > 0 {
		parts = append(parts, orderString(in, w.Order))
	}
	parts = append(parts, w.Frame.String())
	as := make([]string, len(w.Aggs))
	for i, a := range w.Aggs {
		arg := "*"
		if a.Arg >= 0 {
			arg = in[a.Arg].Name
		}
		as[i] = a.Func.String() + "(" + arg + ") AS " + w.Cols[i].Name
	}
	parts = append(parts, strings.Join(as, ", "))
	return "WindowAgg(" + strings.Join(parts, "; ") + ")"
}

// Aggregate groups by the first len(GroupCols) columns named in GroupCols and computes
// Aggs; its output is the group columns followed by one column per aggregate.
type Aggregate struct {
	Input     Node
	GroupCols []int
	Aggs      []exec.AggSpec
	Cols      []Column
	// Expiry, when set, names a group column whose windows close under a watermark:
	// the aggregate forgets those groups' state then (planner/window.go).
	Expiry *exec.Expiry
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
