package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/backup"
	"github.com/propcredit/propcredit/internal/domain"
	"github.com/propcredit/propcredit/internal/mongodb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
	"github.com/propcredit/propcredit/internal/publication"
	"github.com/propcredit/propcredit/scoring"
)

// buildBinary builds the real program once per test run.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "propcredit-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "propcredit")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// server is the real binary serving a data directory.
type server struct {
	cmd    *exec.Cmd
	base   string
	stderr *mongodbtest.Buffer
	stdout *mongodbtest.Buffer
	exited chan struct{} // closed when the process has ended
	err    error         // how it ended
}

func startBinServer(t *testing.T, bin, dir string, args ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	s := &server{base: "http://" + addr, stderr: &mongodbtest.Buffer{}, stdout: &mongodbtest.Buffer{}}
	s.cmd = exec.Command(bin, append([]string{"serve", "--data", dir, "--addr", addr, "--trusted-proxies", "127.0.0.1", "--log-format", "text"}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.stdout, s.stderr
	s.cmd.Env = append(os.Environ(), "PROPCREDIT_MONGODB_URI=")
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.exited = make(chan struct{})
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop(t) })
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if code, _ := get(t, s.base+"/readyz"); code == http.StatusOK {
			return s
		}
		select {
		case <-s.exited:
			t.Fatalf("server exited (%v): %s", s.err, s.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready within 2 min: %s", s.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop stops the server as an operator does (SIGTERM) and waits for it.
func (s *server) stop(t *testing.T) {
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
		if s.err != nil {
			t.Errorf("server exited with %v: %s", s.err, s.stderr.String())
		}
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		t.Errorf("server did not stop within 60 s")
	}
}

// runBin runs the real binary and returns its output and exit code.
func runBin(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "PROPCREDIT_MONGODB_URI=")
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

type drillAck struct {
	key, receipt string
	revision     int
	sent, at     time.Time // when the request was sent, and when its answer arrived
}

// TestRestoreDrill is the restore drill: the real binary serves the demo city while owners
// rate over HTTP; a backup is taken in the middle of it; the server is stopped, and the backup
// is restored into a fresh directory. Every rating acknowledged before the backup began is in
// the restored data exactly once, at the revision the owner was told; none acknowledged after
// the backup ended is; the tallies and receipts verify; scoring the restored copy gives what
// scoring the source gives with the rating versions the backup holds; and the restored copy
// serves the same published results.
func TestRestoreDrill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src := t.TempDir()
	srv := startBinServer(t, bin, src, "--demo")

	// Household codes, through the running server's engine, as `propcredit codes` does.
	store, err := app.OpenStore(ctx, app.StoreConfig{DataDir: src, Log: mongodbtest.Quiet()}, app.Shared, "codes")
	if err != nil {
		t.Fatal(err)
	}
	period, ok, err := store.DB.OpenPeriod(ctx, domain.Today(time.Now()))
	if err != nil || !ok {
		t.Fatalf("no open period: %v", err)
	}
	estates, err := store.DB.Estates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type household struct{ estate, flat, code string }
	var households []household
	for _, e := range estates[:40] {
		flats := make([]string, 60)
		for i := range flats {
			flats[i] = fmt.Sprintf("drill-%03d", i)
		}
		codes, err := store.DB.IssueCodes(ctx, period.ID, e.ID, flats, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range codes {
			households = append(households, household{e.ID, c.Household, c.Code})
		}
	}
	store.Close(ctx)
	published := publishedPeriod(t, srv)
	gradesBefore := getOK(t, srv.base+"/api/v1/periods/"+published+"/grades")

	// Owners rate until told to stop; one in ten revises an earlier rating.
	var (
		stop     atomic.Bool
		wg       sync.WaitGroup
		mu       sync.Mutex
		acks     []drillAck
		failures []string
		next     atomic.Int64
	)
	client := &http.Client{Timeout: 30 * time.Second}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := mrand.New(mrand.NewPCG(uint64(w), 7))
			var mine []household
			for !stop.Load() {
				var h household
				if i := int(next.Add(1)) - 1; i < len(households) && (len(mine) == 0 || r.IntN(10) > 0) {
					h = households[i]
				} else if len(mine) > 0 {
					h = mine[r.IntN(len(mine))]
				} else {
					return
				}
				var marks [6]int
				for i := range marks {
					marks[i] = 1 + r.IntN(5)
				}
				body, _ := json.Marshal(map[string]any{"estate": h.estate, "household": h.flat, "code": h.code, "scores": domain.ScoresOf(marks)})
				req, _ := http.NewRequest(http.MethodPost, srv.base+"/api/v1/ratings", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", randomHex(12))
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", w, r.IntN(256), r.IntN(256)))
				sent := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				at := time.Now()
				var answer struct {
					Receipt  string `json:"receipt"`
					Revision int    `json:"revision"`
				}
				if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &answer) != nil || answer.Receipt == "" {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%d %s", resp.StatusCode, b))
					mu.Unlock()
					continue
				}
				mine = append(mine, h)
				mu.Lock()
				acks = append(acks, drillAck{key: period.ID + "|" + h.estate + "|" + h.flat, receipt: answer.Receipt, revision: answer.Revision, sent: sent, at: at})
				mu.Unlock()
			}
		}()
	}
	acked := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acks)
	}
	for acked() < 300 {
		time.Sleep(20 * time.Millisecond)
		if next.Load() >= int64(len(households)) {
			t.Fatal("ran out of households before the backup")
		}
	}
	file := filepath.Join(t.TempDir(), "drill.pcbackup")
	began := time.Now()
	out, stderr, code := runBin(t, bin, "backup", "--data", src, "--out", file)
	ended := time.Now()
	if code != 0 {
		t.Fatalf("backup: exit %d: %s %s", code, out, stderr)
	}
	atBackup := acked()
	for acked() < atBackup+300 && next.Load() < int64(len(households)) {
		time.Sleep(20 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	srv.stop(t)
	if len(failures) > 0 {
		t.Errorf("%d submissions failed, first: %s", len(failures), failures[0])
	}
	t.Logf("backup: %s (%.2f s, %d ratings acknowledged by then, %d in all)", strings.TrimSpace(out), ended.Sub(began).Seconds(), atBackup, len(acks))

	// A running server's directory is refused; so is a changed byte. Then the real restore.
	restored := filepath.Join(t.TempDir(), "restored")
	if _, stderr, code := runBin(t, bin, "restore", "--from", file, "--data", src); code == 0 || !strings.Contains(stderr, "not empty") {
		t.Errorf("restore into the source directory: exit %d, %s", code, stderr)
	}
	corrupt := filepath.Join(t.TempDir(), "corrupt.pcbackup")
	b, _ := os.ReadFile(file)
	b[len(b)/3] ^= 0x40
	os.WriteFile(corrupt, b, 0o600)
	if _, stderr, code := runBin(t, bin, "restore", "--from", corrupt, "--data", restored); code != 1 || !strings.Contains(stderr, "corrupted") {
		t.Errorf("restore of a corrupted backup: exit %d, %s", code, stderr)
	}
	if _, err := os.Stat(restored); !os.IsNotExist(err) {
		t.Errorf("a refused restore left %s behind (%v)", restored, err)
	}
	out, stderr, code = runBin(t, bin, "restore", "--from", file, "--data", restored)
	if code != 0 {
		t.Fatalf("restore: exit %d: %s %s", code, out, stderr)
	}
	// Files beside the engine's come back too: the ledger's signing key (see also
	// TestRestoreContinuesTheLedger).
	if key, err := os.ReadFile(filepath.Join(src, app.LedgerKeyFile)); err != nil {
		t.Errorf("the server made no ledger key: %v", err)
	} else if got, _ := os.ReadFile(filepath.Join(restored, app.LedgerKeyFile)); string(got) != string(key) {
		t.Errorf("the ledger key was restored as %q", got)
	}

	// The ratings: what was acknowledged before the backup began, exactly once; nothing
	// acknowledged after it ended. One exception, which no snapshot can avoid: a rating sent
	// before the snapshot was complete may have been committed before it and answered late (on
	// a loaded machine, after the backup process exited); it may be in the backup, but only
	// once and as answered. A rating sent after the snapshot was complete never is.
	versions := ratingVersions(t, restored)
	r, err := backup.Open(file, mongodb.ProgramSchema())
	if err != nil {
		t.Fatal(err)
	}
	snapshotDone := r.Manifest.SnapshotDone
	r.Close()
	before, within, after, late := 0, 0, 0, 0
	for _, a := range acks {
		got := versions[a.receipt]
		answered := fmt.Sprintf("%s|%d", a.key, a.revision)
		switch {
		case len(got) > 1 || len(got) == 1 && got[0] != answered:
			t.Errorf("receipt %s (answered as %s) is on %v in the backup", a.receipt, answered, got)
		case a.at.Before(began):
			before++
			if len(got) != 1 {
				t.Errorf("receipt %s (%s), acknowledged before the backup began, is not in it", a.receipt, answered)
			}
		case a.at.After(ended):
			after++
			if len(got) == 1 && !a.sent.Before(snapshotDone) {
				t.Errorf("receipt %s, sent after the snapshot was complete and acknowledged after the backup ended, is in it", a.receipt)
			}
			if len(got) == 1 {
				late++
			}
		default:
			within++
			if len(got) == 1 && !a.sent.Before(snapshotDone) {
				t.Errorf("receipt %s, sent after the snapshot was complete, is in it", a.receipt)
			}
		}
	}
	if before < 300 || after == 0 {
		t.Errorf("the drill saw %d ratings acknowledged before the backup and %d after; it needs both", before, after)
	}
	t.Logf("%d acknowledged before the backup began, %d while it ran, %d after it ended (%d of those committed before the snapshot and answered late)", before, within, after, late)

	if out, stderr, code := runBin(t, bin, "verify-data", "--data", restored); code != 0 || !strings.Contains(out, "the data verifies") {
		t.Errorf("verify-data: exit %d: %s %s", code, out, stderr)
	}

	// The source as of the backup: its rating versions that the backup holds, tallies rebuilt.
	asOfBackup(t, src, versions)
	want, got := scorePeriod(t, src, period.ID), scorePeriod(t, restored, period.ID)
	if !strings.Contains(want, `"grade":`) {
		t.Errorf("scoring the source graded nothing: %.300s", want)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scoring the restored copy differs from scoring the source as of the backup (-source +restored):\n%s", diff)
	}

	// The restored copy serves the same published results.
	srv2 := startBinServer(t, bin, restored)
	if got := getOK(t, srv2.base+"/api/v1/periods/"+published+"/grades"); got != gradesBefore {
		t.Errorf("the grades API differs after the restore:\n%.500s\nwant\n%.500s", got, gradesBefore)
	}
	getOK(t, srv2.base+"/lists/"+published)
	srv2.stop(t)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func getOK(t *testing.T, url string) string {
	t.Helper()
	code, body := get(t, url)
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d: %.300s", url, code, body)
	}
	return body
}

// publishedPeriod is the demo period the server published at start-up.
func publishedPeriod(t *testing.T, s *server) string {
	t.Helper()
	_, link, ok := strings.Cut(s.stdout.String(), "scored and published: ")
	if !ok {
		t.Fatalf("no period published: %s", s.stdout.String())
	}
	link, _, _ = strings.Cut(link, "\n")
	return link[strings.LastIndex(link, "/")+1:]
}

// withDB opens dir's database in this process (no server may hold it).
func withDB(t *testing.T, dir string, f func(db *mongodb.DB)) {
	t.Helper()
	ctx := context.Background()
	s, err := app.OpenStore(ctx, app.StoreConfig{DataDir: dir, Log: mongodbtest.Quiet()}, app.Private, "drill")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	f(s.DB)
}

// ratingVersions maps each receipt number to the rating versions (key|revision) that carry it.
func ratingVersions(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	rawVersions(t, dir, func(c *mongo.Collection) {
		cur, err := c.Find(context.Background(), bson.D{})
		if err != nil {
			t.Fatal(err)
		}
		var docs []struct {
			ID      string `bson:"_id"`
			Receipt string `bson:"receipt"`
		}
		if err := cur.All(context.Background(), &docs); err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			out[d.Receipt] = append(out[d.Receipt], d.ID)
		}
	})
	return out
}

