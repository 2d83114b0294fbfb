package web

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/propcredit/propcredit/internal/auth"
	"github.com/propcredit/propcredit/internal/browsertest"
	"github.com/propcredit/propcredit/internal/demo"
	"github.com/propcredit/propcredit/internal/disclosure"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/reports"
)

// Journey tests: people walking through the demo city in headless Chromium, as people do
// rather than as the code expects. They leave rows blank, submit with a mistake and correct
// it, come back to a rejected filing, revise a rating, follow links from the home page,
// switch language and back; on a phone (390×844) and a laptop, in Chinese and English.
// Each test keeps its screenshots (see browsertest.Screenshot).

// journeyEnv is the demo city as `make demo` serves it: generated for today (the quarter
// before is closed and published, today's is open; the real clock, because the browser
// expires cookies by it), a company account for the company of one estate, a reviewer, and
// the server on a loopback port.
type journeyEnv struct {
	*testEnv
	base    string
	ds      *domain.Dataset
	estate  domain.Estate // an estate of company
	company domain.Company
	closed  string // the period published
	open    string // the period open for ratings and filings
}

func newJourneyEnv(t *testing.T) *journeyEnv {
	t.Helper()
	e := newEnv(t)
	ds := demo.Generate(demo.DefaultSeed, e.clock.Now())
	if _, err := e.db.Import(context.Background(), ds, nil); err != nil {
		t.Fatal(err)
	}
	e.scoreAndPublish(ds.Periods[0].ID)
	j := &journeyEnv{testEnv: e, ds: ds, estate: ds.Estates[1], closed: ds.Periods[0].ID, open: ds.Periods[1].ID}
	for _, c := range ds.Companies {
		if c.ID == j.estate.Company {
			j.company = c
		}
	}
	// Browsers reach the server from 127.0.0.1, which is trusted as a proxy here, so that a
	// test can put two phones on two networks with X-Forwarded-For (see onNetwork).
	s, err := New(Config{DB: e.db, Log: mongodbtest.Quiet(), TrustedProxies: []string{"127.0.0.1"}, Now: e.clock.Now, PublicURL: testPublicURL})
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	e.addAccount("company1", domain.RoleCompany, j.company.ID, "pw")
	e.addAccount("reviewer1", domain.RoleReviewer, "", "pw")
	j.base = serve(t, e)
	return j
}

// onNetwork makes b's requests come from address, as a phone on its own network.
func onNetwork(t *testing.T, b *browsertest.Browser, address string) {
	t.Helper()
	if _, err := chromedp.Call(b.Context(), network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.Context(), network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"X-Forwarded-For": address}}); err != nil {
		t.Fatal(err)
	}
}

// login logs b in through the log-in form.
func (j *journeyEnv) login(b *browsertest.Browser, name string) {
	b.Do(chromedp.Navigate(j.base+"/login"),
		chromedp.SendKeys(chromedp.CSS("[name=name]"), name),
		chromedp.SendKeys(chromedp.CSS("[name=password]"), "pw"),
		chromedp.Submit(chromedp.CSS("[name=password]")),
		chromedp.WaitNotPresent(chromedp.CSS("[name=password]")))
}

// count is how many elements match a CSS selector.
func count(b *browsertest.Browser, selector string) int64 {
	return browsertest.Run(b, chromedp.Evaluate[int64](fmt.Sprintf(`document.querySelectorAll(%q).length`, selector)))
}

// text is the visible text of the first element matching selector ("" if there is none).
func text(b *browsertest.Browser, selector string) string {
	return browsertest.Run(b, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{}).innerText||""`, selector)))
}

// value is the value of the form field named name.
func value(b *browsertest.Browser, name string) string {
	return browsertest.Run(b, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector('[name=%q]')||{}).value||""`, name)))
}

