package disclosure

import (
	"bytes"
	"encoding/csv"
	"fmt"

	"github.com/xuri/excelize/v2"

	"github.com/propcredit/propcredit/internal/csvcell"
)

// Templates: a file per category that companies download, fill in and upload. They are the
// same table the readers take: one row per figure or line, "item, name, value", with the item
// in Chinese.

var header = []string{"项目", "名称", "金额（元）或数量"}

// examples are the line names a template suggests, per lines item.
var examples = map[string][]string{
	"water_bill":             {"总水表"},
	"electricity_bill":       {"公共区域电表"},
	"water_allocation":       {"1号楼", "2号楼"},
	"electricity_allocation": {"1号楼", "2号楼"},
	"spending":               {"人员工资", "保洁绿化", "公共设施维护"},
	"withdrawal":             {"电梯维修"},
	"income_line":            {"车位租金", "临时停车费"},
	"expense":                {"管理人员工资", "设施维护"},
	"owners_share":           {"转入业主共有资金账户"},
}

// TemplateRows are the rows of an empty template: every single figure with no value, and a
// few example lines of each list.
func TemplateRows(category string) []Row {
	var out []Row
	for _, it := range SchemaOf(category).Items {
		if it.Kind != Lines {
			out = append(out, Row{Item: it.Code})
			continue
		}
		for _, name := range examples[it.Code] {
			out = append(out, Row{Item: it.Code, Name: name})
		}
	}
	return out
}

// instructions explain a file in its own words: as comment rows in CSV, a sheet in XLSX.
func instructions(category string) []string {
	return []string{
		fmt.Sprintf("%s填报表：每行一个项目；金额单位为元，最多两位小数；数量填整数。", CategoryLabel(category).ZH),
		"明细行（如分摊、支出明细）可以增删，每行填写名称和金额；明细合计必须等于对应的合计或账单金额。",
		"第一列“项目”请勿修改；以 # 开头的行不读取。保存为CSV时请选择“CSV UTF-8（逗号分隔）”。",
	}
}

// itemLabel is how files name an item: its zh-CN label.
func itemLabel(category, code string) string {
	it, ok := SchemaOf(category).Item(code)
	if !ok {
		return code
	}
	return it.Label.ZH
}

// CSV writes rows as a CSV file that Excel opens correctly (UTF-8 with a BOM), with the
// header and instructions as comment rows.
func CSV(category string, rows []Row) []byte {
	var buf bytes.Buffer
	buf.WriteString("\xEF\xBB\xBF")
	w := csv.NewWriter(&buf)
	_ = w.Write(header)
	for _, line := range instructions(category) {
		_ = w.Write([]string{"# " + line})
	}
	for _, r := range rows {
		_ = w.Write([]string{itemLabel(category, r.Item), csvcell.Defuse(r.Name), r.Value})
	}
	w.Flush()
	return buf.Bytes()
}

// XLSX writes rows as an Excel workbook: the table on the first sheet, whose value column is
// formatted as text so that what is typed is read back exactly, and the instructions on a
// second sheet.
func XLSX(category string, rows []Row) ([]byte, error) {
	book := excelize.NewFile()
	defer book.Close()
	const sheet = "填报"
	if err := book.SetSheetName("Sheet1", sheet); err != nil {
		return nil, err
	}
	text, err := book.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text
	if err != nil {
		return nil, err
	}
	bold, err := book.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return nil, err
	}
	if err := book.SetColStyle(sheet, "B:C", text); err != nil {
		return nil, err
	}
	_ = book.SetColWidth(sheet, "A", "A", 28)
	_ = book.SetColWidth(sheet, "B", "B", 24)
	_ = book.SetColWidth(sheet, "C", "C", 20)
	if err := book.SetSheetRow(sheet, "A1", &header); err != nil {
		return nil, err
	}
	_ = book.SetCellStyle(sheet, "A1", "C1", bold)
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		// Strings, never numbers or formulas: SetSheetRow writes a string cell for a string.
		values := []any{itemLabel(category, r.Item), r.Name, r.Value}
		if err := book.SetSheetRow(sheet, cell, &values); err != nil {
			return nil, err
		}
	}
	const notes = "说明"
	if _, err := book.NewSheet(notes); err != nil {
		return nil, err
	}
	_ = book.SetColWidth(notes, "A", "A", 100)
	for i, line := range instructions(category) {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := book.SetCellStr(notes, cell, line); err != nil {
			return nil, err
		}
	}
	book.SetActiveSheet(0)
	var buf bytes.Buffer
	if err := book.Write(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
