package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/weirdb/weir/internal/delta"
)

// Partition is what one poll read from one partition: the rows that decoded, the
// messages that did not, and the offset after the last message read.
type Partition struct {
	ID   int32
	Rows [][]delta.Value
	// Diffs are the rows' diffs for format 'changes' (a sink's +n or -n); nil for an
	// event source, whose every row is one event (+1).
	Diffs []int64
	Dead  []DeadLetter
	Next  int64 // the offset to resume from: the last message read + 1
}

// DeadLetter is a message that did not decode into a row.
type DeadLetter struct {
	Partition int32
	Offset    int64
	Err       string
	Payload   []byte
}

// Target is where a Source commits what it reads; the database implements it.
type Target interface {
	// Position returns the committed next offset of a partition, if one is stored.
	Position(partition int32) (int64, bool)
	// Commit stores every partition's rows and dead letters and moves their positions,
	// all at once (one tick), or nothing.
	Commit(ctx context.Context, parts []Partition) error
}

// Message is one Kafka record as a Decoder sees it.
type Message struct {
	Key, Value []byte
	Headers    []kgo.RecordHeader
}

// Header returns the value of the header named key, and whether there is one.
func (m Message) Header(key string) (string, bool) {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value), true
		}
	}
	return "", false
}

// Decoder types one message to a row of the source and its diff: +1 for an event; for
// format 'changes', the change's diff.
type Decoder func(m Message) (row []delta.Value, diff int64, err error)

// Source consumes a topic into a Target until Close.
type Source struct {
	cfg    SourceConfig
	name   string
	target Target
	decode Decoder
	logger *slog.Logger

	maxPoll int          // bounds the records committed in one tick
	records atomic.Int64 // records read since Start, for tests and metrics

	cancel context.CancelFunc
	done   chan struct{}
}

// NewSource returns a source named name (the Weir source) that reads cfg's topic.
// Start starts it.
func NewSource(cfg SourceConfig, name string, target Target, decode Decoder, logger *slog.Logger) *Source {
	return &Source{cfg: cfg, name: name, target: target, decode: decode, maxPoll: 10000,
		logger: logger.With("component", "kafka", "source", name, "topic", cfg.Topic)}
}

// Start consumes in the background until Close; a failure (the cluster unreachable, a
// commit refused) restarts the consumer from the committed positions after a pause.
func (s *Source) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		defer func() {
			if r := recover(); r != nil {
				s.logger.Error("kafka source panicked; stopped", "panic", r)
			}
		}()
		backoff := 100 * time.Millisecond
		for {
			err := s.consume(ctx)
			if ctx.Err() != nil {
				return
			}
			s.logger.Warn("kafka source failed; restarting from the committed positions", "err", err, "in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}()
}

// Records returns how many records the consumer has read since Start (those read again
// after a failure included).
func (s *Source) Records() int64 { return s.records.Load() }

// Stop asks the consumer to stop without waiting; Wait waits for it.
func (s *Source) Stop() {
	if s.cancel != nil {
		s.cancel()
	}
}

// Wait waits until the consumer has stopped (after Stop).
func (s *Source) Wait() {
	if s.done != nil {
		<-s.done
	}
}

// Close stops the consumer and waits for it.
func (s *Source) Close() {
	s.Stop()
	s.Wait()
}

// consume runs one consumer until ctx ends or something fails.
func (s *Source) consume(ctx context.Context) error {
	opts := []kgo.Opt{
		kgo.SeedBrokers(s.cfg.Brokers...),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(250 * time.Millisecond),
		kgo.WithLogger(kgoLogger{s.logger}),
	}
	var client *kgo.Client
	var err error
	if s.cfg.Group == "" {
		starts, err := s.startOffsets(ctx, opts)
		if err != nil {
			return err
		}
		client, err = kgo.NewClient(append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.cfg.Topic: starts}))...)
		if err != nil {
			return err
		}
	} else {
		client, err = kgo.NewClient(append(opts,
			kgo.ConsumerGroup(s.cfg.Group),
			kgo.ConsumeTopics(s.cfg.Topic),
			kgo.DisableAutoCommit(),
			kgo.BlockRebalanceOnPoll(),
			kgo.ConsumeResetOffset(s.resetOffset()),
			// Weir's position is committed with the rows; the group's is committed
			// after it, so on this node it is never ahead of Weir's unless another
			// node of the group consumed the partition since. Start from the later of
			// the two; without either, at start.
			kgo.AdjustFetchOffsetsFn(func(_ context.Context, offs map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
				for p, o := range offs[s.cfg.Topic] {
					if next, ok := s.target.Position(p); ok {
						if group := o.EpochOffset().Offset; group > next {
							next = group
						}
						offs[s.cfg.Topic][p] = kgo.NewOffset().At(next).WithEpoch(-1)
					}
				}
				return offs, nil
			}),
		)...)
		if err != nil {
			return err
		}
	}
	defer func() {
		client.AllowRebalance() // a poll blocks rebalances, and leaving the group is one
		client.Close()
	}()
	for {
		fetches := client.PollRecords(ctx, s.maxPoll)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return ctx.Err()
		}
		var ferr error
		fetches.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				ferr = errors.Join(ferr, fmt.Errorf("fetch %s/%d: %w", t, p, err))
			}
		})
		if ferr != nil {
			client.AllowRebalance()
			return ferr
		}
		parts := s.decodeAll(fetches)
		if len(parts) > 0 {
			if err := s.target.Commit(ctx, parts); err != nil {
				client.AllowRebalance()
				return fmt.Errorf("commit to weir: %w", err)
			}
			if s.cfg.Group != "" {
				// For monitoring (lag): recovery uses Weir's positions.
				if err := client.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
					s.logger.Debug("commit group offsets", "err", err)
				}
			}
		}
		client.AllowRebalance()
	}
}

