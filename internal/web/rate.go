package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/rating"
)

// Owners rate their property company online (线上评价). An owner proves residence with the
// household code the bureau issued to the flat for the period (see rate_codes.go), and may
// rate again with the same code: every version is kept and the latest counts. There is no
// account and no session: the form works for anonymous visitors, with JavaScript off, and the
// same rules hold for the JSON API.
//
// Abuse: the store locks a code after repeated wrong guesses; wrong or unknown codes are also
// limited per client address and per estate (rating.Service.ProveHousehold), in this process's
// memory or, with several servers, in the database (Config.Limits). Only failures take tokens,
// because in China many households share one carrier-grade NAT address: a valid code is what
// lets an owner in, and a busy address must not shut out its honest owners.

// rateRoutes registers the owners' rating form and API, receipts, and household codes.
func (s *Server) rateRoutes() {
	r := newRater(s)
	s.handle(fiber.MethodGet, "/rate/:estate", Public, r.form)
	s.handle(fiber.MethodPost, "/rate/:estate", Public, s.byEstate(submittedEstate, formKey, r.submitForm))
	s.handle(fiber.MethodPost, "/rate/:estate/revise", Public, r.reviseForm)
	s.handle(fiber.MethodGet, "/receipt", Public, r.findReceipt)
	s.handle(fiber.MethodGet, "/receipt/:number", Public, r.receipt)
	s.handle(fiber.MethodPost, "/api/v1/ratings", Public, s.byEstate(submittedEstate, apiKey, r.submitAPI))
	// The same with the estate in the path, so that a load balancer can send each estate's
	// owners to one server by hashing the path (docs/SCALING.md), as it can for /rate/<estate>.
	s.handle(fiber.MethodPost, "/api/v1/estates/:estate/ratings", Public, s.byEstate(submittedEstate, apiKey, r.submitAPI))
	issuers := Roles(domain.RoleReviewer, domain.RoleAdmin)
	s.handle(fiber.MethodGet, "/codes", issuers, r.codesForm)
	s.handle(fiber.MethodPost, "/codes", issuers, r.issueCodes)
	s.addNav("nav.codes", "/codes", issuers)
}

// Limits of owners' input.
const (
	maxComment     = 500 // characters; domain.Rating says the same
	maxCodeInput   = 40
	maxAPIBody     = 16 << 10
	maxIdemKey     = 128
	maxReceiptText = 32
)

// rater holds what the rating pages keep between requests: short caches of the periods and
// estates that every submission needs, so that the hot path reads
// only what changes (codes and ratings).
type rater struct {
	s *Server

	periodsMu sync.Mutex
	periods   []domain.Period
	periodsAt time.Time

	estatesMu sync.Mutex
	estates   map[string]estateEntry

	slots chan struct{} // see admit
}

// submitSlots is how many submissions check codes and write ratings at once; see admit. The
// store commits waiting ratings in groups (internal/mongodb/batch.go), so more submissions in
// flight make larger groups rather than a queue on SQLite's write lock; the bound keeps a
// flood from holding unbounded memory.
var submitSlots = 256

// Cache lifetimes, in wall-clock time (not the server's clock, which tests move). A new or
// changed period or estate shows within these.
const (
	periodsTTL      = 5 * time.Second
	estateTTL       = 30 * time.Second
	missingEstateTT = 5 * time.Second
	maxCachedEstate = 50_000
)

type estateEntry struct {
	estate  domain.Estate
	company string // the company's name
	found   bool
	at      time.Time
}

func newRater(s *Server) *rater {
	return &rater{s: s, estates: map[string]estateEntry{}, slots: make(chan struct{}, submitSlots)}
}

