package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/interval"
	"github.com/weirdb/weir/internal/sqlerr"
)

// readPlan is a query that runs on DuckDB against the latest committed tick.
type readPlan struct {
	sql     string // with untyped parameters cast, as DuckDB needs
	columns []Column
	params  []uint32
	conv    []func(any) any
}

// describeRead prepares sql on DuckDB to learn its parameter and result types. DuckDB
// cannot type a bare `$1` whose use does not determine it (research §4.2), so such
// parameters are cast to the client's declared type, else to text, as PostgreSQL types
// an unknown.
func (d *DB) describeRead(ctx context.Context, sql string, paramOIDs []uint32) (*readPlan, error) {
	conn, err := d.store.DB().Conn(ctx)
	if err != nil {
		return nil, duckErr(err)
	}
	defer conn.Close()
	rp := &readPlan{sql: sql}
	describe := func(q string) (unresolved []int, err error) {
		return unresolved, conn.Raw(func(dc any) error {
			st, err := dc.(*duckdb.Conn).PrepareContext(ctx, q)
			if err != nil {
				return err
			}
			defer st.Close()
			s := st.(*duckdb.Stmt)
			rp.params = rp.params[:0]
			for i := 1; i <= s.NumInput(); i++ {
				t, err := s.ParamType(i)
				if err != nil {
					return err
				}
				if t == duckdb.TYPE_INVALID {
					unresolved = append(unresolved, i)
				}
				rp.params = append(rp.params, duckOID(t))
			}
			n, err := s.ColumnCount()
			if err != nil {
				return err
			}
			rp.columns, rp.conv = nil, nil
			for i := 0; i < n; i++ {
				name, _ := s.ColumnName(i)
				t, err := s.ColumnType(i)
				if err != nil {
					return err
				}
				oid := duckOID(t)
				rp.columns = append(rp.columns, Column{Name: name, OID: oid, TypeSize: typeSize(oid), TypeMod: -1})
				rp.conv = append(rp.conv, duckConv(t))
			}
			return nil
		})
	}
	unresolved, err := describe(sql)
	if err != nil || len(unresolved) > 0 || declaresTypes(paramOIDs) {
		rewritten, rerr := castParams(sql, paramOIDs)
		if rerr != nil {
			return nil, rerr
		}
		if rewritten != sql {
			rp.sql = rewritten
			unresolved, err = describe(rewritten)
		}
	}
	if err != nil {
		return nil, duckErr(err)
	}
	for _, i := range unresolved {
		rp.params[i-1] = catalog.Text.OID()
	}
	for i, oid := range paramOIDs {
		if oid != 0 && i < len(rp.params) {
			rp.params[i] = oid
		}
	}
	return rp, nil
}

func declaresTypes(oids []uint32) bool {
	for _, o := range oids {
		if o != 0 {
			return true
		}
	}
	return false
}

// castParams rewrites each $n token into CAST($n AS type): the client's declared type
// when it is one Weir knows, else VARCHAR. It works on the scanner's tokens, never on
// raw text, so a "$1" inside a string literal is left alone.
func castParams(sql string, oids []uint32) (string, error) {
	res, err := pg_query.Scan(sql)
	if err != nil {
		return sql, nil
	}
	var sb strings.Builder
	last := 0
	for _, t := range res.Tokens {
		if t.Token != pg_query.Token_PARAM {
			continue
		}
		var n int
		fmt.Sscanf(sql[t.Start+1:t.End], "%d", &n)
		typ := "VARCHAR"
		if n >= 1 && n <= len(oids) {
			if ct, ok := catalog.TypeByOID(oids[n-1]); ok {
				typ = ct.DuckDB()
			}
		}
		sb.WriteString(sql[last:t.Start])
		sb.WriteString("CAST(" + sql[t.Start:t.End] + " AS " + typ + ")")
		last = int(t.End)
	}
	sb.WriteString(sql[last:])
	return sb.String(), nil
}

