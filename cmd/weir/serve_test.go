package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/server/pgwire"
)

func TestServeSecurityFlags(t *testing.T) {
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	require.NoError(t, os.WriteFile(users, []byte("# roles\nanalyst:pa:ss\n\nweir:SCRAM-SHA-256$4096:c2FsdA==$a:b\r\n"), 0o600))
	t.Setenv("WEIR_PASSWORD", "fromenv")

	f := serveFlags{auth: "scram", users: users}
	cfg, got, err := f.security()
	require.NoError(t, err)
	require.Equal(t, pgwire.AuthSCRAM, cfg.PGAuth)
	require.Nil(t, cfg.PGTLS)
	require.Equal(t, []userEntry{{"analyst", "pa:ss"}, {"weir", "SCRAM-SHA-256$4096:c2FsdA==$a:b"}}, got, "--users-file wins over WEIR_PASSWORD")

	_, got, err = (&serveFlags{}).security()
	require.NoError(t, err)
	require.Equal(t, []userEntry{{"weir", "fromenv"}}, got)

	for _, bad := range []serveFlags{{auth: "md5"}, {tlsCert: "x.crt"}, {tlsCert: "no.crt", tlsKey: "no.key"}, {users: filepath.Join(dir, "missing")}} {
		_, _, err := bad.security()
		require.Error(t, err, "%+v", bad)
	}
	require.NoError(t, os.WriteFile(users, []byte("nocolon\n"), 0o600))
	_, _, err = (&serveFlags{users: users}).security()
	require.ErrorContains(t, err, "line 1")
}
