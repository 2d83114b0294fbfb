package web

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/csvcell"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/qrcode"
	"github.com/propcredit/propcredit/internal/rating"
)

// Household codes (住户验证码): a reviewer or administrator issues one code per flat of an
// estate for a period, and hands each flat its slip. The store keeps only hashes, so the new
// codes are shown once, on a printable sheet that also offers them as CSV; issuing again gives
// codes only to flats without one, unless the reviewer re-issues (which voids the old codes).
//
// Each slip carries the rating address in large type and as a QR code, which opens the form
// with the flat filled in. The code itself stays off the QR code: an address ends up in
// browser histories and proxy logs, and the slip's code would go with it.

// maxFlatsUpload bounds an uploaded list of flats: an estate of 1,000,000 flats fits.
const maxFlatsUpload = 4 << 20

type codesFormValues struct {
	Period, Estate, Flats string
	Reissue               bool
}

type codesData struct {
	Periods []domain.Period
	Estates []domain.Estate
	Form    codesFormValues
	Fields  map[string]string
	Error   string
	Notice  string
}

type codesSheetData struct {
	Estate      domain.Estate
	CompanyName string
	Period      domain.Period
	RateURL     string
	Slips       []slip
	// CSVURL is a data: URL of the same codes as CSV, so that they can be downloaded without
	// being kept anywhere on the server.
	CSVURL  template.URL
	CSVName string
}

// slip is one flat's code, with the QR code of its rating address.
type slip struct {
	rating.IssuedCode
	QR template.HTML
}

// slipsOf draws each flat's QR code, which opens rateURL with the flat filled in.
func slipsOf(codes []rating.IssuedCode, rateURL, lang string) ([]slip, error) {
	slips := make([]slip, len(codes))
	for i, ic := range codes {
		qr, err := qrcode.SVG(rateURL+"?flat="+url.QueryEscape(ic.Household), T(lang, "codes.slip_qr", ic.Household))
		if err != nil {
			return nil, err
		}
		slips[i] = slip{IssuedCode: ic, QR: qr}
	}
	return slips, nil
}

func (r *rater) codesForm(c *fiber.Ctx) error {
	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	var data codesData
	if p, ok, err := r.s.db.OpenPeriod(ctx, domain.Today(r.s.now())); err != nil {
		return err
	} else if ok {
		data.Form.Period = p.ID
	}
	data.Form.Estate = c.Query("estate")
	return r.showCodes(c, fiber.StatusOK, data)
}

func (r *rater) showCodes(c *fiber.Ctx, status int, data codesData) error {
	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	if r.s.publicURL == "" {
		data.Error = T(Lang(c), "codes.no_public_url")
	}
	var err error
	if data.Periods, err = r.s.db.Periods(ctx); err != nil {
		return err
	}
	if data.Estates, err = r.s.db.Estates(ctx); err != nil {
		return err
	}
	return r.s.renderStatus(c, status, "codes", data)
}

