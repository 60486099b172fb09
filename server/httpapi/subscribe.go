package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/weirdb/weir/db"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/internal/sqlerr"
)

// KeepAlive is how often an idle subscription stream sends a comment, so proxies and
// clients see the connection is alive.
const KeepAlive = 15 * time.Second

// Why a snapshot is sent, in its "reason" member.
const (
	reasonInitial   = "initial"    // the subscription starts
	reasonResumeGap = "resume_gap" // Last-Event-ID is older than the changes the view keeps
	reasonOverflow  = "overflow"   // a webhook fell too far behind and starts over
)

// subscribe streams a view as Server-Sent Events: first a snapshot (or, when the client
// resumes with Last-Event-ID and the view still holds the changes since, those changes),
// then one diff event per tick that changes the view. Every event's id is its tick. A
// snapshot says why it was sent: "initial", or "resume_gap" when the client asked to
// resume from a tick older than the kept history. ?where=col=value keeps only the rows
// with that value in that column (several where parameters all apply). A client that
// falls more than ?buffer= ticks behind (default 256) gets an error event and is
// disconnected; it never holds back the database or other subscribers.
func (a *API) subscribe(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	rel, err := a.db.Catalog().Get(name)
	if err != nil {
		writeError(w, err)
		return
	}
	filter, err := parseWhere(name, rel.Columns, r.URL.Query()["where"])
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
	gauge := a.metrics.subscribers.WithLabelValues(name, "sse")
	gauge.Inc()
	defer gauge.Dec()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	enc := newRowEncoder(rel.Columns)
	var buf []byte
	if snap != nil {
		reason := reasonInitial
		if since > 0 {
			reason = reasonResumeGap
		}
		enc = newRowEncoder(snap.Columns)
		buf = appendSnapshot(buf[:0], enc, snap, reason, filter)
		writeEvent(w, snap.Tick, "snapshot", buf)
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
					b, _ := json.Marshal(problemOf(err))
					writeEvent(w, 0, "error", b)
					flusher.Flush()
				}
				return
			}
			if buf, ok = appendDiff(buf[:0], enc, ch, filter); ok {
				writeEvent(w, ch.Tick, "diff", buf)
				flusher.Flush()
			}
		}
	}
}

// appendSnapshot appends a snapshot's JSON: {"tick", "reason", "rows": [{…}, …]}, each
// row as many times as the view holds it.
func appendSnapshot(dst []byte, enc *rowEncoder, snap *db.Snapshot, reason string, filter func(*delta.Batch, int) bool) []byte {
	dst = fmt.Appendf(dst, `{"tick":%d,"reason":%q,"rows":[`, snap.Tick, reason)
	n := 0
	for i := 0; i < snap.Rows.Len(); i++ {
		if !filter(snap.Rows, i) {
			continue
		}
		for c := int64(0); c < snap.Rows.Weights[i]; c++ {
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = enc.appendJSON(dst, snap.Rows, i)
			n++
		}
	}
	return append(dst, "]}"...)
}

// appendDiff appends a tick's changes as JSON, {"tick", "changes": [{"diff": ±n, "row":
// {…}}, …]}, and reports whether any row passed the filter.
func appendDiff(dst []byte, enc *rowEncoder, ch db.Change, filter func(*delta.Batch, int) bool) ([]byte, bool) {
	dst = fmt.Appendf(dst, `{"tick":%d,"changes":[`, ch.Tick)
	n := 0
	for i := 0; i < ch.Rows.Len(); i++ {
		if !filter(ch.Rows, i) {
			continue
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = fmt.Appendf(dst, `{"diff":%d,"row":`, ch.Rows.Weights[i])
		dst = append(enc.appendJSON(dst, ch.Rows, i), '}')
		n++
	}
	return append(dst, "]}"...), n > 0
}

func writeEvent(w http.ResponseWriter, id uint64, event string, data []byte) {
	if id > 0 {
		fmt.Fprintf(w, "id: %d\n", id)
	}
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data)
}
