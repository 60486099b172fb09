package slt_test

import (
	"testing"

	"github.com/weirdb/weir/internal/pgtest"
	"github.com/weirdb/weir/internal/slt"
)

// TestRunFilePostgres runs testdata/pg_sanity.slt against a real PostgreSQL 15, over pgx's
// simple protocol, as the slt suites will.
func TestRunFilePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("-short skips slt scripts (STYLE §2.7)")
	}
	pg := pgtest.Start(t)
	target, err := slt.NewPGXTarget(t.Context(), pg.DSN(), "postgres")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = target.Close(t.Context()) })

	slt.RunFile(t, target, "testdata/pg_sanity.slt")
}

// TestPGTarget runs testdata/pg_target.slt, written in Weir's dialect, against PostgreSQL
// 15 through PGTarget: sources become tables and materialized views are refreshed before
// each query.
func TestPGTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("-short skips slt scripts (STYLE §2.7)")
	}
	pg := pgtest.Start(t)
	target, err := slt.NewPGTarget(t.Context(), pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = target.Close(t.Context()) })
	if target.Name() != "postgres" {
		t.Errorf("Name() = %q, want postgres", target.Name())
	}

	slt.RunFile(t, target, "testdata/pg_target.slt")
}
