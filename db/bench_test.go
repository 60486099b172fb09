package db_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/delta"
)

// BenchmarkIngest measures end-to-end ingest into a source with three views (two
// aggregates and a join with a table), one tick per batch of 1000 events, committed to
// DuckDB. Reported as events/s.
func BenchmarkIngest(b *testing.B) {
	d := benchDB(b)
	defer d.Close()
	const batch = 1000
	rows := make([][]delta.Value, batch)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range rows {
			k := int64(i*batch + j)
			rows[j] = []delta.Value{delta.Int(k % 200), delta.Int(k % 5000), delta.Int(k % 97)}
		}
		require.NoError(b, d.Ingest(context.Background(), "gifts", rows))
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkIngestParallel is BenchmarkIngest with 16 concurrent writers of 100-event
// requests, as HTTP ingest sees them: group commit folds them into shared ticks.
func BenchmarkIngestParallel(b *testing.B) {
	d := benchDB(b)
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

func benchDB(b *testing.B) *db.DB {
	ctx := context.Background()
	d, err := db.Open(ctx, db.Config{Dir: b.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
