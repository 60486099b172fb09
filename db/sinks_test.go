package db_test

import (
	"context"
	"database/sql"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/pgtest"
	"github.com/weirdb/weir/internal/sqlerr"
)

// pgRows runs q on PostgreSQL and renders each row as weirRows does, sorted.
func pgRows(t *testing.T, pg *sql.DB, q string) []string {
	t.Helper()
	out, err := pgRowsErr(pg, q)
	require.NoError(t, err, q)
	return out
}

func pgRowsErr(pg *sql.DB, q string) ([]string, error) {
	rows, err := pg.Query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			parts[i] = "NULL"
			if v.Valid {
				parts[i] = v.String
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	sort.Strings(out)
	return out, rows.Err()
}

// waitSame waits until PostgreSQL's answer to pgQ equals Weir's to weirQ.
func waitSame(t *testing.T, s *db.Session, pg *sql.DB, weirQ, pgQ string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var want, got []string
	for time.Now().Before(deadline) {
		want = weirRows(t, s, weirQ)
		var err error
		got, err = pgRowsErr(pg, pgQ) // the table may not exist yet
		if err == nil && strings.Join(want, "\n") == strings.Join(got, "\n") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	require.Equal(t, want, got, "PostgreSQL's %q never matched Weir's %q", pgQ, weirQ)
}

func ingestGifts(t *testing.T, d *db.DB, rows ...[3]int64) {
	t.Helper()
	var rs [][]delta.Value
	for _, r := range rows {
		rs = append(rs, []delta.Value{delta.Int(r[0]), delta.Int(r[1]), delta.Int(r[2])})
	}
	require.NoError(t, d.Ingest(context.Background(), "gifts", rs))
}

// TestPostgresSink: a keyed and a keyless sink keep PostgreSQL 15 tables equal to their
// views through inserts, updates and deletes, a crash of Weir (ticks only in its log), the
// sink's PostgreSQL connections being killed, and a clean restart; each change lands once.
func TestPostgresSink(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	cluster := pgtest.Start(t)
	pg, err := sql.Open("postgres", cluster.DSN())
	require.NoError(t, err)
	defer pg.Close()
	dsn := cluster.DSN()

	dir := t.TempDir()
	d, s := openKafkaDB(t, dir, time.Hour)
	for _, q := range []string{
		`CREATE SOURCE gifts (room bigint NOT NULL, user_id bigint NOT NULL, amount bigint NOT NULL)`,
		`CREATE TABLE rooms (room bigint PRIMARY KEY, name text)`,
		`CREATE MATERIALIZED VIEW room_totals AS SELECT g.room, r.name, count(*) AS gifts, sum(g.amount) AS total
			FROM gifts g JOIN rooms r ON r.room = g.room GROUP BY g.room, r.name`,
		`CREATE MATERIALIZED VIEW big_gifts AS SELECT g.room, g.amount, r.name FROM gifts g LEFT JOIN rooms r ON r.room = g.room WHERE g.amount >= 10`,
		`CREATE SINK totals_out FROM room_totals WITH (connector = 'postgres', dsn = '` + dsn + `', table = 'room_totals', key = 'room')`,
		`CREATE SINK big_out FROM big_gifts WITH (connector = 'postgres', dsn = '` + dsn + `', table = 'public.big_gifts')`,
	} {
		weirExec(t, s, q)
	}
	const weirTotals, pgTotals = `SELECT * FROM room_totals`, `SELECT room, name, gifts, total FROM room_totals`
	const weirBig, pgBig = `SELECT * FROM big_gifts`, `SELECT room, amount, name FROM big_gifts`
	same := func() {
		t.Helper()
		waitSame(t, s, pg, weirTotals, pgTotals)
		waitSame(t, s, pg, weirBig, pgBig)
	}

	weirExec(t, s, `INSERT INTO rooms VALUES (1, 'one'), (2, 'two'), (3, NULL)`)
	ingestGifts(t, d, [3]int64{1, 10, 10}, [3]int64{1, 11, 10}, [3]int64{2, 10, 5}, [3]int64{3, 12, 50}, [3]int64{4, 1, 99})
	same()
	ingestGifts(t, d, [3]int64{1, 10, 10}) // a duplicate row of the keyless view
	weirExec(t, s, `UPDATE rooms SET name = 'uno' WHERE room = 1`)
	weirExec(t, s, `DELETE FROM rooms WHERE room = 2`) // room 2 leaves room_totals
	same()
	require.Equal(t, []string{"3"}, pgRows(t, pg, `SELECT count(*) FROM big_gifts WHERE room = 1`))

	// Weir crashes with ticks only in its log; changes made meanwhile arrive after.
	d.StopConnectors()
	d.Crash()
	d, s = openKafkaDB(t, dir, time.Hour)
	weirExec(t, s, `INSERT INTO rooms VALUES (4, 'four'), (2, 'deux')`)
	ingestGifts(t, d, [3]int64{4, 1, 1}, [3]int64{1, 10, 10})
	same()

	// PostgreSQL drops the sinks' connections (as when it restarts under them).
	var killed int
	require.NoError(t, pg.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE pid <> pg_backend_pid() AND datname = current_database() AND backend_type = 'client backend'`).Scan(&killed))
	require.Positive(t, killed)
	for i := range 20 {
		ingestGifts(t, d, [3]int64{int64(i % 5), int64(i), int64(i)})
	}
	weirExec(t, s, `DELETE FROM rooms WHERE room = 3`)
	same()

	// A clean restart, then changes.
	require.NoError(t, d.Close())
	d, s = openKafkaDB(t, dir, -1)
	defer d.Close()
	ingestGifts(t, d, [3]int64{3, 1, 1000})
	weirExec(t, s, `INSERT INTO rooms VALUES (3, 'trois')`)
	same()
	var tick int64
	require.NoError(t, pg.QueryRow(`SELECT tick FROM weir_sink_state WHERE sink = 'totals_out'`).Scan(&tick))
	require.LessOrEqual(t, uint64(tick), d.Tick())

	shown := weirRows(t, s, `SHOW SINKS`)
	require.Len(t, shown, 2)
	require.True(t, strings.HasPrefix(shown[0], "big_out|big_gifts|postgres|public.big_gifts|"), shown[0])
	require.True(t, strings.HasPrefix(shown[1], "totals_out|room_totals|postgres|room_totals|"), shown[1])
	require.True(t, strings.HasSuffix(shown[1], "|"), "no error: %s", shown[1])

	// A view a sink reads cannot be dropped; DROP SINK stops the sink, the table stays.
	p, err := s.Prepare(context.Background(), `DROP MATERIALIZED VIEW big_gifts`, nil)
	require.NoError(t, err)
	_, err = p.Execute(context.Background(), nil)
	require.Equal(t, sqlerr.DependentObjectsStillExist, sqlerr.CodeOf(err), "%v", err)
	weirExec(t, s, `DROP SINK big_out`)
	weirExec(t, s, `DROP SINK IF EXISTS big_out`)
	weirExec(t, s, `DROP MATERIALIZED VIEW big_gifts`)
	require.Len(t, weirRows(t, s, `SHOW SINKS`), 1)
	require.NotEmpty(t, pgRows(t, pg, pgBig))
}

// TestSinkCreateErrors: sink options are checked at CREATE, with the option named.
func TestSinkCreateErrors(t *testing.T) {
	d, s := openKafkaDB(t, "", -1)
	defer d.Close()
	weirExec(t, s, `CREATE SOURCE ev (id bigint)`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW v AS SELECT id, count(*) AS n FROM ev GROUP BY id`)
	for _, tc := range []struct {
		sql  string
		code sqlerr.Code
		word string
	}{
		{`CREATE SINK k FROM v WITH (dsn = 'postgres://x/y', table = 't')`, sqlerr.InvalidParameterValue, "connector"},
		{`CREATE SINK k FROM v WITH (connector = 'mysql')`, sqlerr.FeatureNotSupported, "mysql"},
		{`CREATE SINK k FROM v WITH (connector = 'postgres', table = 't')`, sqlerr.InvalidParameterValue, "dsn"},
		{`CREATE SINK k FROM v WITH (connector = 'postgres', dsn = 'postgres://x/y')`, sqlerr.InvalidParameterValue, "table"},
		{`CREATE SINK k FROM v WITH (connector = 'postgres', dsn = 'postgres://x/y', table = 't', key = 'nope')`, sqlerr.InvalidParameterValue, "nope"},
		{`CREATE SINK k FROM v WITH (connector = 'postgres', dsn = 'postgres://x/y', table = 't', colour = 'red')`, sqlerr.InvalidParameterValue, "colour"},
		{`CREATE SINK k FROM ev WITH (connector = 'postgres', dsn = 'postgres://x/y', table = 't')`, sqlerr.WrongObjectType, "ev"},
		{`CREATE SINK k FROM nope WITH (connector = 'postgres', dsn = 'postgres://x/y', table = 't')`, sqlerr.UndefinedTable, "nope"},
		{`DROP SINK nope`, sqlerr.UndefinedObject, "nope"},
		{`CREATE SINK k FROM v WITH (connector = 'kafka', brokers = 'localhost:9092')`, sqlerr.InvalidParameterValue, "topic"},
		{`CREATE SINK k FROM v WITH (connector = 'kafka', brokers = 'localhost:9092', topic = 't', key = 'idx')`, sqlerr.InvalidParameterValue, "idx"},
		{`CREATE SINK k FROM v WITH (connector = 'kafka', brokers = 'localhost:9092', topic = 't', format = 'avro')`, sqlerr.FeatureNotSupported, "avro"},
	} {
		t.Run(tc.word, func(t *testing.T) {
			p, err := s.Prepare(context.Background(), tc.sql, nil)
			if err == nil {
				_, err = p.Execute(context.Background(), nil)
			}
			require.Error(t, err)
			require.Equal(t, tc.code, sqlerr.CodeOf(err), "%v", err)
			require.Contains(t, err.Error(), tc.word)
		})
	}
	require.Empty(t, weirRows(t, s, `SHOW SINKS`))
}
