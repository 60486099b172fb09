package exec

import (
	"slices"
	"unsafe"

	"github.com/weirdb/weir/internal/delta"
)

// sortedRows is a TopN or WindowAgg partition's live rows in order, held in chunks of at most
// maxChunkRows rows, each chunk sorted and every row of a chunk before every row of the
// next. A change costs a binary search over the chunks' last rows and one within a chunk,
// and moves at most a chunk's rows, where one sorted slice moved half the partition on
// average: a partition of every room in a window (thousands of rows) took several
// microseconds per change in write-barriered copying.
type sortedRows struct {
	chunks [][]topRow
	n      int
}

// maxChunkRows bounds a chunk: a full one is split in two.
const maxChunkRows = 256

func (s *sortedRows) len() int { return s.n }

// search finds the position of the row (row, enc) in t's order: chunk c and index i
// within it where it is or would be inserted, and whether it is there.
func (s *sortedRows) search(t *rowOrder, row []delta.Value, enc string) (c, i int, found bool) {
	pre := t.prefix(row)
	// The first chunk whose last row is not before the row.
	c, _ = slices.BinarySearchFunc(s.chunks, row, func(ch []topRow, row []delta.Value) int {
		last := &ch[len(ch)-1]
		return t.comparePre(last.pre, last.vals, last.enc, pre, row, enc)
	})
	if c == len(s.chunks) {
		if c == 0 {
			return 0, 0, false
		}
		c--
		return c, len(s.chunks[c]), false // after every row
	}
	i, found = slices.BinarySearchFunc(s.chunks[c], row, func(r topRow, row []delta.Value) int {
		return t.comparePre(r.pre, r.vals, r.enc, pre, row, enc)
	})
	return c, i, found
}

// add adds w copies of row (encoded enc) in o's order: a new row is inserted (a copy of
// row and of enc), a row whose multiplicity reaches 0 removed. enc is the caller's
// scratch: a change to a row the partition holds (most of them: an aggregate's new row
// for a group retracts the old one) allocates nothing.
func (s *sortedRows) add(o *rowOrder, row []delta.Value, enc []byte, w int64) {
	c, i, found := s.search(o, row, unsafe.String(unsafe.SliceData(enc), len(enc)))
	if !found {
		s.insert(c, i, topRow{enc: string(enc), vals: slices.Clone(row), n: w, pre: o.prefix(row)})
		return
	}
	if r := s.at(c, i); r.add(w) == 0 {
		s.remove(c, i)
	}
}

// at returns the row at chunk c, index i.
func (s *sortedRows) at(c, i int) *topRow { return &s.chunks[c][i] }

// insert puts r at chunk c, index i (as search returned), splitting a chunk that grows
// past maxChunkRows.
func (s *sortedRows) insert(c, i int, r topRow) {
	s.n++
	if len(s.chunks) == 0 {
		s.chunks = append(s.chunks, append(make([]topRow, 0, 8), r))
		return
	}
	ch := slices.Insert(s.chunks[c], i, r)
	if len(ch) <= maxChunkRows {
		s.chunks[c] = ch
		return
	}
	half := len(ch) / 2
	second := append(make([]topRow, 0, maxChunkRows), ch[half:]...)
	clear(ch[half:])
	s.chunks[c] = ch[:half]
	s.chunks = slices.Insert(s.chunks, c+1, second)
}

// remove deletes the row at chunk c, index i, and the chunk when it empties.
func (s *sortedRows) remove(c, i int) {
	s.n--
	ch := slices.Delete(s.chunks[c], i, i+1)
	if len(ch) > 0 {
		s.chunks[c] = ch
		return
	}
	s.chunks = slices.Delete(s.chunks, c, c+1)
}

// push appends r after every row (loading a saved partition, whose rows come in order).
func (s *sortedRows) push(r topRow) {
	if k := len(s.chunks) - 1; k >= 0 && len(s.chunks[k]) < maxChunkRows {
		s.chunks[k] = append(s.chunks[k], r)
	} else {
		s.chunks = append(s.chunks, append(make([]topRow, 0, maxChunkRows), r))
	}
	s.n++
}

// all yields the rows in order with their positions (0-based).
func (s *sortedRows) all(yield func(pos int, r *topRow) bool) {
	pos := 0
	for _, ch := range s.chunks {
		for i := range ch {
			if !yield(pos, &ch[i]) {
				return
			}
			pos++
		}
	}
}

// last returns the last row, or nil.
func (s *sortedRows) last() *topRow {
	if len(s.chunks) == 0 {
		return nil
	}
	ch := s.chunks[len(s.chunks)-1]
	return &ch[len(ch)-1]
}