// fill sets form fields by name, as typing would (clearing what was there).
func fill(b *browsertest.Browser, fields ...string) {
	var actions []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(fields); i += 2 {
		sel := fmt.Sprintf("[name=%q]", fields[i])
		actions = append(actions,
			chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ""`, sel)),
			chromedp.SendKeys(chromedp.CSS(sel), fields[i+1]))
	}
	b.Do(actions...)
}

// submitAndWait clicks a submit button and waits for the next page.
func submitAndWait(b *browsertest.Browser, button string) {
	b.Do(chromedp.Evaluate[chromedp.Void](`document.body.dataset.old = "1"`),
		chromedp.Click(chromedp.CSS(button)),
		chromedp.WaitNotPresent(chromedp.CSS(`body[data-old]`)),
		chromedp.WaitReady("main"))
}

// A company files its disclosures on a phone, as people fill forms: the rows it does not need
// stay blank, a fund with no withdrawals has none, a mistake is corrected without the form
// growing, and a filing the bureau rejects reopens with its figures, to be corrected and
// filed again.
func TestJourneyCompanyFilesDisclosures(t *testing.T) {
	j := newJourneyEnv(t)
	b := browsertest.New(t, browsertest.Phone)
	j.login(b, "company1")
	form := func(category string) string {
		return "/company/disclosures/" + j.open + "/" + j.estate.ID + "/" + category
	}

	// The maintenance fund had no withdrawals this quarter: the withdrawal lines stay blank.
	b.Do(chromedp.Navigate(j.base+form("maintenance_fund")), chromedp.WaitVisible(chromedp.ID("file-submit")))
	blank := count(b, `input[name^="withdrawal.name."]`)
	if blank == 0 {
		t.Fatal("the fund form offers no withdrawal lines")
	}
	fill(b, "v.opening", "1000000", "v.deposits", "50000", "v.withdrawals", "0", "v.interest", "3500", "v.closing", "1053500")
	submitAndWait(b, "#file-submit")
	b.Screenshot("fund-filed")
	if p := text(b, ".alert[role=alert]"); p != "" {
		t.Fatalf("a fund with no withdrawals and blank lines was refused: %s", p)
	}
	if n := text(b, ".notice"); n == "" {
		t.Error("no word that the fund was filed")
	}
	cur, ok := j.current(j.open, j.estate.ID, "maintenance_fund")
	if !ok || strings.Contains(string(cur.Data), `"purpose"`) {
		t.Errorf("stored fund %s (found %v), want one with no withdrawal lines", cur.Data, ok)
	}

	// Fees: one spending line does not add up. The error names it; the form keeps what was
	// typed and does not grow; the company corrects the line and files.
	b.Do(chromedp.Navigate(j.base+form("fees")), chromedp.WaitVisible(chromedp.ID("file-submit")))
	// The form opens with the quarter's earlier filing; the company empties its lines
	// and types this one's.
	b.Do(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('input[name^="spending."]').forEach(i => i.value = "")`))
	lines := count(b, `input[name^="spending.name."]`)
	fill(b, "v.standard", "2.5", "v.collected", "300000", "v.spent", "280000",
		"spending.name.0", "人员工资", "spending.value.0", "150000",
		"spending.name.1", "保洁绿化", "spending.value.1", "100000")
	submitAndWait(b, "#file-submit")
	b.Screenshot("fees-error")
	if p := text(b, ".alert[role=alert]"); !strings.Contains(p, "不一致") {
		t.Errorf("the mismatch is not explained: %q", p)
	}
	if again := count(b, `input[name^="spending.name."]`); again != lines {
		t.Errorf("the form had %d spending lines, and %d after an error", lines, again)
	}
	if v := value(b, "spending.value.1"); v != "100000" {
		t.Errorf("the typed line came back as %q", v)
	}
	fill(b, "spending.value.1", "130000")
	submitAndWait(b, "#file-submit")
	if p := text(b, ".alert[role=alert]"); p != "" {
		t.Fatalf("the corrected fees were refused: %s", p)
	}

	// The bureau rejects the fees filing.
	r := browsertest.New(t, browsertest.Desktop)
	j.login(r, "reviewer1")
	r.Do(chromedp.Navigate(j.base+"/review/disclosures/"+j.open+"/"+j.estate.ID+"/fees"), chromedp.WaitVisible(chromedp.CSS("[name=reason]")))
	if checked := count(r, `input[name=status]:checked`); checked != 0 {
		t.Errorf("%d decisions are chosen before the reviewer chose one", checked)
	}
	r.Do(chromedp.Click(chromedp.CSS(`input[name=status][value=rejected]`)))
	fill(r, "reason", "支出明细缺少公共水电费")
	submitAndWait(r, "form.form button[type=submit]")
	r.Screenshot("rejected")

	// The company comes back: the rejection and its reason are there, and so are the figures.
	b.Do(chromedp.Navigate(j.base+form("fees")), chromedp.WaitVisible(chromedp.ID("file-submit")))
	b.Screenshot("fees-rejected")
	page := text(b, "main")
	if !strings.Contains(page, "支出明细缺少公共水电费") || !strings.Contains(page, "已退回") {
		t.Errorf("the rejected filing's page does not say it was rejected, or why:\n%s", page)
	}
	if strings.Contains(page, "已审核") || strings.Contains(page, "被驳回") {
		t.Errorf("a rejected filing is called reviewed, or has a second name:\n%s", page)
	}
	for name, want := range map[string]string{"v.collected": "300000.00", "spending.name.1": "保洁绿化", "spending.value.1": "130000.00"} {
		if got := value(b, name); got != want {
			t.Errorf("the rejected filing reopens with %s = %q, want %q", name, got, want)
		}
	}
	// Correct it: add the missing line, lower another, file again.
	n := count(b, `input[name^="spending.name."]`)
	fill(b, "spending.value.1", "110000", fmt.Sprintf("spending.name.%d", 2), "公共水电费", fmt.Sprintf("spending.value.%d", 2), "20000")
	if n < 3 {
		t.Fatalf("the reopened form has %d spending lines, no blank one to add to", n)
	}
	submitAndWait(b, "#file-submit")
	if p := text(b, ".alert[role=alert]"); p != "" {
		t.Fatalf("the corrected filing was refused: %s", p)
	}
	cur, _ = j.current(j.open, j.estate.ID, "fees")
	if cur.Status != "pending" || !strings.Contains(string(cur.Data), "公共水电费") {
		t.Errorf("after correcting: status %s, data %s", cur.Status, cur.Data)
	}
	b.Screenshot("fees-refiled")
	b.CheckConsole(browsertest.FormError)
	r.CheckConsole()
}

