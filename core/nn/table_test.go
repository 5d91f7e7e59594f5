package nn

import (
	"math"
	"math/rand"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// flatValues lists every value of an activity, leaves in order.
func flatValues(a *tensor.Tensor) [][]float32 {
	var out [][]float32
	for _, l := range a.Leaves() {
		out = append(out, l.Data)
	}
	return out
}

// checkTableGradients is checkGradients for activities that may be tables:
// Backward against central differences of Σ w·f(x) for every input value.
func checkTableGradients(t *testing.T, m Module, x *tensor.Tensor) {
	t.Helper()
	r := rand.New(rand.NewSource(3))
	y := Forward(m, x).Clone()
	gy := y.Clone()
	for _, l := range gy.Leaves() {
		for i := range l.Data {
			l.Data[i] = float32(r.NormFloat64())
		}
	}
	proj := func() float64 {
		var s float64
		out := Forward(m, x)
		for k, l := range out.Leaves() {
			for i, v := range l.Data {
				s += float64(v) * float64(gy.Leaves()[k].Data[i])
			}
		}
		return s
	}
	Forward(m, x)
	gx := Backward(m, x, gy).Clone()
	const eps = 1e-2
	analytic := flatValues(gx)
	for k, data := range flatValues(x) {
		for i := range data {
			old := data[i]
			data[i] = old + eps
			lp := proj()
			data[i] = old - eps
			lm := proj()
			data[i] = old
			num := (lp - lm) / (2 * eps)
			if d := math.Abs(num - float64(analytic[k][i])); d > 2e-2*(1+math.Abs(num)) {
				t.Fatalf("%s: input %d[%d]: backward %v, finite difference %v", m, k, i, analytic[k][i], num)
			}
		}
	}
}

func table(ts ...*tensor.Tensor) *tensor.Tensor { return tensor.NewTable(ts...) }

func TestTableGradients(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	two := func() *tensor.Tensor { return table(randTensor(r, 3, 4), randTensor(r, 3, 4)) }
	ct := mustNew(t, "ConcatTable", nil).(Container)
	ct.Add(NewLinear(4, 2, true))
	ct.Add(NewTanh())
	pt := mustNew(t, "ParallelTable", nil).(Container)
	pt.Add(NewLinear(4, 2, true))
	pt.Add(NewSigmoid())
	cat := mustNew(t, "Concat", map[string]any{"dimension": 2.0}).(Container)
	cat.Add(NewLinear(4, 2, true))
	cat.Add(NewTanh())
	cases := []struct {
		name string
		m    Module
		x    *tensor.Tensor
	}{
		{"ConcatTable", ct, randTensor(r, 3, 4)},
		{"ParallelTable", pt, two()},
		{"Concat", cat, randTensor(r, 3, 4)},
		{"JoinTable", mustNew(t, "JoinTable", map[string]any{"dimension": 1.0, "n_input_dims": 1.0}), table(randTensor(r, 3, 4), randTensor(r, 3, 2))},
		{"CMulTable", mustNew(t, "CMulTable", nil), table(randTensor(r, 2, 3), randTensor(r, 2, 3), randTensor(r, 2, 3))},
		{"CDivTable", mustNew(t, "CDivTable", nil), table(randTensor(r, 2, 3), tensor.FromData([]float32{2, 3, -2, 4, 1.5, -3}, 2, 3))},
		{"SelectTable nested", mustNew(t, "SelectTable", map[string]any{"index": -1.0}), table(randTensor(r, 2), table(randTensor(r, 3), randTensor(r, 1)))},
		{"FlattenTable", mustNew(t, "FlattenTable", nil), table(randTensor(r, 2), table(randTensor(r, 3), randTensor(r, 1)))},
		{"SplitTable", mustNew(t, "SplitTable", map[string]any{"dimension": 2.0}), randTensor(r, 3, 4)},
		{"Pack", mustNew(t, "Pack", map[string]any{"dimension": 2.0}), two()},
		{"Transpose", mustNew(t, "Transpose", map[string]any{"permutations": []any{1.0, 3.0, 2.0, 3.0}}), randTensor(r, 2, 3, 4)},
		{"Padding", mustNew(t, "Padding", map[string]any{"dim": 1.0, "pad": -2.0, "n_input_dim": 1.0, "n_index": 2.0}), randTensor(r, 3, 4)},
		{"Replicate", mustNew(t, "Replicate", map[string]any{"n_features": 3.0, "dim": 2.0}), randTensor(r, 2, 4)},
		{"Tile", mustNew(t, "Tile", map[string]any{"dim": 2.0, "copies": 3.0}), randTensor(r, 2, 4)},
		{"Sum", mustNew(t, "Sum", map[string]any{"dimension": 2.0}), randTensor(r, 2, 4, 3)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkTableGradients(t, c.m, c.x) })
	}
}

