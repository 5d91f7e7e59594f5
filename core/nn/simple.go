package nn

import (
	"fmt"
	"math"

	"github.com/bigdl-go/bigdl-go/core/kernels"
	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// The simple layers of §3.5 with parameters: CMul, CAdd, Scale, Add, Mul
// (a weight and/or bias broadcast over the input), Bilinear, Cosine and
// Euclidean.

func init() {
	sizeOf := func(a *Args, name string) ([]int, error) {
		s := a.Ints(name)
		if a.Err() != nil {
			return nil, a.Err()
		}
		if len(s) == 0 {
			return nil, fmt.Errorf("%s: argument %s must be a non-empty list of positive sizes", a.class, name)
		}
		for _, d := range s {
			if d < 1 {
				return nil, fmt.Errorf("%s: argument %s must be a list of positive sizes, got %v", a.class, name, s)
			}
		}
		return s, nil
	}
	for _, c := range []struct{ class, arg string }{{"CMul", "size"}, {"CAdd", "size"}, {"Scale", "size"}} {
		Register(c.class, func(a *Args) (Module, error) {
			s, err := sizeOf(a, c.arg)
			if err != nil {
				return nil, err
			}
			return newBroadcast(c.class, s, c.class != "CAdd", c.class != "CMul", map[string]any{c.arg: s}), nil
		})
	}
	Register("Add", func(a *Args) (Module, error) {
		n := a.PositiveInt("input_size")
		return newBroadcast("Add", []int{n}, false, true, map[string]any{"input_size": n}), nil
	})
	Register("Mul", func(a *Args) (Module, error) {
		return newBroadcast("Mul", []int{1}, true, false, map[string]any{}), nil
	})
	Register("Bilinear", func(a *Args) (Module, error) {
		return NewBilinear(a.PositiveInt("input_size1"), a.PositiveInt("input_size2"), a.PositiveInt("output_size"),
			a.Bool("bias_res", true)), nil
	})
	Register("Cosine", func(a *Args) (Module, error) {
		return newCentres("Cosine", a.PositiveInt("input_size"), a.PositiveInt("output_size"), false), nil
	})
	Register("Euclidean", func(a *Args) (Module, error) {
		c := newCentres("Euclidean", a.PositiveInt("input_size"), a.PositiveInt("output_size"), true)
		c.fast = a.Bool("fast_backward", true)
		return c, nil
	})
}

// broadcast multiplies its input by a weight and/or adds a bias, both of
// shape Size, broadcast over the input: equal element counts pair element
// by element; otherwise Size (with leading 1s as needed) must match each
// input dimension or be 1 there, as BigDL's expandAs requires.
type broadcast struct {
	Base
	Size         []int
	Weight, Bias *Param
	params       []*Param
	inits        initMethods
	config       map[string]any
	idx          []int32 // input element -> parameter element, for lastShape
	runs         []paramRun
	lastShape    []int
	output       *tensor.Tensor
	gradIn       *tensor.Tensor
}

func newBroadcast(class string, size []int, weight, bias bool, config map[string]any) *broadcast {
	b := &broadcast{Base: newBase(class), Size: size, config: config}
	n := 1
	for _, d := range size {
		n *= d
	}
	// BigDL's default: U(-1/√n, 1/√n), n the parameter's element count (Mul: U(-1, 1)).
	stdv := 1 / math.Sqrt(float64(n))
	u := uniformInit{class: "RandomUniform", lower: -stdv, upper: stdv, fixed: true}
	if weight {
		b.Weight = newParam("weight", size...)
		b.params = append(b.params, b.Weight)
		b.inits.weight = u
	}
	if bias {
		b.Bias = newParam("bias", size...)
		b.params = append(b.params, b.Bias)
		b.inits.bias = u
	}
	b.Reset()
	return b
}

func (b *broadcast) Reset()                   { b.inits.draw(b, b.Weight, b.Bias) }
func (b *broadcast) Fans(p *Param) (int, int) { return FansOneD([]int{p.Value.Len()}) }
func (b *broadcast) Params() []*Param         { return b.params }
func (b *broadcast) Config() map[string]any   { return b.config }
func (b *broadcast) overwritesGrads()         {}
func (b *broadcast) String() string {
	return fmt.Sprintf("%s[%s](%s)", b.class, b.name, tensor.ShapeString(b.Size))
}
func (b *broadcast) SetInitMethods(w, bi InitMethod) error {
	if err := b.inits.set(b, b.Weight, b.Bias, w, bi); err != nil {
		return err
	}
	b.Reset()
	return nil
}

// paramRun is a stretch of n input elements from start that meet the
// parameters at one element k (flat: a weight of shape (c, 1, 1) over an
// image's pixels) or at k, k+1, … (a row of the parameters: a weight of the
// input's shape, or of its last dimensions, over a batch). The vector kernels
// run over each stretch.
type paramRun struct {
	start, n, k int
	flat        bool
}

// index maps each element of x to its parameter element, and cuts the map
// into runs, rebuilt only when the input's shape changes.
func (b *broadcast) index(x *tensor.Tensor) []paramRun {
	if tensor.SameShape(x.Shape, b.lastShape) && len(b.idx) == x.Len() {
		return b.runs
	}
	n := len(b.params[0].Value.Data)
	if cap(b.idx) < x.Len() {
		b.idx = make([]int32, x.Len())
	}
	b.idx = b.idx[:x.Len()]
	b.lastShape = append(b.lastShape[:0], x.Shape...)
	if x.Len() == n {
		for i := range b.idx {
			b.idx[i] = int32(i)
		}
		return b.cutRuns()
	}
	nd := x.Dims()
	if len(b.Size) > nd {
		b.lastShape = b.lastShape[:0]
		shapeError(b, "a shape that "+tensor.ShapeString(b.Size)+" broadcasts to", x.Shape)
	}
	w := make([]int, nd) // the parameter's shape, padded with leading 1s
	for i := range w {
		w[i] = 1
	}
	copy(w[nd-len(b.Size):], b.Size)
	for d := 0; d < nd; d++ {
		if w[d] != 1 && w[d] != x.Shape[d] {
			b.lastShape = b.lastShape[:0]
			shapeError(b, "a shape that "+tensor.ShapeString(b.Size)+" broadcasts to", x.Shape)
		}
	}
	for i := range b.idx {
		rem, k, stride := i, 0, 1
		for d := nd - 1; d >= 0; d-- {
			c := rem % x.Shape[d]
			rem /= x.Shape[d]
			if w[d] != 1 {
				k += c * stride
			}
			stride *= w[d]
		}
		b.idx[i] = int32(k)
	}
	return b.cutRuns()
}

// cutRuns splits b.idx into the longest flat or consecutive runs.
func (b *broadcast) cutRuns() []paramRun {
	b.runs = b.runs[:0]
	idx := b.idx
	for i := 0; i < len(idx); {
		k := idx[i]
		flat := i+1 < len(idx) && idx[i+1] == k
		j := i + 1
		for j < len(idx) && (flat && idx[j] == k || !flat && int(idx[j]) == int(k)+j-i) {
			j++
		}
		b.runs = append(b.runs, paramRun{start: i, n: j - i, k: int(k), flat: flat})
		i = j
	}
	return b.runs
}

func (b *broadcast) Forward(x *tensor.Tensor) *tensor.Tensor {
	runs := b.index(x)
	b.output = tensor.Ensure(b.output, x.Shape...)
	for _, r := range runs {
		xs, ys := x.Data[r.start:r.start+r.n], b.output.Data[r.start:r.start+r.n]
		if r.flat {
			// y = w·x + b with this run's one weight and bias.
			line := kernels.Line{Slope: 1}
			if b.Weight != nil {
				line.Slope = b.Weight.Value.Data[r.k]
			}
			if b.Bias != nil {
				line.Intercept = b.Bias.Value.Data[r.k]
			}
			b.affine(ys, xs, line)
			continue
		}
		if b.Weight != nil {
			kernels.Mul(ys, xs, b.Weight.Value.Data[r.k:r.k+r.n])
		} else {
			copy(ys, xs)
		}
		if b.Bias != nil {
			kernels.AddRowVector(ys, 1, r.n, b.Bias.Value.Data[r.k:r.k+r.n])
		}
	}
	return b.output
}

// affine sets y = line(x) on the piecewise kernel with a single piece.
func (b *broadcast) affine(y, x []float32, line kernels.Line) {
	inf := float32(math.Inf(1))
	p := kernels.Piecewise{Lo: -inf, Hi: inf, Inside: line, NaN: float32(math.NaN())}
	kernels.PiecewiseLinear(y, x, &p)
}

func (b *broadcast) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	runs := b.index(x)
	if gy.Len() != x.Len() {
		shapeError(b, "a gradient shaped like the input "+tensor.ShapeString(x.Shape), gy.Shape)
	}
	b.gradIn = tensor.Ensure(b.gradIn, x.Shape...)
	update := !b.frozen
	if update && b.gradsOverwritten {
		for _, p := range b.params {
			clear(p.Grad.Data)
		}
	}
	for _, r := range runs {
		xs, gys := x.Data[r.start:r.start+r.n], gy.Data[r.start:r.start+r.n]
		g := b.gradIn.Data[r.start : r.start+r.n]
		switch {
		case b.Weight == nil:
			copy(g, gys)
		case r.flat:
			b.affine(g, gys, kernels.Line{Slope: b.Weight.Value.Data[r.k]})
		default:
			kernels.Mul(g, gys, b.Weight.Value.Data[r.k:r.k+r.n])
		}
		if !update {
			continue
		}
		if b.Weight != nil {
			if r.flat {
				b.Weight.Grad.Data[r.k] += kernels.Dot(gys, xs)
			} else {
				kernels.MulAdd(b.Weight.Grad.Data[r.k:r.k+r.n], gys, xs)
			}
		}
		if b.Bias != nil {
			if r.flat {
				b.Bias.Grad.Data[r.k] += kernels.Sum(gys)
			} else {
				kernels.SumRows(b.Bias.Grad.Data[r.k:r.k+r.n], gys, 1, r.n)
			}
		}
	}
	return b.gradIn
}

