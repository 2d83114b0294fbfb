// Package disclosure knows what a property-service company must disclose each period for each
// estate (公共水电分摊, 物业服务费, 专项维修资金, 停车场所使用与收益): the structured figures of each
// category, the arithmetic they must satisfy, how they are read from the web form, from CSV and
// XLSX files and from the JSON API, and how they are shown. It is pure: no database, no HTTP.
//
// Amounts are yuan with at most two decimals wherever people read or write them (forms, files,
// pages) and integer fen (Fen) everywhere else: in Go, in the database and in the JSON API.
package disclosure

import (
	"slices"
	"strings"

	"github.com/propcredit/propcredit/internal/domain"
)

// Categories of disclosure, in the order reports show them (domain.DisclosureCategories).
const (
	Utilities       = "utilities"
	Fees            = "fees"
	MaintenanceFund = "maintenance_fund"
	Parking         = "parking"
)

// IsCategory reports whether c is one of the four categories.
func IsCategory(c string) bool { return slices.Contains(domain.DisclosureCategories, c) }

// CategoryLabel names a category for people.
func CategoryLabel(c string) Text {
	switch c {
	case Utilities:
		return Text{"公共水电分摊", "Shared water and electricity"}
	case Fees:
		return Text{"物业服务费", "Property service fees"}
	case MaintenanceFund:
		return Text{"专项维修资金", "Maintenance fund"}
	case Parking:
		return Text{"停车场所使用与收益", "Parking spaces and income"}
	}
	return Text{c, c}
}

// Kind is what an item's value is.
type Kind int

const (
	Amount Kind = iota // one amount in yuan
	Count              // one whole number
	Lines              // any number of lines, each a name and an amount
)

// Item is one kind of row in a category's table: a single figure, or a list of lines. Files
// name items by Code or by the zh-CN label; the web form names its inputs after Code.
type Item struct {
	Code  string
	Label Text
	Kind  Kind
	// JSON is where the item lives in the stored and API JSON, for messages to API clients.
	JSON string
	// Name says what a line's name is (Lines only); NameOptional lets it be empty.
	Name         Text
	NameOptional bool
	// Unit, when not yuan, is shown after the value (fees are a standard per m² per month).
	Unit Text
}

// Schema is the table of one category.
type Schema struct {
	Category string
	Items    []Item
}

// Item returns the item with the given code.
func (s *Schema) Item(code string) (Item, bool) {
	for _, it := range s.Items {
		if it.Code == code {
			return it, true
		}
	}
	return Item{}, false
}

// lookup finds the item a file's first column names: its code (any case) or its label, with
// or without what follows the label's opening parenthesis, so that "收费标准" finds
// "收费标准（元/平方米·月）".
func (s *Schema) lookup(name string) (Item, bool) {
	key := normalizeLabel(name)
	if key == "" {
		return Item{}, false
	}
	for _, it := range s.Items {
		if strings.EqualFold(it.Code, key) || normalizeLabel(it.Label.ZH) == key || strings.EqualFold(normalizeLabel(it.Label.EN), key) {
			return it, true
		}
	}
	return Item{}, false
}

func normalizeLabel(s string) string {
	s = strings.TrimFunc(s, isSpace)
	if i := strings.IndexAny(s, "（("); i > 0 {
		s = s[:i]
	}
	return strings.TrimFunc(s, isSpace)
}

var (
	yuanPerM2Month = Text{"元/平方米·月", "yuan per m² per month"}
	nameLine       = Text{"用途", "Purpose"}
)

