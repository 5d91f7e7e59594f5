package nn

import (
	"math"
	"math/rand"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

func randTensor(r *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(r.NormFloat64())
	}
	return t
}

// projection is the scalar L = Σ w·f(x) whose gradient backward must match.
func projection(m Module, x *tensor.Tensor, w []float32) float64 {
	y := m.Forward(x)
	var s float64
	for i, v := range y.Data {
		s += float64(v) * float64(w[i])
	}
	return s
}

// checkGradients compares Backward with central differences for the input
// and every parameter.
func checkGradients(t *testing.T, m Module, x *tensor.Tensor) {
	t.Helper()
	r := rand.New(rand.NewSource(2))
	y := m.Forward(x)
	w := make([]float32, y.Len())
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	ZeroGrads(m)
	gy := tensor.FromData(append([]float32(nil), w...), y.Shape...)
	gx := m.Backward(x, gy).Clone()
	grads := map[*Param][]float32{}
	for _, p := range AllParams(m) {
		grads[p] = append([]float32(nil), p.Grad.Data...)
	}
	const eps = 1e-2
	check := func(what string, data []float32, analytic []float32) {
		for i := range data {
			old := data[i]
			data[i] = old + eps
			lp := projection(m, x, w)
			data[i] = old - eps
			lm := projection(m, x, w)
			data[i] = old
			num := (lp - lm) / (2 * eps)
			if d := math.Abs(num - float64(analytic[i])); d > 2e-2*(1+math.Abs(num)) {
				t.Fatalf("%s: %s[%d]: backward %v, finite difference %v", m, what, i, analytic[i], num)
			}
		}
	}
	check("input", x.Data, gx.Data)
	for _, p := range AllParams(m) {
		check(p.Name, p.Value.Data, grads[p])
	}
}

func mustNew(t testing.TB, class string, args map[string]any) Module {
	t.Helper()
	m, err := New(class, args)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGradients(t *testing.T) {
	rng.Global.Seed(1)
	r := rand.New(rand.NewSource(1))
	seq := NewSequential()
	seq.Add(NewLinear(4, 6, true))
	seq.Add(NewTanh())
	seq.Add(NewLinear(6, 3, true))
	seq.Add(NewLogSoftMax())
	cases := []struct {
		name string
		m    Module
		x    *tensor.Tensor
	}{
		{"Linear batch", NewLinear(5, 3, true), randTensor(r, 4, 5)},
		{"Linear 1-D", NewLinear(5, 3, true), randTensor(r, 5)},
		{"Linear no bias", NewLinear(5, 2, false), randTensor(r, 3, 5)},
		{"ReLU", NewReLU(false), randTensor(r, 3, 7)},
		{"Tanh", NewTanh(), randTensor(r, 3, 7)},
		{"Sigmoid", NewSigmoid(), randTensor(r, 3, 7)},
		{"SoftMax", NewSoftMax(), randTensor(r, 3, 7)},
		{"LogSoftMax", NewLogSoftMax(), randTensor(r, 3, 7)},
		{"LogSoftMax 1-D", NewLogSoftMax(), randTensor(r, 5)},
		{"Identity", mustNew(t, "Identity", nil), randTensor(r, 2, 3)},
		{"Dropout eval", func() Module { d := mustNew(t, "Dropout", nil); SetTraining(d, false); return d }(), randTensor(r, 2, 3)},
		{"Reshape", mustNew(t, "Reshape", map[string]any{"size": []any{3.0, 2.0}}), randTensor(r, 4, 6)},
		{"View", mustNew(t, "View", map[string]any{"sizes": []any{-1.0}, "num_input_dims": 2.0}), randTensor(r, 4, 2, 3)},
		{"Sequential", seq, randTensor(r, 5, 4)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGradients(t, c.m, c.x) })
	}
}

