package pgwire

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/weirdb/weir/internal/sqlerr"
)

// statement is a prepared statement created by Parse. It lives until Close or the end of
// the connection; the unnamed one ("") until the next Parse or simple Query.
type statement struct {
	name string
	// stmt is nil for an empty query string, whose execution is EmptyQueryResponse.
	stmt Statement
	// paramOIDs are the types Bind decodes parameters by and ParameterDescription reports:
	// the engine's, else the client's Parse OID, else text.
	paramOIDs []uint32
	cols      []Column // nil: the statement returns no rows (NoData)
}

// portal is a bound statement created by Bind. Its Rows are opened by the first Execute
// and kept open across Executes with a row limit (PortalSuspended), so each later Execute
// resumes the same iterator.
type portal struct {
	name    string
	stmt    *statement
	params  []any
	formats []int16 // result format codes as sent in Bind: none, one for all, or one per column

	// Set by the first Execute.
	ctx       context.Context // the statement's context; a CancelRequest cancels it
	cancel    context.CancelFunc
	rows      Rows // nil before the first Execute and after completion
	cols      []Column
	suspended bool   // an Execute stopped at its row limit at least once
	done      bool   // ran to completion
	tag       string // CommandComplete tag, once done
}

// extended finishes an extended-protocol message: an error is sent and the connection
// discards messages until Sync, as PostgreSQL does.
func (c *conn) extended(err error) {
	if err == nil {
		return
	}
	c.sendError(err)
	c.skipTillSync = true
}

// parse handles Parse: prepare the statement with the client's parameter types.
func (c *conn) parse(m *pgproto3.Parse) error {
	if m.Name == "" {
		// PostgreSQL drops the old unnamed statement first, even if this Parse fails.
		c.closeStatement("")
	} else if _, ok := c.stmts[m.Name]; ok {
		return sqlerr.New(codeDuplicatePreparedStatement, "prepared statement %q already exists", m.Name)
	}
	parts, err := c.sess.Split(m.Query)
	if err != nil {
		return err
	}
	st := &statement{name: m.Name}
	switch len(parts) {
	case 0:
	case 1:
		if err := c.prepare(st, m.Query, parts[0], slices.Clone(m.ParameterOIDs)); err != nil {
			return err
		}
	default:
		return sqlerr.New(sqlerr.SyntaxError, "cannot insert multiple commands into a prepared statement")
	}
	c.stmts[m.Name] = st
	c.out.send(&pgproto3.ParseComplete{})
	return nil
}

func (c *conn) prepare(st *statement, query, part string, clientOIDs []uint32) error {
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	c.setRunning(cancel)
	defer c.setRunning(nil)

	stmt, err := c.sess.Prepare(ctx, part, clientOIDs)
	if err != nil {
		return shiftPosition(err, query, strings.Index(query, part))
	}
	st.stmt = stmt
	st.paramOIDs = slices.Clone(stmt.ParamOIDs())
	for i, oid := range st.paramOIDs {
		if oid == 0 && i < len(clientOIDs) {
			oid = clientOIDs[i]
		}
		if oid == 0 {
			// Still unknown: PostgreSQL resolves an untyped parameter to text.
			oid = pgtype.TextOID
		}
		st.paramOIDs[i] = oid
	}
	st.cols = stmt.Columns()
	return nil
}

