// Package opendata defines LiftTrust's open datasets (the fields, what each
// means, how often it changes) and writes them as CSV or JSON one row at a
// time, so a dataset of the whole city streams through a fixed amount of
// memory. It is pure: rows come from postgres/opendata.go and go out
// through web/open.
//
// No dataset carries personal data: no technician names or certificate
// numbers, no phone numbers of persons, no passenger report texts or
// callback numbers (a test in web/open checks every dataset for them).
package opendata

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Mark is when a dataset last changed: the time of the latest change and
// a count of changing statements, which together make its ETag. Zero when
// no change was recorded since the schema was made.
type Mark struct {
	ChangedAt time.Time
	Changes   int64
}

// ETag is the weak entity tag of dataset at m (weak: the gzip and identity
// encodings of one version share it).
func (m Mark) ETag(dataset string) string {
	return fmt.Sprintf(`W/"%s-%d-%d"`, dataset, m.ChangedAt.UnixMicro(), m.Changes)
}

// Field is one column of a dataset.
type Field struct {
	Name string // CSV header and JSON key
	Type string // string, integer, number, date (YYYY-MM-DD) or month (YYYY-MM)
	ZH   string // what it means, in Chinese
	EN   string // and in English
}

// Dataset describes one open dataset.
type Dataset struct {
	Name     string // lifts, firms, monthly
	TitleZH  string
	TitleEN  string
	DescZH   string
	DescEN   string
	FreqZH   string // update frequency
	FreqEN   string
	Formats  []string
	Fields   []Field
	NullNote bool // some fields may be empty (null in JSON)
}

// Licence of every dataset.
const (
	LicenceZH  = "知识共享署名 4.0 国际许可协议（CC BY 4.0）：可自由使用、转载和加工，请注明来源“LiftTrust 上海市电梯安全监管平台”。"
	LicenceEN  = "Creative Commons Attribution 4.0 International (CC BY 4.0): free to use, share and adapt; credit \"LiftTrust, Shanghai lift safety platform\"."
	LicenceURL = "https://creativecommons.org/licenses/by/4.0/"
)

// Lifts is every registered lift with its latest periodic inspection.
var Lifts = Dataset{
	Name: "lifts", TitleZH: "电梯登记与检验", TitleEN: "Lifts and inspections",
	DescZH: "每台登记电梯一行：所在区、类别、使用单位、维保单位、安装年份、最近一次定期检验及其结论、下次检验日期、状态。",
	DescEN: "One row per registered lift: district, category, use unit, maintenance firm, year installed, latest periodic inspection and its result, next due date, state.",
	FreqZH: "实时（每次请求按当前数据生成）", FreqEN: "Live (built from the current records on every request)",
	Formats: []string{"csv", "json"},
	Fields: []Field{
		{"registration_code", "string", "注册代码（20 位）", "Registration code (20 digits)"},
		{"district_code", "string", "所在区行政区划代码", "District (administrative division code)"},
		{"district", "string", "所在区名称", "District name"},
		{"category", "string", "设备类别代码（3110 曳引驱动乘客电梯等）", "Equipment category code (3110 traction passenger lift, ...)"},
		{"use_unit_uscc", "string", "使用单位统一社会信用代码", "Use unit's unified social credit code"},
		{"use_unit", "string", "使用单位名称", "Use unit's name"},
		{"firm_uscc", "string", "维保单位统一社会信用代码（空：未登记）", "Maintenance firm's USCC (empty: none on record)"},
		{"firm", "string", "维保单位名称", "Maintenance firm's name"},
		{"install_year", "integer", "安装年份", "Year installed"},
		{"last_inspection_date", "date", "最近一次定期检验日期（空：无记录）", "Date of the latest periodic inspection (empty: none on record)"},
		{"last_inspection_result", "string", "检验结论：pass 合格，fail 不合格，pass_after_rectification 整改后合格", "Result: pass, fail, pass_after_rectification"},
		{"next_inspection_due", "date", "下次检验日期", "Next inspection due"},
		{"state", "string", "登记状态：in_use 在用，suspended 停用，scrapped 报废", "Registration state: in_use, suspended, scrapped"},
	},
	NullNote: true,
}

// Firms is every maintenance firm with its current credit score.
var Firms = Dataset{
	Name: "firms", TitleZH: "维保单位信用评价", TitleEN: "Maintenance firms' credit scores",
	DescZH: "每家维保单位一行：维保电梯数、当前信用等级和得分、可能区间（90%）、全市排名（按所有单位的当前得分）、模型版本和评价截止日期。",
	DescEN: "One row per maintenance firm: lifts maintained, current grade and score, likely range (90 %), rank in the city (among every firm's current score), model version and the date the score is as of.",
	FreqZH: "每日（每日全量评分后）；重大事件后数秒内更新单家单位", FreqEN: "Daily (after the daily scoring run); one firm within seconds of an event",
	Formats: []string{"csv", "json"},
	Fields: []Field{
		{"uscc", "string", "统一社会信用代码", "Unified social credit code"},
		{"name", "string", "单位名称", "Name"},
		{"lifts", "integer", "当前维保的在用电梯数", "Lifts in use it maintains now"},
		{"grade", "string", "信用等级 A–D（空：尚未评分）", "Credit grade A-D (empty: not yet scored)"},
		{"score", "number", "信用分（0–100）", "Credit score (0-100)"},
		{"score_low", "number", "可能区间下限", "Likely range, low"},
		{"score_high", "number", "可能区间上限", "Likely range, high"},
		{"rank", "integer", "全市排名（1 为最好，同分同名次）", "Rank in the city (1 is best; equal scores share a rank)"},
		{"model_version", "string", "评分模型版本", "Scoring model version"},
		{"as_of", "date", "评价期截止日期", "End of the scored period"},
	},
	NullNote: true,
}

