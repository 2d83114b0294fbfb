package demo

// Word lists for the demo city. Everything is fictional; the vocabulary follows the bureau
// documents in /work/shared/seeds (小区党支部, 三方联动, 红色物业, 老旧小区, 城中村 ...).

// City is the demo city's name, as company names use it.
const City = "滨江市"

// cityShort is the city's name without 市, as it appears in brackets in some company names.
const cityShort = "滨江"

// cityDivisionCode is the administrative division code the companies are registered under
// (positions 3-8 of their credit codes); 4499xx is unused, which suits a fictional city.
const cityDivisionCode = "449900"

var districtNames = []string{"东湖区", "西城区", "南山区", "北湖区", "新港区"}

// companyBrands are the distinctive parts of company names (字号).
var companyBrands = []string{
	"万润", "安泰", "鼎盛", "恒信", "嘉和", "锦程", "君悦", "康居", "乐家", "丽景",
	"明德", "宁和", "鹏达", "启航", "瑞祥", "盛世", "顺心", "泰和", "天润", "同创",
	"祥和", "协力", "鑫源", "雅居", "怡园", "益民", "永安", "裕丰", "悦邻", "兆丰",
	"志诚", "中诚", "宏达", "汇邦", "金盾", "蓝海", "美家", "和泰", "佳宁", "庆丰",
	"融信", "善邻", "德润", "博雅", "东晟", "华信", "立业", "欣悦", "骏安", "惠民",
}

// companyNameFormats take the city, a district, a brand and the city's short name, by
// explicit argument index.
var companyNameFormats = []string{
	"%[1]s%[3]s物业服务有限公司",
	"%[1]s%[3]s物业服务有限公司",
	"%[1]s%[3]s物业管理有限公司",
	"%[1]s%[2]s%[3]s物业管理有限公司",
	"%[3]s智慧物业服务（%[4]s）有限公司",
	"%[1]s%[3]s物业服务集团有限公司",
}

// escapingCompanyName exercises HTML, JSON and CSV escaping in every view of a company.
const escapingCompanyName = `"安居" & 乐业物业服务有限公司`

var (
	commodityPrefixes = []string{
		"翠竹", "锦绣", "碧水", "丽景", "金色", "阳光", "海悦", "枫林", "书香", "紫薇",
		"兰亭", "怡景", "荔园", "榕湖", "明月", "湖畔", "山水", "御景", "东方", "世纪",
		"幸福", "和谐", "港湾", "朝阳", "春华", "雅筑", "龙腾", "凤凰", "锦江", "天悦",
		"海棠", "银杏", "香樟", "芙蓉", "玉兰", "青枫", "长岭", "翡翠", "彩虹", "星海",
		"云峰", "蔚蓝", "景泰", "滨江", "君临",
	}
	commoditySuffixes = []string{
		"花园", "华庭", "雅苑", "家园", "名苑", "公馆", "豪庭", "嘉园", "山庄", "新城",
		"名都", "华府", "天地", "府",
	}
	oldPrefixes = []string{
		"梅林", "园岭", "红荔", "莲花", "桃源", "松坪", "白沙", "石厦", "田贝", "翠岭",
		"水库", "东门", "南园", "北站", "工人",
	}
	oldSuffixes = []string{"一村", "二村", "三村", "新村", "北里", "南里"}
	unitOrgs    = []string{
		"市第一人民医院", "市中医院", "市供电局", "自来水公司", "纺织厂", "机械厂", "师范学院",
		"粮食局", "邮电局", "第二中学", "港务局", "烟草公司", "农机厂", "交通局", "气象局",
	}
	unitSuffixes = []string{"宿舍", "家属院", "职工住宅区"}
	villages     = []string{
		"上沙", "下围", "新围", "老围", "塘尾", "田心", "沙头", "岗头", "石龙", "水贝",
		"南岭", "坑梓", "西乡", "横岗", "赤尾",
	}
	villageSuffixes = []string{"村", "新村"}
)

// Credit record descriptions. The estate's name and a colon go in front.
var (
	goodEventDescriptions = []string{
		"获评市级物业管理示范项目",
		"获评区级物业服务优秀项目",
		"小区党支部获评“红色物业”示范点",
		"在老旧小区改造中配合街道工作表现突出",
		"台风防御工作获区应急管理局通报表扬",
		"获评生活垃圾分类示范小区",
		"业主满意度测评位列全区前十",
		"消防安全标准化管理达标",
		"获评“平安小区”",
		"员工拾金不昧、见义勇为获市级表彰",
	}
	badEventDescriptions = []string{
		"未按规定公示公共收益",
		"消防通道堵塞被责令整改",
		"电梯维保不到位被市场监管部门通报",
		"擅自提高物业服务收费标准",
		"二次供水水箱未按规定清洗消毒",
		"生活垃圾分类不达标被城管部门处罚",
		"未按规定公示公共水电分摊费用",
		"12345热线投诉经查属实且逾期未整改",
		"拒不执行行政主管部门整改通知",
		"高空坠物隐患未及时处置被约谈",
		"停车收益未纳入共有资金账户",
	}
	vetoEventDescriptions = []string{
		"挪用专项维修资金，被区住房和建设局立案查处",
		"擅自撤离、弃管小区，造成小区物业服务中断",
	}
	goodPoints = []string{"1", "1.5", "2", "2.5", "3", "0.75", "1.25", "4", "5"}
	badPoints  = []string{"1", "2", "3", "5", "8", "10", "1.5", "2.5", "0.5"}
)

// Owners' comments, by how the owner rated. Some carry <, >, & and quotes on purpose.
var (
	positiveComments = []string{
		"保安很负责，晚上巡逻很勤快",
		"小区干净整洁，绿化打理得很好",
		"管家响应及时，报修当天就上门",
		"\"红色物业\"名副其实，点赞！",
		"电梯维修很快，师傅态度好 & 有耐心",
		"公示栏每月更新，收支清清楚楚",
		"物业组织的邻里节活动很温馨",
	}
	neutralComments = []string{
		"总体还行，希望加强地下车库照明",
		"快递柜不够用，高峰期要排队",
		"绿化可以再多一些",
		"停车费<每月300元>有点贵",
		"垃圾分类督导员只在早上有",
		"希望公示'公共收益'明细",
	}
	negativeComments = []string{
		"电梯经常坏，报修>3天才来人",
		"物业费涨了却说不清用到哪里",
		"公示栏写着\"已整改\"，其实没有",
		"车库漏水一年多没人管",
		"保安形同虚设，外来人员随便进出",
		"公共收益去向不明 <要求公开>",
		"垃圾清运不及时 & 楼道有异味",
	}
)
