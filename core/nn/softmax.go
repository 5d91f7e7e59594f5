package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// softmax is SoftMax or, with log set, LogSoftMax, over the last dimension of
// a 1-D (features) or 2-D (batch, features) input.
type softmax struct {
	Base
	log    bool
	output *tensor.Tensor
	gradIn *tensor.Tensor
}

func init() {
	Register("SoftMax", func(a *Args) (Module, error) { return NewSoftMax(), nil })
	Register("LogSoftMax", func(a *Args) (Module, error) { return NewLogSoftMax(), nil })
}

// NewSoftMax is exp(x_i - m)/Σ exp(x_j - m), m the row maximum.
func NewSoftMax() Module { return &softmax{Base: newBase("SoftMax")} }

// NewLogSoftMax is x_i - log Σ exp(x_j), computed stably.
func NewLogSoftMax() Module { return &softmax{Base: newBase("LogSoftMax"), log: true} }

func (s *softmax) Params() []*Param       { return nil }
func (s *softmax) Config() map[string]any { return map[string]any{} }
func (s *softmax) Reset()                 {}
func (s *softmax) String() string         { return fmt.Sprintf("%s[%s]", s.class, s.name) }

func (s *softmax) dims(x *tensor.Tensor) (rows, cols int) {
	if x.Dims() != 1 && x.Dims() != 2 || x.Len() == 0 {
		shapeError(s, "shape (features,) or (batch, features)", x.Shape)
	}
	return x.Rows()
}

func (s *softmax) Forward(x *tensor.Tensor) *tensor.Tensor {
	rows, cols := s.dims(x)
	s.output = tensor.Ensure(s.output, x.Shape...)
	for r := 0; r < rows; r++ {
		in, out := x.Data[r*cols:(r+1)*cols], s.output.Data[r*cols:(r+1)*cols]
		m := in[0]
		for _, v := range in {
			if v > m {
				m = v
			}
		}
		var sum float64
		for _, v := range in {
			sum += math.Exp(float64(v - m))
		}
		if s.log {
			lse := float32(math.Log(sum)) + m
			for i, v := range in {
				out[i] = v - lse
			}
		} else {
			inv := 1 / sum
			for i, v := range in {
				out[i] = float32(math.Exp(float64(v-m)) * inv)
			}
		}
	}
	return s.output
}

func (s *softmax) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	rows, cols := s.dims(x)
	if gy.Len() != x.Len() {
		shapeError(s, "a gradient shaped like the input "+tensor.ShapeString(x.Shape), gy.Shape)
	}
	s.gradIn = tensor.Ensure(s.gradIn, x.Shape...)
	for r := 0; r < rows; r++ {
		y, g, gi := s.output.Data[r*cols:(r+1)*cols], gy.Data[r*cols:(r+1)*cols], s.gradIn.Data[r*cols:(r+1)*cols]
		var sum float32
		if s.log {
			// d/dx_i = g_i - exp(y_i)·Σ g_j
			for _, v := range g {
				sum += v
			}
			for i := range gi {
				gi[i] = g[i] - float32(math.Exp(float64(y[i])))*sum
			}
		} else {
			// d/dx_i = y_i·(g_i - Σ g_j y_j)
			for i := range g {
				sum += g[i] * y[i]
			}
			for i := range gi {
				gi[i] = y[i] * (g[i] - sum)
			}
		}
	}
	return s.gradIn
}
