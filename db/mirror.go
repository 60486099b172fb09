package db

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/weirdb/weir/internal/delta"
)

// A read from memory (memread.go) lends each view's rows to DuckDB. An indexed bag holds
// its rows one by one ([]delta.Value each, scattered over the heap): lending them copied
// a reference to every row under the views lock, and DuckDB's fill then took a cache
// miss per row and parsed every plain numeric from its text, at every read, however few
// rows the ticks since had changed (BenchmarkViewRead: 45% of a read of 90k rows).
//
// A read lends a readMirror instead: a columnar copy of the bag's rows in blocks, the
// bag's position p being row p%blockRows of block p/blockRows. Once a read has made it
// (on), every apply writes what it changes into it as it changes the bag: the values
// come from the change batch, which is columnar too, and the bags' parts are applied on
// several cores. A read then only takes the blocks, and DuckDB reads contiguous columns.
// A plain numeric column is kept as integers too, parsed once when a row is written, for
// the reads that lend it as DECIMAL(18,0).
//
// Blocks are copy-on-write: a read holds every block it is lent until DuckDB has read
// them (readers), and a block held is copied before it is written, so the rows a read
// was lent never change under DuckDB while ticks go on. A read is over in milliseconds,
// usually before the next tick: the blocks are then written in place.
//
// A view never read from memory has no mirror and pays nothing for it. A mirror whose
// bag has had more than mirrorIdle times its rows written since its last read is
// dropped (off), and made again at the next read. Applies write a mirror under the views
// lock held to write; reads take its blocks under it held to read, one at a time (mu).
type readMirror struct {
	mu     sync.Mutex
	on     bool
	kinds  []delta.Kind
	n      int // the rows held, len(bag.rows) between applies
	writes int // rows written since the last read
	blocks []*mirrorBlock
}

// blockRows is DuckDB's chunk capacity (STANDARD_VECTOR_SIZE): a block fills a chunk.
const blockRows = 2048

// A mirror is dropped once its bag has had more than mirrorIdle times its rows, and more
// than mirrorIdleMin, written since its last read (a variable for tests).
var mirrorIdle, mirrorIdleMin = 4, 1 << 16

// mirrorBlock k holds positions k*blockRows to (k+1)*blockRows-1 of a bag's rows.
type mirrorBlock struct {
	rows *delta.Batch // the rows, their multiplicities as weights
	// ints[c], for a plain numeric column c, holds its values as integers: notInt for a
	// value that is not an integer of at most 18 digits, 0 for a NULL. nil for the others.
	ints    [][]int64
	readers atomic.Int32 // the reads it is lent to: while any, it is copied before it is written
}

// notInt stands in mirrorBlock.ints for a numeric that is not an integer of at most 18
// digits; delta.NumericInt never returns it.
const notInt = math.MinInt64

func newMirrorBlock(kinds []delta.Kind) *mirrorBlock {
	b := &mirrorBlock{rows: delta.New(kinds), ints: make([][]int64, len(kinds))}
	for c, k := range kinds {
		if k == delta.KindNumeric {
			b.ints[c] = make([]int64, 0, blockRows)
		}
	}
	b.rows.Grow(blockRows)
	return b
}

// lendMirror makes g's mirror when it has none, and returns its blocks, for a read to
// lend; they do not change until release is called. A column that ints marks (a
// plain numeric whose values are integers of at most 18 digits) is lent as integers (a
// vector of KindInt) from the blocks whose values all are. The caller holds the views
// lock to read (or to write).
func (g *bag) lendMirror(ints []bool) (out []*delta.Batch, release func()) {
	m := &g.mirror
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.on {
		m.build(g.kinds, g.rows)
	}
	m.writes = 0
	blocks := slices.Clone(m.blocks)
	out = make([]*delta.Batch, len(blocks))
	for i, b := range blocks {
		b.readers.Add(1)
		out[i] = b.lent(ints)
	}
	return out, func() {
		for _, b := range blocks {
			b.readers.Add(-1)
		}
	}
}

// build makes the mirror of rows.
func (m *readMirror) build(kinds []delta.Kind, rows []bagRow) {
	m.on, m.kinds, m.n, m.blocks = true, kinds, 0, nil
	for i := range rows {
		m.appendRow(rows[i].row, rows[i].n)
	}
}

// off drops the mirror (its bag is no longer indexed, or it is idle, or it lost track).
func (m *readMirror) off() {
	m.on, m.n, m.writes, m.blocks = false, 0, 0, nil
}

// mirrorsLost counts the mirrors dropped because they no longer matched their bag's
// positions: never, unless the bag changed a position without writing it (tests).
var mirrorsLost atomic.Int64

