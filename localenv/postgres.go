package localenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a private PostgreSQL cluster in Dir.
type Cluster struct {
	Dir     string // data directory (…/.data/pg)
	Port    int
	bin     string // directory holding initdb and pg_ctl
	runAs   string // OS user owning the cluster ("" = this process's user)
	started bool   // started by us (so Stop stops it)
}

// URL is a connection string to database db of the cluster.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// StartCluster makes sure a private cluster under dataDir/pg is initialised
// and running, and that database "lifttrust" exists. It reports each step to
// out. allowInstall permits `apt-get install postgresql` when the server
// binaries are missing and we are root.
//
// The cluster listens on 127.0.0.1 on the port it used last time, or the
// first free port from 55432 up, so it never collides with a system server
// on 5432. Concurrent callers serialise on a lock file.
func StartCluster(ctx context.Context, dataDir string, allowInstall bool, out io.Writer) (*Cluster, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	unlock, err := lockFile(filepath.Join(abs, "pg.lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()

	c := &Cluster{Dir: filepath.Join(abs, "pg")}
	if c.bin, err = findPGBin(); err != nil {
		if !allowInstall || os.Geteuid() != 0 {
			return nil, fmt.Errorf("%w; install it with: sudo apt-get install -y postgresql", err)
		}
		fmt.Fprintln(out, "localenv: PostgreSQL server not found; installing Debian package postgresql (apt-get install -y postgresql)")
		if err := aptInstall(ctx, out, "postgresql"); err != nil {
			return nil, err
		}
		if c.bin, err = findPGBin(); err != nil {
			return nil, err
		}
	}
	if os.Geteuid() == 0 {
		// initdb refuses to run as root; the Debian package creates "postgres".
		if _, err := user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("running as root needs the OS user postgres to own the cluster: %w", err)
		}
		c.runAs = "postgres"
	}

	if _, err := os.Stat(filepath.Join(c.Dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(out, "localenv: initialising a private PostgreSQL cluster in %s (%s/initdb)\n", c.Dir, c.bin)
		if err := os.MkdirAll(c.Dir, 0o700); err != nil {
			return nil, err
		}
		if err := c.chown(c.Dir); err != nil {
			return nil, err
		}
		if err := c.run(ctx, "initdb", "-D", c.Dir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"); err != nil {
			return nil, err
		}
	}

	if port, ok := c.runningPort(); ok {
		c.Port = port
		fmt.Fprintf(out, "localenv: private PostgreSQL already running on 127.0.0.1:%d (%s)\n", port, c.Dir)
	} else {
		c.Port = c.choosePort()
		logFile := filepath.Join(c.Dir, "server.log")
		fmt.Fprintf(out, "localenv: starting private PostgreSQL on 127.0.0.1:%d (pg_ctl start, log %s)\n", c.Port, logFile)
		opts := fmt.Sprintf("-p %d -h 127.0.0.1 -k %s -c max_connections=200 -c fsync=on", c.Port, c.Dir)
		if err := c.run(ctx, "pg_ctl", "-D", c.Dir, "-l", logFile, "-o", opts, "-w", "-t", "60", "start"); err != nil {
			return nil, err
		}
		c.started = true
		_ = os.WriteFile(filepath.Join(abs, "pg.port"), []byte(strconv.Itoa(c.Port)), 0o644)
	}
	if err := c.ensureDatabase(ctx, "lifttrust"); err != nil {
		_ = c.Stop(context.Background())
		return nil, err
	}
	return c, nil
}

// Stop stops the cluster if this process started it.
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.started {
		return nil
	}
	return c.run(ctx, "pg_ctl", "-D", c.Dir, "-m", "fast", "-w", "stop")
}

// runningPort reads the port of a running postmaster from postmaster.pid
// (line 4) after checking its process is alive.
func (c *Cluster) runningPort() (int, bool) {
	b, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 4 {
		return 0, false
	}
	pid, err1 := strconv.Atoi(strings.TrimSpace(lines[0]))
	port, err2 := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err1 != nil || err2 != nil || syscall.Kill(pid, 0) != nil {
		return 0, false
	}
	return port, true
}

func (c *Cluster) choosePort() int {
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(c.Dir), "pg.port")); err == nil {
		if p, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && portFree(p) {
			return p
		}
	}
	for p := 55432; p < 55532; p++ {
		if portFree(p) {
			return p
		}
	}
	return FreePort()
}

func (c *Cluster) ensureDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("connect to private cluster: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// run runs a PostgreSQL program, as the cluster's OS user when we are root.
func (c *Cluster) run(ctx context.Context, prog string, args ...string) error {
	path := filepath.Join(c.bin, prog)
	var cmd *exec.Cmd
	if c.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", c.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = "/"
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	// pg_ctl start leaves the postmaster running: give it its own process
	// group so that Ctrl-C on our terminal does not kill it before we stop it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", prog, err, strings.TrimSpace(buf.String()))
	}
	return nil
}

func (c *Cluster) chown(path string) error {
	if c.runAs == "" {
		return nil
	}
	u, err := user.Lookup(c.runAs)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(path, uid, gid)
}

// findPGBin looks for initdb on PATH, then in the newest
// /usr/lib/postgresql/*/bin (Debian does not put it on PATH).
func findPGBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			if pgMajor(d) < 15 {
				return "", fmt.Errorf("PostgreSQL %d found in %s; LiftTrust needs 15 or newer", pgMajor(d), d)
			}
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found")
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func aptInstall(ctx context.Context, out io.Writer, pkgs ...string) error {
	update := exec.CommandContext(ctx, "apt-get", "update", "-qq")
	update.Stdout, update.Stderr = out, out
	_ = update.Run()
	cmd := exec.CommandContext(ctx, "apt-get", append([]string{"install", "-y", "-qq", "--no-install-recommends"}, pkgs...)...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("apt-get install %s: %w", strings.Join(pkgs, " "), err)
	}
	return nil
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
			break
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s: held by another process for 2 minutes", path)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}

func portFree(p int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
