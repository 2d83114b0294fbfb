package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// Charts are built with go-echarts and drawn by ECharts in the browser, but not with
// go-echarts' own HTML: it writes the options into an inline <script> without escaping, so a
// company called `</script><script>…` would run in every visitor's browser, and inline
// scripts would need the page's CSP nonce. Instead a Chart carries its options as JSON in
// which <, >, &, U+2028 and U+2029 are \u escapes, for a data-echarts attribute that the
// app's own script (assets/charts.js) hands to echarts.setOption. Numbers that are NaN or
// infinite become "-", ECharts' mark for a missing value, instead of breaking the JSON.
//
// Every chart also carries its numbers as a Table, built from the same values, for the page
// to show beside it: for readers who cannot see the chart, and for checking it.

// Chart is a chart ready for a page.
type Chart struct {
	ID    string // the element id; unique within a page
	Title string
	// Options is the ECharts option object as JSON, safe in any HTML context once
	// attribute-escaped (html/template does that).
	Options string
	// Scripts are the JavaScript files the chart needs, under the assets host it was built
	// for (go-echarts' JSAssets): echarts.min.js.
	Scripts []string
	Table   Table
}

// Table is a chart's numbers: one row per category, one column per series.
type Table struct {
	Corner string   // the header of the label column
	Head   []string // the series' names
	Rows   []Row
}

// Row is a table row: the category and its formatted values.
type Row struct {
	Label string
	Cells []string
}

// Series is a named list of values, one per category. NaN and ±Inf mean "no value".
type Series struct {
	Name   string
	Values []float64
	Color  string // optional: the series' colour, such as ColorRed for the red list
}

// Spec is what every chart needs besides its data.
type Spec struct {
	ID, Title  string
	AssetsHost string // where ECharts is served: "/assets/" on the site, "assets/" in the static export
	// Format writes a value for the table; default two decimals. NaN and ±Inf are shown as "—".
	Format func(float64) string
	// Corner is the table's header above the categories.
	Corner string
	// Min and Max fix the value axis (radar: every indicator; heat map: the colour scale).
	Min, Max float64
	// Stack stacks a bar chart's series.
	Stack bool
	// Colors, for a bar chart of one series, colour each category's bar (grades, say).
	Colors []string
}

