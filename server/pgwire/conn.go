package pgwire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/weirdb/weir/internal/sqlerr"
)

const (
	// flushThreshold is the buffered output size at which rows are written out. One write
	// per DataRow costs ~20x in throughput (research/pgwire.md §4.1).
	flushThreshold = 32 << 10
	// maxMessageBody bounds one frontend message, against memory exhaustion.
	maxMessageBody = 256 << 20
)

// conn is one client connection. All fields except those under mu are owned by the
// connection's goroutine (serve).
type conn struct {
	srv    *Server
	nc     net.Conn
	rd     *recordingReader
	fr     *frameReader // pgproto3 reads through it (frame.go)
	be     *pgproto3.Backend
	out    writer
	codec  *codec
	logger *slog.Logger

	// ctx lives as long as the connection; every statement's context derives from it.
	ctx    context.Context
	cancel context.CancelFunc

	pid    uint32 // BackendKeyData; set by Server.register before the key is published
	secret []byte

	sess Session
	// reported holds the ParameterStatus values the client has; paramsDirty is set when a
	// statement that may change them (anything but SELECT) completed.
	reported    map[string]string
	paramsDirty bool

	stmts   map[string]*statement
	portals map[string]*portal
	// skipTillSync is set by an error in extended-protocol mode: every message up to the
	// next Sync is discarded.
	skipTillSync bool
	// closing is set when the connection must end after the current message (a COPY
	// whose input stream broke).
	closing bool

	mu      sync.Mutex
	running context.CancelFunc // cancels the statement in progress; nil when idle
}

func newConn(s *Server, nc net.Conn) *conn {
	ctx, cancel := context.WithCancel(s.ctx)
	rd := &recordingReader{r: nc}
	stall := s.cfg.StallTimeout
	if stall <= 0 {
		stall = defaultStallTimeout
	}
	fr := &frameReader{r: rd, deadline: nc.SetReadDeadline, stall: stall}
	be := pgproto3.NewBackend(fr, nc)
	be.SetMaxBodyLen(maxMessageBody)
	return &conn{
		srv:      s,
		nc:       nc,
		rd:       rd,
		fr:       fr,
		be:       be,
		out:      writer{w: nc, buf: make([]byte, 0, 8<<10)},
		codec:    newCodec(),
		logger:   s.logger.With("remote", nc.RemoteAddr().String()),
		ctx:      ctx,
		cancel:   cancel,
		reported: make(map[string]string),
		stmts:    make(map[string]*statement),
		portals:  make(map[string]*portal),
	}
}

// serve runs the connection to its end: startup, then the message loop. A panic anywhere
// below is logged with its stack, reported to the client as XX000 if the socket still
// works, and ends only this connection.
func (c *conn) serve() {
	defer c.release()
	defer func() {
		if r := recover(); r != nil {
			c.logger.Error("panic serving connection", "panic", r, "stack", string(debug.Stack()))
			c.sendFatal(sqlerr.New(sqlerr.Internal, "internal error: %v", r))
		}
	}()
	if !c.startup() {
		return
	}
	c.loop()
}

// release frees everything the connection holds. It runs once, on the connection's
// goroutine, after serve.
func (c *conn) release() {
	c.cancel()
	c.safely("closing portals", func() {
		for name := range c.portals {
			c.dropPortal(name)
		}
	})
	if c.sess != nil {
		c.safely("closing session", func() {
			if err := c.sess.Close(); err != nil {
				c.logger.Warn("closing session", "err", err)
			}
		})
	}
	_ = c.nc.Close()
	c.logger.Debug("connection closed")
}

// safely runs f and logs, rather than propagates, a panic: release must finish.
func (c *conn) safely(what string, f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.logger.Error("panic "+what, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	f()
}

// loop reads and dispatches frontend messages until Terminate, EOF or a fatal error.
func (c *conn) loop() {
	for {
		msg, err := c.be.Receive()
		if err != nil {
			c.receiveFailed(err)
			return
		}
		if c.skipTillSync {
			switch msg.(type) {
			case *pgproto3.Sync, *pgproto3.Terminate:
			default:
				continue
			}
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			c.simpleQuery(m.String)
		case *pgproto3.Parse:
			c.extended(c.parse(m))
		case *pgproto3.Bind:
			c.extended(c.bind(m))
		case *pgproto3.Describe:
			c.extended(c.describe(m))
		case *pgproto3.Execute:
			c.extended(c.execute(m))
		case *pgproto3.Close:
			c.extended(c.closeObject(m))
		case *pgproto3.Sync:
			c.sync()
		case *pgproto3.Flush:
			c.flush()
		case *pgproto3.Terminate:
			return
		case *pgproto3.CopyData, *pgproto3.CopyDone, *pgproto3.CopyFail:
			// Outside COPY these are ignored, as PostgreSQL does: the client may still be
			// streaming data for a COPY that already failed.
		case *pgproto3.FunctionCall:
			c.sendError(sqlerr.New(sqlerr.FeatureNotSupported, "the function call protocol is not supported"))
			c.readyForQuery()
		default:
			c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "unexpected frontend message %T", msg))
			return
		}
		if c.out.err != nil {
			c.logger.Debug("write failed", "err", c.out.err)
			return
		}
		if c.closing {
			return
		}
	}
}

