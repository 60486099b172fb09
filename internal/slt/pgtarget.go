package slt

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// PGTarget runs Weir scripts on PostgreSQL 15, the independent engine that checks their
// expectations (STYLE §2.7). It differs from a bare PGXTarget in two ways:
//
//   - Weir-only DDL is rewritten into PostgreSQL's before it is sent (RewriteForPostgres):
//     a source becomes a table. Other Weir-only statements (SHOW SOURCES, SHOW TABLES,
//     SHOW MATERIALIZED VIEWS) are not rewritten; scripts mark them "onlyif weir".
//   - Before every query, every materialized view is refreshed, dependencies first, so a
//     query sees all statements above it as it does on Weir. That is every query record,
//     and every statement record that reads (SELECT, WITH, TABLE, VALUES), so that
//     "statement error" sees what a query would. A refresh that fails (a view dividing by
//     a zero that a write brought in) fails the query with the refresh's error, which
//     keeps its SQLSTATE.
type PGTarget struct {
	*PGXTarget
}

// PostgresName is the target name PGTarget answers to in skipif and onlyif lines.
const PostgresName = "postgres"

// NewPGTarget connects to the PostgreSQL server at dsn, which should run in UTC with the C
// collation and UTF8 (as pgtest's clusters do), so that text order and timestamptz output
// match Weir's.
func NewPGTarget(ctx context.Context, dsn string) (*PGTarget, error) {
	inner, err := NewPGXTarget(ctx, dsn, PostgresName)
	if err != nil {
		return nil, err
	}
	return &PGTarget{PGXTarget: inner}, nil
}

// Exec rewrites sql for PostgreSQL and runs it, after refreshing the materialized views
// when sql is a read.
func (p *PGTarget) Exec(ctx context.Context, sql string) error {
	if isRead(sql) {
		if err := p.Refresh(ctx); err != nil {
			return err
		}
	}
	return p.PGXTarget.Exec(ctx, RewriteForPostgres(sql))
}

// isRead reports whether sql's first word starts a query.
func isRead(sql string) bool {
	words := significant(scan(sql))
	for len(words) > 0 && words[0].kind == tokPunct && words[0].upper == "(" {
		words = words[1:]
	}
	if len(words) == 0 {
		return false
	}
	return words[0].is("SELECT") || words[0].is("WITH") || words[0].is("TABLE") || words[0].is("VALUES")
}

// Query refreshes every materialized view, then rewrites sql for PostgreSQL and runs it.
func (p *PGTarget) Query(ctx context.Context, sql string) ([][]string, error) {
	if err := p.Refresh(ctx); err != nil {
		return nil, err
	}
	return p.PGXTarget.Query(ctx, RewriteForPostgres(sql))
}

// refreshOrderSQL lists materialized and plain views with the views each one reads
// directly (through its rewrite rule). Plain views take part so that a materialized view
// over a plain view over another materialized view is refreshed after the latter.
const refreshOrderSQL = `
SELECT c.oid::bigint, c.relkind = 'm', quote_ident(n.nspname) || '.' || quote_ident(c.relname),
       coalesce((SELECT array_agg(DISTINCT d.refobjid::bigint)
                 FROM pg_rewrite r
                 JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                 JOIN pg_class rc ON rc.oid = d.refobjid AND rc.relkind IN ('m', 'v')
                 WHERE r.ev_class = c.oid AND d.refobjid <> c.oid), '{}')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('m', 'v') AND n.nspname NOT IN ('pg_catalog', 'information_schema')`

// Refresh runs REFRESH MATERIALIZED VIEW for every materialized view, each after the views
// it reads.
func (p *PGTarget) Refresh(ctx context.Context) error {
	rows, err := p.conn.Query(ctx, refreshOrderSQL)
	if err != nil {
		return fmt.Errorf("slt: listing materialized views: %w", err)
	}
	nodes, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (viewNode, error) {
		var n viewNode
		err := row.Scan(&n.oid, &n.materialized, &n.name, &n.deps)
		return n, err
	})
	if err != nil {
		return fmt.Errorf("slt: listing materialized views: %w", err)
	}
	for _, name := range refreshOrder(nodes) {
		if err := p.PGXTarget.Exec(ctx, "REFRESH MATERIALIZED VIEW "+name); err != nil {
			return fmt.Errorf("slt: REFRESH MATERIALIZED VIEW %s: %w", name, err)
		}
	}
	return nil
}

// viewNode is a view in the refresh graph.
type viewNode struct {
	oid          int64
	name         string // quoted, schema-qualified
	materialized bool
	deps         []int64 // oids of the views it reads
}

