package web

import (
	"fmt"
	"strings"
)

// Languages the pages speak: Chinese first (the default), English second.
const (
	langZH = "zh"
	langEN = "en"
)

// messages holds every user-facing string in both languages; a test checks
// that none is missing in either.
var messages = map[string][2]string{
	"site":            {"电梯安全信息", "Lift safety information"},
	"lang_other":      {"English", "中文"},
	"lang_other_code": {"en", "zh"},
	"prefs":           {"语言和字号", "Language and text size"},
	"pages":           {"翻页", "Pages"},
	"large_on":        {"大字模式", "Large text"},
	"large_off":       {"标准字号", "Standard text"},
	"emergency_title": {"被困在电梯里？", "Trapped in the lift?"},
	"emergency_call":  {"电梯应急救援电话", "Lift emergency number"},
	"firm_duty":       {"维保单位 24 小时值班电话", "Maintenance firm's 24-hour duty line"},
	"police":          {"紧急情况也可拨打 110。", "In an emergency you can also call 110."},
	"stay_calm":       {"保持冷静，按轿厢内警铃，不要强行扒门。", "Stay calm, press the alarm button in the car, and do not force the doors."},

	"status_title":         {"电梯当前状态", "Current status"},
	"state_in_service":     {"正常运行", "In service"},
	"state_maintenance":    {"维保中（检修状态），请勿乘坐", "Under maintenance: do not use"},
	"state_fault":          {"故障，请勿乘坐", "Fault: do not use"},
	"state_out_of_service": {"停止运行", "Out of service"},
	"state_trapped":        {"有乘客被困，救援进行中", "Passenger trapped: rescue under way"},
	"state_offline":        {"暂无实时数据（监测设备离线）", "No live data: the monitor is offline"},
	"state_no_iot":         {"暂无实时数据（本电梯未接入物联网监测）", "No live data: this lift has no IoT monitor"},
	// The status block's sentences, one per fact (status.go), worst first.
	"status_trapped":        {"有乘客被困，救援进行中，请勿乘坐", "Passenger trapped: rescue under way, do not use"},
	"status_fault":          {"故障，请勿乘坐", "Fault: do not use"},
	"status_maintenance":    {"维保中（检修状态），请勿乘坐", "Under maintenance: do not use"},
	"status_out_of_service": {"停止运行，请勿乘坐", "Out of service: do not use"},
	"status_insp_expired":   {"检验合格证已过期", "Inspection certificate expired"},
	"status_insp_none":      {"无定期检验记录，无法确认是否检验合格", "No periodic inspection on record: certification cannot be confirmed"},
	"status_maint_overdue":  {"超过 15 天未按规定保养", "Routine service overdue (over 15 days)"},
	"status_offline":        {"暂无实时数据（监测设备离线）", "No live data: the monitor is offline"},
	"status_no_iot":         {"暂无实时数据（本电梯未接入物联网监测）", "No live data: this lift has no IoT monitor"},
	"status_in_service":     {"正常运行，按期保养，检验合格", "In service, serviced on schedule, certificate valid"},
	"insp_none_detail":      {"没有这部电梯的定期检验记录：请向使用单位询问检验合格证。", "No periodic inspection of this lift is on record: ask the use unit for the inspection certificate."},
	"last_heartbeat":        {"最近一次数据", "Last heartbeat"},
	"none":                  {"无", "none"},
	"since":                 {"开始于", "Since"},
	"open_faults":           {"未消除的故障", "Open faults"},

	"firm_title":  {"维保单位", "Maintenance firm"},
	"no_firm":     {"暂无维保单位登记，请联系使用单位。", "No maintenance firm is on record; please contact the use unit."},
	"grade":       {"信用等级", "Credit grade"},
	"score":       {"信用分", "Credit score"},
	"points":      {"分", "points"},
	"rank":        {"全市排名", "Rank in the city"},
	"rank_of":     {"第 %d 名（共 %d 家）", "%d of %d"},
	"not_scored":  {"尚未评分", "Not yet scored"},
	"provisional": {"（暂定，数据不足）", "(provisional: limited data)"},
	"grade_A":     {"A 级：信用优秀，维保质量可靠", "Grade A: excellent, reliable maintenance"},
	"grade_B":     {"B 级：信用良好，个别方面需改进", "Grade B: good, with minor shortcomings"},
	"grade_C":     {"C 级：信用一般，问题较多，受到重点关注", "Grade C: fair, repeated shortcomings, under closer watch"},
	"grade_D":     {"D 级：信用较差，列为重点监管对象", "Grade D: poor, under intensive supervision"},
	"grade_none":  {"该单位尚未评分", "This firm has not been scored yet"},
	"firm_link":   {"查看该单位的信用详情", "See this firm's credit details"},

	"maint_title":                     {"维保与检验", "Maintenance and inspection"},
	"last_maint":                      {"最近一次维保", "Last maintenance"},
	"kind_half_monthly":               {"半月保养", "Half-monthly service"},
	"kind_quarterly":                  {"季度保养", "Quarterly service"},
	"kind_half_yearly":                {"半年保养", "Half-yearly service"},
	"kind_yearly":                     {"年度保养", "Yearly service"},
	"kind_repair":                     {"维修", "Repair"},
	"technicians":                     {"维保人员", "Technicians"},
	"no_maint":                        {"无维保记录", "No maintenance on record"},
	"maint_overdue":                   {"已超过 15 天未按规定保养", "Overdue: no routine service in the last 15 days"},
	"maint_ok":                        {"按期保养（每 15 天至少一次）", "Serviced on schedule (at least every 15 days)"},
	"last_insp":                       {"最近一次定期检验", "Last periodic inspection"},
	"result_pass":                     {"合格", "Pass"},
	"result_fail":                     {"不合格", "Fail"},
	"result_pass_after_rectification": {"整改后合格", "Pass after rectification"},
	"next_due":                        {"下次检验日期", "Next inspection due"},
	"insp_expired":                    {"检验合格证已过期：请谨慎乘坐，并向使用单位反映。", "The inspection certificate has expired: take care, and tell the use unit."},
	"no_insp":                         {"无定期检验记录", "No periodic inspection on record"},

	"identity_title": {"核对电梯信息", "Check this is your lift"},
	"reg_code":       {"注册代码", "Registration code"},
	"address":        {"地址", "Address"},
	"building":       {"楼栋", "Building"},
	"lift_no":        {"电梯编号", "Lift number"},
	"use_unit":       {"使用单位（物业）", "Use unit (property manager)"},
	"use_unit_phone": {"使用单位电话", "Use unit's phone"},
	"identity_hint":  {"如与轿厢内贴纸不符，请报告“贴纸或信息有误”。", "If this does not match the sticker in the car, report \"sticker or information wrong\"."},

	"report_title":    {"报告问题", "Report a problem"},
	"report_choose":   {"遇到了什么问题？", "What is wrong?"},
	"cat_trapped":     {"现在有人被困", "Someone is trapped now"},
	"cat_stopped":     {"电梯停运", "The lift has stopped"},
	"cat_doors":       {"门有故障", "Door problem"},
	"cat_noise":       {"异响或晃动", "Noise or shaking"},
	"cat_dirty":       {"卫生问题", "Dirty"},
	"cat_info_wrong":  {"贴纸或信息有误", "Sticker or information wrong"},
	"cat_other":       {"其他", "Other"},
	"report_next":     {"下一步", "Continue"},
	"report_body":     {"补充说明（可选，最多 500 字）", "Details (optional, at most 500 characters)"},
	"report_phone":    {"回电号码（可选，仅供维保单位回访，不会公开）", "Phone for a call-back (optional, only for the firm, never published)"},
	"report_submit":   {"提交报告", "Send report"},
	"report_trapped":  {"有人被困，请立即拨打电话，不要只在网上报告。", "Someone is trapped: call now, do not rely on this form alone."},
	"report_done":     {"已收到您的报告", "Your report has been received"},
	"tracking_title":  {"报告处理进展", "Report status"},
	"tracking_no":     {"查询编号", "Tracking number"},
	"tracking_keep":   {"请记下查询编号，可随时在本页查看处理进展。", "Keep this number: this page shows how your report is handled."},
	"category":        {"问题类型", "Problem"},
	"details":         {"补充说明", "Details"},
	"status":          {"处理状态", "Status"},
	"rs_open":         {"待处理", "Open"},
	"rs_acknowledged": {"已受理", "Acknowledged"},
	"rs_answered":     {"已答复", "Answered"},
	"rs_closed":       {"已办结", "Closed"},
	"rs_rejected":     {"不予受理", "Rejected"},
	"answer":          {"维保单位答复", "The firm's answer"},
	"no_answer":       {"尚未答复。维保单位应在 3 个工作日内答复。", "Not answered yet. The firm should answer within 3 working days."},
	"reported_at":     {"提交时间", "Submitted"},
	"answered_at":     {"答复时间", "Answered"},
	"tracking_live":   {"电梯当前状态", "The lift's status now"},
	"trapped_answer":  {"困人救援由应急救援中心（96333）和维保单位立即处理，不必等待书面答复；上方显示电梯的实时状态。", "A trapped passenger is handled at once by the rescue centre (96333) and the maintenance firm, not by a written answer; the lift's live status is shown above."},
	"back_to_lift":    {"返回电梯信息页", "Back to the lift page"},

	"err_404_title":    {"未找到该电梯", "Lift not found"},
	"err_404_body":     {"没有与此注册代码对应的电梯，请核对贴纸上的代码。", "No lift has this registration code. Please check the code on the sticker."},
	"err_400_title":    {"注册代码格式有误", "Invalid registration code"},
	"err_400_body":     {"电梯注册代码为 20 位数字，请核对贴纸上的代码。", "A lift registration code has 20 digits. Please check the code on the sticker."},
	"err_page_title":   {"页面不存在", "Page not found"},
	"err_page_body":    {"您访问的页面不存在。", "The page you asked for does not exist."},
	"err_report_title": {"未找到该报告", "Report not found"},
	"err_report_body":  {"没有与此查询编号对应的报告，请核对编号。", "No report has this tracking number. Please check it."},
	"err_firm_title":   {"未找到该单位", "Firm not found"},
	"err_firm_body":    {"没有与此统一社会信用代码对应的维保单位。", "No maintenance firm has this unified social credit code."},
	// One title and body per key of the error table (lifttrust.Kinds);
	// a test checks that every key has both, in both languages.
	"err_rate_limited_title":    {"提交过于频繁", "Too many reports"},
	"err_rate_limited_body":     {"近期来自您或这部电梯的报告较多，请稍后再试。如有人被困，请立即拨打电话。", "There have been many reports from you or for this lift; please try again later. If someone is trapped, call now."},
	"err_csrf_title":            {"表单已过期", "This form has expired"},
	"err_csrf_body":             {"请返回上一页，刷新后重新提交。", "Please go back, reload the page and send it again."},
	"err_invalid_title":         {"提交的内容有误", "What you sent could not be accepted"},
	"err_invalid_body":          {"请检查后重新提交。", "Please check it and send it again."},
	"err_unauthenticated_title": {"请先登录", "Please sign in"},
	"err_unauthenticated_body":  {"此页面需要登录后查看。", "You need to sign in to see this page."},
	"err_forbidden_title":       {"无权访问", "Not allowed"},
	"err_forbidden_body":        {"您的账号无权查看此页面或数据。", "Your account may not see this page or data."},
	"err_not_found_title":       {"页面不存在", "Page not found"},
	"err_not_found_body":        {"您要找的内容不存在。", "What you asked for does not exist."},
	"err_conflict_title":        {"与已有记录冲突", "Conflict with a stored record"},
	"err_conflict_body":         {"该记录已存在或已被修改，请刷新后重试。", "The record already exists or has changed; please reload and try again."},
	"err_too_large_title":       {"内容过大", "Too large"},
	"err_too_large_body":        {"提交的内容超过了允许的大小。", "What you sent is larger than allowed."},
	"err_method_title":          {"不支持的请求", "Not supported"},
	"err_method_body":           {"此地址不支持该请求方式。", "This address does not take that kind of request."},
	"err_timeout_title":         {"服务繁忙", "Service busy"},
	"err_timeout_body":          {"请稍后再试。如有人被困，请立即拨打电话。", "Please try again later. If someone is trapped, call now."},
	"err_internal_title":        {"服务暂时不可用", "Service temporarily unavailable"},
	"err_internal_body":         {"请稍后再试。如有人被困，请立即拨打电话。", "Please try again later. If someone is trapped, call now."},

	"firms_title":    {"维保单位信用公示", "Maintenance firms' credit ratings"},
	"search":         {"单位名称或信用代码", "Firm name or credit code"},
	"all_grades":     {"全部等级", "All grades"},
	"filter":         {"查询", "Search"},
	"prev":           {"上一页", "Previous page"},
	"next":           {"下一页", "Next page"},
	"page_of":        {"第 %d 页，共 %d 页（%d 家）", "Page %d of %d (%d firms)"},
	"no_firms":       {"没有符合条件的单位。", "No firm matches."},
	"firm_name":      {"单位名称", "Firm"},
	"lifts_count":    {"维保电梯数", "Lifts maintained"},
	"dims_title":     {"得分构成", "How the score is made up"},
	"trend_title":    {"近 12 个月信用分走势", "Score over the last 12 months"},
	"month":          {"月份", "Month"},
	"no_trend":       {"暂无历史评分", "No score history yet"},
	"trend_new":      {"该单位接入评分系统不足两个月，目前只有 %d 个月的评分，走势将随每月评分逐步形成。", "This firm has been scored for less than two months: %d month of scores so far. The trend builds up as each month is scored."},
	"trend_short":    {"目前有 %d 个月的评分（新接入的单位走势较短）。", "%d months of scores so far (a newly scored firm has a short trend)."},
	"vetoes":         {"一票否决事项", "Veto items"},
	"duty_phone":     {"24 小时值班电话", "24-hour duty line"},
	"score_range":    {"可信区间", "Likely range"},
	"as_of":          {"评分截至", "Scored as of"},
	"uscc":           {"统一社会信用代码", "Unified social credit code"},
	"all_firms":      {"全部维保单位排名", "All firms by rank"},
	"home_title":     {"上海电梯安全信息公示", "Shanghai lift safety information"},
	"home_what":      {"扫描轿厢内贴纸上的二维码，或输入电梯注册代码、地址，即可查看这部电梯的实时状态、维保和检验情况，以及维保单位的信用等级，并可报告问题。", "Scan the QR code on the sticker in the lift car, or enter the lift's registration code or address, to see its live status, maintenance and inspections, and its maintenance firm's credit grade, and to report a problem."},
	"home_search":    {"电梯注册代码（20 位数字）或地址", "Registration code (20 digits) or address"},
	"home_search_go": {"查找电梯", "Find the lift"},
	"home_results":   {"查找结果", "Lifts found"},
	"home_more":      {"结果较多，仅显示前 20 部，请输入更详细的地址。", "Only the first 20 are shown; please enter a fuller address."},
	"home_none":      {"没有找到符合的电梯，请核对注册代码或地址。", "No lift matches; please check the code or address."},
	"home_firms":     {"维保单位信用排名（前 5 名）", "Maintenance firms by credit rank (top 5)"},
	"home_data":      {"开放数据与年度报告", "Open data and the yearly report"},
	"home_open":      {"开放数据下载", "Open data downloads"},
	"home_report":    {"%d 年度电梯安全报告", "Lift safety report %d"},
	"lookup_title":   {"查询报告处理进展", "Look up a report"},
	"lookup_hint":    {"请输入提交报告后得到的查询编号（8 至 16 位字母或数字）。", "Enter the tracking number you got when you sent the report (8 to 16 letters or digits)."},
	"lookup_go":      {"查询", "Look up"},
	"meta_site":      {"上海市电梯安全信息公示：电梯实时状态、维保与检验记录、维保单位信用等级。", "Shanghai lift safety information: live lift status, maintenance and inspection records, maintenance firms' credit grades."},
	"meta_home":      {"查询上海任一部电梯的实时状态、维保与检验记录和维保单位信用等级，报告电梯问题。", "Look up any lift in Shanghai: live status, maintenance and inspections, the maintenance firm's credit grade; report a problem."},
	"meta_lift":      {"%s %s 电梯的实时状态、维保与检验记录、维保单位信用等级和应急救援电话。", "Live status, maintenance and inspection records, the maintenance firm's credit grade and the emergency number for the lift at %s, %s."},
	"meta_firm":      {"%s 的电梯维保信用等级、得分构成和近 12 个月走势。", "Credit grade, score breakdown and 12-month trend of the lift maintenance firm %s."},
	"meta_firms":     {"上海市电梯维保单位信用等级和排名。", "Credit grades and ranking of Shanghai's lift maintenance firms."},
	"footer":         {"上海市电梯安全信息公示。数据来自维保单位、检验机构和电梯物联网监测。", "Shanghai lift safety information, from maintenance firms, inspection agencies and lift IoT monitors."},
}