// Schemas of the four categories.
var schemas = map[string]*Schema{
	Utilities: {Utilities, []Item{
		{Code: "water_bill", Label: Text{"水费账单", "Water bill"}, Kind: Lines, JSON: "bills", Name: Text{"账单或水表", "Bill or meter"}, NameOptional: true},
		{Code: "electricity_bill", Label: Text{"电费账单", "Electricity bill"}, Kind: Lines, JSON: "bills", Name: Text{"账单或电表", "Bill or meter"}, NameOptional: true},
		{Code: "water_allocation", Label: Text{"水费分摊", "Water allocation"}, Kind: Lines, JSON: "allocations", Name: Text{"楼栋或住户组", "Building or household group"}},
		{Code: "electricity_allocation", Label: Text{"电费分摊", "Electricity allocation"}, Kind: Lines, JSON: "allocations", Name: Text{"楼栋或住户组", "Building or household group"}},
	}},
	Fees: {Fees, []Item{
		{Code: "standard", Label: Text{"收费标准（元/平方米·月）", "Fee standard (yuan per m² per month)"}, Kind: Amount, JSON: "standard_fen_per_m2_month", Unit: yuanPerM2Month},
		{Code: "collected", Label: Text{"实收物业服务费", "Fees collected"}, Kind: Amount, JSON: "collected_fen"},
		{Code: "spent", Label: Text{"支出合计", "Total spent"}, Kind: Amount, JSON: "spent_fen"},
		{Code: "spending", Label: Text{"支出明细", "Spending"}, Kind: Lines, JSON: "spending", Name: nameLine},
	}},
	MaintenanceFund: {MaintenanceFund, []Item{
		{Code: "opening", Label: Text{"期初余额", "Opening balance"}, Kind: Amount, JSON: "opening_fen"},
		{Code: "deposits", Label: Text{"本期缴存", "Deposits"}, Kind: Amount, JSON: "deposits_fen"},
		{Code: "withdrawals", Label: Text{"本期使用合计", "Total withdrawn"}, Kind: Amount, JSON: "withdrawals_fen"},
		{Code: "withdrawal", Label: Text{"使用明细", "Withdrawal"}, Kind: Lines, JSON: "withdrawals", Name: nameLine},
		{Code: "interest", Label: Text{"利息收入", "Interest"}, Kind: Amount, JSON: "interest_fen"},
		{Code: "closing", Label: Text{"期末余额", "Closing balance"}, Kind: Amount, JSON: "closing_fen"},
	}},
	Parking: {Parking, []Item{
		{Code: "spaces_total", Label: Text{"车位总数", "Parking spaces"}, Kind: Count, JSON: "spaces.total"},
		{Code: "spaces_rented", Label: Text{"出租车位", "Rented spaces"}, Kind: Count, JSON: "spaces.rented"},
		{Code: "spaces_sold", Label: Text{"出售车位", "Sold spaces"}, Kind: Count, JSON: "spaces.sold"},
		{Code: "spaces_temporary", Label: Text{"临时停车位", "Spaces for temporary parking"}, Kind: Count, JSON: "spaces.temporary"},
		{Code: "income", Label: Text{"收入合计", "Total income"}, Kind: Amount, JSON: "income_fen"},
		{Code: "income_line", Label: Text{"收入明细", "Income"}, Kind: Lines, JSON: "income", Name: Text{"收入来源", "Source"}},
		{Code: "expense", Label: Text{"支出明细", "Expenses"}, Kind: Lines, JSON: "uses", Name: nameLine},
		{Code: "owners_share", Label: Text{"业主共有收益", "Owners' share"}, Kind: Lines, JSON: "uses", Name: Text{"去向", "Where it went"}},
	}},
}

// SchemaOf returns the schema of a category, or nil for an unknown one.
func SchemaOf(category string) *Schema { return schemas[category] }

// Data is the figures of one disclosure: *UtilitiesData, *FeesData, *FundData or *ParkingData.
type Data interface {
	Category() string
	// check adds what is wrong with the figures to ps; names says what to call fields.
	check(ps *Problems, n namer)
}

// Lines of figures carry ref, where they came from (a file row, a form input, a JSON path),
// for messages.

// Bill is a water or electricity bill of the estate's shared meters.
type Bill struct {
	Kind      string `json:"kind"` // water or electricity
	Name      string `json:"name,omitempty"`
	AmountFen Fen    `json:"amount_fen"`
	ref       ref
}

