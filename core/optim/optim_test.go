package optim

import (
	"errors"
	"fmt"
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/criterion"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// blobs makes two well-separated classes in 5 dimensions, labels 1 and 2.
func blobs(n int, seed int64) (*tensor.Tensor, *tensor.Tensor) {
	r := rand.New(rand.NewSource(seed))
	x, y := tensor.New(n, 5), tensor.New(n)
	for i := 0; i < n; i++ {
		c := r.Intn(2)
		y.Data[i] = float32(c + 1)
		for j := 0; j < 5; j++ {
			x.Data[i*5+j] = float32(r.NormFloat64() + 2*float64(c) - 1)
		}
	}
	return x, y
}

func model() nn.Module {
	s := nn.NewSequential()
	s.Add(nn.NewLinear(5, 2, true))
	s.Add(nn.NewLogSoftMax())
	return s
}

func mustTrigger(t *testing.T, spec map[string]any) Trigger {
	t.Helper()
	tr, err := NewTrigger(spec)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func trainer(t *testing.T, method string, args map[string]any, end map[string]any, batch int) *Trainer {
	t.Helper()
	rng.Global.Seed(42)
	x, y := blobs(100, 1)
	m, err := NewMethod(method, args)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := criterion.New("ClassNLLCriterion", nil)
	return &Trainer{Model: model(), Criterion: c, Method: m, End: mustTrigger(t, end), BatchSize: batch, X: x, Y: y}
}

func accuracy(t *testing.T, tr *Trainer) float64 {
	x, y := blobs(200, 2)
	top1, _ := NewValMethod(map[string]any{"class": "Top1Accuracy"})
	return Evaluate(tr.Model, x, y, 32, []ValMethod{top1})[0].Value
}

func TestMethodsConverge(t *testing.T) {
	for _, c := range []struct {
		method string
		args   map[string]any
	}{
		{"SGD", map[string]any{"learningrate": 0.1}},
		{"SGD", map[string]any{"learningrate": 0.05, "momentum": 0.9, "dampening": 0.0, "nesterov": true, "weightdecay": 1e-4}},
		{"SGD", map[string]any{"learningrate": 0.1, "learningrate_decay": 0.01, "momentum": 0.5}},
		{"Adam", map[string]any{"learningrate": 0.05}},
		{"Adagrad", map[string]any{"learningrate": 0.3}},
		{"RMSprop", map[string]any{"learningrate": 0.01}},
	} {
		tr := trainer(t, c.method, c.args, map[string]any{"class": "MaxEpoch", "max_epoch": 10.0}, 10)
		if err := tr.Run(); err != nil {
			t.Fatal(err)
		}
		if acc := accuracy(t, tr); acc < 0.9 {
			t.Errorf("%s %v: accuracy %v after 10 epochs", c.method, c.args, acc)
		}
	}
}

func TestSGDMatchesTorchRule(t *testing.T) {
	// Two steps of momentum SGD with the default dampening (= momentum), by hand.
	m, _ := NewMethod("SGD", map[string]any{"learningrate": 0.1, "momentum": 0.9, "weightdecay": 0.01})
	x := []float32{1}
	m.Update(x, []float32{0.5})
	g1 := 0.5 + 0.01*1.0
	x1 := 1 - 0.1*g1
	if math.Abs(float64(x[0])-x1) > 1e-6 {
		t.Fatalf("step 1: %v, want %v", x[0], x1)
	}
	m.Update(x, []float32{0.5})
	g2 := 0.5 + 0.01*x1
	buf := 0.9*g1 + (1-0.9)*g2
	if want := x1 - 0.1*buf; math.Abs(float64(x[0])-want) > 1e-6 {
		t.Fatalf("step 2: %v, want %v", x[0], want)
	}
}

func TestTriggersCountExactly(t *testing.T) {
	// 100 records at batch 16: 7 iterations per epoch.
	cases := []struct {
		end  map[string]any
		want int
	}{
		{map[string]any{"class": "MaxEpoch", "max_epoch": 3.0}, 21},
		{map[string]any{"class": "MaxIteration", "max": 10.0}, 10},
		{map[string]any{"class": "TriggerOr", "triggers": []any{
			map[string]any{"class": "MaxIteration", "max": 100.0}, map[string]any{"class": "MaxEpoch", "max_epoch": 1.0}}}, 7},
	}
	for _, c := range cases {
		tr := trainer(t, "SGD", nil, c.end, 16)
		if err := tr.Run(); err != nil {
			t.Fatal(err)
		}
		if tr.State.Iteration != c.want {
			t.Errorf("%v: %d iterations, want %d", c.end, tr.State.Iteration, c.want)
		}
	}
}

func TestValidationTriggers(t *testing.T) {
	for _, c := range []struct {
		trigger map[string]any
		want    int
	}{
		{map[string]any{"class": "EveryEpoch"}, 3},
		{map[string]any{"class": "SeveralIteration", "interval": 5.0}, 4}, // iterations 5, 10, 15, 20 of 21
	} {
		tr := trainer(t, "SGD", nil, map[string]any{"class": "MaxEpoch", "max_epoch": 3.0}, 16)
		x, y := blobs(30, 3)
		runs := 0
		tr.Validation = &Validation{Trigger: mustTrigger(t, c.trigger), BatchSize: 8, X: x, Y: y,
			Methods: func() ([]ValMethod, error) {
				runs++
				m, err := NewValMethod(map[string]any{"class": "Loss"})
				return []ValMethod{m}, err
			}}
		if err := tr.Run(); err != nil {
			t.Fatal(err)
		}
		if runs != c.want {
			t.Errorf("%v: validated %d times, want %d", c.trigger, runs, c.want)
		}
	}
}

func TestBadDataIsRefused(t *testing.T) {
	tr := trainer(t, "SGD", nil, map[string]any{"class": "MaxEpoch", "max_epoch": 1.0}, 16)
	tr.Y.Data[50] = 0
	if err := tr.Run(); err == nil || !strings.Contains(err.Error(), "1-based") {
		t.Fatalf("label 0: want an error saying labels are 1-based, got %v", err)
	}
	tr = trainer(t, "SGD", nil, map[string]any{"class": "MaxEpoch", "max_epoch": 1.0}, 16)
	tr.X.Data[7] = float32(math.NaN())
	if err := tr.Run(); err == nil || !strings.Contains(err.Error(), "record 2") {
		t.Fatalf("NaN feature: want an error naming record 2, got %v", err)
	}
	tr = trainer(t, "SGD", nil, map[string]any{"class": "MaxEpoch", "max_epoch": 1.0}, 16)
	tr.X = tensor.New(100, 7)
	if err := tr.Run(); err == nil || !strings.Contains(err.Error(), "Linear") {
		t.Fatalf("wrong width: want an error naming the Linear layer, got %v", err)
	}
}

func TestCancel(t *testing.T) {
	tr := trainer(t, "SGD", nil, map[string]any{"class": "MaxEpoch", "max_epoch": 1000000.0}, 16)
	tr.Cancel()
	if err := tr.Run(); !errors.Is(err, ErrCancelled) {
		t.Fatalf("want ErrCancelled, got %v", err)
	}
}

func TestSeededRunsAreIdentical(t *testing.T) {
	run := func() []float32 {
		tr := trainer(t, "SGD", map[string]any{"learningrate": 0.1}, map[string]any{"class": "MaxEpoch", "max_epoch": 2.0}, 16)
		if err := tr.Run(); err != nil {
			t.Fatal(err)
		}
		w, _ := nn.Flatten(tr.Model)
		return append([]float32(nil), w...)
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("weight %d differs between seeded runs: %v vs %v", i, a[i], b[i])
		}
	}
}

func TestLossIsExactMeanOverRecords(t *testing.T) {
	rng.Global.Seed(1)
	m := model()
	x, y := blobs(37, 5)
	mk := func() []ValMethod { v, _ := NewValMethod(map[string]any{"class": "Loss"}); return []ValMethod{v} }
	a := Evaluate(m, x, y, 5, mk())[0]
	b := Evaluate(m, x, y, 37, mk())[0]
	if a.Count != 37 || math.Abs(a.Value-b.Value) > 1e-6 {
		t.Fatalf("loss depends on batch size: %v vs %v", a, b)
	}
}

func TestFirstNonFinite(t *testing.T) {
	d := make([]float32, 3000)
	for i := range d {
		d[i] = float32(i) - 1500
	}
	d[7] = math.MaxFloat32
	d[8] = -math.MaxFloat32
	d[9] = math.SmallestNonzeroFloat32
	if i := firstNonFinite(d); i != -1 {
		t.Fatalf("finite values: got index %d", i)
	}
	bad := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}
	for _, at := range []int{0, 1023, 1024, 2047, 2999} {
		for _, v := range bad {
			e := append([]float32(nil), d...)
			e[at] = v
			if at+5 < len(e) {
				e[at+5] = float32(math.NaN()) // a later one is not the answer
			}
			if i := firstNonFinite(e); i != at {
				t.Fatalf("%v at %d: got index %d", v, at, i)
			}
		}
	}
}

