package exec

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/internal/delta"
)

// wmTick is one step of a watermark-driven script: pushes, then Advance with the
// watermark of source "s" (NoWatermark when unset).
type wmTick struct {
	push string
	wm   int64
	want string
}

func wmScript(t *testing.T, op Operator, in []delta.Kind, ticks []wmTick) {
	t.Helper()
	for n, tk := range ticks {
		out := delta.New(op.OutKinds())
		if tk.push != "" {
			require.NoError(t, op.Push(t.Context(), 0, rows(t, in, tk.push), out), "tick %d", n+1)
		}
		wms := map[string]int64{"s": tk.wm}
		require.NoError(t, op.Advance(t.Context(), Tick{Seq: uint64(n + 1), Watermarks: wms}, out), "tick %d", n+1)
		require.Equal(t, lines(rows(t, op.OutKinds(), tk.want)), lines(out), "tick %d", n+1)
	}
}

func TestWindowAssign(t *testing.T) {
	// Rows are (key, ts); with arrival, (key, ts, arrival watermark).
	const none = "-9223372036854775808"
	tests := []struct {
		name    string
		w       Window
		arrival bool
		in      string
		want    string
	}{
		{"tumble", Window{TimeCol: 1, Size: 10, Slide: 10}, false,
			"1 0 +1\n1 9 +1\n2 10 +2\n3 -1 +1\n4 -10 -1",
			"1 0 0 10 +1\n1 9 0 10 +1\n2 10 10 20 +2\n3 -1 -10 0 +1\n4 -10 -10 0 -1"},
		{"tumble with offset", Window{TimeCol: 1, Size: 10, Slide: 10, Offset: 3}, false,
			"1 2 +1\n1 3 +1\n1 12 +1",
			"1 2 -7 3 +1\n1 3 3 13 +1\n1 12 3 13 +1"},
		{"hop: every window that contains the time", Window{TimeCol: 1, Size: 10, Slide: 5}, false,
			"1 7 +1\n2 10 -1",
			"1 7 0 10 +1\n1 7 5 15 +1\n2 10 5 15 -1\n2 10 10 20 -1"},
		{"hop whose size is not a multiple of the slide", Window{TimeCol: 1, Size: 10, Slide: 4}, false,
			"1 9 +1",
			"1 9 0 10 +1\n1 9 4 14 +1\n1 9 8 18 +1"},
		{"NULL time: the NULL tumbling window", Window{TimeCol: 1, Size: 10, Slide: 10}, false,
			"1 NULL +1", "1 NULL NULL NULL +1"},
		{"NULL time: no hopping window", Window{TimeCol: 1, Size: 10, Slide: 5}, false,
			"1 NULL +1", ""},
		{"late rows leave only the windows closed when they arrived", Window{TimeCol: 1, Size: 10, Slide: 5}, true,
			"1 7 10 +1\n2 7 9 +1\n3 7 15 +1\n4 7 " + none + " +1",
			"1 7 5 15 +1\n2 7 0 10 +1\n2 7 5 15 +1\n4 7 0 10 +1\n4 7 5 15 +1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := ints2
			if tc.arrival {
				in = ints3
			}
			op := NewWindowAssign(in, tc.w, tc.arrival)
			out := delta.New(op.OutKinds())
			require.NoError(t, op.Push(t.Context(), 0, rows(t, in, tc.in), out))
			require.Equal(t, lines(rows(t, op.OutKinds(), tc.want)), lines(out))
		})
	}
	t.Run("late pairs are counted", func(t *testing.T) {
		op := NewWindowAssign(ints3, Window{TimeCol: 1, Size: 10, Slide: 5}, true)
		require.NoError(t, op.Push(t.Context(), 0, rows(t, ints3, "1 7 10 +1\n3 7 15 +1"), delta.New(op.OutKinds())))
		require.EqualValues(t, 3, op.Late())
	})
	t.Run("bad configuration", func(t *testing.T) {
		op := NewWindowAssign(ints2, Window{TimeCol: 1, Size: 0, Slide: 0}, false)
		require.Error(t, op.Push(t.Context(), 0, rows(t, ints2, "1 1 +1"), delta.New(op.OutKinds())))
	})
}

func TestWindowClose(t *testing.T) {
	// Rows are (key, window_end); a window closes when the watermark reaches its end.
	op := NewWindowClose(ints2, Expiry{Col: 1, Sources: []string{"s"}})
	wmScript(t, op, ints2, []wmTick{
		{push: "1 10 +1\n2 20 +1", wm: NoWatermark},
		{push: "1 10 -1\n1 10 +1\n3 NULL +1", wm: 9},
		// the retraction and re-insertion of (1 10) cancel; the window emits once, final
		{push: "5 10 +1", wm: 10, want: "1 10 +1\n5 10 +1"},
		{wm: 15},
		{push: "2 20 -1\n2 20 +1\n7 30 +1", wm: 40, want: "2 20 +1\n7 30 +1"},
	})
	require.Zero(t, op.StateRows())
}

