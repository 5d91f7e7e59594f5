package main

import (
	"testing"

	"github.com/bigdl-go/bigdl-go/core/criterion"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/optim"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// testOptimizer is an Optimizer as Python builds one, with its data set:
// an MLP large enough per iteration that two workers share each batch.
func testOptimizer(t *testing.T, end map[string]any) *optimizer {
	t.Helper()
	s := nn.NewSequential()
	s.Add(nn.NewLinear(20, 256, true))
	s.Add(nn.NewReLU(false))
	s.Add(nn.NewLinear(256, 3, true))
	s.Add(nn.NewLogSoftMax())
	c, err := criterion.New("ClassNLLCriterion", nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := optim.NewMethod("SGD", map[string]any{"learningrate": 0.01})
	if err != nil {
		t.Fatal(err)
	}
	handles := []uint64{newHandle(nn.Module(s)), newHandle(c), newHandle(&methodObj{Method: m})}
	o, err := newOptimizer(map[string]any{"model": float64(handles[0]), "criterion": float64(handles[1]),
		"optim_method": float64(handles[2]), "end_trigger": end, "batch_size": 64.0, "cores": 2.0})
	if err != nil {
		t.Fatal(err)
	}
	x, y := tensor.New(256, 20), tensor.New(256)
	for i := range x.Data {
		x.Data[i] = float32(i%7) - 3
	}
	for i := range y.Data {
		y.Data[i] = float32(1 + i%3)
	}
	if _, err := o.call("set_data", &request{args: map[string]any{"which": "train"}, tensors: []*tensor.Tensor{x, y}}); err != nil {
		t.Fatal(err)
	}
	return o
}

func mustCall(t *testing.T, o *optimizer, method string, args map[string]any) map[string]any {
	t.Helper()
	resp, err := o.call(method, &request{args: args})
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	out, _ := resp.result.(map[string]any)
	return out
}

// Python polls a run's progress while the run's goroutine trains.
func TestPollWhileTraining(t *testing.T) {
	o := testOptimizer(t, map[string]any{"class": "MaxIteration", "max": 40.0})
	defer o.release()
	mustCall(t, o, "start", nil)
	status := mustCall(t, o, "poll", nil)
	for status["running"] == true {
		status = mustCall(t, o, "poll", nil)
	}
	if status["error"] != nil {
		t.Fatal(status["error"])
	}
	if status["iteration"] != 40 || status["epoch"] != 11 {
		t.Fatalf("the finished run is at epoch %v, iteration %v; want epoch 11, iteration 40", status["epoch"], status["iteration"])
	}
}

// Freeing an Optimizer whose run is still going ends the run before it
// returns: nothing of the run goes on using the model after Python let go.
func TestFreeEndsTheRun(t *testing.T) {
	o := testOptimizer(t, map[string]any{"class": "MaxEpoch", "max_epoch": 1e6})
	mustCall(t, o, "start", nil)
	for mustCall(t, o, "poll", nil)["iteration"] == 0 {
	}
	done := o.done
	o.release()
	select {
	case <-done:
	default:
		t.Fatal("release returned while the run goes on")
	}
	if status := mustCall(t, o, "poll", nil); status["running"] != false || status["status"] != statusCancelled {
		t.Fatalf("after release: %v", status)
	}
}
