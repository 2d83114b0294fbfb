package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/propcredit/propcredit/internal/app"
	"github.com/propcredit/propcredit/internal/ferretdb"
	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

// startServer runs `serve` on dir in-process and returns its base URL and a function that
// stops it.
func startServer(t *testing.T, dir string, extra ...string) (string, func()) {
	t.Helper()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	m := &Main{Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Log: mongodbtest.Quiet(),
		Getenv: func(string) string { return "" }}
	done := make(chan error, 1)
	go func() {
		err := m.Run(ctx, append([]string{"serve", "--data", dir, "--addr", addr, "--log-format", "text"}, extra...))
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	base := "http://" + addr
	if err := waitReady(t, base, done); err != nil {
		cancel()
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := awaitStop(done); err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(stop)
	return base, stop
}

// publishPeriod scores period on the data in dir and publishes it, as a reviewer does.
func publishPeriod(t *testing.T, dir, period string) {
	t.Helper()
	mustRun(t, "score", "--data", dir, "--period", period)
	mustRun(t, "publish", "--data", dir, "--period", period)
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, code := run(t, nil, "", args...)
	if code != 0 {
		t.Fatalf("%s: exit %d: %s", strings.Join(args, " "), code, stderr)
	}
	return out
}

// publishHandCity imports the hand-scored city into dir, scores and publishes it.
func publishHandCity(t *testing.T, dir, city string) {
	t.Helper()
	mustRun(t, "import", "--data", dir, writeFile(t, "city.jsonl", city))
	publishPeriod(t, dir, "2026Q3")
}

// servePublished serves a new data directory in which the hand-scored city is published: the
// directory, the server's address and its stop.
func servePublished(t *testing.T) (dir, base string, stop func()) {
	t.Helper()
	dir = t.TempDir()
	publishHandCity(t, dir, handCity)
	base, stop = startServer(t, dir)
	return dir, base, stop
}

// TestLedgerEndToEnd: publish, fetch a certificate over HTTP, verify it offline; a certificate
// with one byte of its leaf, proof or signature changed fails; a witness sees the log grow
// consistently across a second publication and a restart; the audit passes, then catches a
// publication changed with the driver behind the application's back.
func TestLedgerEndToEnd(t *testing.T) {
	dir, base, stop := servePublished(t)
	code, vkey := get(t, base+"/ledger/key")
	vkey = strings.TrimSpace(vkey)
	if code != http.StatusOK || !strings.HasPrefix(vkey, app.DefaultLedgerName+"+") {
		t.Fatalf("GET /ledger/key = %d %q", code, vkey)
	}
	if out := mustRun(t, "ledger", "key", "--data", dir); strings.TrimSpace(out) != vkey {
		t.Errorf("ledger key prints %q, the server serves %q", out, vkey)
	}
	key, err := os.ReadFile(filepath.Join(dir, app.LedgerKeyFile))
	if err != nil || !strings.HasPrefix(string(key), "PRIVATE+KEY+") {
		t.Fatalf("signing key not in the data directory: %v", err)
	}
	if info, _ := os.Stat(filepath.Join(dir, app.LedgerKeyFile)); info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v", info.Mode().Perm())
	}
	code, cp := get(t, base+"/ledger/checkpoint")
	if code != http.StatusOK || !strings.HasPrefix(cp, app.DefaultLedgerName+"\n6\n") {
		t.Fatalf("checkpoint = %d %q", code, cp)
	}

	code, certText := get(t, base+"/api/v1/companies/91440300MA5D00000A/certificate?period=2026Q3")
	if code != http.StatusOK {
		t.Fatalf("certificate = %d %s", code, certText)
	}
	certFile := writeFile(t, "cert.json", certText)
	out, stderr, code := run(t, nil, "", "verify", "--key", vkey, certFile)
	if code != 0 || !strings.Contains(out, "grade AAA") || !strings.Contains(out, "score 86.36") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, stderr)
	}

	// One byte changed anywhere, and verify fails, saying where.
	var cert map[string]any
	if err := json.Unmarshal([]byte(certText), &cert); err != nil {
		t.Fatal(err)
	}
	tamper := map[string]func(c map[string]any){
		"leaf": func(c map[string]any) {
			leaf, _ := base64.StdEncoding.DecodeString(c["leaf"].(string))
			leaf[strings.Index(string(leaf), "AAA")] = 'B'
			c["leaf"] = base64.StdEncoding.EncodeToString(leaf)
		},
		"proof": func(c map[string]any) {
			p := c["proof"].([]any)
			h, _ := base64.StdEncoding.DecodeString(p[0].(string))
			h[7] ^= 1
			p[0] = base64.StdEncoding.EncodeToString(h)
		},
		"signature": func(c map[string]any) {
			text := c["checkpoint"].(string)
			i := strings.LastIndex(text, " ") + 5
			b := []byte(text)
			if b[i] == 'A' {
				b[i] = 'B'
			} else {
				b[i] = 'A'
			}
			c["checkpoint"] = string(b)
		},
		"size": func(c map[string]any) {
			c["checkpoint"] = strings.Replace(c["checkpoint"].(string), "\n6\n", "\n7\n", 1)
		},
	}
	wantCheck := map[string]string{"leaf": "FAILED: proof:", "proof": "FAILED: proof:", "signature": "FAILED: signature:", "size": "FAILED: signature:"}
	for name, f := range tamper {
		c := map[string]any{}
		b, _ := json.Marshal(cert)
		_ = json.Unmarshal(b, &c)
		f(c)
		b, _ = json.Marshal(c)
		out, stderr, code := run(t, nil, "", "verify", "--key", vkey, writeFile(t, name+".json", string(b)))
		if code != 1 || !strings.Contains(stderr, wantCheck[name]) {
			t.Errorf("%s changed: verify exit %d, %q %q; want %q", name, code, out, stderr, wantCheck[name])
		}
	}

	// A witness keeps watch across a second publication and a restart.
	state := filepath.Join(t.TempDir(), "witness.checkpoint")
	witness := func(url string) (string, string, int) {
		return run(t, nil, "", "ledger", "witness", "--key", vkey, "--url", url, "--state", state)
	}
	if out, stderr, code := witness(base); code != 0 || !strings.Contains(out, "first checkpoint: 6 leaves") {
		t.Fatalf("witness: exit %d %q %q", code, out, stderr)
	}
	publishPeriod(t, dir, "2026Q3")
	if out, stderr, code := witness(base); code != 0 || !strings.Contains(out, "6 → 11 leaves: consistent") {
		t.Fatalf("witness after a second publication: exit %d %q %q", code, out, stderr)
	}
	stop()
	base, stop = startServer(t, dir)
	if out, stderr, code := witness(base); code != 0 || !strings.Contains(out, "11 → 11 leaves: consistent") {
		t.Fatalf("witness after a restart: exit %d %q %q", code, out, stderr)
	}
	// The first certificate still verifies: it is proved against the checkpoint it carries.
	if _, stderr, code := run(t, nil, "", "verify", "--key", vkey, certFile); code != 0 {
		t.Errorf("old certificate after restart: %s", stderr)
	}
	// The new certificate is for publication 2.
	if code, body := get(t, base+"/api/v1/companies/91440300MA5D00000B/certificate?period=2026Q3"); code != http.StatusOK ||
		!strings.Contains(body, `"publication": 2`) || !strings.Contains(body, `"grade": "C"`) {
		t.Errorf("second certificate = %d %s", code, body)
	}

	// The audit passes, then finds a result changed behind the application's back.
	if out, stderr, code := run(t, nil, "", "ledger", "audit", "--data", dir); code != 0 || !strings.Contains(out, "0 problems") {
		t.Fatalf("audit: exit %d %q %q", code, out, stderr)
	}
	if out := mustRun(t, "ledger", "adopt", "--data", dir); !strings.Contains(out, "adopted 0 final approvals, 0 credit records, 0 audit entries") {
		t.Errorf("adopt with everything logged: %q", out)
	}
	uri, err := ferretdb.SocketURI(dir)
	if err != nil {
		t.Fatal(err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	_, err = client.Database(app.DatabaseName).Collection("results").UpdateOne(context.Background(),
		bson.D{{Key: "_id", Value: "pub|2026Q3|0002"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "inputs_hash", Value: strings.Repeat("0", 64)}}}})
	if err != nil {
		t.Fatal(err)
	}
	out, _, code = run(t, nil, "", "ledger", "audit", "--data", dir)
	if code != 1 || !strings.Contains(out, "PROBLEM: pub|2026Q3|0002|91440300MA5D00000A") || !strings.Contains(out, "PROBLEM: pub|2026Q3|0002 (leaf 9)") {
		t.Errorf("audit after tampering: exit %d\n%s", code, out)
	}

	// A fork: another database signed with the same key shows the witness a different log.
	forkDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(forkDir, app.LedgerKeyFile), key, 0o600); err != nil {
		t.Fatal(err)
	}
	publishHandCity(t, forkDir, strings.Replace(handCity, `"households":100`, `"households":101`, 1))
	publishPeriod(t, forkDir, "2026Q3")
	publishPeriod(t, forkDir, "2026Q3")
	forkBase, _ := startServer(t, forkDir)
	before, _ := os.ReadFile(state)
	out, stderr, code = witness(forkBase)
	if code != 1 || !strings.Contains(stderr, "REFUSED: the ledger forked") {
		t.Errorf("witness of a fork: exit %d %q %q", code, out, stderr)
	}
	if after, _ := os.ReadFile(state); string(after) != string(before) {
		t.Error("the witness kept the forked checkpoint")
	}
	if _, err := os.Stat(state + ".refused"); err != nil {
		t.Errorf("no evidence kept: %v", err)
	}
}

