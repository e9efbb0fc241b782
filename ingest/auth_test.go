package ingest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"lifttrust/ingest"
	"lifttrust/internal/testenv"
	"lifttrust/mqttauth"
	"lifttrust/postgres"
)

// identities issues credentials for two lifts (one of firm A, one of firm
// B), both firms, the agency and an ingest service, as lifttrust mqtt-user
// add does, and returns the passwords by username.
func identities(t *testing.T, db *postgres.DB) map[string]string {
	t.Helper()
	store := postgres.NewMQTTUserStore(db)
	pw := map[string]string{}
	for _, id := range []struct {
		role mqttauth.Role
		name string
	}{
		{mqttauth.RoleLift, liftCode(0)}, {mqttauth.RoleLift, liftCode(testLifts - 1)},
		{mqttauth.RoleFirm, uscc(firmA)}, {mqttauth.RoleFirm, uscc(firmB)},
		{mqttauth.RoleAgency, uscc(agencyA)}, {mqttauth.RoleService, "ingest"},
	} {
		p := mqttauth.NewPassword()
		h, err := mqttauth.HashPassword(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Put(context.Background(), id.role, id.name, h); err != nil {
			t.Fatalf("issue %s %s: %v", id.role, id.name, err)
		}
		pw[id.name] = p
	}
	return pw
}

func connectAs(brokerURL, user, pass string) (mqtt.Client, error) {
	opts := mqtt.NewClientOptions().AddBroker(brokerURL).SetClientID(fmt.Sprintf("probe-%d", time.Now().UnixNano())).
		SetCleanSession(true).SetConnectTimeout(5 * time.Second).SetAutoReconnect(false)
	if user != "" {
		opts.SetUsername(user).SetPassword(pass)
	}
	c := mqtt.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return nil, fmt.Errorf("connect timed out")
	}
	if tok.Error() != nil {
		return nil, tok.Error()
	}
	return c, nil
}

// TestBrokersEnforceIdentities is the issue's acceptance: on the embedded
// broker and on Debian's Mosquitto configured by broker-config, anonymous
// clients and wrong passwords are refused, and a lift on another lift's
// topic, a firm on another firm's, an agency on a firm's are refused at the
// broker; nothing of theirs is stored (ingest, connected with its own
// service credentials, would have stored every one of these messages).
func TestBrokersEnforceIdentities(t *testing.T) {
	brokers := []struct {
		name  string
		start func(t *testing.T, db *postgres.DB, prefix string) string
	}{
		{"embedded mochi broker", func(t *testing.T, db *postgres.DB, prefix string) string {
			return testenv.BrokerWith(t, postgres.NewMQTTUserStore(db), prefix)
		}},
		{"mosquitto configured by broker-config", func(t *testing.T, db *postgres.DB, prefix string) string {
			users, err := postgres.NewMQTTUserStore(db).ChangedSince(context.Background(), time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			return testenv.StartMosquittoAuth(t, users, prefix).URL
		}},
	}
	for _, b := range brokers {
		t.Run(b.name, func(t *testing.T) {
			url := testenv.NewDatabase(t)
			seedFleet(t, url)
			db := openDB(t, url)
			if _, err := db.Pool.Exec(context.Background(), `INSERT INTO technicians (certificate_no, firm_uscc, name_masked)
				VALUES ('TA000001', $1, '王*'), ('TB000001', $2, '赵*')`, uscc(firmA), uscc(firmB)); err != nil {
				t.Fatal(err)
			}
			pw := identities(t, db)
			prefix := "sh/"
			brokerURL := b.start(t, db, prefix)
			runIngest(t, db, ingest.Config{BrokerURL: brokerURL, Username: "ingest", Password: pw["ingest"],
				ClientID: "ingest-auth-" + prefix, Prefix: prefix})

			liftA, liftB := liftCode(0), liftCode(testLifts-1) // firm A's, firm B's
			now := time.Now()
			status := func(seq int64) []byte {
				return mustJSON(ingest.Status{TS: now, Seq: seq, Floor: 1, DoorLocked: true, Mode: 1})
			}
			visit := func(id, lift, tech string) []byte {
				return mustJSON(ingest.Maintenance{ID: id, Lift: lift, Kind: "half_monthly", StartedAt: now.Add(-time.Hour),
					EndedAt: now.Add(-30 * time.Minute), Technicians: []string{tech}, Countersigned: true})
			}

			t.Run("anonymous and wrong passwords are refused at connect", func(t *testing.T) {
				if c, err := connectAs(brokerURL, "", ""); err == nil {
					c.Disconnect(0)
					t.Error("an anonymous client connected")
				}
				if c, err := connectAs(brokerURL, liftA, pw[liftB]); err == nil {
					c.Disconnect(0)
					t.Error("lift A connected with lift B's password")
				}
				if c, err := connectAs(brokerURL, "nobody", "x"); err == nil {
					c.Disconnect(0)
					t.Error("an unknown user connected")
				}
			})

			probes := []struct {
				name, user, topic string
				payload           []byte
			}{
				{"lift A publishing on lift B's status", liftA, prefix + "lifts/" + liftB + "/status", status(1)},
				{"firm A filing on firm B's topic", uscc(firmA), prefix + "firms/" + uscc(firmB) + "/maintenance", visit("AUTH-1", liftB, "TB000001")},
				{"agency filing on firm A's topic", uscc(agencyA), prefix + "firms/" + uscc(firmA) + "/maintenance", visit("AUTH-2", liftA, "TA000001")},
				{"lift A filing on firm A's topic", liftA, prefix + "firms/" + uscc(firmA) + "/maintenance", visit("AUTH-3", liftA, "TA000001")},
				{"lift A publishing outside the prefix", liftA, "lifts/" + liftA + "/status", status(2)},
			}
			for _, p := range probes {
				t.Run(p.name+" is refused", func(t *testing.T) {
					c, err := connectAs(brokerURL, p.user, pw[p.user])
					if err != nil {
						t.Fatalf("%s could not connect with its own credentials: %v", p.user, err)
					}
					defer c.Disconnect(100)
					// Mosquitto acknowledges a refused QoS 1 publish to an
					// MQTT 3.1.1 client and drops it; mochi disconnects the
					// client. Either way nothing may arrive: checked below.
					c.Publish(p.topic, 1, false, p.payload).WaitTimeout(5 * time.Second)
				})
			}
			t.Run("a firm subscribes to its own alerts only", func(t *testing.T) {
				c, err := connectAs(brokerURL, uscc(firmA), pw[uscc(firmA)])
				if err != nil {
					t.Fatal(err)
				}
				defer c.Disconnect(100)
				got := make(chan string, 10)
				for _, f := range []string{prefix + "firms/" + uscc(firmB) + "/alerts", prefix + "firms/#", prefix + "lifts/+/status"} {
					c.Subscribe(f, 1, func(_ mqtt.Client, m mqtt.Message) { got <- m.Topic() }).WaitTimeout(5 * time.Second)
				}
				svc, err := connectAs(brokerURL, "ingest", pw["ingest"])
				if err != nil {
					t.Fatal(err)
				}
				defer svc.Disconnect(100)
				svc.Publish(prefix+"firms/"+uscc(firmB)+"/alerts", 1, false, []byte(`{"alert":"for B"}`)).WaitTimeout(5 * time.Second)
				own, err := connectAs(brokerURL, liftA, pw[liftA])
				if err != nil {
					t.Fatal(err)
				}
				defer own.Disconnect(100)
				own.Publish(prefix+"lifts/"+liftA+"/status", 1, false, status(3)).WaitTimeout(5 * time.Second)
				select {
				case topic := <-got:
					t.Errorf("firm A received %s", topic)
				case <-time.After(time.Second):
				}
			})

			// A legitimate message after the probes: once it is stored,
			// anything the broker let through before it would be too.
			c, err := connectAs(brokerURL, liftB, pw[liftB])
			if err != nil {
				t.Fatal(err)
			}
			if tok := c.Publish(prefix+"lifts/"+liftB+"/status", 1, false, status(100)); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				t.Fatalf("lift B on its own topic: %v", tok.Error())
			}
			c.Disconnect(100)
			deadline := time.Now().Add(30 * time.Second)
			for count(t, db, `SELECT count(*) FROM telemetry WHERE lift_code = $1 AND seq = 100`, liftB) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("lift B's own heartbeat was not stored")
				}
				time.Sleep(20 * time.Millisecond)
			}
			if n := count(t, db, `SELECT count(*) FROM telemetry WHERE seq IN (1, 2)`); n != 0 {
				t.Errorf("%d refused heartbeats stored", n)
			}
			if n := count(t, db, `SELECT count(*) FROM maintenance_records WHERE id LIKE 'AUTH-%'`); n != 0 {
				t.Errorf("%d refused maintenance records stored", n)
			}
			if n := count(t, db, `SELECT count(*) FROM dead_letters`); n != 0 {
				var reasons []string
				rows, _ := db.Pool.Query(context.Background(), `SELECT reason || ': ' || topic FROM dead_letters`)
				for rows.Next() {
					var r string
					_ = rows.Scan(&r)
					reasons = append(reasons, r)
				}
				t.Errorf("%d refused messages reached ingest: %s", n, strings.Join(reasons, "; "))
			}
		})
	}
}

