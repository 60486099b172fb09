package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/livegen"
	"github.com/weirdb/weir/queries"
)

// demoQueries are the example queries weir demo prints; demo_test runs each of them.
var demoQueries = []string{
	`SELECT rank, room_id, score FROM trending_rooms WHERE window_end = (SELECT min(window_end) FROM trending_rooms WHERE window_end > now()) ORDER BY rank;`,
	`SELECT * FROM concurrent_viewers ORDER BY viewers DESC LIMIT 5;`,
	`SELECT * FROM top_gifters WHERE room_id IN (SELECT room_id FROM concurrent_viewers ORDER BY viewers DESC LIMIT 2) ORDER BY room_id, rank;`,
	`SELECT * FROM comment_floods ORDER BY window_start DESC LIMIT 5;`,
	`SELECT * FROM category_leaderboard ORDER BY coins DESC;`,
}

// demo runs the server with the live-room pack applied and the traffic generator
// writing into it, until Ctrl-C. The data directory keeps everything: a second run
// recovers it, re-applies the pack (which changes nothing that did not change) and
// carries on.
func demo(args []string, stdout io.Writer, logger *slog.Logger) error {
	var f serveFlags
	var gf genFlags
	set := flag.NewFlagSet("demo", flag.ContinueOnError)
	f.register(set)
	gf.register(set)
	if err := set.Parse(args); err != nil {
		return err
	}
	cfg, err := gf.config(time.Now())
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C, while the last events are written, ends the process at once
	}()
	d, srv, err := start(ctx, f, logger)
	if err != nil {
		return err
	}
	if err := applyDB(ctx, d, queries.Files, io.Discard, logger); err != nil {
		shutdown(d, srv, logger)
		return err
	}
	g, err := livegen.New(cfg)
	if err != nil {
		shutdown(d, srv, logger)
		return err
	}
	fmt.Fprint(stdout, demoBanner(cfg, host(srv.PGAddr()), port(srv.PGAddr()), srv.HTTPAddr(), f.data))
	sink := newDBSink(d)
	_, err = livegen.Run(ctx, g, sink, livegen.RunConfig{
		Duration: gf.duration, Paced: true, Workers: 4, Progress: newStatus(os.Stderr, logger).update, LeaveAtEnd: true,
	})
	sink.close()
	if serr := shutdown(d, srv, logger); err == nil {
		err = serr
	}
	return err
}

func demoBanner(cfg livegen.Config, pgHost, pgPort, httpAddr, data string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `
Weir demo is running: live-room traffic at ~%.0f events/s over %d rooms, into the
query pack (queries/*.sql). Every view has rows within a minute and keeps changing.

  psql:       psql -h %s -p %s -U weir weir
  dashboard:  http://%s/

Try in psql:
`, cfg.Rate, cfg.Rooms, pgHost, pgPort, httpAddr)
	for _, q := range demoQueries {
		fmt.Fprintf(&b, "  %s\n", q)
	}
	fmt.Fprintf(&b, `  SHOW MATERIALIZED VIEWS;
Or over HTTP:
  curl http://%s/v1/views/concurrent_viewers

Press Ctrl-C to stop. The data stays in %s; run the demo again to carry on.

`, httpAddr, data)
	return b.String()
}

func host(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i]
		}
	}
	return addr
}

func port(addr string) string { return addr[len(host(addr))+1:] }

// dbSink writes generated rows into a database in the same process: tables with an
// upsert statement, events with DB.Ingest (concurrent calls are group-committed).
type dbSink struct {
	d *db.DB
	s *db.Session // Upsert only, which Run calls from one goroutine
}

func newDBSink(d *db.DB) *dbSink {
	return &dbSink{d: d, s: d.NewSession(map[string]string{"application_name": "weir gen"})}
}

func (k *dbSink) close() { k.s.Close() }

func (k *dbSink) Upsert(ctx context.Context, t livegen.Schema, rows [][]any) error {
	return dbTarget{k.s}.exec(ctx, livegen.UpsertSQL(t, rows))
}

func (k *dbSink) Append(ctx context.Context, src livegen.Schema, rows [][]any) error {
	return k.d.Ingest(ctx, src.Name, deltaRows(rows))
}

// deltaRows converts generated rows to the engine's values.
func deltaRows(rows [][]any) [][]delta.Value {
	if len(rows) == 0 {
		return nil
	}
	out := make([][]delta.Value, len(rows))
	vals := make([]delta.Value, 0, len(rows)*len(rows[0]))
	for i, r := range rows {
		start := len(vals)
		for _, v := range r {
			switch x := v.(type) {
			case int64:
				vals = append(vals, delta.Int(x))
			case string:
				vals = append(vals, delta.Str(x))
			case time.Time:
				vals = append(vals, delta.Int(x.UnixMicro()))
			}
		}
		out[i] = vals[start:len(vals):len(vals)]
	}
	return out
}
