package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bigdl-go/bigdl-go/core/spin"
)

// maxThreads caps the goroutines one Sgemm call uses (the caller's
// included). It is atomic because trainers running side by side in one
// process (tasks in tests, or two optimize() calls) each set it.
var maxThreads atomic.Int64

func init() { maxThreads.Store(int64(runtime.GOMAXPROCS(0))) }

// MaxThreads is the cap SetMaxThreads set (GOMAXPROCS at start-up).
func MaxThreads() int { return int(maxThreads.Load()) }

// SetMaxThreads caps the goroutines one Sgemm call uses; n < 1 means 1
// (everything on the caller).
func SetMaxThreads(n int) {
	maxThreads.Store(int64(max(n, 1)))
}

// parallelMinWork is the product size (m·n·k multiply-adds) from which a
// call is split across goroutines if a worker is spinning (see worker), and
// wakeMinWork the size from which a sleeping worker is woken for it.
// Measured on 2 cores with the assembly AVX-512 kernel: with a spinning
// worker, two threads broke even near 0.5M (64×64×128: 95 against 91
// GFLOP/s) and won from 0.8M (64×128×96: 131 against 109; 96³: 168 against
// 127; 256³: 243 against 148). Waking a sleeping one costs the caller
// ~20 µs: in calls 3 ms apart (the worker asleep every time), two threads
// lost below 8M (192³: 92 against 128), broke even near it (128×256×256
// NT: 92 against 85) and won from 16M (128×256×784 NT: 119 against 101).
var (
	parallelMinWork = 768 << 10
	wakeMinWork     = 8 << 20
)

// partsPerThread cuts a parallel product finer than one part per thread:
// parts are claimed one at a time, so a helper that wakes late, or a core
// shared with other work, costs only its share of the parts it did not take.
// Smaller parts reuse each packed sliver of B less: on 2 cores, 2 parts per
// thread was as fast as 4 or faster (512×784×256: 278 against 266 GFLOP/s).
const partsPerThread = 2

// runGemm computes the whole product, on several goroutines when it is
// large enough. However the work is cut, every tile of C is computed by the
// same micro-kernel calls over the same k blocks in the same order, so
// results are bit-identical for any thread count.
func runGemm(ks *kernelSet, g *gemmArgs) {
	// More threads than processors would only take turns, and would spin
	// waiting for each other while they do.
	threads := min(MaxThreads(), runtime.GOMAXPROCS(0))
	if work := g.m * g.n * g.k; threads > 1 && work >= parallelMinWork {
		c := getCall()
		c.ks, c.args = ks, *g
		if g.dotNT {
			c.planNT(threads)
		} else {
			c.planPacked(threads)
		}
		if c.run(min(threads, c.tasks)-1, work >= wakeMinWork) {
			return
		}
	}
	ws := getWorkspace()
	ws.block(ks, g, 0, g.m, 0, g.n)
	putWorkspace(ws)
}

// gemmCall is a product shared between the caller and worker goroutines,
// cut into tasks that they claim in order. Calls are recycled so that a
// parallel Sgemm allocates nothing.
type gemmCall struct {
	ks    *kernelSet
	args  gemmArgs
	tasks int

	// The NT path cuts the product into parts along m or n (planNT).
	parts  int
	alongN bool

	// The packed path shares packed B between threads (planPacked).
	packed         bool
	kc, nc, kSteps int
	mParts, jParts int // row blocks, and column parts of each
	chunks, blocks int // per step: B packing tasks, compute tasks (mParts·jParts)
	direct         bool
	b              [2][]float32    // packed B, for even and odd steps
	packedChunks   [2]atomic.Int64 // B chunks packed, summed over the steps using b[i]
	computed       [2]atomic.Int64 // compute tasks finished, summed over the steps using b[i]
	progress       []atomic.Int64  // per compute block: steps finished

	next     atomic.Int64 // the next task to claim
	finished atomic.Int64 // tasks finished or given up
	refs     atomic.Int32 // goroutines holding the call; the last one recycles it
	failed   atomic.Bool  // a task panicked: the others stop waiting for each other

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
	// Drop references to the caller's matrices; the plans and run reset the
	// rest.
	c.ks, c.args, c.panicVal, c.panicked = nil, gemmArgs{}, nil, false
	calls.put(c)
}

// planNT cuts an NT product into parts along m or n. Each part reads all
// of the operand that is not split (in place: the NT path packs nothing),
// so the split goes along the larger one, unless that has too few tiles to
// go round.
func (c *gemmCall) planNT(threads int) {
	g := &c.args
	c.packed = false
	want := threads * partsPerThread
	tilesM := (g.m + dotMR - 1) / dotMR
	tilesN := (g.n + dotNR - 1) / dotNR
	c.alongN = g.m <= g.n
	if c.alongN && tilesN < want && tilesM > tilesN {
		c.alongN = false
	} else if !c.alongN && tilesM < want && tilesN > tilesM {
		c.alongN = true
	}
	tiles := tilesM
	if c.alongN {
		tiles = tilesN
	}
	c.parts = min(want, tiles)
	c.tasks = c.parts
}

