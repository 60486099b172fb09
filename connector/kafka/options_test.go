package kafka

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/weirdb/weir/internal/sqlerr"
)

func TestParseSource(t *testing.T) {
	cfg, err := ParseSource(map[string]string{"connector": "kafka", "brokers": " a:1, b:2 ", "topic": "t"})
	require.NoError(t, err)
	require.Equal(t, SourceConfig{Brokers: []string{"a:1", "b:2"}, Topic: "t", Format: "json", Start: "earliest"}, cfg)
	cfg, err = ParseSource(map[string]string{"connector": "kafka", "brokers": "a:1", "topic": "t", "format": "csv", "start": "latest", "group": "g"})
	require.NoError(t, err)
	require.Equal(t, SourceConfig{Brokers: []string{"a:1"}, Topic: "t", Format: "csv", Start: "latest", Group: "g"}, cfg)
	for _, tc := range []struct {
		opts map[string]string
		code sqlerr.Code
	}{
		{map[string]string{"topic": "t"}, sqlerr.InvalidParameterValue},
		{map[string]string{"brokers": "a:1"}, sqlerr.InvalidParameterValue},
		{map[string]string{"brokers": "a:1", "topic": "t", "format": "avro"}, sqlerr.FeatureNotSupported},
		{map[string]string{"brokers": "a:1", "topic": "t", "start": "now"}, sqlerr.InvalidParameterValue},
		{map[string]string{"brokers": "a:1", "topic": "t", "partitions": "3"}, sqlerr.InvalidParameterValue},
	} {
		_, err := ParseSource(tc.opts)
		require.Equal(t, tc.code, sqlerr.CodeOf(err), "%v: %v", tc.opts, err)
	}
}

func TestParseSink(t *testing.T) {
	cfg, err := ParseSink(map[string]string{"connector": "kafka", "brokers": "a:1", "topic": "t", "key": "room, day"})
	require.NoError(t, err)
	require.Equal(t, SinkConfig{Brokers: []string{"a:1"}, Topic: "t", Format: "json", Key: []string{"room", "day"}}, cfg)
	_, err = ParseSink(map[string]string{"brokers": "a:1", "topic": "t", "format": "csv"})
	require.Equal(t, sqlerr.FeatureNotSupported, sqlerr.CodeOf(err))
	_, err = ParseSink(map[string]string{"brokers": "a:1"})
	require.Equal(t, sqlerr.InvalidParameterValue, sqlerr.CodeOf(err))
}

func TestParseTable(t *testing.T) {
	cfg, err := ParseTable(map[string]string{"connector": "kafka", "brokers": "a:1", "topic": "t", "format": "changes", "node_column": " node "})
	require.NoError(t, err)
	require.Equal(t, SourceConfig{Brokers: []string{"a:1"}, Topic: "t", Format: "changes", Start: "earliest", NodeColumn: "node"}, cfg)
	for _, tc := range []struct {
		opts map[string]string
		code sqlerr.Code
	}{
		{map[string]string{"brokers": "a:1", "topic": "t"}, sqlerr.InvalidParameterValue},
		{map[string]string{"brokers": "a:1", "topic": "t", "format": "json"}, sqlerr.FeatureNotSupported},
		{map[string]string{"brokers": "a:1", "topic": "t", "format": "changes", "group": "g"}, sqlerr.FeatureNotSupported},
		{map[string]string{"brokers": "a:1", "topic": "t", "format": "changes", "start": "earliest"}, sqlerr.FeatureNotSupported},
		{map[string]string{"brokers": "a:1", "topic": "t", "format": "changes", "node_column": " "}, sqlerr.InvalidParameterValue},
		{map[string]string{"brokers": "a:1", "topic": "t", "format": "changes", "key": "x"}, sqlerr.InvalidParameterValue},
		{map[string]string{"brokers": "a:1", "format": "changes"}, sqlerr.InvalidParameterValue},
	} {
		_, err := ParseTable(tc.opts)
		require.Equal(t, tc.code, sqlerr.CodeOf(err), "%v: %v", tc.opts, err)
	}
	_, err = ParseSource(map[string]string{"brokers": "a:1", "topic": "t", "format": "changes"})
	require.Equal(t, sqlerr.FeatureNotSupported, sqlerr.CodeOf(err))
}

func TestDecodeChange(t *testing.T) {
	hdr := []kgo.RecordHeader{{Key: "weir-diff", Value: []byte("-2")}, {Key: NodeHeader, Value: []byte("n1")}}
	ch, err := DecodeChange(Message{Value: []byte(`{"tick":7,"diff":-2,"row":{"a":1}}`), Headers: hdr})
	require.NoError(t, err)
	require.Equal(t, Change{Node: "n1", Tick: 7, Diff: -2, Row: []byte(`{"a":1}`)}, ch)
	for _, v := range []string{`{"tick":7,"diff":0,"row":{}}`, `{"diff":1,"row":{}}`, `{"tick":1,"diff":1,"row":[1]}`, `{"tick":1,"diff":1}`, `nope`} {
		_, err := DecodeChange(Message{Value: []byte(v)})
		require.Equal(t, sqlerr.InvalidTextRepresentation, sqlerr.CodeOf(err), v)
	}
}
