package viewstore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
)

// Insert's fast path: DuckDB reads the batch a chunk at a time through the table
// function weir_batch(token), registered on the writer connection, and the rows go in
// with INSERT INTO … SELECT * FROM weir_batch(token). Each value is written to its chunk
// typed, where the Appender (appendRows) takes every row as boxed driver.Values. Reads
// of views served from memory (LendBatches) read their snapshot through the same
// function. A batch is registered in lent under a random token while it is read; the
// function is visible to every connection, so it serves a batch only to a statement
// that knows its token (an ad-hoc read calling it gets an error, never the rows). The
// registry is the process's, not a Store's: a database file opened twice in one process
// is one DuckDB instance, whose weir_batch is the first Store's.

// lent holds the batches weir_batch serves, by token (*chunkSource).
var lent sync.Map

// batchFunc is the table function weir_batch(token): the rows lent under token.
func batchFunc() duckdb.ChunkTableFunction {
	bigint, _ := duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	return duckdb.ChunkTableFunction{
		Config: duckdb.TableFunctionConfig{Arguments: []duckdb.TypeInfo{bigint}},
		BindArguments: func(_ map[string]any, args ...any) (duckdb.ChunkTableSource, error) {
			token, ok := args[0].(int64)
			src, found := lent.Load(token)
			if !ok || !found {
				return nil, errors.New("weir_batch is internal to the view store")
			}
			cp := *src.(*chunkSource) // each call of the function reads from the start
			if cp.token < 0 {
				// A slot: each run reads the rows lent then (Init), not these.
				cp = chunkSource{cols: cp.cols, ints: cp.ints, token: cp.token, total: cp.total}
			}
			return &cp, nil
		},
	}
}

// LendBatches makes the rows of bs, a relation of columns cols, row i of a batch
// repeated by its weight, readable by any connection as weir_batch(token) until
// release is called. The rows are read in place, only the columns a query reads, and
// must not change until then. ok is false when a column is of a type weir_batch does
// not write, or held in a vector of a kind it does not take for it; the caller then
// reads the table.
//
// slot is 0 for a token of its own, used once. Otherwise it is a slot (NewSlot) the
// caller keeps: a statement prepared once over weir_batch(slot) reads, each time it
// runs, the rows lent under slot then. Its runs must lend the same cols and ints, one
// run at a time; ok is false when the slot is lent already.
//
// A plain numeric column is lent as its text (VARCHAR, as the table holds it), except
// the columns ints names (nil: none), whose values the caller knows to be integers of
// at most 18 digits: those are lent as DECIMAL(18,0), written as 64-bit integers where
// text would cross into DuckDB one value at a time and be parsed there. Such a column
// may be held as integers already (a vector of KindInt) rather than as text.
func (*Store) LendBatches(slot int64, cols []catalog.Column, bs []*delta.Batch, ints []bool) (token int64, release func(), ok bool) {
	if !CanLend(cols) {
		return 0, nil, false
	}
	total := 0
	for _, b := range bs {
		if len(b.Cols) != len(cols) {
			return 0, nil, false
		}
		for c, col := range cols {
			k := b.Cols[c].Kind
			if k != chunkTypes[col.Type].kind && (k != delta.KindInt || c >= len(ints) || !ints[c]) {
				return 0, nil, false
			}
		}
		for _, w := range b.Weights {
			total += int(max(w, 0))
		}
	}
	return lend(slot, &chunkSource{cols: cols, ints: ints, segs: append([]*delta.Batch{}, bs...), seg: -1, total: total})
}

// NewSlot returns a new slot for LendBatches: a random negative token, which no token
// of LendBatches' own (rand.Int64, never negative) can be, and which an ad-hoc read
// cannot guess.
func NewSlot() int64 { return -1 - rand.Int64() }

// slotRuns is the sources of a slot's statement that read the rows lent under it in its
// current run (Init): a statement may read a slot more than once.
type slotRuns struct {
	mu    sync.Mutex
	bound []*chunkSource
}

