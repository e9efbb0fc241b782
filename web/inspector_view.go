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
		{"firms", "/inspector/firms"}, {"lifts", "/inspector/lifts"}, {"reports", "/inspector/reports"}}
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
	"inspector":                    {"特种设备监察工作台", "Inspectors' dashboard"},
	"inspector_nav":                {"监察导航", "Dashboard navigation"},
	"scope_city":                   {"全市", "Whole city"},
	"scope":                        {"辖区", "Districts"},
	"nav_live":                     {"实时监测", "Live"},
	"nav_queues":                   {"待办队列", "Queues"},
	"q_maint":                      {"半月维保逾期", "Half-monthly maintenance overdue"},
	"q_insp":                       {"定期检验已过期或 30 天内到期", "Inspections expired or due within 30 days"},
	"q_reports":                    {"乘客报告超过 3 个工作日未答复", "Passenger reports unanswered past 3 working days"},
	"sound":                        {"有人被困时发出提示音", "Sound an alert when someone is trapped"},
	"q_csv":                        {"导出 CSV（全部）", "Export CSV (all rows)"},
	"q_empty":                      {"无。", "None."},
	"q_more":                       {"仅列出前 %d 条。", "Only the first %d are listed."},
	"col_last_visit":               {"上次维保", "Last visit"},
	"col_next_insp":                {"检验到期", "Inspection due"},
	"col_expired":                  {"已过期", "Expired"},
	"col_due_soon":                 {"即将到期", "Due soon"},
	"col_tracking":                 {"编号", "Tracking no."},
	"col_category":                 {"类别", "Category"},
	"col_status":                   {"状态", "Status"},
	"col_created":                  {"提交时间", "Filed"},
	"col_deadline":                 {"答复期限", "Answer due"},
	"nav_appeals":                  {"待处理申诉", "Appeals to decide"},
	"live_note":                    {"本页每 10 秒自动刷新；启用脚本时有变化即更新。", "This page refreshes every 10 s, and at once on a change when scripts are on."},
	"trapped_now":                  {"当前困人", "People trapped now"},
	"trapped_none":                 {"当前无困人事件。", "No one is trapped now."},
	"faults_now":                   {"当前故障电梯", "Lifts in fault now"},
	"faults_none":                  {"当前无故障电梯。", "No lift is in fault now."},
	"offline_now":                  {"离线电梯", "Lifts offline"},
	"by_district":                  {"各区电梯状态", "Lifts by state per district"},
	"col_lift":                     {"电梯", "Lift"},
	"col_place":                    {"地点", "Place"},
	"col_district":                 {"区", "District"},
	"col_firm":                     {"维保单位", "Firm"},
	"col_since":                    {"报警至今", "Since the alarm"},
	"col_stage":                    {"救援阶段", "Rescue stage"},
	"col_level":                    {"紧急程度", "Urgency"},
	"col_code":                     {"故障代码", "Fault code"},
	"col_raised":                   {"发生时间", "Raised"},
	"col_lifts":                    {"电梯总数", "Lifts"},
	"col_trapped":                  {"困人", "Trapped"},
	"col_fault":                    {"故障", "Fault"},
	"col_offline":                  {"离线", "Offline"},
	"col_ok":                       {"正常", "In service"},
	"col_out":                      {"停用", "Not in use"},
	"minutes":                      {"%d 分钟", "%d min"},
	"stage_occurred":               {"已报警", "Alarm raised"},
	"stage_notified":               {"已通知维保", "Firm notified"},
	"stage_responded":              {"已响应", "Responded"},
	"stage_arrived":                {"已到场", "On site"},
	"stage_released":               {"已解困", "Released"},
	"stage_false_alarm":            {"误报", "False alarm"},
	"level_ok":                     {"正常", "On time"},
	"level_amber":                  {"超过 15 分钟", "Past 15 min"},
	"level_red":                    {"超过 30 分钟", "Past 30 min"},
	"appeals_none":                 {"没有待处理的申诉。", "No appeal is waiting for a decision."},
	"appeal_n":                     {"申诉 #%d", "Appeal #%d"},
	"appeal_firm":                  {"维保单位", "Firm"},
	"appeal_record":                {"被申诉记录", "Disputed record"},
	"appeal_reason":                {"单位理由", "The firm's reason"},
	"appeal_filed":                 {"提交时间", "Filed"},
	"appeal_evidence":              {"当前评分中的扣分", "Points lost in the current score"},
	"appeal_no_evid":               {"该记录已不在当前评分中。", "The record is no longer in the current score."},
	"decision":                     {"决定", "Decision"},
	"decision_accept":              {"接受（重新评分）", "Accept (rescore the firm)"},
	"decision_reject":              {"驳回", "Reject"},
	"decision_reason":              {"理由（双方可见）", "Reason (both sides see it)"},
	"decide":                       {"提交决定", "Submit the decision"},
	"decided":                      {"申诉 #%d 已处理，维保单位可在其工作台看到结果。", "Appeal #%d is decided; the firm sees the outcome in its portal."},
	"error_back":                   {"返回实时监测", "Back to the live screen"},
	"col_indicator":                {"指标", "Indicator"},
	"col_points":                   {"扣分", "Points"},
	"col_time":                     {"时间", "Time"},
	"nav_firms":                    {"维保单位", "Firms"},
	"nav_lifts":                    {"电梯查询", "Lifts"},
	"nav_reports":                  {"乘客报告", "Passenger reports"},
	"nav_dead_letters":             {"被拒收的数据", "Rejected ingest"},
	"firms_note":                   {"全市所有维保单位按当前评分排名（试评分不参与排名）。点击单位查看与其工作台相同的评分说明（只读）。", "Every firm in the city ranked by its current score (provisional scores are not ranked). Open a firm to see the same score page it sees, read-only."},
	"firms_rank":                   {"单位排名", "Ranking"},
	"grade_dist":                   {"等级分布", "Grade distribution"},
	"grade_firms":                  {"%s 级 %d 家", "grade %s: %d firms"},
	"col_grade":                    {"等级", "Grade"},
	"col_firms":                    {"单位数", "Firms"},
	"col_rank":                     {"名次", "Rank"},
	"col_score":                    {"评分", "Score"},
	"col_as_of":                    {"评分截至", "Scored to"},
	"unscored":                     {"未评分", "Not scored"},
	"lift_search":                  {"注册代码、地址、区，或维保单位名称、统一社会信用代码", "Registration code, address, district, or a firm's name or USCC"},
	"search_btn":                   {"搜索", "Search"},
	"lifts_none":                   {"没有符合条件的电梯。", "No lift matches."},
	"lift_n":                       {"电梯 %s", "Lift %s"},
	"live_state":                   {"当前状态", "Now"},
	"iot":                          {"物联网监测", "IoT monitor"},
	"iot_none":                     {"未接入", "None"},
	"online":                       {"在线", "Online"},
	"last_seen":                    {"最近心跳", "last heartbeat"},
	"floor_n":                      {"%d 层", "floor %d"},
	"history_12m":                  {"近 12 个月记录", "The last 12 months"},
	"episodes":                     {"非正常运行时段", "Periods out of normal service"},
	"col_state":                    {"状态", "State"},
	"ep_stopped":                   {"停梯", "Stopped"},
	"ep_inspection":                {"检修", "Inspection mode"},
	"ep_fire_return":               {"消防返回", "Fire return"},
	"ep_firefighter":               {"消防员操作", "Firefighter service"},
	"ep_emergency_power":           {"应急电源", "Emergency power"},
	"ep_earthquake":                {"地震", "Earthquake"},
	"ep_unknown":                   {"未知", "Unknown"},
	"ep_offline":                   {"离线", "Offline"},
	"ep_trapped":                   {"困人", "Trapped"},
	"reports_note":                 {"未答复的报告在前（困人优先，最早的在最上）。超过 3 个工作日未答复的标红。", "Unanswered reports first (trapped first, oldest on top). Those unanswered past 3 working days are in red."},
	"rstatus_escalated":            {"已升级处理", "Escalated"},
	"rstatus_late":                 {"超过 3 个工作日未答复", "Unanswered past 3 working days"},
	"col_age":                      {"已过工作日", "Age"},
	"workdays":                     {"%d 个工作日", "%d working days"},
	"past_3_days":                  {"超过 3 个工作日", "past 3 working days"},
	"escalated":                    {"已升级处理", "Escalated"},
	"incident":                     {"困人事件", "Entrapment"},
	"insp_note":                    {"监察说明", "Inspector's note"},
	"report_act":                   {"处理此报告", "Act on this report"},
	"escalate_note":                {"升级说明（可选）", "Note (optional)"},
	"escalate":                     {"升级处理", "Escalate"},
	"close_note":                   {"关闭说明（必填）", "Note (required)"},
	"close_report":                 {"关闭报告", "Close the report"},
	"report_done":                  {"报告 %s 已处理。", "Report %s is updated."},
	"page_n":                       {"第 %d 页，共 %d 页", "Page %d of %d"},
	"q_dead":                       {"被拒收的数据", "Rejected ingest (dead letters)"},
	"q_dead_page":                  {"按原因和来源查看", "See by reason and source"},
	"q_maint_firms":                {"按维保单位", "By firm"},
	"q_desk":                       {"在报告页处理", "Act on them on the reports page"},
	"q_decide":                     {"前往处理", "Decide them"},
	"col_appeal":                   {"申诉", "Appeal"},
	"col_overdue_lifts":            {"逾期电梯数", "Lifts overdue"},
	"no_firm":                      {"无维保单位", "No firm"},
	"dl_note":                      {"数据接入拒收的消息（保留期内），按原因和来源统计。", "Messages ingest refused (within retention), by reason and source."},
	"dl_scope":                     {"仅显示主题指向本辖区电梯的消息。", "Only messages whose topic names a lift of your districts are shown."},
	"dl_counts":                    {"按原因和来源", "By reason and source"},
	"dl_latest":                    {"最近拒收", "Latest"},
	"col_reason":                   {"原因", "Reason"},
	"col_source":                   {"来源", "Source"},
	"col_count":                    {"条数", "Count"},
	"col_latest":                   {"最近一次", "Latest"},
	"col_topic":                    {"主题", "Topic"},
	"col_detail":                   {"说明", "Detail"},
	"col_size":                     {"字节", "Bytes"},
	"src_mqtt":                     {"MQTT 消息", "MQTT"},
	"src_http":                     {"HTTP 上传", "HTTP upload"},
	"dlr_oversize":                 {"消息过大", "Too large"},
	"dlr_unknown_kind":             {"主题不在接口内", "Topic outside the interface"},
	"dlr_bad_json":                 {"JSON 格式错误", "Bad JSON"},
	"dlr_invalid_field":            {"字段值无效", "Invalid field"},
	"dlr_future_ts":                {"时间超前", "Time in the future"},
	"dlr_stale_ts":                 {"时间过旧", "Time too old"},
	"dlr_unknown_lift":             {"未知电梯", "Unknown lift"},
	"dlr_unknown_firm":             {"未知维保单位", "Unknown firm"},
	"dlr_unknown_agency":           {"未知检验机构", "Unknown agency"},
	"dlr_mismatch":                 {"主题身份不符", "Topic identity mismatch"},
	"dlr_unknown_incident":         {"无对应困人事件", "No such entrapment"},
	"dlr_db_rejected":              {"数据库拒绝", "Refused by the database"},
	"dlr_conflict":                 {"与已提交记录冲突", "Conflicts with a filed record"},
	"dlr_technician_of_other_firm": {"维保人员属于其他单位", "Technician of another firm"},
	"dlr_unknown_technician":       {"未知维保人员", "Unknown technician"},
}
