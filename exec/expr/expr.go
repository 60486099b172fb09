// Package expr holds bound scalar expressions and their evaluation. The planner builds
// expression trees from SQL; operators evaluate them row by row over delta batches.
// Semantics follow PostgreSQL: three-valued logic, NULL propagation, integer overflow
// raises 22003, division by zero raises 22012, text compares bytewise (the C collation).
package expr

import (
	"fmt"
	"math"
	"strings"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/decimal"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Expr is a bound, typed scalar expression over an input row.
type Expr interface {
	// Type is the logical type of the result.
	Type() catalog.Type
	// Eval computes the value for row. Errors carry a SQLSTATE.
	Eval(row []delta.Value) (delta.Value, error)
	// String renders the expression for EXPLAIN and messages.
	String() string
}

// Col reads input column Idx.
type Col struct {
	Idx  int
	T    catalog.Type
	Name string
}

func (c *Col) Type() catalog.Type                          { return c.T }
func (c *Col) Eval(row []delta.Value) (delta.Value, error) { return row[c.Idx], nil }
func (c *Col) String() string {
	if c.Name != "" {
		return c.Name
	}
	return fmt.Sprintf("#%d", c.Idx)
}

// Const is a literal.
type Const struct {
	V delta.Value
	T catalog.Type
}

func (c *Const) Type() catalog.Type                      { return c.T }
func (c *Const) Eval([]delta.Value) (delta.Value, error) { return c.V, nil }
func (c *Const) String() string                          { return Format(c.V, c.T) }

// NewConst returns a literal of type t holding v.
func NewConst(v delta.Value, t catalog.Type) *Const { return &Const{V: v, T: t} }

// NullOf returns a NULL literal of type t.
func NullOf(t catalog.Type) *Const { return &Const{V: delta.Null(t.Kind()), T: t} }

// Op is a binary operator.
type Op uint8

// The binary operators.
const (
	OpAdd Op = iota
	OpSub
	OpMul
	OpDiv
	OpMod
	OpEq
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpAnd
	OpOr
	OpConcat
	OpIsDistinct
	OpIsNotDistinct
)

var opNames = [...]string{"+", "-", "*", "/", "%", "=", "<>", "<", "<=", ">", ">=", "AND", "OR", "||", "IS DISTINCT FROM", "IS NOT DISTINCT FROM"}

func (o Op) String() string { return opNames[o] }

// IsComparison reports whether o compares its operands.
func (o Op) IsComparison() bool { return o >= OpEq && o <= OpGe }

// Binary applies Op to L and R. Operands have already been coerced to a common type by
// the binder (both integers of any width, both floats, both strings, …).
type Binary struct {
	Op   Op
	L, R Expr
	T    catalog.Type
}

func (b *Binary) Type() catalog.Type { return b.T }
func (b *Binary) String() string {
	return "(" + b.L.String() + " " + b.Op.String() + " " + b.R.String() + ")"
}

func (b *Binary) Eval(row []delta.Value) (delta.Value, error) {
	l, err := b.L.Eval(row)
	if err != nil {
		return l, err
	}
	switch b.Op {
	case OpAnd:
		if !l.Null && !l.B {
			return delta.Bool(false), nil
		}
		r, err := b.R.Eval(row)
		if err != nil {
			return r, err
		}
		if !r.Null && !r.B {
			return delta.Bool(false), nil
		}
		if l.Null || r.Null {
			return delta.Null(delta.KindBool), nil
		}
		return delta.Bool(true), nil
	case OpOr:
		if !l.Null && l.B {
			return delta.Bool(true), nil
		}
		r, err := b.R.Eval(row)
		if err != nil {
			return r, err
		}
		if !r.Null && r.B {
			return delta.Bool(true), nil
		}
		if l.Null || r.Null {
			return delta.Null(delta.KindBool), nil
		}
		return delta.Bool(false), nil
	}
	r, err := b.R.Eval(row)
	if err != nil {
		return r, err
	}
	switch b.Op {
	case OpIsDistinct, OpIsNotDistinct:
		same := (l.Null && r.Null) || (!l.Null && !r.Null && delta.Compare(l, r) == 0)
		return delta.Bool(same == (b.Op == OpIsNotDistinct)), nil
	}
	if l.Null || r.Null {
		return delta.Null(b.T.Kind()), nil
	}
	if b.Op.IsComparison() {
		c := delta.Compare(l, r)
		var ok bool
		switch b.Op {
		case OpEq:
			ok = c == 0
		case OpNe:
			ok = c != 0
		case OpLt:
			ok = c < 0
		case OpLe:
			ok = c <= 0
		case OpGt:
			ok = c > 0
		case OpGe:
			ok = c >= 0
		}
		return delta.Bool(ok), nil
	}
	if b.Op == OpConcat {
		return delta.Str(l.S + r.S), nil
	}
	if b.T.IsInteger() {
		return intArith(b.Op, l.I, r.I, b.T)
	}
	if b.T == catalog.Numeric {
		return numericArith(b.Op, l, r)
	}
	return floatArith(b.Op, l.F, r.F, b.T)
}

func intArith(op Op, a, b int64, t catalog.Type) (delta.Value, error) {
	var r int64
	switch op {
	case OpAdd:
		r = a + b
		if (r > a) != (b > 0) {
			return delta.Value{}, overflow(t)
		}
	case OpSub:
		r = a - b
		if (r < a) != (b > 0) {
			return delta.Value{}, overflow(t)
		}
	case OpMul:
		if a != 0 && b != 0 {
			r = a * b
			if r/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
				return delta.Value{}, overflow(t)
			}
		}
	case OpDiv:
		if b == 0 {
			return delta.Value{}, sqlerr.New(sqlerr.DivisionByZero, "division by zero")
		}
		if b == -1 && a == math.MinInt64 {
			return delta.Value{}, overflow(t)
		}
		r = a / b
	case OpMod:
		if b == 0 {
			return delta.Value{}, sqlerr.New(sqlerr.DivisionByZero, "division by zero")
		}
		if b == -1 {
			return delta.Int(0), nil
		}
		r = a % b
	}
	if !fitsInt(r, t) {
		return delta.Value{}, overflow(t)
	}
	return delta.Int(r), nil
}

