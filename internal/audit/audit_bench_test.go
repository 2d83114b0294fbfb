package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/audit"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

func TestMain(m *testing.M) { mongodbtest.Main(m) }

// BenchmarkRecord measures what recording an audit entry costs on the embedded engine, with
// its ledger leaf (what every person's action pays) and, for comparison, the entry alone.
func BenchmarkRecord(b *testing.B) {
	ctx := context.Background()
	ch := audit.Change{Action: "bench.step", Object: "thing/1", Before: map[string]int{"n": 1}, After: map[string]int{"n": 2}}
	b.Run("entry+leaf", func(b *testing.B) {
		log := audit.New(mongodbtest.NewDB(b), nil)
		for i := 0; i < b.N; i++ {
			if err := log.Record(ctx, audit.CLI, ch); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("entry", func(b *testing.B) {
		db := mongodbtest.NewDB(b)
		for i := 0; i < b.N; i++ {
			e, err := audit.NewEntry(time.Now(), audit.CLI, ch)
			if err == nil {
				err = db.AppendAudit(ctx, e)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
