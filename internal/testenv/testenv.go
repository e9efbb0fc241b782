// Package testenv gives tests the real services they talk to: a migrated
// PostgreSQL database of their own and an MQTT broker (an in-process
// mochi-mqtt on a free port, or the machine's Mosquitto).
//
// PostgreSQL: LIFTTRUST_TEST_DATABASE_URL (an admin connection) when set,
// else the local server at 127.0.0.1:5432 when it answers, else the private
// cluster that the run command uses (started on demand under .data/).
// Each call creates a fresh database from a template migrated once per
// schema, so a test costs a CREATE DATABASE, not a migration.
package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"lifttrust/localenv"
	"lifttrust/migrations"
	"lifttrust/mqttauth"
	"lifttrust/postgres"
)

var (
	adminOnce sync.Once
	adminURL  string
	adminErr  error
)

// AdminURL returns a URL to a PostgreSQL server where tests may create
// databases.
func AdminURL(t testing.TB) string {
	t.Helper()
	adminOnce.Do(func() {
		if u := os.Getenv("LIFTTRUST_TEST_DATABASE_URL"); u != "" {
			adminURL = u
			return
		}
		const local = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
		if reachable(local) {
			adminURL = local
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		c, err := localenv.StartCluster(ctx, filepath.Join(moduleRoot(), ".data"), os.Getenv("CI") != "", io.Discard)
		if err != nil {
			adminErr = err
			return
		}
		adminURL = c.URL("postgres") // left running for the next package and the next run
	})
	if adminErr != nil {
		t.Fatalf("no PostgreSQL for tests: %v", adminErr)
	}
	return adminURL
}

func reachable(u string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		return false
	}
	c.Close(ctx)
	return true
}

// DB returns a pool on a new, fully migrated database that is dropped when
// the test ends.
func DB(t testing.TB) *postgres.DB {
	t.Helper()
	u := NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := postgres.Open(ctx, u, 8)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(db.Close)
	return db
}

// NewDatabase creates a fresh migrated database and returns its URL; the
// database is dropped at cleanup.
func NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := AdminURL(t)
	tmpl, err := template(ctx, admin)
	if err != nil {
		t.Fatalf("test template database: %v", err)
	}
	name := fmt.Sprintf("lt_test_%d_%08x", time.Now().Unix(), rand.Uint32())
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect admin: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
	})
	return withDatabase(admin, name)
}

// EmptyDatabase creates a database with no schema at all (for migration
// tests) and returns its URL.
func EmptyDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := AdminURL(t)
	name := fmt.Sprintf("lt_empty_%d_%08x", time.Now().Unix(), rand.Uint32())
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect admin: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create empty database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, admin); err == nil {
			_, _ = c.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", name))
			c.Close(ctx)
		}
	})
	return withDatabase(admin, name)
}

// template returns the name of a database migrated to the current schema,
// creating it once per schema hash (guarded by an advisory lock, since go
// test runs packages in parallel processes).
func template(ctx context.Context, admin string) (string, error) {
	name := "lt_template_" + schemaHash()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(7171001)"); err != nil {
		return "", err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(7171001)") //nolint:errcheck
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_new"
	_, _ = conn.Exec(ctx, fmt.Sprintf("DROP DATABASE IF EXISTS %s WITH (FORCE)", building))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return "", err
	}
	mc, err := pgx.Connect(ctx, withDatabase(admin, building))
	if err != nil {
		return "", err
	}
	_, _, err = migrations.Migrate(ctx, mc)
	mc.Close(ctx)
	if err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s", building, name)); err != nil {
		return "", err
	}
	return name, nil
}

