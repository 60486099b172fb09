package httpapi

import (
	"bufio"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// The media types of view reads.
const (
	typeJSON   = "application/json"
	typeNDJSON = "application/x-ndjson"
	typeCSV    = "text/csv; charset=utf-8; header=present"
)

// view returns a view's contents at the current tick (the Weir-Tick header), from the
// rows held in memory: as a JSON array of objects (the default), NDJSON or CSV, chosen
// by ?format=json|ndjson|csv or else the Accept header. ?where=col=value keeps the rows
// with that value (several where parameters all apply), ?limit=n the first n rows. Rows
// come in order of their values, column by column; a row held n times appears n times.
func (a *API) view(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	q := r.URL.Query()
	format, err := readFormat(r)
	if err != nil {
		writeError(w, err)
		return
	}
	limit := -1
	if s := q.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 0 {
			writeError(w, sqlerr.New(sqlerr.InvalidParameterValue, "limit must be a non-negative integer, got %q", s))
			return
		}
	}
	snap, err := a.db.ViewSnapshot(name)
	if err != nil {
		writeError(w, err)
		return
	}
	filter, err := parseWhere(name, snap.Columns, q["where"])
	if err != nil {
		writeError(w, err)
		return
	}
	rows := snap.Rows
	order := make([]int, 0, rows.Len())
	for i := 0; i < rows.Len(); i++ {
		if filter(rows, i) {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(i, j int) int {
		for c := range rows.Cols {
			if x := delta.Compare(rows.Cols[c].Get(i), rows.Cols[c].Get(j)); x != 0 {
				return x
			}
		}
		return 0
	})

	enc := newRowEncoder(snap.Columns)
	w.Header().Set("Content-Type", format)
	w.Header().Set("Weir-Tick", strconv.FormatUint(snap.Tick, 10))
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 32<<10)
	defer bw.Flush()
	var buf []byte
	n := 0
	switch format {
	case typeJSON:
		bw.WriteByte('[')
	case typeCSV:
		bw.Write(enc.appendCSVHeader(nil))
	}
	for _, i := range order {
		for copies := rows.Weights[i]; copies > 0 && n != limit; copies-- {
			buf = buf[:0]
			switch format {
			case typeJSON:
				if n > 0 {
					buf = append(buf, ',')
				}
				buf = enc.appendJSON(buf, rows, i)
			case typeNDJSON:
				buf = append(enc.appendJSON(buf, rows, i), '\n')
			case typeCSV:
				buf = enc.appendCSV(buf, rows, i)
			}
			bw.Write(buf)
			n++
		}
	}
	if format == typeJSON {
		bw.WriteString("]\n")
	}
}

// readFormat picks a view read's media type from ?format=, else from Accept.
func readFormat(r *http.Request) (string, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "json":
		return typeJSON, nil
	case "ndjson":
		return typeNDJSON, nil
	case "csv":
		return typeCSV, nil
	case "":
	default:
		return "", sqlerr.New(sqlerr.InvalidParameterValue, "format must be json, ndjson or csv, got %q", f)
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch strings.TrimSpace(mt) {
		case "application/x-ndjson", "application/ndjson":
			return typeNDJSON, nil
		case "text/csv":
			return typeCSV, nil
		case "application/json":
			return typeJSON, nil
		}
	}
	return typeJSON, nil
}

// parseWhere reads where parameters, each "col=value", into a filter keeping the rows
// that match all of them (none: every row). The column must be one of cols (42703) and
// the value must parse as its type (22P02 and friends); NULL never matches.
func parseWhere(rel string, cols []catalog.Column, wheres []string) (func(*delta.Batch, int) bool, error) {
	type cond struct {
		col int
		val delta.Value
	}
	var conds []cond
	for _, where := range wheres {
		col, val, ok := strings.Cut(where, "=")
		if !ok {
			return nil, sqlerr.New(sqlerr.SyntaxError, "where must be column=value, got %q", where)
		}
		col = strings.TrimSpace(col)
		i := slices.IndexFunc(cols, func(c catalog.Column) bool { return c.Name == col })
		if i < 0 {
			return nil, sqlerr.New(sqlerr.UndefinedColumn, "column %q of %q does not exist", col, rel)
		}
		v, err := expr.Parse(strings.TrimSpace(val), cols[i].Type)
		if err != nil {
			return nil, sqlerr.As(err).WithDetail("where %s", where)
		}
		conds = append(conds, cond{i, v})
	}
	return func(b *delta.Batch, r int) bool {
		for _, c := range conds {
			x := b.Cols[c.col].Get(r)
			if x.Null || delta.Compare(x, c.val) != 0 {
				return false
			}
		}
		return true
	}, nil
}

