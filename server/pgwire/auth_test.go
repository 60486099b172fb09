package pgwire

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/scram"
)

// fakeRoles is a Roles of verifiers by name; names in nologin may not log in.
type fakeRoles struct {
	verifiers map[string]string
	nologin   map[string]bool
}

func (r fakeRoles) Verifier(_ context.Context, name string) (string, bool, error) {
	return r.verifiers[name], !r.nologin[name], nil
}

func newFakeRoles(t *testing.T, passwords map[string]string) fakeRoles {
	t.Helper()
	r := fakeRoles{verifiers: map[string]string{}, nologin: map[string]bool{}}
	for name, pw := range passwords {
		v, err := scram.Hash(pw)
		require.NoError(t, err)
		r.verifiers[name] = v.String()
	}
	return r
}

// remoteListener makes every accepted connection look as if it came from addr.
type remoteListener struct {
	net.Listener
	addr net.Addr
}

func (l remoteListener) Accept() (net.Conn, error) {
	nc, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return remoteConn{nc, l.addr}, nil
}

type remoteConn struct {
	net.Conn
	addr net.Addr
}

func (c remoteConn) RemoteAddr() net.Addr { return c.addr }

// startSecureServer starts a server over the fake engine with cfg's TLS and
// authentication; remote, when set, is the address every client appears to come from.
func startSecureServer(t *testing.T, cfg Config, remote net.Addr) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ts := &testServer{eng: newFakeEngine(), addr: ln.Addr().String(), served: make(chan error, 1)}
	cfg.Addr = ts.addr
	require.NoError(t, cfg.Validate())
	ts.srv = NewServer(cfg, ts.eng, testLogger(t))
	var l net.Listener = ln
	if remote != nil {
		l = remoteListener{ln, remote}
	}
	go func() { ts.served <- ts.srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		require.NoError(t, ts.srv.Shutdown(ctx))
		require.NoError(t, <-ts.served)
		require.Zero(t, ts.eng.open.Load(), "sessions left open")
	})
	return ts
}

// selfSigned writes a self-signed certificate for 127.0.0.1 and localhost and its key
// to dir and returns their paths.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "weir test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile
}

func psqlBinary(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("psql"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/lib/postgresql/15/bin/psql"); err == nil {
		return "/usr/lib/postgresql/15/bin/psql"
	}
	t.Fatal("psql not found: install postgresql-client-15 (.ci/run does)")
	return ""
}

// runPsql runs psql -c cmd against ts with extra environment; it returns the combined
// output and whether psql succeeded.
func runPsql(t *testing.T, ts *testServer, user string, env []string, cmd string) (string, bool) {
	t.Helper()
	host, port, err := net.SplitHostPort(ts.addr)
	require.NoError(t, err)
	c := exec.CommandContext(t.Context(), psqlBinary(t), "-X", "-w", "-h", host, "-p", port, "-U", user, "-d", "weir", "-c", cmd)
	c.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10")
	c.Env = append(c.Env, env...)
	out, err := c.CombinedOutput()
	return string(out), err == nil
}

func pgCode(t *testing.T, err error) *pgconn.PgError {
	t.Helper()
	var pe *pgconn.PgError
	require.True(t, errors.As(err, &pe), "want a PgError, got %v", err)
	return pe
}

