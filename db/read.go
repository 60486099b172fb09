package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/interval"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/storage/viewstore"
)

// readPlan is a query that runs on DuckDB against the latest committed tick.
type readPlan struct {
	base     string // the read as the client's text became after the catalog rewrite
	sql      string // as described: numerics rewritten, untyped parameters cast
	castAll  bool   // every parameter was cast (castParams) to describe the read
	numeric  bool   // the read names a relation with a plain numeric column (rewriteNumeric)
	declared []uint32
	views    []string // the views it reads, when it reads nothing else (memread.go)
	viewRefs int      // how many times it names them
	columns  []Column
	params   []uint32
	conv     []func(any) any
}

// nameColumns gives a read's result columns the names PostgreSQL gives them
// (planner.SelectNames) where DuckDB's differ: DuckDB names an unaliased item after its
// text ("count_star()", "sum(n)", "(n * 2)"), PostgreSQL after its function, column or
// cast type ("count", "sum", "?column?"). A column keeps DuckDB's name where the parse
// tree does not tell PostgreSQL's: a star's columns (their relation's names, which
// DuckDB gives too), and, when two or more stars leave their widths unknown, every
// column between the first and the last star.
func nameColumns(cols []Column, names []planner.ResultName) {
	stars := 0
	for _, n := range names {
		if n.Star {
			stars++
		}
	}
	if names == nil || len(cols) < len(names)-stars || stars == 0 && len(cols) != len(names) {
		return // not the list described (cannot happen for a SELECT): keep DuckDB's
	}
	set := func(i int, n planner.ResultName) {
		if n.Name != "" {
			cols[i].Name = n.Name
		}
	}
	// The items before the first star, from the start; those after the last, from the end.
	for i := 0; i < len(names) && !names[i].Star; i++ {
		set(i, names[i])
	}
	for k, c := len(names)-1, len(cols)-1; stars > 0 && !names[k].Star; k, c = k-1, c-1 {
		set(c, names[k])
	}
}

// describeRead prepares sql on DuckDB to learn its parameter and result types. DuckDB
// cannot type a bare `$1` whose use does not determine it (research §4.2), so such
// parameters are cast to the client's declared type, else to text, as PostgreSQL types
// an unknown. Numerics are rewritten first (rewriteNumeric), so that they compare and
// compute as numbers.
func (d *DB) describeRead(ctx context.Context, sql string, paramOIDs []uint32) (*readPlan, error) {
	conn, err := d.store.DB().Conn(ctx)
	if err != nil {
		return nil, duckErr(err)
	}
	defer conn.Close()
	rp := &readPlan{base: sql, declared: paramOIDs}
	rp.views, rp.viewRefs = d.memViews(sql)
	nr, err := d.rewriteNumeric(ctx, sql)
	if err != nil {
		return nil, err
	}
	rp.sql, rp.numeric = nr.sql, nr.touched
	if len(nr.numParams) > 0 {
		// A parameter compared with or added to a numeric column is numeric, as PostgreSQL
		// resolves an unknown beside a numeric.
		n := len(paramOIDs)
		for k := range nr.numParams {
			n = max(n, k)
		}
		paramOIDs = append(make([]uint32, 0, n), paramOIDs...)
		paramOIDs = paramOIDs[:n]
		for k := range nr.numParams {
			if k >= 1 && paramOIDs[k-1] == 0 {
				paramOIDs[k-1] = catalog.Numeric.OID()
			}
		}
		rp.declared = paramOIDs
	}
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
				if t == duckdb.TYPE_VARCHAR {
					if ti, err := s.ColumnTypeInfo(i); err == nil && ti.Alias() == "JSON" {
						oid = 114 // DuckDB's JSON is PostgreSQL's json
					}
				}
				col := Column{Name: name, OID: oid, TypeSize: typeSize(oid), TypeMod: -1}
				if t == duckdb.TYPE_DECIMAL {
					if !nr.callNames[name] {
						col.TypeMod = decimalTypmod(s, i, name, nr.typmods)
					}
				}
				rp.columns = append(rp.columns, col)
				rp.conv = append(rp.conv, duckConv(t))
			}
			return nil
		})
	}
	unresolved, err := describe(rp.sql)
	if err != nil || len(unresolved) > 0 || declaresTypes(paramOIDs) {
		rewritten, rerr := castParams(rp.sql, paramOIDs)
		if rerr != nil {
			return nil, rerr
		}
		if rewritten != rp.sql {
			rp.sql, rp.castAll = rewritten, true
			unresolved, err = describe(rewritten)
		}
	}
	if err != nil {
		return nil, duckErr(err)
	}
	for k, oid := range nr.kept {
		if k < len(rp.columns) {
			retype(&rp.columns[k], oid)
		}
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

// retype gives col the PostgreSQL type oid, which passThrough found for it, when DuckDB
// described it with the type that holds oid's values (text, or an integer for oid).
func retype(col *Column, oid uint32) {
	switch oid {
	case catalog.Numeric.OID(), catalog.Jsonb.OID(), 18, 19, 194, 2205, 2206, 4089, 4096:
		if col.OID != catalog.Text.OID() {
			return
		}
	case 26, 28:
		if col.OID != catalog.Int8.OID() && col.OID != catalog.Int4.OID() && col.OID != 1700 {
			return
		}
	case 1034:
		if col.OID != 1009 {
			return
		}
	default:
		return
	}
	col.OID, col.TypeSize = oid, typeSize(oid)
}

// decimalTypmod is the typmod PostgreSQL reports for a DECIMAL result column: numeric(p,s)
// when DuckDB keeps a numeric(p,s) column or cast of the read as it is (its name is no
// expression's), else -1 (an expression over numerics has no typmod in PostgreSQL).
func decimalTypmod(s *duckdb.Stmt, i int, name string, typmods map[[2]int32]bool) int32 {
	ti, err := s.ColumnTypeInfo(i)
	if err != nil {
		return -1
	}
	dd, ok := ti.Details().(*duckdb.DecimalDetails)
	if !ok || strings.ContainsAny(name, "()") {
		return -1
	}
	if typmods[[2]int32{int32(dd.Width), int32(dd.Scale)}] {
		return (int32(dd.Width)<<16 | int32(dd.Scale)) + 4
	}
	return -1
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
// when it is one Weir knows, else VARCHAR (a numeric is cast to a DECIMAL that serves to
// describe the read; runRead casts each numeric parameter to its value's own scale). It
// works on the scanner's tokens, never on raw text, so a "$1" inside a string literal is
// left alone.
func castParams(sql string, oids []uint32) (string, error) {
	return castParamsWith(sql, oids, true, func(int) string { return "" })
}

// numericParamCasts returns, for each numeric parameter given as decimal text, the cast
// that holds its value exactly: CAST(CAST($n AS VARCHAR) AS DECIMAL(38,s)) with s the
// value's own scale. DuckDB would otherwise coerce the parameter to the type of what it
// is compared with (DECIMAL(38,2) rounds 3.125 to 3.13) or compare strings.
func numericParamCasts(params []uint32, args []any) (map[int]string, error) {
	casts := map[int]string{}
	for i, oid := range params {
		if oid != catalog.Numeric.OID() || i >= len(args) {
			continue
		}
		s, ok := args[i].(string)
		if !ok {
			continue
		}
		scale, digits, ok := decimalShape(s)
		if !ok {
			return nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "invalid input syntax for type numeric: %q", s).WithDetail("parameter $%d", i+1)
		}
		if digits > maxDecimalDigits {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported,
				"numeric parameter $%d has %d digits: ad-hoc reads compute on numerics with at most %d", i+1, digits, maxDecimalDigits).
				WithDetail("value %s", s)
		}
		casts[i+1] = fmt.Sprintf("DECIMAL(%d,%d)", maxDecimalDigits, scale)
	}
	return casts, nil
}

