package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/mem"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// SpatialConvolution is BigDL's 2-D convolution over (C, H, W) or
// (batch, C, H, W) input (NHWC: (H, W, C) or (batch, H, W, C)). Arguments
// come width before height, as in BigDL. The weight is BigDL's
// (groups, out/groups, in/groups, kh, kw), or (1, kh, kw, in, out) in NHWC;
// the bias is (out,). Padding -1 on both axes is TensorFlow's SAME.
//
// Each chunk of the batch is unfolded (im2col) into a workspace the layer
// keeps, so one matrix product per group covers the whole chunk.
type SpatialConvolution struct {
	Base
	NIn, NOut, KW, KH, DW, DH, PadW, PadH int
	Groups                                int
	PropagateBack                         bool
	NHWC                                  bool
	DilW, DilH                            int    // 1 but for SpatialDilatedConvolution
	desc                                  string // String's arguments
	config                                map[string]any
	Weight                                *Param
	Bias                                  *Param // nil without bias
	params                                []*Param
	inits                                 initMethods

	output, gradIn *tensor.Tensor
	geom           kernels.ConvGeom // the last call's window
	ws             convWorkspace
}

// convWorkspace holds the buffers of a convolution, reused call after call
// so that a training step allocates nothing.
type convWorkspace struct {
	col    []float32 // im2col of a chunk, then its gradient
	ybuf   []float32 // a chunk's output (or output gradient) by channel
	ones   []float32 // for the bias gradient's sums
	starts []int     // where each row of the unfolding starts in an image (see planeWindow.runs)
	// NHWC only: the input, output, gradients and weights in NCHW.
	x, y, gy, gx, w, gw []float32
}

// colBudget is how many values a chunk's im2col may hold: the unfolded
// chunk and its product stay in a core's L2 cache.
const colBudget = 1 << 18

func init() {
	Register("SpatialConvolution", func(a *Args) (Module, error) {
		c, err := newConv(a, "SpatialConvolution", convNames, a.Int("n_group", 1), a.String("data_format", "NCHW"), 1, 1)
		if err != nil {
			return nil, err
		}
		c.desc = fmt.Sprintf("(%d -> %d, %d x %d, %d, %d, %d, %d)", c.NIn, c.NOut, c.KW, c.KH, c.DW, c.DH, c.PadW, c.PadH)
		return c, nil
	})
	// BigDL's dilated convolution: no groups or SAME padding, and its weight
	// is 4-D (out, in, kh, kw), the same values as a one-group 5-D weight.
	Register("SpatialDilatedConvolution", func(a *Args) (Module, error) {
		dilW, dilH := a.Int("dilation_w", 1), a.Int("dilation_h", 1)
		if a.Err() == nil && (dilW < 1 || dilH < 1) {
			return nil, fmt.Errorf("SpatialDilatedConvolution: dilations must be positive, got dilation_w %d and dilation_h %d", dilW, dilH)
		}
		if a.Int("pad_w", 0) < 0 || a.Int("pad_h", 0) < 0 {
			return nil, fmt.Errorf("SpatialDilatedConvolution: pad_w and pad_h must be ≥ 0, got %d and %d", a.Int("pad_w", 0), a.Int("pad_h", 0))
		}
		c, err := newConv(a, "SpatialDilatedConvolution", dilatedNames, 1, "NCHW", dilW, dilH)
		if err != nil {
			return nil, err
		}
		c.Weight.Value.Shape, c.Weight.Grad.Shape = []int{c.NOut, c.NIn, c.KH, c.KW}, []int{c.NOut, c.NIn, c.KH, c.KW}
		for _, k := range []string{"n_group", "propagate_back", "data_format"} {
			delete(c.config, k)
		}
		c.config["dilation_w"], c.config["dilation_h"] = dilW, dilH
		c.desc = fmt.Sprintf("(%d -> %d, %d x %d, %d, %d, %d, %d, %d, %d)", c.NIn, c.NOut, c.KW, c.KH, c.DW, c.DH,
			c.PadW, c.PadH, dilH, dilW)
		return c, nil
	})
}

