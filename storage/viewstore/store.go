// Package viewstore is Weir's DuckDB store: source histories, table rows, the contents
// of every materialized view and the persisted catalog live in one DuckDB database.
// Each tick's changes are applied in one DuckDB transaction, so a reader (any ad-hoc
// SELECT runs on DuckDB) never sees two views at different ticks.
package viewstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/big"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/decimal"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// Store is the DuckDB database. Apply and the DDL methods are called by one writer at a
// time; DB() may be used concurrently for reads.
type Store struct {
	db     *sql.DB
	w      *sql.Conn // the one writer connection: ticks run on it, holding their staging tables
	logger *slog.Logger

	segDir  string             // where relations' segments are (segments.go); "" in memory
	segMu   sync.Mutex         // guards segs and retired
	segs    map[string]*segRel // the segmented relations by name, as committed
	retired []retiredFiles     // files of segments replaced or dropped, to delete after SegmentGrace
}

// DuckDBThreads is how many threads the view store's DuckDB runs queries on: every core
// but one, and at least one.
func DuckDBThreads() int { return max(1, runtime.NumCPU()-1) }

// Open opens (creating if needed) the DuckDB database at path; "" is in-memory.
func Open(ctx context.Context, path string, logger *slog.Logger) (*Store, error) {
	// Every connection gets PostgreSQL's reading of `/` on integers (truncating division),
	// PostgreSQL's NULL order (last ascending, first descending) and the session time zone
	// Weir runs in. DuckDB's late materialization is off: for a plain `LIMIT n` it
	// computes the rowids of the first n rows, joins them back and sorts on rowid before
	// the first row leaves (about 100 ms of 1M rows, BenchmarkStreamPgx), and it gains
	// only on ORDER BY … LIMIT of a few rows over wide tables. Parquet footers are cached:
	// a segmented source's view reads every one of its segments' (segments.go).
	//
	// DuckDB runs on every core but one (DuckDBThreads): the tick, which every write
	// waits for, keeps a core to itself while the background flush commits and
	// checkpoints. On two cores, DuckDB's second thread cost the COPY workload 10% of its
	// throughput (weir bench: 700-727k against 767-801k events/s) and bought nothing a
	// read there needs.
	initCtx := context.WithoutCancel(ctx) // connections are opened long after Open returns
	connector, err := duckdb.NewConnector(path, func(ex driver.ExecerContext) error {
		for _, q := range []string{`SET integer_division = true`, `SET default_null_order = 'nulls_last_on_asc_first_on_desc'`, `SET TimeZone = 'UTC'`,
			`SET disabled_optimizers = 'late_materialization'`, `SET parquet_metadata_cache = true`, fmt.Sprintf(`SET threads = %d`, DuckDBThreads())} {
			if _, err := ex.ExecContext(initCtx, q, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, sqlerr.Wrap(err, sqlerr.Internal, "open DuckDB at %q", path)
	}
	db := sql.OpenDB(connector)
	w, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, sqlerr.Wrap(err, sqlerr.Internal, "open DuckDB writer connection")
	}
	s := &Store{db: db, w: w, logger: logger}
	if err := duckdb.RegisterScalarUDF(w, "weir_numeric_avg", numericAvg{}); err != nil {
		db.Close()
		return nil, sqlerr.Wrap(err, sqlerr.Internal, "register weir_numeric_avg")
	}
	if err := duckdb.RegisterTableUDF(w, "weir_batch", batchFunc()); err != nil {
		db.Close()
		return nil, sqlerr.Wrap(err, sqlerr.Internal, "register weir_batch")
	}
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS weir_catalog (id BIGINT PRIMARY KEY, name VARCHAR NOT NULL, kind VARCHAR NOT NULL, sql VARCHAR NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS weir_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS ` + ErrorsTable + ` (view VARCHAR, operator VARCHAR, code VARCHAR, message VARCHAR, input VARCHAR)`,
		`CREATE TABLE IF NOT EXISTS ` + OperatorsTable + ` (node BIGINT, operator VARCHAR, inputs VARCHAR, views VARCHAR, rows_in BIGINT, rows_out BIGINT, state_rows BIGINT)`,
		`CREATE TABLE IF NOT EXISTS ` + LateEventsTable + ` (source VARCHAR, tick BIGINT, event_time TIMESTAMPTZ, watermark TIMESTAMPTZ, event VARCHAR)`,
		`CREATE TABLE IF NOT EXISTS ` + WatermarksTable + ` (source VARCHAR PRIMARY KEY, watermark TIMESTAMPTZ, max_event_time TIMESTAMPTZ, late_events BIGINT)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			db.Close()
			return nil, sqlerr.Wrap(err, sqlerr.Internal, "initialise DuckDB")
		}
	}
	if err := s.openSegments(ctx, path); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// numericAvg is the DuckDB function weir_numeric_avg(sum, count, r): sum / count as
// PostgreSQL's numeric division computes it (its avg(numeric)), sum being decimal text,
// as its text, which DECIMAL(38, r) holds exactly when r >= 0: a quotient needing more
// than r fraction digits is an error, never rounded. Ad-hoc reads compute avg of numerics with it (db's
// rewriteNumeric). Registered on one connection, it serves the whole database.
type numericAvg struct{}

func (numericAvg) Config() duckdb.ScalarFuncConfig {
	varchar, _ := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	bigint, _ := duckdb.NewTypeInfo(duckdb.TYPE_BIGINT)
	integer, _ := duckdb.NewTypeInfo(duckdb.TYPE_INTEGER)
	return duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{varchar, bigint, integer}, ResultTypeInfo: varchar}
}

func (numericAvg) Executor() duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{RowExecutor: func(args []driver.Value) (any, error) {
		sumText, _ := args[0].(string)
		n, _ := args[1].(int64)
		r, _ := args[2].(int32)
		if n == 0 {
			return nil, nil
		}
		sum, err := decimal.Parse(sumText)
		if err != nil {
			return nil, err
		}
		q, err := decimal.Div(sum, decimal.FromInt(n))
		if err != nil {
			return nil, err
		}
		if r >= 0 && q.Scale > r && decimal.Cmp(q.Round(r), q) != 0 {
			return nil, fmt.Errorf("numeric field overflow: the average %s needs %d fraction digits, more than the %d an ad-hoc read holds here", q, q.Scale, r)
		}
		return q.String(), nil
	}}
}