// decimalShape returns the scale and the significant digit count (integer digits
// without leading zeros, plus the scale) of a plain decimal text.
func decimalShape(s string) (scale, digits int, ok bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, "+-")
	intPart, frac, _ := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return 0, 0, false
	}
	for _, c := range intPart + frac {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
	}
	intPart = strings.TrimLeft(intPart, "0")
	return len(frac), len(intPart) + len(frac), true
}

func (d *DB) runRead(ctx context.Context, rp *readPlan, args []any) (*Rows, error) {
	if len(args) != len(rp.params) {
		return nil, sqlerr.New(sqlerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement requires %d", len(args), len(rp.params))
	}
	if rp.views != nil {
		if rows, ok, err := d.readFromMemory(ctx, rp, args); ok {
			return rows, err
		}
	}
	// No flush commits between this read's flush and the start of its query (DuckDB
	// computes the result before QueryContext returns): the bounds of numeric columns'
	// scales taken in between (numshape.go) then cover every value the query reads.
	d.flushMu.Lock()
	defer d.flushMu.Unlock()
	d.flushForRead(ctx)
	q, err := d.readText(ctx, rp, args, nil)
	if err != nil {
		return nil, err
	}
	rows, err := d.queryDuck(ctx, q, args, len(rp.columns), nil)
	if err != nil {
		return nil, duckErr(err)
	}
	return &Rows{cols: rp.columns, duck: rows, conv: rp.conv}, nil
}

// readText is the text DuckDB runs for rp with args: as described, or, when it reads a
// plain numeric column or has a numeric parameter, rebuilt with the numeric columns'
// scales of now and each numeric parameter cast to its own.
func (d *DB) readText(ctx context.Context, rp *readPlan, args []any, lent *lentViews) (string, error) {
	casts, err := numericParamCasts(rp.params, args)
	if err != nil {
		return "", err
	}
	if !rp.numeric && len(casts) == 0 && lent == nil {
		return rp.sql, nil
	}
	nr, err := d.rewriteNumericFrom(ctx, rp.base, lent)
	if err != nil {
		return "", err
	}
	if lent != nil && nr.lentRefs != rp.viewRefs {
		return "", errNotLent
	}
	cast := func(n int) string {
		if c, ok := casts[n]; ok {
			return "CAST(CAST($" + fmt.Sprint(n) + " AS VARCHAR) AS " + c + ")"
		}
		return ""
	}
	return castParamsWith(nr.sql, rp.declared, rp.castAll, cast)
}

// castParamsWith casts parameters as describeRead did (all of them when all), with the
// parameters that wrap(n) names replaced by wrap(n)'s text.
func castParamsWith(sql string, declared []uint32, all bool, wrap func(n int) string) (string, error) {
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
		text := wrap(n)
		if text == "" && all {
			typ := "VARCHAR"
			if n >= 1 && n <= len(declared) {
				if ct, ok := catalog.TypeByOID(declared[n-1]); ok {
					typ = ct.DuckDB()
					if ct == catalog.Numeric {
						typ = "DECIMAL(38,10)"
					}
				}
			}
			text = "CAST(" + sql[t.Start:t.End] + " AS " + typ + ")"
		}
		if text == "" {
			continue
		}
		sb.WriteString(sql[last:t.Start])
		sb.WriteString(text)
		last = int(t.End)
	}
	sb.WriteString(sql[last:])
	return sb.String(), nil
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
	case 16, 18:
		return 1
	case 21:
		return 2
	case 19:
		return 64
	case 23, 26, 28, 700, 1082, 2205, 2206, 4089, 4096:
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

// maxDecimalDigits is the most digits DuckDB's DECIMAL holds, and so the most an ad-hoc
// read computes on in one numeric value (see rewriteNumeric).
const maxDecimalDigits = 38

// numericRead is a read after rewriteNumeric.
type numericRead struct {
	sql       string
	touched   bool              // a relation, literal or call was rewritten
	typmods   map[[2]int32]bool // the numeric(p,s) modifiers of the read's columns and casts
	numParams map[int]bool      // parameters that are numeric by their use (compared with or added to a numeric column)
	callNames map[string]bool   // the names given to bare calls in the select list
	kept      map[int]uint32    // result columns whose PostgreSQL type DuckDB's does not tell (passThrough)
	lentRefs  int               // references to lent views replaced by their snapshots (memread.go)
}

// rewriteNumeric makes a read compute on numerics exactly, as PostgreSQL does.
//
// The view store keeps a numeric column without precision (a view's sum(amount),
// avg(n), a table's plain numeric) as its PostgreSQL text, since each value has its own
// scale and any number of digits. A read naming such a relation reads it through a
// subquery that casts each of those columns to DECIMAL(38,s), s being the column's
// largest scale (an upper bound kept by numshape.go; a view column defined as a cast to
// numeric(p,s), or as a column of that type, to DECIMAL(p,s), and it reports that
// typmod), so comparisons, ORDER BY, sum, min and max are DuckDB's exact decimal
// arithmetic and the column reaches clients as numeric. A value with more digits than
// DECIMAL(38,s) holds makes the read fail with 0A000 (never rounded or compared as a
// string). No flush commits between taking the bound and the query's start (runRead
// holds flushMu), so no value the query reads is wider than the bound.
//
// Around numeric columns (plain or numeric(p,s)): a string literal compared with, added
// to or listed against one ('3.125') becomes DECIMAL(38, its own scale), where DuckDB
// would round it to the column's scale; a parameter there is numeric (runRead casts it
// to its value's own scale); x::numeric without modifiers is DECIMAL(38, x's scale) for
// a literal or numeric column, where DuckDB's NUMERIC is DECIMAL(18,3).
//
// avg(col) of a numeric or integer column becomes weir_numeric_avg(sum(col), count(col),
// r): PostgreSQL's numeric division of the sum by the count (internal/decimal.Div). As a
// select-list item of the outermost SELECT it passes through as its exact text, typed
// numeric (ORDER BY it orders by the number); elsewhere it is a DECIMAL(38,r) (see
// avgPlan.expr), and an average whose quotient needs more digits fails rather than being
// rounded. A select-list item that is a bare function call is named after the function,
// as in PostgreSQL.
//
// Limits: values compute with at most 38 digits; a plain column and an average passed
// through print exactly, but a value computed from a plain column (sum, min, a column
// under DISTINCT or out of a subquery) prints with the column's largest scale, where
// PostgreSQL keeps each value's own (1.5 in a column that also holds 2.25 prints as 1.50:
// equal as numbers, not as text).
func (d *DB) rewriteNumeric(ctx context.Context, sql string) (numericRead, error) {
	return d.rewriteNumericFrom(ctx, sql, nil)
}

// rewriteNumericFrom is rewriteNumeric with every reference to a view lent reading
// its snapshot (weir_batch) instead of its table (memread.go).
func (d *DB) rewriteNumericFrom(ctx context.Context, sql string, lent *lentViews) (numericRead, error) {
	out := numericRead{sql: sql, typmods: map[[2]int32]bool{}, numParams: map[int]bool{}, callNames: map[string]bool{}, kept: map[int]uint32{}}
	lower := strings.ToLower(sql)
	if !strings.Contains(lower, "from") && !strings.Contains(lower, "numeric") && !strings.Contains(lower, "decimal") {
		return out, nil
	}
	tree, err := pg_query.Parse(sql)
	if err != nil {
		return out, nil // DuckDB reports it
	}
	var (
		rvs     []*pg_query.RangeVar
		calls   []*pg_query.FuncCall
		exprs   []*pg_query.A_Expr
		casts   []*pg_query.TypeCast
		sels    []*pg_query.SelectStmt
		bare    = map[*pg_query.FuncCall]bool{} // calls that are a select-list item without a name
		ctes    = map[string]bool{}
		numeric = func(tn *pg_query.TypeName) bool {
			if tn == nil || len(tn.Names) == 0 {
				return false
			}
			n := tn.Names[len(tn.Names)-1].GetString_().GetSval()
			return n == "numeric" || n == "decimal"
		}
	)
	walkMessages(tree.ProtoReflect(), func(m proto.Message) {
		switch v := m.(type) {
		case *pg_query.RangeVar:
			rvs = append(rvs, v)
		case *pg_query.CommonTableExpr:
			ctes[v.Ctename] = true
		case *pg_query.SelectStmt:
			sels = append(sels, v)
		case *pg_query.ResTarget:
			if fc := v.GetVal().GetFuncCall(); fc != nil && v.Name == "" {
				bare[fc] = true
			}
		case *pg_query.FuncCall:
			calls = append(calls, v)
		case *pg_query.A_Expr:
			exprs = append(exprs, v)
		case *pg_query.TypeCast:
			casts = append(casts, v)
		case *pg_query.TypeName:
			if numeric(v) && len(v.Typmods) > 0 {
				p := v.Typmods[0].GetAConst().GetIval().GetIval()
				s := int32(0)
				if len(v.Typmods) > 1 {
					s = v.Typmods[1].GetAConst().GetIval().GetIval()
				}
				out.typmods[[2]int32{p, s}] = true
			}
		}
	})
	if len(sels) == 0 {
		return out, nil
	}
	scan, err := pg_query.Scan(sql)
	if err != nil {
		return out, nil
	}
	toks := scan.Tokens
	tokAt := map[int32]int{}
	for i, t := range toks {
		tokAt[t.Start] = i
	}
	text := func(i int) string { return sql[toks[i].Start:toks[i].End] }
	nameEnd := func(i int) int { return qualifiedNameEnd(sql, toks, i) }
	type edit struct {
		start, end int
		text       string
	}
	var edits []edit
	replace := func(first, last int, s string) {
		edits = append(edits, edit{int(toks[first].Start), int(toks[last].End), s})
	}

	// The relations: plain numeric columns read as DECIMAL.
	type numCol struct {
		decimal string // its DuckDB type in the read
		scale   int
		ints    int // integer digits it holds
	}
	cols := map[string]*numCol{} // column name → the numeric column of that name, nil when another type has it
	refs := map[*pg_query.RangeVar]*relRef{}
	intCols := map[string]int{} // integer column name → its type's digits, for avg
	for _, rv := range rvs {
		if rv.Schemaname != "" && rv.Schemaname != "public" && rv.Schemaname != "main" || rv.Catalogname != "" || ctes[rv.Relname] {
			continue
		}
		rel, err := d.cat.Get(rv.Relname)
		if err != nil {
			if oids := catalogColumnOIDs[strings.TrimPrefix(rv.Relname, "weir_")]; oids != nil && strings.HasPrefix(rv.Relname, "weir_pg_") {
				// A catalog relation (rewriteCatalog named it weir_pg_*): its name and oid columns.
				ref := &relRef{rel: &catalog.Relation{Name: rv.Relname}, alias: rv.Relname, oids: oids}
				if rv.Alias != nil {
					ref.alias = rv.Alias.Aliasname
				}
				for _, c := range d.catalogColumns(ctx, rv.Relname) {
					ref.rel.Columns = append(ref.rel.Columns, catalog.Column{Name: c})
				}
				refs[rv] = ref
			}
			continue
		}
		plain, _ := plainNumeric(rel)
		shapes, err := lent.shapesFor(ctx, d, rel, plain) // numshape.go
		if err != nil {
			return out, err
		}
		viewMods := viewTypmods(d, rel)
		ref := &relRef{rel: rel, alias: rv.Relname, text: map[string]bool{}, oids: map[string]uint32{}}
		if rv.Alias != nil {
			ref.alias = rv.Alias.Aliasname
		}
		for _, c := range rel.Columns {
			if c.Type == catalog.Jsonb {
				ref.oids[c.Name] = catalog.Jsonb.OID()
			}
		}
		refs[rv] = ref
		items := make([]string, len(rel.Columns))
		for k, c := range rel.Columns {
			q := viewstore.Quote(c.Name)
			items[k] = q
			var nc *numCol
			switch {
			case c.Type != catalog.Numeric:
			case c.DuckDB() != c.Type.DuckDB():
				out.typmods[[2]int32{c.Precision, c.Scale}] = true
				nc = &numCol{c.DuckDB(), int(c.Scale), int(c.Precision - c.Scale)}
			default:
				sh := shapes[c.Name]
				// DECIMAL(18,s) is a 64-bit integer in DuckDB, DECIMAL(38,s) a 128-bit one:
				// far slower to cast to and to add up, so the narrower type when it holds.
				width := maxDecimalDigits
				if sh.scale+sh.intDigits <= 18 {
					width = 18
				}
				nc = &numCol{fmt.Sprintf("DECIMAL(%d,%d)", width, sh.scale), sh.scale, sh.intDigits}
				if m := viewMods[k]; m[0] > 0 && int(m[1]) >= sh.scale && int(m[0]-m[1]) >= sh.intDigits {
					out.typmods[m] = true
					nc = &numCol{fmt.Sprintf("DECIMAL(%d,%d)", m[0], m[1]), int(m[1]), int(m[0] - m[1])}
				} else {
					ref.text[c.Name] = true
					ref.hidden = append(ref.hidden, textName(c.Name))
				}
				items[k] = fmt.Sprintf("CAST(%s AS %s) AS %s", q, nc.decimal, q)
			}
			if c.Type.IsInteger() {
				if _, seen := intCols[c.Name]; !seen {
					intCols[c.Name] = map[catalog.Type]int{catalog.Int2: 5, catalog.Int4: 10, catalog.Int8: 19}[c.Type]
				}
			}
			if prev, seen := cols[c.Name]; !seen {
				cols[c.Name] = nc
			} else if prev != nil && (nc == nil || nc.scale > prev.scale) {
				cols[c.Name] = nc
			}
		}
		i, ok := tokAt[rv.Location]
		token, isLent := lent.token(rel.Name)
		if len(plain) == 0 || !ok {
			if isLent && ok {
				s := fmt.Sprintf("weir_batch(%d)", token)
				if rv.Alias == nil {
					s += " AS " + viewstore.Quote(rel.Name)
				}
				replace(i, nameEnd(i), s)
				out.lentRefs++
			}
			continue
		}
		for k, c := range rel.Columns {
			if ref.text[c.Name] {
				text := viewstore.Quote(c.Name)
				if isLent && lent.lentInt(rel.Name, k) {
					text = "CAST(" + text + " AS VARCHAR)"
				}
				items = append(items, text+" AS "+viewstore.Quote(textName(c.Name)))
			}
		}
		from := "main." + viewstore.Quote(rel.Name)
		if isLent {
			from = fmt.Sprintf("weir_batch(%d)", token)
			out.lentRefs++
		}
		s := "(SELECT " + strings.Join(items, ", ") + " FROM " + from + ")"
		if rv.Alias == nil {
			s += " AS " + viewstore.Quote(rel.Name)
		}
		replace(i, nameEnd(i), s)
	}
	colOf := func(n *pg_query.Node) *numCol {
		cr := n.GetColumnRef()
		if cr == nil || len(cr.Fields) == 0 {
			return nil
		}
		return cols[cr.Fields[len(cr.Fields)-1].GetString_().GetSval()]
	}

	// Literals and parameters beside a numeric column.
	literal := func(c *pg_query.A_Const) error {
		if c == nil || c.GetSval() == nil {
			return nil
		}
		scale, digits, ok := decimalShape(c.GetSval().Sval)
		i, found := tokAt[c.Location]
		if !ok || !found {
			return nil
		}
		if digits > maxDecimalDigits {
			return sqlerr.New(sqlerr.FeatureNotSupported, "numeric literal %s has %d digits: ad-hoc reads compute on numerics with at most %d",
				text(i), digits, maxDecimalDigits)
		}
		replace(i, i, fmt.Sprintf("CAST(%s AS DECIMAL(%d,%d))", text(i), maxDecimalDigits, scale))
		return nil
	}
	operands := func(n *pg_query.Node) []*pg_query.Node {
		if l := n.GetList(); l != nil {
			return l.Items
		}
		return []*pg_query.Node{n}
	}
	for _, e := range exprs {
		if e.Lexpr == nil || e.Rexpr == nil {
			continue
		}
		for _, side := range [][2]*pg_query.Node{{e.Lexpr, e.Rexpr}, {e.Rexpr, e.Lexpr}} {
			if colOf(side[0]) == nil {
				continue
			}
			for _, o := range operands(side[1]) {
				if err := literal(o.GetAConst()); err != nil {
					return out, err
				}
				if pr := o.GetParamRef(); pr != nil {
					out.numParams[int(pr.Number)] = true
				}
			}
		}
	}
	// x::numeric: DECIMAL(38, x's scale) for a literal or numeric column.
	for _, c := range casts {
		if !numeric(c.TypeName) || len(c.TypeName.Typmods) > 0 {
			continue
		}
		i, ok := tokAt[c.TypeName.Location]
		if !ok {
			continue
		}
		typ := ""
		if nc := colOf(c.Arg); nc != nil {
			typ = nc.decimal
		} else if k := c.Arg.GetAConst(); k != nil {
			lit := ""
			switch {
			case k.GetSval() != nil:
				lit = k.GetSval().Sval
			case k.GetFval() != nil:
				lit = k.GetFval().Fval
			case k.GetIval() != nil:
				lit = fmt.Sprint(k.GetIval().Ival)
			}
			if scale, digits, ok := decimalShape(lit); ok && digits <= maxDecimalDigits {
				typ = fmt.Sprintf("DECIMAL(%d,%d)", maxDecimalDigits, scale)
			}
		} else if pr := c.Arg.GetParamRef(); pr != nil {
			out.numParams[int(pr.Number)] = true
		}
		if typ != "" {
			replace(i, nameEnd(i), typ)
		}
	}

	// avg(numeric column), and names for bare calls.
	avgs := map[*pg_query.FuncCall]*avgPlan{}
	for _, fc := range calls {
		i, ok := tokAt[fc.Location]
		if !ok || len(fc.Funcname) == 0 {
			continue
		}
		fname := fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval()
		open := nameEnd(i) + 1
		if open >= len(toks) || text(open) != "(" {
			continue
		}
		closeAt := matchTokenParen(sql, toks, open)
		if closeAt < 0 {
			continue
		}
		end := closeAt
		for _, kw := range []string{"filter", "over"} {
			if end+1 < len(toks) && strings.EqualFold(text(end+1), kw) {
				if end+2 < len(toks) && text(end+2) == "(" {
					if c := matchTokenParen(sql, toks, end+2); c > 0 {
						end = c
					}
				} else if kw == "over" && end+2 < len(toks) {
					end += 2 // OVER window_name
				}
			}
		}
		var nc *numCol
		if fname == "avg" && len(fc.Args) == 1 && !fc.AggStar && len(fc.AggOrder) == 0 {
			nc = colOf(fc.Args[0])
			if cr := fc.Args[0].GetColumnRef(); nc == nil && cr != nil && len(cr.Fields) > 0 {
				// avg of an integer column is numeric in PostgreSQL too (DuckDB's is a double).
				if digits, ok := intCols[cr.Fields[len(cr.Fields)-1].GetString_().GetSval()]; ok {
					nc = &numCol{decimal: "", scale: 0, ints: digits}
				}
			}
		}
		switch {
		case nc != nil:
			avgs[fc] = &avgPlan{first: i, last: end, arg: sql[toks[open].End:toks[closeAt].Start],
				suffix: sql[toks[closeAt].End:toks[end].End], scale: nc.scale, ints: nc.ints, bare: bare[fc]}
		case bare[fc] && len(edits) > 0:
			edits = append(edits, edit{int(toks[end].End), int(toks[end].End), ` AS "` + fname + `"`})
			out.callNames[fname] = true
		}
	}

	// Stars leave the text columns out; the outermost select list passes plain numeric
	// columns and averages through as their text.
	for _, sel := range sels {
		top := len(tree.Stmts) == 1 && tree.Stmts[0].Stmt.GetSelectStmt() == sel
		if err := passThrough(sel, top, refs, avgs, toks, tokAt, text, &out, replace); err != nil {
			return out, err
		}
	}
	for _, a := range avgs {
		s := a.expr(a.text)
		if a.bare {
			s += ` AS "avg"`
			out.callNames["avg"] = true
		}
		replace(a.first, a.last, s)
	}
	if len(edits) == 0 {
		return out, nil
	}
	sort.SliceStable(edits, func(a, b int) bool { return edits[a].start < edits[b].start })
	var sb strings.Builder
	last := 0
	for _, e := range edits {
		if e.start < last {
			continue // inside an edit already made (a literal inside a rewritten avg)
		}
		sb.WriteString(sql[last:e.start])
		sb.WriteString(e.text)
		last = e.end
	}
	sb.WriteString(sql[last:])
	out.sql, out.touched = sb.String(), true
	return out, nil
}

// relRef is a relation a read names, as rewriteNumeric reads it.
type relRef struct {
	rel    *catalog.Relation
	alias  string            // the name the read knows it by
	text   map[string]bool   // plain numeric columns that also come as their text (textName)
	hidden []string          // those text columns' names
	oids   map[string]uint32 // columns whose PostgreSQL type DuckDB's does not tell (jsonb, a catalog's name and oid)
}

// textName is the name of the column carrying a plain numeric column's text in a
// rewritten relation.
func textName(col string) string { return "weir$" + col }

// resultFunctions are the PostgreSQL types of calls whose DuckDB type does not tell them,
// as rewriteCatalog spells the calls: a select-list item that is one of them has its type.
var resultFunctions = map[string]uint32{
	"weir_pg_regclass_name": 2205, "weir_pg_regtype_name": 2206, "weir_pg_get_userbyid": 19,
	"weir_pg_current_database": 19, "weir_pg_current_schema": 19, "weir_pg_regnamespace_name": 4089,
	"weir_pg_regrole_name": 4096,
}

// passThrough types and rewrites sel's select list where DuckDB's types fall short.
//
// Stars over rewritten relations leave the text columns out. When sel is the
// statement's outermost plain SELECT (no DISTINCT, GROUP BY or set operation) over
// relations only, plain numeric columns that are select-list items of their own (or come
// from a star) pass through as their text: PostgreSQL prints each value with its own
// scale, which DECIMAL(38,s) would lose; ORDER BY items naming such an output (by
// position or name) order by the DECIMAL column instead. In the outermost SELECT, a
// column passed through whose PostgreSQL type DuckDB's does not tell (jsonb; name, oid in
// the catalogs), a call in resultFunctions and a cast to name or oid get that type.
func passThrough(sel *pg_query.SelectStmt, top bool, refs map[*pg_query.RangeVar]*relRef, avgs map[*pg_query.FuncCall]*avgPlan, toks []*pg_query.ScanToken,
	tokAt map[int32]int, text func(int) string, out *numericRead, replace func(first, last int, s string),
) error {
	var scope []*relRef
	simple := true
	var from func(n *pg_query.Node)
	from = func(n *pg_query.Node) {
		switch {
		case n.GetRangeVar() != nil:
			if r, ok := refs[n.GetRangeVar()]; ok {
				scope = append(scope, r)
			} else {
				simple = false
			}
		case n.GetJoinExpr() != nil:
			j := n.GetJoinExpr()
			if j.IsNatural || len(j.UsingClause) > 0 {
				simple = false
			}
			from(j.Larg)
			from(j.Rarg)
		default:
			simple = false
		}
	}
	for _, n := range sel.FromClause {
		from(n)
	}
	typing := top && sel.Op == pg_query.SetOperation_SETOP_NONE
	swap := typing && simple && len(sel.DistinctClause) == 0 && len(sel.GroupClause) == 0 && sel.HavingClause == nil && len(scope) > 0
	type output struct {
		ref     *relRef
		col     string
		name    string
		oid     uint32
		swapped bool     // the text column passes through in place of the DECIMAL
		avg     *avgPlan // an average passed through as its text
	}
	kept := map[int]output{} // 0-based output position → what it passes through
	pos := 0
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		val := rt.GetVal()
		if typing {
			if fc := val.GetFuncCall(); fc != nil && len(fc.Funcname) > 0 {
				if oid := resultFunctions[fc.Funcname[len(fc.Funcname)-1].GetString_().GetSval()]; oid != 0 {
					kept[pos] = output{oid: oid}
				}
				if a := avgs[fc]; a != nil && len(sel.DistinctClause) == 0 {
					// Equal averages may print differently (PostgreSQL's scale follows the
					// sum's and count's magnitudes), so not under DISTINCT.
					a.text = true
					name := rt.Name
					if name == "" {
						name = "avg"
					}
					kept[pos] = output{name: name, oid: catalog.Numeric.OID(), avg: a}
				}
			}
			if tc := val.GetTypeCast(); tc != nil && len(tc.TypeName.GetNames()) > 0 {
				switch tc.TypeName.Names[len(tc.TypeName.Names)-1].GetString_().GetSval() {
				case "name":
					kept[pos] = output{oid: 19}
				case "oid":
					kept[pos] = output{oid: 26}
				}
			}
		}
		cr := val.GetColumnRef()
		if cr == nil || len(cr.Fields) == 0 {
			pos++
			continue
		}
		last := cr.Fields[len(cr.Fields)-1]
		var qual string
		if len(cr.Fields) >= 2 {
			qual = cr.Fields[len(cr.Fields)-2].GetString_().GetSval()
		}
		i, ok := tokAt[cr.Location]
		if !ok {
			return nil
		}
		end := i
		for end+2 < len(toks) && text(end+1) == "." {
			end += 2
		}
		if last.GetAStar() != nil {
			var hidden, repl []string
			names := map[string]int{}
			n := 0
			for _, r := range scope {
				if qual != "" && r.alias != qual {
					continue
				}
				hidden = append(hidden, r.hidden...)
				for _, c := range r.rel.Columns {
					names[c.Name]++
					switch {
					case swap && r.text[c.Name]:
						kept[pos+n] = output{ref: r, col: c.Name, name: c.Name, oid: catalog.Numeric.OID(), swapped: true}
						repl = append(repl, viewstore.Quote(r.alias)+"."+viewstore.Quote(textName(c.Name))+" AS "+viewstore.Quote(c.Name))
					case typing && r.oids[c.Name] != 0:
						kept[pos+n] = output{oid: r.oids[c.Name]}
					}
					n++
				}
			}
			if !simple {
				typing, swap = false, false // the star's width is unknown: nothing after it is typed
				for k := pos; k < pos+n; k++ {
					delete(kept, k)
				}
			}
			for _, r := range repl { // REPLACE needs each replaced name once
				name := r[strings.LastIndex(r, " AS ")+4:]
				if names[strings.Trim(name, `"`)] > 1 {
					repl = nil
					for k := pos; k < pos+n; k++ {
						if kept[k].swapped {
							delete(kept, k)
						}
					}
					break
				}
			}
			pos += n
			if len(hidden) == 0 {
				continue
			}
			quoted := make([]string, len(hidden))
			for k, h := range hidden {
				quoted[k] = viewstore.Quote(h)
			}
			s := text(end) + " EXCLUDE (" + strings.Join(quoted, ", ") + ")"
			if len(repl) > 0 {
				s += " REPLACE (" + strings.Join(repl, ", ") + ")"
			}
			replace(end, end, s)
			continue
		}
		col := last.GetString_().GetSval()
		var match *relRef
		for _, r := range scope {
			if (qual == "" || r.alias == qual) && r.rel.ColumnIndex(col) >= 0 {
				if match != nil {
					match = nil // ambiguous: DuckDB says so
					break
				}
				match = r
			}
		}
		switch {
		case swap && match != nil && match.text[col]:
			name := rt.Name
			s := viewstore.Quote(match.alias) + "." + viewstore.Quote(textName(col))
			if name == "" {
				name = col
				s += " AS " + viewstore.Quote(col)
			}
			kept[pos] = output{ref: match, col: col, name: name, oid: catalog.Numeric.OID(), swapped: true}
			replace(i, end, s)
		case typing && match != nil && match.oids[col] != 0:
			kept[pos] = output{oid: match.oids[col]}
		}
		pos++
	}
	if len(kept) == 0 {
		return nil
	}
	byName := map[string]output{}
	for k, o := range kept {
		if o.swapped || o.avg != nil {
			byName[o.name] = o
		}
		out.kept[k] = o.oid
	}
	for _, n := range sel.SortClause {
		sb := n.GetSortBy()
		if sb == nil {
			continue
		}
		var o output
		var at int32
		switch {
		case sb.Node.GetAConst() != nil && sb.Node.GetAConst().GetIval() != nil:
			c := sb.Node.GetAConst()
			o = kept[int(c.GetIval().Ival)-1]
			at = c.Location
		case sb.Node.GetColumnRef() != nil && len(sb.Node.GetColumnRef().Fields) == 1:
			cr := sb.Node.GetColumnRef()
			o = byName[cr.Fields[0].GetString_().GetSval()]
			at = cr.Location
		}
		i, ok := tokAt[at]
		switch {
		case !ok:
		case o.swapped:
			replace(i, i, viewstore.Quote(o.ref.alias)+"."+viewstore.Quote(o.col))
		case o.avg != nil:
			replace(i, i, o.avg.expr(false)) // order by the number, not its text
		}
	}
	return nil
}

