package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// LocallyConnected1D is TemporalConvolution with unshared weights: output
// frame j of (n_input_frame, F) or (batch, n_input_frame, F) input is
// W_j·[frames j·stride … j·stride + kw − 1, concatenated] + b_j. As in
// BigDL the weight is (out frames, out, kw·F) and the bias (out frames, out).
//
// A window's frames are consecutive values and the windows of a batch lie
// one input apart, so each output frame is one matrix product read straight
// from the input: no unfolding.
type LocallyConnected1D struct {
	Base
	Frames, In, Out, KW, DW int
	OutFrames               int
	PropagateBack           bool
	Weight, Bias            *Param
	params                  []*Param
	inits                   initMethods
	output, gradIn          *tensor.Tensor
}

// LocallyConnected2D is SpatialConvolution with unshared weights: each
// output position p has its own (out, in·kh·kw) filter. The input size is
// fixed by the constructor. As in BigDL the weight is (outH·outW, out,
// in·kh·kw), its last axis ordered (in, kh, kw), or (kh, kw, in) in NHWC,
// and the bias (outH·outW, out) is added in storage order to each sample's
// output (in NCHW, BigDL's add of the bias to the (out, outH·outW) output
// pairs them by flat index).
type LocallyConnected2D struct {
	Base
	NIn, InW, InH, NOut        int
	KW, KH, DW, DH, PadW, PadH int
	PropagateBack              bool
	NHWC                       bool
	format                     string
	geom                       kernels.ConvGeom
	Weight, Bias               *Param // Bias nil without bias
	params                     []*Param
	inits                      initMethods
	// kIndex[r] is where row r of the im2col unfolding, ordered (in, kh,
	// kw), lies in a position's filter.
	kIndex         []int
	output, gradIn *tensor.Tensor
	// x, gx: the input and its gradient in NCHW (NHWC only); col: a chunk's
	// im2col; patch: the same values by position, (positions, chunk, k);
	// ybuf: the chunk's output or its gradient by position, (positions, chunk, out).
	x, gx, col, patch, ybuf []float32
}

func init() {
	Register("LocallyConnected1D", func(a *Args) (Module, error) {
		l := &LocallyConnected1D{Base: newBase("LocallyConnected1D"), Frames: a.PositiveInt("n_input_frame"),
			In: a.PositiveInt("input_frame_size"), Out: a.PositiveInt("output_frame_size"), KW: a.PositiveInt("kernel_w"),
			DW: strideArg(a, "stride_w"), PropagateBack: a.Bool("propagate_back", true)}
		if err := a.Err(); err != nil {
			return nil, err
		}
		if l.KW > l.Frames {
			return nil, fmt.Errorf("LocallyConnected1D: kernel_w %d is longer than n_input_frame %d", l.KW, l.Frames)
		}
		l.OutFrames = (l.Frames-l.KW)/l.DW + 1
		l.Weight = newParam("weight", l.OutFrames, l.Out, l.KW*l.In)
		l.Bias = newParam("bias", l.OutFrames, l.Out)
		l.params = []*Param{l.Weight, l.Bias}
		stdv := 1 / math.Sqrt(float64(l.KW*l.In))
		u := uniformInit{class: "RandomUniform", lower: -stdv, upper: stdv, fixed: true}
		l.inits = initMethods{u, u}
		l.Reset()
		return l, nil
	})
	Register("LocallyConnected2D", newLocallyConnected2D)
}

