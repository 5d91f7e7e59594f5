package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// TimeDistributed applies its module to every time step of a (batch, T,
// ...) input at once: the batch and time dimensions fold into one, the
// module runs on (batch·T, ...), and its output unfolds to (batch, T, ...).
type TimeDistributed struct {
	single
	inShape, outShape, gyShape []int
	view, gyView               tensor.Tensor
	output, gradIn             tensor.Tensor
	n, steps                   int
}

func init() {
	Register("TimeDistributed", func(a *Args) (Module, error) {
		return &TimeDistributed{single: single{container{Base: newBase("TimeDistributed")}}}, nil
	})
}

func (d *TimeDistributed) Add(x Module) error { return d.single.Add(d, x) }

// fold views x as (batch·T, ...).
func (d *TimeDistributed) fold(x *tensor.Tensor) {
	if x.IsTable() || x.Dims() < 3 {
		panic(fmt.Errorf("%s: expected input of shape (batch, time, ...) with at least 3 dimensions, got %s",
			d.label(), x.Describe()))
	}
	d.n, d.steps = x.Shape[0], x.Shape[1]
	d.inShape = append(append(d.inShape[:0], d.n*d.steps), x.Shape[2:]...)
	d.view = tensor.Tensor{Shape: d.inShape, Data: x.Data}
}

func (d *TimeDistributed) label() string { return fmt.Sprintf("TimeDistributed[%s]", d.name) }

func (d *TimeDistributed) Forward(x *tensor.Tensor) *tensor.Tensor {
	mod := d.module(d)
	d.fold(x)
	out := Forward(mod, &d.view)
	if out.IsTable() || out.Dims() < 1 || out.Shape[0] != d.n*d.steps {
		panic(fmt.Errorf("%s: its module should return one row per time step (%d), got %s", d.label(),
			d.n*d.steps, out.Describe()))
	}
	d.outShape = append(append(d.outShape[:0], d.n, d.steps), out.Shape[1:]...)
	d.output = tensor.Tensor{Shape: d.outShape, Data: out.Data}
	return &d.output
}

func (d *TimeDistributed) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	mod := d.module(d)
	mod.Meta().inputGradUnused = d.inputGradUnused
	d.fold(x)
	if gy.IsTable() || !tensor.SameShape(gy.Shape, d.outShape) {
		shapeError(d, "a gradient of shape "+tensor.ShapeString(d.outShape), gy.Shape)
	}
	d.gyShape = append(append(d.gyShape[:0], d.n*d.steps), gy.Shape[2:]...)
	d.gyView = tensor.Tensor{Shape: d.gyShape, Data: gy.Data}
	g := Backward(mod, &d.view, &d.gyView)
	if g == nil {
		return nil
	}
	d.gradIn = tensor.Tensor{Shape: x.Shape, Data: g.Data}
	return &d.gradIn
}
