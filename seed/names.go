package seed

// Vocabulary for names and addresses. Road names are real Shanghai roads of
// each district, so that addresses read as Shanghai addresses; firm and
// property names are made up from ordinary words and match no real company.

var roads = map[string][]string{
	"310101": {"南京东路", "淮海中路", "西藏南路", "复兴东路", "河南南路", "瑞金二路", "中山南路"},
	"310104": {"漕溪北路", "肇嘉浜路", "天钥桥路", "虹桥路", "龙华中路", "田林路", "宜山路", "桂林路"},
	"310105": {"延安西路", "仙霞路", "天山路", "古北路", "娄山关路", "长宁路", "虹古路"},
	"310106": {"南京西路", "延安中路", "共和新路", "西藏北路", "威海路", "大统路", "灵石路", "广中西路"},
	"310107": {"曹杨路", "真如路", "武宁路", "中山北路", "长寿路", "金沙江路", "桃浦路", "铜川路"},
	"310109": {"四川北路", "曲阳路", "大连西路", "东江湾路", "广纪路", "中山北一路", "水电路"},
	"310110": {"控江路", "国权路", "黄兴路", "长阳路", "五角场路", "殷行路", "平凉路", "政立路"},
	"310112": {"七莘路", "莘庄路", "虹梅路", "都市路", "沪闵路", "龙吴路", "古美路", "顾戴路", "浦锦路", "江川路"},
	"310113": {"牡丹江路", "友谊路", "共康路", "长江西路", "淞滨路", "同济路", "殷高西路", "沪太路", "泰和路"},
	"310114": {"博乐路", "城中路", "曹安公路", "塔城路", "叶城路", "安亭路", "嘉罗公路", "墨玉路", "清河路"},
	"310115": {"张杨路", "世纪大道", "浦东南路", "杨高中路", "东方路", "金桥路", "川沙路", "锦绣路", "花木路", "周浦路", "浦建路", "高科西路", "龙阳路", "峨山路"},
	"310116": {"卫零路", "龙航路", "石化大道", "朱泾路", "亭林路", "蒙山路"},
	"310117": {"人民北路", "荣乐中路", "文诚路", "九亭大街", "广富林路", "新松江路", "松汇中路", "沪松公路"},
	"310118": {"城中北路", "公园路", "华新路", "外青松公路", "盈港东路", "赵巷路", "崧泽大道"},
	"310120": {"南桥路", "解放东路", "望园路", "金海路", "环城东路", "航南公路", "八字桥路"},
	"310151": {"城桥路", "八一路", "人民路", "东门路", "鼓浦路", "崇明大道"},
}

// wordPair is a made-up name part with its pinyin, for the English name.
type wordPair struct{ zh, en string }

var firmWords = []wordPair{
	{"申通", "Shentong"}, {"浦江", "Pujiang"}, {"东方", "Dongfang"}, {"华恒", "Huaheng"}, {"宏达", "Hongda"},
	{"永安", "Yong'an"}, {"协力", "Xieli"}, {"安捷", "Anjie"}, {"恒升", "Hengsheng"}, {"金城", "Jincheng"},
	{"瑞丰", "Ruifeng"}, {"天成", "Tiancheng"}, {"宝隆", "Baolong"}, {"新申", "Xinshen"}, {"佳运", "Jiayun"},
	{"振华", "Zhenhua"}, {"通宇", "Tongyu"}, {"锦程", "Jincheng"}, {"信达", "Xinda"}, {"晨光", "Chenguang"},
	{"康泰", "Kangtai"}, {"明远", "Mingyuan"}, {"长江", "Changjiang"}, {"海阔", "Haikuo"}, {"嘉禾", "Jiahe"},
	{"顺捷", "Shunjie"}, {"凯旋", "Kaixuan"}, {"远航", "Yuanhang"}, {"鼎力", "Dingli"}, {"中联", "Zhonglian"},
	{"立升", "Lisheng"}, {"联合", "Lianhe"}, {"和平", "Heping"}, {"春晖", "Chunhui"}, {"益民", "Yimin"},
	{"福安", "Fu'an"}, {"三和", "Sanhe"}, {"正阳", "Zhengyang"}, {"腾飞", "Tengfei"}, {"安泰", "Antai"},
}

var firmSuffixes = []wordPair{
	{"电梯工程有限公司", "Elevator Engineering Co., Ltd."},
	{"电梯技术有限公司", "Elevator Technology Co., Ltd."},
	{"电梯安装维修有限公司", "Elevator Installation & Maintenance Co., Ltd."},
	{"电梯设备有限公司", "Elevator Equipment Co., Ltd."},
	{"机电设备工程有限公司", "Electromechanical Engineering Co., Ltd."},
}

var estateWords = []string{
	"金桥", "春江", "绿洲", "阳光", "梅园", "东苑", "碧云", "锦华", "兰亭", "翠湖", "世纪", "康城",
	"枫林", "海棠", "紫藤", "星河", "银杏", "丽景", "名都", "和苑", "嘉园", "新村", "水岸", "静安",
	"怡景", "华庭", "盛世", "未来", "香樟", "秀水", "明珠", "云间",
}

var estateKinds = []string{"花园", "新村", "小区", "公寓", "大厦", "广场", "苑", "中心"}

var propertySuffixes = []string{"物业管理有限公司", "物业服务有限公司", "置业有限公司"}

var surnames = []string{"张", "王", "李", "赵", "陈", "刘", "杨", "黄", "周", "吴", "徐", "孙", "朱", "马", "胡", "郭", "林", "何", "高", "罗"}

