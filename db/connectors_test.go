package db_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/sqlerr"
)

// kafkaCluster starts an in-process Kafka cluster (kfake) with topic's partitions.
func kafkaCluster(t testing.TB, topic string, partitions int32) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, topic))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ",")
}

// kafkaProducer returns a producer that writes to the partition each record names.
func kafkaProducer(t testing.TB, brokers string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
	require.NoError(t, err)
	t.Cleanup(cl.Close)
	return cl
}

// produceEvents produces events id in [from, to) as JSON, event i to partition i % parts.
func produceEvents(t testing.TB, cl *kgo.Client, topic string, parts, from, to int) {
	t.Helper()
	var recs []*kgo.Record
	for i := from; i < to; i++ {
		v := fmt.Sprintf(`{"id": %d, "room": %d, "ts": "2026-01-01T00:00:%02d.%06dZ"}`, i, i%7, (i/1000)%60, i%1000)
		recs = append(recs, &kgo.Record{Topic: topic, Partition: int32(i % parts), Value: []byte(v)})
		if len(recs) == 500 || i == to-1 {
			require.NoError(t, cl.ProduceSync(context.Background(), recs...).FirstErr())
			recs = recs[:0]
		}
	}
}

func openKafkaDB(t testing.TB, dir string, flush time.Duration) (*db.DB, *db.Session) {
	t.Helper()
	d, err := db.Open(context.Background(), db.Config{Dir: dir, TickInterval: -1, FlushInterval: flush, CheckpointInterval: -1},
		slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})))
	require.NoError(t, err)
	return d, d.NewSession(nil)
}

// waitRows polls q until it answers want (one row), or fails after a while.
func waitRows(t *testing.T, s *db.Session, q, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		got = weirRows(t, s, q)
		if len(got) == 1 && got[0] == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: got %v, want %s", q, got, want)
}

func countRows(t *testing.T, s *db.Session, q string) int {
	t.Helper()
	rows := weirRows(t, s, q)
	require.Len(t, rows, 1)
	n, err := strconv.Atoi(rows[0])
	require.NoError(t, err)
	return n
}

