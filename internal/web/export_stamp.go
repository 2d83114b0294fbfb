package web

import (
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/reports"
)

// Every download of grades says which publication its rows come from, so that a printed or
// forwarded file can be checked against the ledger: the evaluators' look-up and the rankings
// (with the red and black lists) as CSV and XLSX, in the columns stampHead names and
// stampCells fills on every row; the grades' JSON with the fields of apiPublication.

// stampHead is the heading of the publication's columns.
func stampHead(lang string) []string {
	var out []string
	for _, k := range []string{"report.period", "bidders.col.publication", "report.published_at", "report.col.pub_status", "report.inputs_hash"} {
		out = append(out, T(lang, k))
	}
	return out
}

// stampCells are the publication's columns of a row; empty cells when pub is nil.
func stampCells(lang string, pub *reports.Publication) []any {
	if pub == nil {
		return []any{"", "", "", "", ""}
	}
	return []any{pub.Period, pub.Seq, pub.PublishedAt.In(domain.Zone).Format("2006-01-02 15:04:05"),
		T(lang, "report.pub_status."+pub.Status), pub.InputsHash}
}
