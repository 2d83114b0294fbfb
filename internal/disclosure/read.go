package disclosure

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/propcredit/propcredit/internal/csvcell"
)

// Limits on uploaded files. Legitimate files are a few kilobytes: a table of at most MaxRows
// rows of three columns. The limits are checked before anything is parsed, so a hostile file
// (huge, or a zip bomb dressed as a spreadsheet) costs little memory and time.
const (
	// MaxFileBytes is the largest file accepted, as uploaded.
	MaxFileBytes = 2 << 20
	// maxUnzipped bounds what an XLSX may unpack to in total. excelize checks the sizes that
	// the zip declares before it unpacks anything, and archive/zip refuses to inflate an
	// entry beyond its declared size, so a bomb is refused unread. It is also the threshold
	// above which excelize would unpack a worksheet into a temporary file instead of memory;
	// with both equal, nothing ever goes to disk.
	maxUnzipped = 4 << 20
	// maxColumns are the columns read: item, name, value.
	maxColumns = 3
	// maxFileProblems stops reading a hopeless file early.
	maxFileProblems = 20
	// maxSheetRow is the last worksheet row read. excelize walks a sheet one row number at a
	// time, blank rows included, so a row numbered 1,048,576 would cost a million steps.
	maxSheetRow = 5 * MaxRows
)

// File is what was read from an upload: its rows, and which text encoding a CSV was in.
type File struct {
	Rows     []Row
	Encoding string // "UTF-8" or "GB18030" (GBK); "" for XLSX
}

var fileField = "file"

func fileProblem(t Text) Problems { return Problems{{Field: fileField, Text: t}} }

// ReadFile reads an uploaded CSV or XLSX file, chosen by the file name's extension.
func ReadFile(name string, data []byte) (File, Problems) {
	switch strings.ToLower(path.Ext(name)) {
	case ".csv", ".txt":
		return ReadCSV(data)
	case ".xlsx":
		return ReadXLSX(data)
	case ".xls", ".et", ".wps":
		return File{}, fileProblem(Text{"不支持旧版Excel（.xls）等格式，请另存为.xlsx或CSV后上传", "old Excel files (.xls) and similar are not supported: save as .xlsx or CSV"})
	}
	return File{}, fileProblem(Text{"只能上传CSV（.csv）或Excel（.xlsx）文件", "upload a CSV (.csv) or Excel (.xlsx) file"})
}

func tooLarge(n int) Problems {
	return fileProblem(textf("文件大小 %d KB，超过上限 %d KB", "the file is %d KB, more than the %d KB allowed", (n+1023)>>10, MaxFileBytes>>10))
}

// ReadCSV reads a CSV file of rows "item,name,value". It takes UTF-8 (with or without the BOM
// that Excel writes), and GBK/GB18030, which Chinese versions of Excel write for "CSV (comma
// delimited)": the bytes decide, since a file that is valid UTF-8 is almost never GBK text. A
// header row (项目…) and rows starting with # are skipped.
func ReadCSV(data []byte) (File, Problems) {
	if len(data) > MaxFileBytes {
		return File{}, tooLarge(len(data))
	}
	f := File{Encoding: "UTF-8"}
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return File{}, fileProblem(Text{"文件是UTF-16编码（Excel的“Unicode文本”），请在Excel中另存为“CSV UTF-8（逗号分隔）”后上传",
			"the file is UTF-16 (Excel's \"Unicode Text\"): save it as \"CSV UTF-8 (Comma delimited)\" and upload that"})
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return File{}, fileProblem(Text{"这是Excel（.xlsx）文件，不是CSV：请把文件名改回.xlsx后上传", "this is an Excel (.xlsx) file, not CSV: upload it with its .xlsx name"})
	}
	data = bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
	if !utf8.Valid(data) {
		decoded, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil || bytes.ContainsRune(decoded, utf8.RuneError) || bytes.ContainsRune(decoded, 0) {
			return File{}, fileProblem(Text{"无法识别文件的文字编码：请在Excel中另存为“CSV UTF-8（逗号分隔）”后上传",
				"the file's text encoding is not recognised: save it as \"CSV UTF-8 (Comma delimited)\" and upload that"})
		}
		data, f.Encoding = decoded, "GB18030"
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // rows may be short; Excel drops trailing empty cells
	r.ReuseRecord = true
	var ps Problems
	for len(ps) < maxFileProblems {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				ps.add(fmt.Sprintf("row %d", pe.Line), textf("第%d行：CSV格式错误（%s）", "row %d: malformed CSV (%s)", pe.Line, csvReason(pe.Err)))
			} else {
				ps.add(fileField, textf("无法读取CSV：%v", "cannot read the CSV: %v", err))
			}
			break
		}
		line, _ := r.FieldPos(0)
		var cells [maxColumns]string
		extra := false
		for i, v := range rec {
			if i < maxColumns {
				cells[i] = v
			} else if strings.TrimFunc(v, isSpace) != "" {
				extra = true
			}
		}
		if !fileRow(&ps, &f, line, cells, extra) {
			break
		}
	}
	return f, ps
}

