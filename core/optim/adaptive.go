package optim

import (
	"fmt"
	"math"
)

// The methods below follow BigDL's OptimMethods element by element, in
// float32 as BigDL's Float tensors compute; each keeps its buffers sized on
// its first step, so one instance serves one vector or one shard of it.

// newAdaptive builds the methods of this file; ok is false for other classes.
func newAdaptive(class string, a interface {
	Float(string, float64) float64
	Int(string, int) int
}) (m Method, ok bool, err error) {
	switch class {
	case "Adadelta":
		return &Adadelta{DecayRate: a.Float("decayrate", 0.9), Epsilon: a.Float("epsilon", 1e-10)}, true, nil
	case "Adamax":
		return &Adamax{LR: a.Float("learningrate", 0.002), Beta1: a.Float("beta1", 0.9), Beta2: a.Float("beta2", 0.999),
			Epsilon: a.Float("epsilon", 1e-38)}, true, nil
	case "ParallelAdam":
		// BigDL's ParallelAdam is Adam updated by parallel_num threads; the
		// training loop already shares every update between its workers.
		if n := a.Int("parallel_num", -1); n == 0 || n < -1 {
			return nil, true, fmt.Errorf("ParallelAdam: argument parallel_num must be -1 (all cores) or positive, got %d", n)
		}
		return &Adam{LR: a.Float("learningrate", 1e-3), LRDecay: a.Float("learningrate_decay", 0),
			Beta1: a.Float("beta1", 0.9), Beta2: a.Float("beta2", 0.999), Epsilon: a.Float("epsilon", 1e-8),
			class: "ParallelAdam"}, true, nil
	case "Ftrl":
		f := &Ftrl{LR: a.Float("learningrate", 1e-3), LRPower: a.Float("learningrate_power", -0.5),
			InitialAccumulator: a.Float("initial_accumulator_value", 0.1),
			L1:                 a.Float("l1_regularization_strength", 0), L2: a.Float("l2_regularization_strength", 0),
			L2Shrinkage: a.Float("l2_shrinkage_regularization_strength", 0)}
		for _, c := range []struct {
			name string
			bad  bool
		}{
			{"learningrate_power must be ≤ 0", f.LRPower > 0},
			{"initial_accumulator_value must be ≥ 0", f.InitialAccumulator < 0},
			{"l1_regularization_strength must be ≥ 0", f.L1 < 0},
			{"l2_regularization_strength must be ≥ 0", f.L2 < 0},
			{"l2_shrinkage_regularization_strength must be ≥ 0", f.L2Shrinkage < 0},
			{"learningrate must be > 0", f.LR <= 0},
		} {
			if c.bad {
				return nil, true, fmt.Errorf("Ftrl: argument %s", c.name)
			}
		}
		return f, true, nil
	}
	return nil, false, nil
}

// buffered is a method whose state is a step count and buffers (see StateOf).
type buffered interface {
	state() (t *int, bufs []*[]float32)
}

// Adadelta scales each step by the ratio of running roots of past steps and
// past gradients; it has no learning rate.
type Adadelta struct {
	DecayRate, Epsilon float64
	t                  int
	v, acc             []float32 // running means of g² and of the step²
}

func (a *Adadelta) Class() string { return "Adadelta" }
func (a *Adadelta) Config() map[string]any {
	return map[string]any{"decayrate": a.DecayRate, "epsilon": a.Epsilon}
}
func (a *Adadelta) LearningRate() float64       { return 0 }
func (a *Adadelta) Update(x, g []float32)       { wholeStep(a, x, g) }
func (a *Adadelta) state() (*int, []*[]float32) { return &a.t, []*[]float32{&a.v, &a.acc} }
func (a *Adadelta) endStep()                    { a.t++ }
func (a *Adadelta) beginStep(n int)             { allocate(n, 0, &a.v, &a.acc) }
func (a *Adadelta) stepRange(x, g []float32, lo, hi int) {
	dr, eps := float32(a.DecayRate), float32(a.Epsilon)
	xs, gs, v, acc := x[lo:hi], g[lo:hi], a.v[lo:hi], a.acc[lo:hi]
	for i := range xs {
		v[i] = v[i]*dr + (1-dr)*gs[i]*gs[i]
		std := sqrt32(v[i] + eps)
		d := sqrt32(acc[i]+eps) / std * gs[i]
		xs[i] -= d
		acc[i] = acc[i]*dr + (1-dr)*d*d
	}
}

