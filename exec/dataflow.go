package exec

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// NodeID names a node of a Dataflow: its position in insertion order.
type NodeID int

// A Dataflow is one continuous query: a DAG of operators fed by source nodes, one per
// scanned relation. Its owner must not call its methods concurrently; Step itself may
// run independent operators of one tick on several goroutines (see Step).
//
// Nodes are added in topological order (an input must exist before its reader), and Step
// runs every node after its inputs (see Step). The first error a Step returns sticks:
// the tick was applied partially, so every later Step returns the same error and the
// owner rebuilds the dataflow (from a checkpoint, or by replaying its input).
type Dataflow struct {
	nodes   []*node
	output  NodeID
	hasOut  bool
	err     error        // sticky: a wiring error from Add, or the first error of a Step
	errs    *delta.Batch // the last Step's row errors, gathered from the nodes in node order; nil without reporters
	levels  [][]chain    // the live nodes in the levels Step runs them in; nil when stale (Add, Remove)
	serial  bool         // run the nodes one at a time in node order, as Step did before levels (tests)
	minRows int          // ParallelMinRows when the dataflow was made (tests change it)

	parallelLevels int // levels the last Step ran on several goroutines (tests)
}

// ParallelMinRows is the number of rows from which one tick's independent work runs on
// several goroutines: a chain of a Dataflow counts as busy when its first node's inbox
// has this many rows, and a level with two busy chains or more runs them concurrently
// (db folds the views' changes into their bags concurrently from this many changes).
// Below it the goroutines cost more than they save, and small ticks are the ones whose
// latency (freshness) matters. The environment variable WEIR_PARALLEL_MIN_ROWS sets it
// when the process starts; make test sets 1, so that the race detector sees the
// concurrent paths on almost every tick of every test.
var ParallelMinRows = parallelMinRowsFromEnv()

const defaultParallelMinRows = 4096

func parallelMinRowsFromEnv() int {
	if v, err := strconv.Atoi(os.Getenv("WEIR_PARALLEL_MIN_ROWS")); err == nil && v > 0 {
		return v
	}
	return defaultParallelMinRows
}

// node is one vertex: a source (op == nil) or an operator.
type node struct {
	op      Operator
	rel     string // the relation of a source
	kinds   []delta.Kind
	inputs  []NodeID
	readers []edge     // who receives this node's output, in Add order
	inbox   []delivery // this tick's input, in delivery order (see runNode)
	out     *delta.Batch
	errs    *rowErrors // this tick's row errors, for an operator that sets rows aside

	rowsIn, rowsOut int64 // rows received and emitted since the dataflow was built
	dead            bool  // removed: skipped by Step, read by nobody
}

type edge struct {
	to   NodeID
	port int
}

type delivery struct {
	from NodeID // the producer
	port int
	b    *delta.Batch
}

// PanicError is the cause (sqlerr.Error.Err) of the XX000 error Step returns when an
// operator panics. Stack holds the panicking goroutine's stack, for the log.
type PanicError struct {
	Value any
	Stack []byte
}

// Error renders the panic value.
func (e *PanicError) Error() string { return fmt.Sprint(e.Value) }

// NewDataflow returns an empty dataflow.
func NewDataflow() *Dataflow { return &Dataflow{minRows: ParallelMinRows} }

// AddSource adds a scan of relation rel, whose changes have columns of the given kinds,
// and returns its node. A source passes the relation's changes through unchanged. The
// same relation may be added more than once (a self-join): every such node receives the
// same changes.
func (d *Dataflow) AddSource(rel string, kinds []delta.Kind) NodeID {
	id := NodeID(len(d.nodes))
	d.nodes = append(d.nodes, &node{rel: rel, kinds: slices.Clone(kinds), out: delta.New(kinds)})
	d.levels = nil
	return id
}

