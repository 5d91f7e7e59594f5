package criterion

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// TimeDistributedCriterion and TimeDistributedMaskCriterion: a criterion
// applied to every time step of a sequence output.

func init() {
	register("TimeDistributedCriterion", func(a *nn.Args) (Criterion, error) {
		inner, spec, err := innerCriterion(a, "TimeDistributedCriterion")
		if err != nil {
			return nil, err
		}
		d := &TimeDistributed{inner: inner, spec: spec, SizeAverage: a.Bool("size_average", false), Dim: a.Int("dimension", 2)}
		if a.Err() == nil && d.Dim < 1 {
			return nil, fmt.Errorf("TimeDistributedCriterion: argument dimension must be positive (1-based), got %d", d.Dim)
		}
		return d, nil
	})
	register("TimeDistributedMaskCriterion", func(a *nn.Args) (Criterion, error) {
		inner, spec, err := innerCriterion(a, "TimeDistributedMaskCriterion")
		if err != nil {
			return nil, err
		}
		return &TimeDistributedMask{inner: inner, spec: spec, Padding: a.Float("padding_value", 0)}, nil
	})
}

// innerCriterion builds the criterion a wrapper applies, from its spec.
func innerCriterion(a *nn.Args, class string) (Criterion, map[string]any, error) {
	spec := a.Object("criterion")
	if a.Err() != nil {
		return nil, nil, a.Err()
	}
	if spec == nil {
		return nil, nil, fmt.Errorf("%s: argument criterion is required", class)
	}
	name, _ := spec["class"].(string)
	args, _ := spec["args"].(map[string]any)
	inner, err := New(name, args)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: criterion: %w", class, err)
	}
	return inner, spec, nil
}

// TimeDistributed sums its criterion over the slices of the input and the
// target along dimension Dim (1-based, 2: the time steps of (batch, T,
// ...)); with SizeAverage, it divides by the number of steps.
type TimeDistributed struct {
	inner       Criterion
	spec        map[string]any
	SizeAverage bool
	Dim         int
	xs, ys      *tensor.Tensor // one step's slices, contiguous
	grad        *tensor.Tensor
	xShape      []int
	yShape      []int
}

func (d *TimeDistributed) Class() string { return "TimeDistributedCriterion" }
func (d *TimeDistributed) Config() map[string]any {
	return map[string]any{"criterion": d.spec, "size_average": d.SizeAverage, "dimension": d.Dim}
}

// sliceLayout splits shape around dimension dim: the volume before it, its
// size, the volume after it, and the shape without it (appended to buf).
func sliceLayout(shape []int, dim int, buf []int) (outer, steps, inner int, sliced []int) {
	outer, steps, inner = tensor.Volume(shape[:dim-1]), shape[dim-1], tensor.Volume(shape[dim:])
	return outer, steps, inner, append(append(buf[:0], shape[:dim-1]...), shape[dim:]...)
}

// gather copies slice t of src (outer, steps, inner) into dst (outer, inner).
func gather(dst, src []float32, outer, steps, inner, t int) {
	for o := 0; o < outer; o++ {
		copy(dst[o*inner:(o+1)*inner], src[(o*steps+t)*inner:(o*steps+t+1)*inner])
	}
}

// layout checks x and y have the time dimension, of one length.
func (d *TimeDistributed) layout(x, y *tensor.Tensor) (xo, steps, xi, yo, yi int) {
	if x.Dims() < d.Dim || y.Dims() < d.Dim || x.Shape[d.Dim-1] != y.Shape[d.Dim-1] {
		panic(fmt.Errorf("TimeDistributedCriterion: input %s and target %s need dimension %d, of one length",
			tensor.ShapeString(x.Shape), tensor.ShapeString(y.Shape), d.Dim))
	}
	xo, steps, xi, d.xShape = sliceLayout(x.Shape, d.Dim, d.xShape)
	yo, _, yi, d.yShape = sliceLayout(y.Shape, d.Dim, d.yShape)
	d.xs, d.ys = tensor.Ensure(d.xs, d.xShape...), tensor.Ensure(d.ys, d.yShape...)
	return
}

func (d *TimeDistributed) step(x, y *tensor.Tensor, t int) {
	xo, steps, xi, yo, yi := d.layout(x, y)
	gather(d.xs.Data, x.Data, xo, steps, xi, t)
	gather(d.ys.Data, y.Data, yo, steps, yi, t)
	Check(d.inner, d.xs, d.ys)
}

func (d *TimeDistributed) Norm(x, y *tensor.Tensor) (float64, bool) {
	d.step(x, y, 0)
	return d.inner.Norm(d.xs, d.ys)
}

