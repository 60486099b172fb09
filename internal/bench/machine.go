package bench

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Machine describes where the numbers were taken.
type Machine struct {
	CPU      string  `json:"cpu"`
	Cores    int     `json:"cores"`
	RAMBytes int64   `json:"ram_bytes"`
	Disk     string  `json:"disk"`
	Kernel   string  `json:"kernel"`
	Go       string  `json:"go"`
	DuckDB   string  `json:"duckdb,omitempty"`
	Postgres string  `json:"postgres,omitempty"`
	LoadMin  float64 `json:"load_avg_min"`
	LoadMean float64 `json:"load_avg_mean"`
	LoadMax  float64 `json:"load_avg_max"`
}

// describeMachine fills in what the kernel says about the CPU, memory, the disk holding
// dir, and the kernel itself.
func describeMachine(dir string) Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), CPU: "unknown", Disk: "unknown"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if fs := strings.Fields(sc.Text()); len(fs) >= 2 && fs[0] == "MemTotal:" {
				kb, _ := strconv.ParseInt(fs[1], 10, 64)
				m.RAMBytes = kb << 10
				break
			}
		}
		f.Close()
	}
	var u syscall.Utsname
	if syscall.Uname(&u) == nil {
		m.Kernel = utsString(u.Sysname[:]) + " " + utsString(u.Release[:])
	}
	m.Disk = describeDisk(dir)
	return m
}

func utsString(b []int8) string {
	var s strings.Builder
	for _, c := range b {
		if c == 0 {
			break
		}
		s.WriteByte(byte(c))
	}
	return s.String()
}

// describeDisk names the block device and file system holding dir, whether the kernel
// thinks it rotates, and its size.
func describeDisk(dir string) string {
	dev, fstype := mountOf(dir)
	desc := fstype
	if dev != "" {
		name := filepath.Base(dev)
		// A partition's queue attributes live on its parent device.
		for _, cand := range []string{name, strings.TrimRight(name, "0123456789"), strings.TrimSuffix(strings.TrimRight(name, "0123456789"), "p")} {
			if b, err := os.ReadFile("/sys/block/" + cand + "/queue/rotational"); err == nil {
				kind := "non-rotational"
				if strings.TrimSpace(string(b)) == "1" {
					kind = "rotational per the kernel" // virtio disks say so whatever is behind them
				}
				desc = name + ", " + fstype + ", " + kind
				break
			}
		}
	}
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) == nil {
		desc += ", " + strconv.FormatInt(int64(st.Blocks)*int64(st.Bsize)>>30, 10) + " GiB"
	}
	return desc
}

// mountOf returns the device and file-system type of the longest mount point that is a
// prefix of dir.
func mountOf(dir string) (dev, fstype string) {
	dir, _ = filepath.Abs(dir)
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return "", ""
	}
	defer f.Close()
	best := -1
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 3 {
			continue
		}
		mp := fs[1]
		if (dir == mp || strings.HasPrefix(dir, strings.TrimSuffix(mp, "/")+"/")) && len(mp) > best {
			best, dev, fstype = len(mp), fs[0], fs[2]
		}
	}
	return dev, fstype
}

// loadSampler records the 1-minute load average every few seconds while the benchmark
// runs.
type loadSampler struct {
	mu      sync.Mutex
	samples []float64
	stop    chan struct{}
	done    chan struct{}
}

func startLoadSampler(every time.Duration) *loadSampler {
	s := &loadSampler{stop: make(chan struct{}), done: make(chan struct{})}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.sample()
			}
		}
	}()
	return s
}

func (s *loadSampler) sample() {
	if v := loadAvg(); v >= 0 {
		s.mu.Lock()
		s.samples = append(s.samples, v)
		s.mu.Unlock()
	}
}

// Stop ends sampling and returns the minimum, mean and maximum load average seen.
func (s *loadSampler) Stop() (lo, mean, hi float64) {
	close(s.stop)
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		return -1, -1, -1
	}
	lo, hi = s.samples[0], s.samples[0]
	sum := 0.0
	for _, v := range s.samples {
		lo, hi, sum = min(lo, v), max(hi, v), sum+v
	}
	return lo, sum / float64(len(s.samples)), hi
}