// Add adds op reading inputs (in port order) and returns its node. Every input must
// already exist, so insertion order is topological. A wiring error (an unknown input, or
// an input whose kinds differ from what op expects) is returned by the next Step.
func (d *Dataflow) Add(op Operator, inputs ...NodeID) NodeID {
	id := NodeID(len(d.nodes))
	n := &node{op: op, kinds: op.OutKinds(), inputs: slices.Clone(inputs), out: delta.New(op.OutKinds())}
	d.nodes = append(d.nodes, n)
	d.levels = nil
	if r, ok := op.(errorReporter); ok {
		if d.errs == nil {
			d.errs = delta.New(RowErrorKinds)
		}
		// A node of its own, so that operators running concurrently do not share one.
		n.errs = &rowErrors{b: delta.New(RowErrorKinds), node: id}
		r.setErrors(n.errs)
	}
	var want [][]delta.Kind
	if c, ok := op.(inputChecker); ok {
		want = c.inKinds()
		if len(want) != len(inputs) && d.err == nil {
			d.err = sqlerr.New(sqlerr.Internal, "internal error: dataflow: %s has %d inputs, got %d", op, len(want), len(inputs))
		}
	}
	for port, in := range inputs {
		if in < 0 || in >= id {
			if d.err == nil {
				d.err = sqlerr.New(sqlerr.Internal, "internal error: dataflow: %s reads node %d, which does not exist yet", op, in)
			}
			continue
		}
		src := d.nodes[in]
		if port < len(want) && !slices.Equal(want[port], src.kinds) && d.err == nil {
			d.err = sqlerr.New(sqlerr.Internal, "internal error: dataflow: %s input %d has kinds %v, want %v", op, port, src.kinds, want[port])
		}
		src.readers = append(src.readers, edge{to: id, port: port})
	}
	return id
}

// SetOutput makes node id the dataflow's result, the one whose changes Step returns.
// Without it, the node added last is the output.
func (d *Dataflow) SetOutput(id NodeID) {
	d.output, d.hasOut = id, true
	if (id < 0 || int(id) >= len(d.nodes)) && d.err == nil {
		d.err = sqlerr.New(sqlerr.Internal, "internal error: dataflow: output node %d does not exist", id)
	}
}

func (d *Dataflow) outputID() NodeID {
	if d.hasOut {
		return d.output
	}
	return NodeID(len(d.nodes) - 1)
}

// Sources returns the distinct relation names the dataflow scans, sorted.
func (d *Dataflow) Sources() []string {
	var rels []string
	for _, n := range d.nodes {
		if n.op == nil && !n.dead {
			rels = append(rels, n.rel)
		}
	}
	slices.Sort(rels)
	return slices.Compact(rels)
}

// OutKinds returns the kinds of the output node's columns (nil for an empty dataflow).
func (d *Dataflow) OutKinds() []delta.Kind {
	id := d.outputID()
	if id < 0 || int(id) >= len(d.nodes) {
		return nil
	}
	return d.nodes[id].kinds
}

// Step runs one tick. Each source node receives changes[rel] (a missing or nil batch
// means no change; the batches are only read, and only during the call). Then every
// operator runs once, after all of its inputs: it is pushed every batch in its inbox, in
// the order their producers were inserted (port order among the ports fed by one
// producer), then advanced exactly once, also with an empty inbox, so global aggregates
// emit their first row on the first tick; its output goes to the inbox of each node
// reading it. The operators run as chains (an operator, then its only reader when that
// reader has no other input, and so on) in levels: a chain's level is one more than the
// highest level of the chains it reads. Chains of one level do not read each other: when
// two or more of them have a large inbox, they run on up to GOMAXPROCS goroutines, which
// are done when Step returns, and their outputs are delivered afterwards, so every
// operator's input is the same as when the nodes run one at a time in insertion order.
// Operators of one dataflow must therefore share no mutable state. ctx is checked
// before the tick and before every operator (57014 when done; a tick canceled before
// anything was applied does not stick).
//
// Step returns the output node's changes for the tick, consolidated, in a fresh batch the
// caller owns. Errors carry a SQLSTATE: an operator's error unchanged (22003, 22012, …),
// XX000 for a wiring error, a source batch of the wrong kinds or an operator panic (with
// a *PanicError cause). When chains of one level fail, the error of the failing node
// inserted first is returned. After an error every later Step returns it again.
func (d *Dataflow) Step(ctx context.Context, t Tick, changes map[string]*delta.Batch) (*delta.Batch, error) {
	return d.step(ctx, t, changes, true)
}

// Run is Step without its result, for an owner that reads the nodes it needs with
// Output.
func (d *Dataflow) Run(ctx context.Context, t Tick, changes map[string]*delta.Batch) error {
	_, err := d.step(ctx, t, changes, false)
	return err
}

