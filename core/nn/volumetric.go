package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// VolumetricConvolution is BigDL's 3-D convolution over (C, T, H, W) or
// (batch, C, T, H, W) input. Arguments come time, width, height, as in
// BigDL; the weight is (out, in, kt, kh, kw), the bias (out,). Padding -1 on
// all three axes is TensorFlow's SAME. Each chunk of the batch is unfolded
// (vol2col) into a workspace the layer keeps, then one matrix product.
type VolumetricConvolution struct {
	Base
	NIn, NOut        int
	KT, KW, KH       int
	DT, DW, DH       int
	PadT, PadW, PadH int
	Weight, Bias     *Param // Bias nil without bias
	params           []*Param
	inits            initMethods
	output, gradIn   *tensor.Tensor
	geom             kernels.VolGeom // the last call's window
	ws               convWorkspace
}

// VolumetricPooling is BigDL's VolumetricMaxPooling and
// VolumetricAveragePooling over (C, T, H, W) or (batch, C, T, H, W) input.
// Windows clip to the volume: the max ignores padding, and the average
// divides by the window's size up to the padded edge (count_include_pad) or
// by the values it covers.
type VolumetricPooling struct {
	Base
	Max              bool
	KT, KW, KH       int
	DT, DW, DH       int
	PadT, PadW, PadH int
	Ceil             bool // average only (BigDL's Python max pooling has no ceil mode)
	CountIncludePad  bool
	output, gradIn   *tensor.Tensor
	argmax           []int32 // max: the index in its (T, H, W) volume each output read
}

func init() {
	Register("VolumetricConvolution", func(a *Args) (Module, error) {
		c := &VolumetricConvolution{Base: newBase("VolumetricConvolution"),
			NIn: a.PositiveInt("n_input_plane"), NOut: a.PositiveInt("n_output_plane"),
			KT: a.PositiveInt("k_t"), KW: a.PositiveInt("k_w"), KH: a.PositiveInt("k_h"),
			DT: strideArg(a, "d_t"), DW: strideArg(a, "d_w"), DH: strideArg(a, "d_h"),
			PadT: a.Int("pad_t", 0), PadW: a.Int("pad_w", 0), PadH: a.Int("pad_h", 0)}
		withBias := a.Bool("with_bias", true)
		if err := a.Err(); err != nil {
			return nil, err
		}
		if !(c.PadT >= 0 && c.PadW >= 0 && c.PadH >= 0 || c.PadT == -1 && c.PadW == -1 && c.PadH == -1) {
			return nil, fmt.Errorf("VolumetricConvolution: pad_t, pad_w and pad_h must be ≥ 0, or all -1 (SAME), got %d, %d and %d",
				c.PadT, c.PadW, c.PadH)
		}
		c.Weight = newParam("weight", c.NOut, c.NIn, c.KT, c.KH, c.KW)
		c.params = []*Param{c.Weight}
		if withBias {
			c.Bias = newParam("bias", c.NOut)
			c.params = append(c.params, c.Bias)
		}
		stdv := 1 / math.Sqrt(float64(c.KT*c.KW*c.KH*c.NIn))
		u := uniformInit{class: "RandomUniform", lower: -stdv, upper: stdv, fixed: true}
		c.inits = initMethods{u, u}
		c.Reset()
		return c, nil
	})
	for _, isMax := range []bool{true, false} {
		class := map[bool]string{true: "VolumetricMaxPooling", false: "VolumetricAveragePooling"}[isMax]
		Register(class, func(a *Args) (Module, error) {
			p := &VolumetricPooling{Base: newBase(class), Max: isMax,
				KT: a.PositiveInt("k_t"), KW: a.PositiveInt("k_w"), KH: a.PositiveInt("k_h"),
				DT: a.PositiveInt("d_t"), DW: a.PositiveInt("d_w"), DH: a.PositiveInt("d_h"),
				PadT: a.Int("pad_t", 0), PadW: a.Int("pad_w", 0), PadH: a.Int("pad_h", 0),
				CountIncludePad: a.Bool("count_include_pad", true), Ceil: a.Bool("ceil_mode", false)}
			if err := a.Err(); err != nil {
				return nil, err
			}
			for _, ax := range []struct {
				name   string
				pad, k int
			}{{"pad_t", p.PadT, p.KT}, {"pad_w", p.PadW, p.KW}, {"pad_h", p.PadH, p.KH}} {
				if ax.pad < 0 || ax.pad > ax.k/2 {
					return nil, fmt.Errorf("%s: %s must be between 0 and half its kernel size %d, got %d", class, ax.name, ax.k, ax.pad)
				}
			}
			return p, nil
		})
	}
}

