package expr

import (
	"strings"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/jsonb"
	"github.com/weirdb/weir/internal/sqlerr"
)

// jsonb values travel as their canonical text (delta.KindJsonb); internal/jsonb parses
// and prints them.

// JsonbValue returns v's canonical text as a delta value.
func JsonbValue(v jsonb.Value) delta.Value { return delta.Jsonb(v.String()) }

// JsonGet is a jsonb access operator: -> (Arg a text key or an integer index), ->> (the
// same, as text), #> and #>> (Path, a constant text[] path). A missing member is NULL.
type JsonGet struct {
	E      Expr
	Arg    Expr     // -> and ->>: the key (text) or index (integer)
	Path   []string // #> and #>>: the path; nil for -> and ->>
	IsPath bool
	AsText bool // ->> and #>>: the result is text
	// PathNull is set when the path literal has a NULL element: the result is NULL.
	PathNull bool
}

func (j *JsonGet) Type() catalog.Type {
	if j.AsText {
		return catalog.Text
	}
	return catalog.Jsonb
}

func (j *JsonGet) String() string {
	op := "->"
	if j.IsPath {
		op = "#>"
	}
	if j.AsText {
		op += ">"
	}
	arg := ""
	if j.IsPath {
		arg = "'{" + strings.Join(j.Path, ",") + "}'"
	} else {
		arg = j.Arg.String()
	}
	return "(" + j.E.String() + " " + op + " " + arg + ")"
}

func (j *JsonGet) Eval(row []delta.Value) (delta.Value, error) {
	null := delta.Null(j.Type().Kind())
	v, err := j.E.Eval(row)
	if err != nil || v.Null || j.PathNull {
		return null, err
	}
	doc := jsonb.MustParse(v.S)
	var got jsonb.Value
	var ok bool
	if j.IsPath {
		got, ok = doc.Path(j.Path)
	} else {
		a, err := j.Arg.Eval(row)
		if err != nil || a.Null {
			return null, err
		}
		if j.Arg.Type().IsInteger() {
			got, ok = doc.Index(a.I, true)
		} else {
			got, ok = doc.Field(a.S)
		}
	}
	if !ok {
		return null, nil
	}
	if j.AsText {
		s, ok := got.Text()
		if !ok {
			return null, nil
		}
		return delta.Str(s), nil
	}
	return JsonbValue(got), nil
}

// jsonFunc binds jsonb_typeof, jsonb_array_length, jsonb_extract_path and
// jsonb_extract_path_text; ok is false for another name.
func jsonFunc(f *Func, name string, args []Expr) (ok bool, err error) {
	n := len(args)
	isJSON := n > 0 && args[0].Type() == catalog.Jsonb
	fail := func() (bool, error) { return true, errNoSignature(name, args) }
	switch name {
	case "jsonb_typeof":
		if n != 1 || !isJSON {
			return fail()
		}
		f.T = catalog.Text
		f.fn = func(a []delta.Value) (delta.Value, error) {
			return delta.Str(jsonb.MustParse(a[0].S).Kind.String()), nil
		}
	case "jsonb_array_length":
		if n != 1 || !isJSON {
			return fail()
		}
		f.T = catalog.Int4
		f.fn = func(a []delta.Value) (delta.Value, error) {
			l, err := jsonb.MustParse(a[0].S).ArrayLength()
			return delta.Int(l), err
		}
	case "jsonb_extract_path", "jsonb_extract_path_text":
		if n < 1 || !isJSON {
			return fail()
		}
		for _, a := range args[1:] {
			if !a.Type().IsString() {
				return fail()
			}
		}
		asText := name == "jsonb_extract_path_text"
		f.T = catalog.Jsonb
		if asText {
			f.T = catalog.Text
		}
		f.fn = func(a []delta.Value) (delta.Value, error) {
			path := make([]string, len(a)-1)
			for i, p := range a[1:] {
				path[i] = p.S
			}
			got, ok := jsonb.MustParse(a[0].S).Path(path)
			if !ok {
				return delta.Null(f.T.Kind()), nil
			}
			if asText {
				s, ok := got.Text()
				if !ok {
					return delta.Null(delta.KindString), nil
				}
				return delta.Str(s), nil
			}
			return JsonbValue(got), nil
		}
	default:
		return false, nil
	}
	return true, nil
}

// convertJsonb casts a jsonb scalar to numeric, an integer, a float or boolean (jsonb.c's
// jsonb_numeric and friends); 22023 for any other JSON type.
func convertJsonb(v delta.Value, to catalog.Type) (delta.Value, error) {
	doc := jsonb.MustParse(v.S)
	want := jsonb.Number
	if to == catalog.Bool {
		want = jsonb.Bool
	}
	if doc.Kind != want {
		return v, sqlerr.New(sqlerr.InvalidParameterValue, "cannot cast jsonb %s to type %s", doc.Kind, to)
	}
	if to == catalog.Bool {
		return delta.Bool(doc.Bool), nil
	}
	return Convert(delta.Numeric(doc.Num), catalog.Numeric, to)
}

// parseJsonb is text → jsonb: validated and made canonical.
func parseJsonb(s string) (delta.Value, error) {
	c, err := jsonb.Canonical(s)
	if err != nil {
		return delta.Value{}, err
	}
	return delta.Jsonb(c), nil
}
