package exec

import "github.com/weirdb/weir/internal/delta"

// valueSet is a multiset of non-NULL values: those of one aggregate argument in one
// group, each distinct value with its count, which min, max and the DISTINCT aggregates
// keep (see HashAggregate).
// Invariant: no count is 0 (an entry is removed when its count returns to 0).
//
// Integer values (bigint, timestamps, dates) are kept without pointers, so a million
// groups' multisets cost the collector nothing to trace: the first few in a slice,
// searched linearly and kept in arrival order, and, past valueSetSmall values, in an
// open-addressing table (one probe sequence finds, adds or updates a value, where a Go
// map takes two: a read and a write). Values of other kinds are kept in a map by their key encoding
// (delta.AppendValueKey), which also picks, among equal values (1.0 and 1.00), the one
// seen first as the representative.
type valueSet struct {
	ints []intCount
	imap intTable
	vals map[string]*setEntry
	n    int // distinct values
}

// intCount is one integer value of a valueSet with its count.
type intCount struct{ v, n int64 }

// valueSetSmall is the most integer values a valueSet keeps in its slice.
const valueSetSmall = 16

// setEntry is one distinct non-integer value of a valueSet.
type setEntry struct {
	v delta.Value
	n int64
}

// add adds w (!= 0) copies of the non-NULL v. It returns the value the valueSet holds for v
// (an equal value added earlier, if any, else v) and whether it was present (count > 0)
// before and after. buf is scratch for key encodings.
func (m *valueSet) add(v delta.Value, w int64, buf *[]byte) (rep delta.Value, was, is bool) {
	if v.Kind == delta.KindInt {
		n := m.addInt(v.I, w)
		return v, n-w > 0, n > 0
	}
	if m.vals == nil {
		m.vals = make(map[string]*setEntry)
	}
	*buf = delta.AppendValueKey((*buf)[:0], v)
	e := m.vals[string(*buf)]
	if e == nil {
		e = &setEntry{v: v}
		m.vals[string(*buf)] = e
		m.n++
	}
	was = e.n > 0
	e.n += w
	if e.n == 0 {
		delete(m.vals, string(*buf))
		m.n--
	}
	return e.v, was, e.n > 0
}

// addInt adds w copies of v and returns v's new count.
func (m *valueSet) addInt(v, w int64) int64 {
	if m.imap.slots != nil {
		n, added, removed := m.imap.add(v, w)
		switch {
		case added:
			m.n++
		case removed:
			m.n--
		}
		return n
	}
	for i := range m.ints {
		if e := &m.ints[i]; e.v == v {
			e.n += w
			n := e.n
			if n == 0 {
				last := len(m.ints) - 1
				m.ints[i] = m.ints[last]
				m.ints = m.ints[:last]
				m.n--
			}
			return n
		}
	}
	if len(m.ints) < valueSetSmall {
		m.ints = append(m.ints, intCount{v, w})
	} else {
		m.imap.init(4 * valueSetSmall)
		for _, e := range m.ints {
			m.imap.add(e.v, e.n)
		}
		m.ints = nil
		m.imap.add(v, w)
	}
	m.n++
	return w
}

// intTable is a hash table from integers to non-zero counts: open addressing with
// linear probing, a slot with count 0 being empty, and deletion by shifting the
// entries after a removed one back (no tombstones).
type intTable struct {
	slots []intCount // len is a power of two
	n     int
}

func (t *intTable) init(size int) { t.slots, t.n = make([]intCount, size), 0 }

func (t *intTable) home(v int64) int {
	return int((uint64(v) * 0x9e3779b97f4a7c15) >> 32 & uint64(len(t.slots)-1))
}

// add adds w (!= 0) to v's count and returns the new count, and whether v was added
// (absent before) or removed (its count is now 0).
func (t *intTable) add(v, w int64) (n int64, added, removed bool) {
	if 4*(t.n+1) > 3*len(t.slots) {
		old := t.slots
		t.init(2 * len(old))
		for _, e := range old {
			if e.n != 0 {
				t.add(e.v, e.n)
			}
		}
	}
	mask := len(t.slots) - 1
	for i := t.home(v); ; i = (i + 1) & mask {
		e := &t.slots[i]
		switch {
		case e.n == 0:
			e.v, e.n = v, w
			t.n++
			return w, true, false
		case e.v == v:
			e.n += w
			if e.n != 0 {
				return e.n, false, false
			}
			t.remove(i)
			return 0, false, true
		}
	}
}

// remove empties slot i and moves back the entries of its probe run that may no
// longer be found past the hole.
func (t *intTable) remove(i int) {
	t.n--
	mask := len(t.slots) - 1
	for j := (i + 1) & mask; t.slots[j].n != 0; j = (j + 1) & mask {
		k := t.home(t.slots[j].v)
		// The entry at j stays if its home is cyclically in (i, j].
		if i <= j && i < k && k <= j || i > j && (i < k || k <= j) {
			continue
		}
		t.slots[i] = t.slots[j]
		i = j
	}
	t.slots[i] = intCount{}
}

// len is the number of distinct values with a non-zero count.
func (m *valueSet) len() int { return m.n }

// each calls f for every value with its count (which may be negative: retractions ahead
// of their insertions), in no particular order.
func (m *valueSet) each(f func(v delta.Value, n int64)) {
	for _, e := range m.ints {
		f(delta.Int(e.v), e.n)
	}
	for _, e := range m.imap.slots {
		if e.n != 0 {
			f(delta.Int(e.v), e.n)
		}
	}
	for _, e := range m.vals {
		f(e.v, e.n)
	}
}