// TestKafkaSourceExactlyOnce: every produced event is in the source and the view exactly
// once, across a clean restart, a crash with the ticks only in the write-ahead log, and a
// crash in the middle of consuming a stream; malformed messages are dead letters, once.
func TestKafkaSourceExactlyOnce(t *testing.T) {
	const parts = 4
	brokers := kafkaCluster(t, "ev", parts)
	prod := kafkaProducer(t, brokers)
	dir := t.TempDir()
	d, s := openKafkaDB(t, dir, time.Hour) // nothing flushes on its own: recovery replays the log
	weirExec(t, s, `CREATE SOURCE ev (id bigint NOT NULL, room bigint NOT NULL, ts timestamptz NOT NULL)
		WITH (connector = 'kafka', brokers = '`+brokers+`', topic = 'ev', format = 'json', start = 'earliest')`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n, count(DISTINCT id) AS ids FROM ev GROUP BY room`)
	const check = `SELECT count(*), count(DISTINCT id), min(id), max(id) FROM ev`
	const viewCheck = `SELECT sum(n), sum(ids) FROM per_room`

	produceEvents(t, prod, "ev", parts, 0, 1000)
	bad := []*kgo.Record{
		{Topic: "ev", Partition: 1, Value: []byte(`{"id": "x"}`)},
		{Topic: "ev", Partition: 2, Value: []byte(`not json`)},
		{Topic: "ev", Partition: 2, Value: []byte{0xff, 0x00, 0x01}},
	}
	require.NoError(t, prod.ProduceSync(context.Background(), bad...).FirstErr())
	produceEvents(t, prod, "ev", parts, 1000, 1200)
	waitRows(t, s, check, "1200|1200|0|1199")
	require.Equal(t, []string{"1200|1200"}, weirRows(t, s, viewCheck))
	waitRows(t, s, `SELECT count(*) FROM weir_dead_letters`, "3")
	dl := weirRows(t, s, `SELECT source, topic, kafka_partition, kafka_offset, payload, error LIKE '%JSON%' OR error LIKE '%bigint%' OR error LIKE '%number%' FROM weir_dead_letters`)
	require.Equal(t, []string{
		`ev|ev|1|250|{"id": "x"}|true`,
		`ev|ev|2|250|not json|true`,
		`ev|ev|2|251|\xff0001|true`,
	}, dl)

	// A crash with every tick only in the write-ahead log, and events produced while down.
	d.StopConnectors()
	d.Crash()
	produceEvents(t, prod, "ev", parts, 1200, 2000)
	d, s = openKafkaDB(t, dir, time.Hour)
	waitRows(t, s, check, "2000|2000|0|1999")
	require.Equal(t, []string{"2000|2000"}, weirRows(t, s, viewCheck))
	require.Equal(t, 3, countRows(t, s, `SELECT count(*) FROM weir_dead_letters`))

	// A crash while a stream is being consumed.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		produceEvents(t, prod, "ev", parts, 2000, 6000)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for countRows(t, s, `SELECT count(*) FROM ev`) < 2500 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	d.StopConnectors()
	d.Crash()
	wg.Wait()
	d, s = openKafkaDB(t, dir, 0) // the default flush interval: flushes in the background
	waitRows(t, s, check, "6000|6000|0|5999")
	require.Equal(t, []string{"6000|6000"}, weirRows(t, s, viewCheck))

	// A clean restart.
	require.NoError(t, d.Close())
	produceEvents(t, prod, "ev", parts, 6000, 6100)
	d, s = openKafkaDB(t, dir, -1)
	defer d.Close()
	waitRows(t, s, check, "6100|6100|0|6099")
	require.Equal(t, []string{"6100|6100"}, weirRows(t, s, viewCheck))
	require.Equal(t, 3, countRows(t, s, `SELECT count(*) FROM weir_dead_letters`))
	for p := range parts {
		pos, ok := d.Progress(fmt.Sprintf("kafka/ev/%d", p))
		require.True(t, ok)
		want := 6100 / parts
		if p == 1 {
			want++
		}
		if p == 2 {
			want += 2
		}
		require.Equal(t, strconv.Itoa(want), pos, "partition %d", p)
	}
}

// TestKafkaSourceDropAndCSV: a CSV source; DROP SOURCE stops its consumer and forgets its
// positions, so a source created again under the name reads the topic from the start.
func TestKafkaSourceDropAndCSV(t *testing.T) {
	brokers := kafkaCluster(t, "lines", 2)
	prod := kafkaProducer(t, brokers)
	d, s := openKafkaDB(t, t.TempDir(), -1)
	defer d.Close()
	create := `CREATE SOURCE lines (id bigint NOT NULL, name text, amount numeric(6,2))
		WITH (connector = 'kafka', brokers = '` + brokers + `', topic = 'lines', format = 'csv')`
	weirExec(t, s, create)
	recs := []*kgo.Record{
		{Topic: "lines", Partition: 0, Value: []byte(`1,"one, with a comma",1.005`)},
		{Topic: "lines", Partition: 1, Value: []byte(`2,,2`)},
		{Topic: "lines", Partition: 1, Value: []byte(`3,three`)},         // missing a column
		{Topic: "lines", Partition: 0, Value: []byte("4,four,4\n5,x,5")}, // two lines
	}
	require.NoError(t, prod.ProduceSync(context.Background(), recs...).FirstErr())
	waitRows(t, s, `SELECT count(*) FROM weir_dead_letters`, "2")
	require.Equal(t, []string{`1|one, with a comma|1.01`, `2|NULL|2.00`}, weirRows(t, s, `SELECT * FROM lines`))

	weirExec(t, s, `DROP SOURCE lines`)
	_, ok := d.Progress("kafka/lines/0")
	require.False(t, ok, "a dropped source's positions are forgotten")
	weirExec(t, s, create)
	waitRows(t, s, `SELECT count(*) FROM lines`, "2")
	waitRows(t, s, `SELECT count(*) FROM weir_dead_letters`, "4")
}

// TestKafkaSourceCreateErrors: the options are checked at CREATE, with the option named.
func TestKafkaSourceCreateErrors(t *testing.T) {
	d, s := openKafkaDB(t, "", -1)
	defer d.Close()
	for _, tc := range []struct {
		with string
		code sqlerr.Code
		word string
	}{
		{`connector = 'kafka', topic = 't'`, sqlerr.InvalidParameterValue, "brokers"},
		{`connector = 'kafka', brokers = 'localhost:9092'`, sqlerr.InvalidParameterValue, "topic"},
		{`connector = 'kafka', brokers = 'localhost', topic = 't'`, sqlerr.InvalidParameterValue, "brokers"},
		{`connector = 'kafka', brokers = 'localhost:9092', topic = 't', colour = 'red'`, sqlerr.InvalidParameterValue, "colour"},
		{`connector = 'kafka', brokers = 'localhost:9092', topic = 't', format = 'avro'`, sqlerr.FeatureNotSupported, "avro"},
		{`connector = 'kafka', brokers = 'localhost:9092', topic = 't', start = 'middle'`, sqlerr.InvalidParameterValue, "start"},
		{`connector = 'kinesis'`, sqlerr.FeatureNotSupported, "kinesis"},
	} {
		t.Run(tc.word, func(t *testing.T) {
			p, err := s.Prepare(context.Background(), `CREATE SOURCE k (x bigint) WITH (`+tc.with+`)`, nil)
			if err == nil {
				_, err = p.Execute(context.Background(), nil)
			}
			require.Error(t, err)
			require.Equal(t, tc.code, sqlerr.CodeOf(err), "%v", err)
			require.Contains(t, err.Error(), tc.word)
		})
	}
	require.Empty(t, weirRows(t, s, `SHOW SOURCES`), "no failed CREATE leaves a source behind")
}

// TestKafkaSourcePartitionWatermark: a source's watermark does not pass a partition that
// lags, so the lagging partition's events are not late.
func TestKafkaSourcePartitionWatermark(t *testing.T) {
	brokers := kafkaCluster(t, "wm", 2)
	prod := kafkaProducer(t, brokers)
	d, s := openKafkaDB(t, t.TempDir(), -1)
	defer d.Close()
	weirExec(t, s, `CREATE SOURCE wm (id bigint NOT NULL, ts timestamptz NOT NULL, WATERMARK FOR ts AS ts - INTERVAL '1 second')
		WITH (connector = 'kafka', brokers = '`+brokers+`', topic = 'wm')`)
	rec := func(p int32, id, sec int) *kgo.Record {
		return &kgo.Record{Topic: "wm", Partition: p, Value: []byte(fmt.Sprintf(`{"id": %d, "ts": "2026-01-01T00:%02d:00Z"}`, id, sec))}
	}
	// Partition 1 lags (minute 10); partition 0 runs ahead (minute 50). A partition holds
	// the watermark back once it has delivered an event (partitionBound), so the lagging
	// one delivers first: produced together, a poll could return partition 0's record alone.
	require.NoError(t, prod.ProduceSync(context.Background(), rec(1, 2, 10)).FirstErr())
	waitRows(t, s, `SELECT count(*) FROM wm`, "1")
	require.NoError(t, prod.ProduceSync(context.Background(), rec(0, 1, 50)).FirstErr())
	waitRows(t, s, `SELECT count(*) FROM wm`, "2")
	// One more tick, so the bound recorded by the last one is in force.
	require.NoError(t, prod.ProduceSync(context.Background(), rec(1, 3, 11)).FirstErr())
	waitRows(t, s, `SELECT count(*) FROM wm`, "3")
	wm := d.EventTime()[0]
	require.Equal(t, time.Date(2026, 1, 1, 0, 11, 0, 0, time.UTC).Add(-time.Second).UnixMicro(), wm.Watermark,
		"the watermark is the lagging partition's")
	// Partition 1 carries on from minute 12: none of it is late.
	require.NoError(t, prod.ProduceSync(context.Background(), rec(1, 4, 12), rec(1, 5, 30)).FirstErr())
	waitRows(t, s, `SELECT count(*) FROM wm`, "5")
	require.Equal(t, int64(0), d.EventTime()[0].LateEvents)
	require.Equal(t, []string{"0"}, weirRows(t, s, `SELECT count(*) FROM weir_late_events`))
	// Behind the slowest partition is late.
	require.NoError(t, prod.ProduceSync(context.Background(), rec(0, 6, 1)).FirstErr())
	waitRows(t, s, `SELECT count(*) FROM wm`, "6")
	require.Equal(t, int64(1), d.EventTime()[0].LateEvents)
}

// BenchmarkKafkaThroughput measures Kafka → view throughput on one node: events produced to
// an in-process cluster beforehand, then consumed into a source with a grouped view.
// WEIR_KAFKA_BENCH sets the number of events (default 200000); run it once with
// -bench KafkaThroughput -benchtime=1x.
func BenchmarkKafkaThroughput(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("WEIR_KAFKA_BENCH"))
	if n == 0 {
		n = 200_000
	}
	t := b // the helpers take a testing.TB
	const parts = 8
	brokers := kafkaCluster(t, "bench", parts)
	prod := kafkaProducer(t, brokers)
	produceEvents(t, prod, "bench", parts, 0, n)
	d, s := openKafkaDB(t, t.TempDir(), 0)
	defer d.Close()
	start := time.Now()
	weirExec(t, s, `CREATE SOURCE bench (id bigint NOT NULL, room bigint NOT NULL, ts timestamptz NOT NULL)
		WITH (connector = 'kafka', brokers = '`+brokers+`', topic = 'bench')`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW bench_rooms AS SELECT room, count(*) AS n, sum(id) AS ids FROM bench GROUP BY room`)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if got := weirRows(t, s, `SELECT sum(n) FROM bench_rooms`); len(got) == 1 && got[0] == strconv.Itoa(n) {
			break
		}
		require.True(t, time.Now().Before(deadline), "not all events arrived")
		time.Sleep(10 * time.Millisecond)
	}
	el := time.Since(start)
	b.ReportMetric(float64(n)/el.Seconds(), "events/s")
	b.ReportMetric(float64(d.Tick()), "ticks")
}

