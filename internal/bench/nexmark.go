package bench

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Nexmark's sources as Weir spells them. Events arrive in event-time order; the
// watermark's delay is the reference's default out-of-orderness bound.
var nexWeirSchema = []string{
	`CREATE SOURCE person (id bigint NOT NULL, name text, email_address text, credit_card text, city text, state text, date_time timestamptz NOT NULL, extra text, WATERMARK FOR date_time AS date_time - INTERVAL '4 seconds')`,
	`CREATE SOURCE auction (id bigint NOT NULL, item_name text, description text, initial_bid bigint, reserve bigint, date_time timestamptz NOT NULL, expires timestamptz NOT NULL, seller bigint NOT NULL, category bigint NOT NULL, extra text, WATERMARK FOR date_time AS date_time - INTERVAL '4 seconds')`,
	`CREATE SOURCE bid (auction bigint NOT NULL, bidder bigint NOT NULL, price bigint NOT NULL, channel text, url text, date_time timestamptz NOT NULL, extra text, WATERMARK FOR date_time AS date_time - INTERVAL '4 seconds')`,
}

// The same as tables, for PostgreSQL and DuckDB.
var nexTables = []string{
	`CREATE TABLE person (id bigint NOT NULL, name text, email_address text, credit_card text, city text, state text, date_time timestamptz NOT NULL, extra text)`,
	`CREATE TABLE auction (id bigint NOT NULL, item_name text, description text, initial_bid bigint, reserve bigint, date_time timestamptz NOT NULL, expires timestamptz NOT NULL, seller bigint NOT NULL, category bigint NOT NULL, extra text)`,
	`CREATE TABLE bid (auction bigint NOT NULL, bidder bigint NOT NULL, price bigint NOT NULL, channel text, url text, date_time timestamptz NOT NULL, extra text)`,
}

var nexSources = []string{"person", "auction", "bid"}

// nexQuery is one Nexmark query in Weir's dialect (TUMBLE and HOP) and as a batch query
// for the peers, where {bin2}(x) and {bin10}(x) are replaced by each peer's
// epoch-aligned 2- and 10-second bucket of x.
type nexQuery struct {
	name, about string
	weir, batch string
}

