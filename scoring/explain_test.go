package scoring

import (
	"strings"
	"testing"
)

func TestExplainReasons(t *testing.T) {
	veto := bad("V1", "0.5", "2026-06-01")
	veto.Veto = true
	tests := []struct {
		name  string
		edit  func(*Input)
		wants []string
	}{
		{"veto", func(in *Input) { in.Events = []Event{veto} }, []string{
			"不良记录 V1（一票否决） −0.5：2026-06-01 发生，有效期 365 天，有效至 2027-05-31（含）。",
			"有有效的一票否决记录 V1，不论分数，等级为 C。",
			"黑榜：等级为 C。符合。",
			"结论：列入黑榜。",
		}},
		{"below 60 with a bad record", func(in *Input) {
			in.Disclosures = nil
			in.Events = []Event{bad("B7", "1", "2026-06-01")}
		}, []string{
			"44.00 低于最低档 60，且有有效不良记录 B7 → C。",
			"信息公开得分 = (0 + 0 + 0 + 0) / 4 × 100 = 0。",
			"公共水电分摊：未提交，计 0；",
		}},
		{"below 60, clean", func(in *Input) { in.Disclosures = nil }, []string{
			"45.00 低于 60，但没有有效不良记录",
			"→ B。",
		}},
		{"cap and clamp", func(in *Input) {
			in.Tallies = []Tally{uniform("E1", 10, 5)}
			in.Events = []Event{good("G1", "7", "2026-06-01"), good("G2", "7", "2026-07-01")}
		}, []string{
			"优良记录合计 14，超过加分上限 10，加分计 10。",
			"base + 加分 − 扣分 = 90 + 10 − 0 = 100。",
			"四舍五入保留两位小数：100 → 总分 100.00。",
			"红榜：等级为 AAA，没有有效不良记录，信息公开 D 的精确值不低于 100（即每项公开都按时）。符合。",
		}},
		{"clamp above 100", func(in *Input) {
			in.Tallies = []Tally{uniform("E1", 10, 5)}
			in.Governance = []Governance{{Company: "C1", PartyOrg: true, PartyInstructor: true, JointMechanism: true}}
			in.Events = []Event{good("G1", "2", "2026-06-01")}
		}, []string{"base + 加分 − 扣分 = 100 + 2 − 0 = 102。", "高于 100，取 100。"}},
		{"clamp below 0", func(in *Input) { in.Events = []Event{bad("B1", "80", "2026-06-01")} },
			[]string{"= 75 + 0 − 80 = -5。", "低于 0，取 0。"}},
		{"rounding at the boundary", func(in *Input) { in.Events = []Event{good("G1", "9.9949999", "2026-06-01")} },
			[]string{"= 84.9949…。", "84.9949… → 总分 84.99。", "84.99 ≥ 80 → AA。", "不符合：等级为 AA。"}},
		{"inactive records and why", func(in *Input) {
			repaired := bad("B2", "3", "2026-01-01")
			repaired.RepairedOn = datePtr("2026-12-01")
			in.Events = []Event{bad("B1", "1", "2025-12-31"), repaired, good("G9", "1", "2027-01-01")}
		}, []string{
			"没有有效的信用记录。",
			"不计入：不良记录 B1 −1：2025-12-31 发生，有效期 365 天，有效至 2026-12-30（含），期末不在有效期内。",
			"不计入：不良记录 B2 −3：2026-01-01 发生，有效期 365 天，已于 2026-12-01 信用修复，期末不在有效期内。",
			"不计入：优良记录 G9 +1：2027-01-01 发生，有效期 365 天，发生在期末之后，期末不在有效期内。",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInput()
			tt.edit(&in)
			text, err := Explain(mustScore(t, in), Default(), "C1")
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.wants {
				if !strings.Contains(text, want) {
					t.Errorf("explanation lacks %q:\n%s", want, text)
				}
			}
		})
	}
}

func TestExplainErrors(t *testing.T) {
	res := mustScore(t, baseInput())
	if _, err := Explain(res, Default(), "C404"); err == nil || !strings.Contains(err.Error(), `company "C404" was not graded in period 2026Q4`) {
		t.Errorf("unknown company: %v", err)
	}
	other, err := LoadRuleset(mutate(t, "k", "10"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Explain(res, other, "C1"); err == nil || !strings.Contains(err.Error(), "the result was scored with default@1") {
		t.Errorf("wrong ruleset: %v", err)
	}
}
