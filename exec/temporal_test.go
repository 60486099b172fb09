package exec

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// timedTick is one step of a temporal script: the pushes, then Advance at Now.
type timedTick struct {
	now   int64
	push  []string
	want  string
	state int64 // StateRows after the tick
}

// runTemporal drives f through ticks (columns: id, ts) and checks each tick's output
// and state size.
func runTemporal(t *testing.T, f *TemporalFilter, ticks []timedTick) {
	t.Helper()
	for n, tk := range ticks {
		out := delta.New(f.OutKinds())
		for _, p := range tk.push {
			require.NoError(t, f.Push(t.Context(), 0, rows(t, ints2, p), out))
		}
		require.NoError(t, f.Advance(t.Context(), Tick{Seq: uint64(n + 1), Now: tk.now}, out), "tick %d", n+1)
		require.Equal(t, lines(rows(t, ints2, tk.want)), lines(out), "tick %d (now %d)", n+1, tk.now)
		require.Equal(t, tk.state, f.StateRows(), "tick %d: state rows", n+1)
	}
}

// window is the filter ts <= now() AND ts + 10 > now(): a row is valid for [ts, ts+10).
func window() []TemporalBound {
	return []TemporalBound{
		{Expr: col(1), Inclusive: true},
		{Expr: bin(expr.OpAdd, col(1), lit(10)), Upper: true},
	}
}

func TestTemporalFilter(t *testing.T) {
	tests := []struct {
		name   string
		bounds []TemporalBound
		ticks  []timedTick
	}{
		{
			name:   "pending, valid, expired",
			bounds: window(),
			ticks: []timedTick{
				{now: 50, push: []string{"1 100 +1\n2 45 +1"}, want: "2 45 +1", state: 2},
				{now: 54, state: 2},
				{now: 55, want: "2 45 -1", state: 1},
				{now: 99, state: 1},
				{now: 100, want: "1 100 +1", state: 1},
				{now: 109, state: 1},
				{now: 110, want: "1 100 -1", state: 0},
				{now: 500, state: 0},
			},
		},
		{
			name:   "retraction of a pending row emits nothing",
			bounds: window(),
			ticks: []timedTick{
				{now: 0, push: []string{"1 100 +1"}, state: 1},
				{now: 10, push: []string{"1 100 -1"}, state: 0},
				{now: 100, state: 0},
			},
		},
		{
			name:   "retraction of a valid row is emitted",
			bounds: window(),
			ticks: []timedTick{
				{now: 100, push: []string{"1 100 +1"}, want: "1 100 +1", state: 1},
				{now: 105, push: []string{"1 100 -1"}, want: "1 100 -1", state: 0},
				{now: 110, state: 0},
			},
		},
		{
			name:   "retraction of an expired row emits nothing",
			bounds: window(),
			ticks: []timedTick{
				{now: 100, push: []string{"1 100 +1"}, want: "1 100 +1", state: 1},
				{now: 110, want: "1 100 -1", state: 0},
				{now: 120, push: []string{"1 100 -1"}, state: 0},
			},
		},
		{
			name:   "retraction in the tick the row expires",
			bounds: window(),
			ticks: []timedTick{
				{now: 100, push: []string{"1 100 +2"}, want: "1 100 +2", state: 1},
				{now: 110, push: []string{"1 100 -1"}, want: "1 100 -2", state: 0},
			},
		},
		{
			name:   "retraction in the tick the row becomes valid",
			bounds: window(),
			ticks: []timedTick{
				{now: 0, push: []string{"1 100 +3"}, state: 1},
				{now: 100, push: []string{"1 100 -1"}, want: "1 100 +2", state: 1},
				{now: 110, want: "1 100 -2", state: 0},
			},
		},
		{
			name:   "weights and duplicates",
			bounds: window(),
			ticks: []timedTick{
				{now: 5, push: []string{"1 100 +2", "1 100 +1\n2 5 +4"}, want: "2 5 +4", state: 2},
				{now: 6, push: []string{"2 5 -1"}, want: "2 5 -1", state: 2},
				{now: 100, push: []string{"1 100 +1"}, want: "1 100 +4\n2 5 -3", state: 1},
				{now: 101, push: []string{"1 100 -4"}, want: "1 100 -4", state: 0},
			},
		},
		{
			name:   "insert and retract within one tick cancel",
			bounds: window(),
			ticks: []timedTick{
				{now: 100, push: []string{"1 100 +1", "1 100 -1", "2 100 -1", "2 100 +1"}, state: 0},
			},
		},
		{
			name:   "already expired on arrival: dropped, never stored",
			bounds: window(),
			ticks: []timedTick{
				{now: 200, push: []string{"1 100 +1\n2 195 +1\n3 190 +1"}, want: "2 195 +1", state: 1},
				{now: 200, push: []string{"1 100 -1"}, state: 1},
			},
		},
		{
			name:   "a jump over a pending row's whole interval emits nothing",
			bounds: window(),
			ticks: []timedTick{
				{now: 0, push: []string{"1 100 +1\n2 1000 +1"}, state: 2},
				{now: 500, state: 1},
				{now: 5000, push: []string{"2 1000 -1"}, state: 0},
			},
		},
		{
			name:   "NULL bounds never pass",
			bounds: window(),
			ticks: []timedTick{
				{now: 100, push: []string{"1 NULL +1\n2 100 +1"}, want: "2 100 +1", state: 1},
				{now: 105, push: []string{"1 NULL -1"}, state: 1},
			},
		},
		{
			name:   "exclusive lower and inclusive upper bounds",
			bounds: []TemporalBound{{Expr: col(1)}, {Expr: bin(expr.OpAdd, col(1), lit(10)), Upper: true, Inclusive: true}},
			ticks: []timedTick{
				{now: 100, push: []string{"1 100 +1"}, state: 1},
				{now: 101, want: "1 100 +1", state: 1},
				{now: 110, state: 1},
				{now: 111, want: "1 100 -1", state: 0},
			},
		},
		{
			name:   "an empty interval is never valid",
			bounds: []TemporalBound{{Expr: col(1)}, {Expr: col(1), Upper: true, Inclusive: true}},
			ticks: []timedTick{
				{now: 0, push: []string{"1 100 +1"}, state: 0},
				{now: 100, state: 0},
			},
		},
		{
			name:   "upper bound only: valid from the start",
			bounds: []TemporalBound{{Expr: bin(expr.OpAdd, col(1), lit(10)), Upper: true}},
			ticks: []timedTick{
				{now: 0, push: []string{"1 100 +1\n2 -50 +1"}, want: "1 100 +1", state: 1},
				{now: 110, want: "1 100 -1", state: 0},
			},
		},
		{
			name:   "lower bound only: never expires",
			bounds: []TemporalBound{{Expr: col(1), Inclusive: true}},
			ticks: []timedTick{
				{now: 0, push: []string{"1 100 +1\n2 -50 +1"}, want: "2 -50 +1", state: 2},
				{now: 100, want: "1 100 +1", state: 2},
				{now: math.MaxInt64 - 1, push: []string{"2 -50 -1"}, want: "2 -50 -1", state: 1},
			},
		},
		{
			name: "several bounds of each kind: the tightest wins",
			bounds: []TemporalBound{
				{Expr: col(1), Inclusive: true},
				{Expr: bin(expr.OpAdd, col(1), lit(5)), Inclusive: true},
				{Expr: bin(expr.OpAdd, col(1), lit(20)), Upper: true},
				{Expr: bin(expr.OpAdd, col(1), lit(8)), Upper: true},
			},
			ticks: []timedTick{
				{now: 100, push: []string{"1 100 +1"}, state: 1},
				{now: 105, want: "1 100 +1", state: 1},
				{now: 108, want: "1 100 -1", state: 0},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runTemporal(t, NewTemporalFilter(ints2, tc.bounds), tc.ticks)
		})
	}
}

