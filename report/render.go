package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strconv"
	"time"

	"lifttrust/fleet"
)

// Languages of the report: Chinese first, English second.
const (
	LangZH = "zh"
	LangEN = "en"
)

// Options say how one rendering differs from another.
type Options struct {
	Lang        string    // LangZH (default) or LangEN
	GeneratedAt time.Time // printed in the footer: the only varying text
	// OtherLangHref links to the same report in the other language, and
	// JSONHref to its figures; empty leaves the link out.
	OtherLangHref string
	JSONHref      string
	OpenHref      string // the open-data page
}

//go:embed report.html.tmpl
var pageSrc string

var pageTmpl = template.Must(template.New("report").Funcs(template.FuncMap{
	"int":   Int,
	"pct":   pctPtr,
	"num":   numPtr,
	"firms": newFirmTable,
}).Parse(pageSrc))

type firmTable struct {
	T       map[string]string
	Caption string
	Firms   []Firm
	Lang    string
}

func newFirmTable(t map[string]string, caption string, fs []Firm, lang string) firmTable {
	return firmTable{T: t, Caption: caption, Firms: fs, Lang: lang}
}

// Render writes the report page for f in o.Lang. doc carries the "what
// changed" sentences (doc.Figures must be f).
func Render(w io.Writer, doc Document, o Options) error {
	v, err := newView(doc, o)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, v); err != nil {
		return fmt.Errorf("render report %d: %w", doc.Figures.Year, err)
	}
	_, err = w.Write(b.Bytes())
	return err
}

type view struct {
	Lang, OtherLang         string
	T                       map[string]string
	F                       *Figures
	Growth                  *float64
	Changes                 []string
	Charts                  map[string]Chart
	FirmsA, FirmsD          []Firm
	Generated               string
	OtherLangHref, JSONHref string
	OpenHref                string
	Title                   string
}

func newView(doc Document, o Options) (*view, error) {
	f := doc.Figures
	if f == nil {
		return nil, fmt.Errorf("render report: no figures")
	}
	li := 0
	if o.Lang == LangEN {
		li = 1
	} else {
		o.Lang = LangZH
	}
	t := make(map[string]string, len(text))
	for k, v := range text {
		t[k] = v[li]
	}
	v := &view{Lang: o.Lang, OtherLang: map[string]string{LangZH: LangEN, LangEN: LangZH}[o.Lang], T: t, F: f, Growth: f.Growth(),
		FirmsA: f.FirmsGradeA, FirmsD: f.FirmsGradeD, OtherLangHref: o.OtherLangHref, JSONHref: o.JSONHref, OpenHref: o.OpenHref,
		Generated: o.GeneratedAt.UTC().Format("2006-01-02 15:04 UTC")}
	v.Title = fmt.Sprintf(t["title"], f.Year)
	for _, c := range doc.Changes {
		v.Changes = append(v.Changes, [2]string{c.ZH, c.EN}[li])
	}
	v.Charts = charts(f, li, t)
	return v, nil
}

