package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuSelf returns the CPU time (user + system) this process has used so far, all
// threads included: Weir's engine, its DuckDB store, and the harness's clients.
func cpuSelf() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// clkTck is the unit of /proc/PID/stat's CPU fields; 100 on every Linux port Go runs on.
const clkTck = 100

// cpuOf returns the CPU time (user + system) process pid has used, from
// /proc/PID/stat, or false where that file is not readable.
func cpuOf(pid int) (time.Duration, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name is in parentheses and may hold spaces; fields follow the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64) // field 14, utime
	st, err2 := strconv.ParseInt(f[12], 10, 64) // field 15, stime
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(ut+st) * time.Second / clkTck, true
}

// peakRSS returns this process's peak resident set size in bytes since it started or
// since the last resetPeakRSS (VmHWM), and false where /proc is not available.
func peakRSS() (int64, bool) { return statusField("VmHWM:") }

// rss returns the current resident set size in bytes (VmRSS).
func rss() (int64, bool) { return statusField("VmRSS:") }

// resetPeakRSS restarts VmHWM at the current RSS (Linux ≥ 4.0), so that each phase's
// peak is its own. It reports whether the reset worked.
func resetPeakRSS() bool {
	// Memory the earlier runs freed goes back to the OS first, so that the peak is this
	// run's own and not the high-water mark the process already had.
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

func statusField(name string) (int64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) {
			continue
		}
		fs := strings.Fields(line[len(name):])
		if len(fs) < 1 {
			return 0, false
		}
		kb, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			return 0, false
		}
		return kb << 10, true
	}
	return 0, false
}

// liveHeap returns the Go heap in use after a full collection: the memory Weir's
// operators and views hold, not counting DuckDB's (C) allocations.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC() // a second cycle frees what the first one's finalizers released
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// heapLive returns the Go heap that the last garbage collection found live
// (runtime/metrics /gc/heap/live:bytes), without forcing a collection: cheap enough to
// sample while a workload runs.
func heapLive() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64())
}

// goMapped returns the memory the Go runtime holds from the OS and has not released
// (runtime/metrics: all classes less the released heap): RSS less this is, roughly,
// what C code (DuckDB) holds, as far as the pages are resident.
func goMapped() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 || s[1].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(s[0].Value.Uint64() - s[1].Value.Uint64())
}

// loadAvg returns the 1-minute load average, or -1.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return -1
	}
	return v
}
