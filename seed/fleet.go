package seed

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"lifttrust/fleet"
)

// Profiles, as written in the truth file.
const (
	Excellent  = "excellent"
	Good       = "good"
	Poor       = "poor"
	Fraudulent = "fraudulent"
)

// Firm is a maintenance company (维保单位).
type Firm struct {
	USCC, Name, NameEN, LicenceNo string
	LicenceExpires                time.Time
	DutyPhone, Address, District  string
	SeriousViolator               bool
	Lifts                         int // lifts under contract at Now
	profile                       string
	quality                       float64   // latent, in [0, 1]: see quality.go
	beh                           behaviour // the profile's behaviour scaled to quality
	techs                         []int     // indices into Fleet.Technicians, in pairs 2k, 2k+1
	roster                        []member  // the firm's lifts by position: see placeCrews
}

// Agency is an inspection agency (检验机构).
type Agency struct{ USCC, Name, NameEN string }

// UseUnit is the property manager responsible for lifts (使用单位).
type UseUnit struct {
	USCC, Name, District, Address, Phone, SafetyManager string
	lifts                                               int
	first                                               int // index of its first lift, until lifts are sorted
	firm                                                int
}

// Technician is a certified maintenance technician of a firm.
type Technician struct {
	Certificate, Firm, NameMasked string
	Certified                     bool
	CertExpires                   time.Time
}

// Lift is one lift (elevator, escalator, moving walk or dumbwaiter).
type Lift struct {
	Code, DeviceCode, District, Address, Building, LiftNo string
	InstalledOn                                           time.Time
	Floors                                                int
	RatedSpeed                                            float64
	RatedLoad                                             int
	UseUnit, Firm                                         string
	IoT                                                   bool

	index   int
	age     float64 // years at Now
	agency  int
	segs    []segment
	wear    float64 // latent condition: factor on fault rates (quality.go)
	partner int     // another site of the same firm, for overlap fakes; -1 none
	site    int64   // use unit index << 20 | building: one per site, in site order
}

// segment is a period in which one firm maintained a lift.
type segment struct {
	from, to time.Time // to is Now for the current contract
	firm     int
	pos      int // the lift's position among the firm's lifts: see placeCrews
	open     bool
}

// pos is the lift's position among firm fi's lifts.
func (l *Lift) pos(fi int) int {
	for _, s := range l.segs {
		if s.firm == fi {
			return s.pos
		}
	}
	return l.segs[0].pos
}

// Contract is a row of lift_contracts; EndsOn is zero while it runs.
type Contract struct {
	Lift, Firm       string
	StartsOn, EndsOn time.Time
}

// Penalty is an administrative penalty on a firm.
type Penalty struct {
	ID, Firm, Lift, Kind, Description string
	DecidedOn                         time.Time
	AmountYuan                        float64
}

// Fleet is a generated city: the reference data, and per-lift histories
// drawn on demand by History.
type Fleet struct {
	Opts        Options
	Start       time.Time // Now minus Months
	Firms       []Firm
	Agencies    []Agency
	UseUnits    []UseUnit
	Technicians []Technician
	Lifts       []Lift
	Contracts   []Contract
	Penalties   []Penalty
	size        size
}

// shanghai is China Standard Time; visits happen in local working hours.
var shanghai = time.FixedZone("CST", 8*3600)

// Generate draws the fleet for opts. It is deterministic and pure.
func Generate(opts Options) (*Fleet, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	sz := sizes[opts.Scale]
	f := &Fleet{Opts: opts, size: sz, Start: opts.Now.AddDate(0, -opts.Months, 0)}
	r := rand.New(rand.NewPCG(uint64(opts.Seed), 0x5EED))
	f.genFirms(r)
	f.genAgencies()
	f.genUseUnits(r)
	f.assignFirms(r)
	f.genLifts(r)
	f.genTechnicians(r)
	f.placeCrews()
	f.genContracts()
	f.genPenalties(r)
	f.drawQualities()
	f.drawWear()
	return f, nil
}

