package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/server"
)

// weirServer is Weir running in this process: a database in a temporary directory and
// the server on loopback ports the kernel picks, as `weir serve` runs it. In-process, so
// that --cpuprofile and --memprofile see the engine.
type weirServer struct {
	d    *db.DB
	srv  *server.Server
	dsn  string
	http string // base URL of the HTTP API
}

func startWeir(ctx context.Context, dir string, noSync bool, logger *slog.Logger) (*weirServer, error) {
	d, err := db.Open(ctx, db.Config{Dir: dir, NoSync: noSync}, logger.With("component", "db"))
	if err != nil {
		return nil, err
	}
	srv, err := server.Start(server.Config{PGAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}, d, logger)
	if err != nil {
		d.Close()
		return nil, err
	}
	return &weirServer{
		d:    d,
		srv:  srv,
		dsn:  "postgres://weir@" + srv.PGAddr() + "/weir?sslmode=disable",
		http: "http://" + srv.HTTPAddr(),
	}, nil
}

// startWeirConn starts Weir in dir and connects to it; done closes both.
func (r *runner) startWeirConn(ctx context.Context, dir string) (w *weirServer, conn *pgx.Conn, done func(), err error) {
	if w, err = startWeir(ctx, dir, r.cfg.NoSync, r.logger); err != nil {
		return nil, nil, nil, err
	}
	if conn, err = w.connect(ctx); err != nil {
		w.Close()
		return nil, nil, nil, err
	}
	return w, conn, func() {
		conn.Close(context.WithoutCancel(ctx))
		w.Close()
	}, nil
}

func (w *weirServer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return errors.Join(w.srv.Shutdown(ctx), w.d.Close())
}

func (w *weirServer) connect(ctx context.Context) (*pgx.Conn, error) {
	return pgx.Connect(ctx, w.dsn)
}

// The COPY workload's schema and views, as Weir spells them.
var weirSchema = []string{
	`CREATE SOURCE events (room_id bigint NOT NULL, user_id bigint NOT NULL, amount bigint NOT NULL, ts timestamptz NOT NULL, WATERMARK FOR ts AS ts - INTERVAL '5 seconds')`,
	`CREATE MATERIALIZED VIEW room_counts AS SELECT room_id, count(*) AS n FROM events GROUP BY room_id`,
	`CREATE MATERIALIZED VIEW user_totals AS SELECT user_id, sum(amount) AS total, max(amount) AS biggest FROM events GROUP BY user_id`,
	`CREATE MATERIALIZED VIEW minute_counts AS SELECT window_start, count(*) AS n FROM TUMBLE(events, ts, INTERVAL '1 minute') GROUP BY window_start`,
}

// viewNames are the three views of the COPY workload, in every system.
var viewNames = []string{"room_counts", "user_totals", "minute_counts"}

// checkQuery reads all three views back: the events counted per room, the amounts
// summed per user and the events counted per minute. After a batch, each must equal
// the totals of everything copied so far, or the views were not current.
// total is numeric (sum of bigint); it is cast before it is summed because Weir's reads
// cannot aggregate a numeric view column yet (DuckDB answers "sum(VARCHAR)").
const checkQuery = `SELECT (SELECT sum(n) FROM room_counts)::bigint, (SELECT sum(total::bigint) FROM user_totals)::bigint, (SELECT sum(n) FROM minute_counts)::bigint`

// totals are what checkQuery must return after a prefix of the events.
type totals struct{ events, amount int64 }

func (t totals) add(es []Event) totals {
	for _, e := range es {
		t.events++
		t.amount += e.Amount
	}
	return t
}

// check runs checkQuery through scan and compares the answer with want.
func check(scan func(q string, dest ...any) error, want totals) error {
	var a, b, c *int64
	if err := scan(checkQuery, &a, &b, &c); err != nil {
		return fmt.Errorf("reading the views: %w", err)
	}
	got := func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	}
	if got(a) != want.events || got(b) != want.amount || got(c) != want.events {
		return fmt.Errorf("views not current: events per room sum to %d, amounts per user to %d, events per minute to %d; want %d, %d, %d",
			got(a), got(b), got(c), want.events, want.amount, want.events)
	}
	return nil
}

// pgScan adapts a pgx connection to check.
func pgScan(ctx context.Context, conn *pgx.Conn) func(q string, dest ...any) error {
	return func(q string, dest ...any) error { return conn.QueryRow(ctx, q).Scan(dest...) }
}

func execAll(ctx context.Context, conn *pgx.Conn, stmts ...string) error {
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", firstWords(s), err)
		}
	}
	return nil
}

func firstWords(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// copyBinary sends a binary COPY payload into table.
func copyBinary(ctx context.Context, conn *pgx.Conn, table string, p copyPayload) error {
	tag, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(p.data), "COPY "+table+" FROM STDIN (FORMAT binary)")
	if err != nil {
		return fmt.Errorf("COPY %s: %w", table, err)
	}
	if tag.RowsAffected() != int64(p.rows) {
		return fmt.Errorf("COPY %s: %d rows stored, %d sent", table, tag.RowsAffected(), p.rows)
	}
	return nil
}

// OperatorState is one stateful operator's size after the COPY workload.
type OperatorState struct {
	Operator  string `json:"operator"`
	Views     string `json:"views"`
	StateRows int64  `json:"state_rows"`
}

func operatorStates(ctx context.Context, conn *pgx.Conn) ([]OperatorState, error) {
	rows, err := conn.Query(ctx, `SELECT operator, views, state_rows FROM weir_operators WHERE state_rows > 0 ORDER BY node`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (OperatorState, error) {
		var s OperatorState
		err := r.Scan(&s.Operator, &s.Views, &s.StateRows)
		return s, err
	})
}

func viewRows(ctx context.Context, conn *pgx.Conn) (int64, error) {
	var total int64
	for _, v := range viewNames {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+v).Scan(&n); err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}
