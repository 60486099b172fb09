package planner

import (
	"strconv"
	"strings"
	"time"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/weirdb/weir/internal/sqlerr"
)

// Cursors (issue #6): DECLARE, FETCH, MOVE and CLOSE, recognised on the token stream
// because a cursor may be declared FOR SUBSCRIBE, which PostgreSQL's grammar lacks.

// Declare is DECLARE name [NO SCROLL] CURSOR [WITH[OUT] HOLD] FOR query. Weir runs in
// autocommit, so every cursor behaves as WITH HOLD: it lives until CLOSE or the end of
// the session, across COMMIT and ROLLBACK.
type Declare struct {
	params
	Name  string
	Query string // the text after FOR: a SELECT or SUBSCRIBE
}

// Fetch is FETCH or MOVE [NEXT | FORWARD | n | ALL | FORWARD n | FORWARD ALL] [FROM | IN]
// name [WITH (timeout = 'duration')]. Only forward directions exist (NO SCROLL).
type Fetch struct {
	params
	Name    string
	Count   int64 // rows wanted; -1 for ALL
	Move    bool  // MOVE: skip the rows instead of returning them
	Timeout time.Duration
	// HasTimeout is set by WITH (timeout = …): a SUBSCRIBE cursor waits at most Timeout
	// for its first row (0: returns at once). Without it FETCH waits until a row comes.
	HasTimeout bool
}

// CloseCursor is CLOSE name or CLOSE ALL (Name "").
type CloseCursor struct {
	params
	Name string
}

// cursorStatement parses DECLARE, FETCH, MOVE or CLOSE from toks.
func cursorStatement(sql string, toks []token) (Statement, error) {
	n := len(toks)
	if n > 0 && toks[n-1].kind == pg_query.Token_ASCII_59 {
		n--
	}
	toks = toks[:n]
	bad := func(format string, args ...any) error {
		return sqlerr.New(sqlerr.SyntaxError, format, args...)
	}
	name := func(i int) (string, error) {
		if i >= len(toks) {
			return "", bad("syntax error: expected a cursor name")
		}
		raw := sql[toks[i].start:toks[i].end]
		if strings.HasPrefix(raw, `"`) {
			return strings.ReplaceAll(raw[1:len(raw)-1], `""`, `"`), nil
		}
		return toks[i].text, nil
	}
	switch toks[0].text {
	case "close":
		if len(toks) == 2 && toks[1].text == "all" {
			return &CloseCursor{}, nil
		}
		if len(toks) != 2 {
			return nil, bad("syntax error: CLOSE takes one cursor name or ALL")
		}
		nm, err := name(1)
		return &CloseCursor{Name: nm}, err
	case "declare":
		nm, err := name(1)
		if err != nil {
			return nil, err
		}
		i := 2
		for ; i < len(toks) && toks[i].text != "cursor"; i++ {
			switch toks[i].text {
			case "no", "asensitive", "insensitive":
			case "scroll":
				if toks[i-1].text != "no" {
					return nil, sqlerr.New(sqlerr.FeatureNotSupported, "SCROLL cursors are not supported: Weir's cursors only move forward")
				}
			case "binary":
				return nil, sqlerr.New(sqlerr.FeatureNotSupported, "BINARY cursors are not supported")
			default:
				return nil, bad("syntax error at or near %q", toks[i].text)
			}
		}
		i++ // CURSOR
		if i+1 < len(toks) && (toks[i].text == "with" || toks[i].text == "without") && toks[i+1].text == "hold" {
			i += 2
		}
		if i >= len(toks) || toks[i].text != "for" || i+1 >= len(toks) {
			return nil, bad("syntax error: expected DECLARE name CURSOR FOR query")
		}
		return &Declare{Name: nm, Query: strings.TrimSpace(sql[toks[i+1].start:toks[len(toks)-1].end])}, nil
	}
	// FETCH / MOVE
	f := &Fetch{Count: 1, Move: toks[0].text == "move"}
	i := 1
	count := func(t token) (int64, bool) {
		if t.kind != pg_query.Token_ICONST {
			return 0, false
		}
		v, err := strconv.ParseInt(t.text, 10, 64)
		return v, err == nil
	}
	if i < len(toks) {
		switch t := toks[i]; {
		case t.text == "next":
			i++
		case t.text == "all":
			f.Count, i = -1, i+1
		case t.text == "forward":
			i++
			if i < len(toks) && toks[i].text == "all" {
				f.Count, i = -1, i+1
			} else if i < len(toks) {
				if v, ok := count(toks[i]); ok {
					f.Count, i = v, i+1
				}
			}
		case t.text == "prior" || t.text == "first" || t.text == "last" || t.text == "absolute" ||
			t.text == "relative" || t.text == "backward" || t.text == "-":
			return nil, sqlerr.New("55000", "cursor can only scan forward").WithHint("Weir's cursors are NO SCROLL.")
		default:
			if v, ok := count(t); ok {
				f.Count, i = v, i+1
			}
		}
	}
	if i < len(toks) && (toks[i].text == "from" || toks[i].text == "in") {
		i++
	}
	nm, err := name(i)
	if err != nil {
		return nil, err
	}
	f.Name = nm
	i++
	if i < len(toks) {
		// WITH (timeout = 'duration')
		if i+5 >= len(toks) || toks[i].text != "with" || toks[i+1].text != "(" || toks[i+2].text != "timeout" ||
			toks[i+3].text != "=" || toks[i+5].text != ")" || i+6 != len(toks) {
			return nil, bad("syntax error at or near %q: FETCH takes WITH (timeout = 'duration')", toks[i].text)
		}
		d, err := parseTimeout(sql[toks[i+4].start:toks[i+4].end])
		if err != nil {
			return nil, err
		}
		f.Timeout, f.HasTimeout = d, true
	}
	return f, nil
}

