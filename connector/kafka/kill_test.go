package kafka_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirdb/weir/internal/crashtest"
	"github.com/weirdb/weir/internal/pgtest"
)

// TestKill9 runs the connectors in a real `weir serve` that gets SIGKILL while events
// stream in from Kafka: after the restarts every produced event is in the source exactly
// once, and the Kafka sink's topic (read_committed) and the PostgreSQL sink's table both
// equal the view, and so does a table fed from the Kafka sink's topic (format 'changes').
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds weir, starts PostgreSQL, kills processes")
	}
	ctx := t.Context()
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "events"), kfake.SeedTopics(2, "totals"))
	require.NoError(t, err)
	defer cluster.Close()
	brokers := strings.Join(cluster.ListenAddrs(), ",")
	pg := pgtest.Start(t)

	bin := crashtest.Build(t, t.TempDir())
	srv := crashtest.NewServer(t, bin, t.TempDir())
	srv.Start()
	weir := func() *pgx.Conn {
		conn, err := pgx.Connect(ctx, srv.PGURL())
		require.NoError(t, err)
		return conn
	}
	conn := weir()
	for _, q := range []string{
		`CREATE SOURCE events (id bigint NOT NULL, room bigint NOT NULL) WITH (connector = 'kafka', brokers = '` + brokers + `', topic = 'events')`,
		`CREATE MATERIALIZED VIEW totals AS SELECT room, count(*) AS n, sum(id) AS ids FROM events GROUP BY room`,
		`CREATE SINK totals_kafka FROM totals WITH (connector = 'kafka', brokers = '` + brokers + `', topic = 'totals', key = 'room')`,
		`CREATE SINK totals_pg FROM totals WITH (connector = 'postgres', dsn = '` + pg.DSN() + `', table = 'totals', key = 'room')`,
		// The sink's topic read back into a table (the final stage of a global view).
		`CREATE TABLE totals_back (node text, room bigint, n bigint, ids numeric, PRIMARY KEY (node, room))
			WITH (connector = 'kafka', brokers = '` + brokers + `', topic = 'totals', format = 'changes', node_column = 'node')`,
	} {
		_, err := conn.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	conn.Close(ctx)

	prod, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ProducerLinger(time.Millisecond))
	require.NoError(t, err)
	defer prod.Close()
	var produced atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a steady stream of events with unique ids
		defer wg.Done()
		for id := int64(0); ; id += 50 {
			select {
			case <-stop:
				return
			default:
			}
			var recs []*kgo.Record
			for i := id; i < id+50; i++ {
				recs = append(recs, &kgo.Record{Topic: "events", Key: []byte(fmt.Sprint(i % 13)), Value: fmt.Appendf(nil, `{"id": %d, "room": %d}`, i, i%13)})
			}
			if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Errorf("produce: %v", err)
				return
			}
			produced.Store(id + 50)
			time.Sleep(2 * time.Millisecond)
		}
	}()
	for round := range 3 {
		time.Sleep(time.Duration(300+200*round) * time.Millisecond)
		srv.Kill()
		t.Logf("round %d: killed with %d events produced", round, produced.Load())
		srv.Start()
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	total := produced.Load()

	conn = weir()
	defer conn.Close(ctx)
	want := fmt.Sprintf("%d|%d", total, total)
	var got string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var n, distinct int64
		require.NoError(t, conn.QueryRow(ctx, `SELECT count(*), count(DISTINCT id) FROM events`).Scan(&n, &distinct))
		if got = fmt.Sprintf("%d|%d", n, distinct); got == want {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, want, got, "count and distinct ids in the source: every event once")

	view := rows(t, ctx, conn, `SELECT room, n, ids FROM totals`)
	require.Len(t, view, 13)

	pgc, err := pgx.Connect(ctx, pg.DSN())
	require.NoError(t, err)
	defer pgc.Close(ctx)
	eventually(t, func() []string { return rows(t, ctx, pgc, `SELECT room, n, ids FROM totals`) }, view, "PostgreSQL sink")

	fold := map[string]int64{}
	cons, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("totals"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	require.NoError(t, err)
	defer cons.Close()
	eventually(t, func() []string {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		cons.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
			var ch struct {
				Diff int64 `json:"diff"`
				Row  struct {
					Room, N int64
					IDs     json.Number `json:"ids"`
				} `json:"row"`
			}
			require.NoError(t, json.Unmarshal(r.Value, &ch))
			fold[fmt.Sprintf("%d|%d|%s", ch.Row.Room, ch.Row.N, ch.Row.IDs)] += ch.Diff
		})
		var out []string
		for row, n := range fold {
			require.GreaterOrEqual(t, n, int64(0), "a row retracted more often than inserted: %s", row)
			for range n {
				out = append(out, row)
			}
		}
		sort.Strings(out)
		return out
	}, view, "Kafka sink")

	// The table fed from the sink's topic holds the view, under the node's one identity.
	eventually(t, func() []string { return rows(t, ctx, conn, `SELECT room, n, ids FROM totals_back`) }, view, "table from the Kafka sink's topic")
	require.Equal(t, []string{"1"}, rows(t, ctx, conn, `SELECT count(DISTINCT node) FROM totals_back`))
}

func rows(t *testing.T, ctx context.Context, conn *pgx.Conn, q string) []string {
	t.Helper()
	rs, err := conn.Query(ctx, q, pgx.QueryExecModeSimpleProtocol)
	require.NoError(t, err)
	var out []string
	for rs.Next() {
		vals := rs.RawValues()
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = string(v)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	require.NoError(t, rs.Err())
	sort.Strings(out)
	return out
}

func eventually(t *testing.T, f func() []string, want []string, what string) {
	t.Helper()
	var got []string
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if got = f(); strings.Join(got, "\n") == strings.Join(want, "\n") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, want, got, what)
}
