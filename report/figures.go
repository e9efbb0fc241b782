// Package report is the yearly lift safety status report (电梯安全状况报告):
// the figures, the "what changed" sentences computed from two years of
// figures, server-side SVG charts with a table beside each, and the HTML
// rendering (Chinese and English, print CSS for A4). It is pure: the SQL
// that fills Figures lives in postgres/report.go (one query per key, each
// documented in docs/report.md) and the PDF is printed by package pdfprint.
//
// The same Figures give the same bytes: maps are written in sorted order
// and nothing but the generation timestamp varies between two runs.
package report

import (
	"encoding/json"
	"math"
	"sort"
	"time"
)

// Age bands used for lifts and entrapments, by the lift's age at the end of
// the year (the bands of the scoring model, docs/scoring.md).
var AgeBands = []string{"0-5", "5-10", "10-15", "15-20", "20+"}

// Causes of an entrapment as recorded; "unknown" where none was recorded.
var Causes = []string{"equipment", "maintenance", "misuse", "external", "unknown"}

// Grades of maintenance firms.
var Grades = []string{"A", "B", "C", "D"}

// Figures is every figure in the report; the JSON keys are documented in
// docs/report.md, each with the one query that defines it. Shares are
// fractions (0.2584 for 25.84 %). A figure with no data to compute it from
// (a mean over no entrapments) is null, never a made-up zero.
type Figures struct {
	Year int `json:"year"`

	LiftsInUse             int64            `json:"lifts_in_use"`
	LiftsInUsePreviousYear int64            `json:"lifts_in_use_previous_year"`
	LiftsByDistrict        map[string]int64 `json:"lifts_by_district"`
	TopFiveDistrictsShare  *float64         `json:"top_five_districts_share"`
	LiftsByCategory        map[string]int64 `json:"lifts_by_category"`
	LiftsByAgeBand         map[string]int64 `json:"lifts_by_age_band"`
	ShareOver15Years       *float64         `json:"share_over_15_years"`
	// The schema records no building use, so the regulator's "residential
	// lifts over 20 years" is reported for passenger lifts (category 3110).
	SharePassengerLiftsOver20Years *float64 `json:"share_passenger_lifts_over_20_years"`

	UseUnits         int64 `json:"use_units"`
	MaintenanceFirms int64 `json:"maintenance_firms"`

	MaintenanceVisits        int64    `json:"maintenance_visits"`
	RoutineVisits            int64    `json:"routine_visits"`
	ShareRoutineVisitsOnTime *float64 `json:"share_routine_visits_on_time"`

	PeriodicInspections int64    `json:"periodic_inspections"`
	FirstPassRate       *float64 `json:"first_pass_rate"`

	Faults            int64       `json:"faults"`
	FaultsPer10kLifts *float64    `json:"faults_per_10k_lifts"`
	TopFaultCodes     []CodeCount `json:"top_fault_codes"`

	Entrapments                  int64            `json:"entrapments"`
	EntrapmentsPer10kLiftsPerDay *float64         `json:"entrapments_per_10k_lifts_per_day"`
	EntrapmentsByCause           map[string]int64 `json:"entrapments_by_cause"`
	EntrapmentsByAgeBand         map[string]int64 `json:"entrapments_by_age_band"`
	EntrapmentsByHour            []int64          `json:"entrapments_by_hour"`
	MeanArrivalMinutes           *float64         `json:"mean_arrival_minutes"`
	MeanRescueMinutes            *float64         `json:"mean_rescue_minutes"`
	ShareArrivedWithin30Minutes  *float64         `json:"share_arrived_within_30_minutes"`

	FirmsByGrade map[string]int64 `json:"firms_by_grade"`
	FirmsGradeA  []Firm           `json:"firms_grade_a"`
	FirmsGradeD  []Firm           `json:"firms_grade_d"`

	PassengerReports                   int64    `json:"passenger_reports"`
	ShareReportsAnsweredIn3WorkingDays *float64 `json:"share_reports_answered_in_3_working_days"`

	// SpotChecks is present only when the spot-check table exists and holds
	// checks in the year (see docs/report.md).
	SpotChecks *SpotChecks `json:"spot_checks,omitempty"`
}

