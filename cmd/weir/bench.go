package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/weirdb/weir/internal/bench"
)

// runBench runs the benchmark suite (DESIGN §7, internal/bench), prints the tables,
// writes them into BENCHMARKS.md between its markers and, with --json, the same numbers
// as JSON.
func runBench(args []string, stdout io.Writer, logger *slog.Logger) error {
	cfg := bench.DefaultConfig()
	set := flag.NewFlagSet("bench", flag.ContinueOnError)
	set.IntVar(&cfg.Events, "events", cfg.Events, "events in the COPY workload")
	set.IntVar(&cfg.Batches, "batches", cfg.Batches, "COPY batches; every view is read back after each")
	set.IntVar(&cfg.Rooms, "rooms", cfg.Rooms, "distinct rooms (Zipf)")
	set.IntVar(&cfg.Users, "users", cfg.Users, "distinct users (Zipf)")
	set.DurationVar(&cfg.Freshness, "freshness", cfg.Freshness, "how long each freshness reader runs (0: skip)")
	set.IntVar(&cfg.Nexmark, "nexmark", cfg.Nexmark, "Nexmark events per query (0: skip Nexmark)")
	set.IntVar(&cfg.NexmarkBatches, "nexmark-batches", cfg.NexmarkBatches, "COPY batches per Nexmark query")
	nexQueries := set.String("nexmark-queries", "", "comma-separated Nexmark queries to run, as q0,q2 (empty: all)")
	set.DurationVar(&cfg.PackDuration, "pack-duration", cfg.PackDuration, "wall time the live-room pack runs under unpaced weir gen traffic (0: skip)")
	set.DurationVar(&cfg.PackSample, "pack-sample", cfg.PackSample, "how often the live-room pack's memory, state and view reads are sampled")
	set.Float64Var(&cfg.PackRate, "pack-rate", 0, "pace the pack's generator at this many events/s, event time following the wall clock (0: unpaced)")
	packViews := set.String("pack-views", "", "comma-separated views of the live-room pack to keep, the others dropped (empty: all)")
	noPeers := set.Bool("no-peers", false, "skip the PostgreSQL and DuckDB peers")
	set.BoolVar(&cfg.Backfill, "backfill", cfg.Backfill, "time new views over the loaded history")
	set.IntVar(&cfg.BackfillRows, "backfill-rows", cfg.BackfillRows, "history rows the backfill's views are created over (the COPY workload's events, and more when larger)")
	set.IntVar(&cfg.StreamRows, "stream-rows", cfg.StreamRows, "LIMIT of the read streamed to a pgx client from Weir and PostgreSQL (0: skip)")
	set.IntVar(&cfg.AggGroups, "agg-groups", cfg.AggGroups, "groups in the HashAggregate state measurement (0: skip)")
	set.BoolVar(&cfg.NoSync, "nosync", false, "Weir skips fsync in its write-ahead log")
	set.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "generator seed")
	set.StringVar(&cfg.TempDir, "tmp", "", "directory for the databases (default $TMPDIR)")
	out := set.String("out", "BENCHMARKS.md", "markdown file to write the tables into (empty: none)")
	jsonOut := set.String("json", "", "also write the report as JSON to this file")
	cpuProfile := set.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	traceFile := set.String("trace", "", "write a runtime execution trace of the whole run to this file (go tool trace)")
	memProfile := set.String("memprofile", "", "write a heap profile at the end of the run to this file")
	mutexProfile := set.String("mutexprofile", "", "write a profile of the run's mutex contention to this file: where locks that others waited for were released")
	if err := set.Parse(args); err != nil {
		return err
	}
	cfg.Peers = !*noPeers
	if *packViews != "" {
		cfg.PackViews = strings.Split(*packViews, ",")
	}
	if *nexQueries != "" {
		cfg.NexmarkQueries = strings.Split(*nexQueries, ",")
	}
	cfg.Logger = logger.With("component", "bench")
	if err := cfg.Validate(); err != nil {
		return err
	}
	if term.IsTerminal(int(os.Stderr.Fd())) {
		cfg.Progress = func(s string) { fmt.Fprintf(os.Stderr, "\r\033[K%s", s) }
	} else {
		cfg.Progress = func(s string) { cfg.Logger.Info(s) }
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, rec := range []struct {
		path  string
		start func(io.Writer) error
		stop  func()
	}{{*cpuProfile, pprof.StartCPUProfile, pprof.StopCPUProfile}, {*traceFile, trace.Start, trace.Stop}} {
		if rec.path == "" {
			continue
		}
		f, err := os.Create(rec.path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := rec.start(f); err != nil {
			return err
		}
		defer rec.stop()
	}
	if *mutexProfile != "" {
		runtime.SetMutexProfileFraction(1)
	}
	start := time.Now()
	rep, err := bench.Run(ctx, cfg)
	if term.IsTerminal(int(os.Stderr.Fd())) {
		fmt.Fprint(os.Stderr, "\r\033[K")
	}
	if err != nil {
		return err
	}
	if *memProfile != "" {
		runtime.GC()
		if err := writeProfile(*memProfile, "heap"); err != nil {
			return err
		}
	}
	if *mutexProfile != "" {
		if err := writeProfile(*mutexProfile, "mutex"); err != nil {
			return err
		}
	}
	rep.WriteMarkdown(stdout)
	if *out != "" {
		if err := rep.UpdateMarkdownFile(*out); err != nil {
			return err
		}
	}
	if *jsonOut != "" {
		f, err := os.Create(*jsonOut)
		if err != nil {
			return err
		}
		if err := rep.JSON(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	logger.Info("bench done", "seconds", time.Since(start).Seconds(), "markdown", *out, "json", *jsonOut)
	return nil
}

// writeProfile writes the named runtime profile (pprof.Lookup) to path.
func writeProfile(path, name string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
