package plan

import (
	"fmt"
	"time"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
)

// WindowScan is TUMBLE(rel, col, size) or HOP(rel, col, slide, size) in FROM: the rows of
// rel, each once per window containing its event time, with window_start and
// window_end appended. Over a source with a WATERMARK, rows late for a window (it had
// closed when they arrived) are left out of that window.
type WindowScan struct {
	Rel    *catalog.Relation
	Alias  string
	Window exec.Window
	// Read lists which columns of the schema the nodes above read (nil: all of them);
	// see exec.WindowAssign.Narrow.
	Read []bool
}

// Hop reports whether the windows overlap (HOP rather than TUMBLE).
func (w *WindowScan) Hop() bool { return w.Window.Slide != w.Window.Size }

// Watermarked reports whether rel is a source with a watermark.
func (w *WindowScan) Watermarked() bool { return w.Rel.Watermark != nil }

func (w *WindowScan) Schema() []Column {
	cols := make([]Column, 0, len(w.Rel.Columns)+2)
	for _, c := range w.Rel.Columns {
		cols = append(cols, Column{Table: w.Alias, Name: c.Name, Type: c.Type})
	}
	t := w.Rel.Columns[w.Window.TimeCol].Type
	return append(cols, Column{Table: w.Alias, Name: "window_start", Type: t}, Column{Table: w.Alias, Name: "window_end", Type: t})
}
func (w *WindowScan) Children() []Node { return nil }
func (w *WindowScan) String() string {
	d := func(us int64) string { return (time.Duration(us) * time.Microsecond).String() }
	col := w.Rel.Columns[w.Window.TimeCol].Name
	s := fmt.Sprintf("Tumble(%s, %s, %s", w.Rel.Name, col, d(w.Window.Size))
	if w.Hop() {
		s = fmt.Sprintf("Hop(%s, %s, %s, %s", w.Rel.Name, col, d(w.Window.Slide), d(w.Window.Size))
	}
	if w.Window.Offset != 0 {
		s += ", " + d(w.Window.Offset)
	}
	if w.Read != nil {
		s += "; rows merged by pane"
	}
	return s + ")"
}

// WindowClose is EMIT ON WINDOW CLOSE: Input's rows are held until the watermark passes
// the end of their window, then emitted once, final.
type WindowClose struct {
	Input  Node
	Expiry exec.Expiry
}

func (c *WindowClose) Schema() []Column { return c.Input.Schema() }
func (c *WindowClose) Children() []Node { return []Node{c.Input} }
func (c *WindowClose) String() string {
	return "EmitOnWindowClose(" + c.Input.Schema()[c.Expiry.Col].Name + ")"
}

// SessionScan is SESSION(rel, col, gap) in FROM: the rows of rel, each with the bounds of
// its session appended (window_start: its first event time, window_end: its last plus
// Gap). Sessions are per Partition (rel's columns the view groups by, besides the
// window), which the binder fills in from GROUP BY.
type SessionScan struct {
	Rel       *catalog.Relation
	Alias     string
	TimeCol   int
	Gap       int64 // µs
	Partition []int
}

// Watermarked reports whether rel is a source with a watermark.
func (s *SessionScan) Watermarked() bool { return s.Rel.Watermark != nil }

func (s *SessionScan) Schema() []Column {
	return (&WindowScan{Rel: s.Rel, Alias: s.Alias, Window: exec.Window{TimeCol: s.TimeCol}}).Schema()
}
func (s *SessionScan) Children() []Node { return nil }
func (s *SessionScan) String() string {
	str := fmt.Sprintf("Session(%s, %s, %s", s.Rel.Name, s.Rel.Columns[s.TimeCol].Name, (time.Duration(s.Gap) * time.Microsecond).String())
	if len(s.Partition) > 0 {
		str += "; partition="
		for i, c := range s.Partition {
			if i > 0 {
				str += ", "
			}
			str += s.Rel.Columns[c].Name
		}
	}
	return str + ")"
}
