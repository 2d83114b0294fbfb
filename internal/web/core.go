package web

import (
	"context"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/derrors"
)

// coreRoutes are the home page, health checks and static files.
func (s *Server) coreRoutes() {
	s.handle(fiber.MethodGet, "/healthz", Public, s.healthz)
	s.handle(fiber.MethodGet, "/readyz", Public, s.readyz)
	s.handle(fiber.MethodGet, "/static/*", Public, s.static)
	s.handle(fiber.MethodGet, "/favicon.ico", Public, s.favicon)
	s.addNav("nav.home", "/", Public)
}

// healthz says the process serves HTTP. It does not touch the database, so that a database
// outage does not make the orchestrator restart every app server.
func (s *Server) healthz(c *fiber.Ctx) error { return c.SendString("ok") }

// readyz says whether this server can do its work: the database answers, and takes writes (a
// full disk still answers reads).
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.log.Warn("not ready", "err", err, "request_id", RequestID(c))
		return c.Status(fiber.StatusServiceUnavailable).SendString("database unavailable\n" + s.backupDetail())
	}
	if err := s.db.ProbeWrite(ctx); err != nil {
		s.log.Warn("not ready", "err", err, "request_id", RequestID(c))
		return c.Status(fiber.StatusServiceUnavailable).SendString("database takes no writes\n" + s.backupDetail())
	}
	return c.SendString("ok\n" + s.backupDetail())
}

func isStatic(p string) bool {
	p = strings.ToLower(p)
	return strings.HasPrefix(p, "/static/") || p == "/favicon.ico"
}

// static serves the embedded files under static/. They change only with a new binary.
func (s *Server) static(c *fiber.Ctx) error {
	return s.sendAsset(c, c.Params("*"))
}

// favicon serves the SVG icon at the path browsers ask for by themselves.
func (s *Server) favicon(c *fiber.Ctx) error { return s.sendAsset(c, "favicon.svg") }

func (s *Server) sendAsset(c *fiber.Ctx, name string) error {
	notFound := derrors.Errorf(derrors.NotFound, "%s", Msg(c, "error.not_found"))
	// ValidPath refuses "..", so nothing outside static/ (the templates) can be read.
	if !fs.ValidPath(name) || name == "." {
		return notFound
	}
	data, err := fs.ReadFile(assets, "static/"+name)
	if err != nil {
		return notFound
	}
	c.Type(path.Ext(name))
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.Send(data)
}
