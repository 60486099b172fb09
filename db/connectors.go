package db

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/connector/kafka"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/jsonrow"
	"github.com/weirdb/weir/internal/pgcopy"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/storage/viewstore"
)

// Connectors: the Kafka consumers behind sources declared WITH (connector = 'kafka'),
// and the sinks (sinks.go). A consumer starts when its source is created and when the
// database opens (after recovery), and stops at DROP SOURCE and Close.
//
// Each poll of a consumer is one tick (commitKafka): the rows of every partition it
// read, the dead letters of the messages that did not decode, and each partition's next
// offset under the progress key "kafka/<source>/<partition>", all committed together
// (the write-ahead log record and the view-store transaction of IngestWithProgress).
// Recovery therefore restores exactly the positions of the rows that survived, and the
// consumer seeks there: no loss and no duplicate although Kafka delivers at least once.
//
// Per-partition watermarks: for a watermarked Kafka source, each tick also records each
// partition's largest event time under "eventtime/<source>/<partition>", and the
// source's watermark is capped by the smallest of them (partitionBound, eventtime.go):
// a partition that lags holds the watermark back instead of having its events counted
// late. The cap is read from the committed progress, so it is the same live and in
// recovery; it takes effect from the tick after the one that records it (earlier, never
// later, is the safe side).
//
// Tables fed from Kafka: CREATE TABLE … WITH (connector = 'kafka', format = 'changes',
// topic = …, node_column = …) reads the change topic of a Weir Kafka sink (sink.go in
// connector/kafka) into a keyed table, without a consumer group: every node reads every
// partition, so every node holds the whole table (Kafka Streams' GlobalKTable). A change
// with diff > 0 upserts its row; one with diff < 0 deletes the row with its key if that
// row is the one retracted (so a retraction that arrives after the insertion replacing
// it is a no-op). The node column is filled from the message's weir-node header, so the
// partial rows of one key produced by different nodes are different rows. Each poll is
// one tick with the table's changes and every partition's next offset under the same
// progress keys as a source's (commitKafkaTable): a restart resumes where the table's
// rows stand.

// DeadLettersTable is the source that keeps the Kafka messages that did not decode:
// one row per message, committed in the same tick as the position moving past it.
const DeadLettersTable = "weir_dead_letters"

const deadLettersSQL = `CREATE SOURCE ` + DeadLettersTable + ` (source text NOT NULL, topic text NOT NULL, ` +
	`kafka_partition integer NOT NULL, kafka_offset bigint NOT NULL, error text NOT NULL, payload text, ` +
	`received_at timestamptz NOT NULL) WITH (connector = 'http')`

// connectors are the running consumers and sinks. Their own lock, never held while
// waiting for d.mu's holder (a consumer's commit takes d.mu).
type connectors struct {
	mu       sync.Mutex
	sources  map[string]*kafka.Source
	sinks    map[string]*sinkRunner
	stopping []*kafka.Source // dropped sources' consumers, stopping; Close waits for them
	ctx      context.Context // the database's lifetime; cancelled by Close
	cancel   context.CancelFunc
	closed   bool
}

func (d *DB) conns() *connectors {
	d.connOnce.Do(func() {
		d.connectors = &connectors{sources: map[string]*kafka.Source{}, sinks: map[string]*sinkRunner{}}
	})
	return d.connectors
}

// isKafka reports whether rel is a source fed by Kafka.
func isKafka(rel *catalog.Relation) bool {
	return rel.Kind == catalog.Source && rel.Options["connector"] == "kafka"
}

// isKafkaTable reports whether rel is a table fed from a Weir sink's Kafka topic.
func isKafkaTable(rel *catalog.Relation) bool {
	return rel.Kind == catalog.Table && rel.Options["connector"] == "kafka"
}

// consumesKafka reports whether rel has a Kafka consumer: a Kafka source or table.
func consumesKafka(rel *catalog.Relation) bool { return isKafka(rel) || isKafkaTable(rel) }

