package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/rng"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// The element-wise layers of §3.5 that keep state: a learned slope (PReLU),
// random draws (RReLU, GaussianDropout, GaussianNoise), or a reduction over
// the feature dimension (SoftMin, Normalize, Masking).

func init() {
	Register("PReLU", func(a *Args) (Module, error) {
		n := a.Int("n_output_plane", 0)
		if n < 0 {
			return nil, fmt.Errorf("PReLU: argument n_output_plane must be 0 (one shared slope) or positive, got %d", n)
		}
		return NewPReLU(n), nil
	})
	Register("RReLU", func(a *Args) (Module, error) {
		lo, hi := a.Float("lower", 1.0/8), a.Float("upper", 1.0/3)
		if !(lo > 0 && lo < hi) {
			return nil, fmt.Errorf("RReLU: arguments must satisfy 0 < lower < upper, got lower %v, upper %v", lo, hi)
		}
		return &RReLU{Base: newBase("RReLU"), Lower: lo, Upper: hi, InPlace: a.Bool("inplace", false)}, nil
	})
	Register("GaussianDropout", func(a *Args) (Module, error) {
		r := a.Float("rate", 0)
		if !a.Has("rate") || r < 0 || r >= 1 {
			return nil, fmt.Errorf("GaussianDropout: argument rate must be in [0, 1), got %v", a.m["rate"])
		}
		return &gaussian{Base: newBase("GaussianDropout"), arg: r, mul: true, std: math.Sqrt(r / (1 - r))}, nil
	})
	Register("GaussianNoise", func(a *Args) (Module, error) {
		s := a.Float("stddev", 0)
		if !a.Has("stddev") || s < 0 {
			return nil, fmt.Errorf("GaussianNoise: argument stddev must be a number ≥ 0, got %v", a.m["stddev"])
		}
		return &gaussian{Base: newBase("GaussianNoise"), arg: s, std: s}, nil
	})
	Register("SoftMin", func(a *Args) (Module, error) {
		return &softMin{softmax: softmax{Base: newBase("SoftMin")}}, nil
	})
	Register("Normalize", func(a *Args) (Module, error) {
		p := a.Float("p", 2)
		if !a.Has("p") || !(p > 0) {
			return nil, fmt.Errorf("Normalize: argument p must be a positive number, got %v", a.m["p"])
		}
		return &Normalize{Base: newBase("Normalize"), P: p, Eps: a.Float("eps", 1e-10)}, nil
	})
	Register("Masking", func(a *Args) (Module, error) {
		return &Masking{Base: newBase("Masking"), Value: a.Float("mask_value", 0)}, nil
	})
}

// PReLU is max(0, x) + w·min(0, x) with a learned slope w, one shared
// (n_output_plane 0) or one per channel: dimension 1 of a sample of 1 or 3
// dimensions, dimension 2 of a batch of 2 or 4, as BigDL's.
type PReLU struct {
	Base
	N      int
	Weight *Param
	inits  initMethods
	neg    []float32 // min(x, 0), for the slopes' gradient on the vector kernels
	output *tensor.Tensor
	gradIn *tensor.Tensor
}

// NewPReLU starts every slope at BigDL's 0.25.
func NewPReLU(n int) *PReLU {
	p := &PReLU{Base: newBase("PReLU"), N: n, Weight: newParam("weight", max(n, 1))}
	p.inits = initMethods{constInit{class: "ConstInitMethod", v: 0.25}, nil}
	p.Reset()
	return p
}

func (p *PReLU) Reset()                   { p.inits.draw(p, p.Weight, nil) }
func (p *PReLU) Fans(w *Param) (int, int) { return FansOneD(w.Value.Shape) }
func (p *PReLU) Params() []*Param         { return []*Param{p.Weight} }
func (p *PReLU) Config() map[string]any   { return map[string]any{"n_output_plane": p.N} }
func (p *PReLU) String() string           { return fmt.Sprintf("PReLU[%s](%d)", p.name, p.N) }
func (p *PReLU) overwritesGrads()         {}
func (p *PReLU) SetInitMethods(w, b InitMethod) error {
	if err := p.inits.set(p, p.Weight, nil, w, b); err != nil {
		return err
	}
	p.Reset()
	return nil
}

