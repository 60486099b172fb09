package pgwire

import (
	"crypto/tls"
	"fmt"

	"github.com/jackc/pgx/v5/pgproto3"
)

// LoadTLS returns the TLS configuration for a certificate and key in PEM files (the
// --tls-cert and --tls-key of weir serve). TLS 1.2 is the oldest version accepted, as in
// PostgreSQL's ssl_min_protocol_version default.
func LoadTLS(certFile, keyFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("pgwire: loading TLS certificate %q and key %q: %w", certFile, keyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// encrypted reports whether the connection has been upgraded to TLS.
func (c *conn) encrypted() bool {
	_, ok := c.rd.r.(*tls.Conn)
	return ok
}

// upgradeTLS answers an SSLRequest with 'S' and runs the TLS handshake; from then on
// every message is read and written through TLS. c.nc stays the TCP connection, so that
// Shutdown may close it from another goroutine. It reports whether the handshake
// succeeded; a client that fails it is logged and dropped (it cannot read an
// ErrorResponse).
func (c *conn) upgradeTLS() bool {
	if _, err := c.nc.Write([]byte{'S'}); err != nil {
		return false
	}
	tc := tls.Server(c.nc, c.srv.cfg.TLS)
	if err := tc.HandshakeContext(c.ctx); err != nil {
		c.logger.Info("TLS handshake failed", "err", err)
		return false
	}
	c.rd.r = tc
	c.out.w = tc
	c.be = pgproto3.NewBackend(c.fr, tc) // c.fr reads c.rd, now TLS
	c.be.SetMaxBodyLen(maxMessageBody)
	st := tc.ConnectionState()
	c.logger = c.logger.With("tls", tls.VersionName(st.Version))
	return true
}
