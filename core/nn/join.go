package nn

import (
	"fmt"

	"github.com/bigdl-go/bigdl-go/core/tensor"
)

// Every layer here sees its tensor as outer × n × inner around one
// dimension (tensors are contiguous and row-major), so joining, splitting,
// narrowing, selecting and padding are block copies along that dimension.

// around splits shape at dimension d (0-based): the product of the sizes
// before it, its size, and the product after it.
func around(shape []int, d int) (outer, n, inner int) {
	if d == len(shape) { // just past the last dimension: a trailing 1
		return tensor.Volume(shape), 1, 1
	}
	return tensor.Volume(shape[:d]), shape[d], tensor.Volume(shape[d+1:])
}

// moveBlock copies n × inner values at offset sOff of the middle dimension
// of src (outer × sTotal × inner) to offset dOff of dst (outer × dTotal ×
// inner); with add it adds instead.
func moveBlock(dst []float32, dTotal, dOff int, src []float32, sTotal, sOff int, outer, n, inner int, add bool) {
	w := n * inner
	for o := 0; o < outer; o++ {
		d := dst[(o*dTotal+dOff)*inner : (o*dTotal+dOff)*inner+w]
		s := src[(o*sTotal+sOff)*inner : (o*sTotal+sOff)*inner+w]
		if add {
			for i, v := range s {
				d[i] += v
			}
		} else {
			copy(d, s)
		}
	}
}

// putBlock copies src, outer × n × inner, into dst, outer × total × inner,
// at offset off of the middle dimension; with add it adds instead.
func putBlock(dst, src []float32, outer, total, off, n, inner int, add bool) {
	moveBlock(dst, total, off, src, n, 0, outer, n, inner, add)
}

// getBlock copies into dst, outer × n × inner, the block of src, outer ×
// total × inner, at offset off of the middle dimension; with add it adds.
func getBlock(dst, src []float32, outer, total, off, n, inner int, add bool) {
	moveBlock(dst, n, 0, src, total, off, outer, n, inner, add)
}

// resolveDim turns a layer's 1-based dimension into a 0-based one for x of
// rank dims: negative counts from the end, and batched adds one (the input
// has a leading batch dimension the layer's dimension does not count). It
// panics naming the layer and the shape when the result is out of range.
func resolveDim(m Module, dim int, batched bool, x *tensor.Tensor, extra int) int {
	d := dim - 1
	switch {
	case dim < 0:
		d = x.Dims() + dim + extra
	case batched:
		d++
	}
	if d < 0 || d >= x.Dims()+extra {
		panic(fmt.Errorf("%s: dimension %d is out of range for an input of shape %s", m.String(), dim, tensor.ShapeString(x.Shape)))
	}
	return d
}

// joinShape checks that parts have one rank and equal sizes except along d
// and returns the joined shape in buf.
func joinShape(m Module, buf []int, parts []*tensor.Tensor, d int, all *tensor.Tensor) []int {
	first := parts[0]
	buf = append(buf[:0], first.Shape...)
	buf[d] = 0
	for _, p := range parts {
		ok := !p.IsTable() && p.Dims() == first.Dims()
		for j := 0; ok && j < first.Dims(); j++ {
			ok = j == d || p.Shape[j] == first.Shape[j]
		}
		if !ok {
			panic(fmt.Errorf("%s: cannot join %s along dimension %d: every size but that one must match", m.String(), all.Describe(), d+1))
		}
		buf[d] += p.Shape[d]
	}
	return buf
}

// join writes parts joined along d into out (shape joinShape).
func join(out *tensor.Tensor, parts []*tensor.Tensor, d int) {
	outer, total, inner := around(out.Shape, d)
	off := 0
	for _, p := range parts {
		n := p.Shape[d]
		putBlock(out.Data, p.Data, outer, total, off, n, inner, false)
		off += n
	}
}

// unjoin splits g along d into grads shaped like parts (reusing grads).
func unjoin(grads *tensor.Tensor, g *tensor.Tensor, parts []*tensor.Tensor, d int) *tensor.Tensor {
	outer, total, inner := around(g.Shape, d)
	grads = tensor.EnsureTable(grads, len(parts))
	off := 0
	for i, p := range parts {
		grads.Table[i] = tensor.Ensure(grads.Table[i], p.Shape...)
		n := p.Shape[d]
		getBlock(grads.Table[i].Data, g.Data, outer, total, off, n, inner, false)
		off += n
	}
	return grads
}

// JoinTable concatenates a table of tensors along Dimension (1-based,
// negative from the end); with NInputDims > 0, an input of NInputDims+1
// dimensions has a leading batch dimension that Dimension does not count.
type JoinTable struct {
	Base
	Dimension, NInputDims int
	shape                 []int
	output, gradIn        *tensor.Tensor
}

