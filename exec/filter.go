package exec

import (
	"context"
	"slices"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
)

var _ Operator = (*Filter)(nil)

// Filter passes through the input rows for which a predicate is TRUE (WHERE, HAVING).
// Rows where it is NULL or false are dropped; weights are unchanged. Filter is stateless,
// so a retraction is filtered exactly as the insertion it cancels was.
type Filter struct {
	kinds []delta.Kind
	pred  expr.Expr
	row   []delta.Value // scratch: the row being evaluated
	errs  *rowErrors
}

func (f *Filter) setErrors(e *rowErrors) { f.errs = e }

// NewFilter returns a Filter over input columns of the given kinds that keeps the rows
// where pred is TRUE. A data exception from pred.Eval sets the row aside as a row error
// when the Filter runs in a Dataflow (see IsRowError); any other error, or any error
// outside a Dataflow, is returned from Push unchanged.
func NewFilter(in []delta.Kind, pred expr.Expr) *Filter {
	return &Filter{kinds: slices.Clone(in), pred: pred}
}

// Push appends the rows of b that satisfy the predicate to out.
func (f *Filter) Push(_ context.Context, in int, b *delta.Batch, out *delta.Batch) error {
	if in != 0 {
		return portError("Filter", in)
	}
	for i, w := range b.Weights {
		if w == 0 {
			continue
		}
		f.row = b.Row(i, f.row)
		v, err := f.pred.Eval(f.row)
		if err != nil {
			if f.errs != nil && IsRowError(err) {
				f.errs.add(f.String(), err, f.row, w)
				continue
			}
			return err
		}
		if isTrue(v) {
			out.AppendFrom(b, i, w)
		}
	}
	return nil
}

// Advance does nothing: a filter buffers nothing.
func (f *Filter) Advance(context.Context, Tick, *delta.Batch) error { return nil }

// String renders "Filter((#1 > 10))".
func (f *Filter) String() string { return "Filter(" + f.pred.String() + ")" }

// OutKinds is the input's kinds.
func (f *Filter) OutKinds() []delta.Kind { return f.kinds }

func (f *Filter) inKinds() [][]delta.Kind { return [][]delta.Kind{f.kinds} }
