// Package pgwire serves Weir over the PostgreSQL frontend/backend protocol (version 3.0,
// and 3.2's longer cancel keys), hand-written on pgproto3's message codec. It is the only
// place where Weir's errors become ErrorResponse messages and its values become wire
// bytes; what runs the SQL is behind the Engine, Session, Statement and Rows interfaces
// of engine.go.
//
// # Ownership
//
// A Server owns its listeners and one goroutine per connection. Serve runs the accept
// loop on the caller's goroutine; Shutdown closes the listeners, cancels every
// connection's context (and so every running statement), closes every socket and waits
// for the goroutines. A connection's goroutine recovers any panic at its top frame: the
// stack is logged, the client gets XX000 "internal error: …" and only that connection
// ends. All connection state (session, statements, portals, output buffer) is owned by
// that goroutine; the only thing another goroutine touches is the cancel function of
// the statement in progress, behind a mutex, for CancelRequest.
//
// # States
//
//	          SSLRequest → 'S' + TLS handshake (with Config.TLS) or 'N'; GSSEncRequest → 'N'
//	               ┌──────┐
//	               ▼      │
//	accept ──► [startup] ─┘── CancelRequest ──► cancel (pid, key)'s statement; close
//	               │
//	               │ StartupMessage 3.x: authenticate (trust on loopback, or SCRAM-SHA-256:
//	               │ SASL, SASLContinue, SASLFinal; auth.go); NewSession; AuthenticationOk,
//	               │ ParameterStatus*, BackendKeyData, ReadyForQuery
//	               ▼
//	           [ready] ◄──────────── Sync: ReadyForQuery ────────────┐
//	               │                                                 │
//	    Query ─────┤ Parse/Bind/Describe/Execute/Close ──► error ──► [skip till Sync]
//	               │                                      (all messages but Sync
//	               ▼                                       and Terminate dropped)
//	       Terminate, EOF, or a malformed message (08P01 FATAL) ──► close
//
// There is no authentication yet and TLS is declined; both are for later.
//
// # Simple Query
//
// Query runs Session.Split, then for each statement Prepare(sql, nil) and Execute(nil):
//
//	Q "SELECT 1; SELECT 2"  →  T D C   T D C   Z
//	Q ""                    →  I Z                         (EmptyQueryResponse)
//	Q "SELECT 1; bad; …"    →  T D C   E Z                 (later statements skipped)
//
// Rows are described in text format. An error position is shifted to count from the
// start of the whole query string, as PostgreSQL reports it.
//
// # Extended Query
//
// Parse prepares a statement with the client's parameter OIDs (0 = infer); Bind decodes
// each parameter by the statement's OID and its format code (decode.go) and fixes the
// result formats; Execute opens the portal's Rows on the first call and sends at most
// MaxRows rows:
//
//	pgx:    P(stmtcache_…) D(S) S  →  1 t T Z       then  B E S  →  2 D… C Z
//	JDBC:   P B D(P) E(max=n) S   →  1 2 T D… s Z   then  E(max=n) S → D… C Z
//	pipe:   P B E  P B E  S       →  1 2 D C  1 2 D C  Z
//	error:  P B E  P B E  S       →  1 E  (the rest skipped)  Z
//
// A parameter type that neither the engine nor the client fixed is reported, and
// decoded, as text, as PostgreSQL resolves unknown parameters. The unnamed statement and
// portal are replaced by the next Parse and Bind (and dropped by a simple Query); closing
// a statement closes its portals. A suspended portal keeps its Rows iterator and
// statement context; the next Execute resumes it, and the SELECT tag then counts that
// Execute's rows only, as PostgreSQL's does. At every ReadyForQuery (after Sync or a
// simple Query), if the session is idle (TxStatus 'I'), every portal is closed, as at the
// end of a PostgreSQL transaction; inside a transaction block they survive, which JDBC's
// setFetchSize needs.
//
// # COPY
//
// A Statement that implements Copier and describes itself as a COPY (Copy() != nil) is
// run by copy.go, in either protocol; Describe answers NoData, as for PostgreSQL's
// utility statements. COPY … FROM STDIN answers CopyInResponse (format 0, or 1 for
// binary, per column too) and hands the payloads of the client's CopyData to
// Copier.CopyFrom as one byte stream, which the engine parses (internal/pgcopy):
//
//	psql, lib/pq, pgx:  Q "COPY t FROM STDIN"  →  G   d… c  →  C("COPY n") Z
//	libpq extended:     P B D E S              →  1 2 n G   d… c S  →  C Z
//	CopyFail:           G   d… f("msg")        →  E(57014 "COPY from stdin failed: msg") Z
//	bad row:            G   d…                 →  E(22P02, Where "COPY t, line 3, column a: …") Z
//
// As in PostgreSQL, Flush and Sync are ignored during copy-in (libpq sends a Sync right
// after Execute, and another after CopyDone), CopyData, CopyDone and CopyFail that arrive
// after a COPY has failed are dropped by the message loop, and any other message ends
// the copy with 08P01 and the connection with a FATAL "protocol synchronization was
// lost". COPY … TO STDOUT executes to Rows and sends CopyOutResponse, one CopyData per row
// in text or CSV (each value encoded as text, then escaped or quoted), CopyDone and
// "COPY n"; the Execute row limit does not apply.
//
// # Session parameters
//
// After startup the client holds every Session.ParameterStatus value. When a statement
// other than a SELECT completes (SET, RESET, …), the list is compared again just before
// ReadyForQuery and each changed value is re-sent, as PostgreSQL reports its GUC_REPORT
// settings; drivers rely on this for client_encoding, TimeZone and the like.
//
// # Message size
//
// pgproto3 allocates a message's declared body before reading it, so messages reach it
// through frameReader (frame.go), which reads each one whole, growing its buffer only as
// bytes arrive: memory follows what a client sent, not what it claimed. Query, Parse,
// Bind, FunctionCall and CopyData may be up to 256 MiB, password and SASL messages
// 64 KiB, every other message 10000 bytes (PostgreSQL's small-message limit); a larger
// declared length, or a client silent for Config.StallTimeout (30 s) in the middle of a
// message, ends the connection with FATAL 08P01.
//
// # Output batching
//
// Messages are encoded into one buffer per connection and written when it passes 32 KiB
// and at ReadyForQuery, Flush and PortalSuspended, never once per DataRow (one write per
// row was measured 20x slower). Clients that pipeline with Flush instead of Sync
// (postgres.js) get their answers at the Flush.
//
// # Values
//
// Results are encoded by column OID and format code. Text output matches PostgreSQL 15
// byte for byte for the types Weir emits (bool t/f, shortest round-trip floats with
// PostgreSQL's exponent thresholds, timestamptz in UTC as 2026-01-01 12:00:00.5+00,
// intervals in IntervalStyle postgres); binary output follows each type's send
// function, through pgtype where it has one. A value whose Go type does not match its
// column is converted (an int64 in a numeric column, a string in an int4 column); a Go
// type the encoder does not know goes out as fmt.Sprint text, or fails with an
// ErrorResponse in binary. Nothing here panics on a value.
//
// # Errors and cancellation
//
// Every error reaches the client through conn.errorResponse, which flattens a
// *sqlerr.Error into ErrorResponse fields (severity, SQLSTATE, message, detail, hint,
// position); an error without a code is XX000. Each statement runs with a context
// derived from its connection's. A CancelRequest carrying the connection's BackendKeyData
// cancels it; an engine that returns the bare context error gets 57014 "canceling
// statement due to user request" on the wire, and 57P01 if the server is shutting down.
// The connection stays usable after a cancel.
package pgwire
