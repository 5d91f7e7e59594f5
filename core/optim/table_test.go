package optim

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/bigdl-go/bigdl-go/core/criterion"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// tableTrainer trains a two-input, two-output graph on table features and
// table labels (class NLL on one output, MSE on the other), big enough per
// iteration that the batch is split across workers.
func tableTrainer(t testing.TB, workers, n, in int) *Trainer {
	rng.Global.Seed(11)
	r := rand.New(rand.NewSource(4))
	x1, x2 := tensor.New(n, in), tensor.New(n, in/2)
	y1, y2 := tensor.New(n), tensor.New(n, 3)
	for _, d := range [][]float32{x1.Data, x2.Data, y2.Data} {
		for i := range d {
			d[i] = float32(r.NormFloat64())
		}
	}
	for i := range y1.Data {
		y1.Data[i] = float32(1 + i%3)
	}
	mk := func(class string, args map[string]any) nn.Module {
		m, err := nn.New(class, args)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// 0 in1, 1 in2, 2 L(in1), 3 L(in2), 4 add, 5 tanh, 6 L->3, 7 logsoftmax, 8 L->3 (MSE head)
	g, err := nn.NewGraph([]nn.Module{mk("Input", nil), mk("Input", nil), nn.NewLinear(in, 64, true),
		nn.NewLinear(in/2, 64, true), mk("CAddTable", nil), nn.NewTanh(), nn.NewLinear(64, 3, true),
		nn.NewLogSoftMax(), nn.NewLinear(64, 3, true)},
		[][]int{{}, {}, {0}, {1}, {2, 3}, {4}, {5}, {6}, {5}}, []int{0, 1}, []int{7, 8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := criterion.New("ParallelCriterion", map[string]any{"criteria": []any{
		map[string]any{"class": "ClassNLLCriterion", "args": map[string]any{}, "weight": 1.0},
		map[string]any{"class": "MSECriterion", "args": map[string]any{}, "weight": 0.5}}})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := NewMethod("SGD", map[string]any{"learningrate": 0.05})
	end, _ := NewTrigger(map[string]any{"class": "MaxEpoch", "max_epoch": 2.0})
	return &Trainer{Model: g, Criterion: c, Method: m, End: end, BatchSize: 64,
		X: tensor.NewTable(x1, x2), Y: tensor.NewTable(y1, y2), Workers: workers}
}

// The batch split divides tables record-wise, like tensors: two workers
// train to one worker's weights, up to summation order.
func TestTableWorkersMatchOneWorker(t *testing.T) {
	checkTwoWorkersMatchOne(t, func(workers int) *Trainer { return tableTrainer(t, workers, 256, 60) })
}

// A step on table data allocates nothing once its buffers exist.
func TestTableStepDoesNotAllocate(t *testing.T) {
	for _, workers := range []int{1, 2} {
		tr := tableTrainer(t, workers, 256, 60)
		if err := tr.prepare(); err != nil {
			t.Fatal(err)
		}
		idx := firstRecords(64)
		tr.step(idx)
		allocs := testing.AllocsPerRun(20, func() {
			if _, err := tr.step(idx); err != nil {
				t.Fatal(err)
			}
		})
		tr.release()
		if allocs != 0 {
			t.Errorf("%d workers: %v allocations per table step", workers, allocs)
		}
	}
}

func TestTableDataChecks(t *testing.T) {
	x := tensor.NewTable(tensor.New(4, 2), tensor.New(3, 2))
	if err := CheckData("the training set", x, tensor.New(4)); err == nil || !strings.Contains(err.Error(), "different numbers of records") {
		t.Fatalf("mismatched feature tensors accepted: %v", err)
	}
	x = tensor.NewTable(tensor.New(4, 2), tensor.New(4, 3))
	if err := CheckData("the training set", x, tensor.New(5)); err == nil || !strings.Contains(err.Error(), "4 records but 5 labels") {
		t.Fatalf("want a record count error, got %v", err)
	}
}

// BenchmarkStepTable is BenchmarkStepMLP784's model as a two-input graph
// (the 784 features split 392 + 392, joined by CAddTable after the first
// layer), to compare the cost of a step on tables with one on tensors.
func BenchmarkStepTable(b *testing.B) {
	for _, workers := range []int{1, 2} {
		b.Run(map[int]string{1: "workers=1", 2: "workers=2"}[workers], func(b *testing.B) {
			rng.Global.Seed(1)
			x1, x2, y := tensor.New(512, 392), tensor.New(512, 392), tensor.New(512)
			for i := range y.Data {
				y.Data[i] = float32(1 + i%10)
			}
			mk := func(class string) nn.Module { m, _ := nn.New(class, nil); return m }
			g, err := nn.NewGraph([]nn.Module{mk("Input"), mk("Input"), nn.NewLinear(392, 256, true),
				nn.NewLinear(392, 256, false), mk("CAddTable"), nn.NewReLU(false), nn.NewLinear(256, 256, true),
				nn.NewReLU(false), nn.NewLinear(256, 10, true), nn.NewLogSoftMax()},
				[][]int{{}, {}, {0}, {1}, {2, 3}, {4}, {5}, {6}, {7}, {8}}, []int{0, 1}, []int{9}, nil)
			if err != nil {
				b.Fatal(err)
			}
			c, _ := criterion.New("ClassNLLCriterion", nil)
			m, _ := NewMethod("SGD", map[string]any{"learningrate": 0.01})
			tr := &Trainer{Model: g, Criterion: c, Method: m, BatchSize: 128, X: tensor.NewTable(x1, x2), Y: y, Workers: workers}
			if err := tr.prepare(); err != nil {
				b.Fatal(err)
			}
			defer tr.release()
			idx := firstRecords(128)
			tr.step(idx)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tr.step(idx)
			}
			b.ReportMetric(float64(b.N*128)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
