package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/weirdb/weir/internal/livegen"
	"github.com/weirdb/weir/server"
)

// genFlags are the generator's flags, shared by gen and demo.
type genFlags struct {
	cfg      livegen.Config
	duration time.Duration
	start    string
}

func (f *genFlags) register(set *flag.FlagSet) {
	d := livegen.DefaultConfig()
	set.Float64Var(&f.cfg.Rate, "rate", d.Rate, "events per second")
	set.IntVar(&f.cfg.Rooms, "rooms", d.Rooms, "number of rooms (one anchor each)")
	set.IntVar(&f.cfg.Users, "users", d.Users, "number of users")
	set.Float64Var(&f.cfg.Skew, "skew", d.Skew, "Zipf exponent of room popularity (0: every room alike)")
	set.IntVar(&f.cfg.HotRooms, "hot-rooms", d.HotRooms, "rooms with three times their Zipf share of traffic")
	set.DurationVar(&f.duration, "duration", 0, "event time to generate (0: until interrupted)")
	set.Uint64Var(&f.cfg.Seed, "seed", d.Seed, "random seed: equal seeds (with equal --start) give equal events")
	set.StringVar(&f.start, "start", "", "event time of the first event, RFC 3339 (default: now)")
	set.Float64Var(&f.cfg.OutOfOrder, "out-of-order", d.OutOfOrder, "share of events up to --lateness behind the others")
	set.DurationVar(&f.cfg.Lateness, "lateness", d.Lateness, "how far out-of-order events lag (keep it under the sources' 5 s watermark delay)")
	set.Float64Var(&f.cfg.Late, "late", 0, "share of events behind the watermark (late data): 1 to 30 s beyond --watermark-delay")
	set.DurationVar(&f.cfg.WatermarkDelay, "watermark-delay", d.WatermarkDelay, "the sources' watermark delay, which --late events exceed")
}

// config returns the generator's configuration, its start defaulting to now.
func (f *genFlags) config(now time.Time) (livegen.Config, error) {
	cfg := f.cfg
	cfg.Start = now.UTC().Truncate(time.Microsecond)
	if f.start != "" {
		t, err := time.Parse(time.RFC3339Nano, f.start)
		if err != nil {
			return cfg, fmt.Errorf("--start: %w", err)
		}
		cfg.Start = t.UTC()
	}
	return cfg, cfg.Validate()
}

// gen generates live-room traffic: it fills the rooms, anchors and users tables, then
// writes events to a server over HTTP (the default), over COPY (--copy), or as NDJSON
// on stdout (--stdout), until --duration of event time or Ctrl-C.
func gen(args []string, stdout io.Writer, logger *slog.Logger) error {
	var f genFlags
	set := flag.NewFlagSet("gen", flag.ContinueOnError)
	f.register(set)
	httpAddr := set.String("http", server.DefaultConfig().HTTPAddr, "server's HTTP address: POST /v1/sources/{name}/events")
	useCopy := set.Bool("copy", false, "write with COPY FROM STDIN over the PostgreSQL wire protocol (--pg) instead of HTTP")
	pgAddr := set.String("pg", server.DefaultConfig().PGAddr, "server's PostgreSQL wire-protocol address, for --copy")
	toStdout := set.Bool("stdout", false, `write NDJSON to stdout instead: {"table"|"source": name, "row": {…}} per line`)
	only := set.String("source", "", "with --stdout: only this source's events, one bare JSON row per line (for curl --data-binary @-)")
	workers := set.Int("workers", 4, "concurrent requests to the server")
	fast := set.Bool("fast", false, "do not pace: generate as fast as the destination takes events (event time runs ahead of the clock)")
	if err := set.Parse(args); err != nil {
		return err
	}
	cfg, err := f.config(time.Now())
	if err != nil {
		return err
	}
	g, err := livegen.New(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C, while the last events are written, ends the process at once
	}()

	var sink livegen.Sink
	n := *workers
	switch {
	case *toStdout:
		if *only != "" {
			if _, ok := livegen.SourceSchema(*only); !ok {
				return fmt.Errorf("--source: no source %q", *only)
			}
		}
		w := newNDJSONSink(stdout, *only)
		defer w.flush()
		sink, n = w, 1
	case *useCopy:
		dsn := fmt.Sprintf("postgres://weir@%s/weir?sslmode=disable&application_name=weir%%20gen", *pgAddr)
		cs, err := livegen.NewCopySink(ctx, dsn, n)
		if err != nil {
			return err
		}
		defer cs.Close()
		sink = cs
	default:
		sink = newHTTPSink(*httpAddr, n)
	}
	logger.Info("generating", "rate", cfg.Rate, "rooms", cfg.Rooms, "users", cfg.Users, "seed", cfg.Seed,
		"start", cfg.Start, "duration", f.duration.String(), "hot_rooms", g.HotRooms())
	st := newStatus(os.Stderr, logger)
	p, err := livegen.Run(ctx, g, sink, livegen.RunConfig{
		Duration: f.duration, Paced: !*fast, Workers: n, Progress: st.update, LeaveAtEnd: true,
	})
	if errors.Is(err, syscall.EPIPE) {
		return nil // stdout's reader went away (| head)
	}
	logger.Info("generated", "events", p.Events, "seconds", p.Elapsed.Seconds(), "events_per_second", int64(p.Rate),
		"comments", p.Sources[livegen.Comments], "likes", p.Sources[livegen.Likes], "gifts", p.Sources[livegen.Gifts],
		"viewer_events", p.Sources[livegen.ViewerEvents], "follows", p.Sources[livegen.Follows])
	return err
}

