package mongodb_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

func TestAPITokens(t *testing.T) {
	ctx := context.Background()
	city := smallCity()
	const other = "91440300MA5D000009"
	city.Companies = append(city.Companies, domain.Company{ID: other, Name: "别家物业"})
	db := mongodbtest.NewDBWith(t, city)
	now := time.Date(2026, 10, 1, 9, 0, 0, 0, domain.Zone)
	token, issued, err := db.IssueToken(ctx, companyID, "财务系统", "wanrun", now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, domain.TokenPrefix) || len(token) < 40 {
		t.Errorf("token %q", token)
	}
	// Only the hash is stored: the record's _id is the token's SHA-256, and nothing holds the token.
	sum := sha256.Sum256([]byte(token))
	if issued.ID != hex.EncodeToString(sum[:]) || strings.Contains(issued.ID+issued.Ref+issued.Name, token[len(domain.TokenPrefix):]) {
		t.Errorf("stored token record %+v", issued)
	}

	got, err := db.AuthenticateToken(ctx, token)
	if err != nil || got.Company != companyID || got.Name != "财务系统" {
		t.Errorf("AuthenticateToken = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "pct_", token + "x", "Bearer " + token, strings.Repeat("pct_a", 30)} {
		if _, err := db.AuthenticateToken(ctx, bad); derrors.Code(err) != derrors.Unauthorized {
			t.Errorf("AuthenticateToken(%q) = %v, want Unauthorized", bad, err)
		}
	}
	if _, _, err := db.IssueToken(ctx, "91440300MA5D00000X", "x", "a", now); derrors.Code(err) != derrors.NotFound {
		t.Errorf("token of an unknown company: %v", err)
	}

	// Another company cannot revoke it, or learn that it exists.
	if err := db.RevokeToken(ctx, other, issued.Ref, "intruder", now); derrors.Code(err) != derrors.NotFound {
		t.Errorf("revoke by another company: %v, want NotFound", err)
	}
	if err := db.RevokeToken(ctx, companyID, issued.Ref, "wanrun", now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := db.RevokeToken(ctx, companyID, issued.Ref, "wanrun", now.Add(2*time.Hour)); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	if _, err := db.AuthenticateToken(ctx, token); derrors.Code(err) != derrors.Unauthorized {
		t.Errorf("a revoked token still works: %v", err)
	}
	list, err := db.Tokens(ctx, companyID)
	if err != nil || len(list) != 1 || !list[0].Revoked() || list[0].RevokedBy != "wanrun" || !list[0].RevokedAt.Equal(now.Add(time.Hour)) {
		t.Errorf("Tokens = %+v, %v", list, err)
	}
	if list, _ := db.Tokens(ctx, other); len(list) != 0 {
		t.Errorf("the other company sees %d tokens", len(list))
	}
}
