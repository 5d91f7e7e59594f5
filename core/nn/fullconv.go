package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// SpatialFullConvolution is BigDL's transposed convolution ("deconvolution")
// over (C, H, W) or (batch, C, H, W) input: the adjoint of a convolution
// with the same kernel, stride and padding, so the output is
// (in − 1)·stride − 2·pad + kernel + adj per axis. Arguments come width
// before height, as in BigDL. The weight is BigDL's (groups, in/groups,
// out/groups, kh, kw), PyTorch's conv_transpose2d layout; the bias is (out,).
//
// Per chunk of the batch and per group, one matrix product Wᵀ·x gives every
// kernel tap's contribution to the output (the im2col layout of the output
// image), and col2im adds them into place; backward reads the output
// gradient with im2col. The workspaces are the layer's and reused.
//
// As in BigDL, the input may also be a table [x, target]: then the last two
// dimensions of target set the output size, through the adj that reaches it
// (adj = (target + 2·pad − kernel) mod stride), and the gradient with
// respect to target is zero.
type SpatialFullConvolution struct {
	Base
	NIn, NOut, KW, KH, DW, DH, PadW, PadH, AdjW, AdjH int
	Groups                                            int
	config                                            map[string]any
	Weight                                            *Param
	Bias                                              *Param // nil with no_bias
	params                                            []*Param
	inits                                             initMethods

	output, gradIn *tensor.Tensor
	gradTable      *tensor.Tensor // [gradIn, zeros like target] for a table input
	ws             fullConvWorkspace
}

type fullConvWorkspace struct {
	col    []float32 // Wᵀ·x of a chunk, or im2col of its output gradient
	x, gx  []float32 // a chunk's input and input gradient by channel, (NIn, m·span)
	onesHW []float32 // for the bias gradient's sums over an output plane
}

func init() {
	Register("SpatialFullConvolution", func(a *Args) (Module, error) {
		const class = "SpatialFullConvolution"
		c := &SpatialFullConvolution{Base: newBase(class),
			NIn: a.PositiveInt("n_input_plane"), NOut: a.PositiveInt("n_output_plane"),
			KW: a.PositiveInt("kw"), KH: a.PositiveInt("kh"), DW: a.Int("dw", 1), DH: a.Int("dh", 1),
			PadW: a.Int("pad_w", 0), PadH: a.Int("pad_h", 0), AdjW: a.Int("adj_w", 0), AdjH: a.Int("adj_h", 0),
			Groups: a.Int("n_group", 1)}
		noBias := a.Bool("no_bias", false)
		if err := a.Err(); err != nil {
			return nil, err
		}
		if c.DW < 1 || c.DH < 1 {
			return nil, fmt.Errorf("%s: strides must be positive, got dw %d and dh %d", class, c.DW, c.DH)
		}
		if c.PadW < 0 || c.PadH < 0 {
			return nil, fmt.Errorf("%s: pad_w and pad_h must be ≥ 0, got %d and %d", class, c.PadW, c.PadH)
		}
		// As BigDL: a larger adj would add output rows no input pixel reaches.
		if c.AdjW < 0 || c.AdjH < 0 || c.AdjW > c.DW-1 || c.AdjH > c.DH-1 {
			return nil, fmt.Errorf("%s: adj_w %d and adj_h %d must lie in [0, dw − 1 = %d] and [0, dh − 1 = %d]",
				class, c.AdjW, c.AdjH, c.DW-1, c.DH-1)
		}
		if c.Groups < 1 || c.NIn%c.Groups != 0 || c.NOut%c.Groups != 0 {
			return nil, fmt.Errorf("%s: n_group %d must divide n_input_plane %d and n_output_plane %d",
				class, c.Groups, c.NIn, c.NOut)
		}
		c.config = map[string]any{"n_input_plane": c.NIn, "n_output_plane": c.NOut, "kw": c.KW, "kh": c.KH,
			"dw": c.DW, "dh": c.DH, "pad_w": c.PadW, "pad_h": c.PadH, "adj_w": c.AdjW, "adj_h": c.AdjH,
			"n_group": c.Groups, "no_bias": noBias}
		c.Weight = newParam("weight", c.Groups, c.NIn/c.Groups, c.NOut/c.Groups, c.KH, c.KW)
		c.params = []*Param{c.Weight}
		if !noBias {
			c.Bias = newParam("bias", c.NOut)
			c.params = append(c.params, c.Bias)
		}
		// BigDL's default: U(-1/√fan_in, 1/√fan_in) with fan_in = in·kh·kw.
		stdv := 1 / math.Sqrt(float64(c.KW*c.KH*c.NIn))
		u := uniformInit{class: "RandomUniform", lower: -stdv, upper: stdv, fixed: true}
		c.inits = initMethods{u, u}
		c.Reset()
		return c, nil
	})
}

