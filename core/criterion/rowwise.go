package criterion

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/nn"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Criteria of §3.6 whose loss couples the elements of a record: class
// margins, simplex targets, cosine and Dice overlaps, dot products.

func init() {
	register("MultiMarginCriterion", func(a *nn.Args) (Criterion, error) {
		p := a.Int("p", 1)
		if p != 1 && p != 2 {
			return nil, fmt.Errorf("MultiMarginCriterion: argument p must be 1 or 2, got %d", p)
		}
		return &MultiMargin{P: p, Weights: floats32(a.Floats("weights")), Margin: a.Float("margin", 1),
			SizeAverage: a.Bool("size_average", true)}, nil
	})
	register("MultiLabelMarginCriterion", func(a *nn.Args) (Criterion, error) {
		return &MultiLabelMargin{SizeAverage: a.Bool("size_average", true)}, nil
	})
	register("ClassSimplexCriterion", func(a *nn.Args) (Criterion, error) {
		n := a.Int("n_classes", 0)
		if a.Err() != nil {
			return nil, a.Err()
		}
		if n < 2 {
			return nil, fmt.Errorf("ClassSimplexCriterion: argument n_classes must be an integer > 1, got %d", n)
		}
		return newClassSimplex(n), nil
	})
	register("CosineProximityCriterion", func(a *nn.Args) (Criterion, error) { return &CosineProximity{}, nil })
	register("DiceCoefficientCriterion", func(a *nn.Args) (Criterion, error) {
		return &Dice{SizeAverage: a.Bool("size_average", true), Epsilon: a.Float("epsilon", 1)}, nil
	})
	register("DotProductCriterion", func(a *nn.Args) (Criterion, error) {
		return &DotProduct{class: "DotProductCriterion", SizeAverage: a.Bool("size_average", false)}, nil
	})
	register("PGCriterion", func(a *nn.Args) (Criterion, error) {
		return &DotProduct{class: "PGCriterion", SizeAverage: a.Bool("sizeAverage", false), negLog: true}, nil
	})
}

// classOf returns the 0-based class of a 1-based label v, panicking with a
// message that names the criterion, the record and the valid range.
func classOf(class string, v float32, record, classes int) int {
	t := int(v)
	if float32(t) != v || t < 1 || t > classes {
		panic(fmt.Errorf("%s: target %v of record %d is not a class index: labels are 1-based, "+
			"expected an integer in [1, %d]", class, v, record+1, classes))
	}
	return t - 1
}

// classRows checks an output of (classes,) or (batch, classes) against one
// label per record.
func classRows(class string, x, y *tensor.Tensor) (n, classes int) {
	if x.Dims() != 1 && x.Dims() != 2 || x.Len() == 0 {
		panic(fmt.Errorf("%s: expected an output of shape (classes,) or (batch, classes), got %s",
			class, tensor.ShapeString(x.Shape)))
	}
	n, classes = rows(x)
	if y.Len() != n {
		panic(fmt.Errorf("%s: %d targets for %d records (output shape %s, target shape %s)",
			class, y.Len(), n, tensor.ShapeString(x.Shape), tensor.ShapeString(y.Shape)))
	}
	return n, classes
}

// MultiMargin is Σ_{d≠t} w_t·max(0, margin - x_t + x_d)^p / classes per
// record, for 1-based labels t; averaged over records with SizeAverage.
type MultiMargin struct {
	P           int
	Weights     []float32
	Margin      float64
	SizeAverage bool
	grad        *tensor.Tensor
}

func (m *MultiMargin) Class() string { return "MultiMarginCriterion" }
func (m *MultiMargin) Config() map[string]any {
	return map[string]any{"p": m.P, "weights": m.Weights, "margin": m.Margin, "size_average": m.SizeAverage}
}

func (m *MultiMargin) Norm(x, y *tensor.Tensor) (float64, bool) {
	n, _ := rows(x)
	return float64(n), m.SizeAverage
}

func (m *MultiMargin) CheckTargets(y *tensor.Tensor, classes int) error {
	return checkLabels(m.Class(), y, classes)
}

func (m *MultiMargin) shape(x, y *tensor.Tensor) (int, int) {
	n, c := classRows(m.Class(), x, y)
	if m.Weights != nil && len(m.Weights) != c {
		panic(fmt.Errorf("MultiMarginCriterion: %d class weights for %d classes", len(m.Weights), c))
	}
	return n, c
}

// each calls f(record, class d, target t, z, weight) for every active margin term.
func (m *MultiMargin) each(x, y *tensor.Tensor, f func(i, d, t int, z, w float64)) {
	n, c := m.shape(x, y)
	for i := 0; i < n; i++ {
		t := classOf(m.Class(), y.Data[i], i, c)
		w := 1.0
		if m.Weights != nil {
			w = float64(m.Weights[t])
		}
		row := x.Data[i*c : (i+1)*c]
		for d := range row {
			if z := m.Margin - float64(row[t]) + float64(row[d]); d != t && z > 0 {
				f(i, d, t, z, w)
			}
		}
	}
}

