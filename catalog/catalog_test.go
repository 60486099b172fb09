package catalog_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

func TestLookupType(t *testing.T) {
	tests := []struct {
		name string
		want catalog.Type
		code sqlerr.Code // "" when the lookup succeeds
	}{
		{"bool", catalog.Bool, ""},
		{"boolean", catalog.Bool, ""},
		{"int2", catalog.Int2, ""},
		{"smallint", catalog.Int2, ""},
		{"int4", catalog.Int4, ""},
		{"int", catalog.Int4, ""},
		{"integer", catalog.Int4, ""},
		{"int8", catalog.Int8, ""},
		{"bigint", catalog.Int8, ""},
		{"BIGINT", catalog.Int8, ""},
		{"float4", catalog.Float4, ""},
		{"real", catalog.Float4, ""},
		{"float8", catalog.Float8, ""},
		{"double precision", catalog.Float8, ""},
		{"Double Precision", catalog.Float8, ""},
		{"double", catalog.Float8, ""},
		{"float", catalog.Float8, ""},
		{"text", catalog.Text, ""},
		{"string", catalog.Text, ""},
		{"varchar", catalog.Varchar, ""},
		{"character varying", catalog.Varchar, ""},
		{"bpchar", catalog.Unknown, "0A000"},
		{"char", catalog.Unknown, "0A000"},
		{"character", catalog.Unknown, "0A000"},
		{"timestamp", catalog.Timestamp, ""},
		{"timestamp without time zone", catalog.Timestamp, ""},
		{"timestamptz", catalog.Timestamptz, ""},
		{"timestamp with time zone", catalog.Timestamptz, ""},
		{"TIMESTAMPTZ", catalog.Timestamptz, ""},
		{"date", catalog.Date, ""},
		{"numeric", catalog.Numeric, ""},
		{"decimal", catalog.Numeric, ""},
		{"interval", catalog.Interval, ""},
		{"json", catalog.Unknown, sqlerr.FeatureNotSupported},
		{"jsonb", catalog.Jsonb, ""},
		{"bytea", catalog.Unknown, sqlerr.FeatureNotSupported},
		{"uuid", catalog.Unknown, sqlerr.FeatureNotSupported},
		{"time", catalog.Unknown, sqlerr.FeatureNotSupported},
		{"timetz", catalog.Unknown, sqlerr.FeatureNotSupported},
		{"NUMERIC", catalog.Numeric, ""},
		{"no_such_type", catalog.Unknown, sqlerr.UndefinedObject},
		{"", catalog.Unknown, sqlerr.UndefinedObject},
		{"unknown", catalog.Unknown, sqlerr.UndefinedObject},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := catalog.LookupType(tc.name)
			if tc.code != "" {
				require.Error(t, err)
				require.Equal(t, tc.code, sqlerr.CodeOf(err))
				require.Contains(t, err.Error(), tc.name)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestTypeProperties(t *testing.T) {
	tests := []struct {
		typ  catalog.Type
		name string
		oid  uint32
		size int16
		duck string
		kind delta.Kind
	}{
		{catalog.Bool, "boolean", 16, 1, "BOOLEAN", delta.KindBool},
		{catalog.Int2, "smallint", 21, 2, "SMALLINT", delta.KindInt},
		{catalog.Int4, "integer", 23, 4, "INTEGER", delta.KindInt},
		{catalog.Int8, "bigint", 20, 8, "BIGINT", delta.KindInt},
		{catalog.Float4, "real", 700, 4, "FLOAT", delta.KindFloat},
		{catalog.Float8, "double precision", 701, 8, "DOUBLE", delta.KindFloat},
		{catalog.Text, "text", 25, -1, "VARCHAR", delta.KindString},
		{catalog.Varchar, "character varying", 1043, -1, "VARCHAR", delta.KindString},
		{catalog.Timestamp, "timestamp without time zone", 1114, 8, "TIMESTAMP", delta.KindInt},
		{catalog.Timestamptz, "timestamp with time zone", 1184, 8, "TIMESTAMPTZ", delta.KindInt},
		{catalog.Date, "date", 1082, 4, "DATE", delta.KindInt},
		{catalog.Numeric, "numeric", 1700, -1, "VARCHAR", delta.KindNumeric},
		{catalog.Interval, "interval", 1186, 16, "INTERVAL", delta.KindInterval},
		{catalog.Jsonb, "jsonb", 3802, -1, "VARCHAR", delta.KindJsonb},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.name, tc.typ.String())
			require.Equal(t, tc.oid, tc.typ.OID())
			require.Equal(t, tc.size, tc.typ.Size())
			require.Equal(t, tc.duck, tc.typ.DuckDB())
			require.Equal(t, tc.kind, tc.typ.Kind())

			byOID, ok := catalog.TypeByOID(tc.oid)
			require.True(t, ok)
			require.Equal(t, tc.typ, byOID)

			// Every type's PostgreSQL name reads back as the type.
			back, err := catalog.LookupType(tc.name)
			require.NoError(t, err)
			require.Equal(t, tc.typ, back)
		})
	}
	t.Run("unknown OIDs", func(t *testing.T) {
		for _, oid := range []uint32{0, 705, 114, 17} {
			_, ok := catalog.TypeByOID(oid)
			require.False(t, ok, "oid %d", oid)
		}
	})
	t.Run("classes", func(t *testing.T) {
		require.True(t, catalog.Int2.IsInteger())
		require.False(t, catalog.Float4.IsInteger())
		require.True(t, catalog.Float8.IsNumeric())
		require.False(t, catalog.Date.IsNumeric())
		require.True(t, catalog.Unknown.IsString())
		require.True(t, catalog.Varchar.IsString())
		require.False(t, catalog.Bool.IsString())
		require.True(t, catalog.Date.IsTime())
		require.True(t, catalog.Timestamptz.IsTime())
		require.False(t, catalog.Int8.IsTime())
	})
}

