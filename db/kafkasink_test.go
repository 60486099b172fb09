package db_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/delta"
)

// changelog follows a sink's topic with a read_committed consumer and folds its changes.
type changelog struct {
	cl    *kgo.Client
	rows  map[string]int64 // row JSON → multiplicity
	seen  map[string]bool  // tick|row: each change must come once
	ticks []int64
	dups  []string
}

func followTopic(t *testing.T, brokers, topic string) *changelog {
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(50*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return &changelog{cl: cl, rows: map[string]int64{}, seen: map[string]bool{}}
}

// contents renders the folded rows as weirRows renders a view: values in column order.
func (c *changelog) contents(cols []string) []string {
	var out []string
	for row, n := range c.rows {
		var obj map[string]any
		d := json.NewDecoder(strings.NewReader(row))
		d.UseNumber()
		if d.Decode(&obj) != nil {
			continue
		}
		parts := make([]string, len(cols))
		for i, c := range cols {
			parts[i] = fmt.Sprint(obj[c])
		}
		for range n {
			out = append(out, strings.Join(parts, "|"))
		}
	}
	sort.Strings(out)
	return out
}

// waitEqual polls the topic until its folded changes equal Weir's answer to q.
func (c *changelog) waitEqual(t *testing.T, s *db.Session, q string, cols []string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var want, got []string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		fs := c.cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			var ch struct {
				Tick int64           `json:"tick"`
				Diff int64           `json:"diff"`
				Row  json.RawMessage `json:"row"`
			}
			require.NoError(t, json.Unmarshal(r.Value, &ch))
			id := fmt.Sprintf("%d|%s", ch.Tick, ch.Row)
			if c.seen[id] {
				c.dups = append(c.dups, id)
			}
			c.seen[id] = true
			c.rows[string(ch.Row)] += ch.Diff
			if c.rows[string(ch.Row)] == 0 {
				delete(c.rows, string(ch.Row))
			}
		})
		want, got = weirRows(t, s, q), c.contents(cols)
		if strings.Join(want, "\n") == strings.Join(got, "\n") {
			require.Empty(t, c.dups, "a change came twice")
			return
		}
	}
	require.Equal(t, want, got)
}

// TestKafkaSink: a view's changes reach a topic exactly once for read_committed
// consumers, across a crash of Weir (ticks only in its log, the subscription history
// lost) and a clean restart.
func TestKafkaSink(t *testing.T) {
	brokers := kafkaCluster(t, "totals", 3)
	dir := t.TempDir()
	d, s := openKafkaDB(t, dir, time.Hour)
	for _, q := range []string{
		`CREATE SOURCE gifts (room bigint NOT NULL, user_id bigint NOT NULL, amount bigint NOT NULL)`,
		`CREATE MATERIALIZED VIEW totals AS SELECT room, count(*) AS gifts, sum(amount) AS total FROM gifts GROUP BY room`,
		`CREATE SINK totals_out FROM totals WITH (connector = 'kafka', brokers = '` + brokers + `', topic = 'totals', format = 'json', key = 'room')`,
	} {
		weirExec(t, s, q)
	}
	cols := []string{"room", "gifts", "total"}
	log := followTopic(t, brokers, "totals")
	gift := func(d *db.DB, room, amount int64) {
		require.NoError(t, d.Ingest(context.Background(), "gifts", [][]delta.Value{{delta.Int(room), delta.Int(1), delta.Int(amount)}}))
	}
	for i := range 30 {
		gift(d, int64(i%4), int64(i))
	}
	log.waitEqual(t, s, `SELECT * FROM totals`, cols)

	// A crash while the sink is behind: it resumes from the tick in its state topic and
	// the changes it had not produced arrive once.
	for i := range 40 {
		gift(d, int64(i%5), 7)
	}
	d.StopConnectors()
	d.Crash()
	d, s = openKafkaDB(t, dir, time.Hour)
	for i := range 10 {
		gift(d, int64(i%6), 100)
	}
	log.waitEqual(t, s, `SELECT * FROM totals`, cols)

	// Changes made while the sink is stopped arrive after a restart, once.
	require.NoError(t, d.Close())
	d, s = openKafkaDB(t, dir, -1)
	defer d.Close()
	gift(d, 9, 9)
	log.waitEqual(t, s, `SELECT * FROM totals`, cols)
	shown := weirRows(t, s, `SHOW SINKS`)
	require.Len(t, shown, 1)
	require.True(t, strings.HasPrefix(shown[0], "totals_out|totals|kafka|totals|"), shown[0])
}