// usccFor builds a valid USCC: a registration-type prefix ("91" company,
// "12" public institution), a Shanghai division, a nine-character
// organisation code made unique by kind and index, and the check character.
func usccFor(r *rand.Rand, prefix, division string, kind byte, index int) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString(division)
	b.WriteByte(kind)
	n := index
	for i := 0; i < 5; i++ { // base 31, five places: unique up to 28 million
		b.WriteByte(usccAlphabet[n%31])
		n /= 31
	}
	for i := 0; i < 3; i++ {
		b.WriteByte(usccAlphabet[r.IntN(31)])
	}
	s := b.String()
	return s + string(fleet.USCCCheckChar(s))
}

const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// firmSizes returns target lift counts per firm rank: Zipf-like weights for
// the bulk (a few firms with tens of thousands of lifts at city scale) and a
// tail of small firms of 5 to 19 lifts.
func firmSizes(r *rand.Rand, firms, lifts int) []int {
	small := max(firms/12, 2)
	sizes := make([]int, firms)
	rest := lifts
	for i := firms - small; i < firms; i++ {
		sizes[i] = 5 + r.IntN(15)
		rest -= sizes[i]
	}
	w := make([]float64, firms-small)
	for i := range w {
		w[i] = 1 / math.Pow(float64(i)+2.5, 1.15)
	}
	copy(sizes, apportion(rest, w))
	return sizes
}

// apportion splits total by weights with the largest-remainder method, so
// that the parts add up exactly.
func apportion(total int, w []float64) []int {
	var sum float64
	for _, x := range w {
		sum += x
	}
	out := make([]int, len(w))
	type rem struct {
		i int
		f float64
	}
	rems := make([]rem, len(w))
	given := 0
	for i, x := range w {
		exact := float64(total) * x / sum
		out[i] = int(exact)
		given += out[i]
		rems[i] = rem{i, exact - float64(out[i])}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].f > rems[b].f })
	for k := 0; given < total; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	return out
}

// profilesByRank spreads profiles over size bands: every band of ten firms
// (five at demo scale) has one poor or fraudulent firm at least and one
// excellent one, so size predicts nothing; extra poor and fraudulent firms
// are scattered at random.
func profilesByRank(r *rand.Rand, firms int) []string {
	band := 10
	if firms < 100 {
		band = 5
	}
	out := make([]string, firms)
	bad := 0
	for start := 0; start < firms; start += band {
		end := min(start+band, firms)
		p := make([]string, end-start)
		for i := range p {
			switch {
			case i == 0:
				p[i] = Excellent
			case i == 1:
				if bad%2 == 0 {
					p[i] = Poor
				} else {
					p[i] = Fraudulent
				}
				bad++
			case r.Float64() < 0.07:
				p[i] = Poor
			case r.Float64() < 0.05:
				p[i] = Fraudulent
			case r.Float64() < 0.2:
				p[i] = Excellent
			default:
				p[i] = Good
			}
		}
		r.Shuffle(len(p), func(a, b int) { p[a], p[b] = p[b], p[a] })
		copy(out[start:end], p)
	}
	return out
}

