package db

import (
	"context"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/weirdb/weir/catalog"
	"github.com/weirdb/weir/exec"
	"github.com/weirdb/weir/internal/delta"
	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/storage/viewstore"
)

// Event time: the watermarks of sources declared WITH a WATERMARK, and their late events.
//
// A source's watermark is the largest event time it has seen minus its delay; it only
// moves forward. An event that arrives with an event time behind the watermark (as it
// stood before the event's tick) is late. Late events are kept like any other: they are
// in the source's history and in every view that does not window them. A TUMBLE or HOP
// drops a late event from each window that had closed (its end not after the watermark)
// when the event arrived, and only from those; it is listed in weir_late_events and
// counted in weir_watermarks.
//
// Which windows took an event must not depend on when a view was created or rebuilt,
// so the window operators read each row with the watermark it arrived under
// (planner.ArrivalSource): a live tick attaches the source's watermark before the tick,
// and a backfill attaches the watermark weir_late_events recorded for each late event
// (on-time events accept all their windows whatever the watermark, so they get
// exec.NoWatermark).

// watermark is one watermarked source's event-time state.
type watermark struct {
	spec catalog.Watermark
	max  int64 // the largest event time seen (exec.NoWatermark before the first)
	late int64 // late events since the source was created
	// floor is the highest watermark a partitioned source has had in this process, so
	// that a partition delivering its first event late cannot move it back.
	floor    int64
	floorSet bool
}

func (w *watermark) value() int64 {
	if w.max == exec.NoWatermark {
		return exec.NoWatermark
	}
	return w.max - w.spec.Delay
}

// wmValue is source name's watermark: w.value(), capped for a partitioned (Kafka)
// source by its slowest partition (partitionBound, connectors.go), and never lower than
// it has been. The caller holds d.mu.
func (d *DB) wmValue(name string, w *watermark) int64 {
	v := w.value()
	bound, ok := d.partitionBound(name)
	if !ok || v == exec.NoWatermark {
		return v
	}
	if bound == exec.NoWatermark {
		v = exec.NoWatermark
	} else if capped := bound - w.spec.Delay; capped < v {
		v = capped
	}
	if w.floorSet && w.floor > v {
		return w.floor
	}
	if v != exec.NoWatermark {
		w.floor, w.floorSet = v, true
	}
	return v
}

// lateRel is the system table of late events: one row per event that arrived behind its
// source's watermark.
var lateRel = &catalog.Relation{Name: viewstore.LateEventsTable, Kind: catalog.Table, Columns: []catalog.Column{
	{Name: "source", Type: catalog.Text}, {Name: "tick", Type: catalog.Int8},
	{Name: "event_time", Type: catalog.Timestamptz}, {Name: "watermark", Type: catalog.Timestamptz},
	{Name: "event", Type: catalog.Text},
}}

// loadWatermarks recomputes every watermarked source's state from the store: the
// largest stored event time and the late events recorded.
func (d *DB) loadWatermarks(ctx context.Context) error {
	d.wms = map[string]*watermark{}
	for _, rel := range d.cat.List(catalog.Source) {
		if rel.Watermark == nil {
			continue
		}
		w := &watermark{spec: *rel.Watermark, max: exec.NoWatermark}
		maxTS, late, err := d.store.EventTimeStats(ctx, rel, rel.Watermark.Col)
		if err != nil {
			return err
		}
		if maxTS != nil {
			w.max = *maxTS
		}
		w.late = late
		d.wms[rel.Name] = w
	}
	return nil
}

// tickWatermarks returns the watermarks to step a tick with.
func (d *DB) tickWatermarks() map[string]int64 {
	if len(d.wms) == 0 {
		return nil
	}
	out := make(map[string]int64, len(d.wms))
	for name, w := range d.wms {
		out[name] = d.wmValue(name, w)
	}
	return out
}

// eventTime advances the watermarks of the sources a tick appends to. It adds the
// arrival-watermark changes of those sources to changes (when a dataflow reads them),
// and returns the tick's late events as rows of lateRel. A failed tick's rebuild
// reloads the watermarks from the store.
func (d *DB) eventTime(tick uint64, appends map[string]*delta.Batch, changes map[string]*delta.Batch) *delta.Batch {
	lateRows := delta.New(relKinds(lateRel))
	for name, b := range appends {
		w, ok := d.wms[name]
		if !ok || b.Len() == 0 {
			continue
		}
		before := d.wmValue(name, w)
		rel, _ := d.cat.Get(name)
		col := b.Cols[w.spec.Col]
		for i := 0; i < b.Len(); i++ {
			v := col.Get(i)
			if v.Null {
				continue
			}
			ts := v.I
			if ts < before {
				n := b.Weights[i]
				w.late += n
				ev := eventText(rel, b.Row(i, nil))
				for ; n > 0; n-- {
					lateRows.AppendRow([]delta.Value{delta.Str(name), delta.Int(int64(tick)), delta.Int(ts), delta.Int(before), delta.Str(ev)}, 1)
				}
			}
			w.max = max(w.max, ts)
		}
		if d.graph.readsSource(planner.ArrivalSource(name)) {
			changes[planner.ArrivalSource(name)] = withArrival(b, func(int) int64 { return before })
		}
	}
	return lateRows
}