// Concat gives its input to every child and concatenates their outputs
// along Dimension (1-based, counting the batch dimension).
type Concat struct {
	container
	Dimension      int
	outs           *tensor.Tensor // the children's outputs, as a table
	shape          []int
	output, gradIn *tensor.Tensor
	gradParts      *tensor.Tensor
}

func init() {
	Register("JoinTable", func(a *Args) (Module, error) {
		d := a.Int("dimension", 0)
		if d == 0 {
			return nil, fmt.Errorf("JoinTable: argument dimension must be a non-zero integer (1-based)")
		}
		return &JoinTable{Base: newBase("JoinTable"), Dimension: d, NInputDims: a.Int("n_input_dims", 0)}, nil
	})
	Register("Concat", func(a *Args) (Module, error) {
		d := a.Int("dimension", 0)
		if d == 0 {
			return nil, fmt.Errorf("Concat: argument dimension must be a non-zero integer (1-based)")
		}
		return &Concat{container: container{Base: newBase("Concat")}, Dimension: d}, nil
	})
}

func (j *JoinTable) Params() []*Param { return nil }
func (j *JoinTable) Reset()           {}
func (j *JoinTable) takesTables()     {}
func (j *JoinTable) Config() map[string]any {
	return map[string]any{"dimension": j.Dimension, "n_input_dims": j.NInputDims}
}
func (j *JoinTable) String() string {
	return fmt.Sprintf("JoinTable[%s](%d, %d)", j.name, j.Dimension, j.NInputDims)
}

func (j *JoinTable) dim(x *tensor.Tensor) int {
	needTensors(j, x, -1)
	first := x.Table[0]
	return resolveDim(j, j.Dimension, j.NInputDims > 0 && first.Dims() == j.NInputDims+1, first, 0)
}

func (j *JoinTable) Forward(x *tensor.Tensor) *tensor.Tensor {
	d := j.dim(x)
	j.shape = joinShape(j, j.shape, x.Table, d, x)
	j.output = tensor.Ensure(j.output, j.shape...)
	join(j.output, x.Table, d)
	return j.output
}

func (j *JoinTable) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	d := j.dim(x)
	j.shape = joinShape(j, j.shape, x.Table, d, x)
	if gy.IsTable() || !tensor.SameShape(gy.Shape, j.shape) {
		shapeError(j, "a gradient of shape "+tensor.ShapeString(j.shape), gy.Shape)
	}
	j.gradIn = unjoin(j.gradIn, gy, x.Table, d)
	return j.gradIn
}

func (c *Concat) Add(m Module) error { return addChild(c, &c.children, m) }
func (c *Concat) Config() map[string]any {
	return map[string]any{"dimension": c.Dimension}
}

func (c *Concat) Forward(x *tensor.Tensor) *tensor.Tensor {
	c.needChildren(c)
	c.outs = tensor.EnsureTable(c.outs, len(c.children))
	for i, ch := range c.children {
		c.outs.Table[i] = Forward(ch, x)
		needTensor(c, fmt.Sprintf("the output of child %d", i+1), c.outs.Table[i])
	}
	d := resolveDim(c, c.Dimension, false, c.outs.Table[0], 0)
	c.shape = joinShape(c, c.shape, c.outs.Table, d, c.outs)
	c.output = tensor.Ensure(c.output, c.shape...)
	join(c.output, c.outs.Table, d)
	return c.output
}

func (c *Concat) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	if c.outs == nil || len(c.outs.Table) != len(c.children) {
		panic(fmt.Errorf("%s: backward called before forward", c.String()))
	}
	d := resolveDim(c, c.Dimension, false, c.outs.Table[0], 0)
	if gy.IsTable() || !tensor.SameShape(gy.Shape, c.shape) {
		shapeError(c, "a gradient of shape "+tensor.ShapeString(c.shape), gy.Shape)
	}
	c.gradParts = unjoin(c.gradParts, gy, c.outs.Table, d)
	return c.branchBackward(c, x, c.gradParts, &c.gradIn)
}

// SplitTable splits a tensor along Dimension (1-based, negative from the
// end; one more when the input has NInputDims+1 dimensions) into the table
// of its slices.
type SplitTable struct {
	Base
	Dimension, NInputDims int
	shape                 []int
	output, gradIn        *tensor.Tensor
}

// Pack stacks a table of same-shaped tensors along a new dimension
// Dimension (1-based, negative from the end).
type Pack struct {
	Base
	Dimension      int
	shape          []int
	output, gradIn *tensor.Tensor
}

