package scoring

import "slices"

// VisitIndicators are measured from maintenance records and the telemetry
// episodes that corroborate them: the bulk of a firm's inputs (the
// largest city firm files 0.9 million visits a year). The other
// indicators come from contracts, inspections, faults, entrapments,
// complaints and penalties, which are small.
var VisitIndicators = []string{IndLateVisits, IndPeriodicItems, IndUncorroborated, IndShortVisits, IndDoubleBooked,
	IndNotCountersigned, IndOverloaded}

// IsVisitIndicator reports whether key is one of VisitIndicators.
func IsVisitIndicator(key string) bool { return slices.Contains(VisitIndicators, key) }

// Carried is the visit part of a firm's latest score, carried into a
// one-firm run that an event triggered: an entrapment closing or an
// inspection failing changes no maintenance record, so the run reloads
// everything else and takes the visit indicators' tallies and evidence
// from the latest score of the same period and model version.
//
// The store offers a carry only when nothing the visit indicators read
// has been excluded since (an accepted appeal on a maintenance record or
// a late interval makes the firm reload in full). Maintenance records
// filed since that score are counted by the next full run (daily).
type Carried struct {
	RunID  int64
	Counts map[string]Count // every indicator's tallies in that score
	// Lost is what each visit indicator cost in that score.
	Lost map[string]float64
	// Evidence is that score's evidence rows of the visit indicators,
	// without the rows for the prior, each with Weight = the points it
	// cost: an indicator's loss is spread over its records in proportion
	// to their weights, so the old points are the right weights.
	Evidence []Evidence
}

// Carry returns m with its visit indicators' tallies and evidence taken
// from c.
func Carry(m Measures, c Carried) Measures {
	out := m
	out.Counts = slices.Clone(m.Counts)
	out.Evidence = make([]Evidence, 0, len(m.Evidence)+len(c.Evidence))
	for _, e := range m.Evidence {
		if !IsVisitIndicator(e.Indicator) {
			out.Evidence = append(out.Evidence, e)
		}
	}
	for _, key := range VisitIndicators {
		out.Counts[indicatorIndex[key]] = c.Counts[key]
	}
	for _, e := range c.Evidence {
		e.ix = indicatorIndex[e.Indicator]
		out.Evidence = append(out.Evidence, e)
	}
	sortEvidence(out.Evidence)
	return out
}

// CarryIsStale reports whether a result computed with c cannot be
// explained record by record: a visit indicator that cost nothing in c's
// score (so no evidence was stored) costs points now, because the firm's
// other indicators moved its prior. The firm must then be rescored from
// its records.
func CarryIsStale(r Result, c Carried) bool {
	for _, key := range VisitIndicators {
		ir := r.Dimensions[Indicators[indicatorIndex[key]].Dim].Indicators[key]
		if ir.Lost > 0 && c.Lost[key] == 0 && c.Counts[key].Bad > 0 {
			return true
		}
	}
	return false
}