// Adamax is Adam with the infinity norm in place of the second moment.
type Adamax struct {
	LR, Beta1, Beta2, Epsilon float64
	t                         int
	m, u                      []float32
	step                      float32 // this step's lr / (1 - β1ᵗ)
}

func (a *Adamax) Class() string { return "Adamax" }
func (a *Adamax) Config() map[string]any {
	return map[string]any{"learningrate": a.LR, "beta1": a.Beta1, "beta2": a.Beta2, "epsilon": a.Epsilon}
}
func (a *Adamax) LearningRate() float64       { return a.LR }
func (a *Adamax) Update(x, g []float32)       { wholeStep(a, x, g) }
func (a *Adamax) state() (*int, []*[]float32) { return &a.t, []*[]float32{&a.m, &a.u} }
func (a *Adamax) endStep()                    {}
func (a *Adamax) beginStep(n int) {
	allocate(n, 0, &a.m, &a.u)
	a.t++
	a.step = float32(a.LR / (1 - math.Pow(a.Beta1, float64(a.t))))
}
func (a *Adamax) stepRange(x, g []float32, lo, hi int) {
	b1, b2, eps := float32(a.Beta1), float32(a.Beta2), float32(a.Epsilon)
	xs, gs, m, u := x[lo:hi], g[lo:hi], a.m[lo:hi], a.u[lo:hi]
	for i := range xs {
		m[i] = m[i]*b1 + (1-b1)*gs[i]
		u[i] = max(u[i]*b2, abs32(gs[i])+eps)
		xs[i] += -a.step * m[i] / u[i]
	}
}

// Ftrl is follow-the-regularized-leader with L1, L2 and shrinkage-type L2
// penalties (BigDL's, after TensorFlow's).
type Ftrl struct {
	LR, LRPower, InitialAccumulator, L1, L2, L2Shrinkage float64
	t                                                    int
	accum, linear                                        []float32
}

func (f *Ftrl) Class() string { return "Ftrl" }
func (f *Ftrl) Config() map[string]any {
	return map[string]any{"learningrate": f.LR, "learningrate_power": f.LRPower,
		"initial_accumulator_value": f.InitialAccumulator, "l1_regularization_strength": f.L1,
		"l2_regularization_strength": f.L2, "l2_shrinkage_regularization_strength": f.L2Shrinkage}
}
func (f *Ftrl) LearningRate() float64       { return f.LR }
func (f *Ftrl) Update(x, g []float32)       { wholeStep(f, x, g) }
func (f *Ftrl) state() (*int, []*[]float32) { return &f.t, []*[]float32{&f.accum, &f.linear} }
func (f *Ftrl) endStep()                    { f.t++ }
func (f *Ftrl) beginStep(n int) {
	if f.accum == nil {
		allocate(n, float32(f.InitialAccumulator), &f.accum)
	}
	allocate(n, 0, &f.linear)
}
func (f *Ftrl) stepRange(x, g []float32, lo, hi int) {
	p := -f.LRPower
	inv := float32(1 / f.LR)
	l1, twoL2, twoShrink := float32(f.L1), 2*float32(f.L2), 2*float32(f.L2Shrinkage)
	xs, gs, accum, linear := x[lo:hi], g[lo:hi], f.accum[lo:hi], f.linear[lo:hi]
	for i := range xs {
		gi := gs[i]
		if twoShrink > 0 {
			gi += twoShrink * xs[i]
		}
		next := accum[i] + gi*gi
		linear[i] += gi
		linear[i] += inv * pow32(accum[i], p) * xs[i]
		np := pow32(next, p)
		linear[i] += -inv * np * xs[i]
		quadratic := twoL2 + inv*np
		switch l := linear[i]; {
		case abs32(l) <= l1:
			xs[i] = 0
		case l > 0:
			xs[i] = (l1 - l) / quadratic
		default:
			xs[i] = (-l1 - l) / quadratic
		}
		accum[i] = next
	}
}

// allocate makes each nil buffer n values of v.
func allocate(n int, v float32, bufs ...*[]float32) {
	for _, b := range bufs {
		if *b == nil {
			*b = make([]float32, n)
			if v != 0 {
				for i := range *b {
					(*b)[i] = v
				}
			}
		}
	}
}

func sqrt32(v float32) float32           { return float32(math.Sqrt(float64(v))) }
func abs32(v float32) float32            { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }
func pow32(v float32, p float64) float32 { return float32(math.Pow(float64(v), p)) }
