package reports

// Colours every page and chart share. Red is honour in China: the red list and AAA are red,
// the black list and C are near-black, and the grades between run from orange to grey.
// reports/assets/reports.css gives the grade badges the same colours; change both together.
const (
	ColorRed   = "#b42318" // 红榜, AAA
	ColorBlack = "#101828" // 黑榜, C
)

// GradeColors are the grades' colours, as on the badges.
var GradeColors = map[string]string{
	"AAA": ColorRed,
	"AA":  "#e04f16",
	"A":   "#fdb022",
	"B":   "#98a2b3",
	"C":   ColorBlack,
}

// ReasonColors are the colours of what a disclosure is worth (Reasons): on time, within
// the grace days, late, missing, rejected.
var ReasonColors = map[string]string{
	"on_time":      "#1570ef",
	"within_grace": "#53b1fd",
	"late":         "#f79009",
	"missing":      ColorBlack,
	"rejected":     "#98a2b3",
}
