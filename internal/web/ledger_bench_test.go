package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/scoring"
	"github.com/propcredit/propcredit/scoring/scoringtest"
)

// BenchmarkLedgerRequests measures the ledger's public answers on a ledger of four
// publications of a 5,000-company city (20,004 leaves): a company's certificate (find its
// leaf, prove it against a freshly signed checkpoint), the checkpoint, and a full hash tile.
// Each request comes from another address, to stay below the API's rate limit.
func BenchmarkLedgerRequests(b *testing.B) {
	e := newEnv(b)
	in := scoringtest.GenerateCity(2026, 5000, 20000, 500000, 80000, 10000)
	res, err := scoring.Score(scoring.Default(), in)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 4; i++ {
		if err := publication.New(e.db).SaveDraft(ctx, in, res, "bench", e.clock.Now()); err != nil {
			b.Fatal(err)
		}
		if _, err := publication.New(e.db).Publish(ctx, res.Period, "", "bench", e.clock.Now()); err != nil {
			b.Fatal(err)
		}
	}
	s := e.s
	company := res.Grades[len(res.Grades)/2].Company
	for _, bm := range []struct{ name, path string }{
		{"certificate", "/api/v1/companies/" + company + "/certificate?period=" + res.Period},
		{"checkpoint", "/ledger/checkpoint"},
		{"tile", "/ledger/tile/8/0/001"},
	} {
		b.Run(bm.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest(http.MethodGet, bm.path, nil)
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)) // below the rate limit
				resp, err := s.App().Test(req, 30_000)
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("GET %s: %v %v", bm.path, resp.StatusCode, err)
				}
				resp.Body.Close()
			}
		})
	}
}
