package fleet

// District is a Shanghai district (区) with its GB/T 2260 code.
type District struct {
	Code   string
	NameZH string
	NameEN string
	// Lifts is the number of lifts in use in 2022 where DOMAIN.md gives it;
	// zero for the districts that share the rest.
	Lifts int
}

// Districts lists Shanghai's 16 districts, as in migrations/0001_schema.sql.
var Districts = []District{
	{"310101", "黄浦区", "Huangpu", 0},
	{"310104", "徐汇区", "Xuhui", 0},
	{"310105", "长宁区", "Changning", 0},
	{"310106", "静安区", "Jing'an", 0},
	{"310107", "普陀区", "Putuo", 0},
	{"310109", "虹口区", "Hongkou", 0},
	{"310110", "杨浦区", "Yangpu", 0},
	{"310112", "闵行区", "Minhang", 36432},
	{"310113", "宝山区", "Baoshan", 23290},
	{"310114", "嘉定区", "Jiading", 23131},
	{"310115", "浦东新区", "Pudong", 73230},
	{"310116", "金山区", "Jinshan", 0},
	{"310117", "松江区", "Songjiang", 25917},
	{"310118", "青浦区", "Qingpu", 0},
	{"310120", "奉贤区", "Fengxian", 0},
	{"310151", "崇明区", "Chongming", 0},
}

// DistrictByCode finds a district by its six-digit code.
func DistrictByCode(code string) (District, bool) {
	for _, d := range Districts {
		if d.Code == code {
			return d, true
		}
	}
	return District{}, false
}
