package qgen

import (
	"fmt"
	"strconv"
	"strings"
)

// lit returns a literal of type t from the same small domains the streams write.
// Float literals are plain decimals (numeric in PostgreSQL): they only ever meet a
// double precision operand, which makes the comparison or arithmetic double precision in
// every engine. A float expression without a float operand uses floatConst.
func (g *Gen) lit(t Type) string {
	switch t {
	case Int:
		return fmt.Sprint(g.n(8) - 1)
	case Text:
		return g.pick("'a'", "'ab'", "'abc'", "'b'", "'B'", "''", "'z'")
	case Float, Inexact:
		return g.pick("0.5", "1.5", "-1.25", "0", "2.25", "3.75")
	case Time:
		return g.timeConst()
	default:
		return g.pick("true", "false")
	}
}

func (g *Gen) floatConst() string { return "CAST(" + g.lit(Float) + " AS double precision)" }

// leaf returns a column of type t (with needCol, whenever sc has one), else a constant.
func (g *Gen) leaf(t Type, sc scope, needCol bool) string {
	if cols := sc.of(t); len(cols) > 0 && (needCol || g.p(0.85)) {
		return cols[g.n(len(cols))].ref
	}
	switch t {
	case Float:
		if cols := sc.of(Int); len(cols) > 0 && needCol {
			return "CAST(" + cols[g.n(len(cols))].ref + " AS double precision)"
		}
		return g.floatConst()
	case Inexact:
		return g.floatConst() // typed: a bare 0.5 would be DuckDB's DECIMAL
	case Int:
		if cols := sc.of(Text); len(cols) > 0 && needCol {
			return "length(" + cols[g.n(len(cols))].ref + ")"
		}
	case Text:
		if cols := sc.of(Int); len(cols) > 0 && needCol {
			return "CASE WHEN " + cols[g.n(len(cols))].ref + " > 1 THEN 'x' ELSE 'y' END"
		}
	case Bool:
		return g.pred(sc, 0)
	}
	return g.lit(t)
}

// expr generates an expression of type t over sc, nested up to d levels. With needCol
// its leftmost leaf reads a column when sc has one of the right type. Operators are
// limited to what means the same in Weir, DuckDB and PostgreSQL on these domains: no
// division (integer / differs in DuckDB), % only by a positive constant, float
// arithmetic only by + - and small integer factors (exact on quarters).
func (g *Gen) expr(t Type, sc scope, d int, needCol bool) string {
	if t == Bool {
		return g.pred(sc, d)
	}
	if d <= 0 || g.p(0.4) {
		return g.leaf(t, sc, needCol)
	}
	if t == Time {
		return g.timeExpr(sc, d, needCol)
	}
	if t == Inexact {
		return g.leaf(t, sc, needCol) // see Inexact: never computed with
	}
	sub := func(nc bool) string { return g.expr(t, sc, d-1, nc) }
	switch t {
	case Int:
		switch g.n(12) {
		case 0, 1:
			g.tag("arith")
			return "(" + sub(needCol) + " + " + sub(false) + ")"
		case 2:
			g.tag("arith")
			return "(" + sub(needCol) + " - " + sub(false) + ")"
		case 3:
			g.tag("arith")
			return "(" + sub(needCol) + " * " + g.pick("2", "3", "-1") + ")"
		case 4:
			g.tag("coalesce")
			return "coalesce(" + sub(needCol) + ", " + g.lit(Int) + ")"
		case 5:
			return g.caseExpr(t, sc, d, needCol)
		case 6:
			return "abs(" + sub(needCol) + ")"
		case 7:
			if len(sc.of(Text)) > 0 {
				return "length(" + g.expr(Text, sc, d-1, needCol) + ")"
			}
			return sub(needCol)
		case 8:
			g.tag("arith")
			return "(" + sub(needCol) + " % " + g.pick("2", "3") + ")"
		case 9:
			g.tag("nullif")
			return "nullif(" + sub(true) + ", " + g.lit(Int) + ")" // see the Text case
		case 10:
			if len(sc.of(Time)) > 0 {
				e, _ := g.extract(g.expr(Time, sc, d-1, needCol))
				return e
			}
			return g.leaf(t, sc, needCol)
		default:
			return g.leaf(t, sc, needCol)
		}
	case Text:
		switch g.n(8) {
		case 0:
			return "lower(" + sub(needCol) + ")"
		case 1:
			return "upper(" + sub(needCol) + ")"
		case 2:
			g.tag("concat")
			return "(" + sub(needCol) + " || " + sub(false) + ")"
		case 3:
			g.tag("coalesce")
			return "coalesce(" + sub(needCol) + ", " + g.lit(Text) + ")"
		case 4:
			return g.caseExpr(t, sc, d, needCol)
		case 5:
			return "substr(" + sub(needCol) + ", 1, " + g.pick("1", "2") + ")"
		case 6:
			// The first operand reads a column: DuckDB folds nullif('z', 'z') || … to a
			// NULL constant of type "NULL", which a view's column holds as INTEGER, and
			// then rejects comparing it with text (PostgreSQL resolves it to text).
			g.tag("nullif")
			return "nullif(" + sub(true) + ", " + g.lit(Text) + ")"
		default:
			return g.leaf(t, sc, needCol)
		}
	default: // Float
		switch g.n(7) {
		case 0:
			g.tag("arith")
			return "(" + sub(needCol) + " + " + sub(false) + ")"
		case 1:
			g.tag("arith")
			if len(sc.of(Int)) > 0 {
				return "(" + sub(needCol) + " - " + g.leaf(Int, sc, false) + ")"
			}
			return "(" + sub(needCol) + " - " + sub(false) + ")"
		case 2:
			g.tag("arith")
			return "(" + sub(needCol) + " * 2)"
		case 3:
			g.tag("coalesce")
			return "coalesce(" + sub(needCol) + ", " + g.lit(Float) + ")"
		case 4:
			return g.caseExpr(t, sc, d, needCol)
		default:
			return g.leaf(t, sc, needCol)
		}
	}
}

