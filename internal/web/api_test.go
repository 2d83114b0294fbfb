package web

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/scoring"
)

func decodeJSON(t *testing.T, r *response, v any) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s: Content-Type %q, want JSON", r.Request.URL, ct)
	}
	if err := json.Unmarshal([]byte(r.body), v); err != nil {
		t.Fatalf("%s: %v\n%s", r.Request.URL, err, r.body)
	}
}

// The grades are INTERCHANGE.md's exported results of the latest publication, byte for byte
// what `propcredit score --format json` writes for the same result, with the publication's
// number, time, fingerprints and status.
func TestAPIGrades(t *testing.T) {
	e := newPublishedEnv(t)
	pub, err := e.db.Record(context.Background(), "pub|2026Q4|0001")
	if err != nil {
		t.Fatal(err)
	}
	detail, _ := pub.DetailJSON()
	var res scoring.Result
	if err := json.Unmarshal(detail, &res); err != nil {
		t.Fatal(err)
	}
	export, _ := scoring.MarshalExport(&res)
	// The export, with the publication (number, time, fingerprints) and its publicity after
	// "period".
	withStatus := func(status string) string {
		lines := "  \"period\": \"2026Q4\",\n  \"ruleset\": \"default@1\",\n"
		return strings.Replace(string(export), lines, "  \"period\": \"2026Q4\",\n  \"publication\": 1,\n  \"published_at\": \""+
			pub.CreatedAt.In(domain.Zone).Format(time.RFC3339Nano)+"\",\n  \"ruleset\": \"default@1\",\n  \"ruleset_hash\": \""+pub.RulesetHash+
			"\",\n  \"inputs_hash\": \""+pub.InputsHash+"\",\n  \"status\": \""+status+"\",\n  \"publicity_ends\": \""+
			pub.PublicityEnds.In(domain.Zone).Format(time.RFC3339)+"\",\n", 1)
	}
	want := withStatus("publicity")

	c := e.client()
	r := c.get("/api/v1/periods/2026Q4/grades")
	wantStatus(t, r, http.StatusOK)
	if r.body != want || !strings.Contains(r.body, "+08:00") {
		t.Errorf("grades differ from the export:\n%s\nwant:\n%s", r.body, want)
	}
	var out struct {
		Period, Ruleset string
		Grades          []struct {
			Company, Name, Grade, List string
			Rank                       int
			Score                      float64
		}
	}
	decodeJSON(t, r, &out)
	if out.Period != "2026Q4" || out.Ruleset != "default@1" || len(out.Grades) != 4 || out.Grades[0].Company != reportRed || out.Grades[0].List != "red" {
		t.Errorf("grades = %+v", out)
	}
	if out.Grades[3].Name != reportHostileName {
		t.Errorf("name %q, want exactly as imported", out.Grades[3].Name)
	}

	etag := r.Header.Get("ETag")
	wantStatus(t, c.doRaw(http.MethodGet, "/api/v1/periods/2026Q4/grades", nil, map[string]string{"If-None-Match": etag}), http.StatusNotModified)
	wantStatus(t, c.doRaw(http.MethodGet, "/api/v1/periods/2026Q4/grades", nil, map[string]string{"If-None-Match": `"other"`}), http.StatusOK)
	// Approved by a second person after the publicity: final, and seen once the cache looks again;
	// the ETag changes with it.
	e.setClock(pub.PublicityEnds)
	if _, err := publication.New(e.db).Finalize(context.Background(), "2026Q4", "second-reviewer", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	if r := c.get("/api/v1/periods/2026Q4/grades"); r.body != withStatus("final") {
		t.Errorf("after approval:\n%s", r.body)
	}
	wantStatus(t, c.doRaw(http.MethodGet, "/api/v1/periods/2026Q4/grades", nil, map[string]string{"If-None-Match": etag}), http.StatusOK)

	r = c.get("/api/v1/periods/2025Q1/grades")
	wantStatus(t, r, http.StatusNotFound)
	var apiErr struct{ Error, RequestID string }
	decodeJSON(t, r, &apiErr)
	if !strings.Contains(apiErr.Error, "2025Q1") {
		t.Errorf("error %q", apiErr.Error)
	}

	var periods struct {
		Periods []struct {
			Period      string
			Publication int
			Grades      string
			InputsHash  string `json:"inputs_hash"`
		}
	}
	decodeJSON(t, c.get("/api/v1/periods"), &periods)
	if len(periods.Periods) != 2 || periods.Periods[1].Period != "2026Q4" || periods.Periods[1].Grades != "/api/v1/periods/2026Q4/grades" ||
		periods.Periods[1].InputsHash != pub.InputsHash {
		t.Errorf("periods = %+v", periods)
	}
}

func TestAPICompanyAndSearch(t *testing.T) {
	e := newPublishedEnv(t)
	c := e.client()
	var company struct {
		Company struct{ ID, Name string }
		Current struct {
			Period, Grade, List string
			Publication         int
			Rank, Companies     int
			PublishedAt         time.Time `json:"published_at"`
		}
		History []struct{ Period, Grade string }
	}
	r := c.get("/api/v1/companies/" + reportVeto)
	wantStatus(t, r, http.StatusOK)
	decodeJSON(t, r, &company)
	if company.Company.Name != "弃管物业" || company.Current.Period != "2026Q4" || company.Current.Grade != "C" || company.Current.List != "black" ||
		company.Current.Publication != 1 || company.Current.Companies != 4 || company.Current.PublishedAt.IsZero() {
		t.Errorf("company = %+v", company)
	}
	if got := []string{company.History[0].Period, company.History[1].Period}; !slices.Equal(got, []string{"2026Q3", "2026Q4"}) {
		t.Errorf("history periods %v", got)
	}
	wantStatus(t, c.doRaw(http.MethodGet, "/api/v1/companies/"+reportVeto, nil, map[string]string{"If-None-Match": r.Header.Get("ETag")}), http.StatusNotModified)
	wantStatus(t, c.get("/api/v1/companies/91440300MA5R999999"), http.StatusNotFound)

	search := func(q string) []string {
		t.Helper()
		r := c.get("/api/v1/companies?q=" + url.QueryEscape(q))
		wantStatus(t, r, http.StatusOK)
		var out struct {
			Query     string
			Companies []struct {
				ID      string
				Current *struct{ Grade string }
			}
		}
		decodeJSON(t, r, &out)
		var ids []string
		for _, co := range out.Companies {
			if co.Current == nil {
				t.Errorf("%s: no current grade", co.ID)
			}
			ids = append(ids, co.ID)
		}
		return ids
	}
	for q, want := range map[string][]string{
		"物业":                 {reportRed, reportVeto, reportPlain},
		"91440300ma5r00000":  {reportRed, reportVeto, reportPlain, reportHostile},
		"91440300MA5R000002": {reportVeto},
		reportHostileName:    {reportHostile},
		"无此企业":               nil,
	} {
		if diff := cmp.Diff(want, search(q)); diff != "" {
			t.Errorf("search %q (-want +got):\n%s", q, diff)
		}
	}
	for _, q := range []string{"", "%20", strings.Repeat("x", 101)} {
		r := c.get("/api/v1/companies?q=" + q)
		wantStatus(t, r, http.StatusBadRequest)
		var apiErr struct {
			Error  string
			Fields map[string]string
		}
		decodeJSON(t, r, &apiErr)
		if apiErr.Fields["q"] == "" {
			t.Errorf("q=%q: error %+v names no field", q, apiErr)
		}
	}
	en := e.client().english()
	wantBody(t, en.get("/api/v1/companies?q="), "Give the query parameter q")
}

func TestAPIRateLimit(t *testing.T) {
	e := newPublishedEnv(t)
	c := e.client()
	c.header.Set("X-Forwarded-For", "203.0.113.7")
	for i := range int(apiBurst) {
		if r := c.get("/api/v1/periods"); r.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d", i+1, r.StatusCode)
		}
	}
	r := c.get("/api/v1/periods/2026Q4/grades")
	wantStatus(t, r, http.StatusTooManyRequests)
	var apiErr struct{ Error string }
	decodeJSON(t, r, &apiErr)
	if apiErr.Error == "" || r.Header.Get("Retry-After") != "1" {
		t.Errorf("429: error %q, Retry-After %q", apiErr.Error, r.Header.Get("Retry-After"))
	}
	// Another address is not limited; the first one gets a request again after a tenth of a
	// second (the rate is 10 a second).
	other := e.client()
	other.header.Set("X-Forwarded-For", "203.0.113.8")
	wantStatus(t, other.get("/api/v1/periods"), http.StatusOK)
	e.clock.Advance(time.Second / apiRate)
	wantStatus(t, c.get("/api/v1/periods"), http.StatusOK)
	wantStatus(t, c.get("/api/v1/periods"), http.StatusTooManyRequests)
}

