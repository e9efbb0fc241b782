package web

import (
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"lifttrust"
	"lifttrust/fleet"
	"lifttrust/qrcodes"
	"lifttrust/web/view"
)

// The public JSON API (docs/api.md): the same facts as the pages, for
// apps and open data. Field names are stable; times are RFC 3339 UTC,
// dates YYYY-MM-DD.

type liftJSON struct {
	RegistrationCode string          `json:"registration_code"`
	Category         string          `json:"category"`
	District         districtJSON    `json:"district"`
	Address          string          `json:"address"`
	Building         string          `json:"building"`
	LiftNo           string          `json:"lift_no"`
	UseUnit          useUnitJSON     `json:"use_unit"`
	Status           statusJSON      `json:"status"`
	Maintenance      maintenanceJSON `json:"maintenance"`
	Inspection       inspectionJSON  `json:"inspection"`
	Firm             *firmJSON       `json:"firm"`
	EmergencyNumbers []string        `json:"emergency_numbers"`
	PageURL          string          `json:"page_url"`
	QRPNG            string          `json:"qr_png"`
	QRSVG            string          `json:"qr_svg"`
}

type districtJSON struct {
	Code   string `json:"code"`
	NameZH string `json:"name_zh"`
	NameEN string `json:"name_en"`
}

type useUnitJSON struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

type statusJSON struct {
	State         string      `json:"state"`
	IoT           bool        `json:"iot"`
	LastHeartbeat *time.Time  `json:"last_heartbeat"`
	TrappedSince  *time.Time  `json:"trapped_since,omitempty"`
	OpenFaults    []faultJSON `json:"open_faults"`
}

type faultJSON struct {
	Code     int       `json:"code"`
	NameZH   string    `json:"name_zh"`
	NameEN   string    `json:"name_en"`
	RaisedAt time.Time `json:"raised_at"`
}

type maintenanceJSON struct {
	LastAt        *time.Time `json:"last_at"`
	LastKind      string     `json:"last_kind,omitempty"`
	Technicians   []string   `json:"technicians,omitempty"`
	LastRoutineAt *time.Time `json:"last_routine_at"`
	Overdue       bool       `json:"overdue"`
}

type inspectionJSON struct {
	LastOn  string `json:"last_on,omitempty"`
	Result  string `json:"result,omitempty"`
	NextDue string `json:"next_due,omitempty"`
	Expired bool   `json:"expired"`
}

type firmJSON struct {
	USCC      string      `json:"uscc"`
	Name      string      `json:"name"`
	NameEN    string      `json:"name_en"`
	DutyPhone string      `json:"duty_phone"`
	Lifts     int         `json:"lifts"`
	Score     *scoreJSON  `json:"score"`
	Trend     []trendJSON `json:"trend,omitempty"`
	URL       string      `json:"url"`
}

type scoreJSON struct {
	Score       float64         `json:"score"`
	Low         float64         `json:"score_low"`
	High        float64         `json:"score_high"`
	Grade       string          `json:"grade"`
	Meaning     [2]string       `json:"meaning"`
	Rank        int             `json:"rank,omitempty"`
	RankedOf    int             `json:"ranked_of,omitempty"`
	Provisional bool            `json:"provisional"`
	AsOf        string          `json:"as_of"`
	Vetoes      []string        `json:"vetoes,omitempty"`
	Dimensions  []dimensionJSON `json:"dimensions,omitempty"`
}

type dimensionJSON struct {
	Key    string    `json:"key"`
	Name   [2]string `json:"name"`
	Points float64   `json:"points"`
	Max    float64   `json:"max,omitempty"`
}

