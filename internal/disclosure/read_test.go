package disclosure

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// readRows reads a file and parses it as category, returning the stored JSON or the
// problems' English messages.
func readAndParse(t *testing.T, category, name string, data []byte) (string, []string) {
	t.Helper()
	f, ps := ReadFile(name, data)
	if len(ps) == 0 {
		var d Data
		if d, ps = Parse(category, f.Rows); len(ps) == 0 {
			return string(Marshal(d)), nil
		}
	}
	return "", ps.Messages("en")
}

func validJSON(t *testing.T, category string) string {
	t.Helper()
	d, ps := Parse(category, valid[category])
	if len(ps) > 0 {
		t.Fatal(ps.Messages("en"))
	}
	return string(Marshal(d))
}

// A company downloads the template, fills it in and uploads it: CSV and XLSX alike.
func TestTemplatesRoundTrip(t *testing.T) {
	for _, category := range []string{Utilities, Fees, MaintenanceFund, Parking} {
		want := validJSON(t, category)
		d, _ := Parse(category, valid[category])
		filled := Rows(d)

		got, problems := readAndParse(t, category, "fees.csv", CSV(category, filled))
		if got != want {
			t.Errorf("%s: CSV round trip = %s, %v", category, got, problems)
		}
		book, err := XLSX(category, filled)
		if err != nil {
			t.Fatal(err)
		}
		got, problems = readAndParse(t, category, "fees.XLSX", book)
		if got != want {
			t.Errorf("%s: XLSX round trip = %s, %v", category, got, problems)
		}

		// The empty templates read, and say which figures are missing.
		for name, data := range map[string][]byte{"t.csv": CSV(category, TemplateRows(category)), "t.xlsx": mustXLSX(t, category, TemplateRows(category))} {
			_, problems := readAndParse(t, category, name, data)
			if len(problems) == 0 || !strings.Contains(strings.Join(problems, "\n"), "is required") {
				t.Errorf("%s %s: empty template gave %v", category, name, problems)
			}
		}
	}
}

