package optim

import (
	"errors"
	"math"
	"math/rand"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bigdl-go/bigdl-go/core/criterion"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// mlpTrainer is big enough per iteration that the batch is split across
// workers (see minParallelFlops).
func mlpTrainer(t testing.TB, workers int, dropout bool) *Trainer {
	rng.Global.Seed(7)
	r := rand.New(rand.NewSource(3))
	n, in := 256, 20
	x, y := tensor.New(n, in), tensor.New(n)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	for i := range y.Data {
		y.Data[i] = float32(1 + i%3)
	}
	s := nn.NewSequential()
	s.Add(nn.NewLinear(in, 64, true))
	s.Add(nn.NewReLU(false))
	if dropout {
		d, _ := nn.New("Dropout", map[string]any{"init_p": 0.2})
		s.Add(d)
	}
	s.Add(nn.NewLinear(64, 64, true))
	s.Add(nn.NewTanh())
	s.Add(nn.NewLinear(64, 3, true))
	s.Add(nn.NewLogSoftMax())
	c, _ := criterion.New("ClassNLLCriterion", map[string]any{"weights": []any{1.0, 2.0, 0.5}})
	m, _ := NewMethod("SGD", map[string]any{"learningrate": 0.05, "momentum": 0.9})
	end, _ := NewTrigger(map[string]any{"class": "MaxEpoch", "max_epoch": 3.0})
	return &Trainer{Model: s, Criterion: c, Method: m, End: end, BatchSize: 64, X: x, Y: y, Workers: workers}
}

func weightsAfter(t *testing.T, tr *Trainer) []float32 {
	t.Helper()
	if err := tr.Run(); err != nil {
		t.Fatal(err)
	}
	w, _ := nn.Flatten(tr.Model)
	return append([]float32(nil), w...)
}

// Splitting a batch across workers must give the whole batch's gradient
// (weighted class NLL included), up to summation order.
func TestWorkersMatchOneWorker(t *testing.T) {
	checkTwoWorkersMatchOne(t, func(workers int) *Trainer { return mlpTrainer(t, workers, false) })
}

// checkTwoWorkersMatchOne trains newTrainer's trainers for one and for two
// workers and compares the weights they reach: splitting a batch must give
// the whole batch's gradient, up to summation order.
func checkTwoWorkersMatchOne(t *testing.T, newTrainer func(workers int) *Trainer) {
	t.Helper()
	one := weightsAfter(t, newTrainer(1))
	tr := newTrainer(2)
	if err := tr.prepare(); err != nil || len(tr.workers) != 2 {
		t.Fatalf("expected 2 workers, got %d (%v)", len(tr.workers), err)
	}
	tr.release()
	two := weightsAfter(t, newTrainer(2))
	var diff, norm float64
	for i := range one {
		d := float64(one[i] - two[i])
		diff += d * d
		norm += float64(one[i]) * float64(one[i])
	}
	if rel := math.Sqrt(diff / norm); rel > 1e-5 || norm == 0 {
		t.Fatalf("2 workers drift from 1 worker: relative difference %g", rel)
	}
}

// workerGoroutines counts the goroutines prepare started that are still
// alive, whatever they are doing.
func workerGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "created by github.com/bigdl-go/bigdl-go/core/optim.(*Trainer).prepare")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// A run's worker goroutines end before Run returns, whether it finished or
// failed: the next run would otherwise set up its workers while they still
// read the Trainer, and an abandoned run would leave them behind.
func TestRunEndsItsWorkers(t *testing.T) {
	for _, fail := range []bool{false, true} {
		// An earlier test's workers may still be on their way out (see below):
		// count this run's alone.
		if n := awaitNoWorkers(); n != 0 {
			t.Fatalf("%d worker goroutines of earlier runs never ended", n)
		}
		tr := mlpTrainer(t, 3, false)
		end, during := tr.End, -1
		tr.End = func(s *State) bool {
			if during < 0 {
				during = workerGoroutines()
			}
			if fail && s.Iteration == 2 {
				panic(errors.New("the end trigger fails"))
			}
			return end(s)
		}
		err := tr.Run()
		if fail != (err != nil) {
			t.Fatalf("fail %v: Run returned %v", fail, err)
		}
		if during != 2 {
			t.Fatalf("%d worker goroutines during a run with 3 workers, want 2", during)
		}
		// A worker's last act is the deferred Done that release waits for, so
		// it may still be on its way out when Run returns: allow it that, but
		// not to stay. (That none touches the Trainer after Run returns is
		// what -race checks in TestOneTaskMatchesLocalTraining.)
		if n := awaitNoWorkers(); n != 0 {
			t.Fatalf("fail %v: %d worker goroutines outlive Run", fail, n)
		}
	}
}

// awaitNoWorkers gives exiting worker goroutines up to 5 s to end and
// returns how many are left.
func awaitNoWorkers() int {
	n := workerGoroutines()
	for deadline := time.Now().Add(5 * time.Second); n != 0 && time.Now().Before(deadline); n = workerGoroutines() {
		time.Sleep(time.Millisecond)
	}
	return n
}

