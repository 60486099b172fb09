package exec

import (
	"context"
	"slices"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

var _ Operator = (*Union)(nil)

// Union is UNION ALL of n inputs of the same kinds (ports 0 to n-1): it forwards every
// change unchanged, from Push. It is stateless, as the multiplicity of a row in the union
// is the sum of its multiplicities in the inputs.
type Union struct {
	kinds []delta.Kind
	n     int
	err   *sqlerr.Error // configuration error, returned by every call
}

// NewUnion returns a Union of n inputs whose columns have the given kinds. A
// configuration error (no inputs) is returned (XX000) by the first Push or Advance.
func NewUnion(kinds []delta.Kind, n int) *Union {
	u := &Union{kinds: slices.Clone(kinds), n: n}
	if n < 1 {
		u.err = configError("UnionAll", "%d inputs", n)
	}
	return u
}

// Push appends the rows of b to out.
func (u *Union) Push(_ context.Context, in int, b *delta.Batch, out *delta.Batch) error {
	if u.err != nil {
		return u.err
	}
	if in < 0 || in >= u.n {
		return portError("UnionAll", in)
	}
	appendNonZero(out, b)
	return nil
}

// appendNonZero appends the rows of b whose weight is not 0 to out.
func appendNonZero(out, b *delta.Batch) {
	for i, w := range b.Weights {
		if w != 0 {
			out.AppendFrom(b, i, w)
		}
	}
}

// Advance returns the configuration error, if any: a union buffers nothing.
func (u *Union) Advance(context.Context, Tick, *delta.Batch) error {
	if u.err != nil {
		return u.err
	}
	return nil
}

// String renders "UnionAll".
func (u *Union) String() string { return "UnionAll" }

// OutKinds is the inputs' kinds.
func (u *Union) OutKinds() []delta.Kind { return u.kinds }

func (u *Union) inKinds() [][]delta.Kind {
	in := make([][]delta.Kind, max(u.n, 0))
	for i := range in {
		in[i] = u.kinds
	}
	return in
}