// ErrorsTable is the system table listing the row errors that stand in the views.
const ErrorsTable = "weir_view_errors"

// OperatorsTable is the system table of the views' operators and their counters.
const OperatorsTable = "weir_operators"

// LateEventsTable is the system table of the events that arrived behind their source's
// watermark.
const LateEventsTable = "weir_late_events"

// WatermarksTable is the system table of the watermarked sources' watermarks.
const WatermarksTable = "weir_watermarks"

// EventTimeStats returns the largest value of rel's timestamp column col (nil when the
// source is empty) and the number of its late events.
func (s *Store) EventTimeStats(ctx context.Context, rel *catalog.Relation, col int) (*int64, int64, error) {
	var maxTS sql.NullTime
	if err := s.db.QueryRowContext(ctx, `SELECT max(`+Quote(rel.Columns[col].Name)+`) FROM `+Quote(rel.Name)).Scan(&maxTS); err != nil {
		return nil, 0, sqlerr.Wrap(err, sqlerr.Internal, "event time of %s", rel.Name)
	}
	var late int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+LateEventsTable+` WHERE source = ?`, rel.Name).Scan(&late); err != nil {
		return nil, 0, sqlerr.Wrap(err, sqlerr.Internal, "late events of %s", rel.Name)
	}
	if !maxTS.Valid {
		return nil, late, nil
	}
	us := maxTS.Time.UnixMicro()
	return &us, late, nil
}

