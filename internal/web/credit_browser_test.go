package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/propcredit/propcredit/internal/browsertest"
	"github.com/propcredit/propcredit/internal/credit"
	"github.com/propcredit/propcredit/internal/domain"
)

// Both sides of one objection in Chromium, on a phone in Chinese and on a desktop in English:
// a reviewer records a bad record with a photo (a blank description first, refused and
// resubmitted), sends the notice; the company sees it unread, opens it, objects with evidence,
// and is not offered a second form; another reviewer rejects the objection
// with a reason, which the company reads. No console errors, nothing wider than the phone.
func TestCreditObjectionInBrowser(t *testing.T) {
	for _, vp := range []browserCase{
		{"phone-zh", browsertest.Phone, "zh-CN,zh", map[string]string{"required": "此项必填", "saved": "已保存为草稿", "objected": "异议已提交", "rejected": "异议不成立，维持记录"}},
		{"desktop-en", browsertest.Desktop, "en-US,en", map[string]string{"required": "This is required", "saved": "Saved as a draft", "objected": "Your objection is submitted", "rejected": "Rejected: the record stands"}},
	} {
		t.Run(vp.name, func(t *testing.T) {
			e := newCreditEnv(t)
			base := serve(t, e)
			photo := filepath.Join(t.TempDir(), "现场.png")
			if err := os.WriteFile(photo, append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 200)...), 0o600); err != nil {
				t.Fatal(err)
			}
			login := func(b *browsertest.Browser, name string) { browserLogin(b, base, name) }
			text := mainText
			fits := func(b *browsertest.Browser, page string) { wantFits(t, b, vp.vp, page) }

			// The reviewer.
			rev := browsertest.New(t, vp.vp, browsertest.Languages(vp.lang))
			login(rev, "alice")
			rev.Do(chromedp.Navigate(base+"/credit/new"), chromedp.WaitVisible(chromedp.ID("credit-new")),
				chromedp.SendKeys(chromedp.CSS(`input[name="company"]`), testCompany),
				chromedp.SendKeys(chromedp.CSS(`input[name="estate"]`), "e1"),
				chromedp.SetValue(chromedp.CSS(`select[name="rule"]`), "B02"),
				chromedp.SendKeys(chromedp.CSS(`textarea[name="description"]`), "   "),
				chromedp.SetUploadFiles(chromedp.CSS(`input[name="evidence"]`), []string{photo}),
				chromedp.Click(chromedp.ID("save-draft")), chromedp.WaitVisible(chromedp.CSS(".field-error")))
			if got := text(rev); !strings.Contains(got, vp.want["required"]) {
				t.Errorf("blank description: %q", got)
			}
			fits(rev, "the form with an error")
			rev.Screenshot("reviewer-form-error")
			// The form kept what was typed but the file (browsers never keep files): choose it again.
			rev.Do(chromedp.SendKeys(chromedp.CSS(`textarea[name="description"]`), "消防通道堵塞"),
				chromedp.SetUploadFiles(chromedp.CSS(`input[name="evidence"]`), []string{photo}),
				chromedp.Click(chromedp.ID("save-draft")), chromedp.WaitVisible(chromedp.ID("notify")))
			if got := text(rev); !strings.Contains(got, vp.want["saved"]) || !strings.Contains(got, "现场.png") {
				t.Errorf("after saving: %q", got)
			}
			rev.Do(chromedp.Click(chromedp.ID("notify-submit")), chromedp.WaitVisible(chromedp.CSS(`a[href$="/notice"]`)))
			fits(rev, "the record")
			rev.Screenshot("reviewer-notified")
			records, err := e.db.CreditRecords(context.Background(), credit.Filter{})
			if err != nil || len(records) != 1 || records[0].Status != domain.EventNotified || records[0].Description != "消防通道堵塞" {
				t.Fatalf("stored %+v %v", records, err)
			}
			id := records[0].ID

			// The company.
			co := browsertest.New(t, vp.vp, browsertest.Languages(vp.lang))
			login(co, "acme")
			co.Do(chromedp.Navigate(base+"/company/credit"), chromedp.WaitVisible(chromedp.ID("unread")))
			if n := browsertest.Run(co, chromedp.Text(chromedp.ID("unread"))); n != "1" {
				t.Errorf("unread badge %q", n)
			}
			fits(co, "the inbox")
			co.Screenshot("company-inbox")
			co.Do(chromedp.Click(chromedp.CSS(`#inbox a`)), chromedp.WaitVisible(chromedp.ID("object")))
			fits(co, "the record")
			co.Screenshot("company-record")
			co.Do(chromedp.SendKeys(chromedp.CSS(`textarea[name="text"]`), "通道已于当日清理，见照片"),
				chromedp.SetUploadFiles(chromedp.CSS(`input[name="evidence"]`), []string{photo}),
				chromedp.Click(chromedp.ID("object-submit")), chromedp.WaitVisible(chromedp.ID("objection")))
			if got := text(co); !strings.Contains(got, vp.want["objected"]) {
				t.Errorf("after objecting: %q", got)
			}
			// Back to the filled-in form, and submit it again.
			// Opened again, the record shows the objection and no second form (the refusal of a
			// second objection sent anyway is TestCreditCycleOverHTTP's).
			co.Do(chromedp.Navigate(base+"/company/credit/"+id), chromedp.WaitVisible(chromedp.ID("objection")))
			if n := browsertest.Run(co, chromedp.Evaluate[int64](`document.querySelectorAll("#object").length`)); n != 0 {
				t.Error("the objection form is offered again")
			}
			co.Screenshot("company-objected")

			// Another reviewer decides.
			rev2 := browsertest.New(t, vp.vp, browsertest.Languages(vp.lang))
			login(rev2, "bob")
			rev2.Do(chromedp.Navigate(base+"/credit"), chromedp.WaitVisible(chromedp.ID("awaiting")),
				chromedp.Click(chromedp.CSS(`#awaiting a`)), chromedp.WaitVisible(chromedp.ID("decide")),
				chromedp.Click(chromedp.CSS(`input[name="outcome"][value="rejected"]`)),
				chromedp.SendKeys(chromedp.CSS(`#decide textarea[name="reason"]`), "照片拍摄于告知之后，不能证明当日已清理"),
				chromedp.Click(chromedp.ID("decide-submit")), chromedp.WaitVisible(chromedp.ID("decision")))
			fits(rev2, "the decided record")
			rev2.Screenshot("reviewer-decided")

			co.Do(chromedp.Navigate(base+"/company/credit/"+id), chromedp.WaitVisible(chromedp.ID("decision")))
			got := text(co)
			for _, want := range []string{vp.want["rejected"], "照片拍摄于告知之后，不能证明当日已清理"} {
				if !strings.Contains(got, want) {
					t.Errorf("the company's page lacks %q: %q", want, got)
				}
			}
			fits(co, "the decided record")
			co.Screenshot("company-decision")
			// The console is clean but for the one refusal the reviewer was meant to get.
			for _, p := range rev.Problems() {
				if !strings.Contains(p, "status of 422") || !strings.HasSuffix(p, "/credit)") {
					t.Errorf("reviewer's console: %s", p)
				}
			}
			co.CheckConsole()
			rev2.CheckConsole()
		})
	}
}

