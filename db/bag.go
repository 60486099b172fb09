package db

import (
	"encoding/binary"
	"hash/maphash"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/storage/viewstore"
)

// bag is a multiset of rows held in memory and mirrored in one DuckDB table: a view's
// contents, or the row errors that stand in the views.
//
// Rows are found by the encoding of their key columns: a view's unique key (the GROUP BY
// columns of an aggregate view), so that a group whose row changes keeps its entry and
// the retraction and insertion a tick makes of it cost one short lookup each; or the
// whole row, for a bag without one. Rows that share a key are chained: a keyed bag holds
// one row per key after a tick, but a tick's changes may insert a key's new row before
// they retract the old one. The key only has to be a good hash: two different rows of
// one key are two entries of the chain, so the bag is exact whatever the key.
//
// The rows are held densely in one slice, so that a snapshot (held, contents) is a walk
// over contiguous memory rather than over a map; the index finds a key's first row.
// Between applies every row held has a positive multiplicity.
//
// A view that only ever gains rows (planner.InsertOnly: filters, projections and inner
// joins of sources) needs no index to fold its changes in: its bag is insert-only and
// holds its rows unindexed, as columnar batches (chunks; index is nil and rows empty).
// An apply then appends the tick's batch, as it is when it is large and into the last
// chunk (tail) when it is small, and lists the rows it added in touchedRows.appended; a
// flush inserts those batches without looking for rows to delete, and a read lends the
// chunks to DuckDB as they are. A stream's view then costs no row of values, no key
// encoding and no map entry per row. Whatever must find rows by key builds the index
// first (buildIndex): a retraction (the planner says none comes, but the bag does not
// rely on it; the bag then stays indexed), an apply during a replay (the store may
// hold the replayed rows already, so they are rewritten by key), and a flush of keys
// touched while the bag was indexed. Once a flush has taken every pending change, an
// insert-only bag drops its index again (dropIndex).
type bag struct {
	kinds []delta.Kind
	key   []int            // the key columns; nil: the whole row
	index map[string]int32 // a key's first row; nil while the bag is unindexed
	ints  *intIndex        // for a key of one integer column: the non-NULL keys' first rows
	rows  []bagRow

	insertOnly bool // the view only gains rows: the bag may drop its index
	retracted  bool // an insert-only bag was handed a retraction: it keeps its index

	// An unindexed bag's rows, with their multiplicities as weights (all positive). A
	// chunk is never modified, except that rows are appended to tail (the last chunk
	// made by the bag) behind the rows any window of it holds.
	chunks    []*delta.Batch
	tail      *delta.Batch
	chunkRows int // rows in chunks

	// parts, when set, split an indexed bag by its keys' hash (partOf): each part is a
	// bag of its own holding the keys that hash to it, so that a large tick's changes
	// are folded into the parts on several cores at once (applyOuts). The bag itself
	// then holds no rows and no index; it hands every key to its part.
	parts []*bag

	// mirror is the indexed rows' columnar copy that reads from memory lend (mirror.go).
	mirror readMirror
}

// bagParts is how many parts a view's indexed bag is split into (newBags): one per
// core, up to 8. With one core, bags are whole.
var bagParts = min(runtime.GOMAXPROCS(0), 8)

// partSeed seeds the hash of keys that are not one non-NULL integer.
var partSeed = maphash.MakeSeed()

// Chunks of an unindexed bag: a tick's batch of at least keepBatchRows rows is kept as
// a chunk of its own, smaller ones are appended to a tail of up to tailRows (variables
// for tests).
var (
	keepBatchRows = 4096
	tailRows      = 1 << 16
)

type bagRow struct {
	key  string // the row's key in index, kept so touching it allocates nothing
	row  []delta.Value
	n    int64
	next int32 // the position of the next row of the same key; -1: none
}

// countedRow is a row and its multiplicity.
type countedRow struct {
	Values []delta.Value
	N      int64
}

