package interchange

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/domain"
)

// lines joins JSON lines into file content.
func lines(ls ...string) string { return strings.Join(ls, "\n") + "\n" }

func rating(household, submittedAt string, service int) string {
	return `{"type":"rating","period":"2026Q4","estate":"e-garden","household":"` + household + `","submitted_at":"` + submittedAt +
		`","scores":{"service":` + fmt.Sprint(service) + `,"security":4,"cleaning":3,"greening":2,"maintenance":1,"transparency":5}}`
}

// decodeFiles reads each file, named by the key of files, into one set, in the order given.
func decodeFiles(t *testing.T, lang string, files ...[2]string) *Set {
	t.Helper()
	set := NewSet(lang)
	for _, f := range files {
		if errs := Decode(strings.NewReader(f[1]), f[0], set, testValidator, lang, nil); len(errs) > 0 {
			t.Fatalf("Decode(%s): %v", f[0], errs)
		}
	}
	return set
}

func TestSetMerge(t *testing.T) {
	oldName := `{"type":"district","id":"futian","name":"旧名"}`
	newName := `{"type":"district","id":"futian","name":"福田区"}`
	luohu := `{"type":"district","id":"luohu","name":"罗湖区"}`
	older, newer := rating("h1", "2026-10-05T09:30:00+08:00", 1), rating("h1", "2026-10-06T09:30:00+08:00", 2)
	for _, tc := range []struct {
		name      string
		files     [][2]string
		key       string
		wantLen   int
		wantLine  string // the line whose record stands
		wantWhere string // where it was read
	}{
		{"later district replaces earlier", [][2]string{{"a.jsonl", lines(oldName, newName)}},
			"district|futian", 1, newName, "a.jsonl:2"},
		{"later file replaces earlier file", [][2]string{{"a.jsonl", lines(oldName)}, {"b.jsonl", lines(luohu, newName)}},
			"district|futian", 2, newName, "b.jsonl:2"},
		{"newer rating read later stands", [][2]string{{"a.jsonl", lines(older, newer)}},
			"rating|2026Q4|e-garden|h1", 1, newer, "a.jsonl:2"},
		{"newer rating read earlier stands", [][2]string{{"a.jsonl", lines(newer, older)}},
			"rating|2026Q4|e-garden|h1", 1, newer, "a.jsonl:1"},
		{"newer rating in an earlier file stands", [][2]string{{"a.jsonl", lines(newer)}, {"b.jsonl", lines(older)}},
			"rating|2026Q4|e-garden|h1", 1, newer, "a.jsonl:1"},
		{"rating times compared as instants, not as text", [][2]string{{"a.jsonl", lines(
			rating("h1", "2026-10-06T08:00:00+08:00", 2),    // 00:00 UTC
			rating("h1", "2026-10-05T23:30:00-01:00", 1))}}, // 00:30 UTC: newer
			"rating|2026Q4|e-garden|h1", 1, rating("h1", "2026-10-05T23:30:00-01:00", 1), "a.jsonl:2"},
		{"rating tie: the one read later stands", [][2]string{
			{"a.jsonl", lines(rating("h1", "2026-10-05T09:30:00+08:00", 1))},
			{"b.jsonl", lines(rating("h1", "2026-10-05T01:30:00Z", 3))}},
			"rating|2026Q4|e-garden|h1", 1, rating("h1", "2026-10-05T01:30:00Z", 3), "b.jsonl:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := decodeFiles(t, domain.LangEN, tc.files...)
			if set.Len() != tc.wantLen {
				t.Errorf("Len = %d, want %d", set.Len(), tc.wantLen)
			}
			if file, line, ok := set.Source(tc.key); !ok || fmt.Sprintf("%s:%d", file, line) != tc.wantWhere {
				t.Errorf("Source(%s) = %s:%d, %v; want %s", tc.key, file, line, ok, tc.wantWhere)
			}
			want, err := ParseLine([]byte(tc.wantLine), testValidator, domain.LangEN)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, set.entries[tc.key].rec); diff != "" {
				t.Errorf("kept record mismatch (-want +got):\n%s", diff)
			}
			if ds := set.Dataset(); ds.Len() != tc.wantLen || !datasetHas(ds, want) {
				t.Errorf("Dataset has %d records, want %d with the kept one", ds.Len(), tc.wantLen)
			}
		})
	}
}