func (m *MultiMargin) scale(x *tensor.Tensor) float64 { return perClassScale(x, m.SizeAverage) }

func (m *MultiMargin) Forward(x, y *tensor.Tensor) float64 {
	var s float64
	m.each(x, y, func(_, _, _ int, z, w float64) {
		if m.P == 2 {
			z *= z
		}
		s += w * z
	})
	return s * m.scale(x)
}

func (m *MultiMargin) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	m.grad = tensor.Ensure(m.grad, x.Shape...)
	clear(m.grad.Data)
	_, c := rows(x)
	k := m.scale(x)
	m.each(x, y, func(i, d, t int, z, w float64) {
		g := w * k
		if m.P == 2 {
			g *= 2 * z
		}
		m.grad.Data[i*c+d] += float32(g)
		m.grad.Data[i*c+t] -= float32(g)
	})
	return m.grad
}

// MultiLabelMargin is Σ_{j∈T} Σ_{i∉T} max(0, 1 - (x_j - x_i)) / classes per
// record, where T holds the record's 1-based target classes, read from the
// start of its target row up to the first 0; averaged over records with
// SizeAverage.
type MultiLabelMargin struct {
	SizeAverage bool
	isTarget    []bool
	grad        *tensor.Tensor
}

func (m *MultiLabelMargin) Class() string { return "MultiLabelMarginCriterion" }
func (m *MultiLabelMargin) Config() map[string]any {
	return map[string]any{"size_average": m.SizeAverage}
}

func (m *MultiLabelMargin) Norm(x, y *tensor.Tensor) (float64, bool) {
	n, _ := rows(x)
	return float64(n), m.SizeAverage
}

// each calls f(record, target class j, other class i, record's row start) per active term.
func (m *MultiLabelMargin) each(x, y *tensor.Tensor, f func(j, i, off int)) {
	if x.Dims() != 1 && x.Dims() != 2 || x.Len() == 0 {
		panic(fmt.Errorf("MultiLabelMarginCriterion: expected an output of shape (classes,) or (batch, classes), got %s",
			tensor.ShapeString(x.Shape)))
	}
	sameVolume(m.Class(), x, y)
	n, c := rows(x)
	if cap(m.isTarget) < c {
		m.isTarget = make([]bool, c)
	}
	m.isTarget = m.isTarget[:c]
	for r := 0; r < n; r++ {
		off := r * c
		clear(m.isTarget)
		end := c
		for k := 0; k < c; k++ {
			if y.Data[off+k] == 0 {
				end = k
				break
			}
			m.isTarget[classOf(m.Class(), y.Data[off+k], r, c)] = true
		}
		for k := 0; k < end; k++ {
			j := int(y.Data[off+k]) - 1
			for i := 0; i < c; i++ {
				if !m.isTarget[i] && 1-(x.Data[off+j]-x.Data[off+i]) > 0 {
					f(j, i, off)
				}
			}
		}
	}
}

func (m *MultiLabelMargin) scale(x *tensor.Tensor) float64 { return perClassScale(x, m.SizeAverage) }

func (m *MultiLabelMargin) Forward(x, y *tensor.Tensor) float64 {
	var s float64
	m.each(x, y, func(j, i, off int) { s += 1 - (float64(x.Data[off+j]) - float64(x.Data[off+i])) })
	return s * m.scale(x)
}

func (m *MultiLabelMargin) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	m.grad = tensor.Ensure(m.grad, x.Shape...)
	clear(m.grad.Data)
	k := float32(m.scale(x))
	m.each(x, y, func(j, i, off int) {
		m.grad.Data[off+j] -= k
		m.grad.Data[off+i] += k
	})
	return m.grad
}

// ClassSimplex is the mean squared error between the output and the vertex
// of a regular simplex (centred at the origin, unit distance from it) that
// stands for the record's 1-based class, as BigDL builds it.
type ClassSimplex struct {
	N       int
	simplex []float64 // N rows of N: vertex k, its last coordinate 0
	grad    *tensor.Tensor
}

func newClassSimplex(n int) *ClassSimplex {
	// Torch's regsplex: vertex k (of n) in n-1 dimensions; row k's first
	// k-1 coordinates are fixed by the rows before it, its k-th makes the
	// norm 1, and the rows after it share the value that keeps the centre
	// at the origin.
	d := n - 1
	a := make([]float64, n*d)
	for k := 0; k < d; k++ {
		if k == 0 {
			a[0] = 1
		} else {
			var s float64
			for j := 0; j < k; j++ {
				s += a[k*d+j] * a[k*d+j]
			}
			a[k*d+k] = math.Sqrt(1 - s)
		}
		v := a[k*d+k]
		c := (v*v - 1 - 1/float64(d)) / v
		for r := k + 1; r < n; r++ {
			a[r*d+k] = c
		}
	}
	s := &ClassSimplex{N: n, simplex: make([]float64, n*n)}
	for r := 0; r < n; r++ {
		copy(s.simplex[r*n:r*n+d], a[r*d:(r+1)*d])
	}
	return s
}

