package nn

import (
	"math"
	"math/rand"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/rng"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// part4Layers builds one of every layer of elementwise.go, activation2.go
// and simple.go with arguments that suit a (5, 6) input.
func part4Layers(t *testing.T) []Module {
	args := map[string]map[string]any{
		"Clamp": {"min": -0.5, "max": 0.5}, "Power": {"power": 2.0}, "MulConstant": {"scalar": 2.0},
		"AddConstant": {"constant_scalar": 1.0}, "Normalize": {"p": 2.0}, "GaussianDropout": {"rate": 0.3},
		"GaussianNoise": {"stddev": 0.3},
	}
	var ms []Module
	for _, r := range elementwiseRows {
		ms = append(ms, mustNew(t, r.class, args[r.class]))
	}
	args["CMul"] = map[string]any{"size": []any{1.0, 6.0}}
	args["CAdd"] = map[string]any{"size": []any{6.0}}
	args["Scale"] = map[string]any{"size": []any{5.0, 1.0}}
	args["Add"] = map[string]any{"input_size": 6.0}
	args["SReLU"] = map[string]any{"input_shape": []any{6.0}}
	args["Maxout"] = map[string]any{"input_size": 6.0, "output_size": 3.0, "maxout_number": 2.0}
	args["Highway"] = map[string]any{"size": 6.0, "activation": map[string]any{"class": "Tanh", "config": map[string]any{}}}
	args["Cosine"] = map[string]any{"input_size": 6.0, "output_size": 3.0}
	args["Euclidean"] = map[string]any{"input_size": 6.0, "output_size": 3.0}
	for _, c := range []string{"PReLU", "RReLU", "SoftMin", "Normalize", "Masking", "GaussianDropout", "GaussianNoise",
		"CMul", "CAdd", "Scale", "Add", "Mul", "Cosine", "Euclidean", "Maxout", "Highway", "SReLU"} {
		ms = append(ms, mustNew(t, c, args[c]))
	}
	return ms
}

// On the training path these layers allocate nothing once their buffers
// exist, in training and in evaluation mode.
func TestPart4LayersAllocateNothing(t *testing.T) {
	r0 := rand.New(rand.NewSource(4))
	pairs := []struct {
		m Module
		x *tensor.Tensor
	}{
		{NewBilinear(6, 4, 3, true), table(randTensor(r0, 5, 6), randTensor(r0, 5, 4))},
		{mustNew(t, "MM", map[string]any{"trans_b": true}), table(randTensor(r0, 2, 5, 3), randTensor(r0, 2, 4, 3))},
		{mustNew(t, "MV", nil), table(randTensor(r0, 5, 3), randTensor(r0, 3))},
		{mustNew(t, "DotProduct", nil), table(randTensor(r0, 5, 3), randTensor(r0, 5, 3))},
		{mustNew(t, "CosineDistance", nil), table(randTensor(r0, 5, 3), randTensor(r0, 5, 3))},
		{mustNew(t, "PairwiseDistance", map[string]any{"norm": 3.0}), table(randTensor(r0, 5, 3), randTensor(r0, 5, 3))},
	}
	for _, p := range pairs {
		gy := randTensor(r0, Forward(p.m, p.x).Shape...)
		SetGradsOverwritten(p.m, true)
		step := func() {
			Forward(p.m, p.x)
			Backward(p.m, p.x, gy)
		}
		step()
		if a := testing.AllocsPerRun(10, step); a != 0 {
			t.Errorf("%s: %v allocations per forward+backward", p.m.String(), a)
		}
	}
	r := rand.New(rand.NewSource(3))
	x := randTensor(r, 5, 6)
	for _, m := range part4Layers(t) {
		gy := randTensor(r, Forward(m, x).Shape...)
		for _, training := range []bool{true, false} {
			SetTraining(m, training)
			SetGradsOverwritten(m, true)
			step := func() {
				Forward(m, x)
				Backward(m, x, gy)
			}
			step()
			if a := testing.AllocsPerRun(10, step); a != 0 {
				t.Errorf("%s (training %v): %v allocations per forward+backward", m.String(), training, a)
			}
		}
	}
}

// The vector kernels of the hot rows compute what their rows' f and df
// define, on every kernel set, at the kinks, at ±Inf and NaN, and on lengths
// that run whole vectors and partial ones (the PyTorch references check the
// rows themselves).
func TestFastSlicesMatchTheirRows(t *testing.T) {
	args := map[string]map[string]any{
		"LeakyReLU": {"negval": 0.1}, "ReLU6": nil, "HardTanh": {"min_value": -0.5, "max_value": 2.0},
		"Clamp": {"min": -1.0, "max": 0.5}, "MulConstant": {"scalar": -1.5}, "AddConstant": {"constant_scalar": 0.25},
		"Negative": nil, "Square": nil, "Threshold": {"th": 0.25, "v": -2.0}, "BinaryThreshold": {"th": -0.5},
		"HardShrink": {"the_lambda": 0.5}, "SoftShrink": {"the_lambda": 0.25}, "HardSigmoid": nil, "Abs": nil,
		"GradientReversal": {"the_lambda": 0.5}, "ELU": {"alpha": 0.7}, "SoftPlus": {"beta": 2.0},
		"LogSigmoid": nil, "SoftSign": nil, "Exp": nil, "Sqrt": nil, "Identity": nil, "Log": nil,
	}
	kinks := []float32{-7, -6, -2.5, -2, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 2, 2.5, 6, 7, 10, 10.5, -80, 80, 200,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), float32(math.Copysign(0, -1))}
	r := rand.New(rand.NewSource(9))
	x := append([]float32{}, kinks...)
	for len(x) < 77 {
		x = append(x, float32(r.NormFloat64()*4))
	}
	gy := make([]float32, len(x))
	for i := range gy {
		gy[i] = float32(r.NormFloat64())
	}
	close := func(got, want float32) bool {
		if got != got || want != want {
			return got != got && want != want
		}
		return got == want || math.Abs(float64(got-want)) <= 1e-6*math.Abs(float64(want))+1e-7
	}
	layers := map[string]Module{"Sigmoid": NewSigmoid()}
	for class, a := range args {
		layers[class] = mustNew(t, class, a)
	}
	for _, set := range kernels.Available() {
		restore, err := kernels.Force(set)
		if err != nil {
			t.Fatal(err)
		}
		for class, m := range layers {
			fast, ok := m.(fastElementwise)
			if !ok {
				t.Fatalf("%s: not on the vector kernels", class)
			}
			slow := fast.elementwise
			for _, n := range []int{len(x), 17, 5} {
				in, g := &tensor.Tensor{Shape: []int{n}, Data: x[:n]}, &tensor.Tensor{Shape: []int{n}, Data: gy[:n]}
				yf := append([]float32{}, fast.Forward(in).Data...)
				gf := append([]float32{}, fast.Backward(in, g).Data...)
				ys, gs := slow.Forward(in).Data, slow.Backward(in, g).Data
				for i := range yf {
					if !close(yf[i], ys[i]) || !close(gf[i], gs[i]) {
						t.Errorf("%s, kernels %s, at x=%v: vector kernels give (%v, %v), the row (%v, %v)",
							class, set, x[i], yf[i], gf[i], ys[i], gs[i])
					}
				}
			}
		}
		restore()
	}
}

