package planner

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/weirdb/weir/internal/sqlerr"
)

// CreateSink is CREATE SINK [IF NOT EXISTS] name FROM view WITH (option = 'value', …):
// a view's changes kept flowing to an external system (db/sinks.go checks the options).
type CreateSink struct {
	params
	Name        string
	From        string
	Options     map[string]string // keys lower-cased
	SQL         string            // the statement as written, persisted and replayed at start-up
	IfNotExists bool
}

// DropSink is DROP SINK [IF EXISTS] name.
type DropSink struct {
	params
	Name     string
	IfExists bool
}

// ShowSinks is SHOW SINKS: one row per sink.
type ShowSinks struct{ params }

// sinkStatement plans the sink statements, recognised on the token stream: CREATE SINK,
// DROP SINK and SHOW SINKS. toks[0:2] are the statement's first two words.
func sinkStatement(sql string, toks []token) (Statement, error) {
	bad := func(format string, args ...any) error {
		return sqlerr.New(sqlerr.SyntaxError, format, args...)
	}
	// Drop a trailing semicolon.
	if n := len(toks); n > 0 && toks[n-1].kind == pg_query.Token_ASCII_59 {
		toks = toks[:n-1]
	}
	i := 2
	ident := func(what string) (string, error) {
		if i >= len(toks) || (toks[i].kind != pg_query.Token_IDENT && !isKeyword(toks[i])) {
			return "", bad("syntax error: %s expected", what)
		}
		t := toks[i]
		i++
		name := sql[t.start:t.end]
		if strings.HasPrefix(name, `"`) {
			return strings.ReplaceAll(strings.Trim(name, `"`), `""`, `"`), nil
		}
		return strings.ToLower(name), nil
	}
	switch toks[0].text {
	case "show":
		if len(toks) != 2 {
			return nil, bad("SHOW SINKS takes nothing after it")
		}
		return &ShowSinks{}, nil
	case "drop":
		st := &DropSink{}
		if i+1 < len(toks) && toks[i].text == "if" && toks[i+1].text == "exists" {
			st.IfExists, i = true, i+2
		}
		name, err := ident("sink name")
		if err != nil {
			return nil, err
		}
		if i != len(toks) {
			return nil, bad("syntax error at or near %q: DROP SINK takes one name", toks[i].text)
		}
		st.Name = name
		return st, nil
	}
	st := &CreateSink{SQL: sql, Options: map[string]string{}}
	if i+2 < len(toks) && toks[i].text == "if" && toks[i+1].text == "not" && toks[i+2].text == "exists" {
		st.IfNotExists, i = true, i+3
	}
	var err error
	if st.Name, err = ident("sink name"); err != nil {
		return nil, err
	}
	if i >= len(toks) || toks[i].text != "from" {
		return nil, bad("syntax error: CREATE SINK name FROM view WITH (connector = '…', …)")
	}
	i++
	if st.From, err = ident("materialized view name"); err != nil {
		return nil, err
	}
	if i >= len(toks) || toks[i].text != "with" || i+1 >= len(toks) || toks[i+1].kind != pg_query.Token_ASCII_40 {
		return nil, sqlerr.New(sqlerr.SyntaxError, "CREATE SINK needs WITH (connector = '…', …)")
	}
	i += 2
	for {
		key, err := ident("option name")
		if err != nil {
			return nil, err
		}
		if i >= len(toks) || toks[i].kind != pg_query.Token_ASCII_61 {
			return nil, bad("syntax error: = expected after option %s", key)
		}
		i++
		if i >= len(toks) || toks[i].kind != pg_query.Token_SCONST {
			return nil, bad("syntax error: option %s takes a quoted string", key)
		}
		val := sql[toks[i].start:toks[i].end]
		val = strings.ReplaceAll(val[1:len(val)-1], "''", "'")
		i++
		if _, dup := st.Options[key]; dup {
			return nil, sqlerr.New(sqlerr.SyntaxError, "option %q specified more than once", key)
		}
		st.Options[key] = val
		if i < len(toks) && toks[i].kind == pg_query.Token_ASCII_44 {
			i++
			continue
		}
		break
	}
	if i >= len(toks) || toks[i].kind != pg_query.Token_ASCII_41 || i+1 != len(toks) {
		return nil, bad("syntax error: ) expected at the end of WITH (…)")
	}
	return st, nil
}

// isKeyword reports whether t is a keyword, which may name an option or an object
// (connector, table, key and format are keywords to the scanner).
func isKeyword(t token) bool {
	return t.kind >= pg_query.Token_ABORT_P && t.kind <= pg_query.Token_ZONE
}
