package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/weirdb/weir/internal/sqlerr"
)

// SQLSTATEs of errors that only the HTTP edge raises, PostgreSQL's codes for them.
const (
	codeInvalidAuthorization sqlerr.Code = "28000" // invalid_authorization_specification: no or wrong token
	codeConfigLimitExceeded  sqlerr.Code = "53400" // configuration_limit_exceeded: over the rate limit
	codeProgramLimitExceeded sqlerr.Code = "54000" // program_limit_exceeded: body over the size limit
)

// problemContentType is RFC 9457's media type, used for every error response.
const problemContentType = "application/problem+json"

// problem is an RFC 9457 problem details object. Its type is the SQLSTATE's entry in
// PostgreSQL's error code table and its title the condition's name; detail is the
// error's message. Extension members carry the rest of a SQLSTATE error (PostgreSQL's
// DETAIL as pg_detail, HINT, the statement position, CONTEXT as where) and, for ingest,
// the rejected rows: row and column name the first, rows lists each, ingested counts
// the rows kept.
type problem struct {
	Type     string     `json:"type"`
	Title    string     `json:"title"`
	Status   int        `json:"status"`
	Detail   string     `json:"detail,omitempty"`
	SQLState string     `json:"sqlstate"`
	PGDetail string     `json:"pg_detail,omitempty"`
	Hint     string     `json:"hint,omitempty"`
	Position int        `json:"position,omitempty"`
	Where    string     `json:"where,omitempty"`
	Row      int        `json:"row,omitempty"`
	Column   string     `json:"column,omitempty"`
	Rows     []rowError `json:"rows,omitempty"`
	Ingested *int       `json:"ingested,omitempty"`
}

// rowError is one rejected ingest row: its 1-based number in the request, the column at
// fault (when one is), and the error.
type rowError struct {
	Row      int    `json:"row"`
	Column   string `json:"column,omitempty"`
	SQLState string `json:"sqlstate"`
	Detail   string `json:"detail"`
}

