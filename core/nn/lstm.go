package nn

import (
	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// LSTMPeephole is BigDL's LSTM with peepholes, an LSTM whose input and
// forget gates also see the previous cell state, and its output gate the
// new one, each through a vector of weights (BigDL's CMul). Its gate blocks
// of W (4·hidden, input), b and U (4·hidden, hidden) are in its order input,
// forget, cell candidate, output:
//
//	i = σ(x·W_iᵀ + b_i + h·U_iᵀ + p_i·c),  f = σ(… + p_f·c),  g = tanh(x·W_gᵀ + b_g + h·U_gᵀ)
//	c' = f·c + i·g,  o = σ(x·W_oᵀ + b_o + h·U_oᵀ + p_o·c'),  h' = o·tanh(c')
//
// One LSTM type runs both; the peephole weights are nil in a plain LSTM.

func init() {
	Register("LSTMPeephole", func(a *Args) (Module, error) {
		in, h := a.PositiveInt("input_size"), a.PositiveInt("hidden_size")
		l := &LSTM{cellCore: newCellCore("LSTMPeephole", in, h, 4, 4), order: peepholeOrder}
		l.P = a.Float("p", 0)
		if err := dropoutArg(a, "LSTMPeephole", l.P); err != nil {
			return nil, err
		}
		l.act, l.inner = gateActivations["tanh"], gateActivations["sigmoid"]
		l.B = newParam("bias", 4*h)
		l.PI, l.PF, l.PO = newParam("peepholeI", h), newParam("peepholeF", h), newParam("peepholeO", h)
		l.params = []*Param{l.W, l.B, l.U, l.PI, l.PF, l.PO}
		l.initialize(l, l.U, l.PI, l.PF, l.PO, l.W, l.B) // BigDL builds the cell before the input Linear
		return l, nil
	})
}

// gateOrder is where the input, forget, cell and output gates' blocks lie,
// as block indices.
type gateOrder struct{ i, f, g, o int }

var (
	lstmOrder     = gateOrder{i: 0, g: 1, f: 2, o: 3} // BigDL's LSTM
	peepholeOrder = gateOrder{i: 0, f: 1, g: 2, o: 3} // LSTMPeephole and ConvLSTMPeephole
)

// gates splits a record's 4·h gate values into the input, forget, cell and output gates.
func (o gateOrder) gates(p []float32, h int) (i, f, g, out []float32) {
	return p[o.i*h : (o.i+1)*h], p[o.f*h : (o.f+1)*h], p[o.g*h : (o.g+1)*h], p[o.o*h : (o.o+1)*h]
}

func (l *LSTM) Config() map[string]any {
	if l.convConfig != nil {
		return l.convConfig
	}
	if l.PI != nil {
		return map[string]any{"input_size": l.In, "hidden_size": l.Hidden, "p": l.P}
	}
	return l.gatedConfig(l.P)
}

func (l *LSTM) forwardSeq(x []float32, n, steps int, out []float32) {
	h, g := l.Hidden, 4*l.Hidden
	if l.masked() {
		l.sampleMasks(n)
	}
	// The biases join each step's gates while they are in cache: written
	// into every step's rows before the input projection, they cost a pass
	// over a buffer larger than L2 and made that product read it back. In
	// feedback mode the later steps' rows are only summed into, so they need
	// the biases first; a convolution adds its own.
	biasPerStep := !l.feedback && l.conv == nil
	if biasPerStep {
		l.project(x, n, steps)
	} else {
		l.project(x, n, steps, l.B, l.BH)
	}
	l.startBuffers(n, steps)
	l.c, l.tc = grow(l.c, n*steps*h), grow(l.tc, n*steps*h)
	var peepI, peepF, peepO []float32
	if l.PI != nil {
		peepI, peepF, peepO = l.peepholes()
	}
	fused := l.fused()
	var bias, bias2 []float32
	if fused && biasPerStep {
		bias = l.B.Value.Data
		if l.BH != nil {
			bias2 = l.BH.Value.Data
		}
	}
	for t := 0; t < steps; t++ {
		if t > 0 {
			l.recur(n, steps, t)
		}
		if fused {
			s := l.stepRows(n, steps, t)
			kernels.LSTMForward(&s, bias, bias2, out[t*h:])
			for b := 0; b < n; b++ {
				r := b*steps + t
				l.keep(b, steps, t, out[r*h:(r+1)*h])
			}
			continue
		}
		for b := 0; b < n; b++ {
			r := b*steps + t
			p := l.pre[r*g : (r+1)*g]
			if biasPerStep {
				kernels.Axpy(1, l.B.Value.Data, p)
				if l.BH != nil {
					kernels.Axpy(1, l.BH.Value.Data, p)
				}
			}
			i, f, gg, o := l.order.gates(p, h)
			c, tc, ht := l.c[r*h:(r+1)*h], l.tc[r*h:(r+1)*h], out[r*h:(r+1)*h]
			var cp []float32 // the previous cell state; none (zero) before the first step
			if t > 0 {
				cp = l.c[(r-1)*h : r*h]
			}
			if l.PI != nil && cp != nil {
				kernels.MulAdd(i, peepI, cp)
				kernels.MulAdd(f, peepF, cp)
			}
			l.inner.f(i)
			l.inner.f(f)
			l.act.f(gg)
			kernels.Mul(c, i, gg)
			if cp != nil {
				kernels.MulAdd(c, f, cp)
			}
			if l.PO != nil {
				kernels.MulAdd(o, peepO, c)
			}
			l.inner.f(o)
			copy(tc, c)
			l.act.f(tc)
			kernels.Mul(ht, o, tc)
			l.keep(b, steps, t, ht)
		}
	}
}

func (l *LSTM) backwardSeq(x, gy []float32, n, steps int, gx []float32) {
	h, g := l.Hidden, 4*l.Hidden
	l.startBackward(n, steps)
	l.dcell = grow(l.dcell, n*h)
	clear(l.dcell)
	peep, train := l.PI != nil, !l.frozen
	var pi, pf, po, gi, gf, gpo []float32
	if peep {
		if train && l.gradsOverwritten {
			clear(l.PI.Grad.Data)
			clear(l.PF.Grad.Data)
			clear(l.PO.Grad.Data)
		}
		pi, pf, po = l.peepholes()
		gi, gf, gpo = l.peepholeGrads()
	}
	fused := l.fused()
	for t := steps - 1; t >= 0; t-- {
		if fused {
			s := l.stepRows(n, steps, t)
			kernels.LSTMBackward(&s, gy[t*h:], l.dpre[t*g:], l.dh, l.dcell)
			if t > 0 {
				l.recurGrad(n, steps, t, 0)
			}
			continue
		}
		for b := 0; b < n; b++ {
			r := b*steps + t
			p, dp := l.pre[r*g:(r+1)*g], l.dpre[r*g:(r+1)*g]
			i, f, gg, o := l.order.gates(p, h)
			di, df, dg, do := l.order.gates(dp, h)
			dh, dc := l.dh[b*h:(b+1)*h], l.dcell[b*h:(b+1)*h]
			c, tc, gyr := l.c[r*h:(r+1)*h], l.tc[r*h:(r+1)*h], gy[r*h:(r+1)*h]
			var cp []float32
			if t > 0 {
				cp = l.c[(r-1)*h : r*h]
			}
			// dh is the gradient from step t+1; add this step's output's.
			kernels.Axpy(1, gyr, dh)
			kernels.Mul(do, dh, tc)
			kernels.Mul(di, dh, o) // the gradient of act(c), made that of c below
			l.inner.df(do, do, o)
			l.act.df(di, di, tc)
			kernels.Axpy(1, di, dc)
			if peep { // c' also reaches the output gate
				kernels.MulAdd(dc, do, po)
				if train {
					kernels.MulAdd(gpo, do, c)
				}
			}
			kernels.Mul(di, dc, gg)
			kernels.Mul(dg, dc, i)
			if cp == nil {
				clear(df)
			} else {
				kernels.Mul(df, dc, cp)
			}
			l.inner.df(di, di, i)
			l.inner.df(df, df, f)
			l.act.df(dg, dg, gg)
			if cp == nil {
				continue
			}
			kernels.Mul(dc, dc, f)
			if peep { // c reached the input and forget gates
				kernels.MulAdd(dc, di, pi)
				kernels.MulAdd(dc, df, pf)
				if train {
					kernels.MulAdd(gi, di, cp)
					kernels.MulAdd(gf, df, cp)
				}
			}
		}
		if t > 0 {
			l.recurGrad(n, steps, t, 0)
		}
	}
	if peep && train {
		l.foldPeepholeGrads()
	}
	l.finishBackward(x, n, steps, gx, l.B, l.BH)
}

// fused reports whether a step runs as kernels.LSTMForward and LSTMBackward
// compute it, one call for all records: an LSTM without peepholes whose
// activations are the default sigmoid and tanh (dropout only changes the
// products). Their results are the per-record kernel calls' bit for bit.
func (l *LSTM) fused() bool {
	return l.PI == nil && l.inner.name == "sigmoid" && l.act.name == "tanh"
}

// stepRows is step t's records in pre, c and tc (record b's row is b·steps+t).
func (l *LSTM) stepRows(n, steps, t int) kernels.LSTMRows {
	h := l.Hidden
	s := kernels.LSTMRows{
		N: n, Hidden: h, Order: [4]int{l.order.i, l.order.f, l.order.g, l.order.o},
		Gates: l.pre[t*4*h:], GateStride: steps * 4 * h,
		C: l.c[t*h:], TC: l.tc[t*h:], StateStride: steps * h,
	}
	if t > 0 {
		s.CPrev = l.c[(t-1)*h:]
	}
	return s
}

func (l *LSTM) finalState(out []float32, n, steps int) []*tensor.Tensor {
	return []*tensor.Tensor{lastOf(out, n, steps, l.Hidden), lastOf(l.c, n, steps, l.Hidden)}
}
