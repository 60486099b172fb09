package exec

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

var _ Operator = (*TopN)(nil)

// SortKey is one ORDER BY item of a TopN: input column Col, descending if Desc, with
// NULLs before all other values if NullsFirst. The planner resolves PostgreSQL's default
// (NULLS LAST for ASC, NULLS FIRST for DESC); TopN obeys the flag as given.
type SortKey struct {
	Col        int
	Desc       bool
	NullsFirst bool
}

// String renders "#1 DESC", adding NULLS FIRST or NULLS LAST only where it is not
// PostgreSQL's default for the direction.
func (k SortKey) String() string {
	s := colName(k.Col)
	if k.Desc {
		s += " DESC"
	}
	switch {
	case k.NullsFirst && !k.Desc:
		s += " NULLS FIRST"
	case !k.NullsFirst && k.Desc:
		s += " NULLS LAST"
	}
	return s
}

// RankKind is how a TopN numbers the rows of a partition.
type RankKind uint8

// The numberings, as the window functions of the same names.
const (
	RowNumber RankKind = iota // row_number(): 1, 2, 3, … even for ties
	Rank                      // rank(): ties share a number, with gaps after them (1, 1, 3)
	DenseRank                 // dense_rank(): ties share a number, without gaps (1, 1, 2)
)

// String is the SQL name of k.
func (k RankKind) String() string {
	switch k {
	case RowNumber:
		return "row_number"
	case Rank:
		return "rank"
	case DenseRank:
		return "dense_rank"
	}
	return "rank?"
}

// TopN is an incremental per-partition top-N: ORDER BY … LIMIT … OFFSET …, and
// `SELECT …, row_number() OVER (PARTITION BY … ORDER BY …) AS rn … WHERE rn <= N` with
// rank and dense_rank as well.
//
// Rows are grouped into partitions by the partition columns (NULLs together, as in
// PARTITION BY; no columns: one partition) and numbered within each in sort-key order.
// Rows whose sort keys compare equal are peers: rank and dense_rank give them the same
// number. Values compare as delta.Compare (floats with NaN greatest, text bytewise), with
// NULLs placed by each SortKey's NullsFirst. Among peers, the row_number order is decided
// by the whole row's encoding (delta.Batch.AppendKey) compared bytewise: arbitrary, but
// the same on every run and for every history of the input, so row_number is a function
// of the input multiset. A row of multiplicity n takes n consecutive positions.
//
// With RowNumber, the rows at 1-based positions offset+1 to offset+limit are kept; with
// Rank and DenseRank (offset must be 0), the rows numbered at most limit, so ties at the
// boundary may keep more than limit rows. A negative limit keeps every row from the
// offset on. The output row is the input row, followed with rankCol by an integer column
// holding its number (each copy of a duplicated row gets its own row_number, so copies
// become distinct output rows).
//
// Each partition keeps its live rows sorted by (sort key, encoding), in chunks of at
// most 256 rows (sortedRows): a change costs two binary searches (O(log p) comparisons)
// plus moving at most a chunk's 16-byte slots, for a partition of p distinct rows. Push
// only updates the chunks and marks the partition dirty; Advance recomputes each dirty
// partition's kept rows, walking them from the start up to the last kept row (O(offset + limit) rows, more with ties; all of them
// without a limit), diffs them against what it last emitted for the partition, and emits
// the difference, so the output of a tick is consolidated and only dirty partitions are
// visited. A partition with neither rows nor output is freed.
type TopN struct {
	in        []delta.Kind
	partition []int
	rowOrder  // the sort keys
	limit     int64
	offset    int64
	rank      RankKind
	rankCol   bool
	outKinds  []delta.Kind
	err       *sqlerr.Error // configuration error, returned by every call

	// Invariant: every partition in parts has rows or shown output, or is dirty.
	parts map[string]*topPartition
	dirty []*topPartition // partitions changed since the last Advance, in the order they changed

	keyBuf []byte        // scratch: partition key encoding
	encBuf []byte        // scratch: row encoding
	row    []delta.Value // scratch: the pushed row
	out    []delta.Value // scratch: an output row
	next   []topOut      // scratch: a partition's new output

	expiry    *Expiry     // when set, partitions of closed windows are forgotten
	expiryIdx expiryIndex // partition keys by closing time
}

