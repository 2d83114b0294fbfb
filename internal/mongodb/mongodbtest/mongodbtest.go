// Package mongodbtest gives tests a real database: the embedded engine, started once per test
// binary, or the MongoDB named by PROPCREDIT_TEST_MONGODB_URI. Each test gets its own database.
package mongodbtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/ferretdb"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/rating"
)

var (
	once    sync.Once
	uri     string
	engine  *ferretdb.Engine
	tempDir string
	openErr error
)

// URI returns the connection string of the test database server, starting the embedded engine
// on first use.
func URI(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if u := os.Getenv("PROPCREDIT_TEST_MONGODB_URI"); u != "" {
			uri = u
			return
		}
		tempDir, openErr = os.MkdirTemp("", "propcredit-test-")
		if openErr != nil {
			return
		}
		engine, openErr = ferretdb.Start(context.Background(), tempDir)
		if openErr == nil {
			uri = engine.URI()
		}
	})
	if openErr != nil {
		t.Fatalf("start test database: %v", openErr)
	}
	return uri
}

// Main runs the tests of a package and stops the embedded engine afterwards. Call it from
// TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if engine != nil {
		_ = engine.Close()
		_ = os.RemoveAll(tempDir)
	}
	os.Exit(code)
}

// NewDB connects to a fresh, migrated database that is dropped when the test ends.
func NewDB(t testing.TB) *mongodb.DB {
	t.Helper()
	ctx := context.Background()
	name := "test_" + randomHex(6)
	db, err := mongodb.Connect(ctx, URI(t), name, Quiet())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if engine != nil {
		if _, err := ferretdb.IndexIDs(ctx, tempDir, name); err != nil {
			t.Fatalf("index _id: %v", err)
		}
	} else {
		db.UseFieldLookups(true) // as serve does with --mongodb-uri
	}
	t.Cleanup(func() {
		_ = db.Drop(ctx)
		_ = db.Close(ctx)
	})
	return db
}

// NewDBWith is NewDB with ds imported.
func NewDBWith(t testing.TB, ds *domain.Dataset) *mongodb.DB {
	t.Helper()
	db := NewDB(t)
	if _, err := db.Import(context.Background(), ds, nil); err != nil {
		t.Fatalf("import: %v", err)
	}
	return db
}

// OnePrintedCodeLive checks what concurrent re-issues of an estate's household codes printed
// (code gives a printed code's flat and code): each printed code either still checks or is
// void, and each of flats has exactly one that checks, so that no generation was lost.
func OnePrintedCodeLive[C any](t testing.TB, db *mongodb.DB, period, estate string, flats []string, printed [][]C, code func(C) (flat, code string)) {
	t.Helper()
	live := map[string]int{}
	for i, codes := range printed {
		for _, c := range codes {
			flat, printedCode := code(c)
			switch err := db.CheckCode(context.Background(), period, estate, flat, printedCode, time.Now()); {
			case err == nil:
				live[flat]++
			case errors.Is(err, rating.ErrCodeVoided):
			default:
				t.Errorf("re-issue %d: the printed code of %s is neither live nor void: %v", i, flat, err)
			}
		}
	}
	for _, f := range flats {
		if live[f] != 1 {
			t.Errorf("flat %s: %d live printed codes, want 1", f, live[f])
		}
	}
}

// Reconnect opens a second connection to db's database, as another server process would
// have: with caches of its own. It is closed when the test ends.
func Reconnect(t testing.TB, db *mongodb.DB) *mongodb.DB {
	t.Helper()
	ctx := context.Background()
	other, err := mongodb.Connect(ctx, URI(t), db.Name(), Quiet())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	other.UseFieldLookups(engine == nil)
	t.Cleanup(func() { _ = other.Close(ctx) })
	return other
}

// Quiet is a logger that drops everything, for tests.
func Quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Buffer is a bytes.Buffer that a server's goroutines may write (its log, its output) while
// the test reads it.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprint("crypto/rand: ", err))
	}
	return hex.EncodeToString(b)
}

// OneEstateCompany is the company of OneEstate.
const OneEstateCompany = "91110000100000000A"

// OneEstate is the smallest city a workflow runs on: one district, one company (阳光物业) with
// one estate (e1, 阳光花园, 100 households), and one period, 2026Q4.
func OneEstate() *domain.Dataset {
	return &domain.Dataset{
		Districts: []domain.District{{ID: "d1", Name: "东湖区"}},
		Companies: []domain.Company{{ID: OneEstateCompany, Name: "阳光物业"}},
		Estates:   []domain.Estate{{ID: "e1", Name: "阳光花园", District: "d1", Company: OneEstateCompany, Households: 100, Category: "commodity"}},
		Periods:   []domain.Period{{ID: "2026Q4", Start: "2026-10-01", End: "2026-12-31", DisclosureDeadline: "2026-10-15"}},
	}
}

// TwoEstates is a city of two companies, for workflows where one company must not see or touch
// what is the other's: company (阳光物业) manages e1 (翠苑) and other (安居物业) manages e2
// (锦园), both of 100 households in district d1; one period, 2026Q4.
func TwoEstates(company, other string) *domain.Dataset {
	return &domain.Dataset{
		Districts: []domain.District{{ID: "d1", Name: "福田区"}},
		Companies: []domain.Company{{ID: company, Name: "阳光物业"}, {ID: other, Name: "安居物业"}},
		Estates: []domain.Estate{{ID: "e1", Name: "翠苑", District: "d1", Company: company, Households: 100, Category: "commodity"},
			{ID: "e2", Name: "锦园", District: "d1", Company: other, Households: 100, Category: "commodity"}},
		Periods: []domain.Period{{ID: "2026Q4", Start: "2026-10-01", End: "2026-12-31", DisclosureDeadline: "2026-10-15"}},
	}
}