func init() {
	addTemplateFuncs(map[string]any{
		// stars draws n of five stars, for showing a mark back to the owner.
		"stars": func(n int) string { return strings.Repeat("★", n) + strings.Repeat("☆", max(0, 5-n)) },
	})

	addMessages(map[string]message{
		"nav.codes": {"住户验证码", "Household codes"},

		"rate.title":           {"业主线上评价", "Rate your property company"},
		"rate.intro":           {"请对本小区物业服务企业在本评价期内的服务打分。每户一票，凭住户验证码提交；可以修改，以最后一次提交为准。", "Rate the service of your estate's property company in this period. One rating per flat, with your household code; you may change it, and the last one counts."},
		"rate.estate":          {"小区", "Estate"},
		"rate.company":         {"物业服务企业", "Property company"},
		"rate.period":          {"评价期", "Period"},
		"rate.period_range":    {"%s（%s 至 %s）", "%s (%s to %s)"},
		"rate.household":       {"房号", "Flat"},
		"rate.household_hint":  {"与验证码纸条上的房号一致，例如 3-2-1201", "As on your code slip, for example 3-2-1201"},
		"rate.code":            {"住户验证码", "Household code"},
		"rate.code_hint":       {"10位字母和数字，不区分大小写", "10 letters and digits; case does not matter"},
		"rate.scores":          {"评分（1分最低，5分最高）", "Scores (1 lowest, 5 highest)"},
		"rate.score.1":         {"很不满意", "Very poor"},
		"rate.score.2":         {"不满意", "Poor"},
		"rate.score.3":         {"一般", "Fair"},
		"rate.score.4":         {"满意", "Good"},
		"rate.score.5":         {"很满意", "Very good"},
		"rate.comment":         {"意见和建议（选填，不超过500字）", "Comments (optional, at most 500 characters)"},
		"rate.submit":          {"提交评价", "Submit rating"},
		"rate.privacy":         {"评价不公开您的房号；系统只保存提交时间和经过加密处理的网络地址，用于防止刷票。", "Your flat is never published; only the time of submission and a one-way hash of your network address are kept, against ballot stuffing."},
		"rate.fix":             {"请更正标出的项目后重新提交", "Please correct the marked fields and submit again"},
		"rate.estate_unknown":  {"小区不存在，请核对评价网址", "No such estate; check the address of the rating page"},
		"rate.closed":          {"本期评价已结束", "Rating for this period has ended"},
		"rate.closed_detail":   {"%s 评价期已于 %s 结束。感谢您的关注。", "Period %s ended on %s. Thank you for your interest."},
		"rate.not_started":     {"评价尚未开始", "Rating has not started yet"},
		"rate.not_started_at":  {"下一期评价（%s）将于 %s 开始。", "The next period (%s) starts on %s."},
		"rate.household_req":   {"请输入房号", "Enter your flat"},
		"rate.code_required":   {"请输入住户验证码", "Enter your household code"},
		"rate.code_too_long":   {"验证码格式不正确", "That is not a household code"},
		"rate.code_unknown":    {"该住户尚未发放验证码，请核对房号或联系社区、物业服务中心", "No code has been issued to this flat for this period; check the flat, or ask your community office"},
		"rate.code_wrong":      {"验证码错误，请核对后重新输入", "Wrong code; check it and try again"},
		"rate.code_voided":     {"该验证码已失效：本户的验证码已重新发放，请使用最新发放的验证码", "This code is no longer valid: a new code has been issued to this flat. Use the newest one."},
		"rate.code_locked":     {"错误次数过多：此手机（网络）输错该房号的验证码已达5次，请在 %s 之后再试。若确认验证码无误，可换用其他手机或网络提交，不受影响；验证码遗失或对不上，请联系发放验证码的社区或住建部门重新发放。", "Too many wrong codes: this phone (network) has sent 5 wrong codes for this flat. Try again after %s. If you are sure of your code, another phone or network can use it now; if the code is lost or does not match, ask the community office or housing bureau that gave it to issue a new one."},
		"rate.code_wrong_left": {"验证码错误，请核对纸条上的验证码。本手机（网络）本小时内还可再试 %d 次。", "Wrong code: check the code on your slip. This phone (network) may try %d more times this hour."},
		"rate.too_many":        {"尝试次数过多，请%d分钟后再试", "Too many attempts. Try again in %d minutes."},
		"rate.score_required":  {"请为“%s”选择1-5分", "Choose 1 to 5 for “%s”"},
		"rate.comment_long":    {"意见和建议不能超过500字（现有%d字）", "Comments must be at most 500 characters (these are %d)"},
		"rate.comment_invalid": {"意见和建议含有无法识别的字符", "Comments contain characters that cannot be stored"},
		"rate.revisions":       {"本期修改次数已达上限，无法再次提交", "This flat has changed its rating too often in this period"},
		"rate.key_reused":      {"这份表单之前已提交过，刚才的新评分没有保存。如要改为现在的评分，请核对后再提交一次，将作为修改记录保存。", "This form was submitted before, and the new marks were not saved. To change your rating to these marks, check them and submit again: they will be saved as a revision."},
		"rate.unavailable":     {"系统暂时无法保存评价，您的评价没有提交成功。请稍后用本页再提交一次（只会计入一次）。", "The system cannot save ratings just now: yours was not saved. Please send this page again in a little while; it will be counted once."},
		"rate.key_in_flight":   {"您的上一次提交仍在保存中，请稍候几秒再提交一次（不会重复计入）。", "Your previous submission is still being saved. Wait a few seconds and submit again; it will be counted once."},

		"rate.done.title":    {"评价已提交", "Rating submitted"},
		"rate.done.thanks":   {"感谢您的评价！您的评价已计入本期结果。", "Thank you! Your rating counts in this period's results."},
		"rate.done.revised":  {"这是您本期第%d次提交，之前的评价已被替换，只计最后一次。", "This is submission %d of your flat in this period; it replaces the earlier ones, and only the last counts."},
		"rate.done.receipt":  {"回执编号", "Receipt number"},
		"rate.done.keep":     {"请保存回执编号，可随时查询评价是否已计入。凭回执编号查询时不显示房号和评分。", "Keep the receipt number to check at any time that your rating is counted. Looking it up shows neither your flat nor your scores."},
		"rate.done.check":    {"查询回执", "Check the receipt"},
		"rate.done.again":    {"修改评价", "Change my rating"},
		"rate.done.what":     {"您提交的评价", "What you submitted"},
		"rate.done.comment":  {"意见和建议", "Comment"},
		"rate.done.results":  {"本期评价到 %s 结束。住建部门汇总审核后公布结果，届时可在“红黑榜”和本小区页面查看。结果公布前可随时修改评价，以最后一次为准。", "This period's rating closes on %s. The housing bureau publishes the results after reviewing them, on the red and black lists and on your estate's page. Until then you may change your rating; the last one counts."},
		"rate.done.estate":   {"查看本小区页面", "See your estate's page"},
		"rate.revising":      {"已为您填好上次提交的内容。修改后请再次输入评价码提交，以最后一次提交为准。", "The form holds what you submitted. Change what you like, type your code again and submit; the last submission counts."},
		"receipt.title":      {"评价回执", "Rating receipt"},
		"receipt.counted":    {"该评价已计入本期结果。", "This rating is counted."},
		"receipt.superseded": {"该评价已被同一住户之后的提交取代，以最后一次提交为准。", "This rating was replaced by a later one from the same flat; the last one counts."},
		"receipt.number":     {"回执编号", "Receipt number"},
		"receipt.submitted":  {"提交时间", "Submitted"},
		"receipt.revision":   {"本户第几次提交", "Submission of this flat"},
		"receipt.not_found":  {"未找到该回执，请核对编号", "No such receipt; check the number"},
	})
}