func newLocallyConnected2D(a *Args) (Module, error) {
	const class = "LocallyConnected2D"
	l := &LocallyConnected2D{Base: newBase(class), NIn: a.PositiveInt("n_input_plane"),
		InW: a.PositiveInt("input_width"), InH: a.PositiveInt("input_height"), NOut: a.PositiveInt("n_output_plane"),
		KW: a.PositiveInt("kernel_w"), KH: a.PositiveInt("kernel_h"), DW: a.Int("stride_w", 1), DH: a.Int("stride_h", 1),
		PadW: a.Int("pad_w", 0), PadH: a.Int("pad_h", 0), PropagateBack: a.Bool("propagate_back", true),
		format: a.String("data_format", "NCHW")}
	withBias := a.Bool("with_bias", true)
	if err := a.Err(); err != nil {
		return nil, err
	}
	switch l.format {
	case "NCHW":
	case "NHWC":
		l.NHWC = true
	default:
		return nil, fmt.Errorf("%s: argument data_format must be \"NCHW\" or \"NHWC\", got %q", class, l.format)
	}
	if err := checkWindow(class, "stride_w", "stride_h", l.DW, l.DH, l.PadW, l.PadH); err != nil {
		return nil, err
	}
	g := kernels.ConvGeom{C: l.NIn, H: l.InH, W: l.InW, KH: l.KH, KW: l.KW, DH: l.DH, DW: l.DW, DilH: 1, DilW: 1}
	g.OutH, g.PadT = windowOut(l.InH, l.KH, l.DH, l.PadH, false, false)
	g.OutW, g.PadL = windowOut(l.InW, l.KW, l.DW, l.PadW, false, false)
	if g.OutH < 1 || g.OutW < 1 {
		return nil, fmt.Errorf("%s: the %d x %d kernel (width x height) is larger than the padded input %d x %d",
			class, l.KW, l.KH, l.InW+2*max(l.PadW, 0), l.InH+2*max(l.PadH, 0))
	}
	l.geom = g
	k, positions := l.NIn*l.KH*l.KW, g.OutH*g.OutW
	l.kIndex = make([]int, k)
	for c := 0; c < l.NIn; c++ {
		for r := 0; r < l.KH*l.KW; r++ {
			l.kIndex[c*l.KH*l.KW+r] = c*l.KH*l.KW + r
			if l.NHWC {
				l.kIndex[c*l.KH*l.KW+r] = r*l.NIn + c
			}
		}
	}
	l.Weight = newParam("weight", positions, l.NOut, k)
	l.params = []*Param{l.Weight}
	if withBias {
		l.Bias = newParam("bias", positions, l.NOut)
		l.params = append(l.params, l.Bias)
	}
	stdv := 1 / math.Sqrt(float64(k))
	u := uniformInit{class: "RandomUniform", lower: -stdv, upper: stdv, fixed: true}
	l.inits = initMethods{u, u}
	l.Reset()
	return l, nil
}

func (l *LocallyConnected1D) Reset() { l.inits.draw(l, l.Weight, l.Bias) }

// Fans are BigDL's: OUT_IN applied to the 3-D weight reads its second and
// first axes (out, out frames); the bias is ONE_D.
func (l *LocallyConnected1D) Fans(p *Param) (int, int) {
	if p == l.Weight {
		return FansOutIn(p.Value.Shape)
	}
	return FansOneD(p.Value.Shape)
}

func (l *LocallyConnected1D) SetInitMethods(w, b InitMethod) error {
	if err := l.inits.set(l, l.Weight, l.Bias, w, b); err != nil {
		return err
	}
	l.Reset()
	return nil
}

func (l *LocallyConnected1D) Params() []*Param { return l.params }
func (l *LocallyConnected1D) Config() map[string]any {
	return map[string]any{"n_input_frame": l.Frames, "input_frame_size": l.In, "output_frame_size": l.Out,
		"kernel_w": l.KW, "stride_w": l.DW, "propagate_back": l.PropagateBack}
}
func (l *LocallyConnected1D) String() string {
	return fmt.Sprintf("LocallyConnected1D[%s](%d -> %d, %d x %d)", l.name, l.In, l.Out, l.KW, l.DW)
}
func (l *LocallyConnected1D) overwritesGrads() {}