func TestWindowCloseWithStartColumn(t *testing.T) {
	// window_start plus the size is the end.
	op := NewWindowClose(ints2, Expiry{Col: 1, Offset: 10, Sources: []string{"s"}})
	wmScript(t, op, ints2, []wmTick{
		{push: "1 0 +1\n2 10 +1", wm: 9},
		{wm: 10, want: "1 0 +1"},
		{wm: 19},
		{wm: 20, want: "2 10 +1"},
	})
}

func TestHashAggregateForgetsClosedWindows(t *testing.T) {
	// (key, window_end, value): count(*) and sum per (key, window_end).
	h := NewHashAggregate(ints3, []int{0, 1}, []AggSpec{countStar(), agg(AggSum, 2)})
	h.SetExpiry(Expiry{Col: 1, Sources: []string{"s"}})
	wmScript(t, h, ints3, []wmTick{
		{push: "1 10 5 +1\n1 10 6 +1\n2 20 1 +1", wm: NoWatermark, want: "1 10 2 11 +1\n2 20 1 1 +1"},
		{push: "2 20 1 +1", wm: 10, want: "2 20 1 1 -1\n2 20 2 2 +1"},
	})
	require.EqualValues(t, 1, h.StateRows(), "window 10 is closed: its group is forgotten")
	wmScript(t, h, ints3, []wmTick{{wm: 25}})
	require.Zero(t, h.StateRows())
	require.Contains(t, h.String(), "state freed when #1 closed by watermark(s)")

	bad := NewHashAggregate(ints3, []int{0}, []AggSpec{countStar()})
	bad.SetExpiry(Expiry{Col: 1})
	require.Error(t, bad.Advance(t.Context(), Tick{}, delta.New(bad.OutKinds())))
}

func TestTickWatermark(t *testing.T) {
	tk := Tick{Watermarks: map[string]int64{"a": 5, "b": 3}}
	require.EqualValues(t, 3, tk.Watermark("a", "b"))
	require.EqualValues(t, 5, tk.Watermark("a"))
	require.Equal(t, NoWatermark, tk.Watermark("a", "c"))
	require.Equal(t, NoWatermark, tk.Watermark())
}

func TestTopNForgetsClosedWindows(t *testing.T) {
	// (window_end, value): the top 1 value per window.
	top := NewTopN(ints2, []int{0}, []SortKey{{Col: 1, Desc: true}}, 1, 0, RowNumber, false)
	top.SetExpiry(Expiry{Col: 0, Sources: []string{"s"}})
	wmScript(t, top, ints2, []wmTick{
		{push: "10 5 +1\n10 7 +1\n20 1 +1", wm: NoWatermark, want: "10 7 +1\n20 1 +1"},
		{push: "20 3 +1", wm: 10, want: "20 1 -1\n20 3 +1"},
	})
	require.EqualValues(t, 2, top.StateRows(), "window 10 is closed: its partition is forgotten")

	bad := NewTopN(ints2, []int{0}, nil, 1, 0, RowNumber, false)
	bad.SetExpiry(Expiry{Col: 1})
	require.Error(t, bad.Advance(t.Context(), Tick{}, delta.New(bad.OutKinds())))
}

func TestSessionAssign(t *testing.T) {
	// (key, ts) partitioned by key, gap 10: (key, ts, window_start, window_end).
	s := NewSessionAssign(ints2, 1, 10, []int{0}, nil)
	wmScript(t, s, ints2, []wmTick{
		{push: "1 0 +1\n1 5 +1\n1 30 +1\n2 3 +1\n3 NULL +1",
			want: "1 0 0 15 +1\n1 5 0 15 +1\n1 30 30 40 +1\n2 3 3 13 +1"},
		// 20 is a gap of 15 after 5 and of 10 before 30: a session of its own.
		{push: "1 20 +1", want: "1 20 20 30 +1"},
		// 12 bridges [0, 15) and [20, 30) into one session; 30 stays apart.
		{push: "1 12 +1", want: "1 0 0 15 -1\n1 5 0 15 -1\n1 20 20 30 -1\n" +
			"1 0 0 30 +1\n1 5 0 30 +1\n1 12 0 30 +1\n1 20 0 30 +1"},
		// A duplicate changes only its own row's multiplicity.
		{push: "1 5 +1", want: "1 5 0 30 -1\n1 5 0 30 +2"},
		// Retracting the bridge splits the session again.
		{push: "1 12 -1", want: "1 0 0 30 -1\n1 5 0 30 -2\n1 12 0 30 -1\n1 20 0 30 -1\n" +
			"1 0 0 15 +1\n1 5 0 15 +2\n1 20 20 30 +1"},
		{push: "2 3 -1", want: "2 3 3 13 -1"},
	})
	require.EqualValues(t, 4, s.StateRows())
}

