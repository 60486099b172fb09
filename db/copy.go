package db

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/pgcopy"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
)

// CopyChunkRows is how many rows of a COPY into a source make one tick. A COPY of up to
// this many rows is applied at once, or not at all; a longer one is applied a chunk at
// a time as it streams in, so that its memory stays bounded (a chunk of 100,000 rows of
// four bigint columns holds about 8 MB while it is parsed), and a failure in a later chunk
// leaves the earlier chunks applied. The error then says how many rows were. A COPY
// into a table is always applied at once: a table lives in memory anyway.
const CopyChunkRows = 100_000

// copyBlockRows is the largest allocation unit of a table COPY's rows, and how often
// a COPY checks for cancellation.
const copyBlockRows = 1024

// CopyInfo describes a prepared COPY statement to the wire layer.
type CopyInfo struct {
	// From is true for COPY … FROM STDIN (run it with CopyFrom), false for COPY … TO
	// STDOUT (Execute returns the rows, to be sent in Options' format).
	From bool
	// Columns is the number of columns in the data; 0 for COPY (query) TO, whose rows
	// say it.
	Columns int
	Options pgcopy.Options
}

// Copy describes the statement if it is a COPY.
func (p *Prepared) Copy() (CopyInfo, bool) {
	st, ok := p.st.(*planner.Copy)
	if !ok {
		return CopyInfo{}, false
	}
	return CopyInfo{From: st.From, Columns: len(st.Columns), Options: st.Options}, true
}

// CopyFrom runs a prepared COPY … FROM STDIN, reading the client's data from r until
// io.EOF, and returns the number of rows stored. An error from r other than io.EOF (the
// client's CopyFail, a lost connection) fails the COPY and is returned as it came. A
// malformed or unconvertible row fails it with PostgreSQL's SQLSTATE and a Where naming
// the line and column (`COPY events, line 3, column ts: "garbage"`). See CopyChunkRows
// for what of a failed COPY into a source is kept.
func (p *Prepared) CopyFrom(ctx context.Context, r io.Reader) (int64, error) {
	st, ok := p.st.(*planner.Copy)
	if !ok || !st.From {
		return 0, sqlerr.New(sqlerr.Internal, "internal error: CopyFrom of a statement that is not COPY FROM STDIN")
	}
	s := p.s
	if s.tx == 'E' {
		return 0, sqlerr.New("25P02", "current transaction is aborted, commands ignored until end of transaction block")
	}
	n, err := s.db.copyFrom(ctx, st, r)
	if n > 0 {
		s.noteWrite()
	}
	if err != nil && s.tx == 'T' {
		s.tx = 'E'
	}
	return n, err
}

// executeCopy runs COPY … TO STDOUT: the rows of its query, which the wire layer
// formats. COPY … FROM STDIN needs the wire protocol's copy mode (CopyFrom).
func (p *Prepared) executeCopy(ctx context.Context, st *planner.Copy) (*Rows, error) {
	if st.From {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "COPY FROM STDIN is only available over the PostgreSQL wire protocol")
	}
	q, err := p.s.Prepare(ctx, st.Query, nil)
	if err != nil {
		return nil, shiftErr(err, st.QueryPos)
	}
	if q.read == nil {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "COPY (…) TO supports queries only")
	}
	rows, err := q.Execute(ctx, nil)
	return rows, shiftErr(err, st.QueryPos)
}

// shiftErr moves an error position inside COPY's query to one in the whole statement.
func shiftErr(err error, by int) error {
	var e *sqlerr.Error
	if !errors.As(err, &e) || e.Position == 0 || by == 0 {
		return err
	}
	c := *e
	c.Position += by
	return &c
}

