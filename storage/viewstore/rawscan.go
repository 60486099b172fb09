package viewstore

import (
	"context"
	"encoding/binary"
	"errors"
	"reflect"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
)

// Scan reads a relation's history (a backfill, a recovery) as DuckDB's result chunks,
// straight from their vectors. database/sql hands out a value at a time as an any:
// boxed, a timestamp made a time.Time and back, a quarter of a backfill's time at 10M
// rows. duckdb-go keeps DuckDB's connection behind an unexported field, so rawConn
// reaches it through a mirror of duckdb.Conn's layout in the duckdb-go version go.mod
// pins, checked field by field (as rawChunk's mirror is); otherwise, and for a column
// type the raw path does not decode, Scan takes database/sql. TestRawScan fails when an
// upgrade breaks the mirror.

// duckConn mirrors duckdb.Conn (duckdb-go v2.10506.0, connection.go).
type duckConn struct {
	conn     mapping.Connection
	id       uint64
	ctxStore unsafe.Pointer
	closed   bool
	tx       bool
}

// rawScan turns the raw scan on; tests turn it off to compare with database/sql.
var rawScan = mirrors(reflect.TypeFor[duckdb.Conn](), reflect.TypeFor[duckConn]())

// rawScans counts the scans read raw (for tests).
var rawScans atomic.Int64

// mirrors reports whether m has t's layout: the same size, and the same field names,
// offsets and sizes, the first field of the same type.
func mirrors(t, m reflect.Type) bool {
	if t.Size() != m.Size() || t.NumField() != m.NumField() || t.Field(0).Type != m.Field(0).Type {
		return false
	}
	for i := range t.NumField() {
		a, b := t.Field(i), m.Field(i)
		if a.Name != b.Name || a.Offset != b.Offset || a.Type.Size() != b.Type.Size() {
			return false
		}
	}
	return true
}

// errNotRaw says a result has a column the raw scan does not decode.
var errNotRaw = errors.New("viewstore: not a raw scan")

// scanRaw runs query, whose columns are those of cols, and appends its rows to b
// decoded straight from DuckDB's vectors. It returns errNotRaw, having appended nothing,
// when the mirror does not hold or a column's DuckDB type is not one it decodes: known
// from the catalog before the query runs (an interval, a DECIMAL numeric), so that such a
// relation is not scanned twice, and checked again against the result's types.
func (s *Store) scanRaw(ctx context.Context, query string, cols []catalog.Column, b *delta.Batch) error {
	if !rawScan || slices.ContainsFunc(cols, func(c catalog.Column) bool {
		return c.Type == catalog.Interval || c.DuckDB() != c.Type.DuckDB()
	}) {
		return errNotRaw
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*duckdb.Conn)
		if !ok {
			return errNotRaw
		}
		mc := (*duckConn)(unsafe.Pointer(c)).conn
		var res mapping.Result
		stop := interruptOnDone(ctx, mc)
		state := mapping.Query(mc, query, &res)
		stop()
		defer mapping.DestroyResult(&res)
		if state == mapping.StateError {
			if err := ctx.Err(); err != nil {
				return err
			}
			return errors.New(mapping.ResultError(&res))
		}
		dec := make([]rawDecoder, len(cols))
		for i, col := range cols {
			if dec[i] = rawDecoderOf(mapping.ColumnType(&res, mapping.IdxT(i)), col.Type); dec[i] == nil {
				return errNotRaw
			}
		}
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			ch := mapping.FetchChunk(res)
			if ch.Ptr == nil {
				return nil
			}
			k := int(mapping.DataChunkGetSize(ch))
			for i := range cols {
				vec := mapping.DataChunkGetVector(ch, mapping.IdxT(i))
				dec[i](&b.Cols[i], mapping.VectorGetData(vec), mapping.VectorGetValidity(vec), k)
			}
			for range k {
				b.Weights = append(b.Weights, 1)
			}
			mapping.DestroyDataChunk(&ch)
		}
	})
}

// interruptOnDone interrupts conn's query when ctx is done before stop is called.
func interruptOnDone(ctx context.Context, conn mapping.Connection) (stop func()) {
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-ctx.Done():
			mapping.Interrupt(conn)
		case <-done:
		}
	}()
	return func() { close(done); <-exited }
}

// rawDecoder appends k values of a DuckDB vector (its data and validity mask, nil when
// every value is valid) to v.
type rawDecoder func(v *delta.Vector, data, validity unsafe.Pointer, k int)

// rawDecoderOf returns the decoder of a DuckDB column of type dt read as catalog type
// t, as FromGo converts its values; nil when the raw scan does not decode it.
func rawDecoderOf(dt mapping.Type, t catalog.Type) rawDecoder {
	switch dt {
	case duckdb.TYPE_BOOLEAN:
		return fixed(func(x bool) delta.Value { return delta.Bool(x) })
	case duckdb.TYPE_SMALLINT:
		return fixed(func(x int16) delta.Value { return delta.Int(int64(x)) })
	case duckdb.TYPE_INTEGER:
		return fixed(func(x int32) delta.Value { return delta.Int(int64(x)) })
	case duckdb.TYPE_BIGINT, duckdb.TYPE_TIMESTAMP, duckdb.TYPE_TIMESTAMP_TZ:
		return fixed(func(x int64) delta.Value { return delta.Int(x) }) // micros since the epoch
	case duckdb.TYPE_DATE:
		return fixed(func(x int32) delta.Value { return delta.Int(int64(x)) }) // days since the epoch
	case duckdb.TYPE_FLOAT:
		return fixed(func(x float32) delta.Value { return delta.Float(float64(x)) })
	case duckdb.TYPE_DOUBLE:
		return fixed(func(x float64) delta.Value { return delta.Float(x) })
	case duckdb.TYPE_VARCHAR:
		mk := delta.Str
		switch t {
		case catalog.Numeric:
			mk = delta.Numeric
		case catalog.Jsonb:
			mk = delta.Jsonb
		}
		return fixed(func(x [16]byte) delta.Value { return mk(duckString(&x)) })
	}
	return nil
}

// fixed returns the decoder of a vector of T values.
func fixed[T any](value func(x T) delta.Value) rawDecoder {
	return func(v *delta.Vector, data, validity unsafe.Pointer, k int) {
		xs := unsafe.Slice((*T)(data), k)
		var mask []uint64
		if validity != nil {
			mask = unsafe.Slice((*uint64)(validity), (k+63)/64)
		}
		for r := range xs {
			if mask != nil && mask[r/64]&(1<<(r%64)) == 0 {
				v.Append(delta.Value{Kind: v.Kind, Null: true})
				continue
			}
			v.Append(value(xs[r]))
		}
	}
}

// duckString copies the string of a DuckDB string_t: 4 bytes of length, then the bytes
// inline when 12 or fewer, else 4 bytes of prefix and a pointer to them.
func duckString(e *[16]byte) string {
	n := binary.LittleEndian.Uint32(e[:4])
	if n <= stringInline {
		return string(e[4 : 4+n])
	}
	p := *(*unsafe.Pointer)(unsafe.Pointer(&e[8]))
	return string(unsafe.Slice((*byte)(p), n))
}
