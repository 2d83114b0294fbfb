package web

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Keys of c.Locals. Unexported types so that no other package can collide with them.
type localKey int

const (
	localRequestID localKey = iota
	localClientIP
	localNonce
	localLang
	localSession
	localAccount
	localAnonCSRF
	localFromPeer // set on a hand-over signed by another server (peers.go)
	localHandedTo // the server a submission was handed to (peers.go)
)

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// recoverPanic turns a panic into the friendly 500 page. The stack goes to the log only.
func (s *Server) recoverPanic(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", "request_id", RequestID(c), "method", c.Method(), "path", c.Path(),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = s.handleError(c, errPanic)
		}
	}()
	return c.Next()
}

var errPanic = fmt.Errorf("handler panicked")

// requestID gives every request a random id, in the X-Request-ID response header, in the log
// and on error pages. A client's X-Request-ID is ignored: a counter would leak how busy the
// site is, and a client's value could be anything.
func (s *Server) requestID(c *fiber.Ctx) error {
	id := randomString(12)
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	client := s.clientIP(c)
	if s.peers != nil {
		if from, ok := s.peers.from(c, s.now()); ok {
			client = from
			c.Locals(localFromPeer, true)
		}
	}
	c.Locals(localClientIP, client)
	return c.Next()
}

// RequestID returns the id of the request, or "" before the middleware ran.
func RequestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// accessLog writes one line per request. Errors returned by handlers become responses here,
// so that the line shows the status the client got. It logs the path without the query
// string, which may hold household codes or tokens; never put secrets in paths.
func (s *Server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	if err := c.Next(); err != nil {
		if herr := s.handleError(c, err); herr != nil {
			return herr
		}
	}
	s.logRequest(c, start)
	return nil
}

func (s *Server) logRequest(c *fiber.Ctx, start time.Time) {
	args := []any{
		"method", c.Method(),
		"path", c.Path(),
		"status", c.Response().StatusCode(),
		"latency_ms", float64(time.Since(start).Microseconds()) / 1000,
		"request_id", RequestID(c),
		"ip", ClientIP(c)}
	if to, ok := c.Locals(localHandedTo).(string); ok {
		args = append(args, "handed_to", to)
	}
	if c.Locals(localFromPeer) != nil {
		args = append(args, "from_peer", true)
	}
	s.log.Info("request", args...)
}

// handleRefused is Fiber's error handler. It answers errors that escape the middleware, and
// requests that fasthttp refused before any middleware ran (headers too large: 431, body too
// large: 413, an unreadable body), which get no access-log line otherwise. fasthttp has reset
// such a request, so its method and path are gone; the line says "refused".
func (s *Server) handleRefused(c *fiber.Ctx, err error) error {
	herr := s.handleError(c, err)
	if RequestID(c) == "" {
		s.log.Warn("request refused before routing",
			"status", c.Response().StatusCode(),
			"err", err.Error(),
			"ip", ClientIP(c))
	}
	return herr
}

// contentSecurityPolicy allows scripts only from this site or with the request's nonce, so
// that an injected <script> does not run. Inline styles are allowed: charts set them.
func contentSecurityPolicy(nonce string) string {
	return "default-src 'self'; " +
		"script-src 'self' 'nonce-" + nonce + "'; " +
		"style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data:; " +
		"font-src 'self'; connect-src 'self'; " +
		"object-src 'none'; base-uri 'self'; " +
		"frame-ancestors 'none'; form-action 'self'"
}

// securityHeaders sets the headers every response carries. Responses are not cached unless
// a handler says otherwise: most pages carry a CSRF token or a user's data.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	s.setSecurityHeaders(c)
	return c.Next()
}

func (s *Server) setSecurityHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy(Nonce(c)))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderReferrerPolicy, "same-origin")
	c.Set("Cross-Origin-Opener-Policy", "same-origin")
	c.Set("Cross-Origin-Resource-Policy", "same-origin")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	c.Set(fiber.HeaderCacheControl, "no-store")
	if s.secure {
		c.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000")
	}
}

// Nonce returns the request's CSP nonce, for <script nonce="{{.Nonce}}"> (the layout data
// has it as .Nonce). Inline scripts without it do not run.
func Nonce(c *fiber.Ctx) string {
	if n, ok := c.Locals(localNonce).(string); ok {
		return n
	}
	n := randomString(16)
	c.Locals(localNonce, n)
	return n
}

// ClientIP returns the address of the client. Behind trusted proxies it is the right-most
// X-Forwarded-For entry that is not itself a trusted proxy: entries further left were
// written by the client and prove nothing. Use it (not c.IP()) for rate limits.
func ClientIP(c *fiber.Ctx) string {
	if ip, ok := c.Locals(localClientIP).(string); ok {
		return ip
	}
	return remoteAddr(c).String()
}

func remoteAddr(c *fiber.Ctx) netip.Addr {
	a, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	return a.Unmap()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (s *Server) clientIP(c *fiber.Ctx) string {
	client := remoteAddr(c)
	if !s.trusted(client) {
		return client.String()
	}
	var hops []string
	for _, h := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
		hops = append(hops, strings.Split(string(h), ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if host, _, err := net.SplitHostPort(hop); err == nil {
			hop = host
		}
		a, err := netip.ParseAddr(strings.Trim(hop, "[]"))
		if err != nil {
			break // garbage: trust nothing further left
		}
		client = a.Unmap()
		if !s.trusted(client) {
			break
		}
	}
	return client.String()
}
