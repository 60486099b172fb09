// Package pgcopy reads and writes PostgreSQL's COPY data formats — text, CSV and
// binary — byte for byte as PostgreSQL 15's COPY FROM and COPY TO do (copyfromparse.c,
// copyto.c). It knows formats, not types: a Reader yields each row's fields as bytes
// (text or binary), the caller converts them with the type's input rules, and the
// Append functions quote and escape values the caller has already rendered as text.
//
// Errors carry PostgreSQL's SQLSTATEs (22P04 bad_copy_file_format, 22021 for invalid
// UTF-8) and messages; the caller adds the CONTEXT line ("COPY t, line 3: …") from
// Reader.Line and Reader.Raw, since only it knows the relation.
package pgcopy

import "github.com/weirdb/weir/internal/sqlerr"

// Format is a COPY data format.
type Format uint8

// The formats.
const (
	Text Format = iota
	CSV
	Binary
)

func (f Format) String() string {
	switch f {
	case CSV:
		return "csv"
	case Binary:
		return "binary"
	}
	return "text"
}

// Header is what COPY does with a header line.
type Header uint8

// The header modes.
const (
	NoHeader Header = iota
	// HeaderOn: COPY FROM skips the first line; COPY TO writes the column names.
	HeaderOn
	// HeaderMatch: COPY FROM checks that the first line names the columns, in order.
	HeaderMatch
)

// Options are a COPY statement's format options, resolved and checked by the planner
// (see planner.Copy). The per-column slices are indexed by position in the COPY's
// column list and are nil when the option is absent.
type Options struct {
	Format    Format
	Delimiter byte
	Null      string
	Header    Header
	Quote     byte // CSV only
	Escape    byte // CSV only
	// ForceQuote quotes every non-NULL value of a column (CSV COPY TO).
	ForceQuote []bool
	// ForceNotNull reads a column's unquoted null string as a value (CSV COPY FROM).
	ForceNotNull []bool
	// ForceNull reads a column's quoted null string as NULL too (CSV COPY FROM).
	ForceNull []bool
	// ForceQuoteNames are FORCE_QUOTE's columns by name ("*" for all) for COPY (query)
	// TO, whose columns are known once it runs: ResolveForceQuote sets ForceQuote.
	ForceQuoteNames []string
}

// ResolveForceQuote sets ForceQuote from ForceQuoteNames for a result with columns
// named cols. A name that is not among them fails with 42703, as in PostgreSQL.
func (o *Options) ResolveForceQuote(cols []string) error {
	if len(o.ForceQuoteNames) == 0 {
		return nil
	}
	flags := make([]bool, len(cols))
	for _, want := range o.ForceQuoteNames {
		found := false
		for i, c := range cols {
			if want == "*" || c == want {
				flags[i], found = true, true
			}
		}
		if !found && want != "*" {
			return sqlerr.New(sqlerr.UndefinedColumn, "column %q does not exist", want)
		}
	}
	o.ForceQuote, o.ForceQuoteNames = flags, nil
	return nil
}

// Defaults returns PostgreSQL's defaults for format f: tab and `\N` for text, comma,
// the empty string and double quotes for CSV.
func Defaults(f Format) Options {
	switch f {
	case CSV:
		return Options{Format: CSV, Delimiter: ',', Null: "", Quote: '"', Escape: '"'}
	case Binary:
		return Options{Format: Binary}
	}
	return Options{Format: Text, Delimiter: '\t', Null: `\N`}
}

func flag(flags []bool, i int) bool { return i >= 0 && i < len(flags) && flags[i] }
