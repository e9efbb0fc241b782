package ingest

import (
	"strings"
	"time"
)

// The wire format (docs/mqtt.md). Field names are the JSON keys; the
// simulator encodes these same types, so the two can never drift apart.

// Status is a heartbeat on lifts/{registration_code}/status (QoS 0 or 1).
type Status struct {
	TS         time.Time `json:"ts"`
	Seq        int64     `json:"seq"`
	Floor      int       `json:"floor"`
	Direction  int       `json:"direction"` // 0 stop, 1 up, 2 down
	DoorLocked bool      `json:"door_locked"`
	DoorZone   bool      `json:"door_zone"`
	Mode       int       `json:"mode"` // fleet.Mode
	Passenger  bool      `json:"passenger"`
	Speed      float64   `json:"speed"`    // m/s
	LoadPct    int       `json:"load_pct"` // 0-150
	Trips      int64     `json:"trips"`
	RunHours   float64   `json:"run_hours"`
}

// Event is a fault or alarm on lifts/{registration_code}/events (QoS 1).
// The "cleared" message carries the id of the "raised" one.
type Event struct {
	ID    string    `json:"id"`
	TS    time.Time `json:"ts"`
	Code  int       `json:"code"`  // fleet.FaultCode
	State string    `json:"state"` // raised | cleared
	Floor int       `json:"floor"`
}

// Rescue is a rescue stage on firms/{uscc}/rescues (QoS 1).
type Rescue struct {
	Incident string    `json:"incident"` // the entrapment's id
	Lift     string    `json:"lift"`
	Stage    string    `json:"stage"` // responded | arrived | released | false_alarm
	TS       time.Time `json:"ts"`
	Cause    string    `json:"cause,omitempty"` // at release: equipment | maintenance | misuse | external
}

// Maintenance is a maintenance record on firms/{uscc}/maintenance (QoS 1).
type Maintenance struct {
	ID            string    `json:"id"`
	Lift          string    `json:"lift"`
	Kind          string    `json:"kind"` // half_monthly | quarterly | half_yearly | yearly | repair
	StartedAt     time.Time `json:"started_at"`
	EndedAt       time.Time `json:"ended_at"`
	Technicians   []string  `json:"technicians"` // certificate numbers
	Items         []string  `json:"items"`
	Parts         []string  `json:"parts"`
	Countersigned bool      `json:"countersigned"`
}

// Inspection is an inspection result on agencies/{agency_uscc}/inspections (QoS 1).
type Inspection struct {
	ID      string   `json:"id"`
	Lift    string   `json:"lift"`
	Date    string   `json:"date"` // YYYY-MM-DD
	Kind    string   `json:"kind"` // periodic | supervision
	Result  string   `json:"result"`
	Defects []string `json:"defects"`
	NextDue string   `json:"next_due,omitempty"` // YYYY-MM-DD
}

// Technician is one line of a firm's technician registry upload
// (POST /api/v1/ingest/technicians): who works for the uploading firm, and
// since when. Dates are YYYY-MM-DD; employed_until is set when the
// technician left.
type Technician struct {
	CertificateNo string `json:"certificate_no"`
	NameMasked    string `json:"name_masked"` // 张*: names are kept masked
	Certified     *bool  `json:"certified,omitempty"`
	CertExpires   string `json:"cert_expires,omitempty"`
	EmployedFrom  string `json:"employed_from"`
	EmployedUntil string `json:"employed_until,omitempty"`
}

// EntrapmentID is the id of the entrapment incident opened by a code-11
// event: derived, so the firm's dispatch and a re-delivered event agree.
func EntrapmentID(registrationCode, eventID string) string {
	return registrationCode + "-" + eventID
}

// Topic kinds, the last topic level.
const (
	KindStatus      = "status"
	KindEvents      = "events"
	KindRescues     = "rescues"
	KindMaintenance = "maintenance"
	KindInspections = "inspections"
	// KindTechnicians is the technician registry, by HTTP upload only.
	KindTechnicians = "technicians"
)

// Topic builds the topic for a message kind about id (a registration code
// for status and events, a firm USCC for rescues and maintenance, an agency
// USCC for inspections), under an optional deployment prefix such as "sh/".
func Topic(prefix, kind, id string) string {
	switch kind {
	case KindStatus, KindEvents:
		return prefix + "lifts/" + id + "/" + kind
	case KindRescues, KindMaintenance:
		return prefix + "firms/" + id + "/" + kind
	case KindInspections:
		return prefix + "agencies/" + id + "/" + kind
	}
	return ""
}

// ParseTopic splits a topic (with prefix) into its kind and the identity it
// names; ok is false for a topic outside the interface.
func ParseTopic(prefix, topic string) (kind, id string, ok bool) {
	rest, found := strings.CutPrefix(topic, prefix)
	if !found {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || parts[1] == "" {
		return "", "", false
	}
	want := Topic("", parts[2], parts[1])
	if want != rest || !strings.HasPrefix(rest, parts[0]+"/") {
		return "", "", false
	}
	return parts[2], parts[1], true
}

// Subscriptions lists the topic filters ingest subscribes to, through
// $share/{group}/ when group is set (several instances split the load).
func Subscriptions(prefix, group string) []string {
	filters := []string{
		prefix + "lifts/+/status",
		prefix + "lifts/+/events",
		prefix + "firms/+/rescues",
		prefix + "firms/+/maintenance",
		prefix + "agencies/+/inspections",
	}
	if group != "" {
		for i, f := range filters {
			filters[i] = "$share/" + group + "/" + f
		}
	}
	return filters
}
