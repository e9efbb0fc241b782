package ingest

import (
	"sync"
	"time"
)

// Directory is the in-memory index of who exists and who may file what:
// lifts (with the firm maintaining each now and their past contracts),
// firms, agencies and the technician registry. The writer checks every
// message against it instead of asking PostgreSQL; it is reloaded
// periodically, and codes it does not know are looked up before a message
// is refused.
type Directory struct {
	mu       sync.RWMutex
	lifts    map[string]liftEntry
	firms    map[string]struct{}
	agencies map[string]struct{}
	techs    map[string]Employment
}

// Contract is a period in which Firm maintained a lift (lift_contracts).
// Until is zero while it runs; both are dates in Shanghai.
type Contract struct {
	Firm        string
	From, Until time.Time
}

// Employment is a technician's registration with a firm (technicians):
// from, and until when they left (zero while employed).
type Employment struct {
	Firm        string
	From, Until time.Time
}

// liftEntry keeps a lift's firms compactly: most lifts have one running
// contract and no past, so only lifts that changed firm carry a slice.
type liftEntry struct {
	current string     // lifts.firm_uscc ("" none)
	open    string     // the firm of the running contract
	since   int32      // day the running contract started (minDay: unknown)
	past    []contract // ended contracts
}

type contract struct {
	firm        string
	from, until int32 // days; until exclusive
}

const minDay = -1 << 31

// recordZone is where contract and employment dates are days: a record at
// 00:30 on 1 March in Shanghai is a record of 1 March.
var recordZone = time.FixedZone("CST", 8*3600)

func dayOf(t time.Time) int32 {
	y, m, d := t.In(recordZone).Date()
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func dateDay(t time.Time) int32 {
	if t.IsZero() {
		return 0
	}
	y, m, d := t.Date()
	return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// DirectoryData is a snapshot to load or merge into a Directory.
type DirectoryData struct {
	Lifts map[string]string // registration code → maintaining firm now ("" none)
	// Contracts are each lift's contracts in start order; a lift without
	// any is checked against its current firm alone.
	Contracts   map[string][]Contract
	Firms       []string
	Agencies    []string
	Technicians map[string]Employment // certificate number → registration
}

// NewDirectory builds a Directory from a snapshot.
func NewDirectory(d DirectoryData) *Directory {
	dir := &Directory{}
	dir.Replace(d)
	return dir
}

func entries(data DirectoryData) map[string]liftEntry {
	lifts := make(map[string]liftEntry, len(data.Lifts))
	for code, firm := range data.Lifts {
		e := liftEntry{current: firm, open: firm, since: minDay}
		if cs := data.Contracts[code]; len(cs) > 0 {
			e.open = ""
			for _, c := range cs {
				if c.Until.IsZero() {
					e.open, e.since = c.Firm, dateDay(c.From)
				} else {
					e.past = append(e.past, contract{firm: c.Firm, from: dateDay(c.From), until: dateDay(c.Until)})
				}
			}
		}
		lifts[code] = e
	}
	return lifts
}

// Replace swaps in a full snapshot.
func (d *Directory) Replace(data DirectoryData) {
	lifts := entries(data)
	firms := make(map[string]struct{}, len(data.Firms))
	for _, f := range data.Firms {
		firms[f] = struct{}{}
	}
	agencies := make(map[string]struct{}, len(data.Agencies))
	for _, a := range data.Agencies {
		agencies[a] = struct{}{}
	}
	techs := make(map[string]Employment, len(data.Technicians))
	for c, e := range data.Technicians {
		techs[c] = e
	}
	d.mu.Lock()
	d.lifts, d.firms, d.agencies, d.techs = lifts, firms, agencies, techs
	d.mu.Unlock()
}

// Merge adds what a targeted lookup found.
func (d *Directory) Merge(data DirectoryData) {
	lifts := entries(data)
	d.mu.Lock()
	defer d.mu.Unlock()
	for code, e := range lifts {
		d.lifts[code] = e
	}
	for _, f := range data.Firms {
		d.firms[f] = struct{}{}
	}
	for _, a := range data.Agencies {
		d.agencies[a] = struct{}{}
	}
	for c, e := range data.Technicians {
		d.techs[c] = e
	}
}

// Lift reports whether code is a known lift and which firm maintains it now.
func (d *Directory) Lift(code string) (firm string, ok bool) {
	d.mu.RLock()
	e, ok := d.lifts[code]
	d.mu.RUnlock()
	return e.current, ok
}

// FirmAt is the firm whose contract covered lift at t ("" none, or an
// unknown lift): the lift-firm check of a back-filed record uses the
// contract in force at the record's time, not today's.
func (d *Directory) FirmAt(lift string, t time.Time) string {
	d.mu.RLock()
	e, ok := d.lifts[lift]
	d.mu.RUnlock()
	if !ok {
		return ""
	}
	day := dayOf(t)
	for _, c := range e.past {
		if c.from <= day && day < c.until {
			return c.firm
		}
	}
	if e.open != "" && day >= e.since {
		return e.open
	}
	return ""
}

// Firm reports whether uscc is a known maintenance firm.
func (d *Directory) Firm(uscc string) bool {
	d.mu.RLock()
	_, ok := d.firms[uscc]
	d.mu.RUnlock()
	return ok
}

// Agency reports whether uscc is a known inspection agency.
func (d *Directory) Agency(uscc string) bool {
	d.mu.RLock()
	_, ok := d.agencies[uscc]
	d.mu.RUnlock()
	return ok
}

// Technician returns a certificate's registration.
func (d *Directory) Technician(cert string) (Employment, bool) {
	d.mu.RLock()
	e, ok := d.techs[cert]
	d.mu.RUnlock()
	return e, ok
}

// Len is the number of lifts known.
func (d *Directory) Len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.lifts)
}

