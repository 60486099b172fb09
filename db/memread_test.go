package db_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/delta"
)

// memReadSchema has views of every column type a read from memory lends DuckDB, a view
// whose rows repeat (no key), and a numeric view whose scale grows as rows arrive.
var memReadSchema = []string{
	`CREATE SOURCE ev (id bigint NOT NULL, room integer, who text, amt numeric, price double precision,
		ok boolean, at timestamptz, day date, meta jsonb, tiny smallint, ratio real)`,
	`CREATE TABLE rooms (room integer PRIMARY KEY, name text)`,
	`CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n, sum(amt) AS total, max(price) AS top,
		min(at) AS first_at, max(day) AS last_day FROM ev GROUP BY room`,
	`CREATE MATERIALIZED VIEW whos AS SELECT who, room, ok FROM ev WHERE id % 3 <> 0`,
	`CREATE MATERIALIZED VIEW docs AS SELECT id, meta, tiny, ratio FROM ev WHERE meta IS NOT NULL`,
	`CREATE MATERIALIZED VIEW named AS SELECT e.room, r.name, count(*) AS n FROM ev e JOIN rooms r ON r.room = e.room GROUP BY e.room, r.name`,
	// Integral numerics: ids stays within 18 digits (lent as DECIMAL(18,0)), big soon
	// has 19 (lent as text).
	`CREATE MATERIALIZED VIEW per_who AS SELECT who, sum(id) AS ids, sum(id * 100000000000000000) AS big FROM ev GROUP BY who`,
}

// memReadQueries are reads of views only (served from memory) and, marked store, reads
// that must go to the view store. Rows are compared in order where the read orders them.
var memReadQueries = []struct {
	sql     string
	args    []any
	store   bool // the read names something other than views: it flushes and reads the store
	ordered bool
}{
	{sql: `SELECT * FROM per_room`},
	{sql: `SELECT room, n, total FROM per_room WHERE room = $1`, args: []any{int64(2)}},
	{sql: `SELECT room, total FROM per_room WHERE total > $1 ORDER BY room`, args: []any{"2.5"}, ordered: true},
	{sql: `SELECT sum(n), count(*), max(total) FROM per_room`},
	{sql: `SELECT per_room.room, per_room.first_at, per_room.last_day FROM per_room ORDER BY per_room.room`, ordered: true},
	{sql: `SELECT p.room, p.n, count(*) AS k FROM per_room p JOIN whos w ON w.room = p.room GROUP BY p.room, p.n`},
	{sql: `SELECT who, ok, count(*) FROM whos GROUP BY who, ok`},
	{sql: `SELECT * FROM whos`},
	{sql: `SELECT (SELECT sum(n) FROM per_room), (SELECT count(*) FROM whos), (SELECT count(*) FROM docs)`},
	{sql: `WITH t AS (SELECT room, n FROM per_room WHERE n > 1) SELECT count(*), sum(n) FROM t`},
	{sql: `SELECT room, n FROM per_room ORDER BY n DESC, room LIMIT 3`, ordered: true},
	{sql: `SELECT id, meta->>'k' AS k, tiny, ratio FROM docs ORDER BY id`, ordered: true},
	{sql: `SELECT room, name, n FROM named`},
	{sql: `SELECT w.who FROM whos AS w WHERE w.room IN (SELECT room FROM per_room WHERE n >= 2)`},
	{sql: `SELECT who, ids, big FROM per_who ORDER BY who`, ordered: true},
	{sql: `SELECT sum(ids), max(big), min(ids)::bigint FROM per_who WHERE ids > $1`, args: []any{"3"}},
	{sql: `SELECT p.who, p.ids + 1, w.room FROM per_who p JOIN whos w ON w.who = p.who ORDER BY 1, 2, 3`, ordered: true},
	// Not only views: the store, after a flush.
	{sql: `SELECT count(*) FROM ev`, store: true},
	{sql: `SELECT p.room, p.n, count(*) FROM ev e JOIN per_room p ON p.room = e.room GROUP BY p.room, p.n`, store: true},
	{sql: `SELECT count(*) FROM rooms r JOIN per_room p ON p.room = r.room`, store: true},
	{sql: `SELECT count(*) FROM public.per_room`, store: true},
	{sql: `WITH per_room AS (SELECT 7 AS room) SELECT room FROM per_room`, store: true},
}

