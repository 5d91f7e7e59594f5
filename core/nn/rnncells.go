package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// LSTM is BigDL's LSTM cell. Its parameters are BigDL's: the input
// projection W (4·hidden, input) and bias b (4·hidden), then the recurrent
// weight U (4·hidden, hidden) without bias; the gate blocks are in BigDL's
// order input, cell candidate, forget, output:
//
//	[i, g, f, o] = [σ, act, σ, σ](x·Wᵀ + b + h·Uᵀ)
//	c' = f·c + i·g,  h' = o·act(c')
type LSTM struct {
	cellCore
	c, tc, dcell []float32 // cell states, act(cell states), and the cell gradient from step t+1
	// LSTMPeephole: the peephole weights, nil in an LSTM, and the gate blocks' order.
	PI, PF, PO *Param
	order      gateOrder
}

// GRU is BigDL's GRU cell: W (3·hidden, input) and b (3·hidden) project the
// input into the reset, update and candidate blocks; U (2·hidden, hidden)
// is the recurrent weight of the reset and update gates and Un (hidden,
// hidden) that of the candidate. Unlike PyTorch's GRU, the reset gate
// multiplies the state before its product with Un:
//
//	r, z = σ(x·W_rᵀ + b_r + h·U_rᵀ), σ(x·W_zᵀ + b_z + h·U_zᵀ)
//	n = act(x·W_nᵀ + b_n + (r·h)·Unᵀ),  h' = (1−z)·n + z·h
type GRU struct {
	cellCore
	Un     *Param
	rh     []float32 // r·h of every step (dropped, under dropout)
	rhMask []float32 // (batch, hidden): the dropout mask of r·h
	drh    []float32 // (batch, hidden) scratch: the gradient of r·h at one step
	// unT and unN are Un packed for its products at every step, forward
	// (op(B) = Unᵀ) and backward (Un), at the start of each pass as the
	// cells pack U (see cellCore.uT).
	unT, unN kernels.PackedB
}

// RnnCell is h' = act(x·Wᵀ + b + h·Uᵀ + b_h), BigDL's RnnCell; either bias
// may be left out.
type RnnCell struct {
	cellCore
}

func init() {
	Register("LSTM", func(a *Args) (Module, error) {
		in, h := a.PositiveInt("input_size"), a.PositiveInt("hidden_size")
		l := &LSTM{cellCore: newCellCore("LSTM", in, h, 4, 4), order: lstmOrder}
		l.P = a.Float("p", 0)
		l.act, l.inner = gateActivationArg(a, "activation", "tanh"), gateActivationArg(a, "inner_activation", "sigmoid")
		if err := dropoutArg(a, "LSTM", l.P); err != nil {
			return nil, err
		}
		l.B = newParam("bias", 4*h)
		l.params = []*Param{l.W, l.B, l.U}
		if l.P != 0 {
			// With dropout BigDL's LSTM gives each gate Linear layers of its
			// own, the recurrent ones with a bias; kept here in one (4·hidden,) vector.
			l.BH = newParam("biasH", 4*h)
			l.params = append(l.params, l.BH)
		}
		l.initialize(l, l.U, l.BH, l.W, l.B)
		return l, nil
	})
	Register("GRU", func(a *Args) (Module, error) {
		in, h := a.PositiveInt("input_size"), a.PositiveInt("hidden_size")
		g := &GRU{cellCore: newCellCore("GRU", in, h, 3, 2)}
		g.P = a.Float("p", 0)
		g.act, g.inner = gateActivationArg(a, "activation", "tanh"), gateActivationArg(a, "inner_activation", "sigmoid")
		if err := dropoutArg(a, "GRU", g.P); err != nil {
			return nil, err
		}
		g.B, g.Un = newParam("bias", 3*h), newParam("weightHN", h, h)
		g.params = []*Param{g.W, g.B, g.U, g.Un}
		g.initialize(g, g.U, g.Un, g.W, g.B)
		return g, nil
	})
	Register("RnnCell", func(a *Args) (Module, error) {
		in, h := a.PositiveInt("input_size"), a.PositiveInt("hidden_size")
		r := &RnnCell{cellCore: newCellCore("RnnCell", in, h, 1, 1)}
		if !a.Has("activation") && a.Err() == nil {
			return nil, fmt.Errorf("RnnCell: argument activation is required (a layer such as Tanh() or a name such as \"tanh\")")
		}
		r.act = gateActivationArg(a, "activation", "tanh")
		r.params = []*Param{r.W}
		if a.Bool("isInputWithBias", true) {
			r.B = newParam("bias", h)
			r.params = append(r.params, r.B)
		}
		r.params = append(r.params, r.U)
		if a.Bool("isHiddenWithBias", true) {
			r.BH = newParam("biasH", h)
			r.params = append(r.params, r.BH)
		}
		r.initialize(r, r.W, r.B, r.U, r.BH)
		return r, nil
	})
}

