package ingest

import (
	"context"
	"time"
)

// Batch is everything one PostgreSQL transaction writes. The writer builds
// it from decoded messages (pure, no I/O); a Store writes it atomically, so
// a message is either entirely stored or not at all, and acknowledged only
// after the commit.
type Batch struct {
	Telemetry []LiftStatus // every heartbeat (idempotent on lift, ts, seq)
	Latest    []LiftStatus // the newest heartbeat per lift in this batch
	Events    []LiftEvent  // raised then cleared, in arrival order
	// Entrapments opened by a raised passenger-trapped event; the firm is
	// the lift's maintaining firm at that moment.
	Entrapments []LiftEvent
	Rescues     []RescueItem
	Maintenance []MaintenanceItem
	Inspections []InspectionItem
	Technicians []TechnicianItem // registry uploads
	DeadLetters []DeadLetter
	// Notifications sent in the same transaction (postgres.Notify).
	LiftsChanged []string // registration codes whose public page changed
	// Facts are what changed in a firm's records that its score may
	// depend on; ingest states them and scoring decides what to rescore
	// (the store maps them with scoring.PartOf).
	Facts []Fact

	// Set by WriteBatch: how many rescues matched no entrapment, and how
	// many records conflicted with one already filed under their id; both
	// went to dead_letters instead.
	RescueMisses int
	Conflicts    int
}

// Fact says that records of a kind changed for a firm.
type Fact struct {
	Firm   string
	Record string // RecordEntrapment or RecordInspection
}

// Record kinds named in Facts: the names scoring gives its evidence
// records (scoring.KindEntrapment, scoring.KindInspection).
const (
	RecordEntrapment = "entrapment" // an incident closed (released or false alarm)
	RecordInspection = "inspection" // an inspection failed
)

// Outcome is what storing one record did, set by WriteBatch.
type Outcome uint8

// The outcomes of a record write.
const (
	OutcomeNone      Outcome = iota // not written (yet)
	OutcomeStored                   // a new record
	OutcomePresent                  // the same record was already stored (a re-delivery)
	OutcomeCorrected                // an existing entry updated (technician registry only)
	OutcomeConflict                 // the filer already filed a different record under this id: dead-lettered
)

// LiftStatus is one heartbeat of a lift.
type LiftStatus struct {
	Lift string
	*Status
}

// LiftEvent is one fault or alarm message of a lift.
type LiftEvent struct {
	Lift string
	*Event
}

// RescueItem is a rescue stage; when no entrapment matches, the store
// dead-letters it (reason unknown_incident) with Topic and Payload.
type RescueItem struct {
	Firm    string
	Topic   string
	Payload []byte
	*Rescue
}

// MaintenanceItem is a maintenance record filed by Firm. Topic and
// Payload make its dead letter should it conflict.
type MaintenanceItem struct {
	Firm    string
	Source  string // mqtt or upload
	Topic   string
	Payload []byte
	Outcome Outcome
	*Maintenance
}

// InspectionItem is an inspection filed by Agency.
type InspectionItem struct {
	Agency  string
	Source  string // mqtt or upload
	Topic   string
	Payload []byte
	Outcome Outcome
	*Inspection
}

// TechnicianItem is a registry entry uploaded by Firm. Its Outcome is
// OutcomeConflict when the technician is registered with another firm
// for an overlapping period.
type TechnicianItem struct {
	Firm    string
	Outcome Outcome
	*Technician
}

// DeadLetter is a rejected message.
type DeadLetter struct {
	Source   string // mqtt or http
	Retained bool   // a retained MQTT message: stored once per topic and payload
	Topic    string
	Reason   string
	Detail   string
	Payload  []byte // at most MaxPayload bytes are stored
	Size     int    // the original size
}

// Store is what ingest needs from PostgreSQL (package postgres implements
// it). Every method takes a context and returns wrapped lifttrust kinds.
type Store interface {
	// LoadDirectory reads every lift (with its firm), firm and agency.
	LoadDirectory(ctx context.Context) (DirectoryData, error)
	// LookupDirectory reads just the given codes (those a message named
	// but the directory did not know) and technician certificates.
	LookupDirectory(ctx context.Context, lifts, firms, agencies, techs []string) (DirectoryData, error)
	// WriteBatch writes b in one transaction, with the episodes its
	// messages change (derived under the lifts' locks, state.go).
	WriteBatch(ctx context.Context, b *Batch) error
	// MarkOffline opens an offline episode (and closes the mode episode)
	// of every lift whose latest heartbeat is older than before and that
	// is not offline already; it returns how many it marked.
	MarkOffline(ctx context.Context, before time.Time) (int, error)
	// EnsurePartitions creates telemetry partitions covering [from, to).
	EnsurePartitions(ctx context.Context, from, to time.Time) (int, error)
	// DropPartitions drops telemetry partitions that end before cutoff.
	DropPartitions(ctx context.Context, cutoff time.Time) (int, error)
	// DropDeadLetters deletes dead letters received before cutoff.
	DropDeadLetters(ctx context.Context, cutoff time.Time) (int64, error)
}

// Empty reports whether b writes nothing.
func (b *Batch) Empty() bool {
	return len(b.Telemetry) == 0 && len(b.Events) == 0 && len(b.Rescues) == 0 && len(b.Maintenance) == 0 &&
		len(b.Inspections) == 0 && len(b.Technicians) == 0 && len(b.DeadLetters) == 0
}
