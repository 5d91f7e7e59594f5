package optim

import (
	"math"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/criterion"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// bnTrainer trains Linear(20, 256) → BatchNormalization(256) → ReLU →
// Linear(256, 3) → LogSoftMax, large enough for a batch of 64 to be split.
func bnTrainer(t testing.TB, workers int) *Trainer {
	tr := mlpTrainer(t, workers, false)
	bn, err := nn.New("BatchNormalization", map[string]any{"n_output": 256.0})
	if err != nil {
		t.Fatal(err)
	}
	s := nn.NewSequential()
	s.Add(nn.NewLinear(20, 256, true))
	s.Add(bn)
	s.Add(nn.NewReLU(false))
	s.Add(nn.NewLinear(256, 3, true))
	s.Add(nn.NewLogSoftMax())
	tr.Model = s
	c, _ := criterion.New("ClassNLLCriterion", nil)
	tr.Criterion = c
	return tr
}

// statsAfterForward is the running statistics m would hold after one
// training forward of the records [lo, hi) of x, from a copy of m.
func statsAfterForward(t *testing.T, m nn.Module, x *tensor.Tensor, lo, hi int) []float32 {
	c, _, err := nn.Clone(m)
	if err != nil {
		t.Fatal(err)
	}
	nn.SetTraining(c, true)
	c.Forward(split(x, lo, hi))
	var out []float32
	for _, e := range nn.AllExtraParams(c) {
		out = append(out, e.Data...)
	}
	return out
}

func closeSlices(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > 1e-5*math.Max(1, math.Abs(float64(want[i]))) {
			t.Fatalf("%s: value %d is %v, want %v", what, i, got[i], want[i])
		}
	}
}

// Each worker normalises its own share of the batch; after the step every
// replica holds the mean of the running statistics the shares moved to.
// A step allocates nothing.
func TestReplicasAverageRunningStatistics(t *testing.T) {
	tr := bnTrainer(t, 2)
	if err := tr.prepare(); err != nil {
		t.Fatal(err)
	}
	defer tr.release()
	if len(tr.workers) != 2 {
		t.Fatalf("the batch was not split: %d workers", len(tr.workers))
	}
	a := statsAfterForward(t, tr.Model, tr.X, 0, 32)
	b := statsAfterForward(t, tr.Model, tr.X, 32, 64)
	want := make([]float32, len(a))
	for i := range a {
		want[i] = (a[i] + b[i]) / 2
	}
	if _, err := tr.step(firstRecords(64)); err != nil {
		t.Fatal(err)
	}
	for i, w := range tr.workers {
		closeSlices(t, "worker "+string(rune('0'+i)), w.extra, want)
	}
	if &tr.workers[0].extra[0] == &tr.workers[1].extra[0] {
		t.Fatal("the replicas share their running statistics' storage")
	}
	idx := firstRecords(64)
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := tr.step(idx); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per step", allocs)
	}
}

// The tasks of a distributed run average their running statistics at the
// end of a segment: after one step in which each task's share was its
// partition, every task holds the mean of what the partitions moved them to.
func TestTasksAverageRunningStatistics(t *testing.T) {
	comms := group(t, 2)
	trainers := make([]*Trainer, 2)
	var want []float32
	for r := range trainers {
		tr := bnTrainer(t, 1)
		n := tr.X.Shape[0]
		tr.BatchSize = n
		tr.End, _ = NewTrigger(map[string]any{"class": "MaxIteration", "max": 1.0})
		lo, hi := Share(r, 2, n)
		s := statsAfterForward(t, tr.Model, tr.X, lo, hi)
		if want == nil {
			want = make([]float32, len(s))
		}
		for i := range s {
			want[i] += s[i] / 2
		}
		tr.Dist = &Distributed{Sync: comms[r], Total: n, Seed: 7}
		tr.X, tr.Y = split(tr.X, lo, hi), split(tr.Y, lo, hi)
		trainers[r] = tr
	}
	runRanks(t, trainers)
	for r, tr := range trainers {
		var got []float32
		for _, e := range nn.AllExtraParams(tr.Model) {
			got = append(got, e.Data...)
		}
		closeSlices(t, "task "+string(rune('0'+r)), got, want)
	}
}