// caseExpr generates a searched CASE (or, for integers now and then, a simple CASE).
func (g *Gen) caseExpr(t Type, sc scope, d int, needCol bool) string {
	g.tag("case")
	var b strings.Builder
	b.WriteString("CASE")
	if t == Int && g.p(0.25) && len(sc.of(Int)) > 0 {
		b.WriteString(" " + g.leaf(Int, sc, true))
		for i := 1 + g.n(2); i > 0; i-- {
			b.WriteString(" WHEN " + g.lit(Int) + " THEN " + g.expr(t, sc, d-1, needCol))
		}
	} else {
		for i := 1 + g.n(2); i > 0; i-- {
			b.WriteString(" WHEN " + g.pred(sc, d-1) + " THEN " + g.expr(t, sc, d-1, needCol))
		}
	}
	if g.p(0.75) {
		b.WriteString(" ELSE " + g.expr(t, sc, d-1, false))
	}
	b.WriteString(" END")
	return b.String()
}

// cmpType picks a type for a comparison among those sc has columns of.
func (g *Gen) cmpType(sc scope) (Type, bool) {
	for try := 0; try < 8; try++ {
		t := []Type{Int, Int, Int, Text, Text, Float, Time}[g.n(7)]
		if len(sc.of(t)) > 0 {
			return t, true
		}
	}
	for _, t := range []Type{Int, Text, Float, Time} {
		if len(sc.of(t)) > 0 {
			return t, true
		}
	}
	return Int, false
}

