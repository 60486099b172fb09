package kafka

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// A Kafka sink produces a view's changes to a topic, one message per changed row:
//
//	key:   {"room_id": 7}                                  (the key columns; the whole row without key)
//	value: {"tick": 42, "diff": -1, "row": {"room_id": 7, "total": 10}}
//
// diff is the change in the row's multiplicity (+n inserted, -n retracted; an update is a
// retraction and an insertion of the same tick, retractions first). Each write (one or
// more ticks) is one Kafka transaction that also writes {"sink": name, "tick": N} to the
// state topic "<topic>.weir-state", so a read_committed consumer sees each change once
// and the sink resumes after the last tick it committed. When Weir no longer holds the
// changes after that tick (it restarted), the sink reads its own topic back (read
// committed, from the start: the topic must keep every message, no compaction or
// retention deletes) to learn what it has emitted, and emits the difference to the
// view's current contents as one tick.
//
// Every message carries the producing node's identity in the header "weir-node" (and
// its diff in "weir-diff"). Several nodes may run the same sink into one topic (the
// partial stage of a global view, docs/scale-out.md): each node's producer has its own
// transactional id, records its own last tick, and reads back only its own messages.

// SinkConfig is a Kafka sink's WITH options.
type SinkConfig struct {
	Brokers []string
	Topic   string
	Format  string   // "json"
	Key     []string // columns of the message key; none: the whole row
	// Node is the producing node's identity (not an option: the database sets it). It
	// goes into every message's weir-node header and scopes the sink's transactional
	// id, state and read-back to this node.
	Node string
}

// NodeHeader is the record header naming the node that produced a sink's message.
const NodeHeader = "weir-node"

var sinkOptions = []string{"connector", "brokers", "topic", "format", "key"}

// ParseSink validates a Kafka sink's WITH options.
func ParseSink(opts map[string]string) (SinkConfig, error) {
	for k := range opts {
		if !slices.Contains(sinkOptions, k) {
			return SinkConfig{}, sqlerr.New(sqlerr.InvalidParameterValue, "unrecognized Kafka sink option %q", k).
				WithHint("Kafka sinks take %s.", strings.Join(sinkOptions, ", "))
		}
	}
	brokers, err := parseBrokers(opts)
	if err != nil {
		return SinkConfig{}, err
	}
	cfg := SinkConfig{Brokers: brokers, Topic: opts["topic"], Format: opts["format"]}
	if cfg.Topic == "" {
		return SinkConfig{}, missing("topic")
	}
	switch cfg.Format {
	case "":
		cfg.Format = "json"
	case "json":
	default:
		return SinkConfig{}, sqlerr.New(sqlerr.FeatureNotSupported, "Kafka sink option format = %q is not supported (json)", cfg.Format)
	}
	if k := strings.TrimSpace(opts["key"]); k != "" {
		for _, c := range strings.Split(k, ",") {
			cfg.Key = append(cfg.Key, strings.TrimSpace(c))
		}
	}
	return cfg, nil
}

// StateTopic is the topic where a sink writing topic records its last tick.
func StateTopic(topic string) string { return topic + ".weir-state" }

// Sink is a transactional producer for one sink. It is not safe for concurrent use.
type Sink struct {
	cfg    SinkConfig
	name   string
	cols   []catalog.Column
	keyIdx []int
	cl     *kgo.Client
	logger *slog.Logger
}