// TestReadFromMemory: every read of views only is answered from the views' rows in
// memory, without a flush, and equals the same read from the view store after a flush,
// for each query shape and column type, while every tick is still only in the log.
func TestReadFromMemory(t *testing.T) {
	d, s := openDurable(t, t.TempDir(), time.Hour) // nothing flushes on its own
	defer d.Close()
	for _, q := range memReadSchema {
		weirExec(t, s, q)
	}
	weirExec(t, s, `INSERT INTO rooms VALUES (1, 'one'), (2, 'two'), (3, NULL)`)
	amounts := []string{"1", "2.5", "0.125", "-3", "10.0625", "NULL"}
	for i, q := range memReadQueries {
		// A tick only the log holds, with a numeric of a scale the views have not had.
		for j := range 3 {
			id := i*3 + j
			meta := "NULL"
			if id%2 == 0 {
				meta = fmt.Sprintf(`'{"k": "v%d"}'`, id)
			}
			weirExec(t, s, fmt.Sprintf(`INSERT INTO ev VALUES (%d, %d, 'u%d', %s, %d.5, %t, '2026-11-%02d 10:00:%02d+00', '2026-10-%02d', %s, %d, %d.25)`,
				id, id%4, id%5, amounts[id%len(amounts)], id, id%2 == 0, 1+id%28, id%60, 1+id%28, meta, id%7, id))
		}
		// Once, the first read of a numeric view learns its scale from the store; after
		// that no read of views only flushes.
		if i == 0 {
			weirRows(t, s, `SELECT max(total) FROM per_room`)
			weirExec(t, s, `INSERT INTO ev (id, room, amt) VALUES (1000, 1, 99.999)`)
		}
		flushes, mem := d.Flushes(), d.MemoryReads()
		got := readRows(t, s, q.sql, q.args, q.ordered)
		if q.store {
			require.Equal(t, mem, d.MemoryReads(), "%s: read from memory", q.sql)
		} else {
			require.Equal(t, mem+1, d.MemoryReads(), "%s: not read from memory", q.sql)
			require.Equal(t, flushes, d.Flushes(), "%s: a read from memory flushed", q.sql)
		}
		restore := db.MemoryReadsOff()
		want := readRows(t, s, q.sql, q.args, q.ordered)
		restore()
		require.Equal(t, want, got, "%s: from memory and from the store", q.sql)
		require.NotEmpty(t, got, q.sql)
	}
}

// TestReadFromMemoryBound: a read whose views hold more indexed rows than a read from
// memory may copy goes to the store; an insert-only view's unindexed rows are lent
// without a copy, so any number of them is read from memory.
func TestReadFromMemoryBound(t *testing.T) {
	defer db.SetMemReadMaxRows(10)()
	d, s := openDurable(t, t.TempDir(), time.Hour) // nothing flushes on its own
	defer d.Close()
	for _, q := range []string{
		`CREATE SOURCE ev (id bigint NOT NULL, room integer)`,
		`CREATE MATERIALIZED VIEW odd AS SELECT id, room FROM ev WHERE id % 2 = 1`,
		`CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n FROM ev GROUP BY room`,
		`CREATE MATERIALIZED VIEW per_id AS SELECT id, count(*) AS n FROM ev GROUP BY id`,
	} {
		weirExec(t, s, q)
	}
	for i := range 4 {
		var rows []string
		for x := i * 10; x < i*10+10; x++ {
			rows = append(rows, fmt.Sprintf("(%d, %d)", x, x%3))
		}
		weirExec(t, s, "INSERT INTO ev VALUES "+strings.Join(rows, ", "))
	}
	require.False(t, d.ViewIndexed("odd"))
	for _, q := range []struct {
		sql, want string
		memory    bool
	}{
		{`SELECT count(*), sum(id) FROM odd`, "20|400", true},   // 20 rows, unindexed
		{`SELECT count(*), sum(n) FROM per_room`, "3|40", true}, // 3 indexed rows
		{`SELECT count(*), sum(n) FROM per_id`, "40|40", false}, // 40 indexed rows
		{`SELECT count(*) FROM odd o JOIN per_room p USING (room)`, "20", true},
	} {
		flushes, mem := d.Flushes(), d.MemoryReads()
		require.Equal(t, []string{q.want}, weirRows(t, s, q.sql), q.sql)
		if q.memory {
			require.Equal(t, mem+1, d.MemoryReads(), "%s: not read from memory", q.sql)
			require.Equal(t, flushes, d.Flushes(), "%s: a read from memory flushed", q.sql)
		} else {
			require.Equal(t, mem, d.MemoryReads(), "%s: read from memory", q.sql)
		}
	}
}

