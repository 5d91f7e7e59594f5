package optim

import (
	"math/rand"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/criterion"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// deconvTrainer trains a transposed convolution, local response
// normalisation, a bilinear resize, 3-D upsampling and cropping: layers
// with workspaces of their own, which each worker's replica must keep apart.
func deconvTrainer(t *testing.T, workers int) *Trainer {
	rng.Global.Seed(9)
	r := rand.New(rand.NewSource(4))
	n := 256
	x, y := tensor.New(n, 8, 4, 4), tensor.New(n)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	for i := range y.Data {
		y.Data[i] = float32(1 + i%3)
	}
	s := nn.NewSequential()
	for _, l := range []struct {
		class string
		args  map[string]any
	}{
		{"SpatialFullConvolution", map[string]any{"n_input_plane": 8.0, "n_output_plane": 16.0, "kw": 4.0, "kh": 4.0,
			"dw": 2.0, "dh": 2.0, "pad_w": 1.0, "pad_h": 1.0, "n_group": 2.0}},
		{"Tanh", nil},
		{"SpatialCrossMapLRN", map[string]any{"size": 3.0}},
		{"ResizeBilinear", map[string]any{"output_height": 5.0, "output_width": 5.0}},
		{"Reshape", map[string]any{"size": []any{4.0, 4.0, 5.0, 5.0}}},
		{"UpSampling3D", map[string]any{"size": []any{1.0, 2.0, 1.0}}},
		{"Cropping3D", map[string]any{"dim1Crop": []any{1.0, 0.0}, "dim2Crop": []any{1.0, 1.0}, "dim3Crop": []any{0.0, 0.0}}},
		{"Reshape", map[string]any{"size": []any{480.0}}},
		{"Linear", map[string]any{"input_size": 480.0, "output_size": 6.0}},
		{"LogSoftMax", nil},
	} {
		m, err := nn.New(l.class, l.args)
		if err != nil {
			t.Fatal(err)
		}
		s.Add(m)
	}
	c, _ := criterion.New("ClassNLLCriterion", nil)
	m, _ := NewMethod("SGD", map[string]any{"learningrate": 0.05, "momentum": 0.9})
	end, _ := NewTrigger(map[string]any{"class": "MaxEpoch", "max_epoch": 2.0})
	return &Trainer{Model: s, Criterion: c, Method: m, End: end, BatchSize: 128, X: x, Y: y, Workers: workers}
}

func TestDeconvLayersWorkersMatchOneWorker(t *testing.T) {
	checkTwoWorkersMatchOne(t, func(workers int) *Trainer { return deconvTrainer(t, workers) })
}
