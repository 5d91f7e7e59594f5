package kernels

import (
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// actLengths end in every kind of partial vector (8 and 16 lanes) and cross
// the 256-value chunks of the exp-based kernels.
var actLengths = []int{0, 1, 7, 15, 16, 17, 31, 33, 255, 257, 1000}

var (
	inf32 = float32(math.Inf(1))
	nan32 = float32(math.NaN())
)

// actCase is one kernel against its float64 definition. run writes the
// kernel's result for inputs x (and gradient gy) into dst; ref is the exact
// value at x, gy and the forward kernel's float32 output y (backward passes
// take it from there, as the layers do); rel bounds the relative error.
type actCase struct {
	name    string
	run     func(dst, x, gy, y []float32)
	forward func(dst, x []float32) // computes the y that run and ref read, if any
	ref     func(x, gy, y float64) float64
	rel     float64
	scale   float64 // inputs are N(0, scale²) with special values mixed in
}

func sigmoid64(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// beta·x, rounded to float32 as the kernels (and PyTorch's) compute it: the
// error of that rounding grows with |beta·x| and belongs to the input.
func betaX(x, beta float64) float64 { return float64(float32(beta) * float32(x)) }

func softplus64(x, beta, threshold float64) float64 {
	z := betaX(x, beta)
	if z > threshold {
		return x
	}
	return (math.Max(z, 0) + math.Log1p(math.Exp(-math.Abs(z)))) / beta
}

func softplusGrad64(x, gy, beta, threshold float64) float64 {
	z := betaX(x, beta)
	if z > threshold {
		return gy
	}
	return gy * sigmoid64(z)
}

func actCases() []actCase {
	elu := func(dst, x []float32) { ELU(dst, x, 0.7) }
	sig := func(dst, x []float32) { Sigmoid(dst, x) }
	cases := []actCase{
		{name: "Exp", scale: 40, rel: 1e-6,
			run: func(dst, x, _, _ []float32) { Exp(dst, x) },
			ref: func(x, _, _ float64) float64 { return math.Exp(x) }},
		{name: "Sigmoid", scale: 30, rel: 5e-7,
			run: func(dst, x, _, _ []float32) { Sigmoid(dst, x) },
			ref: func(x, _, _ float64) float64 { return sigmoid64(x) }},
		{name: "SigmoidBackward", scale: 5, rel: 4e-7, forward: sig,
			run: func(dst, _, gy, y []float32) { SigmoidBackward(dst, gy, y) },
			ref: func(_, gy, y float64) float64 { return gy * y * (1 - y) }},
		{name: "ELU", scale: 10, rel: 5e-7,
			run: func(dst, x, _, _ []float32) { ELU(dst, x, 0.7) },
			ref: func(x, _, _ float64) float64 {
				if x > 0 {
					return x
				}
				return 0.7 * math.Expm1(x)
			}},
		{name: "ELUBackward", scale: 3, rel: 4e-7, forward: elu,
			run: func(dst, x, gy, y []float32) { ELUBackward(dst, gy, x, y, 0.7) },
			ref: func(x, gy, y float64) float64 {
				if x > 0 {
					return gy
				}
				return gy * (y + float64(float32(0.7)))
			}},
		{name: "LogSigmoid", scale: 30, rel: 5e-7,
			run: func(dst, x, _, _ []float32) { LogSigmoid(dst, x) },
			ref: func(x, _, _ float64) float64 { return -softplus64(-x, 1, math.Inf(1)) }},
		{name: "LogSigmoidBackward", scale: 30, rel: 5e-7,
			run: func(dst, x, gy, _ []float32) { LogSigmoidBackward(dst, gy, x) },
			ref: func(x, gy, _ float64) float64 { return gy * sigmoid64(-x) }},
		{name: "Sqrt", scale: 10, rel: 6e-8,
			run: func(dst, x, _, _ []float32) { Sqrt(dst, x) },
			ref: func(x, _, _ float64) float64 { return math.Sqrt(x) }},
		{name: "SqrtBackward", scale: 10, rel: 6e-8, forward: Sqrt,
			run: func(dst, _, gy, y []float32) { SqrtBackward(dst, gy, y) },
			ref: func(_, gy, y float64) float64 { return gy / (2 * y) }},
		{name: "Log", scale: 10, rel: 2e-7,
			run: func(dst, x, _, _ []float32) { Log(dst, x) },
			ref: func(x, _, _ float64) float64 { return math.Log(x) }},
		{name: "DivBackward", scale: 10, rel: 6e-8,
			run: func(dst, x, gy, _ []float32) { Div(dst, gy, x) },
			ref: func(x, gy, _ float64) float64 { return gy / x }},
		{name: "SoftSign", scale: 10, rel: 3e-7,
			run: func(dst, x, _, _ []float32) { SoftSign(dst, x) },
			ref: func(x, _, _ float64) float64 { return x / (1 + math.Abs(x)) }},
		{name: "SoftSignBackward", scale: 10, rel: 5e-7,
			run: func(dst, x, gy, _ []float32) { SoftSignBackward(dst, gy, x) },
			ref: func(x, gy, _ float64) float64 { d := 1 + math.Abs(x); return gy / (d * d) }},
	}
	// SoftPlus with BigDL's cut-off at 20 and betas that move it about.
	for _, beta := range []float32{1, 0.5, 3, -1.5} {
		const rel = 5e-7
		cases = append(cases,
			actCase{name: "SoftPlus/beta=" + ftoa(beta), scale: 15, rel: rel,
				run: func(dst, x, _, _ []float32) { SoftPlus(dst, x, beta, 20) },
				ref: func(x, _, _ float64) float64 { return softplus64(x, float64(beta), 20) }},
			actCase{name: "SoftPlusBackward/beta=" + ftoa(beta), scale: 15, rel: rel,
				run: func(dst, x, gy, _ []float32) { SoftPlusBackward(dst, gy, x, beta, 20) },
				ref: func(x, gy, _ float64) float64 { return softplusGrad64(x, gy, float64(beta), 20) }})
	}
	for _, p := range piecewiseCases() {
		cases = append(cases,
			actCase{name: p.name, scale: 3, rel: 1.2e-7,
				run: func(dst, x, _, _ []float32) { PiecewiseLinear(dst, x, &p.f) },
				ref: func(x, _, _ float64) float64 { return p.ref(x) }},
			actCase{name: p.name + "Backward", scale: 3, rel: 1.2e-7,
				run: func(dst, x, gy, _ []float32) { PiecewiseBackward(dst, gy, x, &p.g) },
				ref: func(x, gy, _ float64) float64 { return gy * p.grad(x) }})
	}
	return cases
}

func ftoa(f float32) string { return strconv.FormatFloat(float64(f), 'g', -1, 32) }

// piecewiseCase is a layer's Piecewise form beside its definition.
type piecewiseCase struct {
	name string
	f    Piecewise
	g    PiecewiseGrad
	ref  func(x float64) float64
	grad func(x float64) float64
}

func step64(c bool) float64 {
	if c {
		return 1
	}
	return 0
}

func piecewiseCases() []piecewiseCase {
	isNaN := math.IsNaN
	clamp := func(name string, lo, hi float32) piecewiseCase {
		return piecewiseCase{name,
			Piecewise{Lo: lo, Hi: hi, Below: Line{0, lo}, Inside: Line{1, 0}, Above: Line{0, hi}, NaN: nan32},
			PiecewiseGrad{Lo: lo, Hi: hi, Inside: 1},
			func(x float64) float64 { return math.Min(math.Max(x, float64(lo)), float64(hi)) },
			func(x float64) float64 { return step64(x > float64(lo) && x < float64(hi)) }}
	}
	const th, v, neg, l = 0.25, -3, 0.1, 0.5
	ref := func(f func(x float64) float64, onNaN float64) func(float64) float64 {
		return func(x float64) float64 {
			if isNaN(x) {
				return onNaN
			}
			return f(x)
		}
	}
	return []piecewiseCase{
		clamp("ReLU6", 0, 6), clamp("HardTanh", -1, 1), clamp("Clamp", -0.3, 2),
		{"Threshold",
			Piecewise{Lo: th, Hi: th, Below: Line{0, v}, Inside: Line{0, v}, Above: Line{1, 0}, NaN: v},
			PiecewiseGrad{Lo: th, Hi: th, Above: 1},
			ref(func(x float64) float64 {
				if x > float64(float32(th)) {
					return x
				}
				return v
			}, v),
			func(x float64) float64 { return step64(x > th) }},
		{"LeakyReLU",
			Piecewise{Below: Line{neg, 0}, Inside: Line{neg, 0}, Above: Line{1, 0}, NaN: nan32},
			PiecewiseGrad{Below: neg, Ends: neg, Above: 1, NaN: neg},
			func(x float64) float64 {
				if x > 0 {
					return x
				}
				return float64(float32(neg)) * x
			},
			func(x float64) float64 {
				if x > 0 {
					return 1
				}
				return float64(float32(neg))
			}},
		{"Abs",
			Piecewise{Below: Line{-1, 0}, Above: Line{1, 0}, NaN: nan32},
			PiecewiseGrad{Below: -1, Above: 1},
			math.Abs,
			func(x float64) float64 { return step64(x > 0) - step64(x < 0) }},
		{"HardShrink",
			Piecewise{Lo: -l, Hi: l, Below: Line{1, 0}, Above: Line{1, 0}},
			PiecewiseGrad{Lo: -l, Hi: l, Below: 1, Above: 1},
			ref(func(x float64) float64 { return x * step64(x > l || x < -l) }, 0),
			func(x float64) float64 { return step64(x > l || x < -l) }},
		{"SoftShrink",
			Piecewise{Lo: -l, Hi: l, Below: Line{1, l}, Above: Line{1, -l}},
			PiecewiseGrad{Lo: -l, Hi: l, Below: 1, Above: 1},
			ref(func(x float64) float64 {
				switch {
				case x > l:
					return x - l
				case x < -l:
					return x + l
				}
				return 0
			}, 0),
			func(x float64) float64 { return step64(x > l || x < -l) }},
		{"HardSigmoid",
			// The bounds sit one float32 inside ±2.5, so that ±2.5 take the
			// constant pieces: 0.2·x + 0.5 rounds to ±7e-9 there, not 0 and 1.
			Piecewise{Lo: math.Nextafter32(-2.5, 0), Hi: math.Nextafter32(2.5, 0), Inside: Line{0.2, 0.5}, Above: Line{0, 1}, NaN: nan32},
			PiecewiseGrad{Lo: -2.5, Hi: 2.5, Ends: 0.2, Inside: 0.2},
			func(x float64) float64 { return math.Min(math.Max(float64(float32(0.2))*x+0.5, 0), 1) },
			func(x float64) float64 { return 0.2 * step64(x >= -2.5 && x <= 2.5) }},
		{"Affine",
			Piecewise{Lo: float32(math.Inf(-1)), Hi: inf32, Inside: Line{-1.5, 0.25}, NaN: nan32},
			PiecewiseGrad{Lo: float32(math.Inf(-1)), Hi: inf32, Inside: -1.5, Ends: -1.5, Below: -1.5, Above: -1.5, NaN: -1.5},
			func(x float64) float64 { return -1.5*x + 0.25 },
			func(float64) float64 { return -1.5 }},
	}
}

// actInputs is n values of N(0, scale²) with zeros, ±Inf, NaN and the
// edges of the float32 exponential mixed in.
func actInputs(r *rand.Rand, n int, scale float64) []float32 {
	specials := []float32{0, float32(math.Copysign(0, -1)), nan32, inf32, -inf32, 1e-30, -1e-30, 1e-5, -1e-5,
		88.72283, 88.72284, 89, -87.33654, -87.33655, -103.9720, -103.9721, -104, 20, 20.000002, -20,
		0.25, 0.5, -0.5, 2.5, -2.5, 6, -1, 1, -0.3, 2, math.MaxFloat32, -math.MaxFloat32}
	s := make([]float32, n)
	for i := range s {
		if r.Intn(4) == 0 {
			s[i] = specials[r.Intn(len(specials))]
		} else {
			s[i] = float32(r.NormFloat64() * scale)
		}
	}
	return s
}

// closeToRef reports whether got is ref within rel (relative), where a
// result below float32's normal range may also be a few subnormal steps off:
// each operation on one rounds to that coarse grid (Exp's sweep allows one).
func closeToRef(got float32, ref, rel float64) bool {
	return closeToRefSub(got, ref, rel, 4)
}

func closeToRefSub(got float32, ref, rel float64, steps float64) bool {
	want := float32(ref)
	switch {
	case math.IsNaN(ref):
		return got != got
	case math.IsInf(float64(want), 0) || want == 0 && ref == 0:
		return got == want
	}
	d := math.Abs(float64(got) - ref)
	return d <= rel*math.Abs(ref)+steps*0x1p-149
}

// Every activation kernel on every kernel set this CPU runs: against its
// float64 definition at every length, and the same bits when dst is the input.
func TestActivationKernels(t *testing.T) {
	for _, c := range actCases() {
		t.Run(c.name, func(t *testing.T) {
			forEachVecPath(t, func(t *testing.T) {
				r := rand.New(rand.NewSource(21))
				worst := 0.0
				for _, n := range actLengths {
					x := actInputs(r, n, c.scale)
					gy := randSlice(r, n)
					y := make([]float32, n)
					if c.forward != nil {
						c.forward(y, x)
					}
					dst := randSlice(r, n)
					c.run(dst, x, gy, y)
					for i := range dst {
						ref := c.ref(float64(x[i]), float64(gy[i]), float64(y[i]))
						if !closeToRef(dst[i], ref, c.rel) {
							t.Fatalf("n=%d: at x=%v (gy %v, y %v) got %v, want %v (relative error %.3g)",
								n, x[i], gy[i], y[i], dst[i], ref, math.Abs(float64(dst[i])-ref)/math.Abs(ref))
						}
						if w := math.Abs(float64(float32(ref))); w > 0x1p-126 && !math.IsInf(w, 0) {
							worst = math.Max(worst, math.Abs(float64(dst[i])-ref)/math.Abs(ref))
						}
					}
					// In place: the input (gradient for the backward passes) is the output.
					if strings.Contains(c.name, "Backward") {
						alias := append([]float32(nil), gy...)
						c.run(alias, x, alias, y)
						checkInPlace(t, n, alias, dst)
					} else {
						alias := append([]float32(nil), x...)
						c.run(alias, alias, gy, y)
						checkInPlace(t, n, alias, dst)
					}
				}
				t.Logf("largest relative error %.3g (bound %.3g)", worst, c.rel)
			})
		})
	}
}

func checkInPlace(t *testing.T, n int, inPlace, outOfPlace []float32) {
	t.Helper()
	if !bitsEqual(inPlace, outOfPlace) {
		t.Fatalf("n=%d: in place gives %v, out of place %v", n, inPlace, outOfPlace)
	}
}

// The exponential over the whole float32 line: a sweep of bit patterns
// (every 4093rd, both signs) through Exp on every set.
func TestExpSweep(t *testing.T) {
	var x []float32
	for b := uint32(0); b < 0x7f800000; b += 4093 {
		x = append(x, math.Float32frombits(b), -math.Float32frombits(b))
	}
	sweep(t, x, Exp, math.Exp, 1e-6, 1)
}

// sweep checks kernel against ref at every x on every set, subnormal
// results within steps subnormal steps, and logs the largest relative error.
func sweep(t *testing.T, x []float32, kernel func(dst, src []float32), ref func(float64) float64, rel, steps float64) {
	forEachVecPath(t, func(t *testing.T) {
		y := make([]float32, len(x))
		kernel(y, x)
		worst := 0.0
		for i, v := range x {
			want := ref(float64(v))
			if !closeToRefSub(y[i], want, rel, steps) {
				t.Fatalf("at %v: got %v, want %v (relative error %.3g)", v, y[i], want, math.Abs(float64(y[i])-want)/math.Abs(want))
			}
			if w := math.Abs(float64(float32(want))); w > 0x1p-126 && !math.IsInf(w, 0) {
				worst = math.Max(worst, math.Abs(float64(y[i])-want)/w)
			}
		}
		t.Logf("%d values, largest relative error %.3g", len(x), worst)
	})
}

func TestActivationLengthMismatchPanics(t *testing.T) {
	a, b := make([]float32, 3), make([]float32, 4)
	p, g := &Piecewise{}, &PiecewiseGrad{}
	for name, f := range map[string]func(){
		"Exp":               func() { Exp(a, b) },
		"Sigmoid":           func() { Sigmoid(a, b) },
		"SigmoidBackward":   func() { SigmoidBackward(a, a, b) },
		"ELU":               func() { ELU(a, b, 1) },
		"ELUBackward":       func() { ELUBackward(a, a, a, b, 1) },
		"SoftPlus":          func() { SoftPlus(a, b, 1, 20) },
		"SoftPlusBackward":  func() { SoftPlusBackward(a, b, a, 1, 20) },
		"SoftSign":          func() { SoftSign(a, b) },
		"SoftSignBackward":  func() { SoftSignBackward(a, a, b) },
		"Sqrt":              func() { Sqrt(a, b) },
		"Log":               func() { Log(a, b) },
		"Div":               func() { Div(a, a, b) },
		"SqrtBackward":      func() { SqrtBackward(a, b, a) },
		"PiecewiseLinear":   func() { PiecewiseLinear(a, b, p) },
		"PiecewiseBackward": func() { PiecewiseBackward(a, b, a, g) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic on slices of 3 and 4 values", name)
				}
			}()
			f()
		}()
	}
}

