package viewstore

import (
	"encoding/binary"
	"sync/atomic"
	"unicode/utf8"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"
)

// weir_batch's values go straight into DuckDB's vectors. duckdb-go's setters take a
// value at a time through a generic any-typed path (~57 ns a value, most of a lent read
// of 100k rows); a vector of a fixed-width type is plain memory DuckDB hands out, and
// writing it from Go costs a store per value. duckdb-go keeps DuckDB's chunk behind an
// unexported field, so rawChunk reads it through a mirror of duckdb.DataChunk's
// layout in the duckdb-go version go.mod pins. The mirror is used only while it matches
// (its size, DuckDB's column count, each vector's type); otherwise FillChunk takes the
// setters. TestRawChunk fails when an upgrade breaks the mirror.

// duckDataChunk mirrors duckdb.DataChunk (duckdb-go v2.10506.0, data_chunk.go).
type duckDataChunk struct {
	chunk       mapping.DataChunk
	columns     []struct{} // []vector: only its length is read
	columnNames []string
	size        int
	projection  []int
}

// rawFill turns the direct writes on; tests turn it off to compare with the setters.
var rawFill = unsafe.Sizeof(duckdb.DataChunk{}) == unsafe.Sizeof(duckDataChunk{})

// rawColumns counts the column chunks written directly (for tests).
var rawColumns atomic.Int64

// rawChunk returns the mirror of ch, through which DuckDB's own chunk is reached, or nil
// when the mirror does not hold.
func rawChunk(ch *duckdb.DataChunk) *duckDataChunk {
	if !rawFill {
		return nil
	}
	m := (*duckDataChunk)(unsafe.Pointer(ch))
	if m.chunk.Ptr == nil || int(mapping.DataChunkGetColumnCount(m.chunk)) != len(m.columns) {
		return nil
	}
	return m
}

// vector returns the vector of column c of the table function's columns, when DuckDB
// reads it and it is of type t; ok is false otherwise.
func (m *duckDataChunk) vector(c int, t duckdb.Type) (vec mapping.Vector, ok bool) {
	j := c
	if m.projection != nil {
		if c >= len(m.projection) {
			return vec, false
		}
		j = m.projection[c]
	}
	if j < 0 || j >= len(m.columns) {
		return vec, false
	}
	vec = mapping.DataChunkGetVector(m.chunk, mapping.IdxT(j))
	lt := mapping.VectorGetColumnType(vec)
	got := mapping.GetTypeId(lt)
	if got == duckdb.TYPE_DECIMAL && mapping.DecimalInternalType(lt) != duckdb.TYPE_BIGINT {
		got = duckdb.TYPE_INVALID // DECIMAL(18,0) is held in 64 bits
	}
	mapping.DestroyLogicalType(&lt)
	return vec, got == t
}

// fillFixed writes column c of the next k rows of s into vec, DuckDB's vector of type
// elements T: value(i) for row i, or NULL.
func fillFixed[T any](vec mapping.Vector, k int, s *chunkSource, v colValues, value func(i int) T) {
	dst := unsafe.Slice((*T)(mapping.VectorGetData(vec)), k)
	if s.idx == nil && !v.hasNulls() {
		for r := range dst {
			dst[r] = value(s.at + r)
		}
		return
	}
	eachRow(vec, k, s, v, func(r, i int) { dst[r] = value(i) })
}

// fillCopy writes the next k values of src, column c of s's batch, into vec, DuckDB's
// vector of type elements T, in one copy; false when they are not the next k rows of the
// batch in order (s repeats rows by weight) or some may be NULL, and nothing is written.
func fillCopy[T any](vec mapping.Vector, k int, s *chunkSource, v colValues, src []T) bool {
	if s.idx != nil || v.hasNulls() {
		return false
	}
	copy(unsafe.Slice((*T)(mapping.VectorGetData(vec)), k), src[s.at:s.at+k])
	return true
}

// eachRow calls set(r, i) for each of the next k rows of s whose value in v is not NULL,
// r being its position in the chunk and i its row, and marks the NULL ones invalid in
// vec's validity mask (a bit set per valid row).
func eachRow(vec mapping.Vector, k int, s *chunkSource, v colValues, set func(r, i int)) {
	var mask []uint64
	for r := range k {
		if i := s.rowAt(r); !v.null(i) {
			set(r, i)
			continue
		}
		setNull(vec, k, &mask, r)
	}
}

// setNull marks row r of the k in vec NULL: invalid in its validity mask, which *mask
// holds once made writable.
func setNull(vec mapping.Vector, k int, mask *[]uint64, r int) {
	if *mask == nil {
		mapping.VectorEnsureValidityWritable(vec)
		*mask = unsafe.Slice((*uint64)(mapping.VectorGetValidity(vec)), (k+63)/64)
	}
	(*mask)[r>>6] &^= 1 << (r & 63)
}

// rowAt returns the row of the next rows' r-th.
func (s *chunkSource) rowAt(r int) int {
	i := s.at + r
	if s.idx != nil {
		i = s.idx[i]
	}
	return i
}

// stringInline is the longest string a DuckDB string_t holds inline: 4 bytes of
// length, then the bytes, zero-padded to 12.
const stringInline = 12

// fillRawStrings writes column c of the next k rows of s into the VARCHAR vector vec.
// Short strings are written inline into their string_t; longer ones, and any DuckDB
// must check for UTF-8, are copied by DuckDB into the vector's heap.
func fillRawStrings(vec mapping.Vector, k int, s *chunkSource, v colValues) {
	dst := unsafe.Slice((*[16]byte)(mapping.VectorGetData(vec)), k)
	eachRow(vec, k, s, v, func(r, i int) {
		str := v.str(i)
		if len(str) > stringInline || !utf8.ValidString(str) {
			mapping.VectorAssignStringElement(vec, mapping.IdxT(r), str)
			return
		}
		e := &dst[r]
		*e = [16]byte{}
		binary.LittleEndian.PutUint32(e[:4], uint32(len(str)))
		copy(e[4:], str)
	})
}
