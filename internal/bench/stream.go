package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/weirdb/weir/db"
)

// StreamResult is the best of streamRuns reads of the same rows by a pgx client, for
// issue #6's target "streaming 1M result rows to pgx at least as fast as PostgreSQL 15".
type StreamResult struct {
	System   string `json:"system"`   // "Weir" or "PostgreSQL"
	Relation string `json:"relation"` // what was read: "source events", "table events", …
	Query    string `json:"query"`
	// Format is the result format: "text" (simple query protocol) or "binary"
	// (extended protocol, pgx's default).
	Format string `json:"format"`
	Runs   int    `json:"runs"`
	Rows   int64  `json:"rows"`
	// Bytes is the size on the wire of the DataRow messages of one read: per row 7 bytes
	// of header and, per field, a 4-byte length and the value.
	Bytes      int64   `json:"bytes"`
	Seconds    float64 `json:"seconds"` // the best run's, Query sent to last row scanned
	RowsPerSec float64 `json:"rows_per_sec"`
	MBPerSec   float64 `json:"mb_per_sec"` // 10^6 bytes of DataRows per second
	// CPUSecPerMRows is the CPU time of the best run per million rows, server and client
	// together (see CPUWhat).
	CPUSecPerMRows float64 `json:"cpu_sec_per_m_rows,omitempty"`
	CPUWhat        string  `json:"cpu_what,omitempty"`
	LoadAvg        float64 `json:"load_avg"`
}

// streamRuns is how many times each read runs; the fastest counts, so that a run slowed
// by another process on the shared machine does not.
const streamRuns = 3

// streamQuery is the read: no ORDER BY, which would time a sort rather than the rows'
// way to the client; both systems scan and send.
func streamQuery(relation string, limit int) string {
	return fmt.Sprintf("SELECT room_id, user_id, amount, ts FROM %s LIMIT %d", relation, limit)
}

// streamFormats are the two ways pgx reads results: the simple query protocol returns
// text; the extended protocol asks for binary for the OIDs pgx knows (all four here).
var streamFormats = []struct {
	name string
	mode pgx.QueryExecMode
}{
	{"text", pgx.QueryExecModeSimpleProtocol},
	{"binary", pgx.QueryExecModeCacheStatement},
}

// streamTarget describes one relation to read on one system.
type streamTarget struct {
	system, relation, table string
	want                    int64 // rows the read must return
	cpu                     func() time.Duration
	cpuWhat                 string
}

// measureStream reads t in each format streamRuns times and returns the best run of each.
func measureStream(ctx context.Context, conn *pgx.Conn, t streamTarget, limit int, progress func(string)) ([]StreamResult, error) {
	q := streamQuery(t.table, limit)
	var out []StreamResult
	for _, f := range streamFormats {
		best := StreamResult{System: t.system, Relation: t.relation, Query: q, Format: f.name, Runs: streamRuns, CPUWhat: t.cpuWhat}
		for run := 1; run <= streamRuns; run++ {
			progress(fmt.Sprintf("%s: streaming %s rows of %s, %s, run %d/%d", t.system, count(t.want), t.relation, f.name, run, streamRuns))
			var cpu0 time.Duration
			if t.cpu != nil {
				cpu0 = t.cpu()
			}
			rows, bytes, d, err := streamRows(ctx, conn, q, f.mode)
			if err != nil {
				return nil, fmt.Errorf("%s: %s (%s): %w", t.system, q, f.name, err)
			}
			if rows != t.want {
				return nil, fmt.Errorf("%s: %s (%s): %d rows, want %d", t.system, q, f.name, rows, t.want)
			}
			if best.Seconds == 0 || d.Seconds() < best.Seconds {
				best.Rows, best.Bytes, best.Seconds = rows, bytes, d.Seconds()
				if t.cpu != nil {
					best.CPUSecPerMRows = (t.cpu() - cpu0).Seconds() / (float64(rows) / 1e6)
				}
			}
		}
		best.RowsPerSec = float64(best.Rows) / best.Seconds
		best.MBPerSec = float64(best.Bytes) / 1e6 / best.Seconds
		best.LoadAvg = loadAvg()
		out = append(out, best)
	}
	return out, nil
}

