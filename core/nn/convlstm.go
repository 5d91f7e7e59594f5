package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// ConvLSTMPeephole is BigDL's convolutional LSTM over (batch, T, channels,
// H, W) sequences: an LSTMPeephole whose input and recurrent products are
// convolutions (kernel_i over the input, kernel_c over the state), whose
// state is (output_size, H', W') per record, and whose peephole weights
// are one per channel. The four gates' convolutions are stacked in one of
// each kind (gate blocks input, forget, cell, output along the output
// channels); with_peephole=False drops the peepholes.
//
// The cell is an LSTM whose projections convProjection computes: all the
// frames' input convolution at once, the state's per step.
type convProjection struct {
	x, h           *SpatialConvolution
	in             int
	hw             int // H'·W', the plane of the state
	frameH, frameW int
	view, gyView   tensor.Tensor
	hView, dView   tensor.Tensor
	hstep, dstep   []float32
	peep, peepGrad []float32 // the peephole weights, and their gradients, repeated over the plane
	viewShape      []int
	oh, ow         int           // the state's plane
	probe          tensor.Tensor // a frame's shape, for the convolutions' geometry
	probeShape     []int
	frame          []int // the output frame's shape
}

func init() {
	Register("ConvLSTMPeephole", func(a *Args) (Module, error) {
		in, out := a.PositiveInt("input_size"), a.PositiveInt("output_size")
		ki, kc := a.PositiveInt("kernel_i"), a.PositiveInt("kernel_c")
		stride, pad := a.Int("stride", 1), a.Int("padding", -1)
		if a.Err() != nil {
			return nil, a.Err()
		}
		conv := func(nIn, k int, bias bool) (*SpatialConvolution, error) {
			m, err := New("SpatialConvolution", map[string]any{"n_input_plane": float64(nIn), "n_output_plane": float64(4 * out),
				"kernel_w": float64(k), "kernel_h": float64(k), "stride_w": float64(stride), "stride_h": float64(stride),
				"pad_w": float64(pad), "pad_h": float64(pad), "with_bias": bias})
			if err != nil {
				return nil, fmt.Errorf("ConvLSTMPeephole: %w", err)
			}
			return m.(*SpatialConvolution), nil
		}
		cx, err := conv(in, ki, true)
		if err != nil {
			return nil, err
		}
		ch, err := conv(out, kc, false)
		if err != nil {
			return nil, err
		}
		// Hidden is the state's size per record, known once the frames are: set by frames.
		l := &LSTM{cellCore: newCellCore("ConvLSTMPeephole", in, out, 4, 4), order: peepholeOrder}
		l.act = gateActivationArg(a, "activation", "tanh")
		l.inner = gateActivationArg(a, "inner_activation", "sigmoid")
		l.conv = &convProjection{x: cx, h: ch, in: in}
		if err := dropoutArg(a, "ConvLSTMPeephole", 0); err != nil {
			return nil, err
		}
		l.W, l.B, l.U = cx.Weight, cx.Bias, ch.Weight
		l.params = []*Param{l.W, l.B, l.U}
		l.convConfig = map[string]any{"input_size": in, "output_size": out, "kernel_i": ki, "kernel_c": kc, "stride": stride,
			"padding": pad, "activation": l.act.name, "inner_activation": l.inner.name,
			"with_peephole": a.Bool("with_peephole", true)}
		if a.Bool("with_peephole", true) {
			l.PI, l.PF, l.PO = newParam("peepholeI", 1, out, 1, 1), newParam("peepholeF", 1, out, 1, 1), newParam("peepholeO", 1, out, 1, 1)
			l.params = append(l.params, l.PI, l.PF, l.PO)
		}
		l.initialize(l, l.PI, l.PF, l.PO) // the convolutions drew theirs when built
		return l, a.Err()
	})
}

// frames checks a (batch, T, in, H, W) input, sizes the state from the
// convolution's output plane, and returns the output's frame shape.
func (l *cellCore) frames(x *tensor.Tensor) []int {
	p := l.conv
	if p == nil {
		return nil
	}
	if x.IsTable() || x.Dims() != 5 || x.Shape[2] != p.in || x.Shape[0] == 0 || x.Shape[1] == 0 {
		panic(fmt.Errorf("%s: expected input of shape (batch, time, %d, H, W), got %s", l.String(), p.in, x.Describe()))
	}
	p.frameH, p.frameW = x.Shape[3], x.Shape[4]
	p.probe = tensor.Tensor{Shape: x.Shape[2:]}
	_, g := p.x.geometry(&p.probe)
	p.oh, p.ow = g.OutH, g.OutW
	p.probe = tensor.Tensor{Shape: append(p.probeShape[:0], p.h.NIn, g.OutH, g.OutW)}
	p.probeShape = p.probe.Shape
	_, gh := p.h.geometry(&p.probe)
	if gh.OutH != g.OutH || gh.OutW != g.OutW {
		panic(fmt.Errorf("%s: the state's convolution turns a %d x %d plane into %d x %d; it must keep it (stride 1, padding -1)",
			l.String(), g.OutH, g.OutW, gh.OutH, gh.OutW))
	}
	out := p.h.NIn
	p.hw = g.OutH * g.OutW
	l.Hidden = out * p.hw
	p.frame = append(p.frame[:0], out, g.OutH, g.OutW)
	return p.frame
}

// convProject is project for the convolutional cell: one convolution of
// every frame.
func (l *cellCore) convProject(x []float32, n, steps int) {
	p := l.conv
	p.viewShape = append(p.viewShape[:0], n*steps, p.in, p.frameH, p.frameW)
	p.view = tensor.Tensor{Shape: p.viewShape, Data: x}
	y := p.x.Forward(&p.view)
	l.pre = grow(l.pre, len(y.Data))
	copy(l.pre, y.Data)
}

