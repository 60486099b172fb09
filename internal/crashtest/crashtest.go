// Package crashtest checks Weir's durability contract (DESIGN §4) on the real binary:
// an acknowledged event survives kill -9 exactly once, and after every restart each view
// equals a batch answer over exactly the events present.
//
// Run builds cmd/weir, starts `weir serve` on a fresh data directory as a child process,
// creates a source (events with unique ids), a rooms table and views over them (per-room
// count and sum, per-room count(DISTINCT), a join with rooms grouped by category, a global
// aggregate), and then repeats rounds: concurrent writers post events over HTTP (JSON
// arrays of random size), INSERT them over pgwire and COPY them in (pgx's binary
// CopyFrom), recording each id as acknowledged (200 / INSERT n / COPY n) or in flight
// (sent, no answer); at a random moment the server gets
// SIGKILL, now and then a second time in the middle of the restart's recovery; one view
// is created during round 2, under ingest, so the kill may hit its backfill. The server
// is restarted on the same directory and checked:
//
//   - every acknowledged id is present exactly once, with the values sent;
//   - no id is present twice, and an unacknowledged id only if it was in flight (it is
//     then expected present forever; one found absent must stay absent);
//   - the rooms table is intact, a view whose CREATE was acknowledged exists (one in
//     flight may or may not), and every view equals the oracle, computed in Go from the
//     events present.
//
// After the last kill the server is stopped with SIGTERM, restarted and checked once more.
// Events are a function of (seed, id), so the ledger holds ids only and a run is replayed
// with the same seed (kill moments depend on timing, so only as far as timing allows).
package crashtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Config is one run.
type Config struct {
	// Kills is the number of rounds that end in SIGKILL.
	Kills int
	// Duration, if positive, keeps the run going (more kills) until it has passed.
	Duration time.Duration
	// Seed drives the events, batch sizes and kill moments.
	Seed uint64
	// HTTPWriters, PGWriters and CopyWriters are the concurrent clients per round: HTTP
	// ingest, multi-row INSERT, and COPY FROM STDIN (pgx's binary CopyFrom).
	HTTPWriters, PGWriters, CopyWriters int
	// MinAcks is how many requests a round acknowledges before the kill may come.
	MinAcks int64
	// MaxKillDelay bounds the random time from MinAcks to the kill.
	MaxKillDelay time.Duration
}

// progressTimeout bounds the wait for a round's first MinAcks acknowledgements.
const progressTimeout = time.Minute

// Run performs cfg's rounds against a freshly built weir; failures are reported on t with
// the kill, the id or view, and expected versus got.
func Run(t *testing.T, cfg Config) {
	t.Logf("crashtest seed %d (set WEIR_CRASH_SEED=%d to replay the same events)", cfg.Seed, cfg.Seed)
	// Not t.TempDir: the data directory and server logs of a failed run are kept.
	root, err := os.MkdirTemp("", "weir-crashtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("crashtest: data directory and server logs kept in %s", root)
			return
		}
		os.RemoveAll(root)
	})
	bin := Build(t, root)
	srv := NewServer(t, bin, filepath.Join(root, "data"))
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	ledger := newLedger()

	took := srv.Start()
	t.Logf("started in %s; pg %s, http %s, data %s", took.Round(time.Millisecond), srv.pgAddr, srv.http, srv.data)
	if err := setup(ctx, srv.PGURL()); err != nil {
		t.Fatalf("crashtest: setup: %v\n--- %s (tail) ---\n%s", err, srv.logPath, srv.LogTail())
	}
	for _, v := range views {
		if v.round == 0 {
			ledger.setView(v.name, acked)
		}
	}

	begin := time.Now()
	var recoveries []time.Duration
	recoveryKills := 0
	for kill := 1; kill <= cfg.Kills || time.Since(begin) < cfg.Duration; kill++ {
		round := kill
		stats, roundTime := runRound(ctx, t, srv, ledger, cfg, rng, round)
		when := fmt.Sprintf("kill %d (seed %d)", kill, cfg.Seed)
		if len(recoveries) > 0 && rng.IntN(4) == 0 {
			// Now and then a second kill, in the middle of recovery.
			delay := time.Duration(rng.Int64N(int64(recoveries[len(recoveries)-1]) + 1))
			srv.KillDuringStart(delay)
			recoveryKills++
			when = fmt.Sprintf("kill %d and a kill %s into its restart (seed %d)", kill, delay.Round(time.Millisecond), cfg.Seed)
		}
		took := srv.Start()
		recoveries = append(recoveries, took)
		res, err := check(ctx, srv.PGURL(), when, cfg.Seed, ledger, t.Errorf)
		if err != nil {
			t.Fatalf("crashtest: %s: check: %v\n--- %s (tail) ---\n%s", when, err, srv.logPath, srv.LogTail())
		}
		t.Logf("%s after %s: %d requests (%d events) acknowledged, %d events in flight (%d present, %d absent after restart); restart and recovery %s; %d events in the source; %d views and the table checked in %s",
			when, roundTime.Round(time.Millisecond), stats.ackedReqs.Load(), stats.ackedRows.Load(), stats.inFlightRows.Load(),
			res.resolvedIn, res.resolvedOut, took.Round(time.Millisecond), res.events, res.views, res.checkDuration.Round(time.Millisecond))
		if t.Failed() {
			t.Fatalf("crashtest: stopping after the failures of %s; server log %s", when, srv.logPath)
		}
	}

	// A clean shutdown and restart keeps everything too.
	srv.Stop()
	took = srv.Start()
	when := fmt.Sprintf("restart after SIGTERM (seed %d)", cfg.Seed)
	res, err := check(ctx, srv.PGURL(), when, cfg.Seed, ledger, t.Errorf)
	if err != nil {
		t.Fatalf("crashtest: %s: check: %v", when, err)
	}
	var maxRec, sum time.Duration
	for _, r := range recoveries {
		sum += r
		maxRec = max(maxRec, r)
	}
	t.Logf("%d kills under ingest and %d during recovery in %s, %d events; restart after SIGTERM %s; restart after kill -9: mean %s, max %s",
		len(recoveries), recoveryKills, time.Since(begin).Round(time.Millisecond), res.events, took.Round(time.Millisecond),
		(sum / time.Duration(len(recoveries))).Round(time.Millisecond), maxRec.Round(time.Millisecond))
	srv.Stop()
}

