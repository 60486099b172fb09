// Package pgtest starts throwaway PostgreSQL servers for tests: the independent engine that
// checks Weir's slt expectations and the oracle's answers (DESIGN §8, STYLE §2.7).
//
// Each Start runs initdb into a fresh temporary directory and starts postgres as a child
// process listening on 127.0.0.1 and a free port, with fsync off and trust auth. The
// cluster uses the C locale, UTF8 and UTC, as Weir does (text compares bytewise,
// timestamptz prints in UTC). The server is stopped and its directory removed by
// t.Cleanup. The child gets SIGKILL from the kernel if the test binary dies first (go test
// -timeout), so no server outlives its test.
//
// Binaries are found in $WEIR_PG_BINDIR, then /usr/lib/postgresql/15/bin and the other
// usual places, then /usr/lib/postgresql/*/bin (newest first), then $PATH. When the test
// runs as root, initdb and postgres run as the "postgres" user, since PostgreSQL refuses to
// run as root.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/lib/pq" // readiness probe
)

// BinDirEnv names the environment variable that overrides where the PostgreSQL binaries
// (initdb, postgres) are looked up.
const BinDirEnv = "WEIR_PG_BINDIR"

const (
	superuser      = "postgres"
	database       = "postgres"
	readyTimeout   = 60 * time.Second
	stopTimeout    = 30 * time.Second
	startAttempts  = 3 // a free port can be taken between picking and binding it
	logTailOnError = 40
)

// Cluster is a running throwaway PostgreSQL server. Its superuser is "postgres", trusted
// without a password; the database "postgres" exists.
type Cluster struct {
	binDir  string
	root    string // temporary directory: data/ and postgres.log
	dataDir string
	logPath string
	port    int
	cred    *syscall.Credential // nil unless the test runs as root
	proc    *os.Process
	done    chan error // receives the postmaster's exit, then is closed
}

// Start initializes and starts a PostgreSQL server and registers its shutdown with
// t.Cleanup. It calls t.Fatalf when PostgreSQL is not installed or does not come up.
func Start(t testing.TB) *Cluster {
	t.Helper()

	binDir, err := findBinDir()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	cred, err := credential()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	root, err := makeRoot(cred)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	c := &Cluster{
		binDir:  binDir,
		root:    root,
		dataDir: filepath.Join(root, "data"),
		logPath: filepath.Join(root, "postgres.log"),
		cred:    cred,
	}
	t.Cleanup(func() { c.stop(t) })

	if err := c.initdb(); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	for attempt := 1; ; attempt++ {
		err := c.start()
		if err == nil {
			return c
		}
		if attempt == startAttempts || !strings.Contains(c.logTail(), "could not bind") {
			t.Fatalf("pgtest: %v\n--- %s (tail) ---\n%s", err, c.logPath, c.logTail())
		}
		t.Logf("pgtest: port %d was taken, retrying with another port", c.port)
	}
}

// DSN returns a URL for the "postgres" database as the "postgres" superuser, usable by pgx
// and lib/pq alike.
func (c *Cluster) DSN() string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", superuser, c.port, database)
}

// Port returns the TCP port the server listens on, on 127.0.0.1.
func (c *Cluster) Port() int { return c.port }

func (c *Cluster) initdb() error {
	if err := os.Mkdir(c.dataDir, 0o700); err != nil {
		return err
	}
	if err := c.chown(c.dataDir); err != nil {
		return err
	}
	cmd := c.command("initdb",
		"--pgdata="+c.dataDir,
		"--username="+superuser,
		"--auth=trust",
		"--encoding=UTF8",
		"--locale=C",
		"--no-sync",
	)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", cmd, err, out)
	}
	return nil
}

// start launches the postmaster on a fresh free port and waits until it accepts queries.
func (c *Cluster) start() error {
	port, err := freePort()
	if err != nil {
		return err
	}
	c.port = port

	logFile, err := os.OpenFile(c.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child has its own copy

	cmd := c.command("postgres",
		"-D", c.dataDir,
		"-c", "listen_addresses=127.0.0.1",
		"-c", "port="+strconv.Itoa(port),
		"-c", "unix_socket_directories="+c.dataDir,
		"-c", "fsync=off",
		"-c", "synchronous_commit=off",
		"-c", "full_page_writes=off",
		"-c", "max_connections=50",
		"-c", "shared_buffers=32MB",
		"-c", "timezone=UTC",
		"-c", "log_timezone=UTC",
		"-c", "jit=off",
	)
	cmd.Stdout = logFile
	cmd.Stderr = logFile

	// The kernel sends the parent-death signal when the thread that forked the child exits,
	// so fork from a locked thread that lives as long as the child.
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
		return fmt.Errorf("starting %s: %w", cmd, err)
	}
	c.proc, c.done = cmd.Process, done
	if err := c.waitReady(); err != nil {
		c.kill()
		return err
	}
	return nil
}