// Monthly is the city's and each district's monthly figures.
var Monthly = Dataset{
	Name: "monthly", TitleZH: "全市及各区月度指标", TitleEN: "Monthly figures, city and districts",
	DescZH: "每月一行全市（区划代码 310000）加每区一行：月末在用电梯、维保次数、定期检验、一次检验合格、故障、困人、乘客报告。按上海时间计月。",
	DescEN: "Each month, one row for the city (code 310000) and one per district: lifts in use at the month's end, maintenance visits, periodic inspections, passed at the first attempt, faults, entrapments, passenger reports. Months in Shanghai time.",
	FreqZH: "实时（本月数据随记录增加）", FreqEN: "Live (the current month grows as records arrive)",
	Formats: []string{"csv"},
	Fields: []Field{
		{"month", "month", "月份（YYYY-MM）", "Month (YYYY-MM)"},
		{"area_code", "string", "区划代码（310000 为全市）", "Division code (310000 is the whole city)"},
		{"area", "string", "全市或区名称", "City or district name"},
		{"lifts_in_use", "integer", "月末在用电梯数", "Lifts in use at the month's end"},
		{"maintenance_visits", "integer", "维保次数（含维修）", "Maintenance visits (repairs included)"},
		{"periodic_inspections", "integer", "定期检验台次", "Periodic inspections"},
		{"inspections_passed_first", "integer", "一次检验合格台次", "Passed at the first attempt"},
		{"faults", "integer", "故障次数（代码 1–10）", "Faults (codes 1-10)"},
		{"entrapments", "integer", "困人事件（不含误报）", "Entrapments (false alarms excluded)"},
		{"passenger_reports", "integer", "乘客报告", "Passenger reports"},
	},
}

// SpotChecks is every spot check the regulator recorded (双随机、一公开:
// the results are public). No inspector and no notes: a note may name a
// person.
var SpotChecks = Dataset{
	Name: "spotchecks", TitleZH: "监督抽查结果", TitleEN: "Spot-check results",
	DescZH: "每次监督抽查一行：检查日期、电梯、所在区、当日维保单位、所属抽查计划、结论及不合格项目（TSG T5002 检查清单代码）。不含监察员和备注。",
	DescEN: "One row per spot check: date, lift, district, the firm maintaining it that day, the plan it belonged to, the result and the failed items (TSG T5002 checklist codes). No inspector and no notes.",
	FreqZH: "实时（每次请求按当前记录生成）", FreqEN: "Live (built from the current records on every request)",
	Formats: []string{"csv", "json"},
	Fields: []Field{
		{"checked_on", "date", "检查日期", "Date of the check"},
		{"registration_code", "string", "电梯注册代码", "Lift's registration code"},
		{"district_code", "string", "所在区行政区划代码", "District (administrative division code)"},
		{"firm_uscc", "string", "当日维保单位统一社会信用代码", "USCC of the firm maintaining the lift that day"},
		{"firm", "string", "维保单位名称", "Firm's name"},
		{"plan_id", "integer", "抽查计划编号（空：计划外抽查）", "Spot-check plan (empty: a check outside any plan)"},
		{"result", "string", "结论：pass 合格，fail 不合格", "Result: pass or fail"},
		{"failed_items", "string", "不合格项目代码，以空格分隔（如 T02 T05）", "Failed item codes, space-separated (such as T02 T05)"},
	},
	NullNote: true,
}

// All lists the tabular datasets in the order the /open page shows them.
var All = []Dataset{Lifts, Firms, Monthly, SpotChecks}

// LiftRow is one row of Lifts.
type LiftRow struct {
	Code, DistrictCode, District, Category string
	UseUnitUSCC, UseUnit, FirmUSCC, Firm   string
	InstallYear                            int
	LastInspection                         *time.Time
	LastResult                             string
	NextDue                                *time.Time
	State                                  string
}

// Values returns the row's fields in Lifts.Fields order.
func (r *LiftRow) Values() []any {
	return []any{r.Code, r.DistrictCode, r.District, r.Category, r.UseUnitUSCC, r.UseUnit, r.FirmUSCC, r.Firm,
		r.InstallYear, date(r.LastInspection), str(r.LastResult), date(r.NextDue), r.State}
}

// FirmRow is one row of Firms.
type FirmRow struct {
	USCC, Name       string
	Lifts            int
	Grade            string
	Score, Low, High *float64
	Rank             *int
	ModelVersion     string
	AsOf             *time.Time
}

