package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"lifttrust/fleet"
)

// Limits on what the decoders accept (docs/mqtt.md).
const (
	// MaxPayload is the largest payload accepted; larger ones are dead
	// letters with only their first MaxPayload bytes kept.
	MaxPayload = 64 << 10
	// MaxFuture is how far ahead of our clock a timestamp may be (device
	// clocks drift; more than this is a broken clock, not drift).
	MaxFuture = 5 * time.Minute
	// MaxAgeLive bounds the age of status, events and rescues: older ones
	// would fall outside the telemetry partitions and the live view.
	MaxAgeLive = 30 * 24 * time.Hour
	// MaxAgeRecord bounds the age of maintenance and inspection records:
	// they are kept 5 years, so older ones are not records we must hold.
	MaxAgeRecord = 5 * 366 * 24 * time.Hour
)

// Reasons a message is rejected: the label of
// lifttrust_ingest_rejected_total and dead_letters.reason.
const (
	ReasonOversize        = "oversize"         // payload over MaxPayload
	ReasonUnknownKind     = "unknown_kind"     // topic outside the interface
	ReasonBadJSON         = "bad_json"         // not UTF-8 JSON of the kind's shape
	ReasonInvalidField    = "invalid_field"    // a value out of range or not in its list
	ReasonFutureTS        = "future_ts"        // more than MaxFuture ahead
	ReasonStaleTS         = "stale_ts"         // older than the kind's maximum age
	ReasonUnknownLift     = "unknown_lift"     // registration code not in lifts
	ReasonUnknownFirm     = "unknown_firm"     // firm USCC not in firms
	ReasonUnknownAgency   = "unknown_agency"   // agency USCC not in agencies
	ReasonMismatch        = "mismatch"         // topic identity may not file this payload
	ReasonUnknownIncident = "unknown_incident" // rescue for no such entrapment (or before it)
	ReasonDBRejected      = "db_rejected"      // the database refused the row (a constraint we do not mirror)
	// ReasonConflict: the filer already filed a different record under
	// this id; records are not overwritten (docs/mqtt.md).
	ReasonConflict = "conflict"
	// ReasonUnknownTechnician: a certificate number the registry does not
	// hold, or not for the filer at the visit's time.
	ReasonUnknownTechnician = "unknown_technician"
	// ReasonTechnicianOfOtherFirm: the registry has the technician with
	// another firm at the visit's time.
	ReasonTechnicianOfOtherFirm = "technician_of_other_firm"
)

// required lists, per kind, the fields a message must carry with a value:
// a missing or null one is refused, never stored as a zero (a null mode
// would read as "stopped"). The rest are optional: a rescue's cause, an
// inspection's next due date, and lists that may be empty.
var required = map[string][]string{
	KindStatus:      statusKeys,
	KindEvents:      {"id", "ts", "code", "state", "floor"},
	KindRescues:     {"incident", "lift", "stage", "ts"},
	KindMaintenance: {"id", "lift", "kind", "started_at", "ended_at", "technicians", "countersigned"},
	KindInspections: {"id", "lift", "date", "kind", "result"},
	KindTechnicians: {"certificate_no", "name_masked", "employed_from"},
}

// requireFields refuses an object missing one of the kind's required
// fields or holding null in one. An optional field that is null counts as
// absent (Go encodes a nil list as null).
func requireFields(kind string, payload []byte) *Reject {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(payload), &obj); err != nil {
		return reject(ReasonBadJSON, "%s", bounded(err.Error(), 200))
	}
	for _, f := range required[kind] {
		v, ok := obj[f]
		if !ok {
			return reject(ReasonInvalidField, "%s is missing", f)
		}
		if string(v) == "null" {
			return reject(ReasonInvalidField, "%s is null", f)
		}
	}
	return nil
}

// Reject is why a message was refused; it becomes a dead letter.
type Reject struct {
	Reason string
	Detail string
}

func (r *Reject) Error() string { return r.Reason + ": " + r.Detail }

