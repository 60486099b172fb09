package planner_test

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/queries"
)

// FuzzStatement feeds arbitrary SQL text to the statement front end (the streaming
// statement scanner, pg_query, the binder and, for a view, lowering to a dataflow) over a
// catalog holding the live-room pack and the planner tests' fixture. It must never panic,
// and every error must be a *sqlerr.Error with a valid SQLSTATE that is not XX000: a bad
// statement is the client's mistake, named as such (DESIGN §4 Errors). Seeds: every
// statement of testdata/slt, queries/*.sql and testdata/pgcorpus; crashers found are kept
// in testdata/fuzz/FuzzStatement.
func FuzzStatement(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	p := fuzzPlanner(f)
	f.Fuzz(func(t *testing.T, sql string) {
		st, err := p.Plan(sql, nil)
		if err == nil {
			if st == nil {
				t.Fatalf("Plan(%q) returned neither a statement nor an error", sql)
			}
			if cv, ok := st.(*planner.CreateView); ok {
				_, err = planner.Lower(cv.Plan)
			}
		}
		if err != nil {
			requireCoded(t, sql, err)
		}
	})
}

var sqlstate = regexp.MustCompile(`^[0-9A-Z]{5}$`)

func requireCoded(t *testing.T, sql string, err error) {
	t.Helper()
	var e *sqlerr.Error
	if !errors.As(err, &e) {
		t.Fatalf("%q: error without a SQLSTATE: %v (%T)", sql, err, err)
	}
	if !sqlstate.MatchString(string(e.Code)) {
		t.Fatalf("%q: invalid SQLSTATE %q: %v", sql, e.Code, err)
	}
	if e.Code == sqlerr.Internal {
		t.Fatalf("%q: internal error for a client's statement: %v", sql, err)
	}
}

// fuzzPlanner is a planner over the live-room pack's catalog plus the planner tests' own
// fixture (whatever of it the pack does not already define).
func fuzzPlanner(f *testing.F) *planner.Planner {
	cat := catalog.New()
	p := planner.New(cat)
	var ddl []string
	err := fs.WalkDir(queries.Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := queries.Files.ReadFile(path)
		if err != nil {
			return err
		}
		stmts, err := planner.Split(string(b))
		ddl = append(ddl, stmts...)
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	ddl = append(ddl, fixture...)
	for _, q := range ddl {
		st, err := p.Plan(q, nil)
		if err != nil {
			continue // a name the pack already has
		}
		switch s := st.(type) {
		case *planner.CreateRelation:
			_ = cat.Add(s.Rel)
		case *planner.CreateView:
			_ = cat.Add(s.Rel)
		}
	}
	return p
}

// fuzzSeeds returns the statements of the slt scripts, the query pack and the client
// corpus.
func fuzzSeeds(f *testing.F) []string {
	var out []string
	slts, _ := filepath.Glob("../testdata/slt/*.slt")
	for _, path := range slts {
		out = append(out, sltStatements(f, path)...)
	}
	sqls, _ := filepath.Glob("../queries/*.sql")
	corpus, _ := filepath.Glob("../testdata/pgcorpus/*.sql")
	for _, path := range append(sqls, corpus...) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		stmts, err := planner.Split(string(b))
		if err != nil {
			f.Fatalf("%s: %v", path, err)
		}
		out = append(out, stmts...)
	}
	if len(out) == 0 {
		f.Fatal("no seed statements found")
	}
	return out
}

// sltStatements returns the SQL of every statement and query record of an slt script.
func sltStatements(f *testing.F, path string) []string {
	fh, err := os.Open(path)
	if err != nil {
		f.Fatal(err)
	}
	defer fh.Close()
	var out []string
	var cur []string
	in := false
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, "\n"))
		}
		cur, in = nil, false
	}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "statement ") || strings.HasPrefix(line, "query "):
			flush()
			in = true
		case !in:
		case line == "" || line == "----":
			flush()
		default:
			cur = append(cur, line)
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		f.Fatal(err)
	}
	return out
}
