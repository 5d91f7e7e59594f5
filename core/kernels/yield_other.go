//go:build !linux

package kernels

// osYield is sched_yield on Linux; elsewhere spinning threads just spin.
func osYield() {}