// Dropout in training mode is checked with its mask fixed: with the mask
// drawn in Forward, the layer is linear, so backward must equal mask·grad.
func TestDropoutTraining(t *testing.T) {
	rng.Global.Seed(3)
	d := mustNew(t, "Dropout", map[string]any{"init_p": 0.3})
	x := tensor.New(1000)
	for i := range x.Data {
		x.Data[i] = 1
	}
	y := d.Forward(x)
	zeros := 0
	for _, v := range y.Data {
		switch {
		case v == 0:
			zeros++
		case math.Abs(float64(v)-1/0.7) > 1e-6:
			t.Fatalf("survivor scaled to %v, want %v", v, 1/0.7)
		}
	}
	if zeros < 230 || zeros > 370 {
		t.Fatalf("dropped %d of 1000 at p=0.3", zeros)
	}
	g := d.Backward(x, x)
	for i := range g.Data {
		if g.Data[i] != y.Data[i] {
			t.Fatalf("gradient %d: %v, want %v", i, g.Data[i], y.Data[i])
		}
	}
}

func TestShapeErrorsNameTheLayer(t *testing.T) {
	l := NewLinear(5, 2, true)
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !contains(err.Error(), "Linear") || !contains(err.Error(), "(3, 7)") {
			t.Fatalf("want a shape error naming Linear and (3, 7), got %v", r)
		}
	}()
	l.Forward(tensor.New(3, 7))
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestFlattenKeepsValuesAndShares(t *testing.T) {
	seq := NewSequential()
	seq.Add(NewLinear(3, 4, true))
	seq.Add(NewLinear(4, 2, true))
	before := []float32{}
	for _, p := range AllParams(seq) {
		before = append(before, p.Value.Data...)
	}
	w, g := Flatten(seq)
	if len(w) != 3*4+4+4*2+2 || len(g) != len(w) {
		t.Fatalf("flat sizes %d %d", len(w), len(g))
	}
	for i := range w {
		if w[i] != before[i] {
			t.Fatalf("value %d moved: %v vs %v", i, w[i], before[i])
		}
	}
	w[0] = 42
	if AllParams(seq)[0].Value.Data[0] != 42 {
		t.Fatal("flat vector does not share storage with the layer")
	}
	w2, _ := Flatten(seq)
	if &w2[0] != &w[0] {
		t.Fatal("flattening twice reallocated")
	}
}

func TestRegistryErrorsNameArgument(t *testing.T) {
	_, err := New("Linear", map[string]any{"input_size": -3.0, "output_size": 2.0})
	if err == nil || !contains(err.Error(), "input_size") {
		t.Fatalf("want an error naming input_size, got %v", err)
	}
	_, err = New("NoSuchLayer", nil)
	if err == nil {
		t.Fatal("unknown class accepted")
	}
}

func TestViewAndReshapeShapes(t *testing.T) {
	r := mustNew(t, "Reshape", map[string]any{"size": []any{2.0, 3.0}})
	if got := r.Forward(tensor.New(6)).Shape; tensor.ShapeString(got) != "(2, 3)" {
		t.Fatalf("Reshape no batch: %v", got)
	}
	if got := r.Forward(tensor.New(5, 6)).Shape; tensor.ShapeString(got) != "(5, 2, 3)" {
		t.Fatalf("Reshape batch: %v", got)
	}
	v := mustNew(t, "View", map[string]any{"sizes": []any{2.0, -1.0}})
	if got := v.Forward(tensor.New(8)).Shape; tensor.ShapeString(got) != "(2, 4)" {
		t.Fatalf("View infer: %v", got)
	}
}

// Layers reuse their buffers: a forward and backward in steady state allocate nothing.
func TestLayersDoNotAllocate(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	seq := NewSequential()
	seq.Add(mustNew(t, "Reshape", map[string]any{"size": []any{12.0}}))
	seq.Add(mustNew(t, "View", map[string]any{"sizes": []any{-1.0}, "num_input_dims": 1.0}))
	seq.Add(NewLinear(12, 8, true))
	seq.Add(NewReLU(false))
	seq.Add(mustNew(t, "Dropout", nil))
	seq.Add(NewTanh())
	seq.Add(NewSigmoid())
	seq.Add(mustNew(t, "Identity", nil))
	seq.Add(NewSoftMax())
	seq.Add(NewLogSoftMax())
	x := randTensor(r, 5, 3, 4)
	gy := randTensor(r, 5, 8)
	step := func() {
		seq.Forward(x)
		seq.Backward(x, gy)
	}
	step()
	if a := testing.AllocsPerRun(20, step); a != 0 {
		t.Fatalf("%v allocations per forward+backward", a)
	}
}
