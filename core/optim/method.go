// Package optim trains models: optimisation methods, triggers, validation
// methods, and the training loop that ties them to a model, a criterion and
// a data set.
package optim

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/kernels"

	"github.com/bigdl-go/bigdl-go/core/nn"
)

// Method updates a flat parameter vector from its gradient. Methods keep
// their state (momentum buffers, step counts) per instance, sized on the
// first update, so one instance serves one vector (or one shard of it).
type Method interface {
	// Update applies one step to x given the gradient g (which it may modify).
	Update(x, g []float32)
	// LearningRate is the rate the next Update will use.
	LearningRate() float64
	Class() string
	Config() map[string]any
}

// doubleMax is BigDL's "not set" value for SGD's dampening.
const doubleMax = math.MaxFloat64

// NewMethod builds an optimisation method from BigDL's class name and arguments.
func NewMethod(class string, args map[string]any) (Method, error) {
	a := nn.NewArgs(class, args)
	var m Method
	switch class {
	case "SGD":
		s := &SGD{LR: a.Float("learningrate", 1e-3), LRDecay: a.Float("learningrate_decay", 0),
			WeightDecay: a.Float("weightdecay", 0), Momentum: a.Float("momentum", 0),
			Dampening: a.Float("dampening", doubleMax), Nesterov: a.Bool("nesterov", false),
			LRs: f32(a.Floats("learningrates")), WeightDecays: f32(a.Floats("weightdecays"))}
		if s.Nesterov && (s.Momentum <= 0 || s.dampening() != 0) {
			return nil, fmt.Errorf("SGD: nesterov needs momentum > 0 and dampening = 0, got momentum %v and dampening %v", s.Momentum, s.dampening())
		}
		m = s
	case "Adam":
		m = &Adam{LR: a.Float("learningrate", 1e-3), LRDecay: a.Float("learningrate_decay", 0),
			Beta1: a.Float("beta1", 0.9), Beta2: a.Float("beta2", 0.999), Epsilon: a.Float("epsilon", 1e-8)}
	case "Adagrad":
		m = &Adagrad{LR: a.Float("learningrate", 1e-3), LRDecay: a.Float("learningrate_decay", 0),
			WeightDecay: a.Float("weightdecay", 0)}
	case "RMSprop":
		m = &RMSprop{LR: a.Float("learningrate", 1e-2), LRDecay: a.Float("learningrate_decay", 0),
			DecayRate: a.Float("decayrate", 0.99), Epsilon: a.Float("epsilon", 1e-8)}
	default:
		return nil, fmt.Errorf("unknown class %q: not a layer, criterion or optim method (optim methods: SGD, Adam, Adagrad, RMSprop)", class)
	}
	if err := a.Err(); err != nil {
		return nil, err
	}
	if lr := m.LearningRate(); lr < 0 {
		return nil, fmt.Errorf("%s: argument learningrate must be ≥ 0, got %v", class, lr)
	}
	return m, nil
}