// touchedRows lists, by key, the rows of a bag whose multiplicity a tick changed (a key
// may repeat), each with the row it touched: what the next flush rewrites with the key's
// rows as they are then.
//
// fresh[i] (when fresh is as long as keys) says that the key had no rows in the bag just
// before the apply that touched it. For a key no flush has had pending since, the view
// store holds what the bag held, so the store has no rows of a key fresh at its first
// touch after a flush either: the flush inserts its rows without deleting any first.
// That is what a view of a stream's rows needs: every row is new, and deleting them
// would scan the whole table at every flush.
//
// appended lists the rows an unindexed bag appended, as batches of them with their
// multiplicities: the store has none of them. keyed, set by the caller, makes the apply
// find rows by key even in an unindexed bag (a replay's, whose rows the store may hold
// already).
type touchedRows struct {
	bag      *bag // the bag of the first rows (the error bags of several views share one list)
	keys     []string
	rows     [][]delta.Value
	fresh    []bool
	appended []*delta.Batch
	keyed    bool

	// parts, for a bag in parts (bag.parts), are the lists of the rows each part touched,
	// in the order of the parts (and of the applies, when t took several): every touch of
	// a key is in the list of the key's part, in order. They are not merged into keys,
	// rows and fresh: that copy cost a tick's apply a tenth of its time, under d.mu.
	parts []*touchedRows
}

// dropFresh forgets which keys were fresh: every touched key is deleted from the store
// before its rows are written.
func (t *touchedRows) dropFresh() {
	t.fresh = nil
	for _, p := range t.parts {
		p.dropFresh()
	}
}

func (t *touchedRows) Len() int {
	if t == nil {
		return 0
	}
	n := len(t.keys)
	for _, b := range t.appended {
		n += b.Len()
	}
	for _, p := range t.parts {
		n += p.Len()
	}
	return n
}

// newBag returns an empty bag of rows of kinds, found by the key columns (nil: the
// whole row).
func newBag(kinds []delta.Kind, key []int) *bag {
	g := &bag{kinds: kinds, key: key, index: map[string]int32{}}
	if len(key) == 1 && kinds[key[0]] == delta.KindInt {
		g.ints = newIntIndex()
	}
	return g
}

// newPartedBag returns an empty bag split into n parts (see bag.parts).
func newPartedBag(kinds []delta.Kind, key []int, n int) *bag {
	g := &bag{kinds: kinds, key: key, parts: make([]*bag, n)}
	for i := range g.parts {
		g.parts[i] = newBag(kinds, key)
	}
	return g
}

// partOfInt and partOfKey are the part of n that holds an integer key (the one value of
// a key found in ints) and any other key (its encoding).
func partOfInt(k int64, n int) int {
	return int((uint64(k) * 0x9E3779B97F4A7C15 >> 32) % uint64(n))
}

func partOfKey(key []byte, n int) int { return int(maphash.Bytes(partSeed, key) % uint64(n)) }

// partOf returns the part of g that holds key: g itself when it is whole.
func (g *bag) partOf(key string) *bag {
	if g.parts == nil {
		return g
	}
	n := len(g.parts)
	if k, ok := g.parts[0].intKey(key); ok {
		return g.parts[partOfInt(k, n)]
	}
	return g.parts[int(maphash.String(partSeed, key)%uint64(n))] // as partOfKey
}

// intKey returns the integer an encoded key names when the bag finds it in ints: a
// non-NULL integer key (delta.AppendValueKey: tag 1, then the value little-endian).
func (g *bag) intKey(key string) (int64, bool) {
	if g.ints == nil || len(key) != 9 || key[0] != 1 {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint64([]byte(key[1:]))), true
}

// setInsertOnly makes g, which holds no rows yet, an insert-only bag: unindexed.
func (g *bag) setInsertOnly() {
	g.insertOnly = true
	g.dropIndex()
}

// dropIndex forgets the index of an insert-only bag that was never handed a retraction.
// Nothing may be pending that finds rows by key without building the index again (the
// flush calls it once it has taken every pending change). Between applies every row
// held has a positive multiplicity, so the unindexed rows are what the bag holds.
func (g *bag) dropIndex() {
	if !g.insertOnly || g.retracted || g.index == nil {
		return
	}
	g.index, g.ints = nil, nil
	g.mirror.off()
	g.chunks, g.tail, g.chunkRows = nil, nil, 0
	if len(g.rows) > 0 {
		b := delta.New(g.kinds)
		b.Grow(len(g.rows))
		for i := range g.rows {
			b.AppendRow(g.rows[i].row, g.rows[i].n)
		}
		g.chunks, g.chunkRows = []*delta.Batch{b}, b.Len()
	}
	g.rows = nil
}