// ratingInput is one owner's submission as typed, from the form or the API.
type ratingInput struct {
	Estate    string
	Household string
	Code      string
	Scores    domain.Scores
	Comment   string
	// IdempotencyKey makes a repeated request count once: a random value in the form, or the
	// API's Idempotency-Key header.
	IdempotencyKey string
	// Problems found while parsing (a score that is not a number), by field.
	Problems map[string]string
}

// rateForm is what the form shows and keeps when it comes back with messages.
type rateForm struct {
	Household, Code, Comment string
	Scores                   map[string]int
	Key                      string
}

type dimensionView struct {
	ID, Label string
	Error     string
	Options   []scoreOption
}

type scoreOption struct {
	Value   int
	Word    string
	Checked bool
}

type rateFormData struct {
	Estate      domain.Estate
	CompanyName string
	Period      domain.Period
	Open        bool
	// Closed and ClosedDetail say why the form is not shown.
	Closed, ClosedDetail string
	Form                 rateForm
	Dimensions           []dimensionView
	Fields               map[string]string
	Error                string
	MaxComment           int
	Revising             bool // reopened to change a submitted rating
}

type rateDoneData struct {
	EstateName string
	Receipt    rating.Receipt
	Period     domain.Period
	// What was submitted, shown back to the owner, and kept in the hidden fields of the
	// "change my rating" form (never in a link, which a browser's history would keep).
	Household  string
	Dimensions []dimensionView
	Comment    string
}

// form shows the rating form of an estate, or why it is closed. The QR code on a household's
// slip adds ?flat=, which fills in the flat.
func (r *rater) form(c *fiber.Ctx) error {
	data, err := r.formData(c)
	if err != nil {
		return err
	}
	if flat := c.Query("flat"); domain.IsIdent(flat) {
		data.Form.Household = strings.Clone(flat)
	}
	data.Form.Key = randomString(18)
	return r.s.render(c, "rate", data)
}

// formData looks up the estate and the period for the form.
func (r *rater) formData(c *fiber.Ctx) (rateFormData, error) {
	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	e, err := r.estate(ctx, c, c.Params("estate"))
	if err != nil {
		return rateFormData{}, err
	}
	data := rateFormData{Estate: e.estate, CompanyName: e.company, MaxComment: maxComment}
	period, open, err := r.openPeriod(ctx, c, &data)
	if err != nil {
		return rateFormData{}, err
	}
	data.Period, data.Open = period, open
	data.Dimensions = dimensions(Lang(c), nil, nil)
	return data, nil
}

