package web

import (
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/propcredit/propcredit/internal/derrors"
)

// Handlers return errors; handleError turns each into a status and a page (or JSON under
// /api/). The mapping:
//
//	derrors.Invalid       400  Form handlers that re-show the form with field messages
//	                           use 422 themselves (s.renderStatus(c, 422, ...)); 400 is
//	                           for requests no form of ours would send.
//	derrors.NotFound      404
//	derrors.Conflict      409
//	derrors.Unauthorized  401  A page (GET/HEAD outside /api/) redirects to /login?next=.
//	derrors.Forbidden     403
//	derrors.RateLimited   429  With Retry-After (RateLimited sets how long).
//	derrors.Unavailable   503
//	*fiber.Error          its own status (404 no route, 405, 413 body too large, ...),
//	                      with our message, not Fiber's.
//	anything else         500, a generic message and the request id; the error goes to the
//	                      log only.

var statusOf = map[string]int{
	derrors.Invalid:      fiber.StatusBadRequest,
	derrors.NotFound:     fiber.StatusNotFound,
	derrors.Conflict:     fiber.StatusConflict,
	derrors.Unauthorized: fiber.StatusUnauthorized,
	derrors.Forbidden:    fiber.StatusForbidden,
	derrors.RateLimited:  fiber.StatusTooManyRequests,
	derrors.Unavailable:  fiber.StatusServiceUnavailable,
	derrors.Internal:     fiber.StatusInternalServerError,
}

// messageOfStatus is the message for statuses whose error carries none fit to show.
var messageOfStatus = map[int]string{
	fiber.StatusBadRequest:                  "error.bad_request",
	fiber.StatusUnauthorized:                "error.unauthorized",
	fiber.StatusForbidden:                   "error.forbidden",
	fiber.StatusNotFound:                    "error.not_found",
	fiber.StatusMethodNotAllowed:            "error.method",
	fiber.StatusRequestTimeout:              "error.timeout",
	fiber.StatusConflict:                    "error.conflict",
	fiber.StatusRequestEntityTooLarge:       "error.too_large",
	fiber.StatusUnsupportedMediaType:        "error.media_type", // only the JSON API refuses media types
	fiber.StatusTooManyRequests:             "error.rate_limited",
	fiber.StatusServiceUnavailable:          "error.unavailable",
	fiber.StatusRequestHeaderFieldsTooLarge: "error.too_large",
}

// retryAfterError is a RateLimited error that knows when to come back.
type retryAfterError struct {
	err   *derrors.Error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RateLimited returns a RateLimited error shown with status 429 and Retry-After: after.
func RateLimited(message string, after time.Duration) error {
	return &retryAfterError{err: derrors.Errorf(derrors.RateLimited, "%s", message), after: after}
}

func setRetryAfter(c *fiber.Ctx, after time.Duration) {
	secs := int((after + time.Second - 1) / time.Second)
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(secs, 1)))
}

// errorPage is the data of the error template and of API error bodies.
type errorPage struct {
	Status    int
	Message   string
	Fields    map[string]string
	LoginURL  string // set for 401 pages
	RequestID string
}

// handleError writes the response for err. It is both Fiber's ErrorHandler (for errors that
// arise outside the handler chain, such as 413) and the access log's, so it must work on a
// context where no middleware ran.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	status, msg, fields := s.classify(c, err)
	if status == fiber.StatusUnauthorized && !isAPI(c.Path()) &&
		(c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead) {
		return c.Redirect(loginURL(c.OriginalURL()), fiber.StatusSeeOther)
	}
	var ra *retryAfterError
	if errors.As(err, &ra) {
		setRetryAfter(c, ra.after)
	} else if status == fiber.StatusTooManyRequests {
		setRetryAfter(c, time.Minute)
	} else if status == fiber.StatusServiceUnavailable {
		setRetryAfter(c, 30*time.Second)
	}
	// A handler may have started a response before failing; start over. The security
	// headers stay (or are set here if no middleware ran).
	c.Response().ResetBody()
	c.Response().Header.Del(fiber.HeaderContentDisposition)
	c.Response().Header.Del(fiber.HeaderContentEncoding)
	if len(c.Response().Header.Peek(fiber.HeaderContentSecurityPolicy)) == 0 {
		s.setSecurityHeaders(c)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	page := errorPage{Status: status, Message: msg, Fields: fields, RequestID: RequestID(c)}
	if isAPI(c.Path()) {
		body := fiber.Map{"error": msg, "request_id": page.RequestID}
		if len(fields) > 0 {
			body["fields"] = fields
		}
		return c.Status(status).JSON(body)
	}
	if status == fiber.StatusUnauthorized {
		page.LoginURL = loginURL(c.OriginalURL())
	}
	if rerr := s.renderPage(c, status, "error", page, false); rerr != nil {
		s.log.Error("render error page", "err", rerr, "request_id", page.RequestID)
		return c.Status(status).SendString(msg)
	}
	return nil
}

// classify decides the status and the message to show, and logs what the user must not see.
func (s *Server) classify(c *fiber.Ctx, err error) (status int, msg string, fields map[string]string) {
	var (
		de *derrors.Error
		fe *fiber.Error
	)
	switch {
	case errors.As(err, &de) && de.Code != derrors.Internal:
		status = statusOf[de.Code]
		if status == 0 {
			status = fiber.StatusInternalServerError
			break
		}
		if status == fiber.StatusServiceUnavailable {
			// The message may name the database and its error: log it, show a generic one.
			s.log.Warn("unavailable", "err", err, "request_id", RequestID(c), "path", c.Path())
			return status, Msg(c, "error.unavailable"), nil
		}
		msg = de.Message
		if msg == "" {
			msg = Msg(c, messageOfStatus[status])
		}
		return status, msg, de.Fields
	case errors.As(err, &fe) && fe.Code < fiber.StatusInternalServerError:
		status = fe.Code
		key, ok := messageOfStatus[status]
		if !ok {
			key = "error.bad_request"
		}
		return status, Msg(c, key), nil
	}
	s.log.Error("internal error", "err", err, "request_id", RequestID(c), "method", c.Method(), "path", c.Path())
	return fiber.StatusInternalServerError, Msg(c, "error.internal"), nil
}

// loginURL is the log-in page that returns to target afterwards.
func loginURL(target string) string {
	if target = localPath(target); target == "" || target == "/" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(target)
}