// Bilinear is y_k = x1ᵀ·W_k·x2 + b_k for an input table [x1 (batch, in1),
// x2 (batch, in2)]; W is (out, in1, in2).
type Bilinear struct {
	Base
	In1, In2, Out int
	Weight, Bias  *Param
	params        []*Param
	inits         initMethods
	output        *tensor.Tensor
	gradIn        *tensor.Tensor
}

// NewBilinear draws W and b from BigDL's U(-1/√in1, 1/√in1).
func NewBilinear(in1, in2, out int, bias bool) *Bilinear {
	l := &Bilinear{Base: newBase("Bilinear"), In1: in1, In2: in2, Out: out, Weight: newParam("weight", out, in1, in2)}
	l.params = []*Param{l.Weight}
	stdv := 1 / math.Sqrt(float64(in1))
	u := uniformInit{class: "RandomUniform", lower: -stdv, upper: stdv, fixed: true}
	l.inits = initMethods{u, u}
	if bias {
		l.Bias = newParam("bias", out)
		l.params = append(l.params, l.Bias)
	}
	l.Reset()
	return l
}

func (l *Bilinear) Reset()           { l.inits.draw(l, l.Weight, l.Bias) }
func (l *Bilinear) Params() []*Param { return l.params }
func (l *Bilinear) takesTables()     {}
func (l *Bilinear) overwritesGrads() {}
func (l *Bilinear) Fans(p *Param) (int, int) {
	if p == l.Weight {
		return FansDefault(p.Value.Shape)
	}
	return FansOneD(p.Value.Shape)
}
func (l *Bilinear) SetInitMethods(w, b InitMethod) error {
	if err := l.inits.set(l, l.Weight, l.Bias, w, b); err != nil {
		return err
	}
	l.Reset()
	return nil
}
func (l *Bilinear) Config() map[string]any {
	return map[string]any{"input_size1": l.In1, "input_size2": l.In2, "output_size": l.Out, "bias_res": l.Bias != nil}
}
func (l *Bilinear) String() string {
	return fmt.Sprintf("Bilinear[%s](%d, %d -> %d)", l.name, l.In1, l.In2, l.Out)
}

