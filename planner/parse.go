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
func streaming(sql string) (rewritten string, kind catalog.Kind, st Statement, ext *extensions, err error) {
	toks, err := scan(sql)
	if err != nil {
		return "", 0, nil, nil, err
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
	case (word(0) == "create" || word(0) == "drop") && word(1) == "sink", word(0) == "show" && word(1) == "sinks":
		st, err := sinkStatement(sql, toks) // sink.go
		return "", 0, st, nil, err
	case word(0) == "create" && word(1) == "source":
		out, wm, err := cutWatermark(sql, toks)
		if err != nil {
			return "", 0, nil, nil, err
		}
		sql = out
		return replace(1, "TABLE"), catalog.Source, nil, &extensions{watermark: wm}, nil
	case word(0) == "create" && word(1) == "materialized" && word(2) == "view":
		if out, ok := cutEmitOnWindowClose(sql, toks); ok {
			return out, 0, nil, &extensions{emitOnWindowClose: true}, nil
		}
	case word(0) == "drop" && word(1) == "source":
		return replace(1, "TABLE"), catalog.Source, nil, nil, nil
	case word(0) == "show":
		rest := strings.Join(words(toks[1:]), " ")
		switch rest {
		case "sources":
			return "", 0, &Show{What: catalog.Source}, nil, nil
		case "tables":
			return "", 0, &Show{What: catalog.Table}, nil, nil
		case "materialized views", "views":
			return "", 0, &Show{What: catalog.View}, nil, nil
		}
	case word(0) == "explain" && word(1) == "materialized" && word(2) == "view":
		if len(toks) < 4 || (len(toks) > 4 && toks[4].kind != pg_query.Token_ASCII_59) {
			return "", 0, nil, nil, sqlerr.New(sqlerr.SyntaxError, "EXPLAIN MATERIALIZED VIEW takes one view name")
		}
		name := sql[toks[3].start:toks[3].end]
		if toks[3].kind == pg_query.Token_IDENT && !strings.HasPrefix(name, `"`) {
			name = strings.ToLower(name)
		}
		name = strings.Trim(name, `"`)
		return "", 0, &ExplainView{Name: name}, nil, nil
	case word(0) == "subscribe":
		st, err := subscribeStatement(sql, toks) // cursor.go
		return "", 0, st, nil, err
	case word(0) == "copy" && word(1) == "(" && word(2) == "subscribe":
		out, err := copySubscribe(sql, toks) // copy.go
		return out, 0, nil, nil, err
	case word(0) == "declare" || word(0) == "fetch" || word(0) == "move" || word(0) == "close":
		st, err := cursorStatement(sql, toks)
		return "", 0, st, nil, err
	}
	return sql, 0, nil, nil, nil
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

// extensions are the streaming clauses cut out of a statement before PostgreSQL's parser
// sees it.
type extensions struct {
	watermark         *watermarkClause // CREATE SOURCE … WATERMARK FOR col AS expr
	emitOnWindowClose bool             // CREATE MATERIALIZED VIEW … EMIT ON WINDOW CLOSE
}

// watermarkClause is `WATERMARK FOR col AS expr` as written.
type watermarkClause struct {
	col     string
	colPos  int    // 1-based character position of col
	expr    string // the text after AS
	exprOff int    // byte offset of expr in the statement
}

// blank replaces sql[from:to] with spaces, so positions after it stay where they were.
func blank(sql string, from, to int) string {
	return sql[:from] + strings.Repeat(" ", to-from) + sql[to:]
}

// cutWatermark removes a `WATERMARK FOR col AS expr` element from CREATE SOURCE's column
// list (with the comma that separates it) and returns it.
func cutWatermark(sql string, toks []token) (string, *watermarkClause, error) {
	var wm *watermarkClause
	depth := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.kind {
		case pg_query.Token_ASCII_40:
			depth++
			continue
		case pg_query.Token_ASCII_41:
			depth--
			continue
		}
		if depth != 1 || t.text != "watermark" || i+1 >= len(toks) || toks[i+1].text != "for" {
			continue
		}
		if wm != nil {
			return "", nil, sqlerr.New(sqlerr.SyntaxError, "a source can have only one WATERMARK").At(pos(sql, int32(t.start)))
		}
		if i+3 >= len(toks) || toks[i+3].text != "as" {
			return "", nil, sqlerr.New(sqlerr.SyntaxError, "expected WATERMARK FOR column AS expression").At(pos(sql, int32(t.start)))
		}
		col := sql[toks[i+2].start:toks[i+2].end]
		if strings.HasPrefix(col, `"`) {
			col = strings.ReplaceAll(strings.Trim(col, `"`), `""`, `"`)
		} else {
			col = strings.ToLower(col)
		}
		// The expression runs to the next comma or closing parenthesis at this depth.
		j, d := i+4, 0
		for ; j < len(toks); j++ {
			k := toks[j].kind
			if d == 0 && (k == pg_query.Token_ASCII_44 || k == pg_query.Token_ASCII_41) {
				break
			}
			if k == pg_query.Token_ASCII_40 {
				d++
			} else if k == pg_query.Token_ASCII_41 {
				d--
			}
		}
		if j >= len(toks) || j == i+4 {
			return "", nil, sqlerr.New(sqlerr.SyntaxError, "expected an expression after WATERMARK FOR %s AS", col).At(pos(sql, int32(toks[i+3].start)))
		}
		wm = &watermarkClause{col: col, colPos: pos(sql, int32(toks[i+2].start)), expr: sql[toks[i+4].start:toks[j-1].end], exprOff: toks[i+4].start}
		from, to := t.start, toks[j-1].end
		switch {
		case toks[i-1].kind == pg_query.Token_ASCII_44: // `, WATERMARK …`
			from = toks[i-1].start
		case toks[j].kind == pg_query.Token_ASCII_44: // `WATERMARK …, next column`
			to = toks[j].end
		}
		sql = blank(sql, from, to)
		i = j - 1
	}
	return sql, wm, nil
}

// cutEmitOnWindowClose removes a trailing `EMIT ON WINDOW CLOSE` (before an optional
// semicolon) from CREATE MATERIALIZED VIEW.
func cutEmitOnWindowClose(sql string, toks []token) (string, bool) {
	n := len(toks)
	if n > 0 && toks[n-1].kind == pg_query.Token_ASCII_59 {
		n--
	}
	if n < 4 || toks[n-4].text != "emit" || toks[n-3].text != "on" || toks[n-2].text != "window" || toks[n-1].text != "close" {
		return sql, false
	}
	return blank(sql, toks[n-4].start, toks[n-1].end), true
}
