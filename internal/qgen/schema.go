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
// What the generator avoids, and why, is written next to each construct: integer
// division, sums that could overflow, float arithmetic that is not exact, orders that
// are not total before a LIMIT or row_number, outer joins inside a correlated EXISTS
// (DuckDB cannot decorrelate them). Shapes left out because Weir gets them wrong are
// constants or conditions named after the bug: scalarInSelectList, and the scalarOK
// condition in selectCore.
package qgen

import "strings"

// Type is a column's or an expression's type class.
type Type int

// The type classes the generator uses. Int covers integer and bigint (they compare and
// join with each other); Float is double precision and only ever holds values that are
// exact in binary (multiples of 1/4), so sums and comparisons agree between engines.
const (
	Int Type = iota
	Text
	Float
	Bool
)

func (t Type) String() string {
	return [...]string{"int", "text", "float", "bool"}[t]
}

// Column is one column of a relation.
type Column struct {
	Name    string
	Type    Type
	SQLType string // the declared type: integer, bigint, text, double precision, boolean
	NotNull bool
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
// w, b) so that joins, USING and self-joins find partners.
var Relations = []Relation{
	{Name: "ta", Key: "k", Columns: []Column{
		{"k", Int, "bigint", true},
		{"g", Int, "integer", false},
		{"v", Int, "bigint", false},
		{"s", Text, "text", false},
		{"b", Bool, "boolean", false},
	}},
	{Name: "tb", Key: "k", Columns: []Column{
		{"k", Int, "bigint", true},
		{"g", Int, "integer", false},
		{"w", Float, "double precision", false},
		{"s", Text, "text", false},
	}},
	{Name: "ea", Columns: []Column{
		{"g", Int, "integer", true},
		{"v", Int, "bigint", false},
		{"s", Text, "text", false},
	}},
	{Name: "eb", Columns: []Column{
		{"g", Int, "integer", false},
		{"w", Float, "double precision", false},
		{"b", Bool, "boolean", false},
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
func WeirDDL() []string { return ddl(true) }

// OracleDDL returns the statements that create the schema in DuckDB or PostgreSQL, where
// a source is a plain table that only ever receives inserts.
func OracleDDL() []string { return ddl(false) }

func ddl(weir bool) []string {
	var out []string
	for _, r := range Relations {
		var cols []string
		for _, c := range r.Columns {
			d := c.Name + " " + c.SQLType
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