// copyFrom reads COPY data for st from src and stores it: into a source through
// Ingest, a chunk at a time; into a table with INSERT's checks, at once.
func (d *DB) copyFrom(ctx context.Context, st *planner.Copy, src io.Reader) (int64, error) {
	rel, err := d.cat.Get(st.Rel.Name)
	if err != nil {
		return 0, err
	}
	if rel != st.Rel {
		return 0, sqlerr.New(sqlerr.FeatureNotSupported, "cached plan must not change result type: %q was recreated; prepare the statement again", rel.Name)
	}
	names := make([]string, len(st.Columns))
	for i, c := range st.Columns {
		names[i] = rel.Columns[c].Name
	}
	cv := newCopyConverter(rel, st)
	rd := pgcopy.NewReader(src, st.Options, names)
	if err := checkWritable(rel); err != nil { // connectors.go
		return 0, err
	}
	if rel.Kind == catalog.Table {
		chunk := &copyChunk{width: len(rel.Columns)}
		for rd.Next() {
			if err := cv.next(ctx, rd, chunk); err != nil {
				return 0, err
			}
		}
		if err := rd.Err(); err != nil {
			return 0, cv.readErr(err, rd)
		}
		return d.copyIntoTable(ctx, rel, cv, chunk)
	}
	// Into a source: each full chunk is committed (ingestBatch) on a goroutine of its
	// own while the next one is parsed, so parsing and the tick share the work on two
	// cores. At most one commit is in flight, and chunks commit in order. The rows go
	// straight into the chunk's batch, checked as Ingest checks them.
	var (
		cur      = newSourceChunk(rel)
		applied  int64
		inflight int
		pending  chan error // the result of the commit in flight, if any
	)
	wait := func() error {
		if pending == nil {
			return nil
		}
		err := <-pending
		pending = nil
		if err == nil {
			applied += int64(inflight)
		}
		return err
	}
	defer func() { _ = wait() }() // the goroutine never outlives the COPY
	// A chunk starts with room for as many rows as the last COPY into rel committed in
	// its last chunk (bulk loads repeat their batch size), instead of growing by doubling.
	if hint, ok := d.copyHint.Load(rel.Name); ok {
		cur.b.Grow(hint.(int))
	}
	commit := func() {
		d.copyHint.Store(rel.Name, cur.len())
		b, ch := cur.b, make(chan error, 1)
		inflight, pending = cur.len(), ch
		go func() { ch <- d.ingestChunk(ctx, rel, b) }()
		cur = newSourceChunk(rel)
	}
	for rd.Next() {
		if err := cv.nextSource(ctx, rd, cur); err != nil {
			_ = wait()
			return applied, cv.failed(err, applied)
		}
		if cur.len() == CopyChunkRows {
			if err := wait(); err != nil {
				return applied, cv.failed(err, applied)
			}
			commit()
			cur.b.Grow(CopyChunkRows) // the COPY goes on, most likely with another full chunk
		}
	}
	if err := rd.Err(); err != nil {
		_ = wait()
		return applied, cv.failed(cv.readErr(err, rd), applied)
	}
	if err := wait(); err != nil {
		return applied, cv.failed(err, applied)
	}
	if cur.len() > 0 {
		commit()
		if err := wait(); err != nil {
			return applied, cv.failed(err, applied)
		}
	}
	return applied, nil
}

// next converts the reader's current row into a new row of chunk.
func (cv *copyConverter) next(ctx context.Context, rd *pgcopy.Reader, chunk *copyChunk) error {
	if chunk.n%copyBlockRows == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return cv.convert(rd, chunk.add())
}

// ingestChunk ingests a chunk of a COPY into source rel as Ingest would its rows: if
// the source was dropped, or dropped and created again, since the COPY began, the rows
// go through Ingest, which fails or checks them against the source there is now.
func (d *DB) ingestChunk(ctx context.Context, rel *catalog.Relation, b *delta.Batch) error {
	if err := d.checkReady(); err != nil {
		return err
	}
	if now, err := d.cat.Get(rel.Name); err != nil || now != rel {
		rows := make([][]delta.Value, b.Len())
		for i := range rows {
			rows[i] = b.Row(i, nil)
		}
		return d.Ingest(ctx, rel.Name, rows)
	}
	return d.ingestBatch(ctx, rel.Name, b, nil)
}

