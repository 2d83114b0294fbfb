package interchange

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/propcredit/propcredit/internal/domain"
)

var testValidator = domain.NewValidator()

// equateEmpty lets a nil slice equal an empty one: a Dataset built by hand and one returned
// by Set.Dataset differ only in that.
var equateEmpty = cmpopts.EquateEmpty()

const (
	companyA = "91440300MA5DAAAA1X"
	companyB = "914403007654321098"
)

// validLines holds one valid line of each type, with every optional field present.
var validLines = map[string]string{
	TypeDistrict: `{"type":"district","id":"futian","name":"福田区"}`,
	TypeCompany:  `{"type":"company","id":"91440300MA5DAAAA1X","name":"深圳市安居物业服务有限公司"}`,
	TypeEstate:   `{"type":"estate","id":"e-garden","name":"景田花园","district":"futian","company":"91440300MA5DAAAA1X","households":420,"category":"commodity"}`,
	TypePeriod:   `{"type":"period","id":"2026Q4","start":"2026-10-01","end":"2026-12-31","disclosure_deadline":"2027-01-15"}`,
	TypeRating:   `{"type":"rating","period":"2026Q4","estate":"e-garden","household":"3-2-1201","submitted_at":"2026-10-05T09:30:00+08:00","scores":{"service":5,"security":4,"cleaning":3,"greening":2,"maintenance":1,"transparency":5},"comment":"电梯经常坏"}`,
	TypeDisclosure: `{"type":"disclosure","period":"2026Q4","estate":"e-garden","category":"fees","filed_at":"2027-01-10T16:00:00+08:00","status":"verified",` +
		`"data":{"fee_per_m2":2.8,"items":[{"name":"保安","amount":12000}]}}`,
	TypeGovernance: `{"type":"governance","period":"2026Q4","company":"91440300MA5DAAAA1X","party_org":true,"party_instructor":false,"joint_mechanism":true}`,
	TypeEvent:      `{"type":"event","id":"ev-001","company":"91440300MA5DAAAA1X","kind":"bad","points":2.5,"veto":true,"date":"2026-11-02","valid_days":180,"repaired_on":"2027-01-02","description":"挪用专项维修资金"}`,
}

// withField returns the JSON object line with field set to the raw JSON value, or removed
// when value is "".
func withField(t testing.TB, line, field, value string) string {
	t.Helper()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &fields); err != nil {
		t.Fatalf("withField: %v", err)
	}
	if value == "" {
		delete(fields, field)
	} else {
		fields[field] = json.RawMessage(value)
	}
	out, err := json.Marshal(fields)
	if err != nil {
		t.Fatalf("withField: %v", err)
	}
	return string(out)
}

// marks are the six dimension scores in canonical order.
func marks(service, security, cleaning, greening, maintenance, transparency int) domain.Scores {
	return domain.Scores{Service: service, Security: security, Cleaning: cleaning, Greening: greening,
		Maintenance: maintenance, Transparency: transparency}
}

// at is a time in the bureau's zone.
func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.In(domain.Zone)
}

