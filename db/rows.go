package db

import (
	"fmt"
	"time"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
)

// Rows is a statement's result, read with Next.
type Rows struct {
	cols  []Column
	tag   string
	err   error
	count int64

	static [][]any // for results computed in memory
	pos    int

	duck *duckRows // for DuckDB reads
	conv []func(any) any

	stream *stream // for SUBSCRIBE
}

// Streaming reports whether rows arrive over time (SUBSCRIBE), so the wire layer sends
// each as soon as it comes.
func (r *Rows) Streaming() bool { return r.stream != nil }

func tagOnly(tag string) *Rows { return &Rows{tag: tag} }

func staticRows(cols []Column, rows [][]any, tag string) *Rows {
	return &Rows{cols: cols, static: rows, tag: tag}
}

// Columns describes the rows; nil for a statement without a result set.
func (r *Rows) Columns() []Column { return r.cols }

// Next fills dst with the next row and reports whether there was one.
func (r *Rows) Next(dst []any) bool {
	if r.err != nil {
		return false
	}
	if r.stream != nil {
		ok, err := r.stream.next(dst)
		r.err = err
		return ok
	}
	if r.duck != nil {
		row, ok, err := r.duck.next()
		if !ok {
			r.err = duckErr(err)
			r.duck.close()
			r.duck = nil
			r.tag = fmt.Sprintf("SELECT %d", r.count)
			return false
		}
		for i := range dst {
			v := row[i]
			if r.conv[i] != nil && v != nil {
				v = r.conv[i](v)
			}
			dst[i] = v
		}
		r.count++
		return true
	}
	if r.pos >= len(r.static) {
		return false
	}
	copy(dst, r.static[r.pos])
	r.pos++
	if r.tag == "" {
		r.tag = fmt.Sprintf("SELECT %d", r.pos)
	}
	return true
}

// Err is the error that stopped Next.
func (r *Rows) Err() error { return r.err }

// Tag is the command tag, valid once Next returned false.
func (r *Rows) Tag() string { return r.tag }

// Close releases the rows.
func (r *Rows) Close() error {
	if r.stream != nil {
		r.stream.sub.Close()
	}
	if r.duck != nil {
		r.duck.close()
		r.duck = nil
	}
	return nil
}

type paramHolder interface{ Values() *expr.Params }

func holderOf(st planner.Statement) *expr.Params {
	if h, ok := st.(paramHolder); ok {
		return h.Values()
	}
	return nil
}

// fromClient converts a parameter value decoded by the wire layer to type t.
func fromClient(a any, t catalog.Type) (delta.Value, error) {
	switch x := a.(type) {
	case nil:
		return delta.Null(t.Kind()), nil
	case string:
		return expr.Parse(x, t)
	case []byte:
		return expr.Parse(string(x), t)
	case bool:
		return expr.Convert(delta.Bool(x), catalog.Bool, t)
	case int16:
		return expr.Convert(delta.Int(int64(x)), catalog.Int8, t)
	case int32:
		return expr.Convert(delta.Int(int64(x)), catalog.Int8, t)
	case int64:
		return expr.Convert(delta.Int(x), catalog.Int8, t)
	case int:
		return expr.Convert(delta.Int(int64(x)), catalog.Int8, t)
	case float32:
		return expr.Convert(delta.Float(float64(x)), catalog.Float8, t)
	case float64:
		return expr.Convert(delta.Float(x), catalog.Float8, t)
	case time.Time:
		return expr.Convert(delta.Int(x.UnixMicro()), catalog.Timestamptz, t)
	case fmt.Stringer:
		return expr.Parse(x.String(), t)
	}
	return delta.Value{}, sqlerr.New(sqlerr.InvalidParameterValue, "unsupported parameter value %T for type %s", a, t)
}