// statusError is an error whose HTTP status is not the one its SQLSTATE maps to (401,
// 413, 415, 429, …).
type statusError struct {
	status int
	err    *sqlerr.Error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

func withStatus(status int, err *sqlerr.Error) error { return &statusError{status: status, err: err} }

// status maps a SQLSTATE to an HTTP status (STYLE §2.5).
func status(code sqlerr.Code) int {
	switch {
	case code == sqlerr.UndefinedTable:
		return http.StatusNotFound
	case code == sqlerr.QueryCanceled, code == sqlerr.CannotConnectNow, code == sqlerr.AdminShutdown, code == sqlerr.DiskFull,
		code == sqlerr.InsufficientResources:
		return http.StatusServiceUnavailable
	case code == sqlerr.FeatureNotSupported:
		return http.StatusNotImplemented
	case code == codeInvalidAuthorization:
		return http.StatusUnauthorized
	case strings.HasPrefix(string(code), "42"), strings.HasPrefix(string(code), "22"), strings.HasPrefix(string(code), "23"),
		strings.HasPrefix(string(code), "2B"), strings.HasPrefix(string(code), "08"):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// problemOf builds the problem for err: its SQLSTATE fields, and its status from the
// SQLSTATE unless err carries one.
func problemOf(err error) problem {
	e := sqlerr.As(err)
	st := status(e.Code)
	if se := (*statusError)(nil); errors.As(err, &se) {
		st = se.status
	}
	return problem{
		Type: problemType(e.Code), Title: title(e.Code, st), Status: st, Detail: e.Msg, SQLState: string(e.Code),
		PGDetail: e.Detail, Hint: e.Hint, Position: e.Position, Where: e.Where,
	}
}

func writeError(w http.ResponseWriter, err error) { writeProblem(w, problemOf(err)) }

func writeProblem(w http.ResponseWriter, p problem) {
	w.Header().Set("Content-Type", problemContentType)
	w.Header().Del("Content-Length")
	w.WriteHeader(p.Status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(p)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// problemType is the problem type URI of a SQLSTATE: its row in PostgreSQL's table of
// error codes, so that dereferencing it documents the condition.
func problemType(code sqlerr.Code) string {
	return "https://www.postgresql.org/docs/current/errcodes-appendix.html#" + string(code)
}

// title is the condition name of code as PostgreSQL spells it, made readable
// ("undefined_table" → "Undefined table"); the HTTP status text for a code not listed.
func title(code sqlerr.Code, status int) string {
	name, ok := conditionNames[code]
	if !ok {
		return http.StatusText(status)
	}
	name = strings.ReplaceAll(name, "_", " ")
	return strings.ToUpper(name[:1]) + name[1:]
}

// conditionNames are PostgreSQL's condition names (errcodes.txt) of the codes Weir
// raises.
var conditionNames = map[sqlerr.Code]string{
	sqlerr.ConnectionException:         "connection_exception",
	sqlerr.ConnectionFailure:           "connection_failure",
	sqlerr.ProtocolViolation:           "protocol_violation",
	sqlerr.FeatureNotSupported:         "feature_not_supported",
	sqlerr.InvalidParameterValue:       "invalid_parameter_value",
	sqlerr.NumericValueOutOfRange:      "numeric_value_out_of_range",
	sqlerr.InvalidDatetimeFormat:       "invalid_datetime_format",
	sqlerr.DatetimeFieldOverflow:       "datetime_field_overflow",
	sqlerr.DivisionByZero:              "division_by_zero",
	sqlerr.InvalidTextRepresentation:   "invalid_text_representation",
	sqlerr.InvalidBinaryRepresentation: "invalid_binary_representation",
	sqlerr.BadCopyFileFormat:           "bad_copy_file_format",
	sqlerr.CharacterNotInRepertoire:    "character_not_in_repertoire",
	sqlerr.StringDataRightTruncation:   "string_data_right_truncation",
	sqlerr.DataException:               "data_exception",
	sqlerr.InvalidEscapeSequence:       "invalid_escape_sequence",
	sqlerr.NotNullViolation:            "not_null_violation",
	sqlerr.UniqueViolation:             "unique_violation",
	sqlerr.InvalidTransactionState:     "invalid_transaction_state",
	codeInvalidAuthorization:           "invalid_authorization_specification",
	sqlerr.SyntaxError:                 "syntax_error",
	sqlerr.InsufficientPrivilege:       "insufficient_privilege",
	sqlerr.UndefinedColumn:             "undefined_column",
	sqlerr.UndefinedTable:              "undefined_table",
	sqlerr.UndefinedFunction:           "undefined_function",
	sqlerr.UndefinedObject:             "undefined_object",
	sqlerr.DuplicateTable:              "duplicate_table",
	sqlerr.DuplicateColumn:             "duplicate_column",
	sqlerr.DuplicateObject:             "duplicate_object",
	sqlerr.AmbiguousColumn:             "ambiguous_column",
	sqlerr.DatatypeMismatch:            "datatype_mismatch",
	sqlerr.CannotCoerce:                "cannot_coerce",
	sqlerr.GroupingError:               "grouping_error",
	sqlerr.WrongObjectType:             "wrong_object_type",
	sqlerr.InvalidColumnReference:      "invalid_column_reference",
	sqlerr.InvalidTableDefinition:      "invalid_table_definition",
	sqlerr.DependentObjectsStillExist:  "dependent_objects_still_exist",
	sqlerr.InsufficientResources:       "insufficient_resources",
	sqlerr.DiskFull:                    "disk_full",
	sqlerr.OutOfMemory:                 "out_of_memory",
	codeConfigLimitExceeded:            "configuration_limit_exceeded",
	codeProgramLimitExceeded:           "program_limit_exceeded",
	sqlerr.QueryCanceled:               "query_canceled",
	sqlerr.AdminShutdown:               "admin_shutdown",
	sqlerr.CannotConnectNow:            "cannot_connect_now",
	sqlerr.IOError:                     "io_error",
	sqlerr.Internal:                    "internal_error",
	sqlerr.DataCorrupted:               "data_corrupted",
}
