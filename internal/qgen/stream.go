package qgen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// WriteKind is what a Write does.
type WriteKind int

// The write kinds. Upsert and Append carry rows (so a failing stream can be shrunk row by
// row); Update and Delete are one statement each.
const (
	Upsert WriteKind = iota // INSERT INTO a table … ON CONFLICT (k) DO …
	Append                  // INSERT INTO a source
	Update                  // UPDATE a table … WHERE …
	Delete                  // DELETE FROM a table … WHERE …
)

// Write is one write statement of a stream: one tick in Weir.
type Write struct {
	Kind     WriteKind
	Rel      string
	Rows     [][]string // Upsert, Append: one SQL literal per column of Rel, in column order
	Conflict string     // Upsert: the ON CONFLICT clause
	Stmt     string     // Update, Delete: the whole statement
}

// SQL renders the write. Both engines get exactly this text.
func (w Write) SQL() string {
	if w.Kind == Update || w.Kind == Delete {
		return w.Stmt
	}
	rel, _ := RelationNamed(w.Rel)
	names := make([]string, len(rel.Columns))
	for i, c := range rel.Columns {
		names[i] = c.Name
	}
	rows := make([]string, len(w.Rows))
	for i, r := range w.Rows {
		rows[i] = "(" + strings.Join(r, ", ") + ")"
	}
	s := "INSERT INTO " + w.Rel + " (" + strings.Join(names, ", ") + ") VALUES " + strings.Join(rows, ", ")
	if w.Conflict != "" {
		s += " " + w.Conflict
	}
	return s
}

// WithRows returns a copy of w with rows in place of its rows.
func (w Write) WithRows(rows [][]string) Write {
	w.Rows = rows
	return w
}

// Stream generates writes. Its domains are small and skewed: key 1 of each table is hot
// (about a third of the keys written), g is 1 about half the time, and every non-key column
// is NULL now and then. Source inserts repeat rows (a source is a bag). Values stay small
// so that no query's arithmetic or sum can overflow, whatever the stream's length
// (updates add at most 1 to v per write).
type Stream struct {
	r      *rand.Rand
	loaded bool
}

// NewStream returns a stream generator seeded with seed.
func NewStream(seed uint64) *Stream {
	return &Stream{r: rand.New(rand.NewPCG(seed, 0x5eed5eed5eed5eed))}
}

func (s *Stream) p(prob float64) bool { return s.r.Float64() < prob }
func (s *Stream) n(k int) int         { return s.r.IntN(k) }

func pickStr(r *rand.Rand, xs ...string) string { return xs[r.IntN(len(xs))] }

// Writes returns the next n writes. A stream's first writes load every relation with
// several rows (one relation per write, so the views see each load as its own tick), so
// that joins and filters have data to work on from early on.
func (s *Stream) Writes(n int) []Write {
	out := make([]Write, n)
	for i := range out {
		if !s.loaded && i < len(Relations) {
			out[i] = s.load(Relations[i])
			continue
		}
		out[i] = s.Write()
	}
	s.loaded = true
	return out
}

// load inserts 6 to 10 rows into rel.
func (s *Stream) load(rel Relation) Write {
	n := 6 + s.n(5)
	if rel.IsSource() {
		w := s.appendRows(rel.Name)
		for len(w.Rows) < n {
			w.Rows = append(w.Rows, s.appendRows(rel.Name).Rows...)
		}
		return w
	}
	w := s.upsert(rel.Name)
	seen := map[string]bool{}
	for _, r := range w.Rows {
		seen[r[0]] = true
	}
	for try := 0; len(w.Rows) < n && try < 50; try++ {
		r := s.row(rel)
		r[0] = fmt.Sprint(s.n(keys)) // spread the keys: the hot key is there already
		if !seen[r[0]] {
			seen[r[0]] = true
			w.Rows = append(w.Rows, r)
		}
	}
	return w
}

