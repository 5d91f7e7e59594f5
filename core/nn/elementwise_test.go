package nn

import (
	"math/rand"
	"testing"

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

// The slice loops of the hot rows compute what their rows' f and df define,
// at the kinks too (the PyTorch references check the rows themselves).
func TestFastSlicesMatchTheirRows(t *testing.T) {
	args := map[string]map[string]any{
		"LeakyReLU": {"negval": 0.1}, "ReLU6": nil, "HardTanh": {"min_value": -0.5, "max_value": 2.0},
		"Clamp": {"min": -1.0, "max": 0.5}, "MulConstant": {"scalar": -1.5}, "AddConstant": {"constant_scalar": 0.25},
		"Negative": nil, "Square": nil,
	}
	x := []float32{-7, -6, -2, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 2, 6, 7}
	gy := make([]float32, len(x))
	for i := range gy {
		gy[i] = float32(i) - 3.5
	}
	in, g := &tensor.Tensor{Shape: []int{len(x)}, Data: x}, &tensor.Tensor{Shape: []int{len(x)}, Data: gy}
	for class, a := range args {
		m := mustNew(t, class, a)
		fast, ok := m.(fastElementwise)
		if !ok {
			t.Fatalf("%s: not on the slice loops", class)
		}
		slow := fast.elementwise
		yf := append([]float32{}, fast.Forward(in).Data...)
		gf := append([]float32{}, fast.Backward(in, g).Data...)
		ys, gs := slow.Forward(in).Data, slow.Backward(in, g).Data
		for i := range x {
			if yf[i] != ys[i] || gf[i] != gs[i] {
				t.Errorf("%s at x=%v: slices give (%v, %v), the row (%v, %v)", class, x[i], yf[i], gf[i], ys[i], gs[i])
			}
		}
	}
}
