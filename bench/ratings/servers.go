package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// startServers starts cfg.servers `propcredit serve` processes on the embedded engine's data
// directory dir or on the external database uri, waits until each is ready, and returns the
// rating API's URL of each. stop stops them (SIGINT, then SIGKILL after 30 s); call it even
// after an error.
func startServers(ctx context.Context, cfg config, dir, uri string) (urls []string, stop func(), err error) {
	tmp, err := os.MkdirTemp("", "propcredit-ratings-servers-")
	if err != nil {
		return nil, func() {}, err
	}
	var cmds []*exec.Cmd
	stop = func() {
		for _, c := range cmds {
			_ = c.Process.Signal(os.Interrupt)
		}
		for _, c := range cmds {
			done := make(chan struct{})
			go func() { _ = c.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				_ = c.Process.Kill()
				<-done
			}
		}
		os.RemoveAll(tmp)
	}
	bin := cfg.bin
	if bin == "" {
		bin = filepath.Join(tmp, "propcredit")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/propcredit")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return nil, stop, fmt.Errorf("go build ./cmd/propcredit (run the benchmark from the repository's root): %w", err)
		}
	}
	limits := "off"
	if cfg.sharedLimits {
		limits = "on"
	}
	for i := range cfg.servers {
		addr, err := freeAddr()
		if err != nil {
			return nil, stop, err
		}
		args := []string{"serve", "--addr", addr, "--log-format", "text", "--shared-limits", limits, "--hold-suspect", cfg.holdSuspect, "--trusted-proxies", "127.0.0.1"}
		if dir != "" {
			args = append(args, "--data", dir)
		} else {
			args = append(args, "--mongodb-uri", uri, "--ledger-key", filepath.Join(tmp, "ledger.key"),
				"--ledger-state", filepath.Join(tmp, fmt.Sprintf("ledger-%d.checkpoint", i)))
			if cfg.handOver {
				args = append(args, "--peer-url", "http://"+addr)
			}
		}
		logPath := filepath.Join(os.TempDir(), fmt.Sprintf("propcredit-ratings-serve-%d.log", i))
		logFile, err := os.Create(logPath)
		if err != nil {
			return nil, stop, err
		}
		c := exec.Command(bin, args...)
		c.Stdout, c.Stderr = logFile, logFile
		if err := c.Start(); err != nil {
			logFile.Close()
			return nil, stop, err
		}
		logFile.Close()
		cmds = append(cmds, c)
		if err := waitReady(ctx, "http://"+addr); err != nil {
			return nil, stop, fmt.Errorf("server %d (log %s): %w", i, logPath, err)
		}
		urls = append(urls, "http://"+addr+"/api/v1/ratings")
	}
	return urls, stop, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitReady waits until GET /readyz answers 200, for a minute at most.
func waitReady(ctx context.Context, base string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return errors.New("not ready after a minute")
}