func (d *TimeDistributed) Forward(x, y *tensor.Tensor) float64 {
	_, steps, _, _, _ := d.layout(x, y)
	var loss float64
	for t := 0; t < steps; t++ {
		d.step(x, y, t)
		loss += d.inner.Forward(d.xs, d.ys)
	}
	if d.SizeAverage {
		loss /= float64(steps)
	}
	return loss
}

func (d *TimeDistributed) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	xo, steps, xi, _, _ := d.layout(x, y)
	d.grad = tensor.Ensure(d.grad, x.Shape...)
	scale := float32(1)
	if d.SizeAverage {
		scale = 1 / float32(steps)
	}
	for t := 0; t < steps; t++ {
		d.step(x, y, t)
		g := d.inner.Backward(d.xs, d.ys)
		for o := 0; o < xo; o++ {
			dst, src := d.grad.Data[(o*steps+t)*xi:(o*steps+t+1)*xi], g.Data[o*xi:(o+1)*xi]
			for j := range dst {
				dst[j] = src[j] * scale
			}
		}
	}
	return d.grad
}

// TimeDistributedMask applies its criterion to the positions of a (batch,
// T, ...) output whose (batch, T) target is not Padding, and returns the
// mean of its per-position losses over those positions; padded positions
// get no gradient.
type TimeDistributedMask struct {
	inner    Criterion
	spec     map[string]any
	Padding  float64
	xs, ys   *tensor.Tensor // the kept positions, contiguous
	keep     []int32        // their positions in (batch·T)
	grad     *tensor.Tensor
	xShape   []int
	ySh      [1]int
	rowWidth int
}

func (m *TimeDistributedMask) Class() string { return "TimeDistributedMaskCriterion" }
func (m *TimeDistributedMask) Config() map[string]any {
	return map[string]any{"criterion": m.spec, "padding_value": m.Padding}
}

// gather collects the positions whose target is not padding.
func (m *TimeDistributedMask) gather(x, y *tensor.Tensor) {
	if x.Dims() < 3 || y.Dims() != 2 || y.Shape[0] != x.Shape[0] || y.Shape[1] != x.Shape[1] {
		panic(fmt.Errorf("TimeDistributedMaskCriterion: expected an input (batch, time, ...) and a target (batch, time) of labels, got input %s and target %s",
			tensor.ShapeString(x.Shape), tensor.ShapeString(y.Shape)))
	}
	m.rowWidth = x.Len() / y.Len()
	m.keep = m.keep[:0]
	for i, v := range y.Data {
		if float64(v) != m.Padding {
			m.keep = append(m.keep, int32(i))
		}
	}
	if len(m.keep) == 0 {
		panic(fmt.Errorf("TimeDistributedMaskCriterion: every target of %s is padding (%v): nothing to score",
			tensor.ShapeString(y.Shape), m.Padding))
	}
	m.xShape = append(append(m.xShape[:0], len(m.keep)), x.Shape[2:]...)
	m.ySh[0] = len(m.keep)
	m.xs, m.ys = tensor.Ensure(m.xs, m.xShape...), tensor.Ensure(m.ys, m.ySh[:]...)
	w := m.rowWidth
	for k, i := range m.keep {
		copy(m.xs.Data[k*w:(k+1)*w], x.Data[int(i)*w:int(i+1)*w])
		m.ys.Data[k] = y.Data[i]
	}
	Check(m.inner, m.xs, m.ys)
}

// sumScale turns the inner criterion's loss of the kept positions into their sum.
func (m *TimeDistributedMask) sumScale() float64 {
	norm, averaged := m.inner.Norm(m.xs, m.ys)
	if !averaged {
		return 1
	}
	return norm
}

func (m *TimeDistributedMask) Norm(x, y *tensor.Tensor) (float64, bool) {
	m.gather(x, y)
	return float64(len(m.keep)), true
}

func (m *TimeDistributedMask) Forward(x, y *tensor.Tensor) float64 {
	m.gather(x, y)
	return m.inner.Forward(m.xs, m.ys) * m.sumScale() / float64(len(m.keep))
}

func (m *TimeDistributedMask) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	m.gather(x, y)
	scale := float32(m.sumScale() / float64(len(m.keep)))
	g := m.inner.Backward(m.xs, m.ys)
	m.grad = tensor.Ensure(m.grad, x.Shape...)
	clear(m.grad.Data)
	w := m.rowWidth
	for k, i := range m.keep {
		dst, src := m.grad.Data[int(i)*w:int(i+1)*w], g.Data[k*w:(k+1)*w]
		for j := range dst {
			dst[j] = src[j] * scale
		}
	}
	return m.grad
}
