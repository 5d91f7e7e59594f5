//go:build !linux

package spin

// osYield is sched_yield on Linux; elsewhere spinning threads just spin.
func osYield() {}
