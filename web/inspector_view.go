package web

import (
	"fmt"
	"html/template"
	"time"

	"lifttrust/alert"
	"lifttrust/scoring"
	"lifttrust/web/inspector"
)

// inspectorLayout is what every dashboard page shares.
type inspectorLayout struct {
	Lang    string
	Title   string
	Path    string
	Nav     string
	Scope   string // the inspector's districts, "" for the whole city
	CSRF    string
	Now     time.Time
	Refresh bool // the no-JavaScript 10 s self-refresh
	Live    bool // the stream is there: load the script
}

func (l *inspectorLayout) T(key string) string {
	if m, ok := inspectorMessages[key]; ok {
		return pick(l.Lang, m)
	}
	return portalTr(l.Lang, key)
}
func (l *inspectorLayout) Tf(key string, args ...any) string { return fmt.Sprintf(l.T(key), args...) }
func (l *inspectorLayout) CSS() template.CSS                 { return template.CSS(inspectorCSS) }
func (l *inspectorLayout) JS() template.JS                   { return template.JS(inspectorScript) }
func (l *inspectorLayout) HTMLLang() string                  { return htmlLang(l.Lang) }
func (l *inspectorLayout) OtherLang() string                 { return tr(l.Lang, "lang_other_code") }
func (l *inspectorLayout) OtherHTMLLang() string             { return htmlLang(l.OtherLang()) }
func (l *inspectorLayout) CSRFField() string                 { return CSRFField }
func (l *inspectorLayout) IndName(key string) string         { return indicatorName(l.Lang, key) }
func (l *inspectorLayout) Num(f float64) string              { return num(f) }

// Tabs are the dashboard's sections.
func (l *inspectorLayout) Tabs() [][2]string {
	return [][2]string{{"live", "/inspector"}, {"queues", "/inspector/queues"}, {"appeals", "/inspector/appeals"},
		{"firms", "/inspector/firms"}, {"lifts", "/inspector/lifts"}, {"reports", "/inspector/reports"}, {"spotchecks", "/inspector/spotchecks"}}
}

func (l *inspectorLayout) DateTime(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	t = t.In(scoring.Shanghai)
	if l.Lang == langEN {
		return t.Format("2 Jan 2006 15:04")
	}
	return t.Format("2006年1月2日 15:04")
}

func (l *inspectorLayout) District(zh, en string) string {
	if l.Lang == langEN {
		return en
	}
	return zh
}

// Minutes is the whole minutes from t to the page's time.
func (l *inspectorLayout) Minutes(t time.Time) int { return int(l.Now.Sub(t) / time.Minute) }

// Clocks is an incident's stage and level at the page's time.
func (l *inspectorLayout) Clocks(in inspector.Incident) alert.Clocks { return in.Clocks(l.Now) }

func (l *inspectorLayout) Stage(s string) string { return l.T("stage_" + s) }
func (l *inspectorLayout) Level(s string) string { return l.T("level_" + s) }

type inspectorLivePage struct {
	inspectorLayout
	L inspector.Live
}

type inspectorQueuesPage struct {
	inspectorLayout
	Q       inspector.Queues
	Max     int
	Appeals []inspector.Appeal
	Dead    inspector.DeadLetters
}

// Date is a calendar day in Shanghai ("–" for none).
func (l *inspectorLayout) Date(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	t = t.In(scoring.Shanghai)
	if l.Lang == langEN {
		return t.Format("2 Jan 2006")
	}
	return t.Format("2006年1月2日")
}

type inspectorAppealsPage struct {
	inspectorLayout
	Appeals []inspector.Appeal
	Done    []inspector.DecidedAppeal
	FormID  int64
	FormErr string
	Decided int64
}

type inspectorErrorPage struct {
	inspectorLayout
	Status int
	ZH, EN string
	Msg    string
}

