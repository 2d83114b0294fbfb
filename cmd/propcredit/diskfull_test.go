package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/domain"
)

// A full disk: the server says it is not ready, owners get 503 with Retry-After (never a 500),
// nothing they were told failed counts, and once there is room again the same request is
// stored once. The data directory is a small tmpfs, so the test needs root; elsewhere it skips.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=96m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("mount tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	data := filepath.Join(dir, "data")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, _, done := serveDemo(t, ctx, data, freeAddr(t))
	defer func() {
		cancel()
		<-done
	}()

	// A household code of an estate of the open period, through the running server's engine.
	period, estate := openDemoPeriod(t, data)
	var flats strings.Builder
	for i := range 400 {
		fmt.Fprintf(&flats, "9-9-%d\n", 1000+i)
	}
	out, stderr, code := run(t, nil, flats.String(), "codes", "issue", "--data", data, "--period", period, "--estate", estate, "--flats", "-")
	if code != 0 {
		t.Fatalf("codes issue: %d %s", code, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(rows) < 401 {
		t.Fatalf("codes: %v %q", err, out)
	}
	rate := func(i int) (int, string, string) {
		flat, hcode, key := strings.TrimPrefix(rows[i][0], "'"), rows[i][1], fmt.Sprintf("disk-full-%d", i)
		body, _ := json.Marshal(map[string]any{"estate": estate, "household": flat, "code": hcode,
			"scores": map[string]int{"service": 3, "security": 3, "cleaning": 3, "greening": 3, "maintenance": 3, "transparency": 3}})
		req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/ratings", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
	}

	// Fill the disk.
	filler, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for {
		if _, err := filler.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	_ = filler.Sync()
	// Owners rate until the engine runs out of room (what little the engine's files had
	// allocated is used first): every answer is 201 or 503 with Retry-After, never a 500.
	refused := 0
	for i := 1; i <= 400 && refused < 3; i++ {
		status, retry, body := rate(i)
		switch {
		case status == http.StatusCreated:
		case status == http.StatusServiceUnavailable && retry != "":
			refused++
		default:
			t.Fatalf("rating %d on a full disk: %d (Retry-After %q) %s", i, status, retry, body)
		}
	}
	if refused == 0 {
		t.Fatal("400 ratings went through on a full disk")
	}
	if code, body := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz on a full disk: %d %s", code, body)
	}

	// Room again: ready, and each refused request sent again is stored at revision 1.
	filler.Close()
	if err := os.Remove(filepath.Join(dir, "filler")); err != nil {
		t.Fatal(err)
	}
	if err := waitReady(t, base, done); err != nil {
		t.Fatal(err)
	}
	// Nothing whose owner was told it failed counts: a group that failed after its versions
	// went in withdrew them, at once or, if the disk was too full even for that, once there
	// was room again (the writer tries every 2 s). Before, those versions were counted once
	// the journal recovered their group, 2 minutes later ("stored 416, ratings say 417").
	time.Sleep(3 * time.Second)
	verify := func(when string) {
		t.Helper()
		out, stderr, code := run(t, nil, "", "tally", "--verify", "--data", data)
		if code != 0 || !strings.Contains(out, "tallies agree") {
			t.Fatalf("tally --verify %s: exit %d, %s %s", when, code, out, stderr)
		}
	}
	verify("once the disk has room")
	for i := 1; i <= 400; i++ {
		status, _, body := rate(i)
		if status != http.StatusCreated || !strings.Contains(body, `"revision":1`) {
			t.Fatalf("rating %d after the disk has room: %d %s", i, status, body)
		}
	}
	verify("after the refused ratings were sent again")
}

// openDemoPeriod reads the served demo city through its engine and returns the period open
// today and an estate.
func openDemoPeriod(t *testing.T, data string) (period, estate string) {
	t.Helper()
	out, stderr, code := run(t, nil, "", "export", "--data", data)
	if code != 0 {
		t.Fatalf("export: %d %s", code, stderr)
	}
	today := domain.Today(time.Now())
	for _, line := range strings.Split(out, "\n") {
		var r struct{ Type, ID, Start, End string }
		if json.Unmarshal([]byte(line), &r) != nil {
			continue
		}
		switch {
		case r.Type == "period" && r.Start <= today && today <= r.End:
			period = r.ID
		case r.Type == "estate" && estate == "":
			estate = r.ID
		}
	}
	if period == "" || estate == "" {
		t.Fatalf("no open period (%q) or estate (%q) in the demo city", period, estate)
	}
	return period, estate
}
