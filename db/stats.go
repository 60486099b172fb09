package db

import (
	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/sqlerr"
)

// ViewSnapshot returns a view's contents at the current tick, from the rows the database
// holds in memory (the same snapshot a subscription starts with), without a read of the
// view store. Rows carry their multiplicities as weights; their order is unspecified.
// It fails with 42P01 for an unknown name and 42809 for a relation that is not a view.
func (d *DB) ViewSnapshot(name string) (*Snapshot, error) {
	if err := d.checkReady(); err != nil {
		return nil, err
	}
	defer d.mu.readViews()() // not waiting for a tick's dataflow, only for its apply
	rel, err := d.cat.Get(name)
	if err != nil {
		return nil, err
	}
	v, ok := d.views[name]
	if !ok || rel.Kind != catalog.View {
		return nil, sqlerr.New(sqlerr.WrongObjectType, "%q is a %s, not a materialized view", name, rel.Kind)
	}
	return &Snapshot{Tick: d.tick, Columns: rel.Columns, Rows: v.rows.contents()}, nil
}

// WALPosition returns the log sequence number of the last durable write-ahead log
// record (records, not bytes), or 0 for a database without a data directory.
func (d *DB) WALPosition() uint64 {
	if d.log == nil {
		return 0
	}
	return uint64(d.log.LastLSN())
}

// WALBytes is the size of the write-ahead log on disk, or 0 without a data directory.
func (d *DB) WALBytes() int64 {
	if d.log == nil {
		return 0
	}
	return d.log.Bytes()
}

// OperatorState is one dataflow operator's state size, for metrics.
type OperatorState struct {
	Node      int64
	Operator  string
	Views     []string
	StateRows int64 // rows, groups or distinct values it holds
}

// OperatorStates lists the stateful operators of the shared dataflow with their state.
func (d *DB) OperatorStates() []OperatorState {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []OperatorState
	for id, users := range d.graph.users {
		st := d.graph.df.NodeStats(id)
		if st.Stateful {
			out = append(out, OperatorState{Node: int64(id), Operator: st.Name, Views: users, StateRows: st.StateRows})
		}
	}
	return out
}
