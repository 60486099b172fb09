// Command weir is the Weir streaming SQL database: server, demo, apply and generator.
package main

import (
	"fmt"
	"log/slog"
	"os"

	"golang.org/x/term"
)

const usage = `weir — a streaming SQL database for live-room interaction data

usage:
  weir serve [--data DIR] [--pg ADDR] [--http ADDR] [--queries DIR]
  weir demo  [--data DIR] [--pg ADDR] [--http ADDR] [--rate N] [--duration D]
  weir apply [--pg ADDR] DIR|FILE...
  weir gen   [--rate N] [--duration D] [--rooms N] [--seed N]   (NDJSON comments on stdout)
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
		err = demo(os.Args[2:], logger)
	case "apply":
		err = apply(os.Args[2:], logger)
	case "gen":
		err = gen(os.Args[2:])
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "weir: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
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
