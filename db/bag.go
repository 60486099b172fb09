package db

import (
	"slices"
	"strconv"
	"strings"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/storage/viewstore"
)

// bag is a multiset of rows held in memory and mirrored in one DuckDB table: a view's
// contents, or the row errors that stand in the views.
//
// Rows are found by the encoding of their key columns: a view's unique key (the GROUP BY
// columns of an aggregate view), so that a group whose row changes keeps its entry and
// the retraction and insertion a tick makes of it cost one short lookup each; or the
// whole row, for a bag without one. Rows that share a key are chained: a keyed bag holds
// one row per key after a tick, but a tick's changes may insert a key's new row before
// they retract the old one. The key only has to be a good hash: two different rows of
// one key are two entries of the chain, so the bag is exact whatever the key.
type bag struct {
	kinds []delta.Kind
	key   []int // the key columns; nil: the whole row
	rows  map[string]*countedRow
	n     int // the rows with a positive multiplicity (counted once each)
}

type countedRow struct {
	key  string // the row's key in rows, kept so touching it allocates nothing
	row  []delta.Value
	n    int64
	next *countedRow // the next row of the same key
}

// touchedRows lists, by key, the rows of a bag whose multiplicity a tick changed (a key
// may repeat): what the next flush rewrites with the key's rows as they are then.
type touchedRows struct {
	bag  *bag // the bag of the first rows (the error bags of several views share one list)
	keys []string
	rows []*countedRow
}

func (t *touchedRows) Len() int {
	if t == nil {
		return 0
	}
	return len(t.keys)
}

// newBag returns an empty bag of rows of kinds, found by the key columns (nil: the
// whole row).
func newBag(kinds []delta.Kind, key []int) *bag {
	return &bag{kinds: kinds, key: key, rows: map[string]*countedRow{}}
}

// each calls f for every row with a positive multiplicity.
func (g *bag) each(f func(r *countedRow)) {
	for _, head := range g.rows {
		for r := head; r != nil; r = r.next {
			if r.n > 0 {
				f(r)
			}
		}
	}
}

// contents returns the rows as insertions.
func (g *bag) contents() *delta.Batch {
	b := delta.New(g.kinds)
	b.Grow(g.n)
	g.each(func(r *countedRow) { b.AppendRow(r.row, r.n) })
	return b
}

// held returns the rows with their multiplicities now, in no order. The rows are the
// bag's own, which it never modifies (it replaces them).
func (g *bag) held() []viewstore.LentRow {
	out := make([]viewstore.LentRow, 0, g.n)
	g.each(func(r *countedRow) { out = append(out, viewstore.LentRow{Values: r.row, N: r.n}) })
	return out
}

// appendKey appends the key encoding of changes' row i.
func (g *bag) appendKey(dst []byte, changes *delta.Batch, i int) []byte {
	if g.key == nil {
		return changes.AppendKey(dst, i)
	}
	for _, c := range g.key {
		dst = changes.Cols[c].AppendKeyAt(dst, i)
	}
	return dst
}

// rowKey appends the key encoding of row.
func (g *bag) rowKey(dst []byte, row []delta.Value) []byte {
	if g.key == nil {
		for _, v := range row {
			dst = delta.AppendValueKey(dst, v)
		}
		return dst
	}
	for _, c := range g.key {
		dst = delta.AppendValueKey(dst, row[c])
	}
	return dst
}

// apply folds a change batch into the bag and adds every row whose multiplicity changed
// to touched (when not nil).
func (g *bag) apply(changes *delta.Batch, touched *touchedRows) {
	if touched == nil {
		touched = &touchedRows{}
	}
	if touched.bag == nil {
		touched.bag = g
	}
	first := len(touched.rows)
	touched.keys = slices.Grow(touched.keys, changes.Len())
	touched.rows = slices.Grow(touched.rows, changes.Len())
	// An aggregate retracts a group's old row just before it inserts the new one: a row
	// of the previous row's key reuses its lookup (the chain's head stays put until the
	// end: rows are added behind it, and unlinked after the loop).
	var key, prev []byte
	var head *countedRow
	for i := 0; i < changes.Len(); i++ {
		w := changes.Weights[i]
		if w == 0 {
			continue
		}
		key = g.appendKey(key[:0], changes, i)
		if head == nil || string(key) != string(prev) {
			head = g.rows[string(key)]
			prev = append(prev[:0], key...)
		}
		var r, free *countedRow
		for x := head; x != nil; x = x.next {
			if changes.RowEqual(i, x.row) {
				r = x
				break
			}
			if x.n == 0 && free == nil {
				free = x
			}
		}
		switch {
		case r != nil:
		case free != nil:
			// A row of the key this batch took out: its entry takes the new row.
			r = free
			r.row = changes.Row(i, nil)
		default:
			r = &countedRow{row: changes.Row(i, nil)}
			if head == nil {
				r.key = string(key)
				g.rows[r.key] = r
				head = r
			} else {
				r.key = head.key
				r.next, head.next = head.next, r
			}
		}
		before := r.n
		r.n += w
		switch {
		case before <= 0 && r.n > 0:
			g.n++
		case before > 0 && r.n <= 0:
			g.n--
		}
		touched.keys = append(touched.keys, r.key)
		touched.rows = append(touched.rows, r)
	}
	// Rows whose multiplicity fell to 0 leave the bag. A later touch of one finds it by
	// key and sees it gone (touched).
	for _, r := range touched.rows[first:] {
		if r.n <= 0 {
			g.unlink(r)
		}
	}
}

