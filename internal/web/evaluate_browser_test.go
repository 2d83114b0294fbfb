package web

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/propcredit/propcredit/internal/browsertest"
	"github.com/propcredit/propcredit/internal/qrcode/qrcodetest"
)

// An evaluator, in Chromium, pastes a tender file's bidders (known, unknown and unrated, codes
// and names mixed, as tender files list them), reads the table, downloads the XLSX, opens a
// bidder's certificate and prints it to PDF; the printed certificate's QR code opens /verify,
// which confirms the grade.
func TestBidderLookUpInBrowser(t *testing.T) {
	e := newBidderEnv(t)
	base := serve(t, e) // the site's public address is this listener
	b := browsertest.New(t, browsertest.Desktop)
	pasted := reportRed + "\n" + reportVeto + "，新来物业、" + unknownCompany + "\n\n平平物业\n"
	b.Do(chromedp.Navigate(base+"/login?next=/bidders"),
		chromedp.SendKeys(chromedp.CSS("[name=name]"), "eva"),
		chromedp.SendKeys(chromedp.CSS("[name=password]"), "pw"),
		chromedp.Submit(chromedp.CSS("[name=password]")),
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), pasted),
		chromedp.Submit(chromedp.ID("q")),
		chromedp.WaitVisible(chromedp.ID("bidders")))
	b.Screenshot("look-up")
	statuses := browsertest.Run(b, chromedp.Evaluate[string](`[...document.querySelectorAll("#bidders tbody tr")].map(r => r.dataset.status).join(",")`))
	if statuses != "graded,graded,unrated,unknown,graded" {
		t.Errorf("row statuses %q", statuses)
	}
	notes := browsertest.Run(b, chromedp.Evaluate[string](`document.querySelector("#bidders").innerText`))
	for _, want := range []string{"C", "AAA", "EV-veto", "未对其评级", "本市没有“" + unknownCompany + "”"} {
		if !strings.Contains(notes, want) {
			t.Errorf("the table does not show %q:\n%s", want, notes)
		}
	}
	// The XLSX link downloads a workbook, with the evaluator's session.
	magic := browsertest.Run(b, chromedp.Evaluate[string](`fetch(document.getElementById("xlsx").href).then(r => r.ok ? r.arrayBuffer() : Promise.reject(r.status)).then(b => String.fromCharCode(...new Uint8Array(b).slice(0, 2)) + ":" + b.byteLength)`, chromedp.EvalAwaitPromise))
	if !strings.HasPrefix(magic, "PK:") || len(magic) < 6 {
		t.Errorf("XLSX download: %q", magic)
	}

	// Side by side, for printing: the graded bidders' components, histories and records.
	b.Do(chromedp.Click(chromedp.ID("compare")), chromedp.WaitVisible(chromedp.CSS("table#compare")))
	b.Screenshot("compare")
	compared := browsertest.Run(b, chromedp.Evaluate[string](`document.querySelector("table#compare").innerText`))
	for _, want := range []string{"阳光物业", "弃管物业", "2026Q3: AAA", "EV-veto"} {
		if !strings.Contains(compared, want) {
			t.Errorf("the comparison lacks %q", want)
		}
	}
	b.Do(chromedp.NavigateBack(), chromedp.WaitVisible(chromedp.ID("bidders")))

	// The certificate of the first bidder, printed.
	b.Do(chromedp.Click(chromedp.CSS("#bidders tbody tr:first-child td.grade a")), chromedp.WaitVisible(chromedp.ID("qr")))
	number := browsertest.Run(b, chromedp.Text(chromedp.ID("number")))
	// Printing is bounded like every other browser step: a slow certificate fails here.
	printCtx, cancel := context.WithTimeout(b.Context(), browsertest.Timeout)
	defer cancel()
	pdf, err := chromedp.Call(printCtx, page.PrintToPDF, page.PrintToPDFParams{PreferCSSPageSize: ptrTo(true)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf.Data, []byte("%PDF-")) {
		t.Fatalf("the certificate does not print to a PDF (%d bytes)", len(pdf.Data))
	}
	// On paper the site's menu and the user's name are gone, and the QR code scans.
	if _, err := chromedp.Call(b.Context(), emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	if shown := browsertest.Run(b, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector(".site-header")).display !== "none"`)); shown {
		t.Error("the printed certificate shows the site's header (menu and user name)")
	}
	picture := browsertest.Run(b, chromedp.ScreenshotScale(chromedp.CSS("#qr svg"), 2))
	scanned, err := qrcodetest.DecodePNG(picture)
	if err != nil {
		t.Fatalf("the printed QR code does not scan: %v", err)
	}
	if want := base + "/verify?n=" + number; scanned != want {
		t.Fatalf("the QR code opens %q, want %q", scanned, want)
	}
	// The PDF itself carries the same code: its first page, rasterised by poppler's pdftoppm
	// (Chromium's PDF viewer draws too late under load to be waited for reliably).
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "certificate.pdf"), pdf.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-r", "150", "-png", "-singlefile", "-f", "1", "-l", "1",
		filepath.Join(dir, "certificate.pdf"), filepath.Join(dir, "page")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm (apt-get install poppler-utils): %v %s", err, out)
	}
	page1, err := os.ReadFile(filepath.Join(dir, "page.png"))
	if err != nil {
		t.Fatal(err)
	}
	if fromPDF, err := qrcodetest.DecodePNG(page1); fromPDF != scanned {
		t.Errorf("the QR code in the PDF reads %q (%v), want %q; page: %s", fromPDF, err, scanned, filepath.Join(dir, "page.png"))
	}

	phone := browsertest.New(t, browsertest.Phone)
	phone.Do(chromedp.Navigate(scanned), chromedp.WaitVisible(chromedp.ID("verify-result")))
	if got := browsertest.Run(phone, chromedp.Text(chromedp.ID("verified-grade"))); got != "AAA" {
		t.Errorf("the scanned address verifies grade %q", got)
	}
	if u, _ := url.Parse(scanned); u.Query().Get("n") != number {
		t.Errorf("scanned number %q", u.Query().Get("n"))
	}
	b.CheckConsole()
	phone.CheckConsole()
}

// The look-up on a phone, in English: the table scrolls within its box, and the notes speak
// English.
func TestBidderLookUpOnPhoneInEnglish(t *testing.T) {
	e := newBidderEnv(t)
	base := listenReports(t, e)
	b := browsertest.New(t, browsertest.Phone, browsertest.Languages("en-US,en"))
	b.Do(chromedp.Navigate(base+"/login?next=/bidders"),
		chromedp.SendKeys(chromedp.CSS("[name=name]"), "eva"),
		chromedp.SendKeys(chromedp.CSS("[name=password]"), "pw"),
		chromedp.Submit(chromedp.CSS("[name=password]")),
		chromedp.WaitVisible(chromedp.ID("q")),
		chromedp.SendKeys(chromedp.ID("q"), unknownCompany+","+unratedCompany+","+reportPlain),
		chromedp.Submit(chromedp.ID("q")),
		chromedp.WaitVisible(chromedp.ID("bidders")))
	b.Screenshot("look-up-phone-en")
	text := browsertest.Run(b, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
	for _, want := range []string{"No property-service company “" + unknownCompany + "”", "Registered in this city, but not rated"} {
		if !strings.Contains(text, want) {
			t.Errorf("the English page lacks %q:\n%s", want, text)
		}
	}
	// Each bidder is a card whose facts carry their labels.
	label := browsertest.Run(b, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('#bidders tr[data-status=graded] td[data-label]'), '::before').content`))
	if !strings.Contains(label, "Bidder") {
		t.Errorf("a card's first fact is labelled %s", label)
	}
	if w := browsertest.Run(b, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`)); w > browsertest.Phone.Width {
		t.Errorf("the look-up is %d px wide on a %d px phone", w, browsertest.Phone.Width)
	}
	b.CheckConsole()
}

func ptrTo[T any](v T) *T { return &v }