// nextSource converts the reader's current row into a new row of a source's chunk,
// checked as Ingest checks a row.
func (cv *copyConverter) nextSource(ctx context.Context, rd *pgcopy.Reader, chunk *sourceChunk) error {
	n := chunk.len()
	if n%copyBlockRows == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if cv.direct != nil && cv.appendDirect(rd.Fields(), chunk.b) {
		return nil
	}
	if err := cv.convert(rd, chunk.row); err != nil {
		return err
	}
	if err := checkRow(cv.rel, chunk.row, n+1); err != nil {
		return err
	}
	chunk.b.AppendRow(chunk.row, 1)
	return nil
}

// directInput appends a binary field straight to a column; false when the field is not
// an ordinary value of the column (NULL, a wrong length, infinity, a value out of range,
// text that is not UTF-8 or needs a length check), which the general path then converts
// or rejects with its proper error.
type directInput func(v *delta.Vector, f []byte) bool

// directBinary returns the direct appender of a column of binary COPY data, or nil when
// its type has none.
func directBinary(col catalog.Column) directInput {
	nulls := func(v *delta.Vector) {
		if v.Nulls != nil {
			v.Nulls = append(v.Nulls, false)
		}
	}
	// integer appends the n-byte fields that decode to an integer (ok false: the general
	// path's error, or its conversion).
	integer := func(n int, decode func(f []byte) (x int64, ok bool)) directInput {
		return func(v *delta.Vector, f []byte) bool {
			if len(f) != n {
				return false
			}
			x, ok := decode(f)
			if !ok {
				return false
			}
			nulls(v)
			v.I64 = append(v.I64, x)
			return true
		}
	}
	switch col.Type {
	case catalog.Int2:
		return integer(2, func(f []byte) (int64, bool) { return int64(int16(binary.BigEndian.Uint16(f))), true })
	case catalog.Int4:
		return integer(4, func(f []byte) (int64, bool) { return int64(int32(binary.BigEndian.Uint32(f))), true })
	case catalog.Int8:
		return integer(8, func(f []byte) (int64, bool) { return int64(binary.BigEndian.Uint64(f)), true })
	case catalog.Timestamp, catalog.Timestamptz:
		return integer(8, func(f []byte) (int64, bool) {
			us := int64(binary.BigEndian.Uint64(f))
			if us == math.MinInt64 || us > math.MaxInt64-pgEpochMicros {
				return 0, false
			}
			return us + pgEpochMicros, true
		})
	case catalog.Float8:
		return func(v *delta.Vector, f []byte) bool {
			if len(f) != 8 {
				return false
			}
			nulls(v)
			v.F64 = append(v.F64, math.Float64frombits(binary.BigEndian.Uint64(f)))
			return true
		}
	case catalog.Text:
		if col.MaxLen > 0 {
			return nil
		}
		return func(v *delta.Vector, f []byte) bool {
			if !utf8.Valid(f) || strings.IndexByte(transient(f), 0) >= 0 {
				return false
			}
			nulls(v)
			v.Str = append(v.Str, string(f))
			return true
		}
	}
	return nil
}

// appendDirect appends the row of fields to b through the direct appenders, and reports
// whether it did; when not, b is as it was.
func (cv *copyConverter) appendDirect(fields [][]byte, b *delta.Batch) bool {
	if len(fields) != len(cv.direct) {
		return false
	}
	n := b.Len()
	for i, f := range fields {
		if f == nil || !cv.direct[i](&b.Cols[cv.cols[i]], f) {
			b.Truncate(n)
			return false
		}
	}
	b.Weights = append(b.Weights, 1)
	return true
}

// sourceChunk holds the rows of a COPY into a source not yet applied, as the batch
// that will be ingested.
type sourceChunk struct {
	b   *delta.Batch
	row []delta.Value // scratch: the row being converted
}

func newSourceChunk(rel *catalog.Relation) *sourceChunk {
	return &sourceChunk{b: delta.New(relKinds(rel)), row: make([]delta.Value, len(rel.Columns))}
}

func (c *sourceChunk) len() int { return c.b.Len() }

