// Package pgsink keeps a table in an external PostgreSQL equal to a Weir view.
//
// Every write to the target is one PostgreSQL transaction that applies some ticks'
// changes and records the last tick applied in weir_sink_state, in the same
// transaction. A sink that restarts (either side having crashed) reads that tick and
// resumes the view's changes after it, or, when Weir no longer holds them, replaces the
// table's contents with the view's snapshot in one transaction. A tick is therefore
// applied exactly once, and a reader of the target sees the view as of some tick.
//
// With key columns the target is keyed: each tick deletes the rows of every key it
// changed and inserts the keys' new rows (an upsert, or a delete when the key left the
// view). Without a key the target holds the view's multiset of rows: an insertion adds
// copies, a retraction deletes as many copies of the equal row (NULLs equal).
package pgsink

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/pgcopy"
	"github.com/weirdb/weir/internal/sqlerr"
)

// StateTable is the target database's table of sinks' last applied ticks.
const StateTable = "weir_sink_state"

// Config is a PostgreSQL sink's WITH options.
type Config struct {
	DSN   string   // libpq connection string or URL
	Table string   // the target table, optionally schema-qualified (schema.table)
	Key   []string // key columns; none: the target is the view's multiset of rows
}

var options = []string{"connector", "dsn", "table", "key"}

// ParseOptions validates a PostgreSQL sink's options against the view's columns: a
// missing or unknown option, or a key column the view lacks, is 22023 naming it.
func ParseOptions(opts map[string]string, cols []catalog.Column) (Config, error) {
	for k := range opts {
		if !slices.Contains(options, k) {
			return Config{}, sqlerr.New(sqlerr.InvalidParameterValue, "unrecognized PostgreSQL sink option %q", k).
				WithHint("PostgreSQL sinks take %s.", strings.Join(options, ", "))
		}
	}
	cfg := Config{DSN: opts["dsn"], Table: opts["table"]}
	for _, o := range []string{"dsn", "table"} {
		if opts[o] == "" {
			return Config{}, sqlerr.New(sqlerr.InvalidParameterValue, "PostgreSQL sink option %q is required", o)
		}
	}
	if _, err := pgx.ParseConfig(cfg.DSN); err != nil {
		return Config{}, sqlerr.New(sqlerr.InvalidParameterValue, "PostgreSQL sink option \"dsn\" is invalid: %v", err)
	}
	if k := strings.TrimSpace(opts["key"]); k != "" {
		for _, c := range strings.Split(k, ",") {
			c = strings.TrimSpace(c)
			if !slices.ContainsFunc(cols, func(col catalog.Column) bool { return col.Name == c }) {
				return Config{}, sqlerr.New(sqlerr.InvalidParameterValue, "PostgreSQL sink option \"key\": the view has no column %q", c)
			}
			cfg.Key = append(cfg.Key, c)
		}
	}
	return cfg, nil
}

// Sink is a connection to the target, for one sink. It is not safe for concurrent use.
type Sink struct {
	cfg    Config
	name   string
	cols   []catalog.Column
	keyIdx []int
	table  string // quoted, qualified
	conn   *pgx.Conn
	copy   pgcopy.Options
	buf    []byte
}

