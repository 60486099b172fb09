package livegen

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// A Sink receives generated rows: a server over HTTP or COPY, NDJSON on stdout, or a
// database in-process. Append may be called from several goroutines at once
// (RunConfig.Workers); Upsert is called before any Append, from one goroutine.
type Sink interface {
	// Upsert writes rows of a table, inserting them or updating the rows with their key.
	Upsert(ctx context.Context, table Schema, rows [][]any) error
	// Append writes events of one source. rows is valid only during the call.
	Append(ctx context.Context, source Schema, rows [][]any) error
}

// RunConfig says how Run drives a generator.
type RunConfig struct {
	// Duration is how much event time to generate from the generator's Now; 0 runs
	// until the context ends.
	Duration time.Duration
	// Paced holds every event back until the wall clock reaches its event time (minus
	// the start), so event time tracks the wall clock. When the sink cannot keep up,
	// event time falls behind the wall clock (Progress.Behind): no event is dropped.
	Paced bool
	// Workers is how many batches are written at once (1 when 0). One worker writes
	// every source's events in generation order; with more, a batch is not started
	// before the batch Workers places ahead of it has been written, so that no event
	// is written after one more than Workers × BatchSpan of event time newer than it
	// (1 s with 4 workers: within the pack's 5 s watermark delay, with the default 3 s
	// Lateness on top).
	Workers int
	// BatchSpan is the most event time a batch covers (250 ms when 0); MaxBatch the
	// most events it holds (5,000 when 0).
	BatchSpan time.Duration
	MaxBatch  int
	// Progress, if set, is called about every ProgressEvery (1 s when 0) while Run
	// runs, and once at the end with Done set; never concurrently.
	Progress      func(Progress)
	ProgressEvery time.Duration
	// Now is the wall clock (time.Now when nil).
	Now func() time.Time
	// LeaveAtEnd makes every viewer still in a room leave when the run ends, however
	// it ends (one last batch, written within 5 s even after ctx is done), so that a
	// later run starts with empty rooms.
	LeaveAtEnd bool
}

// Progress is what a run has done so far.
type Progress struct {
	Events  int64            // events the sink accepted
	Sources map[string]int64 // the same, per source
	Elapsed time.Duration    // wall-clock time since the events started
	Rate    float64          // events per second over the last interval
	Behind  time.Duration    // how far event time trails the wall clock (paced runs)
	Done    bool
}

// tableChunk is how many table rows one Upsert carries.
const tableChunk = 1000

// Run fills the tables, then generates events and writes them to sink in batches
// until cfg.Duration of event time has been generated or ctx ends. Once ctx ends it
// makes no more events, writes those it made (the sink's calls then run on a context
// that has not ended), and returns. It returns the first error of the sink; a run
// stopped by ctx returns nil.
func Run(ctx context.Context, g *Generator, sink Sink, cfg RunConfig) (Progress, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	if cfg.BatchSpan <= 0 {
		cfg.BatchSpan = 250 * time.Millisecond
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 5000
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for _, t := range g.Tables() {
		for i := 0; i < len(t.Rows); i += tableChunk {
			if err := sink.Upsert(ctx, t.Schema, t.Rows[i:min(i+tableChunk, len(t.Rows))]); err != nil {
				if ctx.Err() != nil {
					return Progress{Done: true}, nil
				}
				return Progress{Done: true}, fmt.Errorf("fill %s: %w", t.Schema.Name, err)
			}
		}
	}

	r := &runner{cfg: cfg, sink: sink, wall0: cfg.Now(), start: g.Now(), counts: map[string]*atomic.Int64{}, index: map[string]int{}}
	for i, s := range Sources() {
		r.counts[s.Name] = new(atomic.Int64)
		r.index[s.Name] = i
	}
	r.eventTime.Store(g.now)
	// Batches are written with a context that only a failure cancels: once ctx ends,
	// the producer stops, but what it produced is still written (at most one batch per
	// worker), so that the sink has seen every enter and leave the generator made.
	wctx, failed := context.WithCancel(context.WithoutCancel(ctx))
	defer failed()
	batches := make(chan *batch)
	var workers sync.WaitGroup
	for range cfg.Workers {
		workers.Go(func() {
			for b := range batches {
				if wctx.Err() == nil {
					if err := r.write(wctx, b); err != nil {
						r.fail(err)
						failed()
					}
				}
				close(b.done)
			}
		})
	}
	stopReport := make(chan struct{})
	var reporter sync.WaitGroup
	if cfg.Progress != nil {
		reporter.Go(func() { r.report(stopReport) })
	}

	r.produce(ctx, wctx, g, batches)
	close(batches)
	workers.Wait()
	if cfg.LeaveAtEnd && wctx.Err() == nil {
		lctx, cancel := context.WithTimeout(wctx, 5*time.Second)
		b := &batch{rows: make([][][]any, len(Sources()))}
		i := r.index[ViewerEvents]
		for _, ev := range g.LeaveAll() {
			b.rows[i] = append(b.rows[i], ev.Row)
			b.n++
		}
		if err := r.write(lctx, b); err != nil {
			r.fail(fmt.Errorf("leaving at the end: %w", err))
		}
		cancel()
	}
	close(stopReport)
	reporter.Wait()
	p := r.progress(true)
	if cfg.Progress != nil {
		cfg.Progress(p)
	}
	return p, r.failure()
}

func (r *runner) failure() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

type runner struct {
	cfg          RunConfig
	sink         Sink
	wall0, start time.Time
	eventTime    atomic.Int64 // µs: the generator's Now, for Behind
	events       atomic.Int64
	counts       map[string]*atomic.Int64
	index        map[string]int // source name → position in Sources

	mu  sync.Mutex
	err error // the first failure

	lastAt     time.Time // the reporter's previous report
	lastEvents int64
}

func (r *runner) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
}