// CMul, CAdd, Scale, Mul and Add run their broadcast products in stretches
// on the vector kernels (paramRun); here each is checked against the plain
// element loop of BigDL's expandAs on shapes that cut into flat runs
// (a weight per channel), consecutive runs (a weight per feature, over a
// batch), runs with offsets, and a single run, on every kernel set.
func TestBroadcastRunsMatchElementLoop(t *testing.T) {
	cases := []struct {
		class string
		args  map[string]any
		size  []int // the parameters' shape
		in    []int
		runs  int
	}{
		{"CMul", map[string]any{"size": []any{1.0, 6.0}}, []int{1, 6}, []int{5, 6}, 5},
		{"CMul", map[string]any{"size": []any{3.0, 1.0, 1.0}}, []int{3, 1, 1}, []int{2, 3, 4, 5}, 6},
		{"CAdd", map[string]any{"size": []any{6.0}}, []int{6}, []int{5, 6}, 5},
		{"CAdd", map[string]any{"size": []any{3.0, 1.0, 1.0}}, []int{3, 1, 1}, []int{2, 3, 4, 5}, 6},
		{"Scale", map[string]any{"size": []any{2.0, 1.0, 17.0}}, []int{2, 1, 17}, []int{3, 2, 5, 17}, 27}, // 30 rows, 3 pairs of which continue one another
		{"Scale", map[string]any{"size": []any{5.0, 6.0}}, []int{5, 6}, []int{5, 6}, 1},
		{"Mul", nil, []int{1}, []int{4, 37}, 1},
		{"Add", map[string]any{"input_size": 33.0}, []int{33}, []int{3, 33}, 3},
	}
	r := rand.New(rand.NewSource(31))
	for _, set := range kernels.Available() {
		restore, err := kernels.Force(set)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			m := mustNew(t, c.class, c.args).(*broadcast)
			SetGradsOverwritten(m, true)
			x, gy := randTensor(r, c.in...), randTensor(r, c.in...)
			y := m.Forward(x)
			g := m.Backward(x, gy)
			if len(m.runs) != c.runs {
				t.Fatalf("%s%v on %v: %d runs, want %d", c.class, c.size, c.in, len(m.runs), c.runs)
			}
			// k is the parameter element of input element i.
			k := func(i int) int {
				pad := make([]int, len(c.in))
				for d := range pad {
					pad[d] = 1
				}
				copy(pad[len(c.in)-len(c.size):], c.size)
				idx, stride := 0, 1
				for d := len(c.in) - 1; d >= 0; d-- {
					if pad[d] != 1 {
						idx += (i % c.in[d]) * stride
					}
					i /= c.in[d]
					stride *= pad[d]
				}
				return idx
			}
			var gw, gb []float64
			if m.Weight != nil {
				gw = make([]float64, m.Weight.Value.Len())
			}
			if m.Bias != nil {
				gb = make([]float64, m.Bias.Value.Len())
			}
			for i, v := range x.Data {
				want, wantG := float64(v), float64(gy.Data[i])
				if m.Weight != nil {
					w := float64(m.Weight.Value.Data[k(i)])
					want *= w
					wantG *= w
					gw[k(i)] += float64(gy.Data[i]) * float64(v)
				}
				if m.Bias != nil {
					want += float64(m.Bias.Value.Data[k(i)])
					gb[k(i)] += float64(gy.Data[i])
				}
				if math.Abs(float64(y.Data[i])-want) > 1e-6*(1+math.Abs(want)) || math.Abs(float64(g.Data[i])-wantG) > 1e-6*(1+math.Abs(wantG)) {
					t.Fatalf("%s%v on %v, kernels %s: element %d gives (%v, %v), want (%v, %v)",
						c.class, c.size, c.in, set, i, y.Data[i], g.Data[i], want, wantG)
				}
			}
			for j, want := range gw {
				if math.Abs(float64(m.Weight.Grad.Data[j])-want) > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("%s%v on %v, kernels %s: weight gradient %d is %v, want %v", c.class, c.size, c.in, set, j, m.Weight.Grad.Data[j], want)
				}
			}
			for j, want := range gb {
				if math.Abs(float64(m.Bias.Grad.Data[j])-want) > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("%s%v on %v, kernels %s: bias gradient %d is %v, want %v", c.class, c.size, c.in, set, j, m.Bias.Grad.Data[j], want)
				}
			}
		}
		restore()
	}
}

