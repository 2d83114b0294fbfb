package abuse

import (
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/servetest"
)

// TestNothingLostToSIGKILL kills the real server with SIGKILL while owners rate, several
// times, and starts it again on the same data directory of the embedded engine. Owners do
// what they are told: a rating that got no answer is sent again with the same idempotency key
// until it is acknowledged. After each restart every acknowledged receipt is on exactly one
// version, the one it was answered with, each household counts its last acknowledged rating,
// and `tally --verify` is clean.
func TestNothingLostToSIGKILL(t *testing.T) {
	c := startEmptyCity(t)
	// Enough households that none reaches the 50 revisions a period allows (then 409).
	const rounds, owners, perOwner = 4, 8, 100
	hs := c.codes(t, 4, "kill", owners*perOwner)
	var acks servetest.Acks
	var retried atomic.Int64 // requests sent again because the server did not answer
	for round := range rounds {
		roundBegan := time.Now()
		var stop atomic.Bool
		var wg sync.WaitGroup
		for o := range owners {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := mrand.New(mrand.NewPCG(uint64(round), uint64(o)))
				// Sent again while the server does not answer (killed, restarting) or says to
				// try again (409, 503), for up to a minute; any other answer is a failure.
				phone := c.client(fmt.Sprintf("10.7.%d.%d", round, o+1))
				phone.Patience, phone.SentAgain = time.Minute, func() { retried.Add(1) }
				for n := 0; n < 400 && !stop.Load(); n++ { // at most 16 revisions a household on average
					h := hs[o*perOwner+r.IntN(perOwner)] // an owner's own flats: "last" is well defined
					a, err := phone.Rate(h, servetest.RandomScores(r), 0)
					if err != nil {
						acks.Fail(err)
						return
					}
					acks.Add(a)
				}
			}()
		}
		time.Sleep(time.Second + time.Duration(round)*300*time.Millisecond)
		before := acks.Total()
		c.server.Kill()
		killedAt := time.Now()
		c.restart(t)
		restarted := time.Since(killedAt)
		time.Sleep(500 * time.Millisecond) // owners go on rating on the restarted server
		stop.Store(true)
		wg.Wait()
		waited := time.Since(killedAt)
		if len(acks.Failed) > 0 {
			t.Fatalf("round %d: %d owners gave up, first: %s", round+1, len(acks.Failed), acks.Failed[0])
		}
		// Each round: every household's last receipt is there (cheap: reads by _id). At the
		// end, every receipt and the tallies (each reads every rating).
		servetest.CheckLastReceipts(t, c.db, acks.ByKey)
		t.Logf("round %d (%.1f s): SIGKILL after %d acknowledged ratings (%d so far, %d requests sent again); restarted in %.1f s; owners done %.1f s after the kill",
			round+1, time.Since(roundBegan).Seconds(), before, acks.Total(), retried.Load(), restarted.Seconds(), waited.Seconds())
	}
	if acks.Total() < rounds*owners {
		t.Fatalf("only %d ratings acknowledged; the load did not run", acks.Total())
	}
	began := time.Now()
	servetest.CheckRatings(t, c.db, c.raw, acks.ByKey)
	t.Logf("%d acknowledged ratings of %d households checked in %.1f s", acks.Total(), len(acks.ByKey), time.Since(began).Seconds())
	c.verify(t)
}
