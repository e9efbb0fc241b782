package seed

// Live is the part of a loaded fleet that the simulator plays: the
// IoT-connected lifts with their firm, each firm's technicians and the
// inspection agencies. postgres.SeedStore.Live reads it from a database;
// Fleet.Live takes it from a generated fleet (tests, no database).
type Live struct {
	Lifts       []LiveLift
	Technicians map[string][]string // firm USCC -> certificate numbers
	Agencies    []string            // agency USCCs
}

// LiveLift is one lift the simulator plays.
type LiveLift struct {
	Code   string
	Firm   string
	Floors int
}

// Live returns the IoT-connected lifts of the fleet, in fleet order, at
// most limit of them (0 = all).
func (f *Fleet) Live(limit int) Live {
	lv := Live{Technicians: map[string][]string{}}
	for _, l := range f.Lifts {
		if !l.IoT {
			continue
		}
		if limit > 0 && len(lv.Lifts) >= limit {
			break
		}
		lv.Lifts = append(lv.Lifts, LiveLift{Code: l.Code, Firm: l.Firm, Floors: l.Floors})
	}
	for _, t := range f.Technicians {
		lv.Technicians[t.Firm] = append(lv.Technicians[t.Firm], t.Certificate)
	}
	for _, a := range f.Agencies {
		lv.Agencies = append(lv.Agencies, a.USCC)
	}
	return lv
}