// strideArg reads an optional stride: 1 when absent, else a positive integer.
func strideArg(a *Args, name string) int {
	if !a.Has(name) {
		return 1
	}
	return a.PositiveInt(name)
}

func (c *VolumetricConvolution) Reset() { c.inits.draw(c, c.Weight, c.Bias) }

// Fans are BigDL's OUT_IN_KT_KH_KW for the weight, ONE_D for the bias.
func (c *VolumetricConvolution) Fans(p *Param) (int, int) {
	if p == c.Weight {
		return FansOutInKwKh(p.Value.Shape)
	}
	return FansOneD(p.Value.Shape)
}

func (c *VolumetricConvolution) SetInitMethods(w, b InitMethod) error {
	if err := c.inits.set(c, c.Weight, c.Bias, w, b); err != nil {
		return err
	}
	c.Reset()
	return nil
}

func (c *VolumetricConvolution) Params() []*Param { return c.params }
func (c *VolumetricConvolution) Config() map[string]any {
	return map[string]any{"n_input_plane": c.NIn, "n_output_plane": c.NOut, "k_t": c.KT, "k_w": c.KW, "k_h": c.KH,
		"d_t": c.DT, "d_w": c.DW, "d_h": c.DH, "pad_t": c.PadT, "pad_w": c.PadW, "pad_h": c.PadH, "with_bias": c.Bias != nil}
}
func (c *VolumetricConvolution) String() string {
	return fmt.Sprintf("VolumetricConvolution[%s](%d -> %d, %d x %d x %d, %d, %d, %d, %d, %d, %d)", c.name, c.NIn, c.NOut,
		c.KT, c.KW, c.KH, c.DT, c.DW, c.DH, c.PadT, c.PadW, c.PadH)
}
func (c *VolumetricConvolution) overwritesGrads() {}

// volume checks a (C, T, H, W) or (batch, C, T, H, W) input (c channels; c
// < 0: any) for layer m and returns the batch size and the volume's shape.
func volume(m Module, x *tensor.Tensor, c int) (n, ch, t, h, w int) {
	s := x.Shape
	n = 1
	if x.Dims() == 5 {
		n, s = s[0], s[1:]
	}
	if x.Dims() != 4 && x.Dims() != 5 || c >= 0 && s[0] != c {
		want := "(C, T, H, W) or (batch, C, T, H, W)"
		if c >= 0 {
			want = fmt.Sprintf("(%d, T, H, W) or (batch, %d, T, H, W)", c, c)
		}
		shapeError(m, want, x.Shape)
	}
	return n, s[0], s[1], s[2], s[3]
}

// windowTooLarge panics: m's kt × kw × kh window does not fit the input
// (padded by pads, time, width, height).
func windowTooLarge(m Module, kt, kw, kh, t, w, h int, pads [3]int, x *tensor.Tensor) {
	panic(fmt.Errorf("%s: the %d x %d x %d window (time x width x height) is larger than the padded input %d x %d x %d of input shape %s",
		m.String(), kt, kw, kh, t+2*max(pads[0], 0), w+2*max(pads[1], 0), h+2*max(pads[2], 0), tensor.ShapeString(x.Shape)))
}

// geometry checks x and sets c.geom for it; it returns the batch size.
func (c *VolumetricConvolution) geometry(x *tensor.Tensor) int {
	n, ch, t, h, w := volume(c, x, c.NIn)
	g := kernels.VolGeom{C: ch, T: t, KT: c.KT, DT: c.DT,
		Slice: kernels.ConvGeom{C: 1, H: h, W: w, KH: c.KH, KW: c.KW, DH: c.DH, DW: c.DW, DilH: 1, DilW: 1}}
	g.OutT, g.PadF = windowOut(t, c.KT, c.DT, c.PadT, false, false)
	g.Slice.OutH, g.Slice.PadT = windowOut(h, c.KH, c.DH, c.PadH, false, false)
	g.Slice.OutW, g.Slice.PadL = windowOut(w, c.KW, c.DW, c.PadW, false, false)
	if g.OutT < 1 || g.Slice.OutH < 1 || g.Slice.OutW < 1 {
		windowTooLarge(c, c.KT, c.KW, c.KH, t, w, h, [3]int{c.PadT, c.PadW, c.PadH}, x)
	}
	c.geom = g
	return n
}

// gemm is the convolution as matrix products over the window c.geom.
func (c *VolumetricConvolution) gemm() gemmConv {
	g := &c.geom
	span := g.Span()
	return gemmConv{nOut: c.NOut, groups: 1, img: g.C * g.T * g.Slice.H * g.Slice.W,
		k: g.C * g.KT * g.Slice.KH * g.Slice.KW, span: span, rows: 1, rowW: span, outW: span, window: (*volWindow)(g)}
}