// waitReady polls until the server answers a query, the postmaster exits or readyTimeout
// passes.
func (c *Cluster) waitReady() error {
	db, err := sql.Open("postgres", c.DSN()+"&connect_timeout=5")
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(readyTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres on port %d not ready after %s: %w", c.port, readyTimeout, err)
		}
		select {
		case werr := <-c.done:
			return fmt.Errorf("postgres exited during start-up (%v)", werr)
		case <-tick.C:
		}
	}
}

// stop shuts the server down (fast shutdown, then SIGKILL) and removes its directory.
func (c *Cluster) stop(t testing.TB) {
	if c.proc != nil {
		_ = c.proc.Signal(syscall.SIGINT)
		select {
		case <-c.done:
		case <-time.After(stopTimeout):
			t.Logf("pgtest: postgres on port %d ignored SIGINT for %s; killing it", c.port, stopTimeout)
			c.kill()
		}
		if t.Failed() {
			t.Logf("pgtest: --- %s (tail) ---\n%s", c.logPath, c.logTail())
		}
	}
	if err := os.RemoveAll(c.root); err != nil {
		t.Errorf("pgtest: removing %s: %v", c.root, err)
	}
}

func (c *Cluster) kill() {
	_ = c.proc.Kill()
	<-c.done
	c.proc = nil
}

// command builds a command for a PostgreSQL binary, run as the postgres user when needed.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.binDir, name), args...)
	cmd.Dir = c.root // the postgres user may not be able to enter the caller's directory
	cmd.Env = environ()
	cmd.SysProcAttr = sysProcAttr(c.cred)
	return cmd
}

func (c *Cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	return os.Chown(path, int(c.cred.Uid), int(c.cred.Gid))
}

func (c *Cluster) logTail() string {
	b, err := os.ReadFile(c.logPath)
	if err != nil {
		return fmt.Sprintf("(%v)", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > logTailOnError {
		lines = lines[len(lines)-logTailOnError:]
	}
	return strings.Join(lines, "\n")
}

// environ is the caller's environment without PG* variables (PGDATA, PGPORT, …), which
// would otherwise leak into initdb and postgres.
func environ() []string {
	env := os.Environ()
	return slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "PG") })
}

// credential returns the postgres user's credential when running as root, else nil.
func credential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses to run as root, "+
			"but there is no postgres user to run it as (%v); install postgresql-15 or run tests as non-root", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("postgres gid %q: %w", u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// makeRoot creates the cluster's temporary directory. When postgres runs as another user,
// the directory and all its ancestors must be enterable by others; if $TMPDIR's are not,
// /tmp is used instead.
func makeRoot(cred *syscall.Credential) (string, error) {
	base := os.TempDir()
	if cred != nil && !traversable(base) {
		if !traversable("/tmp") {
			return "", fmt.Errorf("neither %s nor /tmp is enterable by the postgres user", base)
		}
		base = "/tmp"
	}
	root, err := os.MkdirTemp(base, "weir-pgtest-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(root, 0o755); err != nil {
		return "", err
	}
	return root, nil
}

// traversable reports whether dir and every ancestor have the others-execute bit.
func traversable(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		fi, err := os.Stat(dir)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, err
	}
	return port, nil
}

// findBinDir returns the first directory holding initdb and postgres, preferring
// PostgreSQL 15.
func findBinDir() (string, error) {
	var candidates []string
	if dir := os.Getenv(BinDirEnv); dir != "" {
		candidates = append(candidates, dir)
	}
	candidates = append(candidates,
		"/usr/lib/postgresql/15/bin", // Debian, Ubuntu
		"/usr/pgsql-15/bin",          // RHEL, Fedora (PGDG)
		"/opt/homebrew/opt/postgresql@15/bin",
		"/usr/local/opt/postgresql@15/bin",
	)
	candidates = append(candidates, debianBinDirs()...)
	if p, err := exec.LookPath("postgres"); err == nil {
		if p, err = filepath.EvalSymlinks(p); err == nil {
			candidates = append(candidates, filepath.Dir(p))
		}
	}
	for _, dir := range candidates {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("PostgreSQL 15 is not installed: no initdb and postgres in $%s, "+
		"/usr/lib/postgresql/*/bin or $PATH (Debian: apt-get install postgresql-15)", BinDirEnv)
}

// debianBinDirs lists /usr/lib/postgresql/<version>/bin, newest version first.
func debianBinDirs() []string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(dir string) int {
		v, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
		return v
	}
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	return dirs
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
