package httpapi

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/jsonrow"
	"github.com/weirdb/weir/internal/sqlerr"
)

// ingest accepts a JSON array of objects or NDJSON, gzip-compressed or not. Good rows
// are appended in one tick and acknowledged once it is durable; bad rows are reported
// with their 1-based row number and column (400), and the good rows of the request are
// kept, unless ?atomic=true asks for all or nothing. A body over the size limit is
// refused with 413, a source over its rate limit with 429 and Retry-After.
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
	atomic := false
	if s := r.URL.Query().Get("atomic"); s != "" {
		if atomic, err = strconv.ParseBool(s); err != nil {
			writeError(w, sqlerr.New(sqlerr.InvalidParameterValue, "atomic must be true or false, got %q", s))
			return
		}
	}
	// An empty bucket refuses before the body is read; the events are counted below.
	if wait, ok := a.limiter.take(name, 0); !ok {
		a.rateLimited(w, name, wait)
		return
	}
	body, err := a.readBody(w, r)
	if err != nil {
		writeError(w, err)
		return
	}
	objs, err := splitObjects(body, a.cfg.MaxBody)
	if err != nil {
		writeError(w, err)
		return
	}
	if wait, ok := a.limiter.take(name, len(objs)); !ok {
		a.rateLimited(w, name, wait)
		return
	}
	var good [][]delta.Value
	var bad []rowError
	for i, raw := range objs {
		row, rerr := decodeRow(rel, raw)
		if rerr != nil {
			bad = append(bad, rowError{Row: i + 1, Column: rerr.column, SQLState: string(rerr.err.Code), Detail: rerr.err.Msg})
			continue
		}
		good = append(good, row)
	}
	a.metrics.rejected.WithLabelValues(name).Add(float64(len(bad)))
	if atomic && len(bad) > 0 {
		a.rejectRows(w, bad, len(objs), 0, "nothing ingested (atomic)")
		return
	}
	start := time.Now()
	if err := a.db.Ingest(r.Context(), name, good); err != nil {
		writeError(w, err)
		return
	}
	if len(good) > 0 {
		a.metrics.commit.Observe(time.Since(start).Seconds())
	}
	a.metrics.ingested.WithLabelValues(name).Add(float64(len(good)))
	if len(bad) > 0 {
		a.rejectRows(w, bad, len(objs), len(good), fmt.Sprintf("%d ingested", len(good)))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ingested": len(good)})
}

// rejectRows answers 400 for the bad rows of a request of n rows, of which ingested
// were kept.
func (a *API) rejectRows(w http.ResponseWriter, bad []rowError, n, ingested int, kept string) {
	first := bad[0]
	p := problemOf(sqlerr.New(sqlerr.Code(first.SQLState), "%d of %d rows rejected, %s; row %d: column %s: %s",
		len(bad), n, kept, first.Row, first.Column, first.Detail))
	p.Row, p.Column, p.Rows, p.Ingested = first.Row, first.Column, bad, &ingested
	writeProblem(w, p)
}

// rateLimited answers 429 with Retry-After in whole seconds (at least 1).
func (a *API) rateLimited(w http.ResponseWriter, source string, wait time.Duration) {
	a.metrics.limited.WithLabelValues(source).Inc()
	secs := max(1, int(math.Ceil(wait.Seconds())))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, withStatus(http.StatusTooManyRequests, sqlerr.New(codeConfigLimitExceeded,
		"source %q is over its rate limit of %g events per second (burst %d); retry in %d s", source, a.cfg.RateLimit, a.cfg.RateBurst, secs)))
}

// readBody reads an ingest body of at most MaxBody bytes, decoding Content-Encoding
// gzip (the limit then bounds the decoded size too, so a small bomb cannot expand).
func (a *API) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := a.cfg.MaxBody
	tooLarge := func(what string) error {
		return withStatus(http.StatusRequestEntityTooLarge, sqlerr.New(codeProgramLimitExceeded,
			"%s is over the limit of %d bytes; split the events into smaller requests", what, limit))
	}
	var src io.Reader = http.MaxBytesReader(w, r.Body, limit)
	gzipped := false
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
				return nil, tooLarge("the request body")
			}
			return nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "body is not gzip: %v", err)
		}
		defer zr.Close()
		src, gzipped = io.LimitReader(zr, limit+1), true
	default:
		return nil, withStatus(http.StatusUnsupportedMediaType, sqlerr.New(sqlerr.FeatureNotSupported,
			"Content-Encoding %q is not supported; send the body plain or gzip-compressed", enc))
	}
	body, err := io.ReadAll(src)
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return nil, tooLarge("the request body")
		}
		if gzipped {
			return nil, sqlerr.New(sqlerr.InvalidTextRepresentation, "body is not valid gzip: %v", err)
		}
		return nil, sqlerr.Wrap(err, sqlerr.ConnectionException, "read body")
	}
	if int64(len(body)) > limit {
		return nil, tooLarge("the decompressed request body")
	}
	return body, nil
}

// splitObjects accepts a JSON array or newline-delimited JSON values.
func splitObjects(body []byte, maxLine int64) ([]json.RawMessage, error) {
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
	sc.Buffer(make([]byte, 0, 64<<10), int(maxLine)+1)
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

// decodeRow types one JSON object to rel's columns (internal/jsonrow, shared with Kafka
// sources), so that a bad row is reported on its own and the others are kept.
func decodeRow(rel *catalog.Relation, raw json.RawMessage) ([]delta.Value, *rowErr) {
	row, col, err := jsonrow.Decode(rel, raw)
	if err != nil {
		return nil, &rowErr{column: col, err: err}
	}
	return row, nil
}
