package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Batch sizes. A batch costs one hand-over between the goroutines, so batches must be
// large: duckBatchValues values (1024 rows of 4 columns), and not larger so that a wide
// result's batches stay small. The first batch has duckFirstBatchRows rows and each
// next one twice as many, up to that size, so that a small result (a catalog query, a
// single row) allocates little and the first rows go out early.
const (
	duckBatchValues    = 4096
	duckFirstBatchRows = 16
)

// duckRows reads a DuckDB result below database/sql, whose Rows.Next and Scan cost a
// lock, a context check and a convertAssign per row and value (issue #6). DuckDB's
// driver.Rows fills a []driver.Value per row directly.
//
// database/sql lends a driver connection only for the duration of (*sql.Conn).Raw's
// callback, so the reading runs in that callback, on a goroutine of its own (the
// producer): it fills batches of rows and hands them to Next over batches, and takes
// them back over free. Two batches circulate, so the producer fills one while the
// consumer sends the other. The producer owns the sql.Conn, and ends, closing the rows
// and the connection, after the last batch, when close asks it to (done) or when the
// read's context ends.
type duckRows struct {
	cols    int
	batches chan *duckBatch // filled batches, producer → consumer
	free    chan *duckBatch // emptied batches, consumer → producer
	done    chan struct{}   // closed by close: the producer stops
	exited  chan struct{}   // closed by the producer when it has released everything
	once    sync.Once

	cur *duckBatch // the batch Next reads, owned by the consumer
	pos int
}

// duckBatch is up to rows rows of a result, row-major in vals.
type duckBatch struct {
	vals []driver.Value
	n    int   // rows in vals
	last bool  // no batch follows this one
	err  error // why the result ended, when last; nil at its end
}

// queryDuck runs q with args on a connection of its own and returns its rows once
// DuckDB has computed the result (runRead relies on that), or the error that stopped
// it. cols is the number of result columns. release, when not nil, runs once the query
// has been bound and run (what it lent DuckDB may be withdrawn then).
func (d *DB) queryDuck(ctx context.Context, q string, args []any, cols int, release func()) (*duckRows, error) {
	conn, err := d.store.DB().Conn(ctx)
	if err != nil {
		return nil, err
	}
	query := func(dc any) (driver.Rows, error) { return queryDriver(ctx, dc, q, args) }
	return runDuck(ctx, conn, query, cols, release, func(error) { conn.Close() })
}

// runDuck is queryDuck's work on conn, which query runs the statement on; done is
// called with conn's last error once the rows are read and closed (conn is done's).
func runDuck(ctx context.Context, conn *sql.Conn, query func(dc any) (driver.Rows, error), cols int, release func(), done func(error)) (*duckRows, error) {
	per := max(1, duckBatchValues/max(cols, 1))
	r := &duckRows{
		cols:    cols,
		batches: make(chan *duckBatch, 3), // both batches and produce's last word
		free:    make(chan *duckBatch, 2),
		done:    make(chan struct{}),
		exited:  make(chan struct{}),
	}
	for range 2 {
		r.free <- &duckBatch{} // vals are allocated as produce needs them
	}
	if release == nil {
		release = func() {}
	}
	release = sync.OnceFunc(release)
	opened := make(chan error, 1)
	go func() {
		defer close(r.exited)
		sent := false
		err := conn.Raw(func(dc any) error {
			rows, err := query(dc)
			release() // the query has bound what it reads
			if err == nil && len(rows.Columns()) != cols {
				// The read was described with other columns (database/sql's Scan
				// reported the same).
				err = fmt.Errorf("sql: expected %d destination arguments in Scan, not %d", len(rows.Columns()), cols)
				rows.Close()
			}
			sent = true
			opened <- err
			if err != nil {
				return nil
			}
			defer rows.Close()
			r.produce(ctx, rows, per)
			return nil
		})
		release()
		if !sent {
			opened <- err
		}
		done(err)
	}()
	if err := <-opened; err != nil {
		<-r.exited
		return nil, err
	}
	return r, nil
}

// queryDriver runs q on the driver connection dc, with args converted as database/sql
// converts them (the driver's NamedValueChecker, else the default converter).
func queryDriver(ctx context.Context, dc any, q string, args []any) (driver.Rows, error) {
	qc, ok := dc.(driver.QueryerContext)
	if !ok {
		return nil, errors.New("the DuckDB driver connection cannot query")
	}
	named, err := namedValues(dc, args)
	if err != nil {
		return nil, err
	}
	return qc.QueryContext(ctx, q, named)
}

// namedValues converts args for the driver connection dc as database/sql would.
func namedValues(dc any, args []any) ([]driver.NamedValue, error) {
	named := make([]driver.NamedValue, len(args))
	checker, _ := dc.(driver.NamedValueChecker)
	for i, a := range args {
		nv := driver.NamedValue{Ordinal: i + 1, Value: a}
		err := driver.ErrSkip
		if checker != nil {
			err = checker.CheckNamedValue(&nv)
		}
		if errors.Is(err, driver.ErrSkip) {
			nv.Value, err = driver.DefaultParameterConverter.ConvertValue(a)
		}
		if err != nil {
			return nil, err
		}
		named[i] = nv
	}
	return named, nil
}

// produce fills batches of up to per rows (growing to it, see duckFirstBatchRows) from
// rows until the result ends, ctx is cancelled (the last batch then carries ctx's error,
// as database/sql's Rows reported it) or close is called.
func (r *duckRows) produce(ctx context.Context, rows driver.Rows, per int) {
	size := min(per, duckFirstBatchRows)
	for ; ; size = min(per, 2*size) {
		var b *duckBatch
		select {
		case b = <-r.free:
		case <-r.done:
			return
		case <-ctx.Done():
			// The consumer holds both batches and may never come back (its
			// connection is gone): end the result with a batch of its own, for which
			// batches has room, and release the connection now.
			r.batches <- &duckBatch{last: true, err: ctx.Err()}
			return
		}
		b.n = 0
		if len(b.vals) < size*r.cols {
			b.vals = make([]driver.Value, size*r.cols)
		}
		if err := ctx.Err(); err != nil {
			b.last, b.err = true, err
		}
		for !b.last && b.n < size {
			if err := rows.Next(b.vals[b.n*r.cols : (b.n+1)*r.cols]); err != nil {
				b.last = true
				if !errors.Is(err, io.EOF) {
					b.err = err
				}
				break
			}
			b.n++
		}
		select {
		case r.batches <- b:
		case <-r.done:
			return
		}
		if b.last {
			return
		}
	}
}

// next returns the next row's values, valid until the following call, or ok=false at
// the end, with the error that ended the result, if any.
func (r *duckRows) next() (row []driver.Value, ok bool, err error) {
	for r.cur == nil || r.pos == r.cur.n {
		if r.cur != nil {
			if r.cur.last {
				return nil, false, r.cur.err
			}
			r.free <- r.cur
		}
		r.cur, r.pos = <-r.batches, 0
	}
	row = r.cur.vals[r.pos*r.cols : (r.pos+1)*r.cols]
	r.pos++
	return row, true, nil
}

// close stops the producer and waits until it has closed the result and released the
// connection. It may be called more than once.
func (r *duckRows) close() {
	r.once.Do(func() { close(r.done) })
	<-r.exited
}