// openAPIDocument is what the tests read of openapi.json.
type openAPIDocument struct {
	OpenAPI string `json:"openapi"`
	Paths   map[string]map[string]struct {
		Parameters []struct {
			Name, In string
			Required bool
		} `json:"parameters"`
		RequestBody *struct{} `json:"requestBody"`
		Responses   map[string]json.RawMessage
	} `json:"paths"`
}

var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// The OpenAPI document and the server agree: every /api/ route the server registered is
// documented, every documented operation is registered, and each answers with a documented
// status, as JSON.
func TestOpenAPIDocumentMatchesRoutes(t *testing.T) {
	e := newPublishedEnv(t)
	r := e.client().get("/api/v1/openapi.json")
	wantStatus(t, r, http.StatusOK)
	var doc openAPIDocument
	decodeJSON(t, r, &doc)
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}

	registered := map[string]bool{}
	for _, rt := range e.s.Routes() {
		if !isAPI(rt.Path) {
			continue
		}
		path := fiberParam.ReplaceAllString(rt.Path, "{$1}")
		key := strings.ToLower(rt.Method) + " " + path
		registered[key] = true
		if _, ok := doc.Paths[path][strings.ToLower(rt.Method)]; !ok {
			t.Errorf("%s %s is registered but not documented", rt.Method, rt.Path)
		}
	}

	// Values that name real things, so that reads answer 200.
	values := map[string]string{"period": "2026Q4", "id": reportRed, "estate": "e1"}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if !registered[method+" "+path] {
				t.Errorf("%s %s is documented but not registered", strings.ToUpper(method), path)
				continue
			}
			target := regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`).ReplaceAllStringFunc(path, func(m string) string { return values[m[1:len(m)-1]] })
			query := url.Values{}
			for _, p := range op.Parameters {
				if p.In == "query" && p.Required {
					query.Set(p.Name, "阳光")
				}
			}
			if len(query) > 0 {
				target += "?" + query.Encode()
			}
			c := e.client()
			c.header.Set("X-Forwarded-For", "198.51.100."+strconv.Itoa(len(target)%250)) // not the walk's rate limit
			var resp *response
			if op.RequestBody != nil {
				// An empty object: every write refuses it, and says so as documented.
				resp = c.doRaw(strings.ToUpper(method), target, strings.NewReader(`{}`), map[string]string{"Content-Type": "application/json"})
			} else {
				resp = c.get(target)
			}
			status := strconv.Itoa(resp.StatusCode)
			if _, ok := op.Responses[status]; !ok {
				t.Errorf("%s %s answered %s, which is not documented (%s)", strings.ToUpper(method), target, status, keys(op.Responses))
			}
			if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusNotModified && !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%s %s: Content-Type %q", strings.ToUpper(method), target, ct)
			}
			if resp.StatusCode == http.StatusOK && resp.Header.Get("ETag") == "" {
				t.Errorf("%s %s: no ETag", strings.ToUpper(method), target)
			}
		}
	}
}

func keys[V any](m map[string]V) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// The document is valid JSON with every $ref resolving.
func TestOpenAPIReferencesResolve(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`"\$ref":\s*"#/([^"]+)"`).FindAllStringSubmatch(string(openAPIDoc), -1)
	if len(refs) == 0 {
		t.Fatal("no references")
	}
	for _, m := range refs {
		var node any = doc
		for _, part := range strings.Split(m[1], "/") {
			obj, ok := node.(map[string]any)
			if !ok || obj[part] == nil {
				t.Errorf("$ref #/%s does not resolve", m[1])
				break
			}
			node = obj[part]
		}
	}
}