// Open connects to the target and creates the state table and the target table if they
// do not exist (the target with the view's columns, and the key as its primary key).
func Open(ctx context.Context, name string, cfg Config, cols []catalog.Column) (*Sink, error) {
	conn, err := pgx.Connect(ctx, cfg.DSN)
	if err != nil {
		return nil, sqlerr.Wrap(err, sqlerr.ConnectionFailure, "PostgreSQL sink %q: connect", name)
	}
	s := &Sink{cfg: cfg, name: name, cols: cols, conn: conn, copy: pgcopy.Defaults(pgcopy.Text)}
	s.table = pgx.Identifier(strings.Split(cfg.Table, ".")).Sanitize()
	for _, k := range cfg.Key {
		s.keyIdx = append(s.keyIdx, slices.IndexFunc(cols, func(c catalog.Column) bool { return c.Name == k }))
	}
	defs := make([]string, len(cols))
	stage := make([]string, len(cols))
	for i, c := range cols {
		defs[i] = pgx.Identifier{c.Name}.Sanitize() + " " + c.Type.String()
		stage[i] = defs[i]
	}
	if len(cfg.Key) > 0 {
		defs = append(defs, "PRIMARY KEY ("+s.quotedKey()+")")
	}
	// Sinks setting up at once would race on CREATE TABLE IF NOT EXISTS (PostgreSQL
	// fails one with 23505): they take turns on an advisory lock.
	for _, q := range []string{
		`SELECT pg_advisory_lock(hashtext('` + StateTable + `'))`,
		`CREATE TABLE IF NOT EXISTS ` + StateTable + ` (sink text PRIMARY KEY, tick bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
		`CREATE TABLE IF NOT EXISTS ` + s.table + ` (` + strings.Join(defs, ", ") + `)`,
		`SELECT pg_advisory_unlock(hashtext('` + StateTable + `'))`,
		`CREATE TEMP TABLE weir_stage (` + strings.Join(stage, ", ") + `, weir_w bigint NOT NULL, weir_id bigint NOT NULL) ON COMMIT DELETE ROWS`,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			conn.Close(ctx)
			return nil, sqlerr.Wrap(err, sqlerr.ConnectionFailure, "PostgreSQL sink %q: set up", name)
		}
	}
	return s, nil
}

// Close closes the connection.
func (s *Sink) Close(ctx context.Context) error { return s.conn.Close(ctx) }

func (s *Sink) quotedKey() string {
	ks := make([]string, len(s.cfg.Key))
	for i, k := range s.cfg.Key {
		ks[i] = pgx.Identifier{k}.Sanitize()
	}
	return strings.Join(ks, ", ")
}

// LastTick is the last tick applied to the target (0: none).
func (s *Sink) LastTick(ctx context.Context) (uint64, error) {
	var tick int64
	err := s.conn.QueryRow(ctx, `SELECT tick FROM `+StateTable+` WHERE sink = $1`, s.name).Scan(&tick)
	if err == pgx.ErrNoRows {
		return 0, nil
	}
	if err != nil {
		return 0, sqlerr.Wrap(err, sqlerr.ConnectionFailure, "PostgreSQL sink %q: read %s", s.name, StateTable)
	}
	return uint64(tick), nil
}

// Reset replaces the target's contents with rows (the view at tick), in one
// transaction that records tick.
func (s *Sink) Reset(ctx context.Context, tick uint64, rows *delta.Batch) error {
	return s.inTx(ctx, tick, true, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM `+s.table); err != nil {
			return err
		}
		if err := s.stage(ctx, tx, rows); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO `+s.table+` SELECT `+s.colList("")+` FROM weir_stage, generate_series(1, weir_w) WHERE weir_w > 0`)
		return err
	})
}

// Apply applies one or more ticks' consolidated changes, ending at tick, in one
// transaction that records tick. Changes at or before the recorded tick were applied
// already and are skipped, so a retry is harmless.
func (s *Sink) Apply(ctx context.Context, tick uint64, changes *delta.Batch) error {
	return s.inTx(ctx, tick, false, func(tx pgx.Tx) error {
		if err := s.stage(ctx, tx, changes); err != nil {
			return err
		}
		if len(s.keyIdx) > 0 {
			// Every key the ticks touched: delete it, then insert its rows after the ticks.
			if _, err := tx.Exec(ctx, `DELETE FROM `+s.table+` t USING weir_stage s WHERE `+s.match("t", "s", s.keyIdx, "=")); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO `+s.table+` SELECT `+s.colList("")+` FROM weir_stage WHERE weir_w > 0`)
			return err
		}
		all := make([]int, len(s.cols))
		for i := range all {
			all[i] = i
		}
		// Retractions delete that many copies of the equal row; insertions add copies.
		if _, err := tx.Exec(ctx, `DELETE FROM `+s.table+` WHERE ctid IN (
			SELECT ctid FROM (
				SELECT t.ctid, s.weir_w, row_number() OVER (PARTITION BY s.weir_id ORDER BY t.ctid) AS n
				FROM `+s.table+` t JOIN weir_stage s ON `+s.match("t", "s", all, "IS NOT DISTINCT FROM")+` WHERE s.weir_w < 0) x
			WHERE x.n <= -x.weir_w)`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO `+s.table+` SELECT `+s.colList("")+` FROM weir_stage, generate_series(1, weir_w) WHERE weir_w > 0`)
		return err
	})
}

// inTx runs fn in a transaction that locks the sink's state row, skips (rolls back)
// when tick was applied already (unless reset), and records tick.
func (s *Sink) inTx(ctx context.Context, tick uint64, reset bool, fn func(pgx.Tx) error) error {
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, `INSERT INTO `+StateTable+` (sink, tick) VALUES ($1, 0) ON CONFLICT (sink) DO NOTHING`, s.name); err != nil {
		return s.wrap(err)
	}
	var cur int64
	if err := tx.QueryRow(ctx, `SELECT tick FROM `+StateTable+` WHERE sink = $1 FOR UPDATE`, s.name).Scan(&cur); err != nil {
		return s.wrap(err)
	}
	if !reset && uint64(cur) >= tick {
		return nil
	}
	if err := fn(tx); err != nil {
		return s.wrap(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE `+StateTable+` SET tick = $2, updated_at = now() WHERE sink = $1`, s.name, int64(tick)); err != nil {
		return s.wrap(err)
	}
	return s.wrap(tx.Commit(ctx))
}

