package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// BatchNorm is BigDL's BatchNormalization, over (batch, n_output) input,
// and SpatialBatchNormalization, per channel of (batch, C, H, W) input
// ((batch, H, W, C) in NHWC). In training it normalises with the batch's
// mean and biased variance and moves the running estimates towards them,
// running = (1 − momentum)·running + momentum·batch, the variance's with
// the unbiased estimate; in evaluation it normalises with the running
// estimates, and then also takes one sample without the batch dimension.
// With affine, y = x̂·weight + bias; BigDL draws the weight from U(0, 1)
// and sets the bias to 0.
//
// Under the training loop each replica normalises its own share of the
// mini-batch, as BigDL's engine does, and the loop averages the replicas'
// running estimates after each step (see ExtraParams).
type BatchNorm struct {
	Base
	N               int
	Eps, Momentum   float64
	Affine          bool
	spatial         bool
	channelsLast    bool
	format          string
	Weight, Bias    *Param // nil without affine
	params          []*Param
	inits           initMethods
	RunningMean     *tensor.Tensor
	RunningVar      *tensor.Tensor
	mean, invStd    []float32 // the last forward's statistics, per channel
	sum, sq         []float32 // per-channel sums
	scale, shift    []float32 // per-channel factors of a pass
	offset          []float32 // (backward's third)
	centred         []float32 // the last forward's input minus the mean it used
	centredShape    []int
	centredTraining bool
	ones            []float32
	output, gradIn  *tensor.Tensor
}

func init() {
	for _, spatial := range []bool{false, true} {
		class := "BatchNormalization"
		if spatial {
			class = "SpatialBatchNormalization"
		}
		Register(class, func(a *Args) (Module, error) {
			format := ""
			if spatial {
				format = a.String("data_format", "NCHW")
			}
			return newBatchNorm(class, a.PositiveInt("n_output"), a.Float("eps", 1e-5), a.Float("momentum", 0.1),
				a.Bool("affine", true), spatial, format, a)
		})
	}
}

func newBatchNorm(class string, n int, eps, momentum float64, affine, spatial bool, format string, a *Args) (*BatchNorm, error) {
	if err := a.Err(); err != nil {
		return nil, err
	}
	if !(eps >= 0) {
		return nil, fmt.Errorf("%s: argument eps must be ≥ 0, got %v", class, eps)
	}
	if !(momentum >= 0 && momentum <= 1) {
		return nil, fmt.Errorf("%s: argument momentum must be in [0, 1], got %v", class, momentum)
	}
	b := &BatchNorm{Base: newBase(class), N: n, Eps: eps, Momentum: momentum, Affine: affine, spatial: spatial,
		format: format, channelsLast: !spatial}
	if spatial {
		switch format {
		case "NCHW":
		case "NHWC":
			b.channelsLast = true
		default:
			return nil, fmt.Errorf("%s: argument data_format must be \"NCHW\" or \"NHWC\", got %q", class, format)
		}
	}
	if affine {
		b.Weight, b.Bias = newParam("weight", n), newParam("bias", n)
		b.params = []*Param{b.Weight, b.Bias}
	}
	b.RunningMean, b.RunningVar = tensor.New(n), tensor.New(n)
	for i := range b.RunningVar.Data {
		b.RunningVar.Data[i] = 1
	}
	for _, s := range []*[]float32{&b.mean, &b.invStd, &b.sum, &b.sq, &b.scale, &b.shift, &b.offset} {
		*s = make([]float32, n)
	}
	// BigDL 0.4's defaults: RandomUniform(0, 1) for the weight, Zeros for the bias.
	b.inits = initMethods{uniformInit{class: "RandomUniform", lower: 0, upper: 1, fixed: true}, constInit{class: "Zeros"}}
	b.Reset()
	return b, nil
}

func (b *BatchNorm) Reset() {
	if b.Affine {
		b.inits.draw(b, b.Weight, b.Bias)
	}
}

// Fans are BigDL's ONE_D for both parameters.
func (b *BatchNorm) Fans(p *Param) (int, int) { return FansOneD(p.Value.Shape) }