// unlink removes r from its key's chain, if it is still there.
func (g *bag) unlink(r *countedRow) {
	head := g.rows[r.key]
	if head == r {
		if r.next == nil {
			delete(g.rows, r.key)
		} else {
			g.rows[r.key] = r.next
		}
		return
	}
	for x := head; x != nil; x = x.next {
		if x.next == r {
			x.next = r.next
			return
		}
	}
}

// current appends to dst every row of key with its multiplicity now, or, when the key
// has none, like (a row the key had) with multiplicity 0.
func (g *bag) current(dst []viewstore.LentRow, key string, like *countedRow) []viewstore.LentRow {
	n := len(dst)
	for r := g.rows[key]; r != nil; r = r.next {
		if r.n > 0 {
			dst = append(dst, viewstore.LentRow{Values: r.row, N: r.n})
		}
	}
	if len(dst) == n {
		dst = append(dst, viewstore.LentRow{Values: like.row})
	}
	return dst
}

// bagRows are the rows of a bag's touched keys as a flush found them: each with its
// multiplicity then, or with 0 for a key that had none left.
type bagRows struct {
	kinds []delta.Kind
	key   []int // the bag's key columns; nil: the whole row
	rows  []viewstore.LentRow
}

// writeBag mirrors touched rows into rel's DuckDB table: every row with the key of a
// touched row is deleted, then the rows the keys have now are inserted (a row held n
// times, n times). For a bag keyed by the whole row, that is every copy of each touched
// row; for one keyed by a view's unique key, the same rows (the row a key had is
// touched too, being retracted) found by fewer, narrower columns.
func writeBag(tx storeWriter, rel *catalog.Relation, touched *bagRows) error {
	if len(touched.rows) == 0 {
		return nil
	}
	b := delta.New(touched.kinds)
	b.Grow(len(touched.rows))
	for _, r := range touched.rows {
		b.AppendRow(r.Values, r.N)
	}
	key := touched.key
	if key == nil {
		key = make([]int, len(rel.Columns))
		for i := range key {
			key[i] = i
		}
	}
	if err := tx.DeleteMatching(rel, key, touchedKeys(b, key)); err != nil {
		return err
	}
	live := delta.New(b.Kinds())
	for i := 0; i < b.Len(); i++ {
		switch w := b.Weights[i]; {
		case w > 0:
			live.AppendFrom(b, i, w)
		case w < 0:
			return sqlerr.New(sqlerr.Internal, "internal error: %s would hold a row %d times", rel.Name, w)
		}
	}
	return tx.Insert(rel, live)
}

// touchedKeys returns the distinct values of the key columns of the touched rows, as a
// batch of those columns.
func touchedKeys(touched *delta.Batch, key []int) *delta.Batch {
	kinds := make([]delta.Kind, len(key))
	for j, c := range key {
		kinds[j] = touched.Cols[c].Kind
	}
	out := delta.New(kinds)
	if v := &touched.Cols[key[0]]; len(key) == 1 && v.Kind == delta.KindInt && v.Nulls == nil {
		// One integer key without NULLs (a GROUP BY of a bigint): the values themselves.
		seen := make(map[int64]struct{}, touched.Len()/2)
		for _, x := range v.I64 {
			if _, dup := seen[x]; !dup {
				seen[x] = struct{}{}
				out.Cols[0].I64 = append(out.Cols[0].I64, x)
				out.Weights = append(out.Weights, 1)
			}
		}
		return out
	}
	seen := make(map[string]struct{}, touched.Len()/2)
	var enc []byte
	for i := 0; i < touched.Len(); i++ {
		enc = enc[:0]
		for _, c := range key {
			enc = touched.Cols[c].AppendKeyAt(enc, i)
		}
		if _, dup := seen[string(enc)]; dup {
			continue
		}
		seen[string(enc)] = struct{}{}
		for j, c := range key {
			out.Cols[j].AppendAt(&touched.Cols[c], i)
		}
		out.Weights = append(out.Weights, 1)
	}
	return out
}