// ids returns the ids of a source, sorted.
func ids(t *testing.T, s *db.Session, source string) []int {
	t.Helper()
	var out []int
	for _, r := range weirRows(t, s, `SELECT id FROM `+source) {
		n, err := strconv.Atoi(r)
		require.NoError(t, err)
		out = append(out, n)
	}
	return out
}

// TestKafkaSourceGroupRebalance: two nodes in one consumer group share a topic's
// partitions. When the second joins, a rebalance moves partitions to it; when it leaves,
// they move back. Every event is on exactly one node, once.
func TestKafkaSourceGroupRebalance(t *testing.T) {
	const parts = 4
	brokers := kafkaCluster(t, "rooms", parts)
	prod := kafkaProducer(t, brokers)
	create := `CREATE SOURCE ev (id bigint NOT NULL, room bigint NOT NULL, ts timestamptz NOT NULL)
		WITH (connector = 'kafka', brokers = '` + brokers + `', topic = 'rooms', group = 'weir-nodes')`
	a, sa := openKafkaDB(t, t.TempDir(), -1)
	defer a.Close()
	weirExec(t, sa, create)
	produceEvents(t, prod, "rooms", parts, 0, 1000)
	waitRows(t, sa, `SELECT count(*) FROM ev`, "1000")

	b, sb := openKafkaDB(t, t.TempDir(), -1)
	weirExec(t, sb, create)
	// Events arrive while the group rebalances, until both nodes have some of the new ones.
	next := 1000
	deadline := time.Now().Add(30 * time.Second)
	for countRows(t, sb, `SELECT count(*) FROM ev`) == 0 || countRows(t, sa, `SELECT count(*) FROM ev WHERE id >= 1000`) == 0 {
		require.True(t, time.Now().Before(deadline), "the second node never got partitions")
		produceEvents(t, prod, "rooms", parts, next, next+100)
		next += 100
		time.Sleep(50 * time.Millisecond)
	}
	produceEvents(t, prod, "rooms", parts, next, next+1000)
	next += 1000
	total := func() int {
		return countRows(t, sa, `SELECT count(*) FROM ev`) + countRows(t, sb, `SELECT count(*) FROM ev`)
	}
	deadline = time.Now().Add(30 * time.Second)
	for total() < next && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	onA, onB := ids(t, sa, "ev"), ids(t, sb, "ev")
	require.Equal(t, next, len(onA)+len(onB), "every event once, over both nodes")
	all := append(append([]int{}, onA...), onB...)
	sort.Ints(all)
	for i, id := range all {
		require.Equal(t, i, id, "event %d missing or duplicated", i)
	}
	t.Logf("after the join: node A %d events, node B %d", len(onA), len(onB))

	// The second node leaves: its partitions go back to the first, which resumes them
	// where the second left off (the group's offsets are ahead of its own positions).
	require.NoError(t, b.Close())
	produceEvents(t, prod, "rooms", parts, next, next+1000)
	want := next + 1000 - len(onB)
	waitRows(t, sa, `SELECT count(*), count(DISTINCT id) FROM ev`, fmt.Sprintf("%d|%d", want, want))
}