// refreshOrder returns the materialized views' names so that each comes after every view
// it reads, directly or through plain views; ties go in creation (oid) order. Views in a
// cycle, which PostgreSQL does not allow, come last in oid order.
func refreshOrder(nodes []viewNode) []string {
	nodes = slices.Clone(nodes)
	slices.SortFunc(nodes, func(a, b viewNode) int { return int(a.oid - b.oid) })
	known := make(map[int64]bool, len(nodes))
	for _, n := range nodes {
		known[n.oid] = true
	}
	done := make(map[int64]bool, len(nodes))
	var out []string
	for len(done) < len(nodes) {
		progress := false
		for _, n := range nodes {
			if done[n.oid] {
				continue
			}
			ready := true
			for _, d := range n.deps {
				if known[d] && !done[d] {
					ready = false
					break
				}
			}
			if !ready {
				continue
			}
			done[n.oid], progress = true, true
			if n.materialized {
				out = append(out, n.name)
			}
			break // restart from the lowest oid, so ties keep creation order
		}
		if !progress {
			for _, n := range nodes {
				if !done[n.oid] {
					done[n.oid] = true
					if n.materialized {
						out = append(out, n.name)
					}
				}
			}
		}
	}
	return out
}

// RewriteForPostgres rewrites Weir-only DDL in sql, statement by statement, into
// PostgreSQL's:
//
//	CREATE SOURCE [IF NOT EXISTS] s (…) [WITH (…)]  →  CREATE TABLE [IF NOT EXISTS] s (…)
//	                                                   (without a WATERMARK FOR element)
//	DROP SOURCE …                                   →  DROP TABLE …
//
// Only a statement's first two words are matched, on tokens, so comments, string literals
// and quoted identifiers are left alone. Everything else is returned unchanged.
func RewriteForPostgres(sql string) string {
	toks := scan(sql)
	var b strings.Builder
	last := 0 // offset in sql up to which b holds the output
	for _, stmt := range statements(toks) {
		words := significant(stmt)
		if len(words) < 2 || !words[1].is("SOURCE") {
			continue
		}
		switch {
		case words[0].is("DROP"):
			b.WriteString(sql[last:words[1].start])
			b.WriteString(matchCase(words[1].text(sql), "TABLE"))
			last = words[1].end
		case words[0].is("CREATE"):
			b.WriteString(sql[last:words[1].start])
			b.WriteString(matchCase(words[1].text(sql), "TABLE"))
			last = words[1].end
			// Drop a WITH (…) clause after the column list.
			open := -1
			for i, t := range words {
				if t.kind == tokPunct && t.text(sql) == "(" {
					open = i
					break
				}
			}
			if open < 0 {
				continue
			}
			cols := matching(words, open, sql)
			// Drop a WATERMARK FOR … element (and its comma) from the column list.
			for i, depth := open+1, 0; cols > 0 && i < cols; i++ {
				switch words[i].text(sql) {
				case "(":
					depth++
				case ")":
					depth--
				}
				if depth != 0 || !words[i].is("WATERMARK") || !words[i+1].is("FOR") {
					continue
				}
				from := words[i].start
				if words[i-1].text(sql) == "," {
					from = words[i-1].start
				}
				j := i
				for d := 0; j < cols; j++ {
					switch words[j].text(sql) {
					case "(":
						d++
					case ")":
						d--
					}
					if d == 0 && words[j].text(sql) == "," {
						break
					}
				}
				b.WriteString(sql[last:from])
				last = words[j-1].end
				if from == words[i].start && j < cols { // the first element: drop the comma after it
					last = words[j].end
				}
				i = j - 1
			}
			if cols < 0 || cols+2 >= len(words) || !words[cols+1].is("WITH") || words[cols+2].text(sql) != "(" {
				continue
			}
			end := matching(words, cols+2, sql)
			if end < 0 {
				continue
			}
			b.WriteString(sql[last:words[cols].end])
			last = words[end].end
		}
	}
	if last == 0 {
		return sql
	}
	b.WriteString(sql[last:])
	return b.String()
}

// matchCase returns word in upper case, or lower case when like is all lower case.
func matchCase(like, word string) string {
	if like == strings.ToLower(like) {
		return strings.ToLower(word)
	}
	return word
}