// planes returns the number of channel blocks and each block's length, so
// element i has slope index (i / inner) % channels.
func (p *PReLU) planes(x *tensor.Tensor) (channels, inner int) {
	if p.N == 0 {
		return 1, max(x.Len(), 1)
	}
	s := x.Shape
	switch {
	case len(s) == 1 && s[0] == p.N, len(s) == 2 && s[1] == p.N:
		return p.N, 1
	case len(s) == 3 && s[0] == p.N:
		return p.N, s[1] * s[2]
	case len(s) == 4 && s[1] == p.N:
		return p.N, s[2] * s[3]
	}
	shapeError(p, fmt.Sprintf("%d channels: (%d,), (batch, %d), (%d, h, w) or (batch, %d, h, w)", p.N, p.N, p.N, p.N, p.N), s)
	return 0, 0
}

// onPlanes reports whether the vector kernels run PReLU plane by plane: a
// shared slope, or planes (an image's pixels) long enough for a vector.
// Slopes per feature of (batch, n) change at every element: those stay a loop.
func onPlanes(c, inner int) bool { return c == 1 || inner >= 8 }

func preluForward(w float32) kernels.Piecewise {
	return kernels.Piecewise{Below: kernels.Line{Slope: w}, Inside: kernels.Line{Slope: w},
		Above: kernels.Line{Slope: 1}, NaN: nan32}
}

func (p *PReLU) Forward(x *tensor.Tensor) *tensor.Tensor {
	c, inner := p.planes(x)
	p.output = tensor.Ensure(p.output, x.Shape...)
	w, y := p.Weight.Value.Data, p.output.Data
	if onPlanes(c, inner) {
		for q := 0; q < x.Len()/inner; q++ {
			f := preluForward(w[q%c])
			kernels.PiecewiseLinear(y[q*inner:(q+1)*inner], x.Data[q*inner:(q+1)*inner], &f)
		}
		return p.output
	}
	for i, v := range x.Data {
		if v > 0 {
			y[i] = v
		} else {
			y[i] = w[(i/inner)%c] * v
		}
	}
	return p.output
}

func (p *PReLU) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	c, inner := p.planes(x)
	if gy.Len() != x.Len() {
		shapeError(p, "a gradient shaped like the input "+tensor.ShapeString(x.Shape), gy.Shape)
	}
	p.gradIn = tensor.Ensure(p.gradIn, x.Shape...)
	w, g := p.Weight.Value.Data, p.gradIn.Data
	gw := p.Weight.Grad.Data
	update := !p.frozen
	if update && p.gradsOverwritten {
		clear(gw)
	}
	if onPlanes(c, inner) {
		if update {
			if cap(p.neg) < x.Len() {
				p.neg = make([]float32, x.Len())
			}
			p.neg = p.neg[:x.Len()]
			kernels.PiecewiseLinear(p.neg, x.Data, &minZero)
		}
		for q := 0; q < x.Len()/inner; q++ {
			k, plane := q%c, x.Data[q*inner:(q+1)*inner]
			d := kernels.PiecewiseGrad{Below: w[k], Ends: w[k], Above: 1, NaN: w[k]}
			gyq := gy.Data[q*inner : (q+1)*inner]
			kernels.PiecewiseBackward(g[q*inner:(q+1)*inner], gyq, plane, &d)
			if update {
				gw[k] += kernels.Dot(gyq, p.neg[q*inner:(q+1)*inner])
			}
		}
		return p.gradIn
	}
	for i, v := range x.Data {
		if v > 0 {
			g[i] = gy.Data[i]
			continue
		}
		k := (i / inner) % c
		g[i] = w[k] * gy.Data[i]
		if update {
			gw[k] += v * gy.Data[i]
		}
	}
	return p.gradIn
}