func (d *DB) runRead(ctx context.Context, rp *readPlan, args []any) (*Rows, error) {
	d.flushForRead(ctx)
	if len(args) != len(rp.params) {
		return nil, sqlerr.New(sqlerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement requires %d", len(args), len(rp.params))
	}
	rows, err := d.store.DB().QueryContext(ctx, rp.sql, args...)
	if err != nil {
		return nil, duckErr(err)
	}
	return &Rows{cols: rp.columns, sqlRows: rows, conv: rp.conv}, nil
}

// duckOID maps a DuckDB type to the PostgreSQL OID clients see.
func duckOID(t duckdb.Type) uint32 {
	switch t {
	case duckdb.TYPE_BOOLEAN:
		return 16
	case duckdb.TYPE_TINYINT, duckdb.TYPE_SMALLINT, duckdb.TYPE_UTINYINT:
		return 21
	case duckdb.TYPE_INTEGER, duckdb.TYPE_USMALLINT:
		return 23
	case duckdb.TYPE_BIGINT, duckdb.TYPE_UINTEGER:
		return 20
	case duckdb.TYPE_FLOAT:
		return 700
	case duckdb.TYPE_DOUBLE:
		return 701
	case duckdb.TYPE_HUGEINT, duckdb.TYPE_UHUGEINT, duckdb.TYPE_UBIGINT, duckdb.TYPE_DECIMAL, duckdb.TYPE_BIGNUM:
		return 1700
	case duckdb.TYPE_TIMESTAMP, duckdb.TYPE_TIMESTAMP_S, duckdb.TYPE_TIMESTAMP_MS, duckdb.TYPE_TIMESTAMP_NS:
		return 1114
	case duckdb.TYPE_TIMESTAMP_TZ:
		return 1184
	case duckdb.TYPE_DATE:
		return 1082
	case duckdb.TYPE_INTERVAL:
		return 1186
	case duckdb.TYPE_BLOB:
		return 17
	case duckdb.TYPE_UUID:
		return 2950
	case duckdb.TYPE_LIST:
		return 1009 // text[]: lists go out in PostgreSQL's array text (pgArrayText)
	}
	return 25
}

func typeSize(oid uint32) int16 {
	switch oid {
	case 16:
		return 1
	case 21:
		return 2
	case 23, 700, 1082:
		return 4
	case 20, 701, 1114, 1184:
		return 8
	case 1186:
		return 16
	}
	return -1
}

// duckConv converts DuckDB's Go values for types whose wire form needs text.
func duckConv(t duckdb.Type) func(any) any {
	switch t {
	case duckdb.TYPE_DECIMAL:
		return func(v any) any {
			if dec, ok := v.(duckdb.Decimal); ok {
				return formatDecimal(dec)
			}
			return fmt.Sprint(v)
		}
	case duckdb.TYPE_HUGEINT, duckdb.TYPE_UHUGEINT, duckdb.TYPE_UBIGINT, duckdb.TYPE_BIGNUM:
		return func(v any) any { return fmt.Sprint(v) }
	case duckdb.TYPE_INTERVAL:
		return func(v any) any {
			if iv, ok := v.(duckdb.Interval); ok {
				return formatInterval(iv)
			}
			return fmt.Sprint(v)
		}
	case duckdb.TYPE_LIST:
		return pgArrayText
	case duckdb.TYPE_UTINYINT:
		return func(v any) any { return int16(v.(uint8)) }
	case duckdb.TYPE_TINYINT:
		return func(v any) any { return int16(v.(int8)) }
	case duckdb.TYPE_USMALLINT:
		return func(v any) any { return int32(v.(uint16)) }
	case duckdb.TYPE_UINTEGER:
		return func(v any) any { return int64(v.(uint32)) }
	case duckdb.TYPE_BOOLEAN, duckdb.TYPE_SMALLINT, duckdb.TYPE_INTEGER, duckdb.TYPE_BIGINT, duckdb.TYPE_FLOAT,
		duckdb.TYPE_DOUBLE, duckdb.TYPE_VARCHAR, duckdb.TYPE_TIMESTAMP, duckdb.TYPE_TIMESTAMP_TZ, duckdb.TYPE_DATE,
		duckdb.TYPE_TIMESTAMP_S, duckdb.TYPE_TIMESTAMP_MS, duckdb.TYPE_TIMESTAMP_NS, duckdb.TYPE_BLOB:
		return nil
	}
	return func(v any) any {
		if s, ok := v.(fmt.Stringer); ok {
			return s.String()
		}
		return fmt.Sprint(v)
	}
}

func formatDecimal(d duckdb.Decimal) string {
	v := new(big.Int).Set(d.Value)
	neg := v.Sign() < 0
	v.Abs(v)
	s := v.String()
	scale := int(d.Scale)
	if scale > 0 {
		for len(s) <= scale {
			s = "0" + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// formatInterval prints a DuckDB interval as PostgreSQL does (IntervalStyle postgres):
// DuckDB keeps months, days and microseconds apart, as PostgreSQL does.
func formatInterval(iv duckdb.Interval) string {
	return interval.Interval{Months: iv.Months, Days: iv.Days, Micros: iv.Micros}.String()
}

// duckErr maps a DuckDB error to a SQLSTATE.
func duckErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) {
		return sqlerr.Wrap(err, sqlerr.QueryCanceled, "canceling statement due to user request")
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) {
		return sqlerr.Wrap(err, sqlerr.ConnectionException, "")
	}
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return sqlerr.As(err)
	}
	msg := de.Msg
	code := sqlerr.Internal
	switch de.Type {
	case duckdb.ErrorTypeCatalog:
		code = sqlerr.UndefinedTable
		if strings.Contains(msg, "Function") || strings.Contains(msg, "function") {
			code = sqlerr.UndefinedFunction
		} else if strings.Contains(msg, "Schema") {
			code = "3F000"
		}
	case duckdb.ErrorTypeBinder:
		code = sqlerr.SyntaxError
		switch {
		case strings.Contains(msg, "Referenced column") || strings.Contains(msg, "not found in FROM clause") || strings.Contains(msg, "does not have a column"):
			code = sqlerr.UndefinedColumn
		case strings.Contains(msg, "No function matches") || strings.Contains(msg, "Function"):
			code = sqlerr.UndefinedFunction
		case strings.Contains(msg, "GROUP BY"):
			code = sqlerr.GroupingError
		case strings.Contains(msg, "ambiguous"):
			code = sqlerr.AmbiguousColumn
		case strings.Contains(msg, "Cannot compare") || strings.Contains(msg, "cast"):
			code = sqlerr.UndefinedFunction
		}
	case duckdb.ErrorTypeParser, duckdb.ErrorTypeSyntax:
		code = sqlerr.SyntaxError
	case duckdb.ErrorTypeConversion, duckdb.ErrorTypeInvalidInput:
		code = sqlerr.InvalidTextRepresentation
	case duckdb.ErrorTypeOutOfRange:
		code = sqlerr.NumericValueOutOfRange
	case duckdb.ErrorTypeDivideByZero:
		code = sqlerr.DivisionByZero
	case duckdb.ErrorTypeInterrupt:
		code = sqlerr.QueryCanceled
	case duckdb.ErrorTypeNotImplemented:
		code = sqlerr.FeatureNotSupported
	case duckdb.ErrorTypeOutOfMemory:
		code = sqlerr.OutOfMemory
	case duckdb.ErrorTypeIO:
		code = sqlerr.DiskFull
	case duckdb.ErrorTypeParameterNotResolved, duckdb.ErrorTypeParameterNotAllowed:
		code = "42P18"
	}
	return &sqlerr.Error{Code: code, Msg: msg, Err: err}
}