func mustXLSX(t *testing.T, category string, rows []Row) []byte {
	t.Helper()
	b, err := XLSX(category, rows)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const feesCSV = "项目,名称,金额（元）或数量\n" +
	"收费标准（元/平方米·月）,,2.50\n" +
	"实收物业服务费,,\"300,000.00\"\n" +
	"支出合计,,280000.50\n" +
	"支出明细,人员工资,150000\n" +
	"支出明细,保洁绿化,80000.50\n" +
	"支出明细,公共设施维护,50000.00\n"

func TestReadCSV(t *testing.T) {
	want := validJSON(t, Fees)
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(feesCSV))
	if err != nil {
		t.Fatal(err)
	}
	utf16 := append([]byte{0xFF, 0xFE}, []byte("项")...)
	for _, tc := range []struct {
		name     string
		data     []byte
		encoding string
	}{
		{"UTF-8", []byte(feesCSV), "UTF-8"},
		{"UTF-8 with BOM and CRLF", []byte("\xEF\xBB\xBF" + strings.ReplaceAll(feesCSV, "\n", "\r\n")), "UTF-8"},
		{"GBK, as Chinese Excel saves CSV", gbk, "GB18030"},
		{"trailing empty columns and blank rows", []byte(strings.ReplaceAll(feesCSV, "\n", ",,\n") + "\n,,\n"), "UTF-8"},
	} {
		f, ps := ReadCSV(tc.data)
		if len(ps) > 0 || f.Encoding != tc.encoding {
			t.Errorf("%s: encoding %q, %v", tc.name, f.Encoding, ps.Messages("en"))
			continue
		}
		d, ps := Parse(Fees, f.Rows)
		if len(ps) > 0 || string(Marshal(d)) != want {
			t.Errorf("%s: %v", tc.name, ps.Messages("en"))
		}
	}

	for _, tc := range []struct {
		name string
		data []byte
		want []Problem
	}{
		{"UTF-16", utf16, []Problem{{"file", Text{"文件是UTF-16编码（Excel的“Unicode文本”），请在Excel中另存为“CSV UTF-8（逗号分隔）”后上传",
			`the file is UTF-16 (Excel's "Unicode Text"): save it as "CSV UTF-8 (Comma delimited)" and upload that`}}}},
		{"bytes of no known encoding", []byte("项目,名称\nabc\x80\xff,1,2\n"), []Problem{{"file", Text{"无法识别文件的文字编码：请在Excel中另存为“CSV UTF-8（逗号分隔）”后上传",
			`the file's text encoding is not recognised: save it as "CSV UTF-8 (Comma delimited)" and upload that`}}}},
		{"an XLSX named .csv", []byte("PK\x03\x04rest"), []Problem{{"file", Text{"这是Excel（.xlsx）文件，不是CSV：请把文件名改回.xlsx后上传",
			"this is an Excel (.xlsx) file, not CSV: upload it with its .xlsx name"}}}},
		{"unbalanced quote", []byte("收费标准,,2.50\n实收物业服务费,\"x,1\n"), []Problem{{"row 2", Text{"第2行：CSV格式错误（引号不配对）", "row 2: malformed CSV (unbalanced quotes)"}}}},
		{"a fourth column", []byte("收费标准,,2.50,备注\n"), []Problem{{"row 1", Text{"第1行：只能有三列（项目、名称、金额或数量），多余的列请删除",
			"row 1: only three columns (item, name, amount or number); delete the others"}}}},
		{"too large", bytes.Repeat([]byte("a"), MaxFileBytes+1), []Problem{{"file", Text{"文件大小 2049 KB，超过上限 2048 KB",
			"the file is 2049 KB, more than the 2048 KB allowed"}}}},
		{"too many rows", []byte(strings.Repeat("支出明细,x,1\n", MaxRows+1)), []Problem{{"file", Text{"最多2000行数据", "at most 2000 rows of figures"}}}},
	} {
		_, ps := ReadCSV(tc.data)
		if diff := cmp.Diff(tc.want, []Problem(ps)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestReadFileByName(t *testing.T) {
	for name, want := range map[string]string{
		"a.xls":  "old Excel files (.xls) and similar are not supported: save as .xlsx or CSV",
		"a.pdf":  "upload a CSV (.csv) or Excel (.xlsx) file",
		"noext":  "upload a CSV (.csv) or Excel (.xlsx) file",
		"a.xlsx": "this is not a valid Excel (.xlsx) file",
	} {
		_, ps := ReadFile(name, []byte("hello"))
		if len(ps) != 1 || ps[0].EN != want {
			t.Errorf("ReadFile(%q) = %v, want %q", name, ps.Messages("en"), want)
		}
	}
}

// workbook builds a minimal XLSX whose first sheet has the given <sheetData> rows, so that
// tests can write cells no spreadsheet library would: formulas with or without saved values,
// numbers with binary noise, error values.
func workbook(t testing.TB, sheetData string) []byte {
	t.Helper()
	files := []struct{ name, body string }{
		{"[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"_rels/.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
			`<sheets><sheet name="填报" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>` +
			sheetData + `</sheetData></worksheet>`},
	}
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	for _, f := range files {
		w, err := z.Create(f.name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write([]byte(f.body))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// str and num are cells of a minimal sheet.
func str(ref, s string) string {
	return fmt.Sprintf(`<c r="%s" t="inlineStr"><is><t>%s</t></is></c>`, ref, s)
}
func num(ref, v string) string { return fmt.Sprintf(`<c r="%s"><v>%s</v></c>`, ref, v) }
func row(n int, cells ...string) string {
	return fmt.Sprintf(`<row r="%d">%s</row>`, n, strings.Join(cells, ""))
}

// feesSheet is the valid fees table with the "spent" cell C4 as given.
func feesSheet(spent string) string {
	return row(1, str("A1", "项目"), str("B1", "名称"), str("C1", "金额")) +
		row(2, str("A2", "收费标准"), num("C2", "2.5")) +
		row(3, str("A3", "实收物业服务费"), num("C3", "300000")) +
		row(4, str("A4", "支出合计"), spent) +
		row(5, str("A5", "支出明细"), str("B5", "人员工资"), num("C5", "150000")) +
		row(6, str("A6", "支出明细"), str("B6", "保洁绿化"), num("C6", "80000.499999999999")) +
		row(7, str("A7", "支出明细"), str("B7", "公共设施维护"), str("C7", "50000.00"))
}

func TestReadXLSX(t *testing.T) {
	want := validJSON(t, Fees)
	for _, tc := range []struct {
		name  string
		spent string
		want  []string // English problems; none: the valid fees
	}{
		{"a number", num("C4", "280000.5"), nil},
		{"a number with binary noise", num("C4", "280000.50000000006"), nil},
		{"text", str("C4", "280,000.50"), nil},
		{"a formula with its saved result: the result is read, not computed", `<c r="C4"><f>SUM(C5:C7)</f><v>280000.5</v></c>`, nil},
		{"a formula whose saved result disagrees: still only the saved result counts",
			`<c r="C4"><f>SUM(C5:C7)</f><v>999</v></c>`,
			[]string{"Spending lines add up to 280,000.50 yuan, but the total spent is 999.00 yuan (a difference of 279,001.50)"}},
		{"a formula without a saved result", `<c r="C4"><f>SUM(C5:C7)</f></c>`,
			[]string{"cell C4 holds a formula (=SUM(C5:C7)) without its saved result: open and save the file in Excel, or paste the formula as a value"}},
		{"an error value", `<c r="C4" t="e"><v>#DIV/0!</v></c>`, []string{"cell C4 holds an error (#DIV/0!)"}},
		{"three decimals that show", num("C4", "280000.505"), []string{"Total spent (row 4) must have at most 2 decimal places (whole fen)"}},
		{"a boolean", `<c r="C4" t="b"><v>1</v></c>`, []string{"Total spent (row 4) is not a number (write it like 1234.56)"}},
		{"a cell far to the right", num("C4", "280000.5") + num("XFD4", "1"),
			[]string{"row 4: only three columns (A-C: item, name, amount or number); cell XFD4 is extra"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, problems := readAndParse(t, Fees, "fees.xlsx", workbook(t, feesSheet(tc.spent)))
			if tc.want == nil && got != want {
				t.Errorf("read %s, %v; want the valid fees", got, problems)
			}
			if diff := cmp.Diff(tc.want, problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadXLSXRefusesBadFiles(t *testing.T) {
	many := row(1, str("A1", "项目"))
	for i := 2; i <= MaxRows+2; i++ {
		many += row(i, str(fmt.Sprintf("A%d", i), "支出明细"), str(fmt.Sprintf("B%d", i), "x"), num(fmt.Sprintf("C%d", i), "1"))
	}
	valid := workbook(t, feesSheet(num("C4", "1")))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"not a zip", []byte("项目,名称\n"), "this is not a valid Excel (.xlsx) file"},
		{"an old .xls (OLE) file", append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...),
			"this is an old Excel file (.xls) or an encrypted one: remove the password and save it as .xlsx"},
		{"a truncated zip", valid[:len(valid)/2], "this is not a valid Excel (.xlsx) file"},
		{"a zip that is no workbook", zipOf(t, "hello.txt", []byte("hi")), "this is not a valid Excel (.xlsx) file"},
		{"too many rows", workbook(t, many), "at most 2000 rows of figures"},
		{"a row far down", workbook(t, feesSheet(num("C4", "1"))+row(1048576, num("C1048576", "1"))),
			"a sheet may have at most 10000 rows, blank ones included: delete everything after row 10000"},
	} {
		_, ps := ReadXLSX(tc.data)
		if len(ps) == 0 || ps[0].EN != tc.want {
			t.Errorf("%s: %v, want %q", tc.name, ps.Messages("en"), tc.want)
		}
	}
}

func zipOf(t testing.TB, name string, body []byte) []byte {
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, _ := z.Create(name)
	_, _ = w.Write(body)
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	bombOnce sync.Once
	bombData []byte // 64 MB of '0' characters, deflated to about 64 KB
	bombCRC  uint32
)

const bombSize = 64 << 20

// bomb returns a workbook whose sheet1.xml inflates to 64 MB; lie sets the size its zip
// header declares to 1000 bytes instead.
func bomb(t testing.TB, lie bool) []byte {
	bombOnce.Do(func() {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, flate.BestCompression)
		chunk := bytes.Repeat([]byte("0"), 1<<20)
		h := crc32.NewIEEE()
		for range bombSize >> 20 {
			_, _ = w.Write(chunk)
			h.Write(chunk)
		}
		_ = w.Close()
		bombData, bombCRC = buf.Bytes(), h.Sum32()
	})
	good, err := zip.NewReader(bytes.NewReader(workbook(t, "")), int64(len(workbook(t, ""))))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	z := zip.NewWriter(&out)
	for _, f := range good.File {
		if f.Name == "xl/worksheets/sheet1.xml" {
			hdr := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, CRC32: bombCRC,
				CompressedSize64: uint64(len(bombData)), UncompressedSize64: bombSize}
			if lie {
				hdr.UncompressedSize64 = 1000
			}
			w, err := z.CreateRaw(hdr)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = w.Write(bombData)
			continue
		}
		if err := z.Copy(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// A zip bomb is refused cleanly, whether its header tells the truth about its size (excelize
// refuses it from the header) or lies (archive/zip stops inflating at the declared size), and
// reading it allocates a small fraction of what it would inflate to.
func TestReadXLSXRefusesZipBombs(t *testing.T) {
	for _, lie := range []bool{false, true} {
		data := bomb(t, lie)
		if len(data) > MaxFileBytes {
			t.Fatalf("the bomb is %d bytes, more than an upload may be", len(data))
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, ps := ReadXLSX(data)
		runtime.ReadMemStats(&after)
		allocated := after.TotalAlloc - before.TotalAlloc
		t.Logf("lie=%v: %d KB file, %d KB allocated, %v", lie, len(data)>>10, allocated>>10, ps.Messages("en"))
		if len(ps) == 0 {
			t.Errorf("lie=%v: the bomb was read", lie)
		}
		if allocated > 16<<20 {
			t.Errorf("lie=%v: reading the bomb allocated %d MB", lie, allocated>>20)
		}
	}
	for lie, want := range map[bool]string{
		false: "the file unpacks to more than 4 MB, which no disclosure table needs",
		true:  "the file is damaged (its contents do not match its zip headers): save it again and upload that",
	} {
		if _, ps := ReadXLSX(bomb(t, lie)); len(ps) != 1 || ps[0].EN != want {
			t.Errorf("lie=%v: %v, want %q", lie, ps.Messages("en"), want)
		}
	}
}

// A name that a spreadsheet would run as a formula, in ASCII or full-width, is written as text
// and reads back as it was filed.
func TestCSVDefusesNames(t *testing.T) {
	for _, name := range []string{"=HYPERLINK(\"http://x\")", "＝1+1", "＋1", "-1", "@SUM(A1)"} {
		rows := []Row{{Item: "expense", Name: name, Value: "1.00"}}
		out := string(CSV(Fees, rows))
		if !strings.Contains(out, ",'"+name) && !strings.Contains(out, ",\"'"+strings.ReplaceAll(name, `"`, `""`)) {
			t.Errorf("name %q is not defused in\n%s", name, out)
		}
		f, problems := ReadFile("fees.csv", []byte(out))
		if len(problems) > 0 {
			t.Fatal(problems)
		}
		if len(f.Rows) != 1 || f.Rows[0].Name != name {
			t.Errorf("name %q reads back as %+v", name, f.Rows)
		}
	}
}
