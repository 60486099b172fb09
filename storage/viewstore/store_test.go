package viewstore_test

import (
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
	"github.com/weirdb/weir/storage/viewstore"
)

func open(t *testing.T, path string) *viewstore.Store {
	t.Helper()
	s, err := viewstore.Open(t.Context(), path, slog.New(slog.NewTextHandler(t.Output(), nil)))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// inTick runs fn in one tick's transaction and commits it as tick.
func inTick(t *testing.T, s *viewstore.Store, tick uint64, fn func(tx *viewstore.Tx)) {
	t.Helper()
	tx, err := s.Begin(t.Context())
	require.NoError(t, err)
	fn(tx)
	require.NoError(t, tx.Commit(tick))
}

func relation(id uint64, name string, kind catalog.Kind, cols ...catalog.Column) *catalog.Relation {
	return &catalog.Relation{ID: id, Name: name, Kind: kind, Columns: cols, SQL: "-- DDL of " + name}
}

func kindsOf(rel *catalog.Relation) []delta.Kind {
	ks := make([]delta.Kind, len(rel.Columns))
	for i, c := range rel.Columns {
		ks[i] = c.Type.Kind()
	}
	return ks
}

func batch(rel *catalog.Relation, rows ...[]delta.Value) *delta.Batch {
	b := delta.New(kindsOf(rel))
	for _, r := range rows {
		b.AppendRow(r, 1)
	}
	return b
}

// render prints a value exactly (NaN and -0 included) so rows compare as strings.
func render(v delta.Value) string {
	if v.Null {
		return "NULL"
	}
	switch v.Kind {
	case delta.KindInt:
		return strconv.FormatInt(v.I, 10)
	case delta.KindFloat:
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	case delta.KindString:
		return strconv.Quote(v.S)
	case delta.KindBool:
		return strconv.FormatBool(v.B)
	case delta.KindNumeric:
		return "n" + v.S
	}
	return "?"
}

// rows renders every row of b, each repeated by its weight, sorted.
func rows(b *delta.Batch) []string {
	out := []string{}
	for i := 0; i < b.Len(); i++ {
		parts := make([]string, len(b.Cols))
		for c := range b.Cols {
			parts[c] = render(b.Cols[c].Get(i))
		}
		for range b.Weights[i] {
			out = append(out, strings.Join(parts, " "))
		}
	}
	slices.Sort(out)
	return out
}

func scan(t *testing.T, s *viewstore.Store, rel *catalog.Relation) []string {
	t.Helper()
	b, err := s.Scan(t.Context(), rel)
	require.NoError(t, err)
	for _, w := range b.Weights {
		require.Equal(t, int64(1), w, "Scan returns each stored row with weight 1")
	}
	require.Equal(t, kindsOf(rel), b.Kinds())
	return rows(b)
}

var (
	I    = delta.Int
	F    = delta.Float
	S    = delta.Str
	B    = delta.Bool
	null = delta.Null
)

func us(s string) int64 {
	tm, err := time.Parse("2006-01-02 15:04:05.999999", s)
	if err != nil {
		panic(err)
	}
	return tm.UnixMicro()
}

func days(s string) int64 {
	tm, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return int64(math.Floor(float64(tm.Unix()) / 86400))
}

// allTypes has a column of every catalog type.
func allTypes(id uint64, name string) *catalog.Relation {
	return relation(id, name, catalog.Table,
		catalog.Column{Name: "b", Type: catalog.Bool},
		catalog.Column{Name: "i2", Type: catalog.Int2},
		catalog.Column{Name: "i4", Type: catalog.Int4},
		catalog.Column{Name: "i8", Type: catalog.Int8},
		catalog.Column{Name: "f4", Type: catalog.Float4},
		catalog.Column{Name: "f8", Type: catalog.Float8},
		catalog.Column{Name: "t", Type: catalog.Text},
		catalog.Column{Name: "v", Type: catalog.Varchar},
		catalog.Column{Name: "ts", Type: catalog.Timestamp},
		catalog.Column{Name: "tz", Type: catalog.Timestamptz},
		catalog.Column{Name: "d", Type: catalog.Date},
	)
}

func TestRoundTripEveryType(t *testing.T) {
	f32 := func(x float64) delta.Value { return F(float64(float32(x))) }
	tests := []struct {
		name string
		row  []delta.Value
	}{
		{"ordinary values", []delta.Value{B(true), I(7), I(-42), I(1 << 40), f32(0.1), F(0.1), S("héllo"), S("wörld"),
			I(us("2024-01-15 10:30:00")), I(us("2024-01-15 10:30:00.5")), I(days("2024-02-29"))}},
		{"bounds", []delta.Value{B(false), I(math.MinInt16), I(math.MinInt32), I(math.MinInt64), f32(math.MaxFloat32), F(-math.MaxFloat64),
			S(""), S(`quote ' and " and \`), I(us("2262-04-11 23:47:16.854775")), I(us("0001-01-01 00:00:00")), I(days("9999-12-31"))}},
		{"upper bounds", []delta.Value{B(true), I(math.MaxInt16), I(math.MaxInt32), I(math.MaxInt64), f32(1e-40), F(5e-324),
			S("日本語 👍🏽"), S("x"), I(0), I(0), I(0)}},
		{"before the epoch, with fractions", []delta.Value{B(true), I(0), I(0), I(0), f32(-1.5), F(-0.25), S("a"), S("b"),
			I(-1), I(us("1969-12-31 23:59:58.5")), I(-1)}},
		{"long ago", []delta.Value{B(true), I(-1), I(-1), I(-1), f32(1234567), F(1e300), S("a"), S("b"),
			I(us("1066-10-14 09:00:00.000001")), I(us("1900-01-01 00:00:00")), I(days("1066-10-14"))}},
		{"special floats", []delta.Value{B(true), I(1), I(1), I(1), F(math.NaN()), F(math.Inf(-1)), S("a"), S("b"),
			I(1), I(1), I(1)}},
		{"infinity and negative zero", []delta.Value{B(true), I(1), I(1), I(1), F(math.Inf(1)), F(math.Copysign(0, -1)), S("a"), S("b"),
			I(1), I(1), I(1)}},
		{"all NULL", []delta.Value{null(delta.KindBool), null(delta.KindInt), null(delta.KindInt), null(delta.KindInt),
			null(delta.KindFloat), null(delta.KindFloat), null(delta.KindString), null(delta.KindString),
			null(delta.KindInt), null(delta.KindInt), null(delta.KindInt)}},
	}
	s := open(t, "")
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rel := allTypes(uint64(i+1), fmt.Sprintf("types_%d", i))
			b := batch(rel, tc.row)
			inTick(t, s, uint64(i+1), func(tx *viewstore.Tx) {
				require.NoError(t, tx.CreateRelation(rel))
				require.NoError(t, tx.Insert(rel, b))
			})
			require.Equal(t, rows(b), scan(t, s, rel))
		})
	}
}

func TestTimeZoneIsUTCOnEveryConnection(t *testing.T) {
	s := open(t, "")
	ctx := t.Context()
	// Hold several connections at once so the pool must open new ones.
	var conns []interface{ Close() error }
	for range 3 {
		c, err := s.DB().Conn(ctx)
		require.NoError(t, err)
		conns = append(conns, c)
		var tz string
		require.NoError(t, c.QueryRowContext(ctx, `SELECT current_setting('TimeZone')`).Scan(&tz))
		require.Equal(t, "UTC", tz)
	}
	for _, c := range conns {
		require.NoError(t, c.Close())
	}
}

func TestTimestampsMeanTheSameInstantInDuckDB(t *testing.T) {
	s := open(t, "")
	rel := relation(1, "times", catalog.Source,
		catalog.Column{Name: "ts", Type: catalog.Timestamp},
		catalog.Column{Name: "tz", Type: catalog.Timestamptz},
		catalog.Column{Name: "d", Type: catalog.Date})
	inTick(t, s, 1, func(tx *viewstore.Tx) {
		require.NoError(t, tx.CreateRelation(rel))
		require.NoError(t, tx.Insert(rel, batch(rel,
			[]delta.Value{I(us("2024-01-15 10:30:00.123456")), I(us("1969-12-31 23:59:59.5")), I(days("1900-03-01"))})))
	})
	// Ad-hoc reads run on DuckDB, so DuckDB must read the same wall-clock values.
	var ts, tz, d string
	require.NoError(t, s.DB().QueryRowContext(t.Context(),
		`SELECT ts::VARCHAR, tz::VARCHAR, d::VARCHAR FROM times`).Scan(&ts, &tz, &d))
	require.Equal(t, "2024-01-15 10:30:00.123456", ts)
	require.Equal(t, "1969-12-31 23:59:59.5+00", tz)
	require.Equal(t, "1900-03-01", d)
}

func TestInsertWeights(t *testing.T) {
	s := open(t, "")
	rel := relation(1, "w", catalog.View,
		catalog.Column{Name: "k", Type: catalog.Int8},
		catalog.Column{Name: "v", Type: catalog.Text})
	b := delta.New(kindsOf(rel))
	b.AppendRow([]delta.Value{I(1), S("a")}, 2)
	b.AppendRow([]delta.Value{I(2), S("b")}, 0)
	b.AppendRow([]delta.Value{I(3), S("c")}, 1)
	b.AppendRow([]delta.Value{I(4), S("d")}, 300) // more copies than one INSERT chunk
	inTick(t, s, 1, func(tx *viewstore.Tx) {
		require.NoError(t, tx.CreateRelation(rel))
		require.NoError(t, tx.Insert(rel, b))
		require.NoError(t, tx.Insert(rel, delta.New(kindsOf(rel))), "an empty batch is a no-op")
	})
	got := scan(t, s, rel)
	require.Len(t, got, 303)
	count := map[string]int{}
	for _, r := range got {
		count[r]++
	}
	require.Equal(t, map[string]int{`1 "a"`: 2, `3 "c"`: 1, `4 "d"`: 300}, count)
}

// TestInsertManyRows checks that a large Insert or DeleteMatching (which DuckDB reads a
// chunk at a time through weir_batch) does exactly what small ones (through the
// Appender) do: every type, NULLs, weights, more rows than a chunk, and a DECIMAL
// column, which always takes the Appender.
// chunkColumns is a column of each type weir_batch writes.
func chunkColumns() []catalog.Column {
	return []catalog.Column{{Name: "i", Type: catalog.Int8}, {Name: "tz", Type: catalog.Timestamptz},
		{Name: "ts", Type: catalog.Timestamp}, {Name: "s", Type: catalog.Text}, {Name: "f", Type: catalog.Float8},
		{Name: "b", Type: catalog.Bool}, {Name: "i2", Type: catalog.Int2}, {Name: "i4", Type: catalog.Int4},
		{Name: "d", Type: catalog.Date}, {Name: "vc", Type: catalog.Varchar}, {Name: "n", Type: catalog.Numeric},
		{Name: "j", Type: catalog.Jsonb}, {Name: "f4", Type: catalog.Float4}}
}

func TestInsertManyRows(t *testing.T) {
	s := open(t, "")
	cols := chunkColumns()
	row := func(i int) []delta.Value {
		r := []delta.Value{I(int64(i) - 2500), I(1_780_000_000_000_000 + int64(i)*1_001), I(-int64(i) * 7_000_001),
			S(fmt.Sprintf("row %d é", i)), delta.Float(float64(i) / 3), delta.Bool(i%2 == 0), I(int64(i%300) - 150),
			I(int64(i) * 1000), I(int64(i) - 1000), S(fmt.Sprint(i % 10)), delta.Numeric(fmt.Sprintf("%d.%02d", i, i%100)),
			delta.Jsonb(fmt.Sprintf(`{"a": %d}`, i)), delta.Float(float64(i) / 7)}
		if i%7 == 0 {
			r[i%len(r)] = delta.Null(r[i%len(r)].Kind)
		}
		return r
	}
	for round, decimal := range []bool{false, true} {
		cols := slices.Clone(cols)
		if decimal {
			cols[10].Precision, cols[10].Scale = 12, 2
		}
		id := uint64(2*round + 1) // a new ID, as the catalog gives: staging tables are named by it
		big, small := relation(id, "big", catalog.Source, cols...), relation(id+1, "small", catalog.Source, cols...)
		b, keys := delta.New(kindsOf(big)), delta.New(kindsOf(big))
		for i := range 5000 {
			w := int64(1 + i%3)
			if i%11 == 0 {
				w = 0
			}
			b.AppendRow(row(i), w)
			if i%3 == 0 {
				keys.AppendRow(row(i), 1)
			}
		}
		inPieces := func(b *delta.Batch, fn func(part *delta.Batch)) {
			for at := 0; at < b.Len(); at += 100 {
				part := delta.New(b.Kinds())
				for i := at; i < min(at+100, b.Len()); i++ {
					part.AppendFrom(b, i, b.Weights[i])
				}
				fn(part)
			}
		}
		all := make([]int, len(cols))
		for i := range all {
			all[i] = i
		}
		inTick(t, s, 1, func(tx *viewstore.Tx) {
			require.NoError(t, tx.CreateRelation(big))
			require.NoError(t, tx.CreateRelation(small))
			require.NoError(t, tx.Insert(big, b))
			inPieces(b, func(part *delta.Batch) { require.NoError(t, tx.Insert(small, part)) })
		})
		// InsertBatches: runs of small batches concatenated, big ones on their own, in
		// order (pieces of 100, 600, 50 and 1000 rows).
		mixed := relation(id+100, "mixed", catalog.Source, cols...)
		var parts []*delta.Batch
		for at, k := 0, 0; at < b.Len(); k++ {
			n := []int{100, 600, 50, 1000}[k%4]
			part := delta.New(b.Kinds())
			for i := at; i < min(at+n, b.Len()); i++ {
				part.AppendFrom(b, i, b.Weights[i])
			}
			parts, at = append(parts, part), at+n
		}
		inTick(t, s, 1, func(tx *viewstore.Tx) {
			require.NoError(t, tx.CreateRelation(mixed))
			require.NoError(t, tx.InsertBatches(mixed, parts))
		})
		require.Equal(t, scan(t, s, big), scan(t, s, mixed), "InsertBatches: the same rows in the same order")
		inTick(t, s, 1, func(tx *viewstore.Tx) { require.NoError(t, tx.DropRelation(mixed.Name)) })

		got, want := scan(t, s, big), scan(t, s, small)
		require.Greater(t, len(want), 9000)
		slices.Sort(got)
		slices.Sort(want)
		require.Equal(t, want, got)

		inTick(t, s, 2, func(tx *viewstore.Tx) {
			require.NoError(t, tx.DeleteMatching(big, all, keys))
			inPieces(keys, func(part *delta.Batch) { require.NoError(t, tx.DeleteMatching(small, all, part)) })
		})
		got, want = scan(t, s, big), scan(t, s, small)
		require.Less(t, len(want), 8000)
		slices.Sort(got)
		slices.Sort(want)
		require.Equal(t, want, got)
		inTick(t, s, 3, func(tx *viewstore.Tx) {
			require.NoError(t, tx.DropRelation(big.Name))
			require.NoError(t, tx.DropRelation(small.Name))
		})
	}

	// A read cannot call weir_batch to see (or disturb) a batch being inserted.
	_, err := s.DB().ExecContext(t.Context(), `SELECT * FROM weir_batch(1)`)
	require.Error(t, err)
}

func TestDeleteMatching(t *testing.T) {
	// timestamp and real keys are staged; timestamptz and double precision ones (and
	// bigint, text) may go as parameters of a direct DELETE when there are few.
	for _, types := range [][2]catalog.Type{{catalog.Timestamp, catalog.Float4}, {catalog.Timestamptz, catalog.Float8}} {
		t.Run(types[0].String(), func(t *testing.T) { testDeleteMatching(t, types[0], types[1]) })
	}
}

func testDeleteMatching(t *testing.T, tsType, floatType catalog.Type) {
	rel := relation(1, "m", catalog.View,
		catalog.Column{Name: "k", Type: catalog.Int8},
		catalog.Column{Name: "v", Type: catalog.Text},
		catalog.Column{Name: "at", Type: tsType},
		catalog.Column{Name: "f", Type: floatType})
	at := I(us("2024-01-01 00:00:00.25"))
	base := func() *delta.Batch {
		b := delta.New(kindsOf(rel))
		b.AppendRow([]delta.Value{I(1), S("a"), at, F(0.5)}, 2) // two copies
		b.AppendRow([]delta.Value{I(2), null(delta.KindString), at, F(1)}, 1)
		b.AppendRow([]delta.Value{null(delta.KindInt), S("x"), null(delta.KindInt), null(delta.KindFloat)}, 1)
		b.AppendRow([]delta.Value{I(3), S("c"), at, F(2)}, 1)
		b.AppendRow([]delta.Value{I(3), S("c"), at, F(3)}, 1)
		return b
	}
	all := []int{0, 1, 2, 3}
	tests := []struct {
		name    string
		keyCols []int
		keys    [][]delta.Value // rows of the key columns only, in keyCols order
		left    []string
	}{
		{"whole row matches every copy", all, [][]delta.Value{{I(1), S("a"), at, F(0.5)}},
			[]string{`2 NULL 1704067200250000 1`, `3 "c" 1704067200250000 2`, `3 "c" 1704067200250000 3`, `NULL "x" NULL NULL`}},
		{"NULL matches NULL", all, [][]delta.Value{{I(2), null(delta.KindString), at, F(1)}, {null(delta.KindInt), S("x"), null(delta.KindInt), null(delta.KindFloat)}},
			[]string{`1 "a" 1704067200250000 0.5`, `1 "a" 1704067200250000 0.5`, `3 "c" 1704067200250000 2`, `3 "c" 1704067200250000 3`}},
		{"NULL does not match a value", all, [][]delta.Value{{I(2), S(""), at, F(1)}, {null(delta.KindInt), S("x"), at, null(delta.KindFloat)}},
			[]string{`1 "a" 1704067200250000 0.5`, `1 "a" 1704067200250000 0.5`, `2 NULL 1704067200250000 1`, `3 "c" 1704067200250000 2`, `3 "c" 1704067200250000 3`, `NULL "x" NULL NULL`}},
		{"a key column deletes every row with the key", []int{0}, [][]delta.Value{{I(3)}},
			[]string{`1 "a" 1704067200250000 0.5`, `1 "a" 1704067200250000 0.5`, `2 NULL 1704067200250000 1`, `NULL "x" NULL NULL`}},
		{"keys in another column order", []int{1, 0}, [][]delta.Value{{S("c"), I(3)}, {S("a"), I(1)}},
			[]string{`2 NULL 1704067200250000 1`, `NULL "x" NULL NULL`}},
		{"a NULL key", []int{0}, [][]delta.Value{{null(delta.KindInt)}},
			[]string{`1 "a" 1704067200250000 0.5`, `1 "a" 1704067200250000 0.5`, `2 NULL 1704067200250000 1`, `3 "c" 1704067200250000 2`, `3 "c" 1704067200250000 3`}},
		{"float4 key", []int{3}, [][]delta.Value{{F(0.5)}, {F(2)}},
			[]string{`2 NULL 1704067200250000 1`, `3 "c" 1704067200250000 3`, `NULL "x" NULL NULL`}},
		{"no keys", all, nil,
			[]string{`1 "a" 1704067200250000 0.5`, `1 "a" 1704067200250000 0.5`, `2 NULL 1704067200250000 1`, `3 "c" 1704067200250000 2`, `3 "c" 1704067200250000 3`, `NULL "x" NULL NULL`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, "")
			inTick(t, s, 1, func(tx *viewstore.Tx) {
				require.NoError(t, tx.CreateRelation(rel))
				require.NoError(t, tx.Insert(rel, base()))
			})
			kk := make([]delta.Kind, len(tc.keyCols))
			for i, c := range tc.keyCols {
				kk[i] = rel.Columns[c].Type.Kind()
			}
			keys := delta.New(kk)
			for _, k := range tc.keys {
				keys.AppendRow(k, 1)
			}
			inTick(t, s, 2, func(tx *viewstore.Tx) {
				require.NoError(t, tx.DeleteMatching(rel, tc.keyCols, keys))
			})
			require.Equal(t, tc.left, scan(t, s, rel))
		})
	}
}

func TestDeleteMatchingManyRows(t *testing.T) {
	s := open(t, "")
	rel := relation(1, "many", catalog.Source,
		catalog.Column{Name: "k", Type: catalog.Int4},
		catalog.Column{Name: "d", Type: catalog.Date})
	all := delta.New(kindsOf(rel))
	odd := delta.New(kindsOf(rel))
	for i := range 700 { // several chunks of both INSERT and DELETE
		row := []delta.Value{I(int64(i)), I(int64(i - 350))}
		all.AppendRow(row, 1)
		if i%2 == 1 {
			odd.AppendRow(row, 1)
		}
	}
	inTick(t, s, 1, func(tx *viewstore.Tx) {
		require.NoError(t, tx.CreateRelation(rel))
		require.NoError(t, tx.Insert(rel, all))
	})
	inTick(t, s, 2, func(tx *viewstore.Tx) {
		require.NoError(t, tx.DeleteMatching(rel, []int{0, 1}, odd))
	})
	got := scan(t, s, rel)
	require.Len(t, got, 350)
	for _, r := range got {
		k, _, _ := strings.Cut(r, " ")
		n, err := strconv.Atoi(k)
		require.NoError(t, err)
		require.Equal(t, 0, n%2, r)
	}
}

func TestCatalogAndTicks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "weir.duckdb")
	s := open(t, path)
	ctx := t.Context()

	entries, tick, err := s.LoadCatalog(ctx)
	require.NoError(t, err)
	require.Empty(t, entries)
	require.Zero(t, tick, "a new store has applied no tick")

	src := relation(1, "events", catalog.Source, catalog.Column{Name: "id", Type: catalog.Int8})
	tbl := relation(2, `we"ird name`, catalog.Table, catalog.Column{Name: "select", Type: catalog.Text}, catalog.Column{Name: "order", Type: catalog.Int2})
	view := relation(3, "v", catalog.View, catalog.Column{Name: "n", Type: catalog.Int8})
	view.SQL = "CREATE MATERIALIZED VIEW v AS SELECT count(*) AS n FROM events WHERE 'it''s' <> ''"
	inTick(t, s, 5, func(tx *viewstore.Tx) {
		require.NoError(t, tx.CreateRelation(view)) // creation order is by ID, not by call order
		require.NoError(t, tx.CreateRelation(src))
		require.NoError(t, tx.CreateRelation(tbl))
		require.NoError(t, tx.Insert(tbl, batch(tbl, []delta.Value{S("x"), I(1)})))
	})
	want := []viewstore.CatalogEntry{
		{ID: 1, Name: "events", Kind: "source", SQL: src.SQL},
		{ID: 2, Name: `we"ird name`, Kind: "table", SQL: tbl.SQL},
		{ID: 3, Name: "v", Kind: "materialized view", SQL: view.SQL},
	}
	entries, tick, err = s.LoadCatalog(ctx)
	require.NoError(t, err)
	require.Equal(t, want, entries)
	require.Equal(t, uint64(5), tick)

	t.Run("a later tick replaces the recorded one", func(t *testing.T) {
		inTick(t, s, 6, func(*viewstore.Tx) {})
		_, tick, err := s.LoadCatalog(ctx)
		require.NoError(t, err)
		require.Equal(t, uint64(6), tick)
	})

	t.Run("rollback leaves nothing", func(t *testing.T) {
		tx, err := s.Begin(ctx)
		require.NoError(t, err)
		gone := relation(4, "gone", catalog.Source, catalog.Column{Name: "x", Type: catalog.Int4})
		require.NoError(t, tx.CreateRelation(gone))
		require.NoError(t, tx.Insert(gone, batch(gone, []delta.Value{I(1)})))
		require.NoError(t, tx.Insert(tbl, batch(tbl, []delta.Value{S("y"), I(2)})))
		require.NoError(t, tx.DropRelation("events"))
		tx.Rollback()

		got, tick, err := s.LoadCatalog(ctx)
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.Equal(t, uint64(6), tick)
		_, err = s.Scan(ctx, gone)
		require.Error(t, err, "the table was never created")
		require.Equal(t, []string{`"x" 1`}, scan(t, s, tbl))
		require.Empty(t, scan(t, s, src))
	})

	t.Run("a failed statement reports XX000", func(t *testing.T) {
		tx, err := s.Begin(ctx)
		require.NoError(t, err)
		defer tx.Rollback()
		err = tx.CreateRelation(src) // already exists
		require.Error(t, err)
		require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(err))
	})

	t.Run("reopen keeps catalog, tick and rows", func(t *testing.T) {
		require.NoError(t, s.Close())
		s2 := open(t, path)
		got, tick, err := s2.LoadCatalog(ctx)
		require.NoError(t, err)
		require.Equal(t, want, got)
		require.Equal(t, uint64(6), tick)
		require.Equal(t, []string{`"x" 1`}, scan(t, s2, tbl))

		inTick(t, s2, 7, func(tx *viewstore.Tx) {
			require.NoError(t, tx.DropRelation(`we"ird name`))
			require.NoError(t, tx.Truncate(src))
		})
		got, tick, err = s2.LoadCatalog(ctx)
		require.NoError(t, err)
		require.Equal(t, []viewstore.CatalogEntry{want[0], want[2]}, got)
		require.Equal(t, uint64(7), tick)
		_, err = s2.Scan(ctx, tbl)
		require.Error(t, err, "the dropped table is gone")
		inTick(t, s2, 8, func(tx *viewstore.Tx) {
			require.NoError(t, tx.DropRelation("never existed"), "dropping a missing relation is a no-op")
		})
	})
}

func TestTruncate(t *testing.T) {
	s := open(t, "")
	rel := relation(1, "t", catalog.Table, catalog.Column{Name: "k", Type: catalog.Int4})
	inTick(t, s, 1, func(tx *viewstore.Tx) {
		require.NoError(t, tx.CreateRelation(rel))
		require.NoError(t, tx.Insert(rel, batch(rel, []delta.Value{I(1)}, []delta.Value{I(2)})))
	})
	inTick(t, s, 2, func(tx *viewstore.Tx) { require.NoError(t, tx.Truncate(rel)) })
	require.Empty(t, scan(t, s, rel))
}

func TestGoConversions(t *testing.T) {
	when := time.Date(1969, 12, 31, 23, 59, 59, 500_000_000, time.UTC)
	tests := []struct {
		name string
		in   any
		typ  catalog.Type
		want delta.Value
	}{
		{"nil", nil, catalog.Int4, delta.Null(delta.KindInt)},
		{"nil text", nil, catalog.Text, delta.Null(delta.KindString)},
		{"int8", int8(-3), catalog.Int2, I(-3)},
		{"int16", int16(math.MinInt16), catalog.Int2, I(math.MinInt16)},
		{"int32", int32(math.MaxInt32), catalog.Int4, I(math.MaxInt32)},
		{"int64", int64(math.MinInt64), catalog.Int8, I(math.MinInt64)},
		{"float32", float32(0.1), catalog.Float4, F(float64(float32(0.1)))},
		{"float64", 0.1, catalog.Float8, F(0.1)},
		{"string", "x", catalog.Varchar, S("x")},
		{"bool", true, catalog.Bool, B(true)},
		{"timestamp", when, catalog.Timestamp, I(-500_000)},
		{"timestamp in another zone", when.In(time.FixedZone("x", 3600)), catalog.Timestamptz, I(-500_000)},
		{"date before the epoch", time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), catalog.Date, I(-1)},
		{"date", time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC), catalog.Date, I(1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := viewstore.FromGo(tc.in, tc.typ)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	t.Run("unexpected Go type", func(t *testing.T) {
		_, err := viewstore.FromGo([]byte("x"), catalog.Text)
		require.Error(t, err)
	})

	back := []struct {
		v    delta.Value
		typ  catalog.Type
		want any
	}{
		{delta.Null(delta.KindInt), catalog.Int4, nil},
		{I(-2), catalog.Int2, int16(-2)},
		{I(-2), catalog.Int4, int32(-2)},
		{I(-2), catalog.Int8, int64(-2)},
		{F(0.5), catalog.Float4, float32(0.5)},
		{F(0.5), catalog.Float8, 0.5},
		{B(true), catalog.Bool, true},
		{S("s"), catalog.Text, "s"},
		{S("s"), catalog.Varchar, "s"},
		{I(-500_000), catalog.Timestamp, when},
		{I(-500_000), catalog.Timestamptz, when},
		{I(-1), catalog.Date, time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range back {
		t.Run("ToGo "+tc.typ.String(), func(t *testing.T) {
			require.Equal(t, tc.want, viewstore.ToGo(tc.v, tc.typ))
		})
	}
}

func TestQuote(t *testing.T) {
	require.Equal(t, `"a"`, viewstore.Quote("a"))
	require.Equal(t, `"we""ird"`, viewstore.Quote(`we"ird`))
	require.Equal(t, `"select"`, viewstore.Quote("select"))
}

func TestOpenFailure(t *testing.T) {
	_, err := viewstore.Open(t.Context(), filepath.Join(t.TempDir(), "missing", "dir", "x.duckdb"), slog.New(slog.NewTextHandler(t.Output(), nil)))
	require.Error(t, err)
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(err))
}

// TestLendBatches reads rows lent as several batches through weir_batch, as a read of an
// insert-only view does: batches of every size (none, one row, more than a DuckDB chunk),
// weights above 1 and 0, NULLs, and a numeric lent as DECIMAL(18,0). Every aggregate a
// read could take must see each row its weight times, and a second read of the same
// token the same rows.
func TestLendBatches(t *testing.T) {
	s := open(t, "")
	cols := []catalog.Column{{Name: "k", Type: catalog.Int8}, {Name: "v", Type: catalog.Text},
		{Name: "n", Type: catalog.Numeric}}
	rel := relation(1, "lent", catalog.View, cols...)
	var bs []*delta.Batch
	wantRows, wantK, wantN, nulls := 0, int64(0), int64(0), 0
	for _, size := range []int{0, 1, 3000, 0, 2048, 5} {
		b := delta.New(kindsOf(rel))
		for i := range size {
			w := int64(1 + i%3)
			if i%7 == 0 {
				w = 0
			}
			v := S(fmt.Sprint("v", i%5))
			if i%11 == 0 {
				v = delta.Null(delta.KindString)
				nulls += int(w)
			}
			b.AppendRow([]delta.Value{I(int64(i)), v, delta.Numeric(strconv.Itoa(i * 2))}, w)
			wantRows += int(w)
			wantK += int64(i) * w
			wantN += int64(i*2) * w
		}
		bs = append(bs, b)
	}
	token, release, ok := s.LendBatches(0, cols, bs, []bool{false, false, true})
	require.True(t, ok)
	defer release()
	for range 2 {
		var rows, k, n, nullV int64
		require.NoError(t, s.DB().QueryRowContext(t.Context(), fmt.Sprintf(
			`SELECT count(*), sum(k), sum(n), count(*) FILTER (WHERE v IS NULL) FROM weir_batch(%d)`, token)).Scan(&rows, &k, &n, &nullV))
		require.Equal(t, []int64{int64(wantRows), wantK, wantN, int64(nulls)}, []int64{rows, k, n, nullV})
	}
	// A column of another kind than the table's is refused: the caller reads the table.
	wrong := delta.New([]delta.Kind{delta.KindInt, delta.KindInt, delta.KindNumeric})
	_, _, ok = s.LendBatches(0, cols, []*delta.Batch{wrong}, nil)
	require.False(t, ok)
}