// PReLU runs plane by plane on the vector kernels where a slope covers a
// plane (a shared slope, or an image's pixels per channel) and as a loop
// where the slope changes at every feature; both against the definition,
// zeros and NaN included, on every kernel set, allocating nothing.
func TestPReLUPlanesMatchDefinition(t *testing.T) {
	cases := []struct {
		n  int
		in []int
	}{{0, []int{5, 6}}, {3, []int{2, 3, 4, 5}}, {3, []int{3, 17, 1}}, {4, []int{5, 4}}}
	r := rand.New(rand.NewSource(33))
	for _, set := range kernels.Available() {
		restore, err := kernels.Force(set)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			p := NewPReLU(c.n)
			for i := range p.Weight.Value.Data {
				p.Weight.Value.Data[i] = float32(r.NormFloat64())
			}
			SetGradsOverwritten(p, true)
			x, gy := randTensor(r, c.in...), randTensor(r, c.in...)
			x.Data[0], x.Data[1], x.Data[len(x.Data)-1] = 0, float32(math.Copysign(0, -1)), float32(math.NaN())
			y, g := p.Forward(x), p.Backward(x, gy)
			ch, inner := p.planes(x)
			gw := make([]float64, len(p.Weight.Value.Data))
			for i, v := range x.Data {
				k := (i / inner) % ch
				w := p.Weight.Value.Data[k]
				want, wantG := v, gy.Data[i]
				if !(v > 0) {
					want, wantG = w*v, w*gy.Data[i]
					gw[k] += float64(v) * float64(gy.Data[i])
				}
				if !(y.Data[i] == want || y.Data[i] != y.Data[i] && want != want) || g.Data[i] != wantG {
					t.Fatalf("PReLU(%d) on %v, kernels %s: element %d (x %v) gives (%v, %v), want (%v, %v)",
						c.n, c.in, set, i, v, y.Data[i], g.Data[i], want, wantG)
				}
			}
			for k, want := range gw {
				got := float64(p.Weight.Grad.Data[k])
				if !(math.Abs(got-want) <= 1e-5*(1+math.Abs(want)) || math.IsNaN(got) && math.IsNaN(want)) {
					t.Fatalf("PReLU(%d) on %v, kernels %s: slope gradient %d is %v, want %v", c.n, c.in, set, k, got, want)
				}
			}
			if allocs := testing.AllocsPerRun(5, func() { p.Forward(x); p.Backward(x, gy) }); allocs != 0 {
				t.Errorf("PReLU(%d) on %v, kernels %s: %v allocations a step", c.n, c.in, set, allocs)
			}
		}
		restore()
	}
}