// The world a reference test starts from: every type of record that others name.
var (
	refDistrict = `{"type":"district","id":"futian","name":"福田区"}`
	refCompany  = validLines[TypeCompany]
	refPeriod   = validLines[TypePeriod]
	refEstate   = validLines[TypeEstate]
)

// database is a Known holding some ids and counting the questions asked.
type database struct {
	ids   map[string]bool // "type|id"
	asked int
}

func (d *database) has(key string) bool        { d.asked++; return d.ids[key] }
func (d *database) HasDistrict(id string) bool { return d.has(TypeDistrict + "|" + id) }
func (d *database) HasCompany(id string) bool  { return d.has(TypeCompany + "|" + id) }
func (d *database) HasEstate(id string) bool   { return d.has(TypeEstate + "|" + id) }
func (d *database) HasPeriod(id string) bool   { return d.has(TypePeriod + "|" + id) }

func TestSetCheckRefs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		input    string
		known    map[string]bool
		wantErrs []string
		wantKeys []string
	}{
		{"everything present, referrers first",
			lines(validLines[TypeRating], validLines[TypeDisclosure], validLines[TypeGovernance], validLines[TypeEvent], refEstate, refDistrict, refCompany, refPeriod),
			nil, nil,
			[]string{"company|" + companyA, "disclosure|2026Q4|e-garden|fees", "district|futian", "estate|e-garden", "event|ev-001",
				"governance|2026Q4|" + companyA, "period|2026Q4", "rating|2026Q4|e-garden|3-2-1201"}},
		{"references satisfied by the database",
			lines(validLines[TypeRating], validLines[TypeGovernance]),
			map[string]bool{"period|2026Q4": true, "estate|e-garden": true, "company|" + companyA: true}, nil,
			[]string{"governance|2026Q4|" + companyA, "rating|2026Q4|e-garden|3-2-1201"}},
		{"missing references removed, each field named",
			lines(refDistrict, refPeriod,
				withField(t, refEstate, "district", `"d9"`),
				validLines[TypeEvent],
				withField(t, validLines[TypeGovernance], "period", `"2027Q1"`)),
			nil, []string{
				`f.jsonl:3: district "d9" does not exist; company "91440300MA5DAAAA1X" does not exist`,
				`f.jsonl:4: company "91440300MA5DAAAA1X" does not exist`,
				`f.jsonl:5: period "2027Q1" does not exist; company "91440300MA5DAAAA1X" does not exist`,
			}, []string{"district|futian", "period|2026Q4"}},
		{"removal cascades to the records naming the removed one",
			lines(validLines[TypeRating], validLines[TypeDisclosure], refCompany, refPeriod, refEstate,
				withField(t, validLines[TypeRating], "household", `"9-9-909"`)),
			nil, []string{
				`f.jsonl:1: estate "e-garden" does not exist (its record at f.jsonl:5 was rejected)`,
				`f.jsonl:2: estate "e-garden" does not exist (its record at f.jsonl:5 was rejected)`,
				`f.jsonl:5: district "futian" does not exist`,
				`f.jsonl:6: estate "e-garden" does not exist (its record at f.jsonl:5 was rejected)`,
			}, []string{"company|" + companyA, "period|2026Q4"}},
		{"a rejected estate the database already has still satisfies its ratings",
			lines(validLines[TypeRating], refCompany, refPeriod, refEstate),
			map[string]bool{"estate|e-garden": true}, []string{
				`f.jsonl:4: district "futian" does not exist`,
			}, []string{"company|" + companyA, "period|2026Q4", "rating|2026Q4|e-garden|3-2-1201"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := decodeFiles(t, domain.LangEN, [2]string{"f.jsonl", tc.input})
			errs := set.CheckRefs(&database{ids: tc.known})
			if diff := cmp.Diff(tc.wantErrs, errorStrings(errs)); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantKeys, keysOf(set), equateEmpty); diff != "" {
				t.Errorf("records kept mismatch (-want +got):\n%s", diff)
			}
			if set.Len() != len(tc.wantKeys) {
				t.Errorf("Len = %d, want %d", set.Len(), len(tc.wantKeys))
			}
			if n := set.Dataset().Len(); n != len(tc.wantKeys) {
				t.Errorf("Dataset has %d records, want %d", n, len(tc.wantKeys))
			}
			if again := set.CheckRefs(&database{ids: tc.known}); len(again) > 0 {
				t.Errorf("second CheckRefs found more: %v; the first should reach a fixed point", again)
			}
		})
	}
}