// lend registers src under slot, or under a new token when slot is 0.
func lend(slot int64, src *chunkSource) (token int64, release func(), ok bool) {
	for c, isInt := range src.ints {
		if isInt && src.cols[c].Type != catalog.Numeric {
			return 0, nil, false
		}
	}
	if slot >= 0 {
		src.token = rand.Int64()
		lent.Store(src.token, src)
		return src.token, func() { lent.Delete(src.token) }, true
	}
	src.token, src.runs = slot, &slotRuns{}
	if _, taken := lent.LoadOrStore(slot, src); taken {
		return 0, nil, false
	}
	return slot, func() {
		lent.Delete(slot)
		// The statement that read src keeps the sources it bound, which its run copied
		// src into (Init): forget src's rows there, or they would stay reachable until
		// its next run. The run is over (release follows it).
		src.runs.mu.Lock()
		defer src.runs.mu.Unlock()
		for _, b := range src.runs.bound {
			*b = chunkSource{cols: b.cols, ints: b.ints, token: b.token}
		}
		src.runs.bound = nil
	}, true
}

// repeatByWeight returns rows 0 to rows-1 repeated by their weights (row i weight(i)
// times), as indexes, and how many there are; idx is nil when every weight is 1.
func repeatByWeight(rows int, weight func(i int) int64) (idx []int, n int) {
	for i := range rows {
		w := weight(i)
		if w != 1 && idx == nil {
			idx = make([]int, i, rows)
			for k := range idx {
				idx[k] = k
			}
		}
		for ; idx != nil && w > 0; w-- {
			idx = append(idx, i)
		}
	}
	if idx != nil {
		return idx, len(idx)
	}
	return nil, rows
}

// chunkTypes maps the column types chunkSource writes to their DuckDB types and the
// kind of vector holding their values. The text-like ones (numeric and jsonb included)
// are VARCHAR in DuckDB; a numeric with a precision (a DECIMAL) is not written here.
var chunkTypes = map[catalog.Type]struct {
	duck duckdb.Type
	kind delta.Kind
}{
	catalog.Int2:        {duckdb.TYPE_SMALLINT, delta.KindInt},
	catalog.Int4:        {duckdb.TYPE_INTEGER, delta.KindInt},
	catalog.Int8:        {duckdb.TYPE_BIGINT, delta.KindInt},
	catalog.Timestamptz: {duckdb.TYPE_TIMESTAMP_TZ, delta.KindInt},
	catalog.Timestamp:   {duckdb.TYPE_TIMESTAMP, delta.KindInt},
	catalog.Date:        {duckdb.TYPE_DATE, delta.KindInt},
	catalog.Text:        {duckdb.TYPE_VARCHAR, delta.KindString},
	catalog.Varchar:     {duckdb.TYPE_VARCHAR, delta.KindString},
	catalog.Numeric:     {duckdb.TYPE_VARCHAR, delta.KindNumeric},
	catalog.Jsonb:       {duckdb.TYPE_VARCHAR, delta.KindJsonb},
	catalog.Float4:      {duckdb.TYPE_FLOAT, delta.KindFloat},
	catalog.Float8:      {duckdb.TYPE_DOUBLE, delta.KindFloat},
	catalog.Bool:        {duckdb.TYPE_BOOLEAN, delta.KindBool},
}

// chunkSource is the rows of a batch, row idx[j] for j < n (row j when idx is nil), as
// a DuckDB table function's source. With segs, it is the rows of several batches, one
// after the other: b is then segs[seg].
type chunkSource struct {
	cols  []catalog.Column
	ints  []bool // numeric columns written as DECIMAL(18,0) (LendBatches)
	b     *delta.Batch
	segs  []*delta.Batch
	seg   int
	idx   []int
	n     int
	total int // rows in all (n, without segs)
	at    int // rows of b handed over so far
	// token is what weir_batch must be called with to read the rows.
	token int64
	// runs is, for rows lent under a slot, the statement's sources that read them
	// (lend's release clears them); broken is why a slot's run cannot read its rows.
	runs   *slotRuns
	broken error
}

// CanLend reports whether LendBatches takes the rows of a relation of columns cols.
func CanLend(cols []catalog.Column) bool {
	for _, col := range cols {
		if _, ok := chunkTypes[col.Type]; !ok || col.DuckDB() != col.Type.DuckDB() {
			return false
		}
	}
	return true
}

// newChunkSource returns the source of b's rows for a table of columns cols, or nil when
// a column is of a type (or held in a vector of a kind) it does not write: the caller
// then appends.
func newChunkSource(cols []catalog.Column, b *delta.Batch, idx []int, n int) *chunkSource {
	for c, col := range cols {
		t, ok := chunkTypes[col.Type]
		if !ok || col.DuckDB() != col.Type.DuckDB() || b.Cols[c].Kind != t.kind {
			return nil
		}
	}
	return &chunkSource{cols: cols, b: b, idx: idx, n: n, total: n, token: rand.Int64()}
}

