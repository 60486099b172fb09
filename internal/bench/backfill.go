package bench

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// BackfillResult is the time to create a view over the history already loaded.
type BackfillResult struct {
	System     string  `json:"system"`
	View       string  `json:"view"`
	Rows       int64   `json:"history_rows"`
	Seconds    float64 `json:"seconds"`
	RowsPerSec float64 `json:"rows_per_sec"`
	// CPUSecPerMRows is CPU seconds per million history rows of the process doing the
	// work: the harness process for Weir and DuckDB, the backend and background
	// processes for PostgreSQL.
	CPUSecPerMRows float64 `json:"cpu_sec_per_m_rows"`
	// PeakRSSBytes is this process's VmHWM over the backfill, reset before it: for Weir
	// and DuckDB, which run in it (0 for PostgreSQL).
	PeakRSSBytes int64 `json:"peak_rss_bytes,omitempty"`
}

// backfillView is a view created after the COPY workload over its whole history, in
// the same SQL on every system.
type backfillView struct {
	name, query string
}

var backfillViews = []backfillView{
	{"top_spenders", `SELECT room_id, rank, user_id, total FROM (` +
		`SELECT room_id, user_id, total, row_number() OVER (PARTITION BY room_id ORDER BY total DESC, user_id) AS rank ` +
		`FROM (SELECT room_id, user_id, sum(amount) AS total FROM events GROUP BY room_id, user_id) g) r WHERE rank <= 3`},
	{"category_totals", `SELECT r.category, count(*) AS n, sum(e.amount) AS total, count(DISTINCT e.user_id) AS users ` +
		`FROM events e JOIN rooms r ON r.room_id = e.room_id GROUP BY r.category`},
}

// checkBackfill checks that category_totals, just created, counts every row of the
// history (the other view has no such total).
func checkBackfill(scan func(q string, dest ...any) error, view string, rows int64) error {
	if view != "category_totals" {
		return nil
	}
	var n int64
	if err := scan(`SELECT sum(n)::bigint FROM category_totals`, &n); err != nil {
		return err
	}
	if n != rows {
		return fmt.Errorf("category_totals counts %d rows of history, not %d", n, rows)
	}
	return nil
}

// roomsCopy is the rooms table's rows as COPY text: every room of the workload in one
// of 20 categories.
func roomsCopy(rooms int) string {
	var b strings.Builder
	for r := 0; r <= rooms; r++ {
		fmt.Fprintf(&b, "%d\tcategory-%02d\n", r, r%20)
	}
	return b.String()
}

const roomsTable = `CREATE TABLE rooms (room_id bigint PRIMARY KEY, category text NOT NULL)`

func timeIt(ctx context.Context, f func(ctx context.Context) error) (time.Duration, error) {
	t0 := time.Now()
	err := f(ctx)
	return time.Since(t0), err
}

// backfills creates each backfill view on system with create, checks it with scan and
// records its time, CPU (cpu) and, when the system runs in this process (rss), peak RSS;
// drop, when not nil, drops the view again.
func (r *runner) backfills(ctx context.Context, system string, create, drop func(ctx context.Context, v backfillView) error,
	scan func(q string, dest ...any) error, cpu func() time.Duration, rss bool) error {
	rows := r.backfillRows()
	for _, v := range backfillViews {
		r.progress(system + ": backfilling " + v.name)
		if rss {
			resetPeakRSS()
		}
		cpu0 := cpu()
		d, err := timeIt(ctx, func(ctx context.Context) error { return create(ctx, v) })
		if err != nil {
			return fmt.Errorf("%s: backfill %s: %w", system, v.name, err)
		}
		res := BackfillResult{System: system, View: v.name, Rows: rows, Seconds: d.Seconds(), RowsPerSec: float64(rows) / d.Seconds(),
			CPUSecPerMRows: (cpu() - cpu0).Seconds() / (float64(rows) / 1e6)}
		if rss {
			res.PeakRSSBytes, _ = peakRSS()
		}
		if err := checkBackfill(scan, v.name, rows); err != nil {
			return fmt.Errorf("%s: backfill %s: %w", system, v.name, err)
		}
		r.rep.Backfill = append(r.rep.Backfill, res)
		if drop != nil {
			if err := drop(ctx, v); err != nil {
				return fmt.Errorf("%s: %w", system, err)
			}
		}
	}
	return nil
}
