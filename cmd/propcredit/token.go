package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/propcredit/propcredit/internal/audit"
)

const tokenSynopsis = "token issue --company ID [--name NAME] | token list --company ID | token revoke --company ID --ref REF  [--data DIR]"

// token manages the API tokens with which a company's own systems file disclosures
// (POST /api/v1/disclosures). issue prints the new token, once: the database keeps only its
// hash. Companies can also issue and revoke their tokens on the web, at /company/tokens.
func (m *Main) token(ctx context.Context, args []string) error {
	sub, done, err := m.subcommand("token", tokenSynopsis, args, "issue", "list", "revoke")
	if done {
		return err
	}
	fs, sf := m.storeFlagSet("token "+sub, tokenSynopsis)
	company := fs.String("company", "", "the company's unified social credit code")
	name := fs.String("name", "", "issue: what the token is for, such as the system that uses it")
	ref := fs.String("ref", "", "revoke: the token's ref (tok_…), from token list")
	if err := m.parseFlags(fs, args[1:]); err != nil {
		return err
	}
	*company = strings.ToUpper(strings.TrimSpace(*company))
	switch {
	case *company == "":
		return usagef("token %s: --company is required", sub)
	case sub == "revoke" && *ref == "":
		return usagef("token revoke: --ref is required (see 'propcredit token list')")
	}
	if sub == "issue" && *name == "" {
		*name = "issued by the command line"
	}
	store, err := m.openStore(ctx, sf, "token")
	if err != nil {
		return err
	}
	db, now := store.DB, time.Now()
	switch sub {
	case "issue":
		token, t, err := db.IssueToken(ctx, *company, *name, "cli", now)
		if err != nil {
			return fmt.Errorf("token issue: %w", err)
		}
		if err := m.audited(ctx, store, audit.Change{Action: "token.issue", Object: "token/" + t.Ref, Company: t.Company,
			After: map[string]any{"ref": t.Ref, "name": t.Name}}); err != nil {
			return err
		}
		fmt.Fprintln(m.Stdout, token)
		fmt.Fprintf(m.Stderr, "issued API token %s (%q) for company %s; it is shown only this once\n", t.Ref, t.Name, t.Company)
	case "list":
		tokens, err := db.Tokens(ctx, *company)
		if err != nil {
			return fmt.Errorf("token list: %w", err)
		}
		for _, t := range tokens {
			state := "active"
			if t.RevokedAt != nil {
				state = "revoked " + t.RevokedAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(m.Stdout, "%s\t%s\t%s\t%s\t%s\n", t.Ref, t.CreatedAt.UTC().Format(time.RFC3339), t.CreatedBy, state, t.Name)
		}
	case "revoke":
		if err := db.RevokeToken(ctx, *company, *ref, "cli", now); err != nil {
			return fmt.Errorf("token revoke: %w", err)
		}
		if err := m.audited(ctx, store, audit.Change{Action: "token.revoke", Object: "token/" + *ref, Company: *company,
			Before: map[string]any{"revoked": false}, After: map[string]any{"revoked": true}}); err != nil {
			return err
		}
		fmt.Fprintf(m.Stderr, "revoked API token %s\n", *ref)
	}
	return nil
}
