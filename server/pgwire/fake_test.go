package pgwire

import (
	"context"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/weirdb/weir/internal/sqlerr"
)

// fakeEngine is a tiny in-memory Engine that understands a handful of statements:
//
//	SELECT <int>                 one int4 row
//	SELECT $1::int8, $2::text …  echoes its parameters (types: see fakeTypes); an untyped
//	                             $n takes the client's Parse OID, else text
//	SELECT types                 one row with a value of every type Weir emits
//	SELECT series <n>            n int8 rows 1..n
//	SELECT nope                  42703 at Prepare, with a Position
//	SELECT fail                  two rows, then 22012 from Next
//	SELECT block                 Execute waits for its context and returns ctx.Err()
//	SELECT panic                 Execute panics
//	BEGIN / COMMIT / ROLLBACK    transaction status T / I
//	INSERT …                     NoData, tag INSERT 0 1
//	SET …                        NoData, tag SET
//	COPY lines FROM STDIN [BINARY]   one text column (copy_test.go); a value "bad" fails
//	COPY (SELECT series <n>) TO STDOUT [CSV [HEADER]]   the series as COPY data
//
// Anything else is 42601 at position 1.
type fakeEngine struct {
	open    atomic.Int64  // sessions not yet closed
	blocked chan struct{} // receives once per SELECT block that has started waiting
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{blocked: make(chan struct{}, 16)}
}

func (e *fakeEngine) NewSession(_ context.Context, params map[string]string) (Session, error) {
	if params["user"] == "reject" {
		return nil, sqlerr.New("28000", "role %q does not exist", params["user"])
	}
	e.open.Add(1)
	return &fakeSession{eng: e, user: params["user"], tx: 'I'}, nil
}

type fakeSession struct {
	eng      *fakeEngine
	user     string
	mu       sync.Mutex
	tx       byte
	closed   bool
	settings map[string]string // SET values, reported after the standard parameters
	lines    []string          // rows stored by COPY lines FROM STDIN
}

func (s *fakeSession) Split(sql string) ([]string, error) {
	var out []string
	inQuote := false
	start := 0
	for i := 0; i < len(sql); i++ {
		switch {
		case sql[i] == '\'':
			inQuote = !inQuote
		case sql[i] == ';' && !inQuote:
			if p := strings.TrimSpace(sql[start:i]); p != "" {
				out = append(out, p)
			}
			start = i + 1
		}
	}
	if inQuote {
		return nil, sqlerr.New(sqlerr.SyntaxError, "unterminated quoted string").At(len(sql))
	}
	if p := strings.TrimSpace(sql[start:]); p != "" {
		out = append(out, p)
	}
	return out, nil
}

func (s *fakeSession) ParameterStatus() [][2]string {
	params := [][2]string{
		{"server_version", "15.0 (Weir)"},
		{"server_encoding", "UTF8"},
		{"client_encoding", "UTF8"},
		{"DateStyle", "ISO, MDY"},
		{"IntervalStyle", "postgres"},
		{"TimeZone", "UTC"},
		{"integer_datetimes", "on"},
		{"standard_conforming_strings", "on"},
		{"is_superuser", "off"},
		{"session_authorization", s.user},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(s.settings)) {
		params = append(params, [2]string{name, s.settings[name]})
	}
	return params
}

func (s *fakeSession) TxStatus() byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tx
}

func (s *fakeSession) setTx(b byte) {
	s.mu.Lock()
	s.tx = b
	s.mu.Unlock()
}

func (s *fakeSession) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.eng.open.Add(-1)
	}
	return nil
}

// fakeTypes maps the casts SELECT $n::type understands to OIDs.
var fakeTypes = map[string]uint32{
	"int2": pgtype.Int2OID, "int4": pgtype.Int4OID, "int": pgtype.Int4OID, "int8": pgtype.Int8OID,
	"float4": pgtype.Float4OID, "float8": pgtype.Float8OID, "numeric": pgtype.NumericOID,
	"text": pgtype.TextOID, "varchar": pgtype.VarcharOID, "bool": pgtype.BoolOID,
	"timestamptz": pgtype.TimestamptzOID, "timestamp": pgtype.TimestampOID, "date": pgtype.DateOID,
	"interval": pgtype.IntervalOID, "bytea": pgtype.ByteaOID, "jsonb": pgtype.JSONBOID, "json": pgtype.JSONOID,
}