func TestTemporalFilterString(t *testing.T) {
	f := NewTemporalFilter(ints2, []TemporalBound{
		{Expr: col(1), Inclusive: true},
		{Expr: bin(expr.OpAdd, col(1), lit(10)), Upper: true},
		{Expr: col(0)},
		{Expr: col(0), Upper: true, Inclusive: true},
	})
	require.Equal(t, "TemporalFilter(#1 <= now() AND (#1 + 10) > now() AND #0 < now() AND #0 >= now())", f.String())
	require.Equal(t, ints2, f.OutKinds())
	err := f.Push(t.Context(), 1, delta.New(ints2), delta.New(ints2))
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(err))

	bad := NewTemporalFilter(ints2, []TemporalBound{{Expr: expr.NewConst(delta.Str("x"), catalog.Text)}})
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(bad.Advance(t.Context(), Tick{}, delta.New(ints2))))
	require.Equal(t, sqlerr.Internal, sqlerr.CodeOf(NewTemporalFilter(ints2, nil).Advance(t.Context(), Tick{}, delta.New(ints2))))
}

// TestTemporalFilterRowErrors: a bound that raises a data exception sets the row aside
// with its weight, and its retraction retracts the error; outside a Dataflow the error
// is returned.
func TestTemporalFilterRowErrors(t *testing.T) {
	div := bin(expr.OpAdd, col(1), bin(expr.OpDiv, lit(100), col(0))) // ts + 100/id
	bounds := []TemporalBound{{Expr: col(1), Inclusive: true}, {Expr: div, Upper: true}}
	d := NewDataflow()
	src := d.AddSource("t", ints2)
	d.Add(NewTemporalFilter(ints2, bounds), src)

	out, err := d.Step(t.Context(), Tick{Seq: 1, Now: 10}, map[string]*delta.Batch{"t": rows(t, ints2, "0 5 +2\n10 5 +1")})
	require.NoError(t, err)
	require.Equal(t, []string{"10 5 +1"}, lines(out))
	require.Equal(t, []string{"22012 (0, 5) 2"}, errorRows(d.Errors()))

	out, err = d.Step(t.Context(), Tick{Seq: 2, Now: 15}, map[string]*delta.Batch{"t": rows(t, ints2, "0 5 -2")})
	require.NoError(t, err)
	require.Equal(t, []string{"10 5 -1"}, lines(out))
	require.Equal(t, []string{"22012 (0, 5) -2"}, errorRows(d.Errors()))

	f := NewTemporalFilter(ints2, bounds)
	require.NoError(t, f.Push(t.Context(), 0, rows(t, ints2, "0 5 +1"), nil))
	require.Equal(t, sqlerr.DivisionByZero, sqlerr.CodeOf(f.Advance(t.Context(), Tick{Now: 1}, delta.New(ints2))))
}

