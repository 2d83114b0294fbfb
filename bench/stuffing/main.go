// Command stuffing measures ballot-stuffing detection (internal/rating/holds.go) on the demo
// city: it replays the open period's honest ratings in the order and at the times the demo
// gives them, through the rating writer of a fresh embedded engine (the closed period is
// imported as history), with client addresses and User-Agents as owners' phones would have
// them, then injects attacks and an honest rush, and reports, for each, how many ratings were
// held, and how many honest owners were held wrongly. See bench/README.md, "Ballot-stuffing".
//
//	go run ./bench/stuffing
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/propcredit/propcredit/bench/internal/load"
	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/demo"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/rating"
)

func main() {
	rules := flag.String("rules", "on", "thresholds, as serve --hold-suspect takes them")
	seed := flag.Int64("seed", demo.DefaultSeed, "demo city seed")
	flag.Parse()
	r, err := rating.ParseStuffingRules(*rules)
	if err == nil {
		err = run(context.Background(), os.Stdout, r, *seed)
	}
	load.ExitOnError("stuffing benchmark", err)
}

// scenario is a set of submissions that are either all honest or all an attack.
type scenario struct {
	name   string
	attack bool
	subs   []rating.Submission
	held   int
	fired  map[string]int // signal kind → held ratings it fired for
}

// Phones of honest owners: a household's own broadband address, or one of a carrier's NAT
// addresses (shared by many subscribers), and one of the browsers in use.
var userAgents = []string{
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.47",
	"Mozilla/5.0 (Linux; Android 14; V2309A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 13; 22081212C) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/111.0 Mobile Safari/537.36 MicroMessenger/8.0.46",
	"Mozilla/5.0 (Linux; Android 12; HarmonyOS; ALN-AL00) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
}

const carrierNATs = 64 // city-wide addresses behind which mobile subscribers share

func honestPhone(r *rand.Rand, key string) (ip, ua string) {
	ua = userAgents[r.IntN(len(userAgents))]
	if r.Float64() < 0.55 {
		return "home:" + key, ua
	}
	return fmt.Sprintf("nat:%d", r.IntN(carrierNATs)), ua
}

