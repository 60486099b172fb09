package kafka

import (
	"testing"

	"github.com/stretchr/testify/require"

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
