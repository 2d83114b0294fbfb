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

	"github.com/propcredit/propcredit/internal/auth"
	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
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
	s.addNav("nav.account", "/account", LoggedIn)
	s.addNav("nav.admin_accounts", "/admin/accounts", Roles(domain.RoleAdmin))
}

// Log-in throttles: per account name, and per client address (which catches one address
// guessing across many names).
var (
	accountThrottle = mongodb.ThrottleRule{Limit: 5, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
	addressThrottle = mongodb.ThrottleRule{Limit: 20, Window: 15 * time.Minute, Lockout: 15 * time.Minute}
)

// maxPasswordLen bounds what is hashed; longer input is a wrong password.
const maxPasswordLen = 256

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

	refuse := func(until time.Time) error {
		wait := until.Sub(now)
		setRetryAfter(c, wait)
		minutes := int((wait + time.Minute - 1) / time.Minute)
		return s.renderStatus(c, fiber.StatusTooManyRequests, "login",
			loginData{Name: name, Next: next, Error: Msg(c, "login.locked", max(minutes, 1))})
	}

	// Count the attempt before checking the password, so that parallel guesses cannot all
	// be checked before the lock.
	attempt, until, err := s.db.CountLoginAttempt(ctx, now, s.loginKeys(c, name)...)
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
		until, err := s.db.LoginFailed(ctx, attempt, now)
		if err != nil {
			return err
		}
		if !until.IsZero() {
			return refuse(until)
		}
		// 200, not 401: the form is shown again, and 401 is kept for "log in first".
		return s.render(c, "login", loginData{Name: name, Next: next, Error: Msg(c, "login.failed")})
	}
	if err := s.db.LoginSucceeded(ctx, attempt); err != nil {
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
	if err := s.startSession(c, acct); err != nil {
		return err
	}
	s.log.Info("log-in", "account", acct.Name, "role", acct.Role, "request_id", RequestID(c))
	if acct.MustChangePassword {
		return c.Redirect("/account/password", fiber.StatusSeeOther)
	}
	if next == "" {
		next = "/account"
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// checkPassword finds the account called name and checks pw. An unknown name takes as long
// as a wrong password, so response times do not tell which names exist.
func (s *Server) checkPassword(c *fiber.Ctx, name, pw string) (domain.Account, bool, error) {
	if !domain.IsIdent(name) || len(pw) > maxPasswordLen {
		auth.VerifyUnknown(pw[:min(len(pw), maxPasswordLen)])
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

// loginKeys are the throttle keys of a log-in attempt. Names that cannot exist share one key,
// so that random names do not fill the database with keys.
func (s *Server) loginKeys(c *fiber.Ctx, name string) []mongodb.ThrottleKey {
	if !domain.IsIdent(name) {
		name = "~invalid"
	}
	return []mongodb.ThrottleKey{
		{Key: mongodb.LoginAccountKey(name), Rule: accountThrottle, ClearOnSuccess: true},
		{Key: mongodb.LoginIPKey(s.addressHash(ClientIP(c))), Rule: addressThrottle},
	}
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

func (s *Server) logout(c *fiber.Ctx) error {
	if err := s.endSession(c); err != nil {
		return err
	}
	return c.Redirect("/", fiber.StatusSeeOther)
}

type accountData struct {
	CompanyName string
}

func (s *Server) account(c *fiber.Ctx) error {
	acct, _ := CurrentAccount(c)
	var data accountData
	if acct.Company != "" {
		ctx, cancel := s.dbContext(c)
		defer cancel()
		co, err := s.db.Company(ctx, acct.Company)
		if err != nil && derrors.Code(err) != derrors.NotFound {
			return err
		}
		data.CompanyName = co.Name
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
	s.log.Info("account created", "account", a.Name, "role", a.Role, "company", a.Company,
		"by", admin.Name, "request_id", RequestID(c))
	a.ID = a.Name
	return s.showAccounts(c, fiber.StatusCreated, adminAccountsData{
		Form: accountForm{Role: domain.RoleReviewer}, Created: &a, Password: password})
}
