package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bigdl-go/bigdl-go/core/mem"
)

// randSlice comes from mem.Floats, as tensors do, so that benchmarks run
// large products on the pages a Linear's operands lie on.
func randSlice(r *rand.Rand, n int) []float32 {
	s := mem.Floats(n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// allPaths is every code path the tests must cover; a path is skipped only
// when this CPU (or a build without GOEXPERIMENT=simd) cannot run it.
var allPaths = []string{"generic", "avx2-archsimd", "avx2-asm4x24", "avx2", "avx512-archsimd", "avx512-asm8x48", "avx512"}

// forEachPath runs f once per kernel set and thread count, and for a set
// with an NT dot kernel, once with every A·Bᵀ product on each of the two
// NT paths. With two threads the parallel threshold is dropped to zero so
// that even tiny products take the parallel path.
func forEachPath(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, path := range allPaths {
		nts := []int{ntByShape}
		if s, ok := sets[path]; ok && s.ntKernel != nil {
			nts = []int{ntDot, ntPacked}
		}
		for _, nt := range nts {
			for _, threads := range []int{1, 2} {
				t.Run(fmt.Sprintf("%s%s/threads=%d", path, ntNames[nt], threads), func(t *testing.T) {
					restore, err := Force(path)
					if err != nil {
						t.Skip(err)
					}
					defer restore()
					defer setThreads(threads)()
					prevNT := ntPath
					ntPath = nt
					defer func() { ntPath = prevNT }()
					f(t)
				})
			}
		}
	}
}

var ntNames = map[int]string{ntByShape: "", ntDot: "/nt=dot", ntPacked: "/nt=packed"}

// setThreads sets MaxThreads and, above one thread, makes every product
// parallel, with at least n processors (Sgemm uses no more threads than
// GOMAXPROCS); it returns the function that undoes all three.
func setThreads(n int) (restore func()) {
	prevThreads, prevMin, prevWake := MaxThreads(), parallelMinWork, wakeMinWork
	prevProcs := runtime.GOMAXPROCS(max(n, runtime.GOMAXPROCS(0)))
	SetMaxThreads(n)
	if n > 1 {
		parallelMinWork, wakeMinWork = 0, 0
	}
	return func() {
		SetMaxThreads(prevThreads)
		parallelMinWork, wakeMinWork = prevMin, prevWake
		runtime.GOMAXPROCS(prevProcs)
	}
}

// gemmCase is one product with its inputs laid out in padded buffers.
type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32 // c holds C's initial contents
	lda, ldb, ldc  int
	want           []float32 // NaiveGemm's result
	bound          []float32 // per element: |alpha|·Σ|a||b| + |beta·c|, the error scale
}

// newGemmCase builds a case; pad is added to every leading dimension. With
// beta == 0, C starts as NaN, which must not leak into the result.
func newGemmCase(r *rand.Rand, transA, transB bool, m, n, k, pad int, alpha, beta float32) *gemmCase {
	g := &gemmCase{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta}
	rowsA, colsA, rowsB, colsB := operandShapes(transA, transB, m, n, k)
	g.lda, g.ldb, g.ldc = colsA+pad, colsB+pad, n+pad
	g.a = randSlice(r, max(rowsA*g.lda, 1))
	g.b = randSlice(r, max(rowsB*g.ldb, 1))
	g.c = randSlice(r, m*g.ldc)
	if beta == 0 {
		for i := range g.c {
			g.c[i] = float32(math.NaN())
		}
	}
	g.want = append([]float32(nil), g.c...)
	NaiveGemm(transA, transB, m, n, k, alpha, g.a, g.lda, g.b, g.ldb, beta, g.want, g.ldc)
	absA, absB := absSlice(g.a), absSlice(g.b)
	g.bound = make([]float32, len(g.c))
	NaiveGemm(transA, transB, m, n, k, float32(math.Abs(float64(alpha))), absA, g.lda, absB, g.ldb, 0, g.bound, g.ldc)
	if beta != 0 {
		for i := range g.bound {
			g.bound[i] += float32(math.Abs(float64(beta * g.c[i])))
		}
	}
	return g
}

func absSlice(s []float32) []float32 {
	out := make([]float32, len(s))
	for i, v := range s {
		out[i] = float32(math.Abs(float64(v)))
	}
	return out
}

func (g *gemmCase) String() string {
	return fmt.Sprintf("m=%d n=%d k=%d transA=%v transB=%v alpha=%v beta=%v lda=%d ldb=%d ldc=%d",
		g.m, g.n, g.k, g.transA, g.transB, g.alpha, g.beta, g.lda, g.ldb, g.ldc)
}

// run calls Sgemm on a fresh copy of C and returns it.
func (g *gemmCase) run() []float32 {
	c := append([]float32(nil), g.c...)
	Sgemm(g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c, g.ldc)
	return c
}

// check compares got with the reference: each element within a few float32
// rounding errors per term of its sum, and the padding between rows of C
// untouched.
func (g *gemmCase) check(t *testing.T, got []float32) {
	t.Helper()
	const eps = 1.0 / (1 << 23)
	tol := 4 * float64(g.k+2) * eps
	for i := 0; i < g.m; i++ {
		for j := 0; j < g.ldc; j++ {
			idx := i*g.ldc + j
			if j >= g.n {
				if !sameBits(got[idx], g.c[idx]) {
					t.Fatalf("%v: wrote padding C[%d][%d] = %v, was %v", g, i, j, got[idx], g.c[idx])
				}
				continue
			}
			d := math.Abs(float64(got[idx] - g.want[idx]))
			if !(d <= tol*float64(g.bound[idx])+1e-30) { // also catches NaN
				t.Fatalf("%v: C[%d][%d] = %v, want %v (error %.3g, allowed %.3g)",
					g, i, j, got[idx], g.want[idx], d, tol*float64(g.bound[idx]))
			}
		}
	}
}

func sameBits(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }

var alphaBetas = [][2]float32{{1, 0}, {0.7, 0.3}, {1, 1}, {-1.5, 0}, {0, 0.5}, {2, -1}, {0, 0}}

// TestSgemmSmallShapes covers the full cross product of small sizes (every
// kind of edge tile, and k below, at and past a vector width) with all four
// transposition flags on every path and thread count.
func TestSgemmSmallShapes(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	sizes := []int{1, 2, 7, 15, 16, 17}
	var cases []*gemmCase
	idx := 0
	for _, m := range sizes {
		for _, n := range sizes {
			for _, k := range sizes {
				for _, ta := range []bool{false, true} {
					for _, tb := range []bool{false, true} {
						ab := alphaBetas[idx%len(alphaBetas)]
						cases = append(cases, newGemmCase(r, ta, tb, m, n, k, idx%3*2, ab[0], ab[1]))
						idx++
					}
				}
			}
		}
	}
	forEachPath(t, func(t *testing.T) {
		for _, g := range cases {
			g.check(t, g.run())
		}
	})
}

// TestSgemmAlphaBeta runs every alpha/beta pair (beta = 0 over NaN, alpha =
// 0, both zero) on one shape with partial tiles on both sides.
func TestSgemmAlphaBeta(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	var cases []*gemmCase
	for _, ab := range alphaBetas {
		for _, k := range []int{0, 1, 37} {
			cases = append(cases, newGemmCase(r, false, true, 19, 53, k, 3, ab[0], ab[1]))
		}
	}
	forEachPath(t, func(t *testing.T) {
		for _, g := range cases {
			g.check(t, g.run())
		}
	})
}

// TestSgemmLargerShapes samples the sizes past one cache block (k = 257
// spans two k blocks of most sets; 700×40×800 spans several blocks of rows
// and of k in every set, whose mc and kc reach 480 and 384) and the MLP's
// shapes.
func TestSgemmLargerShapes(t *testing.T) {
	if testing.Short() {
		t.Skip("large shapes in -short mode")
	}
	r := rand.New(rand.NewSource(3))
	shapes := [][3]int{
		{255, 257, 63}, {257, 255, 257}, {63, 63, 255}, {1, 257, 255}, {257, 1, 257},
		{16, 255, 17}, {17, 16, 257}, {255, 7, 15}, {2, 63, 257}, {257, 257, 1},
		{16, 256, 784}, {128, 10, 256}, {15, 17, 600}, {700, 40, 800},
	}
	var cases []*gemmCase
	for i, s := range shapes {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				ab := alphaBetas[(i+len(cases))%len(alphaBetas)]
				cases = append(cases, newGemmCase(r, ta, tb, s[0], s[1], s[2], (i%2)*5, ab[0], ab[1]))
			}
		}
	}
	forEachPath(t, func(t *testing.T) {
		for _, g := range cases {
			g.check(t, g.run())
		}
	})
}

