//go:build !linux

package kernels

import "time"

// ThreadCPUTime is not read on this system (see cputime_linux.go).
func ThreadCPUTime() (d time.Duration, ok bool) { return 0, false }