// decodeAll decodes each partition's records, partitions in parallel.
func (s *Source) decodeAll(fetches kgo.Fetches) []Partition {
	var fps []kgo.FetchTopicPartition
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) > 0 {
			fps = append(fps, p)
		}
	})
	parts := make([]Partition, len(fps))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, fp := range fps {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			parts[i] = s.decodePartition(fp)
		}()
	}
	wg.Wait()
	return parts
}

func (s *Source) decodePartition(fp kgo.FetchTopicPartition) (p Partition) {
	p.ID = fp.Partition
	p.Rows = make([][]delta.Value, 0, len(fp.Records))
	changes := s.cfg.Format == FormatChanges
	for _, r := range fp.Records {
		row, diff, err := s.safeDecode(Message{Key: r.Key, Value: r.Value, Headers: r.Headers})
		switch {
		case err != nil:
			p.Dead = append(p.Dead, DeadLetter{Partition: r.Partition, Offset: r.Offset, Err: err.Error(), Payload: r.Value})
		case changes:
			p.Rows = append(p.Rows, row)
			p.Diffs = append(p.Diffs, diff)
		default:
			p.Rows = append(p.Rows, row)
		}
		p.Next = r.Offset + 1
	}
	s.records.Add(int64(len(fp.Records)))
	return p
}

// safeDecode decodes one payload; a decoder that panics makes a dead letter, never a
// stopped partition.
func (s *Source) safeDecode(m Message) (row []delta.Value, diff int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error decoding the message: %v", r)
		}
	}()
	return s.decode(m)
}

func (s *Source) resetOffset() kgo.Offset {
	if s.cfg.Start == "latest" {
		return kgo.NewOffset().AtEnd()
	}
	return kgo.NewOffset().AtStart()
}

// startOffsets returns where each partition of the topic starts: its stored position,
// or start. A partition that starts at 'latest' has its end offset resolved and
// committed now, so a crash before its first message cannot skip what arrives
// meanwhile.
func (s *Source) startOffsets(ctx context.Context, opts []kgo.Opt) (map[int32]kgo.Offset, error) {
	admin, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	parts, err := partitions(ctx, admin, s.cfg.Topic)
	if err != nil {
		return nil, err
	}
	starts := map[int32]kgo.Offset{}
	var unresolved []int32
	for _, p := range parts {
		if next, ok := s.target.Position(p); ok {
			starts[p] = kgo.NewOffset().At(next)
		} else if s.cfg.Start == "latest" {
			unresolved = append(unresolved, p)
		} else {
			starts[p] = kgo.NewOffset().AtStart()
		}
	}
	if len(unresolved) > 0 {
		ends, err := endOffsets(ctx, admin, s.cfg.Topic, unresolved)
		if err != nil {
			return nil, err
		}
		var moved []Partition
		for _, p := range unresolved {
			starts[p] = kgo.NewOffset().At(ends[p])
			moved = append(moved, Partition{ID: p, Next: ends[p]})
		}
		if err := s.target.Commit(ctx, moved); err != nil {
			return nil, err
		}
	}
	return starts, nil
}

// partitions lists a topic's partitions; it fails while the topic does not exist.
func partitions(ctx context.Context, cl *kgo.Client, topic string) ([]int32, error) {
	req := kmsg.NewPtrMetadataRequest()
	t := kmsg.NewMetadataRequestTopic()
	t.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, t)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	for _, rt := range resp.Topics {
		if rt.Topic == nil || *rt.Topic != topic {
			continue
		}
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil {
			return nil, fmt.Errorf("topic %q: %w", topic, err)
		}
		var out []int32
		for _, p := range rt.Partitions {
			out = append(out, p.Partition)
		}
		if len(out) == 0 {
			return nil, fmt.Errorf("topic %q has no partitions", topic)
		}
		return out, nil
	}
	return nil, fmt.Errorf("topic %q not found", topic)
}

// endOffsets returns the end (high-water mark) of each of parts.
func endOffsets(ctx context.Context, cl *kgo.Client, topic string, parts []int32) (map[int32]int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.IsolationLevel = 1 // read_committed: the last stable offset
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for _, p := range parts {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = p
		rp.Timestamp = -1 // latest
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	shards := cl.RequestSharded(ctx, req)
	out := map[int32]int64{}
	for _, sh := range shards {
		if sh.Err != nil {
			return nil, sh.Err
		}
		for _, t := range sh.Resp.(*kmsg.ListOffsetsResponse).Topics {
			for _, p := range t.Partitions {
				if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
					return nil, fmt.Errorf("list offsets %s/%d: %w", topic, p.Partition, err)
				}
				out[p.Partition] = p.Offset
			}
		}
	}
	for _, p := range parts {
		if _, ok := out[p]; !ok {
			return nil, fmt.Errorf("list offsets %s/%d: no answer", topic, p)
		}
	}
	return out, nil
}

// kgoLogger passes franz-go's log lines to slog, one level down (franz-go is chatty).
type kgoLogger struct{ l *slog.Logger }

func (k kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	switch level {
	case kgo.LogLevelError:
		k.l.Warn(msg, keyvals...)
	default:
		k.l.Debug(msg, keyvals...)
	}
}