// browserCase is a browser journey's screen and language, with the words expected in it.
type browserCase struct {
	name string
	vp   browsertest.Viewport
	lang string
	want map[string]string
}

// browserLogin logs in as name (password "pw") through the form.
func browserLogin(b *browsertest.Browser, base, name string) {
	b.Do(chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS(`input[name="name"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), name), chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "pw"),
		chromedp.Submit(chromedp.CSS(`input[name="password"]`)), chromedp.WaitVisible(chromedp.CSS(".who")))
}

// mainText is the text of the page's main element.
func mainText(b *browsertest.Browser) string {
	return browsertest.Run(b, chromedp.Text(chromedp.CSS("main")))
}

// wantFits fails t if the page is wider than the screen.
func wantFits(t *testing.T, b *browsertest.Browser, vp browsertest.Viewport, page string) {
	t.Helper()
	if w := browsertest.Run(b, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`)); w > vp.Width {
		t.Errorf("%s is %d px wide on a %d px screen", page, w, vp.Width)
	}
}

// Both sides of an objection to a result, in Chromium, on a phone in Chinese and on a desktop
// in English: during the publicity the company objects with a file whose content is not what
// its name says, is refused with the reason, chooses its files again and objects; the reviewer
// sees the files on the publish page, opens the photo and answers; the company reads the
// answer beside its files.
func TestResultObjectionInBrowser(t *testing.T) {
	for _, vp := range []browserCase{
		{"phone-zh", browsertest.Phone, "zh-CN,zh", map[string]string{"content": "文件内容与扩展名不符", "objected": "异议已提交"}},
		{"desktop-en", browsertest.Desktop, "en-US,en", map[string]string{"content": "The file's content does not match its name", "objected": "Your objection is submitted"}},
	} {
		t.Run(vp.name, func(t *testing.T) {
			e := newReportEnv(t)
			e.addAccount("rev", domain.RoleReviewer, "", "pw")
			e.addAccount("rev2", domain.RoleReviewer, "", "pw")
			e.addAccount("red", domain.RoleCompany, reportRed, "pw")
			openPublicity(t, e.loggedIn("rev"))
			base := serve(t, e)
			dir := t.TempDir()
			files := map[string][]byte{"现场.png": append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 200)...), "样本核对.pdf": testPDF}
			files["假的.pdf"] = files["现场.png"]
			path := func(name string) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, files[name], 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			}
			form := `#result-2026Q4 form`

			co := browsertest.New(t, vp.vp, browsertest.Languages(vp.lang))
			browserLogin(co, base, "red")
			co.Do(chromedp.Navigate(base+"/company/results"), chromedp.WaitVisible(chromedp.CSS(form)),
				chromedp.SendKeys(chromedp.CSS(form+` textarea[name="text"]`), "E1 小区样本有误"),
				chromedp.SetUploadFiles(chromedp.CSS(form+` input[name="evidence"]`), []string{path("假的.pdf")}),
				chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".field-error")))
			if got := mainText(co); !strings.Contains(got, vp.want["content"]) {
				t.Errorf("refused file: %q", got)
			}
			if kept := browsertest.Run(co, chromedp.Evaluate[string](`document.querySelector("`+form+` textarea").value`)); kept != "E1 小区样本有误" {
				t.Errorf("the text was not kept: %q", kept)
			}
			wantFits(t, co, vp.vp, "the refused objection")
			co.Screenshot("company-file-refused")
			// The text is kept; files never are: choose them again.
			co.Do(chromedp.SetUploadFiles(chromedp.CSS(form+` input[name="evidence"]`), []string{path("样本核对.pdf"), path("现场.png")}),
				chromedp.Click(chromedp.CSS(form+` button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(`#result-2026Q4 .files`)))
			got := mainText(co)
			for _, want := range []string{vp.want["objected"], "E1 小区样本有误", "样本核对.pdf", "现场.png"} {
				if !strings.Contains(got, want) {
					t.Errorf("after objecting, the page lacks %q: %q", want, got)
				}
			}
			if n := browsertest.Run(co, chromedp.Evaluate[int64](`document.querySelectorAll("#result-2026Q4 form").length`)); n != 0 {
				t.Error("the objection form is offered again")
			}
			co.Screenshot("company-objected")

			// Reviewers work at a desk.
			rev2 := browsertest.New(t, browsertest.Desktop, browsertest.Languages(vp.lang))
			browserLogin(rev2, base, "rev2")
			rev2.Do(chromedp.Navigate(base+"/publish/2026Q4"), chromedp.WaitVisible(chromedp.ID("result-objections")))
			href := browsertest.Run(rev2, chromedp.Evaluate[string](`[...document.querySelectorAll("#result-objections .files a")].find(a => a.textContent == "现场.png").getAttribute("href")`))
			rev2.Screenshot("reviewer-objection")
			opened := browsertest.Run(rev2, chromedp.Evaluate[string](`fetch("`+href+`").then(r => r.status + " " + r.headers.get("content-type"))`, chromedp.EvalAwaitPromise))
			if opened != "200 image/png" {
				t.Errorf("the photo opens as %q", opened)
			}
			rev2.Do(chromedp.SendKeys(chromedp.CSS(`#result-objections textarea[name="answer"]`), "样本经核对无误，维持结果"),
				chromedp.Click(chromedp.CSS(`#result-objections button[type="submit"]`)), chromedp.WaitNotPresent(chromedp.CSS(`#result-objections textarea`)))
			rev2.Screenshot("reviewer-answered")
			if got := mainText(rev2); !strings.Contains(got, "样本经核对无误，维持结果") {
				t.Errorf("after answering: %q", got)
			}

			co.Do(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#result-2026Q4 .files`)))
			if got := mainText(co); !strings.Contains(got, "样本经核对无误，维持结果") || !strings.Contains(got, "现场.png") {
				t.Errorf("the company's page after the answer: %q", got)
			}
			wantFits(t, co, vp.vp, "the answered objection")
			co.Screenshot("company-answered")
			for _, p := range co.Problems() { // the one refusal the company was meant to get
				if !strings.Contains(p, "status of 422") {
					t.Errorf("company's console: %s", p)
				}
			}
			rev2.CheckConsole()
		})
	}
}