// planPacked follows BLIS: the product runs in steps, one per kc×nc block
// of B in gemmBlock's order (jc outer, pc inner). Each step's block of B is
// packed once, in chunks that any thread may take, into one of two shared
// buffers (alternate steps, so that packing the next block overlaps the
// products with this one); then its blocks of rows of C, each with the A
// block it packs itself, are computed by whoever claims them. Packing A and
// B once, instead of once per part of C, is what makes two threads twice as
// fast as one. With few rows, each row block is also cut along n so that
// there are enough tasks to share.
func (c *gemmCall) planPacked(threads int) {
	ks, g := c.ks, &c.args
	c.packed = true
	c.kc = splitEven(g.k, ks.kc, 1)
	c.kSteps = (g.k + c.kc - 1) / c.kc
	c.nc = splitEven(g.n, ks.nc, ks.nr)
	steps := c.kSteps * ((g.n + c.nc - 1) / c.nc)

	want := threads * partsPerThread
	tilesM := (g.m + ks.mr - 1) / ks.mr
	// Row blocks are even in whole tiles, so that the last ones leave no
	// thread idle for long, and at most mc rows, the size of ws.a.
	c.mParts = max(min(want, tilesM), (tilesM+ks.mc/ks.mr-1)/(ks.mc/ks.mr))
	if tilesM < 2*want && tilesM%c.mParts != 0 {
		// Few tiles that do not share out evenly (an LSTM's batch of 64
		// is 6 tiles of 12 rows: parts of 1, 2, 1 and 2): a tile each
		// keeps both threads busy to the end (dh = dpre·U at batch 64 on
		// 2 cores: 42 instead of 45 µs; Linear shapes at batch 64 unchanged).
		c.mParts = tilesM
	}
	c.jParts = min((want+c.mParts-1)/c.mParts, (c.nc+ks.nr-1)/ks.nr)
	c.blocks = c.mParts * c.jParts

	c.direct = !g.transB && g.m <= ks.directMaxM && g.packedB == nil
	switch {
	case g.packedB != nil:
		c.chunks = 0 // every block of B is packed already
	case !c.direct:
		c.chunks = threads
	case g.n%ks.nr != 0:
		c.chunks = 1 // the partial last sliver
	default:
		c.chunks = 0
	}
	c.tasks = steps * (c.chunks + c.blocks)

	for i := range c.b {
		if g.packedB == nil && len(c.b[i]) < c.kc*c.nc {
			c.b[i] = alignedFloats(max(c.kc*c.nc, ks.kc*ks.nc))
		}
		c.packedChunks[i].Store(0)
		c.computed[i].Store(0)
	}
	if len(c.progress) < c.blocks {
		c.progress = make([]atomic.Int64, c.blocks)
	}
	for i := range c.progress[:c.blocks] {
		c.progress[i].Store(0)
	}
}

// task runs task t on the current goroutine, with ws for its packing. A
// panic is kept for the caller (and recorded before the task is counted as
// finished, so that the caller cannot see every task finished without it).
func (c *gemmCall) task(ws *workspace, t int, onWorker bool) {
	defer func() {
		if r := recover(); r != nil {
			c.fail(r)
		}
	}()
	if testHookTask != nil {
		testHookTask(t, onWorker)
	}
	if !c.packed {
		m0, m1, n0, n1 := 0, c.args.m, 0, c.args.n
		if c.alongN {
			n0, n1 = partBounds(t, c.parts, c.args.n, dotNR)
		} else {
			m0, m1 = partBounds(t, c.parts, c.args.m, dotMR)
		}
		ws.gemmBlockNT(c.ks, &c.args, m0, m1, n0, n1)
		return
	}
	perStep := c.chunks + c.blocks
	step, i := t/perStep, t%perStep
	if i < c.chunks {
		c.packChunk(step, i)
	} else {
		c.compute(ws, step, i-c.chunks)
	}
}

// testHookTask lets a test make tasks panic.
var testHookTask func(task int, onWorker bool)

// stepBlock returns the block of B that a step multiplies: columns jc..jc+nb
// and rows pc..pc+kb of op(B).
func (c *gemmCall) stepBlock(step int) (jc, nb, pc, kb int) {
	jc, pc = step/c.kSteps*c.nc, step%c.kSteps*c.kc
	return jc, min(c.nc, c.args.n-jc), pc, min(c.kc, c.args.k-pc)
}

