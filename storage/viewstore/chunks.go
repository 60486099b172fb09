package viewstore

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
)

// Insert's fast path: DuckDB reads the batch a chunk at a time through the table
// function weir_batch(token), registered on the writer connection, and the rows go in
// with INSERT INTO … SELECT * FROM weir_batch(token). Each value is written to its chunk
// typed, where the Appender (appendRows) takes every row as boxed driver.Values. The
// batch is handed over in Store.feed while Insert runs; the function is visible to
// every connection, so it serves the batch only to the statement that knows its random
// token (an ad-hoc read calling it gets an error, never the rows).

// batchFunc is the table function weir_batch(token): the rows of s.feed.
func batchFunc(s *Store) duckdb.ChunkTableFunction {
	bigint, _ := duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	return duckdb.ChunkTableFunction{
		Config: duckdb.TableFunctionConfig{Arguments: []duckdb.TypeInfo{bigint}},
		BindArguments: func(_ map[string]any, args ...any) (duckdb.ChunkTableSource, error) {
			src := s.feed.Load()
			if token, ok := args[0].(int64); !ok || src == nil || token != src.token {
				return nil, errors.New("weir_batch is internal to the view store")
			}
			return src, nil
		},
	}
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
// a DuckDB table function's source.
type chunkSource struct {
	cols []catalog.Column
	b    *delta.Batch
	idx  []int
	n    int
	at   int // rows handed over so far
	// token is what weir_batch must be called with to read the rows.
	token int64
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
	return &chunkSource{cols: cols, b: b, idx: idx, n: n, token: rand.Int64()}
}

// insertChunks inserts src's rows into table (quoted) through weir_batch.
func (t *Tx) insertChunks(table string, src *chunkSource) error {
	t.s.feed.Store(src)
	defer t.s.feed.Store(nil)
	return t.Exec(fmt.Sprintf(`INSERT INTO %s SELECT * FROM weir_batch(%d)`, table, src.token))
}

func (s *chunkSource) ColumnInfos() []duckdb.ColumnInfo {
	infos := make([]duckdb.ColumnInfo, len(s.cols))
	for c, col := range s.cols {
		t, _ := duckdb.NewTypeInfo(chunkTypes[col.Type].duck)
		infos[c] = duckdb.ColumnInfo{Name: col.Name, T: t}
	}
	return infos
}

func (s *chunkSource) Cardinality() *duckdb.CardinalityInfo {
	return &duckdb.CardinalityInfo{Cardinality: uint(s.n), Exact: true}
}

func (s *chunkSource) Init() { s.at = 0 }

// FillChunk writes the next rows, as many as a chunk holds; none once all are written.
func (s *chunkSource) FillChunk(ch duckdb.DataChunk) error {
	k := min(duckdb.GetDataChunkCapacity(), s.n-s.at)
	for c, col := range s.cols {
		v := &s.b.Cols[c]
		var err error
		switch col.Type {
		case catalog.Int8:
			err = fillColumn(ch, c, k, s, v, func(i int) int64 { return v.I64[i] })
		case catalog.Int4:
			err = fillColumn(ch, c, k, s, v, func(i int) int32 { return int32(v.I64[i]) })
		case catalog.Int2:
			err = fillColumn(ch, c, k, s, v, func(i int) int16 { return int16(v.I64[i]) })
		case catalog.Timestamptz, catalog.Timestamp:
			err = fillColumn(ch, c, k, s, v, func(i int) time.Time { return time.UnixMicro(v.I64[i]).UTC() })
		case catalog.Date:
			err = fillColumn(ch, c, k, s, v, func(i int) time.Time { return time.UnixMicro(v.I64[i] * 86_400_000_000).UTC() })
		case catalog.Float8:
			err = fillColumn(ch, c, k, s, v, func(i int) float64 { return v.F64[i] })
		case catalog.Float4:
			err = fillColumn(ch, c, k, s, v, func(i int) float32 { return float32(v.F64[i]) })
		case catalog.Bool:
			err = fillColumn(ch, c, k, s, v, func(i int) bool { return v.Bool[i] })
		default: // VARCHAR
			err = fillColumn(ch, c, k, s, v, func(i int) string { return v.Str[i] })
		}
		if err != nil {
			return err
		}
	}
	s.at += k
	return ch.SetSize(k)
}

// fillColumn writes column c of the next k rows, value(i) being row i's (not NULL).
func fillColumn[T any](ch duckdb.DataChunk, c, k int, s *chunkSource, v *delta.Vector, value func(i int) T) error {
	for r := range k {
		i := s.at + r
		if s.idx != nil {
			i = s.idx[i]
		}
		var err error
		if v.Nulls != nil && v.Nulls[i] {
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