// viewTypmods returns, for each column of a view, the numeric(p,s) PostgreSQL gives it
// (zero when none): a select-list item that is a cast to numeric(p,s), or a column of a
// relation's numeric(p,s) column. The view store keeps such columns as text (a view's
// columns carry no modifiers), so reads cast them back.
func viewTypmods(d *DB, rel *catalog.Relation) [][2]int32 {
	out := make([][2]int32, len(rel.Columns))
	if rel.Kind != catalog.View || rel.Query == "" {
		return out
	}
	tree, err := pg_query.Parse(rel.Query)
	if err != nil || len(tree.Stmts) != 1 {
		return out
	}
	sel := tree.Stmts[0].Stmt.GetSelectStmt()
	if sel == nil || len(sel.TargetList) != len(rel.Columns) {
		return out
	}
	var from []*catalog.Relation
	for _, f := range sel.FromClause {
		if rv := f.GetRangeVar(); rv != nil {
			if r, err := d.cat.Get(rv.Relname); err == nil {
				from = append(from, r)
			}
		}
	}
	for i, t := range sel.TargetList {
		v := t.GetResTarget().GetVal()
		if tc := v.GetTypeCast(); tc != nil {
			tn := tc.TypeName
			if len(tn.Names) > 0 && len(tn.Typmods) > 0 {
				switch tn.Names[len(tn.Names)-1].GetString_().GetSval() {
				case "numeric", "decimal":
					p := tn.Typmods[0].GetAConst().GetIval().GetIval()
					s := int32(0)
					if len(tn.Typmods) > 1 {
						s = tn.Typmods[1].GetAConst().GetIval().GetIval()
					}
					out[i] = [2]int32{p, s}
				}
			}
			continue
		}
		if cr := v.GetColumnRef(); cr != nil && len(cr.Fields) > 0 {
			name := cr.Fields[len(cr.Fields)-1].GetString_().GetSval()
			for _, r := range from {
				if k := r.ColumnIndex(name); k >= 0 {
					if c := r.Columns[k]; c.Type == catalog.Numeric && c.Precision > 0 {
						out[i] = [2]int32{c.Precision, c.Scale}
					}
					break
				}
			}
		}
	}
	return out
}

