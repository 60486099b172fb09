package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/weirdb/weir/storage/viewstore"
)

// Markers delimit the part of BENCHMARKS.md that `weir bench` writes; the text around
// them (the analysis of the profiles, what is not measured yet) is kept as it is.
const (
	beginMarker = "<!-- weir bench: begin (generated; edit outside these markers) -->"
	endMarker   = "<!-- weir bench: end -->"
)

// JSON writes the report as indented JSON.
func (rep *Report) JSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// UpdateMarkdownFile writes the report into path between the markers, keeping the rest
// of the file; a file without the markers gets the report appended after its text, and
// a missing file is created.
func (rep *Report) UpdateMarkdownFile(path string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var gen bytes.Buffer
	gen.WriteString(beginMarker + "\n")
	rep.WriteMarkdown(&gen)
	gen.WriteString(endMarker + "\n")
	var out []byte
	s := string(old)
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	switch {
	case i >= 0 && j > i:
		out = append(append([]byte(s[:i]), gen.Bytes()...), strings.TrimPrefix(s[j+len(endMarker):], "\n")...)
	case len(old) == 0:
		out = append([]byte("# Benchmarks\n\n"), gen.Bytes()...)
	default:
		out = append(append(old, '\n'), gen.Bytes()...)
	}
	return os.WriteFile(path, out, 0o644)
}