// convArgNames are the names a convolution's Python signature gives its
// kernel size and strides (BigDL's classes differ).
type convArgNames struct{ kw, kh, dw, dh string }

var (
	convNames    = convArgNames{"kernel_w", "kernel_h", "stride_w", "stride_h"}
	dilatedNames = convArgNames{"kw", "kh", "dw", "dh"}
)

// newConv reads the arguments every convolution shares and builds the layer.
func newConv(a *Args, class string, names convArgNames, groups int, format string, dilW, dilH int) (*SpatialConvolution, error) {
	c := &SpatialConvolution{Base: newBase(class),
		NIn: a.PositiveInt("n_input_plane"), NOut: a.PositiveInt("n_output_plane"),
		KW: a.PositiveInt(names.kw), KH: a.PositiveInt(names.kh),
		DW: a.Int(names.dw, 1), DH: a.Int(names.dh, 1), PadW: a.Int("pad_w", 0), PadH: a.Int("pad_h", 0),
		Groups: groups, PropagateBack: a.Bool("propagate_back", true), DilW: dilW, DilH: dilH}
	withBias := a.Bool("with_bias", true)
	if err := a.Err(); err != nil {
		return nil, err
	}
	var err error
	if c.NHWC, err = channelsLast(class, "data_format", format); err != nil {
		return nil, err
	}
	if err := checkWindow(class, names.dw, names.dh, c.DW, c.DH, c.PadW, c.PadH); err != nil {
		return nil, err
	}
	if groups < 1 || c.NIn%groups != 0 || c.NOut%groups != 0 {
		return nil, fmt.Errorf("%s: n_group %d must divide n_input_plane %d and n_output_plane %d",
			class, groups, c.NIn, c.NOut)
	}
	if groups != 1 && c.NHWC {
		return nil, fmt.Errorf("%s: n_group %d: grouped convolution needs data_format \"NCHW\" (as in BigDL)", class, groups)
	}
	c.config = map[string]any{"n_input_plane": c.NIn, "n_output_plane": c.NOut, names.kw: c.KW, names.kh: c.KH,
		names.dw: c.DW, names.dh: c.DH, "pad_w": c.PadW, "pad_h": c.PadH, "n_group": groups,
		"propagate_back": c.PropagateBack, "with_bias": withBias, "data_format": format}
	if c.NHWC {
		c.Weight = newParam("weight", 1, c.KH, c.KW, c.NIn, c.NOut)
	} else {
		c.Weight = newParam("weight", groups, c.NOut/groups, c.NIn/groups, c.KH, c.KW)
	}
	c.params = []*Param{c.Weight}
	if withBias {
		c.Bias = newParam("bias", c.NOut)
		c.params = append(c.params, c.Bias)
	}
	// BigDL's default: U(-1/√fan_in, 1/√fan_in) with fan_in = in·kh·kw,
	// not divided by the groups.
	stdv := 1 / math.Sqrt(float64(c.KW*c.KH*c.NIn))
	u := uniformInit{class: "RandomUniform", lower: -stdv, upper: stdv, fixed: true}
	c.inits = initMethods{u, u}
	c.Reset()
	return c, nil
}

// channelsLast reads the image layout argument arg: "NCHW" (false) or
// "NHWC" (true).
func channelsLast(class, arg, format string) (bool, error) {
	switch format {
	case "NCHW":
		return false, nil
	case "NHWC":
		return true, nil
	}
	return false, fmt.Errorf("%s: argument %s must be \"NCHW\" or \"NHWC\", got %q", class, arg, format)
}

// checkImages refuses any x but a batch of images in the layout nhwc
// selects.
func checkImages(m Module, x *tensor.Tensor, nhwc bool) {
	if x.Dims() == 4 {
		return
	}
	if nhwc {
		shapeError(m, "(batch, H, W, C)", x.Shape)
	}
	shapeError(m, "(batch, C, H, W)", x.Shape)
}