func csvReason(err error) Text {
	switch {
	case errors.Is(err, csv.ErrQuote), errors.Is(err, csv.ErrBareQuote):
		return Text{"引号不配对", "unbalanced quotes"}
	case errors.Is(err, csv.ErrFieldCount):
		return Text{"列数不对", "wrong number of fields"}
	}
	return Text{err.Error(), err.Error()}
}

// fileRow adds line number line of a file to f unless it is blank, the header or a comment
// (# ...). It reports problems of the row's shape, and false when reading should stop.
func fileRow(ps *Problems, f *File, line int, cells [maxColumns]string, extra bool) bool {
	item := strings.TrimFunc(cells[0], isSpace)
	if strings.HasPrefix(item, "#") || isHeader(item) && len(f.Rows) == 0 {
		return true
	}
	row := FileRow(line, cells[0], csvcell.Undo(cells[1]), cells[2])
	if extra {
		ps.add(row.Field, textf("第%d行：只能有三列（项目、名称、金额或数量），多余的列请删除", "row %d: only three columns (item, name, amount or number); delete the others", line))
		return len(*ps) < maxFileProblems
	}
	if row.blank() {
		return true
	}
	if len(f.Rows) >= MaxRows {
		ps.add(fileField, textf("最多%d行数据", "at most %d rows of figures", MaxRows))
		return false
	}
	f.Rows = append(f.Rows, row)
	return true
}

func isHeader(item string) bool {
	return item == "项目" || strings.EqualFold(item, "item")
}

// ReadXLSX reads the first worksheet of an Excel workbook, columns A-C as "item, name, value".
//
// Formulas are not evaluated. A formula cell gives the value the spreadsheet computed and
// saved with it (what the company saw on screen); a formula cell without a saved value is
// refused, since only evaluating it would tell, and we never do. Numbers are read to the 15
// significant digits a spreadsheet shows; text is read exactly.
func ReadXLSX(data []byte) (File, Problems) {
	if len(data) > MaxFileBytes {
		return File{}, tooLarge(len(data))
	}
	if bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0}) {
		return File{}, fileProblem(Text{"这是旧版Excel（.xls）或加密的文件：请取消密码并另存为.xlsx后上传",
			"this is an old Excel file (.xls) or an encrypted one: remove the password and save it as .xlsx"})
	}
	if !bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return File{}, notXLSX()
	}
	if ps := checkZip(data); len(ps) > 0 {
		return File{}, ps
	}
	book, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		RawCellValue: true, UnzipSizeLimit: maxUnzipped, UnzipXMLSizeLimit: maxUnzipped})
	if err != nil {
		return File{}, notXLSX()
	}
	defer book.Close()
	sheets := book.GetSheetList()
	if len(sheets) == 0 {
		return File{}, notXLSX()
	}
	sheet := sheets[0]
	cells, ps := xlsxCells(book, sheet)
	if len(ps) > 0 {
		return File{}, ps
	}
	var f File
	for _, c := range cells {
		vals := c.values
		for i := range vals {
			axis, _ := excelize.CoordinatesToCellName(i+1, c.row)
			v, problem := cellValue(book, sheet, axis, vals[i])
			if problem != nil {
				ps.add(fmt.Sprintf("row %d", c.row), *problem)
				continue
			}
			vals[i] = v
		}
		if !fileRow(&ps, &f, c.row, vals, false) || len(ps) >= maxFileProblems {
			break
		}
	}
	return f, ps
}

