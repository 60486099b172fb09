package db

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/planner"
)

// graph is the one dataflow that computes every view. Operators with the same
// fingerprint (the same computation over the same inputs) exist once and feed every view
// that needs them: two views over the same join share its arrangements, and a view over
// another view reads that view's output node directly.
type graph struct {
	df      *exec.Dataflow
	keyNode map[string]exec.NodeID // fingerprint → node
	nodeKey map[exec.NodeID]string
	users   map[exec.NodeID][]string // the views that include each node, in creation order
	// written is what the operators table holds for each node, as of the last committed
	// syncOperators. Invariant: it matches the table whenever no tick is running.
	written map[exec.NodeID][]delta.Value
	pending map[exec.NodeID][]delta.Value // what the running transaction writes
}

func newGraph() *graph {
	return &graph{df: exec.NewDataflow(), keyNode: map[string]exec.NodeID{}, nodeKey: map[exec.NodeID]string{},
		users: map[exec.NodeID][]string{}}
}

// backfill plans rel, computes it once over the full current contents of its inputs in a
// private dataflow, and then merges that dataflow into the graph: nodes the graph already
// has are dropped in favour of the graph's (their state is the same function of the same
// input), the others move in with the state the backfill built.
func (d *DB) backfill(ctx context.Context, rel *catalog.Relation) (*view, error) {
	tmp, keys, insertOnly, err := d.lower(rel)
	if err != nil {
		return nil, err
	}
	inputs := map[string]*delta.Batch{}
	for _, name := range tmp.Sources() {
		b, err := d.contents(ctx, name)
		if err != nil {
			return nil, err
		}
		inputs[name] = b
	}
	out, err := tmp.Step(ctx, d.backfillTick(), inputs)
	if err != nil {
		return nil, err
	}
	v := &view{rel: rel, historyFrom: d.tick, insertOnly: insertOnly}
	d.merge(v, tmp, keys)
	d.newBags(v)
	v.rows.apply(out, nil)
	v.errs.apply(withView(rel.Name, tmp.Errors()), nil)
	return v, nil
}

// newBags gives v empty bags for its rows and row errors; its rows are found by the
// unique key of its output node, when it has one. The rows of a view that only gains
// rows are held without an index until one is needed (bag.insertOnly); those of any
// other view are split into parts by key (bag.parts). v.out must be set (merge).
func (d *DB) newBags(v *view) {
	key, ok := d.graph.df.UniqueKey(v.out)
	if !ok || len(key) == 0 {
		key = nil // the whole row (a view of one row at most is one chain)
	}
	v.rows, v.errs = newBag(relKinds(v.rel), key), newBag(relKinds(errorsRel), nil)
	switch {
	case v.insertOnly:
		v.rows.setInsertOnly()
	case bagParts > 1:
		v.rows = newPartedBag(relKinds(v.rel), key, bagParts)
	}
}

// merge moves the nodes of v's private dataflow tmp (with fingerprints keys) into the
// graph: nodes the graph already has are dropped in favour of the graph's (their state is
// the same function of the same input), the others move in with their state. It sets
// v.nodes and v.out.
func (d *DB) merge(v *view, tmp *exec.Dataflow, keys []string) {
	g := d.graph
	mapped := make([]exec.NodeID, tmp.Len())
	for i := range mapped {
		id := exec.NodeID(i)
		op, src, kinds, ins := tmp.Node(id)
		if op == nil {
			if up, ok := d.views[src]; ok {
				mapped[i] = up.out // a view over a view reads its output node
				continue
			}
		}
		key := keys[i]
		if n, ok := g.keyNode[key]; ok {
			mapped[i] = n
		} else {
			var n exec.NodeID
			if op == nil {
				n = g.df.AddSource(src, kinds)
			} else {
				for j, in := range ins {
					ins[j] = mapped[in]
				}
				n = g.df.Add(op, ins...)
			}
			g.df.CarryStats(n, tmp, id)
			g.keyNode[key], g.nodeKey[n] = n, key
			mapped[i] = n
		}
		if !slices.Contains(v.nodes, mapped[i]) {
			v.nodes = append(v.nodes, mapped[i])
		}
	}
	v.out = mapped[tmp.OutputID()]
}

// register records that v uses its nodes.
func (g *graph) register(v *view) {
	for _, n := range v.nodes {
		g.users[n] = append(g.users[n], v.rel.Name)
	}
}

// release forgets v, removing the nodes no other view uses. Readers are removed before
// the nodes they read (higher IDs first).
func (g *graph) release(v *view) error {
	var unused []exec.NodeID
	for _, n := range v.nodes {
		g.users[n] = slices.DeleteFunc(g.users[n], func(s string) bool { return s == v.rel.Name })
		if len(g.users[n]) == 0 {
			unused = append(unused, n)
		}
	}
	slices.Sort(unused)
	for i := len(unused) - 1; i >= 0; i-- {
		n := unused[i]
		if err := g.df.Remove(n); err != nil {
			return err
		}
		delete(g.keyNode, g.nodeKey[n])
		delete(g.nodeKey, n)
		delete(g.users, n)
	}
	return nil
}

// explain renders v's dataflow with each operator's counters, marking shared operators.
func (d *DB) explainGraph(v *view) string {
	g := d.graph
	return g.df.ExplainNode(v.out, func(id exec.NodeID) string {
		st := g.df.NodeStats(id)
		s := fmt.Sprintf("  [in=%d out=%d", st.RowsIn, st.RowsOut)
		if st.Stateful {
			s += fmt.Sprintf(" state=%d rows", st.StateRows)
		}
		s += "]"
		if others := slices.DeleteFunc(slices.Clone(g.users[id]), func(s string) bool { return s == v.rel.Name }); len(others) > 0 {
			s += " shared with " + strings.Join(others, ", ")
		}
		return s
	})
}

// readsSource reports whether the graph has a scan of the dataflow source name.
func (g *graph) readsSource(name string) bool {
	_, ok := g.keyNode[planner.SourceKey(name)]
	return ok
}