// batch is one batch of events per source, in Sources order.
type batch struct {
	rows [][][]any // per source index
	n    int
	done chan struct{} // closed once written (or dropped after a failure)
}

// produce generates batches until stop ends, the duration is reached, or a write
// failed (failed ends); every batch it makes is handed to a worker unless one failed.
func (r *runner) produce(stop, failed context.Context, g *Generator, out chan<- *batch) {
	sources := Sources()
	end := int64(0)
	if r.cfg.Duration > 0 {
		end = r.start.Add(r.cfg.Duration).UnixMicro()
	}
	var inflight []chan struct{} // the done channels of the batches handed out, oldest first
	for stop.Err() == nil && failed.Err() == nil && (end == 0 || g.now < end) {
		limit := g.now + r.cfg.BatchSpan.Microseconds()
		if end != 0 {
			limit = min(limit, end)
		}
		if r.cfg.Paced {
			due := r.start.UnixMicro() + r.cfg.Now().Sub(r.wall0).Microseconds()
			if g.now > due {
				wait(stop, min(time.Duration(g.now-due)*time.Microsecond, 20*time.Millisecond))
				continue
			}
			limit = min(limit, due+1)
		}
		if len(inflight) == r.cfg.Workers {
			select {
			case <-inflight[0]:
			case <-failed.Done():
				return
			}
			inflight = inflight[1:]
		}
		b := &batch{rows: make([][][]any, len(sources)), done: make(chan struct{})}
		for b.n < r.cfg.MaxBatch && g.now < limit {
			ev := g.Next()
			i := r.index[ev.Source]
			b.rows[i] = append(b.rows[i], ev.Row)
			b.n++
		}
		r.eventTime.Store(g.now)
		if b.n == 0 {
			continue
		}
		select {
		case out <- b:
			inflight = append(inflight, b.done)
		case <-failed.Done():
		}
	}
}

func wait(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (r *runner) write(ctx context.Context, b *batch) error {
	for i, s := range Sources() {
		if len(b.rows[i]) == 0 {
			continue
		}
		if err := r.sink.Append(ctx, s, b.rows[i]); err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		r.counts[s.Name].Add(int64(len(b.rows[i])))
		r.events.Add(int64(len(b.rows[i])))
	}
	return nil
}

func (r *runner) report(stop <-chan struct{}) {
	t := time.NewTicker(r.cfg.ProgressEvery)
	defer t.Stop()
	r.lastAt = r.wall0
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			r.cfg.Progress(r.progress(false))
		}
	}
}

func (r *runner) progress(done bool) Progress {
	now := r.cfg.Now()
	p := Progress{Events: r.events.Load(), Sources: map[string]int64{}, Elapsed: now.Sub(r.wall0), Done: done}
	for name, c := range r.counts {
		p.Sources[name] = c.Load()
	}
	if done {
		if s := p.Elapsed.Seconds(); s > 0 {
			p.Rate = float64(p.Events) / s
		}
	} else if d := now.Sub(r.lastAt).Seconds(); d > 0 {
		p.Rate = float64(p.Events-r.lastEvents) / d
		r.lastAt, r.lastEvents = now, p.Events
	}
	if r.cfg.Paced {
		eventElapsed := time.Duration(r.eventTime.Load()-r.start.UnixMicro()) * time.Microsecond
		p.Behind = max(0, p.Elapsed-eventElapsed)
	}
	return p
}
