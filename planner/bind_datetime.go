package planner

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/interval"
	"github.com/weirdb/weir/internal/jsonb"
	"github.com/weirdb/weir/internal/sqlerr"
)

// isDateTime reports whether t takes part in date/time arithmetic.
func isDateTime(t catalog.Type) bool { return t.IsTime() || t == catalog.Interval }

// isSmallInt reports whether t is an integer that date + integer accepts (int4 or
// narrower; PostgreSQL has no date + bigint).
func isSmallInt(t catalog.Type) bool { return t == catalog.Int2 || t == catalog.Int4 }

// timeArith binds +, -, * and / when an operand is a date, timestamp or interval, with
// PostgreSQL's operators: timestamp ± interval, date ± interval (a timestamp), date ±
// integer, date - date (integer), timestamp - timestamp (interval), interval ± interval,
// interval * and / a number. An untyped literal takes the other operand's type when
// such an operator exists, else the one operator's type that fits ('1 hour' in ts +
// '1 hour' is an interval), as PostgreSQL resolves it.
func (b *binder) timeArith(op string, l, r expr.Expr, loc int32) expr.Expr {
	lt, rt := l.Type(), r.Type()
	coerce := func(e expr.Expr, t catalog.Type) expr.Expr {
		c, ok := b.tryCoerce(e, t, loc)
		if !ok {
			b.noOperator(lt, op, rt, loc)
		}
		return c
	}
	ambiguous := func() {
		b.failErr(sqlerr.New("42725", "operator is not unique: %s %s %s", lt, op, rt).
			WithHint("Could not choose a best candidate operator. You might need to add explicit type casts."), loc)
	}
	unknownL, unknownR := lt == catalog.Unknown, rt == catalog.Unknown
	switch op {
	case "+":
		switch {
		case (unknownL && rt == catalog.Date) || (unknownR && lt == catalog.Date):
			ambiguous()
		case unknownL:
			l = coerce(l, catalog.Interval)
		case unknownR:
			r = coerce(r, catalog.Interval)
		}
	case "-":
		switch {
		case unknownL:
			l = coerce(l, rt)
		case unknownR:
			r = coerce(r, lt)
		}
	case "*", "/":
		switch {
		case unknownL:
			l = coerce(l, catalog.Float8)
		case unknownR:
			r = coerce(r, catalog.Float8)
		}
	}
	lt, rt = l.Type(), r.Type()
	arith := func(o expr.TimeOp, l, r expr.Expr, t catalog.Type) expr.Expr {
		return b.fold2(&expr.DateArith{Op: o, L: l, R: r, T: t}, loc)
	}
	toTimestamp := func(e expr.Expr) expr.Expr {
		if e.Type() == catalog.Date {
			return coerce(e, catalog.Timestamp)
		}
		return e
	}
	switch op {
	case "+":
		if lt == catalog.Interval && rt.IsTime() {
			l, r, lt, rt = r, l, rt, lt // interval + timestamp is timestamp + interval
		}
		if isSmallInt(lt) && rt == catalog.Date {
			l, r, lt, rt = r, l, rt, lt
		}
		switch {
		case lt == catalog.Interval && rt == catalog.Interval:
			return arith(expr.IntervalPlus, l, r, catalog.Interval)
		case lt.IsTime() && rt == catalog.Interval:
			l = toTimestamp(l)
			return arith(expr.TsPlusInterval, l, r, l.Type())
		case lt == catalog.Date && isSmallInt(rt):
			return arith(expr.DatePlusInt, l, r, catalog.Date)
		}
	case "-":
		switch {
		case lt == catalog.Interval && rt == catalog.Interval:
			return arith(expr.IntervalMinus, l, r, catalog.Interval)
		case lt.IsTime() && rt == catalog.Interval:
			l = toTimestamp(l)
			return arith(expr.TsMinusInterval, l, r, l.Type())
		case lt == catalog.Date && rt == catalog.Date:
			return arith(expr.DateMinusDate, l, r, catalog.Int4)
		case lt == catalog.Date && isSmallInt(rt):
			return arith(expr.DateMinusInt, l, r, catalog.Date)
		case lt.IsTime() && rt.IsTime():
			t := maxRank(lt, rt)
			if t == catalog.Date {
				t = catalog.Timestamp
			}
			return arith(expr.TsMinusTs, coerce(l, t), coerce(r, t), catalog.Interval)
		}
	case "*":
		if rt == catalog.Interval && lt.IsNumeric() {
			l, r, lt, rt = r, l, rt, lt
		}
		if lt == catalog.Interval && rt.IsNumeric() {
			return arith(expr.IntervalMul, l, coerce(r, catalog.Float8), catalog.Interval)
		}
	case "/":
		if lt == catalog.Interval && rt.IsNumeric() {
			return arith(expr.IntervalDiv, l, coerce(r, catalog.Float8), catalog.Interval)
		}
	}
	b.noOperator(lt, op, rt, loc)
	return nil
}

