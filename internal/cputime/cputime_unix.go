//go:build unix

// Package cputime measures the CPU time of this process, for benchmarks on a shared machine:
// it counts the work done, where wall time would also count the waiting for other processes.
package cputime

import (
	"syscall"
	"time"
)

// Process is the CPU time this process has used (user and system, garbage collector and any
// embedded engine included), or 0 where it cannot be measured.
func Process() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}
