package nn

import (
	"math/rand"
	"testing"
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
	for _, c := range []string{"PReLU", "RReLU", "SoftMin", "Normalize", "Masking", "GaussianDropout", "GaussianNoise"} {
		ms = append(ms, mustNew(t, c, args[c]))
	}
	return ms
}

// On the training path these layers allocate nothing once their buffers
// exist, in training and in evaluation mode.
func TestPart4LayersAllocateNothing(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	x, gy := randTensor(r, 5, 6), randTensor(r, 5, 6)
	for _, m := range part4Layers(t) {
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