// minZero is min(x, 0), NaN kept: the slope's share of x.
var minZero = kernels.Piecewise{Below: kernels.Line{Slope: 1}, Inside: kernels.Line{Slope: 1}, NaN: nan32}

// RReLU is a leaky ReLU whose negative slope is drawn from U(lower, upper)
// for each element in training, and is their mean in evaluation.
type RReLU struct {
	Base
	Lower, Upper float64
	InPlace      bool
	noise        []float32
	rng          *rng.MT
	output       *tensor.Tensor
	gradIn       *tensor.Tensor
}

func (r *RReLU) Params() []*Param { return nil }
func (r *RReLU) Reset()           {}
func (r *RReLU) UseRNG(g *rng.MT) { r.rng = g }
func (r *RReLU) String() string   { return fmt.Sprintf("RReLU[%s](%v, %v)", r.name, r.Lower, r.Upper) }
func (r *RReLU) Config() map[string]any {
	return map[string]any{"lower": r.Lower, "upper": r.Upper, "inplace": r.InPlace}
}

func (r *RReLU) Forward(x *tensor.Tensor) *tensor.Tensor {
	r.output = tensor.Ensure(r.output, x.Shape...)
	if cap(r.noise) < x.Len() {
		r.noise = make([]float32, x.Len())
	}
	r.noise = r.noise[:x.Len()]
	if r.training {
		// BigDL draws a slope for each element that is not positive, in order.
		draw := func(g *rng.MT) {
			for i, v := range x.Data {
				r.noise[i] = 1
				if v <= 0 {
					r.noise[i] = float32(g.Uniform(r.Lower, r.Upper))
				}
			}
		}
		if r.rng != nil {
			draw(r.rng)
		} else {
			rng.Global.Do(draw)
		}
	} else {
		// The slope is the mean where x ≤ 0, else 1 (NaN included, as x ≤ 0 is false).
		mean := float32((r.Lower + r.Upper) / 2)
		slope := kernels.Piecewise{Below: kernels.Line{Intercept: mean}, Inside: kernels.Line{Intercept: mean},
			Above: kernels.Line{Intercept: 1}, NaN: 1}
		kernels.PiecewiseLinear(r.noise, x.Data, &slope)
	}
	kernels.Mul(r.output.Data, x.Data, r.noise)
	return r.output
}

func (r *RReLU) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	if gy.Len() != x.Len() || len(r.noise) != x.Len() {
		shapeError(r, "a gradient shaped like the input "+tensor.ShapeString(x.Shape)+" after forward", gy.Shape)
	}
	r.gradIn = tensor.Ensure(r.gradIn, x.Shape...)
	kernels.Mul(r.gradIn.Data, gy.Data, r.noise)
	return r.gradIn
}

// gaussian is GaussianDropout (x·ε, ε ~ N(1, rate/(1-rate))) or, without
// mul, GaussianNoise (x + ε, ε ~ N(0, stddev²)); both the identity in
// evaluation mode.
type gaussian struct {
	Base
	arg    float64 // rate or stddev: the constructor's argument
	mul    bool
	std    float64
	noise  []float32
	rng    *rng.MT
	output *tensor.Tensor
	gradIn *tensor.Tensor
}

func (g *gaussian) Params() []*Param { return nil }
func (g *gaussian) Reset()           {}
func (g *gaussian) UseRNG(m *rng.MT) { g.rng = m }
func (g *gaussian) String() string   { return fmt.Sprintf("%s[%s](%v)", g.class, g.name, g.arg) }
func (g *gaussian) Config() map[string]any {
	if g.mul {
		return map[string]any{"rate": g.arg}
	}
	return map[string]any{"stddev": g.arg}
}

func (g *gaussian) Forward(x *tensor.Tensor) *tensor.Tensor {
	g.output = tensor.Ensure(g.output, x.Shape...)
	if !g.training {
		copy(g.output.Data, x.Data)
		return g.output
	}
	if cap(g.noise) < x.Len() {
		g.noise = make([]float32, x.Len())
	}
	g.noise = g.noise[:x.Len()]
	mean := 0.0
	if g.mul {
		mean = 1
	}
	draw := func(m *rng.MT) {
		for i := range g.noise {
			g.noise[i] = float32(m.Normal(mean, g.std))
		}
	}
	if g.rng != nil {
		draw(g.rng)
	} else {
		rng.Global.Do(draw)
	}
	for i, v := range x.Data {
		if g.mul {
			g.output.Data[i] = v * g.noise[i]
		} else {
			g.output.Data[i] = v + g.noise[i]
		}
	}
	return g.output
}

