package exec

import (
	"context"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/decimal"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

var _ Operator = (*HashAggregate)(nil)

// AggFunc is an aggregate function a HashAggregate maintains.
type AggFunc uint8

// The aggregate functions. All of them stay correct under retractions.
const (
	AggCountStar AggFunc = iota // count(*): the total weight of the group
	AggCount                    // count(x): the weight of non-NULL x
	AggSum                      // sum(x): NULL without non-NULL input
	AggAvg                      // avg(x): sum/count as double precision
	AggMin                      // min(x)
	AggMax                      // max(x)
)

// String is the SQL name of f.
func (f AggFunc) String() string {
	switch f {
	case AggCountStar, AggCount:
		return "count"
	case AggSum:
		return "sum"
	case AggAvg:
		return "avg"
	case AggMin:
		return "min"
	case AggMax:
		return "max"
	}
	return "agg?"
}

// AggSpec describes one aggregate of a HashAggregate.
//
// Arg is the input column (-1 for count(*)). Distinct counts each distinct non-NULL value
// once (count/sum/avg(DISTINCT x)); it does not change min and max. ArgType is the
// logical type of the argument and ResultType that of the result; either may be left
// catalog.Unknown, and is then derived: ArgType from the input column's kind (bigint,
// double precision, text, boolean), ResultType as PostgreSQL would for count (bigint),
// avg (double precision) and min/max (ArgType), and as Weir does for sum (bigint for
// integer arguments, double precision for floating-point ones).
type AggSpec struct {
	Func                AggFunc
	Arg                 int
	Distinct            bool
	ArgType, ResultType catalog.Type
}

// String renders the call as EXPLAIN shows it: "count(*)", "sum(DISTINCT #1)".
func (s AggSpec) String() string {
	if s.Func == AggCountStar {
		return "count(*)"
	}
	d := ""
	if s.Distinct {
		d = "DISTINCT "
	}
	return s.Func.String() + "(" + d + colName(s.Arg) + ")"
}

// HashAggregate is an incremental GROUP BY. Its output row is the group column values
// followed by one value per aggregate.
//
// Groups follow SQL GROUP BY (NULLs group together) and a group exists while its total
// input weight is positive. Push only accumulates and marks groups dirty; Advance emits,
// for each dirty group in the order it became dirty, a retraction of the row it last
// emitted (if any) and an insertion of its new row (if the group still exists), and
// nothing when the row is unchanged. A group whose state has returned to empty is
// forgotten, so the state is bounded by the live groups.
//
// With no group columns (a global aggregate) there is exactly one output row at all
// times, emitted by the first Advance even without input: count 0 and NULL for the
// other aggregates over no rows.
//
// Sums are exact (see sum.go): bigint sums are checked against their result type when a
// row is produced and raise 22003 "bigint out of range" then; double precision sums are
// rounded once from the exact sum and raise 22003 "value out of range: overflow" when
// that overflows. min and max keep a multiset value -> count per group and rescan it only
// when the current extreme was retracted; the DISTINCT aggregates keep the same multiset
// and count a value while its count is positive.
type HashAggregate struct {
	in        []delta.Kind
	groupCols []int
	aggs      []aggPlan
	setCols   []int   // input column of each per-group multiset
	setUsers  [][]int // aggregates (indexes into aggs) fed by each multiset
	outKinds  []delta.Kind
	err       *sqlerr.Error // configuration error, returned by every call

	// Invariant: every group in groups is live (non-empty state) or dirty or global.
	groups   groupTable
	dense    *denseGroups // the groups instead of groups, when they fit (hashagg_dense.go)
	setCount int64        // the distinct values in all groups' multisets, for StateRows
	dirty    []*group     // groups changed since the last Advance, in the order they changed
	global   bool         // no group columns: the one group always exists

	keyBuf      []byte        // scratch: group key encoding
	blockGroups []*group      // scratch: the groups of a block of rows (pushBlock)
	touched     int64         // pushBlock's reads of its groups, summed so that they are not dropped
	newKey      []delta.Value // scratch: a new group's key (newGroup copies it)
	valBuf      []byte        // scratch: multiset value encoding
	row         []delta.Value // scratch: output row
	lastRow     []delta.Value // scratch: a group's emitted row (emittedRow)
	keyRow      []delta.Value // scratch: a dense group's key (denseKey)
	oldRow      []delta.Value // scratch: a dense group's retracted row (retractDense)
	tmp         big.Float     // scratch for fsum.add

	errs *rowErrors // where data exceptions go, when run in a Dataflow

	insertOnly bool // InsertOnly: min/max keep the extreme only
	noDense    bool // keep every group as a *group (tests compare the two)

	expiry    *Expiry     // when set, groups of closed windows are forgotten
	expiryKey int         // the position of expiry.Col among the group columns
	expiryIdx expiryIndex // group encodings by closing time
}

// SetExpiry makes the aggregate forget a group's state once the watermark closes the
// window its group column e.Col names (which must be a group column). The group's last
// row stays emitted: closed windows never change, so it is never retracted.
func (h *HashAggregate) SetExpiry(e Expiry) {
	at := slices.Index(h.groupCols, e.Col)
	if at < 0 {
		h.err = configError("HashAggregate", "expiry column %d is not a group column", e.Col)
		return
	}
	h.expiry, h.expiryKey = &e, at
	h.dense = nil // set before any input: there are no groups yet
}

func (h *HashAggregate) setErrors(e *rowErrors) { h.errs = e }

// aggPlan is an AggSpec resolved against the input.
type aggPlan struct {
	spec    AggSpec
	float   bool       // the argument is floating point (sum, avg)
	numeric bool       // the argument is numeric (sum, avg)
	ival    bool       // the argument is an interval (sum, avg)
	resKind delta.Kind // kind of the result column
	set     int        // index of the multiset feeding this aggregate, or -1
}

// group is the state of one group.
type group struct {
	enc   string        // key encoding, the groups map key
	key   []delta.Value // group column values
	n     int64         // total input weight (count(*))
	aggs  []aggState
	sets  []valueSet // per setCols
	dirty bool

	emitted bool          // the group's row is emitted and not retracted: its key and last
	last    []delta.Value // the aggregate values of the emitted row

	failed error // the data exception the group's row last hit (it is then absent), if any

	// Room for aggs in the group's own allocation, when they fit: a push then finds a
	// group's state in one place in memory rather than two.
	aggsIn [2]aggState
}

// aggState is the running state of one aggregate in one group. Which fields are used
// depends on the function: count and sums over integers need only n and isum, so the
// state the other functions need is in x, allocated when first needed (ext).
type aggState struct {
	n    int64  // count/sum/avg: weight of non-NULL inputs; DISTINCT: number of distinct values
	isum int128 // sum/avg over integers
	x    *aggExt
}

// aggExt is the state of sums over floats, numerics and intervals, and of min and max.
type aggExt struct {
	fsum  fsum   // sum/avg over floats
	nsum  *nsum  // sum/avg over numerics; nil until the first input
	ivsum *ivsum // sum/avg over intervals; nil until the first input
	best  delta.Value
	stale bool // min/max: best was retracted and must be recomputed from the multiset
}

// ext returns st's extended state, allocating it the first time.
func (st *aggState) ext() *aggExt {
	if st.x == nil {
		st.x = &aggExt{}
	}
	return st.x
}

// NewHashAggregate returns a HashAggregate over input columns of kinds in, grouping by
// groupCols and computing aggs (see AggSpec for how types are derived). A configuration
// error (column out of range, sum over text, …) is returned (XX000) by the first Push or
// Advance.
func NewHashAggregate(in []delta.Kind, groupCols []int, aggs []AggSpec, opts ...AggOption) *HashAggregate {
	h := &HashAggregate{
		in:        slices.Clone(in),
		groupCols: slices.Clone(groupCols),
		global:    len(groupCols) == 0,
	}
	for _, o := range opts {
		o(h)
	}
	h.groups = newGroupTable(intKeyCols(in, groupCols), 0)
	if err := checkCols("HashAggregate", "group", groupCols, len(in)); err != nil {
		h.err = err
	}
	for _, c := range groupCols {
		if c >= 0 && c < len(in) {
			h.outKinds = append(h.outKinds, in[c])
		} else {
			h.outKinds = append(h.outKinds, delta.KindInt)
		}
	}
	for _, s := range aggs {
		p, err := h.resolve(s)
		if err != nil && h.err == nil {
			h.err = err
		}
		h.aggs = append(h.aggs, p)
		h.outKinds = append(h.outKinds, p.resKind)
	}
	if !h.noDense {
		h.dense = newDenseGroups(h)
	}
	if h.global {
		g := h.newGroup("", nil)
		h.groups.put(g)
		g.dirty = true
		h.dirty = append(h.dirty, g)
	}
	return h
}

// An AggOption configures a HashAggregate.
type AggOption func(*HashAggregate)

// InsertOnly declares that the aggregate's input only ever inserts rows (its input is
// an append-only source through filters, projections, window assignment and inner
// joins): min and max then keep only the extreme so far in each group, not the multiset
// of values that lets them survive a retraction. A retraction reaching such a min or
// max fails the tick with an internal error (XX000) rather than leaving it wrong.
func InsertOnly() AggOption { return func(h *HashAggregate) { h.insertOnly = true } }

// noDenseGroups keeps every group as a *group even when they would fit denseGroups.
func noDenseGroups() AggOption { return func(h *HashAggregate) { h.noDense = true } }

// resolve fills in the types of s and assigns it a multiset if it needs one.
func (h *HashAggregate) resolve(s AggSpec) (aggPlan, *sqlerr.Error) {
	p := aggPlan{spec: s, set: -1}
	if s.Func == AggCountStar {
		p.spec.Arg, p.spec.Distinct = -1, false
		p.resKind = resultType(&p.spec, delta.KindInt).Kind()
		return p, nil
	}
	if s.Func > AggMax {
		p.resKind = delta.KindInt
		return p, configError("HashAggregate", "unknown aggregate function %d", s.Func)
	}
	if s.Arg < 0 || s.Arg >= len(h.in) {
		p.resKind = resultType(&p.spec, delta.KindInt).Kind()
		return p, configError("HashAggregate", "%s: argument column %d out of range (input has %d columns)", s, s.Arg, len(h.in))
	}
	kind := h.in[s.Arg]
	if p.spec.ArgType == catalog.Unknown {
		p.spec.ArgType = defaultType(kind)
	}
	p.resKind = resultType(&p.spec, kind).Kind()
	p.float = kind == delta.KindFloat
	p.numeric = kind == delta.KindNumeric
	p.ival = kind == delta.KindInterval
	if s.Distinct || (s.Func == AggMin || s.Func == AggMax) && !h.insertOnly {
		p.set = slices.Index(h.setCols, s.Arg)
		if p.set < 0 {
			p.set = len(h.setCols)
			h.setCols = append(h.setCols, s.Arg)
			h.setUsers = append(h.setUsers, nil)
		}
		h.setUsers[p.set] = append(h.setUsers[p.set], len(h.aggs))
	}
	if p.spec.ArgType.Kind() != kind {
		return p, configError("HashAggregate", "%s: argument type %s does not match input column kind %s", s, p.spec.ArgType, kind)
	}
	switch s.Func {
	case AggCount:
		if p.resKind != delta.KindInt {
			return p, configError("HashAggregate", "%s cannot return %s", s, p.spec.ResultType)
		}
	case AggSum, AggAvg:
		if kind != delta.KindInt && kind != delta.KindFloat && kind != delta.KindNumeric && kind != delta.KindInterval {
			return p, configError("HashAggregate", "%s over %s", s, p.spec.ArgType)
		}
		if p.ival {
			if p.resKind != delta.KindInterval {
				return p, configError("HashAggregate", "%s over %s cannot return %s", s, p.spec.ArgType, p.spec.ResultType)
			}
			break
		}
		if p.numeric && p.resKind != delta.KindNumeric {
			return p, configError("HashAggregate", "%s over %s cannot return %s", s, p.spec.ArgType, p.spec.ResultType)
		}
		numericOK := p.resKind == delta.KindNumeric && !p.float
		if !numericOK && p.resKind != delta.KindFloat && (p.resKind != delta.KindInt || p.float || s.Func == AggAvg) {
			return p, configError("HashAggregate", "%s over %s cannot return %s", s, p.spec.ArgType, p.spec.ResultType)
		}
	case AggMin, AggMax:
		if p.resKind != kind {
			return p, configError("HashAggregate", "%s over %s cannot return %s", s, p.spec.ArgType, p.spec.ResultType)
		}
	}
	return p, nil
}

// defaultType is the logical type assumed for an input column of kind k.
func defaultType(k delta.Kind) catalog.Type {
	switch k {
	case delta.KindFloat:
		return catalog.Float8
	case delta.KindString:
		return catalog.Text
	case delta.KindBool:
		return catalog.Bool
	case delta.KindNumeric:
		return catalog.Numeric
	case delta.KindInterval:
		return catalog.Interval
	case delta.KindJsonb:
		return catalog.Jsonb
	}
	return catalog.Int8
}

// resultType fills in s.ResultType if it is Unknown and returns it.
func resultType(s *AggSpec, argKind delta.Kind) catalog.Type {
	if s.ResultType != catalog.Unknown {
		return s.ResultType
	}
	switch s.Func {
	case AggCountStar, AggCount:
		s.ResultType = catalog.Int8
	case AggAvg:
		s.ResultType = catalog.Float8
		switch argKind {
		case delta.KindNumeric:
			s.ResultType = catalog.Numeric
		case delta.KindInterval:
			s.ResultType = catalog.Interval
		}
	case AggSum:
		s.ResultType = catalog.Int8
		switch argKind {
		case delta.KindFloat:
			s.ResultType = catalog.Float8
		case delta.KindNumeric:
			s.ResultType = catalog.Numeric
		case delta.KindInterval:
			s.ResultType = catalog.Interval
		}
	default:
		s.ResultType = s.ArgType
	}
	return s.ResultType
}

// newGroup returns a new group with key encoding enc and a copy of key: for a key of one
// or two columns (most), in the group's own allocation, so that a new group is one
// allocation, not two, and its key sits beside its state.
func (h *HashAggregate) newGroup(enc string, key []delta.Value) *group {
	var g *group
	switch len(key) {
	case 0:
		g = &group{}
	case 1:
		c := new(struct {
			g group
			k [1]delta.Value
		})
		g, c.g.key = &c.g, c.k[:]
	case 2:
		c := new(struct {
			g group
			k [2]delta.Value
		})
		g, c.g.key = &c.g, c.k[:]
	default:
		g = &group{key: make([]delta.Value, len(key))}
	}
	g.enc = enc
	copy(g.key, key)
	if len(h.aggs) <= len(g.aggsIn) {
		g.aggs = g.aggsIn[:len(h.aggs):len(h.aggs)]
	} else {
		g.aggs = make([]aggState, len(h.aggs))
	}
	if h.expiry != nil {
		h.expiryIdx.add(h.expiry.closesAt(key[h.expiryKey]), enc)
	}
	for i := range h.aggs {
		if f := h.aggs[i].spec.Func; f == AggMin || f == AggMax {
			g.aggs[i].ext().best = delta.Null(h.aggs[i].resKind)
		}
	}
	if n := len(h.setCols); n > 0 {
		g.sets = make([]valueSet, n)
	}
	return g
}

// Push adds the changes in b to their groups and marks them dirty; it emits nothing.
func (h *HashAggregate) Push(_ context.Context, in int, b *delta.Batch, _ *delta.Batch) error {
	if h.err != nil {
		return h.err
	}
	if in != 0 {
		return portError("HashAggregate", in)
	}
	if h.dense != nil {
		return h.pushDense(b)
	}
	for start := 0; start < b.Len(); start += pushBlockRows {
		if err := h.pushBlock(b, start, min(start+pushBlockRows, b.Len())); err != nil {
			return err
		}
	}
	return nil
}

// pushBlockRows is how many rows Push finds the groups of before it changes them.
const pushBlockRows = 256

// pushBlock is Push for rows [start, end) of b. Among many groups, finding a row's
// group and then reading it are cache misses, which the changes wait on. So the block's
// groups are found first, one row after another (no lookup waits for the one before),
// and each group found is read once in a loop of its own, where the reads do not depend
// on each other and their misses overlap; the changes then find the groups in cache.
func (h *HashAggregate) pushBlock(b *delta.Batch, start, end int) error {
	gs := h.blockGroups[:0]
	for i := start; i < end; i++ {
		var g *group
		if b.Weights[i] != 0 {
			g = h.lookup(b, i)
		}
		gs = append(gs, g)
	}
	h.blockGroups = gs
	var touch int64
	for _, g := range gs {
		if g != nil {
			touch += g.n
		}
	}
	for _, g := range gs {
		if g != nil && len(g.aggs) > 0 {
			touch += g.aggs[0].n
		}
	}
	h.touched += touch // kept, so that the reads above are not dropped
	defer clear(gs)
	for k, g := range gs {
		i := start + k
		w := b.Weights[i]
		if w == 0 {
			continue
		}
		if g == nil {
			g = h.lookup(b, i) // an earlier row of the block may have made it
		}
		if g == nil {
			h.keyBuf, _ = appendRowKey(h.keyBuf[:0], b, i, h.groupCols)
			h.newKey = h.newKey[:0]
			for _, c := range h.groupCols {
				h.newKey = append(h.newKey, b.Cols[c].Get(i))
			}
			g = h.newGroup(string(h.keyBuf), h.newKey)
			h.groups.put(g)
		}
		if !g.dirty {
			g.dirty = true
			h.dirty = append(h.dirty, g)
		}
		g.n += w
		for a := range h.aggs {
			p := &h.aggs[a]
			if p.set >= 0 || p.spec.Func == AggCountStar {
				continue
			}
			v := b.Cols[p.spec.Arg].Get(i)
			if v.Null {
				continue
			}
			st := &g.aggs[a]
			st.n += w
			switch p.spec.Func {
			case AggCount:
				continue
			case AggMin, AggMax: // InsertOnly: no multiset
				if w < 0 {
					return sqlerr.New(sqlerr.Internal, "internal error: HashAggregate: %s over insert-only input received a retraction", p.spec)
				}
				if st.ext().best.Null || better(p.spec.Func, v, st.ext().best) {
					st.ext().best = v
				}
				continue
			}
			if err := h.addSum(st, p, v, w); err != nil {
				return err
			}
		}
		for s, col := range h.setCols {
			v := b.Cols[col].Get(i)
			if v.Null {
				continue
			}
			if err := h.addToSet(g, s, v, w); err != nil {
				return err
			}
		}
	}
	return nil
}

// addSum adds v*w to a sum or avg state.
func (h *HashAggregate) addSum(st *aggState, p *aggPlan, v delta.Value, w int64) error {
	if p.float {
		st.ext().fsum.add(v.F, w, &h.tmp)
		return nil
	}
	if p.numeric {
		if st.ext().nsum == nil {
			st.ext().nsum = &nsum{}
		}
		st.ext().nsum.add(expr.DecimalOf(v), w)
		return nil
	}
	if p.ival {
		if st.ext().ivsum == nil {
			st.ext().ivsum = &ivsum{}
		}
		return st.ext().ivsum.add(v, w)
	}
	var overflow bool
	st.isum, overflow = st.isum.add(mul128(v.I, w))
	if overflow {
		return sqlerr.New(sqlerr.NumericValueOutOfRange, "%s out of range", p.spec.ResultType)
	}
	return nil
}

// addToSet adds w copies of v to multiset s of g and, when v becomes present or absent,
// updates the aggregates the multiset feeds.
func (h *HashAggregate) addToSet(g *group, s int, v delta.Value, w int64) error {
	set := &g.sets[s]
	before := set.len()
	v, was, is := set.add(v, w, &h.valBuf)
	h.setCount += int64(set.len() - before)
	if was == is {
		return nil
	}
	for _, a := range h.setUsers[s] {
		p, st := &h.aggs[a], &g.aggs[a]
		switch p.spec.Func {
		case AggMin, AggMax:
			switch {
			case st.ext().stale:
			case is && (st.ext().best.Null || better(p.spec.Func, v, st.ext().best)):
				st.ext().best = v
			case !is && !st.ext().best.Null && delta.Compare(v, st.ext().best) == 0:
				st.ext().stale = true
			}
		default: // a DISTINCT count, sum or avg
			d := int64(1)
			if !is {
				d = -1
			}
			st.n += d
			if p.spec.Func != AggCount {
				if err := h.addSum(st, p, v, d); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// better reports whether v beats best for min or max.
func better(f AggFunc, v, best delta.Value) bool {
	c := delta.Compare(v, best)
	if f == AggMin {
		return c < 0
	}
	return c > 0
}

// Advance emits the changed rows of the groups dirtied since the last Advance.
func (h *HashAggregate) Advance(_ context.Context, t Tick, out *delta.Batch) error {
	if h.err != nil {
		return h.err
	}
	if h.dense != nil {
		return h.advanceDense(out)
	}
	if h.expiry != nil {
		defer h.expiryIdx.expire(t.Watermark(h.expiry.Sources...), func(enc string) {
			if g := h.groups.get(enc); g != nil && !g.dirty {
				h.forget(g)
			}
		})
	}
	for i, g := range h.dirty {
		g.dirty = false
		h.dirty[i] = nil
		if g.failed != nil {
			// The group's previous error is resolved or replaced below.
			h.errs.add(h.String(), g.failed, g.key, -1)
			g.failed = nil
		}
		if g.n <= 0 && !h.global {
			if g.emitted {
				out.AppendRow(h.emittedRow(g), -1)
				g.emitted = false
			}
			if h.isEmpty(g) {
				h.forget(g)
			}
			continue
		}
		h.row = append(h.row[:0], g.key...)
		var failed error
		for a := range h.aggs {
			v, err := h.result(g, a)
			if err != nil {
				failed = err
				break
			}
			h.row = append(h.row, v)
		}
		if failed != nil {
			if h.errs == nil || !IsRowError(failed) {
				// Keep this group and the rest dirty: a retried Advance fails the same way.
				g.dirty = true
				h.dirty[i] = g
				h.dirty = h.dirty[i:]
				return failed
			}
			// A data exception (a sum out of range): the group's row is absent while it
			// lasts, and the error stands in the error batch instead.
			h.errs.add(h.String(), failed, g.key, 1)
			g.failed = failed
			if g.emitted {
				out.AppendRow(h.emittedRow(g), -1)
				g.emitted = false
			}
			continue
		}
		results := h.row[len(g.key):]
		if g.emitted {
			if sameRow(g.last, results) {
				continue
			}
			out.AppendRow(h.emittedRow(g), -1)
		}
		out.AppendRow(h.row, 1)
		g.emitted = true
		g.last = append(g.last[:0], results...)
	}
	h.dirty = h.dirty[:0]
	return nil
}

// emittedRow returns the row g last emitted: its key and g.last, in scratch space valid
// until the next call.
func (h *HashAggregate) emittedRow(g *group) []delta.Value {
	h.lastRow = append(append(h.lastRow[:0], g.key...), g.last...)
	return h.lastRow
}

// sameRow reports whether rows a and b are equal as GROUP BY compares (their key
// encodings are equal: 1.0 equals 1.00, -0 equals 0).
func sameRow(a, b []delta.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if delta.Compare(a[i], b[i]) != 0 {
			return false
		}
	}
	return true
}

// isEmpty reports whether g holds no input any more, so forgetting it loses nothing.
func (h *HashAggregate) isEmpty(g *group) bool {
	if g.n != 0 {
		return false
	}
	for a := range g.aggs {
		st := &g.aggs[a]
		if st.n != 0 || st.isum != (int128{}) || st.x != nil && (!st.x.fsum.isZero() || !st.x.nsum.isZero() || !st.x.ivsum.isZero()) {
			return false
		}
	}
	for s := range g.sets {
		if g.sets[s].len() != 0 {
			return false
		}
	}
	return true
}

// forget drops group g.
func (h *HashAggregate) forget(g *group) {
	for s := range g.sets {
		h.setCount -= int64(g.sets[s].len())
	}
	h.groups.remove(g.enc)
}

// result computes aggregate a of group g.
func (h *HashAggregate) result(g *group, a int) (delta.Value, error) {
	p, st := &h.aggs[a], &g.aggs[a]
	if f := p.spec.Func; f == AggMin || f == AggMax {
		if st.ext().stale {
			st.ext().best, st.ext().stale = delta.Null(p.resKind), false
			g.sets[p.set].each(func(v delta.Value, n int64) {
				if n > 0 && (st.ext().best.Null || better(p.spec.Func, v, st.ext().best)) {
					st.ext().best = v
				}
			})
		}
		return st.ext().best, nil
	}
	return h.stateResult(p, g.n, st)
}

// stateResult computes a count, sum or avg from its state st in a group of weight n.
func (h *HashAggregate) stateResult(p *aggPlan, n int64, st *aggState) (delta.Value, error) {
	switch p.spec.Func {
	case AggCountStar:
		return delta.Int(n), nil
	case AggCount:
		return delta.Int(st.n), nil
	}
	if st.n <= 0 {
		return delta.Null(p.resKind), nil
	}
	if p.resKind == delta.KindNumeric {
		return numericResult(p, st)
	}
	if p.ival {
		return st.ext().ivsum.result(p.spec.Func == AggAvg, st.n)
	}
	var f float64
	switch {
	case p.spec.Func == AggAvg && p.float:
		f = st.ext().fsum.quo(st.n)
	case p.spec.Func == AggAvg:
		f = st.isum.quo(st.n)
	case p.float:
		f = st.ext().fsum.value()
		if _, special := st.ext().fsum.special(); !special && math.IsInf(f, 0) {
			return delta.Value{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: overflow")
		}
	default:
		v, ok := st.isum.int64()
		if !ok || !fitsType(v, p.spec.ResultType) {
			return delta.Value{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "%s out of range", p.spec.ResultType)
		}
		if p.resKind == delta.KindInt {
			return delta.Int(v), nil
		}
		f = float64(v)
	}
	if p.spec.ResultType == catalog.Float4 {
		f32 := float32(f)
		if math.IsInf(float64(f32), 0) && !math.IsInf(f, 0) {
			return delta.Value{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: overflow")
		}
		f = float64(f32)
	}
	return delta.Float(f), nil
}

// numericResult is a numeric sum or avg (over numerics or integers). avg divides the sum
// by the count with numeric division's scale, as PostgreSQL's numeric_avg does.
func numericResult(p *aggPlan, st *aggState) (delta.Value, error) {
	var sum decimal.Decimal
	switch v, ok := st.isum.int64(); {
	case p.numeric:
		sum = st.ext().nsum.value()
	case ok && p.spec.Func == AggSum:
		return delta.Numeric(strconv.FormatInt(v, 10)), nil // the decimal's text at scale 0
	default:
		sum = decimal.Decimal{Coef: st.isum.big()}
	}
	if p.spec.Func == AggAvg {
		q, err := decimal.Div(sum, decimal.FromInt(st.n))
		if err != nil {
			return delta.Value{}, err
		}
		sum = q
	}
	return expr.NumericValue(sum), nil
}

// fitsType reports whether v is in the range of integer type t.
func fitsType(v int64, t catalog.Type) bool {
	switch t {
	case catalog.Int2:
		return v >= math.MinInt16 && v <= math.MaxInt16
	case catalog.Int4:
		return v >= math.MinInt32 && v <= math.MaxInt32
	}
	return true
}

// String renders "HashAggregate(group=#0; count(*), sum(#1))"; a global aggregate has no
// group= part.
func (h *HashAggregate) String() string {
	var parts []string
	if len(h.groupCols) > 0 {
		parts = append(parts, "group="+colList(h.groupCols))
	}
	if len(h.aggs) > 0 {
		as := make([]string, len(h.aggs))
		for i := range h.aggs {
			as[i] = h.aggs[i].spec.String()
		}
		parts = append(parts, strings.Join(as, ", "))
	}
	if h.insertOnly && slices.ContainsFunc(h.aggs, func(p aggPlan) bool { return p.set < 0 && (p.spec.Func == AggMin || p.spec.Func == AggMax) }) {
		parts = append(parts, "insert-only input")
	}
	if h.expiry != nil {
		parts = append(parts, "state freed when "+h.expiry.String())
	}
	return "HashAggregate(" + strings.Join(parts, "; ") + ")"
}

// OutKinds is the group columns' kinds followed by the aggregates' result kinds.
func (h *HashAggregate) OutKinds() []delta.Kind { return h.outKinds }

func (h *HashAggregate) inKinds() [][]delta.Kind { return [][]delta.Kind{h.in} }