// copyIntoTable inserts the COPY's rows into a table with INSERT's semantics: a
// primary key already present, or present twice in the data, fails the whole COPY
// with 23505.
func (d *DB) copyIntoTable(ctx context.Context, rel *catalog.Relation, cv *copyConverter, chunk *copyChunk) (int64, error) {
	rows := chunk.rows()
	if len(rows) == 0 {
		return 0, nil
	}
	seen := make(map[string]int, len(rows))
	for i, row := range rows {
		k := pkKey(rel, row)
		if _, dup := seen[k]; dup {
			return 0, cv.duplicate(row, cv.lines[i])
		}
		seen[k] = i
	}
	if i := d.existingKey(rel, rows); i >= 0 {
		return 0, cv.duplicate(rows[i], cv.lines[i])
	}
	ins := &planner.Insert{Rel: rel, Rows: make([][]expr.Expr, len(rows))}
	for i, row := range rows {
		exprs := make([]expr.Expr, len(row))
		for j, v := range row {
			exprs[j] = &expr.Const{V: v, T: rel.Columns[j].Type}
		}
		ins.Rows[i] = exprs
	}
	n, err := d.insert(ctx, ins)
	if err != nil {
		return 0, sqlerr.As(err).WithWhere("COPY %s", rel.Name)
	}
	return n, nil
}

// existingKey returns the index of the first row whose primary key the table already
// holds, or -1.
func (d *DB) existingKey(rel *catalog.Relation, rows [][]delta.Value) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := d.tables[rel.Name]
	if t == nil {
		return -1
	}
	for i, row := range rows {
		if _, ok := t.rows[pkKey(rel, row)]; ok {
			return i
		}
	}
	return -1
}

// copyChunk holds the rows of a COPY into a table, in blocks. Blocks start small (a
// COPY of a few rows allocates a few kilobytes) and grow to copyBlockRows rows.
type copyChunk struct {
	width  int
	n      int
	blocks [][]delta.Value
	b, at  int             // the block and row within it that add fills next
	list   [][]delta.Value // the rows, in order
}

// add returns the next row; the caller sets every value.
func (c *copyChunk) add() []delta.Value {
	if c.b == len(c.blocks) {
		rows := copyBlockRows
		if k := len(c.blocks); k < 3 {
			rows = 16 << (2 * k) // 16, 64, 256, then copyBlockRows
		}
		c.blocks = append(c.blocks, make([]delta.Value, rows*c.width))
	}
	blk := c.blocks[c.b]
	row := blk[c.at*c.width : (c.at+1)*c.width : (c.at+1)*c.width]
	if c.at++; c.at*c.width == len(blk) {
		c.b, c.at = c.b+1, 0
	}
	c.n++
	c.list = append(c.list, row)
	return row
}

// rows returns the chunk's rows; they stay valid until reset.
func (c *copyChunk) rows() [][]delta.Value { return c.list }

// copyConverter turns a COPY's fields into a relation's row with PostgreSQL's input
// rules (the same casts INSERT's literals go through) and checks the row as INSERT does.
type copyConverter struct {
	rel    *catalog.Relation
	cols   []int // data column → relation column
	binary bool
	conv   []func([]byte) (delta.Value, error) // per data column
	absent []int                               // relation columns not in the data
	direct []directInput                       // per data column, when every column has one (binary COPY into a source)
	lines  []int64                             // table COPY: each row's line, for errors

	line int64  // the row being converted
	raw  []byte // its line, for context
}

func newCopyConverter(rel *catalog.Relation, st *planner.Copy) *copyConverter {
	cv := &copyConverter{rel: rel, cols: st.Columns, binary: st.Options.Format == pgcopy.Binary}
	in := make([]bool, len(rel.Columns))
	for _, c := range st.Columns {
		in[c] = true
		col := rel.Columns[c]
		if cv.binary {
			cv.conv = append(cv.conv, binaryInput(col))
		} else {
			cv.conv = append(cv.conv, textInput(col))
		}
	}
	for i, ok := range in {
		if !ok {
			cv.absent = append(cv.absent, i)
		}
	}
	// A row of a source is appended to the chunk's columns directly when every column
	// is in the data and has a direct appender; checkRow has nothing to check in such a
	// row once its fields are not NULL (no numeric typmod, no varchar length).
	if cv.binary && rel.Kind == catalog.Source && len(cv.absent) == 0 {
		for _, c := range st.Columns {
			d := directBinary(rel.Columns[c])
			if d == nil {
				cv.direct = nil
				break
			}
			cv.direct = append(cv.direct, d)
		}
	}
	return cv
}

