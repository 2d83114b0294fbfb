package web

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/auth"
	"github.com/propcredit/propcredit/internal/derrors"
)

// Changing one's password. An account created with a one-time password (by an administrator
// on the web, or by `propcredit user add`) is sent here at its first log-in, and until it has
// chosen a password of its own its session may do nothing else (mustChangePassword).

type passwordData struct {
	Forced bool // the session logged in with a one-time password
	Fields map[string]string
	Error  string
	Done   bool
}

func (s *Server) passwordForm(c *fiber.Ctx) error {
	sess := currentSession(c)
	return s.render(c, "account_password", passwordData{Forced: sess != nil && sess.MustChangePassword, Done: c.Query("ok") == "1"})
}

func (s *Server) changePassword(c *fiber.Ctx) error {
	acct, _ := CurrentAccount(c)
	sess := currentSession(c)
	data := passwordData{Forced: sess != nil && sess.MustChangePassword, Fields: map[string]string{}}
	current, next, again := c.FormValue("current"), c.FormValue("new"), c.FormValue("confirm")
	// The rule is auth's, as for every password a person chooses (web, API, CLI).
	switch err := auth.CheckNewPassword(next, acct.Name); {
	case errors.Is(err, auth.ErrPasswordShort):
		data.Fields["new"] = Msg(c, "password.too_short", auth.MinPasswordChars)
	case errors.Is(err, auth.ErrPasswordLong):
		data.Fields["new"] = Msg(c, "password.too_long", auth.MaxPasswordBytes)
	case errors.Is(err, auth.ErrPasswordCommon):
		data.Fields["new"] = Msg(c, "password.common")
	case errors.Is(err, auth.ErrPasswordName):
		data.Fields["new"] = Msg(c, "password.name")
	case err != nil:
		data.Fields["new"] = Msg(c, "password.text")
	case next == current:
		data.Fields["new"] = Msg(c, "password.same")
	case again != next:
		data.Fields["confirm"] = Msg(c, "password.mismatch")
	}
	_, ok, err := s.checkPassword(c, acct.Name, current)
	if err != nil {
		return err
	}
	if !ok {
		data.Fields["current"] = Msg(c, "password.wrong")
	}
	if len(data.Fields) > 0 {
		data.Error = Msg(c, "password.fix")
		return s.renderStatus(c, fiber.StatusUnprocessableEntity, "account_password", data)
	}
	hash, err := auth.HashPassword(next)
	if err != nil {
		return err
	}
	ctx, cancel := s.dbContext(c)
	defer cancel()
	if err := s.db.ChangePassword(ctx, acct.ID, hash); err != nil {
		return err
	}
	// Every session of the account ends (ASVS 7.4.3): whoever logged in elsewhere with the old
	// password is out, on every server. This browser gets a new session, without the duty to
	// change: its old token is worthless too.
	ended, err := s.db.DeleteSessionsOf(ctx, acct.ID)
	if err != nil {
		return err
	}
	if err := s.audited(c, audit.Change{Action: "account.password", Object: "account/" + acct.Name, Company: acct.Company,
		Before: map[string]any{"must_change": data.Forced}, After: map[string]any{"must_change": false}}); err != nil {
		return err
	}
	a, err := s.db.AccountByName(ctx, acct.Name)
	if err != nil {
		return err
	}
	if err := s.startSession(c, a); err != nil {
		return err
	}
	s.log.Info("password changed", "account", acct.Name, "one_time", data.Forced, "sessions_ended", ended, "request_id", RequestID(c))
	return c.Redirect("/account/password?ok=1", fiber.StatusSeeOther)
}

// mustChangePassword keeps a session that logged in with a one-time password on the
// change-password page: pages send it there, other requests are refused. Logging out,
// static files and the public API stay open.
func (s *Server) mustChangePassword(c *fiber.Ctx) error {
	sess := currentSession(c)
	if sess == nil || !sess.MustChangePassword {
		return c.Next()
	}
	switch path := c.Path(); {
	case path == "/account/password", path == "/logout", isStatic(path), isAPI(path), strings.HasPrefix(path, "/assets/"):
		return c.Next()
	}
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		return c.Redirect("/account/password", fiber.StatusSeeOther)
	}
	return derrors.Errorf(derrors.Forbidden, "%s", Msg(c, "password.must_change"))
}

func init() {
	addTemplateFuncs(map[string]any{"minPasswordChars": func() int { return auth.MinPasswordChars }})
	addMessages(map[string]message{
		"nav.password":         {"修改密码", "Change password"},
		"password.title":       {"修改密码", "Change your password"},
		"password.forced":      {"您正在使用管理员发放的一次性密码。请先设置只有您自己知道的新密码，然后才能继续使用系统。", "You logged in with a one-time password from an administrator. Choose a password only you know before you go on."},
		"password.current":     {"当前密码", "Current password"},
		"password.new":         {"新密码（至少%d位）", "New password (at least %d characters)"},
		"password.confirm":     {"再次输入新密码", "New password again"},
		"password.submit":      {"修改密码", "Change password"},
		"password.done":        {"密码已修改。", "Your password has been changed."},
		"password.fix":         {"密码未修改，请更正以下问题。", "The password was not changed: see below."},
		"password.too_short":   {"新密码至少需要%d位", "The new password needs at least %d characters"},
		"password.too_long":    {"新密码不能超过%d字节", "The new password may have at most %d bytes"},
		"password.common":      {"这是最常见的密码之一，攻击者会最先尝试，请换一个", "This is one of the most common passwords, which attackers try first: choose another"},
		"password.name":        {"新密码不能与账号名相同", "The new password may not be the account name"},
		"password.text":        {"新密码不能含控制字符", "The new password may not contain control characters"},
		"password.same":        {"新密码不能与当前密码相同", "The new password must differ from the current one"},
		"password.mismatch":    {"两次输入的新密码不一致", "The two new passwords differ"},
		"password.wrong":       {"当前密码不正确", "The current password is wrong"},
		"password.must_change": {"请先修改一次性密码", "Change your one-time password first"},
	})
}
