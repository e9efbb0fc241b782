package mqttauth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lifttrust/mqttauth"
)

const (
	liftA = "31103101152020010001"
	liftB = "31103101152020010002"
	firmA = "91350100M000100Y43"
	firmB = "913101150000000B0X" // syntax only matters for the rules
)

func TestRulesConfineEachIdentityToItsTopics(t *testing.T) {
	r := mqttauth.Rules{Prefix: "sh/"}
	tests := []struct {
		name  string
		role  mqttauth.Role
		user  string
		topic string
		write bool
		want  bool
	}{
		{"a lift publishes its own status", mqttauth.RoleLift, liftA, "sh/lifts/" + liftA + "/status", true, true},
		{"a lift may not publish another lift's status", mqttauth.RoleLift, liftA, "sh/lifts/" + liftB + "/status", true, false},
		{"a lift may not publish outside the prefix", mqttauth.RoleLift, liftA, "lifts/" + liftA + "/status", true, false},
		{"a lift may not file for a firm", mqttauth.RoleLift, liftA, "sh/firms/" + firmA + "/maintenance", true, false},
		{"a lift may not subscribe to anything", mqttauth.RoleLift, liftA, "sh/lifts/" + liftA + "/status", false, false},
		{"a firm files under its own USCC", mqttauth.RoleFirm, firmA, "sh/firms/" + firmA + "/maintenance", true, true},
		{"a firm may not file under another firm", mqttauth.RoleFirm, firmA, "sh/firms/" + firmB + "/maintenance", true, false},
		{"a firm may not publish a lift's status", mqttauth.RoleFirm, firmA, "sh/lifts/" + liftA + "/status", true, false},
		{"a firm subscribes to its alerts", mqttauth.RoleFirm, firmA, "sh/firms/" + firmA + "/alerts", false, true},
		{"a firm may not subscribe to another firm's alerts", mqttauth.RoleFirm, firmA, "sh/firms/" + firmB + "/alerts", false, false},
		{"a firm may not subscribe to a wildcard", mqttauth.RoleFirm, firmA, "sh/firms/#", false, false},
		{"a firm may not subscribe to its own records", mqttauth.RoleFirm, firmA, "sh/firms/" + firmA + "/maintenance", false, false},
		{"an agency files under its own USCC", mqttauth.RoleAgency, firmB, "sh/agencies/" + firmB + "/inspections", true, true},
		{"an agency may not file under a firm", mqttauth.RoleAgency, firmB, "sh/firms/" + firmB + "/maintenance", true, false},
		{"a service subscribes to everything under the prefix", mqttauth.RoleService, "ingest", "sh/lifts/+/status", false, true},
		{"a service subscribes through a shared subscription", mqttauth.RoleService, "ingest", "$share/g/sh/lifts/+/status", false, true},
		{"a service may not subscribe outside the prefix", mqttauth.RoleService, "ingest", "lifts/+/status", false, false},
		{"a service may not subscribe to #", mqttauth.RoleService, "ingest", "#", false, false},
		{"a service publishes as any lift", mqttauth.RoleService, "simulator", "sh/lifts/" + liftA + "/status", true, true},
		{"nobody reads $SYS", mqttauth.RoleService, "ingest", "$SYS/broker/uptime", false, false},
		{"an unknown role may do nothing", mqttauth.Role("admin"), "x", "sh/lifts/" + liftA + "/status", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got bool
			if tt.write {
				got = r.MayPublish(tt.role, tt.user, tt.topic)
			} else {
				got = r.MayRead(tt.role, tt.user, tt.topic)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPasswordHashesVerify(t *testing.T) {
	pw := mqttauth.NewPassword()
	if len(pw) != 32 || strings.ContainsAny(pw, ":@/ ,") {
		t.Fatalf("password %q is not 32 URL- and CSV-safe characters", pw)
	}
	h, err := mqttauth.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !mqttauth.CheckBcrypt(h.Bcrypt, pw) || mqttauth.CheckBcrypt(h.Bcrypt, pw+"x") {
		t.Error("bcrypt hash does not verify exactly its password")
	}
	if !strings.HasPrefix(h.Mosquitto, "$7$101$") || strings.Count(h.Mosquitto, "$") != 4 {
		t.Errorf("mosquitto hash %q is not $7$101$salt$hash", h.Mosquitto)
	}
	if ok, err := mqttauth.CheckMosquitto(h.Mosquitto, pw); !ok || err != nil {
		t.Errorf("mosquitto hash does not verify: %v", err)
	}
	if ok, _ := mqttauth.CheckMosquitto(h.Mosquitto, pw+"x"); ok {
		t.Error("mosquitto hash verifies a wrong password")
	}
}

func TestWriteMosquittoLeavesOutRevokedAndRefusesAnonymous(t *testing.T) {
	dir := t.TempDir()
	h, _ := mqttauth.HashPassword("pw")
	users := []mqttauth.User{
		{Username: liftA, Role: mqttauth.RoleLift, MosquittoHash: h.Mosquitto},
		{Username: firmA, Role: mqttauth.RoleFirm, MosquittoHash: h.Mosquitto},
		{Username: "ingest", Role: mqttauth.RoleService, MosquittoHash: h.Mosquitto},
		{Username: liftB, Role: mqttauth.RoleLift, MosquittoHash: h.Mosquitto, RevokedAt: h0()},
	}
	if err := mqttauth.WriteMosquitto(mqttauth.MosquittoConfig{Listen: "127.0.0.1:1883", Dir: dir, Rules: mqttauth.Rules{Prefix: "sh/"}}, users); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	conf, pw, acl := read("mosquitto.conf"), read("passwd"), read("acl")
	for _, want := range []string{"allow_anonymous false", "listener 1883 127.0.0.1", "password_file " + filepath.Join(dir, "passwd"), "acl_file " + filepath.Join(dir, "acl")} {
		if !strings.Contains(conf, want) {
			t.Errorf("mosquitto.conf lacks %q", want)
		}
	}
	if strings.Contains(pw, liftB) || !strings.Contains(pw, liftA+":$7$") || strings.Count(pw, "\n") != 3 {
		t.Errorf("passwd should hold the three valid users only:\n%s", pw)
	}
	for _, want := range []string{"pattern write sh/lifts/%u/#", "user " + firmA + "\ntopic write sh/firms/" + firmA + "/#\ntopic read sh/firms/" + firmA + "/alerts", "user ingest\ntopic readwrite sh/#"} {
		if !strings.Contains(acl, want) {
			t.Errorf("acl lacks %q:\n%s", want, acl)
		}
	}
}

func h0() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
