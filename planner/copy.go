package planner

import (
	"strings"
	"unicode/utf8"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/pgcopy"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Copy is COPY relation [(columns)] FROM STDIN, or COPY relation [(columns)] | (query)
// TO STDOUT, with its format options resolved and checked as PostgreSQL 15 does.
type Copy struct {
	params
	// From is true for COPY … FROM STDIN, false for COPY … TO STDOUT.
	From bool
	// Rel is the relation copied into or out of; nil for COPY (query) TO.
	Rel *catalog.Relation
	// Columns are the positions in Rel.Columns of the data's columns, in data order.
	Columns []int
	// Query is the SELECT that COPY … TO runs: the statement's own query, or one
	// reading Columns of Rel. QueryPos is how many characters of the statement come
	// before the statement's own query, to place errors in it; 0 otherwise.
	Query    string
	QueryPos int
	// Options are the format options. Their per-column flags are indexed like Columns;
	// for COPY (query) TO, FORCE_QUOTE names the query's columns in
	// Options.ForceQuoteNames instead, since only running it tells them.
	Options pgcopy.Options
}

// Relation names the copied relation for error context ("COPY name, line 3"); empty
// for COPY (query) TO.
func (c *Copy) Relation() string {
	if c.Rel == nil {
		return ""
	}
	return c.Rel.Name
}

func (b *binder) copyStmt(s *pg_query.CopyStmt) Statement {
	if s.IsProgram || s.Filename != "" {
		what := "from a file"
		if !s.IsFrom {
			what = "to a file"
		}
		if s.IsProgram {
			what = strings.Replace(what, "a file", "a program", 1)
		}
		e := sqlerr.New(sqlerr.FeatureNotSupported, "COPY %s is not supported", what).
			WithHint("Anyone can COPY to stdout or from stdin. psql's \\copy command also works for anyone.")
		panic(bindError{e})
	}
	if s.WhereClause != nil {
		b.unsupported(-1, "COPY FROM … WHERE")
	}
	c := &Copy{params: b.params(), From: s.IsFrom}
	var names []string // the data's column names, for FORCE_* options
	if s.Query != nil {
		if _, ok := s.Query.Node.(*pg_query.Node_SelectStmt); !ok {
			b.unsupported(-1, "COPY of a data-modifying statement")
		}
		var at int
		c.Query, at = b.copyQueryText()
		c.QueryPos = utf8.RuneCountInString(b.sql[:at])
	} else {
		c.Rel = b.relation(s.Relation)
		if c.Rel.Kind == catalog.View {
			if s.IsFrom {
				b.fail(sqlerr.WrongObjectType, s.Relation.Location, "cannot copy to materialized view %q", c.Rel.Name)
			}
			e := sqlerr.New(sqlerr.WrongObjectType, "cannot copy from materialized view %q", c.Rel.Name).WithHint("Try the COPY (SELECT ...) TO variant.")
			panic(bindError{e})
		}
		c.Columns, names = b.copyColumns(c.Rel, s.Attlist)
		if !s.IsFrom {
			quoted := make([]string, len(names))
			for i, n := range names {
				quoted[i] = quoteIdentifier(n)
			}
			c.Query = "SELECT " + strings.Join(quoted, ", ") + " FROM " + quoteIdentifier(c.Rel.Name)
		}
	}
	c.Options = b.copyOptions(s.Options, s.IsFrom, names, c)
	return c
}

// copyQueryText returns the text between the parentheses of COPY (query) TO, and where
// it starts, from the scanner's tokens.
func (b *binder) copyQueryText() (string, int) {
	toks, err := scan(b.sql)
	if err != nil {
		b.failErr(err, -1)
	}
	depth, open := 0, -1
	for _, t := range toks {
		switch t.text {
		case "(":
			if depth == 0 {
				open = t.end
			}
			depth++
		case ")":
			depth--
			if depth == 0 && open >= 0 {
				return b.sql[open:t.start], open
			}
		}
	}
	b.fail(sqlerr.SyntaxError, -1, "COPY: no query in parentheses")
	return "", 0
}

// copyColumns resolves COPY's column list (all columns when empty) to positions in rel.
func (b *binder) copyColumns(rel *catalog.Relation, attlist []*pg_query.Node) ([]int, []string) {
	var cols []int
	var names []string
	if len(attlist) == 0 {
		for i, c := range rel.Columns {
			cols = append(cols, i)
			names = append(names, c.Name)
		}
		return cols, names
	}
	for _, n := range attlist {
		name := n.GetString_().GetSval()
		i := rel.ColumnIndex(name)
		if i < 0 {
			b.fail(sqlerr.UndefinedColumn, -1, "column %q of relation %q does not exist", name, rel.Name)
		}
		for _, prev := range cols {
			if prev == i {
				b.fail(sqlerr.DuplicateColumn, -1, "column %q specified more than once", name)
			}
		}
		cols = append(cols, i)
		names = append(names, name)
	}
	return cols, names
}

// copyOptions reads COPY's options and checks them as PostgreSQL's ProcessCopyOptions
// does, with its SQLSTATEs and messages. names are the data's columns (nil for a query).
func (b *binder) copyOptions(defs []*pg_query.Node, from bool, names []string, c *Copy) pgcopy.Options {
	var (
		format                      = pgcopy.Text
		formatSet, headerSet        bool
		delim, null, quote, escape  *string
		header                      pgcopy.Header
		forceQuoteAll               bool
		forceQuote, forceNotNull    []string
		forceNull                   []string
		forceQuoteSet, notNullSet   bool
		forceNullSet, freezeSet     bool
		encodingSet, convertSetting bool
	)
	seen := func(set *bool, d *pg_query.DefElem) {
		if *set {
			b.fail(sqlerr.SyntaxError, d.Location, "conflicting or redundant options")
		}
		*set = true
	}
	str := func(d *pg_query.DefElem, dst **string) {
		if *dst != nil {
			b.fail(sqlerr.SyntaxError, d.Location, "conflicting or redundant options")
		}
		if d.Arg == nil {
			b.fail(sqlerr.SyntaxError, -1, "%s requires a parameter", d.Defname)
		}
		v := b.constText(d.Arg)
		if v == "" && d.Arg.GetString_() == nil {
			b.fail(sqlerr.SyntaxError, -1, "%s requires a parameter", d.Defname)
		}
		*dst = &v
	}
	list := func(d *pg_query.DefElem, set *bool) []string {
		seen(set, d)
		l := d.Arg.GetList()
		if l == nil {
			b.fail(sqlerr.InvalidParameterValue, d.Location, "argument to option %q must be a list of column names", d.Defname)
		}
		var out []string
		for _, it := range l.Items {
			out = append(out, it.GetString_().GetSval())
		}
		return out
	}
	for _, n := range defs {
		d := n.GetDefElem()
		switch d.Defname {
		case "format":
			seen(&formatSet, d)
			switch f := b.constText(d.Arg); f {
			case "text":
			case "csv":
				format = pgcopy.CSV
			case "binary":
				format = pgcopy.Binary
			default:
				b.fail(sqlerr.InvalidParameterValue, d.Location, "COPY format %q not recognized", f)
			}
		case "freeze":
			seen(&freezeSet, d)
			if d.Arg == nil || boolText(b.constText(d.Arg)) {
				b.unsupported(d.Location, "COPY FREEZE")
			}
		case "delimiter":
			str(d, &delim)
		case "null":
			str(d, &null)
		case "header":
			seen(&headerSet, d)
			header = b.copyHeader(d, from)
		case "quote":
			str(d, &quote)
		case "escape":
			str(d, &escape)
		case "force_quote":
			if d.Arg != nil && d.Arg.GetAStar() != nil {
				seen(&forceQuoteSet, d)
				forceQuoteAll = true
			} else {
				forceQuote = list(d, &forceQuoteSet)
			}
		case "force_not_null":
			forceNotNull = list(d, &notNullSet)
		case "force_null":
			forceNull = list(d, &forceNullSet)
		case "encoding":
			seen(&encodingSet, d)
			switch e := strings.ToLower(strings.ReplaceAll(b.constText(d.Arg), "-", "")); e {
			case "utf8", "unicode":
			default:
				b.fail(sqlerr.FeatureNotSupported, d.Location, "COPY encoding %q is not supported (only UTF8)", b.constText(d.Arg))
			}
		case "convert_selectively":
			seen(&convertSetting, d) // an internal option of file_fdw; nothing to do
		default:
			b.fail(sqlerr.SyntaxError, d.Location, "option %q not recognized", d.Defname)
		}
	}
	if format == pgcopy.Binary && delim != nil {
		b.fail(sqlerr.SyntaxError, -1, "cannot specify DELIMITER in BINARY mode")
	}
	if format == pgcopy.Binary && null != nil {
		b.fail(sqlerr.SyntaxError, -1, "cannot specify NULL in BINARY mode")
	}
	o := pgcopy.Defaults(format)
	o.Header = header
	csv := format == pgcopy.CSV
	if format == pgcopy.Binary {
		// PostgreSQL fills in the text defaults before its checks; so do we.
		o.Delimiter, o.Null = '\t', `\N`
	}
	if delim != nil {
		if len(*delim) != 1 {
			b.fail(sqlerr.FeatureNotSupported, -1, "COPY delimiter must be a single one-byte character")
		}
		o.Delimiter = (*delim)[0]
	}
	if null != nil {
		o.Null = *null
	}
	if o.Delimiter == '\r' || o.Delimiter == '\n' {
		b.fail(sqlerr.InvalidParameterValue, -1, "COPY delimiter cannot be newline or carriage return")
	}
	if strings.ContainsAny(o.Null, "\r\n") {
		b.fail(sqlerr.InvalidParameterValue, -1, "COPY null representation cannot use newline or carriage return")
	}
	if !csv && strings.IndexByte("\\.abcdefghijklmnopqrstuvwxyz0123456789", o.Delimiter) >= 0 {
		b.fail(sqlerr.InvalidParameterValue, -1, "COPY delimiter cannot be \"%c\"", o.Delimiter)
	}
	if format == pgcopy.Binary && header != pgcopy.NoHeader {
		b.fail(sqlerr.FeatureNotSupported, -1, "cannot specify HEADER in BINARY mode")
	}
	if !csv && quote != nil {
		b.fail(sqlerr.FeatureNotSupported, -1, "COPY quote available only in CSV mode")
	}
	if quote != nil {
		if len(*quote) != 1 {
			b.fail(sqlerr.FeatureNotSupported, -1, "COPY quote must be a single one-byte character")
		}
		o.Quote = (*quote)[0]
	}
	if csv && o.Delimiter == o.Quote {
		b.fail(sqlerr.InvalidParameterValue, -1, "COPY delimiter and quote must be different")
	}
	if !csv && escape != nil {
		b.fail(sqlerr.FeatureNotSupported, -1, "COPY escape available only in CSV mode")
	}
	o.Escape = o.Quote // PostgreSQL's default escape is the quote
	if escape != nil {
		if len(*escape) != 1 {
			b.fail(sqlerr.FeatureNotSupported, -1, "COPY escape must be a single one-byte character")
		}
		o.Escape = (*escape)[0]
	}
	if !csv {
		o.Quote, o.Escape = 0, 0
	}
	forceChecks := []struct {
		set        bool
		what       string
		onlyFrom   bool
		names      []string
		dst        *[]bool
		optionName string
	}{
		{forceQuoteSet, "force quote", false, forceQuote, &o.ForceQuote, "FORCE_QUOTE"},
		{notNullSet, "force not null", true, forceNotNull, &o.ForceNotNull, "FORCE_NOT_NULL"},
		{forceNullSet, "force null", true, forceNull, &o.ForceNull, "FORCE_NULL"},
	}
	for _, fc := range forceChecks {
		if !fc.set {
			continue
		}
		if !csv {
			b.fail(sqlerr.FeatureNotSupported, -1, "COPY %s available only in CSV mode", fc.what)
		}
		if fc.onlyFrom != from {
			using := "COPY TO"
			if fc.onlyFrom {
				using = "COPY FROM"
			}
			b.fail(sqlerr.FeatureNotSupported, -1, "COPY %s only available using %s", fc.what, using)
		}
	}
	if strings.IndexByte(o.Null, o.Delimiter) >= 0 {
		b.fail(sqlerr.FeatureNotSupported, -1, "COPY delimiter must not appear in the NULL specification")
	}
	if csv && strings.IndexByte(o.Null, o.Quote) >= 0 {
		b.fail(sqlerr.FeatureNotSupported, -1, "CSV quote character must not appear in the NULL specification")
	}
	for _, fc := range forceChecks {
		if !fc.set {
			continue
		}
		if names == nil { // COPY (query) TO: resolved against the query's columns later
			o.ForceQuoteNames = fc.names
			continue
		}
		flags := make([]bool, len(names))
		for _, want := range fc.names {
			i := indexOf(names, want)
			if i < 0 {
				if c.Rel != nil && c.Rel.ColumnIndex(want) < 0 {
					b.fail(sqlerr.UndefinedColumn, -1, "column %q of relation %q does not exist", want, c.Rel.Name)
				}
				b.fail(sqlerr.InvalidColumnReference, -1, "%s column %q not referenced by COPY", fc.optionName, want)
			}
			flags[i] = true
		}
		*fc.dst = flags
	}
	if forceQuoteAll {
		if names != nil {
			o.ForceQuote = make([]bool, len(names))
			for i := range o.ForceQuote {
				o.ForceQuote[i] = true
			}
		} else {
			o.ForceQuoteNames = []string{"*"}
		}
	}
	return o
}

// copyHeader reads HEADER's value as PostgreSQL's defGetCopyHeaderChoice does.
func (b *binder) copyHeader(d *pg_query.DefElem, from bool) pgcopy.Header {
	if d.Arg == nil {
		return pgcopy.HeaderOn
	}
	if i := d.Arg.GetInteger(); i != nil {
		switch i.Ival {
		case 0:
			return pgcopy.NoHeader
		case 1:
			return pgcopy.HeaderOn
		}
	} else {
		switch v := strings.ToLower(b.constText(d.Arg)); v {
		case "true", "on":
			return pgcopy.HeaderOn
		case "false", "off":
			return pgcopy.NoHeader
		case "match":
			if !from {
				b.fail(sqlerr.FeatureNotSupported, -1, "cannot use %q with HEADER in COPY TO", b.constText(d.Arg))
			}
			return pgcopy.HeaderMatch
		}
	}
	b.fail(sqlerr.SyntaxError, -1, "%s requires a Boolean value or \"match\"", d.Defname)
	return 0
}

func boolText(s string) bool {
	switch strings.ToLower(s) {
	case "true", "on", "1", "yes":
		return true
	}
	return false
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// quoteIdentifier double-quotes an identifier, so that any name reads back as itself.
func quoteIdentifier(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// copySubscribe checks COPY (SUBSCRIBE view [WITH (…)]) TO STDOUT [WITH (…)] and returns
// it with the SUBSCRIBE blanked into a SELECT of the same length, so that PostgreSQL's
// parser reads COPY's options; copyStmt takes the query text from the original
// statement, so the Copy carries "SUBSCRIBE …" and the database streams it (psql's way
// to follow a view: each change a line of COPY data until cancelled).
func copySubscribe(sql string, toks []token) (string, error) {
	depth := 0
	for j := 1; j < len(toks); j++ {
		switch toks[j].text {
		case "(":
			depth++
		case ")":
			depth--
		}
		if depth > 0 {
			continue
		}
		inner := toks[2:j]
		if _, err := subscribeStatement(sql, inner); err != nil {
			return "", err
		}
		start, end := inner[0].start, inner[len(inner)-1].end
		return sql[:start] + "SELECT 1" + strings.Repeat(" ", end-start-len("SELECT 1")) + sql[end:], nil
	}
	return "", sqlerr.New(sqlerr.SyntaxError, "syntax error at end of input")
}