// rawVersions gives f the ratings collection of dir's database, through an engine of its own.
func rawVersions(t *testing.T, dir string, f func(c *mongo.Collection)) {
	t.Helper()
	c, stop := mongodbtest.EngineOn(t, dir)
	defer stop()
	f(c.Database(app.DatabaseName).Collection("ratings"))
}

// asOfBackup takes out of the source every rating version that the backup does not hold, and
// rebuilds the tallies: the source as it was when the backup's snapshot was taken.
func asOfBackup(t *testing.T, dir string, inBackup map[string][]string) {
	t.Helper()
	keep := map[string]bool{}
	for _, ids := range inBackup {
		for _, id := range ids {
			keep[id] = true
		}
	}
	removed := 0
	rawVersions(t, dir, func(c *mongo.Collection) {
		ctx := context.Background()
		for _, id := range mongodbtest.IDs(t, c) {
			if !keep[id] {
				if _, err := c.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
					t.Fatal(err)
				}
				removed++
			}
		}
	})
	if removed == 0 {
		t.Error("the source has no rating version that the backup lacks; the drill did not rate after the backup")
	}
	withDB(t, dir, func(db *mongodb.DB) {
		if _, err := db.VerifyTallies(context.Background(), true); err != nil {
			t.Fatal(err)
		}
	})
}