// nexQueries are q0–q8 after the reference's SQL (Flink's and RisingWave's Nexmark). q2
// spells MOD(auction, 123) as PostgreSQL's % operator: Weir has no mod() yet (0A000).
var nexQueries = []nexQuery{
	{"q0", "pass-through",
		`SELECT auction, bidder, price, date_time FROM bid`, ""},
	{"q1", "currency conversion",
		`SELECT auction, bidder, 0.908 * price AS price, date_time FROM bid`, ""},
	{"q2", "selection",
		`SELECT auction, price FROM bid WHERE auction % 123 = 0`, ""},
	{"q3", "local item suggestion (join)",
		`SELECT p.name, p.city, p.state, a.id FROM auction a JOIN person p ON a.seller = p.id WHERE a.category = 10 AND (p.state = 'OR' OR p.state = 'ID' OR p.state = 'CA')`, ""},
	{"q4", "average closing price per category",
		`SELECT q.category, avg(q.final) AS avg_price FROM (SELECT max(b.price) AS final, a.category FROM auction a JOIN bid b ON a.id = b.auction WHERE b.date_time BETWEEN a.date_time AND a.expires GROUP BY a.id, a.category) q GROUP BY q.category`, ""},
	{"q5", "hot items (HOP 10 s every 2 s)",
		`SELECT ab.auction, ab.num FROM (SELECT auction, count(*) AS num, window_start AS starttime FROM HOP(bid, date_time, INTERVAL '2 seconds', INTERVAL '10 seconds') GROUP BY window_start, auction) ab ` +
			`JOIN (SELECT max(cb.num) AS maxn, cb.starttime_c FROM (SELECT count(*) AS num, window_start AS starttime_c FROM HOP(bid, date_time, INTERVAL '2 seconds', INTERVAL '10 seconds') GROUP BY auction, window_start) cb GROUP BY cb.starttime_c) mb ` +
			`ON ab.starttime = mb.starttime_c AND ab.num >= mb.maxn`,
		`WITH hop AS (SELECT b.auction, {bin2}(b.date_time) - k.i * INTERVAL '2 seconds' AS starttime FROM bid b CROSS JOIN (VALUES (0), (1), (2), (3), (4)) AS k(i)), ` +
			`ab AS (SELECT auction, count(*) AS num, starttime FROM hop GROUP BY starttime, auction) ` +
			`SELECT ab.auction, ab.num FROM ab JOIN (SELECT max(num) AS maxn, starttime AS starttime_c FROM ab GROUP BY starttime) mb ON ab.starttime = mb.starttime_c AND ab.num >= mb.maxn`},
	{"q6", "average selling price by seller (last 10 auctions)",
		`SELECT seller, avg(final) OVER (PARTITION BY seller ORDER BY date_time ROWS BETWEEN 10 PRECEDING AND CURRENT ROW) AS avg_price FROM (SELECT a.id, a.seller, a.date_time, max(b.price) AS final FROM auction a JOIN bid b ON a.id = b.auction WHERE b.date_time BETWEEN a.date_time AND a.expires GROUP BY a.id, a.seller, a.date_time) q`, ""},
	{"q7", "highest bid (TUMBLE 10 s)",
		`SELECT b.auction, b.price, b.bidder, b.date_time FROM bid b JOIN (SELECT max(price) AS maxprice, window_end AS date_time FROM TUMBLE(bid, date_time, INTERVAL '10 seconds') GROUP BY window_end) b1 ON b.price = b1.maxprice WHERE b.date_time BETWEEN b1.date_time - INTERVAL '10 seconds' AND b1.date_time`,
		`SELECT b.auction, b.price, b.bidder, b.date_time FROM bid b JOIN (SELECT max(price) AS maxprice, {bin10}(date_time) + INTERVAL '10 seconds' AS date_time FROM bid GROUP BY 2) b1 ON b.price = b1.maxprice WHERE b.date_time BETWEEN b1.date_time - INTERVAL '10 seconds' AND b1.date_time`},
	{"q8", "monitor new users (TUMBLE 10 s join)",
		`SELECT p.id, p.name, p.starttime FROM (SELECT id, name, window_start AS starttime, window_end AS endtime FROM TUMBLE(person, date_time, INTERVAL '10 seconds') GROUP BY id, name, window_start, window_end) p ` +
			`JOIN (SELECT seller, window_start AS starttime, window_end AS endtime FROM TUMBLE(auction, date_time, INTERVAL '10 seconds') GROUP BY seller, window_start, window_end) a ON p.id = a.seller AND p.starttime = a.starttime AND p.endtime = a.endtime`,
		`SELECT p.id, p.name, p.starttime FROM (SELECT id, name, {bin10}(date_time) AS starttime, {bin10}(date_time) + INTERVAL '10 seconds' AS endtime FROM person GROUP BY 1, 2, 3, 4) p ` +
			`JOIN (SELECT seller, {bin10}(date_time) AS starttime, {bin10}(date_time) + INTERVAL '10 seconds' AS endtime FROM auction GROUP BY 1, 2, 3) a ON p.id = a.seller AND p.starttime = a.starttime AND p.endtime = a.endtime`},
}

// batchSQL returns q for a peer: Weir's text when it has no windows, else the batch
// form with the peer's bucket function.
func (q nexQuery) batchSQL(dialect string) string {
	if q.batch == "" {
		return q.weir
	}
	s := q.batch
	for _, n := range []string{"2", "10"} {
		var fn string
		if dialect == "duckdb" {
			fn = "time_bucket(INTERVAL '" + n + " seconds', "
		} else {
			fn = "date_bin(INTERVAL '" + n + " seconds', "
		}
		s = replaceBin(s, "{bin"+n+"}(", fn)
	}
	return s
}

// replaceBin rewrites each marker x) to fn x, origin), origin being the Unix epoch as
// Weir's windows are aligned.
func replaceBin(s, marker, fn string) string {
	for {
		i := strings.Index(s, marker)
		if i < 0 {
			return s
		}
		j := strings.IndexByte(s[i+len(marker):], ')') + i + len(marker)
		arg := s[i+len(marker) : j]
		s = s[:i] + fn + arg + ", TIMESTAMPTZ '1970-01-01 00:00:00+00')" + s[j+1:]
	}
}

// knownNexQueries reports whether every name is one of nexQueries'.
func knownNexQueries(names []string) bool {
	for _, n := range names {
		if !slices.ContainsFunc(nexQueries, func(q nexQuery) bool { return q.name == n }) {
			return false
		}
	}
	return true
}