func (l *Bilinear) inputs(x *tensor.Tensor) (a, b *tensor.Tensor, n int) {
	bad := func() {
		panic(fmt.Errorf("%s: expected a table [(batch, %d), (batch, %d)], got %s", l.String(), l.In1, l.In2, x.Describe()))
	}
	if !x.IsTable() || len(x.Table) != 2 || x.Table[0].IsTable() || x.Table[1].IsTable() {
		bad()
	}
	a, b = x.Table[0], x.Table[1]
	if a.Dims() != 2 || b.Dims() != 2 || a.Shape[1] != l.In1 || b.Shape[1] != l.In2 || a.Shape[0] != b.Shape[0] {
		bad()
	}
	return a, b, a.Shape[0]
}

func (l *Bilinear) Forward(x *tensor.Tensor) *tensor.Tensor {
	a, b, n := l.inputs(x)
	l.output = tensor.Ensure(l.output, n, l.Out)
	w := l.Weight.Value.Data
	for r := 0; r < n; r++ {
		xa, xb := a.Data[r*l.In1:(r+1)*l.In1], b.Data[r*l.In2:(r+1)*l.In2]
		for k := 0; k < l.Out; k++ {
			var s float32
			for i, av := range xa {
				row := w[(k*l.In1+i)*l.In2 : (k*l.In1+i+1)*l.In2]
				var t float32
				for j, bv := range xb {
					t += row[j] * bv
				}
				s += av * t
			}
			if l.Bias != nil {
				s += l.Bias.Value.Data[k]
			}
			l.output.Data[r*l.Out+k] = s
		}
	}
	return l.output
}

