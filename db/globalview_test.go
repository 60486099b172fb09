package db_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirdb/weir/connector/kafka"
	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/sqlerr"
)

// The global-view pattern of docs/scale-out.md §4: each node computes a partial view over
// the partitions it owns and sinks it to an internal topic; every node reads that topic
// whole into a keyed table (the producing node in its key) and computes the global view
// from it, so a read on any node is answered locally.

const (
	giftsTopic    = "gifts"
	partialsTopic = "weir.trending.partials"
	giftParts     = 8
	giftRooms     = 20
	hotRoom       = 3 // the richest room, taken off the air mid-test
)

// globalCluster starts a kfake cluster with the gifts topic and the internal topic.
func globalCluster(t testing.TB) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(giftParts, giftsTopic), kfake.SeedTopics(4, partialsTopic))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return strings.Join(c.ListenAddrs(), ",")
}

// globalDDL is the pack every node applies: a source in the consumer group, the local
// partial over the rooms on the air (a join, so that taking a room off the air retracts
// its partial rows), its sink to the internal topic keyed by room, the replicated table
// of every node's partials, and two global views over it.
func globalDDL(brokers string) []string {
	return []string{
		`CREATE SOURCE gifts (id bigint NOT NULL, room_id bigint NOT NULL, coins bigint NOT NULL)
			WITH (connector = 'kafka', brokers = '` + brokers + `', topic = '` + giftsTopic + `', group = 'weir-nodes')`,
		`CREATE TABLE live_rooms (room_id bigint PRIMARY KEY)`,
		`INSERT INTO live_rooms VALUES ` + roomValues(),
		`CREATE MATERIALIZED VIEW room_partials AS SELECT g.room_id, count(*) AS n, sum(g.coins) AS coins
			FROM gifts g JOIN live_rooms r ON g.room_id = r.room_id GROUP BY g.room_id`,
		`CREATE SINK room_partials_out FROM room_partials
			WITH (connector = 'kafka', brokers = '` + brokers + `', topic = '` + partialsTopic + `', key = 'room_id')`,
		`CREATE TABLE room_partials_all (node text, room_id bigint, n bigint, coins bigint, PRIMARY KEY (node, room_id))
			WITH (connector = 'kafka', brokers = '` + brokers + `', topic = '` + partialsTopic + `', format = 'changes', node_column = 'node')`,
		`CREATE MATERIALIZED VIEW room_totals AS SELECT room_id, sum(n) AS n, sum(coins) AS coins FROM room_partials_all GROUP BY room_id`,
		`CREATE MATERIALIZED VIEW trending AS SELECT room_id, sum(n) AS n, sum(coins) AS coins
			FROM room_partials_all GROUP BY room_id ORDER BY coins DESC, room_id LIMIT 5`,
	}
}

func roomValues() string {
	vals := make([]string, giftRooms)
	for i := range vals {
		vals[i] = fmt.Sprintf("(%d)", i)
	}
	return strings.Join(vals, ", ")
}

// giftOracle folds every produced gift event, the answer the global views must give.
type giftOracle struct {
	n, coins map[int64]int64
	off      map[int64]bool // rooms off the air
}

func newGiftOracle() *giftOracle {
	return &giftOracle{n: map[int64]int64{}, coins: map[int64]int64{}, off: map[int64]bool{}}
}

func giftOf(i int) (room, coins int64) {
	room = int64(i*7) % giftRooms
	coins = int64(i*37)%100 + 1
	if room == hotRoom {
		coins += 400
	}
	return room, coins
}

// produceGifts produces gifts [from, to), each to its room's partition.
func (o *giftOracle) produceGifts(t testing.TB, cl *kgo.Client, from, to int) {
	t.Helper()
	var recs []*kgo.Record
	for i := from; i < to; i++ {
		room, coins := giftOf(i)
		o.n[room]++
		o.coins[room] += coins
		recs = append(recs, &kgo.Record{Topic: giftsTopic, Partition: int32(room % giftParts),
			Key: []byte(strconv.FormatInt(room, 10)), Value: []byte(fmt.Sprintf(`{"id": %d, "room_id": %d, "coins": %d}`, i, room, coins))})
	}
	require.NoError(t, cl.ProduceSync(context.Background(), recs...).FirstErr())
}