// columnInfo describes a column in listings.
type columnInfo struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
}

func columnInfos(cols []catalog.Column) []columnInfo {
	out := make([]columnInfo, len(cols))
	for i, c := range cols {
		t := c.Type.String()
		switch {
		case c.MaxLen > 0:
			t += "(" + strconv.Itoa(c.MaxLen) + ")"
		case c.Type == catalog.Numeric && c.Precision > 0:
			t += "(" + strconv.Itoa(int(c.Precision)) + "," + strconv.Itoa(int(c.Scale)) + ")"
		}
		out[i] = columnInfo{Name: c.Name, Type: t, Nullable: !c.NotNull}
	}
	return out
}

// listViews returns every materialized view with its columns, query and inputs, in
// creation order.
func (a *API) listViews(w http.ResponseWriter, _ *http.Request) {
	type viewInfo struct {
		Name      string       `json:"name"`
		Columns   []columnInfo `json:"columns"`
		Query     string       `json:"query"`
		DependsOn []string     `json:"depends_on"`
	}
	out := []viewInfo{}
	for _, rel := range a.db.Catalog().List(catalog.View) {
		out = append(out, viewInfo{Name: rel.Name, Columns: columnInfos(rel.Columns), Query: rel.Query, DependsOn: rel.DependsOn})
	}
	writeJSON(w, http.StatusOK, out)
}

// listSources returns every source and table with its columns, in creation order: a
// table's primary key, a source's watermark definition and event-time state.
func (a *API) listSources(w http.ResponseWriter, _ *http.Request) {
	type watermarkInfo struct {
		Column       string  `json:"column"`
		DelaySeconds float64 `json:"delay_seconds"`
		Watermark    *string `json:"watermark"`      // RFC 3339; null before the first event
		MaxEventTime *string `json:"max_event_time"` // likewise
		LateEvents   int64   `json:"late_events"`
	}
	type sourceInfo struct {
		Name       string         `json:"name"`
		Kind       string         `json:"kind"`
		Columns    []columnInfo   `json:"columns"`
		PrimaryKey []string       `json:"primary_key,omitempty"`
		Watermark  *watermarkInfo `json:"watermark,omitempty"`
	}
	times := map[string]int{}
	et := a.db.EventTime()
	for i, s := range et {
		times[s.Source] = i
	}
	stamp := func(us int64) *string {
		if us == exec.NoWatermark {
			return nil
		}
		s := string(appendValueJSON(nil, delta.Int(us), catalog.Timestamptz))
		s = s[1 : len(s)-1]
		return &s
	}
	out := []sourceInfo{}
	for _, rel := range a.db.Catalog().List(0) {
		if rel.Kind != catalog.Source && rel.Kind != catalog.Table {
			continue
		}
		info := sourceInfo{Name: rel.Name, Kind: rel.Kind.String(), Columns: columnInfos(rel.Columns)}
		for _, k := range rel.PrimaryKey {
			info.PrimaryKey = append(info.PrimaryKey, rel.Columns[k].Name)
		}
		if wm := rel.Watermark; wm != nil {
			info.Watermark = &watermarkInfo{Column: rel.Columns[wm.Col].Name, DelaySeconds: float64(wm.Delay) / 1e6,
				Watermark: stamp(exec.NoWatermark), MaxEventTime: stamp(exec.NoWatermark)}
			if i, ok := times[rel.Name]; ok {
				info.Watermark.Watermark, info.Watermark.MaxEventTime = stamp(et[i].Watermark), stamp(et[i].MaxEventTime)
				info.Watermark.LateEvents = et[i].LateEvents
			}
		}
		out = append(out, info)
	}
	writeJSON(w, http.StatusOK, out)
}
