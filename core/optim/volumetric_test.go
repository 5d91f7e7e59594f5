package optim

import (
	"math"
	"math/rand"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/criterion"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// volumetricTrainer trains a network of the 3-D and locally connected
// layers on (1, 4, 8, 8) volumes, big enough per iteration that the batch
// is split across workers.
func volumetricTrainer(t testing.TB, workers int) *Trainer {
	rng.Global.Seed(12)
	r := rand.New(rand.NewSource(5))
	n := 512
	x, y := tensor.New(n, 1, 4, 8, 8), tensor.New(n)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	for i := range y.Data {
		y.Data[i] = float32(1 + i%3)
	}
	s := nn.NewSequential()
	add := layerAdder(t, s)
	add("VolumetricConvolution", map[string]any{"n_input_plane": 1.0, "n_output_plane": 4.0, "k_t": 2.0, "k_w": 3.0,
		"k_h": 3.0, "pad_w": 1.0, "pad_h": 1.0})
	s.Add(nn.NewReLU(false))
	add("VolumetricMaxPooling", map[string]any{"k_t": 1.0, "k_w": 2.0, "k_h": 2.0, "d_t": 1.0, "d_w": 2.0, "d_h": 2.0})
	add("VolumetricAveragePooling", map[string]any{"k_t": 3.0, "k_w": 1.0, "k_h": 1.0, "d_t": 1.0, "d_w": 1.0, "d_h": 1.0})
	add("Reshape", map[string]any{"size": []any{4.0, 4.0, 4.0}})
	add("LocallyConnected2D", map[string]any{"n_input_plane": 4.0, "input_width": 4.0, "input_height": 4.0,
		"n_output_plane": 6.0, "kernel_w": 2.0, "kernel_h": 2.0})
	s.Add(nn.NewTanh())
	add("Reshape", map[string]any{"size": []any{6.0, 9.0}})
	add("LocallyConnected1D", map[string]any{"n_input_frame": 6.0, "input_frame_size": 9.0, "output_frame_size": 8.0,
		"kernel_w": 2.0})
	add("Reshape", map[string]any{"size": []any{40.0}})
	s.Add(nn.NewLinear(40, 3, true))
	s.Add(nn.NewLogSoftMax())
	c, _ := criterion.New("ClassNLLCriterion", nil)
	m, _ := NewMethod("SGD", map[string]any{"learningrate": 0.1, "momentum": 0.9})
	end, _ := NewTrigger(map[string]any{"class": "MaxEpoch", "max_epoch": 2.0})
	return &Trainer{Model: s, Criterion: c, Method: m, End: end, BatchSize: 256, X: x, Y: y, Workers: workers}
}

// Each worker trains a clone of these layers on its share of the batch: two
// workers reach one worker's weights, up to summation order, and a step
// allocates nothing.
func TestVolumetricLayersSplitAcrossWorkers(t *testing.T) {
	one := weightsAfter(t, volumetricTrainer(t, 1))
	tr := volumetricTrainer(t, 2)
	if err := tr.prepare(); err != nil || len(tr.workers) != 2 {
		t.Fatalf("expected 2 workers, got %d (%v)", len(tr.workers), err)
	}
	idx := firstRecords(256)
	tr.step(idx)
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := tr.step(idx); err != nil {
			t.Fatal(err)
		}
	})
	tr.release()
	if allocs != 0 {
		t.Errorf("%v allocations per step on 2 workers", allocs)
	}
	two := weightsAfter(t, volumetricTrainer(t, 2))
	start, _ := nn.Flatten(volumetricTrainer(t, 1).Model)
	var diff, norm, moved float64
	for i := range one {
		d := float64(one[i] - two[i])
		diff += d * d
		norm += float64(one[i]) * float64(one[i])
		moved += math.Abs(float64(one[i] - start[i]))
	}
	if moved == 0 {
		t.Fatal("training did not change the weights")
	}
	if rel := math.Sqrt(diff / norm); rel > 1e-5 {
		t.Fatalf("2 workers drift from 1 worker: relative difference %g", rel)
	}
}