// packChunk packs chunk i of the step's block of B once the products of
// the step before last, which read the same buffer, are done.
func (c *gemmCall) packChunk(step, i int) {
	ks, g := c.ks, &c.args
	jc, nb, pc, kb := c.stepBlock(step)
	buf := step % 2
	if !c.await(&c.computed[buf], int64(step/2*c.blocks), true) {
		return
	}
	j0, j1 := nb/ks.nr*ks.nr, nb // direct: only the partial last sliver
	if !c.direct {
		j0, j1 = partBounds(i, c.chunks, nb, ks.nr)
	}
	if j0 < j1 {
		ks.packB(c.b[buf][j0*kb:], g.b, g.ldb, g.transB, pc, kb, jc+j0, j1-j0)
	}
	c.packedChunks[buf].Add(1)
}

// compute packs the block's rows of A, then, once the step's B is packed
// and the block's previous step (which wrote the same part of C) is done,
// multiplies them.
func (c *gemmCall) compute(ws *workspace, step, block int) {
	ks, g := c.ks, &c.args
	jc, nb, pc, kb := c.stepBlock(step)
	i0, i1 := partBounds(block/c.jParts, c.mParts, g.m, ks.mr)
	j0, j1 := partBounds(block%c.jParts, c.jParts, nb, ks.nr)
	if j0 < j1 {
		ws.ensure(ks)
		ks.packA(ws.a, g.a, g.lda, g.transA, i0, i1-i0, pc, kb, g.alpha)
	}
	buf := step % 2
	if !c.await(&c.packedChunks[buf], int64((step/2+1)*c.chunks), true) ||
		!c.await(&c.progress[block], int64(step), true) {
		return
	}
	if j0 < j1 {
		beta := g.beta
		if pc > 0 {
			beta = 1 // later k blocks accumulate onto the first one's result
		}
		panel := c.b[buf]
		if g.packedB != nil {
			panel = g.packedB[packedOffset(ks, jc, nb, pc, g.k):]
		}
		ws.macroKernel(ks, g, panel[j0*kb:], i0, i1-i0, jc+j0, j1-j0, pc, kb, beta, c.direct)
	}
	c.progress[block].Store(int64(step + 1))
	c.computed[buf].Add(1)
}

// A wait in await lasts at most one task (up to a few milliseconds on the
// largest products), as the tasks waited for were claimed earlier and are
// running, and is usually a fraction of one; so await spins. Sleeping on a
// condition variable or channel would make the waker hand this goroutine
// to the scheduler, which here takes from 0.1 to several milliseconds to
// run it (see worker); time.Sleep wakes it on its own processor, but no
// sooner than about a millisecond. A wait can be long when the goroutine
// running the task is descheduled by the OS for another process: from
// spin.YieldAfter on, the spinning thread offers its core to other threads
// between polls (two threads sharing one core with a busy process kept
// 143 GFLOP/s on 128×784×256 instead of falling to 71), and from awaitSpin
// on it sleeps.
const (
	awaitSpin  = time.Millisecond
	awaitSleep = 100 * time.Microsecond
)

// await returns once v reaches target. If giveUp, it returns false instead
// once a task has panicked: v may then never reach target.
func (c *gemmCall) await(v *atomic.Int64, target int64, giveUp bool) bool {
	var p spin.Poller
	for v.Load() < target {
		d, checked := p.Waited()
		if !checked {
			continue
		}
		if giveUp && c.failed.Load() {
			return false
		}
		if d > awaitSpin {
			time.Sleep(awaitSleep)
		}
	}
	return true
}

// partBounds returns part i of parts over total, in whole units.
func partBounds(i, parts, total, unit int) (lo, hi int) {
	tiles := (total + unit - 1) / unit
	lo = i * tiles / parts * unit
	hi = min((i+1)*tiles/parts*unit, total)
	return lo, hi
}

// claimTasks runs tasks until none is left unclaimed. Tasks are claimed in
// order and only wait for tasks claimed before them, so the oldest running
// task can always finish. A worker (w not nil) shows itself idle as soon as
// a claim fails, before its last task is counted as finished: otherwise the
// caller could see this product end and find the worker still busy for its
// next one, and compute that one alone.
func (c *gemmCall) claimTasks(w *worker) {
	t := int(c.next.Add(1) - 1)
	if t >= c.tasks {
		w.idle()
		return
	}
	ws := getWorkspace()
	defer putWorkspace(ws)
	for {
		c.task(ws, t, w != nil)
		next := int(c.next.Add(1) - 1)
		if next >= c.tasks {
			w.idle()
			c.finished.Add(1)
			return
		}
		c.finished.Add(1)
		t = next
	}
}