// checkWindow refuses strides below 1 and paddings that are neither ≥ 0
// nor SAME (-1 on both axes).
func checkWindow(class, nameW, nameH string, dw, dh, padW, padH int) error {
	if dw < 1 || dh < 1 {
		return fmt.Errorf("%s: strides must be positive, got %s %d and %s %d", class, nameW, dw, nameH, dh)
	}
	if !(padW >= 0 && padH >= 0 || padW == -1 && padH == -1) {
		return fmt.Errorf("%s: pad_w and pad_h must be ≥ 0, or both -1 (SAME), got %d and %d", class, padW, padH)
	}
	return nil
}

func (c *SpatialConvolution) Reset() { c.inits.draw(c, c.Weight, c.Bias) }

// Fans are BigDL's: GP_OUT_IN_KW_KH in NCHW (in·kh·kw, out·kh·kw over all
// groups). For NHWC's (1, kh, kw, in, out) BigDL's formula multiplies kw in
// where it means in; the intended fans are used here.
func (c *SpatialConvolution) Fans(p *Param) (int, int) {
	if p != c.Weight {
		return FansOneD(p.Value.Shape)
	}
	if c.NHWC {
		r := c.KH * c.KW
		return c.NIn * r, c.NOut * r
	}
	if len(p.Value.Shape) == 4 { // SpatialDilatedConvolution's OUT_IN_KW_KH
		return FansOutInKwKh(p.Value.Shape)
	}
	return FansGroupOutInKwKh(p.Value.Shape)
}

func (c *SpatialConvolution) SetInitMethods(w, b InitMethod) error {
	if err := c.inits.set(c, c.Weight, c.Bias, w, b); err != nil {
		return err
	}
	c.Reset()
	return nil
}

func (c *SpatialConvolution) Params() []*Param       { return c.params }
func (c *SpatialConvolution) Config() map[string]any { return c.config }
func (c *SpatialConvolution) String() string         { return fmt.Sprintf("%s[%s]%s", c.class, c.name, c.desc) }
func (c *SpatialConvolution) overwritesGrads()       {}

// windowOut is the output size and leading padding of a window of k (after
// dilation) sliding by stride over size values with pad (-1: SAME); pool
// selects pooling's rule for the last window.
func windowOut(size, k, stride, pad int, ceil, pool bool) (out, lead int) {
	if pad == -1 {
		out = (size + stride - 1) / stride
		return out, max(0, (out-1)*stride+k-size) / 2
	}
	span := size + 2*pad - k
	if span < 0 {
		return 0, pad
	}
	out = span/stride + 1
	if ceil && span%stride != 0 {
		out++
	}
	// As Torch's and BigDL's pooling: the last window must start inside the
	// image or its leading padding, not in the trailing padding alone. (A
	// convolution keeps the spec's floor((in + 2·pad − k)/stride) + 1, as
	// PyTorch does.)
	if pool && pad > 0 && (out-1)*stride >= size+pad {
		out--
	}
	return out, pad
}

