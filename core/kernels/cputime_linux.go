package kernels

import (
	"syscall"
	"time"
	"unsafe"
)

// ThreadCPUTime is the calling OS thread's CPU time, for benchmarks: on a
// machine shared with other work, a one-thread product's rate per second of
// it leaves out the time the thread waited for a CPU, which the clock's
// rate mostly measures there. The caller must stay on its thread
// (runtime.LockOSThread, or a cgo call, which runs Go on the caller's
// thread). ok is false where it cannot be read.
func ThreadCPUTime() (d time.Duration, ok bool) {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3 // CLOCK_THREAD_CPUTIME_ID
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