func TestSetCheckRefsAcrossFiles(t *testing.T) {
	set := decodeFiles(t, domain.LangEN,
		[2]string{"ratings.jsonl", lines(validLines[TypeRating])},
		[2]string{"estates.jsonl", lines(refDistrict, refCompany, refEstate)},
		[2]string{"periods.jsonl", lines(refPeriod)})
	if errs := set.CheckRefs(nil); len(errs) > 0 {
		t.Errorf("a reference to a later file must hold: %v", errs)
	}
}

func TestSetCheckRefsAsksTheDatabaseOncePerID(t *testing.T) {
	var ratings []string
	for _, h := range []string{"h1", "h2", "h3", "h4"} {
		ratings = append(ratings, rating(h, "2026-10-05T09:30:00+08:00", 5))
	}
	db := &database{ids: map[string]bool{"period|2026Q4": true, "estate|e-garden": true}}
	set := decodeFiles(t, domain.LangEN, [2]string{"f.jsonl", lines(ratings...)})
	if errs := set.CheckRefs(db); len(errs) > 0 {
		t.Fatal(errs)
	}
	if db.asked != 2 {
		t.Errorf("database asked %d times for 2 distinct ids", db.asked)
	}
}

func TestSetCheckRefsChinese(t *testing.T) {
	set := decodeFiles(t, domain.LangZH, [2]string{"小区.jsonl", lines(validLines[TypeRating], refCompany, refEstate)})
	want := []string{
		`小区.jsonl:1: 评价周期"2026Q4"不存在; 小区"e-garden"不存在（小区.jsonl:3的记录有误，未导入）`,
		`小区.jsonl:3: 行政区"futian"不存在`,
	}
	if diff := cmp.Diff(want, errorStrings(set.CheckRefs(nil))); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
}

func TestSetAddEmptyRecordPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Add of an empty Record did not panic")
		}
	}()
	NewSet(domain.LangEN).Add(Record{}, "f", 1)
}

func TestZeroSet(t *testing.T) {
	var set Set
	rec, err := ParseLine([]byte(validLines[TypeGovernance]), testValidator, domain.LangZH)
	if err != nil {
		t.Fatal(err)
	}
	set.Add(rec, "f.jsonl", 1)
	want := []string{`f.jsonl:1: 评价周期"2026Q4"不存在; 物业企业"91440300MA5DAAAA1X"不存在`}
	if diff := cmp.Diff(want, errorStrings(set.CheckRefs(nil))); diff != "" {
		t.Errorf("errors mismatch (-want +got):\n%s", diff)
	}
}

// TestSortByKey checks the pointer sort against a plain sort of the records, on shuffled,
// sorted and empty input.
func TestSortByKey(t *testing.T) {
	var ratings []domain.Rating
	for p := range 3 {
		for e := range 20 {
			for h := range 10 {
				ratings = append(ratings, domain.Rating{Period: fmt.Sprint("p", p), Estate: fmt.Sprint("e", e), Household: fmt.Sprint("h", h)})
			}
		}
	}
	want := slices.Clone(ratings)
	slices.SortFunc(want, func(a, b domain.Rating) int { return compareRatings(&a, &b) })
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(ratings), func(i, j int) { ratings[i], ratings[j] = ratings[j], ratings[i] })
	for _, in := range [][]domain.Rating{ratings, slices.Clone(want), nil} {
		sortByKey(in, compareRatings)
		if in != nil && !slices.Equal(in, want) {
			t.Fatalf("sortByKey: got %v..., want %v...", in[:3], want[:3])
		}
	}
}

// datasetHas tells whether ds holds rec (a district or a rating, as TestSetMerge keeps).
func datasetHas(ds *domain.Dataset, rec Record) bool {
	switch {
	case rec.District != nil:
		return slices.Contains(ds.Districts, *rec.District)
	case rec.Rating != nil:
		return slices.ContainsFunc(ds.Ratings, func(r domain.Rating) bool { return cmp.Equal(r, *rec.Rating) })
	}
	return false
}