// OpenSink connects a sink, creating its topics if they do not exist, and fences any
// earlier producer of the sink (its open transaction is aborted).
func OpenSink(ctx context.Context, name string, cfg SinkConfig, cols []catalog.Column, logger *slog.Logger) (*Sink, error) {
	s := &Sink{cfg: cfg, name: name, cols: cols, logger: logger}
	for _, k := range cfg.Key {
		i := slices.IndexFunc(cols, func(c catalog.Column) bool { return c.Name == k })
		if i < 0 {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "Kafka sink option \"key\": the view has no column %q", k)
		}
		s.keyIdx = append(s.keyIdx, i)
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.TransactionalID(transactionalID(name, cfg.Node)),
		kgo.TransactionTimeout(30*time.Second),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.ProducerLinger(0),
		kgo.WithLogger(kgoLogger{logger}),
	)
	if err != nil {
		return nil, err
	}
	s.cl = cl
	if err := createTopics(ctx, cl, cfg.Topic, StateTopic(cfg.Topic)); err != nil {
		cl.Close()
		return nil, err
	}
	if _, _, err := cl.ProducerID(ctx); err != nil { // fences the sink's earlier producer
		cl.Close()
		return nil, fmt.Errorf("kafka sink %q: init producer: %w", name, err)
	}
	return s, nil
}

// transactionalID is a sink's producer identity: one per node, so that the nodes running
// one sink do not fence each other.
func transactionalID(name, node string) string {
	if node == "" {
		return "weir-sink-" + name
	}
	return "weir-sink-" + node + "-" + name
}

// own reports whether a message of the topic (or of the state topic, node being its
// "node" field) was produced by this node: messages without a node predate node
// identities and count as every node's.
func (s *Sink) own(node string) bool { return node == "" || node == s.cfg.Node }

func recordNode(r *kgo.Record) string {
	for _, h := range r.Headers {
		if h.Key == NodeHeader {
			return string(h.Value)
		}
	}
	return ""
}

// Close closes the producer.
func (s *Sink) Close(context.Context) error {
	s.cl.Close()
	return nil
}

// LastTick reads the last committed tick from the state topic (0: none).
func (s *Sink) LastTick(ctx context.Context) (uint64, error) {
	var last uint64
	err := readCommitted(ctx, s.cfg.Brokers, StateTopic(s.cfg.Topic), func(r *kgo.Record) {
		var st struct {
			Sink string `json:"sink"`
			Node string `json:"node"`
			Tick uint64 `json:"tick"`
		}
		if json.Unmarshal(r.Value, &st) == nil && st.Sink == s.name && s.own(st.Node) {
			last = max(last, st.Tick)
		}
	})
	return last, err
}

// Reset makes the topic's changes add up to rows: it reads back what the sink emitted
// and emits the difference as tick's changes.
func (s *Sink) Reset(ctx context.Context, tick uint64, rows *delta.Batch) error {
	emitted := map[string]int64{}
	err := readCommitted(ctx, s.cfg.Brokers, s.cfg.Topic, func(r *kgo.Record) {
		if !s.own(recordNode(r)) {
			return // another node's
		}
		var ch struct {
			Diff int64           `json:"diff"`
			Row  json.RawMessage `json:"row"`
		}
		if json.Unmarshal(r.Value, &ch) == nil {
			emitted[string(ch.Row)] += ch.Diff
		}
	})
	if err != nil {
		return err
	}
	want := map[string]int64{}
	keys := map[string][]byte{}
	for i := 0; i < rows.Len(); i++ {
		row := s.rowJSON(rows, i)
		want[string(row)] += rows.Weights[i]
		keys[string(row)] = s.keyJSON(rows, i, row)
	}
	var recs []*kgo.Record
	for row, n := range emitted {
		if d := want[row] - n; d != 0 {
			key := keys[row]
			if key == nil {
				key = s.keyFromRowJSON([]byte(row))
			}
			recs = append(recs, s.record(tick, d, []byte(row), key))
		}
	}
	for row, n := range want {
		if _, ok := emitted[row]; !ok && n != 0 {
			recs = append(recs, s.record(tick, n, []byte(row), keys[row]))
		}
	}
	return s.produce(ctx, tick, recs)
}

// Apply emits the changes of the ticks up to tick in one transaction.
func (s *Sink) Apply(ctx context.Context, tick uint64, changes *delta.Batch) error {
	recs := make([]*kgo.Record, 0, changes.Len())
	for i := 0; i < changes.Len(); i++ {
		row := s.rowJSON(changes, i)
		recs = append(recs, s.record(tick, changes.Weights[i], row, s.keyJSON(changes, i, row)))
	}
	return s.produce(ctx, tick, recs)
}

