package web

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/disclosure"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/filing"
)

// POST /api/v1/disclosures files a disclosure for a company's own systems:
//
//	Authorization: Bearer pct_…            a token the company issued (/company/tokens)
//	Content-Type: application/json
//	{"period": "2026Q4", "estate": "e1", "category": "fees", "data": {…}}
//
// data is the category's figures with amounts as integers of fen (package disclosure's JSON,
// the same as the export writes). The answer is 201 with the filing's version, or
// {"error": …, "fields": {…}} with 400 (bad figures), 401 (no or bad token), 403 (an estate
// the token's company does not manage), 404, 409 (a period not yet begun), 413 or 415. There
// are no cookies and no CSRF token: the bearer token is the only credential.

// maxDisclosureAPIBody bounds a filing's JSON: MaxLines lines of every list fit easily.
const maxDisclosureAPIBody = 1 << 20

type discAPIRequest struct {
	Period   string          `json:"period"`
	Estate   string          `json:"estate"`
	Category string          `json:"category"`
	Data     json.RawMessage `json:"data"`
}

type discAPIResponse struct {
	Period        string    `json:"period"`
	Estate        string    `json:"estate"`
	Category      string    `json:"category"`
	Version       int       `json:"version"`
	Draft         int       `json:"draft"`
	Status        string    `json:"status"`
	FiledAt       time.Time `json:"filed_at"`
	Late          bool      `json:"late"`
	ReplacedDraft bool      `json:"replaced_draft"`
}

func (d *disclosureSite) apiFile(c *fiber.Ctx) error {
	// The media type is checked first: a browser's form post is not an API call, whoever
	// sends it, and says so without touching the token store.
	if err := requireJSON(c); err != nil {
		return err
	}
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	token, err := d.apiToken(c)
	if err != nil {
		return err
	}
	if len(c.Body()) > maxDisclosureAPIBody {
		return fiber.ErrRequestEntityTooLarge
	}
	var req discAPIRequest
	dec := json.NewDecoder(bytes.NewReader(c.Body()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		return derrors.Errorf(derrors.Invalid, "%s", Msg(c, "api.bad_json"))
	}
	fields := map[string]string{}
	for name, v := range map[string]string{"period": req.Period, "estate": req.Estate, "category": req.Category} {
		if strings.TrimSpace(v) == "" {
			fields[name] = Msg(c, "api.required", name)
		}
	}
	if len(req.Data) == 0 || string(req.Data) == "null" {
		fields["data"] = Msg(c, "api.required", "data")
	}
	if req.Category != "" && !disclosure.IsCategory(req.Category) {
		fields["category"] = Msg(c, "api.category_bad", strings.Join(domain.DisclosureCategories, ", "))
	}
	if len(fields) > 0 {
		return derrors.FieldErrors(domain.JoinFieldMessages(fields), fields)
	}
	p, err := d.s.db.Period(ctx, req.Period)
	if derrors.Code(err) == derrors.NotFound {
		return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "api.no_period", req.Period))
	} else if err != nil {
		return err
	}
	e, err := d.s.db.Estate(ctx, req.Estate)
	if derrors.Code(err) == derrors.NotFound {
		return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "api.no_estate", req.Estate))
	} else if err != nil {
		return err
	}
	if e.Company != token.Company {
		return derrors.Errorf(derrors.Forbidden, "%s", Msg(c, "api.not_yours", req.Estate))
	}
	k := discKey{Period: p, Estate: e, Category: req.Category}
	if err := d.checkStarted(c, k); err != nil {
		return err
	}
	data, ps := disclosure.Decode(req.Category, "data", req.Data)
	if len(ps) > 0 {
		return ps.Err(Lang(c))
	}
	now := d.s.now()
	res, err := d.s.filings.FileDisclosure(ctx, filing.NewFiling{Period: p.ID, Estate: e.ID, Category: req.Category,
		Data: disclosure.Marshal(data), FiledBy: "token " + token.Ref, Source: filing.FiledAPI, At: now})
	if err != nil {
		return err
	}
	d.cache.put(res.Filing)
	// The token acts for the company account that issued it; the entry names the token too.
	who := audit.Actor{Name: token.CreatedBy, Role: domain.RoleCompany}
	if err := d.s.auditedAs(c, who, filedChange(k, res.Filing, filing.FiledAPI, token.Ref)); err != nil {
		return err
	}
	d.s.log.Info("disclosure filed", "period", p.ID, "estate", e.ID, "category", req.Category, "version", res.Filing.Version,
		"draft", res.Filing.Draft, "source", filing.FiledAPI, "token", token.Ref, "request_id", RequestID(c))
	f := res.Filing
	return c.Status(fiber.StatusCreated).JSON(discAPIResponse{Period: f.Period, Estate: f.Estate, Category: f.Category,
		Version: f.Version, Draft: f.Draft, Status: f.Status, FiledAt: f.FiledAt.In(domain.Zone),
		Late: disclosure.Late(p, f.FiledAt), ReplacedDraft: res.ReplacedDraft})
}

// apiToken authenticates the request's bearer token. Every failure looks the same, with the
// WWW-Authenticate header that RFC 6750 asks for.
func (d *disclosureSite) apiToken(c *fiber.Ctx) (domain.APIToken, error) {
	ctx, cancel := d.s.dbContext(c)
	defer cancel()
	scheme, token, _ := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	t, err := domain.APIToken{}, error(nil)
	if strings.EqualFold(scheme, "Bearer") {
		t, err = d.s.db.AuthenticateToken(ctx, strings.TrimSpace(token))
	} else {
		err = derrors.Errorf(derrors.Unauthorized, "no token")
	}
	if derrors.Code(err) == derrors.Unauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="propcredit"`)
		return t, derrors.Errorf(derrors.Unauthorized, "%s", Msg(c, "api.bad_token"))
	}
	return t, err
}

func init() {
	addMessages(map[string]message{
		"api.bad_token":    {"缺少或无效的接口令牌（Authorization: Bearer …）", "Missing, invalid or revoked API token (Authorization: Bearer …)"},
		"api.bad_json":     {"请求体不是有效的JSON，或含有未知字段（只允许 period、estate、category、data）", "The body is not valid JSON, or has unknown fields (only period, estate, category, data)"},
		"api.required":     {"缺少%s", "%s is required"},
		"api.category_bad": {"category必须是以下之一：%s", "category must be one of %s"},
		"api.no_period":    {"评价期“%s”不存在", "period %q does not exist"},
		"api.no_estate":    {"小区“%s”不存在", "estate %q does not exist"},
		"api.not_yours":    {"该令牌所属企业不管理小区“%s”", "the token's company does not manage estate %q"},
	})
}
