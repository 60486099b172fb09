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
type bag struct {
	kinds []delta.Kind
	rows  map[string]*countedRow
}

type countedRow struct {
	key string // the row's key in rows (delta.Batch.AppendKey), kept so touching it allocates nothing
	row []delta.Value
	n   int64
}

// touchedRows lists, by key, the rows of a bag whose multiplicity a tick changed (a key
// may repeat): what the next flush rewrites with their multiplicities as they are then.
// The rows are the bag's own.
type touchedRows struct {
	bag   *bag // the bag of the rows
	mixed bool // the rows are from several bags (the error bags of several views)
	keys  []string
	rows  []*countedRow
}

func (t *touchedRows) Len() int {
	if t == nil {
		return 0
	}
	return len(t.keys)
}

func newBag(kinds []delta.Kind) *bag { return &bag{kinds: kinds, rows: map[string]*countedRow{}} }

// contents returns the rows as insertions.
func (g *bag) contents() *delta.Batch {
	b := delta.New(g.kinds)
	for _, r := range g.rows {
		b.AppendRow(r.row, r.n)
	}
	return b
}

// held returns the rows with their multiplicities now, in no order. The rows are the
// bag's own, which it never modifies (it replaces them).
func (g *bag) held() []viewstore.LentRow {
	out := make([]viewstore.LentRow, 0, len(g.rows))
	for _, r := range g.rows {
		out = append(out, viewstore.LentRow{Values: r.row, N: r.n})
	}
	return out
}

// apply folds a change batch into the bag and adds every row whose multiplicity changed
// to touched (when not nil).
func (g *bag) apply(changes *delta.Batch, touched *touchedRows) {
	if touched != nil {
		if touched.bag == nil {
			touched.bag = g
		} else if touched.bag != g {
			touched.mixed = true
		}
		touched.keys = slices.Grow(touched.keys, changes.Len())
		touched.rows = slices.Grow(touched.rows, changes.Len())
	}
	var key []byte
	for i := 0; i < changes.Len(); i++ {
		key = changes.AppendKey(key[:0], i)
		r, ok := g.rows[string(key)]
		if !ok {
			k := string(key)
			r = &countedRow{key: k, row: changes.Row(i, nil)}
			g.rows[k] = r
		}
		r.n += changes.Weights[i]
		if touched != nil {
			touched.keys = append(touched.keys, r.key)
			touched.rows = append(touched.rows, r)
		}
		if r.n <= 0 {
			delete(g.rows, r.key)
		}
	}
}

// writeBag mirrors touched rows (row, new multiplicity) into rel's DuckDB table: every
// copy of each touched row is deleted, then the new number of copies inserted. When the
// table has a unique key (key, non-empty: no two rows of it ever share those columns'
// values), every row with the key of a touched row is deleted instead, which is the
// same rows (the rows a touched key had are touched too, being retracted) found by
// fewer, narrower columns.
func writeBag(tx storeWriter, rel *catalog.Relation, touched *delta.Batch, key []int) error {
	if touched.Len() == 0 {
		return nil
	}
	if len(key) > 0 {
		if err := tx.DeleteMatching(rel, key, touchedKeys(touched, key)); err != nil {
			return err
		}
	} else {
		all := make([]int, len(rel.Columns))
		for i := range all {
			all[i] = i
		}
		if err := tx.DeleteMatching(rel, all, touched); err != nil {
			return err
		}
	}
	live := delta.New(touched.Kinds())
	for i := 0; i < touched.Len(); i++ {
		switch w := touched.Weights[i]; {
		case w > 0:
			live.AppendFrom(touched, i, w)
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
