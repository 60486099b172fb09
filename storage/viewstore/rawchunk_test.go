package viewstore_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/storage/viewstore"
)

// TestRawChunk: weir_batch's direct vector writes (rawchunk.go) store and lend exactly
// what duckdb-go's setters do, for every type it writes, NULLs, weights, strings short
// enough to be inlined and not, ASCII and not, and a read of some columns in another
// order than the table's (DuckDB's projection); a numeric lent as DECIMAL(18,0) from its
// text and from integers (a view's mirror holds it so). It fails when the mirror of
// duckdb.DataChunk no longer matches duckdb-go (the direct path is then never taken).
func TestRawChunk(t *testing.T) {
	s := open(t, "")
	cols := append(chunkColumns(), catalog.Column{Name: "ni", Type: catalog.Numeric}) // ni: lent as DECIMAL(18,0)
	texts := []string{"", "a", "twelve bytes", "thirteen byte", "é", "ééééé¢", "éééééé", "ascii and a long string of it", "日本語のテキスト"}
	b := delta.New([]delta.Kind{delta.KindInt, delta.KindInt, delta.KindInt, delta.KindString, delta.KindFloat, delta.KindBool,
		delta.KindInt, delta.KindInt, delta.KindInt, delta.KindString, delta.KindNumeric, delta.KindJsonb, delta.KindFloat, delta.KindNumeric})
	total := 0 // rows with their weights: five chunks of up to 2048
	for i := range 5000 {
		r := []delta.Value{I(int64(i)*1_000_003 - 2_500_000_000), I(1_780_000_000_000_000 + int64(i)*1_001), I(-int64(i) * 7_000_001),
			S(texts[i%len(texts)] + strings.Repeat("x", i%3)), F(float64(i) / 3), B(i%2 == 0), I(int64(i%300) - 150),
			I(int64(i)*1000 - 2_000_000), I(int64(i) - 1000), S(texts[(i+3)%len(texts)]), delta.Numeric(fmt.Sprintf("%d.%02d", i, i%100)),
			delta.Jsonb(fmt.Sprintf(`{"a": %d}`, i)), F(float64(i) / 7), delta.Numeric(fmt.Sprint(int64(i) * -123_456_789))}
		if i%7 == 0 {
			r[i%len(r)] = null(r[i%len(r)].Kind)
		}
		if i%13 == 0 {
			r[(i+5)%len(r)] = null(r[(i+5)%len(r)].Kind)
		}
		b.AppendRow(r, int64(1+i%3))
		total += 1 + i%3
	}
	ints := make([]bool, len(cols))
	ints[len(cols)-1] = true

	// What each path stores and lends; byInts is b with ni held as integers.
	byInts := &delta.Batch{Cols: append([]delta.Vector(nil), b.Cols...), Weights: b.Weights}
	ni := &b.Cols[len(cols)-1]
	asInts := delta.Vector{Kind: delta.KindInt, Nulls: ni.Nulls, I64: make([]int64, b.Len())}
	for i, text := range ni.Str {
		if ni.Nulls == nil || !ni.Nulls[i] {
			n, ok := delta.NumericInt(text)
			require.True(t, ok, text)
			asInts.I64[i] = n
		}
	}
	byInts.Cols[len(cols)-1] = asInts
	run := func(raw bool, id uint64) (stored, lent, projected, grouped, byRow, byRowProjected []string) {
		was := viewstore.SetRawFill(raw)
		defer viewstore.SetRawFill(was)
		before := viewstore.RawColumns()
		rel := relation(id, fmt.Sprint("t", id), catalog.Source, cols...)
		inTick(t, s, id, func(tx *viewstore.Tx) {
			require.NoError(t, tx.CreateRelation(rel))
			require.NoError(t, tx.Insert(rel, b))
		})
		stored = scan(t, s, rel)
		token, release, ok := s.LendBatches(0, cols, []*delta.Batch{b}, ints)
		require.True(t, ok)
		defer release()
		intsToken, releaseInts, ok := s.LendBatches(0, cols, []*delta.Batch{byInts}, ints)
		require.True(t, ok)
		defer releaseInts()
		query := func(q string, token int64) []string {
			rows, err := s.DB().QueryContext(t.Context(), fmt.Sprintf(q, token))
			require.NoError(t, err)
			defer rows.Close()
			var out []string
			for rows.Next() {
				var line string
				require.NoError(t, rows.Scan(&line))
				out = append(out, line)
			}
			require.NoError(t, rows.Err())
			return out
		}
		lent = query(`SELECT t::VARCHAR FROM weir_batch(%d) t ORDER BY ALL`, token)
		projected = query(`SELECT concat_ws('|', ni, s, d, i) FROM weir_batch(%d) ORDER BY ALL`, token)
		// Equal strings must be equal to DuckDB's hashing and comparison too (an inlined
		// string is zero-padded).
		grouped = query(`SELECT concat_ws('|', s, count(*)) FROM weir_batch(%d) GROUP BY s ORDER BY ALL`, token)
		byRow = query(`SELECT t::VARCHAR FROM weir_batch(%d) t ORDER BY ALL`, intsToken)
		byRowProjected = query(`SELECT concat_ws('|', ni, s, d, i) FROM weir_batch(%d) ORDER BY ALL`, intsToken)
		if raw {
			// Every column of every chunk stored and lent (twice), the four projected (twice)
			// and the one grouped.
			chunks := (len(stored) + 2047) / 2048
			require.Equal(t, int64(chunks*(3*len(cols)+2*4+1)), viewstore.RawColumns()-before, "chunks written directly")
		} else {
			require.Equal(t, before, viewstore.RawColumns())
		}
		return stored, lent, projected, grouped, byRow, byRowProjected
	}
	rawStored, rawLent, rawProjected, rawGrouped, rawByRow, rawByRowProjected := run(true, 1)
	setStored, setLent, setProjected, setGrouped, setByRow, setByRowProjected := run(false, 2)
	require.Equal(t, setLent, setByRow, "ni lent from integers through the setters")
	require.Equal(t, setLent, rawByRow, "ni lent from integers")
	require.Equal(t, setProjected, setByRowProjected)
	require.Equal(t, setProjected, rawByRowProjected)
	require.Equal(t, setGrouped, rawGrouped)
	require.Len(t, rawGrouped, len(texts)+1) // i%9 fixes i%3: nine strings and NULL
	require.Len(t, rawStored, total)
	require.Equal(t, setStored, rawStored)
	require.Len(t, rawLent, total)
	require.Equal(t, setLent, rawLent)
	require.Equal(t, setProjected, rawProjected)
	require.Contains(t, strings.Join(rawLent, "\n"), "日本語のテキスト")
}