// buildIndex indexes the rows of an unindexed bag, moving them from its chunks into
// rows; an indexed bag is left as it is. A row appended more than once becomes one
// entry again, with the multiplicities added: an indexed bag holds each distinct row
// once (apply retracts from the first equal row).
func (g *bag) buildIndex() {
	if g.index != nil || g.parts != nil {
		return
	}
	g.index = map[string]int32{}
	if len(g.key) == 1 && g.kinds[g.key[0]] == delta.KindInt {
		g.ints = newIntIndex()
	}
	g.mirror.off()
	var same map[string]int32 // whole row -> its entry, when the key is not the whole row
	if g.key != nil {
		same = map[string]int32{}
	}
	g.rows = make([]bagRow, 0, g.chunkRows)
	slab := make([]delta.Value, g.chunkRows*len(g.kinds)) // the rows' values, in one allocation
	var enc, whole []byte
	chunks := g.chunks
	g.chunks, g.tail, g.chunkRows = nil, nil, 0
	for _, b := range chunks {
		for j := range b.Len() {
			r := bagRow{row: b.Row(j, slab[:0:len(g.kinds)]), n: b.Weights[j], next: -1}
			slab = slab[len(g.kinds):]
			enc = g.rowKey(enc[:0], r.row)
			q := int32(len(g.rows))
			head, found := g.first(string(enc))
			if g.key == nil && found {
				g.rows[head].n += r.n // a chain holds one row when the key is the whole row
				continue
			}
			if same != nil {
				whole = wholeRowKey(whole[:0], r.row)
				if at, ok := same[string(whole)]; ok {
					g.rows[at].n += r.n
					continue
				}
				same[string(whole)] = q
			}
			if found {
				// Behind the chain's head, as apply adds rows; the chain shares its key.
				r.key, r.next = g.rows[head].key, g.rows[head].next
				g.rows[head].next = q
			} else {
				r.key = string(enc)
				g.setFirst(r.key, q)
			}
			g.rows = append(g.rows, r)
		}
	}
}

// wholeRowKey appends the encoding of every value of row.
func wholeRowKey(dst []byte, row []delta.Value) []byte {
	for _, v := range row {
		dst = delta.AppendValueKey(dst, v)
	}
	return dst
}

// first returns the position of key's first row.
func (g *bag) first(key string) (int32, bool) {
	if k, ok := g.intKey(key); ok {
		return g.ints.get(k)
	}
	p, ok := g.index[key]
	return p, ok
}

// setFirst makes p key's first row.
func (g *bag) setFirst(key string, p int32) {
	if k, ok := g.intKey(key); ok {
		g.ints.set(k, p)
		return
	}
	g.index[key] = p
}

// unindex forgets key, which has no rows left.
func (g *bag) unindex(key string) {
	if k, ok := g.intKey(key); ok {
		g.ints.del(k)
		return
	}
	delete(g.index, key)
}

// len is the number of distinct rows held (of entries, in an unindexed bag, where a
// row appended twice is two).
func (g *bag) len() int {
	n := len(g.rows) + g.chunkRows
	for _, p := range g.parts {
		n += p.len()
	}
	return n
}

// indexedLen is the number of rows held indexed: those held copies, row by row (the
// rest are in chunks, lent whole).
func (g *bag) indexedLen() int { return g.len() - g.chunkRows }

// contents returns the rows as insertions.
func (g *bag) contents() *delta.Batch { return g.freeze().batch() }

// frozenBag is a bag's rows at one moment: windows of its chunks and its rows with
// their multiplicities, which the bag never modifies (see held), so that they may be
// read after the bag has changed (a checkpoint encodes them without d.mu).
type frozenBag struct {
	kinds  []delta.Kind
	chunks []*delta.Batch
	rows   []countedRow
}