// Allocation is the part of a kind of bill charged to a building or group of households.
type Allocation struct {
	Kind      string `json:"kind"` // water or electricity
	Group     string `json:"group"`
	AmountFen Fen    `json:"amount_fen"`
	ref       ref
}

// UtilitiesData is 公共水电分摊: the shared meters' bills, and how each kind is split among
// buildings or household groups. The allocations of a kind add up to its bills.
type UtilitiesData struct {
	Bills       []Bill       `json:"bills"`
	Allocations []Allocation `json:"allocations"`
}

// Line is an amount spent or withdrawn for a purpose.
type Line struct {
	Purpose   string `json:"purpose"`
	AmountFen Fen    `json:"amount_fen"`
	ref       ref
}

// FeesData is 物业服务费: the fee standard, what was collected and what was spent, by purpose.
type FeesData struct {
	StandardFen  Fen    `json:"standard_fen_per_m2_month"`
	CollectedFen Fen    `json:"collected_fen"`
	SpentFen     Fen    `json:"spent_fen"`
	Spending     []Line `json:"spending"`
}

// FundData is 专项维修资金: the balance moves from opening to closing by deposits, withdrawals
// (by purpose) and interest.
type FundData struct {
	OpeningFen     Fen    `json:"opening_fen"`
	DepositsFen    Fen    `json:"deposits_fen"`
	WithdrawalsFen Fen    `json:"withdrawals_fen"`
	Withdrawals    []Line `json:"withdrawals"`
	InterestFen    Fen    `json:"interest_fen"`
	ClosingFen     Fen    `json:"closing_fen"`
}

// Spaces counts an estate's parking spaces.
type Spaces struct {
	Total     int `json:"total"`
	Rented    int `json:"rented"`
	Sold      int `json:"sold"`
	Temporary int `json:"temporary"`
}

// IncomeLine is parking income from one source (rent, temporary parking, charging...).
type IncomeLine struct {
	Source    string `json:"source"`
	AmountFen Fen    `json:"amount_fen"`
	ref       ref
}

// Use says where part of the parking income went: an expense, or the owners' share.
type Use struct {
	Kind      string `json:"kind"` // expense or owners_share
	Purpose   string `json:"purpose"`
	AmountFen Fen    `json:"amount_fen"`
	ref       ref
}

// ParkingData is 停车场所使用与收益: the spaces, the income by source, and where every yuan of
// it went.
type ParkingData struct {
	Spaces    Spaces       `json:"spaces"`
	IncomeFen Fen          `json:"income_fen"`
	Income    []IncomeLine `json:"income"`
	Uses      []Use        `json:"uses"`
}

func (*UtilitiesData) Category() string { return Utilities }
func (*FeesData) Category() string      { return Fees }
func (*FundData) Category() string      { return MaintenanceFund }
func (*ParkingData) Category() string   { return Parking }

// newData returns empty figures of a category.
func newData(category string) Data {
	switch category {
	case Utilities:
		return &UtilitiesData{}
	case Fees:
		return &FeesData{}
	case MaintenanceFund:
		return &FundData{}
	case Parking:
		return &ParkingData{}
	}
	return nil
}

// Bill and use kinds.
const (
	Water        = "water"
	Electricity  = "electricity"
	Expense      = "expense"
	OwnersShare  = "owners_share"
	maxNameRunes = 100
	// MaxLines bounds the lines of one list, and MaxRows the rows of a file or form.
	MaxLines = 1000
	MaxRows  = 2000
)

var utilityKinds = []string{Water, Electricity}

func utilityLabel(kind string) Text {
	if kind == Electricity {
		return Text{"电费", "Electricity"}
	}
	return Text{"水费", "Water"}
}

func useLabel(kind string) Text {
	if kind == OwnersShare {
		return Text{"业主共有收益", "Owners' share"}
	}
	return Text{"支出", "Expense"}
}
