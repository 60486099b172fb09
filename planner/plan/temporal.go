package plan

import (
	"strings"

	"github.com/weirdb/weir/exec"
)

// TemporalFilter keeps each row of Input while the tick's clock lies within the row's
// Bounds: the WHERE conjuncts of a view that compare a row expression with now() ± a
// constant, rewritten as bounds on now() computed from the row (see
// planner/temporal.go). Rows enter and leave its output as time passes.
type TemporalFilter struct {
	Input  Node
	Bounds []exec.TemporalBound
}

func (t *TemporalFilter) Schema() []Column { return t.Input.Schema() }
func (t *TemporalFilter) Children() []Node { return []Node{t.Input} }
func (t *TemporalFilter) String() string {
	parts := make([]string, len(t.Bounds))
	for i, b := range t.Bounds {
		parts[i] = b.String()
	}
	return "TemporalFilter(" + strings.Join(parts, " AND ") + ")"
}