func dimensions(lang string, scores map[string]int, fields map[string]string) []dimensionView {
	out := make([]dimensionView, len(domain.Dimensions))
	for i, d := range domain.Dimensions {
		label := d.Label
		if lang == domain.LangEN {
			label = d.LabelEN
		}
		out[i] = dimensionView{ID: d.ID, Label: label, Error: fields["scores."+d.ID]}
		for v := 1; v <= 5; v++ {
			out[i].Options = append(out[i].Options, scoreOption{Value: v, Word: T(lang, "rate.score."+strconv.Itoa(v)), Checked: scores[d.ID] == v})
		}
	}
	return out
}

var formKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// postedScores reads the six marks of a posted form: marks in Dimensions order (0 where a
// mark is missing or not a number, which validation reports) and the valid ones by id.
func postedScores(c *fiber.Ctx) ([6]int, map[string]int) {
	marks, valid := [6]int{}, map[string]int{}
	for i, d := range domain.Dimensions {
		n, err := strconv.Atoi(c.FormValue(d.ID))
		if err != nil {
			n = 0
		}
		marks[i] = n
		if n >= 1 && n <= 5 {
			valid[d.ID] = n
		}
	}
	return marks, valid
}

// reviseForm reopens the form from the page that confirmed a rating ("change my rating"),
// filled in with what was submitted: flat, marks and comment. Only the code must be typed
// again. Nothing is stored.
func (r *rater) reviseForm(c *fiber.Ctx) error {
	data, err := r.formData(c)
	if err != nil {
		return err
	}
	_, scores := postedScores(c)
	data.Form = rateForm{Comment: c.FormValue("comment"), Scores: scores, Key: randomString(18)}
	if flat := strings.TrimSpace(c.FormValue("household")); domain.IsIdent(flat) {
		data.Form.Household = flat
	}
	if len(data.Form.Comment) > 4*maxComment {
		data.Form.Comment = ""
	}
	data.Revising = true
	data.Dimensions = dimensions(Lang(c), scores, nil)
	return r.s.render(c, "rate", data)
}

// submitForm takes the form. Mistakes bring the form back with everything typed still in it.
func (r *rater) submitForm(c *fiber.Ctx) error {
	data, err := r.formData(c)
	if err != nil {
		return err
	}
	in := ratingInput{
		Estate:    data.Estate.ID,
		Household: strings.TrimSpace(c.FormValue("household")),
		Code:      strings.TrimSpace(c.FormValue("code")),
		Comment:   c.FormValue("comment"),
		Problems:  map[string]string{},
	}
	marks, scores := postedScores(c) // a missing mark is reported as "choose 1 to 5" below
	form := rateForm{Household: in.Household, Code: in.Code, Comment: in.Comment, Scores: scores}
	in.Scores = domain.ScoresOf(marks)
	if key := c.FormValue("key"); formKeyPattern.MatchString(key) {
		in.IdempotencyKey, form.Key = key, key
	} else {
		form.Key = randomString(18)
	}
	data.Form = form
	if !data.Open {
		return r.s.renderStatus(c, fiber.StatusConflict, "rate", data)
	}

	rc, err := r.submit(c, in, data.Period, rating.SourceWeb)
	if err == nil {
		return r.s.render(c, "rate_done", rateDoneData{EstateName: data.Estate.Name, Receipt: rc, Period: data.Period,
			Household: in.Household, Dimensions: dimensions(Lang(c), form.Scores, nil), Comment: in.Comment})
	}
	var ke *keyError
	if errors.As(err, &ke) {
		// This form was submitted before (Back, or a reload) with other marks. Those were
		// stored; these were not. The form comes back with them and a new key, so that
		// submitting it again stores them as a revision.
		if ke.status == fiber.StatusUnprocessableEntity {
			data.Form.Key = randomString(18)
		}
		data.Error = ke.msg
		data.Dimensions = dimensions(Lang(c), form.Scores, nil)
		return r.s.renderStatus(c, ke.status, "rate", data)
	}
	var de *derrors.Error
	if !errors.As(err, &de) {
		return err
	}
	// The form comes back with the error for these codes, with errors.go's status, except that
	// field errors are 422 (the form was understood; its values were not acceptable).
	status := statusOf[de.Code]
	switch de.Code {
	case derrors.Invalid:
		status = fiber.StatusUnprocessableEntity
	case derrors.RateLimited:
		var ra *retryAfterError
		if errors.As(err, &ra) {
			setRetryAfter(c, ra.after)
		} else {
			setRetryAfter(c, time.Hour)
		}
	case derrors.Forbidden, derrors.Conflict:
	case derrors.Unavailable:
		// The store takes no writes now: the form comes back as filled in, so that the owner
		// can send it again later; its key makes sure it counts once.
		setRetryAfter(c, 30*time.Second)
		r.s.log.Warn("rating not stored", "err", err, "request_id", RequestID(c))
		data.Error = Msg(c, "rate.unavailable")
		data.Dimensions = dimensions(Lang(c), form.Scores, nil)
		return r.s.renderStatus(c, status, "rate", data)
	default:
		return err
	}
	data.Fields, data.Error = de.Fields, de.Message
	if de.Code == derrors.Invalid {
		data.Error = Msg(c, "rate.fix")
	}
	data.Dimensions = dimensions(Lang(c), form.Scores, de.Fields)
	return r.s.renderStatus(c, status, "rate", data)
}

