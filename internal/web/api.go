package web

import (
	_ "embed"
	"encoding/json"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/reports"
	"github.com/propcredit/propcredit/scoring"
)

// The public API, for bid evaluation systems and others: published grades only, no log-in,
// JSON in and out, an ETag on every answer (If-None-Match gives 304), a rate limit per client
// address, and errors as {"error": message, "request_id": id}. openapi.json documents it,
// and a test holds the document and the routes to each other.

//go:embed openapi.json
var openAPIDoc []byte

var openAPIResponse = newCachedResponse(fiber.MIMEApplicationJSONCharsetUTF8, openAPIDoc, true)

// maxSearchResults bounds a company search.
const maxSearchResults = 50

func (r *reportSite) apiRoutes() {
	s := r.s
	s.handle(fiber.MethodGet, "/api/v1/openapi.json", Public, r.limited(r.openAPI))
	s.handle(fiber.MethodGet, "/api/v1/periods", Public, r.limited(r.apiPeriods))
	s.handle(fiber.MethodGet, "/api/v1/periods/:period/grades", Public, r.limited(r.apiGrades))
	s.handle(fiber.MethodGet, "/api/v1/companies", Public, r.limited(r.apiSearch))
	s.handle(fiber.MethodGet, "/api/v1/companies/:id", Public, r.limited(r.apiCompany))
}

// limited puts the per-address rate limit in front of h.
func (r *reportSite) limited(h fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if after, ok := r.limiter.Take(ClientIP(c), r.s.now()); !ok {
			return RateLimited(Msg(c, "error.rate_limited"), after)
		}
		return h(c)
	}
}

func (r *reportSite) openAPI(c *fiber.Ctx) error { return sendCached(c, openAPIResponse) }

// marshalAPI writes v as the API's JSON: indented by two spaces, ending in a newline, like
// the exported results.
func marshalAPI(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	return append(b, '\n'), err
}

func jsonResponse(v any, compress bool) (*cachedResponse, error) {
	b, err := marshalAPI(v)
	if err != nil {
		return nil, err
	}
	return newCachedResponse(fiber.MIMEApplicationJSONCharsetUTF8, b, compress), nil
}

// apiPublication is a publication as the API describes it.
type apiPublication struct {
	Period      string    `json:"period"`
	Publication int       `json:"publication"`
	PublishedAt time.Time `json:"published_at"`
	Ruleset     string    `json:"ruleset"`
	RulesetHash string    `json:"ruleset_hash"`
	InputsHash  string    `json:"inputs_hash"`
}

func apiPublicationOf(p reports.Publication) apiPublication {
	return apiPublication{Period: p.Period, Publication: p.Seq, PublishedAt: p.PublishedAt.In(domain.Zone),
		Ruleset: p.Ruleset, RulesetHash: p.RulesetHash, InputsHash: p.InputsHash}
}

type apiPeriod struct {
	apiPublication
	Grades string `json:"grades"` // the URL of its grades
}

func (r *reportSite) apiPeriods(c *fiber.Ctx) error {
	st, err := r.published(c)
	if err != nil {
		return err
	}
	return sendResponse(c, st, "api|periods", func() (*cachedResponse, error) {
		out := struct {
			Periods []apiPeriod `json:"periods"`
		}{Periods: []apiPeriod{}}
		for _, p := range st.city.Periods() {
			out.Periods = append(out.Periods, apiPeriod{apiPublicationOf(p.Pub), "/api/v1/periods/" + p.ID() + "/grades"})
		}
		return jsonResponse(out, true)
	})
}

// apiGrades answers INTERCHANGE.md's exported results of the period's latest publication.
func (r *reportSite) apiGrades(c *fiber.Ctx) error {
	st, p, err := r.publishedPeriod(c)
	if err != nil {
		return err
	}
	return sendResponse(c, st, "api|grades|"+p.Pub.ID+"|"+p.Pub.Status, func() (*cachedResponse, error) {
		b, err := gradesJSON(p)
		if err != nil {
			return nil, err
		}
		return newCachedResponse(fiber.MIMEApplicationJSONCharsetUTF8, b, true), nil
	})
}

// apiGrade is a company's grade in one publication.
type apiGrade struct {
	apiPublication
	Score      scoring.Fixed      `json:"score"`
	Grade      string             `json:"grade"`
	List       string             `json:"list"`
	Rank       int                `json:"rank"`
	Companies  int                `json:"companies"` // how many were ranked
	Components scoring.Components `json:"components"`
	Estates    int                `json:"estates"`
	Ratings    int64              `json:"ratings"`
}

