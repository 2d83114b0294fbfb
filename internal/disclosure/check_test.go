package disclosure

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// rows builds file rows from "item|name|value" lines, numbered from 2 (row 1 is the header).
func rows(lines ...string) []Row {
	var out []Row
	for i, l := range lines {
		p := strings.Split(l, "|")
		for len(p) < 3 {
			p = append(p, "")
		}
		out = append(out, FileRow(i+2, p[0], p[1], p[2]))
	}
	return out
}

// Valid figures of each category, as a company would write them (labels in Chinese, codes
// in English, both accepted).
var valid = map[string][]Row{
	Utilities: rows(
		"水费账单|总水表|12345.67",
		"electricity_bill|公共区域电表|23,456.78",
		"水费分摊|1号楼|6000",
		"水费分摊|2号楼|6345.67",
		"电费分摊|1-3号楼|23456.78",
	),
	Fees: rows(
		"收费标准（元/平方米·月）||2.50",
		"实收物业服务费||300000.00",
		"支出合计||280000.50",
		"支出明细|人员工资|150000",
		"支出明细|保洁绿化|80000.50",
		"spending|公共设施维护|50000.00",
	),
	MaintenanceFund: rows(
		"期初余额||1000000.00",
		"本期缴存||50000",
		"本期使用合计||30000",
		"使用明细|电梯维修|30000",
		"利息收入||3500",
		"期末余额||1023500.00",
	),
	Parking: rows(
		"车位总数||200",
		"出租车位||120",
		"出售车位||50",
		"临时停车位||20",
		"收入合计||96000",
		"收入明细|车位租金|72000",
		"收入明细|临时停车费|24000",
		"支出明细|管理人员工资|30000",
		"支出明细|设施维护|6000",
		"业主共有收益|转入业主共有资金账户|60000",
	),
}

func TestParseValid(t *testing.T) {
	want := map[string]string{
		Utilities: `{"bills":[{"kind":"water","name":"总水表","amount_fen":1234567},{"kind":"electricity","name":"公共区域电表","amount_fen":2345678}],` +
			`"allocations":[{"kind":"water","group":"1号楼","amount_fen":600000},{"kind":"water","group":"2号楼","amount_fen":634567},{"kind":"electricity","group":"1-3号楼","amount_fen":2345678}]}`,
		Fees: `{"standard_fen_per_m2_month":250,"collected_fen":30000000,"spent_fen":28000050,` +
			`"spending":[{"purpose":"人员工资","amount_fen":15000000},{"purpose":"保洁绿化","amount_fen":8000050},{"purpose":"公共设施维护","amount_fen":5000000}]}`,
		MaintenanceFund: `{"opening_fen":100000000,"deposits_fen":5000000,"withdrawals_fen":3000000,"withdrawals":[{"purpose":"电梯维修","amount_fen":3000000}],"interest_fen":350000,"closing_fen":102350000}`,
		Parking: `{"spaces":{"total":200,"rented":120,"sold":50,"temporary":20},"income_fen":9600000,` +
			`"income":[{"source":"车位租金","amount_fen":7200000},{"source":"临时停车费","amount_fen":2400000}],` +
			`"uses":[{"kind":"expense","purpose":"管理人员工资","amount_fen":3000000},{"kind":"expense","purpose":"设施维护","amount_fen":600000},{"kind":"owners_share","purpose":"转入业主共有资金账户","amount_fen":6000000}]}`,
	}
	for _, category := range []string{Utilities, Fees, MaintenanceFund, Parking} {
		d, ps := Parse(category, valid[category])
		if len(ps) > 0 {
			t.Fatalf("%s: %v", category, ps.Messages("zh"))
		}
		got := string(Marshal(d))
		if diff := cmp.Diff(want[category], got); diff != "" {
			t.Errorf("%s: stored JSON (-want +got):\n%s", category, diff)
		}
		// The JSON reads back (as the API takes it) to the same figures.
		back, ps := Decode(category, "data", []byte(got))
		if len(ps) > 0 || string(Marshal(back)) != got {
			t.Errorf("%s: Decode(Marshal) = %s, %v", category, Marshal(back), ps.Messages("en"))
		}
		// Rows → Parse is the identity too: a company editing its filing starts from Rows.
		again, ps := Parse(category, Rows(d))
		if len(ps) > 0 || string(Marshal(again)) != got {
			t.Errorf("%s: Parse(Rows) = %s, %v", category, Marshal(again), ps.Messages("en"))
		}
		if stored, ok := Stored(category, []byte(got)); !ok || string(Marshal(stored)) != got {
			t.Errorf("%s: Stored did not read its own JSON", category)
		}
	}
}