// TestSgemmSmallBlocks shrinks every set's cache blocks to a few tiles so
// that moderate shapes cross many kc, mc and nc boundaries, including the
// balanced splits, without slow references.
func TestSgemmSmallBlocks(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	var cases []*gemmCase
	for i, s := range [][3]int{{50, 70, 40}, {33, 130, 67}, {97, 31, 129}} {
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				ab := alphaBetas[(i+len(cases))%len(alphaBetas)]
				cases = append(cases, newGemmCase(r, ta, tb, s[0], s[1], s[2], 1, ab[0], ab[1]))
			}
		}
	}
	forEachPath(t, func(t *testing.T) {
		defer shrinkBlocks()()
		for _, g := range cases {
			g.check(t, g.run())
		}
	})
}

// shrinkBlocks makes the active kernel set's cache blocks tiny (kc = 9,
// two register blocks for mc and nc), so that small products span many
// blocks; it returns the function that restores the set.
func shrinkBlocks() (restore func()) {
	small := *active
	small.kc, small.mc, small.nc = 9, 2*small.mr, 2*small.nr
	if small.alt != nil { // the alternative register block is shrunk too
		alt := *small.alt
		alt.kc, alt.mc, alt.nc = 9, 2*alt.mr, 2*alt.nr
		small.alt = &alt
	}
	prev := active
	active = &small
	return func() { active = prev }
}

