package spin

import "syscall"

// osYield lets the OS run another thread on this core, if one is waiting
// (sched_yield); runtime.Gosched only switches goroutines, and goes through
// the scheduler's global lock.
func osYield() {
	syscall.Syscall(syscall.SYS_SCHED_YIELD, 0, 0, 0)
}
