package slt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Target is a database that scripts run against: Weir's in-process server or PostgreSQL 15.
type Target interface {
	// Name is matched by skipif and onlyif lines, e.g. "weir" or "postgres".
	Name() string
	// Exec runs a statement, discarding any rows. A failure should carry its SQLSTATE:
	// the runner finds it with errors.As through an error with a SQLState() string
	// method, as *pgconn.PgError and *pq.Error have.
	Exec(ctx context.Context, sql string) error
	// Query runs a query and returns its rows as slt values: the server's text format,
	// NULL as "NULL" and the empty string as "(empty)" (see Value).
	Query(ctx context.Context, sql string) (rows [][]string, err error)
}

// recordTimeout bounds one statement or query, so a hung server fails the record with its
// file:line instead of the whole test binary on go test's -timeout.
const recordTimeout = 2 * time.Minute

// Value renders one text-format value the way scripts spell it: nil (SQL NULL) as "NULL",
// the empty string as "(empty)", anything else as sent.
func Value(v []byte) string {
	switch {
	case v == nil:
		return "NULL"
	case len(v) == 0:
		return "(empty)"
	}
	return string(v)
}

// RunFile parses the script at path and runs its records in order against target. Each
// failing record is reported with t.Errorf as "path:line: …" with the SQL and, for
// queries, the expected and actual rows; later records still run. A script that does not
// parse fails the test at once.
func RunFile(t testing.TB, target Target, path string) {
	t.Helper()
	recs, err := ParseFile(path)
	if err != nil {
		t.Fatalf("slt: %v", err)
	}
	Run(t, target, recs)
}

// Run runs parsed records against target, as RunFile does.
func Run(t testing.TB, target Target, recs []Record) {
	t.Helper()
	run(t, target, recs)
}

// reporter is the part of testing.TB the runner uses, so tests can catch its failures.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Context() context.Context
}

func run(t reporter, target Target, recs []Record) {
	t.Helper()
	name := target.Name()
	for _, rec := range recs {
		if !rec.Runs(name) {
			continue
		}
		if rec.Kind == Halt {
			return
		}
		ctx, cancel := context.WithTimeout(t.Context(), recordTimeout)
		var msg string
		switch rec.Kind {
		case Statement:
			msg = checkStatement(rec, target.Exec(ctx, rec.SQL))
		case Query:
			rows, err := target.Query(ctx, rec.SQL)
			msg = checkQuery(rec, rows, err)
		}
		cancel()
		if msg != "" {
			t.Errorf("%s:%d: %s", rec.File, rec.Line, msg)
		}
	}
}

// checkStatement returns a failure message, or "" when err is what rec expects.
func checkStatement(rec Record, err error) string {
	switch {
	case rec.SQLState == "" && err != nil:
		return fmt.Sprintf("statement failed: %s\n%s", describe(err), indent(rec.SQL))
	case rec.SQLState == "":
		return ""
	case err == nil:
		return fmt.Sprintf("statement succeeded, want error %s\n%s", rec.SQLState, indent(rec.SQL))
	}
	code := sqlState(err)
	if code == rec.SQLState {
		return ""
	}
	return fmt.Sprintf("want error %s, got %s\n%s", rec.SQLState, describe(err), indent(rec.SQL))
}

// checkQuery returns a failure message, or "" when rows are what rec expects.
func checkQuery(rec Record, rows [][]string, err error) string {
	if err != nil {
		return fmt.Sprintf("query failed: %s\n%s", describe(err), indent(rec.SQL))
	}
	for _, row := range rows {
		if len(row) != len(rec.Types) {
			return fmt.Sprintf("query %s declares %d columns, got %d\n%s\ngot:\n%s",
				rec.Types, len(rec.Types), len(row), indent(rec.SQL), indent(strings.Join(lines(rows), "\n")))
		}
	}

	want, got := rec.Expected, lines(rows)
	switch rec.Sort {
	case RowSort:
		want, got = sorted(want), sorted(got)
	case ValueSort:
		var wantValues, gotValues []string
		for _, line := range want {
			wantValues = append(wantValues, strings.Split(line, " ")...)
		}
		for _, row := range rows {
			gotValues = append(gotValues, row...)
		}
		want = regroup(sorted(wantValues), len(rec.Types))
		got = regroup(sorted(gotValues), len(rec.Types))
	}
	if slices.Equal(want, got) {
		return ""
	}
	return fmt.Sprintf("query result mismatch (%s)\n%s\nexpected:\n%s\ngot:\n%s",
		rec.Sort, indent(rec.SQL), indent(strings.Join(want, "\n")), indent(strings.Join(got, "\n")))
}

// sqlState returns err's SQLSTATE, or "" when it carries none.
func sqlState(err error) string {
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		return coded.SQLState()
	}
	return ""
}

func describe(err error) string {
	if code := sqlState(err); code != "" && !strings.Contains(err.Error(), code) {
		return fmt.Sprintf("%s: %v", code, err)
	}
	if sqlState(err) == "" {
		return fmt.Sprintf("%v (no SQLSTATE)", err)
	}
	return err.Error()
}

// lines prints rows as a script spells them: values separated by single spaces.
func lines(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, row := range rows {
		out[i] = strings.Join(row, " ")
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// regroup lays values out n per line, for comparing and printing valuesort results.
func regroup(values []string, n int) []string {
	if n < 1 {
		n = 1
	}
	var out []string
	for len(values) > 0 {
		k := min(n, len(values))
		out = append(out, strings.Join(values[:k], " "))
		values = values[k:]
	}
	return out
}

func indent(s string) string {
	if s == "" {
		return "    (none)"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}