type trendJSON struct {
	Month string  `json:"month"`
	Score float64 `json:"score"`
	Grade string  `json:"grade"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.DateOnly)
}

// LiftJSON serves GET /api/v1/lifts/:code.
func (p *Pages) LiftJSON(c *fiber.Ctx) error {
	code := utils.CopyString(c.Params("code"))
	l, f, hb, err := p.lookupLift(c.UserContext(), code)
	if err != nil {
		return err
	}
	now := p.cfg.Now()
	out := liftJSON{
		RegistrationCode: l.Code, Category: l.Category,
		District: districtJSON{l.DistrictCode, l.DistrictZH, l.DistrictEN},
		Address:  l.Address, Building: l.Building, LiftNo: l.LiftNo,
		UseUnit: useUnitJSON{l.UseUnit, l.UseUnitPhone},
		Status: statusJSON{State: string(l.LiveState(hb, now, p.cfg.OfflineAfter)), IoT: l.IoT,
			LastHeartbeat: timePtr(hb), OpenFaults: []faultJSON{}},
		Maintenance:      maintenanceJSON{LastRoutineAt: timePtr(l.LastRoutineAt), Overdue: l.MaintenanceOverdue(now)},
		Inspection:       inspectionJSON{Expired: l.InspectionExpired(now)},
		EmergencyNumbers: p.emergencyNumbers(),
		PageURL:          qrcodes.PageURL(p.cfg.PublicBaseURL, l.Code),
	}
	out.QRPNG, out.QRSVG = out.PageURL+"/qr.png", out.PageURL+"/qr.svg"
	if l.Trapped {
		out.Status.TrappedSince = timePtr(l.TrappedSince)
	}
	for _, fl := range l.Faults {
		n := fleet.FaultCodes[fleet.FaultCode(fl.Code)]
		out.Status.OpenFaults = append(out.Status.OpenFaults, faultJSON{fl.Code, n[0], n[1], fl.RaisedAt.UTC()})
	}
	if m := l.LastMaint; m != nil {
		out.Maintenance.LastAt, out.Maintenance.LastKind, out.Maintenance.Technicians = timePtr(m.StartedAt), m.Kind, m.Technicians
	}
	if in := l.LastInspection; in != nil {
		out.Inspection.LastOn, out.Inspection.Result, out.Inspection.NextDue = date(in.On), in.Result, date(in.NextDue)
	}
	if f != nil {
		out.Firm = p.firmJSON(f, false)
	}
	return sendJSON(c, out)
}

func (p *Pages) emergencyNumbers() []string {
	if p.cfg.EmergencyNo == "110" {
		return []string{"110"}
	}
	return []string{p.cfg.EmergencyNo, "110"}
}

func (p *Pages) firmJSON(f *view.Firm, full bool) *firmJSON {
	out := &firmJSON{USCC: f.USCC, Name: f.Name, NameEN: f.NameEN, DutyPhone: f.DutyPhone, Lifts: f.Lifts,
		URL: p.cfg.PublicBaseURL + "/f/" + f.USCC}
	if s := f.Score; s != nil {
		out.Score = &scoreJSON{Score: s.Score, Low: s.Low, High: s.High, Grade: s.Grade,
			Meaning: [2]string{tr(langZH, "grade_"+s.Grade), tr(langEN, "grade_"+s.Grade)},
			Rank:    s.Rank, RankedOf: s.RankedOf, Provisional: s.Provisional, AsOf: date(s.AsOf)}
		if full {
			out.Score.Vetoes = s.Vetoes
			for _, d := range s.Dimensions {
				out.Score.Dimensions = append(out.Score.Dimensions, dimensionJSON{Key: d.Key,
					Name: [2]string{dimensionName(langZH, d.Key), dimensionName(langEN, d.Key)}, Points: d.Points, Max: d.Max})
			}
		}
	}
	if full {
		for _, t := range f.Trend {
			out.Trend = append(out.Trend, trendJSON{t.Month.Format("2006-01"), t.Score, t.Grade})
		}
	}
	return out
}

// FirmJSON serves GET /api/v1/firms/:uscc.
func (p *Pages) FirmJSON(c *fiber.Ctx) error {
	uscc := utils.CopyString(c.Params("uscc"))
	if err := fleet.ValidateUSCC(uscc); err != nil {
		return lifttrust.Errorf(lifttrust.ErrInvalid, "%s", err.Error())
	}
	f, err := p.lookupFirm(c.UserContext(), uscc)
	if err != nil {
		return err
	}
	return sendJSON(c, p.firmJSON(f, true))
}

// FirmsJSON serves GET /api/v1/firms?q=&grade=&page=: firms by rank.
func (p *Pages) FirmsJSON(c *fiber.Ctx) error {
	f := firmFilter(c)
	firms, total := p.view.Firms(f)
	if f.Page > max(1, (total+f.PerPage-1)/f.PerPage) {
		return lifttrust.Errorf(lifttrust.ErrNotFound, "page %d is past the last page", f.Page)
	}
	items := make([]*firmJSON, 0, len(firms))
	for _, firm := range firms {
		items = append(items, p.firmJSON(firm, false))
	}
	return sendJSON(c, fiber.Map{"firms": items, "total": total, "page": f.Page, "per_page": f.PerPage})
}
