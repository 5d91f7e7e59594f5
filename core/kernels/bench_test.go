package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/mem"
)

// Benchmarks report GFLOP/s (2·m·n·k per call). Thread count follows -cpu
// (MaxThreads is set from GOMAXPROCS); the kernel set follows BIGDL_KERNELS.
// On one thread they also report GFLOP/s-cpu, per second of the thread's
// CPU time (Linux).
//
//	GOEXPERIMENT=simd go test -run - -bench Sgemm -cpu 1,2 ./core/kernels/

type benchShape struct {
	name           string
	transA, transB bool
	m, n, k        int
}

func benchShapes() []benchShape {
	var shapes []benchShape
	for _, n := range []int{64, 128, 256, 512, 1024, 2048} {
		shapes = append(shapes, benchShape{fmt.Sprintf("square/%d", n), false, false, n, n, n})
	}
	// A Linear(in, out) layer on a batch: forward y = x·Wᵀ, backward
	// gradIn = gy·W and gradW = gyᵀ·x (see core/nn/linear.go).
	for _, layer := range [][2]int{{784, 256}, {256, 256}, {256, 10}} {
		in, out := layer[0], layer[1]
		for _, batch := range []int{16, 64, 128, 512} {
			tag := fmt.Sprintf("%dx%d/batch=%d", in, out, batch)
			shapes = append(shapes,
				benchShape{"linear-fwd-NT/" + tag, false, true, batch, out, in},
				benchShape{"linear-gradIn-NN/" + tag, false, false, batch, in, out},
				benchShape{"linear-gradW-TN/" + tag, true, false, out, in, batch})
		}
	}
	return shapes
}

func BenchmarkSgemm(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	for _, s := range benchShapes() {
		b.Run(s.name, func(b *testing.B) {
			// Here, not in BenchmarkSgemm: -cpu sets GOMAXPROCS for each
			// sub-benchmark, after the parent has run.
			defer setThreadsForBench()()
			lda, ldb := s.k, s.n
			if s.transA {
				lda = s.m
			}
			if s.transB {
				ldb = s.k
			}
			x, y, c := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), mem.Floats(s.m*s.n)
			// On one thread the product runs on this goroutine's thread, so
			// its CPU time gives a rate per second on a CPU as well, which
			// tells kernels apart on a machine shared with other work.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			// One product outside the timer maps C's pages and grows the
			// packing buffers: a large product run once (b.N = 1) would
			// otherwise time the page faults of a new C as well.
			Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, x, lda, y, ldb, 0, c, s.n)
			cpu0, cpuOK := ThreadCPUTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, x, lda, y, ldb, 0, c, s.n)
			}
			flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu1, ok := ThreadCPUTime(); ok && cpuOK && MaxThreads() == 1 && cpu1 > cpu0 {
				b.ReportMetric(flops/(cpu1-cpu0).Seconds()/1e9, "GFLOP/s-cpu")
			}
		})
	}
}

func setThreadsForBench() (restore func()) {
	prev := MaxThreads()
	SetMaxThreads(runtime.GOMAXPROCS(0))
	return func() { SetMaxThreads(prev) }
}

// BenchmarkMicroKernel measures the active micro-kernel alone on panels
// that sit in L1 and L2, the ceiling for Sgemm.
func BenchmarkMicroKernel(b *testing.B) {
	ks := active
	k := ks.kc
	a, bp := alignedFloats(ks.mr*k), alignedFloats(ks.nr*k)
	c := alignedFloats(ks.mr * ks.nr)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ks.micro(k, &a[0], &bp[0], uintptr(ks.nr*4), &c[0], ks.nr, 0x3f800000)
	}
	b.ReportMetric(2*float64(ks.mr*ks.nr*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkVec(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	x, y := randSlice(r, 4096), randSlice(r, 4096)
	for name, f := range map[string]func(){
		"Axpy":         func() { Axpy(0.5, x, y) },
		"Dot":          func() { _ = Dot(x, y) },
		"ReLU":         func() { ReLU(y, x) },
		"ReLUBackward": func() { ReLUBackward(y, x, y) },
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(4096 * 4)
			for i := 0; i < b.N; i++ {
				f()
			}
		})
	}
}

