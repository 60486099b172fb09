// Package catalog owns Weir's names: sources, tables and materialized views, their
// columns and logical types, and which views depend on which relations. It is a leaf:
// it imports only weir's internal/ vocabulary. Persisting the catalog (as the DDL text
// of each object) is the database's job; the catalog is the in-memory truth.
package catalog

import (
	"errors"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/weirdb/weir/internal/sqlerr"
)

// ErrNotFound is returned (wrapped in a 42P01 *sqlerr.Error) for an unknown relation.
var ErrNotFound = errors.New("relation not found")

// Kind says what a relation is.
type Kind uint8

// The relation kinds.
const (
	Source Kind = iota + 1 // append-only event stream with a history
	Table                  // keyed, mutable
	View                   // materialized view: a continuous query
)

func (k Kind) String() string {
	switch k {
	case Source:
		return "source"
	case Table:
		return "table"
	case View:
		return "materialized view"
	}
	return "relation"
}

// Column is one column of a relation.
type Column struct {
	Name    string
	Type    Type
	NotNull bool
	MaxLen  int // varchar(n): the most characters a value may hold; 0 when unlimited
	// Precision and Scale are numeric(p,s)'s modifiers; Precision is 0 when unconstrained.
	Precision, Scale int32
}

// DuckDB is the column's type in the view store: numeric(p,s) with p <= 38 is DuckDB's
// DECIMAL(p,s) (every value has scale s, so DuckDB prints it as PostgreSQL does, and
// ad-hoc reads compare and compute on it as numbers); every other type is c.Type.DuckDB().
func (c Column) DuckDB() string {
	if c.Type == Numeric && c.Precision > 0 && c.Precision <= 38 {
		return "DECIMAL(" + strconv.Itoa(int(c.Precision)) + "," + strconv.Itoa(int(c.Scale)) + ")"
	}
	return c.Type.DuckDB()
}

// Relation is a named source, table or view.
type Relation struct {
	ID         uint64 // creation order, unique for the life of the catalog
	Name       string
	Kind       Kind
	Columns    []Column
	PrimaryKey []int             // column indexes; tables only
	SQL        string            // the CREATE statement as the user wrote it
	Query      string            // views: the SELECT text
	DependsOn  []string          // views: the relations the query reads
	Options    map[string]string // WITH (…) options
	Watermark  *Watermark        // sources: the WATERMARK FOR clause, if any
}

// Watermark is a source's `WATERMARK FOR col AS col - INTERVAL 'delay'`: the source's
// watermark is the largest event time it has seen in column Col minus Delay, and events
// behind it are late (DESIGN §4).
type Watermark struct {
	Col   int   // the event-time column (timestamp or timestamptz)
	Delay int64 // µs, >= 0
}

// ColumnIndex returns the index of the column named name, or -1.
func (r *Relation) ColumnIndex(name string) int {
	for i, c := range r.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// Catalog is the set of relations. It is safe for concurrent use.
type Catalog struct {
	mu     sync.RWMutex
	rels   map[string]*Relation
	nextID uint64
}

// New returns an empty catalog.
func New() *Catalog { return &Catalog{rels: make(map[string]*Relation), nextID: 1} }

// Get returns the relation named name.
func (c *Catalog) Get(name string) (*Relation, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.rels[name]
	if !ok {
		return nil, &sqlerr.Error{Code: sqlerr.UndefinedTable, Msg: `relation "` + name + `" does not exist`, Err: ErrNotFound}
	}
	return r, nil
}

// Add registers r, assigning its ID. It fails with 42P07 if the name is taken.
func (c *Catalog) Add(r *Relation) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.rels[r.Name]; ok {
		return sqlerr.New(sqlerr.DuplicateTable, "relation %q already exists", r.Name)
	}
	r.ID = c.nextID
	c.nextID++
	c.rels[r.Name] = r
	return nil
}

// Remove deletes the relation named name, if present.
func (c *Catalog) Remove(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.rels, name)
}

// List returns the relations of kind k (all kinds when k is 0) in creation order.
func (c *Catalog) List(k Kind) []*Relation {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []*Relation
	for _, r := range c.rels {
		if k == 0 || r.Kind == k {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Dependents returns the views that read name directly, in creation order.
func (c *Catalog) Dependents(name string) []*Relation {
	var out []*Relation
	for _, r := range c.List(View) {
		if slices.Contains(r.DependsOn, name) {
			out = append(out, r)
		}
	}
	return out
}

// DependentsClosure returns every view that reads name directly or through other views,
// ordered so that each view comes after every view it reads (safe drop order reversed).
func (c *Catalog) DependentsClosure(name string) []*Relation {
	seen := map[string]bool{}
	var out []*Relation
	var visit func(n string)
	visit = func(n string) {
		for _, d := range c.Dependents(n) {
			if !seen[d.Name] {
				seen[d.Name] = true
				out = append(out, d)
				visit(d.Name)
			}
		}
	}
	visit(name)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