// dimensionNames describe the scoring model's dimensions in plain words;
// a dimension the model adds later shows under its key until named here.
var dimensionNames = map[string][2]string{
	"timeliness":   {"按时保养：维保是否按期（每 15 天至少一次）", "On-time service: visits at least every 15 days"},
	"authenticity": {"维保真实：现场记录与物联网数据相符", "Genuine visits: records match on-site and IoT evidence"},
	"inspection":   {"定期检验一次合格率", "First-time pass rate at periodic inspections"},
	"reliability":  {"运行可靠：故障次数（不含乘客误用和外部原因）", "Reliability: faults (misuse and external causes excluded)"},
	"emergency":    {"应急救援：困人后到达和解救的速度", "Emergency response: arrival and release times at entrapments"},
	"deductions":   {"扣分事项：处罚、投诉等", "Deductions: penalties, complaints and the like"},
}

// vetoNames say in words why a firm is vetoed (scoring's veto keys); a
// key the model adds later shows in plain words from its key until named
// here, never as a raw code.
var vetoNames = map[string][2]string{
	"safety_circuit_bypass": {"短接电梯安全回路", "Bypassed a lift safety circuit"},
	"subcontracting":        {"违规转包、分包维保业务", "Illegally subcontracted maintenance work"},
	"accident":              {"发生负有责任的电梯事故", "Responsible for a lift accident"},
	"licence_expired":       {"维保资质（许可证）已过期", "Maintenance licence expired"},
	"serious_violator":      {"被列入严重违法失信名单", "On the list of serious violators"},
}

