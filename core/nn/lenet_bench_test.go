package nn

import (
	"math/rand"
	"testing"
	"time"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// lenet5 is bigdl.models.lenet.lenet5.build_model(10).
func lenet5(tb testing.TB) Module {
	seq := NewSequential()
	add := func(class string, args map[string]any) { seq.Add(mustNew(tb, class, args)) }
	conv := func(in, out float64) map[string]any {
		return map[string]any{"n_input_plane": in, "n_output_plane": out, "kernel_w": 5.0, "kernel_h": 5.0}
	}
	pool := map[string]any{"kw": 2.0, "kh": 2.0, "dw": 2.0, "dh": 2.0}
	add("Reshape", map[string]any{"size": []any{1.0, 28.0, 28.0}})
	add("SpatialConvolution", conv(1, 6))
	seq.Add(NewTanh())
	add("SpatialMaxPooling", pool)
	add("SpatialConvolution", conv(6, 12))
	seq.Add(NewTanh())
	add("SpatialMaxPooling", pool)
	add("Reshape", map[string]any{"size": []any{192.0}})
	seq.Add(NewLinear(192, 100, true))
	seq.Add(NewTanh())
	seq.Add(NewLinear(100, 10, true))
	seq.Add(NewLogSoftMax())
	return seq
}

// BenchmarkLeNet5Step is one forward and backward of LeNet-5 at batch 128
// on one goroutine, as each training worker runs it.
func BenchmarkLeNet5Step(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	m := lenet5(b)
	SetInputGradUnused(m, true)
	SetGradsOverwritten(m, true)
	x := randTensor(r, 128, 28, 28)
	gy := randTensor(r, 128, 10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.Forward(x)
		m.Backward(x, gy)
	}
}

// BenchmarkLeNet5Split times each layer of BenchmarkLeNet5Step's forward and
// backward and reports the share of a step spent in convolutions, pooling
// and the rest (bench/lenet_bench.py prints it).
func BenchmarkLeNet5Split(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	m := lenet5(b).(*Sequential)
	SetInputGradUnused(m, true)
	SetGradsOverwritten(m, true)
	x := randTensor(r, 128, 28, 28)
	gy := randTensor(r, 128, 10)
	kids := m.Children()
	// One step through the container sets what Sequential.Backward sets in
	// training: the first convolution's input gradient is not computed.
	m.Forward(x)
	m.Backward(x, gy)
	ins := make([]*tensor.Tensor, len(kids)+1)
	spent := map[string]time.Duration{}
	kind := func(mod Module) string {
		switch mod.(type) {
		case *SpatialConvolution:
			return "conv"
		case *SpatialPooling:
			return "pool"
		}
		return "rest"
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ins[0] = x
		for j, k := range kids {
			t := time.Now()
			ins[j+1] = k.Forward(ins[j])
			spent[kind(k)] += time.Since(t)
		}
		g := gy
		for j := len(kids) - 1; j >= 0; j-- {
			t := time.Now()
			g = kids[j].Backward(ins[j], g)
			spent[kind(kids[j])] += time.Since(t)
			if g == nil {
				break
			}
		}
	}
	total := spent["conv"] + spent["pool"] + spent["rest"]
	for _, k := range []string{"conv", "pool", "rest"} {
		b.ReportMetric(100*float64(spent[k])/float64(total), k+"_%")
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/1000, "step_ms")
}