func rel(name string, kind catalog.Kind, deps ...string) *catalog.Relation {
	return &catalog.Relation{Name: name, Kind: kind, DependsOn: deps,
		Columns: []catalog.Column{{Name: "a", Type: catalog.Int8}, {Name: "b", Type: catalog.Text}}}
}

func names(rs []*catalog.Relation) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func TestAddGetRemove(t *testing.T) {
	c := catalog.New()
	s := rel("s", catalog.Source)
	require.NoError(t, c.Add(s))
	require.Equal(t, uint64(1), s.ID)

	t.Run("Get returns the relation", func(t *testing.T) {
		got, err := c.Get("s")
		require.NoError(t, err)
		require.Same(t, s, got)
	})
	t.Run("Add of a taken name is 42P07", func(t *testing.T) {
		dup := rel("s", catalog.Table)
		err := c.Add(dup)
		require.Error(t, err)
		require.Equal(t, sqlerr.DuplicateTable, sqlerr.CodeOf(err))
		require.Contains(t, err.Error(), `"s"`)
		require.Zero(t, dup.ID, "a rejected relation gets no ID")
		got, _ := c.Get("s")
		require.Same(t, s, got, "the first relation stays")
	})
	t.Run("Get of a missing name is 42P01 and ErrNotFound", func(t *testing.T) {
		got, err := c.Get("nope")
		require.Nil(t, got)
		require.Error(t, err)
		require.Equal(t, sqlerr.UndefinedTable, sqlerr.CodeOf(err))
		require.ErrorIs(t, err, catalog.ErrNotFound)
		require.True(t, errors.Is(fmt.Errorf("wrapped: %w", err), catalog.ErrNotFound))
		require.Equal(t, `relation "nope" does not exist`, err.Error())
	})
	t.Run("names are case sensitive (the parser folds them)", func(t *testing.T) {
		_, err := c.Get("S")
		require.ErrorIs(t, err, catalog.ErrNotFound)
	})
	t.Run("Remove then Add gets a fresh ID", func(t *testing.T) {
		c.Remove("s")
		_, err := c.Get("s")
		require.ErrorIs(t, err, catalog.ErrNotFound)
		c.Remove("s") // removing a missing name is a no-op
		again := rel("s", catalog.Source)
		require.NoError(t, c.Add(again))
		require.Equal(t, uint64(2), again.ID)
	})
}

func TestList(t *testing.T) {
	c := catalog.New()
	// Names sort differently from creation order, so a map-ordered or name-ordered List fails.
	for _, r := range []*catalog.Relation{
		rel("zeta", catalog.Source),
		rel("alpha", catalog.Table),
		rel("mid", catalog.View, "zeta"),
		rel("beta", catalog.Source),
		rel("aaa", catalog.View, "alpha"),
		rel("omega", catalog.Table),
	} {
		require.NoError(t, c.Add(r))
	}
	tests := []struct {
		kind catalog.Kind
		want []string
	}{
		{0, []string{"zeta", "alpha", "mid", "beta", "aaa", "omega"}},
		{catalog.Source, []string{"zeta", "beta"}},
		{catalog.Table, []string{"alpha", "omega"}},
		{catalog.View, []string{"mid", "aaa"}},
	}
	for _, tc := range tests {
		t.Run(tc.kind.String(), func(t *testing.T) {
			for range 5 { // map iteration order varies between calls
				require.Equal(t, tc.want, names(c.List(tc.kind)))
			}
		})
	}
	t.Run("empty catalog", func(t *testing.T) {
		require.Empty(t, catalog.New().List(0))
	})
}