// parseTimeout reads FETCH's timeout: a duration such as '1s', '250ms' or '2 seconds', or
// a number of seconds.
func parseTimeout(lit string) (time.Duration, error) {
	s := strings.ToLower(strings.TrimSpace(strings.Trim(lit, "'")))
	if v, err := strconv.ParseFloat(s, 64); err == nil && v >= 0 {
		return time.Duration(v * float64(time.Second)), nil
	}
	for long, short := range map[string]string{" milliseconds": "ms", " millisecond": "ms", " seconds": "s",
		" second": "s", " minutes": "m", " minute": "m", " secs": "s", " sec": "s"} {
		if strings.HasSuffix(s, long) {
			s = strings.TrimSuffix(s, long) + short
			break
		}
	}
	d, err := time.ParseDuration(strings.ReplaceAll(s, " ", ""))
	if err != nil || d < 0 {
		return 0, sqlerr.New(sqlerr.InvalidParameterValue, "invalid FETCH timeout %s", lit)
	}
	return d, nil
}

// subscribeStatement parses SUBSCRIBE [TO] view [WITH (option = value [, …])]. The one
// option is SNAPSHOT (a boolean, true by default): whether the stream starts with the
// view's current contents or with the changes after it.
func subscribeStatement(sql string, toks []token) (*Subscribe, error) {
	n := len(toks)
	if n > 0 && toks[n-1].kind == pg_query.Token_ASCII_59 {
		n--
	}
	toks = toks[:n]
	i := 1
	if i < len(toks) && toks[i].text == "to" {
		i++
	}
	if i >= len(toks) || toks[i].text == "(" {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "SUBSCRIBE takes one materialized view name (SUBSCRIBE to a query is not supported yet)")
	}
	name := sql[toks[i].start:toks[i].end]
	if !strings.HasPrefix(name, `"`) {
		name = strings.ToLower(name)
	}
	st := &Subscribe{Name: strings.Trim(name, `"`)}
	i++
	if i == len(toks) {
		return st, nil
	}
	if toks[i].text != "with" || i+1 >= len(toks) || toks[i+1].text != "(" || toks[len(toks)-1].text != ")" {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "SUBSCRIBE takes one materialized view name and WITH (options) (SUBSCRIBE to a query is not supported yet)")
	}
	seen := map[string]bool{}
	for j := i + 2; j < len(toks)-1; {
		opt := toks[j].text
		if seen[opt] {
			return nil, sqlerr.New(sqlerr.SyntaxError, "conflicting or redundant options")
		}
		seen[opt] = true
		j++
		val := "true"
		if j < len(toks)-1 && toks[j].text == "=" {
			if j+1 >= len(toks)-1 {
				return nil, sqlerr.New(sqlerr.SyntaxError, "SUBSCRIBE option %s needs a value", opt)
			}
			val = strings.ToLower(strings.Trim(sql[toks[j+1].start:toks[j+1].end], "'"))
			j += 2
		}
		switch opt {
		case "snapshot":
			switch val {
			case "true", "on", "1", "yes":
			case "false", "off", "0", "no":
				st.NoSnapshot = true
			default:
				return nil, sqlerr.New(sqlerr.InvalidParameterValue, "SUBSCRIBE option snapshot requires a Boolean value, not %s", val)
			}
		default:
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "unrecognized SUBSCRIBE option %q", opt).WithHint("The one option is SNAPSHOT = true | false.")
		}
		if j < len(toks)-1 {
			if toks[j].text != "," {
				return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at or near %q in SUBSCRIBE's options", toks[j].text)
			}
			j++
		}
	}
	return st, nil
}
