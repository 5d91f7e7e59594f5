package optim

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/bigdl-go/bigdl-go/core/criterion"
	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// ErrCancelled is returned by Run when Cancel stopped training.
var ErrCancelled = errors.New("training cancelled")

// Validation is what set_validation configured.
type Validation struct {
	Trigger   Trigger
	BatchSize int
	X, Y      *tensor.Tensor
	Methods   func() ([]ValMethod, error) // fresh accumulators for each run
}

// Trainer runs BigDL's training loop: shuffle each epoch, step through
// mini-batches, update with the optim method, validate when the trigger
// fires, stop at the end trigger.
type Trainer struct {
	Model      nn.Module
	Criterion  criterion.Criterion
	Method     Method
	End        Trigger
	BatchSize  int
	X, Y       *tensor.Tensor // all training records, first dimension the record
	Validation *Validation
	// Log receives progress lines (BigDL's format); LogInterval is the least
	// time between two iteration lines.
	Log         func(line string)
	LogInterval time.Duration

	State     State
	cancelled atomic.Bool
}

// Cancel asks Run to stop after the current iteration.
func (t *Trainer) Cancel() { t.cancelled.Store(true) }

// CheckData refuses data sets the loop cannot train on.
func CheckData(what string, x, y *tensor.Tensor) error {
	if x == nil || x.Dims() == 0 || x.Shape[0] == 0 {
		return fmt.Errorf("%s is empty: it needs at least one record", what)
	}
	if y == nil || y.Dims() == 0 || y.Shape[0] != x.Shape[0] {
		return fmt.Errorf("%s has %d records but %d labels", what, x.Shape[0], firstDim(y))
	}
	if i := firstNonFinite(x.Data); i >= 0 {
		per := x.Len() / x.Shape[0]
		return fmt.Errorf("%s: the features of record %d hold %v (features must be finite numbers)", what, i/per+1, x.Data[i])
	}
	if i := firstNonFinite(y.Data); i >= 0 {
		per := y.Len() / y.Shape[0]
		return fmt.Errorf("%s: the label of record %d holds %v (labels must be finite numbers)", what, i/per+1, y.Data[i])
	}
	return nil
}

func firstDim(t *tensor.Tensor) int {
	if t == nil || t.Dims() == 0 {
		return 0
	}
	return t.Shape[0]
}

func firstNonFinite(d []float32) int {
	for i, v := range d {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i
		}
	}
	return -1
}

// gather copies the records idx of src into dst (reusing its storage).
func gather(dst, src *tensor.Tensor, idx []int) *tensor.Tensor {
	per := src.Len() / src.Shape[0]
	shape := append([]int{len(idx)}, src.Shape[1:]...)
	dst = tensor.Ensure(dst, shape...)
	for i, r := range idx {
		copy(dst.Data[i*per:(i+1)*per], src.Data[r*per:(r+1)*per])
	}
	return dst
}

func (t *Trainer) log(format string, args ...any) {
	if t.Log != nil {
		t.Log(fmt.Sprintf(format, args...))
	}
}

