package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// TemporalConvolution is a 1-D convolution over the frames of (T, F) or
// (batch, T, F) input: each output frame is W·[frames t·stride … t·stride +
// kw − 1, concatenated] + b, W of shape (out, kw·F) as in BigDL.
//
// In (T, F) layout a window's kw frames are kw·F consecutive values, so
// unfolding a window is one copy.
type TemporalConvolution struct {
	Base
	In, Out, KW, DW int
	PropagateBack   bool
	Weight, Bias    *Param
	params          []*Param
	inits           initMethods
	output, gradIn  *tensor.Tensor
	col             []float32 // a chunk's windows, then their gradient
}

// TemporalMaxPooling is the max over windows of KW frames, DW apart, of each
// feature of (T, F) or (batch, T, F) input.
type TemporalMaxPooling struct {
	Base
	KW, DW         int
	output, gradIn *tensor.Tensor
	argmax         []int32
}

func init() {
	Register("TemporalConvolution", func(a *Args) (Module, error) {
		t := &TemporalConvolution{Base: newBase("TemporalConvolution"), In: a.PositiveInt("input_frame_size"),
			Out: a.PositiveInt("output_frame_size"), KW: a.PositiveInt("kernel_w"), DW: a.Int("stride_w", 1),
			PropagateBack: a.Bool("propagate_back", true)}
		if a.Err() == nil && t.DW < 1 {
			return nil, fmt.Errorf("TemporalConvolution: stride_w must be positive, got %d", t.DW)
		}
		t.Weight, t.Bias = newParam("weight", t.Out, t.In*t.KW), newParam("bias", t.Out)
		t.params = []*Param{t.Weight, t.Bias}
		stdv := 1 / math.Sqrt(float64(t.KW*t.In))
		u := uniformInit{class: "RandomUniform", lower: -stdv, upper: stdv, fixed: true}
		t.inits = initMethods{u, u}
		t.Reset()
		return t, nil
	})
	Register("TemporalMaxPooling", func(a *Args) (Module, error) {
		p := &TemporalMaxPooling{Base: newBase("TemporalMaxPooling"), KW: a.PositiveInt("k_w"), DW: a.Int("d_w", -1)}
		if p.DW == -1 {
			p.DW = p.KW
		}
		if a.Err() == nil && p.DW < 1 {
			return nil, fmt.Errorf("TemporalMaxPooling: d_w must be positive (or -1: k_w), got %d", p.DW)
		}
		return p, nil
	})
}

func (t *TemporalConvolution) Reset() { t.inits.draw(t, t.Weight, t.Bias) }

// Fans are BigDL's: the weight is OUT_IN, the bias ONE_D.
func (t *TemporalConvolution) Fans(p *Param) (int, int) {
	if p == t.Weight {
		return FansOutIn(p.Value.Shape)
	}
	return FansOneD(p.Value.Shape)
}

func (t *TemporalConvolution) SetInitMethods(w, b InitMethod) error {
	if err := t.inits.set(t, t.Weight, t.Bias, w, b); err != nil {
		return err
	}
	t.Reset()
	return nil
}

func (t *TemporalConvolution) Params() []*Param { return t.params }
func (t *TemporalConvolution) Config() map[string]any {
	return map[string]any{"input_frame_size": t.In, "output_frame_size": t.Out, "kernel_w": t.KW, "stride_w": t.DW,
		"propagate_back": t.PropagateBack}
}
func (t *TemporalConvolution) String() string {
	return fmt.Sprintf("TemporalConvolution[%s](%d -> %d, %d x %d)", t.name, t.In, t.Out, t.KW, t.DW)
}
func (t *TemporalConvolution) overwritesGrads() {}

// frames checks a (T, F) or (batch, T, F) input of f features per frame
// and returns the batch, the frames and the output frames of a window of
// kw frames moving by dw.
func frames(m Module, x *tensor.Tensor, f, kw, dw int) (n, tIn, tOut int) {
	d := x.Dims()
	if d != 2 && d != 3 || x.Shape[d-1] != f {
		shapeError(m, fmt.Sprintf("(T, %d) or (batch, T, %d)", f, f), x.Shape)
	}
	n, tIn = 1, x.Shape[d-2]
	if d == 3 {
		n = x.Shape[0]
	}
	if tIn < kw {
		panic(fmt.Errorf("%s: the window of %d frames is longer than the %d frames of input shape %s",
			m.String(), kw, tIn, tensor.ShapeString(x.Shape)))
	}
	return n, tIn, (tIn-kw)/dw + 1
}

func ensureFrames(t *tensor.Tensor, batched bool, n, frames, f int) *tensor.Tensor {
	if batched {
		return tensor.Ensure(t, n, frames, f)
	}
	return tensor.Ensure(t, frames, f)
}

// unfold copies the windows of images [s0, s0+m) into rows of t.col, one
// row of kw·F values per output frame; a chunk of the batch is then one
// product with the weight.
func (t *TemporalConvolution) unfold(x []float32, s0, m, tIn, tOut int) []float32 {
	k := t.KW * t.In
	t.col = grow(t.col, m*tOut*k)
	for s := 0; s < m; s++ {
		in := x[(s0+s)*tIn*t.In : (s0+s+1)*tIn*t.In]
		for r := 0; r < tOut; r++ {
			copy(t.col[(s*tOut+r)*k:(s*tOut+r+1)*k], in[r*t.DW*t.In:r*t.DW*t.In+k])
		}
	}
	return t.col
}

func (t *TemporalConvolution) chunk(n, tOut int) int {
	return max(1, min(n, colBudget/max(1, tOut*t.KW*t.In)))
}

