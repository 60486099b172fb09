// Package scram implements the server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as
// PostgreSQL speaks it, and PostgreSQL's stored form of a password,
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>. No plaintext password is
// ever kept: Hash turns one into a Verifier, and an exchange checks a client's proof
// against the Verifier alone. Standard library only.
//
// Channel binding (SCRAM-SHA-256-PLUS) is not offered: a client's gs2 header must be
// "n" or "y", never "p". Passwords are used as their UTF-8 bytes, without SASLprep
// (which leaves ASCII passwords unchanged).
package scram

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Mechanism is the SASL mechanism name advertised in AuthenticationSASL.
const Mechanism = "SCRAM-SHA-256"

// DefaultIterations is PostgreSQL's scram_iterations default.
const DefaultIterations = 4096

const (
	saltLen  = 16 // PostgreSQL's SCRAM_DEFAULT_SALT_LEN
	nonceLen = 18 // PostgreSQL's SCRAM_RAW_NONCE_LEN
	prefix   = "SCRAM-SHA-256$"
)

// ErrMalformed is returned for a verifier or SCRAM message that does not parse.
var ErrMalformed = errors.New("scram: malformed message")

// ErrAuthFailed is returned by Exchange.Final when the client's proof is wrong (or the
// exchange is a mock one, for a role without a password).
var ErrAuthFailed = errors.New("scram: authentication failed")

// A Verifier is what the server stores for a password: the salt and iteration count the
// client derives its keys with, StoredKey = H(ClientKey) to check the client's proof,
// and ServerKey to prove the server knows the password too.
type Verifier struct {
	Iterations int
	Salt       []byte
	StoredKey  []byte
	ServerKey  []byte
}

// Hash returns a verifier for password with a random salt and DefaultIterations.
func Hash(password string) (Verifier, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return Verifier{}, err
	}
	return NewVerifier(password, salt, DefaultIterations)
}

// NewVerifier derives the verifier of password for salt and iterations.
func NewVerifier(password string, salt []byte, iterations int) (Verifier, error) {
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return Verifier{}, err
	}
	clientKey := mac(salted, "Client Key")
	stored := sha256.Sum256(clientKey)
	return Verifier{Iterations: iterations, Salt: salt, StoredKey: stored[:], ServerKey: mac(salted, "Server Key")}, nil
}

// String is PostgreSQL's rolpassword form: SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>,
// each part in standard base64.
func (v Verifier) String() string {
	b := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("%s%d:%s$%s:%s", prefix, v.Iterations, b(v.Salt), b(v.StoredKey), b(v.ServerKey))
}

// IsVerifier reports whether s looks like a stored SCRAM-SHA-256 verifier rather than a
// password (CREATE ROLE … PASSWORD 'SCRAM-SHA-256$…' stores it as given, as PostgreSQL does).
func IsVerifier(s string) bool {
	_, err := Parse(s)
	return err == nil
}

// Parse reads PostgreSQL's rolpassword form.
func Parse(s string) (Verifier, error) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return Verifier{}, ErrMalformed
	}
	iterSalt, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return Verifier{}, ErrMalformed
	}
	iter, salt, ok1 := strings.Cut(iterSalt, ":")
	stored, server, ok2 := strings.Cut(keys, ":")
	if !ok1 || !ok2 {
		return Verifier{}, ErrMalformed
	}
	var v Verifier
	var err error
	if v.Iterations, err = strconv.Atoi(iter); err != nil || v.Iterations < 1 {
		return Verifier{}, ErrMalformed
	}
	d := base64.StdEncoding.DecodeString
	if v.Salt, err = d(salt); err != nil || len(v.Salt) == 0 {
		return Verifier{}, ErrMalformed
	}
	if v.StoredKey, err = d(stored); err != nil || len(v.StoredKey) != sha256.Size {
		return Verifier{}, ErrMalformed
	}
	if v.ServerKey, err = d(server); err != nil || len(v.ServerKey) != sha256.Size {
		return Verifier{}, ErrMalformed
	}
	return v, nil
}

// Mock returns a verifier for a role that does not exist or has no password, so that
// the exchange looks the same as a real one (PostgreSQL's scram_mock_salt): its salt is
// derived from secret and the user name, stable across attempts, and no proof matches it.
func Mock(secret []byte, user string) Verifier {
	salt := mac(secret, "mock salt "+user)[:saltLen]
	key := mac(secret, "mock key "+user)
	return Verifier{Iterations: DefaultIterations, Salt: salt, StoredKey: key, ServerKey: key}
}