// avgPlan is an avg(col) of a numeric or integer column that rewriteNumeric replaces.
type avgPlan struct {
	first, last int    // its tokens, FILTER and OVER included
	arg, suffix string // the text in its parentheses, and its FILTER and OVER clauses
	scale, ints int    // the column's largest scale and integer digits
	bare        bool   // a select-list item without a name
	text        bool   // passed through to the client as its text (passThrough)
}

// expr is the average as PostgreSQL's numeric division of sum by count: its exact text
// (typed numeric by passThrough) when text, else a DECIMAL(38,r) to compute with, r being
// max(scale, 20) (PostgreSQL's display scale for an average of at least 0.0001) within
// the 38 digits; a quotient needing more is an error (22003), never rounded.
func (a *avgPlan) expr(text bool) string {
	call := func(r int) string {
		return fmt.Sprintf("weir_numeric_avg(CAST(sum(%s)%s AS VARCHAR), count(%s)%s, %d)", a.arg, a.suffix, a.arg, a.suffix, r)
	}
	if text {
		return call(-1)
	}
	r := max(a.scale, min(maxDecimalDigits-a.ints, 20))
	return fmt.Sprintf("CAST(%s AS DECIMAL(%d,%d))", call(r), maxDecimalDigits, r)
}

// colShape is a plain numeric column's largest scale and integer digit count.
type colShape struct{ scale, intDigits int }

