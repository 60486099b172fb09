package planner

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner/plan"
)

// This file binds aggregate window functions — avg(x) OVER (PARTITION BY … ORDER BY …
// ROWS BETWEEN n PRECEDING AND CURRENT ROW) — into a WindowAgg.

// The frame option bits of a pg_query WindowDef (PostgreSQL's FRAMEOPTION_*,
// nodes/parsenodes.h).
const (
	frameNonDefault              = 0x00001 // a frame clause was given
	frameRange                   = 0x00002
	frameRows                    = 0x00004
	frameGroups                  = 0x00008
	frameStartUnboundedPreceding = 0x00020
	frameEndUnboundedPreceding   = 0x00040
	frameStartUnboundedFollowing = 0x00080
	frameEndUnboundedFollowing   = 0x00100
	frameStartCurrentRow         = 0x00200
	frameEndCurrentRow           = 0x00400
	frameStartOffsetPreceding    = 0x00800
	frameEndOffsetPreceding      = 0x01000
	frameStartOffsetFollowing    = 0x02000
	frameEndOffsetFollowing      = 0x04000
	frameExclusion               = 0x08000 | 0x10000 | 0x20000 // EXCLUDE CURRENT ROW, GROUP, TIES
)

// windowCalls returns the window function calls of a select list, in order (not those
// inside scalar subqueries).
func windowCalls(list []*pg_query.Node) []*pg_query.FuncCall {
	var calls []*pg_query.FuncCall
	walkOutsideSubqueries(list, func(n *pg_query.Node) bool {
		if fc := n.GetFuncCall(); fc != nil && fc.Over != nil {
			calls = append(calls, fc)
			return false
		}
		return true
	})
	return calls
}

// funcName is the lower-case name of the function fc calls.
func funcName(fc *pg_query.FuncCall) string {
	return strings.ToLower(fc.Funcname[len(fc.Funcname)-1].GetString_().Sval)
}

// windowAggSelect binds a select list whose window functions (calls) include an
// aggregate: every call must be count, sum, avg, min or max over one and the same
// window. The plan is a projection computing the partition and sort keys and the
// aggregates' arguments, the WindowAgg, and the select list over its output.
func (b *binder) windowAggSelect(s *pg_query.SelectStmt, in plan.Node, full *scope, calls []*pg_query.FuncCall) plan.Node {
	over := calls[0].Over
	frame := b.windowFrame(over, full, calls[0].Location)
	for _, fc := range calls {
		name := funcName(fc)
		if !aggregateNames[name] {
			b.unsupported(fc.Location, "window function "+name+"() together with aggregate window functions in one SELECT")
		}
		if fc.Over.Name != "" || fc.Over.Refname != "" {
			b.unsupported(fc.Location, "named windows")
		}
		// The same window, also when its frame is spelled differently (ROWS UNBOUNDED
		// PRECEDING, ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW).
		if !proto.Equal(windowKeysOnly(over), windowKeysOnly(fc.Over)) || b.windowFrame(fc.Over, full, fc.Location) != frame {
			b.unsupported(fc.Location, "window functions over different windows in one SELECT")
		}
		if fc.AggDistinct {
			b.unsupported(fc.Location, "DISTINCT in a window aggregate")
		}
		if fc.AggFilter != nil {
			b.unsupported(fc.Location, "FILTER in a window aggregate")
		}
	}
	ls := in.Schema()
	pre := identity(ls)
	preCols := append([]plan.Column{}, ls...)
	partition, order := b.windowKeys(over, full, &pre, &preCols)

	// Bind each call as a plain aggregate, to share its checks and result types.
	var specs []exec.AggSpec
	var aggCols []plan.Column
	for _, fc := range calls {
		plain := proto.Clone(fc).(*pg_query.FuncCall)
		plain.Over = nil
		b.agg = &aggCtx{}
		b.funcCall(plain, full)
		a := b.agg.aggs[0]
		b.agg = nil
		spec := exec.AggSpec{Func: aggFunc(a.fn, a.arg == nil), Arg: -1, ResultType: a.typ}
		if a.arg != nil {
			spec.Arg = len(pre)
			spec.ArgType = a.arg.Type()
			pre = append(pre, a.arg)
			preCols = append(preCols, plan.Column{Name: a.arg.String(), Type: a.arg.Type()})
		}
		specs = append(specs, spec)
		aggCols = append(aggCols, plan.Column{Name: a.fn, Type: a.typ})
	}
	var node plan.Node = &plan.Project{Input: in, Exprs: pre, Cols: preCols}
	node = &plan.WindowAgg{Input: node, Partition: partition, Order: order, Frame: frame, Aggs: specs, Cols: aggCols}
	b.winAggs = make(map[*pg_query.FuncCall]*expr.Col, len(calls))
	for i, fc := range calls {
		b.winAggs[fc] = &expr.Col{Idx: len(pre) + i, T: aggCols[i].Type, Name: aggCols[i].Name}
	}
	defer func() { b.winAggs = nil }()
	exprs, cols := b.targets(s.TargetList, full)
	return &plan.Project{Input: node, Exprs: exprs, Cols: cols}
}

// windowKeysOnly is w without its frame clause and source locations.
func windowKeysOnly(w *pg_query.WindowDef) proto.Message {
	c := proto.Clone(w).(*pg_query.WindowDef)
	c.FrameOptions, c.StartOffset, c.EndOffset = 0, nil, nil
	return withoutLocations(c)
}

// windowFrame binds the frame clause of over. Supported: ROWS frames from n PRECEDING
// (n an integer constant) or UNBOUNDED PRECEDING to CURRENT ROW, and RANGE from
// UNBOUNDED PRECEDING to CURRENT ROW, the default; the rest is 0A000.
func (b *binder) windowFrame(over *pg_query.WindowDef, full *scope, loc int32) exec.WindowFrame {
	opts := over.FrameOptions
	if opts&frameNonDefault == 0 {
		return exec.WindowFrame{Preceding: -1, Peers: true}
	}
	switch {
	case opts&frameExclusion != 0:
		b.unsupported(loc, "EXCLUDE in a window frame")
	case opts&frameGroups != 0:
		b.unsupported(loc, "GROUPS window frames")
	case opts&(frameEndUnboundedPreceding|frameEndUnboundedFollowing|frameEndOffsetPreceding|frameEndOffsetFollowing) != 0 ||
		opts&frameEndCurrentRow == 0:
		b.unsupported(loc, "window frames that do not end at CURRENT ROW")
	case opts&(frameStartUnboundedFollowing|frameStartOffsetFollowing) != 0:
		b.unsupported(loc, "window frames starting at a FOLLOWING row")
	}
	if opts&frameRange != 0 {
		if opts&frameStartUnboundedPreceding == 0 {
			b.unsupported(loc, "RANGE window frames other than RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW (use ROWS)")
		}
		return exec.WindowFrame{Preceding: -1, Peers: true}
	}
	if opts&frameRows == 0 {
		b.unsupported(loc, "this window frame")
	}
	switch {
	case opts&frameStartUnboundedPreceding != 0:
		return exec.WindowFrame{Preceding: -1}
	case opts&frameStartCurrentRow != 0:
		return exec.WindowFrame{Preceding: 0}
	}
	e := b.expr(over.StartOffset, full)
	n, ok := intConst(e)
	if !ok {
		b.unsupported(location(over.StartOffset), "a window frame offset that is not an integer constant")
	}
	if n < 0 {
		b.fail(sqlerr.InvalidPrecedingOrFollowing, location(over.StartOffset), "frame starting offset must not be negative")
	}
	return exec.WindowFrame{Preceding: n}
}
