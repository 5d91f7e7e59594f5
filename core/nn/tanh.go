package nn

import (
	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// tanhLayer is Tanh on the vectorised kernels: LeNet-5's activation, where
// a call per element to math.Tanh took a third of the training step.
type tanhLayer struct{ *elementwise }

func (t tanhLayer) Forward(x *tensor.Tensor) *tensor.Tensor {
	t.output = tensor.Ensure(t.output, x.Shape...)
	kernels.Tanh(t.output.Data, x.Data)
	return t.output
}

func (t tanhLayer) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	if gy.Len() != x.Len() {
		shapeError(t, "a gradient shaped like the input "+tensor.ShapeString(x.Shape), gy.Shape)
	}
	t.gradIn = tensor.Ensure(t.gradIn, x.Shape...)
	kernels.TanhBackward(t.gradIn.Data, gy.Data, t.output.Data)
	return t.gradIn
}
