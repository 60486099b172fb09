package exec

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// A Tick is one logical timestamp; all views move to it together (DESIGN §4).
type Tick struct {
	Seq uint64 // monotonic, persisted with checkpoints
	// Now is the tick's wall-clock time in µs since the Unix epoch (UTC): what now()
	// means for temporal filters during this tick. It never decreases from tick to tick.
	Now int64
	// Watermarks holds each watermarked source's event-time watermark after this tick's
	// input, in µs since the epoch: no later event of that source with an earlier event
	// time will be accepted. A source without an entry has no watermark yet.
	Watermarks map[string]int64
}

// NoWatermark is the watermark of a source that has seen no event yet.
const NoWatermark int64 = math.MinInt64

// Watermark returns the smallest watermark of sources (the one a result derived from all
// of them has: joins take the minimum), or NoWatermark when one of them has none.
func (t Tick) Watermark(sources ...string) int64 {
	if len(sources) == 0 {
		return NoWatermark
	}
	w := int64(math.MaxInt64)
	for _, s := range sources {
		v, ok := t.Watermarks[s]
		if !ok {
			return NoWatermark
		}
		w = min(w, v)
	}
	return w
}

// An Operator is one node of a dataflow. A Dataflow calls an operator from one goroutine
// at a time, so operators keep their state without locks; other operators of the same
// dataflow may run at the same time, so an operator shares no mutable state with them
// and must not be shared between nodes or dataflows.
type Operator interface {
	// Push delivers b on input port in (0 for unary operators) during the current tick and
	// appends the resulting changes to out, whose columns are OutKinds. b is valid only
	// during the call and must not be modified; out is owned by the caller. An error
	// carries a SQLSTATE (*sqlerr.Error) and leaves the operator's state unspecified.
	Push(ctx context.Context, in int, b *delta.Batch, out *delta.Batch) error
	// Advance closes tick t after all its input was pushed; buffered output (aggregate
	// updates, and later window close or temporal-filter expiry) is emitted here as
	// ordinary changes appended to out. It is called exactly once per tick, also for a
	// tick without input.
	Advance(ctx context.Context, t Tick, out *delta.Batch) error
	// String names the node for EXPLAIN, logs and metrics:
	// "HashAggregate(group=#0; count(*), sum(#1))".
	String() string
	// OutKinds returns the kinds of the output columns. The caller must not modify the
	// result.
	OutKinds() []delta.Kind
}

// inputChecker is implemented by operators that know the column kinds of their input
// ports, so Dataflow.Add can reject a miswired graph before the first tick.
type inputChecker interface {
	inKinds() [][]delta.Kind
}

// isTrue reports whether v is the boolean TRUE (not NULL, not false): the WHERE and ON rule.
func isTrue(v delta.Value) bool { return v.Kind == delta.KindBool && !v.Null && v.B }

// configError is the error an operator built with an invalid configuration returns from
// every Push and Advance. Constructors have no error result (the planner calls them
// after binding), so a planner bug surfaces as XX000 on the first tick instead of a panic.
func configError(op, format string, args ...any) *sqlerr.Error {
	return sqlerr.New(sqlerr.Internal, "internal error: %s: %s", op, fmt.Sprintf(format, args...))
}

// portError is returned when an operator is pushed on a port it does not have.
func portError(op string, in int) error {
	return sqlerr.New(sqlerr.Internal, "internal error: %s has no input port %d", op, in)
}

// colList renders column indexes as "#0, #2".
func colList(cols []int) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = colName(c)
	}
	return strings.Join(parts, ", ")
}

func colName(c int) string { return "#" + strconv.Itoa(c) }

// checkCols validates column indexes against an input of n columns.
func checkCols(op, what string, cols []int, n int) *sqlerr.Error {
	for _, c := range cols {
		if c < 0 || c >= n {
			return configError(op, "%s column %d out of range (input has %d columns)", what, c, n)
		}
	}
	return nil
}