// gatherStep copies step t of buf (n, steps, w) into dst (n, w).
func gatherStep(dst, buf []float32, n, steps, t, w int) []float32 {
	dst = grow(dst, n*w)
	for b := 0; b < n; b++ {
		copy(dst[b*w:(b+1)*w], buf[(b*steps+t)*w:(b*steps+t+1)*w])
	}
	return dst
}

// convRecur adds the state's convolution into step t's gates.
func (l *cellCore) convRecur(n, steps, t int) {
	p, h, g := l.conv, l.Hidden, 4*l.Hidden
	p.hstep = gatherStep(p.hstep, l.hprev, n, steps, t, h)
	y := p.h.Forward(p.state(n, p.hstep, &p.hView))
	for b := 0; b < n; b++ {
		dst, src := l.pre[(b*steps+t)*g:(b*steps+t+1)*g], y.Data[b*g:(b+1)*g]
		for j := range dst {
			dst[j] += src[j]
		}
	}
}

// state views a (n, out·H'·W') buffer as (n, out, H', W').
func (p *convProjection) state(n int, data []float32, v *tensor.Tensor) *tensor.Tensor {
	oh := p.frameOut()
	*v = tensor.Tensor{Shape: append(v.Shape[:0], n, p.h.NIn, oh[0], oh[1]), Data: data}
	return v
}

func (p *convProjection) frameOut() [2]int { return [2]int{p.oh, p.ow} }

// convRecurGrad sets dh (beta 0) or adds to it the gradient reaching
// h_{t−1} through step t's state convolution, and accumulates that
// convolution's weight gradient.
func (l *cellCore) convRecurGrad(n, steps, t int, beta float32) {
	p, h, g := l.conv, l.Hidden, 4*l.Hidden
	p.hstep = gatherStep(p.hstep, l.hprev, n, steps, t, h)
	p.dstep = gatherStep(p.dstep, l.dpre, n, steps, t, g)
	oh := p.frameOut()
	p.dView = tensor.Tensor{Shape: append(p.dView.Shape[:0], n, 4*p.h.NIn, oh[0], oh[1]), Data: p.dstep}
	p.state(n, p.hstep, &p.hView) // the convolution's last forward, a step's, sized its buffers for this
	p.h.frozen, p.h.inputGradUnused, p.h.gradsOverwritten = l.frozen, false, false
	gx := p.h.Backward(&p.hView, &p.dView)
	if beta == 0 {
		copy(l.dh, gx.Data)
		return
	}
	for i, v := range gx.Data {
		l.dh[i] += v
	}
}

// convFinish accumulates the input convolution's gradients from every
// frame's and writes the input's gradient into gx (unless nil).
func (l *cellCore) convFinish(x []float32, n, steps int, gx []float32) {
	p := l.conv
	p.view = tensor.Tensor{Shape: p.viewShape, Data: x}
	oh := p.frameOut()
	p.gyView = tensor.Tensor{Shape: append(p.gyView.Shape[:0], n*steps, 4*p.h.NIn, oh[0], oh[1]), Data: l.dpre}
	p.x.frozen, p.x.inputGradUnused, p.x.gradsOverwritten = l.frozen, gx == nil, l.gradsOverwritten
	if g := p.x.Backward(&p.view, &p.gyView); gx != nil {
		copy(gx, g.Data)
	}
}

// peepholes are the weights the gate loops read per state element: the
// vectors of LSTMPeephole, or ConvLSTMPeephole's per-channel weights
// repeated over the plane.
func (l *LSTM) peepholes() (pi, pf, po []float32) {
	if l.conv == nil {
		return l.PI.Value.Data, l.PF.Value.Data, l.PO.Value.Data
	}
	p, h := l.conv, l.Hidden
	p.peep = grow(p.peep, 3*h)
	for k, w := range [3]*Param{l.PI, l.PF, l.PO} {
		for o, v := range w.Value.Data {
			plane := p.peep[k*h+o*p.hw : k*h+(o+1)*p.hw]
			for j := range plane {
				plane[j] = v
			}
		}
	}
	return p.peep[:h], p.peep[h : 2*h], p.peep[2*h:]
}

// peepholeGrads are where the gate loops add the peepholes' gradients:
// the parameters' own, or per element for ConvLSTMPeephole (foldPeepholeGrads
// sums each plane into its channel's).
func (l *LSTM) peepholeGrads() (gi, gf, gpo []float32) {
	if l.conv == nil {
		return l.PI.Grad.Data, l.PF.Grad.Data, l.PO.Grad.Data
	}
	p, h := l.conv, l.Hidden
	p.peepGrad = grow(p.peepGrad, 3*h)
	clear(p.peepGrad)
	return p.peepGrad[:h], p.peepGrad[h : 2*h], p.peepGrad[2*h:]
}

func (l *LSTM) foldPeepholeGrads() {
	if l.conv == nil {
		return
	}
	p, h := l.conv, l.Hidden
	for k, w := range [3]*Param{l.PI, l.PF, l.PO} {
		for o := range w.Grad.Data {
			var sum float32
			for _, v := range p.peepGrad[k*h+o*p.hw : k*h+(o+1)*p.hw] {
				sum += v
			}
			w.Grad.Data[o] += sum
		}
	}
}

// convolutional reports whether m is a ConvLSTMPeephole, which only
// Recurrent runs.
func convolutional(m Module) bool {
	l, ok := m.(*LSTM)
	return ok && l.conv != nil
}