func (d *Dataflow) step(ctx context.Context, t Tick, changes map[string]*delta.Batch, result bool) (res *delta.Batch, err error) {
	if d.err != nil {
		return nil, d.err
	}
	if len(d.nodes) == 0 {
		return nil, sqlerr.New(sqlerr.Internal, "internal error: dataflow has no nodes")
	}
	if err := ctx.Err(); err != nil { // nothing applied yet: not sticky
		return nil, sqlerr.Wrap(err, sqlerr.QueryCanceled, "canceling tick %d", t.Seq)
	}
	defer func() {
		if r := recover(); r != nil {
			err = sqlerr.Wrap(&PanicError{Value: r, Stack: debug.Stack()}, sqlerr.Internal, "internal error")
		}
		if err != nil {
			res, d.err = nil, err
		}
		for _, n := range d.nodes {
			clear(n.inbox)
			n.inbox = n.inbox[:0]
		}
		d.gatherErrors()
	}()
	for _, n := range d.nodes {
		if n.errs != nil {
			n.errs.b.Reset()
		}
	}
	d.parallelLevels = 0
	for _, level := range d.schedule() {
		if err := d.runLevel(ctx, t, changes, level); err != nil {
			return nil, err
		}
	}
	if !result {
		return nil, nil
	}
	out := d.nodes[d.outputID()]
	res = delta.New(out.kinds)
	if src := out.srcBatch(); src != nil {
		res.AppendBatch(src, 1)
	}
	if out.op == nil || !d.consolidated(d.outputID()) {
		res.Consolidate()
	}
	return res, nil
}

// A chain is nodes that run one after the other on one goroutine: an operator, then its
// only reader when that reader has no other input, and so on (a view's projection,
// aggregate and projection).
type chain []NodeID

// schedule returns the live nodes as chains grouped into levels that run one after the
// other. A chain's level is one more than the highest level of the chains its first
// node reads (sources are level 0); a level's chains are in node order. With serial set,
// every node is a chain and a level of its own, in node order.
func (d *Dataflow) schedule() [][]chain {
	if d.levels != nil {
		return d.levels
	}
	var (
		owner  = make([]int, len(d.nodes)) // the chain of each live node
		chains []chain
		levels []int // of each chain
	)
	for id, n := range d.nodes {
		if n.dead {
			continue
		}
		if d.serial {
			d.levels = append(d.levels, []chain{{NodeID(id)}})
			continue
		}
		if len(n.inputs) == 1 && n.op != nil {
			if in := d.nodes[n.inputs[0]]; in.op != nil && len(in.readers) == 1 {
				// n is the only reader of an operator that is the last node of its chain.
				c := owner[n.inputs[0]]
				chains[c] = append(chains[c], NodeID(id))
				owner[id] = c
				continue
			}
		}
		l := 0
		for _, in := range n.inputs {
			l = max(l, levels[owner[in]]+1)
		}
		owner[id] = len(chains)
		chains = append(chains, chain{NodeID(id)})
		levels = append(levels, l)
	}
	for c, l := range levels {
		for len(d.levels) <= l {
			d.levels = append(d.levels, nil)
		}
		d.levels[l] = append(d.levels[l], chains[c])
	}
	return d.levels
}

// runLevel runs the chains of one level, whose inputs have all run, and delivers the
// output of each chain's last node (in node order; the others feed the next node of their
// chain). Chains of a level read none of each other's outputs, so with two busy chains
// or more they run concurrently; the error returned is that of the first node that
// failed.
func (d *Dataflow) runLevel(ctx context.Context, t Tick, changes map[string]*delta.Batch, level []chain) error {
	busy := 0
	for _, c := range level {
		if n := d.nodes[c[0]]; n.op != nil && inboxRows(n) >= d.minRows {
			busy++
		}
	}
	workers := min(runtime.GOMAXPROCS(0), busy)
	if workers < 2 || d.serial {
		for _, c := range level {
			if n := d.nodes[c[0]]; n.op == nil {
				if err := d.runSource(c[0], n, changes[n.rel]); err != nil {
					return err
				}
				continue
			}
			if _, err := d.runChain(ctx, t, c); err != nil {
				return err
			}
			d.deliver(c[len(c)-1], d.nodes[c[len(c)-1]], d.nodes[c[len(c)-1]].out)
		}
		return nil
	}
	// Sources are level 0 and operators above: a busy level is all operators. The chains
	// with the most input go first, so that a large one does not start last.
	order := make([]int, len(level))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(inboxRows(d.nodes[level[b][0]]), inboxRows(d.nodes[level[a][0]]))
	})
	// Every chain runs, also after another failed, so that which error the tick returns
	// does not depend on timing.
	var (
		failed = make([]NodeID, len(level))
		errs   = make([]error, len(level))
		next   atomic.Int64
		wg     sync.WaitGroup
	)
	work := func() {
		for k := int(next.Add(1) - 1); k < len(order); k = int(next.Add(1) - 1) {
			i := order[k]
			failed[i], errs[i] = d.runChain(ctx, t, level[i])
		}
	}
	d.parallelLevels++
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	first := -1
	for i, err := range errs {
		if err != nil && (first < 0 || failed[i] < failed[first]) {
			first = i
		}
	}
	if first >= 0 {
		return errs[first]
	}
	for _, c := range level {
		d.deliver(c[len(c)-1], d.nodes[c[len(c)-1]], d.nodes[c[len(c)-1]].out)
	}
	return nil
}

