package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/auth"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/signin"
)

// accountRoutes are log-in, log-out, the account page and account administration.
func (s *Server) accountRoutes() {
	s.handle(fiber.MethodGet, "/login", Public, s.loginForm)
	s.handle(fiber.MethodPost, "/login", Public, s.login)
	// Public: logging out without a session (it expired) just clears the cookie.
	s.handle(fiber.MethodPost, "/logout", Public, s.logout)
	s.handle(fiber.MethodGet, "/account", LoggedIn, s.account)
	s.handle(fiber.MethodGet, "/account/password", LoggedIn, s.passwordForm)
	s.handle(fiber.MethodPost, "/account/password", LoggedIn, s.changePassword)
	s.handle(fiber.MethodGet, "/admin/accounts", Roles(domain.RoleAdmin), s.adminAccounts)
	s.handle(fiber.MethodPost, "/admin/accounts", Roles(domain.RoleAdmin), s.createAccount)
	s.handle(fiber.MethodPost, "/admin/accounts/:id/disable", Roles(domain.RoleAdmin), s.setDisabled(true))
	s.handle(fiber.MethodPost, "/admin/accounts/:id/enable", Roles(domain.RoleAdmin), s.setDisabled(false))
	s.addNav("nav.account", "/account", LoggedIn)
	s.addNav("nav.admin_accounts", "/admin/accounts", Roles(domain.RoleAdmin))
}

// Log-in throttles: the rules are internal/signin's. Here: the form, the device cookie (a
// signed random id that a browser gets when it logs in, so that its attempts at that account
// count for it alone), and the answers.

type loginData struct {
	Name, Next, Error string
}

func (s *Server) loginForm(c *fiber.Ctx) error {
	return s.render(c, "login", loginData{Next: localPath(c.Query("next"))})
}

