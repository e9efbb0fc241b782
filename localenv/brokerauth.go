package localenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"lifttrust/mqttauth"
)

// UserSource is where the embedded broker reads the identities LiftTrust
// issued (postgres.MQTTUserStore): everything changed after since, revoked
// ones included.
type UserSource interface {
	ChangedSince(ctx context.Context, since time.Time) ([]mqttauth.User, error)
}

// StaticUsers is a UserSource holding a fixed list (tests, and the
// embedded broker's own service identities before the table exists).
type StaticUsers []mqttauth.User

// ChangedSince returns every user once: the list never changes.
func (s StaticUsers) ChangedSince(_ context.Context, since time.Time) ([]mqttauth.User, error) {
	if !since.IsZero() {
		return nil, nil
	}
	return s, nil
}

// AuthRefresh is how often the embedded broker reloads changed identities.
const AuthRefresh = 5 * time.Second

// refreshOverlap re-reads rows changed this long before the last reload: a
// transaction that set changed_at earlier but committed later is still
// seen.
const refreshOverlap = time.Minute

// BrokerAuth makes the embedded broker enforce the issued identities
// through mochi's authentication and ACL hooks: anonymous and unknown
// clients are refused at CONNECT, revoked ones from the next reload (their
// publishes and deliveries are refused at once), and every publish,
// subscription and delivery is checked against mqttauth.Rules.
//
// A password is verified with bcrypt once per identity and then remembered
// as its SHA-256, so a reconnecting device costs a hash, not a bcrypt
// (BenchmarkBrokerAuth measures both).
type BrokerAuth struct {
	rules mqttauth.Rules
	src   UserSource
	log   *slog.Logger

	mu    sync.RWMutex
	users map[string]*authUser
	since time.Time
}

type authUser struct {
	role     mqttauth.Role
	hash     string
	revoked  bool
	verified [sha256.Size]byte // SHA-256 of the password bcrypt accepted
	known    bool
}

// NewBrokerAuth prepares the hook; Load must run before the broker serves.
func NewBrokerAuth(src UserSource, rules mqttauth.Rules, log *slog.Logger) *BrokerAuth {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &BrokerAuth{rules: rules, src: src, log: log, users: map[string]*authUser{}}
}

// Load reads the identities changed since the last load (all at first).
func (a *BrokerAuth) Load(ctx context.Context) error {
	a.mu.RLock()
	since := a.since
	a.mu.RUnlock()
	from := since
	if !from.IsZero() {
		from = from.Add(-refreshOverlap)
	}
	users, err := a.src.ChangedSince(ctx, from)
	if err != nil {
		return fmt.Errorf("broker auth: load identities: %w", err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, u := range users {
		old := a.users[u.Username]
		n := &authUser{role: u.Role, hash: u.PasswordHash, revoked: u.Revoked()}
		if old != nil && old.hash == n.hash {
			n.verified, n.known = old.verified, old.known
		}
		a.users[u.Username] = n
		if u.ChangedAt.After(a.since) {
			a.since = u.ChangedAt
		}
	}
	if since.IsZero() && a.since.IsZero() {
		a.since = time.Unix(0, 1) // loaded, even if empty
	}
	return nil
}

// Run reloads changed identities every AuthRefresh until ctx ends.
func (a *BrokerAuth) Run(ctx context.Context) error {
	t := time.NewTicker(AuthRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := a.Load(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("broker identities reload failed; keeping the previous ones", "err", err)
			}
		}
	}
}

// Authenticate checks a username and password.
func (a *BrokerAuth) Authenticate(username string, password []byte) bool {
	a.mu.RLock()
	u := a.users[username]
	var role mqttauth.Role
	var hash string
	var verified [sha256.Size]byte
	var known bool
	if u != nil {
		role, hash, verified, known = u.role, u.hash, u.verified, u.known
	}
	revoked := u == nil || u.revoked
	a.mu.RUnlock()
	if revoked || len(password) == 0 || !role.Valid() {
		return false
	}
	sum := sha256.Sum256(password)
	if known && subtle.ConstantTimeCompare(sum[:], verified[:]) == 1 {
		return true
	}
	if !mqttauth.CheckBcrypt(hash, string(password)) {
		return false
	}
	a.mu.Lock()
	if u := a.users[username]; u != nil && u.hash == hash {
		u.verified, u.known = sum, true
	}
	a.mu.Unlock()
	return true
}

// Allowed checks a publish (write) or a subscription or delivery (read).
func (a *BrokerAuth) Allowed(username []byte, topic string, write bool) bool {
	a.mu.RLock()
	u := a.users[string(username)]
	ok := u != nil && !u.revoked
	var role mqttauth.Role
	if ok {
		role = u.role
	}
	a.mu.RUnlock()
	if !ok {
		return false
	}
	if write {
		return a.rules.MayPublish(role, string(username), topic)
	}
	return a.rules.MayRead(role, string(username), topic)
}

// authHook adapts BrokerAuth to mochi's hook interface; mochi types stay
// in this package.
type authHook struct {
	mqtt.HookBase
	a *BrokerAuth
}

func (h *authHook) ID() string { return "lifttrust-auth" }

func (h *authHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mqtt.OnConnectAuthenticate, mqtt.OnACLCheck}, []byte{b})
}

func (h *authHook) OnConnectAuthenticate(cl *mqtt.Client, pk packets.Packet) bool {
	ok := h.a.Authenticate(string(pk.Connect.Username), pk.Connect.Password)
	if !ok {
		h.a.log.Info("MQTT connection refused", "username", string(pk.Connect.Username), "client", cl.ID, "remote", cl.Net.Remote)
	}
	return ok
}

func (h *authHook) OnACLCheck(cl *mqtt.Client, topic string, write bool) bool {
	return h.a.Allowed(cl.Properties.Username, topic, write)
}