// LateEvents returns source's late events: for each event text, the watermarks it
// arrived under, oldest first.
func (s *Store) LateEvents(ctx context.Context, source string) (map[string][]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT event, watermark FROM `+LateEventsTable+` WHERE source = ? ORDER BY tick`, source)
	if err != nil {
		return nil, sqlerr.Wrap(err, sqlerr.Internal, "late events of %s", source)
	}
	defer rows.Close()
	out := map[string][]int64{}
	for rows.Next() {
		var ev string
		var wm time.Time
		if err := rows.Scan(&ev, &wm); err != nil {
			return nil, err
		}
		out[ev] = append(out[ev], wm.UnixMicro())
	}
	return out, rows.Err()
}

// SetWatermark records a source's watermark, largest event time and late-event count.
func (t *Tx) SetWatermark(source string, wm, maxTS, late int64) error {
	ts := func(us int64) any {
		if us == math.MinInt64 {
			return nil
		}
		return time.UnixMicro(us).UTC()
	}
	return t.upsert(`UPDATE `+WatermarksTable+` SET watermark = ?, max_event_time = ?, late_events = ? WHERE source = ?`,
		[]any{ts(wm), ts(maxTS), late, source}, `INSERT INTO `+WatermarksTable+` VALUES (?, ?, ?, ?)`, []any{source, ts(wm), ts(maxTS), late})
}

// Close closes the database.
func (s *Store) Close() error {
	s.w.Close()
	err := s.db.Close()
	s.sweepSegments(true) // no read is left to need them
	return err
}

// DB is the handle for ad-hoc reads.
func (s *Store) DB() *sql.DB { return s.db }

// Quote quotes an identifier for DuckDB.
func Quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// CatalogEntry is one persisted object.
type CatalogEntry struct {
	ID   uint64
	Name string
	Kind string
	SQL  string
}

// LoadCatalog returns the persisted objects in creation order, and the last applied tick.
func (s *Store) LoadCatalog(ctx context.Context) ([]CatalogEntry, uint64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, kind, sql FROM weir_catalog ORDER BY id`)
	if err != nil {
		return nil, 0, sqlerr.Wrap(err, sqlerr.Internal, "load catalog")
	}
	defer rows.Close()
	var out []CatalogEntry
	for rows.Next() {
		var e CatalogEntry
		if err := rows.Scan(&e.ID, &e.Name, &e.Kind, &e.SQL); err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var tick uint64
	var v string
	err = s.db.QueryRowContext(ctx, `SELECT value FROM weir_meta WHERE key = 'tick'`).Scan(&v)
	if err == nil {
		fmt.Sscan(v, &tick)
	} else if err != sql.ErrNoRows {
		return nil, 0, err
	}
	return out, tick, nil
}

// Scan returns the full contents of the DuckDB table holding rel, each row with weight 1.
func (s *Store) Scan(ctx context.Context, rel *catalog.Relation) (*delta.Batch, error) {
	names := make([]string, len(rel.Columns))
	kinds := make([]delta.Kind, len(rel.Columns))
	for i, c := range rel.Columns {
		names[i] = Quote(c.Name)
		kinds[i] = c.Type.Kind()
	}
	// Sized up front: a batch doubling its way to a history of millions of rows copies
	// and clears it over again (a quarter of a 4M-row backfill's time in the store).
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+Quote(rel.Name)).Scan(&n); err != nil {
		return nil, sqlerr.Wrap(err, sqlerr.Internal, "scan %s", rel.Name)
	}
	query := `SELECT ` + strings.Join(names, ", ") + ` FROM ` + Quote(rel.Name)
	b := delta.New(kinds)
	b.Grow(int(n)) // a hint: rows written since are appended all the same
	switch err := s.scanRaw(ctx, query, rel.Columns, b); {
	case err == nil:
		rawScans.Add(1)
		return b, nil
	case !errors.Is(err, errNotRaw):
		return nil, sqlerr.Wrap(err, sqlerr.Internal, "scan %s", rel.Name)
	}
	rows, err := s.db.QueryContext(ctx, query)
	if err != nil {
		return nil, sqlerr.Wrap(err, sqlerr.Internal, "scan %s", rel.Name)
	}
	defer rows.Close()
	vals := make([]any, len(names))
	ptrs := make([]any, len(names))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	row := make([]delta.Value, len(names))
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, c := range rel.Columns {
			row[i], err = FromGo(vals[i], c.Type)
			if err != nil {
				return nil, err
			}
		}
		b.AppendRow(row, 1)
	}
	return b, rows.Err()
}

