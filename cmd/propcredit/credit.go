package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/credit"
)

// creditFlags configure the credit process: the working-day calendar and the objection
// window.
type creditFlags struct {
	calendar string
	days     int
}

func (cf *creditFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&cf.calendar, "calendar", "", "working-day calendar file (lines \"YYYY-MM-DD off|work [note]\"); default: the one built in")
	fs.IntVar(&cf.days, "objection-days", credit.DefaultObjectionDays, "working days a company has to object to a credit record")
}

// load reads the calendar file, if one is given, and checks the window.
func (cf *creditFlags) load() (*credit.Calendar, error) {
	if cf.days < 1 || cf.days > 60 {
		return nil, usagef("--objection-days must be between 1 and 60, not %d", cf.days)
	}
	if cf.calendar == "" {
		return credit.DefaultCalendar(), nil
	}
	f, err := os.Open(cf.calendar)
	if err != nil {
		return nil, usagef("--calendar: %v", err)
	}
	defer f.Close()
	cal, err := credit.ParseCalendar(f)
	if err != nil {
		return nil, usagef("--calendar %s: %v", cf.calendar, err)
	}
	return cal, nil
}

// settleCredit puts in force the credit records whose objection windows have closed (and
// writes the governance records of verified declarations again), before a period is scored.
func (m *Main) settleCredit(ctx context.Context, store *app.Store, cf creditFlags) error {
	cal, err := cf.load()
	if err != nil {
		return err
	}
	svc := credit.New(credit.Config{Store: store.DB, Audit: audit.New(store.DB, nil), Calendar: cal, ObjectionDays: cf.days})
	n, err := svc.PrepareScoring(ctx)
	if err != nil {
		return fmt.Errorf("put credit records in force: %w", err)
	}
	if n > 0 {
		fmt.Fprintf(m.Stderr, "%d credit records came into force (their objection windows closed)\n", n)
	}
	return nil
}
