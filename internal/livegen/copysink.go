package livegen

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// CopySink writes events with COPY … FROM STDIN (pgx CopyFrom, binary format) and
// tables with one simple-protocol INSERT … ON CONFLICT (UpsertSQL) per chunk, over one
// connection per worker. `weir gen --copy` and `weir bench` use it.
type CopySink struct {
	conns chan *pgx.Conn
	all   []*pgx.Conn
}

var _ Sink = (*CopySink)(nil)

// NewCopySink opens workers connections to the server at dsn (a PostgreSQL URL or
// keyword/value string, as pgx.Connect takes). The caller closes the sink.
func NewCopySink(ctx context.Context, dsn string, workers int) (*CopySink, error) {
	workers = max(workers, 1)
	s := &CopySink{conns: make(chan *pgx.Conn, workers)}
	for range workers {
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.all = append(s.all, c)
		s.conns <- c
	}
	return s, nil
}

// Close closes every connection. No Upsert or Append may run during or after it.
func (s *CopySink) Close() {
	for _, c := range s.all {
		c.Close(context.Background())
	}
}

// Upsert inserts rows into table t, updating those whose key exists.
func (s *CopySink) Upsert(ctx context.Context, t Schema, rows [][]any) error {
	c := <-s.conns
	defer func() { s.conns <- c }()
	_, err := c.Exec(ctx, UpsertSQL(t, rows), pgx.QueryExecModeSimpleProtocol)
	return err
}

// Append copies rows into source src; it may run on every connection at once.
func (s *CopySink) Append(ctx context.Context, src Schema, rows [][]any) error {
	c := <-s.conns
	defer func() { s.conns <- c }()
	_, err := c.CopyFrom(ctx, pgx.Identifier{src.Name}, src.Names(), pgx.CopyFromRows(rows))
	return err
}
