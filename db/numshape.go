package db

import (
	"context"
	"slices"
	"sync"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
)

// Ad-hoc reads cast a plain numeric column (stored as exact text) to DECIMAL(38,s) with s
// the column's largest scale (read.go, rewriteNumeric). Scanning the column for it at
// every read costs a full scan of the relation; instead each relation's shapes are kept
// here as an upper bound: the store is scanned once per relation, and every tick folds in
// the shapes of the rows it adds (source appends, table rows, view changes). A bound that
// is too high only widens the cast (the values are unchanged); it never falls below a
// value the store holds, because every tick since the entry was created is folded in and
// everything before it was flushed before the scan.

// shapeCache is the per-relation bound, keyed by relation ID.
type shapeCache struct {
	mu   sync.Mutex
	rels map[uint64]*relShapes
}

type relShapes struct {
	known bool                // the store's rows have been scanned into shape
	shape map[string]colShape // by column name
}

// plainNumeric returns rel's numeric columns stored as text, with their indexes.
func plainNumeric(rel *catalog.Relation) (cols []catalog.Column, idx []int) {
	for i, c := range rel.Columns {
		if isPlainNumeric(c) {
			cols, idx = append(cols, c), append(idx, i)
		}
	}
	return cols, idx
}

// isPlainNumeric reports whether c is numeric without precision (stored as text).
func isPlainNumeric(c catalog.Column) bool {
	return c.Type == catalog.Numeric && c.DuckDB() == c.Type.DuckDB()
}

// entry returns rel's entry, creating an unknown one. The caller holds c.mu.
func (c *shapeCache) entry(rel *catalog.Relation) *relShapes {
	if c.rels == nil {
		c.rels = map[uint64]*relShapes{}
	}
	e, ok := c.rels[rel.ID]
	if !ok {
		e = &relShapes{shape: map[string]colShape{}}
		c.rels[rel.ID] = e
	}
	return e
}

// note folds the rows b adds to rel (positive weights) into rel's bound. The caller holds
// d.mu (a tick).
func (c *shapeCache) note(rel *catalog.Relation, b *delta.Batch) {
	if b.Len() == 0 || !slices.ContainsFunc(rel.Columns, isPlainNumeric) {
		return // the common case, on every tick: nothing to allocate
	}
	cols, idx := plainNumeric(rel)
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(rel)
	for k, col := range cols {
		sh := e.shape[col.Name]
		v := &b.Cols[idx[k]]
		for i := 0; i < b.Len(); i++ {
			if b.Weights[i] <= 0 || (v.Nulls != nil && v.Nulls[i]) {
				continue
			}
			if scale, ints, ok := textShape(v.Str[i]); ok {
				sh.scale, sh.intDigits = max(sh.scale, scale), max(sh.intDigits, ints)
			}
		}
		e.shape[col.Name] = sh
	}
}

// shapes returns rel's bound for cols, scanning the store the first time. The caller has
// flushed the ticks before the read.
func (d *DB) shapes(ctx context.Context, rel *catalog.Relation, cols []catalog.Column) (map[string]colShape, error) {
	c := &d.numShapes
	c.mu.Lock()
	e := c.entry(rel)
	known := e.known
	c.mu.Unlock()
	if !known {
		scanned, err := d.numericShapes(ctx, rel, cols)
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		for name, s := range scanned {
			sh := e.shape[name]
			e.shape[name] = colShape{max(sh.scale, s.scale), max(sh.intDigits, s.intDigits)}
		}
		e.known = true
		c.mu.Unlock()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]colShape, len(cols))
	for _, col := range cols {
		out[col.Name] = e.shape[col.Name]
		if err := checkShape(rel, col, out[col.Name]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// textShape is decimalShape (the scale, and the integer digits without leading zeros) of
// a canonical numeric text, without allocating; NaN and infinities are not decimals.
func textShape(s string) (scale, ints int, ok bool) {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	for i < len(s) && s[i] == '0' {
		i++
	}
	start, dot := i, -1
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.' && dot < 0:
			dot = i
		case c < '0' || c > '9':
			return 0, 0, false
		}
	}
	if dot < 0 {
		return 0, len(s) - start, true
	}
	return len(s) - dot - 1, dot - start, true
}
