package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/backup"
	"github.com/propcredit/propcredit/internal/domain"
)

// backupRoutes are the administrators' page about scheduled backups.
func (s *Server) backupRoutes() {
	s.handle(fiber.MethodGet, "/admin/backups", Roles(domain.RoleAdmin), s.adminBackups)
	s.addNav("nav.admin_backups", "/admin/backups", Roles(domain.RoleAdmin))
}

type adminBackupsData struct {
	Enabled bool
	Status  backup.Status
}

func (s *Server) adminBackups(c *fiber.Ctx) error {
	var data adminBackupsData
	if s.backups != nil {
		data.Enabled, data.Status = true, s.backups()
	}
	return s.render(c, "admin_backups", data)
}

// backupDetail is the line /readyz adds about scheduled backups. A failing backup does not make
// the server unready: it serves on, and says so.
func (s *Server) backupDetail() string {
	if s.backups == nil {
		return "backup: no scheduled backups (serve --backup-dir)"
	}
	st := s.backups()
	var parts []string
	switch {
	case st.Failing:
		parts = append(parts, "backup: FAILING")
	case st.LastSuccess.IsZero() && st.Running:
		parts = append(parts, "backup: first backup running")
	case st.LastSuccess.IsZero():
		parts = append(parts, "backup: none yet")
	default:
		parts = append(parts, "backup: ok")
	}
	if !st.LastSuccess.IsZero() {
		parts = append(parts, fmt.Sprintf("last success %s (%s, %.1f s)", st.LastSuccess.UTC().Format(time.RFC3339), st.LastFile, st.LastSeconds))
	}
	if !st.LastFailure.IsZero() {
		parts = append(parts, fmt.Sprintf("last failure %s: %s", st.LastFailure.UTC().Format(time.RFC3339), st.LastError))
	}
	if !st.Next.IsZero() {
		parts = append(parts, "next "+st.Next.UTC().Format(time.RFC3339))
	}
	return strings.Join(parts, "; ")
}

func init() {
	addMessages(map[string]message{
		"nav.admin_backups":         {"数据备份", "Backups"},
		"admin.backups.title":       {"数据备份", "Backups"},
		"admin.backups.off":         {"本服务器未开启定时备份。启动时加上 --backup-dir 目录 --backup-every 6h --backup-keep 28 即可开启。", "This server makes no scheduled backups. Start it with --backup-dir DIR --backup-every 6h --backup-keep 28 to make them."},
		"admin.backups.dir":         {"备份目录", "Backup directory"},
		"admin.backups.every":       {"备份间隔", "Every"},
		"admin.backups.keep":        {"保留份数", "Kept"},
		"admin.backups.state":       {"状态", "State"},
		"admin.backups.ok":          {"正常", "Working"},
		"admin.backups.failing":     {"最近一次备份失败", "The latest backup failed"},
		"admin.backups.none":        {"尚无备份", "No backup yet"},
		"admin.backups.running":     {"正在备份", "A backup is being made"},
		"admin.backups.last":        {"最近成功", "Last success"},
		"admin.backups.last_fail":   {"最近失败", "Last failure"},
		"admin.backups.next":        {"下次备份", "Next backup"},
		"admin.backups.seconds":     {"用时 %.1f 秒", "took %.1f s"},
		"admin.backups.restore":     {"恢复：停止服务器，执行 propcredit restore --from 备份文件 --data 新目录，然后以 --data 新目录 启动。", "To restore: stop the server, run propcredit restore --from FILE --data NEW-DIR, then serve with --data NEW-DIR."},
		"admin.backups.still_serve": {"备份失败不会影响系统服务，但请尽快处理。", "A failed backup does not stop the service, but needs attention soon."},
	})
}