// totals is room_totals as weirRows renders it; top is trending's rows.
func (o *giftOracle) totals() (totals, top []string) {
	type room struct{ id, n, coins int64 }
	var rooms []room
	for id, n := range o.n {
		if !o.off[id] {
			rooms = append(rooms, room{id, n, o.coins[id]})
		}
	}
	for _, r := range rooms {
		totals = append(totals, fmt.Sprintf("%d|%d|%d", r.id, r.n, r.coins))
	}
	sort.Strings(totals)
	sort.Slice(rooms, func(i, j int) bool {
		if rooms[i].coins != rooms[j].coins {
			return rooms[i].coins > rooms[j].coins
		}
		return rooms[i].id < rooms[j].id
	})
	for _, r := range rooms[:min(5, len(rooms))] {
		top = append(top, fmt.Sprintf("%d|%d|%d", r.id, r.n, r.coins))
	}
	sort.Strings(top)
	return totals, top
}

// waitGlobal polls both global views on a node until they equal the oracle.
func waitGlobal(t testing.TB, name string, s *db.Session, o *giftOracle) {
	t.Helper()
	wantTotals, wantTop := o.totals()
	deadline := time.Now().Add(45 * time.Second)
	var gotTotals, gotTop []string
	for time.Now().Before(deadline) {
		gotTotals = weirRows(t, s, `SELECT * FROM room_totals`)
		gotTop = weirRows(t, s, `SELECT * FROM trending`)
		if slicesEqual(gotTotals, wantTotals) && slicesEqual(gotTop, wantTop) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, wantTotals, gotTotals, "room_totals on node %s", name)
	require.Equal(t, wantTop, gotTop, "trending on node %s", name)
}