func reject(reason, format string, args ...any) *Reject {
	return &Reject{Reason: reason, Detail: fmt.Sprintf(format, args...)}
}

// Msg is one decoded, self-consistent message. Exactly one of the payload
// pointers is set, according to Kind. Whether the lift, firm or agency
// exists is checked later against the Directory (Check).
type Msg struct {
	Kind  string // KindStatus, ...
	Topic string
	ID    string // the identity the topic names (lift, firm or agency)

	Status      *Status
	Event       *Event
	Rescue      *Rescue
	Maintenance *Maintenance
	Inspection  *Inspection
	Technician  *Technician // HTTP upload only
}

// Lift is the registration code the message is about.
func (m *Msg) Lift() string {
	switch {
	case m.Status != nil, m.Event != nil:
		return m.ID
	case m.Rescue != nil:
		return m.Rescue.Lift
	case m.Maintenance != nil:
		return m.Maintenance.Lift
	case m.Inspection != nil:
		return m.Inspection.Lift
	}
	return ""
}

// TS is the message's own time (for the lag metric); zero for records
// dated by day.
func (m *Msg) TS() time.Time {
	switch {
	case m.Status != nil:
		return m.Status.TS
	case m.Event != nil:
		return m.Event.TS
	case m.Rescue != nil:
		return m.Rescue.TS
	case m.Maintenance != nil:
		return m.Maintenance.EndedAt
	}
	return time.Time{}
}

var (
	recordID      = regexp.MustCompile(`^[A-Za-z0-9_.:\-]{1,64}$`)
	incidentID    = regexp.MustCompile(`^[A-Za-z0-9_.:\-]{1,80}$`)
	certificateNo = regexp.MustCompile(`^[A-Z0-9]{6,32}$`)
)

// Decode parses and validates one MQTT message on topic (under prefix) at
// our time now. It checks everything that needs no database: size, topic,
// JSON shape, ranges, lists, identifier syntax and timestamps.
func Decode(prefix, topic string, payload []byte, now time.Time) (*Msg, *Reject) {
	if len(payload) > MaxPayload {
		return nil, reject(ReasonOversize, "payload is %d bytes, limit %d", len(payload), MaxPayload)
	}
	kind, id, ok := ParseTopic(prefix, topic)
	if !ok {
		return nil, reject(ReasonUnknownKind, "topic %q is not part of the interface", bounded(topic, 200))
	}
	return DecodeKind(kind, id, payload, now)
}

