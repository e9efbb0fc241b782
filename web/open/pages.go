package open

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"html/template"
	"time"

	"github.com/gofiber/fiber/v2"

	"lifttrust"
	"lifttrust/opendata"
	"lifttrust/report"
)

// reportTimeout bounds computing one year's report (two years of figures;
// a few seconds on the city fleet).
const reportTimeout = 2 * time.Minute

// ReportJSON serves GET /open/reports/{year}.json: the figures of the
// report, as report.json of `lifttrust report`.
func (h *Handler) ReportJSON(c *fiber.Ctx) error {
	r, err := h.report(c)
	if err != nil {
		return err
	}
	return h.sendBytes(c, r.json, fiber.MIMEApplicationJSONCharsetUTF8, r.mark.ETag(fmt.Sprintf("report%d", r.year)), r.mark.ChangedAt)
}

// ReportPage serves GET /reports/{year}: the report as a page, Chinese or
// (?lang=en) English.
func (h *Handler) ReportPage(c *fiber.Ctx) error {
	r, err := h.report(c)
	if err != nil {
		return err
	}
	lang := report.LangZH
	if c.Query("lang") == report.LangEN {
		lang = report.LangEN
	}
	body, ok := r.html[lang]
	if !ok {
		return fmt.Errorf("report page %d: no %s rendering", r.year, lang)
	}
	return h.sendBytes(c, body, fiber.MIMETextHTMLCharsetUTF8, r.mark.ETag(fmt.Sprintf("report%d-%s", r.year, lang)), r.mark.ChangedAt)
}

// report returns the year's report at the current data version, computing
// it when the data changed since it was cached: an invalid year is
// lifttrust.ErrInvalid, a year without lifts ErrNotFound (the server's
// error table renders both in the visitor's language).
func (h *Handler) report(c *fiber.Ctx) (*cachedReport, error) {
	year, ok := h.parseYear(c)
	if !ok {
		return nil, lifttrust.Errorf(lifttrust.ErrInvalid, "年份应为四位数字，例如 2025 / The year must be four digits, such as 2025.")
	}
	ctx, cancel := context.WithTimeout(context.Background(), reportTimeout)
	defer cancel()
	has, err := h.cfg.Reports.HasData(ctx, year)
	if err != nil {
		return nil, err
	}
	if !has {
		return nil, lifttrust.Errorf(lifttrust.ErrNotFound, "没有 %d 年的数据 / There is no data for %d.", year, year)
	}
	mark, err := h.cfg.Reports.Mark(ctx)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.reports[year]; r != nil && r.mark == mark {
		return r, nil
	}
	cur, prev, m, err := h.cfg.Reports.YearAndPrevious(ctx, year)
	if err != nil {
		return nil, err
	}
	doc := report.NewDocument(cur, prev, h.cfg.Now())
	r := &cachedReport{year: year, mark: m, generated: h.cfg.Now(), html: map[string][]byte{}}
	if r.json, err = doc.JSON(); err != nil {
		return nil, err
	}
	for _, lang := range []string{report.LangZH, report.LangEN} {
		other := "?lang=en"
		if lang == report.LangEN {
			other = "?lang=zh"
		}
		var b bytes.Buffer
		err := report.Render(&b, doc, report.Options{Lang: lang, GeneratedAt: r.generated,
			OtherLangHref: fmt.Sprintf("/reports/%d%s", year, other), JSONHref: fmt.Sprintf("/open/reports/%d.json", year), OpenHref: "/open"})
		if err != nil {
			return nil, err
		}
		r.html[lang] = b.Bytes()
	}
	h.reports[year] = r
	return r, nil
}

//go:embed index.html.tmpl
var indexSrc string

var indexTmpl = template.Must(template.New("open").Parse(indexSrc))

type indexView struct {
	Lang, HTMLLang, OtherHref, OtherLang, OtherHTMLLang string
	T                                                   map[string]string
	Datasets                                            []datasetView
	Years                                               []int
	Licence                                             string
	LicenceURL                                          string
}

