package serial

import (
	"fmt"
	"math/rand"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/criterion"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/optim"
	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// resumeMethods are every optim method with state worth keeping, with the
// schedules whose state moves.
var resumeMethods = []struct {
	class string
	args  map[string]any
}{
	{"SGD", map[string]any{"learningrate": 0.1, "momentum": 0.9, "learningrate_decay": 0.01}},
	{"SGD", map[string]any{"learningrate": 0.1, "leaningrate_schedule": map[string]any{
		"class": "Plateau", "monitor": "Loss", "factor": 0.5, "patience": 1.0, "mode": "min", "epsilon": 1e-4,
		"cooldown": 0.0, "min_lr": 0.0}}},
	{"SGD", map[string]any{"learningrate": 0.1, "leaningrate_schedule": map[string]any{
		"class": "SequentialSchedule", "iteration_per_epoch": 3.0, "schedules": []any{
			[]any{map[string]any{"class": "Warmup", "delta": 0.01}, 5.0},
			[]any{map[string]any{"class": "Poly", "power": 0.5, "max_iteration": 40.0}, 40.0}}}}},
	{"Adam", map[string]any{"learningrate": 0.01}},
	{"ParallelAdam", map[string]any{"learningrate": 0.01}},
	{"Adagrad", map[string]any{"learningrate": 0.1}},
	{"RMSprop", map[string]any{"learningrate": 0.01}},
	{"Adadelta", map[string]any{}},
	{"Adamax", map[string]any{}},
	{"Ftrl", map[string]any{"learningrate": 0.1}},
	{"LBFGS", map[string]any{"ncorrection": 5.0, "learningrate": 0.5}},
}

func resumeData() (*tensor.Tensor, *tensor.Tensor) {
	r := rand.New(rand.NewSource(3))
	x, y := tensor.New(37, 6), tensor.New(37)
	for i := range 37 {
		y.Data[i] = float32(r.Intn(3) + 1)
		for j := range 6 {
			x.Data[i*6+j] = float32(r.NormFloat64())
		}
	}
	return x, y
}

func dropoutNet(width int) nn.Module {
	s := nn.NewSequential()
	s.Add(nn.NewLinear(6, width, true))
	s.Add(nn.NewReLU(false))
	d, _ := nn.New("Dropout", map[string]any{"init_p": 0.3})
	s.Add(d)
	s.Add(nn.NewLinear(width, 3, true))
	s.Add(nn.NewLogSoftMax())
	return s
}

func train(t *testing.T, m nn.Module, meth optim.Method, start *optim.Position, iterations, workers int) *optim.Trainer {
	t.Helper()
	x, y := resumeData()
	c, _ := criterion.New("ClassNLLCriterion", nil)
	end, err := optim.NewTrigger(map[string]any{"class": "MaxIteration", "max": float64(iterations)})
	if err != nil {
		t.Fatal(err)
	}
	tr := &optim.Trainer{Model: m, Criterion: c, Method: meth, End: end, BatchSize: 8, X: x, Y: y,
		Workers: workers, Start: start}
	if err := tr.Run(); err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestResumeThroughFilesIsExact: 10 iterations, model and method saved,
// the global generator scrambled (a fresh process), both loaded, 10 more:
// the weights equal 20 uninterrupted iterations bit for bit, for every
// method, with Dropout, on one worker and on several (each its own stream).
func TestResumeThroughFilesIsExact(t *testing.T) {
	for _, workers := range []int{1, 3} {
		width := 8
		if workers > 1 {
			width = 5000 // large enough that the batch is split between workers
		}
		for _, c := range resumeMethods {
			t.Run(fmt.Sprintf("%s/%d workers", c.class, workers), func(t *testing.T) {
				rng.Global.Seed(7)
				ref := dropoutNet(width)
				meth, err := optim.NewMethod(c.class, c.args)
				if err != nil {
					t.Fatal(err)
				}
				train(t, ref, meth, nil, 20, workers)

				rng.Global.Seed(7)
				m := dropoutNet(width)
				meth, _ = optim.NewMethod(c.class, c.args)
				tr := train(t, m, meth, nil, 10, workers)
				dir := t.TempDir()
				mp, op := filepath.Join(dir, "model"), filepath.Join(dir, "method")
				if err := Save(m, mp, false); err != nil {
					t.Fatal(err)
				}
				if err := SaveMethod(MethodFile{Class: c.class, Args: c.args, Method: meth, Run: tr.LastPosition()}, op, false); err != nil {
					t.Fatal(err)
				}

				rng.Global.Seed(99) // another process's generator
				m2, err := Load(mp)
				if err != nil {
					t.Fatal(err)
				}
				f, err := LoadMethod(op)
				if err != nil {
					t.Fatal(err)
				}
				if f.Run == nil || f.Run.State.Iteration != 10 {
					t.Fatalf("the saved run position is %+v, want iteration 10", f.Run)
				}
				train(t, m2, f.Method, f.Run, 20, workers)
				a, b := nn.AllParams(ref), nn.AllParams(m2)
				for i := range a {
					if !slices.Equal(a[i].Value.Data, b[i].Value.Data) {
						t.Fatalf("parameter %s differs from the uninterrupted run's", a[i].Name)
					}
				}
			})
		}
	}
}

func TestResumeRefusesAnotherTrainingSetOrModel(t *testing.T) {
	rng.Global.Seed(1)
	m := dropoutNet(8)
	meth, _ := optim.NewMethod("Adam", nil)
	tr := train(t, m, meth, nil, 3, 1)
	p := *tr.LastPosition()
	p.Records = 5
	x, y := resumeData()
	c, _ := criterion.New("ClassNLLCriterion", nil)
	end, _ := optim.NewTrigger(map[string]any{"class": "MaxIteration", "max": 6.0})
	run := func(model nn.Module, start *optim.Position) error {
		return (&optim.Trainer{Model: model, Criterion: c, Method: meth, End: end, BatchSize: 8, X: x, Y: y,
			Workers: 1, Start: start}).Run()
	}
	if err := run(m, &p); err == nil {
		t.Fatal("resuming over another training set succeeded")
	}
	if err := run(dropoutNet(9), tr.LastPosition()); err == nil {
		t.Fatal("a method whose state is for another model's parameters was accepted")
	}
}

// A Spark run's position, given to a local run, carries its counters over
// (the tasks' places in their partitions mean nothing locally).
func TestLocalRunContinuesTheCountersOfASparkRun(t *testing.T) {
	rng.Global.Seed(4)
	meth, _ := optim.NewMethod("SGD", map[string]any{"learningrate": 0.1})
	spark := &optim.Position{Seed: 1, Records: 999, Resume: optim.Resume{State: optim.State{Epoch: 3, Iteration: 7}, Elapsed: 2},
		Tasks: &optim.Tasks{Resume: []optim.Resume{{Cursor: 5, Shuffles: 3}, {Cursor: 2, Shuffles: 3}}}}
	tr := train(t, dropoutNet(8), meth, spark, 9, 1)
	if got := tr.LastPosition().State; got.Iteration != 9 || got.Epoch != 3 {
		t.Fatalf("the run ended at epoch %d, iteration %d; want epoch 3, iteration 9", got.Epoch, got.Iteration)
	}
	if s := optim.StateOf(meth); s.T != 2 {
		t.Fatalf("the method took %d steps, want 2", s.T)
	}
}

func TestImpossibleRunPositionsAreRefused(t *testing.T) {
	meth, _ := optim.NewMethod("SGD", nil)
	good := optim.Position{Records: 10, Resume: optim.Resume{State: optim.State{Epoch: 2, Iteration: 4}, Shuffles: 2, Cursor: 3, EpochRecords: 3}}
	bad := map[string]func(p *optim.Position){
		"shuffles out of step": func(p *optim.Position) { p.Shuffles = 1 << 40 },
		"cursor past the end":  func(p *optim.Position) { p.Cursor, p.EpochRecords = 10, 10 },
		"epoch 0":              func(p *optim.Position) { p.State.Epoch, p.Shuffles = 0, 0 },
		"task shuffles":        func(p *optim.Position) { p.Tasks = &optim.Tasks{Resume: []optim.Resume{{Shuffles: 1 << 40}}} },
	}
	for name, spoil := range bad {
		p := good
		spoil(&p)
		data, err := EncodeMethod(MethodFile{Class: "SGD", Method: meth, Run: &p})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeMethod(data); err == nil || !strings.Contains(err.Error(), "invalid") {
			t.Errorf("%s: want an invalid-position error, got %v", name, err)
		}
	}
	data, _ := EncodeMethod(MethodFile{Class: "SGD", Method: meth, Run: &good})
	if _, err := DecodeMethod(data); err != nil {
		t.Fatalf("a possible position was refused: %v", err)
	}
}