func init() {
	Register("SplitTable", func(a *Args) (Module, error) {
		d := a.Int("dimension", 0)
		if d == 0 {
			return nil, fmt.Errorf("SplitTable: argument dimension must be a non-zero integer (1-based)")
		}
		return &SplitTable{Base: newBase("SplitTable"), Dimension: d, NInputDims: a.Int("n_input_dims", -1)}, nil
	})
	Register("Pack", func(a *Args) (Module, error) {
		d := a.Int("dimension", 0)
		if d == 0 {
			return nil, fmt.Errorf("Pack: argument dimension must be a non-zero integer (1-based)")
		}
		return &Pack{Base: newBase("Pack"), Dimension: d}, nil
	})
}

func (s *SplitTable) Params() []*Param { return nil }
func (s *SplitTable) Reset()           {}
func (s *SplitTable) takesTables()     {}
func (s *SplitTable) Config() map[string]any {
	return map[string]any{"dimension": s.Dimension, "n_input_dims": s.NInputDims}
}
func (s *SplitTable) String() string {
	return fmt.Sprintf("SplitTable[%s](%d, %d)", s.name, s.Dimension, s.NInputDims)
}

func (s *SplitTable) dim(x *tensor.Tensor) int {
	needTensor(s, "the input", x)
	return resolveDim(s, s.Dimension, x.Dims() == s.NInputDims+1, x, 0)
}

func (s *SplitTable) Forward(x *tensor.Tensor) *tensor.Tensor {
	d := s.dim(x)
	outer, n, inner := around(x.Shape, d)
	s.shape = append(append(s.shape[:0], x.Shape[:d]...), x.Shape[d+1:]...)
	s.output = tensor.EnsureTable(s.output, n)
	for k := 0; k < n; k++ {
		e := tensor.Ensure(s.output.Table[k], s.shape...)
		getBlock(e.Data, x.Data, outer, n, k, 1, inner, false)
		s.output.Table[k] = e
	}
	return s.output
}

func (s *SplitTable) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	d := s.dim(x)
	outer, n, inner := around(x.Shape, d)
	needTable(s, "the output gradient", gy, n)
	s.gradIn = tensor.Ensure(s.gradIn, x.Shape...)
	for k, g := range gy.Table {
		if g.IsTable() || g.Len() != outer*inner {
			panic(fmt.Errorf("%s: output gradient %s does not match the slices of an input of shape %s",
				s.String(), gy.Describe(), tensor.ShapeString(x.Shape)))
		}
		putBlock(s.gradIn.Data, g.Data, outer, n, k, 1, inner, false)
	}
	return s.gradIn
}

func (p *Pack) Params() []*Param       { return nil }
func (p *Pack) Reset()                 {}
func (p *Pack) takesTables()           {}
func (p *Pack) Config() map[string]any { return map[string]any{"dimension": p.Dimension} }
func (p *Pack) String() string         { return fmt.Sprintf("Pack[%s](%d)", p.name, p.Dimension) }

// dim checks the table's tensors share a shape and returns the new
// dimension (0-based) with the sizes around it.
func (p *Pack) dim(x *tensor.Tensor) (d, outer, inner int) {
	needTensors(p, x, -1)
	first := x.Table[0]
	for _, e := range x.Table {
		if !tensor.SameShape(e.Shape, first.Shape) {
			panic(fmt.Errorf("%s: cannot stack %s: every tensor must have the same shape", p.String(), x.Describe()))
		}
	}
	d = resolveDim(p, p.Dimension, false, first, 1)
	return d, tensor.Volume(first.Shape[:d]), tensor.Volume(first.Shape[d:])
}

func (p *Pack) Forward(x *tensor.Tensor) *tensor.Tensor {
	d, outer, inner := p.dim(x)
	n := len(x.Table)
	first := x.Table[0].Shape
	p.shape = append(append(append(p.shape[:0], first[:d]...), n), first[d:]...)
	p.output = tensor.Ensure(p.output, p.shape...)
	for k, e := range x.Table {
		putBlock(p.output.Data, e.Data, outer, n, k, 1, inner, false)
	}
	return p.output
}

func (p *Pack) Backward(x, gy *tensor.Tensor) *tensor.Tensor {
	d, outer, inner := p.dim(x)
	n := len(x.Table)
	first := x.Table[0].Shape
	p.shape = append(append(append(p.shape[:0], first[:d]...), n), first[d:]...)
	if gy.IsTable() || !tensor.SameShape(gy.Shape, p.shape) {
		shapeError(p, "a gradient of shape "+tensor.ShapeString(p.shape), gy.Shape)
	}
	p.gradIn = tensor.EnsureTable(p.gradIn, n)
	for k, e := range x.Table {
		p.gradIn.Table[k] = tensor.Ensure(p.gradIn.Table[k], e.Shape...)
		getBlock(p.gradIn.Table[k].Data, gy.Data, outer, n, k, 1, inner, false)
	}
	return p.gradIn
}