// FromGo converts a value read from DuckDB into a delta.Value of type t.
func FromGo(v any, t catalog.Type) (delta.Value, error) {
	if v == nil {
		return delta.Null(t.Kind()), nil
	}
	switch x := v.(type) {
	case int8:
		return delta.Int(int64(x)), nil
	case int16:
		return delta.Int(int64(x)), nil
	case int32:
		return delta.Int(int64(x)), nil
	case int64:
		return delta.Int(x), nil
	case float32:
		return delta.Float(float64(x)), nil
	case float64:
		return delta.Float(x), nil
	case string:
		switch t {
		case catalog.Numeric:
			return delta.Numeric(x), nil // stored as its canonical text (see catalog.Numeric)
		case catalog.Jsonb:
			return delta.Jsonb(x), nil // stored as its canonical text (see catalog.Jsonb)
		}
		return delta.Str(x), nil
	case duckdb.Interval:
		return delta.Interval(x.Months, x.Days, x.Micros), nil
	case bool:
		return delta.Bool(x), nil
	case duckdb.Decimal:
		d := decimal.Decimal{Coef: new(big.Int).Set(x.Value), Scale: int32(x.Scale)}
		return delta.Numeric(d.String()), nil
	case time.Time:
		us := x.UnixMicro()
		if t == catalog.Date {
			return delta.Int(floorDiv(us, 86_400_000_000)), nil
		}
		return delta.Int(us), nil
	}
	return delta.Value{}, fmt.Errorf("viewstore: unexpected %T for %s", v, t)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// ToGo converts v of type t into the Go value DuckDB binds for t's column type.
func ToGo(v delta.Value, t catalog.Type) any {
	if v.Null {
		return nil
	}
	switch t {
	case catalog.Int2:
		return int16(v.I)
	case catalog.Int4:
		return int32(v.I)
	case catalog.Int8:
		return v.I
	case catalog.Float4:
		return float32(v.F)
	case catalog.Float8:
		return v.F
	case catalog.Bool:
		return v.B
	case catalog.Timestamp, catalog.Timestamptz:
		return time.UnixMicro(v.I).UTC()
	case catalog.Date:
		return time.UnixMicro(v.I * 86_400_000_000).UTC()
	case catalog.Interval:
		m, d, us := v.IntervalParts()
		return duckdb.Interval{Months: m, Days: d, Micros: us}
	}
	return v.S
}

// columnToGo is ToGo for a value of column c: a numeric held as DuckDB DECIMAL(p,s) (see
// catalog.Column.DuckDB) binds as its coefficient at scale s.
func columnToGo(v delta.Value, c catalog.Column) any {
	if v.Null || c.DuckDB() == c.Type.DuckDB() {
		return ToGo(v, c.Type)
	}
	d := decimal.MustParse(v.S).Round(c.Scale)
	return duckdb.Decimal{Width: uint8(c.Precision), Scale: uint8(c.Scale), Value: d.Coef}
}

// goValue converts value i of a vector of column c as columnToGo does.
type goValue func(v *delta.Vector, i int) any

// columnGoValue returns the goValue of column c, reading the common types' values
// straight from the vector.
func columnGoValue(c catalog.Column) goValue {
	switch {
	case c.Type == catalog.Int8:
		return func(v *delta.Vector, i int) any {
			if v.Nulls != nil && v.Nulls[i] || v.Kind != delta.KindInt {
				return columnToGo(v.Get(i), c)
			}
			return v.I64[i]
		}
	case c.Type == catalog.Timestamptz || c.Type == catalog.Timestamp:
		return func(v *delta.Vector, i int) any {
			if v.Nulls != nil && v.Nulls[i] || v.Kind != delta.KindInt {
				return columnToGo(v.Get(i), c)
			}
			return time.UnixMicro(v.I64[i]).UTC()
		}
	}
	return func(v *delta.Vector, i int) any { return columnToGo(v.Get(i), c) }
}

// Tx is one tick's transaction on the writer connection. Only one Tx is open at a time.
type Tx struct {
	s   *Store
	ctx context.Context

	segNew     map[string]*segRel // relations whose segments changed (nil: dropped); segments.go
	segWritten []string           // the segment files written
	segDropped []string           // the segment files merged, or of relations dropped
}

// Begin starts a tick's transaction.
func (s *Store) Begin(ctx context.Context) (*Tx, error) {
	if _, err := s.w.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return nil, sqlerr.Wrap(err, sqlerr.Internal, "begin tick")
	}
	return &Tx{s: s, ctx: ctx}, nil
}

// Commit makes the tick visible to readers, atomically.
func (t *Tx) Commit(tick uint64) error {
	if err := t.SetMeta("tick", fmt.Sprint(tick)); err != nil {
		t.Rollback()
		return err
	}
	return t.commit(fmt.Sprintf("commit tick %d", tick))
}