func (f *Fleet) genFirms(r *rand.Rand) {
	n := f.size.firms
	profiles := profilesByRank(r, n)
	sizes := firmSizes(r, n, f.size.lifts)
	for i := 0; i < n; i++ {
		d := fleet.Districts[r.IntN(len(fleet.Districts))]
		w1 := firmWords[i%len(firmWords)]
		name, nameEN := "上海"+w1.zh, "Shanghai "+w1.en
		if k := i / len(firmWords); k > 0 { // more firms than words: pair them
			w2 := firmWords[(i+k*7)%len(firmWords)]
			name, nameEN = name+w2.zh, nameEN+" "+w2.en
		}
		suf := firmSuffixes[r.IntN(len(firmSuffixes))]
		road := roads[d.Code][r.IntN(len(roads[d.Code]))]
		f.Firms = append(f.Firms, Firm{
			USCC:           usccFor(r, "91", d.Code, 'M', i),
			Name:           name + suf.zh,
			NameEN:         nameEN + " " + suf.en,
			LicenceNo:      fmt.Sprintf("TS3431%06d-%d", 100000+i*37%900000, 2027+r.IntN(3)),
			LicenceExpires: dateOf(f.Opts.Now.AddDate(1+r.IntN(3), r.IntN(12), 0)),
			DutyPhone:      fmt.Sprintf("021-5%07d", r.IntN(10000000)),
			Address:        fmt.Sprintf("上海市%s%s%d号", d.NameZH, road, 1+r.IntN(2000)),
			District:       d.Code,
			Lifts:          sizes[i],
			profile:        profiles[i],
		})
	}
}

func (f *Fleet) genAgencies() {
	for i := 0; i < f.size.agencies; i++ {
		f.Agencies = append(f.Agencies, Agency{
			USCC:   usccFor(rand.New(rand.NewPCG(uint64(f.Opts.Seed), uint64(i))), "12", "310000", 'A', i),
			Name:   agencyNames[i].zh,
			NameEN: agencyNames[i].en,
		})
	}
}

// districtLifts gives each district its lift count: the five published
// figures, and the rest spread over the other eleven by rough housing
// stock; at demo scale all sixteen are scaled down together.
func districtLifts(total int) []int {
	others := map[string]float64{"310101": 11, "310104": 16, "310105": 11, "310106": 15, "310107": 13,
		"310109": 10, "310110": 14, "310116": 6, "310118": 12, "310120": 11, "310151": 3.6}
	const city = 304634
	known := 0
	for _, d := range fleet.Districts {
		known += d.Lifts
	}
	w := make([]float64, len(fleet.Districts))
	var otherSum float64
	for _, x := range others {
		otherSum += x
	}
	for i, d := range fleet.Districts {
		if d.Lifts > 0 {
			w[i] = float64(d.Lifts)
		} else {
			w[i] = others[d.Code] / otherSum * float64(city-known)
		}
	}
	if total == city {
		out := make([]int, len(w))
		var restW []float64
		for i, d := range fleet.Districts {
			if d.Lifts > 0 {
				out[i] = d.Lifts
			} else {
				restW = append(restW, w[i])
			}
		}
		rest := apportion(city-known, restW)
		k := 0
		for i, d := range fleet.Districts {
			if d.Lifts == 0 {
				out[i] = rest[k]
				k++
			}
		}
		return out
	}
	return apportion(total, w)
}

func (f *Fleet) genUseUnits(r *rand.Rand) {
	perDistrict := districtLifts(f.size.lifts)
	unitsPer := apportion(f.size.useUnits, toFloats(perDistrict))
	idx := 0
	for di, d := range fleet.Districts {
		nu := max(unitsPer[di], 1)
		// Lifts per unit: one each, plus a log-normal share of the rest
		// (a few large estates and malls, many small buildings).
		w := make([]float64, nu)
		for i := range w {
			w[i] = math.Exp(r.NormFloat64() * 0.9)
		}
		extra := apportion(perDistrict[di]-nu, w)
		for i := 0; i < nu; i++ {
			road := roads[d.Code][r.IntN(len(roads[d.Code]))]
			estate := estateWords[r.IntN(len(estateWords))] + estateKinds[r.IntN(len(estateKinds))]
			f.UseUnits = append(f.UseUnits, UseUnit{
				USCC:          usccFor(r, "91", d.Code, 'U', idx),
				Name:          "上海" + estate + propertySuffixes[r.IntN(len(propertySuffixes))],
				District:      d.Code,
				Address:       fmt.Sprintf("上海市%s%s%d弄", d.NameZH, road, 1+r.IntN(3000)),
				Phone:         fmt.Sprintf("021-6%07d", r.IntN(10000000)),
				SafetyManager: surnames[r.IntN(len(surnames))] + "**",
				lifts:         1 + extra[i],
				firm:          -1,
			})
			idx++
		}
	}
}

