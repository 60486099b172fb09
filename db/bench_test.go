package db_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/delta"
)

// BenchmarkIngest measures end-to-end ingest into a source with three views (two
// aggregates and a join with a table), one tick per batch of 1000 events. Modes: the
// default (each tick fsynced in the write-ahead log, flushed to DuckDB in batches),
// nosync (no fsync: what durability costs), and flush-every-tick (each tick also
// written to DuckDB before it is acknowledged, as before the log). Reported: events/s,
// tick latency p50/p99 and the flushes' mean and longest duration.
func BenchmarkIngest(b *testing.B) {
	for _, mode := range []struct {
		name string
		cfg  db.Config
	}{
		{"fsync", db.Config{}},
		{"nosync", db.Config{NoSync: true}},
		{"flush-every-tick", db.Config{FlushInterval: -1}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			d := benchDB(b, mode.cfg)
			defer d.Close()
			const batch = 1000
			rows := make([][]delta.Value, batch)
			lat := make([]time.Duration, 0, b.N)
			f0, t0, _ := d.FlushStats()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range rows {
					k := int64(i*batch + j)
					rows[j] = []delta.Value{delta.Int(k % 200), delta.Int(k % 5000), delta.Int(k % 97)}
				}
				start := time.Now()
				require.NoError(b, d.Ingest(context.Background(), "gifts", rows))
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			f1, t1, longest := d.FlushStats()
			if f1 > f0 {
				b.ReportMetric(float64((t1-t0).Microseconds())/1000/float64(f1-f0), "flush-ms")
				b.ReportMetric(float64(longest.Microseconds())/1000, "max-flush-ms")
			}
		})
	}
}

// BenchmarkIngestParallel is BenchmarkIngest with 16 concurrent writers of 100-event
// requests, as HTTP ingest sees them: group commit folds them into shared ticks.
func BenchmarkIngestParallel(b *testing.B) {
	d := benchDB(b, db.Config{})
	defer d.Close()
	const batch = 100
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rows := make([][]delta.Value, batch)
		k := int64(0)
		for pb.Next() {
			for j := range rows {
				k++
				rows[j] = []delta.Value{delta.Int(k % 200), delta.Int(k % 5000), delta.Int(k % 97)}
			}
			if err := d.Ingest(context.Background(), "gifts", rows); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}

func benchDB(b *testing.B, cfg db.Config) *db.DB {
	ctx := context.Background()
	cfg.Dir = b.TempDir()
	d, err := db.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(b, err)
	s := d.NewSession(nil)
	for _, q := range []string{
		`CREATE SOURCE gifts (room_id bigint NOT NULL, user_id bigint NOT NULL, price bigint NOT NULL)`,
		`CREATE TABLE rooms (room_id bigint PRIMARY KEY, category text)`,
		`INSERT INTO rooms SELECT 1, 'x'`,
	} {
		p, err := s.Prepare(ctx, q, nil)
		if err != nil {
			continue
		}
		_, err = p.Execute(ctx, nil)
		require.NoError(b, err)
	}
	for r := 0; r < 200; r++ {
		p, err := s.Prepare(ctx, "INSERT INTO rooms VALUES ($1, 'cat')", nil)
		require.NoError(b, err)
		_, err = p.Execute(ctx, []any{int64(r)})
		require.NoError(b, err)
	}
	for _, q := range []string{
		`CREATE MATERIALIZED VIEW a AS SELECT room_id, count(*) AS n, count(DISTINCT user_id) AS u FROM gifts GROUP BY room_id`,
		`CREATE MATERIALIZED VIEW b AS SELECT room_id, sum(price) AS s, max(price) AS m FROM gifts GROUP BY room_id`,
		`CREATE MATERIALIZED VIEW c AS SELECT r.category, sum(g.price) AS s FROM gifts g JOIN rooms r ON g.room_id = r.room_id GROUP BY r.category`,
	} {
		p, err := s.Prepare(ctx, q, nil)
		require.NoError(b, err)
		_, err = p.Execute(ctx, nil)
		require.NoError(b, err)
	}
	return d
}

// BenchmarkViewRead measures one read of three aggregate views of 90k rows in all,
// weir bench's check after each COPY batch: sums over every row of each view, served
// from the views' rows in memory (memread.go). unchanged reads again and again;
// after-tick reads after a tick of 10k rows (not timed) that changed 10k groups, as
// weir bench's reads do.
func BenchmarkViewRead(b *testing.B) {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{Dir: b.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(b, err)
	defer d.Close()
	s := d.NewSession(nil)
	execute := func(p *db.Prepared) {
		rows, err := p.Execute(ctx, nil)
		require.NoError(b, err)
		dst := make([]any, len(rows.Columns()))
		for rows.Next(dst) {
		}
		require.NoError(b, rows.Err())
		rows.Close()
	}
	prepare := func(q string) *db.Prepared {
		p, err := s.Prepare(ctx, q, nil)
		require.NoError(b, err, q)
		return p
	}
	for _, q := range []string{
		`CREATE SOURCE events (room_id bigint NOT NULL, user_id bigint NOT NULL, amount bigint NOT NULL)`,
		`CREATE MATERIALIZED VIEW room_counts AS SELECT room_id, count(*) AS n FROM events GROUP BY room_id`,
		`CREATE MATERIALIZED VIEW user_totals AS SELECT user_id, sum(amount) AS total, max(amount) AS biggest FROM events GROUP BY user_id`,
		`CREATE MATERIALIZED VIEW user_counts AS SELECT user_id % 7 AS k, count(*) AS n FROM events GROUP BY 1`,
	} {
		execute(prepare(q))
	}
	// Rows come in a shuffled order, so that the bags' rows are replaced, and scattered
	// over the heap, in an order other than the bags' own, as a stream's are.
	const users, batch = 90_000, 10_000
	perm := rand.New(rand.NewPCG(1, 2)).Perm(2 * users)
	rows := make([][]delta.Value, batch)
	for i := range 2 * users / batch {
		for j := range rows {
			k := int64(perm[i*batch+j])
			rows[j] = []delta.Value{delta.Int(k % 1000), delta.Int(k % users), delta.Int(k%997 + 1)}
		}
		require.NoError(b, d.Ingest(ctx, "events", rows))
	}
	// Prepared once, as a driver's statement cache does (the live-room benchmark's reads).
	p := prepare(`SELECT (SELECT sum(n) FROM room_counts)::bigint, (SELECT sum(total::bigint) FROM user_totals)::bigint, (SELECT sum(n) FROM user_counts)::bigint`)
	b.Run("unchanged", func(b *testing.B) {
		for b.Loop() {
			execute(p)
		}
	})
	b.Run("after-tick", func(b *testing.B) {
		next := 0
		for b.Loop() {
			b.StopTimer()
			for j := range rows {
				k := int64(perm[next%len(perm)])
				next++
				rows[j] = []delta.Value{delta.Int(k % 1000), delta.Int(k % users), delta.Int(k%997 + 1)}
			}
			require.NoError(b, d.Ingest(ctx, "events", rows))
			b.StartTimer()
			execute(p)
		}
	})
}