// TestSgemmDeterministic checks that a path gives bit-identical results run
// after run, and for one or two threads (tasks are whole tiles and the k
// blocking does not depend on the split). The shapes span two k blocks,
// and the last one has more rows than a block of A, so that its B is
// packed rather than read in place.
func TestSgemmDeterministic(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	cases := []*gemmCase{
		newGemmCase(r, false, true, 131, 200, 300, 0, 1, 0.5),
		newGemmCase(r, false, false, 131, 200, 300, 0, 1, 0.5),
		newGemmCase(r, true, true, 131, 200, 300, 0, 1, 0.5),
		newGemmCase(r, false, false, 530, 100, 300, 0, 1, 0),
	}
	results := map[string][]float32{}
	forEachPath(t, func(t *testing.T) {
		for ci, g := range cases {
			first := g.run()
			for i := 0; i < 3; i++ {
				if got := g.run(); !bitsEqual(got, first) {
					t.Fatalf("%v: run %d differs from the first run", g, i+2)
				}
			}
			key := fmt.Sprint(active.name, ntNames[ntPath], ci)
			if prev, ok := results[key]; ok && !bitsEqual(prev, first) {
				t.Errorf("%v: one and two threads give different bits", g)
			}
			results[key] = first
		}
	})
}

func bitsEqual(x, y []float32) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if !sameBits(x[i], y[i]) {
			return false
		}
	}
	return true
}

// TestSgemmNoAllocs checks that steady-state calls allocate nothing, on the
// caller's goroutine and when split across workers.
func TestSgemmNoAllocs(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	a, b, c := randSlice(r, 64*300), randSlice(r, 300*96), make([]float32, 64*96)
	forEachPath(t, func(t *testing.T) {
		allocs := testing.AllocsPerRun(20, func() {
			Sgemm(false, false, 64, 96, 300, 1, a, 300, b, 96, 0, c, 96)
		})
		if allocs != 0 {
			t.Errorf("Sgemm allocated %v times per call", allocs)
		}
	})
}