func toFloats(xs []int) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// assignFirms gives each use unit one firm for all its lifts (a property
// manager contracts one firm), drawn in proportion to what each firm still
// lacks of its target size, so firm sizes follow the heavy tail roughly.
func (f *Fleet) assignFirms(r *rand.Rand) {
	need := make([]float64, len(f.Firms))
	for i, fm := range f.Firms {
		need[i] = float64(fm.Lifts)
	}
	order := r.Perm(len(f.UseUnits))
	// Large units first, so that they land on firms big enough for them.
	sort.SliceStable(order, func(a, b int) bool { return f.UseUnits[order[a]].lifts > f.UseUnits[order[b]].lifts })
	for _, ui := range order {
		u := &f.UseUnits[ui]
		var total float64
		for _, x := range need {
			total += max(x, 0.01)
		}
		pick := -1
		for try := 0; try < 8 && pick < 0; try++ {
			x := r.Float64() * total
			for i, n := range need {
				x -= max(n, 0.01)
				if x <= 0 {
					if float64(u.lifts) <= 1.5*n+2 || try == 7 {
						pick = i
					}
					break
				}
			}
		}
		if pick < 0 {
			pick = slices.Index(need, slices.Max(need))
		}
		u.firm = pick
		need[pick] -= float64(u.lifts)
	}
}

// categoryFor draws an equipment category: mostly traction passenger
// lifts, plus goods lifts, escalators, moving walks and dumbwaiters.
func categoryFor(r *rand.Rand) string {
	x := r.Float64()
	switch {
	case x < 0.82:
		return "3110"
	case x < 0.89:
		return "3120"
	case x < 0.965:
		return "3310"
	case x < 0.98:
		return "3320"
	default:
		return "3430"
	}
}

var manufacturers = []string{"MT001", "OT002", "SC003", "KN004", "HT005", "TK006", "FJ007", "TS008", "KY009", "SJ010", "GL011", "XO012"}