// submit checks and stores one rating in the open period. Its errors are *derrors.Error with
// messages in the request's language, and Fields keyed as in the API ("household",
// "scores.service", ...).
func (r *rater) submit(c *fiber.Ctx, in ratingInput, period domain.Period, source string) (rating.Receipt, error) {
	now := r.s.now()
	rt := domain.Rating{Period: period.ID, Estate: in.Estate, Household: in.Household,
		SubmittedAt: now.UTC(), Scores: in.Scores, Comment: in.Comment}
	if fields := r.validate(c, rt, in); len(fields) > 0 {
		return rating.Receipt{}, derrors.FieldErrors(domain.JoinFieldMessages(fields), fields)
	}

	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	release, err := r.admit(ctx)
	if err != nil {
		return rating.Receipt{}, err
	}
	defer release()
	address := r.s.addressHash(ClientIP(c))
	var limited *rating.LimitedError
	switch err := r.s.ratings.ProveHousehold(ctx, period.ID, in.Estate, in.Household, in.Code, address, now); {
	case err == nil:
	case errors.As(err, &limited):
		minutes := int((limited.Wait + time.Minute - 1) / time.Minute)
		return rating.Receipt{}, RateLimited(Msg(c, "rate.too_many", max(minutes, 1)), limited.Wait)
	case errors.Is(err, rating.ErrCodeUnknown):
		return rating.Receipt{}, fieldError(derrors.Forbidden, "household", Msg(c, "rate.code_unknown"))
	case errors.Is(err, rating.ErrCodeWrong):
		return rating.Receipt{}, fieldError(derrors.Forbidden, "code", codeRefusalMessage(c, err))
	case errors.Is(err, rating.ErrCodeVoided):
		return rating.Receipt{}, fieldError(derrors.Forbidden, "code", Msg(c, "rate.code_voided"))
	case errors.Is(err, rating.ErrCodeLocked):
		msg := codeRefusalMessage(c, err)
		return rating.Receipt{}, &retryAfterError{after: rating.LockedUntil(err, now).Sub(now),
			err: &derrors.Error{Code: derrors.RateLimited, Message: msg, Fields: map[string]string{"code": msg}}}
	default:
		return rating.Receipt{}, err
	}

	rc, err := r.s.ratings.Submit(ctx, rating.Submission{
		Rating:         rt,
		Source:         source,
		IdempotencyKey: in.IdempotencyKey,
		IPHash:         address,
		UserAgentHash:  r.userAgentHash(c),
	})
	switch {
	case errors.Is(err, rating.ErrKeyReused):
		return rating.Receipt{}, &keyError{status: fiber.StatusUnprocessableEntity, msg: Msg(c, "rate.key_reused")}
	case errors.Is(err, rating.ErrKeyInFlight):
		setRetryAfter(c, time.Second)
		return rating.Receipt{}, &keyError{status: fiber.StatusConflict, msg: Msg(c, "rate.key_in_flight")}
	case derrors.Code(err) == derrors.Conflict:
		return rating.Receipt{}, derrors.Errorf(derrors.Conflict, "%s", Msg(c, "rate.revisions"))
	}
	if err != nil {
		return rating.Receipt{}, err
	}
	r.s.log.Info("rating submitted", "period", rc.Period, "estate", rc.Estate, "revision", rc.Revision,
		"source", source, "request_id", RequestID(c))
	return rc, nil
}

