package db

import (
	"context"
	"fmt"
	"time"

	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
)

// Cursors (DECLARE / FETCH / MOVE / CLOSE) live in the session. Weir runs every statement
// in autocommit, so each cursor has WITH HOLD semantics: it outlives COMMIT and ROLLBACK
// and ends at CLOSE or when the session does. A cursor over a query reads its rows lazily
// from DuckDB, on a context of its own; a cursor over SUBSCRIBE holds a subscription, and
// FETCH returns the changes that have come, waiting for the first one.
type cursor struct {
	name    string
	sql     string    // the DECLARE statement, as pg_cursors shows it
	created time.Time // for pg_cursors.creation_time
	cols    []Column
	rows    *Rows   // a query's rows; nil for SUBSCRIBE
	stream  *stream // SUBSCRIBE's changes; nil for a query
	cancel  context.CancelFunc
	done    bool // the query's rows are exhausted
}

func (c *cursor) close() {
	if c.rows != nil {
		c.rows.Close()
	}
	if c.stream != nil {
		c.stream.sub.Close()
	}
	c.cancel()
}

func noCursor(name string) error {
	return sqlerr.New(sqlerr.InvalidCursorName, "cursor %q does not exist", name)
}

// prepareCursor describes a cursor statement: FETCH returns the cursor's columns.
func (s *Session) prepareCursor(st planner.Statement) ([]Column, error) {
	f, ok := st.(*planner.Fetch)
	if !ok || f.Move {
		return nil, nil
	}
	c, ok := s.cursors[f.Name]
	if !ok {
		return nil, noCursor(f.Name)
	}
	return c.cols, nil
}

// prepareDeclare prepares a cursor's query with the DECLARE's parameter types, so that
// Describe of DECLARE … FOR SELECT … $1 reports the query's parameters (psycopg's named
// cursors bind them).
func (s *Session) prepareDeclare(ctx context.Context, st *planner.Declare, paramOIDs []uint32) (*Prepared, error) {
	inner, err := s.Prepare(ctx, st.Query, paramOIDs)
	if err != nil {
		return nil, err
	}
	if inner.columns == nil {
		return nil, sqlerr.New("42P11", "DECLARE CURSOR must be a SELECT or SUBSCRIBE")
	}
	return inner, nil
}

// declare opens a cursor over st.Query, prepared as p.inner (again, when the catalog
// changed since), with the parameter values args.
func (s *Session) declare(ctx context.Context, st *planner.Declare, p *Prepared, args []any) (*Rows, error) {
	if _, ok := s.cursors[st.Name]; ok {
		return nil, sqlerr.New("42P03", "cursor %q already exists", st.Name)
	}
	inner := p.inner
	if inner == nil {
		var err error
		if inner, err = s.prepareDeclare(ctx, st, nil); err != nil {
			return nil, err
		}
	} else if err := s.authorize(ctx, inner.st); err != nil { // roles.go, as at Execute
		return nil, err
	}
	if len(args) != len(inner.params) {
		return nil, sqlerr.New(sqlerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement requires %d", len(args), len(inner.params))
	}
	// The cursor outlives this statement, so it reads on a context of its own.
	cctx, cancel := context.WithCancel(context.Background())
	c := &cursor{name: st.Name, sql: p.sql, created: time.Now(), cols: inner.columns, cancel: cancel}
	if sub, ok := inner.st.(*planner.Subscribe); ok {
		rows, err := s.db.subscribeRows(cctx, sub, inner.columns)
		if err != nil {
			cancel()
			return nil, err
		}
		c.stream = rows.stream
	} else {
		rows, err := inner.execute(cctx, args)
		if err != nil {
			cancel()
			return nil, err
		}
		c.rows = rows
	}
	if s.cursors == nil {
		s.cursors = make(map[string]*cursor)
	}
	s.cursors[st.Name] = c
	return tagOnly("DECLARE CURSOR"), nil
}

// fetch returns (or, for MOVE, skips) up to st.Count rows of a cursor.
func (s *Session) fetch(ctx context.Context, st *planner.Fetch, cols []Column) (*Rows, error) {
	c, ok := s.cursors[st.Name]
	if !ok {
		return nil, noCursor(st.Name)
	}
	var out [][]any
	want := st.Count
	if c.stream != nil {
		var err error
		out, err = c.fetchChanges(ctx, want, st.Timeout, st.HasTimeout)
		if err != nil {
			return nil, err
		}
	} else {
		for !c.done && (want < 0 || int64(len(out)) < want) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			row := make([]any, len(c.cols))
			if !c.rows.Next(row) {
				if err := c.rows.Err(); err != nil {
					return nil, err
				}
				c.done = true
				break
			}
			out = append(out, row)
		}
	}
	if st.Move {
		return tagOnly(fmt.Sprintf("MOVE %d", len(out))), nil
	}
	return staticRows(cols, out, fmt.Sprintf("FETCH %d", len(out))), nil
}

// fetchChanges takes up to want change rows (all that have come when want < 0) from a
// SUBSCRIBE cursor. When none is waiting it blocks for the first: at most timeout when
// hasTimeout, else until one comes or ctx ends.
func (c *cursor) fetchChanges(ctx context.Context, want int64, timeout time.Duration, hasTimeout bool) ([][]any, error) {
	st := c.stream
	var deadline <-chan time.Time
	if hasTimeout {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	for len(st.pending) == 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-deadline:
			return nil, nil
		case ch, ok := <-st.sub.C:
			if !ok {
				if err := st.sub.Err(); err != nil {
					return nil, err
				}
				return nil, sqlerr.New(sqlerr.QueryCanceled, "the subscription ended")
			}
			st.queue(ch.Tick, ch.Rows)
		}
	}
	// Take what else has already come, without waiting.
	for more := true; more && (want < 0 || int64(len(st.pending)) < want); {
		select {
		case ch, ok := <-st.sub.C:
			if !ok {
				more = false
				break
			}
			st.queue(ch.Tick, ch.Rows)
		default:
			more = false
		}
	}
	n := int64(len(st.pending))
	if want >= 0 && want < n {
		n = want
	}
	out := st.pending[:n:n]
	st.pending = st.pending[n:]
	return out, nil
}

// closeCursor is CLOSE name | ALL.
func (s *Session) closeCursor(st *planner.CloseCursor) (*Rows, error) {
	if st.Name == "" {
		s.closeCursors()
		return tagOnly("CLOSE CURSOR ALL"), nil
	}
	c, ok := s.cursors[st.Name]
	if !ok {
		return nil, noCursor(st.Name)
	}
	c.close()
	delete(s.cursors, st.Name)
	return tagOnly("CLOSE CURSOR"), nil
}

// closeCursors closes every cursor of the session.
func (s *Session) closeCursors() {
	for name, c := range s.cursors {
		c.close()
		delete(s.cursors, name)
	}
}
