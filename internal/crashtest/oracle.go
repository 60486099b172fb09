package crashtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// schema creates the source and the rooms table.
var schema = []string{
	`CREATE SOURCE events (id bigint NOT NULL, room_id bigint NOT NULL, user_id bigint NOT NULL,
		amount bigint NOT NULL, ts timestamptz NOT NULL) WITH (connector = 'http')`,
	`CREATE TABLE rooms (room_id bigint PRIMARY KEY, category text)`,
}

// A view is one materialized view under test: its DDL, a query reading it back as text
// columns, and its expected contents over a set of events.
type view struct {
	name   string
	create string
	read   string
	// round is the round in which the view is created, concurrently with the writers, so
	// that the kill may hit its backfill; 0 creates it with the schema. A view whose CREATE
	// was in flight at a kill and did not survive is created again in the next round.
	round  int
	oracle func(events []Event, rooms map[int64]string) []string
}

var views = []view{
	{
		name:   "room_totals",
		create: `CREATE MATERIALIZED VIEW room_totals AS SELECT room_id, count(*) AS n, sum(amount) AS total FROM events GROUP BY room_id`,
		read:   `SELECT room_id::text, n::text, total::text FROM room_totals`,
		oracle: func(events []Event, _ map[int64]string) []string {
			n, total := map[int64]int64{}, map[int64]int64{}
			for _, e := range events {
				n[e.Room]++
				total[e.Room] += e.Amount
			}
			var out []string
			for r := range n {
				out = append(out, row(r, n[r], total[r]))
			}
			return out
		},
	},
	{
		name:   "room_users",
		create: `CREATE MATERIALIZED VIEW room_users AS SELECT room_id, count(DISTINCT user_id) AS users FROM events GROUP BY room_id`,
		read:   `SELECT room_id::text, users::text FROM room_users`,
		oracle: func(events []Event, _ map[int64]string) []string {
			users := map[int64]map[int64]bool{}
			for _, e := range events {
				if users[e.Room] == nil {
					users[e.Room] = map[int64]bool{}
				}
				users[e.Room][e.User] = true
			}
			var out []string
			for r, u := range users {
				out = append(out, row(r, len(u)))
			}
			return out
		},
	},
	{
		name: "category_totals",
		create: `CREATE MATERIALIZED VIEW category_totals AS SELECT r.category, count(*) AS n, sum(e.amount) AS total
			FROM events e JOIN rooms r ON e.room_id = r.room_id GROUP BY r.category`,
		read: `SELECT category, n::text, total::text FROM category_totals`,
		oracle: func(events []Event, rooms map[int64]string) []string {
			type agg struct{ n, total int64 }
			byCat := map[string]*agg{}
			for _, e := range events {
				cat, ok := rooms[e.Room]
				if !ok {
					continue
				}
				if cat == "" {
					cat = "NULL"
				}
				if byCat[cat] == nil {
					byCat[cat] = &agg{}
				}
				byCat[cat].n++
				byCat[cat].total += e.Amount
			}
			var out []string
			for c, a := range byCat {
				out = append(out, row(c, a.n, a.total))
			}
			return out
		},
	},
	{
		name:   "global_totals",
		create: `CREATE MATERIALIZED VIEW global_totals AS SELECT count(*) AS n, sum(amount) AS total, max(id) AS max_id FROM events`,
		read:   `SELECT n::text, total::text, max_id::text FROM global_totals`,
		round:  2,
		oracle: func(events []Event, _ map[int64]string) []string {
			if len(events) == 0 {
				return []string{row(0, "NULL", "NULL")}
			}
			var total, maxID int64
			for _, e := range events {
				total += e.Amount
				maxID = max(maxID, e.ID)
			}
			return []string{row(len(events), total, maxID)}
		},
	},
}

// row formats a view row as the read queries return it: text columns joined by "|".
func row(vals ...any) string {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, "|")
}

// setup creates the schema, fills the rooms table and creates the views of round 0.
func setup(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, sql := range schema {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
	}
	rooms := roomRows()
	var values []string
	for _, r := range slices.Sorted(maps.Keys(rooms)) {
		cat := "NULL"
		if rooms[r] != "" {
			cat = "'" + rooms[r] + "'"
		}
		values = append(values, fmt.Sprintf("(%d, %s)", r, cat))
	}
	if _, err := conn.Exec(ctx, "INSERT INTO rooms VALUES "+strings.Join(values, ", ")); err != nil {
		return err
	}
	for _, v := range views {
		if v.round == 0 {
			if _, err := conn.Exec(ctx, v.create); err != nil {
				return fmt.Errorf("%s: %w", v.create, err)
			}
		}
	}
	return nil
}

// readRows runs a query whose columns are text and returns its rows formatted by row,
// NULL as "NULL".
func readRows(ctx context.Context, conn *pgx.Conn, sql string) ([]string, error) {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		s := make([]any, len(vals))
		for i, v := range vals {
			if v == nil {
				s[i] = "NULL"
			} else {
				s[i] = v
			}
		}
		out = append(out, row(s...))
	}
	return out, rows.Err()
}

// storedEvent is one row of the events source as read back.
type storedEvent struct {
	Event
	count int
}

// readEvents reads the whole events source, counting each id.
func readEvents(ctx context.Context, conn *pgx.Conn) (map[int64]*storedEvent, int, error) {
	rows, err := conn.Query(ctx, `SELECT id, room_id, user_id, amount, ts FROM events`)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := map[int64]*storedEvent{}
	n := 0
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.ID, &e.Room, &e.User, &e.Amount, &e.TS); err != nil {
			return nil, 0, err
		}
		n++
		if s, ok := out[e.ID]; ok {
			s.count++
			continue
		}
		out[e.ID] = &storedEvent{Event: e, count: 1}
	}
	return out, n, rows.Err()
}

