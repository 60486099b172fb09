package exec

import (
	"iter"
	"slices"

	"github.com/weirdb/weir/internal/delta"
)

// appendRowKey appends the key encoding of columns cols of row i of b to dst and reports
// whether any of them is NULL.
func appendRowKey(dst []byte, b *delta.Batch, i int, cols []int) ([]byte, bool) {
	null := false
	for _, c := range cols {
		col := &b.Cols[c]
		null = null || (col.Nulls != nil && col.Nulls[i])
		dst = col.AppendKeyAt(dst, i)
	}
	return dst, null
}

// An arrangement indexes one join input: join key -> the distinct live rows with that key.
// It is shared by HashJoin, OuterJoin and SemiJoin. Rows whose key has a NULL column never
// match; the operators that must still remember them (the preserved side of an outer
// join, a NOT IN input) keep them in nulls, the others drop them.
// Invariant: every stored row has a count != 0 and every bucket in keys has a row.
type arrangement struct {
	keys  map[string]*bucket
	nulls bucket // rows with a NULL key column, if the owner stores them
}

func newArrangement() arrangement { return arrangement{keys: make(map[string]*bucket)} }

// bucketIndexMin is the bucket size from which rows are found through a map rather than a
// linear scan.
const bucketIndexMin = 16

// A bucket holds the rows of one join key. Rows are unordered (removal swaps in the last).
type bucket struct {
	rows  []arrRow
	index map[string]int // row encoding -> position in rows; nil while len(rows) < bucketIndexMin
}

type arrRow struct {
	enc  string        // delta.AppendKey encoding of vals
	vals []delta.Value // the whole input row; never modified once stored
	n    int64         // multiplicity, never 0
	// matches is the total count of the other input's rows this row joins with (key and
	// residual), kept by the operators whose output depends on it (OuterJoin, SemiJoin);
	// HashJoin leaves it 0.
	matches int64
}

// rows returns the number of distinct rows stored, NULL keys included.
func (a *arrangement) rows() int {
	n := 0
	for bk := range a.buckets() {
		n += len(bk.rows)
	}
	return n
}

// buckets yields every non-empty bucket, the NULL-key one included, in no particular order.
// The caller may change the rows' counters but must not add or remove rows meanwhile.
func (a *arrangement) buckets() iter.Seq[*bucket] {
	return func(yield func(*bucket) bool) {
		for _, bk := range a.keys {
			if !yield(bk) {
				return
			}
		}
		if len(a.nulls.rows) > 0 {
			yield(&a.nulls)
		}
	}
}

// add adds w copies of row (whose encoding is enc) under key, or to the NULL-key bucket
// when null, dropping the row when its count reaches 0 and the key when it has no rows
// left. A new row starts with the given matches. It returns the row's count and matches
// from before the change (0 and matches for a new row).
func (a *arrangement) add(key []byte, null bool, enc []byte, row []delta.Value, w, matches int64) (n0, m0 int64) {
	bk := &a.nulls
	if !null {
		bk = a.keys[string(key)]
		if bk == nil {
			bk = &bucket{}
			a.keys[string(key)] = bk
		}
	}
	pos := bk.find(enc)
	if pos < 0 {
		bk.insert(arrRow{enc: string(enc), vals: slices.Clone(row), n: w, matches: matches})
		return 0, matches
	}
	r := &bk.rows[pos]
	n0, m0 = r.n, r.matches
	r.n += w
	if r.n != 0 {
		return n0, m0
	}
	bk.remove(pos)
	if len(bk.rows) == 0 && !null {
		delete(a.keys, string(key))
	}
	return n0, m0
}

// find returns the position of the row encoded as enc, or -1.
func (bk *bucket) find(enc []byte) int {
	if bk.index != nil {
		if p, ok := bk.index[string(enc)]; ok {
			return p
		}
		return -1
	}
	for p := range bk.rows {
		if bk.rows[p].enc == string(enc) {
			return p
		}
	}
	return -1
}

func (bk *bucket) insert(r arrRow) {
	bk.rows = append(bk.rows, r)
	switch {
	case bk.index != nil:
		bk.index[r.enc] = len(bk.rows) - 1
	case len(bk.rows) >= bucketIndexMin:
		bk.index = make(map[string]int, len(bk.rows))
		for p := range bk.rows {
			bk.index[bk.rows[p].enc] = p
		}
	}
}

// remove deletes the row at pos, moving the last row into its place.
func (bk *bucket) remove(pos int) {
	last := len(bk.rows) - 1
	if bk.index != nil {
		delete(bk.index, bk.rows[pos].enc)
		if pos != last {
			bk.index[bk.rows[last].enc] = pos
		}
	}
	bk.rows[pos] = bk.rows[last]
	bk.rows[last] = arrRow{}
	bk.rows = bk.rows[:last]
	if bk.index != nil && len(bk.rows) < bucketIndexMin/2 {
		bk.index = nil
	}
}