func (c *SpatialFullConvolution) Reset() { c.inits.draw(c, c.Weight, c.Bias) }

// Fans are BigDL's GP_IN_OUT_KW_KH.
func (c *SpatialFullConvolution) Fans(p *Param) (int, int) {
	if p != c.Weight {
		return FansOneD(p.Value.Shape)
	}
	return FansGroupInOutKwKh(p.Value.Shape)
}

func (c *SpatialFullConvolution) SetInitMethods(w, b InitMethod) error {
	if err := c.inits.set(c, c.Weight, c.Bias, w, b); err != nil {
		return err
	}
	c.Reset()
	return nil
}

func (c *SpatialFullConvolution) Params() []*Param       { return c.params }
func (c *SpatialFullConvolution) Config() map[string]any { return c.config }
func (c *SpatialFullConvolution) overwritesGrads()       {}
func (c *SpatialFullConvolution) takesTables()           {}
func (c *SpatialFullConvolution) String() string {
	return fmt.Sprintf("%s[%s](%d -> %d, %d x %d, %d, %d, %d, %d, %d, %d)", c.class, c.name, c.NIn, c.NOut,
		c.KW, c.KH, c.DW, c.DH, c.PadW, c.PadH, c.AdjW, c.AdjH)
}

// split returns the input image of an activity, a tensor or a table
// [x, target], and the output adjustments that apply to it.
func (c *SpatialFullConvolution) split(a *tensor.Tensor) (x *tensor.Tensor, adjW, adjH int) {
	if !a.IsTable() {
		return a, c.AdjW, c.AdjH
	}
	if len(a.Table) != 2 || a.Table[0].IsTable() || a.Table[1].IsTable() || a.Table[1].Dims() < 2 {
		panic(fmt.Errorf("%s: expected a tensor or a table [input, target] of two tensors, target of 2 or more dimensions, got %s",
			c.String(), a.Describe()))
	}
	x, t := a.Table[0], a.Table[1].Shape
	th, tw := t[len(t)-2], t[len(t)-1]
	if th+2*c.PadH < c.KH || tw+2*c.PadW < c.KW {
		panic(fmt.Errorf("%s: target size %d x %d (width x height) of %s is smaller than kernel − 2·pad, %d x %d",
			c.String(), tw, th, a.Describe(), c.KW-2*c.PadW, c.KH-2*c.PadH))
	}
	return x, (tw + 2*c.PadW - c.KW) % c.DW, (th + 2*c.PadH - c.KH) % c.DH
}