func (g *bag) freeze() frozenBag {
	f := frozenBag{kinds: g.kinds, chunks: make([]*delta.Batch, len(g.chunks))}
	for i, c := range g.chunks {
		f.chunks[i] = c.Window(0, c.Len())
	}
	f.rows = make([]countedRow, 0, g.indexedLen())
	for _, p := range g.bags() {
		for i := range p.rows {
			f.rows = append(f.rows, countedRow{Values: p.rows[i].row, N: p.rows[i].n})
		}
	}
	return f
}

// batch returns the frozen rows as one batch.
func (f frozenBag) batch() *delta.Batch {
	b := delta.New(f.kinds)
	n := len(f.rows)
	for _, c := range f.chunks {
		n += c.Len()
	}
	b.Grow(n)
	for _, c := range f.chunks {
		b.AppendBatch(c, 1)
	}
	for _, r := range f.rows {
		b.AppendRow(r.Values, r.N)
	}
	return b
}

// bags returns g's parts, or g itself when it is whole.
func (g *bag) bags() []*bag {
	if g.parts != nil {
		return g.parts
	}
	return []*bag{g}
}

// held returns the rows with their multiplicities now, in no order, as batches, row i
// of a batch held as many times as its weight: an unindexed bag's chunks (windows of
// them), an indexed one's mirror (lendMirror, which ints is for). The bag does not
// modify them until release is called (it appends to a chunk only behind its windows,
// and copies a lent block of its mirror before it writes into it). The caller holds the
// views lock. The parts of a large bag are taken on as many goroutines: a part's
// first read makes its mirror, about 60 ns a row.
func (g *bag) held(ints []bool) (out []*delta.Batch, release func()) {
	parts := g.bags()
	lent := make([][]*delta.Batch, len(parts))
	releases := make([]func(), len(parts))
	take := func(i int) {
		p := parts[i]
		if p.index != nil {
			lent[i], releases[i] = p.lendMirror(ints)
			return
		}
		for _, c := range p.chunks {
			lent[i] = append(lent[i], c.Window(0, c.Len()))
		}
	}
	if len(parts) > 1 && g.len() >= 1<<14 {
		var wg sync.WaitGroup
		for i := range parts {
			wg.Go(func() { take(i) })
		}
		wg.Wait()
	} else {
		for i := range parts {
			take(i)
		}
	}
	return slices.Concat(lent...), func() {
		for _, r := range releases {
			if r != nil {
				r()
			}
		}
	}
}

// multiplicity returns how many times the bag holds the rows of key; for a bag keyed by
// the whole row, how many times it holds that row.
func (g *bag) multiplicity(key string) int64 {
	g = g.partOf(key)
	g.buildIndex()
	n := int64(0)
	if p, ok := g.first(key); ok {
		for ; p >= 0; p = g.rows[p].next {
			n += g.rows[p].n
		}
	}
	return n
}

// appendKey appends the key encoding of changes' row i.
func (g *bag) appendKey(dst []byte, changes *delta.Batch, i int) []byte {
	if g.key == nil {
		return changes.AppendKey(dst, i)
	}
	for _, c := range g.key {
		dst = changes.Cols[c].AppendKeyAt(dst, i)
	}
	return dst
}

// rowKey appends the key encoding of row.
func (g *bag) rowKey(dst []byte, row []delta.Value) []byte {
	if g.key == nil {
		return wholeRowKey(dst, row)
	}
	for _, c := range g.key {
		dst = delta.AppendValueKey(dst, row[c])
	}
	return dst
}

// apply folds a change batch into the bag and adds every row whose multiplicity changed
// to touched (when not nil). A bag in parts folds the changes into each part in turn
// (applyOuts does so on several cores), each part's touches listed in touched.parts.
func (g *bag) apply(changes *delta.Batch, touched *touchedRows) {
	if touched == nil {
		touched = &touchedRows{}
	}
	if g.parts == nil {
		g.applyPart(changes, touched, 0, 1)
		return
	}
	parts := g.partTouched(touched)
	for i, p := range g.parts {
		p.applyPart(changes, parts[i], i, len(g.parts))
	}
}

// partTouched adds to t a list of touched rows for each part of g (touchedRows.parts)
// and returns them, in the order of g.parts.
func (g *bag) partTouched(t *touchedRows) []*touchedRows {
	if t.bag == nil {
		t.bag = g
	}
	parts := make([]*touchedRows, len(g.parts))
	for i := range parts {
		parts[i] = &touchedRows{keyed: t.keyed}
	}
	t.parts = append(t.parts, parts...)
	return parts
}