func (b *BatchNorm) SetInitMethods(w, bias InitMethod) error {
	if !b.Affine {
		return fmt.Errorf("set_init_method: %s has no parameters to initialise (affine=False)", b.String())
	}
	if err := b.inits.set(b, b.Weight, b.Bias, w, bias); err != nil {
		return err
	}
	b.Reset()
	return nil
}

func (b *BatchNorm) Params() []*Param { return b.params }
func (b *BatchNorm) overwritesGrads() {}

// ExtraParams are the running mean and variance (BigDL's getExtraParameter).
func (b *BatchNorm) ExtraParams() []*tensor.Tensor {
	return []*tensor.Tensor{b.RunningMean, b.RunningVar}
}

func (b *BatchNorm) Config() map[string]any {
	c := map[string]any{"n_output": b.N, "eps": b.Eps, "momentum": b.Momentum, "affine": b.Affine}
	if b.spatial {
		c["data_format"] = b.format
	}
	return c
}

func (b *BatchNorm) String() string {
	return fmt.Sprintf("%s[%s](%d, %v, %v, %v)", b.class, b.name, b.N, b.Eps, b.Momentum, b.Affine)
}

// CallMethod: set_running_mean and set_running_std replace the running
// mean and, as in BigDL (whose setRunningStd sets runningVar), the running
// variance.
func (b *BatchNorm) CallMethod(method string, _ map[string]any, in []*tensor.Tensor) (any, []*tensor.Tensor, bool, error) {
	var dst *tensor.Tensor
	switch method {
	case "set_running_mean":
		dst = b.RunningMean
	case "set_running_std":
		dst = b.RunningVar
	default:
		return nil, nil, false, nil
	}
	if len(in) != 1 || in[0].IsTable() || in[0].Len() != b.N || in[0].Dims() > 1 && in[0].Len() != in[0].Shape[0] {
		got := "nothing"
		if len(in) == 1 {
			got = "shape " + in[0].Describe()
		}
		return nil, nil, true, fmt.Errorf("%s: %s needs an array of shape (%d,), got %s", b.String(), method, b.N, got)
	}
	copy(dst.Data, in[0].Data)
	return nil, nil, true, nil
}

// layout checks x and returns how its values group by channel: outer
// blocks of C·inner values, each channel's inner values contiguous
// (channels first), or rows of C values (channels last, inner 1).
func (b *BatchNorm) layout(x *tensor.Tensor) (outer, inner int) {
	dims := 2
	if b.spatial {
		dims = 4
	}
	batched := x.Dims() == dims
	if !batched && !(x.Dims() == dims-1 && !b.training) {
		shapeError(b, b.want(), x.Shape)
	}
	s := x.Shape
	outer = 1
	if batched {
		outer, s = s[0], s[1:]
	}
	ch := s[0]
	if b.channelsLast {
		ch = s[len(s)-1]
	}
	if ch != b.N || x.Len() == 0 {
		shapeError(b, b.want(), x.Shape)
	}
	inner = x.Len() / (outer * b.N)
	if b.channelsLast {
		return outer * inner, 1
	}
	return outer, inner
}

// want describes the accepted input shapes, for errors.
func (b *BatchNorm) want() string {
	n := b.N
	var batch, one string
	switch {
	case !b.spatial:
		batch, one = fmt.Sprintf("(batch, %d)", n), fmt.Sprintf("(%d,)", n)
	case b.channelsLast:
		batch, one = fmt.Sprintf("(batch, H, W, %d)", n), fmt.Sprintf("(H, W, %d)", n)
	default:
		batch, one = fmt.Sprintf("(batch, %d, H, W)", n), fmt.Sprintf("(%d, H, W)", n)
	}
	if b.training {
		return batch + " in training (a batch is needed to normalise; " + one + " is accepted in evaluation)"
	}
	return batch + " or " + one
}

// onesOf is a slice of n ones the layer keeps, for sums and broadcasts.
func (b *BatchNorm) onesOf(n int) []float32 {
	if len(b.ones) < n {
		b.ones = make([]float32, n)
		for i := range b.ones {
			b.ones[i] = 1
		}
	}
	return b.ones[:n]
}