func (l *Bilinear) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	a, b, n := l.inputs(x)
	if gy.IsTable() || gy.Len() != n*l.Out {
		shapeError(l, fmt.Sprintf("a gradient of shape (%d, %d)", n, l.Out), gy.Shape)
	}
	l.gradIn = pairGradsOf(l.gradIn, a, b)
	ga, gb := l.gradIn.Table[0].Data, l.gradIn.Table[1].Data
	clear(ga)
	clear(gb)
	update := !l.frozen
	if update && l.gradsOverwritten {
		for _, p := range l.params {
			clear(p.Grad.Data)
		}
	}
	w := l.Weight.Value.Data
	for r := 0; r < n; r++ {
		xa, xb := a.Data[r*l.In1:(r+1)*l.In1], b.Data[r*l.In2:(r+1)*l.In2]
		gar, gbr := ga[r*l.In1:(r+1)*l.In1], gb[r*l.In2:(r+1)*l.In2]
		for k := 0; k < l.Out; k++ {
			g := gy.Data[r*l.Out+k]
			for i, av := range xa {
				off := (k*l.In1 + i) * l.In2
				row := w[off : off+l.In2]
				var t float32
				for j, bv := range xb {
					t += row[j] * bv
					gbr[j] += g * av * row[j]
				}
				gar[i] += g * t
				if update {
					gw := l.Weight.Grad.Data[off : off+l.In2]
					for j, bv := range xb {
						gw[j] += g * av * bv
					}
				}
			}
			if update && l.Bias != nil {
				l.Bias.Grad.Data[k] += g
			}
		}
	}
	return l.gradIn
}

// pairGradsOf returns a table of two tensors shaped like a and b, reusing g.
func pairGradsOf(g, a, b *tensor.Tensor) *tensor.Tensor {
	g = tensor.EnsureTable(g, 2)
	g.Table[0] = tensor.Ensure(g.Table[0], a.Shape...)
	g.Table[1] = tensor.Ensure(g.Table[1], b.Shape...)
	return g
}

// centres compares each input row with Out learned centres: Cosine gives
// their cosine similarities (weight (out, in)), Euclidean their distances
// (weight (in, out), as BigDL keeps it).
type centres struct {
	Base
	In, Out   int
	euclidean bool
	fast      bool // Euclidean's fast_backward: accepted; the gradient is exact either way
	Weight    *Param
	inits     initMethods
	xnorm     []float64
	wnorm     []float64
	output    *tensor.Tensor
	gradIn    *tensor.Tensor
}

func newCentres(class string, in, out int, euclidean bool) *centres {
	shape := []int{out, in}
	if euclidean {
		shape = []int{in, out}
	}
	c := &centres{Base: newBase(class), In: in, Out: out, euclidean: euclidean, Weight: newParam("weight", shape...)}
	// BigDL's default bound is 1/√(the weight's first dimension): out for Cosine, in for Euclidean.
	stdv := 1 / math.Sqrt(float64(shape[0]))
	c.inits = initMethods{uniformInit{class: "RandomUniform", lower: -stdv, upper: stdv, fixed: true}, nil}
	c.wnorm = make([]float64, out)
	c.Reset()
	return c
}