func (f *Fleet) genLifts(r *rand.Rand) {
	now := f.Opts.Now
	regSeq := map[string]int{}
	devSeq := map[string]int{}
	agencyFor := map[string]int{}
	for i, d := range agencyDistricts {
		if i < len(f.Agencies) && d != "" {
			agencyFor[d] = i
		}
	}
	for ui := range f.UseUnits {
		u := &f.UseUnits[ui]
		u.first = len(f.Lifts)
		buildings := max(1, u.lifts/2)
		for k := 0; k < u.lifts; k++ {
			// About 26 % of lifts are over 15 years old.
			var age float64
			if r.Float64() < 0.26 {
				age = 15 + math.Min(r.ExpFloat64()*5, 20)
			} else {
				age = 0.2 + r.Float64()*14.8
			}
			installed := dateOf(now.Add(-time.Duration(age * 365.25 * 24 * float64(time.Hour))))
			cat := categoryFor(r)
			ym := installed.Format("200601")
			key := cat + u.District + ym
			regSeq[key]++
			seq := regSeq[key]
			for seq > 9999 { // spill into the next month's sequence
				installed = installed.AddDate(0, 1, 0)
				ym = installed.Format("200601")
				key = cat + u.District + ym
				regSeq[key]++
				seq = regSeq[key]
			}
			code := fmt.Sprintf("%s%s%s%04d", cat, u.District, ym, seq)
			man := manufacturers[r.IntN(len(manufacturers))]
			dkey := man + installed.Format("2006")
			devSeq[dkey]++
			dev := fmt.Sprintf("%s%s%s%05d", cat, man, installed.Format("2006"), devSeq[dkey]%100000)
			floors, speed, load := 2, 0.5, 4500
			switch cat {
			case "3110":
				floors = 6 + r.IntN(28)
				speed = []float64{1.0, 1.5, 1.75, 2.0, 2.5}[r.IntN(5)]
				load = []int{630, 800, 1000, 1050, 1350, 1600}[r.IntN(6)]
			case "3120":
				floors = 2 + r.IntN(8)
				speed = []float64{0.5, 1.0}[r.IntN(2)]
				load = []int{1000, 2000, 3000}[r.IntN(3)]
			case "3320":
				speed, load = 0.5, 7000
			case "3430":
				floors, speed, load = 2+r.IntN(4), 0.4, 100+100*r.IntN(3)
			}
			b := 1 + k%buildings
			no := 1 + k/buildings
			// New lifts must be connected; older ones mostly are.
			iot := r.Float64() < 0.95 || age < 5 && r.Float64() < 0.9
			if age > 15 && r.Float64() < 0.15 {
				iot = false
			}
			ag := 0
			if a, ok := agencyFor[u.District]; ok {
				ag = a
			}
			f.Lifts = append(f.Lifts, Lift{
				Code:        code,
				DeviceCode:  dev,
				District:    u.District,
				Address:     fmt.Sprintf("%s%d号", u.Address, b),
				Building:    fmt.Sprintf("%d号楼", b),
				LiftNo:      fmt.Sprintf("%d号梯", no),
				InstalledOn: installed,
				Floors:      floors,
				RatedSpeed:  speed,
				RatedLoad:   load,
				UseUnit:     u.USCC,
				IoT:         iot,
				index:       len(f.Lifts),
				age:         age,
				agency:      ag,
				partner:     -1,
				site:        int64(ui)<<20 | int64(b),
				segs:        []segment{{from: installed, to: now, firm: u.firm, open: true}},
			})
		}
	}
	// About 2 % of use units change firm during the period: the old
	// contract ends on the switch date and the new firm's begins.
	for ui := range f.UseUnits {
		if r.Float64() >= 0.02 || len(f.Firms) < 2 {
			continue
		}
		u := f.UseUnits[ui]
		old := r.IntN(len(f.Firms))
		if old == u.firm {
			old = (old + 1) % len(f.Firms)
		}
		sw := dateOf(f.Start.Add(time.Duration((0.2 + 0.6*r.Float64()) * float64(now.Sub(f.Start)))))
		for li := u.first; li < u.first+u.lifts; li++ {
			l := &f.Lifts[li]
			if !l.InstalledOn.Before(sw.AddDate(0, 0, -30)) {
				continue
			}
			l.segs = []segment{{from: l.InstalledOn, to: sw, firm: old}, {from: sw, to: now, firm: u.firm, open: true}}
		}
	}
	// Registration-code order: history batches then arrive in the order of
	// every lift_code-led index and primary key, so PostgreSQL appends to
	// the right edge of each B-tree instead of dirtying random pages (and
	// writing a full-page image of each to the WAL) at city scale.
	sort.Slice(f.Lifts, func(a, b int) bool { return f.Lifts[a].Code < f.Lifts[b].Code })
	for li := range f.Lifts {
		l := &f.Lifts[li]
		l.index = li
		l.Firm = f.Firms[l.segs[len(l.segs)-1].firm].USCC
	}
	f.pickPartners()
	for i := range f.Firms {
		f.Firms[i].Lifts = 0
	}
	for _, l := range f.Lifts {
		f.Firms[l.segs[len(l.segs)-1].firm].Lifts++
	}
}