// codeRefusalMessage words a wrong or locked household code for the owner: how many tries
// this phone (address) has left for the flat, or until when it must wait, and that the
// household's right code still works from another phone or network.
func codeRefusalMessage(c *fiber.Ctx, err error) string {
	var refusal *rating.CodeRefusal
	if !errors.As(err, &refusal) {
		if errors.Is(err, rating.ErrCodeLocked) {
			return Msg(c, "rate.code_locked", rating.LockedUntil(err, time.Now()).In(domain.Zone).Format("15:04"))
		}
		return Msg(c, "rate.code_wrong")
	}
	if errors.Is(err, rating.ErrCodeLocked) {
		return Msg(c, "rate.code_locked", refusal.Until.In(domain.Zone).Format("15:04"))
	}
	return Msg(c, "rate.code_wrong_left", refusal.Remaining)
}

// keyError answers a repeated idempotency key (rating.ErrKeyReused, rating.ErrKeyInFlight)
// with its own status: 422 and 409, which no derrors code maps to.
type keyError struct {
	status int
	msg    string
}

func (e *keyError) Error() string { return e.msg }

func fieldError(code, field, msg string) *derrors.Error {
	return &derrors.Error{Code: code, Message: msg, Fields: map[string]string{field: msg}}
}

// validate checks the rating with the domain's rules and words each problem for owners: the
// validator names fields by their JSON names, which mean nothing to them.
func (r *rater) validate(c *fiber.Ctx, rating domain.Rating, in ratingInput) map[string]string {
	lang := Lang(c)
	fields := map[string]string{}
	if err := r.s.val.Check(rating, lang); err != nil {
		var de *derrors.Error
		if !errors.As(err, &de) {
			return map[string]string{"rating": err.Error()}
		}
		for f, m := range de.Fields {
			fields[f] = m
		}
	}
	if _, ok := fields["scores"]; ok {
		// The validator stops at a zero Scores (none given at all): name each dimension.
		delete(fields, "scores")
		for i, v := range rating.Scores.Array() {
			if v < 1 || v > 5 {
				fields["scores."+domain.Dimensions[i].ID] = ""
			}
		}
	}
	for f := range fields {
		switch {
		case strings.HasPrefix(f, "scores."):
			fields[f] = T(lang, "rate.score_required", dimensionLabel(lang, strings.TrimPrefix(f, "scores.")))
		case f == "household" && rating.Household == "":
			fields[f] = T(lang, "rate.household_req")
		case f == "household":
			fields[f] = T(lang, "rate.household") + strings.TrimPrefix(fields[f], "household")
		case f == "comment":
			fields[f] = T(lang, "rate.comment_long", utf8.RuneCountInString(rating.Comment))
		}
	}
	if !storable(rating.Comment) {
		fields["comment"] = T(lang, "rate.comment_invalid")
	}
	switch {
	case in.Code == "":
		fields["code"] = T(lang, "rate.code_required")
	case len(in.Code) > maxCodeInput:
		fields["code"] = T(lang, "rate.code_too_long")
	}
	for f, m := range in.Problems {
		fields[f] = m
	}
	return fields
}

// storable reports whether a comment can be stored and shown as typed: valid UTF-8 without
// control characters other than line breaks and tabs.
func storable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

func dimensionLabel(lang, id string) string {
	for _, d := range domain.Dimensions {
		if d.ID == id {
			if lang == domain.LangEN {
				return d.LabelEN
			}
			return d.Label
		}
	}
	return id
}

// userAgentHash is a salted hash of the browser's User-Agent, kept with the rating so that a
// burst of ratings from one client can be recognised without storing what it was.
func (r *rater) userAgentHash(c *fiber.Ctx) string {
	m := hmac.New(sha256.New, r.s.ipSalt)
	m.Write([]byte("ua|" + c.Get(fiber.HeaderUserAgent)))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// apiRating is the body of POST /api/v1/ratings.
type apiRating struct {
	Estate    string        `json:"estate"`
	Household string        `json:"household"`
	Code      string        `json:"code"`
	Scores    domain.Scores `json:"scores"`
	Comment   string        `json:"comment"`
}

// submitAPI is POST /api/v1/ratings, and /api/v1/estates/<estate>/ratings with the estate in
// the path (the body may then leave it out, or must name the same): the form's rules, in JSON,
// without cookies or CSRF.
func (r *rater) submitAPI(c *fiber.Ctx) error {
	in, err := r.decodeAPI(c)
	if err != nil {
		return err
	}
	if path := c.Params("estate"); path != "" {
		if in.Estate != "" && in.Estate != path {
			msg := Msg(c, "api.estate_path")
			return derrors.FieldErrors(msg, map[string]string{"estate": msg})
		}
		in.Estate = path
	}
	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	e, err := r.estate(ctx, c, in.Estate)
	if err != nil {
		if derrors.Code(err) == derrors.NotFound {
			return &derrors.Error{Code: derrors.NotFound, Message: Msg(c, "api.estate"),
				Fields: map[string]string{"estate": Msg(c, "api.estate")}}
		}
		return err
	}
	var closed rateFormData
	period, open, err := r.openPeriod(ctx, c, &closed)
	if err != nil {
		return err
	}
	if !open {
		msg := closed.Closed
		if closed.ClosedDetail != "" {
			msg += "：" + closed.ClosedDetail
			if Lang(c) == domain.LangEN {
				msg = closed.Closed + ". " + closed.ClosedDetail
			}
		}
		return derrors.Errorf(derrors.Conflict, "%s", msg)
	}
	in.Estate = e.estate.ID
	rc, err := r.submit(c, in, period, rating.SourceAPI)
	var ke *keyError
	if errors.As(err, &ke) {
		return c.Status(ke.status).JSON(fiber.Map{"error": ke.msg, "request_id": RequestID(c)})
	}
	if err != nil {
		return err
	}
	status := "counted"
	if rc.Hold == rating.HoldHeld {
		status = "under_review" // held for review (rating/holds.go): stored, not counted yet
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"receipt": rc.Number, "period": rc.Period, "revision": rc.Revision, "status": status})
}