// TestTemporalFilterRandom checks random streams of changes against the definition:
// after every tick, the sum of the output equals the input rows valid at that tick's
// Now, and state holds no expired row.
// TestTemporalFilterRandom checks the filter's output and state over random ticks, and
// that a snapshot taken between two ticks and encoded some ticks later encodes the state
// as it was (the filter copies a row it changes after a snapshot, and keeps working).
func TestTemporalFilterRandom(t *testing.T) {
	type snapshot struct {
		encode func([]byte) []byte
		want   []byte
		at     int // the tick after which it is encoded
	}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		f := NewTemporalFilter(ints2, window())
		input := map[[2]int64]int64{}
		output := map[[2]int64]int64{}
		now := int64(0)
		var snaps []snapshot
		for tk := range 40 {
			if rng.IntN(3) == 0 {
				encode := f.Snapshot()
				snaps = append(snaps, snapshot{encode: encode, want: f.AppendState(nil), at: tk + rng.IntN(4)})
			}
			var push []string
			for range rng.IntN(3) {
				var sb strings.Builder
				for range rng.IntN(5) {
					r := [2]int64{rng.Int64N(4), now - 15 + rng.Int64N(40)}
					w := int64(rng.IntN(3) + 1)
					if input[r] > 0 && rng.IntN(2) == 0 {
						w = -min(input[r], w)
					}
					input[r] += w
					sb.WriteString(strconv.FormatInt(r[0], 10) + " " + strconv.FormatInt(r[1], 10) + " " + signed(w) + "\n")
				}
				push = append(push, sb.String())
			}
			now += rng.Int64N(8)
			if rng.IntN(10) == 0 {
				now += 100
			}
			out := delta.New(ints2)
			for _, p := range push {
				require.NoError(t, f.Push(t.Context(), 0, rows(t, ints2, p), out))
			}
			require.NoError(t, f.Advance(t.Context(), Tick{Seq: uint64(tk + 1), Now: now}, out))
			for i := range out.Len() {
				output[[2]int64{out.Cols[0].I64[i], out.Cols[1].I64[i]}] += out.Weights[i]
			}
			live := int64(0)
			for r, w := range input {
				want := int64(0)
				if r[1] <= now && now < r[1]+10 {
					want = w
				}
				require.Equal(t, want, output[r], "seed %d tick %d now %d row %v", seed, tk+1, now, r)
				if w != 0 && now < r[1]+10 {
					live++
				}
			}
			require.Equal(t, live, f.StateRows(), "seed %d tick %d: state holds exactly the pending and valid rows", seed, tk+1)
			snaps = slices.DeleteFunc(snaps, func(s snapshot) bool {
				if s.at > tk {
					return false
				}
				require.Equal(t, s.want, s.encode(nil), "seed %d tick %d: a snapshot encodes the state it was taken of", seed, tk+1)
				return true
			})
		}
	}
}

// TestTemporalFilterSnapshotForever: rows that never expire are in no heap; a snapshot
// lists them too, with the weight they had.
func TestTemporalFilterSnapshotForever(t *testing.T) {
	f := NewTemporalFilter(ints2, []TemporalBound{{Expr: col(1), Inclusive: true}}) // ts <= now()
	runTemporal(t, f, []timedTick{
		{now: 5, push: []string{"1 1 +1\n2 3 +2\n3 9 +1"}, want: "1 1 +1\n2 3 +2", state: 3},
	})
	encode, want := f.Snapshot(), f.AppendState(nil)
	runTemporal(t, f, []timedTick{
		{now: 6, push: []string{"1 1 +2\n2 3 -2\n3 9 +1\n4 4 +1"}, want: "1 1 +2\n2 3 -2\n4 4 +1", state: 3},
		{now: 9, want: "3 9 +2", state: 3},
	})
	require.Equal(t, want, encode(nil))
	g := NewTemporalFilter(ints2, []TemporalBound{{Expr: col(1), Inclusive: true}})
	require.NoError(t, g.LoadState(want))
	runTemporal(t, g, []timedTick{{now: 9, want: "3 9 +1", state: 3}})
}

func signed(w int64) string {
	if w > 0 {
		return "+" + strconv.FormatInt(w, 10)
	}
	return strconv.FormatInt(w, 10)
}