// convert fills row from the reader's current fields and checks it.
func (cv *copyConverter) convert(rd *pgcopy.Reader, row []delta.Value) error {
	fields := rd.Fields()
	cv.line, cv.raw = rd.Line(), rd.Raw()
	if cv.rel.Kind == catalog.Table {
		cv.lines = append(cv.lines, cv.line)
	}
	if len(fields) > len(cv.cols) {
		return cv.lineErr(sqlerr.New(sqlerr.BadCopyFileFormat, "extra data after last expected column"))
	}
	if len(fields) < len(cv.cols) {
		// PostgreSQL's text format reads an empty line as one empty field.
		return cv.lineErr(sqlerr.New(sqlerr.BadCopyFileFormat, "missing data for column %q", cv.rel.Columns[cv.cols[len(fields)]].Name))
	}
	for i, f := range fields {
		c := cv.cols[i]
		if f == nil {
			row[c] = delta.Null(cv.rel.Columns[c].Type.Kind())
			continue
		}
		v, err := cv.conv[i](f)
		if err != nil {
			return cv.fieldErr(err, c, f)
		}
		row[c] = v
	}
	for _, c := range cv.absent {
		row[c] = delta.Null(cv.rel.Columns[c].Type.Kind())
	}
	for c, col := range cv.rel.Columns {
		if col.NotNull && row[c].Null {
			return cv.lineErr(sqlerr.New(sqlerr.NotNullViolation, "null value in column %q of relation %q violates not-null constraint", col.Name, cv.rel.Name).
				WithDetail("Failing row contains (%s).", failingRow(cv.rel, row)))
		}
	}
	return nil
}

// lineErr places err at the current line, with its text when there is one, as
// PostgreSQL's COPY error context does.
func (cv *copyConverter) lineErr(err error) error {
	if cv.line == 0 {
		return err // the binary header comes before any line
	}
	if cv.raw != nil {
		return where(err, "COPY %s, line %d: \"%s\"", cv.rel.Name, cv.line, clip(cv.raw))
	}
	return where(err, "COPY %s, line %d", cv.rel.Name, cv.line)
}

// fieldErr places err at the current line and column c, with the value in text formats.
func (cv *copyConverter) fieldErr(err error, c int, f []byte) error {
	if cv.binary {
		return where(err, "COPY %s, line %d, column %s", cv.rel.Name, cv.line, cv.rel.Columns[c].Name)
	}
	return where(err, "COPY %s, line %d, column %s: \"%s\"", cv.rel.Name, cv.line, cv.rel.Columns[c].Name, clip(f))
}

// where adds a context line to err's Where. Contexts stack as in PostgreSQL's CONTEXT:
// an input function's own context comes first, the COPY's line after it.
func where(err error, format string, args ...any) error {
	e := sqlerr.As(err)
	ctx := fmt.Sprintf(format, args...)
	if e.Where != "" {
		ctx = e.Where + "\n" + ctx
	}
	return e.WithWhere("%s", ctx)
}

// readErr places a reader error: a format error at the line being read, a source error
// (CopyFail, a lost connection) at the last line, as PostgreSQL does.
func (cv *copyConverter) readErr(err error, rd *pgcopy.Reader) error {
	var e *sqlerr.Error
	if !errors.As(err, &e) {
		return err
	}
	cv.line, cv.raw = rd.Line(), rd.Raw()
	if f := rd.Field(); f >= 0 && cv.line > 0 {
		return where(e, "COPY %s, line %d, column %s", cv.rel.Name, cv.line, cv.rel.Columns[cv.cols[f]].Name)
	}
	if e.Code == sqlerr.BadCopyFileFormat || e.Code == sqlerr.CharacterNotInRepertoire {
		return cv.lineErr(e)
	}
	if e.Where == "" && cv.line > 0 {
		return e.WithWhere("COPY %s, line %d", cv.rel.Name, cv.line)
	}
	return e
}

