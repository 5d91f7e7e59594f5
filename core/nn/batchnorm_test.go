package nn

import (
	"math/rand"
	"testing"
)

// Batch normalisation allocates nothing per step, in training and in
// evaluation, in every layout.
func TestBatchNormDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for _, c := range []struct {
		class  string
		args   map[string]any
		shape  []int
		affine bool
	}{
		{"BatchNormalization", map[string]any{"n_output": 7.0}, []int{9, 7}, true},
		{"BatchNormalization", map[string]any{"n_output": 7.0, "affine": false}, []int{9, 7}, false},
		{"SpatialBatchNormalization", map[string]any{"n_output": 3.0}, []int{4, 3, 5, 6}, true},
		{"SpatialBatchNormalization", map[string]any{"n_output": 3.0, "data_format": "NHWC"}, []int{4, 5, 6, 3}, true},
	} {
		bn := mustNew(t, c.class, c.args)
		x := randTensor(r, c.shape...)
		gy := randTensor(r, c.shape...)
		for _, training := range []bool{true, false} {
			SetTraining(bn, training)
			step := func() {
				bn.Forward(x)
				bn.Backward(x, gy)
			}
			step()
			if a := testing.AllocsPerRun(10, step); a != 0 {
				t.Fatalf("%s %v (training %v): %v allocations per forward+backward", c.class, c.shape, training, a)
			}
		}
	}
}

// A clone starts from the original's running statistics but keeps its own.
func TestCloneCopiesRunningStatistics(t *testing.T) {
	bn := mustNew(t, "BatchNormalization", map[string]any{"n_output": 2.0})
	bn.Forward(randTensor(rand.New(rand.NewSource(5)), 4, 2))
	c, _, err := Clone(bn)
	if err != nil {
		t.Fatal(err)
	}
	a, b := AllExtraParams(bn), AllExtraParams(c)
	for i := range a {
		for j := range a[i].Data {
			if a[i].Data[j] != b[i].Data[j] {
				t.Fatalf("statistic %d value %d: %v in the clone, %v in the original", i, j, b[i].Data[j], a[i].Data[j])
			}
		}
	}
	b[0].Data[0] = 42
	if a[0].Data[0] == 42 {
		t.Fatal("the clone shares the original's running statistics")
	}
}

// BenchmarkSpatialBatchNorm is a training forward and backward of a
// (32, 64, 28, 28) batch, as a LeNet- or ResNet-sized block sees.
func BenchmarkSpatialBatchNorm(b *testing.B) {
	for _, format := range []string{"NCHW", "NHWC"} {
		b.Run(format, func(b *testing.B) {
			r := rand.New(rand.NewSource(6))
			bn := mustNew(b, "SpatialBatchNormalization", map[string]any{"n_output": 64.0, "data_format": format})
			x, gy := randTensor(r, 32, 64, 28, 28), randTensor(r, 32, 64, 28, 28)
			if format == "NHWC" {
				x.Shape, gy.Shape = []int{32, 28, 28, 64}, []int{32, 28, 28, 64}
			}
			for b.Loop() {
				bn.Forward(x)
				bn.Backward(x, gy)
			}
		})
	}
}
