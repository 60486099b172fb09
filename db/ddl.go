package db

import (
	"context"
	"strings"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/storage/viewstore"
)

// checkNewName checks that name is free for a new relation; skip is true when it is
// taken and IF NOT EXISTS asked to leave the existing one alone.
func (d *DB) checkNewName(name string, ifNotExists bool) (skip bool, err error) {
	if _, err := d.cat.Get(name); err == nil {
		if ifNotExists {
			return true, nil
		}
		return false, sqlerr.New(sqlerr.DuplicateTable, "relation %q already exists", name)
	}
	if strings.HasPrefix(name, "weir_") {
		return false, sqlerr.New(sqlerr.InsufficientPrivilege, "the prefix weir_ is reserved for system tables: %q", name)
	}
	// The view store (DuckDB) resolves names without regard to case.
	for _, r := range d.cat.List(0) {
		if strings.EqualFold(r.Name, name) {
			return false, sqlerr.New(sqlerr.FeatureNotSupported, "relation %q differs from existing %q only in case, which Weir does not support yet", name, r.Name)
		}
	}
	return false, nil
}

// createRelation creates a source or table. It returns false when IF NOT EXISTS skipped it.
func (d *DB) createRelation(ctx context.Context, st *planner.CreateRelation) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.flush(ctx); err != nil { // DDL works on the store: bring it up to date
		return false, err
	}
	if skip, err := d.checkNewName(st.Rel.Name, st.IfNotExists); skip || err != nil {
		return false, err
	}
	if err := d.validateConnector(ctx, st.Rel); err != nil { // connectors.go
		return false, err
	}
	if err := d.cat.Add(st.Rel); err != nil {
		return false, err
	}
	tx, err := d.store.Begin(ctx)
	if err == nil {
		if err = tx.CreateRelation(st.Rel); err == nil {
			err = tx.Commit(d.tick)
		} else {
			tx.Rollback()
		}
	}
	if err != nil {
		d.cat.Remove(st.Rel.Name)
		return false, err
	}
	if st.Rel.Kind == catalog.Table {
		d.tables[st.Rel.Name] = &table{rel: st.Rel, rows: map[string][]delta.Value{}}
	}
	if wm := st.Rel.Watermark; wm != nil {
		d.wms[st.Rel.Name] = &watermark{spec: *wm, max: exec.NoWatermark}
	}
	if consumesKafka(st.Rel) {
		d.startSource(st.Rel) // connectors.go
	}
	d.catalogChanged(ctx)
	return true, nil
}

// createView creates a materialized view, backfilled from the full history of its inputs.
func (d *DB) createView(ctx context.Context, st *planner.CreateView) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.flush(ctx); err != nil { // DDL works on the store: bring it up to date
		return false, err
	}
	if skip, err := d.checkNewName(st.Rel.Name, st.IfNotExists); skip || err != nil {
		return false, err
	}
	for _, dep := range st.Rel.DependsOn {
		if _, err := d.cat.Get(dep); err != nil {
			return false, err // dropped since the statement was prepared
		}
	}
	if hasTemporalFilter(st.Plan) {
		if err := d.catchUp(ctx); err != nil {
			return false, err
		}
	}
	if err := d.cat.Add(st.Rel); err != nil {
		return false, err
	}
	fail := func(err error) (bool, error) {
		d.cat.Remove(st.Rel.Name)
		return false, err
	}
	// The backfill merges the view's operators into the graph; from here on a failure
	// takes them out again.
	v, err := d.backfill(ctx, st.Rel)
	if err != nil {
		return fail(sqlerr.Wrap(err, "", "materialized view %q", st.Rel.Name))
	}
	d.graph.register(v)
	undo := func(err error) (bool, error) {
		if rerr := d.graph.release(v); rerr != nil {
			return fail(d.rebuildAfter(ctx, err))
		}
		return fail(err)
	}
	tx, err := d.store.Begin(ctx)
	if err != nil {
		return undo(err)
	}
	for _, step := range []func() error{
		func() error { return tx.CreateRelation(st.Rel) },
		func() error { return tx.Insert(st.Rel, v.rows.contents()) },
		func() error { return tx.Insert(errorsRel, v.errs.contents()) },
		func() error { return d.syncOperators(tx) },
	} {
		if err := step(); err != nil {
			tx.Rollback()
			return undo(err)
		}
	}
	if err := d.commit(tx, d.tick); err != nil {
		return undo(err)
	}
	d.views[st.Rel.Name] = v
	d.catalogChanged(ctx)
	return true, nil
}

