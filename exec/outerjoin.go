package exec

import (
	"context"
	"slices"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

var _ Operator = (*OuterJoin)(nil)

// JoinKind selects which inputs of an OuterJoin are preserved: their rows without a match
// are output padded with NULLs.
type JoinKind uint8

// The join kinds.
const (
	JoinInner JoinKind = iota // no side preserved: an inner join, as HashJoin
	JoinLeft                  // LEFT [OUTER] JOIN: the left input is preserved
	JoinRight                 // RIGHT [OUTER] JOIN: the right input is preserved
	JoinFull                  // FULL [OUTER] JOIN: both inputs are preserved
)

// String is the SQL name of k.
func (k JoinKind) String() string {
	switch k {
	case JoinInner:
		return "INNER"
	case JoinLeft:
		return "LEFT"
	case JoinRight:
		return "RIGHT"
	case JoinFull:
		return "FULL"
	}
	return "join?"
}

// OuterJoin is an incremental equi-join that preserves one or both inputs (LEFT, RIGHT,
// FULL JOIN). Port 0 is the left input, port 1 the right; an output row is the left
// columns followed by the right columns.
//
// The output is the inner join of the inputs, exactly as HashJoin computes it (including
// the residual), plus, for each preserved input, its unmatched rows padded with a typed
// NULL for every column of the other input. A row is matched iff at least one row of the
// other input has equal keys, none of them NULL, and makes the residual TRUE over the
// concatenated row; a row with a NULL key column is therefore never matched. An unmatched
// row of multiplicity n is output as n padded rows.
//
// Both inputs are kept in arrangements (see HashJoin), and every stored row of a
// preserved input also counts the other input's rows it matches. A change to one input
// is joined with the other input's arrangement, which also updates those rows' counts,
// and is then applied to its own. Whenever a count leaves or returns to 0 the padded row
// is retracted or emitted again, right away in Push, so a row's padded output so far
// always equals its multiplicity times [its count is 0]. As that is a function of the
// current state, whatever order the changes of a tick arrive in (a count may even pass
// through negative values), the tick's output sums to the difference between the join
// before and after it; it is not consolidated (a match that comes and goes within a tick
// retracts and re-emits the padded row). Rows with a NULL key are not stored: on a
// preserved input they are passed through padded, on the other dropped. The state is
// bounded by the live rows.
//
// The cost of a change is that of HashJoin (one residual evaluation per candidate pair)
// plus at most one padded row per candidate.
type OuterJoin struct {
	left, right []delta.Kind
	keys        [2][]int // key columns of each side, pairwise equal
	residual    expr.Expr
	kind        JoinKind
	preserved   [2]bool
	outKinds    []delta.Kind
	nulls       [2][]delta.Value // a NULL per column of each input, for padding
	err         *sqlerr.Error    // configuration error, returned by every call

	arr [2]arrangement

	keyBuf []byte        // scratch: join key encoding
	rowBuf []byte        // scratch: whole-row encoding
	row    []delta.Value // scratch: the pushed row
	cat    []delta.Value // scratch: left ++ right
	pad    []delta.Value // scratch: a padded row
}

// NewOuterJoin returns a join of the given kind of inputs with the given kinds on
// left[leftKeys[i]] = right[rightKeys[i]] for every i, whose matches also need residual
// (nil for none) to be TRUE over the concatenated row. Paired key columns must have the
// same kind; with no keys every pair is a candidate. A configuration error is returned
// (XX000) by the first Push or Advance.
func NewOuterJoin(left, right []delta.Kind, leftKeys, rightKeys []int, residual expr.Expr, kind JoinKind) *OuterJoin {
	j := &OuterJoin{
		left:      slices.Clone(left),
		right:     slices.Clone(right),
		keys:      [2][]int{slices.Clone(leftKeys), slices.Clone(rightKeys)},
		residual:  residual,
		kind:      kind,
		preserved: [2]bool{kind == JoinLeft || kind == JoinFull, kind == JoinRight || kind == JoinFull},
		outKinds:  append(slices.Clone(left), right...),
		nulls:     [2][]delta.Value{nullRow(left), nullRow(right)},
		arr:       [2]arrangement{newArrangement(), newArrangement()},
	}
	j.err = checkJoin(j.name(), left, right, leftKeys, rightKeys)
	if j.err == nil && kind > JoinFull {
		j.err = configError("OuterJoin", "unknown join kind %d", kind)
	}
	return j
}

// nullRow returns a typed NULL per kind.
func nullRow(kinds []delta.Kind) []delta.Value {
	row := make([]delta.Value, len(kinds))
	for i, k := range kinds {
		row[i] = delta.Null(k)
	}
	return row
}

// unmatched is 1 when a row with match count m is unmatched, else 0: the factor of its
// padded output.
func unmatched(m int64) int64 {
	if m == 0 {
		return 1
	}
	return 0
}

// Push joins b, a change to input in (0 left, 1 right), with the other input's
// arrangement, appends the matches and the changes to padded rows to out, and then
// applies b to in's arrangement. Errors from the residual are returned unchanged.
func (j *OuterJoin) Push(_ context.Context, in int, b *delta.Batch, out *delta.Batch) error {
	if j.err != nil {
		return j.err
	}
	if in != 0 && in != 1 {
		return portError(j.name(), in)
	}
	keys, own, other := j.keys[in], &j.arr[in], &j.arr[1-in]
	for i, w := range b.Weights {
		if w == 0 {
			continue
		}
		var null bool
		j.keyBuf, null = appendRowKey(j.keyBuf[:0], b, i, keys)
		j.row = b.Row(i, j.row)
		if null {
			if j.preserved[in] {
				j.emitPadded(in, j.row, w, out)
			}
			continue
		}
		var m int64 // the matching count of the other input's rows
		if bk := other.keys[string(j.keyBuf)]; bk != nil {
			for r := range bk.rows {
				o := &bk.rows[r]
				if in == 0 {
					j.cat = append(append(j.cat[:0], j.row...), o.vals...)
				} else {
					j.cat = append(append(j.cat[:0], o.vals...), j.row...)
				}
				if j.residual != nil {
					v, err := j.residual.Eval(j.cat)
					if err != nil {
						return err
					}
					if !isTrue(v) {
						continue
					}
				}
				out.AppendRow(j.cat, w*o.n)
				m += o.n
				if j.preserved[1-in] {
					j.emitPadded(1-in, o.vals, o.n*(unmatched(o.matches+w)-unmatched(o.matches)), out)
					o.matches += w
				}
			}
		}
		j.rowBuf = b.AppendKey(j.rowBuf[:0], i)
		_, m0 := own.add(j.keyBuf, false, j.rowBuf, j.row, w, m)
		if j.preserved[in] {
			// The row's matches do not change, only its multiplicity: w more padded rows
			// if it is unmatched.
			j.emitPadded(in, j.row, w*unmatched(m0), out)
		}
	}
	return nil
}

// emitPadded appends w copies of row of input side padded with NULLs for the other input.
func (j *OuterJoin) emitPadded(side int, row []delta.Value, w int64, out *delta.Batch) {
	if w == 0 {
		return
	}
	if side == 0 {
		j.pad = append(append(j.pad[:0], row...), j.nulls[1]...)
	} else {
		j.pad = append(append(j.pad[:0], j.nulls[0]...), row...)
	}
	out.AppendRow(j.pad, w)
}

// Advance returns the configuration error, if any: an outer join emits everything from
// Push.
func (j *OuterJoin) Advance(context.Context, Tick, *delta.Batch) error {
	if j.err != nil {
		return j.err
	}
	return nil
}

func (j *OuterJoin) name() string {
	switch j.kind {
	case JoinLeft:
		return "HashLeftJoin"
	case JoinRight:
		return "HashRightJoin"
	case JoinFull:
		return "HashFullJoin"
	}
	return "HashJoin"
}

// String renders "HashLeftJoin(#0 = #3; residual=(#1 < #4))" (HashRightJoin,
// HashFullJoin, and HashJoin for JoinInner), numbering the right input's columns after
// the left's as in the output row.
func (j *OuterJoin) String() string { return joinString(j.name(), j.keys, len(j.left), j.residual, "") }

// OutKinds is the left kinds followed by the right kinds.
func (j *OuterJoin) OutKinds() []delta.Kind { return j.outKinds }

func (j *OuterJoin) inKinds() [][]delta.Kind { return [][]delta.Kind{j.left, j.right} }
