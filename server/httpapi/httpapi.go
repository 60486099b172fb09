// Package httpapi serves Weir over HTTP with chi (DESIGN §3): event ingest, view
// snapshots, one-statement SQL, health and readiness. Errors are mapped from SQLSTATE to
// an HTTP status in one place and returned as {"code","message","detail"}.
package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/exec/expr"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// MaxBody is the largest request body accepted (413 above it).
const MaxBody = 64 << 20

// API is the HTTP handler set over one database.
type API struct {
	db     *db.DB
	logger *slog.Logger
}

// New returns the router.
func New(d *db.DB, logger *slog.Logger) http.Handler {
	a := &API{db: d, logger: logger}
	r := chi.NewRouter()
	r.Use(a.recoverer)
	r.Post("/v1/sources/{name}/events", a.ingest)
	r.Get("/v1/views/{name}", a.view)
	r.Get("/v1/views/{name}/subscribe", a.subscribe)
	r.Post("/v1/sql", a.sql)
	r.Handle("/metrics", metrics(d))
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) })
	r.Get("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !d.Ready() {
			msg := "recovering\n"
			if err := d.RecoveryErr(); err != nil {
				msg = "recovery failed: " + err.Error() + "\n"
			}
			http.Error(w, msg, http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return r
}

func (a *API) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil && p != http.ErrAbortHandler {
				a.logger.Error("http handler panicked", "path", r.URL.Path, "panic", p)
				writeError(w, sqlerr.New(sqlerr.Internal, "internal error: %v", p))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// status maps a SQLSTATE to an HTTP status (STYLE §2.5).
func status(code sqlerr.Code) int {
	switch {
	case code == sqlerr.UndefinedTable:
		return http.StatusNotFound
	case code == sqlerr.QueryCanceled, code == sqlerr.CannotConnectNow, code == sqlerr.DiskFull, code == sqlerr.InsufficientResources:
		return http.StatusServiceUnavailable
	case code == sqlerr.FeatureNotSupported:
		return http.StatusNotImplemented
	case strings.HasPrefix(string(code), "42"), strings.HasPrefix(string(code), "22"), strings.HasPrefix(string(code), "23"),
		strings.HasPrefix(string(code), "2B"), strings.HasPrefix(string(code), "08"):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Code     string     `json:"code"`
	Message  string     `json:"message"`
	Detail   string     `json:"detail,omitempty"`
	Hint     string     `json:"hint,omitempty"`
	Rows     []rowError `json:"rows,omitempty"`
	Ingested *int       `json:"ingested,omitempty"`
}

type rowError struct {
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, err error) {
	e := sqlerr.As(err)
	writeJSON(w, status(e.Code), errorBody{Code: string(e.Code), Message: e.Msg, Detail: e.Detail, Hint: e.Hint})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}

// ingest accepts a JSON array of objects or NDJSON. Good rows are appended (one tick,
// acknowledged once committed); bad rows are reported with their 1-based row number.
func (a *API) ingest(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	rel, err := a.db.Catalog().Get(name)
	if err != nil {
		writeError(w, err)
		return
	}
	if rel.Kind != catalog.Source {
		writeError(w, sqlerr.New(sqlerr.WrongObjectType, "%q is a %s, not a source", name, rel.Kind))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Code: string(sqlerr.InsufficientResources), Message: fmt.Sprintf("request body over %d bytes", MaxBody)})
			return
		}
		writeError(w, sqlerr.Wrap(err, sqlerr.ConnectionException, "read body"))
		return
	}
	objs, perr := splitObjects(body)
	if perr != nil {
		writeError(w, perr)
		return
	}
	var good [][]delta.Value
	var bad []rowError
	for i, raw := range objs {
		row, rerr := decodeRow(rel, raw)
		if rerr != nil {
			bad = append(bad, rowError{Row: i + 1, Column: rerr.column, Code: string(rerr.err.Code), Message: rerr.err.Msg})
			continue
		}
		good = append(good, row)
	}
	if err := a.db.Ingest(r.Context(), name, good); err != nil {
		writeError(w, err)
		return
	}
	n := len(good)
	if len(bad) > 0 {
		first := bad[0]
		writeJSON(w, http.StatusBadRequest, errorBody{Code: first.Code, Message: fmt.Sprintf("%d of %d rows rejected", len(bad), len(objs)),
			Detail: fmt.Sprintf("row %d: column %s: %s", first.Row, first.Column, first.Message), Rows: bad, Ingested: &n})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ingested": n})
}

// splitObjects accepts a JSON array or newline-delimited JSON values.
func splitObjects(body []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(trimmed, &arr); err != nil {
			return nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "body is not a JSON array: %v", err)
		}
		return arr, nil
	}
	var out []json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 1<<20), MaxBody)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		out = append(out, append(json.RawMessage(nil), line...))
	}
	return out, nil
}

type rowErr struct {
	column string
	err    *sqlerr.Error
}