// issueCodes issues codes and shows them once, as a printable sheet with a CSV download.
func (r *rater) issueCodes(c *fiber.Ctx) error {
	lang := Lang(c)
	form := codesFormValues{
		Period:  strings.TrimSpace(c.FormValue("period")),
		Estate:  strings.TrimSpace(c.FormValue("estate")),
		Flats:   c.FormValue("flats"),
		Reissue: c.FormValue("reissue") != "",
	}
	data := codesData{Form: form, Fields: map[string]string{}}
	if r.s.publicURL == "" {
		// Refused before any code is issued: codes shown without their slips would be lost.
		return r.showCodes(c, fiber.StatusServiceUnavailable, data)
	}
	text := form.Flats
	if fh, err := c.FormFile("flats_file"); err == nil && fh.Size > 0 {
		if fh.Size > maxFlatsUpload {
			data.Fields["flats"] = T(lang, "codes.file_too_large")
		} else if f, err := fh.Open(); err != nil {
			return err
		} else {
			b, err := io.ReadAll(io.LimitReader(f, maxFlatsUpload))
			f.Close()
			if err != nil {
				return err
			}
			text = string(b)
		}
	}
	flats, bad := ReadFlats(strings.NewReader(text), lang)
	if len(bad) > 0 {
		data.Fields["flats"] = flatErrorsText(lang, bad)
	}

	ctx, cancel := r.s.dbContext(c)
	defer cancel()
	period, err := r.s.db.Period(ctx, form.Period)
	if derrors.Code(err) == derrors.NotFound || form.Period == "" {
		data.Fields["period"] = T(lang, "codes.no_period")
	} else if err != nil {
		return err
	}
	estate, err := r.s.db.Estate(ctx, form.Estate)
	if derrors.Code(err) == derrors.NotFound || form.Estate == "" {
		data.Fields["estate"] = T(lang, "codes.no_estate")
	} else if err != nil {
		return err
	}
	if len(data.Fields) > 0 {
		data.Error = T(lang, "codes.fix")
		return r.showCodes(c, fiber.StatusUnprocessableEntity, data)
	}

	codes, err := r.s.db.IssueCodes(ctx, period.ID, estate.ID, flats, form.Reissue)
	if err != nil {
		return err
	}
	by, _ := CurrentAccount(c)
	if err := r.s.audited(c, audit.Change{Action: "codes.issue", Object: "estate/" + estate.ID, Company: estate.Company, Period: period.ID,
		After: map[string]any{"count": len(codes), "reissue": form.Reissue}}); err != nil {
		return err
	}
	r.s.log.Info("household codes issued", "period", period.ID, "estate", estate.ID, "count", len(codes),
		"reissue", form.Reissue, "by", by.Name, "request_id", RequestID(c))
	if len(codes) == 0 {
		data.Notice = T(lang, "codes.none_new")
		data.Form.Flats = ""
		return r.showCodes(c, fiber.StatusOK, data)
	}

	var csvBuf bytes.Buffer
	if err := WriteCodesCSV(&csvBuf, codes); err != nil {
		return err
	}
	rateURL := r.s.publicURL + "/rate/" + url.PathEscape(estate.ID)
	slips, err := slipsOf(codes, rateURL, lang)
	if err != nil {
		return err
	}
	sheet := codesSheetData{Estate: estate, CompanyName: estate.Company, Period: period, Slips: slips,
		RateURL: rateURL,
		// Safe as a URL: a fixed prefix and base64, whose alphabet has nothing to escape.
		CSVURL:  template.URL("data:text/csv;charset=utf-8;base64," + base64.StdEncoding.EncodeToString(csvBuf.Bytes())),
		CSVName: fmt.Sprintf("codes-%s-%s.csv", period.ID, estate.ID),
	}
	if co, err := r.s.db.Company(ctx, estate.Company); err == nil {
		sheet.CompanyName = co.Name
	}
	return r.s.renderStatus(c, fiber.StatusCreated, "codes_sheet", sheet)
}

// FlatError is a bad line in a list of flats.
type FlatError struct {
	Line    int
	Message string
}

// ReadFlats reads a list of flats, one per line, as pasted into the codes page or given to
// `propcredit codes issue --flats`. A first line "flat" is a header; blank lines, surrounding
// spaces, a UTF-8 byte order mark and a trailing comma (a spreadsheet's one-column CSV) are
// ignored; a flat listed twice counts once. Bad lines are reported with messages in lang.
func ReadFlats(r io.Reader, lang string) ([]string, []FlatError) {
	var (
		flats []string
		bad   []FlatError
		seen  = map[string]bool{}
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		flat := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(line), ","))
		flat = strings.Trim(flat, `"`)
		switch {
		case flat == "":
		case n == 1 && strings.EqualFold(flat, "flat"):
		case !domain.IsIdent(flat):
			bad = append(bad, FlatError{Line: n, Message: T(lang, "codes.bad_flat", truncate(flat, 80))})
		case !seen[flat]:
			seen[flat] = true
			flats = append(flats, flat)
		}
	}
	if err := sc.Err(); err != nil {
		bad = append(bad, FlatError{Line: 0, Message: err.Error()})
	}
	return flats, bad
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// flatErrorsText words bad lines for the form: the first ten, then how many more.
func flatErrorsText(lang string, bad []FlatError) string {
	const show = 10
	var parts []string
	for i, b := range bad {
		if i == show {
			parts = append(parts, T(lang, "codes.more_lines", len(bad)-show))
			break
		}
		parts = append(parts, T(lang, "codes.line", b.Line, b.Message))
	}
	return strings.Join(parts, "; ")
}