// WriteMarkdown writes the report's tables.
func (rep *Report) WriteMarkdown(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	m := rep.Machine
	cfg := rep.Config
	p("Written by `weir bench` (`make bench`) on %s in %.0f s. ", rep.Started.Format("2006-01-02 15:04 MST"), rep.Seconds)
	p("Events: %s, in %d COPY batches; %d rooms and %s users, both Zipf-skewed; seed %d. ",
		count(int64(cfg.Events)), cfg.Batches, cfg.Rooms, count(int64(cfg.Users)), cfg.Seed)
	if cfg.NoSync {
		p("Weir ran with `--nosync` (no fsync in its write-ahead log).\n\n")
	} else {
		p("Weir fsyncs its write-ahead log before each acknowledgement; PostgreSQL runs with fsync off.\n\n")
	}

	p("### Machine\n\n| | |\n|---|---|\n")
	p("| CPU | %s |\n| cores | %d |\n| RAM | %.1f GiB |\n| disk | %s |\n| kernel | %s |\n| Go | %s |\n",
		m.CPU, m.Cores, float64(m.RAMBytes)/(1<<30), m.Disk, m.Kernel, m.Go)
	if m.DuckDB != "" {
		p("| DuckDB | %s (in-process, database file on the same disk; %d threads as the DuckDB peer, %d as Weir's view store) |\n",
			m.DuckDB, m.Cores, viewstore.DuckDBThreads())
	}
	if m.Postgres != "" {
		p("| PostgreSQL | %s (internal/pgtest: loopback, fsync=off, synchronous_commit=off, full_page_writes=off, shared_buffers=32MB; sessions set work_mem=256MB) |\n", m.Postgres)
	}
	p("| load average (1 min) | min %.2f, mean %.2f, max %.2f during the run |\n\n", m.LoadMin, m.LoadMean, m.LoadMax)
	if m.LoadMean > 1 {
		p("**Taken under contention:** the load average stayed above 1 on this %d-core machine "+
			"(other processes were running), so every system here got less than the whole machine; "+
			"compare the systems with each other rather than with other machines.\n\n", m.Cores)
	}

	if len(rep.Ingest) > 0 {
		p("### COPY workload: %s events (room_id, user_id, amount, ts) in %d batches\n\n", count(int64(cfg.Events)), cfg.Batches)
		p("Three aggregate views: count per room, sum and max of amount per user, count per minute " +
			"(`TUMBLE`; `date_trunc('minute', ts)` for the peers). A batch is done when its COPY is " +
			"acknowledged and a read of all three views shows it (checked against the totals); PostgreSQL " +
			"(b) and DuckDB refresh or recompute all three views between the two. PostgreSQL (c) instead " +
			"COPYs the batches back to back while a second connection refreshes the three views every second; " +
			"its run ends with a refresh that started after the last batch, and its batch p50 / p99 is how stale " +
			"a batch is: from the start of its COPY to the end of the first refresh that started after its acknowledgement. " +
			"Ack → visible is a batch's freshness: from its COPY's acknowledgement to the end of the first read " +
			"(or, for PostgreSQL (c), refresh) that shows it.\n\n")
		weir := rep.ingest("Weir")
		p("| system | events/s | Weir ÷ this | total s | load s | refresh s | read s | batch p50 / p99 ms | ack → visible p50 / p99 ms | CPU s per M events | peak RSS | load avg |\n")
		p("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, r := range rep.Ingest {
			ratio := "—"
			if weir != nil && !strings.HasPrefix(r.System, "Weir") {
				ratio = fmt.Sprintf("%.2f×", weir.EventsPerSec/r.EventsPerSec)
			}
			cpu := "—"
			if r.CPUSecPerMEvents > 0 {
				cpu = fmt.Sprintf("%.2f", r.CPUSecPerMEvents)
			}
			rssText := "—"
			if r.PeakRSSBytes > 0 {
				rssText = mib(r.PeakRSSBytes)
			}
			p("| %s | %s | %s | %.2f | %.2f | %s | %s | %.1f / %.1f | %s | %s | %s | %.1f |\n", r.System, rate(r.EventsPerSec), ratio,
				r.Seconds, r.LoadSeconds, secs(r.RefreshSeconds), secs(r.ReadSeconds), r.BatchP50Ms, r.BatchP99Ms,
				visible(r), cpu, rssText, r.LoadAvg)
		}
		p("\nCPU: for Weir and DuckDB, the whole harness process (getrusage), so Weir's figure includes its " +
			"DuckDB view store and the harness's own clients; for PostgreSQL, /proc/PID/stat of its backend and " +
			"background processes. Peak RSS is this process's VmHWM, reset before each in-process run; it includes " +
			"the harness's copy of the events and their encoded batches (about 170 MB at 2M events). Load avg is the " +
			"1-minute load average when the row's run ended.\n\n")
	}

	if st := rep.State; st != nil {
		p("### Weir's state after the COPY workload\n\n| operator | views | state rows |\n|---|---|--:|\n")
		for _, o := range st.Operators {
			p("| `%s` | %s | %d |\n", strings.ReplaceAll(o.Operator, "|", "\\|"), o.Views, o.StateRows)
		}
		p("\n%d state rows (weir_operators.state_rows) for %d groups in the three views: max() keeps "+
			"each group's multiset of values so that it survives retractions. The live Go heap grew by %s "+
			"over the workload, %.0f bytes per group, counting the views' in-memory rows and the changes kept "+
			"for resuming subscribers as well as operator state (DuckDB's memory is not Go's and is not "+
			"counted). RSS afterwards: %s.\n\n",
			st.StateRows, st.ViewRows, mib(st.HeapGrowthBytes), st.BytesPerGroup, mib(st.RSSBytes))
	}
	if len(rep.AggState) > 0 {
		p("The operator alone (`exec.HashAggregate` fed in ticks of 10,000 rows, bigint key and amount, " +
			"live heap after minus before):\n\n| aggregates | groups | input rows per group | state rows | bytes per group |\n|---|--:|--:|--:|--:|\n")
		for _, a := range rep.AggState {
			p("| %s | %s | %d | %d | %.0f |\n", a.Aggregates, count(int64(a.Groups)), a.RowsPerGroup, a.StateRows, a.BytesPerGroup)
		}
		p("\n")
	}
	if len(rep.OpState) > 0 {
		p("The workloads' other stateful operators, alone and measured the same way, per state row (what " +
			"`weir_operators.state_rows` counts: a join's stored rows, a TopN's rows, a group or a distinct value):\n\n" +
			"| operator | what | input rows | state rows | bytes per state row |\n|---|---|--:|--:|--:|\n")
		for _, o := range rep.OpState {
			p("| %s | %s | %s | %s | %.0f |\n", o.Operator, o.What, count(int64(o.InputRows)), count(o.StateRows), o.BytesPerRow)
		}
		p("\n")
	}

	if len(rep.Freshness) > 0 {
		p("### Freshness: acknowledged → visible in a view read\n\n")
		p("A writer COPYs a batch every %.0f ms at half the sustained rate above (each batch holds one marker "+
			"event in room %d) while a reader polls that room's count; latency is from the COPY's "+
			"acknowledgement to the end of the first read showing the batch.\n\n", rep.Freshness[0].IntervalMs, markerRoom)
		p("| reader | target events/s | achieved events/s | batches | reads | p50 ms | p99 ms | max ms | COPY ack p50 / p99 ms |\n")
		p("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, f := range rep.Freshness {
			p("| %s | %s | %s | %d | %d | %.1f | %.1f | %.1f | %.1f / %.1f |\n", f.Reader, rate(f.TargetRate), rate(f.AchievedRate),
				f.Batches, f.Reads, f.P50Ms, f.P99Ms, f.MaxMs, f.AckP50Ms, f.AckP99Ms)
		}
		p("\n")
	}

	if len(rep.Backfill) > 0 {
		p("### Backfill: a new view over the %s events already loaded\n\n", count(rep.Backfill[0].Rows))
		if extra := rep.Backfill[0].Rows - int64(cfg.Events); extra > 0 {
			p("The history is the COPY workload's %s events and %s more of the same generator, loaded into each system after it (untimed). "+
				"Each view is created, timed, and dropped again.\n\n", count(int64(cfg.Events)), count(extra))
		}
		p("| view | system | seconds | history rows/s | Weir ÷ this | CPU s per M rows | peak RSS |\n|---|---|--:|--:|--:|--:|--:|\n")
		for _, b := range rep.Backfill {
			ratio, peak := "—", "—"
			if w := rep.backfill("Weir", b.View); w != nil && b.System != "Weir" {
				ratio = fmt.Sprintf("%.2f×", w.RowsPerSec/b.RowsPerSec)
			}
			if b.PeakRSSBytes > 0 {
				peak = mib(b.PeakRSSBytes)
			}
			p("| %s | %s | %.2f | %s | %s | %.2f | %s |\n", b.View, b.System, b.Seconds, rate(b.RowsPerSec), ratio, b.CPUSecPerMRows, peak)
		}
		p("\nCPU and peak RSS as in the COPY workload: Weir's and DuckDB's are the harness process's, which holds them " +
			"(peak RSS reset before each view); PostgreSQL's CPU is its backends' and background processes'.\n\n")
		for _, v := range backfillViews {
			p("- `%s`: `%s`\n", v.name, v.query)
		}
		p("\n")
	}

	if len(rep.Stream) > 0 {
		rep.writeStream(w)
	}

	if len(rep.Nexmark) > 0 {
		rep.writeNexmark(w)
	}

	if rep.Pack != nil {
		rep.writePack(w)
	}

	rep.writeTargets(w)
	rep.writeWireTargets(w)

	for _, n := range rep.Notes {
		p("- %s\n", n)
	}
}

