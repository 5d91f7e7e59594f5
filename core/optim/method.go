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

// rangeStepper is a method whose step can be applied a range at a time, so
// the training loop's workers update disjoint ranges of one vector at once.
// beginStep fixes the step's constants and sizes the state for n values;
// stepRange updates x[lo:hi] from g[lo:hi] (x and g are the whole vectors,
// so per-parameter settings see global indices); endStep counts the step.
// The ranges of one step must cover the vector once; within a range the
// arithmetic is Update's, so the result does not depend on the split.
type rangeStepper interface {
	beginStep(n int)
	stepRange(x, g []float32, lo, hi int)
	endStep()
}

// wholeStep is Update for a rangeStepper: one range, the whole vector.
func wholeStep(m rangeStepper, x, g []float32) {
	m.beginStep(len(x))
	m.stepRange(x, g, 0, len(x))
	m.endStep()
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
		s.base = s.LR
		if spec := a.Object("leaningrate_schedule"); spec != nil {
			sched, err := NewSchedule(spec)
			if err != nil {
				return nil, fmt.Errorf("SGD: leaningrate_schedule: %w", err)
			}
			s.Schedule, s.lossNeeded = sched, monitorsLoss(sched)
		}
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
	case "LBFGS":
		l, err := newLBFGS(a)
		if err != nil {
			return nil, err
		}
		m = l
	default:
		more, ok, err := newAdaptive(class, a)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("unknown class %q: not a layer, criterion or optim method (optim methods: SGD, Adam, "+
				"Adagrad, RMSprop, Adadelta, Adamax, Ftrl, ParallelAdam, LBFGS)", class)
		}
		m = more
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
	Schedule                                      Schedule // nil: Default
	base                                          float64  // the schedule's base rate (SequentialSchedule moves it)
	seen                                          State    // the trainer's state for this step
	lossNeeded                                    bool     // see needsLoss
	t                                             int
	buf                                           []float32
	fresh                                         bool    // buf was made this step
	clr                                           float32 // this step's rate
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

// LearningRate is the next step's rate: lr / (1 + t·decay), BigDL's
// Default schedule, unless another schedule was given.
func (s *SGD) LearningRate() float64 {
	if s.Schedule != nil {
		return s.Schedule.peek(s)
	}
	return s.LR / (1 + float64(s.t)*s.LRDecay)
}

func (s *SGD) Update(x, g []float32) { wholeStep(s, x, g) }

func (s *SGD) beginStep(n int) {
	if s.Schedule != nil {
		s.clr = float32(s.Schedule.rate(s))
	} else {
		s.clr = float32(s.LearningRate())
	}
	if s.Momentum > 0 && s.buf == nil {
		s.buf, s.fresh = make([]float32, n), true
	}
}

func (s *SGD) stepRange(x, g []float32, lo, hi int) {
	xs, gs := x[lo:hi], g[lo:hi]
	if s.WeightDecay > 0 || s.WeightDecays != nil {
		wd := float32(s.WeightDecay)
		for i := range gs {
			if s.WeightDecays != nil {
				wd = s.WeightDecays[(lo+i)%len(s.WeightDecays)]
			}
			gs[i] += wd * xs[i]
		}
	}
	if s.Momentum > 0 {
		mom, damp := float32(s.Momentum), float32(1-s.dampening())
		buf := s.buf[lo:hi]
		if s.fresh { // the first step's buffer is the gradient itself
			copy(buf, gs)
		} else {
			kernels.Scale(mom, buf)
			kernels.Axpy(damp, gs, buf)
		}
		if s.Nesterov {
			kernels.Axpy(mom, buf, gs)
		} else {
			copy(gs, buf)
		}
	}
	if s.LRs != nil {
		for i := range xs {
			xs[i] -= s.clr * s.LRs[(lo+i)%len(s.LRs)] * gs[i]
		}
	} else {
		kernels.Axpy(-s.clr, gs, xs)
	}
}

func (s *SGD) endStep() {
	s.t++
	s.fresh = false
}

// Adam keeps running means of the gradient and its square.
type Adam struct {
	LR, LRDecay, Beta1, Beta2, Epsilon float64
	t                                  int
	m, v                               []float32
	step                               float32 // this step's bias-corrected rate
	class                              string  // "ParallelAdam" when built as one; "" is Adam
}