// TestSgemmWorkerPanic checks that a panic in a task, on a worker goroutine
// or on the caller's, reaches the caller's recover instead of killing the
// process. Which goroutine runs which task is up to the scheduler (a woken
// worker may take a while to start), so each case is tried until it has
// happened often enough.
func TestSgemmWorkerPanic(t *testing.T) {
	defer setThreads(2)()
	r := rand.New(rand.NewSource(7))
	a, b, c := randSlice(r, 64*64), randSlice(r, 64*64), make([]float32, 64*64)
	defer func() { testHookTask = nil }()
	for _, onWorker := range []bool{true, false} {
		want := fmt.Sprintf("boom, on a worker: %v", onWorker)
		testHookTask = func(task int, worker bool) {
			if worker == onWorker {
				panic(want)
			}
			if onWorker {
				// Give a worker time to claim a task, even on a single core.
				time.Sleep(100 * time.Microsecond)
			}
		}
		panics, calls := 0, 0
		for start := time.Now(); panics < 20 && time.Since(start) < 10*time.Second; calls++ {
			func() {
				defer func() {
					if r := recover(); r == want {
						panics++
					} else if r != nil {
						t.Fatalf("recovered %v, want %q", r, want)
					}
				}()
				Sgemm(false, false, 64, 64, 64, 1, a, 64, b, 64, 0, c, 64)
			}()
		}
		if panics < 20 {
			t.Fatalf("on a worker: %v: only %d panics in %d calls", onWorker, panics, calls)
		}
	}
	testHookTask = nil
	// The workers survive and the next call is correct.
	g := newGemmCase(r, false, false, 64, 64, 64, 0, 1, 0)
	g.check(t, g.run())
}

