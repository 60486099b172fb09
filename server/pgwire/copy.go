package pgwire

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/weirdb/weir/internal/pgcopy"
	"github.com/weirdb/weir/internal/sqlerr"
)

// copyOf returns the COPY that stmt is, if it is one.
func copyOf(stmt Statement) (Copier, *Copy) {
	cp, ok := stmt.(Copier)
	if !ok {
		return nil, nil
	}
	info := cp.Copy()
	if info == nil {
		return nil, nil
	}
	return cp, info
}

// runCopy runs a COPY statement, in either protocol: FROM STDIN reads the client's
// CopyData, TO STDOUT sends the rows as CopyData. It sends CommandComplete "COPY n".
func (c *conn) runCopy(ctx context.Context, stmt Statement, cp Copier, info *Copy, params []any) error {
	if info.From {
		return c.copyIn(ctx, cp, info)
	}
	rows, err := stmt.Execute(ctx, params)
	if err != nil {
		return err
	}
	defer func() {
		if err := rows.Close(); err != nil {
			c.logger.Warn("closing rows", "err", err)
		}
	}()
	n, err := c.copyOut(ctx, rows, info.Options)
	if err != nil {
		return err
	}
	c.completed(fmt.Sprintf("COPY %d", n))
	return nil
}

// copyIn answers CopyInResponse and runs CopyFrom over the client's CopyData until
// CopyDone or CopyFail. If the COPY fails before the client is done, its remaining copy
// messages are dropped by the message loop (and, in the extended protocol, everything
// up to Sync), as PostgreSQL does.
func (c *conn) copyIn(ctx context.Context, cp Copier, info *Copy) error {
	format := uint16(textFormat)
	if info.Options.Format == pgcopy.Binary {
		format = uint16(binaryFormat)
	}
	formats := make([]uint16, info.Columns)
	for i := range formats {
		formats[i] = format
	}
	c.out.send(&pgproto3.CopyInResponse{OverallFormat: byte(format), ColumnFormatCodes: formats})
	c.out.flush()
	if c.out.err != nil {
		return c.out.err
	}
	in := &copyInReader{c: c}
	n, err := cp.CopyFrom(ctx, in)
	switch {
	case in.lost != nil && c.rd.err == nil:
		// A malformed, oversized or unknown message: say so, as the message loop does,
		// then end the connection.
		c.logger.Info("protocol violation during COPY", "err", in.lost)
		c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "invalid frontend message: %v", in.lost))
		c.closing = true
		return err
	case in.lost != nil:
		// The socket failed: nothing more can be said on it.
		c.closing = true
		c.logger.Debug("connection lost during COPY", "err", in.lost)
		return err
	case in.desync:
		// A message that is not part of the copy: PostgreSQL reports it, then ends the
		// connection, since the client's view of the protocol no longer matches.
		c.sendError(err)
		c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "terminating connection because protocol synchronization was lost"))
		c.closing = true
		return err
	case err != nil:
		return err
	}
	c.completed(fmt.Sprintf("COPY %d", n))
	return nil
}

// copyInReader is the byte stream of a COPY FROM STDIN: the payloads of the client's
// CopyData messages, then io.EOF at CopyDone. CopyFail ends it with 57014 "COPY from
// stdin failed: <message>"; any message but CopyData, CopyDone, CopyFail, Flush and Sync
// (which PostgreSQL ignores in copy-in mode, for clients that send them after every
// Execute) ends it with 08P01.
type copyInReader struct {
	c      *conn
	data   []byte // the rest of the current CopyData; valid until the next Receive
	err    error  // the end of the stream, once reached
	lost   error  // Receive failed: the connection is unusable
	desync bool   // a message that does not belong in a copy arrived
}

