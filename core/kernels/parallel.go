package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// MaxThreads caps the goroutines one Sgemm call uses (the caller's included).
// Change it with SetMaxThreads, between calls.
var MaxThreads = runtime.GOMAXPROCS(0)

// SetMaxThreads sets MaxThreads; n < 1 means 1 (everything on the caller).
func SetMaxThreads(n int) {
	MaxThreads = max(n, 1)
}

// parallelMinWork is the product size (m·n·k multiply-adds) from which a
// call is split across goroutines. Waking a parked worker (a futex call on
// the caller's side, then the scheduler handing the goroutine to the other
// core) costs tens of microseconds here: measured on 2 cores, splitting
// lost up to 40% below 4M multiply-adds, broke even near 8M and won from
// 16M (square 256: 103 against 86 GFLOP/s). With the Go-assembly AVX-512
// kernel (~1.5× faster on one core) the break-even moved up: two threads
// lost at 8M (256×256×128: 92 against 145) and 16M (square 256: 121
// against 146) and won from ~25M (784×256×128: 160 against 148).
var parallelMinWork = 20 << 20

// partsPerThread cuts a parallel product finer than one part per thread:
// parts are claimed one at a time, so a helper that wakes late, or a core
// shared with other work, costs only its share of the parts it did not take.
const partsPerThread = 4

// runGemm computes the whole product, in parts on several goroutines when it
// is large enough. Parts are whole tiles, so the tile grid (and the
// summation order in every element) is the same whoever computes a part and
// however many parts there are: results are bit-identical for any thread
// count.
func runGemm(ks *kernelSet, g *gemmArgs) {
	threads := MaxThreads
	if g.m*g.n*g.k < parallelMinWork {
		threads = 1
	}
	parts, alongN := planSplit(ks, g, threads)
	if parts <= 1 {
		ws := getWorkspace()
		ws.block(ks, g, 0, g.m, 0, g.n)
		putWorkspace(ws)
		return
	}
	call := getCall()
	call.ks, call.args, call.parts, call.alongN = ks, *g, parts, alongN
	call.run(threads - 1)
}

// planSplit picks how many parts to cut the product into and along which
// dimension. A part packs its own copy of the operand that is not split,
// so the split goes along the dimension that duplicates the smaller one,
// unless that dimension has too few tiles to go round.
func planSplit(ks *kernelSet, g *gemmArgs, threads int) (parts int, alongN bool) {
	if threads <= 1 {
		return 1, false
	}
	want := threads * partsPerThread
	mr, nr := tileShape(ks, g)
	tilesM := (g.m + mr - 1) / mr
	tilesN := (g.n + nr - 1) / nr
	alongN = g.m <= g.n // n-split duplicates packing A (m×k), m-split duplicates B (k×n)
	if alongN && tilesN < want && tilesM > tilesN {
		alongN = false
	} else if !alongN && tilesM < want && tilesN > tilesM {
		alongN = true
	}
	tiles := tilesM
	if alongN {
		tiles = tilesN
	}
	return min(want, tiles), alongN
}

// partBounds returns part i of parts over total, in whole units.
func partBounds(i, parts, total, unit int) (lo, hi int) {
	tiles := (total + unit - 1) / unit
	lo = i * tiles / parts * unit
	hi = min((i+1)*tiles/parts*unit, total)
	return lo, hi
}

// gemmCall is a product shared between the caller and worker goroutines.
// Calls are recycled so that a parallel Sgemm allocates nothing.
type gemmCall struct {
	ks     *kernelSet
	args   gemmArgs
	parts  int
	alongN bool

	next atomic.Int64   // the next part to claim
	done sync.WaitGroup // parts not yet finished
	refs atomic.Int32   // goroutines holding the call; the last one recycles it

	mu       sync.Mutex
	panicked bool
	panicVal any
}

var calls freeList[gemmCall]

func getCall() *gemmCall { return calls.get() }

// release drops one goroutine's hold on the call and recycles it after the
// last one: a helper that wakes after the caller has returned still reads
// the call's counters.
func (c *gemmCall) release() {
	if c.refs.Add(-1) != 0 {
		return
	}
	// Drop references to the caller's matrices; the zero state is ready for reuse.
	c.ks, c.args, c.panicVal, c.panicked = nil, gemmArgs{}, nil, false
	calls.put(c)
}

// part computes part i on the current goroutine with a workspace of its own.
func (c *gemmCall) part(i int) {
	defer c.done.Done()
	m0, m1, n0, n1 := 0, c.args.m, 0, c.args.n
	mr, nr := tileShape(c.ks, &c.args)
	if c.alongN {
		n0, n1 = partBounds(i, c.parts, c.args.n, nr)
	} else {
		m0, m1 = partBounds(i, c.parts, c.args.m, mr)
	}
	if testHookPart != nil {
		testHookPart(i)
	}
	ws := getWorkspace()
	defer putWorkspace(ws)
	ws.block(c.ks, &c.args, m0, m1, n0, n1)
}

// testHookPart lets a test make one part panic.
var testHookPart func(part int)

// claimParts computes parts until none is left unclaimed.
func (c *gemmCall) claimParts() {
	for {
		i := int(c.next.Add(1) - 1)
		if i >= c.parts {
			return
		}
		c.part(i)
	}
}

// stop prevents further claims after a panic; parts never claimed are
// counted as done so that waiting for the claimed ones cannot hang.
func (c *gemmCall) stop() {
	if claimed := int(c.next.Swap(int64(c.parts))); claimed < c.parts {
		c.done.Add(claimed - c.parts)
	}
}

// run offers the call to up to helpers idle workers, claims parts itself
// until none is left, and waits for the parts others claimed. It does not
// wait for a helper that has not started: it will find nothing to claim. A
// panic in any part, on any goroutine, is re-raised here on the caller's
// goroutine once every claimed part has stopped, so the caller's recover
// sees it and no worker is left writing into the caller's matrices.
func (c *gemmCall) run(helpers int) {
	c.next.Store(0)
	c.done.Add(c.parts)
	c.refs.Store(1)
	defer func() {
		r := recover()
		if r != nil {
			c.stop()
		}
		c.done.Wait()
		c.mu.Lock()
		if r == nil && c.panicked {
			r = c.panicVal
		}
		c.mu.Unlock()
		c.release()
		if r != nil {
			panic(r)
		}
	}()
	startWorkers(helpers)
	for h := 0; h < helpers; h++ {
		c.refs.Add(1)
		select {
		case tasks <- c:
		default:
			c.refs.Add(-1) // no idle worker: the caller does the work
			h = helpers
		}
	}
	c.claimParts()
}

// help is a worker's share of a call: it claims parts like the caller, and
// keeps a panic for the caller instead of letting it end the process.
func (c *gemmCall) help() {
	defer c.release()
	defer func() {
		if r := recover(); r != nil {
			c.mu.Lock()
			if !c.panicked {
				c.panicked, c.panicVal = true, r
			}
			c.mu.Unlock()
			c.stop()
		}
	}()
	c.claimParts()
}

// tasks is unbuffered: a send succeeds only if a worker is waiting, which is
// how run knows whether help is available.
var tasks = make(chan *gemmCall)

var workers struct {
	sync.Mutex
	n int
}

// startWorkers makes sure at least n worker goroutines exist. They live for
// the rest of the process, blocked on tasks when idle, so a parallel call
// costs a channel hand-off rather than a goroutine start.
func startWorkers(n int) {
	workers.Lock()
	defer workers.Unlock()
	for ; workers.n < n; workers.n++ {
		go worker()
	}
}

func worker() {
	for c := range tasks {
		c.help()
	}
}
