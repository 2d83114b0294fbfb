package mongodb

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// API tokens let a company's own systems file disclosures through the JSON API. A token is
// shown once, when it is issued; the database keeps only its SHA-256, as the _id, so that the
// hot lookup is by _id and a copy of the database hands out no working tokens. A token is 256
// random bits, so a plain hash (not a slow password hash) is enough.
const colAPITokens = "api_tokens"

// maxTokenName bounds a token's name.
const maxTokenName = 100

// IssueToken makes a new token for company and returns it, to be shown once.
func (db *DB) IssueToken(ctx context.Context, company, name, by string, now time.Time) (string, domain.APIToken, error) {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > maxTokenName || !utf8.ValidString(name) {
		return "", domain.APIToken{}, derrors.Errorf(derrors.Invalid, "the token's name must be at most %d characters", maxTokenName)
	}
	if _, err := db.Company(ctx, company); err != nil {
		return "", domain.APIToken{}, err
	}
	token := domain.TokenPrefix + randomToken(32)
	t := domain.APIToken{ID: sha256Hex(token), Ref: "tok_" + randomToken(6), Company: company, Name: name,
		CreatedBy: by, CreatedAt: now.UTC().Truncate(time.Millisecond)}
	if _, err := db.c(colAPITokens).InsertOne(ctx, t); err != nil {
		return "", domain.APIToken{}, fmt.Errorf("store API token: %w", err)
	}
	return token, t, nil
}

// errBadToken is what every missing, malformed, unknown or revoked token looks like.
var errBadToken = derrors.Errorf(derrors.Unauthorized, "invalid or revoked API token")

// AuthenticateToken returns the token's record if it is valid, or an Unauthorized error.
func (db *DB) AuthenticateToken(ctx context.Context, token string) (domain.APIToken, error) {
	if !strings.HasPrefix(token, domain.TokenPrefix) || len(token) > 100 {
		return domain.APIToken{}, errBadToken
	}
	t, err := findByToken[domain.APIToken](ctx, db.c(colAPITokens), token, "API token", errBadToken)
	if err != nil {
		return domain.APIToken{}, err
	}
	if t.Revoked() {
		return domain.APIToken{}, errBadToken
	}
	return t, nil
}

// Tokens returns a company's tokens, revoked ones included, newest first. The collection is
// small (a few per company), so it is scanned.
func (db *DB) Tokens(ctx context.Context, company string) ([]domain.APIToken, error) {
	out, err := findAll[domain.APIToken](ctx, db.c(colAPITokens), bson.D{{Key: "company", Value: company}})
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out, err
}

// RevokeToken revokes company's token ref. Revoking a revoked token changes nothing; a token
// of another company is NotFound, so that nobody learns which refs exist.
func (db *DB) RevokeToken(ctx context.Context, company, ref, by string, now time.Time) error {
	tokens, err := db.Tokens(ctx, company)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		if t.Ref != ref {
			continue
		}
		if t.Revoked() {
			return nil
		}
		defer db.locks.lock(colAPITokens, t.ID)()
		at := now.UTC().Truncate(time.Millisecond)
		_, err := db.c(colAPITokens).UpdateOne(ctx, byID(t.ID), bson.D{{Key: "$set", Value: bson.D{
			{Key: "revoked_by", Value: by}, {Key: "revoked_at", Value: at}}}})
		if err != nil {
			return fmt.Errorf("revoke API token %s: %w", ref, err)
		}
		return nil
	}
	return derrors.Errorf(derrors.NotFound, "API token %q not found", ref)
}