func slicesEqual(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

// TestKafkaGlobalViewTwoNodes: two nodes share a topic of gifts in one consumer group;
// the second joins after the first has events of every room, so the rebalance splits
// rooms between them; a room goes off the air (its partial rows are retracted); a node
// crashes and restarts. The global views on both nodes equal the answer over every
// produced event. It fails if the node identity is dropped from the table's key (the
// two nodes' partials of a split room overwrite each other) or if retractions are
// ignored (the room off the air stays).
func TestKafkaGlobalViewTwoNodes(t *testing.T) {
	brokers := globalCluster(t)
	prod := kafkaProducer(t, brokers)
	o := newGiftOracle()

	dirA, dirB := t.TempDir(), t.TempDir()
	a, sa := openKafkaDB(t, dirA, time.Hour)
	defer func() { a.Close() }()
	for _, q := range globalDDL(brokers) {
		weirExec(t, sa, q)
	}
	o.produceGifts(t, prod, 0, 1000)
	waitRows(t, sa, `SELECT count(*) FROM gifts`, "1000")
	waitGlobal(t, "A", sa, o)

	// B joins: partitions whose rooms already have events on A move to it.
	b, sb := openKafkaDB(t, dirB, time.Hour)
	defer func() { b.Close() }()
	for _, q := range globalDDL(brokers) {
		weirExec(t, sb, q)
	}
	next := 1000
	deadline := time.Now().Add(30 * time.Second)
	for countRows(t, sb, `SELECT count(*) FROM gifts`) == 0 || countRows(t, sa, `SELECT count(*) FROM gifts WHERE id >= 1000`) == 0 {
		require.True(t, time.Now().Before(deadline), "the second node never got partitions")
		o.produceGifts(t, prod, next, next+50)
		next += 50
		time.Sleep(50 * time.Millisecond)
	}
	o.produceGifts(t, prod, next, next+1000)
	next += 1000
	waitGlobal(t, "A", sa, o)
	waitGlobal(t, "B", sb, o)
	split := countRows(t, sa, `SELECT count(*) FROM (SELECT room_id FROM room_partials_all GROUP BY room_id HAVING count(DISTINCT node) > 1) s`)
	require.Positive(t, split, "some room's events are on both nodes")
	require.NotEqual(t, a.NodeID(), b.NodeID())
	require.Empty(t, nodesOtherThan(t, sb, a.NodeID(), b.NodeID()), "the node column holds the two nodes' identities")
	t.Logf("rooms split across the nodes: %d", split)

	// The richest room goes off the air on every node: its partials are retracted.
	for _, s := range []*db.Session{sa, sb} {
		weirExec(t, s, fmt.Sprintf(`DELETE FROM live_rooms WHERE room_id = %d`, hotRoom))
	}
	o.off[hotRoom] = true
	o.produceGifts(t, prod, next, next+500)
	next += 500
	waitGlobal(t, "A", sa, o)
	waitGlobal(t, "B", sb, o)

	// B crashes with its ticks only in the write-ahead log; events arrive meanwhile (A
	// takes B's partitions), and B comes back (and takes some again).
	b.StopConnectors()
	b.Crash()
	o.produceGifts(t, prod, next, next+500)
	next += 500
	b, sb = openKafkaDB(t, dirB, time.Hour)
	o.produceGifts(t, prod, next, next+500)
	next += 500
	waitGlobal(t, "A", sa, o)
	waitGlobal(t, "B", sb, o)

	// A restarts cleanly.
	require.NoError(t, a.Close())
	o.produceGifts(t, prod, next, next+300)
	next += 300
	a, sa = openKafkaDB(t, dirA, -1)
	o.produceGifts(t, prod, next, next+300)
	next += 300
	waitGlobal(t, "A", sa, o)
	waitGlobal(t, "B", sb, o)
	total := countRows(t, sa, `SELECT count(*) FROM gifts`) + countRows(t, sb, `SELECT count(*) FROM gifts`)
	require.Equal(t, next, total, "every gift on one node, once")

	// The internal topic holds each node's partial exactly: its changes under the node's
	// weir-node header add up to the node's partial view (a sink that took another
	// node's messages for its own would emit changes that do not).
	waitPartials(t, brokers, map[string]*db.Session{a.NodeID(): sa, b.NodeID(): sb})
}

// waitPartials reads the internal topic (read_committed) and folds its changes per
// producing node until each node's fold equals its room_partials.
func waitPartials(t *testing.T, brokers string, nodes map[string]*db.Session) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...), kgo.ConsumeTopics(partialsTopic),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(50*time.Millisecond))
	require.NoError(t, err)
	defer cl.Close()
	folds := map[string]map[string]int64{} // node → row → multiplicity
	render := func(node string) []string {
		var out []string
		for row, n := range folds[node] {
			var r struct{ RoomID, N, Coins int64 }
			require.NoError(t, json.Unmarshal([]byte(row), &struct {
				RoomID *int64 `json:"room_id"`
				N      *int64 `json:"n"`
				Coins  *int64 `json:"coins"`
			}{&r.RoomID, &r.N, &r.Coins}))
			for range n {
				out = append(out, fmt.Sprintf("%d|%d|%d", r.RoomID, r.N, r.Coins))
			}
			if n < 0 {
				out = append(out, fmt.Sprintf("%d|%d|%d ×%d", r.RoomID, r.N, r.Coins, n))
			}
		}
		sort.Strings(out)
		return out
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			ch, err := kafka.DecodeChange(kafka.Message{Key: r.Key, Value: r.Value, Headers: r.Headers})
			require.NoError(t, err)
			if folds[ch.Node] == nil {
				folds[ch.Node] = map[string]int64{}
			}
			folds[ch.Node][string(ch.Row)] += ch.Diff
			if folds[ch.Node][string(ch.Row)] == 0 {
				delete(folds[ch.Node], string(ch.Row))
			}
		})
		same := len(folds) == len(nodes)
		for node, s := range nodes {
			same = same && slicesEqual(render(node), weirRows(t, s, `SELECT * FROM room_partials`))
		}
		if same {
			return
		}
		if time.Now().After(deadline) {
			for node, s := range nodes {
				require.Equal(t, weirRows(t, s, `SELECT * FROM room_partials`), render(node), "node %s's changes in %s", node, partialsTopic)
			}
			require.Len(t, folds, len(nodes), "nodes with changes in %s", partialsTopic)
		}
	}
}

