package ingest

import "sync"

// Directory is the in-memory index of who exists: lifts (with the firm
// maintaining each), firms and agencies. The writer checks every message
// against it instead of asking PostgreSQL; it is reloaded periodically, and
// codes it does not know are looked up before a message is refused.
type Directory struct {
	mu       sync.RWMutex
	lifts    map[string]string // registration code → maintaining firm USCC ("" none)
	firms    map[string]struct{}
	agencies map[string]struct{}
}

// DirectoryData is a snapshot to load or merge into a Directory.
type DirectoryData struct {
	Lifts    map[string]string
	Firms    []string
	Agencies []string
}

// NewDirectory builds a Directory from a snapshot.
func NewDirectory(d DirectoryData) *Directory {
	dir := &Directory{}
	dir.Replace(d)
	return dir
}

// Replace swaps in a full snapshot.
func (d *Directory) Replace(data DirectoryData) {
	lifts := data.Lifts
	if lifts == nil {
		lifts = map[string]string{}
	}
	firms := make(map[string]struct{}, len(data.Firms))
	for _, f := range data.Firms {
		firms[f] = struct{}{}
	}
	agencies := make(map[string]struct{}, len(data.Agencies))
	for _, a := range data.Agencies {
		agencies[a] = struct{}{}
	}
	d.mu.Lock()
	d.lifts, d.firms, d.agencies = lifts, firms, agencies
	d.mu.Unlock()
}

// Merge adds what a targeted lookup found.
func (d *Directory) Merge(data DirectoryData) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for code, firm := range data.Lifts {
		d.lifts[code] = firm
	}
	for _, f := range data.Firms {
		d.firms[f] = struct{}{}
	}
	for _, a := range data.Agencies {
		d.agencies[a] = struct{}{}
	}
}

// Lift reports whether code is a known lift and which firm maintains it.
func (d *Directory) Lift(code string) (firm string, ok bool) {
	d.mu.RLock()
	firm, ok = d.lifts[code]
	d.mu.RUnlock()
	return firm, ok
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

// Len is the number of lifts known.
func (d *Directory) Len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.lifts)
}

// Missing lists the identities m names that d does not know, as a
// DirectoryData of codes to look up (values are ignored).
func (d *Directory) Missing(m *Msg) (lifts, firms, agencies []string) {
	if lift := m.Lift(); lift != "" {
		if _, ok := d.Lift(lift); !ok {
			lifts = append(lifts, lift)
		}
	}
	switch m.Kind {
	case KindRescues, KindMaintenance:
		if !d.Firm(m.ID) {
			firms = append(firms, m.ID)
		}
	case KindInspections:
		if !d.Agency(m.ID) {
			agencies = append(agencies, m.ID)
		}
	}
	return lifts, firms, agencies
}

// Check refuses a message whose identities are unknown or do not match:
// a device reports only for itself (the topic is its own lift), a firm files
// only for lifts it maintains, an agency only for known lifts.
func (d *Directory) Check(m *Msg) *Reject {
	switch m.Kind {
	case KindRescues, KindMaintenance:
		if !d.Firm(m.ID) {
			return reject(ReasonUnknownFirm, "firm %s is not registered", m.ID)
		}
	case KindInspections:
		if !d.Agency(m.ID) {
			return reject(ReasonUnknownAgency, "agency %s is not registered", m.ID)
		}
	}
	lift := m.Lift()
	firm, ok := d.Lift(lift)
	if !ok {
		return reject(ReasonUnknownLift, "lift %s is not registered", lift)
	}
	if (m.Kind == KindRescues || m.Kind == KindMaintenance) && firm != m.ID {
		return reject(ReasonMismatch, "firm %s does not maintain lift %s", m.ID, lift)
	}
	return nil
}