// geometry checks x and returns the batch size and the window geometry.
func (c *SpatialConvolution) geometry(x *tensor.Tensor) (n int, g kernels.ConvGeom) {
	ch, hd, wd := 0, 1, 2
	if c.NHWC {
		ch, hd, wd = 2, 0, 1
	}
	n = 1
	s := x.Shape
	if x.Dims() == 4 {
		n, s = s[0], s[1:]
	}
	if x.Dims() != 3 && x.Dims() != 4 || s[ch] != c.NIn {
		want := fmt.Sprintf("(%d, H, W) or (batch, %d, H, W)", c.NIn, c.NIn)
		if c.NHWC {
			want = fmt.Sprintf("(H, W, %d) or (batch, H, W, %d)", c.NIn, c.NIn)
		}
		shapeError(c, want, x.Shape)
	}
	g = kernels.ConvGeom{C: c.NIn, H: s[hd], W: s[wd], KH: c.KH, KW: c.KW, DH: c.DH, DW: c.DW,
		DilH: c.DilH, DilW: c.DilW}
	kh, kw := c.DilH*(c.KH-1)+1, c.DilW*(c.KW-1)+1
	g.OutH, g.PadT = windowOut(g.H, kh, c.DH, c.PadH, false, false)
	g.OutW, g.PadL = windowOut(g.W, kw, c.DW, c.PadW, false, false)
	if g.OutH < 1 || g.OutW < 1 {
		panic(fmt.Errorf("%s: the %d x %d kernel (width x height) is larger than the padded input %d x %d of input shape %s",
			c.String(), kw, kh, g.W+2*max(c.PadW, 0), g.H+2*max(c.PadH, 0), tensor.ShapeString(x.Shape)))
	}
	return n, g
}

func (c *SpatialConvolution) outShape(x *tensor.Tensor, n int, g *kernels.ConvGeom) []int {
	var s []int
	if c.NHWC {
		s = []int{g.OutH, g.OutW, c.NOut}
	} else {
		s = []int{c.NOut, g.OutH, g.OutW}
	}
	if x.Dims() == 4 {
		s = append([]int{n}, s...)
	}
	return s
}

func (c *SpatialConvolution) Forward(x *tensor.Tensor) *tensor.Tensor {
	n, g := c.geometry(x)
	c.geom = g
	gc := c.gemm()
	c.output = ensureConvOut(c.output, x.Dims() == 4, n, c.NHWC, c.NOut, g.OutH, g.OutW)
	var bias []float32
	if c.Bias != nil {
		bias = c.Bias.Value.Data
	}
	if !c.NHWC {
		gc.forward(&c.ws, x.Data, c.output.Data, n, c.Weight.Value.Data, bias)
		return c.output
	}
	ws := &c.ws
	ws.x = grow(ws.x, x.Len())
	ws.y = grow(ws.y, c.output.Len())
	ws.w = grow(ws.w, c.Weight.Value.Len())
	hwcToChw(ws.x, x.Data, n, g.H*g.W, c.NIn)
	c.nhwcWeight(ws.w, c.Weight.Value.Data)
	gc.forward(ws, ws.x, ws.y, n, ws.w, bias)
	chwToHwc(c.output.Data, ws.y, n, g.OutH*g.OutW, c.NOut)
	return c.output
}

// ensureConvOut shapes an output buffer without allocating in steady state.
func ensureConvOut(t *tensor.Tensor, batched bool, n int, nhwc bool, ch, h, w int) *tensor.Tensor {
	a, b, d := ch, h, w
	if nhwc {
		a, b, d = h, w, ch
	}
	if batched {
		return tensor.Ensure(t, n, a, b, d)
	}
	return tensor.Ensure(t, a, b, d)
}

// gemm is the convolution as matrix products over the window c.geom.
func (c *SpatialConvolution) gemm() gemmConv {
	g := &c.geom
	span := g.OutH * g.OutW
	if g.Wide() {
		span = g.OutH * g.W
	}
	return gemmConv{nOut: c.NOut, groups: c.Groups, img: g.C * g.H * g.W, k: g.C * g.KH * g.KW, span: span,
		rows: g.OutH, rowW: span / g.OutH, outW: g.OutW, window: (*planeWindow)(g)}
}

// planeWindow unfolds images by im2col (its Wide form where it applies).
type planeWindow kernels.ConvGeom

func (w *planeWindow) unfold(col, x []float32, n int) {
	g := (*kernels.ConvGeom)(w)
	if g.Wide() {
		kernels.Im2colWide(col, x, n, g)
	} else {
		kernels.Im2col(col, x, n, g)
	}
}

