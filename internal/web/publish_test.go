package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/propcredit/propcredit/internal/domain"
)

var draftFieldPattern = regexp.MustCompile(`name="draft" value="([^"]+)"`)

// A reviewer scores a period, looks the draft over, and publishes it with the confirmation;
// the public pages show it at once.
func TestPublishThroughTheWeb(t *testing.T) {
	e := newReportEnv(t)
	rev := e.user("rev", domain.RoleReviewer, "")
	public := e.client()
	wantStatus(t, public.get("/lists/2026Q4"), http.StatusNotFound)

	r := rev.get("/publish")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, `href="/publish/2026Q4"`, `href="/publish/2026Q3"`, "未评分")

	r = rev.get("/publish/2026Q4")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "本期还没有草稿", "立即评分", "本期尚未发布")

	// Score now.
	r = rev.post("/publish/2026Q4/score", url.Values{"_csrf": {rev.csrf("/publish/2026Q4")}})
	wantStatus(t, r, http.StatusSeeOther)
	r = rev.get(r.location())
	wantStatus(t, r, http.StatusOK)
	draft, err := e.s.pubs.Draft(context.Background(), "2026Q4")
	if err != nil {
		t.Fatal(err)
	}
	if draft.CreatedBy != "rev" {
		t.Errorf("draft scored by %q", draft.CreatedBy)
	}
	wantBody(t, r, "default@1", draft.InputsHash, "阳光物业", "AAA", "红榜", "提示（1）", "1 份信息公开尚待审核，已按提交的内容计分")
	// The period runs on and a filing awaits review: both said, with their numbers.
	wantBody(t, r, `id="caveats"`, "尚未结束（到 2026-12-31", "仍有 1 份信息公开等待审核", `name="early"`)
	version := draftFieldPattern.FindStringSubmatch(r.body)
	if version == nil {
		t.Fatalf("no draft version in the publish form:\n%s", r.body)
	}
	csrf := csrfPattern.FindStringSubmatch(r.body)[1]

	// Without the confirmation: the form again, nothing published.
	r = rev.post("/publish/2026Q4", url.Values{"_csrf": {csrf}, "draft": {version[1]}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "请勾选确认后再发布")
	if pubs, _ := e.db.Publications(context.Background(), "2026Q4"); len(pubs) != 0 {
		t.Fatalf("published without confirmation: %v", pubs)
	}
	// A draft version the reviewer never saw.
	r = rev.post("/publish/2026Q4", url.Values{"_csrf": {csrf}, "draft": {"stale"}, "confirm": {"yes"}})
	wantStatus(t, r, http.StatusConflict)
	wantBody(t, r, "草稿在您查看后已被重新评分")
	// Without a CSRF token.
	wantStatus(t, rev.post("/publish/2026Q4", url.Values{"draft": {version[1]}, "confirm": {"yes"}}), http.StatusForbidden)

	// The first confirmation is not enough while the period is open and filings wait.
	r = rev.post("/publish/2026Q4", url.Values{"_csrf": {csrf}, "draft": {version[1]}, "confirm": {"yes"}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantBody(t, r, "尚未发布：请勾选", "现在发布为提前发布，请勾选第二项确认")
	if pubs, _ := e.db.Publications(context.Background(), "2026Q4"); len(pubs) != 0 {
		t.Fatalf("published early with one confirmation: %v", pubs)
	}
	r = rev.post("/publish/2026Q4", url.Values{"_csrf": {csrf}, "draft": {version[1]}, "confirm": {"yes"}, "early": {"yes"}})
	wantStatus(t, r, http.StatusSeeOther)
	if r.location() != "/publish/2026Q4?published=1" {
		t.Errorf("after publishing: %q", r.location())
	}
	wantBody(t, rev.get(r.location()), "已完成第1次发布", "与现行发布的数据和规则相同")
	pubs, err := e.db.Publications(context.Background(), "2026Q4")
	if err != nil || len(pubs) != 1 || pubs[0].CreatedBy != "rev" || pubs[0].InputsHash != draft.InputsHash {
		t.Fatalf("publications %+v, %v", pubs, err)
	}
	// Seen at once, although the public page was looked up (and its absence cached) before.
	r = public.get("/lists/2026Q4")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "阳光物业", "第1次发布")
}

func TestPublishErrors(t *testing.T) {
	e := newReportEnv(t)
	admin := e.user("admin", domain.RoleAdmin, "")
	csrf := admin.csrf("/publish")
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/publish/2025Q1", http.StatusNotFound, "评价期“2025Q1”不存在"},
		{"/publish/2025Q1/score", http.StatusNotFound, "评价期“2025Q1”不存在"},
		{"/publish/2026Q4", http.StatusConflict, "本期还没有草稿"}, // publishing before scoring
	} {
		r := admin.post(tc.path, url.Values{"_csrf": {csrf}, "confirm": {"yes"}})
		wantStatus(t, r, tc.status)
		wantBody(t, r, tc.want)
	}
	wantStatus(t, admin.get("/publish/2025Q1"), http.StatusNotFound)

	// Neither companies nor evaluators publish; anonymous visitors are sent to log in.
	co := e.user("co", domain.RoleCompany, reportRed)
	wantStatus(t, co.get("/publish/2026Q4"), http.StatusForbidden)
	r := e.client().get("/publish/2026Q4")
	wantStatus(t, r, http.StatusSeeOther)
	if !strings.HasPrefix(r.location(), "/login") {
		t.Errorf("anonymous: redirect to %q", r.location())
	}
	if !strings.Contains(admin.get("/").body, `href="/publish"`) || strings.Contains(co.get("/").body, `href="/publish"`) {
		t.Error("the publishing link is not shown to exactly those who may publish")
	}
}