// volWindow unfolds volumes by vol2col.
type volWindow kernels.VolGeom

func (w *volWindow) unfold(col, x []float32, n int) {
	kernels.Vol2col(col, x, n, (*kernels.VolGeom)(w))
}
func (w *volWindow) fold(x, col []float32, n int) { kernels.Col2vol(x, col, n, (*kernels.VolGeom)(w)) }

func (c *VolumetricConvolution) outShape(x *tensor.Tensor, n int) []int {
	s := []int{c.NOut, c.geom.OutT, c.geom.Slice.OutH, c.geom.Slice.OutW}
	if x.Dims() == 5 {
		return append([]int{n}, s...)
	}
	return s
}

func (c *VolumetricConvolution) Forward(x *tensor.Tensor) *tensor.Tensor {
	n := c.geometry(x)
	g := &c.geom
	if x.Dims() == 5 {
		c.output = tensor.Ensure(c.output, n, c.NOut, g.OutT, g.Slice.OutH, g.Slice.OutW)
	} else {
		c.output = tensor.Ensure(c.output, c.NOut, g.OutT, g.Slice.OutH, g.Slice.OutW)
	}
	var bias []float32
	if c.Bias != nil {
		bias = c.Bias.Value.Data
	}
	gc := c.gemm()
	gc.forward(&c.ws, x.Data, c.output.Data, n, c.Weight.Value.Data, bias)
	return c.output
}

func (c *VolumetricConvolution) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	n := c.geometry(x)
	if c.output == nil || gy.Len() != n*c.NOut*c.geom.Span() {
		shapeError(c, "a gradient shaped like the output "+tensor.ShapeString(c.outShape(x, n)), gy.Shape)
	}
	var gx, gw, gb []float32
	if !c.inputGradUnused {
		c.gradIn = tensor.Ensure(c.gradIn, x.Shape...)
		gx = c.gradIn.Data
	}
	if !c.frozen {
		gw = c.Weight.Grad.Data
		if c.Bias != nil {
			gb = c.Bias.Grad.Data
			if c.gradsOverwritten {
				clear(gb)
			}
		}
	}
	if gx != nil || gw != nil {
		gc := c.gemm()
		gc.backward(&c.ws, x.Data, gy.Data, n, c.Weight.Value.Data, gw, c.gradsOverwritten, gb, gx)
	}
	if c.inputGradUnused {
		return nil
	}
	return c.gradIn
}

func (p *VolumetricPooling) Params() []*Param { return nil }
func (p *VolumetricPooling) Reset()           {}
func (p *VolumetricPooling) Config() map[string]any {
	cfg := map[string]any{"k_t": p.KT, "k_w": p.KW, "k_h": p.KH, "d_t": p.DT, "d_w": p.DW, "d_h": p.DH,
		"pad_t": p.PadT, "pad_w": p.PadW, "pad_h": p.PadH}
	if !p.Max {
		cfg["count_include_pad"], cfg["ceil_mode"] = p.CountIncludePad, p.Ceil
	}
	return cfg
}
func (p *VolumetricPooling) String() string {
	s := fmt.Sprintf("%s[%s](%d, %d, %d, %d, %d, %d, %d, %d, %d", p.class, p.name, p.KT, p.KW, p.KH, p.DT, p.DW, p.DH,
		p.PadT, p.PadW, p.PadH)
	if !p.Max {
		s += fmt.Sprintf(", %v, %v", p.CountIncludePad, p.Ceil)
	}
	return s + ")"
}

// volPoolGeom is one call's pooling geometry.
type volPoolGeom struct {
	n, c, t, h, w    int
	outT, outH, outW int
}

func (p *VolumetricPooling) geometry(x *tensor.Tensor) volPoolGeom {
	var g volPoolGeom
	g.n, g.c, g.t, g.h, g.w = volume(p, x, -1)
	if !p.Max && (g.t < p.KT || g.h < p.KH || g.w < p.KW) {
		// As BigDL: the average's window must fit the unpadded input.
		panic(fmt.Errorf("%s: the %d x %d x %d window (time x width x height) is larger than the input %d x %d x %d of input shape %s",
			p.String(), p.KT, p.KW, p.KH, g.t, g.w, g.h, tensor.ShapeString(x.Shape)))
	}
	g.outT, _ = windowOut(g.t, p.KT, p.DT, p.PadT, p.Ceil, true)
	g.outH, _ = windowOut(g.h, p.KH, p.DH, p.PadH, p.Ceil, true)
	g.outW, _ = windowOut(g.w, p.KW, p.DW, p.PadW, p.Ceil, true)
	if g.outT < 1 || g.outH < 1 || g.outW < 1 || g.c < 1 {
		windowTooLarge(p, p.KT, p.KW, p.KH, g.t, g.w, g.h, [3]int{p.PadT, p.PadW, p.PadH}, x)
	}
	return g
}

