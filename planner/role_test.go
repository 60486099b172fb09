package planner_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
)

func ptr[T any](v T) *T { return &v }

func TestRoleStatements(t *testing.T) {
	_, p := newPlanner(t)
	cases := []struct {
		sql  string
		want planner.Statement
	}{
		{`CREATE ROLE analyst LOGIN PASSWORD 'pw'`, &planner.CreateRole{Name: "analyst", Login: true, Password: ptr("pw")}},
		{`CREATE USER bob`, &planner.CreateRole{Name: "bob", Login: true}},
		{`CREATE ROLE boss WITH SUPERUSER NOLOGIN`, &planner.CreateRole{Name: "boss", Superuser: true}},
		{`ALTER ROLE analyst WITH PASSWORD 'new'`, &planner.AlterRole{Name: "analyst", Password: ptr("new")}},
		{`ALTER ROLE analyst PASSWORD NULL NOLOGIN`, &planner.AlterRole{Name: "analyst", ClearPassword: true, Login: ptr(false)}},
		{`DROP ROLE IF EXISTS a, b`, &planner.DropRole{Names: []string{"a", "b"}, IfExists: true}},
		{`GRANT SELECT ON TABLE totals TO analyst`, &planner.Grant{Objects: []string{"totals"}, Privileges: []string{"SELECT"}, Roles: []string{"analyst"}}},
		{`GRANT INSERT, select ON events, rooms TO a, PUBLIC`, &planner.Grant{Objects: []string{"events", "rooms"}, Privileges: []string{"INSERT", "SELECT"}, Roles: []string{"a", "public"}}},
		{`GRANT ALL ON totals TO a`, &planner.Grant{Objects: []string{"totals"}, Privileges: []string{"SELECT", "INSERT", "UPDATE", "DELETE"}, Roles: []string{"a"}}},
		{`REVOKE ALL PRIVILEGES ON totals FROM a`, &planner.Grant{Revoke: true, Objects: []string{"totals"}, Privileges: []string{"SELECT", "INSERT", "UPDATE", "DELETE"}, Roles: []string{"a"}}},
		{`GRANT CREATE ON SCHEMA public TO a`, &planner.Grant{Schema: true, Objects: []string{"public"}, Privileges: []string{"CREATE"}, Roles: []string{"a"}}},
		{`GRANT SELECT ON ALL TABLES IN SCHEMA public TO a`, &planner.Grant{Objects: []string{"events", "rooms", "other", "totals"}, Privileges: []string{"SELECT"}, Roles: []string{"a"}}},
	}
	for _, tc := range cases {
		t.Run(tc.sql, func(t *testing.T) {
			st, err := p.Plan(tc.sql, nil)
			require.NoError(t, err)
			require.IsType(t, tc.want, st)
			switch want := tc.want.(type) {
			case *planner.CreateRole:
				got := st.(*planner.CreateRole)
				require.Equal(t, []any{want.Name, want.Login, want.Superuser, want.Password}, []any{got.Name, got.Login, got.Superuser, got.Password})
			case *planner.AlterRole:
				got := st.(*planner.AlterRole)
				require.Equal(t, []any{want.Name, want.Login, want.Superuser, want.Password, want.ClearPassword},
					[]any{got.Name, got.Login, got.Superuser, got.Password, got.ClearPassword})
			case *planner.DropRole:
				got := st.(*planner.DropRole)
				require.Equal(t, want.Names, got.Names)
				require.Equal(t, want.IfExists, got.IfExists)
			case *planner.Grant:
				got := st.(*planner.Grant)
				require.Equal(t, []any{want.Revoke, want.Schema, want.Objects, want.Privileges, want.Roles},
					[]any{got.Revoke, got.Schema, got.Objects, got.Privileges, got.Roles})
			}
		})
	}
	for sql, code := range map[string]sqlerr.Code{
		`GRANT SELECT ON nope TO a`:                     sqlerr.UndefinedTable,
		`GRANT CREATE ON totals TO a`:                   "0LP01",
		`GRANT SELECT ON SCHEMA public TO a`:            "0LP01",
		`GRANT USAGE ON SCHEMA other TO a`:              "3F000",
		`GRANT SELECT (room) ON totals TO a`:            sqlerr.FeatureNotSupported,
		`GRANT admins TO a`:                             sqlerr.FeatureNotSupported,
		`CREATE ROLE a CONNECTION LIMIT 3`:              sqlerr.FeatureNotSupported,
		`GRANT SELECT ON totals TO a WITH GRANT OPTION`: sqlerr.FeatureNotSupported,
	} {
		_, err := p.Plan(sql, nil)
		require.Error(t, err, sql)
		require.Equal(t, code, sqlerr.As(err).Code, "%s: %v", sql, err)
	}
}

func TestReadsOf(t *testing.T) {
	_, p := newPlanner(t)
	r, err := p.ReadsOf(`WITH x AS (SELECT * FROM totals) SELECT * FROM x, public.rooms r, pg_catalog.pg_class c, pg_type,
		information_schema.tables, weir_roles, main.duckdb_tables, generate_series(1, 3), read_csv('/etc/passwd')
		WHERE r.room IN (SELECT room FROM events)`)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"totals", "rooms", "events"}, r.Relations)
	require.ElementsMatch(t, []string{"weir_roles", "main.duckdb_tables"}, r.System)
	require.ElementsMatch(t, []string{"generate_series", "read_csv"}, r.Functions)
}