// checkWritable refuses INSERT, UPDATE, DELETE and COPY on a table fed from Kafka: its
// rows are its topic's.
func checkWritable(rel *catalog.Relation) error {
	if isKafkaTable(rel) {
		return sqlerr.New(sqlerr.FeatureNotSupported, "table %q is fed from Kafka topic %q and cannot be written to", rel.Name, rel.Options["topic"])
	}
	return nil
}

// positionKey is the progress key of a partition's next offset.
func positionKey(source string, partition int32) string {
	return "kafka/" + source + "/" + strconv.Itoa(int(partition))
}

// eventTimeKey is the progress key of a partition's largest event time (µs).
func eventTimeKey(source string, partition int32) string {
	return "eventtime/" + source + "/" + strconv.Itoa(int(partition))
}

// startConnectors starts every Kafka source's consumer and every sink; Open calls it
// once recovery is done.
func (d *DB) startConnectors(ctx context.Context) {
	c := d.conns()
	c.mu.Lock()
	c.ctx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	c.mu.Unlock()
	for _, rel := range append(d.cat.List(catalog.Source), d.cat.List(catalog.Table)...) {
		if consumesKafka(rel) {
			d.startSource(rel)
		}
	}
	d.startSinks()
}

// startSource starts rel's consumer (a Kafka source or table).
func (d *DB) startSource(rel *catalog.Relation) {
	c := d.conns()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.ctx == nil {
		return
	}
	cfg, dec, err := d.consumerConfig(rel)
	if err != nil {
		d.logger.Error("kafka source not started", "source", rel.Name, "err", err)
		return
	}
	if old := c.sources[rel.Name]; old != nil {
		old.Stop()
	}
	s := kafka.NewSource(cfg, rel.Name, &kafkaTarget{d: d, rel: rel, topic: cfg.Topic}, dec, d.logger)
	c.sources[rel.Name] = s
	s.Start(c.ctx)
}

// stopSource asks a source's consumer to stop and returns it, to be waited for once
// d.mu is released (its last commit may be waiting for d.mu).
func (d *DB) stopSource(name string) *kafka.Source {
	c := d.conns()
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sources[name]
	if s != nil {
		s.Stop()
		delete(c.sources, name)
		c.stopping = append(c.stopping, s)
	}
	return s
}

// stopConnectors stops every consumer and sink and waits for them; Close calls it
// before anything else, without d.mu.
func (d *DB) stopConnectors() {
	c := d.conns()
	c.mu.Lock()
	c.closed = true
	if c.cancel != nil {
		c.cancel()
	}
	srcs, sinks, stopping := c.sources, c.sinks, c.stopping
	c.sources, c.sinks, c.stopping = map[string]*kafka.Source{}, map[string]*sinkRunner{}, nil
	c.mu.Unlock()
	for _, s := range srcs {
		s.Close()
	}
	for _, s := range stopping {
		s.Wait()
	}
	for _, s := range sinks {
		s.close()
	}
}

// consumerConfig parses a Kafka source's or table's options and returns its decoder.
func (d *DB) consumerConfig(rel *catalog.Relation) (kafka.SourceConfig, kafka.Decoder, error) {
	if isKafkaTable(rel) {
		cfg, err := kafka.ParseTable(rel.Options)
		if err != nil {
			return cfg, nil, err
		}
		dec, err := changeDecoder(rel, cfg.NodeColumn)
		return cfg, dec, err
	}
	cfg, err := kafka.ParseSource(rel.Options)
	if err != nil {
		return cfg, nil, err
	}
	dec, err := d.decoder(rel, cfg.Format)
	return cfg, dec, err
}

// validateConnector checks a new source's or table's connector options (CREATE time)
// and makes sure the dead-letter source exists for a Kafka consumer. The caller holds
// d.mu.
func (d *DB) validateConnector(ctx context.Context, rel *catalog.Relation) error {
	if !consumesKafka(rel) {
		return nil
	}
	if _, _, err := d.consumerConfig(rel); err != nil {
		return err
	}
	return d.ensureDeadLetters(ctx)
}

