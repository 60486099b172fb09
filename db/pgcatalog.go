package db

import "context"

// installCatalog creates the PostgreSQL catalog emulation in DuckDB (pg_catalog and
// information_schema as views over Weir's catalog) that psql's \d family, drivers and
// BI tools query. TODO(#6): the emulation itself.
func (d *DB) installCatalog(context.Context) error { return nil }

// rewriteCatalog rewrites a client's read so that DuckDB answers it from the catalog
// emulation (pg_catalog names, PostgreSQL-only casts and functions). TODO(#6).
func (d *DB) rewriteCatalog(sql string) string { return sql }
