package scoring

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Each rule of SCORING.md, at its boundary and just around it. Every case starts from baseInput:
// S = 75, D = 100, G = 0, score 75, grade A.

func TestGradeBoundaries(t *testing.T) {
	tests := []struct {
		name   string
		events []Event
		want   outcome
	}{
		{"84.995 rounds to 85.00: AAA", []Event{good("G1", "9.995", "2026-06-01")},
			outcome{8500, "AAA", ListRed, Components{7500, 10000, 0, 1000, 0}}},
		{"84.994 rounds to 84.99: AA", []Event{good("G1", "9.994", "2026-06-01")},
			outcome{8499, "AA", ListNone, Components{7500, 10000, 0, 999, 0}}},
		{"79.995 rounds to 80.00: AA", []Event{good("G1", "4.995", "2026-06-01")},
			outcome{8000, "AA", ListNone, Components{7500, 10000, 0, 500, 0}}},
		{"79.994 rounds to 79.99: A", []Event{good("G1", "4.994", "2026-06-01")},
			outcome{7999, "A", ListNone, Components{7500, 10000, 0, 499, 0}}},
		{"69.995 rounds to 70.00: A", []Event{bad("B1", "5.005", "2026-06-01")},
			outcome{7000, "A", ListNone, Components{7500, 10000, 0, 0, 501}}},
		{"69.994 rounds to 69.99: B", []Event{bad("B1", "5.006", "2026-06-01")},
			outcome{6999, "B", ListNone, Components{7500, 10000, 0, 0, 501}}},
		{"59.995 rounds to 60.00: B despite an active bad record", []Event{bad("B1", "15.005", "2026-06-01")},
			outcome{6000, "B", ListNone, Components{7500, 10000, 0, 0, 1501}}},
		{"59.994 rounds to 59.99 with an active bad record: C", []Event{bad("B1", "15.006", "2026-06-01")},
			outcome{5999, "C", ListBlack, Components{7500, 10000, 0, 0, 1501}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput()
			in.Events = tt.events
			if diff := cmp.Diff(tt.want, outcomeOf(t, mustScore(t, in), "C1")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestBelowSixty: below the lowest band, only an active bad record makes a company C.
func TestBelowSixty(t *testing.T) {
	noDisclosures := func(in *Input) { in.Disclosures = nil } // D = 0: score 0.6·75 = 45
	tests := []struct {
		name  string
		edit  func(*Input)
		grade string
		basis string
	}{
		{"clean record: B", noDisclosures, "B", BasisBelowBandsClean},
		{"active bad record: C", func(in *Input) {
			noDisclosures(in)
			in.Events = []Event{bad("B1", "0.01", "2026-06-01")}
		}, "C", BasisBelowBandsBad},
		{"expired bad record: B", func(in *Input) {
			noDisclosures(in)
			in.Events = []Event{bad("B1", "0.01", "2025-12-31")} // out of force on 2026-12-31
		}, "B", BasisBelowBandsClean},
		{"good record only: B", func(in *Input) {
			noDisclosures(in)
			in.Events = []Event{good("G1", "1", "2026-06-01")}
		}, "B", BasisBelowBandsClean},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput()
			tt.edit(&in)
			g := mustScore(t, in).Grade("C1")
			if g.Grade != tt.grade || g.GradeBasis != tt.basis {
				t.Errorf("grade = %s (%s), want %s (%s); score %s", g.Grade, g.GradeBasis, tt.grade, tt.basis, g.Score)
			}
		})
	}
}

func TestDisclosureDeadline(t *testing.T) {
	// The deadline is 2026-10-15 and ends at midnight +08:00, i.e. 2026-10-15T16:00:00Z. The 30
	// grace days end at the end of 2026-11-14 +08:00, i.e. 2026-11-14T16:00:00Z. The utilities
	// disclosure is filed at the given time, the other three on time, so
	// D = (worth + 3)/4 × 100 and score = 45 + 0.3·D.
	tests := []struct {
		filedAt string
		status  string
		reason  string
		d       Fixed
	}{
		{"2026-10-15T23:59:59+08:00", StatusVerified, ReasonOnTime, 10000},
		{"2026-10-15T23:59:59.999999999+08:00", StatusVerified, ReasonOnTime, 10000},
		{"2026-10-15T15:59:59Z", StatusVerified, ReasonOnTime, 10000},
		{"2026-10-15T10:59:59-05:00", StatusVerified, ReasonOnTime, 10000}, // 15:59:59Z
		{"2026-10-15T16:00:00Z", StatusVerified, ReasonWithinGrace, 8750},
		{"2026-10-15T11:00:00-05:00", StatusVerified, ReasonWithinGrace, 8750},
		{"2026-10-16T00:00:00+08:00", StatusVerified, ReasonWithinGrace, 8750},
		{"2026-11-14T23:59:59+08:00", StatusVerified, ReasonWithinGrace, 8750}, // 30th day after the deadline day
		{"2026-11-14T15:59:59Z", StatusVerified, ReasonWithinGrace, 8750},
		{"2026-11-14T16:00:00Z", StatusVerified, ReasonLate, 8125},
		{"2026-11-15T00:00:00+08:00", StatusVerified, ReasonLate, 8125},
		{"2027-03-01T00:00:00+08:00", StatusVerified, ReasonLate, 8125},
		{"2026-01-01T00:00:00+08:00", StatusVerified, ReasonOnTime, 10000}, // early filings are on time
		{"2026-10-10T00:00:00+08:00", StatusPending, ReasonOnTime, 10000},  // pending counts as filed
		{"2026-11-20T00:00:00+08:00", StatusPending, ReasonLate, 8125},
		{"2026-10-10T00:00:00+08:00", StatusRejected, ReasonRejected, 7500},
	}
	for _, tt := range tests {
		t.Run(tt.filedAt+" "+tt.status, func(t *testing.T) {
			in := baseInput()
			in.Disclosures[0].FiledAt = at(tt.filedAt)
			in.Disclosures[0].Status = tt.status
			res := mustScore(t, in)
			g := res.Grade("C1")
			dw := g.EstateDetails[0].Disclosures[0]
			if dw.Category != "utilities" || dw.Reason != tt.reason || g.Components.Disclosure != tt.d {
				t.Errorf("utilities: %s, D = %s; want %s, D = %s", dw.Reason, g.Components.Disclosure, tt.reason, tt.d)
			}
			wantWarnings := 0
			if tt.status == StatusPending {
				wantWarnings = 1
			}
			if len(res.Warnings) != wantWarnings {
				t.Errorf("warnings = %v, want %d", res.Warnings, wantWarnings)
			}
		})
	}
}

func TestDisclosureRecordsThatCount(t *testing.T) {
	utilities := func(filedAt, status string) Disclosure {
		return Disclosure{Estate: "E1", Category: "utilities", FiledAt: at(filedAt), Status: status}
	}
	tests := []struct {
		name    string
		records []Disclosure // utilities records; the other three are on time
		reason  string
	}{
		{"missing", nil, ReasonMissing},
		{"rejected, then filed again in the grace days", []Disclosure{
			utilities("2026-10-10T10:00:00+08:00", StatusRejected),
			utilities("2026-10-20T10:00:00+08:00", StatusVerified),
		}, ReasonWithinGrace},
		{"the latest counts even if worse", []Disclosure{
			utilities("2026-10-10T10:00:00+08:00", StatusVerified),
			utilities("2026-10-20T10:00:00+08:00", StatusRejected),
		}, ReasonRejected},
		{"same instant: rejected beats verified", []Disclosure{
			utilities("2026-10-10T10:00:00+08:00", StatusVerified),
			utilities("2026-10-10T02:00:00Z", StatusRejected),
		}, ReasonRejected},
		{"same instant: pending beats verified", []Disclosure{
			utilities("2026-10-10T10:00:00+08:00", StatusPending),
			utilities("2026-10-10T10:00:00+08:00", StatusVerified),
		}, ReasonOnTime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, order := range [][]Disclosure{tt.records, reversed(tt.records)} {
				in := baseInput()
				in.Disclosures = append(order, in.Disclosures[1:]...)
				dw := mustScore(t, in).Grade("C1").EstateDetails[0].Disclosures[0]
				if dw.Reason != tt.reason {
					t.Errorf("reason = %s, want %s", dw.Reason, tt.reason)
				}
				if tt.name == "same instant: pending beats verified" && dw.Status != StatusPending {
					t.Errorf("status = %s, want pending", dw.Status)
				}
			}
		})
	}
}

func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

func TestCreditRecordValidity(t *testing.T) {
	// The period ends 2026-12-31. A record counts when date ≤ end < date + valid_days and
	// end < repaired_on. Each case is a bad record of 1 point: in force, the score is 74.
	tests := []struct {
		name     string
		date     string
		days     int
		repaired string
		inForce  bool
		lastDay  string
	}{
		{"default 365 days: end is the last day in force", "2026-01-01", 0, "", true, "2026-12-31"},
		{"default 365 days: end is the first day out", "2025-12-31", 0, "", false, ""},
		{"made on the end day", "2026-12-31", 0, "", true, "2027-12-30"},
		{"made the day after the end", "2027-01-01", 0, "", false, ""},
		{"30 days: end is the last day in force", "2026-12-02", 30, "", true, "2026-12-31"},
		{"30 days: end is the first day out", "2026-12-01", 30, "", false, ""},
		{"1 day, made on the end day", "2026-12-31", 1, "", true, "2026-12-31"},
		{"1 day, made the day before", "2026-12-30", 1, "", false, ""},
		{"730 days", "2025-01-01", 730, "", true, "2026-12-31"},
		{"repaired on the end day", "2026-06-01", 0, "2026-12-31", false, ""},
		{"repaired the day after the end", "2026-06-01", 0, "2027-01-01", true, "2026-12-31"},
		{"repaired long before the end", "2026-06-01", 0, "2026-07-01", false, ""},
		{"repaired after it expired anyway", "2025-12-31", 0, "2027-06-01", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := bad("B1", "1", tt.date)
			ev.ValidDays = tt.days
			if tt.repaired != "" {
				ev.RepairedOn = datePtr(tt.repaired)
			}
			in := baseInput()
			in.Events = []Event{ev}
			g := mustScore(t, in).Grade("C1")
			wantScore := Fixed(7500)
			if tt.inForce {
				wantScore = 7400
			}
			if g.Score != wantScore || len(g.ActiveEvents) != map[bool]int{true: 1, false: 0}[tt.inForce] {
				t.Fatalf("score %s with %d active records, want %s", g.Score, len(g.ActiveEvents), wantScore)
			}
			if tt.inForce && g.ActiveEvents[0].LastDay != MustParseDate(tt.lastDay) {
				t.Errorf("last day in force = %s, want %s", g.ActiveEvents[0].LastDay, tt.lastDay)
			}
		})
	}
}

func TestBonusCapAndClamp(t *testing.T) {
	allFives := func(in *Input) { // S = 100, D = 100, G = 100: base 100
		in.Tallies = []Tally{uniform("E1", 10, 5)}
		in.Governance = []Governance{{Company: "C1", PartyOrg: true, PartyInstructor: true, JointMechanism: true}}
	}
	tests := []struct {
		name string
		edit func(*Input)
		want outcome
	}{
		{"bonus under the cap", func(in *Input) {
			in.Events = []Event{good("G1", "6", "2026-06-01"), good("G2", "3.99", "2026-06-01")}
		}, outcome{8499, "AA", ListNone, Components{7500, 10000, 0, 999, 0}}},
		{"bonus exactly at the cap", func(in *Input) {
			in.Events = []Event{good("G1", "6", "2026-06-01"), good("G2", "4", "2026-06-01")}
		}, outcome{8500, "AAA", ListRed, Components{7500, 10000, 0, 1000, 0}}},
		{"bonus over the cap", func(in *Input) {
			in.Events = []Event{good("G1", "6", "2026-06-01"), good("G2", "5", "2026-06-01")}
		}, outcome{8500, "AAA", ListRed, Components{7500, 10000, 0, 1000, 0}}},
		{"the cap applies before the deduction", func(in *Input) {
			in.Events = []Event{good("G1", "12", "2026-06-01"), bad("B1", "2", "2026-06-01")}
		}, outcome{8300, "AA", ListNone, Components{7500, 10000, 0, 1000, 200}}},
		{"deduction has no cap", func(in *Input) {
			in.Events = []Event{bad("B1", "30", "2026-06-01"), bad("B2", "30", "2026-06-01")}
		}, outcome{1500, "C", ListBlack, Components{7500, 10000, 0, 0, 6000}}},
		{"clamped at 0", func(in *Input) {
			in.Events = []Event{bad("B1", "75.01", "2026-06-01")}
		}, outcome{0, "C", ListBlack, Components{7500, 10000, 0, 0, 7501}}},
		{"exactly 0", func(in *Input) {
			in.Events = []Event{bad("B1", "75", "2026-06-01")}
		}, outcome{0, "C", ListBlack, Components{7500, 10000, 0, 0, 7500}}},
		{"exactly 100", func(in *Input) { allFives(in) },
			outcome{10000, "AAA", ListRed, Components{10000, 10000, 10000, 0, 0}}},
		{"clamped at 100", func(in *Input) {
			allFives(in)
			in.Events = []Event{good("G1", "5", "2026-06-01")}
		}, outcome{10000, "AAA", ListRed, Components{10000, 10000, 10000, 500, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput()
			tt.edit(&in)
			if diff := cmp.Diff(tt.want, outcomeOf(t, mustScore(t, in), "C1")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestVeto(t *testing.T) {
	veto := bad("V1", "0.5", "2026-06-01")
	veto.Veto = true
	tests := []struct {
		name   string
		events []Event
		want   outcome
	}{
		{"veto: C and black whatever the score", []Event{good("G1", "10", "2026-06-01"), veto},
			outcome{8450, "C", ListBlack, Components{7500, 10000, 0, 1000, 50}}},
		{"expired veto: no effect", []Event{good("G1", "10", "2026-06-01"), func() Event { v := veto; v.Date = MustParseDate("2025-06-01"); return v }()},
			outcome{8500, "AAA", ListRed, Components{7500, 10000, 0, 1000, 0}}},
		{"repaired veto: no effect", []Event{good("G1", "10", "2026-06-01"), func() Event { v := veto; v.RepairedOn = datePtr("2026-12-01"); return v }()},
			outcome{8500, "AAA", ListRed, Components{7500, 10000, 0, 1000, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput()
			in.Events = tt.events
			res := mustScore(t, in)
			if diff := cmp.Diff(tt.want, outcomeOf(t, res, "C1")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got, want := res.Grade("C1").HasVeto(), tt.want.Grade == "C"; got != want {
				t.Errorf("HasVeto() = %v, want %v", got, want)
			}
		})
	}
}

func TestRedListNeedsExactDisclosureAndNoBad(t *testing.T) {
	// Governance 100 and a bonus of 10 put the score well above 85.
	aaa := func(in *Input) {
		in.Governance = []Governance{{Company: "C1", PartyOrg: true, PartyInstructor: true, JointMechanism: true}}
		in.Events = []Event{good("G1", "10", "2026-06-01")}
	}
	tests := []struct {
		name string
		edit func(*Input)
		list string
		d    Fixed
	}{
		{"AAA, clean, D = 100: red", aaa, ListRed, 10000},
		{"an active bad record of 0.01", func(in *Input) {
			aaa(in)
			in.Events = append(in.Events, bad("B1", "0.01", "2026-06-01"))
		}, ListNone, 10000},
		{"an expired bad record does not matter", func(in *Input) {
			aaa(in)
			in.Events = append(in.Events, bad("B1", "50", "2025-06-01"))
		}, ListRed, 10000},
		{"D rounds to 100.00 but is 99.999975", func(in *Input) {
			aaa(in)
			// E2 has one household and files nothing but utilities: D_e = 25. With E1 at 999,999
			// households, D = 100 − 75/1,000,000.
			in.Estates[0].Households = 999_999
			in.Estates = append(in.Estates, Estate{ID: "E2", Name: "二号小区", Company: "C1", Households: 1})
			in.Disclosures = append(in.Disclosures, onTime("E2")[0])
		}, ListNone, 10000},
		{"a pending disclosure counts as filed", func(in *Input) {
			aaa(in)
			in.Disclosures[3].Status = StatusPending
		}, ListRed, 10000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput()
			tt.edit(&in)
			g := mustScore(t, in).Grade("C1")
			if g.Grade != "AAA" || g.List != tt.list || g.Components.Disclosure != tt.d {
				t.Errorf("grade %s, list %s, D %s; want AAA, %s, %s", g.Grade, g.List, g.Components.Disclosure, tt.list, tt.d)
			}
		})
	}
}

func TestCityMean(t *testing.T) {
	t.Run("no ratings anywhere: μ = 3", func(t *testing.T) {
		in := baseInput()
		in.Tallies = nil
		res := mustScore(t, in)
		// s = 3, S = 50, score = 0.6·50 + 0.3·100 = 60
		if got := outcomeOf(t, res, "C1"); got.Score != 6000 || got.Components.Satisfaction != 5000 || res.CityMean != 300 {
			t.Errorf("μ %s, S %s, score %s; want 3.00, 50.00, 60.00", res.CityMean, got.Components.Satisfaction, got.Score)
		}
	})
	t.Run("a company whose estates are all unrated gets μ", func(t *testing.T) {
		in := baseInput()
		// C1: E1 rated 4 by 10 households, E4 rated 2 by 30: μ = (10·4 + 30·2)/40 = 2.5.
		in.Estates = append(in.Estates,
			Estate{ID: "E4", Name: "四号小区", Company: "C1", Households: 100},
			Estate{ID: "E2", Name: "二号小区", Company: "C2", Households: 50},
			Estate{ID: "E3", Name: "三号小区", Company: "C2", Households: 70})
		in.Companies = append(in.Companies, Company{ID: "C2", Name: "二号物业"})
		in.Tallies = append(in.Tallies, uniform("E4", 30, 2))
		res := mustScore(t, in)
		g := res.Grade("C2")
		var got []Fixed
		for _, d := range g.EstateDetails {
			got = append(got, d.Mean, d.Shrunk, d.Satisfaction)
		}
		// s = μ = 2.5, S_e = 25·1.5 = 37.5; no disclosures: D = 0; score = 0.6·37.5 = 22.5: B.
		if diff := cmp.Diff([]Fixed{250, 250, 3750, 250, 250, 3750}, got); diff != "" {
			t.Errorf("E2, E3 mean, s, S_e (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(outcome{2250, "B", ListNone, Components{3750, 0, 0, 0, 0}}, outcomeOf(t, res, "C2")); diff != "" {
			t.Errorf("C2 (-want +got):\n%s", diff)
		}
		var codes []string
		for _, w := range res.Warnings {
			codes = append(codes, w.Estate+" "+w.Code)
		}
		if diff := cmp.Diff([]string{"E2 estate_unrated", "E3 estate_unrated"}, codes); diff != "" {
			t.Errorf("warnings (-want +got):\n%s", diff)
		}
	})
}

func TestHouseholdWeights(t *testing.T) {
	in := baseInput()
	in.Estates[0].Households = 300
	in.Estates = append(in.Estates, Estate{ID: "E2", Name: "二号小区", Company: "C1", Households: 100})
	in.Tallies = append(in.Tallies, uniform("E2", 10, 2)) // μ = 3
	// s_E1 = (40 + 60)/30 = 10/3, S_E1 = 175/3; s_E2 = (20 + 60)/30 = 8/3, S_E2 = 125/3.
	// S = (300·175/3 + 100·125/3)/400 = 650/12 = 54.1666…; D = (300·100 + 100·0)/400 = 75.
	g := mustScore(t, in).Grade("C1")
	if got := []Fixed{g.Components.Satisfaction, g.Components.Disclosure, g.Score}; !cmp.Equal(got, []Fixed{5417, 7500, 5500}) {
		t.Errorf("S, D, score = %v, want [54.17 75.00 55.00]", got)
	}
	if g.Households != 400 || g.Ratings != 20 || g.Estates != 2 {
		t.Errorf("households %d, ratings %d, estates %d", g.Households, g.Ratings, g.Estates)
	}
}

func TestRanking(t *testing.T) {
	// Two companies each with one estate: E1 rated 4, E2 rated 2, by 10 households each, so
	// μ = 3, S_E1 = 175/3 = 58.33…, S_E2 = 125/3 = 41.66…; with D = 100 and G = 0 the scores are
	// 65 and 55 before credit records.
	city := func(idHigh, idLow string, events ...Event) Input {
		in := Input{
			Period:    testPeriod,
			Companies: []Company{{ID: idHigh, Name: "高"}, {ID: idLow, Name: "低"}},
			Estates: []Estate{
				{ID: "E1", Name: "一", Company: idHigh, Households: 10},
				{ID: "E2", Name: "二", Company: idLow, Households: 10},
			},
			Tallies:     []Tally{uniform("E1", 10, 4), uniform("E2", 10, 2)},
			Disclosures: append(onTime("E1"), onTime("E2")...),
			Events:      events,
		}
		return in
	}
	lowGets := func(id string, ev Event) Event { ev.Company = id; return ev }
	tests := []struct {
		name string
		in   Input
		want []string // company ids in rank order
	}{
		{"score first", city("C1", "C2"), []string{"C1", "C2"}},
		{"equal rounded score: higher S first, whatever the id",
			city("C2", "C1", lowGets("C1", good("G1", "10", "2026-06-01"))), []string{"C2", "C1"}},
		{"equal rounded score, exact score lower: still higher S first",
			city("C2", "C1", lowGets("C1", good("G1", "10", "2026-06-01")), lowGets("C2", bad("B1", "0.004", "2026-06-01"))),
			[]string{"C2", "C1"}},
		{"equal score and S: company id in byte order", func() Input {
			in := city("C9", "C10")
			in.Tallies[1] = uniform("E2", 10, 4)
			return in
		}(), []string{"C10", "C9"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustScore(t, tt.in)
			var got []string
			for i, g := range res.Grades {
				got = append(got, g.Company)
				if g.Rank != i+1 {
					t.Errorf("%s has rank %d at position %d", g.Company, g.Rank, i+1)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rank order (-want +got):\n%s", diff)
			}
			if res.Grades[0].Score != res.Grades[1].Score && !strings.HasPrefix(tt.name, "score first") {
				t.Errorf("scores %s and %s should tie", res.Grades[0].Score, res.Grades[1].Score)
			}
		})
	}
}

func TestOnlyManagingCompaniesAreGraded(t *testing.T) {
	in := baseInput()
	in.Companies = append(in.Companies, Company{ID: "C2", Name: "无小区物业"})
	in.Governance = []Governance{{Company: "C2", PartyOrg: true}}
	in.Events = []Event{{ID: "X", Company: "C2", Kind: KindBad, Points: rat("3"), Date: MustParseDate("2026-06-01")}}
	res := mustScore(t, in)
	if len(res.Grades) != 1 || res.Grades[0].Company != "C1" {
		t.Errorf("graded %v, want only C1", res.Grades)
	}
}

func TestInvalidInput(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Input)
		want string
	}{
		{"tally for an unknown estate", func(in *Input) { in.Tallies = append(in.Tallies, uniform("E404", 1, 3)) },
			`tally: unknown estate "E404"`},
		{"disclosure for an unknown estate", func(in *Input) { in.Disclosures = append(in.Disclosures, onTime("E404")[0]) },
			`disclosure: unknown estate "E404"`},
		{"event for an unknown company", func(in *Input) {
			in.Events = []Event{{ID: "X1", Company: "C404", Kind: KindBad, Points: rat("1"), Date: MustParseDate("2026-01-01")}}
		}, `event X1: unknown company "C404"`},
		{"governance for an unknown company", func(in *Input) { in.Governance = []Governance{{Company: "C404"}} },
			`governance: unknown company "C404"`},
		{"estate of an unknown company", func(in *Input) { in.Estates[0].Company = "C404" },
			`estate E1: unknown company "C404"`},
		{"estate without households", func(in *Input) { in.Estates[0].Households = 0 },
			"estate E1: households must be at least 1, it is 0"},
		{"duplicate estate", func(in *Input) { in.Estates = append(in.Estates, in.Estates[0]) }, "estate E1: given twice"},
		{"duplicate tally", func(in *Input) { in.Tallies = append(in.Tallies, in.Tallies[0]) }, "tally for estate E1: given twice"},
		{"impossible sums", func(in *Input) { in.Tallies[0].Sums[2] = 51 },
			"tally for estate E1: cleaning sum 51 is not between 10 and 50 (scores are 1-5)"},
		{"unknown category", func(in *Input) { in.Disclosures[0].Category = "water" },
			`disclosure for estate E1: unknown category "water"`},
		{"unknown status", func(in *Input) { in.Disclosures[0].Status = "done" },
			`disclosure for estate E1, utilities: unknown status "done"`},
		{"veto on a good record", func(in *Input) {
			ev := good("G1", "1", "2026-01-01")
			ev.Veto = true
			in.Events = []Event{ev}
		}, "event G1: only a bad record can be a veto"},
		{"points zero", func(in *Input) { in.Events = []Event{bad("B1", "0", "2026-01-01")} },
			"event B1: points must be greater than 0 and at most 1000000"},
		{"points missing", func(in *Input) {
			in.Events = []Event{{ID: "B1", Company: "C1", Kind: KindBad, Date: MustParseDate("2026-01-01")}}
		},
			"event B1: points must be greater than 0 and at most 1000000"},
		{"unknown kind", func(in *Input) { ev := bad("B1", "1", "2026-01-01"); ev.Kind = "ugly"; in.Events = []Event{ev} },
			`event B1: kind must be good or bad, not "ugly"`},
		{"duplicate event", func(in *Input) { in.Events = []Event{bad("B1", "1", "2026-01-01"), bad("B1", "2", "2026-01-01")} },
			"event B1: given twice"},
		{"period backwards", func(in *Input) { in.Period.Start = MustParseDate("2027-01-01") },
			"period 2026Q4: start 2027-01-01 is after end 2026-12-31"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput()
			tt.edit(&in)
			_, err := Score(Default(), in)
			if diff := cmp.Diff("scoring: invalid input:\n"+tt.want, errString(err)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("every problem, sorted", func(t *testing.T) {
		in := baseInput()
		in.Tallies = append(in.Tallies, uniform("E9", 1, 3))
		in.Governance = []Governance{{Company: "C9"}}
		_, err := Score(Default(), in)
		want := "scoring: invalid input:\ngovernance: unknown company \"C9\"\ntally: unknown estate \"E9\""
		if diff := cmp.Diff(want, errString(err)); diff != "" {
			t.Errorf("error (-want +got):\n%s", diff)
		}
	})
	t.Run("ruleset not loaded", func(t *testing.T) {
		if _, err := Score(&Ruleset{}, baseInput()); err == nil {
			t.Error("Score accepted a Ruleset literal")
		}
	})
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestInForce(t *testing.T) {
	rs := Default()
	ev := Event{ID: "E", Kind: KindGood, Points: rat("1"), Date: MustParseDate("2026-03-01")}
	got, ok := rs.InForce(ev, MustParseDate("2026-12-31"))
	want := EventDetail{ID: "E", Kind: KindGood, Points: rat("1"), Date: MustParseDate("2026-03-01"), LastDay: MustParseDate("2027-02-28"), ValidDays: 365, Status: EventInForce}
	if diff := cmp.Diff(want, got, cmp.Comparer(ratEqual)); !ok || diff != "" {
		t.Errorf("InForce (-want +got):\n%s", diff)
	}
}
