// Package qgen generates random SQL for Weir's randomized differential test
// (db/fuzz_test.go): continuous queries over a fixed schema, and change streams of
// inserts, upserts, updates and deletes. Every query stays inside the SQL Weir accepts for
// a materialized view and means the same in Weir, DuckDB and PostgreSQL, so the test can
// compare each view, after every tick, with DuckDB's batch answer to the same SELECT.
//
// Everything is deterministic from a seed: New(seed) yields the same queries and
// NewStream(seed) the same writes on every run and platform (math/rand/v2's PCG), so a
// printed seed reproduces a failure.
//
// The schema (Relations) has two keyed tables and two append-only sources whose columns
// draw from small, skewed domains with NULLs, so joins and groups collide, NOT IN meets
// NULLs and one hot key takes many of the writes. Queries may also read views made from
// earlier queries (Gen.Views). Query.Shapes names what a query uses, for coverage reports.
//
// Time and JSON: a timestamp column ts (in ta and ea) and a jsonb column j (in tb and
// eb). The generator uses only the forms DuckDB answers exactly as PostgreSQL does over
// these domains: timestamp ± INTERVAL literal, date_trunc('minute'|'hour'|'day', ts),
// extract(hour|minute|dow FROM ts), ts - ts compared with an interval, and ->> on j
// (compared as text, or cast to bigint). date_bin and to_char exist only in Weir and
// PostgreSQL, jsonb_typeof differs from DuckDB's json_type, and intervals print
// differently, so none of those is generated (testdata/slt covers them against
// PostgreSQL). See JSON for how DuckDB holds j.
//
// What the generator avoids, and why, is written next to each construct: integer
// division, sums that could overflow, float arithmetic that is not exact, computing
// with an average (Inexact: DuckDB rounds it differently), orders that are not total
// before a LIMIT or row_number, outer joins inside a correlated EXISTS (DuckDB cannot
// decorrelate them), date_trunc compared with a constant off its unit's boundary (a
// DuckDB bug, truncConst). Shapes left out because Weir gets them wrong are constants or
// conditions named after the bug: scalarInSelectList, weirWalksTimeJSON, and the
// scalarOK condition in selectCore.
package qgen

import "strings"

// Type is a column's or an expression's type class.
type Type int

// The type classes the generator uses. Int covers integer and bigint (they compare and
// join with each other), and numeric values that are whole numbers (extract, sum of a
// bigint); Float is double precision and only ever holds values that are exact in binary
// (multiples of 1/4), so sums and comparisons agree between engines. Time is timestamp
// (without time zone). JSON is jsonb: no expression has that type, queries only read a
// jsonb column through the accessors of jsonAccessors (and test it for NULL).
//
// Inexact is an average: double precision in DuckDB, numeric in PostgreSQL and Weir for
// an average of integers. The engines round it differently (PostgreSQL's numeric quotient
// has a fixed number of digits, 1/3 is 0.33333333333333333333; DuckDB's is a double), so
// three averages of 1/3 sum to 1 in DuckDB and to 0.99999999999999999999 in PostgreSQL,
// and Weir, which computes numeric as PostgreSQL does, disagrees with DuckDB on any sum,
// difference or comparison at such a boundary. (A double average of quarters is the same
// double everywhere, but sums of it depend on the order of additions, and Weir adds and
// retracts incrementally.) So an Inexact value is only ever passed along: selected,
// ordered, deduplicated by a set operation (equal quotients of small integers are equal
// in both representations) or tested for NULL, never computed with, compared, grouped
// by or aggregated. A comparison of an aggregate average with a constant, in HAVING or
// against a scalar subquery, stays: a quotient of small integers is never within
// rounding distance of a constant it does not equal.
const (
	Int Type = iota
	Text
	Float
	Bool
	Time
	JSON
	Inexact
)

func (t Type) String() string {
	return [...]string{"int", "text", "float", "bool", "time", "json", "inexact"}[t]
}