// typesRow is the row of SELECT types; typesCols describes it.
var (
	typesCols = []Column{
		{Name: "i2", OID: pgtype.Int2OID}, {Name: "i4", OID: pgtype.Int4OID}, {Name: "i8", OID: pgtype.Int8OID},
		{Name: "f4", OID: pgtype.Float4OID}, {Name: "f8", OID: pgtype.Float8OID}, {Name: "num", OID: pgtype.NumericOID},
		{Name: "txt", OID: pgtype.TextOID}, {Name: "vc", OID: pgtype.VarcharOID}, {Name: "b", OID: pgtype.BoolOID},
		{Name: "tstz", OID: pgtype.TimestamptzOID}, {Name: "ts", OID: pgtype.TimestampOID}, {Name: "d", OID: pgtype.DateOID},
		{Name: "iv", OID: pgtype.IntervalOID}, {Name: "by", OID: pgtype.ByteaOID}, {Name: "jb", OID: pgtype.JSONBOID},
		{Name: "js", OID: pgtype.JSONOID}, {Name: "nul", OID: pgtype.TextOID}, {Name: "num_from_int", OID: pgtype.NumericOID},
		{Name: "i8_from_string", OID: pgtype.Int8OID},
	}
	typesRow = []any{
		int16(-2), int32(40000), int64(1) << 40,
		float32(1.5), 0.1, pgtype.Numeric{Int: big.NewInt(1250), Exp: -2, Valid: true},
		"héllo", "v", true,
		time.Date(2026, 1, 1, 12, 0, 0, 500_000_000, time.UTC), time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		pgtype.Interval{Months: 14, Days: 3, Microseconds: 4*3600e6 + 5*60e6 + 6e6, Valid: true}, []byte{0xde, 0xad},
		`{"a": 1}`, map[string]int{"b": 2}, nil, int64(7), "42",
	}
)

func (s *fakeSession) Prepare(ctx context.Context, sql string, paramOIDs []uint32) (Statement, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q := strings.Join(strings.Fields(sql), " ")
	lower := strings.ToLower(q)
	st := &fakeStmt{sess: s, sql: lower}
	switch {
	case strings.HasPrefix(lower, "begin"):
		st.sql, st.tag = "begin", "BEGIN"
	case lower == "commit" || lower == "rollback":
		st.tag = strings.ToUpper(lower)
	case strings.HasPrefix(lower, "insert"):
		st.tag = "INSERT 0 1"
	case strings.HasPrefix(lower, "copy "):
		return s.prepareCopy(lower)
	case strings.HasPrefix(lower, "set "):
		st.tag = "SET"
		name, value, _ := strings.Cut(q[len("set "):], "=")
		st.set = [2]string{strings.TrimSpace(name), strings.Trim(strings.TrimSpace(value), "'")}
	case lower == "select types":
		st.cols = typesCols
		st.rows = [][]any{typesRow}
	case strings.HasPrefix(lower, "select series "):
		n, err := strconv.Atoi(strings.TrimPrefix(lower, "select series "))
		if err != nil {
			return nil, sqlerr.New(sqlerr.SyntaxError, "bad series").At(15)
		}
		st.cols = []Column{{Name: "series", OID: pgtype.Int8OID, TypeSize: 8, TypeMod: -1}}
		for i := 1; i <= n; i++ {
			st.rows = append(st.rows, []any{int64(i)})
		}
	case lower == "select nope":
		return nil, sqlerr.New(sqlerr.UndefinedColumn, "column \"nope\" does not exist").At(8)
	case lower == "select fail":
		st.cols = []Column{{Name: "x", OID: pgtype.Int4OID}}
		st.rows = [][]any{{int32(1)}, {int32(2)}}
		st.failAfter = sqlerr.New(sqlerr.DivisionByZero, "division by zero")
	case lower == "select block", lower == "select panic":
		st.cols = []Column{{Name: "x", OID: pgtype.Int4OID}}
	case strings.HasPrefix(lower, "select $"), strings.HasPrefix(lower, "select '"), strings.HasPrefix(lower, "select null"):
		if err := st.echo(q[len("select "):], paramOIDs); err != nil {
			return nil, err
		}
	case strings.HasPrefix(lower, "select "):
		n, err := strconv.ParseInt(strings.TrimPrefix(lower, "select "), 10, 32)
		if err != nil {
			return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at or near %q", q).At(1)
		}
		st.cols = []Column{{Name: "?column?", OID: pgtype.Int4OID, TypeSize: 4, TypeMod: -1}}
		st.rows = [][]any{{int32(n)}}
	default:
		return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at or near %q", q).At(1)
	}
	return st, nil
}

