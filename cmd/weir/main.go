// Command weir is the Weir streaming SQL database: server, demo, apply and generator.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"

	"golang.org/x/term"
)

const usage = `weir — a streaming SQL database for live-room interaction data

usage:
  weir serve [--data DIR] [--pg ADDR] [--http ADDR] [--queries DIR]
  weir demo  [--data DIR] [--pg ADDR] [--http ADDR] [--rate N] [--duration D] [--seed N]
  weir apply [--pg ADDR] [--dry-run] [--prune] DIR|FILE...
  weir gen   [--rate N] [--rooms N] [--skew S] [--duration D] [--seed N] [--out-of-order S] [--lateness D] [--late S]
             [--fast] [--http ADDR | --copy [--pg ADDR] | --stdout [--source NAME]]
  weir bench [--events N] [--batches N] [--freshness D] [--nexmark N] [--no-peers] [--json FILE] [--cpuprofile FILE] [--trace FILE] [--mutexprofile FILE]

Run "weir COMMAND -h" for a command's flags.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	logger := newLogger()
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:], logger)
	case "demo":
		err = demo(os.Args[2:], os.Stdout, logger)
	case "apply":
		err = apply(os.Args[2:], os.Stdout, logger)
	case "gen":
		err = gen(os.Args[2:], os.Stdout, logger)
	case "bench":
		err = runBench(os.Args[2:], os.Stdout, logger)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "weir: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if errors.Is(err, flag.ErrHelp) {
		return // the flag set printed the usage
	}
	if err != nil {
		logger.Error("weir failed", "err", err)
		os.Exit(1)
	}
}

// newLogger writes text logs on a terminal and JSON lines otherwise.
func newLogger() *slog.Logger {
	if term.IsTerminal(int(os.Stderr.Fd())) {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, nil))
}
