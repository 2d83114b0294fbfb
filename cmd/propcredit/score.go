package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/progress"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/scoring"
)

func (m *Main) score(ctx context.Context, args []string) error {
	fs, sf := m.storeFlagSet("score", "score --period P [--ruleset FILE] [--format json|table] [--data DIR]")
	period := fs.String("period", "", "the period to score, e.g. 2026Q4")
	rulesetFile := fs.String("ruleset", "", "a ruleset JSON file (default: the built-in "+scoring.Default().Ref()+")")
	format := fs.String("format", "table", "output: json (INTERCHANGE.md's exported results) or table")
	var cf creditFlags
	cf.register(fs)
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *period == "" {
		return usagef("score: --period is required, e.g. --period 2026Q4")
	}
	if *format != "json" && *format != "table" {
		return usagef("score: --format must be json or table, not %q", *format)
	}
	rs := scoring.Default()
	if *rulesetFile != "" {
		data, err := os.ReadFile(*rulesetFile)
		if err != nil {
			return usagef("score: --ruleset: %v", err)
		}
		if rs, err = scoring.LoadRuleset(data); err != nil {
			return usagef("score: --ruleset %s: %v", *rulesetFile, err)
		}
	}
	store, err := m.openStore(ctx, sf, "score")
	if err != nil {
		return err
	}
	if err := m.settleCredit(ctx, store, cf); err != nil {
		return err
	}
	res, err := m.scorePeriod(ctx, store, *period, rs, m.cliActor().Name)
	if err != nil {
		return err
	}
	if err := m.audited(ctx, store, audit.Change{Action: "results.score", Object: "period/" + *period, Period: *period,
		After: map[string]any{"ruleset": res.Ruleset, "companies": len(res.Grades)}}); err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(m.Stderr, "warning: %s: %s\n", w.Code, w.Message)
	}
	if *format == "json" {
		out, err := scoring.MarshalExport(res)
		if err != nil {
			return err
		}
		_, err = m.Stdout.Write(out)
		return err
	}
	tw := tabwriter.NewWriter(m.Stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "rank\tcompany\tscore\tgrade\tlist\tS\tD\tG\tbonus\tdeduction\testates\tratings\tname\t\n")
	for _, g := range res.Grades {
		c := g.Components
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t\n", g.Rank, g.Company, g.Score, g.Grade, g.List,
			c.Satisfaction, c.Disclosure, c.Governance, c.Bonus, c.Deduction, g.Estates, g.Ratings, g.Name)
	}
	return tw.Flush()
}

// scorePeriod reads a period's data, scores it and stores the result as the period's draft.
func (m *Main) scorePeriod(ctx context.Context, store *app.Store, period string, rs *scoring.Ruleset, by string) (*scoring.Result, error) {
	steps := progress.New("score "+period, 3, m.Stderr, m.Log)
	res, err := store.Publication.Score(ctx, period, rs, by, time.Now(), func(done int) { steps.Set(int64(done)) })
	if err != nil {
		return nil, err
	}
	steps.Finish()
	return res, nil
}

func (m *Main) publish(ctx context.Context, args []string) error {
	fs, sf := m.storeFlagSet("publish", "publish --period P [--final] [--publicity-days N] [--data DIR]")
	period := fs.String("period", "", "the period whose draft results to publish")
	final := fs.Bool("final", false, "approve the current publication as final (正式发布): only after its publicity, and not by whoever published it")
	days := fs.Int("publicity-days", publication.DefaultPublicityDays, "days of publicity (公示) a publication opens")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	if *period == "" {
		return usagef("publish: --period is required, e.g. --period 2026Q4")
	}
	if *days < 1 || *days > 90 {
		return usagef("publish: --publicity-days must be between 1 and 90, not %d", *days)
	}
	store, err := m.openStore(ctx, sf, "publish")
	if err != nil {
		return err
	}
	who := m.cliActor()
	if *final {
		pub, err := store.Publication.Finalize(ctx, *period, who.Name, time.Now())
		if err != nil {
			return fmt.Errorf("publish --final: %w", err)
		}
		if err := m.audited(ctx, store, audit.Change{Action: "results.final", Object: "period/" + pub.Period, Period: pub.Period,
			Before: map[string]any{"publication": pub.Seq, "status": publication.StatusPublicity, "published_by": pub.CreatedBy},
			After:  map[string]any{"publication": pub.Seq, "status": publication.StatusFinal}}); err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "publication %d of %s is final (published by %s, approved by %s)\n", pub.Seq, pub.Period, pub.CreatedBy, who.Name)
		return nil
	}
	pub, err := store.Publication.SetPublicityDays(*days).Publish(ctx, *period, "", who.Name, time.Now())
	if err != nil {
		return err
	}
	if err := m.audited(ctx, store, audit.Change{Action: "results.publish", Object: "period/" + pub.Period, Period: pub.Period,
		After: map[string]any{"publication": pub.Seq, "inputs_hash": pub.InputsHash, "ruleset": pub.Ruleset}}); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "published %s as publication %d (ruleset %s, inputs %s); publicity until %s\n", pub.Period, pub.Seq, pub.Ruleset, pub.InputsHash[:12],
		pub.PublicityEnds.In(domain.Zone).Format("2006-01-02 15:04 (UTC+8)"))
	return nil
}