// BenchmarkKafkaThroughputTwoNodes is BenchmarkKafkaThroughput with two nodes in one consumer group
// on this machine (WEIR_KAFKA_BENCH events); it reports the events/s of the pair.
func BenchmarkKafkaThroughputTwoNodes(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("WEIR_KAFKA_BENCH"))
	if n == 0 {
		n = 200_000
	}
	t := b // the helpers take a testing.TB
	const parts = 8
	brokers := kafkaCluster(t, "bench2", parts)
	prod := kafkaProducer(t, brokers)
	produceEvents(t, prod, "bench2", parts, 0, n)
	var sessions []*db.Session
	for range 2 {
		d, s := openKafkaDB(t, t.TempDir(), 0)
		defer d.Close()
		sessions = append(sessions, s)
	}
	start := time.Now()
	for _, s := range sessions {
		weirExec(t, s, `CREATE SOURCE bench2 (id bigint NOT NULL, room bigint NOT NULL, ts timestamptz NOT NULL)
			WITH (connector = 'kafka', brokers = '`+brokers+`', topic = 'bench2', group = 'bench')`)
		weirExec(t, s, `CREATE MATERIALIZED VIEW bench_rooms AS SELECT room, count(*) AS n FROM bench2 GROUP BY room`)
	}
	deadline := time.Now().Add(5 * time.Minute)
	var per []int
	for {
		per = per[:0]
		sum := 0
		for _, s := range sessions {
			got := weirRows(t, s, `SELECT coalesce(sum(n), 0) FROM bench_rooms`)
			c, _ := strconv.Atoi(got[0])
			per, sum = append(per, c), sum+c
		}
		if sum >= n {
			require.Equal(t, n, sum)
			break
		}
		require.True(t, time.Now().Before(deadline), "not all events arrived")
		time.Sleep(10 * time.Millisecond)
	}
	el := time.Since(start)
	b.ReportMetric(float64(n)/el.Seconds(), "events/s")
	b.Logf("events per node: %v", per)
}

