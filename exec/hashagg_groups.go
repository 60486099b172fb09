package exec

import (
	"encoding/binary"

	"github.com/weirdb/weir/internal/delta"
)

// groupTable is a HashAggregate's groups by key. When the aggregate groups by one or two
// integer columns (a room; a room and a user; a room and a window start), the groups
// with no NULL in their key are found by the integers themselves, which hash and
// compare faster than their encoding; all other groups are found by their key encoding
// (delta.AppendValueKey of each key value).
type groupTable struct {
	intCols int                 // 1 or 2 when the key is that many integer columns, else 0
	ints    map[int64]*group    // intCols 1: the groups with a non-NULL key
	pairs   map[[2]int64]*group // intCols 2: the groups with no NULL in their key
	strs    map[string]*group
}

// intKeyCols is how many integer columns key a groupTable over groupCols of in: 1 or 2
// when all of them are integers, else 0.
func intKeyCols(in []delta.Kind, groupCols []int) int {
	if len(groupCols) == 0 || len(groupCols) > 2 {
		return 0
	}
	for _, c := range groupCols {
		if c < 0 || c >= len(in) || in[c] != delta.KindInt {
			return 0
		}
	}
	return len(groupCols)
}

func newGroupTable(intCols, size int) groupTable {
	t := groupTable{intCols: intCols, strs: make(map[string]*group)}
	switch intCols {
	case 1:
		t.ints = make(map[int64]*group, size)
	case 2:
		t.pairs = make(map[[2]int64]*group, size)
	default:
		if size > 0 {
			t.strs = make(map[string]*group, size)
		}
	}
	return t
}

// intsOf returns the integers an encoding names when it is a key of non-NULL integers
// of a table with intCols.
func (t *groupTable) intsOf(enc string) (k [2]int64, ok bool) {
	switch {
	case t.intCols == 1 && len(enc) == 9 && enc[0] == 1:
		k[0] = int64(binary.LittleEndian.Uint64([]byte(enc[1:])))
		return k, true
	case t.intCols == 2 && len(enc) == 18 && enc[0] == 1 && enc[9] == 1:
		k[0] = int64(binary.LittleEndian.Uint64([]byte(enc[1:9])))
		k[1] = int64(binary.LittleEndian.Uint64([]byte(enc[10:])))
		return k, true
	}
	return k, false
}

// get returns the group with key encoding enc, or nil.
func (t *groupTable) get(enc string) *group {
	if k, ok := t.intsOf(enc); ok {
		if t.intCols == 1 {
			return t.ints[k[0]]
		}
		return t.pairs[k]
	}
	return t.strs[enc]
}

// put adds g under its key encoding g.enc.
func (t *groupTable) put(g *group) {
	if k, ok := t.intsOf(g.enc); ok {
		if t.intCols == 1 {
			t.ints[k[0]] = g
		} else {
			t.pairs[k] = g
		}
		return
	}
	t.strs[g.enc] = g
}

// remove forgets the group with key encoding enc.
func (t *groupTable) remove(enc string) {
	if k, ok := t.intsOf(enc); ok {
		if t.intCols == 1 {
			delete(t.ints, k[0])
		} else {
			delete(t.pairs, k)
		}
		return
	}
	delete(t.strs, enc)
}

// len is the number of groups.
func (t *groupTable) len() int { return len(t.ints) + len(t.pairs) + len(t.strs) }

// all yields every group, in no particular order.
func (t *groupTable) all(yield func(*group) bool) {
	for _, g := range t.ints {
		if !yield(g) {
			return
		}
	}
	for _, g := range t.pairs {
		if !yield(g) {
			return
		}
	}
	for _, g := range t.strs {
		if !yield(g) {
			return
		}
	}
}

// lookup returns the group of row i of b, or nil.
func (h *HashAggregate) lookup(b *delta.Batch, i int) *group {
	switch h.groups.intCols {
	case 1:
		c := &b.Cols[h.groupCols[0]]
		if c.Nulls == nil || !c.Nulls[i] {
			return h.groups.ints[c.I64[i]]
		}
	case 2:
		c0, c1 := &b.Cols[h.groupCols[0]], &b.Cols[h.groupCols[1]]
		if (c0.Nulls == nil || !c0.Nulls[i]) && (c1.Nulls == nil || !c1.Nulls[i]) {
			return h.groups.pairs[[2]int64{c0.I64[i], c1.I64[i]}]
		}
	}
	h.keyBuf, _ = appendRowKey(h.keyBuf[:0], b, i, h.groupCols)
	return h.groups.strs[string(h.keyBuf)]
}

// groupCount is the number of groups the aggregate holds.
func (h *HashAggregate) groupCount() int {
	if h.dense != nil {
		return int(h.dense.n)
	}
	return h.groups.len()
}