// generateDataset makes a valid city with about n records, mostly ratings as in real life,
// using every optional field and strings that need escaping. It is sorted by key, as
// Set.Dataset returns it.
func generateDataset(n int) *domain.Dataset {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	ds := &domain.Dataset{}
	const districts, companies, estates = 10, 50, 400
	for i := range districts {
		ds.Districts = append(ds.Districts, domain.District{ID: fmt.Sprintf("d%02d", i), Name: fmt.Sprintf("第%d区", i)})
	}
	for i := range companies {
		ds.Companies = append(ds.Companies, domain.Company{ID: fmt.Sprintf("9144030000000%05d", i), Name: fmt.Sprintf("物业公司 \"%d\" 有限公司", i)})
	}
	ds.Periods = []domain.Period{
		{ID: "2026Q3", Start: "2026-07-01", End: "2026-09-30", DisclosureDeadline: "2026-10-15"},
		{ID: "2026Q4", Start: "2026-10-01", End: "2026-12-31", DisclosureDeadline: "2027-01-15"},
	}
	for i := range estates {
		ds.Estates = append(ds.Estates, domain.Estate{
			ID: fmt.Sprintf("e%04d", i), Name: fmt.Sprintf("花园%d期", i),
			District: ds.Districts[i%districts].ID, Company: ds.Companies[i%companies].ID,
			Households: 1 + rng.IntN(3000), Category: domain.EstateCategories[i%len(domain.EstateCategories)],
		})
	}
	for _, p := range ds.Periods {
		for _, c := range ds.Companies {
			ds.Governance = append(ds.Governance, domain.Governance{Period: p.ID, Company: c.ID,
				PartyOrg: rng.IntN(2) == 0, PartyInstructor: rng.IntN(2) == 0, JointMechanism: rng.IntN(2) == 0})
		}
	}
	for i := range 100 {
		e := domain.Event{ID: fmt.Sprintf("ev%04d", i), Company: ds.Companies[i%companies].ID, Kind: "good",
			Points: []string{"1", "2.5", "0.25", "10.00"}[i%4], Date: "2026-11-02", Description: "说明\n第二行"}
		if i%3 == 0 {
			e.Kind, e.Veto = "bad", i%2 == 0
		}
		if i%5 == 0 {
			e.ValidDays = 180
		}
		if i%7 == 0 {
			e.RepairedOn = "2027-02-01"
		}
		ds.Events = append(ds.Events, e)
	}
	for _, p := range ds.Periods {
		for _, e := range ds.Estates[:100] {
			for _, category := range domain.DisclosureCategories {
				d := domain.Disclosure{Period: p.ID, Estate: e.ID, Category: category,
					FiledAt: at("2027-01-10T16:00:00+08:00").Add(time.Duration(rng.IntN(1e6)) * time.Second),
					Status:  []string{domain.StatusPending, domain.StatusVerified, domain.StatusRejected}[rng.IntN(3)]}
				if rng.IntN(2) == 0 {
					d.Data = json.RawMessage(fmt.Sprintf(`{"amount":%d.%02d,"note":"公示\"%d\"","items":[1,{"k":null}]}`, rng.IntN(1e5), rng.IntN(100), rng.IntN(10)))
				}
				ds.Disclosures = append(ds.Disclosures, d)
			}
		}
	}
	for household := 0; ds.Len() < n; household++ {
		for _, p := range ds.Periods {
			e := ds.Estates[household%estates]
			r := domain.Rating{Period: p.ID, Estate: e.ID, Household: fmt.Sprintf("%d-%d-%d", household%30, household%4, household),
				SubmittedAt: at("2026-10-05T09:30:00+08:00").Add(time.Duration(rng.Int64N(1e16))),
				Scores:      marks(1+rng.IntN(5), 1+rng.IntN(5), 1+rng.IntN(5), 1+rng.IntN(5), 1+rng.IntN(5), 1+rng.IntN(5))}
			if rng.IntN(4) == 0 {
				r.SubmittedAt = r.SubmittedAt.Truncate(time.Second) // most times have no fraction
			}
			if rng.IntN(5) == 0 {
				r.Comment = strings.Repeat("保洁不到位，\"垃圾\"\t堆放\\", 1+rng.IntN(20))
			}
			ds.Ratings = append(ds.Ratings, r)
		}
	}
	sortByKey(ds.Ratings, compareRatings)
	sortByKey(ds.Governance, compareGovernance)
	sortByKey(ds.Disclosures, compareDisclosures)
	return ds
}

// encode is Encode for tests.
func encode(t testing.TB, ds *domain.Dataset) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := Encode(&out, ds); err != nil {
		t.Fatalf("Encode: %v", err)
	}
	return out.Bytes()
}

// decode reads input into a new set and fails the test on any bad line.
func decode(t testing.TB, input []byte) *Set {
	t.Helper()
	set := NewSet(domain.LangEN)
	if errs := Decode(bytes.NewReader(input), "input.jsonl", set, testValidator, domain.LangEN, nil); len(errs) > 0 {
		t.Fatalf("Decode: %d errors, first: %v", len(errs), errs[0])
	}
	return set
}