// dropoutArg checks a cell's dropout probability p.
func dropoutArg(a *Args, class string, p float64) error {
	if a.Err() != nil {
		return nil
	}
	if p < 0 || p >= 1 {
		return fmt.Errorf("%s: argument p must be in [0, 1), got %v", class, p)
	}
	return nil
}

// GRU

func (g *GRU) Config() map[string]any { return g.gatedConfig(g.P) }

func (g *GRU) forwardSeq(x []float32, n, steps int, out []float32) {
	h, w := g.Hidden, 3*g.Hidden
	if g.masked() {
		g.rhMask = grow(g.rhMask, n*h)
		g.sampleMasks(n, &g.rhMask)
	}
	g.project(x, n, steps, g.B)
	g.startBuffers(n, steps)
	g.rh = grow(g.rh, n*steps*h)
	g.unT.Pack(true, n, h, h, g.Un.Value.Data, h)
	fused := g.fused()
	for t := 0; t < steps; t++ {
		if t > 0 {
			g.recur(n, steps, t)
		}
		if fused {
			s := g.stepRows(n, steps, t)
			kernels.GRUResetForward(&s, g.rh[t*h:])
			if t > 0 {
				kernels.SgemmPackedB(false, n, 1, g.rh[t*h:], steps*h, &g.unT, 1, g.pre[t*w+2*h:], steps*w)
			}
			kernels.GRUForward(&s, out[t*h:])
			for b := 0; b < n; b++ {
				r := b*steps + t
				g.keep(b, steps, t, out[r*h:(r+1)*h])
			}
			continue
		}
		for b := 0; b < n; b++ {
			r := b*steps + t
			p := g.pre[r*w : (r+1)*w]
			g.inner.f(p[:2*h])
			rg, hp, rh := p[:h], g.hprev[r*h:(r+1)*h], g.rh[r*h:(r+1)*h]
			for j := range rh {
				rh[j] = rg[j] * hp[j]
			}
			if g.masked() {
				m := g.rhMask[b*h : (b+1)*h]
				for j := range rh {
					rh[j] *= m[j]
				}
			}
		}
		if t > 0 {
			kernels.SgemmPackedB(false, n, 1, g.rh[t*h:], steps*h, &g.unT, 1, g.pre[t*w+2*h:], steps*w)
		}
		for b := 0; b < n; b++ {
			r := b*steps + t
			p := g.pre[r*w : (r+1)*w]
			z, nn := p[h:2*h], p[2*h:]
			g.act.f(nn)
			hp, ht := g.hprev[r*h:(r+1)*h], out[r*h:(r+1)*h]
			for j := range ht {
				ht[j] = (1-z[j])*nn[j] + z[j]*hp[j]
			}
			g.keep(b, steps, t, ht)
		}
	}
}