func run(ctx context.Context, out io.Writer, rules rating.StuffingRules, seed int64) error {
	store, _, done, err := load.TempStore(ctx, "propcredit-stuffing-bench-", app.Private, "stuffing bench")
	if err != nil {
		return err
	}
	defer done()
	db := store.DB
	db.SetStuffingRules(rules)

	now := time.Now()
	ds := demo.Generate(seed, now)
	period, ok, err := openPeriod(ds, now)
	if !ok {
		return err
	}
	var honest []domain.Rating
	history := *ds
	history.Ratings = nil
	for _, rt := range ds.Ratings {
		if rt.Period == period.ID {
			honest = append(honest, rt)
		} else {
			history.Ratings = append(history.Ratings, rt)
		}
	}
	if _, err := db.Import(ctx, &history, nil); err != nil {
		return fmt.Errorf("import the demo city: %w", err)
	}
	sort.SliceStable(honest, func(i, j int) bool { return honest[i].SubmittedAt.Before(honest[j].SubmittedAt) })
	fmt.Fprintf(out, "demo city (seed %d): %d estates; closed period imported (%d ratings); open period %s: %d honest ratings to replay\n",
		seed, len(ds.Estates), len(history.Ratings), period.ID, len(honest))
	fmt.Fprintf(out, "rules: %+v\n", rules)

	r := rand.New(rand.NewPCG(uint64(seed), 15))
	replay := &scenario{name: "honest replay of the open period"}
	for _, rt := range honest {
		ip, ua := honestPhone(r, rt.Key())
		replay.subs = append(replay.subs, rating.Submission{Rating: rt, Source: rating.SourceWeb, IPHash: ip, UserAgentHash: ua})
	}
	start := time.Now()
	if err := submitAll(ctx, db, replay); err != nil {
		return err
	}
	fmt.Fprintf(out, "replayed %d honest ratings in %.1f s\n", len(honest), time.Since(start).Seconds())
	fmt.Fprintf(out, "honest peaks, most ratings that shared one value in one %s window: %s\n", rules.Window, peaks(replay.subs, rules.Window))

	// The rating writer reads the tallies (the estates' history and means) at most every 30 s;
	// the replay compresses the period into seconds, so wait for a read that has it all.
	time.Sleep(31 * time.Second)

	// The attacks and the rush come after the last honest rating, in windows of their own.
	at := honest[len(honest)-1].SubmittedAt.Add(time.Hour)
	next := func() time.Time { t := at; at = at.Add(time.Hour); return t }
	estates := bySize(ds.Estates)
	tallies, err := db.Tallies(ctx, period.ID)
	if err != nil {
		return err
	}
	flat := func(tag string, i int) string { return fmt.Sprintf("%s-%04d", tag, i) }
	high := func() domain.Scores {
		var m [6]int
		for i := range m {
			m[i] = 4 + r.IntN(2)
		}
		return domain.ScoresOf(m)
	}
	sub := func(estate, household string, t time.Time, s domain.Scores, comment, ip, ua string) rating.Submission {
		return rating.Submission{Rating: domain.Rating{Period: period.ID, Estate: estate, Household: household, SubmittedAt: t, Scores: s, Comment: comment},
			Source: rating.SourceAPI, IPHash: ip, UserAgentHash: ua}
	}
	var scenarios []*scenario

	// 1. 200 valid codes of the biggest estate from one address and one User-Agent in 0.4 s.
	s := &scenario{name: "200 codes, one address and one UA, 0.4 s", attack: true}
	t0 := next()
	for i := range 200 {
		s.subs = append(s.subs, sub(estates[0].ID, flat("a1", i), t0.Add(time.Duration(i)*2*time.Millisecond), high(), "", "attacker-1", "curl/8.5"))
	}
	scenarios = append(scenarios, s)

	// 2. The same comment from 40 households of 8 estates, each from its own address and
	// browser (a botnet), within 10 minutes.
	s = &scenario{name: "identical comment, 40 households of 8 estates, 40 addresses, 10 min", attack: true}
	t0 = next()
	for i := range 40 {
		e := estates[1+i%8].ID
		s.subs = append(s.subs, sub(e, flat("a2", i), t0.Add(time.Duration(i)*14*time.Second), high(), "物业服务非常好，强烈推荐！",
			fmt.Sprintf("bot-2-%d", i), userAgents[i%len(userAgents)]))
	}
	scenarios = append(scenarios, s)

	// 3. One phone (one address, one browser) rates 30 households of 6 estates over 10 minutes.
	s = &scenario{name: "one device, 30 households of 6 estates, 10 min", attack: true}
	t0 = next()
	for i := range 30 {
		s.subs = append(s.subs, sub(estates[10+i%6].ID, flat("a3", i), t0.Add(time.Duration(i)*19*time.Second), high(), "", "attacker-3", userAgents[0]))
	}
	scenarios = append(scenarios, s)

	// 4. A burst at one estate: 150 households in 10 minutes from 150 addresses.
	s = &scenario{name: "burst at one estate, 150 households, 150 addresses, 10 min", attack: true}
	t0 = next()
	for i := range 150 {
		s.subs = append(s.subs, sub(estates[20].ID, flat("a4", i), t0.Add(time.Duration(i)*4*time.Second), high(), "",
			fmt.Sprintf("bot-4-%d", i), userAgents[i%len(userAgents)]))
	}
	scenarios = append(scenarios, s)

	// 5. The same six marks from 30 households of one estate, 30 addresses, 10 minutes.
	s = &scenario{name: "identical marks 5,5,5,5,5,5, 30 households of one estate, 10 min", attack: true}
	t0 = next()
	for i := range 30 {
		s.subs = append(s.subs, sub(estates[30].ID, flat("a5", i), t0.Add(time.Duration(i)*19*time.Second), domain.ScoresOf([6]int{5, 5, 5, 5, 5, 5}), "",
			fmt.Sprintf("bot-5-%d", i), userAgents[i%len(userAgents)]))
	}
	scenarios = append(scenarios, s)

	// An honest rush: 35 owners of one estate rate within 10 minutes (a notice in the lift, a
	// meeting), each on their own phone, marks as the estate's owners give them.
	s = &scenario{name: "honest rush, 35 households of one estate, 10 min"}
	t0 = next()
	rushEstate := estates[40]
	mean := 3.0
	for _, t := range tallies {
		if t.Estate == rushEstate.ID && t.Ratings > 0 {
			a := t.Sums.Array()
			mean = float64(a[0]+a[1]+a[2]+a[3]+a[4]+a[5]) / float64(6*t.Ratings)
		}
	}
	for i := range 35 {
		var m [6]int
		mood := 0.5 * r.NormFloat64()
		for d := range m {
			m[d] = min(5, max(1, int(mean+mood+0.55*r.NormFloat64()+0.5)))
		}
		ip, ua := honestPhone(r, flat("h", i))
		s.subs = append(s.subs, sub(rushEstate.ID, flat("h", i), t0.Add(time.Duration(i)*17*time.Second), domain.ScoresOf(m), "", ip, ua))
	}
	scenarios = append(scenarios, s)

	for _, s := range scenarios {
		if err := submitAll(ctx, db, s); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "\n%-72s %9s %6s  %s\n", "scenario", "ratings", "held", "signals that fired (held ratings)")
	totalAttack, heldAttack, totalHonest, heldHonest := 0, 0, 0, 0
	for _, s := range append([]*scenario{replay}, scenarios...) {
		var kinds []string
		for k, n := range s.fired {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
		sort.Strings(kinds)
		fmt.Fprintf(out, "%-72s %9d %6d  %s\n", s.name, len(s.subs), s.held, strings.Join(kinds, ", "))
		if s.attack {
			totalAttack += len(s.subs)
			heldAttack += s.held
		} else {
			totalHonest += len(s.subs)
			heldHonest += s.held
		}
	}
	fmt.Fprintf(out, "\ndetection: %d of %d attack ratings held (%.1f%%); honest owners wrongly held: %d of %d (%.3f%%)\n",
		heldAttack, totalAttack, 100*float64(heldAttack)/float64(totalAttack), heldHonest, totalHonest, 100*float64(heldHonest)/float64(totalHonest))

	drift, err := db.VerifyTallies(ctx, false)
	if err != nil {
		return err
	}
	if len(drift) > 0 {
		return fmt.Errorf("%d tallies drifted, first %+v", len(drift), drift[0])
	}
	after, err := db.Tallies(ctx, period.ID)
	if err != nil {
		return err
	}
	var counted int64
	for _, t := range after {
		counted += t.Ratings
	}
	if want := int64(totalAttack + totalHonest - heldAttack - heldHonest); counted != want {
		return fmt.Errorf("the tallies count %d ratings of %s, want %d (every rating not held)", counted, period.ID, want)
	}
	fmt.Fprintf(out, "verified: the tallies agree with the ratings and count %d ratings of %s, none of the %d held\n", counted, period.ID, heldAttack+heldHonest)
	return nil
}

// submitAll stores a scenario's submissions through the rating writer, 32 at a time, in order,
// and counts those held.
func submitAll(ctx context.Context, db *mongodb.DB, s *scenario) error {
	s.fired = map[string]int{}
	type result struct {
		rc  rating.Receipt
		err error
	}
	results := make([]result, len(s.subs))
	work := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				rc, err := db.SubmitRating(ctx, s.subs[i])
				results[i] = result{rc, err}
			}
		}()
	}
	for i := range s.subs {
		work <- i
	}
	close(work)
	wg.Wait()
	period := ""
	for i, res := range results {
		if res.err != nil {
			return fmt.Errorf("%s: %s: %w", s.name, s.subs[i].Rating.Key(), res.err)
		}
		if res.rc.Hold == rating.HoldHeld {
			s.held++
		}
		period = s.subs[i].Rating.Period
	}
	if s.held == 0 {
		return nil
	}
	holds, err := db.Holds(ctx, period)
	if err != nil {
		return err
	}
	mine := map[string]bool{}
	for _, res := range results {
		mine[res.rc.Number] = true
	}
	for _, h := range holds {
		if mine[h.Receipt] {
			for _, sg := range h.Signals {
				s.fired[sg.Kind]++
			}
		}
	}
	return nil
}

