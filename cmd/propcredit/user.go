package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/auth"
	"github.com/propcredit/propcredit/internal/domain"
)

func (m *Main) user(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(m.Stdout, "Usage: propcredit user add --role ROLE --name NAME [--company ID] [--password-stdin]")
			return nil
		}
		return usagef("user: the only subcommand is 'add' (propcredit user add --role ROLE --name NAME [--company ID])")
	}
	fs, sf := m.storeFlagSet("user add", "user add --role ROLE --name NAME [--company ID] [--password-stdin] [--data DIR]")
	role := fs.String("role", "", "one of "+strings.Join(domain.Roles, ", "))
	name := fs.String("name", "", "log-in name (letters, digits, '.', '_', '-')")
	company := fs.String("company", "", "the company's credit code (role company only)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input instead of generating one")
	if err := m.parse(fs, args[1:]); err != nil {
		return err
	}
	acct := domain.Account{Name: *name, Role: *role, Company: *company, CreatedAt: time.Now().UTC()}
	if err := domain.NewValidator().Check(acct, domain.LangEN); err != nil {
		return usagef("user add: %v (roles: %s)", err, strings.Join(domain.Roles, ", "))
	}
	if acct.Role != domain.RoleCompany && acct.Company != "" {
		return usagef("user add: --company is only for --role company")
	}
	password := auth.NewPassword()
	if *fromStdin {
		line, err := bufio.NewReader(m.Stdin).ReadString('\n')
		password = strings.TrimRight(line, "\r\n")
		if password == "" {
			return usagef("user add: --password-stdin: no password on standard input (%v)", err)
		}
		if err := auth.CheckNewPassword(password, acct.Name); err != nil {
			return usagef("user add: --password-stdin: %v", err)
		}
	}
	store, err := m.openStore(ctx, sf, "user")
	if err != nil {
		return err
	}
	if acct.Company != "" {
		if _, err := store.DB.Company(ctx, acct.Company); err != nil {
			return fmt.Errorf("user add: --company: %w", err)
		}
	}
	// A generated password is one-time: it is printed here, so someone else has seen it.
	acct.MustChangePassword = !*fromStdin
	if acct.PasswordHash, err = auth.HashPassword(password); err != nil {
		return err
	}
	if err := store.DB.CreateAccount(ctx, acct); err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	if err := m.audited(ctx, store, audit.Change{Action: "account.create", Object: "account/" + acct.Name, Company: acct.Company,
		After: map[string]any{"name": acct.Name, "role": acct.Role, "company": acct.Company}}); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "created %s account %q\n", acct.Role, acct.Name)
	if !*fromStdin {
		fmt.Fprintf(m.Stdout, "one-time password: %s (it must be changed at the first log-in)\n", password)
	}
	return nil
}