// DecodeKind is Decode for a kind and identity known by other means (the
// HTTP bulk upload, where the identity is the authenticated user's).
func DecodeKind(kind, id string, payload []byte, now time.Time) (*Msg, *Reject) {
	if len(payload) > MaxPayload {
		return nil, reject(ReasonOversize, "payload is %d bytes, limit %d", len(payload), MaxPayload)
	}
	if !utf8.Valid(payload) {
		return nil, reject(ReasonBadJSON, "payload is not UTF-8")
	}
	m := &Msg{Kind: kind, Topic: Topic("", kind, id), ID: id}
	var r *Reject
	switch kind {
	case KindStatus:
		if !fleet.ValidRegistrationCode(id) {
			return nil, reject(ReasonUnknownLift, "topic names %q, not a registration code", bounded(id, 40))
		}
		m.Status = new(Status)
		if !decodeStatusFast(payload, m.Status) {
			*m.Status = Status{}
			if r = unmarshal(payload, m.Status); r == nil {
				r = requireFields(kind, payload)
			}
		}
		if r == nil {
			r = checkStatus(m.Status, now)
		}
	case KindEvents:
		if !fleet.ValidRegistrationCode(id) {
			return nil, reject(ReasonUnknownLift, "topic names %q, not a registration code", bounded(id, 40))
		}
		m.Event = new(Event)
		if r = unmarshal(payload, m.Event); r == nil {
			r = requireFields(kind, payload)
		}
		if r == nil {
			r = checkEvent(m.Event, now)
		}
	case KindRescues:
		if fleet.ValidateUSCC(id) != nil {
			return nil, reject(ReasonUnknownFirm, "topic names %q, not a valid USCC", bounded(id, 40))
		}
		m.Rescue = new(Rescue)
		if r = unmarshal(payload, m.Rescue); r == nil {
			r = requireFields(kind, payload)
		}
		if r == nil {
			r = checkRescue(m.Rescue, now)
		}
	case KindMaintenance:
		if fleet.ValidateUSCC(id) != nil {
			return nil, reject(ReasonUnknownFirm, "topic names %q, not a valid USCC", bounded(id, 40))
		}
		m.Maintenance = new(Maintenance)
		if r = unmarshal(payload, m.Maintenance); r == nil {
			r = requireFields(kind, payload)
		}
		if r == nil {
			r = checkMaintenance(m.Maintenance, now)
		}
	case KindInspections:
		if fleet.ValidateUSCC(id) != nil {
			return nil, reject(ReasonUnknownAgency, "topic names %q, not a valid USCC", bounded(id, 40))
		}
		m.Inspection = new(Inspection)
		if r = unmarshal(payload, m.Inspection); r == nil {
			r = requireFields(kind, payload)
		}
		if r == nil {
			r = checkInspection(m.Inspection, now)
		}
	case KindTechnicians:
		if fleet.ValidateUSCC(id) != nil {
			return nil, reject(ReasonUnknownFirm, "%q is not a valid USCC", bounded(id, 40))
		}
		m.Technician = new(Technician)
		if r = unmarshal(payload, m.Technician); r == nil {
			r = requireFields(kind, payload)
		}
		if r == nil {
			r = checkTechnician(m.Technician)
		}
	default:
		return nil, reject(ReasonUnknownKind, "unknown kind %q", bounded(kind, 40))
	}
	if r != nil {
		return nil, r
	}
	return m, nil
}

func unmarshal(payload []byte, v any) *Reject {
	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return reject(ReasonBadJSON, "payload is not a JSON object")
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		return reject(ReasonBadJSON, "%s", bounded(err.Error(), 200))
	}
	return nil
}