// WriteCodesCSV writes codes as CSV with the header flat,code, each cell defused
// (csvcell.Defuse): a flat such as "-1-101" is legal and must stay text.
func WriteCodesCSV(w io.Writer, codes []rating.IssuedCode) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"flat", "code"}); err != nil {
		return err
	}
	for _, ic := range codes {
		if err := cw.Write([]string{csvcell.Defuse(ic.Household), csvcell.Defuse(ic.Code)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func init() {
	addMessages(map[string]message{
		"codes.title":          {"住户验证码", "Household codes"},
		"codes.intro":          {"为小区的住户发放本期评价验证码。系统只保存验证码的摘要，新验证码仅在发放后显示一次，请立即打印或下载。", "Issue the period's rating codes to the flats of an estate. Only hashes of the codes are kept: the new codes are shown once, so print or download them at once."},
		"codes.period":         {"评价期", "Period"},
		"codes.estate":         {"小区编号", "Estate id"},
		"codes.flats":          {"房号（选填，每行一个；首行可为表头 flat）", "Flats (optional, one per line; the first line may be the header flat)"},
		"codes.flats_hint":     {"新房号会登记为住户；已登记但尚无验证码的住户也会获得验证码。", "New flats are registered as households; registered households without a code get one too."},
		"codes.file":           {"或上传房号文件（CSV 或文本，每行一个）", "Or upload a file of flats (CSV or text, one per line)"},
		"codes.reissue":        {"重新发放：作废本期已发放的全部验证码并重新生成", "Re-issue: void every code already issued for this period and make new ones"},
		"codes.submit":         {"发放验证码", "Issue codes"},
		"codes.fix":            {"请更正标出的项目", "Please correct the marked fields"},
		"codes.no_period":      {"评价期不存在", "No such period"},
		"codes.no_estate":      {"小区不存在", "No such estate"},
		"codes.none_new":       {"没有需要发放的验证码：该小区的住户本期都已有有效验证码。如需作废旧码，请勾选“重新发放”。", "No codes to issue: every household of the estate has a live code for this period. To void the old codes, tick Re-issue."},
		"codes.bad_flat":       {"房号“%s”无效：只能包含字母、数字、点、下划线和连字符，长度1-64", "flat %q is not valid: use 1-64 letters, digits, '.', '_' or '-'"},
		"codes.line":           {"第%d行：%s", "line %d: %s"},
		"codes.more_lines":     {"另有%d行有误", "and %d more bad lines"},
		"codes.file_too_large": {"文件太大", "The file is too large"},
		"codes.sheet_title":    {"验证码发放单", "Household code sheet"},
		"codes.issued":         {"已为 %s（%s）发放 %d 个验证码。验证码只显示这一次，离开本页后无法再查看。", "%[3]d codes issued for %[1]s (%[2]s). They are shown only this once: print or download them before leaving this page."},
		"codes.csv":            {"下载 CSV（flat,code）", "Download CSV (flat,code)"},
		"codes.print":          {"打印", "Print"},
		"codes.slip_title":     {"业主线上评价", "Rate your property company online"},
		"codes.slip_flat":      {"房号", "Flat"},
		"codes.slip_code":      {"验证码", "Code"},
		"codes.slip_url":       {"评价网址", "Rating page"},
		"codes.no_public_url":  {"本站尚未配置公开网址（--public-url），不能打印验证码条：验证码条上的网址和二维码必须指向本站。请联系系统管理员。", "This site has no public address configured (--public-url), so code slips cannot be printed: their address and QR code must point to this site. Please contact the system administrator."},
		"codes.slip_qr":        {"扫码评价（%s）", "Scan to rate (%s)"},
		"codes.slip_scan":      {"手机扫码打开评价页", "Scan with your phone to open the rating page"},
		"codes.slip_period":    {"评价期", "Period"},
		"codes.slip_note":      {"本验证码仅限本户在本评价期使用，请妥善保管，勿转交他人。可多次提交，以最后一次为准。", "This code is for this flat and this period only; keep it safe and do not pass it on. You may rate again; the last rating counts."},
	})
}