// applyPart is apply for a whole bag (parts 1), or for part of parts of a bag split by
// its keys: the changes of the keys that hash to other parts are skipped.
func (g *bag) applyPart(changes *delta.Batch, touched *touchedRows, part, parts int) {
	if touched.bag == nil {
		touched.bag = g
	}
	if g.insertOnly && !g.retracted && slices.ContainsFunc(changes.Weights, func(w int64) bool { return w < 0 }) {
		g.retracted = true
	}
	if g.index == nil {
		if !touched.keyed && !g.retracted {
			g.appendRows(changes, touched)
			return
		}
		g.buildIndex()
	}
	first := len(touched.keys)
	expect := changes.Len() // the rows this part will touch, about
	if parts > 1 {
		expect = expect/parts + expect/(8*parts)
	}
	touched.keys = slices.Grow(touched.keys, expect)
	touched.rows = slices.Grow(touched.rows, expect)
	// Freshness is kept while it is known for every key (applyTick drops it in replay).
	keepFresh := len(touched.fresh) == len(touched.keys)
	if keepFresh {
		touched.fresh = slices.Grow(touched.fresh, expect)
	}
	// An aggregate retracts a group's old row just before it inserts the new one: a row
	// of the previous row's key reuses its lookup (rows are added behind a chain's head,
	// and removed only after the loop).
	var key, prev []byte
	var prevInt int64
	head, looked, wasInt := int32(-1), false, false
	fresh := false         // the key had no rows when it was looked up
	var ints *delta.Vector // the key column, when the bag finds its keys in ints
	if g.ints != nil {
		ints = &changes.Cols[g.key[0]]
	}
	zero := 0 // rows whose multiplicity is not positive now
	for i := 0; i < changes.Len(); i++ {
		w := changes.Weights[i]
		if w == 0 {
			continue
		}
		isInt := ints != nil && (ints.Nulls == nil || !ints.Nulls[i])
		if !isInt {
			key = g.appendKey(key[:0], changes, i)
		}
		if parts > 1 {
			p := 0
			if isInt {
				p = partOfInt(ints.I64[i], parts)
			} else {
				p = partOfKey(key, parts)
			}
			if p != part {
				continue
			}
		}
		switch {
		case isInt:
			if k := ints.I64[i]; !looked || !wasInt || k != prevInt {
				head, looked, wasInt, prevInt = -1, true, true, k
				if p, ok := g.ints.get(k); ok {
					head = p
				}
				fresh = head < 0
			}
		default:
			if !looked || wasInt || string(key) != string(prev) {
				head, looked, wasInt = -1, true, false
				if p, ok := g.index[string(key)]; ok {
					head = p
				}
				fresh = head < 0
				prev = append(prev[:0], key...)
			}
		}
		r, free := int32(-1), int32(-1)
		if head >= 0 && g.rows[head].next < 0 && g.rows[head].n == 0 {
			// The key's one row was taken out by this batch (a group's old row): whether
			// or not it equals this one, its entry takes this row.
			free = head
		} else if w < 0 && head >= 0 && g.rows[head].next < 0 {
			// A retraction takes out a row the bag holds, and the key's one row is the only
			// row of its key held: it is that row (a group's old row, usually), without
			// comparing values that are mostly cache misses away.
			r = head
		} else {
			for x := head; x >= 0; x = g.rows[x].next {
				if changes.RowEqual(i, g.rows[x].row) {
					r = x
					break
				}
				if g.rows[x].n == 0 && free < 0 {
					free = x
				}
			}
		}
		newRow := r < 0 // r takes changes' row i
		switch {
		case r >= 0:
		case free >= 0:
			// A row of the key this batch took out (counted in zero): its entry takes the
			// new row.
			r = free
			g.rows[r].row = changes.Row(i, nil)
		default:
			zero++ // a new row, at 0 until w is added
			r = int32(len(g.rows))
			br := bagRow{row: changes.Row(i, nil), next: -1}
			if head < 0 {
				if isInt {
					key = g.appendKey(key[:0], changes, i)
					g.ints.set(ints.I64[i], r)
				} else {
					g.index[string(key)] = r
				}
				br.key = string(key)
				head = r
			} else {
				br.key, br.next = g.rows[head].key, g.rows[head].next
				g.rows[head].next = r
			}
			g.rows = append(g.rows, br)
		}
		before := g.rows[r].n
		g.rows[r].n += w
		if g.mirror.on {
			g.mirror.write(int(r), g.rows[r].n, changes, i, newRow, len(g.rows))
		}
		switch after := g.rows[r].n; {
		case before > 0 && after <= 0:
			zero++
		case before <= 0 && after > 0:
			zero--
		}
		// A key touched just before (a group's old row, retracted right before its new
		// row is inserted) is listed once: what reads the list takes a key's first touch
		// (its row, whether it was fresh). The rows of a key share its key's bytes, so
		// the check compares pointers, not bytes a cache miss away.
		k := g.rows[r].key
		if n := len(touched.keys); n > first && unsafe.StringData(touched.keys[n-1]) == unsafe.StringData(k) && len(touched.keys[n-1]) == len(k) {
			continue
		}
		touched.keys = append(touched.keys, k)
		touched.rows = append(touched.rows, g.rows[r].row)
		if keepFresh {
			touched.fresh = append(touched.fresh, fresh)
		}
	}
	if zero > 0 {
		g.compact(touched.keys[first:])
	}
}

