package main

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/server/httpapi"
)

type serveFlags struct {
	data, pg, http, queries string
	api                     httpapi.Config
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	d := server.DefaultConfig()
	fs.StringVar(&f.data, "data", "./weir-data", "data directory")
	fs.StringVar(&f.pg, "pg", d.PGAddr, "PostgreSQL wire-protocol listen address")
	fs.StringVar(&f.http, "http", d.HTTPAddr, "HTTP listen address")
	fs.StringVar(&f.api.Token, "http-token", "",
		"bearer token required by HTTP writes, SQL, webhooks and subscriptions (default $WEIR_HTTP_TOKEN; empty: none)")
	fs.Int64Var(&f.api.MaxBody, "http-max-body", httpapi.DefaultMaxBody, "largest HTTP ingest body in bytes, after gzip decoding (413 above)")
	fs.Float64Var(&f.api.RateLimit, "http-rate-limit", 0, "events per second each source accepts over HTTP (429 above; 0: no limit)")
	fs.IntVar(&f.api.RateBurst, "http-rate-burst", 0, "events a source may ingest at once under --http-rate-limit (default: one second's worth)")
}

func serve(args []string, logger *slog.Logger) error {
	var f serveFlags
	set := flag.NewFlagSet("serve", flag.ExitOnError)
	f.register(set)
	set.StringVar(&f.queries, "queries", "", "apply these .sql files at start-up")
	set.Parse(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, srv, err := start(ctx, f, logger)
	if err != nil {
		return err
	}
	if f.queries != "" {
		if err := applyDB(ctx, d, os.DirFS(f.queries), io.Discard, logger); err != nil {
			return err
		}
	}
	<-ctx.Done()
	return shutdown(d, srv, logger)
}

func start(ctx context.Context, f serveFlags, logger *slog.Logger) (*db.DB, *server.Server, error) {
	if f.api.Token == "" {
		f.api.Token = os.Getenv("WEIR_HTTP_TOKEN") // not a flag default, which -h would print
	}
	// Recovery runs in the background so that /readyz can say so while it lasts.
	d, err := db.Open(ctx, db.Config{Dir: f.data, Background: true}, logger.With("component", "db"))
	if err != nil {
		return nil, nil, err
	}
	srv, err := server.Start(server.Config{PGAddr: f.pg, HTTPAddr: f.http, HTTP: f.api}, d, logger)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	logger.Info("weir listening; recovering", "pg", srv.PGAddr(), "http", srv.HTTPAddr(), "data", f.data)
	if err := d.WaitReady(ctx); err != nil {
		shutdown(d, srv, logger)
		return nil, nil, err
	}
	logger.Info("weir serving", "pg", srv.PGAddr(), "http", srv.HTTPAddr(), "data", f.data)
	return d, srv, nil
}

func shutdown(d *db.DB, srv *server.Server, logger *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(ctx)
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	logger.Info("weir stopped")
	return err
}

func firstLine(sql string) string {
	for _, l := range strings.Split(sql, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "--") {
			return l
		}
	}
	return sql
}
