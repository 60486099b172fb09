package scram

import (
	"encoding/base64"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRFC7677 runs the server side of RFC 7677 §3's example exchange.
func TestRFC7677(t *testing.T) {
	salt, err := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	require.NoError(t, err)
	v, err := NewVerifier("pencil", salt, 4096)
	require.NoError(t, err)

	e := NewExchange(v, false)
	e.nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	first, err := e.First([]byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))
	require.NoError(t, err)
	require.Equal(t, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", string(first))
	final, err := e.Final([]byte("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	require.NoError(t, err)
	require.Equal(t, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", string(final))

	t.Run("verifier round trip", func(t *testing.T) {
		p, err := Parse(v.String())
		require.NoError(t, err)
		require.Equal(t, v, p)
		require.True(t, IsVerifier(v.String()))
		require.False(t, IsVerifier("pencil"))
	})
	t.Run("wrong password", func(t *testing.T) {
		w, err := NewVerifier("pencils", salt, 4096)
		require.NoError(t, err)
		e := NewExchange(w, false)
		e.nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
		_, err = e.First([]byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))
		require.NoError(t, err)
		_, err = e.Final([]byte("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
		require.ErrorIs(t, err, ErrAuthFailed)
	})
	t.Run("mock", func(t *testing.T) {
		e := NewExchange(v, true)
		e.nonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
		_, err := e.First([]byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"))
		require.NoError(t, err)
		_, err = e.Final([]byte("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
		require.ErrorIs(t, err, ErrAuthFailed)
		m1, m2 := Mock([]byte("secret"), "ghost"), Mock([]byte("secret"), "ghost")
		require.Equal(t, m1.Salt, m2.Salt, "a mock salt is stable, as a real one is")
	})
}

func TestMalformed(t *testing.T) {
	v, err := Hash("pw")
	require.NoError(t, err)
	for _, first := range []string{"", "p=tls-server-end-point,,n=,r=abc", "n,a=admin,n=,r=abc", "x,,n=,r=abc", "n,,r=abc", "n,,n=,r="} {
		_, err := NewExchange(v, false).First([]byte(first))
		require.ErrorIs(t, err, ErrMalformed, first)
	}
	e := NewExchange(v, false)
	_, err = e.First([]byte("y,,n=,r=abc"))
	require.NoError(t, err, "y: the client supports binding, the server does not advertise it")
	_, err = e.Final([]byte("c=biws,r=abcx,p=AAAA"))
	require.ErrorIs(t, err, ErrMalformed, "c=biws is n,, but the header was y,,")
}