func (rep *Report) ingest(prefix string) *IngestResult {
	for i := range rep.Ingest {
		if strings.HasPrefix(rep.Ingest[i].System, prefix) {
			return &rep.Ingest[i]
		}
	}
	return nil
}

func (rep *Report) backfill(system, view string) *BackfillResult {
	for i := range rep.Backfill {
		if rep.Backfill[i].System == system && rep.Backfill[i].View == view {
			return &rep.Backfill[i]
		}
	}
	return nil
}

// writeTargets compares the run with issue #9's targets for the 2-core machine.
func (rep *Report) writeTargets(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	weir := rep.ingest("Weir")
	if weir == nil && rep.Pack == nil {
		return
	}
	p("### Issue #9's targets\n\n| target | measured | met |\n|---|---|---|\n")
	if weir != nil {
		p("| ≥ 1,000,000 events/s through COPY with three views current | %s events/s | %s |\n", rate(weir.EventsPerSec), yes(weir.EventsPerSec >= 1e6))
	}
	if pg := rep.ingest("PostgreSQL: COPY into"); pg != nil && weir != nil {
		p("| faster than PostgreSQL COPY into a plain table | %.2f× (%s events/s) | %s |\n", weir.EventsPerSec/pg.EventsPerSec, rate(pg.EventsPerSec), yes(weir.EventsPerSec > pg.EventsPerSec))
	}
	if pg := rep.ingest("PostgreSQL: COPY +"); pg != nil && weir != nil {
		r := weir.EventsPerSec / pg.EventsPerSec
		p("| ≥ 20× PostgreSQL COPY + REFRESH after each of %d batches | %.1f× | %s |\n", weir.Batches, r, yes(r >= 20))
	}
	for _, f := range rep.Freshness {
		p("| freshness p99 ≤ 100 ms at half the sustained rate (%s) | %.1f ms | %s |\n", f.Reader, f.P99Ms, yes(f.P99Ms <= 100))
	}
	for _, a := range rep.AggState {
		if a.Aggregates == "count(*), sum(amount)" && a.RowsPerGroup > 1 {
			p("| ≤ 100 bytes of operator state per count/sum group | %.0f bytes (HashAggregate alone) | %s |\n", a.BytesPerGroup, yes(a.BytesPerGroup <= 100))
		}
	}
	for _, q := range rep.Nexmark {
		if q.Query == "q0" || q.Query == "q1" || q.Query == "q2" {
			if q.Error != "" {
				p("| Nexmark %s ≥ 2,000,000 events/s | failed | **no** |\n", q.Query)
				continue
			}
			p("| Nexmark %s ≥ 2,000,000 events/s | %s events/s | %s |\n", q.Query, rate(q.Weir.EventsPerSec), yes(q.Weir.EventsPerSec >= 2e6))
		}
	}
	if pk := rep.Pack; pk != nil && len(pk.Samples) >= 2 {
		g := pk.SecondHalf
		mins := pk.Seconds / 60
		met := fmt.Sprintf("not measured at this length (%.1f min)", mins)
		if mins >= 30 {
			met = yes(g.LiveHeapPct <= 5 && g.StateRowsPct <= 5)
		}
		what := "the live-room pack"
		if len(rep.Config.PackViews) > 0 {
			what = "the live-room pack's views " + strings.Join(pk.Views, ", ")
		}
		p("| memory flat over a 30-minute windowed run | live heap %+.1f MiB (%+.1f%%, trend) over the second half of a %.1f-min run of %s; state rows %+d (%+.1f%%); view rows %+d (%+.1f%%) | %s |\n",
			float64(g.LiveHeapBytes)/(1<<20), g.LiveHeapPct, mins, what, g.StateRows, g.StateRowsPct, g.ViewRows, g.ViewRowsPct, met)
	}
	p("\n")
}