var agencyNames = []wordPair{
	{"上海市特种设备监督检验技术研究院", "Shanghai Institute of Special Equipment Inspection and Technical Research"},
	{"上海市浦东新区特种设备监督检验所", "Pudong New Area Special Equipment Inspection Institute"},
	{"上海市闵行区特种设备监督检验所", "Minhang Special Equipment Inspection Institute"},
	{"上海市宝山区特种设备监督检验所", "Baoshan Special Equipment Inspection Institute"},
	{"上海市松江区特种设备监督检验所", "Songjiang Special Equipment Inspection Institute"},
	{"上海市嘉定区特种设备监督检验所", "Jiading Special Equipment Inspection Institute"},
}

// agencyDistricts says which district each agency after the first serves;
// the city institute (index 0) inspects everywhere else.
var agencyDistricts = []string{"", "310115", "310112", "310113", "310117", "310114"}

// Maintenance items (TSG T5002-2017 annex A, abridged) by visit kind; a
// visit of a longer cycle also does the items of the shorter ones.
var itemsByKind = map[string][]string{
	"half_monthly": {"机房、滑轮间环境", "手动紧急操作装置", "驱动主机", "制动器各销轴部位", "制动器间隙", "编码器", "限速器各销轴部位", "层门和轿门旁路装置", "紧急电动运行", "轿顶", "轿顶检修开关、停止装置", "导靴上油杯", "对重/平衡重块及其压板", "井道照明", "轿厢照明、风扇、应急照明", "轿厢检修开关、停止装置", "轿内报警装置、对讲系统", "轿内显示、指令按钮、IC卡系统", "轿门防撞击保护装置", "轿门门锁电气触点", "层站召唤、层楼显示", "层门地坎", "层门自动关门装置", "层门门锁自动复位", "底坑环境", "底坑停止装置"},
	"quarterly":    {"减速机润滑油", "制动衬", "编码器清洁", "选层器动静触点", "曳引轮槽、悬挂装置", "限速器轮槽、限速器钢丝绳", "验证轿门关闭的电气安全装置", "层门、轿门门扇", "消防开关", "耗能缓冲器", "限速器张紧轮装置和电气安全装置"},
	"half_yearly":  {"电动机与减速机联轴器", "驱动轮、导向轮轴承部", "曳引轮槽、曳引钢丝绳", "限速器钢丝绳", "控制柜内各接线端子", "控制柜各仪表", "井道、对重、轿顶各反绳轮轴承部", "悬挂装置、补偿绳", "层门、轿门系统中传动钢丝绳、链条、传动带", "层门门导靴", "补偿链（绳）与轿厢、对重接合处", "上、下极限开关"},
	"yearly":       {"控制柜接触器、继电器触点", "制动器铁芯（柱塞）", "制动器制动能力", "导电回路绝缘性能测试", "限速器安全钳联动试验", "上行超速保护装置动作试验", "轿厢意外移动保护装置动作试验", "轿顶、轿厢架、轿门及附件安装螺栓", "轿厢和对重的导轨支架", "轿厢和对重的导轨", "随行电缆", "层门装置和地坎", "轿厢称重装置", "安全钳钳座", "轿底各安装螺栓", "缓冲器"},
	"repair":       {"故障排查", "更换损坏部件", "试运行"},
}

var parts = []string{"门机皮带", "层门门滑块", "轿门门刀", "制动器闸瓦", "按钮", "光幕", "接触器", "门锁触点", "导靴靴衬", "平层感应器", "应急照明电池", "钢丝绳"}

var defects = []string{"层门门锁啮合深度不足", "制动器间隙超标", "轿厢应急照明失效", "限速器校验过期", "井道照明不足", "缓冲器油位不足", "层门自闭力不足", "轿内对讲系统不通", "安全钳动作试验不合格", "曳引钢丝绳磨损超标"}

var reportBodies = map[string][]string{
	"trapped":    {"电梯在两层之间停住，被困约二十分钟。", "早上被困在电梯里，按报警按钮很久才有人应答。"},
	"stopped":    {"电梯已经停用两天，没有任何通知。", "电梯经常停在某一层不动。", "周末电梯停运，老人上下楼很困难。"},
	"doors":      {"电梯门关得太快，夹到了小孩。", "门开开关关好几次才能运行。", "层门关不严，有很大缝隙。"},
	"noise":      {"电梯运行时有很响的摩擦声。", "上下行时轿厢抖动，声音异常。"},
	"dirty":      {"轿厢内很脏，地面有垃圾。", "轿厢内有异味，通风扇不转。"},
	"info_wrong": {"轿厢内张贴的维保单位电话打不通。", "检验合格证已经过期还贴在轿厢里。"},
	"other":      {"轿厢内照明灯不亮。", "楼层按钮有几个不灵。", "希望增加电梯运行时间的公示。"},
}

var reportBodiesEN = map[string]string{
	"trapped":    "The lift stopped between floors and we were trapped for a while.",
	"stopped":    "The lift has been out of service for days without notice.",
	"doors":      "The doors close too fast and hit a child.",
	"noise":      "Loud grinding noise while the car moves.",
	"dirty":      "The car is dirty and smells.",
	"info_wrong": "The maintenance phone number posted in the car does not work.",
	"other":      "The car light is broken.",
}

var answers = []string{
	"您好，我司已安排维保人员到场检查并处理，感谢您的反馈。",
	"已核实情况，相关部件已更换，电梯恢复正常运行。",
	"已与物业联系，加强日常巡查，如有问题请拨打值班电话。",
}