// NexmarkResult is one Nexmark query on every system: events/s with the query current
// after each batch.
type NexmarkResult struct {
	Query      string        `json:"query"`
	About      string        `json:"about"`
	Weir       IngestResult  `json:"weir"`
	Error      string        `json:"error,omitempty"` // why Weir could not run it
	ResultRows int64         `json:"result_rows"`
	Peers      []NexmarkPeer `json:"peers,omitempty"`
}

// NexmarkPeer is a peer's time for one query: loading each batch (shared by all queries
// and counted in full for each) plus refreshing this query's view after it.
type NexmarkPeer struct {
	System       string  `json:"system"`
	EventsPerSec float64 `json:"events_per_sec"`
	LoadSeconds  float64 `json:"load_seconds"`
	RefreshSec   float64 `json:"refresh_seconds"`
	ResultRows   int64   `json:"result_rows"`
	Error        string  `json:"error,omitempty"`
}

func (r *runner) nexmark(ctx context.Context) error {
	n := r.cfg.Nexmark
	r.progress(fmt.Sprintf("Nexmark: generating %s events", count(int64(n))))
	ev := genNexmark(n, r.cfg.NexmarkBatches, r.cfg.Seed)
	payloads := make([][3]copyPayload, r.cfg.NexmarkBatches)
	for i := range payloads {
		payloads[i] = ev.payloads(i)
	}
	for _, q := range nexQueries {
		if len(r.cfg.NexmarkQueries) > 0 && !slices.Contains(r.cfg.NexmarkQueries, q.name) {
			continue
		}
		res, err := r.nexmarkWeir(ctx, q, ev, payloads)
		if err != nil {
			return err
		}
		r.rep.Nexmark = append(r.rep.Nexmark, res)
	}
	if !r.cfg.Peers {
		return nil
	}
	if err := r.nexmarkPostgres(ctx, ev, payloads); err != nil {
		return err
	}
	return r.nexmarkDuckDB(ctx, ev)
}

// nexmarkWeir runs q alone on a fresh Weir: each batch COPYed into the three sources,
// then the view read back.
func (r *runner) nexmarkWeir(ctx context.Context, q nexQuery, ev *nexEvents, payloads [][3]copyPayload) (NexmarkResult, error) {
	res := NexmarkResult{Query: q.name, About: q.about}
	dir := filepath.Join(r.root, "nexmark-"+q.name)
	defer os.RemoveAll(dir)
	_, conn, done, err := r.startWeirConn(ctx, dir)
	if err != nil {
		return res, err
	}
	defer done()
	if err := execAll(ctx, conn, nexWeirSchema...); err != nil {
		return res, fmt.Errorf("Nexmark: %w", err)
	}
	if _, err := conn.Exec(ctx, "CREATE MATERIALIZED VIEW "+q.name+" AS "+q.weir); err != nil {
		res.Error = err.Error()
		r.progress(fmt.Sprintf("Nexmark %s: Weir refused it: %v", q.name, err))
		return res, nil
	}
	events := make([]Event, len(ev.persons)+len(ev.auctions)+len(ev.bids)) // only counted
	res.Weir, err = runBatches(ctx, ingestSystem{
		name: "Weir Nexmark " + q.name,
		load: func(ctx context.Context, i int) error {
			for k, src := range nexSources {
				if payloads[i][k].rows == 0 {
					continue
				}
				if err := copyBinary(ctx, conn, src, payloads[i][k]); err != nil {
					return err
				}
			}
			return nil
		},
		read: func(ctx context.Context, _ totals) error {
			return conn.QueryRow(ctx, "SELECT count(*) FROM "+q.name).Scan(&res.ResultRows)
		},
		cpu: cpuSelf, cpuWhat: "harness process", rss: true,
	}, events, r.cfg.NexmarkBatches, r.progress)
	if err != nil {
		res.Error = err.Error()
		r.progress(fmt.Sprintf("Nexmark %s: %v", q.name, err))
	}
	return res, nil
}