// check refuses any input but (n_input_frame, F) or (batch, n_input_frame,
// F) and returns the batch size.
func (l *LocallyConnected1D) check(x *tensor.Tensor) int {
	d := x.Dims()
	if d != 2 && d != 3 || x.Shape[d-2] != l.Frames || x.Shape[d-1] != l.In {
		shapeError(l, fmt.Sprintf("(%d, %d) or (batch, %d, %d)", l.Frames, l.In, l.Frames, l.In), x.Shape)
	}
	if d == 3 {
		return x.Shape[0]
	}
	return 1
}

func (l *LocallyConnected1D) Forward(x *tensor.Tensor) *tensor.Tensor {
	n := l.check(x)
	l.output = ensureFrames(l.output, x.Dims() == 3, n, l.OutFrames, l.Out)
	k, ldx, ldy := l.KW*l.In, l.Frames*l.In, l.OutFrames*l.Out
	y := l.output.Data
	for s := 0; s < n; s++ {
		copy(y[s*ldy:(s+1)*ldy], l.Bias.Value.Data)
	}
	w := l.Weight.Value.Data
	for j := 0; j < l.OutFrames; j++ {
		kernels.Sgemm(false, true, n, l.Out, k, 1, x.Data[j*l.DW*l.In:], ldx, w[j*l.Out*k:], k, 1, y[j*l.Out:], ldy)
	}
	return l.output
}

func (l *LocallyConnected1D) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	n := l.check(x)
	k, ldx, ldy := l.KW*l.In, l.Frames*l.In, l.OutFrames*l.Out
	if gy.Len() != n*ldy {
		shapeError(l, fmt.Sprintf("a gradient of %d values, shaped like the output", n*ldy), gy.Shape)
	}
	if !l.frozen {
		gw := l.Weight.Grad.Data
		if l.gradsOverwritten {
			clear(gw)
			clear(l.Bias.Grad.Data)
		}
		kernels.SumRows(l.Bias.Grad.Data, gy.Data, n, ldy)
		for j := 0; j < l.OutFrames; j++ {
			kernels.Sgemm(true, false, l.Out, k, n, 1, gy.Data[j*l.Out:], ldy, x.Data[j*l.DW*l.In:], ldx, 1, gw[j*l.Out*k:], k)
		}
	}
	if l.inputGradUnused {
		return nil
	}
	l.gradIn = tensor.Ensure(l.gradIn, x.Shape...)
	clear(l.gradIn.Data) // without propagate_back BigDL computes no input gradient: it stays zero
	if l.PropagateBack {
		w := l.Weight.Value.Data
		for j := 0; j < l.OutFrames; j++ {
			kernels.Sgemm(false, false, n, k, l.Out, 1, gy.Data[j*l.Out:], ldy, w[j*l.Out*k:], k, 1, l.gradIn.Data[j*l.DW*l.In:], ldx)
		}
	}
	return l.gradIn
}

func (l *LocallyConnected2D) Reset() { l.inits.draw(l, l.Weight, l.Bias) }

// Fans are a position's filter's, as SpatialConvolution's: in·kh·kw and
// out·kh·kw. (BigDL hands its 3-D weight to the 5-D formula of
// SpatialConvolution's layout, which fails.)
func (l *LocallyConnected2D) Fans(p *Param) (int, int) {
	if p == l.Weight {
		r := l.KH * l.KW
		return l.NIn * r, l.NOut * r
	}
	return FansOneD(p.Value.Shape)
}

func (l *LocallyConnected2D) SetInitMethods(w, b InitMethod) error {
	if err := l.inits.set(l, l.Weight, l.Bias, w, b); err != nil {
		return err
	}
	l.Reset()
	return nil
}