// appendRows folds changes that only insert into an unindexed bag, and lists the rows
// it added in touched.appended. A large batch becomes a chunk as it is (the caller
// does not modify it afterwards); a small one is appended to the tail.
func (g *bag) appendRows(changes *delta.Batch, touched *touchedRows) {
	zeros := slices.Contains(changes.Weights, 0)
	if n := changes.Len(); n >= keepBatchRows && !zeros {
		g.chunks = append(g.chunks, changes)
		g.chunkRows += n
		touched.appended = append(touched.appended, changes)
		return
	}
	if g.tail == nil || g.tail.Len()+changes.Len() > tailRows {
		g.tail = delta.New(g.kinds)
		g.chunks = append(g.chunks, g.tail)
	}
	from := g.tail.Len()
	if zeros {
		for i, w := range changes.Weights {
			if w != 0 {
				g.tail.AppendFrom(changes, i, w)
			}
		}
	} else {
		g.tail.AppendBatch(changes, 1)
	}
	if to := g.tail.Len(); to > from {
		g.chunkRows += to - from
		touched.appended = append(touched.appended, g.tail.Window(from, to))
	}
}

// compact removes the rows of keys whose multiplicity is no longer positive: it unlinks
// them from their chains, then fills each hole with the last row.
func (g *bag) compact(keys []string) {
	var dead []int32
	for _, k := range keys {
		p, ok := g.first(k)
		if !ok {
			continue
		}
		prev := int32(-1)
		for x := p; x >= 0; {
			next := g.rows[x].next
			if g.rows[x].n > 0 {
				prev = x
			} else {
				switch {
				case prev >= 0:
					g.rows[prev].next = next
				case next >= 0:
					g.setFirst(k, next)
				default:
					g.unindex(k)
				}
				dead = append(dead, x)
			}
			x = next
		}
	}
	// From the highest hole down, every row after the hole is held: the last one moves in.
	slices.Sort(dead)
	for i := len(dead) - 1; i >= 0; i-- {
		d, last := dead[i], int32(len(g.rows)-1)
		if d != last {
			g.move(last, d)
		}
		g.rows[last] = bagRow{}
		g.rows = g.rows[:last]
		if g.mirror.on {
			g.mirror.move(int(last), int(d))
		}
	}
}

// move puts the held row at position from at position to, which is free.
func (g *bag) move(from, to int32) {
	r := g.rows[from]
	if p, _ := g.first(r.key); p == from {
		g.setFirst(r.key, to)
	} else {
		for x := p; ; x = g.rows[x].next {
			if g.rows[x].next == from {
				g.rows[x].next = to
				break
			}
		}
	}
	g.rows[to] = r
}