// nexmarkPeer loads each batch into a peer and then, for each query, makes its view
// current and counts its rows; a query's figure is all loading plus its own refreshes.
func (r *runner) nexmarkPeer(ctx context.Context, system string, ev *nexEvents,
	load func(ctx context.Context, i int) error, create func(ctx context.Context, q nexQuery) error,
	refresh func(ctx context.Context, q nexQuery) (int64, error)) error {
	ok := make([]bool, len(nexQueries))
	errs := make([]string, len(nexQueries))
	for k, q := range nexQueries {
		if err := create(ctx, q); err != nil {
			errs[k] = err.Error()
			continue
		}
		ok[k] = true
	}
	var loadTime time.Duration
	refreshTime := make([]time.Duration, len(nexQueries))
	rows := make([]int64, len(nexQueries))
	for i := 0; i < r.cfg.NexmarkBatches; i++ {
		d, err := timeIt(ctx, func(ctx context.Context) error { return load(ctx, i) })
		if err != nil {
			return fmt.Errorf("%s Nexmark, batch %d: %w", system, i, err)
		}
		loadTime += d
		for k, q := range nexQueries {
			if !ok[k] {
				continue
			}
			t0 := time.Now()
			n, err := refresh(ctx, q)
			if err != nil {
				ok[k], errs[k] = false, err.Error()
				continue
			}
			refreshTime[k] += time.Since(t0)
			rows[k] = n
		}
		r.progress(fmt.Sprintf("%s Nexmark: batch %d/%d", system, i+1, r.cfg.NexmarkBatches))
	}
	for k := range nexQueries {
		p := NexmarkPeer{System: system, Error: errs[k]}
		if ok[k] {
			total := loadTime + refreshTime[k]
			p.EventsPerSec = float64(r.cfg.Nexmark) / total.Seconds()
			p.LoadSeconds, p.RefreshSec, p.ResultRows = loadTime.Seconds(), refreshTime[k].Seconds(), rows[k]
		}
		for j := range r.rep.Nexmark {
			if r.rep.Nexmark[j].Query == nexQueries[k].name {
				r.rep.Nexmark[j].Peers = append(r.rep.Nexmark[j].Peers, p)
			}
		}
	}
	return nil
}

func (r *runner) nexmarkPostgres(ctx context.Context, ev *nexEvents, payloads [][3]copyPayload) error {
	r.progress("PostgreSQL Nexmark: initdb and start")
	pg, err := startPostgres(r.logger)
	if err != nil {
		return err
	}
	defer pg.Close()
	conn, _, err := pg.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if err := execAll(ctx, conn, nexTables...); err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	return r.nexmarkPeer(ctx, "PostgreSQL", ev,
		func(ctx context.Context, i int) error {
			for k, src := range nexSources {
				if payloads[i][k].rows == 0 {
					continue
				}
				if err := copyBinary(ctx, conn, src, payloads[i][k]); err != nil {
					return err
				}
			}
			return nil
		},
		func(ctx context.Context, q nexQuery) error {
			_, err := conn.Exec(ctx, "CREATE MATERIALIZED VIEW "+q.name+" AS "+q.batchSQL("postgres")+" WITH NO DATA")
			return err
		},
		func(ctx context.Context, q nexQuery) (int64, error) {
			return pgRefreshCount(ctx, conn, q.name)
		})
}

func pgRefreshCount(ctx context.Context, conn *pgx.Conn, name string) (int64, error) {
	if _, err := conn.Exec(ctx, "REFRESH MATERIALIZED VIEW "+name); err != nil {
		return 0, err
	}
	var n int64
	err := conn.QueryRow(ctx, "SELECT count(*) FROM "+name).Scan(&n)
	return n, err
}