// Backward uses the forward pass's noise: BigDL's GaussianDropout draws new
// noise here, which is not the gradient of what forward computed, and
// refuses evaluation mode, where the layer is the identity.
func (g *gaussian) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	if gy.Len() != x.Len() {
		shapeError(g, "a gradient shaped like the input "+tensor.ShapeString(x.Shape), gy.Shape)
	}
	g.gradIn = tensor.Ensure(g.gradIn, x.Shape...)
	if !g.training || !g.mul {
		copy(g.gradIn.Data, gy.Data)
		return g.gradIn
	}
	if len(g.noise) != x.Len() {
		shapeError(g, "the input of the last forward", x.Shape)
	}
	for i, v := range gy.Data {
		g.gradIn.Data[i] = v * g.noise[i]
	}
	return g.gradIn
}

// softMin is the softmax of -x over the last dimension.
type softMin struct {
	softmax
	neg *tensor.Tensor
}

func (s *softMin) Forward(x *tensor.Tensor) *tensor.Tensor {
	s.neg = tensor.Ensure(s.neg, x.Shape...)
	for i, v := range x.Data {
		s.neg.Data[i] = -v
	}
	return s.softmax.Forward(s.neg)
}

func (s *softMin) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	g := s.softmax.Backward(x, gy)
	for i := range g.Data {
		g.Data[i] = -g.Data[i]
	}
	return g
}

// Normalize divides each sample by its L_p norm, (Σ|x|^p + eps)^(1/p) (for
// p = DOUBLEMAX, max|x| + eps), taken over dimension 2 of a batch (the
// features of (batch, features), the channels of (batch, c, h, w)) or over a
// 1-D sample.
type Normalize struct {
	Base
	P, Eps float64
	norm   []float64
	output *tensor.Tensor
	gradIn *tensor.Tensor
}

func (n *Normalize) Params() []*Param       { return nil }
func (n *Normalize) Reset()                 {}
func (n *Normalize) Config() map[string]any { return map[string]any{"p": n.P, "eps": n.Eps} }
func (n *Normalize) String() string         { return fmt.Sprintf("Normalize[%s](%v)", n.name, n.P) }
func (n *Normalize) inf() bool              { return n.P >= math.MaxFloat64 }

// layout: outer groups, each of c elements strided by inner.
func (n *Normalize) layout(x *tensor.Tensor) (outer, c, inner int) {
	s := x.Shape
	switch len(s) {
	case 1:
		return 1, s[0], 1
	case 2:
		return s[0], s[1], 1
	case 4:
		return s[0], s[1], s[2] * s[3]
	}
	shapeError(n, "1, 2 or 4 dimensions", s)
	return
}

func (n *Normalize) Forward(x *tensor.Tensor) *tensor.Tensor {
	outer, c, inner := n.layout(x)
	n.output = tensor.Ensure(n.output, x.Shape...)
	if cap(n.norm) < outer*inner {
		n.norm = make([]float64, outer*inner)
	}
	n.norm = n.norm[:outer*inner]
	for o := 0; o < outer; o++ {
		for k := 0; k < inner; k++ {
			base := o*c*inner + k
			var s float64
			for j := 0; j < c; j++ {
				a := math.Abs(float64(x.Data[base+j*inner]))
				if n.inf() {
					s = max(s, a)
				} else {
					s += math.Pow(a, n.P)
				}
			}
			nv := s + n.Eps
			if !n.inf() {
				nv = math.Pow(nv, 1/n.P)
			}
			n.norm[o*inner+k] = nv
			for j := 0; j < c; j++ {
				n.output.Data[base+j*inner] = float32(float64(x.Data[base+j*inner]) / nv)
			}
		}
	}
	return n.output
}