// replace returns the valid rows of category with row i (0-based) replaced.
func replace(category string, i int, line string) []Row {
	out := append([]Row(nil), valid[category]...)
	out[i] = rows(line)[0]
	out[i].Field, out[i].Where = valid[category][i].Field, valid[category][i].Where
	return out
}

func without(category string, i int) []Row {
	out := append([]Row(nil), valid[category][:i]...)
	return append(out, valid[category][i+1:]...)
}

func with(category string, lines ...string) []Row {
	extra := rows(lines...)
	for j := range extra {
		extra[j] = FileRow(len(valid[category])+2+j, extra[j].Item, extra[j].Name, extra[j].Value)
	}
	return append(append([]Row(nil), valid[category]...), extra...)
}

// Each arithmetic rule and each malformed figure gives one clear message naming the field, in
// both languages.
func TestParseProblems(t *testing.T) {
	for _, tc := range []struct {
		name     string
		category string
		rows     []Row
		want     []Problem
	}{
		{"utilities: water allocations short of the bill", Utilities, replace(Utilities, 3, "水费分摊|2号楼|6000.00"), []Problem{{"water_allocation", Text{
			"水费分摊合计 12,000.00 元与水费账单 12,345.67 元不一致（相差 345.67 元）",
			"Water allocation lines add up to 12,000.00 yuan, but the water bill is 12,345.67 yuan (a difference of 345.67)"}}}},
		{"utilities: electricity allocated twice over", Utilities, with(Utilities, "电费分摊|4号楼|100"), []Problem{{"electricity_allocation", Text{
			"电费分摊合计 23,556.78 元与电费账单 23,456.78 元不一致（相差 100.00 元）",
			"Electricity allocation lines add up to 23,556.78 yuan, but the electricity bill is 23,456.78 yuan (a difference of 100.00)"}}}},
		{"utilities: no bill at all", Utilities, rows("水费分摊|1号楼|10"), []Problem{{"water_bill", Text{
			"至少填写一笔水费或电费账单", "enter at least one water or electricity bill"}}}},
		{"utilities: allocation without a group", Utilities, replace(Utilities, 4, "电费分摊||23456.78"), []Problem{{"row 6", Text{
			"电费分摊（第6行）：楼栋或住户组不能为空", "Electricity allocation (row 6): building or household group is required"}}}},
		{"fees: spending lines do not add up", Fees, replace(Fees, 5, "支出明细|公共设施维护|49999.99"), []Problem{{"spending", Text{
			"支出明细合计 280,000.49 元与支出合计 280,000.50 元不一致（相差 0.01 元）",
			"Spending lines add up to 280,000.49 yuan, but the total spent is 280,000.50 yuan (a difference of 0.01)"}}}},
		{"fees: three decimals", Fees, replace(Fees, 0, "收费标准||2.505"), []Problem{{"row 2", Text{
			"收费标准（元/平方米·月）（第2行）：最多两位小数（精确到分）",
			"Fee standard (yuan per m² per month) (row 2) must have at most 2 decimal places (whole fen)"}}}},
		{"fees: negative collected", Fees, replace(Fees, 1, "实收物业服务费||-5"), []Problem{{"row 3", Text{
			"实收物业服务费（第3行）：不能为负数", "Fees collected (row 3) must not be negative"}}}},
		{"fees: missing total", Fees, without(Fees, 2), []Problem{{"spent", Text{"支出合计：不能为空", "Total spent is required"}}}},
		{"fees: given twice", Fees, with(Fees, "支出合计||1"), []Problem{{"row 8", Text{
			"第8行：支出合计重复填写（已在第4行填写）", "row 8: Total spent is given twice (first in row 4)"}}}},
		{"fund: closing balance does not follow", MaintenanceFund, replace(MaintenanceFund, 5, "期末余额||1023400"), []Problem{{"closing", Text{
			"期末余额应为 期初余额 + 本期缴存 − 本期使用 + 利息收入 = 1,000,000.00 + 50,000.00 − 30,000.00 + 3,500.00 = 1,023,500.00 元，填报为 1,023,400.00 元",
			"the closing balance must be opening + deposits − withdrawals + interest = 1,000,000.00 + 50,000.00 − 30,000.00 + 3,500.00 = 1,023,500.00 yuan, not 1,023,400.00"}}}},
		{"fund: withdrawal lines do not add up", MaintenanceFund, with(MaintenanceFund, "使用明细|外墙修缮|5000"), []Problem{{"withdrawal", Text{
			"使用明细合计 35,000.00 元与本期使用合计 30,000.00 元不一致（相差 5,000.00 元）",
			"Withdrawal lines add up to 35,000.00 yuan, but the total withdrawn is 30,000.00 yuan (a difference of 5,000.00)"}}}},
		{"fund: not a number", MaintenanceFund, replace(MaintenanceFund, 4, "利息收入||三千五"), []Problem{{"row 6", Text{
			"利息收入（第6行）：不是有效的数字（例如 1234.56）", "Interest (row 6) is not a number (write it like 1234.56)"}}}},
		{"parking: more spaces used than exist", Parking, replace(Parking, 0, "车位总数||180"), []Problem{{"spaces_total", Text{
			"出租、出售和临时停车位之和（190）超过车位总数（180）", "rented, sold and temporary spaces add up to 190, more than the 180 spaces in total"}}}},
		{"parking: income lines short of the total", Parking, replace(Parking, 6, "收入明细|临时停车费|23000"), []Problem{{"income_line", Text{
			"收入明细合计 95,000.00 元与收入合计 96,000.00 元不一致（相差 1,000.00 元）",
			"Income lines add up to 95,000.00 yuan, but the total income is 96,000.00 yuan (a difference of 1,000.00)"}}}},
		{"parking: income not all accounted for", Parking, without(Parking, 8), []Problem{{"expense", Text{
			"支出明细与业主共有收益合计 90,000.00 元与收入合计 96,000.00 元不一致（相差 6,000.00 元）",
			"Expense and owners' share lines add up to 90,000.00 yuan, but the total income is 96,000.00 yuan (a difference of 6,000.00)"}}}},
		{"parking: half a space", Parking, replace(Parking, 1, "出租车位||12.5"), []Problem{{"row 3", Text{
			"出租车位（第3行）：必须是非负整数", "Rented spaces (row 3) must be a whole number, 0 or more"}}}},
		{"an item of another category", Fees, with(Fees, "期末余额||5"), []Problem{{"row 8", Text{
			"第8行：“期末余额”是专项维修资金的项目，这里填报的是物业服务费", `row 8: "期末余额" belongs to Maintenance fund, but this is Property service fees`}}}},
		{"an unknown item", MaintenanceFund, with(MaintenanceFund, "杂项|x|5"), []Problem{{"row 8", Text{
			"第8行：未知项目“杂项”，应为期初余额、本期缴存、本期使用合计、使用明细、利息收入、期末余额之一",
			`row 8: unknown item "杂项"; use one of opening, deposits, withdrawals, withdrawal, interest, closing`}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ps := Parse(tc.category, tc.rows)
			if d != nil {
				t.Errorf("accepted: %s", Marshal(d))
			}
			if diff := cmp.Diff(tc.want, []Problem(ps)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// Every problem is reported at once, each naming its row, so a company fixes its file once.
func TestParseReportsEveryProblem(t *testing.T) {
	_, ps := Parse(Fees, rows("收费标准||abc", "实收物业服务费||-1", "支出明细||5", "支出明细|x|1.234"))
	fields := []string{}
	for _, p := range ps {
		fields = append(fields, p.Field)
	}
	if diff := cmp.Diff([]string{"row 2", "row 3", "row 5", "spent"}, fields); diff != "" {
		t.Errorf("fields (-want +got):\n%s\n%v", diff, ps.Messages("zh"))
	}
	// The line without a purpose is caught once the numbers read: by the arithmetic pass.
	_, ps = Parse(Fees, rows("收费标准||1", "实收物业服务费||1", "支出合计||5", "支出明细||5"))
	if len(ps) != 1 || ps[0].Field != "row 5" || !strings.Contains(ps[0].ZH, "用途不能为空") {
		t.Errorf("problems = %+v", ps)
	}
}

func TestDecodeProblems(t *testing.T) {
	for _, tc := range []struct {
		name, category, json string
		want                 []string // field: English message
	}{
		{"decimal yuan instead of fen", Fees, `{"standard_fen_per_m2_month":2.5,"collected_fen":1,"spent_fen":0}`,
			[]string{"data.standard_fen_per_m2_month: data.standard_fen_per_m2_month must be an integer (amounts are in fen: 123456 is 1234.56 yuan)"}},
		{"missing field", Fees, `{"collected_fen":1,"spent_fen":0}`,
			[]string{"data.standard_fen_per_m2_month: data.standard_fen_per_m2_month is missing"}},
		{"unknown field", MaintenanceFund, `{"opening_fen":0,"deposits_fen":0,"withdrawals_fen":0,"interest_fen":0,"closing_fen":0,"opening":5}`,
			[]string{"data.opening: unknown field data.opening"}},
		{"negative", MaintenanceFund, `{"opening_fen":-1,"deposits_fen":0,"withdrawals_fen":0,"interest_fen":0,"closing_fen":0}`,
			[]string{"data.opening_fen: data.opening_fen must not be negative"}},
		{"string amount", Utilities, `{"bills":[{"kind":"water","amount_fen":"100"}],"allocations":[]}`,
			[]string{"data.bills[0].amount_fen: data.bills[0].amount_fen must be an integer"}},
		{"bad kind", Utilities, `{"bills":[{"kind":"gas","amount_fen":100}],"allocations":[]}`,
			[]string{"data.bills[0]: bill (data.bills[0]): kind must be water or electricity"}},
		{"bad allocation kind", Utilities, `{"bills":[{"kind":"water","amount_fen":100}],"allocations":[{"kind":"gas","group":"1栋","amount_fen":100}]}`,
			[]string{"data.allocations[0]: allocation (data.allocations[0]): kind must be water or electricity"}},
		{"sum over JSON lines", Utilities, `{"bills":[{"kind":"water","amount_fen":100}],"allocations":[{"kind":"water","group":"1栋","amount_fen":99}]}`,
			[]string{"data.allocations: Water allocation lines add up to 0.99 yuan, but the water bill is 1.00 yuan (a difference of 0.01)"}},
		{"not an object", Parking, `[1,2]`, []string{"data: data must be a JSON object"}},
		{"not JSON", Parking, `{"spaces":`, []string{"data: data is not valid JSON: unexpected EOF"}},
		{"too large", Fees, `{"standard_fen_per_m2_month":1,"collected_fen":99999999999999999999,"spent_fen":0}`,
			[]string{"data.collected_fen: data.collected_fen is too large"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, ps := Decode(tc.category, "data", []byte(tc.json))
			if d != nil {
				t.Errorf("accepted: %s", Marshal(d))
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.Field+": "+p.EN)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestViewShowsYuan(t *testing.T) {
	d, _ := Parse(MaintenanceFund, valid[MaintenanceFund])
	tables := View(d, "zh")
	want := []Table{
		{Title: "资金变动", Head: []string{"项目", "金额（元）"}, Num: []bool{false, true}, Rows: [][]string{
			{"期初余额", "1,000,000.00"}, {"本期缴存", "50,000.00"}, {"本期使用合计", "30,000.00"}, {"利息收入", "3,500.00"}, {"期末余额", "1,023,500.00"}}},
		{Title: "使用明细", Head: []string{"用途", "金额（元）"}, Num: []bool{false, true}, Rows: [][]string{{"电梯维修", "30,000.00"}}, Foot: []string{"合计", "30,000.00"}},
	}
	if diff := cmp.Diff(want, tables); diff != "" {
		t.Errorf("View (-want +got):\n%s", diff)
	}
	d, _ = Parse(Utilities, valid[Utilities])
	var got [][]string
	for _, table := range View(d, "zh") {
		got = append(got, append([]string{table.Title}, table.Head...))
		got = append(got, table.Rows...)
	}
	if diff := cmp.Diff([][]string{
		{"水电费账单", "类别", "账单或表计", "金额（元）"},
		{"水费", "总水表", "12,345.67"}, {"水费合计", "", "12,345.67"}, {"电费", "公共区域电表", "23,456.78"}, {"电费合计", "", "23,456.78"},
		{"分摊明细", "类别", "楼栋或住户组", "金额（元）"},
		{"水费", "1号楼", "6,000.00"}, {"水费", "2号楼", "6,345.67"}, {"水费合计", "", "12,345.67"}, {"电费", "1-3号楼", "23,456.78"}, {"电费合计", "", "23,456.78"},
	}, got); diff != "" {
		t.Errorf("utilities View (-want +got):\n%s", diff)
	}
	d, _ = Parse(Parking, valid[Parking])
	got = nil
	for _, table := range View(d, "en") {
		got = append(got, append([]string{table.Title}, table.Foot...))
		got = append(got, table.Rows...)
	}
	if diff := cmp.Diff([][]string{
		{"Spaces"}, {"Parking spaces", "200"}, {"Rented spaces", "120"}, {"Sold spaces", "50"}, {"Spaces for temporary parking", "20"},
		{"Income", "Total income", "96,000.00"}, {"车位租金", "72,000.00"}, {"临时停车费", "24,000.00"},
		{"Where the income went", "Total", "", "96,000.00"}, {"Expense", "管理人员工资", "30,000.00"}, {"Expense", "设施维护", "6,000.00"}, {"Owners' share", "转入业主共有资金账户", "60,000.00"},
	}, got); diff != "" {
		t.Errorf("parking View (-want +got):\n%s", diff)
	}
	raw := ViewRaw([]byte(`{"bill_fen":1234567,"water_fen":5,"note":"x"}`), "en")
	if diff := cmp.Diff([][]string{{"bill", "12,345.67 yuan"}, {"note", "x"}, {"water", "0.05 yuan"}}, raw[0].Rows); diff != "" {
		t.Errorf("ViewRaw (-want +got):\n%s", diff)
	}
}
