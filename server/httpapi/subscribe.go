package httpapi

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// KeepAlive is how often an idle subscription stream sends a comment, so proxies and
// clients see the connection is alive.
const KeepAlive = 15 * time.Second

// subscribe streams a view as Server-Sent Events: first a snapshot (or, when the client
// resumes with Last-Event-ID and the view still holds the changes since, those changes),
// then one diff event per tick that changes the view. Every event's id is its tick.
// ?where=col=value keeps only the rows with that value in that column. A client that
// falls more than ?buffer= ticks behind (default 256) gets an error event and is
// disconnected; it never holds back the database or other subscribers.
func (a *API) subscribe(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	rel, err := a.db.Catalog().Get(name)
	if err != nil {
		writeError(w, err)
		return
	}
	filter, err := parseWhere(rel, r.URL.Query().Get("where"))
	if err != nil {
		writeError(w, err)
		return
	}
	buffer := 256
	if b := r.URL.Query().Get("buffer"); b != "" {
		if buffer, err = strconv.Atoi(b); err != nil || buffer < 1 || buffer > 1<<16 {
			writeError(w, sqlerr.New(sqlerr.InvalidParameterValue, "buffer must be an integer from 1 to 65536"))
			return
		}
	}
	var since uint64
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		if since, err = strconv.ParseUint(id, 10, 64); err != nil {
			writeError(w, sqlerr.New(sqlerr.InvalidParameterValue, "Last-Event-ID %q is not a tick", id))
			return
		}
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, sqlerr.New(sqlerr.FeatureNotSupported, "streaming is not supported by this connection"))
		return
	}
	sub, snap, _, err := a.db.Subscribe(name, since, buffer)
	if err != nil {
		writeError(w, err)
		return
	}
	defer sub.Close()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if snap != nil {
		rows := []map[string]any{}
		for i := 0; i < snap.Rows.Len(); i++ {
			if filter(snap.Rows, i) {
				obj := rowObject(rel.Columns, snap.Rows, i)
				for n := int64(0); n < snap.Rows.Weights[i]; n++ {
					rows = append(rows, obj)
				}
			}
		}
		writeEvent(w, snap.Tick, "snapshot", map[string]any{"tick": snap.Tick, "rows": rows})
	}
	flusher.Flush()
	keep := time.NewTicker(KeepAlive)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keep.C:
			fmt.Fprint(w, ": keepalive\n\n")
			flusher.Flush()
		case ch, ok := <-sub.C:
			if !ok {
				if err := sub.Err(); err != nil {
					e := sqlerr.As(err)
					writeEvent(w, 0, "error", errorBody{Code: string(e.Code), Message: e.Msg})
					flusher.Flush()
				}
				return
			}
			changes := []map[string]any{}
			for i := 0; i < ch.Rows.Len(); i++ {
				if filter(ch.Rows, i) {
					changes = append(changes, map[string]any{"diff": ch.Rows.Weights[i], "row": rowObject(rel.Columns, ch.Rows, i)})
				}
			}
			if len(changes) > 0 {
				writeEvent(w, ch.Tick, "diff", map[string]any{"tick": ch.Tick, "changes": changes})
				flusher.Flush()
			}
		}
	}
}

func writeEvent(w http.ResponseWriter, id uint64, event string, data any) {
	b, _ := json.Marshal(data)
	if id > 0 {
		fmt.Fprintf(w, "id: %d\n", id)
	}
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
}

// parseWhere reads "col=value" into a row filter; "" keeps every row.
func parseWhere(rel *catalog.Relation, where string) (func(*delta.Batch, int) bool, error) {
	if where == "" {
		return func(*delta.Batch, int) bool { return true }, nil
	}
	col, val, ok := strings.Cut(where, "=")
	if !ok {
		return nil, sqlerr.New(sqlerr.SyntaxError, "where must be column=value, got %q", where)
	}
	i := rel.ColumnIndex(strings.TrimSpace(col))
	if i < 0 {
		return nil, sqlerr.New(sqlerr.UndefinedColumn, "column %q of %q does not exist", col, rel.Name)
	}
	v, err := expr.Parse(strings.TrimSpace(val), rel.Columns[i].Type)
	if err != nil {
		return nil, err
	}
	return func(b *delta.Batch, r int) bool {
		x := b.Cols[i].Get(r)
		return !x.Null && delta.Compare(x, v) == 0
	}, nil
}

// rowObject renders row r of b as a JSON object keyed by column name.
func rowObject(cols []catalog.Column, b *delta.Batch, r int) map[string]any {
	obj := make(map[string]any, len(cols))
	for c, col := range cols {
		obj[col.Name] = jsonValueOut(b.Cols[c].Get(r), col.Type)
	}
	return obj
}

func jsonValueOut(v delta.Value, t catalog.Type) any {
	if v.Null {
		return nil
	}
	switch {
	case t == catalog.Timestamp || t == catalog.Timestamptz:
		return time.UnixMicro(v.I).UTC().Format(time.RFC3339Nano)
	case t == catalog.Date, t == catalog.Interval:
		return expr.Format(v, t)
	case t == catalog.Jsonb:
		return json.RawMessage(v.S)
	}
	switch v.Kind {
	case delta.KindInt:
		return v.I
	case delta.KindFloat:
		if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
			return expr.Format(v, t)
		}
		return v.F
	case delta.KindBool:
		return v.B
	}
	return v.S
}