// Backward: with y = x/‖x‖, dL/dx_j = g_j/‖x‖ - (Σ_i g_i x_i)/‖x‖² · ∂‖x‖/∂x_j,
// where ∂‖x‖/∂x_j = ‖x‖^(1-p)·|x_j|^(p-1)·sign(x_j) (sign(x_j) at the first
// largest |x_j| only, for the max norm).
func (n *Normalize) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	outer, c, inner := n.layout(x)
	if gy.Len() != x.Len() || len(n.norm) != outer*inner {
		shapeError(n, "a gradient shaped like the input "+tensor.ShapeString(x.Shape)+" after forward", gy.Shape)
	}
	n.gradIn = tensor.Ensure(n.gradIn, x.Shape...)
	for o := 0; o < outer; o++ {
		for k := 0; k < inner; k++ {
			base := o*c*inner + k
			nv := n.norm[o*inner+k]
			var dot float64
			arg, best := 0, -1.0
			for j := 0; j < c; j++ {
				xv := float64(x.Data[base+j*inner])
				dot += float64(gy.Data[base+j*inner]) * xv
				if math.Abs(xv) > best {
					arg, best = j, math.Abs(xv)
				}
			}
			for j := 0; j < c; j++ {
				xv := float64(x.Data[base+j*inner])
				var dn float64
				switch {
				case n.inf() && j == arg:
					dn = sign(xv)
				case !n.inf():
					dn = math.Pow(nv, 1-n.P) * math.Pow(math.Abs(xv), n.P-1) * sign(xv)
				}
				n.gradIn.Data[base+j*inner] = float32(float64(gy.Data[base+j*inner])/nv - dot/(nv*nv)*dn)
			}
		}
	}
	return n.gradIn
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// Masking zeroes every time step (a row of (batch, time, features)) whose
// features all equal mask_value, in output and gradient.
type Masking struct {
	Base
	Value  float64
	output *tensor.Tensor
	gradIn *tensor.Tensor
}

func (m *Masking) Params() []*Param       { return nil }
func (m *Masking) Reset()                 {}
func (m *Masking) Config() map[string]any { return map[string]any{"mask_value": m.Value} }
func (m *Masking) String() string         { return fmt.Sprintf("Masking[%s](%v)", m.name, m.Value) }

func (m *Masking) steps(x *tensor.Tensor) (n, w int) {
	if x.Dims() < 2 {
		shapeError(m, "(batch, time, ...) or (time, features)", x.Shape)
	}
	w = 1
	start := 2
	if x.Dims() == 2 {
		start = 1 // one sample of (time, features)
	}
	for _, d := range x.Shape[start:] {
		w *= d
	}
	if w == 0 {
		return 0, 0
	}
	return x.Len() / w, w
}

func (m *Masking) masked(x []float32) bool {
	for _, v := range x {
		if float64(v) != float64(float32(m.Value)) {
			return false
		}
	}
	return true
}

func (m *Masking) apply(dst, src, x []float32, n, w int) {
	for t := 0; t < n; t++ {
		if m.masked(x[t*w : (t+1)*w]) {
			clear(dst[t*w : (t+1)*w])
		} else {
			copy(dst[t*w:(t+1)*w], src[t*w:(t+1)*w])
		}
	}
}

func (m *Masking) Forward(x *tensor.Tensor) *tensor.Tensor {
	n, w := m.steps(x)
	m.output = tensor.Ensure(m.output, x.Shape...)
	m.apply(m.output.Data, x.Data, x.Data, n, w)
	return m.output
}

func (m *Masking) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	n, w := m.steps(x)
	if gy.Len() != x.Len() {
		shapeError(m, "a gradient shaped like the input "+tensor.ShapeString(x.Shape), gy.Shape)
	}
	m.gradIn = tensor.Ensure(m.gradIn, x.Shape...)
	m.apply(m.gradIn.Data, gy.Data, x.Data, n, w)
	return m.gradIn
}
