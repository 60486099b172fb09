package pgwire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/weirdb/weir/internal/sqlerr"
)

// Startup request codes: the first four bytes after the length of an untyped startup
// packet. Protocol versions are major<<16 | minor.
const (
	sslRequestCode    = 80877103
	gssEncRequestCode = 80877104
	cancelRequestCode = 80877102
	latestMinor       = 2 // protocol 3.2 (PostgreSQL 18): variable-length cancel keys
)

const (
	startupTimeout   = time.Minute // PostgreSQL's authentication_timeout
	maxStartupPacket = 10000       // PostgreSQL's MAX_STARTUP_PACKET_LENGTH
)

// startupRequest is a StartupMessage of any 3.x minor version (pgproto3 rejects minors it
// does not know, but PostgreSQL negotiates them down).
type startupRequest struct {
	minor  uint32
	params map[string]string
}

// startup runs the connection's startup phase and reports whether the connection goes
// on to the message loop. An SSLRequest is answered 'S' and the connection upgraded to
// TLS when the server has a certificate (tls.go), and declined with 'N' otherwise (the
// client continues in plain text or gives up), as is GSSEncRequest; a CancelRequest is
// acted on and the connection closed; a StartupMessage is authenticated (auth.go), opens
// a Session and is answered with AuthenticationOk, ParameterStatus*, BackendKeyData and
// ReadyForQuery.
func (c *conn) startup() bool {
	c.setReadDeadline(time.Now().Add(startupTimeout))
	for {
		msg, err := c.readStartup()
		if err != nil {
			if c.rd.err == nil {
				c.logger.Info("bad startup packet", "err", err)
				c.sendFatal(err)
			}
			return false
		}
		switch m := msg.(type) {
		case *pgproto3.SSLRequest:
			if c.srv.cfg.TLS != nil && !c.encrypted() {
				if !c.upgradeTLS() {
					return false
				}
				continue
			}
			if _, err := c.out.w.Write([]byte{'N'}); err != nil { // through TLS once upgraded
				return false
			}
		case *pgproto3.GSSEncRequest:
			if _, err := c.out.w.Write([]byte{'N'}); err != nil { // through TLS once upgraded
				return false
			}
		case *pgproto3.CancelRequest:
			c.srv.cancelRequest(m.ProcessID, m.SecretKey)
			return false
		case *startupRequest:
			return c.accept(m)
		}
	}
}

// readStartup reads one untyped startup packet. It returns a *pgproto3.SSLRequest,
// *pgproto3.GSSEncRequest, *pgproto3.CancelRequest or *startupRequest; errors carry a
// SQLSTATE for the client.
func (c *conn) readStartup() (any, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(c.rd, hdr[:]); err != nil {
		return nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(hdr[:]))) - 4
	if n < 4 || n > maxStartupPacket {
		return nil, sqlerr.New(sqlerr.ProtocolViolation, "invalid length of startup packet")
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.rd, body); err != nil {
		return nil, err
	}
	code := binary.BigEndian.Uint32(body)
	switch code {
	case sslRequestCode:
		return &pgproto3.SSLRequest{}, nil
	case gssEncRequestCode:
		return &pgproto3.GSSEncRequest{}, nil
	case cancelRequestCode:
		var m pgproto3.CancelRequest
		if err := m.Decode(body); err != nil {
			return nil, sqlerr.New(sqlerr.ProtocolViolation, "invalid cancel request: %v", err)
		}
		return &m, nil
	}
	major, minor := code>>16, code&0xffff
	if major != 3 {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported,
			"unsupported frontend protocol %d.%d: server supports 3.0 to 3.%d", major, minor, latestMinor)
	}
	params, err := parseStartupParams(body[4:])
	if err != nil {
		return nil, err
	}
	return &startupRequest{minor: minor, params: params}, nil
}

// parseStartupParams parses the NUL-terminated name/value pairs of a StartupMessage.
func parseStartupParams(b []byte) (map[string]string, error) {
	bad := sqlerr.New(sqlerr.ProtocolViolation, "invalid startup packet layout: expected terminator as last byte")
	params := make(map[string]string)
	for {
		if len(b) == 0 {
			return nil, bad
		}
		if b[0] == 0 {
			if len(b) != 1 {
				return nil, bad
			}
			return params, nil
		}
		name, rest, ok := bytes.Cut(b, []byte{0})
		if !ok {
			return nil, bad
		}
		value, rest, ok := bytes.Cut(rest, []byte{0})
		if !ok {
			return nil, bad
		}
		params[string(name)] = string(value)
		b = rest
	}
}

// accept completes startup for m: it authenticates the user (still under the startup
// read deadline), opens the session and sends AuthenticationOk, the session's ParameterStatus values,
// BackendKeyData and ReadyForQuery. A minor version newer than 3.2, or _pq_ protocol
// options, are answered first with NegotiateProtocolVersion, as PostgreSQL does.
func (c *conn) accept(m *startupRequest) bool {
	minor := m.minor
	var unknownOpts []string
	for name := range m.params {
		if strings.HasPrefix(name, "_pq_.") {
			unknownOpts = append(unknownOpts, name)
			delete(m.params, name)
		}
	}
	slices.Sort(unknownOpts)
	if minor == 1 {
		minor = 0 // 3.1 was never a protocol version
	}
	if minor > latestMinor || len(unknownOpts) > 0 || minor != m.minor {
		minor = min(minor, latestMinor)
		c.out.send(&pgproto3.NegotiateProtocolVersion{NewestMinorProtocol: minor, UnrecognizedOptions: unknownOpts})
	}

	if !c.authenticate(m.params["user"]) {
		return false
	}
	c.setReadDeadline(time.Time{})
	sess, err := c.srv.eng.NewSession(c.ctx, m.params)
	if err != nil {
		c.sendFatal(err)
		return false
	}
	c.sess = sess
	secretLen := 4
	if minor >= 2 {
		secretLen = 32
	}
	if err := c.srv.register(c, secretLen); err != nil {
		c.sendFatal(fmt.Errorf("allocating a cancel key: %w", err))
		return false
	}
	c.logger = c.logger.With("pid", c.pid, "user", m.params["user"])
	c.logger.Debug("session started", "database", m.params["database"], "application_name", m.params["application_name"])

	c.out.send(&pgproto3.AuthenticationOk{})
	for _, kv := range sess.ParameterStatus() {
		c.reported[kv[0]] = kv[1]
		c.out.send(&pgproto3.ParameterStatus{Name: kv[0], Value: kv[1]})
	}
	c.out.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret})
	c.readyForQuery()
	return c.out.err == nil
}