// failed adds to err how many rows of the COPY were applied before it, if any.
func (cv *copyConverter) failed(err error, applied int64) error {
	if applied == 0 {
		return err
	}
	note := fmt.Sprintf("The first %d rows of the COPY were applied (a COPY into a source is applied %d rows at a time).", applied, CopyChunkRows)
	var e *sqlerr.Error
	if !errors.As(err, &e) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return &sqlerr.Error{Code: sqlerr.QueryCanceled, Msg: "canceling statement due to user request", Detail: note, Err: err}
		}
		e = sqlerr.As(err)
	}
	if e.Detail != "" {
		note = e.Detail + " " + note
	}
	c := *e
	c.Detail = note
	return &c
}

// duplicate is PostgreSQL's unique violation for a COPY row.
func (cv *copyConverter) duplicate(row []delta.Value, line int64) error {
	return sqlerr.New(sqlerr.UniqueViolation, "duplicate key value violates unique constraint \"%s_pkey\"", cv.rel.Name).
		WithDetail("Key (%s)=(%s) already exists.", keyNames(cv.rel), keyText(cv.rel, row)).
		WithWhere("COPY %s, line %d", cv.rel.Name, line)
}

// failingRow prints a row as PostgreSQL's "Failing row contains (…)" detail does.
func failingRow(rel *catalog.Relation, row []delta.Value) string {
	parts := make([]string, len(row))
	for i, v := range row {
		if v.Null {
			parts[i] = "null"
		} else {
			parts[i] = expr.Format(v, rel.Columns[i].Type)
		}
	}
	return strings.Join(parts, ", ")
}

// clip shortens a value or line for an error context as PostgreSQL does (100 bytes,
// on a character boundary, then "...").
func clip(b []byte) string {
	const limit = 100
	if len(b) <= limit {
		return string(b)
	}
	n := limit
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return string(b[:n]) + "..."
}