// SetExpiry makes the TopN forget a partition once the watermark closes the window its
// partition column e.Col names (which must be a partition column). Its kept rows stay
// emitted: closed windows never change.
func (t *TopN) SetExpiry(e Expiry) {
	if !slices.Contains(t.partition, e.Col) {
		t.err = configError("TopN", "expiry column %d is not a partition column", e.Col)
		return
	}
	t.expiry = &e
}

// topPartition is the state of one partition.
type topPartition struct {
	partHead
	rows  sortedRows // the live rows, sorted by TopN.compare; Invariant: n != 0
	shown []topOut   // the output emitted so far, in the same order
}

func newTopPartition(key string) *topPartition { return &topPartition{partHead: partHead{key: key}} }

type topRow struct {
	enc  string        // delta.AppendKey encoding, the tiebreak among peers
	vals []delta.Value // the input row; never modified once stored
	n    int64
}

// add adds w to the row's multiplicity and returns the new one.
func (r *topRow) add(w int64) int64 { r.n += w; return r.n }

// topOut is one output row: an input row and its number, with a multiplicity.
type topOut struct {
	enc  string
	vals []delta.Value // shared with the topRow it came from
	num  int64         // its row_number, rank or dense_rank with rankCol, else 0
	n    int64
}

// NewTopN returns a TopN over input columns of kinds in, partitioned by the partition
// columns and ordered by order, that keeps the rows at positions offset+1 to
// offset+limit (RowNumber) or with a rank up to limit (Rank, DenseRank; offset must be
// 0). A negative limit means no limit. With rankCol the output has one more column, an
// integer holding the row's number. A configuration error (a column out of range, an
// offset with Rank) is returned (XX000) by the first Push or Advance.
func NewTopN(in []delta.Kind, partition []int, order []SortKey, limit, offset int64, rank RankKind, rankCol bool) *TopN {
	t := &TopN{
		in:        slices.Clone(in),
		partition: slices.Clone(partition),
		rowOrder:  newRowOrder(in, order),
		limit:     limit,
		offset:    offset,
		rank:      rank,
		rankCol:   rankCol,
		outKinds:  slices.Clone(in),
		parts:     make(map[string]*topPartition),
	}
	if rankCol {
		t.outKinds = append(t.outKinds, delta.KindInt)
	}
	t.err = checkCols("TopN", "partition", partition, len(in))
	for _, k := range order {
		if t.err == nil {
			t.err = checkCols("TopN", "sort", []int{k.Col}, len(in))
		}
	}
	switch {
	case t.err != nil:
	case rank > DenseRank:
		t.err = configError("TopN", "unknown rank kind %d", rank)
	case offset < 0:
		t.err = configError("TopN", "negative offset %d", offset)
	case offset != 0 && rank != RowNumber:
		t.err = configError("TopN", "offset %d with %s", offset, rank)
	}
	return t
}

// rowOrder is the order of a partition's rows, for TopN and WindowAgg: the sort keys,
// then the whole row's encoding among peers.
type rowOrder struct {
	order []SortKey
	// digest: prefix digests the first sort key, of kind key (integers, with
	// timestamps and dates; floats; numerics).
	digest bool
	key    delta.Kind
}

// newRowOrder returns the order of rows of kinds in by the sort keys order.
func newRowOrder(in []delta.Kind, order []SortKey) rowOrder {
	o := rowOrder{order: slices.Clone(order)}
	if len(order) > 0 && order[0].Col >= 0 && order[0].Col < len(in) {
		switch k := in[order[0].Col]; k {
		case delta.KindInt, delta.KindFloat, delta.KindNumeric:
			o.digest, o.key = true, k
		}
	}
	return o
}