func fitsInt(v int64, t catalog.Type) bool {
	switch t {
	case catalog.Int2:
		return v >= math.MinInt16 && v <= math.MaxInt16
	case catalog.Int4:
		return v >= math.MinInt32 && v <= math.MaxInt32
	}
	return true
}

func overflow(t catalog.Type) error {
	return sqlerr.New(sqlerr.NumericValueOutOfRange, "%s out of range", t)
}

func floatArith(op Op, a, b float64, t catalog.Type) (delta.Value, error) {
	var r float64
	switch op {
	case OpAdd:
		r = a + b
	case OpSub:
		r = a - b
	case OpMul:
		r = a * b
	case OpDiv:
		if b == 0 && !math.IsNaN(a) {
			return delta.Value{}, sqlerr.New(sqlerr.DivisionByZero, "division by zero")
		}
		r = a / b
	case OpMod:
		return delta.Value{}, sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s %% %s", t, t)
	}
	// Round to single precision before the range checks: a real result can overflow or
	// underflow where the same double would not.
	if t == catalog.Float4 {
		r = float64(float32(r))
	}
	if math.IsInf(r, 0) && !math.IsInf(a, 0) && !math.IsInf(b, 0) {
		return delta.Value{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: overflow")
	}
	// As PostgreSQL's float8_mul and float8_div: a zero result from non-zero operands.
	if r == 0 && a != 0 && ((op == OpMul && b != 0) || (op == OpDiv && !math.IsInf(b, 0))) {
		return delta.Value{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: underflow")
	}
	return delta.Float(r), nil
}

// Not is logical negation.
type Not struct{ E Expr }

func (n *Not) Type() catalog.Type { return catalog.Bool }
func (n *Not) String() string     { return "NOT " + n.E.String() }
func (n *Not) Eval(row []delta.Value) (delta.Value, error) {
	v, err := n.E.Eval(row)
	if err != nil || v.Null {
		return v, err
	}
	return delta.Bool(!v.B), nil
}

// Neg is arithmetic negation.
type Neg struct{ E Expr }

func (n *Neg) Type() catalog.Type { return n.E.Type() }
func (n *Neg) String() string     { return "-" + n.E.String() }
func (n *Neg) Eval(row []delta.Value) (delta.Value, error) {
	v, err := n.E.Eval(row)
	if err != nil || v.Null {
		return v, err
	}
	if v.Kind == delta.KindFloat {
		return delta.Float(-v.F), nil
	}
	if v.Kind == delta.KindNumeric {
		return NumericValue(decimal.Neg(DecimalOf(v))), nil
	}
	if v.Kind == delta.KindInterval {
		return negInterval(v)
	}
	if v.I == math.MinInt64 || !fitsInt(-v.I, n.E.Type()) {
		return v, overflow(n.E.Type())
	}
	return delta.Int(-v.I), nil
}

// IsNull tests for NULL (IS NULL, or IS NOT NULL when Not).
type IsNull struct {
	E   Expr
	Not bool
}

func (n *IsNull) Type() catalog.Type { return catalog.Bool }
func (n *IsNull) String() string {
	if n.Not {
		return n.E.String() + " IS NOT NULL"
	}
	return n.E.String() + " IS NULL"
}

func (n *IsNull) Eval(row []delta.Value) (delta.Value, error) {
	v, err := n.E.Eval(row)
	if err != nil {
		return v, err
	}
	return delta.Bool(v.Null != n.Not), nil
}

// When is one arm of a CASE.
type When struct{ Cond, Then Expr }

// Case is a searched CASE (the binder rewrites the simple form to this one).
type Case struct {
	Whens []When
	Else  Expr // never nil: NULL of T when absent
	T     catalog.Type
}

func (c *Case) Type() catalog.Type { return c.T }
func (c *Case) String() string {
	var sb strings.Builder
	sb.WriteString("CASE")
	for _, w := range c.Whens {
		sb.WriteString(" WHEN " + w.Cond.String() + " THEN " + w.Then.String())
	}
	sb.WriteString(" ELSE " + c.Else.String() + " END")
	return sb.String()
}

func (c *Case) Eval(row []delta.Value) (delta.Value, error) {
	for _, w := range c.Whens {
		v, err := w.Cond.Eval(row)
		if err != nil {
			return v, err
		}
		if !v.Null && v.B {
			return w.Then.Eval(row)
		}
	}
	return c.Else.Eval(row)
}

// In is `E IN (List…)` (or NOT IN) with SQL's NULL rules: no match and a NULL in the list
// (or a NULL E) gives NULL, not false.
type In struct {
	E    Expr
	List []Expr
	Not  bool
}

func (n *In) Type() catalog.Type { return catalog.Bool }
func (n *In) String() string {
	parts := make([]string, len(n.List))
	for i, e := range n.List {
		parts[i] = e.String()
	}
	op := " IN ("
	if n.Not {
		op = " NOT IN ("
	}
	return n.E.String() + op + strings.Join(parts, ", ") + ")"
}

func (n *In) Eval(row []delta.Value) (delta.Value, error) {
	v, err := n.E.Eval(row)
	if err != nil {
		return v, err
	}
	if v.Null {
		return delta.Null(delta.KindBool), nil
	}
	sawNull := false
	for _, e := range n.List {
		x, err := e.Eval(row)
		if err != nil {
			return x, err
		}
		if x.Null {
			sawNull = true
			continue
		}
		if delta.Compare(v, x) == 0 {
			return delta.Bool(!n.Not), nil
		}
	}
	if sawNull {
		return delta.Null(delta.KindBool), nil
	}
	return delta.Bool(n.Not), nil
}

// Params holds the values of a prepared statement's $n parameters for one execution.
// The statement that owns it sets Vals before evaluating; it is not safe for concurrent
// executions (a session runs one at a time).
type Params struct{ Vals []delta.Value }

// Param reads parameter $Idx+1 from P.
type Param struct {
	Idx int
	T   catalog.Type
	P   *Params
}

func (p *Param) Type() catalog.Type { return p.T }
func (p *Param) String() string     { return fmt.Sprintf("$%d", p.Idx+1) }
func (p *Param) Eval([]delta.Value) (delta.Value, error) {
	if p.Idx >= len(p.P.Vals) {
		return delta.Value{}, sqlerr.New(sqlerr.ProtocolViolation, "there is no parameter $%d", p.Idx+1)
	}
	return p.P.Vals[p.Idx], nil
}
