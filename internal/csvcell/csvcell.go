// Package csvcell keeps spreadsheets from running the cells of CSV files we write as formulas
// (CSV injection: =HYPERLINK(…) phones home; DDE can run programs). Every CSV the system
// writes passes each cell through Defuse: one rule for the reports, the filing templates and
// the household code lists.
package csvcell

import "strings"

// Defuse makes a cell read as text by spreadsheets: a cell that starts (after spaces) with a
// character that begins a formula (= + - @, a tab, carriage return or line feed, or the
// full-width ＝ ＋ － ＠, which some locales accept too) gets a leading apostrophe, which
// spreadsheets hide. Other cells are unchanged, so names read exactly as they were stored.
func Defuse(cell string) string {
	trimmed := strings.TrimLeft(cell, " ")
	if trimmed == "" {
		return cell
	}
	switch r := []rune(trimmed)[0]; r {
	case '=', '+', '-', '@', '\t', '\r', '\n', '＝', '＋', '－', '＠':
		return "'" + cell
	}
	return cell
}

// Undo reverses Defuse, for a file we wrote that is read back: it drops the apostrophe only
// where Defuse would have added it.
func Undo(cell string) string {
	if rest, ok := strings.CutPrefix(cell, "'"); ok && rest != "" && Defuse(rest) == cell {
		return rest
	}
	return cell
}