// Exchange is the server side of one SCRAM-SHA-256 authentication: First answers the
// client-first-message (SASLInitialResponse), Final the client-final-message
// (SASLResponse). An Exchange is used once, by one goroutine.
type Exchange struct {
	v    Verifier
	mock bool // no proof is accepted

	nonce string // the server's part of the nonce; random unless set (tests)

	gs2             string // the client's gs2 header, "n,," or "y,,"
	clientFirstBare string
	serverFirst     string
	fullNonce       string
}

// NewExchange starts an exchange against v. With mock set the exchange runs in full but
// Final always fails, for a role that does not exist or has no password.
func NewExchange(v Verifier, mock bool) *Exchange { return &Exchange{v: v, mock: mock} }

// First parses the client-first-message and returns the server-first-message. Errors
// wrap ErrMalformed.
func (e *Exchange) First(clientFirst []byte) ([]byte, error) {
	msg := string(clientFirst)
	// gs2-header: cbind-flag "," [authzid] ","
	flag, rest, ok := strings.Cut(msg, ",")
	if !ok {
		return nil, fmt.Errorf("%w: no gs2 header", ErrMalformed)
	}
	switch {
	case flag == "n", flag == "y":
		// "y": the client could bind but thinks the server cannot; right, it cannot.
	case strings.HasPrefix(flag, "p="):
		return nil, fmt.Errorf("%w: channel binding is not supported (the server offers only %s)", ErrMalformed, Mechanism)
	default:
		return nil, fmt.Errorf("%w: unexpected channel-binding flag %q", ErrMalformed, flag)
	}
	authzid, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, fmt.Errorf("%w: no gs2 header", ErrMalformed)
	}
	if authzid != "" {
		return nil, fmt.Errorf("%w: an authorization identity is not supported", ErrMalformed)
	}
	e.gs2 = flag + ",,"
	e.clientFirstBare = bare
	attrs := strings.Split(bare, ",")
	if len(attrs) < 2 || !strings.HasPrefix(attrs[0], "n=") || !strings.HasPrefix(attrs[1], "r=") {
		return nil, fmt.Errorf("%w: expected n=<user>,r=<nonce>", ErrMalformed)
	}
	clientNonce := attrs[1][2:]
	if clientNonce == "" || !printable(clientNonce) {
		return nil, fmt.Errorf("%w: invalid client nonce", ErrMalformed)
	}
	if e.nonce == "" {
		raw := make([]byte, nonceLen)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		e.nonce = base64.StdEncoding.EncodeToString(raw)
	}
	e.fullNonce = clientNonce + e.nonce
	e.serverFirst = fmt.Sprintf("r=%s,s=%s,i=%d", e.fullNonce, base64.StdEncoding.EncodeToString(e.v.Salt), e.v.Iterations)
	return []byte(e.serverFirst), nil
}

// Final checks the client-final-message and, when the proof is right, returns the
// server-final-message "v=<ServerSignature>". A wrong proof returns ErrAuthFailed; a
// message that does not parse, or whose nonce or channel binding does not match the
// first message, returns an error wrapping ErrMalformed.
func (e *Exchange) Final(clientFinal []byte) ([]byte, error) {
	msg := string(clientFinal)
	attrs := strings.Split(msg, ",")
	if len(attrs) < 3 || !strings.HasPrefix(attrs[0], "c=") || !strings.HasPrefix(attrs[1], "r=") {
		return nil, fmt.Errorf("%w: expected c=<binding>,r=<nonce>,…,p=<proof>", ErrMalformed)
	}
	last := attrs[len(attrs)-1]
	if !strings.HasPrefix(last, "p=") {
		return nil, fmt.Errorf("%w: no proof", ErrMalformed)
	}
	if cb, err := base64.StdEncoding.DecodeString(attrs[0][2:]); err != nil || string(cb) != e.gs2 {
		return nil, fmt.Errorf("%w: channel binding does not match the gs2 header", ErrMalformed)
	}
	if attrs[1][2:] != e.fullNonce {
		return nil, fmt.Errorf("%w: nonce does not match", ErrMalformed)
	}
	proof, err := base64.StdEncoding.DecodeString(last[2:])
	if err != nil || len(proof) != sha256.Size {
		return nil, fmt.Errorf("%w: invalid proof", ErrMalformed)
	}
	withoutProof := msg[:len(msg)-len(last)-1]
	authMessage := e.clientFirstBare + "," + e.serverFirst + "," + withoutProof
	clientSig := mac(e.v.StoredKey, authMessage)
	clientKey := make([]byte, sha256.Size)
	subtle.XORBytes(clientKey, proof, clientSig)
	got := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(got[:], e.v.StoredKey) != 1 || e.mock {
		return nil, ErrAuthFailed
	}
	serverSig := mac(e.v.ServerKey, authMessage)
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSig)), nil
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// printable reports whether s is RFC 5802's printable: ASCII 0x21–0x7e except ','.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}