type datasetView struct {
	Name, Title, Desc, Freq string
	Links                   []string
	Fields                  []fieldView
}

type fieldView struct{ Name, Type, Desc string }

// Index serves GET /open: the datasets, their fields, update frequency
// and licence, and the reports of recent years.
func (h *Handler) Index(c *fiber.Ctx) error {
	li := 0
	v := indexView{Lang: "zh", HTMLLang: "zh-CN", OtherHref: "/open?lang=en", OtherLang: "English", OtherHTMLLang: "en",
		Licence: opendata.LicenceZH, LicenceURL: opendata.LicenceURL}
	if c.Query("lang") == "en" {
		li = 1
		v = indexView{Lang: "en", HTMLLang: "en", OtherHref: "/open?lang=zh", OtherLang: "中文", OtherHTMLLang: "zh-CN",
			Licence: opendata.LicenceEN, LicenceURL: opendata.LicenceURL}
	}
	v.T = map[string]string{}
	for k, s := range indexText {
		v.T[k] = s[li]
	}
	for _, d := range opendata.All {
		dv := datasetView{Name: d.Name, Title: [2]string{d.TitleZH, d.TitleEN}[li], Desc: [2]string{d.DescZH, d.DescEN}[li], Freq: [2]string{d.FreqZH, d.FreqEN}[li]}
		for _, f := range d.Formats {
			dv.Links = append(dv.Links, "/open/"+d.Name+"."+f)
		}
		for _, f := range d.Fields {
			dv.Fields = append(dv.Fields, fieldView{f.Name, f.Type, [2]string{f.ZH, f.EN}[li]})
		}
		v.Datasets = append(v.Datasets, dv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	this := h.cfg.Now().In(shanghai).Year()
	for y := this; y > this-4; y-- {
		ok, err := h.cfg.Reports.HasData(ctx, y)
		if err != nil {
			return err
		}
		if ok {
			v.Years = append(v.Years, y)
		}
	}
	var b bytes.Buffer
	if err := indexTmpl.Execute(&b, v); err != nil {
		return fmt.Errorf("render /open: %w", err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(b.Bytes())
}

var shanghai = time.FixedZone("CST", 8*3600)

var indexText = map[string][2]string{
	"title":     {"开放数据", "Open data"},
	"intro":     {"LiftTrust 上海市电梯安全监管平台公开以下数据集，供公众、研究者和媒体免费使用。数据集不含任何个人信息：没有维保人员姓名或证书编号、个人电话号码，也没有乘客报告的内容。", "The LiftTrust lift safety platform of Shanghai publishes these datasets for anyone to use free of charge. They hold no personal data: no technician names or certificate numbers, no personal phone numbers, no passenger report texts."},
	"datasets":  {"数据集", "Datasets"},
	"download":  {"下载", "Download"},
	"freq":      {"更新频率", "Update frequency"},
	"fields":    {"字段说明", "Fields"},
	"field":     {"字段", "Field"},
	"type":      {"类型", "Type"},
	"meaning":   {"含义", "Meaning"},
	"formats":   {"格式说明：CSV 为 UTF-8 编码（带 BOM，Excel 可直接打开中文），JSON 为对象数组；空值在 CSV 中为空、在 JSON 中为 null。支持 gzip 压缩、ETag 和 Last-Modified 条件请求。", "Formats: CSV is UTF-8 with a byte order mark (Excel opens the Chinese correctly); JSON is an array of objects; a missing value is empty in CSV and null in JSON. Responses are gzipped on request and carry ETag and Last-Modified for conditional requests."},
	"reports":   {"年度电梯安全状况报告", "Yearly lift safety status reports"},
	"report_y":  {"%d 年度报告", "Report %d"},
	"report_js": {"数据（JSON）", "Figures (JSON)"},
	"no_report": {"暂无报告。", "No report yet."},
	"licence":   {"许可协议", "Licence"},
	"lang":      {"语言", "Language"},
}
