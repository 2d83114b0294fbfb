package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// The role walk: every registered route, requested by every kind of visitor, must answer
// exactly as its declared Access says. It walks what the server registered, not a list kept
// by hand, so a new route is covered the moment it exists.

// identities are the visitors of the walk; role "" is anonymous.
var identities = []string{"", domain.RoleAdmin, domain.RoleReviewer, domain.RoleCompany, domain.RoleEvaluator}

// walkRoutes returns what is wrong with s's access control, one line per problem.
func walkRoutes(t *testing.T, e *testEnv, s *Server) []string {
	t.Helper()
	var problems []string

	// 1. Nothing is registered around s.handle, where the checks live.
	declared := map[string]bool{}
	for _, r := range s.Routes() {
		declared[r.Method+" "+r.Path] = true
	}
	for _, r := range s.App().GetRoutes(true) {
		key := r.Method + " " + r.Path
		if r.Method == fiber.MethodHead && declared["GET "+r.Path] {
			continue // Fiber adds HEAD for every GET
		}
		if !declared[key] {
			problems = append(problems, key+": registered without s.handle, so without access checks")
		}
	}

	// 2. Each declared route answers each visitor as declared.
	for _, r := range s.Routes() {
		path := fillParams(r.Path)
		for _, role := range identities {
			c, form := e.visitor(s, role)
			resp := c.do(r.Method, path, form)
			denied, how := deniedBy(resp)
			who := role
			if who == "" {
				who = "anonymous"
			}
			t.Logf("%-4s %-16s %-10s %d %s", r.Method, r.Path, who, resp.StatusCode, resp.location())
			switch {
			case r.Access.Allows(role) && denied:
				problems = append(problems, fmt.Sprintf("%s %s (%s): %s was denied (%s)", r.Method, r.Path, r.Access, who, how))
			case !r.Access.Allows(role) && role == "" && how != "login":
				problems = append(problems, fmt.Sprintf("%s %s (%s): anonymous got %d, want 401 or a redirect to log in", r.Method, r.Path, r.Access, resp.StatusCode))
			case !r.Access.Allows(role) && role != "" && resp.StatusCode != http.StatusForbidden:
				problems = append(problems, fmt.Sprintf("%s %s (%s): %s got %d, want 403", r.Method, r.Path, r.Access, who, resp.StatusCode))
			}
		}
	}
	return problems
}

var paramPattern = regexp.MustCompile(`:[A-Za-z0-9_]+\??|\*|\+`)

// fillParams puts a value that names nothing into every parameter. Handlers look it up and
// answer 404, which is neither 401 nor 403.
func fillParams(path string) string { return paramPattern.ReplaceAllString(path, "x") }

// deniedBy tells whether a response is an access denial: 401, 403, or a redirect to log in.
func deniedBy(r *response) (bool, string) {
	switch {
	case r.StatusCode == http.StatusUnauthorized:
		return true, "login"
	case r.StatusCode == http.StatusSeeOther && strings.HasPrefix(r.location(), "/login"):
		return true, "login"
	case r.StatusCode == http.StatusForbidden:
		return true, "forbidden"
	}
	return false, ""
}

// visitor returns a fresh browser with role's session (none for "") and a form carrying a
// valid CSRF token, so that only the access check can deny it. Sessions are made directly in
// the database: the walk must not depend on log-in (or its throttles).
func (e *testEnv) visitor(s *Server, role string) (*client, url.Values) {
	e.t.Helper()
	c := e.clientOf(s)
	if role == "" {
		anon := randomString(32)
		c.cookies["pc_csrf"] = anon
		return c, url.Values{"_csrf": {mask(s.csrfSecret("anon", anon))}}
	}
	now := e.clock.Now()
	sess := domain.Session{Account: "walk-" + role, Name: "walk-" + role, Role: role,
		Created: now, IdleUntil: now.Add(sessionIdle), Expires: now.Add(sessionLife)}
	if role == domain.RoleCompany {
		sess.Company = testCompany
	}
	token, err := e.db.CreateSession(context.Background(), &sess)
	if err != nil {
		e.t.Fatal(err)
	}
	c.cookies["pc_session"] = token
	return c, url.Values{"_csrf": {mask(s.csrfSecret("session", sess.CSRF))}}
}

func TestRoleWalk(t *testing.T) {
	e := newEnv(t)
	if len(e.s.Routes()) < 10 {
		t.Fatalf("only %d routes registered", len(e.s.Routes()))
	}
	for _, p := range walkRoutes(t, e, e.s) {
		t.Error(p)
	}
}

// The walk must catch the mistakes it exists for. Each deliberately wrong route here must be
// reported; none of them exists outside this test.
func TestRoleWalkCatchesMistakes(t *testing.T) {
	e := newEnv(t)
	ok := func(c *fiber.Ctx) error { return c.SendString("secret data") }

	// A route registered on the Fiber app directly, around s.handle.
	e.s.App().Get("/test/sneaky", ok)
	// A route recorded as admin-only whose check was left out.
	e.s.routeList = append(e.s.routeList, Route{Method: fiber.MethodGet, Path: "/test/unchecked", Access: Roles(domain.RoleAdmin)})
	e.s.App().Get("/test/unchecked", ok)
	// A route declared for reviewers whose handler nevertheless refuses them.
	e.s.handle(fiber.MethodGet, "/test/misdeclared", Roles(domain.RoleReviewer), func(c *fiber.Ctx) error {
		return derrors.Errorf(derrors.Forbidden, "no")
	})

	problems := strings.Join(walkRoutes(t, e, e.s), "\n")
	for _, want := range []string{
		"GET /test/sneaky: registered without s.handle",
		"GET /test/unchecked (admin): anonymous got 200",
		"GET /test/unchecked (admin): reviewer got 200, want 403",
		"GET /test/unchecked (admin): company got 200, want 403",
		"GET /test/misdeclared (reviewer): reviewer was denied",
	} {
		if !strings.Contains(problems, want) {
			t.Errorf("the walk did not report %q; it reported:\n%s", want, problems)
		}
	}
}

func TestHandleRefusesUndeclaredAccess(t *testing.T) {
	e := newEnv(t)
	for name, register := range map[string]func(){
		"zero Access":    func() { e.s.handle(fiber.MethodGet, "/x", Access{}, nil) },
		"API with roles": func() { e.s.handle(fiber.MethodGet, "/api/x", LoggedIn, nil) },
		"unknown role":   func() { Roles("owner") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: registered without complaint", name)
				}
			}()
			register()
		}()
	}
}

func TestCheckCompany(t *testing.T) {
	e := newEnv(t)
	e.s.handle(fiber.MethodGet, "/test/company/:id", Roles(domain.RoleCompany, domain.RoleReviewer), func(c *fiber.Ctx) error {
		if err := CheckCompany(c, c.Params("id")); err != nil {
			return err
		}
		return c.SendString("ok")
	})
	company, _ := e.visitor(e.s, domain.RoleCompany)
	wantStatus(t, company.get("/test/company/"+testCompany), http.StatusOK)
	wantStatus(t, company.get("/test/company/"+otherCompany), http.StatusForbidden)
	reviewer, _ := e.visitor(e.s, domain.RoleReviewer)
	wantStatus(t, reviewer.get("/test/company/"+otherCompany), http.StatusOK)
}
