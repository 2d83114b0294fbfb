package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A two-company city small enough to score by hand (SCORING.md, default@1):
//
//	μ = (5+5+3+3)/4 = 4, K = 20.
//	阳光 (estate a1): n=2, m=5: s = (2·5+20·4)/22 = 90/22; S = (90/22−1)/4·100 = 6800/88 = 77.2727… → 77.27.
//	  All four disclosures on time and verified: D = 100. Governance 40+30+30 = 100.
//	  base = 0.6·6800/88 + 30 + 10 = 86.3636… → 86.36: AAA, no bad record, D = 100 → red list.
//	明珠 (estate b1): n=2, m=3: s = 86/22; S = 6400/88 = 72.7272… → 72.73. D = 0 (nothing filed),
//	  G = 0. base = 0.6·6400/88 = 43.6363…; a bad record of 5 points in force: 38.6363… → 38.64,
//	  below 60 with an active bad record: C → black list.
const handCity = `{"type":"district","id":"d1","name":"东湖区"}
{"type":"company","id":"91440300MA5D00000A","name":"阳光物业"}
{"type":"company","id":"91440300MA5D00000B","name":"明珠物业"}
{"type":"period","id":"2026Q3","start":"2026-07-01","end":"2026-09-30","disclosure_deadline":"2026-07-15"}
{"type":"estate","id":"a1","name":"翠竹花园","district":"d1","company":"91440300MA5D00000A","households":100,"category":"commodity"}
{"type":"estate","id":"b1","name":"锦绣华庭","district":"d1","company":"91440300MA5D00000B","households":100,"category":"commodity"}
{"type":"rating","period":"2026Q3","estate":"a1","household":"1-1-101","submitted_at":"2026-08-01T10:00:00+08:00","scores":{"service":5,"security":5,"cleaning":5,"greening":5,"maintenance":5,"transparency":5}}
{"type":"rating","period":"2026Q3","estate":"a1","household":"1-1-102","submitted_at":"2026-08-01T10:00:00+08:00","scores":{"service":5,"security":5,"cleaning":5,"greening":5,"maintenance":5,"transparency":5}}
{"type":"rating","period":"2026Q3","estate":"b1","household":"2-1-101","submitted_at":"2026-08-01T10:00:00+08:00","scores":{"service":3,"security":3,"cleaning":3,"greening":3,"maintenance":3,"transparency":3}}
{"type":"rating","period":"2026Q3","estate":"b1","household":"2-1-102","submitted_at":"2026-08-01T10:00:00+08:00","scores":{"service":3,"security":3,"cleaning":3,"greening":3,"maintenance":3,"transparency":3}}
{"type":"disclosure","period":"2026Q3","estate":"a1","category":"utilities","filed_at":"2026-07-15T23:59:59+08:00","status":"verified"}
{"type":"disclosure","period":"2026Q3","estate":"a1","category":"fees","filed_at":"2026-07-10T09:00:00+08:00","status":"verified"}
{"type":"disclosure","period":"2026Q3","estate":"a1","category":"maintenance_fund","filed_at":"2026-07-10T09:00:00+08:00","status":"verified"}
{"type":"disclosure","period":"2026Q3","estate":"a1","category":"parking","filed_at":"2026-07-15T15:59:59Z","status":"verified"}
{"type":"governance","period":"2026Q3","company":"91440300MA5D00000A","party_org":true,"party_instructor":true,"joint_mechanism":true}
{"type":"event","id":"ev1","company":"91440300MA5D00000B","kind":"bad","points":5,"veto":false,"date":"2026-03-01","description":"消防通道堵塞"}
`

func TestScoreByHand(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := run(t, nil, "", "import", "--data", dir, writeFile(t, "city.jsonl", handCity)); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	stdout, stderr, code := run(t, nil, "", "score", "--data", dir, "--period", "2026Q3", "--format", "json")
	if code != 0 {
		t.Fatalf("score: exit %d: %s", code, stderr)
	}
	type components struct{ Satisfaction, Disclosure, Governance, Bonus, Deduction float64 }
	type grade struct {
		Company, Name, Grade, List string
		Score                      float64
		Rank, Estates, Ratings     int
		Components                 components
	}
	var got struct {
		Period, Ruleset string
		Grades          []grade
	}
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&got); err != nil {
		t.Fatalf("stdout is not exactly the exported-results JSON: %v\n%s", err, stdout)
	}
	want := []grade{
		{Company: "91440300MA5D00000A", Name: "阳光物业", Grade: "AAA", List: "red", Score: 86.36, Rank: 1, Estates: 1, Ratings: 2,
			Components: components{Satisfaction: 77.27, Disclosure: 100, Governance: 100}},
		{Company: "91440300MA5D00000B", Name: "明珠物业", Grade: "C", List: "black", Score: 38.64, Rank: 2, Estates: 1, Ratings: 2,
			Components: components{Satisfaction: 72.73, Deduction: 5}},
	}
	if got.Period != "2026Q3" || got.Ruleset != "default@1" {
		t.Errorf("period %q ruleset %q", got.Period, got.Ruleset)
	}
	if diff := cmp.Diff(want, got.Grades); diff != "" {
		t.Errorf("grades (-hand +engine):\n%s", diff)
	}
	if stderr != "" && strings.Contains(stderr, "warning") {
		t.Errorf("no disclosure is pending and every estate is rated, yet: %s", stderr)
	}
	table, _, code := run(t, nil, "", "score", "--data", dir, "--period", "2026Q3")
	if code != 0 || !strings.Contains(table, "86.36") || !strings.Contains(table, "阳光物业") {
		t.Errorf("table output: exit %d\n%s", code, table)
	}
	out, stderr, code := run(t, nil, "", "publish", "--data", dir, "--period", "2026Q3")
	if code != 0 || !strings.Contains(out, "publication 1") {
		t.Errorf("publish: exit %d, %q %q", code, out, stderr)
	}
	_, stderr, code = run(t, nil, "", "score", "--data", dir, "--period", "2099Q1")
	if code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("unknown period: exit %d, %q", code, stderr)
	}
	_, stderr, code = run(t, nil, "", "score", "--data", dir, "--period", "2026Q3", "--ruleset", writeFile(t, "bad.json", `{"name":"x"}`))
	if code != 2 {
		t.Errorf("bad ruleset: exit %d, %q", code, stderr)
	}
}
