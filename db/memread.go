package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"slices"
	"sync/atomic"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/storage/viewstore"
)

// Reads of views from memory. A read flushes every acknowledged tick to the view store
// first (flushForRead), which puts the flush, tens of milliseconds of DuckDB writes, on
// the path of every read that follows a write. A read that names only views does not
// need the store: the views' current rows are in memory (their bags), at one tick for
// all of them. Such a read takes a snapshot of those bags under the views lock (their
// mirrors, mirror.go), lends it to DuckDB as weir_batch(token) (viewstore.LendBatches),
// and runs the same query with each view's name replaced by its snapshot. DuckDB computes the answer as it would over the tables
// (the snapshot has the tables' column types), and the flush stays in the background.
//
// The replacing is done by rewriteNumericFrom, which already replaces each reference to
// a view with plain numeric columns by a subquery over its table; it counts the
// references it replaced, and a read whose count is not memViews' goes to the store.
//
// A read goes to the store as before when it names anything else (a source, a table, a
// catalog relation, a schema-qualified name, a CTE with a view's name), when the views
// hold more than memReadMaxRows indexed rows in all (an insert-only view's unindexed
// chunks are lent as they are, whatever their size), when a view's column type is not
// one weir_batch writes, or when a view has a plain numeric column whose scale bound
// (numshape.go) has not yet been read from the store.

// memReadMaxRows is the most indexed rows the views of one read may hold for it to be
// served from memory: a view's first read makes its mirror (mirror.go), a copy of every
// row, under the views lock, and the mirror is as large again as the view's columns.
var memReadMaxRows = 1 << 20 // a variable for tests

// memReadsOff sends every read to the store (tests compare the two paths).
var memReadsOff atomic.Bool

// memViews returns the views sql reads, and how many times it names them, when it reads
// nothing but views named without a schema (CTEs aside); nil otherwise. sql is a read
// after the catalog rewrite.
func (d *DB) memViews(sql string) (views []string, refs int) {
	tree, err := pg_query.Parse(sql)
	if err != nil || len(tree.Stmts) != 1 || tree.Stmts[0].Stmt.GetSelectStmt() == nil {
		return nil, 0
	}
	var (
		rvs  []*pg_query.RangeVar
		ctes = map[string]bool{}
	)
	walkMessages(tree.ProtoReflect(), func(m proto.Message) {
		switch v := m.(type) {
		case *pg_query.RangeVar:
			rvs = append(rvs, v)
		case *pg_query.CommonTableExpr:
			ctes[v.Ctename] = true
		}
	})
	for _, rv := range rvs {
		if rv.Schemaname != "" || rv.Catalogname != "" {
			return nil, 0
		}
		rel, err := d.cat.Get(rv.Relname)
		switch {
		case err == nil && ctes[rv.Relname]:
			return nil, 0 // a CTE named as a view: which one a name means is for DuckDB to say
		case ctes[rv.Relname]:
			continue
		case err != nil || rel.Kind != catalog.View:
			return nil, 0
		}
		refs++
		if !slices.Contains(views, rv.Relname) {
			views = append(views, rv.Relname)
		}
	}
	return views, refs
}

// lentViews is a read's snapshot of its views, lent to DuckDB.
type lentViews struct {
	views    map[string]lentView // by view name
	releases []func()
}

// lentView is one view of a read's snapshot.
type lentView struct {
	token  int64 // the weir_batch token of its rows
	rel    *catalog.Relation
	ints   []bool              // its plain numeric columns lent as DECIMAL(18,0)
	shapes map[string]colShape // its plain numeric columns' scale bounds, taken with the rows
	rows   int                 // the snapshot's rows
}

// shapesFor is d.shapes for a relation the read names: for a lent view, the bounds
// taken with its rows. l may be nil.
func (l *lentViews) shapesFor(ctx context.Context, d *DB, rel *catalog.Relation, plain []catalog.Column) (map[string]colShape, error) {
	v, ok := l.view(rel.Name)
	if !ok || v.rel.ID != rel.ID {
		return d.shapes(ctx, rel, plain)
	}
	for _, col := range plain {
		if err := checkShape(rel, col, v.shapes[col.Name]); err != nil {
			return nil, err
		}
	}
	return v.shapes, nil
}

// view returns the lent view name; l may be nil.
func (l *lentViews) view(name string) (lentView, bool) {
	if l == nil {
		return lentView{}, false
	}
	v, ok := l.views[name]
	return v, ok
}

// lentInt reports whether column col of the lent view name is a plain numeric lent as
// DECIMAL(18,0) (its values are integers of at most 18 digits): the read takes its text
// as CAST(col AS VARCHAR), which is the same text. l may be nil.
func (l *lentViews) lentInt(name string, col int) bool {
	v, _ := l.view(name)
	return col < len(v.ints) && v.ints[col]
}

// token returns the weir_batch token of the view name's snapshot; l may be nil.
func (l *lentViews) token(name string) (int64, bool) {
	v, ok := l.view(name)
	return v.token, ok
}

// errNotLent is a read that named a lent view where its text could not be rewritten to
// read the snapshot: it goes to the store.
var errNotLent = errors.New("the read does not name only lent views")

func (l *lentViews) release() {
	for _, r := range l.releases {
		r()
	}
	l.releases = nil
}