// scorePeriod scores the period in dir's data, and returns the result as JSON (its exact
// fractions as text).
func scorePeriod(t *testing.T, dir, period string) string {
	t.Helper()
	var res *scoring.Result
	withDB(t, dir, func(db *mongodb.DB) {
		in, err := publication.New(db).Input(context.Background(), period)
		if err != nil {
			t.Fatal(err)
		}
		if res, err = scoring.Score(scoring.Default(), in); err != nil {
			t.Fatal(err)
		}
	})
	b, err := json.MarshalIndent(res, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestServeScheduledBackups: serve backs up at start-up and then every --backup-every, keeps
// the newest --backup-keep, and says so on /readyz; a backup that cannot be written is shown as
// failing while the server stays ready; a backup it made restores.
func TestServeScheduledBackups(t *testing.T) {
	dir, backups := t.TempDir(), t.TempDir()
	blocked := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(blocked, nil, 0o600)

	serveIn := func(dir, backupDir string) (base string, stop func()) {
		return startServer(t, dir, "--backup-dir", backupDir, "--backup-every", "1s", "--backup-keep", "2")
	}
	waitFor := func(url, want string) string {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for {
			code, body := get(t, url)
			if code == http.StatusOK && strings.Contains(body, want) {
				return body
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %d %q, want 200 with %q", url, code, body, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	base, stop := serveIn(dir, backups)
	waitFor(base+"/readyz", "backup: ok; last success")
	time.Sleep(3500 * time.Millisecond) // three more backups, at least
	body := waitFor(base+"/readyz", "backup: ok")
	stop()
	files, _ := filepath.Glob(filepath.Join(backups, "propcredit-*.pcbackup"))
	entries, _ := os.ReadDir(backups)
	if len(files) != 2 || len(entries) != 2 {
		t.Errorf("backup directory holds %v, want the newest 2 backups only (readyz: %q)", entries, body)
	}
	if len(files) > 0 {
		restored := filepath.Join(t.TempDir(), "r")
		if out, stderr, code := run(t, nil, "", "restore", "--from", files[len(files)-1], "--data", restored); code != 0 {
			t.Errorf("restore a scheduled backup: exit %d: %s %s", code, out, stderr)
		}
	}

	// A backup directory that cannot be made: failing, shown, and the server serves on.
	base, stop = serveIn(t.TempDir(), filepath.Join(blocked, "sub"))
	body = waitFor(base+"/readyz", "backup: FAILING")
	if !strings.HasPrefix(body, "ok\n") || !strings.Contains(body, "not a directory") {
		t.Errorf("readyz with failing backups: %q", body)
	}
	if code, _ := get(t, base+"/"); code != http.StatusOK {
		t.Errorf("home page with failing backups: %d", code)
	}
	stop()

	_, stderr, code := run(t, nil, "", "serve", "--mongodb-uri", "mongodb://127.0.0.1:1/", "--backup-dir", backups)
	if code != 2 || !strings.Contains(stderr, "mongodump --oplog") {
		t.Errorf("serve --mongodb-uri --backup-dir: exit %d, %s", code, stderr)
	}
}

// TestBackupRestoreRefusals: what backup and restore refuse, each with its reason and a
// non-zero exit, leaving the target as it was.
func TestBackupRestoreRefusals(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, code := run(t, nil, "", "user", "add", "--role", "admin", "--name", "root1", "--data", dir); code != 0 {
		t.Fatalf("user add: %d %s", code, stderr)
	}
	file := filepath.Join(t.TempDir(), "b.pcbackup")
	if out, stderr, code := run(t, nil, "", "backup", "--data", dir, "--out", file); code != 0 || !strings.Contains(out, "backup written") {
		t.Fatalf("backup: exit %d: %s %s", code, out, stderr)
	}
	good, _ := os.ReadFile(file)
	write := func(b []byte) string {
		p := filepath.Join(t.TempDir(), "x.pcbackup")
		os.WriteFile(p, b, 0o600)
		return p
	}
	corrupt := append([]byte{}, good...)
	corrupt[len(corrupt)/2] ^= 0xff
	nonEmpty := t.TempDir()
	os.WriteFile(filepath.Join(nonEmpty, "notes.txt"), []byte("mine"), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"backup exists", []string{"backup", "--data", dir, "--out", file}, 1, "exists already"},
		{"backup no database", []string{"backup", "--data", t.TempDir(), "--out", filepath.Join(t.TempDir(), "b")}, 1, "no database"},
		{"backup of MongoDB", []string{"backup", "--mongodb-uri", "mongodb://x/", "--out", "b"}, 2, "mongodump --oplog"},
		{"restore missing flags", []string{"restore", "--from", file}, 2, "required"},
		{"restore into non-empty", []string{"restore", "--from", file, "--data", nonEmpty}, 1, "not empty"},
		{"restore truncated", []string{"restore", "--from", write(good[:len(good)-100]), "--data", filepath.Join(t.TempDir(), "t")}, 1, "truncated"},
		{"restore corrupted", []string{"restore", "--from", write(corrupt), "--data", filepath.Join(t.TempDir(), "c")}, 1, "corrupted"},
		{"restore foreign", []string{"restore", "--from", write([]byte("PK\x03\x04 a zip, not a backup")), "--data", filepath.Join(t.TempDir(), "f")}, 1, "not a propcredit backup"},
		{"restore missing file", []string{"restore", "--from", filepath.Join(t.TempDir(), "none"), "--data", filepath.Join(t.TempDir(), "m")}, 1, "cannot open it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := run(t, nil, "", tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d with %q", code, stderr, tc.code, tc.want)
			}
			for i, a := range tc.args {
				if a == "--data" && tc.args[0] == "restore" && tc.name != "restore into non-empty" {
					if _, err := os.Stat(tc.args[i+1]); !os.IsNotExist(err) {
						t.Errorf("%s exists after a refused restore", tc.args[i+1])
					}
					if entries, _ := os.ReadDir(filepath.Dir(tc.args[i+1])); len(entries) != 0 {
						t.Errorf("left beside the target: %v", entries)
					}
				}
			}
		})
	}
	if b, _ := os.ReadFile(filepath.Join(nonEmpty, "notes.txt")); string(b) != "mine" {
		t.Error("a refused restore changed the directory")
	}

	// A directory that a server holds: refused, saying so.
	store, err := app.OpenStore(context.Background(), app.StoreConfig{DataDir: dir, Log: mongodbtest.Quiet()}, app.Exclusive, "serve")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(context.Background())
	if _, stderr, code := run(t, nil, "", "restore", "--from", file, "--data", dir); code != 1 || !strings.Contains(stderr, "a propcredit process is using it (pid") {
		t.Errorf("restore into a served directory: exit %d, %s", code, stderr)
	}
	// Backup works beside the server, and verify-data goes through its engine.
	if out, stderr, code := run(t, nil, "", "backup", "--data", dir, "--out", filepath.Join(t.TempDir(), "live.pcbackup")); code != 0 {
		t.Errorf("backup beside a server: exit %d: %s %s", code, out, stderr)
	}
	if out, stderr, code := run(t, nil, "", "verify-data", "--data", dir); code != 0 || !strings.Contains(out, "the data verifies") {
		t.Errorf("verify-data through the server: exit %d: %s %s", code, out, stderr)
	}
}

// TestRestoreContinuesTheLedger: a backup of a serving system holds the ledger's signing key
// with the database, so the restored system serves the same key and checkpoint, and what it
// publishes next extends the same log: a witness that watched the source finds the restored
// log consistent with what it saw, not a fork, and the audit passes.
func TestRestoreContinuesTheLedger(t *testing.T) {
	dir, base, stop := servePublished(t)
	_, vkey := get(t, base+"/ledger/key")
	vkey = strings.TrimSpace(vkey)
	_, checkpoint := get(t, base+"/ledger/checkpoint")
	state := filepath.Join(t.TempDir(), "witness.checkpoint")
	witness := func(url string) (string, string, int) {
		return run(t, nil, "", "ledger", "witness", "--key", vkey, "--url", url, "--state", state)
	}
	if out, stderr, code := witness(base); code != 0 || !strings.Contains(out, "first checkpoint: 6 leaves") {
		t.Fatalf("witness: exit %d %q %q", code, out, stderr)
	}
	file := filepath.Join(t.TempDir(), "b.pcbackup")
	mustRun(t, "backup", "--data", dir, "--out", file)
	stop()

	restored := filepath.Join(t.TempDir(), "restored")
	mustRun(t, "restore", "--from", file, "--data", restored)
	key, _ := os.ReadFile(filepath.Join(dir, app.LedgerKeyFile))
	if got, err := os.ReadFile(filepath.Join(restored, app.LedgerKeyFile)); err != nil || string(got) != string(key) {
		t.Fatalf("the restored signing key differs (%v)", err)
	}
	if info, err := os.Stat(filepath.Join(restored, app.LedgerKeyFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("restored key file: %v %v", info, err)
	}
	base, _ = startServer(t, restored)
	if _, got := get(t, base+"/ledger/key"); strings.TrimSpace(got) != vkey {
		t.Errorf("restored key %q, want %q", got, vkey)
	}
	if _, got := get(t, base+"/ledger/checkpoint"); !strings.HasPrefix(got, app.DefaultLedgerName+"\n6\n") || got != checkpoint {
		t.Errorf("restored checkpoint %q, want %q", got, checkpoint)
	}
	if out, stderr, code := witness(base); code != 0 || !strings.Contains(out, "6 → 6 leaves: consistent") {
		t.Fatalf("witness of the restored system: exit %d %q %q", code, out, stderr)
	}
	publishPeriod(t, restored, "2026Q3")
	if out, stderr, code := witness(base); code != 0 || !strings.Contains(out, "6 → 11 leaves: consistent") {
		t.Fatalf("witness after publishing on the restored system: exit %d %q %q", code, out, stderr)
	}
	if out, stderr, code := run(t, nil, "", "ledger", "audit", "--data", restored); code != 0 || !strings.Contains(out, "0 problems") {
		t.Errorf("audit of the restored system: exit %d %q %q", code, out, stderr)
	}
}

// TestRestoredOldBackupRefusesToFork: a system restored from a backup older than the newest
// checkpoint it gave out has a shorter ledger; appending to it would fork the published log.
// So serve refuses to start on it and names the command that accepts it; after
// `ledger accept-rollback` it starts and gives out checkpoints of the restored ledger.
func TestRestoredOldBackupRefusesToFork(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(t.TempDir(), "published.checkpoint")
	publishHandCity(t, dir, handCity)
	file := filepath.Join(t.TempDir(), "old.pcbackup")
	mustRun(t, "backup", "--data", dir, "--out", file)
	mustRun(t, "score", "--data", dir, "--period", "2026Q3")
	mustRun(t, "publish", "--data", dir, "--period", "2026Q3")
	base, stop := startServer(t, dir, "--ledger-state", state)
	_, cp := get(t, base+"/ledger/checkpoint")
	published := checkpointSize(t, cp)
	stop()

	restored := filepath.Join(t.TempDir(), "restored")
	mustRun(t, "restore", "--from", file, "--data", restored)
	if _, err := os.Stat(filepath.Join(restored, app.LedgerStateFile)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the restored directory holds the backup's record of published checkpoints (%v)", err)
	}
	// A server that starts would serve until the deadline and exit 0.
	var errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &errb, Log: mongodbtest.Quiet(), Getenv: func(string) string { return "" }}
	err := m.Run(ctx, []string{"serve", "--data", restored, "--addr", freeAddr(t), "--ledger-state", state})
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	code, stderr := exitCode(&errb, err), errb.String()
	// The backup's ledger is shorter than the one published since: publishing 2026Q3 appended
	// its results, its own leaf and the audit entries of scoring and publishing.
	m1 := regexp.MustCompile(`has (\d+) leaves`).FindStringSubmatch(stderr)
	if m1 == nil {
		t.Fatalf("serve on the old backup: exit %d, %q; want a refusal saying how many leaves it has", code, stderr)
	}
	old, _ := strconv.Atoi(m1[1])
	if old <= 0 || old >= published {
		t.Fatalf("the restored ledger has %d leaves; want some, fewer than the %d published", old, published)
	}
	oldLeaves, publishedLeaves := fmt.Sprintf("%d leaves", old), fmt.Sprintf("checkpoint of %d leaves", published)
	for _, want := range []string{publishedLeaves, state, "propcredit ledger accept-rollback --data " + restored + " --ledger-state " + state} {
		if code == 0 || !strings.Contains(stderr, want) {
			t.Fatalf("serve on the old backup: exit %d, %q; want a refusal saying %q", code, stderr, want)
		}
	}
	if out := mustRun(t, "ledger", "accept-rollback", "--data", restored, "--ledger-state", state); !strings.Contains(out, "goes on from "+oldLeaves) || !strings.Contains(out, publishedLeaves) {
		t.Errorf("accept-rollback: %q", out)
	}
	base, _ = startServer(t, restored, "--ledger-state", state)
	if _, cp := get(t, base+"/ledger/checkpoint"); checkpointSize(t, cp) != old {
		t.Errorf("checkpoint of the accepted ledger: %q; want %d leaves", cp, old)
	}
}

// checkpointSize reads the tree size of a signed checkpoint's text (its second line).
func checkpointSize(t *testing.T, cp string) int {
	t.Helper()
	lines := strings.SplitN(cp, "\n", 3)
	n, err := strconv.Atoi(lines[min(1, len(lines)-1)])
	if len(lines) < 3 || lines[0] != app.DefaultLedgerName || err != nil {
		t.Fatalf("not a checkpoint of %s: %q", app.DefaultLedgerName, cp)
	}
	return n
}
