// Package jsonrow types one JSON object to a relation's columns: the event format of
// HTTP ingest (server/httpapi) and of Kafka sources with format = 'json'
// (connector/kafka), so that both accept and refuse exactly the same events.
package jsonrow

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Decode types one JSON object to rel's columns and checks what the database would
// refuse a whole write for (NOT NULL, varchar(n), numeric(p,s)), so that a bad row is
// reported on its own. On failure it returns the offending column ("" when the object
// as a whole is bad) and a SQLSTATE-coded error. Members missing from the object are
// NULL; a member that is not a column is an error (42703).
func Decode(rel *catalog.Relation, raw []byte) ([]delta.Value, string, *sqlerr.Error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, "", sqlerr.New(sqlerr.InvalidTextRepresentation, "not a JSON object")
	}
	for k := range obj {
		if rel.ColumnIndex(k) < 0 {
			return nil, k, sqlerr.New(sqlerr.UndefinedColumn, "source %q has no column %q", rel.Name, k)
		}
	}
	var raws map[string]json.RawMessage // the members' JSON text, for jsonb columns
	row := make([]delta.Value, len(rel.Columns))
	for i, c := range rel.Columns {
		var v delta.Value
		var err error
		if c.Type == catalog.Jsonb {
			if raws == nil {
				json.Unmarshal(raw, &raws) // raw decoded as an object above, so this succeeds
			}
			v, err = jsonbValue(raws[c.Name])
		} else {
			v, err = value(obj[c.Name], c.Type)
		}
		if err == nil {
			v, err = checkColumn(c, v)
		}
		if err != nil {
			return nil, c.Name, sqlerr.As(err)
		}
		row[i] = v
	}
	return row, "", nil
}

// checkColumn applies a column's constraints to v as the database does on write.
func checkColumn(c catalog.Column, v delta.Value) (delta.Value, error) {
	if v.Null {
		if c.NotNull {
			return v, sqlerr.New(sqlerr.NotNullViolation, "null value in column %q violates not-null constraint", c.Name)
		}
		return v, nil
	}
	if c.Type == catalog.Numeric && c.Precision > 0 {
		return expr.ApplyTypmod(v, c.Precision, c.Scale)
	}
	if c.MaxLen > 0 && utf8.RuneCountInString(v.S) > c.MaxLen {
		return v, sqlerr.New(sqlerr.StringDataRightTruncation, "value too long for type character varying(%d)", c.MaxLen)
	}
	return v, nil
}

func value(v any, t catalog.Type) (delta.Value, error) {
	switch x := v.(type) {
	case nil:
		return delta.Null(t.Kind()), nil
	case json.Number:
		if t.IsString() || t.IsNumeric() {
			return expr.Parse(x.String(), t)
		}
		if t.IsTime() {
			// Numbers for time columns are Unix epoch milliseconds.
			ms, err := x.Int64()
			if err != nil {
				return delta.Value{}, sqlerr.New(sqlerr.InvalidDatetimeFormat, "%s is not epoch milliseconds", x)
			}
			return expr.Convert(delta.Int(ms*1000), catalog.Timestamptz, t)
		}
	case string:
		if t.IsNumeric() || t == catalog.Bool {
			return delta.Value{}, sqlerr.New(sqlerr.InvalidTextRepresentation, "expected a JSON %s for type %s, got the string %q", jsonKind(t), t, x)
		}
		return expr.Parse(x, t)
	case bool:
		if t == catalog.Bool {
			return delta.Bool(x), nil
		}
	}
	return delta.Value{}, sqlerr.New(sqlerr.InvalidTextRepresentation, "JSON value %v does not fit type %s", v, t)
}

// jsonbValue stores any JSON value (object, array, number, string, boolean) in a jsonb
// column as its canonical text; JSON null and a missing member are SQL NULL.
func jsonbValue(raw json.RawMessage) (delta.Value, error) {
	if raw == nil || string(raw) == "null" {
		return delta.Null(delta.KindJsonb), nil
	}
	return expr.Parse(string(raw), catalog.Jsonb)
}

func jsonKind(t catalog.Type) string {
	if t == catalog.Bool {
		return "boolean"
	}
	return "number"
}
