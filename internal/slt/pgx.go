package slt

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// PGXTarget runs scripts over one pgx connection with the simple query protocol, so every
// value arrives in the server's text format and is compared exactly as sent. Errors from
// the server are *pgconn.PgError, which carries the SQLSTATE.
type PGXTarget struct {
	name string
	conn *pgx.Conn
}

// NewPGXTarget connects to dsn. Name is the target's name for skipif and onlyif.
func NewPGXTarget(ctx context.Context, dsn, name string) (*PGXTarget, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("slt: %w", err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("slt: connecting to %s target: %w", name, err)
	}
	return &PGXTarget{name: name, conn: conn}, nil
}

// Name returns the name given to NewPGXTarget.
func (p *PGXTarget) Name() string { return p.name }

// Exec runs sql and discards any rows.
func (p *PGXTarget) Exec(ctx context.Context, sql string) error {
	_, err := p.conn.Exec(ctx, sql)
	return err
}

// Query runs sql and returns its rows rendered by Value.
func (p *PGXTarget) Query(ctx context.Context, sql string) ([][]string, error) {
	rows, err := p.conn.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]string
	for rows.Next() {
		raw := rows.RawValues() // valid until the next call to Next
		row := make([]string, len(raw))
		for i, v := range raw {
			row[i] = Value(v)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// Close closes the connection.
func (p *PGXTarget) Close(ctx context.Context) error { return p.conn.Close(ctx) }
