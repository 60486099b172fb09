package db

import (
	"context"
	"unicode/utf8"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
)

// checkRow enforces NOT NULL, varchar(n) and numeric(p,s) on a row about to be stored,
// rounding numeric values to their column's scale in place; rowNum is 1-based.
func checkRow(rel *catalog.Relation, row []delta.Value, rowNum int) error {
	for i, c := range rel.Columns {
		if c.Type == catalog.Numeric && c.Precision > 0 {
			v, err := expr.ApplyTypmod(row[i], c.Precision, c.Scale)
			if err != nil {
				return sqlerr.As(err).WithDetail("row %d: column %s", rowNum, c.Name)
			}
			row[i] = v
		}
		if c.NotNull && row[i].Null {
			return sqlerr.New(sqlerr.NotNullViolation, "null value in column %q of relation %q violates not-null constraint", c.Name, rel.Name).
				WithDetail("row %d: column %s is NULL", rowNum, c.Name)
		}
		if c.MaxLen > 0 && !row[i].Null && utf8.RuneCountInString(row[i].S) > c.MaxLen {
			return sqlerr.New(sqlerr.StringDataRightTruncation, "value too long for type character varying(%d)", c.MaxLen).
				WithDetail("row %d: column %s", rowNum, c.Name)
		}
	}
	return nil
}

func evalRow(exprs []expr.Expr, input []delta.Value) ([]delta.Value, error) {
	row := make([]delta.Value, len(exprs))
	for i, e := range exprs {
		v, err := e.Eval(input)
		if err != nil {
			return nil, err
		}
		row[i] = v
	}
	return row, nil
}

// Ingest appends rows (already typed to the source's columns) to a source and returns
// once they are committed. A NOT NULL violation fails the call with the row number.
//
// Concurrent calls are group-committed: whoever gets the tick lock takes every pending
// request, of any source, into one tick. If that tick fails, each request is retried in
// a tick of its own, so one request's failure never fails another's.
func (d *DB) Ingest(ctx context.Context, source string, rows [][]delta.Value) error {
	return d.IngestWithProgress(ctx, source, rows, nil)
}

// IngestWithProgress is Ingest that also records progress: connector positions (a Kafka
// partition's next offset, say) committed atomically with the rows, in the same
// write-ahead log record and the same view-store transaction. After a crash, Progress
// returns the position of exactly the rows that survived, so a connector that resumes
// from it neither loses nor duplicates any (exactly-once over an at-least-once input).
// Rows may be empty when only the position moves.
func (d *DB) IngestWithProgress(ctx context.Context, source string, rows [][]delta.Value, progress map[string]string) error {
	if err := d.checkReady(); err != nil {
		return err
	}
	rel, err := d.cat.Get(source)
	if err != nil {
		return err
	}
	if rel.Kind != catalog.Source {
		return sqlerr.New(sqlerr.WrongObjectType, "%q is a %s, not a source", source, rel.Kind)
	}
	b := delta.New(relKinds(rel))
	b.Grow(len(rows))
	for i, row := range rows {
		if len(row) != len(rel.Columns) {
			return sqlerr.New(sqlerr.DatatypeMismatch, "row %d has %d values; source %q has %d columns", i+1, len(row), source, len(rel.Columns))
		}
		if err := checkRow(rel, row, i+1); err != nil {
			return err
		}
		b.AppendRow(row, 1)
	}
	return d.ingestBatch(ctx, source, b, progress)
}

