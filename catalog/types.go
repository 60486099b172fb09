package catalog

import (
	"strings"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Type is a logical SQL type. Every Type has a PostgreSQL OID (what clients see), a
// DuckDB spelling (what the view store holds) and a physical delta.Kind (what operators
// compute on).
type Type uint8

// The logical types Weir supports. Unknown is the type of an untyped string literal or
// parameter before the binder resolves it, as in PostgreSQL.
const (
	Unknown Type = iota
	Bool
	Int2
	Int4
	Int8
	Float4
	Float8
	Text
	Varchar
	Timestamp
	Timestamptz
	Date
	// Numeric is exact decimal (PostgreSQL numeric), held as canonical text
	// (delta.KindNumeric). The view store keeps it as VARCHAR: an unconstrained numeric
	// column has no fixed scale, and DuckDB's DECIMAL(38, s) would both cap the digits and
	// print every value at one scale, where PostgreSQL prints each value at its own.
	Numeric
	// Interval is PostgreSQL's interval: months, days and microseconds kept apart.
	Interval
	// Jsonb is PostgreSQL's jsonb, held as its canonical text (keys sorted as jsonb
	// sorts them, no duplicate keys, PostgreSQL's spacing).
	Jsonb
)

var typeInfo = [...]struct {
	name string // PostgreSQL spelling, as format_type prints it
	duck string
	oid  uint32
	size int16
	kind delta.Kind
}{
	Unknown:     {"unknown", "VARCHAR", 705, -2, delta.KindString},
	Bool:        {"boolean", "BOOLEAN", 16, 1, delta.KindBool},
	Int2:        {"smallint", "SMALLINT", 21, 2, delta.KindInt},
	Int4:        {"integer", "INTEGER", 23, 4, delta.KindInt},
	Int8:        {"bigint", "BIGINT", 20, 8, delta.KindInt},
	Float4:      {"real", "FLOAT", 700, 4, delta.KindFloat},
	Float8:      {"double precision", "DOUBLE", 701, 8, delta.KindFloat},
	Text:        {"text", "VARCHAR", 25, -1, delta.KindString},
	Varchar:     {"character varying", "VARCHAR", 1043, -1, delta.KindString},
	Timestamp:   {"timestamp without time zone", "TIMESTAMP", 1114, 8, delta.KindInt},
	Timestamptz: {"timestamp with time zone", "TIMESTAMPTZ", 1184, 8, delta.KindInt},
	Date:        {"date", "DATE", 1082, 4, delta.KindInt},
	Numeric:     {"numeric", "VARCHAR", 1700, -1, delta.KindNumeric},
	Interval:    {"interval", "INTERVAL", 1186, 16, delta.KindInterval},
	Jsonb:       {"jsonb", "VARCHAR", 3802, -1, delta.KindJsonb},
}

// String is the PostgreSQL name of t.
func (t Type) String() string { return typeInfo[t].name }

// OID is t's PostgreSQL type OID.
func (t Type) OID() uint32 { return typeInfo[t].oid }

// Size is t's pg_type.typlen.
func (t Type) Size() int16 { return typeInfo[t].size }

// DuckDB is t's spelling in DuckDB DDL.
func (t Type) DuckDB() string { return typeInfo[t].duck }

// Kind is t's physical representation.
func (t Type) Kind() delta.Kind { return typeInfo[t].kind }

// IsInteger reports whether t is int2, int4 or int8.
func (t Type) IsInteger() bool { return t == Int2 || t == Int4 || t == Int8 }

// IsNumeric reports whether t is an integer, numeric or floating-point type.
func (t Type) IsNumeric() bool { return t.IsInteger() || t == Float4 || t == Float8 || t == Numeric }

// IsFloat reports whether t is real or double precision.
func (t Type) IsFloat() bool { return t == Float4 || t == Float8 }

// IsString reports whether t is text-like.
func (t Type) IsString() bool { return t == Text || t == Varchar || t == Unknown }

// IsTime reports whether t is a date or timestamp type.
func (t Type) IsTime() bool { return t == Timestamp || t == Timestamptz || t == Date }

// TypeByOID returns the Type with PostgreSQL OID oid.
func TypeByOID(oid uint32) (Type, bool) {
	for t := range typeInfo {
		if typeInfo[t].oid == oid && Type(t) != Unknown {
			return Type(t), true
		}
	}
	return Unknown, false
}

// LookupType resolves a type name as pg_query spells it (the last element of
// TypeName.Names: "int8", "varchar", "timestamptz", "float8", "bool", …) or as users write
// it ("bigint", "double precision", "timestamp with time zone").
func LookupType(name string) (Type, error) {
	switch strings.ToLower(name) {
	case "bool", "boolean":
		return Bool, nil
	case "int2", "smallint":
		return Int2, nil
	case "int4", "int", "integer":
		return Int4, nil
	case "int8", "bigint":
		return Int8, nil
	case "float4", "real":
		return Float4, nil
	case "float8", "double precision", "double", "float":
		return Float8, nil
	case "text", "string":
		return Text, nil
	case "varchar", "character varying":
		return Varchar, nil
	case "bpchar", "char", "character":
		return Unknown, sqlerr.New(sqlerr.FeatureNotSupported, "type %s (blank-padded character(n)) is not supported yet: use text or varchar", name)
	case "timestamp", "timestamp without time zone":
		return Timestamp, nil
	case "timestamptz", "timestamp with time zone":
		return Timestamptz, nil
	case "date":
		return Date, nil
	case "numeric", "decimal":
		return Numeric, nil
	case "interval":
		return Interval, nil
	case "jsonb":
		return Jsonb, nil
	case "json", "bytea", "uuid", "time", "timetz":
		return Unknown, sqlerr.New(sqlerr.FeatureNotSupported, "type %s is not supported yet", name)
	}
	return Unknown, sqlerr.New(sqlerr.UndefinedObject, "type %q does not exist", name)
}