// checkZip inflates every entry of the zip once, into nothing, before excelize reads it:
// the declared sizes must add up to at most maxUnzipped, and each entry must inflate to
// exactly its declared size with the right checksum. excelize checks the declared sizes too,
// but it ignores an entry that inflates to more than it declares (archive/zip stops it at
// the declared size) and would read the truncated part as if it were the file.
func checkZip(data []byte) Problems {
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return notXLSX()
	}
	var total uint64
	for _, f := range z.File {
		total += f.UncompressedSize64
		if f.UncompressedSize64 > maxUnzipped || total > maxUnzipped {
			return fileProblem(textf("文件解压后超过 %d MB，不像是填报表格", "the file unpacks to more than %d MB, which no disclosure table needs", maxUnzipped>>20))
		}
	}
	for _, f := range z.File {
		rc, err := f.Open()
		if err == nil {
			_, err = io.Copy(io.Discard, io.LimitReader(rc, int64(f.UncompressedSize64)+1))
			rc.Close()
		}
		if err != nil {
			return fileProblem(Text{"文件已损坏（压缩内容与文件头不符），请重新保存后上传", "the file is damaged (its contents do not match its zip headers): save it again and upload that"})
		}
	}
	return nil
}

func notXLSX() Problems {
	return fileProblem(Text{"不是有效的Excel（.xlsx）文件", "this is not a valid Excel (.xlsx) file"})
}

type xlsxRow struct {
	row    int
	values [maxColumns]string
}

// xlsxCells streams the sheet's rows and keeps the raw values of columns A-C of the rows
// that have any. It stops at MaxRows rows of figures or maxFileProblems problems, so a
// sheet of a million rows is not held in memory.
func xlsxCells(book *excelize.File, sheet string) ([]xlsxRow, Problems) {
	rows, err := book.Rows(sheet)
	if err != nil {
		return nil, notXLSX()
	}
	defer rows.Close()
	var (
		out []xlsxRow
		ps  Problems
		n   int
	)
	for rows.Next() {
		n++
		if n > maxSheetRow {
			ps.add(fileField, textf("表格最多%d行（含空行），请删除第%d行之后的内容", "a sheet may have at most %d rows, blank ones included: delete everything after row %d", maxSheetRow, maxSheetRow))
			break
		}
		cols, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, append(ps, fileProblem(textf("第%d行无法读取", "row %d cannot be read", n))...)
		}
		var r xlsxRow
		r.row = n
		blank := true
		for i, v := range cols {
			if v == "" {
				continue
			}
			blank = false
			if i >= maxColumns {
				axis, _ := excelize.CoordinatesToCellName(i+1, n)
				ps.add(fmt.Sprintf("row %d", n), textf("第%d行：只能有三列（A-C：项目、名称、金额或数量），单元格%s多余",
					"row %d: only three columns (A-C: item, name, amount or number); cell %s is extra", n, axis))
				break
			}
			r.values[i] = v
		}
		if blank {
			continue
		}
		if len(out) >= MaxRows+1 { // +1: the header
			ps.add(fileField, textf("最多%d行数据", "at most %d rows of figures", MaxRows))
		}
		if len(ps) >= maxFileProblems || len(out) > MaxRows {
			break
		}
		out = append(out, r)
	}
	if err := rows.Error(); err != nil && len(ps) == 0 {
		ps = append(ps, notXLSX()...)
	}
	return out, ps
}

// cellValue turns a cell's raw value into the text the rows parser reads, by the cell's type.
func cellValue(book *excelize.File, sheet, axis, raw string) (string, *Text) {
	formula, _ := book.GetCellFormula(sheet, axis)
	if raw == "" && formula == "" {
		return "", nil
	}
	typ, err := book.GetCellType(sheet, axis)
	if err != nil {
		return "", &Text{"无法读取单元格" + axis, "cannot read cell " + axis}
	}
	if formula != "" && raw == "" {
		t := textf("单元格%s是公式（=%s），但文件没有保存它的计算结果：请在Excel中打开并保存，或把公式“粘贴为数值”后再上传",
			"cell %s holds a formula (=%s) without its saved result: open and save the file in Excel, or paste the formula as a value", axis, clip(formula, 40))
		return "", &t
	}
	switch typ {
	case excelize.CellTypeError:
		t := textf("单元格%s是错误值（%s）", "cell %s holds an error (%s)", axis, clip(raw, 20))
		return "", &t
	case excelize.CellTypeUnset, excelize.CellTypeNumber: // numbers carry no type, or "n"
		if v, ok := excelNumber(raw); ok {
			return v, nil
		}
		return raw, nil
	case excelize.CellTypeBool:
		if raw == "1" {
			return "TRUE", nil
		}
		return "FALSE", nil
	}
	return raw, nil
}
