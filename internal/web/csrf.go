package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/derrors"
)

// CSRF protection. Every POST, PUT, PATCH and DELETE outside /api/ must carry a token in the
// form field _csrf (or the X-CSRF-Token header) that only a page of this site could know:
//
//   - logged in: derived from the session's CSRF secret, which only the database holds;
//   - anonymous (the log-in form, the owners' rating form): a signed double-submit token,
//     derived with the server key from a random value in an HttpOnly cookie. A site that can
//     plant cookies (a sibling subdomain) still cannot compute the token without the key.
//
// A logged-in request needs the session's kind: an anonymous token does not authorise it. Tokens
// are masked with a fresh random pad on every render, so that compressed pages do not leak the
// secret (BREACH). Templates use {{template "csrf" .}}; the check is in guard.

const (
	csrfField  = "_csrf"
	csrfHeader = "X-CSRF-Token"
)

func (s *Server) anonCSRFCookie() string { return s.cookieName("pc_csrf") }

func (s *Server) csrfSecret(kind, value string) []byte {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(kind + "|" + value))
	return m.Sum(nil)
}

// csrfToken returns a token for a form of this request, setting the anonymous CSRF cookie if
// the visitor has none yet. The layout data has it as .CSRF; call this only for forms built
// outside templates.
func (s *Server) csrfToken(c *fiber.Ctx) string {
	if sess := currentSession(c); sess != nil {
		return mask(s.csrfSecret("session", sess.CSRF))
	}
	return mask(s.csrfSecret("anon", s.anonCSRFValue(c)))
}

// anonCSRFValue returns the visitor's anonymous CSRF cookie value, making one if needed.
func (s *Server) anonCSRFValue(c *fiber.Ctx) string {
	if v, ok := c.Locals(localAnonCSRF).(string); ok {
		return v
	}
	v := c.Cookies(s.anonCSRFCookie())
	if len(v) != 43 { // 32 random bytes, base64url: anything else was not made here
		v = randomString(32)
		// A browser-session cookie: closing the browser ends it. Lax, so that a form opened
		// from a link in another site's page still posts with it.
		c.Cookie(&fiber.Cookie{Name: s.anonCSRFCookie(), Value: v, Path: "/", SessionOnly: true,
			Secure: s.secure, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode})
	}
	c.Locals(localAnonCSRF, v)
	return v
}

// checkCSRF returns a Forbidden error unless the request carries a valid token, in the
// X-CSRF-Token header or the body's _csrf field; never the query string, which ends up in logs,
// histories and Referer headers. A logged-in request needs its session's token: an anonymous
// token (which any visitor can get from the log-in page) does not authorise it.
func (s *Server) checkCSRF(c *fiber.Ctx) error {
	token := c.Get(csrfHeader)
	if token == "" {
		token = bodyValue(c, csrfField)
	}
	if got := unmask(token); got != nil {
		if sess := currentSession(c); sess != nil {
			if hmac.Equal(got, s.csrfSecret("session", sess.CSRF)) {
				return nil
			}
		} else if v := c.Cookies(s.anonCSRFCookie()); v != "" && hmac.Equal(got, s.csrfSecret("anon", v)) {
			return nil
		}
	}
	return derrors.Errorf(derrors.Forbidden, "%s", Msg(c, "csrf.failed"))
}

// bodyValue returns a field of an urlencoded or multipart body, ignoring the query string
// (unlike c.FormValue).
func bodyValue(c *fiber.Ctx, key string) string {
	if form, err := c.MultipartForm(); err == nil {
		if v := form.Value[key]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	return string(c.Request().PostArgs().Peek(key))
}

// mask returns pad || (pad XOR secret), base64url, with a fresh random pad.
func mask(secret []byte) string {
	out := make([]byte, 2*len(secret))
	pad, masked := out[:len(secret)], out[len(secret):]
	_, _ = rand.Read(pad)
	for i := range secret {
		masked[i] = pad[i] ^ secret[i]
	}
	return base64.RawURLEncoding.EncodeToString(out)
}

// unmask reverses mask; nil for anything that is not a masked 32-byte secret.
func unmask(token string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != 2*sha256.Size {
		return nil
	}
	pad, masked := b[:sha256.Size], b[sha256.Size:]
	secret := make([]byte, sha256.Size)
	for i := range secret {
		secret[i] = pad[i] ^ masked[i]
	}
	return secret
}
