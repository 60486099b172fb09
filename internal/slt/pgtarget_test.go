package slt

import (
	"slices"
	"testing"
)

func TestRewriteForPostgres(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{
			name: "create source",
			in:   "CREATE SOURCE comments (room_id bigint NOT NULL, body text) WITH (connector = 'http')",
			want: "CREATE TABLE comments (room_id bigint NOT NULL, body text)",
		},
		{
			name: "lower case, if not exists, no WITH",
			in:   "create source if not exists s (a int)",
			want: "create table if not exists s (a int)",
		},
		{
			name: "WITH with nested parentheses and a ) in a string",
			in:   "CREATE SOURCE s (a numeric(10, 2), b text DEFAULT ')') WITH (connector = 'kafka', topic = 'x)', brokers = 'a(b')",
			want: "CREATE TABLE s (a numeric(10, 2), b text DEFAULT ')')",
		},
		{
			name: "multi-line with comments and leading space",
			in:   "  -- a source\n  /* block /* nested */ */ CREATE\n SOURCE s (\n  a int -- key\n)\nWITH (connector = 'http')",
			want: "  -- a source\n  /* block /* nested */ */ CREATE\n TABLE s (\n  a int -- key\n)",
		},
		{
			name: "watermark element, last",
			in:   "CREATE SOURCE c (room bigint, ts timestamptz NOT NULL, WATERMARK FOR ts AS ts - INTERVAL '5 seconds') WITH (connector = 'http')",
			want: "CREATE TABLE c (room bigint, ts timestamptz NOT NULL)",
		},
		{
			name: "watermark element, first, with a function call",
			in:   "CREATE SOURCE c (WATERMARK FOR ts AS ts - make_interval(secs => 5), ts timestamptz)",
			want: "CREATE TABLE c ( ts timestamptz)",
		},
		{
			name: "quoted name",
			in:   `CREATE SOURCE "My Source" ("a b" int) WITH (connector = 'http')`,
			want: `CREATE TABLE "My Source" ("a b" int)`,
		},
		{
			name: "drop source",
			in:   "DROP SOURCE IF EXISTS a, b CASCADE",
			want: "DROP TABLE IF EXISTS a, b CASCADE",
		},
		{
			name: "several statements",
			in:   "DROP SOURCE a; CREATE SOURCE a (x int) WITH (connector = 'http'); SELECT 'CREATE SOURCE'",
			want: "DROP TABLE a; CREATE TABLE a (x int); SELECT 'CREATE SOURCE'",
		},
		{
			name: "semicolon in a string does not split",
			in:   "INSERT INTO t VALUES ('; DROP SOURCE s')",
			want: "INSERT INTO t VALUES ('; DROP SOURCE s')",
		},
		{
			name: "source as an identifier elsewhere",
			in:   "CREATE MATERIALIZED VIEW source AS SELECT source FROM t WITH DATA",
			want: "CREATE MATERIALIZED VIEW source AS SELECT source FROM t WITH DATA",
		},
		{
			name: "source in a comment",
			in:   "-- CREATE SOURCE s (a int) WITH (x = 1)\nSELECT 1",
			want: "-- CREATE SOURCE s (a int) WITH (x = 1)\nSELECT 1",
		},
		{
			name: "dollar and escape strings",
			in:   "SELECT $$; DROP SOURCE x$$, E'\\'; DROP SOURCE y', $t$ ; $t$; DROP SOURCE z",
			want: "SELECT $$; DROP SOURCE x$$, E'\\'; DROP SOURCE y', $t$ ; $t$; DROP TABLE z",
		},
		{
			name: "Weir-only SHOW is left alone",
			in:   "SHOW SOURCES",
			want: "SHOW SOURCES",
		},
		{
			name: "unterminated input",
			in:   "CREATE SOURCE s (a int",
			want: "CREATE TABLE s (a int",
		},
		{
			name: "empty",
			in:   "",
			want: "",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RewriteForPostgres(tc.in); got != tc.want {
				t.Errorf("RewriteForPostgres(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestRefreshOrder(t *testing.T) {
	tests := []struct {
		name  string
		nodes []viewNode
		want  []string
	}{
		{
			name: "none",
		},
		{
			name: "creation order without dependencies",
			nodes: []viewNode{
				{oid: 30, name: "c", materialized: true},
				{oid: 10, name: "a", materialized: true},
				{oid: 20, name: "b", materialized: true},
			},
			want: []string{"a", "b", "c"},
		},
		{
			name: "a view on a view comes after it, whatever the oids",
			nodes: []viewNode{
				{oid: 10, name: "top", materialized: true, deps: []int64{30}},
				{oid: 20, name: "other", materialized: true},
				{oid: 30, name: "bottom", materialized: true},
			},
			want: []string{"other", "bottom", "top"},
		},
		{
			name: "through a plain view, which is not refreshed",
			nodes: []viewNode{
				{oid: 10, name: "m2", materialized: true, deps: []int64{20}},
				{oid: 20, name: "v", deps: []int64{30}},
				{oid: 30, name: "m1", materialized: true},
			},
			want: []string{"m1", "m2"},
		},
		{
			name: "unknown dependencies are ignored",
			nodes: []viewNode{
				{oid: 10, name: "m", materialized: true, deps: []int64{99}},
			},
			want: []string{"m"},
		},
		{
			name: "a cycle still refreshes everything",
			nodes: []viewNode{
				{oid: 10, name: "a", materialized: true, deps: []int64{20}},
				{oid: 20, name: "b", materialized: true, deps: []int64{10}},
				{oid: 5, name: "c", materialized: true},
			},
			want: []string{"c", "a", "b"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := refreshOrder(tc.nodes); !slices.Equal(got, tc.want) {
				t.Errorf("refreshOrder = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestIsRead(t *testing.T) {
	for sql, want := range map[string]bool{
		"SELECT 1":                               true,
		"  -- c\n select * from v":               true,
		"(SELECT 1) UNION SELECT 2":              true,
		"WITH x AS (SELECT 1) SELECT * FROM x":   true,
		"TABLE v":                                true,
		"VALUES (1)":                             true,
		"INSERT INTO t VALUES (1)":               false,
		"CREATE MATERIALIZED VIEW v AS SELECT 1": false,
		"SHOW SOURCES":                           false,
		"":                                       false,
	} {
		if got := isRead(sql); got != want {
			t.Errorf("isRead(%q) = %v, want %v", sql, got, want)
		}
	}
}
