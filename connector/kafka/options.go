// Package kafka connects Weir to Apache Kafka with franz-go: a source that consumes a
// topic's partitions into a Weir source exactly once, a sink that produces a view's
// changes transactionally, and the same consumer reading a sink's topic back into a
// keyed table (format 'changes': the final stage of a global view across nodes).
//
// Exactly-once consumption does not trust Kafka's group offsets. Each poll is committed
// to Weir in one tick together with the next offset of every partition it read (and the
// dead letters of the messages that did not decode), so after a crash the positions
// Weir recovers are exactly those of the rows that survived, and the consumer seeks
// there. Group offsets are committed too, after Weir, for monitoring only.
package kafka

import (
	"slices"
	"strings"

	"github.com/weirdb/weir/internal/sqlerr"
)

// SourceConfig is a Kafka source's WITH options.
type SourceConfig struct {
	Brokers []string // seed brokers, host:port
	Topic   string
	Format  string // "json" (one object per message) or "csv" (one line per message); a table's: "changes"
	Start   string // "earliest" or "latest": where a partition without a stored position starts
	Group   string // consumer group; "" consumes every partition directly
	// NodeColumn is a table's column filled with the producing node's identity (the
	// sink's weir-node header); "" when the table has none. Tables only.
	NodeColumn string
}

// sourceOptions are the WITH options a Kafka source accepts.
var sourceOptions = []string{"connector", "brokers", "topic", "format", "start", "group"}

// ParseSource validates a Kafka source's WITH options (lower-cased keys). A missing
// required option or a bad value is 22023 naming the option; an option Weir does not
// know is 22023 too, and a format it does not read is 0A000.
func ParseSource(opts map[string]string) (SourceConfig, error) {
	for k := range opts {
		if !slices.Contains(sourceOptions, k) {
			return SourceConfig{}, sqlerr.New(sqlerr.InvalidParameterValue, "unrecognized Kafka source option %q", k).
				WithHint("Kafka sources take %s.", strings.Join(sourceOptions, ", "))
		}
	}
	cfg := SourceConfig{Topic: opts["topic"], Format: opts["format"], Start: opts["start"], Group: opts["group"]}
	brokers, err := parseBrokers(opts)
	if err != nil {
		return SourceConfig{}, err
	}
	cfg.Brokers = brokers
	if cfg.Topic == "" {
		return SourceConfig{}, missing("topic")
	}
	switch cfg.Format {
	case "":
		cfg.Format = "json"
	case "json", "csv":
	case FormatChanges:
		return SourceConfig{}, sqlerr.New(sqlerr.FeatureNotSupported, "Kafka source option format = 'changes' is not supported: a sink's change topic holds upserts and deletes, not events").
			WithHint("Read it into a keyed table: CREATE TABLE … (…, PRIMARY KEY (…)) WITH (connector = 'kafka', format = 'changes', …).")
	default:
		return SourceConfig{}, sqlerr.New(sqlerr.FeatureNotSupported, "Kafka source option format = %q is not supported (json or csv)", cfg.Format)
	}
	switch cfg.Start {
	case "":
		cfg.Start = "earliest"
	case "earliest", "latest":
	default:
		return SourceConfig{}, sqlerr.New(sqlerr.InvalidParameterValue, "Kafka source option start = %q is invalid (earliest or latest)", cfg.Start)
	}
	return cfg, nil
}

// FormatChanges is the format of a Weir sink's topic read into a table: each message is
// {"tick":N,"diff":±n,"row":{…}} keyed by the sink's key columns, with the producing
// node in the weir-node header.
const FormatChanges = "changes"

// tableOptions are the WITH options a table fed from Kafka accepts.
var tableOptions = []string{"connector", "brokers", "topic", "format", "node_column"}

// ParseTable validates the WITH options of a table fed from a Weir sink's change topic
// (format = 'changes'). Such a table is consumed without a group, from the start of
// every partition, so every node holds all of it: "group" and "start" are 0A000, a
// format other than 'changes' is 0A000, a missing or unknown option is 22023. The
// node column is checked against the table's columns by the caller.
func ParseTable(opts map[string]string) (SourceConfig, error) {
	for k := range opts {
		switch {
		case k == "group":
			return SourceConfig{}, sqlerr.New(sqlerr.FeatureNotSupported, "Kafka table option \"group\" is not supported: every node reads every partition of a table's topic, so that each holds the whole table")
		case k == "start":
			return SourceConfig{}, sqlerr.New(sqlerr.FeatureNotSupported, "Kafka table option \"start\" is not supported: a table reads its topic from the start, or it would miss rows")
		case !slices.Contains(tableOptions, k):
			return SourceConfig{}, sqlerr.New(sqlerr.InvalidParameterValue, "unrecognized Kafka table option %q", k).
				WithHint("Tables fed from Kafka take %s.", strings.Join(tableOptions, ", "))
		}
	}
	brokers, err := parseBrokers(opts)
	if err != nil {
		return SourceConfig{}, err
	}
	cfg := SourceConfig{Brokers: brokers, Topic: opts["topic"], Format: opts["format"], Start: "earliest",
		NodeColumn: strings.TrimSpace(opts["node_column"])}
	if cfg.Topic == "" {
		return SourceConfig{}, missing("topic")
	}
	switch cfg.Format {
	case FormatChanges:
	case "":
		return SourceConfig{}, sqlerr.New(sqlerr.InvalidParameterValue, "Kafka table option \"format\" is required (format = 'changes')").
			WithHint("A table reads the change topic of a Weir sink: WITH (connector = 'kafka', format = 'changes', …).")
	default:
		return SourceConfig{}, sqlerr.New(sqlerr.FeatureNotSupported, "Kafka table option format = %q is not supported (changes: a Weir sink's topic)", cfg.Format)
	}
	if _, ok := opts["node_column"]; ok && cfg.NodeColumn == "" {
		return SourceConfig{}, sqlerr.New(sqlerr.InvalidParameterValue, "Kafka table option \"node_column\" names no column")
	}
	return cfg, nil
}

func parseBrokers(opts map[string]string) ([]string, error) {
	var brokers []string
	for _, b := range strings.Split(opts["brokers"], ",") {
		if b = strings.TrimSpace(b); b != "" {
			if !strings.Contains(b, ":") {
				return nil, sqlerr.New(sqlerr.InvalidParameterValue, "Kafka option brokers: %q is not host:port", b)
			}
			brokers = append(brokers, b)
		}
	}
	if len(brokers) == 0 {
		return nil, missing("brokers")
	}
	return brokers, nil
}

func missing(opt string) error {
	return sqlerr.New(sqlerr.InvalidParameterValue, "Kafka option %q is required", opt).
		WithHint("WITH (connector = 'kafka', brokers = 'host:port,…', topic = '…')")
}
