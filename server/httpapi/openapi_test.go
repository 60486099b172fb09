package httpapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/require"

	"github.com/weirdb/weir/db"
)

// TestOpenAPI: /openapi.json is an OpenAPI 3.1 document that describes exactly the
// operations the router registers, and its references resolve.
func TestOpenAPI(t *testing.T) {
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.Open(t.Context(), db.Config{}, logger)
	require.NoError(t, err)
	defer d.Close()
	a, err := New(d, logger, Config{})
	require.NoError(t, err)
	defer a.Close()

	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(openAPI, &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)

	var routed []string
	require.NoError(t, chi.Walk(a.router, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		routed = append(routed, method+" "+route)
		return nil
	}))
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
			var o struct {
				OperationID string                     `json:"operationId"`
				Responses   map[string]json.RawMessage `json:"responses"`
			}
			require.NoError(t, json.Unmarshal(op, &o), "%s %s", method, path)
			require.NotEmpty(t, o.OperationID, "%s %s", method, path)
			require.NotEmpty(t, o.Responses, "%s %s", method, path)
		}
	}
	slices.Sort(routed)
	slices.Sort(documented)
	require.Equal(t, routed, documented, "every route is documented, and only routes are")

	// Every $ref points at something in the document.
	var whole any
	require.NoError(t, json.Unmarshal(openAPI, &whole))
	var walk func(v any)
	refs := 0
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				refs++
				require.True(t, strings.HasPrefix(ref, "#/"), ref)
				var at any = whole
				for _, part := range strings.Split(ref[2:], "/") {
					m, ok := at.(map[string]any)
					require.True(t, ok, "%s: %s is not an object", ref, part)
					at, ok = m[part]
					require.True(t, ok, "%s does not resolve", ref)
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(whole)
	require.Greater(t, refs, 20)
}