func (w *planeWindow) fold(x, col []float32, n int) {
	g := (*kernels.ConvGeom)(w)
	if g.Wide() {
		kernels.Col2imWide(x, col, n, g)
	} else {
		kernels.Col2im(x, col, n, g)
	}
}

// runs returns, for a Wide window, where each row of an image's unfolding
// starts in the image (written over starts), and how many values of those
// runs the valid output columns read: Im2colWide's runs without each one's
// last KW − 1 junk values, so they never leave the plane. It returns nil
// for any other window.
func (w *planeWindow) runs(starts []int) ([]int, int) {
	g := (*kernels.ConvGeom)(w)
	if !g.Wide() {
		return nil, 0
	}
	starts = starts[:0]
	for c := 0; c < g.C; c++ {
		for i := 0; i < g.KH; i++ {
			for j := 0; j < g.KW; j++ {
				starts = append(starts, c*g.H*g.W+i*g.W+j)
			}
		}
	}
	return starts, g.OutH*g.W - (g.KW - 1)
}

// runWindow is an unfolding whose rows may be runs of each input (see
// planeWindow.runs): the weight gradient then reads them in place.
type runWindow interface {
	runs(starts []int) ([]int, int)
}

// unfolding is a convolution's window as its matrix products see it.
type unfolding interface {
	// unfold writes the patches of n inputs x into the columns of col.
	unfold(col, x []float32, n int)
	// fold is unfold's adjoint: it adds col's values into x.
	fold(x, col []float32, n int)
}

// gemmConv is a convolution (2-D or 3-D) as matrix products: each chunk of
// the batch is unfolded into a workspace the layer keeps, then one product
// per group covers the whole chunk.
type gemmConv struct {
	nOut, groups int
	img          int // input values per image (all channels)
	k            int // rows of the unfolding: input channels × kernel size
	span         int // columns of the unfolding per image
	rows, rowW   int // output rows per channel and image, and the columns each takes in the unfolding
	outW         int // output values per row: rowW but for a Wide window, whose rows end in junk
	window       unfolding
}

// sizes are a group's rows of the unfolding and output channels, and how
// many images share one unfolding and one product; it sizes ws for them.
func (gc *gemmConv) sizes(ws *convWorkspace, n int) (kg, outG, cs int) {
	cs = max(1, min(n, colBudget/max(1, gc.k*gc.span)))
	ws.col = grow(ws.col, gc.k*cs*gc.span)
	ws.ybuf = grow(ws.ybuf, gc.nOut*cs*gc.span)
	return gc.k / gc.groups, gc.nOut / gc.groups, cs
}

// forward computes y (n, nOut, output values) from x (n, input values) and
// the (groups, out/groups, k/groups) weight w.
func (gc *gemmConv) forward(ws *convWorkspace, x, y []float32, n int, w, bias []float32) {
	kg, outG, cs := gc.sizes(ws, n)
	ohw := gc.rows * gc.outW
	for s0 := 0; s0 < n; s0 += cs {
		m := min(cs, n-s0)
		p := m * gc.span
		gc.window.unfold(ws.col, x[s0*gc.img:(s0+m)*gc.img], m)
		for gr := 0; gr < gc.groups; gr++ {
			kernels.Sgemm(false, false, outG, p, kg, 1, w[gr*outG*kg:], kg, ws.col[gr*kg*p:], p, 0, ws.ybuf[gr*outG*p:], p)
		}
		for s := 0; s < m; s++ {
			for o := 0; o < gc.nOut; o++ {
				var b float32
				if bias != nil {
					b = bias[o]
				}
				kernels.ShiftRows(y[((s0+s)*gc.nOut+o)*ohw:((s0+s)*gc.nOut+o+1)*ohw],
					ws.ybuf[o*p+s*gc.span:o*p+(s+1)*gc.span], gc.rows, gc.rowW, b)
			}
		}
	}
}