// matching returns the index of the ")" closing the "(" at toks[open], or -1.
func matching(toks []token, open int, sql string) int {
	depth := 0
	for i := open; i < len(toks); i++ {
		switch toks[i].text(sql) {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

type tokKind int

const (
	tokSpace   tokKind = iota // white space
	tokComment                // -- … or /* … */
	tokWord                   // keyword or unquoted identifier
	tokQuoted                 // "quoted identifier"
	tokString                 // '…', E'…', $$…$$, $tag$…$tag$
	tokNumber                 // 42, 1.5e3
	tokPunct                  // one character: ( ) ; , …; or an operator run
)

// token is a lexical token of sql[start:end].
type token struct {
	kind       tokKind
	start, end int
	upper      string // tokWord only: the word in upper case
}

func (t token) text(sql string) string { return sql[t.start:t.end] }

func (t token) is(keyword string) bool { return t.kind == tokWord && t.upper == keyword }

// statements splits tokens at top-level semicolons. Each statement keeps its tokens,
// including space and comments.
func statements(toks []token) [][]token {
	var out [][]token
	start := 0
	for i, t := range toks {
		if t.kind == tokPunct && t.upper == ";" {
			out = append(out, toks[start:i])
			start = i + 1
		}
	}
	return append(out, toks[start:])
}

// significant drops space and comments.
func significant(toks []token) []token {
	var out []token
	for _, t := range toks {
		if t.kind != tokSpace && t.kind != tokComment {
			out = append(out, t)
		}
	}
	return out
}

// scan splits sql into tokens the way PostgreSQL's lexer does, as far as rewriting needs:
// it knows where comments, strings and quoted identifiers begin and end. Unterminated
// ones run to the end of the input.
func scan(sql string) []token {
	var toks []token
	i := 0
	for i < len(sql) {
		c := sql[i]
		start := i
		var kind tokKind
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			kind = tokSpace
			for i < len(sql) && strings.IndexByte(" \t\n\r\f\v", sql[i]) >= 0 {
				i++
			}
		case strings.HasPrefix(sql[i:], "--"):
			kind = tokComment
			if j := strings.IndexByte(sql[i:], '\n'); j >= 0 {
				i += j
			} else {
				i = len(sql)
			}
		case strings.HasPrefix(sql[i:], "/*"):
			kind = tokComment
			i = blockCommentEnd(sql, i)
		case c == '\'':
			kind = tokString
			i = quotedEnd(sql, i+1, '\'', false)
		case (c == 'E' || c == 'e') && i+1 < len(sql) && sql[i+1] == '\'':
			kind = tokString
			i = quotedEnd(sql, i+2, '\'', true)
		case c == '"':
			kind = tokQuoted
			i = quotedEnd(sql, i+1, '"', false)
		case c == '$' && dollarTag(sql[i:]) != "":
			kind = tokString
			tag := dollarTag(sql[i:])
			if j := strings.Index(sql[i+len(tag):], tag); j >= 0 {
				i += len(tag) + j + len(tag)
			} else {
				i = len(sql)
			}
		case isIdentStart(c):
			kind = tokWord
			for i < len(sql) && isIdentCont(sql[i]) {
				i++
			}
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(sql) && sql[i+1] >= '0' && sql[i+1] <= '9':
			kind = tokNumber
			for i < len(sql) && (isIdentCont(sql[i]) || sql[i] == '.') {
				i++
			}
		default:
			kind = tokPunct
			i++
		}
		t := token{kind: kind, start: start, end: i}
		if kind == tokWord || kind == tokPunct {
			t.upper = strings.ToUpper(sql[start:i])
		}
		toks = append(toks, t)
	}
	return toks
}

// blockCommentEnd returns the offset after the (nested) block comment starting at i.
func blockCommentEnd(sql string, i int) int {
	depth := 0
	for i < len(sql) {
		switch {
		case strings.HasPrefix(sql[i:], "/*"):
			depth++
			i += 2
		case strings.HasPrefix(sql[i:], "*/"):
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return i
}

// quotedEnd returns the offset after the closing quote of a literal whose body starts at
// i. A doubled quote is part of the body, as is a backslash-escaped one in E'…' strings.
func quotedEnd(sql string, i int, quote byte, backslash bool) int {
	for i < len(sql) {
		switch {
		case backslash && sql[i] == '\\':
			i += 2
		case sql[i] == quote && i+1 < len(sql) && sql[i+1] == quote:
			i += 2
		case sql[i] == quote:
			return i + 1
		default:
			i++
		}
	}
	return len(sql)
}

// dollarTag returns the opening tag ($$ or $name$) at the start of s, or "".
func dollarTag(s string) string {
	for j := 1; j < len(s); j++ {
		switch {
		case s[j] == '$':
			return s[:j+1]
		case j == 1 && !isIdentStart(s[j]), j > 1 && !isIdentCont(s[j]):
			return ""
		}
	}
	return ""
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentCont(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' || c == '$' }
