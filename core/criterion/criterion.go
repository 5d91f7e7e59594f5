// Package criterion holds the loss functions: each computes a loss from a
// model output and a target, and the gradient of that loss with respect to
// the output.
package criterion

import (
	"encoding/json"
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Criterion is a loss function.
type Criterion interface {
	// Forward returns the loss of output x against target y.
	Forward(x, y *tensor.Tensor) float64
	// Backward returns the gradient of the loss with respect to x; the
	// tensor belongs to the criterion and is overwritten by the next call.
	Backward(x, y *tensor.Tensor) *tensor.Tensor
	// Norm is what Forward divides the summed loss by (the target weights'
	// sum, or the element count) and whether it divides at all, so a batch
	// split across workers can be weighted back into exactly this loss.
	Norm(x, y *tensor.Tensor) (norm float64, averaged bool)
	// Class is BigDL's class name; Config the constructor arguments.
	Class() string
	Config() map[string]any
}

// RecordLosses is implemented by criteria that can report the loss of each
// record of a batch, as if each were a batch of one; validation uses it to
// report the exact mean over records.
type RecordLosses interface {
	SumRecordLosses(x, y *tensor.Tensor) (sum float64, records int)
}

// TargetChecker is implemented by criteria whose targets have a valid range
// (class indices), so that bad labels are refused before training starts.
type TargetChecker interface {
	CheckTargets(y *tensor.Tensor, outputWidth int) error
}

// tableTaker is a criterion whose input or target may be a table (the
// criteria of table.go); every other criterion takes tensors only.
type tableTaker interface{ takesTables() }

// Check panics unless c takes x and y: a criterion of tensors given a table
// would read it as an empty tensor. Callers check before Forward, Norm and
// Backward.
func Check(c Criterion, x, y *tensor.Tensor) {
	if x.IsTable() || y.IsTable() {
		if _, ok := c.(tableTaker); !ok {
			panic(fmt.Errorf("%s: expected a tensor input and target, got input %s and target %s",
				c.Class(), x.Describe(), y.Describe()))
		}
	}
}

var registry = nn.NewRegistry[Criterion]("criterion")

func register(class string, c func(*nn.Args) (Criterion, error)) { registry.Register(class, c) }

// New builds a criterion of the named class.
func New(class string, args map[string]any) (Criterion, error) { return registry.New(class, args) }

// IsClass reports whether class is a registered criterion class.
func IsClass(class string) bool { return registry.Has(class) }

// Classes lists the registered criterion classes.
func Classes() []string { return registry.Classes() }

// rows splits x into a batch of rows: a 1-D input is one record.
func rows(x *tensor.Tensor) (n, width int) {
	if x.Dims() <= 1 {
		return 1, x.Len()
	}
	return x.Rows()
}

// SumRecordLosses is the generic per-record loss: the criterion applied to
// each record alone.
func SumRecordLosses(c Criterion, x, y *tensor.Tensor) (float64, int) {
	Check(c, x, y)
	if r, ok := c.(RecordLosses); ok {
		return r.SumRecordLosses(x, y)
	}
	if x.IsTable() || y.IsTable() {
		n := x.Records()
		var sum float64
		for i := 0; i < n; i++ {
			sum += c.Forward(x.Slice(i, i+1), y.Slice(i, i+1))
		}
		return sum, n
	}
	n, w := rows(x)
	if x.Dims() <= 1 {
		return c.Forward(x, y), 1
	}
	yw := y.Len() / n
	xs := append([]int{1}, x.Shape[1:]...)
	ys := []int{1}
	if y.Dims() > 1 {
		ys = append(ys, y.Shape[1:]...)
	}
	var sum float64
	for i := 0; i < n; i++ {
		xi := &tensor.Tensor{Shape: xs, Data: x.Data[i*w : (i+1)*w]}
		yi := &tensor.Tensor{Shape: ys, Data: y.Data[i*yw : (i+1)*yw]}
		sum += c.Forward(xi, yi)
	}
	return sum, n
}

func sameVolume(class string, x, y *tensor.Tensor) {
	if x.Len() != y.Len() {
		panic(fmt.Errorf("%s: target of shape %s does not match output of shape %s",
			class, tensor.ShapeString(y.Shape), tensor.ShapeString(x.Shape)))
	}
}

// Clone builds an independent criterion of the same class and arguments (a
// criterion keeps gradient buffers, so concurrent workers need their own).
func Clone(c Criterion) (Criterion, error) {
	raw, err := json.Marshal(c.Config())
	if err != nil {
		return nil, err
	}
	var args map[string]any
	if err := json.Unmarshal(raw, &args); err != nil {
		return nil, err
	}
	return New(c.Class(), args)
}
