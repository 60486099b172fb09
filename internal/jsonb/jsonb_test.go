package jsonb

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/sqlerr"
)

// The expectations were produced by PostgreSQL 15.20: select ($J$<input>$J$::jsonb)::text.
func TestCanonical(t *testing.T) {
	tests := []struct {
		in, want string
		code     sqlerr.Code
	}{
		{"{\"b\": [1, 2], \"a\": 1, \"aa\": {\"y\": null, \"x\": true}}", "{\"a\": 1, \"b\": [1, 2], \"aa\": {\"x\": true, \"y\": null}}", ""},
		{"{\"a\":1,\"a\":2}", "{\"a\": 2}", ""},
		{"[1.50, 1e2, 1E-2, -0, -0.0, 0.1e1, 123456789012345678901234567890]", "[1.50, 100, 0.01, 0, 0.0, 1, 123456789012345678901234567890]", ""},
		{"\"a\\u00e9\\n\\t\\\"\\\\\\/\\u0001x\"", "\"aé\\n\\t\\\"\\\\/\\u0001x\"", ""},
		{"\"\\ud83d\\ude00\"", "\"😀\"", ""},
		{" 1 ", "1", ""},
		{"null", "null", ""},
		{"true", "true", ""},
		{"false", "false", ""},
		{"[]", "[]", ""},
		{"{}", "{}", ""},
		{"\"é\"", "\"é\"", ""},
		{"{\"bb\":1,\"a\":2,\"c\":3,\"ab\":4}", "{\"a\": 2, \"c\": 3, \"ab\": 4, \"bb\": 1}", ""},
		{"[[[]], {\"\": \"\"}, {\"a\": {}}]", "[[[]], {\"\": \"\"}, {\"a\": {}}]", ""},
		{"{\"k\": \"v\\u001fx\\u007f\"}", "{\"k\": \"v\\u001fx\x7f\"}", ""},
		{"-12.3400e+2", "-1234.00", ""},
		{"1E+2", "100", ""},
		{"0", "0", ""},
		{"[1,\n\t2]", "[1, 2]", ""},
		{"\"\\b\\f\\r\"", "\"\\b\\f\\r\"", ""},
		{"{\"a\":[1,{\"a\":2,\"a\":3}]}", "{\"a\": [1, {\"a\": 3}]}", ""},
		{"{\"é\":1,\"z\":2,\"zz\":3}", "{\"z\": 2, \"zz\": 3, \"é\": 1}", ""},
		{"01", "", "22P02"},
		{"1.", "", "22P02"},
		{".5", "", "22P02"},
		{"+1", "", "22P02"},
		{"{\"a\":1,}", "", "22P02"},
		{"{a:1}", "", "22P02"},
		{"\"\\u0000\"", "", "22P05"},
		{"\"\\ud83d\"", "", "22P02"},
		{"\"\\ude00\"", "", "22P02"},
		{"\"\\ud83d\\ud83d\"", "", "22P02"},
		{"[1,2", "", "22P02"},
		{"nul", "", "22P02"},
		{"1 2", "", "22P02"},
		{"\"a\tb\"", "", "22P02"},
		{"[1,]", "", "22P02"},
		{"{\"a\" 1}", "", "22P02"},
		{"{\"a\":1 \"b\":2}", "", "22P02"},
		{"[1 2]", "", "22P02"},
		{"\"\\x\"", "", "22P02"},
		{"\"\\u12\"", "", "22P02"},
		{"]", "", "22P02"},
		{"{", "", "22P02"},
		{",", "", "22P02"},
		{":", "", "22P02"},
		{"-", "", "22P02"},
		{"1e", "", "22P02"},
		{"1e+", "", "22P02"},
		{"tru", "", "22P02"},
		{"[1]]", "", "22P02"},
		{"{\"a\":1}}", "", "22P02"},
	}
	for _, tc := range tests {
		got, err := Canonical(tc.in)
		if tc.code != "" {
			require.Error(t, err, "%q gave %q", tc.in, got)
			require.Equal(t, tc.code, sqlerr.CodeOf(err), "%q: %v", tc.in, err)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
		again, err := Canonical(got)
		require.NoError(t, err)
		require.Equal(t, got, again, "canonical text is a fixed point")
	}
}

func TestErrorDetail(t *testing.T) {
	for in, detail := range map[string]string{
		"01":       `Token "01" is invalid.`,
		"[1,2":     "The input string ended unexpectedly.",
		"1 2":      `Expected end of input, but found "2".`,
		`{"a":1,}`: `Expected string, but found "}".`,
		"\"a\tb\"": "Character with value 0x09 must be escaped.",
	} {
		_, err := Canonical(in)
		require.Equal(t, detail, sqlerr.As(err).Detail, in)
	}
}

// Accessor results were checked on PostgreSQL 15 (->, ->>, #>, #>>).
func TestAccessors(t *testing.T) {
	doc := MustParse(`{"a":{"b":[10,"x",null]},"n":null,"t":true,"f":1.50,"arr":[1,{"b":"c"}]}`)
	text := func(v Value, ok bool) any {
		if !ok {
			return nil
		}
		s, ok := v.Text()
		if !ok {
			return nil
		}
		return s
	}
	jsonOf := func(v Value, ok bool) any {
		if !ok {
			return nil
		}
		return v.String()
	}
	require.Equal(t, `{"b": [10, "x", null]}`, jsonOf(doc.Field("a")))
	require.Equal(t, nil, jsonOf(doc.Field("zz")))
	require.Equal(t, "null", jsonOf(doc.Field("n")), "-> keeps a JSON null")
	require.Equal(t, nil, text(doc.Field("n")), "->> turns JSON null into SQL NULL")
	require.Equal(t, "true", text(doc.Field("t")))
	require.Equal(t, "1.50", text(doc.Field("f")))
	require.Equal(t, `[1, {"b": "c"}]`, text(doc.Field("arr")))
	require.Equal(t, `"x"`, jsonOf(doc.Path([]string{"a", "b", "1"})))
	require.Equal(t, "x", text(doc.Path([]string{"a", "b", "1"})))
	require.Equal(t, nil, text(doc.Path([]string{"a", "b", "-1"})))
	require.Equal(t, "10", jsonOf(doc.Path([]string{"a", "b", "-3"})))
	require.Equal(t, nil, jsonOf(doc.Path([]string{"a", "b", "-4"})))
	require.Equal(t, nil, jsonOf(doc.Path([]string{"a", "b", "1x"})))
	require.Equal(t, "10", jsonOf(doc.Path([]string{"a", "b", " 0"})))
	require.Equal(t, doc.String(), jsonOf(doc.Path(nil)))

	arr := MustParse(`[1,2,3]`)
	require.Equal(t, "3", jsonOf(arr.Index(-1, true)))
	require.Equal(t, nil, jsonOf(arr.Index(-4, true)))
	require.Equal(t, nil, jsonOf(arr.Index(3, true)))
	require.Equal(t, nil, jsonOf(arr.Field("a")))
	require.Equal(t, "1", jsonOf(MustParse("1").Index(0, true)), "a top-level scalar is a one-element array")
	require.Equal(t, `"a"`, jsonOf(MustParse(`"a"`).Index(-1, true)))
	require.Equal(t, nil, jsonOf(MustParse(`{"a":1}`).Index(0, true)))
	require.Equal(t, "s", text(MustParse(`"s"`).Path(nil)))

	n, err := MustParse(`[1,[2,3]]`).ArrayLength()
	require.NoError(t, err)
	require.Equal(t, int64(2), n)
	_, err = MustParse(`1`).ArrayLength()
	require.Equal(t, sqlerr.InvalidParameterValue, sqlerr.CodeOf(err))
	_, err = MustParse(`{}`).ArrayLength()
	require.Equal(t, sqlerr.InvalidParameterValue, sqlerr.CodeOf(err))
	for in, kind := range map[string]string{"1": "number", `"s"`: "string", "null": "null", "{}": "object", "[]": "array", "true": "boolean"} {
		require.Equal(t, kind, MustParse(in).Kind.String())
	}
}

func TestParseTextArray(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		hasNull bool
		bad     bool
	}{
		{"{a,b}", []string{"a", "b"}, false, false},
		{"{}", []string{}, false, false},
		{`{ a , "b c" , "q\"d" }`, []string{"a", "b c", `q"d`}, false, false},
		{"{a,NULL}", []string{"a", "NULL"}, true, false},
		{`{"NULL"}`, []string{"NULL"}, false, false},
		{"{1,-2}", []string{"1", "-2"}, false, false},
		{"a,b", nil, false, true},
		{"{a,,b}", nil, false, true},
		{`{"a}`, nil, false, true},
	}
	for _, tc := range tests {
		got, hasNull, err := ParseTextArray(tc.in)
		if tc.bad {
			require.Equal(t, sqlerr.InvalidTextRepresentation, sqlerr.CodeOf(err), tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
		require.Equal(t, tc.hasNull, hasNull, tc.in)
	}
}
