package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5"
	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/server"
)

// apply runs .sql files against a running server, idempotently. Each CREATE SOURCE,
// CREATE TABLE and CREATE MATERIALIZED VIEW in the files is compared with the object's
// definition in weir_catalog, token by token (whitespace, comments, keyword case and
// IF NOT EXISTS do not count):
//
//   - an object that does not exist is created;
//   - an unchanged one is left alone;
//   - a view whose definition changed is replaced: dropped and created again, together
//     with every view that reads it (re-created from its file, or from the catalog
//     when no file declares it);
//   - a source or table whose definition changed is kept as it is, with a warning:
//     replacing it would lose its data;
//   - an object no file declares is dropped only with --prune.
//
// Every other statement (INSERT, SET, …) runs on every apply. Statements run in
// dependency order (a view after what it reads), otherwise in file order: the files
// of a directory in name order, the arguments in the order given. --dry-run prints
// the plan and changes nothing.
func apply(args []string, stdout io.Writer, logger *slog.Logger) error {
	set := flag.NewFlagSet("apply", flag.ContinueOnError)
	addr := set.String("pg", server.DefaultConfig().PGAddr, "server address (PostgreSQL wire protocol)")
	dryRun := set.Bool("dry-run", false, "print the plan (create / replace / unchanged / drop) and change nothing")
	prune := set.Bool("prune", false, "drop the objects that no file declares")
	// Flags may come after the files too: `weir apply queries/ --dry-run`.
	var paths []string
	for {
		if err := set.Parse(args); err != nil {
			return err
		}
		if set.NArg() == 0 {
			break
		}
		paths = append(paths, set.Arg(0))
		args = set.Args()[1:]
	}
	files, err := readPackFiles(paths)
	if err != nil {
		return err
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://weir@%s/weir?sslmode=disable&application_name=weir%%20apply", *addr))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return applyFiles(ctx, pgTarget{conn}, files, applyOptions{prune: *prune, dryRun: *dryRun}, stdout, logger)
}

// applyOptions are apply's flags.
type applyOptions struct {
	prune, dryRun bool
}

// packFile is one .sql file to apply.
type packFile struct {
	name, text string
}

// readPackFiles reads the .sql files of each directory (in name order) and each file
// argument.
func readPackFiles(args []string) ([]packFile, error) {
	var names []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			names = append(names, a)
			continue
		}
		m, err := filepath.Glob(filepath.Join(a, "*.sql"))
		if err != nil {
			return nil, err
		}
		sort.Strings(m)
		names = append(names, m...)
	}
	if len(names) == 0 {
		return nil, errors.New("apply: no .sql files given")
	}
	var files []packFile
	for _, n := range names {
		text, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		files = append(files, packFile{name: n, text: string(text)})
	}
	return files, nil
}

// fsPackFiles reads every .sql file of fsys in name order (the embedded pack).
func fsPackFiles(fsys fs.FS) ([]packFile, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var files []packFile
	for _, n := range names {
		text, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		files = append(files, packFile{name: n, text: string(text)})
	}
	return files, nil
}

// applyTarget is where apply runs: a server over the wire, or a database in-process
// (weir demo).
type applyTarget interface {
	// catalog returns every object's name, kind and CREATE statement, from weir_catalog,
	// in creation order.
	catalog(ctx context.Context) ([]catalogEntry, error)
	exec(ctx context.Context, sql string) error
}

const catalogQuery = `SELECT name, kind, sql FROM weir_catalog ORDER BY id`

type pgTarget struct{ conn *pgx.Conn }

