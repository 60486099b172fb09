// Package slt reads and runs sqllogictest scripts (STYLE §2.7): statements, queries and
// their expected rows, run over the wire against a Target such as Weir or PostgreSQL 15.
//
// A script is a sequence of records separated by blank lines:
//
//	# a comment
//	statement ok
//	CREATE TABLE gifts (room_id BIGINT, amount BIGINT)
//
//	statement error 42P01
//	SELECT * FROM no_such_table
//
//	onlyif postgres
//	query IT rowsort
//	SELECT room_id, name
//	FROM rooms
//	----
//	1 lobby
//	2 (empty)
//
//	halt
//
// Directives:
//
//   - statement ok: the SQL must succeed.
//   - statement error <SQLSTATE>: the SQL must fail with that five-character SQLSTATE.
//     The code is mandatory; the message is not checked.
//   - query <types> [nosort|rowsort|valuesort]: the SQL's rows must equal the lines after
//     "----". Types has one letter per column (I integer, R real, T text, B bool); the
//     letters only document, but their count must match the columns returned.
//   - halt: stop running the script here.
//
// Any record may be preceded by "skipif <target>" and "onlyif <target>" lines, matched
// against Target.Name (for example weir or postgres).
//
// SQL may span lines; it ends at a blank line or, for a query, at "----". Expected rows
// are one per line with values separated by single spaces, as the server's text format
// prints them: NULL as "NULL", the empty string as "(empty)", booleans as t and f. A query
// without "----" expects no rows. Lines starting with "#" are comments between records and
// before a directive; inside SQL and expected rows they are data (use "--" in SQL).
package slt

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Kind is what a record does.
type Kind int

const (
	Statement Kind = iota + 1 // statement ok, statement error
	Query                     // query
	Halt                      // halt
)

func (k Kind) String() string {
	switch k {
	case Statement:
		return "statement"
	case Query:
		return "query"
	case Halt:
		return "halt"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Sort is how a query's rows are ordered before comparison.
type Sort int

const (
	NoSort    Sort = iota // compare in the order returned
	RowSort               // sort rows (as their printed lines) on both sides
	ValueSort             // sort all values on both sides, ignoring row boundaries
)

func (s Sort) String() string {
	switch s {
	case NoSort:
		return "nosort"
	case RowSort:
		return "rowsort"
	case ValueSort:
		return "valuesort"
	}
	return fmt.Sprintf("Sort(%d)", int(s))
}

// Record is one statement, query or halt of a script.
type Record struct {
	Kind Kind
	File string // as given to Parse
	Line int    // 1-based line of the directive (statement, query, halt)

	SQL string // without a trailing newline

	// Statement.
	SQLState string // expected SQLSTATE for "statement error"; "" for "statement ok"

	// Query.
	Types    string   // column type letters, e.g. "IIT"
	Sort     Sort     // row order mode
	Expected []string // expected rows, one printed line each

	SkipIf []string // target names from "skipif" lines
	OnlyIf []string // target names from "onlyif" lines
}

// Runs reports whether the record applies to the target with the given name.
func (r Record) Runs(target string) bool {
	for _, name := range r.SkipIf {
		if strings.EqualFold(name, target) {
			return false
		}
	}
	for _, name := range r.OnlyIf {
		if !strings.EqualFold(name, target) {
			return false
		}
	}
	return true
}

// ParseFile reads and parses the script at path.
func ParseFile(path string) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(path, f)
}

// Parse parses a script. Name is used in records and errors ("name:line: …"). Parsing
// stops at an unconditional halt, so whatever follows it need not parse.
func Parse(name string, r io.Reader) ([]Record, error) {
	p := &parser{name: name, sc: bufio.NewScanner(r)}
	p.sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	return p.parse()
}

type parser struct {
	name string
	sc   *bufio.Scanner
	line int    // number of the current line
	text string // the current line, without its newline
}

// next advances to the next line; false at end of input.
func (p *parser) next() bool {
	if !p.sc.Scan() {
		return false
	}
	p.line++
	p.text = strings.TrimSuffix(p.sc.Text(), "\r")
	return true
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.name, p.line, fmt.Sprintf(format, args...))
}

func blank(line string) bool { return strings.TrimSpace(line) == "" }