// TestReadFromMemoryConcurrent: reads from memory at once, each of its own snapshot of
// two views of different sizes, all answer exactly while ticks change one of the views
// under them. A view's mirror block that a read holds is copied before a tick writes
// into it (mirror.go); one written in place under the read using it makes that read's
// sums come out wrong. There are more readers than kept connections
// (memstmt.go), so reads run both on them, each over its slots, and on connections of
// their own.
func TestReadFromMemoryConcurrent(t *testing.T) {
	d, s := openDurable(t, t.TempDir(), time.Hour)
	defer d.Close()
	for _, q := range []string{
		`CREATE SOURCE ev (k bigint NOT NULL, x bigint NOT NULL)`,
		`CREATE SOURCE other (k bigint NOT NULL)`,
		`CREATE MATERIALIZED VIEW per_k AS SELECT k, count(*) AS n, sum(x) AS total FROM ev GROUP BY k`,
		`CREATE MATERIALIZED VIEW per_other AS SELECT k, count(*) AS n FROM other GROUP BY k`,
	} {
		weirExec(t, s, q)
	}
	var rows []string
	for k := range 3000 {
		rows = append(rows, fmt.Sprintf("(%d, %d)", k, 2*k))
	}
	weirExec(t, s, "INSERT INTO ev VALUES "+strings.Join(rows, ", "))
	weirExec(t, s, "INSERT INTO other VALUES (-1)")
	mem := d.MemoryReads()

	ctx, cancel := context.WithCancel(t.Context())
	var g errgroup.Group
	defer func() { cancel(); _ = g.Wait() }() // before d.Close
	// Ticks of the other view, each growing its bag and the reads' snapshots of it.
	g.Go(func() error {
		for i := 0; ctx.Err() == nil; i++ {
			if err := d.Ingest(ctx, "other", [][]delta.Value{{delta.Int(int64(i))}}); err != nil && ctx.Err() == nil {
				return err
			}
		}
		return nil
	})
	const q = `SELECT (SELECT count(*) FROM per_k), (SELECT sum(n) FROM per_k)::bigint, (SELECT sum(total) FROM per_k)::bigint, (SELECT count(*) FROM per_other) > 0`
	const want = "3000|3000|8997000|true"
	var readers errgroup.Group
	for range 6 {
		readers.Go(func() error {
			rs := d.NewSession(nil)
			for range 40 {
				p, err := rs.Prepare(ctx, q, nil)
				if err != nil {
					return err
				}
				rows, err := p.Execute(ctx, nil)
				if err != nil {
					return err
				}
				var got []string
				dst := make([]any, len(rows.Columns()))
				for rows.Next(dst) {
					got = append(got, canonRow(dst))
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
				if len(got) != 1 || got[0] != want {
					return fmt.Errorf("read %v, want %s", got, want)
				}
			}
			return nil
		})
	}
	require.NoError(t, readers.Wait())
	cancel()
	require.NoError(t, g.Wait())
	require.Equal(t, mem+240, d.MemoryReads(), "every read from memory")
}

// TestReadFromMemoryPrepared: a read from memory runs a statement prepared once while
// what its text is made of stays the same (memstmt.go): the same read, again and again
// over growing views, and with other parameter values, is prepared once and answers as
// the store does each time. A numeric column's scale growing, a numeric parameter of
// another scale and a view dropped and made again with other columns under the same
// name each prepare anew (so would a sum's digit count growing), as does a view grown
// past 4 times the rows it had; a statement that fails is prepared again, and a view read
// twice by one statement reads the same rows twice.
func TestReadFromMemoryPrepared(t *testing.T) {
	d, s := openDurable(t, t.TempDir(), time.Hour) // nothing flushes on its own
	defer d.Close()
	for _, q := range []string{
		`CREATE SOURCE ev (k bigint NOT NULL, x numeric NOT NULL, who text)`,
		`CREATE MATERIALIZED VIEW per_k AS SELECT k, count(*) AS n, sum(x) AS total FROM ev GROUP BY k`,
		`CREATE MATERIALIZED VIEW whos AS SELECT who, k FROM ev WHERE who IS NOT NULL`,
	} {
		weirExec(t, s, q)
	}
	insert := func(from, to int, x func(i int) string) {
		var rows []string
		for i := from; i < to; i++ {
			who := fmt.Sprint("u", i%7)
			if i >= 5000 { // rows of whos of their own
				who = fmt.Sprint("v", i)
			}
			rows = append(rows, fmt.Sprintf("(%d, %s, '%s')", i%50, x(i), who))
		}
		weirExec(t, s, "INSERT INTO ev VALUES "+strings.Join(rows, ", "))
	}
	// The sums keep their digit count (part of a statement's key) from the first rows on.
	integral := func(i int) string { return fmt.Sprint(i % 3) }
	insert(0, 100, func(i int) string { return fmt.Sprint(100_000 + i) })
	weirRows(t, s, `SELECT max(total) FROM per_k`) // the first read learns the scale from the store

	// check runs p (prepared once by the caller) with args, and the same read from the
	// store, and reports whether the read from memory prepared a statement.
	check := func(p *db.Prepared, q string, args ...any) bool {
		t.Helper()
		mem, prepares := d.MemoryReads(), d.MemoryPrepares()
		rows, err := p.Execute(t.Context(), args)
		require.NoError(t, err, q)
		var got []string
		dst := make([]any, len(rows.Columns()))
		for rows.Next(dst) {
			got = append(got, canonRow(dst))
		}
		rows.Close()
		require.NoError(t, rows.Err(), q)
		require.Equal(t, mem+1, d.MemoryReads(), "%s: not read from memory", q)
		restore := db.MemoryReadsOff()
		want := readRows(t, s, q, args, true)
		restore()
		require.Equal(t, want, got, q)
		require.NotEmpty(t, got, q)
		return d.MemoryPrepares() > prepares
	}
	prepare := func(q string) *db.Prepared {
		p, err := s.Prepare(t.Context(), q, nil)
		require.NoError(t, err, q)
		return p
	}
	const sums = `SELECT count(*), sum(n), sum(total) FROM per_k`
	p := prepare(sums)
	require.True(t, check(p, sums), "the first run prepares")
	for i := range 10 {
		insert(100+i*100, 200+i*100, integral)
		require.False(t, check(p, sums), "run %d: prepared again", i)
	}
	// The same text prepared again by the client is the same statement.
	require.False(t, check(prepare(sums), sums))

	const byK = `SELECT k, n, total FROM per_k WHERE k = $1 OR total > $2 ORDER BY k`
	p = prepare(byK)
	require.True(t, check(p, byK, int64(3), "300000"))
	require.False(t, check(p, byK, int64(4), "200300"), "another integral value")
	require.True(t, check(p, byK, int64(4), "200300.5"), "a numeric parameter of another scale")

	// Twice in one statement: each reference reads the whole snapshot.
	const twice = `SELECT count(*), sum(a.n * b.n) FROM per_k a JOIN per_k b ON a.k = b.k % 10 JOIN whos w ON w.k = a.k`
	p = prepare(twice)
	require.True(t, check(p, twice))
	insert(2000, 2100, integral)
	require.False(t, check(p, twice))

	// The scale of total grows: its DuckDB type, and how its sums print, change.
	p = prepare(sums)
	insert(3000, 3010, func(i int) string { return fmt.Sprintf("%d.25", i%3) })
	require.True(t, check(p, sums), "a wider numeric is a new statement")
	insert(3010, 3020, func(i int) string { return fmt.Sprintf("%d.75", i%3) })
	require.False(t, check(p, sums))

	// A statement that fails at run time is prepared again next time.
	const bad = `SELECT CAST('n' || n AS INTEGER) FROM per_k WHERE k = $1`
	p = prepare(bad)
	_, err := p.Execute(t.Context(), []any{int64(1)})
	require.Error(t, err)
	prepares := d.MemoryPrepares()
	_, err = p.Execute(t.Context(), []any{int64(1)})
	require.Error(t, err)
	require.Equal(t, prepares+1, d.MemoryPrepares(), "a failed statement is not kept")

	// The view made again under its name with another column type, its sums as before,
	// read by a text the connection has run before.
	p = prepare(sums)
	require.False(t, check(p, sums))
	weirExec(t, s, `DROP MATERIALIZED VIEW per_k`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW per_k AS SELECT k, count(*)::integer AS n, sum(x) AS total FROM ev GROUP BY k`)
	weirRows(t, s, `SELECT max(total) FROM per_k`) // the first read learns the scale from the store
	p = prepare(sums)
	require.True(t, check(p, sums), "a view made again is a new statement")
	require.False(t, check(p, sums))

	// A view grown past 4 times its rows is planned anew.
	const all = `SELECT count(*), count(DISTINCT who) FROM whos`
	insert(5000, 5600, integral) // whos: 350 rows (who, k) before these
	p = prepare(all)
	require.True(t, check(p, all))
	insert(5600, 5700, integral)
	require.False(t, check(p, all))
	insert(6000, 10000, integral)
	require.True(t, check(p, all), "a view 4 times larger is planned anew")
}

// TestReadsDuringTickCompute holds a tick in its dataflow (after it is computed, before
// it is logged and applied) and reads the views meanwhile, over SQL from memory and as
// an HTTP snapshot: they answer at once with the tick before (tickLock). A read that
// starts after the held tick is acknowledged sees it.
func TestReadsDuringTickCompute(t *testing.T) {
	d, s := openDurable(t, t.TempDir(), time.Hour)
	defer d.Close()
	weirExec(t, s, `CREATE SOURCE ev (id bigint NOT NULL, room bigint NOT NULL)`)
	weirExec(t, s, `CREATE MATERIALIZED VIEW per_room AS SELECT room, count(*) AS n FROM ev GROUP BY room`)
	ctx := context.Background()
	require.NoError(t, d.Ingest(ctx, "ev", [][]delta.Value{{delta.Int(1), delta.Int(7)}}))

	var hold atomic.Bool
	entered, release := make(chan struct{}), make(chan struct{})
	defer db.FailTicks(func(uint64) error {
		if hold.CompareAndSwap(true, false) {
			close(entered)
			<-release
		}
		return nil
	})()
	hold.Store(true)
	ingested := make(chan error, 1)
	go func() { ingested <- d.Ingest(ctx, "ev", [][]delta.Value{{delta.Int(2), delta.Int(7)}}) }()
	<-entered

	read := func(what string, f func() []string) []string {
		t.Helper()
		got := make(chan []string, 1)
		go func() { got <- f() }()
		select {
		case rows := <-got:
			return rows
		case <-time.After(10 * time.Second):
			close(release)
			t.Fatalf("%s waited for a tick's dataflow", what)
			return nil
		}
	}
	mem := d.MemoryReads()
	require.Equal(t, []string{"7|1"}, read("a SQL read", func() []string { return weirRows(t, d.NewSession(nil), `SELECT room, n FROM per_room`) }))
	require.Equal(t, mem+1, d.MemoryReads(), "the read went to the store")
	snap := read("a snapshot", func() []string {
		sn, err := d.ViewSnapshot("per_room")
		require.NoError(t, err)
		var rows []string
		for i := range sn.Rows.Len() {
			r := sn.Rows.Row(i, nil)
			rows = append(rows, fmt.Sprintf("%d|%d×%d", r[0].I, r[1].I, sn.Rows.Weights[i]))
		}
		return rows
	})
	require.Equal(t, []string{"7|1×1"}, snap)

	close(release)
	require.NoError(t, <-ingested)
	require.Equal(t, []string{"7|2"}, weirRows(t, s, `SELECT room, n FROM per_room`))
}