func (r *rater) decodeAPI(c *fiber.Ctx) (ratingInput, error) {
	if err := requireJSON(c); err != nil {
		return ratingInput{}, err
	}
	body := c.Body()
	if len(body) > maxAPIBody {
		return ratingInput{}, derrors.Errorf(derrors.Invalid, "%s", Msg(c, "api.too_large"))
	}
	var a apiRating
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	err := dec.Decode(&a)
	if err == nil && dec.Decode(&struct{}{}) != io.EOF {
		err = errors.New("trailing data")
	}
	if err != nil {
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && strings.HasPrefix(typeErr.Field, "scores."):
			field := typeErr.Field
			msg := Msg(c, "rate.score_required", dimensionLabel(Lang(c), strings.TrimPrefix(field, "scores.")))
			return ratingInput{}, derrors.FieldErrors(msg, map[string]string{field: msg})
		case errors.As(err, &typeErr) && typeErr.Field != "":
			msg := Msg(c, "api.json_type", typeErr.Field)
			return ratingInput{}, derrors.FieldErrors(msg, map[string]string{typeErr.Field: msg})
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			msg := Msg(c, "api.json_field", name)
			return ratingInput{}, derrors.FieldErrors(msg, map[string]string{name: msg})
		}
		return ratingInput{}, derrors.Errorf(derrors.Invalid, "%s", Msg(c, "api.json_invalid"))
	}
	key := c.Get("Idempotency-Key")
	if len(key) > maxIdemKey || !visibleASCII(key) {
		return ratingInput{}, derrors.FieldErrors(Msg(c, "api.idem_key"), map[string]string{"Idempotency-Key": Msg(c, "api.idem_key")})
	}
	return ratingInput{Estate: strings.TrimSpace(a.Estate), Household: strings.TrimSpace(a.Household),
		Code: strings.TrimSpace(a.Code), Scores: a.Scores, Comment: a.Comment, IdempotencyKey: key}, nil
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

type receiptData struct {
	Receipt    rating.Receipt
	EstateName string
	Period     domain.Period
	At         string
}

// findReceipt is the receipt look-up box's target: /receipt?number=… goes to the receipt's
// page; without a number it shows the box.
func (r *rater) findReceipt(c *fiber.Ctx) error {
	number := strings.ToUpper(strings.Join(strings.Fields(c.Query("number")), ""))
	if number == "" {
		return r.s.render(c, "receipt_find", nil)
	}
	if len(number) > maxReceiptText {
		return derrors.Errorf(derrors.NotFound, "%s", Msg(c, "receipt.not_found"))
	}
	return c.Redirect("/receipt/"+url.PathEscape(number), fiber.StatusSeeOther)
}

// receipt tells anyone holding a receipt number whether the rating counts, for which estate
// and period, and when it came: nothing about who or what.
func (r *rater) receipt(c *fiber.Ctx) error {
	number := c.Params("number")
	notFound := derrors.Errorf(derrors.NotFound, "%s", Msg(c, "receipt.not_found"))
	if len(number) > maxReceiptText {
		return notFound
	}
	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	rc, err := r.s.ratings.Receipt(ctx, number)
	if derrors.Code(err) == derrors.NotFound {
		return notFound
	}
	if err != nil {
		return err
	}
	data := receiptData{Receipt: rc, EstateName: rc.Estate, At: rc.At.In(domain.Zone).Format("2006-01-02 15:04:05 (UTC+8)")}
	if e, err := r.estate(ctx, c, rc.Estate); err == nil {
		data.EstateName = e.estate.Name
	}
	if p, err := r.s.db.Period(ctx, rc.Period); err == nil {
		data.Period = p
	} else {
		data.Period = domain.Period{ID: rc.Period}
	}
	return r.s.render(c, "receipt", data)
}

