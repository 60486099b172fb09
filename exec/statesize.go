package exec

// stateSizer is implemented by the operators that keep state across ticks; StateRows
// reports its size in rows (stored input rows, groups, distinct values) for EXPLAIN
// and the weir_operators system table. It is called between ticks.
type stateSizer interface {
	StateRows() int64
}

var (
	_ stateSizer = (*HashJoin)(nil)
	_ stateSizer = (*OuterJoin)(nil)
	_ stateSizer = (*SemiJoin)(nil)
	_ stateSizer = (*HashAggregate)(nil)
	_ stateSizer = (*SetOp)(nil)
	_ stateSizer = (*TopN)(nil)
	_ stateSizer = (*WindowAgg)(nil)
)

// StateRows is op's state in rows (stored input rows, groups, distinct values); 0 for an
// operator that keeps none.
func StateRows(op Operator) int64 {
	if s, ok := op.(stateSizer); ok {
		return s.StateRows()
	}
	return 0
}

func (a *arrangement) rowCount() int64 {
	n := int64(len(a.nulls.rows))
	for _, b := range a.keys {
		n += int64(len(b.rows))
	}
	return n
}

// StateRows is the number of distinct rows stored from both inputs.
func (j *HashJoin) StateRows() int64 { return j.arr[0].rowCount() + j.arr[1].rowCount() }

// StateRows is the number of distinct rows stored from both inputs.
func (j *OuterJoin) StateRows() int64 { return j.arr[0].rowCount() + j.arr[1].rowCount() }

// StateRows is the number of rows and per-key counts stored.
func (j *SemiJoin) StateRows() int64 {
	return j.lrows.rowCount() + j.rrows.rowCount() + int64(len(j.rcount))
}

// StateRows is the number of groups plus the distinct values kept for min, max and
// DISTINCT aggregates.
func (h *HashAggregate) StateRows() int64 {
	return int64(h.groupCount()) + h.setCount
}

// StateRows is the number of distinct rows tracked.
func (s *SetOp) StateRows() int64 { return int64(len(s.rows)) }

// StateRows is the number of distinct rows kept across all partitions.
func (t *TopN) StateRows() int64 {
	n := int64(0)
	for _, p := range t.parts {
		n += int64(p.rows.len())
	}
	return n
}

// StateRows is the number of distinct rows kept across all partitions.
func (w *WindowAgg) StateRows() int64 {
	n := int64(0)
	for _, p := range w.parts {
		n += int64(p.rows.len())
	}
	return n
}