func schemaHash() string {
	h := sha256.New()
	_ = fs.WalkDir(migrations.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(migrations.FS(), p)
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func withDatabase(u, db string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	pu.Path = "/" + db
	return pu.String()
}

func moduleRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}

// Broker starts an in-process mochi-mqtt broker on a free port and returns
// its URL with the credentials of a service identity ("tester", which may
// publish and subscribe to anything: the broker refuses anonymous clients
// like every LiftTrust broker); it stops when the test ends.
func Broker(t testing.TB) string {
	t.Helper()
	pw := mqttauth.NewPassword()
	h, err := mqttauth.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	src := localenv.StaticUsers{{Username: "tester", Role: mqttauth.RoleService, PasswordHash: h.Bcrypt, MosquittoHash: h.Mosquitto}}
	u := BrokerWith(t, src, "")
	return strings.Replace(u, "tcp://", "tcp://tester:"+pw+"@", 1)
}

// BrokerWith starts an in-process mochi-mqtt broker that enforces the
// identities of src under the topic prefix, and returns its URL (without
// credentials).
func BrokerWith(t testing.TB, src localenv.UserSource, prefix string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	auth := localenv.NewBrokerAuth(src, mqttauth.Rules{Prefix: prefix}, nil)
	if err := auth.Load(ctx); err != nil {
		cancel()
		t.Fatalf("broker identities: %v", err)
	}
	b, err := localenv.NewBroker("127.0.0.1:0", false, slog.New(slog.NewTextHandler(io.Discard, nil)), auth)
	if err != nil {
		cancel()
		t.Fatalf("embedded broker: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitTCP(t, b.Addr)
	return b.URL()
}

// Mosquitto returns the URL of the machine's Mosquitto (LIFTTRUST_TEST_MQTT_URL
// or tcp://127.0.0.1:1883). In CI it must be there; elsewhere the test is
// skipped with a note when it is not.
func Mosquitto(t testing.TB) string {
	t.Helper()
	u := os.Getenv("LIFTTRUST_TEST_MQTT_URL")
	if u == "" {
		u = "tcp://127.0.0.1:1883"
	}
	addr := strings.TrimPrefix(strings.TrimPrefix(u, "tcp://"), "mqtt://")
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("Mosquitto at %s is not reachable in CI: %v", addr, err)
		}
		t.Skipf("Mosquitto at %s not reachable (start it with: mosquitto -d -c /etc/mosquitto/mosquitto.conf): %v", addr, err)
	}
	c.Close()
	return u
}

func waitTCP(t testing.TB, addr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("broker at %s did not come up", addr)
}

// MosquittoProc is a private Mosquitto process for one test, configured like
// deploy/mosquitto.conf, that the test can restart or stop.
type MosquittoProc struct {
	URL  string
	Port int
	dir  string
	cmd  *exec.Cmd
	t    testing.TB
}

func mosquittoBin(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
			if _, e := os.Stat(p); e == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mosquitto binary not found in CI")
		}
		t.Skip("mosquitto binary not found (apt-get install mosquitto)")
	}
	return bin
}

// StartMosquitto starts a Mosquitto of the test's own on a free port with
// persistence in a temporary directory, admitting anonymous clients (for
// tests about ingest, not identities). It is skipped outside CI when the
// mosquitto binary is missing; in CI that is a failure.
func StartMosquitto(t testing.TB) *MosquittoProc {
	t.Helper()
	bin := mosquittoBin(t)
	// Mosquitto drops root privileges to the user "mosquitto", which must be
	// able to write its persistence file and log: t.TempDir's parent is 0700,
	// so the broker gets a world-writable directory of its own. Without it a
	// restart silently loses every queued message.
	dir, err := os.MkdirTemp("", "lifttrust-mosquitto-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	m := &MosquittoProc{dir: dir, Port: localenv.FreePort(), t: t}
	m.URL = fmt.Sprintf("tcp://127.0.0.1:%d", m.Port)
	conf := fmt.Sprintf(`listener %d 127.0.0.1
allow_anonymous true
persistence true
persistence_location %s/
autosave_interval 30
max_queued_messages 0
max_queued_bytes 1073741824
max_inflight_messages 1000
max_packet_size 262144
persistent_client_expiration 1d
log_dest file %s/mosquitto.log
`, m.Port, m.dir, m.dir)
	// LIFTTRUST_TEST_BROKER_DEBUG logs every packet (with
	// LIFTTRUST_TEST_BROKER_LOG, the log is shown): which PUBLISH reached
	// the broker and which PUBACK left it.
	if os.Getenv("LIFTTRUST_TEST_BROKER_DEBUG") != "" {
		conf += "log_type all\n"
	}
	path := filepath.Join(m.dir, "mosquitto.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	m.cmd = exec.Command(bin, "-c", path)
	m.start()
	t.Cleanup(m.Stop)
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("LIFTTRUST_TEST_BROKER_LOG") != "" {
			t.Logf("mosquitto log:\n%s", m.Log())
		}
	})
	return m
}