// bind handles Bind: decode the parameters by type and format and create the portal.
func (c *conn) bind(m *pgproto3.Bind) error {
	st := c.stmts[m.PreparedStatement]
	if st == nil {
		return sqlerr.New(sqlerr.InvalidSQLStatementName, "prepared statement %q does not exist", m.PreparedStatement)
	}
	if m.DestinationPortal == "" {
		c.dropPortal("")
	} else if _, ok := c.portals[m.DestinationPortal]; ok {
		return sqlerr.New(codeDuplicateCursor, "portal %q already exists", m.DestinationPortal)
	}
	if len(m.Parameters) != len(st.paramOIDs) {
		return sqlerr.New(sqlerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement %q requires %d",
			len(m.Parameters), m.PreparedStatement, len(st.paramOIDs))
	}
	if n := len(m.ParameterFormatCodes); n > 1 && n != len(m.Parameters) {
		return sqlerr.New(sqlerr.ProtocolViolation, "bind message has %d parameter formats but %d parameters", n, len(m.Parameters))
	}
	if err := checkFormats(m.ParameterFormatCodes); err != nil {
		return err
	}
	if err := checkFormats(m.ResultFormatCodes); err != nil {
		return err
	}
	if n := len(m.ResultFormatCodes); n > 1 && n != len(st.cols) {
		return sqlerr.New(sqlerr.ProtocolViolation, "bind message has %d result formats but query has %d columns", n, len(st.cols))
	}
	params := make([]any, len(m.Parameters))
	for i, raw := range m.Parameters {
		v, err := c.codec.decodeParam(st.paramOIDs[i], formatAt(m.ParameterFormatCodes, i), raw)
		if err != nil {
			return err
		}
		params[i] = v
	}
	c.portals[m.DestinationPortal] = &portal{
		name:    m.DestinationPortal,
		stmt:    st,
		params:  params,
		formats: slices.Clone(m.ResultFormatCodes),
	}
	c.out.send(&pgproto3.BindComplete{})
	return nil
}

func checkFormats(codes []int16) error {
	for _, f := range codes {
		if f != textFormat && f != binaryFormat {
			return sqlerr.New(sqlerr.InvalidParameterValue, "unsupported format code: %d", f)
		}
	}
	return nil
}

// formatAt is the format code of column or parameter i: codes holds none (all text), one
// (for all) or one per item.
func formatAt(codes []int16, i int) int16 {
	switch len(codes) {
	case 0:
		return textFormat
	case 1:
		return codes[0]
	default:
		return codes[i]
	}
}

// describe handles Describe: ParameterDescription and RowDescription (or NoData) for a
// statement, RowDescription with the Bind result formats (or NoData) for a portal.
func (c *conn) describe(m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		st := c.stmts[m.Name]
		if st == nil {
			return sqlerr.New(sqlerr.InvalidSQLStatementName, "prepared statement %q does not exist", m.Name)
		}
		c.out.send(&pgproto3.ParameterDescription{ParameterOIDs: st.paramOIDs})
		c.describeRows(st.cols, nil)
	case 'P':
		p := c.portals[m.Name]
		if p == nil {
			cols, ok := c.cursorColumns(m.Name)
			if !ok {
				return sqlerr.New(sqlerr.InvalidCursorName, "portal %q does not exist", m.Name)
			}
			c.describeRows(cols, nil)
			return nil
		}
		c.describeRows(p.stmt.cols, p.formats)
	default:
		return sqlerr.New(sqlerr.ProtocolViolation, "invalid DESCRIBE message subtype %d", m.ObjectType)
	}
	return nil
}

// cursorColumns describes the SQL cursor name (DECLARE … CURSOR), which in PostgreSQL is
// a portal too: psycopg's server-side cursors send Describe Portal after DECLARE. The
// engine describes it as what FETCH from it returns.
func (c *conn) cursorColumns(name string) ([]Column, bool) {
	if name == "" {
		return nil, false
	}
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	st, err := c.sess.Prepare(ctx, "FETCH 0 FROM "+quoteIdent(name), nil)
	if err != nil {
		return nil, false
	}
	return st.Columns(), true
}

// quoteIdent quotes name as an SQL identifier.
func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

func (c *conn) describeRows(cols []Column, formats []int16) {
	if cols == nil {
		c.out.send(&pgproto3.NoData{})
		return
	}
	c.out.send(rowDescription(cols, formats))
}