// commit commits the transaction; what names it in an error.
func (t *Tx) commit(what string) error {
	if err := t.segmentsDurable(); err != nil {
		t.Rollback()
		return err
	}
	// A commit is not interruptible: once asked for, the tick either lands or fails on
	// its own, never half-way because a client went away.
	if _, err := t.s.w.ExecContext(context.WithoutCancel(t.ctx), "COMMIT"); err != nil {
		t.Rollback()
		return sqlerr.Wrap(err, sqlerr.Internal, "%s", what)
	}
	t.segmentsCommitted()
	return nil
}

// Tick returns the last committed tick (0 for a new store).
func (s *Store) Tick(ctx context.Context) (uint64, error) {
	v, err := s.Meta(ctx, "tick")
	if err != nil || v == "" {
		return 0, err
	}
	var tick uint64
	if _, err := fmt.Sscan(v, &tick); err != nil {
		return 0, sqlerr.Wrap(err, sqlerr.DataCorrupted, "weir_meta tick = %q", v)
	}
	return tick, nil
}

// MetaLSN is the weir_meta key of the last write-ahead log record the store holds.
const MetaLSN = "wal_lsn"

// SetMeta sets a weir_meta key in the transaction.
func (t *Tx) SetMeta(key, value string) error {
	return t.upsert(`UPDATE weir_meta SET value = ? WHERE key = ?`, []any{value, key}, `INSERT INTO weir_meta VALUES (?, ?)`, []any{key, value})
}

// upsert runs update and, when it changed no row, insert: an INSERT OR REPLACE of one
// row whose key is usually there already, at a third of its cost in DuckDB (which
// replaces through its primary-key index).
func (t *Tx) upsert(update string, uargs []any, insert string, iargs []any) error {
	res, err := t.s.w.ExecContext(t.ctx, update, uargs...)
	if err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "view store")
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		return nil
	}
	return t.Exec(insert, iargs...)
}

// Meta returns a weir_meta value ("" when unset).
func (s *Store) Meta(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM weir_meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", sqlerr.Wrap(err, sqlerr.Internal, "read weir_meta %s", key)
	}
	return v, nil
}

// Rollback abandons the tick.
func (t *Tx) Rollback() {
	if _, err := t.s.w.ExecContext(context.WithoutCancel(t.ctx), "ROLLBACK"); err != nil && t.s.logger != nil {
		t.s.logger.Warn("rollback", "err", err)
	}
	t.segmentsAbandoned()
}

// Exec runs a statement in the tick.
func (t *Tx) Exec(q string, args ...any) error {
	if _, err := t.s.w.ExecContext(t.ctx, q, args...); err != nil {
		return sqlerr.Wrap(err, sqlerr.Internal, "view store")
	}
	return nil
}

// appendRows appends rows to table through DuckDB's Appender, inside the open
// transaction. row(i, dst) fills dst with row i's Go values; n is the row count.
func (t *Tx) appendRows(table string, ncols, n int, row func(i int, dst []driver.Value)) error {
	if n == 0 {
		return nil
	}
	return t.s.w.Raw(func(dc any) error {
		a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", table)
		if err != nil {
			return sqlerr.Wrap(err, sqlerr.Internal, "appender for %s", table)
		}
		vals := make([]driver.Value, ncols)
		for i := 0; i < n; i++ {
			row(i, vals)
			if err := a.AppendRow(vals...); err != nil {
				a.Close()
				return sqlerr.Wrap(err, sqlerr.Internal, "append to %s", table)
			}
		}
		if err := a.Close(); err != nil {
			return sqlerr.Wrap(err, sqlerr.Internal, "append to %s", table)
		}
		return nil
	})
}

// CreateRelation creates the DuckDB table for rel and persists its DDL.
func (t *Tx) CreateRelation(rel *catalog.Relation) error {
	cols := make([]string, len(rel.Columns))
	for i, c := range rel.Columns {
		cols[i] = Quote(c.Name) + " " + c.DuckDB()
	}
	if err := t.Exec(`CREATE TABLE ` + Quote(rel.Name) + ` (` + strings.Join(cols, ", ") + `)`); err != nil {
		return err
	}
	return t.Exec(`INSERT INTO weir_catalog VALUES (?, ?, ?, ?)`, int64(rel.ID), rel.Name, rel.Kind.String(), rel.SQL)
}