// ingestBatch is IngestWithProgress for rows already checked (checkRow) and gathered
// into b, a batch of the source's kinds with weights 1, which the call takes over.
func (d *DB) ingestBatch(ctx context.Context, source string, b *delta.Batch, progress map[string]string) error {
	if b.Len() == 0 && len(progress) == 0 {
		return nil
	}
	req := &ingestReq{source: source, b: b, progress: progress, done: make(chan struct{})}
	d.pendMu.Lock()
	d.pending = append(d.pending, req)
	d.pendMu.Unlock()

	d.mu.lockTick() // reads of the views go on while the tick computes
	select {
	case <-req.done: // a group commit led by another caller took this request
		d.mu.unlockTick()
		return req.err
	default:
	}
	d.pendMu.Lock()
	group := d.pending
	d.pending = nil
	d.pendMu.Unlock()
	// The group's tick must not be abandoned because the leader's client went away.
	tctx := context.WithoutCancel(ctx)
	r, err := d.computeTick(tctx, mergeAppends(group))
	// From here on the views change: reads wait. The views lock is taken before the
	// acknowledgement, so that a read which starts after it sees the tick (tickLock).
	d.mu.lockViews()
	if err == nil && r != nil && d.ackBeforeApply() {
		// The tick is in the log and its apply cannot fail: the writers are answered
		// now, and the apply goes on under d.mu on a goroutine of its own, so that the
		// next request (the next COPY's rows arriving and parsed) overlaps it. Anything
		// that reads the views waits for d.mu, and so for the apply.
		d.groups.Add(1)
		for _, q := range group {
			close(q.done)
		}
		go func() {
			note, err := d.applyTick(tctx, r, true)
			if err != nil {
				d.logger.Error("applying an acknowledged tick", "tick", r.tick, "err", err)
			}
			if note == nil {
				d.mu.Unlock()
				return
			}
			// Reads and the next tick go on while the tick is noted for the flush.
			d.noteMu.Lock()
			d.mu.Unlock()
			defer d.noteMu.Unlock()
			note()
		}()
		return nil
	}
	defer d.mu.Unlock()
	if err == nil && r != nil {
		_, err = d.applyTick(tctx, r, false)
	}
	if err != nil && len(group) > 1 {
		for _, r := range group {
			r.err = d.runTick(tctx, mergeAppends([]*ingestReq{r}))
		}
	} else {
		for _, r := range group {
			r.err = err
		}
	}
	d.groups.Add(1)
	for _, r := range group {
		close(r.done)
	}
	return req.err
}

// ingestReq is one Ingest call waiting for a group commit.
type ingestReq struct {
	source   string
	b        *delta.Batch
	progress map[string]string
	err      error
	done     chan struct{} // closed once err is final
}

func mergeAppends(reqs []*ingestReq) tickInput {
	if len(reqs) == 1 {
		in := tickInput{progress: reqs[0].progress}
		if reqs[0].b.Len() > 0 {
			in.appends = map[string]*delta.Batch{reqs[0].source: reqs[0].b}
		}
		return in
	}
	// Merge into fresh batches: a request's own batch is kept intact for a retry alone.
	// Progress keys of later requests win.
	appends := map[string]*delta.Batch{}
	var progress map[string]string
	for _, r := range reqs {
		for k, v := range r.progress {
			if progress == nil {
				progress = map[string]string{}
			}
			progress[k] = v
		}
		if r.b.Len() == 0 {
			continue
		}
		cur, ok := appends[r.source]
		if !ok {
			cur = delta.New(r.b.Kinds())
			appends[r.source] = cur
		}
		cur.AppendBatch(r.b, 1)
	}
	return tickInput{appends: appends, progress: progress}
}

// IngestTicks is the number of group commits Ingest has run (for tests and metrics).
func (d *DB) IngestTicks() int64 { return d.groups.Load() }