func (r *runner) nexmarkDuckDB(ctx context.Context, ev *nexEvents) error {
	d, err := openDuck(ctx, r.root, "nexmark")
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.exec(ctx, append([]string{`SET TimeZone = 'UTC'`}, nexTables...)...); err != nil {
		return err
	}
	ts := func(us int64) time.Time { return time.UnixMicro(us).UTC() }
	return r.nexmarkPeer(ctx, "DuckDB", ev,
		func(ctx context.Context, i int) error {
			lo, hi := ev.bounds[i], ev.bounds[i+1]
			ps, as, bs := ev.persons[lo[0]:hi[0]], ev.auctions[lo[1]:hi[1]], ev.bids[lo[2]:hi[2]]
			if err := d.appendRows("person", len(ps), func(i int) []driver.Value {
				p := ps[i]
				return []driver.Value{p.ID, p.Name, p.Email, p.CreditCard, p.City, p.State, ts(p.DateTime), p.Extra}
			}); err != nil {
				return err
			}
			if err := d.appendRows("auction", len(as), func(i int) []driver.Value {
				a := as[i]
				return []driver.Value{a.ID, a.ItemName, a.Description, a.InitialBid, a.Reserve, ts(a.DateTime), ts(a.Expires), a.Seller, a.Category, a.Extra}
			}); err != nil {
				return err
			}
			return d.appendRows("bid", len(bs), func(i int) []driver.Value {
				b := bs[i]
				return []driver.Value{b.Auction, b.Bidder, b.Price, b.Channel, b.URL, ts(b.DateTime), b.Extra}
			})
		},
		func(ctx context.Context, q nexQuery) error {
			// Prepared once, so that a query DuckDB cannot run is known before the clock.
			_, err := d.conn.ExecContext(ctx, "CREATE OR REPLACE TABLE "+q.name+" AS "+q.batchSQL("duckdb"))
			return err
		},
		func(ctx context.Context, q nexQuery) (int64, error) {
			if err := d.exec(ctx, "CREATE OR REPLACE TABLE "+q.name+" AS "+q.batchSQL("duckdb")); err != nil {
				return 0, err
			}
			var n int64
			err := d.conn.QueryRowContext(ctx, "SELECT count(*) FROM "+q.name).Scan(&n)
			return n, err
		})
}

func (rep *Report) writeNexmark(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	cfg := rep.Config
	p("### Nexmark: %s events per query, %d batches\n\n", count(int64(cfg.Nexmark)), cfg.NexmarkBatches)
	p("Each query runs alone on a fresh Weir: every batch is COPYed into person, auction and bid " +
		"(1 : 3 : 46), then the query's view is read back; ack → visible is from the last COPY's acknowledgement to the end of that read. The peers load each batch once and then " +
		"refresh each query's view; a query's figure counts all the loading plus its own refreshes. " +
		"Result rows are the view's row count at the end, which must agree.\n\n")
	p("| query | what | Weir events/s | ack → visible p50 / p99 ms | CPU s per M events | peak RSS | load avg | PostgreSQL events/s | Weir ÷ PG | DuckDB events/s | Weir ÷ DuckDB | result rows W / PG / D |\n")
	p("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, q := range rep.Nexmark {
		weir, vis, cpu, peak, load := "—", "—", "—", "—", "—"
		if q.Error == "" {
			weir, cpu, peak = rate(q.Weir.EventsPerSec), fmt.Sprintf("%.2f", q.Weir.CPUSecPerMEvents), mib(q.Weir.PeakRSSBytes)
			vis = visible(q.Weir)
			load = fmt.Sprintf("%.1f", q.Weir.LoadAvg)
		} else {
			weir = "not supported¹"
		}
		cells := map[string][2]string{}
		rowsOf := map[string]string{"PostgreSQL": "—", "DuckDB": "—"}
		for _, peer := range q.Peers {
			if peer.Error != "" {
				cells[peer.System] = [2]string{"failed²", "—"}
				continue
			}
			ratio := "—"
			if q.Error == "" {
				ratio = fmt.Sprintf("%.2f×", q.Weir.EventsPerSec/peer.EventsPerSec)
			}
			cells[peer.System] = [2]string{rate(peer.EventsPerSec), ratio}
			rowsOf[peer.System] = fmt.Sprint(peer.ResultRows)
		}
		cell := func(sys string, i int) string {
			if c, ok := cells[sys]; ok {
				return c[i]
			}
			return "—"
		}
		wrows := "—"
		if q.Error == "" {
			wrows = fmt.Sprint(q.ResultRows)
		}
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s / %s |\n", q.Query, q.About, weir, vis, cpu, peak, load,
			cell("PostgreSQL", 0), cell("PostgreSQL", 1), cell("DuckDB", 0), cell("DuckDB", 1), wrows, rowsOf["PostgreSQL"], rowsOf["DuckDB"])
	}
	p("\n")
	for _, q := range rep.Nexmark {
		if q.Error != "" {
			p("¹ %s: %s\n\n", q.Query, oneLine(q.Error))
		}
		for _, peer := range q.Peers {
			if peer.Error != "" {
				p("² %s on %s: %s\n\n", q.Query, peer.System, oneLine(peer.Error))
			}
		}
	}
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
