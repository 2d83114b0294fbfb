package scoring

import (
	"encoding/json"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDefaultRuleset(t *testing.T) {
	rs := Default()
	if got := rs.Ref(); got != "default@1" {
		t.Errorf("Ref() = %q, want default@1", got)
	}
	got := map[string]string{
		"k":                   decimalString(rs.K),
		"weights":             decimalString(rs.Weights.Satisfaction) + " " + decimalString(rs.Weights.Disclosure) + " " + decimalString(rs.Weights.Governance),
		"worths":              decimalString(rs.Disclosure.Worths.OnTime) + " " + decimalString(rs.Disclosure.Worths.WithinGrace) + " " + decimalString(rs.Disclosure.Worths.Late) + " " + decimalString(rs.Disclosure.Worths.MissingOrRejected),
		"grace":               strconv.Itoa(rs.Disclosure.GraceDays) + " " + rs.Disclosure.ZoneOffset,
		"governance":          decimalString(rs.Governance.PartyOrg) + " " + decimalString(rs.Governance.PartyInstructor) + " " + decimalString(rs.Governance.JointMechanism),
		"bonus_cap, validity": decimalString(rs.BonusCap) + " " + strconv.Itoa(rs.DefaultValidDays),
		"fail":                rs.FailGrade,
	}
	for _, b := range rs.Bands {
		got["bands"] += b.Grade + "≥" + decimalString(b.Min) + " "
	}
	want := map[string]string{
		"k":                   "20",
		"weights":             "0.6 0.3 0.1",
		"worths":              "1 0.5 0.25 0",
		"grace":               "30 +08:00",
		"governance":          "40 30 30",
		"bonus_cap, validity": "10 365",
		"fail":                "C",
		"bands":               "AAA≥85 AA≥80 A≥70 B≥60 ",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("default ruleset differs from SCORING.md (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ListRule{Grades: []string{"AAA"}, NoActiveBad: true, MinDisclosure: rat("100")}, rs.Red, cmp.Comparer(ratEqual)); diff != "" {
		t.Errorf("red list rule (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ListRule{Grades: []string{"C"}}, rs.Black, cmp.Comparer(ratEqual)); diff != "" {
		t.Errorf("black list rule (-want +got):\n%s", diff)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(rs.Hash()) {
		t.Errorf("Hash() = %q, want 64 hex digits", rs.Hash())
	}
}

// TestRulesetHashIsCanonical: the hash names the rules, not the file's layout.
func TestRulesetHashIsCanonical(t *testing.T) {
	def := Default()
	// The same rules with decimals as JSON numbers, keys in another order and no whitespace.
	same := `{"version":"1","name":"default","k":20.0,"weights":{"governance":0.1,"disclosure":0.30,"satisfaction":0.6},
	"disclosure":{"worths":{"on_time":1,"within_grace":0.5,"late":0.25,"missing_or_rejected":0},"grace_days":30,"deadline_zone":"+08:00"},
	"governance":{"party_org":40,"party_instructor":30,"joint_mechanism":30},"credit":{"bonus_cap":10,"default_valid_days":365,"catalogue":` + catalogueReordered(t) + `},
	"grades":{"bands":[{"grade":"AAA","min":85},{"grade":"AA","min":80},{"grade":"A","min":70},{"grade":"B","min":60}],"fail":"C"},
	"lists":{"red":{"grades":["AAA"],"no_active_bad":true,"min_disclosure":100},"black":{"grades":["C"],"no_active_bad":false}}}`
	rs, err := LoadRuleset([]byte(same))
	if err != nil {
		t.Fatal(err)
	}
	if rs.Hash() != def.Hash() {
		t.Errorf("hash of the same rules written differently = %s, want %s\ncanonical: %s\nwant:      %s", rs.Hash(), def.Hash(), rs.Canonical(), def.Canonical())
	}
	back, err := LoadRuleset(def.Canonical())
	if err != nil || back.Hash() != def.Hash() {
		t.Errorf("canonical form does not load back to the same hash: %v", err)
	}
	changed, err := LoadRuleset(mutate(t, "k", "21"))
	if err != nil || changed.Hash() == def.Hash() {
		t.Errorf("changing K kept the hash (err %v)", err)
	}
}

func TestRulesetErrorsNameTheKey(t *testing.T) {
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"weights over 1", mutate(t, "weights.governance", "0.2"),
			"weights.governance: weights must add up to 1, they add up to 1.1"},
		{"weights under 1 as numbers", mutate(t, "weights.satisfaction", json.Number("0.5")),
			"weights.governance: weights must add up to 1, they add up to 0.9"},
		{"negative weight", mutate(t, "weights.disclosure", "-0.1"),
			"weights.disclosure: must not be negative, it is -0.1\nweights.governance: weights must add up to 1, they add up to 0.6"},
		{"weight not a decimal", mutate(t, "weights.satisfaction", "six tenths"),
			`weights.satisfaction: must be a decimal number such as 0.6 (no exponent), not "six tenths"`},
		{"weight with exponent", mutate(t, "weights.satisfaction", json.Number("6e-1")),
			`weights.satisfaction: must be a decimal number such as 0.6 (no exponent), not "6e-1"`},
		{"weight of the wrong type", mutate(t, "weights.satisfaction", true),
			"weights.satisfaction: must be a decimal number such as 0.6, not true"},
		{"K zero", mutate(t, "k", "0"), "k: must be greater than 0, it is 0"},
		{"K missing", mutate(t, "k", deleteKey), "k: missing"},
		{"unknown key", mutate(t, "colour", "red"), "colour: unknown key"},
		{"unknown nested key", mutate(t, "disclosure.worths.early", "2"), "disclosure.worths.early: unknown key"},
		{"object expected", mutate(t, "weights", "0.6"), `weights: must be an object, not "0.6"`},
		{"grace days zero", mutate(t, "disclosure.grace_days", 0), "disclosure.grace_days: must be at least 1 day, it is 0"},
		{"grace days as a string", mutate(t, "disclosure.grace_days", "30"), `disclosure.grace_days: must be a whole number, not "30"`},
		{"grace days fractional", mutate(t, "disclosure.grace_days", json.Number("30.5")), `disclosure.grace_days: must be a whole number, not 30.5`},
		{"zone by name", mutate(t, "disclosure.deadline_zone", "Asia/Shanghai"), `disclosure.deadline_zone: must be an offset such as +08:00, not "Asia/Shanghai"`},
		{"zone out of range", mutate(t, "disclosure.deadline_zone", "+15:00"), `disclosure.deadline_zone: must be between -14:00 and +14:00, not "+15:00"`},
		{"worth above 1", mutate(t, "disclosure.worths.on_time", "1.5"), "disclosure.worths.on_time: must be between 0 and 1, it is 1.5"},
		{"worths out of order", mutate(t, "disclosure.worths.late", "0.75"), "disclosure.worths.late: must not be more than within_grace (0.5), it is 0.75"},
		{"missing worth above late", mutate(t, "disclosure.worths.missing_or_rejected", "0.5"), "disclosure.worths.missing_or_rejected: must not be more than late (0.25), it is 0.5"},
		{"governance over 100", mutate(t, "governance.party_org", "50"), "governance.joint_mechanism: governance points must add up to at most 100, they add up to 110"},
		{"negative bonus cap", mutate(t, "credit.bonus_cap", "-1"), "credit.bonus_cap: must not be negative, it is -1"},
		{"validity zero", mutate(t, "credit.default_valid_days", 0), "credit.default_valid_days: must be at least 1 day, it is 0"},
		{"thresholds not descending", mutate(t, "grades.bands[1].min", "85"), "grades.bands[1].min: thresholds must be strictly descending, but 85 follows 85"},
		{"threshold above 100", mutate(t, "grades.bands[0].min", "100.01"), "grades.bands[0].min: must be between 0 and 100, it is 100.01"},
		{"threshold below 0", mutate(t, "grades.bands[3].min", "-1"), "grades.bands[3].min: must be between 0 and 100, it is -1"},
		{"grade twice", mutate(t, "grades.bands[2].grade", "AA"), `grades.bands[2].grade: grade "AA" is listed twice`},
		{"no bands", mutate(t, "grades.bands", []any{}), "grades.bands: must list at least one grade\nlists.red.grades[0]: unknown grade \"AAA\""},
		{"fail grade is a band", mutate(t, "grades.fail", "B"), `grades.fail: grade "B" is also a band` + "\n" + `lists.black.grades[0]: unknown grade "C"`},
		{"unknown list grade", mutate(t, "lists.red.grades", []any{"AAAA"}), `lists.red.grades[0]: unknown grade "AAAA"`},
		{"grade on both lists", mutate(t, "lists.black.grades", []any{"C", "AAA"}), `lists.black.grades: grade "AAA" is on both lists`},
		{"list min_disclosure above 100", mutate(t, "lists.red.min_disclosure", "101"), "lists.red.min_disclosure: must be between 0 and 100, it is 101"},
		{"bad name", mutate(t, "name", "my rules"), `name: must be 1-64 characters from A-Z a-z 0-9 . _ -, not "my rules"`},
		{"empty version", mutate(t, "version", ""), `version: must be 1-64 characters from A-Z a-z 0-9 . _ -, not ""`},
		{"version as a number", mutate(t, "version", 1), "version: must be a string, not 1"},
		{"not JSON", []byte(`{"name": `), "ruleset is not valid JSON: unexpected EOF"},
		{"two documents", append(DefaultJSON(), "{}"...), "ruleset: unexpected data after the JSON object"},
		{"not an object", []byte(`[]`), "ruleset: must be an object, not an array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := LoadRuleset(tt.file)
			if err == nil {
				t.Fatalf("LoadRuleset accepted it: %s", rs.Canonical())
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRulesetOptionalKeys: a list may leave out no_active_bad and min_disclosure.
func TestRulesetOptionalKeys(t *testing.T) {
	file := mutate(t, "lists.red.min_disclosure", deleteKey)
	rs, err := LoadRuleset(file)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Red.MinDisclosure != nil {
		t.Errorf("MinDisclosure = %v, want nil", rs.Red.MinDisclosure)
	}
	if strings.Contains(string(rs.Canonical()), "min_disclosure") {
		t.Errorf("canonical form has min_disclosure: %s", rs.Canonical())
	}
}

const deleteKey = "\x00delete"

// mutate returns the default ruleset file with the value at key (dotted, with [i] for array
// elements) replaced by value, or removed when value is deleteKey.
func mutate(t *testing.T, key string, value any) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(DefaultJSON(), &doc); err != nil {
		t.Fatal(err)
	}
	var parent any = doc
	parts := strings.Split(key, ".")
	for i, part := range parts {
		name, index, isElem := strings.Cut(strings.TrimSuffix(part, "]"), "[")
		obj := parent.(map[string]any)
		last := i == len(parts)-1
		switch {
		case isElem:
			n, _ := strconv.Atoi(index)
			arr := obj[name].([]any)
			if last {
				arr[n] = value
			} else {
				parent = arr[n]
			}
		case last && value == deleteKey:
			delete(obj, name)
		case last:
			obj[name] = value
		default:
			parent = obj[name]
		}
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// ratEqual compares rationals by value for cmp.Comparer.
func ratEqual(a, b *big.Rat) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Cmp(b) == 0
}

// TestFractionalBandThreshold: a city may set a threshold with more decimals than a rounded
// score has; a score reaches the band when it is at least the threshold.
func TestFractionalBandThreshold(t *testing.T) {
	tests := []struct {
		min   string
		score Fixed
		want  string
	}{
		{"84.995", 8500, "AAA"},
		{"84.995", 8499, "AA"},
		{"84.991", 8499, "AA"},
		{"84.991", 8500, "AAA"},
		{"84.99", 8499, "AAA"},
		{"84.99", 8498, "AA"},
	}
	for _, tt := range tests {
		rs, err := LoadRuleset(mutate(t, "grades.bands[0].min", tt.min))
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := rs.gradeFor(tt.score, false, false); got != tt.want {
			t.Errorf("AAA from %s: score %s gets %s, want %s", tt.min, tt.score, got, tt.want)
		}
	}
}

// catalogueReordered is the default ruleset's catalogue written differently: keys in
// alphabetical order, points as strings with a trailing ".0".
func catalogueReordered(t *testing.T) string {
	t.Helper()
	var file struct {
		Credit struct {
			Catalogue []map[string]any `json:"catalogue"`
		} `json:"credit"`
	}
	if err := json.Unmarshal(DefaultJSON(), &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Credit.Catalogue) == 0 {
		t.Fatal("the default ruleset has no catalogue")
	}
	for _, entry := range file.Credit.Catalogue {
		entry["points"] = entry["points"].(string) + ".0"
	}
	b, err := json.Marshal(file.Credit.Catalogue) // maps: keys sorted
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestCatalogueProblems: each bad catalogue entry is refused with its key.
func TestCatalogueProblems(t *testing.T) {
	for _, tc := range []struct{ entry, want string }{
		{`{"code":"X","name":"甲","name_en":"A","kind":"bad","points":"2.555"}`, "credit.catalogue[0].points: must be greater than 0 with at most 2 decimals, it is 2.555"},
		{`{"code":"X","name":"甲","name_en":"A","kind":"bad","points":"0"}`, "credit.catalogue[0].points: must be greater than 0"},
		{`{"code":"X","name":"甲","name_en":"A","kind":"good","points":"1","veto":true}`, "credit.catalogue[0].veto: only a bad record can be a veto"},
		{`{"code":"X","name":"甲","name_en":"A","kind":"neutral","points":"1"}`, `credit.catalogue[0].kind: must be good or bad, not "neutral"`},
		{`{"code":"X Y","name":"甲","name_en":"A","kind":"bad","points":"1"}`, `credit.catalogue[0].code: must be 1-64 characters`},
		{`{"code":"X","name":"","name_en":"A","kind":"bad","points":"1"}`, `credit.catalogue[0].name: name and name_en must not be empty`},
		{`{"code":"X","name":"甲","name_en":"A","kind":"bad","points":"1","valid_days":-3}`, `credit.catalogue[0].valid_days: must be at least 1`},
		{`{"code":"X","name":"甲","kind":"bad","points":"1"}`, `credit.catalogue[0].name_en: missing`},
	} {
		var doc map[string]any
		if err := json.Unmarshal(DefaultJSON(), &doc); err != nil {
			t.Fatal(err)
		}
		var entry any
		if err := json.Unmarshal([]byte(tc.entry), &entry); err != nil {
			t.Fatal(err)
		}
		doc["credit"].(map[string]any)["catalogue"] = []any{entry}
		data, _ := json.Marshal(doc)
		_, err := LoadRuleset(data)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.entry, err, tc.want)
		}
	}
	if rt, ok := Default().RecordType("B07"); !ok || !rt.Veto || rt.Repairable || rt.ValidDays != 1095 {
		t.Errorf("default B07 = %+v, %v", rt, ok)
	}
}

func TestRulesetGrades(t *testing.T) {
	if got, want := Default().Grades(), []string{"AAA", "AA", "A", "B", "C"}; !slices.Equal(got, want) {
		t.Errorf("default grades %v, want %v", got, want)
	}
}