func f32(v []float64) []float32 {
	if v == nil {
		return nil
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// SGD is Torch's optim.sgd: learning-rate decay, weight decay, momentum with
// dampening, Nesterov, and optional per-parameter rates and decays.
type SGD struct {
	LR, LRDecay, WeightDecay, Momentum, Dampening float64
	Nesterov                                      bool
	LRs, WeightDecays                             []float32
	t                                             int
	buf                                           []float32
}

func (s *SGD) Class() string { return "SGD" }
func (s *SGD) Config() map[string]any {
	return map[string]any{"learningrate": s.LR, "learningrate_decay": s.LRDecay, "weightdecay": s.WeightDecay,
		"momentum": s.Momentum, "dampening": s.Dampening, "nesterov": s.Nesterov}
}

func (s *SGD) dampening() float64 {
	if s.Dampening == doubleMax {
		return s.Momentum
	}
	return s.Dampening
}

// LearningRate is lr / (1 + t·decay), BigDL's Default schedule.
func (s *SGD) LearningRate() float64 { return s.LR / (1 + float64(s.t)*s.LRDecay) }

func (s *SGD) Update(x, g []float32) {
	clr := float32(s.LearningRate())
	if s.WeightDecay > 0 || s.WeightDecays != nil {
		wd := float32(s.WeightDecay)
		for i := range g {
			if s.WeightDecays != nil {
				wd = s.WeightDecays[i%len(s.WeightDecays)]
			}
			g[i] += wd * x[i]
		}
	}
	if s.Momentum > 0 {
		mom, damp := float32(s.Momentum), float32(1-s.dampening())
		if s.buf == nil {
			s.buf = append([]float32(nil), g...)
		} else {
			kernels.Scale(mom, s.buf)
			kernels.Axpy(damp, g, s.buf)
		}
		if s.Nesterov {
			kernels.Axpy(mom, s.buf, g)
		} else {
			copy(g, s.buf)
		}
	}
	if s.LRs != nil {
		for i := range x {
			x[i] -= clr * s.LRs[i%len(s.LRs)] * g[i]
		}
	} else {
		kernels.Axpy(-clr, g, x)
	}
	s.t++
}

// Adam keeps running means of the gradient and its square.
type Adam struct {
	LR, LRDecay, Beta1, Beta2, Epsilon float64
	t                                  int
	m, v                               []float32
}

func (a *Adam) Class() string { return "Adam" }
func (a *Adam) Config() map[string]any {
	return map[string]any{"learningrate": a.LR, "learningrate_decay": a.LRDecay, "beta1": a.Beta1, "beta2": a.Beta2, "epsilon": a.Epsilon}
}
func (a *Adam) LearningRate() float64 { return a.LR / (1 + float64(a.t)*a.LRDecay) }

func (a *Adam) Update(x, g []float32) {
	if a.m == nil {
		a.m, a.v = make([]float32, len(x)), make([]float32, len(x))
	}
	clr := a.LearningRate()
	a.t++
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	step := float32(clr * math.Sqrt(1-math.Pow(a.Beta2, float64(a.t))) / (1 - math.Pow(a.Beta1, float64(a.t))))
	eps := float32(a.Epsilon)
	for i := range x {
		a.m[i] = b1*a.m[i] + (1-b1)*g[i]
		a.v[i] = b2*a.v[i] + (1-b2)*g[i]*g[i]
		x[i] -= step * a.m[i] / (float32(math.Sqrt(float64(a.v[i]))) + eps)
	}
}

// Adagrad scales each step by the root of the summed squared gradients.
type Adagrad struct {
	LR, LRDecay, WeightDecay float64
	t                        int
	sum                      []float32
}

func (a *Adagrad) Class() string { return "Adagrad" }
func (a *Adagrad) Config() map[string]any {
	return map[string]any{"learningrate": a.LR, "learningrate_decay": a.LRDecay, "weightdecay": a.WeightDecay}
}
func (a *Adagrad) LearningRate() float64 { return a.LR / (1 + float64(a.t)*a.LRDecay) }

func (a *Adagrad) Update(x, g []float32) {
	if a.sum == nil {
		a.sum = make([]float32, len(x))
	}
	clr, wd := float32(a.LearningRate()), float32(a.WeightDecay)
	for i := range x {
		gi := g[i] + wd*x[i]
		a.sum[i] += gi * gi
		x[i] -= clr * gi / (float32(math.Sqrt(float64(a.sum[i]))) + 1e-10)
	}
	a.t++
}

// RMSprop divides each step by a running root mean square of the gradient.
type RMSprop struct {
	LR, LRDecay, DecayRate, Epsilon float64
	t                               int
	ms                              []float32
}

func (r *RMSprop) Class() string { return "RMSprop" }
func (r *RMSprop) Config() map[string]any {
	return map[string]any{"learningrate": r.LR, "learningrate_decay": r.LRDecay, "decayrate": r.DecayRate, "epsilon": r.Epsilon}
}
func (r *RMSprop) LearningRate() float64 { return r.LR / (1 + float64(r.t)*r.LRDecay) }

func (r *RMSprop) Update(x, g []float32) {
	if r.ms == nil {
		r.ms = make([]float32, len(x))
	}
	clr, dr, eps := float32(r.LearningRate()), float32(r.DecayRate), float32(r.Epsilon)
	for i := range x {
		r.ms[i] = dr*r.ms[i] + (1-dr)*g[i]*g[i]
		x[i] -= clr * g[i] / (float32(math.Sqrt(float64(r.ms[i]))) + eps)
	}
	r.t++
}