func (s *Server) login(c *fiber.Ctx) error {
	name := strings.TrimSpace(c.FormValue("name"))
	pw := c.FormValue("password")
	next := localPath(c.FormValue("next"))
	if len(name) > 64 { // no such account; keep only what is worth showing again
		name = strings.ToValidUTF8(name[:64], "")
	}
	ctx, cancel := s.dbContext(c)
	defer cancel()
	now := s.now()

	// waitFor says how long to wait, and sets Retry-After. A failure that starts a wait is
	// answered 200 with the form (the password was checked: it was wrong); an attempt made
	// before the wait is over is answered 429 (it was not checked).
	waitFor := func(until time.Time) string {
		wait := until.Sub(now)
		setRetryAfter(c, wait)
		if wait >= time.Minute {
			return Msg(c, "login.locked", int((wait+time.Minute-1)/time.Minute))
		}
		return Msg(c, "login.wait", max(int((wait+time.Second-1)/time.Second), 1))
	}
	refuse := func(until time.Time) error {
		return s.renderStatus(c, fiber.StatusTooManyRequests, "login", loginData{Name: name, Next: next, Error: waitFor(until)})
	}

	// Count the attempt before checking the password, so that parallel guesses cannot all
	// be checked before the lock.
	attempt, until, err := s.signin.Begin(ctx, s.signinAttempt(c, name), now)
	if err != nil {
		return err
	}
	if !until.IsZero() {
		return refuse(until)
	}

	acct, ok, err := s.checkPassword(c, name, pw)
	if err != nil {
		return err
	}
	if !ok {
		until, err := s.signin.Failed(ctx, attempt, now)
		if err != nil {
			return err
		}
		if err := s.auditLogin(c, name, acct, "wrong_password"); err != nil {
			return s.loginNotAudited(c, loginData{Name: name, Next: next}, err)
		}
		// 200, not 401: the form is shown again, and 401 is kept for "log in first".
		data := loginData{Name: name, Next: next, Error: Msg(c, "login.failed")}
		if !until.IsZero() {
			data.Error += Msg(c, "login.then") + waitFor(until)
		}
		return s.render(c, "login", data)
	}
	if err := s.signin.Succeeded(ctx, attempt); err != nil {
		s.log.Warn("clear log-in throttle", "err", err, "request_id", RequestID(c))
	}
	if auth.NeedsRehash(acct.PasswordHash) {
		// The stored hash is weaker than today's parameters: replace it while we know the
		// password.
		if h, err := auth.HashPassword(pw); err == nil {
			if err := s.db.SetPassword(ctx, acct.ID, h); err != nil {
				s.log.Warn("rehash password", "err", err, "account", acct.Name)
			}
		}
	}
	if acct.Disabled {
		return s.refuseDisabled(c, loginData{Name: name, Next: next}, acct)
	}
	// The log-in is in the audit trail before its session exists, so that no session is
	// without its entry. When the trail cannot take the entry (a full disk), nobody is logged
	// in: the person is told to try again later. (If the session then fails to start, the
	// trail shows a log-in that came to nothing, which is the safe side.)
	if err := s.auditLogin(c, name, acct, ""); err != nil {
		return s.loginNotAudited(c, loginData{Name: name, Next: next}, err)
	}
	if err := s.startSession(c, acct); err != nil {
		return err
	}
	// An administrator may have disabled the account while this log-in was under way, after
	// the check above and before the session existed, so that ending its sessions missed this
	// one. Read the account again now that the session exists.
	if again, err := s.db.AccountByID(ctx, acct.ID); err != nil || again.Disabled {
		if eerr := s.endSession(c); eerr != nil {
			return eerr
		}
		if err != nil {
			return err
		}
		return s.refuseDisabled(c, loginData{Name: name, Next: next}, acct)
	}
	s.rememberDevice(c, acct.Name)
	s.log.Info("log-in", "account", acct.Name, "role", acct.Role, "request_id", RequestID(c))
	if acct.MustChangePassword {
		return c.Redirect("/account/password", fiber.StatusSeeOther)
	}
	if next == "" {
		next = "/account"
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// refuseDisabled refuses, audited, a log-in with the right password to a disabled account. It
// is said only after the right password, so that it tells a guesser nothing.
func (s *Server) refuseDisabled(c *fiber.Ctx, data loginData, acct domain.Account) error {
	if err := s.auditLogin(c, data.Name, acct, "disabled"); err != nil {
		return s.loginNotAudited(c, data, err)
	}
	data.Error = Msg(c, "login.disabled")
	return s.renderStatus(c, fiber.StatusForbidden, "login", data)
}

// loginNotAudited answers a log-in whose audit entry the trail did not take (a full disk):
// whatever the password was, the person is told to try again later (503), and nobody is
// logged in.
func (s *Server) loginNotAudited(c *fiber.Ctx, data loginData, err error) error {
	s.log.Error("log-in not audited: refused", "err", err, "request_id", RequestID(c))
	setRetryAfter(c, 30*time.Second)
	data.Error = Msg(c, "login.no_audit")
	return s.renderStatus(c, fiber.StatusServiceUnavailable, "login", data)
}

// checkPassword finds the account called name and checks pw. An unknown name takes as long
// as a wrong password, so response times do not tell which names exist.
func (s *Server) checkPassword(c *fiber.Ctx, name, pw string) (domain.Account, bool, error) {
	if !domain.IsIdent(name) || len(pw) > auth.MaxPasswordBytes { // longer input is a wrong password
		auth.VerifyUnknown(pw[:min(len(pw), auth.MaxPasswordBytes)])
		return domain.Account{}, false, nil
	}
	ctx, cancel := s.dbContext(c)
	defer cancel()
	acct, err := s.db.AccountByName(ctx, name)
	if derrors.Code(err) == derrors.NotFound {
		auth.VerifyUnknown(pw)
		// Not the name: people type their password into the name field.
		s.log.Info("log-in failed", "reason", "unknown name", "request_id", RequestID(c))
		return domain.Account{}, false, nil
	}
	if err != nil {
		return domain.Account{}, false, err
	}
	ok, err := auth.VerifyPassword(acct.PasswordHash, pw)
	if err != nil {
		// A stored hash we cannot read: nobody can log in to this account until an
		// administrator sets a new password. Say so in the log, not to the visitor.
		s.log.Error("unreadable password hash", "account", acct.Name, "err", err)
		return domain.Account{}, false, nil
	}
	if !ok {
		s.log.Info("log-in failed", "reason", "wrong password", "account", acct.Name, "request_id", RequestID(c))
	}
	return acct, ok, nil
}

// signinAttempt says who attempts to log in to account name: the device of the browser's
// device cookie, if it is genuine and made for that name, and the hash of the client address.
func (s *Server) signinAttempt(c *fiber.Ctx, name string) signin.Attempt {
	device, _ := s.knownDevice(c, name)
	return signin.Attempt{Name: name, Device: device, AddressHash: s.addressHash(ClientIP(c))}
}

func (s *Server) deviceCookie() string { return s.cookieName("pc_device") }

// rememberDevice gives the browser a device cookie for account name: a random id signed with
// the server key, so that nobody can make one for an account without logging in to it.
func (s *Server) rememberDevice(c *fiber.Ctx, name string) {
	id := randomString(16)
	c.Cookie(&fiber.Cookie{Name: s.deviceCookie(), Value: id + "." + s.deviceMAC(name, id) + "." + name,
		Path: "/login", Expires: s.now().Add(signin.DeviceLife), Secure: s.secure, HTTPOnly: true,
		SameSite: fiber.CookieSameSiteStrictMode})
}

// knownDevice returns the device id of the browser's device cookie, if it was made for name.
func (s *Server) knownDevice(c *fiber.Ctx, name string) (string, bool) {
	// id.mac.name: the id and the MAC have no dots; a name may.
	parts := strings.SplitN(c.Cookies(s.deviceCookie()), ".", 3)
	if len(parts) != 3 || parts[2] != name || !hmac.Equal([]byte(parts[1]), []byte(s.deviceMAC(name, parts[0]))) {
		return "", false
	}
	return parts[0], true
}

func (s *Server) deviceMAC(name, id string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("device|" + name + "|" + id))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// addressHash is a salted hash of a client address, so that throttles store no addresses.
// IPv6 clients are keyed by their /64, which one subscriber usually has whole.
func (s *Server) addressHash(ip string) string {
	key := ip
	if a, err := netip.ParseAddr(ip); err == nil && a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		key = p.String()
	}
	m := hmac.New(sha256.New, s.ipSalt)
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// localPath returns p if it is a path on this site, and "" otherwise, so that ?next= cannot
// send a user who has just logged in to another site.
func localPath(p string) string {
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || len(p) > 2000 {
		return ""
	}
	// Browsers read "\" as "/", so "/\evil.example" would be "//evil.example".
	for _, r := range p {
		if r == '\\' || r < 0x20 || r == 0x7f {
			return ""
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return ""
	}
	return p
}

// auditLogin records a log-in (failure "") or a failed one: never the password; the name
// tried only when it names an account (people type their password into the name field), else
// a salted hash of it; and the salted hash of the client's address.
func (s *Server) auditLogin(c *fiber.Ctx, name string, acct domain.Account, failure string) error {
	client := s.addressHash(ClientIP(c))
	if failure == "" {
		return s.auditedAs(c, audit.Actor{Name: acct.Name, Role: acct.Role}, audit.Change{Action: "account.login",
			Object: "account/" + acct.Name, Company: acct.Company, After: map[string]any{"client": client}})
	}
	after := map[string]any{"client": client, "failure": failure}
	object := "account/" + acct.Name
	if acct.Name == "" {
		object, after["failure"], after["name_hash"] = "account/~unknown", "unknown_name", s.nameHash(name)
	}
	return s.auditedAs(c, audit.Actor{Name: "anonymous", Role: "anonymous"}, audit.Change{Action: "account.login_failed",
		Object: object, Company: acct.Company, After: after})
}

// nameHash is a salted hash of an unknown name tried at log-in, so that repeated guesses can be
// told apart without storing what may be a password.
func (s *Server) nameHash(name string) string {
	m := hmac.New(sha256.New, s.ipSalt)
	m.Write([]byte("login-name|" + name))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func (s *Server) logout(c *fiber.Ctx) error {
	if acct, ok := CurrentAccount(c); ok {
		if err := s.audited(c, audit.Change{Action: "account.logout", Object: "account/" + acct.Name, Company: acct.Company}); err != nil {
			return err
		}
	}
	if err := s.endSession(c); err != nil {
		return err
	}
	return c.Redirect("/", fiber.StatusSeeOther)
}

type accountData struct {
	CompanyName string
	History     auditRowsData // the account's newest entries: log-ins, failed ones, password changes
}

// accountHistoryLimit is how many of its newest entries the account page shows.
const accountHistoryLimit = 20

func (s *Server) account(c *fiber.Ctx) error {
	acct, _ := CurrentAccount(c)
	var data accountData
	ctx, cancel := s.dbContext(c)
	defer cancel()
	if acct.Company != "" {
		co, err := s.db.Company(ctx, acct.Company)
		if err != nil && derrors.Code(err) != derrors.NotFound {
			return err
		}
		data.CompanyName = co.Name
	}
	var err error
	if data.History, err = s.objectHistory(c, "account/"+acct.Name, accountHistoryLimit); err != nil {
		return err
	}
	return s.render(c, "account", data)
}

type accountForm struct {
	Name, Role, Company string
}

type adminAccountsData struct {
	Accounts []domain.Account
	Roles    []string
	Form     accountForm
	Fields   map[string]string
	Error    string
	// Created and Password are set once, on the response that creates the account.
	Created  *domain.Account
	Password string
}

func (s *Server) adminAccounts(c *fiber.Ctx) error {
	return s.showAccounts(c, fiber.StatusOK, adminAccountsData{Form: accountForm{Role: domain.RoleReviewer}})
}

func (s *Server) showAccounts(c *fiber.Ctx, status int, data adminAccountsData) error {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	accounts, err := s.db.Accounts(ctx)
	if err != nil {
		return err
	}
	data.Accounts = accounts
	data.Roles = domain.Roles
	return s.renderStatus(c, status, "admin_accounts", data)
}

// createAccount makes an account with a one-time password and shows the password once.
func (s *Server) createAccount(c *fiber.Ctx) error {
	form := accountForm{
		Name:    strings.TrimSpace(c.FormValue("name")),
		Role:    c.FormValue("role"),
		Company: strings.ToUpper(strings.TrimSpace(c.FormValue("company"))),
	}
	if form.Role != domain.RoleCompany {
		form.Company = "" // only company accounts belong to a company
	}
	data := adminAccountsData{Form: form}
	a := domain.Account{Name: form.Name, Role: form.Role, Company: form.Company, CreatedAt: s.now().UTC()}
	if err := s.val.Check(a, Lang(c)); err != nil {
		var de *derrors.Error
		if !errors.As(err, &de) {
			return err
		}
		data.Fields, data.Error = de.Fields, de.Message
		return s.showAccounts(c, fiber.StatusUnprocessableEntity, data)
	}
	ctx, cancel := s.dbContext(c)
	defer cancel()
	if a.Company != "" {
		_, err := s.db.Company(ctx, a.Company)
		if derrors.Code(err) == derrors.NotFound {
			data.Fields = map[string]string{"company": Msg(c, "admin.accounts.no_company")}
			return s.showAccounts(c, fiber.StatusUnprocessableEntity, data)
		}
		if err != nil {
			return err
		}
	}
	password := auth.NewPassword()
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	a.PasswordHash, a.MustChangePassword = hash, true
	if err := s.db.CreateAccount(ctx, a); err != nil {
		if derrors.Code(err) != derrors.Conflict {
			return err
		}
		data.Error = derrors.Message(err)
		return s.showAccounts(c, fiber.StatusConflict, data)
	}
	admin, _ := CurrentAccount(c)
	if err := s.audited(c, audit.Change{Action: "account.create", Object: "account/" + a.Name, Company: a.Company,
		After: map[string]any{"name": a.Name, "role": a.Role, "company": a.Company}}); err != nil {
		return err
	}
	s.log.Info("account created", "account", a.Name, "role", a.Role, "company", a.Company,
		"by", admin.Name, "request_id", RequestID(c))
	a.ID = a.Name
	return s.showAccounts(c, fiber.StatusCreated, adminAccountsData{
		Form: accountForm{Role: domain.RoleReviewer}, Created: &a, Password: password})
}

// setDisabled disables or enables an account. Disabling ends the account's sessions at once,
// on every server: sessions live in the database.
func (s *Server) setDisabled(disabled bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx, cancel := s.dbContext(c)
		defer cancel()
		target, err := s.db.AccountByID(ctx, c.Params("id"))
		if err != nil {
			return err
		}
		me, _ := CurrentAccount(c)
		if disabled && target.ID == me.ID {
			return derrors.Errorf(derrors.Conflict, "%s", Msg(c, "admin.accounts.not_self"))
		}
		if err := s.db.SetDisabled(ctx, target.ID, disabled); err != nil {
			return err
		}
		var ended int64
		if disabled {
			if ended, err = s.db.DeleteSessionsOf(ctx, target.ID); err != nil {
				return err
			}
		}
		if err := s.audited(c, audit.Change{Action: "account.disable", Object: "account/" + target.Name, Company: target.Company,
			Before: map[string]any{"disabled": target.Disabled}, After: map[string]any{"disabled": disabled, "sessions_ended": ended}}); err != nil {
			return err
		}
		s.log.Info("account disabled or enabled", "account", target.Name, "disabled", disabled,
			"sessions_ended", ended, "by", me.Name, "request_id", RequestID(c))
		return c.Redirect("/admin/accounts", fiber.StatusSeeOther)
	}
}
