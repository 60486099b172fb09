// Package exec is Weir's incremental engine: it keeps the result of a continuous query up
// to date by turning changes to its input relations into changes to its output, without
// recomputing from scratch.
//
// # Weights
//
// Every operator consumes and produces change batches (delta.Batch): rows with a signed
// weight. +n inserts n copies of a row and -n retracts n copies; an update is a
// retraction of the old row plus an insertion of the new one. Rows are compared as whole
// tuples. A relation at any moment is the multiset obtained by summing all the weights
// it was sent so far, and each operator maintains the invariant
//
//	sum of its output so far = op(sum of its input so far)
//
// which is what lets a view hold exactly what a batch engine would return (DESIGN §4).
// Weights are arbitrary int64 values, not just ±1, and a batch need not be consolidated:
// (r, +1), (r, -1) in one batch is no change. Operators that combine rows multiply weights
// (a join's output weight is the product of its inputs'); linear operators (Filter,
// Project) pass them through.
//
// # Ticks
//
// Input is applied in ticks (Tick): logical timestamps at which all views move together.
// During a tick an operator is pushed zero or more batches (Operator.Push) and then
// advanced once (Operator.Advance). Stateless and linear operators answer each push
// right away. Operators whose output depends on a whole group, such as HashAggregate,
// only accumulate in Push and emit in Advance, as a retraction of the row they last
// emitted plus an insertion of the new one; so a group touched many times within a tick
// changes once downstream, and retractions always cancel a row that was emitted. The
// tick's Watermark (no later input has an earlier event time) is for time-driven
// operators (window close, temporal filters), whose output also arrives in Advance.
//
// # The per-tick node order
//
// A Dataflow is a DAG of nodes added in topological order: sources (one scan per
// relation occurrence, so a self-join has two) and then operators. Dataflow.Step runs one
// tick:
//
//  1. every source node hands that relation's changes to its readers;
//  2. the operator nodes run once each, after all of their inputs: each is pushed every
//     batch in its inbox, in the insertion order of their producers (and port order
//     among the ports fed by one producer), then advanced, also when the inbox is empty;
//     its output goes to the inbox of every node reading it;
//  3. the output node's changes for the tick are returned, consolidated.
//
// Step runs the operators as chains, an operator followed by its only reader when that
// reader has no other input (a view's project, aggregate, project), in levels: a chain's
// level is one more than the highest level of the chains it reads, so chains of one level
// read none of each other's output. When two or more chains of a level have a large
// inbox (a tick's source fanning out into independent views), Step runs them on up to
// GOMAXPROCS goroutines and delivers their outputs afterwards, so the tick's result, its
// row errors and every operator's input are the same as when the nodes run one after
// the other in insertion order.
//
// Because a node runs only after all of its inputs have finished the tick, Advance sees
// the tick's complete input, and a join receiving ΔL and ΔR in one tick computes
// ΔL⋈R + L'⋈ΔR, where L' = L+ΔL, which sums to (L+ΔL)⋈(R+ΔR) - L⋈R.
//
// # State ownership
//
// A Dataflow and its operators belong to one owner: Step is not safe for concurrent use.
// Within a Step an operator is called from one goroutine at a time, so it keeps its state
// without locks, but other operators may run at the same time: no two operators share
// mutable state (scratch buffers, caches), and the input batches they share are only
// read. Batches passed to Push are only borrowed for the call: an operator copies what it
// keeps (join arrangements, aggregate groups) and never modifies its input. The output batch of Push and Advance is
// owned by the caller, who reuses it across ticks. The batch Step returns is the
// caller's to keep. State is bounded by the live data: arrangement rows and groups are
// dropped when their weight returns to zero.
//
// # Errors
//
// Every error carries a SQLSTATE (package sqlerr): expression errors (22003, 22012)
// come from the operator that evaluated the row, a sum that leaves its type raises 22003,
// and wiring mistakes by the planner or a panicking operator are XX000 (constructors
// have no error result, so an invalid configuration is reported by the first tick). An
// error in the middle of a tick leaves the dataflow partially advanced, so Step fails
// every later call with the same error and the owner rebuilds the dataflow.
package exec