// insert executes an INSERT; it returns the number of rows inserted or updated.
func (d *DB) insert(ctx context.Context, st *planner.Insert) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	rel, err := d.live(st.Rel)
	if err != nil {
		return 0, err
	}
	if err := checkWritable(rel); err != nil { // connectors.go
		return 0, err
	}
	rows := make([][]delta.Value, len(st.Rows))
	for i, exprs := range st.Rows {
		row, err := evalRow(exprs, nil)
		if err != nil {
			return 0, rowErr(err, i+1)
		}
		if err := checkRow(rel, row, i+1); err != nil {
			return 0, err
		}
		rows[i] = row
	}
	if rel.Kind == catalog.Source {
		b := delta.New(relKinds(rel))
		for _, r := range rows {
			b.AppendRow(r, 1)
		}
		return int64(len(rows)), d.runTick(ctx, tickInput{appends: map[string]*delta.Batch{rel.Name: b}})
	}
	t := d.tables[rel.Name]
	changes := delta.New(relKinds(rel))
	pending := map[string][]delta.Value{} // rows written by this statement
	affected := int64(0)
	for i, row := range rows {
		k := pkKey(rel, row)
		cur, exists := pending[k]
		written := exists
		if !exists {
			cur, exists = t.rows[k]
		}
		if !exists {
			pending[k] = row
			changes.AppendRow(row, 1)
			affected++
			continue
		}
		switch {
		case st.OnConflict == nil:
			return 0, sqlerr.New(sqlerr.UniqueViolation, "duplicate key value violates unique constraint \"%s_pkey\"", rel.Name).
				WithDetail("row %d: Key (%s)=(%s) already exists.", i+1, keyNames(rel), keyText(rel, row))
		case written && !st.OnConflict.DoNothing:
			return 0, sqlerr.New("21000", "ON CONFLICT DO UPDATE command cannot affect row a second time").
				WithDetail("row %d: Key (%s)=(%s) appears twice in the statement.", i+1, keyNames(rel), keyText(rel, row)).
				WithHint("Ensure that no rows proposed for insertion within the same command have duplicate constrained values.")
		case st.OnConflict.DoNothing:
			continue
		}
		both := append(append([]delta.Value{}, cur...), row...)
		if w := st.OnConflict.Where; w != nil {
			ok, err := w.Eval(both)
			if err != nil {
				return 0, rowErr(err, i+1)
			}
			if ok.Null || !ok.B {
				continue
			}
		}
		next := append([]delta.Value{}, cur...)
		for _, a := range st.OnConflict.Set {
			v, err := a.E.Eval(both)
			if err != nil {
				return 0, rowErr(err, i+1)
			}
			next[a.Col] = v
		}
		if err := checkRow(rel, next, i+1); err != nil {
			return 0, err
		}
		changes.AppendRow(cur, -1)
		changes.AppendRow(next, 1)
		pending[k] = next
		affected++
	}
	changes.Consolidate()
	if changes.Len() == 0 {
		return affected, nil
	}
	return affected, d.runTick(ctx, tickInput{tables: map[string]*delta.Batch{rel.Name: changes}})
}

func keyNames(rel *catalog.Relation) string {
	s := ""
	for i, k := range rel.PrimaryKey {
		if i > 0 {
			s += ", "
		}
		s += rel.Columns[k].Name
	}
	return s
}

func keyText(rel *catalog.Relation, row []delta.Value) string {
	s := ""
	for i, k := range rel.PrimaryKey {
		if i > 0 {
			s += ", "
		}
		s += expr.Format(row[k], rel.Columns[k].Type)
	}
	return s
}

func rowErr(err error, row int) error {
	e := sqlerr.As(err)
	if e.Detail == "" {
		return e.WithDetail("row %d", row)
	}
	return e
}

// live re-resolves a relation bound at prepare time, in case it was dropped since.
func (d *DB) live(rel *catalog.Relation) (*catalog.Relation, error) {
	cur, err := d.cat.Get(rel.Name)
	if err != nil {
		return nil, err
	}
	if cur != rel {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "cached plan must not change result type: %q was recreated; prepare the statement again", rel.Name)
	}
	return cur, nil
}

// modify executes UPDATE (set != nil) or DELETE over a table.
func (d *DB) modify(ctx context.Context, rel *catalog.Relation, where expr.Expr, set []planner.Assignment) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	rel, err := d.live(rel)
	if err != nil {
		return 0, err
	}
	if err := checkWritable(rel); err != nil { // connectors.go
		return 0, err
	}
	t := d.tables[rel.Name]
	changes := delta.New(relKinds(rel))
	n := int64(0)
	for _, row := range t.rows {
		if where != nil {
			ok, err := where.Eval(row)
			if err != nil {
				return 0, err
			}
			if ok.Null || !ok.B {
				continue
			}
		}
		n++
		changes.AppendRow(row, -1)
		if set == nil {
			continue
		}
		next := append([]delta.Value{}, row...)
		for _, a := range set {
			v, err := a.E.Eval(row)
			if err != nil {
				return 0, err
			}
			next[a.Col] = v
		}
		if err := checkRow(rel, next, int(n)); err != nil {
			return 0, err
		}
		changes.AppendRow(next, 1)
	}
	changes.Consolidate()
	if changes.Len() == 0 {
		return n, nil
	}
	return n, d.runTick(ctx, tickInput{tables: map[string]*delta.Batch{rel.Name: changes}})
}

// progressPrefix prefixes the weir_meta keys of IngestWithProgress positions.
const progressPrefix = "progress:"

// Progress returns the position last committed under key by IngestWithProgress, as of
// the last tick (after recovery: the last tick that survived).
func (d *DB) Progress(key string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v, ok := d.progress[key]
	return v, ok
}
