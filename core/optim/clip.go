package optim

import (
	"fmt"
	"math"
)

// Clipping is BigDL's gradient clipping (set_gradclip_const,
// set_gradclip_l2norm), applied to the whole mini-batch's gradient before
// the optim method: first the rescaling to the L2 norm, then the clamp.
type Clipping struct {
	Const    bool
	Min, Max float32
	// L2Norm > 0 rescales the gradient to this norm when its global L2
	// norm (over every parameter of the model) exceeds it.
	L2Norm float64
}

// On reports whether any clipping is set.
func (c Clipping) On() bool { return c.Const || c.L2Norm > 0 }

// Check refuses settings BigDL would not clip with.
func (c Clipping) Check() error {
	if c.Const && !(c.Min <= c.Max) {
		return fmt.Errorf("set_gradclip_const: min_value (%v) must not exceed max_value (%v)", c.Min, c.Max)
	}
	if c.L2Norm < 0 || math.IsNaN(c.L2Norm) {
		return fmt.Errorf("set_gradclip_l2norm: clip_norm must be positive, got %v", c.L2Norm)
	}
	return nil
}

func sumSquares(g []float32) float64 {
	var s float64
	for _, v := range g {
		s += float64(v) * float64(v)
	}
	return s
}

// apply rescales g, part of a gradient whose squares sum to sumsq, so the
// whole gradient's norm is at most the clipping norm; then clamps g.
func (c Clipping) apply(g []float32, sumsq float64) {
	if c.L2Norm > 0 {
		// BigDL compares the norm in float32.
		if norm := float32(math.Sqrt(sumsq)); float64(norm) > c.L2Norm {
			scale := float32(c.L2Norm / float64(norm))
			for i := range g {
				g[i] *= scale
			}
		}
	}
	if c.Const {
		for i, v := range g {
			g[i] = min(max(v, c.Min), c.Max)
		}
	}
}

// clip clips the step's summed gradient: the whole of it locally, this
// task's shard [lo, hi) in a distributed run, whose squares are summed over
// every task first (one more exchange of one number per step), so the norm
// is the global one and the result that of local training.
func (t *Trainer) clip(lo, hi int) error {
	c := t.Clip
	if !c.On() {
		return nil
	}
	g := t.grads[lo:hi]
	var sumsq float64
	if c.L2Norm > 0 {
		sumsq = sumSquares(g)
		if t.Dist != nil && t.Dist.Sync.Ranks() > 1 {
			t.normScalar[0] = sumsq
			if _, _, err := t.Dist.Sync.ReduceScatter(t.grads[:0], t.normScalar[:]); err != nil {
				return err
			}
			sumsq = t.normScalar[0]
		}
	}
	c.apply(g, sumsq)
	return nil
}

// regularize adds the regularizers' gradients to the summed gradient's
// values [lo, hi): once per batch, as if the whole batch ran on one core,
// however many workers and tasks shared it.
func (t *Trainer) regularize(lo, hi int) {
	for _, r := range t.regs {
		a, b := max(lo, r.Lo), min(hi, r.Hi)
		if a < b {
			r.Reg.Add(t.weights[a:b], t.grads[a:b])
		}
	}
}
