package planner_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
)

// TestSubscribeForms parses SUBSCRIBE's options and COPY (SUBSCRIBE …) TO STDOUT.
func TestSubscribeForms(t *testing.T) {
	p := planner.New(catalog.New())
	for _, tc := range []struct {
		sql        string
		name       string
		noSnapshot bool
	}{
		{"SUBSCRIBE v", "v", false},
		{"SUBSCRIBE TO v;", "v", false},
		{`SUBSCRIBE "My View"`, "My View", false},
		{"SUBSCRIBE v WITH (SNAPSHOT = false)", "v", true},
		{"subscribe to v with (snapshot = 'off');", "v", true},
		{"SUBSCRIBE v WITH (SNAPSHOT = true)", "v", false},
		{"SUBSCRIBE v WITH (SNAPSHOT)", "v", false},
	} {
		t.Run(tc.sql, func(t *testing.T) {
			st, err := p.Plan(tc.sql, nil)
			require.NoError(t, err)
			sub := st.(*planner.Subscribe)
			require.Equal(t, tc.name, sub.Name)
			require.Equal(t, tc.noSnapshot, sub.NoSnapshot)
		})
	}
	for _, tc := range []struct {
		sql  string
		code sqlerr.Code
	}{
		{"SUBSCRIBE v WITH (snapshot = maybe)", sqlerr.InvalidParameterValue},
		{"SUBSCRIBE v WITH (progress = true)", sqlerr.InvalidParameterValue},
		{"SUBSCRIBE v WITH (snapshot = false, snapshot = true)", sqlerr.SyntaxError},
		{"SUBSCRIBE v w", sqlerr.FeatureNotSupported},
		{"COPY (SUBSCRIBE v WITH (snapshot = perhaps)) TO STDOUT", sqlerr.InvalidParameterValue},
		{"COPY (SUBSCRIBE) TO STDOUT", sqlerr.FeatureNotSupported},
	} {
		t.Run(tc.sql, func(t *testing.T) {
			_, err := p.Plan(tc.sql, nil)
			require.Error(t, err)
			require.Equal(t, tc.code, sqlerr.CodeOf(err))
		})
	}

	st, err := p.Plan("COPY (SUBSCRIBE v WITH (SNAPSHOT = false)) TO STDOUT WITH (FORMAT csv, HEADER)", nil)
	require.NoError(t, err)
	cp := st.(*planner.Copy)
	require.False(t, cp.From)
	require.Equal(t, "SUBSCRIBE v WITH (SNAPSHOT = false)", cp.Query)
	require.True(t, cp.Options.Header != 0)
}