// BenchmarkKafkaGlobalViewFreshness measures the freshness of a global view across two
// nodes (docs/scale-out.md §4): with both nodes running the pack of
// TestKafkaGlobalViewTwoNodes, one gift is produced at a time and timed until the global
// view room_totals on the node that does NOT own the gift's partition shows it (its
// subscription delivers the change): the owner's tick, its sink's transaction, the other
// node's read_committed poll of the internal topic and its tick. WEIR_KAFKA_FRESHNESS
// sets the number of samples (default 200); run it once with
// -bench KafkaGlobalViewFreshness -benchtime=1x. It reports p50 and p99 in ms.
func BenchmarkKafkaGlobalViewFreshness(b *testing.B) {
	samples, _ := strconv.Atoi(os.Getenv("WEIR_KAFKA_FRESHNESS"))
	if samples == 0 {
		samples = 200
	}
	t := b
	brokers := globalCluster(t)
	prod := kafkaProducer(t, brokers)
	o := newGiftOracle()
	var dbs []*db.DB
	var sessions []*db.Session
	for range 2 {
		d, s := openKafkaDB(t, t.TempDir(), 0)
		defer d.Close()
		for _, q := range globalDDL(brokers) {
			weirExec(t, s, q)
		}
		dbs, sessions = append(dbs, d), append(sessions, s)
	}
	// Warm up until both nodes own partitions and both global views are caught up.
	count := func(s *db.Session, q string) int {
		n, _ := strconv.Atoi(weirRows(t, s, q)[0])
		return n
	}
	next := 0
	deadline := time.Now().Add(time.Minute)
	for count(sessions[0], `SELECT count(*) FROM gifts`) == 0 || count(sessions[1], `SELECT count(*) FROM gifts`) == 0 {
		require.True(t, time.Now().Before(deadline), "the nodes never shared the partitions")
		o.produceGifts(t, prod, next, next+50)
		next += 50
		time.Sleep(50 * time.Millisecond)
	}
	o.produceGifts(t, prod, next, next+200)
	next += 200
	waitGlobal(t, "0", sessions[0], o)
	waitGlobal(t, "1", sessions[1], o)
	// Each partition's owner: the node holding its latest gift.
	owner := map[int64]int{}
	latest := map[int64]int{}
	for i, s := range sessions {
		for _, r := range weirRows(t, s, fmt.Sprintf(`SELECT room_id %% %d, max(id) FROM gifts GROUP BY 1`, giftParts)) {
			var p int64
			var id int
			fmt.Sscanf(r, "%d|%d", &p, &id)
			if id >= latest[p] {
				latest[p], owner[p] = id, i
			}
		}
	}
	require.Len(t, owner, giftParts)
	var subs []*db.Subscription
	for _, d := range dbs {
		sub, _, _, err := d.Subscribe("room_totals", 0, 1<<16)
		require.NoError(t, err)
		defer sub.Close()
		subs = append(subs, sub)
	}
	rel, err := dbs[0].Catalog().Get("room_totals")
	require.NoError(t, err)
	nType := rel.Columns[1].Type
	drain := func(sub *db.Subscription) {
		for {
			select {
			case <-sub.C:
			default:
				return
			}
		}
	}
	lat := make([]time.Duration, 0, samples)
	notOn := [2][]string{} // per node, the gifts timed on it
	b.ResetTimer()
	for i := range samples {
		room := int64(i % giftParts) // rooms 0..7 are on partitions 0..7
		other := subs[1-owner[room%giftParts]]
		drain(subs[0])
		drain(subs[1])
		want := strconv.FormatInt(o.n[room]+1, 10)
		o.n[room]++
		o.coins[room]++
		start := time.Now()
		require.NoError(t, prod.ProduceSync(context.Background(), &kgo.Record{Topic: giftsTopic, Partition: int32(room % giftParts),
			Value: []byte(fmt.Sprintf(`{"id": %d, "room_id": %d, "coins": 1}`, next, room))}).FirstErr())
		next++
		timeout := time.After(30 * time.Second)
	wait:
		for {
			select {
			case ch, ok := <-other.C:
				require.True(t, ok, "subscription ended: %v", other.Err())
				for j := 0; j < ch.Rows.Len(); j++ {
					if ch.Rows.Weights[j] > 0 && ch.Rows.Cols[0].Get(j).I == room && expr.Format(ch.Rows.Cols[1].Get(j), nType) == want {
						break wait
					}
				}
			case <-timeout:
				t.Fatalf("gift %d of room %d never reached the other node's global view", next-1, room)
			}
		}
		lat = append(lat, time.Since(start))
		notOn[1-owner[room%giftParts]] = append(notOn[1-owner[room%giftParts]], strconv.Itoa(next-1))
	}
	b.StopTimer()
	for i, ids := range notOn { // each gift was timed on the node that did not ingest it
		if len(ids) > 0 {
			require.Equal(t, "0", weirRows(t, sessions[i], `SELECT count(*) FROM gifts WHERE id IN (`+strings.Join(ids, ",")+`)`)[0])
		}
	}
	slices.Sort(lat)
	pct := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.Logf("freshness of the global view on the other node over %d gifts: p50 %.1f ms, p99 %.1f ms, max %.1f ms", len(lat), pct(0.5), pct(0.99), pct(1))
}

