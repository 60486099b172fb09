package pgwire

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/weirdb/weir/internal/sqlerr"
)

// simpleQuery answers a Query message. The string is split into statements that run in
// order, each answered with RowDescription (text format) and DataRows when it returns
// rows, then CommandComplete. The first error is sent as ErrorResponse and the rest of
// the statements are skipped. An empty string gets EmptyQueryResponse. ReadyForQuery
// always ends the cycle.
func (c *conn) simpleQuery(sql string) {
	// A simple Query destroys the unnamed statement and portal (PostgreSQL protocol docs).
	delete(c.stmts, "")
	c.dropPortal("")
	if err := c.runSimple(sql); err != nil {
		c.sendError(err)
	}
	c.readyForQuery()
}

func (c *conn) runSimple(sql string) error {
	parts, err := c.sess.Split(sql)
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		c.out.send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	from := 0
	for _, part := range parts {
		// Where the statement starts in sql, to report error positions against the whole
		// query string as PostgreSQL does; -1 if Split rewrote the text.
		at := -1
		if i := strings.Index(sql[from:], part); i >= 0 {
			at = from + i
			from = at + len(part)
		}
		if err := c.runStatement(part); err != nil {
			return shiftPosition(err, sql, at)
		}
		if c.out.err != nil {
			return nil
		}
	}
	return nil
}

// runStatement prepares and executes one statement of a simple Query.
func (c *conn) runStatement(sql string) error {
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	c.setRunning(cancel)
	defer c.setRunning(nil)

	stmt, err := c.sess.Prepare(ctx, sql, nil)
	if err != nil {
		return err
	}
	if cp, info := copyOf(stmt); info != nil {
		return c.runCopy(ctx, stmt, cp, info, nil)
	}
	rows, err := stmt.Execute(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err := rows.Close(); err != nil {
			c.logger.Warn("closing rows", "err", err)
		}
	}()
	cols := rows.Columns()
	if cols != nil {
		c.out.send(rowDescription(cols, nil))
	}
	if _, _, err := c.sendRows(ctx, rows, cols, nil, 0); err != nil {
		return err
	}
	c.completed(rows.Tag())
	return nil
}

// shiftPosition moves the error position of a statement that starts at byte offset at of
// sql so that it counts characters from the start of sql.
func shiftPosition(err error, sql string, at int) error {
	var e *sqlerr.Error
	if at <= 0 || !errors.As(err, &e) || e.Position == 0 {
		return err
	}
	shifted := *e
	shifted.Position += utf8.RuneCountInString(sql[:at])
	return &shifted
}