func (c *centres) Reset()           { c.inits.draw(c, c.Weight, nil) }
func (c *centres) Params() []*Param { return []*Param{c.Weight} }
func (c *centres) overwritesGrads() {}
func (c *centres) Fans(p *Param) (int, int) {
	if c.euclidean {
		return p.Value.Shape[0], p.Value.Shape[1] // IN_OUT
	}
	return FansOutIn(p.Value.Shape)
}
func (c *centres) SetInitMethods(w, b InitMethod) error {
	if err := c.inits.set(c, c.Weight, nil, w, b); err != nil {
		return err
	}
	c.Reset()
	return nil
}
func (c *centres) Config() map[string]any {
	m := map[string]any{"input_size": c.In, "output_size": c.Out}
	if c.euclidean {
		m["fast_backward"] = c.fast
	}
	return m
}
func (c *centres) String() string {
	return fmt.Sprintf("%s[%s](%d -> %d)", c.class, c.name, c.In, c.Out)
}

// w returns element i of centre k.
func (c *centres) w(k, i int) float32 {
	if c.euclidean {
		return c.Weight.Value.Data[i*c.Out+k]
	}
	return c.Weight.Value.Data[k*c.In+i]
}

func (c *centres) gw(k, i int) *float32 {
	if c.euclidean {
		return &c.Weight.Grad.Data[i*c.Out+k]
	}
	return &c.Weight.Grad.Data[k*c.In+i]
}

func (c *centres) rows(x *tensor.Tensor) int { return vectorRows(c, x, c.In) }

// cosEps keeps a zero row's cosine finite, as BigDL's 1e-12.
const cosEps = 1e-12

func (c *centres) Forward(x *tensor.Tensor) *tensor.Tensor {
	n := c.rows(x)
	if x.Dims() == 1 {
		c.output = tensor.Ensure(c.output, c.Out)
	} else {
		c.output = tensor.Ensure(c.output, n, c.Out)
	}
	if cap(c.xnorm) < n {
		c.xnorm = make([]float64, n)
	}
	c.xnorm = c.xnorm[:n]
	for k := 0; k < c.Out; k++ {
		var s float64
		for i := 0; i < c.In; i++ {
			s += float64(c.w(k, i)) * float64(c.w(k, i))
		}
		c.wnorm[k] = math.Sqrt(s) + cosEps
	}
	for r := 0; r < n; r++ {
		xr := x.Data[r*c.In : (r+1)*c.In]
		var s float64
		for _, v := range xr {
			s += float64(v) * float64(v)
		}
		c.xnorm[r] = math.Sqrt(s) + cosEps
		for k := 0; k < c.Out; k++ {
			var acc float64
			for i, v := range xr {
				if c.euclidean {
					d := float64(v) - float64(c.w(k, i))
					acc += d * d
				} else {
					acc += float64(v) * float64(c.w(k, i))
				}
			}
			if c.euclidean {
				acc = math.Sqrt(acc)
			} else {
				acc /= c.xnorm[r] * c.wnorm[k]
			}
			c.output.Data[r*c.Out+k] = float32(acc)
		}
	}
	return c.output
}

func (c *centres) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	n := c.rows(x)
	if gy.Len() != n*c.Out || len(c.xnorm) != n {
		shapeError(c, fmt.Sprintf("a gradient of %d values after forward", n*c.Out), gy.Shape)
	}
	c.gradIn = tensor.Ensure(c.gradIn, x.Shape...)
	clear(c.gradIn.Data)
	update := !c.frozen
	if update && c.gradsOverwritten {
		clear(c.Weight.Grad.Data)
	}
	for r := 0; r < n; r++ {
		xr, gx := x.Data[r*c.In:(r+1)*c.In], c.gradIn.Data[r*c.In:(r+1)*c.In]
		for k := 0; k < c.Out; k++ {
			g, y := float64(gy.Data[r*c.Out+k]), float64(c.output.Data[r*c.Out+k])
			for i, v := range xr {
				xv, wv := float64(v), float64(c.w(k, i))
				var dx, dw float64
				if c.euclidean {
					if y > 0 { // d‖x-w‖/dx = (x-w)/‖x-w‖; 0 at a coincident centre
						dx = g * (xv - wv) / y
					}
					dw = -dx
				} else {
					nx, nw := c.xnorm[r], c.wnorm[k]
					dx = g * (wv/(nx*nw) - y*xv/(nx*nx))
					dw = g * (xv/(nx*nw) - y*wv/(nw*nw))
				}
				gx[i] += float32(dx)
				if update {
					*c.gw(k, i) += float32(dw)
				}
			}
		}
	}
	return c.gradIn
}
