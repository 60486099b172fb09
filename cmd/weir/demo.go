package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/queries"
)

// demo runs the server with the live-room pack and synthetic traffic.
func demo(args []string, logger *slog.Logger) error {
	var f serveFlags
	set := flag.NewFlagSet("demo", flag.ExitOnError)
	f.register(set)
	rate := set.Int("rate", 2000, "events per second")
	dur := set.Duration("duration", 0, "stop after this long (0 = until interrupted)")
	set.Parse(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *dur)
		defer cancel()
	}
	d, srv, err := start(ctx, f, logger)
	if err != nil {
		return err
	}
	if err := applyLocal(ctx, d, queries.Files, logger); err != nil {
		shutdown(d, srv, logger)
		return err
	}
	fmt.Printf(`
Weir demo is running: live-room comments and gifts are arriving at ~%d events/s.

  psql:      psql -h %s -p %s -U weir weir
             SELECT * FROM room_revenue ORDER BY revenue DESC LIMIT 5;
  HTTP:      curl http://%s/v1/views/category_revenue

Press Ctrl-C to stop.
`, *rate, host(srv.PGAddr()), port(srv.PGAddr()), srv.HTTPAddr())
	err = runTraffic(ctx, d, *rate, logger)
	if serr := shutdown(d, srv, logger); err == nil {
		err = serr
	}
	return err
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

var categories = []string{"music", "gaming", "chat", "outdoor", "food", "dance"}
var giftKinds = []struct {
	name  string
	price int64
}{{"rose", 10}, {"heart", 100}, {"rocket", 5000}, {"carnival", 30000}}
var phrases = []string{"666", "主播好", "hello!", "太好听了", "gg", "来了来了", "nice play", "爱了爱了"}

// runTraffic ingests comments and gifts in 100 ms ticks until ctx ends.
func runTraffic(ctx context.Context, d *db.DB, rate int, logger *slog.Logger) error {
	rng := rand.New(rand.NewPCG(1, 2))
	const rooms = 200
	zipf := rand.NewZipf(rng, 1.2, 1, rooms-1)
	var values []string
	for r := int64(0); r < rooms; r++ {
		values = append(values, fmt.Sprintf("(%d, %d, '%s')", r, 10000+r, categories[r%int64(len(categories))]))
	}
	s := d.NewSession(nil)
	p, err := s.Prepare(ctx, "INSERT INTO rooms VALUES "+strings.Join(values, ", ")+" ON CONFLICT (room_id) DO NOTHING", nil)
	if err != nil {
		return err
	}
	if _, err := p.Execute(ctx, nil); err != nil {
		return err
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	total, last := 0, time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		now := time.Now()
		n := rate / 10
		var comments, gifts [][]delta.Value
		for i := 0; i < n; i++ {
			room := int64(zipf.Uint64())
			user := rng.Int64N(50000)
			ts := delta.Int(now.Add(-time.Duration(rng.IntN(2000)) * time.Millisecond).UnixMicro())
			if rng.IntN(20) == 0 {
				g := giftKinds[rng.IntN(len(giftKinds))]
				gifts = append(gifts, []delta.Value{delta.Int(room), delta.Int(user), delta.Str(g.name), delta.Int(g.price), ts})
			} else {
				comments = append(comments, []delta.Value{delta.Int(room), delta.Int(user), delta.Str(phrases[rng.IntN(len(phrases))]), ts})
			}
		}
		for _, in := range []struct {
			source string
			rows   [][]delta.Value
		}{{"comments", comments}, {"gifts", gifts}} {
			if err := d.Ingest(ctx, in.source, in.rows); err != nil {
				if ctx.Err() != nil {
					return nil // stopped mid-tick: the tick was rolled back whole
				}
				return err
			}
		}
		total += n
		if time.Since(last) >= 10*time.Second {
			logger.Info("traffic", "events_total", total, "tick", d.Tick())
			last = time.Now()
		}
	}
}
