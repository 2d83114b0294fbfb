//go:build !unix

package interchange

import "time"

// processCPUTime is not measured here; benchmarks then report wall time only.
func processCPUTime() time.Duration { return 0 }
