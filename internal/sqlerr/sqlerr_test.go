package sqlerr

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// allCodes lists every Code constant. A new constant must be added here, which puts it
// under TestCodesArePostgreSQLCodes.
var allCodes = []Code{
	SuccessfulCompletion, ConnectionException, ProtocolViolation, FeatureNotSupported,
	InvalidParameterValue, NumericValueOutOfRange, InvalidDatetimeFormat, DatetimeFieldOverflow,
	DivisionByZero, InvalidTextRepresentation, StringDataRightTruncation, DataException,
	InvalidEscapeSequence, NotNullViolation, UniqueViolation, InvalidTransactionState,
	InvalidSQLStatementName, InvalidCursorName, SyntaxError, InsufficientPrivilege,
	UndefinedColumn, UndefinedTable, UndefinedFunction, UndefinedObject, DuplicateTable,
	DuplicateColumn, DuplicateObject, AmbiguousColumn, DatatypeMismatch, CannotCoerce, GroupingError,
	WrongObjectType, InvalidColumnReference, InvalidTableDefinition, DependentObjectsStillExist, InsufficientResources,
	DiskFull, OutOfMemory, QueryCanceled, AdminShutdown, CannotConnectNow, IOError, Internal, DataCorrupted,
}

// postgresCodes is the SQLSTATE column of PostgreSQL's src/backend/utils/errcodes.txt
// (release 15).
var postgresCodes = strings.Fields(`
00000 01000 0100C 01008 01003 01007 01006 01004 01P01 02000 02001 03000
08000 08003 08006 08001 08004 08007 08P01 09000 0A000 0B000 0F000 0F001 0L000 0LP01
0P000 0Z000 0Z002 20000 21000
22000 2202E 22021 22008 22012 22005 2200B 22022 22015 2201E 22014 22016 2201F 2201G
22018 22007 22019 2200D 22025 22P06 22010 22023 22013 2201B 2201W 2201X 2202H 2202G
22009 2200C 2200G 22004 22002 22003 2200H 22026 22001 22011 22027 22024 2200F 22P01
22P02 22P03 22P04 22P05 2200L 2200M 2200N 2200S 2200T 22030 22031 22032 22033 22034
22035 22036 22037 22038 22039 2203A 2203B 2203C 2203D 2203E 2203F
23000 23001 23502 23503 23505 23514 23P01 24000
25000 25001 25002 25008 25003 25004 25005 25006 25007 25P01 25P02 25P03 26000 27000
28000 28P01 2B000 2BP01 2D000 2F000 2F005 2F002 2F003 2F004 34000
38000 38001 38002 38003 38004 39000 39001 39004 39P01 39P02 39P03 3B000 3B001 3D000 3F000
40000 40002 40001 40003 40P01
42000 42601 42501 42846 42803 42P20 42P19 42830 42602 42622 42939 42804 42P18 42P21
42P22 42809 428C9 42703 42883 42P01 42P02 42704 42701 42P03 42P04 42723 42P05 42P06
42P07 42712 42710 42702 42725 42P08 42P09 42P10 42611 42P11 42P12 42P13 42P14 42P15
42P16 42P17 44000
53000 53100 53200 53300 53400 54000 54001 54011 54023 55000 55006 55P02 55P03 55P04
57000 57014 57P01 57P02 57P03 57P04 57P05 58000 58030 58P01 58P02 72000 F0000 F0001
HV000 HV005 HV002 HV010 HV021 HV024 HV007 HV008 HV004 HV006 HV091 HV00B HV00C HV00D
HV090 HV00A HV009 HV014 HV001 HV00P HV00J HV00K HV00Q HV00R HV00L HV00M HV00N
P0000 P0001 P0002 P0003 P0004 XX000 XX001 XX002
`)