func (r *copyInReader) Read(p []byte) (int, error) {
	for len(r.data) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		msg, err := r.c.be.Receive()
		if err != nil {
			r.lost = err
			r.err = sqlerr.Wrap(err, sqlerr.ConnectionFailure, "unexpected EOF on client connection with an open transaction")
			return 0, r.err
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			r.data = m.Data
		case *pgproto3.CopyDone:
			r.err = io.EOF
		case *pgproto3.CopyFail:
			r.err = sqlerr.New(sqlerr.QueryCanceled, "COPY from stdin failed: %s", m.Message)
		case *pgproto3.Flush, *pgproto3.Sync:
		default:
			r.desync = true
			r.err = sqlerr.New(sqlerr.ProtocolViolation, "unexpected message type 0x%02X during COPY from stdin", messageType(msg))
		}
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// messageType returns the type byte of a frontend message.
func messageType(msg pgproto3.FrontendMessage) byte {
	buf, err := msg.Encode(nil)
	if err != nil || len(buf) == 0 {
		return 0
	}
	return buf[0]
}

// copyOut sends rows as COPY TO STDOUT data: CopyOutResponse, one CopyData per row (and
// one for a header) in the text or CSV format of opts, then CopyDone. It returns the
// number of rows sent. An error stops it before CopyDone, as in PostgreSQL.
func (c *conn) copyOut(ctx context.Context, rows Rows, opts pgcopy.Options) (int64, error) {
	if opts.Format == pgcopy.Binary {
		return 0, sqlerr.New(sqlerr.FeatureNotSupported, "COPY TO STDOUT in binary format is not supported")
	}
	cols := rows.Columns()
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = col.Name
	}
	if err := opts.ResolveForceQuote(names); err != nil {
		return 0, err
	}
	c.out.send(&pgproto3.CopyOutResponse{OverallFormat: byte(textFormat), ColumnFormatCodes: make([]uint16, len(cols))})
	only := len(cols) == 1
	if opts.Header != pgcopy.NoHeader {
		start := c.out.beginCopyData()
		for i, name := range names {
			if i > 0 {
				c.out.buf = append(c.out.buf, opts.Delimiter)
			}
			c.out.buf = opts.AppendField(c.out.buf, []byte(name), -1, only)
		}
		c.out.endCopyData(start)
	}
	streaming := false
	if s, ok := rows.(Streamer); ok {
		streaming = s.Streaming()
	}
	dst := make([]any, len(cols))
	var scratch []byte
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		clear(dst)
		if !rows.Next(dst) {
			if err := rows.Err(); err != nil {
				return n, err
			}
			break
		}
		if c.out.err != nil {
			return n, c.out.err
		}
		start := c.out.beginCopyData()
		for i, v := range dst {
			if i > 0 {
				c.out.buf = append(c.out.buf, opts.Delimiter)
			}
			var null bool
			var err error
			scratch, null, err = c.codec.appendValue(scratch[:0], cols[i].OID, textFormat, v)
			if err != nil {
				c.out.buf = c.out.buf[:start]
				return n, err
			}
			if null {
				c.out.buf = opts.AppendNull(c.out.buf)
			} else {
				c.out.buf = opts.AppendField(c.out.buf, scratch, i, only)
			}
		}
		c.out.endCopyData(start)
		n++
		if streaming {
			c.out.flush()
		}
	}
	c.out.send(&pgproto3.CopyDone{})
	return n, c.out.err
}

// beginCopyData starts a CopyData message in the output buffer; the caller appends the
// payload to w.buf and calls endCopyData with the returned offset.
func (w *writer) beginCopyData() int {
	start := len(w.buf)
	w.buf = append(w.buf, 'd', 0, 0, 0, 0)
	return start
}

// endCopyData ends the row with '\n', sets the message length and flushes when the
// buffer is full.
func (w *writer) endCopyData(start int) {
	w.buf = append(w.buf, '\n')
	if len(w.buf)-start-1 > math.MaxInt32 {
		w.buf = w.buf[:start]
		w.err = errors.New("COPY row over 2 GiB")
		return
	}
	binary.BigEndian.PutUint32(w.buf[start+1:], uint32(len(w.buf)-start-1))
	w.maybeFlush()
}