// outside lists, for each element matching selector, the ones whose box is not wholly inside
// the viewport's width (a phone hides them, or makes people scroll sideways to find them).
func outside(b *browsertest.Browser, selector string) []string {
	return browsertest.Run(b, chromedp.Evaluate[[]string](fmt.Sprintf(`[...document.querySelectorAll(%q)].filter(el => {
		const r = el.getBoundingClientRect();
		return r.width === 0 || r.left < 0 || r.right > window.innerWidth;
	}).map(el => el.innerText.slice(0, 40) + " @" + Math.round(el.getBoundingClientRect().left) + ".." + Math.round(el.getBoundingClientRect().right))`, selector)))
}

// chartProblems asks ECharts itself, for every chart on the page, what a reader could miss:
// a paged (scrolling) legend, a category axis that drops labels, a text drawn outside the
// chart; and returns the colours of the series named 红榜/Red list and 黑榜/Black list.
const chartProblems = `(() => {
	const out = [];
	for (const el of document.querySelectorAll("[data-echarts]")) {
		const chart = echarts.getInstanceByDom(el);
		if (!chart) { out.push(el.id + ": not drawn"); continue; }
		const opt = chart.getOption();
		for (const l of opt.legend || []) {
			if (l.show !== false && l.type === "scroll") out.push(el.id + ": the legend pages");
		}
		const model = chart.getModel();
		for (const dim of ["xAxis", "yAxis"]) {
			(opt[dim] || []).forEach((a, i) => {
				if ((a.type || (dim === "xAxis" ? "category" : "value")) !== "category" || !a.data) return;
				const axis = model.getComponent(dim, i).axis;
				const shown = axis.getViewLabels().length;
				if (shown < a.data.length) out.push(el.id + ": " + dim + " shows " + shown + " of " + a.data.length + " labels");
			});
		}
		const w = chart.getWidth(), h = chart.getHeight();
		chart.getZr().storage.getDisplayList().forEach(d => {
			if (d.type !== "text" || !d.style || !d.style.text || d.invisible || d.ignore) return;
			const r = d.getBoundingRect().clone();
			r.applyTransform(d.getComputedTransform());
			if (r.x < -1 || r.y < -1 || r.x + r.width > w + 1 || r.y + r.height > h + 1) {
				out.push(el.id + ": text " + JSON.stringify(d.style.text) + " is cut off at " + Math.round(r.x) + "," + Math.round(r.y) + " " + Math.round(r.width) + "x" + Math.round(r.height) + " in " + w + "x" + h);
			}
		});
	}
	return out;
})()`