// transient views b as a string without copying, for input functions that do not keep
// their argument (numbers, booleans, dates and times): b is the reader's buffer, reused
// for the next row. Never store the result.
func transient(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// textInput returns column col's text input function: its type's PostgreSQL input rules
// (expr.Parse, as for INSERT's literals), then the column's modifiers.
func textInput(col catalog.Column) func([]byte) (delta.Value, error) {
	t := col.Type
	switch t {
	case catalog.Text, catalog.Varchar:
		return func(b []byte) (delta.Value, error) {
			if err := checkLength(b, col); err != nil {
				return delta.Value{}, err
			}
			return delta.Str(string(b)), nil
		}
	case catalog.Int2, catalog.Int4, catalog.Int8, catalog.Float4, catalog.Float8, catalog.Bool,
		catalog.Date, catalog.Timestamp, catalog.Timestamptz:
		return func(b []byte) (delta.Value, error) { return expr.Parse(transient(b), t) }
	case catalog.Numeric:
		return func(b []byte) (delta.Value, error) {
			v, err := expr.Parse(string(b), t)
			if err != nil {
				return v, err
			}
			return expr.ApplyTypmod(v, col.Precision, col.Scale)
		}
	}
	return func(b []byte) (delta.Value, error) { return expr.Parse(string(b), t) }
}

func checkLength(b []byte, col catalog.Column) error {
	if col.MaxLen > 0 && len(b) > col.MaxLen && utf8.RuneCount(b) > col.MaxLen {
		return sqlerr.New(sqlerr.StringDataRightTruncation, "value too long for type character varying(%d)", col.MaxLen)
	}
	return nil
}

// Binary COPY values count time from PostgreSQL's epoch, 2000-01-01.
const (
	pgEpochDays   = 10957           // days from 1970-01-01 to 2000-01-01
	pgEpochMicros = 946684800000000 // µs from 1970-01-01 to 2000-01-01
)

// binaryInput returns column col's binary input function: PostgreSQL's typreceive for
// its type. A value of the wrong length fails as in PostgreSQL: too short with 08P01
// ("insufficient data left in message"), too long with 22P03.
func binaryInput(col catalog.Column) func([]byte) (delta.Value, error) {
	t := col.Type
	fixed := func(n int, f func([]byte) (delta.Value, error)) func([]byte) (delta.Value, error) {
		return func(b []byte) (delta.Value, error) {
			if len(b) < n {
				return delta.Value{}, sqlerr.New(sqlerr.ProtocolViolation, "insufficient data left in message")
			}
			if len(b) > n {
				return delta.Value{}, sqlerr.New(sqlerr.InvalidBinaryRepresentation, "incorrect binary data format")
			}
			return f(b)
		}
	}
	switch t {
	case catalog.Bool:
		return fixed(1, func(b []byte) (delta.Value, error) { return delta.Bool(b[0] != 0), nil })
	case catalog.Int2:
		return fixed(2, func(b []byte) (delta.Value, error) { return delta.Int(int64(int16(binary.BigEndian.Uint16(b)))), nil })
	case catalog.Int4:
		return fixed(4, func(b []byte) (delta.Value, error) { return delta.Int(int64(int32(binary.BigEndian.Uint32(b)))), nil })
	case catalog.Int8:
		return fixed(8, func(b []byte) (delta.Value, error) { return delta.Int(int64(binary.BigEndian.Uint64(b))), nil })
	case catalog.Float4:
		return fixed(4, func(b []byte) (delta.Value, error) {
			return delta.Float(float64(math.Float32frombits(binary.BigEndian.Uint32(b)))), nil
		})
	case catalog.Float8:
		return fixed(8, func(b []byte) (delta.Value, error) {
			return delta.Float(math.Float64frombits(binary.BigEndian.Uint64(b))), nil
		})
	case catalog.Date:
		return fixed(4, func(b []byte) (delta.Value, error) {
			d := int64(int32(binary.BigEndian.Uint32(b)))
			if d == math.MinInt32 || d == math.MaxInt32 {
				return delta.Value{}, sqlerr.New(sqlerr.FeatureNotSupported, "infinite dates are not supported")
			}
			return delta.Int(d + pgEpochDays), nil
		})
	case catalog.Timestamp, catalog.Timestamptz:
		return fixed(8, func(b []byte) (delta.Value, error) {
			us := int64(binary.BigEndian.Uint64(b))
			if us == math.MinInt64 || us == math.MaxInt64 {
				return delta.Value{}, sqlerr.New(sqlerr.FeatureNotSupported, "infinite timestamps are not supported")
			}
			if us > math.MaxInt64-pgEpochMicros {
				return delta.Value{}, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range")
			}
			return delta.Int(us + pgEpochMicros), nil
		})
	case catalog.Interval:
		return fixed(16, func(b []byte) (delta.Value, error) {
			us := int64(binary.BigEndian.Uint64(b))
			days := int32(binary.BigEndian.Uint32(b[8:]))
			months := int32(binary.BigEndian.Uint32(b[12:]))
			return delta.Interval(months, days, us), nil
		})
	case catalog.Text, catalog.Varchar:
		return func(b []byte) (delta.Value, error) {
			if !utf8.Valid(b) || strings.IndexByte(transient(b), 0) >= 0 {
				return delta.Value{}, invalidUTF8(b)
			}
			if err := checkLength(b, col); err != nil {
				return delta.Value{}, err
			}
			return delta.Str(string(b)), nil
		}
	case catalog.Numeric:
		return func(b []byte) (delta.Value, error) {
			text, err := numericRecv(b)
			if err != nil && utf8.Valid(b) && len(b) > 0 {
				// Weir describes an unconstrained numeric column as text (the view
				// store keeps it as text), so a client that encodes by the described
				// type (pgx's CopyFrom) sends the value's text. Binary numeric never
				// looks like text: its length is 8 + 2 × the digit count in its first
				// two bytes, which for printable bytes means over 23,000 bytes.
				text, err = string(b), nil
			}
			if err != nil {
				return delta.Value{}, err
			}
			v, err := expr.Parse(text, t)
			if err != nil {
				return v, err
			}
			return expr.ApplyTypmod(v, col.Precision, col.Scale)
		}
	case catalog.Jsonb:
		return func(b []byte) (delta.Value, error) {
			if len(b) < 1 {
				return delta.Value{}, sqlerr.New(sqlerr.ProtocolViolation, "insufficient data left in message")
			}
			if b[0] != 1 {
				if b[0] >= ' ' && utf8.Valid(b) {
					// Described as text (see Numeric above): the client sent JSON text,
					// which never starts with jsonb's version byte 1.
					return expr.Parse(string(b), t)
				}
				return delta.Value{}, sqlerr.New(sqlerr.InvalidBinaryRepresentation, "unsupported jsonb version number %d", b[0])
			}
			if !utf8.Valid(b[1:]) {
				return delta.Value{}, invalidUTF8(b[1:])
			}
			return expr.Parse(string(b[1:]), t)
		}
	}
	return func([]byte) (delta.Value, error) {
		return delta.Value{}, sqlerr.New(sqlerr.FeatureNotSupported, "binary COPY of type %s is not supported", t)
	}
}

func invalidUTF8(b []byte) error {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if b[i] == 0 || (r == utf8.RuneError && n <= 1) {
			return sqlerr.New(sqlerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": 0x%02x", b[i])
		}
		i += n
	}
	return nil
}