// prefix digests row's first sort key into an integer that orders as the key does:
// prefix(a) < prefix(b) means a comes before b, and peers have equal prefixes; equal
// prefixes say nothing more. A partition's rows keep theirs beside them (rowSlot.pre),
// so a binary search compares integers held in the chunk it walks rather than chasing
// each row's values (a cache miss each: most of a TopN's time, ranking a HOP
// aggregate's 200 rooms in each of 30 windows) and comparing them (for a numeric, its
// decimal text: most of the time of a TopN over sum(bigint)). Integers digest exactly;
// floats and numerics through their float64 value, which rounds distinct values
// together but never out of order. Without such a first key every prefix is 0.
func (t *rowOrder) prefix(row []delta.Value) uint64 {
	if !t.digest {
		return 0
	}
	k := t.order[0]
	x := row[k.Col]
	if x.Null {
		if k.NullsFirst {
			return 0
		}
		return math.MaxUint64
	}
	var u uint64
	switch t.key {
	case delta.KindInt:
		u = uint64(x.I) ^ 1<<63 // signed order as unsigned
	case delta.KindFloat:
		u = floatPrefix(x.F)
	default:
		u = floatPrefix(numericFloat(x.S))
	}
	if k.Desc {
		u = ^u
	}
	return u
}

// numericFloat is the float64 nearest the numeric of canonical text s (both paths round
// to nearest, so equal values give equal floats and larger ones no smaller floats). The
// text is digits with a sign and a point (delta.KindNumeric), which ParseFloat always
// reads; beyond float64's range it is ±Inf, which still orders.
func numericFloat(s string) float64 {
	if n, ok := delta.NumericInt(s); ok {
		return float64(n)
	}
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// floatPrefix maps f to an integer in delta.Compare's order: -Inf < … < -0 = 0 < … <
// +Inf < NaN, every NaN the same.
func floatPrefix(f float64) uint64 {
	switch {
	case math.IsNaN(f):
		return math.MaxUint64
	case f == 0:
		f = 0 // -0 is 0
	}
	b := math.Float64bits(f)
	if b>>63 != 0 {
		return ^b // negative: a larger magnitude comes first
	}
	return b | 1<<63
}

// compareOrder orders two rows by the sort keys alone: 0 means they are peers.
func (t *rowOrder) compareOrder(a, b []delta.Value) int {
	for _, k := range t.order {
		x, y := a[k.Col], b[k.Col]
		switch {
		case x.Null && y.Null:
			continue
		case x.Null || y.Null:
			if x.Null == k.NullsFirst {
				return -1
			}
			return 1
		}
		c := delta.Compare(x, y)
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// compare is the total order of a partition: the sort keys, then the row encoding.
func (t *rowOrder) compare(aVals []delta.Value, aEnc string, bVals []delta.Value, bEnc string) int {
	if c := t.compareOrder(aVals, bVals); c != 0 {
		return c
	}
	return strings.Compare(aEnc, bEnc)
}

// Push applies the rows of b to their partitions and marks them dirty; it emits nothing.
func (t *TopN) Push(_ context.Context, in int, b *delta.Batch, _ *delta.Batch) error {
	if t.err != nil {
		return t.err
	}
	if in != 0 {
		return portError("TopN", in)
	}
	for i, w := range b.Weights {
		if w == 0 {
			continue
		}
		t.keyBuf, _ = appendRowKey(t.keyBuf[:0], b, i, t.partition)
		p, created := partitionOf(t.parts, &t.dirty, t.keyBuf, newTopPartition)
		if created && t.expiry != nil {
			t.expiryIdx.add(t.expiry.closesAt(b.Cols[t.expiry.Col].Get(i)), p.key)
		}
		t.row = b.Row(i, t.row)
		t.encBuf = b.AppendKey(t.encBuf[:0], i)
		p.rows.add(&t.rowOrder, t.row, t.encBuf, w)
	}
	return nil
}

// end returns the last position RowNumber keeps, or MaxInt64 without a limit.
func (t *TopN) end() int64 {
	if t.limit < 0 || t.limit > math.MaxInt64-t.offset {
		return math.MaxInt64
	}
	return t.offset + t.limit
}

// kept computes the output of partition p into t.next.
func (t *TopN) kept(p *topPartition) {
	clear(t.next)
	t.next = t.next[:0]
	end := t.end()
	var pos, rank, dense int64 // rows before the current one; its rank and dense_rank
	var prev []delta.Value
	for _, r := range p.rows.all {
		if r.n < 0 {
			continue // only with invalid input: such a row takes no position
		}
		if prev == nil || t.compareOrder(prev, r.vals) != 0 {
			rank, dense = pos+1, dense+1
		}
		prev = r.vals
		switch t.rank {
		case RowNumber:
			if pos >= end {
				return
			}
			// Its copies take positions pos+1 to pos+r.n; keep those in (offset, end].
			first, last := max(pos, t.offset)+1, min(pos+r.n, end)
			switch {
			case pos+r.n <= t.offset, first > last:
			case t.rankCol:
				for k := first; k <= last; k++ {
					t.next = append(t.next, topOut{enc: r.enc, vals: r.vals, num: k, n: 1})
				}
			default:
				t.next = append(t.next, topOut{enc: r.enc, vals: r.vals, n: last - first + 1})
			}
		case Rank, DenseRank:
			num := rank
			if t.rank == DenseRank {
				num = dense
			}
			if t.limit >= 0 && num > t.limit {
				return
			}
			o := topOut{enc: r.enc, vals: r.vals, n: r.n}
			if t.rankCol {
				o.num = num
			}
			t.next = append(t.next, o)
		}
		pos += r.n
	}
}

// Advance emits, for every partition dirtied since the last Advance, the difference
// between its kept rows and the rows it last emitted.
func (t *TopN) Advance(_ context.Context, tk Tick, out *delta.Batch) error {
	if t.err != nil {
		return t.err
	}
	if t.expiry != nil {
		defer t.expiryIdx.expire(tk.Watermark(t.expiry.Sources...), func(key string) {
			if p, ok := t.parts[key]; ok && !p.dirty {
				delete(t.parts, key)
			}
		})
	}
	for i, p := range t.dirty {
		t.dirty[i] = nil
		p.dirty = false
		t.kept(p)
		t.diff(p.shown, t.next, out)
		clear(p.shown)
		p.shown = append(p.shown[:0], t.next...)
		if p.rows.len() == 0 && len(p.shown) == 0 {
			delete(t.parts, p.key)
		}
	}
	clear(t.next)
	t.next = t.next[:0]
	t.dirty = t.dirty[:0]
	return nil
}

// diff appends next - old to out. Both are sorted by (partition order, number), so one
// merge pass finds the rows that left, arrived or changed multiplicity.
func (t *TopN) diff(old, next []topOut, out *delta.Batch) {
	i, j := 0, 0
	for i < len(old) || j < len(next) {
		var c int
		switch {
		case i == len(old):
			c = 1
		case j == len(next):
			c = -1
		default:
			if c = t.compare(old[i].vals, old[i].enc, next[j].vals, next[j].enc); c == 0 {
				c = cmpInt(old[i].num, next[j].num)
			}
		}
		switch {
		case c < 0:
			t.emit(old[i], -old[i].n, out)
			i++
		case c > 0:
			t.emit(next[j], next[j].n, out)
			j++
		default:
			if d := next[j].n - old[i].n; d != 0 {
				t.emit(next[j], d, out)
			}
			i++
			j++
		}
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (t *TopN) emit(o topOut, w int64, out *delta.Batch) {
	t.out = append(t.out[:0], o.vals...)
	if t.rankCol {
		t.out = append(t.out, delta.Int(o.num))
	}
	out.AppendRow(t.out, w)
}

// String renders "TopN(partition=#0; order=#1 DESC, #2; row_number <= 10)", with
// "5 < row_number <= 15" for an offset and " as #3" when the number is output.
func (t *TopN) String() string {
	var parts []string
	if len(t.partition) > 0 {
		parts = append(parts, "partition="+colList(t.partition))
	}
	if len(t.order) > 0 {
		keys := make([]string, len(t.order))
		for i, k := range t.order {
			keys[i] = k.String()
		}
		parts = append(parts, "order="+strings.Join(keys, ", "))
	}
	keep := t.rank.String()
	if t.offset != 0 {
		keep = strconv.FormatInt(t.offset, 10) + " < " + keep
	}
	if t.limit >= 0 {
		keep += " <= " + strconv.FormatInt(t.end(), 10)
	}
	if t.rankCol {
		keep += " as " + colName(len(t.in))
	}
	parts = append(parts, keep)
	return "TopN(" + strings.Join(parts, "; ") + ")"
}

// OutKinds is the input's kinds, followed by an integer with rankCol.
func (t *TopN) OutKinds() []delta.Kind { return t.outKinds }

func (t *TopN) inKinds() [][]delta.Kind { return [][]delta.Kind{t.in} }