// intervalTypmod reads the modifiers of INTERVAL '…' MINUTE, INTERVAL '…' HOUR TO
// SECOND(3) and interval(3): the field mask and the fractional-second precision.
func (b *binder) intervalTypmod(tn *pg_query.TypeName) (rng, precision int32) {
	rng, precision = interval.FullRange, interval.FullPrecision
	mods := make([]int32, len(tn.Typmods))
	for i, m := range tn.Typmods {
		iv, ok := m.GetAConst().GetVal().(*pg_query.A_Const_Ival)
		if !ok {
			b.fail(sqlerr.SyntaxError, tn.Location, "type modifiers must be simple constants or identifiers")
		}
		mods[i] = iv.Ival.Ival
	}
	switch len(mods) {
	case 1:
		rng = mods[0]
	case 2:
		rng, precision = mods[0], mods[1]
	default:
		b.fail(sqlerr.SyntaxError, tn.Location, "invalid INTERVAL type modifier")
	}
	if precision != interval.FullPrecision && (precision < 0 || precision > 6) {
		b.fail(sqlerr.InvalidParameterValue, tn.Location, "INTERVAL(%d) precision must be between 0 and 6", precision)
	}
	return rng, precision
}

// intervalCast binds a cast to interval with modifiers (INTERVAL '1' MINUTE): a literal
// is read with the modifiers (a bare number is a count of the range's last field); any
// other value is converted and then truncated to the range.
func (b *binder) intervalCast(inner expr.Expr, tn *pg_query.TypeName, loc int32) expr.Expr {
	rng, precision := b.intervalTypmod(tn)
	if c, ok := inner.(*expr.Const); ok && c.T == catalog.Unknown {
		if c.V.Null {
			return expr.NullOf(catalog.Interval)
		}
		iv, err := interval.ParseTypmod(c.V.S, rng, precision)
		if err != nil {
			b.failErr(err, b.locOf(inner, loc))
		}
		return expr.NewConst(expr.IntervalValue(iv), catalog.Interval)
	}
	if inner.Type() == catalog.Unknown {
		inner = &expr.Cast{E: inner, T: catalog.Text}
	}
	if !expr.CanCast(inner.Type(), catalog.Interval) {
		b.fail(sqlerr.CannotCoerce, loc, "cannot cast type %s to %s", inner.Type(), catalog.Interval)
	}
	return b.fold(&expr.Cast{E: inner, T: catalog.Interval, IntervalRange: rng, IntervalPrecision: precision}, loc)
}