// Table layers reuse their output tables and buffers like tensor layers.
func TestTableLayersDoNotAllocate(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	ct := mustNew(t, "ConcatTable", nil).(Container)
	ct.Add(NewLinear(4, 3, true))
	ct.Add(NewLinear(4, 3, true))
	seq := NewSequential()
	seq.Add(ct)
	seq.Add(mustNew(t, "CAddTable", nil))
	seq.Add(mustNew(t, "SplitTable", map[string]any{"dimension": 2.0}))
	seq.Add(mustNew(t, "NarrowTable", map[string]any{"offset": 1.0, "length": 2.0}))
	seq.Add(mustNew(t, "Pack", map[string]any{"dimension": 2.0}))
	seq.Add(mustNew(t, "Unsqueeze", map[string]any{"pos": 1.0, "num_input_dims": 1.0}))
	seq.Add(mustNew(t, "Transpose", map[string]any{"permutations": []any{2.0, 3.0}}))
	seq.Add(mustNew(t, "Max", map[string]any{"dim": 2.0}))
	x := randTensor(r, 5, 4)
	gy := randTensor(r, 5, 1)
	step := func() {
		Forward(seq, x)
		Backward(seq, x, gy)
	}
	step()
	if a := testing.AllocsPerRun(20, step); a != 0 {
		t.Fatalf("%v allocations per forward+backward", a)
	}
}

func TestTableErrorsNameLayerAndShapes(t *testing.T) {
	cases := []struct {
		m     Module
		x     *tensor.Tensor
		words []string
	}{
		{mustNew(t, "JoinTable", map[string]any{"dimension": 2.0, "n_input_dims": 2.0}), table(tensor.New(2, 3), tensor.New(3, 3)), []string{"JoinTable", "(2, 3)", "(3, 3)"}},
		{mustNew(t, "CSubTable", nil), table(tensor.New(2), tensor.New(2), tensor.New(2)), []string{"CSubTable", "2 elements", "3"}},
		{mustNew(t, "Select", map[string]any{"dim": 1.0, "index": 4.0}), tensor.New(3, 2), []string{"Select", "index 4", "(3, 2)"}},
		{NewLinear(3, 2, true), table(tensor.New(3)), []string{"Linear", "table", "(3,)"}},
	}
	for _, c := range cases {
		func() {
			defer func() {
				err, _ := recover().(error)
				for _, w := range c.words {
					if err == nil || !contains(err.Error(), w) {
						t.Errorf("%s: want an error containing %q, got %v", c.m, w, err)
					}
				}
			}()
			Forward(c.m, c.x)
		}()
	}
}

// A graph's steps reuse every node's buffers: no allocation once warmed up,
// with the training loop's flags set as well.
func TestGraphDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	in1, in2 := mustNew(t, "Input", nil), mustNew(t, "Input", nil)
	l1, l2 := NewLinear(3, 4, true), NewLinear(2, 4, true)
	add, tanh, sig := mustNew(t, "CAddTable", nil), NewTanh(), NewSigmoid()
	// Nodes: 0 in1, 1 in2, 2 l1(in1), 3 l2(in2), 4 add(l1, l2), 5 tanh(add), 6 sigmoid(l1).
	g, err := NewGraph([]Module{in1, in2, l1, l2, add, tanh, sig},
		[][]int{{}, {}, {0}, {1}, {2, 3}, {4}, {2}}, []int{0, 1}, []int{5, 6}, nil)
	if err != nil {
		t.Fatal(err)
	}
	x := table(randTensor(r, 5, 3), randTensor(r, 5, 2))
	gy := table(randTensor(r, 5, 4), randTensor(r, 5, 4))
	checkTableGradients(t, g, x)
	for _, training := range []bool{false, true} {
		SetInputGradUnused(g, training)
		SetGradsOverwritten(g, training)
		step := func() {
			Forward(g, x)
			Backward(g, x, gy)
		}
		step()
		if a := testing.AllocsPerRun(20, step); a != 0 {
			t.Fatalf("training flags %v: %v allocations per forward+backward", training, a)
		}
	}
}