// BenchmarkActivations sets each vector kernel (the set from BIGDL_KERNELS)
// beside a plain scalar loop in float64 math, written out inline (through a
// function value, math.Exp's loop ran 2.5× slower), on 4,096 values (16 KiB,
// in L1). Before the kernels the layers ran such loops through two closures.
//
//	GOEXPERIMENT=simd go test -run - -bench Activations ./core/kernels/
func BenchmarkActivations(b *testing.B) {
	const n = 4096
	r := rand.New(rand.NewSource(1))
	x, gy, w, y := randSlice(r, n), randSlice(r, n), randSlice(r, n), make([]float32, n)
	for i := range x {
		x[i] *= 4
	}
	hardTanh := Piecewise{Lo: -1, Hi: 1, Below: Line{0, -1}, Inside: Line{1, 0}, Above: Line{0, 1}, NaN: float32(math.NaN())}
	leaky := Piecewise{Below: Line{0.01, 0}, Inside: Line{0.01, 0}, Above: Line{1, 0}, NaN: float32(math.NaN())}
	for _, c := range []struct {
		name           string
		vector, scalar func()
	}{
		{"Exp", func() { Exp(y, x) }, func() {
			for i, v := range x {
				y[i] = float32(math.Exp(float64(v)))
			}
		}},
		{"Sigmoid", func() { Sigmoid(y, x) }, func() {
			for i, v := range x {
				y[i] = float32(1 / (1 + math.Exp(-float64(v))))
			}
		}},
		{"SigmoidBackward", func() { SigmoidBackward(y, gy, w) }, func() {
			for i, v := range w {
				y[i] = gy[i] * (v * (1 - v))
			}
		}},
		{"ELU", func() { ELU(y, x, 1) }, func() {
			for i, v := range x {
				if v > 0 {
					y[i] = v
				} else {
					y[i] = float32(math.Expm1(float64(v)))
				}
			}
		}},
		{"SoftPlus", func() { SoftPlus(y, x, 1, 20) }, func() {
			for i, v := range x {
				if v > 20 {
					y[i] = v
				} else {
					y[i] = float32(math.Log1p(math.Exp(float64(v))))
				}
			}
		}},
		{"SoftPlusBackward", func() { SoftPlusBackward(y, gy, x, 1, 20) }, func() {
			for i, v := range x {
				y[i] = gy[i] * float32(1/(1+math.Exp(-float64(v))))
			}
		}},
		{"LogSigmoid", func() { LogSigmoid(y, x) }, func() {
			for i, v := range x {
				y[i] = float32(-math.Log1p(math.Exp(-float64(v))))
			}
		}},
		{"HardTanh", func() { PiecewiseLinear(y, x, &hardTanh) }, func() {
			for i, v := range x {
				y[i] = float32(min(max(float64(v), -1), 1))
			}
		}},
		{"LeakyReLU", func() { PiecewiseLinear(y, x, &leaky) }, func() {
			for i, v := range x {
				if v > 0 {
					y[i] = v
				} else {
					y[i] = float32(0.01 * float64(v))
				}
			}
		}},
		{"CMul", func() { Mul(y, x, w) }, func() {
			for i, v := range x {
				y[i] = v * w[i]
			}
		}},
	} {
		for _, impl := range []struct {
			name string
			f    func()
		}{{"vector", c.vector}, {"scalar", c.scalar}} {
			b.Run(c.name+"/"+impl.name, func(b *testing.B) {
				b.SetBytes(n * 4)
				for i := 0; i < b.N; i++ {
					impl.f()
				}
			})
		}
	}
}

// BenchmarkSgemmLSTM times the products of one LSTM(28→128) training step
// over 28 steps at batch 64 (core/nn/cells.go), with their strides: the
// recurrent products of one step, forward (h_{t−1}·Uᵀ) and backward
// (dpre_t·U), and the weight gradient of the whole sequence.
func BenchmarkSgemmLSTM(b *testing.B) {
	const n, steps, in, h = 64, 28, 28, 128
	g, w, rows := 4*h, in+h, n*steps
	r := rand.New(rand.NewSource(1))
	hprev, dpre, u := randSlice(r, rows*h), randSlice(r, rows*g), randSlice(r, g*h)
	xh, pre, dh, gw := randSlice(r, rows*w), randSlice(r, rows*g), randSlice(r, n*h), randSlice(r, g*w)
	var uT, uN PackedB // U packed once per sequence, as op(B) = Uᵀ forward and U backward
	uT.Pack(true, n, g, h, u, h)
	uN.Pack(false, n, h, g, u, h)
	for _, c := range []struct {
		name     string
		m, nn, k int
		f        func()
	}{
		{"recur-NT", n, g, h, func() { Sgemm(false, true, n, g, h, 1, hprev[h:], steps*h, u, h, 1, pre[g:], steps*g) }},
		{"recurGrad-NN", n, h, g, func() { Sgemm(false, false, n, h, g, 1, dpre[g:], steps*g, u, h, 0, dh, h) }},
		{"recur-packedU", n, g, h, func() { SgemmPackedB(false, n, 1, hprev[h:], steps*h, &uT, 1, pre[g:], steps*g) }},
		{"recurGrad-packedU", n, h, g, func() { SgemmPackedB(false, n, 1, dpre[g:], steps*g, &uN, 0, dh, h) }},
		{"weightGrads-TN", g, w, rows, func() { Sgemm(true, false, g, w, rows, 1, dpre, g, xh, w, 0, gw, w) }},
		{"weightGradsT-TN", w, g, rows, func() { Sgemm(true, false, w, g, rows, 1, xh, w, dpre, g, 0, gw, g) }},
	} {
		b.Run(c.name, func(b *testing.B) {
			defer setThreadsForBench()()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c.f()
			cpu0, cpuOK := ThreadCPUTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c.f()
			}
			flops := 2 * float64(c.m*c.nn*c.k) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu1, ok := ThreadCPUTime(); ok && cpuOK && MaxThreads() == 1 && cpu1 > cpu0 {
				b.ReportMetric(flops/(cpu1-cpu0).Seconds()/1e9, "GFLOP/s-cpu")
			}
		})
	}
}