// peaks is, for each signal, the most ratings (of distinct households: each rates once in the
// replay) that shared one value in one window among subs: how close honest owners come to the
// thresholds.
func peaks(subs []rating.Submission, window time.Duration) string {
	if window <= 0 {
		return "-"
	}
	count := map[string]map[string]bool{} // kind|value|window → households
	top := map[string]int{}
	for _, s := range subs {
		rt := s.Rating
		w := rt.SubmittedAt.UnixNano() / int64(window)
		keys := map[string]string{
			"address": s.IPHash, "device": s.IPHash + "|" + s.UserAgentHash, "estate": rt.Estate,
			"vector": fmt.Sprint(rt.Estate, rt.Scores.Array()),
		}
		if c := strings.Join(strings.Fields(rt.Comment), ""); c != "" {
			keys["comment"] = c
		}
		for kind, v := range keys {
			k := fmt.Sprint(kind, "|", v, "|", w)
			if count[k] == nil {
				count[k] = map[string]bool{}
			}
			count[k][rt.Key()] = true
			top[kind] = max(top[kind], len(count[k]))
		}
	}
	var out []string
	for _, kind := range []string{"address", "device", "comment", "vector", "estate"} {
		out = append(out, fmt.Sprintf("%s %d", kind, top[kind]))
	}
	return strings.Join(out, ", ")
}

// bySize lists estates, the ones with most households first.
func bySize(estates []domain.Estate) []domain.Estate {
	out := append([]domain.Estate(nil), estates...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Households > out[j].Households })
	return out
}

func openPeriod(ds *domain.Dataset, now time.Time) (domain.Period, bool, error) {
	today := domain.Today(now)
	for _, p := range ds.Periods {
		if p.Contains(today) {
			return p, true, nil
		}
	}
	return domain.Period{}, false, fmt.Errorf("no open period in the demo city on %s", today)
}