func TestDependents(t *testing.T) {
	chain := func() *catalog.Catalog {
		c := catalog.New()
		for _, r := range []*catalog.Relation{
			rel("a", catalog.Source),
			rel("v1", catalog.View, "a"),
			rel("v2", catalog.View, "v1"),
			rel("other", catalog.Table),
		} {
			require.NoError(t, c.Add(r))
		}
		return c
	}
	// Diamond: a ← v1, a ← v2, and v3 reads both; w reads v3 and a directly.
	diamond := func() *catalog.Catalog {
		c := catalog.New()
		for _, r := range []*catalog.Relation{
			rel("a", catalog.Source),
			rel("v2", catalog.View, "a"),
			rel("v1", catalog.View, "a"),
			rel("v3", catalog.View, "v1", "v2"),
			rel("w", catalog.View, "a", "v3"),
		} {
			require.NoError(t, c.Add(r))
		}
		return c
	}
	tests := []struct {
		name    string
		cat     func() *catalog.Catalog
		of      string
		direct  []string
		closure []string
	}{
		{"chain from the base", chain, "a", []string{"v1"}, []string{"v1", "v2"}},
		{"chain from the middle", chain, "v1", []string{"v2"}, []string{"v2"}},
		{"chain leaf", chain, "v2", []string{}, []string{}},
		{"unrelated table", chain, "other", []string{}, []string{}},
		{"missing name", chain, "nope", []string{}, []string{}},
		{"diamond from the base", diamond, "a", []string{"v2", "v1", "w"}, []string{"v2", "v1", "v3", "w"}},
		{"diamond from one arm", diamond, "v1", []string{"v3"}, []string{"v3", "w"}},
		{"diamond join point", diamond, "v3", []string{"w"}, []string{"w"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cat()
			require.Equal(t, tc.direct, names(c.Dependents(tc.of)))
			closure := c.DependentsClosure(tc.of)
			require.Equal(t, tc.closure, names(closure))
			// Each view comes after every view it reads.
			pos := map[string]int{}
			for i, r := range closure {
				pos[r.Name] = i
			}
			for i, r := range closure {
				for _, d := range r.DependsOn {
					if j, ok := pos[d]; ok {
						require.Less(t, j, i, "%s reads %s", r.Name, d)
					}
				}
			}
		})
	}
}

func TestColumnIndexAndKind(t *testing.T) {
	r := rel("r", catalog.Table)
	require.Equal(t, 0, r.ColumnIndex("a"))
	require.Equal(t, 1, r.ColumnIndex("b"))
	require.Equal(t, -1, r.ColumnIndex("c"))
	require.Equal(t, -1, r.ColumnIndex("A"))
	require.Equal(t, "source", catalog.Source.String())
	require.Equal(t, "table", catalog.Table.String())
	require.Equal(t, "materialized view", catalog.View.String())
	require.Equal(t, "relation", catalog.Kind(0).String())
}

func TestConcurrentUse(t *testing.T) {
	c := catalog.New()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				name := fmt.Sprintf("r%d_%d", i, j)
				if err := c.Add(rel(name, catalog.Source)); err != nil {
					t.Error(err) // require must not be called off the test goroutine
					return
				}
				if _, err := c.Get(name); err != nil {
					t.Error(err)
					return
				}
				_ = c.List(0)
				_ = c.DependentsClosure(name)
			}
		}()
	}
	wg.Wait()
	all := c.List(0)
	require.Len(t, all, 400)
	for i, r := range all {
		require.Equal(t, uint64(i+1), r.ID, "IDs are unique and dense")
	}
}

func TestColumnDuckDB(t *testing.T) {
	tests := []struct {
		col  catalog.Column
		want string
	}{
		{catalog.Column{Type: catalog.Numeric}, "VARCHAR"},
		{catalog.Column{Type: catalog.Numeric, Precision: 10, Scale: 2}, "DECIMAL(10,2)"},
		{catalog.Column{Type: catalog.Numeric, Precision: 38}, "DECIMAL(38,0)"},
		{catalog.Column{Type: catalog.Numeric, Precision: 39, Scale: 2}, "VARCHAR"},
		{catalog.Column{Type: catalog.Int8}, "BIGINT"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			require.Equal(t, tc.want, tc.col.DuckDB())
		})
	}
}
