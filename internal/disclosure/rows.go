package disclosure

import (
	"fmt"
	"strconv"
	"strings"
)

// Row is one row of a category's table as people write it, in a file or the web form: which
// item, a name (for lines), and a value in yuan (or a count).
type Row struct {
	// Field is the key messages about this row use: "row 5" for a file, the input's name for
	// the web form.
	Field string
	// Where names the row for people: "第5行" / "row 5".
	Where Text
	Item  string
	Name  string
	Value string
}

func (r Row) blank() bool {
	return strings.TrimFunc(r.Item, isSpace) == "" && strings.TrimFunc(r.Name, isSpace) == "" && strings.TrimFunc(r.Value, isSpace) == ""
}

// FileRow is the Row of line n (1-based) of a file.
func FileRow(n int, item, name, value string) Row {
	return Row{Field: fmt.Sprintf("row %d", n), Where: textf("第%d行", "row %d", n), Item: item, Name: name, Value: value}
}

// Parse reads a category's figures from rows and checks them. Every problem is reported,
// each naming its row; the arithmetic is checked only when every figure could be read.
func Parse(category string, rows []Row) (Data, Problems) {
	s := SchemaOf(category)
	if s == nil {
		return nil, Problems{{Field: "category", Text: textf("未知的公开类别“%s”", "unknown disclosure category %q", category)}}
	}
	var ps Problems
	if len(rows) > MaxRows {
		ps.add("file", textf("最多%d行，实际%d行", "at most %d rows, not %d", MaxRows, len(rows)))
		return nil, ps
	}
	d := newData(category)
	seen := map[string]Text{} // item code → where it was first given
	for _, r := range rows {
		if r.blank() {
			continue
		}
		it, ok := s.lookup(r.Item)
		if !ok {
			ps.add(r.Field, unknownItem(s, r))
			continue
		}
		switch it.Kind {
		case Amount, Count:
			if first, dup := seen[it.Code]; dup {
				ps.add(r.Field, textf("%s：%s重复填写（已在%s填写）", "%s: %s is given twice (first in %s)", r.Where, it.Label, first))
				continue
			}
			seen[it.Code] = r.Where
			if it.Kind == Amount {
				v, err := ParseYuan(r.Value)
				if err != nil {
					ps.add(r.Field, valueProblem(it, r, *err))
					continue
				}
				*amountOf(d, it.Code) = v
			} else {
				v, err := ParseCount(r.Value)
				if err != nil {
					ps.add(r.Field, valueProblem(it, r, *err))
					continue
				}
				*countOf(d, it.Code) = v
			}
		case Lines:
			v, err := ParseYuan(r.Value)
			if err != nil {
				ps.add(r.Field, valueProblem(it, r, *err))
				continue
			}
			addLine(d, it.Code, strings.TrimFunc(r.Name, isSpace), v, ref{field: r.Field, where: r.Where})
		}
	}
	for _, it := range s.Items {
		if _, given := seen[it.Code]; it.Kind != Lines && !given {
			ps.add(it.Code, textf("%s：不能为空", "%s is required", it.Label))
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	d.check(&ps, namer{schema: s})
	if len(ps) > 0 {
		return nil, ps
	}
	return d, nil
}

func valueProblem(it Item, r Row, err Text) Text {
	return textf("%s：%s", "%s %s", labelAt(it.Label, r.Where), err)
}

// labelAt is a field's label with where it is, when that says more than the label: "支出明细
// （第3行）", but just "支出合计" for a field of the web form.
func labelAt(label, where Text) Text {
	if where.ZH == "" {
		return label
	}
	return textf("%s（%s）", "%s (%s)", label, where)
}

// unknownItem explains an item that the category does not have, and says so when it belongs
// to another category: the company picked the wrong form or the wrong file.
func unknownItem(s *Schema, r Row) Text {
	for _, other := range []string{Utilities, Fees, MaintenanceFund, Parking} {
		if other == s.Category {
			continue
		}
		if _, ok := SchemaOf(other).lookup(r.Item); ok {
			got, want := CategoryLabel(other), CategoryLabel(s.Category)
			return textf("%s：“%s”是%s的项目，这里填报的是%s", "%s: %q belongs to %s, but this is %s",
				r.Where, r.Item, got, want)
		}
	}
	var zh, en []string
	for _, it := range s.Items {
		zh = append(zh, normalizeLabel(it.Label.ZH))
		en = append(en, it.Code)
	}
	return textf("%s：未知项目“%s”，应为%s之一", "%s: unknown item %q; use one of %s",
		r.Where, clip(r.Item, 40), Text{strings.Join(zh, "、"), strings.Join(en, ", ")})
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// amountOf and countOf point at a single figure of d by item code.
func amountOf(d Data, code string) *Fen {
	switch d := d.(type) {
	case *FeesData:
		return d.amount(code)
	case *FundData:
		return d.amount(code)
	case *ParkingData:
		if code == "income" {
			return &d.IncomeFen
		}
	}
	panic("disclosure: no amount " + code)
}

func countOf(d Data, code string) *int {
	if d, ok := d.(*ParkingData); ok {
		return d.count(code)
	}
	panic("disclosure: no count " + code)
}

func (d *FeesData) amount(code string) *Fen {
	switch code {
	case "standard":
		return &d.StandardFen
	case "collected":
		return &d.CollectedFen
	case "spent":
		return &d.SpentFen
	}
	panic("disclosure: no fees amount " + code)
}

func (d *FundData) amount(code string) *Fen {
	switch code {
	case "opening":
		return &d.OpeningFen
	case "deposits":
		return &d.DepositsFen
	case "withdrawals":
		return &d.WithdrawalsFen
	case "interest":
		return &d.InterestFen
	case "closing":
		return &d.ClosingFen
	}
	panic("disclosure: no fund amount " + code)
}

func (d *ParkingData) count(code string) *int {
	switch code {
	case "spaces_total":
		return &d.Spaces.Total
	case "spaces_rented":
		return &d.Spaces.Rented
	case "spaces_sold":
		return &d.Spaces.Sold
	case "spaces_temporary":
		return &d.Spaces.Temporary
	}
	panic("disclosure: no parking count " + code)
}

func addLine(d Data, code, name string, v Fen, r ref) {
	switch d := d.(type) {
	case *UtilitiesData:
		kind, what, _ := strings.Cut(code, "_")
		if what == "bill" {
			d.Bills = append(d.Bills, Bill{Kind: kind, Name: name, AmountFen: v, ref: r})
		} else {
			d.Allocations = append(d.Allocations, Allocation{Kind: kind, Group: name, AmountFen: v, ref: r})
		}
	case *FeesData:
		d.Spending = append(d.Spending, Line{Purpose: name, AmountFen: v, ref: r})
	case *FundData:
		d.Withdrawals = append(d.Withdrawals, Line{Purpose: name, AmountFen: v, ref: r})
	case *ParkingData:
		if code == "income_line" {
			d.Income = append(d.Income, IncomeLine{Source: name, AmountFen: v, ref: r})
		} else {
			d.Uses = append(d.Uses, Use{Kind: code, Purpose: name, AmountFen: v, ref: r})
		}
	}
}

// Rows writes figures as rows in schema order: what a file of them would hold, and what the
// web form shows when a company edits its filing.
func Rows(d Data) []Row {
	var out []Row
	add := func(code, name, value string) { out = append(out, Row{Item: code, Name: name, Value: value}) }
	switch d := d.(type) {
	case *UtilitiesData:
		for _, kind := range utilityKinds {
			for _, b := range d.Bills {
				if b.Kind == kind {
					add(kind+"_bill", b.Name, b.AmountFen.String())
				}
			}
		}
		for _, kind := range utilityKinds {
			for _, a := range d.Allocations {
				if a.Kind == kind {
					add(kind+"_allocation", a.Group, a.AmountFen.String())
				}
			}
		}
	case *FeesData:
		for _, code := range []string{"standard", "collected", "spent"} {
			add(code, "", d.amount(code).String())
		}
		for _, l := range d.Spending {
			add("spending", l.Purpose, l.AmountFen.String())
		}
	case *FundData:
		for _, code := range []string{"opening", "deposits", "withdrawals"} {
			add(code, "", d.amount(code).String())
		}
		for _, l := range d.Withdrawals {
			add("withdrawal", l.Purpose, l.AmountFen.String())
		}
		add("interest", "", d.InterestFen.String())
		add("closing", "", d.ClosingFen.String())
	case *ParkingData:
		for _, code := range []string{"spaces_total", "spaces_rented", "spaces_sold", "spaces_temporary"} {
			add(code, "", strconv.Itoa(*d.count(code)))
		}
		add("income", "", d.IncomeFen.String())
		for _, l := range d.Income {
			add("income_line", l.Source, l.AmountFen.String())
		}
		for _, kind := range []string{Expense, OwnersShare} {
			for _, u := range d.Uses {
				if u.Kind == kind {
					add(kind, u.Purpose, u.AmountFen.String())
				}
			}
		}
	}
	return out
}