// current appends to dst every row of key with its multiplicity now, or, when the key
// has none, like (a row the key had) with multiplicity 0.
func (g *bag) current(dst []countedRow, key string, like []delta.Value) []countedRow {
	g = g.partOf(key)
	g.buildIndex()
	n := len(dst)
	if p, ok := g.first(key); ok {
		for ; p >= 0; p = g.rows[p].next {
			dst = append(dst, countedRow{Values: g.rows[p].row, N: g.rows[p].n})
		}
	}
	if len(dst) == n {
		dst = append(dst, countedRow{Values: like})
	}
	return dst
}

// bagRows are the rows of a bag's touched keys as a flush found them: each with its
// multiplicity then, or with 0 for a key that had none left. fresh[i], when fresh is set,
// says that the store holds no row of row i's key (touchedRows).
//
// appended are batches of rows an unindexed bag appended (touchedRows.appended), which
// the store does not hold: they are inserted first, and then the touched keys rewritten.
type bagRows struct {
	kinds    []delta.Kind
	key      []int // the bag's key columns; nil: the whole row
	rows     []countedRow
	fresh    []bool
	appended []*delta.Batch
}

// writeBag mirrors touched rows into rel's DuckDB table: every row with the key of a
// touched row is deleted, then the rows the keys have now are inserted (a row held n
// times, n times). For a bag keyed by the whole row, that is every copy of each touched
// row; for one keyed by a view's unique key, the same rows (the row a key had is
// touched too, being retracted) found by fewer, narrower columns. Rows an unindexed bag
// appended go in first, as they are: a key touched since is deleted with them and
// written again whole.
func writeBag(tx storeWriter, rel *catalog.Relation, touched *bagRows) error {
	if len(touched.appended) > 0 {
		if err := tx.InsertBatches(rel, touched.appended); err != nil {
			return err
		}
	}
	if len(touched.rows) == 0 {
		return nil
	}
	b := delta.New(touched.kinds)
	b.Grow(len(touched.rows))
	for _, r := range touched.rows {
		b.AppendRow(r.Values, r.N)
	}
	key := touched.key
	if key == nil {
		key = make([]int, len(rel.Columns))
		for i := range key {
			key[i] = i
		}
	}
	stored := b // the rows whose keys the store may hold
	if touched.fresh != nil {
		stored = delta.New(touched.kinds)
		for i, r := range touched.rows {
			if !touched.fresh[i] {
				stored.AppendRow(r.Values, 1)
			}
		}
	}
	if stored.Len() > 0 {
		if err := tx.DeleteMatching(rel, key, touchedKeys(stored, key)); err != nil {
			return err
		}
	}
	live := delta.New(b.Kinds())
	for i := 0; i < b.Len(); i++ {
		switch w := b.Weights[i]; {
		case w > 0:
			live.AppendFrom(b, i, w)
		case w < 0:
			return sqlerr.New(sqlerr.Internal, "internal error: %s would hold a row %d times", rel.Name, w)
		}
	}
	return tx.Insert(rel, live)
}

// touchedKeys returns the distinct values of the key columns of the touched rows, as a
// batch of those columns.
func touchedKeys(touched *delta.Batch, key []int) *delta.Batch {
	kinds := make([]delta.Kind, len(key))
	for j, c := range key {
		kinds[j] = touched.Cols[c].Kind
	}
	out := delta.New(kinds)
	if v := &touched.Cols[key[0]]; len(key) == 1 && v.Kind == delta.KindInt && v.Nulls == nil {
		// One integer key without NULLs (a GROUP BY of a bigint): the values themselves.
		seen := make(map[int64]struct{}, touched.Len()/2)
		for _, x := range v.I64 {
			if _, dup := seen[x]; !dup {
				seen[x] = struct{}{}
				out.Cols[0].I64 = append(out.Cols[0].I64, x)
				out.Weights = append(out.Weights, 1)
			}
		}
		return out
	}
	seen := make(map[string]struct{}, touched.Len()/2)
	var enc []byte
	for i := 0; i < touched.Len(); i++ {
		enc = enc[:0]
		for _, c := range key {
			enc = touched.Cols[c].AppendKeyAt(enc, i)
		}
		if _, dup := seen[string(enc)]; dup {
			continue
		}
		seen[string(enc)] = struct{}{}
		for j, c := range key {
			out.Cols[j].AppendAt(&touched.Cols[c], i)
		}
		out.Weights = append(out.Weights, 1)
	}
	return out
}

