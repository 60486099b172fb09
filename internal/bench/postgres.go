package bench

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/internal/pgtest"
)

// postgres is a throwaway PostgreSQL 15 cluster (internal/pgtest: initdb into a
// temporary directory, loopback, fsync off, trust auth), the peer every machine has.
type postgres struct {
	cluster *pgtest.Cluster
	tb      *tb
}

func startPostgres(logger *slog.Logger) (pg *postgres, err error) {
	t := &tb{logger: logger}
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			t.cleanup()
			pg, err = nil, fmt.Errorf("starting PostgreSQL: %s", string(f))
		}
	}()
	c := pgtest.Start(t)
	return &postgres{cluster: c, tb: t}, nil
}

func (p *postgres) Close() { p.tb.cleanup() }

// connect opens a session with work_mem large enough that the views' hash aggregates
// stay in memory, as anyone tuning PostgreSQL for this would set it.
func (p *postgres) connect(ctx context.Context) (*pgx.Conn, int, error) {
	conn, err := pgx.Connect(ctx, p.cluster.DSN())
	if err != nil {
		return nil, 0, err
	}
	var pid int
	if err := conn.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		conn.Close(ctx)
		return nil, 0, err
	}
	if _, err := conn.Exec(ctx, `SET work_mem = '256MB'`); err != nil {
		conn.Close(ctx)
		return nil, 0, err
	}
	return conn, pid, nil
}

func (p *postgres) version(ctx context.Context) string {
	conn, _, err := p.connect(ctx)
	if err != nil {
		return ""
	}
	defer conn.Close(ctx)
	var v string
	_ = conn.QueryRow(ctx, `SHOW server_version`).Scan(&v)
	return "PostgreSQL " + v
}

// The COPY workload's table and views in PostgreSQL: TUMBLE's one-minute windows are
// date_trunc('minute', ts), the same buckets.
var pgTable = `CREATE TABLE events (room_id bigint NOT NULL, user_id bigint NOT NULL, amount bigint NOT NULL, ts timestamptz NOT NULL)`

var pgViews = []string{
	`CREATE MATERIALIZED VIEW room_counts AS SELECT room_id, count(*) AS n FROM events GROUP BY room_id`,
	`CREATE MATERIALIZED VIEW user_totals AS SELECT user_id, sum(amount) AS total, max(amount) AS biggest FROM events GROUP BY user_id`,
	`CREATE MATERIALIZED VIEW minute_counts AS SELECT date_trunc('minute', ts) AS window_start, count(*) AS n FROM events GROUP BY 1`,
}

// tb lets internal/pgtest, written for tests, run inside `weir bench`: cleanups run at
// Close, Fatalf unwinds to startPostgres. Only the methods pgtest calls are provided.
type tb struct {
	testing.TB // nil; never called
	logger     *slog.Logger
	cleanups   []func()
	failed     bool
}

type fatal string

func (t *tb) Helper()                         {}
func (t *tb) Cleanup(f func())                { t.cleanups = append(t.cleanups, f) }
func (t *tb) Failed() bool                    { return t.failed }
func (t *tb) Logf(format string, args ...any) { t.logger.Info(fmt.Sprintf(format, args...)) }
func (t *tb) Errorf(format string, args ...any) {
	t.failed = true
	t.logger.Error(fmt.Sprintf(format, args...))
}
func (t *tb) Fatalf(format string, args ...any) {
	t.failed = true
	panic(fatal(fmt.Sprintf(format, args...)))
}

func (t *tb) cleanup() {
	for _, f := range slices.Backward(t.cleanups) {
		f()
	}
	t.cleanups = nil
}
