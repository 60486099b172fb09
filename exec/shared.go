package exec

import (
	"slices"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// This file holds what a dataflow shared by many views needs: several outputs read
// after a tick, nodes taken over from another dataflow, and nodes removed again.

// Len is the number of nodes ever added, removed ones included: NodeIDs are below it.
func (d *Dataflow) Len() int { return len(d.nodes) }

// Node describes node id: its operator (nil for a source scan), the relation a source
// scans, its output kinds and the nodes it reads. Taking an operator from one dataflow
// into another (Add) moves its state with it; the first dataflow must not run again.
func (d *Dataflow) Node(id NodeID) (op Operator, rel string, kinds []delta.Kind, inputs []NodeID) {
	n := d.nodes[id]
	return n.op, n.rel, n.kinds, slices.Clone(n.inputs)
}

// Output returns node id's output of the last Step, consolidated; the caller owns it.
// A source's output is not kept after the Step: read the changes it was given instead.
func (d *Dataflow) Output(id NodeID) *delta.Batch {
	n := d.nodes[id]
	res := delta.New(n.kinds)
	if n.op != nil && !n.dead {
		res.AppendBatch(n.out, 1)
		if !d.consolidated(id) {
			res.Consolidate()
		}
	}
	return res
}

// Remove deletes node id. No live node may read it: remove readers first.
func (d *Dataflow) Remove(id NodeID) error {
	n := d.nodes[id]
	if n.dead {
		return nil
	}
	for _, e := range n.readers {
		if !d.nodes[e.to].dead {
			return sqlerr.New(sqlerr.Internal, "internal error: dataflow: node %d is still read by node %d", id, e.to)
		}
	}
	for _, in := range n.inputs {
		src := d.nodes[in]
		src.readers = slices.DeleteFunc(src.readers, func(e edge) bool { return e.to == id })
	}
	n.dead, n.op, n.out, n.inbox, n.readers, n.errs = true, nil, delta.New(n.kinds), nil, nil, nil
	n.rel = ""
	d.levels = nil
	return nil
}

// ExplainNode renders the operator tree under node id, each line followed by note(node)
// when note is not nil.
func (d *Dataflow) ExplainNode(id NodeID, note func(NodeID) string) string {
	saved, had := d.output, d.hasOut
	d.output, d.hasOut = id, true
	defer func() { d.output, d.hasOut = saved, had }()
	return d.explain(note)
}

// NodeStats returns node id's counters (see Stats).
func (d *Dataflow) NodeStats(id NodeID) NodeStats { return d.nodeStats(id) }

// OutputID is the node SetOutput named (or the last node added).
func (d *Dataflow) OutputID() NodeID { return d.outputID() }

// CarryStats copies node from's counters in src to node to of d, for a node moved from
// one dataflow into another (its backfill counts stay with it).
func (d *Dataflow) CarryStats(to NodeID, src *Dataflow, from NodeID) {
	f, t := src.nodes[from], d.nodes[to]
	t.rowsIn, t.rowsOut = f.rowsIn, f.rowsOut
}

// UniqueKey returns columns of node id's output that are a key of its accumulated
// output: after every Step, the rows with a positive total weight are at most one per
// value of those columns, NULLs comparing equal (an empty key: at most one row). It
// reports false when it cannot tell. A grouped HashAggregate (without expiry) is keyed
// by its group columns, a global one by nothing; a Project of column references keeps its input's
// key when it passes on every key column.
func (d *Dataflow) UniqueKey(id NodeID) ([]int, bool) {
	if id < 0 || int(id) >= len(d.nodes) {
		return nil, false
	}
	n := d.nodes[id]
	switch op := n.op.(type) {
	case *HashAggregate:
		if op.err != nil || op.expiry != nil {
			// An expired group's row stays emitted, so a group of the same key made
			// again later would be a second row with that key.
			return nil, false
		}
		key := make([]int, len(op.groupCols))
		for i := range key {
			key[i] = i
		}
		return key, true
	case *Project:
		if op.cols == nil || len(n.inputs) != 1 {
			return nil, false
		}
		in, ok := d.UniqueKey(n.inputs[0])
		if !ok {
			return nil, false
		}
		key := make([]int, len(in))
		for i, c := range in {
			if key[i] = slices.Index(op.cols, c); key[i] < 0 {
				return nil, false
			}
		}
		return key, true
	}
	return nil, false
}
