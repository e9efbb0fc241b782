package scoring

import "time"

// Dimension groups indicators; its points are the sum of its indicators'.
type Dimension string

// The five dimensions and the deductions, in display order.
const (
	DimTimeliness   Dimension = "timeliness"
	DimAuthenticity Dimension = "authenticity"
	DimInspection   Dimension = "inspection"
	DimReliability  Dimension = "reliability"
	DimEmergency    Dimension = "emergency"
	DimDeductions   Dimension = "deductions"
)

// Dimensions lists the dimensions in display order.
var Dimensions = []Dimension{DimTimeliness, DimAuthenticity, DimInspection, DimReliability, DimEmergency, DimDeductions}

// rateKind says how an indicator's rate is formed and shrunk.
type rateKind int

const (
	// proportion: bad units / exposure units, each in [0, 1] (binomial).
	proportion rateKind = iota
	// poisson: events per unit of exposure (lift-days).
	poisson
	// ratio: observed / expected events; the city's ratio is 1 by
	// construction, so the rate is relative to lifts of the same age band
	// and category.
	ratio
	// mean: a mean of durations in minutes (bad = sum, exposure = count).
	mean
)

// Indicator is one measured quantity and the points it can cost.
//
// loss = Weight × clamp((shrunk − Good) / (Bad − Good), 0, 1)
//
// so a firm at or better than Good loses nothing and one at or worse than
// Bad loses the whole weight; Good and Bad are in the unit of Scale × rate.
type Indicator struct {
	Key       string
	Dim       Dimension
	Kind      rateKind
	Weight    float64
	Good, Bad float64 // in display units (rate × Scale)
	Scale     float64 // display unit: e.g. 365000 = per 1,000 lift-years
	Unit      string  // display unit name
	// Prior is the weight m of the prior in exposure units: how much of
	// its own record a firm needs before that record counts as much as
	// the prior (about what a 5-lift firm gathers in a year). See
	// docs/scoring.md, "Fairness and shrinkage".
	Prior float64
	// PriorInEvents says Prior is counted in expected bad units at the
	// firm's own target instead: m = Prior ÷ target, a gamma prior of
	// shape Prior around the target (model v3.2, spot checks: a firm
	// expected to fail 0.5 % of checks needs 200 checks to outweigh its
	// prior, one expected to fail 10 % needs 10). See docs/scoring.md,
	// "Model v3: spot checks".
	PriorInEvents bool
}

// Indicator keys (stable: the portal translates them and appeals name them).
const (
	IndLateVisits        = "late_half_monthly"
	IndPeriodicItems     = "periodic_items_missing"
	IndUncorroborated    = "visit_uncorroborated"
	IndShortVisits       = "visit_short"
	IndDoubleBooked      = "technician_double_booked"
	IndNotCountersigned  = "not_countersigned"
	IndOverloaded        = "technician_overloaded"
	IndFirstPassFail     = "inspection_not_first_pass"
	IndInspectionFail    = "inspection_failed"
	IndInspectionOverdue = "inspection_overdue"
	IndSpotCheckFailed   = "spot_check_failed"
	IndFaultRatio        = "fault_ratio"
	IndRepeatFaults      = "repeat_faults"
	IndEntrapmentRatio   = "entrapment_ratio"
	IndLateArrival       = "late_arrival"
	IndArrivalTime       = "mean_arrival_minutes"
	IndRescueTime        = "mean_rescue_minutes"
	IndComplaintsLate    = "complaints_late"
	IndPenalties         = "penalties"
)

