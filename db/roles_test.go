package db_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/server/pgwire"
)

// startAuthServer opens the database in dir and serves it with --auth scram; the weir
// superuser's password is "weirpw". stop shuts both down.
func startAuthServer(t *testing.T, dir string) (addr string, stop func()) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(t.Context(), db.Config{Dir: dir}, logger)
	require.NoError(t, err)
	require.NoError(t, d.SetRolePassword(t.Context(), db.BootstrapRole, "weirpw"))
	srv, err := server.Start(server.Config{PGAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", PGAuth: pgwire.AuthSCRAM}, d, logger)
	if err != nil {
		d.Close()
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, srv.Shutdown(ctx))
		require.NoError(t, d.Close())
	}
	t.Cleanup(stop)
	return srv.PGAddr(), stop
}

func connectAs(t *testing.T, addr, user, password string) (*pgx.Conn, error) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), fmt.Sprintf("postgres://%s:%s@%s/weir?sslmode=disable", user, password, addr))
	if err == nil {
		t.Cleanup(func() { conn.Close(context.Background()) })
	}
	return conn, err
}

func requireDenied(t *testing.T, err error, msg string) {
	t.Helper()
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe), "want 42501, got %v", err)
	require.Equal(t, "42501", pe.Code, pe.Message)
	require.Equal(t, msg, pe.Message)
}

