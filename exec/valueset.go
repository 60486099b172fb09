package exec

import "github.com/weirdb/weir/internal/delta"

// valueSet is a multiset of non-NULL values: those of one aggregate argument in one
// group, each distinct value with its count, which min, max and the DISTINCT aggregates
// keep (see HashAggregate).
// Invariant: no count is 0 (an entry is removed when its count returns to 0).
//
// Integer values (bigint, timestamps, dates) are kept without pointers, so a million
// groups' multisets cost the collector nothing to trace: the first few in a slice,
// searched linearly and kept in arrival order, and, past valueSetSmall values, in a map
// by value. Values of other kinds are kept in a map by their key encoding
// (delta.AppendValueKey), which also picks, among equal values (1.0 and 1.00), the one
// seen first as the representative.
type valueSet struct {
	ints []intCount
	imap map[int64]int64
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

// add adds w copies of the non-NULL v. It returns the value the valueSet holds for v
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
	if m.imap != nil {
		n := m.imap[v] + w
		switch {
		case n == 0:
			delete(m.imap, v)
			m.n--
		case n == w:
			m.imap[v] = n
			m.n++
		default:
			m.imap[v] = n
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
		m.imap = make(map[int64]int64, 2*valueSetSmall)
		for _, e := range m.ints {
			m.imap[e.v] = e.n
		}
		m.ints = nil
		m.imap[v] = w
	}
	m.n++
	return w
}

// len is the number of distinct values with a non-zero count.
func (m *valueSet) len() int { return m.n }

// each calls f for every value with its count (which may be negative: retractions ahead
// of their insertions), in no particular order.
func (m *valueSet) each(f func(v delta.Value, n int64)) {
	for _, e := range m.ints {
		f(delta.Int(e.v), e.n)
	}
	for v, n := range m.imap {
		f(delta.Int(v), n)
	}
	for _, e := range m.vals {
		f(e.v, e.n)
	}
}
