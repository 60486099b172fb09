package expr

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

func mustValue(t *testing.T, s string, typ catalog.Type) delta.Value {
	t.Helper()
	v, err := Parse(s, typ)
	require.NoError(t, err, s)
	return v
}

// Results checked on PostgreSQL 15.
func TestTimeArith(t *testing.T) {
	ts := func(s string) delta.Value { return mustValue(t, s, catalog.Timestamp) }
	iv := func(s string) delta.Value { return mustValue(t, s, catalog.Interval) }
	date := func(s string) delta.Value { return mustValue(t, s, catalog.Date) }
	tests := []struct {
		name string
		op   TimeOp
		l, r delta.Value
		t    catalog.Type
		want string
		code sqlerr.Code
	}{
		{"month end clamps", TsPlusInterval, ts("2024-01-31 10:00"), iv("1 month"), catalog.Timestamp, "2024-02-29 10:00:00", ""},
		{"minus a month", TsMinusInterval, ts("2024-03-31"), iv("1 mon"), catalog.Timestamp, "2024-02-29 00:00:00", ""},
		{"months then days", TsPlusInterval, ts("2023-01-31"), iv("1 mon 1 day"), catalog.Timestamp, "2023-03-01 00:00:00", ""},
		{"out of range", TsPlusInterval, ts("2024-01-01"), iv("300000 years"), catalog.Timestamp, "", sqlerr.DatetimeFieldOverflow},
		{"ts - ts", TsMinusTs, ts("2024-01-03 10:00"), ts("2024-01-01 12:30"), catalog.Interval, "1 day 21:30:00", ""},
		{"ts - ts negative", TsMinusTs, ts("2024-01-01 10:00"), ts("2024-01-02 12:30"), catalog.Interval, "-1 days -02:30:00", ""},
		{"date + int", DatePlusInt, date("2024-02-28"), delta.Int(2), catalog.Date, "2024-03-01", ""},
		{"date - int", DateMinusInt, date("2024-03-01"), delta.Int(5), catalog.Date, "2024-02-25", ""},
		{"date - date", DateMinusDate, date("2024-03-01"), date("2024-01-01"), catalog.Int4, "60", ""},
		{"date out of range", DatePlusInt, date("2024-01-01"), delta.Int(2147483000), catalog.Date, "", sqlerr.DatetimeFieldOverflow},
		{"interval + interval", IntervalPlus, iv("1 day"), iv("1 hour"), catalog.Interval, "1 day 01:00:00", ""},
		{"interval - interval", IntervalMinus, iv("1 mon"), iv("1 day"), catalog.Interval, "1 mon -1 days", ""},
		{"interval overflow", IntervalPlus, iv("2147483647 days"), iv("1 day"), catalog.Interval, "", sqlerr.DatetimeFieldOverflow},
		{"interval * float", IntervalMul, iv("1 mon"), delta.Float(0.5), catalog.Interval, "15 days", ""},
		{"interval / float", IntervalDiv, iv("1 mon"), delta.Float(7), catalog.Interval, "4 days 06:51:25.6896", ""},
		{"interval / 0", IntervalDiv, iv("1 hour"), delta.Float(0), catalog.Interval, "", sqlerr.DivisionByZero},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &DateArith{Op: tc.op, L: NewConst(tc.l, catalog.Unknown), R: NewConst(tc.r, catalog.Unknown), T: tc.t}
			v, err := e.Eval(nil)
			if tc.code != "" {
				require.Equal(t, tc.code, sqlerr.CodeOf(err), "%v", err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, Format(v, tc.t))
		})
	}
	null := &DateArith{Op: TsPlusInterval, L: NullOf(catalog.Timestamp), R: NewConst(iv("1 day"), catalog.Interval), T: catalog.Timestamp}
	v, err := null.Eval(nil)
	require.NoError(t, err)
	require.True(t, v.Null)

	neg, err := (&Neg{E: NewConst(iv("1 day -02:00"), catalog.Interval)}).Eval(nil)
	require.NoError(t, err)
	require.Equal(t, "-1 days +02:00:00", Format(neg, catalog.Interval))
}

func TestJsonb(t *testing.T) {
	doc := NewConst(mustValue(t, `{"a": {"b": [1, "x", null]}, "n": 1.50, "s": "t"}`, catalog.Jsonb), catalog.Jsonb)
	text := func(s string) Expr { return NewConst(delta.Str(s), catalog.Text) }
	get := func(e Expr) string {
		v, err := e.Eval(nil)
		require.NoError(t, err)
		if v.Null {
			return "NULL"
		}
		return v.S
	}
	require.Equal(t, `{"b": [1, "x", null]}`, get(&JsonGet{E: doc, Arg: text("a")}))
	require.Equal(t, "t", get(&JsonGet{E: doc, Arg: text("s"), AsText: true}))
	require.Equal(t, `"t"`, get(&JsonGet{E: doc, Arg: text("s")}))
	require.Equal(t, "NULL", get(&JsonGet{E: doc, Arg: text("zz")}))
	require.Equal(t, `"x"`, get(&JsonGet{E: doc, Path: []string{"a", "b", "-2"}, IsPath: true}))
	require.Equal(t, "NULL", get(&JsonGet{E: doc, Path: []string{"a", "b", "2"}, IsPath: true, AsText: true}))
	require.Equal(t, "NULL", get(&JsonGet{E: doc, Path: []string{"a"}, IsPath: true, PathNull: true}))
	arr := NewConst(mustValue(t, `[10, 20]`, catalog.Jsonb), catalog.Jsonb)
	require.Equal(t, "20", get(&JsonGet{E: arr, Arg: NewConst(delta.Int(-1), catalog.Int4), AsText: true}))
	require.Equal(t, `(x -> a)`, (&JsonGet{E: &Col{Name: "x", T: catalog.Jsonb}, Arg: text("a")}).String())
	require.Equal(t, `(x #>> '{a,0}')`, (&JsonGet{E: &Col{Name: "x", T: catalog.Jsonb}, Path: []string{"a", "0"}, IsPath: true, AsText: true}).String())

	n, err := Convert(mustValue(t, `1.50`, catalog.Jsonb), catalog.Jsonb, catalog.Numeric)
	require.NoError(t, err)
	require.Equal(t, "1.50", n.S)
	i, err := Convert(mustValue(t, `2.5`, catalog.Jsonb), catalog.Jsonb, catalog.Int4)
	require.NoError(t, err)
	require.Equal(t, int64(3), i.I, "numeric to integer rounds half away from zero")
	_, err = Convert(mustValue(t, `"1"`, catalog.Jsonb), catalog.Jsonb, catalog.Numeric)
	require.Equal(t, sqlerr.InvalidParameterValue, sqlerr.CodeOf(err), "cannot cast jsonb string to type numeric")
	s, err := Convert(mustValue(t, ` {"b":1, "a" : [ ]} `, catalog.Jsonb), catalog.Jsonb, catalog.Text)
	require.NoError(t, err)
	require.Equal(t, `{"a": [], "b": 1}`, s.S)
	_, err = Parse(`{"a":`, catalog.Jsonb)
	require.Equal(t, sqlerr.InvalidTextRepresentation, sqlerr.CodeOf(err))

	for name, want := range map[string]string{"jsonb_typeof": "object", "jsonb_array_length": "2"} {
		arg := doc
		if name == "jsonb_array_length" {
			arg = arr
		}
		f, err := NewFunc(name, []Expr{arg}, nil)
		require.NoError(t, err)
		v, err := f.Eval(nil)
		require.NoError(t, err)
		require.Equal(t, want, Format(v, f.Type()))
	}
}