func TestActivationsAllocateNothing(t *testing.T) {
	r := rand.New(rand.NewSource(22))
	x, gy, y := randSlice(r, 600), randSlice(r, 600), make([]float32, 600)
	p := &piecewiseCases()[0]
	forEachVecPath(t, func(t *testing.T) {
		allocs := testing.AllocsPerRun(10, func() {
			Sigmoid(y, x)
			SigmoidBackward(y, gy, y)
			ELU(y, x, 1)
			SoftPlus(y, x, 1, 20)
			SoftPlusBackward(y, gy, x, 1, 20)
			LogSigmoid(y, x)
			Log(y, x)
			PiecewiseLinear(y, x, &p.f)
			PiecewiseBackward(y, gy, x, &p.g)
		})
		if allocs != 0 {
			t.Errorf("activation kernels allocated %v times per round", allocs)
		}
	})
}

// The logarithm over every binade, subnormals included: a sweep of bit
// patterns (every 4093rd positive float32) through Log on every set.
func TestLogSweep(t *testing.T) {
	var x []float32
	for b := uint32(1); b < 0x7f800000; b += 4093 {
		x = append(x, math.Float32frombits(b))
	}
	x = append(x, 1, math.Nextafter32(1, 0), math.Nextafter32(1, 2), math.MaxFloat32)
	sweep(t, x, Log, math.Log, 2e-7, 0)
}
