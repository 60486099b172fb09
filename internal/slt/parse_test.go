package slt

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Record
	}{
		{
			name: "statement ok",
			src:  "statement ok\nCREATE TABLE t (a INT)\n",
			want: []Record{{Kind: Statement, Line: 1, SQL: "CREATE TABLE t (a INT)"}},
		},
		{
			name: "statement error",
			src:  "statement error 42P01\nSELECT * FROM nope",
			want: []Record{{Kind: Statement, Line: 1, SQL: "SELECT * FROM nope", SQLState: "42P01"}},
		},
		{
			name: "multi-line SQL and CRLF",
			src:  "statement ok\r\nCREATE TABLE t (\r\n  a INT\r\n)\r\n",
			want: []Record{{Kind: Statement, Line: 1, SQL: "CREATE TABLE t (\n  a INT\n)"}},
		},
		{
			name: "query with rows",
			src:  "query IT rowsort\nSELECT a, b\nFROM t\n----\n1 x\n2 (empty)\n3 NULL\n",
			want: []Record{{
				Kind: Query, Line: 1, SQL: "SELECT a, b\nFROM t", Types: "IT", Sort: RowSort,
				Expected: []string{"1 x", "2 (empty)", "3 NULL"},
			}},
		},
		{
			name: "query sort modes",
			src:  "query I nosort\nSELECT 1\n----\n1\n\nquery R valuesort\nSELECT 1.5\n----\n1.5\n",
			want: []Record{
				{Kind: Query, Line: 1, SQL: "SELECT 1", Types: "I", Sort: NoSort, Expected: []string{"1"}},
				{Kind: Query, Line: 6, SQL: "SELECT 1.5", Types: "R", Sort: ValueSort, Expected: []string{"1.5"}},
			},
		},
		{
			name: "query with empty result",
			src:  "query B\nSELECT true WHERE false\n----\n\nquery I\nSELECT 1 WHERE false\n",
			want: []Record{
				{Kind: Query, Line: 1, SQL: "SELECT true WHERE false", Types: "B"},
				{Kind: Query, Line: 5, SQL: "SELECT 1 WHERE false", Types: "I"},
			},
		},
		{
			name: "comments and blank lines",
			src:  "# header\n\n\n# about the next record\nstatement ok\nSELECT 1\n\n   \n# trailing\n",
			want: []Record{{Kind: Statement, Line: 5, SQL: "SELECT 1"}},
		},
		{
			name: "hash inside rows is data",
			src:  "query T\nSELECT '#tag'\n----\n#tag\n",
			want: []Record{{Kind: Query, Line: 1, SQL: "SELECT '#tag'", Types: "T", Expected: []string{"#tag"}}},
		},
		{
			name: "skipif and onlyif",
			src:  "skipif weir\nonlyif postgres\nstatement ok\nSELECT 1\n",
			want: []Record{{Kind: Statement, Line: 3, SQL: "SELECT 1", SkipIf: []string{"weir"}, OnlyIf: []string{"postgres"}}},
		},
		{
			name: "unconditional halt stops parsing",
			src:  "statement ok\nSELECT 1\n\nhalt\n\nthis is not a record\n",
			want: []Record{
				{Kind: Statement, Line: 1, SQL: "SELECT 1"},
				{Kind: Halt, Line: 4},
			},
		},
		{
			name: "conditional halt",
			src:  "onlyif weir\nhalt\n\nstatement ok\nSELECT 1\n",
			want: []Record{
				{Kind: Halt, Line: 2, OnlyIf: []string{"weir"}},
				{Kind: Statement, Line: 4, SQL: "SELECT 1"},
			},
		},
		{
			name: "empty file",
			src:  "",
			want: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse("x.slt", strings.NewReader(tc.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			for i := range tc.want {
				tc.want[i].File = "x.slt"
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // substring of the error, which starts with file:line
	}{
		{"statement error without SQLSTATE", "statement error\nSELECT 1\n", "x.slt:1: statement error needs exactly one SQLSTATE"},
		{"statement error with message", "statement error 42P01 no such table\nSELECT 1\n", "x.slt:1: statement error needs exactly one SQLSTATE"},
		{"short SQLSTATE", "statement error 42P0\nSELECT 1\n", `x.slt:1: "42P0" is not a SQLSTATE`},
		{"lower-case SQLSTATE", "statement error 42p01\nSELECT 1\n", `x.slt:1: "42p01" is not a SQLSTATE`},
		{"statement typo", "statement okay\nSELECT 1\n", "x.slt:1: want \"statement ok\""},
		{"statement without SQL", "statement ok\n\nstatement ok\nSELECT 1\n", "x.slt:1: statement without SQL"},
		{"statement at end of file", "statement ok", "x.slt:1: statement without SQL"},
		{"query without types", "query\nSELECT 1\n", "x.slt:1: want \"query <types>"},
		{"query bad types", "query IX\nSELECT 1, 2\n", `x.slt:1: query types "IX"`},
		{"query bad sort", "query I sorted\nSELECT 1\n", `x.slt:1: query sort mode "sorted"`},
		{"query label", "query I nosort label\nSELECT 1\n", "x.slt:1: want \"query <types>"},
		{"query without SQL", "query I\n----\n1\n", "x.slt:1: query without SQL"},
		{"separator after statement", "statement ok\nSELECT 1\n----\n1\n", `x.slt:3: "----" after a statement`},
		{"unknown directive", "\n\nselect 1\n", `x.slt:3: unknown directive "select"`},
		{"halt with argument", "halt now\n", "x.slt:1: halt takes no arguments"},
		{"skipif without target", "skipif\nstatement ok\nSELECT 1\n", "x.slt:1: skipif takes one target name"},
		{"onlyif then blank", "onlyif weir\n\nstatement ok\nSELECT 1\n", "x.slt:2: blank line between skipif/onlyif"},
		{"onlyif at end", "onlyif weir\n", "x.slt:1: skipif/onlyif at end of file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := Parse("x.slt", strings.NewReader(tc.src))
			if err == nil {
				t.Fatalf("Parse succeeded with %+v, want error containing %q", recs, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse error %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseFile(t *testing.T) {
	recs, err := ParseFile("testdata/pg_sanity.slt")
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 {
		t.Fatal("no records")
	}
	for _, r := range recs {
		if r.File != "testdata/pg_sanity.slt" || r.Line == 0 {
			t.Errorf("record %+v lacks its position", r)
		}
	}
	if _, err := ParseFile("testdata/does_not_exist.slt"); err == nil {
		t.Error("ParseFile of a missing file succeeded")
	}
}

func TestRecordRuns(t *testing.T) {
	tests := []struct {
		skipIf, onlyIf []string
		target         string
		want           bool
	}{
		{nil, nil, "weir", true},
		{[]string{"weir"}, nil, "weir", false},
		{[]string{"weir"}, nil, "postgres", true},
		{nil, []string{"weir"}, "weir", true},
		{nil, []string{"weir"}, "postgres", false},
		{nil, []string{"Weir"}, "weir", true},
		{[]string{"mysql"}, []string{"postgres"}, "postgres", true},
	}
	for _, tc := range tests {
		r := Record{SkipIf: tc.skipIf, OnlyIf: tc.onlyIf}
		if got := r.Runs(tc.target); got != tc.want {
			t.Errorf("skipif %v onlyif %v on %s: Runs = %v, want %v", tc.skipIf, tc.onlyIf, tc.target, got, tc.want)
		}
	}
}
