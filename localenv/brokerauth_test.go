package localenv

import (
	"context"
	"sync"
	"testing"
	"time"

	"lifttrust/mqttauth"
)

// changing is a UserSource whose rows change, like mqtt_users.
type changing struct {
	mu    sync.Mutex
	users []mqttauth.User
}

func (c *changing) ChangedSince(_ context.Context, since time.Time) ([]mqttauth.User, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []mqttauth.User
	for _, u := range c.users {
		if u.ChangedAt.After(since) {
			out = append(out, u)
		}
	}
	return out, nil
}

func (c *changing) put(u mqttauth.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.users {
		if c.users[i].Username == u.Username {
			c.users[i] = u
			return
		}
	}
	c.users = append(c.users, u)
}

const lift = "31103101152020010001"

func issued(t testing.TB, pw string, at time.Time) mqttauth.User {
	h, err := mqttauth.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	return mqttauth.User{Username: lift, Role: mqttauth.RoleLift, PasswordHash: h.Bcrypt, MosquittoHash: h.Mosquitto, ChangedAt: at}
}

func TestBrokerAuthFollowsRotationAndRevocation(t *testing.T) {
	src := &changing{}
	t0 := time.Now()
	src.put(issued(t, "first", t0))
	a := NewBrokerAuth(src, mqttauth.Rules{}, nil)
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	topic := "lifts/" + lift + "/status"
	if !a.Authenticate(lift, []byte("first")) || !a.Authenticate(lift, []byte("first")) {
		t.Fatal("the issued password is refused")
	}
	if a.Authenticate(lift, []byte("second")) || a.Authenticate(lift, nil) || a.Authenticate("nobody", []byte("first")) {
		t.Fatal("a wrong password, an empty one or an unknown user is accepted")
	}
	if !a.Allowed([]byte(lift), topic, true) {
		t.Fatal("the lift may not publish its own status")
	}

	src.put(issued(t, "second", t0.Add(time.Second))) // rotated
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a.Authenticate(lift, []byte("first")) || !a.Authenticate(lift, []byte("second")) {
		t.Fatal("after rotation the old password must fail and the new one pass")
	}

	rev := issued(t, "second", t0.Add(2*time.Second))
	rev.RevokedAt = t0.Add(2 * time.Second)
	src.put(rev)
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a.Authenticate(lift, []byte("second")) {
		t.Error("a revoked identity still connects")
	}
	if a.Allowed([]byte(lift), topic, true) {
		t.Error("a revoked identity, still connected, may still publish")
	}
}

// BenchmarkBrokerAuth measures what the embedded broker's identities cost:
// a connect verified by bcrypt (first time), a reconnect (remembered), and
// the ACL check every publish and every delivery makes.
func BenchmarkBrokerAuth(b *testing.B) {
	a := NewBrokerAuth(StaticUsers{issued(b, "pw", time.Now())}, mqttauth.Rules{Prefix: "sh/"}, nil)
	if err := a.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Run("connect-first-bcrypt", func(b *testing.B) {
		for b.Loop() {
			a.mu.Lock()
			a.users[lift].known = false
			a.mu.Unlock()
			if !a.Authenticate(lift, []byte("pw")) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("connect-again", func(b *testing.B) {
		for b.Loop() {
			if !a.Authenticate(lift, []byte("pw")) {
				b.Fatal("refused")
			}
		}
	})
	topic := "sh/lifts/" + lift + "/status"
	name := []byte(lift)
	b.Run("acl-check-per-message", func(b *testing.B) {
		for b.Loop() {
			if !a.Allowed(name, topic, true) {
				b.Fatal("refused")
			}
		}
	})
}
