package qgen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Timestamps. The domain is a few instants around hour, day and month boundaries (a
// Saturday night, a Sunday, a Monday, the end of January, a fraction of a second) so that
// date_trunc buckets, extract fields and interval shifts collide and cross boundaries.
// Everything is timestamp without time zone: no time zone or DST rule can differ between
// engines.

// timeDomain is what streams write into ts, in ascending order; timeDomain[hotTime] is
// written about a third of the time.
var timeDomain = []string{
	"2026-01-31 10:00:00",
	"2026-03-14 23:59:59.5",
	"2026-03-15 00:00:00",
	"2026-03-15 13:05:00",
	"2026-03-15 13:45:30",
	"2026-03-15 13:45:30.25",
	"2026-03-15 14:00:00",
	"2026-03-16 09:30:00",
}

const hotTime = 4

// timeBounds are constants predicates compare with besides timeDomain: bucket starts
// (what date_trunc returns for the domain), in ascending order, each on a day, an hour
// or a minute boundary (truncConst).
var timeBounds = []string{
	"2026-01-31 00:00:00",
	"2026-03-14 23:00:00",
	"2026-03-15 00:00:00",
	"2026-03-15 13:00:00",
	"2026-03-15 13:45:00",
	"2026-03-16 00:00:00",
}

// truncConst returns a constant on a boundary of unit, to compare date_trunc(unit, …)
// with. Not only because equal buckets are what such a comparison is for: DuckDB 1.5
// answers date_trunc(unit, column) = c with false and <> c with true, when c is not on a
// unit boundary, even for a NULL column (its date_trunc simplification rule folds the
// comparison to a constant; PostgreSQL and Weir answer NULL).
func (g *Gen) truncConst(unit string) string {
	var cs []string
	for _, c := range slices.Concat(timeDomain, timeBounds) {
		switch {
		case strings.HasSuffix(c, " 00:00:00"):
			cs = append(cs, c)
		case unit == "day":
		case strings.HasSuffix(c, ":00:00"):
			cs = append(cs, c)
		case unit == "hour":
		case strings.HasSuffix(c, ":00"):
			cs = append(cs, c)
		}
	}
	return timeLit(cs[g.n(len(cs))])
}

// truncUnit returns the unit of e when e is date_trunc(unit, …) (as dateTrunc writes
// it), else "".
func truncUnit(e string) string {
	rest, ok := strings.CutPrefix(e, "date_trunc('")
	if !ok {
		return ""
	}
	unit, _, _ := strings.Cut(rest, "'")
	return unit
}

func timeLit(s string) string { return "TIMESTAMP '" + s + "'" }

// timeConst returns a timestamp constant: mostly one the column holds, else a bucket start.
func (g *Gen) timeConst() string {
	if g.p(0.7) {
		return timeLit(timeDomain[g.n(len(timeDomain))])
	}
	return timeLit(timeBounds[g.n(len(timeBounds))])
}

// timeRange returns lo <= hi for BETWEEN.
func (g *Gen) timeRange() (string, string) {
	all := slices.Concat(timeDomain, timeBounds)
	slices.Sort(all) // the spellings order as the instants do
	i, j := g.n(len(all)), g.n(len(all))
	if i > j {
		i, j = j, i
	}
	return timeLit(all[i]), timeLit(all[j])
}

// intervalLit is an interval to add to or subtract from a timestamp. PostgreSQL and DuckDB
// both add the months (clamping the day to the month's end), then the days, then the
// time, and this schema's timestamps have no time zone, so the sums agree.
func (g *Gen) intervalLit() string {
	return "INTERVAL '" + g.pick("1 hour", "30 minutes", "15 minutes", "1 day", "2 hours",
		"1 month", "-1 hour", "1 day 2 hours", "90 seconds") + "'"
}

// spanLit is an interval to compare a timestamp difference with. Both engines compare
// intervals by their span with 30-day months and 24-hour days, whatever the fields (the
// difference is days and microseconds in DuckDB, justified days and time in PostgreSQL).
func (g *Gen) spanLit() string {
	return "INTERVAL '" + g.pick("0 seconds", "15 minutes", "1 hour", "1 day", "-1 hour",
		"-1 day", "1 month", "1 day 2 hours") + "'"
}

// dateTrunc truncates a timestamp to a unit. Only units DuckDB truncates as PostgreSQL
// does on timestamp without time zone, to another timestamp (DuckDB's date_trunc of a
// DATE is a DATE; 'week' and coarser are left out).
func (g *Gen) dateTrunc(ts string) string {
	g.tag("date_trunc")
	return "date_trunc('" + g.pick("minute", "hour", "hour", "day") + "', " + ts + ")"
}

// extract reads a field of a timestamp as an Int: numeric in PostgreSQL and Weir, bigint in
// DuckDB, whole numbers in both. Only hour, minute and dow: second (a fraction),
// epoch (numeric with six digits in PostgreSQL, double in DuckDB) and date_part (double
// precision in PostgreSQL, which has no % for it) are not generated. It returns the
// expression and the field, to pick constants with extractConst.
func (g *Gen) extract(ts string) (string, string) {
	g.tag("extract")
	f := g.pick("hour", "hour", "minute", "dow")
	return "extract(" + f + " FROM " + ts + ")", f
}

// extractConst returns a value field f takes on the domain (or close to it).
func (g *Gen) extractConst(f string) string {
	switch f {
	case "hour":
		return g.pick("0", "9", "10", "13", "14", "23", "12")
	case "minute":
		return g.pick("0", "5", "30", "45", "59")
	default: // dow: Sunday is 0 in both engines
		return g.pick("0", "1", "6", "3")
	}
}

// timeExpr generates a timestamp expression over sc (see expr).
func (g *Gen) timeExpr(sc scope, d int, needCol bool) string {
	sub := func(nc bool) string { return g.expr(Time, sc, d-1, nc) }
	switch g.n(7) {
	case 0, 1:
		g.tag("interval-arith")
		return "(" + sub(needCol) + " " + g.pick("+", "-") + " " + g.intervalLit() + ")"
	case 2:
		g.tag("interval-arith")
		return "(" + g.intervalLit() + " + " + sub(needCol) + ")"
	case 3:
		return g.dateTrunc(sub(needCol))
	case 4:
		g.tag("coalesce")
		return "coalesce(" + sub(needCol) + ", " + g.timeConst() + ")"
	case 5:
		return g.caseExpr(Time, sc, d, needCol)
	default:
		return g.leaf(Time, sc, needCol)
	}
}

// timePred generates a predicate particular to timestamps over a Time column of sc:
// a difference compared with an interval, an extracted field, a shifted comparison, a
// truncated timestamp compared with a bucket start.
func (g *Gen) timePred(sc scope) string {
	cols := sc.of(Time)
	a := cols[g.n(len(cols))].ref
	other := func() string {
		if b := g.otherCol(Time, sc, a); b != "" && g.p(0.6) {
			return b
		}
		return g.timeConst()
	}
	switch g.n(6) {
	case 0, 5:
		g.tag("timestamp-diff")
		return "(" + a + " - " + other() + ") " + g.cmpOp() + " " + g.spanLit()
	case 1:
		e, f := g.extract(a)
		if g.p(0.3) {
			return e + " IN (" + g.extractConst(f) + ", " + g.extractConst(f) + ")"
		}
		return e + " " + g.cmpOp() + " " + g.extractConst(f)
	case 2:
		g.tag("interval-arith")
		return a + " " + g.cmpOp() + " (" + other() + " " + g.pick("+", "-") + " " + g.intervalLit() + ")"
	case 3:
		g.tag("interval-arith")
		return "(" + a + " " + g.pick("+", "-") + " " + g.intervalLit() + ") " + g.cmpOp() + " " + g.timeConst()
	default:
		e := g.dateTrunc(a)
		return e + " " + g.cmpOp() + " " + g.truncConst(truncUnit(e))
	}
}

// jsonb. A document in j is an object with members n (an integer, or JSON null), s (a
// string from s's domain) and o (an object {"n": integer}), each present or not, or now
// and then an array, a string, JSON null or {}. Queries read it only through the
// accessors below, which are answered identically by DuckDB over the VARCHAR it holds
// (Column.DuckDBType):
//
//	(j ->> 's')                 the string, unquoted
//	CAST(j ->> 'n' AS bigint)   the integer (never a fraction or a string, so the cast
//	                            cannot fail)
//	(j ->> 'n')                 the integer's text: numbers are integers because DuckDB
//	                            prints a fraction as a double (12.50 → 12.5, 1e2 → 100.0)
//	(j -> 'o' ->> 'n')          a nested member
//
// In both engines ->> gives NULL for a missing member, a JSON null and a document that is
// not an object. No accessor returns an object or an array as text: DuckDB prints them
// without PostgreSQL's spaces. Keys never start with '$' or '/', which DuckDB reads as a
// JSONPath or a JSON pointer. Not generated: jsonb_typeof (DuckDB's json_type names types
// differently), #> and #>> (no DuckDB operator), and j itself as an output or a key
// (jsonb equality and DuckDB's text equality differ on spacing).

// jsonAccessors returns derived columns reading members of the jsonb column ref, a few
// of them at random, so that predicates, keys, joins and aggregates use them as they use
// columns.
func (g *Gen) jsonAccessors(ref string) []scol {
	var out []scol
	add := func(expr, name, dom string, t Type) {
		out = append(out, scol{ref: expr, name: name, dom: dom, t: t, derived: true})
	}
	if g.p(0.5) {
		add("("+ref+" ->> 's')", "j.s", "s", Text)
	}
	if g.p(0.45) {
		if g.p(0.5) {
			add("CAST("+ref+" ->> 'n' AS bigint)", "j.n", "jn", Int)
		} else {
			add("("+ref+" ->> 'n')::bigint", "j.n", "jn", Int)
		}
	}
	if g.p(0.2) {
		add("("+ref+" ->> 'n')", "j.n.text", "jntext", Text)
	}
	if g.p(0.15) {
		add("("+ref+" -> 'o' ->> 'n')", "j.o.n", "jntext", Text)
	}
	return out
}

// jsonInts is the domain of the integers in documents; 1 is hot.
var jsonInts = []string{"1", "1", "2", "-2", "5", "0"}

// jsonDoc returns a document for j as a SQL literal. Members are mostly written in
// jsonb's canonical order and spacing, sometimes not (Weir must make it canonical; the
// ->> answers do not depend on it).
func jsonDoc(r *rand.Rand) string {
	p := func(prob float64) bool { return r.Float64() < prob }
	if p(0.12) {
		return "'" + pickStr(r, "[1, 2]", `"x"`, "null", "{}", `[{"n": 1}]`) + "'"
	}
	var members []string // keys of one byte: canonical order is byte order
	if p(0.8) {
		n := jsonInts[r.IntN(len(jsonInts))]
		if p(0.12) {
			n = "null"
		}
		members = append(members, `"n": `+n)
	}
	if p(0.3) {
		members = append(members, `"o": {"n": `+jsonInts[r.IntN(len(jsonInts))]+`}`)
	}
	if p(0.75) {
		members = append(members, `"s": "`+pickStr(r, "a", "a", "ab", "abc", "b", "B", "", "ba")+`"`)
	}
	sep := ", "
	if p(0.2) {
		slices.Reverse(members)
		sep = ","
	}
	return "'{" + strings.Join(members, sep) + "}'"
}

// litForJSON returns a constant for a derived column's domain (jsonAccessors), or "".
func (g *Gen) litForJSON(dom string) string {
	switch dom {
	case "jn":
		return jsonInts[g.n(len(jsonInts))]
	case "jntext":
		return "'" + jsonInts[g.n(len(jsonInts))] + "'"
	}
	return ""
}

// tsValue returns a literal for ts in a stream.
func (s *Stream) tsValue() string {
	i := s.n(len(timeDomain))
	if s.p(0.3) {
		i = hotTime
	}
	return "'" + timeDomain[i] + "'"
}

// timeUpdate is an UPDATE that moves timestamps of ta by an interval (rows change bucket,
// hour and day; the values leave the domain a little).
func (s *Stream) timeUpdate() string {
	return fmt.Sprintf("UPDATE ta SET ts = ts %s INTERVAL '%s' WHERE g = %d",
		pickStr(s.r, "+", "-"), pickStr(s.r, "1 hour", "30 minutes", "1 day"), s.n(5))
}
