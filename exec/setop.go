package exec

import (
	"context"
	"slices"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

var _ Operator = (*SetOp)(nil)

// SetOpKind is the operation of a SetOp.
type SetOpKind uint8

// The set operations.
const (
	SetUnion     SetOpKind = iota // UNION
	SetIntersect                  // INTERSECT
	SetExcept                     // EXCEPT
)

// String is the SQL name of k.
func (k SetOpKind) String() string {
	switch k {
	case SetUnion:
		return "UNION"
	case SetIntersect:
		return "INTERSECT"
	case SetExcept:
		return "EXCEPT"
	}
	return "setop?"
}

// SetOp is an incremental UNION, INTERSECT or EXCEPT, with or without ALL, of two inputs
// of the same kinds: port 0 is the left input, port 1 the right.
//
// Rows are compared as whole tuples, NULLs equal to NULLs (as DISTINCT does). With cl
// and cr the multiplicities of a row in the left and right inputs, its multiplicity in
// the output is, as in PostgreSQL:
//
//	UNION ALL      cl + cr               UNION      1 if cl+cr > 0
//	INTERSECT ALL  min(cl, cr)           INTERSECT  1 if cl > 0 and cr > 0
//	EXCEPT ALL     max(cl - cr, 0)       EXCEPT     1 if cl > 0 and cr = 0
//
// UNION ALL is linear and keeps no state: it forwards every change from Push, as Union
// does. The others keep cl and cr per distinct row: Push only counts and marks the row
// dirty, and Advance emits, once per dirty row, the change of its output multiplicity
// since the last Advance, so the output of a tick is consolidated. A row is forgotten
// when both counts return to 0.
type SetOp struct {
	kinds []delta.Kind
	op    SetOpKind
	all   bool
	err   *sqlerr.Error // configuration error, returned by every call

	// Invariant: every row in rows has a non-zero count or is dirty.
	rows  map[string]*setRow
	dirty []*setRow // rows changed since the last Advance, in the order they changed

	encBuf []byte        // scratch: row encoding
	row    []delta.Value // scratch: the pushed row
}

// setRow is the state of one distinct row.
type setRow struct {
	enc   string
	vals  []delta.Value
	n     [2]int64 // multiplicity in each input
	out   int64    // multiplicity in the output so far
	dirty bool
}

// NewSetOp returns op (with all: op ALL) of two inputs whose columns have the given kinds.
// A configuration error is returned (XX000) by the first Push or Advance.
func NewSetOp(kinds []delta.Kind, op SetOpKind, all bool) *SetOp {
	s := &SetOp{kinds: slices.Clone(kinds), op: op, all: all, rows: make(map[string]*setRow)}
	if op > SetExcept {
		s.err = configError("SetOp", "unknown set operation %d", op)
	}
	return s
}

// mult is the output multiplicity of a row with multiplicities l and r in the inputs.
func (s *SetOp) mult(l, r int64) int64 {
	l, r = max(l, 0), max(r, 0) // negative only mid-tick or with invalid input
	var m int64
	switch s.op {
	case SetUnion:
		m = l + r
	case SetIntersect:
		m = min(l, r)
	case SetExcept:
		if !s.all && r > 0 {
			return 0
		}
		m = max(l-r, 0)
	}
	if !s.all {
		m = min(m, 1)
	}
	return m
}

// Push counts the rows of b on input in (0 left, 1 right) and marks them dirty; only
// UNION ALL emits, right away.
func (s *SetOp) Push(_ context.Context, in int, b *delta.Batch, out *delta.Batch) error {
	if s.err != nil {
		return s.err
	}
	if in != 0 && in != 1 {
		return portError("SetOp", in)
	}
	if s.op == SetUnion && s.all {
		appendNonZero(out, b)
		return nil
	}
	for i, w := range b.Weights {
		if w == 0 {
			continue
		}
		s.encBuf = b.AppendKey(s.encBuf[:0], i)
		r := s.rows[string(s.encBuf)]
		if r == nil {
			r = &setRow{enc: string(s.encBuf), vals: b.Row(i, nil)}
			s.rows[r.enc] = r
		}
		r.n[in] += w
		if !r.dirty {
			r.dirty = true
			s.dirty = append(s.dirty, r)
		}
	}
	return nil
}

// Advance emits the change of output multiplicity of every row dirtied since the last
// Advance.
func (s *SetOp) Advance(_ context.Context, _ Tick, out *delta.Batch) error {
	if s.err != nil {
		return s.err
	}
	for i, r := range s.dirty {
		s.dirty[i] = nil
		r.dirty = false
		if m := s.mult(r.n[0], r.n[1]); m != r.out {
			out.AppendRow(r.vals, m-r.out)
			r.out = m
		}
		if r.n == [2]int64{} {
			delete(s.rows, r.enc)
		}
	}
	s.dirty = s.dirty[:0]
	return nil
}

// String renders "SetOp(EXCEPT ALL)", or "UnionAll" for UNION ALL.
func (s *SetOp) String() string {
	if s.op == SetUnion && s.all {
		return "UnionAll"
	}
	name := "SetOp(" + s.op.String()
	if s.all {
		name += " ALL"
	}
	return name + ")"
}

// OutKinds is the inputs' kinds.
func (s *SetOp) OutKinds() []delta.Kind { return s.kinds }

func (s *SetOp) inKinds() [][]delta.Kind { return [][]delta.Kind{s.kinds, s.kinds} }