// Missing lists the identities m names that d does not know, to look up.
func (d *Directory) Missing(m *Msg) (lifts, firms, agencies, techs []string) {
	if lift := m.Lift(); lift != "" {
		if _, ok := d.Lift(lift); !ok {
			lifts = append(lifts, lift)
		}
	}
	switch m.Kind {
	case KindRescues, KindMaintenance, KindTechnicians:
		if !d.Firm(m.ID) {
			firms = append(firms, m.ID)
		}
	case KindInspections:
		if !d.Agency(m.ID) {
			agencies = append(agencies, m.ID)
		}
	}
	if m.Maintenance != nil {
		for _, c := range m.Maintenance.Technicians {
			if _, ok := d.Technician(c); !ok {
				techs = append(techs, c)
			}
		}
	}
	return lifts, firms, agencies, techs
}

// Check refuses a message whose identities are unknown or do not match:
// a device reports only for itself (the topic is its own lift); a firm
// files only for lifts it maintained at the record's time, with
// technicians the registry has with it at that time; an agency only for
// known lifts.
func (d *Directory) Check(m *Msg) *Reject {
	switch m.Kind {
	case KindRescues, KindMaintenance, KindTechnicians:
		if !d.Firm(m.ID) {
			return reject(ReasonUnknownFirm, "firm %s is not registered", m.ID)
		}
	case KindInspections:
		if !d.Agency(m.ID) {
			return reject(ReasonUnknownAgency, "agency %s is not registered", m.ID)
		}
	}
	if m.Kind == KindTechnicians {
		return nil
	}
	lift := m.Lift()
	if _, ok := d.Lift(lift); !ok {
		return reject(ReasonUnknownLift, "lift %s is not registered", lift)
	}
	var at time.Time
	switch m.Kind {
	case KindRescues:
		at = m.Rescue.TS
	case KindMaintenance:
		at = m.Maintenance.StartedAt
	default:
		return nil
	}
	if firm := d.FirmAt(lift, at); firm != m.ID {
		day := at.In(recordZone).Format(time.DateOnly)
		if firm == "" {
			return reject(ReasonMismatch, "no firm maintained lift %s on %s (lift_contracts)", lift, day)
		}
		return reject(ReasonMismatch, "firm %s did not maintain lift %s on %s (firm %s did)", m.ID, lift, day, firm)
	}
	if m.Maintenance != nil {
		return d.checkTechnicians(m.ID, m.Maintenance.Technicians, at)
	}
	return nil
}

// checkTechnicians refuses a visit by a technician the registry does not
// hold with firm on the visit's day.
func (d *Directory) checkTechnicians(firm string, certs []string, at time.Time) *Reject {
	day := dayOf(at)
	date := at.In(recordZone).Format(time.DateOnly)
	for _, c := range certs {
		e, ok := d.Technician(c)
		if !ok {
			return reject(ReasonUnknownTechnician, "technician %s is not in the registry", c)
		}
		employed := dateDay(e.From) <= day && (e.Until.IsZero() || day < dateDay(e.Until))
		if e.Firm != firm {
			if employed {
				return reject(ReasonTechnicianOfOtherFirm, "technician %s worked for firm %s on %s", c, e.Firm, date)
			}
			return reject(ReasonUnknownTechnician, "technician %s is registered with firm %s, not %s, and not for %s", c, e.Firm, firm, date)
		}
		if !employed {
			return reject(ReasonUnknownTechnician, "technician %s was not registered with firm %s on %s", c, firm, date)
		}
	}
	return nil
}
