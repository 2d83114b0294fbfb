package abuse

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/servetest"
)

// statuses counts answers by HTTP status, safely from many goroutines.
type statuses struct {
	mu sync.Mutex
	n  map[int]int
}

func (s *statuses) add(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == nil {
		s.n = map[int]int{}
	}
	s.n[code]++
}

func (s *statuses) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var codes []int
	total := 0
	for c, n := range s.n {
		codes = append(codes, c)
		total += n
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%d×%d", s.n[c], c))
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}

var threes = domain.ScoresOf([6]int{3, 3, 3, 3, 3, 3})

// TestAbuse runs the attacks of issue 15 against one real server of the demo city, each on an
// estate of its own, and logs what it measured: honest owners and staff refused, and what the
// attackers got.
func TestAbuse(t *testing.T) {
	c := startCity(t)
	var acks servetest.Acks // every rating acknowledged here, checked at the end

	// (a) Wrong flats from many addresses flood one estate while its owners rate with their
	// valid codes: every owner gets in.
	t.Run("estate flood spares the owners", func(t *testing.T) {
		const addresses, owners, flood = 15, 12, 3 * time.Second
		honest := c.codes(t, 0, "flood-owner", owners)
		var (
			guesses, ownerAnswers statuses
			stop                  atomic.Bool
			wg                    sync.WaitGroup
		)
		for a := range addresses {
			for g := range 2 { // two requests at a time from each address
				wg.Add(1)
				go func() {
					defer wg.Done()
					phone := c.client(fmt.Sprintf("10.1.%d.%d", a, 1))
					for n := 0; n < 150 && !stop.Load(); n++ { // at most 4,500 guesses in all
						h := servetest.Household{Estate: honest[0].Estate, Flat: fmt.Sprintf("9-%d-%d%02d", a, g, n%100), Code: "ABCDE-FGHJK"}
						_, status, _ := phone.Submit(c.server.Addr, h, threes, "")
						guesses.add(status)
					}
				}()
			}
		}
		// The owners come one by one while the flood runs, each from its own address.
		time.Sleep(300 * time.Millisecond)
		for i, h := range honest {
			a, status, err := c.client(fmt.Sprintf("10.9.0.%d", i+1)).Submit(c.server.Addr, h, threes, servetest.RandomKey())
			ownerAnswers.add(status)
			if err != nil {
				t.Errorf("owner %s refused during the flood: %v", h.Flat, err)
			} else {
				acks.Add(a)
			}
			time.Sleep(flood / owners)
		}
		stop.Store(true)
		wg.Wait()
		t.Logf("estate flood: %d addresses sent wrong flats for %v: %s; honest owners with valid codes refused: %d of %d (answers %s)",
			addresses, flood, guesses.String(), owners-ownerAnswers.n[http.StatusCreated], owners, ownerAnswers.String())
		if guesses.n[http.StatusTooManyRequests] == 0 {
			t.Errorf("the flood was never slowed (no 429): %s", guesses.String())
		}
	})

	// (b) Wrong codes for one household from one address, then its right code from another.
	t.Run("household lock-out from one address spares the household", func(t *testing.T) {
		h := c.codes(t, 1, "lock", 1)[0]
		guesser := c.client("10.2.0.1")
		var wrong statuses
		var last string
		for try := 0; try < 10; try++ {
			bad := h
			bad.Code = "ABCDE-FGHJK"
			_, status, err := guesser.Submit(c.server.Addr, bad, threes, "")
			wrong.add(status)
			if err != nil {
				last = err.Error()
			}
			if status == http.StatusTooManyRequests {
				break
			}
		}
		_, fromGuesser, _ := guesser.Submit(c.server.Addr, h, threes, servetest.RandomKey())
		a, status, err := c.client("10.2.0.2").Submit(c.server.Addr, h, threes, servetest.RandomKey())
		t.Logf("household lock-out: wrong codes from one address: %s (last: %.160s); the right code from that address: %d; from another: %d",
			wrong.String(), last, fromGuesser, status)
		if err != nil {
			t.Fatalf("the household's right code from another address refused: %v", err)
		}
		acks.Add(a)
		if wrong.n[http.StatusTooManyRequests] == 0 {
			t.Errorf("the guesser was never locked out: %s", wrong.String())
		}
		if fromGuesser != http.StatusTooManyRequests {
			t.Errorf("the right code from the guesser's own address: %d; want 429 (the guesser is slowed even with the code)", fromGuesser)
		}
	})

	// (c) Wrong passwords for the reviewer from many addresses; then the reviewer logs in
	// from the browser it used before, at yet another address.
	t.Run("staff lock-out spares the staff's browser", func(t *testing.T) {
		staff := newBrowser(c, "10.3.0.1")
		if status := staff.login(t, "reviewer", c.reviewer); status != http.StatusSeeOther {
			t.Fatalf("the reviewer's first log-in: %d", status)
		}
		const attackers, tries = 25, 3
		var attempts statuses
		var wg sync.WaitGroup
		for a := range attackers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b := newBrowser(c, fmt.Sprintf("10.4.0.%d", a+1))
				for range tries {
					attempts.add(b.login(t, "reviewer", "wrong-password-"+servetest.RandomKey()))
				}
			}()
		}
		wg.Wait()
		newBrowserStatus := newBrowser(c, "10.3.0.9").login(t, "reviewer", c.reviewer)
		staff.from = "10.3.0.2"
		status := staff.login(t, "reviewer", c.reviewer)
		t.Logf("staff lock-out: %d addresses × %d wrong passwords: %s; then the reviewer from its own browser: %d; from a new browser: %d",
			attackers, tries, attempts.String(), status, newBrowserStatus)
		if status != http.StatusSeeOther {
			t.Errorf("the reviewer's own browser was refused after the attack: %d", status)
		}
		if newBrowserStatus != http.StatusTooManyRequests {
			t.Errorf("the right password from a new browser during the attack: %d; want 429 (the account is throttled for unknown browsers)", newBrowserStatus)
		}
		if attempts.n[http.StatusTooManyRequests] == 0 {
			t.Errorf("the guessers were never slowed: %s", attempts.String())
		}
	})

	// (d) An Idempotency-Key reused with other marks: 422 and nothing stored; while another
	// server is still storing the same key: 409 with Retry-After, and once it is gone the
	// same request is stored.
	t.Run("idempotency key reuse", func(t *testing.T) {
		hs := c.codes(t, 2, "key", 2)
		phone := c.client("10.5.0.1")
		key := servetest.RandomKey()
		first, _, err := phone.Submit(c.server.Addr, hs[0], threes, key)
		if err != nil {
			t.Fatal(err)
		}
		acks.Add(first)
		_, reused, err := phone.Submit(c.server.Addr, hs[0], domain.ScoresOf([6]int{5, 5, 5, 5, 5, 5}), key)
		if reused != http.StatusUnprocessableEntity {
			t.Errorf("the same key with other marks: %d %v, want 422", reused, err)
		}
		if rev, err := c.db.CurrentRevision(context.Background(), first.Key); err != nil || rev != 1 {
			t.Errorf("after the refused reuse the household is at revision %d (%v), want 1", rev, err)
		}
		again, _, err := phone.Submit(c.server.Addr, hs[0], threes, key)
		if err != nil || again != first {
			t.Errorf("the same request again: %+v %v, want %+v", again, err, first)
		}

		// In flight: the claim of the same request, as another server that is storing it now
		// leaves it (its versions are not in yet).
		key = servetest.RandomKey()
		hkey := c.period + "|" + hs[1].Estate + "|" + hs[1].Flat
		number := mongodb.ReceiptNumberOf(hkey, key)
		claims := c.raw.Collection("rating_receipts")
		if _, err := claims.InsertOne(context.Background(), bson.D{{Key: "_id", Value: number}, {Key: "key", Value: hkey},
			{Key: "period", Value: c.period}, {Key: "estate", Value: hs[1].Estate}, {Key: "revision", Value: 1},
			{Key: "submitted_at", Value: time.Now()}, {Key: "server", Value: "another-server"}}); err != nil {
			t.Fatal(err)
		}
		req, _ := json.Marshal(map[string]any{"estate": hs[1].Estate, "household": hs[1].Flat, "code": hs[1].Code, "scores": threes})
		inFlight, inFlightStatus, err := phone.Post(c.server.Addr, req, key)
		if inFlightStatus != http.StatusConflict || inFlight.RetryAfter == "" {
			t.Errorf("the same key while another server stores it: %d (Retry-After %q) %v, want 409 with Retry-After", inFlightStatus, inFlight.RetryAfter, err)
		}
		if _, err := claims.DeleteOne(context.Background(), bson.D{{Key: "_id", Value: number}}); err != nil {
			t.Fatal(err)
		}
		a, status, err := phone.Post(c.server.Addr, req, key)
		if err != nil {
			t.Fatalf("the same request once the other server gave it up: %d %v", status, err)
		}
		a.Key, a.Scores = hkey, threes
		acks.Add(a)
		t.Logf("idempotency key: other marks: %d; in flight elsewhere: %d (Retry-After %s); then: %d", reused, inFlightStatus, inFlight.RetryAfter, status)
	})

	// (e) A burst of 200 valid codes from one address and one User-Agent.
	t.Run("burst", func(t *testing.T) {
		const n, parallel = 200, 16
		hs := c.codes(t, 3, "burst", n)
		phone := c.client("10.6.0.1")
		var answers statuses
		var wg sync.WaitGroup
		next := atomic.Int64{}
		var held atomic.Int64
		var heldReceipt atomic.Value
		began := time.Now()
		for range parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := next.Add(1) - 1; i < n; i = next.Add(1) - 1 {
					a, status, err := phone.Submit(c.server.Addr, hs[i], servetest.RandomScores(mrand.New(mrand.NewPCG(uint64(i), 1))), servetest.RandomKey())
					answers.add(status)
					if err == nil {
						acks.Add(a)
						if a.Status == "under_review" {
							held.Add(1)
							heldReceipt.Store(a.Receipt)
						}
					}
				}
			}()
		}
		wg.Wait()
		t.Logf("burst: %d ratings from one address in %.2f s: %s", n, time.Since(began).Seconds(), answers.String())
		// Ballot-stuffing detection (rating.StuffingRules: 12 ratings from one address in 10
		// minutes) holds all but the first few for reviewers: stored, acknowledged, counted
		// nowhere, and the owner's receipt says so.
		t.Logf("burst: %d of %d held for review (%.0f %%)", held.Load(), n, 100*float64(held.Load())/n)
		if held.Load() < n*9/10 {
			t.Errorf("burst: only %d of %d ratings from one address held for review", held.Load(), n)
		}
		if rc, ok := heldReceipt.Load().(string); ok {
			resp, err := phone.HTTP.Get("http://" + c.server.Addr + "/receipt/" + rc)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "审核中") {
				t.Errorf("receipt of a held rating: status %d, no 审核中 in it", resp.StatusCode)
			}
		}
	})

	// Every acknowledged rating is stored once, at the revision it was answered with, and the
	// tallies agree with the ratings.
	if t.Failed() {
		return
	}
	began := time.Now()
	servetest.CheckRatings(t, c.db, c.raw, acks.ByKey)
	c.verify(t)
	t.Logf("%d acknowledged ratings checked, and tally --verify, in %.1f s", acks.Total(), time.Since(began).Seconds())
}

// browser is a staff member's browser: cookies kept, redirects not followed, at an address.
type browser struct {
	c    *city
	http *http.Client
	from string
}

func newBrowser(c *city, from string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: c, from: from, http: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// login fills in the log-in form and returns the answer's status (303: logged in).
func (b *browser) login(t *testing.T, name, password string) int {
	do := func(req *http.Request) (*http.Response, string, error) {
		req.Header.Set("X-Forwarded-For", b.from)
		resp, err := b.http.Do(req)
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp, string(body), err
	}
	base := "http://" + b.c.server.Addr
	req, _ := http.NewRequest(http.MethodGet, base+"/login", nil)
	_, page, err := do(req)
	m := csrfField.FindStringSubmatch(page)
	if err != nil || m == nil {
		t.Errorf("GET /login: %v %.200s", err, page)
		return 0
	}
	form := url.Values{"_csrf": {m[1]}, "name": {name}, "password": {password}}
	req, _ = http.NewRequest(http.MethodPost, base+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _, err := do(req)
	if err != nil {
		t.Errorf("POST /login: %v", err)
		return 0
	}
	return resp.StatusCode
}
