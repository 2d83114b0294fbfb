package disclosure

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxAmount bounds one amount (13 digits of yuan), so that sums of MaxRows lines stay exact
// in int64.
const maxAmount Fen = 1e15 - 1

// ref says where a figure came from, so that a message can point at it: Field is the key a
// form or an API client looks for, Where names the place for people ("第5行", "bills[0]").
type ref struct {
	field string
	where Text
}

// namer names a category's fields in messages: by item code for the web form and files, by
// JSON path for the API.
type namer struct {
	schema *Schema
	json   bool
	prefix string // of JSON paths
}

func (n namer) field(code string) string {
	it, _ := n.schema.Item(code)
	if n.json {
		return join(n.prefix, it.JSON)
	}
	return code
}

func (n namer) label(code string) Text {
	it, _ := n.schema.Item(code)
	return it.Label
}

// Check returns what is wrong with figures, naming fields as the web form does. Parse and
// Decode check already; Check is for figures read back from the database.
func Check(d Data) Problems {
	var ps Problems
	d.check(&ps, namer{schema: SchemaOf(d.Category())})
	return ps
}

// lineRef is where line i of item code is, when nothing recorded it (figures built in Go).
func lineRef(r ref, code string, i int) ref {
	if r.field != "" {
		return r
	}
	return ref{field: fmt.Sprintf("%s[%d]", code, i), where: textf("第%d行", "line %d", i+1)}
}

// checkLine checks one line's name and amount.
func checkLine(ps *Problems, it Item, r ref, name string, amount Fen) {
	label := labelAt(it.Label, r.where)
	switch {
	case strings.TrimSpace(name) == "" && !it.NameOptional:
		ps.add(r.field, textf("%s：%s不能为空", "%s: %s is required", label, lower(it.Name)))
	case utf8.RuneCountInString(name) > maxNameRunes:
		ps.add(r.field, textf("%s：%s不能超过%d个字", "%s: %s must be at most %d characters", label, lower(it.Name), maxNameRunes))
	case !printable(name):
		ps.add(r.field, textf("%s：%s含有不可见的控制字符", "%s: %s contains control characters", label, lower(it.Name)))
	}
	checkAmount(ps, r.field, label, amount)
}

// checkAmount refuses negative and absurdly large amounts, which only the API can send (the
// readers of forms and files refuse them while parsing).
func checkAmount(ps *Problems, field string, label Text, v Fen) {
	checkBounds(ps, field, label, v, maxAmount, errTooLarge)
}

func checkCount(ps *Problems, field string, label Text, v int) {
	checkBounds(ps, field, label, v, maxCount, errCountTooHigh)
}

// checkBounds refuses a negative v, and one above most (tooLarge says why).
func checkBounds[N ~int | ~int64](ps *Problems, field string, label Text, v, most N, tooLarge Text) {
	switch {
	case v < 0:
		ps.add(field, textf("%s：%s", "%s %s", label, errNegative))
	case v > most:
		ps.add(field, textf("%s：%s", "%s %s", label, tooLarge))
	}
}