// streamRows runs q and scans every row into typed values, as an application would.
// It returns the rows, their DataRow bytes and the time from sending q to the end.
func streamRows(ctx context.Context, conn *pgx.Conn, q string, mode pgx.QueryExecMode) (n, size int64, d time.Duration, err error) {
	var (
		room, user, amount int64
		ts                 time.Time
	)
	// One destination slice for every row: Scan(&room, …) would allocate its variadic
	// slice per row, garbage that the harness process, which also runs Weir, collects.
	dst := []any{&room, &user, &amount, &ts}
	t0 := time.Now()
	rows, err := conn.Query(ctx, q, mode)
	if err != nil {
		return 0, 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		raw := rows.RawValues()
		size += 7
		for _, v := range raw {
			size += 4 + int64(len(v))
		}
		if err := rows.Scan(dst...); err != nil {
			return 0, 0, 0, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, 0, 0, err
	}
	return n, size, time.Since(t0), nil
}

// streamPassThrough is the optional view Weir also streams from: every event, as it
// came, stored in the view store like any view.
const streamPassThrough = "events_passthrough"

// weirStream measures Weir streaming rows to pgx from the events source and, when it
// can be created, from a pass-through view over it, which is dropped again afterwards.
func (r *runner) weirStream(ctx context.Context, w *weirServer) error {
	if r.cfg.StreamRows == 0 {
		return nil
	}
	conn, err := w.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	want := int64(min(r.cfg.StreamRows, len(r.events)))
	base := streamTarget{system: "Weir", want: want, cpu: cpuSelf,
		cpuWhat: "harness process: Weir, its DuckDB store and the pgx client"}
	src := base
	src.relation, src.table = "source events", "events"
	res, err := measureStream(ctx, conn, src, r.cfg.StreamRows, r.progress)
	if err != nil {
		return err
	}
	r.rep.Stream = append(r.rep.Stream, res...)

	r.progress("Weir: creating the pass-through view " + streamPassThrough)
	ckpts, _, _, _ := w.d.CheckpointStats()
	d, err := timeIt(ctx, func(ctx context.Context) error {
		_, err := conn.Exec(ctx, "CREATE MATERIALIZED VIEW "+streamPassThrough+" AS SELECT room_id, user_id, amount, ts FROM events")
		return err
	})
	if err != nil {
		r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("Streaming: Weir could not create the pass-through view %s, so it was not read: %v", streamPassThrough, err))
		return nil
	}
	// DDL is followed by a checkpoint, which encodes the new view's 1M rows on the
	// harness's cores; the reads are timed once it is written, not against it.
	if !waitCheckpoint(ctx, w.d, ckpts, time.Minute) {
		r.rep.Notes = append(r.rep.Notes, "Streaming: the checkpoint after creating the pass-through view had not finished after a minute; its reads ran alongside it.")
	}
	view := base
	view.relation, view.table = "view "+streamPassThrough+" (pass-through)", streamPassThrough
	res, err = measureStream(ctx, conn, view, r.cfg.StreamRows, r.progress)
	if err != nil {
		return err
	}
	r.rep.Stream = append(r.rep.Stream, res...)
	r.rep.Notes = append(r.rep.Notes, fmt.Sprintf("Streaming: creating Weir's pass-through view %s over the %s events took %.2f s; it was dropped after the reads.",
		streamPassThrough, count(int64(len(r.events))), d.Seconds()))
	if _, err := conn.Exec(ctx, "DROP MATERIALIZED VIEW "+streamPassThrough); err != nil {
		return fmt.Errorf("Weir: %w", err)
	}
	return nil
}

// postgresStream measures PostgreSQL streaming the same rows from its events table.
func (r *runner) postgresStream(ctx context.Context, pg *postgres) error {
	if r.cfg.StreamRows == 0 {
		return nil
	}
	conn, pid, err := pg.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	server, err := pgCPU(ctx, conn, pid)
	if err != nil {
		return err
	}
	res, err := measureStream(ctx, conn, streamTarget{
		system: "PostgreSQL", relation: "table events", table: "events",
		want:    int64(min(r.cfg.StreamRows, len(r.events))),
		cpu:     func() time.Duration { return server() + cpuSelf() },
		cpuWhat: "PostgreSQL backend and background processes, plus the harness process (the pgx client)",
	}, r.cfg.StreamRows, r.progress)
	if err != nil {
		return err
	}
	r.rep.Stream = append(r.rep.Stream, res...)
	return nil
}

// stream returns the result for system, relation and format, or nil.
func (rep *Report) stream(system, relation, format string) *StreamResult {
	for i := range rep.Stream {
		s := &rep.Stream[i]
		if s.System == system && s.Relation == relation && s.Format == format {
			return s
		}
	}
	return nil
}

// waitCheckpoint waits, at most limit, until d has taken more than after checkpoints.
func waitCheckpoint(ctx context.Context, d *db.DB, after int64, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if n, _, _, _ := d.CheckpointStats(); n > after {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}
