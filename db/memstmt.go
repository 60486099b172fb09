package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/weirdb/weir/storage/viewstore"
)

// Reads from memory run statements DuckDB has prepared once. A read from memory names
// a new weir_batch token each time, so each read had DuckDB parse, bind and plan its
// text again, and Weir rewrite it (0.5–0.9 ms): BenchmarkViewRead, a read of 90k groups
// its client prepared once, took 6.1–7.6 ms so, and takes 4.3–5.0 ms as below. Instead, a few DuckDB connections are kept for these
// reads (memConns), each with weir_batch slots of its own (viewstore.NewSlot): a read
// on such a connection lends its i-th view under the connection's i-th slot, whose
// rows a statement prepared once reads anew each time it runs. The connection keeps
// its statements by what their text was made of (memKey), so that a read whose key it
// has seen runs the statement it prepared then, without a rewrite. A read that finds
// every kept connection busy takes one of its own, as before.

const (
	memConnsMax = 4  // connections kept for reads from memory
	memStmtsMax = 32 // statements each keeps, the least recently run evicted first
)

// memConns are the connections kept for reads from memory.
type memConns struct {
	mu     sync.Mutex
	idle   []*memConn
	open   int  // idle and taken
	closed bool // DB.Close: a connection given back is closed
}

// memConn is a DuckDB connection kept for reads from memory, with its slots and the
// statements it has prepared. One read has it at a time.
type memConn struct {
	conn  *sql.Conn
	slots []int64
	stmts map[string]*memStmt
	clock uint64 // runs so far, for eviction
}

// memStmt is a statement prepared on a memConn.
type memStmt struct {
	stmt driver.Stmt
	used uint64 // the clock at its last run
}

// takeMemConn returns an idle kept connection, or opens one while fewer than
// memConnsMax are open; nil when the read must take a connection of its own.
func (d *DB) takeMemConn(ctx context.Context) *memConn {
	p := &d.memConns
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		mc := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return mc
	}
	if p.closed || p.open >= memConnsMax {
		p.mu.Unlock()
		return nil
	}
	p.open++
	p.mu.Unlock()
	conn, err := d.store.DB().Conn(ctx)
	if err != nil {
		p.mu.Lock()
		p.open--
		p.mu.Unlock()
		return nil
	}
	return &memConn{conn: conn, stmts: map[string]*memStmt{}}
}

// giveMemConn gives mc back once its read is over; bad (the connection failed) closes it.
func (d *DB) giveMemConn(mc *memConn, bad bool) {
	p := &d.memConns
	p.mu.Lock()
	if !bad && !p.closed {
		p.idle = append(p.idle, mc)
		p.mu.Unlock()
		return
	}
	p.open--
	p.mu.Unlock()
	mc.close()
}

// closeMemConns closes the idle kept connections, and has the taken ones closed when
// given back; DB.Close calls it before it closes the store.
func (d *DB) closeMemConns() {
	p := &d.memConns
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.open -= len(idle)
	p.mu.Unlock()
	for _, mc := range idle {
		mc.close()
	}
}

func (mc *memConn) close() {
	_ = mc.conn.Raw(func(any) error {
		for _, st := range mc.stmts {
			_ = st.stmt.Close()
		}
		return nil
	})
	mc.stmts = nil
	_ = mc.conn.Close()
}

// slotsFor returns mc's first n slots.
func (mc *memConn) slotsFor(n int) []int64 {
	for len(mc.slots) < n {
		mc.slots = append(mc.slots, viewstore.NewSlot())
	}
	return mc.slots[:n]
}

// prepare prepares q on mc under key, evicting the least recently run statement when
// mc holds memStmtsMax.
func (mc *memConn) prepare(ctx context.Context, key, q string) (*memStmt, error) {
	var st *memStmt
	err := mc.conn.Raw(func(dc any) error {
		pc, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return errors.New("the DuckDB driver connection cannot prepare")
		}
		if len(mc.stmts) >= memStmtsMax {
			oldest := ""
			for k, s := range mc.stmts {
				if oldest == "" || s.used < mc.stmts[oldest].used {
					oldest = k
				}
			}
			_ = mc.stmts[oldest].stmt.Close()
			delete(mc.stmts, oldest)
		}
		stmt, err := pc.PrepareContext(ctx, q)
		if err != nil {
			return err
		}
		st = &memStmt{stmt: stmt}
		mc.stmts[key] = st
		return nil
	})
	return st, err
}

// drop closes and forgets the statement under key (it failed: it is prepared again
// next time, rather than trusted).
func (mc *memConn) drop(key string) {
	if st, ok := mc.stmts[key]; ok {
		_ = st.stmt.Close()
		delete(mc.stmts, key)
	}
}

// query runs st, kept under key, with args on the driver connection dc.
func (mc *memConn) query(ctx context.Context, dc any, key string, st *memStmt, args []any) (driver.Rows, error) {
	mc.clock++
	st.used = mc.clock
	named, err := namedValues(dc, args)
	if err != nil {
		return nil, err
	}
	sq, ok := st.stmt.(driver.StmtQueryContext)
	if !ok {
		return nil, errors.New("the DuckDB statement cannot query")
	}
	rows, err := sq.QueryContext(ctx, named)
	if err != nil {
		mc.drop(key)
	}
	return rows, err
}

// memKey is what the text of rp's read from l with args is made of: the read as the
// client's text became, its declared parameter types, each numeric parameter's cast,
// and each view's relation and the scale bounds of its plain numeric columns (which
// make its DuckDB types, and which of them are lent as integers). The slots, the rest
// of the text, are the connection's.
//
// It also holds each view's row count to within a factor of 4: DuckDB plans a
// statement (a join's build side, say) for the counts it was prepared with, and a read
// of views that have grown or shrunk past that is planned anew. A sum's digit count and
// its views' sizes change rarely once a stream is flowing.
func memKey(rp *readPlan, l *lentViews, args []any) (string, error) {
	casts, err := numericParamCasts(rp.params, args)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(rp.base)
	b.WriteByte(0)
	for _, oid := range rp.declared {
		b.WriteString(strconv.FormatUint(uint64(oid), 10))
		b.WriteByte(',')
	}
	for _, name := range rp.views {
		v := l.views[name]
		b.WriteByte(0)
		b.WriteString(strconv.FormatUint(v.rel.ID, 10))
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(bits.Len(uint(v.rows)) / 2))
		for _, col := range v.rel.Columns {
			if sh, ok := v.shapes[col.Name]; ok {
				b.WriteByte(' ')
				b.WriteString(strconv.Itoa(sh.scale))
				b.WriteByte('.')
				b.WriteString(strconv.Itoa(sh.intDigits))
			}
		}
	}
	b.WriteByte(0)
	ns := make([]int, 0, len(casts))
	for n := range casts {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	for _, n := range ns {
		b.WriteString(strconv.Itoa(n))
		b.WriteByte('=')
		b.WriteString(casts[n])
		b.WriteByte(',')
	}
	return b.String(), nil
}