// nodesOtherThan lists the node column's values that are neither a nor b.
func nodesOtherThan(t *testing.T, s *db.Session, a, b string) []string {
	t.Helper()
	return weirRows(t, s, fmt.Sprintf(`SELECT DISTINCT node FROM room_partials_all WHERE node NOT IN ('%s', '%s')`, a, b))
}

// changeRecord is a message as a Weir sink writes it.
func changeRecord(topic string, part int32, node string, tick, diff int64, key, row string) *kgo.Record {
	r := &kgo.Record{Topic: topic, Partition: part, Key: []byte(key),
		Value: []byte(fmt.Sprintf(`{"tick":%d,"diff":%d,"row":%s}`, tick, diff, row))}
	if node != "" {
		r.Headers = []kgo.RecordHeader{{Key: "weir-diff", Value: []byte(strconv.FormatInt(diff, 10))}, {Key: "weir-node", Value: []byte(node)}}
	}
	return r
}

// TestKafkaTableRestart: a table fed from a change topic applies upserts and deletes in
// order (a row updated many times ends right, a stale retraction is a no-op), keeps
// messages it cannot apply as dead letters, and stores its positions with its rows: after
// a crash (rows only in the write-ahead log) and a clean restart it reads only the
// messages it had not applied, and a view over it counts each row once.
func TestKafkaTableRestart(t *testing.T) {
	brokers := kafkaCluster(t, "ch", 2)
	prod := kafkaProducer(t, brokers)
	dir := t.TempDir()
	d, s := openKafkaDB(t, dir, time.Hour)
	weirExec(t, s, `CREATE TABLE parts (node text, room_id bigint, n bigint NOT NULL, PRIMARY KEY (node, room_id))
		WITH (connector = 'kafka', brokers = '`+brokers+`', topic = 'ch', format = 'changes', node_column = 'node')`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW parts_sum AS SELECT count(*) AS rows, sum(n) AS n FROM parts`)

	row := func(room, n int) string { return fmt.Sprintf(`{"room_id":%d,"n":%d}`, room, n) }
	key := func(room int) string { return fmt.Sprintf(`{"room_id":%d}`, room) }
	tick := int64(0)
	// update produces k updates of room 1 on node x (retraction, then insertion) to partition 0.
	n1 := 1
	update := func(k int) {
		var recs []*kgo.Record
		for range k {
			tick++
			recs = append(recs, changeRecord("ch", 0, "x", tick, -1, key(1), row(1, n1)),
				changeRecord("ch", 0, "x", tick, 1, key(1), row(1, n1+1)))
			n1++
		}
		require.NoError(t, prod.ProduceSync(context.Background(), recs...).FirstErr())
	}
	require.NoError(t, prod.ProduceSync(context.Background(),
		changeRecord("ch", 0, "x", 0, 1, key(1), row(1, 1)),
		changeRecord("ch", 1, "x", 0, 1, key(2), row(2, 5)),
		changeRecord("ch", 1, "y", 0, 1, key(2), row(2, 7)),       // another node's row of room 2
		changeRecord("ch", 1, "y", 0, -1, key(2), row(2, 6)),      // stale: not the row held
		changeRecord("ch", 1, "", 0, 1, key(3), row(3, 1)),        // no weir-node header
		changeRecord("ch", 1, "x", 0, 1, row(3, 1), row(3, 1)),    // keyed by the whole row
		changeRecord("ch", 1, "x", 0, 1, key(3), `{"room_id":3}`), // n is NOT NULL
	).FirstErr())
	update(200)
	waitRows(t, s, `SELECT * FROM parts_sum`, "3|213")
	require.Equal(t, []string{"x|1|201", "x|2|5", "y|2|7"}, weirRows(t, s, `SELECT * FROM parts`))
	waitRows(t, s, `SELECT count(*) FROM weir_dead_letters`, "3")
	require.Equal(t, []string{"ch|1|3", "ch|1|4", "ch|1|5"}, weirRows(t, s, `SELECT topic, kafka_partition, kafka_offset FROM weir_dead_letters`))
	pos := func() string {
		p0, _ := d.Progress("kafka/parts/0")
		p1, _ := d.Progress("kafka/parts/1")
		return p0 + "," + p1
	}
	require.Equal(t, "401,6", pos())

	// A row goes (its retraction), writes are refused.
	require.NoError(t, prod.ProduceSync(context.Background(), changeRecord("ch", 1, "y", 1, -1, key(2), row(2, 7))).FirstErr())
	waitRows(t, s, `SELECT * FROM parts_sum`, "2|206")
	for _, q := range []string{`INSERT INTO parts VALUES ('z', 9, 9)`, `DELETE FROM parts`, `UPDATE parts SET n = 0`} {
		err := weirErr(s, q)
		require.Equal(t, sqlerr.FeatureNotSupported, sqlerr.CodeOf(err), "%s: %v", q, err)
	}

	// A crash with the table's rows and positions only in the write-ahead log.
	d.StopConnectors()
	d.Crash()
	update(50)
	d, s = openKafkaDB(t, dir, time.Hour)
	waitRows(t, s, `SELECT * FROM parts_sum`, "2|256")
	require.Equal(t, []string{"x|1|251", "x|2|5"}, weirRows(t, s, `SELECT * FROM parts`))
	require.Equal(t, int64(100), d.ConsumerRecords("parts"), "resumed at its positions, not from offset 0")
	require.Equal(t, "501,7", pos())

	// A clean restart.
	require.NoError(t, d.Close())
	update(25)
	d, s = openKafkaDB(t, dir, -1)
	defer d.Close()
	waitRows(t, s, `SELECT * FROM parts_sum`, "2|281")
	require.Equal(t, int64(50), d.ConsumerRecords("parts"))
	require.Equal(t, "551,7", pos())
	require.Equal(t, 3, countRows(t, s, `SELECT count(*) FROM weir_dead_letters`))

	// DROP TABLE stops the consumer and forgets the positions: created again, the table
	// reads its topic from the start.
	weirExec(t, s, `DROP MATERIALIZED VIEW parts_sum`)
	weirExec(t, s, `DROP TABLE parts`)
	_, ok := d.Progress("kafka/parts/0")
	require.False(t, ok, "a dropped table's positions are forgotten")
	weirExec(t, s, `CREATE TABLE parts (node text, room_id bigint, n bigint NOT NULL, PRIMARY KEY (node, room_id))
		WITH (connector = 'kafka', brokers = '`+brokers+`', topic = 'ch', format = 'changes', node_column = 'node')`)
	waitRows(t, s, `SELECT count(*), sum(n) FROM parts`, "2|281")
	require.Equal(t, "551,7", pos())
}

// TestKafkaTableCreateErrors: a table's Kafka options are checked at CREATE, each error
// with its SQLSTATE and the option or column named.
func TestKafkaTableCreateErrors(t *testing.T) {
	d, s := openKafkaDB(t, "", -1)
	defer d.Close()
	const base = `connector = 'kafka', brokers = 'localhost:9092', topic = 't'`
	for _, tc := range []struct {
		name, sql string
		code      sqlerr.Code
		word      string
	}{
		{"changes on a source", `CREATE SOURCE k (x bigint) WITH (` + base + `, format = 'changes')`, sqlerr.FeatureNotSupported, "changes"},
		{"missing node column", `CREATE TABLE k (node text, x bigint, PRIMARY KEY (node, x)) WITH (` + base + `, format = 'changes', node_column = 'who')`, sqlerr.UndefinedColumn, "who"},
		{"node column not text", `CREATE TABLE k (node bigint, x bigint, PRIMARY KEY (node, x)) WITH (` + base + `, format = 'changes', node_column = 'node')`, sqlerr.DatatypeMismatch, "node"},
		{"node column not in key", `CREATE TABLE k (node text, x bigint PRIMARY KEY) WITH (` + base + `, format = 'changes', node_column = 'node')`, sqlerr.InvalidParameterValue, "primary key"},
		{"node column the whole key", `CREATE TABLE k (node text PRIMARY KEY, x bigint) WITH (` + base + `, format = 'changes', node_column = 'node')`, sqlerr.InvalidParameterValue, "besides"},
		{"empty node column", `CREATE TABLE k (x bigint PRIMARY KEY) WITH (` + base + `, format = 'changes', node_column = '')`, sqlerr.InvalidParameterValue, "node_column"},
		{"no format", `CREATE TABLE k (x bigint PRIMARY KEY) WITH (` + base + `)`, sqlerr.InvalidParameterValue, "format"},
		{"json table", `CREATE TABLE k (x bigint PRIMARY KEY) WITH (` + base + `, format = 'json')`, sqlerr.FeatureNotSupported, "json"},
		{"group", `CREATE TABLE k (x bigint PRIMARY KEY) WITH (` + base + `, format = 'changes', group = 'g')`, sqlerr.FeatureNotSupported, "group"},
		{"start", `CREATE TABLE k (x bigint PRIMARY KEY) WITH (` + base + `, format = 'changes', start = 'latest')`, sqlerr.FeatureNotSupported, "start"},
		{"unknown option", `CREATE TABLE k (x bigint PRIMARY KEY) WITH (` + base + `, format = 'changes', colour = 'red')`, sqlerr.InvalidParameterValue, "colour"},
		{"no brokers", `CREATE TABLE k (x bigint PRIMARY KEY) WITH (connector = 'kafka', topic = 't', format = 'changes')`, sqlerr.InvalidParameterValue, "brokers"},
		{"no topic", `CREATE TABLE k (x bigint PRIMARY KEY) WITH (connector = 'kafka', brokers = 'localhost:9092', format = 'changes')`, sqlerr.InvalidParameterValue, "topic"},
		{"other connector", `CREATE TABLE k (x bigint PRIMARY KEY) WITH (connector = 'kinesis')`, sqlerr.FeatureNotSupported, "kinesis"},
		{"options without connector", `CREATE TABLE k (x bigint PRIMARY KEY) WITH (fillfactor = 70)`, sqlerr.FeatureNotSupported, "WITH options"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := weirErr(s, tc.sql)
			require.Error(t, err)
			require.Equal(t, tc.code, sqlerr.CodeOf(err), "%v", err)
			require.Contains(t, err.Error(), tc.word)
		})
	}
	require.Equal(t, sqlerr.UndefinedTable, sqlerr.CodeOf(weirErr(s, `SELECT * FROM k`)), "no failed CREATE leaves a relation behind")
}

// weirErr runs q and returns its error.
func weirErr(s *db.Session, q string) error {
	p, err := s.Prepare(context.Background(), q, nil)
	if err != nil {
		return err
	}
	rows, err := p.Execute(context.Background(), nil)
	if err == nil {
		rows.Close()
	}
	return err
}

// TestNodeID: a node's identity is stored in its data directory on first start (given,
// or random) and kept; another one given later fails Open with 22023.
func TestNodeID(t *testing.T) {
	open := func(dir, id string) (*db.DB, error) {
		return db.Open(context.Background(), db.Config{Dir: dir, NodeID: id, TickInterval: -1}, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	}
	dir := t.TempDir()
	d, err := open(dir, "")
	require.NoError(t, err)
	random := d.NodeID()
	require.Regexp(t, `^[0-9a-f]{16}$`, random)
	require.NoError(t, d.Close())
	d, err = open(dir, "")
	require.NoError(t, err)
	require.Equal(t, random, d.NodeID(), "kept across restarts")
	require.NoError(t, d.Close())
	_, err = open(dir, "node-b")
	require.Equal(t, sqlerr.InvalidParameterValue, sqlerr.CodeOf(err), "%v", err)

	dir = t.TempDir()
	d, err = open(dir, "node-a")
	require.NoError(t, err)
	require.Equal(t, "node-a", d.NodeID())
	require.NoError(t, d.Close())
	d, err = open(dir, "")
	require.NoError(t, err)
	require.Equal(t, "node-a", d.NodeID())
	require.NoError(t, d.Close())
}
