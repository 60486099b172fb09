// Package queries holds the live-room analytics pack: the .sql files `weir demo`
// applies, in file-name order.
package queries

import "embed"

// Files holds every .sql file of the pack.
//
//go:embed *.sql
var Files embed.FS
