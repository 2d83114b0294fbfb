package datadir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Holder says which process holds dir's lock ("pid 123 serve"), or "" when none does. Unlike
// Acquire it creates nothing, so it can look at a directory that must stay as it is.
func Holder(dir string) string {
	path := filepath.Join(dir, LockName)
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	err = syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		holder, _ := os.ReadFile(path)
		if h := strings.TrimSpace(string(holder)); h != "" {
			return h
		}
		return "unknown process"
	}
	if err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}
	return ""
}
