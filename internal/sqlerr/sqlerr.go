// Package sqlerr defines SQLSTATE-coded errors, the one error currency of Weir from the
// first return to the wire. Errors are created where the cause is known (binder, ingest,
// operators) and mapped once per edge: server/pgwire flattens them to ErrorResponse fields,
// server/httpapi to an HTTP status and JSON body.
package sqlerr

import (
	"errors"
	"fmt"
)

// Code is a five-character SQLSTATE code as PostgreSQL defines them (errcodes.txt).
type Code string

// The codes Weir emits. Each is a PostgreSQL SQLSTATE; sqlerr_test.go checks the shape.
const (
	SuccessfulCompletion        Code = "00000"
	ConnectionException         Code = "08000"
	ConnectionFailure           Code = "08006"
	ProtocolViolation           Code = "08P01"
	FeatureNotSupported         Code = "0A000"
	InvalidParameterValue       Code = "22023"
	NumericValueOutOfRange      Code = "22003"
	InvalidDatetimeFormat       Code = "22007"
	DatetimeFieldOverflow       Code = "22008"
	DivisionByZero              Code = "22012"
	InvalidPrecedingOrFollowing Code = "22013" // a negative window frame offset
	InvalidTextRepresentation   Code = "22P02"
	InvalidBinaryRepresentation Code = "22P03"
	BadCopyFileFormat           Code = "22P04"
	CharacterNotInRepertoire    Code = "22021"
	StringDataRightTruncation   Code = "22001"
	DataException               Code = "22000"
	InvalidEscapeSequence       Code = "22025"
	NotNullViolation            Code = "23502"
	UniqueViolation             Code = "23505"
	InvalidTransactionState     Code = "25000"
	InvalidSQLStatementName     Code = "26000"
	InvalidCursorName           Code = "34000"
	SyntaxError                 Code = "42601"
	InsufficientPrivilege       Code = "42501"
	UndefinedColumn             Code = "42703"
	UndefinedTable              Code = "42P01"
	UndefinedFunction           Code = "42883"
	UndefinedObject             Code = "42704"
	DuplicateTable              Code = "42P07"
	DuplicateColumn             Code = "42701"
	DuplicateObject             Code = "42710"
	AmbiguousColumn             Code = "42702"
	DatatypeMismatch            Code = "42804"
	CannotCoerce                Code = "42846"
	GroupingError               Code = "42803"
	WrongObjectType             Code = "42809"
	InvalidColumnReference      Code = "42P10"
	InvalidTableDefinition      Code = "42P16"
	DependentObjectsStillExist  Code = "2BP01"
	InsufficientResources       Code = "53000"
	DiskFull                    Code = "53100"
	OutOfMemory                 Code = "53200"
	QueryCanceled               Code = "57014"
	AdminShutdown               Code = "57P01"
	CannotConnectNow            Code = "57P03"
	IOError                     Code = "58030"
	Internal                    Code = "XX000"
	DataCorrupted               Code = "XX001"
)

// Error is an error with a SQLSTATE code. Position is the 1-based character offset of the
// problem in the statement text, 0 when unknown (ErrorResponse field P). Where is the
// context PostgreSQL reports as CONTEXT (ErrorResponse field W), such as the line of a
// COPY: `COPY events, line 3, column ts: "garbage"`.
type Error struct {
	Code     Code
	Msg      string
	Detail   string
	Hint     string
	Where    string
	Position int
	Err      error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Msg == "" {
		return e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the wrapped cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// New returns an Error with code and a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error with code whose message is the formatted text followed by err's.
// An err that already carries a code keeps it only if code is empty.
func Wrap(err error, code Code, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if msg != "" {
		msg += ": " + err.Error()
	} else {
		msg = err.Error()
	}
	if code == "" {
		code = CodeOf(err)
	}
	return &Error{Code: code, Msg: msg, Err: err}
}

// At returns a copy of e with Position set to pos (1-based), unless e already has one.
func (e *Error) At(pos int) *Error {
	c := *e
	if c.Position == 0 {
		c.Position = pos
	}
	return &c
}

// WithDetail returns a copy of e with Detail set.
func (e *Error) WithDetail(format string, args ...any) *Error {
	c := *e
	c.Detail = fmt.Sprintf(format, args...)
	return &c
}

// WithWhere returns a copy of e with Where set.
func (e *Error) WithWhere(format string, args ...any) *Error {
	c := *e
	c.Where = fmt.Sprintf(format, args...)
	return &c
}

// WithHint returns a copy of e with Hint set.
func (e *Error) WithHint(format string, args ...any) *Error {
	c := *e
	c.Hint = fmt.Sprintf(format, args...)
	return &c
}

// CodeOf returns the SQLSTATE of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	if err == nil {
		return SuccessfulCompletion
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns err as an *Error, converting a plain error to Internal ("internal error: …").
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: Internal, Msg: "internal error: " + err.Error(), Err: err}
}