// TestSgemmConcurrentCallers runs parallel products from several goroutines
// at once: they compete for the workers, and each must still get exactly
// the single-threaded result.
func TestSgemmConcurrentCallers(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	cases := []*gemmCase{
		newGemmCase(r, false, false, 97, 130, 300, 1, 1, 0),
		newGemmCase(r, true, false, 64, 200, 90, 0, 0.5, 1),
		newGemmCase(r, false, true, 131, 75, 260, 2, 1, 0.5),
	}
	want := make([][]float32, len(cases))
	restore := setThreads(1)
	for i, g := range cases {
		want[i] = g.run()
	}
	restore()
	defer setThreads(2)()
	var wg sync.WaitGroup
	errs := make(chan string, 4*len(cases))
	for caller := 0; caller < 4; caller++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < 20; rep++ {
				i := (caller + rep) % len(cases)
				if got := cases[i].run(); !bitsEqual(got, want[i]) {
					errs <- fmt.Sprintf("%v: differs from one thread's result", cases[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestSgemmBadArgsPanic(t *testing.T) {
	for name, f := range map[string]func(){
		"short A": func() {
			Sgemm(false, false, 4, 4, 4, 1, make([]float32, 15), 4, make([]float32, 16), 4, 0, make([]float32, 16), 4)
		},
		"short C": func() {
			Sgemm(false, false, 4, 4, 4, 1, make([]float32, 16), 4, make([]float32, 16), 4, 0, make([]float32, 15), 4)
		},
		"small ldb": func() {
			Sgemm(false, true, 4, 4, 4, 1, make([]float32, 16), 4, make([]float32, 16), 3, 0, make([]float32, 16), 4)
		},
		"negative k": func() { Sgemm(false, false, 4, 4, -1, 1, nil, 4, nil, 4, 0, make([]float32, 16), 4) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestForce(t *testing.T) {
	if _, err := Force("no-such-path"); err == nil {
		t.Error("Force accepted an unknown path")
	}
	restore, err := Force("generic")
	if err != nil {
		t.Fatal(err)
	}
	if active.name != "generic" || Active != genericSet.desc {
		t.Errorf("after Force(generic): active %s, Active %q", active.name, Active)
	}
	restore()
	t.Logf("kernel sets on this machine: %v; default: %s", Available(), Active)
}

func TestChooseFromEnv(t *testing.T) {
	prev, prevName := active, Active
	defer func() { active, Active = prev, prevName }()
	choose("generic")
	if active.name != "generic" {
		t.Errorf("BIGDL_KERNELS=generic chose %s", active.name)
	}
	choose("nonsense")
	if active.name != Available()[0] {
		t.Errorf("BIGDL_KERNELS=nonsense chose %s, want the best (%s)", active.name, Available()[0])
	}
}

// TestWorkspaceHoldsEveryBlock checks that a fresh workspace's packing
// buffers hold the largest blocks gemmBlock cuts for each set: up to mc
// rows and nc columns rounded up to whole tiles. When nc is not a multiple
// of nr (8×48's 1024), a block is wider than nc; sized by nc·kc, the
// buffer was overrun by a 600×2048×256 product on a fresh workspace.
func TestWorkspaceHoldsEveryBlock(t *testing.T) {
	for _, name := range All() {
		for _, ks := range []*kernelSet{sets[name], sets[name].alt} {
			if ks == nil {
				continue
			}
			ws := new(workspace)
			ws.ensure(ks)
			for total := 1; total <= 3*max(ks.mc, ks.nc); total++ {
				if rows := splitEven(total, ks.mc, ks.mr); rows*ks.kc > len(ws.a) {
					t.Fatalf("%s: a block of %d rows of A needs %d values, the workspace holds %d", ks.name, rows, rows*ks.kc, len(ws.a))
				}
				if cols := splitEven(total, ks.nc, ks.nr); cols*ks.kc > len(ws.b) {
					t.Fatalf("%s: a block of %d columns of B needs %d values, the workspace holds %d", ks.name, cols, cols*ks.kc, len(ws.b))
				}
			}
		}
	}
}

// SgemmNTRuns against the definition: B's rows are overlapping runs at
// arbitrary offsets, summed over several products, with odd row counts and
// partial column tiles, on every kernel set.
func TestSgemmNTRunsMatchesDefinition(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := rand.New(rand.NewSource(7))
		for _, tc := range []struct{ count, m, k, n int }{{1, 1, 1, 1}, {3, 6, 668, 25}, {5, 12, 92, 150}, {2, 7, 33, 6}} {
			lda, aStep, bStep := tc.k+3, (tc.m+1)*(tc.k+3), tc.k+40
			a := randSlice(r, (tc.count-1)*aStep+(tc.m-1)*lda+tc.k)
			b := randSlice(r, (tc.count-1)*bStep+tc.k+40)
			rows := make([]int, tc.n)
			for j := range rows {
				rows[j] = r.Intn(41)
			}
			ldc := tc.n + 2
			c := randSlice(r, tc.m*ldc)
			want := make([]float64, len(c))
			for i := 0; i < tc.m; i++ {
				for j := 0; j < ldc; j++ {
					want[i*ldc+j] = float64(c[i*ldc+j])
					if j >= tc.n {
						continue
					}
					for s := 0; s < tc.count; s++ {
						for p := 0; p < tc.k; p++ {
							want[i*ldc+j] += float64(a[s*aStep+i*lda+p]) * float64(b[s*bStep+rows[j]+p])
						}
					}
				}
			}
			SgemmNTRuns(tc.count, tc.m, tc.k, a, lda, aStep, b, bStep, rows, c, ldc)
			for i, w := range want {
				if math.Abs(float64(c[i])-w) > 1e-4*(1+math.Abs(w))*math.Sqrt(float64(tc.count*tc.k)) {
					t.Fatalf("%+v: C[%d] = %v, want %v", tc, i, c[i], w)
				}
			}
		}
		func() {
			// The second product's run, 4 values from 4 + 1, ends past b.
			defer func() {
				if e := recover(); e == nil || !strings.Contains(fmt.Sprint(e), "outside its buffer") {
					t.Errorf("a run past B: got panic %v", e)
				}
			}()
			SgemmNTRuns(2, 1, 4, make([]float32, 8), 4, 4, make([]float32, 8), 4, []int{1}, make([]float32, 1), 1)
		}()
	})
}