// TestWitnessRefusesShrink: a log that shows fewer leaves than before is refused.
func TestWitnessRefusesShrink(t *testing.T) {
	dir := t.TempDir()
	publishHandCity(t, dir, handCity)
	publishPeriod(t, dir, "2026Q3")
	key, err := os.ReadFile(filepath.Join(dir, app.LedgerKeyFile))
	if os.IsNotExist(err) {
		mustRun(t, "ledger", "key", "--data", dir)
		key, err = os.ReadFile(filepath.Join(dir, app.LedgerKeyFile))
	}
	if err != nil {
		t.Fatal(err)
	}
	small := t.TempDir()
	if err := os.WriteFile(filepath.Join(small, app.LedgerKeyFile), key, 0o600); err != nil {
		t.Fatal(err)
	}
	publishHandCity(t, small, handCity)
	base, stop := startServer(t, dir)
	vkey := strings.TrimSpace(mustRun(t, "ledger", "key", "--data", dir))
	state := filepath.Join(t.TempDir(), "w.checkpoint")
	if _, stderr, code := run(t, nil, "", "ledger", "witness", "--key", vkey, "--url", base, "--state", state); code != 0 {
		t.Fatal(stderr)
	}
	stop()
	smallBase, _ := startServer(t, small)
	_, stderr, code := run(t, nil, "", "ledger", "witness", "--key", vkey, "--url", smallBase, "--state", state)
	if code != 1 || !strings.Contains(stderr, "REFUSED: the ledger shrank: it had 11 leaves, now 6") {
		t.Errorf("witness of a shrunk log: exit %d %q", code, stderr)
	}
}