// TestKafkaDeadLettersRecreated: weir_dead_letters dropped by hand (weir apply --prune
// drops what no file declares) comes back with the next malformed message.
func TestKafkaDeadLettersRecreated(t *testing.T) {
	brokers := kafkaCluster(t, "dl", 1)
	prod := kafkaProducer(t, brokers)
	d, s := openKafkaDB(t, t.TempDir(), time.Hour)
	defer d.Close()
	weirExec(t, s, `CREATE SOURCE dl (id bigint NOT NULL) WITH (connector = 'kafka', brokers = '`+brokers+`', topic = 'dl')`)
	weirExec(t, s, `DROP SOURCE weir_dead_letters`)
	require.NoError(t, prod.ProduceSync(context.Background(), &kgo.Record{Topic: "dl", Value: []byte(`{"id": 1}`)},
		&kgo.Record{Topic: "dl", Value: []byte(`{"id": null}`)}, &kgo.Record{Topic: "dl", Value: []byte(`{"id": 3}`)}).FirstErr())
	waitRows(t, s, `SELECT count(*) FROM dl`, "2")
	require.Equal(t, []string{`0|1|{"id": null}`}, weirRows(t, s, `SELECT kafka_partition, kafka_offset, payload FROM weir_dead_letters`))
}

// TestKafkaSourceStartLatest: start = 'latest' skips what the topic held at CREATE, and the
// position it started from is committed at once, so a restart does not skip what arrived
// in between.
func TestKafkaSourceStartLatest(t *testing.T) {
	brokers := kafkaCluster(t, "late", 2)
	prod := kafkaProducer(t, brokers)
	produceEvents(t, prod, "late", 2, 0, 10)
	dir := t.TempDir()
	d, s := openKafkaDB(t, dir, time.Hour)
	weirExec(t, s, `CREATE SOURCE late (id bigint NOT NULL, room bigint NOT NULL, ts timestamptz NOT NULL)
		WITH (connector = 'kafka', brokers = '`+brokers+`', topic = 'late', start = 'latest')`)
	deadline := time.Now().Add(10 * time.Second)
	for { // the positions are committed before the first poll
		_, ok0 := d.Progress("kafka/late/0")
		_, ok1 := d.Progress("kafka/late/1")
		if ok0 && ok1 {
			break
		}
		require.True(t, time.Now().Before(deadline), "no start positions committed")
		time.Sleep(10 * time.Millisecond)
	}
	d.StopConnectors()
	d.Crash()
	produceEvents(t, prod, "late", 2, 10, 14) // while Weir is down
	d, s = openKafkaDB(t, dir, time.Hour)
	defer d.Close()
	produceEvents(t, prod, "late", 2, 14, 16)
	waitRows(t, s, `SELECT count(*), min(id), max(id) FROM late`, "6|10|15")
}