// insertChunks inserts src's rows into table (quoted) through weir_batch.
func (t *Tx) insertChunks(table string, src *chunkSource) error {
	lent.Store(src.token, src)
	defer lent.Delete(src.token)
	return t.Exec(fmt.Sprintf(`INSERT INTO %s SELECT * FROM weir_batch(%d)`, table, src.token))
}

func (s *chunkSource) ColumnInfos() []duckdb.ColumnInfo {
	infos := make([]duckdb.ColumnInfo, len(s.cols))
	for c, col := range s.cols {
		var t duckdb.TypeInfo
		if s.int(c) {
			t, _ = duckdb.NewDecimalInfo(18, 0)
		} else {
			t, _ = duckdb.NewTypeInfo(chunkTypes[col.Type].duck)
		}
		infos[c] = duckdb.ColumnInfo{Name: col.Name, T: t}
	}
	return infos
}

// int reports whether column c is a numeric written as DECIMAL(18,0).
func (s *chunkSource) int(c int) bool { return c < len(s.ints) && s.ints[c] }

func (s *chunkSource) Cardinality() *duckdb.CardinalityInfo {
	// A slot's statement runs again over other rows: its count is an estimate.
	return &duckdb.CardinalityInfo{Cardinality: uint(s.total), Exact: s.token >= 0}
}

// Init starts a run of the statement s was bound for. For a slot, that is a read of
// the rows lent under it now (a statement prepared once runs many times).
func (s *chunkSource) Init() {
	if s.token < 0 {
		src, ok := lent.Load(s.token)
		if !ok {
			s.broken = fmt.Errorf("weir_batch: nothing is lent under slot %d", s.token)
			return
		}
		cur := src.(*chunkSource)
		if !slices.Equal(cur.cols, s.cols) || !slices.Equal(cur.ints, s.ints) {
			s.broken = fmt.Errorf("weir_batch: slot %d was bound for other columns", s.token)
			return
		}
		*s = *cur
		cur.runs.mu.Lock()
		cur.runs.bound = append(cur.runs.bound, s)
		cur.runs.mu.Unlock()
	}
	s.broken = nil
	s.at = 0
	if s.segs != nil {
		s.seg, s.b, s.idx, s.n = -1, nil, nil, 0
	}
}

// FillChunk writes the next rows, as many as a chunk holds (with segs, of one batch);
// none once all are written.
func (s *chunkSource) FillChunk(ch duckdb.DataChunk) error {
	if s.broken != nil {
		return s.broken
	}
	for s.segs != nil && s.at == s.n {
		if s.seg+1 >= len(s.segs) {
			return ch.SetSize(0)
		}
		s.seg++
		b := s.segs[s.seg]
		s.b, s.at = b, 0
		s.idx, s.n = repeatByWeight(b.Len(), func(i int) int64 { return b.Weights[i] })
	}
	k := min(duckdb.GetDataChunkCapacity(), s.n-s.at)
	if k == 0 {
		return ch.SetSize(0)
	}
	raw := rawChunk(&ch)
	for c, col := range s.cols {
		if _, err := ch.GetVector(c); err != nil {
			// DuckDB pushed the projection down and does not read this column (a read
			// of some columns of a lent view); each value set would be an error value
			// built and dropped.
			continue
		}
		v := colValues{v: &s.b.Cols[c]}
		var bad error
		var parseInt func(i int) int64 // a numeric lent as an integer
		switch {
		case s.int(c) && v.v.Kind == delta.KindInt:
			parseInt = v.int // held as integers already
		case s.int(c):
			parseInt = func(i int) int64 {
				text := v.str(i)
				if n, ok := delta.NumericInt(text); ok {
					return n
				}
				n, err := strconv.ParseInt(text, 10, 64) // 19 digits still fit
				if err != nil && bad == nil {
					bad = fmt.Errorf("weir_batch: numeric column %s lent as an integer holds %q", col.Name, text)
				}
				return n
			}
		}
		if raw != nil && s.fillRaw(raw, c, col, k, v, parseInt) {
			if bad != nil {
				return bad
			}
			continue
		}
		var err error
		switch col.Type {
		case catalog.Numeric:
			if !s.int(c) {
				err = fillColumn(ch, c, k, s, v, v.str)
				break
			}
			err = fillColumn(ch, c, k, s, v, parseInt)
		case catalog.Int8:
			err = fillColumn(ch, c, k, s, v, v.int)
		case catalog.Int4:
			err = fillColumn(ch, c, k, s, v, func(i int) int32 { return int32(v.int(i)) })
		case catalog.Int2:
			err = fillColumn(ch, c, k, s, v, func(i int) int16 { return int16(v.int(i)) })
		case catalog.Timestamptz, catalog.Timestamp:
			err = fillColumn(ch, c, k, s, v, func(i int) time.Time { return time.UnixMicro(v.int(i)).UTC() })
		case catalog.Date:
			err = fillColumn(ch, c, k, s, v, func(i int) time.Time { return time.UnixMicro(v.int(i) * 86_400_000_000).UTC() })
		case catalog.Float8:
			err = fillColumn(ch, c, k, s, v, v.float)
		case catalog.Float4:
			err = fillColumn(ch, c, k, s, v, func(i int) float32 { return float32(v.float(i)) })
		case catalog.Bool:
			err = fillColumn(ch, c, k, s, v, v.bool)
		default: // VARCHAR
			err = fillColumn(ch, c, k, s, v, v.str)
		}
		if err == nil {
			err = bad
		}
		if err != nil {
			return err
		}
	}
	s.at += k
	return ch.SetSize(k)
}