// checkResult sums up one check.
type checkResult struct {
	events        int // distinct ids present
	resolvedIn    int // in-flight ids found present
	resolvedOut   int // in-flight ids found absent
	views         int // views compared with the oracle
	checkDuration time.Duration
}

// maxReports caps the messages per kind of failure in one check.
const maxReports = 10

// check compares the server's state with the ledger and the oracle. when names the moment
// ("kill 3") in every failure message. It resolves in-flight ids: present ones must stay
// present, absent ones must stay absent.
func check(ctx context.Context, url string, when string, seed uint64, ledger *Ledger, errorf func(string, ...any)) (checkResult, error) {
	start := time.Now()
	var res checkResult
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return res, err
	}
	defer conn.Close(ctx)

	stored, _, err := readEvents(ctx, conn)
	if err != nil {
		return res, fmt.Errorf("read events: %w", err)
	}
	reports := map[string]int{}
	report := func(kind, format string, args ...any) {
		reports[kind]++
		if reports[kind] <= maxReports {
			errorf("%s: "+format, append([]any{when}, args...)...)
		} else if reports[kind] == maxReports+1 {
			errorf("%s: more %s failures not shown", when, kind)
		}
	}

	ledger.mu.Lock()
	var present []Event
	for _, id := range slices.Sorted(maps.Keys(stored)) {
		s := stored[id]
		h, ok := ledger.ids[id]
		if !ok {
			report("unknown", "id %d is present but was never sent", id)
			continue
		}
		if s.count != 1 {
			report("twice", "id %d (sent over %s in round %d, a batch of %d) is present %d times, expected once", id, h.via, h.round, h.batch, s.count)
		}
		want := eventOf(seed, id)
		got := s.Event
		if got.Room != want.Room || got.User != want.User || got.Amount != want.Amount || !got.TS.Equal(want.TS) {
			report("values", "id %d: stored (room %d, user %d, amount %d, ts %s), expected (room %d, user %d, amount %d, ts %s)",
				id, got.Room, got.User, got.Amount, got.TS.UTC().Format(time.RFC3339Nano), want.Room, want.User, want.Amount, want.TS.Format(time.RFC3339Nano))
		}
		switch h.state {
		case rejected:
			report("rejected", "id %d was refused with an error (round %d, %s) but is present", id, h.round, h.via)
		case gone:
			report("reappeared", "id %d was in flight at an earlier crash and absent after it, but is present now", id)
		case inFlight:
			h.state = acked
			res.resolvedIn++
		}
		present = append(present, want)
	}
	for _, id := range slices.Sorted(maps.Keys(ledger.ids)) {
		if _, ok := stored[id]; ok {
			continue
		}
		switch h := ledger.ids[id]; h.state {
		case acked:
			report("lost", "acknowledged id %d (sent over %s in round %d, a batch of %d) is missing", id, h.via, h.round, h.batch)
		case inFlight:
			h.state = gone
			res.resolvedOut++
		}
	}
	ledger.mu.Unlock()
	res.events = len(present)

	rooms := roomRows()
	gotRooms, err := readRows(ctx, conn, `SELECT room_id::text, category FROM rooms`)
	if err != nil {
		return res, fmt.Errorf("read rooms: %w", err)
	}
	var wantRooms []string
	for r, c := range rooms {
		if c == "" {
			c = "NULL"
		}
		wantRooms = append(wantRooms, row(r, c))
	}
	compareRows(when, "table rooms", wantRooms, gotRooms, errorf)

	for _, v := range views {
		state, ok := ledger.view(v.name)
		if !ok || state == gone || state == rejected {
			continue
		}
		got, err := readRows(ctx, conn, v.read)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P01" {
			if state == acked {
				errorf("%s: view %s was created (CREATE acknowledged) but is missing: %s", when, v.name, pgErr.Message)
			} else {
				ledger.setView(v.name, gone)
			}
			continue
		}
		if err != nil {
			return res, fmt.Errorf("read view %s: %w", v.name, err)
		}
		ledger.setView(v.name, acked)
		res.views++
		compareRows(when, "view "+v.name, v.oracle(present, rooms), got, errorf)
	}
	res.checkDuration = time.Since(start)
	return res, nil
}

// compareRows reports the difference between want and got as multisets.
func compareRows(when, what string, want, got []string, errorf func(string, ...any)) {
	slices.Sort(want)
	slices.Sort(got)
	if slices.Equal(want, got) {
		return
	}
	count := map[string]int{}
	for _, r := range want {
		count[r]++
	}
	for _, r := range got {
		count[r]--
	}
	var missing, extra []string
	for _, r := range slices.Sorted(maps.Keys(count)) {
		for range count[r] {
			missing = append(missing, r)
		}
		for range -count[r] {
			extra = append(extra, r)
		}
	}
	errorf("%s: %s differs from the oracle over the events present (%d rows expected, %d got)\n  expected, missing: %s\n  got, unexpected:   %s",
		when, what, len(want), len(got), clip(missing), clip(extra))
}

func clip(rows []string) string {
	if len(rows) > maxReports {
		return strings.Join(rows[:maxReports], "  ") + "  … " + strconv.Itoa(len(rows)-maxReports) + " more"
	}
	return strings.Join(rows, "  ")
}
