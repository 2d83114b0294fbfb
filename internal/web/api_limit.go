package web

import (
	"time"

	"github.com/propcredit/propcredit/internal/ratelimit"
)

// The public API is rate-limited per client address (ClientIP): a token bucket that holds
// apiBurst requests and refills at apiRate per second. A bid evaluation system looking up the
// companies of one tender stays far below it; a scraper does not.
const (
	apiRate  = 10.0 // requests per second, sustained
	apiBurst = 60
)

var apiLimit = ratelimit.Rule{Burst: apiBurst, Every: time.Duration(float64(time.Second) / apiRate)}
