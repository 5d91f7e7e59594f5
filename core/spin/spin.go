// Package spin paces goroutines that poll for something another thread will
// do within microseconds: the next part of a product, the next training step,
// a peer's shard. On the VMs this runs on, a parked thread's vCPU is halted
// and waking it costs 0.1 ms or more, longer than the wait itself, so polling
// keeps the core awake; yielding after a while keeps a poller from starving
// threads that share its core.
package spin

import (
	"runtime"
	"time"
)

// checkEvery is how many polls go between looks at the clock: reading it
// costs about as much as a few dozen polls of a shared counter.
const checkEvery = 64

// YieldAfter is how long a poller keeps its core before offering it to other
// threads between polls. Shorter, and a product split over two threads
// lost half its speed when the other thread was briefly descheduled.
const YieldAfter = 100 * time.Microsecond

// Poller paces one wait. The zero value is ready; use one per wait.
type Poller struct {
	// Goroutines makes every clock check also yield to other goroutines
	// (runtime.Gosched), for waits on a goroutine that may need the
	// poller's processor: more goroutines than GOMAXPROCS.
	Goroutines bool

	polls int
	start time.Time
}

// Waited is called after each poll that found nothing. Every checkEvery-th
// call reads the clock and returns how long the wait has lasted, with ok
// true; past YieldAfter it also offers the core to other threads. Other
// calls return at once with ok false. The caller decides when to give up,
// sleep or park.
func (p *Poller) Waited() (d time.Duration, ok bool) {
	p.polls++
	if p.polls%checkEvery != 0 {
		return 0, false
	}
	if p.Goroutines {
		runtime.Gosched()
	}
	if p.start.IsZero() {
		p.start = time.Now()
		return 0, true
	}
	d = time.Since(p.start)
	if d > YieldAfter {
		osYield()
	}
	return d, true
}