func (p *parser) parse() ([]Record, error) {
	var recs []Record
	for {
		rec, ok, err := p.record()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		recs = append(recs, rec)
		if rec.Kind == Halt && len(rec.SkipIf) == 0 && len(rec.OnlyIf) == 0 {
			break
		}
	}
	if err := p.sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", p.name, err)
	}
	return recs, nil
}

// record reads the next record; ok is false at end of input.
func (p *parser) record() (rec Record, ok bool, err error) {
	rec.File = p.name
	// Conditions and comments, up to the directive.
	for {
		if !p.next() {
			if len(rec.SkipIf)+len(rec.OnlyIf) > 0 {
				return rec, false, p.errorf("skipif/onlyif at end of file")
			}
			return rec, false, nil
		}
		fields := strings.Fields(p.text)
		switch {
		case len(fields) == 0:
			if len(rec.SkipIf)+len(rec.OnlyIf) > 0 {
				return rec, false, p.errorf("blank line between skipif/onlyif and its record")
			}
			continue
		case strings.HasPrefix(fields[0], "#"):
			continue
		case fields[0] == "skipif" || fields[0] == "onlyif":
			if len(fields) != 2 {
				return rec, false, p.errorf("%s takes one target name, got %q", fields[0], p.text)
			}
			if fields[0] == "skipif" {
				rec.SkipIf = append(rec.SkipIf, fields[1])
			} else {
				rec.OnlyIf = append(rec.OnlyIf, fields[1])
			}
			continue
		}
		break
	}

	rec.Line = p.line
	fields := strings.Fields(p.text)
	switch fields[0] {
	case "statement":
		rec.Kind = Statement
		switch {
		case len(fields) == 2 && fields[1] == "ok":
		case len(fields) >= 2 && fields[1] == "error":
			if len(fields) != 3 {
				return rec, false, p.errorf("statement error needs exactly one SQLSTATE, e.g. \"statement error 42P01\", got %q", p.text)
			}
			if !validSQLState(fields[2]) {
				return rec, false, p.errorf("%q is not a SQLSTATE (five digits or upper-case letters)", fields[2])
			}
			rec.SQLState = fields[2]
		default:
			return rec, false, p.errorf("want \"statement ok\" or \"statement error <SQLSTATE>\", got %q", p.text)
		}
	case "query":
		rec.Kind = Query
		if len(fields) < 2 || len(fields) > 3 {
			return rec, false, p.errorf("want \"query <types> [nosort|rowsort|valuesort]\", got %q", p.text)
		}
		rec.Types = fields[1]
		if strings.Trim(rec.Types, "IRTB") != "" {
			return rec, false, p.errorf("query types %q: want letters I, R, T, B, one per column", rec.Types)
		}
		if len(fields) == 3 {
			switch fields[2] {
			case "nosort":
				rec.Sort = NoSort
			case "rowsort":
				rec.Sort = RowSort
			case "valuesort":
				rec.Sort = ValueSort
			default:
				return rec, false, p.errorf("query sort mode %q: want nosort, rowsort or valuesort", fields[2])
			}
		}
	case "halt":
		if len(fields) != 1 {
			return rec, false, p.errorf("halt takes no arguments, got %q", p.text)
		}
		rec.Kind = Halt
		return rec, true, nil
	default:
		return rec, false, p.errorf("unknown directive %q (want statement, query, halt, skipif, onlyif or # comment)", fields[0])
	}

	// SQL, up to a blank line, "----" or the end.
	var sql []string
	sawSeparator := false
	for p.next() {
		if blank(p.text) {
			break
		}
		if strings.TrimSpace(p.text) == "----" {
			if rec.Kind != Query {
				return rec, false, p.errorf("\"----\" after a statement; only queries have results")
			}
			sawSeparator = true
			break
		}
		sql = append(sql, p.text)
	}
	if len(sql) == 0 {
		return rec, false, fmt.Errorf("%s:%d: %s without SQL", p.name, rec.Line, rec.Kind)
	}
	rec.SQL = strings.Join(sql, "\n")

	// Expected rows, up to a blank line or the end.
	if sawSeparator {
		for p.next() && !blank(p.text) {
			rec.Expected = append(rec.Expected, p.text)
		}
	}
	return rec, true, nil
}

func validSQLState(s string) bool {
	if len(s) != 5 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}