// execute handles Execute: run the portal, or resume it, sending at most MaxRows rows
// (0: all). A portal that stops at the limit answers PortalSuspended and keeps its Rows
// open for the next Execute; one that completes answers CommandComplete. An error drops
// the portal.
func (c *conn) execute(m *pgproto3.Execute) error {
	p := c.portals[m.Portal]
	if p == nil {
		return sqlerr.New(sqlerr.InvalidCursorName, "portal %q does not exist", m.Portal)
	}
	if p.stmt.stmt == nil {
		c.out.send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	if p.done {
		// Re-executing a finished SELECT portal returns no more rows.
		tag := p.tag
		if strings.HasPrefix(tag, "SELECT ") {
			tag = "SELECT 0"
		}
		c.out.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
		return nil
	}
	if p.rows == nil {
		p.ctx, p.cancel = context.WithCancel(c.ctx)
	}
	c.setRunning(p.cancel)
	defer c.setRunning(nil)

	if cp, info := copyOf(p.stmt.stmt); info != nil && p.rows == nil {
		// COPY ignores the row limit; its portal runs once, to completion.
		err := c.runCopy(p.ctx, p.stmt.stmt, cp, info, p.params)
		c.dropPortal(p.name)
		return err
	}
	if p.rows == nil {
		rows, err := p.stmt.stmt.Execute(p.ctx, p.params)
		if err != nil {
			c.dropPortal(p.name)
			return err
		}
		p.rows, p.cols = rows, rows.Columns()
		if n := len(p.formats); n > 1 && n != len(p.cols) {
			c.dropPortal(p.name)
			return sqlerr.New(sqlerr.Internal, "internal error: statement described %d columns but returned %d", n, len(p.cols))
		}
	}
	n, suspended, err := c.sendRows(p.ctx, p.rows, p.cols, p.formats, int(m.MaxRows))
	if err != nil {
		c.dropPortal(p.name)
		return err
	}
	if suspended {
		p.suspended = true
		c.out.send(&pgproto3.PortalSuspended{})
		c.out.flush()
		return nil
	}
	tag := p.rows.Tag()
	if p.suspended && strings.HasPrefix(tag, "SELECT ") {
		// PostgreSQL counts the rows of this Execute only.
		tag = fmt.Sprintf("SELECT %d", n)
	}
	p.tag, p.done = tag, true
	c.closeRows(p)
	c.completed(tag)
	return nil
}

// closeObject handles Close. Closing a statement also closes the portals bound from it.
// Closing a name that does not exist is not an error.
func (c *conn) closeObject(m *pgproto3.Close) error {
	switch m.ObjectType {
	case 'S':
		c.closeStatement(m.Name)
	case 'P':
		c.dropPortal(m.Name)
	default:
		return sqlerr.New(sqlerr.ProtocolViolation, "invalid CLOSE message subtype %d", m.ObjectType)
	}
	c.out.send(&pgproto3.CloseComplete{})
	return nil
}

func (c *conn) closeStatement(name string) {
	st := c.stmts[name]
	if st == nil {
		return
	}
	delete(c.stmts, name)
	for pname, p := range c.portals {
		if p.stmt == st {
			c.dropPortal(pname)
		}
	}
}

// sync handles Sync: leave skip-till-Sync mode and send ReadyForQuery, which closes the
// portals if the session is outside a transaction block.
func (c *conn) sync() {
	c.skipTillSync = false
	c.readyForQuery()
}

// flush handles Flush: write out everything buffered, without ending the cycle.
func (c *conn) flush() {
	c.out.flush()
}

// dropPortal closes and forgets the portal name, if it exists.
func (c *conn) dropPortal(name string) {
	p := c.portals[name]
	if p == nil {
		return
	}
	delete(c.portals, name)
	if p.cancel != nil {
		p.cancel()
	}
	c.closeRows(p)
}

func (c *conn) closeRows(p *portal) {
	if p.rows != nil {
		if err := p.rows.Close(); err != nil {
			c.logger.Warn("closing rows", "portal", p.name, "err", err)
		}
		p.rows = nil
	}
	if p.cancel != nil {
		p.cancel()
	}
}
