package disclosure

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Table is figures laid out for people: a titled table whose amounts are yuan with two
// decimals and thousands separators. Pages render tables without knowing the categories.
type Table struct {
	Title string
	Head  []string
	Num   []bool // per column: right-aligned figures
	Rows  [][]string
	Foot  []string // totals; nil for none
}

// builder collects tables in one language.
type builder struct {
	lang   string
	tables []*Table // pointers: callers fill one table after starting the next
}

func (b *builder) table(title Text, head ...Text) *Table {
	t := Table{Title: title.In(b.lang)}
	for _, h := range head {
		t.Head = append(t.Head, h.In(b.lang))
	}
	t.Num = make([]bool, len(head))
	t.Num[len(head)-1] = true
	b.tables = append(b.tables, &t)
	return &t
}

var (
	colItem   = Text{"项目", "Item"}
	colAmount = Text{"金额（元）", "Amount (yuan)"}
	colKind   = Text{"类别", "Kind"}
	colTotal  = Text{"合计", "Total"}
)

// View lays figures out as tables in lang.
func View(d Data, lang string) []Table {
	b := &builder{lang: lang}
	s := SchemaOf(d.Category())
	label := func(code string) string { it, _ := s.Item(code); return normalizeLabel(it.Label.In(lang)) }
	switch d := d.(type) {
	case *UtilitiesData:
		bills := b.table(Text{"水电费账单", "Bills"}, colKind, Text{"账单或表计", "Bill or meter"}, colAmount)
		allocs := b.table(Text{"分摊明细", "Allocations"}, colKind, Text{"楼栋或住户组", "Building or household group"}, colAmount)
		for _, kind := range utilityKinds {
			var billed, allocated Fen
			for _, x := range d.Bills {
				if x.Kind == kind {
					bills.Rows = append(bills.Rows, []string{utilityLabel(kind).In(lang), x.Name, x.AmountFen.Display()})
					billed += x.AmountFen
				}
			}
			for _, x := range d.Allocations {
				if x.Kind == kind {
					allocs.Rows = append(allocs.Rows, []string{utilityLabel(kind).In(lang), x.Group, x.AmountFen.Display()})
					allocated += x.AmountFen
				}
			}
			if billed != 0 || allocated != 0 {
				l := utilityLabel(kind)
				total := Text{l.ZH + colTotal.ZH, l.EN + " " + strings.ToLower(colTotal.EN)}.In(lang)
				bills.Rows = append(bills.Rows, []string{total, "", billed.Display()})
				allocs.Rows = append(allocs.Rows, []string{total, "", allocated.Display()})
			}
		}
	case *FeesData:
		sum := b.table(Text{"收支情况", "Summary"}, colItem, Text{"数额", "Figure"})
		sum.Rows = [][]string{
			{label("standard"), d.StandardFen.Display() + " " + yuanPerM2Month.In(lang)},
			{label("collected"), d.CollectedFen.Display() + " " + yuan(lang)},
			{label("spent"), d.SpentFen.Display() + " " + yuan(lang)},
		}
		lines(b, Text{"支出明细", "Spending"}, nameLine, d.Spending)
	case *FundData:
		sum := b.table(Text{"资金变动", "Balance"}, colItem, colAmount)
		for _, code := range []string{"opening", "deposits", "withdrawals", "interest", "closing"} {
			sum.Rows = append(sum.Rows, []string{label(code), d.amount(code).Display()})
		}
		lines(b, Text{"使用明细", "Withdrawals"}, nameLine, d.Withdrawals)
	case *ParkingData:
		spaces := b.table(Text{"车位", "Spaces"}, colItem, Text{"数量（个）", "Number"})
		for _, code := range []string{"spaces_total", "spaces_rented", "spaces_sold", "spaces_temporary"} {
			spaces.Rows = append(spaces.Rows, []string{label(code), strconv.Itoa(*d.count(code))})
		}
		income := b.table(Text{"收入", "Income"}, Text{"收入来源", "Source"}, colAmount)
		for _, l := range d.Income {
			income.Rows = append(income.Rows, []string{l.Source, l.AmountFen.Display()})
		}
		income.Foot = []string{label("income"), d.IncomeFen.Display()}
		uses := b.table(Text{"收益去向", "Where the income went"}, colKind, nameLine, colAmount)
		var used Fen
		for _, kind := range []string{Expense, OwnersShare} {
			for _, u := range d.Uses {
				if u.Kind == kind {
					uses.Rows = append(uses.Rows, []string{useLabel(kind).In(lang), u.Purpose, u.AmountFen.Display()})
					used += u.AmountFen
				}
			}
		}
		uses.Foot = []string{colTotal.In(lang), "", used.Display()}
	}
	out := make([]Table, len(b.tables))
	for i, t := range b.tables {
		out[i] = *t
	}
	return out
}

func yuan(lang string) string { return Text{"元", "yuan"}.In(lang) }

func lines(b *builder, title, name Text, ls []Line) {
	t := b.table(title, name, colAmount)
	var sum Fen
	for _, l := range ls {
		t.Rows = append(t.Rows, []string{l.Purpose, l.AmountFen.Display()})
		sum += l.AmountFen
	}
	t.Foot = []string{colTotal.In(b.lang), sum.Display()}
}

// ViewRaw lays out figures that are not in this package's form (records imported from
// elsewhere): one row per field, amounts in fields ending in _fen shown as yuan.
func ViewRaw(raw []byte, lang string) []Table {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var obj map[string]any
	if len(raw) == 0 || dec.Decode(&obj) != nil || len(obj) == 0 {
		return nil
	}
	t := Table{Title: Text{"公开数据", "Figures"}.In(lang), Head: []string{colItem.In(lang), Text{"数值", "Value"}.In(lang)}, Num: []bool{false, true}}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		name, value := k, ""
		switch v := obj[k].(type) {
		case json.Number:
			value = v.String()
			if base, ok := strings.CutSuffix(k, "_fen"); ok {
				if n, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
					name, value = base, Fen(n).Display()+" "+yuan(lang)
				}
			}
		case string:
			value = v
		default:
			b, _ := json.Marshal(v)
			value = string(b)
		}
		t.Rows = append(t.Rows, []string{name, clip(value, 200)})
	}
	return []Table{t}
}
