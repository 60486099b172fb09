package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"sync"
	"time"
)

// Config configures a Server.
type Config struct {
	// Addr is the TCP address ListenAndServe listens on, e.g. "127.0.0.1:5499".
	Addr string
	// TLS, when set, lets clients upgrade with SSLRequest (answered 'S'); nil answers 'N'.
	// Plain-text connections are accepted either way (auth.go, tls.go).
	TLS *tls.Config
	// Auth is how clients authenticate; "" is AuthTrust. Roles checks passwords for
	// AuthSCRAM.
	Auth  AuthMethod
	Roles Roles
	// StallTimeout is how long a client may pause in the middle of a message before it
	// is dropped with 08P01 (frame.go); 0 is 30 seconds.
	StallTimeout time.Duration
}

// DefaultConfig returns the default configuration: PostgreSQL clients on 127.0.0.1:5499.
func DefaultConfig() Config {
	return Config{Addr: "127.0.0.1:5499"}
}

// ErrInvalidAddr is returned by Config.Validate for an Addr that is not host:port.
var ErrInvalidAddr = errors.New("pgwire: invalid listen address")

// Validate checks the configuration. Errors wrap ErrInvalidAddr.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("%w %q: %w", ErrInvalidAddr, c.Addr, err)
	}
	switch c.Auth {
	case "", AuthTrust:
	case AuthSCRAM:
		if c.Roles == nil {
			return ErrNoRoles
		}
	default:
		return fmt.Errorf("%w %q (trust or scram)", ErrBadAuth, c.Auth)
	}
	return nil
}

// ErrServerClosed is returned by Serve and ListenAndServe when they are called after
// Shutdown.
var ErrServerClosed = errors.New("pgwire: server closed")

// Server accepts PostgreSQL wire-protocol connections and serves each from its own
// goroutine against an Engine. The Server owns every goroutine it starts: Shutdown stops
// them all and waits for them. Its methods are safe for concurrent use.
type Server struct {
	cfg    Config
	eng    Engine
	logger *slog.Logger
	// mockSecret derives the mock SCRAM salts of unknown roles (auth.go).
	mockSecret []byte

	// ctx is the parent of every connection's context; Shutdown cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	closed    bool // set by Shutdown; no listener or connection is added after it
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	keys      map[uint32]*conn // BackendKeyData process ID → connection, for CancelRequest
	// wg counts Serve loops and connection goroutines.
	// Invariant: Add happens only under mu while !closed, so Shutdown's Wait sees every one.
	wg sync.WaitGroup
}

// NewServer returns a Server that serves eng. It logs through logger as given (the caller
// narrows it, e.g. With("component", "pgwire")); a nil logger discards logs.
func NewServer(cfg Config, eng Engine, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// The server is the root owner of its connections' lifetimes, so their contexts hang
	// off one of its own; Shutdown cancels it.
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg:        cfg,
		eng:        eng,
		logger:     logger,
		mockSecret: newMockSecret(),
		ctx:        ctx,
		cancel:     cancel,
		listeners:  make(map[net.Listener]struct{}),
		conns:      make(map[*conn]struct{}),
		keys:       make(map[uint32]*conn),
	}
}

// ListenAndServe validates the configuration, listens on cfg.Addr and calls Serve.
func (s *Server) ListenAndServe() error {
	if err := s.cfg.Validate(); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln until Shutdown, then returns nil. It closes ln when it
// returns. It returns ErrServerClosed if Shutdown has already been called, or the accept
// error if ln fails for another reason. Transient accept errors (out of file descriptors)
// are retried with backoff.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
		_ = ln.Close()
	}()

	s.logger.Info("listening", "addr", ln.Addr().String())
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return nil
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.logger.Warn("accept failed; retrying", "err", err, "backoff", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-s.ctx.Done():
				t.Stop()
				return nil
			}
			continue
		}
		backoff = 0
		s.start(nc)
	}
}

// Shutdown stops the server: it closes every listener, cancels every running statement,
// closes every connection and waits for all goroutines to return. If ctx ends first it
// returns ctx.Err(); the goroutines still finish on their own. Shutdown may be called
// more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for ln := range s.listeners {
		_ = ln.Close()
	}
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	s.cancel()
	for _, c := range conns {
		_ = c.nc.Close()
	}

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// start registers nc and serves it on a new goroutine.
func (s *Server) start(nc net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = nc.Close()
		return
	}
	c := newConn(s, nc)
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()

	go func() {
		defer s.wg.Done()
		defer s.remove(c)
		c.serve()
	}()
}

func (s *Server) remove(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if s.keys[c.pid] == c {
		delete(s.keys, c.pid)
	}
}

// register assigns c a process ID and secret key for BackendKeyData. secretLen is 4 for
// protocol 3.0 and longer for 3.2.
func (s *Server) register(c *conn, secretLen int) error {
	secret := make([]byte, secretLen)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	var b [4]byte
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		// A positive int32: some clients read the process ID as signed.
		pid := binary.BigEndian.Uint32(b[:]) % math.MaxInt32
		if pid == 0 || s.keys[pid] != nil {
			continue
		}
		c.pid, c.secret = pid, secret
		s.keys[pid] = c
		return nil
	}
}

// cancelRequest cancels the statement running on the connection with process ID pid, if
// secret matches its key. A wrong key or an idle connection is ignored, as in PostgreSQL.
func (s *Server) cancelRequest(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.keys[pid]
	s.mu.Unlock()
	if c == nil || subtle.ConstantTimeCompare(c.secret, secret) != 1 {
		s.logger.Debug("cancel request ignored", "pid", pid)
		return
	}
	c.cancelRunning()
}
