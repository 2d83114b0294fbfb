package web

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// Account is the logged-in account as handlers see it: who, in which role, for which company.
// It carries no password hash.
type Account struct {
	ID      string
	Name    string
	Role    string
	Company string // for RoleCompany: the company's USCC
}

// CurrentAccount returns the logged-in account of the request, if any.
func CurrentAccount(c *fiber.Ctx) (*Account, bool) {
	a, ok := c.Locals(localAccount).(*Account)
	return a, ok && a != nil
}

func currentSession(c *fiber.Ctx) *domain.Session {
	s, _ := c.Locals(localSession).(*domain.Session)
	return s
}

// Cookie names. Under TLS the __Host- prefix makes browsers refuse the cookie unless it is
// Secure, for path / and without a Domain, so a sibling subdomain cannot plant one.
func (s *Server) cookieName(base string) string {
	if s.secure {
		return "__Host-" + base
	}
	return base
}

func (s *Server) sessionCookie() string { return s.cookieName("pc_session") }

// loadSession finds the session of the browser's cookie. Requests without the cookie cost no
// database read; /api/ and /static/ ignore cookies altogether.
func (s *Server) loadSession(c *fiber.Ctx) error {
	token := c.Cookies(s.sessionCookie())
	if token == "" || isAPI(c.Path()) || isStatic(c.Path()) {
		return c.Next()
	}
	ctx, cancel := s.dbContext(c)
	defer cancel()
	now := s.now()
	sess, err := s.db.SessionByToken(ctx, token, now)
	switch derrors.Code(err) {
	case "":
	case derrors.Unauthorized: // expired or unknown: carry on as anonymous
		s.clearSessionCookie(c)
		return c.Next()
	default:
		// Without the database nobody can be recognised; anonymous pages still work.
		return &derrors.Error{Code: derrors.Unavailable, Message: "load session: " + err.Error()}
	}
	// Push the idle deadline forward, but only every touchEvery: most requests write nothing.
	if now.Sub(sess.IdleUntil.Add(-sessionIdle)) >= touchEvery {
		idle := now.Add(sessionIdle)
		if idle.After(sess.Expires) {
			idle = sess.Expires
		}
		if err := s.db.TouchSession(ctx, sess.ID, idle); err != nil {
			s.log.Warn("touch session", "err", err, "request_id", RequestID(c))
		} else {
			sess.IdleUntil = idle
		}
	}
	c.Locals(localSession, &sess)
	c.Locals(localAccount, &Account{ID: sess.Account, Name: sess.Name, Role: sess.Role, Company: sess.Company})
	return c.Next()
}

// startSession logs acct in: it ends the browser's previous session, if any, and issues a
// new token, so that a token planted before log-in is worthless afterwards.
func (s *Server) startSession(c *fiber.Ctx, acct domain.Account) error {
	ctx, cancel := s.dbContext(c)
	defer cancel()
	if old := currentSession(c); old != nil {
		if err := s.db.DeleteSession(ctx, old.ID); err != nil {
			return err
		}
	}
	now := s.now()
	sess := domain.Session{Account: acct.ID, Name: acct.Name, Role: acct.Role, Company: acct.Company,
		MustChangePassword: acct.MustChangePassword, Created: now, IdleUntil: now.Add(sessionIdle), Expires: now.Add(sessionLife)}
	token, err := s.db.CreateSession(ctx, &sess)
	if err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{Name: s.sessionCookie(), Value: token, Path: "/", Expires: sess.Expires,
		Secure: s.secure, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
	c.Locals(localSession, &sess)
	c.Locals(localAccount, &Account{ID: sess.Account, Name: sess.Name, Role: sess.Role, Company: sess.Company})
	return nil
}

// endSession logs the browser out.
func (s *Server) endSession(c *fiber.Ctx) error {
	if sess := currentSession(c); sess != nil {
		ctx, cancel := s.dbContext(c)
		defer cancel()
		if err := s.db.DeleteSession(ctx, sess.ID); err != nil {
			return err
		}
	}
	s.clearSessionCookie(c)
	c.Locals(localSession, nil)
	c.Locals(localAccount, nil)
	return nil
}

func (s *Server) clearSessionCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: s.sessionCookie(), Value: "", Path: "/", Expires: longAgo,
		Secure: s.secure, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
}

// longAgo, as a cookie's expiry, tells the browser to delete it.
var longAgo = time.Unix(0, 0)