// writePack renders workload (a): the live-room pack under `weir gen` traffic.
func (rep *Report) writePack(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	pk := rep.Pack
	p("### Live-room pack under `weir gen` traffic\n\n")
	views := fmt.Sprintf("queries/*.sql: %d views", len(pk.Views))
	if len(rep.Config.PackViews) > 0 {
		views = fmt.Sprintf("queries/*.sql, keeping only %s", strings.Join(pk.Views, ", "))
	}
	p("The live-room pack (%s) on a fresh Weir, fed by `weir gen`'s generator "+
		"(livegen defaults, seed %d; %s) through %d COPY connections, for %.0f s of wall time. "+
		"Every %.0f s a sampler read RSS (VmRSS), the Go live heap (runtime/metrics `/gc/heap/live:bytes`, "+
		"as of the last collection), the memory the Go runtime holds from the OS (runtime/metrics: all classes less the released heap; RSS less it is roughly DuckDB's, of which DuckDB MiB is what its buffer manager accounts for in `duckdb_memory()`), the state rows summed over `weir_operators`, and timed "+
		"`SELECT count(*)` of every view over the wire (view rows is their sum); a sample's read time is its slowest view's.\n\n",
		views, rep.Config.Seed, packPace(rep.Config.PackRate), packWorkers, rep.Config.PackSec, rep.Config.PackSampleSec)
	p("| duration | events | events/s | CPU s per M events | peak RSS | read p50 / p99 / max ms |\n|--:|--:|--:|--:|--:|--:|\n")
	p("| %.1f s | %s | %s | %.2f | %s | %.1f / %.1f / %.1f |\n\n", pk.Seconds, count(pk.Events), rate(pk.EventsPerSec),
		pk.CPUSecPerMEvents, mib(pk.PeakRSSBytes), pk.ReadP50Ms, pk.ReadP99Ms, pk.ReadMaxMs)
	p("Events/s counts from the first event (after the tables were filled, %.1f s of writing events); "+
		"CPU is the whole harness process (getrusage: Weir, its DuckDB store, the generator and its clients) "+
		"over the generator's run.\n\n", pk.EventSeconds)
	if f := pk.Freshness; f != nil {
		p("Freshness while the generator ran: ack → visible p50 %.1f ms, p99 %.1f ms, max %.1f ms over %d markers "+
			"(their COPY round trips: p50 %.1f ms, p99 %.1f ms; %d reads). Every %.0f ms a probe COPYed one comment into "+
			"room %d, which the generator has no events for, at the event time of the newest comment acknowledged so far; "+
			"a reader polled that room's comments in `%s` over the wire, on connections of their own.\n\n",
			f.P50Ms, f.P99Ms, f.MaxMs, f.Markers, f.AckP50Ms, f.AckP99Ms, f.Reads, ms(packProbeInterval), markerRoom, f.View)
	}
	if pk.Checkpoints > 0 {
		p("Checkpoints by the end of the run: %d, the last %s. The longest took %.1f ms; ticks and reads waited at most %.1f ms "+
			"for one (its snapshot of the state, which is then encoded and written while ticks go on).\n\n",
			pk.Checkpoints, mib(pk.CheckpointBytes), pk.CheckpointMaxMs, pk.CheckpointHeldMaxMs)
	}
	p("| elapsed s | events | RSS MiB | Go runtime MiB | live heap MiB | DuckDB MiB | state rows | view rows | slowest read ms |\n|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range spread(pk.Samples, 12) {
		var store int64
		for _, n := range s.StoreBytes {
			store += n
		}
		p("| %.1f | %s | %.0f | %.0f | %.0f | %.0f | %d | %d | %.1f (%s) |\n", s.ElapsedSec, count(s.Events), float64(s.RSSBytes)/(1<<20),
			float64(s.GoBytes)/(1<<20), float64(s.LiveHeapBytes)/(1<<20), float64(store)/(1<<20), s.StateRows, s.ViewRows, s.ReadMs, s.SlowestView)
	}
	if len(pk.Samples) > 12 {
		p("\n%d samples; 12 evenly spaced ones shown.\n", len(pk.Samples))
	}
	g := pk.SecondHalf
	perMin := func(v float64) float64 {
		if g.Seconds <= 0 {
			return 0
		}
		return v / g.Seconds * 60
	}
	p("\nGrowth over the second half (%.0f s; the rise of a least-squares line through its %d samples, so that one "+
		"sample beside a collection's transient garbage does not decide it): live heap %+.1f MiB "+
		"(%+.1f%%, %+.1f MiB/min), RSS %+.1f MiB (%+.1f%%, %+.1f MiB/min), state rows %+d (%+.1f%%, %+.0f/min), "+
		"view rows %+d (%+.1f%%).\n\n",
		g.Seconds, g.Samples, float64(g.LiveHeapBytes)/(1<<20), g.LiveHeapPct, perMin(float64(g.LiveHeapBytes)/(1<<20)),
		float64(g.RSSBytes)/(1<<20), g.RSSPct, perMin(float64(g.RSSBytes)/(1<<20)), g.StateRows, g.StateRowsPct, perMin(float64(g.StateRows)),
		g.ViewRows, g.ViewRowsPct)
	if len(pk.Operators) > 0 {
		p("State rows of each stateful operator at the start of the second half and at the end, largest growth first:\n\n" +
			"| operator | views | state rows half-way | at the end | growth |\n|---|---|--:|--:|--:|\n")
		for _, o := range pk.Operators {
			p("| `%s` | %s | %d | %d | %+d |\n", strings.ReplaceAll(o.Operator, "|", "\\|"), o.Views, o.MidRows, o.EndRows, o.EndRows-o.MidRows)
		}
		p("\n")
	}
	if len(pk.Checks) > 0 {
		p("Checked after the run, against what the COPY sink had acknowledged:\n\n")
		for _, c := range pk.Checks {
			verdict := "equal"
			if c.Got != c.Want {
				verdict = fmt.Sprintf("**differs**: %d", c.Want)
			}
			p("- `%s` = %d; %s: %s\n", c.Query, c.Got, c.What, verdict)
		}
		p("\n")
	}
}

