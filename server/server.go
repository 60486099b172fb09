// Package server owns Weir's two listeners: the PostgreSQL wire protocol (server/pgwire)
// and HTTP (server/httpapi), both over one database.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/server/httpapi"
	"github.com/weirdb/weir/server/pgwire"
)

// Config names the listen addresses and configures the HTTP API.
type Config struct {
	PGAddr   string // default 127.0.0.1:5499
	HTTPAddr string // default 127.0.0.1:8499
	// HTTP configures the HTTP API: bearer token, body size and rate limits, webhooks.
	HTTP httpapi.Config
	// PGTLS, when set, is offered to wire-protocol clients (SSLRequest); PGAuth is their
	// authentication, "" (trust, loopback only) or pgwire.AuthSCRAM against the
	// database's roles, whose privileges the sessions then have.
	PGTLS  *tls.Config
	PGAuth pgwire.AuthMethod
}

// DefaultConfig returns DESIGN §1's defaults.
func DefaultConfig() Config { return Config{PGAddr: "127.0.0.1:5499", HTTPAddr: "127.0.0.1:8499"} }

// Server serves one database over both protocols.
type Server struct {
	pg     *pgwire.Server
	http   *http.Server
	api    *httpapi.API
	pgLn   net.Listener
	httpLn net.Listener
	logger *slog.Logger
	wg     sync.WaitGroup
	stop   context.CancelFunc // ends long-lived HTTP streams at Shutdown
}

// Start listens on both addresses and serves in the background until Shutdown.
func Start(cfg Config, d *db.DB, logger *slog.Logger) (*Server, error) {
	api, err := httpapi.New(d, logger.With("component", "http"), cfg.HTTP)
	if err != nil {
		return nil, err
	}
	pgLn, err := net.Listen("tcp", cfg.PGAddr)
	if err != nil {
		api.Close()
		return nil, err
	}
	httpLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		api.Close()
		pgLn.Close()
		return nil, err
	}
	streams, stop := context.WithCancel(context.Background())
	s := &Server{
		pg: pgwire.NewServer(pgwire.Config{Addr: cfg.PGAddr, TLS: cfg.PGTLS, Auth: cfg.PGAuth, Roles: roles{d}},
			engine{d: d, roles: cfg.PGAuth == pgwire.AuthSCRAM}, logger.With("component", "pgwire")),
		http: &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second,
			BaseContext: func(net.Listener) context.Context { return streams }},
		api:    api,
		stop:   stop,
		pgLn:   pgLn,
		httpLn: httpLn,
		logger: logger,
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.pg.Serve(pgLn); err != nil {
			logger.Error("pgwire server stopped", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("http server stopped", "err", err)
		}
	}()
	return s, nil
}

// PGAddr is the bound wire-protocol address.
func (s *Server) PGAddr() string { return s.pgLn.Addr().String() }

// HTTPAddr is the bound HTTP address.
func (s *Server) HTTPAddr() string { return s.httpLn.Addr().String() }

// Shutdown stops both listeners and waits for their goroutines.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stop()
	err1 := s.pg.Shutdown(ctx)
	err2 := s.http.Shutdown(ctx)
	s.api.Close() // webhooks and the metrics' view watchers
	s.wg.Wait()
	return errors.Join(err1, err2)
}

// engine adapts *db.DB to pgwire.Engine. With roles set, sessions act as the
// authenticated role; otherwise as the superuser (trust).
type engine struct {
	d     *db.DB
	roles bool
}

func (e engine) NewSession(ctx context.Context, params map[string]string) (pgwire.Session, error) {
	if e.roles {
		s, err := e.d.NewRoleSession(ctx, params)
		if err != nil {
			return nil, err
		}
		return session{s}, nil
	}
	return session{e.d.NewSession(params)}, nil
}

// roles adapts *db.DB to pgwire.Roles.
type roles struct{ d *db.DB }

func (r roles) Verifier(ctx context.Context, name string) (string, bool, error) {
	return r.d.RoleVerifier(ctx, name)
}

type session struct{ *db.Session }

func (s session) Prepare(ctx context.Context, sql string, oids []uint32) (pgwire.Statement, error) {
	p, err := s.Session.Prepare(ctx, sql, oids)
	if err != nil {
		return nil, err
	}
	return statement{p}, nil
}

type statement struct{ p *db.Prepared }

func (st statement) ParamOIDs() []uint32 { return st.p.ParamOIDs() }

func (st statement) Columns() []pgwire.Column { return columns(st.p.Columns()) }

func (st statement) Execute(ctx context.Context, params []any) (pgwire.Rows, error) {
	r, err := st.p.Execute(ctx, params)
	if err != nil {
		return nil, err
	}
	return rows{r}, nil
}

func (st statement) Copy() *pgwire.Copy {
	info, ok := st.p.Copy()
	if !ok {
		return nil
	}
	return &pgwire.Copy{From: info.From, Columns: info.Columns, Options: info.Options}
}

func (st statement) CopyFrom(ctx context.Context, r io.Reader) (int64, error) {
	return st.p.CopyFrom(ctx, r)
}

type rows struct{ *db.Rows }

func (r rows) Columns() []pgwire.Column { return columns(r.Rows.Columns()) }

func columns(cs []db.Column) []pgwire.Column {
	if cs == nil {
		return nil
	}
	out := make([]pgwire.Column, len(cs))
	for i, c := range cs {
		out[i] = pgwire.Column{Name: c.Name, OID: c.OID, TypeSize: c.TypeSize, TypeMod: c.TypeMod}
	}
	return out
}