// ensureDeadLetters creates weir_dead_letters if it does not exist. The caller holds d.mu.
func (d *DB) ensureDeadLetters(ctx context.Context) error {
	if _, err := d.cat.Get(DeadLettersTable); err == nil {
		return nil
	}
	st, err := d.planner.Plan(deadLettersSQL, nil)
	if err != nil {
		return err
	}
	rel := st.(*planner.CreateRelation).Rel
	if err := d.cat.Add(rel); err != nil {
		return err
	}
	tx, err := d.store.Begin(ctx)
	if err == nil {
		if err = tx.CreateRelation(rel); err == nil {
			err = tx.Commit(d.tick)
		} else {
			tx.Rollback()
		}
	}
	if err != nil {
		d.cat.Remove(rel.Name)
	}
	return err
}

// forgetPositions deletes a dropped Kafka source's positions, in the drop's
// transaction, so that a source created again under the name starts afresh. The caller
// holds d.mu; the in-memory positions go once the transaction commits (dropPositions).
func forgetPositions(tx *viewstore.Tx, rel *catalog.Relation) error {
	if !consumesKafka(rel) {
		return nil
	}
	for _, prefix := range []string{"kafka/", "eventtime/"} {
		if err := tx.Exec(`DELETE FROM weir_meta WHERE starts_with(key, ?)`, progressPrefix+prefix+rel.Name+"/"); err != nil {
			return err
		}
	}
	return nil
}

func (d *DB) dropPositions(name string) {
	for k := range d.progress {
		if strings.HasPrefix(k, "kafka/"+name+"/") || strings.HasPrefix(k, "eventtime/"+name+"/") {
			delete(d.progress, k)
		}
	}
}

// decoder returns the function that types one message of rel in format: JSON as HTTP
// ingest reads it (internal/jsonrow), CSV as COPY FROM … (FORMAT csv) reads a line.
func (d *DB) decoder(rel *catalog.Relation, format string) (kafka.Decoder, error) {
	check := func(row []delta.Value) ([]delta.Value, error) {
		if err := checkRow(rel, row, 1); err != nil {
			return nil, err
		}
		return row, nil
	}
	event := func(decode func(payload []byte) ([]delta.Value, error)) kafka.Decoder {
		return func(m kafka.Message) ([]delta.Value, int64, error) {
			row, err := decode(m.Value)
			return row, 1, err
		}
	}
	switch format {
	case "", "json":
		return event(func(payload []byte) ([]delta.Value, error) {
			row, col, err := jsonrow.Decode(rel, payload)
			if err != nil {
				if col != "" {
					return nil, err.WithDetail("column %s", col)
				}
				return nil, err
			}
			return check(row)
		}), nil
	case "csv":
		cols := make([]int, len(rel.Columns))
		names := make([]string, len(rel.Columns))
		for i, c := range rel.Columns {
			cols[i], names[i] = i, c.Name
		}
		opts := pgcopy.Defaults(pgcopy.CSV)
		st := &planner.Copy{From: true, Rel: rel, Columns: cols, Options: opts}
		return event(func(payload []byte) ([]delta.Value, error) {
			cv := newCopyConverter(rel, st)
			rd := pgcopy.NewReader(bytes.NewReader(payload), opts, names)
			if !rd.Next() {
				if err := rd.Err(); err != nil {
					return nil, err
				}
				return nil, sqlerr.New(sqlerr.BadCopyFileFormat, "empty message")
			}
			row := make([]delta.Value, len(rel.Columns))
			if err := cv.convert(rd, row); err != nil {
				return nil, err
			}
			if rd.Next() {
				return nil, sqlerr.New(sqlerr.BadCopyFileFormat, "more than one CSV line in a message")
			}
			if err := rd.Err(); err != nil {
				return nil, err
			}
			return check(row)
		}), nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "Kafka source option format = %q is not supported (json or csv)", format)
}