type fakeStmt struct {
	sess      *fakeSession
	sql       string
	params    []uint32
	cols      []Column
	rows      [][]any
	echoing   bool
	literals  []any // per echoed column: nil for $n, fakeNull{}, or the literal's text
	tag       string
	failAfter error
	set       [2]string // SET name = value
}

// echo sets st up for SELECT $1::type, $2, … or, as pgx's simple protocol interpolates
// them, SELECT 'literal'::type, null, ….
func (st *fakeStmt) echo(list string, clientOIDs []uint32) error {
	st.echoing = true
	for i, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		val, typ, _ := strings.Cut(item, "::")
		val, typ = strings.TrimSpace(val), strings.ToLower(strings.TrimSpace(typ))
		switch {
		case val == "$"+strconv.Itoa(i+1):
			st.literals = append(st.literals, nil)
		case strings.EqualFold(val, "null"):
			st.literals = append(st.literals, fakeNull{})
		case len(val) >= 2 && val[0] == '\'' && val[len(val)-1] == '\'':
			st.literals = append(st.literals, strings.ReplaceAll(val[1:len(val)-1], "''", "'"))
		default:
			return sqlerr.New(sqlerr.SyntaxError, "unexpected %q", item)
		}
		if st.literals[i] != nil {
			clientOIDs = nil
		} else {
			st.params = append(st.params, 0)
		}
		oid := uint32(pgtype.TextOID)
		if i < len(clientOIDs) && clientOIDs[i] != 0 {
			oid = clientOIDs[i]
		}
		if typ != "" {
			var ok bool
			if oid, ok = fakeTypes[typ]; !ok {
				return sqlerr.New(sqlerr.UndefinedObject, "type %q does not exist", typ)
			}
		}
		name := typ
		if name == "" {
			name = "?column?"
		}
		if st.literals[i] == nil {
			st.params[len(st.params)-1] = oid
		}
		st.cols = append(st.cols, Column{Name: name, OID: oid, TypeMod: -1})
	}
	return nil
}

func (st *fakeStmt) ParamOIDs() []uint32 { return st.params }
func (st *fakeStmt) Columns() []Column   { return st.cols }

func (st *fakeStmt) Execute(ctx context.Context, params []any) (Rows, error) {
	if len(params) != len(st.params) {
		return nil, sqlerr.New(sqlerr.ProtocolViolation, "want %d params, got %d", len(st.params), len(params))
	}
	switch st.sql {
	case "select block":
		st.sess.eng.blocked <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	case "select panic":
		panic("fake engine exploded")
	case "begin":
		st.sess.setTx('T')
	case "commit", "rollback":
		st.sess.setTx('I')
	}
	if st.set[0] != "" {
		st.sess.mu.Lock()
		if st.sess.settings == nil {
			st.sess.settings = map[string]string{}
		}
		st.sess.settings[st.set[0]] = st.set[1]
		st.sess.mu.Unlock()
	}
	rows := st.rows
	if st.echoing {
		row := make([]any, 0, len(st.cols))
		for i, lit := range st.literals {
			switch lit := lit.(type) {
			case nil:
				row = append(row, params[0])
				params = params[1:]
			case fakeNull:
				row = append(row, nil)
			case string:
				// Decode the literal as an engine would cast it.
				v, err := newCodec().decodeParam(st.cols[i].OID, textFormat, []byte(lit))
				if err != nil {
					return nil, err
				}
				row = append(row, v)
			}
		}
		rows = [][]any{row}
	}
	tag := st.tag
	if st.cols != nil {
		tag = fmt.Sprintf("SELECT %d", len(rows))
	}
	return &fakeRows{ctx: ctx, cols: st.cols, rows: rows, tag: tag, failAfter: st.failAfter}, nil
}

type fakeNull struct{}

type fakeRows struct {
	ctx       context.Context
	cols      []Column
	rows      [][]any
	i         int
	tag       string
	err       error
	failAfter error
	closed    bool
}

func (r *fakeRows) Columns() []Column { return r.cols }

func (r *fakeRows) Next(dst []any) bool {
	if r.err != nil || r.closed {
		return false
	}
	if err := r.ctx.Err(); err != nil {
		r.err = err
		return false
	}
	if r.i >= len(r.rows) {
		r.err = r.failAfter
		return false
	}
	copy(dst, r.rows[r.i])
	r.i++
	return true
}

func (r *fakeRows) Err() error   { return r.err }
func (r *fakeRows) Tag() string  { return r.tag }
func (r *fakeRows) Close() error { r.closed = true; return nil }