// Indicators is model v3: v2 plus the regulator's spot checks in the
// inspection dimension, with five points moved to them from indicators
// that observe the same thing less directly. Weights sum to 100 over the
// five dimensions, plus capped deductions. docs/scoring.md gives the
// reason for every number.
var Indicators = []Indicator{
	{Key: IndLateVisits, Dim: DimTimeliness, Kind: proportion, Weight: 16, Good: 0.5, Bad: 10, Scale: 100, Unit: "% of lift-days overdue", Prior: 1825},
	{Key: IndPeriodicItems, Dim: DimTimeliness, Kind: proportion, Weight: 8, Good: 5, Bad: 50, Scale: 100, Unit: "% of due items missing", Prior: 8},

	{Key: IndUncorroborated, Dim: DimAuthenticity, Kind: proportion, Weight: 10, Good: 2, Bad: 20, Scale: 100, Unit: "% of IoT visits without 检修 mode", Prior: 30},
	{Key: IndShortVisits, Dim: DimAuthenticity, Kind: proportion, Weight: 6, Good: 1, Bad: 15, Scale: 100, Unit: "% of visits too short", Prior: 30},
	{Key: IndDoubleBooked, Dim: DimAuthenticity, Kind: proportion, Weight: 4, Good: 0.2, Bad: 5, Scale: 100, Unit: "% of visits overlapping elsewhere", Prior: 30},
	{Key: IndNotCountersigned, Dim: DimAuthenticity, Kind: proportion, Weight: 2, Good: 2, Bad: 30, Scale: 100, Unit: "% of visits not countersigned", Prior: 30},
	{Key: IndOverloaded, Dim: DimAuthenticity, Kind: proportion, Weight: 2, Good: 1, Bad: 30, Scale: 100, Unit: "% of visits by overloaded technicians", Prior: 30},

	{Key: IndFirstPassFail, Dim: DimInspection, Kind: proportion, Weight: 6, Good: 5, Bad: 30, Scale: 100, Unit: "% of periodic inspections not passed first time", Prior: 5},
	{Key: IndInspectionFail, Dim: DimInspection, Kind: proportion, Weight: 3, Good: 0, Bad: 10, Scale: 100, Unit: "% of periodic inspections failed", Prior: 5},
	{Key: IndInspectionOverdue, Dim: DimInspection, Kind: proportion, Weight: 3, Good: 0, Bad: 5, Scale: 100, Unit: "% of lift-days with inspection overdue", Prior: 1825},
	{Key: IndSpotCheckFailed, Dim: DimInspection, Kind: proportion, Weight: 5, Good: 2, Bad: 20, Scale: 100, Unit: "% of spot-checked lifts failed", Prior: 1, PriorInEvents: true},

	{Key: IndFaultRatio, Dim: DimReliability, Kind: ratio, Weight: 10, Good: 0.8, Bad: 2.5, Scale: 1, Unit: "× expected faults", Prior: 3},
	{Key: IndRepeatFaults, Dim: DimReliability, Kind: poisson, Weight: 4, Good: 0.02, Bad: 0.3, Scale: 365, Unit: "repeat faults per lift-year", Prior: 1825},
	{Key: IndEntrapmentRatio, Dim: DimReliability, Kind: ratio, Weight: 6, Good: 0.8, Bad: 2.5, Scale: 1, Unit: "× expected entrapments", Prior: 3},

	{Key: IndLateArrival, Dim: DimEmergency, Kind: proportion, Weight: 9, Good: 0, Bad: 20, Scale: 100, Unit: "% of entrapments reached late", Prior: 5},
	{Key: IndArrivalTime, Dim: DimEmergency, Kind: mean, Weight: 3, Good: 12, Bad: 30, Scale: 1, Unit: "minutes", Prior: 5},
	{Key: IndRescueTime, Dim: DimEmergency, Kind: mean, Weight: 3, Good: 5, Bad: 20, Scale: 1, Unit: "minutes", Prior: 5},

	{Key: IndComplaintsLate, Dim: DimDeductions, Kind: poisson, Weight: 5, Good: 0, Bad: 10, Scale: 365000, Unit: "late complaints per 1,000 lift-years", Prior: 3650},
	{Key: IndPenalties, Dim: DimDeductions, Kind: poisson, Weight: 10, Good: 0, Bad: 20, Scale: 365000, Unit: "penalties per 1,000 lift-years", Prior: 3650},
}

// IndicatorsV3 is model v3 and v3.1: the spot-check prior weighs a
// fixed 30 checks.
var IndicatorsV3 = func() []Indicator {
	t := append([]Indicator(nil), Indicators...)
	for i := range t {
		if t[i].Key == IndSpotCheckFailed {
			t[i].Prior, t[i].PriorInEvents = 30, false
		}
	}
	return t
}()

