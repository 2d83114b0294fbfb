package reports

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/propcredit/propcredit/internal/csvcell"
)

// Sheet is a table to download: the rankings as CSV or XLSX.
type Sheet struct {
	Name string // the XLSX worksheet's name
	Head []string
	// Rows hold string, int, int64 or float64 cells; a float64 that is not finite is empty.
	Rows [][]any
}

// utf8BOM makes Excel read a CSV file as UTF-8 instead of the system's code page, which would
// garble every Chinese name.
const utf8BOM = "\uFEFF"

// WriteCSV writes the sheet as CSV (RFC 4180, CRLF line ends) with a byte-order mark.
//
// A spreadsheet opening a CSV file runs any cell that starts with =, +, - or @ as a formula
// (=HYPERLINK(…) phones home; DDE can run programs), so csvcell.Defuse guards every cell.
func (s Sheet) WriteCSV(w io.Writer) error {
	if _, err := io.WriteString(w, utf8BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	record := make([]string, len(s.Head))
	for i, h := range s.Head {
		record[i] = csvcell.Defuse(h)
	}
	if err := cw.Write(record); err != nil {
		return err
	}
	for _, row := range s.Rows {
		record = record[:0]
		for _, cell := range row {
			record = append(record, csvcell.Defuse(cellText(cell)))
		}
		if err := cw.Write(record); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func cellText(cell any) string {
	switch v := cell.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		if !finite(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', 2, 64)
	default:
		return fmt.Sprint(v)
	}
}

// WriteXLSX writes the sheet as an Excel workbook. Text cells are stored as strings, never as
// formulas, and numbers as numbers.
func (s Sheet) WriteXLSX(w io.Writer) error {
	f := excelize.NewFile()
	defer f.Close()
	name := s.Name
	if name == "" {
		name = "Sheet1"
	}
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	head := make([]any, len(s.Head))
	for i, h := range s.Head {
		head[i] = excelize.Cell{Value: h}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	for r, row := range s.Rows {
		cells := make([]any, len(row))
		for i, cell := range row {
			if v, ok := cell.(float64); ok && !finite(v) {
				cell = nil
			}
			cells[i] = excelize.Cell{Value: cell}
		}
		axis, err := excelize.CoordinatesToCellName(1, r+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(axis, cells); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}