// fillRaw writes column c of the next k rows straight into DuckDB's vector (rawchunk.go),
// parseInt reading a numeric lent as an integer (nil for other columns); false when the
// vector is not there or not of the type written, and the caller takes the setters.
func (s *chunkSource) fillRaw(raw *duckDataChunk, c int, col catalog.Column, k int, v colValues, parseInt func(i int) int64) bool {
	t := chunkTypes[col.Type].duck
	if s.int(c) {
		t = duckdb.TYPE_DECIMAL
	}
	vec, ok := raw.vector(c, t)
	if !ok {
		return false
	}
	switch t {
	case duckdb.TYPE_DECIMAL:
		if v.v.Kind != delta.KindInt || !fillCopy(vec, k, s, v, v.v.I64) {
			fillFixed(vec, k, s, v, parseInt)
		}
	case duckdb.TYPE_BIGINT, duckdb.TYPE_TIMESTAMP, duckdb.TYPE_TIMESTAMP_TZ:
		if !fillCopy(vec, k, s, v, v.v.I64) {
			fillFixed(vec, k, s, v, v.int)
		}
	case duckdb.TYPE_INTEGER:
		fillFixed(vec, k, s, v, func(i int) int32 { return int32(v.int(i)) })
	case duckdb.TYPE_DATE:
		fillFixed(vec, k, s, v, func(i int) int32 { return int32(v.int(i)) }) // days since the epoch
	case duckdb.TYPE_SMALLINT:
		fillFixed(vec, k, s, v, func(i int) int16 { return int16(v.int(i)) })
	case duckdb.TYPE_DOUBLE:
		if !fillCopy(vec, k, s, v, v.v.F64) {
			fillFixed(vec, k, s, v, v.float)
		}
	case duckdb.TYPE_FLOAT:
		fillFixed(vec, k, s, v, func(i int) float32 { return float32(v.float(i)) })
	case duckdb.TYPE_BOOLEAN:
		fillFixed(vec, k, s, v, v.bool)
	case duckdb.TYPE_VARCHAR:
		fillRawStrings(vec, k, s, v)
	default:
		return false
	}
	rawColumns.Add(1)
	return true
}

// fillColumn writes column c of the next k rows, value(i) being row i's (not NULL).
func fillColumn[T any](ch duckdb.DataChunk, c, k int, s *chunkSource, v colValues, value func(i int) T) error {
	for r := range k {
		i := s.at + r
		if s.idx != nil {
			i = s.idx[i]
		}
		var err error
		if v.null(i) {
			err = ch.SetValue(c, r, nil)
		} else {
			err = duckdb.SetChunkValue(ch, c, r, value(i))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// colValues reads a column of a chunk source's batch.
type colValues struct{ v *delta.Vector }

// hasNulls reports whether some value may be NULL.
func (cv colValues) hasNulls() bool { return cv.v.Nulls != nil }

func (cv colValues) null(i int) bool     { return cv.v.Nulls != nil && cv.v.Nulls[i] }
func (cv colValues) int(i int) int64     { return cv.v.I64[i] }
func (cv colValues) float(i int) float64 { return cv.v.F64[i] }
func (cv colValues) bool(i int) bool     { return cv.v.Bool[i] }
func (cv colValues) str(i int) string    { return cv.v.Str[i] }
