package planner

import (
	"strings"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	pgparser "github.com/pganalyze/pg_query_go/v6/parser"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Split cuts a multi-statement string into statements at top-level semicolons, as
// PostgreSQL's scanner sees them (quotes, dollar quotes and comments respected).
// Statements holding only comments or nothing are dropped.
func Split(sql string) ([]string, error) {
	res, err := pg_query.Scan(sql)
	if err != nil {
		return nil, parseError(sql, err)
	}
	var out []string
	start, content := 0, false
	for _, t := range res.Tokens {
		switch t.Token {
		case pg_query.Token_ASCII_59:
			if content {
				out = append(out, strings.TrimSpace(sql[start:t.Start]))
			}
			start, content = int(t.End), false
		case pg_query.Token_SQL_COMMENT, pg_query.Token_C_COMMENT:
		default:
			content = true
		}
	}
	if content {
		out = append(out, strings.TrimSpace(sql[start:]))
	}
	return out, nil
}

// parseError converts a pg_query error into 42601 with PostgreSQL's 1-based character
// position.
func parseError(sql string, err error) error {
	e := sqlerr.New(sqlerr.SyntaxError, "%s", err.Error())
	if pe, ok := err.(*pgparser.Error); ok && pe.Cursorpos > 0 {
		e.Position = pe.Cursorpos
	}
	return e
}

// pos converts a pg_query byte offset (0-based, -1 unknown) to a 1-based character
// position.
func pos(sql string, loc int32) int {
	if loc < 0 || int(loc) > len(sql) {
		return 0
	}
	return utf8.RuneCountInString(sql[:loc]) + 1
}

// token is one scanned token with its text.
type token struct {
	kind       pg_query.Token
	start, end int
	text       string // lower-cased for keywords and identifiers
}

func scan(sql string) ([]token, error) {
	res, err := pg_query.Scan(sql)
	if err != nil {
		return nil, parseError(sql, err)
	}
	toks := make([]token, 0, len(res.Tokens))
	for _, t := range res.Tokens {
		if t.Token == pg_query.Token_SQL_COMMENT || t.Token == pg_query.Token_C_COMMENT {
			continue
		}
		toks = append(toks, token{kind: t.Token, start: int(t.Start), end: int(t.End), text: strings.ToLower(sql[t.Start:t.End])})
	}
	return toks, nil
}

// streaming recognises the statements PostgreSQL lacks, on the token stream (DESIGN §2).
// It returns the statement rewritten into PostgreSQL syntax where one exists (CREATE
// SOURCE → CREATE TABLE, DROP SOURCE → DROP TABLE) with the object kind it meant, or a
// finished Statement (SHOW SOURCES).
func streaming(sql string) (rewritten string, kind catalog.Kind, st Statement, err error) {
	toks, err := scan(sql)
	if err != nil {
		return "", 0, nil, err
	}
	word := func(i int) string {
		if i < len(toks) {
			return toks[i].text
		}
		return ""
	}
	replace := func(i int, with string) string {
		t := toks[i]
		pad := t.end - t.start - len(with)
		if pad < 0 {
			pad = 0
		}
		return sql[:t.start] + with + strings.Repeat(" ", pad) + sql[t.end:]
	}
	switch {
	case word(0) == "create" && word(1) == "source":
		for i, t := range toks {
			if t.text == "watermark" && word(i+1) == "for" {
				return "", 0, nil, sqlerr.New(sqlerr.FeatureNotSupported, "WATERMARK FOR is not supported yet").At(pos(sql, int32(t.start)))
			}
		}
		return replace(1, "TABLE"), catalog.Source, nil, nil
	case word(0) == "drop" && word(1) == "source":
		return replace(1, "TABLE"), catalog.Source, nil, nil
	case word(0) == "show":
		rest := strings.Join(words(toks[1:]), " ")
		switch rest {
		case "sources":
			return "", 0, &Show{What: catalog.Source}, nil
		case "tables":
			return "", 0, &Show{What: catalog.Table}, nil
		case "materialized views", "views":
			return "", 0, &Show{What: catalog.View}, nil
		}
	case word(0) == "explain" && word(1) == "materialized" && word(2) == "view":
		if len(toks) < 4 || (len(toks) > 4 && toks[4].kind != pg_query.Token_ASCII_59) {
			return "", 0, nil, sqlerr.New(sqlerr.SyntaxError, "EXPLAIN MATERIALIZED VIEW takes one view name")
		}
		name := sql[toks[3].start:toks[3].end]
		if toks[3].kind == pg_query.Token_IDENT && !strings.HasPrefix(name, `"`) {
			name = strings.ToLower(name)
		}
		name = strings.Trim(name, `"`)
		return "", 0, &ExplainView{Name: name}, nil
	case word(0) == "subscribe":
		i := 1
		if word(1) == "to" {
			i = 2
		}
		if len(toks) <= i || (len(toks) > i+1 && toks[i+1].kind != pg_query.Token_ASCII_59) {
			return "", 0, nil, sqlerr.New(sqlerr.FeatureNotSupported, "SUBSCRIBE takes one materialized view name (SUBSCRIBE to a query is not supported yet)")
		}
		name := sql[toks[i].start:toks[i].end]
		if !strings.HasPrefix(name, `"`) {
			name = strings.ToLower(name)
		}
		return "", 0, &Subscribe{Name: strings.Trim(name, `"`)}, nil
	case word(0) == "create" && word(1) == "sink":
		return "", 0, nil, sqlerr.New(sqlerr.FeatureNotSupported, "CREATE SINK is not supported yet")
	}
	return sql, 0, nil, nil
}

func words(toks []token) []string {
	var out []string
	for _, t := range toks {
		if t.kind == pg_query.Token_ASCII_59 {
			break
		}
		out = append(out, t.text)
	}
	return out
}