// inspectorMessages are the dashboard's own strings, Chinese first.
var inspectorMessages = map[string][2]string{
	"inspector":         {"特种设备监察工作台", "Inspectors' dashboard"},
	"inspector_nav":     {"监察导航", "Dashboard navigation"},
	"scope_city":        {"全市", "Whole city"},
	"scope":             {"辖区", "Districts"},
	"nav_live":          {"实时监测", "Live"},
	"nav_queues":        {"待办队列", "Queues"},
	"q_maint":           {"半月维保逾期", "Half-monthly maintenance overdue"},
	"q_insp":            {"定期检验已过期或 30 天内到期", "Inspections expired or due within 30 days"},
	"q_reports":         {"乘客报告超过 3 个工作日未答复", "Passenger reports unanswered past 3 working days"},
	"sound":             {"有人被困时发出提示音", "Sound an alert when someone is trapped"},
	"q_csv":             {"导出 CSV（全部）", "Export CSV (all rows)"},
	"q_empty":           {"无。", "None."},
	"q_more":            {"仅列出前 %d 条。", "Only the first %d are listed."},
	"col_last_visit":    {"上次维保", "Last visit"},
	"col_next_insp":     {"检验到期", "Inspection due"},
	"col_expired":       {"已过期", "Expired"},
	"col_due_soon":      {"即将到期", "Due soon"},
	"col_tracking":      {"编号", "Tracking no."},
	"col_category":      {"类别", "Category"},
	"col_status":        {"状态", "Status"},
	"col_created":       {"提交时间", "Filed"},
	"col_deadline":      {"答复期限", "Answer due"},
	"nav_appeals":       {"待处理申诉", "Appeals to decide"},
	"live_note":         {"本页每 10 秒自动刷新；启用脚本时有变化即更新。", "This page refreshes every 10 s, and at once on a change when scripts are on."},
	"trapped_now":       {"当前困人", "People trapped now"},
	"trapped_none":      {"当前无困人事件。", "No one is trapped now."},
	"faults_now":        {"当前故障电梯", "Lifts in fault now"},
	"faults_none":       {"当前无故障电梯。", "No lift is in fault now."},
	"offline_now":       {"离线电梯", "Lifts offline"},
	"by_district":       {"各区电梯状态", "Lifts by state per district"},
	"col_lift":          {"电梯", "Lift"},
	"col_place":         {"地点", "Place"},
	"col_district":      {"区", "District"},
	"col_firm":          {"维保单位", "Firm"},
	"col_since":         {"报警至今", "Since the alarm"},
	"col_stage":         {"救援阶段", "Rescue stage"},
	"col_level":         {"紧急程度", "Urgency"},
	"col_code":          {"故障代码", "Fault code"},
	"col_raised":        {"发生时间", "Raised"},
	"col_lifts":         {"电梯总数", "Lifts"},
	"col_trapped":       {"困人", "Trapped"},
	"col_fault":         {"故障", "Fault"},
	"col_offline":       {"离线", "Offline"},
	"col_ok":            {"正常", "In service"},
	"col_out":           {"停用", "Not in use"},
	"minutes":           {"%d 分钟", "%d min"},
	"stage_occurred":    {"已报警", "Alarm raised"},
	"stage_notified":    {"已通知维保", "Firm notified"},
	"stage_responded":   {"已响应", "Responded"},
	"stage_arrived":     {"已到场", "On site"},
	"stage_released":    {"已解困", "Released"},
	"stage_false_alarm": {"误报", "False alarm"},
	"level_ok":          {"正常", "On time"},
	"level_amber":       {"超过 15 分钟", "Past 15 min"},
	"level_red":         {"超过 30 分钟", "Past 30 min"},
	"appeals_none":      {"没有待处理的申诉。", "No appeal is waiting for a decision."},
	"appeal_n":          {"申诉 #%d", "Appeal #%d"},
	"appeal_firm":       {"维保单位", "Firm"},
	"appeal_record":     {"被申诉记录", "Disputed record"},
	"appeal_reason":     {"单位理由", "The firm's reason"},
	"appeal_filed":      {"提交时间", "Filed"},
	"appeal_evidence":   {"当前评分中的扣分", "Points lost in the current score"},
	"appeal_no_evid":    {"该记录已不在当前评分中。", "The record is no longer in the current score."},
	"decision":          {"决定", "Decision"},
	"decision_accept":   {"接受（重新评分）", "Accept (rescore the firm)"},
	"decision_reject":   {"驳回", "Reject"},
	"decision_reason":   {"理由（双方可见）", "Reason (both sides see it)"},
	"decide":            {"提交决定", "Submit the decision"},
	"decided":           {"申诉 #%d 已处理，维保单位可在其工作台看到结果。", "Appeal #%d is decided; the firm sees the outcome in its portal."},
	"error_back":        {"返回实时监测", "Back to the live screen"},
	"decided_h":         {"近 30 天已处理的申诉", "Appeals decided in the last 30 days"},
	"decided_none":      {"近 30 天没有已处理的申诉。", "No appeal was decided in the last 30 days."},
	"col_appeal":        {"申诉", "Appeal"},
	"col_outcome":       {"结果", "Outcome"},
	"col_decided":       {"处理时间", "Decided"},
	"col_decided_by":    {"处理人", "Decided by"},
	"col_reason":        {"理由", "Reason"},
	"outcome_accepted":  {"申诉成立", "Accepted"},
	"outcome_rejected":  {"驳回", "Rejected"},
	"col_indicator":     {"指标", "Indicator"},
	"col_points":        {"扣分", "Points"},
	"col_time":          {"时间", "Time"},
}