func checkTS(field string, ts time.Time, now time.Time, maxAge time.Duration) *Reject {
	switch {
	case ts.IsZero():
		return reject(ReasonInvalidField, "%s is missing", field)
	case ts.Sub(now) > MaxFuture:
		return reject(ReasonFutureTS, "%s %s is %s ahead of the server clock", field, ts.Format(time.RFC3339), ts.Sub(now).Round(time.Second))
	case now.Sub(ts) > maxAge:
		return reject(ReasonStaleTS, "%s %s is older than %s", field, ts.Format(time.RFC3339), maxAge)
	}
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func checkStatus(s *Status, now time.Time) *Reject {
	if r := checkTS("ts", s.TS, now, MaxAgeLive); r != nil {
		return r
	}
	switch {
	case s.Seq < 0:
		return reject(ReasonInvalidField, "seq %d is negative", s.Seq)
	case s.Floor < -20 || s.Floor > 300:
		return reject(ReasonInvalidField, "floor %d out of range -20..300", s.Floor)
	case s.Direction < 0 || s.Direction > 2:
		return reject(ReasonInvalidField, "direction %d: want 0 stop, 1 up, 2 down", s.Direction)
	case !fleet.Mode(s.Mode).Valid():
		return reject(ReasonInvalidField, "mode %d: want 0-7", s.Mode)
	case !finite(s.Speed) || s.Speed < 0 || s.Speed > 20:
		return reject(ReasonInvalidField, "speed %v m/s out of range 0..20", s.Speed)
	case s.LoadPct < 0 || s.LoadPct > 150:
		return reject(ReasonInvalidField, "load_pct %d out of range 0..150", s.LoadPct)
	case s.Trips < 0:
		return reject(ReasonInvalidField, "trips %d is negative", s.Trips)
	case !finite(s.RunHours) || s.RunHours < 0 || s.RunHours > 1e6:
		return reject(ReasonInvalidField, "run_hours %v out of range", s.RunHours)
	}
	return nil
}

func checkEvent(e *Event, now time.Time) *Reject {
	if !recordID.MatchString(e.ID) {
		return reject(ReasonInvalidField, "id %q: want 1-64 of A-Z a-z 0-9 _ . : -", bounded(e.ID, 80))
	}
	if r := checkTS("ts", e.TS, now, MaxAgeLive); r != nil {
		return r
	}
	switch {
	case !fleet.FaultCode(e.Code).Valid():
		return reject(ReasonInvalidField, "code %d is not a known fault or alarm code", e.Code)
	case e.State != "raised" && e.State != "cleared":
		return reject(ReasonInvalidField, "state %q: want raised or cleared", bounded(e.State, 40))
	case e.Floor < -20 || e.Floor > 300:
		return reject(ReasonInvalidField, "floor %d out of range -20..300", e.Floor)
	}
	return nil
}

func checkRescue(r *Rescue, now time.Time) *Reject {
	if !incidentID.MatchString(r.Incident) {
		return reject(ReasonInvalidField, "incident %q is not an entrapment id", bounded(r.Incident, 80))
	}
	if !fleet.ValidRegistrationCode(r.Lift) {
		return reject(ReasonInvalidField, "lift %q is not a registration code", bounded(r.Lift, 40))
	}
	if rj := checkTS("ts", r.TS, now, MaxAgeLive); rj != nil {
		return rj
	}
	if !fleet.OneOf(r.Stage, fleet.RescueStages) {
		return reject(ReasonInvalidField, "stage %q: want responded, arrived, released or false_alarm", bounded(r.Stage, 40))
	}
	if r.Cause != "" && !fleet.OneOf(r.Cause, fleet.Causes) {
		return reject(ReasonInvalidField, "cause %q: want equipment, maintenance, misuse or external", bounded(r.Cause, 40))
	}
	return nil
}

func checkMaintenance(m *Maintenance, now time.Time) *Reject {
	if !recordID.MatchString(m.ID) {
		return reject(ReasonInvalidField, "id %q: want 1-64 of A-Z a-z 0-9 _ . : -", bounded(m.ID, 80))
	}
	if !fleet.ValidRegistrationCode(m.Lift) {
		return reject(ReasonInvalidField, "lift %q is not a registration code", bounded(m.Lift, 40))
	}
	if !fleet.OneOf(m.Kind, fleet.MaintenanceKinds) {
		return reject(ReasonInvalidField, "kind %q: want half_monthly, quarterly, half_yearly, yearly or repair", bounded(m.Kind, 40))
	}
	if r := checkTS("started_at", m.StartedAt, now, MaxAgeRecord); r != nil {
		return r
	}
	if r := checkTS("ended_at", m.EndedAt, now, MaxAgeRecord); r != nil {
		return r
	}
	if d := m.EndedAt.Sub(m.StartedAt); d <= 0 || d >= 7*24*time.Hour {
		return reject(ReasonInvalidField, "ended_at must be after started_at and within 7 days")
	}
	if len(m.Technicians) < 1 || len(m.Technicians) > 10 {
		return reject(ReasonInvalidField, "technicians: want 1 to 10 certificate numbers, got %d", len(m.Technicians))
	}
	for _, c := range m.Technicians {
		if !certificateNo.MatchString(c) {
			return reject(ReasonInvalidField, "technician certificate %q: want 6-32 of A-Z 0-9", bounded(c, 40))
		}
	}
	if len(m.Items) > 200 || len(m.Parts) > 200 {
		return reject(ReasonInvalidField, "at most 200 items and 200 parts")
	}
	if r := checkTexts("items", m.Items); r != nil {
		return r
	}
	return checkTexts("parts", m.Parts)
}

func checkInspection(in *Inspection, now time.Time) *Reject {
	if !recordID.MatchString(in.ID) {
		return reject(ReasonInvalidField, "id %q: want 1-64 of A-Z a-z 0-9 _ . : -", bounded(in.ID, 80))
	}
	if !fleet.ValidRegistrationCode(in.Lift) {
		return reject(ReasonInvalidField, "lift %q is not a registration code", bounded(in.Lift, 40))
	}
	d, err := time.Parse(time.DateOnly, in.Date)
	if err != nil {
		return reject(ReasonInvalidField, "date %q: want YYYY-MM-DD", bounded(in.Date, 40))
	}
	if r := checkTS("date", d, now.Add(24*time.Hour-MaxFuture), MaxAgeRecord); r != nil {
		return r // a date is a whole day: today is never "in the future"
	}
	if !fleet.OneOf(in.Kind, fleet.InspectionKinds) {
		return reject(ReasonInvalidField, "kind %q: want periodic or supervision", bounded(in.Kind, 40))
	}
	if !fleet.OneOf(in.Result, fleet.InspectionResults) {
		return reject(ReasonInvalidField, "result %q: want pass, fail or pass_after_rectification", bounded(in.Result, 40))
	}
	if in.NextDue != "" {
		nd, err := time.Parse(time.DateOnly, in.NextDue)
		if err != nil || !nd.After(d) || nd.Sub(d) > 10*366*24*time.Hour {
			return reject(ReasonInvalidField, "next_due %q: want a YYYY-MM-DD after date", bounded(in.NextDue, 40))
		}
	}
	if len(in.Defects) > 200 {
		return reject(ReasonInvalidField, "at most 200 defects")
	}
	return checkTexts("defects", in.Defects)
}

// checkTexts refuses free-text entries that are too long to be a line of
// a record or that hold control characters (NUL, which PostgreSQL cannot
// store, and the rest, which only disturb whoever reads them: a record's
// lines are words, not layout).
func checkTexts(field string, list []string) *Reject {
	for _, t := range list {
		if len(t) > 500 {
			return reject(ReasonInvalidField, "%s: entries must be under 500 bytes", field)
		}
		if hasControl(t) {
			return reject(ReasonInvalidField, "%s: entries must not hold control characters", field)
		}
	}
	return nil
}

// hasControl reports whether s holds a C0 or C1 control character or DEL.
func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}

