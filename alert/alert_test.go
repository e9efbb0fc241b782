package alert_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lifttrust/alert"
)

func TestPayloadCarriesWhatTheFirmNeedsToDispatch(t *testing.T) {
	floor := 7
	raised := time.Date(2026, 3, 1, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))
	a := alert.Alert{
		Incident: "R-ABCDEFGH23", Firm: "91350100M000100Y43", Lift: "31103101152020010001",
		Address: alert.Place("浦东新区世纪大道 100 号", " 2 号楼 ", "3"), Floor: &floor,
		RaisedAt: raised, Source: alert.SourceOf("report"),
		URL: alert.IncidentURL("https://lt.example/", "R-ABCDEFGH23"),
	}
	var got map[string]any
	if err := json.Unmarshal(a.JSON(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"incident": "R-ABCDEFGH23", "firm": "91350100M000100Y43", "lift": "31103101152020010001",
		"address": "浦东新区世纪大道 100 号 2 号楼 3", "floor": 7.0,
		"raised_at": "2026-03-01T01:30:00Z", "source": "passenger",
		"url": "https://lt.example/firm/incidents/R-ABCDEFGH23",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("payload (-want +got):\n%s", d)
	}
	a.Floor = nil
	if err := json.Unmarshal(a.JSON(), &got); err != nil || got["floor"] != nil {
		t.Errorf("unknown floor encodes as %v, want null", got["floor"])
	}
}

func TestSourcesAndTopics(t *testing.T) {
	tests := []struct{ name, got, want string }{
		{"an IoT entrapment is iot", alert.SourceOf("iot"), "iot"},
		{"a phone entrapment is iot (the lift's own alarm line)", alert.SourceOf("phone"), "iot"},
		{"a report entrapment is passenger", alert.SourceOf("report"), "passenger"},
		{"the topic has no prefix by default", alert.Topic("", "91350100M000100Y43"), "firms/91350100M000100Y43/alerts"},
		{"the topic goes under the deployment prefix", alert.Topic("sh/", "91350100M000100Y43"), "sh/firms/91350100M000100Y43/alerts"},
		{"the incident link escapes the id", alert.IncidentURL("http://x", "a/b"), "http://x/firm/incidents/a%2Fb"},
		{"a report's incident derives from its tracking number", alert.ReportIncidentID("ABCDEFGH23"), "R-ABCDEFGH23"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestSignatureIsVerifiedOnlyWithTheSecretBodyAndFreshTimestamp(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	body := []byte(`{"incident":"X"}`)
	ts := time.Unix(1_800_000_000, 0)
	sig := alert.Sign(secret, ts, body)
	const stamp = "1800000000"
	tests := []struct {
		name      string
		secret    []byte
		stamp     string
		sig       string
		body      []byte
		now       time.Time
		wantError error
	}{
		{"the right secret, body and time verify", secret, stamp, sig, body, ts.Add(time.Minute), nil},
		{"another secret fails", []byte("another secret another secret 00"), stamp, sig, body, ts, alert.ErrBadSignature},
		{"a changed body fails", secret, stamp, sig, []byte(`{"incident":"Y"}`), ts, alert.ErrBadSignature},
		{"a changed timestamp fails", secret, "1800000001", sig, body, ts, alert.ErrBadSignature},
		{"a replay ten minutes later is stale", secret, stamp, sig, body, ts.Add(10 * time.Minute), alert.ErrStale},
		{"a timestamp that is not a number fails", secret, "yesterday", sig, body, ts, alert.ErrBadSignature},
		{"a truncated signature fails", secret, stamp, sig[:20], body, ts, alert.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := alert.Verify(tt.secret, tt.stamp, tt.sig, tt.body, tt.now)
			if !errors.Is(err, tt.wantError) || (tt.wantError == nil && err != nil) {
				t.Errorf("Verify = %v, want %v", err, tt.wantError)
			}
		})
	}
	// Known answer: HMAC-SHA256(secret, "1800000000." + body), computed
	// independently with: printf '1800000000.{"incident":"X"}' | openssl dgst -sha256 -hmac 0123456789abcdef0123456789abcdef
	if want := "v1=2e44f6f85791f54f7af1a9d044d32c6d1482604e0dc3587dab65d52bf8caa326"; sig != want {
		t.Errorf("signature %q, want %q (openssl's answer)", sig, want)
	}
}

func TestWebhookURLs(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://dispatch.example.com/lifttrust", true},
		{"https://10.0.0.5:8443/hook", true},
		{"http://dispatch.example.com/hook", false},
		{"https://user:pw@dispatch.example.com/", false},
		{"https:///nohost", false},
		{"dispatch.example.com", false},
		{"https://x.example/" + string(make([]byte, 600)), false},
	}
	for _, tt := range tests {
		if err := alert.ValidWebhookURL(tt.url); (err == nil) != tt.ok {
			t.Errorf("ValidWebhookURL(%.40q) = %v, want ok %v", tt.url, err, tt.ok)
		}
	}
}

func TestBackOffGrowsThenDies(t *testing.T) {
	tests := []struct {
		attempts int
		wait     time.Duration
		dead     bool
	}{
		{1, 2 * time.Second, false},
		{2, 10 * time.Second, false},
		{5, 10 * time.Minute, false},
		{8, 2 * time.Hour, false},
		{9, 0, true},
		{20, 0, true},
	}
	for _, tt := range tests {
		wait, dead := alert.NextAttempt(tt.attempts)
		if wait != tt.wait || dead != tt.dead {
			t.Errorf("NextAttempt(%d) = %s, %v; want %s, %v", tt.attempts, wait, dead, tt.wait, tt.dead)
		}
	}
	var total time.Duration
	for i, d := range alert.Retries {
		if i > 0 && d <= alert.Retries[i-1] {
			t.Errorf("retry %d waits %s, not longer than the one before", i+1, d)
		}
		total += d
	}
	if total < 3*time.Hour || total > 6*time.Hour {
		t.Errorf("retries span %s; want a few hours before a delivery is dead", total)
	}
}

func TestClocks(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	lim := alert.DefaultLimits
	tests := []struct {
		name string
		in   alert.Incident
		now  time.Time
		want alert.Clocks
	}{
		{"just raised: everything pending",
			alert.Incident{Occurred: t0}, at(1),
			alert.Clocks{Stage: "occurred", Notified: "pending", Arrived: "pending", Released: "pending", Elapsed: time.Minute, Level: "ok", Open: true}},
		{"notified at once, 16 min on: amber",
			alert.Incident{Occurred: t0, Notified: t0.Add(time.Second)}, at(16),
			alert.Clocks{Stage: "notified", Notified: "met", Arrived: "pending", Released: "pending", Elapsed: 16 * time.Minute, Level: "amber", Open: true}},
		{"never notified after 6 min: notify overdue",
			alert.Incident{Occurred: t0}, at(6),
			alert.Clocks{Stage: "occurred", Notified: "overdue", Arrived: "pending", Released: "pending", Elapsed: 6 * time.Minute, Level: "ok", Open: true}},
		{"responded, 31 min without arrival: red and overdue",
			alert.Incident{Occurred: t0, Notified: at(1), Responded: at(2)}, at(31),
			alert.Clocks{Stage: "responded", Notified: "met", Arrived: "overdue", Released: "pending", Elapsed: 31 * time.Minute, Level: "red", Open: true}},
		{"arrived late at 40 min",
			alert.Incident{Occurred: t0, Notified: at(1), Arrived: at(40)}, at(41),
			alert.Clocks{Stage: "arrived", Notified: "met", Arrived: "late", Released: "pending", Elapsed: 41 * time.Minute, Level: "red", Open: true}},
		{"released at 20 min: closed, elapsed stops at release",
			alert.Incident{Occurred: t0, Notified: at(1), Arrived: at(12), Released: at(20)}, at(300),
			alert.Clocks{Stage: "released", Notified: "met", Arrived: "met", Released: "done", Elapsed: 20 * time.Minute, Level: "ok", Open: false}},
		{"released without an arrival record: judged at release, not now",
			alert.Incident{Occurred: t0, Notified: at(1), Released: at(10)}, at(300),
			alert.Clocks{Stage: "released", Notified: "met", Arrived: "pending", Released: "done", Elapsed: 10 * time.Minute, Level: "ok", Open: false}},
		{"false alarm is closed",
			alert.Incident{Occurred: t0, Notified: at(1), FalseAlarm: true}, at(40),
			alert.Clocks{Stage: "false_alarm", Notified: "met", Arrived: "overdue", Released: "pending", Elapsed: 40 * time.Minute, Level: "ok", Open: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, tt.in.At(tt.now, lim)); d != "" {
				t.Errorf("clocks (-want +got):\n%s", d)
			}
		})
	}
	// A rural limit (1 h) moves amber and red.
	c := alert.Incident{Occurred: t0}.At(at(31), alert.Limits{Notify: 5 * time.Minute, Arrive: time.Hour})
	if c.Level != "amber" || c.Arrived != "pending" {
		t.Errorf("31 min under a 1 h limit: level %s, arrived %s; want amber, pending", c.Level, c.Arrived)
	}
}

