package audit

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/propcredit/propcredit/internal/csvcell"
)

// Formats the trail can be exported in.
const (
	FormatJSONL = "jsonl"
	FormatCSV   = "csv"
	FormatXLSX  = "xlsx"
)

// Columns of the CSV and XLSX exports, in order; JSON Lines uses Entry's JSON names.
var Columns = []string{"id", "at", "actor", "role", "action", "object", "company", "period", "before", "after", "reason"}

func (e Entry) row() []string {
	return []string{e.ID, e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Role, e.Action, e.Object,
		e.Company, e.Period, e.Before, e.After, e.Reason}
}

// Write writes entries to w in format.
func Write(w io.Writer, format string, entries []Entry) error {
	switch format {
	case FormatJSONL:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for _, e := range entries {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
		return nil
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(Columns); err != nil {
			return err
		}
		for _, e := range entries {
			if err := cw.Write(csvSafe(e.row())); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case FormatXLSX:
		f := excelize.NewFile()
		defer f.Close()
		sheet := "audit"
		if err := f.SetSheetName("Sheet1", sheet); err != nil {
			return err
		}
		sw, err := f.NewStreamWriter(sheet)
		if err != nil {
			return err
		}
		if err := sw.SetRow("A1", cells(Columns)); err != nil {
			return err
		}
		for i, e := range entries {
			cell, _ := excelize.CoordinatesToCellName(1, i+2)
			if err := sw.SetRow(cell, cells(e.row())); err != nil {
				return err
			}
		}
		if err := sw.Flush(); err != nil {
			return err
		}
		return f.Write(w)
	}
	return fmt.Errorf("audit: unknown format %q (jsonl, csv or xlsx)", format)
}

func cells(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s // strings stay strings: a cell never becomes a formula
	}
	return out
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (internal/csvcell).
func csvSafe(row []string) []string {
	for i, c := range row {
		row[i] = csvcell.Defuse(c)
	}
	return row
}