func apiGradeOf(h reports.HistoryEntry) apiGrade {
	g := h.Grade
	return apiGrade{apiPublication: apiPublicationOf(h.Period.Pub), Score: g.Score, Grade: g.Grade, List: g.List, Rank: g.Rank,
		Companies: len(h.Period.Result.Grades), Components: g.Components, Estates: g.Estates, Ratings: g.Ratings}
}

type apiCompanyRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func (r *reportSite) apiCompany(c *fiber.Ctx) error {
	st, err := r.published(c)
	if err != nil {
		return err
	}
	id := c.Params("id")
	history := st.city.CompanyHistory(id)
	if len(history) == 0 {
		return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "report.no_such_company", id))
	}
	return sendResponse(c, st, "api|company|"+id, func() (*cachedResponse, error) {
		name, _ := st.city.CompanyName(id)
		out := struct {
			Company apiCompanyRef `json:"company"`
			Current apiGrade      `json:"current"`
			History []apiGrade    `json:"history"`
		}{Company: apiCompanyRef{id, name}}
		for _, h := range history {
			out.History = append(out.History, apiGradeOf(h))
		}
		out.Current = out.History[len(out.History)-1]
		return jsonResponse(out, true)
	})
}

type apiMatch struct {
	apiCompanyRef
	Current *apiGrade `json:"current"` // null when no publication graded it
}

func (r *reportSite) apiSearch(c *fiber.Ctx) error {
	q := strings.TrimSpace(c.Query("q"))
	switch {
	case q == "":
		return derrors.FieldErrors(Msg(c, "api.q_required"), map[string]string{"q": Msg(c, "api.q_required")})
	case utf8.RuneCountInString(q) > maxQueryLen || !utf8.ValidString(q):
		return derrors.FieldErrors(Msg(c, "report.q_too_long", maxQueryLen), map[string]string{"q": Msg(c, "report.q_too_long", maxQueryLen)})
	}
	st, err := r.published(c)
	if err != nil {
		return err
	}
	matches := st.city.Search(q, maxSearchResults+1)
	out := struct {
		Query     string     `json:"query"`
		Companies []apiMatch `json:"companies"`
		Truncated bool       `json:"truncated"` // more companies match than are listed
	}{Query: q, Companies: []apiMatch{}, Truncated: len(matches) > maxSearchResults}
	for _, m := range matches[:min(len(matches), maxSearchResults)] {
		am := apiMatch{apiCompanyRef: apiCompanyRef{m.ID, m.Name}}
		if m.Latest != nil {
			g := apiGradeOf(*m.Latest)
			am.Current = &g
		}
		out.Companies = append(out.Companies, am)
	}
	// Searches are not kept: there are too many. The compress middleware compresses them.
	return sendJSON(c, out)
}

// requireJSON returns a 415 error, naming the media type to send, unless the request's body is
// declared as exactly application/json (parameters such as charset allowed; application/jsonp
// or application/json-seq are not JSON).
func requireJSON(c *fiber.Ctx) error {
	if mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType)); err == nil && mt == fiber.MIMEApplicationJSON {
		return nil
	}
	c.Set(fiber.HeaderAccept, fiber.MIMEApplicationJSON)
	return fiber.ErrUnsupportedMediaType // its message is error.media_type
}

// gradesJSON is INTERCHANGE.md's exported results of a publication, with its publicity: the
// engine's export (scoring.MarshalExport), every field as it is, and after "ruleset" the
// publication's "status" (publicity or final) and "publicity_ends" (+08:00).
func gradesJSON(p *reports.PublishedPeriod) ([]byte, error) {
	b, err := scoring.MarshalExport(p.Result)
	if err != nil {
		return nil, err
	}
	var export struct {
		Period  string          `json:"period"`
		Ruleset string          `json:"ruleset"`
		Grades  json.RawMessage `json:"grades"`
	}
	if err := json.Unmarshal(b, &export); err != nil {
		return nil, err
	}
	out := struct {
		apiPublication
		Status        string          `json:"status"`
		PublicityEnds string          `json:"publicity_ends,omitempty"`
		Grades        json.RawMessage `json:"grades"`
	}{apiPublication: apiPublicationOf(p.Pub), Status: p.Pub.Status, Grades: export.Grades}
	if !p.Pub.PublicityEnds.IsZero() {
		out.PublicityEnds = p.Pub.PublicityEnds.In(domain.Zone).Format(time.RFC3339)
	}
	b, err = json.MarshalIndent(out, "", "  ")
	return append(b, '\n'), err
}