// On a phone every listed company's grade, score, list and reason are on the screen, and
// every chart shows all its labels, with no paged legend and nothing cut off; at 1366 px the
// reason is not cut off either. In Chinese on the phone, in English on the laptop.
func TestJourneyPhoneLayout(t *testing.T) {
	j := newJourneyEnv(t)
	for _, vp := range []struct {
		name string
		vp   browsertest.Viewport
		lang string
	}{
		{"phone", browsertest.Phone, "zh-CN,zh"},
		{"phone-en", browsertest.Phone, "en-US,en"},
		{"laptop", browsertest.Viewport{Width: 1366, Height: 900, Scale: 1}, "en-US,en"},
	} {
		t.Run(vp.name, func(t *testing.T) {
			b := browsertest.New(t, vp.vp, browsertest.Languages(vp.lang))
			b.Do(chromedp.Navigate(j.base+"/lists/"+j.closed), chromedp.WaitReady("main"))
			b.Screenshot("lists")
			badge := browsertest.Run(b, chromedp.Evaluate[[]string](`["AAA", "C"].map(g => getComputedStyle(document.querySelector(".grade-" + g)).backgroundColor)`))
			if diff := cmp.Diff([]string{"rgb(180, 35, 24)", "rgb(16, 24, 40)"}, badge); diff != "" {
				t.Errorf("AAA and C badges are not red and dark (-want +got):\n%s", diff)
			}
			if n := count(b, "#black-list .company"); n == 0 {
				t.Fatal("no black-listed company to look at")
			}
			for _, sel := range []string{"#red-list .grade", "#red-list .score", "#black-list .grade", "#black-list .score", "#black-list .reason"} {
				if out := outside(b, sel); len(out) > 0 {
					t.Errorf("lists: %d of %s off the screen: %v", len(out), sel, out[:min(3, len(out))])
				}
			}
			b.Do(chromedp.Navigate(j.base+"/rankings/"+j.closed), chromedp.WaitReady("main"))
			b.Screenshot("rankings")
			for _, sel := range []string{"#rankings .grade", "#rankings .score", "#rankings .list"} {
				if out := outside(b, sel); len(out) > 0 {
					t.Errorf("rankings: %d of %s off the screen: %v", len(out), sel, out[:min(3, len(out))])
				}
			}
			if w := browsertest.Run(b, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`)); w > vp.vp.Width {
				t.Errorf("rankings: the page is %d px wide on a %d px screen", w, vp.vp.Width)
			}

			st, err := newPublishedCache(j.s.pubs, j.db, j.clock.Now, j.s.log).get(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			latest := st.city.Latest()
			red, black := latest.Result.RedList(), latest.Result.BlackList()
			for _, p := range []string{"/reports/" + j.closed, "/companies/" + red[0].Company, "/companies/" + black[0].Company,
				"/estates/" + j.estate.ID} {
				b.Do(chromedp.Navigate(j.base+p), chromedp.WaitVisible(`[data-drawn="true"]`))
				b.Screenshot(strings.ReplaceAll(strings.Trim(p, "/"), "/", "-"))
				for _, problem := range browsertest.Run(b, chromedp.Evaluate[[]string](chartProblems)) {
					t.Errorf("%s: %s", p, problem)
				}
				if strings.HasPrefix(p, "/reports/") {
					// Red for the red list and AAA, dark for the black list and C, as on the badges.
					colours := browsertest.Run(b, chromedp.Evaluate[[]string](`[
						...echarts.getInstanceByDom(document.getElementById("chart-trend-lists")).getOption().series.map(s => s.itemStyle.color),
						...echarts.getInstanceByDom(document.getElementById("chart-grades")).getOption().series[0].data.map(d => d.itemStyle.color)]`))
					want := []string{reports.ColorRed, reports.ColorBlack}
					for _, g := range []string{"AAA", "AA", "A", "B", "C"} {
						want = append(want, reports.GradeColors[g])
					}
					if diff := cmp.Diff(want, colours); diff != "" {
						t.Errorf("chart colours (-want +got):\n%s", diff)
					}
				}
				if vp.vp.Mobile {
					if h := browsertest.Run(b, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`)); h > 6000 {
						t.Errorf("%s is %d px tall on a phone", p, h)
					}
				}
			}
			b.CheckConsole()
		})
	}
}

// codeOf issues a household code for a flat of the journey's estate in the open period.
func (j *journeyEnv) codeOf(flat string) string {
	j.t.Helper()
	issued, err := j.db.IssueCodes(context.Background(), j.open, j.estate.ID, []string{flat}, false)
	if err != nil || len(issued) != 1 {
		j.t.Fatalf("issue a code for %s: %v (%d issued)", flat, err, len(issued))
	}
	return issued[0].Code
}