// TestTLS upgrades connections with SSLRequest: pgx (require and verify-full against the
// certificate), lib/pq and psql, each checking that the connection is encrypted.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	tc, err := LoadTLS(certFile, keyFile)
	require.NoError(t, err)
	ts := startSecureServer(t, Config{TLS: tc}, nil)

	for _, mode := range []string{"require", "verify-full&sslrootcert=" + certFile} {
		t.Run("pgx "+strings.SplitN(mode, "&", 2)[0], func(t *testing.T) {
			conn, err := pgx.Connect(t.Context(), "postgres://weir@"+ts.addr+"/weir?sslmode="+mode)
			require.NoError(t, err)
			defer conn.Close(context.Background())
			tlsConn, ok := conn.PgConn().Conn().(*tls.Conn)
			require.True(t, ok, "the connection is %T, not TLS", conn.PgConn().Conn())
			require.Equal(t, uint16(tls.VersionTLS13), tlsConn.ConnectionState().Version)
			var n int
			require.NoError(t, conn.QueryRow(t.Context(), "SELECT 1").Scan(&n))
		})
	}
	t.Run("pgx verify-full wrong host", func(t *testing.T) {
		_, port, _ := net.SplitHostPort(ts.addr)
		_, err := pgx.Connect(t.Context(), "postgres://weir@127.0.0.2:"+port+"/weir?sslmode=verify-full&sslrootcert="+certFile)
		require.Error(t, err, "the certificate names 127.0.0.1 only")
	})
	t.Run("lib/pq", func(t *testing.T) {
		connector, err := pq.NewConnector("postgres://weir@" + ts.addr + "/weir?sslmode=require")
		require.NoError(t, err)
		var dialed []net.Conn
		connector.Dialer(recordingDialer{&dialed})
		db := sql.OpenDB(connector)
		defer db.Close()
		var n int
		require.NoError(t, db.QueryRowContext(t.Context(), "SELECT 1").Scan(&n))
		require.NotEmpty(t, dialed)
	})
	t.Run("lib/pq without server TLS", func(t *testing.T) {
		plain := startServer(t)
		db, err := sql.Open("postgres", "postgres://weir@"+plain.addr+"/weir?sslmode=require")
		require.NoError(t, err)
		defer db.Close()
		require.ErrorIs(t, db.PingContext(t.Context()), pq.ErrSSLNotSupported)
	})
	t.Run("psql", func(t *testing.T) {
		out, ok := runPsql(t, ts, "weir", []string{"PGSSLMODE=require", "PGSSLROOTCERT=" + certFile}, `\conninfo`)
		require.True(t, ok, out)
		require.Contains(t, out, "SSL connection (protocol: TLSv1.3")
	})
	t.Run("plain text still allowed", func(t *testing.T) {
		conn := connectRaw(t, ts.addr)
		conn.send(&pgproto3.Terminate{})
	})
}

type recordingDialer struct{ conns *[]net.Conn }

func (d recordingDialer) Dial(network, address string) (net.Conn, error) {
	nc, err := net.Dial(network, address)
	if err == nil {
		*d.conns = append(*d.conns, nc)
	}
	return nc, err
}

func (d recordingDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	return d.Dial(network, address)
}

