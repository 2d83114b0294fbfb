package web

import (
	"net/http"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/backup"
	"github.com/propcredit/propcredit/internal/domain"
)

// TestBackupStatusShown: /readyz and /admin/backups say how the scheduled backups go, in both
// languages; a failing backup leaves the server ready; only administrators see the page.
func TestBackupStatusShown(t *testing.T) {
	e := newEnv(t)
	at := time.Date(2026, 12, 4, 6, 0, 0, 0, time.UTC)
	status := backup.Status{Dir: "/backups", Every: 6 * time.Hour, Keep: 28,
		LastSuccess: at, LastFile: "/backups/propcredit-20261204T060000.000Z.pcbackup", LastSeconds: 2.5, Next: at.Add(6 * time.Hour)}
	s, err := New(Config{DB: e.db, Log: e.s.log, Backups: func() backup.Status { return status }})
	if err != nil {
		t.Fatal(err)
	}
	e.addAccount("admin1", domain.RoleAdmin, "", "correct horse battery")
	e.addAccount("rev1", domain.RoleReviewer, "", "correct horse battery")
	c := e.clientOf(s)

	r := c.get("/readyz")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "ok\nbackup: ok; last success 2026-12-04T06:00:00Z (/backups/propcredit-20261204T060000.000Z.pcbackup, 2.5 s); next 2026-12-04T12:00:00Z")

	status.Failing, status.LastFailure, status.LastError = true, at.Add(6*time.Hour), "write the backup: no space left on device"
	r = c.get("/readyz")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "backup: FAILING", "last failure 2026-12-04T12:00:00Z: write the backup: no space left on device")

	rev := e.clientOf(s)
	rev.mustLogin("rev1", "correct horse battery")
	wantStatus(t, rev.get("/admin/backups"), http.StatusForbidden)

	c.mustLogin("admin1", "correct horse battery")
	r = c.get("/admin/backups")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "数据备份", "最近一次备份失败", "no space left on device", "/backups", "6h0m0s", "28", "备份失败不会影响系统服务")
	r = c.get("/admin/backups?lang=en")
	wantBody(t, r, "The latest backup failed", "no space left on device")

	// Without scheduled backups the page says how to turn them on.
	e.s = e.newServer()
	c2 := e.client()
	wantBody(t, c2.get("/readyz"), "backup: no scheduled backups")
	c2.mustLogin("admin1", "correct horse battery")
	wantBody(t, c2.get("/admin/backups"), "--backup-dir")
}
