package exec

import (
	"math/bits"
	"slices"
	"unsafe"

	"github.com/weirdb/weir/internal/delta"
)

// sortedRows is a TopN or WindowAgg partition's live rows in order, held in chunks of at
// most maxChunkRows slots, each chunk sorted and every slot of a chunk before every slot
// of the next. A change costs a binary search over the chunks' last slots and one within
// a chunk, and moves at most a chunk's slots, where one sorted slice moved half the
// partition on average: a partition of every room in a window (thousands of rows) took
// several microseconds per change.
//
// A slot is the row's prefix (rowOrder.prefix) and its id in the partition's rowStore:
// 16 bytes without pointers. Moving slots is then a plain memmove, where moving the rows
// themselves (56 bytes, two pointers each) took a write barrier per pointer whenever a
// collection was running, which under a steady stream is much of the time: in a paced
// run of the live-room pack, Insert and Delete in chunks of rows were 10% of all CPU,
// half of it in bulkBarrierPreWrite. A search compares the prefixes held in the slots
// and reads a row only among equal prefixes.
type sortedRows struct {
	chunks [][]rowSlot
	n      int
	store  rowStore
}

// rowSlot is a row's place in the order: its prefix and its id in the rowStore.
type rowSlot struct {
	pre uint64
	id  int32
}

// maxChunkRows bounds a chunk: a full one is split in two.
const maxChunkRows = 256

func (s *sortedRows) len() int { return s.n }