func (m *readMirror) lost() {
	mirrorsLost.Add(1)
	m.off()
}

// block returns block k for writing: copied first when a read holds it.
func (m *readMirror) block(k int) *mirrorBlock {
	b := m.blocks[k]
	if b.readers.Load() == 0 {
		return b
	}
	c := &mirrorBlock{rows: &delta.Batch{Cols: make([]delta.Vector, len(b.rows.Cols))}, ints: make([][]int64, len(b.ints))}
	for i := range b.rows.Cols {
		c.rows.Cols[i] = b.rows.Cols[i].Clone()
	}
	c.rows.Weights = slices.Clone(b.rows.Weights)
	for i, x := range b.ints {
		c.ints[i] = slices.Clone(x)
	}
	m.blocks[k] = c
	return c
}

// last returns the block that position m.n goes in, for appending.
func (m *readMirror) last() *mirrorBlock {
	if k := m.n / blockRows; k == len(m.blocks) {
		m.blocks = append(m.blocks, newMirrorBlock(m.kinds))
	}
	m.n++
	return m.block(len(m.blocks) - 1)
}

func (m *readMirror) appendRow(row []delta.Value, n int64) {
	b := m.last()
	b.rows.AppendRow(row, n)
	for c, x := range b.ints {
		if x != nil {
			b.ints[c] = append(x, numericInt(row[c].Null, row[c].S))
		}
	}
}

// write records that the apply of changes set position p of the bag's rows to
// multiplicity n, and, with values, to changes' row i. p is a held position or the
// next one (a new row).
func (m *readMirror) write(p int, n int64, changes *delta.Batch, i int, values bool, held int) {
	if m.writes++; m.writes > max(mirrorIdle*held, mirrorIdleMin) {
		m.off() // no read for a long while
		return
	}
	switch {
	case p == m.n:
		b := m.last()
		b.rows.AppendFrom(changes, i, n)
		for c, x := range b.ints {
			if x != nil {
				v := changes.Cols[c].Get(i)
				b.ints[c] = append(x, numericInt(v.Null, v.S))
			}
		}
		return
	case p > m.n:
		m.lost() // not the bag's rows: never, but a read must not see a wrong copy
		return
	}
	b := m.block(p / blockRows)
	j := p % blockRows
	b.rows.Weights[j] = n
	if !values {
		return
	}
	for c := range b.rows.Cols {
		b.rows.Cols[c].SetFrom(j, &changes.Cols[c], i)
		if b.ints[c] != nil {
			v := changes.Cols[c].Get(i)
			b.ints[c][j] = numericInt(v.Null, v.S)
		}
	}
}

// move records that the bag moved its row at position from (its last) to position to,
// and dropped position from.
func (m *readMirror) move(from, to int) {
	if from != m.n-1 || to > from {
		m.lost()
		return
	}
	src := m.blocks[from/blockRows]
	i := from % blockRows
	if to != from {
		b := m.block(to / blockRows)
		j := to % blockRows
		for c := range b.rows.Cols {
			b.rows.Cols[c].SetFrom(j, &src.rows.Cols[c], i)
			if b.ints[c] != nil {
				b.ints[c][j] = src.ints[c][i]
			}
		}
		b.rows.Weights[j] = src.rows.Weights[i]
	}
	m.n--
	if i == 0 {
		m.blocks[len(m.blocks)-1] = nil
		m.blocks = m.blocks[:len(m.blocks)-1]
		return
	}
	b := m.block(len(m.blocks) - 1)
	b.rows.Truncate(i)
	for c, x := range b.ints {
		if x != nil {
			b.ints[c] = x[:i]
		}
	}
}

// lent returns the block's rows as a read lends them: the columns ints marks as
// integers, where every value of the block is one.
func (b *mirrorBlock) lent(ints []bool) *delta.Batch {
	out := b.rows
	for c, x := range b.ints {
		if x == nil || c >= len(ints) || !ints[c] || slices.Contains(x, notInt) {
			continue
		}
		if out == b.rows {
			out = &delta.Batch{Cols: slices.Clone(b.rows.Cols), Weights: b.rows.Weights}
		}
		out.Cols[c] = delta.Vector{Kind: delta.KindInt, Nulls: b.rows.Cols[c].Nulls, I64: x}
	}
	return out
}

// numericInt is a numeric value (NULL, or its text) as mirrorBlock.ints holds it.
func numericInt(null bool, text string) int64 {
	if null {
		return 0
	}
	if n, ok := delta.NumericInt(text); ok {
		return n
	}
	return notInt
}