// Requests refused at the edges of the API: a malformed multipart body gets the API's JSON
// answer, not an HTML page; requests that fasthttp refuses before routing (431, 413) are
// answered and still leave a line in the log.
func TestAPIEdges(t *testing.T) {
	e := newEnv(t)
	var logs mongodbtest.Buffer
	s, err := New(Config{DB: e.db, Log: slog.New(slog.NewJSONHandler(&logs, nil)), Now: e.clock.Now, PublicURL: testPublicURL})
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	base := serve(t, e)

	for _, path := range []string{"/api/v1/disclosures", "/api/v1/ratings"} {
		resp, err := http.Post(base+path, "multipart/form-data; boundary=xyz",
			strings.NewReader("--xyz\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--broken"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnsupportedMediaType || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Errorf("malformed multipart to %s: %d %s\n%s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}

	big := func(req *http.Request) int {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/periods", nil)
	req.Header.Set("X-Padding", strings.Repeat("a", 64<<10))
	if got := big(req); got != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("64 KiB header: status %d, want 431", got)
	}
	// A body over the limit is refused on its Content-Length, before it is sent.
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/ratings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", BodyLimit+1)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("body over the limit: status %d, want 413", resp.StatusCode)
	}
	for _, status := range []string{`"status":431`, `"status":413`} {
		if !strings.Contains(logs.String(), status) {
			t.Errorf("no log line with %s:\n%s", status, logs.String())
		}
	}
}