// RReLU in evaluation mode is x·(lower+upper)/2 where x ≤ 0 and x elsewhere
// (NaN too), on the vector kernels of every set; training multiplies by the
// slopes it drew, and the gradient by the same slopes.
func TestRReLUEvaluationOnKernels(t *testing.T) {
	r := rand.New(rand.NewSource(35))
	x, gy := randTensor(r, 3, 13), randTensor(r, 3, 13)
	x.Data[0], x.Data[1], x.Data[2] = 0, float32(math.Copysign(0, -1)), float32(math.NaN())
	for _, set := range kernels.Available() {
		restore, err := kernels.Force(set)
		if err != nil {
			t.Fatal(err)
		}
		for _, training := range []bool{false, true} {
			m := mustNew(t, "RReLU", map[string]any{"lower": 0.1, "upper": 0.3}).(*RReLU)
			m.UseRNG(rng.New(7))
			SetTraining(m, training)
			y, g := m.Forward(x), m.Backward(x, gy)
			for i, v := range x.Data {
				slope := float32(1)
				if v <= 0 {
					slope = float32((0.1 + 0.3) / 2)
					if training {
						slope = m.noise[i]
						if slope < 0.1 || slope > 0.3 {
							t.Fatalf("kernels %s: drawn slope %v outside [0.1, 0.3]", set, slope)
						}
					}
				}
				want := v * slope
				if !(y.Data[i] == want || want != want && y.Data[i] != y.Data[i]) || g.Data[i] != gy.Data[i]*slope {
					t.Fatalf("kernels %s, training %v: x=%v gives (%v, %v), want (%v, %v)",
						set, training, v, y.Data[i], g.Data[i], want, gy.Data[i]*slope)
				}
			}
		}
		restore()
	}
}
