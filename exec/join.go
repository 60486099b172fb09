package exec

import (
	"context"
	"slices"
	"strings"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

var _ Operator = (*HashJoin)(nil)

// HashJoin is an incremental inner equi-join. Port 0 is the left input, port 1 the right;
// an output row is the left columns followed by the right columns.
//
// It keeps an arrangement of each input: join key -> distinct rows with their counts. A
// change pushed on one side is joined with the other side's arrangement and then applied
// to its own, so pushes processed in order compute Δ(L⋈R) = ΔL⋈R + L'⋈ΔR, where L'
// already includes ΔL. The output weight is the product of the input weights. Rows whose
// count reaches 0 and keys without rows are dropped, so the state is bounded by the live
// data. A row with a NULL key column never matches (SQL equality) and is not stored.
type HashJoin struct {
	left, right []delta.Kind
	keys        [2][]int // key columns of each side, pairwise equal
	residual    expr.Expr
	outKinds    []delta.Kind
	err         *sqlerr.Error // configuration error, returned by every call

	arr [2]arrangement

	expiry    *Expiry     // when set, join keys of closed windows are forgotten; Col is a key index
	expiryIdx expiryIndex // join key encodings by closing time

	keyBuf []byte        // scratch: join key encoding
	rowBuf []byte        // scratch: whole-row encoding
	row    []delta.Value // scratch: the pushed row
	cat    []delta.Value // scratch: left ++ right
}

// NewHashJoin returns a HashJoin of inputs with the given kinds on left[leftKeys[i]] =
// right[rightKeys[i]] for every i, keeping only the output rows where residual (nil for
// none) is TRUE. The residual is evaluated over the concatenated row. Paired key columns
// must have the same kind (the binder coerces them); with no keys it is a cross join.
// A configuration error is returned (XX000) by the first Push or Advance.
func NewHashJoin(left, right []delta.Kind, leftKeys, rightKeys []int, residual expr.Expr) *HashJoin {
	j := &HashJoin{
		left:     slices.Clone(left),
		right:    slices.Clone(right),
		keys:     [2][]int{slices.Clone(leftKeys), slices.Clone(rightKeys)},
		residual: residual,
		outKinds: append(slices.Clone(left), right...),
		arr:      [2]arrangement{newArrangement(), newArrangement()},
	}
	j.err = checkJoin("HashJoin", left, right, leftKeys, rightKeys)
	return j
}

// SetExpiry makes the join forget both inputs' rows of a join key once the watermark
// closes the window its key pair e.Col holds (on both sides: no row of that key can
// arrive on either side any more). The output rows it produced stay emitted.
func (j *HashJoin) SetExpiry(e Expiry) {
	if e.Col < 0 || e.Col >= len(j.keys[0]) {
		j.err = configError("HashJoin", "expiry key %d out of range", e.Col)
		return
	}
	j.expiry = &e
}

// checkJoin validates the key columns of join operator op.
func checkJoin(op string, left, right []delta.Kind, leftKeys, rightKeys []int) *sqlerr.Error {
	if len(leftKeys) != len(rightKeys) {
		return configError(op, "%d left keys but %d right keys", len(leftKeys), len(rightKeys))
	}
	if err := checkCols(op, "left key", leftKeys, len(left)); err != nil {
		return err
	}
	if err := checkCols(op, "right key", rightKeys, len(right)); err != nil {
		return err
	}
	for i := range leftKeys {
		if lk, rk := left[leftKeys[i]], right[rightKeys[i]]; lk != rk {
			return configError(op, "key %d compares %s with %s", i, lk, rk)
		}
	}
	return nil
}

// Push joins b, a change to input in (0 left, 1 right), with the other input's
// arrangement, appends the matches to out and then applies b to in's arrangement.
// Errors from the residual are returned unchanged.
func (j *HashJoin) Push(_ context.Context, in int, b *delta.Batch, out *delta.Batch) error {
	if j.err != nil {
		return j.err
	}
	if in != 0 && in != 1 {
		return portError("HashJoin", in)
	}
	keys, own, other := j.keys[in], &j.arr[in], &j.arr[1-in]
	for i, w := range b.Weights {
		if w == 0 {
			continue
		}
		var null bool
		j.keyBuf, null = appendRowKey(j.keyBuf[:0], b, i, keys)
		if null {
			continue
		}
		j.row = b.Row(i, j.row)
		if bk := other.keys[string(j.keyBuf)]; bk != nil {
			for r := range bk.rows {
				m := &bk.rows[r]
				if in == 0 {
					j.cat = append(append(j.cat[:0], j.row...), m.vals...)
				} else {
					j.cat = append(append(j.cat[:0], m.vals...), j.row...)
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
				out.AppendRow(j.cat, w*m.n)
			}
		}
		if j.expiry != nil && own.keys[string(j.keyBuf)] == nil && other.keys[string(j.keyBuf)] == nil {
			j.expiryIdx.add(j.expiry.closesAt(j.row[keys[j.expiry.Col]]), string(j.keyBuf))
		}
		j.rowBuf = b.AppendKey(j.rowBuf[:0], i)
		own.add(j.keyBuf, false, j.rowBuf, j.row, w, 0)
	}
	return nil
}

// Advance returns the configuration error, if any (a join emits everything from Push),
// and forgets the keys of closed windows.
func (j *HashJoin) Advance(_ context.Context, t Tick, _ *delta.Batch) error {
	if j.err != nil {
		return j.err
	}
	if j.expiry != nil {
		j.expiryIdx.expire(t.Watermark(j.expiry.Sources...), func(key string) {
			delete(j.arr[0].keys, key)
			delete(j.arr[1].keys, key)
		})
	}
	return nil
}

// String renders "HashJoin(#0 = #3; residual=(#1 < #4))", numbering the right input's
// columns after the left's as in the output row.
func (j *HashJoin) String() string {
	extra := ""
	if j.expiry != nil {
		e := *j.expiry
		e.Col = j.keys[0][e.Col]
		extra = "state freed when " + e.String()
	}
	return joinString("HashJoin", j.keys, len(j.left), j.residual, extra)
}

// OutKinds is the left kinds followed by the right kinds.
func (j *HashJoin) OutKinds() []delta.Kind { return j.outKinds }

func (j *HashJoin) inKinds() [][]delta.Kind { return [][]delta.Kind{j.left, j.right} }

// joinString renders a join node for EXPLAIN: name(keys; residual=…; extra).
func joinString(name string, keys [2][]int, nLeft int, residual expr.Expr, extra string) string {
	var sb strings.Builder
	sb.WriteString(name + "(")
	if len(keys[0]) == 0 || len(keys[0]) != len(keys[1]) {
		sb.WriteString("cross")
	}
	for i := range keys[0] {
		if i >= len(keys[1]) {
			break
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(colName(keys[0][i]) + " = " + colName(keys[1][i]+nLeft))
	}
	if residual != nil {
		sb.WriteString("; residual=" + residual.String())
	}
	if extra != "" {
		sb.WriteString("; " + extra)
	}
	sb.WriteString(")")
	return sb.String()
}
