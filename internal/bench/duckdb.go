package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// duck is the DuckDB peer: a database file in the run's temporary directory, in this
// process, fed through DuckDB's Appender and recomputing each view from scratch.
type duck struct {
	db   *sql.DB
	conn *sql.Conn
}

func openDuck(ctx context.Context, dir, name string) (*duck, error) {
	connector, err := duckdb.NewConnector(filepath.Join(dir, name+".duckdb"), nil)
	if err != nil {
		return nil, err
	}
	d := &duck{db: sql.OpenDB(connector)}
	if d.conn, err = d.db.Conn(ctx); err != nil {
		d.db.Close()
		return nil, err
	}
	return d, nil
}

func (d *duck) Close() error {
	d.conn.Close()
	return d.db.Close()
}

func (d *duck) version(ctx context.Context) string {
	var v string
	_ = d.conn.QueryRowContext(ctx, `SELECT version()`).Scan(&v)
	return "DuckDB " + v
}

func (d *duck) exec(ctx context.Context, stmts ...string) error {
	for _, s := range stmts {
		if _, err := d.conn.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("DuckDB: %s: %w", firstWords(s), err)
		}
	}
	return nil
}

// appendRows appends rows to table with DuckDB's Appender, the fastest way in.
func (d *duck) appendRows(table string, n int, row func(i int) []driver.Value) error {
	return d.conn.Raw(func(dc any) error {
		a, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", table)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := a.AppendRow(row(i)...); err != nil {
				a.Close()
				return err
			}
		}
		return a.Close()
	})
}

func (d *duck) appendEvents(es []Event) error {
	return d.appendRows("events", len(es), func(i int) []driver.Value {
		e := es[i]
		return []driver.Value{e.Room, e.User, e.Amount, time.UnixMicro(e.TS).UTC()}
	})
}

// scan adapts the connection to check.
func (d *duck) scan(ctx context.Context) func(q string, dest ...any) error {
	return func(q string, dest ...any) error { return d.conn.QueryRowContext(ctx, q).Scan(dest...) }
}

var duckTable = `CREATE TABLE events (room_id BIGINT NOT NULL, user_id BIGINT NOT NULL, amount BIGINT NOT NULL, ts TIMESTAMPTZ NOT NULL)`

// duckViews recompute the three views into tables, from scratch.
var duckViews = []string{
	`CREATE OR REPLACE TABLE room_counts AS SELECT room_id, count(*) AS n FROM events GROUP BY room_id`,
	`CREATE OR REPLACE TABLE user_totals AS SELECT user_id, sum(amount) AS total, max(amount) AS biggest FROM events GROUP BY user_id`,
	`CREATE OR REPLACE TABLE minute_counts AS SELECT date_trunc('minute', ts) AS window_start, count(*) AS n FROM events GROUP BY 1`,
}