func (b *BatchNorm) Forward(x *tensor.Tensor) *tensor.Tensor {
	outer, inner := b.layout(x)
	count := x.Len() / b.N // values per channel
	if b.training && count < 2 {
		panic(fmt.Errorf("%s: training needs more than one value per channel to estimate a variance, got input shape %s "+
			"(under Optimizer each core normalises its own share of the mini-batch: use a batch of at least 2 records per core)",
			b.String(), tensor.ShapeString(x.Shape)))
	}
	if cap(b.centred) < x.Len() {
		b.centred = make([]float32, x.Len())
	}
	b.centred = b.centred[:x.Len()]
	b.centredShape = append(b.centredShape[:0], x.Shape...)
	b.centredTraining = b.training
	if b.training {
		b.batchStats(x.Data, outer, inner, count)
	} else {
		for c := range b.N {
			b.mean[c] = b.RunningMean.Data[c]
			b.invStd[c] = float32(1 / math.Sqrt(float64(b.RunningVar.Data[c])+b.Eps))
		}
		b.centre(x.Data, outer, inner)
	}
	b.output = tensor.Ensure(b.output, x.Shape...)
	// y = (x − mean)·(invStd·weight) + bias
	k, shift := b.scale, b.shift
	for c := range b.N {
		k[c], shift[c] = b.invStd[c], 0
		if b.Affine {
			k[c] *= b.Weight.Value.Data[c]
			shift[c] = b.Bias.Value.Data[c]
		}
	}
	b.eachChannel(outer, inner, func(lo, hi, c int) {
		kernels.ScaleShift(b.output.Data[lo:hi], b.centred[lo:hi], k[c], shift[c])
	}, func(lo, hi int) {
		kernels.MulShift(b.output.Data[lo:hi], b.centred[lo:hi], k, shift)
	})
	return b.output
}

// eachChannel visits the values of a tensor laid out as layout returned:
// channels first, perChannel gets each channel's contiguous block [lo, hi)
// and its channel; channels last, perRow gets each row of N values.
func (b *BatchNorm) eachChannel(outer, inner int, perChannel func(lo, hi, c int), perRow func(lo, hi int)) {
	n := b.N
	if b.channelsLast {
		for r := range outer {
			perRow(r*n, (r+1)*n)
		}
		return
	}
	for o := range outer {
		for c := range n {
			perChannel((o*n+c)*inner, (o*n+c+1)*inner, c)
		}
	}
}

// channelSums sets sum[c] = Σ a and, with bv, dot[c] = Σ a·bv over each
// channel's values (float64 across blocks, so large batches keep their
// precision).
func (b *BatchNorm) channelSums(a, bv []float32, outer, inner int, sum, dot []float32) {
	n := b.N
	if b.channelsLast {
		if sum != nil {
			clear(sum)
			kernels.SumRows(sum, a, outer, n)
		}
		if dot != nil {
			clear(dot)
			for r := range outer {
				kernels.MulAdd(dot, a[r*n:(r+1)*n], bv[r*n:(r+1)*n])
			}
		}
		return
	}
	ones := b.onesOf(inner)
	for c := range n {
		var s, d float64
		for o := range outer {
			lo, hi := (o*n+c)*inner, (o*n+c+1)*inner
			if sum != nil {
				s += float64(kernels.Dot(a[lo:hi], ones))
			}
			if dot != nil {
				d += float64(kernels.Dot(a[lo:hi], bv[lo:hi]))
			}
		}
		if sum != nil {
			sum[c] = float32(s)
		}
		if dot != nil {
			dot[c] = float32(d)
		}
	}
}