func (s *Sink) wrap(err error) error {
	if err == nil {
		return nil
	}
	return sqlerr.Wrap(err, sqlerr.ConnectionFailure, "PostgreSQL sink %q (table %s)", s.name, s.cfg.Table)
}

// stage copies b into weir_stage (COPY, text format), each row with its weight and a
// row number.
func (s *Sink) stage(ctx context.Context, tx pgx.Tx, b *delta.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	buf := s.buf[:0]
	for i := 0; i < b.Len(); i++ {
		for c, col := range s.cols {
			v := b.Cols[c].Get(i)
			if v.Null {
				buf = s.copy.AppendNull(buf)
			} else {
				buf = s.copy.AppendField(buf, []byte(expr.Format(v, col.Type)), c, false)
			}
			buf = append(buf, s.copy.Delimiter)
		}
		buf = fmt.Appendf(buf, "%d%c%d\n", b.Weights[i], s.copy.Delimiter, i)
	}
	s.buf = buf
	_, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(buf), `COPY weir_stage FROM STDIN`)
	return err
}

// colList is the view's columns, quoted, optionally qualified by alias.
func (s *Sink) colList(alias string) string {
	out := make([]string, len(s.cols))
	for i, c := range s.cols {
		out[i] = pgx.Identifier{c.Name}.Sanitize()
		if alias != "" {
			out[i] = alias + "." + out[i]
		}
	}
	return strings.Join(out, ", ")
}

// match compares columns idx between aliases a and b with op (= for keys, which
// PostgreSQL's primary key makes NOT NULL and can look up by index; IS NOT DISTINCT
// FROM for whole rows, whose NULLs are equal).
func (s *Sink) match(a, b string, idx []int, op string) string {
	conds := make([]string, len(idx))
	for i, c := range idx {
		q := pgx.Identifier{s.cols[c].Name}.Sanitize()
		conds[i] = a + "." + q + " " + op + " " + b + "." + q
	}
	return strings.Join(conds, " AND ")
}