// drop drops relations; views depending on them block the drop unless CASCADE.
func (d *DB) drop(ctx context.Context, st *planner.Drop) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.flush(ctx); err != nil { // DDL works on the store: bring it up to date
		return err
	}
	var victims []*catalog.Relation
	seen := map[string]bool{}
	for _, name := range st.Names {
		rel, err := d.cat.Get(name)
		if err != nil {
			if st.IfExists {
				continue
			}
			return err
		}
		if rel.Kind != st.Kind {
			return sqlerr.New(sqlerr.WrongObjectType, "%q is a %s, not a %s", name, rel.Kind, st.Kind).
				WithHint("Use DROP %s to remove a %s.", dropWord(rel.Kind), rel.Kind)
		}
		deps := d.cat.DependentsClosure(name)
		if len(deps) > 0 && !st.Cascade {
			names := make([]string, len(deps))
			for i, dp := range deps {
				names[i] = dp.Name
			}
			return sqlerr.New(sqlerr.DependentObjectsStillExist, "cannot drop %s %q because other objects depend on it", rel.Kind, name).
				WithDetail("materialized view %s depends on %s %s", strings.Join(names, ", "), rel.Kind, name).
				WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
		}
		// Dependents first, newest first, so nothing is left pointing at a dropped relation.
		for i := len(deps) - 1; i >= 0; i-- {
			if !seen[deps[i].Name] {
				seen[deps[i].Name] = true
				victims = append(victims, deps[i])
			}
		}
		if !seen[name] {
			seen[name] = true
			victims = append(victims, rel)
		}
	}
	if len(victims) == 0 {
		return nil
	}
	if err := d.checkSinkDeps(victims); err != nil { // sinks.go
		return err
	}
	tx, err := d.store.Begin(ctx)
	if err != nil {
		return err
	}
	for _, v := range victims {
		if err := tx.DropRelation(v.Name); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Exec(`DELETE FROM `+viewstore.ErrorsTable+` WHERE view = ?`, v.Name); err != nil {
			tx.Rollback()
			return err
		}
		if err := forgetPositions(tx, v); err != nil { // connectors.go
			tx.Rollback()
			return err
		}
		if vs, ok := d.views[v.Name]; ok {
			if err := d.graph.release(vs); err != nil {
				tx.Rollback()
				return d.rebuildAfter(ctx, err)
			}
		}
	}
	if err := d.syncOperators(tx); err != nil {
		tx.Rollback()
		return d.rebuildAfter(ctx, err)
	}
	if err := d.commit(tx, d.tick); err != nil {
		return d.rebuildAfter(ctx, err)
	}
	for _, v := range victims {
		if vs, ok := d.views[v.Name]; ok {
			d.closeSubscriptions(vs, sqlerr.New(sqlerr.UndefinedTable, "materialized view %q was dropped", v.Name))
		}
		d.cat.Remove(v.Name)
		delete(d.views, v.Name)
		delete(d.tables, v.Name)
		delete(d.wms, v.Name)
		if consumesKafka(v) {
			d.stopSource(v.Name) // connectors.go
			d.dropPositions(v.Name)
		}
	}
	d.catalogChanged(ctx)
	return nil
}

// rebuildAfter restores the in-memory state from the store after a failed change to it,
// and returns the failure.
func (d *DB) rebuildAfter(ctx context.Context, err error) error {
	if rerr := d.rebuild(context.WithoutCancel(ctx)); rerr != nil {
		d.logger.Error("rebuild after a failed change", "err", rerr)
	}
	return err
}

func dropWord(k catalog.Kind) string {
	switch k {
	case catalog.Source:
		return "SOURCE"
	case catalog.Table:
		return "TABLE"
	}
	return "MATERIALIZED VIEW"
}

// catalogChanged asks for a checkpoint soon after a change to the catalog: the earlier
// ones were taken under another catalog, and recovery does not use them (until then it
// recomputes the views from history).
func (d *DB) catalogChanged(context.Context) { d.ckptLoop.poke() }
