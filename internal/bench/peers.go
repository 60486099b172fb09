package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgres runs the COPY workload's three PostgreSQL peers, streaming and the backfill on
// the same input: (a) COPY into a plain table with no views, (b) COPY + REFRESH
// MATERIALIZED VIEW of the three views after every batch, (c) COPY with the views
// refreshed every second on a second connection.
func (r *runner) postgres(ctx context.Context) error {
	r.progress("PostgreSQL: initdb and start")
	pg, err := startPostgres(r.logger)
	if err != nil {
		return err
	}
	defer pg.Close()
	r.rep.Machine.Postgres = pg.version(ctx)
	conn, pid, err := pg.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	cpu, err := pgCPU(ctx, conn, pid)
	if err != nil {
		return err
	}
	load := func(ctx context.Context, i int) error { return copyBinary(ctx, conn, "events", r.payloads[i]) }

	if err := execAll(ctx, conn, pgTable); err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	res, err := runBatches(ctx, ingestSystem{name: "PostgreSQL: COPY into a table, no views", load: load,
		cpu: cpu, cpuWhat: "PostgreSQL backend and background processes"}, r.events, r.cfg.Batches, r.progress)
	if err != nil {
		return err
	}
	r.rep.Ingest = append(r.rep.Ingest, res)

	if err := execAll(ctx, conn, "DROP TABLE events", "CHECKPOINT", pgTable); err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	if err := execAll(ctx, conn, pgViews...); err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	res, err = runBatches(ctx, ingestSystem{name: "PostgreSQL: COPY + REFRESH MATERIALIZED VIEW ×3", load: load,
		refresh: func(ctx context.Context) error { return refreshAll(ctx, conn) },
		read:    func(ctx context.Context, want totals) error { return check(pgScan(ctx, conn), want) },
		cpu:     cpu, cpuWhat: "PostgreSQL backend and background processes"}, r.events, r.cfg.Batches, r.progress)
	if err != nil {
		return err
	}
	r.rep.Ingest = append(r.rep.Ingest, res)

	// (c) The views refreshed every second on a second connection while the batches
	// load back to back: PostgreSQL's best rate with views at most about a second old.
	if err := execAll(ctx, conn, "DROP TABLE events CASCADE", "CHECKPOINT", pgTable); err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	if err := execAll(ctx, conn, pgViews...); err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	refresher, _, err := pg.connect(ctx)
	if err != nil {
		return err
	}
	defer refresher.Close(context.Background())
	cpu, err = pgCPU(ctx, conn, pid) // both backends now
	if err != nil {
		return err
	}
	res, err = runInterval(ctx, ingestSystem{name: fmt.Sprintf("PostgreSQL: COPY, REFRESH ×3 every %s on a second connection", refreshInterval),
		load:    load,
		refresh: func(ctx context.Context) error { return refreshAll(ctx, refresher) },
		read:    func(ctx context.Context, want totals) error { return check(pgScan(ctx, conn), want) },
		cpu:     cpu,
		cpuWhat: "PostgreSQL backends and background processes",
	}, refreshInterval, r.events, r.cfg.Batches, r.progress)
	if err != nil {
		return err
	}
	r.rep.Ingest = append(r.rep.Ingest, res)

	if err := r.postgresStream(ctx, pg); err != nil {
		return err
	}
	if !r.cfg.Backfill {
		return nil
	}
	if err := r.copyHistory(ctx, conn, "PostgreSQL"); err != nil {
		return err
	}
	if err := execAll(ctx, conn, "ANALYZE events", roomsTable,
		fmt.Sprintf(`INSERT INTO rooms SELECT r, 'category-' || lpad((r %% 20)::text, 2, '0') FROM generate_series(0, %d) r`, r.cfg.Rooms)); err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	return r.backfills(ctx, "PostgreSQL", pgCreate(conn), nil, pgScan(ctx, conn), cpu, false)
}

// refreshAll refreshes the COPY workload's three views.
func refreshAll(ctx context.Context, conn *pgx.Conn) error {
	for _, v := range viewNames {
		if _, err := conn.Exec(ctx, "REFRESH MATERIALIZED VIEW "+v); err != nil {
			return err
		}
	}
	return nil
}

// pgCPU returns a function summing the CPU time of the session's backend and of the
// cluster's background processes (checkpointer, WAL writer, …) present now.
// Autovacuum workers started later are not counted.
func pgCPU(ctx context.Context, conn *pgx.Conn, backend int) (func() time.Duration, error) {
	rows, err := conn.Query(ctx, `SELECT pid FROM pg_stat_activity`)
	if err != nil {
		return nil, err
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, err
	}
	return func() time.Duration {
		var total time.Duration
		for _, p := range pids {
			d, _ := cpuOf(int(p))
			total += d
		}
		return total
	}, nil
}

// duckdb runs the DuckDB peer: append each batch, then recompute the three views from
// scratch and read them back; then the backfill.
func (r *runner) duckdb(ctx context.Context) error {
	d, err := openDuck(ctx, r.root, "copy")
	if err != nil {
		return err
	}
	defer d.Close()
	r.rep.Machine.DuckDB = d.version(ctx)
	if err := d.exec(ctx, `SET TimeZone = 'UTC'`, duckTable); err != nil {
		return err
	}
	res, err := runBatches(ctx, ingestSystem{name: "DuckDB: append + recompute the views",
		load: func(ctx context.Context, i int) error {
			lo, hi := len(r.events)*i/r.cfg.Batches, len(r.events)*(i+1)/r.cfg.Batches
			return d.appendEvents(r.events[lo:hi])
		},
		refresh: func(ctx context.Context) error { return d.exec(ctx, duckViews...) },
		read:    func(ctx context.Context, want totals) error { return check(d.scan(ctx), want) },
		cpu:     cpuSelf, cpuWhat: "harness process: DuckDB", rss: true,
	}, r.events, r.cfg.Batches, r.progress)
	if err != nil {
		return err
	}
	r.rep.Ingest = append(r.rep.Ingest, res)

	if !r.cfg.Backfill {
		return nil
	}
	if err := r.loadHistory("DuckDB", d.appendEvents); err != nil {
		return err
	}
	if err := d.exec(ctx, roomsTable,
		fmt.Sprintf(`INSERT INTO rooms SELECT r, 'category-' || lpad((r %% 20)::text, 2, '0') FROM range(0, %d) t(r)`, r.cfg.Rooms+1)); err != nil {
		return err
	}
	return r.backfills(ctx, "DuckDB", func(ctx context.Context, v backfillView) error {
		return d.exec(ctx, "CREATE TABLE "+v.name+" AS "+v.query)
	}, nil, d.scan(ctx), cpuSelf, true)
}
