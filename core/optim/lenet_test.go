package optim

import (
	"math/rand"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/criterion"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// lenet5Trainer is bench/lenet_bench.py's run: LeNet-5 as
// bigdl.models.lenet.lenet5.build_model(10) builds it, SGD and class NLL at
// batch 128, on 1,024 MNIST-shaped random records.
func lenet5Trainer(b testing.TB, workers int) *Trainer {
	rng.Global.Seed(1)
	r := rand.New(rand.NewSource(1))
	x, y := tensor.New(1024, 28, 28), tensor.New(1024)
	for i := range x.Data {
		x.Data[i] = r.Float32()
	}
	for i := range y.Data {
		y.Data[i] = float32(1 + r.Intn(10))
	}
	s := nn.NewSequential()
	add := layerAdder(b, s)
	conv := func(in, out float64) map[string]any {
		return map[string]any{"n_input_plane": in, "n_output_plane": out, "kernel_w": 5.0, "kernel_h": 5.0}
	}
	pool := map[string]any{"kw": 2.0, "kh": 2.0, "dw": 2.0, "dh": 2.0}
	add("Reshape", map[string]any{"size": []any{1.0, 28.0, 28.0}})
	add("SpatialConvolution", conv(1, 6))
	add("Tanh", nil)
	add("SpatialMaxPooling", pool)
	add("SpatialConvolution", conv(6, 12))
	add("Tanh", nil)
	add("SpatialMaxPooling", pool)
	add("Reshape", map[string]any{"size": []any{192.0}})
	add("Linear", map[string]any{"input_size": 192.0, "output_size": 100.0})
	add("Tanh", nil)
	add("Linear", map[string]any{"input_size": 100.0, "output_size": 10.0})
	add("LogSoftMax", nil)
	c, _ := criterion.New("ClassNLLCriterion", nil)
	m, _ := NewMethod("SGD", map[string]any{"learningrate": 0.01})
	return &Trainer{Model: s, Criterion: c, Method: m, BatchSize: 128, X: x, Y: y, Workers: workers}
}

// BenchmarkStepLeNet5 is one training step of bench/lenet_bench.py's run
// on one worker, with a different batch of records each step as in
// training.
func BenchmarkStepLeNet5(b *testing.B) {
	tr := lenet5Trainer(b, 1)
	if err := tr.prepare(); err != nil {
		b.Fatal(err)
	}
	defer tr.release()
	batches := make([][]int, 8)
	for i := range batches {
		batches[i] = rand.New(rand.NewSource(int64(i))).Perm(1024)[:128]
	}
	tr.step(batches[0]) // the first step allocates the layers' buffers
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tr.step(batches[i%len(batches)])
	}
	b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "records/s")
}

// layerAdder returns a function that appends the registry's layer class,
// built from args, to s (failing tb when it cannot be built).
func layerAdder(tb testing.TB, s *nn.Sequential) func(class string, args map[string]any) {
	return func(class string, args map[string]any) {
		m, err := nn.New(class, args)
		if err != nil {
			tb.Fatal(err)
		}
		s.Add(m)
	}
}