func (l *LocallyConnected2D) Params() []*Param { return l.params }
func (l *LocallyConnected2D) Config() map[string]any {
	return map[string]any{"n_input_plane": l.NIn, "input_width": l.InW, "input_height": l.InH, "n_output_plane": l.NOut,
		"kernel_w": l.KW, "kernel_h": l.KH, "stride_w": l.DW, "stride_h": l.DH, "pad_w": l.PadW, "pad_h": l.PadH,
		"propagate_back": l.PropagateBack, "with_bias": l.Bias != nil, "data_format": l.format}
}
func (l *LocallyConnected2D) String() string {
	return fmt.Sprintf("LocallyConnected2D[%s](%d -> %d, %d x %d, %d, %d, %d, %d)", l.name, l.NIn, l.NOut, l.KW, l.KH,
		l.DW, l.DH, l.PadW, l.PadH)
}
func (l *LocallyConnected2D) overwritesGrads() {}

// check refuses any input but the constructor's size and returns the batch
// size.
func (l *LocallyConnected2D) check(x *tensor.Tensor) int {
	want := []int{l.NIn, l.InH, l.InW}
	if l.NHWC {
		want = []int{l.InH, l.InW, l.NIn}
	}
	s, n := x.Shape, 1
	if x.Dims() == 4 {
		n, s = s[0], s[1:]
	}
	if x.Dims() != 3 && x.Dims() != 4 || s[0] != want[0] || s[1] != want[1] || s[2] != want[2] {
		w := tensor.ShapeString(want)
		shapeError(l, fmt.Sprintf("%s or (batch, %s", w, w[1:]), x.Shape)
	}
	return n
}

// sizes are the filter length, the output positions, the output values of
// a sample and how many samples share one unfolding; it sizes the
// workspaces for them.
func (l *LocallyConnected2D) sizes(n int) (k, positions, outLen, cs int) {
	k, positions = len(l.kIndex), l.geom.OutH*l.geom.OutW
	cs = max(1, min(n, colBudget/(k*positions)))
	l.col = grow(l.col, k*cs*positions)
	l.patch = grow(l.patch, k*cs*positions)
	l.ybuf = grow(l.ybuf, l.NOut*cs*positions)
	return k, positions, positions * l.NOut, cs
}

// outIndex is where output channel o at position p lies in a sample's output.
func (l *LocallyConnected2D) outIndex(o, p, positions int) int {
	if l.NHWC {
		return p*l.NOut + o
	}
	return o*positions + p
}

// unfold writes the patches of samples [s0, s0+m) of xs (NCHW) into
// l.patch, (positions, m, k) in the weight's filter order.
func (l *LocallyConnected2D) unfold(xs []float32, s0, m, k, positions int) {
	img := l.NIn * l.InH * l.InW
	kernels.Im2col(l.col, xs[s0*img:(s0+m)*img], m, &l.geom)
	for r, at := range l.kIndex {
		row := l.col[r*m*positions : (r+1)*m*positions]
		for s := 0; s < m; s++ {
			for p, v := range row[s*positions : (s+1)*positions] {
				l.patch[(p*m+s)*k+at] = v
			}
		}
	}
}

func (l *LocallyConnected2D) Forward(x *tensor.Tensor) *tensor.Tensor {
	n := l.check(x)
	k, positions, outLen, cs := l.sizes(n)
	l.output = ensureConvOut(l.output, x.Dims() == 4, n, l.NHWC, l.NOut, l.geom.OutH, l.geom.OutW)
	xs := x.Data
	if l.NHWC {
		l.x = grow(l.x, x.Len())
		hwcToChw(l.x, x.Data, n, l.InH*l.InW, l.NIn)
		xs = l.x
	}
	w := l.Weight.Value.Data
	for s0 := 0; s0 < n; s0 += cs {
		m := min(cs, n-s0)
		l.unfold(xs, s0, m, k, positions)
		for p := 0; p < positions; p++ {
			kernels.Sgemm(false, true, m, l.NOut, k, 1, l.patch[p*m*k:], k, w[p*l.NOut*k:], k, 0, l.ybuf[p*m*l.NOut:], l.NOut)
		}
		for s := 0; s < m; s++ {
			y := l.output.Data[(s0+s)*outLen : (s0+s+1)*outLen]
			for p := 0; p < positions; p++ {
				for o, v := range l.ybuf[(p*m+s)*l.NOut : (p*m+s+1)*l.NOut] {
					y[l.outIndex(o, p, positions)] = v
				}
			}
			if l.Bias != nil {
				kernels.Axpy(1, l.Bias.Value.Data, y)
			}
		}
	}
	return l.output
}