func TestWorkersAreDeterministic(t *testing.T) {
	for _, workers := range []int{1, 2, 3} {
		a := weightsAfter(t, mlpTrainer(t, workers, true))
		b := weightsAfter(t, mlpTrainer(t, workers, true))
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%d workers: weight %d differs between seeded runs", workers, i)
			}
		}
	}
}

func TestSmallModelsUseOneWorker(t *testing.T) {
	tr := trainer(t, "SGD", nil, map[string]any{"class": "MaxEpoch", "max_epoch": 1.0}, 16)
	tr.Workers = 2
	if err := tr.prepare(); err != nil {
		t.Fatal(err)
	}
	defer tr.release()
	if len(tr.workers) != 1 {
		t.Fatalf("Linear(5,2) at batch 16 split across %d workers", len(tr.workers))
	}
}

// A training step allocates nothing once its buffers exist.
func TestStepDoesNotAllocate(t *testing.T) {
	for _, workers := range []int{1, 2} {
		tr := mlpTrainer(t, workers, true)
		if err := tr.prepare(); err != nil {
			t.Fatal(err)
		}
		idx := make([]int, 64)
		for i := range idx {
			idx[i] = i * 3
		}
		tr.step(idx)
		allocs := testing.AllocsPerRun(20, func() {
			if _, err := tr.step(idx); err != nil {
				t.Fatal(err)
			}
		})
		tr.release()
		if allocs != 0 {
			t.Errorf("%d workers: %v allocations per step", workers, allocs)
		}
	}
}

// mlp784Trainer is the benchmarks' model: the 784-256-256-10 MLP with SGD
// and class NLL, on 512 records of zeros (the data does not change the work).
func mlp784Trainer(b testing.TB, workers int) *Trainer {
	rng.Global.Seed(1)
	x, y := tensor.New(512, 784), tensor.New(512)
	for i := range y.Data {
		y.Data[i] = float32(1 + i%10)
	}
	s := nn.NewSequential()
	s.Add(nn.NewLinear(784, 256, true))
	s.Add(nn.NewReLU(false))
	s.Add(nn.NewLinear(256, 256, true))
	s.Add(nn.NewReLU(false))
	s.Add(nn.NewLinear(256, 10, true))
	s.Add(nn.NewLogSoftMax())
	c, _ := criterion.New("ClassNLLCriterion", nil)
	m, _ := NewMethod("SGD", map[string]any{"learningrate": 0.01})
	return &Trainer{Model: s, Criterion: c, Method: m, BatchSize: 128, X: x, Y: y, Workers: workers}
}

// firstRecords is the index list 0, 1, …, n-1.
func firstRecords(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

func BenchmarkStepMLP784(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[workers], func(b *testing.B) {
			tr := mlp784Trainer(b, workers)
			if err := tr.prepare(); err != nil {
				b.Fatal(err)
			}
			defer tr.release()
			idx := firstRecords(128)
			tr.step(idx) // the first step allocates the layers' buffers
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tr.step(idx)
			}
			b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// serialMethod hides a method's range steps, so the trainer sums the
// workers' gradients and updates on one goroutine.
type serialMethod struct{ Method }

// Workers sharing the update (each summing and updating a range) must give
// exactly the weights and optim state of the one-goroutine update.
func TestSharedUpdateMatchesSerialUpdate(t *testing.T) {
	methods := []struct {
		class string
		args  map[string]any
	}{
		{"SGD", map[string]any{"learningrate": 0.05, "momentum": 0.9, "dampening": 0.0, "nesterov": true, "weightdecay": 1e-3}},
		{"SGD", map[string]any{"learningrate": 0.05, "learningrate_decay": 0.01}},
		{"Adam", map[string]any{"learningrate": 0.01}},
		{"Adagrad", map[string]any{"learningrate": 0.05, "weightdecay": 1e-3}},
		{"RMSprop", map[string]any{"learningrate": 0.01}},
	}
	for _, mc := range methods {
		for _, workers := range []int{2, 3} {
			run := func(serial bool) ([]float32, MethodState) {
				tr := mlpTrainer(t, workers, false)
				m, err := NewMethod(mc.class, mc.args)
				if err != nil {
					t.Fatal(err)
				}
				tr.Method = m
				if serial {
					tr.Method = serialMethod{m}
				}
				return weightsAfter(t, tr), StateOf(m)
			}
			shared, sharedState := run(false)
			serial, serialState := run(true)
			for i := range serial {
				if shared[i] != serial[i] {
					t.Fatalf("%s %v, %d workers: weight %d is %v with a shared update, %v with a serial one",
						mc.class, mc.args, workers, i, shared[i], serial[i])
				}
			}
			if sharedState.T != serialState.T || len(sharedState.Bufs) != len(serialState.Bufs) {
				t.Fatalf("%s, %d workers: optim state differs: %d steps and %d buffers against %d and %d", mc.class, workers,
					sharedState.T, len(sharedState.Bufs), serialState.T, len(serialState.Bufs))
			}
			for b := range serialState.Bufs {
				for i := range serialState.Bufs[b] {
					if sharedState.Bufs[b][i] != serialState.Bufs[b][i] {
						t.Fatalf("%s, %d workers: state buffer %d differs at %d", mc.class, workers, b, i)
					}
				}
			}
		}
	}
}