// An owner with no slip at hand finds the estate from the home page and rates; the
// confirmation shows what was submitted and when results come out; "change my rating"
// reopens the form filled in, and the revision replaces the first; the receipt is looked up
// from the home page's box. On a phone, in Chinese.
func TestJourneyOwnerRatesFromHomePage(t *testing.T) {
	j := newJourneyEnv(t)
	code := j.codeOf("9-9-901")
	b := browsertest.New(t, browsertest.Phone)

	b.Do(chromedp.Navigate(j.base+"/"), chromedp.WaitVisible(chromedp.ID("home-search")))
	b.Screenshot("home")
	if n := count(b, "#home-lists a"); n < 2 {
		t.Errorf("the home page shows %d links to the latest lists", n)
	}
	// Part of the estate's name, as people type it.
	part := string([]rune(j.estate.Name)[:2])
	b.Do(chromedp.SendKeys(chromedp.ID("q"), part))
	submitAndWait(b, "#home-search button")
	b.Screenshot("search")
	if !strings.Contains(text(b, "#estate-results"), j.estate.Name) {
		t.Fatalf("searching %q does not find %s:\n%s", part, j.estate.Name, text(b, "main"))
	}
	// To the estate's page, and from there to its rating form.
	b.Do(chromedp.Click(fmt.Sprintf(`//ul[@id="estate-results"]//a[@class="result-name"][text()=%q]`, j.estate.Name)),
		chromedp.WaitVisible(chromedp.ID("rate-link")))
	b.Screenshot("estate")
	submitAndWait(b, "#rate-link")
	if name := text(b, ".estate-name"); name != j.estate.Name {
		t.Fatalf("the rating form is for %q, want %q", name, j.estate.Name)
	}

	// A first attempt forgets one mark; the form comes back with the rest still there.
	fill(b, "household", "9-9-901", "code", code)
	for i, d := range domain.Dimensions[:5] {
		b.Do(chromedp.Click(chromedp.CSS(fmt.Sprintf("#score-%s .choices label:nth-child(%d)", d.ID, 1+i%5))))
	}
	fill(b, "comment", "电梯经常停运")
	b.Do(chromedp.Evaluate[chromedp.Void](`document.getElementById("rate-form").noValidate = true`)) // as an old phone browser would
	submitAndWait(b, "#submit")
	b.Screenshot("rate-error")
	if e := text(b, "#form-error"); e == "" {
		t.Fatal("a missing mark gave no error")
	}
	if v := value(b, "comment"); v != "电梯经常停运" {
		t.Errorf("the comment came back as %q", v)
	}
	last := domain.Dimensions[5].ID
	fill(b, "code", code)
	b.Do(chromedp.Click(chromedp.CSS("#score-" + last + " .choices label:nth-child(4)")))
	submitAndWait(b, "#submit")
	b.Screenshot("done")
	receipt := text(b, "#receipt-number")
	if receipt == "" {
		t.Fatalf("no receipt:\n%s", text(b, "main"))
	}
	if got := text(b, "#submitted"); !strings.Contains(got, "9-9-901") || !strings.Contains(got, "电梯经常停运") || !strings.Contains(got, "★") {
		t.Errorf("the confirmation does not show what was submitted:\n%s", got)
	}
	if got := text(b, "#results-when"); !strings.Contains(got, "公布") {
		t.Errorf("the confirmation does not say when results come out: %q", got)
	}

	// Change my rating: the form opens filled in; only the code is typed again.
	submitAndWait(b, "#revise")
	b.Screenshot("revise")
	if v := value(b, "household"); v != "9-9-901" {
		t.Errorf("the revision form has flat %q", v)
	}
	if v := value(b, "comment"); v != "电梯经常停运" {
		t.Errorf("the revision form has comment %q", v)
	}
	if n := count(b, "#rate-form input[type=radio]:checked"); n != 6 {
		t.Errorf("the revision form has %d marks chosen, want 6", n)
	}
	fill(b, "code", code, "comment", "电梯已修好")
	submitAndWait(b, "#submit")
	second := text(b, "#receipt-number")
	versions, err := j.db.RatingVersions(context.Background(), j.open+"|"+j.estate.ID+"|9-9-901")
	if err != nil || len(versions) != 2 || versions[1].Comment != "电梯已修好" || versions[1].Scores != versions[0].Scores {
		t.Errorf("stored versions %+v, %v; want two, the second with the new comment and the same marks", versions, err)
	}

	// /receipt/ (as people shorten a link) is the look-up box, not a 404.
	b.Do(chromedp.Navigate(j.base+"/receipt/"), chromedp.WaitReady("main"))
	if n := count(b, "#receipt-number-input"); n != 1 {
		t.Errorf("/receipt/ has no look-up box:\n%s", text(b, "main"))
	}

	// The first receipt, looked up from the home page, says it was replaced.
	b.Do(chromedp.Navigate(j.base+"/"), chromedp.WaitVisible(chromedp.ID("receipt-number-input")),
		chromedp.SendKeys(chromedp.ID("receipt-number-input"), " "+strings.ToLower(receipt)+" "))
	submitAndWait(b, "#home-receipt button")
	b.Screenshot("receipt")
	if got := text(b, "#receipt-status"); !strings.Contains(got, "取代") {
		t.Errorf("the first receipt says %q, want that it was replaced", got)
	}
	b.Do(chromedp.Navigate(j.base+"/receipt/"+second), chromedp.WaitVisible(chromedp.ID("receipt-status")))
	if got := text(b, "#receipt-status"); !strings.Contains(got, "已计入") {
		t.Errorf("the second receipt says %q", got)
	}
	b.CheckConsole(browsertest.FormError)
}

// A neighbour guesses a flat's code on a phone: each wrong code says how many tries remain,
// the fifth locks that phone out until a stated time, and the household, on its own phone and
// network, rates with its code all the same.
func TestJourneyNeighbourCannotLockAFlatOut(t *testing.T) {
	j := newJourneyEnv(t)
	code := j.codeOf("6-6-606")
	guess := func(b *browsertest.Browser, code string) {
		b.Do(chromedp.Navigate(j.base+"/rate/"+j.estate.ID+"?flat=6-6-606"), chromedp.WaitVisible(chromedp.ID("rate-form")))
		fill(b, "code", code)
		for _, d := range domain.Dimensions {
			b.Do(chromedp.Click(chromedp.CSS("#score-" + d.ID + " .choices label:nth-child(3)")))
		}
		submitAndWait(b, "#submit")
	}
	neighbour := browsertest.New(t, browsertest.Phone)
	onNetwork(t, neighbour, "203.0.113.9")
	for i := 1; i <= 5; i++ {
		guess(neighbour, fmt.Sprintf("WRONG%05d", i))
		msg := text(neighbour, "#code-error")
		if i < 5 && !strings.Contains(msg, fmt.Sprintf("还可再试 %d 次", 5-i)) {
			t.Errorf("wrong code %d says %q, not how many tries remain", i, msg)
		}
		if i == 5 && (!strings.Contains(msg, "之后再试") || !strings.Contains(msg, "联系")) {
			t.Errorf("the fifth wrong code says %q, not until when, nor whom to ask", msg)
		}
	}
	neighbour.Screenshot("locked")
	guess(neighbour, code)
	if msg := text(neighbour, "#code-error"); !strings.Contains(msg, "错误次数过多") {
		t.Errorf("the locked-out phone got in with the right code: %q", msg)
	}

	household := browsertest.New(t, browsertest.Phone)
	onNetwork(t, household, "198.51.100.7")
	guess(household, code)
	household.Screenshot("household")
	if n := text(household, "#receipt-number"); n == "" {
		t.Errorf("the household could not rate while a neighbour guessed:\n%s", text(household, "main"))
	}
	neighbour.CheckConsole("status of 403", "status of 429")
	household.CheckConsole()
}