// IndicatorsV2 is model v2, kept so that runs stored under it can be
// explained with the weights they used (see ModelIndicators).
var IndicatorsV2 = []Indicator{
	{Key: IndLateVisits, Dim: DimTimeliness, Kind: proportion, Weight: 17, Good: 0.5, Bad: 10, Scale: 100, Unit: "% of lift-days overdue", Prior: 1825},
	{Key: IndPeriodicItems, Dim: DimTimeliness, Kind: proportion, Weight: 8, Good: 5, Bad: 50, Scale: 100, Unit: "% of due items missing", Prior: 8},

	{Key: IndUncorroborated, Dim: DimAuthenticity, Kind: proportion, Weight: 10, Good: 2, Bad: 20, Scale: 100, Unit: "% of IoT visits without 检修 mode", Prior: 30},
	{Key: IndShortVisits, Dim: DimAuthenticity, Kind: proportion, Weight: 6, Good: 1, Bad: 15, Scale: 100, Unit: "% of visits too short", Prior: 30},
	{Key: IndDoubleBooked, Dim: DimAuthenticity, Kind: proportion, Weight: 4, Good: 0.2, Bad: 5, Scale: 100, Unit: "% of visits overlapping elsewhere", Prior: 30},
	{Key: IndNotCountersigned, Dim: DimAuthenticity, Kind: proportion, Weight: 3, Good: 2, Bad: 30, Scale: 100, Unit: "% of visits not countersigned", Prior: 30},
	{Key: IndOverloaded, Dim: DimAuthenticity, Kind: proportion, Weight: 2, Good: 1, Bad: 30, Scale: 100, Unit: "% of visits by overloaded technicians", Prior: 30},

	{Key: IndFirstPassFail, Dim: DimInspection, Kind: proportion, Weight: 8, Good: 5, Bad: 30, Scale: 100, Unit: "% of periodic inspections not passed first time", Prior: 5},
	{Key: IndInspectionFail, Dim: DimInspection, Kind: proportion, Weight: 4, Good: 0, Bad: 10, Scale: 100, Unit: "% of periodic inspections failed", Prior: 5},
	{Key: IndInspectionOverdue, Dim: DimInspection, Kind: proportion, Weight: 3, Good: 0, Bad: 5, Scale: 100, Unit: "% of lift-days with inspection overdue", Prior: 1825},

	{Key: IndFaultRatio, Dim: DimReliability, Kind: ratio, Weight: 10, Good: 0.8, Bad: 2.5, Scale: 1, Unit: "× expected faults", Prior: 3},
	{Key: IndRepeatFaults, Dim: DimReliability, Kind: poisson, Weight: 4, Good: 0.02, Bad: 0.3, Scale: 365, Unit: "repeat faults per lift-year", Prior: 1825},
	{Key: IndEntrapmentRatio, Dim: DimReliability, Kind: ratio, Weight: 6, Good: 0.8, Bad: 2.5, Scale: 1, Unit: "× expected entrapments", Prior: 3},

	{Key: IndLateArrival, Dim: DimEmergency, Kind: proportion, Weight: 9, Good: 0, Bad: 20, Scale: 100, Unit: "% of entrapments reached late", Prior: 5},
	{Key: IndArrivalTime, Dim: DimEmergency, Kind: mean, Weight: 3, Good: 12, Bad: 30, Scale: 1, Unit: "minutes", Prior: 5},
	{Key: IndRescueTime, Dim: DimEmergency, Kind: mean, Weight: 3, Good: 5, Bad: 20, Scale: 1, Unit: "minutes", Prior: 5},

	{Key: IndComplaintsLate, Dim: DimDeductions, Kind: poisson, Weight: 5, Good: 0, Bad: 10, Scale: 365000, Unit: "late complaints per 1,000 lift-years", Prior: 3650},
	{Key: IndPenalties, Dim: DimDeductions, Kind: poisson, Weight: 10, Good: 0, Bad: 20, Scale: 365000, Unit: "penalties per 1,000 lift-years", Prior: 3650},
}

// ModelIndicators returns the indicator table of a model version; ok is
// false for a version this binary does not know.
func ModelIndicators(version string) ([]Indicator, bool) {
	switch version {
	case ModelVersion, "v3.2", "v3.3":
		// v3.3 changed only the likely range (Prior.Spread), v3.4 how the
		// firm factor moves the spot-check target (Prior.Power), both
		// stored with every run's baseline, not the table.
		return Indicators, true
	case "v3", "v3.1":
		// v3.1 changed only how the baseline centres the spot-check
		// prior (stored with every run), v3.2 the prior's weight.
		return IndicatorsV3, true
	case "v2":
		return IndicatorsV2, true
	}
	return nil, false
}

var indicatorIndex = func() map[string]int {
	m := make(map[string]int, len(Indicators))
	for i, ind := range Indicators {
		m[ind.Key] = i
	}
	return m
}()

// Config holds the model's operational settings.
type Config struct {
	// ArrivalLimit is the entrapment arrival deadline (30 min in a city).
	ArrivalLimit time.Duration
}

// DefaultConfig is the Shanghai setting.
func DefaultConfig() Config { return Config{ArrivalLimit: 30 * time.Minute} }

// Rules that are facts of the domain rather than tunable weights.
const (
	routineInterval   = 15 * Day    // TSG T5002-2017: half-monthly
	anchorLookback    = 30 * Day    // visits read before the period to anchor the first interval
	overlapTolerance  = time.Minute // clock skew between two technicians' phones
	overloadLifts     = 80          // distinct lifts on a technician's records in a month: a two-person team covers 40–50, so one person on 80+ is implausible
	repeatWindow      = 30 * Day
	repeatThreshold   = 3 // the third fault within 30 days is a repeat
	complaintWorkDays = 3
	provisionalLifts  = 5
	provisionalDays   = 90
)

// minDuration is the shortest plausible visit of each kind: a half-monthly
// visit covers some 30 items of TSG T5002 and cannot be done in minutes.
var minDuration = map[string]time.Duration{
	"half_monthly": 20 * time.Minute,
	"quarterly":    40 * time.Minute,
	"half_yearly":  60 * time.Minute,
	"yearly":       90 * time.Minute,
}

// Grade thresholds on the final score.
const (
	GradeA = 85.0
	GradeB = 70.0
	GradeC = 55.0
)

// GradeFor maps a score to a grade; a veto is always D.
func GradeFor(score float64, vetoed bool) string {
	switch {
	case vetoed:
		return "D"
	case score >= GradeA:
		return "A"
	case score >= GradeB:
		return "B"
	case score >= GradeC:
		return "C"
	}
	return "D"
}