func (t pgTarget) catalog(ctx context.Context) ([]catalogEntry, error) {
	rows, err := t.conn.Query(ctx, catalogQuery, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []catalogEntry
	for rows.Next() {
		var e catalogEntry
		if err := rows.Scan(&e.name, &e.kind, &e.sql); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (t pgTarget) exec(ctx context.Context, sql string) error {
	_, err := t.conn.Exec(ctx, sql, pgx.QueryExecModeSimpleProtocol)
	return err
}

// dbTarget applies to a database in the same process.
type dbTarget struct{ s *db.Session }

func (t dbTarget) catalog(ctx context.Context) ([]catalogEntry, error) {
	p, err := t.s.Prepare(ctx, catalogQuery, nil)
	if err != nil {
		return nil, err
	}
	rows, err := p.Execute(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []catalogEntry
	dst := make([]any, 3)
	for rows.Next(dst) {
		out = append(out, catalogEntry{name: fmt.Sprint(dst[0]), kind: fmt.Sprint(dst[1]), sql: fmt.Sprint(dst[2])})
	}
	return out, rows.Err()
}

func (t dbTarget) exec(ctx context.Context, sql string) error {
	p, err := t.s.Prepare(ctx, sql, nil)
	if err != nil {
		return err
	}
	rows, err := p.Execute(ctx, nil)
	if err != nil {
		return err
	}
	for rows.Next(make([]any, len(rows.Columns()))) {
	}
	err = rows.Err()
	rows.Close()
	return err
}

// applyDB applies the pack files of fsys to d in-process, as `weir apply` would.
func applyDB(ctx context.Context, d *db.DB, fsys fs.FS, stdout io.Writer, logger *slog.Logger) error {
	files, err := fsPackFiles(fsys)
	if err != nil {
		return err
	}
	s := d.NewSession(map[string]string{"application_name": "weir apply"})
	defer s.Close()
	return applyFiles(ctx, dbTarget{s}, files, applyOptions{}, stdout, logger)
}

// applyFiles plans files against t's catalog, prints the plan to stdout and, unless
// it is a dry run, carries it out.
func applyFiles(ctx context.Context, t applyTarget, files []packFile, opts applyOptions, stdout io.Writer, logger *slog.Logger) error {
	cat, err := t.catalog(ctx)
	if err != nil {
		return fmt.Errorf("reading weir_catalog: %w", err)
	}
	p, err := planApply(files, cat, opts.prune)
	if err != nil {
		return err
	}
	p.print(stdout)
	for _, s := range p.steps {
		if s.op == opKeep && s.file != "" {
			logger.Warn("definition differs; kept as it is", "object", s.name, "kind", s.kind, "file", s.file, "reason", s.reason)
		}
	}
	if opts.dryRun {
		fmt.Fprintln(stdout, "dry run: nothing was changed")
		return nil
	}
	for _, s := range p.drops {
		if err := t.exec(ctx, s.sql); err != nil {
			return fmt.Errorf("%s %s: %w", s.op, s.name, err)
		}
		logger.Debug("dropped", "object", s.name, "kind", s.kind)
	}
	for _, s := range p.steps {
		if s.sql == "" {
			continue
		}
		if err := t.exec(ctx, s.sql); err != nil {
			e := sqlerr.As(err)
			where := s.file
			if where == "" {
				where = "weir_catalog"
			}
			return fmt.Errorf("%s: %s: %w", where, firstLine(s.sql), &sqlerr.Error{Code: e.Code, Msg: e.Msg, Detail: e.Detail, Hint: e.Hint, Err: err})
		}
		logger.Debug(s.op, "object", s.name, "file", s.file)
	}
	logger.Info("applied", "files", len(files), "created", p.count(opCreate), "replaced", p.count(opReplace),
		"dropped", len(p.drops), "unchanged", p.count(opUnchanged), "statements", p.count(opRun))
	return nil
}

// The plan's operations.
const (
	opCreate    = "create"
	opReplace   = "replace"
	opUnchanged = "unchanged"
	opKeep      = "keep" // differs or is undeclared, but is left alone
	opDrop      = "drop"
	opRun       = "run" // a statement that is not an object's definition
)

// catalogEntry is one row of weir_catalog.
type catalogEntry struct {
	name, kind, sql string
}

// step is one line of the plan.
type step struct {
	op, kind, name string
	file           string // the declaring file; "" for an object only the catalog has
	text           string // the declaring statement (or the catalog's)
	sql            string // what runs; "" for unchanged and kept objects
	reason         string
	deps           []string
	index          int // position among the statements, for a stable order
}

// applyPlan is what apply does: drops first (dependents before what they read), then
// steps in dependency order.
type applyPlan struct {
	drops, steps []step
}

func (p *applyPlan) count(op string) int {
	n := 0
	for _, s := range p.steps {
		if s.op == op {
			n++
		}
	}
	return n
}

func (p *applyPlan) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	line := func(s step) {
		name, kind := s.name, s.kind
		if s.op == opRun {
			name, kind = clip(firstLine(s.sql), 60), "statement"
		}
		where := s.file
		if where == "" {
			where = "-"
		}
		if s.reason != "" {
			where += "  (" + s.reason + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.op, kind, name, where)
	}
	for _, s := range p.drops {
		line(s)
	}
	for _, s := range p.steps {
		line(s)
	}
	tw.Flush()
	fmt.Fprintf(w, "plan: %d to create, %d to replace, %d to drop, %d unchanged, %d kept, %d other statements\n",
		p.count(opCreate), p.count(opReplace), len(p.drops), p.count(opUnchanged), p.count(opKeep), p.count(opRun))
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// planApply compares the statements of files with the catalog (in creation order).
func planApply(files []packFile, cat []catalogEntry, prune bool) (*applyPlan, error) {
	var stmts []step
	declared := map[string]int{} // object name → index in stmts
	for _, f := range files {
		texts, err := planner.Split(f.text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		for _, text := range texts {
			d, err := parseDecl(text)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", f.name, firstLine(text), err)
			}
			if d.name != "" {
				if prev, ok := declared[d.name]; ok {
					return nil, fmt.Errorf("%s: %s %q is declared twice (first in %s)", f.name, d.kind, d.name, stmts[prev].file)
				}
				declared[d.name] = len(stmts)
			}
			stmts = append(stmts, step{op: opRun, kind: d.kind, name: d.name, file: f.name, text: text, sql: text, deps: d.deps, index: len(stmts)})
		}
	}

	existing := map[string]int{} // name → position in cat
	catDeps := make([][]string, len(cat))
	for i, e := range cat {
		existing[e.name] = i
		if d, err := parseDecl(e.sql); err == nil {
			catDeps[i] = d.deps
		}
	}

	// Each declared object against the catalog.
	replaced := map[string]bool{}
	for i := range stmts {
		s := &stmts[i]
		if s.name == "" {
			continue
		}
		ci, ok := existing[s.name]
		switch {
		case !ok:
			s.op = opCreate
		case cat[ci].kind != s.kind:
			return nil, fmt.Errorf("%s: %q is a %s in the database but a %s in the file; drop it first", s.file, s.name, cat[ci].kind, s.kind)
		case normalizeSQL(cat[ci].sql) == normalizeSQL(s.text):
			s.op, s.sql = opUnchanged, ""
		case s.kind == "materialized view":
			s.op, s.reason = opReplace, "definition changed"
			replaced[s.name] = true
		default:
			s.op, s.sql = opKeep, ""
			s.reason = "definition differs; a " + s.kind + " is never replaced (its data would be lost): drop it to re-create it"
		}
	}

	// Objects no file declares: dropped with --prune, kept otherwise.
	pruned := map[string]bool{}
	extra := map[string]int{} // name → index in stmts of an undeclared object kept
	for i, e := range cat {
		if _, ok := declared[e.name]; ok {
			continue
		}
		// Weir's own relations (weir_dead_letters, made by Kafka sources) are never pruned.
		if prune && !strings.HasPrefix(e.name, "weir_") {
			pruned[e.name] = true
			continue
		}
		extra[e.name] = len(stmts)
		stmts = append(stmts, step{op: opKeep, kind: e.kind, name: e.name, text: e.sql, reason: "no file declares it; --prune drops it", deps: catDeps[i], index: len(stmts)})
	}
	for _, s := range stmts {
		for _, d := range s.deps {
			if pruned[d] {
				return nil, fmt.Errorf("--prune would drop %q, but %s (%s) reads it", d, describe(s), s.file)
			}
		}
	}

	// Views reading a replaced view are replaced too. Creation order is dependency
	// order, so one pass over the catalog finds them all.
	for i, e := range cat {
		if replaced[e.name] || pruned[e.name] || e.kind != "materialized view" {
			continue
		}
		var via string
		for _, d := range catDeps[i] {
			if replaced[d] {
				via = d
				break
			}
		}
		if via == "" {
			continue
		}
		replaced[e.name] = true
		if j, ok := declared[e.name]; ok {
			if s := &stmts[j]; s.op == opUnchanged {
				s.op, s.sql, s.reason = opReplace, s.text, "reads "+via
			}
			continue
		}
		s := &stmts[extra[e.name]]
		s.op, s.sql, s.reason = opReplace, e.sql, "reads "+via+"; re-created from weir_catalog"
	}

	p := &applyPlan{}
	for i := len(cat) - 1; i >= 0; i-- {
		e := cat[i]
		switch {
		case pruned[e.name]:
			p.drops = append(p.drops, step{op: opDrop, kind: e.kind, name: e.name, sql: dropSQL(e.kind, e.name), reason: "no file declares it; --prune"})
		case replaced[e.name]:
			p.drops = append(p.drops, step{op: opDrop, kind: e.kind, name: e.name, sql: dropSQL(e.kind, e.name), reason: "to replace it"})
		}
	}
	var err error
	if p.steps, err = dependencyOrder(stmts); err != nil {
		return nil, err
	}
	return p, nil
}

func describe(s step) string {
	if s.name != "" {
		return s.kind + " " + s.name
	}
	return "statement " + strconv.Quote(clip(firstLine(s.sql), 40))
}

func dropSQL(kind, name string) string {
	return "DROP " + strings.ToUpper(kind) + " " + pgx.Identifier{name}.Sanitize()
}

// dependencyOrder orders steps so that each comes after the steps declaring what it
// reads, and otherwise keeps their order (Kahn's algorithm, smallest index first).
func dependencyOrder(steps []step) ([]step, error) {
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].index < steps[j].index })
	byName := map[string]int{}
	for i, s := range steps {
		if s.name != "" {
			byName[s.name] = i
		}
	}
	indeg := make([]int, len(steps))
	readers := make([][]int, len(steps))
	for i, s := range steps {
		for _, d := range s.deps {
			if j, ok := byName[d]; ok && j != i {
				indeg[i]++
				readers[j] = append(readers[j], i)
			}
		}
	}
	var ready []int
	for i := range steps {
		if indeg[i] == 0 {
			ready = append(ready, i)
		}
	}
	out := make([]step, 0, len(steps))
	for len(ready) > 0 {
		sort.Ints(ready)
		i := ready[0]
		ready = ready[1:]
		out = append(out, steps[i])
		for _, r := range readers[i] {
			if indeg[r]--; indeg[r] == 0 {
				ready = append(ready, r)
			}
		}
	}
	if len(out) < len(steps) {
		var cycle []string
		for i, s := range steps {
			if indeg[i] > 0 {
				cycle = append(cycle, describe(s))
			}
		}
		return nil, fmt.Errorf("apply: circular dependencies among %s", strings.Join(cycle, ", "))
	}
	return out, nil
}

// decl is what a statement declares: an object's kind and name ("" for other
// statements) and the relations it reads.
type decl struct {
	kind, name string
	deps       []string
}

// sqlToken is a scanned token with its text; keywords and unquoted identifiers are
// lower-cased, as PostgreSQL folds them.
type sqlToken struct {
	tok  pg_query.Token
	text string
}

func scanSQL(sql string) ([]sqlToken, error) {
	res, err := pg_query.Scan(sql)
	if err != nil {
		return nil, err
	}
	out := make([]sqlToken, 0, len(res.Tokens))
	for _, t := range res.Tokens {
		text := sql[t.Start:t.End]
		switch t.Token {
		case pg_query.Token_SQL_COMMENT, pg_query.Token_C_COMMENT:
			continue
		case pg_query.Token_SCONST, pg_query.Token_USCONST, pg_query.Token_BCONST, pg_query.Token_XCONST:
		default:
			if !strings.HasPrefix(text, `"`) {
				text = strings.ToLower(text)
			}
		}
		out = append(out, sqlToken{t.Token, text})
	}
	return out, nil
}

// header finds `CREATE SOURCE | TABLE | MATERIALIZED VIEW [IF NOT EXISTS] name`: it
// returns the kind, the name, and the token positions of IF NOT EXISTS (-1 if absent)
// and of the name.
func header(toks []sqlToken) (kind, name string, ifNotExists, at int) {
	ifNotExists = -1
	text := func(i int) string {
		if i < len(toks) {
			return toks[i].text
		}
		return ""
	}
	if text(0) != "create" {
		return "", "", -1, -1
	}
	i := 1
	switch {
	case text(i) == "source":
		kind = "source"
		i++
	case text(i) == "table":
		kind = "table"
		i++
	case text(i) == "materialized" && text(i+1) == "view":
		kind = "materialized view"
		i += 2
	default:
		return "", "", -1, -1
	}
	if text(i) == "if" && text(i+1) == "not" && text(i+2) == "exists" {
		ifNotExists = i
		i += 3
	}
	if text(i+1) == "." { // schema-qualified: the last part names it
		i += 2
	}
	if i >= len(toks) {
		return "", "", -1, -1
	}
	return kind, unquoteIdent(toks[i].text), ifNotExists, i
}

func unquoteIdent(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return s
}

// normalizeSQL is a statement's tokens, comments dropped and keywords and unquoted
// identifiers lower-cased, without IF NOT EXISTS, joined by single spaces: two
// definitions are the same when their normal forms are.
func normalizeSQL(sql string) string {
	toks, err := scanSQL(sql)
	if err != nil {
		return sql
	}
	_, _, ine, _ := header(toks)
	parts := make([]string, 0, len(toks))
	for i, t := range toks {
		if ine >= 0 && i >= ine && i < ine+3 {
			continue
		}
		parts = append(parts, t.text)
	}
	return strings.Join(parts, " ")
}

// parseDecl reads what a statement declares and which relations it reads: the tables
// and views of its FROM clauses and the sources of its TUMBLE, HOP and SESSION
// windows, found in PostgreSQL's parse tree (CTE names excluded).
func parseDecl(sql string) (decl, error) {
	toks, err := scanSQL(sql)
	if err != nil {
		return decl{}, err
	}
	var d decl
	d.kind, d.name, _, _ = header(toks)
	if d.kind == "source" {
		return d, nil // reads nothing; and PostgreSQL's grammar has no CREATE SOURCE
	}
	// PostgreSQL's grammar has no EMIT ON WINDOW CLOSE either.
	n := len(toks)
	body := sql
	if n >= 4 && toks[n-4].text == "emit" && toks[n-3].text == "on" && toks[n-2].text == "window" && toks[n-1].text == "close" {
		res, _ := pg_query.Scan(sql)
		var kept []*pg_query.ScanToken
		for _, t := range res.Tokens {
			if t.Token != pg_query.Token_SQL_COMMENT && t.Token != pg_query.Token_C_COMMENT {
				kept = append(kept, t)
			}
		}
		body = sql[:kept[len(kept)-4].Start]
	}
	tree, err := pg_query.Parse(body)
	if err != nil {
		if d.name != "" {
			return decl{}, err
		}
		return d, nil // another statement Weir knows and PostgreSQL does not (SHOW SOURCES, …)
	}
	reads := map[string]bool{}
	ctes := map[string]bool{}
	walkProto(tree.ProtoReflect(), func(m protoreflect.ProtoMessage) {
		switch x := m.(type) {
		case *pg_query.RangeVar:
			reads[x.Relname] = true
		case *pg_query.CommonTableExpr:
			ctes[x.Ctename] = true
		case *pg_query.RangeFunction:
			if src := windowSource(x); src != "" {
				reads[src] = true
			}
		}
	})
	for r := range reads {
		if r != d.name && !ctes[r] {
			d.deps = append(d.deps, r)
		}
	}
	sort.Strings(d.deps)
	return d, nil
}

// windowSource is the source of TUMBLE(src, …), HOP(src, …) or SESSION(src, …) in FROM.
func windowSource(rf *pg_query.RangeFunction) string {
	for _, f := range rf.Functions {
		l := f.GetList()
		if l == nil || len(l.Items) == 0 {
			continue
		}
		fc := l.Items[0].GetFuncCall()
		if fc == nil || len(fc.Funcname) == 0 || len(fc.Args) == 0 {
			continue
		}
		switch strings.ToLower(fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval()) {
		case "tumble", "hop", "session":
		default:
			continue
		}
		if cr := fc.Args[0].GetColumnRef(); cr != nil && len(cr.Fields) > 0 {
			return cr.Fields[len(cr.Fields)-1].GetString_().GetSval()
		}
	}
	return ""
}

// walkProto calls visit on m and every message below it.
func walkProto(m protoreflect.Message, visit func(protoreflect.ProtoMessage)) {
	if !m.IsValid() {
		return
	}
	visit(m.Interface())
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind && fd.Kind() != protoreflect.GroupKind {
			return true
		}
		switch {
		case fd.IsMap():
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkProto(l.Get(i).Message(), visit)
			}
		default:
			walkProto(v.Message(), visit)
		}
		return true
	})
}
