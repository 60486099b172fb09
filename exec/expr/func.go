package expr

import (
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/decimal"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Func is a call of a built-in scalar function.
type Func struct {
	Name string
	Args []Expr
	T    catalog.Type
	// strict functions return NULL when any argument is NULL, without calling fn.
	strict bool
	fn     func(args []delta.Value) (delta.Value, error)
}

func (f *Func) Type() catalog.Type { return f.T }
func (f *Func) String() string {
	parts := make([]string, len(f.Args))
	for i, a := range f.Args {
		parts[i] = a.String()
	}
	return f.Name + "(" + strings.Join(parts, ", ") + ")"
}

func (f *Func) Eval(row []delta.Value) (delta.Value, error) {
	args := make([]delta.Value, len(f.Args))
	for i, a := range f.Args {
		v, err := a.Eval(row)
		if err != nil {
			return v, err
		}
		if v.Null && f.strict {
			return delta.Null(f.T.Kind()), nil
		}
		args[i] = v
	}
	return f.fn(args)
}

// NewFunc binds a call of the built-in function name to args, whose types are final
// except that the binder coerces them as this function's signature says through
// coerce (which returns the coerced argument or an error). It fails with 42883 for an
// unknown function or argument types that fit no signature.
func NewFunc(name string, args []Expr, commonType func([]Expr) (catalog.Type, []Expr, error)) (*Func, error) {
	nargs := len(args)
	argT := func(i int) catalog.Type { return args[i].Type() }
	undefined := func() (*Func, error) {
		ts := make([]string, nargs)
		for i := range args {
			ts[i] = argT(i).String()
		}
		return nil, sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s) does not exist", name, strings.Join(ts, ", ")).
			WithHint("No function matches the given name and argument types.")
	}
	str := func(i int) bool { return argT(i).IsString() }
	f := &Func{Name: name, Args: args, strict: true}
	switch name {
	case "lower", "upper":
		if nargs != 1 || !str(0) {
			return undefined()
		}
		f.T = catalog.Text
		up := name == "upper"
		f.fn = func(a []delta.Value) (delta.Value, error) {
			if up {
				return delta.Str(strings.ToUpper(a[0].S)), nil
			}
			return delta.Str(strings.ToLower(a[0].S)), nil
		}
	case "length", "char_length", "character_length":
		if nargs != 1 || !str(0) {
			return undefined()
		}
		f.T = catalog.Int4
		f.fn = func(a []delta.Value) (delta.Value, error) {
			return delta.Int(int64(utf8.RuneCountInString(a[0].S))), nil
		}
	case "abs":
		if nargs != 1 || !argT(0).IsNumeric() {
			return undefined()
		}
		f.T = argT(0)
		f.fn = func(a []delta.Value) (delta.Value, error) {
			if a[0].Kind == delta.KindFloat {
				return delta.Float(math.Abs(a[0].F)), nil
			}
			if a[0].Kind == delta.KindNumeric {
				if d := DecimalOf(a[0]); d.Sign() < 0 {
					return NumericValue(decimal.Neg(d)), nil
				}
				return a[0], nil
			}
			if a[0].I == math.MinInt64 || !fitsInt(-a[0].I, f.T) {
				return a[0], overflow(f.T)
			}
			if a[0].I < 0 {
				return delta.Int(-a[0].I), nil
			}
			return a[0], nil
		}
	case "floor", "ceil", "ceiling", "round", "trunc":
		if nargs != 1 || !argT(0).IsNumeric() {
			return undefined()
		}
		f.T = catalog.Float8
		if argT(0).IsInteger() {
			f.T = argT(0) // integers are already integral (PostgreSQL would return numeric)
		}
		if argT(0) == catalog.Numeric {
			f.T = catalog.Numeric
			f.fn = func(a []delta.Value) (delta.Value, error) {
				return NumericValue(integral(name, DecimalOf(a[0]))), nil
			}
			break
		}
		op := map[string]func(float64) float64{"floor": math.Floor, "ceil": math.Ceil, "ceiling": math.Ceil, "round": math.RoundToEven, "trunc": math.Trunc}[name]
		f.fn = func(a []delta.Value) (delta.Value, error) {
			if a[0].Kind == delta.KindFloat {
				return delta.Float(op(a[0].F)), nil
			}
			return a[0], nil
		}
	case "coalesce", "greatest", "least", "nullif":
		if nargs == 0 || (name == "nullif" && nargs != 2) {
			return undefined()
		}
		t, coerced, err := commonType(args)
		if err != nil {
			return nil, err
		}
		f.Args, f.T, f.strict = coerced, t, false
		switch name {
		case "coalesce":
			f.fn = func(a []delta.Value) (delta.Value, error) {
				for _, v := range a {
					if !v.Null {
						return v, nil
					}
				}
				return delta.Null(t.Kind()), nil
			}
		case "nullif":
			f.fn = func(a []delta.Value) (delta.Value, error) {
				if !a[0].Null && !a[1].Null && delta.Compare(a[0], a[1]) == 0 {
					return delta.Null(t.Kind()), nil
				}
				return a[0], nil
			}
		default:
			sign := 1
			if name == "least" {
				sign = -1
			}
			f.fn = func(a []delta.Value) (delta.Value, error) {
				best := delta.Null(t.Kind())
				for _, v := range a {
					if !v.Null && (best.Null || delta.Compare(v, best)*sign > 0) {
						best = v
					}
				}
				return best, nil
			}
		}
	case "now", "current_timestamp", "transaction_timestamp", "statement_timestamp", "clock_timestamp":
		if nargs != 0 {
			return undefined()
		}
		f.T, f.strict = catalog.Timestamptz, false
		f.fn = func([]delta.Value) (delta.Value, error) { return delta.Int(time.Now().UnixMicro()), nil }
	case "concat":
		if nargs == 0 {
			return undefined()
		}
		f.T, f.strict = catalog.Text, false
		types := make([]catalog.Type, nargs)
		for i := range args {
			types[i] = argT(i)
		}
		f.fn = func(a []delta.Value) (delta.Value, error) {
			var sb strings.Builder
			for i, v := range a {
				switch {
				case v.Null:
				case types[i] == catalog.Bool: // concat uses boolout ("t"), not the text cast ("true")
					sb.WriteString(map[bool]string{true: "t", false: "f"}[v.B])
				default:
					sb.WriteString(Format(v, types[i]))
				}
			}
			return delta.Str(sb.String()), nil
		}
	default:
		ok, err := extraFunc(f, name, args)
		if !ok {
			return undefined()
		}
		if err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Like is `E [NOT] LIKE|ILIKE Pattern` with a constant pattern, compiled once.
type Like struct {
	E       Expr
	Pattern string
	Not     bool
	Fold    bool // ILIKE
	re      *regexp.Regexp
}

// NewLike compiles pattern (% and _ wildcards, backslash escapes).
func NewLike(e Expr, pattern string, not, fold bool) (*Like, error) {
	return NewLikeEscape(e, pattern, '\\', not, fold)
}

// NewLikeEscape is NewLike with escape character escape (LIKE … ESCAPE 'c'); escape 0
// means none (an empty ESCAPE string).
func NewLikeEscape(e Expr, pattern string, escape rune, not, fold bool) (*Like, error) {
	var sb strings.Builder
	sb.WriteString("(?s)^")
	if fold {
		sb.WriteString("(?i)")
	}
	esc := false
	for _, r := range pattern {
		switch {
		case esc:
			sb.WriteString(regexp.QuoteMeta(string(r)))
			esc = false
		case escape != 0 && r == escape:
			esc = true
		case r == '%':
			sb.WriteString(".*")
		case r == '_':
			sb.WriteString(".")
		default:
			sb.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	if esc {
		return nil, sqlerr.New(sqlerr.InvalidEscapeSequence, "LIKE pattern must not end with escape character")
	}
	sb.WriteString("$")
	re, err := regexp.Compile(sb.String())
	if err != nil {
		return nil, sqlerr.Wrap(err, sqlerr.InvalidParameterValue, "invalid LIKE pattern")
	}
	return &Like{E: e, Pattern: pattern, Not: not, Fold: fold, re: re}, nil
}

func (l *Like) Type() catalog.Type { return catalog.Bool }
func (l *Like) String() string {
	op := " LIKE "
	if l.Fold {
		op = " ILIKE "
	}
	if l.Not {
		op = " NOT" + op
	}
	return l.E.String() + op + "'" + l.Pattern + "'"
}

func (l *Like) Eval(row []delta.Value) (delta.Value, error) {
	v, err := l.E.Eval(row)
	if err != nil || v.Null {
		return delta.Null(delta.KindBool), err
	}
	return delta.Bool(l.re.MatchString(v.S) != l.Not), nil
}
