package web

import (
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// Every route is declared with who may use it, through s.handle, which records it (for
// Routes and the role-walk test) and puts the access check and the CSRF check in front of
// its handler. Nothing registers routes on s.app directly: the role-walk test fails if
// anything does.

// Access says who may use a route: everyone (Public) or logged-in accounts with one of a set
// of roles. The zero Access allows nobody and is refused by s.handle, so that forgetting to
// choose is an error at start-up rather than an open door.
type Access struct {
	public bool
	roles  []string
}

// Public routes need no log-in.
var Public = Access{public: true}

// Roles allows logged-in accounts with any of roles.
func Roles(roles ...string) Access {
	for _, r := range roles {
		if !slices.Contains(domain.Roles, r) {
			panic("web: unknown role " + r)
		}
	}
	return Access{roles: slices.Clone(roles)}
}

// LoggedIn allows every logged-in account, whatever its role.
var LoggedIn = Roles(domain.Roles...)

// IsPublic reports whether the route needs no log-in.
func (a Access) IsPublic() bool { return a.public }

// Allows reports whether an account with role may use the route; role "" is an anonymous
// visitor.
func (a Access) Allows(role string) bool {
	return a.public || role != "" && slices.Contains(a.roles, role)
}

func (a Access) String() string {
	if a.public {
		return "public"
	}
	return strings.Join(a.roles, ",")
}

// Route is a registered route.
type Route struct {
	Method string
	Path   string
	Access Access
}

// Routes returns every route registered with s.handle, in order.
func (s *Server) Routes() []Route { return slices.Clone(s.routeList) }

// routes registers every route group. Add a line for a new group here; keep each group in its
// own file.
func (s *Server) routes() {
	s.coreRoutes()
	s.accountRoutes()
	s.reportRoutes()
	s.rateRoutes()
	s.disclosureRoutes()
	s.holdRoutes()
	s.backupRoutes()
	s.auditRoutes()
	s.creditRoutes()
}

// handle registers h for method and path, behind the access and CSRF checks.
func (s *Server) handle(method, path string, access Access, h fiber.Handler) {
	if !access.public && len(access.roles) == 0 {
		panic("web: route " + method + " " + path + " allows nobody; use Public or Roles(...)")
	}
	if isAPI(path) && !access.public {
		// /api/ takes no cookies, and token authentication does not exist yet.
		panic("web: route " + method + " " + path + ": API routes with roles need API tokens, which are not built")
	}
	r := Route{Method: method, Path: path, Access: access}
	s.routeList = append(s.routeList, r)
	s.app.Add(method, path, s.guard(r), h)
}

// guard enforces a route's access, then the CSRF token of state-changing requests (in that
// order, so that an anonymous visitor is sent to log in rather than told the form expired).
func (s *Server) guard(r Route) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if !r.Access.public {
			acct, ok := CurrentAccount(c)
			if !ok {
				return derrors.Errorf(derrors.Unauthorized, "%s", Msg(c, "error.unauthorized"))
			}
			if !r.Access.Allows(acct.Role) {
				return derrors.Errorf(derrors.Forbidden, "%s", Msg(c, "error.forbidden"))
			}
		}
		if changesState(c.Method()) && !isAPI(r.Path) {
			if err := s.checkCSRF(c); err != nil {
				return err
			}
		}
		return c.Next()
	}
}

func changesState(method string) bool {
	switch method {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		return false
	}
	return true
}

// isAPI reports whether path is under /api/. Routing ignores case, so this does too.
func isAPI(path string) bool {
	path = strings.ToLower(path)
	return path == "/api" || strings.HasPrefix(path, "/api/")
}

// CheckCompany returns a Forbidden error when the current account is a company account of a
// company other than company. Handlers of routes open to the company role call it on every
// company they touch. Look the thing up first and return NotFound for ids that do not exist,
// so that nobody learns which ids exist from a 403.
func CheckCompany(c *fiber.Ctx, company string) error {
	acct, ok := CurrentAccount(c)
	if ok && acct.Role == domain.RoleCompany && acct.Company != company {
		return derrors.Errorf(derrors.Forbidden, "%s", Msg(c, "error.forbidden"))
	}
	return nil
}

// navItem is a link in the header, shown to those its access allows.
type navItem struct {
	Key    string // message key of the label
	Path   string
	Access Access
}

// addNav adds a header link. Route groups call it for their main pages.
func (s *Server) addNav(key, path string, access Access) {
	s.nav = append(s.nav, navItem{Key: key, Path: path, Access: access})
}