// search finds the position of the row (row, enc), whose prefix is pre, in t's order:
// chunk c and index i within it where it is or would be inserted, and whether it is
// there. Both binary searches are written out, so that comparing prefixes (most
// comparisons) is inlined.
func (s *sortedRows) search(t *rowOrder, pre uint64, row []delta.Value, enc string) (c, i int, found bool) {
	// The first chunk whose last row is not before the row.
	lo, hi := 0, len(s.chunks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		ch := s.chunks[m]
		if s.cmp(t, ch[len(ch)-1], pre, row, enc) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == len(s.chunks) {
		if lo == 0 {
			return 0, 0, false
		}
		c = lo - 1
		return c, len(s.chunks[c]), false // after every row
	}
	c, ch := lo, s.chunks[lo]
	lo, hi = 0, len(ch)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.cmp(t, ch[m], pre, row, enc) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return c, lo, lo < len(ch) && s.cmp(t, ch[lo], pre, row, enc) == 0
}

// cmp compares the row of slot x with (row, enc), whose prefix is pre.
func (s *sortedRows) cmp(t *rowOrder, x rowSlot, pre uint64, row []delta.Value, enc string) int {
	switch {
	case x.pre < pre:
		return -1
	case x.pre > pre:
		return 1
	}
	return s.cmpRow(t, x.id, row, enc)
}

// cmpRow compares the row of id with (row, enc); out of cmp, so that cmp inlines.
func (s *sortedRows) cmpRow(t *rowOrder, id int32, row []delta.Value, enc string) int {
	r := s.store.at(id)
	return t.compare(r.vals, r.enc, row, enc)
}

// add adds w copies of row (encoded enc) in o's order: a new row is inserted (a copy of
// row and of enc), a row whose multiplicity reaches 0 removed. enc is the caller's
// scratch: a change to a row the partition holds (most of them: an aggregate's new row
// for a group retracts the old one) allocates nothing.
func (s *sortedRows) add(o *rowOrder, row []delta.Value, enc []byte, w int64) {
	pre := o.prefix(row) // once: a numeric's is a ParseFloat
	c, i, found := s.search(o, pre, row, unsafe.String(unsafe.SliceData(enc), len(enc)))
	if !found {
		id := s.store.put(topRow{enc: string(enc), vals: slices.Clone(row), n: w})
		s.insert(c, i, rowSlot{pre: pre, id: id})
		return
	}
	if r := s.at(c, i); r.add(w) == 0 {
		s.remove(c, i)
	}
}

// at returns the row at chunk c, index i.
func (s *sortedRows) at(c, i int) *topRow { return s.store.at(s.chunks[c][i].id) }

// insert puts slot x at chunk c, index i (as search returned), splitting a chunk that
// grows past maxChunkRows.
func (s *sortedRows) insert(c, i int, x rowSlot) {
	s.n++
	if len(s.chunks) == 0 {
		s.chunks = append(s.chunks, append(make([]rowSlot, 0, 8), x))
		return
	}
	ch := slices.Insert(s.chunks[c], i, x)
	if len(ch) <= maxChunkRows {
		s.chunks[c] = ch
		return
	}
	half := len(ch) / 2
	second := append(make([]rowSlot, 0, maxChunkRows), ch[half:]...)
	s.chunks[c] = ch[:half]
	s.chunks = slices.Insert(s.chunks, c+1, second)
}

// remove deletes the row at chunk c, index i, and the chunk when it empties.
func (s *sortedRows) remove(c, i int) {
	s.n--
	s.store.free(s.chunks[c][i].id)
	ch := slices.Delete(s.chunks[c], i, i+1)
	if len(ch) > 0 {
		s.chunks[c] = ch
		return
	}
	s.chunks = slices.Delete(s.chunks, c, c+1)
}

// push appends r, whose prefix is pre, after every row (loading a saved partition,
// whose rows come in order).
func (s *sortedRows) push(pre uint64, r topRow) {
	x := rowSlot{pre: pre, id: s.store.put(r)}
	if k := len(s.chunks) - 1; k >= 0 && len(s.chunks[k]) < maxChunkRows {
		s.chunks[k] = append(s.chunks[k], x)
	} else {
		s.chunks = append(s.chunks, append(make([]rowSlot, 0, maxChunkRows), x))
	}
	s.n++
}

// all yields the rows in order with their positions (0-based).
func (s *sortedRows) all(yield func(pos int, r *topRow) bool) {
	pos := 0
	for _, ch := range s.chunks {
		for _, x := range ch {
			if !yield(pos, s.store.at(x.id)) {
				return
			}
			pos++
		}
	}
}

// first returns the first row, or nil.
func (s *sortedRows) first() *topRow {
	if len(s.chunks) == 0 {
		return nil
	}
	return s.store.at(s.chunks[0][0].id)
}

// last returns the last row, or nil.
func (s *sortedRows) last() *topRow {
	if len(s.chunks) == 0 {
		return nil
	}
	ch := s.chunks[len(s.chunks)-1]
	return s.store.at(ch[len(ch)-1].id)
}

// rowStore holds a partition's rows by id, at addresses that never change while the
// row lives: in blocks that double from 8 rows up to maxChunkRows and then stay that
// size, so that a partition of a few rows allocates little and one of thousands is not
// copied as it grows. The id of a removed row is reused (freeIDs). A partition keeps the
// blocks it grew even as it shrinks; an empty partition is dropped whole by its operator.
type rowStore struct {
	blocks  [][]topRow
	used    int32 // ids handed out, removed or not
	freeIDs []int32
}

// Block b holds 8<<b rows up to firstBlocks blocks, maxChunkRows after them; smallIDs is
// how many ids the doubling blocks hold.
const (
	firstBlocks = 6 // 8, 16, …, 256 = maxChunkRows
	smallIDs    = 8 * (1<<firstBlocks - 1)
)

// locate returns the block of id and its index there.
func locate(id int32) (b, off int) {
	if id < smallIDs {
		b = bits.Len32(uint32(id)/8+1) - 1
		return b, int(id) - 8*(1<<b-1)
	}
	rest := int(id - smallIDs)
	return firstBlocks + rest/maxChunkRows, rest % maxChunkRows
}

// at returns the row of id.
func (st *rowStore) at(id int32) *topRow {
	b, off := locate(id)
	return &st.blocks[b][off]
}

// put stores r and returns its id.
func (st *rowStore) put(r topRow) int32 {
	var id int32
	if k := len(st.freeIDs) - 1; k >= 0 {
		id = st.freeIDs[k]
		st.freeIDs = st.freeIDs[:k]
	} else {
		id = st.used
		st.used++
		if b, _ := locate(id); b == len(st.blocks) {
			size := maxChunkRows
			if b < firstBlocks {
				size = 8 << b
			}
			st.blocks = append(st.blocks, make([]topRow, size))
		}
	}
	*st.at(id) = r
	return id
}

// free drops the row of id (its values are released) and makes id reusable.
func (st *rowStore) free(id int32) {
	*st.at(id) = topRow{}
	st.freeIDs = append(st.freeIDs, id)
}