// pickPartners gives each lift of a fraudulent firm, with a single
// contract, another such lift of the same firm at a different site: the
// place of its "overlapping technician" fakes.
func (f *Fleet) pickPartners() {
	byFirm := map[int][]int{}
	for li, l := range f.Lifts {
		if len(l.segs) == 1 && f.Firms[l.segs[0].firm].profile == Fraudulent {
			byFirm[l.segs[0].firm] = append(byFirm[l.segs[0].firm], li)
		}
	}
	for _, lifts := range byFirm {
		for k, li := range lifts {
			for step := 1; step < len(lifts); step++ {
				p := lifts[(k+step*7)%len(lifts)]
				if f.Lifts[p].UseUnit != f.Lifts[li].UseUnit {
					f.Lifts[li].partner = p
					break
				}
			}
		}
	}
}

// genTechnicians gives each firm one technician per 20-25 lifts, in pairs
// (a visit needs two people on site, and a pair plans its days together:
// see plan.go): at least one pair, and enough that no pair looks after
// more than crewMax lifts.
func (f *Fleet) genTechnicians(r *rand.Rand) {
	load := make([]int, len(f.Firms))
	for _, l := range f.Lifts {
		for _, s := range l.segs {
			load[s.firm]++
		}
	}
	for fi := range f.Firms {
		per := 20 + r.IntN(6)
		pairs := max(1, (load[fi]+per)/(2*per), ceilDiv(load[fi], crewMax))
		for k := 0; k < 2*pairs; k++ {
			certified := r.Float64() < 0.93
			f.Firms[fi].techs = append(f.Firms[fi].techs, len(f.Technicians))
			f.Technicians = append(f.Technicians, Technician{
				Certificate: fmt.Sprintf("TS31%03d%06d", fi%1000, k),
				Firm:        f.Firms[fi].USCC,
				NameMasked:  surnames[r.IntN(len(surnames))] + "*" + []string{"", "明", "华", "强", "军", "伟", "磊"}[r.IntN(7)],
				Certified:   certified,
				CertExpires: dateOf(f.Opts.Now.AddDate(r.IntN(4), r.IntN(12), 0)),
			})
		}
	}
}

// placeCrews gives every contract segment its lift's position among the
// firm's lifts, in site order (use unit, building, code), and builds each
// firm's roster: a pair's crew is a run of positions (crewOf), so its day
// stays in one estate or street and a building's lifts are visited one
// after another. A lift that changed firm has a position in each.
func (f *Fleet) placeCrews() {
	type entry struct {
		site int64
		lift int32
	}
	lifts := make([][]entry, len(f.Firms))
	for li, l := range f.Lifts {
		for _, s := range l.segs {
			lifts[s.firm] = append(lifts[s.firm], entry{l.site, int32(li)})
		}
	}
	for fi, es := range lifts {
		// Lifts are in code order: the index breaks ties by code.
		slices.SortFunc(es, func(a, b entry) int { return cmp.Or(cmp.Compare(a.site, b.site), cmp.Compare(a.lift, b.lift)) })
		roster := make([]member, len(es))
		for pos, e := range es {
			l := &f.Lifts[e.lift]
			roster[pos] = member{lift: e.lift, site: int32(pos), from: unixDay(l.InstalledOn), to: math.MaxInt32}
			if pos > 0 && e.site == es[pos-1].site {
				roster[pos].site = roster[pos-1].site
			}
			for si := range l.segs {
				if s := &l.segs[si]; s.firm == fi {
					s.pos = pos
					roster[pos].from = max(roster[pos].from, unixDay(s.from))
					if !s.open {
						roster[pos].to = unixDay(s.to)
					}
				}
			}
		}
		f.Firms[fi].roster = roster
	}
}

func (f *Fleet) genContracts() {
	for _, l := range f.Lifts {
		for _, s := range l.segs {
			c := Contract{Lift: l.Code, Firm: f.Firms[s.firm].USCC, StartsOn: dateOf(s.from)}
			if !s.open {
				c.EndsOn = dateOf(s.to)
			}
			f.Contracts = append(f.Contracts, c)
		}
	}
}

