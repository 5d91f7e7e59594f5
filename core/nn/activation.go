package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/kernels"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// elementwise is a parameterless layer applying f to every element; df gives
// the derivative from the input x and the output y, whichever is cheaper.
type elementwise struct {
	Base
	f      func(x float32) float32
	df     func(x, y float32) float32
	config map[string]any
	output *tensor.Tensor
	gradIn *tensor.Tensor
}

func newElementwise(class string, config map[string]any, f func(float32) float32, df func(x, y float32) float32) *elementwise {
	return &elementwise{Base: newBase(class), f: f, df: df, config: config}
}

func (e *elementwise) Params() []*Param       { return nil }
func (e *elementwise) Config() map[string]any { return e.config }
func (e *elementwise) Reset()                 {}
func (e *elementwise) String() string         { return fmt.Sprintf("%s[%s]", e.class, e.name) }

func (e *elementwise) Forward(x *tensor.Tensor) *tensor.Tensor {
	e.output = tensor.Ensure(e.output, x.Shape...)
	y := e.output.Data
	for i, v := range x.Data {
		y[i] = e.f(v)
	}
	return e.output
}

func (e *elementwise) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	if gy.Len() != x.Len() {
		shapeError(e, "a gradient shaped like the input "+tensor.ShapeString(x.Shape), gy.Shape)
	}
	e.gradIn = tensor.Ensure(e.gradIn, x.Shape...)
	g, y := e.gradIn.Data, e.output.Data
	for i, v := range x.Data {
		g[i] = gy.Data[i] * e.df(v, y[i])
	}
	return e.gradIn
}

func init() {
	Register("ReLU", func(a *Args) (Module, error) {
		return NewReLU(a.Bool("ip", false)), nil
	})
	Register("Tanh", func(a *Args) (Module, error) { return NewTanh(), nil })
	Register("Sigmoid", func(a *Args) (Module, error) { return NewSigmoid(), nil })
	Register("Identity", func(a *Args) (Module, error) {
		e := newElementwise("Identity", map[string]any{}, func(x float32) float32 { return x },
			func(x, y float32) float32 { return 1 })
		return fastElementwise{e, &sliceFns{
			fwd: func(y, x []float32) { copy(y, x) },
			bwd: func(g, gy, _, _ []float32) { copy(g, gy) },
		}}, nil
	})
}

// relu is max(0, x) on the vectorised kernels: the activation of most
// networks trained with this API, so it skips elementwise's per-element call.
type relu struct{ *elementwise }

// NewReLU is max(0, x). The in-place flag is accepted for BigDL's signature;
// outputs are always written to the layer's own buffer.
func NewReLU(inPlace bool) Module {
	return relu{newElementwise("ReLU", map[string]any{"ip": inPlace}, nil, nil)}
}

func (r relu) Forward(x *tensor.Tensor) *tensor.Tensor {
	r.output = tensor.Ensure(r.output, x.Shape...)
	kernels.ReLU(r.output.Data, x.Data)
	return r.output
}

func (r relu) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	if gy.Len() != x.Len() {
		shapeError(r, "a gradient shaped like the input "+tensor.ShapeString(x.Shape), gy.Shape)
	}
	r.gradIn = tensor.Ensure(r.gradIn, x.Shape...)
	kernels.ReLUBackward(r.gradIn.Data, gy.Data, x.Data)
	return r.gradIn
}

// NewTanh is the element-wise hyperbolic tangent (see tanh.go).
func NewTanh() Module {
	return tanhLayer{newElementwise("Tanh", map[string]any{}, nil, nil)}
}

// NewSigmoid is 1/(1+e^-x), on the vector kernels; f and df define it for
// TestFastSlicesMatchTheirRows.
func NewSigmoid() Module {
	e := newElementwise("Sigmoid", map[string]any{},
		func(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) },
		func(x, y float32) float32 { return y * (1 - y) })
	return fastElementwise{e, &sliceFns{
		fwd: kernels.Sigmoid,
		bwd: func(g, gy, _, y []float32) { kernels.SigmoidBackward(g, gy, y) },
	}}
}
