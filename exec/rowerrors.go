package exec

import (
	"errors"
	"strconv"
	"strings"

	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// RowErrorKinds are the columns of a dataflow's error batch: the operator that failed,
// the SQLSTATE, the message, the input row (its values as text) and the failing node's
// NodeID.
var RowErrorKinds = []delta.Kind{delta.KindString, delta.KindString, delta.KindString, delta.KindString, delta.KindInt}

// IsRowError reports whether err is a data exception (SQLSTATE class 22: overflow,
// division by zero, a bad cast) caused by one row's values. Such an error does not stop
// a dataflow: the row is set aside and the error recorded with the row's weight, so the
// error disappears again when the row is retracted. Any other error stops the tick.
func IsRowError(err error) bool {
	var e *sqlerr.Error
	return errors.As(err, &e) && strings.HasPrefix(string(e.Code), "22")
}

// rowErrors collects the error rows of one node in one tick. Operators that evaluate
// expressions per row get one from the dataflow (errorReporter), each their own.
type rowErrors struct {
	b    *delta.Batch
	node NodeID // the node whose errors these are
}

// add records err for row with weight w (negative when the row is being retracted).
func (r *rowErrors) add(op string, err error, row []delta.Value, w int64) {
	if r == nil || r.b == nil {
		return
	}
	e := sqlerr.As(err)
	var sb strings.Builder
	sb.WriteByte('(')
	for i, v := range row {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(valueText(v))
	}
	sb.WriteByte(')')
	r.b.AppendRow([]delta.Value{delta.Str(op), delta.Str(string(e.Code)), delta.Str(e.Msg), delta.Str(sb.String()), delta.Int(int64(r.node))}, w)
}

func valueText(v delta.Value) string {
	if v.Null {
		return "NULL"
	}
	switch v.Kind {
	case delta.KindInt:
		return strconv.FormatInt(v.I, 10)
	case delta.KindFloat:
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	case delta.KindBool:
		if v.B {
			return "t"
		}
		return "f"
	case delta.KindInterval:
		return expr.IntervalOf(v).String()
	}
	return v.S
}

// errorReporter is implemented by operators that set rows with data exceptions aside
// instead of failing the tick.
type errorReporter interface {
	setErrors(*rowErrors)
}
