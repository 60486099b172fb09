package exec

import (
	"context"
	"slices"
	"strings"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
)

var _ Operator = (*Project)(nil)

// Project computes one output column per expression (SELECT list, computed columns).
// Weights are unchanged and equal output rows are not merged; Project is stateless.
type Project struct {
	exprs []expr.Expr
	kinds []delta.Kind
	cols  []int         // when every expression is a column reference: the columns, else nil
	row   []delta.Value // scratch: the input row
	res   []delta.Value // scratch: the output row
	errs  *rowErrors
}

func (p *Project) setErrors(e *rowErrors) { p.errs = e }

// NewProject returns a Project whose output column i is exprs[i] evaluated over the input
// row. A data exception sets the row aside as a row error when the Project runs in a
// Dataflow (see IsRowError); any other error is returned from Push unchanged.
func NewProject(exprs []expr.Expr) *Project {
	p := &Project{exprs: exprs, kinds: make([]delta.Kind, len(exprs))}
	for i, e := range exprs {
		p.kinds[i] = e.Type().Kind()
		if c, ok := e.(*expr.Col); ok && c.Idx >= 0 && (p.cols != nil || i == 0) {
			p.cols = append(p.cols, c.Idx)
		} else {
			p.cols = nil
		}
	}
	return p
}

// Push appends the projection of every row of b to out.
func (p *Project) Push(_ context.Context, in int, b *delta.Batch, out *delta.Batch) error {
	if in != 0 {
		return portError("Project", in)
	}
	if p.copyColumns(b, out) {
		return nil
	}
	for i, w := range b.Weights {
		if w == 0 {
			continue
		}
		p.row = b.Row(i, p.row)
		p.res = p.res[:0]
		var failed error
		for _, e := range p.exprs {
			v, err := e.Eval(p.row)
			if err != nil {
				failed = err
				break
			}
			p.res = append(p.res, v)
		}
		if failed != nil {
			if p.errs != nil && IsRowError(failed) {
				p.errs.add(p.String(), failed, p.row, w)
				continue
			}
			return failed
		}
		out.AppendRow(p.res, w)
	}
	return nil
}

// copyColumns is Push for a projection of columns only, which cannot fail: the columns
// are copied whole rather than a row at a time. It reports false, doing nothing, for
// other projections (or input kinds that differ from the columns' types).
func (p *Project) copyColumns(b *delta.Batch, out *delta.Batch) bool {
	if p.cols == nil {
		return false
	}
	for j, c := range p.cols {
		if c >= len(b.Cols) || b.Cols[c].Kind != p.kinds[j] {
			return false
		}
	}
	if !slices.Contains(b.Weights, 0) {
		for j, c := range p.cols {
			out.Cols[j].AppendVector(&b.Cols[c])
		}
		out.Weights = append(out.Weights, b.Weights...)
		return true
	}
	for i, w := range b.Weights {
		if w == 0 {
			continue
		}
		for j, c := range p.cols {
			out.Cols[j].AppendAt(&b.Cols[c], i)
		}
		out.Weights = append(out.Weights, w)
	}
	return true
}

// Advance does nothing: a projection buffers nothing.
func (p *Project) Advance(context.Context, Tick, *delta.Batch) error { return nil }

// String renders "Project(#0, (#1 * 2))".
func (p *Project) String() string {
	parts := make([]string, len(p.exprs))
	for i, e := range p.exprs {
		parts[i] = e.String()
	}
	return "Project(" + strings.Join(parts, ", ") + ")"
}

// OutKinds is the kinds of the expressions' types.
func (p *Project) OutKinds() []delta.Kind { return p.kinds }
