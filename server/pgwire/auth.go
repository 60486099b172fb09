package pgwire

import (
	"context"
	"crypto/rand"
	"errors"
	"net"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/weirdb/weir/internal/scram"
	"github.com/weirdb/weir/internal/sqlerr"
)

// AuthMethod is how clients authenticate (weir serve --auth).
type AuthMethod string

const (
	// AuthTrust (the default, also "") accepts any user name without a password, but only
	// from loopback: a client from another address is refused with 28000.
	AuthTrust AuthMethod = "trust"
	// AuthSCRAM requires SCRAM-SHA-256 with the role's password, from any address, with or
	// without TLS (as a PostgreSQL "host … scram-sha-256" line does).
	AuthSCRAM AuthMethod = "scram"
)

// SQLSTATEs of authentication failures.
const (
	codeInvalidAuthorization sqlerr.Code = "28000"
	codeInvalidPassword      sqlerr.Code = "28P01"
)

// ErrNoRoles is returned by Config.Validate when AuthSCRAM has no Roles to check
// passwords against; ErrBadAuth for an unknown AuthMethod.
var (
	ErrNoRoles = errors.New("pgwire: --auth scram needs a role store")
	ErrBadAuth = errors.New("pgwire: unknown authentication method")
)

// Roles looks up login roles for password authentication. The server package adapts
// *db.DB to it.
type Roles interface {
	// Verifier returns role name's stored SCRAM-SHA-256 verifier (PostgreSQL's
	// rolpassword form) and whether the role may log in. verifier is "" when the role
	// does not exist or has no password: such a login fails like a wrong password. An
	// error (57P03 while the database recovers) ends the startup with it.
	Verifier(ctx context.Context, name string) (verifier string, login bool, err error)
}

// authenticate runs the authentication exchange of cfg.Auth for user and reports
// whether the client may go on; on failure it has sent the FATAL error. AuthenticationOk
// is left to the caller.
func (c *conn) authenticate(user string) bool {
	if c.srv.cfg.Auth == AuthSCRAM {
		return c.authSCRAM(user)
	}
	if !isLocal(c.nc.RemoteAddr()) {
		c.logger.Warn("refused a trust login from a non-loopback address", "user", user)
		c.sendFatal(sqlerr.New(codeInvalidAuthorization,
			"connection from %s refused: without --auth the server trusts only loopback clients", c.nc.RemoteAddr()).
			WithHint("Start weir serve with --auth scram to accept password logins from other hosts."))
		return false
	}
	return true
}

// isLocal reports whether a client address is loopback (or a Unix socket).
func isLocal(a net.Addr) bool {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	case *net.UnixAddr:
		return true
	}
	return false
}

// authSCRAM runs SCRAM-SHA-256: AuthenticationSASL, the client's SASLInitialResponse,
// AuthenticationSASLContinue, its SASLResponse and AuthenticationSASLFinal. A role that
// does not exist or has no password goes through the same exchange against a mock
// verifier and fails with the same message as a wrong password, so a client cannot
// tell which names exist.
func (c *conn) authSCRAM(user string) bool {
	failed := sqlerr.New(codeInvalidPassword, "password authentication failed for user %q", user)
	if user == "" {
		c.sendFatal(sqlerr.New(codeInvalidAuthorization, "no PostgreSQL user name specified in startup packet"))
		return false
	}
	stored, login, err := c.srv.cfg.Roles.Verifier(c.ctx, user)
	if err != nil {
		c.sendFatal(err)
		return false
	}
	v, perr := scram.Parse(stored)
	mock := perr != nil
	if mock {
		if stored != "" {
			c.logger.Warn("role has an unreadable password verifier", "user", user)
		}
		v = scram.Mock(c.srv.mockSecret, user)
	}
	ex := scram.NewExchange(v, mock)

	c.out.send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{scram.Mechanism}})
	c.out.flush()
	_ = c.be.SetAuthType(pgproto3.AuthTypeSASL)
	init, ok := receiveAuth[*pgproto3.SASLInitialResponse](c)
	if !ok {
		return false
	}
	if init.AuthMechanism != scram.Mechanism {
		c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "client selected an invalid SASL authentication mechanism"))
		return false
	}
	first, err := ex.First(init.Data)
	if err != nil {
		c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "malformed SCRAM message: %v", err))
		return false
	}
	c.out.send(&pgproto3.AuthenticationSASLContinue{Data: first})
	c.out.flush()
	_ = c.be.SetAuthType(pgproto3.AuthTypeSASLContinue)
	resp, ok := receiveAuth[*pgproto3.SASLResponse](c)
	if !ok {
		return false
	}
	final, err := ex.Final(resp.Data)
	switch {
	case errors.Is(err, scram.ErrAuthFailed):
		c.logger.Info("password authentication failed", "user", user)
		c.sendFatal(failed)
		return false
	case err != nil:
		c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "malformed SCRAM message: %v", err))
		return false
	case !login:
		c.sendFatal(sqlerr.New(codeInvalidAuthorization, "role %q is not permitted to log in", user))
		return false
	}
	c.out.send(&pgproto3.AuthenticationSASLFinal{Data: final})
	return true
}

// receiveAuth reads the client's next authentication message, which must be a T. A
// client that leaves (psql does, to prompt for a password) is not an error.
func receiveAuth[T pgproto3.FrontendMessage](c *conn) (T, bool) {
	var zero T
	msg, err := c.be.Receive()
	if err != nil {
		if c.rd.err == nil {
			c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "invalid authentication message: %v", err))
		}
		return zero, false
	}
	m, ok := msg.(T)
	if !ok {
		c.sendFatal(sqlerr.New(sqlerr.ProtocolViolation, "expected SASL response, got message type %T", msg))
		return zero, false
	}
	return m, true
}

// newMockSecret returns the per-server secret mock verifiers are derived from.
func newMockSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	return b
}