// changeDecoder returns the function that types one message of a sink's change topic
// (format 'changes') to a row of the table rel and its diff. The row's members are the
// table's columns but the node column, which is filled from the weir-node header; the
// message key must name exactly the table's key columns but the node column (the sink's
// key option), so that every change of one row comes through one partition, in order.
// It checks nodeColumn at CREATE time: 42703 when rel has no such column, 42804 when it
// is not text, 22023 when it is not part of the primary key.
func changeDecoder(rel *catalog.Relation, nodeColumn string) (kafka.Decoder, error) {
	nodeCol := -1
	if nodeColumn != "" {
		nodeCol = rel.ColumnIndex(nodeColumn)
		if nodeCol < 0 {
			return nil, sqlerr.New(sqlerr.UndefinedColumn, "Kafka table option node_column: table %q has no column %q", rel.Name, nodeColumn)
		}
		if t := rel.Columns[nodeCol].Type; !t.IsString() {
			return nil, sqlerr.New(sqlerr.DatatypeMismatch, "Kafka table option node_column: column %q is %s, not text", nodeColumn, t)
		}
		if !slices.Contains(rel.PrimaryKey, nodeCol) {
			return nil, sqlerr.New(sqlerr.InvalidParameterValue, "Kafka table option node_column: column %q is not in the primary key of %q", nodeColumn, rel.Name).
				WithHint("Put it in the key, PRIMARY KEY (%s, …): rows of one key from different nodes are different rows.", nodeColumn)
		}
	}
	var keyNames []string // the message key's members
	for _, k := range rel.PrimaryKey {
		if k != nodeCol {
			keyNames = append(keyNames, rel.Columns[k].Name)
		}
	}
	if len(keyNames) == 0 {
		return nil, sqlerr.New(sqlerr.InvalidParameterValue, "Kafka table option node_column: the primary key of %q needs a column besides %q", rel.Name, nodeColumn)
	}
	sort.Strings(keyNames)
	wantKey := strings.Join(keyNames, ", ")
	// The row is decoded without the node column's NOT NULL: the header fills it.
	dec := *rel
	dec.Columns = slices.Clone(rel.Columns)
	if nodeCol >= 0 {
		dec.Columns[nodeCol].NotNull = false
	}
	return func(m kafka.Message) ([]delta.Value, int64, error) {
		ch, err := kafka.DecodeChange(m)
		if err != nil {
			return nil, 0, err
		}
		var key map[string]json.RawMessage
		if json.Unmarshal(m.Key, &key) != nil {
			return nil, 0, sqlerr.New(sqlerr.InvalidTextRepresentation, "the message key is not a JSON object of %s", wantKey)
		}
		if got := slices.Sorted(maps.Keys(key)); !slices.Equal(got, keyNames) {
			return nil, 0, sqlerr.New(sqlerr.InvalidParameterValue, "the message key has members %s; table %q needs a sink keyed by %s", strings.Join(got, ", "), rel.Name, wantKey).
				WithHint("CREATE SINK … WITH (…, key = '%s'): every change of a row then comes through one partition, in order.", wantKey)
		}
		row, col, serr := jsonrow.Decode(&dec, ch.Row)
		if serr != nil {
			if col != "" {
				return nil, 0, serr.WithDetail("column %s", col)
			}
			return nil, 0, serr
		}
		if nodeCol >= 0 {
			if ch.Node == "" {
				return nil, 0, sqlerr.New(sqlerr.InvalidParameterValue, "the message has no %s header to fill node column %q", kafka.NodeHeader, nodeColumn)
			}
			row[nodeCol] = delta.Str(ch.Node)
		}
		if err := checkRow(rel, row, 1); err != nil {
			return nil, 0, err
		}
		return row, ch.Diff, nil
	}, nil
}

