package livegen

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schema is one relation the generator writes: a table of the pack (filled once, at
// start) or a source (an event stream). Its columns match queries/*.sql.
type Schema struct {
	Name    string
	Columns []Column
	// Key is the number of leading columns that form a table's primary key; 0 for a
	// source.
	Key int
}

// Column is a column of a Schema. Type is its SQL type: bigint, integer and text hold
// Go int64 and string values, timestamptz holds time.Time (UTC, microseconds).
type Column struct {
	Name, Type string
}

// Names returns the column names in order.
func (s Schema) Names() []string {
	out := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		out[i] = c.Name
	}
	return out
}

// Tables returns the pack's tables, in the order Generator.Tables fills them.
func Tables() []Schema {
	return []Schema{
		{Name: "anchors", Key: 1, Columns: []Column{{"anchor_id", "bigint"}, {"name", "text"}, {"agency", "text"}}},
		{Name: "rooms", Key: 1, Columns: []Column{{"room_id", "bigint"}, {"anchor_id", "bigint"}, {"category", "text"}, {"title", "text"}}},
		{Name: "users", Key: 1, Columns: []Column{{"user_id", "bigint"}, {"name", "text"}, {"level", "integer"}, {"region", "text"}}},
	}
}

// Source names, as in queries/10_sources.sql.
const (
	Comments     = "comments"
	Likes        = "likes"
	Gifts        = "gifts"
	ViewerEvents = "viewer_events"
	Follows      = "follows"
)

// Sources returns the pack's event streams.
func Sources() []Schema {
	ts := Column{"ts", "timestamptz"}
	return []Schema{
		{Name: Comments, Columns: []Column{{"room_id", "bigint"}, {"user_id", "bigint"}, {"body", "text"}, ts}},
		{Name: Likes, Columns: []Column{{"room_id", "bigint"}, {"user_id", "bigint"}, ts}},
		{Name: Gifts, Columns: []Column{{"room_id", "bigint"}, {"user_id", "bigint"}, {"gift", "text"}, {"price", "integer"}, {"count", "integer"}, ts}},
		{Name: ViewerEvents, Columns: []Column{{"room_id", "bigint"}, {"user_id", "bigint"}, {"action", "text"}, ts}},
		{Name: Follows, Columns: []Column{{"anchor_id", "bigint"}, {"user_id", "bigint"}, {"room_id", "bigint"}, ts}},
	}
}

// SourceSchema returns the source named name.
func SourceSchema(name string) (Schema, bool) {
	for _, s := range Sources() {
		if s.Name == name {
			return s, true
		}
	}
	return Schema{}, false
}

// UpsertSQL is one INSERT of rows into table t that updates the rows whose key exists
// (ON CONFLICT … DO UPDATE), so that filling the tables again is harmless.
func UpsertSQL(t Schema, rows [][]any) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(t.Name)
	b.WriteString(" (")
	b.WriteString(strings.Join(t.Names(), ", "))
	b.WriteString(") VALUES ")
	for i, row := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j, v := range row {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(Literal(v))
		}
		b.WriteByte(')')
	}
	b.WriteString(" ON CONFLICT (")
	b.WriteString(strings.Join(t.Names()[:t.Key], ", "))
	b.WriteString(") DO UPDATE SET ")
	for i, c := range t.Columns[t.Key:] {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Name + " = excluded." + c.Name)
	}
	return b.String()
}

// Literal renders a generated value as a SQL literal.
func Literal(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'"
	case time.Time:
		return "TIMESTAMPTZ '" + x.UTC().Format("2006-01-02 15:04:05.999999") + "+00'"
	}
	return "'" + strings.ReplaceAll(fmt.Sprint(v), "'", "''") + "'"
}