// CodeCount is a fault code and how often it was raised.
type CodeCount struct {
	Code  int   `json:"code"`
	Count int64 `json:"count"`
}

// Firm names a maintenance firm in the published grade lists.
type Firm struct {
	USCC   string  `json:"uscc"`
	Name   string  `json:"name"`
	NameEN string  `json:"name_en"`
	Score  float64 `json:"score"`
}

// SpotChecks are the regulator's spot-check results (双随机、一公开) in the year.
type SpotChecks struct {
	Checks   int64    `json:"checks"`
	PassRate *float64 `json:"pass_rate"`
}

// Document is what report.json holds: the figures of the year, the
// sentences of "what changed", and when it was generated (the one field
// that differs between two runs on the same data).
type Document struct {
	GeneratedAt string   `json:"generated_at"`
	Figures     *Figures `json:"figures"`
	Changes     []Change `json:"changes"`
}

// JSON encodes the document, indented, with a final newline. Map keys come
// out sorted (encoding/json), so the bytes depend only on the figures.
func (d Document) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// NewDocument builds the document for cur against the previous year's
// figures (prev may be nil).
func NewDocument(cur, prev *Figures, generated time.Time) Document {
	return Document{GeneratedAt: generated.UTC().Format(time.RFC3339), Figures: cur, Changes: WhatChanged(cur, prev)}
}

// Growth is the relative change of lifts in use over the previous year, or
// nil when there were none then.
func (f *Figures) Growth() *float64 {
	if f.LiftsInUsePreviousYear == 0 {
		return nil
	}
	g := float64(f.LiftsInUse-f.LiftsInUsePreviousYear) / float64(f.LiftsInUsePreviousYear)
	return &g
}

// Normalize rounds every fraction to 6 decimals and every rate and mean to
// 4, and fills missing map entries with zeros, so the bytes of the JSON do
// not depend on floating-point noise in the database's arithmetic.
func (f *Figures) Normalize() {
	for _, p := range []**float64{&f.TopFiveDistrictsShare, &f.ShareOver15Years, &f.SharePassengerLiftsOver20Years,
		&f.ShareRoutineVisitsOnTime, &f.FirstPassRate, &f.ShareArrivedWithin30Minutes, &f.ShareReportsAnsweredIn3WorkingDays} {
		roundPtr(*p, 6)
	}
	for _, p := range []**float64{&f.FaultsPer10kLifts, &f.EntrapmentsPer10kLiftsPerDay, &f.MeanArrivalMinutes, &f.MeanRescueMinutes} {
		roundPtr(*p, 4)
	}
	if f.SpotChecks != nil {
		roundPtr(f.SpotChecks.PassRate, 6)
	}
	f.LiftsByAgeBand = fill(f.LiftsByAgeBand, AgeBands)
	f.EntrapmentsByAgeBand = fill(f.EntrapmentsByAgeBand, AgeBands)
	f.EntrapmentsByCause = fill(f.EntrapmentsByCause, Causes)
	f.FirmsByGrade = fill(f.FirmsByGrade, Grades)
	if f.LiftsByDistrict == nil {
		f.LiftsByDistrict = map[string]int64{}
	}
	if f.LiftsByCategory == nil {
		f.LiftsByCategory = map[string]int64{}
	}
	if len(f.EntrapmentsByHour) != 24 {
		h := make([]int64, 24)
		copy(h, f.EntrapmentsByHour)
		f.EntrapmentsByHour = h
	}
	if f.TopFaultCodes == nil {
		f.TopFaultCodes = []CodeCount{}
	}
	for _, l := range []*[]Firm{&f.FirmsGradeA, &f.FirmsGradeD} {
		if *l == nil {
			*l = []Firm{}
		}
		sort.SliceStable(*l, func(i, j int) bool {
			a, b := (*l)[i], (*l)[j]
			if a.Score != b.Score {
				return a.Score > b.Score
			}
			return a.USCC < b.USCC
		})
	}
}

func roundPtr(p *float64, places int) {
	if p == nil {
		return
	}
	s := math.Pow10(places)
	*p = math.Round(*p*s) / s
}

func fill(m map[string]int64, keys []string) map[string]int64 {
	if m == nil {
		m = map[string]int64{}
	}
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			m[k] = 0
		}
	}
	return m
}