func (s Spec) format(v float64) string {
	if !finite(v) {
		return "—"
	}
	if s.Format != nil {
		return s.Format(v)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func (s Spec) init() charts.GlobalOpts {
	// ChartID is fixed so that the options are the same on every render (cacheable, and the
	// static export is reproducible); go-echarts would pick a random one.
	return charts.WithInitializationOpts(opts.Initialization{ChartID: s.ID, AssetsHost: s.AssetsHost, Width: "100%", Height: "320px"})
}

var nan = math.NaN()

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// value is v for ECharts: the number to two decimals, as the tables show it, or "-"
// (missing) when it is not finite.
func value(v float64) any {
	if !finite(v) {
		return "-"
	}
	return math.Round(v*100) / 100
}

// table builds the chart's table from the same series it draws.
func (s Spec) table(categories []string, series []Series) Table {
	t := Table{Corner: s.Corner}
	for _, se := range series {
		t.Head = append(t.Head, se.Name)
	}
	for i, c := range categories {
		r := Row{Label: c}
		for _, se := range series {
			v := nan
			if i < len(se.Values) {
				v = se.Values[i]
			}
			r.Cells = append(r.Cells, s.format(v))
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

// Bar is a bar chart of series over categories.
func Bar(s Spec, categories []string, series ...Series) (Chart, error) {
	c := charts.NewBar()
	c.SetGlobalOptions(s.init(), common(s),
		charts.WithYAxisOpts(valueAxis(s)))
	if len(s.Colors) > 0 {
		// The bars' own colours say what they are; one legend swatch would contradict them.
		c.SetGlobalOptions(charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}))
	}
	c.SetXAxis(categories)
	for _, se := range series {
		data := make([]opts.BarData, len(categories))
		for i := range data {
			data[i] = opts.BarData{Value: value(at(se.Values, i))}
			if i < len(s.Colors) && s.Colors[i] != "" {
				data[i].ItemStyle = &opts.ItemStyle{Color: s.Colors[i]}
			}
		}
		var o []charts.SeriesOpts
		if s.Stack {
			o = append(o, charts.WithBarChartOpts(opts.BarChart{Stack: "total"}))
		}
		if se.Color != "" {
			o = append(o, charts.WithItemStyleOpts(opts.ItemStyle{Color: se.Color}))
		}
		c.AddSeries(se.Name, data, o...)
	}
	c.Validate()
	return s.chart(c.JSON(), c.JSAssets.Values, s.table(categories, series))
}

// Line is a line chart of series over categories (periods, usually).
func Line(s Spec, categories []string, series ...Series) (Chart, error) {
	c := charts.NewLine()
	c.SetGlobalOptions(s.init(), common(s),
		charts.WithYAxisOpts(valueAxis(s)))
	c.SetXAxis(categories)
	for _, se := range series {
		data := make([]opts.LineData, len(categories))
		for i := range data {
			data[i] = opts.LineData{Value: value(at(se.Values, i))}
		}
		o := []charts.SeriesOpts{charts.WithLineChartOpts(opts.LineChart{ConnectNulls: opts.Bool(true), ShowSymbol: opts.Bool(true)})}
		if se.Color != "" {
			o = append(o, charts.WithItemStyleOpts(opts.ItemStyle{Color: se.Color}), charts.WithLineStyleOpts(opts.LineStyle{Color: se.Color}))
		}
		c.AddSeries(se.Name, data, o...)
	}
	c.Validate()
	return s.chart(c.JSON(), c.JSAssets.Values, s.table(categories, series))
}

// Radar is a radar chart: one axis per indicator, one polygon per series, every axis from
// s.Min to s.Max.
func Radar(s Spec, indicators []string, series ...Series) (Chart, error) {
	c := charts.NewRadar()
	ind := make([]*opts.Indicator, len(indicators))
	for i, name := range indicators {
		ind[i] = &opts.Indicator{Name: name, Min: float32(s.Min), Max: float32(s.Max)}
	}
	c.SetGlobalOptions(s.init(), common(s),
		charts.WithRadarComponentOpts(opts.RadarComponent{Indicator: ind}))
	for _, se := range series {
		vals := make([]any, len(indicators))
		for i := range vals {
			vals[i] = value(at(se.Values, i))
		}
		c.AddSeries(se.Name, []opts.RadarData{{Name: se.Name, Value: vals}})
	}
	c.Validate()
	return s.chart(c.JSON(), c.JSAssets.Values, s.table(indicators, series))
}

// HeatMap is a grid of cells coloured from s.Min to s.Max: rows[i] has one value per column.
func HeatMap(s Spec, rowLabels, columns []string, rows [][]float64) (Chart, error) {
	c := charts.NewHeatMap()
	c.SetGlobalOptions(s.init(), common(s),
		charts.WithXAxisOpts(opts.XAxis{Type: "category", Data: columns, SplitArea: &opts.SplitArea{Show: opts.Bool(true)}}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: rowLabels, SplitArea: &opts.SplitArea{Show: opts.Bool(true)}}),
		charts.WithVisualMapOpts(opts.VisualMap{Calculable: opts.Bool(true), Min: float32(s.Min), Max: float32(s.Max),
			Orient: "horizontal", Left: "center", Bottom: "0",
			InRange: &opts.VisualMapInRange{Color: []string{"#fef3f2", "#fda29b", "#b42318"}}}),
		charts.WithGridOpts(opts.Grid{Left: "15%", Bottom: "22%", ContainLabel: opts.Bool(true)}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}), // the colour scale is the legend
	)
	c.SetXAxis(columns)
	var data []opts.HeatMapData
	series := make([]Series, len(columns))
	for j, col := range columns {
		series[j].Name = col
	}
	for i, row := range rows {
		for j := range columns {
			v := at(row, j)
			data = append(data, opts.HeatMapData{Value: [3]any{j, i, value(v)}})
			series[j].Values = append(series[j].Values, v)
		}
	}
	c.AddSeries(s.Title, data, charts.WithLabelOpts(opts.Label{Show: opts.Bool(true)}))
	c.Validate()
	return s.chart(c.JSON(), c.JSAssets.Values, s.table(rowLabels, series))
}

// common are the options every chart shares: a legend that wraps rather than pages (a paged
// legend hides series on a phone), no animation (the numbers matter, not the motion; and
// screenshots come out whole). assets/charts.js fits the legend and the axis labels to the
// width the chart gets.
func common(s Spec) charts.GlobalOpts {
	return func(bc *charts.BaseConfiguration) {
		bc.Legend = opts.Legend{Show: opts.Bool(true), Type: "plain", Bottom: "0"}
		bc.Animation = opts.Bool(false)
	}
}

func valueAxis(s Spec) opts.YAxis {
	y := opts.YAxis{Type: "value"}
	if s.Max > s.Min {
		y.Min, y.Max = s.Min, s.Max
	}
	return y
}

func at(vs []float64, i int) float64 {
	if i < len(vs) {
		return vs[i]
	}
	return nan
}

// chart encodes options as JSON that is safe in HTML: encoding/json's HTML escaping turns
// <, > and & into \u003c, \u003e and \u0026, and always escapes U+2028 and U+2029.
func (s Spec) chart(options map[string]any, scripts []string, t Table) (Chart, error) {
	// go-echarts has no option for it: keep tooltips inside the chart, and let long names
	// wrap, so that on a phone they neither run off the screen nor widen the page.
	options["tooltip"] = map[string]any{"show": true, "trigger": "item", "confine": true,
		"extraCssText": "white-space:normal;max-width:16rem;overflow-wrap:anywhere;"}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(true)
	if err := enc.Encode(options); err != nil {
		return Chart{}, fmt.Errorf("reports: chart %s: %w", s.ID, err)
	}
	return Chart{ID: s.ID, Title: s.Title, Options: string(bytes.TrimSpace(buf.Bytes())), Scripts: scripts, Table: t}, nil
}
