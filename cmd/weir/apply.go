package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/weirdb/weir/planner"
	"github.com/weirdb/weir/server"
)

// apply runs .sql files against a running server, in file-name order; statements that
// create an object that already exists (42P07) are skipped, so re-applying is harmless.
func apply(args []string, logger *slog.Logger) error {
	set := flag.NewFlagSet("apply", flag.ExitOnError)
	addr := set.String("pg", server.DefaultConfig().PGAddr, "server address")
	set.Parse(args)
	var files []string
	for _, a := range set.Args() {
		st, err := os.Stat(a)
		if err != nil {
			return err
		}
		if st.IsDir() {
			m, _ := filepath.Glob(filepath.Join(a, "*.sql"))
			sort.Strings(m)
			files = append(files, m...)
		} else {
			files = append(files, a)
		}
	}
	if len(files) == 0 {
		return errors.New("apply: no .sql files given")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("postgres://weir@%s/weir?sslmode=disable", *addr))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, f := range files {
		text, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		stmts, err := planner.Split(string(text))
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		for _, s := range stmts {
			_, err := conn.Exec(ctx, s, pgx.QueryExecModeSimpleProtocol)
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "42P07" {
				logger.Info("exists, skipped", "file", f, "statement", firstLine(s))
				continue
			}
			if err != nil {
				return fmt.Errorf("%s: %s: %w", f, firstLine(s), err)
			}
		}
		logger.Info("applied", "file", f, "statements", len(stmts))
	}
	return nil
}
