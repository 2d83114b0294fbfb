package mongodb

import (
	"context"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/propcredit/propcredit/internal/derrors"
	"github.com/propcredit/propcredit/internal/domain"
)

// An account's _id is its name. Log-in looks accounts up by name, and a lookup by _id is the
// only one the embedded engine answers without scanning the collection; the unique index on
// name stays as a second guard.

// CreateAccount stores a new account. a.ID must be empty or equal to a.Name; it is set to
// a.Name. A taken name is a Conflict.
func (db *DB) CreateAccount(ctx context.Context, a domain.Account) error {
	if a.ID != "" && a.ID != a.Name {
		return derrors.Errorf(derrors.Invalid, "账号ID必须与账号名相同")
	}
	if a.Name == "" {
		return derrors.Errorf(derrors.Invalid, "账号名不能为空")
	}
	a.ID = a.Name
	_, err := db.c(colAccounts).InsertOne(ctx, a)
	if mongo.IsDuplicateKeyError(err) {
		return derrors.Errorf(derrors.Conflict, "账号名“%s”已被使用", a.Name)
	}
	if err != nil {
		return fmt.Errorf("create account %q: %w", a.Name, err)
	}
	return nil
}

// AccountByName returns the account called name, or a NotFound error.
func (db *DB) AccountByName(ctx context.Context, name string) (domain.Account, error) {
	return findByID[domain.Account](ctx, db.c(colAccounts), name, "account")
}

// AccountByID returns the account with the given id, or a NotFound error.
func (db *DB) AccountByID(ctx context.Context, id string) (domain.Account, error) {
	return findByID[domain.Account](ctx, db.c(colAccounts), id, "account")
}

// Accounts returns every account, sorted by name. There are a few hundred at most.
func (db *DB) Accounts(ctx context.Context) ([]domain.Account, error) {
	out, err := findAll[domain.Account](ctx, db.c(colAccounts), bson.D{})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// SetPassword replaces the password hash of account id. It does not end the account's
// sessions; see DeleteSessionsOf.
// ChangePassword sets the password its holder chose: the hash, and the end of any one-time
// password's duty to change it.
func (db *DB) ChangePassword(ctx context.Context, id, passwordHash string) error {
	return db.updateAccount(ctx, id, "change password of", bson.D{
		{Key: "$set", Value: bson.D{{Key: "password_hash", Value: passwordHash}}},
		{Key: "$unset", Value: bson.D{{Key: "must_change_password", Value: ""}}}})
}

// updateAccount applies update to account id; NotFound if there is none.
func (db *DB) updateAccount(ctx context.Context, id, what string, update bson.D) error {
	res, err := db.c(colAccounts).UpdateOne(ctx, byID(id), update)
	if err != nil {
		return fmt.Errorf("%s %q: %w", what, id, err)
	}
	if res.MatchedCount == 0 {
		return derrors.Errorf(derrors.NotFound, "account %q not found", id)
	}
	return nil
}

func (db *DB) SetPassword(ctx context.Context, id, passwordHash string) error {
	return db.updateAccount(ctx, id, "set password of",
		bson.D{{Key: "$set", Value: bson.D{{Key: "password_hash", Value: passwordHash}}}})
}

// SetDisabled disables or enables account id. The engine applies an update by rewriting the
// whole document, so a concurrent update of another field (a password change) could undo it:
// the write is read back, and repeated until it holds.
func (db *DB) SetDisabled(ctx context.Context, id string, disabled bool) error {
	for range 5 {
		if err := db.updateAccount(ctx, id, "disable account",
			bson.D{{Key: "$set", Value: bson.D{{Key: "disabled", Value: disabled}}}}); err != nil {
			return err
		}
		a, err := db.AccountByID(ctx, id)
		if err != nil {
			return err
		}
		if a.Disabled == disabled {
			return nil
		}
	}
	return fmt.Errorf("disable account %q: a concurrent update kept undoing it", id)
}