// kafkaTarget is a Kafka source's view of the database.
type kafkaTarget struct {
	d     *DB
	rel   *catalog.Relation // the source as created: a source dropped and created again is another
	topic string
}

func (t *kafkaTarget) Position(p int32) (int64, bool) {
	v, ok := t.d.Progress(positionKey(t.rel.Name, p))
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

func (t *kafkaTarget) Commit(ctx context.Context, parts []kafka.Partition) error {
	if t.rel.Kind == catalog.Table {
		return t.d.commitKafkaTable(ctx, t.rel, t.topic, parts)
	}
	return t.d.commitKafka(ctx, t.rel, t.topic, parts)
}

// lockConsumer takes d.mu for a commit of rel's consumer, unless the database is not
// ready, the consumer was stopped (a dropped relation's last poll must not land) or rel
// is no longer the relation of its name.
func (d *DB) lockConsumer(ctx context.Context, rel *catalog.Relation) error {
	if err := d.checkReady(); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	d.mu.Lock()
	if cur, err := d.cat.Get(rel.Name); err != nil || cur != rel {
		d.mu.Unlock()
		return sqlerr.New(sqlerr.UndefinedTable, "%s %q was dropped", rel.Kind, rel.Name)
	}
	return nil
}

// appendDeadLetters appends the messages of source (a Kafka source or table) that did not
// decode to dead, a batch of weir_dead_letters made on first use, and returns it. The
// caller holds d.mu.
func (d *DB) appendDeadLetters(ctx context.Context, dead *delta.Batch, source, topic string, dls []kafka.DeadLetter, now int64) (*delta.Batch, error) {
	for _, dl := range dls {
		if dead == nil {
			dlRel, err := d.deadLetters(ctx)
			if err != nil {
				return nil, err
			}
			dead = delta.New(relKinds(dlRel))
		}
		dead.AppendRow([]delta.Value{delta.Str(source), delta.Str(topic), delta.Int(int64(dl.Partition)),
			delta.Int(dl.Offset), delta.Str(dl.Err), payloadText(dl.Payload), delta.Int(now)}, 1)
	}
	return dead, nil
}

// commitKafka commits one poll of a Kafka source as one tick: the rows, the dead letters
// and every partition's position and event time, or nothing.
func (d *DB) commitKafka(ctx context.Context, rel *catalog.Relation, topic string, parts []kafka.Partition) error {
	if err := d.lockConsumer(ctx, rel); err != nil {
		return err
	}
	defer d.mu.Unlock()
	in := tickInput{appends: map[string]*delta.Batch{}, progress: map[string]string{}}
	rows := delta.New(relKinds(rel))
	var dead *delta.Batch
	now := d.clock().UnixMicro()
	for _, p := range parts {
		maxTS := exec.NoWatermark
		for _, row := range p.Rows {
			rows.AppendRow(row, 1)
			if wm := rel.Watermark; wm != nil && !row[wm.Col].Null {
				maxTS = max(maxTS, row[wm.Col].I)
			}
		}
		in.progress[positionKey(rel.Name, p.ID)] = strconv.FormatInt(p.Next, 10)
		if maxTS != exec.NoWatermark {
			k := eventTimeKey(rel.Name, p.ID)
			if prev, ok := d.progress[k]; !ok || maxTS > parseMicros(prev) {
				in.progress[k] = strconv.FormatInt(maxTS, 10)
			}
		}
		var err error
		if dead, err = d.appendDeadLetters(ctx, dead, rel.Name, topic, p.Dead, now); err != nil {
			return err
		}
	}
	if rows.Len() > 0 {
		in.appends[rel.Name] = rows
	}
	if dead != nil {
		in.appends[DeadLettersTable] = dead
	}
	return d.runTick(context.WithoutCancel(ctx), in)
}

// commitKafkaTable commits one poll of a table fed from a sink's change topic as one
// tick: the table's changes (upserts and deletes, applied in message order over the
// table's rows), the dead letters and every partition's position, or nothing.
func (d *DB) commitKafkaTable(ctx context.Context, rel *catalog.Relation, topic string, parts []kafka.Partition) error {
	if err := d.lockConsumer(ctx, rel); err != nil {
		return err
	}
	defer d.mu.Unlock()
	t := d.tables[rel.Name]
	type state struct {
		row    []delta.Value // nil: no row with the key
		before []delta.Value // the row before this poll
	}
	touched := map[string]*state{}
	var order []string // keys in the order first touched, for a deterministic batch
	in := tickInput{appends: map[string]*delta.Batch{}, progress: map[string]string{}}
	var dead *delta.Batch
	now := d.clock().UnixMicro()
	for _, p := range parts {
		for i, row := range p.Rows {
			k := pkKey(rel, row)
			st, ok := touched[k]
			if !ok {
				cur := t.rows[k]
				st = &state{row: cur, before: cur}
				touched[k] = st
				order = append(order, k)
			}
			switch {
			case p.Diffs[i] > 0:
				st.row = row
			case st.row != nil && delta.RowKey(st.row) == delta.RowKey(row):
				st.row = nil // the row retracted is the one the table holds
			}
		}
		in.progress[positionKey(rel.Name, p.ID)] = strconv.FormatInt(p.Next, 10)
		var err error
		if dead, err = d.appendDeadLetters(ctx, dead, rel.Name, topic, p.Dead, now); err != nil {
			return err
		}
	}
	changes := delta.New(relKinds(rel))
	for _, k := range order {
		st := touched[k]
		if st.before != nil && st.row != nil && delta.RowKey(st.before) == delta.RowKey(st.row) {
			continue // replayed, or changed and changed back
		}
		if st.before != nil {
			changes.AppendRow(st.before, -1)
		}
		if st.row != nil {
			changes.AppendRow(st.row, 1)
		}
	}
	if changes.Len() > 0 {
		in.tables = map[string]*delta.Batch{rel.Name: changes}
	}
	if dead != nil {
		in.appends[DeadLettersTable] = dead
	}
	return d.runTick(context.WithoutCancel(ctx), in)
}

// deadLetters returns weir_dead_letters, creating it again if it was dropped (weir
// apply --prune drops what no file declares). The caller holds d.mu.
func (d *DB) deadLetters(ctx context.Context) (*catalog.Relation, error) {
	if rel, err := d.cat.Get(DeadLettersTable); err == nil {
		return rel, nil
	}
	if err := d.flush(ctx); err != nil { // DDL works on the store: bring it up to date
		return nil, err
	}
	if err := d.ensureDeadLetters(ctx); err != nil {
		return nil, err
	}
	return d.cat.Get(DeadLettersTable)
}

// payloadText is a message's payload as text: itself when it is UTF-8, else bytea's hex
// output (\x…), so that no payload is lost or mangled.
func payloadText(b []byte) delta.Value {
	if b == nil {
		return delta.Null(delta.KindString)
	}
	if utf8.Valid(b) && !bytes.ContainsRune(b, 0) {
		return delta.Str(string(b))
	}
	return delta.Str(fmt.Sprintf(`\x%x`, b))
}

func parseMicros(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return exec.NoWatermark
	}
	return n
}

// partitionBound is the cap a partitioned (Kafka) source puts on its watermark: the
// smallest of its partitions' largest event times, over the partitions that have
// delivered an event. ok is false for a source that is not partitioned; a partitioned
// source whose partitions have delivered nothing yet has bound NoWatermark. The caller
// holds d.mu.
func (d *DB) partitionBound(source string) (bound int64, ok bool) {
	rel, err := d.cat.Get(source)
	if err != nil || !isKafka(rel) {
		return 0, false
	}
	prefix := "eventtime/" + source + "/"
	bound, seen := exec.NoWatermark, false
	for k, v := range d.progress {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		ts := parseMicros(v)
		if !seen || ts < bound {
			bound, seen = ts, true
		}
	}
	return bound, true
}