// TestSCRAM authenticates with SCRAM-SHA-256 from pgx, lib/pq and psql, with right and
// wrong passwords and unknown users, in plain text and over TLS.
func TestSCRAM(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := selfSigned(t, dir)
	tc, err := LoadTLS(certFile, keyFile)
	require.NoError(t, err)
	roles := newFakeRoles(t, map[string]string{"weir": "s3cret", "analyst": "pa:ss word", "locked": "x"})
	roles.nologin["locked"] = true
	ts := startSecureServer(t, Config{TLS: tc, Auth: AuthSCRAM, Roles: roles}, nil)
	url := func(user, pw, mode string) string {
		return "postgres://" + user + ":" + pw + "@" + ts.addr + "/weir?sslmode=" + mode
	}

	t.Run("pgx", func(t *testing.T) {
		for _, mode := range []string{"disable", "require"} {
			conn, err := pgx.Connect(t.Context(), url("weir", "s3cret", mode))
			require.NoError(t, err, mode)
			var n int
			require.NoError(t, conn.QueryRow(t.Context(), "SELECT 1").Scan(&n))
			require.NoError(t, conn.Close(t.Context()))
		}
		conn, err := pgx.Connect(t.Context(), url("analyst", "pa%3Ass%20word", "disable"))
		require.NoError(t, err)
		require.NoError(t, conn.Close(t.Context()))

		for _, c := range []struct{ user, pw string }{{"weir", "wrong"}, {"ghost", "s3cret"}, {"weir", ""}} {
			_, err := pgx.Connect(t.Context(), url(c.user, c.pw, "disable"))
			pe := pgCode(t, err)
			require.Equal(t, "28P01", pe.Code, c)
			require.Equal(t, `password authentication failed for user "`+c.user+`"`, pe.Message)
			require.Equal(t, "FATAL", pe.Severity)
		}
		_, err = pgx.Connect(t.Context(), url("locked", "x", "disable"))
		require.Equal(t, "28000", pgCode(t, err).Code)
		_, err = pgx.Connect(t.Context(), url("locked", "wrong", "disable"))
		require.Equal(t, "28P01", pgCode(t, err).Code, "a wrong password says nothing about the role")
	})
	t.Run("lib/pq", func(t *testing.T) {
		for _, mode := range []string{"disable", "require"} {
			db, err := sql.Open("postgres", url("weir", "s3cret", mode))
			require.NoError(t, err)
			var n int
			require.NoError(t, db.QueryRowContext(t.Context(), "SELECT 1").Scan(&n), mode)
			db.Close()
		}
		db, err := sql.Open("postgres", url("weir", "nope", "disable"))
		require.NoError(t, err)
		defer db.Close()
		err = db.PingContext(t.Context())
		var pe *pq.Error
		require.True(t, errors.As(err, &pe), "%v", err)
		require.Equal(t, pq.ErrorCode("28P01"), pe.Code)
	})
	t.Run("psql", func(t *testing.T) {
		out, ok := runPsql(t, ts, "weir", []string{"PGPASSWORD=s3cret", "PGSSLMODE=disable"}, "SELECT 1")
		require.True(t, ok, out)
		out, ok = runPsql(t, ts, "weir", []string{"PGPASSWORD=s3cret", "PGSSLMODE=require", "PGSSLROOTCERT=" + certFile}, `\conninfo`)
		require.True(t, ok, out)
		require.Contains(t, out, "SSL connection (protocol: TLSv1.3")
		out, ok = runPsql(t, ts, "weir", []string{"PGPASSWORD=wrong", "PGSSLMODE=disable"}, "SELECT 1")
		require.False(t, ok)
		require.Contains(t, out, `password authentication failed for user "weir"`)
		out, ok = runPsql(t, ts, "weir", []string{"PGSSLMODE=disable"}, "SELECT 1")
		require.False(t, ok, "no password: psql -w gives up")
		require.Contains(t, out, "no password supplied")
	})
	t.Run("from another host", func(t *testing.T) {
		remote := startSecureServer(t, Config{Auth: AuthSCRAM, Roles: roles}, &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 5555})
		conn, err := pgx.Connect(t.Context(), "postgres://weir:s3cret@"+remote.addr+"/weir?sslmode=disable")
		require.NoError(t, err, "scram accepts password logins from any address")
		require.NoError(t, conn.Close(t.Context()))
	})
	t.Run("channel binding refused", func(t *testing.T) {
		c := dialRaw(t, ts.addr)
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "weir"}})
		sasl, ok := c.receive().(*pgproto3.AuthenticationSASL)
		require.True(t, ok)
		require.Equal(t, []string{"SCRAM-SHA-256"}, sasl.AuthMechanisms, "no -PLUS: channel binding is not offered")
		c.send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("p=tls-server-end-point,,n=,r=abc")})
		e, ok := c.receive().(*pgproto3.ErrorResponse)
		require.True(t, ok)
		require.Equal(t, "08P01", e.Code)
		c.expectEOF()
	})
}

// TestTrustLoopbackOnly refuses trust logins from other hosts.
func TestTrustLoopbackOnly(t *testing.T) {
	require.True(t, isLocal(&net.TCPAddr{IP: net.IPv6loopback}))
	require.False(t, isLocal(&net.TCPAddr{IP: net.IPv4(192, 168, 1, 1)}))
	ts := startSecureServer(t, Config{}, &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 5555})
	_, err := pgx.Connect(t.Context(), ts.url(""))
	pe := pgCode(t, err)
	require.Equal(t, "28000", pe.Code)
	require.Contains(t, pe.Message, "trusts only loopback clients")

	local := startSecureServer(t, Config{Auth: AuthTrust}, nil)
	conn, err := pgx.Connect(t.Context(), local.url(""))
	require.NoError(t, err)
	require.NoError(t, conn.Close(t.Context()))
}

func TestAuthConfig(t *testing.T) {
	require.ErrorIs(t, Config{Addr: "127.0.0.1:0", Auth: AuthSCRAM}.Validate(), ErrNoRoles)
	require.ErrorIs(t, Config{Addr: "127.0.0.1:0", Auth: "md5"}.Validate(), ErrBadAuth)
	_, err := LoadTLS("/nonexistent.crt", "/nonexistent.key")
	require.Error(t, err)
}
