package seed

import (
	"bytes"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"lifttrust/fleet"
)

var testNow = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

func generate(t *testing.T, scale string, seed int64) *Fleet {
	t.Helper()
	f, err := Generate(Options{Scale: scale, Seed: seed, Months: 12, Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		ok   bool
	}{
		{"demo scale with a year is valid", Options{Scale: "demo", Months: 12, Now: testNow}, true},
		{"city scale is valid", Options{Scale: "city", Months: 1, Now: testNow}, true},
		{"an unknown scale is refused", Options{Scale: "town", Months: 12, Now: testNow}, false},
		{"zero months is refused", Options{Scale: "demo", Months: 0, Now: testNow}, false},
		{"more than five years is refused", Options{Scale: "demo", Months: 61, Now: testNow}, false},
		{"a missing end time is refused", Options{Scale: "demo", Months: 12}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.o.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestCityShape(t *testing.T) {
	if testing.Short() {
		t.Skip("draws the whole city (a few seconds)")
	}
	f := generate(t, "city", 1)

	t.Run("it has the 2022 totals", func(t *testing.T) {
		if len(f.Lifts) != 304634 || len(f.UseUnits) != 36792 || len(f.Firms) != 315 {
			t.Errorf("lifts %d, use units %d, firms %d", len(f.Lifts), len(f.UseUnits), len(f.Firms))
		}
	})

	t.Run("the five published districts have their counts", func(t *testing.T) {
		got := map[string]int{}
		for _, l := range f.Lifts {
			got[l.District]++
		}
		for _, d := range fleet.Districts {
			if d.Lifts > 0 && got[d.Code] != d.Lifts {
				t.Errorf("%s: %d lifts, want %d", d.NameEN, got[d.Code], d.Lifts)
			}
			if got[d.Code] == 0 {
				t.Errorf("%s has no lifts", d.NameEN)
			}
		}
	})

	t.Run("about a quarter of lifts are over 15 years old", func(t *testing.T) {
		old := 0
		for _, l := range f.Lifts {
			if l.InstalledOn.Before(testNow.AddDate(-15, 0, 0)) {
				old++
			}
		}
		if share := float64(old) / float64(len(f.Lifts)); math.Abs(share-0.2584) > 0.02 {
			t.Errorf("%.3f over 15 years; want about 0.258", share)
		}
	})

	t.Run("firm sizes are heavy-tailed", func(t *testing.T) {
		sizes := make([]int, len(f.Firms))
		for i, fm := range f.Firms {
			sizes[i] = fm.Lifts
		}
		sort.Sort(sort.Reverse(sort.IntSlice(sizes)))
		under20 := 0
		for _, s := range sizes {
			if s < 20 {
				under20++
			}
		}
		if sizes[0] < 10000 || sizes[2] < 10000 || sizes[len(sizes)/2] > 500 || under20 == 0 {
			t.Errorf("largest %v, median %d, %d firms under 20 lifts", sizes[:3], sizes[len(sizes)/2], under20)
		}
	})

	t.Run("poor and fraudulent firms are in every size band", func(t *testing.T) {
		checkProfileSpread(t, f)
	})
}

func checkProfileSpread(t *testing.T, f *Fleet) {
	t.Helper()
	firms := append([]Firm{}, f.Firms...)
	sort.SliceStable(firms, func(a, b int) bool { return firms[a].Lifts > firms[b].Lifts })
	bad, bandBad := 0, [3]int{}
	for i, fm := range firms {
		if Bad(fm.profile) {
			bad++
			bandBad[i*3/len(firms)]++
		}
	}
	if float64(bad) < 0.1*float64(len(firms)) {
		t.Errorf("%d of %d firms poor or fraudulent; want at least 10 %%", bad, len(firms))
	}
	for b, n := range bandBad {
		if n == 0 {
			t.Errorf("size band %d (of large, middle, small) has no poor or fraudulent firm", b)
		}
	}
	topExcellent := false
	for _, fm := range firms[:max(len(firms)/10, 3)] {
		topExcellent = topExcellent || fm.profile == Excellent
	}
	if !topExcellent {
		t.Error("no excellent firm among the largest")
	}
}

func TestDemoFleet(t *testing.T) {
	f := generate(t, "demo", 1)

	t.Run("every identifier passes the fleet validators", func(t *testing.T) {
		for _, fm := range f.Firms {
			if err := fleet.ValidateUSCC(fm.USCC); err != nil {
				t.Error(err)
			}
		}
		for _, a := range f.Agencies {
			if err := fleet.ValidateUSCC(a.USCC); err != nil {
				t.Error(err)
			}
		}
		for _, u := range f.UseUnits {
			if err := fleet.ValidateUSCC(u.USCC); err != nil {
				t.Error(err)
			}
		}
		seen := map[string]bool{}
		for _, l := range f.Lifts {
			rc, err := fleet.ParseRegistrationCode(l.Code)
			if err != nil {
				t.Error(err)
			} else if rc.Division != l.District {
				t.Errorf("%s registered in %s but stands in %s", l.Code, rc.Division, l.District)
			}
			if err := fleet.ValidateDeviceCode(l.DeviceCode); err != nil {
				t.Error(err)
			}
			if seen[l.Code] || seen[l.DeviceCode] {
				t.Errorf("duplicate code %s / %s", l.Code, l.DeviceCode)
			}
			seen[l.Code], seen[l.DeviceCode] = true, true
		}
	})

	t.Run("addresses read as Shanghai addresses", func(t *testing.T) {
		for _, l := range f.Lifts[:50] {
			d, _ := fleet.DistrictByCode(l.District)
			if !strings.HasPrefix(l.Address, "上海市"+d.NameZH) || !strings.Contains(l.Address, "弄") || !strings.HasSuffix(l.Address, "号") {
				t.Errorf("address %q", l.Address)
			}
		}
	})

	t.Run("public phone numbers are Shanghai landlines, never mobiles", func(t *testing.T) {
		for _, fm := range f.Firms {
			if !strings.HasPrefix(fm.DutyPhone, "021-") || len(fm.DutyPhone) != 12 {
				t.Errorf("duty phone %q", fm.DutyPhone)
			}
		}
		for _, u := range f.UseUnits {
			if !strings.HasPrefix(u.Phone, "021-") || len(u.Phone) != 12 {
				t.Errorf("office phone %q", u.Phone)
			}
		}
	})

	t.Run("a technician looks after 20 to 25 lifts", func(t *testing.T) {
		per := float64(len(f.Contracts)) / float64(len(f.Technicians))
		if per < 15 || per > 26 {
			t.Errorf("%.1f lift contracts per technician", per)
		}
	})

	t.Run("the truth covers every firm", func(t *testing.T) {
		tr := f.Truth()
		for _, fm := range f.Firms {
			if tr.Profiles[fm.USCC] == "" {
				t.Errorf("no profile for %s", fm.USCC)
			}
		}
		checkProfileSpread(t, f)
	})

	t.Run("a poor or fraudulent firm has a veto penalty", func(t *testing.T) {
		veto := false
		for _, p := range f.Penalties {
			k := p.Kind
			if (k == "safety_circuit_bypass" || k == "subcontracting" || k == "accident") && Bad(f.Truth().Profiles[p.Firm]) {
				veto = true
			}
		}
		if !veto {
			t.Error("no veto penalty")
		}
	})

	t.Run("the same seed draws the same fleet and histories", func(t *testing.T) {
		g := generate(t, "demo", 1)
		if diff := cmp.Diff(f.Lifts, g.Lifts, cmp.AllowUnexported(Lift{}, segment{})); diff != "" {
			t.Errorf("lifts differ (-first +second):\n%s", diff)
		}
		for _, i := range []int{0, 777, 1999} {
			if diff := cmp.Diff(f.History(i), g.History(i)); diff != "" {
				t.Errorf("history of lift %d differs:\n%s", i, diff)
			}
		}
	})

	t.Run("another seed draws another fleet", func(t *testing.T) {
		if g := generate(t, "demo", 2); g.Lifts[0].Code == f.Lifts[0].Code && g.Firms[0].USCC == f.Firms[0].USCC {
			t.Error("seed 2 drew the same first lift and firm as seed 1")
		}
	})
}

func TestBehaviourDrivesHistory(t *testing.T) {
	f := generate(t, "demo", 1)
	type stats struct {
		intervals, late, records, fakes, entrapments int
		arrival                                      float64
	}
	by := map[string]*stats{}
	for _, p := range []string{Excellent, Good, Poor, Fraudulent} {
		by[p] = &stats{}
	}
	for i, l := range f.Lifts {
		if len(l.segs) != 1 {
			continue
		}
		s := by[f.Firms[l.segs[0].firm].profile]
		h := f.History(i)
		var last time.Time
		for _, r := range h.Records {
			if r.Lift != l.Code || r.Kind == "repair" || strings.HasSuffix(r.ID, "X") {
				continue
			}
			if !last.IsZero() {
				s.intervals++
				if r.StartedAt.Sub(last) > 16*24*time.Hour {
					s.late++
				}
			}
			last = r.StartedAt
		}
		s.records += len(h.Records)
		s.fakes += len(h.FakeVisits)
		for _, e := range h.Entrapments {
			s.entrapments++
			s.arrival += e.ArrivedAt.Sub(e.OccurredAt).Minutes()
		}
	}
	rate := func(p string) (late, fake, arrival float64) {
		s := by[p]
		return float64(s.late) / float64(s.intervals), float64(s.fakes) / float64(s.records), s.arrival / float64(s.entrapments)
	}
	gl, gf, ga := rate(Good)
	pl, _, pa := rate(Poor)
	_, ff, _ := rate(Fraudulent)
	_, ef, _ := rate(Excellent)

	t.Run("poor firms visit late more often than good ones, which are not perfect", func(t *testing.T) {
		if gl <= 0 || pl < 3*gl {
			t.Errorf("late share: good %.3f, poor %.3f", gl, pl)
		}
	})
	t.Run("poor firms arrive later at entrapments", func(t *testing.T) {
		if pa < ga*1.5 {
			t.Errorf("mean arrival: good %.1f min, poor %.1f min", ga, pa)
		}
	})
	t.Run("only fraudulent firms file fake visits", func(t *testing.T) {
		if ff < 0.1 || gf != 0 || ef != 0 {
			t.Errorf("fake share: fraudulent %.3f, good %.3f, excellent %.3f", ff, gf, ef)
		}
	})
}

func TestTruthCSV(t *testing.T) {
	tr := Truth{Profiles: map[string]string{"91310115M000100Y43": Good, "91350100M000100Y43": Fraudulent},
		FakeVisits: []string{"MR31103101152020010001007", "MR31103101152020010001003X"},
		Quality:    map[string]float64{"91310115M000100Y43": 0.7312, "91350100M000100Y43": 0.41},
		SpotFail:   map[string]float64{"31103101152020010001": 0.0841}}
	var buf bytes.Buffer
	if err := WriteTruthCSV(&buf, tr); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "id,truth\n") {
		t.Errorf("header: %q", buf.String())
	}
	back, err := ReadTruthCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tr.Profiles, back.Profiles); diff != "" {
		t.Errorf("profiles round trip (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"MR31103101152020010001003X", "MR31103101152020010001007"}, back.FakeVisits); diff != "" {
		t.Errorf("fake visits round trip (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(tr.Quality, back.Quality); diff != "" {
		t.Errorf("qualities round trip (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(tr.SpotFail, back.SpotFail); diff != "" {
		t.Errorf("spot-check failure probabilities round trip (-want +got):\n%s", diff)
	}
	if !strings.Contains(mustWrite(t, tr), "31103101152020010001,spot_fail:0.0841\n") {
		t.Errorf("no spot_fail row in:\n%s", mustWrite(t, tr))
	}
	if old, err := ReadTruthCSV(strings.NewReader("uscc,profile\n91350100M000100Y43,poor\n")); err != nil || old.Profiles["91350100M000100Y43"] != Poor {
		t.Errorf("a file of the older shape: %+v, %v", old, err)
	}
	for _, bad := range []string{"", "code,kind\nx,good\n", "id,truth\n91350100M000100Y43,superb\n",
		"id,truth\n91350100M000100Y43,quality:high\n", "id,truth\n31103101152020010001,spot_fail:1.5\n"} {
		if _, err := ReadTruthCSV(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadTruthCSV(%q) accepted", bad)
		}
	}
}

func mustWrite(t *testing.T, tr Truth) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteTruthCSV(&buf, tr); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// Latent quality is continuous, the profiles are labels over its ranges,
// and the planted spot-check failure follows quality and condition.
func TestLatentQualityAndSpotFail(t *testing.T) {
	f := generate(t, "demo", 1)
	tr := f.Truth()
	t.Run("every firm's quality lies in its profile's range", func(t *testing.T) {
		for _, fm := range f.Firms {
			q, rg := tr.Quality[fm.USCC], qualityRanges[fm.profile]
			if q < rg[0] || q >= rg[1] {
				t.Errorf("%s %s: quality %.3f outside %v", fm.USCC, fm.profile, q, rg)
			}
		}
	})
	t.Run("worse firms within a profile neglect more", func(t *testing.T) {
		lo, hi := behaviourFor(Poor, 0.06), behaviourFor(Poor, 0.29)
		if lo.late <= hi.late || lo.inspFail <= hi.inspFail || lo.arrivalMean <= hi.arrivalMean {
			t.Errorf("poor at 0.06 %+v vs at 0.29 %+v", lo, hi)
		}
		if b := behaviourFor(Good, 0.675); math.Abs(b.late-behaviours[Good].late) > 0.001 {
			t.Errorf("a good firm mid-range is late %.4f, the profile %.4f", b.late, behaviours[Good].late)
		}
	})
	t.Run("every lift has a spot-check failure probability, higher for worse firms", func(t *testing.T) {
		sum, n := map[string]float64{}, map[string]int{}
		for i, l := range f.Lifts {
			p, ok := tr.SpotFail[l.Code]
			if !ok || p <= 0 || p >= 1 {
				t.Fatalf("%s: spot_fail %v, %v", l.Code, p, ok)
			}
			pr := f.Firms[l.segs[len(l.segs)-1].firm].profile
			sum[pr] += f.SpotFail(i)
			n[pr]++
		}
		mean := func(p string) float64 { return sum[p] / float64(n[p]) }
		t.Logf("mean spot_fail: excellent %.3f good %.3f fraudulent %.3f poor %.3f", mean(Excellent), mean(Good), mean(Fraudulent), mean(Poor))
		if !(mean(Excellent) < mean(Good) && mean(Good) < mean(Fraudulent) && mean(Fraudulent) < mean(Poor)) {
			t.Error("mean spot_fail does not fall with quality")
		}
	})
}

func TestItemName(t *testing.T) {
	for _, tc := range []struct {
		code, want string
		ok         bool
	}{
		{"A01", "机房、滑轮间环境", true},
		{"D03", "制动器制动能力", true},
		{"A99", "", false},
		{"Z01", "", false},
		{"A1", "", false},
	} {
		t.Run("code "+tc.code, func(t *testing.T) {
			got, ok := ItemName(tc.code)
			if got != tc.want || ok != tc.ok {
				t.Errorf("ItemName(%q) = %q, %v", tc.code, got, ok)
			}
		})
	}
}

// BenchmarkGenerateCity draws the city's reference data (lifts, firms,
// use units, technicians, contracts), without histories.
func BenchmarkGenerateCity(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(Options{Scale: "city", Seed: 1, Months: 12, Now: testNow}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDemo draws the demo fleet and every lift's history, as
// `lifttrust seed --scale demo` does before loading.
func BenchmarkDemo(b *testing.B) {
	for b.Loop() {
		f, err := Generate(Options{Scale: "demo", Seed: 1, Months: 12, Now: testNow})
		if err != nil {
			b.Fatal(err)
		}
		for i := range f.Lifts {
			_ = f.History(i)
		}
	}
}

// BenchmarkHistory draws one lift's year of history.
func BenchmarkHistory(b *testing.B) {
	f, err := Generate(Options{Scale: "demo", Seed: 1, Months: 12, Now: testNow})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		_ = f.History(i % len(f.Lifts))
		i++
	}
}

// doubleBooked returns the ids of the records whose technician is on
// another record at a different site (use unit, address and building)
// overlapping by more than a minute: what scoring's
// technician_double_booked indicator counts.
func doubleBooked(f *Fleet, recs []MaintenanceRecord) map[string]bool {
	site := map[string]string{}
	for _, l := range f.Lifts {
		site[l.Code] = l.UseUnit + "|" + l.Address + "|" + l.Building
	}
	type booking struct {
		tech string
		rec  *MaintenanceRecord
	}
	var bs []booking
	for i := range recs {
		for _, t := range recs[i].Technicians {
			bs = append(bs, booking{t, &recs[i]})
		}
	}
	sort.Slice(bs, func(a, b int) bool {
		if bs[a].tech != bs[b].tech {
			return bs[a].tech < bs[b].tech
		}
		return bs[a].rec.StartedAt.Before(bs[b].rec.StartedAt)
	})
	out := map[string]bool{}
	for a := range bs {
		ra := bs[a].rec
		for b := a + 1; b < len(bs) && bs[b].tech == bs[a].tech && bs[b].rec.StartedAt.Before(ra.EndedAt.Add(-time.Minute)); b++ {
			rb := bs[b].rec
			end := ra.EndedAt
			if rb.EndedAt.Before(end) {
				end = rb.EndedAt
			}
			if site[ra.Lift] != site[rb.Lift] && end.Sub(rb.StartedAt) > time.Minute {
				out[ra.ID], out[rb.ID] = true, true
			}
		}
	}
	return out
}

// TestTechniciansKeepToOneSiteAtATime checks the day plans (plan.go):
// honest firms' technicians are at one site at a time, fraudulent firms'
// planted overlaps stay, and the plans keep the half-monthly rhythm with
// about as many late visits as the behaviour asks for.
func TestTechniciansKeepToOneSiteAtATime(t *testing.T) {
	f := generate(t, "demo", 1)
	profile := map[string]string{}
	for _, fm := range f.Firms {
		profile[fm.USCC] = fm.profile
	}
	var recs []MaintenanceRecord
	fakes := map[string]bool{}
	type gaps struct{ n, regular, late int }
	by := map[string]*gaps{Excellent: {}, Good: {}, Poor: {}, Fraudulent: {}}
	for i, l := range f.Lifts {
		h := f.History(i)
		recs = append(recs, h.Records...)
		for _, id := range h.FakeVisits {
			fakes[id] = true
		}
		if len(l.segs) != 1 {
			continue
		}
		g := by[f.Firms[l.segs[0].firm].profile]
		var last time.Time
		for _, r := range h.Records {
			if r.Lift != l.Code || r.Kind == "repair" || strings.HasSuffix(r.ID, "X") {
				continue
			}
			if !last.IsZero() {
				d := r.StartedAt.Sub(last).Hours() / 24
				g.n++
				if d >= 11 && d <= 15 {
					g.regular++
				}
				if d > 15 && d < 25 { // over 25 days is a missed visit
					g.late++
				}
			}
			last = r.StartedAt
		}
	}
	double := doubleBooked(f, recs)
	total, flagged := map[string]int{}, map[string]int{}
	missed := 0
	for _, r := range recs {
		p := profile[r.Firm]
		total[p]++
		if double[r.ID] {
			flagged[p]++
		}
		if strings.HasSuffix(r.ID, "X") && fakes[r.ID] && !double[r.ID] {
			missed++
		}
	}
	share := func(p string) float64 { return float64(flagged[p]) / float64(total[p]) }
	for _, p := range []string{Excellent, Good, Poor, Fraudulent} {
		g := by[p]
		t.Logf("%-10s %6d records, %5.2f %% double-booked; %5d intervals, %4.1f %% of 11-15 days, %4.1f %% late (behaviour: %.0f %% late, %.1f %% missed)",
			p, total[p], 100*share(p), g.n, 100*float64(g.regular)/float64(g.n), 100*float64(g.late)/float64(g.n), 100*behaviours[p].late, 100*behaviours[p].missed)
	}

	t.Run("honest firms' technicians are at one site at a time", func(t *testing.T) {
		for _, p := range []string{Excellent, Good, Poor} {
			if s := share(p); s >= 0.005 {
				t.Errorf("%s: %.2f %% of records double-booked, want under 0.5 %%", p, 100*s)
			}
		}
	})
	t.Run("fraudulent firms keep their planted overlaps", func(t *testing.T) {
		if missed > 0 || share(Fraudulent) < 0.01 {
			t.Errorf("%d overlap fakes not double-booked; %.2f %% of fraudulent records double-booked", missed, 100*share(Fraudulent))
		}
	})
	t.Run("honest half-monthly intervals are mostly 11 to 15 days, late about as often as the behaviour says", func(t *testing.T) {
		for _, p := range []string{Excellent, Good, Poor} {
			g, b := by[p], behaviours[p]
			regular, late := float64(g.regular)/float64(g.n), float64(g.late)/float64(g.n)
			// A late visit makes one long interval and one short one
			// (back to the plan), a missed one a long one and, if it
			// moved the next late visit, a short one.
			if regular < 1-2*b.late-2*b.missed-0.05 {
				t.Errorf("%s: %.1f %% of intervals within 11-15 days", p, 100*regular)
			}
			// Two late visits in a row keep a 14-day interval, and late
			// visits a full catch-up day cannot take are missed: the
			// share of late intervals falls below the behaviour's.
			if late < b.late/2 || late > b.late*1.5 {
				t.Errorf("%s: %.1f %% of intervals late, behaviour says %.0f %%", p, 100*late, 100*b.late)
			}
		}
	})
}

// Two faults of one day whose repairs are pushed to the same evening slot
// make one repair visit, not two records (and two inspection episodes) at
// the same time on the same lift: a city load once failed on that key.
func TestRepairsOfOneLiftDoNotOverlap(t *testing.T) {
	f := generate(t, "demo", 1)
	li := -1
	for i := range f.Lifts {
		if f.Lifts[i].IoT {
			li = i
			break
		}
	}
	h := History{}
	l := &f.Lifts[li]
	g := histGen{f: f, l: l, r: rand.New(rand.NewPCG(1, 2)), h: &h, p: newPlanner(f), now: f.Opts.Now, start: f.Start}
	at := f.Opts.Now.AddDate(0, -2, 0)
	g.repair(0, at)
	g.repair(1, at)
	if len(h.Records) != 1 || len(h.Episodes) != 1 {
		t.Fatalf("two repairs asked for at the same time gave %d records and %d episodes, want 1 and 1", len(h.Records), len(h.Episodes))
	}
}