// charts builds every chart of the report from the figures, with a title,
// a description that states the largest values in words, and its table.
func charts(f *Figures, li int, t map[string]string) map[string]Chart {
	out := map[string]Chart{}
	countBars := func(keys []string, m map[string]int64, label func(string) string) []Bar {
		bars := make([]Bar, 0, len(keys))
		for _, k := range keys {
			bars = append(bars, Bar{Label: label(k), Value: float64(m[k]), Text: Int(m[k])})
		}
		return bars
	}
	// Districts, largest first (code breaks ties, so the order is stable).
	dk := make([]string, 0, len(f.LiftsByDistrict))
	for k := range f.LiftsByDistrict {
		dk = append(dk, k)
	}
	sort.Slice(dk, func(i, j int) bool {
		a, b := f.LiftsByDistrict[dk[i]], f.LiftsByDistrict[dk[j]]
		if a != b {
			return a > b
		}
		return dk[i] < dk[j]
	})
	district := func(code string) string {
		if d, ok := fleet.DistrictByCode(code); ok {
			return [2]string{d.NameZH, d.NameEN}[li]
		}
		return code
	}
	category := func(code string) string {
		if c, ok := fleet.Categories[code]; ok {
			return [2]string{c.NameZH, c.NameEN}[li]
		}
		return code
	}
	ck := make([]string, 0, len(f.LiftsByCategory))
	for k := range f.LiftsByCategory {
		ck = append(ck, k)
	}
	sort.Strings(ck)
	years := func(k string) string { return k + t["years"] }
	causeName := func(k string) string { return t["cause_"+k] }
	gradeName := func(k string) string { return fmt.Sprintf(t["grade_n"], k) }
	add := func(id, titleKey string, bars []Bar, head [2]string, columns bool) {
		c := Chart{ID: id, Title: fmt.Sprintf(t[titleKey], f.Year), Bars: bars, Head: head, Columns: columns}
		c.Desc = describe(c, t)
		out[id] = c
	}
	add("lifts-district", "c_district", countBars(dk, f.LiftsByDistrict, district), [2]string{t["district"], t["lifts"]}, false)
	add("lifts-category", "c_category", countBars(ck, f.LiftsByCategory, category), [2]string{t["category"], t["lifts"]}, false)
	add("lifts-age", "c_age", countBars(AgeBands, f.LiftsByAgeBand, years), [2]string{t["age"], t["lifts"]}, false)
	var faults []Bar
	for _, fc := range f.TopFaultCodes {
		faults = append(faults, Bar{Label: strconv.Itoa(fc.Code) + " " + faultName(fc.Code, li), Value: float64(fc.Count), Text: Int(fc.Count)})
	}
	add("faults-code", "c_faults", faults, [2]string{t["fault_code"], t["count"]}, false)
	add("entrap-cause", "c_cause", countBars(Causes, f.EntrapmentsByCause, causeName), [2]string{t["cause"], t["entrapments"]}, false)
	add("entrap-age", "c_entrap_age", countBars(AgeBands, f.EntrapmentsByAgeBand, years), [2]string{t["age"], t["entrapments"]}, false)
	var hours []Bar
	for h, n := range f.EntrapmentsByHour {
		hours = append(hours, Bar{Label: strconv.Itoa(h), Value: float64(n), Text: Int(n)})
	}
	add("entrap-hour", "c_hour", hours, [2]string{t["hour"], t["entrapments"]}, true)
	add("firms-grade", "c_grade", countBars(Grades, f.FirmsByGrade, gradeName), [2]string{t["grade"], t["firms"]}, false)
	return out
}

// describe says in words what a sighted reader takes from the chart: how
// many bars, the largest, and the total.
func describe(c Chart, t map[string]string) string {
	if len(c.Bars) == 0 {
		return t["no_data"]
	}
	top := 0
	total := 0.0
	for i, b := range c.Bars {
		total += b.Value
		if b.Value > c.Bars[top].Value {
			top = i
		}
	}
	return fmt.Sprintf(t["desc"], len(c.Bars), c.Bars[top].Label, c.Bars[top].Text, Int(int64(total)))
}

func faultName(code, li int) string {
	if n, ok := fleet.FaultCodes[fleet.FaultCode(code)]; ok {
		return n[li]
	}
	return ""
}

func pctPtr(p *float64) string {
	if p == nil {
		return "—"
	}
	return Percent(*p)
}

func numPtr(p *float64) string {
	if p == nil {
		return "—"
	}
	return strconv.FormatFloat(*p, 'f', 2, 64)
}