// Write returns the next write.
func (s *Stream) Write() Write {
	switch x := s.n(100); {
	case x < 25:
		return s.upsert("ta")
	case x < 40:
		return s.upsert("tb")
	case x < 58:
		return s.appendRows("ea")
	case x < 68:
		return s.appendRows("eb")
	case x < 84:
		return s.update()
	default:
		return s.delete()
	}
}

func (s *Stream) key() string {
	if s.p(0.35) {
		return "1"
	}
	return strconv.Itoa(s.n(keys))
}

// keys is the size of the tables' key domain.
const keys = 16

// value returns a literal for column c; hot values come up far more often than others.
func (s *Stream) value(c Column) string {
	if !c.NotNull && s.p(0.12) {
		return "NULL"
	}
	switch c.Name {
	case "k":
		return s.key()
	case "g":
		if s.p(0.5) {
			return "1"
		}
		return strconv.Itoa(s.n(5))
	case "v":
		if s.p(0.25) {
			return "5"
		}
		return strconv.Itoa(s.n(16) - 3)
	case "s":
		if s.p(0.3) {
			return "'a'"
		}
		return pickStr(s.r, "'ab'", "'abc'", "'b'", "'B'", "''", "'ba'")
	case "w":
		if s.p(0.3) {
			return "0.5"
		}
		return pickStr(s.r, "-1.25", "0", "0.25", "1.5", "2", "3.75")
	case "b":
		return pickStr(s.r, "true", "false")
	case "ts":
		return s.tsValue()
	case "j":
		return jsonDoc(s.r)
	}
	panic("qgen: no domain for column " + c.Name)
}

func (s *Stream) row(rel Relation) []string {
	r := make([]string, len(rel.Columns))
	for i, c := range rel.Columns {
		r[i] = s.value(c)
	}
	return r
}

func (s *Stream) upsert(name string) Write {
	rel, _ := RelationNamed(name)
	n := 1 + s.n(4)
	var rows [][]string
	seen := map[string]bool{}
	for i := 0; i < n; i++ {
		r := s.row(rel)
		if seen[r[0]] { // one INSERT … ON CONFLICT DO UPDATE must not touch a key twice
			continue
		}
		seen[r[0]] = true
		rows = append(rows, r)
	}
	var nonKey []string
	for _, c := range rel.Columns[1:] {
		nonKey = append(nonKey, c.Name)
	}
	var conflict string
	switch x := s.n(100); {
	case x < 55:
		conflict = "ON CONFLICT (k) DO UPDATE SET " + assignExcluded(nonKey)
	case x < 72:
		var some []string
		for _, c := range nonKey {
			if s.p(0.5) {
				some = append(some, c)
			}
		}
		if len(some) == 0 {
			some = nonKey[:1]
		}
		conflict = "ON CONFLICT (k) DO UPDATE SET " + assignExcluded(some)
	case x < 82:
		conflict = "ON CONFLICT (k) DO NOTHING"
	case x < 91:
		// An update that reads the existing row: the hot key's v or w creeps up.
		if name == "ta" {
			conflict = "ON CONFLICT (k) DO UPDATE SET v = ta.v + 1, s = excluded.s"
		} else {
			conflict = "ON CONFLICT (k) DO UPDATE SET w = tb.w + 0.25, g = excluded.g"
		}
	default:
		if name == "ta" {
			conflict = "ON CONFLICT (k) DO UPDATE SET g = excluded.g, b = excluded.b WHERE ta.v > 3"
		} else {
			conflict = "ON CONFLICT (k) DO UPDATE SET s = excluded.s WHERE tb.g = 1"
		}
	}
	return Write{Kind: Upsert, Rel: name, Rows: rows, Conflict: conflict}
}

func assignExcluded(cols []string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = c + " = excluded." + c
	}
	return strings.Join(parts, ", ")
}

