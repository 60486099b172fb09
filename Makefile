# Weir. `make help` lists the targets; each has a `##` comment (STYLE §2.9).

GO ?= go

# DuckDB (the oracle) and the race detector need cgo.
export CGO_ENABLED := 1

.DEFAULT_GOAL := help
.PHONY: help build run test test-short slt fuzz fuzz-engine crash-test bench microbench lint fmt

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  %-12s %s\n", $$1, $$2}'

build: ## go build -o bin/weir ./cmd/weir
	$(GO) build -o bin/weir ./cmd/weir

run: build ## build, then bin/weir demo (server + query pack + live-room traffic)
	bin/weir demo

# WEIR_SEGMENT_MIN_ROWS=64: a flush of 64 rows of a source or more writes them as a Parquet
# segment (storage/viewstore/segments.go), so the tests on disk go both ways.
test: ## every test, with -race, concurrent ticks from 1 row and source segments from 64, then make fuzz (what .ci/run runs)
	WEIR_PARALLEL_MIN_ROWS=1 WEIR_SEGMENT_MIN_ROWS=64 $(GO) test -race -timeout 15m ./...
	$(MAKE) --no-print-directory fuzz

# FUZZTIME is how long make fuzz runs each target; crashers land in the package's testdata/fuzz.
# It is a count of executions (about 10 s each here), not a duration: with a duration, Go
# 1.26's fuzz coordinator can fail a target with a bare "context deadline exceeded" when
# the time runs out under load (golang/go#75804, fixed in Go 1.27); a count has no
# deadline to race.
FUZZTIME ?= 100000x

fuzz: ## the go test -fuzz targets (wire decoder, statement front end), FUZZTIME=100000x each
	$(GO) test -run='^$$' -fuzz='^FuzzDecode$$' -fuzztime=$(FUZZTIME) ./server/pgwire/
	$(GO) test -run='^$$' -fuzz='^FuzzStatement$$' -fuzztime=$(FUZZTIME) ./planner/

test-short: ## go test -short ./... (skips slt, crash and oracle tests)
	$(GO) test -short ./...

slt: ## the sqllogictest scripts: go test -run TestSLT -v .
	$(GO) test -run TestSLT -v .

# WEIR_FUZZ_SEED=N replays one stream; FUZZ_TIMEOUT must outlast the duration.
WEIR_FUZZ_DURATION ?= 10m
FUZZ_TIMEOUT ?= 24h

fuzz-engine: ## long randomized oracle run: WEIR_FUZZ_DURATION=10m by default
	WEIR_FUZZ_DURATION=$(WEIR_FUZZ_DURATION) $(GO) test -run '^TestFuzzEngine$$' -count=1 -v -timeout $(FUZZ_TIMEOUT) ./db/

# WEIR_CRASH_SEED=N replays one run's events; WEIR_CRASH_DURATION=30m keeps killing until then.
WEIR_CRASH_KILLS ?= 20
WEIR_CRASH_DURATION ?=
CRASH_TIMEOUT ?= 24h

crash-test: ## long kill -9 run: WEIR_CRASH_KILLS=20 kills and restarts by default, each checked against the oracle
	WEIR_CRASH_KILLS=$(WEIR_CRASH_KILLS) WEIR_CRASH_DURATION=$(WEIR_CRASH_DURATION) $(GO) test -run '^TestCrash$$' -count=1 -v -timeout $(CRASH_TIMEOUT) ./internal/crashtest/

# BENCH_FLAGS passes flags to weir bench, e.g. BENCH_FLAGS='--events 500000 --nexmark 0'.
BENCH_FLAGS ?=

bench: build ## weir bench: Weir vs PostgreSQL 15 and DuckDB, in one run (< 10 min); writes BENCHMARKS.md and bin/bench.json
	bin/weir bench --out BENCHMARKS.md --json bin/bench.json $(BENCH_FLAGS)

microbench: ## the Go micro-benchmarks: go test -bench . -benchmem ./...
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint: ## go vet ./...
	$(GO) vet ./...

fmt: ## gofmt -l -w .
	gofmt -l -w .