// produce writes recs (retractions first) and the state record in one transaction.
func (s *Sink) produce(ctx context.Context, tick uint64, recs []*kgo.Record) error {
	sort.SliceStable(recs, func(i, j int) bool { return diffOf(recs[i]) < diffOf(recs[j]) })
	state, _ := json.Marshal(map[string]any{"sink": s.name, "node": s.cfg.Node, "tick": tick})
	recs = append(recs, &kgo.Record{Topic: StateTopic(s.cfg.Topic), Key: []byte(s.name), Value: state})
	if err := s.cl.BeginTransaction(); err != nil {
		return err
	}
	res := s.cl.ProduceSync(ctx, recs...)
	commit := kgo.TryCommit
	if res.FirstErr() != nil {
		commit = kgo.TryAbort
	}
	if err := s.cl.EndTransaction(context.WithoutCancel(ctx), commit); err != nil {
		return fmt.Errorf("kafka sink %q: end transaction: %w", s.name, err)
	}
	if err := res.FirstErr(); err != nil {
		return fmt.Errorf("kafka sink %q: produce: %w", s.name, err)
	}
	return nil
}

func diffOf(r *kgo.Record) int64 {
	if len(r.Headers) > 0 {
		n, _ := strconv.ParseInt(string(r.Headers[0].Value), 10, 64)
		return n
	}
	return math.MaxInt64 // the state record goes last
}

func (s *Sink) record(tick uint64, diff int64, row, key []byte) *kgo.Record {
	var v bytes.Buffer
	fmt.Fprintf(&v, `{"tick":%d,"diff":%d,"row":%s}`, tick, diff, row)
	return &kgo.Record{Topic: s.cfg.Topic, Key: key, Value: v.Bytes(), Headers: []kgo.RecordHeader{
		{Key: "weir-diff", Value: []byte(strconv.FormatInt(diff, 10))}, // first: produce orders by it (diffOf)
		{Key: NodeHeader, Value: []byte(s.cfg.Node)},
	}}
}

// Change is one message of a sink's topic (format 'changes'), decoded.
type Change struct {
	Node string          // the weir-node header; "" when the message has none
	Tick uint64          // the producing node's tick
	Diff int64           // +n inserted, -n retracted
	Row  json.RawMessage // the row, a JSON object of the view's columns
}

// DecodeChange decodes a message a sink produced. A message that is not
// {"tick":N,"diff":n,"row":{…}} with n ≠ 0 is an error (22P02).
func DecodeChange(m Message) (Change, error) {
	var v struct {
		Tick *uint64         `json:"tick"`
		Diff *int64          `json:"diff"`
		Row  json.RawMessage `json:"row"`
	}
	if err := json.Unmarshal(m.Value, &v); err != nil {
		return Change{}, sqlerr.New(sqlerr.InvalidTextRepresentation, "not a Weir sink change: %v", err)
	}
	if v.Tick == nil || v.Diff == nil || len(v.Row) == 0 || v.Row[0] != '{' {
		return Change{}, sqlerr.New(sqlerr.InvalidTextRepresentation, `not a Weir sink change: want {"tick":N,"diff":n,"row":{…}}`)
	}
	if *v.Diff == 0 {
		return Change{}, sqlerr.New(sqlerr.InvalidTextRepresentation, "a Weir sink change with diff 0")
	}
	node, _ := m.Header(NodeHeader)
	return Change{Node: node, Tick: *v.Tick, Diff: *v.Diff, Row: v.Row}, nil
}

// rowJSON renders row i as a JSON object, columns in order (so one row, one text).
func (s *Sink) rowJSON(b *delta.Batch, i int) []byte {
	return s.objectJSON(b, i, nil)
}

func (s *Sink) keyJSON(b *delta.Batch, i int, row []byte) []byte {
	if len(s.keyIdx) == 0 {
		return row
	}
	return s.objectJSON(b, i, s.keyIdx)
}