func decodeRow(rel *catalog.Relation, raw json.RawMessage) ([]delta.Value, *rowErr) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		return nil, &rowErr{err: sqlerr.New(sqlerr.InvalidTextRepresentation, "not a JSON object")}
	}
	for k := range obj {
		if rel.ColumnIndex(k) < 0 {
			return nil, &rowErr{column: k, err: sqlerr.New(sqlerr.UndefinedColumn, "source %q has no column %q", rel.Name, k)}
		}
	}
	var raws map[string]json.RawMessage // the members' JSON text, for jsonb columns
	row := make([]delta.Value, len(rel.Columns))
	for i, c := range rel.Columns {
		if c.Type == catalog.Jsonb {
			if raws == nil {
				json.Unmarshal(raw, &raws) // raw decoded as an object above, so this succeeds
			}
			v, err := jsonbValue(raws[c.Name])
			if err != nil {
				return nil, &rowErr{column: c.Name, err: sqlerr.As(err)}
			}
			if v.Null && c.NotNull {
				return nil, &rowErr{column: c.Name, err: sqlerr.New(sqlerr.NotNullViolation, "null value in column %q violates not-null constraint", c.Name)}
			}
			row[i] = v
			continue
		}
		v, err := jsonValue(obj[c.Name], c.Type)
		if err != nil {
			return nil, &rowErr{column: c.Name, err: sqlerr.As(err)}
		}
		if v.Null && c.NotNull {
			return nil, &rowErr{column: c.Name, err: sqlerr.New(sqlerr.NotNullViolation, "null value in column %q violates not-null constraint", c.Name)}
		}
		row[i] = v
	}
	return row, nil
}

func jsonValue(v any, t catalog.Type) (delta.Value, error) {
	switch x := v.(type) {
	case nil:
		return delta.Null(t.Kind()), nil
	case json.Number:
		if t.IsString() || t.IsNumeric() {
			return expr.Parse(x.String(), t)
		}
		if t.IsTime() {
			// Numbers for time columns are Unix epoch milliseconds.
			ms, err := x.Int64()
			if err != nil {
				return delta.Value{}, sqlerr.New(sqlerr.InvalidDatetimeFormat, "%s is not epoch milliseconds", x)
			}
			return expr.Convert(delta.Int(ms*1000), catalog.Timestamptz, t)
		}
	case string:
		if t.IsNumeric() || t == catalog.Bool {
			return delta.Value{}, sqlerr.New(sqlerr.InvalidTextRepresentation, "expected a JSON %s for type %s, got the string %q", jsonKind(t), t, x)
		}
		return expr.Parse(x, t)
	case bool:
		if t == catalog.Bool {
			return delta.Bool(x), nil
		}
	}
	return delta.Value{}, sqlerr.New(sqlerr.InvalidTextRepresentation, "JSON value %v does not fit type %s", v, t)
}

// jsonbValue stores any JSON value (object, array, number, string, boolean) in a jsonb
// column as its canonical text; JSON null and a missing member are SQL NULL.
func jsonbValue(raw json.RawMessage) (delta.Value, error) {
	if raw == nil || string(raw) == "null" {
		return delta.Null(delta.KindJsonb), nil
	}
	return expr.Parse(string(raw), catalog.Jsonb)
}

func jsonKind(t catalog.Type) string {
	if t == catalog.Bool {
		return "boolean"
	}
	return "number"
}

// view returns a view's current contents as a JSON array of objects.
func (a *API) view(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	rel, err := a.db.Catalog().Get(name)
	if err != nil {
		writeError(w, err)
		return
	}
	if rel.Kind != catalog.View {
		writeError(w, sqlerr.New(sqlerr.WrongObjectType, "%q is a %s, not a materialized view", name, rel.Kind))
		return
	}
	a.query(w, r, `SELECT * FROM "`+strings.ReplaceAll(name, `"`, `""`)+`"`, rel)
}

// sql runs one statement: {"sql": "..."}.
func (a *API) sql(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SQL string `json:"sql"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || strings.TrimSpace(req.SQL) == "" {
		writeError(w, sqlerr.New(sqlerr.SyntaxError, `body must be {"sql": "<one statement>"}`))
		return
	}
	a.query(w, r, req.SQL, nil)
}

// query runs sql and writes its rows as JSON objects. When rel is the relation the rows
// are (SELECT * of a view), its jsonb columns go out as raw JSON rather than strings.
func (a *API) query(w http.ResponseWriter, r *http.Request, sql string, rel *catalog.Relation) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Minute)
	defer cancel()
	s := a.db.NewSession(map[string]string{"application_name": "http"})
	defer s.Close()
	p, err := s.Prepare(ctx, sql, nil)
	if err != nil {
		writeError(w, err)
		return
	}
	rows, err := p.Execute(ctx, nil)
	if err != nil {
		writeError(w, err)
		return
	}
	defer rows.Close()
	cols := rows.Columns()
	out := []map[string]any{}
	dst := make([]any, len(cols))
	for rows.Next(dst) {
		obj := make(map[string]any, len(cols))
		for i, c := range cols {
			obj[c.Name] = jsonOut(dst[i])
			if s, ok := dst[i].(string); ok && rel != nil && i < len(rel.Columns) && rel.Columns[i].Type == catalog.Jsonb {
				obj[c.Name] = json.RawMessage(s)
			}
		}
		out = append(out, obj)
	}
	if err := rows.Err(); err != nil {
		writeError(w, err)
		return
	}
	if r.URL.Path == "/v1/sql" {
		writeJSON(w, http.StatusOK, map[string]any{"tag": rows.Tag(), "rows": out})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func jsonOut(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		return string(x)
	}
	return v
}
