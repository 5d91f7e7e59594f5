package criterion

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// pointwise is a loss summing f(x_i, y_i) over the elements of an output and
// a target of the same size, divided (when averaging) by the element count
// or, with perRecord, by the batch size. The criteria of §3.6 that BigDL
// defines element by element are rows of one table below.
type pointwise struct {
	class       string
	config      map[string]any
	sizeAverage bool
	perRecord   bool      // divide by the records, not the elements
	noTarget    bool      // the target is ignored (L1Cost)
	signTarget  bool      // targets are -1 or 1
	weights     []float32 // per-element weights, repeated over the batch
	f, df       func(x, y float64) float64
	grad        *tensor.Tensor
}

// softplus is log(1 + e^x) without overflow.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// kerasEps is the epsilon of BigDL's Keras-equivalent losses (Keras's 1e-7).
const kerasEps = 1e-7

func clip(v, lo, hi float64) float64 { return min(max(v, lo), hi) }

func sgn(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

type pwRow struct {
	class string
	// avgArg names the size-averaging argument ("" when always averaged), with its default.
	avgArg string
	avgDef bool
	build  func(a *nn.Args, p *pointwise) error
}

var pointwiseRows = []pwRow{
	{"SmoothL1Criterion", "size_average", true, func(a *nn.Args, p *pointwise) error {
		p.f = func(x, y float64) float64 {
			if d := math.Abs(x - y); d < 1 {
				return 0.5 * d * d
			} else {
				return d - 0.5
			}
		}
		p.df = func(x, y float64) float64 { return clip(x-y, -1, 1) }
		return nil
	}},
	{"MarginCriterion", "size_average", true, func(a *nn.Args, p *pointwise) error {
		m, sq := a.Float("margin", 1), a.Bool("squared", false)
		p.config["margin"], p.config["squared"], p.signTarget = m, sq, true
		p.f = func(x, y float64) float64 {
			z := max(m-x*y, 0)
			if sq {
				return z * z
			}
			return z
		}
		p.df = func(x, y float64) float64 {
			z := m - x*y
			switch {
			case z <= 0:
				return 0
			case sq:
				return -2 * y * z
			}
			return -y
		}
		return nil
	}},
	{"SoftMarginCriterion", "size_average", true, func(a *nn.Args, p *pointwise) error {
		p.signTarget = true
		p.f = func(x, y float64) float64 { return softplus(-x * y) }
		p.df = func(x, y float64) float64 { return -y * sigmoid(-x*y) }
		return nil
	}},
	{"HingeEmbeddingCriterion", "size_average", true, func(a *nn.Args, p *pointwise) error {
		m := a.Float("margin", 1)
		p.config["margin"], p.signTarget = m, true
		p.f = func(x, y float64) float64 {
			if y > 0 {
				return x
			}
			return max(m-x, 0)
		}
		p.df = func(x, y float64) float64 {
			if y > 0 {
				return 1
			}
			if x < m {
				return -1
			}
			return 0
		}
		return nil
	}},
	{"DistKLDivCriterion", "size_average", true, func(a *nn.Args, p *pointwise) error {
		// Targets of zero probability add nothing (0·log 0 = 0).
		p.f = func(x, y float64) float64 {
			if y > 0 {
				return y * (math.Log(y) - x)
			}
			return 0
		}
		p.df = func(x, y float64) float64 {
			if y > 0 {
				return -y
			}
			return 0
		}
		return nil
	}},
	{"MultiLabelSoftMarginCriterion", "size_average", true, func(a *nn.Args, p *pointwise) error {
		p.weights = floats32(a.Floats("weights"))
		p.config["weights"] = p.weights
		// BCE of sigmoid(x), written with softplus so large |x| stays finite.
		p.f = func(x, y float64) float64 { return y*softplus(-x) + (1-y)*softplus(x) }
		p.df = func(x, y float64) float64 { return sigmoid(x) - y }
		return nil
	}},
	{"L1Cost", "", false, func(a *nn.Args, p *pointwise) error {
		p.noTarget = true
		p.f = func(x, _ float64) float64 { return math.Abs(x) }
		p.df = func(x, _ float64) float64 { return sgn(x) }
		return nil
	}},
	{"MeanAbsolutePercentageCriterion", "", true, func(a *nn.Args, p *pointwise) error {
		p.f = func(x, y float64) float64 { return 100 * math.Abs(x-y) / clip(math.Abs(y), kerasEps, math.MaxFloat64) }
		p.df = func(x, y float64) float64 { return 100 * sgn(x-y) / clip(math.Abs(y), kerasEps, math.MaxFloat64) }
		return nil
	}},
	{"MeanSquaredLogarithmicCriterion", "", true, func(a *nn.Args, p *pointwise) error {
		lg := func(v float64) float64 { return math.Log(clip(v, kerasEps, math.MaxFloat64) + 1) }
		p.f = func(x, y float64) float64 { d := lg(y) - lg(x); return d * d }
		p.df = func(x, y float64) float64 {
			if x < kerasEps {
				return 0 // clipped: the loss does not depend on x there
			}
			return -2 * (lg(y) - lg(x)) / (x + 1)
		}
		return nil
	}},
	{"PoissonCriterion", "", true, func(a *nn.Args, p *pointwise) error {
		p.f = func(x, y float64) float64 { return x - y*math.Log(x+kerasEps) }
		p.df = func(x, y float64) float64 { return 1 - y/(x+kerasEps) }
		return nil
	}},
	{"KullbackLeiblerDivergenceCriterion", "", true, func(a *nn.Args, p *pointwise) error {
		// Keras's: Σ y·log(y/x) over each record, both clipped to [eps, 1], averaged over records.
		p.perRecord = true
		p.f = func(x, y float64) float64 {
			yc := clip(y, kerasEps, 1)
			return yc * math.Log(yc/clip(x, kerasEps, 1))
		}
		p.df = func(x, y float64) float64 {
			if x < kerasEps || x > 1 {
				return 0
			}
			return -clip(y, kerasEps, 1) / x
		}
		return nil
	}},
}

func init() {
	for _, r := range pointwiseRows {
		register(r.class, func(a *nn.Args) (Criterion, error) {
			p := &pointwise{class: r.class, config: map[string]any{}, sizeAverage: r.avgDef}
			if r.avgArg != "" {
				p.sizeAverage = a.Bool(r.avgArg, r.avgDef)
				p.config[r.avgArg] = p.sizeAverage
			}
			if err := r.build(a, p); err != nil {
				return nil, err
			}
			return p, nil
		})
	}
}

func (p *pointwise) Class() string          { return p.class }
func (p *pointwise) Config() map[string]any { return p.config }

func (p *pointwise) Norm(x, y *tensor.Tensor) (float64, bool) {
	if p.perRecord {
		n, _ := rows(x)
		return float64(n), p.sizeAverage
	}
	return float64(x.Len()), p.sizeAverage
}

func (p *pointwise) check(x, y *tensor.Tensor) {
	if p.noTarget {
		return
	}
	sameVolume(p.class, x, y)
	if p.weights != nil && (x.Len() == 0 || x.Len()%len(p.weights) != 0 || x.Shape[x.Dims()-1] != len(p.weights)) {
		panic(fmt.Errorf("%s: %d weights for an output of shape %s: expected one per element of its last dimension",
			p.class, len(p.weights), tensor.ShapeString(x.Shape)))
	}
	if p.signTarget {
		for i, v := range y.Data {
			if v != 1 && v != -1 {
				panic(fmt.Errorf("%s: target %v at element %d: targets must be 1 or -1", p.class, v, i+1))
			}
		}
	}
}

func (p *pointwise) weight(i int) float64 {
	if p.weights == nil {
		return 1
	}
	return float64(p.weights[i%len(p.weights)])
}

func (p *pointwise) target(y *tensor.Tensor, i int) float64 {
	if p.noTarget {
		return 0
	}
	return float64(y.Data[i])
}

func (p *pointwise) scale(x, y *tensor.Tensor) float64 {
	if norm, avg := p.Norm(x, y); avg && norm > 0 {
		return 1 / norm
	}
	return 1
}

func (p *pointwise) Forward(x, y *tensor.Tensor) float64 {
	p.check(x, y)
	var s float64
	for i, v := range x.Data {
		s += p.weight(i) * p.f(float64(v), p.target(y, i))
	}
	return s * p.scale(x, y)
}

func (p *pointwise) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	p.check(x, y)
	p.grad = tensor.Ensure(p.grad, x.Shape...)
	k := p.scale(x, y)
	for i, v := range x.Data {
		p.grad.Data[i] = float32(k * p.weight(i) * p.df(float64(v), p.target(y, i)))
	}
	return p.grad
}