func (s *Stream) appendRows(name string) Write {
	rel, _ := RelationNamed(name)
	n := 1 + s.n(5)
	var rows [][]string
	for i := 0; i < n; i++ {
		if i > 0 && s.p(0.25) {
			rows = append(rows, rows[s.n(len(rows))]) // a duplicate row
			continue
		}
		rows = append(rows, s.row(rel))
	}
	return Write{Kind: Append, Rel: name, Rows: rows}
}

func (s *Stream) colValue(rel, col string) string {
	r, _ := RelationNamed(rel)
	for _, c := range r.Columns {
		if c.Name == col {
			return s.value(c)
		}
	}
	panic("qgen: no column " + rel + "." + col)
}

func (s *Stream) update() Write {
	var stmt string
	if s.p(0.6) {
		switch s.n(7) {
		case 0:
			stmt = fmt.Sprintf("UPDATE ta SET v = v + 1 WHERE k %% 3 = %d", s.n(3))
		case 1:
			stmt = fmt.Sprintf("UPDATE ta SET g = %s WHERE k = %s", s.colValue("ta", "g"), s.key())
		case 2:
			where := "g = " + strconv.Itoa(s.n(5))
			if s.p(0.25) {
				where = "g IS NULL"
			}
			stmt = fmt.Sprintf("UPDATE ta SET s = %s, b = %s WHERE %s", s.colValue("ta", "s"), s.colValue("ta", "b"), where)
		case 3:
			stmt = fmt.Sprintf("UPDATE ta SET v = NULL WHERE v > %d", 5+s.n(6))
		case 4:
			stmt = "UPDATE ta SET b = NOT b WHERE s LIKE 'a%'"
		case 5:
			stmt = s.timeUpdate()
		default:
			stmt = fmt.Sprintf("UPDATE ta SET v = %s, s = %s WHERE k = %s", s.colValue("ta", "v"), s.colValue("ta", "s"), s.key())
		}
		return Write{Kind: Update, Rel: "ta", Stmt: stmt}
	}
	switch s.n(5) {
	case 0:
		stmt = fmt.Sprintf("UPDATE tb SET w = w + 0.25 WHERE g = %d", s.n(5))
	case 4:
		stmt = fmt.Sprintf("UPDATE tb SET j = %s WHERE k = %s", s.colValue("tb", "j"), s.key())
	case 1:
		stmt = fmt.Sprintf("UPDATE tb SET g = %s, s = %s WHERE k = %s", s.colValue("tb", "g"), s.colValue("tb", "s"), s.key())
	case 2:
		stmt = fmt.Sprintf("UPDATE tb SET w = NULL WHERE k %% 4 = %d", s.n(4))
	default:
		stmt = fmt.Sprintf("UPDATE tb SET g = %s WHERE s = %s", s.colValue("tb", "g"), s.colValue("tb", "s"))
	}
	return Write{Kind: Update, Rel: "tb", Stmt: stmt}
}

func (s *Stream) delete() Write {
	rel := "ta"
	if s.p(0.4) {
		rel = "tb"
	}
	var where string
	// Mostly one key (often the hot one), sometimes a group of rows: deletes should not
	// empty the tables faster than upserts fill them.
	switch x := s.n(100); {
	case x < 55:
		where = " WHERE k = " + s.key()
	case x < 68:
		where = fmt.Sprintf(" WHERE g = %d", s.n(5))
	case x < 80:
		where = fmt.Sprintf(" WHERE k %% 4 = %d", s.n(4))
	case x < 98:
		if rel == "ta" {
			where = pickStr(s.r, " WHERE v IS NULL", " WHERE v > 8", " WHERE s LIKE 'a%'", " WHERE b")
		} else {
			where = pickStr(s.r, " WHERE w IS NULL", " WHERE w > 1.5", " WHERE s IS NULL", " WHERE g IS NULL")
		}
	default:
		where = "" // everything: groups empty, global aggregates go back to their empty row
	}
	return Write{Kind: Delete, Rel: rel, Stmt: "DELETE FROM " + rel + where}
}