// Values returns the row's fields in Firms.Fields order.
func (r *FirmRow) Values() []any {
	var rank any
	if r.Rank != nil {
		rank = *r.Rank
	}
	return []any{r.USCC, r.Name, r.Lifts, str(r.Grade), num(r.Score), num(r.Low), num(r.High), rank, str(r.ModelVersion), date(r.AsOf)}
}

// MonthlyRow is one row of Monthly.
type MonthlyRow struct {
	Month                                        time.Time
	AreaCode, Area                               string
	LiftsInUse, Visits, Inspections, PassedFirst int64
	Faults, Entrapments, Reports                 int64
}

// Values returns the row's fields in Monthly.Fields order.
func (r *MonthlyRow) Values() []any {
	return []any{r.Month.Format("2006-01"), r.AreaCode, r.Area, r.LiftsInUse, r.Visits, r.Inspections, r.PassedFirst, r.Faults, r.Entrapments, r.Reports}
}

// SpotCheckRow is one row of SpotChecks.
type SpotCheckRow struct {
	CheckedOn                          time.Time
	Lift, DistrictCode, FirmUSCC, Firm string
	PlanID                             *int64
	Result                             string
	FailedItems                        []string
}

// Values returns the row's fields in SpotChecks.Fields order.
func (r *SpotCheckRow) Values() []any {
	var plan any
	if r.PlanID != nil {
		plan = *r.PlanID
	}
	return []any{r.CheckedOn.Format(time.DateOnly), r.Lift, r.DistrictCode, r.FirmUSCC, r.Firm, plan, r.Result, str(strings.Join(r.FailedItems, " "))}
}

func date(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.Format(time.DateOnly)
}

func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func num(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// Writer writes one dataset's rows as CSV or JSON.
type Writer interface {
	Row(values []any) error
	// Close finishes the document (the JSON array's bracket) and flushes.
	Close() error
}

// BOM is the UTF-8 byte order mark that starts every CSV: without it Excel
// reads the file as the local code page and garbles Chinese.
const BOM = "\ufeff"

// NewCSV writes the BOM and the header of d to w.
func NewCSV(w io.Writer, d Dataset) (Writer, error) {
	bw := bufio.NewWriterSize(w, 32<<10)
	c := &csvWriter{w: bw}
	bw.WriteString(BOM)
	h := make([]any, len(d.Fields))
	for i, f := range d.Fields {
		h[i] = f.Name
	}
	return c, c.Row(h)
}

type csvWriter struct {
	w   *bufio.Writer
	buf []byte
}

// Row writes one record (RFC 4180: fields with a comma, quote or line
// break are quoted, quotes doubled; CRLF line ends, as Excel expects).
func (c *csvWriter) Row(values []any) error {
	b := c.buf[:0]
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSV(b, v)
	}
	b = append(b, '\r', '\n')
	c.buf = b
	_, err := c.w.Write(b)
	return err
}

func (c *csvWriter) Close() error { return c.w.Flush() }

func appendCSV(b []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return b
	case string:
		quote := false
		for i := 0; i < len(x); i++ {
			if c := x[i]; c == ',' || c == '"' || c == '\n' || c == '\r' {
				quote = true
				break
			}
		}
		if !quote {
			return append(b, x...)
		}
		b = append(b, '"')
		for i := 0; i < len(x); i++ {
			if x[i] == '"' {
				b = append(b, '"')
			}
			b = append(b, x[i])
		}
		return append(b, '"')
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		return strconv.AppendFloat(b, x, 'f', -1, 64)
	}
	return fmt.Appendf(b, "%v", v)
}

// NewJSON writes a JSON array of objects keyed by d's field names, one
// object per line.
func NewJSON(w io.Writer, d Dataset) Writer {
	j := &jsonWriter{w: bufio.NewWriterSize(w, 32<<10), keys: make([][]byte, len(d.Fields))}
	for i, f := range d.Fields {
		k, _ := json.Marshal(f.Name)
		j.keys[i] = append(k, ':')
	}
	return j
}

type jsonWriter struct {
	w    *bufio.Writer
	keys [][]byte
	n    int
	buf  []byte
}

func (j *jsonWriter) Row(values []any) error {
	b := j.buf[:0]
	if j.n == 0 {
		b = append(b, "[\n{"...)
	} else {
		b = append(b, ",\n{"...)
	}
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, j.keys[i]...)
		switch x := v.(type) {
		case nil:
			b = append(b, "null"...)
		case int:
			b = strconv.AppendInt(b, int64(x), 10)
		case int64:
			b = strconv.AppendInt(b, x, 10)
		case float64:
			b = strconv.AppendFloat(b, x, 'f', -1, 64)
		default:
			enc, err := json.Marshal(v)
			if err != nil {
				return err
			}
			b = append(b, enc...)
		}
	}
	b = append(b, '}')
	j.n++
	j.buf = b
	_, err := j.w.Write(b)
	return err
}

func (j *jsonWriter) Close() error {
	if j.n == 0 {
		j.w.WriteString("[]\n")
	} else {
		j.w.WriteString("\n]\n")
	}
	return j.w.Flush()
}
