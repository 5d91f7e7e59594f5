package optim

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/summary"
)

// recorder keeps what a trainer records, copying histogram values as they
// were when recorded.
type recorder struct {
	scalars map[string][]summary.Point
	histos  map[string]map[int64][]float32
	flushes int
}

func newRecorder() *recorder {
	return &recorder{scalars: map[string][]summary.Point{}, histos: map[string]map[int64][]float32{}}
}

func (r *recorder) Scalar(tag string, v float32, step int64, wall float64) error {
	r.scalars[tag] = append(r.scalars[tag], summary.Point{Step: step, Value: v, WallTime: wall})
	return nil
}

func (r *recorder) Histogram(tag string, v []float32, step int64, wall float64) error {
	if r.histos[tag] == nil {
		r.histos[tag] = map[int64][]float32{}
	}
	r.histos[tag][step] = slices.Clone(v)
	return nil
}

func (r *recorder) Flush() error { r.flushes++; return nil }

func steps(ps []summary.Point) []int64 {
	var out []int64
	for _, p := range ps {
		out = append(out, p.Step)
	}
	return out
}

func TestTrainSummaryRecords(t *testing.T) {
	tr := trainer(t, "SGD", map[string]any{"learningrate": 0.1, "learningrate_decay": 0.5},
		map[string]any{"class": "MaxIteration", "max": 6.0}, 25)
	every := func(n float64) Trigger {
		return mustTrigger(t, map[string]any{"class": "SeveralIteration", "interval": n})
	}
	rec := newRecorder()
	tr.Summary = &TrainSummary{Writer: rec, Loss: every(1), Throughput: every(1), LearningRate: every(3), Parameters: every(2)}
	val := newRecorder()
	vx, vy := blobs(40, 3)
	tr.Validation = &Validation{Trigger: every(2), BatchSize: 8, X: vx, Y: vy, Summary: val,
		Methods: func() ([]ValMethod, error) {
			m, err := NewValMethod(map[string]any{"class": "Top1Accuracy"})
			return []ValMethod{m}, err
		}}
	before := time.Now()
	if err := tr.Run(); err != nil {
		t.Fatal(err)
	}
	loss := rec.scalars["Loss"]
	if !slices.Equal(steps(loss), []int64{1, 2, 3, 4, 5, 6}) || float64(loss[5].Value) != float64(float32(tr.State.Loss)) {
		t.Fatalf("Loss %+v, last loss %v", loss, tr.State.Loss)
	}
	if w := loss[0].WallTime; w < float64(before.Unix()) || w > float64(time.Now().Unix()+1) {
		t.Fatalf("wall time %v", w)
	}
	for _, p := range rec.scalars["Throughput"] {
		if !(p.Value > 0) || math.IsInf(float64(p.Value), 0) {
			t.Fatalf("Throughput %+v", p)
		}
	}
	// The rate each step used: 0.1 / (1 + t·0.5), t the steps before it.
	lr := rec.scalars["LearningRate"]
	if !slices.Equal(steps(lr), []int64{3, 6}) || lr[0].Value != float32(0.1/2) || lr[1].Value != float32(0.1/3.5) {
		t.Fatalf("LearningRate %+v", lr)
	}
	lin := tr.Model.(nn.Container).Children()[0]
	name := lin.Meta().Name()
	for _, tag := range []string{"/weight", "/gradWeight", "/bias", "/gradBias"} {
		h := rec.histos[name+tag]
		if len(h) != 3 || h[2] == nil || h[4] == nil || h[6] == nil {
			t.Fatalf("%s: histograms at steps %v", name+tag, h)
		}
	}
	if !slices.Equal(rec.histos[name+"/weight"][6], lin.Params()[0].Value.Data) ||
		!slices.Equal(rec.histos[name+"/gradBias"][6], lin.Params()[1].Grad.Data) {
		t.Fatal("the last histograms are not the final weights and gradients")
	}
	if !slices.Equal(steps(val.scalars["Top1Accuracy"]), []int64{2, 4, 6}) {
		t.Fatalf("validation summary %+v", val.scalars)
	}
	if rec.flushes == 0 || val.flushes == 0 {
		t.Fatal("summaries not flushed at the run's end")
	}
}

// Recording every iteration into an event file allocates nothing.
func TestSummaryRecordingDoesNotAllocate(t *testing.T) {
	tr := mlpTrainer(t, 1, true)
	w, err := summary.NewWriter(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	every, _ := NewTrigger(map[string]any{"class": "SeveralIteration", "interval": 1.0})
	tr.Summary = &TrainSummary{Writer: w, Loss: every, Throughput: every, LearningRate: every, Parameters: every}
	if err := tr.prepare(); err != nil {
		t.Fatal(err)
	}
	defer tr.release()
	record := func() {
		r := tr.beginRecord(64, true)
		tr.State.Iteration++
		if err := tr.recordSummary(r, 0.5); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		record()
	}
	allocs := testing.AllocsPerRun(20, record)
	if allocs != 0 {
		t.Fatalf("%v allocations per recorded iteration", allocs)
	}
}

// failingWriter fails every write, as a full disk does.
type failingWriter struct{ *recorder }

func (failingWriter) Scalar(string, float32, int64, float64) error {
	return errors.New("writing the event file /logs/x: no space left on device")
}

// A summary that cannot be written stops the run with an error naming it,
// rather than losing the records silently.
func TestSummaryWriteFailureStopsTheRun(t *testing.T) {
	tr := trainer(t, "SGD", nil, map[string]any{"class": "MaxIteration", "max": 5.0}, 25)
	every := mustTrigger(t, map[string]any{"class": "SeveralIteration", "interval": 2.0})
	tr.Summary = &TrainSummary{Writer: failingWriter{newRecorder()}, Loss: every}
	err := tr.Run()
	if err == nil || !strings.Contains(err.Error(), "TrainSummary: writing the event file /logs/x: no space") ||
		!strings.Contains(err.Error(), "iteration 2") {
		t.Fatalf("Run: %v", err)
	}
}
