package scoring

import (
	"fmt"
	"slices"
	"strings"
)

// Parts are the groups of a firm's records that a one-firm run reads or
// carries forward. Contracts, complaints, penalties, spot checks and the
// firm's own row are small and always read.
type Parts uint8

// The parts and the indicators each one feeds.
const (
	// Visits: maintenance records and the telemetry episodes that
	// corroborate them, the bulk of a firm's inputs (the largest city
	// firm files 0.9 million visits a year).
	Visits Parts = 1 << iota
	// Inspections: periodic and supervision inspections.
	Inspections
	// Faults: fault events (0.25 million a year for the largest firm).
	Faults
	// Entrapments: incidents and their rescue stages.
	Entrapments

	AllParts = Visits | Inspections | Faults | Entrapments
)

var partNames = []struct {
	part Parts
	name string
}{{Visits, "visits"}, {Inspections, "inspections"}, {Faults, "faults"}, {Entrapments, "entrapments"}}

var partIndicators = map[Parts][]string{
	Visits:      {IndLateVisits, IndPeriodicItems, IndUncorroborated, IndShortVisits, IndDoubleBooked, IndNotCountersigned, IndOverloaded},
	Inspections: {IndFirstPassFail, IndInspectionFail, IndInspectionOverdue},
	Faults:      {IndFaultRatio, IndRepeatFaults},
	Entrapments: {IndEntrapmentRatio, IndLateArrival, IndArrivalTime, IndRescueTime},
}

// Indicators lists the indicators fed by the parts in ps, in model order.
func (ps Parts) Indicators() []string {
	var out []string
	for _, ind := range Indicators {
		for p, keys := range partIndicators {
			if ps&p != 0 && slices.Contains(keys, ind.Key) {
				out = append(out, ind.Key)
			}
		}
	}
	return out
}

// String is the parts' names joined by "+" ("" for none).
func (ps Parts) String() string {
	var names []string
	for _, p := range partNames {
		if ps&p.part != 0 {
			names = append(names, p.name)
		}
	}
	return strings.Join(names, "+")
}

// ParseParts reads a String back.
func ParseParts(s string) (Parts, error) {
	var ps Parts
next:
	for _, name := range strings.Split(s, "+") {
		if name == "" {
			continue
		}
		for _, p := range partNames {
			if p.name == name {
				ps |= p.part
				continue next
			}
		}
		return 0, fmt.Errorf("unknown part %q: want visits, inspections, faults or entrapments", name)
	}
	return ps, nil
}

// PartOf is the part an evidence record of kind belongs to, 0 for the
// always-read ones (complaints, penalties, spot checks, the firm).
func PartOf(kind string) Parts {
	switch kind {
	case KindMaintenance, KindLift:
		return Visits
	case KindInspection:
		return Inspections
	case KindEvent:
		return Faults
	case KindEntrapment:
		return Entrapments
	}
	return 0
}

// EventParts is what a run after an unnamed event reads: everything but
// the visits, which no entrapment, inspection, fault or penalty changes.
const EventParts = AllParts &^ Visits

// Carried is the part of a firm's latest score that a one-firm run
// carries instead of reading the records again: an entrapment closing
// changes no maintenance record, inspection or fault, so the run reads the
// entrapments (and the small always-read records) and takes the other
// indicators' tallies and evidence from the latest score of the same
// period and model version.
//
// The store offers a carry only when none of the carried records has been
// excluded since (an accepted appeal on one makes the run read its part).
// Records of a carried part filed since that score (a new maintenance
// record, say) are counted by the next run that reads the part: the daily
// full run at the latest.
type Carried struct {
	RunID  int64
	Parts  Parts            // what is carried
	Counts map[string]Count // every indicator's tallies in that score
	// Lost is what each indicator cost in that score.
	Lost map[string]float64
	// Evidence is that score's evidence rows of the carried indicators,
	// without the rows for the prior, each with Weight = the points it
	// cost: an indicator's loss is spread over its records in proportion
	// to their weights, so the old points are the right weights.
	Evidence []Evidence
}

// Carry returns m with the carried indicators' tallies and evidence taken
// from c.
func Carry(m Measures, c Carried) Measures {
	out := m
	out.Counts = slices.Clone(m.Counts)
	var carries [32]bool // by indicator index
	for _, key := range c.Parts.Indicators() {
		out.Counts[indicatorIndex[key]] = c.Counts[key]
		carries[indicatorIndex[key]] = true
	}
	carried := make([]Evidence, 0, len(c.Evidence))
	for _, e := range c.Evidence {
		if ix, ok := indicatorIndex[e.Indicator]; ok && carries[ix] {
			e.ix = indicatorIndex[e.Indicator]
			carried = append(carried, e)
		}
	}
	sortEvidence(carried)
	// Both are in sortEvidence order, which is by indicator first: merge
	// them rather than sort a large firm's evidence again.
	out.Evidence = make([]Evidence, 0, len(m.Evidence)+len(carried))
	i := 0
	for _, e := range m.Evidence {
		if carries[e.ix] {
			continue
		}
		for i < len(carried) && carried[i].ix < e.ix {
			out.Evidence = append(out.Evidence, carried[i])
			i++
		}
		out.Evidence = append(out.Evidence, e)
	}
	out.Evidence = append(out.Evidence, carried[i:]...)
	if m.tails != nil { // a carried indicator's records are c's, not m's
		out.tails = slices.Clone(m.tails)
		for ix, c := range carries[:len(out.tails)] {
			if c {
				out.tails[ix] = evidenceTail{}
			}
		}
	}
	return out
}

// CarryIsStale reports whether a result computed with c cannot be
// explained record by record: a carried indicator that cost nothing in
// c's score (so no evidence was stored) costs points now, because the
// firm's other indicators moved its prior. The run must then read that
// part.
func CarryIsStale(r Result, c Carried) bool {
	for _, key := range c.Parts.Indicators() {
		ir := r.Dimensions[Indicators[indicatorIndex[key]].Dim].Indicators[key]
		if ir.Lost > 0 && c.Lost[key] == 0 && c.Counts[key].Bad > 0 {
			return true
		}
	}
	return false
}
