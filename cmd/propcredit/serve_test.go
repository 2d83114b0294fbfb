package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/propcredit/propcredit/internal/mongodb/mongodbtest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitReady waits until the server at base is ready, or says why it is not: it stopped (done
// has its error) or did not answer within a minute.
// awaitStop waits for serve, whose context is cancelled, to return: its error, or an error
// when it did not stop within 40 s.
func awaitStop(done <-chan error) error {
	select {
	case err := <-done:
		return err
	case <-time.After(40 * time.Second):
		return errors.New("serve did not stop within 40s")
	}
}

func waitReady(t *testing.T, base string, done <-chan error) error {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, _ := get(t, base+"/readyz"); code == http.StatusOK {
			return nil
		}
		select {
		case err := <-done:
			return fmt.Errorf("serve stopped: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			return errors.New("server not ready within 60s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// serveDemo runs `serve --demo` on dir in this process, listening on addr, until ctx ends,
// and waits until it is ready. done receives what serve (and closing the store) returned.
func serveDemo(t *testing.T, ctx context.Context, dir, addr string) (base string, stdout *mongodbtest.Buffer, done <-chan error) {
	t.Helper()
	stdout = &mongodbtest.Buffer{}
	m := &Main{Stdin: strings.NewReader(""), Stdout: stdout, Stderr: io.Discard, Log: mongodbtest.Quiet(),
		Getenv: func(k string) string { return map[string]string{"PROPCREDIT_ADDR": addr}[k] }}
	finished := make(chan error, 1)
	go func() {
		err := m.Run(ctx, []string{"serve", "--data", dir, "--demo", "--log-format", "text"})
		if cerr := m.Close(); err == nil {
			err = cerr
		}
		finished <- err
	}()
	base = "http://" + addr
	if err := waitReady(t, base, finished); err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	return base, stdout, finished
}

// TestServeDemo runs the server as `make demo` does: it loads the demo city, answers its
// health checks and pages, lets another command read through its engine, refuses a second
// server, and shuts down cleanly on a signal (here: the context).
func TestServeDemo(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, stdout, done := serveDemo(t, ctx, dir, addr)
	if !strings.Contains(stdout.String(), `name "reviewer", password "`) {
		t.Errorf("demo reviewer log-in not printed: %q", stdout.String())
	}
	// The demo city's previous quarter has always ended: it is scored and published at once.
	_, link, found := strings.Cut(stdout.String(), "scored and published: http://"+addr)
	if !found {
		t.Errorf("no ended demo period was published: %q", stdout.String())
	}
	path, _, _ := strings.Cut(link, "\n")
	if code, body := get(t, base+path); found && (code != http.StatusOK || !strings.Contains(body, "物业")) {
		t.Errorf("GET %s = %d: %.300s", path, code, body)
	}
	for _, path := range []string{"/healthz", "/", "/login"} {
		if code, body := get(t, base+path); code != http.StatusOK {
			t.Errorf("GET %s = %d: %.200s", path, code, body)
		}
	}

	checkAccessAudited(t, base, stdout.String(), dir)

	exported, stderr, code := run(t, nil, "", "export", "--data", dir)
	if code != 0 || strings.Count(exported, `"type":"company"`) < 30 {
		t.Errorf("export through the server's engine: exit %d, %d bytes, stderr %q", code, len(exported), stderr)
	}
	_, stderr, code = run(t, map[string]string{"PROPCREDIT_ADDR": freeAddr(t)}, "", "serve", "--data", dir)
	if code != 1 || !strings.Contains(stderr, "in use by another propcredit process") {
		t.Errorf("second server: exit %d, stderr %q", code, stderr)
	}

	cancel()
	if err := awaitStop(done); err != nil {
		t.Fatalf("serve after shutdown: %v", err)
	}
	if code, _ := get(t, base+"/healthz"); code != 0 {
		t.Errorf("server still answers after shutdown: %d", code)
	}
	// The directory is free again, and the demo city is not loaded twice.
	out, stderr, code := run(t, nil, "", "tally", "--verify", "--data", dir)
	if code != 0 || !strings.Contains(out, "agree") {
		t.Errorf("tallies after a clean stop: exit %d, %q %q", code, out, stderr)
	}
}