func (a *Adam) Class() string {
	if a.class != "" {
		return a.class
	}
	return "Adam"
}
func (a *Adam) Config() map[string]any {
	return map[string]any{"learningrate": a.LR, "learningrate_decay": a.LRDecay, "beta1": a.Beta1, "beta2": a.Beta2, "epsilon": a.Epsilon}
}
func (a *Adam) LearningRate() float64 { return a.LR / (1 + float64(a.t)*a.LRDecay) }

func (a *Adam) Update(x, g []float32) { wholeStep(a, x, g) }

func (a *Adam) beginStep(n int) {
	if a.m == nil {
		a.m, a.v = make([]float32, n), make([]float32, n)
	}
	clr := a.LearningRate()
	a.t++
	a.step = float32(clr * math.Sqrt(1-math.Pow(a.Beta2, float64(a.t))) / (1 - math.Pow(a.Beta1, float64(a.t))))
}

func (a *Adam) stepRange(x, g []float32, lo, hi int) {
	b1, b2, eps := float32(a.Beta1), float32(a.Beta2), float32(a.Epsilon)
	xs, gs, m, v := x[lo:hi], g[lo:hi], a.m[lo:hi], a.v[lo:hi]
	for i := range xs {
		m[i] = b1*m[i] + (1-b1)*gs[i]
		v[i] = b2*v[i] + (1-b2)*gs[i]*gs[i]
		xs[i] -= a.step * m[i] / (float32(math.Sqrt(float64(v[i]))) + eps)
	}
}

func (a *Adam) endStep() {}

// Adagrad scales each step by the root of the summed squared gradients.
type Adagrad struct {
	LR, LRDecay, WeightDecay float64
	t                        int
	sum                      []float32
	clr                      float32 // this step's rate
}

func (a *Adagrad) Class() string { return "Adagrad" }
func (a *Adagrad) Config() map[string]any {
	return map[string]any{"learningrate": a.LR, "learningrate_decay": a.LRDecay, "weightdecay": a.WeightDecay}
}
func (a *Adagrad) LearningRate() float64 { return a.LR / (1 + float64(a.t)*a.LRDecay) }

func (a *Adagrad) Update(x, g []float32) { wholeStep(a, x, g) }

func (a *Adagrad) beginStep(n int) {
	if a.sum == nil {
		a.sum = make([]float32, n)
	}
	a.clr = float32(a.LearningRate())
}

func (a *Adagrad) stepRange(x, g []float32, lo, hi int) {
	wd := float32(a.WeightDecay)
	xs, gs, sum := x[lo:hi], g[lo:hi], a.sum[lo:hi]
	for i := range xs {
		gi := gs[i] + wd*xs[i]
		sum[i] += gi * gi
		xs[i] -= a.clr * gi / (float32(math.Sqrt(float64(sum[i]))) + 1e-10)
	}
}

func (a *Adagrad) endStep() { a.t++ }

// RMSprop divides each step by a running root mean square of the gradient.
type RMSprop struct {
	LR, LRDecay, DecayRate, Epsilon float64
	t                               int
	ms                              []float32
	clr                             float32 // this step's rate
}

func (r *RMSprop) Class() string { return "RMSprop" }
func (r *RMSprop) Config() map[string]any {
	return map[string]any{"learningrate": r.LR, "learningrate_decay": r.LRDecay, "decayrate": r.DecayRate, "epsilon": r.Epsilon}
}
func (r *RMSprop) LearningRate() float64 { return r.LR / (1 + float64(r.t)*r.LRDecay) }

func (r *RMSprop) Update(x, g []float32) { wholeStep(r, x, g) }

func (r *RMSprop) beginStep(n int) {
	if r.ms == nil {
		r.ms = make([]float32, n)
	}
	r.clr = float32(r.LearningRate())
}

func (r *RMSprop) stepRange(x, g []float32, lo, hi int) {
	dr, eps := float32(r.DecayRate), float32(r.Epsilon)
	xs, gs, ms := x[lo:hi], g[lo:hi], r.ms[lo:hi]
	for i := range xs {
		ms[i] = dr*ms[i] + (1-dr)*gs[i]*gs[i]
		xs[i] -= r.clr * gs[i] / (float32(math.Sqrt(float64(ms[i]))) + eps)
	}
}

func (r *RMSprop) endStep() { r.t++ }