// span is output o's window along one axis of size values: [lo, hi) inside
// the input, and its extent up to the padded edge (the average's divisor
// with count_include_pad).
func span(o, stride, pad, k, size int) (lo, hi, padded int) {
	lo = o*stride - pad
	hi = min(lo+k, size+pad)
	return max(lo, 0), min(hi, size), hi - lo
}

// window is output (ot, oy, ox)'s box inside the input, and the average's
// divisor.
func (p *VolumetricPooling) window(g *volPoolGeom, ot, oy, ox int) (t0, t1, y0, y1, x0, x1 int, div float32) {
	t0, t1, pt := span(ot, p.DT, p.PadT, p.KT, g.t)
	y0, y1, py := span(oy, p.DH, p.PadH, p.KH, g.h)
	x0, x1, px := span(ox, p.DW, p.PadW, p.KW, g.w)
	if p.CountIncludePad {
		return t0, t1, y0, y1, x0, x1, float32(pt * py * px)
	}
	return t0, t1, y0, y1, x0, x1, float32((t1 - t0) * (y1 - y0) * (x1 - x0))
}

func (p *VolumetricPooling) Forward(x *tensor.Tensor) *tensor.Tensor {
	g := p.geometry(x)
	if x.Dims() == 5 {
		p.output = tensor.Ensure(p.output, g.n, g.c, g.outT, g.outH, g.outW)
	} else {
		p.output = tensor.Ensure(p.output, g.c, g.outT, g.outH, g.outW)
	}
	vol, ovol := g.t*g.h*g.w, g.outT*g.outH*g.outW
	if p.Max {
		if cap(p.argmax) < p.output.Len() {
			p.argmax = make([]int32, p.output.Len())
		}
		p.argmax = p.argmax[:p.output.Len()]
	}
	for pl := 0; pl < g.n*g.c; pl++ {
		in, out := x.Data[pl*vol:(pl+1)*vol], p.output.Data[pl*ovol:(pl+1)*ovol]
		o := 0
		for ot := 0; ot < g.outT; ot++ {
			for oy := 0; oy < g.outH; oy++ {
				for ox := 0; ox < g.outW; ox, o = ox+1, o+1 {
					t0, t1, y0, y1, x0, x1, div := p.window(&g, ot, oy, ox)
					if p.Max {
						best, at := float32(0), -1
						for it := t0; it < t1; it++ {
							for iy := y0; iy < y1; iy++ {
								row := (it*g.h + iy) * g.w
								for ix := x0; ix < x1; ix++ {
									if v := in[row+ix]; at < 0 || v > best || v != v {
										best, at = v, row+ix
									}
								}
							}
						}
						out[o], p.argmax[pl*ovol+o] = best, int32(at)
						continue
					}
					var sum float32
					for it := t0; it < t1; it++ {
						for iy := y0; iy < y1; iy++ {
							row := (it*g.h + iy) * g.w
							for _, v := range in[row+x0 : row+x1] {
								sum += v
							}
						}
					}
					out[o] = sum / div
				}
			}
		}
	}
	return p.output
}

func (p *VolumetricPooling) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	g := p.geometry(x)
	vol, ovol := g.t*g.h*g.w, g.outT*g.outH*g.outW
	if p.output == nil || gy.Len() != g.n*g.c*ovol || p.Max && len(p.argmax) != gy.Len() {
		shapeError(p, fmt.Sprintf("a gradient shaped like the output (%d values)", g.n*g.c*ovol), gy.Shape)
	}
	p.gradIn = tensor.Ensure(p.gradIn, x.Shape...)
	clear(p.gradIn.Data)
	for pl := 0; pl < g.n*g.c; pl++ {
		gin, gout := p.gradIn.Data[pl*vol:(pl+1)*vol], gy.Data[pl*ovol:(pl+1)*ovol]
		if p.Max {
			for o, at := range p.argmax[pl*ovol : (pl+1)*ovol] {
				gin[at] += gout[o]
			}
			continue
		}
		o := 0
		for ot := 0; ot < g.outT; ot++ {
			for oy := 0; oy < g.outH; oy++ {
				for ox := 0; ox < g.outW; ox, o = ox+1, o+1 {
					t0, t1, y0, y1, x0, x1, div := p.window(&g, ot, oy, ox)
					v := gout[o] / div
					for it := t0; it < t1; it++ {
						for iy := y0; iy < y1; iy++ {
							row := gin[(it*g.h+iy)*g.w+x0 : (it*g.h+iy)*g.w+x1]
							for i := range row {
								row[i] += v
							}
						}
					}
				}
			}
		}
	}
	return p.gradIn
}