// DropRelation drops rel's DuckDB table (a segmented source's view, tail and segments)
// and its catalog entry.
func (t *Tx) DropRelation(name string) error {
	if segmented, err := t.dropSegments(name); err != nil {
		return err
	} else if !segmented {
		if err := t.Exec(`DROP TABLE IF EXISTS ` + Quote(name)); err != nil {
			return err
		}
	}
	for _, q := range []string{`DELETE FROM ` + LateEventsTable + ` WHERE source = ?`, `DELETE FROM ` + WatermarksTable + ` WHERE source = ?`} {
		if err := t.Exec(q, name); err != nil {
			return err
		}
	}
	return t.Exec(`DELETE FROM weir_catalog WHERE name = ?`, name)
}

// Insert appends each row of b (weights must be positive: w copies) to rel's table.
func (t *Tx) Insert(rel *catalog.Relation, b *delta.Batch) error {
	idx, n := repeatByWeight(b.Len(), func(i int) int64 { return b.Weights[i] }) // row i of b, repeated by weight; nil when every weight is 1
	if n >= minChunkInsert {
		if src := newChunkSource(rel.Columns, b, idx, n); src != nil {
			return t.insertChunks(Quote(t.table(rel)), src)
		}
	}
	conv := make([]goValue, len(rel.Columns))
	for c, col := range rel.Columns {
		conv[c] = columnGoValue(col)
	}
	return t.appendRows(t.table(rel), len(rel.Columns), n, func(j int, dst []driver.Value) {
		if idx != nil {
			j = idx[j]
		}
		for c := range conv {
			dst[c] = conv[c](&b.Cols[c], j)
		}
	})
}

// InsertBatches inserts the rows of bs, in order, as Insert would their concatenation:
// a batch of minChunkInsert rows or more goes in on its own, runs of smaller ones are
// concatenated first (one Appender rather than one each).
func (t *Tx) InsertBatches(rel *catalog.Relation, bs []*delta.Batch) error {
	if t.segmentable(rel) {
		n := 0
		for _, b := range bs {
			n += b.Len()
		}
		if n >= SegmentMinRows {
			if ok, err := t.writeSegment(rel, bs, n); ok || err != nil {
				return err
			}
		}
	}
	var small *delta.Batch
	insertSmall := func() error {
		if small == nil {
			return nil
		}
		b := small
		small = nil
		return t.Insert(rel, b)
	}
	for _, b := range bs {
		if b.Len() < minChunkInsert {
			if small == nil {
				small = delta.New(b.Kinds())
			}
			small.AppendBatch(b, 1)
			continue
		}
		if err := insertSmall(); err != nil {
			return err
		}
		if err := t.Insert(rel, b); err != nil {
			return err
		}
	}
	return insertSmall()
}

// minChunkInsert is the fewest rows Insert writes through weir_batch (chunks.go)
// rather than the Appender: a statement costs ~0.2 ms more than an Appender to set up,
// and the chunks gain it back at a few hundred rows (50k rows of text, bigint, bigint,
// timestamptz: ~39 ms through the Appender, ~26 ms through weir_batch).
const minChunkInsert = 512