// Progress is what Python's progress bar reads while the loop runs: it must
// end where State ends, and a reader must never see a position the loop
// never passed through (iteration k's epoch with another's record count).
func TestProgressFollowsTheLoop(t *testing.T) {
	// 100 records at batch 16: 7 iterations per epoch, the last of 4 records.
	for _, c := range []struct{ iterations, epoch, records int }{
		{3000, 429, 64}, // 428 epochs and 4 iterations of the 429th
		{2996, 429, 0},  // an epoch's end: the next epoch, none of its records yet
	} {
		tr := trainer(t, "SGD", nil, map[string]any{"class": "MaxIteration", "max": float64(c.iterations)}, 16)
		if p := tr.Progress(); p != (Progress{}) {
			t.Fatalf("before the run: %+v, want zeros", p)
		}
		stop := make(chan struct{})
		bad := make(chan string, 1)
		go func() {
			defer close(bad)
			last := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				p := tr.Progress()
				if p.Epoch == 0 {
					continue // not started
				}
				inEpoch := p.Iteration - 7*(p.Epoch-1) // iterations of the epoch in progress
				want := min(16*inEpoch, 100)
				if p.Iteration < last || inEpoch < 0 || inEpoch > 6 || p.EpochRecords != want {
					bad <- fmt.Sprintf("%+v after iteration %d: want %d records of epoch %d", p, last, want, p.Epoch)
					return
				}
				last = p.Iteration
			}
		}()
		err := tr.Run()
		close(stop)
		if msg, ok := <-bad; ok {
			t.Fatal(msg)
		}
		if err != nil {
			t.Fatal(err)
		}
		want := Progress{Epoch: c.epoch, Iteration: c.iterations, EpochRecords: c.records, Loss: tr.State.Loss}
		if p := tr.Progress(); p != want || p.Loss <= 0 {
			t.Fatalf("after the run: %+v, want %+v with a positive loss", p, want)
		}
	}
}