func (c *SpatialConvolution) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	n, g := c.geometry(x)
	if gy.Len() != c.output.Len() || gy.Len() != n*c.NOut*g.OutH*g.OutW {
		shapeError(c, "a gradient shaped like the output "+tensor.ShapeString(c.outShape(x, n, &g)), gy.Shape)
	}
	needGx := !c.inputGradUnused
	if needGx {
		c.gradIn = tensor.Ensure(c.gradIn, x.Shape...)
		if !c.PropagateBack {
			clear(c.gradIn.Data) // BigDL computes no input gradient: it is zero
			needGx = false
		}
	}
	train := !c.frozen
	if !needGx && !train {
		return c.gradResult()
	}
	c.geom = g
	gc := c.gemm()
	var gw, gb []float32
	if train {
		gw = c.Weight.Grad.Data
		if c.Bias != nil {
			gb = c.Bias.Grad.Data
			if c.gradsOverwritten {
				clear(gb)
			}
		}
	}
	if !c.NHWC {
		var gx []float32
		if needGx {
			gx = c.gradIn.Data
		}
		gc.backward(&c.ws, x.Data, gy.Data, n, c.Weight.Value.Data, gw, c.gradsOverwritten, gb, gx)
		return c.gradResult()
	}
	ws := &c.ws
	ws.x = grow(ws.x, x.Len())
	ws.gy = grow(ws.gy, gy.Len())
	ws.w = grow(ws.w, c.Weight.Value.Len())
	hwcToChw(ws.x, x.Data, n, g.H*g.W, c.NIn)
	hwcToChw(ws.gy, gy.Data, n, g.OutH*g.OutW, c.NOut)
	c.nhwcWeight(ws.w, c.Weight.Value.Data)
	var gx, gwm []float32
	if needGx {
		ws.gx = grow(ws.gx, x.Len())
		gx = ws.gx
	}
	if train {
		ws.gw = grow(ws.gw, c.Weight.Value.Len())
		gwm = ws.gw
	}
	gc.backward(ws, ws.x, ws.gy, n, ws.w, gwm, true, gb, gx)
	if needGx {
		chwToHwc(c.gradIn.Data, gx, n, g.H*g.W, c.NIn)
	}
	if train {
		// (out, in, kh, kw) back to (kh, kw, in, out), added or written.
		r := c.KH * c.KW
		for o := 0; o < c.NOut; o++ {
			for ci := 0; ci < c.NIn; ci++ {
				for k := 0; k < r; k++ {
					i := (k*c.NIn+ci)*c.NOut + o
					v := gwm[(o*c.NIn+ci)*r+k]
					if c.gradsOverwritten {
						gw[i] = v
					} else {
						gw[i] += v
					}
				}
			}
		}
	}
	return c.gradResult()
}

func (c *SpatialConvolution) gradResult() *tensor.Tensor {
	if c.inputGradUnused {
		return nil
	}
	return c.gradIn
}