// runRound runs the writers until MinAcks requests are acknowledged and a random delay
// more has passed, kills the server and waits for the writers to notice.
func runRound(ctx context.Context, t *testing.T, srv *Server, ledger *Ledger, cfg Config, rng *rand.Rand, round int) (*roundStats, time.Duration) {
	stats := &roundStats{}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	start := time.Now()
	for i := range cfg.HTTPWriters + cfg.PGWriters + cfg.CopyWriters {
		w := &writer{id: i, srv: srv, ledger: ledger, round: round, seed: cfg.Seed, stats: stats, errorf: t.Errorf,
			rng: rand.New(rand.NewPCG(cfg.Seed, uint64(round)<<16|uint64(i)))}
		switch {
		case i < cfg.HTTPWriters:
			wg.Go(func() { w.runHTTP(wctx) })
		case i < cfg.HTTPWriters+cfg.PGWriters:
			wg.Go(func() { w.runPG(wctx) })
		default:
			wg.Go(func() { w.runCopy(wctx) })
		}
	}
	for _, v := range views {
		if state, ok := ledger.view(v.name); v.round == round && !ok || state == gone {
			wg.Go(func() { createView(wctx, t, srv, ledger, stats, cfg.MinAcks/2, round, v) })
		}
	}
	delay := time.Duration(rng.Int64N(int64(cfg.MaxKillDelay) + 1))
	// Wait for progress, polling: the writers must be well under way before the kill.
	deadline := time.Now().Add(progressTimeout)
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for stats.ackedReqs.Load() < cfg.MinAcks {
		select {
		case err := <-srv.Exited():
			cancel()
			wg.Wait()
			t.Fatalf("crashtest: round %d: weir exited by itself (%v)\n--- %s (tail) ---\n%s", round, err, srv.logPath, srv.LogTail())
		case <-poll.C:
		}
		if time.Now().After(deadline) {
			cancel()
			wg.Wait()
			t.Fatalf("crashtest: round %d: only %d requests acknowledged in %s\n--- %s (tail) ---\n%s", round, stats.ackedReqs.Load(), progressTimeout, srv.logPath, srv.LogTail())
		}
	}
	// The kill moment: a random delay after the round got going.
	select {
	case err := <-srv.Exited():
		cancel()
		wg.Wait()
		t.Fatalf("crashtest: round %d: weir exited by itself (%v)\n--- %s (tail) ---\n%s", round, err, srv.logPath, srv.LogTail())
	case <-time.After(delay):
	}
	srv.Kill()
	roundTime := time.Since(start)
	cancel()
	wg.Wait()
	return stats, roundTime
}

// createView creates v once the round's writers have had after acks requests
// acknowledged, recording the CREATE as acknowledged or in flight.
func createView(ctx context.Context, t *testing.T, srv *Server, ledger *Ledger, stats *roundStats, after int64, round int, v view) {
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for stats.ackedReqs.Load() < after {
		select {
		case <-ctx.Done():
			return
		case <-poll.C:
		}
	}
	conn, err := pgx.Connect(ctx, srv.PGURL())
	if err != nil {
		return // the server died first
	}
	defer conn.Close(context.WithoutCancel(ctx))
	ledger.setView(v.name, inFlight)
	_, err = conn.Exec(ctx, v.create)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr):
		ledger.setView(v.name, rejected)
		t.Errorf("round %d: %s failed: %s (SQLSTATE %s)", round, v.create, pgErr.Message, pgErr.Code)
	case err == nil:
		ledger.setView(v.name, acked)
	}
}