// Run trains until the end trigger fires, Cancel is called, or an error
// occurs. A panic in a layer becomes the returned error.
func (t *Trainer) Run() (err error) {
	// where names the step a panic interrupted; it is updated by assignment
	// only, so the loop does not allocate.
	where := struct {
		epoch, iteration int
		validating       bool
	}{}
	defer func() {
		if r := recover(); r != nil {
			step := fmt.Sprintf("epoch %d, iteration %d", where.epoch, where.iteration)
			if where.validating {
				step = "validation after " + step
			}
			if e, ok := r.(error); ok {
				err = fmt.Errorf("training failed at %s: %w", step, e) // %w keeps runtime.Error visible
			} else {
				err = fmt.Errorf("training failed at %s: %v", step, r)
			}
		}
	}()
	if t.BatchSize <= 0 {
		return fmt.Errorf("batch_size must be a positive integer, got %d", t.BatchSize)
	}
	if err := CheckData("the training set", t.X, t.Y); err != nil {
		return err
	}
	weights, grads := nn.Flatten(t.Model)
	n := t.X.Shape[0]
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	shuffler := rng.New(rng.Global.Uint32())
	shuffler.Shuffle(order)

	nn.SetTraining(t.Model, true)
	t.State = State{Epoch: 1}
	start := time.Now()
	lastLog, logged := start, -1
	recordsSinceLog := 0
	pos := 0
	var xb, yb *tensor.Tensor
	checked := false
	var loss float64
	for !t.End(&t.State) {
		if t.cancelled.Load() {
			return ErrCancelled
		}
		where.epoch, where.iteration, where.validating = t.State.Epoch, t.State.Iteration+1, false
		hi := min(pos+t.BatchSize, n)
		xb, yb = gather(xb, t.X, order[pos:hi]), gather(yb, t.Y, order[pos:hi])
		out := t.Model.Forward(xb)
		if !checked {
			if err := t.checkOutput(out, yb); err != nil {
				return err
			}
			checked = true
		}
		loss = t.Criterion.Forward(out, yb)
		clear(grads)
		t.Model.Backward(xb, t.Criterion.Backward(out, yb))
		t.Method.Update(weights, grads)
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return fmt.Errorf("training diverged at epoch %d, iteration %d: the loss is %v (try a smaller learning rate)",
				t.State.Epoch, t.State.Iteration+1, loss)
		}

		t.State.Iteration++
		t.State.Loss = loss
		recordsSinceLog += hi - pos
		pos = hi
		epoch, done := t.State.Epoch, pos
		t.State.EpochEnded = pos == n
		if t.State.EpochEnded {
			t.State.Epoch++
			pos = 0
			shuffler.Shuffle(order)
		}
		now := time.Now()
		if logged < 0 || now.Sub(lastLog) >= t.LogInterval || t.End(&t.State) {
			secs := now.Sub(lastLog).Seconds()
			t.log("[Epoch %d %d/%d][Iteration %d][Wall Clock %.3fs] Trained %d records in %.4f seconds. Throughput is %.1f records/second. Loss is %s.",
				epoch, done, n, t.State.Iteration, now.Sub(start).Seconds(), recordsSinceLog, secs,
				float64(recordsSinceLog)/math.Max(secs, 1e-9), num(loss))
			lastLog, logged, recordsSinceLog = now, t.State.Iteration, 0
		}
		if v := t.Validation; v != nil && v.Trigger(&t.State) {
			where.validating = true
			if err := t.validate(epoch, done, n, start); err != nil {
				return err
			}
			nn.SetTraining(t.Model, true)
		}
	}
	return nil
}

// checkOutput refuses, on the first batch, labels the criterion cannot use
// with this model's output (class indices out of range).
func (t *Trainer) checkOutput(out, yb *tensor.Tensor) error {
	c, ok := t.Criterion.(criterion.TargetChecker)
	if !ok {
		return nil
	}
	_, width := out.Rows()
	if out.Dims() == 1 {
		width = out.Len()
	}
	if err := c.CheckTargets(t.Y, width); err != nil {
		return fmt.Errorf("training labels: %w", err)
	}
	if v := t.Validation; v != nil {
		if err := c.CheckTargets(v.Y, width); err != nil {
			return fmt.Errorf("validation labels: %w", err)
		}
	}
	return nil
}

func (t *Trainer) validate(epoch, done, n int, start time.Time) error {
	v := t.Validation
	methods, err := v.Methods()
	if err != nil {
		return err
	}
	results := Evaluate(t.Model, v.X, v.Y, v.BatchSize, methods)
	for i, r := range results {
		t.log("[Epoch %d %d/%d][Iteration %d][Wall Clock %.3fs] %s is %s",
			epoch, done, n, t.State.Iteration, time.Since(start).Seconds(), r.Method, r.Text)
		if i == 0 {
			t.State.Score, t.State.HasScore = r.Value, true
		}
	}
	return nil
}