// numericShapes returns, for each of rel's plain numeric columns, the largest scale and
// integer digit count among its values now (a scan of the store: numshape.go keeps the
// bound between reads).
func (d *DB) numericShapes(ctx context.Context, rel *catalog.Relation, cols []catalog.Column) (map[string]colShape, error) {
	if len(cols) == 0 {
		return nil, nil
	}
	var items []string
	for _, c := range cols {
		q := viewstore.Quote(c.Name)
		items = append(items, "coalesce(max(length(split_part("+q+", '.', 2))), 0)",
			"coalesce(max(length(ltrim(split_part(ltrim("+q+", '-'), '.', 1), '0'))), 0)")
	}
	vals := make([]int64, len(items))
	ptrs := make([]any, len(items))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := d.store.DB().QueryRowContext(ctx, "SELECT "+strings.Join(items, ", ")+" FROM main."+viewstore.Quote(rel.Name)).Scan(ptrs...); err != nil {
		return nil, duckErr(err)
	}
	out := map[string]colShape{}
	for i, c := range cols {
		out[c.Name] = colShape{int(vals[2*i]), int(vals[2*i+1])}
	}
	return out, nil
}

// checkShape fails with 0A000 when column c of rel holds numerics wider than DECIMAL.
func checkShape(rel *catalog.Relation, c catalog.Column, sh colShape) error {
	if sh.scale+sh.intDigits <= maxDecimalDigits {
		return nil
	}
	return sqlerr.New(sqlerr.FeatureNotSupported,
		"column %s of %s holds numeric values of up to %d integer and %d fraction digits: ad-hoc reads compute on numerics with at most %d digits",
		c.Name, rel.Name, sh.intDigits, sh.scale, maxDecimalDigits).
		WithHint("Cast the column in the view to numeric(p,s) with p <= 38, or read it as text (SUBSCRIBE or the view's HTTP snapshot).")
}

// matchTokenParen returns the index of the token closing the "(" at open, or -1.
func matchTokenParen(sql string, toks []*pg_query.ScanToken, open int) int {
	depth := 0
	for j := open; j < len(toks); j++ {
		switch sql[toks[j].Start:toks[j].End] {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return -1
}

// walkMessages calls fn for every message of the AST under m (nodes and the structs
// inside them), found through protobuf reflection so that no node type is missed.
func walkMessages(m protoreflect.Message, fn func(proto.Message)) {
	if _, ok := m.Interface().(*pg_query.Node); !ok {
		fn(m.Interface())
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind || fd.IsMap() {
			return true
		}
		if fd.IsList() {
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkMessages(l.Get(i).Message(), fn)
			}
			return true
		}
		walkMessages(v.Message(), fn)
		return true
	})
}

// qualifiedNameEnd returns the index of the last token of the (possibly qualified) name
// whose first token is toks[i].
func qualifiedNameEnd(sql string, toks []*pg_query.ScanToken, i int) int {
	for i+2 < len(toks) && sql[toks[i+1].Start:toks[i+1].End] == "." {
		i += 2
	}
	return i
}
