package slt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// fakeTarget answers from maps keyed by SQL and logs what it was asked.
type fakeTarget struct {
	name    string
	errs    map[string]error
	results map[string][][]string
	ran     []string
}

func (f *fakeTarget) Name() string { return f.name }

func (f *fakeTarget) Exec(_ context.Context, sql string) error {
	f.ran = append(f.ran, sql)
	return f.errs[sql]
}

func (f *fakeTarget) Query(_ context.Context, sql string) ([][]string, error) {
	f.ran = append(f.ran, sql)
	if err := f.errs[sql]; err != nil {
		return nil, err
	}
	return f.results[sql], nil
}

// codedErr mimics *pgconn.PgError: an error with a SQLSTATE() method.
type codedErr struct{ code, msg string }

func (e *codedErr) Error() string    { return fmt.Sprintf("ERROR: %s (SQLSTATE %s)", e.msg, e.code) }
func (e *codedErr) SQLState() string { return e.code }

// fakeReporter collects failures instead of failing the test.
type fakeReporter struct {
	ctx    context.Context
	errors []string
}

func (r *fakeReporter) Helper()                  {}
func (r *fakeReporter) Context() context.Context { return r.ctx }
func (r *fakeReporter) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestRun(t *testing.T) {
	wrapped := fmt.Errorf("exec: %w", &codedErr{"42P01", `relation "nope" does not exist`})
	rows := map[string][][]string{
		"SELECT a, b FROM t":   {{"2", "y"}, {"1", "x"}},
		"SELECT a FROM t":      {{"3"}, {"1"}, {"2"}},
		"SELECT nothing":       nil,
		"SELECT 'hello world'": {{"hello world"}},
	}
	tests := []struct {
		name   string
		target string
		src    string
		want   []string // substrings, one per expected failure, in order
		ran    []string // SQL the target should have seen; nil to skip the check
	}{
		{
			name: "statement ok",
			src:  "statement ok\nCREATE TABLE t (a INT)\n",
		},
		{
			name: "statement ok fails",
			src:  "\nstatement ok\nSELECT * FROM nope\n",
			want: []string{"x.slt:2: statement failed: exec: ERROR: relation \"nope\" does not exist (SQLSTATE 42P01)\n    SELECT * FROM nope"},
		},
		{
			name: "statement error matches wrapped code",
			src:  "statement error 42P01\nSELECT * FROM nope\n",
		},
		{
			name: "statement error wrong code",
			src:  "statement error 42601\nSELECT * FROM nope\n",
			want: []string{"x.slt:1: want error 42601, got exec: ERROR: relation \"nope\" does not exist (SQLSTATE 42P01)"},
		},
		{
			name: "statement error succeeds",
			src:  "statement error 42601\nSELECT 1\n",
			want: []string{"x.slt:1: statement succeeded, want error 42601"},
		},
		{
			name: "statement error without code",
			src:  "statement error 42601\nSELECT plain\n",
			want: []string{"x.slt:1: want error 42601, got boom (no SQLSTATE)"},
		},
		{
			name: "nosort matches",
			src:  "query IT\nSELECT a, b FROM t\n----\n2 y\n1 x\n",
		},
		{
			name: "nosort order matters",
			src:  "query IT nosort\nSELECT a, b FROM t\n----\n1 x\n2 y\n",
			want: []string{"x.slt:1: query result mismatch (nosort)\n    SELECT a, b FROM t\nexpected:\n    1 x\n    2 y\ngot:\n    2 y\n    1 x"},
		},
		{
			name: "rowsort sorts both sides",
			src:  "query IT rowsort\nSELECT a, b FROM t\n----\n1 x\n2 y\n\nquery IT rowsort\nSELECT a, b FROM t\n----\n2 y\n1 x\n",
		},
		{
			name: "rowsort mismatch",
			src:  "query IT rowsort\nSELECT a, b FROM t\n----\n1 x\n2 z\n",
			want: []string{"expected:\n    1 x\n    2 z\ngot:\n    1 x\n    2 y"},
		},
		{
			name: "valuesort ignores row boundaries",
			src:  "query I valuesort\nSELECT a FROM t\n----\n1 2 3\n",
		},
		{
			name: "valuesort mismatch",
			src:  "query I valuesort\nSELECT a FROM t\n----\n1\n2\n4\n",
			want: []string{"query result mismatch (valuesort)"},
		},
		{
			name: "values with spaces",
			src:  "query T\nSELECT 'hello world'\n----\nhello world\n",
		},
		{
			name: "empty result",
			src:  "query I\nSELECT nothing\n----\n\nquery I\nSELECT nothing\n",
		},
		{
			name: "expected rows missing",
			src:  "query I\nSELECT nothing\n----\n1\n",
			want: []string{"expected:\n    1\ngot:\n    (none)"},
		},
		{
			name: "column count",
			src:  "query I\nSELECT a, b FROM t\n----\n2 y\n1 x\n",
			want: []string{"x.slt:1: query I declares 1 columns, got 2"},
		},
		{
			name: "query fails",
			src:  "query I\nSELECT * FROM nope\n----\n1\n",
			want: []string{"x.slt:1: query failed: exec: ERROR: relation"},
		},
		{
			name: "failures do not stop the script",
			src:  "statement ok\nSELECT * FROM nope\n\nstatement error 42601\nSELECT 1\n\nstatement ok\nSELECT 2\n",
			want: []string{"x.slt:1:", "x.slt:4:"},
			ran:  []string{"SELECT * FROM nope", "SELECT 1", "SELECT 2"},
		},
		{
			name:   "skipif and onlyif",
			target: "weir",
			src:    "skipif weir\nstatement ok\nSELECT 1\n\nonlyif postgres\nstatement ok\nSELECT 2\n\nonlyif weir\nstatement ok\nSELECT 3\n",
			ran:    []string{"SELECT 3"},
		},
		{
			name: "halt",
			src:  "statement ok\nSELECT 1\n\nhalt\n\nstatement ok\nSELECT 2\n",
			ran:  []string{"SELECT 1"},
		},
		{
			name:   "conditional halt",
			target: "weir",
			src:    "onlyif postgres\nhalt\n\nstatement ok\nSELECT 1\n\nonlyif weir\nhalt\n\nstatement ok\nSELECT 2\n",
			ran:    []string{"SELECT 1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := Parse("x.slt", strings.NewReader(tc.src))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			target := &fakeTarget{
				name: cmp(tc.target, "postgres"),
				errs: map[string]error{
					"SELECT * FROM nope": wrapped,
					"SELECT plain":       errors.New("boom"),
				},
				results: rows,
			}
			rep := &fakeReporter{ctx: t.Context()}
			run(rep, target, recs)

			if len(rep.errors) != len(tc.want) {
				t.Fatalf("got %d failures, want %d:\n%s", len(rep.errors), len(tc.want), strings.Join(rep.errors, "\n---\n"))
			}
			for i, want := range tc.want {
				if !strings.Contains(rep.errors[i], want) {
					t.Errorf("failure %d:\n%s\nwant it to contain:\n%s", i, rep.errors[i], want)
				}
			}
			if tc.ran != nil && strings.Join(target.ran, "|") != strings.Join(tc.ran, "|") {
				t.Errorf("target ran %q, want %q", target.ran, tc.ran)
			}
		})
	}
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestValue(t *testing.T) {
	tests := []struct {
		in   []byte
		want string
	}{
		{nil, "NULL"},
		{[]byte{}, "(empty)"},
		{[]byte("t"), "t"},
		{[]byte("NULL"), "NULL"},
		{[]byte(" "), " "},
	}
	for _, tc := range tests {
		if got := Value(tc.in); got != tc.want {
			t.Errorf("Value(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