func TestGraphBuildErrorsNameTheNode(t *testing.T) {
	lin := NewLinear(2, 2, true)
	lin.SetName("lonely")
	in := mustNew(t, "Input", nil)
	_, err := NewGraph([]Module{in, lin, NewTanh()}, [][]int{{}, {}, {1}}, []int{0}, []int{2}, nil)
	if err == nil || !contains(err.Error(), "lonely") {
		t.Fatalf("want an error naming the unreachable node, got %v", err)
	}
	in2 := mustNew(t, "Input", nil)
	in2.Meta().SetName("spare")
	_, err = NewGraph([]Module{mustNew(t, "Input", nil), in2, NewTanh()}, [][]int{{}, {}, {0}}, []int{0, 1}, []int{2}, nil)
	if err == nil || !contains(err.Error(), "spare") || !contains(err.Error(), "no path to an output") {
		t.Fatalf("want an error naming the input with no path to an output, got %v", err)
	}
}

// MapTable's replicas add their parameter gradients into the module's, the
// same whether the trainer overwrites gradients or BigDL's Backward
// accumulates them, with nothing allocated once the replicas exist.
func TestMapTableSharesGradients(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	inner := NewSequential()
	inner.Add(NewLinear(3, 2, true))
	inner.Add(NewTanh())
	m := mustNew(t, "MapTable", nil).(Container)
	m.Add(inner)
	x := table(randTensor(r, 4, 3), randTensor(r, 4, 3), randTensor(r, 4, 3))
	gy := table(randTensor(r, 4, 2), randTensor(r, 4, 2), randTensor(r, 4, 2))
	checkTableGradients(t, m, x)
	_, want := paramGrads(m, x, gy)
	if !SetGradsOverwritten(m, true) {
		t.Fatal("MapTable of Linear refused to overwrite gradients")
	}
	for _, p := range AllParams(m) {
		for i := range p.Grad.Data {
			p.Grad.Data[i] = 7
		}
	}
	step := func() {
		Forward(m, x)
		Backward(m, x, gy)
	}
	step()
	for i, p := range AllParams(m) {
		for k := range p.Grad.Data {
			if d := p.Grad.Data[k] - want[i][k]; d > 1e-6 || d < -1e-6 {
				t.Fatalf("param %d[%d]: overwritten %v, accumulated from zero %v", i, k, p.Grad.Data[k], want[i][k])
			}
		}
	}
	if a := testing.AllocsPerRun(20, step); a != 0 {
		t.Fatalf("%v allocations per MapTable step", a)
	}
}

// Every shape layer reuses its buffers: a forward and backward in steady
// state allocate nothing.
func TestShapeLayersDoNotAllocate(t *testing.T) {
	r := rand.New(rand.NewSource(8))
	x := randTensor(r, 4, 3, 5)
	cases := []struct {
		class string
		args  map[string]any
	}{
		{"Select", map[string]any{"dim": 2.0, "index": -1.0}},
		{"Narrow", map[string]any{"dimension": 3.0, "offset": 2.0, "length": -1.0}},
		{"Squeeze", map[string]any{}},
		{"Unsqueeze", map[string]any{"pos": 2.0}},
		{"Transpose", map[string]any{"permutations": []any{1.0, 3.0}}},
		{"Padding", map[string]any{"dim": 2.0, "pad": -2.0, "n_input_dim": 2.0, "n_index": 2.0}},
		{"Replicate", map[string]any{"n_features": 2.0, "dim": 2.0}},
		{"Reverse", map[string]any{"dimension": 2.0}},
		{"Tile", map[string]any{"dim": 3.0, "copies": 2.0}},
		{"InferReshape", map[string]any{"size": []any{0.0, -1.0}}},
		{"Contiguous", nil},
		{"Mean", map[string]any{"dimension": 2.0}},
		{"Sum", map[string]any{"dimension": -1.0, "squeeze": false}},
		{"Max", map[string]any{"dim": 3.0}},
		{"Min", map[string]any{"dim": 1.0}},
		{"SplitTable", map[string]any{"dimension": 2.0}},
	}
	for _, c := range cases {
		m := mustNew(t, c.class, c.args)
		gy := Forward(m, x).Clone()
		step := func() {
			Forward(m, x)
			Backward(m, x, gy)
		}
		step()
		if a := testing.AllocsPerRun(10, step); a != 0 {
			t.Errorf("%s: %v allocations per forward+backward", c.class, a)
		}
	}
}