// errorsRel is the system table of the row errors that stand in the views: a row that hit
// a data exception (division by zero, overflow, a bad cast) in a view's dataflow is set
// aside, and listed here until it is retracted.
var errorsRel = &catalog.Relation{Name: viewstore.ErrorsTable, Kind: catalog.Table, Columns: []catalog.Column{
	{Name: "view", Type: catalog.Text}, {Name: "operator", Type: catalog.Text}, {Name: "code", Type: catalog.Text},
	{Name: "message", Type: catalog.Text}, {Name: "input", Type: catalog.Text},
}}

// withView prefixes every row of a dataflow's error batch with the view's name.
func withView(name string, errs *delta.Batch) *delta.Batch {
	out := delta.New(relKinds(errorsRel))
	var row []delta.Value
	for i := 0; i < errs.Len(); i++ {
		row = errs.Row(i, row)
		// The error table lists the operator, SQLSTATE, message and input; the node ID
		// the dataflow adds is internal.
		out.AppendRow(append([]delta.Value{delta.Str(name)}, row[:4]...), errs.Weights[i])
	}
	return out
}

// operatorsRel is the system table of the dataflow's operators with their counters (the
// table form of EXPLAIN MATERIALIZED VIEW): one row per operator, listing the views that
// use it, so an operator shared by several views appears once.
var operatorsRel = &catalog.Relation{Name: viewstore.OperatorsTable, Kind: catalog.Table, Columns: []catalog.Column{
	{Name: "node", Type: catalog.Int8}, {Name: "operator", Type: catalog.Text}, {Name: "inputs", Type: catalog.Text},
	{Name: "views", Type: catalog.Text}, {Name: "rows_in", Type: catalog.Int8}, {Name: "rows_out", Type: catalog.Int8},
	{Name: "state_rows", Type: catalog.Int8},
}}

// syncOperators brings the operators table up to date: when any operator's counters
// or users changed since the last call (or operators were added or removed), the
// table is rewritten whole, in two statements; it holds a row per operator, and most of
// them change on every tick anyway. It runs inside every tick's transaction.
func (d *DB) syncOperators(tx storeWriter) error {
	g := d.graph
	fresh := g.operatorRows()
	g.pending = fresh
	if g.written != nil && len(g.written) == len(fresh) {
		same := true
		for id, row := range fresh {
			if old, ok := g.written[id]; !ok || delta.RowKey(old) != delta.RowKey(row) {
				same = false
				break
			}
		}
		if same {
			return nil
		}
	}
	// A new graph, a commit that failed (the table's rows are unknown), or changes.
	if err := tx.Truncate(operatorsRel); err != nil {
		return err
	}
	all := delta.New(relKinds(operatorsRel))
	for _, row := range fresh {
		all.AppendRow(row, 1)
	}
	return tx.Insert(operatorsRel, all)
}

// commit commits a transaction that ran syncOperators and records what the operators
// table now holds (nothing known, if the commit failed).
func (d *DB) commit(tx *viewstore.Tx, tick uint64) error {
	if err := tx.Commit(tick); err != nil {
		d.graph.written = nil
		return err
	}
	d.graph.written = d.graph.pending
	return nil
}

// operatorRows is what the operators table should hold now, by node.
func (g *graph) operatorRows() map[exec.NodeID][]delta.Value {
	rows := map[exec.NodeID][]delta.Value{}
	for id, users := range g.users {
		st := g.df.NodeStats(id)
		in := make([]string, len(st.Inputs))
		for i, x := range st.Inputs {
			in[i] = strconv.Itoa(int(x))
		}
		state := delta.Null(delta.KindInt)
		if st.Stateful {
			state = delta.Int(st.StateRows)
		}
		rows[id] = []delta.Value{delta.Int(int64(id)), delta.Str(st.Name), delta.Str(strings.Join(in, ",")),
			delta.Str(strings.Join(users, ",")), delta.Int(st.RowsIn), delta.Int(st.RowsOut), state}
	}
	return rows
}
