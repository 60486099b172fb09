package exec

import (
	"context"
	"slices"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

var _ Operator = (*SemiJoin)(nil)

// SemiJoin is an incremental semi join (EXISTS, IN) or anti join (NOT EXISTS, NOT IN).
// Port 0 is the left input, port 1 the right; the output rows are left rows, each with its
// multiplicity, so the output kinds are the left kinds.
//
// A left row matches a right row when their keys are equal, none of them NULL, and the
// residual (nil for none) is TRUE over the left row followed by the right row. The semi
// join outputs the left rows with at least one match, the anti join those without. The
// number of matches does not matter: duplicates on the right never duplicate the output.
//
// The null-aware anti join is NOT IN over one key column, with SQL's NULL rules: with S
// the right rows that make the residual TRUE for a left row, the row is output iff S is
// empty, or its key is not NULL and no row of S has a NULL or an equal key. So one NULL
// key on the right empties the output, and an empty right input outputs every left row,
// even one whose key is NULL. nullAware changes nothing for a semi join: a NULL
// comparison rejects a row under IN as false does.
//
// The left rows that can still change their output are kept in an arrangement, with the
// number of right rows they match (or, for NOT IN, block them), and a left row's output
// so far is always its multiplicity when that count says so and nothing otherwise: a
// function of the current state, so a tick's output sums to the change of the result
// whatever order its changes arrive in (see OuterJoin). Without a residual the right
// input is kept only as a count per key, and a right change touches the left rows of its
// key only when that count leaves or returns to 0; with a residual the right rows are
// arranged and a right change re-evaluates the residual for every left row of its key.
// Output is emitted from Push, unconsolidated, except for NOT IN without a residual: the
// right input's emptiness and its NULL count are applied to the output in Advance, once
// per tick and only if they changed, as they flip the whole output (in no particular row
// order). With a residual, NOT IN must pair a right row with a NULL key with every left
// row, and a left row with a NULL key with every right row, so such changes cost the size
// of the other input.
type SemiJoin struct {
	left, right []delta.Kind
	keys        [2][]int // key columns of each side, pairwise equal
	residual    expr.Expr
	anti        bool
	notIn       bool          // null-aware anti join
	err         *sqlerr.Error // configuration error, returned by every call

	// lrows holds the left rows whose output may change (rows with a NULL key only under
	// NOT IN). With a residual, a row's matches counts the right rows it matches, or under
	// NOT IN the right rows that block it; without one, it is unused.
	lrows arrangement
	rrows arrangement // the right rows, with a residual only (NULL keys only under NOT IN)
	// rcount is the total count of the right rows per key, without a residual.
	// Invariant: no zero counts.
	rcount map[string]int64
	// NOT IN without a residual: the count of right rows with a NULL key and of all right
	// rows, and whether the output reflects an empty right input or one with a NULL key.
	rnull, rtotal         int64
	shownEmpty, shownNull bool

	keyBuf []byte        // scratch: join key encoding
	rowBuf []byte        // scratch: whole-row encoding
	row    []delta.Value // scratch: the pushed row
	cat    []delta.Value // scratch: left ++ right
}

// NewSemiJoin returns a semi join (or, with anti, an anti join) of inputs with the given
// kinds on left[leftKeys[i]] = right[rightKeys[i]] for every i and residual (nil for
// none) over the left row followed by the right row. nullAware with anti gives NOT IN,
// which takes exactly one key column. Paired key columns must have the same kind. A
// configuration error is returned (XX000) by the first Push or Advance.
func NewSemiJoin(left, right []delta.Kind, leftKeys, rightKeys []int, residual expr.Expr, anti bool, nullAware bool) *SemiJoin {
	s := &SemiJoin{
		left:       slices.Clone(left),
		right:      slices.Clone(right),
		keys:       [2][]int{slices.Clone(leftKeys), slices.Clone(rightKeys)},
		residual:   residual,
		anti:       anti,
		notIn:      anti && nullAware,
		lrows:      newArrangement(),
		rrows:      newArrangement(),
		rcount:     make(map[string]int64),
		shownEmpty: true,
	}
	s.err = checkJoin(s.name(), left, right, leftKeys, rightKeys)
	if s.err == nil && s.notIn && len(leftKeys) != 1 {
		s.err = configError(s.name(), "NOT IN takes one key column, got %d", len(leftKeys))
	}
	return s
}

// keep reports whether a left row is output, given whether its key has a NULL and its
// count m of matching (NOT IN: blocking) right rows, or without a residual the right
// input's count for its key.
func (s *SemiJoin) keep(null bool, m int64) bool {
	switch {
	case !s.anti:
		return !null && m != 0
	case !s.notIn:
		return null || m == 0
	case s.residual != nil:
		return m == 0
	}
	return keepNotIn(s.shownEmpty, s.shownNull, null, m)
}

// keepNotIn is keep for NOT IN without a residual, where whether the right input is
// empty or has a NULL key decides for all left rows.
func keepNotIn(empty, hasNull, null bool, m int64) bool {
	return empty || (!null && !hasNull && m == 0)
}

// Push applies b, a change to input in (0 left, 1 right), and appends the resulting
// changes to out. Errors from the residual are returned unchanged.
func (s *SemiJoin) Push(_ context.Context, in int, b *delta.Batch, out *delta.Batch) error {
	if s.err != nil {
		return s.err
	}
	switch in {
	case 0:
		return s.pushLeft(b, out)
	case 1:
		return s.pushRight(b, out)
	}
	return portError(s.name(), in)
}

func (s *SemiJoin) pushLeft(b *delta.Batch, out *delta.Batch) error {
	for i, w := range b.Weights {
		if w == 0 {
			continue
		}
		var null bool
		s.keyBuf, null = appendRowKey(s.keyBuf[:0], b, i, s.keys[0])
		if null && !s.notIn {
			// It never matches, whatever the right input does.
			if s.anti {
				out.AppendFrom(b, i, w)
			}
			continue
		}
		s.row = b.Row(i, s.row)
		var m int64
		switch {
		case s.residual == nil && !null:
			m = s.rcount[string(s.keyBuf)]
		case s.residual != nil:
			var err error
			if m, err = s.leftMatches(null); err != nil {
				return err
			}
		}
		s.rowBuf = b.AppendKey(s.rowBuf[:0], i)
		s.lrows.add(s.keyBuf, null, s.rowBuf, s.row, w, m)
		if s.keep(null, m) {
			out.AppendRow(s.row, w)
		}
	}
	return nil
}

// leftMatches counts the right rows that match (NOT IN: block) the left row s.row whose
// key is s.keyBuf, with a residual.
func (s *SemiJoin) leftMatches(null bool) (int64, error) {
	var m int64
	count := func(bk *bucket) error {
		for r := range bk.rows {
			o := &bk.rows[r]
			s.cat = append(append(s.cat[:0], s.row...), o.vals...)
			v, err := s.residual.Eval(s.cat)
			if err != nil {
				return err
			}
			if isTrue(v) {
				m += o.n
			}
		}
		return nil
	}
	if null { // NOT IN: every right row the residual accepts blocks it
		for bk := range s.rrows.buckets() {
			if err := count(bk); err != nil {
				return 0, err
			}
		}
		return m, nil
	}
	if bk := s.rrows.keys[string(s.keyBuf)]; bk != nil {
		if err := count(bk); err != nil {
			return 0, err
		}
	}
	if s.notIn {
		if err := count(&s.rrows.nulls); err != nil {
			return 0, err
		}
	}
	return m, nil
}

func (s *SemiJoin) pushRight(b *delta.Batch, out *delta.Batch) error {
	for i, w := range b.Weights {
		if w == 0 {
			continue
		}
		var null bool
		s.keyBuf, null = appendRowKey(s.keyBuf[:0], b, i, s.keys[1])
		if s.residual == nil {
			s.countRight(null, w, out)
			continue
		}
		if null && !s.notIn {
			continue // it never matches
		}
		s.row = b.Row(i, s.row)
		if null { // NOT IN: it blocks every left row the residual accepts
			for bk := range s.lrows.buckets() {
				if err := s.rematch(bk, w, out); err != nil {
					return err
				}
			}
		} else {
			if bk := s.lrows.keys[string(s.keyBuf)]; bk != nil {
				if err := s.rematch(bk, w, out); err != nil {
					return err
				}
			}
			if s.notIn {
				if err := s.rematch(&s.lrows.nulls, w, out); err != nil {
					return err
				}
			}
		}
		s.rowBuf = b.AppendKey(s.rowBuf[:0], i)
		s.rrows.add(s.keyBuf, null, s.rowBuf, s.row, w, 0)
	}
	return nil
}

// countRight applies w copies of a right row with key s.keyBuf to the counts kept without
// a residual, re-emitting the left rows of the key if its count leaves or returns to 0.
func (s *SemiJoin) countRight(null bool, w int64, out *delta.Batch) {
	if s.notIn {
		s.rtotal += w
		if null {
			s.rnull += w
		}
	}
	if null {
		return
	}
	t0 := s.rcount[string(s.keyBuf)]
	t1 := t0 + w
	if t1 == 0 {
		delete(s.rcount, string(s.keyBuf))
	} else {
		s.rcount[string(s.keyBuf)] = t1
	}
	if (t0 == 0) == (t1 == 0) {
		return
	}
	bk := s.lrows.keys[string(s.keyBuf)]
	if bk == nil {
		return
	}
	k0, k1 := s.keep(false, t0), s.keep(false, t1)
	if k0 == k1 {
		return
	}
	sign := int64(1)
	if k0 {
		sign = -1
	}
	for r := range bk.rows {
		out.AppendRow(bk.rows[r].vals, sign*bk.rows[r].n)
	}
}

// rematch adds w copies of the right row s.row to the counts of the left rows in bk that
// it matches (or blocks), emitting the changes of their output. It runs with a residual
// only, where a row's output depends on its count alone (NULL-key rows are stored only
// under NOT IN, which ignores the key once the count is known).
func (s *SemiJoin) rematch(bk *bucket, w int64, out *delta.Batch) error {
	for r := range bk.rows {
		l := &bk.rows[r]
		s.cat = append(append(s.cat[:0], l.vals...), s.row...)
		v, err := s.residual.Eval(s.cat)
		if err != nil {
			return err
		}
		if !isTrue(v) {
			continue
		}
		k0, k1 := s.keep(false, l.matches), s.keep(false, l.matches+w)
		l.matches += w
		switch {
		case k0 && !k1:
			out.AppendRow(l.vals, -l.n)
		case !k0 && k1:
			out.AppendRow(l.vals, l.n)
		}
	}
	return nil
}

// Advance applies to the output of NOT IN without a residual the change, if any, of
// whether the right input is empty or holds a NULL key during the tick.
func (s *SemiJoin) Advance(_ context.Context, _ Tick, out *delta.Batch) error {
	if s.err != nil {
		return s.err
	}
	if !s.notIn || s.residual != nil {
		return nil
	}
	empty, hasNull := s.rtotal == 0, s.rnull != 0
	if empty == s.shownEmpty && hasNull == s.shownNull {
		return nil
	}
	flip := func(bk *bucket, null bool, m int64) {
		k0 := keepNotIn(s.shownEmpty, s.shownNull, null, m)
		k1 := keepNotIn(empty, hasNull, null, m)
		if k0 == k1 {
			return
		}
		sign := int64(1)
		if k0 {
			sign = -1
		}
		for r := range bk.rows {
			out.AppendRow(bk.rows[r].vals, sign*bk.rows[r].n)
		}
	}
	for key, bk := range s.lrows.keys {
		flip(bk, false, s.rcount[key])
	}
	flip(&s.lrows.nulls, true, 0)
	s.shownEmpty, s.shownNull = empty, hasNull
	return nil
}

func (s *SemiJoin) name() string {
	if s.anti {
		return "HashAntiJoin"
	}
	return "HashSemiJoin"
}

// String renders "HashSemiJoin(#0 = #2; residual=(#1 < #3))", "HashAntiJoin(#0 = #2)" or,
// for NOT IN, "HashAntiJoin(#0 = #2; null-aware)", numbering the right input's columns
// after the left's as the residual does.
func (s *SemiJoin) String() string {
	extra := ""
	if s.notIn {
		extra = "null-aware"
	}
	return joinString(s.name(), s.keys, len(s.left), s.residual, extra)
}

// OutKinds is the left kinds.
func (s *SemiJoin) OutKinds() []delta.Kind { return s.left }

func (s *SemiJoin) inKinds() [][]delta.Kind { return [][]delta.Kind{s.left, s.right} }