// errorsRel is the system table of the row errors that stand in the views: a row that hit
// a data exception (division by zero, overflow, a bad cast) in a view's dataflow is set
// aside, and listed here until it is retracted.
var errorsRel = &catalog.Relation{Name: viewstore.ErrorsTable, Kind: catalog.Table, Columns: []catalog.Column{
	{Name: "view", Type: catalog.Text}, {Name: "operator", Type: catalog.Text}, {Name: "code", Type: catalog.Text},
	{Name: "message", Type: catalog.Text}, {Name: "input", Type: catalog.Text},
}}

// withView prefixes every row of a dataflow's error batch with the view's name.
func withView(name string, errs *delta.Batch) *delta.Batch {
	out := delta.New(relKinds(errorsRel))
	var row []delta.Value
	for i := 0; i < errs.Len(); i++ {
		row = errs.Row(i, row)
		// The error table lists the operator, SQLSTATE, message and input; the node ID
		// the dataflow adds is internal.
		out.AppendRow(append([]delta.Value{delta.Str(name)}, row[:4]...), errs.Weights[i])
	}
	return out
}

// operatorsRel is the system table of the dataflow's operators with their counters (the
// table form of EXPLAIN MATERIALIZED VIEW): one row per operator, listing the views that
// use it, so an operator shared by several views appears once.
var operatorsRel = &catalog.Relation{Name: viewstore.OperatorsTable, Kind: catalog.Table, Columns: []catalog.Column{
	{Name: "node", Type: catalog.Int8}, {Name: "operator", Type: catalog.Text}, {Name: "inputs", Type: catalog.Text},
	{Name: "views", Type: catalog.Text}, {Name: "rows_in", Type: catalog.Int8}, {Name: "rows_out", Type: catalog.Int8},
	{Name: "state_rows", Type: catalog.Int8},
}}

// syncOperators brings the operators table up to date: when any operator's counters
// or users changed since the last call (or operators were added or removed), the
// table is rewritten whole, in two statements; it holds a row per operator, and most of
// them change on every tick anyway. It runs inside every tick's transaction.
func (d *DB) syncOperators(tx storeWriter) error {
	g := d.graph
	fresh := g.operatorRows()
	g.pending = fresh
	if g.written != nil && len(g.written) == len(fresh) {
		same := true
		for id, row := range fresh {
			if old, ok := g.written[id]; !ok || delta.RowKey(old) != delta.RowKey(row) {
				same = false
				break
			}
		}
		if same {
			return nil
		}
	}
	// A new graph, a commit that failed (the table's rows are unknown), or changes.
	if err := tx.Truncate(operatorsRel); err != nil {
		return err
	}
	all := delta.New(relKinds(operatorsRel))
	for _, row := range fresh {
		all.AppendRow(row, 1)
	}
	return tx.Insert(operatorsRel, all)
}

// commit commits a transaction that ran syncOperators and records what the operators
// table now holds (nothing known, if the commit failed).
func (d *DB) commit(tx *viewstore.Tx, tick uint64) error {
	if err := tx.Commit(tick); err != nil {
		d.graph.written = nil
		return err
	}
	d.graph.written = d.graph.pending
	return nil
}

// operatorRows is what the operators table should hold now, by node.
func (g *graph) operatorRows() map[exec.NodeID][]delta.Value {
	rows := map[exec.NodeID][]delta.Value{}
	for id, users := range g.users {
		st := g.df.NodeStats(id)
		in := make([]string, len(st.Inputs))
		for i, x := range st.Inputs {
			in[i] = strconv.Itoa(int(x))
		}
		state := delta.Null(delta.KindInt)
		if st.Stateful {
			state = delta.Int(st.StateRows)
		}
		rows[id] = []delta.Value{delta.Int(int64(id)), delta.Str(st.Name), delta.Str(strings.Join(in, ",")),
			delta.Str(strings.Join(users, ",")), delta.Int(st.RowsIn), delta.Int(st.RowsOut), state}
	}
	return rows
}