// backward accumulates (or with overwrite, writes) the weight gradient into
// gw and adds the bias gradient to gb (each skipped when nil), and writes
// the input gradient into gx (when not nil); the layout is forward's.
func (gc *gemmConv) backward(ws *convWorkspace, x, gy []float32, n int, w, gw []float32, overwrite bool, gb, gx []float32) {
	kg, outG, cs := gc.sizes(ws, n)
	ohw := gc.rows * gc.outW
	if gb != nil {
		ws.ones = grow(ws.ones, cs*gc.span)
		for i := range ws.ones {
			ws.ones[i] = 1
		}
	}
	if gx != nil {
		clear(gx)
	}
	var starts []int
	var runLen int
	if rw, ok := gc.window.(runWindow); ok && gw != nil {
		if st, l := rw.runs(ws.starts); st != nil {
			ws.starts, starts, runLen = st, st, l
		}
	}
	for s0 := 0; s0 < n; s0 += cs {
		m := min(cs, n-s0)
		p := m * gc.span
		// The chunk's output gradient by channel, (nOut, m·span), zero in
		// a Wide window's junk columns.
		for s := 0; s < m; s++ {
			for o := 0; o < gc.nOut; o++ {
				dst := ws.ybuf[o*p+s*gc.span : o*p+(s+1)*gc.span]
				src := gy[((s0+s)*gc.nOut+o)*ohw : ((s0+s)*gc.nOut+o+1)*ohw]
				if gc.rowW == gc.outW {
					copy(dst, src)
					continue
				}
				for r := 0; r < gc.rows; r++ {
					d := dst[r*gc.rowW : (r+1)*gc.rowW]
					copy(d, src[r*gc.outW:(r+1)*gc.outW])
					clear(d[gc.outW:])
				}
			}
		}
		for o := range gb {
			gb[o] += kernels.Dot(ws.ybuf[o*p:(o+1)*p], ws.ones[:p])
		}
		if gw != nil && starts != nil {
			if overwrite && s0 == 0 {
				clear(gw)
			}
			// One product per image over its runs: rereading the image costs
			// less than writing its unfolding out and reading that back.
			for gr := 0; gr < gc.groups; gr++ {
				kernels.SgemmNTRuns(m, outG, runLen, ws.ybuf[gr*outG*p:], p, gc.span, x[s0*gc.img:(s0+m)*gc.img], gc.img,
					starts[gr*kg:(gr+1)*kg], gw[gr*outG*kg:], kg)
			}
		} else if gw != nil {
			gc.window.unfold(ws.col, x[s0*gc.img:(s0+m)*gc.img], m)
			beta := float32(1)
			if overwrite && s0 == 0 {
				beta = 0
			}
			for gr := 0; gr < gc.groups; gr++ {
				kernels.Sgemm(false, true, outG, kg, p, 1, ws.ybuf[gr*outG*p:], p, ws.col[gr*kg*p:], p, beta, gw[gr*outG*kg:], kg)
			}
		}
		if gx != nil {
			for gr := 0; gr < gc.groups; gr++ {
				kernels.Sgemm(true, false, kg, p, outG, 1, w[gr*outG*kg:], kg, ws.ybuf[gr*outG*p:], p, 0, ws.col[gr*kg*p:], p)
			}
			gc.window.fold(gx[s0*gc.img:(s0+m)*gc.img], ws.col, m)
		}
	}
}

// nhwcWeight writes the (1, kh, kw, in, out) weight as (out, in, kh, kw).
func (c *SpatialConvolution) nhwcWeight(dst, w []float32) {
	r := c.KH * c.KW
	for o := 0; o < c.NOut; o++ {
		for ci := 0; ci < c.NIn; ci++ {
			for k := 0; k < r; k++ {
				dst[(o*c.NIn+ci)*r+k] = w[(k*c.NIn+ci)*c.NOut+o]
			}
		}
	}
}

// hwcToChw transposes n images of hw pixels × ch channels to channels first.
func hwcToChw(dst, src []float32, n, hw, ch int) {
	for s := 0; s < n; s++ {
		d, x := dst[s*hw*ch:(s+1)*hw*ch], src[s*hw*ch:(s+1)*hw*ch]
		for p := 0; p < hw; p++ {
			for k := 0; k < ch; k++ {
				d[k*hw+p] = x[p*ch+k]
			}
		}
	}
}

// chwToHwc is hwcToChw's inverse.
func chwToHwc(dst, src []float32, n, hw, ch int) {
	for s := 0; s < n; s++ {
		d, x := dst[s*hw*ch:(s+1)*hw*ch], src[s*hw*ch:(s+1)*hw*ch]
		for k := 0; k < ch; k++ {
			for p := 0; p < hw; p++ {
				d[p*ch+k] = x[k*hw+p]
			}
		}
	}
}

// grow returns buf with length n, reallocating only when it is too short
// (from mem.Floats: large workspaces on huge pages, like tensors).
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return mem.Floats(n)
	}
	return buf[:n]
}