// status shows a run's progress: one line rewritten in place on a terminal, a log line
// every 10 seconds otherwise (DESIGN §1).
type status struct {
	w        io.Writer
	terminal bool
	logger   *slog.Logger
	lastLog  time.Time
}

func newStatus(w *os.File, logger *slog.Logger) *status {
	return &status{w: w, terminal: term.IsTerminal(int(w.Fd())), logger: logger, lastLog: time.Now()}
}

func (s *status) update(p livegen.Progress) {
	if !s.terminal {
		if p.Done || time.Since(s.lastLog) < 10*time.Second {
			return
		}
		s.lastLog = time.Now()
		s.logger.Info("traffic", "events_total", p.Events, "events_per_second", int64(p.Rate), "behind_seconds", p.Behind.Seconds())
		return
	}
	line := fmt.Sprintf("%s events  %s/s  comments %s  likes %s  gifts %s  enter/leave %s  follows %s",
		count(p.Events), count(int64(p.Rate)), count(p.Sources[livegen.Comments]), count(p.Sources[livegen.Likes]),
		count(p.Sources[livegen.Gifts]), count(p.Sources[livegen.ViewerEvents]), count(p.Sources[livegen.Follows]))
	if p.Behind > time.Second {
		line += fmt.Sprintf("  (%.1fs behind)", p.Behind.Seconds())
	}
	end := ""
	if p.Done {
		end = "\n"
	}
	fmt.Fprintf(s.w, "\r\x1b[K%s%s", line, end)
}

// count prints n with thousands separators.
func count(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// httpSink posts events as NDJSON to /v1/sources/{name}/events and fills tables with
// POST /v1/sql.
type httpSink struct {
	base   string
	client *http.Client
	bufs   sync.Pool
}

func newHTTPSink(addr string, workers int) *httpSink {
	base := addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	return &httpSink{
		base:   strings.TrimRight(base, "/"),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers + 1}, Timeout: time.Minute},
		bufs:   sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}
}

func (s *httpSink) Upsert(ctx context.Context, t livegen.Schema, rows [][]any) error {
	body, err := json.Marshal(map[string]string{"sql": livegen.UpsertSQL(t, rows)})
	if err != nil {
		return err
	}
	return s.post(ctx, "/v1/sql", "application/json", body)
}

func (s *httpSink) Append(ctx context.Context, src livegen.Schema, rows [][]any) error {
	buf := s.bufs.Get().(*bytes.Buffer)
	defer s.bufs.Put(buf)
	buf.Reset()
	b := buf.AvailableBuffer()
	for _, r := range rows {
		b = livegen.AppendJSON(b, src, r)
		b = append(b, '\n')
	}
	buf.Write(b)
	return s.post(ctx, "/v1/sources/"+src.Name+"/events", "application/x-ndjson", buf.Bytes())
}

func (s *httpSink) post(ctx context.Context, path, contentType string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	var e struct{ Code, Message, Detail string }
	if json.Unmarshal(msg, &e) == nil && e.Code != "" {
		if e.Detail != "" {
			e.Message += " (" + e.Detail + ")"
		}
		return fmt.Errorf("POST %s: %s: %s %s", path, resp.Status, e.Code, e.Message)
	}
	return fmt.Errorf("POST %s: %s: %s", path, resp.Status, bytes.TrimSpace(msg))
}

// ndjsonSink writes one JSON object per line: {"table": name, "row": {…}} for table
// rows and {"source": name, "row": {…}} for events; with only set, just that source's
// events as bare rows, the body POST /v1/sources/{only}/events takes.
type ndjsonSink struct {
	mu   sync.Mutex
	w    *bufio.Writer
	only string
	buf  []byte
}

func newNDJSONSink(w io.Writer, only string) *ndjsonSink {
	return &ndjsonSink{w: bufio.NewWriterSize(w, 1<<16), only: only}
}

func (s *ndjsonSink) Upsert(_ context.Context, t livegen.Schema, rows [][]any) error {
	if s.only != "" {
		return nil
	}
	return s.write(`{"table":`, t, rows)
}

func (s *ndjsonSink) Append(_ context.Context, src livegen.Schema, rows [][]any) error {
	switch s.only {
	case "":
		return s.write(`{"source":`, src, rows)
	case src.Name:
		return s.write("", src, rows)
	}
	return nil
}

func (s *ndjsonSink) write(prefix string, sc livegen.Schema, rows [][]any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rows {
		b := s.buf[:0]
		if prefix != "" {
			b = append(b, prefix...)
			b = append(b, '"')
			b = append(b, sc.Name...)
			b = append(b, `","row":`...)
		}
		b = livegen.AppendJSON(b, sc, r)
		if prefix != "" {
			b = append(b, '}')
		}
		b = append(b, '\n')
		s.buf = b
		if _, err := s.w.Write(b); err != nil {
			return err
		}
	}
	return s.w.Flush()
}

func (s *ndjsonSink) flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.Flush()
}