func (s *ClassSimplex) Class() string          { return "ClassSimplexCriterion" }
func (s *ClassSimplex) Config() map[string]any { return map[string]any{"n_classes": s.N} }
func (s *ClassSimplex) Norm(x, y *tensor.Tensor) (float64, bool) {
	return float64(x.Len()), true
}

func (s *ClassSimplex) CheckTargets(y *tensor.Tensor, _ int) error {
	return checkLabels(s.Class(), y, s.N)
}

// checkLabels is classOf's check over every label, as an error.
func checkLabels(class string, y *tensor.Tensor, classes int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = r.(error)
		}
	}()
	for i, v := range y.Data {
		classOf(class, v, i, classes)
	}
	return nil
}

// each calls f(element index, its difference from the target vertex).
func (s *ClassSimplex) each(x, y *tensor.Tensor, f func(k int, d float64)) {
	n := records(x)
	if x.Dims() > 2 || x.Len() != n*s.N || y.Len() != n {
		panic(fmt.Errorf("ClassSimplexCriterion: expected an output of shape (%d,) or (batch, %d) and one target per record, "+
			"got output %s and target %s", s.N, s.N, tensor.ShapeString(x.Shape), tensor.ShapeString(y.Shape)))
	}
	for i := 0; i < n; i++ {
		t := classOf(s.Class(), y.Data[i], i, s.N)
		for j := 0; j < s.N; j++ {
			k := i*s.N + j
			f(k, float64(x.Data[k])-s.simplex[t*s.N+j])
		}
	}
}

func (s *ClassSimplex) Forward(x, y *tensor.Tensor) float64 {
	var sum float64
	s.each(x, y, func(_ int, d float64) { sum += d * d })
	return sum / float64(max(x.Len(), 1))
}

func (s *ClassSimplex) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	s.grad = tensor.Ensure(s.grad, x.Shape...)
	k := 2 / float64(max(x.Len(), 1))
	s.each(x, y, func(i int, d float64) { s.grad.Data[i] = float32(k * d) })
	return s.grad
}

// cpEps floors a squared norm, as BigDL's CosineProximity does.
const cpEps = 1e-12

// CosineProximity is -Σ_records cos(x, y), the cosine over the last
// dimension, divided by the element count (BigDL's normaliser; Keras
// divides by the records).
type CosineProximity struct{ grad *tensor.Tensor }

func (c *CosineProximity) Class() string          { return "CosineProximityCriterion" }
func (c *CosineProximity) Config() map[string]any { return map[string]any{} }
func (c *CosineProximity) Norm(x, y *tensor.Tensor) (float64, bool) {
	return float64(x.Len()), true
}

func lastDim(x *tensor.Tensor) (n, w int) {
	if x.Dims() == 0 || x.Len() == 0 {
		return 0, 0
	}
	w = x.Shape[x.Dims()-1]
	return x.Len() / w, w
}

func (c *CosineProximity) each(x, y *tensor.Tensor, f func(xr, yr []float32, nx, ny, dot float64, off int)) {
	sameVolume(c.Class(), x, y)
	n, w := lastDim(x)
	for r := 0; r < n; r++ {
		xr, yr := x.Data[r*w:(r+1)*w], y.Data[r*w:(r+1)*w]
		var sx, sy, dot float64
		for j := range xr {
			sx += float64(xr[j]) * float64(xr[j])
			sy += float64(yr[j]) * float64(yr[j])
			dot += float64(xr[j]) * float64(yr[j])
		}
		f(xr, yr, math.Sqrt(max(sx, cpEps)), math.Sqrt(max(sy, cpEps)), dot, r*w)
	}
}

func (c *CosineProximity) Forward(x, y *tensor.Tensor) float64 {
	var s float64
	c.each(x, y, func(_, _ []float32, nx, ny, dot float64, _ int) { s -= dot / (nx * ny) })
	return s / float64(max(x.Len(), 1))
}

func (c *CosineProximity) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	c.grad = tensor.Ensure(c.grad, x.Shape...)
	k := 1 / float64(max(x.Len(), 1))
	c.each(x, y, func(xr, yr []float32, nx, ny, dot float64, off int) {
		for j := range xr {
			// d/dx_j of -(x·ŷ)/‖x‖ = -(ŷ_j/‖x‖ - (x·ŷ)·x_j/‖x‖³)
			c.grad.Data[off+j] = float32(-k * (float64(yr[j])/(ny*nx) - dot/ny*float64(xr[j])/(nx*nx*nx)))
		}
	})
	return c.grad
}