// receiveFailed ends the connection after Receive failed. A socket error or EOF is the
// client leaving; anything else is a malformed message, answered with 08P01.
func (c *conn) receiveFailed(err error) {
	if errors.Is(err, errMessageStalled) || errors.Is(err, errMessageTooLarge) {
		c.logger.Info("protocol violation", "err", err)
		c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "%v", err))
		return
	}
	if c.rd.err != nil {
		if !errors.Is(c.rd.err, io.EOF) && !errors.Is(c.rd.err, net.ErrClosed) {
			c.logger.Debug("read failed", "err", c.rd.err)
		}
		return
	}
	c.logger.Info("protocol violation", "err", err)
	c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "invalid frontend message: %v", err))
}

// setRunning records cancel as the way to stop the statement now running (nil: none).
func (c *conn) setRunning(cancel context.CancelFunc) {
	c.mu.Lock()
	c.running = cancel
	c.mu.Unlock()
}

// cancelRunning cancels the statement in progress, if any. It is called from another
// connection's goroutine (CancelRequest).
func (c *conn) cancelRunning() {
	c.mu.Lock()
	cancel := c.running
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// readyForQuery ends a query cycle. Outside a transaction block (status 'I') every
// portal is closed, as at the end of a PostgreSQL transaction; inside one they stay open
// for later Executes (JDBC setFetchSize). Then come ParameterStatus for any session
// parameter that changed (SET application_name …, as PostgreSQL reports its GUC_REPORT
// settings), ReadyForQuery with the transaction status, and a flush.
func (c *conn) readyForQuery() {
	if c.closing {
		return
	}
	status := c.sess.TxStatus()
	if status == 'I' {
		for name := range c.portals {
			c.dropPortal(name)
		}
	}
	if c.paramsDirty {
		c.paramsDirty = false
		for _, kv := range c.sess.ParameterStatus() {
			if v, ok := c.reported[kv[0]]; !ok || v != kv[1] {
				c.reported[kv[0]] = kv[1]
				c.out.send(&pgproto3.ParameterStatus{Name: kv[0], Value: kv[1]})
			}
		}
	}
	c.out.send(&pgproto3.ReadyForQuery{TxStatus: status})
	c.out.flush()
}

// sendError sends err as an ErrorResponse of severity ERROR, unless the connection is
// closing.
func (c *conn) sendError(err error) {
	if c.closing {
		return
	}
	c.out.send(c.errorResponse(err, "ERROR"))
}

// sendFatal sends err as a FATAL ErrorResponse and flushes; the caller then closes the
// connection.
func (c *conn) sendFatal(err error) {
	c.out.send(c.errorResponse(err, "FATAL"))
	c.out.flush()
}

// errorResponse flattens err to an ErrorResponse. It is the one place where errors become
// wire messages. An error without a SQLSTATE is XX000, except context cancellation: a
// statement cancelled by CancelRequest is 57014, one stopped by Shutdown 57P01.
func (c *conn) errorResponse(err error, severity string) *pgproto3.ErrorResponse {
	var coded *sqlerr.Error
	if !errors.As(err, &coded) {
		switch {
		case errors.Is(err, context.Canceled) && c.ctx.Err() != nil:
			err = sqlerr.New(sqlerr.AdminShutdown, "terminating connection due to administrator command")
		case errors.Is(err, context.Canceled):
			err = sqlerr.New(sqlerr.QueryCanceled, "canceling statement due to user request")
		case errors.Is(err, context.DeadlineExceeded):
			err = sqlerr.New(sqlerr.QueryCanceled, "canceling statement due to statement timeout")
		}
	}
	e := sqlerr.As(err)
	if e.Code == sqlerr.Internal {
		c.logger.Error("internal error", "err", err)
	}
	return &pgproto3.ErrorResponse{
		Severity:            severity,
		SeverityUnlocalized: severity,
		Code:                string(e.Code),
		Message:             e.Error(),
		Detail:              e.Detail,
		Hint:                e.Hint,
		Where:               e.Where,
		Position:            int32(e.Position),
	}
}

// recordingReader remembers the first error of the underlying reader, which tells a
// dead socket (recorded) from a malformed message (pgproto3's decode error, not recorded).
type recordingReader struct {
	r   io.Reader
	err error
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// writer buffers backend messages and writes them in batches: when the buffer passes
// flushThreshold and at flush points (ReadyForQuery, Flush, PortalSuspended). The first
// write error is kept in err and makes every later call a no-op.
type writer struct {
	w   io.Writer
	buf []byte
	err error
}

func (w *writer) send(msg pgproto3.BackendMessage) {
	if w.err != nil {
		return
	}
	buf, err := msg.Encode(w.buf)
	if err != nil {
		// Only a message over 1 GiB fails to encode; the stream cannot go on.
		w.err = fmt.Errorf("encoding %T: %w", msg, err)
		return
	}
	w.buf = buf
	w.maybeFlush()
}

func (w *writer) maybeFlush() {
	if len(w.buf) >= flushThreshold {
		w.flush()
	}
}

func (w *writer) flush() {
	if w.err != nil || len(w.buf) == 0 {
		return
	}
	_, w.err = w.w.Write(w.buf)
	if cap(w.buf) > 1<<20 {
		w.buf = make([]byte, 0, 8<<10) // let one huge result's buffer go
	} else {
		w.buf = w.buf[:0]
	}
}

// rowDescription describes cols, each in its result format from formats (see formatAt).
func rowDescription(cols []Column, formats []int16) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, col := range cols {
		size := col.TypeSize
		if size == 0 {
			size = typeSize(col.OID)
		}
		fields[i] = pgproto3.FieldDescription{
			Name:         []byte(col.Name),
			DataTypeOID:  col.OID,
			DataTypeSize: size,
			TypeModifier: col.TypeMod,
			Format:       formatAt(formats, i),
		}
	}
	return &pgproto3.RowDescription{Fields: fields}
}

// sendRows sends up to limit rows (0: all) of rows as DataRows, encoding column i in
// format formatAt(formats, i). It returns the number sent and suspended=true when it
// stopped at the limit with rows possibly left. It stops early when ctx is cancelled, the
// engine fails, a value cannot be encoded, or the client is gone.
func (c *conn) sendRows(ctx context.Context, rows Rows, cols []Column, formats []int16, limit int) (n int, suspended bool, err error) {
	dst := make([]any, len(cols))
	encs := columnEncoders(cols, formats)
	streaming := false
	if s, ok := rows.(Streamer); ok {
		streaming = s.Streaming()
	}
	for limit <= 0 || n < limit {
		if err := ctx.Err(); err != nil {
			return n, false, err
		}
		clear(dst)
		if !rows.Next(dst) {
			return n, false, rows.Err()
		}
		if err := c.out.dataRow(c.codec, encs, dst); err != nil {
			return n, false, err
		}
		n++
		if streaming {
			c.out.flush()
			if c.out.err != nil {
				return n, false, c.out.err
			}
		}
	}
	return n, true, nil
}

// dataRow appends a DataRow of vals, column i encoded by encs[i], straight into the
// output buffer, with no per-row allocation. On an encoding error nothing of the row is
// kept.
func (w *writer) dataRow(cd *codec, encs []colEncoder, vals []any) error {
	if w.err != nil {
		return w.err
	}
	if len(vals) > math.MaxUint16 {
		return sqlerr.New(codeProgramLimitExceeded, "too many result columns: %d", len(vals))
	}
	start := len(w.buf)
	buf := append(w.buf, 'D', 0, 0, 0, 0)
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(vals)))
	for i, v := range vals {
		at := len(buf)
		buf = append(buf, 0, 0, 0, 0)
		out, null, err := encs[i](cd, buf, v)
		if err != nil {
			w.buf = buf[:start]
			return err
		}
		if null {
			binary.BigEndian.PutUint32(buf[at:], math.MaxUint32) // -1
			continue
		}
		binary.BigEndian.PutUint32(out[at:], uint32(len(out)-at-4))
		buf = out
	}
	binary.BigEndian.PutUint32(buf[start+1:], uint32(len(buf)-start-1))
	w.buf = buf
	w.maybeFlush()
	return nil
}

// completed sends CommandComplete for tag and notes that a statement other than a SELECT
// may have changed session parameters.
func (c *conn) completed(tag string) {
	if !strings.HasPrefix(tag, "SELECT") {
		c.paramsDirty = true
	}
	c.out.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
}
