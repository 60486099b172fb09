package db

import (
	"context"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/storage/viewstore"
)

// tickInput is what one write contributes to a tick: events appended to sources, and
// the changes (retractions and insertions, whole rows) of tables.
type tickInput struct {
	appends map[string]*delta.Batch
	tables  map[string]*delta.Batch
}

// runTick applies in as one tick: dataflows, then one store transaction. The caller
// holds d.mu. On failure nothing of the tick is kept.
func (d *DB) runTick(ctx context.Context, in tickInput) (err error) {
	tick := d.tick + 1
	changes := map[string]*delta.Batch{}
	for name, b := range in.appends {
		changes[name] = b
	}
	for name, b := range in.tables {
		changes[name] = b
	}
	defer func() {
		if r := recover(); r != nil {
			d.logger.Error("tick panicked", "tick", tick, "panic", r)
			err = sqlerr.New(sqlerr.Internal, "internal error: %v", r)
		}
		if err != nil {
			if rerr := d.rebuild(context.WithoutCancel(ctx)); rerr != nil {
				d.logger.Error("rebuild after failed tick", "err", rerr)
			}
		}
	}()
	// Table state first, so a view backfill or rebuild sees it; undone by rebuild.
	for name, b := range in.tables {
		t := d.tables[name]
		for i := 0; i < b.Len(); i++ {
			row := b.Row(i, nil)
			if b.Weights[i] > 0 {
				t.rows[pkKey(t.rel, row)] = row
			} else if cur, ok := t.rows[pkKey(t.rel, row)]; ok && delta.RowKey(cur) == delta.RowKey(row) {
				delete(t.rows, pkKey(t.rel, row))
			}
		}
	}
	viewChanges := map[string]*delta.Batch{}
	errChanges := delta.New(relKinds(errorsRel))
	for _, rel := range d.cat.List(catalog.View) {
		v := d.views[rel.Name]
		touched := false
		for _, s := range v.df.Sources() {
			if b := changes[s]; b != nil && b.Len() > 0 {
				touched = true
			}
		}
		if !touched {
			continue
		}
		out, err := v.df.Step(ctx, exec.Tick{Seq: tick}, changes)
		if err != nil {
			return sqlerr.Wrap(err, "", "materialized view %q", rel.Name)
		}
		changes[rel.Name] = out
		rows := delta.New(relKinds(rel))
		v.rows.apply(out, rows)
		viewChanges[rel.Name] = rows
		if errs := v.df.Errors(); errs.Len() > 0 {
			d.logRowErrors(rel.Name, errs)
			v.errs.apply(withView(rel.Name, errs), errChanges)
		}
	}

	tx, err := d.store.Begin(ctx)
	if err != nil {
		return err
	}
	if err := d.write(tx, in, viewChanges, errChanges); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(tick); err != nil {
		return err
	}
	d.tick = tick
	return nil
}

func (d *DB) write(tx *viewstore.Tx, in tickInput, viewChanges map[string]*delta.Batch, errChanges *delta.Batch) error {
	for name, b := range in.appends {
		rel, err := d.cat.Get(name)
		if err != nil {
			return err
		}
		if err := tx.Insert(rel, b); err != nil {
			return err
		}
	}
	for name, b := range in.tables {
		rel, err := d.cat.Get(name)
		if err != nil {
			return err
		}
		// Delete every changed key, then insert the rows that exist after the tick.
		keys := delta.New(pkKinds(rel))
		after := delta.New(relKinds(rel))
		seen := map[string]bool{}
		for i := 0; i < b.Len(); i++ {
			row := b.Row(i, nil)
			k := pkKey(rel, row)
			if seen[k] {
				continue
			}
			seen[k] = true
			kr := make([]delta.Value, len(rel.PrimaryKey))
			for j, c := range rel.PrimaryKey {
				kr[j] = row[c]
			}
			keys.AppendRow(kr, 1)
			if cur, ok := d.tables[name].rows[k]; ok {
				after.AppendRow(cur, 1)
			}
		}
		if err := tx.DeleteMatching(rel, rel.PrimaryKey, keys); err != nil {
			return err
		}
		if err := tx.Insert(rel, after); err != nil {
			return err
		}
	}
	for name, touched := range viewChanges {
		rel, err := d.cat.Get(name)
		if err != nil {
			return err
		}
		if err := writeBag(tx, rel, touched); err != nil {
			return err
		}
		if err := writeOperators(tx, name, d.views[name].df); err != nil {
			return err
		}
	}
	return writeBag(tx, errorsRel, errChanges)
}

// logRowErrors logs the row errors a view's tick added (not those it retracted).
func (d *DB) logRowErrors(view string, errs *delta.Batch) {
	for i := 0; i < errs.Len(); i++ {
		if errs.Weights[i] > 0 {
			d.logger.Warn("row error in materialized view", "view", view, "operator", errs.Cols[0].Str[i],
				"code", errs.Cols[1].Str[i], "message", errs.Cols[2].Str[i], "input", errs.Cols[3].Str[i], "rows", errs.Weights[i])
		}
	}
}

func pkKinds(rel *catalog.Relation) []delta.Kind {
	ks := make([]delta.Kind, len(rel.PrimaryKey))
	for i, c := range rel.PrimaryKey {
		ks[i] = rel.Columns[c].Type.Kind()
	}
	return ks
}