// Dice is Σ_records 1 - (2·Σ x·y + ε) / (Σ x + Σ y + ε); averaged over
// records with SizeAverage.
type Dice struct {
	SizeAverage bool
	Epsilon     float64
	grad        *tensor.Tensor
}

func (d *Dice) Class() string { return "DiceCoefficientCriterion" }
func (d *Dice) Config() map[string]any {
	return map[string]any{"size_average": d.SizeAverage, "epsilon": d.Epsilon}
}
func (d *Dice) Norm(x, y *tensor.Tensor) (float64, bool) {
	n, _ := rows(x)
	return float64(n), d.SizeAverage
}

func (d *Dice) each(x, y *tensor.Tensor, f func(num, den float64, off, w int)) float64 {
	if !tensor.SameShape(x.Shape, y.Shape) {
		panic(fmt.Errorf("DiceCoefficientCriterion: target of shape %s does not match output of shape %s",
			tensor.ShapeString(y.Shape), tensor.ShapeString(x.Shape)))
	}
	n, w := rows(x)
	for r := 0; r < n; r++ {
		var sxy, sx, sy float64
		for j := r * w; j < (r+1)*w; j++ {
			sxy += float64(x.Data[j]) * float64(y.Data[j])
			sx += float64(x.Data[j])
			sy += float64(y.Data[j])
		}
		f(2*sxy+d.Epsilon, sx+sy+d.Epsilon, r*w, w)
	}
	if d.SizeAverage && n > 0 {
		return 1 / float64(n)
	}
	return 1
}

func (d *Dice) Forward(x, y *tensor.Tensor) float64 {
	var s float64
	k := d.each(x, y, func(num, den float64, _, _ int) { s += 1 - num/den })
	return s * k
}

func (d *Dice) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	d.grad = tensor.Ensure(d.grad, x.Shape...)
	k := d.each(x, y, func(num, den float64, off, w int) {
		for j := off; j < off+w; j++ {
			d.grad.Data[j] = float32(-(2*float64(y.Data[j])*den - num) / (den * den))
		}
	})
	if k != 1 {
		for i := range d.grad.Data {
			d.grad.Data[i] *= float32(k)
		}
	}
	return d.grad
}

// DotProduct is Σ x·y (DotProductCriterion), or with negLog Σ -log(x)·y
// (PGCriterion, the policy gradient of probabilities x weighted by
// rewards y); divided by the records of a 2-D output with SizeAverage.
type DotProduct struct {
	class       string
	SizeAverage bool
	negLog      bool
	grad        *tensor.Tensor
}

func (d *DotProduct) Class() string { return d.class }
func (d *DotProduct) Config() map[string]any {
	if d.negLog {
		return map[string]any{"sizeAverage": d.SizeAverage}
	}
	return map[string]any{"size_average": d.SizeAverage}
}

func (d *DotProduct) Norm(x, y *tensor.Tensor) (float64, bool) {
	return float64(records(x)), d.SizeAverage && x.Dims() == 2
}

func (d *DotProduct) check(x, y *tensor.Tensor) float64 {
	if x.Dims() != 1 && x.Dims() != 2 || !tensor.SameShape(x.Shape, y.Shape) {
		panic(fmt.Errorf("%s: expected an output of 1 or 2 dimensions and a target of its shape, got output %s and target %s",
			d.class, tensor.ShapeString(x.Shape), tensor.ShapeString(y.Shape)))
	}
	if norm, avg := d.Norm(x, y); avg && norm > 0 {
		return 1 / norm
	}
	return 1
}

func (d *DotProduct) Forward(x, y *tensor.Tensor) float64 {
	k := d.check(x, y)
	var s float64
	for i, v := range x.Data {
		xv := float64(v)
		if d.negLog {
			xv = -math.Log(xv)
		}
		s += xv * float64(y.Data[i])
	}
	return s * k
}

func (d *DotProduct) Backward(x, y *tensor.Tensor) *tensor.Tensor {
	k := d.check(x, y)
	d.grad = tensor.Ensure(d.grad, x.Shape...)
	for i, t := range y.Data {
		g := float64(t)
		if d.negLog {
			g = -g / float64(x.Data[i])
		}
		d.grad.Data[i] = float32(k * g)
	}
	return d.grad
}

// perClassScale is the margin criteria's normaliser: BigDL divides each
// record's sum over classes by the class count, and with size_average the
// total by the record count too.
func perClassScale(x *tensor.Tensor, sizeAverage bool) float64 {
	n, c := rows(x)
	s := 1 / float64(c)
	if sizeAverage {
		s /= float64(n)
	}
	return s
}
