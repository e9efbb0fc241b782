package mqttauth

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// User is an issued broker identity as stored (mqtt_users).
type User struct {
	Username      string
	Role          Role
	PasswordHash  string // bcrypt
	MosquittoHash string // $7$ PBKDF2-SHA512
	CreatedAt     time.Time
	RotatedAt     time.Time
	RevokedAt     time.Time // zero while valid
	ChangedAt     time.Time
}

// Revoked reports whether the identity was revoked.
func (u User) Revoked() bool { return !u.RevokedAt.IsZero() }

// MosquittoConfig is what broker-config writes.
type MosquittoConfig struct {
	Listen  string // host:port
	Dir     string // where mosquitto.conf, passwd and acl go
	DataDir string // persistence_location (default /var/lib/mosquitto/)
	Rules   Rules
	// Extra is appended to mosquitto.conf verbatim (tests add a log file).
	Extra string
}

// Files written into MosquittoConfig.Dir.
const (
	MosquittoConfFile = "mosquitto.conf"
	MosquittoPassFile = "passwd"
	MosquittoACLFile  = "acl"
)

// WriteMosquitto writes mosquitto.conf and the password and ACL files it
// names, so that `mosquitto -c DIR/mosquitto.conf` enforces every valid
// identity in users and refuses anonymous clients. Each file is written
// to a temporary name and renamed, so a broker reloading (SIGHUP) while
// broker-config runs reads either the old file or the new one, never half.
func WriteMosquitto(c MosquittoConfig, users []User) error {
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil || port == "" {
		return fmt.Errorf("listen %q: want HOST:PORT", c.Listen)
	}
	dir, err := filepath.Abs(c.Dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	data := c.DataDir
	if data == "" {
		data = "/var/lib/mosquitto/"
	}
	if !strings.HasSuffix(data, "/") {
		data += "/"
	}
	valid := make([]User, 0, len(users))
	for _, u := range users {
		if !u.Revoked() && u.Role.Valid() && CheckUsername(u.Role, u.Username) == nil {
			valid = append(valid, u)
		}
	}
	slices.SortFunc(valid, func(a, b User) int { return strings.Compare(a.Username, b.Username) })

	stamp := time.Now().UTC().Format(time.RFC3339)
	conf := fmt.Sprintf(`# Mosquitto for LiftTrust, written by `+"`lifttrust broker-config`"+` at %s.
# Do not edit: re-run broker-config after issuing or revoking credentials
# (lifttrust mqtt-user), then send the broker SIGHUP to reload the password
# and ACL files (docs/operations.md).
#
# Every publisher authenticates with credentials LiftTrust issued; the ACL
# confines each to its own topics (package mqttauth).
per_listener_settings false
listener %s %s
allow_anonymous false
password_file %s
acl_file %s

# The broker is part of the durability chain: while PostgreSQL is down,
# ingest stops acknowledging and the broker's per-subscriber queue holds the
# data. Mosquitto's default max_queued_messages (1000) silently drops QoS 1
# messages past that, so the queue is bounded by bytes instead.
# Size: max_queued_bytes >= outage_seconds x messages_per_second x ~300 B
# (e.g. 10 min at 5,000 msg/s = 3,000,000 messages = ~900 MB). See docs/mqtt.md.
persistence true
persistence_location %s
autosave_interval 30
max_queued_messages 0
max_queued_bytes 1073741824
max_inflight_messages 1000
max_packet_size 262144
# Keep a persistent (clean_session=false) ingest session for a week.
persistent_client_expiration 7d
%s`, stamp, port, host, filepath.Join(dir, MosquittoPassFile), filepath.Join(dir, MosquittoACLFile), data, c.Extra)

	var pw strings.Builder
	for _, u := range valid {
		pw.WriteString(u.Username + ":" + u.MosquittoHash + "\n")
	}
	var acl strings.Builder
	p := c.Rules.Prefix
	fmt.Fprintf(&acl, `# LiftTrust topic ACL, written by lifttrust broker-config at %s (package mqttauth).
# Lifts publish only under %slifts/{their registration code}/. The pattern
# applies to every user, but a firm's, agency's or service's username is
# never a registration code, so it names no lift; ingest refuses such a
# topic (unknown_lift) as a second line of defence.
pattern write %slifts/%%u/#
`, stamp, p, p)
	for _, u := range valid {
		switch u.Role {
		case RoleFirm:
			fmt.Fprintf(&acl, "\nuser %s\ntopic write %sfirms/%s/#\ntopic read %s\n", u.Username, p, u.Username, c.Rules.Alerts(u.Username))
		case RoleAgency:
			fmt.Fprintf(&acl, "\nuser %s\ntopic write %sagencies/%s/#\n", u.Username, p, u.Username)
		case RoleService:
			fmt.Fprintf(&acl, "\nuser %s\ntopic readwrite %s#\n", u.Username, p)
		}
	}
	for _, f := range []struct {
		name, body string
		mode       os.FileMode
	}{
		// The password file holds hashes only, but they are still not
		// for everyone: readable by the owner and group (mosquitto's).
		{MosquittoPassFile, pw.String(), 0o640},
		{MosquittoACLFile, acl.String(), 0o644},
		{MosquittoConfFile, conf, 0o644},
	} {
		if err := writeAtomic(filepath.Join(dir, f.name), f.body, f.mode); err != nil {
			return err
		}
	}
	// Mosquitto started as root drops to the user mosquitto before it
	// reads the password file: give the file to that group when it exists
	// (this needs root; otherwise run Mosquitto as the files' owner).
	if g, err := user.LookupGroup("mosquitto"); err == nil {
		if gid, err := strconv.Atoi(g.Gid); err == nil {
			_ = os.Chown(filepath.Join(dir, MosquittoPassFile), -1, gid)
		}
	}
	return nil
}

func writeAtomic(path, body string, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	w := bufio.NewWriterSize(tmp, 1<<20)
	_, err = w.WriteString(body)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
