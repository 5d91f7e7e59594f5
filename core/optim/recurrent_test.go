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

// rnnTrainer classifies sequences with a cell in Recurrent, its last step
// through Linear and LogSoftMax: the shape of BigDL's RNN tutorials.
func rnnTrainer(t testing.TB, cell string, workers int) *Trainer {
	return sequenceTrainer(t, cell, workers, 192, 9, 6, 24, 64)
}

func sequenceTrainer(t testing.TB, cell string, workers, n, steps, in, hidden, batch int) *Trainer {
	rng.Global.Seed(5)
	r := rand.New(rand.NewSource(4))
	x, y := tensor.New(n, steps, in), tensor.New(n)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	for i := range y.Data {
		y.Data[i] = float32(1 + i%10)
	}
	mk := func(class string, args map[string]any) nn.Module {
		m, err := nn.New(class, args)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	rec := mk("Recurrent", nil)
	args := map[string]any{"input_size": float64(in), "hidden_size": float64(hidden)}
	if cell == "RnnCell" {
		args["activation"] = "tanh"
	}
	if err := rec.(nn.Container).Add(mk(cell, args)); err != nil {
		t.Fatal(err)
	}
	s := nn.NewSequential()
	s.Add(rec)
	s.Add(mk("Select", map[string]any{"dim": 2.0, "index": -1.0}))
	s.Add(nn.NewLinear(hidden, 10, true))
	s.Add(nn.NewLogSoftMax())
	c, _ := criterion.New("ClassNLLCriterion", nil)
	m, _ := NewMethod("SGD", map[string]any{"learningrate": 0.1})
	end, _ := NewTrigger(map[string]any{"class": "MaxEpoch", "max_epoch": 2.0})
	return &Trainer{Model: s, Criterion: c, Method: m, End: end, BatchSize: batch, X: x, Y: y, Workers: workers}
}

// BenchmarkStepLSTM is a training step of bench/lstm_bench.py's model:
// LSTM(28 -> 128) over 28 steps, Linear(128, 10), LogSoftMax, batch 64.
func BenchmarkStepLSTM(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[workers], func(b *testing.B) {
			tr := sequenceTrainer(b, "LSTM", workers, 256, 28, 28, 128, 64)
			if err := tr.prepare(); err != nil {
				b.Fatal(err)
			}
			defer tr.release()
			idx := firstRecords(64)
			tr.step(idx)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tr.step(idx)
			}
			b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// Each worker runs its own clone of the cell on its part of the batch; the
// summed gradients are the whole batch's, so two workers train the weights
// one worker does, up to summation order.
func TestRecurrentWorkersMatchOneWorker(t *testing.T) {
	for _, cell := range []string{"LSTM", "GRU", "RnnCell"} {
		one := weightsAfter(t, rnnTrainer(t, cell, 1))
		tr := rnnTrainer(t, cell, 2)
		if err := tr.prepare(); err != nil || len(tr.workers) != 2 {
			t.Fatalf("%s: expected 2 workers, got %d (%v)", cell, len(tr.workers), err)
		}
		tr.release()
		two := weightsAfter(t, rnnTrainer(t, cell, 2))
		var diff, norm, moved float64
		start, _ := nn.Flatten(rnnTrainer(t, cell, 1).Model)
		for i := range one {
			d := float64(one[i] - two[i])
			diff += d * d
			norm += float64(one[i]) * float64(one[i])
			moved += math.Abs(float64(one[i] - start[i]))
		}
		if moved == 0 {
			t.Fatalf("%s: training did not change the weights", cell)
		}
		if rel := math.Sqrt(diff / norm); rel > 1e-5 {
			t.Fatalf("%s: 2 workers drift from 1 worker: relative difference %g", cell, rel)
		}
	}
}

// Backward through time reuses the last sequence's buffers: a training step
// allocates nothing, on one worker or two.
func TestRecurrentStepDoesNotAllocate(t *testing.T) {
	for _, cell := range []string{"LSTM", "GRU", "RnnCell"} {
		for _, workers := range []int{1, 2} {
			tr := rnnTrainer(t, cell, workers)
			if err := tr.prepare(); err != nil {
				t.Fatal(err)
			}
			idx := firstRecords(64)
			tr.step(idx)
			allocs := testing.AllocsPerRun(10, func() {
				if _, err := tr.step(idx); err != nil {
					t.Fatal(err)
				}
			})
			tr.release()
			if allocs != 0 {
				t.Errorf("%s, %d workers: %v allocations per step", cell, workers, allocs)
			}
		}
	}
}