// eventTimeParts is eventTime for a tick that may merge several (tickInput.parts): each
// part in order, with the arrival batches concatenated.
func (d *DB) eventTimeParts(tick uint64, in tickInput, changes map[string]*delta.Batch) *delta.Batch {
	if len(in.parts) == 0 {
		return d.eventTime(tick, in.appends, changes)
	}
	late := delta.New(relKinds(lateRel))
	for _, p := range in.parts {
		part := map[string]*delta.Batch{}
		late.AppendBatch(d.eventTime(p.seq, p.appends, part), 1)
		for name, b := range part {
			if cur, ok := changes[name]; ok {
				cur.AppendBatch(b, 1)
			} else {
				changes[name] = b
			}
		}
	}
	return late
}

// withArrival returns b with an arrival-watermark column appended. The batch shares b's
// columns (Vector.Shared): neither is modified once made (a tick's input is kept as it
// is for the flush, and operators only read their inputs).
func withArrival(b *delta.Batch, arrival func(i int) int64) *delta.Batch {
	n := b.Len()
	out := &delta.Batch{Cols: make([]delta.Vector, len(b.Cols)+1)}
	for c := range b.Cols {
		out.Cols[c] = b.Cols[c].Shared()
	}
	wm := &out.Cols[len(b.Cols)]
	wm.Kind, wm.I64 = delta.KindInt, make([]int64, n)
	for i := range n {
		wm.I64[i] = arrival(i)
	}
	out.Weights = b.Weights[:n:n]
	return out
}

// arrivalContents is a watermarked source's full history as the window operators read
// it: every event with the watermark it arrived under when it was late, NoWatermark
// otherwise.
func (d *DB) arrivalContents(ctx context.Context, rel *catalog.Relation) (*delta.Batch, error) {
	hist, err := d.store.Scan(ctx, rel)
	if err != nil {
		return nil, err
	}
	late, err := d.store.LateEvents(ctx, rel.Name)
	if err != nil {
		return nil, err
	}
	return withArrival(hist, func(i int) int64 {
		if len(late) == 0 {
			return exec.NoWatermark
		}
		ev := eventText(rel, hist.Row(i, nil))
		wms := late[ev]
		if len(wms) == 0 {
			return exec.NoWatermark
		}
		late[ev] = wms[1:]
		return wms[0]
	}), nil
}

// eventText renders an event as a JSON object, as weir_late_events lists it.
func eventText(rel *catalog.Relation, row []delta.Value) string {
	obj := make(map[string]any, len(rel.Columns))
	for i, c := range rel.Columns {
		v := viewstore.ToGo(row[i], c.Type)
		if t, ok := v.(time.Time); ok {
			v = t.Format(time.RFC3339Nano)
		}
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			v = strconv.FormatFloat(f, 'g', -1, 64) // JSON has no NaN or Infinity
		}
		obj[c.Name] = v
	}
	b, _ := json.Marshal(obj) // map keys are sorted: one text per event
	return string(b)
}

// writeEventTime records a tick's late events and the watermarks it moved.
func (d *DB) writeEventTime(tx storeWriter, late *delta.Batch, moved map[string]*delta.Batch) error {
	if late.Len() > 0 {
		if err := tx.Insert(lateRel, late); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(moved) {
		w, ok := d.wms[name]
		if !ok {
			continue
		}
		if err := tx.SetWatermark(name, d.wmValue(name, w), w.max, w.late); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// SourceTime is a watermarked source's event-time state, for metrics.
type SourceTime struct {
	Source       string
	Watermark    int64 // µs; exec.NoWatermark before the first event
	MaxEventTime int64 // µs; exec.NoWatermark before the first event
	LateEvents   int64 // events that arrived behind the watermark
}

// EventTime returns every watermarked source's event-time state, sorted by source.
func (d *DB) EventTime() []SourceTime {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]SourceTime, 0, len(d.wms))
	for _, name := range sortedKeys(d.wms) {
		w := d.wms[name]
		out = append(out, SourceTime{Source: name, Watermark: d.wmValue(name, w), MaxEventTime: w.max, LateEvents: w.late})
	}
	return out
}