func vetoName(lang, key string) string {
	if n, ok := vetoNames[key]; ok {
		if lang == langEN {
			return n[1]
		}
		return n[0]
	}
	return strings.ReplaceAll(key, "_", " ")
}

// tr returns the message for key in lang; an unknown key shows itself, so
// a typo is visible on the page (and caught by the golden test).
func tr(lang, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if lang == langEN {
		return m[1]
	}
	return m[0]
}

func trf(lang, key string, args ...any) string { return fmt.Sprintf(tr(lang, key), args...) }

func dimensionName(lang, key string) string {
	if n, ok := dimensionNames[key]; ok {
		if lang == langEN {
			return n[1]
		}
		return n[0]
	}
	return strings.ReplaceAll(key, "_", " ")
}

// pickLang chooses the page language: an explicit ?lang=, then the
// remembered choice (cookie), then the first zh or en in Accept-Language;
// Chinese otherwise.
func pickLang(query, cookie, acceptLanguage string) string {
	// The constants, never query or cookie themselves: those are Fiber's
	// buffers, and the language is kept in cached pages.
	for _, v := range [2]string{query, cookie} {
		switch v {
		case langZH:
			return langZH
		case langEN:
			return langEN
		}
	}
	for rest := acceptLanguage; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		tag, _, _ := strings.Cut(part, ";")
		tag = strings.TrimSpace(tag)
		switch {
		case hasPrefixFold(tag, "zh"):
			return langZH
		case hasPrefixFold(tag, "en"):
			return langEN
		}
	}
	return langZH
}

// hasPrefixFold is strings.HasPrefix(strings.ToLower(s), prefix) for an
// ASCII lower-case prefix, without making the lower-case copy.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		if s[i]|0x20 != prefix[i] {
			return false
		}
	}
	return true
}