// TestMosquittoReloadsIssuedAndRevokedCredentials follows docs/operations.md:
// after mqtt-user issues or revokes, re-running broker-config and sending
// Mosquitto SIGHUP makes the running broker admit the new credential and
// refuse the revoked one, closing its open connection too.
func TestMosquittoReloadsIssuedAndRevokedCredentials(t *testing.T) {
	url := testenv.NewDatabase(t)
	seedFleet(t, url)
	db := openDB(t, url)
	store := postgres.NewMQTTUserStore(db)
	ctx := context.Background()
	issue := func(lift string) string {
		p := mqttauth.NewPassword()
		h, err := mqttauth.HashPassword(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Put(ctx, mqttauth.RoleLift, lift, h); err != nil {
			t.Fatal(err)
		}
		return p
	}
	users := func() []mqttauth.User {
		u, err := store.ChangedSince(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	old := issue(liftCode(0))
	m := testenv.StartMosquittoAuth(t, users(), "")
	if c, err := connectAs(m.URL, liftCode(0), old); err != nil {
		t.Fatalf("the credential issued before start is refused: %v", err)
	} else {
		c.Disconnect(0)
	}
	fresh := issue(liftCode(1))
	if c, err := connectAs(m.URL, liftCode(1), fresh); err == nil {
		c.Disconnect(0)
		t.Fatal("a credential issued after start works before the reload: the test proves nothing")
	}
	held, err := connectAs(m.URL, liftCode(0), old)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Revoke(ctx, liftCode(0)); err != nil {
		t.Fatal(err)
	}
	m.Reload(users(), "")
	// Mosquitto re-checks connected clients on reload: the revoked lift's
	// live connection is closed.
	for end := time.Now().Add(10 * time.Second); held.IsConnected(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			t.Error("the revoked lift's open connection survived the reload")
			break
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := connectAs(m.URL, liftCode(1), fresh)
		if err == nil {
			c.Disconnect(0)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new credential is refused after broker-config and SIGHUP: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c, err := connectAs(m.URL, liftCode(0), old); err == nil {
		c.Disconnect(0)
		t.Error("a revoked credential still connects after broker-config and SIGHUP")
	}
}
