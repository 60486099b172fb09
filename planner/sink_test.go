package planner

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/sqlerr"
)

func TestSinkStatements(t *testing.T) {
	p := New(catalog.New())
	st, err := p.Plan(`CREATE SINK IF NOT EXISTS "Out" FROM totals WITH (connector = 'postgres', DSN = 'host=x user=''y''', table = 't', key = 'a,b');`, nil)
	require.NoError(t, err)
	cs := st.(*CreateSink)
	require.Equal(t, "Out", cs.Name)
	require.Equal(t, "totals", cs.From)
	require.True(t, cs.IfNotExists)
	require.Equal(t, map[string]string{"connector": "postgres", "dsn": "host=x user='y'", "table": "t", "key": "a,b"}, cs.Options)

	st, err = p.Plan(`drop sink if exists out`, nil)
	require.NoError(t, err)
	require.Equal(t, &DropSink{Name: "out", IfExists: true}, st)
	st, err = p.Plan(`SHOW SINKS`, nil)
	require.NoError(t, err)
	require.IsType(t, &ShowSinks{}, st)

	for _, bad := range []string{
		`CREATE SINK s FROM v`,
		`CREATE SINK s v WITH (connector = 'kafka')`,
		`CREATE SINK s FROM v WITH (connector = kafka)`,
		`CREATE SINK s FROM v WITH (connector = 'kafka'`,
		`CREATE SINK s FROM v WITH (connector = 'kafka', connector = 'postgres')`,
		`DROP SINK a, b`,
	} {
		_, err := p.Plan(bad, nil)
		require.Error(t, err, bad)
		require.Equal(t, sqlerr.SyntaxError, sqlerr.CodeOf(err), bad)
	}
}
