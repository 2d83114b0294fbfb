package mongodb

import "github.com/propcredit/propcredit/internal/domain"

// The access types are domain's. Storage's files use these short names for them (they are
// the same types); code outside storage says domain.Session.
type (
	Session      = domain.Session
	ThrottleRule = domain.ThrottleRule
	ThrottleKey  = domain.ThrottleKey
	LoginAttempt = domain.LoginAttempt
	takenSlot    = domain.ThrottleSlot
	APIToken     = domain.APIToken
)

const TokenPrefix = domain.TokenPrefix

func LoginAccountKey(name string) string { return domain.LoginAccountKey(name) }
func LoginIPKey(ipHash string) string    { return domain.LoginIPKey(ipHash) }
