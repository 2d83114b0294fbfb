package web

import (
	"context"
	"time"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/filing"
	"github.com/propcredit/propcredit/internal/rating"
)

// Store is what the web server reads and writes directly: reference data, accounts, sessions,
// tokens and throttles, household codes, and reads of filings. Workflow steps go through the
// use cases (Config.Publication, Config.Rating, Config.Filing). main's wiring passes
// internal/mongodb's *DB.
type Store interface {
	Ping(ctx context.Context) error
	ProbeWrite(ctx context.Context) error
	Secret(ctx context.Context, name string) ([]byte, error)

	// Reference data.
	Periods(ctx context.Context) ([]domain.Period, error)
	Period(ctx context.Context, id string) (domain.Period, error)
	OpenPeriod(ctx context.Context, day string) (domain.Period, bool, error)
	Districts(ctx context.Context) ([]domain.District, error)
	District(ctx context.Context, id string) (domain.District, error)
	Companies(ctx context.Context) ([]domain.Company, error)
	Company(ctx context.Context, id string) (domain.Company, error)
	Estates(ctx context.Context) ([]domain.Estate, error)
	Estate(ctx context.Context, id string) (domain.Estate, error)

	// Accounts, sessions, log-in throttles, API tokens.
	Accounts(ctx context.Context) ([]domain.Account, error)
	AccountByName(ctx context.Context, name string) (domain.Account, error)
	AccountByID(ctx context.Context, id string) (domain.Account, error)
	SetDisabled(ctx context.Context, id string, disabled bool) error
	CreateAccount(ctx context.Context, a domain.Account) error
	SetPassword(ctx context.Context, id, passwordHash string) error
	ChangePassword(ctx context.Context, id, passwordHash string) error
	CreateSession(ctx context.Context, s *domain.Session) (token string, err error)
	SessionByToken(ctx context.Context, token string, now time.Time) (domain.Session, error)
	TouchSession(ctx context.Context, id string, idleUntil time.Time) error
	DeleteSession(ctx context.Context, id string) error
	DeleteSessionsOf(ctx context.Context, accountID string) (int64, error)
	PurgeExpired(ctx context.Context, now time.Time) (int64, error)
	CountLoginAttempt(ctx context.Context, now time.Time, keys ...domain.ThrottleKey) (domain.LoginAttempt, time.Time, error)
	LoginFailed(ctx context.Context, a domain.LoginAttempt, now time.Time) (time.Time, error)
	LoginSucceeded(ctx context.Context, a domain.LoginAttempt) error
	IssueToken(ctx context.Context, company, name, by string, now time.Time) (string, domain.APIToken, error)
	AuthenticateToken(ctx context.Context, token string) (domain.APIToken, error)
	Tokens(ctx context.Context, company string) ([]domain.APIToken, error)
	RevokeToken(ctx context.Context, company, ref, by string, now time.Time) error

	// Household codes.
	IssueCodes(ctx context.Context, period, estate string, flats []string, reissue bool) ([]rating.IssuedCode, error)

	// Reads of disclosures and objections (internal/filing's types; its steps go through
	// filing.Service).
	CurrentFiling(ctx context.Context, period, estate, category string) (filing.Filing, error)
	FilingHistory(ctx context.Context, period, estate, category string) ([]filing.Filing, error)
	EstateFilings(ctx context.Context, period, estate string) (map[string]filing.Filing, error)
	Filings(ctx context.Context, period string) ([]filing.Filing, error)
	Objection(ctx context.Context, id string) (filing.Objection, error)
	EstateObjections(ctx context.Context, estate, period string) ([]filing.Objection, error)
	AllObjections(ctx context.Context) ([]filing.Objection, error)
}