func (l *LocallyConnected2D) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	n := l.check(x)
	k, positions, outLen, cs := l.sizes(n)
	if gy.Len() != n*outLen {
		shapeError(l, fmt.Sprintf("a gradient of %d values, shaped like the output", n*outLen), gy.Shape)
	}
	train := !l.frozen
	needGx := !l.inputGradUnused && l.PropagateBack
	if !l.inputGradUnused {
		l.gradIn = tensor.Ensure(l.gradIn, x.Shape...)
		clear(l.gradIn.Data) // without propagate_back BigDL computes no input gradient: it stays zero
	}
	if !train && !needGx {
		return l.gradResult()
	}
	if train && l.Bias != nil {
		if l.gradsOverwritten {
			clear(l.Bias.Grad.Data)
		}
		kernels.SumRows(l.Bias.Grad.Data, gy.Data, n, outLen)
	}
	xs, gxs := x.Data, []float32(nil)
	if l.NHWC {
		l.x = grow(l.x, x.Len())
		hwcToChw(l.x, x.Data, n, l.InH*l.InW, l.NIn)
		xs = l.x
	}
	if needGx {
		gxs = l.gradIn.Data
		if l.NHWC {
			l.gx = grow(l.gx, x.Len())
			clear(l.gx)
			gxs = l.gx
		}
	}
	img := l.NIn * l.InH * l.InW
	w, gw := l.Weight.Value.Data, l.Weight.Grad.Data
	for s0 := 0; s0 < n; s0 += cs {
		m := min(cs, n-s0)
		for s := 0; s < m; s++ {
			g := gy.Data[(s0+s)*outLen : (s0+s+1)*outLen]
			for p := 0; p < positions; p++ {
				row := l.ybuf[(p*m+s)*l.NOut : (p*m+s+1)*l.NOut]
				for o := range row {
					row[o] = g[l.outIndex(o, p, positions)]
				}
			}
		}
		if train {
			l.unfold(xs, s0, m, k, positions)
			beta := float32(1)
			if l.gradsOverwritten && s0 == 0 {
				beta = 0
			}
			for p := 0; p < positions; p++ {
				kernels.Sgemm(true, false, l.NOut, k, m, 1, l.ybuf[p*m*l.NOut:], l.NOut, l.patch[p*m*k:], k, beta, gw[p*l.NOut*k:], k)
			}
		}
		if needGx {
			for p := 0; p < positions; p++ {
				kernels.Sgemm(false, false, m, k, l.NOut, 1, l.ybuf[p*m*l.NOut:], l.NOut, w[p*l.NOut*k:], k, 0, l.patch[p*m*k:], k)
			}
			for r, at := range l.kIndex {
				row := l.col[r*m*positions : (r+1)*m*positions]
				for s := 0; s < m; s++ {
					d := row[s*positions : (s+1)*positions]
					for p := range d {
						d[p] = l.patch[(p*m+s)*k+at]
					}
				}
			}
			kernels.Col2im(gxs[s0*img:(s0+m)*img], l.col, m, &l.geom)
		}
	}
	if needGx && l.NHWC {
		chwToHwc(l.gradIn.Data, gxs, n, l.InH*l.InW, l.NIn)
	}
	return l.gradResult()
}

func (l *LocallyConnected2D) gradResult() *tensor.Tensor {
	if l.inputGradUnused {
		return nil
	}
	return l.gradIn
}