// Column is one column of a relation.
type Column struct {
	Name    string
	Type    Type
	SQLType string // the declared type: integer, bigint, text, double precision, boolean, timestamp, jsonb
	NotNull bool
}

// DuckDBType is c's type in DuckDB, the oracle. A jsonb column is VARCHAR holding the
// text the stream wrote (DuckDB's ->> parses a VARCHAR as JSON; its JSON type would
// come back from a read as a decoded Go value). Weir and PostgreSQL hold the canonical
// jsonb text instead, which differs from the written text only in spacing and key order
// (the stream never writes a duplicate key or a non-integer number), and no query reads
// j except through ->>, which gives the same text for both (see jsonAccessors).
func (c Column) DuckDBType() string {
	if c.SQLType == "jsonb" {
		return "VARCHAR"
	}
	return c.SQLType
}

// Relation is a table (Key names its primary-key column) or an append-only source
// (Key is "").
type Relation struct {
	Name    string
	Key     string
	Columns []Column
}

// IsSource reports whether r is an append-only source.
func (r Relation) IsSource() bool { return r.Key == "" }

// Relations is the fixed schema every query and stream uses: tables ta and tb (bigint
// keys), sources ea and eb. Column names repeat across relations (g everywhere, k, v, s,
// w, b, ts, j) so that joins, USING and self-joins find partners.
var Relations = []Relation{
	{Name: "ta", Key: "k", Columns: []Column{
		{"k", Int, "bigint", true},
		{"g", Int, "integer", false},
		{"v", Int, "bigint", false},
		{"s", Text, "text", false},
		{"b", Bool, "boolean", false},
		{"ts", Time, "timestamp", false},
	}},
	{Name: "tb", Key: "k", Columns: []Column{
		{"k", Int, "bigint", true},
		{"g", Int, "integer", false},
		{"w", Float, "double precision", false},
		{"s", Text, "text", false},
		{"j", JSON, "jsonb", false},
	}},
	{Name: "ea", Columns: []Column{
		{"g", Int, "integer", true},
		{"v", Int, "bigint", false},
		{"s", Text, "text", false},
		{"ts", Time, "timestamp", false},
	}},
	{Name: "eb", Columns: []Column{
		{"g", Int, "integer", false},
		{"w", Float, "double precision", false},
		{"b", Bool, "boolean", false},
		{"j", JSON, "jsonb", false},
	}},
}

// RelationNamed returns the relation named name; ok is false when there is none.
func RelationNamed(name string) (Relation, bool) {
	for _, r := range Relations {
		if r.Name == name {
			return r, true
		}
	}
	return Relation{}, false
}

// WeirDDL returns the statements that create the schema in Weir: CREATE TABLE for the
// tables, CREATE SOURCE for the sources.
func WeirDDL() []string { return ddl(true, false) }

// PostgresDDL returns the statements that create the schema in PostgreSQL, where a
// source is a plain table that only ever receives inserts.
func PostgresDDL() []string { return ddl(false, false) }

// DuckDBDDL returns the statements that create the schema in DuckDB: PostgresDDL with
// each column's DuckDBType.
func DuckDBDDL() []string { return ddl(false, true) }

func ddl(weir, duck bool) []string {
	var out []string
	for _, r := range Relations {
		var cols []string
		for _, c := range r.Columns {
			typ := c.SQLType
			if duck {
				typ = c.DuckDBType()
			}
			d := c.Name + " " + typ
			switch {
			case c.Name == r.Key:
				d += " PRIMARY KEY"
			case c.NotNull:
				d += " NOT NULL"
			}
			cols = append(cols, d)
		}
		kind := "TABLE"
		if r.IsSource() && weir {
			kind = "SOURCE"
		}
		out = append(out, "CREATE "+kind+" "+r.Name+" ("+strings.Join(cols, ", ")+")")
	}
	return out
}