func (g *GRU) backwardSeq(x, gy []float32, n, steps int, gx []float32) {
	h, w := g.Hidden, 3*g.Hidden
	g.startBackward(n, steps)
	g.drh = grow(g.drh, n*h)
	g.unN.Pack(false, n, h, h, g.Un.Value.Data, h)
	fused := g.fused()
	for t := steps - 1; t >= 0; t-- {
		if fused {
			s := g.stepRows(n, steps, t)
			kernels.GRUBackward(&s, gy[t*h:], g.dpre[t*w:], g.dh)
			kernels.SgemmPackedB(false, n, 1, g.dpre[t*w+2*h:], steps*w, &g.unN, 0, g.drh, h)
			kernels.GRUResetBackward(&s, g.dpre[t*w:], g.drh, g.dh)
			if t > 0 {
				g.recurGrad(n, steps, t, 1)
			}
			continue
		}
		for b := 0; b < n; b++ {
			r := b*steps + t
			p, dp := g.pre[r*w:(r+1)*w], g.dpre[r*w:(r+1)*w]
			z, nn := p[h:2*h], p[2*h:]
			dz, dn := dp[h:2*h], dp[2*h:]
			dh, hp, gyr := g.dh[b*h:(b+1)*h], g.hprev[r*h:(r+1)*h], gy[r*h:(r+1)*h]
			for j := range dh {
				d := dh[j] + gyr[j]
				dn[j] = d * (1 - z[j])
				dz[j] = d * (hp[j] - nn[j])
				dh[j] = d * z[j] // the direct path to h_{t−1}; the gates' paths are added below
			}
			g.act.df(dn, dn, nn)
			g.inner.df(dz, dz, z)
		}
		kernels.SgemmPackedB(false, n, 1, g.dpre[t*w+2*h:], steps*w, &g.unN, 0, g.drh, h)
		for b := 0; b < n; b++ {
			r := b*steps + t
			p, dp := g.pre[r*w:(r+1)*w], g.dpre[r*w:(r+1)*w]
			rg, dr := p[:h], dp[:h]
			drh, dh, hp := g.drh[b*h:(b+1)*h], g.dh[b*h:(b+1)*h], g.hprev[r*h:(r+1)*h]
			if g.masked() {
				m := g.rhMask[b*h : (b+1)*h]
				for j := range drh {
					drh[j] *= m[j]
				}
			}
			for j := range dr {
				dr[j] = drh[j] * hp[j]
				dh[j] += drh[j] * rg[j]
			}
			g.inner.df(dr, dr, rg)
		}
		if t > 0 {
			g.recurGrad(n, steps, t, 1)
		}
	}
	g.finishBackward(x, n, steps, gx, g.B)
	if !g.frozen {
		beta := float32(1)
		if g.gradsOverwritten {
			beta = 0
		}
		kernels.Sgemm(true, false, h, h, n*steps, 1, g.dpre[2*h:], w, g.rh, h, beta, g.Un.Grad.Data, h)
	}
}

// fused reports whether a step runs through the kernels.GRURows kernels,
// one call for all records: a GRU with the default sigmoid and tanh. Their
// results are the per-record code's bit for bit.
func (g *GRU) fused() bool {
	return g.inner.name == "sigmoid" && g.act.name == "tanh"
}

// stepRows is step t's records in pre and hprev (record b's row is
// b·steps+t), with the dropout mask of r·h if this forward drops.
func (g *GRU) stepRows(n, steps, t int) kernels.GRURows {
	h := g.Hidden
	s := kernels.GRURows{
		N: n, Hidden: h,
		Gates: g.pre[t*3*h:], GateStride: steps * 3 * h,
		HPrev: g.hprev[t*h:], StateStride: steps * h,
	}
	if g.masked() {
		s.Mask = g.rhMask
	}
	return s
}

func (g *GRU) finalState(out []float32, n, steps int) []*tensor.Tensor {
	return []*tensor.Tensor{lastOf(out, n, steps, g.Hidden)}
}

// RnnCell

func (c *RnnCell) Config() map[string]any {
	return map[string]any{"input_size": c.In, "hidden_size": c.Hidden, "activation": c.act.name,
		"isInputWithBias": c.B != nil, "isHiddenWithBias": c.BH != nil}
}

func (c *RnnCell) forwardSeq(x []float32, n, steps int, out []float32) {
	h := c.Hidden
	c.project(x, n, steps, c.B, c.BH) // the hidden bias is constant: it joins the input's
	c.startBuffers(n, steps)
	for t := 0; t < steps; t++ {
		if t > 0 {
			c.recur(n, steps, t)
		}
		for b := 0; b < n; b++ {
			r := b*steps + t
			p := c.pre[r*h : (r+1)*h]
			c.act.f(p)
			copy(out[r*h:(r+1)*h], p)
			c.keep(b, steps, t, p)
		}
	}
}

func (c *RnnCell) backwardSeq(x, gy []float32, n, steps int, gx []float32) {
	h := c.Hidden
	c.startBackward(n, steps)
	for t := steps - 1; t >= 0; t-- {
		for b := 0; b < n; b++ {
			r := b*steps + t
			dh, gyr, dp := c.dh[b*h:(b+1)*h], gy[r*h:(r+1)*h], c.dpre[r*h:(r+1)*h]
			for j := range dh {
				dp[j] = dh[j] + gyr[j]
			}
			c.act.df(dp, dp, c.pre[r*h:(r+1)*h])
		}
		if t > 0 {
			c.recurGrad(n, steps, t, 0)
		}
	}
	c.finishBackward(x, n, steps, gx, c.B, c.BH)
}

func (c *RnnCell) finalState(out []float32, n, steps int) []*tensor.Tensor {
	return []*tensor.Tensor{lastOf(out, n, steps, c.Hidden)}
}
