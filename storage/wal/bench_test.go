package wal

import (
	"context"
	"sync/atomic"
	"testing"
)

// BenchmarkCommit commits 1 KiB records from 16 goroutines per CPU (or from one, for
// "serial"), with fsync and without. MB/s is payload throughput, commits/s is 1e9 / ns/op; fsyncs/commit shows how
// much group commit shares.
func BenchmarkCommit(b *testing.B) {
	for _, bc := range []struct {
		name        string
		noSync      bool
		parallelism int
	}{{"fsync", false, 16}, {"nosync", true, 16}, {"fsync-serial", false, 0}} {
		b.Run(bc.name, func(b *testing.B) {
			l, err := Open(b.TempDir(), Options{NoSync: bc.noSync})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			var writes, syncs atomic.Int64
			countingHooks(l, &writes, &syncs, 0)
			p := make([]byte, 1024)
			for i := range p {
				p[i] = byte(i)
			}
			b.SetBytes(int64(len(p)))
			b.ResetTimer()
			if bc.parallelism == 0 {
				for b.Loop() {
					if _, err := l.Commit(context.Background(), p); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(bc.parallelism)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := l.Commit(context.Background(), p); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
			b.ReportMetric(float64(syncs.Load())/float64(b.N), "fsyncs/commit")
			b.ReportMetric(float64(b.N)/float64(writes.Load()), "commits/write")
		})
	}
}