func TestCodesArePostgreSQLCodes(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9A-Z]{5}$`)
	known := make(map[string]bool, len(postgresCodes))
	for _, c := range postgresCodes {
		require.Regexp(t, shape, c, "the reference list itself")
		known[c] = true
	}
	seen := map[Code]bool{}
	for _, c := range allCodes {
		t.Run(string(c), func(t *testing.T) {
			require.Regexp(t, shape, string(c))
			require.True(t, known[string(c)], "%s is not in PostgreSQL's errcodes.txt", c)
			require.False(t, seen[c], "%s is declared twice", c)
			seen[c] = true
		})
	}
}

func TestError(t *testing.T) {
	cause := io.ErrUnexpectedEOF
	tests := []struct {
		name string
		err  *Error
		msg  string
		code Code
	}{
		{"New formats", New(UndefinedTable, "relation %q does not exist", "t"), `relation "t" does not exist`, UndefinedTable},
		{"New with a literal percent", New(SyntaxError, "%s", "100% wrong"), "100% wrong", SyntaxError},
		{"message falls back to the cause", &Error{Code: Internal, Err: cause}, cause.Error(), Internal},
		{"message wins over the cause", &Error{Code: Internal, Msg: "m", Err: cause}, "m", Internal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.msg, tc.err.Error())
			require.Equal(t, tc.code, CodeOf(tc.err))
		})
	}
}

func TestCodeOf(t *testing.T) {
	coded := New(DivisionByZero, "division by zero")
	tests := []struct {
		name string
		err  error
		want Code
	}{
		{"nil is success", nil, SuccessfulCompletion},
		{"plain error is internal", errors.New("boom"), Internal},
		{"coded error", coded, DivisionByZero},
		{"wrapped by fmt", fmt.Errorf("context: %w", coded), DivisionByZero},
		{"wrapped twice by fmt", fmt.Errorf("a: %w", fmt.Errorf("b: %w", coded)), DivisionByZero},
		{"outermost *Error wins", Wrap(coded, UndefinedTable, "outer"), UndefinedTable},
		{"joined errors", errors.Join(errors.New("x"), coded), DivisionByZero},
		{"wrapped plain error is internal", fmt.Errorf("ctx: %w", io.EOF), Internal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, CodeOf(tc.err))
		})
	}
}

func TestAs(t *testing.T) {
	coded := New(UndefinedColumn, "column %q does not exist", "x").At(8)
	tests := []struct {
		name     string
		err      error
		code     Code
		msg      string
		position int
		same     bool // the *Error in the chain itself is returned
	}{
		{"coded error is returned as is", coded, UndefinedColumn, `column "x" does not exist`, 8, true},
		{"found through fmt wrapping", fmt.Errorf("ctx: %w", coded), UndefinedColumn, `column "x" does not exist`, 8, true},
		{"plain error becomes internal", io.EOF, Internal, "internal error: EOF", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := As(tc.err)
			require.NotNil(t, e)
			require.Equal(t, tc.code, e.Code)
			require.Equal(t, tc.msg, e.Error())
			require.Equal(t, tc.position, e.Position)
			if tc.same {
				require.Same(t, coded, e)
			} else {
				require.ErrorIs(t, e, tc.err, "the plain cause stays reachable")
			}
		})
	}
}

func TestWrap(t *testing.T) {
	plain := errors.New("disk on fire")
	coded := New(DiskFull, "could not extend file")
	tests := []struct {
		name   string
		err    error
		code   Code
		format string
		args   []any
		want   Code
		msg    string
	}{
		{"plain error with a code", plain, Internal, "open %q", []any{"x.db"}, Internal, `open "x.db": disk on fire`},
		{"empty message keeps the cause's text", plain, DataException, "", nil, DataException, "disk on fire"},
		{"explicit code overrides the cause's", coded, Internal, "checkpoint", nil, Internal, "checkpoint: could not extend file"},
		{"empty code keeps the cause's", coded, "", "checkpoint", nil, DiskFull, "checkpoint: could not extend file"},
		{"empty code on a plain error is internal", plain, "", "x", nil, Internal, "x: disk on fire"},
		{"percent in the cause is not reformatted", errors.New("100%s"), Internal, "", nil, Internal, "100%s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := Wrap(tc.err, tc.code, tc.format, tc.args...)
			require.Equal(t, tc.want, e.Code)
			require.Equal(t, tc.want, CodeOf(e))
			require.Equal(t, tc.msg, e.Error())
			require.ErrorIs(t, e, tc.err)
			require.Same(t, tc.err, errors.Unwrap(e))
		})
	}
}

func TestAtWithDetailWithHint(t *testing.T) {
	t.Run("At sets a missing position on a copy", func(t *testing.T) {
		e := New(SyntaxError, "syntax error")
		p := e.At(5)
		require.Equal(t, 5, p.Position)
		require.Equal(t, 0, e.Position, "the original is unchanged")
		require.NotSame(t, e, p)
		require.Equal(t, e.Code, p.Code)
		require.Equal(t, e.Msg, p.Msg)
	})
	t.Run("At keeps an existing position", func(t *testing.T) {
		e := New(SyntaxError, "syntax error").At(3)
		require.Equal(t, 3, e.At(9).Position)
	})
	t.Run("At zero leaves the position unknown", func(t *testing.T) {
		require.Equal(t, 0, New(SyntaxError, "x").At(0).Position)
	})
	t.Run("At keeps the cause", func(t *testing.T) {
		e := Wrap(io.EOF, DataException, "read").At(2)
		require.ErrorIs(t, e, io.EOF)
	})
	t.Run("WithDetail and WithHint copy", func(t *testing.T) {
		e := New(InvalidTextRepresentation, "bad row")
		d := e.WithDetail("row %d: column %s", 17, "amount").WithHint("use %s", "a number")
		require.Equal(t, "row 17: column amount", d.Detail)
		require.Equal(t, "use a number", d.Hint)
		require.Equal(t, "bad row", d.Error())
		require.Empty(t, e.Detail)
		require.Empty(t, e.Hint)
	})
}