// spread returns at most n of ss, evenly spaced, the first and the last included.
func spread[T any](ss []T, n int) []T {
	if len(ss) <= n {
		return ss
	}
	out := make([]T, n)
	for i := range n {
		out[i] = ss[i*(len(ss)-1)/(n-1)]
	}
	return out
}

// writeStream renders the streaming reads, Weir's beside PostgreSQL's of the same rows.
func (rep *Report) writeStream(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("### Streaming result rows to a client\n\n")
	p("A pgx client on loopback runs `%s` and reads every row with `rows.Next` and `Scan` into three "+
		"`int64`s and a `time.Time`, after the COPY workload, when Weir's source and PostgreSQL's table hold "+
		"the same %s events. Text results come through the simple query protocol, binary ones through the "+
		"extended protocol (pgx's default, which asks for binary for these four types). No ORDER BY: both "+
		"systems scan and send. Each read ran %d times; the table shows the fastest, timed from sending the "+
		"query to the last row scanned. MB/s counts the DataRow messages' bytes on the wire (10⁶ bytes).\n\n",
		streamQuery("events", max(rep.Config.StreamRows, 1)), count(int64(rep.Config.Events)), streamRuns)
	p("| system | reads | format | rows | best s | rows/s | MB/s | Weir ÷ PostgreSQL | CPU s per M rows | load avg |\n")
	p("|---|---|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, s := range rep.Stream {
		ratio := "—"
		if pg := rep.stream("PostgreSQL", "table events", s.Format); pg != nil && s.System != "PostgreSQL" {
			ratio = fmt.Sprintf("%.2f×", s.RowsPerSec/pg.RowsPerSec)
		}
		cpu := "—"
		if s.CPUSecPerMRows > 0 {
			cpu = fmt.Sprintf("%.2f", s.CPUSecPerMRows)
		}
		p("| %s | %s | %s | %s | %.3f | %s | %.1f | %s | %s | %.1f |\n", s.System, s.Relation, s.Format, count(s.Rows),
			s.Seconds, rate(s.RowsPerSec), s.MBPerSec, ratio, cpu, s.LoadAvg)
	}
	p("\nCPU is server and client together: for Weir, the harness process (getrusage), which holds Weir, " +
		"its DuckDB store and the client; for PostgreSQL, its backend and background processes (/proc/PID/stat) " +
		"plus the harness process. It is the CPU of the fastest run.\n\n")
}

