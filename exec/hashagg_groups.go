package exec

import (
	"encoding/binary"

	"github.com/weirdb/weir/internal/delta"
)

// groupTable is a HashAggregate's groups by key. When the aggregate groups by one
// integer column (a room, a user, a window start), the groups whose key is not NULL are
// found by the integer itself, which hashes and compares faster than its encoding; all
// other groups are found by their key encoding (delta.AppendValueKey of each key value).
type groupTable struct {
	intKey bool             // one group column, of KindInt
	ints   map[int64]*group // intKey: the groups with a non-NULL key
	strs   map[string]*group
}

func newGroupTable(intKey bool, size int) groupTable {
	t := groupTable{intKey: intKey, strs: make(map[string]*group)}
	if intKey {
		t.ints = make(map[int64]*group, size)
	} else if size > 0 {
		t.strs = make(map[string]*group, size)
	}
	return t
}

// intOf returns the integer an encoding names when it is a non-NULL integer key of an
// intKey table.
func (t *groupTable) intOf(enc string) (int64, bool) {
	if !t.intKey || len(enc) != 9 || enc[0] != 1 {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint64([]byte(enc[1:]))), true
}

// get returns the group with key encoding enc, or nil.
func (t *groupTable) get(enc string) *group {
	if k, ok := t.intOf(enc); ok {
		return t.ints[k]
	}
	return t.strs[enc]
}

// put adds g under its key encoding g.enc.
func (t *groupTable) put(g *group) {
	if k, ok := t.intOf(g.enc); ok {
		t.ints[k] = g
		return
	}
	t.strs[g.enc] = g
}

// remove forgets the group with key encoding enc.
func (t *groupTable) remove(enc string) {
	if k, ok := t.intOf(enc); ok {
		delete(t.ints, k)
		return
	}
	delete(t.strs, enc)
}

// len is the number of groups.
func (t *groupTable) len() int { return len(t.ints) + len(t.strs) }

// all yields every group, in no particular order.
func (t *groupTable) all(yield func(*group) bool) {
	for _, g := range t.ints {
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
	if h.groups.intKey {
		c := &b.Cols[h.groupCols[0]]
		if c.Nulls == nil || !c.Nulls[i] {
			return h.groups.ints[c.I64[i]]
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