// runChain runs the operator nodes of c in order, each delivering its output to the next,
// up to the first error, which it returns with the node that failed. The last node's
// output is left to the caller to deliver.
func (d *Dataflow) runChain(ctx context.Context, t Tick, c chain) (NodeID, error) {
	for k, id := range c {
		n := d.nodes[id]
		if err := d.runNode(ctx, t, n); err != nil {
			return id, err
		}
		if k < len(c)-1 {
			d.deliver(id, n, n.out)
		}
	}
	return 0, nil
}

// inboxRows is the number of rows in n's inbox.
func inboxRows(n *node) int {
	rows := 0
	for _, in := range n.inbox {
		rows += in.b.Len()
	}
	return rows
}

// runNode runs operator node n for tick t: it pushes the inbox, in the order of the
// producers' NodeIDs (the order in which they ran when Step ran the nodes in insertion
// order), then advances the operator. It touches only n, its operator and its inputs'
// outputs, so the chains of one level may run concurrently; a panic is returned as an
// XX000 error.
func (d *Dataflow) runNode(ctx context.Context, t Tick, n *node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = sqlerr.Wrap(&PanicError{Value: r, Stack: debug.Stack()}, sqlerr.Internal, "internal error")
		}
	}()
	if err := ctx.Err(); err != nil {
		return sqlerr.Wrap(err, sqlerr.QueryCanceled, "canceling tick %d", t.Seq)
	}
	n.out.Reset()
	if len(n.inbox) > 1 {
		slices.SortStableFunc(n.inbox, func(a, b delivery) int { return cmp.Compare(a.from, b.from) })
	}
	for _, in := range n.inbox {
		n.rowsIn += int64(in.b.Len())
		if err := n.op.Push(ctx, in.port, in.b, n.out); err != nil {
			return err
		}
	}
	if err := n.op.Advance(ctx, t, n.out); err != nil {
		return err
	}
	n.rowsOut += int64(n.out.Len())
	return nil
}

// gatherErrors collects the nodes' row errors of the tick into d.errs, in node order.
func (d *Dataflow) gatherErrors() {
	if d.errs == nil {
		return
	}
	d.errs.Reset()
	for _, n := range d.nodes {
		if n.errs != nil && !n.dead {
			d.errs.AppendBatch(n.errs.b, 1)
		}
	}
}

// consolidated reports whether operator node id's output of a Step is consolidated
// by construction: a HashAggregate emits one retraction and one insertion at most per
// group, of rows that differ, and a Project that only reorders the columns of such an
// input keeps it so.
func (d *Dataflow) consolidated(id NodeID) bool {
	n := d.nodes[id]
	switch op := n.op.(type) {
	case *HashAggregate:
		return op.err == nil
	case *Project:
		if op.cols == nil || len(n.inputs) != 1 || len(op.cols) != len(d.nodes[n.inputs[0]].kinds) {
			return false
		}
		seen := make([]bool, len(op.cols))
		for _, c := range op.cols {
			if c >= len(seen) || seen[c] {
				return false
			}
			seen[c] = true
		}
		return d.nodes[n.inputs[0]].op != nil && d.consolidated(n.inputs[0])
	}
	return false
}

// Errors returns the row errors of the last Step, consolidated: each row is (operator,
// SQLSTATE, message, input row) with the weight of the rows that hit it (negative when
// an erring row was retracted). Folded over ticks they are the errors that stand now.
// The caller owns the batch.
func (d *Dataflow) Errors() *delta.Batch {
	out := delta.New(RowErrorKinds)
	if d.errs != nil {
		out.AppendBatch(d.errs, 1)
		out.Consolidate()
	}
	return out
}

