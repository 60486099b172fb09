package crashtest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	readyTimeout  = 2 * time.Minute // recovery recomputes every view from the whole history
	stopTimeout   = 30 * time.Second
	startAttempts = 3 // a free port can be taken between picking and binding it
	logTailBytes  = 4096
)

// Build compiles cmd/weir into dir and returns the binary's path.
func Build(t testing.TB, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "weir")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin, "github.com/weirdb/weir/cmd/weir")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("crashtest: go build ./cmd/weir: %v\n%s", err, out)
	}
	t.Logf("built %s in %s", bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// Server is a weir serve child process on one data directory, restarted as often as the
// test likes. Its log (stdout and stderr) goes to a file per start beside the data
// directory. Cleanup kills a process still running.
type Server struct {
	t      testing.TB
	bin    string
	data   string
	pgAddr string
	http   string
	starts int

	cmd     *exec.Cmd
	logPath string
	done    chan error // receives the process's exit, then is closed
}

// NewServer returns a stopped server for data; Start runs it.
func NewServer(t testing.TB, bin, data string) *Server {
	s := &Server{t: t, bin: bin, data: data}
	t.Cleanup(func() {
		if s.Running() {
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// PGURL is the pgwire connection URL of the running server.
func (s *Server) PGURL() string {
	return fmt.Sprintf("postgres://weir@%s/weir?sslmode=disable&connect_timeout=10", s.pgAddr)
}

// HTTPURL is the base URL of the running server's HTTP API.
func (s *Server) HTTPURL() string { return "http://" + s.http }

// Running reports whether the process is started and has not exited.
func (s *Server) Running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// Exited returns a channel closed when the running process exits.
func (s *Server) Exited() <-chan error { return s.done }

// Start starts the server and waits until /readyz answers 200; it returns how long that
// took (recovery included). The ports of the previous start are reused; a port taken
// meanwhile is replaced. A server that exits or is not ready in time fails the test with
// the tail of its log.
func (s *Server) Start() time.Duration {
	s.t.Helper()
	for attempt := 1; ; attempt++ {
		if s.pgAddr == "" || attempt > 1 {
			s.pgAddr, s.http = freeAddr(s.t), freeAddr(s.t)
		}
		took, err := s.start()
		if err == nil {
			return took
		}
		tail := s.LogTail()
		if attempt == startAttempts || !strings.Contains(tail, "address already in use") {
			s.t.Fatalf("crashtest: weir start %d: %v\n--- %s (tail) ---\n%s", s.starts, err, s.logPath, tail)
		}
		s.t.Logf("crashtest: a port was taken, retrying with others")
	}
}

func (s *Server) start() (time.Duration, error) {
	begin := time.Now()
	if err := s.spawn(); err != nil {
		return 0, err
	}
	if err := s.waitReady(); err != nil {
		if s.Running() {
			s.Kill()
		}
		return 0, err
	}
	return time.Since(begin), nil
}

// KillDuringStart starts the server on the ports of the previous start and kills it
// after delay, while it is recovering (unless it became ready sooner).
func (s *Server) KillDuringStart(delay time.Duration) {
	s.t.Helper()
	if err := s.spawn(); err != nil {
		s.t.Fatalf("crashtest: weir start %d: %v", s.starts, err)
	}
	select {
	case <-s.done:
	case <-time.After(delay):
	}
	s.Kill()
}

// spawn starts the process.
func (s *Server) spawn() error {
	s.starts++
	s.logPath = filepath.Join(filepath.Dir(s.data), fmt.Sprintf("weir-%02d.log", s.starts))
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// Checkpoints several times a round: recovery then loads one and replays the log
	// after it (ticks the store holds, then ticks only the log holds).
	cmd := exec.Command(s.bin, "serve", "--data", s.data, "--pg", s.pgAddr, "--http", s.http, "--checkpoint-interval", "250ms")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = sysProcAttr()
	// The kernel sends the parent-death signal when the thread that forked the child
	// exits, so fork from a locked thread that lives as long as the child.
	started := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		done <- cmd.Wait()
		close(done)
	}()
	if err := <-started; err != nil {
		return err
	}
	s.cmd, s.done = cmd, done
	return nil
}

func (s *Server) waitReady() error {
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(readyTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var last error
	for time.Now().Before(deadline) {
		resp, err := client.Get(s.HTTPURL() + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("/readyz: %s", resp.Status)
		}
		last = err
		select {
		case werr := <-s.done:
			return fmt.Errorf("weir exited during start-up (%v)", werr)
		case <-tick.C:
		}
	}
	return fmt.Errorf("weir not ready after %s: %w", readyTimeout, last)
}

// Kill sends SIGKILL and waits for the process to be gone.
func (s *Server) Kill() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil && s.Running() {
		s.t.Fatalf("crashtest: kill -9 weir: %v", err)
	}
	<-s.done
}

// Stop sends SIGTERM and waits for a clean exit (status 0).
func (s *Server) Stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("crashtest: SIGTERM weir: %v", err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			s.t.Fatalf("crashtest: weir did not exit cleanly on SIGTERM: %v\n--- %s (tail) ---\n%s", err, s.logPath, s.LogTail())
		}
	case <-time.After(stopTimeout):
		s.cmd.Process.Kill()
		<-s.done
		s.t.Fatalf("crashtest: weir did not stop within %s of SIGTERM\n--- %s (tail) ---\n%s", stopTimeout, s.logPath, s.LogTail())
	}
}

// LogTail returns the end of the current start's log.
func (s *Server) LogTail() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return err.Error()
	}
	if len(b) > logTailBytes {
		b = b[len(b)-logTailBytes:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// freeAddr returns 127.0.0.1:port with a port free a moment ago.
func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("crashtest: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}