// StartMosquittoAuth starts a private Mosquitto configured by exactly what
// lifttrust broker-config writes (mqttauth.WriteMosquitto) for users under
// prefix: anonymous clients refused, passwords and topic ACL enforced.
func StartMosquittoAuth(t testing.TB, users []mqttauth.User, prefix string) *MosquittoProc {
	t.Helper()
	bin := mosquittoBin(t)
	dir, err := os.MkdirTemp("", "lifttrust-mosquitto-auth-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	m := &MosquittoProc{dir: dir, Port: localenv.FreePort(), t: t}
	m.URL = fmt.Sprintf("tcp://127.0.0.1:%d", m.Port)
	err = mqttauth.WriteMosquitto(mqttauth.MosquittoConfig{
		Listen: fmt.Sprintf("127.0.0.1:%d", m.Port), Dir: dir, DataDir: dir, Rules: mqttauth.Rules{Prefix: prefix},
		Extra: fmt.Sprintf("log_dest file %s/mosquitto.log\n", dir),
	}, users)
	if err != nil {
		t.Fatal(err)
	}
	m.cmd = exec.Command(bin, "-c", filepath.Join(dir, mqttauth.MosquittoConfFile))
	m.start()
	t.Cleanup(m.Stop)
	return m
}

// Reload rewrites the broker-config files for users and sends Mosquitto
// SIGHUP, as docs/operations.md tells operators to.
func (m *MosquittoProc) Reload(users []mqttauth.User, prefix string) {
	m.t.Helper()
	err := mqttauth.WriteMosquitto(mqttauth.MosquittoConfig{
		Listen: fmt.Sprintf("127.0.0.1:%d", m.Port), Dir: m.dir, DataDir: m.dir, Rules: mqttauth.Rules{Prefix: prefix},
		Extra: fmt.Sprintf("log_dest file %s/mosquitto.log\n", m.dir),
	}, users)
	if err != nil {
		m.t.Fatal(err)
	}
	if err := m.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		m.t.Fatal(err)
	}
}

// Log returns what the broker logged so far.
func (m *MosquittoProc) Log() string {
	b, _ := os.ReadFile(filepath.Join(m.dir, "mosquitto.log"))
	return string(b)
}

func (m *MosquittoProc) start() {
	m.t.Helper()
	m.cmd = exec.Command(m.cmd.Path, m.cmd.Args[1:]...)
	if err := m.cmd.Start(); err != nil {
		m.t.Fatalf("start mosquitto: %v", err)
	}
	waitTCP(m.t, fmt.Sprintf("127.0.0.1:%d", m.Port))
}

// Stop stops the broker gracefully (SIGTERM), which saves its persistence.
func (m *MosquittoProc) Stop() { m.stop() }

// stop sends SIGTERM and waits for the broker to save and exit; a broker
// that does not exit within a minute is killed, and stop reports it: a
// killed broker loses what it acknowledged since its last autosave.
func (m *MosquittoProc) stop() (took time.Duration, killed bool) {
	if m.cmd == nil || m.cmd.Process == nil || m.cmd.ProcessState != nil {
		return 0, false
	}
	start := time.Now()
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		_ = m.cmd.Process.Kill()
		<-done
		killed = true
	}
	return time.Since(start), killed
}

// Restart stops the broker gracefully and starts it again on the same
// port and persistence. A broker that had to be killed fails the test:
// that is a crash, not the clean restart the caller asked for.
func (m *MosquittoProc) Restart() {
	m.t.Helper()
	took, killed := m.stop()
	if killed {
		m.t.Errorf("Mosquitto did not exit within %s of SIGTERM and was killed", took.Round(time.Millisecond))
	}
	m.t.Logf("Mosquitto stopped (SIGTERM) in %s", took.Round(time.Millisecond))
	m.start()
}

// Freeze stops the broker process (SIGSTOP): its sockets stay open but
// nothing is read or answered, as with a hung broker or a black-holed
// link.
func (m *MosquittoProc) Freeze() {
	m.t.Helper()
	if err := m.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		m.t.Fatalf("freeze mosquitto: %v", err)
	}
}

// Crash kills the broker (SIGKILL, also when frozen) and starts it again
// on the same port: what it had not yet read is gone, and every client
// connection is reset.
func (m *MosquittoProc) Crash() {
	m.t.Helper()
	_ = m.cmd.Process.Kill()
	_ = m.cmd.Wait()
	m.start()
}