func (t *TemporalConvolution) Forward(x *tensor.Tensor) *tensor.Tensor {
	n, tIn, tOut := frames(t, x, t.In, t.KW, t.DW)
	t.output = ensureFrames(t.output, x.Dims() == 3, n, tOut, t.Out)
	k, cs := t.KW*t.In, t.chunk(n, tOut)
	for s0 := 0; s0 < n; s0 += cs {
		m := min(cs, n-s0)
		y := t.output.Data[s0*tOut*t.Out : (s0+m)*tOut*t.Out]
		for r := 0; r < m*tOut; r++ {
			copy(y[r*t.Out:(r+1)*t.Out], t.Bias.Value.Data)
		}
		col := t.unfold(x.Data, s0, m, tIn, tOut)
		kernels.Sgemm(false, true, m*tOut, t.Out, k, 1, col, k, t.Weight.Value.Data, k, 1, y, t.Out)
	}
	return t.output
}

func (t *TemporalConvolution) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	n, tIn, tOut := frames(t, x, t.In, t.KW, t.DW)
	if gy.Len() != n*tOut*t.Out {
		shapeError(t, fmt.Sprintf("a gradient of %d values, shaped like the output", n*tOut*t.Out), gy.Shape)
	}
	needGx := !t.inputGradUnused && t.PropagateBack
	if !t.inputGradUnused {
		t.gradIn = tensor.Ensure(t.gradIn, x.Shape...)
		clear(t.gradIn.Data) // without propagate_back BigDL computes no input gradient: it stays zero
	}
	if !t.frozen && t.gradsOverwritten {
		clear(t.Weight.Grad.Data)
		clear(t.Bias.Grad.Data)
	}
	k, cs := t.KW*t.In, t.chunk(n, tOut)
	for s0 := 0; s0 < n; s0 += cs {
		m := min(cs, n-s0)
		g := gy.Data[s0*tOut*t.Out : (s0+m)*tOut*t.Out]
		if !t.frozen {
			col := t.unfold(x.Data, s0, m, tIn, tOut)
			kernels.Sgemm(true, false, t.Out, k, m*tOut, 1, g, t.Out, col, k, 1, t.Weight.Grad.Data, k)
			kernels.SumRows(t.Bias.Grad.Data, g, m*tOut, t.Out)
		}
		if needGx {
			t.col = grow(t.col, m*tOut*k)
			kernels.Sgemm(false, false, m*tOut, k, t.Out, 1, g, t.Out, t.Weight.Value.Data, k, 0, t.col, k)
			for s := 0; s < m; s++ {
				gx := t.gradIn.Data[(s0+s)*tIn*t.In : (s0+s+1)*tIn*t.In]
				for r := 0; r < tOut; r++ {
					kernels.Axpy(1, t.col[(s*tOut+r)*k:(s*tOut+r+1)*k], gx[r*t.DW*t.In:r*t.DW*t.In+k])
				}
			}
		}
	}
	if t.inputGradUnused {
		return nil
	}
	return t.gradIn
}

func (p *TemporalMaxPooling) Params() []*Param       { return nil }
func (p *TemporalMaxPooling) Reset()                 {}
func (p *TemporalMaxPooling) Config() map[string]any { return map[string]any{"k_w": p.KW, "d_w": p.DW} }
func (p *TemporalMaxPooling) String() string {
	return fmt.Sprintf("TemporalMaxPooling[%s](%d, %d)", p.name, p.KW, p.DW)
}

func (p *TemporalMaxPooling) Forward(x *tensor.Tensor) *tensor.Tensor {
	if x.Dims() != 2 && x.Dims() != 3 {
		shapeError(p, "(T, F) or (batch, T, F)", x.Shape)
	}
	f := x.Shape[x.Dims()-1]
	n, tIn, tOut := frames(p, x, f, p.KW, p.DW)
	p.output = ensureFrames(p.output, x.Dims() == 3, n, tOut, f)
	if cap(p.argmax) < p.output.Len() {
		p.argmax = make([]int32, p.output.Len())
	}
	p.argmax = p.argmax[:p.output.Len()]
	for s := 0; s < n; s++ {
		in := x.Data[s*tIn*f : (s+1)*tIn*f]
		for r := 0; r < tOut; r++ {
			o := (s*tOut + r) * f
			y, at := p.output.Data[o:o+f], p.argmax[o:o+f]
			first := r * p.DW * f
			copy(y, in[first:first+f])
			for j := range at {
				at[j] = int32(first + j)
			}
			for w := 1; w < p.KW; w++ {
				row := in[first+w*f : first+(w+1)*f]
				for j, v := range row {
					if v > y[j] || v != v {
						y[j], at[j] = v, int32(first+w*f+j)
					}
				}
			}
		}
	}
	return p.output
}

func (p *TemporalMaxPooling) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	if p.output == nil || gy.Len() != p.output.Len() || x.Dims() < 2 {
		shapeError(p, "a gradient shaped like the last output", gy.Shape)
	}
	f := x.Shape[x.Dims()-1]
	n, tIn, tOut := frames(p, x, f, p.KW, p.DW)
	if n*tOut*f != gy.Len() {
		shapeError(p, "a gradient shaped like the output", gy.Shape)
	}
	p.gradIn = tensor.Ensure(p.gradIn, x.Shape...)
	clear(p.gradIn.Data)
	for s := 0; s < n; s++ {
		gx := p.gradIn.Data[s*tIn*f : (s+1)*tIn*f]
		o := s * tOut * f
		for i, at := range p.argmax[o : o+tOut*f] {
			gx[at] += gy.Data[o+i]
		}
	}
	return p.gradIn
}