func checkTechnician(t *Technician) *Reject {
	if !certificateNo.MatchString(t.CertificateNo) {
		return reject(ReasonInvalidField, "certificate_no %q: want 6-32 of A-Z 0-9", bounded(t.CertificateNo, 40))
	}
	// Names are personal data: the registry keeps them masked (张*).
	if n := utf8.RuneCountInString(t.NameMasked); n < 1 || n > 20 || !strings.Contains(t.NameMasked, "*") || hasControl(t.NameMasked) {
		return reject(ReasonInvalidField, "name_masked %q: want the masked name, 1-20 characters with *, e.g. 张*", bounded(t.NameMasked, 40))
	}
	from, err := time.Parse(time.DateOnly, t.EmployedFrom)
	if err != nil {
		return reject(ReasonInvalidField, "employed_from %q: want YYYY-MM-DD", bounded(t.EmployedFrom, 40))
	}
	if t.EmployedUntil != "" {
		until, err := time.Parse(time.DateOnly, t.EmployedUntil)
		if err != nil || !until.After(from) {
			return reject(ReasonInvalidField, "employed_until %q: want a YYYY-MM-DD after employed_from", bounded(t.EmployedUntil, 40))
		}
	}
	if t.CertExpires != "" {
		if _, err := time.Parse(time.DateOnly, t.CertExpires); err != nil {
			return reject(ReasonInvalidField, "cert_expires %q: want YYYY-MM-DD", bounded(t.CertExpires, 40))
		}
	}
	return nil
}

// bounded cuts s for an error message, keeping it valid UTF-8.
func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return trimTo(s, n) + "…"
}

func trimTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
