package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/server"
	"github.com/weirdb/weir/server/httpapi"
	"github.com/weirdb/weir/server/pgwire"
)

type serveFlags struct {
	data, pg, http, queries string
	nodeID                  string
	api                     httpapi.Config
	// Wire-protocol security (issue #6): see README's Security section.
	tlsCert, tlsKey, auth, users string
	checkpoint                   time.Duration
}

func (f *serveFlags) register(fs *flag.FlagSet) {
	d := server.DefaultConfig()
	fs.StringVar(&f.data, "data", "./weir-data", "data directory")
	fs.StringVar(&f.nodeID, "node-id", "",
		"this node's identity among Weir nodes sharing Kafka topics (its Kafka sinks' weir-node header); default: the one stored in --data, or a random one stored there on first start")
	fs.StringVar(&f.pg, "pg", d.PGAddr, "PostgreSQL wire-protocol listen address")
	fs.StringVar(&f.http, "http", d.HTTPAddr, "HTTP listen address")
	fs.StringVar(&f.api.Token, "http-token", "",
		"bearer token required by HTTP writes, SQL, webhooks and subscriptions (default $WEIR_HTTP_TOKEN; empty: none)")
	fs.Int64Var(&f.api.MaxBody, "http-max-body", httpapi.DefaultMaxBody, "largest HTTP ingest body in bytes, after gzip decoding (413 above)")
	fs.Float64Var(&f.api.RateLimit, "http-rate-limit", 0, "events per second each source accepts over HTTP (429 above; 0: no limit)")
	fs.IntVar(&f.api.RateBurst, "http-rate-burst", 0, "events a source may ingest at once under --http-rate-limit (default: one second's worth)")
	fs.DurationVar(&f.checkpoint, "checkpoint-interval", db.DefaultCheckpointInterval,
		"how often operator state is checkpointed, so that recovery loads it instead of recomputing the views from history (negative: never)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "PEM certificate file: PostgreSQL clients may then use TLS (sslmode=require); needs --tls-key")
	fs.StringVar(&f.tlsKey, "tls-key", "", "PEM private key file for --tls-cert")
	fs.StringVar(&f.auth, "auth", "", "PostgreSQL client authentication: scram (SCRAM-SHA-256 passwords, any address) or empty (trust, loopback clients only)")
	fs.StringVar(&f.users, "users-file", "", "file of name:password or name:SCRAM-SHA-256$… lines, set as login roles' passwords at start-up (the weir superuser's password defaults to $WEIR_PASSWORD)")
}

// security turns the security flags into the server's wire-protocol TLS and
// authentication settings, and reads the users file.
func (f *serveFlags) security() (server.Config, []userEntry, error) {
	var cfg server.Config
	switch f.auth {
	case "", string(pgwire.AuthTrust):
	case string(pgwire.AuthSCRAM):
		cfg.PGAuth = pgwire.AuthSCRAM
	default:
		return cfg, nil, fmt.Errorf("--auth %q: want scram (or nothing, for trust on loopback)", f.auth)
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return cfg, nil, errors.New("--tls-cert and --tls-key go together")
	}
	if f.tlsCert != "" {
		tc, err := pgwire.LoadTLS(f.tlsCert, f.tlsKey)
		if err != nil {
			return cfg, nil, err
		}
		cfg.PGTLS = tc
	}
	var users []userEntry
	if f.users != "" {
		var err error
		if users, err = readUsers(f.users); err != nil {
			return cfg, nil, err
		}
	}
	if pw := os.Getenv("WEIR_PASSWORD"); pw != "" && !slices.ContainsFunc(users, func(u userEntry) bool { return u.name == db.BootstrapRole }) {
		users = append(users, userEntry{name: db.BootstrapRole, password: pw})
	}
	return cfg, users, nil
}

type userEntry struct{ name, password string }

// readUsers reads a --users-file file: one name:password (or name:SCRAM-SHA-256$… verifier)
// per line; blank lines and lines starting with # are skipped.
func readUsers(path string) ([]userEntry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--users-file: %w", err)
	}
	var out []userEntry
	for i, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		name, pw, ok := strings.Cut(line, ":")
		if !ok || name == "" || pw == "" {
			return nil, fmt.Errorf("--users-file %s, line %d: want name:password", path, i+1)
		}
		out = append(out, userEntry{name: name, password: pw})
	}
	return out, nil
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
	cfg, users, err := f.security()
	if err != nil {
		return nil, nil, err
	}
	cfg.PGAddr, cfg.HTTPAddr, cfg.HTTP = f.pg, f.http, f.api
	// Recovery runs in the background so that /readyz can say so while it lasts.
	d, err := db.Open(ctx, db.Config{Dir: f.data, Background: true, CheckpointInterval: f.checkpoint, NodeID: f.nodeID}, logger.With("component", "db"))
	if err != nil {
		return nil, nil, err
	}
	srv, err := server.Start(cfg, d, logger)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	logger.Info("weir listening; recovering", "pg", srv.PGAddr(), "http", srv.HTTPAddr(), "data", f.data)
	if err := d.WaitReady(ctx); err != nil {
		shutdown(d, srv, logger)
		return nil, nil, err
	}
	// Passwords are set once recovery has made the role tables ready; a login in the
	// moments before fails like a wrong password.
	for _, u := range users {
		if err := d.SetRolePassword(ctx, u.name, u.password); err != nil {
			shutdown(d, srv, logger)
			return nil, nil, fmt.Errorf("--users-file: role %q: %w", u.name, err)
		}
	}
	if cfg.PGAuth == pgwire.AuthSCRAM {
		if v, _, err := d.RoleVerifier(ctx, db.BootstrapRole); err == nil && v == "" {
			logger.Warn("--auth scram: the weir superuser has no password; set WEIR_PASSWORD or list weir in --users-file")
		}
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