// writeWireTargets compares the run with issue #6's performance targets.
func (rep *Report) writeWireTargets(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	weir := rep.ingest("Weir")
	if weir == nil && len(rep.Stream) == 0 {
		return
	}
	p("### Issue #6's targets\n\n| target | measured | met |\n|---|---|---|\n")
	for _, f := range streamFormats {
		s := rep.stream("Weir", "source events", f.name)
		if s == nil {
			continue
		}
		what := "streaming 1M result rows to pgx at least as fast as PostgreSQL 15 (" + f.name + ")"
		if s.Rows < 1_000_000 {
			what += fmt.Sprintf(", %s rows in this run", count(s.Rows))
		}
		pg := rep.stream("PostgreSQL", "table events", f.name)
		if pg == nil {
			p("| %s | Weir %s rows/s; PostgreSQL not run | — |\n", what, rate(s.RowsPerSec))
			continue
		}
		p("| %s | %.2f× (Weir %s rows/s, PostgreSQL %s rows/s) | %s |\n", what, s.RowsPerSec/pg.RowsPerSec,
			rate(s.RowsPerSec), rate(pg.RowsPerSec), yes(s.RowsPerSec >= pg.RowsPerSec))
	}
	if alone := rep.ingest(copyAloneSystem); alone != nil {
		p("| COPY FROM STDIN ingest ≥ 1,000,000 rows/s into a source with three views | %s rows/s (%d COPYs back to back, "+
			"each acknowledged once the views hold it; %s events/s when all three views are also read back after each) | %s |\n",
			rate(alone.EventsPerSec), alone.Batches, rate(weir.EventsPerSec), yes(alone.EventsPerSec >= 1e6))
	} else if weir != nil && weir.LoadSeconds > 0 {
		p("| COPY FROM STDIN ingest ≥ 1,000,000 rows/s into a source with three views | %s rows/s with the views read "+
			"back after each batch (COPY acknowledgements alone: %s rows/s) | %s |\n",
			rate(weir.EventsPerSec), rate(float64(weir.Events)/weir.LoadSeconds), yes(weir.EventsPerSec >= 1e6))
	}
	p("\n")
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func rate(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func secs(v float64) string {
	if v == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", v)
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// visible is r's ack → visible p50 / p99 cell, or a dash for a system that does not
// read its views back.
func visible(r IngestResult) string {
	if r.VisibleP50Ms == 0 && r.VisibleP99Ms == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f / %.1f", r.VisibleP50Ms, r.VisibleP99Ms)
}
