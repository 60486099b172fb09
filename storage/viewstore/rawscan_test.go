package viewstore_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/storage/viewstore"
)

// TestRawScan: Scan reads every column type it decodes straight from DuckDB's vectors
// (extremes, NULLs, strings inline and not, rows in Parquet segments and not) into the
// batch database/sql reads; a relation with a column it does not decode (a DECIMAL
// numeric, an interval) goes through database/sql; a cancelled scan fails.
func TestRawScan(t *testing.T) {
	viewstore.SetSegmentMinRows(t, 1000)
	dir := t.TempDir()
	s := open(t, filepath.Join(dir, "raw.duckdb"))
	cols := chunkColumns()
	texts := []string{"", "a", "twelve bytes", "thirteen byte", "ééééé¢", "éééééé", "日本語のテキスト", strings.Repeat("long ", 50)}
	ints := []int64{0, 1, -1, math.MaxInt64, math.MinInt64 + 1, 1 << 40}
	floats := []float64{0, math.Copysign(0, -1), 1.5, -2.25e300, math.Inf(1), math.Inf(-1), math.NaN(), math.SmallestNonzeroFloat64}
	stamps := []int64{0, -1, 1_780_000_000_123_456, -2_208_988_800_000_000, 253_402_300_799_999_999} // 1900 and 9999
	row := func(i int) []delta.Value {
		r := []delta.Value{I(ints[i%len(ints)]), I(stamps[i%len(stamps)]), I(stamps[(i+1)%len(stamps)]), S(texts[i%len(texts)]),
			F(floats[i%len(floats)]), B(i%2 == 0), I(int64(int16(i * 977))), I(int64(int32(i * 1_000_003))),
			I(int64(i%5000) - 2500), S(texts[(i+3)%len(texts)]), delta.Numeric(fmt.Sprintf("%d.%02d", i-1000, i%100)),
			delta.Jsonb(fmt.Sprintf(`{"a": %d}`, i)), F(float64(float32(floats[(i+2)%len(floats)])))}
		if i%7 == 0 {
			r[i%len(r)] = null(r[i%len(r)].Kind)
		}
		if i%11 == 0 {
			r[(i+4)%len(r)] = null(r[(i+4)%len(r)].Kind)
		}
		return r
	}
	rel := relation(1, "raw", catalog.Source, cols...)
	inTick(t, s, 1, func(tx *viewstore.Tx) {
		require.NoError(t, tx.CreateRelation(rel))
		b := delta.New(kindsOf(rel))
		for i := range 3000 {
			b.AppendRow(row(i), 1)
		}
		require.NoError(t, tx.InsertBatches(rel, []*delta.Batch{b}))
	})
	inTick(t, s, 2, func(tx *viewstore.Tx) { // rows outside the segment too
		b := delta.New(kindsOf(rel))
		for i := 3000; i < 3100; i++ {
			b.AppendRow(row(i), 1)
		}
		require.NoError(t, tx.Insert(rel, b))
	})
	segs, err := filepath.Glob(filepath.Join(dir, "segments", "*.parquet"))
	require.NoError(t, err)
	require.NotEmpty(t, segs, "the first 3000 rows are a segment")
	read := func(raw bool, rel *catalog.Relation) []string {
		was := viewstore.SetRawScan(raw)
		defer viewstore.SetRawScan(was)
		return scan(t, s, rel)
	}
	before := viewstore.RawScans()
	got := read(true, rel)
	require.Equal(t, before+1, viewstore.RawScans(), "read raw")
	want := read(false, rel)
	require.Equal(t, before+1, viewstore.RawScans())
	require.Len(t, got, 3100)
	require.Equal(t, want, got)
	require.Contains(t, strings.Join(got, "\n"), "日本語のテキスト")

	// A DECIMAL numeric or an interval: database/sql.
	for id, col := range []catalog.Column{{Name: "n", Type: catalog.Numeric, Precision: 12, Scale: 2}, {Name: "iv", Type: catalog.Interval}} {
		other := relation(uint64(10+id), fmt.Sprint("other", id), catalog.Source, catalog.Column{Name: "i", Type: catalog.Int8}, col)
		inTick(t, s, uint64(3+id), func(tx *viewstore.Tx) {
			require.NoError(t, tx.CreateRelation(other))
			v := delta.Numeric("12.50")
			if col.Type == catalog.Interval {
				v = delta.Interval(1, 2, 3)
			}
			require.NoError(t, tx.Insert(other, batch(other, []delta.Value{I(1), v}, []delta.Value{I(2), null(v.Kind)})))
		})
		before := viewstore.RawScans()
		require.Len(t, read(true, other), 2)
		require.Equal(t, before, viewstore.RawScans(), "%s: not read raw", col.Type)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = s.Scan(ctx, rel)
	require.ErrorIs(t, err, context.Canceled)
}
