package scoring

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"lifttrust/fleet"
)

func TestCarry(t *testing.T) {
	at := time.Date(2025, 3, 1, 9, 0, 0, 0, Shanghai)
	ev := func(ind, id string, d int) Evidence {
		return Evidence{Indicator: ind, ix: indicatorIndex[ind], Kind: KindMaintenance, ID: id, At: at.AddDate(0, 0, d), Weight: 1}
	}
	m := measures("F", 100, 0.01, 1)
	m.Evidence = []Evidence{ev(IndLateVisits, "fresh-late", 1), ev(IndFaultRatio, "f1", 2), ev(IndEntrapmentRatio, "e1", 0)}
	sortEvidence(m.Evidence)
	c := Carried{
		Parts:  Visits,
		Counts: map[string]Count{IndLateVisits: {Bad: 7, Exposure: 36500}, IndShortVisits: {Bad: 2, Exposure: 2400}},
		Evidence: []Evidence{
			{Indicator: IndShortVisits, Kind: KindMaintenance, ID: "s1", At: at, Weight: 0.5},
			{Indicator: IndLateVisits, Kind: KindFirm, ID: "F", Weight: 3, Detail: map[string]any{"more_records": 12}},
			{Indicator: IndLateVisits, Kind: KindMaintenance, ID: "old-late", At: at, Weight: 1.5},
		},
	}
	got := Carry(m, c)
	if got.Counts[indicatorIndex[IndLateVisits]] != c.Counts[IndLateVisits] || got.Counts[indicatorIndex[IndShortVisits]] != c.Counts[IndShortVisits] {
		t.Errorf("visit counts not carried: %+v", got.Counts[:2])
	}
	if got.Counts[indicatorIndex[IndFaultRatio]] != m.Counts[indicatorIndex[IndFaultRatio]] {
		t.Error("a non-visit count was replaced")
	}
	var ids []string
	for _, e := range got.Evidence {
		ids = append(ids, e.ID)
	}
	// Visit evidence from the carry only (the fresh one is dropped), the
	// firm-wide row last in its indicator, then the rest in order.
	want := []string{"old-late", "F", "s1", "f1", "e1"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("evidence %v, want %v", ids, want)
	}
	if !slices.IsSortedFunc(got.Evidence, func(a, b Evidence) int { return a.ix - b.ix }) {
		t.Error("evidence not in indicator order")
	}
	if m.Evidence[0].ID != "fresh-late" || m.Counts[0].Bad == 7 {
		t.Error("Carry changed its input")
	}
}

func TestCarryIsStale(t *testing.T) {
	r := Result{Dimensions: map[Dimension]DimensionResult{DimAuthenticity: {Indicators: map[string]IndicatorResult{IndShortVisits: {Lost: 0.4}}}}}
	fresh := Carried{Parts: Visits, Counts: map[string]Count{IndShortVisits: {Bad: 3}}, Lost: map[string]float64{IndShortVisits: 0}}
	if !CarryIsStale(r, fresh) {
		t.Error("a carried indicator that cost nothing (no evidence stored) and costs now must force a full read")
	}
	fresh.Lost[IndShortVisits] = 0.3
	if CarryIsStale(r, fresh) {
		t.Error("evidence stored for the indicator: the carry is good")
	}
}

func TestParts(t *testing.T) {
	if got := (Inspections | Entrapments).String(); got != "inspections+entrapments" {
		t.Errorf("String = %q", got)
	}
	for _, ps := range []Parts{0, Visits, EventParts, AllParts} {
		back, err := ParseParts(ps.String())
		if err != nil || back != ps {
			t.Errorf("ParseParts(%q) = %v, %v; want %v", ps.String(), back, err, ps)
		}
	}
	if _, err := ParseParts("visits+gossip"); err == nil {
		t.Error("an unknown part was accepted")
	}
	n := 0
	for _, p := range []Parts{Visits, Inspections, Faults, Entrapments} {
		n += len(p.Indicators())
	}
	if n != len(AllParts.Indicators()) || n != len(Indicators)-3 {
		t.Errorf("parts cover %d indicators; want every indicator but the always-read ones (two deductions, spot checks), each once", n)
	}
	if PartOf(KindLift) != Visits || PartOf(KindEvent) != Faults || PartOf(KindPenalty) != 0 || PartOf(KindSpotCheck) != 0 {
		t.Error("PartOf maps record kinds wrongly")
	}
}

func TestParseScoreNeed(t *testing.T) {
	const firm = "91310115MA0000A01X"
	u := firm[:17] + string(fleet.USCCCheckChar(firm[:17]))
	tests := []struct {
		entry string
		want  Parts
		ok    bool
	}{
		{u, EventParts, true},
		{" " + u + " ", EventParts, true},
		{u + ":entrapments", Entrapments, true},
		{u + ":inspections+faults", Inspections | Faults, true},
		{u + ":", 0, true}, // a complaint or a penalty: only the always-read records
		{u + ":rumours", 0, false},
		{"91310115MA0000A01Z", 0, false},
	}
	for _, tt := range tests {
		n, err := ParseScoreNeed(tt.entry)
		if (err == nil) != tt.ok || (tt.ok && (n.USCC != u || n.Read != tt.want)) {
			t.Errorf("ParseScoreNeed(%q) = %+v, %v; want %v, ok %v", tt.entry, n, err, tt.want, tt.ok)
		}
		if tt.ok {
			if back, err := ParseScoreNeed(n.String()); err != nil || back != n {
				t.Errorf("%+v does not survive String: %q", n, n.String())
			}
		}
	}
}