// jsonOp binds ->, ->>, #> and #>> on a jsonb operand. The right operand of -> is a text
// key or an int4 index; that of #> must be a constant text[] literal ('{a,b,0}').
func (b *binder) jsonOp(op string, l, r expr.Expr, loc int32) expr.Expr {
	lt, rt := l.Type(), r.Type()
	if lt == catalog.Unknown {
		if rt == catalog.Unknown {
			b.fail("42725", loc, "operator is not unique: unknown %s unknown", op)
		}
		l = b.coerceTo(l, catalog.Jsonb, loc, "operand")
		lt = catalog.Jsonb
	}
	if lt != catalog.Jsonb {
		b.noOperator(lt, op, rt, loc)
	}
	asText := op == "->>" || op == "#>>"
	if op == "#>" || op == "#>>" {
		c, ok := r.(*expr.Const)
		if !ok || !(rt == catalog.Unknown || rt.IsString()) {
			if rt != catalog.Unknown && !rt.IsString() {
				b.noOperator(lt, op, rt, loc)
			}
			b.unsupported(loc, "the operator "+op+" with a path that is not a constant text[] literal")
		}
		if c.V.Null {
			return expr.NullOf(map[bool]catalog.Type{false: catalog.Jsonb, true: catalog.Text}[asText])
		}
		path, hasNull, err := jsonb.ParseTextArray(c.V.S)
		if err != nil {
			b.failErr(err, b.locOf(r, loc))
		}
		return &expr.JsonGet{E: l, Path: path, IsPath: true, AsText: asText, PathNull: hasNull}
	}
	switch {
	case rt == catalog.Unknown:
		r = b.coerceTo(r, catalog.Text, loc, "operand")
	case rt.IsString(), isSmallInt(rt):
	default:
		b.noOperator(lt, op, rt, loc)
	}
	return &expr.JsonGet{E: l, Arg: r, AsText: asText}
}

// checkOrderable rejects ordering jsonb (<, >, ORDER BY, GREATEST, …): jsonb's btree
// order is not implemented, and Weir never orders wrongly.
func (b *binder) checkOrderable(t catalog.Type, loc int32, what string) {
	if t == catalog.Jsonb {
		b.unsupported(loc, what+" on jsonb (jsonb ordering)")
	}
}

// coerceFuncArgs gives untyped literals and dates among a date/time or jsonb function's
// arguments the types PostgreSQL resolves them to: date_bin(interval, timestamp,
// timestamp) — timestamptz unless both are timestamp —, justify_*(interval),
// jsonb_*(jsonb, text…).
func (b *binder) coerceFuncArgs(name string, args []expr.Expr, loc int32) []expr.Expr {
	to := func(i int, t catalog.Type) {
		if i < len(args) && args[i].Type() != t {
			if c, ok := b.tryCoerce(args[i], t, loc); ok {
				args[i] = c
			}
		}
	}
	unknown := func(i int) bool { return i < len(args) && args[i].Type() == catalog.Unknown }
	switch name {
	case "date_bin":
		if len(args) != 3 {
			return args
		}
		to(0, catalog.Interval)
		t := catalog.Timestamp
		for _, a := range args[1:] {
			if a.Type() != catalog.Timestamp && a.Type() != catalog.Unknown {
				t = catalog.Timestamptz
			}
		}
		if unknown(1) && unknown(2) {
			t = catalog.Timestamptz
		}
		to(1, t)
		to(2, t)
	case "justify_hours", "justify_days", "justify_interval":
		to(0, catalog.Interval)
	case "jsonb_typeof", "jsonb_array_length", "jsonb_extract_path", "jsonb_extract_path_text":
		to(0, catalog.Jsonb)
		for i := 1; i < len(args); i++ {
			to(i, catalog.Text)
		}
	case "to_char":
		if unknown(0) {
			b.failErr(sqlerr.New("42725", "function to_char(unknown, unknown) is not unique").
				WithHint("Could not choose a best candidate function. You might need to add explicit type casts."), loc)
		}
		to(1, catalog.Text)
	case "date_part", "extract":
		if len(args) == 2 {
			to(0, catalog.Text)
		}
	}
	return args
}
