package pgwire

import (
	"context"
	"io"

	"github.com/weirdb/weir/internal/pgcopy"
)

// Engine executes SQL for wire sessions. The server package adapts *db.DB to it; tests
// may supply their own. It is declared here, where it is used (STYLE §3.9).
type Engine interface {
	// NewSession opens a session for an authenticated startup. params are the
	// StartupMessage parameters (user, database, application_name, client settings…).
	NewSession(ctx context.Context, params map[string]string) (Session, error)
}

// Session is one client's state in the engine: its settings (SET/SHOW) and transaction
// status. A Session is used by one connection goroutine at a time.
type Session interface {
	// Split cuts a simple-Query string into single statements (PostgreSQL's scanner rules:
	// quotes, dollar quotes and comments respected). Empty statements are dropped.
	Split(sql string) ([]string, error)
	// Prepare parses, binds and plans one statement. paramOIDs are the types the client
	// sent in Parse (0 = unspecified, to be inferred). Errors carry a SQLSTATE (*sqlerr.Error).
	Prepare(ctx context.Context, sql string, paramOIDs []uint32) (Statement, error)
	// ParameterStatus returns the values sent as ParameterStatus after startup
	// (server_version, standard_conforming_strings, …), in a stable order.
	ParameterStatus() [][2]string
	// TxStatus reports the transaction status for ReadyForQuery: 'I', 'T' or 'E'.
	TxStatus() byte
	// Close releases the session.
	Close() error
}

// Column describes one result column (RowDescription).
type Column struct {
	Name     string
	OID      uint32 // PostgreSQL type OID
	TypeSize int16  // pg_type.typlen: -1 for variable length
	TypeMod  int32  // -1 when none
}

// Statement is a prepared statement.
type Statement interface {
	// ParamOIDs are the parameter types, client-sent or inferred (ParameterDescription).
	ParamOIDs() []uint32
	// Columns describes the result rows; nil when the statement returns none (NoData).
	Columns() []Column
	// Execute runs the statement with params decoded to Go values by OID (nil for NULL;
	// int16/int32/int64, float32/float64, string, bool, time.Time, []byte, pgtype values).
	Execute(ctx context.Context, params []any) (Rows, error)
}

// Rows is a statement's result. Next fills dst (len(Columns())) with the next row's
// values: nil (NULL), int16/int32/int64, float32/float64, string, bool, time.Time,
// []byte, or any other value the server encodes through pgtype by the column's OID
// (falling back to fmt.Sprint text). Next returns false at the end or on error.
type Rows interface {
	Columns() []Column
	Next(dst []any) bool
	// Err is the error that stopped Next, if any.
	Err() error
	// Tag is the CommandComplete tag, valid after Next returned false: "SELECT 3",
	// "INSERT 0 2", "CREATE MATERIALIZED VIEW", "SET".
	Tag() string
	Close() error
}

// Streamer is implemented by Rows whose rows may be long in coming, such as SUBSCRIBE:
// when Streaming is true the server writes each row to the client as soon as Next
// returns it, instead of batching output.
type Streamer interface {
	Streaming() bool
}

// Copier is implemented by Statements that may be COPY statements (the server package's
// adapter implements it for every statement and answers nil from Copy for the rest).
type Copier interface {
	// Copy describes the COPY the statement is, or returns nil when it is not one.
	Copy() *Copy
	// CopyFrom runs COPY … FROM STDIN: it reads the client's data from r until io.EOF
	// (the client's CopyDone) and returns the number of rows stored. r fails with the
	// client's CopyFail as a 57014 error, and CopyFrom returns such errors as they came.
	CopyFrom(ctx context.Context, r io.Reader) (int64, error)
}

// Copy describes a COPY statement.
type Copy struct {
	// From is true for COPY … FROM STDIN: the server answers CopyInResponse and hands
	// the client's CopyData to CopyFrom. Otherwise the statement is COPY … TO STDOUT:
	// Execute returns its rows, which the server sends as CopyData in Options' format.
	From bool
	// Columns is the number of columns in the data, for CopyInResponse.
	Columns int
	Options pgcopy.Options
}