func printable(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

func checkLineCount(ps *Problems, field string, label Text, n int) {
	if n > MaxLines {
		ps.add(field, textf("%s最多%d行", "%s: at most %d lines", label, MaxLines))
	}
}

// mismatch says that lines add up to got where they must add up to want.
func mismatch(ps *Problems, field string, lines, total Text, got, want Fen) {
	diff := got - want
	if diff < 0 {
		diff = -diff
	}
	ps.add(field, textf("%s合计 %s 元与%s %s 元不一致（相差 %s 元）",
		"%s lines add up to %s yuan, but the %s is %s yuan (a difference of %s)",
		lines, got.Display(), lower(total), want.Display(), diff.Display()))
}

// checkUtilityLine checks a bill or an allocation (what): its kind, then its name and amount
// as the schema's item kind+suffix; the amount adds to sums[kind]. A line of another kind is
// a problem and adds to nothing.
func checkUtilityLine(ps *Problems, n namer, r ref, what Text, suffix, kind, name string, amount Fen, sums map[string]Fen) {
	if kind != Water && kind != Electricity {
		ps.add(r.field, textf("%s（%s）：类别必须是 water（水费）或 electricity（电费）", "%s (%s): kind must be water or electricity", what, r.where))
		return
	}
	it, _ := n.schema.Item(kind + suffix)
	checkLine(ps, it, r, name, amount)
	sums[kind] += amount
}

func (d *UtilitiesData) check(ps *Problems, n namer) {
	bills := map[string]Fen{}
	allocated := map[string]Fen{}
	for i, b := range d.Bills {
		checkUtilityLine(ps, n, lineRef(b.ref, "bills", i), Text{"账单", "bill"}, "_bill", b.Kind, b.Name, b.AmountFen, bills)
	}
	for i, a := range d.Allocations {
		checkUtilityLine(ps, n, lineRef(a.ref, "allocations", i), Text{"分摊", "allocation"}, "_allocation", a.Kind, a.Group, a.AmountFen, allocated)
	}
	checkLineCount(ps, n.field("water_bill"), Text{"账单", "Bills"}, len(d.Bills))
	checkLineCount(ps, n.field("water_allocation"), Text{"分摊", "Allocations"}, len(d.Allocations))
	if len(d.Bills) == 0 {
		ps.add(n.field("water_bill"), Text{"至少填写一笔水费或电费账单", "enter at least one water or electricity bill"})
		return
	}
	if len(*ps) > 0 {
		return // sums of figures that are wrong themselves would only confuse
	}
	for _, kind := range utilityKinds {
		if bills[kind] != allocated[kind] {
			mismatch(ps, n.field(kind+"_allocation"), n.label(kind+"_allocation"), n.label(kind+"_bill"), allocated[kind], bills[kind])
		}
	}
}

// checkAmountsAndLines checks the amounts of codes (amount finds each), then the lines of the
// schema's item code and how many there are, and returns the lines' sum and the item.
func checkAmountsAndLines(ps *Problems, n namer, codes []string, amount func(string) *Fen, item string, lines []Line) (Fen, Item) {
	for _, code := range codes {
		checkAmount(ps, n.field(code), n.label(code), *amount(code))
	}
	it, _ := n.schema.Item(item)
	var sum Fen
	for i, l := range lines {
		checkLine(ps, it, lineRef(l.ref, it.JSON, i), l.Purpose, l.AmountFen)
		sum += l.AmountFen
	}
	checkLineCount(ps, n.field(item), it.Label, len(lines))
	return sum, it
}

func (d *FeesData) check(ps *Problems, n namer) {
	sum, it := checkAmountsAndLines(ps, n, []string{"standard", "collected", "spent"}, d.amount, "spending", d.Spending)
	if len(*ps) == 0 && sum != d.SpentFen {
		mismatch(ps, n.field("spending"), it.Label, n.label("spent"), sum, d.SpentFen)
	}
}

func (d *FundData) check(ps *Problems, n namer) {
	sum, it := checkAmountsAndLines(ps, n, []string{"opening", "deposits", "withdrawals", "interest", "closing"}, d.amount, "withdrawal", d.Withdrawals)
	if len(*ps) > 0 {
		return
	}
	if sum != d.WithdrawalsFen {
		mismatch(ps, n.field("withdrawal"), it.Label, n.label("withdrawals"), sum, d.WithdrawalsFen)
	}
	if want := d.OpeningFen + d.DepositsFen - d.WithdrawalsFen + d.InterestFen; want != d.ClosingFen {
		ps.add(n.field("closing"), textf(
			"期末余额应为 期初余额 + 本期缴存 − 本期使用 + 利息收入 = %s + %s − %s + %s = %s 元，填报为 %s 元",
			"the closing balance must be opening + deposits − withdrawals + interest = %s + %s − %s + %s = %s yuan, not %s",
			d.OpeningFen.Display(), d.DepositsFen.Display(), d.WithdrawalsFen.Display(), d.InterestFen.Display(), want.Display(), d.ClosingFen.Display()))
	}
}

func (d *ParkingData) check(ps *Problems, n namer) {
	for _, code := range []string{"spaces_total", "spaces_rented", "spaces_sold", "spaces_temporary"} {
		checkCount(ps, n.field(code), n.label(code), *d.count(code))
	}
	checkAmount(ps, n.field("income"), n.label("income"), d.IncomeFen)
	incomeItem, _ := n.schema.Item("income_line")
	var income Fen
	for i, l := range d.Income {
		checkLine(ps, incomeItem, lineRef(l.ref, incomeItem.JSON, i), l.Source, l.AmountFen)
		income += l.AmountFen
	}
	var used Fen
	for i, u := range d.Uses {
		r := lineRef(u.ref, "uses", i)
		if u.Kind != Expense && u.Kind != OwnersShare {
			ps.add(r.field, textf("收益去向（%s）：类别必须是 expense（支出）或 owners_share（业主共有收益）", "use (%s): kind must be expense or owners_share", r.where))
			continue
		}
		it, _ := n.schema.Item(u.Kind)
		checkLine(ps, it, r, u.Purpose, u.AmountFen)
		used += u.AmountFen
	}
	checkLineCount(ps, n.field("income_line"), incomeItem.Label, len(d.Income))
	checkLineCount(ps, n.field("expense"), Text{"收益去向", "Uses"}, len(d.Uses))
	if len(*ps) > 0 {
		return
	}
	s := d.Spaces
	if s.Rented+s.Sold+s.Temporary > s.Total {
		ps.add(n.field("spaces_total"), textf("出租、出售和临时停车位之和（%d）超过车位总数（%d）",
			"rented, sold and temporary spaces add up to %d, more than the %d spaces in total",
			s.Rented+s.Sold+s.Temporary, s.Total))
	}
	if income != d.IncomeFen {
		mismatch(ps, n.field("income_line"), incomeItem.Label, n.label("income"), income, d.IncomeFen)
	}
	if used != d.IncomeFen {
		mismatch(ps, n.field("expense"), Text{"支出明细与业主共有收益", "Expense and owners' share"}, n.label("income"), used, d.IncomeFen)
	}
}
