package spotcheck

// Item is one checklist item of a spot check.
type Item struct {
	Code   string
	ZH, EN string
}

// Checklists are the items an inspector checks on site, per kind of
// equipment, taken from the maintenance items of TSG T5002-2017 (appendix
// A for traction and positive-drive lifts, C for dumbwaiters, D for
// escalators and moving walks) that can be verified in a visit of about an
// hour and that say whether the firm maintains the lift: the safety
// devices, the brake, the doors and the records. Codes are stable: results
// and open data name items by code.
var Checklists = map[string][]Item{
	"traction": {
		{"T01", "机房、滑轮间环境及手动紧急操作装置", "machine room environment and manual emergency operation"},
		{"T02", "制动器动作、制动间隙及制动衬磨损", "brake action, clearance and lining wear"},
		{"T03", "曳引轮槽及悬挂钢丝绳磨损、张力", "traction sheave grooves and suspension rope wear and tension"},
		{"T04", "限速器、安全钳联动及电气开关", "overspeed governor, safety gear linkage and switches"},
		{"T05", "层门、轿门门锁电气触点及自动复位", "landing and car door lock contacts and self-closing"},
		{"T06", "轿门防撞击保护装置（光幕）", "car door protective device (light curtain)"},
		{"T07", "轿内报警装置、对讲系统及应急照明", "car alarm, intercom and emergency lighting"},
		{"T08", "轿顶、底坑停止装置及检修运行", "car-top and pit stop switches and inspection operation"},
		{"T09", "缓冲器及上、下极限开关", "buffers and final limit switches"},
		{"T10", "轿厢意外移动保护装置", "unintended car movement protection"},
		{"T11", "维保记录与现场状况一致", "maintenance records match the lift's condition"},
	},
	"escalator": {
		{"E01", "驱动主机、制动器及附加制动器", "drive unit, brake and auxiliary brake"},
		{"E02", "梯级、踏板及梳齿板", "steps, pallets and comb plates"},
		{"E03", "扶手带运行及速度偏差监测", "handrail running and speed deviation monitoring"},
		{"E04", "梳齿板开关、围裙板防夹装置", "comb plate switches and skirt deflectors"},
		{"E05", "扶手带入口保护装置", "handrail entry guards"},
		{"E06", "紧急停止开关及检修控制装置", "emergency stop switches and inspection control"},
		{"E07", "驱动链、梯级链张紧及断链保护", "drive and step chain tension and broken-chain protection"},
		{"E08", "超速、非操纵逆转保护", "overspeed and unintended reversal protection"},
		{"E09", "出入口安全警示标志及照明", "landing safety signs and lighting"},
		{"E10", "维保记录与现场状况一致", "maintenance records match the equipment's condition"},
	},
	"dumbwaiter": {
		{"D01", "驱动主机及制动器", "drive unit and brake"},
		{"D02", "层门门锁电气触点及层门关闭", "landing door locks and closing"},
		{"D03", "悬挂装置及钢丝绳", "suspension and ropes"},
		{"D04", "轿厢、对重导轨及导靴", "car and counterweight guide rails and shoes"},
		{"D05", "极限开关及停止装置", "limit switches and stop switches"},
		{"D06", "维保记录与现场状况一致", "maintenance records match the lift's condition"},
	},
}

// ChecklistKind maps an equipment category (the registration code's first
// four digits) to its checklist: passenger and goods lifts to "traction",
// escalators and moving walks to "escalator", dumbwaiters to "dumbwaiter".
func ChecklistKind(category string) string {
	switch category {
	case "3310", "3320":
		return "escalator"
	case "3430":
		return "dumbwaiter"
	}
	return "traction"
}

// ChecklistFor is the checklist of a lift of this category.
func ChecklistFor(category string) []Item { return Checklists[ChecklistKind(category)] }

// ItemOf finds an item of a category's checklist by code.
func ItemOf(category, code string) (Item, bool) {
	for _, it := range ChecklistFor(category) {
		if it.Code == code {
			return it, true
		}
	}
	return Item{}, false
}
