package web

import (
	"context"
	"time"
)

// SharedLimits keeps the abuse limits (wrong household codes, per address and per estate) and
// the public API's rate limit where every server sees them, so that N servers behind a load
// balancer allow what one would. mongodb.SharedLimits implements it; without it (Config), the
// limits live in this process's memory, which is right for one server.
type SharedLimits interface {
	Allowed(ctx context.Context, name, key string, burst int, every time.Duration, now time.Time) (time.Duration, bool, error)
	Charge(ctx context.Context, name, key string, burst int, every time.Duration, now time.Time) error
	AllowRate(ctx context.Context, key string, perMinute int, now time.Time) (bool, time.Duration, error)
}

// sharedAllowed is bucket.allowed through the shared limits; a database error lets the
// request through (the code check that follows needs the database too) and is logged.
func (s *Server) sharedAllowed(name, key string, rule bucketRule, now time.Time) (time.Duration, bool) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	wait, ok, err := s.limits.Allowed(ctx, name, key, rule.Burst, rule.Every, now)
	if err != nil {
		s.log.Error("shared limit", "limit", name, "err", err)
		return 0, true
	}
	return wait, ok
}

func (s *Server) sharedCharge(name, key string, rule bucketRule, now time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if err := s.limits.Charge(ctx, name, key, rule.Burst, rule.Every, now); err != nil {
		s.log.Error("shared limit", "limit", name, "err", err)
	}
}