func TestSessionAssignLateAndClosed(t *testing.T) {
	// (key, ts, arrival watermark) with the watermark of "s" closing sessions.
	const none = "-9223372036854775808"
	s := NewSessionAssign(ints3, 1, 10, []int{0}, []string{"s"})
	wmScript(t, s, ints3, []wmTick{
		{push: "1 0 " + none + " +1\n1 5 " + none + " +1\n1 30 " + none + " +1", wm: 20,
			want: "1 0 0 15 +1\n1 5 0 15 +1\n1 30 30 40 +1"},
		// [0, 15) has closed: it is forgotten, and 14 (behind the watermark) is dropped
		// instead of extending it.
		{push: "1 14 20 +1\n1 25 20 +1", wm: 20, want: "1 30 30 40 -1\n1 25 25 40 +1\n1 30 25 40 +1"},
	})
	require.EqualValues(t, 2, s.StateRows())
	require.EqualValues(t, 1, s.Late())
}

// TestWindowAssignByPane: a HOP narrowed to columns without its time column (Narrow)
// emits, per (columns read, window), the same total weight as the plain HOP, and
// drops the same (row, window) pairs as late, over random batches with retractions,
// weights above one, NULL times, late rows and an offset; it emits fewer rows when
// rows share a pane. A HOP whose time column is read, or whose size is not a multiple
// of its slide, is not narrowed.
func TestWindowAssignByPane(t *testing.T) {
	in := []delta.Kind{delta.KindInt, delta.KindInt, delta.KindInt, delta.KindInt} // key, other, ts, arrival watermark
	read := []bool{true, false, false}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, w := range []Window{{TimeCol: 2, Size: 30, Slide: 10}, {TimeCol: 2, Size: 60, Slide: 20, Offset: 7}, {TimeCol: 2, Size: 20, Slide: 10}} {
		plain, narrowed := NewWindowAssign(in, w, true), NewWindowAssign(in, w, true)
		narrowed.Narrow(read)
		require.Contains(t, narrowed.String(), "rows merged by pane")
		var plainRows, narrowedRows int
		for range 50 {
			b := delta.New(in)
			for range rng.IntN(200) {
				ts, arrival := delta.Int(rng.Int64N(120)-20), delta.Int(NoWatermark)
				if rng.IntN(20) == 0 {
					ts = delta.Null(delta.KindInt)
				}
				if rng.IntN(8) == 0 {
					arrival = delta.Int(rng.Int64N(120) - 20)
				}
				b.AppendRow([]delta.Value{delta.Int(rng.Int64N(4)), delta.Int(rng.Int64N(1000)), ts, arrival}, []int64{1, 1, -1, 2, -3}[rng.IntN(5)])
			}
			po, no := delta.New(plain.OutKinds()), delta.New(narrowed.OutKinds())
			require.NoError(t, plain.Push(t.Context(), 0, b, po))
			require.NoError(t, narrowed.Push(t.Context(), 0, b, no))
			require.Equal(t, windowTotals(po), windowTotals(no), "%+v", w)
			require.Equal(t, plain.Late(), narrowed.Late(), "%+v: late (row, window) pairs", w)
			for i := range no.Len() {
				require.True(t, no.Cols[1].Get(i).Null && no.Cols[2].Get(i).Null, "columns not read are NULL")
			}
			plainRows, narrowedRows = plainRows+po.Len(), narrowedRows+no.Len()
		}
		require.Positive(t, plain.Late())
		require.Less(t, narrowedRows, plainRows/2, "%+v: rows sharing a pane are merged", w)
		// A batch of more merged rows than the scratch keeps (a backfill), then a small
		// one, which starts from a fresh scratch: nothing carries over.
		for _, n := range []int{paneScratchMax + 100, 3} {
			b := delta.New(in)
			for i := range n {
				b.AppendRow([]delta.Value{delta.Int(int64(i)), delta.Int(0), delta.Int(int64(i % 50)), delta.Int(NoWatermark)}, 1)
			}
			po, no := delta.New(plain.OutKinds()), delta.New(narrowed.OutKinds())
			require.NoError(t, plain.Push(t.Context(), 0, b, po))
			require.NoError(t, narrowed.Push(t.Context(), 0, b, no))
			require.Equal(t, windowTotals(po), windowTotals(no), "%+v, %d rows", w, n)
		}
	}
	for _, tc := range []struct {
		w    Window
		read []bool
	}{
		{Window{TimeCol: 2, Size: 30, Slide: 10}, []bool{true, false, true}}, // the time is read
		{Window{TimeCol: 2, Size: 25, Slide: 10}, []bool{true, false, false}},
		{Window{TimeCol: 2, Size: 10, Slide: 10}, []bool{true, false, false}}, // TUMBLE
	} {
		a := NewWindowAssign(in, tc.w, true)
		a.Narrow(tc.read)
		require.NotContains(t, a.String(), "merged", "%+v", tc.w)
	}
}

// windowTotals is b's weight per (column 0, window_start, window_end), without zeros.
func windowTotals(b *delta.Batch) map[string]int64 {
	n := len(b.Cols)
	m := map[string]int64{}
	for i, w := range b.Weights {
		k := delta.RowKey([]delta.Value{b.Cols[0].Get(i), b.Cols[n-2].Get(i), b.Cols[n-1].Get(i)})
		if m[k] += w; m[k] == 0 {
			delete(m, k)
		}
	}
	return m
}