// numericRecv renders PostgreSQL's binary numeric (digit count, weight, sign, display
// scale, then base-10000 digits) as decimal text, as numeric_recv then numeric_out
// would.
func numericRecv(b []byte) (string, error) {
	if len(b) < 8 {
		return "", sqlerr.New(sqlerr.ProtocolViolation, "insufficient data left in message")
	}
	ndigits := int(int16(binary.BigEndian.Uint16(b)))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(int16(binary.BigEndian.Uint16(b[6:])))
	switch sign {
	case 0x0000, 0x4000:
	case 0xC000:
		return "NaN", nil
	case 0xD000:
		return "Infinity", nil
	case 0xF000:
		return "-Infinity", nil
	default:
		return "", sqlerr.New(sqlerr.InvalidBinaryRepresentation, "invalid sign in external \"numeric\" value")
	}
	if ndigits < 0 || dscale < 0 || dscale > 0x3FFF {
		return "", sqlerr.New(sqlerr.InvalidBinaryRepresentation, "invalid scale in external \"numeric\" value")
	}
	if len(b) < 8+2*ndigits {
		return "", sqlerr.New(sqlerr.ProtocolViolation, "insufficient data left in message")
	}
	if len(b) > 8+2*ndigits {
		return "", sqlerr.New(sqlerr.InvalidBinaryRepresentation, "incorrect binary data format")
	}
	digits := make([]int, ndigits)
	for i := range digits {
		d := int(binary.BigEndian.Uint16(b[8+2*i:]))
		if d >= 10000 {
			return "", sqlerr.New(sqlerr.InvalidBinaryRepresentation, "invalid digit in external \"numeric\" value")
		}
		digits[i] = d
	}
	var sb strings.Builder
	if sign == 0x4000 {
		sb.WriteByte('-')
	}
	// Integer part: groups 0..weight.
	if weight < 0 {
		sb.WriteByte('0')
	} else {
		for g := 0; g <= weight; g++ {
			d := 0
			if g < ndigits {
				d = digits[g]
			}
			if g == 0 {
				sb.WriteString(strconv.Itoa(d))
			} else {
				fmt.Fprintf(&sb, "%04d", d)
			}
		}
	}
	if dscale > 0 {
		sb.WriteByte('.')
		var frac strings.Builder
		for g := weight + 1; frac.Len() < dscale; g++ {
			d := 0
			if g >= 0 && g < ndigits {
				d = digits[g]
			}
			fmt.Fprintf(&frac, "%04d", d)
		}
		sb.WriteString(frac.String()[:dscale])
	}
	return sb.String(), nil
}