// DeleteMatching deletes every row of rel's table equal (IS NOT DISTINCT FROM, on the
// columns in keyCols) to some row of b, whose columns are those key columns in order.
// The keys go through a staging table on the writer connection, so the delete is one
// hash join however many rows change.
func (t *Tx) DeleteMatching(rel *catalog.Relation, keyCols []int, b *delta.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	if err := t.unsegment(rel, true); err != nil {
		return err
	}
	if b.Len() <= maxDirectDelete && directKeys(rel, keyCols) {
		return t.deleteDirect(rel, keyCols, b)
	}
	stage := fmt.Sprintf("weir_stage_%d_%d", rel.ID, len(keyCols))
	defs := make([]string, len(keyCols))
	conds := make([]string, len(keyCols))
	for j, c := range keyCols {
		col := rel.Columns[c]
		defs[j] = fmt.Sprintf("k%d %s", j, col.DuckDB())
		conds[j] = fmt.Sprintf("t.%s IS NOT DISTINCT FROM s.k%d", Quote(col.Name), j)
	}
	if err := t.Exec(`CREATE TEMP TABLE IF NOT EXISTS ` + stage + ` (` + strings.Join(defs, ", ") + `)`); err != nil {
		return err
	}
	cols := make([]catalog.Column, len(keyCols))
	for j, c := range keyCols {
		cols[j] = rel.Columns[c]
	}
	var err error
	if src := newChunkSource(cols, b, nil, b.Len()); src != nil && b.Len() >= minChunkInsert {
		err = t.insertChunks(stage, src)
	} else {
		conv := make([]goValue, len(cols))
		for j, col := range cols {
			conv[j] = columnGoValue(col)
		}
		err = t.appendRows(stage, len(keyCols), b.Len(), func(i int, dst []driver.Value) {
			for j := range conv {
				dst[j] = conv[j](&b.Cols[j], i)
			}
		})
	}
	if err != nil {
		return err
	}
	if err := t.Exec(`DELETE FROM ` + Quote(rel.Name) + ` AS t USING ` + stage + ` AS s WHERE ` + strings.Join(conds, " AND ")); err != nil {
		return err
	}
	return t.Exec(`DELETE FROM ` + stage)
}

// maxDirectDelete is the most rows DeleteMatching deletes with their values as
// parameters of one DELETE rather than through its staging table: a statement of a few
// conditions costs less than staging and a join (~1.5 ms against ~4 ms).
const maxDirectDelete = 8

// directKeys reports whether the key columns are of types whose Go values (ToGo) bind
// as parameters that compare with the column as the staged values do.
func directKeys(rel *catalog.Relation, keyCols []int) bool {
	for _, c := range keyCols {
		col := rel.Columns[c]
		switch col.Type {
		case catalog.Int2, catalog.Int4, catalog.Int8, catalog.Float8, catalog.Bool, catalog.Text, catalog.Varchar,
			catalog.Timestamptz:
		case catalog.Numeric:
			if col.DuckDB() != "VARCHAR" { // numeric text, when no precision is declared
				return false
			}
		default:
			return false
		}
	}
	return true
}

// deleteDirect is DeleteMatching for a few rows: one DELETE whose condition lists them.
func (t *Tx) deleteDirect(rel *catalog.Relation, keyCols []int, b *delta.Batch) error {
	var sb strings.Builder
	sb.WriteString(`DELETE FROM ` + Quote(rel.Name) + ` WHERE `)
	args := make([]any, 0, b.Len()*len(keyCols))
	for i := 0; i < b.Len(); i++ {
		if i > 0 {
			sb.WriteString(" OR ")
		}
		sb.WriteString("(")
		for j, c := range keyCols {
			if j > 0 {
				sb.WriteString(" AND ")
			}
			sb.WriteString(Quote(rel.Columns[c].Name) + " IS NOT DISTINCT FROM ?")
			args = append(args, columnToGo(b.Cols[j].Get(i), rel.Columns[c]))
		}
		sb.WriteString(")")
	}
	return t.Exec(sb.String(), args...)
}

// Truncate deletes every row of rel's table.
func (t *Tx) Truncate(rel *catalog.Relation) error {
	if t.segRel(rel.Name) != nil {
		return t.unsegment(rel, false)
	}
	return t.Exec(`DELETE FROM ` + Quote(rel.Name))
}

// MetaPrefix returns every weir_meta key starting with prefix, with its value.
func (s *Store) MetaPrefix(ctx context.Context, prefix string) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, value FROM weir_meta WHERE starts_with(key, ?)`, prefix)
	if err != nil {
		return nil, sqlerr.Wrap(err, sqlerr.Internal, "read weir_meta %s*", prefix)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, sqlerr.Wrap(err, sqlerr.Internal, "read weir_meta %s*", prefix)
		}
		out[k] = v
	}
	return out, rows.Err()
}

// Memory returns what DuckDB's buffer manager holds in memory, by tag
// (duckdb_memory(): table data, the write-ahead log, hash tables, the external file
// cache of Parquet reads, …), leaving out tags that hold nothing.
func (s *Store) Memory(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT tag, memory_usage_bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var tag string
		var n int64
		if err := rows.Scan(&tag, &n); err != nil {
			return nil, err
		}
		out[strings.ToLower(tag)] = n
	}
	return out, rows.Err()
}
