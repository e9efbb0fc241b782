package web

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"lifttrust/spotcheck"
)

// spotCheckPlanPage is the month's plan.
type spotCheckPlanPage struct {
	inspectorLayout
	Month       time.Time
	Prev, Next  string // YYYY-MM
	HasPlan     bool
	P           spotcheck.Plan
	Checks      []spotcheck.Planned
	CanDraw     bool // a city-wide inspector: may draw the month's plan
	Created     bool
	Recorded    int64
	FormMonth   string
	FormChecks  string
	FormSeed    string
	FormErr     string
	MaxChecks   int
	GradeWeight []string
}

// spotCheckFormPage is the form for one check.
type spotCheckFormPage struct {
	inspectorLayout
	C         spotcheck.Planned
	Items     []spotcheck.Item
	Answers   map[string]string // item code → pass|fail as entered
	Notes     map[string]string
	Overall   string
	Minutes   string
	CheckedOn string
	Today     string
	Errs      []string
	Bad       []string // item codes with an error
}

func (l *spotCheckPlanPage) CSS() template.CSS { return template.CSS(spotCheckCSS) }
func (l *spotCheckFormPage) CSS() template.CSS { return template.CSS(spotCheckCSS) }

// IsBad reports whether an item has an error on the form.
func (v *spotCheckFormPage) IsBad(code string) bool { return slices.Contains(v.Bad, code) }

// ItemText is a checklist item in the page's language.
func (l *inspectorLayout) ItemText(it spotcheck.Item) string {
	if l.Lang == langEN {
		return it.EN
	}
	return it.ZH
}

// ChecklistName names a lift's checklist and its size.
func (l *inspectorLayout) ChecklistName(category string) string {
	return l.Tf("sc_list_"+spotcheck.ChecklistKind(category), len(spotcheck.ChecklistFor(category)))
}

// MonthName is a plan's month.
func (l *inspectorLayout) MonthName(t time.Time) string {
	if l.Lang == langEN {
		return t.Format("January 2006")
	}
	return t.Format("2006年1月")
}

// Pct is a probability as a percentage with enough digits for small ones.
func (l *inspectorLayout) Pct(p float64) string {
	if p >= 0.1 {
		return fmt.Sprintf("%.0f %%", 100*p)
	}
	return fmt.Sprintf("%.2f %%", 100*p)
}

// Weights are a plan's published weights in words.
func (l *inspectorLayout) Weights(w spotcheck.Weights) string {
	var g []string
	for _, k := range []string{"A", "B", "C", "D"} {
		g = append(g, fmt.Sprintf("%s %g", k, w.Grade[k]))
	}
	pw := w.Power
	if pw == 0 {
		pw = 1
	}
	return l.Tf("sc_weights_fmt", strings.Join(g, ", "), w.Ungraded, pw, 100*w.Uniform)
}

// spotCheckMessages are the spot-check pages' strings, Chinese first. They
// join the dashboard's catalogue (init), so its layout and its catalogue
// test know them.
var spotCheckMessages = map[string][2]string{
	"nav_spotchecks":     {"监督抽查", "Spot checks"},
	"sc_plan_h":          {"%s 抽查计划", "Spot-check plan for %s"},
	"sc_prev":            {"上一月", "Previous month"},
	"sc_next":            {"下一月", "Next month"},
	"sc_months":          {"选择月份", "Choose the month"},
	"sc_no_plan":         {"本月尚无抽查计划。", "This month has no plan yet."},
	"sc_created":         {"抽查计划已生成。", "The plan was drawn."},
	"sc_recorded":        {"抽查结果 #%d 已记录，维保单位的信用分将据此更新。", "Spot check #%d is recorded; the firm's score will take it into account."},
	"sc_summary":         {"计划摘要", "About this plan"},
	"sc_checks":          {"抽查数量", "Checks"},
	"sc_seed":            {"随机种子（公开）", "Seed (published)"},
	"sc_weights":         {"权重（公开）", "Weights (published)"},
	"sc_weights_fmt":     {"信用等级 %s；未评分 %g；幂次 %g；%.0f %% 均匀随机抽取", "grades %s; unscored %g; power %g; %.0f %% drawn uniformly at random"},
	"sc_published":       {"月份结束后公开", "Published after the month"},
	"sc_unassigned":      {"未分配监察员", "Without an inspector"},
	"sc_in_scope":        {"您辖区内的抽查（%d 项）", "Checks in your districts (%d)"},
	"sc_none_in_scope":   {"本计划在您的辖区内没有抽中电梯。", "The plan drew no lift in your districts."},
	"col_prob":           {"抽中概率", "Selection probability"},
	"col_inspector":      {"监察员", "Inspector"},
	"col_checklist":      {"检查清单", "Checklist"},
	"col_result":         {"结果", "Result"},
	"sc_unassigned_1":    {"未分配", "Unassigned"},
	"sc_todo":            {"记录检查", "Record the check"},
	"sc_pass":            {"合格", "Passed"},
	"sc_fail":            {"不合格", "Failed"},
	"sc_list_traction":   {"曳引与强制驱动电梯（%d 项）", "Traction and positive-drive lifts (%d items)"},
	"sc_list_escalator":  {"自动扶梯与自动人行道（%d 项）", "Escalators and moving walks (%d items)"},
	"sc_list_dumbwaiter": {"杂物电梯（%d 项）", "Dumbwaiters (%d items)"},
	"sc_draw_h":          {"生成本月抽查计划", "Draw a month's plan"},
	"sc_draw_note":       {"按维保单位信用等级和电梯风险预测加权抽取，另有固定比例均匀随机抽取；同一种子与数据得到同一计划。每月仅一份计划。", "Drawn by the firm's grade and the lift's risk forecast, with a fixed share drawn uniformly at random; the same seed and data give the same plan. One plan per month."},
	"sc_draw_city":       {"抽查计划覆盖全市，由全市监察员生成。", "A plan covers the whole city and is drawn by a city-wide inspector."},
	"sc_month":           {"月份（YYYY-MM）", "Month (YYYY-MM)"},
	"sc_n":               {"抽查数量", "Number of checks"},
	"sc_seed_opt":        {"随机种子（可留空）", "Seed (optional)"},
	"sc_draw":            {"生成计划", "Draw the plan"},
	"sc_record":          {"记录抽查结果", "Record a spot check"},
	"sc_lift_h":          {"电梯 %s", "Lift %s"},
	"sc_errs":            {"请更正以下问题：", "Please correct the following:"},
	"sc_items":           {"检查项目（TSG T5002）", "Checklist items (TSG T5002)"},
	"sc_note":            {"备注（不合格时必填）", "Note (required when failed)"},
	"sc_overall":         {"总体结论", "Overall result"},
	"sc_overall_note":    {"任一项目不合格时，总体结论为不合格。", "If any item failed, the overall result is failed."},
	"sc_minutes":         {"现场用时（分钟）", "Time on site (minutes)"},
	"sc_date":            {"检查日期", "Date of the check"},
	"sc_save":            {"保存检查结果", "Save the result"},
	"sc_back":            {"返回本月计划", "Back to the month's plan"},
	"sc_done":            {"已于 %s 记录：%s", "Recorded on %s: %s"},
	"sc_failed_items":    {"不合格项目", "Failed items"},
	"sc_address":         {"地址", "Address"},
	"sc_assigned":        {"指派监察员", "Inspector assigned"},
}

func init() {
	for k, m := range spotCheckMessages {
		if _, dup := inspectorMessages[k]; dup {
			panic("web: spot-check message " + k + " is a dashboard message already")
		}
		inspectorMessages[k] = m
	}
}