// geometry checks x and returns the batch size and the geometry of the convolution this layer is the adjoint of: its image is
// this layer's output, its output this layer's input.
func (c *SpatialFullConvolution) geometry(x *tensor.Tensor, adjW, adjH int) (n int, g kernels.ConvGeom) {
	n, s := 1, x.Shape
	if x.Dims() == 4 {
		n, s = s[0], s[1:]
	}
	if x.Dims() != 3 && x.Dims() != 4 || s[0] != c.NIn {
		shapeError(c, fmt.Sprintf("(%d, H, W) or (batch, %d, H, W)", c.NIn, c.NIn), x.Shape)
	}
	h, w := s[1], s[2]
	oh, ow := (h-1)*c.DH-2*c.PadH+c.KH+adjH, (w-1)*c.DW-2*c.PadW+c.KW+adjW
	if h < 1 || w < 1 || oh < 1 || ow < 1 {
		panic(fmt.Errorf("%s: input shape %s gives an output of %d x %d (width x height): "+
			"(in − 1)·stride − 2·pad + kernel + adj must be ≥ 1 on both axes",
			c.String(), tensor.ShapeString(x.Shape), ow, oh))
	}
	g = kernels.ConvGeom{C: c.NOut, H: oh, W: ow, KH: c.KH, KW: c.KW, DH: c.DH, DW: c.DW,
		PadT: c.PadH, PadL: c.PadW, DilH: 1, DilW: 1, OutH: h, OutW: w}
	return n, g
}

func (c *SpatialFullConvolution) outShape(x *tensor.Tensor, g *kernels.ConvGeom) []int {
	if x.Dims() == 4 {
		return []int{x.Shape[0], c.NOut, g.H, g.W}
	}
	return []int{c.NOut, g.H, g.W}
}

// chunk is how many images share one product, sizing the workspaces for
// them; it also returns the columns each image takes in a product (H·W, or
// H·OutW for a Wide window, see kernels.Im2colWide), the rows of a group's
// col block and the input channels per group.
func (c *SpatialFullConvolution) chunk(n int, g *kernels.ConvGeom) (cs, span, kg, inG int) {
	outG := c.NOut / c.Groups
	inG = c.NIn / c.Groups
	span = g.OutH * g.OutW
	if g.Wide() {
		span = g.OutH * g.W
	}
	k := c.NOut * c.KH * c.KW
	cs = max(1, min(n, colBudget/max(1, k*span)))
	c.ws.col = grow(c.ws.col, k*cs*span)
	c.ws.x = grow(c.ws.x, c.NIn*cs*span)
	return cs, span, outG * c.KH * c.KW, inG
}

// byChannel copies images s0… s0+m−1 of x (n, ch, h, w) to dst (ch, m·span),
// the layout of a product's operand, each row of w values in rw = span/h
// (for a Wide window: its junk columns zero, so they add nothing to the
// products); byImage is its inverse, dropping the junk.
func byChannel(dst, x []float32, s0, m, ch, h, w, span int) {
	rw := span / h
	for s := 0; s < m; s++ {
		for k := 0; k < ch; k++ {
			d, src := dst[(k*m+s)*span:(k*m+s+1)*span], x[((s0+s)*ch+k)*h*w:((s0+s)*ch+k+1)*h*w]
			if rw == w {
				copy(d, src)
				continue
			}
			for y := 0; y < h; y++ {
				copy(d[y*rw:y*rw+w], src[y*w:(y+1)*w])
				clear(d[y*rw+w : (y+1)*rw])
			}
		}
	}
}

func byImage(x, src []float32, s0, m, ch, h, w, span int) {
	rw := span / h
	for s := 0; s < m; s++ {
		for k := 0; k < ch; k++ {
			d, r := x[((s0+s)*ch+k)*h*w:((s0+s)*ch+k+1)*h*w], src[(k*m+s)*span:(k*m+s+1)*span]
			for y := 0; y < h; y++ {
				copy(d[y*w:(y+1)*w], r[y*rw:y*rw+w])
			}
		}
	}
}