// inView reports whether the element matching selector is on the screen as the page shows it.
func inView(b *browsertest.Browser, selector string) bool {
	return browsertest.Run(b, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		if (!el) return false;
		const r = el.getBoundingClientRect();
		return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
	})()`, selector)))
}

// An owner objects to a disclosure on a phone and sees at once that it was filed; the company
// is told it has one to answer and answers; the bureau finds it in the menu and closes it;
// the owner comes back and finds the question, the answer and the outcome, still public.
func TestJourneyObjectionToOutcome(t *testing.T) {
	j := newJourneyEnv(t)
	code := j.codeOf("3-2-1201")
	owner := browsertest.New(t, browsertest.Phone)
	page := j.base + "/estates/" + j.estate.ID + "/disclosures"
	owner.Do(chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("[name=text]")))
	fill(owner, "flat", "3-2-1201", "code", code, "text", "公共水电分摊比上季度高出一倍，请说明原因")
	submitAndWait(owner, `form[action$="/objections"] button[type=submit]`)
	owner.Screenshot("filed")
	if !inView(owner, "#flash") {
		t.Errorf("the notice that the objection was filed is not on the screen (flash %q)", text(owner, "#flash"))
	}

	company := browsertest.New(t, browsertest.Desktop)
	j.login(company, "company1")
	company.Do(chromedp.Navigate(j.base+"/company/disclosures"), chromedp.WaitReady("main"))
	if got := text(company, "#unanswered"); !strings.Contains(got, "1 条") {
		t.Errorf("the company is not told of the new objection: %q", got)
	}
	company.Do(chromedp.Click(chromedp.CSS(`.site-nav a[href="/company/objections"]`)), chromedp.WaitVisible(chromedp.CSS("[name=text]")))
	fill(company, "text", "上季度水表故障少计，本季度已补计")
	submitAndWait(company, `form[action="/company/objections/answer"] button`)

	reviewer := browsertest.New(t, browsertest.Desktop)
	j.login(reviewer, "reviewer1")
	reviewer.Do(chromedp.Click(chromedp.CSS(`.site-nav a[href="/review/objections"]`)), chromedp.WaitVisible(chromedp.CSS("[name=note]")))
	fill(reviewer, "note", "经核实，补计属实，异议办结")
	submitAndWait(reviewer, `form[action="/review/objections/close"] button`)

	owner.Do(chromedp.Navigate(page), chromedp.WaitReady("main"))
	owner.Screenshot("outcome")
	got := text(owner, ".objection")
	for _, want := range []string{"公共水电分摊比上季度高出一倍", "上季度水表故障少计", "经核实，补计属实", "已办结"} {
		if !strings.Contains(got, want) {
			t.Errorf("the closed objection on the public page lacks %q:\n%s", want, got)
		}
	}
	owner.CheckConsole()
	company.CheckConsole()
	reviewer.CheckConsole()
}

// A reviewer works through the queue and publishes, as reviewers slip: the queue says how
// many wait and narrows to one kind; no decision is chosen for them, and the radio buttons
// sit beside their words; publishing an open period with filings waiting needs a second,
// explicit confirmation that gives the numbers, and saying no shows why at the top.
func TestJourneyReviewerCannotSlip(t *testing.T) {
	j := newJourneyEnv(t)
	b := browsertest.New(t, browsertest.Viewport{Width: 1366, Height: 900, Scale: 1})
	j.login(b, "reviewer1")
	b.Do(chromedp.Click(chromedp.CSS(`.site-nav a[href="/review/disclosures"]`)), chromedp.WaitVisible(chromedp.ID("queue-count")))
	all := text(b, "#queue-count")
	if !strings.Contains(all, "份待审核") {
		t.Errorf("the queue does not say how many wait: %q", all)
	}
	if strings.Contains(text(b, "main"), "第0版") {
		t.Error("the queue calls imported filings 第0版")
	}
	b.Do(chromedp.SetValue(chromedp.CSS("#queue-filter [name=category]"), "fees"))
	submitAndWait(b, "#queue-filter button")
	b.Screenshot("queue")
	if shown, total := count(b, "main table tbody tr"), text(b, "#queue-count"); shown == 0 || total == all {
		t.Errorf("filtering by category: %d rows, count %q (before: %q)", shown, total, all)
	}
	for _, c := range browsertest.Run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main table tbody tr td:nth-child(3)")].map(td => td.innerText)`)) {
		if c != "物业服务费" {
			t.Errorf("a %q filing in the queue filtered to fees", c)
		}
	}

	b.Do(chromedp.Click(chromedp.CSS("main table tbody tr a")), chromedp.WaitVisible(chromedp.CSS("[name=reason]")))
	if n := count(b, "input[name=status]:checked"); n != 0 {
		t.Errorf("%d decisions chosen before the reviewer chose", n)
	}
	// Each radio is a small control on the line of its words.
	for _, bad := range browsertest.Run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("input[type=radio]")].filter(r => {
		const box = r.getBoundingClientRect(), words = r.parentElement.querySelector("span") || r.parentElement;
		const w = document.createRange(); w.selectNodeContents(words);
		const text = [...w.getClientRects()].filter(q => q.left >= box.right - 1)[0];
		return box.width > 28 || !text || Math.abs((text.top + text.bottom) / 2 - (box.top + box.bottom) / 2) > 12;
	}).map(r => r.value + " " + Math.round(r.getBoundingClientRect().width) + "px")`)) {
		t.Errorf("radio %s is not a small control beside its words", bad)
	}
	b.Screenshot("review")

	// Publish the open period, with filings still waiting.
	b.Do(chromedp.Navigate(j.base+"/publish/"+j.open), chromedp.WaitReady("main"))
	submitAndWait(b, `form[action$="/score"] button`)
	if c := text(b, "#caveats"); !strings.Contains(c, "尚未结束") || !strings.Contains(c, "份信息公开等待审核") {
		t.Errorf("the publish page does not say the period is open and filings wait: %q", c)
	}
	if w := text(b, "#warnings"); strings.Contains(w, "disclosure_pending") || !strings.Contains(w, "尚待审核") {
		t.Errorf("warnings are not grouped in plain words: %q", w)
	}
	b.Do(chromedp.Click(chromedp.CSS("[name=confirm]")))
	submitAndWait(b, "#publish-form button")
	b.Screenshot("publish-refused")
	if !inView(b, "#page-error") {
		t.Error("refusing to publish early says why below the fold")
	}
	if pubs, _ := j.db.Publications(context.Background(), j.open); len(pubs) != 0 {
		t.Fatalf("published early on one confirmation")
	}
	b.Do(chromedp.Click(chromedp.CSS("[name=confirm]")), chromedp.Click(chromedp.CSS("[name=early]")))
	submitAndWait(b, "#publish-form button")
	if pubs, _ := j.db.Publications(context.Background(), j.open); len(pubs) != 1 {
		t.Errorf("after both confirmations: %d publications", len(pubs))
	}
	b.CheckConsole(browsertest.FormError)
}

// A company's new account logs in with the one-time password it was given and must choose its
// own before anything else; a typo in the repeat is caught; then the site opens, and only
// the new password logs in.
func TestJourneyFirstLogInChangesPassword(t *testing.T) {
	j := newJourneyEnv(t)
	h, err := auth.HashPassword("one-time-pass-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := j.db.CreateAccount(context.Background(), domain.Account{Name: "newco", Role: domain.RoleCompany, Company: j.company.ID,
		PasswordHash: h, MustChangePassword: true, CreatedAt: j.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	b := browsertest.New(t, browsertest.Phone)
	b.Do(chromedp.Navigate(j.base+"/login"), chromedp.WaitVisible(chromedp.CSS("[name=name]")))
	fill(b, "name", "newco", "password", "one-time-pass-1")
	submitAndWait(b, "form button[type=submit]")
	if !strings.Contains(text(b, "#password-forced"), "一次性密码") {
		t.Fatalf("a one-time password did not lead to the change-password page:\n%s", text(b, "main"))
	}
	b.Do(chromedp.Navigate(j.base+"/company/disclosures"), chromedp.WaitReady("main"))
	if n := count(b, "#password-form"); n != 1 {
		t.Errorf("with a one-time password the disclosures page opened")
	}
	fill(b, "current", "one-time-pass-1", "new", "my-own-password-7", "confirm", "my-own-password-8")
	submitAndWait(b, "#password-form button")
	b.Screenshot("mismatch")
	if !strings.Contains(text(b, "main"), "两次输入的新密码不一致") {
		t.Error("a mistyped repeat is not caught")
	}
	fill(b, "current", "one-time-pass-1", "new", "my-own-password-7", "confirm", "my-own-password-7")
	submitAndWait(b, "#password-form button")
	if text(b, "#password-done") == "" {
		t.Fatalf("the password was not changed:\n%s", text(b, "main"))
	}
	b.Do(chromedp.Navigate(j.base+"/company/disclosures"), chromedp.WaitReady("main"))
	if n := count(b, "#password-form"); n != 0 {
		t.Error("after the change the site still asks for a new password")
	}
	// Log out; the one-time password no longer works, the new one does.
	submitAndWait(b, `form[action="/logout"] button`)
	b.Do(chromedp.Navigate(j.base+"/login"), chromedp.WaitVisible(chromedp.CSS("[name=name]")))
	fill(b, "name", "newco", "password", "one-time-pass-1")
	submitAndWait(b, "main form button[type=submit]")
	if count(b, "[name=password]") == 0 {
		t.Error("the one-time password still logs in")
	}
	fill(b, "name", "newco", "password", "my-own-password-7")
	submitAndWait(b, "main form button[type=submit]")
	if count(b, "[name=password]") != 0 {
		t.Error("the new password does not log in")
	}
	b.CheckConsole(browsertest.FormError)
}

// A visitor switches language and back, keeping the page and its filters; English pages use
// English punctuation and spacing; ?lang=zh-CN, as other sites write it, means Chinese. A
// public disclosure whose figures do not add up says so, as the review page does.
func TestJourneyLanguagesAndWords(t *testing.T) {
	j := newJourneyEnv(t)
	b := browsertest.New(t, browsertest.Phone)
	b.Do(chromedp.Navigate(j.base+"/rankings/"+j.closed+"?grade=C"), chromedp.WaitReady("main"))
	zh := text(b, "h1")
	submitAndWait(b, "#lang-switch")
	if h1 := text(b, "h1"); !strings.HasPrefix(h1, "Credit rankings") {
		t.Fatalf("after switching to English the heading is %q", h1)
	}
	if u := browsertest.Run(b, chromedp.Evaluate[string](`location.search`)); !strings.Contains(u, "grade=C") {
		t.Errorf("switching language lost the filter: %q", u)
	}
	b.Screenshot("rankings-en")
	if bad := englishProblems(b); len(bad) > 0 {
		t.Errorf("the English rankings page has Chinese punctuation or run-together words: %q", bad)
	}
	submitAndWait(b, "#lang-switch")
	if h1 := text(b, "h1"); h1 != zh {
		t.Errorf("switching back gives %q, want %q", h1, zh)
	}
	// The choice is remembered; ?lang=zh-CN from English switches back too.
	b.Do(chromedp.Navigate(j.base+"/?lang=en"), chromedp.WaitReady("main"))
	b.Do(chromedp.Navigate(j.base+"/lists/"+j.closed), chromedp.WaitReady("main"))
	if h1 := text(b, "h1"); !strings.HasPrefix(h1, "Red and black lists") {
		t.Errorf("the English choice was not remembered: %q", h1)
	}
	b.Do(chromedp.Navigate(j.base+"/lists/"+j.closed+"?lang=zh-CN"), chromedp.WaitReady("main"))
	if h1 := text(b, "h1"); !strings.Contains(h1, "红黑榜") {
		t.Errorf("?lang=zh-CN gives %q", h1)
	}

	// An imported filing whose lines do not add up to its total, in both languages.
	var odd *domain.Disclosure
	for i, d := range j.ds.Disclosures {
		if data, ok := disclosure.Stored(d.Category, d.Data); ok && d.Status != domain.StatusRejected && len(disclosure.Check(data)) > 0 {
			odd = &j.ds.Disclosures[i]
			break
		}
	}
	if odd == nil {
		t.Fatal("the demo city has no filing whose figures do not add up")
	}
	for _, lang := range []string{"zh", "en"} {
		b.Do(chromedp.Navigate(j.base+"/estates/"+odd.Estate+"/disclosures?lang="+lang), chromedp.WaitReady("main"))
		if n := count(b, "#period-"+odd.Period+" .inconsistent"); n == 0 {
			t.Errorf("%s: the public page of %s shows figures that do not add up without a word", lang, odd.Key())
		}
		if lang == "en" {
			b.Screenshot("disclosures-en")
			if bad := englishProblems(b); len(bad) > 0 {
				t.Errorf("the English disclosure page has Chinese punctuation or run-together words: %q", bad)
			}
		}
	}
	b.CheckConsole()
}

// englishProblems finds, in the page's own words (not names from the data), full-width
// punctuation after English and words run together ("WaterTotal").
func englishProblems(b *browsertest.Browser) []string {
	return browsertest.Run(b, chromedp.Evaluate[[]string](`(() => {
		const t = document.querySelector("main").innerText;
		return [...t.matchAll(/[A-Za-z][：，；（]|[a-z](Total|Lines|Amount)\b/g)].map(m => t.slice(Math.max(0, m.index - 20), m.index + 10));
	})()`))
}