// genPenalties: a few administrative penalties, mostly on poor and
// fraudulent firms, including veto kinds; one or two licences lapse.
func (f *Fleet) genPenalties(r *rand.Rand) {
	vetoDone, licenceDone, violatorDone := 0, 0, false
	for fi := range f.Firms {
		fm := &f.Firms[fi]
		var kind, desc string
		switch fm.profile {
		case Poor:
			switch {
			case vetoDone == 0:
				kind, desc = "safety_circuit_bypass", "维保作业中短接安全回路（层门门锁回路）"
				vetoDone++
			case licenceDone == 0:
				fm.LicenceExpires = dateOf(f.Opts.Now.AddDate(0, -2-r.IntN(6), 0))
				licenceDone++
				kind, desc = "licence", "许可证过期后继续从事电梯维保"
			case r.Float64() < 0.4:
				kind, desc = "maintenance_overdue", "未按规定每15日进行一次清洁、润滑、调整和检查"
			}
		case Fraudulent:
			switch {
			case vetoDone == 1:
				kind, desc = "subcontracting", "将维保业务转包给无资质单位"
				vetoDone++
			case !violatorDone && f.size.firms > 100:
				fm.SeriousViolator = true
				violatorDone = true
				kind, desc = "records_falsified", "伪造维保记录"
			case licenceDone == 1 && f.size.firms > 100:
				fm.LicenceExpires = dateOf(f.Opts.Now.AddDate(0, -1-r.IntN(3), 0))
				licenceDone++
			case r.Float64() < 0.4:
				kind, desc = "records_falsified", "维保记录与实际作业不符"
			}
		case Good:
			if r.Float64() < 0.04 {
				kind, desc = "other", "值班电话公示信息未及时更新"
			}
		}
		if kind == "" {
			continue
		}
		var lift string
		for _, l := range f.Lifts { // a lift the firm maintains, for the record
			if l.Firm == fm.USCC {
				lift = l.Code
				break
			}
		}
		f.Penalties = append(f.Penalties, Penalty{
			ID:          fmt.Sprintf("PEN-%s-%03d", f.Start.Format("2006"), len(f.Penalties)+1),
			Firm:        fm.USCC,
			Lift:        lift,
			Kind:        kind,
			Description: desc,
			DecidedOn:   dateOf(f.Start.Add(time.Duration(r.Float64() * float64(f.Opts.Now.Sub(f.Start))))),
			AmountYuan:  float64(10000 * (1 + r.IntN(20))),
		})
	}
}

// dateOf is the Shanghai calendar date of t, as midnight UTC (how DATE
// columns come back from the driver).
func dateOf(t time.Time) time.Time {
	y, m, d := t.In(shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Truth returns the planted profiles, latent qualities and spot-check
// failure probabilities. FakeVisits is left empty: it is the
// union of History(i).FakeVisits over all lifts, which postgres.LoadSeed
// collects while it draws them.
func (f *Fleet) Truth() Truth {
	t := Truth{Profiles: make(map[string]string, len(f.Firms)), Quality: make(map[string]float64, len(f.Firms)),
		SpotFail: make(map[string]float64, len(f.Lifts))}
	for _, fm := range f.Firms {
		t.Profiles[fm.USCC] = fm.profile
		t.Quality[fm.USCC] = fm.quality
	}
	for i, l := range f.Lifts {
		t.SpotFail[l.Code] = f.SpotFail(i)
	}
	return t
}

// DemoFirm is the firm the demo firm user belongs to: the largest firm of
// profile good, so a demo shows a typical firm with a few things to fix.
func (f *Fleet) DemoFirm() Firm {
	best := 0
	for i, fm := range f.Firms {
		if fm.profile == Good && (f.Firms[best].profile != Good || fm.Lifts > f.Firms[best].Lifts) {
			best = i
		}
	}
	return f.Firms[best]
}
