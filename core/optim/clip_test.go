package optim

import (
	"math"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/nn"
)

func TestClippingChangesTheGradientAsSpecified(t *testing.T) {
	for _, c := range []struct {
		clip     Clipping
		in, want []float32
	}{
		{Clipping{L2Norm: 1}, []float32{3, 4}, []float32{0.6, 0.8}},
		{Clipping{L2Norm: 10}, []float32{3, 4}, []float32{3, 4}},
		{Clipping{Const: true, Min: -0.5, Max: 2}, []float32{3, -4, 1}, []float32{2, -0.5, 1}},
		{Clipping{L2Norm: 1, Const: true, Min: -0.7, Max: 0.7}, []float32{3, 4}, []float32{0.6, 0.7}},
	} {
		g := append([]float32(nil), c.in...)
		c.clip.apply(g, sumSquares(g))
		for i := range g {
			if math.Abs(float64(g[i]-c.want[i])) > 1e-6 {
				t.Errorf("%+v on %v: got %v, want %v", c.clip, c.in, g, c.want)
				break
			}
		}
	}
	if err := (Clipping{Const: true, Min: 1, Max: 0}).Check(); err == nil {
		t.Error("min > max was accepted")
	}
}

// clippedRun trains the MLP on full batches with clip, on one task with
// workers workers, or on ranks tasks each holding a partition.
func clippedRun(t *testing.T, clip Clipping, workers, ranks int) []float32 {
	return setupRun(t, func(tr *Trainer) { tr.Clip = clip }, workers, ranks)
}

// setupRun trains the MLP, changed by setup, on full batches: on one task
// with workers workers, or on ranks tasks each holding a partition.
func setupRun(t *testing.T, setup func(*Trainer), workers, ranks int) []float32 {
	t.Helper()
	if ranks == 1 {
		tr := mlpTrainer(t, workers, false)
		tr.BatchSize = tr.X.Shape[0]
		setup(tr)
		return weightsAfter(t, tr)
	}
	comms := group(t, ranks)
	trainers := make([]*Trainer, ranks)
	for r := range trainers {
		tr := mlpTrainer(t, workers, false)
		n := tr.X.Shape[0]
		tr.BatchSize = n
		setup(tr)
		lo, hi := Share(r, ranks, n)
		tr.Dist = &Distributed{Sync: comms[r], Total: n, Seed: 7}
		tr.X, tr.Y = split(tr.X, lo, hi), split(tr.Y, lo, hi)
		trainers[r] = tr
	}
	runRanks(t, trainers)
	w, _ := nn.Flatten(trainers[0].Model)
	return append([]float32(nil), w...)
}

func relDiff(a, b []float32) float64 {
	var d, n float64
	for i := range a {
		x := float64(a[i] - b[i])
		d, n = d+x*x, n+float64(a[i])*float64(a[i])
	}
	return math.Sqrt(d / n)
}

// The L2 norm is the whole gradient's: two workers and two tasks (which
// each hold half of it) clip exactly as one core does.
func TestClippingIsGlobalAcrossWorkersAndTasks(t *testing.T) {
	for _, clip := range []Clipping{{L2Norm: 0.05}, {Const: true, Min: -0.002, Max: 0.002}} {
		plain := clippedRun(t, Clipping{}, 1, 1)
		one := clippedRun(t, clip, 1, 1)
		if relDiff(one, plain) < 1e-3 {
			t.Fatalf("%+v did not change training", clip)
		}
		for _, c := range []struct{ workers, ranks int }{{2, 1}, {1, 2}, {2, 2}} {
			if d := relDiff(one, clippedRun(t, clip, c.workers, c.ranks)); d > 1e-5 {
				t.Errorf("%+v: %d workers, %d tasks differ from one core by %g", clip, c.workers, c.ranks, d)
			}
		}
	}
}

// A regularizer's gradient joins the batch's gradient once: two workers and
// two tasks train as one core does, and L2 on every parameter is SGD's
// weight decay.
func TestRegularizersEnterOncePerBatch(t *testing.T) {
	l2 := func(r *nn.Regularizer) func(*Trainer) {
		return func(tr *Trainer) {
			for _, p := range nn.AllParams(tr.Model) {
				p.Reg = r
			}
		}
	}
	plain := setupRun(t, func(*Trainer) {}, 1, 1)
	one := setupRun(t, l2(&nn.Regularizer{L2: 0.3}), 1, 1)
	if relDiff(one, plain) < 1e-3 {
		t.Fatal("the regularizer did not change training")
	}
	decay := setupRun(t, func(tr *Trainer) {
		tr.Method, _ = NewMethod("SGD", map[string]any{"learningrate": 0.05, "momentum": 0.9, "weightdecay": 0.3})
	}, 1, 1)
	if d := relDiff(one, decay); d > 1e-6 {
		t.Errorf("L2Regularizer differs from SGD's weight decay by %g", d)
	}
	l1 := setupRun(t, l2(&nn.Regularizer{L1: 0.01, L2: 0.1}), 1, 1)
	for _, c := range []struct{ workers, ranks int }{{2, 1}, {1, 2}, {2, 2}} {
		if d := relDiff(one, setupRun(t, l2(&nn.Regularizer{L2: 0.3}), c.workers, c.ranks)); d > 1e-5 {
			t.Errorf("L2: %d workers, %d tasks differ from one core by %g", c.workers, c.ranks, d)
		}
		if d := relDiff(l1, setupRun(t, l2(&nn.Regularizer{L1: 0.01, L2: 0.1}), c.workers, c.ranks)); d > 1e-5 {
			t.Errorf("L1L2: %d workers, %d tasks differ from one core by %g", c.workers, c.ranks, d)
		}
	}
}

// LBFGS needs the whole gradient: two tasks each take the step one core takes.
func TestLBFGSOnTasksMatchesOneCore(t *testing.T) {
	lbfgs := func(tr *Trainer) {
		tr.Method, _ = NewMethod("LBFGS", map[string]any{"learningrate": 0.5, "ncorrection": 3.0})
	}
	one := setupRun(t, lbfgs, 1, 1)
	if relDiff(one, setupRun(t, func(*Trainer) {}, 1, 1)) < 1e-3 {
		t.Fatal("LBFGS trained as SGD does")
	}
	for _, c := range []struct{ workers, ranks int }{{2, 1}, {1, 2}, {2, 2}} {
		if d := relDiff(one, setupRun(t, lbfgs, c.workers, c.ranks)); d > 1e-5 {
			t.Errorf("%d workers, %d tasks differ from one core by %g", c.workers, c.ranks, d)
		}
	}
}