// estate returns an estate and its company's name, from the cache when fresh. Unknown estates
// are a NotFound error.
func (r *rater) estate(ctx context.Context, c *fiber.Ctx, id string) (estateEntry, error) {
	notFound := derrors.Errorf(derrors.NotFound, "%s", Msg(c, "rate.estate_unknown"))
	if !domain.IsIdent(id) {
		return estateEntry{}, notFound
	}
	now := time.Now()
	r.estatesMu.Lock()
	e, ok := r.estates[id]
	r.estatesMu.Unlock()
	if ok && (e.found && now.Sub(e.at) < estateTTL || !e.found && now.Sub(e.at) < missingEstateTT) {
		if !e.found {
			return estateEntry{}, notFound
		}
		return e, nil
	}
	est, err := r.s.db.Estate(ctx, id)
	switch derrors.Code(err) {
	case "":
		e = estateEntry{estate: est, company: est.Company, found: true, at: now}
		if co, err := r.s.db.Company(ctx, est.Company); err == nil {
			e.company = co.Name
		} else if derrors.Code(err) != derrors.NotFound {
			return estateEntry{}, err
		}
	case derrors.NotFound:
		e = estateEntry{at: now}
	default:
		return estateEntry{}, err
	}
	r.estatesMu.Lock()
	if len(r.estates) >= maxCachedEstate {
		clear(r.estates)
	}
	r.estates[id] = e
	r.estatesMu.Unlock()
	if !e.found {
		return estateEntry{}, notFound
	}
	return e, nil
}

// openPeriod returns the period whose dates contain today (+08:00). When there is none it
// fills in closed's Closed and ClosedDetail with why.
func (r *rater) openPeriod(ctx context.Context, c *fiber.Ctx, closed *rateFormData) (domain.Period, bool, error) {
	periods, err := r.allPeriods(ctx)
	if err != nil {
		return domain.Period{}, false, err
	}
	open, last, next := domain.PeriodsOn(periods, domain.Today(r.s.now()))
	if open != nil {
		return *open, true, nil
	}
	lang := Lang(c)
	switch {
	case last != nil:
		closed.Closed = T(lang, "rate.closed")
		closed.ClosedDetail = T(lang, "rate.closed_detail", last.ID, last.End)
		closed.Period = *last
	default:
		closed.Closed = T(lang, "rate.not_started")
		if next != nil {
			closed.ClosedDetail = T(lang, "rate.not_started_at", next.ID, next.Start)
		}
	}
	return domain.Period{}, false, nil
}

func (r *rater) allPeriods(ctx context.Context) ([]domain.Period, error) {
	r.periodsMu.Lock()
	defer r.periodsMu.Unlock()
	if r.periods != nil && time.Since(r.periodsAt) < periodsTTL {
		return r.periods, nil
	}
	periods, err := r.s.db.Periods(ctx)
	if err != nil {
		return nil, err
	}
	if periods == nil {
		periods = []domain.Period{}
	}
	r.periods, r.periodsAt = periods, time.Now()
	return periods, nil
}

// admit waits for one of the submission slots. The embedded engine has one writer, and its
// waiters sleep in growing steps (up to 100 ms) rather than queue; measured, 32 submissions
// at once gave a p99 of seconds where a few at a time, queued here, do not. On MongoDB the
// slots bound one server's share of the database.
func (r *rater) admit(ctx context.Context) (func(), error) {
	select {
	case r.slots <- struct{}{}:
		return func() { <-r.slots }, nil
	case <-ctx.Done():
		return nil, &derrors.Error{Code: derrors.Unavailable, Message: "wait for a submission slot: " + ctx.Err().Error()}
	}
}

func init() {
	addMessages(map[string]message{
		"api.json_invalid": {"请求体不是有效的JSON", "The body is not valid JSON"},
		"api.json_field":   {"未知字段“%s”", "Unknown field “%s”"},
		"api.json_type":    {"%s的类型不正确", "%s has the wrong type"},
		"api.too_large":    {"请求体太大", "The body is too large"},
		"api.idem_key":     {"Idempotency-Key 须为1-128个可见ASCII字符", "Idempotency-Key must be 1-128 visible ASCII characters"},
		"api.estate":       {"小区不存在", "No such estate"},
		"api.estate_path":  {"请求体中的小区与地址中的小区不一致", "The estate in the body is not the one in the path"},
	})
}