// TestRolesPrivileges: an analyst with SELECT on one view reads it and nothing else,
// cannot create, drop or ingest until granted, and keeps exactly its privileges across a
// restart. Roles show in psql's \du.
func TestRolesPrivileges(t *testing.T) {
	dir := t.TempDir()
	addr, stop := startAuthServer(t, dir)
	ctx := t.Context()
	admin, err := connectAs(t, addr, "weir", "weirpw")
	require.NoError(t, err)
	for _, q := range []string{
		`CREATE SOURCE ev (room bigint NOT NULL, amount bigint)`,
		`CREATE TABLE rooms (id bigint PRIMARY KEY, name text)`,
		`CREATE MATERIALIZED VIEW totals AS SELECT room, sum(amount) AS total FROM ev GROUP BY room`,
		`CREATE MATERIALIZED VIEW secret AS SELECT room, count(*) AS n FROM ev GROUP BY room`,
		`INSERT INTO ev VALUES (1, 10), (2, 5)`,
		`CREATE ROLE analyst LOGIN PASSWORD 'anpw'`,
		`CREATE ROLE nologin_role`,
		`GRANT SELECT ON TABLE totals TO analyst`,
	} {
		_, err := admin.Exec(ctx, q)
		require.NoError(t, err, q)
	}
	_, err = admin.Exec(ctx, `CREATE ROLE analyst`)
	require.Error(t, err)

	an, err := connectAs(t, addr, "analyst", "anpw")
	require.NoError(t, err)
	var total int64
	require.NoError(t, an.QueryRow(ctx, `SELECT total::bigint FROM totals WHERE room = 1`).Scan(&total))
	require.Equal(t, int64(10), total)
	var super string
	require.NoError(t, an.QueryRow(ctx, `SHOW is_superuser`).Scan(&super))
	require.Equal(t, "off", super)

	denied := func(conn *pgx.Conn, q, msg string) {
		t.Helper()
		_, err := conn.Exec(ctx, q)
		requireDenied(t, err, msg)
	}
	denied(an, `SELECT * FROM secret`, "permission denied for table secret")
	denied(an, `SELECT t.total FROM totals t JOIN secret s USING (room)`, "permission denied for table secret")
	denied(an, `SELECT * FROM ev`, "permission denied for table ev")
	denied(an, `SELECT * FROM weir_roles`, "permission denied for table weir_roles")
	denied(an, `SELECT * FROM read_csv('/etc/passwd')`, "permission denied for function read_csv")
	denied(an, `SUBSCRIBE secret`, "permission denied for table secret")
	denied(an, `CREATE SOURCE mine (x bigint)`, "permission denied for schema public")
	denied(an, `CREATE MATERIALIZED VIEW mine AS SELECT room FROM totals`, "permission denied for schema public")
	denied(an, `DROP MATERIALIZED VIEW secret`, "permission denied for schema public")
	denied(an, `INSERT INTO ev VALUES (3, 1)`, "permission denied for table ev")
	denied(an, `DELETE FROM rooms`, "permission denied for table rooms")
	denied(an, `CREATE ROLE intruder SUPERUSER`, "permission denied: only superusers manage roles and privileges")
	denied(an, `GRANT SELECT ON secret TO analyst`, "permission denied: only superusers manage roles and privileges")
	_, err = an.PgConn().CopyFrom(ctx, strings.NewReader("3\t1\n"), `COPY ev FROM STDIN`)
	requireDenied(t, err, "permission denied for table ev")
	// Catalog reads stay open: psql's \d works for everyone.
	var n int
	require.NoError(t, an.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'secret'`).Scan(&n))
	require.Equal(t, 1, n)

	_, err = admin.Exec(ctx, `GRANT INSERT ON ev TO analyst`)
	require.NoError(t, err)
	_, err = an.Exec(ctx, `INSERT INTO ev VALUES (1, 1)`)
	require.NoError(t, err)
	tag, err := an.PgConn().CopyFrom(ctx, strings.NewReader("1\t2\n"), `COPY ev FROM STDIN`)
	require.NoError(t, err)
	require.Equal(t, "COPY 1", tag.String())
	require.NoError(t, an.QueryRow(ctx, `SELECT total::bigint FROM totals WHERE room = 1`).Scan(&total))
	require.Equal(t, int64(13), total)

	_, err = admin.Exec(ctx, `GRANT CREATE ON SCHEMA public TO analyst`)
	require.NoError(t, err)
	_, err = an.Exec(ctx, `CREATE MATERIALIZED VIEW mine AS SELECT room, total FROM totals`)
	require.NoError(t, err, "CREATE on public and SELECT on what the view reads")
	require.NoError(t, an.QueryRow(ctx, `SELECT count(*) FROM mine`).Scan(&n), "the creator may read its view")
	denied(an, `CREATE MATERIALIZED VIEW peek AS SELECT room, n FROM secret`, "permission denied for table secret")
	_, err = admin.Exec(ctx, `REVOKE CREATE ON SCHEMA public FROM analyst`)
	require.NoError(t, err)

	t.Run("psql du", func(t *testing.T) {
		host, port, err := net.SplitHostPort(addr)
		require.NoError(t, err)
		cmd := exec.CommandContext(ctx, psqlPath, "-X", "-w", "-h", host, "-p", port, "-U", "weir", "-d", "weir", "-c", `\du`)
		cmd.Env = append(os.Environ(), "PGPASSWORD=weirpw", "PGSSLMODE=disable")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		lines := strings.Split(string(out), "\n")
		find := func(role string) string {
			for _, l := range lines {
				if strings.HasPrefix(strings.TrimSpace(l), role+" ") {
					return l
				}
			}
			t.Fatalf("%s not in \\du:\n%s", role, out)
			return ""
		}
		require.Contains(t, find("weir"), "Superuser")
		require.NotContains(t, find("analyst"), "Superuser")
		require.NotContains(t, find("analyst"), "Cannot login")
		require.Contains(t, find("nologin_role"), "Cannot login")
	})

	// Privileges and roles survive a restart.
	stop()
	addr, _ = startAuthServer(t, dir)
	an, err = connectAs(t, addr, "analyst", "anpw")
	require.NoError(t, err)
	require.NoError(t, an.QueryRow(ctx, `SELECT total::bigint FROM totals WHERE room = 1`).Scan(&total))
	require.Equal(t, int64(13), total)
	_, err = an.Exec(ctx, `INSERT INTO ev VALUES (2, 1)`)
	require.NoError(t, err)
	_, err = an.Exec(ctx, `SELECT * FROM secret`)
	requireDenied(t, err, "permission denied for table secret")
	_, err = an.Exec(ctx, `CREATE SOURCE mine2 (x bigint)`)
	requireDenied(t, err, "permission denied for schema public")

	// Password changes and role removal take effect at the next login.
	admin, err = connectAs(t, addr, "weir", "weirpw")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `ALTER ROLE analyst WITH PASSWORD 'newpw'`)
	require.NoError(t, err)
	_, err = connectAs(t, addr, "analyst", "anpw")
	require.Equal(t, "28P01", pgCodeOf(t, err))
	_, err = connectAs(t, addr, "analyst", "newpw")
	require.NoError(t, err)
	_, err = admin.Exec(ctx, `REVOKE ALL ON totals FROM analyst`)
	require.NoError(t, err)
	_, err = an.Exec(ctx, `SELECT * FROM totals`)
	requireDenied(t, err, "permission denied for table totals")
	_, err = admin.Exec(ctx, `DROP ROLE analyst`)
	require.NoError(t, err)
	_, err = connectAs(t, addr, "analyst", "newpw")
	require.Equal(t, "28P01", pgCodeOf(t, err))
	_, err = admin.Exec(ctx, `DROP ROLE weir`)
	require.Error(t, err)
	_, err = admin.Exec(ctx, `DROP ROLE IF EXISTS analyst`)
	require.NoError(t, err)
}

func pgCodeOf(t *testing.T, err error) string {
	t.Helper()
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe), "want a PgError, got %v", err)
	return pe.Code
}

// TestRolesTrust: without --auth every session is the superuser, whatever its user name,
// and pg_roles lists the bootstrap superuser.
func TestRolesTrust(t *testing.T) {
	host, port := startCatalogServer(t)
	conn, err := pgx.Connect(t.Context(), fmt.Sprintf("postgres://someone@%s:%s/weir?sslmode=disable", host, port))
	require.NoError(t, err)
	defer conn.Close(context.Background())
	for _, q := range []string{`CREATE ROLE reader`, `CREATE SOURCE s (x bigint)`, `GRANT SELECT ON s TO reader`, `INSERT INTO s VALUES (1)`} {
		_, err := conn.Exec(t.Context(), q)
		require.NoError(t, err, q)
	}
	var names []string
	rows, err := conn.Query(t.Context(), `SELECT rolname FROM pg_catalog.pg_roles ORDER BY oid`)
	require.NoError(t, err)
	names, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"weir", "reader"}, names)
	var owner string
	require.NoError(t, conn.QueryRow(t.Context(), `SELECT pg_catalog.pg_get_userbyid(10)`).Scan(&owner))
	require.Equal(t, "weir", owner)
}