// text is every string of the report page in Chinese and English.
var text = map[string][2]string{
	"title":             {"%d 年度上海市电梯安全状况报告", "Shanghai lift safety status report %d"},
	"subtitle":          {"根据 LiftTrust 平台数据自动生成；每项指标的定义见数据说明。", "Generated from the LiftTrust platform's records; each figure's definition is in the data notes."},
	"lang_other":        {"English", "中文"},
	"json":              {"本报告数据（JSON）", "This report's figures (JSON)"},
	"open":              {"开放数据", "Open data"},
	"summary":           {"概要", "Summary"},
	"changes":           {"主要变化", "What changed"},
	"s_lifts":           {"在用电梯", "Lifts in use"},
	"lifts_in_use":      {"在用电梯数量", "Lifts in use"},
	"growth":            {"较上年增长", "Growth over the previous year"},
	"top5":              {"电梯数量前五位的区合计占比", "Share of the five largest districts"},
	"over15":            {"使用超过 15 年的电梯占比", "Share of lifts over 15 years old"},
	"over20":            {"使用超过 20 年的乘客电梯占比", "Share of passenger lifts over 20 years old"},
	"s_units":           {"使用单位与维保单位", "Use units and maintenance firms"},
	"use_units":         {"使用单位", "Use units"},
	"firms_count":       {"维保单位", "Maintenance firms"},
	"s_maint":           {"维护保养", "Maintenance"},
	"visits":            {"维保次数（含维修）", "Maintenance visits (repairs included)"},
	"routine":           {"例行维保次数", "Routine visits"},
	"on_time":           {"例行维保按时（间隔不超过 15 天）占比", "Share of routine visits on time (within 15 days of the previous)"},
	"s_insp":            {"定期检验", "Periodic inspections"},
	"periodic":          {"定期检验台次", "Periodic inspections"},
	"first_pass":        {"一次检验合格率", "First-pass rate"},
	"s_faults":          {"故障", "Faults"},
	"faults":            {"故障次数（代码 1–10）", "Faults (codes 1-10)"},
	"per10k":            {"每万台电梯故障次数", "Faults per 10,000 lifts"},
	"s_entrap":          {"困人事件", "Entrapments"},
	"entrapments":       {"困人事件", "Entrapments"},
	"entrap_rate":       {"每万台电梯日均困人次数", "Entrapments per 10,000 lifts per day"},
	"s_rescue":          {"应急救援", "Rescue"},
	"arrival":           {"平均到场时间（分钟）", "Mean arrival time (minutes)"},
	"rescue":            {"平均救援时间（到场至解困，分钟）", "Mean rescue time (arrival to release, minutes)"},
	"within30":          {"30 分钟内到场占比", "Share reached within 30 minutes"},
	"s_grades":          {"维保单位信用等级", "Maintenance firms by credit grade"},
	"grade_a_list":      {"A 级维保单位", "Grade A firms"},
	"grade_d_list":      {"D 级维保单位", "Grade D firms"},
	"none_listed":       {"无", "None"},
	"uscc":              {"统一社会信用代码", "USCC"},
	"firm_name":         {"名称", "Name"},
	"score":             {"信用分", "Score"},
	"s_reports":         {"乘客报告", "Passenger reports"},
	"reports":           {"乘客报告数量", "Passenger reports"},
	"answered":          {"3 个工作日内答复占比", "Share answered within 3 working days"},
	"s_spot":            {"监督抽查（双随机、一公开）", "Spot checks (double random, one public)"},
	"spot_checks":       {"抽查次数", "Checks"},
	"spot_pass":         {"抽查合格率", "Pass rate"},
	"figure":            {"指标", "Figure"},
	"value":             {"数值", "Value"},
	"generated":         {"生成时间", "Generated"},
	"notes":             {"数据说明：年度按上海时间（UTC+8）自然年计；在用电梯指年末前安装且未报废的登记电梯；比例以小数计算、以百分比显示。完整定义见 docs/report.md。", "Notes: a year is the calendar year in Shanghai time (UTC+8); lifts in use are registered lifts installed before the year's end and not scrapped; shares are computed as fractions and shown as percentages. Full definitions: docs/report.md."},
	"district":          {"区", "District"},
	"category":          {"设备类别", "Category"},
	"age":               {"使用年限", "Age"},
	"years":             {" 年", " years"},
	"lifts":             {"电梯数量", "Lifts"},
	"count":             {"次数", "Count"},
	"fault_code":        {"故障代码", "Fault code"},
	"cause":             {"原因", "Cause"},
	"hour":              {"时段（时）", "Hour of day"},
	"grade":             {"等级", "Grade"},
	"grade_n":           {"%s 级", "Grade %s"},
	"firms":             {"维保单位数量", "Firms"},
	"cause_equipment":   {"设备原因", "Equipment"},
	"cause_maintenance": {"维保原因", "Maintenance"},
	"cause_misuse":      {"乘客使用不当", "Misuse by passengers"},
	"cause_external":    {"外部原因", "External"},
	"cause_unknown":     {"未认定", "Not attributed"},
	"c_district":        {"%d 年末各区在用电梯数量", "Lifts in use by district, end of %d"},
	"c_category":        {"%d 年末各类别在用电梯数量", "Lifts in use by category, end of %d"},
	"c_age":             {"%d 年末在用电梯使用年限分布", "Lifts in use by age, end of %d"},
	"c_faults":          {"%d 年最常见的故障代码", "The most frequent fault codes, %d"},
	"c_cause":           {"%d 年困人事件按原因分布", "Entrapments by cause, %d"},
	"c_entrap_age":      {"%d 年困人事件按电梯使用年限分布", "Entrapments by lift age, %d"},
	"c_hour":            {"%d 年困人事件按发生时段分布（上海时间）", "Entrapments by hour of day, %d (Shanghai time)"},
	"c_grade":           {"%d 年末维保单位信用等级分布", "Maintenance firms by credit grade, end of %d"},
	"desc":              {"条形图，共 %d 项；最大的是 %s（%s）；合计 %s。数据见旁边的表格。", "Bar chart of %d items; the largest is %s (%s); %s in all. The table beside it gives every value."},
	"no_data":           {"本年度没有数据。", "No data for this year."},
}