func (c *SpatialFullConvolution) Forward(a *tensor.Tensor) *tensor.Tensor {
	x, adjW, adjH := c.split(a)
	n, g := c.geometry(x, adjW, adjH)
	c.output = tensor.Ensure(c.output, c.outShape(x, &g)...)
	y, w := c.output.Data, c.Weight.Value.Data
	clear(y) // col2im adds
	cs, span, kg, inG := c.chunk(n, &g)
	ws := &c.ws
	img := c.NOut * g.H * g.W
	for s0 := 0; s0 < n; s0 += cs {
		m := min(cs, n-s0)
		p := m * span
		byChannel(ws.x, x.Data, s0, m, c.NIn, g.OutH, g.OutW, span)
		for gr := 0; gr < c.Groups; gr++ {
			kernels.Sgemm(true, false, kg, p, inG, 1, w[gr*inG*kg:], kg, ws.x[gr*inG*p:], p, 0, ws.col[gr*kg*p:], p)
		}
		(*planeWindow)(&g).fold(y[s0*img:(s0+m)*img], ws.col, m)
	}
	if c.Bias != nil {
		ohw := g.H * g.W
		for s := 0; s < n; s++ {
			for o, b := range c.Bias.Value.Data {
				plane := y[(s*c.NOut+o)*ohw : (s*c.NOut+o+1)*ohw]
				for i := range plane {
					plane[i] += b
				}
			}
		}
	}
	return c.output
}

func (c *SpatialFullConvolution) Backward(a, gy *tensor.Tensor) *tensor.Tensor {
	x, adjW, adjH := c.split(a)
	n, g := c.geometry(x, adjW, adjH)
	ohw := g.H * g.W
	if gy.Len() != n*c.NOut*ohw || gy.Dims() != x.Dims() {
		shapeError(c, "a gradient shaped like the output "+tensor.ShapeString(c.outShape(x, &g)), gy.Shape)
	}
	needGx, train := !c.inputGradUnused, !c.frozen
	if needGx {
		c.gradIn = tensor.Ensure(c.gradIn, x.Shape...)
	}
	if !needGx && !train {
		return nil
	}
	ws := &c.ws
	if train && c.Bias != nil {
		gb := c.Bias.Grad.Data
		if c.gradsOverwritten {
			clear(gb)
		}
		ws.onesHW = grow(ws.onesHW, ohw)
		for i := range ws.onesHW {
			ws.onesHW[i] = 1
		}
		for s := 0; s < n; s++ {
			for o := range gb {
				gb[o] += kernels.Dot(gy.Data[(s*c.NOut+o)*ohw:(s*c.NOut+o+1)*ohw], ws.onesHW)
			}
		}
	}
	cs, span, kg, inG := c.chunk(n, &g)
	if needGx {
		ws.gx = grow(ws.gx, c.NIn*cs*span)
	}
	w, gw := c.Weight.Value.Data, c.Weight.Grad.Data
	img := c.NOut * ohw
	for s0 := 0; s0 < n; s0 += cs {
		m := min(cs, n-s0)
		p := m * span
		(*planeWindow)(&g).unfold(ws.col, gy.Data[s0*img:(s0+m)*img], m)
		if train {
			byChannel(ws.x, x.Data, s0, m, c.NIn, g.OutH, g.OutW, span)
			beta := float32(1)
			if c.gradsOverwritten && s0 == 0 {
				beta = 0
			}
			for gr := 0; gr < c.Groups; gr++ {
				kernels.Sgemm(false, true, inG, kg, p, 1, ws.x[gr*inG*p:], p, ws.col[gr*kg*p:], p, beta, gw[gr*inG*kg:], kg)
			}
		}
		if needGx {
			for gr := 0; gr < c.Groups; gr++ {
				kernels.Sgemm(false, false, inG, p, kg, 1, w[gr*inG*kg:], kg, ws.col[gr*kg*p:], p, 0, ws.gx[gr*inG*p:], p)
			}
			byImage(c.gradIn.Data, ws.gx, s0, m, c.NIn, g.OutH, g.OutW, span)
		}
	}
	if c.inputGradUnused {
		return nil
	}
	if !a.IsTable() {
		return c.gradIn
	}
	c.gradTable = tensor.EnsureTable(c.gradTable, 2)
	zero := tensor.Ensure(c.gradTable.Table[1], a.Table[1].Shape...)
	clear(zero.Data)
	c.gradTable.Table[0], c.gradTable.Table[1] = c.gradIn, zero
	return c.gradTable
}