// batchStats sets mean and invStd from x, leaves x − mean in centred, and
// moves the running estimates.
func (b *BatchNorm) batchStats(x []float32, outer, inner, count int) {
	b.channelSums(x, nil, outer, inner, b.sum, nil)
	for c := range b.N {
		b.mean[c] = b.sum[c] / float32(count)
	}
	b.centre(x, outer, inner)
	b.channelSums(b.centred, b.centred, outer, inner, nil, b.sq)
	m := float32(b.Momentum)
	for c := range b.N {
		s := b.sq[c]
		b.invStd[c] = float32(1 / math.Sqrt(float64(s)/float64(count)+b.Eps))
		b.RunningMean.Data[c] = m*b.mean[c] + (1-m)*b.RunningMean.Data[c]
		b.RunningVar.Data[c] = m*(s/float32(count-1)) + (1-m)*b.RunningVar.Data[c]
	}
}

// centre writes x − mean into centred.
func (b *BatchNorm) centre(x []float32, outer, inner int) {
	ones := b.onesOf(b.N)
	for c := range b.N {
		b.shift[c] = -b.mean[c]
	}
	b.eachChannel(outer, inner, func(lo, hi, c int) {
		kernels.ScaleShift(b.centred[lo:hi], x[lo:hi], 1, b.shift[c])
	}, func(lo, hi int) {
		kernels.MulShift(b.centred[lo:hi], x[lo:hi], ones, b.shift)
	})
}

// Backward differentiates the last forward. With x̂ = (x − mean)·invStd,
// in training the batch statistics depend on the input, so the input
// gradient is BigDL's weight·invStd·(g − mean(g) − x̂·mean(g·x̂)); in
// evaluation the running statistics are constants and it is
// weight·invStd·g (PyTorch's; BigDL's evaluation backward reads the bias
// where it means the inverse deviation). The weight's gradient is Σg·x̂,
// the bias's Σg.
func (b *BatchNorm) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	outer, inner := b.layout(x)
	if gy.Len() != x.Len() {
		shapeError(b, "a gradient shaped like the input "+tensor.ShapeString(x.Shape), gy.Shape)
	}
	if !tensor.SameShape(b.centredShape, x.Shape) || b.centredTraining != b.training {
		panic(fmt.Errorf("%s: backward of input shape %s needs a forward of it in the same mode first", b.String(), tensor.ShapeString(x.Shape)))
	}
	n, g := b.N, gy.Data
	count := float32(x.Len() / n)
	// sum: Σg per channel; sq: Σg·x̂.
	b.channelSums(g, b.centred, outer, inner, b.sum, b.sq)
	for c := range n {
		b.sq[c] *= b.invStd[c]
	}
	var gradIn *tensor.Tensor
	if !b.inputGradUnused {
		b.gradIn = tensor.Ensure(b.gradIn, x.Shape...)
		gx := b.gradIn.Data
		// gx = k·g + p·(x − mean) + q, k = weight·invStd and, in training,
		// p = −k·invStd·mean(g·x̂), q = −k·mean(g).
		k, p, q := b.scale, b.shift, b.offset
		for c := range n {
			k[c], p[c], q[c] = b.invStd[c], 0, 0
			if b.Affine {
				k[c] *= b.Weight.Value.Data[c]
			}
			if b.training {
				p[c], q[c] = -k[c]*b.invStd[c]*b.sq[c]/count, -k[c]*b.sum[c]/count
			}
		}
		b.eachChannel(outer, inner, func(lo, hi, c int) {
			kernels.ScaleShift(gx[lo:hi], g[lo:hi], k[c], q[c])
			if b.training {
				kernels.Axpy(p[c], b.centred[lo:hi], gx[lo:hi])
			}
		}, func(lo, hi int) {
			kernels.MulShift(gx[lo:hi], g[lo:hi], k, q)
			if b.training {
				kernels.MulAdd(gx[lo:hi], b.centred[lo:hi], p)
			}
		})
		gradIn = b.gradIn
	}
	if b.Affine && !b.frozen {
		if b.gradsOverwritten {
			clear(b.Weight.Grad.Data)
			clear(b.Bias.Grad.Data)
		}
		kernels.Axpy(1, b.sq, b.Weight.Grad.Data)
		kernels.Axpy(1, b.sum, b.Bias.Grad.Data)
	}
	return gradIn
}