// lendViews snapshots the named views at the current tick and lends them to DuckDB; nil
// when the read must go to the store instead (see above). Under the views lock
// (tickLock.readViews) it takes each indexed bag's columnar mirror (mirror.go; made at
// the bag's first read), or an unindexed bag's chunks, which the bag does not modify
// until the read is over; DuckDB reads them while ticks go on. View i is lent under
// slots[i] (viewstore.NewSlot), or under a token of its own when slots is nil.
func (d *DB) lendViews(names []string, slots []int64) *lentViews {
	if memReadsOff.Load() {
		return nil
	}
	held := make([][]*delta.Batch, len(names)) // bag.held
	unheld := make([]func(), len(names))
	rels := make([]*catalog.Relation, len(names))
	ints := make([][]bool, len(names))
	shapes := make([]map[string]colShape, len(names))
	if !func() bool {
		defer d.mu.readViews()() // not waiting for a tick's dataflow, only for its apply
		if d.recovering || d.replaying {
			return false
		}
		total := 0
		for i, name := range names {
			v, ok := d.views[name]
			if !ok || !viewstore.CanLend(v.rel.Columns) {
				return false
			}
			if shapes[i], ints[i], ok = d.lentShapes(v.rel); !ok {
				return false
			}
			total += v.rows.indexedLen()
		}
		if total > memReadMaxRows {
			return false
		}
		for i, name := range names {
			v := d.views[name]
			held[i], unheld[i] = v.rows.held(ints[i])
			rels[i] = v.rel
		}
		return true
	}() {
		return nil
	}
	l := &lentViews{views: make(map[string]lentView, len(names))}
	for i, name := range names {
		var (
			slot    int64
			token   int64
			release func()
			ok      bool
		)
		if slots != nil {
			slot = slots[i]
		}
		token, release, ok = d.store.LendBatches(slot, rels[i].Columns, held[i], ints[i])
		if !ok {
			for _, u := range unheld[i:] {
				u()
			}
			l.release()
			return nil
		}
		v := lentView{token: token, rel: rels[i], ints: ints[i], shapes: shapes[i]}
		for _, b := range held[i] {
			v.rows += b.Len()
		}
		l.views[name] = v
		l.releases = append(l.releases, release, unheld[i])
	}
	return l
}

// lentShapes returns the scale bounds (numshape.go) of rel's plain numeric columns, and
// marks those whose bound is scale 0 and at most 18 digits: every value is then an
// integer DECIMAL(18,0) holds (ints is nil when there is none). ok is false when rel has
// a plain numeric column and its bound does not yet cover the store's rows. The caller
// holds the views lock, so the bounds cover the bags' rows (a tick notes a view's
// bounds as it folds its changes in, under that lock), and a read's text uses them, not
// later ones, which may be wider.
func (d *DB) lentShapes(rel *catalog.Relation) (shapes map[string]colShape, ints []bool, ok bool) {
	if !slices.ContainsFunc(rel.Columns, isPlainNumeric) {
		return nil, nil, true
	}
	c := &d.numShapes
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.rels[rel.ID]
	if !ok || !e.known {
		return nil, nil, false
	}
	shapes = make(map[string]colShape)
	for i, col := range rel.Columns {
		if !isPlainNumeric(col) {
			continue
		}
		sh := e.shape[col.Name]
		shapes[col.Name] = sh
		if sh.scale == 0 && sh.intDigits <= 18 {
			if ints == nil {
				ints = make([]bool, len(rel.Columns))
			}
			ints[i] = true
		}
	}
	return shapes, ints, true
}

// readFromMemory runs rp from the lent snapshots of its views; ok is false when it must
// go to the store. It runs on a kept connection when one is free (memstmt.go).
func (d *DB) readFromMemory(ctx context.Context, rp *readPlan, args []any) (rows *Rows, ok bool, err error) {
	mc := d.takeMemConn(ctx)
	var slots []int64
	if mc != nil {
		slots = mc.slotsFor(len(rp.views))
	}
	l := d.lendViews(rp.views, slots)
	if l == nil {
		if mc != nil {
			d.giveMemConn(mc, false)
		}
		return nil, false, nil
	}
	fail := func(err error) (*Rows, bool, error) {
		l.release()
		if mc != nil {
			d.giveMemConn(mc, errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone))
		}
		if errors.Is(err, errNotLent) {
			return nil, false, nil
		}
		return nil, true, err
	}
	if mc == nil {
		q, err := d.readText(ctx, rp, args, l)
		if err != nil {
			return fail(err)
		}
		d.memReads.Add(1)
		duck, err := d.queryDuck(ctx, q, args, len(rp.columns), l.release)
		if err != nil {
			return fail(duckErr(err)) // queryDuck failed before it ran the query (it releases once it has)
		}
		return &Rows{cols: rp.columns, duck: duck, conv: rp.conv}, true, nil
	}
	key, err := memKey(rp, l, args)
	if err != nil {
		return fail(err)
	}
	st := mc.stmts[key]
	if st == nil {
		q, err := d.readText(ctx, rp, args, l)
		if err != nil {
			return fail(err)
		}
		if st, err = mc.prepare(ctx, key, q); err != nil {
			return fail(duckErr(err))
		}
		d.memPrepares.Add(1)
	}
	d.memReads.Add(1)
	query := func(dc any) (driver.Rows, error) { return mc.query(ctx, dc, key, st, args) }
	duck, err := runDuck(ctx, mc.conn, query, len(rp.columns), l.release, func(err error) { d.giveMemConn(mc, err != nil) })
	if err != nil {
		l.release() // runDuck failed before it ran the query (it releases once it has)
		return nil, true, duckErr(err)
	}
	return &Rows{cols: rp.columns, duck: duck, conv: rp.conv}, true, nil
}