// runSource hands a relation's changes to the readers of source n (node id).
func (d *Dataflow) runSource(id NodeID, n *node, b *delta.Batch) error {
	n.inbox = n.inbox[:0]
	if b == nil || b.Len() == 0 {
		return nil
	}
	n.rowsIn += int64(b.Len())
	n.rowsOut += int64(b.Len())
	if !slices.Equal(b.Kinds(), n.kinds) {
		return sqlerr.New(sqlerr.Internal, "internal error: dataflow: changes to %s have kinds %v, want %v", n.rel, b.Kinds(), n.kinds)
	}
	n.inbox = append(n.inbox, delivery{from: id, b: b}) // remembered for srcBatch, when n is the output
	d.deliver(id, n, b)
	return nil
}

// srcBatch returns the batch node n produced this tick: its operator output, or a
// source's input.
func (n *node) srcBatch() *delta.Batch {
	if n.op != nil {
		return n.out
	}
	if len(n.inbox) == 0 {
		return nil
	}
	return n.inbox[0].b
}

// deliver appends b, the output of node id (n), to the inboxes of n's readers.
func (d *Dataflow) deliver(id NodeID, n *node, b *delta.Batch) {
	if b.Len() == 0 {
		return
	}
	for _, e := range n.readers {
		r := d.nodes[e.to]
		r.inbox = append(r.inbox, delivery{from: id, port: e.port, b: b})
	}
}

// Explain renders the operator tree from the output node down, GMS style:
//
//	HashAggregate(group=#0; count(*))
//	 └─ Filter((#1 > 0))
//	     └─ Scan(gifts)
//
// A node read by several others appears under each of them.
func (d *Dataflow) Explain() string { return d.explain(nil) }

// ExplainStats is Explain with each node's counters appended: the rows it received and
// emitted since the dataflow was built, and the rows it holds as state.
func (d *Dataflow) ExplainStats() string {
	return d.explain(func(id NodeID) string {
		st := d.nodeStats(id)
		s := fmt.Sprintf("  [in=%d out=%d", st.RowsIn, st.RowsOut)
		if st.Stateful {
			s += fmt.Sprintf(" state=%d rows", st.StateRows)
		}
		return s + "]"
	})
}

func (d *Dataflow) explain(note func(NodeID) string) string {
	if len(d.nodes) == 0 {
		return ""
	}
	var sb strings.Builder
	var walk func(id NodeID, first, rest string)
	walk = func(id NodeID, first, rest string) {
		sb.WriteString(first)
		if id < 0 || int(id) >= len(d.nodes) {
			fmt.Fprintf(&sb, "?node %d\n", id)
			return
		}
		n := d.nodes[id]
		if n.op == nil {
			sb.WriteString(scanName(n.rel))
		} else {
			sb.WriteString(n.op.String())
		}
		if note != nil {
			sb.WriteString(note(id))
		}
		sb.WriteString("\n")
		for i, in := range n.inputs {
			if i == len(n.inputs)-1 {
				walk(in, rest+" └─ ", rest+"    ")
			} else {
				walk(in, rest+" ├─ ", rest+" │  ")
			}
		}
	}
	walk(d.outputID(), "", "")
	return sb.String()
}

// NodeStats are one node's counters.
type NodeStats struct {
	ID        NodeID
	Name      string   // the operator, or Scan(relation)
	Inputs    []NodeID // the nodes it reads, by port
	RowsIn    int64    // rows received since the dataflow was built (for a scan: the relation's changes)
	RowsOut   int64    // rows emitted
	Stateful  bool     // it keeps state across ticks
	StateRows int64    // the rows (or groups) it holds now
}

// Stats returns every node's counters, in node order. Call it between ticks.
func (d *Dataflow) Stats() []NodeStats {
	out := make([]NodeStats, len(d.nodes))
	for i := range d.nodes {
		out[i] = d.nodeStats(NodeID(i))
	}
	return out
}

func (d *Dataflow) nodeStats(id NodeID) NodeStats {
	n := d.nodes[id]
	st := NodeStats{ID: id, Inputs: slices.Clone(n.inputs), RowsIn: n.rowsIn, RowsOut: n.rowsOut}
	if n.op == nil {
		st.Name = scanName(n.rel)
		return st
	}
	st.Name = n.op.String()
	if s, ok := n.op.(stateSizer); ok {
		st.Stateful, st.StateRows = true, s.StateRows()
	}
	return st
}

// scanName renders a source node: "Scan(comments)". A source name with a NUL-separated
// suffix is a variant of the relation's changes (planner.ArrivalSource):
// "Scan(comments; arrival)".
func scanName(rel string) string {
	if name, variant, ok := strings.Cut(rel, "\x00"); ok {
		return "Scan(" + name + "; " + variant + ")"
	}
	return "Scan(" + rel + ")"
}
