package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/weirdb/weir/internal/sqlerr"
)

// sql runs one statement, {"sql": "..."}, and answers {"tag": …, "rows": [{…}, …]}.
// Subscriptions are not statements here: they stream (GET /v1/views/{name}/subscribe).
func (a *API) sql(w http.ResponseWriter, r *http.Request) {
	var req struct {
		SQL string `json:"sql"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || strings.TrimSpace(req.SQL) == "" {
		writeError(w, sqlerr.New(sqlerr.SyntaxError, `body must be {"sql": "<one statement>"}`))
		return
	}
	ctx, cancel := requestContext(r)
	defer cancel()
	s := a.db.NewSession(map[string]string{"application_name": "http"})
	defer s.Close()
	p, err := s.Prepare(ctx, req.SQL, nil)
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
	if rows.Streaming() {
		writeError(w, sqlerr.New(sqlerr.FeatureNotSupported, "SUBSCRIBE streams; over HTTP use GET /v1/views/{name}/subscribe"))
		return
	}
	cols := rows.Columns()
	out := []map[string]any{}
	dst := make([]any, len(cols))
	for rows.Next(dst) {
		obj := make(map[string]any, len(cols))
		for i, c := range cols {
			obj[c.Name] = jsonOut(dst[i])
		}
		out = append(out, obj)
	}
	if err := rows.Err(); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tag": rows.Tag(), "rows": out})
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