// pred generates a predicate over sc that reads at least one column, nested up to d
// levels of AND / OR / NOT. Compound predicates are parenthesized.
func (g *Gen) pred(sc scope, d int) string {
	if d > 0 && g.p(0.3) {
		switch g.n(3) {
		case 0:
			return "(" + g.pred(sc, d-1) + " AND " + g.pred(sc, d-1) + ")"
		case 1:
			return "(" + g.pred(sc, d-1) + " OR " + g.pred(sc, d-1) + ")"
		default:
			return "(NOT " + g.pred(sc, d-1) + ")"
		}
	}
	sub := d - 1
	if sub < 1 {
		sub = 1
	}
	x := g.n(100)
	if bools := sc.of(Bool); len(bools) > 0 && x >= 84 && x < 94 {
		c := bools[g.n(len(bools))].ref
		return g.pick(c, "NOT "+c, c+" IS TRUE", c+" IS NOT FALSE", c+" IS FALSE", c+" = true")
	}
	t, ok := g.cmpType(sc)
	if !ok {
		if bools := sc.of(Bool); len(bools) > 0 {
			return bools[g.n(len(bools))].ref + " IS NULL"
		}
		return "true"
	}
	if t == Time && g.p(0.4) {
		return g.timePred(sc)
	}
	switch {
	case x < 40:
		// Mostly a column against a constant of its domain: on these small domains a
		// comparison of computed values, or with a value the column never holds, is
		// nearly always false, which leaves views empty.
		left, dom := g.operand(t, sc, sub)
		right := g.litFor(t, dom)
		if u := truncUnit(left); u != "" {
			right = g.truncConst(u) // see truncConst: a DuckDB bug
		}
		if g.p(0.2) {
			if other := g.otherCol(t, sc, left); other != "" {
				right = other
			}
		}
		return left + " " + g.cmpOp() + " " + right
	case x < 52:
		g.tag("is-null")
		c := sc[g.n(len(sc))].ref
		if g.p(0.3) {
			c = g.expr(t, sc, sub, true)
		}
		return c + g.pick(" IS NULL", " IS NOT NULL", " IS NOT NULL")
	case x < 64:
		g.tag("in-list")
		if t == Float {
			t = Int
			if len(sc.of(Int)) == 0 {
				return g.leaf(Float, sc, true) + " IS NULL"
			}
		}
		left, dom := g.operand(t, sc, sub)
		var items []string
		for i := 2 + g.n(3); i > 0; i-- {
			items = append(items, g.litFor(t, dom))
		}
		if g.p(0.2) {
			items = append(items, "NULL")
		}
		op := " IN ("
		if g.p(0.35) {
			op = " NOT IN ("
		}
		return left + op + strings.Join(items, ", ") + ")"
	case x < 74 && len(sc.of(Text)) > 0:
		g.tag("like")
		op := " LIKE "
		if g.p(0.3) {
			op = " NOT LIKE "
		}
		left, _ := g.operand(Text, sc, sub)
		return left + op + g.pick("'a%'", "'%b'", "'_b%'", "'a_c'", "'%'", "'ab'", "'%a%'", "'B%'")
	case x < 84 && t != Text:
		g.tag("between")
		left, dom := g.operand(t, sc, sub)
		var lo, hi string
		switch t {
		case Int:
			a, b := g.litFor(Int, dom), g.litFor(Int, dom)
			if atoi(a) > atoi(b) {
				a, b = b, a
			}
			lo, hi = a, b
		case Time:
			lo, hi = g.timeRange()
		default:
			lo, hi = "0", g.pick("1.5", "2.25", "3.75")
		}
		op := " BETWEEN "
		if g.p(0.25) {
			op = " NOT BETWEEN "
		}
		return left + op + lo + " AND " + hi
	case x >= 94:
		g.tag("is-distinct")
		left, dom := g.leafCol(t, sc)
		right := g.litFor(t, dom)
		if other := g.otherCol(t, sc, left); other != "" && g.p(0.5) {
			right = other
		}
		return left + g.pick(" IS DISTINCT FROM ", " IS NOT DISTINCT FROM ") + right
	default:
		left, dom := g.operand(t, sc, sub)
		if u := truncUnit(left); u != "" {
			return left + " " + g.cmpOp() + " " + g.truncConst(u) // see truncConst: a DuckDB bug
		}
		return left + " " + g.cmpOp() + " " + g.litFor(t, dom)
	}
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// leafCol is leaf(t, sc, true) that also returns the column's name when it is a bare
// column ("" otherwise), to pick constants from its domain.
func (g *Gen) leafCol(t Type, sc scope) (string, string) {
	if cols := sc.of(t); len(cols) > 0 {
		c := cols[g.n(len(cols))]
		return c.ref, c.dom
	}
	return g.leaf(t, sc, true), ""
}

// otherCol returns a column of type t other than not, or "": comparing a column with
// itself is mostly a constant, and the views it filters are mostly empty.
func (g *Gen) otherCol(t Type, sc scope, not string) string {
	var cols []string
	for _, c := range sc.of(t) {
		if c.ref != not {
			cols = append(cols, c.ref)
		}
	}
	if len(cols) == 0 {
		return ""
	}
	return cols[g.n(len(cols))]
}

// litFor returns a constant of type t, from the domain the streams write into column
// name when it is a base column's (k, g, v, s, w, ts) or a jsonb member's (jsonAccessors),
// else any.
func (g *Gen) litFor(t Type, name string) string {
	if c := g.litForJSON(name); c != "" {
		return c
	}
	switch {
	case name == "k" && t == Int:
		if g.p(0.3) {
			return "1"
		}
		return fmt.Sprint(g.n(keys))
	case name == "g" && t == Int:
		if g.p(0.4) {
			return "1"
		}
		return fmt.Sprint(g.n(5))
	case name == "v" && t == Int:
		if g.p(0.25) {
			return "5"
		}
		return fmt.Sprint(g.n(16) - 3)
	case name == "s" && t == Text:
		return g.pick("'a'", "'a'", "'ab'", "'abc'", "'b'", "'B'", "''", "'ba'")
	case name == "w" && t == Float:
		return g.pick("0.5", "0.5", "-1.25", "0", "0.25", "1.5", "2", "3.75")
	}
	return g.lit(t)
}

// operand is the tested side of a predicate: mostly a bare column, whose name it returns
// too ("" for an expression).
func (g *Gen) operand(t Type, sc scope, d int) (string, string) {
	if g.p(0.65) {
		return g.leafCol(t, sc)
	}
	return g.expr(t, sc, d, true), ""
}
