package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Linear computes y = x·Wᵀ + b for x of shape (input_size,) or
// (batch, input_size); W is (output_size, input_size), b is (output_size,).
type Linear struct {
	Base
	In, Out int
	Weight  *Param
	Bias    *Param // nil without bias
	params  []*Param
	inits   initMethods
	output  *tensor.Tensor
	gradIn  *tensor.Tensor
}

func init() {
	Register("Linear", func(a *Args) (Module, error) {
		return NewLinear(a.PositiveInt("input_size"), a.PositiveInt("output_size"), a.Bool("with_bias", true)), nil
	})
}

// NewLinear builds a Linear layer with BigDL's default initialisation.
func NewLinear(in, out int, withBias bool) *Linear {
	l := &Linear{Base: newBase("Linear"), In: in, Out: out, Weight: newParam("weight", out, in)}
	l.params = []*Param{l.Weight}
	if withBias {
		l.Bias = newParam("bias", out)
		l.params = append(l.params, l.Bias)
	}
	// BigDL's default: weight and bias from U(-1/√in, 1/√in).
	stdv := 1 / math.Sqrt(float64(in))
	u := uniformInit{class: "RandomUniform", lower: -stdv, upper: stdv, fixed: true}
	l.inits = initMethods{u, u}
	l.Reset()
	return l
}

// Reset draws weight then bias with the layer's init methods.
func (l *Linear) Reset() { l.inits.draw(l, l.Weight, l.Bias) }

// Fans are BigDL's: the weight is OUT_IN, the bias ONE_D.
func (l *Linear) Fans(p *Param) (int, int) {
	if p == l.Weight {
		return FansOutIn(p.Value.Shape)
	}
	return FansOneD(p.Value.Shape)
}

func (l *Linear) SetInitMethods(w, b InitMethod) error {
	if err := l.inits.set(l, l.Weight, l.Bias, w, b); err != nil {
		return err
	}
	l.Reset()
	return nil
}

func (l *Linear) Params() []*Param { return l.params }

func (l *Linear) Config() map[string]any {
	return map[string]any{"input_size": l.In, "output_size": l.Out, "with_bias": l.Bias != nil}
}

func (l *Linear) String() string {
	return fmt.Sprintf("Linear[%s](%d -> %d)", l.name, l.In, l.Out)
}

func (l *Linear) rows(x *tensor.Tensor) int { return vectorRows(l, x, l.In) }

func (l *Linear) Forward(x *tensor.Tensor) *tensor.Tensor {
	n := l.rows(x)
	if x.Dims() == 1 {
		l.output = tensor.Ensure(l.output, l.Out)
	} else {
		l.output = tensor.Ensure(l.output, n, l.Out)
	}
	y := l.output.Data
	if l.Bias != nil {
		for i := 0; i < n; i++ {
			copy(y[i*l.Out:(i+1)*l.Out], l.Bias.Value.Data)
		}
		kernels.Sgemm(false, true, n, l.Out, l.In, 1, x.Data, l.In, l.Weight.Value.Data, l.In, 1, y, l.Out)
	} else {
		kernels.Sgemm(false, true, n, l.Out, l.In, 1, x.Data, l.In, l.Weight.Value.Data, l.In, 0, y, l.Out)
	}
	return l.output
}

func (l *Linear) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	n := l.rows(x)
	if gy.Len() != n*l.Out {
		shapeError(l, fmt.Sprintf("a gradient of %d values", n*l.Out), gy.Shape)
	}
	var gradIn *tensor.Tensor
	if !l.inputGradUnused {
		l.gradIn = tensor.Ensure(l.gradIn, x.Shape...)
		kernels.Sgemm(false, false, n, l.In, l.Out, 1, gy.Data, l.Out, l.Weight.Value.Data, l.In, 0, l.gradIn.Data, l.In)
		gradIn = l.gradIn
	}
	if l.frozen {
		return gradIn
	}
	beta := float32(1) // BigDL's Backward accumulates
	if l.gradsOverwritten {
		beta = 0
	}
	kernels.Sgemm(true, false, l.Out, l.In, n, 1, gy.Data, l.Out, x.Data, l.In, beta, l.Weight.Grad.Data, l.In)
	if l.Bias != nil {
		if l.gradsOverwritten {
			clear(l.Bias.Grad.Data)
		}
		kernels.SumRows(l.Bias.Grad.Data, gy.Data, n, l.Out)
	}
	return gradIn
}

func (l *Linear) overwritesGrads() {}
