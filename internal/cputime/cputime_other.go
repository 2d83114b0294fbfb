//go:build !unix

// Package cputime measures the CPU time of this process, for benchmarks on a shared machine.
package cputime

import "time"

// Process is not measured here: 0, and benchmarks then report wall time only.
func Process() time.Duration { return 0 }
