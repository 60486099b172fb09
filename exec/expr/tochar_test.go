package expr

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// TestToCharRefusals: what Weir does not print is refused when the template is known, and
// at evaluation when it is not; TestDateTimeAgainstPostgres checks what it prints.
func TestToCharRefusals(t *testing.T) {
	ts := NewConst(delta.Int(0), catalog.Timestamp)
	iv := NewConst(delta.Interval(0, 1, 0), catalog.Interval)
	text := func(s string) Expr { return NewConst(delta.Str(s), catalog.Text) }
	bind := func(args ...Expr) error {
		_, err := NewFunc("to_char", args, nil)
		return err
	}
	require.Equal(t, sqlerr.FeatureNotSupported, sqlerr.CodeOf(bind(ts, text("DDSP"))), "the SP suffix")
	require.Equal(t, sqlerr.InvalidDatetimeFormat, sqlerr.CodeOf(bind(iv, text("Day"))), "a weekday of an interval")
	require.Equal(t, sqlerr.FeatureNotSupported, sqlerr.CodeOf(bind(iv, text("IYYY"))))
	require.NoError(t, bind(iv, text("HH24:MI")))

	col := &Col{Idx: 0, T: catalog.Text}
	f, err := NewFunc("to_char", []Expr{ts, col}, nil)
	require.NoError(t, err, "a template that is not constant is checked per row")
	_, err = f.Eval([]delta.Value{delta.Str("YYYY MMSP")})
	require.Equal(t, sqlerr.FeatureNotSupported, sqlerr.CodeOf(err))
	v, err := f.Eval([]delta.Value{delta.Str("")})
	require.NoError(t, err)
	require.True(t, v.Null, "an empty template gives NULL")
	v, err = f.Eval([]delta.Value{delta.Str(`"Y"YYYY\"`)})
	require.NoError(t, err)
	require.Equal(t, `Y1970"`, v.S)
}