func TestWhatBecomesOfADeliveryAfterAnAttempt(t *testing.T) {
	tests := []struct {
		name       string
		d          alert.Delivery
		o          alert.Outcome
		wantStatus string
		wantWait   time.Duration
	}{
		{"a delivered webhook is sent", alert.Delivery{Channel: "webhook", Attempt: 1}, alert.Outcome{OK: true}, "sent", 0},
		{"a first failed webhook retries in 2 s", alert.Delivery{Channel: "webhook", Attempt: 1}, alert.Outcome{HTTPStatus: 500}, "pending", 2 * time.Second},
		{"the ninth failed webhook is dead", alert.Delivery{Channel: "webhook", Attempt: 9}, alert.Outcome{Err: "refused"}, "dead", 0},
		{"a failed MQTT publish retries and never dies", alert.Delivery{Channel: "mqtt", Attempt: 100}, alert.Outcome{Err: "not connected"}, "pending", alert.MQTTRetry},
		{"a published MQTT alert is sent", alert.Delivery{Channel: "mqtt", Attempt: 1}, alert.Outcome{OK: true}, "sent", 0},
	}
	for _, tt := range tests {
		status, wait := tt.d.After(tt.o)
		if status != tt.wantStatus || wait != tt.wantWait {
			t.Errorf("%s: got %s after %s, want %s after %s", tt.name, status, wait, tt.wantStatus, tt.wantWait)
		}
	}
}