// keyFromRowJSON derives a message key from a row read back from the topic.
func (s *Sink) keyFromRowJSON(row []byte) []byte {
	if len(s.keyIdx) == 0 {
		return row
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(row, &obj) != nil {
		return row
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	for n, c := range s.keyIdx {
		if n > 0 {
			buf.WriteByte(',')
		}
		name, _ := json.Marshal(s.cols[c].Name)
		buf.Write(name)
		buf.WriteByte(':')
		buf.Write(obj[s.cols[c].Name])
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

func (s *Sink) objectJSON(b *delta.Batch, i int, only []int) []byte {
	var buf bytes.Buffer
	buf.WriteByte('{')
	n := 0
	for c, col := range s.cols {
		if only != nil && !slices.Contains(only, c) {
			continue
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		n++
		name, _ := json.Marshal(col.Name)
		buf.Write(name)
		buf.WriteByte(':')
		buf.Write(valueJSON(b.Cols[c].Get(i), col.Type))
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

// valueJSON renders a value as JSON: numbers and booleans as themselves (numeric as its
// exact text), jsonb as the document, everything else as its PostgreSQL text.
func valueJSON(v delta.Value, t catalog.Type) []byte {
	if v.Null {
		return []byte("null")
	}
	switch {
	case t == catalog.Bool, t.IsInteger(), t == catalog.Numeric:
		return []byte(expr.Format(v, t))
	case t.IsFloat():
		if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
			b, _ := json.Marshal(expr.Format(v, t))
			return b
		}
		return []byte(expr.Format(v, t))
	case t == catalog.Jsonb:
		return []byte(v.S)
	}
	b, _ := json.Marshal(expr.Format(v, t))
	return b
}

// createTopics creates topics that do not exist (one partition for a state topic, the
// broker's default otherwise).
func createTopics(ctx context.Context, cl *kgo.Client, data, state string) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 10000
	for _, name := range []string{data, state} {
		t := kmsg.NewCreateTopicsRequestTopic()
		t.Topic = name
		t.NumPartitions = -1
		t.ReplicationFactor = -1
		if name == state {
			t.NumPartitions = 1
		}
		req.Topics = append(req.Topics, t)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return err
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil && err != kerr.TopicAlreadyExists {
			return fmt.Errorf("create topic %s: %w", t.Topic, err)
		}
	}
	return nil
}

// readIdle is how long readCommitted waits for more records before it takes a
// partition as read to its end.
const readIdle = time.Second

// readCommitted reads every committed record of topic, partition by partition up to its
// last stable offset, and calls fn with each.
func readCommitted(ctx context.Context, brokers []string, topic string, fn func(*kgo.Record)) error {
	admin, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return err
	}
	defer admin.Close()
	parts, err := partitions(ctx, admin, topic)
	if err != nil {
		return err
	}
	ends, err := endOffsets(ctx, admin, topic, parts)
	if err != nil {
		return err
	}
	starts := map[int32]kgo.Offset{}
	for _, p := range parts {
		if ends[p] > 0 {
			starts[p] = kgo.NewOffset().AtStart()
		}
	}
	if len(starts) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: starts}), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	// A partition is read once a record at its end arrives. Its last offsets may be
	// transaction markers or aborted records, which read_committed never returns, so a
	// partition also counts as read once nothing has arrived for readIdle: the sink's
	// producer fenced every earlier one, so nothing new is coming.
	done := map[int32]bool{}
	for len(done) < len(starts) {
		pctx, cancel := context.WithTimeout(ctx, readIdle)
		fetches := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if fetches.NumRecords() == 0 && pctx.Err() != nil {
			break // idle
		}
		var ferr error
		fetches.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				ferr = err
			}
		})
		if ferr != nil {
			return ferr
		}
		fetches.EachPartition(func(p kgo.FetchTopicPartition) {
			for _, r := range p.Records {
				if r.Offset < ends[p.Partition] {
					fn(r)
				}
				if r.Offset+1 >= ends[p.Partition] {
					done[p.Partition] = true
				}
			}
		})
	}
	return nil
}
