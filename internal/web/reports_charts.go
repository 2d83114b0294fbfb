package web

import (
	"strconv"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/reports"
	"github.com/propcredit/propcredit/scoring"
)

// The report pages' charts, in the page's language. Every label that comes from data (company,
// estate and district names) goes into the chart as data, which reports encodes safely.

func dimensionLabels(lang string) []string {
	out := make([]string, len(domain.Dimensions))
	for i, d := range domain.Dimensions {
		out[i] = d.Label
		if lang == domain.LangEN {
			out[i] = d.LabelEN
		}
	}
	return out
}

func categoryLabels(lang string) []string {
	out := make([]string, len(scoring.Categories))
	for i, c := range scoring.Categories {
		out[i] = T(lang, "report.category."+c.ID)
	}
	return out
}

func periodIDs(entries []reports.HistoryEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Period.ID()
	}
	return out
}

// historyChart is a company's score in every published period.
func historyChart(l links, lang string, history []reports.HistoryEntry) (reports.Chart, error) {
	scores := reports.Series{Name: T(lang, "report.col.score")}
	for _, h := range history {
		scores.Values = append(scores.Values, reports.Float(h.Grade.Score))
	}
	return reports.Line(reports.Spec{ID: "chart-history", Title: T(lang, "report.chart.history"), AssetsHost: l.AssetsHost(),
		Corner: T(lang, "report.col.period"), Min: 0, Max: 100}, periodIDs(history), scores)
}

// radarChart is a company's owners' mean score per dimension against the city's.
func radarChart(l links, lang string, p *reports.PublishedPeriod, company, name string) (reports.Chart, error) {
	own, city := p.CompanyDimensions(company), p.CityDimensions()
	return reports.Radar(reports.Spec{ID: "chart-radar", Title: T(lang, "report.chart.radar"), AssetsHost: l.AssetsHost(),
		Corner: T(lang, "report.col.dimension"), Min: 1, Max: 5},
		dimensionLabels(lang),
		reports.Series{Name: name, Values: own.Mean[:]},
		reports.Series{Name: T(lang, "report.city_average"), Values: city.Mean[:]})
}

// estateChart is an estate's owners' mean score per dimension against the city's.
func estateChart(l links, lang string, p *reports.PublishedPeriod, e reports.Estate) (reports.Chart, error) {
	city := p.CityDimensions()
	return reports.Bar(reports.Spec{ID: "chart-dimensions", Title: T(lang, "report.chart.dimensions"), AssetsHost: l.AssetsHost(),
		Corner: T(lang, "report.col.dimension"), Min: 0, Max: 5},
		dimensionLabels(lang),
		reports.Series{Name: e.Name, Values: e.Dimensions.Mean[:]},
		reports.Series{Name: T(lang, "report.city_average"), Values: city.Mean[:]})
}

// cityCharts are the city report's charts: grades, districts, the district × dimension heat
// map, disclosure compliance and the trends.
func cityCharts(l links, lang string, city *reports.City, p *reports.PublishedPeriod, trends []reports.Summary) ([]reports.Chart, error) {
	host := l.AssetsHost()
	var out []reports.Chart
	add := func(c reports.Chart, err error) error {
		out = append(out, c)
		return err
	}
	count := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	percent := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) + "%" }

	var grades, gradeColors []string
	companies := reports.Series{Name: T(lang, "report.col.companies")}
	for _, c := range p.GradeCounts() {
		grades = append(grades, c.Label)
		gradeColors = append(gradeColors, reports.GradeColors[c.Label])
		companies.Values = append(companies.Values, float64(c.N))
	}
	if err := add(reports.Bar(reports.Spec{ID: "chart-grades", Title: T(lang, "report.chart.grades"), AssetsHost: host,
		Corner: T(lang, "report.col.grade"), Format: count, Colors: gradeColors}, grades, companies)); err != nil {
		return nil, err
	}

	districts := p.Districts()
	var names []string
	satisfaction := reports.Series{Name: T(lang, "report.col.satisfaction")}
	disclosure := reports.Series{Name: T(lang, "report.col.disclosure")}
	participation := reports.Series{Name: T(lang, "report.col.participation_pct")}
	var heat [][]float64
	for _, d := range districts {
		names = append(names, city.DistrictName(d.District))
		satisfaction.Values = append(satisfaction.Values, d.Satisfaction)
		disclosure.Values = append(disclosure.Values, d.Disclosure)
		participation.Values = append(participation.Values, d.Participation*100)
		heat = append(heat, d.Dimensions.Mean[:])
	}
	if err := add(reports.Bar(reports.Spec{ID: "chart-districts", Title: T(lang, "report.chart.districts"), AssetsHost: host,
		Corner: T(lang, "report.col.district"), Min: 0, Max: 100}, names, satisfaction, disclosure, participation)); err != nil {
		return nil, err
	}
	if err := add(reports.HeatMap(reports.Spec{ID: "chart-heatmap", Title: T(lang, "report.chart.heatmap"), AssetsHost: host,
		Corner: T(lang, "report.col.district"), Min: 1, Max: 5}, names, dimensionLabels(lang), heat)); err != nil {
		return nil, err
	}

	compliance := p.Compliance()
	var reasons []reports.Series
	for i, reason := range reports.Reasons {
		s := reports.Series{Name: T(lang, "report.reason."+reason), Color: reports.ReasonColors[reason]}
		for _, c := range compliance {
			s.Values = append(s.Values, c.Share(i)*100)
		}
		reasons = append(reasons, s)
	}
	if err := add(reports.Bar(reports.Spec{ID: "chart-compliance", Title: T(lang, "report.chart.compliance"), AssetsHost: host,
		Corner: T(lang, "report.col.category"), Format: percent, Stack: true, Min: 0, Max: 100}, categoryLabels(lang), reasons...)); err != nil {
		return nil, err
	}

	var periods []string
	meanScore := reports.Series{Name: T(lang, "report.col.mean_score")}
	satisfactionTrend := reports.Series{Name: T(lang, "report.col.city_mean_satisfaction")}
	red := reports.Series{Name: T(lang, "report.list.red"), Color: reports.ColorRed}
	black := reports.Series{Name: T(lang, "report.list.black"), Color: reports.ColorBlack}
	for _, s := range trends {
		periods = append(periods, s.Period)
		meanScore.Values = append(meanScore.Values, s.MeanScore)
		satisfactionTrend.Values = append(satisfactionTrend.Values, (s.CityMean-1)/4*100)
		red.Values = append(red.Values, float64(s.Red))
		black.Values = append(black.Values, float64(s.Black))
	}
	if err := add(reports.Line(reports.Spec{ID: "chart-trend-score", Title: T(lang, "report.chart.trend_score"), AssetsHost: host,
		Corner: T(lang, "report.col.period"), Min: 0, Max: 100}, periods, meanScore, satisfactionTrend)); err != nil {
		return nil, err
	}
	if err := add(reports.Line(reports.Spec{ID: "chart-trend-lists", Title: T(lang, "report.chart.trend_lists"), AssetsHost: host,
		Corner: T(lang, "report.col.period"), Format: count}, periods, red, black)); err != nil {
		return nil, err
	}
	return out, nil
}
