package interchange

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

func TestParseLineValid(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
		want Record
	}{
		{"district", validLines[TypeDistrict], Record{Type: TypeDistrict, District: &domain.District{ID: "futian", Name: "福田区"}}},
		{"company", validLines[TypeCompany], Record{Type: TypeCompany, Company: &domain.Company{ID: companyA, Name: "深圳市安居物业服务有限公司"}}},
		{"estate", validLines[TypeEstate], Record{Type: TypeEstate, Estate: &domain.Estate{
			ID: "e-garden", Name: "景田花园", District: "futian", Company: companyA, Households: 420, Category: "commodity"}}},
		{"period", validLines[TypePeriod], Record{Type: TypePeriod, Period: &domain.Period{
			ID: "2026Q4", Start: "2026-10-01", End: "2026-12-31", DisclosureDeadline: "2027-01-15"}}},
		{"rating", validLines[TypeRating], Record{Type: TypeRating, Rating: &domain.Rating{
			Period: "2026Q4", Estate: "e-garden", Household: "3-2-1201", SubmittedAt: at("2026-10-05T09:30:00+08:00"),
			Scores: domain.Scores{Service: 5, Security: 4, Cleaning: 3, Greening: 2, Maintenance: 1, Transparency: 5}, Comment: "电梯经常坏"}}},
		{"disclosure", validLines[TypeDisclosure], Record{Type: TypeDisclosure, Disclosure: &domain.Disclosure{
			Period: "2026Q4", Estate: "e-garden", Category: "fees", FiledAt: at("2027-01-10T16:00:00+08:00"), Status: "verified",
			Data: json.RawMessage(`{"fee_per_m2":2.8,"items":[{"name":"保安","amount":12000}]}`)}}},
		{"governance", validLines[TypeGovernance], Record{Type: TypeGovernance, Governance: &domain.Governance{
			Period: "2026Q4", Company: companyA, PartyOrg: true, PartyInstructor: false, JointMechanism: true}}},
		{"event", validLines[TypeEvent], Record{Type: TypeEvent, Event: &domain.Event{
			ID: "ev-001", Company: companyA, Kind: "bad", Points: "2.5", Veto: true, Date: "2026-11-02",
			ValidDays: 180, RepairedOn: "2027-01-02", Description: "挪用专项维修资金"}}},

		{"optional fields absent", `{"type":"event","id":"ev-002","company":"91440300MA5DAAAA1X","kind":"good","points":1,"veto":false,"date":"2026-11-02","description":""}`,
			Record{Type: TypeEvent, Event: &domain.Event{ID: "ev-002", Company: companyA, Kind: "good", Points: "1", Date: "2026-11-02"}}},
		{"optional fields null", `{"type":"rating","period":"p","estate":"e","household":"h","submitted_at":"2026-10-05T01:30:00Z","scores":{"service":1,"security":1,"cleaning":1,"greening":1,"maintenance":1,"transparency":1},"comment":null}`,
			Record{Type: TypeRating, Rating: &domain.Rating{Period: "p", Estate: "e", Household: "h", SubmittedAt: at("2026-10-05T09:30:00+08:00"),
				Scores: marks(1, 1, 1, 1, 1, 1)}}},
		{"points kept as written", withField(t, validLines[TypeEvent], "points", "10.50"),
			Record{Type: TypeEvent, Event: &domain.Event{ID: "ev-001", Company: companyA, Kind: "bad", Points: "10.50", Veto: true, Date: "2026-11-02",
				ValidDays: 180, RepairedOn: "2027-01-02", Description: "挪用专项维修资金"}}},
		{"data compacted, escapes kept", withField(t, validLines[TypeDisclosure], "data", "{ \"a\" : [ 1 , 2 ],\n \"b\\u00e9\" : { } }"),
			Record{Type: TypeDisclosure, Disclosure: &domain.Disclosure{Period: "2026Q4", Estate: "e-garden", Category: "fees",
				FiledAt: at("2027-01-10T16:00:00+08:00"), Status: "verified", Data: json.RawMessage(`{"a":[1,2],"b\u00e9":{}}`)}}},
		{"any order, spaces", ` { "name" : "福田区", "id":"futian", "type":"district" } `,
			Record{Type: TypeDistrict, District: &domain.District{ID: "futian", Name: "福田区"}}},
		{"escaped strings", `{"type":"district","id":"fu\u0074ian","name":"福田\"区\"\u4e2d"}`,
			Record{Type: TypeDistrict, District: &domain.District{ID: "futian", Name: "福田\"区\"中"}}},
		{"time with the largest offset", withField(t, validLines[TypeRating], "submitted_at", `"2026-10-04T09:31:00-23:59"`),
			Record{Type: TypeRating, Rating: &domain.Rating{Period: "2026Q4", Estate: "e-garden", Household: "3-2-1201",
				SubmittedAt: at("2026-10-05T17:30:00+08:00"), Scores: marks(5, 4, 3, 2, 1, 5), Comment: "电梯经常坏"}}},
		{"time in UTC, fraction", withField(t, validLines[TypeRating], "submitted_at", `"2026-10-05T01:30:00.25Z"`),
			Record{Type: TypeRating, Rating: &domain.Rating{Period: "2026Q4", Estate: "e-garden", Household: "3-2-1201",
				SubmittedAt: at("2026-10-05T09:30:00.25+08:00"), Scores: marks(5, 4, 3, 2, 1, 5), Comment: "电梯经常坏"}}},
		{"comment of 500 characters", withField(t, validLines[TypeRating], "comment", `"`+strings.Repeat("好", 500)+`"`),
			Record{Type: TypeRating, Rating: &domain.Rating{Period: "2026Q4", Estate: "e-garden", Household: "3-2-1201",
				SubmittedAt: at("2026-10-05T09:30:00+08:00"), Scores: marks(5, 4, 3, 2, 1, 5), Comment: strings.Repeat("好", 500)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLine([]byte(tc.line), testValidator, domain.LangEN)
			if err != nil {
				t.Fatalf("ParseLine(%s): %v", tc.line, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("record mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecordKey(t *testing.T) {
	want := map[string]string{
		TypeDistrict:   "district|futian",
		TypeCompany:    "company|" + companyA,
		TypeEstate:     "estate|e-garden",
		TypePeriod:     "period|2026Q4",
		TypeRating:     "rating|2026Q4|e-garden|3-2-1201",
		TypeDisclosure: "disclosure|2026Q4|e-garden|fees",
		TypeGovernance: "governance|2026Q4|" + companyA,
		TypeEvent:      "event|ev-001",
	}
	got := map[string]string{}
	for typ, line := range validLines {
		rec, err := ParseLine([]byte(line), testValidator, domain.LangEN)
		if err != nil {
			t.Fatal(err)
		}
		got[typ] = rec.Key()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("keys mismatch (-want +got):\n%s", diff)
	}
	if k := (Record{}).Key(); k != "" {
		t.Errorf("empty Record key = %q, want \"\"", k)
	}
}

// fieldKinds lists every field of every type, as INTERCHANGE.md does, with its JSON kind.
var fieldKinds = map[string][]struct{ name, kind string }{
	TypeDistrict:   {{"id", "string"}, {"name", "string"}},
	TypeCompany:    {{"id", "string"}, {"name", "string"}},
	TypeEstate:     {{"id", "string"}, {"name", "string"}, {"district", "string"}, {"company", "string"}, {"households", "integer"}, {"category", "string"}},
	TypePeriod:     {{"id", "string"}, {"start", "string"}, {"end", "string"}, {"disclosure_deadline", "string"}},
	TypeRating:     {{"period", "string"}, {"estate", "string"}, {"household", "string"}, {"submitted_at", "string"}, {"scores", "object"}, {"comment", "optional string"}},
	TypeDisclosure: {{"period", "string"}, {"estate", "string"}, {"category", "string"}, {"filed_at", "string"}, {"status", "string"}, {"data", "optional object"}},
	TypeGovernance: {{"period", "string"}, {"company", "string"}, {"party_org", "bool"}, {"party_instructor", "bool"}, {"joint_mechanism", "bool"}},
	TypeEvent: {{"id", "string"}, {"company", "string"}, {"kind", "string"}, {"points", "number"}, {"veto", "bool"},
		{"date", "string"}, {"valid_days", "optional integer"}, {"repaired_on", "optional string"}, {"status", "optional string"}, {"description", "string"}},
}

func TestParseLineMissingFields(t *testing.T) {
	for typ, fields := range fieldKinds {
		for _, f := range append(fields, struct{ name, kind string }{"type", "string"}) {
			line := withField(t, validLines[typ], f.name, "")
			_, err := ParseLine([]byte(line), testValidator, domain.LangEN)
			if strings.HasPrefix(f.kind, "optional") {
				if err != nil {
					t.Errorf("%s without optional %s: %v", typ, f.name, err)
				}
				continue
			}
			want := f.name + ": required field is missing"
			if got := derrors.Message(err); got != want {
				t.Errorf("%s without %s: error %q, want %q", typ, f.name, got, want)
			}
		}
	}
}

func TestParseLineWrongTypes(t *testing.T) {
	wrong := map[string]struct{ value, message string }{
		"string":           {`5`, "must be a string"},
		"optional string":  {`true`, "must be a string"},
		"integer":          {`"420"`, "must be an integer"},
		"optional integer": {`"180"`, "must be an integer"},
		"number":           {`"2.5"`, "must be a number (a JSON number, not a string)"},
		"bool":             {`"true"`, "must be true or false"},
		"object":           {`[1]`, "must be a JSON object"},
		"optional object":  {`"{}"`, "must be a JSON object"},
	}
	for typ, fields := range fieldKinds {
		for _, f := range append(fields, struct{ name, kind string }{"type", "string"}) {
			line := withField(t, validLines[typ], f.name, wrong[f.kind].value)
			_, err := ParseLine([]byte(line), testValidator, domain.LangEN)
			want := f.name + ": " + wrong[f.kind].message
			if got := derrors.Message(err); got != want {
				t.Errorf("%s with %s = %s: error %q, want %q", typ, f.name, wrong[f.kind].value, got, want)
			}
		}
	}
	// null is no value at all, so it is wrong for every required field.
	for _, field := range []string{"id", "households"} {
		line := withField(t, validLines[TypeEstate], field, "null")
		_, err := ParseLine([]byte(line), testValidator, domain.LangEN)
		if err == nil || !strings.HasPrefix(err.Error(), field+": must be") {
			t.Errorf("estate with %s null: error %v, want a type error", field, err)
		}
	}
}

func TestParseLineBadValues(t *testing.T) {
	rating, event, estate, disclosure := validLines[TypeRating], validLines[TypeEvent], validLines[TypeEstate], validLines[TypeDisclosure]
	scores := func(s string) string { return withField(t, rating, "scores", s) }
	data := func(s string) string { return withField(t, disclosure, "data", s) }
	for _, tc := range []struct {
		name, line, want string
	}{
		// Whole-line problems.
		{"bad JSON", `{"type":"district",}`, "not valid JSON: invalid character '}' looking for beginning of object key string (near byte 20)"},
		{"empty line", ``, "not valid JSON: unexpected end of JSON input (near byte 0)"},
		{"two values", `{} {}`, "not valid JSON: invalid character '{' after top-level value (near byte 4)"},
		{"not an object", `["district","futian"]`, "a record must be a JSON object"},
		{"a string", `"district"`, "a record must be a JSON object"},
		{"invalid UTF-8", "{\"type\":\"district\",\"id\":\"futian\",\"name\":\"\xff\"}", "not valid UTF-8 (at byte 42)"},
		{"unknown type", `{"type":"owner"}`, `type: unknown record type "owner"; the types are district, company, estate, period, rating, disclosure, governance, event`},
		{"type with wrong case", `{"type":"District","id":"futian","name":"福田区"}`, `type: unknown record type "District"; the types are district, company, estate, period, rating, disclosure, governance, event`},
		{"duplicate field", `{"type":"district","id":"futian","name":"福田区","id":"luohu"}`, "id: field appears more than once"},
		{"name with a right-to-left override", `{"type":"company","id":"91440300MA5DAAAA1X","name":"万润\u202e业物"}`, "name: must not contain control characters, line breaks or text-direction controls"},
		{"name with a line break", `{"type":"district","id":"futian","name":"福田\n区"}`, "name: must not contain control characters, line breaks or text-direction controls"},
		{"comment with ESC", withField(t, validLines[TypeRating], "comment", `"\u001b[2J"`), "comment: must not contain control characters or text-direction controls"},
		{"unknown field", `{"type":"district","id":"futian","name":"福田区","population":[1,{"x":null}]}`, "population: unknown field (misspelt?)"},
		{"misspelt optional field", withField(t, validLines[TypeEvent], "repaired_om", `"2026-12-01"`), "repaired_om: unknown field (misspelt?)"},

		// Identifiers and enumerations, as the Validator words them.
		{"bad identifier", withField(t, estate, "id", `"e garden"`), "id: must be 1-64 characters of letters, digits, '.', '_' or '-'"},
		{"bad USCC", withField(t, estate, "company", `"91440300ma5daaaa1x"`), "company: must be an 18-character unified social credit code (digits and upper-case letters)"},
		{"bad category", withField(t, estate, "category", `"villa"`), "category: must be one of [commodity unit old urban_village]"},
		{"empty name", withField(t, estate, "name", `""`), "name: is a required field"},

		// Integers.
		{"households negative", withField(t, estate, "households", "-3"), "households: must be 1 or greater"},
		{"households fraction", withField(t, estate, "households", "3.5"), "households: must be an integer"},
		{"households 3.0", withField(t, estate, "households", "3.0"), "households: must be an integer"},
		{"households exponent", withField(t, estate, "households", "1e3"), "households: must be an integer"},
		{"households overflow", withField(t, estate, "households", "99999999999999999999"), "households: is out of range"},
		{"valid_days 0", withField(t, event, "valid_days", "0"), "valid_days: must be 1 or greater"},
		{"event status draft", withField(t, event, "status", `"draft"`), "status: must be one of [in_force notified withdrawn]"},
		{"event status unknown", withField(t, event, "status", `"revoked"`), "status: must be one of [in_force notified withdrawn]"},

		// Dates and times.
		{"bad date", withField(t, event, "date", `"2026-02-30"`), "date: must be a valid date in the form YYYY-MM-DD"},
		{"short date", withField(t, event, "repaired_on", `"2026-2-3"`), "repaired_on: must be a valid date in the form YYYY-MM-DD"},
		{"end before start", withField(t, validLines[TypePeriod], "end", `"2026-09-30"`), "end: must not be before start"},
		{"time without offset", withField(t, rating, "submitted_at", `"2026-10-05T09:30:00"`), "submitted_at: must be an RFC 3339 time with an offset, such as 2026-10-05T09:30:00+08:00"},
		{"time as date", withField(t, rating, "submitted_at", `"2026-10-05"`), "submitted_at: must be an RFC 3339 time with an offset, such as 2026-10-05T09:30:00+08:00"},
		{"time with space", withField(t, rating, "submitted_at", `"2026-10-05 09:30:00+08:00"`), "submitted_at: must be an RFC 3339 time with an offset, such as 2026-10-05T09:30:00+08:00"},
		{"time with comma", withField(t, rating, "submitted_at", `"2026-10-05T09:30:00,5+08:00"`), "submitted_at: must be an RFC 3339 time with an offset, such as 2026-10-05T09:30:00+08:00"},
		{"time one-digit hour", withField(t, rating, "submitted_at", `"2026-10-05T9:30:00+08:00"`), "submitted_at: must be an RFC 3339 time with an offset, such as 2026-10-05T09:30:00+08:00"},
		{"time offset 24:00", withField(t, rating, "submitted_at", `"2026-10-05T09:30:00+24:00"`), "submitted_at: must be an RFC 3339 time with an offset, such as 2026-10-05T09:30:00+08:00"},
		{"time offset minutes 60", withField(t, rating, "submitted_at", `"2026-10-05T09:30:00+08:60"`), "submitted_at: must be an RFC 3339 time with an offset, such as 2026-10-05T09:30:00+08:00"},
		{"time lower-case z", withField(t, rating, "submitted_at", `"2026-10-05T01:30:00z"`), "submitted_at: must be an RFC 3339 time with an offset, such as 2026-10-05T09:30:00+08:00"},
		{"time empty fraction", withField(t, rating, "submitted_at", `"2026-10-05T01:30:00.Z"`), "submitted_at: must be an RFC 3339 time with an offset, such as 2026-10-05T09:30:00+08:00"},
		{"time hour 24", withField(t, disclosure, "filed_at", `"2026-10-05T24:00:00+08:00"`), "filed_at: must be an RFC 3339 time with an offset, such as 2026-10-05T09:30:00+08:00"},
		{"time past year 9999 in +08:00", withField(t, disclosure, "filed_at", `"9999-12-31T20:00:00Z"`), "filed_at: must fall within the years 0001-9999 in +08:00"},

		// Points: exact decimals only.
		{"points 3 decimals", withField(t, event, "points", "2.555"), "points: must be a number greater than 0 with at most 2 decimal places"},
		{"points exponent", withField(t, event, "points", "1e2"), "points: must be a number greater than 0 with at most 2 decimal places"},
		{"points negative", withField(t, event, "points", "-1"), "points: must be a number greater than 0 with at most 2 decimal places"},
		{"points zero", withField(t, event, "points", "0"), "points: must be a number greater than 0 with at most 2 decimal places"},
		{"points zero with decimals", withField(t, event, "points", "0.00"), "points: must be a number greater than 0 with at most 2 decimal places"},
		{"veto on good", withField(t, event, "kind", `"good"`), "veto: can be true only when kind is bad"},
		{"bad kind", withField(t, event, "kind", `"neutral"`), "kind: must be one of [good bad]"},

		// Scores.
		{"scores missing a dimension", scores(`{"service":5,"security":4,"cleaning":3,"greening":2,"maintenance":1}`), "scores.transparency: required field is missing"},
		{"scores misspelt dimension", scores(`{"service":5,"securty":4,"cleaning":3,"greening":2,"maintenance":1,"transparency":5}`),
			"scores.security: required field is missing; scores.securty: unknown dimension; the dimensions are service, security, cleaning, greening, maintenance, transparency"},
		{"score 6", scores(`{"service":6,"security":4,"cleaning":3,"greening":2,"maintenance":1,"transparency":5}`), "scores.service: must be 5 or less"},
		// The Validator's required tag speaks for 0 (see the report: min=1 alone would say "must be 1 or greater").
		{"score 0", scores(`{"service":5,"security":4,"cleaning":0,"greening":2,"maintenance":1,"transparency":5}`), "scores.cleaning: must be 1 or greater"},
		{"score 3.5", scores(`{"service":5,"security":4,"cleaning":3,"greening":3.5,"maintenance":1,"transparency":5}`), "scores.greening: must be an integer"},
		{"score string", scores(`{"service":5,"security":4,"cleaning":3,"greening":2,"maintenance":"1","transparency":5}`), "scores.maintenance: must be an integer"},
		{"scores empty", scores(`{}`), "scores.cleaning: required field is missing; scores.greening: required field is missing; scores.maintenance: required field is missing; " +
			"scores.security: required field is missing; scores.service: required field is missing; scores.transparency: required field is missing"},
		{"scores duplicate", scores(`{"service":5,"service":1,"security":4,"cleaning":3,"greening":2,"maintenance":1,"transparency":5}`), "scores.service: field appears more than once"},
		{"comment of 501 characters", withField(t, rating, "comment", `"`+strings.Repeat("好", 501)+`"`), "comment: must be a maximum of 500 characters in length"},

		// Data, which the database must accept.
		{"data array", data(`[{"a":1}]`), "data: must be a JSON object"},
		{"data nested array", data(`{"rows":[[1,2],[3,4]]}`), "data: must not hold an array directly inside an array"},
		{"data nested array deep", data(`{"a":{"b":[1,{"c":[[]]}]}}`), "data: must not hold an array directly inside an array"},
		{"data dotted key", data(`{"a":{"fee.total":1}}`), `data: key "fee.total" must not contain "." or a NUL character, nor start with "$"`},
		{"data escaped dot", data(`{"a\u002eb":1}`), `data: key "a.b" must not contain "." or a NUL character, nor start with "$"`},
		{"data dollar key", data(`{"$set":1}`), `data: key "$set" must not contain "." or a NUL character, nor start with "$"`},
		{"data duplicate key", data(`{"a":1,"b":{"c":1,"c":2}}`), `data: key "c" appears more than once`},
		{"data huge number", data(`{"a":1e400}`), "data: number 1e400 is out of range"},
		{"data too deep", data(strings.Repeat(`{"a":`, 65) + "1" + strings.Repeat("}", 65)), "data: must not be nested more than 64 levels deep"},

		// Several problems at once, each named.
		{"several", `{"type":"estate","id":"e 1","name":"n","district":"d1","households":"many","category":"villa"}`,
			"category: must be one of [commodity unit old urban_village]; company: required field is missing; households: must be an integer; " +
				"id: must be 1-64 characters of letters, digits, '.', '_' or '-'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := ParseLine([]byte(tc.line), testValidator, domain.LangEN)
			if err == nil {
				t.Fatalf("ParseLine(%s) = %+v, want error %q", tc.line, rec, tc.want)
			}
			if derrors.Code(err) != derrors.Invalid {
				t.Errorf("code = %q, want %q", derrors.Code(err), derrors.Invalid)
			}
			if diff := cmp.Diff(tc.want, derrors.Message(err)); diff != "" {
				t.Errorf("message mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(Record{}, rec); diff != "" {
				t.Errorf("a bad line must give the zero Record (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseLineChinese(t *testing.T) {
	for _, tc := range []struct {
		name, line, want string
	}{
		{"bad JSON", `{"type":`, "不是有效的JSON（第8字节附近）"},
		{"not an object", `[]`, "记录必须是JSON对象"},
		{"invalid UTF-8", "{\"type\":\"\xc3\x28\"}", "不是有效的UTF-8编码（第10字节）"},
		{"unknown type", `{"type":"owner"}`, `type: 未知的记录类型"owner"，应为district, company, estate, period, rating, disclosure, governance, event之一`},
		{"missing", withField(t, validLines[TypeDistrict], "name", ""), "name: 缺少必填字段"},
		{"wrong type", withField(t, validLines[TypeGovernance], "party_org", "1"), "party_org: 必须是true或false"},
		{"score 6", withField(t, validLines[TypeRating], "scores", `{"service":6,"security":4,"cleaning":3,"greening":2,"maintenance":1,"transparency":5}`),
			"scores.service: 必须小于或等于5"},
		{"offsetless time", withField(t, validLines[TypeRating], "submitted_at", `"2026-10-05T09:30:00"`),
			"submitted_at: 必须是带时区偏移的RFC 3339时间，例如2026-10-05T09:30:00+08:00"},
		{"points", withField(t, validLines[TypeEvent], "points", "2.555"), "points: 必须是大于0、最多两位小数的数"},
		{"veto on good", withField(t, validLines[TypeEvent], "kind", `"good"`), "veto: 只有kind为bad的记录才能为true"},
		{"comment", withField(t, validLines[TypeRating], "comment", `"`+strings.Repeat("好", 501)+`"`), "comment: 长度不能超过500个字符"},
		{"data dotted key", withField(t, validLines[TypeDisclosure], "data", `{"a.b":1}`), `data: 键"a.b"不能包含"."或空字符，也不能以"$"开头`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseLine([]byte(tc.line), testValidator, domain.LangZH)
			if diff := cmp.Diff(tc.want, derrors.Message(err)); diff != "" {
				t.Errorf("message mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseLineDoesNotKeepTheLine(t *testing.T) {
	for typ, line := range validLines {
		buf := []byte(line)
		rec, err := ParseLine(buf, nil, domain.LangEN)
		if err != nil {
			t.Fatal(err)
		}
		before, _ := json.Marshal(rec)
		for i := range buf {
			buf[i] = 'x' // Decode reuses its buffer for the next line
		}
		if after, _ := json.Marshal(rec); string(after) != string(before) {
			t.Errorf("%s: record changed with the line buffer:\n%s\n%s", typ, before, after)
		}
	}
}

func TestValidJSONDepth(t *testing.T) {
	for _, depth := range []int{maxNestingDepth, maxNestingDepth + 1} {
		doc := []byte(strings.Repeat("[", depth) + strings.Repeat("]", depth))
		if got, want := validJSON(doc), json.Valid(doc); got != want {
			t.Errorf("depth %d: validJSON = %v, json.Valid = %v", depth, got, want)
		}
	}
}

// certainlyValid restates the rules of domain.Rating; when they change, it must too.
func TestCertainlyValidKnowsTheRatingRules(t *testing.T) {
	var got []string
	for _, typ := range []reflect.Type{reflect.TypeFor[domain.Rating](), reflect.TypeFor[domain.Scores]()} {
		for f := range typ.Fields() {
			got = append(got, typ.Name()+"."+f.Name+": "+f.Tag.Get("validate"))
		}
	}
	want := []string{
		"Rating.Period: required,ident",
		"Rating.Estate: required,ident",
		"Rating.Household: required,ident",
		"Rating.SubmittedAt: required",
		"Rating.Scores: required",
		"Rating.Comment: text,max=500",
		"Scores.Service: min=1,max=5",
		"Scores.Security: min=1,max=5",
		"Scores.Cleaning: min=1,max=5",
		"Scores.Greening: min=1,max=5",
		"Scores.Maintenance: min=1,max=5",
		"Scores.Transparency: min=1,max=5",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the rules of a rating changed; update certainlyValid, then this list (-was +now):\n%s", diff)
	}
}

func TestCertainlyValidLeavesDoubtsToTheValidator(t *testing.T) {
	valid, err := ParseLine([]byte(validLines[TypeRating]), testValidator, domain.LangEN)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(r *domain.Rating)
	}{
		{"bad household", func(r *domain.Rating) { r.Household = "3/2" }},
		{"empty period", func(r *domain.Rating) { r.Period = "" }},
		{"zero time", func(r *domain.Rating) { r.SubmittedAt = time.Time{} }},
		{"score 0", func(r *domain.Rating) { r.Scores.Cleaning = 0 }},
		{"score 6", func(r *domain.Rating) { r.Scores.Transparency = 6 }},
		{"comment of 501 characters", func(r *domain.Rating) { r.Comment = strings.Repeat("好", 501) }},
	} {
		r := *valid.Rating
		tc.change(&r)
		if certainlyValid(&r) {
			t.Errorf("%s: certainlyValid accepted %+v", tc.name, r)
		}
		if testValidator.Check(&r, domain.LangEN) == nil {
			t.Errorf("%s: the Validator accepts it, so the case tests nothing", tc.name)
		}
	}
	if !certainlyValid(valid.Rating) {
		t.Error("certainlyValid refused a valid rating, so it saves nothing")
	}
}
