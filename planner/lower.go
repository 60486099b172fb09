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

// ArrivalSource names the dataflow source that carries a watermarked source's changes
// with each row's arrival watermark (µs, exec.NoWatermark when it was on time) appended:
// what TUMBLE and HOP read. The NUL byte keeps it apart from every relation name.
func ArrivalSource(rel string) string { return rel + "\x00arrival" }

// SourceRelation is the relation a dataflow source name reads (see ArrivalSource).
func SourceRelation(name string) (rel string, arrival bool) {
	rel, _, arrival = strings.Cut(name, "\x00")
	return rel, arrival
}

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
	case *plan.TemporalFilter:
		ks := make([]string, len(x.Bounds))
		for i, b := range x.Bounds {
			ks[i] = fmt.Sprintf("%s;%v;%v", groupKey(b.Expr), b.Upper, b.Inclusive)
		}
		return "temporal(" + strings.Join(ks, ", ") + ")"
	case *plan.Project:
		return "project(" + exprs(x.Exprs) + ")"
	case *plan.Join:
		return fmt.Sprintf("join(%v;%v;%v;%s)", x.Kind, x.LeftKeys, x.RightKeys, opt(x.Residual))
	case *plan.SemiJoin:
		return fmt.Sprintf("semi(%v;%v;%v;%v;%s)", x.Anti, x.NullAware, x.LeftKeys, x.RightKeys, opt(x.Residual))
	case *plan.Aggregate:
		if insertOnly(x.Input) {
			// Its state has no multisets for min/max: a checkpoint of the other kind
			// does not load into it.
			return fmt.Sprintf("agg(%v;%v;insert-only)", x.GroupCols, x.Aggs)
		}
		return fmt.Sprintf("agg(%v;%v)", x.GroupCols, x.Aggs)
	case *plan.SetOp:
		return fmt.Sprintf("setop(%v;%v)", x.Op, x.All)
	case *plan.Union:
		return fmt.Sprintf("union(%d)", len(x.Inputs))
	case *plan.WindowScan:
		return fmt.Sprintf("window(%+v;%v)<%s>", x.Window, x.Read, SourceKey(x.Rel.Name))
	case *plan.SessionScan:
		return fmt.Sprintf("session(%d;%d;%v)<%s>", x.TimeCol, x.Gap, x.Partition, SourceKey(x.Rel.Name))
	case *plan.WindowClose:
		return fmt.Sprintf("eowc(%+v)", x.Expiry)
	case *plan.WindowAgg:
		return fmt.Sprintf("windowagg(%v;%v;%+v;%v)", x.Partition, x.Order, x.Frame, x.Aggs)
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
	switch x := n.(type) {
	case *plan.Scan:
		return l.add(df.AddSource(x.Rel.Name, relKinds(x.Rel)), SourceKey(x.Rel.Name)), nil
	case *plan.WindowScan:
		// Over a watermarked source the scan reads the source's changes with each row's
		// arrival watermark appended, so that late rows can be kept out of closed windows.
		name, ks := x.Rel.Name, relKinds(x.Rel)
		if x.Watermarked() {
			name, ks = ArrivalSource(name), append(ks, delta.KindInt)
		}
		src := l.add(df.AddSource(name, ks), SourceKey(name))
		a := exec.NewWindowAssign(ks, x.Window, x.Watermarked())
		if x.Read != nil {
			a.Narrow(x.Read[:len(x.Rel.Columns)])
		}
		return df.Add(a, src), nil
	case *plan.SessionScan:
		name, ks := x.Rel.Name, relKinds(x.Rel)
		var sources []string
		if x.Watermarked() {
			name, ks, sources = ArrivalSource(name), append(ks, delta.KindInt), []string{x.Rel.Name}
		}
		src := l.add(df.AddSource(name, ks), SourceKey(name))
		return df.Add(exec.NewSessionAssign(ks, x.TimeCol, x.Gap, x.Partition, sources), src), nil
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
	case *plan.TemporalFilter:
		op = exec.NewTemporalFilter(kinds(x.Input.Schema()), x.Bounds)
	case *plan.Project:
		op = exec.NewProject(append([]expr.Expr(nil), x.Exprs...))
	case *plan.Join:
		if x.Kind == exec.JoinInner {
			j := exec.NewHashJoin(kinds(x.Left.Schema()), kinds(x.Right.Schema()), x.LeftKeys, x.RightKeys, x.Residual)
			if x.Expiry != nil {
				j.SetExpiry(*x.Expiry)
			}
			op = j
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
		t := exec.NewTopN(kinds(x.Input.Schema()), x.Partition, x.Order, x.Limit, x.Offset, x.Rank, x.RankCol)
		if x.Expiry != nil {
			t.SetExpiry(*x.Expiry)
		}
		op = t
	case *plan.WindowAgg:
		op = exec.NewWindowAgg(kinds(x.Input.Schema()), x.Partition, x.Order, x.Frame, x.Aggs)
	case *plan.Aggregate:
		var opts []exec.AggOption
		if insertOnly(x.Input) {
			opts = append(opts, exec.InsertOnly())
		}
		h := exec.NewHashAggregate(kinds(x.Input.Schema()), x.GroupCols, x.Aggs, opts...)
		if x.Expiry != nil {
			h.SetExpiry(*x.Expiry)
		}
		op = h
	case *plan.WindowClose:
		op = exec.NewWindowClose(kinds(x.Input.Schema()), x.Expiry)
	default:
		return 0, fmt.Errorf("lower: unexpected plan node %T", n)
	}
	return df.Add(op, ins...), nil
}

// InsertOnly reports whether the view planned as root only ever gains rows: the
// view's rows can then be held without an index (see insertOnly).
func InsertOnly(root plan.Node) bool { return insertOnly(root) }

// insertOnly reports whether n's output only ever inserts rows: it reads append-only
// sources through operators that map each input row to output rows without taking any
// back (filters, projections, TUMBLE/HOP assignment, inner joins, UNION ALL).
// Everything else (tables, views, aggregates, outer joins, set operations, top-N,
// sessions, temporal filters) may retract.
func insertOnly(n plan.Node) bool {
	switch x := n.(type) {
	case *plan.Scan:
		return x.Rel.Kind == catalog.Source
	case *plan.WindowScan:
		return x.Rel.Kind == catalog.Source
	case *plan.Filter, *plan.Project, *plan.Union:
	case *plan.Join:
		if x.Kind != exec.JoinInner {
			return false
		}
	default:
		return false
	}
	for _, c := range n.Children() {
		if !insertOnly(c) {
			return false
		}
	}
	return true
}