// fail keeps the first panic for the caller, stops further claims and
// makes waiting tasks give up; tasks never claimed are counted as finished.
func (c *gemmCall) fail(r any) {
	c.mu.Lock()
	if !c.panicked {
		c.panicked, c.panicVal = true, r
	}
	c.mu.Unlock()
	c.failed.Store(true)
	if claimed := int(c.next.Swap(int64(c.tasks))); claimed < c.tasks {
		c.finished.Add(int64(c.tasks - claimed))
	}
}

// run offers the call to up to helpers idle workers (sleeping ones only if
// wake), claims tasks itself until none is left, and waits for the tasks
// others claimed. It does not wait for a helper that has not started: it
// will find nothing to claim. Without any helper it computes nothing and
// returns false: the caller's plain single-threaded loops are faster than
// its tasks alone. A panic in any task, on any goroutine, is re-raised here
// on the caller's goroutine once every claimed task has stopped, so the
// caller's recover sees it and no worker is left writing into the caller's
// matrices.
func (c *gemmCall) run(helpers int, wake bool) bool {
	c.next.Store(0)
	c.finished.Store(0)
	c.failed.Store(false)
	c.refs.Store(1)
	if offer(c, helpers, wake) == 0 {
		c.release()
		return false
	}
	c.claimTasks(nil)
	c.await(&c.finished, int64(c.tasks), false)
	c.mu.Lock()
	panicked, r := c.panicked, c.panicVal
	c.mu.Unlock()
	c.release()
	if panicked {
		panic(r)
	}
	return true
}

// help is a worker's share of a call. Tasks keep their panics for the
// caller (see task), so none ends the worker or the process.
func (c *gemmCall) help(w *worker) {
	defer c.release()
	c.claimTasks(w)
}

// A worker is a helper goroutine that lives for the rest of the process.
// After a call it spins for a while, watching for the next one, then sleeps
// on its channel. Waking it costs the caller ~20 µs (a futex call that, on
// a virtual machine, wakes the other core's halted virtual CPU), and the
// worker starts from 0.1 to several milliseconds later: the scheduler
// queues it on the caller's processor and another one must wake up and
// take it from there. A spinning worker starts a call within a
// microsecond, and keeps its core awake.
type worker struct {
	state atomic.Int32
	call  atomic.Pointer[gemmCall] // a call handed to the worker while it spins
	wake  chan *gemmCall           // a call handed to the worker while it sleeps
}

const (
	workerBusy = iota
	workerSpinning
	workerSleeping
)

// workerSpin is how long an idle worker spins before it sleeps: long enough
// to bridge the gaps between the products of a training step.
const workerSpin = time.Millisecond

var workers struct {
	sync.Mutex
	list atomic.Pointer[[]*worker]
}

// startWorkers makes sure at least n workers exist and returns them all.
func startWorkers(n int) []*worker {
	if list := workers.list.Load(); list != nil && len(*list) >= n {
		return *list
	}
	workers.Lock()
	defer workers.Unlock()
	var list []*worker
	if p := workers.list.Load(); p != nil {
		list = *p
	}
	for len(list) < n {
		w := &worker{wake: make(chan *gemmCall, 1)}
		w.state.Store(workerSleeping)
		list = append(list, w)
		go w.loop()
	}
	workers.list.Store(&list)
	return list
}

// offer hands the call to up to want idle workers, spinning ones first
// since they start at once, then, if wake, sleeping ones, and returns how
// many took it. Workers busy with another caller's product are skipped:
// the caller then does more of the work itself.
func offer(c *gemmCall, want int, wake bool) int {
	if want <= 0 {
		return 0
	}
	list := startWorkers(want)
	n := 0
	for _, w := range list {
		if n < want && w.state.CompareAndSwap(workerSpinning, workerBusy) {
			c.refs.Add(1)
			w.call.Store(c)
			n++
		}
	}
	for _, w := range list {
		if n < want && wake && w.state.CompareAndSwap(workerSleeping, workerBusy) {
			c.refs.Add(1)
			w.wake <- c
			n++
		}
	}
	return n
}

// idle makes the worker (if any: the caller has none) available for
// another call. Once it is, a caller may claim it and hand it a call at any
// time, so it must not be called twice for one call.
func (w *worker) idle() {
	if w != nil {
		w.state.Store(workerSpinning)
	}
}

func (w *worker) loop() {
	c := <-w.wake
	for {
		c.help(w)
		c = w.next()
	}
}

// next waits for the worker's next call: spinning first, then asleep. A
// caller that claims the worker (state busy) just before it would sleep
// stores the call right after, so the worker keeps polling for it.
func (w *worker) next() *gemmCall {
	var p spin.Poller
	for {
		if w.call.Load() != nil {
			return w.call.Swap(nil)
		}
		if d, checked := p.Waited(); checked && d > workerSpin && w.state.CompareAndSwap(workerSpinning, workerSleeping) {
			return <-w.wake
		}
	}
}
