// Package alert is what a maintenance firm is told when passengers are
// trapped in one of its lifts, and the rules around it: the payload, the
// MQTT topic, the webhook signature, the retry schedule and the rescue
// clocks. It is pure (no I/O); package alerter sends, package postgres
// stores.
//
// An alert is due when a lift raises fault code 11 (passenger trapped) or a
// passenger reports "trapped" on the lift's page. The firm must be told
// within seconds: the rules give the use unit 5 minutes to alert the firm
// and the firm 30 minutes (in a city) to arrive (docs/api.md, "Alerts").
package alert

import (
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// Sources of an alert, as the payload names them.
const (
	SourceIoT       = "iot"       // the lift's monitor raised code 11
	SourcePassenger = "passenger" // a passenger reported "trapped"
)

// JoinWindow bounds how old an open entrapment may be for a new report
// of the same lift to join it instead of opening another incident. An
// incident left open longer (its rescue messages lost) must not swallow
// a new entrapment days later; a real rescue takes minutes (DOMAIN.md:
// mean arrival 12 min, mean rescue 4.8 min).
const JoinWindow = 3 * time.Hour

// Alert is the payload sent on MQTT and in the webhook body.
type Alert struct {
	Incident string    `json:"incident"` // entrapment id; rescue messages refer to it
	Firm     string    `json:"firm"`     // the maintaining firm's USCC
	Lift     string    `json:"lift"`     // registration code
	Address  string    `json:"address"`  // address, building and lift number
	Floor    *int      `json:"floor"`    // null when unknown
	RaisedAt time.Time `json:"raised_at"`
	Source   string    `json:"source"` // iot | passenger
	URL      string    `json:"url"`    // the incident on the firm portal
}

// JSON encodes a (it cannot fail: every field is a plain value).
func (a Alert) JSON() []byte {
	a.RaisedAt = a.RaisedAt.UTC()
	b, _ := json.Marshal(a)
	return b
}

// SourceOf maps an entrapment's stored source to the payload's: a
// passenger report is "passenger", everything the lift raised is "iot".
func SourceOf(entrapmentSource string) string {
	if entrapmentSource == "report" {
		return SourcePassenger
	}
	return SourceIoT
}

// Place joins an address with building and lift number, skipping blanks.
func Place(address, building, liftNo string) string {
	var parts []string
	for _, p := range []string{address, building, liftNo} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, " ")
}

// Topic is the MQTT topic of a firm's alerts, under the deployment prefix
// ("sh/" gives "sh/firms/{uscc}/alerts"). Only that firm may subscribe.
func Topic(prefix, uscc string) string {
	return prefix + "firms/" + uscc + "/alerts"
}

// IncidentURL is the incident's page on the firm portal.
func IncidentURL(baseURL, incident string) string {
	return strings.TrimRight(baseURL, "/") + "/firm/incidents/" + url.PathEscape(incident)
}

// ReportIncidentID is the id of the entrapment a passenger's trapped
// report opens: derived from the tracking number, so the two are easy to
// relate and the id is valid in rescue messages.
func ReportIncidentID(tracking string) string {
	return "R-" + tracking
}

// Channels a firm is told on.
const (
	ChannelMQTT    = "mqtt"
	ChannelWebhook = "webhook"
)

// Delivery is one claimed attempt to tell a firm of an incident on one
// channel.
type Delivery struct {
	ID      int64
	Channel string // ChannelMQTT or ChannelWebhook
	Attempt int    // this attempt's number, from 1
	Alert   Alert  // URL left for the sender, which knows the public base URL
	// The firm's webhook (ChannelWebhook only); the secret is never logged.
	WebhookURL string
	Secret     string
}

// Outcome is what one attempt came to.
type Outcome struct {
	OK         bool
	HTTPStatus int // webhook only; 0 when no response
	Err        string
	Took       time.Duration
}

// After says what becomes of a delivery after o: sent, retried after wait,
// or dead. A webhook dies after its retries; MQTT never does (see
// MQTTRetry).
func (d Delivery) After(o Outcome) (status string, wait time.Duration) {
	if o.OK {
		return "sent", 0
	}
	if d.Channel == ChannelMQTT {
		return "pending", MQTTRetry
	}
	wait, dead := NextAttempt(d.Attempt)
	if dead {
		return "dead", 0
	}
	return "pending", wait
}
