package criterion

import (
	"math"

	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// elementwise is a loss that sums f(x_i, y_i) over all elements and, when
// size averaging, divides by the element count (MSE, Abs, BCE).
type elementwise struct {
	class       string
	config      map[string]any
	sizeAverage bool
	weights     []float32 // BCE's per-element weights, repeated over the batch
	f           func(x, y float64) float64
	df          func(x, y float64) float64
	grad        *tensor.Tensor
}

func init() {
	register("MSECriterion", func(a *nn.Args) (Criterion, error) {
		avg := a.Bool("size_average", true)
		return &elementwise{class: "MSECriterion", config: map[string]any{"size_average": avg}, sizeAverage: avg,
			f:  func(x, y float64) float64 { return (x - y) * (x - y) },
			df: func(x, y float64) float64 { return 2 * (x - y) }}, nil
	})
	register("AbsCriterion", func(a *nn.Args) (Criterion, error) {
		avg := a.Bool("size_average", true)
		return &elementwise{class: "AbsCriterion", config: map[string]any{"size_average": avg}, sizeAverage: avg,
			f: func(x, y float64) float64 { return math.Abs(x - y) },
			df: func(x, y float64) float64 {
				switch {
				case x > y:
					return 1
				case x < y:
					return -1
				}
				return 0
			}}, nil
	})
	register("BCECriterion", func(a *nn.Args) (Criterion, error) {
		avg := a.Bool("size_average", true)
		w := floats32(a.Floats("weights"))
		return &elementwise{class: "BCECriterion", config: map[string]any{"weights": w, "size_average": avg},
			sizeAverage: avg, weights: w,
			f: func(x, y float64) float64 {
				return -(y*math.Log(math.Max(x, bceEps)) + (1-y)*math.Log(math.Max(1-x, bceEps)))
			},
			df: func(x, y float64) float64 {
				return -(y - x) / math.Max(x*(1-x), bceEps)
			}}, nil
	})
}

// bceEps keeps BCE's logarithms finite at probabilities of exactly 0 or 1.
const bceEps = 1e-12

func (e *elementwise) Class() string          { return e.class }
func (e *elementwise) Config() map[string]any { return e.config }

func (e *elementwise) weight(i int) float64 {
	if e.weights == nil {
		return 1
	}
	return float64(e.weights[i%len(e.weights)])
}

func (e *elementwise) Norm(x, y *tensor.Tensor) (float64, bool) {
	return float64(x.Len()), e.sizeAverage
}

func (e *elementwise) Forward(x, y *tensor.Tensor) float64 {
	sameVolume(e.class, x, y)
	var s float64
	for i, v := range x.Data {
		s += e.weight(i) * e.f(float64(v), float64(y.Data[i]))
	}
	if e.sizeAverage && x.Len() > 0 {
		s /= float64(x.Len())
	}
	return s
}

func (e *elementwise) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	sameVolume(e.class, x, y)
	e.grad = tensor.Ensure(e.grad, x.Shape...)
	scale := 1.0
	if e.sizeAverage && x.Len() > 0 {
		scale = 1 / float64(x.Len())
	}
	for i, v := range x.Data {
		e.grad.Data[i] = float32(scale * e.weight(i) * e.df(float64(v), float64(y.Data[i])))
	}
	return e.grad
}
